//! The runner's mechanisms for stock servers, end to end: connection budgets
//! (`max_connections`), refusals for a limit reported as a configuration
//! problem (exit 2) instead of failures, the preflight of the profile, and
//! the summary counts. The faulty servers are proxies in front of the
//! bundled servers (`conform serve`) that turn connections away beyond a
//! limit, the way a stock server does.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{conform, limited_proxy, profile, reroute, serve, OverLimit};

const IMAP_FEW: &str = "@sec-6.3.1 or @sec-6.3.3 or @sec-6.1.1";

async fn run_with(profile_text: &str, args: &[&str]) -> common::Run {
    let (_dir, p) = profile(profile_text);
    let mut all = vec!["run", "--target", p.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    conform(&all).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_421_greeting_beyond_the_servers_limit_is_a_configuration_error() {
    let served = serve(&["smtp"]).await;
    let upstream = served
        .first_line
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let (addr, refused) = limited_proxy(
        upstream,
        2,
        OverLimit::Refuse(b"421 4.7.0 Too many connections\r\n"),
        Duration::from_millis(50),
    )
    .await;
    let text = reroute(&served, "smtp", addr, "max_connections = 16");
    let run = run_with(&text, &["smtp", "--step-timeout", "2s"]).await;
    assert!(refused.load(Ordering::SeqCst) > 0, "{}", run.all());
    assert_eq!(run.code, 2, "{}", run.all());
    for want in [
        "the server refused a connection for a limit: \"421 4.7.0 Too many connections\"",
        "set [smtp] max_connections (now 16) lower",
        "conform: configuration problem: the server refused connections for a limit in",
    ] {
        assert!(run.stdout.contains(want), "{want}\n{}", run.all());
    }
    // Not read as the next pipelined command's reply.
    assert!(
        !run.stdout.contains("for the next pipelined command"),
        "{}",
        run.all()
    );

    // Within a budget below the server's limit, the same server passes.
    let text = reroute(&served, "smtp", addr, "max_connections = 1");
    let run = run_with(&text, &["smtp", "--step-timeout", "2s"]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains(" 0 failed, 0 errors"), "{}", run.all());
    served.kill().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_imap_bye_greeting_beyond_the_limit_names_the_key() {
    let served = serve(&["imap"]).await;
    let upstream = served
        .first_line
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let (addr, _) = limited_proxy(
        upstream,
        1,
        OverLimit::Refuse(b"* BYE Too many connections\r\n"),
        Duration::from_millis(100),
    )
    .await;
    let text = reroute(&served, "imap", addr, "");
    let run = run_with(&text, &["imap", "--tags", IMAP_FEW, "--step-timeout", "2s"]).await;
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stdout
            .contains("refused a connection for a limit: \"* BYE Too many connections\""),
        "{}",
        run.all()
    );
    // The default budget is what it names.
    assert!(
        run.stdout
            .contains("set [imap] max_connections (now 8) lower"),
        "{}",
        run.all()
    );
    assert!(!run.stdout.contains("FAIL "), "{}", run.all());
    served.kill().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_greeting_that_never_comes_under_load_is_a_limit_not_a_timeout_failure() {
    let served = serve(&["smtp"]).await;
    let upstream = served
        .first_line
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let (addr, refused) =
        limited_proxy(upstream, 2, OverLimit::Silent, Duration::from_millis(200)).await;
    let text = reroute(&served, "smtp", addr, "max_connections = 6");
    let run = run_with(
        &text,
        &["smtp", "--tags", "@sec-4.1.1.1", "--step-timeout", "1s"],
    )
    .await;
    assert!(refused.load(Ordering::SeqCst) > 0, "{}", run.all());
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stdout.contains("no greeting within 1s while"),
        "{}",
        run.all()
    );
    assert!(
        run.stdout
            .contains("set [smtp] max_connections (now 6) lower"),
        "{}",
        run.all()
    );
    served.kill().await;
}
