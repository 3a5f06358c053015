//! Steps of the http-client suite: the HTTP origin peer
//! (`crate::peer::http`) serves scripted responses, the client under test
//! (`[http-client] command`, with `{url}`, `{host}`, `{port}`) fetches one,
//! and the Thens judge the request the origin received and what the client
//! printed.

use std::collections::BTreeMap;

use cucumber::{given, then, when};

use super::peer::{account, settle, start_client, Peers};
use super::text::payload;
use super::{Failure, StepResult, World};
use crate::notation::escape_short;
use crate::peer::http::{Framing, HttpOrigin, Request, Route};
use crate::step;

/// An HTTP origin peer serving this body at the path, framed by Content-Length, chunked or the close; `and Connection: close` sends the close option with a Content-Length body and keeps the origin's side open; `pausing N ms inside the body` sends the head and half the body, waits, then sends the rest.
#[given(
    regex = r#"^an HTTP origin peer that serves "(/[^"]*)" with "(.*)"(?: (chunked|delimited by close|and Connection: close))?(?: pausing (\d+) ms inside the body)?$"#
)]
async fn origin_serves(
    w: &mut World,
    path: String,
    body: String,
    framing: String,
    pause: String,
) -> StepResult {
    step!(w, {
        let mut route = Route::ok(&payload(w, &body)?, "text/plain");
        if let Ok(ms) = pause.parse::<u64>() {
            route.pause = std::time::Duration::from_millis(ms.min(10_000));
        }
        route.framing = match framing.as_str() {
            "chunked" => Framing::Chunked,
            "delimited by close" => Framing::Close,
            _ => Framing::ContentLength,
        };
        if framing == "and Connection: close" {
            // The origin announces the close but does not close: the
            // client has the whole response by its Content-Length and must
            // close the connection itself (RFC 9112 §9.6).
            route.fields.push(("Connection".into(), "close".into()));
        }
        if w.state::<Peers>().http.is_none() {
            let origin = HttpOrigin::start(BTreeMap::new(), &w.transcript)
                .await
                .map_err(|e| Failure::harness(format!("cannot start the HTTP origin peer: {e}")))?;
            w.state::<Peers>().http = Some(origin);
        }
        if let Some(o) = &w.state::<Peers>().http {
            o.route(&path, route);
        }
        Ok(())
    })
}

/// The origin peer's port, once a Given started it.
fn origin_port(w: &mut World) -> Result<u16, Failure> {
    w.state::<Peers>()
        .http
        .as_ref()
        .map(|o| o.addr.port())
        .ok_or_else(|| {
            Failure::harness("the scenario runs the HTTP client before starting an origin peer")
        })
}

/// Runs the HTTP client under test on the origin peer's URL for the path.
#[when(regex = r#"^the HTTP client under test fetches "(/[^"]*)"$"#)]
async fn fetches(w: &mut World, path: String) -> StepResult {
    step!(w, {
        let port = origin_port(w)?;
        let url = format!("http://127.0.0.1:{port}{path}");
        start_client(
            w,
            "http-client",
            "command",
            port,
            &[("url", &url)],
            Vec::new(),
        )
        .await
    })
}

/// Runs `[http-client] post` on the origin peer's URL for the path with this body as `{input}` (and on stdin); skipped without that key.
#[when(regex = r#"^the HTTP client under test posts "(.*)" to "(/[^"]*)"$"#)]
async fn posts(w: &mut World, body: String, path: String) -> StepResult {
    step!(w, {
        let port = origin_port(w)?;
        let body = payload(w, &body)?;
        let url = format!("http://127.0.0.1:{port}{path}");
        let text = String::from_utf8_lossy(&body).into_owned();
        w.state::<Peers>().input = body.clone();
        start_client(
            w,
            "http-client",
            "post",
            port,
            &[("url", &url), ("input", &text)],
            body,
        )
        .await
    })
}

/// The first request the origin received, once the client has ended.
async fn request(w: &mut World) -> Result<Request, Failure> {
    let wait = w
        .step_timeout
        .saturating_sub(std::time::Duration::from_millis(1500))
        .max(std::time::Duration::from_millis(500));
    if !settle(w, wait).await {
        return Err(Failure::harness(
            "the scenario judges the HTTP client before running it",
        ));
    }
    let (requests, unreadable) = match &w.state::<Peers>().http {
        Some(o) => (o.requests(), o.unreadable()),
        None => (Vec::new(), Vec::new()),
    };
    match (requests.into_iter().next(), unreadable.first()) {
        (Some(r), _) => Ok(r),
        (None, Some(u)) => Err(Failure::conformance(format!(
            "the origin could not read the client's request: {}",
            u.problem
        ))),
        (None, None) => Err(Failure::conformance(
            "the HTTP client under test sent no request to the origin",
        )
        .got(account(w))),
    }
}

