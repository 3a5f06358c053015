//! The selected mailbox as one session sees it (§2.3.1): messages numbered
//! 1..n in UID order, the session's \Recent set, and the updates other
//! sessions (or SMTP deliveries) caused, reported as untagged EXISTS,
//! RECENT, EXPUNGE and FETCH FLAGS responses (§7.3.1, §7.4.1).

use std::collections::HashSet;
use std::io;

use crate::mailstore::{Maildir, Message};

use super::flags;

pub struct Selected {
    pub name: String,
    pub dir: Maildir,
    pub read_only: bool,
    pub uid_validity: u32,
    pub uid_next: u32,
    /// Sequence number n is `messages[n - 1]`.
    pub messages: Vec<Message>,
    /// UIDs that are \Recent for this session.
    pub recent: HashSet<u32>,
    /// The folder's keywords by flag letter (`Maildir::keywords`).
    pub keywords: Vec<String>,
}

impl Selected {
    /// Opens `dir`. A read-write session claims the messages nobody has
    /// seen yet (`new/` in Maildir): they are \Recent for it alone (§2.3.2).
    pub fn open(name: &str, dir: Maildir, read_only: bool) -> io::Result<Selected> {
        let listing = dir.scan()?;
        let keywords = dir.keywords();
        let mut s = Selected {
            name: name.to_string(),
            keywords,
            dir,
            read_only,
            uid_validity: listing.uid_validity,
            uid_next: listing.uid_next,
            messages: listing.messages,
            recent: HashSet::new(),
        };
        s.claim_recent();
        Ok(s)
    }

    fn claim_recent(&mut self) {
        for m in &mut self.messages {
            if m.recent {
                self.recent.insert(m.uid);
                if !self.read_only && self.dir.set_flags(&m.unique, &m.flags).is_ok() {
                    m.recent = false;
                }
            }
        }
    }

    pub fn exists(&self) -> usize {
        self.messages.len()
    }

    pub fn is_recent(&self, m: &Message) -> bool {
        self.recent.contains(&m.uid) || (self.read_only && m.recent)
    }

    pub fn recent_count(&self) -> usize {
        self.messages.iter().filter(|m| self.is_recent(m)).count()
    }

    pub fn largest_uid(&self) -> u32 {
        self.messages.last().map_or(0, |m| m.uid)
    }

    /// Reads the store again and reports what changed. Expunges (and flag
    /// changes) are reported only when `full` is true: §7.4.1 forbids
    /// EXPUNGE during FETCH, STORE and SEARCH, which would renumber
    /// messages under the client.
    pub fn refresh(&mut self, full: bool, out: &mut Vec<u8>) -> io::Result<()> {
        let listing = self.dir.scan()?;
        // Another session may have named new keywords.
        self.keywords = self.dir.keywords();
        let now: std::collections::HashMap<u32, &Message> =
            listing.messages.iter().map(|m| (m.uid, m)).collect();
        if full {
            let mut i = self.messages.len();
            while i > 0 {
                i -= 1;
                if !now.contains_key(&self.messages[i].uid) {
                    out.extend_from_slice(format!("* {} EXPUNGE\r\n", i + 1).as_bytes());
                    self.messages.remove(i);
                }
            }
            for (i, m) in self.messages.iter_mut().enumerate() {
                if let Some(fresh) = now.get(&m.uid) {
                    if fresh.flags != m.flags {
                        m.flags = fresh.flags.clone();
                        let recent = self.recent.contains(&m.uid) || (self.read_only && m.recent);
                        out.extend_from_slice(
                            format!(
                                "* {} FETCH (FLAGS {})\r\n",
                                i + 1,
                                flags::render(&m.flags, recent, &self.keywords)
                            )
                            .as_bytes(),
                        );
                    }
                }
            }
        }
        let largest = self.largest_uid();
        let before = self.messages.len();
        let before_recent = self.recent_count();
        for m in listing.messages.iter().filter(|m| m.uid > largest) {
            self.messages.push(m.clone());
        }
        self.uid_next = listing.uid_next;
        if self.messages.len() != before {
            self.claim_recent();
            out.extend_from_slice(format!("* {} EXISTS\r\n", self.messages.len()).as_bytes());
            if self.recent_count() != before_recent {
                out.extend_from_slice(format!("* {} RECENT\r\n", self.recent_count()).as_bytes());
            }
        }
        Ok(())
    }
}
