//! Just enough of RFC 5322 and MIME (RFC 2045, RFC 2046) for FETCH: split a
//! message into header and body, read header fields, and split multipart
//! bodies into their parts, recursively (message/rfc822 parts too).
//! Everything works on byte offsets into the stored message, so a section
//! fetched is exactly the bytes stored.

/// Nesting bound for multiparts inside multiparts (hostile messages).
const MAX_DEPTH: usize = 32;
/// Most parts one multipart may have.
const MAX_PARTS: usize = 1000;

/// One entity: a whole message or one body part.
#[derive(Clone, Debug)]
pub struct Part {
    /// Offsets of the header (including the blank line that ends it).
    pub header: (usize, usize),
    /// Offsets of the body.
    pub body: (usize, usize),
    /// The parts of a multipart body, or the one message of a message/rfc822.
    pub children: Vec<Part>,
    /// For message/rfc822: the encapsulated message is `children[0]`.
    pub is_message: bool,
}

/// Parses `msg` as a message.
pub fn parse(msg: &[u8]) -> Part {
    parse_entity(msg, 0, msg.len(), 0, false)
}

fn parse_entity(msg: &[u8], start: usize, end: usize, depth: usize, digest: bool) -> Part {
    let header_end = header_end(&msg[start..end]) + start;
    let mut part = Part {
        header: (start, header_end),
        body: (header_end, end),
        children: Vec::new(),
        is_message: false,
    };
    if depth >= MAX_DEPTH {
        return part;
    }
    let ct = content_type(&msg[start..header_end], digest);
    if ct.0 == "multipart" {
        if let Some(boundary) = ct.2.iter().find(|(k, _)| k == "boundary") {
            let child_digest = ct.1 == "digest";
            for (s, e) in split_multipart(msg, header_end, end, boundary.1.as_bytes()) {
                part.children
                    .push(parse_entity(msg, s, e, depth + 1, child_digest));
            }
        }
    } else if ct.0 == "message" && ct.1 == "rfc822" {
        part.is_message = true;
        part.children
            .push(parse_entity(msg, header_end, end, depth + 1, false));
    }
    part
}

/// Where the header ends: after the first empty line (CRLF CRLF or LF LF),
/// or the whole entity when there is none.
fn header_end(b: &[u8]) -> usize {
    if b.starts_with(b"\r\n") {
        return 2;
    }
    if b.starts_with(b"\n") {
        return 1;
    }
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\n' {
            if b[i + 1..].starts_with(b"\r\n") {
                return i + 3;
            }
            if b[i + 1..].starts_with(b"\n") {
                return i + 2;
            }
        }
        i += 1;
    }
    b.len()
}

/// The parts between `--boundary` lines (RFC 2046 §5.1.1). The CRLF before a
/// boundary line belongs to the boundary.
fn split_multipart(msg: &[u8], start: usize, end: usize, boundary: &[u8]) -> Vec<(usize, usize)> {
    let mut delim = b"--".to_vec();
    delim.extend_from_slice(boundary);
    let mut parts = Vec::new();
    let mut current: Option<usize> = None;
    let mut line_start = start;
    while line_start < end && parts.len() < MAX_PARTS {
        let line_end = msg[line_start..end]
            .iter()
            .position(|c| *c == b'\n')
            .map(|p| line_start + p + 1)
            .unwrap_or(end);
        let line = &msg[line_start..line_end];
        if line.starts_with(&delim) {
            let rest = &line[delim.len()..];
            let closing = rest.starts_with(b"--");
            if let Some(s) = current.take() {
                // The part ends before the CRLF that precedes the boundary.
                let mut e = line_start;
                if e > s && msg[e - 1] == b'\n' {
                    e -= 1;
                    if e > s && msg[e - 1] == b'\r' {
                        e -= 1;
                    }
                }
                parts.push((s, e.max(s)));
            }
            if closing {
                return parts;
            }
            current = Some(line_end);
        }
        line_start = line_end;
    }
    if let Some(s) = current {
        parts.push((s, end));
    }
    parts
}

