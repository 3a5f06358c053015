//! The SMTP and POP3 suites end to end: against the bundled servers, through
//! `conform serve` with Python's smtplib and poplib, against faulty servers
//! that each break one rule, and the reply readers against hostile peers.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{
    assert_fails_with, assert_has, bundled_run_passes, cases, conform, one_connection,
    python_client, run_against, serve, tcp_server, Run,
};
use conform::transcript::Transcript;
use conform::wire::pop3::Pop3Reader;
use conform::wire::smtp::SmtpReader;
use conform::wire::{Conn, ReplyReader, WireError};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread")]
async fn bundled_servers_pass_and_junit_loads() {
    let (run, suites) = bundled_run_passes(&["smtp", "pop3"], &[], 70).await;
    assert!(run.stdout.contains("conform: "), "{}", run.all());
    // The SMTP → POP3 chain ran (it needs both sections).
    assert!(cases(&suites)
        .iter()
        .any(|c| c.original_name.contains("byte for byte")));
}

#[tokio::test(flavor = "multi_thread")]
async fn python_smtplib_and_poplib_work_with_conform_serve() {
    let served = serve(&["smtp", "pop3"]).await;
    for round in 0..2 {
        // Twice: the first run leaves the mailbox as it found it.
        let out = python_client(
            "mail.py",
            &[served.profile.as_os_str()],
            Duration::from_secs(120),
        )
        .await;
        let text = format!("round {round}\n{}\n{}", out.stdout, out.stderr);
        assert!(out.ok, "{text}");
        assert!(text.contains("retrieved message 3 byte for byte"), "{text}");
        assert!(text.contains("mailbox as it was"), "{text}");
    }
    // SIGTERM: serve stops its servers and removes its temporary mail store.
    let exit = served.terminate().await;
    assert!(
        exit.success() || exit.code().is_some(),
        "serve ended: {exit:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fixtures_write_a_maildir() {
    let dir = tempfile::tempdir().unwrap();
    let run = conform(&["fixtures", "--out", dir.path().to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    let cur = dir.path().join("maildir/bob/Maildir/cur");
    let names: Vec<_> = std::fs::read_dir(&cur)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    for sub in ["new", "tmp"] {
        assert!(dir.path().join("maildir/bob/Maildir").join(sub).is_dir());
    }
    assert!(dir.path().join("maildir/sink/Maildir/new").is_dir());
    let profile = std::fs::read_to_string(dir.path().join("profile.toml")).unwrap();
    assert!(profile.contains("# [pop3]") && profile.contains("sink"));
}

// ---- faulty servers -------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum SmtpFault {
    /// Answers DATA with 250 instead of 354.
    DataGets250,
    /// Accepts RCPT before MAIL.
    RcptBeforeMail,
    /// Closes a session idle for a second without sending 421.
    IdleCloseWithout421,
    /// Never ends an idle session (a server without a timeout).
    NoIdleTimeout,
    /// Refuses a second EHLO with 503, which RFC 5321 §4.1.4 does not allow.
    SecondEhlo503,
    /// Refuses a second EHLO with 550 and keeps the transaction (allowed).
    SecondEhloRefusedKeepsState,
    /// Reads a command line longer than 256 octets as two commands.
    SplitsLongLines,
    /// Ends DATA at LF "." LF (SMTP smuggling).
    BareLfEndsData,
    /// Refuses a bare LF in DATA with a temporary 451 and closes (allowed).
    BareLf451,
    /// Refuses a message without a From header field (a SHOULD NOT).
    RejectsHeaderless,
    /// Answers VRFY of any mailbox with 550.
    Vrfy550,
    /// Does not implement VRFY (502).
    Vrfy502,
    /// Answers VRFY with a 250 that does not name the mailbox.
    Vrfy250Bare,
    /// Reads a command and throws away whatever else arrived with it.
    DropsPipelinedRest,
    /// Executes a command line ended by a bare LF.
    BareLfEndsCommand,
    /// Refuses a local part longer than 32 octets.
    ShortLocalPart,
    /// Refuses a path longer than 200 octets.
    ShortPath,
    /// Knows "postmaster" only in lower case (and "Postmaster").
    PostmasterCaseSensitive,
    /// Refuses an EHLO domain longer than 200 octets.
    ShortDomain,
    /// Answers HELP with one line of 600 octets.
    LongReplyLine,
    /// Refuses any declared SIZE with 552, however small.
    AnySize552,
    /// Takes SIZE=abc for a size.
    SizeNotANumberAccepted,
    /// Refuses DATA with 554 once any RCPT of the transaction was refused.
    DataRefusedAfterBadRcpt,
}

/// A small SMTP server, right except for `fault`.
async fn faulty_smtp(fault: SmtpFault) -> SocketAddr {
    tcp_server(move |stream| smtp_session(stream, fault)).await
}

async fn smtp_session(stream: TcpStream, fault: SmtpFault) {
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    let _ = w.write_all(b"220 faulty ESMTP\r\n").await;
    let (mut helo, mut mail, mut rcpt, mut bad_rcpt) = (false, false, false, false);
    let mut ehlos = 0;
    let mut line = String::new();
    let mut pending: Option<String> = None;
    loop {
        if let Some(rest) = pending.take() {
            // the rest of a line the fault split in two
            line = rest;
        } else {
            line.clear();
            let read = r.read_line(&mut line);
            let n = if fault == SmtpFault::IdleCloseWithout421 {
                match tokio::time::timeout(Duration::from_secs(1), read).await {
                    Ok(n) => n,
                    // The fault: the connection just drops, no 421.
                    Err(_) => return,
                }
            } else {
                read.await
            };
            if n.unwrap_or(0) == 0 {
                return;
            }
            if fault == SmtpFault::SplitsLongLines && line.len() > 256 {
                pending = Some(line.split_off(256));
            }
            if fault == SmtpFault::DropsPipelinedRest {
                let rest = r.buffer().len();
                r.consume(rest);
            }
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        let bare_lf = line.ends_with('\n') && !line.ends_with("\r\n");
        let path = line
            .split_once('<')
            .and_then(|(_, p)| p.split_once('>'))
            .map(|(p, _)| p.to_string())
            .unwrap_or_default();
        let local = path.split('@').next().unwrap_or_default().len();
        let reply: &[u8] = match verb.as_str() {
            _ if bare_lf && fault != SmtpFault::BareLfEndsCommand => b"500 5.5.2 bare LF\r\n",
            "MAIL" if fault == SmtpFault::ShortLocalPart && local > 32 => {
                b"553 5.1.3 local part too long\r\n"
            }
            "MAIL" if fault == SmtpFault::ShortPath && path.len() + 2 > 200 => {
                b"501 5.1.3 path too long\r\n"
            }
            "RCPT"
                if fault == SmtpFault::PostmasterCaseSensitive && line.contains("PostMaster") =>
            {
                b"550 5.1.1 unknown\r\n"
            }
            "EHLO" if fault == SmtpFault::ShortDomain && line.trim().len() > 205 => {
                b"501 5.5.4 domain too long\r\n"
            }
            "EHLO" if ehlos > 0 && fault == SmtpFault::SecondEhlo503 => b"503 5.5.1 EHLO once\r\n",
            "EHLO" if ehlos > 0 && fault == SmtpFault::SecondEhloRefusedKeepsState => {
                b"550 5.7.1 EHLO once\r\n"
            }
            "EHLO" => {
                ehlos += 1;
                (helo, mail, rcpt, bad_rcpt) = (true, false, false, false);
                b"250-faulty\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n"
            }
            "HELO" if line.trim().len() > 4 => {
                (helo, mail, rcpt) = (true, false, false);
                b"250 faulty\r\n"
            }
            "MAIL" if !helo => b"503 5.5.1 HELO first\r\n",
            "MAIL" if mail => b"503 5.5.1 nested MAIL\r\n",
            "MAIL" if !line.contains('<') => b"501 5.5.4 syntax\r\n",
            "MAIL" if line.contains("SIZE=") && fault == SmtpFault::AnySize552 => {
                b"552 5.3.4 too big\r\n"
            }
            "MAIL" if line.contains("SIZE=") => {
                let size = line.split("SIZE=").nth(1).unwrap_or("").trim();
                match size.parse::<u64>() {
                    Ok(n) if n > 1_000_000 => b"552 5.3.4 too big\r\n",
                    Err(_) if fault != SmtpFault::SizeNotANumberAccepted => {
                        b"501 5.5.4 bad SIZE\r\n"
                    }
                    _ => {
                        mail = true;
                        b"250 2.1.0 Ok\r\n"
                    }
                }
            }
            "MAIL" if line.contains("X-NO-SUCH") => b"555 5.5.4 unsupported parameter\r\n",
            "MAIL" => {
                mail = true;
                b"250 2.1.0 Ok\r\n"
            }
            "RCPT" if !mail && fault != SmtpFault::RcptBeforeMail => b"503 5.5.1 need MAIL\r\n",
            "RCPT" if line.contains("@@") => {
                bad_rcpt = true;
                b"501 5.1.3 bad address\r\n"
            }
            "RCPT" if line.contains("no-such-user") => b"550 5.1.1 unknown\r\n",
            "RCPT" if line.contains(".invalid") => b"550 5.7.1 relay denied\r\n",
            "RCPT" => {
                rcpt = true;
                b"250 2.1.5 Ok\r\n"
            }
            "DATA" if line.trim().len() > 4 => b"501 5.5.4 no arguments\r\n",
            "DATA" if !rcpt => b"503 5.5.1 need RCPT\r\n",
            "DATA" if fault == SmtpFault::DataGets250 => b"250 2.0.0 Ok\r\n",
            "DATA" if bad_rcpt && fault == SmtpFault::DataRefusedAfterBadRcpt => {
                b"554 5.5.1 a recipient was refused\r\n"
            }
            "DATA" => {
                let _ = w.write_all(b"354 go ahead\r\n").await;
                let mut data = Vec::new();
                loop {
                    let mut l = Vec::new();
                    if r.read_until(b'\n', &mut l).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let bare_lf = l.ends_with(b"\n") && !l.ends_with(b"\r\n");
                    if bare_lf && fault == SmtpFault::BareLf451 {
                        let _ = w.write_all(b"451 4.5.0 bare LF received\r\n").await;
                        return;
                    }
                    let done = if fault == SmtpFault::BareLfEndsData {
                        (l == b".\r\n" || l == b".\n") && (data.is_empty() || data.ends_with(b"\n"))
                    } else {
                        l == b".\r\n" && (data.is_empty() || data.ends_with(b"\r\n"))
                    };
                    data.extend_from_slice(&l);
                    if done {
                        break;
                    }
                }
                (mail, rcpt, bad_rcpt) = (false, false, false);
                let headers = data.windows(5).any(|h| h == b"From:");
                if fault == SmtpFault::RejectsHeaderless && !headers {
                    b"550 5.6.0 no From header field\r\n"
                } else {
                    b"250 2.0.0 queued\r\n"
                }
            }
            "RSET" => {
                (mail, rcpt, bad_rcpt) = (false, false, false);
                b"250 2.0.0 Ok\r\n"
            }
            "NOOP" => b"250 2.0.0 Ok\r\n",
            "VRFY" if fault == SmtpFault::Vrfy550 => b"550 5.1.1 no such user\r\n",
            "VRFY" if fault == SmtpFault::Vrfy502 => b"502 5.5.1 VRFY not implemented\r\n",
            "VRFY" if fault == SmtpFault::Vrfy250Bare => b"250 2.1.5 ok\r\n",
            "VRFY" => b"252 2.5.2 maybe\r\n",
            "HELP" if fault == SmtpFault::LongReplyLine => {
                let mut long = b"214 ".to_vec();
                long.resize(598, b'h');
                long.extend_from_slice(b"\r\n");
                let _ = w.write_all(&long).await;
                continue;
            }
            "HELP" => b"214 2.0.0 EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP\r\n",
            "QUIT" => {
                let _ = w.write_all(b"221 2.0.0 bye\r\n").await;
                return;
            }
            _ => b"500 5.5.2 unknown\r\n",
        };
        if w.write_all(reply).await.is_err() {
            return;
        }
    }
}

fn smtp_profile(addr: SocketAddr) -> String {
    format!(
        "[smtp]\naddress = \"{addr}\"\ndomain = \"example.test\"\nrecipient = \"bob@example.test\"\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_answers_data_with_250_fails() {
    let addr = faulty_smtp(SmtpFault::DataGets250).await;
    let run = run_against("smtp", &smtp_profile(addr), &["--step-timeout", "2s"]).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/smtp/data.feature",
            "DATA is answered with 354",
            "step:        Then the server replies 354",
            "expected:    354",
            "got:         \"250 2.0.0 Ok\"",
            "C: DATA\\r\\n",
            "S: 250 2.0.0 Ok\\r\\n",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_accepts_rcpt_before_mail_fails() {
    let addr = faulty_smtp(SmtpFault::RcptBeforeMail).await;
    let run = run_against("smtp", &smtp_profile(addr), &["--step-timeout", "2s"]).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/smtp/sequence.feature",
            "RCPT before MAIL gets 503",
            "expected:    503",
            "got:         \"250 2.1.5 Ok\"",
            "C: RCPT TO:<bob@example.test>\\r\\n",
        ],
    );
    // Only that rule is broken: it shows again after RSET and after a new
    // EHLO, nowhere else.
    assert!(
        run.stdout.contains("smtp: 60 passed, 3 failed"),
        "{}",
        run.all()
    );
}

/// Runs the scenarios tagged `tags` against `fault` (with --strict, so a
/// @SHOULD failure shows as FAIL and sets the exit code).
async fn tagged_run(fault: SmtpFault, tags: &str) -> Run {
    let addr = faulty_smtp(fault).await;
    run_against(
        "smtp",
        &smtp_profile(addr),
        &["--strict", "--tags", tags, "--step-timeout", "2s"],
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_ehlo_is_reset_or_refused_with_the_state_kept() {
    let run = tagged_run(SmtpFault::SecondEhlo503, "@rfc5321-sec-4.1.4").await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/smtp/sequence.feature",
            "A new EHLO resets the transaction, or is refused and changes nothing",
            "a new EHLO is either accepted, resetting the transaction, or refused with 501, 500, 502 or 550 (RFC 5321 §4.1.4)",
            "got:         \"503 5.5.1 EHLO once\"",
        ],
    );
    let run = tagged_run(SmtpFault::SecondEhloRefusedKeepsState, "@rfc5321-sec-4.1.4").await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert_has(
        &run,
        &[
            "PASS  features/smtp/sequence.feature",
            "A new EHLO resets the transaction",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_splits_a_512_octet_line_fails() {
    let run = tagged_run(SmtpFault::SplitsLongLines, "@rfc5321-sec-4.5.3.1.4").await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/smtp/syntax.feature",
            "A command line of 512 octets is read whole",
            "step:        Then the server replies 250",
            "got:         \"500 5.5.2 unknown\"",
            "C: RSET\\r\\n",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bare_lf_ending_data_fails_and_a_temporary_refusal_passes() {
    let run = tagged_run(SmtpFault::BareLfEndsData, "@rfc5321-sec-2.3.8").await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/smtp/data.feature",
            "A bare LF before \".\" does not end the message",
            "the server ended the message at LF \".\" LF",
        ],
    );
    let run = tagged_run(SmtpFault::BareLf451, "@rfc5321-sec-2.3.8").await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert_has(&run, &["PASS  features/smtp/data.feature:47"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn refusing_a_message_without_header_fields_is_a_should_and_nothing_more() {
    let addr = faulty_smtp(SmtpFault::RejectsHeaderless).await;
    let run = run_against("smtp", &smtp_profile(addr), &["--step-timeout", "2s"]).await;
    // Only the @SHOULD scenario about the course's bare message notices:
    // every message a MUST scenario sends carries Date and From.
    assert_eq!(run.code, 0, "{}", run.all());
    assert_has(
        &run,
        &[
            "WARN  features/smtp/session.feature",
            "A message without header fields, as in the course transcript, is accepted",
            "got:         \"550 5.6.0 no From header field\"",
            " 1 warnings",
        ],
    );
}

/// Runs only the idle-session scenario (a @SHOULD, so --strict makes its
/// failure the exit code) against `fault`, with a 1s idle timeout announced.
async fn idle_run(fault: SmtpFault) -> Run {
    let addr = faulty_smtp(fault).await;
    let profile = format!("{}idle_timeout = \"1s\"\n", smtp_profile(addr));
    run_against(
        "smtp",
        &profile,
        &[
            "--strict",
            "--tags",
            "@rfc5321-sec-4.5.3.2",
            "--step-timeout",
            "2s",
        ],
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_closes_an_idle_session_without_421_fails() {
    let started = Instant::now();
    let run = idle_run(SmtpFault::IdleCloseWithout421).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/smtp/session.feature",
            "An idle session is ended with 421 after the server's timeout",
            "step:        Then the server ends the idle session with 421 within its idle timeout",
            "expected:    a 421 reply, then the connection closed, within the idle timeout of 1s",
            "got:         the connection closed with nothing sent",
            "C: EHLO client.example\\r\\n",
        ],
    );
    assert!(
        run.stdout.contains("smtp: 0 passed, 1 failed"),
        "{}",
        run.all()
    );
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_never_ends_an_idle_session_fails() {
    let run = idle_run(SmtpFault::NoIdleTimeout).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/smtp/session.feature",
            "An idle session is ended with 421 after the server's timeout",
            "the idle session was still open 3s after the last reply",
            "expected:    a 421 reply, then the connection closed, within the idle timeout of 1s",
            "got:         the connection still open",
            "S: 250 ENHANCEDSTATUSCODES\\r\\n",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_an_idle_timeout_in_the_profile_the_idle_scenario_is_skipped() {
    let addr = faulty_smtp(SmtpFault::NoIdleTimeout).await;
    let run = run_against(
        "smtp",
        &smtp_profile(addr),
        &["--strict", "--tags", "@rfc5321-sec-4.5.3.2"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert_has(&run, &["the target profile sets no smtp.idle_timeout"]);
}

/// RFC 5321 §7.3 / §3.5.2: VRFY of the existing mailbox answered 550, or
/// 250 without the mailbox, fails; 502 skips the MUST and warns on the
/// SHOULD that VRFY be implemented; the fake's own 252 passes both.
#[tokio::test(flavor = "multi_thread")]
async fn vrfy_of_an_existing_mailbox_is_judged_at_the_rfcs_levels() {
    let tags = "@rfc5321-sec-3.5.3";
    let run = tagged_run(SmtpFault::Vrfy550, tags).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/smtp/session.feature",
            "VRFY of an existing mailbox is not answered as if it did not exist",
            "answered as if it did not exist",
            "S: 550 5.1.1 no such user\\r\\n",
            "smtp: 1 passed, 1 failed",
        ],
    );
    let run = tagged_run(SmtpFault::Vrfy250Bare, tags).await;
    assert_fails_with(&run, &["the VRFY reply does not name the mailbox"]);
    // --strict: the SHOULD shows as a failure.
    let run = tagged_run(SmtpFault::Vrfy502, tags).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/smtp/session.feature",
            "VRFY is implemented",
            "SKIP  features/smtp/session.feature",
            "the server does not implement VRFY (it answered 502)",
        ],
    );
    let run = tagged_run(SmtpFault::DataGets250, tags).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert_has(&run, &["smtp: 2 passed, 0 failed"]);
}

/// The SMTP breadth of issue 13 §3, each against a server breaking it.
#[tokio::test(flavor = "multi_thread")]
async fn smtp_servers_that_break_one_size_or_syntax_rule_fail() {
    let cases = [
        (
            SmtpFault::BareLfEndsCommand,
            "@rfc5321-sec-2.3.8",
            "A command ended by a bare LF is not executed",
            "took a bare LF for the end of a command line",
        ),
        (
            SmtpFault::ShortLocalPart,
            "@rfc5321-sec-4.5.3.1.1",
            "A local part of 64 octets is accepted",
            "553 5.1.3 local part too long",
        ),
        (
            SmtpFault::ShortPath,
            "@rfc5321-sec-4.5.3.1.3",
            "A reverse-path of 256 octets is accepted",
            "501 5.1.3 path too long",
        ),
        (
            SmtpFault::PostmasterCaseSensitive,
            "@rfc5321-sec-4.5.1",
            "Mail to postmaster is accepted whatever the case of its letters",
            "C: RCPT TO:<PostMaster@example.test>",
        ),
        (
            SmtpFault::ShortDomain,
            "@rfc5321-sec-4.5.3.1.2",
            "EHLO with a domain of 255 octets is accepted",
            "501 5.5.4 domain too long",
        ),
        (
            SmtpFault::LongReplyLine,
            "@rfc5321-sec-4.5.3.1.5",
            "No reply line is longer than 512 octets",
            "a reply line is longer than 512 octets",
        ),
        (
            SmtpFault::AnySize552,
            "@rfc1870-sec-6.1",
            "MAIL declaring a size below the announced SIZE limit is accepted",
            "552 5.3.4 too big",
        ),
        (
            SmtpFault::SizeNotANumberAccepted,
            "@rfc1870 and @rfc5321-sec-4.1.1.11",
            "MAIL declaring a size that is not a number is refused",
            "C: MAIL FROM:<alice@crepes.fr> SIZE=abc",
        ),
        (
            SmtpFault::DataRefusedAfterBadRcpt,
            "@rfc2920-sec-3.2",
            "DATA in a pipelined group gets 354 when one RCPT was accepted",
            "554 5.5.1 a recipient was refused",
        ),
    ];
    for (fault, tag, scenario, problem) in cases {
        let run = tagged_run(fault, tag).await;
        assert_fails_with(
            &run,
            &[
                "FAIL  features/smtp/",
                scenario,
                problem,
                " 1 failed, 0 errors",
            ],
        );
        // The fake without the fault passes the same scenarios (its one
        // fault is about idle sessions, which these tags leave out).
        let run = tagged_run(SmtpFault::NoIdleTimeout, tag).await;
        assert_eq!(run.code, 0, "{}", run.all());
    }
}

/// RFC 2920 §3.1: the pipelined group goes out in one write, so a server
/// that reads one command and drops what came with it fails.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_drops_the_rest_of_a_pipelined_group_fails() {
    let run = tagged_run(SmtpFault::DropsPipelinedRest, "@rfc2920-sec-3.1").await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/smtp/extensions.feature",
            "Pipelined MAIL, RCPT and DATA are answered in order",
            "step:        And the next reply is 250",
            "C: DATA\\r\\n",
            "S: 250 2.1.0 Ok\\r\\n",
        ],
    );
    // RFC 2920 §3.2 (1): the group with a refused RCPT is not answered in
    // order either.
    let run = tagged_run(SmtpFault::DropsPipelinedRest, "@rfc2920-sec-3.2 and @MUST").await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/smtp/extensions.feature",
            "A pipelined group with a refused RCPT is answered in order",
            "step:        And the next reply is one of 250, 251",
        ],
    );
}

/// The reference SMTP server on the fixture Maildirs, with or without the
/// trace fields, behind `relay`; the profile names the sink's Maildir.
async fn reference_smtp(
    trace: bool,
    relay: SmtpRelay,
) -> (String, reference_servers::Running, tempfile::TempDir) {
    use reference_servers::mailstore::MailStore;
    let dir = tempfile::tempdir().unwrap();
    conform::fixtures::mail::write_maildirs(dir.path()).unwrap();
    let store = MailStore::open(dir.path()).unwrap();
    let mut config = reference_servers::smtp::Config::new("mail.example.test", "example.test");
    config.trace_fields = trace;
    let running = reference_servers::smtp::start([127, 0, 0, 1].into(), 0, config, store)
        .await
        .unwrap();
    let mut addr = running.addr("smtp").unwrap();
    if relay != SmtpRelay::Straight {
        addr = common::proxy(addr, move |c, s| data_relay(c, s, relay)).await;
    }
    let profile = format!(
        "[smtp]\naddress = \"{addr}\"\ndomain = \"example.test\"\nrecipient = \"bob@example.test\"\n\
         sink = \"sink@example.test\"\nsink_maildir = \"{}\"\n",
        dir.path().join("sink/Maildir").display()
    );
    (profile, running, dir)
}

#[derive(Clone, Copy, PartialEq)]
enum SmtpRelay {
    /// The server as it is.
    Straight,
    /// Doubles the first "." of every line of message data: the stored
    /// message keeps the client's transparency dots, as a server that does
    /// not remove them (RFC 5321 §4.5.2) would.
    DoublesDots,
    /// When the client drops the connection in the middle of a message,
    /// ends the message for it: a server that delivers what it got.
    CompletesDroppedData,
    /// Keeps only the first 32K octets of message data: a server that
    /// stores less than the 64K of RFC 5321 §4.5.3.1.7.
    TruncatesAt32K,
    /// Clears the eighth bit of every octet of message data: a server that
    /// is not 8-bit clean (RFC 6152 §3).
    ClearsEighthBit,
}

/// Passes the dialogue through, changing the message data as `mode` says.
async fn data_relay(client: TcpStream, server: TcpStream, mode: SmtpRelay) {
    let (cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let down = tokio::spawn(async move { tokio::io::copy(&mut sr, &mut cw).await });
    let mut cr = BufReader::new(cr);
    let (mut in_data, mut data_octets) = (false, 0);
    loop {
        let mut line = Vec::new();
        if cr.read_until(b'\n', &mut line).await.unwrap_or(0) == 0 {
            if in_data && mode == SmtpRelay::CompletesDroppedData {
                let _ = sw.write_all(b".\r\nQUIT\r\n").await;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            break;
        }
        if in_data {
            if line == b".\r\n" {
                in_data = false;
            } else if line.starts_with(b".") && mode == SmtpRelay::DoublesDots {
                line.insert(0, b'.');
            } else if mode == SmtpRelay::ClearsEighthBit {
                line.iter_mut().for_each(|b| *b &= 0x7f);
            } else if mode == SmtpRelay::TruncatesAt32K {
                data_octets += line.len();
                if data_octets > 32 * 1024 {
                    continue;
                }
            }
        } else if line.eq_ignore_ascii_case(b"DATA\r\n") {
            in_data = true;
        }
        if sw.write_all(&line).await.is_err() {
            break;
        }
    }
    down.abort();
}

/// RFC 5321 §4.4 and §4.5.2 read back from the sink's Maildir: a server
/// without trace fields fails the Received: scenario, one that keeps the
/// transparency dots fails the byte-for-byte one; the reference server
/// passes both.
#[tokio::test(flavor = "multi_thread")]
async fn the_stored_message_is_judged_from_the_sinks_maildir() {
    let tags = ["--tags", "@rfc5321-sec-4.4 or @rfc5321-sec-4.5.2"];
    let (profile, _running, dir) = reference_smtp(true, SmtpRelay::Straight).await;
    let run = run_against("smtp", &profile, &tags).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert_has(&run, &["smtp: 3 passed, 0 failed"]);
    // Each scenario removed the message it delivered (the older DATA
    // scenarios leave theirs: they carry no X-Conform-Id).
    let left = std::fs::read_dir(dir.path().join("sink/Maildir/new"))
        .unwrap()
        .filter(|e| {
            let text = std::fs::read(e.as_ref().unwrap().path()).unwrap();
            String::from_utf8_lossy(&text).contains("X-Conform-Id")
        })
        .count();
    assert_eq!(left, 0);

    let (profile, _running, _dir) = reference_smtp(false, SmtpRelay::Straight).await;
    let run = run_against("smtp", &profile, &tags).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/smtp/data.feature",
            "The stored message begins with a Received: trace field",
            "carries no Received: trace field",
            "smtp: 2 passed, 1 failed",
        ],
    );

    let (profile, _running, _dir) = reference_smtp(true, SmtpRelay::DoublesDots).await;
    let run = run_against("smtp", &profile, &tags).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/smtp/data.feature",
            "Lines starting with \".\" are stored with the transparency dot removed",
            "differs from the one sent",
        ],
    );

    // Without smtp.sink_maildir, both are skipped with the key named.
    let (profile, _running, _dir) = reference_smtp(true, SmtpRelay::Straight).await;
    let profile: String = profile
        .lines()
        .filter(|l| !l.starts_with("sink_maildir"))
        .map(|l| format!("{l}\n"))
        .collect();
    let run = run_against("smtp", &profile, &tags).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert_has(&run, &["the target profile sets no smtp.sink_maildir"]);
}

/// RFC 5321 §4.5.3.1.7 and RFC 6152 §3 read back from the sink's Maildir:
/// the reference server stores a 64K message and 8-bit octets intact; one
/// that truncates at 32K, or clears the eighth bit, fails.
#[tokio::test(flavor = "multi_thread")]
async fn a_large_or_8bit_message_is_judged_from_the_sinks_maildir() {
    let tags = ["--tags", "@rfc5321-sec-4.5.3.1.7 or @rfc6152-sec-3"];
    let (profile, _running, _dir) = reference_smtp(true, SmtpRelay::Straight).await;
    let run = run_against("smtp", &profile, &tags).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert_has(&run, &["smtp: 3 passed, 0 failed"]);

    let (profile, _running, _dir) = reference_smtp(true, SmtpRelay::TruncatesAt32K).await;
    let run = run_against("smtp", &profile, &tags).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/smtp/data.feature",
            "A message of 64K octets is accepted and stored intact",
            "differs from the one sent",
            "smtp: 2 passed, 1 failed",
        ],
    );

    let (profile, _running, _dir) = reference_smtp(true, SmtpRelay::ClearsEighthBit).await;
    let run = run_against("smtp", &profile, &tags).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/smtp/data.feature",
            "A message sent with BODY=8BITMIME keeps its 8-bit octets",
            "differs from the one sent",
            "smtp: 2 passed, 1 failed",
        ],
    );
}

