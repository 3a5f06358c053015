//! Steps that drive reqwest, a client library a user's own program would
//! use, through a recording relay (so the transcript shows its bytes and the
//! connections it opened): keep-alive reuse, redirects, cookies, and
//! conditional requests.

use std::sync::{Arc, Mutex};

use cucumber::{given, then, when};

use super::checks;
use crate::report::transcript::escape_short;
use crate::step;
use crate::steps::raw::address;
use crate::steps::text::payload;
use crate::steps::{Failure, StepResult, World};
use crate::wire::http::{Framing, Response};
use crate::wire::relay::Relay;

struct Library {
    client: reqwest::Client,
    base: String,
    relay: Relay,
    /// `(status, location)` of each redirect the client followed.
    redirects: Arc<Mutex<Vec<(u16, String)>>>,
    last: Option<(Response, reqwest::Url)>,
}

#[derive(Default)]
struct LibraryState(Option<Library>);

fn library(w: &mut World) -> Result<&mut Library, Failure> {
    w.state::<LibraryState>()
        .0
        .as_mut()
        .ok_or_else(|| Failure::harness("the scenario uses the library client before creating it"))
}

fn last(w: &mut World) -> Result<(Response, reqwest::Url), Failure> {
    library(w)?
        .last
        .clone()
        .ok_or_else(|| Failure::harness("the scenario checks a library response before any"))
}

/// A real client (reqwest, with cookies) for the `[http]` address.
#[given(regex = r"^an HTTP client library \(reqwest\) for the target$")]
async fn library_client(w: &mut World) -> StepResult {
    step!(w, {
        let target = address(w, "${http.address}")?;
        let relay = w
            .library_relay(target, "reqwest", crate::protocol::Protocol::Http)
            .await?;
        let redirects = Arc::new(Mutex::new(Vec::new()));
        let seen = redirects.clone();
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if let Ok(mut s) = seen.lock() {
                s.push((attempt.status().as_u16(), attempt.url().to_string()));
            }
            if attempt.previous().len() >= 5 {
                attempt.error("more than 5 redirects")
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .no_proxy()
            .cookie_store(true)
            .redirect(policy)
            .timeout(w.step_timeout)
            .build()
            .map_err(|e| Failure::harness(format!("cannot build the reqwest client: {e}")))?;
        let base = format!("http://{}", relay.addr);
        w.state::<LibraryState>().0 = Some(Library {
            client,
            base,
            relay,
            redirects,
            last: None,
        });
        Ok(())
    })
}

async fn fetch(
    w: &mut World,
    method: reqwest::Method,
    path: &str,
    header: Option<(String, String)>,
    body: Vec<u8>,
) -> StepResult {
    let timeout = w.step_timeout;
    let path = &w.expand(path)?;
    let lib = library(w)?;
    let url = format!("{}{path}", lib.base);
    let mut req = lib.client.request(method.clone(), &url);
    if let Some((n, v)) = header {
        req = req.header(n, v);
    }
    if !body.is_empty() {
        req = req.body(body);
    }
    let describe = |e: reqwest::Error| {
        let mut msg = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            msg.push_str(&format!(": {s}"));
            src = s.source();
        }
        Failure::conformance(format!("reqwest could not complete {method} {path}: {msg}")).expected(
            format!(
                "a complete HTTP response within {}",
                humantime::format_duration(timeout)
            ),
        )
    };
    let resp = req.send().await.map_err(describe)?;
    let status = resp.status().as_u16();
    let url = resp.url().clone();
    let version = format!("{:?}", resp.version());
    let fields = resp
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec()))
        .collect::<Vec<_>>();
    let body = resp.bytes().await.map_err(describe)?.to_vec();
    let lines = std::iter::once(format!("{version} {status}"))
        .chain(
            fields
                .iter()
                .map(|(n, v)| format!("{n}: {}", String::from_utf8_lossy(v))),
        )
        .map(|t| crate::wire::Line {
            bytes: t.into_bytes(),
            end: crate::wire::Terminator::CrLf,
        })
        .collect();
    let r = Response {
        version,
        status,
        reason: String::new(),
        lines,
        fields,
        framing: Framing::Length(body.len()),
        body,
        interim: vec![],
        problems: vec![],
    };
    library(w)?.last = Some((r, url));
    Ok(())
}

