//! The proxy suite against faulty proxies: the reference caching proxy with
//! one behaviour flipped (`reference_servers::proxy::Flaw`) fails the
//! scenarios that check that behaviour, while the same proxy without the
//! flaw passes the whole suite — as a forward proxy and as a gateway
//! (reverse mode, the origin peer on the profile's fixed address).

mod common;

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use conform::protocol::Protocol;
use conform::report::result::Outcome;
use conform::target::Profile;
use reference_servers::proxy::{self, Config, Flaw, Mode};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Runs the scenarios `ids` (all when empty) against `config` and returns
/// each id's outcome and failure message.
async fn run(config: Config, ids: &[&str]) -> Vec<(String, Outcome, String)> {
    let mode = match &config.mode {
        Mode::Forward => "mode = \"forward\"\n".to_string(),
        Mode::Reverse { origin } => format!("mode = \"reverse\"\norigin = \"{origin}\"\n"),
    };
    let timeout = humantime::format_duration(config.origin_timeout).to_string();
    let running = proxy::start(LOOPBACK, 0, config)
        .await
        .expect("proxy starts");
    let addr = running.addr("proxy").expect("proxy listens");
    let text = format!("[proxy]\naddress = \"{addr}\"\n{mode}origin_timeout = \"{timeout}\"\n");
    let profile = Profile::parse(&text, "test profile").expect("profile parses");
    let results = common::run_scenarios(Protocol::Proxy, profile, ids).await;
    drop(running);
    results
}

fn config(flaw: Option<Flaw>) -> Config {
    let mut c = Config::new(Mode::Forward);
    c.origin_timeout = Duration::from_secs(2);
    match flaw {
        Some(f) => c.with_flaw(f),
        None => c,
    }
}

/// Each flaw and the scenarios (by id, below `proxy/`) it must fail.
const FLAWS: &[(Flaw, &[&str])] = &[
    (
        Flaw::NeverCache,
        &[
            "caching/a-fresh-response-max-age-is-served-from-the-cache",
            "caching/s-maxage-makes-a-response-fresh-for-a-shared-cache",
            "caching/a-response-fresh-by-expires-is-served-from-the-cache",
            "caching/a-public-response-to-a-request-with-authorization-may-be-reused",
            "caching/a-response-that-varies-is-reused-for-a-matching-request",
            "caching/the-course-s-conditional-get-a-stale-object-is-revalidated-with-if-modified-since-and-a-304",
            "caching/a-head-is-answered-from-a-stored-get-response",
            "caching/a-fresh-response-is-served-from-the-cache-after-the-origin-has-gone",
        ],
    ),
    (
        Flaw::OneClientAtATime,
        &["forwarding/a-second-client-is-answered-while-the-origin-holds-the-first-one-s-request"],
    ),
    (
        Flaw::TextBodies,
        &[
            "forwarding/a-no-transform-response-body-reaches-the-client-intact",
            "forwarding/a-large-binary-object-reaches-the-client-octet-for-octet",
        ],
    ),
    (
        Flaw::StoreForbidden,
        &[
            "caching/a-no-store-response-is-not-stored",
            "caching/a-private-response-is-not-stored-by-a-shared-cache",
        ],
    ),
    (Flaw::DropVia, &[
        "forwarding/the-forwarded-request-carries-via",
        "forwarding/a-forward-proxy-s-response-carries-via",
    ]),
    (
        Flaw::ForwardHopByHop,
        &[
            "forwarding/fields-the-request-s-connection-lists-are-not-forwarded",
            "forwarding/known-hop-by-hop-fields-are-not-forwarded",
            "forwarding/fields-the-response-s-connection-lists-are-not-forwarded",
        ],
    ),
    (
        Flaw::HangOnDeadOrigin,
        &[
            "forwarding/an-origin-that-refuses-the-connection-gets-the-client-a-5xx-not-a-hang",
            "forwarding/an-origin-that-closes-without-answering-gets-the-client-a-5xx",
            "forwarding/an-origin-that-never-answers-gets-the-client-a-504-within-the-proxy-s-timeout",
        ],
    ),
    (
        Flaw::EchoTarget,
        &[
            "forwarding/an-absolute-form-request-is-forwarded-in-origin-form",
            "forwarding/the-forwarded-host-is-the-authority-of-the-absolute-form-target",
        ],
    ),
    (
        Flaw::EchoVersion,
        &["forwarding/the-proxy-forwards-requests-with-its-own-http-version-not-the-client-s"],
    ),
    (
        Flaw::IgnoreMaxForwards,
        &[
            "forwarding/options-with-max-forwards-0-is-answered-by-the-proxy-itself",
            "forwarding/trace-with-max-forwards-0-is-answered-by-the-proxy-itself",
            "forwarding/options-with-max-forwards-5-is-forwarded-with-max-forwards-4",
        ],
    ),
    (
        Flaw::CorruptBody,
        &[
            "forwarding/a-no-transform-response-body-reaches-the-client-intact",
            "forwarding/a-chunked-no-transform-response-body-reaches-the-client-whole",
            "forwarding/a-request-body-with-content-length-reaches-the-origin-intact",
            "forwarding/a-chunked-request-body-reaches-the-origin-intact",
        ],
    ),
    (
        Flaw::ConnectAnything,
        &["forwarding/connect-to-the-smtp-port-is-not-tunnelled"],
    ),
    (Flaw::PreferExpires, &["caching/max-age-overrides-expires"]),
    (
        Flaw::IgnoreSMaxage,
        &[
            "caching/s-maxage-makes-a-response-fresh-for-a-shared-cache",
            "caching/s-maxage-0-overrides-max-age-for-a-shared-cache",
        ],
    ),
    (Flaw::NoAge, &["caching/a-response-served-from-the-cache-carries-age"]),
    (
        Flaw::IgnoreAuthorization,
        &["caching/a-response-to-a-request-with-authorization-is-not-reused"],
    ),
    (
        Flaw::IgnoreVary,
        &["caching/a-response-that-varies-on-accept-language-is-not-reused-for-another-language"],
    ),
    (
        Flaw::NoEtagRevalidation,
        &["caching/a-stale-response-with-an-entity-tag-is-validated-with-if-none-match"],
    ),
    (
        Flaw::NoMerge,
        &["caching/a-304-to-a-validation-updates-the-stored-response-s-fields"],
    ),
    (
        Flaw::IgnoreRequestNoCache,
        &[
            "caching/a-request-with-no-cache-is-not-answered-from-the-cache-unvalidated",
            "caching/a-request-with-max-age-0-is-not-answered-from-the-cache-unvalidated",
        ],
    ),
    (
        Flaw::ServeStale,
        &[
            "caching/an-invalid-expires-0-means-already-expired",
            "caching/a-response-whose-expires-has-passed-is-not-made-fresh-by-a-heuristic",
            "caching/a-no-cache-response-is-validated-before-each-reuse",
            "caching/a-response-that-has-become-stale-is-not-served-while-the-origin-answers",
            "caching/a-stale-must-revalidate-response-is-not-served-when-the-origin-fails",
            "caching/a-stale-proxy-revalidate-response-is-not-served-by-a-shared-cache-when-the-origin-fails",
        ],
    ),
    (
        Flaw::NoInvalidate,
        &["caching/a-post-invalidates-the-stored-response-of-its-target"],
    ),
];

