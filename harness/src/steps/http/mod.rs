//! HTTP/1.1 steps. Raw-wire steps (this module) send requests byte for byte
//! and read responses with [`crate::wire::http`], for what a client library
//! hides: syntax errors, pipelining, HTTP/1.0, exact framing. The steps in
//! [`library`] drive reqwest, as a user's own client would, for keep-alive
//! reuse, redirects, cookies and conditional requests.
//!
//! Requests name the target as `${http.address}` in Host; fixture files are
//! compared with the bytes embedded in [`crate::fixtures::http`].

mod app;
mod checks;
mod library;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use cucumber::{given, then, when};

use super::line::{check_status, last_reply, next_reply};
use super::raw::{address, open_session};
use super::text::payload;
use super::{client_name, describe_client, Failure, StepResult, World};
use crate::notation::escape_short;
use crate::notation::unescape;
use crate::step;
use crate::wire::http::{read_response, Framing, HttpReader, Response};
use crate::wire::{Conn, Segments};

/// The HTTP readers of the scenario's connections, by client name.
#[derive(Default)]
pub(crate) struct HttpState {
    readers: HashMap<String, Arc<HttpReader>>,
}

async fn connect(w: &mut World, client: &str) -> StepResult {
    // `${http.post}`: where the framing scenarios send request bodies. The
    // echo resource reads every body it gets; without one, a fixture file
    // (a server may then answer without reading the body and close).
    if !w.vars.contains_key("http.post") {
        let post = w
            .profile()
            .get("http.echo")
            .unwrap_or("/index.html")
            .to_string();
        w.vars.insert("http.post".into(), post);
    }
    let reader = Arc::new(HttpReader::default());
    open_session(w, client, "http", "${http.address}", reader.clone()).await?;
    w.state::<HttpState>()
        .readers
        .insert(client.to_string(), reader);
    Ok(())
}

/// The last complete response `client` read.
pub(crate) fn last_response(w: &mut World, client: &str) -> Result<Response, Failure> {
    w.state::<HttpState>()
        .readers
        .get(client)
        .and_then(|r| r.last())
        .ok_or_else(|| {
            Failure::harness(format!(
                "the scenario checks a response before {} read one",
                describe_client(client)
            ))
        })
}

/// The response `client` read before its last one.
pub(crate) fn previous_response(w: &mut World, client: &str) -> Result<Response, Failure> {
    w.state::<HttpState>()
        .readers
        .get(client)
        .and_then(|r| r.previous())
        .ok_or_else(|| {
            Failure::harness("the scenario compares with a previous response that was never read")
        })
}

/// A request with Host and the extra header lines (`\r\n`-separated).
fn build(
    w: &World,
    method: &str,
    path: &str,
    version: &str,
    extra: &str,
    body: &[u8],
) -> Result<Vec<u8>, Failure> {
    let host = w.expand("${http.address}")?;
    let path = w.expand(path)?;
    let mut head = format!("{method} {path} {version}\r\nHost: {host}\r\n");
    let extra = String::from_utf8_lossy(&payload(w, extra)?).into_owned();
    for line in extra.split("\r\n").filter(|l| !l.is_empty()) {
        head.push_str(line);
        head.push_str("\r\n");
    }
    if !body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    Ok(bytes)
}

/// Sends `request` on a fresh connection of `client` to `addr` (a profile
/// template such as `${proxy.address}`; the transcript names it `kind`)
/// and reads the response. The client keeps its HTTP reader, so the
/// response steps see this response as the last one and the one before as
/// the previous.
pub(crate) async fn exchange_on_new_connection(
    w: &mut World,
    client: &str,
    kind: &str,
    addr: &str,
    request: Vec<u8>,
) -> StepResult {
    send_on_new_connection(w, client, kind, addr, request).await?;
    read_next(w, client).await
}

/// Opens a new connection for `client` and sends the request on it, not
/// reading the response (a request left pending while another client goes
/// on).
pub(crate) async fn send_on_new_connection(
    w: &mut World,
    client: &str,
    kind: &str,
    addr: &str,
    request: Vec<u8>,
) -> StepResult {
    let reader = w
        .state::<HttpState>()
        .readers
        .entry(client.to_string())
        .or_default()
        .clone();
    open_session(w, client, kind, addr, reader).await?;
    send(w, client, request).await
}

/// Sends a request as it is, noting its method for the response framing.
async fn send(w: &mut World, client: &str, request: Vec<u8>) -> StepResult {
    let s = w.session(client)?;
    let framed = s.reader.frame(&request);
    s.conn.send(&framed).await?;
    s.sent = request;
    Ok(())
}

/// Sends a request and reads its response. Like any HTTP client, it opens a
/// new connection first when the server ended the last one the way RFC 9112
/// allows (§9.6 `Connection: close`, §6.3 a body delimited by the close), so
/// a scenario about something else does not fail on persistence; the
/// scenarios about persistence check it with their own steps.
async fn exchange(w: &mut World, client: &str, request: Vec<u8>) -> StepResult {
    let ended = w.session(client)?.conn.at_eof();
    if let Some(reader) = w.state::<HttpState>().readers.get(client).cloned() {
        // §9.6: a client that receives "close" ceases sending requests on
        // that connection.
        let over = reader.last().is_some_and(|r| {
            (ended && r.framing == Framing::Close)
                || r.all("Connection")
                    .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")))
        });
        if over {
            open_session(w, client, "http", "${http.address}", reader).await?;
        }
    }
    send(w, client, request).await?;
    read_next(w, client).await
}

