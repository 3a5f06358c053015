//! What a person reads in the terminal: a line per scenario as it finishes,
//! then every problem in full (step, requirement, expected, got, transcript),
//! then the totals.

use std::fmt::Write as _;
use std::io::Write as _;

use super::{Outcome, RunReport, ScenarioResult};

fn line(r: &ScenarioResult) -> String {
    format!(
        "{:<5} {}:{}  {} ({:.0} ms)",
        r.outcome.label(),
        r.file,
        r.line,
        r.name,
        r.seconds * 1000.0
    )
}

/// The progress lines of a run, grouped by feature file in file order while
/// scenarios finish in any order: a feature's lines are printed as soon as
/// it and every feature before it have finished, so the output is live and
/// reads the same on every run.
pub struct Progress {
    /// Feature files in run order, each with how many scenarios it has.
    files: Vec<(String, usize)>,
    done: std::collections::HashMap<String, Vec<(usize, String)>>,
    next: usize,
    only_failures: bool,
}

impl Progress {
    /// `order`: every selected scenario's `(file, line)`, in run order.
    pub fn new(order: &[(String, usize)], only_failures: bool) -> Progress {
        let mut files: Vec<(String, usize)> = Vec::new();
        for (file, _) in order {
            match files.last_mut() {
                Some((f, n)) if f == file => *n += 1,
                _ => files.push((file.clone(), 1)),
            }
        }
        Progress {
            files,
            done: Default::default(),
            next: 0,
            only_failures,
        }
    }

    pub fn finished(&mut self, r: &ScenarioResult) {
        let shown =
            !(self.only_failures && matches!(r.outcome, Outcome::Passed | Outcome::Skipped));
        let text = if shown { line(r) } else { String::new() };
        self.done
            .entry(r.file.clone())
            .or_default()
            .push((r.line, text));
        self.flush(false);
    }

