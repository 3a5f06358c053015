//! An HTTP/1.1 origin server peer (RFC 9112) for judging HTTP clients and,
//! in front of it, intermediaries such as a web cache: scripted responses
//! per path (status, fields, body, framing), a delay or a held connection
//! per path, routes that can be changed while the scenario runs (a cache
//! test changes the origin's answer and sees whether the cache asks
//! again), and a count of the requests each path received.
//!
//! Requests are read with the harness's own HTTP codec
//! (`crate::wire::http::read_fields`, `chunked`, `content_length`), bounded
//! like every read of the harness.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{accept_loop, listen, Connections, Served, Tasks};
use crate::transcript::Transcript;
use crate::wire::http::{chunked, content_length, read_fields, MAX_LINE};
use crate::wire::{Terminator, WireError};

/// Largest request body the peer reads.
const MAX_BODY: usize = 1 << 20;
/// Requests one connection may make (persistence is bounded too).
const MAX_REQUESTS: usize = 100;

/// How a response body is delimited (RFC 9112 §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    ContentLength,
    Chunked,
    /// No length: the peer closes the connection after the body.
    Close,
}

/// The scripted response of a path.
#[derive(Clone, Debug)]
pub struct Route {
    pub status: u16,
    pub reason: String,
    /// Fields besides the framing ones, in order.
    pub fields: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub framing: Framing,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Never answer: the connection is held open until the client gives up.
    pub hold: bool,
    /// Send the head and the first half of the body, wait this long, then
    /// the rest: a client that takes one read for the whole body is caught.
    pub pause: Duration,
    /// Close the connection without answering (an origin that fails).
    pub close: bool,
    /// The fields of a `304 Not Modified` answered instead to a conditional
    /// request (If-None-Match or If-Modified-Since), as an origin that
    /// validates would: a cache revalidating gets it, a plain GET the route.
    pub not_modified: Option<Vec<(String, String)>>,
}

impl Route {
    pub fn ok(body: &[u8], content_type: &str) -> Route {
        Route {
            status: 200,
            reason: "OK".into(),
            fields: vec![("Content-Type".into(), content_type.into())],
            body: body.to_vec(),
            framing: Framing::ContentLength,
            delay: Duration::ZERO,
            hold: false,
            pause: Duration::ZERO,
            close: false,
            not_modified: None,
        }
    }

    fn not_found() -> Route {
        Route {
            status: 404,
            reason: "Not Found".into(),
            ..Route::ok(b"not found\n", "text/plain")
        }
    }

    /// The response on the wire.
    pub fn render(&self, head_only: bool) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, self.reason).into_bytes();
        for (k, v) in &self.fields {
            out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        match self.framing {
            // RFC 9110 §6.4.1: a 304 has no content (and no framing of its own).
            Framing::ContentLength if self.status == 304 => {}
            Framing::ContentLength => {
                out.extend_from_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes())
            }
            Framing::Chunked => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
            Framing::Close => out.extend_from_slice(b"Connection: close\r\n"),
        }
        out.extend_from_slice(b"\r\n");
        if head_only {
            return out;
        }
        match self.framing {
            Framing::Chunked => {
                // Two chunks where the body allows, so a reader that stops
                // after the first is caught.
                let mid = self.body.len() / 2;
                for part in [&self.body[..mid], &self.body[mid..]] {
                    if !part.is_empty() {
                        out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
                        out.extend_from_slice(part);
                        out.extend_from_slice(b"\r\n");
                    }
                }
                out.extend_from_slice(b"0\r\n\r\n");
            }
            _ => out.extend_from_slice(&self.body),
        }
        out
    }
}

/// One request as the client sent it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub version: String,
    pub fields: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Which connection it came on (0-based, in accept order).
    pub conn: usize,
    /// Every line of the head ended in CRLF.
    pub crlf: bool,
    /// What the codec noticed (bare LF, folding, bad names, …).
    pub problems: Vec<String>,
}

impl Request {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path of the target, without a query (origin- or absolute-form).
    pub fn path(&self) -> &str {
        let t = self.target.as_str();
        let t = match t.find("://") {
            Some(i) => t[i + 3..].find('/').map(|j| &t[i + 3 + j..]).unwrap_or("/"),
            None => t,
        };
        t.split('?').next().unwrap_or(t)
    }
}

/// Requests the peer could not read (garbage, too long, a stall).
#[derive(Clone, Debug)]
pub struct Unreadable {
    pub conn: usize,
    pub problem: String,
}

#[derive(Default)]
struct State {
    routes: BTreeMap<String, Route>,
    requests: Vec<Request>,
    unreadable: Vec<Unreadable>,
}