async fn read_next(w: &mut World, client: &str) -> StepResult {
    let sent = w.session(client)?.sent.clone();
    next_reply(w, client).await.map_err(|f| {
        let first = sent
            .split(|b| *b == b'\n')
            .next()
            .unwrap_or_default()
            .to_vec();
        let what = format!("an HTTP response to \"{}\"", escape_short(&first, 120));
        if f.expected.is_some() {
            f.expected(what)
        } else {
            f
        }
    })?;
    Ok(())
}

// ---- Given ---------------------------------------------------------------

/// Opens a TCP connection to `[http] address` (`a new` one besides those
/// open).
#[given(regex = r"^(?:an|a new) HTTP connection to the target$")]
async fn http_connection(w: &mut World) -> StepResult {
    step!(w, connect(w, "").await)
}

/// A named further client connected to `[http] address`.
/// Example: `Given HTTP client B connected to the target`
#[given(regex = r"^HTTP client (\w+) (?:is )?connected to the target$")]
async fn http_client_connected(w: &mut World, client: String) -> StepResult {
    step!(w, connect(w, &client).await)
}

/// Skips unless the profile names the resource (`[http] echo`, …); checks it
/// behaves as the key promises on a connection of its own.
#[given(regex = r#"^the target has the "(\w+)" resource$"#)]
async fn has_resource(w: &mut World, key: String) -> StepResult {
    step!(w, {
        let what = crate::fixtures::http::resource(&key).ok_or_else(|| {
            Failure::harness(format!("\"{key}\" is not an HTTP fixture resource"))
        })?;
        if let Some(path) = w.profile().get(&format!("http.{key}")).map(str::to_string) {
            return probe_resource(w, &key, &path, what).await;
        }
        Err(Failure::skip(format!(
            "the target profile sets no http.{key}: the path of a resource that {what} \
             (conform fixtures writes configuration snippets that provide it)"
        )))
    })
}

/// Skips unless the target answers `Range: bytes=0-0` on the file with 206
/// (RFC 9110 §14.2: "A server MAY ignore the Range header field"); asked on
/// a connection of its own.
/// Example: `Given the target answers a byte range of "/big.txt" with 206`
#[given(regex = r#"^the target answers a byte range of "([^"]*)" with 206$"#)]
async fn serves_ranges(w: &mut World, path: String) -> StepResult {
    step!(w, {
        let req = build(w, "GET", &path, "HTTP/1.1", "Range: bytes=0-0", b"")?;
        let mut c = probe_conn(w).await?;
        c.send(&req).await?;
        let r = read_response(&mut c, "GET").await?;
        if r.status == 206 {
            return Ok(());
        }
        Err(Failure::skip(format!(
            "the target answered Range: bytes=0-0 on {path} with {} rather than 206: it does not serve byte ranges (RFC 9110 §14.2: \"A server MAY ignore the Range header field\")",
            r.status
        )))
    })
}

/// The TLS client for `[http]` when the profile says HTTPS (`tls =
/// "implicit"`): every connection to it starts TLS before its request.
pub(crate) fn https(w: &mut World) -> Result<Option<crate::wire::tls::Client>, Failure> {
    match crate::wire::tls::mode(w.profile(), "http") {
        crate::wire::tls::Mode::None => Ok(None),
        _ => crate::steps::tls::client(w, "http").map(Some),
    }
}

/// A connection of its own to the `[http]` server, for a probe (inside TLS
/// for HTTPS).
async fn probe_conn(w: &mut World) -> Result<Conn, Failure> {
    let addr = address(w, "${http.address}")?;
    let tls = https(w)?;
    let mut c = Conn::connect(addr, "http probe", &w.transcript, w.step_timeout)
        .await?
        .perturbed(w.perturb, &w.paused);
    if let Some(tls) = &tls {
        c.start_tls(tls).await?;
    }
    Ok(c)
}

/// Checks, on a connection of its own, that the resource a profile key
/// names answers as the key promises, so that a wrong path or a missing
/// snippet is reported as the profile's problem (a harness error naming the
/// key), not as the server's non-conformance.
async fn probe_resource(w: &mut World, key: &str, path: &str, what: &str) -> StepResult {
    let (method, extra, body): (&str, &str, &[u8]) = match key {
        "echo" => ("POST", "Content-Type: text/plain", b"conform"),
        "cookie_show" => ("GET", "Cookie: conform_probe=1", b""),
        _ => ("GET", "", b""),
    };
    let req = build(w, method, path, "HTTP/1.1", extra, body)?;
    let mut c = probe_conn(w).await?;
    c.send(&req).await?;
    let r = read_response(&mut c, method).await?;
    let ok = match key {
        "echo" => r.status == 200 && r.body.windows(5).any(|x| x == b"len=7"),
        "redirect" => (300..400).contains(&r.status),
        "cookie_set" => r.status == 200 && r.field("Set-Cookie").is_some(),
        _ => r.status == 200,
    };
    if ok {
        return Ok(());
    }
    Err(Failure::harness(format!(
        "the profile's http.{key} = \"{path}\" does not behave as that resource: it must be the path of a resource that {what}; check the key and the server's configuration (conform fixtures writes snippets)"
    ))
    .expected(format!("{method} {path} answered as http.{key} promises"))
    .got(format!(
        "\"{}\"",
        escape_short(r.to_reply().text().as_bytes(), 300)
    )))
}

// ---- When ----------------------------------------------------------------

/// Sends the raw request bytes as written (escapes and profile values
/// expanded), without reading the response.
#[when(regex = r#"^(the client|client \w+) sends the request "(.*)"$"#)]
async fn sends_request(w: &mut World, who: String, text: String) -> StepResult {
    step!(w, {
        let bytes = payload(w, &text)?;
        send(w, &client_name(&who), bytes).await
    })
}

