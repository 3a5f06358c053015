//! `corpus/<protocol>/`: seed sessions as readable case files (`*.case`),
//! and `regressions/`, where each finding is kept as a case file and a
//! Gherkin scenario that reproduces it.

use std::path::{Path, PathBuf};

use super::engine::Finding;
use super::{Case, FuzzProtocol};
use crate::notation::unescape;

/// The corpus of the source tree conform was built from (the tests and
/// benchmarks; `conform fuzz` uses [`bundled_seeds`] and `--corpus DIR`).
pub fn default_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus"))
}

/// The seeds built into the binary: every `send` and `prefix` line of the
/// bundled `corpus/<protocol>/*.case` files and the quoted messages of the
/// bundled `features/<protocol>/` suites.
pub fn bundled_seeds(plugin: &dyn FuzzProtocol) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (_, text) in crate::bundle::below(&format!("corpus/{}", plugin.name())) {
        if let Ok(case) = Case::parse(text) {
            out.extend(case.messages);
        }
    }
    for (_, text) in crate::bundle::below(&format!("features/{}", plugin.name())) {
        out.extend(sent_in_feature(text));
    }
    out
}

/// Seed messages: the protocol's own, every `send` and `prefix` line of the
/// `*.case` files in `<corpus>/<protocol>/` (not the regressions), and the
/// quoted messages the protocol's feature files send. Sorted and without
/// duplicates, so that a seed number means the same message in every run
/// with the same files.
pub fn seeds(
    plugin: &dyn FuzzProtocol,
    corpus: Option<&Path>,
    features: Option<&Path>,
) -> Vec<Vec<u8>> {
    let mut out = plugin.builtin_seeds();
    if let Some(dir) = corpus.map(|c| c.join(plugin.name())) {
        for path in files(&dir, "case") {
            if let Some(case) = std::fs::read_to_string(&path)
                .ok()
                .and_then(|t| Case::parse(&t).ok())
            {
                out.extend(case.messages);
            }
        }
    }
    if let Some(dir) = features.map(|f| f.join(plugin.name())) {
        for path in files(&dir, "feature") {
            if let Ok(text) = std::fs::read_to_string(&path) {
                out.extend(sent_in_feature(&text));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The seeds of a `conform fuzz` run: [`seeds`], and with `bundled` also
/// [`bundled_seeds`]; sorted, without duplicates.
pub fn campaign_seeds(
    plugin: &dyn FuzzProtocol,
    corpus: Option<&Path>,
    features: Option<&Path>,
    bundled: bool,
) -> Vec<Vec<u8>> {
    let mut out = seeds(plugin, corpus, features);
    if bundled {
        out.extend(bundled_seeds(plugin));
        out.sort();
        out.dedup();
    }
    out
}

/// The quoted payloads of `sends "…"`, `sends the bytes "…"` and `sends the
/// datagram "…"` steps that do not use profile values.
pub fn sent_in_feature(text: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((_, rest)) = line.split_once(" sends ") else {
            continue;
        };
        let rest = rest
            .trim_start_matches("the bytes ")
            .trim_start_matches("the datagram ");
        let Some(inner) = rest
            .trim()
            .strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
        else {
            continue;
        };
        if inner.contains("${") {
            continue;
        }
        if let Ok(b) = unescape(inner) {
            out.push(b);
        }
    }
    out
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

/// Every regression case file under `<corpus>/*/regressions/`.
pub fn regressions(corpus: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(corpus).into_iter().flatten().flatten() {
        out.extend(files(&entry.path().join("regressions"), "case"));
    }
    out.sort();
    out
}

/// Writes `<oracle>-<hash>.case` and `.feature` into
/// `<corpus>/<protocol>/regressions/`; returns their paths.
pub fn write_regression(
    plugin: &dyn FuzzProtocol,
    corpus: &Path,
    f: &Finding,
) -> std::io::Result<Vec<PathBuf>> {
    let seed = f.seed;
    let dir = corpus.join(plugin.name()).join("regressions");
    std::fs::create_dir_all(&dir)?;
    let name = f.signature();
    let mut notes = vec![
        format!("Found by `conform fuzz {} --seed {seed}`.", plugin.name()),
        format!("Oracle: {}", f.violation.oracle.name()),
    ];
    notes.extend(f.violation.to_string().lines().map(str::to_string));
    if let Some(n) = &f.note {
        notes.push(n.clone());
    }
    notes.push(format!(
        "Replay: conform fuzz --replay {name}.case --target PROFILE"
    ));
    let case_path = dir.join(format!("{name}.case"));
    std::fs::write(&case_path, f.minimized.to_text(&notes))?;

    let body = plugin
        .scenario(&f.minimized, &f.violation)
        .replace("{title}", &format!("fuzz regression {name}"))
        .replace(
            "{name}",
            &format!(
                "{} ({})",
                first_line(&f.violation.message),
                f.violation.oracle.name()
            ),
        );
    let header = format!(
        "# Reproduces a finding of `conform fuzz {} --seed {seed}` (case file {name}.case).\n\
         # Run it with: conform run {} --features {} --target PROFILE\n",
        plugin.name(),
        plugin.name(),
        dir.display()
    );
    let feature_path = dir.join(format!("{name}.feature"));
    std::fs::write(&feature_path, format!("{header}{body}"))?;
    Ok(vec![case_path, feature_path])
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().replace(['#', '@'], "")
}

#[cfg(test)]
mod tests {
    #[test]
    fn takes_plain_messages_from_feature_files() {
        let text = "When the client sends the bytes \"hi\\r\\n\"\n\
                    When client B sends the datagram \"x\"\n\
                    When the client sends \"RCPT TO:<${smtp.recipient}>\"\n\
                    When the client sends \"NOOP\"\n";
        assert_eq!(
            super::sent_in_feature(text),
            vec![b"hi\r\n".to_vec(), b"x".to_vec(), b"NOOP".to_vec()]
        );
    }
}
