//! What a fuzz run prints and writes: the progress line, each new finding's
//! regression files as it is made ([`Campaign`], the [`Observer`] the
//! command line gives the engine), a summary, and JUnit with one testcase
//! per oracle (the minimized reproducers in the failure).

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::engine::{Finding, FuzzReport, Observer, Progress};
use super::{corpus, FuzzProtocol};
use crate::notation::{xml_attr as attr, xml_text as text};

/// Draws the progress line on stderr (when it is a terminal) and writes
/// each new finding's case file and scenario into `<regressions>/<protocol>/regressions/`.
pub struct Campaign<'a> {
    pub plugin: &'a dyn FuzzProtocol,
    /// The corpus folder findings are written under; `None`: not written.
    pub regressions: Option<PathBuf>,
    pub progress: bool,
    last: Option<Instant>,
}

impl<'a> Campaign<'a> {
    pub fn new(plugin: &'a dyn FuzzProtocol, regressions: Option<PathBuf>, progress: bool) -> Self {
        Campaign {
            plugin,
            regressions,
            progress: progress && std::io::stderr().is_terminal(),
            last: None,
        }
    }

    /// Ends the progress line.
    pub fn done(&self) {
        if self.progress && self.last.is_some() {
            eprintln!();
        }
    }
}

impl Observer for Campaign<'_> {
    fn progress(&mut self, p: &Progress) {
        if !self.progress {
            return;
        }
        self.last = Some(Instant::now());
        let _ = write!(
            std::io::stderr(),
            "\r\x1b[2Kfuzz {}: {} cases, {} exchanges, {:.0}/s, {} new finding(s), {} known, {:.1}s",
            self.plugin.name(),
            p.cases,
            p.exchanges,
            rate(p.exchanges, p.elapsed),
            p.new,
            p.known,
            p.elapsed.as_secs_f64()
        );
        let _ = std::io::stderr().flush();
    }

    fn finding(&mut self, f: &mut Finding) {
        if self.progress && self.last.is_some() {
            eprintln!();
        }
        eprintln!(
            "conform: finding {}: {}",
            f.signature(),
            first_line(&f.violation.message)
        );
        let Some(dir) = &self.regressions else {
            return;
        };
        match corpus::write_regression(self.plugin, dir, f) {
            Ok(files) => f.files = files,
            Err(e) => eprintln!("conform: could not write the regression files: {e}"),
        }
    }
}

fn rate(exchanges: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        exchanges as f64 / secs
    } else {
        0.0
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

pub fn summary(r: &FuzzReport) -> String {
    let mut out = String::new();
    let jobs = if r.jobs > 1 {
        format!(", {} jobs", r.jobs)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "fuzz {}: {} cases, {} exchanges in {:.1}s ({:.0} exchanges/s), seed {}{jobs}, target {}",
        r.protocol,
        r.cases,
        r.exchanges,
        r.seconds,
        r.rate(),
        r.seed,
        r.target
    );
    for (oracle, meaning) in &r.oracles {
        let verdict = if r.new_findings().any(|f| f.violation.oracle == *oracle) {
            "FAILED"
        } else {
            "held"
        };
        let _ = writeln!(out, "  {verdict:<6} {:<16} {meaning}", oracle.name());
    }
    for u in &r.unconfirmed {
        let _ = writeln!(out, "  note: {u}");
    }
    let new = r.new_findings().count();
    let known = r.known_findings().count();
    let hits = |it: &mut dyn Iterator<Item = &Finding>| it.map(|f| f.hits).sum::<u64>();
    let _ = writeln!(
        out,
        "findings: {new} new ({} cases), {known} known ({} cases)",
        hits(&mut r.new_findings()),
        hits(&mut r.known_findings())
    );
    for f in r.known_findings() {
        let _ = writeln!(
            out,
            "  known {} ×{}: {} — {}",
            f.signature(),
            f.hits,
            first_line(&f.violation.message),
            f.known.as_deref().unwrap_or_default()
        );
    }
    for f in r.new_findings() {
        let how = match &f.note {
            Some(n) if n.contains("did not come back within") => {
                "not confirmed: the target did not come back"
            }
            Some(_) => "confirmed by replay, with a caveat (see the note)",
            None => "confirmed by replay",
        };
        let _ = writeln!(out, "\nFINDING ({how}): {}", f.violation);
        let _ = writeln!(
            out,
            "signature {}: {} drawn case(s) failed this way; found with seed {}",
            f.signature(),
            f.hits,
            f.seed
        );
        let _ = writeln!(
            out,
            "\nminimized reproducer ({} bytes, {} shrink runs; the drawn case had {} bytes):",
            f.minimized.size(),
            f.shrink_runs,
            f.original.size()
        );
        out.push_str(&indent(&f.minimized.to_text_short(200)));
        if let Some(n) = &f.note {
            let _ = writeln!(out, "note: {n}");
        }
        if !f.transcript.is_empty() {
            let _ = writeln!(out, "\ntranscript:");
            out.push_str(&indent(&f.transcript));
        }
        for p in &f.files {
            let _ = writeln!(out, "written: {}", p.display());
        }
        if let Some(case) = f
            .files
            .iter()
            .find(|p| p.extension().is_some_and(|e| e == "case"))
        {
            let _ = writeln!(out, "replay: conform fuzz --replay {}", case.display());
        }
    }
    if r.findings.is_empty() {
        let _ = writeln!(out, "no findings");
    } else if new == 0 {
        let _ = writeln!(out, "no new findings");
    }
    out
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}\n")).collect()
}

