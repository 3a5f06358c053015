//! SEARCH criteria (RFC 3501 §6.4.4): parsing the search program and
//! matching one message against it. String matches are case-insensitive
//! substring matches, as §6.4.4 allows.

use super::args::{in_set, parse_set, Args, Parsed};
use super::date;
use super::mime;

#[derive(Clone, Debug)]
pub enum Key {
    All,
    /// A flag letter is set (`\Seen`…), or not.
    Flag(char, bool),
    Recent(bool),
    New,
    Keyword(bool),
    Header(String, Vec<u8>),
    Body(Vec<u8>),
    Text(Vec<u8>),
    Larger(u64),
    Smaller(u64),
    Before(i64),
    On(i64),
    Since(i64),
    SentBefore(i64),
    SentOn(i64),
    SentSince(i64),
    Seq(String),
    Uid(String),
    Not(Box<Key>),
    Or(Box<Key>, Box<Key>),
    And(Vec<Key>),
}

/// What a key is matched against.
pub struct Candidate<'a> {
    pub seq: u32,
    pub uid: u32,
    pub largest_seq: u32,
    pub largest_uid: u32,
    pub flags: &'a str,
    pub recent: bool,
    pub size: u64,
    pub internal_day: i64,
    pub message: &'a dyn Fn() -> Vec<u8>,
}

/// `[CHARSET x] key *(SP key)`. Returns the keys (ANDed) and the charset.
pub fn parse_program(a: &mut Args) -> Parsed<(Key, Option<String>)> {
    let mut charset = None;
    let save = a.i;
    if let Ok(w) = a.atom() {
        if w.eq_ignore_ascii_case("CHARSET") {
            a.space()?;
            charset = Some(a.astring_text()?);
            a.space()?;
        } else {
            a.i = save;
        }
    }
    let mut keys = vec![parse_key(a, 0)?];
    while a.eat(b' ') {
        keys.push(parse_key(a, 0)?);
    }
    a.end()?;
    Ok((Key::And(keys), charset))
}

const MAX_DEPTH: usize = 32;

fn parse_key(a: &mut Args, depth: usize) -> Parsed<Key> {
    if depth > MAX_DEPTH {
        return Err("search keys nested too deeply".into());
    }
    if a.eat(b'(') {
        let mut keys = vec![parse_key(a, depth + 1)?];
        while a.eat(b' ') {
            keys.push(parse_key(a, depth + 1)?);
        }
        if !a.eat(b')') {
            return Err("a parenthesised search key is not closed".into());
        }
        return Ok(Key::And(keys));
    }
    if a.peek().is_some_and(|c| c.is_ascii_digit() || c == b'*') {
        return Ok(Key::Seq(a.sequence_set()?));
    }
    let word = a.atom()?.to_ascii_uppercase();
    let string = |a: &mut Args| -> Parsed<Vec<u8>> {
        a.space()?;
        a.astring()
    };
    let day = |a: &mut Args| -> Parsed<i64> {
        a.space()?;
        let s = a.astring_text()?;
        date::parse_date(&s).ok_or_else(|| format!("\"{s}\" is not a date (d-Mon-yyyy)"))
    };
    Ok(match word.as_str() {
        "ALL" => Key::All,
        "ANSWERED" => Key::Flag('R', true),
        "UNANSWERED" => Key::Flag('R', false),
        "DELETED" => Key::Flag('T', true),
        "UNDELETED" => Key::Flag('T', false),
        "DRAFT" => Key::Flag('D', true),
        "UNDRAFT" => Key::Flag('D', false),
        "FLAGGED" => Key::Flag('F', true),
        "UNFLAGGED" => Key::Flag('F', false),
        "SEEN" => Key::Flag('S', true),
        "UNSEEN" => Key::Flag('S', false),
        "RECENT" => Key::Recent(true),
        "OLD" => Key::Recent(false),
        "NEW" => Key::New,
        "KEYWORD" | "UNKEYWORD" => {
            a.space()?;
            a.atom()?;
            Key::Keyword(word == "UNKEYWORD")
        }
        "FROM" | "TO" | "CC" | "BCC" | "SUBJECT" => {
            let s = string(a)?;
            Key::Header(word.clone(), s)
        }
        "HEADER" => {
            let name = String::from_utf8_lossy(&string(a)?).into_owned();
            let s = string(a)?;
            Key::Header(name, s)
        }
        "BODY" => Key::Body(string(a)?),
        "TEXT" => Key::Text(string(a)?),
        "LARGER" | "SMALLER" => {
            a.space()?;
            let n = u64::from(a.number()?);
            if word == "LARGER" {
                Key::Larger(n)
            } else {
                Key::Smaller(n)
            }
        }
        "BEFORE" => Key::Before(day(a)?),
        "ON" => Key::On(day(a)?),
        "SINCE" => Key::Since(day(a)?),
        "SENTBEFORE" => Key::SentBefore(day(a)?),
        "SENTON" => Key::SentOn(day(a)?),
        "SENTSINCE" => Key::SentSince(day(a)?),
        "UID" => {
            a.space()?;
            Key::Uid(a.sequence_set()?)
        }
        "NOT" => {
            a.space()?;
            Key::Not(Box::new(parse_key(a, depth + 1)?))
        }
        "OR" => {
            a.space()?;
            let x = parse_key(a, depth + 1)?;
            a.space()?;
            let y = parse_key(a, depth + 1)?;
            Key::Or(Box::new(x), Box::new(y))
        }
        other => return Err(format!("unknown search key \"{other}\"")),
    })
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() {
        return true;
    }
    let hay = hay.to_ascii_lowercase();
    let needle = needle.to_ascii_lowercase();
    hay.windows(needle.len()).any(|w| w == needle.as_slice())
}

