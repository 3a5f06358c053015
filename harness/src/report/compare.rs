//! `conform compare A.json B.json …`: the verdicts of several runs (one per
//! target, `conform run --json`) side by side, scenario by scenario, with
//! the scenarios whose verdicts differ first — the table people make by
//! hand when they choose between servers.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Counts, Outcome, RunReport};

/// One compared run.
pub struct Column {
    /// A short name: the report's file stem (`nginx` for `nginx.json`).
    pub name: String,
    pub file: String,
    /// The run's target and banners (`Context::line`).
    pub context: String,
    pub counts: Counts,
}

pub struct Row {
    pub id: String,
    pub protocol: String,
    pub name: String,
    pub level: String,
    /// `MUST · RFC 5321 §4.1.1.4`.
    pub requirement: String,
    pub tags: Vec<String>,
    /// Per target, its verdict; `None` when that run did not have the
    /// scenario (another protocol selection, tags, or conform version).
    pub cells: Vec<Option<Outcome>>,
    /// Per target, the one-line reason when the verdict is not a pass.
    pub why: Vec<Option<String>>,
    /// The verdicts are not all the same (a missing cell counts as a
    /// difference only when some target ran the scenario and another did not).
    pub differs: bool,
}

pub struct Matrix {
    pub targets: Vec<Column>,
    /// Differences first, then the rest; each group in the first report's
    /// order (then the order of the report that first has the scenario).
    pub rows: Vec<Row>,
}

/// Short names from file stems, made unique by adding the position.
fn names(files: &[String]) -> Vec<String> {
    let stems: Vec<String> = files
        .iter()
        .map(|f| {
            std::path::Path::new(f)
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_else(|| f.clone())
        })
        .collect();
    stems
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if stems.iter().filter(|t| *t == s).count() > 1 {
                format!("{s}#{}", i + 1)
            } else {
                s.clone()
            }
        })
        .collect()
}

pub fn build(reports: &[(String, RunReport)]) -> Result<Matrix, String> {
    if reports.len() < 2 {
        return Err("conform compare needs at least two JSON reports".into());
    }
    let files: Vec<String> = reports.iter().map(|(f, _)| f.clone()).collect();
    let short = names(&files);
    let targets = reports
        .iter()
        .zip(short)
        .map(|((file, r), name)| Column {
            name,
            file: file.clone(),
            context: format!("target {} · {}", r.target, r.context.line()),
            counts: r.counts(),
        })
        .collect();
    let n = reports.len();
    let mut order: Vec<String> = Vec::new();
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for (i, (_, r)) in reports.iter().enumerate() {
        for s in &r.scenarios {
            let row = rows.entry(s.id.clone()).or_insert_with(|| {
                order.push(s.id.clone());
                Row {
                    id: s.id.clone(),
                    protocol: s.protocol.clone(),
                    name: s.name.clone(),
                    level: if s.level.is_empty() {
                        "MUST".into()
                    } else {
                        s.level.clone()
                    },
                    requirement: super::console::requirement(s),
                    tags: s.tags.clone(),
                    cells: vec![None; n],
                    why: vec![None; n],
                    differs: false,
                }
            });
            row.cells[i] = Some(s.outcome);
            if s.outcome != Outcome::Passed {
                row.why[i] = s
                    .deviation
                    .clone()
                    .map(|d| format!("declared: {d}"))
                    .or_else(|| {
                        s.failure
                            .as_ref()
                            .map(|f| f.message.lines().next().unwrap_or_default().to_string())
                    });
            }
        }
    }
    let mut all: Vec<Row> = order.iter().filter_map(|id| rows.remove(id)).collect();
    for r in &mut all {
        let first = r.cells[0];
        r.differs = r.cells.iter().any(|c| *c != first);
    }
    let (mut differ, same): (Vec<Row>, Vec<Row>) = all.into_iter().partition(|r| r.differs);
    differ.extend(same);
    Ok(Matrix {
        targets,
        rows: differ,
    })
}

