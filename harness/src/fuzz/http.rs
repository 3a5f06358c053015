//! Fuzzing HTTP/1.1 (RFC 9112, RFC 9110): requests taken apart (request
//! line, header fields, body) and mutated there: the method and its case,
//! the target, the version, Host missing or repeated, Content-Length and
//! Transfer-Encoding that disagree with each other or with the body (the
//! request-smuggling shapes), obs-fold, whitespace before the colon, long
//! and many fields, non-ASCII and control bytes; then byte-level flips.
//! Several requests go over one keep-alive connection, after a valid first
//! one, so that the server's state between requests is exercised.
//!
//! Each request is classified by what RFC 9112 lets a server do with it:
//! - valid: one response, of any status;
//! - invalid, where the RFC says MUST: one response with a 4xx or 5xx
//!   status (§3.2: an HTTP/1.1 request without Host, two Hosts, or an
//!   invalid one; §5.1: whitespace before the colon; §6.3: an invalid or
//!   contradictory Content-Length), after which the server may close;
//! - open-ended: the server may wait for more bytes, answer, or close
//!   (framing it cannot know the end of, Transfer-Encoding with
//!   Content-Length, §6.1); sent last, after which the fuzzer closes its
//!   side, and every response that comes must be well-formed and the
//!   connection must close in time.

use std::sync::{Arc, RwLock};
use std::time::Instant;

use proptest::prelude::*;
use proptest::sample::Index;

use super::link::{Link, ReadError, TcpLink};
use super::mutate::bytes::{self, ByteOp};
use super::{Case, Channel, FuzzProtocol, Limits, Next, Oracle, Step, Transport, Violation};
use crate::notation::escape_short;
use crate::target::Profile;

use crate::wire::codec::Malformed;
use crate::wire::http::{self as wire_http, Framing, ResponseDecoder, MAX_BODY};
use crate::wire::WireError;

/// A request taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Req {
    pub method: Vec<u8>,
    pub target: Vec<u8>,
    pub version: Vec<u8>,
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
    /// Between a field name and its value (`: `).
    pub colon: Vec<u8>,
    /// Line ending (CRLF).
    pub eol: Vec<u8>,
    pub body: Vec<u8>,
}

