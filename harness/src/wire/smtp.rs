//! SMTP replies (RFC 5321 §4.2): one or more lines `CODE-text` ending with a
//! line `CODE text` (or just `CODE`), every line with the same code, CRLF
//! line ends. Enhanced status codes (RFC 3463) are read by [`enhanced`].

use futures::future::BoxFuture;

use super::{Conn, Line, Reply, ReplyReader, Terminator, WireError};

/// RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets; allow slack for
/// servers that exceed it a little, and still stop a flood.
pub const MAX_LINE: usize = 4096;
/// Most lines one reply may have (an EHLO reply has a handful).
pub const MAX_LINES: usize = 512;

pub struct SmtpReader;

impl ReplyReader for SmtpReader {
    fn protocol(&self) -> &'static str {
        "SMTP"
    }

    fn read<'a>(&'a self, conn: &'a mut Conn) -> BoxFuture<'a, Result<Reply, WireError>> {
        Box::pin(read_reply(conn))
    }
}

/// `Some((code, last))` for a well-formed reply line; `last` is false for
/// the `CODE-` continuation form.
fn split(line: &[u8]) -> Option<(&str, bool)> {
    let code = line.get(..3)?;
    // §4.2: the first digit is 2–5, the second 0–5, the third 0–9.
    let ok = (b'2'..=b'5').contains(&code[0])
        && (b'0'..=b'5').contains(&code[1])
        && code[2].is_ascii_digit();
    if !ok {
        return None;
    }
    let code = std::str::from_utf8(code).ok()?;
    match line.get(3) {
        None | Some(b' ') => Some((code, true)),
        Some(b'-') => Some((code, false)),
        Some(_) => None,
    }
}

async fn read_reply(conn: &mut Conn) -> Result<Reply, WireError> {
    let mut lines: Vec<Line> = Vec::new();
    let mut status = String::new();
    loop {
        if lines.len() >= MAX_LINES {
            return Err(WireError::TooMany {
                what: "an SMTP reply".into(),
                limit: MAX_LINES,
                of: "lines",
            });
        }
        let line = conn.read_line(MAX_LINE, "an SMTP reply line").await?;
        if line.end != Terminator::CrLf {
            return Err(WireError::malformed(
                "an SMTP reply line ending in CRLF (RFC 5321 §2.3.8)",
                &line.bytes,
            ));
        }
        let Some((code, last)) = split(&line.bytes) else {
            return Err(WireError::malformed(
                "an SMTP reply line: a 3-digit code, then space, hyphen or CRLF (RFC 5321 §4.2)",
                &line.bytes,
            ));
        };
        if status.is_empty() {
            status = code.to_string();
        } else if status != code {
            return Err(WireError::malformed(
                format!(
                    "the same code {status} on every line of a multi-line reply (RFC 5321 §4.2.1)"
                ),
                &line.bytes,
            ));
        }
        lines.push(line);
        if last {
            return Ok(Reply {
                status,
                lines,
                body: vec![],
            });
        }
    }
}

/// The enhanced status code at the start of a reply line's text
/// (`250 2.1.0 Ok` → `2.1.0`): class 2, 4 or 5, subject and detail of 1–3
/// digits (RFC 3463 §2).
pub fn enhanced(line: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(line.get(4..)?).ok()?;
    let word = text.split(' ').next()?;
    let parts: Vec<&str> = word.split('.').collect();
    let ok = parts.len() == 3
        && matches!(parts[0], "2" | "4" | "5")
        && parts[1..]
            .iter()
            .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    ok.then(|| word.to_string())
}

/// The extension keywords of an EHLO reply (every line after the first),
/// upper-cased: `["PIPELINING", "SIZE", …]`, with their parameters.
pub fn extensions(reply: &Reply) -> Vec<(String, Vec<String>)> {
    reply
        .lines
        .iter()
        .skip(1)
        .filter_map(|l| {
            let text = String::from_utf8_lossy(l.bytes.get(4..)?).into_owned();
            let mut words = text.split_whitespace();
            let key = words.next()?.to_ascii_uppercase();
            Some((key, words.map(str::to_string).collect()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_reply_lines() {
        assert_eq!(split(b"250-PIPELINING"), Some(("250", false)));
        assert_eq!(split(b"250 OK"), Some(("250", true)));
        assert_eq!(split(b"221"), Some(("221", true)));
        assert_eq!(split(b"25"), None);
        assert_eq!(split(b"250xOK"), None);
        assert_eq!(split(b"190 x"), None);
        assert_eq!(split(b"HTTP/1.1 200"), None);
    }

    #[test]
    fn reads_enhanced_codes() {
        assert_eq!(enhanced(b"250 2.1.0 Ok").as_deref(), Some("2.1.0"));
        assert_eq!(
            enhanced(b"550 5.1.1 <x>: unknown").as_deref(),
            Some("5.1.1")
        );
        assert_eq!(enhanced(b"250 Ok"), None);
        assert_eq!(enhanced(b"250 3.1.0 x"), None);
        assert_eq!(enhanced(b"250 2.1234.0 x"), None);
    }
}
