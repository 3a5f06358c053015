//! A fuzz case: the session sent to the target, kept as a readable file.
//!
//! ```text
//! # comments say where the case came from and what went wrong
//! protocol sockets
//! channel tcp
//! prefix "EHLO client.example\r\n"
//! send "hello\x80"
//! ```
//!
//! `prefix` messages are the valid start of a session (after EHLO, after
//! login…); `send` messages are the mutated ones. Strings use the escapes of
//! the feature files (`\r \n \t \0 \\ \" \xNN`), so a case reads like a
//! transcript and any byte sequence can be written down.

use std::fmt::Write as _;

use crate::notation::escape;
use crate::notation::unescape;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    pub protocol: String,
    /// Which of the protocol's channels carries it: `tcp`, `udp`, `control`…
    pub channel: String,
    /// Valid messages that bring the session into the state under test.
    pub prefix: Vec<Vec<u8>>,
    /// The messages under test, each answered (or not) before the next.
    pub messages: Vec<Vec<u8>>,
}

impl Case {
    /// A short stable name for the case: FNV-1a of its text (the part of a
    /// finding's signature after the oracle, and of its file names).
    pub fn fingerprint(&self) -> String {
        let mut h: u64 = 0xcbf29ce484222325;
        for b in self.to_text(&[]).bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100000001b3);
        }
        format!("{:08x}", h >> 32)
    }

    /// Bytes sent in all.
    pub fn size(&self) -> usize {
        self.prefix.iter().chain(&self.messages).map(Vec::len).sum()
    }

    /// The case as its file text, with `notes` as leading comment lines.
    pub fn to_text(&self, notes: &[String]) -> String {
        let mut out = String::new();
        for n in notes {
            for line in n.lines() {
                let _ = writeln!(out, "# {line}");
            }
        }
        let _ = writeln!(out, "protocol {}", self.protocol);
        let _ = writeln!(out, "channel {}", self.channel);
        for p in &self.prefix {
            let _ = writeln!(out, "prefix \"{}\"", quote_plain(p));
        }
        for m in &self.messages {
            let _ = writeln!(out, "send \"{}\"", quote_plain(m));
        }
        out
    }

    /// Like [`Case::to_text`] without notes, long messages cut for display.
    pub fn to_text_short(&self, max: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "protocol {}", self.protocol);
        let _ = writeln!(out, "channel {}", self.channel);
        for (key, m) in self
            .prefix
            .iter()
            .map(|m| ("prefix", m))
            .chain(self.messages.iter().map(|m| ("send", m)))
        {
            if m.len() <= max {
                let _ = writeln!(out, "{key} \"{}\"", quote_plain(m));
            } else {
                let _ = writeln!(
                    out,
                    "{key} \"{}\"… ({} bytes in all; the case file has them all)",
                    quote_plain(&m[..max]),
                    m.len()
                );
            }
        }
        out
    }

    /// Parses a case file (or a seed file: `protocol` and `channel` may be
    /// left out there).
    pub fn parse(text: &str) -> Result<Case, String> {
        let mut case = Case {
            protocol: String::new(),
            channel: String::new(),
            prefix: Vec::new(),
            messages: Vec::new(),
        };
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
            let rest = rest.trim();
            let at = |e: String| format!("line {}: {e}", i + 1);
            match key {
                "protocol" => case.protocol = rest.to_string(),
                "channel" => case.channel = rest.to_string(),
                "prefix" => case.prefix.push(unquote(rest).map_err(at)?),
                "send" => case.messages.push(unquote(rest).map_err(at)?),
                other => return Err(at(format!("unknown key `{other}`"))),
            }
        }
        if case.messages.is_empty() {
            return Err("the case has no `send` line".into());
        }
        Ok(case)
    }
}

/// Escapes bytes for a double-quoted string in a case or feature file. `"`
/// and `$` (which would start a `${profile.key}`) are escaped too.
pub fn quote(bytes: &[u8]) -> String {
    escape(bytes).replace('"', "\\\"").replace('$', "\\x24")
}

/// Escapes bytes for a case file: `${section.key}` stays readable (line
/// protocols fill it from the profile when they send a message).
pub fn quote_plain(bytes: &[u8]) -> String {
    escape(bytes).replace('"', "\\\"")
}

fn unquote(s: &str) -> Result<Vec<u8>, String> {
    let inner = s
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or_else(|| format!("expected a double-quoted string, got {s}"))?;
    unescape(inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        let case = Case {
            protocol: "sockets".into(),
            channel: "udp".into(),
            prefix: vec![b"HELO x\r\n".to_vec()],
            messages: vec![all, b"say \"${x}\"".to_vec(), vec![]],
        };
        let text = case.to_text(&["found by seed 1".into()]);
        assert!(text.starts_with("# found by seed 1\n"));
        assert_eq!(Case::parse(&text).unwrap(), case);
    }

    #[test]
    fn rejects_broken_files() {
        assert!(Case::parse("protocol x\n").is_err());
        assert!(Case::parse("send hello\n").is_err());
        assert!(Case::parse("bogus \"a\"\n").is_err());
    }
}