/// The steps' panic hook keeps expected failures quiet, and may take an
/// assertion's message with them: print the problems first.
fn report(problems: &[String]) {
    for p in problems {
        eprintln!("PROBLEM: {p}");
    }
    assert!(problems.is_empty(), "{} problems", problems.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn each_flaw_of_a_proxy_fails_the_scenarios_that_check_it() {
    let mut problems = Vec::new();
    // Every scenario is checked by some flaw.
    let listed: BTreeSet<String> = FLAWS
        .iter()
        .flat_map(|(_, ids)| ids.iter().map(|i| format!("proxy/{i}")))
        .collect();
    let all = run(config(None), &[]).await;
    for (id, o, msg) in &all {
        if *o != Outcome::Passed {
            problems.push(format!("the correct proxy, {id}: {o:?} {msg}"));
        }
        if !listed.contains(id) {
            problems.push(format!("no flaw of the proxy fails {id}"));
        }
    }
    if all.len() < 40 {
        problems.push(format!("only {} proxy scenarios ran", all.len()));
    }
    let runs = FLAWS.iter().map(|(flaw, ids)| async move {
        let ids: Vec<String> = ids.iter().map(|i| format!("proxy/{i}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let r = run(config(Some(*flaw)), &refs).await;
        (*flaw, ids, r)
    });
    for (flaw, ids, r) in futures::future::join_all(runs).await {
        for id in &ids {
            match r.iter().find(|(i, _, _)| i == id) {
                Some((_, Outcome::Passed | Outcome::Skipped, msg)) => {
                    problems.push(format!("{flaw:?} must fail {id}: {msg}"))
                }
                Some(_) => {}
                None => problems.push(format!("{id} did not run for {flaw:?}")),
            }
        }
    }
    report(&problems);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_suite_passes_against_the_reference_gateway_in_reverse_mode() {
    // A port for the origin peer, free when the run starts.
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let origin: SocketAddr = l.local_addr().expect("its address");
    drop(l);
    let mut c = Config::new(Mode::Reverse { origin });
    c.origin_timeout = Duration::from_secs(2);
    let results = run(c, &[]).await;
    let mut problems = Vec::new();
    let mut skipped = Vec::new();
    for (id, o, msg) in &results {
        match o {
            Outcome::Passed => {}
            Outcome::Skipped => skipped.push(id.clone()),
            _ => problems.push(format!("reverse mode, {id}: {o:?} {msg}")),
        }
    }
    // Only the forward proxy's own scenarios skip.
    for id in &skipped {
        if !matches!(
            id.as_str(),
            "proxy/forwarding/an-absolute-form-request-is-forwarded-in-origin-form"
                | "proxy/forwarding/the-forwarded-host-is-the-authority-of-the-absolute-form-target"
                | "proxy/forwarding/a-forward-proxy-s-response-carries-via"
        ) {
            problems.push(format!("reverse mode skipped {id}"));
        }
    }
    if results.len() < 40 {
        problems.push(format!("only {} scenarios ran", results.len()));
    }
    report(&problems);
}

#[tokio::test]
async fn a_reverse_profile_without_origin_is_a_configuration_error() {
    let err = Profile::parse(
        "[proxy]\naddress = \"127.0.0.1:1\"\nmode = \"reverse\"\n",
        "p.toml",
    )
    .and_then(|p| p.validate().map(|_| p));
    assert!(
        err.as_ref()
            .is_err_and(|e| e.to_string().contains("origin")),
        "{:?}",
        err.err()
    );
    let bad = Profile::parse(
        "[proxy]\naddress = \"127.0.0.1:1\"\nmode = \"sideways\"\n",
        "p.toml",
    )
    .and_then(|p| p.validate().map(|_| p));
    assert!(bad.is_err());
}
