//! One client connection: read a request (with the server's own bounded
//! readers), answer it from the cache or forward it (RFC 9110 §7.6), store
//! what may be stored (RFC 9111 §3), and send the response.

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;

use super::cache::{self, field, joined, now, Directives, Stored};
use super::origin::{exchange, Failed, OriginResponse};
use super::{Flaw, Mode, Shared, MAX_REQUESTS};
use crate::http::body;
use crate::http::input::Input;
use crate::http::request::{read_head, Reject, Request};
use crate::http::response::reason;

/// What this proxy calls itself in Via (RFC 9110 §7.6.3: received-by).
const PSEUDONYM: &str = "conform-proxy";

/// Fields that describe one connection, never forwarded (RFC 9110 §7.6.1:
/// the fields Connection lists MUST be removed, and these SHOULD be).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "transfer-encoding",
    "upgrade",
    "trailer",
];

/// A response to the client.
struct Reply {
    status: u16,
    reason: String,
    fields: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn error(status: u16, why: &str) -> Reply {
        let reason = match status {
            502 => "Bad Gateway",
            504 => "Gateway Timeout",
            s => reason(s),
        };
        Reply {
            status,
            reason: reason.into(),
            fields: vec![("Content-Type".into(), "text/plain".into())],
            body: format!("{status} {reason}: {why}\n").into_bytes(),
        }
    }

    /// The bytes sent: our own HTTP-version (RFC 9110 §2.5: intermediaries
    /// MUST send their own), the fields, a Content-Length computed here
    /// unless the status has no content or the response to a HEAD keeps
    /// the origin's, and the body unless `head_only`.
    fn to_bytes(&self, head_only: bool, close: bool) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, self.reason);
        let no_content = self.status < 200 || self.status == 204 || self.status == 304;
        for (n, v) in &self.fields {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
        if !no_content && field(&self.fields, "content-length").is_none() {
            out.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        if close {
            out.push_str("Connection: close\r\n");
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        if !no_content && !head_only {
            bytes.extend_from_slice(&self.body);
        }
        bytes
    }
}

pub async fn run(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut input = Input::new(read);
    let idle = shared.config.idle_timeout;
    for _ in 0..MAX_REQUESTS {
        // Every read from the client has the idle deadline.
        let req = match tokio::time::timeout(idle, read_head(&mut input)).await {
            Err(_) | Ok(Ok(None)) => return,
            Ok(Err(Reject(code))) => return refuse(&mut write, code).await,
            Ok(Ok(Some(r))) => r,
        };
        let framing = match body::framing(&req) {
            Ok(f) => f,
            Err(Reject(code)) => return refuse(&mut write, code).await,
        };
        let content = match tokio::time::timeout(idle, body::read(&mut input, &framing)).await {
            Err(_) => return,
            Ok(Err(Reject(code))) => return refuse(&mut write, code).await,
            Ok(Ok(b)) => b,
        };
        // RFC 9112 §9.3: an HTTP/1.0 client's connection closes unless it
        // asked to keep it; `close` ends it either way.
        let close = req.lists("connection", "close")
            || (req.minor == 0 && !req.lists("connection", "keep-alive"));
        let head_only = req.method == "HEAD";
        let Some(reply) = handle(shared, &req, content).await else {
            // The HangOnDeadOrigin flaw: hold the client unanswered.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return;
        };
        if write
            .write_all(&reply.to_bytes(head_only, close))
            .await
            .is_err()
            || close
        {
            return;
        }
    }
}

/// A request refused before it could be handled: the connection closes.
async fn refuse(write: &mut OwnedWriteHalf, code: u16) {
    let reply = Reply::error(code, "the request cannot be read");
    let _ = write.write_all(&reply.to_bytes(false, true)).await;
}

fn is_safe(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE")
}

/// `(authority, path-and-query)` of an absolute-form `http://` target.
fn absolute_form(target: &str) -> Option<(String, String)> {
    let rest = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("HTTP://"))?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    // RFC 9110 §4.2.1: no userinfo in an http URI; an empty host is invalid.
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_string()
    };
    Some((authority.to_ascii_lowercase(), path))
}

fn port_of(authority: &str) -> Option<u16> {
    match authority.rsplit_once(':') {
        Some((_, p)) if !p.contains(']') => p.parse().ok(),
        _ => Some(80),
    }
}

/// The request's fields as text.
fn text_fields(req: &Request) -> Vec<(String, String)> {
    req.fields
        .iter()
        .map(|(n, v)| (n.clone(), String::from_utf8_lossy(v).into_owned()))
        .collect()
}