/// The request line the origin peer received, exactly.
#[then(regex = r#"^the request line is "(.*)"$"#)]
async fn request_line(w: &mut World, want: String) -> StepResult {
    step!(w, {
        let r = request(w).await?;
        let got = format!("{} {} {}", r.method, r.target, r.version);
        if got == want {
            Ok(())
        } else {
            Err(
                Failure::conformance("the request line is not the one the URL calls for")
                    .expected(format!("\"{want}\""))
                    .got(format!("\"{got}\"")),
            )
        }
    })
}

/// The request's Host field holds the URL's host and port (RFC 9112 §3.2).
#[then("the request carries the URL's host and port in Host")]
async fn host_field(w: &mut World) -> StepResult {
    step!(w, {
        let r = request(w).await?;
        let port = w
            .state::<Peers>()
            .http
            .as_ref()
            .map(|o| o.addr.port())
            .unwrap_or(0);
        let want = format!("127.0.0.1:{port}");
        let hosts: Vec<&str> = r
            .fields
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("host"))
            .map(|(_, v)| v.as_str())
            .collect();
        match hosts.as_slice() {
            [h] if h.eq_ignore_ascii_case(&want) => Ok(()),
            [] => Err(Failure::conformance("the request has no Host field")
                .expected(format!("Host: {want}"))),
            other => Err(Failure::conformance(
                "the Host field does not name the URL's host and port",
            )
            .expected(format!("one Host: {want}"))
            .got(other.join(", "))),
        }
    })
}

/// Every line of the request's head ends in CRLF.
#[then("the request's head has CRLF line ends")]
async fn head_crlf(w: &mut World) -> StepResult {
    step!(w, {
        let r = request(w).await?;
        if r.crlf {
            Ok(())
        } else {
            Err(
                Failure::conformance("the request head has a line ending in a bare LF")
                    .expected("CRLF after the request line and every field line")
                    .got(r.problems.join("; ")),
            )
        }
    })
}

/// The request's body as the origin read it by the request's own framing
/// is exactly what the client was given to post (RFC 9112 §6.3: the
/// framing fields decide where the body ends; a wrong Content-Length
/// loses octets or leaves them to be read as a next request).
#[then("the origin receives exactly the posted body")]
async fn posted_body(w: &mut World) -> StepResult {
    step!(w, {
        let r = request(w).await?;
        let want = w.state::<Peers>().input.clone();
        if !r.method.eq_ignore_ascii_case("POST") {
            return Err(Failure::conformance("the client did not send a POST")
                .expected("POST")
                .got(format!("{} {}", r.method, r.target)));
        }
        let unreadable = w
            .state::<Peers>()
            .http
            .as_ref()
            .map(|o| o.unreadable())
            .unwrap_or_default();
        if r.body == want {
            return Ok(());
        }
        let mut got = format!(
            "{} octets \"{}\" (Content-Length: {}, Transfer-Encoding: {})",
            r.body.len(),
            escape_short(&r.body, 60),
            r.field("content-length").unwrap_or("none"),
            r.field("transfer-encoding").unwrap_or("none"),
        );
        if let Some(u) = unreadable.first() {
            got.push_str(&format!("; then the origin could not read: {}", u.problem));
        }
        Err(
            Failure::conformance("the body the request frames is not the one posted")
                .expected(format!(
                    "{} octets \"{}\"",
                    want.len(),
                    escape_short(&want, 60)
                ))
                .got(got),
        )
    })
}

/// The request with content says how long it is: Content-Length, or Transfer-Encoding chunked (RFC 9110 §8.6).
#[then("the request frames its body with Content-Length or chunked")]
async fn body_framed(w: &mut World) -> StepResult {
    step!(w, {
        let r = request(w).await?;
        let chunked = r
            .field("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        if chunked || r.field("content-length").is_some() {
            Ok(())
        } else {
            Err(Failure::conformance(
                "the request has content but neither Content-Length nor Transfer-Encoding",
            )
            .expected("Content-Length: N, or Transfer-Encoding: chunked")
            .got("no framing field: the recipient reads a request body of length zero"))
        }
    })
}

/// The request does not carry Content-Length together with Transfer-Encoding (RFC 9112 §6.2).
#[then("the request does not carry both Content-Length and Transfer-Encoding")]
async fn not_both(w: &mut World) -> StepResult {
    step!(w, {
        let r = request(w).await?;
        match (r.field("content-length"), r.field("transfer-encoding")) {
            (Some(cl), Some(te)) => Err(Failure::conformance(
                "the request carries both Content-Length and Transfer-Encoding",
            )
            .expected("one framing field")
            .got(format!("Content-Length: {cl}, Transfer-Encoding: {te}"))),
            _ => Ok(()),
        }
    })
}