/// A POP3 server that removes a message at DELE instead of at QUIT.
async fn deletes_on_dele() -> SocketAddr {
    let drop: Arc<Mutex<Vec<Vec<u8>>>> = Arc::new(Mutex::new(vec![
        b"Subject: one\r\n\r\nFirst.\r\n".to_vec(),
        b"Subject: two\r\n\r\nSecond.\r\n".to_vec(),
    ]));
    tcp_server(move |stream| pop3_session(stream, drop.clone(), false)).await
}

/// The same server, knowing its commands other than USER in upper case only.
async fn upper_case_only() -> SocketAddr {
    let drop: Arc<Mutex<Vec<Vec<u8>>>> = Arc::new(Mutex::new(vec![]));
    tcp_server(move |stream| pop3_session(stream, drop.clone(), true)).await
}

async fn pop3_session(stream: TcpStream, maildrop: Arc<Mutex<Vec<Vec<u8>>>>, case_sensitive: bool) {
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    let _ = w.write_all(b"+OK faulty POP3\r\n").await;
    let (mut user, mut logged_in) = (false, false);
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let verb = words
            .first()
            .map(|v| {
                if case_sensitive && !v.eq_ignore_ascii_case("USER") {
                    v.clone()
                } else {
                    v.to_ascii_uppercase()
                }
            })
            .unwrap_or_default();
        let n = words
            .get(1)
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0);
        let msgs = maildrop.lock().unwrap().clone();
        let get = |n: usize| n.checked_sub(1).and_then(|i| msgs.get(i).cloned());
        let reply = match (verb.as_str(), logged_in) {
            ("USER", false) if words.len() == 2 => {
                user = true;
                "+OK\r\n".to_string()
            }
            ("PASS", false) if user && words.get(1).map(String::as_str) == Some("hungry") => {
                logged_in = true;
                "+OK logged in\r\n".to_string()
            }
            ("QUIT", _) => {
                let _ = w.write_all(b"+OK bye\r\n").await;
                return;
            }
            ("CAPA", _) => "+OK\r\nUSER\r\nTOP\r\nUIDL\r\n.\r\n".to_string(),
            ("STAT", true) => {
                format!(
                    "+OK {} {}\r\n",
                    msgs.len(),
                    msgs.iter().map(Vec::len).sum::<usize>()
                )
            }
            ("LIST", true) if words.len() == 1 => {
                let mut s = "+OK\r\n".to_string();
                for (i, m) in msgs.iter().enumerate() {
                    s += &format!("{} {}\r\n", i + 1, m.len());
                }
                s + ".\r\n"
            }
            ("UIDL", true) if words.len() == 1 => {
                let mut s = "+OK\r\n".to_string();
                for (i, m) in msgs.iter().enumerate() {
                    s += &format!("{} u{}\r\n", i + 1, m.len());
                }
                s + ".\r\n"
            }
            ("LIST", true) => match get(n) {
                Some(m) => format!("+OK {n} {}\r\n", m.len()),
                None => "-ERR no such message\r\n".into(),
            },
            ("RETR", true) => match get(n) {
                Some(m) => format!("+OK\r\n{}.\r\n", String::from_utf8_lossy(&m)),
                None => "-ERR no such message\r\n".into(),
            },
            ("TOP", true) => match get(n) {
                Some(m) => {
                    let text = String::from_utf8_lossy(&m).into_owned();
                    let head = text
                        .split("\r\n\r\n")
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    format!("+OK\r\n{head}\r\n\r\n.\r\n")
                }
                None => "-ERR no such message\r\n".into(),
            },
            // The fault: the message goes away at once, not in UPDATE.
            ("DELE", true) if get(n).is_some() => {
                maildrop.lock().unwrap().remove(n - 1);
                format!("+OK message {n} deleted\r\n")
            }
            ("NOOP" | "RSET", true) => "+OK\r\n".into(),
            _ => "-ERR\r\n".into(),
        };
        if w.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_deletes_at_dele_fails() {
    let addr = deletes_on_dele().await;
    let profile = format!("[pop3]\naddress = \"{addr}\"\nuser = \"bob\"\npassword = \"hungry\"\n");
    let run = run_against(
        "pop3",
        &profile,
        &["--step-timeout", "2s", "--tags", "@rfc1939-sec-6 and @MUST"],
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/pop3/transaction.feature",
            "A session that ends without QUIT deletes nothing",
            "step:        Then message 1 is unchanged in a new session",
            "the one marked deleted went away without QUIT",
            "C: DELE 1\\r\\n",
            "S: +OK message 1 deleted\\r\\n",
            "client closed the connection without QUIT",
        ],
    );
}

