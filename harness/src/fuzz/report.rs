//! What a fuzz run prints and writes: a summary, and JUnit with one testcase
//! per oracle (the minimized reproducer in the failure).

use std::fmt::Write as _;

use super::engine::FuzzReport;
use crate::report::junit::{attr, text};

pub fn summary(r: &FuzzReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "fuzz {}: {} cases, {} exchanges in {:.1}s ({:.0} exchanges/s), seed {}, target {}",
        r.protocol,
        r.cases,
        r.exchanges,
        r.seconds,
        r.rate(),
        r.seed,
        r.target
    );
    for (oracle, meaning) in &r.oracles {
        let verdict = match &r.finding {
            Some(f) if f.violation.oracle == *oracle => "FAILED",
            _ => "held",
        };
        let _ = writeln!(out, "  {verdict:<6} {:<16} {meaning}", oracle.name());
    }
    for u in &r.unconfirmed {
        let _ = writeln!(out, "  note: {u}");
    }
    match &r.finding {
        None => {
            let _ = writeln!(out, "no findings");
        }
        Some(f) => {
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
    }
    out
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}\n")).collect()
}

pub fn junit(r: &FuzzReport) -> String {
    let failures = usize::from(r.finding.is_some());
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
        ("cases", r.cases.to_string()),
        ("exchanges", r.exchanges.to_string()),
        ("exchanges_per_second", format!("{:.0}", r.rate())),
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
        if let Some(f) = r.finding.as_ref().filter(|f| f.violation.oracle == *oracle) {
            let mut body = f.violation.to_string();
            body.push_str("\n\nminimized reproducer (a case file for `conform fuzz --replay`):\n");
            body.push_str(&f.minimized.to_text(&[]));
            if let Some(n) = &f.note {
                body.push_str(&format!("note: {n}\n"));
            }
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                attr(&f.violation.message),
                oracle.name(),
                text(&body)
            );
            if !f.transcript.is_empty() {
                let _ = writeln!(
                    out,
                    "      <system-out>{}</system-out>",
                    text(&f.transcript)
                );
            }
        }
        let _ = writeln!(out, "    </testcase>");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
