//! The mail store shared by the SMTP, POP3 and IMAP reference servers.
//!
//! Layout on disk is plain Maildir (the format postfix delivers to and dovecot
//! serves), so a store written by `conform fixtures` can be served by dovecot
//! and a store filled by our SMTP server can be inspected with any MUA:
//!
//! ```text
//! <root>/<user>/Maildir/{cur,new,tmp}          the user's INBOX
//! <root>/<user>/Maildir/.<Name>/{cur,new,tmp}  further folders (Maildir++)
//! <maildir>/conform-uidlist                    UIDVALIDITY, UIDNEXT, uid → name
//! ```
//!
//! - Delivery writes into `tmp/` and renames into `new/` (atomic; readers
//!   never see half a message).
//! - Every message has a stable *unique name* (the file name before `:2,`),
//!   which POP3 UIDL reports, and a per-folder UID (IMAP, RFC 3501 §2.3.1.1)
//!   kept in `conform-uidlist`, in the spirit of `dovecot-uidlist`.
//! - Flags live in the file name's info suffix, `:2,` followed by flag letters
//!   in ASCII order (D draft, F flagged, P passed, R replied, S seen,
//!   T trashed).
//! - Messages are stored exactly as received, CRLF line ends included, so a
//!   message's size is the octet count POP3 and IMAP report.
//!
//! Operations are synchronous `std::fs` calls on small files; callers in async
//! code just call them (a message is bounded by the SMTP size limit).
//!
//! Concurrency is handled in-process (all reference servers share one
//! [`MailStore`] value): a mutex serialises UID assignment, and
//! [`Maildir::lock`] hands out one exclusive lock per maildir, which POP3
//! takes for its whole session (RFC 1939 §8).

mod accounts;
mod maildir;
mod name;
mod uidlist;

pub use accounts::Accounts;
pub use maildir::{Listing, Maildir, MaildropLock, Message, MAX_KEYWORDS};
pub use name::normalize_flags;

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The folder name that maps onto the Maildir itself.
pub const INBOX: &str = "INBOX";

/// A mail store rooted at a directory; cheap to clone, shared by servers.
#[derive(Clone, Debug)]
pub struct MailStore {
    root: PathBuf,
    shared: Arc<Shared>,
}

/// State shared by every handle on one store.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Held while a folder's UID list is read, updated and written.
    pub(crate) uids: Mutex<()>,
    /// Maildirs whose exclusive lock is taken.
    pub(crate) locked: Mutex<HashSet<PathBuf>>,
}

impl MailStore {
    /// A store rooted at `root` (created if missing).
    pub fn open(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(&root)?;
        Ok(Self {
            root,
            shared: Arc::new(Shared::default()),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// True when `user` has a mailbox (its `Maildir` exists).
    pub fn has_user(&self, user: &str) -> bool {
        valid_name(user) && self.user_dir(user).join("cur").is_dir()
    }

    /// Creates `user`'s INBOX if missing and returns it.
    pub fn create_user(&self, user: &str) -> io::Result<Maildir> {
        if !valid_name(user) {
            return Err(invalid("bad user name"));
        }
        let m = Maildir::new(self.user_dir(user), self.shared.clone());
        m.create()?;
        Ok(m)
    }

    /// `user`'s folder `folder` (`INBOX`, case-insensitive, or a Maildir++
    /// subfolder). Fails with `NotFound` when it does not exist.
    pub fn folder(&self, user: &str, folder: &str) -> io::Result<Maildir> {
        let path = self.folder_path(user, folder)?;
        if !path.join("cur").is_dir() {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no such folder"));
        }
        Ok(Maildir::new(path, self.shared.clone()))
    }

    /// `user`'s INBOX.
    pub fn inbox(&self, user: &str) -> io::Result<Maildir> {
        self.folder(user, INBOX)
    }

    /// Creates folder `folder` for `user` (Maildir++ `.Name`).
    pub fn create_folder(&self, user: &str, folder: &str) -> io::Result<Maildir> {
        if !self.has_user(user) {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no such user"));
        }
        let m = Maildir::new(self.folder_path(user, folder)?, self.shared.clone());
        m.create()?;
        Ok(m)
    }

    /// Names of `user`'s folders: `INBOX` first, then subfolders sorted.
    pub fn folders(&self, user: &str) -> io::Result<Vec<String>> {
        let dir = self.user_dir(user);
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(folder) = name.strip_prefix('.') {
                if !folder.is_empty() && entry.path().join("cur").is_dir() {
                    names.push(folder.to_string());
                }
            }
        }
        names.sort();
        names.insert(0, INBOX.to_string());
        Ok(names)
    }

    /// Removes folder `folder` of `user` with its messages (IMAP DELETE).
    /// INBOX cannot be removed.
    pub fn delete_folder(&self, user: &str, folder: &str) -> io::Result<()> {
        if folder.eq_ignore_ascii_case(INBOX) {
            return Err(invalid("INBOX cannot be deleted"));
        }
        let m = self.folder(user, folder)?;
        std::fs::remove_dir_all(m.path())
    }

    /// Renames folder `from` of `user` to `to` (IMAP RENAME of a folder other
    /// than INBOX). Fails with `AlreadyExists` when `to` exists.
    pub fn rename_folder(&self, user: &str, from: &str, to: &str) -> io::Result<()> {
        if from.eq_ignore_ascii_case(INBOX) || to.eq_ignore_ascii_case(INBOX) {
            return Err(invalid("INBOX cannot be renamed this way"));
        }
        let src = self.folder(user, from)?;
        let dst = self.folder_path(user, to)?;
        if dst.exists() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "the new name exists",
            ));
        }
        std::fs::rename(src.path(), dst)
    }

    /// The user's own directory (next to the Maildir): where servers keep
    /// per-user state such as IMAP subscriptions.
    pub fn user_state_dir(&self, user: &str) -> io::Result<PathBuf> {
        if !valid_name(user) {
            return Err(invalid("bad user name"));
        }
        Ok(self.user_dir(user))
    }

    fn user_dir(&self, user: &str) -> PathBuf {
        self.root.join(user).join("Maildir")
    }

    fn folder_path(&self, user: &str, folder: &str) -> io::Result<PathBuf> {
        if !valid_name(user) {
            return Err(invalid("bad user name"));
        }
        if folder.eq_ignore_ascii_case(INBOX) {
            return Ok(self.user_dir(user));
        }
        // Maildir++ keeps every folder one level down, named ".A.B".
        if !valid_name(folder) || folder.starts_with('.') {
            return Err(invalid("bad folder name"));
        }
        Ok(self.user_dir(user).join(format!(".{folder}")))
    }
}

/// A name usable as one path component: no separators, no `..`, printable.
fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && b != b'/' && b != b'\\')
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

#[cfg(test)]
mod tests;