pub fn junit(r: &FuzzReport) -> String {
    let failing = |o| r.new_findings().any(|f| f.violation.oracle == o);
    let failures = r.oracles.iter().filter(|(o, _)| failing(*o)).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"conform fuzz\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{:.3}\">",
        r.oracles.len(),
        r.seconds
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"fuzz {}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"{:.3}\">",
        attr(&r.protocol),
        r.oracles.len(),
        r.seconds
    );
    let _ = writeln!(out, "    <properties>");
    for (k, v) in [
        ("target", r.target.clone()),
        ("seed", r.seed.to_string()),
        ("jobs", r.jobs.to_string()),
        ("cases", r.cases.to_string()),
        ("exchanges", r.exchanges.to_string()),
        ("exchanges_per_second", format!("{:.0}", r.rate())),
        ("new_findings", r.new_findings().count().to_string()),
        ("known_findings", r.known_findings().count().to_string()),
    ] {
        let _ = writeln!(
            out,
            "      <property name=\"{}\" value=\"{}\"/>",
            attr(k),
            attr(&v)
        );
    }
    let _ = writeln!(out, "    </properties>");
    for (oracle, meaning) in &r.oracles {
        let _ = writeln!(
            out,
            "    <testcase classname=\"fuzz.{}\" name=\"{}: {}\" time=\"{:.3}\">",
            attr(&r.protocol),
            oracle.name(),
            attr(meaning),
            r.seconds
        );
        let mine: Vec<&Finding> = r
            .new_findings()
            .filter(|f| f.violation.oracle == *oracle)
            .collect();
        if let Some(first) = mine.first() {
            let mut body = String::new();
            let mut transcripts = String::new();
            for f in &mine {
                let _ = writeln!(
                    body,
                    "{} ({} case(s)): {}",
                    f.signature(),
                    f.hits,
                    f.violation
                );
                body.push_str("minimized reproducer (a case file for `conform fuzz --replay`):\n");
                body.push_str(&f.minimized.to_text(&[]));
                if let Some(n) = &f.note {
                    let _ = writeln!(body, "note: {n}");
                }
                body.push('\n');
                if !f.transcript.is_empty() {
                    let _ = writeln!(transcripts, "{}:\n{}", f.signature(), f.transcript);
                }
            }
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                attr(&first.violation.message),
                oracle.name(),
                text(&body)
            );
            if !transcripts.is_empty() {
                let _ = writeln!(out, "      <system-out>{}</system-out>", text(&transcripts));
            }
        }
        let known: String = r
            .known_findings()
            .filter(|f| f.violation.oracle == *oracle)
            .map(|f| {
                format!(
                    "known {} ({} case(s)): {} — {}\n",
                    f.signature(),
                    f.hits,
                    first_line(&f.violation.message),
                    f.known.as_deref().unwrap_or_default()
                )
            })
            .collect();
        if !known.is_empty() {
            let _ = writeln!(out, "      <system-err>{}</system-err>", text(&known));
        }
        let _ = writeln!(out, "    </testcase>");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