/// reqwest GETs the path, following redirects.
#[when(regex = r#"^the library client fetches "([^"]*)"$"#)]
async fn fetches(w: &mut World, path: String) -> StepResult {
    step!(w, fetch(w, reqwest::Method::GET, &path, None, vec![]).await)
}

/// reqwest GETs the path with a header set to a field of its last response (a
/// conditional request).
#[when(
    regex = r#"^the library client fetches "([^"]*)" with the header "([^"]+)" set to the last library response's "([^"]+)"$"#
)]
async fn fetches_with(w: &mut World, path: String, header: String, from: String) -> StepResult {
    step!(w, {
        let (r, _) = last(w)?;
        let value = checks::validator(&r, &from)?;
        fetch(
            w,
            reqwest::Method::GET,
            &path,
            Some((header, value)),
            vec![],
        )
        .await
    })
}

/// reqwest POSTs the form body to the path.
#[when(regex = r#"^the library client posts "(.*)" to "([^"]*)"$"#)]
async fn library_posts(w: &mut World, body: String, path: String) -> StepResult {
    step!(w, {
        let body = payload(w, &body)?;
        fetch(w, reqwest::Method::POST, &path, None, body).await
    })
}

/// reqwest's last response has this status.
#[then(regex = r"^the library response status is (\d{3})$")]
async fn library_status(w: &mut World, status: u16) -> StepResult {
    step!(w, {
        let (r, url) = last(w)?;
        if r.status == status {
            Ok(())
        } else {
            Err(Failure::conformance(format!("unexpected status for {url}"))
                .expected(status.to_string())
                .got(format!(
                    "\"{}\"",
                    escape_short(r.to_reply().text().as_bytes(), 300)
                )))
        }
    })
}

/// reqwest's last response body is the fixture file.
#[then(regex = r#"^the library response body is the fixture file "(.*)"$"#)]
async fn library_body_fixture(w: &mut World, path: String) -> StepResult {
    step!(w, {
        let path = w.expand(&path)?;
        checks::body_is_fixture(&last(w)?.0, &path)
    })
}

/// reqwest's last response body contains the text.
#[then(regex = r#"^the library response body contains "(.*)"$"#)]
async fn library_body_contains(w: &mut World, text: String) -> StepResult {
    step!(w, {
        let want = payload(w, &text)?;
        checks::body_contains(&last(w)?.0.body, &want, true)
    })
}

/// reqwest's last response has the header field.
/// Example: `Then the library response has the header "ETag"`
#[then(regex = r#"^the library response has the header "([^"]+)"$"#)]
async fn library_has_header(w: &mut World, name: String) -> StepResult {
    step!(w, checks::has_header(&last(w)?.0, &name))
}

/// reqwest ended at this path after following redirects.
#[then(regex = r#"^the library client ended at "([^"]*)"$"#)]
async fn ended_at(w: &mut World, path: String) -> StepResult {
    step!(w, {
        let path = w.expand(&path)?;
        let (_, url) = last(w)?;
        if url.path() == path {
            Ok(())
        } else {
            Err(
                Failure::conformance("the library client ended at another resource")
                    .expected(path)
                    .got(url.to_string()),
            )
        }
    })
}

/// reqwest followed exactly one redirect with this status.
#[then(regex = r"^the library client followed one (\d{3}) redirect$")]
async fn followed(w: &mut World, status: u16) -> StepResult {
    step!(w, {
        let seen = library(w)?
            .redirects
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default();
        match seen.as_slice() {
            [(s, _)] if *s == status => Ok(()),
            _ => Err(
                Failure::conformance("the redirects the library client saw differ")
                    .expected(format!("exactly one {status} redirect"))
                    .got(if seen.is_empty() {
                        "no redirect".into()
                    } else {
                        seen.iter()
                            .map(|(s, u)| format!("{s} to {u}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }),
            ),
        }
    })
}

/// reqwest used this many TCP connections in the scenario (connection reuse).
#[then(regex = r"^the library client used (\d+) connections? in all$")]
async fn used_connections(w: &mut World, n: usize) -> StepResult {
    step!(w, {
        let got = library(w)?.relay.connections();
        if got == n {
            Ok(())
        } else {
            Err(Failure::conformance(
                "the library client could not reuse its connection as often as expected",
            )
            .expected(format!("{n} TCP connection(s) for all its requests (persistent connections, RFC 9112 §9.3)"))
            .got(format!("{got} connections")))
        }
    })
}