/// Sends the raw request and a GET of a fixture file in the same write
/// (framing checks).
#[when(
    regex = r#"^(the client|client \w+) sends the request "(.*)" and then GET "([^"]*)" in the same write$"#
)]
async fn sends_request_then_get(
    w: &mut World,
    who: String,
    text: String,
    path: String,
) -> StepResult {
    step!(w, {
        let client = client_name(&who);
        let first = payload(w, &text)?;
        let get = build(w, "GET", &path, "HTTP/1.1", "", b"")?;
        let s = w.session(&client)?;
        // Both requests are noted, so each response is framed by its method.
        s.reader.frame(&first);
        s.reader.frame(&get);
        let mut all = first;
        all.extend_from_slice(&get);
        s.conn.send_as(&all, Segments::OneWrite).await?;
        s.sent = all;
        Ok(())
    })
}

/// Keeps a field of the last response as a profile value `${section.key}` for
/// later steps.
#[when(
    regex = r#"^(the client|client \w+) notes the response header "([^"]+)" as "([a-z_]+\.[a-z_]+)"$"#
)]
async fn notes_header(w: &mut World, who: String, name: String, var: String) -> StepResult {
    step!(w, {
        let r = last_response(w, &client_name(&who))?;
        let v = checks::validator(&r, &name)?;
        w.vars.insert(var, v);
        Ok(())
    })
}

/// GET with an If-None-Match of N bytes ending with the last response's ETag.
#[when(
    regex = r#"^(the client|client \w+) requests GET "([^"]*)" with an If-None-Match of (\d+) bytes that ends with the last response's "ETag"$"#
)]
async fn requests_long_if_none_match(
    w: &mut World,
    who: String,
    path: String,
    n: usize,
) -> StepResult {
    step!(w, {
        let client = client_name(&who);
        let last = last_response(w, &client)?;
        let etag = checks::validator(&last, "ETag")?;
        let mut value = String::new();
        let mut i = 0;
        while value.len() + etag.len() < n.saturating_sub(15) {
            value.push_str(&format!("\"conform-pad-{i:06}\", "));
            i += 1;
        }
        value.push_str(&etag);
        let req = build(
            w,
            "GET",
            &path,
            "HTTP/1.1",
            &format!("If-None-Match: {value}"),
            b"",
        )?;
        exchange(w, &client, req).await
    })
}

/// Reads one response: status line, fields, and the body as its framing says.
#[when(regex = r#"^(the client|client \w+) reads the response$"#)]
async fn reads_response(w: &mut World, who: String) -> StepResult {
    step!(w, read_next(w, &client_name(&who)).await)
}

/// Sends the raw request and reads one response.
#[when(regex = r#"^(the client|client \w+) sends the request "(.*)" and reads the response$"#)]
async fn sends_request_reads(w: &mut World, who: String, text: String) -> StepResult {
    step!(w, {
        let bytes = payload(w, &text)?;
        exchange(w, &client_name(&who), bytes).await
    })
}

/// A request with the method and path (Host from the profile; optionally
/// another version and extra fields), then reads the response.
#[when(
    regex = r#"^(the client|client \w+) requests ([A-Z]+) "([^"]*)"(?: over (HTTP/\d\.\d))?(?: with "(.*)")?$"#
)]
async fn requests(
    w: &mut World,
    who: String,
    method: String,
    path: String,
    version: String,
    extra: String,
) -> StepResult {
    step!(w, {
        let version = if version.is_empty() {
            "HTTP/1.1"
        } else {
            &version
        };
        let queued = app::take_pending(w);
        let extra = [extra.as_str(), queued.as_str()]
            .iter()
            .filter(|e| !e.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("\\r\\n");
        let req = build(w, &method, &path, version, &extra, b"")?;
        exchange(w, &client_name(&who), req).await
    })
}

/// GET of a path of N bytes under the prefix, then reads the response.
#[when(regex = r#"^(the client|client \w+) requests GET a path of (\d+) bytes under "([^"]*)"$"#)]
async fn requests_long_path(w: &mut World, who: String, n: usize, under: String) -> StepResult {
    step!(w, {
        let prefix = format!("{}/", under.trim_end_matches('/'));
        let path = format!("{prefix}{}", "a".repeat(n.saturating_sub(prefix.len())));
        let req = build(w, "GET", &path, "HTTP/1.1", "", b"")?;
        exchange(w, &client_name(&who), req).await
    })
}

/// GET of the path with one header field of N bytes, then reads the response.
/// Example: `When the client requests GET "/index.html" with a header field of 10000 bytes`
#[when(
    regex = r#"^(the client|client \w+) requests GET "([^"]*)" with a header field of (\d+) bytes$"#
)]
async fn requests_big_header(w: &mut World, who: String, path: String, n: usize) -> StepResult {
    step!(w, {
        let value = "b".repeat(n.saturating_sub(7));
        let req = build(w, "GET", &path, "HTTP/1.1", &format!("X-Big: {value}"), b"")?;
        exchange(w, &client_name(&who), req).await
    })
}

/// POST of the body (Content-Type text/plain, Content-Length counted) to the
/// path, then reads the response.
#[when(regex = r#"^(the client|client \w+) posts "(.*)" to "([^"]*)"$"#)]
async fn posts(w: &mut World, who: String, body: String, path: String) -> StepResult {
    step!(w, {
        let body = payload(w, &body)?;
        let req = build(
            w,
            "POST",
            &path,
            "HTTP/1.1",
            "Content-Type: text/plain",
            &body,
        )?;
        exchange(w, &client_name(&who), req).await
    })
}