/// RFC 1939 §3: keywords are case-insensitive; "pass" answered -ERR fails
/// the course's login (an -ERR that is not [IN-USE] is not accepted).
#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_refuses_lower_case_commands_fails_the_course_login() {
    let addr = upper_case_only().await;
    let profile = format!("[pop3]\naddress = \"{addr}\"\nuser = \"bob\"\npassword = \"hungry\"\n");
    let run = run_against(
        "pop3",
        &profile,
        &["--step-timeout", "2s", "--tags", "@course-P-04"],
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/pop3/authorization.feature",
            "The course's login, in lower case, is accepted",
            "the server refused the login",
            "C: pass hungry\\r\\n",
            "S: -ERR\\r\\n",
        ],
    );
}

/// The reference SMTP and POP3 servers on one store, POP3 with or without
/// the maildrop lock; returns a profile for both.
async fn smtp_and_pop3(lock: bool) -> (String, Vec<reference_servers::Running>, tempfile::TempDir) {
    use reference_servers::mailstore::{Accounts, MailStore};
    let dir = tempfile::tempdir().unwrap();
    let store = MailStore::open(dir.path()).unwrap();
    store.create_user("bob").unwrap();
    let ip = [127, 0, 0, 1].into();
    let smtp_config = reference_servers::smtp::Config::new("mail.example.test", "example.test");
    let smtp = reference_servers::smtp::start(ip, 0, smtp_config, store.clone())
        .await
        .unwrap();
    let mut pop3_config = reference_servers::pop3::Config::new(
        "mail.example.test",
        Accounts::new().with("bob", "hungry"),
    );
    pop3_config.lock_maildrop = lock;
    let pop3 = reference_servers::pop3::start(ip, 0, pop3_config, store)
        .await
        .unwrap();
    let profile = format!(
        "[smtp]\naddress = \"{}\"\ndomain = \"example.test\"\nrecipient = \"bob@example.test\"\n\
         [pop3]\naddress = \"{}\"\nuser = \"bob\"\npassword = \"hungry\"\n",
        smtp.addr("smtp").unwrap(),
        pop3.addr("pop3").unwrap()
    );
    (profile, vec![smtp, pop3], dir)
}

