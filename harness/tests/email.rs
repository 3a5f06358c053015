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
use conform::report::Transcript;
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
}

/// A small SMTP server, right except for `fault`.
async fn faulty_smtp(fault: SmtpFault) -> SocketAddr {
    tcp_server(move |stream| smtp_session(stream, fault)).await
}

async fn smtp_session(stream: TcpStream, fault: SmtpFault) {
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    let _ = w.write_all(b"220 faulty ESMTP\r\n").await;
    let (mut helo, mut mail, mut rcpt) = (false, false, false);
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
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" if ehlos > 0 && fault == SmtpFault::SecondEhlo503 => b"503 5.5.1 EHLO once\r\n",
            "EHLO" if ehlos > 0 && fault == SmtpFault::SecondEhloRefusedKeepsState => {
                b"550 5.7.1 EHLO once\r\n"
            }
            "EHLO" => {
                ehlos += 1;
                (helo, mail, rcpt) = (true, false, false);
                b"250-faulty\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n"
            }
            "HELO" if line.trim().len() > 4 => {
                (helo, mail, rcpt) = (true, false, false);
                b"250 faulty\r\n"
            }
            "MAIL" if !helo => b"503 5.5.1 HELO first\r\n",
            "MAIL" if mail => b"503 5.5.1 nested MAIL\r\n",
            "MAIL" if !line.contains('<') => b"501 5.5.4 syntax\r\n",
            "MAIL" if line.contains("SIZE=") => b"552 5.3.4 too big\r\n",
            "MAIL" if line.contains("X-NO-SUCH") => b"555 5.5.4 unsupported parameter\r\n",
            "MAIL" => {
                mail = true;
                b"250 2.1.0 Ok\r\n"
            }
            "RCPT" if !mail && fault != SmtpFault::RcptBeforeMail => b"503 5.5.1 need MAIL\r\n",
            "RCPT" if line.contains("@@") => b"501 5.1.3 bad address\r\n",
            "RCPT" if line.contains("no-such-user") => b"550 5.1.1 unknown\r\n",
            "RCPT" if line.contains(".invalid") => b"550 5.7.1 relay denied\r\n",
            "RCPT" => {
                rcpt = true;
                b"250 2.1.5 Ok\r\n"
            }
            "DATA" if line.trim().len() > 4 => b"501 5.5.4 no arguments\r\n",
            "DATA" if !rcpt => b"503 5.5.1 need RCPT\r\n",
            "DATA" if fault == SmtpFault::DataGets250 => b"250 2.0.0 Ok\r\n",
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
                mail = false;
                rcpt = false;
                let headers = data.windows(5).any(|h| h == b"From:");
                if fault == SmtpFault::RejectsHeaderless && !headers {
                    b"550 5.6.0 no From header field\r\n"
                } else {
                    b"250 2.0.0 queued\r\n"
                }
            }
            "RSET" => {
                mail = false;
                rcpt = false;
                b"250 2.0.0 Ok\r\n"
            }
            "NOOP" => b"250 2.0.0 Ok\r\n",
            "VRFY" => b"252 2.5.2 maybe\r\n",
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
        run.stdout.contains("smtp: 48 passed, 3 failed"),
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
