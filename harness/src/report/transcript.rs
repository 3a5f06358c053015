//! The per-scenario transcript: every byte a client sent (C:) and a server
//! sent (S:), with the connection it went over and the time since the
//! scenario started. When the harness tests a server, C: is the harness and
//! S: the server under test; when it tests a client (`crate::peer`), S: is
//! the harness's peer and C: the client under test.
//!
//! Shared by all connections of a scenario (cheap clone). Bounded: past
//! [`MAX_BYTES`] further traffic is counted but not kept.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How many payload bytes one transcript keeps.
pub const MAX_BYTES: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
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

#[derive(Clone, Debug, serde::Serialize)]
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
        }
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
    pub fn render(&self) -> String {
        let Ok(inner) = self.inner.lock() else {
            return String::new();
        };
        let width = inner
            .entries
            .iter()
            .map(|e| e.conn.len())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for e in &inner.entries {
            let dir = match e.dir {
                Dir::Client => "C:",
                Dir::Server => "S:",
                Dir::Event => "--",
            };
            let _ = writeln!(out, "{:>8.3}s {:<width$} {dir} {}", e.at, e.conn, e.text);
        }
        if inner.dropped > 0 {
            let _ = writeln!(
                out,
                "… {} more bytes not kept (transcript limit {MAX_BYTES})",
                inner.dropped
            );
        }
        out
    }
}

/// Printable ASCII stays as it is; `\r`, `\n`, `\t`, `\\` and every other byte
/// are escaped (`\x00`, `\xe9`), so the transcript shows exactly what crossed
/// the wire.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s
}

/// Like [`escape`] but cut to `max` bytes of input, for messages.
pub fn escape_short(bytes: &[u8], max: usize) -> String {
    if bytes.len() <= max {
        escape(bytes)
    } else {
        format!("{}… ({} bytes in all)", escape(&bytes[..max]), bytes.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
