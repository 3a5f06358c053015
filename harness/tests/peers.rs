//! The client suites against faulty clients: a client broken in one way the
//! suite checks fails (or warns on) the scenario that checks it, and the
//! same client without the flaw passes it. The clients are the Python
//! scripts in tests/clients/ (bad_smtp_client.py, bad_sockets_client.py),
//! run by the harness as a profile's command, like a student's program.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use conform::protocol::Protocol;
use conform::report::result::Outcome;
use conform::target::Profile;

fn script(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(name)
        .display()
        .to_string()
}

/// Runs the scenarios `ids` of `protocol` with `section` set as given and
/// returns each id's outcome and failure message.
async fn run(protocol: Protocol, section: &str, ids: &[&str]) -> Vec<(String, Outcome, String)> {
    let profile = Profile::parse(section, "test profile").expect("profile parses");
    common::run_scenarios(protocol, profile, ids).await
}

fn outcome_of<'a>(
    results: &'a [(String, Outcome, String)],
    id: &str,
) -> &'a (String, Outcome, String) {
    results
        .iter()
        .find(|(i, _, _)| i == id)
        .unwrap_or_else(|| panic!("{id} ran: {results:?}"))
}

/// The steps' panic hook keeps expected failures quiet, and may take an
/// assertion's message with them: print the problems first.
fn report(problems: &[String]) {
    for p in problems {
        eprintln!("PROBLEM: {p}");
    }
    assert!(problems.is_empty(), "{} problems", problems.len());
}

fn smtp_section(mode: &str) -> String {
    format!(
        "[smtp-client]\ncommand = \"python3 {} {mode} {{host}} {{port}} {{from}} {{to}}\"\n",
        script("bad_smtp_client.py")
    )
}

