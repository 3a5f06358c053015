//! Requirement coverage (`conform coverage`): every BCP 14 requirement of
//! each RFC the suites cite, per section, with the scenarios bound to that
//! section and, from a run's JSON report, their verdicts.
//!
//! The index is data, built into the binary: `harness/requirements/index.tsv`
//! (derived from the RFC texts by `tools/requirements-index.py`: RFC,
//! section, ordinal, keyword, line and column of the keyword, a one-line
//! summary in our words merged from `summaries.tsv`, the protocol terms its
//! sentence names), `sections.tsv` (section titles) and `hand.tsv` (RFCs
//! whose text is not at hand, indexed by hand in our words). No RFC
//! text is stored; `--rfc-dir` reads the sentences from the user's copies.
//!
//! Coverage is by section, the granularity at which scenarios are bound
//! (`@rfc5321-sec-4.1.1.4`): a requirement is covered when a scenario is
//! bound to its section. A section holding more requirements than it has
//! scenarios is not necessarily checked in full; the table shows both counts.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use super::{Outcome, RunReport};

const INDEX: &str = include_str!("../../requirements/index.tsv");
const HAND: &str = include_str!("../../requirements/hand.tsv");
const SECTIONS: &str = include_str!("../../requirements/sections.tsv");

#[derive(Clone, Debug, Serialize)]
pub struct Requirement {
    pub rfc: String,
    pub section: String,
    /// Its place among the section's requirements (1-based).
    pub n: usize,
    /// `MUST`, `MUST NOT`, `SHOULD`, `SHOULD NOT`, `MAY` (SHALL and REQUIRED
    /// count as MUST, RECOMMENDED as SHOULD, OPTIONAL as MAY).
    pub keyword: String,
    /// Line and column of the keyword in the RFC Editor's text; none for a
    /// requirement indexed by hand.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// `bcp14` (an upper-case keyword), `pre-bcp14` (the lower-case must or
    /// should of an RFC written before BCP 14), `hand`.
    pub source: String,
    /// What it requires, in one line in our words (`summaries.tsv`, or
    /// `hand.tsv`); what the coverage table prints.
    pub summary: String,
    /// The protocol terms its sentence names (commands, reply codes, field
    /// names), derived; empty for a requirement indexed by hand.
    pub terms: String,
}

impl Requirement {
    /// MUST and MUST NOT are `MUST`; and so on.
    pub fn level(&self) -> &str {
        self.keyword.split(' ').next().unwrap_or_default()
    }
}

pub struct Index {
    pub requirements: Vec<Requirement>,
    pub titles: BTreeMap<(String, String), String>,
}

impl Index {
    /// The index built into the binary.
    pub fn bundled() -> Index {
        let mut requirements = Vec::new();
        for (text, hand) in [(INDEX, false), (HAND, true)] {
            for line in text
                .lines()
                .filter(|l| !l.starts_with('#') && !l.is_empty())
            {
                let f: Vec<&str> = line.split('\t').collect();
                if f.len() < 8 {
                    continue;
                }
                requirements.push(Requirement {
                    rfc: f[0].into(),
                    section: f[1].into(),
                    n: f[2].parse().unwrap_or(0),
                    keyword: f[3].into(),
                    line: f[4].parse().ok(),
                    column: f[5].parse().ok(),
                    source: if hand { "hand".into() } else { f[6].into() },
                    summary: f[7].into(),
                    terms: if hand {
                        String::new()
                    } else {
                        f.get(8).copied().unwrap_or_default().into()
                    },
                });
            }
        }
        let titles = SECTIONS
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let mut f = l.splitn(3, '\t');
                Some(((f.next()?.into(), f.next()?.into()), f.next()?.into()))
            })
            .collect();
        Index {
            requirements,
            titles,
        }
    }
}

/// A scenario as coverage sees it.
#[derive(Clone, Debug)]
pub struct Bound {
    pub id: String,
    pub protocol: String,
    pub level: String,
    pub rfcs: Vec<String>,
    /// `(rfc, section)`.
    pub sections: Vec<(String, String)>,
    pub outcome: Option<Outcome>,
}

impl Bound {
    pub fn from_meta(m: &crate::suite::ScenarioMeta) -> Bound {
        Bound {
            id: m.id.clone(),
            protocol: m.protocol.clone(),
            level: level_of(&m.level),
            rfcs: m.rfc.clone(),
            sections: m
                .sections
                .iter()
                .map(|s| (s.rfc.clone(), s.section.clone()))
                .collect(),
            outcome: None,
        }
    }

