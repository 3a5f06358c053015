//! TLS and AUTH (issue 17): the STARTTLS and AUTH scenarios against the
//! reference SMTP server flipped to break one rule each (they must fail
//! the matching scenario), the same server as it is (it must pass), and
//! hostile peers in the handshake (garbage, a stall, a close after the
//! go-ahead, an untrusted or expired certificate): each a clear failure
//! within the step bound.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{assert_fails_with, assert_has, run_against, tcp_server, Run};
use conform::fixtures::tls::{generate, Validity};
use reference_servers::smtp::Faults;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The reference SMTP server with STARTTLS and AUTH (TLS only), with
/// `faults`, and a profile for it trusting the fixture CA.
async fn smtp_with(
    faults: Faults,
    validity: Validity,
) -> (String, reference_servers::Running, tempfile::TempDir) {
    smtp_server(faults, validity, false).await
}

async fn smtp_server(
    faults: Faults,
    validity: Validity,
    implicit: bool,
) -> (String, reference_servers::Running, tempfile::TempDir) {
    use reference_servers::mailstore::{Accounts, MailStore};
    let dir = tempfile::tempdir().unwrap();
    conform::fixtures::mail::write_maildirs(&dir.path().join("maildir")).unwrap();
    let store = MailStore::open(dir.path().join("maildir")).unwrap();
    let (identity, ca) = server_identity(&dir, validity);
    let mut config = reference_servers::smtp::Config::new("mail.example.test", "example.test");
    config.tls = Some(identity);
    config.accounts = Some(Accounts::new().with("bob", "hungry"));
    config.auth_requires_tls = true;
    config.faults = faults;
    config.implicit_tls = implicit;
    let running = reference_servers::smtp::start([127, 0, 0, 1].into(), 0, config, store)
        .await
        .unwrap();
    let addr = running.addr("smtp").unwrap();
    let profile = smtp_profile(addr, &format!("ca_file = \"{}\"\n", ca.display()));
    (profile, running, dir)
}

fn smtp_profile(addr: SocketAddr, tls: &str) -> String {
    format!(
        "[smtp]\naddress = \"{addr}\"\ndomain = \"example.test\"\nrecipient = \"bob@example.test\"\n\
         tls = \"starttls\"\n{tls}user = \"bob\"\npassword = \"hungry\"\nauth_requires_tls = true\n"
    )
}

/// A fresh fixture CA and server certificate (`validity`): the server's
/// identity, and the CA file a profile trusts, written into `dir`.
fn server_identity(
    dir: &tempfile::TempDir,
    validity: Validity,
) -> (reference_servers::tls::Identity, std::path::PathBuf) {
    let id = generate(validity).unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &id.ca_pem).unwrap();
    let identity =
        reference_servers::tls::Identity::from_pem(&id.chain_pem, &id.key_pem, &[]).unwrap();
    (identity, ca)
}

/// A `[section]` for bob at `addr` that upgrades with STARTTLS/STLS and
/// trusts `ca`.
fn starttls_profile(section: &str, addr: SocketAddr, ca: &std::path::Path) -> String {
    format!(
        "[{section}]\naddress = \"{addr}\"\nuser = \"bob\"\npassword = \"hungry\"\ntls = \"starttls\"\nca_file = \"{}\"\n",
        ca.display()
    )
}

/// `conform run SECTION --strict --tags TAGS` with a 2 s step bound.
async fn run_tagged_in(section: &str, profile: &str, tags: &str) -> Run {
    run_against(
        section,
        profile,
        &["--strict", "--tags", tags, "--step-timeout", "2s"],
    )
    .await
}

/// The first STARTTLS scenario alone.
const UPGRADE: &str = "@rfc3207-sec-4 and not @rfc4954";

const TLS_TAGS: &str = "@rfc3207 or @rfc4954 or @rfc4616";

#[tokio::test(flavor = "multi_thread")]
async fn the_reference_server_passes_the_tls_and_auth_scenarios() {
    let (profile, _r, _d) = smtp_with(Faults::default(), Validity::Current).await;
    let run = run_tagged_in("smtp", &profile, TLS_TAGS).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert_has(&run, &["11 passed, 0 failed, 0 errors"]);
    // Without TLS in the profile the same scenarios skip, with the reason.
    let plain = profile.replace("tls = \"starttls\"\n", "");
    let run = run_tagged_in("smtp", &plain, "@rfc3207").await;
    assert_has(
        &run,
        &["the target profile does not set [smtp] tls = \"starttls\""],
    );
}