/// The terminal table: a legend, the scenarios that differ (all of them
/// with `all`), and each target's totals.
pub fn render_text(m: &Matrix, all: bool) -> String {
    let mut out = String::new();
    let letters: Vec<String> = (0..m.targets.len())
        .map(|i| {
            let c = (b'A' + (i % 26) as u8) as char;
            if i < 26 {
                c.to_string()
            } else {
                format!("{c}{}", i / 26)
            }
        })
        .collect();
    for (l, t) in letters.iter().zip(&m.targets) {
        let _ = writeln!(out, "{l} = {} ({}): {}", t.name, t.file, t.context);
    }
    let differ = m.rows.iter().filter(|r| r.differs).count();
    let _ = writeln!(
        out,
        "\n{differ} of {} scenarios have different verdicts{}",
        m.rows.len(),
        if differ > 0 { ":" } else { "." }
    );
    let head: String = letters.iter().map(|l| format!("{l:<6}")).collect();
    let shown: Vec<&Row> = m.rows.iter().filter(|r| all || r.differs).collect();
    if !shown.is_empty() {
        let _ = writeln!(out, "  {head}{:<7}scenario", "level");
    }
    let mut last_same = false;
    for r in shown {
        if all && !r.differs && !last_same {
            let _ = writeln!(out, "  -- the same everywhere --");
            last_same = true;
        }
        let cells: String = r
            .cells
            .iter()
            .map(|c| format!("{:<6}", c.map_or("-", |o| o.label())))
            .collect();
        let _ = writeln!(out, "  {cells}{:<7}{}  {}", r.level, r.id, r.name);
    }
    if !all && differ < m.rows.len() {
        let _ = writeln!(
            out,
            "{} scenarios have the same verdict everywhere (--all lists them)",
            m.rows.len() - differ
        );
    }
    let _ = writeln!(out);
    for (l, t) in letters.iter().zip(&m.targets) {
        let _ = writeln!(out, "{l} {}: {}", t.name, t.counts);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ScenarioResult;
    use crate::suite::ScenarioMeta;

    fn report(target: &str, verdicts: &[(&str, Outcome)]) -> RunReport {
        RunReport {
            context: Default::default(),
            target: target.into(),
            protocols: vec!["http".into()],
            strict: false,
            ratchet: false,
            seconds: 1.0,
            scenarios: verdicts
                .iter()
                .map(|(id, o)| {
                    let meta = ScenarioMeta {
                        id: format!("http/x/{id}"),
                        protocol: "http".into(),
                        file: "http/x.feature".into(),
                        line: 1,
                        name: id.to_string(),
                        title: id.to_string(),
                        tags: vec![],
                        rfc: vec!["9110".into()],
                        sections: vec![],
                        level: "MUST".into(),
                        points: None,
                    };
                    ScenarioResult::of(meta, "f", *o)
                })
                .collect(),
        }
    }

    #[test]
    fn differences_come_first_and_missing_scenarios_show() {
        let a = report(
            "a.toml",
            &[
                ("one", Outcome::Passed),
                ("two", Outcome::Passed),
                ("three", Outcome::Failed),
            ],
        );
        let b = report(
            "b.toml",
            &[
                ("one", Outcome::Passed),
                ("two", Outcome::Failed),
                ("four", Outcome::Passed),
            ],
        );
        let m = build(&[
            ("runs/nginx.json".into(), a),
            ("runs/lighttpd.json".into(), b),
        ])
        .unwrap();
        let ids: Vec<&str> = m.rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            ["http/x/two", "http/x/three", "http/x/four", "http/x/one"]
        );
        assert_eq!(m.rows[1].cells, vec![Some(Outcome::Failed), None]);
        let text = render_text(&m, false);
        assert!(text.contains("A = nginx (runs/nginx.json)"), "{text}");
        assert!(
            text.contains("3 of 4 scenarios have different verdicts:"),
            "{text}"
        );
        assert!(text.contains("PASS  FAIL  MUST   http/x/two"), "{text}");
        assert!(text.contains("FAIL  -     MUST   http/x/three"), "{text}");
        assert!(!text.contains("http/x/one"), "{text}");
        assert!(render_text(&m, true).contains("http/x/one"));
        let html = crate::report::html::render_compare(&m);
        assert!(html.contains("data-differs=\"1\""));
        assert_eq!(html.matches("data-differs=").count(), 4);
    }

    #[test]
    fn one_report_is_not_a_comparison() {
        assert!(build(&[("a.json".into(), report("a", &[]))]).is_err());
    }
}