    /// The scenarios of a run's JSON report, with their verdicts.
    pub fn from_report(r: &RunReport) -> Vec<Bound> {
        r.scenarios
            .iter()
            .map(|s| Bound {
                id: s.id.clone(),
                protocol: s.protocol.clone(),
                level: level_of(&s.level),
                rfcs: s.rfc.clone(),
                // `RFC 5321 §4.1.1.4`.
                sections: s
                    .section
                    .iter()
                    .filter_map(|t| {
                        let (rfc, sec) = t.strip_prefix("RFC ")?.split_once(" §")?;
                        Some((rfc.to_string(), sec.to_string()))
                    })
                    .collect(),
                outcome: Some(s.outcome),
            })
            .collect()
    }
}

fn level_of(l: &str) -> String {
    if l.is_empty() {
        "MUST".into()
    } else {
        l.into()
    }
}

#[derive(Serialize)]
pub struct ScenarioRef {
    pub id: String,
    pub level: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
}

#[derive(Serialize)]
pub struct SectionCoverage {
    pub section: String,
    pub title: String,
    pub link: String,
    pub requirements: Vec<Requirement>,
    /// The scenarios bound to this section.
    pub scenarios: Vec<ScenarioRef>,
}

impl SectionCoverage {
    pub fn count(&self, level: &str) -> usize {
        self.requirements
            .iter()
            .filter(|r| r.level() == level)
            .count()
    }
}

#[derive(Serialize, Default, Clone, Copy)]
pub struct Tally {
    pub requirements: usize,
    pub covered: usize,
}

#[derive(Serialize)]
pub struct RfcCoverage {
    pub rfc: String,
    /// Indexed from the text (`derived`) or by hand (`hand`).
    pub index: String,
    pub requirements: usize,
    /// Requirements in sections a scenario is bound to.
    pub covered: usize,
    pub by_level: BTreeMap<String, Tally>,
    /// Scenarios that cite this RFC.
    pub scenarios: usize,
    pub sections: Vec<SectionCoverage>,
}

#[derive(Serialize)]
pub struct Coverage {
    /// What "covered" means, for whoever reads the JSON.
    pub granularity: &'static str,
    pub rfcs: Vec<RfcCoverage>,
}

fn sec_key(s: &str) -> Vec<(u8, u32)> {
    s.split('.')
        .map(|p| match p.parse::<u32>() {
            Ok(n) => (0, n),
            Err(_) => (1, p.bytes().next().map_or(0, u32::from)),
        })
        .collect()
}

/// The coverage of the RFCs the scenarios cite (only `rfcs`, when given).
pub fn build(index: &Index, scenarios: &[Bound], rfcs: &[String]) -> Coverage {
    let mut cited: BTreeSet<String> = scenarios.iter().flat_map(|s| s.rfcs.clone()).collect();
    if !rfcs.is_empty() {
        cited.retain(|r| rfcs.contains(r));
    }
    let mut cited: Vec<String> = cited.into_iter().collect();
    cited.sort_by_key(|r| r.parse::<u32>().unwrap_or(u32::MAX));
    let mut out = Vec::new();
    for rfc in cited {
        let mut sections: BTreeMap<String, SectionCoverage> = BTreeMap::new();
        let entry = |sections: &mut BTreeMap<String, SectionCoverage>, sec: &str| {
            if !sections.contains_key(sec) {
                sections.insert(
                    sec.to_string(),
                    SectionCoverage {
                        section: sec.to_string(),
                        title: index
                            .titles
                            .get(&(rfc.clone(), sec.to_string()))
                            .cloned()
                            .unwrap_or_default(),
                        link: crate::suite::Section {
                            rfc: rfc.clone(),
                            section: sec.to_string(),
                        }
                        .url(),
                        requirements: Vec::new(),
                        scenarios: Vec::new(),
                    },
                );
            }
        };
        let mut hand = false;
        for r in index.requirements.iter().filter(|r| r.rfc == rfc) {
            hand |= r.source == "hand";
            entry(&mut sections, &r.section);
            if let Some(s) = sections.get_mut(&r.section) {
                s.requirements.push(r.clone());
            }
        }
        let mut citing = 0;
        for s in scenarios {
            if s.rfcs.contains(&rfc) {
                citing += 1;
            }
            for (_, sec) in s.sections.iter().filter(|(r, _)| *r == rfc) {
                entry(&mut sections, sec);
                if let Some(c) = sections.get_mut(sec) {
                    if !c.scenarios.iter().any(|x| x.id == s.id) {
                        c.scenarios.push(ScenarioRef {
                            id: s.id.clone(),
                            level: s.level.clone(),
                            verdict: s.outcome.map(|o| super::html::key(o).to_string()),
                        });
                    }
                }
            }
        }
        let mut sections: Vec<SectionCoverage> = sections.into_values().collect();
        sections.sort_by_key(|s| sec_key(&s.section));
        let mut by_level: BTreeMap<String, Tally> = BTreeMap::new();
        let (mut total, mut covered) = (0, 0);
        for s in &sections {
            for r in &s.requirements {
                let t = by_level.entry(r.level().to_string()).or_default();
                t.requirements += 1;
                total += 1;
                if !s.scenarios.is_empty() {
                    t.covered += 1;
                    covered += 1;
                }
            }
        }
        out.push(RfcCoverage {
            index: if hand { "hand" } else { "derived" }.into(),
            rfc,
            requirements: total,
            covered,
            by_level,
            scenarios: citing,
            sections,
        });
    }
    Coverage {
        granularity: "section: a requirement is covered when a scenario is bound to its section",
        rfcs: out,
    }
}

