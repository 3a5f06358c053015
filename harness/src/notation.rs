//! The byte notation shared by feature files, fuzz case files and
//! transcripts: printable ASCII as it is, `\r` `\n` `\t` `\\` and `\xNN` for
//! the rest ([`escape`]); step arguments and case files also take `\0` and
//! `\"` ([`unescape`]); text in XML reports ([`xml_attr`], [`xml_text`]).
//! A leaf: it depends on nothing else in the crate.

use std::fmt::Write as _;

/// Printable ASCII stays as it is; `\r`, `\n`, `\t`, `\\` and every other byte
/// are escaped (`\x00`, `\xe9`), so the transcript shows exactly what crossed
/// the wire.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s
}

/// Like [`escape`] but cut to `max` bytes of input, for messages.
pub fn escape_short(bytes: &[u8], max: usize) -> String {
    if bytes.len() <= max {
        escape(bytes)
    } else {
        format!("{}… ({} bytes in all)", escape(&bytes[..max]), bytes.len())
    }
}

/// The bytes a notation string stands for: `\r` `\n` `\t` `\0` `\\` `\"`
/// and `\xNN`; any other escape is an error.
pub fn unescape(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match bytes.next() {
            Some(b'r') => out.push(b'\r'),
            Some(b'n') => out.push(b'\n'),
            Some(b't') => out.push(b'\t'),
            Some(b'0') => out.push(0),
            Some(b'\\') => out.push(b'\\'),
            Some(b'"') => out.push(b'"'),
            Some(b'x') => {
                let hi = bytes.next().ok_or("\\x needs two hex digits")?;
                let lo = bytes.next().ok_or("\\x needs two hex digits")?;
                let hex = [hi, lo];
                let text = std::str::from_utf8(&hex).map_err(|_| "\\x needs two hex digits")?;
                out.push(
                    u8::from_str_radix(text, 16).map_err(|_| format!("\\x{text} is not hex"))?,
                );
            }
            Some(other) => return Err(format!("unknown escape \\{}", other as char)),
            None => return Err("a lone \\ at the end".into()),
        }
    }
    Ok(out)
}

/// Escapes for an attribute value; characters XML 1.0 forbids become `?`.
pub fn xml_attr(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\n' => o.push_str("&#10;"),
            '\r' => o.push_str("&#13;"),
            '\t' => o.push_str("&#9;"),
            c if is_xml_char(c) => o.push(c),
            _ => o.push('?'),
        }
    }
    o
}

/// Escapes element text.
pub fn xml_text(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '\n' | '\t' => o.push(ch),
            '\r' => o.push_str("&#13;"),
            c if is_xml_char(c) => o.push(c),
            _ => o.push('?'),
        }
    }
    o
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}
