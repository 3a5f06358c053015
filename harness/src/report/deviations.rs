//! Declared deviations (`--deviations FILE`): scenarios a target is known to
//! fail on purpose or by default, each with the reason. A listed scenario that
//! does not pass is reported as a declared deviation instead of a failure; a
//! listed scenario that now passes is reported as fixed, and with `--ratchet`
//! fails the run until its entry is removed. `--write-deviations FILE` writes
//! today's failures as a starting list.
//!
//! ```toml
//! [[deviation]]
//! id = "http/semantics/a-405-response-lists-the-allowed-methods-in-allow"
//! reason = "nginx's own 405 has no Allow (RFC 9110 §15.5.6 MUST)"
//! link = "https://example.org/issue/12"   # optional
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;

use super::{Outcome, RunReport, ScenarioResult};

#[derive(Clone, Debug, Default)]
pub struct Deviations {
    /// Where the list came from, for messages.
    pub source: String,
    entries: BTreeMap<String, Entry>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub id: String,
    pub reason: String,
    #[serde(default)]
    pub link: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    deviation: Vec<Entry>,
}

impl Deviations {
    pub fn load(path: &Path) -> Result<Deviations, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read deviations file {}: {e}", path.display()))?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, source: &str) -> Result<Deviations, String> {
        let file: File = toml::from_str(text)
            .map_err(|e| format!("deviations file {source} is not valid: {e}"))?;
        let mut entries = BTreeMap::new();
        for e in file.deviation {
            if e.reason.trim().is_empty() {
                return Err(format!(
                    "deviations file {source}: `{}` needs a reason",
                    e.id
                ));
            }
            if entries.insert(e.id.clone(), e.clone()).is_some() {
                return Err(format!(
                    "deviations file {source}: `{}` is listed twice",
                    e.id
                ));
            }
        }
        Ok(Deviations {
            source: source.into(),
            entries,
        })
    }

    /// Every listed id must name a scenario of the suites (selected or not):
    /// a typo must not silently declare nothing.
    pub fn check_ids(&self, known: &BTreeSet<String>) -> Result<(), String> {
        let unknown: Vec<&str> = self
            .entries
            .keys()
            .filter(|id| !known.contains(*id))
            .map(String::as_str)
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        Err(format!(
            "deviations file {}: no scenario has the id {} (`conform list` prints the ids)",
            self.source,
            unknown
                .iter()
                .map(|u| format!("`{u}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }

    /// Marks the listed scenarios of a finished run. A scenario that could not
    /// be judged (`error`) or did not apply (`skipped`) keeps its verdict: a
    /// declaration covers a known deviation, not a broken run.
    pub fn apply(&self, s: &mut ScenarioResult) {
        let Some(e) = self.entries.get(&s.id) else {
            return;
        };
        match s.outcome {
            Outcome::Failed | Outcome::Warning | Outcome::Info => {
                s.outcome = Outcome::Deviation;
                s.deviation = Some(e.describe());
            }
            Outcome::Passed => {
                s.outcome = Outcome::Fixed;
                s.deviation = Some(e.describe());
            }
            _ => {}
        }
    }
}

impl Entry {
    fn describe(&self) -> String {
        match &self.link {
            Some(l) => format!("{} ({l})", self.reason),
            None => self.reason.clone(),
        }
    }
}

/// A deviations file listing every scenario of `report` that did not hold
/// (failed, warned, informational, or already declared), with what went wrong
/// as the reason to be edited by a person.
pub fn render_current(report: &RunReport) -> String {
    let mut out = format!(
        "# Declared deviations of target {}, written by `conform run --write-deviations`.\n\
         # Replace each reason with why the target deviates (RFC section and sentence).\n",
        report.target
    );
    for s in &report.scenarios {
        let reason = match s.outcome {
            Outcome::Failed | Outcome::Warning | Outcome::Info => s
                .failure
                .as_ref()
                .map(|f| f.message.lines().next().unwrap_or_default().to_string())
                .unwrap_or_default(),
            Outcome::Deviation => s.deviation.clone().unwrap_or_default(),
            _ => continue,
        };
        let _ = write!(
            out,
            "\n[[deviation]]\n# {}:{}  {} ({})\nid = {}\nreason = {}\n",
            s.file,
            s.line,
            s.name,
            s.outcome.label(),
            toml::Value::String(s.id.clone()),
            toml::Value::String(reason)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_what_would_declare_nothing() {
        let d = Deviations::parse(
            "[[deviation]]\nid = \"a/b/c\"\nreason = \"r\"\nlink = \"l\"\n",
            "t",
        )
        .unwrap();
        assert_eq!(d.entries["a/b/c"].describe(), "r (l)");
        let known: BTreeSet<String> = ["a/b/c".to_string()].into();
        assert!(d.check_ids(&known).is_ok());
        let err = d.check_ids(&BTreeSet::new()).unwrap_err();
        assert!(err.contains("`a/b/c`"), "{err}");
        assert!(Deviations::parse("[[deviation]]\nid = \"x\"\nreason = \" \"\n", "t").is_err());
        assert!(Deviations::parse(
            "[[deviation]]\nid = \"x\"\nreason = \"r\"\n[[deviation]]\nid = \"x\"\nreason = \"r\"\n",
            "t"
        )
        .is_err());
        assert!(Deviations::parse("[[deviation]]\nid = \"x\"\nwhy = \"r\"\n", "t").is_err());
    }
}
