//! Steps of the proxy suite: the system under test is an HTTP proxy or
//! gateway cache (`[proxy] address`) in front of the harness's HTTP origin
//! peer (`crate::peer::http`), which serves the scenario's scripted
//! responses and counts the requests that reach it, so that "served from
//! the cache" is judged by the origin seeing one request.
//!
//! Two deployments (`[proxy] mode`):
//! - `forward` (the default): the client sends absolute-form requests
//!   (`GET http://127.0.0.1:PORT/… HTTP/1.1`), the origin peer listens on a
//!   fresh port in each scenario;
//! - `reverse`: a gateway that forwards origin-form requests to the one
//!   origin it is configured with (`[proxy] origin`): the origin peer
//!   listens there, one scenario at a time.
//!
//! Every scenario's paths get a prefix of their own (`/conform-…/page`), so
//! that what one scenario left in the cache never answers another.
//! Requests go to the proxy on a fresh connection each, read with the
//! harness's HTTP codec; the HTTP response steps (`the response header …`,
//! `the server replies with one of …`) judge what the proxy answered.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use cucumber::{given, then, when};

use super::http::{exchange_on_new_connection, last_response, send_on_new_connection};
use super::peer::seconds;
use super::text::payload;
use super::{Failure, StepResult, World};
use crate::peer::http::{HttpOrigin, Request, Route};
use crate::step;

/// The scenario's origin peer and how the proxy reaches it.
#[derive(Default)]
pub struct ProxyState {
    origin: Option<HttpOrigin>,
    /// The origin's authority as it appears in the URL (`127.0.0.1:PORT`).
    authority: String,
    /// The scenario's path prefix (`/conform-…`).
    prefix: String,
    /// In reverse mode, the origin address is the profile's: one scenario
    /// holds it at a time.
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Forward,
    Reverse(SocketAddr),
}

fn mode(w: &World) -> Result<Mode, Failure> {
    match w.profile().get("proxy.mode").unwrap_or("forward") {
        "reverse" => {
            let origin = w.profile().get("proxy.origin").unwrap_or("");
            origin.parse().map(Mode::Reverse).map_err(|_| {
                Failure::harness(format!(
                    "[proxy] origin = \"{origin}\" is not an address the origin peer can listen on"
                ))
            })
        }
        _ => Ok(Mode::Forward),
    }
}

/// Whose turn it is to listen on a reverse proxy's origin address.
fn origin_turn() -> Arc<tokio::sync::Mutex<()>> {
    static TURN: OnceLock<Arc<tokio::sync::Mutex<()>>> = OnceLock::new();
    TURN.get_or_init(Arc::default).clone()
}

/// In reverse mode, waits for the origin address to be free (outside the
/// step's own bound: the wait is for other scenarios, not the proxy).
async fn take_turn(w: &mut World) {
    if let (Ok(Mode::Reverse(_)), true) = (mode(w), w.state::<ProxyState>()._turn.is_none()) {
        let guard = origin_turn().lock_owned().await;
        w.state::<ProxyState>()._turn = Some(guard);
    }
}

/// A prefix no other scenario (or earlier run against the same cache) uses.
fn fresh_prefix() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    format!("/conform-{:x}-{n}", t ^ u64::from(std::process::id()) << 40)
}

/// Starts the scenario's origin peer (once).
async fn start_origin(w: &mut World) -> StepResult {
    if w.state::<ProxyState>().origin.is_some() {
        return Ok(());
    }
    let (origin, authority) = match mode(w)? {
        Mode::Forward => {
            let o = HttpOrigin::start(BTreeMap::new(), &w.transcript)
                .await
                .map_err(|e| Failure::harness(format!("cannot start the origin peer: {e}")))?;
            let a = format!("127.0.0.1:{}", o.addr.port());
            (o, a)
        }
        Mode::Reverse(addr) => {
            // The previous scenario's listener may take a moment to go.
            let mut tries = 0;
            let o = loop {
                match HttpOrigin::start_at(addr, BTreeMap::new(), &w.transcript).await {
                    Ok(o) => break o,
                    Err(_) if tries < 20 => {
                        tries += 1;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(e) => {
                        return Err(Failure::harness(format!(
                            "[proxy] origin = \"{addr}\": the origin peer cannot listen there: {e}"
                        )))
                    }
                }
            };
            (o, addr.to_string())
        }
    };
    let st = w.state::<ProxyState>();
    st.origin = Some(origin);
    st.authority = authority.clone();
    st.prefix = fresh_prefix();
    w.vars.insert("origin.authority".into(), authority);
    Ok(())
}

/// `Field: value | Field: value` → fields.
fn fields_of(w: &World, text: &str) -> Result<Vec<(String, String)>, Failure> {
    let text = String::from_utf8_lossy(&payload(w, text)?).into_owned();
    text.split(" | ")
        .filter(|f| !f.trim().is_empty())
        .map(|f| {
            f.split_once(':')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| Failure::harness(format!("\"{f}\" is not a field (Name: value)")))
        })
        .collect()
}

