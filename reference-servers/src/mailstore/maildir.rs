//! One Maildir folder: deliver, list, read, flag, delete, lock.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use super::name;
use super::uidlist::UidList;
use super::Shared;

/// Where a folder names its keyword letters (dovecot's file name).
const KEYWORDS_FILE: &str = "dovecot-keywords";
/// Maildir has the 26 letters a–z for keywords.
pub const MAX_KEYWORDS: usize = 26;
/// Serialises keyword allocation across the server's sessions.
static KEYWORDS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A Maildir folder (`cur`, `new`, `tmp`).
#[derive(Clone, Debug)]
pub struct Maildir {
    path: PathBuf,
    shared: Arc<Shared>,
}

/// One message as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Per-folder UID, stable across sessions (IMAP UID).
    pub uid: u32,
    /// The file name's unique part, stable for the message's life (POP3
    /// UIDL; RFC 1939 §7 allows 1 to 70 characters 0x21–0x7E).
    pub unique: String,
    /// Size in octets, exactly as stored (CRLF line ends).
    pub size: u64,
    /// Maildir flag letters, sorted (`"FS"`).
    pub flags: String,
    /// Still in `new/`: not yet seen by any mail reader (IMAP \Recent).
    pub recent: bool,
    /// When it was delivered (file modification time).
    pub delivered: SystemTime,
}

/// A folder's messages with its UID state.
#[derive(Clone, Debug)]
pub struct Listing {
    pub uid_validity: u32,
    pub uid_next: u32,
    /// Ascending by UID.
    pub messages: Vec<Message>,
}

/// An exclusive lock on one maildir, released when dropped.
#[derive(Debug)]
pub struct MaildropLock {
    path: PathBuf,
    shared: Arc<Shared>,
}

impl Drop for MaildropLock {
    fn drop(&mut self) {
        if let Ok(mut set) = self.shared.locked.lock() {
            set.remove(&self.path);
        }
    }
}

impl Maildir {
    pub(crate) fn new(path: PathBuf, shared: Arc<Shared>) -> Self {
        Self { path, shared }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn create(&self) -> io::Result<()> {
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(self.path.join(sub))?;
        }
        Ok(())
    }

    /// Delivers a new message: written to `tmp/`, then renamed into `new/`.
    /// Returns its unique name.
    pub fn deliver(&self, bytes: &[u8]) -> io::Result<String> {
        self.store(bytes, "new", None)
    }

    /// Stores a message straight into `cur/` with `flags` (IMAP APPEND).
    pub fn append(&self, bytes: &[u8], flags: &str) -> io::Result<String> {
        self.store(bytes, "cur", Some(flags))
    }