pub struct HttpOrigin {
    pub addr: SocketAddr,
    pub conns: Connections,
    state: Arc<Mutex<State>>,
    _tasks: Arc<Tasks>,
}

impl HttpOrigin {
    pub async fn start(
        routes: BTreeMap<String, Route>,
        transcript: &Transcript,
    ) -> std::io::Result<HttpOrigin> {
        let (listener, addr) = listen().await?;
        Self::serve_on(listener, addr, routes, transcript)
    }

    /// The peer on a fixed address (a reverse proxy's configured origin).
    pub async fn start_at(
        addr: SocketAddr,
        routes: BTreeMap<String, Route>,
        transcript: &Transcript,
    ) -> std::io::Result<HttpOrigin> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        Self::serve_on(listener, addr, routes, transcript)
    }

    fn serve_on(
        listener: tokio::net::TcpListener,
        addr: SocketAddr,
        routes: BTreeMap<String, Route>,
        transcript: &Transcript,
    ) -> std::io::Result<HttpOrigin> {
        transcript.event("http origin", format!("listening on {addr}"));
        let conns = Connections::default();
        let state = Arc::new(Mutex::new(State {
            routes,
            ..State::default()
        }));
        let tasks = Arc::new(Tasks::default());
        let st = state.clone();
        accept_loop(
            listener,
            "http origin",
            transcript,
            &conns,
            &tasks,
            move |s| serve(s, st.clone()),
        );
        Ok(HttpOrigin {
            addr,
            conns,
            state,
            _tasks: tasks,
        })
    }

    /// Stops listening and cuts every connection; what was received stays.
    pub fn stop(&self) {
        self._tasks.abort_all();
    }

    /// Sets (or replaces) the response of `path` for the requests to come.
    pub fn route(&self, path: &str, route: Route) {
        if let Ok(mut s) = self.state.lock() {
            s.routes.insert(path.to_string(), route);
        }
    }

    /// The response `path` is set to give.
    pub fn route_of(&self, path: &str) -> Option<Route> {
        self.state.lock().ok()?.routes.get(path).cloned()
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state
            .lock()
            .map(|s| s.requests.clone())
            .unwrap_or_default()
    }

    /// How many requests `path` received.
    pub fn count(&self, path: &str) -> usize {
        self.requests().iter().filter(|r| r.path() == path).count()
    }

    pub fn unreadable(&self) -> Vec<Unreadable> {
        self.state
            .lock()
            .map(|s| s.unreadable.clone())
            .unwrap_or_default()
    }
}

async fn serve(mut s: Served, state: Arc<Mutex<State>>) {
    for _ in 0..MAX_REQUESTS {
        let req = match read_request(&mut s).await {
            Ok(Some(r)) => r,
            Ok(None) => return s.ended(true),
            Err(e) => {
                if let Ok(mut st) = state.lock() {
                    st.unreadable.push(Unreadable {
                        conn: s.index,
                        problem: e.to_string(),
                    });
                }
                let _ = s
                    .conn
                    .send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
                return s.ended(false);
            }
        };
        let route = {
            let Ok(mut st) = state.lock() else { return };
            let route = st
                .routes
                .get(req.path())
                .cloned()
                .unwrap_or_else(Route::not_found);
            st.requests.push(req.clone());
            route
        };
        if route.hold {
            s.conn
                .transcript()
                .event(&s.conn.name, "the origin holds the request unanswered");
            return s.record_until_close(super::IDLE).await;
        }
        if route.close {
            s.conn
                .transcript()
                .event(&s.conn.name, "the origin closes without answering");
            let _ = s.conn.shutdown_write().await;
            return s.ended(false);
        }
        let conditional =
            req.field("if-none-match").is_some() || req.field("if-modified-since").is_some();
        let route = match (&route.not_modified, conditional) {
            (Some(fields), true) => Route {
                status: 304,
                reason: "Not Modified".into(),
                fields: fields.clone(),
                body: Vec::new(),
                framing: Framing::ContentLength,
                delay: route.delay,
                hold: false,
                pause: Duration::ZERO,
                close: false,
                not_modified: None,
            },
            _ => route,
        };
        if !route.delay.is_zero() {
            tokio::time::sleep(route.delay).await;
        }
        let head_only = req.method.eq_ignore_ascii_case("HEAD");
        let wire = route.render(head_only);
        // The cut falls inside the body: the head and the body's first half
        // go first (for chunked framing, within its first chunk or after).
        let cut = if route.pause.is_zero() || head_only {
            wire.len()
        } else {
            wire.len() - route.body.len().div_ceil(2).min(wire.len())
        };
        if s.conn.send(&wire[..cut]).await.is_err() {
            return s.ended(true);
        }
        if cut < wire.len() {
            s.conn.transcript().event(
                &s.conn.name,
                format!(
                    "the origin pauses {} inside the body",
                    humantime::format_duration(route.pause)
                ),
            );
            tokio::time::sleep(route.pause).await;
            if s.conn.send(&wire[cut..]).await.is_err() {
                return s.ended(true);
            }
        }
        let client_close = req
            .field("connection")
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")));
        if route.framing == Framing::Close || client_close || req.version == "HTTP/1.0" {
            let _ = s.conn.shutdown_write().await;
            return s.record_until_close(Duration::from_secs(5)).await;
        }
    }
}