/// The fields with hop-by-hop ones removed: those Connection lists and the
/// known ones (RFC 9110 §7.6.1). `keep`: the ForwardHopByHop flaw, which
/// only drops the framing (the message is re-framed here).
fn end_to_end(fields: &[(String, String)], keep: bool) -> Vec<(String, String)> {
    let listed: Vec<String> = joined(fields, "connection")
        .unwrap_or_default()
        .split(',')
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    fields
        .iter()
        .filter(|(n, _)| {
            let n = n.to_ascii_lowercase();
            if n == "transfer-encoding" || n == "content-length" {
                return false;
            }
            keep || !(HOP_BY_HOP.contains(&n.as_str()) || listed.contains(&n))
        })
        .cloned()
        .collect()
}

/// Appends this proxy to Via (RFC 9110 §7.6.3: "A proxy MUST send an
/// appropriate Via header field ... in each message that it forwards"),
/// with the protocol version of the message as received.
fn add_via(fields: &mut Vec<(String, String)>, received: &str, shared: &Shared) {
    if shared.config.has(Flaw::DropVia) {
        return;
    }
    let via = match joined(fields, "via") {
        Some(v) => format!("{v}, {received} {PSEUDONYM}"),
        None => format!("{received} {PSEUDONYM}"),
    };
    fields.retain(|(n, _)| !n.eq_ignore_ascii_case("via"));
    fields.push(("Via".into(), via));
}

