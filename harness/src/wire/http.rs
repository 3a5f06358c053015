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

use super::codec::{line_at, Decoded, Decoder, Malformed};
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
        let mut r = conn.read_decoded(&mut ResponseDecoder::new(method)).await?;
        if is_interim(r.status) {
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
        judge_final(&mut r, http10)?;
        return Ok(r);
    }
}

/// An interim (1xx) response other than 101: a final one follows it.
pub fn is_interim(status: u16) -> bool {
    (100..200).contains(&status) && status != 101
}

/// A final response: the fields its status forbids, and every problem
/// found while reading it, make it malformed.
pub fn judge_final(r: &mut Response, http10: bool) -> Result<(), WireError> {
    framing_fields(r, http10);
    reject(r, "response")
}

/// An interim response: well-formed, without framing fields, and never to
/// an HTTP/1.0 request (RFC 9110 §15.2: "A server MUST NOT send a 1xx
/// response to an HTTP/1.0 client").
pub fn judge_interim(r: &mut Response, http10: bool) -> Result<(), WireError> {
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

/// One response (RFC 9112 §4–§7), decoded without I/O: the status line,
/// the header section, and the body framed by the rules of §6.3 for a
/// request made with `method` — none for HEAD, 1xx, 204 and 304; chunked;
/// Content-Length; else up to the close. An interim 1xx response ends with
/// its header section; the caller reads the final one after it. Soft syntax
/// slips are kept in [`Response::problems`] for the caller to judge. The
/// fuzzer reads responses through it too.
pub struct ResponseDecoder {
    head: bool,
    max_body: usize,
    /// Where the header section (then the body) starts.
    pos: usize,
    response: Option<Response>,
    fields: FieldsDecoder,
    body: Body,
}

enum Body {
    /// The header section is not complete yet.
    Pending,
    Length(usize),
    Chunked(ChunkedDecoder),
    Close,
}

impl ResponseDecoder {
    pub fn new(method: &str) -> ResponseDecoder {
        ResponseDecoder {
            head: method.eq_ignore_ascii_case("HEAD"),
            max_body: MAX_BODY,
            pos: 0,
            response: None,
            fields: FieldsDecoder::default(),
            body: Body::Pending,
        }
    }

    fn reset(&mut self) {
        self.pos = 0;
        self.response = None;
        self.fields = FieldsDecoder::default();
        self.body = Body::Pending;
    }

    fn fail(&mut self, m: Malformed) -> Decoded<Response> {
        self.reset();
        Decoded::Malformed(m)
    }

    fn done(&mut self, body: Vec<u8>, used: usize) -> Decoded<Response> {
        let framing = match &self.body {
            Body::Pending => Framing::NoBody,
            Body::Length(n) => Framing::Length(*n),
            Body::Chunked(_) => Framing::Chunked,
            Body::Close => Framing::Close,
        };
        let r = self.response.take();
        self.reset();
        match r {
            Some(mut r) => {
                r.body = body;
                r.framing = framing;
                Decoded::Complete(r, used)
            }
            None => Decoded::Incomplete,
        }
    }

    /// The message body length rules of RFC 9112 §6.3, in order, once the
    /// header section is in.
    fn framing(&mut self) -> Result<Body, Malformed> {
        let Some(r) = self.response.as_mut() else {
            return Ok(Body::Pending);
        };
        // 1. HEAD, 1xx, 204, 304: the header section ends the message.
        if self.head || r.status < 200 || r.status == 204 || r.status == 304 {
            return Ok(Body::Pending);
        }
        let cl: Vec<String> = r.all("content-length").collect();
        if let Some(te) = r.field("transfer-encoding") {
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
            return Ok(if last == "chunked" {
                Body::Chunked(ChunkedDecoder {
                    max_body: self.max_body,
                    ..ChunkedDecoder::default()
                })
            } else {
                Body::Close
            });
        }
        if !cl.is_empty() {
            let n = length_of(&cl)?;
            if n > self.max_body {
                return Err(Malformed::TooLong {
                    what: format!("a body of Content-Length {n}"),
                    limit: self.max_body,
                });
            }
            return Ok(Body::Length(n));
        }
        Ok(Body::Close)
    }
}

impl Decoder for ResponseDecoder {
    type Item = Response;

    fn decode(&mut self, buf: &[u8]) -> Decoded<Response> {
        if self.response.is_none() {
            let (line, next) = match line_at(buf, 0, MAX_LINE, "an HTTP status line") {
                Ok(Some(l)) => l,
                Ok(None) => return Decoded::Incomplete,
                Err(m) => return self.fail(m),
            };
            match status_of(line) {
                Ok(r) => self.response = Some(r),
                Err(m) => return self.fail(m),
            }
            self.pos = next;
        }
        if let Body::Pending = self.body {
            let at = self.pos.min(buf.len());
            let (fields, lines, problems) = match self.fields.decode(&buf[at..]) {
                Decoded::Complete(f, used) => {
                    self.pos += used;
                    f
                }
                Decoded::Incomplete => return Decoded::Incomplete,
                Decoded::Malformed(m) => return self.fail(m),
            };
            if let Some(r) = self.response.as_mut() {
                r.fields = fields;
                r.lines.extend(lines);
                r.problems.extend(problems);
            }
            match self.framing() {
                Ok(Body::Pending) => return self.done(Vec::new(), self.pos),
                Ok(body) => self.body = body,
                Err(m) => return self.fail(m),
            }
        }
        let at = self.pos.min(buf.len());
        let rest = &buf[at..];
        match &mut self.body {
            Body::Pending => Decoded::Incomplete,
            Body::Length(n) => {
                let n = *n;
                if rest.len() < n {
                    return Decoded::Incomplete;
                }
                let body = rest[..n].to_vec();
                self.done(body, at + n)
            }
            Body::Chunked(c) => match c.decode(rest) {
                Decoded::Complete(body, used) => self.done(body, at + used),
                Decoded::Incomplete => Decoded::Incomplete,
                Decoded::Malformed(m) => self.fail(m),
            },
            Body::Close if rest.len() > self.max_body => {
                let limit = self.max_body;
                self.fail(Malformed::TooLong {
                    what: "a body delimited by the server closing the connection".into(),
                    limit,
                })
            }
            Body::Close => Decoded::Incomplete,
        }
    }

    fn decode_eof(&mut self, buf: &[u8]) -> Decoded<Response> {
        match self.decode(buf) {
            Decoded::Incomplete if matches!(self.body, Body::Close) => {
                let at = self.pos.min(buf.len());
                self.done(buf[at..].to_vec(), buf.len())
            }
            other => other,
        }
    }

    fn mark(&self) -> usize {
        match &self.body {
            Body::Pending if self.response.is_some() => self.pos + self.fields.pos,
            Body::Chunked(c) => self.pos + c.pos,
            _ => self.pos,
        }
    }

    fn what(&self) -> String {
        match &self.body {
            _ if self.response.is_none() => "an HTTP status line".into(),
            Body::Pending => "an HTTP header field line".into(),
            Body::Length(n) => format!("the {n}-byte body announced by Content-Length"),
            Body::Chunked(c) => c.what(),
            Body::Close => "a body delimited by the server closing the connection".into(),
        }
    }
}

/// The status line as a response with nothing else yet, its soft problems
/// noted.
fn status_of(line: Line) -> Result<Response, Malformed> {
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
    Ok(Response {
        version,
        status,
        reason,
        lines: vec![line],
        fields: Vec::new(),
        body: Vec::new(),
        framing: Framing::NoBody,
        interim: Vec::new(),
        problems,
    })
}

/// Field lines up to the empty line that ends a header section (RFC 9112
/// §5), decoded without I/O and bounded: `(fields, lines, problems)`.
/// Shared by the response decoder and the HTTP origin peer's request reader
/// (`crate::peer::http`).
#[derive(Default)]
pub struct FieldsDecoder {
    pos: usize,
    total: usize,
    fields: Vec<(String, Vec<u8>)>,
    lines: Vec<Line>,
    problems: Vec<String>,
}

impl Decoder for FieldsDecoder {
    type Item = Fields;

    fn decode(&mut self, buf: &[u8]) -> Decoded<Fields> {
        loop {
            let (line, next) = match line_at(buf, self.pos, MAX_LINE, "an HTTP header field line") {
                Ok(Some(l)) => l,
                Ok(None) => return Decoded::Incomplete,
                Err(m) => {
                    *self = FieldsDecoder::default();
                    return Decoded::Malformed(m);
                }
            };
            if line.bytes.is_empty() {
                if line.end == Terminator::Lf {
                    self.problems.push(format!(
                        "the header section ends in a bare LF instead of CRLF ({CRLF_RULE})"
                    ));
                }
                let done = std::mem::take(self);
                return Decoded::Complete((done.fields, done.lines, done.problems), next);
            }
            if let Err(m) = self.field_line(&line) {
                *self = FieldsDecoder::default();
                return Decoded::Malformed(m);
            }
            self.lines.push(line);
            self.pos = next;
        }
    }

    fn mark(&self) -> usize {
        self.pos
    }

    fn what(&self) -> String {
        "an HTTP header field line".into()
    }
}

impl FieldsDecoder {
    /// One field line (or an obs-fold continuation) into the fields.
    fn field_line(&mut self, line: &Line) -> Result<(), Malformed> {
        self.total += line.bytes.len() + 2;
        if self.total > MAX_HEAD || self.fields.len() >= MAX_FIELDS {
            return Err(Malformed::TooLong {
                what: format!("the header section (at most {MAX_FIELDS} fields)"),
                limit: MAX_HEAD,
            });
        }
        let text = line.text();
        if line.end == Terminator::Lf {
            self.problems.push(format!(
                "the field line \"{text}\" ends in a bare LF instead of CRLF ({CRLF_RULE})"
            ));
        }
        if line
            .bytes
            .first()
            .is_some_and(|b| *b == b' ' || *b == b'\t')
        {
            // obs-fold (RFC 9112 §5.2): the value continues the previous field.
            self.problems.push(format!(
                "obsolete line folding: \"{text}\" (RFC 9112 §5.2: \"A sender MUST NOT generate a message that includes line folding\")"
            ));
            if let Some((_, v)) = self.fields.last_mut() {
                v.push(b' ');
                v.extend_from_slice(trim(&line.bytes));
            }
            return Ok(());
        }
        let colon = line
            .bytes
            .iter()
            .position(|b| *b == b':')
            .ok_or_else(|| Malformed::syntax("header field line (no colon)", &line.bytes))?;
        let name = &line.bytes[..colon];
        if name.is_empty() || !name.iter().all(|b| is_tchar(*b)) {
            self.problems.push(format!(
                "the field name in \"{text}\" is not a token (RFC 9112 §5.1: field-line = field-name \":\" OWS field-value OWS; \"No whitespace is allowed between the field name and colon\")"
            ));
        }
        let value = &line.bytes[colon + 1..];
        if value.iter().any(|b| b.is_ascii_control() && *b != b'\t') {
            self.problems.push(format!(
                "the field value in \"{text}\" holds a control character (RFC 9110 §5.5: field-content is VCHAR, obs-text, SP and HTAB; \"Field values containing CR, LF, or NUL characters are invalid and dangerous\")"
            ));
        }
        self.fields.push((
            String::from_utf8_lossy(trim(name)).into_owned(),
            trim(value).to_vec(),
        ));
        Ok(())
    }
}

/// Field lines up to the empty line that ends a header section: see
/// [`FieldsDecoder`].
pub async fn read_fields(conn: &mut Conn) -> Result<Fields, WireError> {
    conn.read_decoded(&mut FieldsDecoder::default()).await
}

/// What [`read_fields`] returns: `(fields, lines, problems)`.
pub type Fields = (Vec<(String, Vec<u8>)>, Vec<Line>, Vec<String>);

/// `HTTP-version SP status-code SP [ reason-phrase ]` (RFC 9112 §4).
fn status_line(b: &[u8]) -> Result<(String, u16, String), Malformed> {
    let bad = || Malformed::syntax("HTTP status line (RFC 9112 §4)", b);
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

/// One value, possibly repeated identically (RFC 9112 §6.3, item 5).
pub fn content_length(values: &[String]) -> Result<usize, WireError> {
    length_of(values).map_err(WireError::from)
}

fn length_of(values: &[String]) -> Result<usize, Malformed> {
    let mut n: Option<usize> = None;
    for v in values.iter().flat_map(|v| v.split(',')) {
        let v = v.trim();
        let parsed = (!v.is_empty() && v.len() <= 15 && v.bytes().all(|b| b.is_ascii_digit()))
            .then(|| v.parse::<usize>().ok())
            .flatten()
            .ok_or_else(|| Malformed::syntax("Content-Length (RFC 9112 §6.3)", v.as_bytes()))?;
        match n {
            Some(prev) if prev != parsed => {
                return Err(Malformed::syntax(
                    "Content-Length (conflicting values, RFC 9112 §6.3)",
                    values.join(", ").as_bytes(),
                ))
            }
            _ => n = Some(parsed),
        }
    }
    n.ok_or_else(|| Malformed::syntax("Content-Length (RFC 9112 §6.3)", b""))
}

/// `*chunk last-chunk trailer-section CRLF` (RFC 9112 §7.1), decoded
/// without I/O: the body with the chunk framing removed.
pub struct ChunkedDecoder {
    pub max_body: usize,
    pos: usize,
    body: Vec<u8>,
    state: Chunk,
}

#[derive(Clone, Copy)]
enum Chunk {
    Size,
    Data(usize),
    End,
    /// The trailer section, after this many field lines.
    Trailer(usize),
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        ChunkedDecoder {
            max_body: MAX_BODY,
            pos: 0,
            body: Vec::new(),
            state: Chunk::Size,
        }
    }
}

impl ChunkedDecoder {
    fn fail(&mut self, m: Malformed) -> Decoded<Vec<u8>> {
        *self = ChunkedDecoder {
            max_body: self.max_body,
            ..ChunkedDecoder::default()
        };
        Decoded::Malformed(m)
    }

    /// The next line, or what to return.
    fn line(&mut self, buf: &[u8], max: usize) -> Result<(Line, usize), Decoded<Vec<u8>>> {
        match line_at(buf, self.pos, max, &self.what()) {
            Ok(Some(l)) => Ok(l),
            Ok(None) => Err(Decoded::Incomplete),
            Err(m) => Err(self.fail(m)),
        }
    }
}

impl Decoder for ChunkedDecoder {
    type Item = Vec<u8>;

    fn decode(&mut self, buf: &[u8]) -> Decoded<Vec<u8>> {
        loop {
            match self.state {
                Chunk::Size => {
                    let (line, next) = match self.line(buf, 1024) {
                        Ok(l) => l,
                        Err(d) => return d,
                    };
                    let size = line.bytes.split(|b| *b == b';').next().unwrap_or_default();
                    let size = trim(size);
                    let n = (!size.is_empty()
                        && size.len() <= 15
                        && size.iter().all(u8::is_ascii_hexdigit))
                    .then(|| usize::from_str_radix(&String::from_utf8_lossy(size), 16).ok())
                    .flatten();
                    let Some(n) = n else {
                        return self.fail(Malformed::syntax(
                            "chunk-size line (RFC 9112 §7.1)",
                            &line.bytes,
                        ));
                    };
                    if self.body.len() + n > self.max_body {
                        let limit = self.max_body;
                        return self.fail(Malformed::TooLong {
                            what: "a chunked body".into(),
                            limit,
                        });
                    }
                    self.pos = next;
                    self.state = if n == 0 {
                        Chunk::Trailer(0)
                    } else {
                        Chunk::Data(n)
                    };
                }
                Chunk::Data(n) => {
                    let Some(data) = buf.get(self.pos..self.pos + n) else {
                        return Decoded::Incomplete;
                    };
                    self.body.extend_from_slice(data);
                    self.pos += n;
                    self.state = Chunk::End;
                }
                Chunk::End => {
                    let (line, next) = match self.line(buf, 2) {
                        Ok(l) => l,
                        Err(d) => return d,
                    };
                    if !line.bytes.is_empty() {
                        return self.fail(Malformed::syntax(
                            "chunk (data longer than its size, RFC 9112 §7.1)",
                            &line.bytes,
                        ));
                    }
                    self.pos = next;
                    self.state = Chunk::Size;
                }
                Chunk::Trailer(count) => {
                    if count >= MAX_FIELDS {
                        return self.fail(Malformed::TooMany {
                            what: "the trailer section".into(),
                            limit: MAX_FIELDS,
                            of: "fields",
                        });
                    }
                    let (line, next) = match self.line(buf, MAX_LINE) {
                        Ok(l) => l,
                        Err(d) => return d,
                    };
                    if line.bytes.is_empty() {
                        let body = std::mem::take(&mut self.body);
                        self.pos = 0;
                        self.state = Chunk::Size;
                        return Decoded::Complete(body, next);
                    }
                    self.pos = next;
                    self.state = Chunk::Trailer(count + 1);
                }
            }
        }
    }

    fn mark(&self) -> usize {
        self.pos
    }

    fn what(&self) -> String {
        match self.state {
            Chunk::Size => "a chunk-size line".into(),
            Chunk::Data(n) => format!("a {n}-byte chunk"),
            Chunk::End => "the CRLF after a chunk".into(),
            Chunk::Trailer(_) => "the trailer section".into(),
        }
    }
}

/// A chunked body: see [`ChunkedDecoder`].
pub async fn chunked(conn: &mut Conn) -> Result<Vec<u8>, WireError> {
    conn.read_decoded(&mut ChunkedDecoder::default()).await
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
        let mut r = conn
            .read_decoded(&mut ResponseDecoder::new(&method))
            .await?;
        if is_interim(r.status) {
            judge_interim(&mut r, http10)?;
            return Ok(r);
        }
        if let Ok(mut q) = self.pending.lock() {
            q.pop_front();
        }
        judge_final(&mut r, http10)?;
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

    use crate::wire::codec::same_when_split;

    fn response(method: &'static str, bytes: &[u8]) -> Decoded<Response> {
        same_when_split(|| ResponseDecoder::new(method), bytes)
    }

    #[test]
    fn responses_are_framed_by_rfc_9112_6_3_however_split() {
        let cases: &[(&str, &[u8], Framing, &[u8])] = &[
            ("GET", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloNEXT", Framing::Length(5), b"hello"),
            ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nNEXT", Framing::NoBody, b""),
            ("GET", b"HTTP/1.1 204 No Content\r\n\r\nNEXT", Framing::NoBody, b""),
            ("GET", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\nNEXT", Framing::NoBody, b""),
            ("GET", b"HTTP/1.1 100 Continue\r\n\r\nNEXT", Framing::NoBody, b""),
            ("GET", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n1\r\n!\r\n0\r\nX-T: 1\r\n\r\nNEXT", Framing::Chunked, b"hello!"),
            ("GET", b"HTTP/1.0 200 OK\r\n\r\nall until the close", Framing::Close, b"all until the close"),
        ];
        for (method, bytes, framing, body) in cases {
            match response(method, bytes) {
                Decoded::Complete(r, used) => {
                    assert_eq!(
                        (&r.framing, r.body.as_slice()),
                        (framing, *body),
                        "{bytes:?}"
                    );
                    let rest = if *framing == Framing::Close {
                        &b""[..]
                    } else {
                        b"NEXT"
                    };
                    assert_eq!(&bytes[used..], rest, "{bytes:?}");
                }
                other => panic!("{bytes:?}: {other:?}"),
            }
        }
        // Soft slips are kept for the caller to judge.
        match response("GET", b"HTTP/1.1 200 OK\nX: a\r\n\r\n") {
            Decoded::Complete(r, _) => assert!(r.problems[0].contains("bare LF")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            response("GET", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"),
            Decoded::Incomplete
        ));
    }

    #[test]
    fn malformed_responses_say_which_rule() {
        for bad in [
            &b"SSH-2.0-x\r\n"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\n",
            b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        ] {
            match response("GET", bad) {
                Decoded::Malformed(Malformed::Syntax { expected, .. }) => {
                    assert!(
                        expected.contains("RFC 9112") || expected.contains("colon"),
                        "{expected}"
                    )
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn response_limits_hold() {
        let huge = b"HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n";
        assert!(matches!(
            response("GET", huge),
            Decoded::Malformed(Malformed::TooLong { .. })
        ));
        let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..=MAX_FIELDS {
            many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        let mut d = ResponseDecoder::new("GET");
        assert!(matches!(
            d.decode(&many),
            Decoded::Malformed(Malformed::TooLong { .. })
        ));
        let small = || ResponseDecoder {
            max_body: 4,
            ..ResponseDecoder::new("GET")
        };
        let close = b"HTTP/1.1 200 OK\r\n\r\nhello";
        assert!(matches!(
            same_when_split(small, close),
            Decoded::Malformed(Malformed::TooLong { limit: 4, .. })
        ));
        let chunks = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n";
        assert!(matches!(
            same_when_split(small, chunks),
            Decoded::Malformed(Malformed::TooLong { limit: 4, .. })
        ));
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