    fn store(&self, bytes: &[u8], dir: &str, flags: Option<&str>) -> io::Result<String> {
        let unique = name::unique(bytes.len());
        let tmp = self.path.join("tmp").join(&unique);
        std::fs::write(&tmp, bytes)?;
        let file = match flags {
            Some(f) => name::with_flags(&unique, f),
            None => unique.clone(),
        };
        if let Err(e) = std::fs::rename(&tmp, self.path.join(dir).join(file)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(unique)
    }

    /// The messages, ascending by UID.
    pub fn list(&self) -> io::Result<Vec<Message>> {
        Ok(self.scan()?.messages)
    }

    /// The messages with UIDVALIDITY and UIDNEXT. New files get UIDs here,
    /// in delivery order (modification time, then name).
    pub fn scan(&self) -> io::Result<Listing> {
        let _guard = self
            .shared
            .uids
            .lock()
            .map_err(|_| io::Error::other("uid lock poisoned"))?;
        let mut found: HashMap<String, Message> = HashMap::new();
        for (sub, recent) in [("new", true), ("cur", false)] {
            for entry in std::fs::read_dir(self.path.join(sub))? {
                let entry = entry?;
                let file = entry.file_name().to_string_lossy().into_owned();
                if file.starts_with('.') {
                    continue;
                }
                let meta = match entry.metadata() {
                    Ok(m) if m.is_file() => m,
                    _ => continue, // gone meanwhile, or not a message
                };
                let (unique, flags) = name::split(&file);
                found.insert(
                    unique.to_string(),
                    Message {
                        uid: 0,
                        unique: unique.to_string(),
                        size: meta.len(),
                        flags: name::normalize_flags(flags),
                        recent,
                        delivered: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    },
                );
            }
        }
        let old = UidList::load(&self.path);
        let mut list = UidList {
            entries: Vec::with_capacity(found.len()),
            ..old.clone()
        };
        let mut messages = Vec::with_capacity(found.len());
        for (uid, unique) in &old.entries {
            if let Some(mut m) = found.remove(unique) {
                m.uid = *uid;
                list.entries.push((*uid, unique.clone()));
                messages.push(m);
            }
        }
        let mut fresh: Vec<Message> = found.into_values().collect();
        fresh.sort_by(|a, b| (a.delivered, &a.unique).cmp(&(b.delivered, &b.unique)));
        for mut m in fresh {
            m.uid = list.next;
            list.next = list.next.saturating_add(1);
            list.entries.push((m.uid, m.unique.clone()));
            messages.push(m);
        }
        if list != old {
            list.save(&self.path)?;
        }
        Ok(Listing {
            uid_validity: list.validity,
            uid_next: list.next,
            messages,
        })
    }

    /// Where the message with this unique name is now (it moves between
    /// `new/` and `cur/` and its name changes with its flags).
    pub fn find(&self, unique: &str) -> io::Result<PathBuf> {
        for sub in ["cur", "new"] {
            for entry in std::fs::read_dir(self.path.join(sub))? {
                let entry = entry?;
                let file = entry.file_name();
                let file = file.to_string_lossy();
                if name::split(&file).0 == unique {
                    return Ok(entry.path());
                }
            }
        }
        Err(io::Error::new(io::ErrorKind::NotFound, "no such message"))
    }

    /// The message's bytes, exactly as stored.
    pub fn read(&self, unique: &str) -> io::Result<Vec<u8>> {
        std::fs::read(self.find(unique)?)
    }

    /// Replaces the message's flags; the message moves to `cur/`.
    pub fn set_flags(&self, unique: &str, flags: &str) -> io::Result<()> {
        let from = self.find(unique)?;
        let to = self.path.join("cur").join(name::with_flags(unique, flags));
        if from != to {
            std::fs::rename(from, to)?;
        }
        Ok(())
    }

    /// The folder's IMAP keywords (RFC 3501 §2.3.2), by flag letter: the
    /// name at index n is the letter `a` + n, as dovecot keeps them in the
    /// folder's `dovecot-keywords` ("n name" per line); `""` where unused.
    pub fn keywords(&self) -> Vec<String> {
        let mut out = Vec::new();
        let Ok(text) = std::fs::read_to_string(self.path.join(KEYWORDS_FILE)) else {
            return out;
        };
        for line in text.lines() {
            let Some((n, name)) = line.split_once(' ') else {
                continue;
            };
            let Ok(n) = n.parse::<usize>() else { continue };
            if n < MAX_KEYWORDS && !name.is_empty() {
                if out.len() <= n {
                    out.resize(n + 1, String::new());
                }
                out[n] = name.to_string();
            }
        }
        out
    }

    /// The flag letter of keyword `name` (case-insensitive, as flags are),
    /// given the next free letter when `create`; `None` when it is unknown
    /// and not created, or all 26 letters are taken.
    pub fn keyword_letter(&self, name: &str, create: bool) -> io::Result<Option<char>> {
        let letter = |i: usize| char::from(b'a' + i as u8);
        // One writer at a time: two sessions never give one letter twice.
        let _guard = KEYWORDS.lock().unwrap_or_else(|e| e.into_inner());
        let known = self.keywords();
        if let Some(i) = known.iter().position(|k| k.eq_ignore_ascii_case(name)) {
            return Ok(Some(letter(i)));
        }
        if !create {
            return Ok(None);
        }
        let Some(i) = (0..MAX_KEYWORDS).find(|&i| known.get(i).is_none_or(|k| k.is_empty())) else {
            return Ok(None);
        };
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path.join(KEYWORDS_FILE))?;
        writeln!(f, "{i} {name}")?;
        Ok(Some(letter(i)))
    }

    /// Removes the message (POP3 UPDATE, IMAP EXPUNGE). Its UID is not reused.
    pub fn delete(&self, unique: &str) -> io::Result<()> {
        std::fs::remove_file(self.find(unique)?)
    }

    /// Takes this maildir's exclusive lock, or fails with `WouldBlock` when
    /// another session holds it (POP3: RFC 1939 §4, "exclusive-access lock").
    pub fn lock(&self) -> io::Result<MaildropLock> {
        let mut set = self
            .shared
            .locked
            .lock()
            .map_err(|_| io::Error::other("lock table poisoned"))?;
        if !set.insert(self.path.clone()) {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "maildrop already locked",
            ));
        }
        Ok(MaildropLock {
            path: self.path.clone(),
            shared: self.shared.clone(),
        })
    }
}
