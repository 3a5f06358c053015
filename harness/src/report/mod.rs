//! What a run produces: scenario results, and the console, JUnit, JSON and
//! HTML reports made from them.

pub mod compare;
pub mod console;
pub mod context;
pub mod coverage;
pub mod deviations;
pub mod html;
pub mod json;
pub mod junit;
pub mod merge;
pub mod result;

pub use context::Context;
pub use result::{Counts, Outcome, RunReport, ScenarioResult};

/// How the error of a scenario that was not run begins (the runner writes
/// it; the console groups those scenarios by the reason after it).
pub const NOT_RUN: &str = "not run: ";