/// GET with a header set to a field of the last response (If-Modified-Since,
/// If-None-Match), then reads the response.
#[when(
    regex = r#"^(the client|client \w+) requests GET "([^"]*)" with the header "([^"]+)" set to the last response's "([^"]+)"$"#
)]
async fn requests_with_validator(
    w: &mut World,
    who: String,
    path: String,
    header: String,
    from: String,
) -> StepResult {
    step!(w, {
        let client = client_name(&who);
        let last = last_response(w, &client)?;
        let value = checks::validator(&last, &from)?;
        let req = build(
            w,
            "GET",
            &path,
            "HTTP/1.1",
            &format!("{header}: {value}"),
            b"",
        )?;
        exchange(w, &client, req).await
    })
}

/// The requests, comma-separated `"METHOD /path"`, written in one write
/// (pipelining, RFC 9112 §9.3.2); read with the next-response steps.
#[when(regex = r#"^the client sends these requests in one write: (.+)$"#)]
async fn pipelines(w: &mut World, list: String) -> StepResult {
    step!(w, {
        let mut all = Vec::new();
        let reader = w
            .state::<HttpState>()
            .readers
            .get("")
            .cloned()
            .ok_or_else(|| Failure::harness("no HTTP connection to pipeline on"))?;
        for item in quoted(&list)? {
            let (method, path) = item
                .split_once(' ')
                .ok_or_else(|| Failure::harness(format!("\"{item}\" is not \"METHOD /path\"")))?;
            let req = build(w, method, path, "HTTP/1.1", "", b"")?;
            reader.sent(&req);
            all.extend(req);
        }
        let s = w.session("")?;
        s.conn.send_as(&all, Segments::OneWrite).await?;
        s.sent = all;
        Ok(())
    })
}

fn quoted(list: &str) -> Result<Vec<String>, Failure> {
    let items: Vec<String> = list
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    if items.is_empty() {
        return Err(Failure::harness(format!(
            "expected a list of quoted items: {list}"
        )));
    }
    Ok(items)
}

// ---- Then: the connection --------------------------------------------------

/// Reads the next response: this status and the fixture file as its body.
#[then(regex = r#"^the next response is (\d{3}) with the body of the fixture file "(.*)"$"#)]
async fn next_response_fixture(w: &mut World, status: String, path: String) -> StepResult {
    step!(w, {
        let reply = next_reply(w, "").await?;
        check_status(&reply, &[status], "for the next pipelined request")?;
        let r = last_response(w, "")?;
        checks::body_is_fixture(&r, &path)
    })
}

/// Reads the next response: this status and no body (HEAD, 304).
#[then(regex = r#"^the next response is (\d{3}) with no body$"#)]
async fn next_response_no_body(w: &mut World, status: String) -> StepResult {
    step!(w, {
        let reply = next_reply(w, "").await?;
        check_status(&reply, &[status], "for the next pipelined request")?;
        let r = last_response(w, "")?;
        checks::no_body(&r)
    })
}

/// Whether the connection ended (end of file or a reset) with nothing more.
fn ended(e: &crate::wire::WireError) -> bool {
    use crate::wire::WireError;
    match e {
        WireError::Closed { partial, .. } => partial.is_empty(),
        WireError::Io { .. } => true,
        _ => false,
    }
}

/// The request got an answer and then the GET written with it got the fixture
/// file: the framing held.
#[then(regex = r#"^the server answers the request, then the GET with the fixture file "(.*)"$"#)]
async fn answers_then_get(w: &mut World, path: String) -> StepResult {
    step!(w, {
        // The first request's body is well-formed: whatever the server thinks
        // of the method or the resource, it must take the body by its framing
        // (RFC 9112 §6.3) and parse the GET where it begins.
        let first = next_reply(w, "").await?;
        let r = last_response(w, "")?;
        if r.status == 400 || r.status == 501 {
            return Err(Failure::conformance(format!(
                "the server answered {} to a request whose body is well-formed: it could not parse its framing",
                r.status
            ))
            .expected("any answer to the method and resource but 400 or 501, then the GET answered")
            .got(format!("\"{}\"", escape_short(first.text().as_bytes(), 300))));
        }
        get_answered_next(w, &path, r.status).await
    })
}

/// A refusal (400 or 501) followed by the close, or, for a server that
/// decodes the body, the GET answered next as above: RFC 9112 §6.3 lets a
/// server refuse framing it cannot handle, never misread it.
#[then(
    regex = r#"^the server replies 400 or 501 and closes the connection, or answers the request, then the GET with the fixture file "(.*)"$"#
)]
async fn refuses_and_closes_or_get(w: &mut World, path: String) -> StepResult {
    step!(w, {
        next_reply(w, "").await?;
        let r = last_response(w, "")?;
        if r.status != 400 && r.status != 501 {
            return get_answered_next(w, &path, r.status).await;
        }
        closes_after(
            w,
            r.status,
            "the connection closed after the refusal (RFC 9112 §6.3)".into(),
        )
        .await
    })
}

