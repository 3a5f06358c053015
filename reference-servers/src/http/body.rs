//! How long a request body is and reading it (RFC 9112 §6): Transfer-Encoding
//! chunked, else Content-Length, else no body.

use super::input::{Input, ReadError};
use super::request::{Reject, Request};
use super::MAX_BODY;

/// How the request body is delimited.
#[derive(Debug, PartialEq, Eq)]
pub enum Framing {
    None,
    Length(usize),
    Chunked,
}

/// Decides the framing from the head, or the status to reject it with.
pub fn framing(req: &Request) -> Result<Framing, Reject> {
    let te = req.field("transfer-encoding");
    let has_cl = req.all("content-length").next().is_some();
    if let Some(te) = te {
        // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message MUST be
        // treated as faulty framing, and the connection closed.
        if req.minor == 0 {
            return Err(Reject(400));
        }
        // RFC 9112 §6.1: a server MAY reject a request with both Content-Length
        // and Transfer-Encoding as 400, and MUST close the connection after
        // responding to it. This server rejects.
        if has_cl {
            return Err(Reject(400));
        }
        let codings: Vec<String> = te
            .split(',')
            .map(|c| c.trim().to_ascii_lowercase())
            .filter(|c| !c.is_empty())
            .collect();
        // chunked MUST be last and MUST NOT be applied twice; otherwise the
        // length cannot be determined: 400 (RFC 9112 §6.3, item 4).
        match codings.last().map(String::as_str) {
            Some("chunked") => {}
            _ => return Err(Reject(400)),
        }
        if codings.iter().filter(|c| *c == "chunked").count() > 1 {
            return Err(Reject(400));
        }
        // Other codings are not implemented: 501 (RFC 9112 §6.1).
        if codings.len() > 1 {
            return Err(Reject(501));
        }
        return Ok(Framing::Chunked);
    }
    if !has_cl {
        return Ok(Framing::None);
    }
    // RFC 9112 §6.3, item 5: several differing values, or an invalid one,
    // are unrecoverable: 400. Identical repeats are one value.
    let mut length: Option<usize> = None;
    for value in req.all("content-length") {
        for part in value.split(|b| *b == b',') {
            let part = trim(part);
            if part.is_empty() || part.len() > 12 || !part.iter().all(u8::is_ascii_digit) {
                return Err(Reject(400));
            }
            let n: usize = std::str::from_utf8(part)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or(Reject(400))?;
            match length {
                Some(l) if l != n => return Err(Reject(400)),
                _ => length = Some(n),
            }
        }
    }
    let n = length.ok_or(Reject(400))?;
    if n > MAX_BODY {
        return Err(Reject(413));
    }
    Ok(Framing::Length(n))
}

fn trim(v: &[u8]) -> &[u8] {
    let s = v
        .iter()
        .position(|b| *b != b' ' && *b != b'\t')
        .unwrap_or(v.len());
    let e = v
        .iter()
        .rposition(|b| *b != b' ' && *b != b'\t')
        .map_or(s, |e| e + 1);
    &v[s..e]
}

/// Reads the body framed as `framing`.
pub async fn read(input: &mut Input, framing: &Framing) -> Result<Vec<u8>, Reject> {
    match framing {
        Framing::None => Ok(Vec::new()),
        Framing::Length(n) => input.read_exact(*n).await.map_err(|_| Reject(400)),
        Framing::Chunked => chunked(input).await,
    }
}

/// `chunked-body = *chunk last-chunk trailer-section CRLF` (RFC 9112 §7.1).
pub(crate) async fn chunked(input: &mut Input) -> Result<Vec<u8>, Reject> {
    let mut body = Vec::new();
    loop {
        let line = input.read_line(1024).await.map_err(bad)?;
        // chunk-size [ chunk-ext ]; extensions are ignored (§7.1.1). The size
        // is 1*HEXDIG from the line's first octet: no leading blank, no "0x"
        // (strtol's leniencies); only BWS may come before the ";".
        let size_text = line.split(|b| *b == b';').next().unwrap_or_default();
        let size_text = trim(size_text);
        if line.first().is_some_and(|b| !b.is_ascii_hexdigit()) {
            return Err(Reject(400));
        }
        if size_text.is_empty()
            || size_text.len() > 8
            || !size_text.iter().all(u8::is_ascii_hexdigit)
        {
            return Err(Reject(400));
        }
        let size =
            usize::from_str_radix(std::str::from_utf8(size_text).map_err(|_| Reject(400))?, 16)
                .map_err(|_| Reject(400))?;
        if size == 0 {
            break;
        }
        if body.len() + size > MAX_BODY {
            return Err(Reject(413));
        }
        body.extend(input.read_exact(size).await.map_err(bad)?);
        // Each chunk's data is followed by CRLF.
        if !input.read_line(0).await.map_err(bad)?.is_empty() {
            return Err(Reject(400));
        }
    }
    // The trailer section is read and discarded (§7.1.2), bounded.
    for _ in 0..super::MAX_FIELDS {
        if input
            .read_line(super::MAX_FIELD_LINE)
            .await
            .map_err(bad)?
            .is_empty()
        {
            return Ok(body);
        }
    }
    Err(Reject(431))
}

fn bad(e: ReadError) -> Reject {
    match e {
        ReadError::TooLong | ReadError::Closed => Reject(400),
    }
}
