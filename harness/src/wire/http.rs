//! HTTP/1.1 responses as a client reads them (RFC 9112): status line, header
//! fields, and the body framed by the rules of §6.3 — no body for HEAD, 1xx,
//! 204 and 304; chunked; Content-Length; else until the server closes.
//!
//! Never trusts the server: every line, the header section and the body are
//! bounded, every read has the connection's deadline, and a framing the RFC
//! calls unrecoverable (an invalid or conflicting Content-Length, a bad chunk)
//! is a [`WireError::Malformed`]. Softer syntax slips are kept as
//! `problems` for the steps to judge.

use std::collections::VecDeque;
use std::sync::Mutex;

use futures::future::BoxFuture;

use super::{Conn, Line, Reply, ReplyReader, Terminator, WireError};

/// The rule a bare LF breaks on the sender's side.
const CRLF_RULE: &str =
    "RFC 9112 §2.1: HTTP-message = start-line CRLF *( field-line CRLF ) CRLF [ message-body ]";

/// Longest status line or field line.
pub const MAX_LINE: usize = 16 * 1024;
/// Most header fields in one response.
pub const MAX_FIELDS: usize = 200;
/// Largest header section.
pub const MAX_HEAD: usize = 64 * 1024;
/// Largest body kept.
pub const MAX_BODY: usize = 16 * 1024 * 1024;
/// Interim (1xx) responses skipped before a final one.
const MAX_INTERIM: usize = 8;

/// How the body of a response was delimited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body by definition (HEAD, 1xx, 204, 304).
    NoBody,
    Length(usize),
    Chunked,
    /// Read until the server closed the connection.
    Close,
}

#[derive(Clone, Debug)]
pub struct Response {
    /// `HTTP/1.1`.
    pub version: String,
    pub status: u16,
    pub reason: String,
    /// The status line and the field lines as received.
    pub lines: Vec<Line>,
    /// `(name, value)` with the value's surrounding whitespace removed.
    pub fields: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    pub framing: Framing,
    /// Statuses of interim responses read before this one (`100`).
    pub interim: Vec<u16>,
    /// Syntax the RFC forbids but that did not prevent reading it.
    pub problems: Vec<String>,
}

impl Response {
    /// All values of a field, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = String> + 'a {
        self.fields
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }

    /// The values of a field joined with `, ` (RFC 9110 §5.3).
    pub fn field(&self, name: &str) -> Option<String> {
        let v: Vec<String> = self.all(name).collect();
        (!v.is_empty()).then(|| v.join(", "))
    }

    /// The response as the generic steps see it.
    pub fn to_reply(&self) -> Reply {
        Reply {
            status: self.status.to_string(),
            lines: self.lines.clone(),
            body: self.body.clone(),
        }
    }
}

/// Reads one final response to an HTTP/1.1 request made with `method`: see
/// [`read_response_to`].
pub async fn read_response(conn: &mut Conn, method: &str) -> Result<Response, WireError> {
    read_response_to(conn, method, false).await
}

/// Reads one final response to a request made with `method` (`http10`: the
/// request said HTTP/1.0). Interim 1xx responses before it are judged and
/// noted; every response read must be well-formed (RFC 9112 §2.1, §4, §5,
/// §6; RFC 9110 §5.5, §8.6, §15.2): a response that is not fails here, for
/// whichever step read it, naming the rule it breaks.
pub async fn read_response_to(
    conn: &mut Conn,
    method: &str,
    http10: bool,
) -> Result<Response, WireError> {
    let mut interim = Vec::new();
    loop {
        let mut r = read_head(conn).await?;
        if (100..200).contains(&r.status) && r.status != 101 {
            if interim.len() >= MAX_INTERIM {
                return Err(WireError::malformed(
                    "response (too many interim 1xx responses)",
                    r.status.to_string().as_bytes(),
                ));
            }
            judge_interim(&mut r, http10)?;
            interim.push(r.status);
            continue;
        }
        r.interim = interim;
        read_body(conn, method, &mut r).await?;
        framing_fields(&mut r, http10);
        reject(&r, "response")?;
        return Ok(r);
    }
}

