//! The request head: request-line and header fields (RFC 9112 §2–§5).

use super::input::{Input, ReadError};
use super::{MAX_FIELDS, MAX_FIELD_LINE, MAX_HEADER_BYTES, MAX_REQUEST_LINE};

/// A request the server refuses before (or instead of) dispatching it: the
/// status to answer with. The connection is closed afterwards, because the
/// server can no longer be sure where the next request starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reject(pub u16);

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub target: String,
    /// The minor version of `HTTP/1.x`.
    pub minor: u8,
    /// Field names as sent, values with surrounding whitespace removed.
    pub fields: Vec<(String, Vec<u8>)>,
}

impl Request {
    /// Every value of the field `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.fields
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The field's values joined by commas (RFC 9110 §5.3), lossily decoded.
    pub fn field(&self, name: &str) -> Option<String> {
        let values: Vec<String> = self
            .all(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }

    /// Whether a comma-separated field lists `token` (case-insensitive).
    pub fn lists(&self, name: &str, token: &str) -> bool {
        self.field(name)
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }
}

/// tchar of RFC 9110 §5.6.2.
pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|b| is_tchar(*b))
}

/// Reads one request head. `Ok(None)` means the client closed the connection
/// cleanly between requests.
pub async fn read_head(input: &mut Input) -> Result<Option<Request>, Reject> {
    // RFC 9112 §2.2: a server SHOULD ignore at least one empty line received
    // before the request-line.
    let mut line = Vec::new();
    for _ in 0..4 {
        line = match input.read_line(MAX_REQUEST_LINE).await {
            Ok(l) => l,
            Err(ReadError::Closed) => return Ok(None),
            // RFC 9112 §3: a request-target longer than the server will
            // parse MUST be answered with 414.
            Err(ReadError::TooLong) => return Err(Reject(414)),
        };
        if !line.is_empty() {
            break;
        }
    }
    let (method, target, minor) = request_line(&line)?;
    let mut fields = Vec::new();
    let mut total = 0;
    loop {
        let line = match input.read_line(MAX_FIELD_LINE).await {
            Ok(l) => l,
            Err(ReadError::Closed) => return Err(Reject(400)),
            Err(ReadError::TooLong) => return Err(Reject(431)),
        };
        if line.is_empty() {
            break;
        }
        total += line.len() + 2;
        if total > MAX_HEADER_BYTES || fields.len() >= MAX_FIELDS {
            return Err(Reject(431));
        }
        fields.push(field_line(&line)?);
    }
    Ok(Some(Request {
        method,
        target,
        minor,
        fields,
    }))
}

/// `method SP request-target SP HTTP-version` (RFC 9112 §3), single spaces.
fn request_line(line: &[u8]) -> Result<(String, String, u8), Reject> {
    // A bare CR is not a line ending; RFC 9112 §2.2 lets a recipient reject it.
    if line.contains(&b'\r') {
        return Err(Reject(400));
    }
    let parts: Vec<&[u8]> = line.split(|b| *b == b' ').collect();
    let [method, target, version] = parts.as_slice() else {
        return Err(Reject(400));
    };
    if !is_token(method) || target.is_empty() {
        return Err(Reject(400));
    }
    // The target is visible ASCII only.
    if !target.iter().all(|b| (0x21..0x7f).contains(b)) {
        return Err(Reject(400));
    }
    let minor = version_of(version)?;
    Ok((
        String::from_utf8_lossy(method).into_owned(),
        String::from_utf8_lossy(target).into_owned(),
        minor,
    ))
}

/// `HTTP/DIGIT.DIGIT` (RFC 9112 §2.3). Another major version is 505
/// (RFC 9110 §15.6.6); anything else is not a version at all: 400.
fn version_of(v: &[u8]) -> Result<u8, Reject> {
    match v {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            if *major != b'1' {
                return Err(Reject(505));
            }
            Ok(minor - b'0')
        }
        _ => Err(Reject(400)),
    }
}

/// `field-name ":" OWS field-value OWS` (RFC 9112 §5).
pub(crate) fn field_line(line: &[u8]) -> Result<(String, Vec<u8>), Reject> {
    // RFC 9112 §5.2: obs-fold (a line starting with SP or HTAB) may be
    // rejected with 400.
    if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
        return Err(Reject(400));
    }
    let colon = line.iter().position(|b| *b == b':').ok_or(Reject(400))?;
    let name = &line[..colon];
    // RFC 9112 §5.1: no whitespace between name and colon; a server MUST
    // reject such a message with 400. A name is a token.
    if !is_token(name) {
        return Err(Reject(400));
    }
    let value = trim_ows(&line[colon + 1..]);
    // RFC 9110 §5.5: CR, LF and NUL are never allowed in a value.
    if value.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err(Reject(400));
    }
    Ok((String::from_utf8_lossy(name).into_owned(), value.to_vec()))
}

fn trim_ows(v: &[u8]) -> &[u8] {
    let ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = v.iter().position(|b| !ows(b)).unwrap_or(v.len());
    let end = v.iter().rposition(|b| !ows(b)).map_or(start, |e| e + 1);
    &v[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        assert_eq!(
            request_line(b"GET / HTTP/1.1"),
            Ok(("GET".into(), "/".into(), 1))
        );
        assert_eq!(request_line(b"GET  / HTTP/1.1"), Err(Reject(400)));
        assert_eq!(request_line(b"GET / HTTP/2.0"), Err(Reject(505)));
        assert_eq!(request_line(b"GET / HTTP/1.10"), Err(Reject(400)));
        assert_eq!(request_line(b"GET / http/1.1"), Err(Reject(400)));
        assert_eq!(request_line(b"G(T / HTTP/1.1"), Err(Reject(400)));
        assert_eq!(request_line(b"GET /\r HTTP/1.1"), Err(Reject(400)));
        assert_eq!(request_line(b"GET /a\xff HTTP/1.1"), Err(Reject(400)));
    }

    #[test]
    fn field_lines() {
        assert_eq!(
            field_line(b"Host:  a.test \t"),
            Ok(("Host".into(), b"a.test".to_vec()))
        );
        assert_eq!(field_line(b"Host : a"), Err(Reject(400)));
        assert_eq!(field_line(b" folded"), Err(Reject(400)));
        assert_eq!(field_line(b"no colon"), Err(Reject(400)));
        assert_eq!(field_line(b"X: a\rb"), Err(Reject(400)));
        assert_eq!(field_line(b"X:"), Ok(("X".into(), vec![])));
    }
}
