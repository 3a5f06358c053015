//! Why a step did not pass: a conformance failure (the target broke a rule),
//! a harness error (could not reach the target, a broken profile, a bug), or a
//! skip (the target does not announce the feature a scenario needs).

use crate::target::ProfileError;
use crate::wire::WireError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureKind {
    Conformance,
    Harness,
    Skip,
    /// The server refused a connection for a limit: the run's
    /// configuration (`max_connections`), reported as an error; exit 2.
    Limit,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
    pub expected: Option<String>,
    pub got: Option<String>,
}

pub type StepResult = Result<(), Failure>;

impl Failure {
    pub fn conformance(message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Conformance,
            message: message.into(),
            expected: None,
            got: None,
        }
    }

    pub fn harness(message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Harness,
            message: message.into(),
            expected: None,
            got: None,
        }
    }

    /// Whether the scenario ended because its server could not be reached
    /// or sent nothing in time: a connect that failed, a wait on which
    /// nothing arrived, a step that did not complete (the messages of
    /// [`WireError`] and [`Failure::stalled`]), or refused for what looked
    /// like a connection limit. A strike against the
    /// section (`crate::target::health`).
    pub fn is_silence(&self) -> bool {
        let m = &self.message;
        // A refused connection or a missing greeting while other
        // connections were open looks like a limit (steps::limits) and is
        // also what a server going down does: the re-check tells them apart.
        self.kind == FailureKind::Limit
            || (self.kind == FailureKind::Harness && m.starts_with(UNREACHABLE))
            || m.contains("nothing arrived within")
            || m.starts_with("the step did not complete within")
    }

    /// Whether this is a configuration problem of the run (exit 2).
    pub fn is_configuration(&self) -> bool {
        self.kind == FailureKind::Limit
    }

    pub fn skip(reason: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Skip,
            message: reason.into(),
            expected: None,
            got: None,
        }
    }

    pub fn expected(mut self, what: impl Into<String>) -> Self {
        self.expected = Some(what.into());
        self
    }

    /// Sets what was expected, unless this is a limit refusal (whose
    /// message says it all).
    pub fn or_expected(self, what: impl Into<String>) -> Self {
        if self.is_configuration() {
            self
        } else {
            self.expected(what)
        }
    }

    pub fn got(mut self, what: impl Into<String>) -> Self {
        self.got = Some(what.into());
        self
    }

    /// A step that does not complete within the step timeout.
    pub fn stalled(limit: std::time::Duration) -> Self {
        Self::conformance(format!(
            "the step did not complete within {} (the step timeout; raise it with --step-timeout or @timeout(…))",
            humantime::format_duration(limit)
        ))
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        if let Some(e) = &self.expected {
            write!(f, "\n  expected: {e}")?;
        }
        if let Some(g) = &self.got {
            write!(f, "\n  got:      {g}")?;
        }
        Ok(())
    }
}

/// How a failure to connect begins.
const UNREACHABLE: &str = "cannot reach the target: ";

impl From<WireError> for Failure {
    fn from(e: WireError) -> Self {
        if e.is_connectivity() {
            Failure::harness(format!("{UNREACHABLE}{e}"))
        } else {
            Failure::conformance(e.to_string())
        }
    }
}

impl From<ProfileError> for Failure {
    fn from(e: ProfileError) -> Self {
        Failure::harness(e.0)
    }
}