/// The header's fields as `(name, raw value with folding)`.
pub fn fields(header: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for line in header.split(|c| *c == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if let Some(last) = out.last_mut() {
                last.1.extend_from_slice(b" ");
                last.1.extend_from_slice(trim(line));
            }
            continue;
        }
        if let Some(colon) = line.iter().position(|c| *c == b':') {
            let name = String::from_utf8_lossy(trim(&line[..colon])).into_owned();
            out.push((name, trim(&line[colon + 1..]).to_vec()));
        }
    }
    out
}

/// The first field called `name` (case-insensitive).
pub fn field(header: &[u8], name: &str) -> Option<Vec<u8>> {
    fields(header)
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

pub fn trim(b: &[u8]) -> &[u8] {
    let s = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let e = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(s, |p| p + 1);
    &b[s..e.max(s)]
}

/// `(type, subtype, params)` lower-cased (parameter values keep their
/// case), with the RFC 2045 §5.2 default text/plain; charset=us-ascii, or
/// message/rfc822 inside a multipart/digest (RFC 2046 §5.1.5).
pub fn content_type(header: &[u8], digest: bool) -> (String, String, Vec<(String, String)>) {
    let Some(v) = field(header, "Content-Type") else {
        return if digest {
            ("message".into(), "rfc822".into(), vec![])
        } else {
            (
                "text".into(),
                "plain".into(),
                vec![("charset".into(), "us-ascii".into())],
            )
        };
    };
    let v = String::from_utf8_lossy(&v).into_owned();
    let mut pieces = split_params(&v);
    let kind = if pieces.is_empty() {
        String::new()
    } else {
        pieces.remove(0)
    };
    let (t, s) = kind.split_once('/').unwrap_or(("text", "plain"));
    let params = pieces
        .into_iter()
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            Some((k.trim().to_ascii_lowercase(), unquote(v.trim())))
        })
        .collect();
    (
        t.trim().to_ascii_lowercase(),
        s.trim().to_ascii_lowercase(),
        params,
    )
}

/// `a; b="x;y"; c` split at semicolons outside quotes.
pub fn split_params(v: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in v.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                push(&mut out, c);
            }
            ';' if !quoted => out.push(String::new()),
            _ => push(&mut out, c),
        }
    }
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn push(out: &mut [String], c: char) {
    if let Some(s) = out.last_mut() {
        s.push(c);
    }
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        v[1..v.len() - 1].replace("\\\"", "\"")
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MULTI: &[u8] = b"From: a@b\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\npreamble\r\n--XX\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XX\r\nContent-Type: application/octet-stream\r\n\r\nAAAA\r\n--XX--\r\n";

    #[test]
    fn splits_multiparts() {
        let p = parse(MULTI);
        assert_eq!(p.children.len(), 2);
        let c = &p.children[1];
        assert_eq!(&MULTI[c.body.0..c.body.1], b"AAAA");
        let c = &p.children[0];
        assert_eq!(
            &MULTI[c.header.0..c.header.1],
            b"Content-Type: text/plain\r\n\r\n"
        );
        assert_eq!(&MULTI[c.body.0..c.body.1], b"hello");
    }

    #[test]
    fn header_ends_at_the_blank_line() {
        let m = b"A: 1\r\nB: 2\r\n folded\r\n\r\nbody";
        let p = parse(m);
        assert_eq!(&m[p.body.0..], b"body");
        assert_eq!(field(&m[..p.header.1], "b").unwrap(), b"2 folded");
    }

    #[test]
    fn params() {
        let (t, s, p) = content_type(
            b"Content-Type: Text/HTML; charset=\"utf-8\"; a=b\r\n",
            false,
        );
        assert_eq!((t.as_str(), s.as_str()), ("text", "html"));
        assert_eq!(
            p,
            vec![("charset".into(), "utf-8".into()), ("a".into(), "b".into())]
        );
    }
}