fn origin<'a>(w: &'a mut World) -> Result<&'a HttpOrigin, Failure> {
    w.state::<ProxyState>()
        .origin
        .as_ref()
        .ok_or_else(|| Failure::harness("the scenario uses the origin before starting it"))
}

/// The path as the origin sees it: the scenario's prefix and the path.
fn full_path(w: &mut World, path: &str) -> String {
    format!("{}{path}", w.state::<ProxyState>().prefix)
}

/// `Date` now and an HTTP-date `secs` from now (negative: in the past),
/// for the fields of a route: `${now}`, `${in 60s}`, `${60s ago}`.
fn dated(fields: Vec<(String, String)>) -> Vec<(String, String)> {
    let now = std::time::SystemTime::now();
    fields
        .into_iter()
        .map(|(k, v)| {
            let v = match v.as_str() {
                "<now>" => httpdate::fmt_http_date(now),
                "<an hour ago>" => httpdate::fmt_http_date(now - Duration::from_secs(3600)),
                "<a day ago>" => httpdate::fmt_http_date(now - Duration::from_secs(86_400)),
                "<in an hour>" => httpdate::fmt_http_date(now + Duration::from_secs(3600)),
                _ => v,
            };
            (k, v)
        })
        .collect()
}

/// The route with the scenario's fields, each replacing the route's own of
/// that name, and a Date unless they give one (RFC 9110 §6.6.1: an origin
/// with a clock MUST send Date; a cache computes age from it, RFC 9111
/// §4.2.3).
fn with_fields(mut route: Route, fields: Vec<(String, String)>) -> Route {
    if !fields.iter().any(|(k, _)| k.eq_ignore_ascii_case("date")) {
        route.fields.push((
            "Date".into(),
            httpdate::fmt_http_date(std::time::SystemTime::now()),
        ));
    }
    route
        .fields
        .retain(|(k, _)| !fields.iter().any(|(f, _)| f.eq_ignore_ascii_case(k)));
    route.fields.extend(fields);
    route
}

// ---- Given ---------------------------------------------------------------

/// An origin behind the proxy (the HTTP origin peer) serves the body at the path, with these fields besides the framing (`Name: value | Name: value`; `<now>`, `<an hour ago>`, `<in an hour>` become HTTP-dates); `the origin now serves` changes the answer for the requests to come.
/// Example: `Given an origin behind the proxy serves "/page" with "v1" and the fields "Cache-Control: max-age=60"`
#[given(
    regex = r#"^(?:an origin behind the proxy|the origin now) serves "(/[^"]*)" with "(.*?)"(?: and the fields "(.*)")?$"#
)]
async fn origin_serves(w: &mut World, path: String, body: String, fields: String) -> StepResult {
    take_turn(w).await;
    step!(w, {
        start_origin(w).await?;
        let route = Route::ok(&payload(w, &body)?, "text/plain");
        let route = with_fields(route, dated(fields_of(w, &fields)?));
        let full = full_path(w, &path);
        origin(w)?.route(&full, route);
        Ok(())
    })
}

/// The bytes of a binary object of `n` octets: every byte value in turn,
/// CR, LF and NUL among them, so any text handling on the way shows.
fn binary_object(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 256) as u8).collect()
}