/// An interim response: well-formed, without framing fields, and never to
/// an HTTP/1.0 request (RFC 9110 §15.2: "A server MUST NOT send a 1xx
/// response to an HTTP/1.0 client").
fn judge_interim(r: &mut Response, http10: bool) -> Result<(), WireError> {
    if http10 {
        r.problems.push(format!(
            "an interim {} response to an HTTP/1.0 request (RFC 9110 §15.2: \"A server MUST NOT send a 1xx response to an HTTP/1.0 client\")",
            r.status
        ));
    }
    framing_fields(r, http10);
    reject(r, "interim 1xx response")
}

/// The fields a status forbids (RFC 9110 §8.6, RFC 9112 §6.1).
fn framing_fields(r: &mut Response, http10: bool) {
    let no_content = r.status < 200 || r.status == 204;
    if no_content && r.field("content-length").is_some() {
        r.problems.push(format!(
            "Content-Length in a {} response (RFC 9110 §8.6: \"A server MUST NOT send a Content-Length header field in any response with a status code of 1xx (Informational) or 204 (No Content)\")",
            r.status
        ));
    }
    if no_content && r.field("transfer-encoding").is_some() {
        r.problems.push(format!(
            "Transfer-Encoding in a {} response (RFC 9112 §6.1: \"A server MUST NOT send a Transfer-Encoding header field in any response with a status code of 1xx (Informational) or 204 (No Content)\")",
            r.status
        ));
    }
    if http10 && r.field("transfer-encoding").is_some() {
        r.problems.push(
            "Transfer-Encoding in the response to an HTTP/1.0 request (RFC 9112 §6.1: \"A server MUST NOT send a response containing Transfer-Encoding unless the corresponding request indicates HTTP/1.1 (or later minor revisions)\")".into(),
        );
    }
}

/// A response with any problem is malformed: the failure names each one and
/// shows the head as received.
fn reject(r: &Response, what: &str) -> Result<(), WireError> {
    if r.problems.is_empty() {
        return Ok(());
    }
    let mut head = Vec::new();
    for l in &r.lines {
        head.extend_from_slice(&l.bytes);
        head.extend_from_slice(match l.end {
            Terminator::Lf => b"\n",
            _ => b"\r\n",
        });
    }
    Err(WireError::malformed(
        format!("HTTP {what}: {}", r.problems.join("; ")),
        &head,
    ))
}

async fn read_head(conn: &mut Conn) -> Result<Response, WireError> {
    let line = conn.read_line(MAX_LINE, "an HTTP status line").await?;
    let (version, status, reason) = status_line(&line.bytes)?;
    let mut problems = Vec::new();
    if line.bytes.len() == 12 {
        problems.push("the status line lacks the SP after the status code (RFC 9112 §4: \"A server MUST send the space that separates the status-code from the reason-phrase even when the reason-phrase is absent\")".to_string());
    }
    if line.end == Terminator::Lf {
        problems.push(format!(
            "the status line ends in a bare LF instead of CRLF ({CRLF_RULE})"
        ));
    }
    if !(100..=599).contains(&status) {
        problems.push(format!(
            "the status code {status} is outside 100..599 (RFC 9110 §15: \"Values outside the range 100..599 are invalid\")"
        ));
    }
    if reason.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
        problems.push("the reason phrase holds a control character (RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ))".into());
    }
    let mut r = Response {
        version,
        status,
        reason,
        lines: vec![line],
        fields: Vec::new(),
        body: Vec::new(),
        framing: Framing::NoBody,
        interim: Vec::new(),
        problems,
    };
    let (fields, lines, problems) = read_fields(conn).await?;
    r.fields = fields;
    r.lines.extend(lines);
    r.problems.extend(problems);
    Ok(r)
}

