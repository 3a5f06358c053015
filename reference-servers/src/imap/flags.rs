//! System flags (RFC 3501 §2.3.2) and their Maildir letters, and keywords
//! (the letters a–z, named per folder: `Maildir::keywords`). A client may
//! create keywords (PERMANENTFLAGS announces `\*`, §7.1) until the 26
//! letters are taken.

/// `(IMAP flag, Maildir letter)`.
const SYSTEM: [(&str, char); 5] = [
    ("\\Answered", 'R'),
    ("\\Flagged", 'F'),
    ("\\Deleted", 'T'),
    ("\\Seen", 'S'),
    ("\\Draft", 'D'),
];

/// The Maildir letter of a system flag (case-insensitive); `None` for
/// keywords and for `\Recent`, which only the server sets.
pub fn letter(flag: &str) -> Option<char> {
    SYSTEM
        .iter()
        .find(|(f, _)| f.eq_ignore_ascii_case(flag))
        .map(|(_, c)| *c)
}

/// `(\Seen \Flagged $Label1)` from Maildir letters and the folder's
/// `keywords` (by letter), `\Recent` added when `recent`.
pub fn render(letters: &str, recent: bool, keywords: &[String]) -> String {
    let mut out: Vec<&str> = SYSTEM
        .iter()
        .filter(|(_, c)| letters.contains(*c))
        .map(|(f, _)| *f)
        .collect();
    for c in letters.chars().filter(char::is_ascii_lowercase) {
        if let Some(k) = keywords
            .get(usize::from(c as u8 - b'a'))
            .filter(|k| !k.is_empty())
        {
            out.push(k);
        }
    }
    if recent {
        out.push("\\Recent");
    }
    format!("({})", out.join(" "))
}

/// The FLAGS of a mailbox (§7.2.6): the system flags and its keywords;
/// with `create`, `\*` too (PERMANENTFLAGS, §7.1: new keywords can be
/// stored while a letter is free).
pub fn list(keywords: &[String], create: bool) -> String {
    let mut out: Vec<&str> = SYSTEM.iter().map(|(f, _)| *f).collect();
    out.extend(
        keywords
            .iter()
            .filter(|k| !k.is_empty())
            .map(String::as_str),
    );
    if create && keywords.iter().filter(|k| !k.is_empty()).count() < crate::mailstore::MAX_KEYWORDS
    {
        out.push("\\*");
    }
    format!("({})", out.join(" "))
}

/// A keyword (§9: flag-keyword is an atom; it does not begin with "\").
pub fn is_keyword(flag: &str) -> bool {
    !flag.is_empty() && !flag.starts_with('\\')
}

pub fn has(letters: &str, flag: char) -> bool {
    letters.contains(flag)
}

/// The Maildir letters of the flags `list` in folder `dir`: system flags
/// by their letters, keywords by the folder's (a free letter given to a new
/// one when `create`); `\Recent`, which only the server sets, and unknown
/// `\` flags are ignored (§6.4.6). The second value is false when a new
/// keyword found no free letter.
pub fn letters(dir: &crate::mailstore::Maildir, list: &[String], create: bool) -> (String, bool) {
    let mut out = String::new();
    let mut all_kept = true;
    for f in list {
        if let Some(c) = letter(f) {
            out.push(c);
        } else if is_keyword(f) {
            match dir.keyword_letter(f, create) {
                Ok(Some(c)) => out.push(c),
                _ => all_kept &= !create,
            }
        }
    }
    (out, all_kept)
}

/// `letters` of a message in a folder whose keywords are `from`, as
/// letters of folder `to` (COPY, MOVE: each folder names its own letters).
pub fn translate(letters_in: &str, from: &[String], to: &crate::mailstore::Maildir) -> String {
    let names: Vec<String> = letters_in
        .chars()
        .filter_map(|c| {
            if c.is_ascii_lowercase() {
                from.get(usize::from(c as u8 - b'a'))
                    .filter(|k| !k.is_empty())
                    .cloned()
            } else {
                SYSTEM
                    .iter()
                    .find(|(_, l)| *l == c)
                    .map(|(f, _)| f.to_string())
            }
        })
        .collect();
    letters(to, &names, true).0
}