/// An origin behind the proxy serves a binary object of this many octets (every byte value in turn, CR, LF and NUL among them) at the path, as application/octet-stream, with these fields besides the framing.
/// Example: `Given an origin behind the proxy serves "/picture.bin" as 100000 octets of every byte value and the fields "Cache-Control: no-transform"`
#[given(
    regex = r#"^an origin behind the proxy serves "(/[^"]*)" as (\d+) octets of every byte value(?: and the fields "(.*)")?$"#
)]
async fn origin_serves_binary(w: &mut World, path: String, n: usize, fields: String) -> StepResult {
    take_turn(w).await;
    step!(w, {
        if n > 4 * 1024 * 1024 {
            return Err(Failure::harness("a binary object of more than 4 MiB"));
        }
        start_origin(w).await?;
        let route = Route::ok(&binary_object(n), "application/octet-stream");
        let route = with_fields(route, dated(fields_of(w, &fields)?));
        let full = full_path(w, &path);
        origin(w)?.route(&full, route);
        Ok(())
    })
}

/// The origin answers a conditional request for the path (If-None-Match or If-Modified-Since) with 304 Not Modified and these fields; an unconditional one still gets the route's full response.
/// Example: `Given the origin answers a conditional request for "/page" with 304 and the fields "ETag: \"v1\" | X-Version: 2"`
#[given(
    regex = r#"^the origin answers a conditional request for "(/[^"]*)" with 304 and the fields "(.*)"$"#
)]
async fn origin_304(w: &mut World, path: String, fields: String) -> StepResult {
    step!(w, {
        let fields = dated(fields_of(w, &fields)?);
        let full = full_path(w, &path);
        let o = origin(w)?;
        let mut route = o.route_of(&full).ok_or_else(|| {
            Failure::harness(format!("the origin serves nothing at \"{path}\" yet"))
        })?;
        route.not_modified = Some(fields);
        o.route(&full, route);
        Ok(())
    })
}

/// The origin sends the path's body in the chunked transfer coding (two chunks).
/// Example: `Given the origin sends "/data" chunked`
#[given(regex = r#"^the origin sends "(/[^"]*)" chunked$"#)]
async fn origin_chunked(w: &mut World, path: String) -> StepResult {
    step!(w, {
        let full = full_path(w, &path);
        let o = origin(w)?;
        let mut route = o.route_of(&full).ok_or_else(|| {
            Failure::harness(format!("the origin serves nothing at \"{path}\" yet"))
        })?;
        route.framing = crate::peer::http::Framing::Chunked;
        o.route(&full, route);
        Ok(())
    })
}

/// The origin holds every request for the path unanswered, or closes the connection without answering (an origin that stalls or fails).
/// Example: `Given the origin closes every request for "/page" without answering`
#[given(regex = r#"^the origin (holds|closes) every request for "(/[^"]*)" without answering$"#)]
async fn origin_fails(w: &mut World, how: String, path: String) -> StepResult {
    take_turn(w).await;
    step!(w, {
        start_origin(w).await?;
        let mut route = Route::ok(b"", "text/plain");
        if how == "holds" {
            route.hold = true;
        } else {
            route.close = true;
        }
        let full = full_path(w, &path);
        origin(w)?.route(&full, route);
        Ok(())
    })
}

/// An origin that is not there: in forward mode a loopback port nothing listens on, in reverse mode the configured origin address with no peer on it.
#[given(regex = r"^an origin behind the proxy that is not listening$")]
async fn origin_absent(w: &mut World) -> StepResult {
    take_turn(w).await;
    step!(w, {
        let authority = match mode(w)? {
            Mode::Forward => {
                // A port just released: nothing listens there.
                let l = std::net::TcpListener::bind("127.0.0.1:0")
                    .map_err(|e| Failure::harness(format!("cannot pick a closed port: {e}")))?;
                let port = l.local_addr().map(|a| a.port()).unwrap_or(9);
                drop(l);
                format!("127.0.0.1:{port}")
            }
            Mode::Reverse(addr) => addr.to_string(),
        };
        let st = w.state::<ProxyState>();
        st.authority = authority;
        st.prefix = fresh_prefix();
        Ok(())
    })
}

