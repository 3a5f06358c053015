//! What is under test: the target profile, and the bundled reference servers
//! started in-process when no profile is given.

pub mod budget;
pub mod bundled;
pub mod health;
pub mod preflight;
pub mod profile;

pub use profile::{Profile, ProfileError};