/// Field lines up to the empty line that ends a header section (RFC 9112
/// §5), bounded: `(fields, lines, problems)`. Shared by the response reader
/// and the HTTP origin peer's request reader (`crate::peer::http`).
pub async fn read_fields(conn: &mut Conn) -> Result<Fields, WireError> {
    let mut r = Response {
        version: String::new(),
        status: 0,
        reason: String::new(),
        lines: Vec::new(),
        fields: Vec::new(),
        body: Vec::new(),
        framing: Framing::NoBody,
        interim: Vec::new(),
        problems: Vec::new(),
    };
    let mut total = 0;
    loop {
        let line = conn
            .read_line(MAX_LINE, "an HTTP header field line")
            .await?;
        if line.bytes.is_empty() {
            if line.end == Terminator::Lf {
                r.problems.push(format!(
                    "the header section ends in a bare LF instead of CRLF ({CRLF_RULE})"
                ));
            }
            return Ok((r.fields, r.lines, r.problems));
        }
        total += line.bytes.len() + 2;
        if total > MAX_HEAD || r.fields.len() >= MAX_FIELDS {
            return Err(WireError::TooLong {
                what: format!("the header section (at most {MAX_FIELDS} fields)"),
                limit: MAX_HEAD,
            });
        }
        let text = line.text();
        if line.end == Terminator::Lf {
            r.problems.push(format!(
                "the field line \"{text}\" ends in a bare LF instead of CRLF ({CRLF_RULE})"
            ));
        }
        if line
            .bytes
            .first()
            .is_some_and(|b| *b == b' ' || *b == b'\t')
        {
            // obs-fold (RFC 9112 §5.2): the value continues the previous field.
            r.problems.push(format!(
                "obsolete line folding: \"{text}\" (RFC 9112 §5.2: \"A sender MUST NOT generate a message that includes line folding\")"
            ));
            if let Some((_, v)) = r.fields.last_mut() {
                v.push(b' ');
                v.extend_from_slice(trim(&line.bytes));
            }
        } else {
            let colon =
                line.bytes.iter().position(|b| *b == b':').ok_or_else(|| {
                    WireError::malformed("header field line (no colon)", &line.bytes)
                })?;
            let name = &line.bytes[..colon];
            if name.is_empty() || !name.iter().all(|b| is_tchar(*b)) {
                r.problems.push(format!(
                    "the field name in \"{text}\" is not a token (RFC 9112 §5.1: field-line = field-name \":\" OWS field-value OWS; \"No whitespace is allowed between the field name and colon\")"
                ));
            }
            let value = &line.bytes[colon + 1..];
            if value.iter().any(|b| b.is_ascii_control() && *b != b'\t') {
                r.problems.push(format!(
                    "the field value in \"{text}\" holds a control character (RFC 9110 §5.5: field-content is VCHAR, obs-text, SP and HTAB; \"Field values containing CR, LF, or NUL characters are invalid and dangerous\")"
                ));
            }
            r.fields.push((
                String::from_utf8_lossy(trim(name)).into_owned(),
                trim(&line.bytes[colon + 1..]).to_vec(),
            ));
        }
        r.lines.push(line);
    }
}

/// What [`read_fields`] returns: `(fields, lines, problems)`.
pub type Fields = (Vec<(String, Vec<u8>)>, Vec<Line>, Vec<String>);

/// `HTTP-version SP status-code SP [ reason-phrase ]` (RFC 9112 §4).
fn status_line(b: &[u8]) -> Result<(String, u16, String), WireError> {
    let bad = || WireError::malformed("HTTP status line", b);
    let version = b.get(..8).ok_or_else(bad)?;
    let ok_version = version.starts_with(b"HTTP/")
        && version[5].is_ascii_digit()
        && version[6] == b'.'
        && version[7].is_ascii_digit();
    if !ok_version || b.get(8) != Some(&b' ') {
        return Err(bad());
    }
    let code = b.get(9..12).ok_or_else(bad)?;
    if !code.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    // The SP after the code is required even when the reason is empty.
    if b.len() > 12 && b[12] != b' ' {
        return Err(bad());
    }
    let status = std::str::from_utf8(code)
        .ok()
        .and_then(|c| c.parse().ok())
        .ok_or_else(bad)?;
    let reason = b.get(13..).unwrap_or_default();
    Ok((
        String::from_utf8_lossy(version).into_owned(),
        status,
        String::from_utf8_lossy(reason).into_owned(),
    ))
}