fn pct(a: usize, b: usize) -> String {
    if b == 0 {
        "-".into()
    } else {
        format!("{:.0}%", 100.0 * a as f64 / b as f64)
    }
}

fn verdicts(s: &SectionCoverage) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &s.scenarios {
        if let Some(v) = &r.verdict {
            *counts.entry(v).or_default() += 1;
        }
    }
    counts
        .iter()
        .map(|(v, n)| format!("{n} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The terminal table. `requirements`: a line per requirement, with its
/// sentence when `rfc_dir` has the RFC's text.
pub fn render_text(
    c: &Coverage,
    requirements: bool,
    uncovered_only: bool,
    rfc_dir: Option<&std::path::Path>,
) -> String {
    let mut out = String::new();
    let mut texts: BTreeMap<String, Option<Vec<String>>> = BTreeMap::new();
    for r in &c.rfcs {
        let levels: Vec<String> = ["MUST", "SHOULD", "MAY"]
            .iter()
            .filter_map(|l| {
                r.by_level
                    .get(*l)
                    .map(|t| format!("{l} {}/{}", t.covered, t.requirements))
            })
            .collect();
        let _ = writeln!(
            out,
            "RFC {}: {} of {} requirements in sections with scenarios ({}){}; {} scenarios{}",
            r.rfc,
            r.covered,
            r.requirements,
            pct(r.covered, r.requirements),
            if levels.is_empty() {
                String::new()
            } else {
                format!(" — {}", levels.join(", "))
            },
            r.scenarios,
            if r.index == "hand" {
                " (text not at hand: indexed by hand, incomplete)"
            } else {
                ""
            }
        );
        for s in &r.sections {
            if s.requirements.is_empty() && s.scenarios.is_empty() {
                continue;
            }
            if uncovered_only && !s.scenarios.is_empty() {
                continue;
            }
            let counts = format!(
                "MUST {:>2}  SHOULD {:>2}  MAY {:>2}",
                s.count("MUST"),
                s.count("SHOULD"),
                s.count("MAY")
            );
            let who = if s.scenarios.is_empty() {
                "not covered".to_string()
            } else {
                let v = verdicts(s);
                format!(
                    "{} scenario(s){}",
                    s.scenarios.len(),
                    if v.is_empty() {
                        String::new()
                    } else {
                        format!(": {v}")
                    }
                )
            };
            let title: String = s.title.chars().take(34).collect();
            let _ = writeln!(out, "  §{:<10} {:<34}  {counts}  {who}", s.section, title);
            if requirements {
                for sc in &s.scenarios {
                    let _ = writeln!(
                        out,
                        "      covered by {} ({}{})",
                        sc.id,
                        sc.level,
                        sc.verdict
                            .as_deref()
                            .map(|v| format!(", {v}"))
                            .unwrap_or_default()
                    );
                }
                for q in &s.requirements {
                    let place = match q.line {
                        Some(l) => format!("line {l}"),
                        None => "by hand".into(),
                    };
                    let _ = writeln!(
                        out,
                        "      #{:<3} {:<10} {:<9} {}",
                        q.n, q.keyword, place, q.summary
                    );
                    if let (Some(dir), Some(line), Some(col)) = (rfc_dir, q.line, q.column) {
                        let lines = texts.entry(r.rfc.clone()).or_insert_with(|| {
                            std::fs::read_to_string(dir.join(format!("rfc{}.txt", r.rfc)))
                                .ok()
                                .map(|t| t.lines().map(str::to_string).collect())
                        });
                        if let Some(lines) = lines {
                            if let Some(s) = sentence(lines, line, col) {
                                let _ = writeln!(out, "           \"{s}\"");
                            }
                        }
                    }
                }
            }
        }
    }
    let (all, cov): (usize, usize) = c
        .rfcs
        .iter()
        .fold((0, 0), |(a, b), r| (a + r.requirements, b + r.covered));
    let _ = writeln!(
        out,
        "\n{} RFCs, {cov} of {all} requirements in sections with scenarios ({}). Coverage is by section: a requirement counts as covered when a scenario is bound to its section.",
        c.rfcs.len(),
        pct(cov, all)
    );
    out
}

/// The sentence of the RFC text around the keyword at `line`:`col`
/// (1-based), on one line; what `tools/requirements-index.py` indexed.
pub fn sentence(lines: &[String], line: usize, col: usize) -> Option<String> {
    let at = line.checked_sub(1)?;
    if at >= lines.len() {
        return None;
    }
    let blank = |l: &str| l.trim().is_empty();
    let page = |l: &str| {
        let t = l.trim();
        t.ends_with(']') && t.contains("[Page ") || (t.starts_with("RFC ") && t.len() > 60)
    };
    let mut start = at;
    while start > 0 && !blank(&lines[start - 1]) {
        start -= 1;
    }
    let mut end = at + 1;
    while end < lines.len() && !blank(&lines[end]) {
        end += 1;
    }
    let mut text = String::new();
    let mut pos = 0;
    for (i, l) in lines[start..end].iter().enumerate() {
        let l = l.replace('\u{c}', "");
        if page(&l) {
            continue;
        }
        if !text.is_empty() {
            text.push(' ');
        }
        if start + i == at {
            let indent = l.len() - l.trim_start().len();
            pos = text.len() + col.saturating_sub(1).saturating_sub(indent);
        }
        text.push_str(l.trim());
    }
    let pos = pos.min(text.len());
    let bytes = text.as_bytes();
    // A sentence ends at ".", ";" or ":" followed by spaces and a capital,
    // a parenthesis or a quote.
    let next_start = |i: usize| -> Option<usize> {
        if !matches!(bytes[i], b'.' | b';' | b':') || bytes.get(i + 1) != Some(&b' ') {
            return None;
        }
        let mut j = i + 1;
        while bytes.get(j) == Some(&b' ') {
            j += 1;
        }
        bytes
            .get(j)
            .is_some_and(|c| c.is_ascii_uppercase() || matches!(c, b'(' | b'"' | b'\''))
            .then_some(j)
    };
    let mut s = 0;
    for i in 0..pos.min(bytes.len()) {
        if let Some(j) = next_start(i) {
            if j <= pos {
                s = j;
            }
        }
    }
    let mut e = bytes.len();
    for i in pos..bytes.len() {
        if next_start(i).is_some() {
            e = i + 1;
            break;
        }
    }
    text.get(s..e).map(str::to_string)
}

/// The coverage as an HTML fragment (a page of the run's HTML report, or
/// the body of `conform coverage --html`).
pub fn render_html(c: &Coverage) -> String {
    use super::html::esc;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<h2>Requirement coverage</h2><p class=\"hint\">Every BCP 14 requirement (MUST, SHOULD, MAY and their negations) of each RFC the scenarios cite, per section, each in one line in our words under its section. Coverage is by section: a requirement counts as covered when a scenario is bound to its section.</p>"
    );
    let _ = writeln!(
        out,
        "<table><tr><th>RFC</th><th>requirements</th><th>covered</th><th>MUST</th><th>SHOULD</th><th>MAY</th><th>scenarios</th></tr>"
    );
    for r in &c.rfcs {
        let lv = |l: &str| {
            r.by_level
                .get(l)
                .map(|t| format!("{}/{}", t.covered, t.requirements))
                .unwrap_or_else(|| "-".into())
        };
        let _ = writeln!(
            out,
            "<tr><td><a href=\"#cov-{0}\">RFC {0}</a>{1}</td><td>{2}</td><td>{3} ({4})</td><td>{5}</td><td>{6}</td><td>{7}</td><td>{8}</td></tr>",
            esc(&r.rfc),
            if r.index == "hand" { " (by hand)" } else { "" },
            r.requirements,
            r.covered,
            pct(r.covered, r.requirements),
            lv("MUST"),
            lv("SHOULD"),
            lv("MAY"),
            r.scenarios
        );
    }
    let _ = writeln!(out, "</table>");
    for r in &c.rfcs {
        let _ = writeln!(
            out,
            "<details class=\"cov\" id=\"cov-{0}\"><summary>RFC {0}: {1} of {2} requirements in sections with scenarios</summary>",
            esc(&r.rfc),
            r.covered,
            r.requirements
        );
        let _ = writeln!(
            out,
            "<table><tr><th>section</th><th>MUST</th><th>SHOULD</th><th>MAY</th><th>scenarios</th></tr>"
        );
        for s in &r.sections {
            if s.requirements.is_empty() && s.scenarios.is_empty() {
                continue;
            }
            let who = if s.scenarios.is_empty() {
                "<span class=\"hint\">not covered</span>".to_string()
            } else {
                s.scenarios
                    .iter()
                    .map(|x| {
                        let badge = match &x.verdict {
                            Some(v) => format!("<span class=\"badge v-{0}\">{0}</span> ", esc(v)),
                            None => String::new(),
                        };
                        format!("{badge}<a href=\"#s-{0}\">{0}</a>", esc(&x.id))
                    })
                    .collect::<Vec<_>>()
                    .join("<br>")
            };
            let _ = writeln!(
                out,
                "<tr><td><a href=\"{}\">§{}</a> {}</td><td>{}</td><td>{}</td><td>{}</td><td style=\"text-align:left\">{who}</td></tr>",
                esc(&s.link),
                esc(&s.section),
                esc(&s.title),
                s.count("MUST"),
                s.count("SHOULD"),
                s.count("MAY")
            );
            // Each requirement of the section, in our words, with its level.
            if !s.requirements.is_empty() {
                let items: String = s
                    .requirements
                    .iter()
                    .map(|q| {
                        let summary = if q.summary.is_empty() {
                            "<span class=\"hint\">(no summary)</span>".to_string()
                        } else {
                            esc(&q.summary)
                        };
                        format!(
                            "<li><span class=\"hint\">#{}</span> <b>{}</b> {summary}</li>",
                            q.n,
                            esc(&q.keyword)
                        )
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "<tr class=\"reqs\"><td colspan=\"5\" style=\"text-align:left\"><ul class=\"reqs\">{items}</ul></td></tr>"
                );
            }
        }
        let _ = writeln!(out, "</table></details>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_index_parses_and_has_the_cited_rfcs() {
        let i = Index::bundled();
        assert!(i.requirements.len() > 3000, "{}", i.requirements.len());
        for rfc in ["5321", "9110", "9112", "3501", "1035", "959"] {
            assert!(
                i.requirements.iter().any(|r| r.rfc == rfc),
                "RFC {rfc} has requirements in the index"
            );
        }
        assert!(i
            .requirements
            .iter()
            .all(|r| matches!(r.level(), "MUST" | "SHOULD" | "MAY")));
        assert_eq!(
            i.titles
                .get(&("5321".into(), "4.1.1.4".into()))
                .map(String::as_str),
            Some("DATA (DATA)")
        );
    }

    #[test]
    fn a_requirement_is_covered_when_a_scenario_is_bound_to_its_section() {
        let i = Index::bundled();
        let s = Bound {
            id: "smtp/data/x".into(),
            protocol: "smtp".into(),
            level: "MUST".into(),
            rfcs: vec!["5321".into()],
            sections: vec![("5321".into(), "4.1.1.4".into())],
            outcome: Some(Outcome::Failed),
        };
        let c = build(&i, &[s], &[]);
        assert_eq!(c.rfcs.len(), 1);
        let r = &c.rfcs[0];
        let data = r.sections.iter().find(|s| s.section == "4.1.1.4").unwrap();
        assert!(!data.requirements.is_empty());
        assert_eq!(r.covered, data.requirements.len());
        assert!(r.requirements > r.covered);
        let text = render_text(&c, false, false, None);
        assert!(text.contains("§4.1.1.4"), "{text}");
        assert!(text.contains("1 scenario(s): 1 failed"), "{text}");
        assert!(text.contains("not covered"), "{text}");
    }

    #[test]
    fn the_sentence_is_found_around_the_keyword() {
        let lines: Vec<String> = [
            "   First sentence here.  The server MUST reply",
            "   with 250 to this.  Another one follows.",
            "",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let col = lines[0].find("MUST").unwrap() + 1;
        assert_eq!(
            sentence(&lines, 1, col).as_deref(),
            Some("The server MUST reply with 250 to this.")
        );
    }
}
