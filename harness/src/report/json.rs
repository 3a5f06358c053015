//! The whole run as JSON: every scenario with its verdict, failure, tags and
//! transcript entries. Stable field names; scripts may depend on them.

use super::RunReport;

pub fn render(report: &RunReport) -> String {
    serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
