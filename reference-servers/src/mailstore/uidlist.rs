//! The per-folder UID list: `conform-uidlist` in the maildir.
//!
//! ```text
//! conform-uidlist 1 V<uidvalidity> N<uidnext>
//! <uid> <unique name>
//! ...
//! ```
//!
//! UIDs are assigned in ascending order and never reused: UIDNEXT only grows
//! and an entry whose file is gone is dropped (RFC 3501 §2.3.1.1). Written
//! to a temp file and renamed, so a reader sees the old or the new list.

use std::io;
use std::path::Path;

pub const FILE: &str = "conform-uidlist";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UidList {
    pub validity: u32,
    pub next: u32,
    /// `(uid, unique name)`, ascending by uid.
    pub entries: Vec<(u32, String)>,
}

impl UidList {
    /// A fresh list; UIDVALIDITY is the current time, as dovecot does, so a
    /// recreated folder gets a different one.
    pub fn fresh() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(1);
        Self {
            validity: (secs as u32).max(1),
            next: 1,
            entries: Vec::new(),
        }
    }

    /// Reads the list in `dir`; a missing or unreadable list starts fresh.
    pub fn load(dir: &Path) -> Self {
        std::fs::read_to_string(dir.join(FILE))
            .ok()
            .and_then(|s| Self::parse(&s))
            .unwrap_or_else(Self::fresh)
    }

    pub fn parse(text: &str) -> Option<Self> {
        let mut lines = text.lines();
        let mut head = lines.next()?.split(' ');
        if head.next()? != FILE || head.next()? != "1" {
            return None;
        }
        let validity = head.next()?.strip_prefix('V')?.parse().ok()?;
        let next: u32 = head.next()?.strip_prefix('N')?.parse().ok()?;
        let mut entries = Vec::new();
        for line in lines {
            let (uid, name) = line.split_once(' ')?;
            let uid: u32 = uid.parse().ok()?;
            if uid == 0 || uid >= next || entries.last().is_some_and(|(u, _)| *u >= uid) {
                return None;
            }
            entries.push((uid, name.to_string()));
        }
        Some(Self {
            validity,
            next,
            entries,
        })
    }

    pub fn render(&self) -> String {
        let mut s = format!("{FILE} 1 V{} N{}\n", self.validity, self.next);
        for (uid, name) in &self.entries {
            s.push_str(&format!("{uid} {name}\n"));
        }
        s
    }

    pub fn save(&self, dir: &Path) -> io::Result<()> {
        let tmp = dir.join(format!("{FILE}.tmp"));
        std::fs::write(&tmp, self.render())?;
        std::fs::rename(tmp, dir.join(FILE))
    }
}
