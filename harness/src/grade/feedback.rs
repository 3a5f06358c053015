//! What a grade becomes: a readable summary with feedback per failed
//! scenario, Gradescope's `results.json`, JUnit, and the full JSON report.
//!
//! Student-facing outputs (summary, results.json, JUnit) show a hidden
//! scenario only by its name and points; the full JSON report (for the
//! instructor) keeps everything.

use std::fmt::Write as _;

use serde_json::json;

use super::assignment::GradescopeSpec;
use super::{GradeReport, GradedScenario};
use crate::report::{self, RunReport};

/// `PASS  2/2  name` as each scenario is graded.
pub fn progress_line(g: &GradedScenario) {
    println!(
        "{:<5} {:>5}  {}{}",
        if g.passed { "PASS" } else { "FAIL" },
        points(g.score, g.max_score),
        if g.hidden { "[hidden] " } else { "" },
        g.name
    );
}

fn num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

fn points(score: f64, max: f64) -> String {
    format!("{}/{}", num(score), num(max))
}

/// The feedback on one scenario that did not pass, as a student sees it: a
/// hidden one only by its points.
pub fn scenario_feedback(g: &GradedScenario) -> String {
    if g.hidden {
        return format!(
            "This is a hidden test: it earns {} and its details are not shown.\n",
            points(g.score, g.max_score)
        );
    }
    full_feedback(g)
}

/// The feedback on one scenario that did not pass, with every detail.
fn full_feedback(g: &GradedScenario) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "behaviour:   {}", g.criterion);
    if g.result.transcript.is_empty() && g.note.is_some() {
        // Never reached the wire: only the note explains it.
        let _ = writeln!(
            s,
            "requirement: {}",
            report::console::requirement(&g.result)
        );
    } else {
        s.push_str(&report::console::failure_block(&g.result));
    }
    if let Some(note) = &g.note {
        let _ = writeln!(s, "note:        {}", indent_rest(note, 13));
    }
    if !g.result.transcript_text.is_empty() {
        let _ = writeln!(s, "transcript:");
        for line in g.result.transcript_text.lines() {
            let _ = writeln!(s, "  {line}");
        }
    }
    s
}

fn indent_rest(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l.to_string()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The readable summary: points per criterion and scenario, the total, then
/// what to fix.
pub fn summary(r: &GradeReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "conform grade: {} ({})", r.title, r.assignment);
    let _ = writeln!(s, "submission:    {}", r.submission);
    if r.client_lab {
        let _ = writeln!(
            s,
            "Each scenario ran the program afresh against the grader's own server, on a port given as {{port}}."
        );
    } else if r.fresh_start_per_scenario {
        let _ = writeln!(
            s,
            "Each scenario ran against a fresh start of the program, on a port given as {{port}}."
        );
    }
    if let Some(p) = &r.problem {
        let _ = writeln!(s, "\nPROBLEM: {}", indent_rest(p, 9));
    }
    let _ = writeln!(s);
    for c in &r.criteria {
        let of: Vec<&GradedScenario> = r.scenarios.iter().filter(|g| &g.criterion == c).collect();
        let score: f64 = of.iter().map(|g| g.score).sum();
        let max: f64 = of.iter().map(|g| g.max_score).sum();
        let _ = writeln!(s, "{:<66} {:>7}", c, points(score, max));
        for g in of {
            let _ = writeln!(
                s,
                "  {:<4} {:>5}  {}{}",
                if g.passed { "ok" } else { "FAIL" },
                points(g.score, g.max_score),
                if g.hidden { "[hidden] " } else { "" },
                g.name
            );
        }
    }
    let _ = writeln!(
        s,
        "\nTotal: {} points ({} of {} scenarios passed, {:.1} s)",
        points(r.score, r.max_score),
        r.scenarios.iter().filter(|g| g.passed).count(),
        r.scenarios.len(),
        r.seconds
    );
    let failed: Vec<&GradedScenario> = r.scenarios.iter().filter(|g| !g.passed).collect();
    if !failed.is_empty() && r.problem.is_none() {
        let _ = writeln!(s, "\n==== What to fix ====");
        for g in failed {
            let _ = writeln!(
                s,
                "\nFAIL {}{}  ({} points)",
                if g.hidden { "[hidden] " } else { "" },
                g.name,
                points(g.score, g.max_score)
            );
            for line in scenario_feedback(g).lines() {
                let _ = writeln!(s, "  {line}");
            }
        }
    }
    s
}

