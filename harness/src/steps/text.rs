//! How step arguments become bytes: `${section.key}` from the profile, then
//! escapes, so a feature file can state any byte sequence exactly.
//!
//! Escapes: `\r` `\n` `\t` `\0` `\\` `\"` and `\xNN`.

use super::{Failure, World};
use crate::notation::unescape;

/// Expands profile variables and escapes in a quoted step argument.
pub fn payload(w: &World, raw: &str) -> Result<Vec<u8>, Failure> {
    let expanded = w.expand(raw)?;
    unescape(&expanded).map_err(|e| Failure::harness(format!("step argument \"{raw}\": {e}")))
}

/// Where two byte strings first differ: the first unequal octet, or the
/// shorter length when one is a prefix of the other.
pub fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
}

/// `n` bytes made by repeating `pattern`.
pub fn repeat_to(pattern: &[u8], n: usize) -> Result<Vec<u8>, Failure> {
    if pattern.is_empty() && n > 0 {
        return Err(Failure::harness("cannot fill bytes from an empty pattern"));
    }
    Ok(pattern.iter().copied().cycle().take(n).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes() {
        assert_eq!(
            unescape(r#"a\r\n\t\\\"\x41\xe9\0"#).unwrap(),
            b"a\r\n\t\\\"A\xe9\0"
        );
        assert!(unescape(r"\q").is_err());
        assert!(unescape(r"\x4").is_err());
        assert!(unescape(r"\xzz").is_err());
        assert!(unescape("\\").is_err());
    }

    #[test]
    fn repeats() {
        assert_eq!(repeat_to(b"ab", 5).unwrap(), b"ababa");
        assert!(repeat_to(b"", 1).is_err());
    }
}

/// Standard base64 (RFC 4648 §4) of a SASL message.
pub fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod base64_tests {
    #[test]
    fn encodes_base64() {
        assert_eq!(super::base64(b"\0bob\0hungry"), "AGJvYgBodW5ncnk=");
        assert_eq!(super::base64(b"ab"), "YWI=");
        assert_eq!(super::base64(b""), "");
    }
}