/// After a response with `status` to the first request, the GET written
/// with it is answered next with the fixture file, and nothing else comes.
async fn get_answered_next(w: &mut World, path: &str, status: u16) -> StepResult {
    {
        let r_status = status;
        let s = w.session("")?;
        let reader = s.reader.clone();
        match reader.read(&mut s.conn).await {
            Ok(_) => {}
            Err(e) if ended(&e) => {
                return Err(Failure::skip(format!(
                    "the server closed the connection after its {} response to the first request \
                     (RFC 9112 §9.5: a server \"MAY close the transport connection at any time\"), so how it framed the body is not observable",
                    r_status
                )))
            }
            Err(crate::wire::WireError::Timeout { waited, partial, .. }) if partial.is_empty() => {
                return Err(Failure::conformance(format!(
                    "no response to the GET within {}: the server took it for part of the first request's body",
                    humantime::format_duration(waited)
                ))
                .expected(format!("the GET answered with the fixture file {path}"))
                .got("nothing"))
            }
            Err(e) => {
                return Err(Failure::from(e)
                    .expected(format!("the GET answered with the fixture file {path}")))
            }
        }
        let second = last_response(w, "")?;
        let is_fixture = second.status == 200 && checks::body_is_fixture(&second, &path).is_ok();
        if !is_fixture {
            return Err(Failure::conformance(
                "the response after the first one is not the GET's: the server answered bytes of the body as a request",
            )
            .expected(format!("200 with the fixture file {path}"))
            .got(format!(
                "\"{}\" with {} bytes of body: \"{}\"",
                escape_short(second.to_reply().text().as_bytes(), 300),
                second.body.len(),
                escape_short(&second.body, 80)
            )));
        }
        let s = w.session("")?;
        let extra = s
            .conn
            .drain_for(Duration::from_millis(300), 64 * 1024)
            .await?;
        if !extra.is_empty() {
            return Err(Failure::conformance(
                "the server sent more after the GET's response: it answered bytes of the body as a request",
            )
            .expected("nothing after the GET's response")
            .got(format!("\"{}\"", escape_short(&extra, 200))));
        }
        Ok(())
    }
}

/// The server answers 400 (or another status listed), or answers and closes
/// the connection (RFC 9112 §2.2 allows both).
/// Example: `Then the server replies 400 or 413, or answers and closes the connection`
#[then(regex = r"^the server replies (\d{3}(?: or \d{3})*), or answers and closes the connection$")]
async fn rejects_or_closes(w: &mut World, statuses: String) -> StepResult {
    step!(w, {
        let r = last_response(w, "")?;
        if statuses
            .split(" or ")
            .any(|c| c.parse::<u16>().ok() == Some(r.status))
        {
            return Ok(());
        }
        closes_after(
            w,
            r.status,
            format!("{statuses}, or the connection closed after the response (RFC 9112 §2.2)"),
        )
        .await
    })
}

/// After a response with `status` to a request whose framing is invalid,
/// the server closes the connection without sending more.
async fn closes_after(w: &mut World, status: u16, expected: String) -> StepResult {
    let s = w.session("")?;
    match s.conn.wait_for_close(64 * 1024).await {
        Ok(extra) if extra.is_empty() => Ok(()),
        Ok(extra) => Err(Failure::conformance(format!(
            "after its {status} response the server answered what followed the invalid framing"
        ))
        .expected(expected)
        .got(format!("\"{}\" then close", escape_short(&extra, 200)))),
        Err(crate::wire::WireError::Timeout { partial, .. }) => Err(Failure::conformance(format!(
            "the server answered {status} and kept reading a connection whose framing is invalid"
        ))
        .expected(expected)
        .got(if partial.is_empty() {
            "the connection still open".to_string()
        } else {
            format!("\"{}\"", escape_short(&partial, 200))
        })),
        Err(e) => Err(e.into()),
    }
}

/// The connection is still open after the response (a persistent connection).
#[then(regex = r"^the server keeps the connection open$")]
async fn keeps_open(w: &mut World) -> StepResult {
    step!(w, {
        let s = w.session("")?;
        let extra = s
            .conn
            .drain_for(Duration::from_millis(300), 64 * 1024)
            .await?;
        if s.conn.at_eof() {
            // Name the cause where the response shows it: a body only the
            // close could end, or a close it did not announce.
            let last = w
                .state::<HttpState>()
                .readers
                .get("")
                .and_then(|r| r.last());
            let why = match last {
                Some(r) if r.framing == Framing::Close => {
                    "the response had neither Content-Length nor chunked Transfer-Encoding, so only closing the connection could end its body (RFC 9112 §6.3)"
                }
                Some(r)
                    if !r.all("Connection").any(|v| {
                        v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close"))
                    }) =>
                {
                    "the server closed a persistent connection after the response without sending Connection: close (RFC 9112 §9.3: a server that does not keep connections open MUST send the close option)"
                }
                _ => "the server closed a persistent connection after the response",
            };
            return Err(Failure::conformance(why)
                .expected("the connection left open for further requests (RFC 9112 §9.3)")
                .got("end of file"));
        }
        if !extra.is_empty() {
            return Err(
                Failure::conformance("the server sent bytes beyond the response")
                    .expected("nothing after the response's last byte")
                    .got(format!("\"{}\"", escape_short(&extra, 200))),
            );
        }
        Ok(())
    })
}

/// Nothing more arrives on the connection within N ms.
#[then(regex = r"^no further bytes arrive within (\d+) ms$")]
async fn no_further_bytes(w: &mut World, ms: u64) -> StepResult {
    step!(w, {
        let s = w.session("")?;
        // What is buffered already and what comes within the wait (drain_for
        // returns both).
        let extra = s
            .conn
            .drain_for(Duration::from_millis(ms), 64 * 1024)
            .await?;
        if extra.is_empty() {
            Ok(())
        } else {
            Err(Failure::conformance(
                "the server sent bytes after the end of the response as its framing defines it",
            )
            .expected(
                "nothing more (the response ended with its header section or its announced length)",
            )
            .got(format!("\"{}\"", escape_short(&extra, 200))))
        }
    })
}

