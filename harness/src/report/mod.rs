//! What a run produces: transcripts, scenario results, and the JUnit, JSON and
//! console reports made from them.

pub mod console;
pub mod deviations;
pub mod json;
pub mod junit;
pub mod result;
pub mod transcript;

pub use result::{Counts, Outcome, RunReport, ScenarioResult};
pub use transcript::Transcript;