/// The message body length rules of RFC 9112 §6.3, in order.
async fn read_body(conn: &mut Conn, method: &str, r: &mut Response) -> Result<(), WireError> {
    let te = r.field("transfer-encoding");
    let cl: Vec<String> = r.all("content-length").collect();
    // 1. HEAD, 1xx, 204, 304: the header section ends the message.
    if method.eq_ignore_ascii_case("HEAD") || r.status < 200 || r.status == 204 || r.status == 304 {
        r.framing = Framing::NoBody;
        return Ok(());
    }
    if let Some(te) = te {
        // RFC 9112 §6.2: a sender MUST NOT send Content-Length with
        // Transfer-Encoding; the latter wins for the reader.
        if !cl.is_empty() {
            r.problems.push("the response has both Transfer-Encoding and Content-Length (RFC 9112 §6.2: \"A sender MUST NOT send a Content-Length header field in any message that contains a Transfer-Encoding header field\")".into());
        }
        let last = te
            .rsplit(',')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if last == "chunked" {
            r.framing = Framing::Chunked;
            r.body = chunked(conn).await?;
        } else {
            r.framing = Framing::Close;
            r.body = conn
                .read_to_close(MAX_BODY, "a body delimited by close")
                .await?;
        }
        return Ok(());
    }
    if !cl.is_empty() {
        let n = content_length(&cl)?;
        if n > MAX_BODY {
            return Err(WireError::TooLong {
                what: format!("a body of Content-Length {n}"),
                limit: MAX_BODY,
            });
        }
        r.framing = Framing::Length(n);
        r.body = conn
            .read_exact(n, &format!("the {n}-byte body announced by Content-Length"))
            .await?;
        return Ok(());
    }
    r.framing = Framing::Close;
    r.body = conn
        .read_to_close(
            MAX_BODY,
            "a body delimited by the server closing the connection",
        )
        .await?;
    Ok(())
}

/// One value, possibly repeated identically (RFC 9112 §6.3, item 5).
pub fn content_length(values: &[String]) -> Result<usize, WireError> {
    let mut n: Option<usize> = None;
    for v in values.iter().flat_map(|v| v.split(',')) {
        let v = v.trim();
        let parsed = (!v.is_empty() && v.len() <= 15 && v.bytes().all(|b| b.is_ascii_digit()))
            .then(|| v.parse::<usize>().ok())
            .flatten()
            .ok_or_else(|| WireError::malformed("Content-Length", v.as_bytes()))?;
        match n {
            Some(prev) if prev != parsed => {
                return Err(WireError::malformed(
                    "Content-Length (conflicting values)",
                    values.join(", ").as_bytes(),
                ))
            }
            _ => n = Some(parsed),
        }
    }
    n.ok_or_else(|| WireError::malformed("Content-Length", b""))
}