/// Gradescope's autograder `results.json` (the fields of its autograder
/// specification: top-level score, execution_time, output, output_format,
/// visibility, stdout_visibility, tests, leaderboard; per test name, number,
/// score, max_score, status, output, output_format, visibility, tags).
///
/// A test's visibility is its criterion's; Gradescope withholds a test that
/// is not `visible` from students, so its output keeps the full feedback for
/// the instructor.
pub fn gradescope(r: &GradeReport, spec: &GradescopeSpec) -> String {
    let format = spec.output_format.as_deref().unwrap_or("text");
    let tests: Vec<serde_json::Value> = r
        .scenarios
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let output = if g.passed {
                format!("Passed: {}", report::console::requirement(&g.result))
            } else {
                full_feedback(g)
            };
            json!({
                "name": format!("{}: {}", g.criterion, g.name),
                "number": (i + 1).to_string(),
                "score": g.score,
                "max_score": g.max_score,
                "status": if g.passed { "passed" } else { "failed" },
                "output": fenced(&output, format),
                "output_format": format,
                "visibility": g.visibility,
                "tags": [g.criterion.clone(), g.result.protocol.clone(), level(&g.result)],
            })
        })
        .collect();
    let mut output = format!("{}: {} points.", r.title, points(r.score, r.max_score));
    if let Some(p) = &r.problem {
        output.push_str(&format!("\n\n{}", fenced(p, format)));
    }
    let mut doc = json!({
        "score": r.score,
        "output": output,
        "output_format": format,
        "visibility": spec.visibility.as_deref().unwrap_or("visible"),
        "stdout_visibility": spec.stdout_visibility.as_deref().unwrap_or("hidden"),
        "execution_time": r.seconds,
        "tests": tests,
    });
    if spec.leaderboard {
        doc["leaderboard"] = json!([
            {"name": "Score", "value": r.score},
            {"name": "Seconds", "value": (r.seconds * 10.0).round() / 10.0, "order": "asc"},
        ]);
    }
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

fn level(r: &crate::report::ScenarioResult) -> String {
    if r.level.is_empty() {
        "MUST".into()
    } else {
        r.level.clone()
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Plain feedback in a Markdown or HTML test output keeps its layout.
fn fenced(text: &str, format: &str) -> String {
    match format {
        "md" => format!("```\n{}\n```", text.replace("```", "`\u{200b}``")),
        "html" => format!("<pre>{}</pre>", html_escape(text)),
        _ => text.to_string(),
    }
}

/// JUnit, one testcase per scenario with its points; hidden scenarios
/// without their details.
pub fn junit(r: &GradeReport) -> String {
    let scenarios = r
        .scenarios
        .iter()
        .map(|g| {
            let mut s = g.result.clone();
            s.points = Some(g.max_score);
            if g.hidden {
                s.step = None;
                s.transcript.clear();
                s.transcript_text.clear();
                if let Some(f) = &mut s.failure {
                    f.message = "hidden test: details are not shown".into();
                    f.expected = None;
                    f.got = None;
                }
            } else if let (Some(note), Some(f)) = (&g.note, &mut s.failure) {
                f.message = format!("{}\n{note}", f.message);
            }
            s
        })
        .collect();
    report::junit::render(&RunReport {
        context: report::Context::now(),
        target: format!("submission {}", r.submission),
        protocols: Vec::new(),
        strict: false,
        ratchet: false,
        seconds: r.seconds,
        scenarios,
    })
}

/// Everything, for the instructor and for scripts.
pub fn full_json(r: &GradeReport) -> String {
    serde_json::to_string_pretty(r).unwrap_or_default()
}
