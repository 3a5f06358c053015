//! POP3 replies (RFC 1939 §3): a status line starting with `+OK` or `-ERR`;
//! after `+OK` to LIST, UIDL (without argument), RETR, TOP and CAPA (RFC
//! 2449), multi-line data ending with a line holding only ".", where lines
//! that start with "." carry one extra "." (byte-stuffing).
//!
//! Whether a reply is multi-line depends on the command, so [`Pop3Reader`]
//! remembers what each framed command expects, in order (pipelining).
//!
//! A multi-line reply's `body` is the data with the stuffing undone; its
//! `lines` are the status line and the data lines exactly as sent.

use std::collections::VecDeque;
use std::sync::Mutex;

use futures::future::BoxFuture;

use super::{Conn, Line, Reply, ReplyReader, Terminator, WireError};

/// RFC 2449 §4: a status line is at most 512 octets; allow slack.
pub const MAX_STATUS: usize = 4096;
/// A data line of a message can be long (RFC 5322 allows 998 octets; real
/// mail sometimes exceeds it).
pub const MAX_DATA_LINE: usize = 256 * 1024;
/// Most bytes of multi-line data one reply may carry.
pub const MAX_DATA: usize = 32 * 1024 * 1024;

#[derive(Default)]
pub struct Pop3Reader {
    /// For each command sent and not yet answered: is a multi-line reply due?
    pending: Mutex<VecDeque<bool>>,
}

impl Pop3Reader {
    pub fn new() -> Self {
        Self::default()
    }
}

/// Commands whose +OK reply carries multi-line data.
pub fn is_multiline(command: &[u8]) -> bool {
    let text = String::from_utf8_lossy(command);
    let mut words = text.split(' ').filter(|w| !w.is_empty());
    let verb = words.next().unwrap_or_default().to_ascii_uppercase();
    let args = words.count();
    match verb.as_str() {
        "RETR" | "TOP" | "CAPA" => true,
        "LIST" | "UIDL" => args == 0,
        _ => false,
    }
}

impl ReplyReader for Pop3Reader {
    fn protocol(&self) -> &'static str {
        "POP3"
    }

    fn frame(&self, command: &[u8]) -> Vec<u8> {
        if let Ok(mut q) = self.pending.lock() {
            q.push_back(is_multiline(command));
        }
        let mut v = command.to_vec();
        v.extend_from_slice(b"\r\n");
        v
    }

    fn read<'a>(&'a self, conn: &'a mut Conn) -> BoxFuture<'a, Result<Reply, WireError>> {
        // A reply with nothing pending is the greeting: one line.
        let multi = self
            .pending
            .lock()
            .ok()
            .and_then(|mut q| q.pop_front())
            .unwrap_or(false);
        Box::pin(read_reply(conn, multi))
    }
}

pub async fn read_reply(conn: &mut Conn, multi: bool) -> Result<Reply, WireError> {
    let first = conn.read_line(MAX_STATUS, "a POP3 status line").await?;
    let status = status_of(&first.bytes).ok_or_else(|| {
        WireError::malformed(
            "a POP3 status line starting with \"+OK\" or \"-ERR\" (RFC 1939 §3)",
            &first.bytes,
        )
    })?;
    if first.end != Terminator::CrLf {
        return Err(WireError::malformed(
            "a POP3 status line ending in CRLF (RFC 1939 §3)",
            &first.bytes,
        ));
    }
    let mut reply = Reply {
        status: status.to_string(),
        lines: vec![first],
        body: vec![],
    };
    if !(multi && status == "+OK") {
        return Ok(reply);
    }
    loop {
        let line = conn
            .read_line(MAX_DATA_LINE, "multi-line POP3 data ending with \".\"")
            .await?;
        if line.bytes == b"." {
            if line.end != Terminator::CrLf {
                return Err(WireError::malformed(
                    "the terminating \".\" followed by CRLF (RFC 1939 §3)",
                    b".\n",
                ));
            }
            return Ok(reply);
        }
        // Undo byte-stuffing in the body: a leading "." was doubled by the
        // server. `lines` keeps the lines as they came on the wire, so a
        // step can tell whether the server stuffed them at all.
        let data = match line.bytes.first() {
            Some(b'.') => &line.bytes[1..],
            _ => &line.bytes[..],
        };
        reply.body.extend_from_slice(data);
        reply.body.extend_from_slice(match line.end {
            Terminator::CrLf => b"\r\n",
            Terminator::Lf => b"\n",
        });
        if reply.body.len() > MAX_DATA {
            return Err(WireError::TooLong {
                what: "multi-line POP3 data".into(),
                limit: MAX_DATA,
            });
        }
        reply.lines.push(Line {
            bytes: line.bytes,
            end: line.end,
        });
    }
}

/// `+OK` or `-ERR`, followed by a space or the end of the line.
fn status_of(line: &[u8]) -> Option<&'static str> {
    for s in ["+OK", "-ERR"] {
        if let Some(rest) = line.strip_prefix(s.as_bytes()) {
            if rest.is_empty() || rest[0] == b' ' {
                return Some(s);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_which_commands_are_multiline() {
        assert!(is_multiline(b"list"));
        assert!(!is_multiline(b"LIST 1"));
        assert!(is_multiline(b"UIDL"));
        assert!(!is_multiline(b"UIDL 2"));
        assert!(is_multiline(b"RETR 1"));
        assert!(is_multiline(b"top 1 0"));
        assert!(is_multiline(b"CAPA"));
        assert!(!is_multiline(b"STAT"));
        assert!(!is_multiline(b"DELE 1"));
    }

    #[test]
    fn status_needs_a_word_boundary() {
        assert_eq!(status_of(b"+OK"), Some("+OK"));
        assert_eq!(status_of(b"+OK 2 320"), Some("+OK"));
        assert_eq!(status_of(b"-ERR no"), Some("-ERR"));
        assert_eq!(status_of(b"+OKAY"), None);
        assert_eq!(status_of(b"OK"), None);
    }
}
