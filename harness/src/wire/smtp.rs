//! SMTP replies (RFC 5321 §4.2): one or more lines `CODE-text` ending with a
//! line `CODE text` (or just `CODE`), every line with the same code, CRLF
//! line ends. Enhanced status codes (RFC 3463) are read by [`enhanced`].

use futures::future::BoxFuture;

use super::codec::{Decoded, Decoder, Lines, Malformed};
use super::{Conn, Reply, ReplyReader, Terminator, WireError};

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

/// One SMTP reply (RFC 5321 §4.2), decoded without I/O: every line ends in
/// CRLF, starts with the same code (first digit 2–5), and all but the last
/// have a hyphen after it. The fuzzer reads replies through it too.
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
}

impl Decoder for ReplyDecoder {
    type Item = Reply;

    fn decode(&mut self, buf: &[u8]) -> Decoded<Reply> {
        loop {
            let next = self
                .lines
                .next(buf, "an SMTP reply line", || "an SMTP reply".into());
            let (line, next) = match next {
                Ok(Some(l)) => l,
                Ok(None) => return Decoded::Incomplete,
                Err(m) => return self.fail(m),
            };
            if line.end != Terminator::CrLf {
                return self.fail(Malformed::syntax(
                    "an SMTP reply line ending in CRLF, not a bare LF (RFC 5321 §2.3.8)",
                    &line.bytes,
                ));
            }
            let Some((code, last)) = split(&line.bytes) else {
                return self.fail(Malformed::syntax(
                    "an SMTP reply line: a 3-digit code, then space, hyphen or CRLF (RFC 5321 §4.2)",
                    &line.bytes,
                ));
            };
            let code = code.to_string();
            if let Some(first) = self.lines.first() {
                if first.bytes[..3] != *code.as_bytes() {
                    let status = String::from_utf8_lossy(&first.bytes[..3]).into_owned();
                    return self.fail(Malformed::syntax(
                        format!(
                            "the same code {status} on every line of a multi-line reply (RFC 5321 §4.2.1)"
                        ),
                        &line.bytes,
                    ));
                }
            }
            self.lines.push(line, next);
            if last {
                let lines = self.lines.take();
                return Decoded::Complete(
                    Reply {
                        status: code,
                        lines,
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
        "an SMTP reply line".into()
    }
}

pub async fn read_reply(conn: &mut Conn) -> Result<Reply, WireError> {
    conn.read_decoded(&mut ReplyDecoder::default()).await
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
    fn decodes_replies_however_split() {
        use crate::wire::codec::same_when_split;
        let ehlo = b"250-mx.example\r\n250-PIPELINING\r\n250 SIZE 1000\r\nnext";
        match same_when_split(ReplyDecoder::default, ehlo) {
            Decoded::Complete(r, used) => {
                assert_eq!(
                    (r.status.as_str(), r.lines.len(), used),
                    ("250", 3, ehlo.len() - 4)
                );
                assert_eq!(extensions(&r)[1].0, "SIZE");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            same_when_split(ReplyDecoder::default, b"221\r\n"),
            Decoded::Complete(ref r, 5) if r.status == "221"
        ));
        assert_eq!(
            same_when_split(ReplyDecoder::default, b"250-a\r\n250-b"),
            Decoded::Incomplete
        );
    }

    #[test]
    fn malformed_replies_say_which_rule() {
        use crate::wire::codec::same_when_split;
        let reason = |bytes: &[u8]| match same_when_split(ReplyDecoder::default, bytes) {
            Decoded::Malformed(Malformed::Syntax { expected, .. }) => expected,
            other => panic!("{other:?}"),
        };
        assert!(reason(b"250 ok\n").contains("§2.3.8"));
        assert!(reason(b"150 ok\r\n").contains("§4.2"));
        assert!(reason(b"250x\r\n").contains("§4.2"));
        assert!(reason(b"250-a\r\n251 b\r\n").contains("§4.2.1"));
    }

    #[test]
    fn reply_limits_hold() {
        use crate::wire::codec::same_when_split;
        let many = b"250-x\r\n".repeat(4);
        assert!(matches!(
            same_when_split(|| ReplyDecoder::new(64, 3), &many),
            Decoded::Malformed(Malformed::TooMany { limit: 3, .. })
        ));
        let long = [b"250 ".as_slice(), &[b'a'; 100], b"\r\n"].concat();
        assert!(matches!(
            same_when_split(|| ReplyDecoder::new(64, 3), &long),
            Decoded::Malformed(Malformed::TooLong { limit: 64, .. })
        ));
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
