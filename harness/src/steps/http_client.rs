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
use crate::peer::http::{Framing, HttpOrigin, Request, Route};
use crate::step;

/// An HTTP origin peer serving this body at the path, framed by Content-Length, chunked or the close.
#[given(
    regex = r#"^an HTTP origin peer that serves "(/[^"]*)" with "(.*)"(?: (chunked|delimited by close))?$"#
)]
async fn origin_serves(w: &mut World, path: String, body: String, framing: String) -> StepResult {
    step!(w, {
        let mut route = Route::ok(&payload(w, &body)?, "text/plain");
        route.framing = match framing.as_str() {
            "chunked" => Framing::Chunked,
            "delimited by close" => Framing::Close,
            _ => Framing::ContentLength,
        };
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

/// Runs the HTTP client under test on the origin peer's URL for the path.
#[when(regex = r#"^the HTTP client under test fetches "(/[^"]*)"$"#)]
async fn fetches(w: &mut World, path: String) -> StepResult {
    step!(w, {
        let port = w
            .state::<Peers>()
            .http
            .as_ref()
            .map(|o| o.addr.port())
            .ok_or_else(|| {
                Failure::harness("the scenario runs the HTTP client before starting an origin peer")
            })?;
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
