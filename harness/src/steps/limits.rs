//! Refusals for a connection limit, recognised as what they are. A stock
//! server over its limit greets with 421 (SMTP, FTP), `* BYE` (IMAP) or a
//! POP3 `-ERR [IN-USE]`/`[SYS/TEMP]`, refuses LOGIN with `NO [LIMIT]`
//! (dovecot), sends no greeting, or refuses or resets the connection. Such a
//! scenario is not the server's conformance failure: it is a configuration
//! problem of the run (`[section] max_connections`), reported as an error,
//! and the run exits 2.

use crate::notation::escape_short;
use crate::protocol::Protocol;
use crate::steps::{Failure, FailureKind};
use crate::target::budget::{Ledger, KEY};
use crate::wire::{Reply, WireError};

/// Whether `reply`, on a session of `protocol` (the reader's name), is a
/// refusal for a limit. `first`: it is the first reply on the session (the
/// greeting); `sent`: the command it answers.
pub fn is_refusal(protocol: &str, first: bool, sent: &[u8], reply: &Reply) -> bool {
    let text = reply.text();
    let upper = text.to_ascii_uppercase();
    let sent = String::from_utf8_lossy(sent).to_ascii_uppercase();
    match protocol {
        "SMTP" | "FTP" => first && reply.status == "421",
        "IMAP" => {
            (first && upper.starts_with("* BYE"))
                || ((sent.contains(" LOGIN ") || sent.contains(" AUTHENTICATE "))
                    && upper.contains("[LIMIT]"))
        }
        "POP3" => {
            first
                && reply.status == "-ERR"
                && (upper.contains("[IN-USE]") || upper.contains("[SYS/TEMP]"))
        }
        _ => false,
    }
}

/// The failure for a refusal: what came, and the key to set.
pub fn refused(ledger: &Ledger, section: Option<Protocol>, what: &str) -> Failure {
    let key = match section {
        Some(p) => {
            let now = ledger
                .limit(p)
                .map(|n| format!(" (now {n})"))
                .unwrap_or_default();
            format!("set [{p}] {KEY}{now} lower, or raise the server's own limit")
        }
        None => format!("set {KEY} lower in the profile"),
    };
    Failure {
        kind: FailureKind::Limit,
        message: format!(
            "the server refused a connection for a limit: {what}; this is the run's configuration, not a conformance failure: {key}"
        ),
        expected: None,
        got: None,
        silence: false,
    }
}

/// A refusal reply.
pub fn refused_reply(ledger: &Ledger, section: Option<Protocol>, reply: &Reply) -> Failure {
    refused(
        ledger,
        section,
        &format!("\"{}\"", escape_short(reply.text().as_bytes(), 200)),
    )
}

/// Whether a failure to get the greeting, or to connect, is the server
/// shedding load: it happened while other connections to the same server
/// were open (`open` counts this one too).
pub fn under_load(e: &WireError, open: u32) -> Option<String> {
    if open < 2 {
        return None;
    }
    let others = open - 1;
    match e {
        WireError::Timeout { waited, .. } => Some(format!(
            "no greeting within {} while {others} other connection(s) to it were open",
            humantime::format_duration(*waited)
        )),
        WireError::Closed { .. } => Some(format!(
            "it closed the connection before its greeting while {others} other connection(s) to it were open"
        )),
        WireError::Io { error, .. } | WireError::Connect { error, .. }
            if matches!(
                error.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
            ) =>
        {
            Some(format!(
                "{error} while {others} other connection(s) to it were open"
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Line, Terminator};

    fn reply(status: &str, text: &str) -> Reply {
        Reply {
            status: status.into(),
            lines: vec![Line {
                bytes: text.as_bytes().to_vec(),
                end: Terminator::CrLf,
            }],
            body: vec![],
        }
    }

    #[test]
    fn recognises_refusals() {
        let r421 = reply("421", "421 Too many connections");
        assert!(is_refusal("SMTP", true, b"", &r421));
        assert!(!is_refusal("SMTP", false, b"NOOP", &r421));
        assert!(is_refusal("FTP", true, b"", &r421));
        let bye = reply("BYE", "* BYE Too many connections");
        assert!(is_refusal("IMAP", true, b"", &bye));
        let limit = reply(
            "NO",
            "c1 NO [LIMIT] Maximum number of connections from user+IP exceeded",
        );
        assert!(is_refusal("IMAP", false, b"c1 LOGIN \"u\" \"p\"", &limit));
        assert!(!is_refusal("IMAP", false, b"c1 SELECT x", &limit));
        let inuse = reply("-ERR", "-ERR [IN-USE] too many sessions");
        assert!(is_refusal("POP3", true, b"", &inuse));
        assert!(!is_refusal("POP3", false, b"PASS x", &inuse));
        assert!(!is_refusal("HTTP", true, b"", &r421));
    }

    #[test]
    fn load_needs_other_connections() {
        let t = WireError::Timeout {
            waited: std::time::Duration::from_secs(5),
            what: "x".into(),
            partial: vec![],
        };
        assert!(under_load(&t, 1).is_none());
        assert!(under_load(&t, 5).unwrap().contains("4 other"));
        let m = WireError::malformed("x", b"y");
        assert!(under_load(&m, 5).is_none());
    }
}
