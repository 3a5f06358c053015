//! FTP on the client side: the control connection's replies (RFC 959 §4.2)
//! and the data connection (`data`).
//!
//! A reply is `NNN text` on one line, or a multi-line reply that starts with
//! `NNN-` and ends with the first line that starts with the same `NNN `:
//!
//! ```text
//! 211-Features:
//!  EPSV
//! 211 End
//! ```
//!
//! Lines in between may be anything, including other codes. The reader never
//! trusts the server: line length, number of lines and total time are bounded.

pub mod data;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use futures::future::BoxFuture;

use super::codec::{Decoded, Decoder, Lines, Malformed};
use super::{Conn, Reply, ReplyReader, WireError};

/// Longest reply line accepted.
pub const MAX_LINE: usize = 8 * 1024;
/// Most lines in one multi-line reply (a HELP or FEAT is a few dozen).
pub const MAX_LINES: usize = 2_000;

pub struct FtpReader;

impl ReplyReader for FtpReader {
    fn protocol(&self) -> &'static str {
        "FTP"
    }

    fn read<'a>(&'a self, conn: &'a mut Conn) -> BoxFuture<'a, Result<Reply, WireError>> {
        Box::pin(read_reply(conn))
    }
}

/// The three-digit code and separator of a reply line, if it has them.
fn code_of(line: &[u8]) -> Option<(&str, u8)> {
    if line.len() < 3 || !line[..3].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let code = std::str::from_utf8(&line[..3]).ok()?;
    // A bare "220" with nothing after it is a complete one-line reply.
    let sep = line.get(3).copied().unwrap_or(b' ');
    Some((code, sep))
}

/// One FTP reply (RFC 959 §4.2), decoded without I/O: a first line with a
/// code (first digit 1–5, second 0–5) and a space or hyphen; after a hyphen,
/// any lines up to the first that starts with the same code and a space.
/// Line ends are reported in each [`super::Line`], not judged here. The
/// fuzzer reads replies through it too.
pub struct ReplyDecoder {
    lines: Lines,
}

impl Default for ReplyDecoder {
    fn default() -> Self {
        ReplyDecoder::new(MAX_LINE, MAX_LINES)
    }
}

impl ReplyDecoder {
    pub fn new(max_line: usize, max_lines: usize) -> ReplyDecoder {
        ReplyDecoder {
            lines: Lines::new(max_line, max_lines),
        }
    }

    fn fail(&mut self, m: Malformed) -> Decoded<Reply> {
        self.lines.take();
        Decoded::Malformed(m)
    }

    /// The code of a reply whose first line has been read.
    fn code(&self) -> Option<String> {
        let first = self.lines.first()?;
        Some(String::from_utf8_lossy(&first.bytes[..3]).into_owned())
    }
}

/// Whether a first line is well-formed: `Ok(multi-line)`.
fn first_line(line: &[u8]) -> Result<bool, Malformed> {
    let Some((code, sep)) = code_of(line) else {
        return Err(Malformed::syntax(
            "FTP reply (a reply starts with a three-digit code, RFC 959 §4.2)",
            line,
        ));
    };
    // RFC 959 §4.2.1: the first digit is 1 to 5 (positive preliminary,
    // completion, intermediate; transient and permanent negative), the
    // second 0 to 5 (syntax, information, connections, authentication,
    // unspecified, file system). Any other code means nothing to a client.
    // (RFC 2228's 6yz replies answer only protected commands, which conform
    // never sends.)
    let b = code.as_bytes();
    if !(b'1'..=b'5').contains(&b[0]) || !(b'0'..=b'5').contains(&b[1]) {
        return Err(Malformed::syntax(
            "FTP reply (RFC 959 §4.2.1: the first digit of a reply code is 1 to 5, the second 0 to 5)",
            line,
        ));
    }
    match sep {
        b' ' => Ok(false),
        b'-' => Ok(true),
        _ => Err(Malformed::syntax(
            "FTP reply (the code must be followed by a space or, for a multi-line reply, a hyphen, RFC 959 §4.2)",
            line,
        )),
    }
}

impl Decoder for ReplyDecoder {
    type Item = Reply;

    fn decode(&mut self, buf: &[u8]) -> Decoded<Reply> {
        loop {
            let what = self.what();
            let code = self.code().unwrap_or_default();
            let next = self
                .lines
                .next(buf, &what, || format!("the multi-line {code} reply"));
            let (line, next) = match next {
                Ok(Some(l)) => l,
                Ok(None) => return Decoded::Incomplete,
                Err(m) => return self.fail(m),
            };
            let last = match self.code() {
                None => match first_line(&line.bytes) {
                    Ok(multi) => !multi,
                    Err(m) => return self.fail(m),
                },
                Some(code) => {
                    line.bytes.starts_with(code.as_bytes())
                        && matches!(line.bytes.get(3), Some(b' ') | None)
                }
            };
            self.lines.push(line, next);
            if last {
                let status = self.code().unwrap_or_default();
                return Decoded::Complete(
                    Reply {
                        status,
                        lines: self.lines.take(),
                        body: vec![],
                    },
                    next,
                );
            }
        }
    }

    fn mark(&self) -> usize {
        self.lines.mark()
    }

    fn what(&self) -> String {
        match self.code() {
            None => "an FTP reply line".into(),
            Some(code) => {
                format!("the end of the multi-line {code} reply (a line starting \"{code} \")")
            }
        }
    }
}

pub async fn read_reply(conn: &mut Conn) -> Result<Reply, WireError> {
    conn.read_decoded(&mut ReplyDecoder::default()).await
}

/// The address of a 227 reply: six numbers `h1,h2,h3,h4,p1,p2`, found
/// anywhere in the text (RFC 959 leaves the wording open; RFC 1123 §4.1.2.6
/// tells clients to scan for them).
pub fn parse_pasv(text: &str) -> Option<SocketAddr> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_digit()) {
            let rest = &text[i..];
            let end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == ','))
                .unwrap_or(rest.len());
            let nums: Vec<&str> = rest[..end].split(',').collect();
            if nums.len() >= 6 {
                let n: Option<Vec<u8>> = nums[..6].iter().map(|x| x.parse().ok()).collect();
                if let Some(n) = n {
                    let ip = Ipv4Addr::new(n[0], n[1], n[2], n[3]);
                    let port = u16::from(n[4]) << 8 | u16::from(n[5]);
                    return Some(SocketAddr::new(IpAddr::V4(ip), port));
                }
            }
            i += end.max(1);
        } else {
            i += 1;
        }
    }
    None
}

/// The port of a 229 reply: `(|||6446|)`, any delimiter (RFC 2428 §3).
pub fn parse_epsv(text: &str) -> Option<u16> {
    let open = text.find('(')?;
    let inner = &text[open + 1..];
    let close = inner.find(')')?;
    let inner = &inner[..close];
    let d = inner.chars().next()?;
    let parts: Vec<&str> = inner.split(d).collect();
    match parts.as_slice() {
        ["", "", "", port, ""] => port.parse().ok(),
        _ => None,
    }
}

/// The quoted path of a 257 reply, with doubled quotes undone (RFC 959
/// Appendix II).
pub fn parse_257(text: &str) -> Option<String> {
    let start = text.find('"')?;
    let mut out = String::new();
    let mut chars = text[start + 1..].chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            if chars.peek() == Some(&'"') {
                chars.next();
                out.push('"');
            } else {
                return Some(out);
            }
        } else {
            out.push(c);
        }
    }
    None
}

#[cfg(test)]
mod tests;
