//! Mailbox names and the folder operations of §6.3: the hierarchy delimiter
//! is "." (Maildir++ keeps `A.B` as the directory `.A.B`), LIST patterns
//! with `*` and `%` (§6.3.8), and subscriptions kept in the Maildir's
//! `subscriptions` file, one name a line (as dovecot does), so that they
//! persist across sessions (§6.3.6).

use std::collections::BTreeSet;
use std::io;

use crate::mailstore::MailStore;

pub const DELIMITER: char = '.';

/// Does `name` match LIST `pattern`? `*` matches anything, `%` anything but
/// the delimiter. INBOX matches case-insensitively.
pub fn matches(pattern: &str, name: &str) -> bool {
    let name_cmp: Vec<char> = if name.eq_ignore_ascii_case("INBOX") {
        "INBOX".chars().collect()
    } else {
        name.chars().collect()
    };
    let pattern: String = match pattern.get(..5) {
        Some(head) if head.eq_ignore_ascii_case("INBOX") => format!("INBOX{}", &pattern[5..]),
        _ => pattern.to_string(),
    };
    // Bound the backtracking: runs of `*` are one `*`, and a pattern with
    // more than 8 wildcards matches nothing.
    let mut p: Vec<char> = Vec::new();
    for c in pattern.chars() {
        if !(c == '*' && p.last() == Some(&'*')) {
            p.push(c);
        }
    }
    if p.iter().filter(|c| matches!(c, '*' | '%')).count() > 8 {
        return false;
    }
    glob(&p, &name_cmp, 0)
}

fn glob(p: &[char], n: &[char], depth: usize) -> bool {
    if depth > 64 {
        return false;
    }
    match p.first() {
        None => n.is_empty(),
        Some('*') => (0..=n.len()).any(|k| glob(&p[1..], &n[k..], depth + 1)),
        Some('%') => (0..=n.len())
            .take_while(|k| *k == 0 || n[k - 1] != DELIMITER)
            .any(|k| glob(&p[1..], &n[k..], depth + 1)),
        Some(c) => n.first() == Some(c) && glob(&p[1..], &n[1..], depth),
    }
}

fn subscriptions_file(store: &MailStore, user: &str) -> io::Result<std::path::PathBuf> {
    Ok(store.user_state_dir(user)?.join("subscriptions"))
}

pub fn subscriptions(store: &MailStore, user: &str) -> io::Result<BTreeSet<String>> {
    match std::fs::read_to_string(subscriptions_file(store, user)?) {
        Ok(s) => Ok(s
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(e) => Err(e),
    }
}

/// Serialises the read-modify-write of subscription files: sessions of
/// one user run concurrently.
static SUBSCRIPTIONS: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn set_subscribed(store: &MailStore, user: &str, name: &str, on: bool) -> io::Result<()> {
    let _guard = SUBSCRIPTIONS
        .lock()
        .map_err(|_| io::Error::other("subscription lock poisoned"))?;
    let mut all = subscriptions(store, user)?;
    if on {
        all.insert(name.to_string());
    } else {
        all.remove(name);
    }
    let path = subscriptions_file(store, user)?;
    let tmp = path.with_extension("tmp");
    let text: String = all.iter().map(|n| format!("{n}\n")).collect();
    std::fs::write(&tmp, text)?;
    std::fs::rename(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns() {
        assert!(matches("*", "a.b"));
        assert!(matches("%", "a"));
        assert!(!matches("%", "a.b"));
        assert!(matches("a.%", "a.b"));
        assert!(matches("inbox", "INBOX"));
        assert!(matches("conform-*", "conform-12"));
        assert!(!matches("x", "y"));
    }
}