/// RFC 8314 §3.3: on an implicit-TLS port the greeting comes inside TLS;
/// the whole SMTP suite runs inside it, the upgrade scenarios skip.
#[tokio::test(flavor = "multi_thread")]
async fn the_smtp_suite_runs_inside_implicit_tls() {
    let (profile, _r, dir) = smtp_server(Faults::default(), Validity::Current, true).await;
    let profile = profile.replace("tls = \"starttls\"", "tls = \"implicit\"");
    let run = run_against("smtp", &profile, &["--step-timeout", "5s"]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert_has(
        &run,
        &[
            "0 failed, 0 errors",
            "there is no upgrade to test",
            "PASS  features/smtp/lettre.feature:13  lettre delivers a message inside TLS",
        ],
    );
    // The AUTH scenarios ran, inside TLS.
    assert!(
        run.stdout.contains("PASS  features/smtp/auth.feature"),
        "{}",
        run.stdout
    );
    // A plaintext client gets no greeting from it: preflight names the key.
    let plain = profile.replace("tls = \"implicit\"\n", "");
    let run = run_against("smtp", &plain, &["--step-timeout", "2s"]).await;
    assert_eq!(run.code, 2, "{}", run.all());
    drop(dir);
}

/// Runs the scenarios tagged `tags` against the reference server with
/// `faults`; they must fail `failed` scenarios, with every one of `wants`.
async fn faulty(faults: Faults, tags: &str, failed: &str, wants: &[&str]) -> Run {
    let (profile, _r, _d) = smtp_with(faults, Validity::Current).await;
    let run = run_tagged_in("smtp", &profile, tags).await;
    assert_fails_with(&run, wants);
    assert_has(&run, &[failed]);
    run
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_executes_commands_injected_before_the_handshake_fails() {
    let faults = Faults {
        executes_injected: true,
        ..Faults::default()
    };
    let wants = [
        "FAIL  features/smtp/starttls.feature",
        "Commands pipelined with STARTTLS are not executed inside TLS",
        "the first reply inside TLS is not the EHLO reply: the server executed \"HELP\"",
        "got:         \"214-2.0.0 Commands:",
        "TLS established",
    ];
    faulty(faults, "@rfc3207", "1 failed", &wants).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_keeps_its_state_across_the_handshake_fails() {
    let faults = Faults {
        keeps_state_after_tls: true,
        ..Faults::default()
    };
    let wants = [
        "FAIL  features/smtp/starttls.feature",
        "After the handshake a mail transaction needs a new EHLO",
        "250 2.1.0 <alice@crepes.fr> Sender ok",
    ];
    faulty(faults, "@rfc3207", "1 failed", &wants).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_offers_auth_in_plaintext_against_its_policy_fails() {
    let faults = Faults {
        auth_in_plaintext: true,
        ..Faults::default()
    };
    let wants = [
        "FAIL  features/smtp/auth.feature",
        "AUTH is not announced before TLS where the server requires TLS for it",
        "EHLO announces AUTH",
        "AUTH before TLS is refused where the server requires TLS for it",
        "334",
    ];
    let run = faulty(faults, "@rfc4616 or @rfc4954", "2 failed", &wants).await;
    // The bare AUTH PLAIN got its 334 in plaintext; no credentials followed.
    assert!(!run.stdout.contains("AUTH PLAIN AGJv"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_untrusted_or_expired_certificate_is_an_error_naming_the_profile_key() {
    // Trusting a CA that did not sign the server's certificate.
    let (profile, _r, dir) = smtp_with(Faults::default(), Validity::Current).await;
    let other = generate(Validity::Current).unwrap();
    let stranger = dir.path().join("other-ca.pem");
    std::fs::write(&stranger, other.ca_pem).unwrap();
    let profile = profile.replace(
        &format!("{}", dir.path().join("ca.pem").display()),
        &stranger.display().to_string(),
    );
    let run = run_tagged_in("smtp", &profile, UPGRADE).await;
    assert_has(
        &run,
        &[
            "the server's TLS certificate is not accepted (",
            "[smtp] ca_file",
            "0 failed, 1 errors",
        ],
    );
    assert_ne!(run.code, 0);
    // An expired certificate.
    let (profile, _r2, _d2) = smtp_with(Faults::default(), Validity::Expired).await;
    let run = run_tagged_in("smtp", &profile, UPGRADE).await;
    assert_has(
        &run,
        &["the server's TLS certificate is not accepted (Expired"],
    );
    assert_ne!(run.code, 0);
    // tls_insecure accepts it (encrypted, unverified).
    let insecure = profile.replace(
        "tls = \"starttls\"\n",
        "tls = \"starttls\"\ntls_insecure = true\n",
    );
    let run = run_tagged_in("smtp", &insecure, UPGRADE).await;
    assert_eq!(run.code, 0, "{}", run.all());
}

#[test]
fn a_profile_with_tls_but_no_trust_is_a_configuration_error() {
    let p = "[smtp]\naddress=\"127.0.0.1:25\"\ndomain=\"x\"\nrecipient=\"a@x\"\ntls=\"starttls\"\n";
    let e = conform::target::Profile::parse(p, "t").unwrap_err();
    assert!(
        e.0.contains("[smtp] tls = \"starttls\" needs ca_file"),
        "{e}"
    );
    let e = conform::target::Profile::parse(&p.replace("starttls", "maybe"), "t").unwrap_err();
    assert!(e.0.contains("[smtp] tls: must be"), "{e}");
    let e = conform::target::Profile::parse(&format!("{p}ca_file=\"/nonexistent.pem\"\n"), "t")
        .unwrap_err();
    assert!(e.0.contains("ca_file: cannot read /nonexistent.pem"), "{e}");
    assert!(conform::target::Profile::parse(&format!("{p}tls_insecure=true\n"), "t").is_ok());
}

/// A hostile server: greets, announces STARTTLS, answers it 220, then
/// does `after` instead of a handshake.
#[derive(Clone, Copy)]
enum AfterGoAhead {
    Garbage,
    Stall,
    Close,
    /// Sends plaintext right after the 220, before any handshake.
    Plaintext,
}

async fn hostile(after: AfterGoAhead) -> SocketAddr {
    tcp_server(move |stream: TcpStream| async move {
        let (r, mut w) = stream.into_split();
        let mut r = BufReader::new(r);
        let _ = w.write_all(b"220 hostile ESMTP\r\n").await;
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let verb = line.trim().to_ascii_uppercase();
            if verb.starts_with("EHLO") {
                let _ = w.write_all(b"250-hostile\r\n250 STARTTLS\r\n").await;
            } else if verb == "STARTTLS" {
                // The plaintext comes in the same segment as the go-ahead.
                let go_ahead: &[u8] = match after {
                    AfterGoAhead::Plaintext => b"220 go ahead\r\n250 injected\r\n",
                    _ => b"220 go ahead\r\n",
                };
                let _ = w.write_all(go_ahead).await;
                match after {
                    AfterGoAhead::Garbage => {
                        let mut hello = [0u8; 64];
                        let _ = r.read(&mut hello).await;
                        let _ = w
                            .write_all(b"HTTP/1.1 400 Bad Request\r\n\r\nnot tls at all\r\n")
                            .await;
                        tokio::time::sleep(Duration::from_secs(5)).await;
                    }
                    AfterGoAhead::Stall => tokio::time::sleep(Duration::from_secs(30)).await,
                    AfterGoAhead::Close => {}
                    AfterGoAhead::Plaintext => tokio::time::sleep(Duration::from_secs(5)).await,
                }
                return;
            } else {
                let _ = w.write_all(b"250 ok\r\n").await;
            }
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_peer_in_the_handshake_fails_clearly_within_the_step_bound() {
    for (after, want) in [
        (
            AfterGoAhead::Garbage,
            "the server did not answer with a TLS handshake",
        ),
        (
            AfterGoAhead::Stall,
            "the TLS handshake to finish (the server stalled in it)",
        ),
        (
            AfterGoAhead::Close,
            "the server closed the connection during the TLS handshake",
        ),
        (
            AfterGoAhead::Plaintext,
            "in plaintext after its go-ahead, where the TLS handshake begins",
        ),
    ] {
        let addr = hostile(after).await;
        let profile = smtp_profile(addr, "tls_insecure = true\n");
        let started = Instant::now();
        let run = run_tagged_in("smtp", &profile, UPGRADE).await;
        assert_fails_with(&run, &[want]);
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{want}: took {:?}",
            started.elapsed()
        );
    }
}

/// The reference IMAP server with STARTTLS and `faults`, and a profile
/// for it (`tls = "starttls"`, trusting the fixture CA).
async fn imap_with(
    faults: reference_servers::imap::Faults,
) -> (String, reference_servers::Running, tempfile::TempDir) {
    imap_server(faults, false, false).await
}

/// The reference IMAP server with TLS (`implicit`: on an implicit-TLS
/// port; `login_requires_tls`: LOGINDISABLED before TLS) and a profile for
/// it (`tls = "starttls"` or `"implicit"`).
async fn imap_server(
    faults: reference_servers::imap::Faults,
    implicit: bool,
    login_requires_tls: bool,
) -> (String, reference_servers::Running, tempfile::TempDir) {
    use reference_servers::mailstore::{Accounts, MailStore};
    let dir = tempfile::tempdir().unwrap();
    let store = MailStore::open(dir.path()).unwrap();
    store.create_user("bob").unwrap();
    let (identity, ca) = server_identity(&dir, Validity::Current);
    let mut config = reference_servers::imap::Config::new(Accounts::new().with("bob", "hungry"));
    config.tls = Some(identity);
    config.faults = faults;
    config.implicit_tls = implicit;
    config.login_requires_tls = login_requires_tls;
    let running = reference_servers::imap::start([127, 0, 0, 1].into(), 0, config, store)
        .await
        .unwrap();
    let addr = running.addr("imap").unwrap();
    let mut profile = starttls_profile("imap", addr, &ca);
    if implicit {
        profile = profile.replace("tls = \"starttls\"", "tls = \"implicit\"");
    }
    (profile, running, dir)
}

#[tokio::test(flavor = "multi_thread")]
async fn imap_starttls_passes_and_every_login_goes_inside_tls() {
    // LOGINDISABLED before TLS: a LOGIN in plaintext anywhere (a step, the
    // preflight, a cleanup session) would be refused and show.
    let (profile, _r, _d) = imap_server(Default::default(), false, true).await;
    let run = run_against("imap", &profile, &["--step-timeout", "5s"]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert_has(&run, &["0 failed, 0 errors"]);
    assert!(
        run.stdout.contains("PASS  features/imap/starttls.feature"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("cleanup attempt"),
        "a cleanup session failed: {}",
        run.stdout
    );
    // Without TLS in the profile, a server announcing LOGINDISABLED is a
    // configuration error naming the key (RFC 9051 §6.2.3).
    let plain = profile.replace("tls = \"starttls\"\n", "");
    let run = run_against("imap", &plain, &["--step-timeout", "2s"]).await;
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("[imap] tls: the server announces LOGINDISABLED"),
        "{}",
        run.all()
    );
    // A server allowing LOGIN in plaintext: the LOGINDISABLED scenario
    // skips saying why, and without TLS in the profile so do the STARTTLS
    // scenarios.
    let (profile, _r, _d) = imap_with(Default::default()).await;
    let run = run_tagged_in("imap", &profile, "@rfc9051-sec-6.2.3").await;
    assert_has(&run, &["the server does not announce LOGINDISABLED"]);
    let plain = profile.replace("tls = \"starttls\"\n", "");
    let run = run_tagged_in("imap", &plain, "@rfc9051-sec-6.2.1").await;
    assert_has(&run, &["the target profile does not set [imap] tls"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_imap_server_that_executes_commands_injected_before_the_handshake_fails() {
    let (profile, _r, _d) = imap_with(reference_servers::imap::Faults {
        executes_injected: true,
        ..Default::default()
    })
    .await;
    let run = run_tagged_in("imap", &profile, "@rfc9051-sec-6.2.1").await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/imap/starttls.feature",
            "A command pipelined with STARTTLS is not executed inside TLS",
            "the server executed \"CAPABILITY\", sent in plaintext behind STARTTLS, inside TLS",
            "i2 OK",
        ],
    );
    assert_has(&run, &["1 failed"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_imap_server_that_answers_login_bad_under_logindisabled_fails() {
    let faults = reference_servers::imap::Faults {
        logindisabled_bad: true,
        ..Default::default()
    };
    let (profile, _r, _d) = imap_server(faults, false, true).await;
    let run = run_tagged_in("imap", &profile, "@rfc9051-sec-6.2.3").await;
    assert_fails_with(
        &run,
        &[
            "Where LOGINDISABLED is announced, LOGIN before TLS is answered with a tagged NO",
            "a1 BAD",
        ],
    );
    assert_has(&run, &["1 failed"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_imap_server_that_offers_starttls_inside_tls_fails() {
    let (profile, _r, _d) = imap_with(reference_servers::imap::Faults {
        starttls_in_tls: true,
        ..Default::default()
    })
    .await;
    let run = run_tagged_in("imap", &profile, "@rfc9051-sec-6.2.1").await;
    assert_fails_with(
        &run,
        &[
            "CAPABILITY inside TLS does not announce STARTTLS",
            "CAPABILITY announces STARTTLS",
            "STARTTLS inside TLS is answered BAD",
        ],
    );
}

/// The reference POP3 server with STLS and `faults`, and a profile for it
/// (`tls = "starttls"`, trusting the fixture CA).
async fn pop3_with(
    faults: reference_servers::pop3::Faults,
) -> (String, reference_servers::Running, tempfile::TempDir) {
    pop3_server(faults, false).await
}

/// The reference POP3 server with TLS (`implicit`: on an implicit-TLS
/// port) and a profile for it (`tls = "starttls"` or `"implicit"`).
async fn pop3_server(
    faults: reference_servers::pop3::Faults,
    implicit: bool,
) -> (String, reference_servers::Running, tempfile::TempDir) {
    use reference_servers::mailstore::{Accounts, MailStore};
    let dir = tempfile::tempdir().unwrap();
    conform::fixtures::mail::write_maildirs(&dir.path().join("maildir")).unwrap();
    let store = MailStore::open(dir.path().join("maildir")).unwrap();
    let (identity, ca) = server_identity(&dir, Validity::Current);
    let mut config = reference_servers::pop3::Config::new(
        "mail.example.test",
        Accounts::new().with("bob", "hungry"),
    );
    config.tls = Some(identity);
    config.faults = faults;
    config.implicit_tls = implicit;
    let running = reference_servers::pop3::start([127, 0, 0, 1].into(), 0, config, store)
        .await
        .unwrap();
    let addr = running.addr("pop3").unwrap();
    let mut profile = starttls_profile("pop3", addr, &ca);
    if implicit {
        profile = profile.replace("tls = \"starttls\"", "tls = \"implicit\"");
    }
    (profile, running, dir)
}

#[tokio::test(flavor = "multi_thread")]
async fn pop3_stls_passes_and_every_login_goes_inside_tls() {
    let (profile, _r, _d) = pop3_with(Default::default()).await;
    let run = run_against("pop3", &profile, &["--step-timeout", "5s"]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert_has(
        &run,
        &["0 failed, 0 errors", "PASS  features/pop3/stls.feature"],
    );
    let plain = profile.replace("tls = \"starttls\"\n", "");
    let run = run_tagged_in("pop3", &plain, "@rfc2595").await;
    assert_has(&run, &["the target profile does not set [pop3] tls"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pop3_server_that_executes_commands_injected_before_the_handshake_is_reported() {
    let (profile, _r, _d) = pop3_with(reference_servers::pop3::Faults {
        executes_injected: true,
        ..Default::default()
    })
    .await;
    let run = run_against(
        "pop3",
        &profile,
        &["--tags", "@rfc2595", "--step-timeout", "2s"],
    )
    .await;
    // RFC 2595 sets no server rule for it: information, not a failure.
    assert_has(
        &run,
        &[
            "A command pipelined with STLS is not executed inside TLS",
            "the server executed \"CAPA\", sent in plaintext behind STLS",
            "1 info",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pop3_server_that_offers_stls_inside_tls_is_reported() {
    let (profile, _r, _d) = pop3_with(reference_servers::pop3::Faults {
        stls_in_tls: true,
        ..Default::default()
    })
    .await;
    let run = run_against(
        "pop3",
        &profile,
        &["--tags", "@rfc2595", "--step-timeout", "2s"],
    )
    .await;
    assert_has(
        &run,
        &[
            "STLS inside TLS is refused",
            "CAPA announces STLS",
            "1 info",
        ],
    );
}

// ---- FTP AUTH TLS (RFC 4217), on the wire ----

/// The reference FTP server with AUTH TLS and `faults` on a fresh copy of
/// the fixture tree; its control address, and the fixture CA's file.
async fn ftp_with(
    faults: reference_servers::ftp::Faults,
) -> (
    SocketAddr,
    std::path::PathBuf,
    reference_servers::Running,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("ftp");
    conform::fixtures::ftp::write(&home).unwrap();
    let (identity, ca) = server_identity(&dir, Validity::Current);
    let mut config = reference_servers::ftp::Config::new(home, "bob", "hungry");
    config.tls = Some(identity);
    config.faults = faults;
    config.failed_login_delay = Duration::ZERO;
    let running = reference_servers::ftp::start([127, 0, 0, 1].into(), 0, config)
        .await
        .unwrap();
    let addr = running.addr("control").unwrap();
    (addr, ca, running, dir)
}

/// One FTP reply line (the reference server's replies here are single-line).
async fn ftp_reply<R: tokio::io::AsyncBufRead + Unpin>(r: &mut R) -> String {
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(3), r.read_line(&mut line))
        .await
        .expect("a reply in time")
        .unwrap();
    line
}

/// What a client sees walking RFC 4217 §12.6 with the server: the reply
/// to each step, and the file over the protected data connection (`None`
/// if the data handshake failed).
struct FtpTlsWalk {
    before_auth: Vec<String>,
    first_inside: String,
    after: Vec<String>,
    data: Option<Vec<u8>>,
}

async fn ftp_tls_walk(faults: reference_servers::ftp::Faults) -> FtpTlsWalk {
    // A server that executes the injected SYST answers it first inside
    // TLS; the walk stops there, since every later reply is shifted.
    let stop_after_first = faults.executes_injected;
    let (addr, ca, _r, _d) = ftp_with(faults).await;
    let connector = common::tls_connector(&ca);
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut plain = BufReader::new(TcpStream::connect(addr).await.unwrap());
    let mut before_auth = vec![ftp_reply(&mut plain).await];
    for cmd in ["PBSZ 0", "PROT P", "USER bob"] {
        plain
            .get_mut()
            .write_all(format!("{cmd}\r\n").as_bytes())
            .await
            .unwrap();
        before_auth.push(ftp_reply(&mut plain).await);
    }
    // AUTH TLS and SYST in one segment: SYST was sent in plaintext.
    plain
        .get_mut()
        .write_all(b"AUTH TLS\r\nSYST\r\n")
        .await
        .unwrap();
    before_auth.push(ftp_reply(&mut plain).await);
    let tcp = plain.into_inner();
    let mut tls = BufReader::new(connector.connect(name.clone(), tcp).await.unwrap());
    // The first command inside TLS is PASS: the USER before AUTH is gone.
    tls.get_mut().write_all(b"PASS hungry\r\n").await.unwrap();
    let first_inside = ftp_reply(&mut tls).await;
    let mut after = Vec::new();
    if stop_after_first {
        return FtpTlsWalk {
            before_auth,
            first_inside,
            after,
            data: None,
        };
    }
    for cmd in [
        "USER bob",
        "PASS hungry",
        "PBSZ 0",
        "PROT P",
        "TYPE I",
        "PASV",
    ] {
        tls.get_mut()
            .write_all(format!("{cmd}\r\n").as_bytes())
            .await
            .unwrap();
        after.push(ftp_reply(&mut tls).await);
    }
    let pasv = after.last().unwrap().clone();
    let nums: Vec<u16> = pasv[pasv.find('(').unwrap() + 1..pasv.find(')').unwrap()]
        .split(',')
        .map(|n| n.parse().unwrap())
        .collect();
    let data_tcp = TcpStream::connect(("127.0.0.1", nums[4] << 8 | nums[5]))
        .await
        .unwrap();
    tls.get_mut()
        .write_all(b"RETR binary.bin\r\n")
        .await
        .unwrap();
    after.push(ftp_reply(&mut tls).await);
    let data = match tokio::time::timeout(Duration::from_secs(3), connector.connect(name, data_tcp))
        .await
    {
        Ok(Ok(mut d)) => {
            let mut got = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(3), d.read_to_end(&mut got)).await;
            Some(got)
        }
        _ => None,
    };
    after.push(ftp_reply(&mut tls).await);
    FtpTlsWalk {
        before_auth,
        first_inside,
        after,
        data,
    }
}

fn codes(lines: &[String]) -> Vec<&str> {
    lines.iter().map(|l| l.get(..3).unwrap_or("")).collect()
}

/// RFC 4217 §4.2 (234, then the handshake; the user logs in again), §9
/// (PBSZ before PROT, both after TLS; the data connection in TLS after
/// PROT P) and the plaintext behind AUTH TLS discarded.
#[tokio::test(flavor = "multi_thread")]
async fn the_reference_ftp_server_walks_rfc_4217() {
    let walk = ftp_tls_walk(Default::default()).await;
    assert_eq!(
        codes(&walk.before_auth),
        ["220", "503", "503", "331", "234"],
        "{:?}",
        walk.before_auth
    );
    assert!(
        walk.first_inside.starts_with("503 "),
        "{}",
        walk.first_inside
    );
    // RETR: 125 (the passive connection is already open) or 150.
    let mut got = codes(&walk.after);
    if got.get(6) == Some(&"125") {
        got[6] = "150";
    }
    assert_eq!(
        got,
        ["331", "230", "200", "200", "200", "227", "150", "226"],
        "{:?}",
        walk.after
    );
    assert_eq!(
        walk.data.as_deref(),
        conform::fixtures::ftp::file("binary.bin")
    );
}

/// Each fault shows on the wire where the walk looks for it.
#[tokio::test(flavor = "multi_thread")]
async fn each_ftp_tls_fault_shows_on_the_wire() {
    use reference_servers::ftp::Faults;
    let injected = ftp_tls_walk(Faults {
        executes_injected: true,
        ..Faults::default()
    })
    .await;
    assert!(
        injected.first_inside.starts_with("215 "),
        "{}",
        injected.first_inside
    );
    let kept = ftp_tls_walk(Faults {
        keeps_user_after_auth: true,
        ..Faults::default()
    })
    .await;
    assert!(
        kept.first_inside.starts_with("230 "),
        "{}",
        kept.first_inside
    );
    let clear = ftp_tls_walk(Faults {
        clear_data_after_prot_p: true,
        ..Faults::default()
    })
    .await;
    assert_eq!(clear.data, None);
}

/// [`ftp_with`], and a profile for it (`tls = "starttls"`, trusting the
/// fixture CA).
async fn ftp_suite_with(
    faults: reference_servers::ftp::Faults,
) -> (String, reference_servers::Running, tempfile::TempDir) {
    let (addr, ca, running, dir) = ftp_with(faults).await;
    (starttls_profile("ftp", addr, &ca), running, dir)
}

/// With `[ftp] tls = "starttls"` the whole FTP suite runs inside TLS (AUTH
/// TLS before USER, PROT P for every data connection) and passes; without
/// it the AUTH TLS scenarios skip.
#[tokio::test(flavor = "multi_thread")]
async fn ftp_auth_tls_passes_and_every_transfer_goes_inside_tls() {
    let (profile, _r, _d) = ftp_suite_with(Default::default()).await;
    let run = run_against("ftp", &profile, &["--strict", "--step-timeout", "5s"]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert_has(
        &run,
        &[
            "0 failed, 0 errors",
            "PASS  features/ftp/tls.feature",
            // suppaftp with its own TLS: AUTH TLS, PROT P, TLS data.
            "PASS  features/ftp/client.feature",
        ],
    );
    let plain = profile.replace("tls = \"starttls\"\n", "");
    let run = run_against(
        "ftp",
        &plain,
        &["--tags", "@rfc4217", "--step-timeout", "2s"],
    )
    .await;
    assert_has(&run, &["the target profile does not set [ftp] tls"]);
}

/// Each RFC 4217 fault of the reference server fails (or, for the
/// injection, which RFC 4217 does not rule on, is reported by) the
/// scenario about it.
#[tokio::test(flavor = "multi_thread")]
async fn each_ftp_tls_fault_fails_its_scenario() {
    use reference_servers::ftp::Faults;
    let cases: [(Faults, &[&str]); 5] = [
        (
            Faults {
                executes_injected: true,
                ..Faults::default()
            },
            &[
                "A command pipelined with AUTH TLS is not executed inside TLS",
                "1 info",
            ],
        ),
        (
            Faults {
                keeps_user_after_auth: true,
                ..Faults::default()
            },
            &[
                "FAIL  features/ftp/tls.feature",
                "A USER sent before AUTH TLS does not carry into the TLS session",
                "1 failed",
            ],
        ),
        (
            Faults {
                clear_data_after_prot_p: true,
                ..Faults::default()
            },
            &[
                "After PROT P a file comes over a TLS data connection, byte for byte",
                "After PROT P an active-mode upload is in TLS too",
            ],
        ),
        (
            Faults {
                ignores_pbsz_prot_order: true,
                ..Faults::default()
            },
            &[
                "PBSZ before AUTH TLS is refused",
                "PROT before PBSZ is refused",
                "2 failed",
            ],
        ),
        (
            Faults {
                feat_hides_tls: true,
                ..Faults::default()
            },
            &[
                "FEAT advertises AUTH, PBSZ and PROT",
                "does not list AUTH, PBSZ, PROT",
                "1 failed",
            ],
        ),
    ];
    for (faults, wants) in cases {
        let (profile, _r, _d) = ftp_suite_with(faults).await;
        let run = run_tagged_in("ftp", &profile, "@rfc4217").await;
        assert_eq!(
            run.code,
            if faults.executes_injected { 0 } else { 1 },
            "{faults:?}\n{}",
            run.all()
        );
        assert_has(&run, wants);
    }
}

/// RFC 8314 §3.3 (IMAPS, POP3S): on an implicit-TLS port the greeting
/// comes inside TLS; each suite runs inside it, the upgrade scenarios skip
/// saying why, and a plaintext profile for the port is a configuration
/// error, not failures.
#[tokio::test(flavor = "multi_thread")]
async fn the_imap_and_pop3_suites_run_inside_implicit_tls() {
    for (section, (profile, _r, dir)) in [
        ("imap", imap_server(Default::default(), true, true).await),
        ("pop3", pop3_server(Default::default(), true).await),
    ] {
        assert!(profile.contains("tls = \"implicit\""), "{profile}");
        let run = run_against(section, &profile, &["--step-timeout", "5s"]).await;
        assert_eq!(run.code, 0, "{section}: {}", run.all());
        assert_has(&run, &["0 failed, 0 errors", "there is no upgrade to test"]);
        let plain = profile.replace("tls = \"implicit\"\n", "");
        let run = run_against(section, &plain, &["--step-timeout", "2s"]).await;
        assert_eq!(run.code, 2, "{section}: {}", run.all());
        drop(dir);
    }
}

/// `conform fuzz` secures its sessions as the profile says: against an IMAP
/// server refusing LOGIN before TLS (LOGINDISABLED) the logged-in prefixes
/// hold, which they would not in plaintext; against IMAPS and POP3S the
/// greeting comes inside TLS, and without the profile's TLS the fuzzer
/// cannot reach the target (exit 2).
#[tokio::test(flavor = "multi_thread")]
async fn the_fuzzer_runs_inside_tls_where_the_profile_says() {
    let fuzz = |profile: String, section: &'static str| async move {
        let (_dir, path) = common::profile(&profile);
        let path = path.to_string_lossy().into_owned();
        common::conform(&[
            "fuzz",
            section,
            "--target",
            &path,
            "--duration",
            "2s",
            "--seed",
            "5",
            "--no-save",
            "--quiet",
        ])
        .await
    };
    for (section, (profile, _r, dir)) in [
        ("imap", imap_server(Default::default(), false, true).await),
        ("imap", imap_server(Default::default(), true, true).await),
        ("pop3", pop3_server(Default::default(), true).await),
    ] {
        let run = fuzz(profile.clone(), section).await;
        assert_eq!(run.code, 0, "{section}: {}", run.all());
        assert!(
            run.stdout.contains("no findings"),
            "{section}: {}",
            run.all()
        );
        let plain = profile
            .replace("tls = \"implicit\"\n", "")
            .replace("tls = \"starttls\"\n", "");
        let run = fuzz(plain, section).await;
        assert_ne!(run.code, 0, "{section} without TLS: {}", run.all());
        drop(dir);
    }
}

/// The reference HTTP server over HTTPS (RFC 9110 §4.2.2: TLS from the
/// first byte, ALPN http/1.1) serving the fixture web root, and a profile
/// for it (`tls = "implicit"`, trusting the fixture CA, naming its
/// application resources).
async fn https_server() -> (String, reference_servers::Running, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("www");
    conform::fixtures::http::write_www(&root).unwrap();
    let id = generate(Validity::Current).unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &id.ca_pem).unwrap();
    let mut config = reference_servers::http::Config::new(root);
    config.idle_timeout = Duration::from_secs(3);
    config.tls = Some(
        reference_servers::tls::Identity::from_pem(&id.chain_pem, &id.key_pem, &["http/1.1"])
            .unwrap(),
    );
    let running = reference_servers::http::start([127, 0, 0, 1].into(), 0, config)
        .await
        .unwrap();
    let addr = running.addr("http").unwrap();
    let profile = format!(
        "[http]\naddress = \"{addr}\"\ntls = \"implicit\"\nca_file = \"{}\"\nidle_timeout = \"3s\"\n\
         echo = \"/echo\"\nredirect = \"/redirect\"\nredirect_to = \"{}\"\n\
         cookie_set = \"/cookie/set\"\ncookie_show = \"/cookie/show\"\n",
        ca.display(),
        conform::fixtures::http::REDIRECT_TO
    );
    (profile, running, dir)
}

/// The whole HTTP suite over HTTPS: every scenario's connections, probes
/// and concurrent clients start TLS before their first request. Without
/// TLS in the profile the server's TLS record is no HTTP response: the
/// preflight says so (exit 2); `tls = "starttls"` for HTTP is a
/// configuration error.
#[tokio::test(flavor = "multi_thread")]
async fn the_http_suite_runs_over_https() {
    let (profile, _r, _d) = https_server().await;
    let run = run_against("http", &profile, &["--step-timeout", "5s"]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert_has(&run, &["0 failed, 0 errors"]);
    let plain = profile.replace("tls = \"implicit\"\n", "");
    let run = run_against("http", &plain, &["--step-timeout", "2s"]).await;
    assert_eq!(run.code, 2, "{}", run.all());
    let upgrade = profile.replace("tls = \"implicit\"", "tls = \"starttls\"");
    let run = run_against("http", &upgrade, &["--step-timeout", "2s"]).await;
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("HTTP has no STARTTLS"), "{}", run.all());
}

/// lettre with STARTTLS required stops at a server that offers no
/// STARTTLS, where the profile says it upgrades: lettre never sends the
/// message in plaintext, and the mismatch is the profile's (an error naming
/// the key, not a failure).
#[tokio::test(flavor = "multi_thread")]
async fn lettre_inside_tls_fails_against_a_server_without_starttls() {
    use reference_servers::mailstore::MailStore;
    let dir = tempfile::tempdir().unwrap();
    conform::fixtures::mail::write_maildirs(&dir.path().join("maildir")).unwrap();
    let store = MailStore::open(dir.path().join("maildir")).unwrap();
    let config = reference_servers::smtp::Config::new("mail.example.test", "example.test");
    let running = reference_servers::smtp::start([127, 0, 0, 1].into(), 0, config, store)
        .await
        .unwrap();
    let addr = running.addr("smtp").unwrap();
    let (_identity, ca) = server_identity(&dir, Validity::Current);
    let profile = format!(
        "{}sink = \"sink@example.test\"\n",
        smtp_profile(addr, &format!("ca_file = \"{}\"\n", ca.display()))
    );
    let run = run_tagged_in("smtp", &profile, "@course-S-05").await;
    assert_eq!(run.code, 1, "{}", run.all());
    assert_has(
        &run,
        &[
            "ERROR features/smtp/lettre.feature:13  lettre delivers a message inside TLS",
            "the server's EHLO does not announce STARTTLS",
            "STARTTLS is not supported on this server",
            "PASS  features/smtp/lettre.feature:8  lettre delivers a message",
        ],
    );
}

/// RFC 959 §4.1.3: ABOR during an upload (inside TLS here, data under
/// PROT P) is answered 426, then 226; a server that skips the 426 fails.
#[tokio::test(flavor = "multi_thread")]
async fn abor_during_a_transfer_without_426_fails() {
    let faults = reference_servers::ftp::Faults {
        abor_without_426: true,
        ..Default::default()
    };
    let (profile, _r, _d) = ftp_suite_with(faults).await;
    let run = run_against(
        "ftp",
        &profile,
        &[
            "--strict",
            "--tags",
            "@rfc959-sec-4.1.3",
            "--step-timeout",
            "3s",
        ],
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/ftp/transfers.feature",
            "ABOR during an upload is answered 426, then 226",
            "was answered 226 first, not 426",
        ],
    );
}