/// Answers one request; `None` only for the HangOnDeadOrigin flaw.
async fn handle(shared: &Shared, req: &Request, mut content: Vec<u8>) -> Option<Reply> {
    let cfg = &shared.config;
    let method = req.method.as_str();
    // RFC 9110 §9.3.6: a proxy that supports CONNECT SHOULD restrict it to
    // known ports. This one does not tunnel at all.
    if method == "CONNECT" {
        if cfg.has(Flaw::ConnectAnything) {
            let mut r = Reply::error(200, "connected");
            r.reason = "Connection Established".into();
            return Some(r);
        }
        return Some(Reply::error(501, "this proxy does not tunnel (CONNECT)"));
    }
    // Where the request goes: a forward proxy takes the origin from the
    // absolute-form target (RFC 9112 §3.2.2: "a client MUST send the
    // target URI in absolute-form" to a proxy); a gateway has its one
    // origin and takes origin-form.
    let (authority, path) = match &cfg.mode {
        Mode::Forward => match absolute_form(&req.target) {
            Some(t) => t,
            None => {
                return Some(Reply::error(
                    400,
                    "a proxy request needs an absolute http:// target",
                ))
            }
        },
        Mode::Reverse { origin } => {
            if req.target.starts_with('/') || (method == "OPTIONS" && req.target == "*") {
                (origin.to_string(), req.target.clone())
            } else {
                return Some(Reply::error(400, "a gateway takes origin-form targets"));
            }
        }
    };
    // Not an open door: only the allowed ports (RFC 9110 §17.1 warns of
    // proxies used to reach other services).
    if matches!(cfg.mode, Mode::Forward) {
        let allowed =
            port_of(&authority).is_some_and(|p| cfg.allowed_ports.iter().any(|r| r.contains(&p)));
        if !allowed {
            return Some(Reply::error(403, "that port is not allowed"));
        }
    }
    let fields = text_fields(req);
    // RFC 9110 §7.6.2: an intermediary MUST check and update Max-Forwards
    // on TRACE and OPTIONS; at zero it MUST NOT forward and MUST respond as
    // the final recipient.
    let mut max_forwards = None;
    if matches!(method, "TRACE" | "OPTIONS") && !cfg.has(Flaw::IgnoreMaxForwards) {
        if let Some(n) = req
            .field("max-forwards")
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            if n == 0 {
                return Some(final_recipient(req, &fields));
            }
            max_forwards = Some(n - 1);
        }
    }
    let uri = format!("http://{authority}{path}");
    let request_cc = Directives::parse(req.field("cache-control").as_deref());
    let authorized = req.field("authorization").is_some();
    let caching = !cfg.has(Flaw::NeverCache);

    // RFC 9111 §4: answering from the cache (GET, and HEAD from a stored GET).
    let mut validating: Option<Stored> = None;
    if caching && matches!(method, "GET" | "HEAD") {
        if let Some(s) = shared
            .cache
            .lookup(&uri, &fields, cfg.has(Flaw::IgnoreVary))
        {
            // §4: a stored response is not reused without validation when
            // the request says no-cache (§5.2.1.4; Pragma: no-cache where
            // there is no Cache-Control, §5.4) or the response does.
            let pragma = req.field("cache-control").is_none() && req.lists("pragma", "no-cache");
            let request_no_cache = !cfg.has(Flaw::IgnoreRequestNoCache)
                && (request_cc.has("no-cache")
                    || pragma
                    || request_cc.seconds("max-age") == Some(0));
            // §4.2.4: a cache MUST NOT send a stale response unless it is
            // disconnected or explicitly permitted.
            let fresh = cfg.has(Flaw::ServeStale)
                || s.fresh(cfg.has(Flaw::PreferExpires), cfg.has(Flaw::IgnoreSMaxage));
            if fresh && !request_no_cache && (cfg.has(Flaw::ServeStale) || !s.no_cache()) {
                return Some(from_cache(shared, req, &s));
            }
            // §4.3.1: validate when there is a validator.
            if field(&s.fields, "etag").is_some() || field(&s.fields, "last-modified").is_some() {
                validating = Some(s);
            }
        }
    }

    // The forwarded request (RFC 9110 §7.6): origin-form with a Host from
    // the target (RFC 9112 §3.2.2: a proxy "MUST ignore the received Host
    // header field (if any) and instead replace it with the host
    // information of the request-target"), our own HTTP-version, no
    // hop-by-hop fields, Via added, Max-Forwards decremented.
    let echo = cfg.has(Flaw::EchoTarget);
    let line_target = if echo {
        req.target.as_str()
    } else {
        path.as_str()
    };
    let version = if cfg.has(Flaw::EchoVersion) {
        format!("HTTP/1.{}", req.minor)
    } else {
        "HTTP/1.1".into()
    };
    let forward_method = if validating.is_some() { "GET" } else { method };
    let host = match (&cfg.mode, echo) {
        (Mode::Forward, false) => authority.clone(),
        _ => req.field("host").unwrap_or_else(|| authority.clone()),
    };
    let mut out = end_to_end(&fields, cfg.has(Flaw::ForwardHopByHop));
    out.retain(|(n, _)| {
        !n.eq_ignore_ascii_case("host")
            && !(max_forwards.is_some() && n.eq_ignore_ascii_case("max-forwards"))
    });
    if let Some(n) = max_forwards {
        out.push(("Max-Forwards".into(), n.to_string()));
    }
    add_via(&mut out, &format!("1.{}", req.minor), shared);
    if let Some(s) = &validating {
        // §4.3.1: the cache MUST send the entity tag (If-None-Match) when
        // the stored response has one, and SHOULD send Last-Modified as
        // If-Modified-Since.
        if let (Some(etag), false) = (field(&s.fields, "etag"), cfg.has(Flaw::NoEtagRevalidation)) {
            out.push(("If-None-Match".into(), etag.to_string()));
        }
        if let Some(lm) = field(&s.fields, "last-modified") {
            out.push(("If-Modified-Since".into(), lm.to_string()));
        }
    }
    if cfg.has(Flaw::CorruptBody) {
        content.pop();
    }
    let mut head = format!("{forward_method} {line_target} {version}\r\nHost: {host}\r\n");
    for (n, v) in &out {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if !content.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        head.push_str(&format!("Content-Length: {}\r\n", content.len()));
    }
    head.push_str("Connection: close\r\n\r\n");

    let deadline = (!cfg.has(Flaw::HangOnDeadOrigin)).then_some(cfg.origin_timeout);
    let request_time = now();
    let addr = authority.clone();
    let result = exchange(
        &addr,
        head.as_bytes(),
        &content,
        forward_method,
        deadline,
        cfg.max_object,
    )
    .await;
    let r = match result {
        Ok(r) => r,
        Err(e) => {
            if let (Some(s), true) = (&validating, cfg.has(Flaw::ServeStale)) {
                return Some(from_cache(shared, req, s));
            }
            return match e {
                Failed::BadGateway(_) if cfg.has(Flaw::HangOnDeadOrigin) => None,
                // RFC 9111 §5.2.2.2: when validation is required and the
                // origin cannot be reached, the cache MUST generate an error;
                // the status SHOULD be 504.
                Failed::BadGateway(why) if validating.is_some() => Some(Reply::error(504, &why)),
                Failed::BadGateway(why) => Some(Reply::error(502, &why)),
                Failed::Timeout => Some(Reply::error(504, "the origin did not answer in time")),
            };
        }
    };
    // §4.3.3 / §4.3.4: a 304 to the validation freshens the stored response
    // with the fields it carries, and the stored response answers.
    if let (Some(mut s), 304) = (validating.clone(), r.status) {
        let fresh_fields = end_to_end(&r.fields, false);
        if cfg.has(Flaw::NoMerge) {
            s.merge(&[], request_time);
        } else {
            s.merge(&fresh_fields, request_time);
        }
        shared.cache.store(&uri, s.clone());
        return Some(from_cache(shared, req, &s));
    }
    Some(forwarded(
        shared,
        req,
        &uri,
        r,
        request_time,
        authorized,
        &request_cc,
    ))
}

