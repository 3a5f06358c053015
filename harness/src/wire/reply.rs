//! The reply-reader seam. Each line protocol provides a [`ReplyReader`] that
//! knows how a command is framed and where one reply ends (SMTP and FTP
//! multi-line codes, POP3 `+OK`/`-ERR` and dot-terminated data, IMAP tagged
//! completions and literals, HTTP framing). The generic steps ("the client
//! sends", "the server replies 250") work through it.

use futures::future::BoxFuture;

use super::{Conn, Line, WireError};

/// One complete reply, as a reader understood it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    /// What the generic steps compare: `250`, `+OK`, `-ERR`, `OK`, `200`…
    pub status: String,
    /// The reply's lines without terminators, in order.
    pub lines: Vec<Line>,
    /// Protocol-specific payload (a POP3 multi-line body, an HTTP body…).
    pub body: Vec<u8>,
}

impl Reply {
    /// All lines joined with `\n`, lossily decoded.
    pub fn text(&self) -> String {
        self.lines
            .iter()
            .map(Line::text)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The first digit of a numeric status (`5` for `550`).
    pub fn class(&self) -> Option<char> {
        let c = self.status.chars().next()?;
        c.is_ascii_digit().then_some(c)
    }
}

pub trait ReplyReader: Send + Sync {
    /// The protocol's name, for messages.
    fn protocol(&self) -> &'static str;

    /// The bytes that carry one command line (usually the text plus CRLF).
    fn frame(&self, command: &[u8]) -> Vec<u8> {
        let mut v = command.to_vec();
        v.extend_from_slice(b"\r\n");
        v
    }

    /// Reads one complete reply.
    fn read<'a>(&'a self, conn: &'a mut Conn) -> BoxFuture<'a, Result<Reply, WireError>>;
}

/// The simplest line protocol: one reply is one CRLF line, and its status is
/// the first word. Suits ad-hoc text protocols; real protocols bring their own.
pub struct LineReader {
    pub max_line: usize,
}

impl ReplyReader for LineReader {
    fn protocol(&self) -> &'static str {
        "line"
    }

    fn read<'a>(&'a self, conn: &'a mut Conn) -> BoxFuture<'a, Result<Reply, WireError>> {
        Box::pin(async move {
            let line = conn.read_line(self.max_line, "a reply line").await?;
            let status = line
                .text()
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            Ok(Reply {
                status,
                lines: vec![line],
                body: vec![],
            })
        })
    }
}
