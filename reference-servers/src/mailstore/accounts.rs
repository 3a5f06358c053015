//! User names and passwords, shared by POP3 (USER/PASS) and IMAP (LOGIN).

use std::collections::BTreeMap;

/// The accounts a store's servers accept.
#[derive(Clone, Debug, Default)]
pub struct Accounts {
    passwords: BTreeMap<String, String>,
}

impl Accounts {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) an account.
    pub fn with(mut self, user: &str, password: &str) -> Self {
        self.passwords
            .insert(user.to_string(), password.to_string());
        self
    }

    /// True when `user` exists and `password` is its password.
    pub fn check(&self, user: &str, password: &str) -> bool {
        self.passwords.get(user).is_some_and(|p| p == password)
    }

    /// The shared secret of `user`, for digest logins (POP3 APOP).
    pub fn password(&self, user: &str) -> Option<&str> {
        self.passwords.get(user).map(String::as_str)
    }

    pub fn users(&self) -> impl Iterator<Item = &str> {
        self.passwords.keys().map(String::as_str)
    }
}