/// The origin's response on its way to the client: stored when RFC 9111
/// §3 allows, the URI invalidated after an unsafe method (§4.4).
fn forwarded(
    shared: &Shared,
    req: &Request,
    uri: &str,
    r: OriginResponse,
    request_time: u64,
    authorized: bool,
    request_cc: &Directives,
) -> Reply {
    let cfg = &shared.config;
    let method = req.method.as_str();
    // §4.4: a cache MUST invalidate the target URI when it receives a
    // non-error status code in response to an unsafe request method.
    if !is_safe(method) && r.status < 400 && !cfg.has(Flaw::NoInvalidate) {
        shared.cache.invalidate(uri);
    }
    let mut fields = end_to_end(&r.fields, cfg.has(Flaw::ForwardHopByHop));
    if method == "HEAD" || r.status == 304 {
        // The origin's Content-Length describes the GET's content.
        if let Some(cl) = field(&r.fields, "content-length") {
            fields.push(("Content-Length".into(), cl.to_string()));
        }
    }
    let store = !cfg.has(Flaw::NeverCache)
        && r.body.len() <= cfg.max_object
        && cache::storable(
            method,
            request_cc,
            authorized,
            r.status,
            &fields,
            cfg.has(Flaw::StoreForbidden),
            cfg.has(Flaw::IgnoreAuthorization),
        );
    if store {
        shared.cache.store(
            uri,
            Stored {
                status: r.status,
                reason: r.reason.clone(),
                fields: fields.clone(),
                body: r.body.clone(),
                vary: cache::vary_values(&fields, &text_fields(req)),
                request_time,
                response_time: now(),
                authorized,
            },
        );
    }
    add_via(&mut fields, "1.1", shared);
    let mut body = r.body;
    if cfg.has(Flaw::CorruptBody) {
        body.pop();
    }
    if cfg.has(Flaw::TextBodies) {
        body = String::from_utf8_lossy(&body).into_owned().into_bytes();
    }
    Reply {
        status: r.status,
        reason: r.reason,
        fields,
        body,
    }
}

/// A stored response sent without contacting the origin. RFC 9111 §4: the
/// cache MUST generate an Age field with the current age, replacing any.
/// A client's If-None-Match that matches is answered 304 (§4.3.2).
fn from_cache(shared: &Shared, req: &Request, s: &Stored) -> Reply {
    let mut fields = s.fields.clone();
    fields.retain(|(n, _)| !n.eq_ignore_ascii_case("age"));
    if !shared.config.has(Flaw::NoAge) {
        fields.push(("Age".into(), s.age().to_string()));
    }
    add_via(&mut fields, "1.1", shared);
    let etag = field(&s.fields, "etag").map(|e| e.trim_start_matches("W/").to_string());
    let matches = req.field("if-none-match").is_some_and(|inm| {
        inm.split(',').any(|t| {
            let t = t.trim();
            t == "*" || Some(t.trim_start_matches("W/")) == etag.as_deref()
        })
    });
    if matches {
        fields.retain(|(n, _)| !n.eq_ignore_ascii_case("content-length"));
        return Reply {
            status: 304,
            reason: "Not Modified".into(),
            fields,
            body: Vec::new(),
        };
    }
    Reply {
        status: s.status,
        reason: s.reason.clone(),
        fields,
        body: s.body.clone(),
    }
}

/// RFC 9110 §7.6.2: at Max-Forwards 0 the proxy answers as the final
/// recipient: OPTIONS with what it allows, TRACE with the request it got
/// (§9.3.8, message/http), less fields likely to hold credentials.
fn final_recipient(req: &Request, fields: &[(String, String)]) -> Reply {
    if req.method == "OPTIONS" {
        let mut r = Reply::error(200, "");
        r.reason = "OK".into();
        r.fields = vec![(
            "Allow".into(),
            "GET, HEAD, POST, PUT, DELETE, OPTIONS, TRACE".into(),
        )];
        r.body = Vec::new();
        return r;
    }
    let mut echo = format!("{} {} HTTP/1.{}\r\n", req.method, req.target, req.minor);
    for (n, v) in fields {
        if !["authorization", "cookie", "proxy-authorization"]
            .contains(&n.to_ascii_lowercase().as_str())
        {
            echo.push_str(&format!("{n}: {v}\r\n"));
        }
    }
    echo.push_str("\r\n");
    Reply {
        status: 200,
        reason: "OK".into(),
        fields: vec![("Content-Type".into(), "message/http".into())],
        body: echo.into_bytes(),
    }
}