/// RFC 1939 §4: a server that lets a second session remove a message from
/// under the first (no lock, as dovecot's default) fails; with the lock
/// (the second login gets -ERR [IN-USE]) it passes.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_session_that_removes_a_message_from_under_the_first_fails() {
    let tags = ["--tags", "@rfc1939-sec-4 and @needs-smtp"];
    let (profile, _running, _dir) = smtp_and_pop3(false).await;
    let run = run_against("pop3", &profile, &tags).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/pop3/smtp_to_pop3.feature",
            "A message stays retrievable while another session deletes it",
            "a second session removed message 1 from under this one",
            "C: DELE 1\\r\\n",
        ],
    );
    let (profile, _running, _dir) = smtp_and_pop3(true).await;
    let run = run_against("pop3", &profile, &tags).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("pop3: 1 passed"), "{}", run.all());
}

// ---- POP3 faults in front of the reference server -------------------------

#[derive(Clone, Copy, PartialEq)]
enum Pop3Fault {
    /// `LIST n` is answered with a bare "+OK".
    ListOneBare,
    /// STAT still counts a message marked deleted.
    StatCountsDeleted,
    /// After DELE, the scan listing is renumbered from 1.
    RenumbersAfterDele,
    /// Every message has the same unique-id.
    SameUidl,
    /// Unique-ids change with every session.
    UidlPerSession,
    /// Multi-line data is sent without byte-stuffing.
    NoByteStuffing,
    /// TOP n k sends the header only.
    TopIgnoresLines,
    /// PASS logs in with any password.
    AnyPassword,
    /// USER and PASS are answered +OK in the TRANSACTION state.
    UserPassAfterLogin,
    /// Message number 0 is taken for message 1.
    ZeroIsFirst,
    /// CAPA after login leaves out UIDL.
    CapaLosesUidl,
    /// Answers every DELE after the first of a session +OK without marking
    /// the message: QUIT removes only the first one marked.
    KeepsLaterDeles,
    /// Greets every connection with the same APOP timestamp.
    SameTimestamp,
    /// Logs in an APOP with any digest.
    AnyApopDigest,
}

