//! JUnit XML: one `testsuite` per feature file, one `testcase` per scenario
//! and per Examples row. Each testcase carries its tags, RFC, section, level
//! and target as `properties`; `failure` for non-conformance, `error` for a
//! harness or connectivity problem, `skipped` for a scenario that does not
//! apply; the transcript in `system-out`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Outcome, RunReport, ScenarioResult};
pub(crate) use crate::notation::{xml_attr as attr, xml_text as text};

pub fn render(report: &RunReport) -> String {
    let mut by_file: BTreeMap<&str, Vec<&ScenarioResult>> = BTreeMap::new();
    for s in &report.scenarios {
        by_file.entry(s.file.as_str()).or_default().push(s);
    }
    let failures = report.count(Outcome::Failed);
    let errors = report.count(Outcome::Error);
    let failures = failures
        + if report.ratchet {
            report.count(Outcome::Fixed)
        } else {
            0
        };
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    // The skipped count is on each testsuite: the published schema
    // (Jenkins xunit-plugin junit-10.xsd) has no `skipped` on testsuites.
    let _ = writeln!(
        out,
        "<testsuites name=\"conform\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{:.3}\">",
        report.scenarios.len(),
        report.seconds
    );
    for (file, cases) in by_file {
        let count = |o: Outcome| {
            cases
                .iter()
                .filter(|c| {
                    c.outcome == o
                        || (o == Outcome::Skipped && c.outcome == Outcome::Deviation)
                        || (o == Outcome::Failed && report.ratchet && c.outcome == Outcome::Fixed)
                })
                .count()
        };
        let time: f64 = cases.iter().map(|c| c.seconds).sum();
        let feature = cases
            .first()
            .map(|c| c.feature.as_str())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{time:.3}\" timestamp=\"{}\" file=\"{}\">",
            attr(&format!("{file}: {feature}")),
            cases.len(),
            count(Outcome::Failed),
            count(Outcome::Error),
            count(Outcome::Skipped),
            // JUnit's timestamp: ISO 8601 without a zone (UTC here).
            attr(report.context.started.trim_end_matches('Z')),
            attr(file)
        );
        let _ = writeln!(out, "    <properties>");
        property(&mut out, 6, "target", &report.target);
        property(
            &mut out,
            6,
            "conform_version",
            &report.context.conform_version,
        );
        property(&mut out, 6, "started", &report.context.started);
        for t in report.context.targets.iter() {
            property(&mut out, 6, &t.key, &t.address);
            if let Some(b) = &t.banner {
                property(&mut out, 6, &format!("{}.banner", t.key), b);
            }
        }
        property(
            &mut out,
            6,
            "strict",
            if report.strict { "true" } else { "false" },
        );
        let _ = writeln!(out, "    </properties>");
        for case in unique_names(&cases) {
            testcase(&mut out, report, case.0, &case.1);
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Names must be unique within a suite: a repeated name gets its line.
fn unique_names<'a>(cases: &[&'a ScenarioResult]) -> Vec<(&'a ScenarioResult, String)> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for c in cases {
        *seen.entry(c.name.as_str()).or_default() += 1;
    }
    cases
        .iter()
        .map(|c| {
            let name = if seen[c.name.as_str()] > 1 {
                format!("{} (line {})", c.name, c.line)
            } else {
                c.name.clone()
            };
            (*c, name)
        })
        .collect()
}

fn testcase(out: &mut String, report: &RunReport, c: &ScenarioResult, name: &str) {
    let classname = format!(
        "conform.{}.{}",
        c.protocol,
        // Bundled files keep the class names they had: `sockets_tcp`.
        c.file
            .strip_prefix("features/")
            .unwrap_or(&c.file)
            .trim_end_matches(".feature")
            .replace(['/', '.'], "_")
    );
    let _ = writeln!(
        out,
        "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\" file=\"{}\" line=\"{}\">",
        attr(name),
        attr(&classname),
        c.seconds,
        attr(&c.file),
        c.line
    );
    let _ = writeln!(out, "      <properties>");
    property(out, 8, "id", &c.id);
    property(out, 8, "target", &report.target);
    property(out, 8, "protocol", &c.protocol);
    property(
        out,
        8,
        "verdict",
        &format!("{:?}", c.outcome).to_lowercase(),
    );
    property(
        out,
        8,
        "level",
        if c.level.is_empty() { "MUST" } else { &c.level },
    );
    if !c.requirement.is_empty() {
        property(out, 8, "requirement", &c.requirement);
    }
    for r in &c.rfc {
        property(out, 8, "rfc", &format!("RFC {r}"));
    }
    for s in &c.section {
        property(out, 8, "section", s);
    }
    for l in &c.links {
        property(out, 8, "link", l);
    }
    property(
        out,
        8,
        "tags",
        &c.tags
            .iter()
            .map(|t| format!("@{t}"))
            .collect::<Vec<_>>()
            .join(" "),
    );
    if let Some(p) = c.points {
        property(out, 8, "points", &p.to_string());
    }
    if let Some(p) = c.earned {
        property(out, 8, "earned", &p.to_string());
    }
    if let Some(d) = &c.deviation {
        property(out, 8, "deviation", d);
    }
    let _ = writeln!(out, "      </properties>");
    let declared = c.deviation.as_deref().unwrap_or_default();
    if c.outcome == Outcome::Deviation {
        let _ = writeln!(
            out,
            "      <skipped message=\"{}\" type=\"declared-deviation\">{}</skipped>",
            attr(&format!("declared deviation: {declared}")),
            text(&super::console::failure_block(c))
        );
    } else if c.outcome == Outcome::Fixed && report.ratchet {
        let _ = writeln!(
            out,
            "      <failure message=\"{}\" type=\"fixed-deviation\">{}</failure>",
            attr(&format!(
                "declared as a deviation but it holds now; remove it from the deviations file ({declared})"
            )),
            text(&super::console::failure_block(c))
        );
    } else if let Some(f) = &c.failure {
        let message = f.message.lines().next().unwrap_or_default();
        let body = super::console::failure_block(c);
        let tag = match c.outcome {
            Outcome::Failed => Some(("failure", "conformance")),
            // A refusal for a connection limit: the run's configuration.
            Outcome::Error if f.is_configuration() => Some(("error", "configuration")),
            Outcome::Error => Some(("error", "harness")),
            Outcome::Skipped => Some(("skipped", "not-applicable")),
            _ => None,
        };
        if let Some((tag, kind)) = tag {
            let _ = writeln!(
                out,
                "      <{tag} message=\"{}\" type=\"{kind}\">{}</{tag}>",
                attr(message),
                text(&body)
            );
        }
    }
    let mut so = String::new();
    if matches!(c.outcome, Outcome::Warning | Outcome::Info) {
        let _ = writeln!(
            so,
            "{}: {}\n",
            c.outcome.label(),
            super::console::failure_block(c)
        );
    }
    so.push_str(&c.transcript_text);
    if !so.is_empty() {
        let _ = writeln!(out, "      <system-out>{}</system-out>", text(&so));
    }
    let _ = writeln!(out, "    </testcase>");
}

fn property(out: &mut String, indent: usize, name: &str, value: &str) {
    let _ = writeln!(
        out,
        "{:indent$}<property name=\"{}\" value=\"{}\"/>",
        "",
        attr(name),
        attr(value)
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_and_drops_forbidden_characters() {
        assert_eq!(super::attr("a<b>&\"\u{1}\n"), "a&lt;b&gt;&amp;&quot;?&#10;");
        assert_eq!(super::text("x\u{0}<"), "x?&lt;");
    }
}
