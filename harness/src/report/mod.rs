//! What a run produces: transcripts, scenario results, and the JUnit, JSON and
//! console reports made from them.

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
pub mod transcript;

pub use context::Context;
pub use result::{Counts, Outcome, RunReport, ScenarioResult};
pub use transcript::Transcript;