/// Skips the scenario unless the proxy is a forward proxy (`[proxy] mode = "forward"`, the default): absolute-form targets and their Host are a forward proxy's concern.
#[given(regex = r"^the proxy is a forward proxy$")]
async fn is_forward(w: &mut World) -> StepResult {
    step!(w, {
        match mode(w)? {
            Mode::Forward => Ok(()),
            Mode::Reverse(_) => Err(Failure::skip(
                "[proxy] mode = \"reverse\": a gateway takes origin-form requests, this scenario is about absolute-form ones",
            )),
        }
    })
}

// ---- When ----------------------------------------------------------------

/// Sends a request through the proxy on a fresh connection and reads the response: the target is the origin's URL for the path (absolute-form to a forward proxy, origin-form to a gateway), Host its authority unless the extra fields (`\r\n`-separated) give one; a body gets a Content-Length unless the fields frame it.
/// Example: `When the client requests GET "/page" through the proxy with "Accept-Language: en"`
#[when(
    regex = r#"^the client requests ([A-Z]+) "(/[^"]*)" through the proxy(?: over (HTTP/1\.[01]))?(?: with "(.*?)")?(?: and the body "(.*)")?$"#
)]
async fn requests_through(
    w: &mut World,
    method: String,
    path: String,
    version: String,
    extra: String,
    body: String,
) -> StepResult {
    step!(w, {
        let bytes = request_bytes(w, &method, &path, &version, &extra, &body)?;
        exchange_on_new_connection(w, "", "proxy", "${proxy.address}", bytes).await
    })
}

/// The bytes of a request for the origin's `path` as the proxy expects it:
/// absolute-form to a forward proxy, origin-form to a gateway.
fn request_bytes(
    w: &mut World,
    method: &str,
    path: &str,
    version: &str,
    extra: &str,
    body: &str,
) -> Result<Vec<u8>, Failure> {
    let version = if version.is_empty() {
        "HTTP/1.1"
    } else {
        version
    };
    let (authority, prefix) = {
        let st = w.state::<ProxyState>();
        (st.authority.clone(), st.prefix.clone())
    };
    if authority.is_empty() {
        return Err(Failure::harness(
            "the scenario sends a request before it has an origin",
        ));
    }
    let (target, host) = match mode(w)? {
        Mode::Forward => (format!("http://{authority}{prefix}{path}"), authority),
        Mode::Reverse(_) => (format!("{prefix}{path}"), w.expand("${proxy.address}")?),
    };
    let extra = String::from_utf8_lossy(&payload(w, extra)?).into_owned();
    let body = payload(w, body)?;
    let lines: Vec<&str> = extra.split("\r\n").filter(|l| !l.is_empty()).collect();
    let has = |name: &str| {
        lines.iter().any(|l| {
            l.split(':')
                .next()
                .is_some_and(|n| n.trim().eq_ignore_ascii_case(name))
        })
    };
    let mut head = format!("{method} {target} {version}\r\n");
    if !has("host") {
        head.push_str(&format!("Host: {host}\r\n"));
    }
    for l in &lines {
        head.push_str(l);
        head.push_str("\r\n");
    }
    if !body.is_empty() && !has("content-length") && !has("transfer-encoding") {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&body);
    Ok(bytes)
}

/// Sends these bytes to the proxy as a request of their own on a fresh connection (escapes and `${…}` values expanded) and reads the response.
/// Example: `When the client sends the proxy "CONNECT 127.0.0.1:25 HTTP/1.1\r\nHost: 127.0.0.1:25\r\n\r\n"`
#[when(regex = r#"^the client sends the proxy "(.*)"$"#)]
async fn sends_proxy(w: &mut World, text: String) -> StepResult {
    step!(w, {
        let bytes = payload(w, &text)?;
        exchange_on_new_connection(w, "", "proxy", "${proxy.address}", bytes).await
    })
}

/// The origin peer stops: its listener closes and its connections are cut, so a proxy that contacts it now is refused (what it received so far is kept for the Then steps).
/// Example: `When the origin stops`
#[when(regex = r"^the origin stops$")]
async fn origin_stops(w: &mut World) -> StepResult {
    step!(w, {
        origin(w)?.stop();
        // The listener's task is aborted; let it be dropped (the port
        // closed) before the next request goes out.
        tokio::task::yield_now().await;
        Ok(())
    })
}

