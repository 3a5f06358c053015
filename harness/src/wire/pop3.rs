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

use super::codec::{line_at, Decoded, Decoder, Malformed};
use super::{Conn, Reply, ReplyReader, Terminator, WireError};

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

/// One POP3 reply (RFC 1939 §3), decoded without I/O: a status line `+OK`
/// or `-ERR` ending in CRLF, and after `+OK` to a command that has one
/// (`multi`), data lines up to a lone "." with CRLF. `lines` keeps the lines
/// exactly as sent (so a step can see whether the server byte-stuffed);
/// `body` gets the data with the stuffing undone when `unstuff` asks for
/// it, as sent otherwise. The fuzzer reads replies through it too.
pub struct ReplyDecoder {
    pub multi: bool,
    pub unstuff: bool,
    pub max_status: usize,
    pub max_data_line: usize,
    pub max_data: usize,
    pos: usize,
    reply: Option<Reply>,
}

impl ReplyDecoder {
    /// The suites' decoder: the reply to a command that is `multi`-line
    /// after +OK, with the stuffing undone in `body`.
    pub fn new(multi: bool) -> ReplyDecoder {
        ReplyDecoder {
            multi,
            unstuff: true,
            max_status: MAX_STATUS,
            max_data_line: MAX_DATA_LINE,
            max_data: MAX_DATA,
            pos: 0,
            reply: None,
        }
    }

    fn fail(&mut self, m: Malformed) -> Decoded<Reply> {
        self.pos = 0;
        self.reply = None;
        Decoded::Malformed(m)
    }

    fn done(&mut self, used: usize) -> Decoded<Reply> {
        self.pos = 0;
        match self.reply.take() {
            Some(r) => Decoded::Complete(r, used),
            None => Decoded::Incomplete,
        }
    }
}

impl Decoder for ReplyDecoder {
    type Item = Reply;

    fn decode(&mut self, buf: &[u8]) -> Decoded<Reply> {
        if self.reply.is_none() {
            let (first, next) = match line_at(buf, 0, self.max_status, "a POP3 status line") {
                Ok(Some(l)) => l,
                Ok(None) => return Decoded::Incomplete,
                Err(m) => return self.fail(m),
            };
            let Some(status) = status_of(&first.bytes) else {
                return self.fail(Malformed::syntax(
                    "a POP3 status line starting with \"+OK\" or \"-ERR\" (RFC 1939 §3)",
                    &first.bytes,
                ));
            };
            if first.end != Terminator::CrLf {
                return self.fail(Malformed::syntax(
                    "a POP3 status line ending in CRLF, not a bare LF (RFC 1939 §3)",
                    &first.bytes,
                ));
            }
            self.reply = Some(Reply {
                status: status.to_string(),
                lines: vec![first],
                body: vec![],
            });
            self.pos = next;
            if !(self.multi && status == "+OK") {
                return self.done(next);
            }
        }
        loop {
            let (line, next) = match line_at(
                buf,
                self.pos,
                self.max_data_line,
                "multi-line POP3 data ending with \".\"",
            ) {
                Ok(Some(l)) => l,
                Ok(None) => return Decoded::Incomplete,
                Err(m) => return self.fail(m),
            };
            if line.bytes == b"." {
                if line.end != Terminator::CrLf {
                    return self.fail(Malformed::syntax(
                        "the terminating \".\" followed by CRLF, not a bare LF (RFC 1939 §3)",
                        b".\n",
                    ));
                }
                return self.done(next);
            }
            // Byte-stuffing: a leading "." was doubled by the server.
            let data = match line.bytes.first() {
                Some(b'.') if self.unstuff => &line.bytes[1..],
                _ => &line.bytes[..],
            };
            let Some(reply) = self.reply.as_mut() else {
                return Decoded::Incomplete;
            };
            reply.body.extend_from_slice(data);
            reply.body.extend_from_slice(match line.end {
                Terminator::CrLf => b"\r\n",
                Terminator::Lf => b"\n",
            });
            let over = reply.body.len() > self.max_data;
            if !over {
                reply.lines.push(line);
                self.pos = next;
                continue;
            }
            {
                let limit = self.max_data;
                return self.fail(Malformed::TooLong {
                    what: "multi-line POP3 data".into(),
                    limit,
                });
            }
        }
    }

    fn mark(&self) -> usize {
        self.pos
    }

    fn what(&self) -> String {
        match self.reply {
            None => "a POP3 status line".into(),
            Some(_) => "multi-line POP3 data ending with \".\"".into(),
        }
    }
}

pub async fn read_reply(conn: &mut Conn, multi: bool) -> Result<Reply, WireError> {
    conn.read_decoded(&mut ReplyDecoder::new(multi)).await
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
    fn decodes_replies_however_split() {
        use crate::wire::codec::same_when_split;
        let retr = b"+OK 2 lines\r\nSubject: x\r\n..dot\r\n.\r\n+OK next";
        match same_when_split(|| ReplyDecoder::new(true), retr) {
            Decoded::Complete(r, used) => {
                assert_eq!((r.status.as_str(), used), ("+OK", retr.len() - 8));
                assert_eq!(r.body, b"Subject: x\r\n.dot\r\n");
                assert_eq!(r.lines[2].bytes, b"..dot", "lines stay as sent");
            }
            other => panic!("{other:?}"),
        }
        let raw = || ReplyDecoder {
            unstuff: false,
            ..ReplyDecoder::new(true)
        };
        assert!(matches!(
            same_when_split(raw, retr),
            Decoded::Complete(ref r, _) if r.body == b"Subject: x\r\n..dot\r\n"
        ));
        // -ERR, and a reply that is not multi-line, end with the status line.
        assert!(matches!(
            same_when_split(|| ReplyDecoder::new(true), b"-ERR no\r\n.\r\n"),
            Decoded::Complete(ref r, 9) if r.status == "-ERR"
        ));
        assert!(matches!(
            same_when_split(|| ReplyDecoder::new(false), b"+OK\r\n"),
            Decoded::Complete(_, 5)
        ));
        assert_eq!(
            same_when_split(|| ReplyDecoder::new(true), b"+OK\r\ndata\r\n"),
            Decoded::Incomplete
        );
    }

    #[test]
    fn malformed_replies_say_which_rule() {
        use crate::wire::codec::same_when_split;
        for bad in [&b"OK\r\n"[..], b"+OK\n", b"+OK\r\nx\r\n.\n"] {
            match same_when_split(|| ReplyDecoder::new(true), bad) {
                Decoded::Malformed(Malformed::Syntax { expected, .. }) => {
                    assert!(expected.contains("RFC 1939 §3"), "{expected}")
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn reply_limits_hold() {
        use crate::wire::codec::same_when_split;
        let small = || ReplyDecoder {
            max_data: 10,
            max_data_line: 8,
            ..ReplyDecoder::new(true)
        };
        assert!(matches!(
            same_when_split(small, b"+OK\r\n123456789\r\n.\r\n"),
            Decoded::Malformed(Malformed::TooLong { limit: 8, .. })
        ));
        assert!(matches!(
            same_when_split(small, b"+OK\r\n1234\r\n1234\r\n.\r\n"),
            Decoded::Malformed(Malformed::TooLong { limit: 10, .. })
        ));
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