/// The Date: header's day, for SENT* keys.
fn sent_day(msg: &[u8]) -> Option<i64> {
    let root = mime::parse(msg);
    let v = mime::field(&msg[root.header.0..root.header.1], "Date")?;
    let v = String::from_utf8_lossy(&v).into_owned();
    // "Tue, 14 Nov 2023 22:13:21 +0000" → "14-Nov-2023"
    let v = v.split_once(',').map(|(_, r)| r).unwrap_or(&v);
    let mut it = v.split_whitespace();
    let d = format!("{}-{}-{}", it.next()?, it.next()?, it.next()?);
    date::parse_date(&d)
}

pub fn matches(key: &Key, c: &Candidate) -> Parsed<bool> {
    Ok(match key {
        Key::All => true,
        Key::Flag(f, set) => c.flags.contains(*f) == *set,
        Key::Recent(r) => c.recent == *r,
        Key::New => c.recent && !c.flags.contains('S'),
        Key::Keyword(unset) => *unset,
        Key::Header(name, s) => {
            let msg = (c.message)();
            let root = mime::parse(&msg);
            let header = &msg[root.header.0..root.header.1];
            mime::fields(header)
                .iter()
                .any(|(n, v)| n.eq_ignore_ascii_case(name) && contains(v, s))
        }
        Key::Body(s) => {
            let msg = (c.message)();
            let root = mime::parse(&msg);
            contains(&msg[root.body.0..root.body.1], s)
        }
        Key::Text(s) => contains(&(c.message)(), s),
        Key::Larger(n) => c.size > *n,
        Key::Smaller(n) => c.size < *n,
        Key::Before(d) => c.internal_day < *d,
        Key::On(d) => c.internal_day == *d,
        Key::Since(d) => c.internal_day >= *d,
        Key::SentBefore(d) => sent_day(&(c.message)()).is_some_and(|s| s < *d),
        Key::SentOn(d) => sent_day(&(c.message)()).is_some_and(|s| s == *d),
        Key::SentSince(d) => sent_day(&(c.message)()).is_some_and(|s| s >= *d),
        Key::Seq(set) => in_set(&parse_set(set, c.largest_seq)?, c.seq),
        Key::Uid(set) => in_set(&parse_set(set, c.largest_uid.max(1))?, c.uid),
        Key::Not(k) => !matches(k, c)?,
        Key::Or(x, y) => matches(x, c)? || matches(y, c)?,
        Key::And(keys) => {
            for k in keys {
                if !matches(k, c)? {
                    return Ok(false);
                }
            }
            true
        }
    })
}
