//! The codecs' seam: a [`Decoder`] turns received bytes into one protocol
//! unit (a reply, a response) without doing any I/O. Both the suites' async
//! [`super::Conn`] and the fuzzer's blocking link drive the same decoders
//! (`read_decoded` on each), so every protocol has one definition of a
//! well-formed reply.
//!
//! Contract: the caller passes the bytes received since the unit began, and
//! each call's buffer extends the previous one (TCP is a byte stream, so the
//! result must not depend on how the bytes were cut: the decoders' tests
//! check every split). A decoder may remember how far it got; after
//! `Complete` or `Malformed` it starts afresh. Limits (octets per line,
//! lines per reply, body size) are the decoder's parameters: a peer that
//! exceeds one gets [`Malformed::TooLong`] or [`Malformed::TooMany`], never
//! an unbounded buffer.

use super::{Line, Terminator, WireError};

/// What a decoder made of the bytes so far.
#[derive(Debug, PartialEq)]
pub enum Decoded<T> {
    /// The unit is not complete yet: more bytes are needed.
    Incomplete,
    /// One complete unit and how many octets of the buffer it used.
    Complete(T, usize),
    /// The bytes cannot be the unit (the reason cites the rule they break),
    /// or they exceed a limit.
    Malformed(Malformed),
}

/// Why bytes are not a well-formed unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// Syntax: `expected` names what the RFC requires (with its section),
    /// `got` holds the offending bytes.
    Syntax { expected: String, got: Vec<u8> },
    /// More octets than the limit without the expected delimiter.
    TooLong { what: String, limit: usize },
    /// More lines (fields, …) than the limit without the unit's end.
    TooMany {
        what: String,
        limit: usize,
        of: &'static str,
    },
}

impl Malformed {
    pub fn syntax(expected: impl Into<String>, got: &[u8]) -> Malformed {
        Malformed::Syntax {
            expected: expected.into(),
            got: got.to_vec(),
        }
    }

    /// Whether a limit (rather than the syntax) stopped the decoder.
    pub fn is_limit(&self) -> bool {
        !matches!(self, Malformed::Syntax { .. })
    }
}

impl From<Malformed> for WireError {
    fn from(m: Malformed) -> WireError {
        match m {
            Malformed::Syntax { expected, got } => WireError::Malformed {
                what: expected,
                got,
            },
            Malformed::TooLong { what, limit } => WireError::TooLong { what, limit },
            Malformed::TooMany { what, limit, of } => WireError::TooMany { what, limit, of },
        }
    }
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        WireError::from(self.clone()).fmt(f)
    }
}

/// A parser of one protocol unit from a growing buffer (see the module
/// comment for the contract).
pub trait Decoder {
    type Item;

    /// Decodes from the bytes received since the unit began.
    fn decode(&mut self, buf: &[u8]) -> Decoded<Self::Item>;

    /// The peer closed: `buf` is all there will be. A unit delimited by the
    /// close (an HTTP body without length) completes here; by default the
    /// bytes are decoded as usual, and `Incomplete` means the peer closed in
    /// the middle of the unit.
    fn decode_eof(&mut self, buf: &[u8]) -> Decoded<Self::Item> {
        self.decode(buf)
    }

    /// How far the decoder has got: the offset where the part it waits for
    /// begins (the next line, the body). A driver gives each part its own
    /// deadline, restarting it when the mark moves.
    fn mark(&self) -> usize {
        0
    }

    /// What it waits for, for timeout and close messages ("an SMTP reply line").
    fn what(&self) -> String;
}

/// The line of `buf` that starts at `from`: `Ok(Some((line, next)))` with
/// the offset after its LF, `Ok(None)` when its LF has not come yet. A line
/// ends in LF (CRLF, or a bare LF that [`Line::end`] reports); it may hold
/// at most `max` octets with its terminator.
pub fn line_at(
    buf: &[u8],
    from: usize,
    max: usize,
    what: &str,
) -> Result<Option<(Line, usize)>, Malformed> {
    let rest = buf.get(from..).unwrap_or_default();
    let too_long = || Malformed::TooLong {
        what: what.to_string(),
        limit: max,
    };
    let window = &rest[..rest.len().min(max.saturating_add(1))];
    match window.iter().position(|b| *b == b'\n') {
        Some(pos) if pos + 1 > max => Err(too_long()),
        Some(pos) => {
            let mut bytes = rest[..pos].to_vec();
            let end = if bytes.last() == Some(&b'\r') {
                bytes.pop();
                Terminator::CrLf
            } else {
                Terminator::Lf
            };
            Ok(Some((Line { bytes, end }, from + pos + 1)))
        }
        None if rest.len() >= max => Err(too_long()),
        None => Ok(None),
    }
}

/// The lines of a reply read so far, bounded in length and number: what
/// the SMTP and FTP reply decoders share.
pub struct Lines {
    pub max_line: usize,
    pub max_lines: usize,
    /// Where the next line starts.
    pos: usize,
    lines: Vec<Line>,
}

impl Lines {
    pub fn new(max_line: usize, max_lines: usize) -> Lines {
        Lines {
            max_line,
            max_lines,
            pos: 0,
            lines: Vec::new(),
        }
    }

