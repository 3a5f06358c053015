use std::time::Duration;

use crate::report::transcript::escape_short;

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
    /// The bytes that came do not follow the protocol's syntax.
    Malformed { what: String, got: Vec<u8> },
    /// Connection refused, reset, or another I/O error.
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

    /// True when the problem is reaching the target at all (connect failed),
    /// as opposed to how the target behaved once reached.
    pub fn is_connectivity(&self) -> bool {
        matches!(self, WireError::Io { what, .. } if what.starts_with("connect"))
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
            WireError::Malformed { what, got } => {
                write!(f, "malformed {what}: \"{}\"", escape_short(got, 200))
            }
            WireError::Io { what, error } => write!(f, "{what}: {error}"),
            WireError::Tls { what, .. } => f.write_str(what),
        }
    }
}

impl std::error::Error for WireError {}
