//! What a person reads in the terminal: a line per scenario as it finishes,
//! then every problem in full (step, requirement, expected, got, transcript),
//! then the totals.

use std::fmt::Write as _;
use std::io::Write as _;

use super::{Outcome, RunReport, ScenarioResult};

pub fn progress_line(r: &ScenarioResult) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{:<5} {}:{}  {} ({:.0} ms)",
        r.outcome.label(),
        r.file,
        r.line,
        r.name,
        r.seconds * 1000.0
    );
}

/// The requirement a scenario checks: `MUST · RFC 5321 §4.1.1.4 · @course-K-10`.
pub fn requirement(r: &ScenarioResult) -> String {
    let mut parts = vec![if r.level.is_empty() {
        "MUST".to_string()
    } else {
        r.level.clone()
    }];
    for rfc in &r.rfc {
        // `section` holds `RFC 5321 §4.1.1.4`: the sections of this RFC.
        let head = format!("RFC {rfc} ");
        let secs: Vec<&str> = r
            .section
            .iter()
            .filter_map(|s| s.strip_prefix(&head))
            .collect();
        if secs.is_empty() {
            parts.push(format!("RFC {rfc}"));
        } else {
            parts.push(format!("RFC {rfc} {}", secs.join(", ")));
        }
    }
    for t in r.tags.iter().filter(|t| t.starts_with("course-")) {
        parts.push(format!("course notes {}", t.trim_start_matches("course-")));
    }
    parts.join(" · ")
}

/// The explanation of a scenario that did not pass, without the transcript.
pub fn failure_block(r: &ScenarioResult) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "requirement: {}", requirement(r));
    match (r.outcome, &r.deviation) {
        (Outcome::Deviation, Some(d)) => {
            let _ = writeln!(s, "declared:    {d}");
        }
        (Outcome::Fixed, Some(d)) => {
            let _ = writeln!(
                s,
                "fixed:       it holds now, but is declared as a deviation ({d}); remove it from the deviations file"
            );
        }
        _ => {}
    }
    if let Some(step) = &r.step {
        let _ = writeln!(s, "step:        {step}");
    }
    if let Some(f) = &r.failure {
        let _ = writeln!(s, "problem:     {}", f.message);
        if let Some(e) = &f.expected {
            let _ = writeln!(s, "expected:    {e}");
        }
        if let Some(g) = &f.got {
            let _ = writeln!(s, "got:         {g}");
        }
    }
    s
}

pub fn print(report: &RunReport) {
    let mut out = String::new();
    let problems: Vec<&ScenarioResult> = report
        .scenarios
        .iter()
        .filter(|s| s.outcome != Outcome::Passed)
        .collect();
    if !problems.is_empty() {
        let _ = writeln!(
            out,
            "\n==== {} scenario(s) did not pass ====",
            problems.len()
        );
    }
    for r in problems {
        let _ = writeln!(
            out,
            "\n{} {}:{}  {}",
            r.outcome.label(),
            r.file,
            r.line,
            r.name
        );
        for line in failure_block(r).lines() {
            let _ = writeln!(out, "  {line}");
        }
        if !r.transcript_text.is_empty() && r.outcome != Outcome::Skipped {
            let _ = writeln!(out, "  transcript:");
            for line in r.transcript_text.lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    let _ = writeln!(out);
    let mut protocols: Vec<&str> = report
        .scenarios
        .iter()
        .map(|s| s.protocol.as_str())
        .collect();
    protocols.dedup();
    for p in protocols {
        let of = |o: Outcome| {
            report
                .scenarios
                .iter()
                .filter(|s| s.protocol == p && s.outcome == o)
                .count()
        };
        let _ = writeln!(
            out,
            "{p}: {} passed, {} failed, {} errors, {} warnings, {} info, {} skipped",
            of(Outcome::Passed),
            of(Outcome::Failed),
            of(Outcome::Error),
            of(Outcome::Warning),
            of(Outcome::Info),
            of(Outcome::Skipped)
        );
    }
    let passed = report.count(Outcome::Passed)
        + report.count(Outcome::Warning)
        + report.count(Outcome::Info);
    let failed = report.count(Outcome::Failed) + report.count(Outcome::Error);
    let _ = writeln!(
        out,
        "target {} · {} scenarios in {:.2} s ({:.0}/s)",
        report.target,
        report.scenarios.len(),
        report.seconds,
        report.scenarios.len() as f64 / report.seconds.max(1e-9)
    );
    let _ = writeln!(
        out,
        "conform: {passed} passed, {failed} failed, {} skipped",
        report.count(Outcome::Skipped)
    );
    let (dev, fixed) = (
        report.count(Outcome::Deviation),
        report.count(Outcome::Fixed),
    );
    if dev + fixed > 0 {
        let _ = writeln!(
            out,
            "declared deviations: {dev} still deviate, {fixed} fixed{}",
            if fixed > 0 && report.ratchet {
                " (--ratchet: the fixed ones fail the run until they are removed from the file)"
            } else {
                ""
            }
        );
    }
    print!("{out}");
}
