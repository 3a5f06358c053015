//! Known findings: quirks of a target that a campaign has already judged
//! (a stated deviation, an accepted risk), so that they neither stop a run
//! nor clutter its findings. A TOML file given with `conform fuzz --known`:
//!
//! ```toml
//! [[known]]
//! protocol = "http"          # optional: only for this protocol
//! oracle = "well-formed"     # the oracle the finding fails
//! case = "well-formed-1a2b3c4d"   # the signature conform prints (and names the
//!                                 # regression files by): oracle-fingerprint
//!                                 # of the minimized case
//! message = "no status line" # or/and: words the violation's message contains
//! reason = "nginx answers a request line without a version HTTP/0.9-style"
//! ```
//!
//! An entry matches a finding when its oracle is the finding's and every
//! matcher it gives (`case`, `message`) holds; it must give at least one.

use serde::Deserialize;

use super::engine::Finding;
use super::Oracle;

#[derive(Clone, Debug, Default)]
pub struct Known {
    pub entries: Vec<Entry>,
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub protocol: Option<String>,
    pub oracle: Oracle,
    /// A signature (`oracle-fingerprint`) or a bare fingerprint.
    pub case: Option<String>,
    pub message: Option<String>,
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    known: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    protocol: Option<String>,
    oracle: String,
    case: Option<String>,
    message: Option<String>,
    reason: String,
}

impl Known {
    /// Parses a known-findings file; the error names the entry and key.
    pub fn parse(text: &str) -> Result<Known, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut entries = Vec::new();
        for (i, e) in file.known.into_iter().enumerate() {
            let at = format!("known[{i}]");
            let oracle = Oracle::ALL
                .into_iter()
                .find(|o| o.name() == e.oracle)
                .ok_or_else(|| {
                    format!(
                        "{at}.oracle = \"{}\": not an oracle (one of: {})",
                        e.oracle,
                        Oracle::ALL.map(Oracle::name).join(", ")
                    )
                })?;
            if e.case.is_none() && e.message.is_none() {
                return Err(format!(
                    "{at}: give `case` (a finding's signature) or `message` (words of its message)"
                ));
            }
            if let Some(c) = &e.case {
                let fp = c.rsplit('-').next().unwrap_or_default();
                let named = c.len() == fp.len() || c[..c.len() - fp.len() - 1] == *oracle.name();
                if fp.len() != 8 || !fp.bytes().all(|b| b.is_ascii_hexdigit()) || !named {
                    return Err(format!(
                        "{at}.case = \"{c}\": expected a signature like `{}-1a2b3c4d`",
                        oracle.name()
                    ));
                }
            }
            if e.reason.trim().is_empty() {
                return Err(format!("{at}.reason: say why the finding is known"));
            }
            entries.push(Entry {
                protocol: e.protocol,
                oracle,
                case: e.case,
                message: e.message,
                reason: e.reason,
            });
        }
        Ok(Known { entries })
    }

    /// The reason the finding is known, if an entry matches it.
    pub fn matches(&self, protocol: &str, f: &Finding) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.matches(protocol, f))
            .map(|e| e.reason.as_str())
    }
}

impl Entry {
    fn matches(&self, protocol: &str, f: &Finding) -> bool {
        if self.protocol.as_deref().is_some_and(|p| p != protocol)
            || self.oracle != f.violation.oracle
        {
            return false;
        }
        let case_ok = self.case.as_deref().is_none_or(|c| {
            let fp = f.minimized.fingerprint();
            c == fp || c == f.signature()
        });
        let message_ok = self
            .message
            .as_deref()
            .is_none_or(|m| f.violation.to_string().contains(m));
        case_ok && message_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::{Case, Violation};

    fn finding(oracle: Oracle, message: &str, send: &[u8]) -> Finding {
        let case = Case {
            protocol: "http".into(),
            channel: "address".into(),
            prefix: vec![],
            messages: vec![send.to_vec()],
        };
        Finding::new(Violation::new(oracle, message), case.clone(), case, 1)
    }

    #[test]
    fn matches_by_signature_or_message_and_oracle() {
        let f = finding(Oracle::WellFormed, "no status line: HTTP/0.9", b"GET /\r\n");
        let text = format!(
            "[[known]]\noracle = \"well-formed\"\ncase = \"{}\"\nreason = \"a\"\n\
             [[known]]\nprotocol = \"smtp\"\noracle = \"well-formed\"\nmessage = \"HTTP/0.9\"\nreason = \"b\"\n\
             [[known]]\noracle = \"well-formed\"\nmessage = \"HTTP/0.9\"\nreason = \"c\"\n",
            f.signature()
        );
        let k = Known::parse(&text).unwrap();
        assert_eq!(k.matches("http", &f), Some("a"));
        let other = finding(
            Oracle::WellFormed,
            "no status line: HTTP/0.9",
            b"GET /x\r\n",
        );
        // Not the same case, not smtp: the third entry.
        assert_eq!(k.matches("http", &other), Some("c"));
        let answers = finding(Oracle::Answers, "no status line: HTTP/0.9", b"GET /\r\n");
        assert_eq!(k.matches("http", &answers), None);
    }

    #[test]
    fn says_what_is_wrong_with_an_entry() {
        for (text, says) in [
            ("[[known]]\noracle = \"x\"\nmessage = \"m\"\nreason = \"r\"\n", "known[0].oracle"),
            ("[[known]]\noracle = \"answers\"\nreason = \"r\"\n", "give `case`"),
            (
                "[[known]]\noracle = \"answers\"\ncase = \"well-formed-1a2b3c4d\"\nreason = \"r\"\n",
                "known[0].case",
            ),
            ("[[known]]\noracle = \"answers\"\nmessage = \"m\"\nreason = \" \"\n", "known[0].reason"),
            ("[[known]]\noracle = \"answers\"\nmessage = \"m\"\n", "reason"),
            ("[[known]]\noracle = \"answers\"\nmessage = \"m\"\nreason = \"r\"\nx = 1\n", "x"),
        ] {
            let e = Known::parse(text).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
        assert!(Known::parse(
            "[[known]]\noracle = \"answers\"\ncase = \"1a2b3c4d\"\nreason = \"r\"\n"
        )
        .is_ok());
    }
}
