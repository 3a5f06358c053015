//! Maildir file names: `<unique>[:2,<flags>]`.
//!
//! The unique part follows the Maildir convention
//! `<seconds>.M<micros>P<pid>Q<counter>.<host>`, plus `,S=<size>` as postfix
//! and dovecot write it; micros and counter zero-padded.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A new unique name for a message of `size` octets.
pub fn unique(size: usize) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let q = COUNTER.fetch_add(1, Ordering::Relaxed);
    // Zero-padded, so that names made in one second sort in the order
    // they were made: new messages get their UIDs in (mtime, name) order,
    // and mtimes are coarse (RFC 3501 §2.3.1.1: strictly ascending UIDs).
    format!(
        "{}.M{:06}P{}Q{:09}.conform,S={}",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id(),
        q,
        size
    )
}

/// Splits a file name into its unique part and its flags (`""` when the name
/// has no `:2,` info).
pub fn split(file_name: &str) -> (&str, &str) {
    match file_name.split_once(":2,") {
        Some((u, f)) => (u, f),
        None => (file_name.split(':').next().unwrap_or(file_name), ""),
    }
}

/// The file name for `unique` with `flags` (normalised).
pub fn with_flags(unique: &str, flags: &str) -> String {
    format!("{unique}:2,{}", normalize_flags(flags))
}

/// Maildir flags are single ASCII letters kept sorted and without repeats.
pub fn normalize_flags(flags: &str) -> String {
    let mut v: Vec<char> = flags.chars().filter(|c| c.is_ascii_alphabetic()).collect();
    v.sort_unstable();
    v.dedup();
    v.into_iter().collect()
}

#[cfg(test)]
mod order_tests {
    /// Names sort in the order they were made (the tie-break of UID
    /// assignment when mtimes are equal).
    #[test]
    fn unique_names_sort_in_creation_order() {
        let made: Vec<String> = (0..3000).map(|_| super::unique(10)).collect();
        let mut sorted = made.clone();
        sorted.sort();
        assert_eq!(made, sorted);
    }
}
