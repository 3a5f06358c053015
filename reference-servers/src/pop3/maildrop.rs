//! The maildrop as one POP3 session sees it: a snapshot taken at login,
//! numbered from 1 (RFC 1939 §5), with deletion marks that only the UPDATE
//! state turns into deletions (§6).

use crate::mailstore::{Maildir, MaildropLock, Message};

pub struct Maildrop {
    pub folder: Maildir,
    messages: Vec<Message>,
    deleted: Vec<bool>,
    /// Held for the whole session (§4: exclusive-access lock).
    _lock: Option<MaildropLock>,
}

impl Maildrop {
    pub fn open(folder: Maildir, lock: Option<MaildropLock>) -> std::io::Result<Self> {
        let messages = folder.list()?;
        let deleted = vec![false; messages.len()];
        Ok(Self {
            folder,
            messages,
            deleted,
            _lock: lock,
        })
    }

    /// Message `n` (1-based) unless it does not exist or is marked deleted.
    pub fn get(&self, n: usize) -> Option<&Message> {
        let i = n.checked_sub(1)?;
        match self.deleted.get(i) {
            Some(false) => self.messages.get(i),
            _ => None,
        }
    }

    /// `(number, message)` for every message not marked deleted.
    pub fn live(&self) -> impl Iterator<Item = (usize, &Message)> {
        self.messages
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.deleted[*i])
            .map(|(i, m)| (i + 1, m))
    }

    pub fn mark_deleted(&mut self, n: usize) -> bool {
        if self.get(n).is_none() {
            return false;
        }
        self.deleted[n - 1] = true;
        true
    }

    /// RSET: every mark removed.
    pub fn unmark_all(&mut self) {
        self.deleted.iter_mut().for_each(|d| *d = false);
    }

    /// The UPDATE state: removes the marked messages. Returns false when
    /// some could not be removed (§6: then -ERR).
    pub fn update(self) -> bool {
        let mut ok = true;
        for (m, deleted) in self.messages.iter().zip(&self.deleted) {
            if *deleted {
                ok &= self.folder.delete(&m.unique).is_ok();
            }
        }
        ok
    }
}
