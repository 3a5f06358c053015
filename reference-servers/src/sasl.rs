//! SASL pieces the mail servers share (RFC 4422): the base64 of client
//! responses (RFC 4648 §4) and the PLAIN mechanism's message (RFC 4616).

/// What a PLAIN message (RFC 4616 §2, `[authzid] NUL authcid NUL passwd`)
/// says.
#[derive(Debug, PartialEq, Eq)]
pub enum Plain {
    /// Log in as `user` with `password` (no authzid, or the same one).
    Credentials { user: String, password: String },
    /// Not three NUL-separated parts.
    Malformed,
    /// An authorization identity other than the authentication identity:
    /// this server lets nobody act as another user (§2: the server
    /// "verifies the client is authorized to act as the authzid").
    OtherIdentity,
}

pub fn plain(message: &[u8]) -> Plain {
    let parts: Vec<&[u8]> = message.split(|c| *c == 0).collect();
    if parts.len() != 3 || parts[1].is_empty() {
        return Plain::Malformed;
    }
    if !parts[0].is_empty() && parts[0] != parts[1] {
        return Plain::OtherIdentity;
    }
    Plain::Credentials {
        user: String::from_utf8_lossy(parts[1]).into_owned(),
        password: String::from_utf8_lossy(parts[2]).into_owned(),
    }
}

/// A client's response line: `=` is the empty response (RFC 4954 §4, RFC
/// 4959 §3), anything else base64; `None` if it is not base64.
pub fn response(line: &[u8]) -> Option<Vec<u8>> {
    if line == b"=" {
        return Some(Vec::new());
    }
    base64_decode(line)
}

/// Standard base64 (RFC 4648 §4), strict: `None` on anything else.
pub fn base64_decode(input: &[u8]) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    if !input.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    for chunk in input.chunks(4) {
        let pad = chunk.iter().rev().take_while(|c| **c == b'=').count();
        if pad > 2 {
            return None;
        }
        let mut n = 0u32;
        for (k, c) in chunk.iter().enumerate() {
            let v = if k >= 4 - pad { 0 } else { val(*c)? };
            n = n << 6 | v;
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_base64_and_plain() {
        assert_eq!(
            base64_decode(b"AGJvYgBodW5ncnk=").unwrap(),
            b"\0bob\0hungry"
        );
        assert!(base64_decode(b"abc").is_none());
        assert!(base64_decode(b"a*==").is_none());
        assert_eq!(response(b"=").unwrap(), b"");
        assert_eq!(
            plain(b"\0bob\0hungry"),
            Plain::Credentials {
                user: "bob".into(),
                password: "hungry".into()
            }
        );
        assert_eq!(
            plain(b"bob\0bob\0x"),
            Plain::Credentials {
                user: "bob".into(),
                password: "x".into()
            }
        );
        assert_eq!(plain(b"eve\0bob\0x"), Plain::OtherIdentity);
        assert_eq!(plain(b"bob\0hungry"), Plain::Malformed);
    }
}