    /// The next line (`what` it is), `Ok(None)` until it is complete; over
    /// the line count, [`Malformed::TooMany`] for `reply`.
    pub fn next(
        &self,
        buf: &[u8],
        what: &str,
        reply: impl FnOnce() -> String,
    ) -> Result<Option<(Line, usize)>, Malformed> {
        if self.lines.len() >= self.max_lines {
            return Err(Malformed::TooMany {
                what: reply(),
                limit: self.max_lines,
                of: "lines",
            });
        }
        line_at(buf, self.pos, self.max_line, what)
    }

    /// Keeps a line that ended at `next`.
    pub fn push(&mut self, line: Line, next: usize) {
        self.lines.push(line);
        self.pos = next;
    }

    pub fn first(&self) -> Option<&Line> {
        self.lines.first()
    }

    /// The lines kept, leaving it empty for the next reply.
    pub fn take(&mut self) -> Vec<Line> {
        self.pos = 0;
        std::mem::take(&mut self.lines)
    }

    /// Where the line it waits for starts.
    pub fn mark(&self) -> usize {
        self.pos
    }
}

/// One line of at most `max` octets (see [`line_at`]).
pub struct LineDecoder {
    pub max: usize,
    pub what: String,
}

impl LineDecoder {
    pub fn new(max: usize, what: &str) -> LineDecoder {
        LineDecoder {
            max,
            what: what.to_string(),
        }
    }
}

impl Decoder for LineDecoder {
    type Item = Line;

    fn decode(&mut self, buf: &[u8]) -> Decoded<Line> {
        match line_at(buf, 0, self.max, &self.what) {
            Ok(Some((line, used))) => Decoded::Complete(line, used),
            Ok(None) => Decoded::Incomplete,
            Err(m) => Decoded::Malformed(m),
        }
    }

    fn what(&self) -> String {
        self.what.clone()
    }
}

/// Drives a decoder over bytes already in memory: every prefix in turn,
/// then the whole at end-of-file, as a connection that receives them one
/// octet at a time and then sees the close would.
#[cfg(test)]
pub fn decode_bytewise<D: Decoder>(d: &mut D, bytes: &[u8]) -> Decoded<D::Item> {
    for i in 0..=bytes.len() {
        match d.decode(&bytes[..i]) {
            Decoded::Incomplete => {}
            done => return done,
        }
    }
    d.decode_eof(bytes)
}

/// Decodes `bytes` whole and split at every offset (the first part, then
/// all of it), and checks the results agree; returns the whole result.
#[cfg(test)]
pub fn same_when_split<D, F>(make: F, bytes: &[u8]) -> Decoded<D::Item>
where
    D: Decoder,
    D::Item: std::fmt::Debug,
    F: Fn() -> D,
{
    let whole = {
        let mut d = make();
        match d.decode(bytes) {
            Decoded::Incomplete => d.decode_eof(bytes),
            done => done,
        }
    };
    for cut in 0..=bytes.len() {
        let mut d = make();
        let got = match d.decode(&bytes[..cut]) {
            Decoded::Incomplete => match d.decode(bytes) {
                Decoded::Incomplete => d.decode_eof(bytes),
                done => done,
            },
            // Complete or malformed on a prefix: the rest cannot change it.
            done => done,
        };
        assert_eq!(
            format!("{got:?}"),
            format!("{whole:?}"),
            "split at {cut} of {:?}",
            String::from_utf8_lossy(bytes)
        );
    }
    let mut d = make();
    let bytewise = decode_bytewise(&mut d, bytes);
    assert_eq!(
        format!("{bytewise:?}"),
        format!("{whole:?}"),
        "byte by byte"
    );
    whole
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_bounded_and_report_their_end() {
        let (l, next) = line_at(b"ab\r\ncd\n", 0, 10, "x").unwrap().unwrap();
        assert_eq!(
            (l.bytes.as_slice(), l.end, next),
            (&b"ab"[..], Terminator::CrLf, 4)
        );
        let (l, next) = line_at(b"ab\r\ncd\n", 4, 10, "x").unwrap().unwrap();
        assert_eq!(
            (l.bytes.as_slice(), l.end, next),
            (&b"cd"[..], Terminator::Lf, 7)
        );
        assert!(line_at(b"abc", 0, 10, "x").unwrap().is_none());
        // Four octets with the CRLF fit a limit of 4, not of 3.
        assert!(line_at(b"ab\r\n", 0, 4, "x").unwrap().is_some());
        assert!(matches!(
            line_at(b"ab\r\n", 0, 3, "x"),
            Err(Malformed::TooLong { limit: 3, .. })
        ));
        assert!(matches!(
            line_at(b"abcd", 0, 4, "x"),
            Err(Malformed::TooLong { .. })
        ));
    }

    #[test]
    fn a_line_decoder_is_the_same_however_split() {
        let r = same_when_split(|| LineDecoder::new(16, "a line"), b"hello\r\nrest");
        assert!(matches!(r, Decoded::Complete(ref l, 7) if l.bytes == b"hello"));
        let r = same_when_split(|| LineDecoder::new(4, "a line"), b"hello\r\n");
        assert!(matches!(r, Decoded::Malformed(Malformed::TooLong { .. })));
        let r = same_when_split(|| LineDecoder::new(16, "a line"), b"no end");
        assert_eq!(r, Decoded::Incomplete);
    }
}