/// A first client sends a request for the held path through the proxy and keeps waiting; once the origin has received it, a second client requests the other path through the proxy and reads its response (a proxy that serves one client at a time never answers it). The first client's request is left pending.
/// Example: `When a first client's request for "/slow" is held at the origin while a second client requests GET "/page" through the proxy`
#[when(
    regex = r#"^a first client's request for "(/[^"]*)" is held at the origin while a second client requests GET "(/[^"]*)" through the proxy$"#
)]
async fn while_one_is_held(w: &mut World, held: String, path: String) -> StepResult {
    step!(w, {
        let first = request_bytes(w, "GET", &held, "", "", "")?;
        send_on_new_connection(w, "first", "proxy", "${proxy.address}", first).await?;
        // Out now: nothing is read on this connection for a while, and a
        // coalescing connection (`--perturb coalesce`) holds its writes
        // until the next read.
        w.session("first")?.conn.flush().await?;
        let full = full_path(w, &held);
        let deadline = tokio::time::Instant::now() + w.step_timeout;
        while origin(w)?.count(&full) == 0 {
            if tokio::time::Instant::now() >= deadline {
                return Err(Failure::conformance(format!(
                    "the proxy did not forward the first client's request for {held}"
                ))
                .expected(format!("a request for {held} at the origin"))
                .got(format!(
                    "none within {}",
                    humantime::format_duration(w.step_timeout)
                )));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let second = request_bytes(w, "GET", &path, "", "", "")?;
        exchange_on_new_connection(w, "", "proxy", "${proxy.address}", second).await?;
        // Served while the first request was still held: the first client
        // has had nothing yet. A proxy that gave up on the first (a 504
        // after its own origin timeout) before it read the second client
        // serves one client at a time.
        let s = w.session("first")?;
        let early = s.conn.drain_for(Duration::from_millis(50), 4096).await;
        let ended = s.conn.at_eof();
        let got = match early {
            Ok(b) if b.is_empty() && !ended => return Ok(()),
            Ok(b) if b.is_empty() => "the first client's connection had been closed".to_string(),
            Ok(b) => format!(
                "the first client had already got {}",
                crate::notation::escape_short(&b, 80)
            ),
            Err(e) => format!("the first client's connection had ended: {e}"),
        };
        Err(Failure::conformance(
            "the proxy answered the second client only after it had finished with the first one's request",
        )
        .expected("the second client's response while the first one's request is held at the origin")
        .got(got))
    })
}

/// The client waits this long before its next request (a stored response becomes stale).
/// Example: `When the client waits 2.5 seconds`
#[when(regex = r"^the client waits ([0-9.]+) seconds?$")]
async fn seconds_pass(w: &mut World, secs: String) -> StepResult {
    step!(w, {
        tokio::time::sleep(seconds(&secs)?).await;
        Ok(())
    })
}

// ---- Then ----------------------------------------------------------------

/// How many requests for the path reached the origin (`no`, `one`, `two`, `three` or a number).
/// Example: `Then the origin received one request for "/page"`
#[then(regex = r#"^the origin received (no|one|two|three|\d+) requests? for "(/[^"]*)"$"#)]
async fn received(w: &mut World, n: String, path: String) -> StepResult {
    step!(w, {
        let want: usize = match n.as_str() {
            "no" => 0,
            "one" => 1,
            "two" => 2,
            "three" => 3,
            n => n.parse().unwrap_or(0),
        };
        let full = full_path(w, &path);
        let got = origin(w)?.count(&full);
        if got == want {
            return Ok(());
        }
        let how = if got > want {
            "the proxy forwarded a request it should have answered from its cache (or itself)"
        } else {
            "the proxy answered from its cache (or itself) a request it had to forward"
        };
        Err(Failure::conformance(how)
            .expected(format!("{want} request(s) for {path} at the origin"))
            .got(format!("{got}")))
    })
}

/// The body of the last response is exactly the body the origin serves at the path, octet for octet (the first difference is shown).
/// Example: `Then the response body is the origin's "/picture.bin", octet for octet`
#[then(regex = r#"^the response body is the origin's "(/[^"]*)", octet for octet$"#)]
async fn body_is_origins(w: &mut World, path: String) -> StepResult {
    step!(w, {
        let full = full_path(w, &path);
        let want = origin(w)?
            .route_of(&full)
            .ok_or_else(|| Failure::harness(format!("the origin serves nothing at \"{path}\"")))?
            .body;
        let got = last_response(w, "")?.body;
        if got == want {
            return Ok(());
        }
        let at = super::text::first_difference(&got, &want);
        let show = |b: &[u8]| {
            let end = (at + 8).min(b.len());
            crate::notation::escape_short(&b[at.min(end)..end], 64)
        };
        Err(Failure::conformance(format!(
            "the body that reached the client is not the origin's: they differ from octet {at}"
        ))
        .expected(format!(
            "{} octets; from octet {at}: {}",
            want.len(),
            show(&want)
        ))
        .got(format!(
            "{} octets; from octet {at}: {}",
            got.len(),
            show(&got)
        )))
    })
}

/// The last request for the path the origin received.
fn last_request(w: &mut World, path: &str) -> Result<Request, Failure> {
    let full = full_path(w, path);
    let requests = origin(w)?.requests();
    requests
        .into_iter()
        .rev()
        .find(|r| r.path() == full)
        .ok_or_else(|| {
            Failure::conformance(format!("no request for {path} reached the origin"))
                .expected("the proxy forwards the request")
        })
}

fn values<'a>(r: &'a Request, name: &str) -> Vec<&'a str> {
    r.fields
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The request line of the last request for the path is in origin-form (the path and query only, RFC 9112 §3.2.1) and says HTTP/1.1, the proxy's own version (RFC 9110 §2.5).
/// Example: `Then the origin's last request for "/page" is in origin-form over HTTP/1.1`
#[then(
    regex = r#"^the origin's last request for "(/[^"]*)" is in origin-form(?: over (HTTP/1\.1))?$"#
)]
async fn origin_form(w: &mut World, path: String, version: String) -> StepResult {
    step!(w, {
        let r = last_request(w, &path)?;
        let full = full_path(w, &path);
        let line = format!("{} {} {}", r.method, r.target, r.version);
        if r.target != full {
            return Err(Failure::conformance(
                "the forwarded request's target is not the origin-form path",
            )
            .expected(format!("{} {full} …", r.method))
            .got(line));
        }
        if !version.is_empty() && r.version != version {
            return Err(Failure::conformance(
                "the proxy forwarded the client's HTTP-version, not its own",
            )
            .expected(format!("{} {full} {version}", r.method))
            .got(line));
        }
        Ok(())
    })
}

