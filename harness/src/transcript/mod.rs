//! The per-scenario transcript: every byte a client sent (C:) and a server
//! sent (S:), with the connection it went over and the time since the
//! scenario started. When the harness tests a server, C: is the harness and
//! S: the server under test; when it tests a client (`crate::peer`), S: is
//! the harness's peer and C: the client under test.
//!
//! Shared by all connections of a scenario (cheap clone). Bounded: past
//! [`MAX_BYTES`] further traffic is counted but not kept.

use std::fmt::Write as _;

use crate::notation::escape;

pub mod memory;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How many payload bytes one transcript keeps.
pub const MAX_BYTES: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Dir {
    /// Sent by the client: the harness, or the client under test.
    #[serde(rename = "C")]
    Client,
    /// Sent by the server: the server under test, or the harness's peer.
    #[serde(rename = "S")]
    Server,
    /// Something that happened to the connection (opened, closed, reset, timeout).
    #[serde(rename = "*")]
    Event,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// Seconds since the scenario started.
    pub at: f64,
    /// Which connection: `tcp A`, `udp B`, `smtp`…
    pub conn: String,
    pub dir: Dir,
    /// The bytes, escaped (see [`escape`]).
    pub text: String,
}

#[derive(Default)]
struct Inner {
    entries: Vec<Entry>,
    kept: usize,
    dropped: usize,
}

#[derive(Clone)]
pub struct Transcript {
    start: Instant,
    inner: Arc<Mutex<Inner>>,
    /// What the scenario received, against the run's memory bound.
    allowance: Arc<crate::transcript::memory::Allowance>,
}

impl Default for Transcript {
    fn default() -> Self {
        Self::new()
    }
}

impl Transcript {
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            inner: Arc::default(),
            allowance: Arc::default(),
        }
    }

    /// Counts `n` bytes the other side sent against the scenario's memory
    /// allowance ([`crate::transcript::memory`]); `Err(pool)` when it has none
    /// left.
    pub fn charge(&self, n: usize) -> Result<(), usize> {
        self.allowance.charge(n)
    }

    /// The scenario's connections are closed: what it drew on the run's
    /// memory pool goes back.
    pub fn release_memory(&self) {
        self.allowance.release();
    }

    fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Records bytes going one way. Split at line feeds so that each protocol
    /// line reads as one transcript line.
    pub fn bytes(&self, conn: &str, dir: Dir, data: &[u8]) {
        let at = self.elapsed().as_secs_f64();
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if data.is_empty() {
            inner.entries.push(Entry {
                at,
                conn: conn.into(),
                dir,
                text: "(empty)".into(),
            });
            return;
        }
        for piece in data.split_inclusive(|b| *b == b'\n') {
            if inner.kept + piece.len() > MAX_BYTES {
                inner.dropped += piece.len();
                continue;
            }
            inner.kept += piece.len();
            inner.entries.push(Entry {
                at,
                conn: conn.into(),
                dir,
                text: escape(piece),
            });
        }
    }

    /// Records an event on a connection (`connected to …`, `closed by server`).
    pub fn event(&self, conn: &str, what: impl Into<String>) {
        let at = self.elapsed().as_secs_f64();
        if let Ok(mut inner) = self.inner.lock() {
            inner.entries.push(Entry {
                at,
                conn: conn.into(),
                dir: Dir::Event,
                text: what.into(),
            });
        }
    }

    pub fn entries(&self) -> Vec<Entry> {
        self.inner
            .lock()
            .map(|i| i.entries.clone())
            .unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.inner
            .lock()
            .map(|i| i.entries.is_empty())
            .unwrap_or(true)
    }

    /// The transcript as text, one entry a line:
    /// `  0.004s tcp A  C: hello world`.
    ///
    /// Made to be read: a run of more than [`RUN_LINES`] lines one way on one
    /// connection (a body, a long listing) shows its head and tail and says
    /// how much is left out, and a line longer than [`LINE_CHARS`] likewise.
    /// [`Transcript::entries`] keeps everything.
    pub fn render(&self) -> String {
        let Ok(inner) = self.inner.lock() else {
            return String::new();
        };
        render_entries(&inner.entries, inner.dropped)
    }
}