/// (mode, the scenario it must not hold).
const SMTP_FLAWS: &[(&str, &str)] = &[
    (
        "bare-lf",
        "smtp-client/session/every-command-line-ends-in-crlf",
    ),
    (
        "data-bare-lf",
        "smtp-client/data/the-message-data-has-crlf-line-ends-only",
    ),
    (
        "no-brackets",
        "smtp-client/session/mail-from-carries-the-sender-in-angle-brackets",
    ),
    (
        "ignore-replies",
        "smtp-client/refusals/no-message-data-when-every-recipient-is-refused",
    ),
    (
        "ignore-replies",
        "smtp-client/refusals/no-message-data-after-mail-is-refused",
    ),
    (
        "no-stuffing",
        "smtp-client/data/lines-beginning-with-a-period-are-dot-stuffed",
    ),
    ("no-quit", "smtp-client/session/the-session-ends-with-quit"),
    (
        "small-size",
        "smtp-client/data/a-declared-size-is-not-smaller-than-the-message",
    ),
    (
        "hard-coded",
        "smtp-client/session/mail-from-carries-the-sender-in-angle-brackets",
    ),
    (
        "hard-coded",
        "smtp-client/session/rcpt-to-carries-the-recipient-in-angle-brackets",
    ),
    ("helo", "smtp-client/session/the-session-starts-with-ehlo"),
    (
        "no-fallback",
        "smtp-client/session/after-a-500-to-ehlo-the-client-falls-back-to-helo",
    ),
    (
        "no-greeting-wait",
        "smtp-client/session/the-client-waits-for-the-greeting-before-its-first-command",
    ),
    (
        "pipeline",
        "smtp-client/session/without-pipelining-each-command-waits-for-the-previous-reply",
    ),
    (
        "first-line",
        "smtp-client/session/a-multi-line-reply-is-read-whole-before-the-next-command",
    ),
    (
        "eight-bit",
        "smtp-client/data/no-8-bit-data-to-a-server-that-does-not-announce-8bitmime",
    ),
    (
        "drop-date",
        "smtp-client/data/the-message-carries-its-date-and-from-fields",
    ),
    (
        "no-dot-end",
        "smtp-client/data/the-message-data-ends-with-crlf-crlf",
    ),
    (
        "ignore-421",
        "smtp-client/refusals/after-a-421-the-client-sends-no-message-data-and-ends",
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn each_flaw_of_a_mail_client_fails_its_scenario_and_only_that() {
    // The correct client passes every scenario the flaws are checked by.
    let all: BTreeSet<&str> = SMTP_FLAWS.iter().map(|(_, id)| *id).collect();
    let ids: Vec<&str> = all.iter().copied().collect();
    let correct = run(Protocol::SmtpClient, &smtp_section("correct"), &ids).await;
    let mut problems = Vec::new();
    for id in &ids {
        let (_, o, msg) = outcome_of(&correct, id);
        if *o != Outcome::Passed {
            problems.push(format!("correct client, {id}: {o:?} {msg}"));
        }
    }
    let runs = SMTP_FLAWS.iter().map(|(mode, id)| async move {
        let r = run(Protocol::SmtpClient, &smtp_section(mode), &[id]).await;
        (*mode, *id, r)
    });
    for (mode, id, r) in futures::future::join_all(runs).await {
        let (_, o, msg) = outcome_of(&r, id);
        if !matches!(o, Outcome::Failed | Outcome::Warning) || msg.is_empty() {
            problems.push(format!("{mode} must fail {id}, got {o:?}: {msg}"));
        }
    }
    report(&problems);
}

fn sockets_section(mode: &str) -> String {
    let s = script("bad_sockets_client.py");
    format!(
        "[sockets-client]\nudp = \"python3 {s} udp {mode} {{host}} {{port}}\"\ntcp = \"python3 {s} tcp {mode} {{host}} {{port}}\"\n"
    )
}

const SOCKETS_FLAWS: &[(&str, &str, &str)] = &[
    (
        "newline",
        "sockets-client/udp/the-input-sentence-goes-to-the-server-in-one-datagram",
        "does not hold exactly",
    ),
    (
        "twice",
        "sockets-client/udp/the-input-sentence-goes-to-the-server-in-one-datagram",
        "2 datagrams",
    ),
    (
        "own-upper",
        "sockets-client/udp/the-client-prints-what-the-server-answered-not-its-own-upper-casing",
        "did not print",
    ),
    (
        "never-connects",
        "sockets-client/udp/the-input-sentence-goes-to-the-server-in-one-datagram",
        "sent no datagram",
    ),
    (
        "crash",
        "sockets-client/tcp/the-client-connects-and-sends-exactly-the-input-sentence",
        "crashed on purpose",
    ),
    (
        "garbage",
        "sockets-client/tcp/the-client-connects-and-sends-exactly-the-input-sentence",
        "did not carry exactly",
    ),
    (
        "flood",
        "sockets-client/tcp/the-client-connects-and-sends-exactly-the-input-sentence",
        "a flood",
    ),
    (
        "no-close",
        "sockets-client/tcp/the-client-closes-its-connection-and-ends",
        "still running",
    ),
    (
        "hang",
        "sockets-client/udp/the-client-ends-by-itself-after-printing-the-reply",
        "still running",
    ),
    (
        "own-upper",
        "sockets-client/tcp/the-client-prints-what-the-server-answered-not-its-own-upper-casing",
        "did not print",
    ),
    (
        "no-label",
        "sockets-client/tcp/the-client-prints-the-reply-after-from-server",
        "but not after \"From Server:\"",
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn each_flaw_of_a_course_client_fails_its_scenario_with_feedback() {
    let ids: BTreeSet<&str> = SOCKETS_FLAWS.iter().map(|(_, id, _)| *id).collect();
    let ids: Vec<&str> = ids.into_iter().collect();
    let correct = run(Protocol::SocketsClient, &sockets_section("correct"), &ids).await;
    let mut problems = Vec::new();
    for id in &ids {
        let (_, o, msg) = outcome_of(&correct, id);
        if *o != Outcome::Passed {
            problems.push(format!("correct client, {id}: {o:?} {msg}"));
        }
    }
    let started = Instant::now();
    let runs = SOCKETS_FLAWS.iter().map(|(mode, id, says)| async move {
        let r = run(Protocol::SocketsClient, &sockets_section(mode), &[id]).await;
        (*mode, *id, *says, r)
    });
    for (mode, id, says, r) in futures::future::join_all(runs).await {
        let (_, o, msg) = outcome_of(&r, id);
        if *o != Outcome::Failed || !msg.contains(says) {
            problems.push(format!(
                "{mode} must fail {id} saying {says:?}: {o:?} {msg}"
            ));
        }
    }
    report(&problems);
    // Hanging, flooding and never-connecting clients end within their
    // scenario's bound (30 s), all at once, and leave nothing behind.
    assert!(started.elapsed() < Duration::from_secs(90));
    let left = std::process::Command::new("pgrep")
        .args(["-f", "bad_sockets_client.py"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert!(left.trim().is_empty(), "processes left behind: {left}");
}

fn http_section(mode: &str) -> String {
    let s = script("bad_http_client.py");
    format!(
        "[http-client]\ncommand = \"python3 {s} {mode} {{url}}\"\npost = \"python3 {s} {mode} {{url}} {{input}}\"\n"
    )
}

const HTTP_FLAWS: &[(&str, &str)] = &[
    (
        "lf",
        "http-client/requests/the-request-head-has-crlf-line-ends",
    ),
    (
        "no-host",
        "http-client/requests/the-request-carries-the-url-s-authority-in-host",
    ),
    (
        "absolute-form",
        "http-client/requests/a-request-to-the-origin-uses-the-origin-form-target",
    ),
    ("raw", "http-client/requests/a-chunked-body-is-decoded"),
    (
        "one-read",
        "http-client/requests/a-body-that-arrives-in-two-parts-is-read-whole",
    ),
    (
        "to-eof",
        "http-client/requests/after-a-response-with-the-close-option-the-client-closes-the-connection",
    ),
    (
        "post-no-length",
        "http-client/requests/a-posted-body-arrives-whole-framed-by-content-length-or-chunked",
    ),
    (
        "post-short-cl",
        "http-client/requests/a-posted-body-arrives-whole-framed-by-content-length-or-chunked",
    ),
    (
        "post-cl-and-te",
        "http-client/requests/a-posted-body-is-not-framed-by-both-content-length-and-transfer-encoding",
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn each_flaw_of_an_http_client_fails_its_scenario() {
    let all: BTreeSet<&str> = HTTP_FLAWS.iter().map(|(_, id)| *id).collect();
    let ids: Vec<&str> = all.iter().copied().collect();
    let correct = run(Protocol::HttpClient, &http_section("correct"), &ids).await;
    let mut problems = Vec::new();
    for id in &ids {
        let (_, o, msg) = outcome_of(&correct, id);
        if *o != Outcome::Passed {
            problems.push(format!("correct client, {id}: {o:?} {msg}"));
        }
    }
    let runs = HTTP_FLAWS.iter().map(|(mode, id)| async move {
        let r = run(Protocol::HttpClient, &http_section(mode), &[id]).await;
        (*mode, *id, r)
    });
    for (mode, id, r) in futures::future::join_all(runs).await {
        let (_, o, msg) = outcome_of(&r, id);
        // A SHOULD scenario's failure is reported as a warning.
        let failed =
            *o == Outcome::Failed || (*o == Outcome::Warning && id.contains("posted-body-arrives"));
        if !failed || msg.is_empty() {
            problems.push(format!("{mode} must fail {id}, got {o:?}: {msg}"));
        }
    }
    report(&problems);
}
