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
    /// Nothing came from the server in time: it could not be reached, a
    /// wait got nothing, the step did not complete (set where the failure
    /// is made, from [`WireError::is_silence`] or [`Failure::stalled`]).
    #[serde(skip)]
    pub silence: bool,
}

pub type StepResult = Result<(), Failure>;

impl Failure {
    pub fn conformance(message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Conformance,
            message: message.into(),
            expected: None,
            got: None,
            silence: false,
        }
    }

    pub fn harness(message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Harness,
            message: message.into(),
            expected: None,
            got: None,
            silence: false,
        }
    }

    /// Whether the scenario ended because its server could not be reached
    /// or sent nothing in time (a connect that failed, a wait on which
    /// nothing arrived, a step that did not complete), or refused for what
    /// looked like a connection limit: a strike against the section
    /// (`crate::target::health`). A refused connection or a missing
    /// greeting while other connections were open looks like a limit
    /// (steps::limits) and is also what a server going down does: the
    /// re-check tells them apart.
    pub fn is_silence(&self) -> bool {
        self.kind == FailureKind::Limit || self.silence
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
            silence: false,
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
        let mut f = Self::conformance(format!(
            "the step did not complete within {} (the step timeout; raise it with --step-timeout or @timeout(…))",
            humantime::format_duration(limit)
        ));
        f.silence = true;
        f
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
        let mut f = if e.is_connectivity() {
            Failure::harness(format!("{UNREACHABLE}{e}"))
        } else if let WireError::Tls { trust: true, .. } = e {
            // Which CA to trust is the profile's to say.
            Failure::harness(e.to_string())
        } else {
            Failure::conformance(e.to_string())
        };
        f.silence = e.is_silence();
        f
    }
}

impl From<ProfileError> for Failure {
    fn from(e: ProfileError) -> Self {
        Failure::harness(e.0)
    }
}