/// `*chunk last-chunk trailer-section CRLF` (RFC 9112 §7.1).
pub async fn chunked(conn: &mut Conn) -> Result<Vec<u8>, WireError> {
    let mut body = Vec::new();
    loop {
        let line = conn.read_line(1024, "a chunk-size line").await?;
        let size = line.bytes.split(|b| *b == b';').next().unwrap_or_default();
        let size = trim(size);
        if size.is_empty() || size.len() > 15 || !size.iter().all(u8::is_ascii_hexdigit) {
            return Err(WireError::malformed("chunk-size line", &line.bytes));
        }
        let n = usize::from_str_radix(&String::from_utf8_lossy(size), 16)
            .map_err(|_| WireError::malformed("chunk-size line", &line.bytes))?;
        if n == 0 {
            break;
        }
        if body.len() + n > MAX_BODY {
            return Err(WireError::TooLong {
                what: "a chunked body".into(),
                limit: MAX_BODY,
            });
        }
        body.extend(conn.read_exact(n, &format!("a {n}-byte chunk")).await?);
        let end = conn.read_line(2, "the CRLF after a chunk").await?;
        if !end.bytes.is_empty() {
            return Err(WireError::malformed(
                "chunk (data longer than its size)",
                &end.bytes,
            ));
        }
    }
    for _ in 0..MAX_FIELDS {
        if conn
            .read_line(MAX_LINE, "the trailer section")
            .await?
            .bytes
            .is_empty()
        {
            return Ok(body);
        }
    }
    Err(WireError::TooMany {
        what: "the trailer section".into(),
        limit: MAX_FIELDS,
        of: "fields",
    })
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn trim_cr(v: &[u8]) -> &[u8] {
    v.strip_suffix(b"\r").unwrap_or(v)
}

fn trim(v: &[u8]) -> &[u8] {
    let ws = |b: &u8| *b == b' ' || *b == b'\t';
    let s = v.iter().position(|b| !ws(b)).unwrap_or(v.len());
    let e = v.iter().rposition(|b| !ws(b)).map_or(s, |e| e + 1);
    &v[s..e]
}

/// The [`ReplyReader`] for HTTP: a "command" is a complete request, sent as
/// it is; each read takes one response. It remembers which requests were
/// HEAD (their responses have no body) in the order they were sent, and
/// keeps the last response whole for the HTTP steps.
#[derive(Default)]
pub struct HttpReader {
    /// Method and whether the request said HTTP/1.0, per request sent.
    pending: Mutex<VecDeque<(String, bool)>>,
    /// The last two responses read: `(previous, last)`.
    last: Mutex<(Option<Response>, Option<Response>)>,
}

impl HttpReader {
    /// Notes a request sent on the connection (its method decides framing).
    pub fn sent(&self, request: &[u8]) {
        let line = request.split(|b| *b == b'\n').next().unwrap_or_default();
        let mut words = line.split(|b| *b == b' ');
        let method = words
            .next()
            .map(|m| String::from_utf8_lossy(m).into_owned())
            .unwrap_or_default();
        let http10 = words.nth(1).is_some_and(|v| trim_cr(v) == b"HTTP/1.0");
        if let Ok(mut q) = self.pending.lock() {
            q.push_back((method, http10));
        }
    }

    /// Reads the next response to the oldest request sent, stopping at an
    /// interim 1xx one (judged as [`read_response_to`] judges it, and
    /// returned; the request stays pending for its final response). A final
    /// response is read whole and becomes the last one.
    pub async fn read_interim_or_final(&self, conn: &mut Conn) -> Result<Response, WireError> {
        let (method, http10) = self
            .pending
            .lock()
            .ok()
            .and_then(|q| q.front().cloned())
            .unwrap_or_else(|| ("GET".into(), false));
        let mut r = read_head(conn).await?;
        if (100..200).contains(&r.status) && r.status != 101 {
            judge_interim(&mut r, http10)?;
            return Ok(r);
        }
        if let Ok(mut q) = self.pending.lock() {
            q.pop_front();
        }
        read_body(conn, &method, &mut r).await?;
        framing_fields(&mut r, http10);
        reject(&r, "response")?;
        if let Ok(mut l) = self.last.lock() {
            l.0 = l.1.take();
            l.1 = Some(r.clone());
        }
        Ok(r)
    }

    /// The last response read, whole.
    pub fn last(&self) -> Option<Response> {
        self.last.lock().ok().and_then(|l| l.1.clone())
    }

    /// The response read before the last one.
    pub fn previous(&self) -> Option<Response> {
        self.last.lock().ok().and_then(|l| l.0.clone())
    }
}

impl ReplyReader for HttpReader {
    fn protocol(&self) -> &'static str {
        "HTTP"
    }

    fn frame(&self, request: &[u8]) -> Vec<u8> {
        self.sent(request);
        request.to_vec()
    }

    fn read<'a>(&'a self, conn: &'a mut Conn) -> BoxFuture<'a, Result<Reply, WireError>> {
        Box::pin(async move {
            let (method, http10) = self
                .pending
                .lock()
                .ok()
                .and_then(|mut q| q.pop_front())
                .unwrap_or_else(|| ("GET".into(), false));
            let r = read_response_to(conn, &method, http10).await?;
            let reply = r.to_reply();
            if let Ok(mut l) = self.last.lock() {
                l.0 = l.1.take();
                l.1 = Some(r);
            }
            Ok(reply)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(status_line(b"HTTP/1.1 200 OK").unwrap().1, 200);
        assert_eq!(status_line(b"HTTP/1.1 204 ").unwrap().2, "");
        assert_eq!(status_line(b"HTTP/1.0 404").unwrap().1, 404);
        for bad in [
            &b"HTTP/1.1 20 OK"[..],
            b"HTTP/1.1  200 OK",
            b"HTTP/11 200 OK",
            b"http/1.1 200 OK",
            b"HTTP/1.1 200OK",
            b"",
            b"SSH-2.0",
        ] {
            assert!(status_line(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn content_lengths() {
        assert_eq!(content_length(&["5".into()]).unwrap(), 5);
        assert_eq!(content_length(&["5, 5".into(), "5".into()]).unwrap(), 5);
        for bad in [
            &["5, 6".to_string()][..],
            &["-1".into()],
            &["".into()],
            &["0x10".into()],
            &["99999999999999999999".into()],
        ] {
            assert!(content_length(bad).is_err(), "{bad:?}");
        }
    }
}