/// Waits up to `[http] idle_timeout` and a margin for the server to close the
/// idle connection (skipped without the key).
#[then(regex = r"^the server closes the idle connection within its idle timeout$")]
async fn closes_idle(w: &mut World) -> StepResult {
    step!(w, {
        let Some(idle) = w.profile().get("http.idle_timeout").map(str::to_string) else {
            return Err(Failure::skip(
                "the target profile sets no http.idle_timeout, so how long to wait is unknown",
            ));
        };
        let idle = humantime::parse_duration(&idle)
            .map_err(|e| Failure::harness(format!("http.idle_timeout \"{idle}\": {e}")))?;
        let margin = Duration::from_secs(2);
        if idle + margin > w.step_timeout {
            return Err(Failure::skip(format!(
                "http.idle_timeout {} plus {} of margin exceeds the step timeout {}; raise it with --step-timeout",
                humantime::format_duration(idle),
                humantime::format_duration(margin),
                humantime::format_duration(w.step_timeout),
            )));
        }
        let s = w.session("")?;
        let old = s.conn.timeout;
        s.conn.timeout = idle + margin;
        let got = s.conn.wait_for_close(64 * 1024).await;
        s.conn.timeout = old;
        match got {
            Ok(extra) if extra.is_empty() => Ok(()),
            Ok(extra) => Err(
                Failure::conformance("the server sent data on an idle connection")
                    .expected("the connection closed with nothing sent")
                    .got(format!("\"{}\" then close", escape_short(&extra, 200))),
            ),
            Err(crate::wire::WireError::Timeout { .. }) => Err(Failure::conformance(format!(
                "the idle connection was still open {} after the response",
                humantime::format_duration(idle + margin)
            ))
            .expected(format!(
                "the server closes it after its idle timeout of {} (http.idle_timeout)",
                humantime::format_duration(idle)
            ))
            .got("the connection still open")),
            Err(e) => Err(e.into()),
        }
    })
}

/// N connections at once each GET the fixture file and get it whole.
#[then(regex = r#"^(\d+) parallel connections each get the fixture file "(.*)"$"#)]
async fn parallel(w: &mut World, n: usize, path: String) -> StepResult {
    step!(w, {
        let addr = address(w, "${http.address}")?;
        let req = build(w, "GET", &path, "HTTP/1.1", "Connection: close", b"")?;
        let mut leases = Vec::new();
        for i in 1..=n.min(64) {
            let name = format!("http #{i}");
            let section = Some(crate::protocol::Protocol::Http);
            leases.push(
                crate::steps::lease(&w.budget, section, &name, &w.transcript, w.step_timeout)
                    .await?,
            );
        }
        let tls = https(w)?;
        let jobs = leases.into_iter().enumerate().map(|(i, lease)| {
            let i = i + 1;
            let tls = tls.clone();
            let transcript = w.transcript.clone();
            let req = req.clone();
            let timeout = w.step_timeout;
            let perturb = w.perturb;
            let paused = w.paused.clone();
            async move {
                let mut c = Conn::connect(addr, &format!("http #{i}"), &transcript, timeout)
                    .await?
                    .with_lease(lease)
                    .perturbed(perturb, &paused);
                if let Some(tls) = &tls {
                    c.start_tls(tls).await?;
                }
                c.send(&req).await?;
                read_response(&mut c, "GET").await
            }
        });
        for (i, r) in futures::future::join_all(jobs)
            .await
            .into_iter()
            .enumerate()
        {
            let r = r.map_err(|e| {
                Failure::from(e).expected(format!("a response on parallel connection {}", i + 1))
            })?;
            check_status(
                &r.to_reply(),
                &["200".into()],
                &format!("on parallel connection {}", i + 1),
            )?;
            checks::body_is_fixture(&r, &path)?;
        }
        Ok(())
    })
}

// ---- Then: the last response ----------------------------------------------

/// The last response has the header field.
#[then(regex = r#"^the response has the header "([^"]+)"$"#)]
async fn has_header(w: &mut World, name: String) -> StepResult {
    step!(w, checks::has_header(&last_response(w, "")?, &name))
}

/// The last response has no such header field.
/// Example: `Then the response has no header "Content-Length"`
#[then(regex = r#"^the response has no header "([^"]+)"$"#)]
async fn has_no_header(w: &mut World, name: String) -> StepResult {
    step!(w, {
        let r = last_response(w, "")?;
        match r.field(&name) {
            None => Ok(()),
            Some(v) => Err(Failure::conformance(format!("the response carries {name}"))
                .expected(format!("no {name} header"))
                .got(format!("{name}: {v}"))),
        }
    })
}

/// A header field of the last response is, contains, ends with, or lists (as
/// a comma-separated element) the value.
#[then(regex = r#"^the response header "([^"]+)" (is|contains|ends with|lists) "(.*)"$"#)]
async fn header_value(w: &mut World, name: String, how: String, want: String) -> StepResult {
    step!(w, {
        let want = String::from_utf8_lossy(&unescape(&w.expand(&want)?).map_err(Failure::harness)?)
            .into_owned();
        checks::header_value(&last_response(w, "")?, &name, &how, &want)
    })
}

/// The Content-Type, where there is one, has one of these media types.
#[then(regex = r#"^the response's media type, if it has one, is one of (.+)$"#)]
async fn media_type_if_any(w: &mut World, list: String) -> StepResult {
    step!(w, {
        let r = last_response(w, "")?;
        let Some(ct) = r.field("Content-Type") else {
            return Ok(());
        };
        let media = ct
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let accepted = quoted(&list)?;
        if accepted.iter().any(|a| a.eq_ignore_ascii_case(&media)) {
            return Ok(());
        }
        Err(
            Failure::conformance("the response labels the content with another media type")
                .expected(format!(
                    "no Content-Type, or one of {}",
                    accepted.join(", ")
                ))
                .got(format!("Content-Type: {ct}")),
        )
    })
}

/// The header field is an HTTP-date (RFC 9110 §5.6.7, IMF-fixdate or an
/// obsolete form).
#[then(regex = r#"^the response header "([^"]+)" is an HTTP-date$"#)]
async fn header_date(w: &mut World, name: String) -> StepResult {
    step!(w, checks::http_date(&last_response(w, "")?, &name))
}

