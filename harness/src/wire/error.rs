use std::time::Duration;

use crate::notation::escape_short;

/// What went wrong on the wire, with what had arrived so far.
#[derive(Debug)]
pub enum WireError {
    /// Nothing (or not enough) arrived before the deadline.
    Timeout {
        waited: Duration,
        what: String,
        partial: Vec<u8>,
    },
    /// The peer closed the connection before the expected data was complete.
    Closed { what: String, partial: Vec<u8> },
    /// More bytes than the limit arrived without the expected delimiter.
    TooLong { what: String, limit: usize },
    /// More lines, responses or fields than the limit arrived without the
    /// end of the reply (`of` names what was counted: "lines").
    TooMany {
        what: String,
        limit: usize,
        of: &'static str,
    },
    /// The scenario has received more than it may hold: its own share and
    /// what was left of the run's pool (see [`crate::transcript::memory`]).
    OverBudget { what: String, limit: usize },
    /// The bytes that came do not follow the protocol's syntax.
    Malformed { what: String, got: Vec<u8> },
    /// The connection could not be made (refused, unreachable): the target
    /// cannot be reached at all.
    Connect {
        addr: std::net::SocketAddr,
        error: std::io::Error,
    },
    /// Reset, or another I/O error on a connection or socket.
    Io { what: String, error: std::io::Error },
    /// The TLS handshake failed; `trust` when it is the certificate (the
    /// profile's `ca_file` does not vouch for it).
    Tls { what: String, trust: bool },
}

impl WireError {
    pub fn io(what: impl Into<String>, error: std::io::Error) -> Self {
        WireError::Io {
            what: what.into(),
            error,
        }
    }

    pub fn malformed(what: impl Into<String>, got: &[u8]) -> Self {
        WireError::Malformed {
            what: what.into(),
            got: got.to_vec(),
        }
    }

    /// Whether a limit on the peer's data cut the read off (too long, too
    /// many lines, the memory bound).
    pub fn is_over_limit(&self) -> bool {
        matches!(
            self,
            WireError::TooLong { .. } | WireError::TooMany { .. } | WireError::OverBudget { .. }
        )
    }

    /// True when the problem is reaching the target at all (connect failed),
    /// as opposed to how the target behaved once reached.
    pub fn is_connectivity(&self) -> bool {
        matches!(self, WireError::Connect { .. })
    }

    /// Whether nothing came from the peer in time: the target was not
    /// reached, or sent nothing before the deadline (a strike against its
    /// health, `crate::target::health`).
    pub fn is_silence(&self) -> bool {
        match self {
            WireError::Connect { .. } => true,
            WireError::Timeout { partial, .. } => partial.is_empty(),
            _ => false,
        }
    }
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Timeout {
                waited,
                what,
                partial,
            } if partial.is_empty() => {
                write!(
                    f,
                    "nothing arrived within {} while waiting for {what}",
                    humantime::format_duration(*waited)
                )
            }
            WireError::Timeout {
                waited,
                what,
                partial,
            } => write!(
                f,
                "{what} was incomplete after {}: got only \"{}\"",
                humantime::format_duration(*waited),
                escape_short(partial, 200)
            ),
            WireError::Closed { what, partial } if partial.is_empty() => {
                write!(
                    f,
                    "the server closed the connection while the client waited for {what}"
                )
            }
            WireError::Closed { what, partial } => write!(
                f,
                "the server closed the connection in the middle of {what}: got only \"{}\"",
                escape_short(partial, 200)
            ),
            WireError::TooLong { what, limit } => {
                write!(f, "{what} exceeded {limit} bytes without ending")
            }
            WireError::TooMany { what, limit, of } => {
                write!(f, "{what} exceeded {limit} {of} without ending")
            }
            WireError::OverBudget { what, limit } => write!(
                f,
                "{what} was cut off at the run's memory bound: the server sent more than this scenario may hold ({} KiB of its own, and the scenarios running at once share {} MiB beyond theirs, all taken)",
                crate::transcript::memory::SCENARIO_FREE >> 10,
                limit >> 20
            ),
            WireError::Malformed { what, got } => {
                write!(f, "malformed {what}: \"{}\"", escape_short(got, 200))
            }
            WireError::Connect { addr, error } => write!(f, "connect to {addr}: {error}"),
            WireError::Io { what, error } => write!(f, "{what}: {error}"),
            WireError::Tls { what, .. } => f.write_str(what),
        }
    }
}

impl std::error::Error for WireError {}