static POP3_SESSIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The reference POP3 server on the fixture Maildirs, behind a relay that
/// reads each command and its reply (one line, or multi-line data for the
/// The reference POP3 server for bob on the mail store at `root`.
async fn reference_pop3(root: &std::path::Path) -> reference_servers::Running {
    use reference_servers::mailstore::{Accounts, MailStore};
    let store = MailStore::open(root).unwrap();
    let config = reference_servers::pop3::Config::new(
        "mail.example.test",
        Accounts::new().with("bob", "hungry"),
    );
    reference_servers::pop3::start([127, 0, 0, 1].into(), 0, config, store)
        .await
        .unwrap()
}

/// commands that have it) and breaks the reply as `fault` says.
async fn faulty_pop3(
    fault: Pop3Fault,
) -> (SocketAddr, reference_servers::Running, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    conform::fixtures::mail::write_maildirs(dir.path()).unwrap();
    let running = reference_pop3(dir.path()).await;
    let upstream = running.addr("pop3").unwrap();
    let addr = common::proxy(upstream, move |client, server| {
        pop3_relay(client, server, fault)
    })
    .await;
    (addr, running, dir)
}

async fn pop3_relay(client: TcpStream, server: TcpStream, fault: Pop3Fault) {
    let session = POP3_SESSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (cr, mut cw) = client.into_split();
    let (sr, mut sw) = server.into_split();
    let (mut cr, mut sr) = (BufReader::new(cr), BufReader::new(sr));
    let mut line = Vec::new();
    if sr.read_until(b'\n', &mut line).await.unwrap_or(0) == 0 {
        return;
    }
    let greeting = String::from_utf8_lossy(&line).into_owned();
    let stamp = greeting
        .split_once('<')
        .and_then(|(_, t)| t.split_once('>'))
        .map(|(t, _)| format!("<{t}>"))
        .unwrap_or_default();
    if fault == Pop3Fault::SameTimestamp {
        line = greeting.replace(&stamp, "<1.1@same.example>").into_bytes();
    }
    if cw.write_all(&line).await.is_err() {
        return;
    }
    let (mut first_stat, mut deleted, mut logged_in) = (None::<Vec<u8>>, false, false);
    loop {
        let mut cmd = Vec::new();
        if cr.read_until(b'\n', &mut cmd).await.unwrap_or(0) == 0 {
            return;
        }
        let words: Vec<String> = String::from_utf8_lossy(&cmd)
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let upper = words.first().map(|v| v.to_ascii_uppercase());
        match (fault, upper.as_deref(), words.len()) {
            // TOP n k read as TOP n 0.
            (Pop3Fault::TopIgnoresLines, Some("TOP"), 3) => {
                cmd = format!("TOP {} 0\r\n", words[1]).into_bytes()
            }
            // Any password is the right one.
            (Pop3Fault::AnyPassword, Some("PASS"), _) => cmd = b"PASS hungry\r\n".to_vec(),
            // Message 0 is taken for message 1.
            (Pop3Fault::ZeroIsFirst, Some(verb), 2) if words[1] == "0" => {
                cmd = format!("{verb} 1\r\n").into_bytes()
            }
            // Any digest is the right one.
            (Pop3Fault::AnyApopDigest, Some("APOP"), 3) => {
                let digest = reference_servers::md5::hex(format!("{stamp}hungry").as_bytes());
                cmd = format!("APOP {} {digest}\r\n", words[1]).into_bytes()
            }
            (Pop3Fault::KeepsLaterDeles, Some("DELE"), _) if deleted => {
                if cw.write_all(b"+OK marked\r\n").await.is_err() {
                    return;
                }
                continue;
            }
            _ => {}
        }
        if sw.write_all(&cmd).await.is_err() {
            return;
        }
        let text = String::from_utf8_lossy(&cmd)
            .trim_end()
            .to_ascii_uppercase();
        let verb = text.split(' ').next().unwrap_or_default().to_string();
        let mut status = Vec::new();
        if sr.read_until(b'\n', &mut status).await.unwrap_or(0) == 0 {
            return;
        }
        let mut data: Vec<Vec<u8>> = Vec::new();
        if status.starts_with(b"+OK") && conform::wire::pop3::is_multiline(text.as_bytes()) {
            loop {
                let mut l = Vec::new();
                if sr.read_until(b'\n', &mut l).await.unwrap_or(0) == 0 {
                    return;
                }
                if l == b".\r\n" {
                    break;
                }
                data.push(l);
            }
        }
        let multi =
            status.starts_with(b"+OK") && conform::wire::pop3::is_multiline(text.as_bytes());
        match (fault, verb.as_str()) {
            (Pop3Fault::ListOneBare, "LIST") if !multi && status.starts_with(b"+OK") => {
                status = b"+OK\r\n".to_vec()
            }
            (Pop3Fault::StatCountsDeleted, "STAT") => match (&first_stat, deleted) {
                (None, _) => first_stat = Some(status.clone()),
                (Some(f), true) => status = f.clone(),
                _ => {}
            },
            (Pop3Fault::RenumbersAfterDele, "LIST") if multi && deleted => {
                for (i, l) in data.iter_mut().enumerate() {
                    let t = String::from_utf8_lossy(l).into_owned();
                    let size = t.split(' ').nth(1).unwrap_or_default().to_string();
                    *l = format!("{} {size}", i + 1).into_bytes();
                }
            }
            (Pop3Fault::SameUidl, "UIDL") if multi => {
                for (i, l) in data.iter_mut().enumerate() {
                    *l = format!("{} same-id\r\n", i + 1).into_bytes();
                }
            }
            (Pop3Fault::UidlPerSession, "UIDL") if multi => {
                for l in data.iter_mut() {
                    let t = String::from_utf8_lossy(l).trim_end().to_string();
                    *l = format!("{t}-s{session}\r\n").into_bytes();
                }
            }
            (Pop3Fault::UserPassAfterLogin, "USER" | "PASS") if logged_in => {
                status = b"+OK\r\n".to_vec()
            }
            (Pop3Fault::CapaLosesUidl, "CAPA") if logged_in => {
                data.retain(|l| !l.starts_with(b"UIDL"))
            }
            (Pop3Fault::NoByteStuffing, _) => {
                for l in data.iter_mut() {
                    if l.starts_with(b"..") {
                        l.remove(0);
                    }
                }
            }
            _ => {}
        }
        if verb == "DELE" && status.starts_with(b"+OK") {
            deleted = true;
        }
        if verb == "PASS" && status.starts_with(b"+OK") {
            logged_in = true;
        }
        let mut out = status;
        for l in data {
            out.extend_from_slice(&l);
        }
        if multi {
            out.extend_from_slice(b".\r\n");
        }
        if cw.write_all(&out).await.is_err() || verb == "QUIT" {
            return;
        }
    }
}