/// The header field is an HTTP-date within N seconds of the client's clock.
#[then(regex = r#"^the response header "([^"]+)" is within (\d+) seconds of the client's clock$"#)]
async fn header_date_near(w: &mut World, name: String, secs: u64) -> StepResult {
    step!(w, checks::date_near(&last_response(w, "")?, &name, secs))
}

/// The last response body is the fixture file, byte for byte.
#[then(regex = r#"^the response body is the fixture file "(.*)"$"#)]
async fn body_fixture(w: &mut World, path: String) -> StepResult {
    step!(w, {
        let path = w.expand(&path)?;
        checks::body_is_fixture(&last_response(w, "")?, &path)
    })
}

/// RFC 9110 §14.2 lets a server ignore Range (200 with the whole file);
/// §15.3.7.1: a 206 carries `Content-Range: bytes FIRST-LAST/LENGTH` and
/// exactly those octets.
#[then(
    regex = r#"^the response is the whole fixture file "(.*)", or 206 with its bytes (\d+)-(\d+) and their Content-Range$"#
)]
async fn whole_or_range(w: &mut World, path: String, first: usize, last: usize) -> StepResult {
    step!(w, {
        let r = last_response(w, "")?;
        match r.status {
            200 => checks::body_is_fixture(&r, &path),
            206 => checks::byte_range(&r, &path, first, last),
            other => Err(Failure::conformance(format!(
                "the server answered {other} to a satisfiable byte range of a file"
            ))
            .expected(format!(
                "200 with the whole file {path} (Range ignored, RFC 9110 §14.2) or 206 with bytes {first}-{last}"
            ))
            .got(format!(
                "\"{}\"",
                escape_short(r.to_reply().text().as_bytes(), 300)
            ))),
        }
    })
}

/// The last response body contains (or does not contain) the text.
#[then(regex = r#"^the response body (contains|does not contain) "(.*)"$"#)]
async fn body_contains(w: &mut World, how: String, text: String) -> StepResult {
    step!(w, {
        let want = payload(w, &text)?;
        checks::body_contains(&last_response(w, "")?.body, &want, how == "contains")
    })
}

/// The last response body is exactly these bytes (escapes expanded).
/// Example: `Then the response body is exactly "\x00\x01binary"`
#[then(regex = r#"^the response body is exactly "(.*)"$"#)]
async fn body_exactly(w: &mut World, text: String) -> StepResult {
    step!(w, {
        let want = payload(w, &text)?;
        let got = last_response(w, "")?.body;
        if got == want {
            return Ok(());
        }
        Err(
            Failure::conformance("the response body is not the one sent")
                .expected(format!(
                    "{} bytes: \"{}\"",
                    want.len(),
                    escape_short(&want, 200)
                ))
                .got(format!(
                    "{} bytes: \"{}\"",
                    got.len(),
                    escape_short(&got, 200)
                )),
        )
    })
}

/// The last response had no body.
/// Example: `Then the response has no body`
#[then(regex = r"^the response has no body$")]
async fn no_body(w: &mut World) -> StepResult {
    step!(w, checks::no_body(&last_response(w, "")?))
}

/// The header field has the same value as in the response before.
#[then(regex = r#"^the response header "([^"]+)" is the same as in the previous response$"#)]
async fn header_same(w: &mut World, name: String) -> StepResult {
    step!(w, {
        let before = previous_response(w, "")?;
        let now = last_response(w, "")?;
        // The same fields: absent in both is the same too (a GET framed by
        // chunked or by the close has no Content-Length to repeat).
        if before.field(&name) == now.field(&name) {
            Ok(())
        } else {
            Err(
                Failure::conformance(format!("{name} differs from the previous response"))
                    .expected(match before.field(&name) {
                        Some(v) => format!("{name}: {v}"),
                        None => format!("no {name} header, as in the previous response"),
                    })
                    .got(match now.field(&name) {
                        Some(v) => format!("{name}: {v}"),
                        None => format!("no {name} header"),
                    }),
            )
        }
    })
}

/// Each Set-Cookie field follows RFC 6265 §4.1.1's set-cookie-string grammar.
#[then(regex = r#"^the response header "Set-Cookie" follows the set-cookie-string grammar$"#)]
async fn set_cookie_grammar(w: &mut World) -> StepResult {
    step!(w, checks::set_cookie(&last_response(w, "")?))
}

/// Where the response has this status, its Allow header field lists the
/// method.
#[then(regex = r#"^if the response is (405|2xx), its header "Allow" lists "(.*)"$"#)]
async fn allow_if(w: &mut World, when: String, method: String) -> StepResult {
    step!(w, {
        let r = last_response(w, "")?;
        let applies = if when == "2xx" {
            (200..300).contains(&r.status)
        } else {
            r.status == 405
        };
        if !applies {
            return Err(Failure::skip(format!(
                "the target answered {} rather than {when}, so there is no {when} response to check",
                r.status
            )));
        }
        checks::header_value(&r, "Allow", "lists", &method)
    })
}