/// [`Transcript::render`] of recorded entries (also of a report read back),
/// `dropped` the bytes that were not kept.
pub fn render_entries(entries: &[Entry], dropped: usize) -> String {
    let width = entries.iter().map(|e| e.conn.len()).max().unwrap_or(0);
    let mut out = String::new();
    let line = |out: &mut String, e: &Entry| {
        let dir = match e.dir {
            Dir::Client => "C:",
            Dir::Server => "S:",
            Dir::Event => "--",
        };
        let _ = writeln!(
            out,
            "{:>8.3}s {:<width$} {dir} {}",
            e.at,
            e.conn,
            cut_line(&e.text)
        );
    };
    let mut i = 0;
    while i < entries.len() {
        let e = &entries[i];
        let mut end = i + 1;
        if e.dir != Dir::Event {
            while end < entries.len() && entries[end].dir == e.dir && entries[end].conn == e.conn {
                end += 1;
            }
        }
        let run = &entries[i..end];
        if run.len() > RUN_LINES {
            let (head, rest) = run.split_at(RUN_HEAD);
            let (skipped, tail) = rest.split_at(rest.len() - RUN_TAIL);
            for e in head {
                line(&mut out, e);
            }
            let bytes: usize = skipped.iter().map(|e| unescaped_len(&e.text)).sum();
            let _ = writeln!(
                out,
                "{:>9} {:<width$} …  {} lines ({bytes} bytes) not shown",
                "",
                "",
                skipped.len()
            );
            for e in tail {
                line(&mut out, e);
            }
        } else {
            for e in run {
                line(&mut out, e);
            }
        }
        i = end;
    }
    if dropped > 0 {
        let _ = writeln!(
            out,
            "… {} more bytes not kept (transcript limit {MAX_BYTES})",
            dropped
        );
    }
    out
}

/// A run of lines one way longer than this is shown by its head and tail.
pub const RUN_LINES: usize = 40;
const RUN_HEAD: usize = 24;
const RUN_TAIL: usize = 8;
/// A transcript line longer than this (escaped) is shown by its head and tail.
pub const LINE_CHARS: usize = 600;

fn cut_line(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= LINE_CHARS {
        return text.into();
    }
    let boundary = |mut i: usize| {
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let head = boundary(400);
    let tail = boundary(text.len() - 100);
    format!(
        "{} … ({} more characters) … {}",
        &text[..head],
        tail - head,
        &text[tail..]
    )
    .into()
}

/// How many bytes an escaped transcript text stands for.
fn unescaped_len(text: &str) -> usize {
    let b = text.as_bytes();
    let (mut n, mut i) = (0, 0);
    while i < b.len() {
        i += match (b[i], b.get(i + 1)) {
            (b'\\', Some(b'x')) => 4,
            (b'\\', Some(_)) => 2,
            _ => 1,
        };
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_body_prints_by_head_and_tail_with_its_size() {
        let t = Transcript::new();
        t.bytes("http", Dir::Client, b"GET / HTTP/1.1\r\n\r\n");
        let body: Vec<u8> = (0..100)
            .flat_map(|i| format!("line {i:03}\n").into_bytes())
            .collect();
        t.bytes("http", Dir::Server, &body);
        t.bytes("http", Dir::Server, &[b'x'; 2000]);
        let text = t.render();
        assert!(text.contains("S: line 000\\n") && text.contains("S: line 023\\n"));
        assert!(!text.contains("line 024") && !text.contains("line 092"));
        assert!(text.contains("S: line 093\\n") && text.contains("S: line 099\\n"));
        // 101 server lines: 24 + 8 shown, 69 left out.
        assert!(text.contains("69 lines ("), "{text}");
        assert!(text.contains("more characters"), "{text}");
        assert!(text.lines().count() < 40, "{text}");
        // Every entry is still kept for the JSON report.
        assert_eq!(t.entries().len(), 103);
    }

    #[test]
    fn escapes_control_and_high_bytes() {
        assert_eq!(escape(b"a\r\n\t\\\x00\xe9~"), "a\\r\\n\\t\\\\\\x00\\xe9~");
    }

    #[test]
    fn splits_at_line_feeds_and_bounds_size() {
        let t = Transcript::new();
        t.bytes("c", Dir::Server, b"250-A\r\n250 B\r\n");
        assert_eq!(t.entries().len(), 2);
        t.bytes("c", Dir::Server, &vec![b'x'; MAX_BYTES + 10]);
        assert!(t.render().contains("more bytes not kept"));
    }
}