impl Req {
    pub fn get(target: &str) -> Req {
        Req {
            method: b"GET".to_vec(),
            target: target.as_bytes().to_vec(),
            version: b"HTTP/1.1".to_vec(),
            fields: vec![(b"Host".to_vec(), b"${http.address}".to_vec())],
            colon: b": ".to_vec(),
            eol: b"\r\n".to_vec(),
            body: vec![],
        }
    }

    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&self.method);
        out.push(b' ');
        out.extend_from_slice(&self.target);
        if !self.version.is_empty() {
            out.push(b' ');
            out.extend_from_slice(&self.version);
        }
        out.extend_from_slice(&self.eol);
        for (n, v) in &self.fields {
            out.extend_from_slice(n);
            out.extend_from_slice(&self.colon);
            out.extend_from_slice(v);
            out.extend_from_slice(&self.eol);
        }
        out.extend_from_slice(&self.eol);
        out.extend_from_slice(&self.body);
        out
    }

    /// Takes a request apart (leniently: seeds from files and suites).
    pub fn parse(bytes: &[u8]) -> Req {
        let (head, body) = match find(bytes, b"\r\n\r\n") {
            Some(i) => (&bytes[..i], bytes[i + 4..].to_vec()),
            None => (bytes.strip_suffix(b"\r\n").unwrap_or(bytes), vec![]),
        };
        let mut lines = head
            .split(|b| *b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
        let mut first = lines.next().unwrap_or_default().splitn(3, |b| *b == b' ');
        let method = first.next().unwrap_or_default().to_vec();
        let target = first.next().unwrap_or_default().to_vec();
        let version = first.next().unwrap_or_default().to_vec();
        let fields = lines
            .map(|l| match l.iter().position(|b| *b == b':') {
                Some(i) => (l[..i].to_vec(), l[i + 1..].trim_ascii_start().to_vec()),
                None => (l.to_vec(), vec![]),
            })
            .collect();
        Req {
            method,
            target,
            version,
            fields,
            colon: b": ".to_vec(),
            eol: b"\r\n".to_vec(),
            body,
        }
    }

    fn set(&mut self, name: &str, value: Vec<u8>) {
        self.fields
            .retain(|(n, _)| !n.eq_ignore_ascii_case(name.as_bytes()));
        self.fields.push((name.as_bytes().to_vec(), value));
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// One change to a request.
#[derive(Clone, Debug)]
pub enum ReqOp {
    Method(Vec<u8>),
    Target(Vec<u8>),
    Version(Vec<u8>),
    DropHost,
    SecondHost(Vec<u8>),
    ContentLength(Vec<u8>),
    SecondContentLength(Vec<u8>),
    /// Transfer-Encoding with a body in chunked form (possibly broken).
    Chunked {
        te: Vec<u8>,
        body: Vec<u8>,
    },
    Body(Vec<u8>),
    ObsFold,
    SpaceBeforeColon,
    NoColon,
    ManyFields(usize),
    LongField(usize),
    FieldValueByte {
        at: Index,
        byte: u8,
    },
    Eol(Vec<u8>),
    Colon(Vec<u8>),
}

impl ReqOp {
    pub fn apply(&self, r: &mut Req) {
        match self {
            ReqOp::Method(m) => r.method = m.clone(),
            ReqOp::Target(t) => r.target = t.clone(),
            ReqOp::Version(v) => r.version = v.clone(),
            ReqOp::DropHost => r.fields.retain(|(n, _)| !n.eq_ignore_ascii_case(b"host")),
            ReqOp::SecondHost(h) => r.fields.push((b"Host".to_vec(), h.clone())),
            ReqOp::ContentLength(v) => r.set("Content-Length", v.clone()),
            ReqOp::SecondContentLength(v) => r.fields.push((b"Content-Length".to_vec(), v.clone())),
            ReqOp::Chunked { te, body } => {
                r.set("Transfer-Encoding", te.clone());
                r.body = body.clone();
            }
            ReqOp::Body(b) => {
                r.body = b.clone();
                r.set("Content-Length", b.len().to_string().into_bytes());
            }
            ReqOp::ObsFold => r
                .fields
                .push((b"X-Folded".to_vec(), b"first\r\n second".to_vec())),
            ReqOp::SpaceBeforeColon => r.fields.push((b"X-Space ".to_vec(), b"x".to_vec())),
            ReqOp::NoColon => r.fields.push((b"X-No-Colon value".to_vec(), vec![])),
            ReqOp::ManyFields(n) => {
                for i in 0..*n {
                    r.fields
                        .push((format!("X-F{i}").into_bytes(), b"v".to_vec()));
                }
            }
            ReqOp::LongField(n) => r.fields.push((b"X-Long".to_vec(), vec![b'a'; *n])),
            ReqOp::FieldValueByte { at, byte } => {
                if !r.fields.is_empty() {
                    let i = at.index(r.fields.len());
                    r.fields[i].1.push(*byte);
                }
            }
            ReqOp::Eol(e) => r.eol = e.clone(),
            ReqOp::Colon(c) => r.colon = c.clone(),
        }
    }
}

fn req_op() -> BoxedStrategy<ReqOp> {
    let v = |s: &str| s.as_bytes().to_vec();
    let any_of =
        move |xs: &[&str]| proptest::sample::select(xs.iter().map(|s| v(s)).collect::<Vec<_>>());
    prop_oneof![
        2 => any_of(&["GET", "get", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH", "BREW", "G ET", "GET\x00", "", "é"]).prop_map(ReqOp::Method),
        2 => any_of(&["/", "/index.html", "*", "http://example.test/", "//", "/../../etc/passwd", "/%00", "/%zz", "/a b", "index.html", "/\x7f", "/?q=é", "/#frag", ""]).prop_map(ReqOp::Target),
        2 => any_of(&["HTTP/1.0", "HTTP/1.1", "HTTP/1.2", "HTTP/2.0", "HTTP/0.9", "http/1.1", "HTTP/1.1 ", "HTTP/11", "HTTP/1.1\x00", ""]).prop_map(ReqOp::Version),
        2 => Just(ReqOp::DropHost),
        1 => any_of(&["${http.address}", "other.example", "", "a b"]).prop_map(ReqOp::SecondHost),
        2 => any_of(&["0", "5", "-1", "abc", "5, 5", "5, 6", " 5", "+5", "0x5", "99999999999999999999999"]).prop_map(ReqOp::ContentLength),
        1 => any_of(&["0", "5", "6"]).prop_map(ReqOp::SecondContentLength),
        2 => (
            any_of(&["chunked", "Chunked", "chunked, identity", "identity, chunked", "xchunked", " chunked", "gzip", "chunked\x00"]),
            any_of(&["0\r\n\r\n", "5\r\nhello\r\n0\r\n\r\n", "5;ext=1\r\nhello\r\n0\r\n\r\n", "zz\r\n\r\n", "ffffffffffffffffffff\r\nx\r\n0\r\n\r\n", "5\r\nhel", "5\nhello\n0\n\n", "-1\r\n\r\n"]),
        ).prop_map(|(te, body)| ReqOp::Chunked { te, body }),
        1 => proptest::collection::vec(bytes::interesting(), 0..64).prop_map(ReqOp::Body),
        1 => Just(ReqOp::ObsFold),
        1 => Just(ReqOp::SpaceBeforeColon),
        1 => Just(ReqOp::NoColon),
        1 => proptest::sample::select(vec![50usize, 99, 100, 101, 200]).prop_map(ReqOp::ManyFields),
        1 => proptest::sample::select(vec![4000usize, 8180, 8192, 8200, 40000]).prop_map(ReqOp::LongField),
        2 => (any::<Index>(), bytes::interesting()).prop_map(|(at, byte)| ReqOp::FieldValueByte { at, byte }),
        1 => any_of(&["\r\n", "\n", "\r", "\r\r\n"]).prop_map(ReqOp::Eol),
        1 => any_of(&[": ", ":", " : ", ":\t", ":  "]).prop_map(ReqOp::Colon),
    ]
    .boxed()
}

/// What a server may do with a request (see the module comment).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Class {
    Valid,
    Invalid(&'static str),
    OpenEnded,
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Classifies a request as sent (after byte mutations, from its bytes).
/// Only what RFC 9112 says a server MUST reject is `Invalid`; where it says
/// SHOULD (a malformed request line or field line: 400), a response of any
/// status is taken (nginx and Apache skip a field line without a colon).
/// `GET /` with no version: the HTTP/0.9 shape.
fn simple_request(msg: &[u8]) -> bool {
    let first = msg.split(|b| *b == b'\n').next().unwrap_or_default();
    find(first, b" HTTP/").is_none() && first.split(|b| *b == b' ').count() <= 2
}

pub fn classify(msg: &[u8]) -> Class {
    let Some(end) = find(msg, b"\r\n\r\n") else {
        return Class::OpenEnded;
    };
    let head = &msg[..end];
    let body = &msg[end + 4..];
    // A bare LF or CR inside the head: a server may take it as a line end
    // (RFC 9112 §2.2 MAY) or reject it.
    let bare_lf =
        head.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r') || head.first() == Some(&b'\n');
    let bare_cr =
        head.windows(2).any(|w| w[0] == b'\r' && w[1] != b'\n') || head.last() == Some(&b'\r');
    if bare_lf || bare_cr {
        return Class::OpenEnded;
    }
    let mut lines = head
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = lines.next().unwrap_or_default();
    let parts: Vec<&[u8]> = first.split(|b| *b == b' ').collect();
    if parts.len() == 2 {
        // `GET /`: an HTTP/0.9 simple request, answered (if at all) by a
        // bare body and the close (RFC 1945 §4).
        return Class::OpenEnded;
    }
    // A malformed request line SHOULD get 400 (§3), another major version
    // 505 (RFC 9110 §15.6.6); a higher minor version is processed as 1.1
    // (RFC 9110 §2.5). With a malformed line, the Host rules (which depend
    // on the version and the target's form) are not judged, the framing is.
    let (well_formed_line, v11, absolute) = match parts.as_slice() {
        [method, target, v] => {
            let ok = !method.is_empty()
                && method.iter().all(|b| is_tchar(*b))
                && !target.is_empty()
                && !target.iter().any(|b| *b <= 0x20 || *b >= 0x7f)
                && v.len() == 8
                && v.starts_with(b"HTTP/1.")
                && v[7].is_ascii_digit();
            // absolute-form: the server MUST ignore Host and use the
            // target's authority (RFC 9112 §3.2.2).
            let t = target.to_ascii_lowercase();
            let absolute = t.starts_with(b"http://") || t.starts_with(b"https://");
            (ok, ok && v[7] != b'0', absolute)
        }
        _ => (false, false, false),
    };
    let judge_host = well_formed_line && !absolute;
    let (mut hosts, mut lengths, mut te) = (0, Vec::new(), false);
    for l in lines {
        if l.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            // obs-fold: reject with 400 or unfold (§5.2).
            return Class::OpenEnded;
        }
        let Some(colon) = l.iter().position(|b| *b == b':') else {
            continue; // SHOULD 400 (§2.2), or skipped: framing still counts
        };
        let (name, value) = (&l[..colon], l[colon + 1..].trim_ascii());
        if name.last().is_some_and(|b| *b == b' ' || *b == b'\t') {
            return Class::Invalid(
                "whitespace between a field name and the colon (RFC 9112 §5.1: MUST 400)",
            );
        }
        if name.eq_ignore_ascii_case(b"host") {
            hosts += 1;
            // Empty is allowed (a target URI without authority, §3.2).
            if value
                .iter()
                .any(|b| matches!(b, b' ' | b'\t' | b'/' | b'@' | 0..=0x1f | 0x7f))
            {
                return Class::Invalid("an invalid Host (RFC 9112 §3.2: MUST 400)");
            }
        } else if name.eq_ignore_ascii_case(b"content-length") {
            lengths.push(value.to_vec());
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            te = true;
        }
    }
    if judge_host && (hosts > 1 || (v11 && hosts == 0)) {
        return Class::Invalid("no Host in HTTP/1.1, or more than one (RFC 9112 §3.2: MUST 400)");
    }
    if te {
        // With Content-Length: reject, or take Transfer-Encoding and close;
        // a coding other than chunked last: 400 and close (§6.1, §6.3).
        return Class::OpenEnded;
    }
    // Content-Length: every member of every field line must be the same
    // number; a list of identical values may be taken as one (RFC 9110
    // §8.6); anything else MUST get 400 (RFC 9112 §6.3).
    let members: Vec<&[u8]> = lengths
        .iter()
        .flat_map(|v| v.split(|b| *b == b','))
        .map(<[u8]>::trim_ascii)
        .collect();
    if members.is_empty() {
        return if body.is_empty() {
            Class::Valid
        } else {
            Class::OpenEnded
        };
    }
    let numbers: Vec<Option<usize>> = members
        .iter()
        .map(|m| {
            std::str::from_utf8(m)
                .ok()
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<usize>().ok())
        })
        .collect();
    match numbers.first() {
        Some(Some(n)) if numbers.iter().all(|m| *m == Some(*n)) => {
            if *n == body.len() {
                Class::Valid
            } else {
                Class::OpenEnded
            }
        }
        _ => Class::Invalid("an invalid or contradictory Content-Length (RFC 9112 §6.3: MUST 400)"),
    }
}

/// One response as read.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub close: bool,
}

#[derive(Default)]
pub struct Http {
    profile: RwLock<Profile>,
    /// HTTPS where the profile says `tls = "implicit"`.
    security: RwLock<super::Security>,
}

impl Http {
    /// A connection to `addr`, inside TLS for HTTPS.
    fn connect(&self, addr: std::net::SocketAddr, limits: &Limits) -> Result<TcpLink, String> {
        let security = self.security.read().map(|s| s.clone()).unwrap_or_default();
        let mut l = TcpLink::connect(addr, limits.reply_timeout)?;
        security.before_greeting(&mut l, Instant::now() + limits.reply_timeout)?;
        Ok(l)
    }
}

fn malformed(why: &str, got: &[u8]) -> Violation {
    Violation::new(Oracle::WellFormed, format!("a malformed response: {why}"))
        .expected("HTTP/1.x NNN reason, CRLF field lines, a framed body (RFC 9112 §4-6)")
        .got(format!("\"{}\"", escape_short(got, 200)))
}

impl Http {
    fn expand(&self, msg: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(msg);
        if !text.contains("${") {
            return msg.to_vec();
        }
        match self.profile.read().map(|p| p.expand(&text)) {
            Ok(Ok(t)) if t.as_bytes() != msg => {
                // Only the profile values change; other bytes stay as sent.
                let mut out = msg.to_vec();
                for key in ["${http.address}"] {
                    if let Ok(Ok(v)) = self.profile.read().map(|p| p.expand(key)) {
                        while let Some(i) = find(&out, key.as_bytes()) {
                            out.splice(i..i + key.len(), v.bytes());
                        }
                    }
                }
                let _ = t;
                out
            }
            _ => msg.to_vec(),
        }
    }

    /// Reads one final response (after any 1xx) through the suites'
    /// decoder and judged by the suites' rules (`wire::http`); `head`: the
    /// request was HEAD, `http10`: it said HTTP/1.0.
    pub fn read_response(
        l: &mut TcpLink,
        head: bool,
        http10: bool,
        deadline: Instant,
    ) -> Result<Response, Result<Violation, ReadError>> {
        let method = if head { "HEAD" } else { "GET" };
        loop {
            let mut r = match l.read_decoded(&mut ResponseDecoder::new(method), deadline) {
                Ok(r) => r,
                Err(ReadError::Malformed(Malformed::Syntax { expected, got })) => {
                    return Err(Ok(malformed(&expected, &got)))
                }
                Err(ReadError::Malformed(m @ Malformed::TooMany { .. })) => {
                    return Err(Ok(malformed(&m.to_string(), b"")))
                }
                Err(e) => return Err(Err(e)),
            };
            let judged = if wire_http::is_interim(r.status) {
                wire_http::judge_interim(&mut r, http10)
            } else {
                wire_http::judge_final(&mut r, http10)
            };
            if let Err(WireError::Malformed { what, got }) = judged {
                return Err(Ok(malformed(&what, &got)));
            }
            if wire_http::is_interim(r.status) {
                continue;
            }
            let tokens = |name: &str, token: &str| {
                r.all(name)
                    .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
            };
            // HTTP/1.0 closes unless kept alive; "close" closes (RFC 9112
            // §9.3); a body delimited by the close ends the connection.
            let close = (r.version == "HTTP/1.0" && !tokens("connection", "keep-alive"))
                || tokens("connection", "close")
                || r.framing == Framing::Close;
            return Ok(Response {
                status: r.status,
                close,
            });
        }
    }
}

impl FuzzProtocol for Http {
    fn name(&self) -> &'static str {
        "http"
    }

    fn channels(&self, profile: &Profile) -> Result<Vec<Channel>, String> {
        if let Ok(mut p) = self.profile.write() {
            *p = profile.clone();
        }
        let security = super::Security::of(profile, "http")?;
        if let Ok(mut s) = self.security.write() {
            *s = security;
        }
        Ok(vec![Channel::from_profile(
            profile,
            "http.address",
            "address",
            Transport::Tcp,
        )?])
    }

    fn builtin_seeds(&self) -> Vec<Vec<u8>> {
        let mut head = Req::get("/index.html");
        head.method = b"HEAD".to_vec();
        let mut post = Req::get("/");
        ReqOp::Body(b"hello".to_vec()).apply(&mut post);
        post.method = b"POST".to_vec();
        let mut v10 = Req::get("/");
        v10.version = b"HTTP/1.0".to_vec();
        let mut options = Req::get("*");
        options.method = b"OPTIONS".to_vec();
        [
            Req::get("/"),
            Req::get("/index.html"),
            Req::get("/missing"),
            head,
            post,
            v10,
            options,
        ]
        .iter()
        .map(Req::render)
        .collect()
    }

    fn strategy(&self, channels: &[Channel], seeds: Arc<Vec<Vec<u8>>>) -> BoxedStrategy<Case> {
        // Seeds that do not look like requests (a suite's fragments) are left out.
        let seeds: Vec<Req> = seeds
            .iter()
            .filter(|s| find(s, b" HTTP/1.").is_some())
            .map(|s| Req::parse(s))
            .collect();
        let seeds = Arc::new(if seeds.is_empty() {
            vec![Req::get("/")]
        } else {
            seeds
        });
        let message = (
            any::<Index>(),
            proptest::collection::vec(req_op(), 0..4),
            proptest::collection::vec(bytes::op(), 0..2),
            proptest::bool::weighted(0.3),
        )
            .prop_map(
                move |(seed, ops, byte_ops, flip): (Index, Vec<ReqOp>, Vec<ByteOp>, bool)| {
                    let mut r = seeds[seed.index(seeds.len())].clone();
                    for op in &ops {
                        op.apply(&mut r);
                    }
                    let mut out = r.render();
                    if flip {
                        for op in &byte_ops {
                            op.apply(&mut out);
                        }
                    }
                    out
                },
            );
        let channel = channels.first().map(|c| c.name.clone()).unwrap_or_default();
        let first = Req::get("/").render();
        (
            proptest::bool::ANY,
            proptest::collection::vec(message, 1..6),
        )
            .prop_map(move |(after_first, mut messages)| {
                // Only the last request may be open-ended.
                let n = messages.len();
                for m in messages.iter_mut().take(n - 1) {
                    if classify(m) == Class::OpenEnded {
                        *m = first.clone();
                    }
                }
                Case {
                    protocol: "http".into(),
                    channel: channel.clone(),
                    prefix: if after_first {
                        vec![first.clone()]
                    } else {
                        vec![]
                    },
                    messages,
                }
            })
            .boxed()
    }

    fn oracles(&self) -> Vec<(Oracle, String)> {
        vec![
            (Oracle::Answers, "each complete request gets a response in time; after an open-ended one and the client's close, the server closes in time".into()),
            (Oracle::WellFormed, "responses have a status line, CRLF field lines and a framed body (RFC 9112)".into()),
            (Oracle::AcceptableClass, "a request RFC 9112 says to reject gets a 4xx or 5xx, not success".into()),
            (Oracle::StaysAlive, "a fresh connection's GET / gets a response below 500".into()),
        ]
    }

    fn reusable(&self, _: &Channel) -> bool {
        false
    }

    fn exchange(
        &self,
        link: &mut Link,
        msg: &[u8],
        step: Step,
        limits: &Limits,
    ) -> Result<Next, Violation> {
        let Link::Tcp(l) = link else {
            return Err(Violation::new(Oracle::Answers, "HTTP runs over TCP"));
        };
        let msg = self.expand(msg);
        let deadline = Instant::now() + limits.reply_timeout;
        let class = classify(&msg);
        let http10 = msg
            .split(|b| *b == b'\n')
            .next()
            .is_some_and(|l| l.trim_ascii_end().ends_with(b" HTTP/1.0"));
        let dropped = |l: &TcpLink| l.after_error && !step.prefix;
        if let Err(e) = l.send(&msg) {
            if dropped(l) {
                return Ok(Next::Ended);
            }
            return Err(Violation::new(
                Oracle::Answers,
                format!("the server stopped taking data: {e}"),
            ));
        }
        if class == Class::OpenEnded {
            l.shutdown_write();
            if simple_request(&msg) {
                // An HTTP/0.9 answer is a bare body: only the close counts.
                return match l.read_to_close(MAX_BODY, deadline) {
                    Ok(_) => Ok(Next::Ended),
                    Err(e) => Err(Violation::new(
                        Oracle::Answers,
                        format!(
                            "after a request without a version and the client's close: {}",
                            e.describe(limits.reply_timeout)
                        ),
                    )),
                };
            }
            let head = msg.starts_with(b"HEAD ");
            loop {
                match Self::read_response(l, head, http10, deadline) {
                    // After a HEAD answered with a body or without one (an
                    // error response may carry one): the rest up to the close.
                    Ok(_) if head => {
                        return match l.read_to_close(MAX_BODY, deadline) {
                            Ok(_) => Ok(Next::Ended),
                            Err(e) => Err(Violation::new(
                                Oracle::Answers,
                                format!(
                                    "after an open-ended HEAD and the client's close: {}",
                                    e.describe(limits.reply_timeout)
                                ),
                            )),
                        }
                    }
                    Ok(r) if r.close => return Ok(Next::Ended),
                    Ok(_) => continue,
                    Err(Err(ReadError::Closed { partial })) if partial.is_empty() => {
                        return Ok(Next::Ended)
                    }
                    Err(Ok(v)) => return Err(v),
                    Err(Err(e)) => {
                        return Err(Violation::new(
                            Oracle::Answers,
                            format!(
                                "after an open-ended request and the client's close: {}",
                                e.describe(limits.reply_timeout)
                            ),
                        )
                        .expected("the responses it owes, then the connection closed"))
                    }
                }
            }
        }
        let head = msg.starts_with(b"HEAD ");
        let r = match Self::read_response(l, head, http10, deadline) {
            Ok(r) => r,
            Err(Ok(v)) => return Err(v),
            Err(Err(ReadError::Closed { partial })) if partial.is_empty() && dropped(l) => {
                return Ok(Next::Ended)
            }
            Err(Err(e)) => {
                return Err(
                    Violation::new(Oracle::Answers, e.describe(limits.reply_timeout))
                        .expected(format!("a response to \"{}\"", escape_short(&msg, 120))),
                )
            }
        };
        if let Class::Invalid(why) = class {
            if r.status < 400 {
                return Err(Violation::new(
                    Oracle::AcceptableClass,
                    format!("a request to reject got {}: {why}", r.status),
                )
                .expected("a 4xx (or 5xx) status")
                .got(format!("{} to \"{}\"", r.status, escape_short(&msg, 160))));
            }
        }
        if step.prefix && r.status >= 500 {
            return Err(Violation::new(
                Oracle::AcceptableClass,
                "the valid first request got a 5xx",
            )
            .got(r.status.to_string()));
        }
        l.after_error = r.status >= 400;
        Ok(if r.close { Next::Ended } else { Next::Continue })
    }

    fn probe(&self, channels: &[Channel], limits: &Limits) -> Result<(), String> {
        for c in channels {
            let mut l = self.connect(c.addr, limits)?;
            l.send(&self.expand(&Req::get("/").render()))?;
            match Self::read_response(&mut l, false, false, Instant::now() + limits.reply_timeout) {
                Ok(r) if r.status < 500 => {}
                Ok(r) => return Err(format!("GET / got {}", r.status)),
                Err(Ok(v)) => return Err(v.message),
                Err(Err(e)) => return Err(e.describe(limits.reply_timeout)),
            }
        }
        Ok(())
    }

    fn open(&self, channel: &Channel, limits: &Limits) -> Result<Link, String> {
        self.connect(channel.addr, limits).map(Link::Tcp)
    }

    fn scenario(&self, case: &Case, _: &Violation) -> String {
        super::session_scenario("http", "@rfc9112", case)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_what_rfc_9112_says() {
        let ok = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        assert_eq!(classify(ok), Class::Valid);
        assert!(matches!(
            classify(b"GET / HTTP/1.1\r\n\r\n"),
            Class::Invalid(_)
        ));
        assert!(matches!(
            classify(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
            Class::Invalid(_)
        ));
        assert!(matches!(
            classify(b"GET / HTTP/1.1\r\nHost : a\r\n\r\n"),
            Class::Invalid(_)
        ));
        assert_eq!(classify(b"GET / HTTP/1.0\r\n\r\n"), Class::Valid);
        assert_eq!(
            classify(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel"),
            Class::OpenEnded
        );
        assert_eq!(
            classify(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nhel"),
            Class::Valid
        );
        assert_eq!(
            classify(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            Class::OpenEnded
        );
        assert!(matches!(
            classify(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n"),
            Class::Invalid(_)
        ));
        assert_eq!(classify(b"GET / HTTP/1.1\r\nHost: a\r\n"), Class::OpenEnded);
        assert_eq!(classify(b"GET / HTTP/1.1\nHost: a\n\n"), Class::OpenEnded);
    }

    #[test]
    fn requests_round_trip() {
        let r = Req::get("/x");
        assert_eq!(Req::parse(&r.render()), r);
    }
}