/// Every request for the path that reached the origin says the same HTTP-version (the proxy's own, RFC 9112 §2.3), though the client sent HTTP/1.1 and HTTP/1.0.
/// Example: `Then the origin's requests for "/page" all say one HTTP-version, whatever the client's`
#[then(
    regex = r#"^the origin's requests for "(/[^"]*)" all say one HTTP-version, whatever the client's$"#
)]
async fn origin_one_version(w: &mut World, path: String) -> StepResult {
    step!(w, {
        let full = full_path(w, &path);
        let lines: Vec<String> = origin(w)?
            .requests()
            .into_iter()
            .filter(|r| r.path() == full)
            .map(|r| format!("{} {} {}", r.method, r.target, r.version))
            .collect();
        let versions: std::collections::BTreeSet<&str> =
            lines.iter().filter_map(|l| l.rsplit(' ').next()).collect();
        match (lines.len(), versions.len()) {
            (n, 1) if n >= 2 => Ok(()),
            (n, _) if n < 2 => Err(Failure::conformance(
                "the proxy did not forward both requests (the response is no-store)",
            )
            .expected(format!("2 requests for {path} at the origin"))
            .got(format!("{n}"))),
            _ => Err(Failure::conformance(
                "the proxy forwarded the client's HTTP-version, not its own",
            )
            .expected("one HTTP-version in every forwarded request")
            .got(lines.join(" / "))),
        }
    })
}

