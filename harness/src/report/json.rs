//! The whole run as JSON: every scenario with its verdict, failure, tags and
//! transcript entries, and a `summary` counting each verdict apart. Stable
//! field names; scripts may depend on them.

use serde::Serialize;

use super::{Counts, RunReport};

#[derive(Serialize)]
struct WithSummary<'a> {
    #[serde(flatten)]
    report: &'a RunReport,
    /// `passed`, `failed`, `errors`, `warnings`, `info`, `skipped`.
    summary: Counts,
}

pub fn render(report: &RunReport) -> String {
    let doc = WithSummary {
        report,
        summary: report.counts(),
    };
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