async fn pop3_fault_run(fault: Pop3Fault) -> Run {
    let (addr, _running, _dir) = faulty_pop3(fault).await;
    let profile = format!("[pop3]\naddress = \"{addr}\"\nuser = \"bob\"\npassword = \"hungry\"\n");
    run_against(
        "pop3",
        &profile,
        &["--step-timeout", "2s", "--tags", "not @needs-smtp"],
    )
    .await
}

/// Each POP3 check of issue 13 §1 fails against a server that breaks its
/// rule, and only that scenario among the TRANSACTION ones.
#[tokio::test(flavor = "multi_thread")]
async fn pop3_servers_that_break_one_rule_each_fail() {
    let cases: [(Pop3Fault, &str, &str, usize); 6] = [
        (
            Pop3Fault::ListOneBare,
            "LIST with a message number gives that message's size",
            "is not answered with the scan listing of message 1",
            2,
        ),
        (
            Pop3Fault::StatCountsDeleted,
            "After DELE, STAT leaves the message out and the others keep their numbers",
            "STAT still counts message 1, marked deleted",
            1,
        ),
        (
            Pop3Fault::RenumbersAfterDele,
            "After DELE, STAT leaves the message out and the others keep their numbers",
            "the other messages are renumbered or changed",
            2,
        ),
        (
            Pop3Fault::SameUidl,
            "Unique-ids are distinct and persist across sessions",
            "share the unique-id \"same-id\"",
            1,
        ),
        (
            Pop3Fault::UidlPerSession,
            "Unique-ids are distinct and persist across sessions",
            "the unique-ids changed between sessions",
            1,
        ),
        (
            Pop3Fault::NoByteStuffing,
            "RETR byte-stuffs the lines of a message that start with \".\"",
            "were not byte-stuffed on the wire",
            1,
        ),
    ];
    let breadth: [(Pop3Fault, &str, &str, usize); 4] = [
        (
            Pop3Fault::CapaLosesUidl,
            "CAPA after login announces every capability announced before it",
            "CAPA after login leaves out UIDL",
            1,
        ),
        (
            Pop3Fault::AnyPassword,
            "After a refused PASS the session is still in the AUTHORIZATION state",
            "A wrong password is refused with -ERR",
            2,
        ),
        (
            Pop3Fault::UserPassAfterLogin,
            "USER and PASS are refused in the TRANSACTION state",
            "unexpected reply status to \"USER bob\"",
            2,
        ),
        (
            Pop3Fault::ZeroIsFirst,
            "A message-number that is not one is refused with -ERR",
            "unexpected reply status to \"RETR 0\"",
            2,
        ),
    ];
    for (fault, scenario, problem, failed) in cases.into_iter().chain(breadth) {
        let run = pop3_fault_run(fault).await;
        let count = format!(" {failed} failed, 0 errors");
        assert_fails_with(&run, &["FAIL features/pop3/", scenario, problem, &count]);
    }
    // APOP (§7), one scenario at a time: a login that succeeds, as the
    // faulty one does, may meet the maildrop held by another scenario.
    let apop = [
        (
            Pop3Fault::SameTimestamp,
            "The APOP timestamp differs on every connection",
            "the APOP timestamp is the same in two greetings",
            // The server checks the digest against its own timestamp.
            2,
        ),
        (
            Pop3Fault::AnyApopDigest,
            "APOP with a wrong digest is refused and leaves the session unauthenticated",
            "unexpected reply status to \"APOP bob",
            1,
        ),
    ];
    for (fault, scenario, problem, failed) in apop {
        let (addr, _running, _dir) = faulty_pop3(fault).await;
        let profile =
            format!("[pop3]\naddress = \"{addr}\"\nuser = \"bob\"\npassword = \"hungry\"\n");
        let run = run_against(
            "pop3",
            &profile,
            &[
                "--step-timeout",
                "2s",
                "--concurrency",
                "1",
                "--tags",
                "not @needs-smtp",
            ],
        )
        .await;
        let count = format!(" {failed} failed, 0 errors");
        assert_fails_with(&run, &["FAIL features/pop3/", scenario, problem, &count]);
    }
    // TOP is optional (§7, @MAY): a wrong TOP is reported, not failed.
    let run = pop3_fault_run(Pop3Fault::TopIgnoresLines).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert_has(
        &run,
        &[
            "INFO  features/pop3/transaction.feature",
            "TOP n k sends the header, the blank line and k body lines",
            "TOP 2 2 did not return exactly the header, the blank line and 2 body lines",
            " 0 failed, 0 errors, 0 warnings, 2 info",
        ],
    );
}

