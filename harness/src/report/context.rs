//! What a saved report needs to be read later without the terminal it ran
//! in: which conform, when, against which addresses, and what each server
//! said about itself (its greeting, banner or `Server` field).

use serde::{Deserialize, Serialize};

use super::ScenarioResult;
use crate::protocol::Protocol;
use crate::target::Profile;
use crate::transcript::Dir;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Context {
    /// `conform 0.1.0`.
    pub conform_version: String,
    /// When the run started, RFC 3339 in UTC.
    pub started: String,
    pub targets: Vec<TargetInfo>,
    /// Why the run stopped before its end (`--run-timeout` passed, SIGINT
    /// or SIGTERM); the scenarios it did not start are errors saying so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TargetInfo {
    pub protocol: String,
    /// The profile key: `smtp.address`, `sockets.udp`.
    pub key: String,
    pub address: String,
    /// The first line the server sent on a connection (SMTP, POP3, IMAP,
    /// FTP), or the `Server` field of its first HTTP response, as seen in the
    /// run's transcripts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub banner: Option<String>,
}

impl Context {
    pub fn new(
        started: std::time::SystemTime,
        profile: &Profile,
        protocols: &[Protocol],
        scenarios: &[ScenarioResult],
    ) -> Context {
        let mut targets = Vec::new();
        for p in protocols {
            let Some(keys) = profile.sections().get(p.name()) else {
                continue;
            };
            for (key, value) in keys {
                if !(key == "address"
                    || (*p == Protocol::Sockets && (key == "tcp" || key == "udp")))
                {
                    continue;
                }
                targets.push(TargetInfo {
                    protocol: p.name().to_string(),
                    key: format!("{}.{key}", p.name()),
                    address: value.clone(),
                    banner: banner(*p, scenarios),
                });
            }
        }
        Context {
            conform_version: format!("conform {}", env!("CARGO_PKG_VERSION")),
            started: humantime::format_rfc3339_seconds(started).to_string(),
            targets,
            stopped: None,
        }
    }

    /// This conform, now, no targets (a grade names its submission instead).
    pub fn now() -> Context {
        Context {
            conform_version: format!("conform {}", env!("CARGO_PKG_VERSION")),
            started: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            targets: Vec::new(),
            stopped: None,
        }
    }

    /// `conform 0.1.0 · 2026-12-02T01:00:00Z · smtp 127.0.0.1:25 "220 …"`.
    pub fn line(&self) -> String {
        let mut parts = vec![self.conform_version.clone(), self.started.clone()];
        for t in &self.targets {
            let mut s = format!("{} {}", t.key, t.address);
            if let Some(b) = &t.banner {
                s.push_str(&format!(" \"{b}\""));
            }
            parts.push(s);
        }
        parts.join(" · ")
    }
}

/// The protocol's self-description in the first scenario (in file order)
/// whose transcript shows one.
fn banner(p: Protocol, scenarios: &[ScenarioResult]) -> Option<String> {
    let greets = matches!(
        p,
        Protocol::Smtp | Protocol::Pop3 | Protocol::Imap | Protocol::Ftp
    );
    if !greets && p != Protocol::Http {
        return None;
    }
    for s in scenarios.iter().filter(|s| s.protocol == p.name()) {
        let mut fresh = false;
        for e in &s.transcript {
            match e.dir {
                Dir::Event => fresh = e.text.starts_with("connected"),
                Dir::Server if greets && fresh => {
                    return Some(clean(&e.text));
                }
                Dir::Server if !greets => {
                    let lower = e.text.to_ascii_lowercase();
                    if lower.starts_with("server:") {
                        return Some(clean(&e.text));
                    }
                }
                _ => fresh = false,
            }
        }
    }
    None
}

fn clean(text: &str) -> String {
    let t = text.trim_end_matches("\\n").trim_end_matches("\\r");
    t.chars().take(200).collect()
}