/// One request (RFC 9112 §3, §6.3): `None` when the client closed before
/// sending one.
async fn read_request(s: &mut Served) -> Result<Option<Request>, WireError> {
    let line = match s.conn.read_line(MAX_LINE, "an HTTP request line").await {
        Ok(l) => l,
        Err(WireError::Closed { partial, .. }) if partial.is_empty() => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut crlf = line.end == Terminator::CrLf;
    let text = line.text();
    let parts: Vec<&str> = text.split(' ').collect();
    if parts.len() != 3 || !parts[2].starts_with("HTTP/") {
        return Err(WireError::malformed(
            "an HTTP request line: method SP request-target SP HTTP-version (RFC 9112 §3)",
            &line.bytes,
        ));
    }
    let (fields, lines, problems) = read_fields(&mut s.conn).await?;
    crlf &= lines.iter().all(|l| l.end == Terminator::CrLf)
        && problems.iter().all(|p| !p.contains("bare LF"));
    let fields: Vec<(String, String)> = fields
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
        .collect();
    let get = |n: &str| -> Vec<String> {
        fields
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
            .collect()
    };
    let te = get("transfer-encoding");
    let cl = get("content-length");
    let body = if te
        .iter()
        .any(|v| v.to_ascii_lowercase().contains("chunked"))
    {
        chunked(&mut s.conn).await?
    } else if !cl.is_empty() {
        let n = content_length(&cl)?;
        if n > MAX_BODY {
            return Err(WireError::TooLong {
                what: format!("a request body of Content-Length {n}"),
                limit: MAX_BODY,
            });
        }
        s.conn.read_exact(n, "the request body").await?
    } else {
        Vec::new()
    };
    let mut raw = line.bytes.clone();
    raw.extend_from_slice(b"\r\n");
    s.keep(&raw);
    Ok(Some(Request {
        method: parts[0].to_string(),
        target: parts[1].to_string(),
        version: parts[2].to_string(),
        fields,
        body,
        conn: s.index,
        crlf,
        problems,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_routes_counts_requests_and_holds() {
        let t = Transcript::new();
        let mut routes = BTreeMap::new();
        routes.insert("/a".to_string(), Route::ok(b"hello", "text/plain"));
        let origin = HttpOrigin::start(routes, &t).await.unwrap();
        let mut c = crate::wire::Conn::connect(origin.addr, "c", &t, Duration::from_secs(5))
            .await
            .unwrap();
        c.send(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b?q HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let r = crate::wire::http::read_response(&mut c, "GET")
            .await
            .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"hello"[..]));
        let r = crate::wire::http::read_response(&mut c, "GET")
            .await
            .unwrap();
        assert_eq!(r.status, 404);
        assert_eq!((origin.count("/a"), origin.count("/b")), (1, 1));
        let mut chunked = Route::ok(b"0123456789", "text/plain");
        chunked.framing = Framing::Chunked;
        origin.route("/a", chunked);
        c.send(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let r = crate::wire::http::read_response(&mut c, "GET")
            .await
            .unwrap();
        assert_eq!(r.body, b"0123456789");
        assert_eq!(origin.count("/a"), 2);
        let mut held = Route::ok(b"", "text/plain");
        held.hold = true;
        origin.route("/held", held);
        c.send(b"GET /held HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let quiet = c.drain_for(Duration::from_millis(300), 1024).await.unwrap();
        assert!(quiet.is_empty());
        // Garbage is recorded as unreadable, answered 400, never a panic.
        let mut g = crate::wire::Conn::connect(origin.addr, "g", &t, Duration::from_secs(5))
            .await
            .unwrap();
        g.send(b"\x00\x01garbage\r\n\r\n").await.unwrap();
        let r = crate::wire::http::read_response(&mut g, "GET")
            .await
            .unwrap();
        assert_eq!(r.status, 400);
        assert_eq!(origin.unreadable().len(), 1);
    }
}