/// The last request for the path carries exactly one Host: the authority of the URL the client asked for.
/// Example: `Then the origin's last request for "/page" has the URL's authority in Host`
#[then(regex = r#"^the origin's last request for "(/[^"]*)" has the URL's authority in Host$"#)]
async fn origin_host(w: &mut World, path: String) -> StepResult {
    step!(w, {
        let r = last_request(w, &path)?;
        let want = w.state::<ProxyState>().authority.clone();
        match values(&r, "host").as_slice() {
            [h] if h.eq_ignore_ascii_case(&want) => Ok(()),
            other => Err(Failure::conformance(
                "the forwarded Host is not the authority of the request-target",
            )
            .expected(format!("Host: {want}"))
            .got(if other.is_empty() {
                "no Host".to_string()
            } else {
                other.join(", ")
            })),
        }
    })
}

/// The last request for the path has the field; with `set to`, exactly this value (`${…}` expanded).
/// Example: `Then the origin's last request for "/page" has the field "Max-Forwards" set to "4"`
#[then(
    regex = r#"^the origin's last request for "(/[^"]*)" has the field "([^"]+)"(?: set to "(.*)")?$"#
)]
async fn origin_field(w: &mut World, path: String, name: String, want: String) -> StepResult {
    step!(w, {
        let r = last_request(w, &path)?;
        let got = values(&r, &name).join(", ");
        if values(&r, &name).is_empty() {
            return Err(
                Failure::conformance(format!("the forwarded request has no {name} field"))
                    .expected(if want.is_empty() {
                        format!("{name}: …")
                    } else {
                        format!("{name}: {want}")
                    }),
            );
        }
        let want = w.expand(&want)?;
        if want.is_empty() || got == want {
            Ok(())
        } else {
            Err(
                Failure::conformance(format!("the forwarded {name} is not the expected value"))
                    .expected(format!("{name}: {want}"))
                    .got(format!("{name}: {got}")),
            )
        }
    })
}

/// The last request for the path lacks the field: it was hop-by-hop. (A Connection field with the proxy's own options, such as `keep-alive`, is allowed: RFC 9110 §7.6.1 lets an intermediary replace Connection with its own control options.)
/// Example: `Then the origin's last request for "/page" has no field "Keep-Alive"`
#[then(regex = r#"^the origin's last request for "(/[^"]*)" has no field "([^"]+)"$"#)]
async fn origin_no_field(w: &mut World, path: String, name: String) -> StepResult {
    step!(w, {
        let r = last_request(w, &path)?;
        let got = values(&r, &name);
        if got.is_empty() {
            return Ok(());
        }
        Err(
            Failure::conformance(format!("the proxy forwarded the hop-by-hop field {name}"))
                .expected(format!("no {name} field"))
                .got(format!("{name}: {}", got.join(", "))),
        )
    })
}

/// The last request for the path has a Via whose last element is a received-protocol of this version and a received-by (RFC 9110 §7.6.3: `Via = #( received-protocol RWS received-by [ RWS comment ] )`).
/// Example: `Then the origin's last request for "/page" has a Via naming 1.1`
#[then(regex = r#"^the origin's last request for "(/[^"]*)" has a Via naming (1\.[01])$"#)]
async fn origin_via(w: &mut World, path: String, version: String) -> StepResult {
    step!(w, {
        let r = last_request(w, &path)?;
        let via = values(&r, "via").join(", ");
        let last = via.rsplit(',').next().unwrap_or("").trim().to_string();
        let mut words = last.split_whitespace();
        let protocol = words.next().unwrap_or("");
        let by = words.next().unwrap_or("");
        let ok = (protocol == version || protocol == format!("HTTP/{version}")) && !by.is_empty();
        if ok {
            return Ok(());
        }
        Err(Failure::conformance(if via.is_empty() {
            "the proxy forwarded the request without a Via field".to_string()
        } else {
            "the Via the proxy added does not name the protocol it received".to_string()
        })
        .expected(format!("Via: …, {version} <received-by>"))
        .got(if via.is_empty() {
            "no Via".to_string()
        } else {
            format!("Via: {via}")
        }))
    })
}