/// RFC 1939 §6 with messages conform places in the Maildir: QUIT after
/// several DELEs removes exactly those on the reference server; a server
/// that marks only the first one fails.
#[tokio::test(flavor = "multi_thread")]
async fn quit_after_several_deles_removes_exactly_those() {
    let tags = ["--tags", "@rfc1939-sec-6 and not @needs-smtp"];
    for (fault, ok) in [(None, true), (Some(Pop3Fault::KeepsLaterDeles), false)] {
        let dir = tempfile::tempdir().unwrap();
        conform::fixtures::mail::write_maildirs(dir.path()).unwrap();
        let running = reference_pop3(dir.path()).await;
        let mut addr = running.addr("pop3").unwrap();
        if let Some(fault) = fault {
            addr = common::proxy(addr, move |c, s| pop3_relay(c, s, fault)).await;
        }
        let profile = format!(
            "[pop3]\naddress = \"{addr}\"\nuser = \"bob\"\npassword = \"hungry\"\nmaildir = \"{}\"\n",
            dir.path().join("bob/Maildir").display()
        );
        let run = run_against("pop3", &profile, &tags).await;
        if ok {
            assert_eq!(run.code, 0, "{}", run.all());
            assert_has(&run, &[" 0 failed, 0 errors", " 0 skipped"]);
            // The maildrop is left as it was found: the two fixtures.
            let left: usize = ["new", "cur"]
                .iter()
                .map(|d| {
                    std::fs::read_dir(dir.path().join("bob/Maildir").join(d))
                        .unwrap()
                        .count()
                })
                .sum();
            assert_eq!(left, 2);
        } else {
            assert_fails_with(
                &run,
                &[
                    "FAIL features/pop3/update.feature",
                    "QUIT after several DELEs removes exactly the messages marked",
                    "placed message 3 (marked) is still there",
                    " 1 failed, 0 errors",
                ],
            );
        }
    }
}

