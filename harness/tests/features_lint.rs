//! The suites' own rules, checked on every bundled feature file (and the fuzz
//! regressions): one requirement level per scenario, every section bound to
//! its RFC (and a heading of that RFC where its text is at hand), parseable
//! `@timeout(…)` and `@points(…)`, a protocol tag matching the folder, and
//! unique stable ids.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use conform::suite::{self, ScenarioMeta};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Section numbers that are headings of RFC `n` (`4.1.1.4`), where its
/// text is in ../shared/rfc (the RFC texts beside the repository).
fn headings(
    n: &str,
    cache: &mut BTreeMap<String, Option<BTreeSet<String>>>,
) -> Option<BTreeSet<String>> {
    cache
        .entry(n.to_string())
        .or_insert_with(|| {
            let text =
                std::fs::read_to_string(repo().join(format!("../shared/rfc/rfc{n}.txt"))).ok()?;
            let mut out = BTreeSet::new();
            // A heading: optional indentation (RFC 959 indents its own), the
            // number with or without a final dot, then the title.
            for line in text.lines() {
                let line = line.trim_start_matches('\u{feff}').trim_start();
                let mut words = line.split_whitespace();
                let (Some(first), Some(mut title)) = (words.next(), words.next()) else {
                    continue;
                };
                // RFC 2308 writes `3 - Title`.
                if title == "-" {
                    title = words.next().unwrap_or_default();
                }
                let num = first.trim_end_matches('.');
                let numeric = !num.is_empty()
                    && num.split('.').all(|p| {
                        !p.is_empty()
                            && (p.chars().all(|c| c.is_ascii_digit())
                                || (p.len() == 1 && p.chars().all(|c| c.is_ascii_uppercase())))
                    });
                if numeric
                    && title
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphanumeric())
                {
                    out.insert(num.to_string());
                }
            }
            Some(out)
        })
        .clone()
}

fn lint(root: &Path, problems: &mut Vec<String>, ids: &mut BTreeMap<String, String>) {
    let suites = suite::load(root).unwrap_or_else(|e| panic!("{e}"));
    let mut cache = BTreeMap::new();
    for (f, r, s) in suites.all() {
        let meta = ScenarioMeta::of(root, f, r, s);
        let place = format!("{}:{} ({})", meta.file, meta.line, s.name);
        let Some(protocol) = suite::protocol_of(f) else {
            problems.push(format!("{place}: not in a protocol's folder"));
            continue;
        };
        if !f.tags.iter().any(|t| t == protocol.name()) {
            problems.push(format!(
                "{place}: the feature has no @{} tag",
                protocol.name()
            ));
        }
        let own_levels = s
            .tags
            .iter()
            .filter(|t| matches!(t.as_str(), "MUST" | "SHOULD" | "MAY"))
            .count();
        if own_levels > 1 || meta.level.is_empty() {
            problems.push(format!("{place}: needs exactly one of @MUST @SHOULD @MAY"));
        }
        if meta.rfc.is_empty() {
            problems.push(format!("{place}: cites no RFC (@rfcNNNN)"));
        }
        for t in &meta.tags {
            if t.starts_with("sec-") {
                problems.push(format!(
                    "{place}: @{t} is not bound to an RFC; write @rfcNNNN-{t} (tools/bind-sections.py)"
                ));
            }
            if let Some(d) = t.strip_prefix("timeout(").and_then(|d| d.strip_suffix(')')) {
                if humantime::parse_duration(d).is_err() {
                    problems.push(format!("{place}: @{t} is not a duration"));
                }
            }
            if let Some(p) = t.strip_prefix("points(").and_then(|p| p.strip_suffix(')')) {
                if p.parse::<f64>().map_or(true, |p| !(p >= 0.0)) {
                    problems.push(format!("{place}: @{t} is not a number of points"));
                }
            }
        }
        for sec in &meta.sections {
            let ok = sec
                .section
                .split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()));
            if !ok {
                problems.push(format!("{place}: {sec} is not a section number"));
            } else if let Some(h) = headings(&sec.rfc, &mut cache) {
                if !h.contains(&sec.section) {
                    problems.push(format!(
                        "{place}: {sec} is not a heading of RFC {}",
                        sec.rfc
                    ));
                }
            }
        }
        if let Some(other) = ids.insert(meta.id.clone(), place.clone()) {
            problems.push(format!("{place}: id {} is also {other}", meta.id));
        }
    }
}

#[test]
fn every_scenario_states_its_requirement_in_the_agreed_form() {
    let mut problems = Vec::new();
    let mut ids = BTreeMap::new();
    lint(&repo().join("features"), &mut problems, &mut ids);
    assert!(ids.len() > 400, "{} scenarios", ids.len());
    let mut regression_ids = BTreeMap::new();
    for entry in std::fs::read_dir(repo().join("corpus")).unwrap().flatten() {
        let dir = entry.path().join("regressions");
        if dir.is_dir()
            && std::fs::read_dir(&dir)
                .unwrap()
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "feature"))
        {
            lint(&entry.path(), &mut problems, &mut regression_ids);
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