/// The body of the last request for the path, exactly (escapes expanded), however it was framed.
/// Example: `Then the origin's last request for "/form" has the body "hello world"`
#[then(regex = r#"^the origin's last request for "(/[^"]*)" has the body "(.*)"$"#)]
async fn origin_body(w: &mut World, path: String, want: String) -> StepResult {
    step!(w, {
        let r = last_request(w, &path)?;
        let want = payload(w, &want)?;
        if r.body == want {
            return Ok(());
        }
        Err(
            Failure::conformance("the proxy did not forward the request body intact")
                .expected(format!("\"{}\"", crate::notation::escape_short(&want, 200)))
                .got(format!(
                    "\"{}\"",
                    crate::notation::escape_short(&r.body, 200)
                )),
        )
    })
}

/// The last request for the path was a conditional one carrying this validator field with the value the origin sent (the ETag, or Last-Modified for If-Modified-Since); with `if it is conditional at all`, an unconditional request skips.
/// Example: `Then the origin's last request for "/page" is conditional with "If-None-Match" of its "ETag"`
#[then(
    regex = r#"^the origin's last request for "(/[^"]*)" is conditional with "(If-None-Match|If-Modified-Since)" of its "(ETag|Last-Modified)"( if it is conditional at all)?$"#
)]
async fn origin_conditional(
    w: &mut World,
    path: String,
    field: String,
    source: String,
    if_any: String,
) -> StepResult {
    step!(w, {
        let r = last_request(w, &path)?;
        let conditional =
            !values(&r, "if-none-match").is_empty() || !values(&r, "if-modified-since").is_empty();
        if !if_any.is_empty() && !conditional {
            return Err(Failure::skip(
                "the proxy fetched the response again instead of validating it (a cache may): no validator to judge",
            ));
        }
        let full = full_path(w, &path);
        let sent = origin(w)?
            .route_of(&full)
            .and_then(|route| {
                route
                    .fields
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(&source))
                    .map(|(_, v)| v.clone())
            })
            .ok_or_else(|| Failure::harness(format!("the origin sends no {source} for {path}")))?;
        let got = values(&r, &field).join(", ");
        // If-None-Match lists entity-tags; the stored one must be among them.
        let ok = if field == "If-None-Match" {
            got.split(',').any(|t| t.trim() == sent)
        } else {
            got.trim() == sent
        };
        if ok {
            return Ok(());
        }
        Err(Failure::conformance(format!(
            "the request that reached the origin does not validate with the stored {source}"
        ))
        .expected(format!("{field}: {sent}"))
        .got(if got.is_empty() {
            format!(
                "no {field} ({})",
                if values(&r, "if-none-match").is_empty()
                    && values(&r, "if-modified-since").is_empty()
                {
                    "an unconditional request"
                } else {
                    "another validator"
                }
            )
        } else {
            format!("{field}: {got}")
        }))
    })
}

/// The proxy's response has an Age field: one non-negative integer (RFC 9111 §5.1: `Age = delta-seconds`); with `unless …`, skipped when the origin saw a second request for the path (the response was not served from the cache).
/// Example: `Then the response has an Age, unless the origin received a second request for "/page"`
#[then(
    regex = r#"^the response has an Age(?:, unless the origin received a second request for "(/[^"]*)")?$"#
)]
async fn has_age(w: &mut World, path: String) -> StepResult {
    step!(w, {
        if !path.is_empty() {
            let full = full_path(w, &path);
            if origin(w)?.count(&full) > 1 {
                return Err(Failure::skip(
                    "the proxy forwarded the second request instead of serving it from its cache (caching is optional): no Age to judge",
                ));
            }
        }
        let r = last_response(w, "")?;
        let ages: Vec<String> = r.all("Age").collect();
        match ages.as_slice() {
            [a] if !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
            [] => Err(Failure::conformance(
                "the proxy served a stored response without an Age field",
            )
            .expected("Age: <delta-seconds>")),
            other => Err(
                Failure::conformance("the Age field is not one delta-seconds")
                    .expected("Age: <delta-seconds>")
                    .got(format!("Age: {}", other.join(", "))),
            ),
        }
    })
}
