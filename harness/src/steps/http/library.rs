//! Steps that drive reqwest, a client library a user's own program would
//! use, through a recording relay (so the transcript shows its bytes and the
//! connections it opened): keep-alive reuse, redirects, cookies, and
//! conditional requests. Over HTTPS the relay is the TLS client towards
//! the server; one scenario has reqwest do TLS itself (rustls), straight to
//! the server.

use std::sync::{Arc, Mutex};

use cucumber::{given, then, when};

use super::checks;
use crate::notation::escape_short;
use crate::step;
use crate::steps::raw::address;
use crate::steps::text::payload;
use crate::steps::{Failure, StepResult, World};
use crate::wire::http::{Framing, Response};
use crate::wire::relay::Relay;

struct Library {
    client: reqwest::Client,
    base: String,
    /// The recording relay; none when reqwest does TLS itself, straight
    /// to the server (its bytes are then encrypted end to end).
    relay: Option<Relay>,
    /// With no relay, the connection budget reqwest's connection takes.
    _lease: Option<crate::target::budget::Lease>,
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
        // HTTPS: the relay is the TLS client towards the server, so the
        // transcript shows reqwest's requests (its own TLS is the scenario
        // "reqwest fetches over HTTPS").
        let upstream = super::https(w)?;
        // A redirect to the server's own absolute https URL (nginx writes
        // one) takes reqwest to the server itself: it trusts the profile's CA.
        let builder = match &upstream {
            Some(tls) => builder().use_preconfigured_tls((*tls.config).clone()),
            None => builder(),
        };
        let relay = w
            .library_relay_secured(target, "reqwest", crate::protocol::Protocol::Http, upstream)
            .await?;
        let base = format!("http://{}", relay.addr);
        install(w, builder, base, Some(relay), None)
    })
}

/// reqwest with its own TLS (rustls, trusting the profile's `[http]`
/// ca_file, offering ALPN http/1.1) straight to the server's HTTPS port;
/// skipped unless `[http] tls = "implicit"`. Its bytes are encrypted end to
/// end, so no relay records them: failures show what reqwest reports.
#[given(regex = r"^an HTTPS client library \(reqwest with its own TLS\) for the target$")]
async fn library_client_tls(w: &mut World) -> StepResult {
    step!(w, {
        if crate::wire::tls::mode(w.profile(), "http") != crate::wire::tls::Mode::Implicit {
            return Err(Failure::skip(
                "the target profile does not set [http] tls = \"implicit\" (HTTPS)",
            ));
        }
        let target = address(w, "${http.address}")?;
        let tls = crate::steps::tls::client(w, "http")?;
        // The URL names the server as its certificate does: `tls_name`,
        // or the address's host.
        let host = match w.profile().get("http.tls_name") {
            Some(name) => name.to_string(),
            None => target.ip().to_string(),
        };
        let host_port = if host.contains(':') {
            format!("[{host}]:{}", target.port())
        } else {
            format!("{host}:{}", target.port())
        };
        let lease = crate::steps::lease(
            &w.budget,
            Some(crate::protocol::Protocol::Http),
            "reqwest",
            &w.transcript,
            w.step_timeout,
        )
        .await?;
        w.transcript.event(
            "reqwest",
            format!("reqwest connects itself to https://{host_port} (rustls, {}; its bytes are not shown)", tls.trust),
        );
        let builder = builder()
            .https_only(true)
            .pool_max_idle_per_host(1)
            .resolve(&host, target)
            .use_preconfigured_tls((*tls.config).clone());
        install(
            w,
            builder,
            format!("https://{host_port}"),
            None,
            Some(lease),
        )
    })
}

/// A reqwest client builder. reqwest's TLS (rustls) uses the process's
/// crypto provider: ring, the project's one (`install_default` is a no-op
/// once one is installed).
fn builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy()
}

/// Finishes the library client: cookies, the redirect log, the step bound.
fn install(
    w: &mut World,
    builder: reqwest::ClientBuilder,
    base: String,
    relay: Option<Relay>,
    lease: Option<crate::target::budget::Lease>,
) -> StepResult {
    {
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
        let client = builder
            .cookie_store(true)
            .redirect(policy)
            .timeout(w.step_timeout)
            .build()
            .map_err(|e| Failure::harness(format!("cannot build the reqwest client: {e}")))?;
        w.state::<LibraryState>().0 = Some(Library {
            client,
            base,
            relay,
            _lease: lease,
            redirects,
            last: None,
        });
        Ok(())
    }
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
        let got = library(w)?
            .relay
            .as_ref()
            .ok_or_else(|| {
                Failure::harness("reqwest with its own TLS has no relay to count its connections")
            })?
            .connections();
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