    /// Prints what is complete; with `all`, everything (the run is over).
    pub fn flush(&mut self, all: bool) {
        let mut out = std::io::stdout().lock();
        while let Some((file, n)) = self.files.get(self.next) {
            let have = self.done.get(file).map_or(0, Vec::len);
            if have < *n && !all {
                break;
            }
            let mut lines = self.done.remove(file).unwrap_or_default();
            lines.sort();
            for (_, text) in lines.iter().filter(|(_, t)| !t.is_empty()) {
                let _ = writeln!(out, "{text}");
            }
            self.next += 1;
        }
        let _ = out.flush();
    }
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
    let mut course: Vec<&str> = Vec::new();
    for t in r.tags.iter().filter_map(|t| t.strip_prefix("course-")) {
        if !course.contains(&t) {
            course.push(t);
        }
    }
    for t in course {
        parts.push(format!("course notes {t}"));
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

/// How many of the scenarios not run for one reason are listed by name.
const NOT_RUN_LISTED: usize = 10;

pub fn print(report: &RunReport) {
    print!("{}", render(report));
}

/// Every problem in full, a count line per protocol, and the closing line.
pub fn render(report: &RunReport) -> String {
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
    // The scenarios that were not run (the run stopped, their server was
    // down) share a reason: it is said once, with the list.
    let mut not_run: Vec<(&str, Vec<&ScenarioResult>)> = Vec::new();
    for r in &problems {
        let Some(why) = r
            .failure
            .as_ref()
            .and_then(|f| f.message.strip_prefix(super::NOT_RUN))
        else {
            continue;
        };
        match not_run.iter_mut().find(|(w, _)| *w == why) {
            Some((_, list)) => list.push(r),
            None => not_run.push((why, vec![r])),
        }
    }
    let is_not_run = |r: &ScenarioResult| {
        r.failure
            .as_ref()
            .is_some_and(|f| f.message.starts_with(super::NOT_RUN))
    };
    for (why, list) in &not_run {
        let _ = writeln!(out, "\nERROR {} scenario(s) not run: {why}", list.len());
        for r in list.iter().take(NOT_RUN_LISTED) {
            let _ = writeln!(out, "  {}:{}  {}", r.file, r.line, r.name);
        }
        if list.len() > NOT_RUN_LISTED {
            let _ = writeln!(out, "  … and {} more", list.len() - NOT_RUN_LISTED);
        }
    }
    for r in problems.into_iter().filter(|r| !is_not_run(r)) {
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
        let counts = super::Counts::of(report.scenarios.iter().filter(|s| s.protocol == p));
        let _ = writeln!(out, "{p}: {counts}");
    }
    if !report.context.conform_version.is_empty() {
        let _ = writeln!(out, "{}", report.context.line());
    }
    let _ = writeln!(
        out,
        "target {} · {} scenarios in {:.2} s ({:.0}/s)",
        report.target,
        report.scenarios.len(),
        report.seconds,
        report.scenarios.len() as f64 / report.seconds.max(1e-9)
    );
    if let Some(why) = &report.context.stopped {
        let _ = writeln!(out, "conform: stopped before the end: {why}");
    }
    let _ = writeln!(out, "conform: {}", report.counts());
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
    if let Some(line) = limit_line(report) {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// The closing line of a run whose server refused connections for a limit.
pub fn limit_line(report: &RunReport) -> Option<String> {
    let n = report.limit_refusals();
    if n == 0 {
        return None;
    }
    let mut keys: Vec<String> = report
        .scenarios
        .iter()
        .filter_map(|s| s.failure.as_ref().filter(|f| f.is_configuration()))
        .filter_map(|f| {
            let start = f.message.find("set [")? + 4;
            let end = start + f.message[start..].find(']')? + 1;
            Some(format!("{} max_connections", &f.message[start..end]))
        })
        .collect();
    keys.sort();
    keys.dedup();
    let keys = if keys.is_empty() {
        "max_connections".to_string()
    } else {
        keys.join(", ")
    };
    Some(format!(
        "conform: configuration problem: the server refused connections for a limit in {n} scenario(s); set {keys} lower (or raise the server's limit) and run again (exit 2)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::ScenarioMeta;

    fn scenario(protocol: &str, line: usize, outcome: Outcome) -> ScenarioResult {
        let meta = ScenarioMeta {
            id: format!("{protocol}/x/{line}"),
            protocol: protocol.into(),
            file: format!("{protocol}/x.feature"),
            line,
            name: "n".into(),
            title: "n".into(),
            tags: vec![],
            rfc: vec![],
            sections: vec![],
            level: String::new(),
            points: None,
        };
        ScenarioResult::of(meta, "f", outcome)
    }

    #[test]
    fn warnings_and_info_are_not_counted_as_passed() {
        let report = RunReport {
            context: Default::default(),
            target: "t".into(),
            protocols: vec!["smtp".into(), "pop3".into()],
            strict: false,
            ratchet: false,
            seconds: 1.0,
            scenarios: vec![
                scenario("pop3", 1, Outcome::Warning),
                scenario("pop3", 2, Outcome::Info),
                scenario("smtp", 1, Outcome::Warning),
                scenario("smtp", 2, Outcome::Skipped),
                scenario("smtp", 3, Outcome::Error),
                scenario("smtp", 4, Outcome::Failed),
                scenario("smtp", 5, Outcome::Passed),
            ],
        };
        let text = render(&report);
        assert!(
            text.contains("pop3: 0 passed, 0 failed, 0 errors, 1 warnings, 1 info, 0 skipped"),
            "{text}"
        );
        assert!(
            text.contains("smtp: 1 passed, 1 failed, 1 errors, 1 warnings, 0 info, 1 skipped"),
            "{text}"
        );
        assert!(
            text.contains("conform: 1 passed, 1 failed, 1 errors, 2 warnings, 1 info, 1 skipped"),
            "{text}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&crate::report::json::render(&report)).unwrap();
        assert_eq!(json["summary"]["passed"], 1);
        assert_eq!(json["summary"]["warnings"], 2);
        assert_eq!(json["summary"]["info"], 1);
        assert_eq!(json["scenarios"].as_array().map(Vec::len), Some(7));
    }
}
