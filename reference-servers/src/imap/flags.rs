//! System flags (RFC 3501 §2.3.2) and their Maildir letters. Keywords are
//! not stored: PERMANENTFLAGS does not announce `\*`, so clients know.

/// `(IMAP flag, Maildir letter)`.
const SYSTEM: [(&str, char); 5] = [
    ("\\Answered", 'R'),
    ("\\Flagged", 'F'),
    ("\\Deleted", 'T'),
    ("\\Seen", 'S'),
    ("\\Draft", 'D'),
];

pub const FLAGS_LIST: &str = "(\\Answered \\Flagged \\Deleted \\Seen \\Draft)";

/// The Maildir letter of a system flag (case-insensitive); `None` for
/// keywords and for `\Recent`, which only the server sets.
pub fn letter(flag: &str) -> Option<char> {
    SYSTEM
        .iter()
        .find(|(f, _)| f.eq_ignore_ascii_case(flag))
        .map(|(_, c)| *c)
}

/// `(\Seen \Flagged)` from Maildir letters, `\Recent` added when `recent`.
pub fn render(letters: &str, recent: bool) -> String {
    let mut out: Vec<&str> = SYSTEM
        .iter()
        .filter(|(_, c)| letters.contains(*c))
        .map(|(f, _)| *f)
        .collect();
    if recent {
        out.push("\\Recent");
    }
    format!("({})", out.join(" "))
}

pub fn has(letters: &str, flag: char) -> bool {
    letters.contains(flag)
}
