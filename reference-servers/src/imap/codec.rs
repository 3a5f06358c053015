//! Reading commands off the wire (RFC 3501 §2.2, §4.3; LITERAL+ RFC 7888).
//! A command is a line; when it ends in a literal announcement `{n}` the
//! server sends a continuation request, reads exactly `n` bytes, then the
//! rest of the command, which may announce further literals. `{n+}` is a
//! non-synchronising literal: the data follows without a continuation.
//!
//! The command comes out as one byte string in which each literal is kept as
//! `{n}` CRLF and its `n` bytes, which is what the argument parser reads.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

use crate::tls::{self, Buffered, Identity, Stream};

/// Bounds on one command.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// One line, literals excluded (RFC 7162 §4 asks for at least 8192).
    pub line: usize,
    /// One literal (the size of an APPENDed message).
    pub literal: usize,
    /// How long the server waits for the client.
    pub idle: Duration,
}

pub enum Read {
    Command(Vec<u8>),
    /// The line or a literal exceeded a limit; the rest of the command was
    /// discarded (for a synchronising literal the data never comes).
    TooLong(Vec<u8>),
    /// The client closed, stalled past the idle limit, or the line broke.
    Gone,
}

/// A session's connection (plain TCP, or TLS after STARTTLS), read
/// through a buffer.
pub struct Wire {
    reader: Stream,
    pub limits: Limits,
}

/// The longest a TLS handshake may take.
const HANDSHAKE: Duration = Duration::from_secs(30);

impl Wire {
    pub fn new(stream: tokio::net::TcpStream, limits: Limits) -> Self {
        Wire {
            reader: tls::plain(stream),
            limits,
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) -> bool {
        // A TLS stream holds what is written until flushed.
        let write = async {
            self.reader.write_all(bytes).await?;
            self.reader.flush().await
        };
        tokio::time::timeout(self.limits.idle, write)
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// The server side of the TLS handshake right after STARTTLS's tagged
    /// OK (RFC 9051 §6.2.1); what the client sent in plaintext after the
    /// STARTTLS line is discarded (`Buffered::Discard`), so it is never
    /// taken for a command inside TLS. False when the handshake failed.
    pub async fn start_tls(&mut self, identity: &Identity, buffered: Buffered) -> bool {
        let plain = std::mem::replace(&mut self.reader, tls::closed());
        let timeout = HANDSHAKE.min(self.limits.idle);
        match tls::upgrade(plain, identity, timeout, buffered).await {
            Some(stream) => {
                self.reader = stream;
                true
            }
            None => false,
        }
    }

    /// Reads one line of at most `limits.line` bytes, without its CRLF.
    /// `Ok(Err(start))` when it was too long: its first `limits.line` bytes
    /// (the tag is there); the rest of the line is discarded.
    pub async fn line(&mut self) -> Result<Result<Vec<u8>, Vec<u8>>, ()> {
        let mut out = Vec::new();
        let limit = self.limits.line;
        let read = async {
            let mut too_long = false;
            loop {
                let buf = self.reader.fill_buf().await.map_err(|_| ())?;
                if buf.is_empty() {
                    return Err(());
                }
                let (chunk, done) = match buf.iter().position(|c| *c == b'\n') {
                    Some(p) => (&buf[..=p], true),
                    None => (buf, false),
                };
                let n = chunk.len();
                if !too_long {
                    if out.len() + n > limit + 2 {
                        too_long = true;
                        let keep = limit.saturating_sub(out.len()).min(n);
                        out.extend_from_slice(&chunk[..keep]);
                    } else {
                        out.extend_from_slice(chunk);
                    }
                }
                self.reader.consume(n);
                if done {
                    return Ok(!too_long);
                }
            }
        };
        match tokio::time::timeout(self.limits.idle, read).await {
            Ok(Ok(true)) => {
                out.pop();
                if out.last() == Some(&b'\r') {
                    out.pop();
                }
                Ok(Ok(out))
            }
            Ok(Ok(false)) => Ok(Err(out)),
            _ => Err(()),
        }
    }

    /// Waits until the client has sent something (true) or closed (false).
    /// Consumes nothing, so it can be raced against a timer (IDLE).
    pub async fn readable(&mut self) -> bool {
        matches!(self.reader.fill_buf().await, Ok(b) if !b.is_empty())
    }

    /// Reads one command with its literals.
    pub async fn command(&mut self) -> Read {
        let mut command = Vec::new();
        loop {
            let line = match self.line().await {
                Ok(Ok(l)) => l,
                Ok(Err(start)) => {
                    command.extend_from_slice(&start);
                    return Read::TooLong(command);
                }
                Err(()) => return Read::Gone,
            };
            command.extend_from_slice(&line);
            let Some((n, sync)) = literal_announcement(&line) else {
                return Read::Command(command);
            };
            if n > self.limits.literal {
                if !sync {
                    // The data is already on its way and cannot be refused.
                    return Read::Gone;
                }
                return Read::TooLong(command);
            }
            if sync && !self.send(b"+ Ready for literal data\r\n").await {
                return Read::Gone;
            }
            let mut data = vec![0u8; n];
            match tokio::time::timeout(self.limits.idle, self.reader.read_exact(&mut data)).await {
                Ok(Ok(_)) => {}
                _ => return Read::Gone,
            }
            // Normalise `{n+}` to `{n}` so the parser sees one form.
            if !sync {
                let plus = command.len() - 2;
                command.remove(plus);
            }
            command.extend_from_slice(b"\r\n");
            command.extend_from_slice(&data);
        }
    }
}

/// `Some((n, synchronising))` when the line ends with `{n}` or `{n+}`.
pub fn literal_announcement(line: &[u8]) -> Option<(usize, bool)> {
    let body = line.strip_suffix(b"}")?;
    let open = body.iter().rposition(|c| *c == b'{')?;
    let inner = &body[open + 1..];
    let (digits, sync) = match inner.strip_suffix(b"+") {
        Some(d) => (d, false),
        None => (inner, true),
    };
    if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some((n, sync))
}

#[cfg(test)]
mod tests {
    #[test]
    fn literal_announcements() {
        use super::literal_announcement as l;
        assert_eq!(l(b"a APPEND x {12}"), Some((12, true)));
        assert_eq!(l(b"a APPEND x {12+}"), Some((12, false)));
        assert_eq!(l(b"a APPEND x {}"), None);
        assert_eq!(l(b"a LOGIN {x}"), None);
    }
}