/// RFC 9112 §6.1/§6.3: a request with both Content-Length and
/// Transfer-Encoding is rejected, or its body is read by the chunked coding
/// ("the Transfer-Encoding overrides the Content-Length"); the echo
/// resource's `len=N` shows which framing the server used.
#[then(
    regex = r#"^the server rejects the request with a 4xx status, or its response body contains "(.*)"$"#
)]
async fn rejects_or_body(w: &mut World, want: String) -> StepResult {
    step!(w, {
        let r = last_response(w, "")?;
        let want = w.expand(&want)?;
        if (400..500).contains(&r.status)
            || (r.status == 200 && r.body.windows(want.len()).any(|x| x == want.as_bytes()))
        {
            return Ok(());
        }
        Err(Failure::conformance(format!(
            "the server answered {} without the body the chunked coding carries: it read the body some other way (by Content-Length?) (RFC 9112 §6.3: \"the Transfer-Encoding overrides the Content-Length\"; §6.1: reject, or process \"in accordance with the Transfer-Encoding alone\")",
            r.status
        ))
        .expected(format!("a 4xx status, or 200 with \"{want}\" in the body"))
        .got(format!(
            "\"{}\" with the body \"{}\"",
            escape_short(r.to_reply().text().as_bytes(), 300),
            escape_short(&r.body, 120)
        )))
    })
}

/// RFC 9110 §10.1.1: to an HTTP/1.1 request whose header section has
/// `Expect: 100-continue` and announces content, an origin server sends at
/// once a final status or 100 (Continue), "MUST NOT wait for the content
/// before sending the 100 (Continue) response", and after a 100 "MUST
/// ultimately send a final status code". The content is sent only once a
/// 100 came.
#[then(
    regex = r#"^the server answers at once with 100 \(Continue\) or a final status, and after the body "(.*)" with a final status$"#
)]
async fn answers_expectation(w: &mut World, body: String) -> StepResult {
    step!(w, {
        let body = payload(w, &body)?;
        let reader = w
            .state::<HttpState>()
            .readers
            .get("")
            .cloned()
            .ok_or_else(|| Failure::harness("no HTTP connection"))?;
        let s = w.session("")?;
        let waited = humantime::format_duration(s.conn.timeout).to_string();
        let first = reader.read_interim_or_final(&mut s.conn).await.map_err(|e| match e {
            crate::wire::WireError::Timeout { partial, .. } if partial.is_empty() => {
                Failure::conformance(format!(
                    "no response within {waited} to the header section with Expect: 100-continue: the server waits for the content (RFC 9110 §10.1.1: \"The origin server MUST NOT wait for the content before sending the 100 (Continue) response\")"
                ))
                .expected("100 (Continue) or a final status, at once")
                .got("nothing")
            }
            e => Failure::from(e),
        })?;
        let mut last = first.clone();
        if first.status < 200 {
            s.conn.send(&body).await?;
            let mut n = 0;
            loop {
                last = reader.read_interim_or_final(&mut s.conn).await.map_err(|e| {
                    Failure::from(e).expected(format!(
                        "a final status after the {} and the content (RFC 9110 §10.1.1: a server that sends 100 \"MUST ultimately send a final status code\")",
                        first.status
                    ))
                })?;
                n += 1;
                if last.status >= 200 || n >= 8 {
                    break;
                }
            }
            if last.status < 200 {
                return Err(Failure::conformance(
                    "interim responses without end after the content",
                )
                .expected("a final status (RFC 9110 §10.1.1)")
                .got(format!("{n} interim responses")));
            }
        }
        s.last_reply = Some(last.to_reply());
        Ok(())
    })
}

/// The last response came with no interim 1xx response before it.
#[then(regex = r"^the response came without an interim 1xx response before it$")]
async fn no_interim(w: &mut World) -> StepResult {
    step!(w, {
        let r = last_response(w, "")?;
        if r.interim.is_empty() {
            return Ok(());
        }
        Err(Failure::conformance(format!(
            "interim responses {:?} came before the final one",
            r.interim
        ))
        .expected("the final response alone (RFC 9110 §15.2: \"A server MUST NOT send a 1xx response to an HTTP/1.0 client\")")
        .got(format!("\"{}\"", escape_short(r.to_reply().text().as_bytes(), 300))))
    })
}

/// Where the last response has Last-Modified, it is an HTTP-date no later
/// than its Date (RFC 9110 §8.8.2.1).
#[then(
    regex = r#"^the response header "Last-Modified", if the server sends one, is not later than its "Date"$"#
)]
async fn last_modified_not_later(w: &mut World) -> StepResult {
    step!(
        w,
        checks::last_modified_not_after_date(&last_response(w, "")?)
    )
}

/// Where the last response has ETag, its value follows the entity-tag
/// grammar (RFC 9110 §8.8.3).
#[then(regex = r#"^the response header "ETag", if the server sends one, is an entity-tag$"#)]
async fn etag_grammar(w: &mut World) -> StepResult {
    step!(w, checks::entity_tag(&last_response(w, "")?))
}

/// The last response is well-formed HTTP/1.1: status line, field lines,
/// framing.
#[then(regex = r"^the response is well-formed$")]
async fn well_formed(w: &mut World) -> StepResult {
    step!(w, checks::well_formed(&last_response(w, "")?))
}

/// The last response's status line has this HTTP version.
#[then(regex = r#"^the response version is "(.*)"$"#)]
async fn version_is(w: &mut World, want: String) -> StepResult {
    step!(w, {
        let r = last_response(w, "")?;
        if r.version == want {
            Ok(())
        } else {
            Err(
                Failure::conformance("unexpected HTTP version in the status line")
                    .expected(want)
                    .got(format!("\"{}\"", escape_short(&r.lines[0].bytes, 200))),
            )
        }
    })
}

/// The last response's status is not this code.
/// Example: `Then the response status is not 200`
#[then(regex = r"^the response status is not (\d{3})$")]
async fn status_not(w: &mut World, status: String) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        if reply.status == status {
            Err(
                Failure::conformance(format!("the server answered {status}"))
                    .expected(format!("any status but {status}"))
                    .got(format!(
                        "\"{}\"",
                        escape_short(reply.text().as_bytes(), 300)
                    )),
            )
        } else {
            Ok(())
        }
    })
}