// ---- hostile peers against the reply readers ------------------------------

/// A peer that sends `bytes` (repeated `times`), then does `then`.
async fn hostile(bytes: &'static [u8], times: usize, then: Then) -> SocketAddr {
    one_connection(move |mut s| async move {
        for _ in 0..times {
            if s.write_all(bytes).await.is_err() {
                return;
            }
        }
        match then {
            Then::Stall => tokio::time::sleep(Duration::from_secs(30)).await,
            Then::Close => {}
            Then::Reset => {
                #[allow(deprecated)] // blocking on drop is harmless for 0 s
                let _ = s.set_linger(Some(Duration::ZERO));
            }
        }
        let mut sink = [0u8; 64];
        let _ = tokio::time::timeout(Duration::from_millis(10), s.read(&mut sink)).await;
    })
    .await
}

#[derive(Clone, Copy)]
enum Then {
    Stall,
    Close,
    Reset,
}

async fn read_with(
    reader: &dyn ReplyReader,
    addr: SocketAddr,
) -> (Result<(), WireError>, Duration) {
    let t = Transcript::new();
    let mut conn = Conn::connect(addr, "hostile", &t, Duration::from_millis(800))
        .await
        .unwrap();
    let start = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(10), reader.read(&mut conn))
        .await
        .expect("the reader gives up on its own");
    (r.map(|_| ()), start.elapsed())
}

#[tokio::test(flavor = "multi_thread")]
async fn readers_are_bounded_against_hostile_peers() {
    let cases: Vec<(&str, Box<dyn ReplyReader>, &'static [u8], usize, Then)> = vec![
        (
            "smtp line that never ends",
            Box::new(SmtpReader),
            b"220 aaaaaaaaaaaaaaaa",
            10_000,
            Then::Stall,
        ),
        (
            "smtp endless continuation",
            Box::new(SmtpReader),
            b"250-more\r\n",
            100_000,
            Then::Stall,
        ),
        (
            "smtp no newline then close",
            Box::new(SmtpReader),
            b"220 half",
            1,
            Then::Close,
        ),
        ("smtp stall", Box::new(SmtpReader), b"", 1, Then::Stall),
        (
            "smtp reset",
            Box::new(SmtpReader),
            b"250-x\r\n",
            1,
            Then::Reset,
        ),
        (
            "smtp garbage",
            Box::new(SmtpReader),
            b"\x00\xff\r\n",
            1,
            Then::Stall,
        ),
        (
            "smtp mixed codes",
            Box::new(SmtpReader),
            b"250-a\r\n251 b\r\n",
            1,
            Then::Stall,
        ),
        (
            "pop3 line that never ends",
            Box::new(Pop3Reader::new()),
            b"+OK aaaaaaaaaaaa",
            10_000,
            Then::Stall,
        ),
        (
            "pop3 garbage status",
            Box::new(Pop3Reader::new()),
            b"OK then\r\n",
            1,
            Then::Stall,
        ),
        (
            "pop3 stall",
            Box::new(Pop3Reader::new()),
            b"",
            1,
            Then::Stall,
        ),
        (
            "pop3 reset",
            Box::new(Pop3Reader::new()),
            b"+OK",
            1,
            Then::Reset,
        ),
    ];
    for (name, reader, bytes, times, then) in cases {
        let addr = hostile(bytes, times, then).await;
        let (r, took) = read_with(reader.as_ref(), addr).await;
        assert!(r.is_err(), "{name}: an error, not a reply");
        assert!(took < Duration::from_secs(3), "{name}: gave up in {took:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pop3_reader_bounds_unterminated_data() {
    // A RETR whose data never ends: the reader stops at the stall deadline.
    let addr = hostile(b"line of data\r\n", 1000, Then::Stall).await;
    let t = Transcript::new();
    let mut conn = Conn::connect(addr, "hostile", &t, Duration::from_millis(800))
        .await
        .unwrap();
    let reader = Pop3Reader::new();
    let _ = reader.frame(b"RETR 1");
    // The status line is "line of data", which is not +OK/-ERR: malformed.
    let r = reader.read(&mut conn).await;
    assert!(matches!(r, Err(WireError::Malformed { .. })), "{r:?}");
    let addr = hostile(b"+OK\r\n.x\r\n", 1, Then::Stall).await;
    let mut conn = Conn::connect(addr, "hostile", &t, Duration::from_millis(800))
        .await
        .unwrap();
    let _ = reader.frame(b"RETR 1");
    let r = reader.read(&mut conn).await;
    assert!(matches!(r, Err(WireError::Timeout { .. })), "{r:?}");
}

/// RFC 5321 §4.4 through POP3: a server that adds no Received: fails the
/// smtp_to_pop3 scenario; the reference server passes it.
#[tokio::test(flavor = "multi_thread")]
async fn a_message_delivered_without_received_fails_through_pop3() {
    for trace in [true, false] {
        let (smtp, _running, dir) = reference_smtp(trace, SmtpRelay::Straight).await;
        let pop3 = reference_pop3(dir.path()).await;
        let profile = format!(
            "{smtp}[pop3]\naddress = \"{}\"\nuser = \"bob\"\npassword = \"hungry\"\n",
            pop3.addr("pop3").unwrap()
        );
        let run = run_against("pop3", &profile, &["--tags", "@rfc5321-sec-4.4"]).await;
        if trace {
            assert_eq!(run.code, 0, "{}", run.all());
            assert_has(&run, &["pop3: 1 passed, 0 failed"]);
        } else {
            assert_fails_with(
                &run,
                &[
                    "FAIL  features/pop3/smtp_to_pop3.feature",
                    "The delivered message begins with a Received: trace field",
                    "carries no Received: trace field",
                ],
            );
        }
    }
}

/// RFC 5321 §4.1.1.10: a server that delivers the part of a message whose
/// connection dropped fails; the reference server passes.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_delivers_a_dropped_message_fails() {
    let tags = ["--tags", "@rfc5321-sec-4.1.1.10"];
    let (profile, _running, _dir) = reference_smtp(true, SmtpRelay::CompletesDroppedData).await;
    let run = run_against("smtp", &profile, &tags[..]).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/smtp/data.feature",
            "A connection dropped in the middle of a message delivers nothing",
            "MUST cancel any pending transaction",
        ],
    );
    let (profile, _running, _dir) = reference_smtp(true, SmtpRelay::Straight).await;
    let run = run_against("smtp", &profile, &tags[..]).await;
    assert_eq!(run.code, 0, "{}", run.all());
}
