//! Replies on the control connection (RFC 959 §4.2).
//!
//! A reply is a three-digit code, then a space and text, then CRLF. A
//! multi-line reply starts with the code followed by a hyphen and ends with a
//! line that starts with the same code followed by a space:
//!
//! ```text
//! 211-Features:
//!  EPSV
//! 211 End
//! ```
//!
//! Lines in between are indented by one space, so that none of them can
//! look like the end of the reply.

use tokio::io::{AsyncWriteExt, WriteHalf};

use crate::tls::Io;

pub struct Replies {
    out: WriteHalf<Box<dyn Io>>,
}

impl Replies {
    pub fn new(out: WriteHalf<Box<dyn Io>>) -> Self {
        Replies { out }
    }

    /// The writing half back, for the TLS upgrade.
    pub fn into_inner(self) -> WriteHalf<Box<dyn Io>> {
        self.out
    }

    /// One reply; `text` with newlines becomes a multi-line reply whose first
    /// and last lines carry the code.
    pub async fn send(&mut self, code: u16, text: &str) -> std::io::Result<()> {
        let bytes = format_reply(code, text);
        self.out.write_all(&bytes).await
    }

    /// A multi-line reply from a first line, body lines, and a last line.
    pub async fn send_lines(
        &mut self,
        code: u16,
        first: &str,
        body: &[String],
        last: &str,
    ) -> std::io::Result<()> {
        let mut bytes = format!("{code}-{first}\r\n").into_bytes();
        for line in body {
            bytes.extend_from_slice(format!(" {}\r\n", clean(line)).as_bytes());
        }
        bytes.extend_from_slice(format!("{code} {last}\r\n").as_bytes());
        self.out.write_all(&bytes).await
    }

    pub async fn shutdown(&mut self) {
        let _ = self.out.shutdown().await;
    }
}

/// No CR or LF from a file name or argument may reach the control connection
/// (it would forge a reply line).
fn clean(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

pub fn format_reply(code: u16, text: &str) -> Vec<u8> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out = String::new();
    match lines.as_slice() {
        [one] => out.push_str(&format!("{code} {}\r\n", clean(one))),
        [first, middle @ .., last] => {
            out.push_str(&format!("{code}-{}\r\n", clean(first)));
            for m in middle {
                out.push_str(&format!(" {}\r\n", clean(m)));
            }
            out.push_str(&format!("{code} {}\r\n", clean(last)));
        }
        [] => out.push_str(&format!("{code} \r\n")),
    }
    out.into_bytes()
}

/// A path inside a 257 reply: enclosed in double quotes, with embedded
/// quotes doubled (RFC 959 Appendix II).
pub fn quote_path(path: &str) -> String {
    format!("\"{}\"", clean(path).replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_multi_line() {
        assert_eq!(format_reply(200, "OK"), b"200 OK\r\n");
        assert_eq!(
            format_reply(214, "Help\nUSER PASS\nEnd"),
            b"214-Help\r\n USER PASS\r\n214 End\r\n"
        );
        assert_eq!(format_reply(550, "a\rb"), b"550 a b\r\n");
    }

    #[test]
    fn quotes_paths() {
        assert_eq!(quote_path("/a\"b"), "\"/a\"\"b\"");
    }
}
