//! Bounded CRLF line reading for the text protocols (SMTP, POP3).
//!
//! A line is at most `max` octets including its CRLF. Longer lines are read
//! to their end and discarded, so the session can answer and carry on
//! without holding the excess in memory. Only CRLF ends a line; a bare LF is
//! reported, so a server can refuse it where its RFC demands CRLF.

use std::io;

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A line ended by CRLF; the bytes exclude the CRLF.
    Crlf(Vec<u8>),
    /// A line ended by a LF that had no CR before it; bytes exclude the LF.
    BareLf(Vec<u8>),
    /// The line was longer than allowed; it was read and dropped.
    TooLong,
    /// The peer closed the connection (any partial line is dropped).
    Eof,
}

/// Reads one line of at most `max` octets including the terminator.
pub async fn read_line<R: AsyncBufRead + Unpin>(r: &mut R, max: usize) -> io::Result<Line> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let buf = r.fill_buf().await?;
        if buf.is_empty() {
            return Ok(Line::Eof);
        }
        let (take, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if !too_long {
            if line.len() + take > max {
                too_long = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(&buf[..take]);
            }
        }
        r.consume(take);
        if done {
            if too_long {
                return Ok(Line::TooLong);
            }
            line.pop(); // the LF
            if line.last() == Some(&b'\r') {
                line.pop();
                return Ok(Line::Crlf(line));
            }
            return Ok(Line::BareLf(line));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8], max: usize) -> Vec<Line> {
        let mut r = tokio::io::BufReader::with_capacity(4, input);
        let mut out = Vec::new();
        loop {
            let l = read_line(&mut r, max).await.unwrap();
            let end = l == Line::Eof;
            out.push(l);
            if end {
                return out;
            }
        }
    }

    #[tokio::test]
    async fn splits_bounds_and_flags_bare_lf() {
        let got = lines(b"HELO a\r\n0123456789\r\nx\nrest", 8).await;
        assert_eq!(
            got,
            vec![
                Line::Crlf(b"HELO a".to_vec()),
                Line::TooLong,
                Line::BareLf(b"x".to_vec()),
                Line::Eof
            ]
        );
        // Exactly at the limit is fine.
        assert_eq!(
            lines(b"123456\r\n", 8).await[0],
            Line::Crlf(b"123456".to_vec())
        );
    }
}
