//! The FTP suite end to end: against the bundled server, through
//! `conform serve` with Python's ftplib and curl, and against faulty servers
//! that each break one rule.
//!
//! The faulty servers are small proxies written here: they relay a session to
//! a reference FTP server started in this test process (over sockets only)
//! and break exactly one thing on the way — the port in the PASV reply, the
//! 226 after a transfer, or the refusal of a PORT to a third party.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{
    assert_fails_with, assert_has, bundled_run_passes, conform, pipe, proxy, python_client,
    run_against, serve,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread")]
async fn bundled_server_passes_and_junit_loads() {
    // The AUTH TLS scenarios skip here (the bundled FTP server runs in
    // plaintext, so suppaftp runs); tests/tls.rs runs them with TLS.
    bundled_run_passes(&["ftp"], &["--tags", "not @rfc4217"], 60).await;
}

/// A fresh copy of the fixture tree and a reference server on it.
async fn reference_server() -> (tempfile::TempDir, reference_servers::Running, SocketAddr) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fx");
    let run = conform(&["fixtures", "--out", out.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    let config = reference_servers::ftp::Config::new(out.join("ftp"), "bob", "hungry");
    let running = reference_servers::ftp::start("127.0.0.1".parse().unwrap(), 0, config)
        .await
        .unwrap();
    let addr = running.addr("control").unwrap();
    (dir, running, addr)
}

/// What the proxy breaks.
#[derive(Clone, Copy)]
enum Fault {
    /// The 227 reply names the data port plus one, where nothing listens.
    WrongPasvPort,
    /// The 226 after a transfer never comes.
    Drops226,
    /// PORT/EPRT to any address is accepted with 200 (the proxy answers it
    /// itself and connects there on the next LIST: a bounce).
    AcceptsThirdPartyPort,
    /// Reply lines end in a bare LF.
    BareLf,
    /// The feature lines of FEAT lose their leading space.
    UnindentedFeat,
    /// A wrong password is answered 530 for ever: no limit on attempts.
    NoLoginLimit,
    /// EPRT with an unknown network protocol gets 500 instead of 522.
    Eprt500,
    /// FEAT is answered "211 no-features" though SIZE and MDTM work.
    FeatNoFeatures,
    /// A path climbing above the home reaches a file outside it.
    LeaksOutsideHome,
    /// A transfer without a data connection gets 150 and then nothing.
    Stalls150,
    /// NLST is answered as LIST: `ls -l` lines instead of names.
    NlstAsList,
    /// The 226 that ends a transfer comes as 200 (a code of the right
    /// syntax, but not one RFC 959 §5.4 lists after 150).
    Completes200,
    /// The 226 comes as 286: no reply code (second digit above 5).
    Code286,
    /// TYPE L 8 is refused with 504.
    RefusesTypeL8,
    /// RNFR of a missing file is answered 350.
    Rnfr350,
    /// PWD is answered by the proxy, unseen by the server: an RNFR before
    /// it still holds at the RNTO after it.
    HidesPwd,
    /// EPSV with an unknown network protocol gets 501 instead of 522.
    Epsv501,
    /// EPSV ALL is answered 200 by the proxy and never reaches the server:
    /// PASV, PORT and EPRT still work after it.
    IgnoresEpsvAll,
    /// The 257 reply loses the doubling of the quotes in the path.
    UndoubledQuotes,
    /// RETR, MKD and DELE without an argument get 550, not 501.
    NoArgument550,
    /// A wrong password is answered 530, but the proxy logs in upstream
    /// with the right one.
    LogsInOnWrongPass,
    /// SIZE of hello.txt gives the LF size on disk whatever the TYPE.
    SizeOnDisk,
    /// REST is answered 350 by the proxy and never reaches the server: the
    /// RETR after it sends the whole file.
    IgnoresRest,
    /// STOU's preliminary reply names no file (the 125/150 text replaced).
    StouUnnamed,
}

/// The size of the fixture file hello.txt on disk (LF line endings).
const HELLO_ON_DISK: usize = include_bytes!("../fixtures/ftp/hello.txt").len();

/// A control-connection proxy in front of `upstream` with one `fault`.
async fn faulty_proxy(upstream: SocketAddr, fault: Fault) -> SocketAddr {
    proxy(upstream, move |client, server| relay(client, server, fault)).await
}

async fn relay(client: TcpStream, server: TcpStream, fault: Fault) {
    let (cr, mut cw) = client.into_split();
    let (sr, mut sw) = server.into_split();
    let (to_client_tx, mut to_client_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    let from_server = to_client_tx.clone();
    // A wrong PASS sent upstream as the right one: its 230 goes down as 530.
    let wrong_pass = Arc::new(AtomicBool::new(false));
    let swallow = wrong_pass.clone();
    // server → client, line by line, through the fault
    let down = tokio::spawn(async move {
        let mut lines = BufReader::new(sr);
        let mut line = Vec::new();
        while lines.read_until(b'\n', &mut line).await.unwrap_or(0) > 0 {
            if line.starts_with(b"230") && swallow.swap(false, Ordering::SeqCst) {
                let _ = from_server.send(b"530 Login incorrect.\r\n".to_vec());
            } else if let Some(out) = rewrite_reply(&line, fault) {
                let _ = from_server.send(out);
            }
            line.clear();
        }
    });
    let writer = tokio::spawn(async move {
        while let Some(bytes) = to_client_rx.recv().await {
            if cw.write_all(&bytes).await.is_err() {
                return;
            }
        }
    });
    // client → server, with third-party PORT answered by the proxy itself
    let mut lines = BufReader::new(cr);
    let mut line = Vec::new();
    let mut bounce_to: Option<SocketAddr> = None;
    while lines.read_until(b'\n', &mut line).await.unwrap_or(0) > 0 {
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        let upper = text.to_ascii_uppercase();
        let local: Option<&[u8]> = match fault {
            Fault::NoLoginLimit if upper.starts_with("PASS ") && text != "PASS hungry" => {
                Some(b"530 Login incorrect.\r\n")
            }
            Fault::FeatNoFeatures if upper == "FEAT" => Some(b"211 no-features\r\n"),
            Fault::LeaksOutsideHome if upper.starts_with("SIZE ../") => Some(b"213 2048\r\n"),
            Fault::RefusesTypeL8 if upper == "TYPE L 8" => Some(b"504 Unsupported type.\r\n"),
            Fault::Rnfr350 if upper.starts_with("RNFR CONFORM-NO-SUCH") => {
                Some(b"350 Ready for RNTO.\r\n")
            }
            Fault::HidesPwd if upper == "PWD" => Some(b"257 \"/\" is the current directory\r\n"),
            Fault::Epsv501 if upper == "EPSV 3" => Some(b"501 Unknown network protocol.\r\n"),
            Fault::IgnoresEpsvAll if upper == "EPSV ALL" => Some(b"200 EPSV ALL ok.\r\n"),
            Fault::NoArgument550 if ["RETR", "MKD", "DELE"].contains(&upper.as_str()) => {
                Some(b"550 Failed to open file.\r\n")
            }
            Fault::IgnoresRest if upper.starts_with("REST ") => Some(b"350 Restart ok.\r\n"),
            _ => None,
        };
        if let (Fault::SizeOnDisk, "SIZE HELLO.TXT") = (fault, upper.as_str()) {
            let _ = to_client_tx.send(format!("213 {HELLO_ON_DISK}\r\n").into_bytes());
            line.clear();
            continue;
        }
        if let (Fault::LogsInOnWrongPass, true) = (fault, upper.starts_with("PASS ")) {
            if text != "PASS hungry" {
                wrong_pass.store(true, Ordering::SeqCst);
                line = b"PASS hungry\r\n".to_vec();
            }
        }
        if let (Fault::NlstAsList, true) = (fault, upper.starts_with("NLST")) {
            line = format!("LIST{}\r\n", &text[4..]).into_bytes();
        }
        if let Some(reply) = local {
            let _ = to_client_tx.send(reply.to_vec());
        } else if let (Fault::AcceptsThirdPartyPort, Some(to)) = (fault, third_party(&text)) {
            bounce_to = Some(to);
            let _ = to_client_tx.send(b"200 PORT command successful.\r\n".to_vec());
        } else if let (Some(to), true) = (bounce_to, text.eq_ignore_ascii_case("LIST")) {
            let _ = to_client_tx.send(b"150 Here comes the directory listing.\r\n".to_vec());
            if let Ok(mut s) = TcpStream::connect(to).await {
                let _ = s.write_all(b"bounced\r\n").await;
            }
            let _ = to_client_tx.send(b"226 Directory send OK.\r\n".to_vec());
            bounce_to = None;
        } else if sw.write_all(&line).await.is_err() {
            break;
        }
        line.clear();
    }
    down.abort();
    writer.abort();
}

fn rewrite_reply(line: &[u8], fault: Fault) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(line);
    match fault {
        Fault::Drops226 if text.starts_with("226") => None,
        Fault::Completes200 if text.starts_with("226") => {
            Some(format!("200{}", &text[3..]).into_bytes())
        }
        Fault::Code286 if text.starts_with("226") => {
            Some(format!("286{}", &text[3..]).into_bytes())
        }
        Fault::StouUnnamed if text.get(3..).is_some_and(|t| t.starts_with(" FILE:")) => {
            Some(format!("{} Ok to send data.\r\n", &text[..3]).into_bytes())
        }
        Fault::UndoubledQuotes if text.starts_with("257") => {
            Some(text.replace("\"\"", "\"").into_bytes())
        }
        Fault::Eprt500 if text.starts_with("522") => Some(b"500 Bad EPRT protocol.\r\n".to_vec()),
        Fault::Stalls150 if text.starts_with("425 Use PORT") => {
            Some(b"150 File status okay; about to open data connection.\r\n".to_vec())
        }
        Fault::BareLf => Some(
            text.trim_end_matches(['\r', '\n'])
                .as_bytes()
                .iter()
                .chain(b"\n")
                .copied()
                .collect(),
        ),
        Fault::UnindentedFeat if text.starts_with(' ') && !text.contains("Listing") => {
            Some(line[1..].to_vec())
        }
        Fault::WrongPasvPort if text.starts_with("227") => {
            let open = text.find('(')?;
            let close = text.find(')')?;
            let n: Vec<u16> = text[open + 1..close]
                .split(',')
                .filter_map(|x| x.parse().ok())
                .collect();
            let port = (n[4] << 8 | n[5]).wrapping_add(1);
            Some(
                format!(
                    "227 Entering Passive Mode ({},{},{},{},{},{})\r\n",
                    n[0],
                    n[1],
                    n[2],
                    n[3],
                    port >> 8,
                    port & 0xff
                )
                .into_bytes(),
            )
        }
        _ => Some(line.to_vec()),
    }
}

/// The address of a PORT/EPRT command that is not 127.0.0.1 or names a
/// privileged port.
fn third_party(cmd: &str) -> Option<SocketAddr> {
    let upper = cmd.to_ascii_uppercase();
    let addr: SocketAddr = if let Some(arg) = upper.strip_prefix("PORT ") {
        let n: Vec<u16> = arg
            .split(',')
            .filter_map(|x| x.trim().parse().ok())
            .collect();
        format!("{}.{}.{}.{}:{}", n[0], n[1], n[2], n[3], n[4] << 8 | n[5])
            .parse()
            .ok()?
    } else if let Some(arg) = upper.strip_prefix("EPRT ") {
        let parts: Vec<&str> = arg.split('|').collect();
        format!("{}:{}", parts.get(2)?, parts.get(3)?)
            .parse()
            .ok()?
    } else {
        return None;
    };
    (addr.ip().to_string() != "127.0.0.1" || addr.port() < 1024).then_some(addr)
}

async fn run_with(addr: SocketAddr, extra: &[&str]) -> common::Run {
    let profile = format!("[ftp]\naddress = \"{addr}\"\nuser = \"bob\"\npassword = \"hungry\"\n");
    run_against("ftp", &profile, extra).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_proxy_without_a_fault_passes() {
    // The faulty servers below are this proxy plus one fault; without one the
    // suite passes, so each failure comes from the fault alone.
    let (_dir, _server, upstream) = reference_server().await;
    let addr = proxy(upstream, pipe).await;
    let run = run_with(addr, &[]).await;
    assert_eq!(run.code, 0, "{}", run.all());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pasv_reply_with_the_wrong_port_fails_with_the_transcript() {
    let (_dir, _server, upstream) = reference_server().await;
    let addr = faulty_proxy(upstream, Fault::WrongPasvPort).await;
    let run = run_with(addr, &["--step-timeout", "3s"]).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/ftp/transfers.feature",
            "RETR in passive mode sends the file byte for byte, then 226",
            "step:        And the client enters passive mode",
            "the passive-mode data connection to 127.0.0.1:",
            "the address the server's reply named, failed",
            "expected:    a listening data port at 127.0.0.1:",
            "C: PASV\\r\\n",
            "S: 227 Entering Passive Mode (127,0,0,1,",
            "requirement: MUST",
        ],
    );
    // EPSV is not rewritten: its scenario still passes.
    assert!(
        run.stdout.contains("PASS  features/ftp/epsv-eprt.feature"),
        "{}",
        run.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_drops_the_226_fails_with_the_transcript() {
    let (_dir, _server, upstream) = reference_server().await;
    let addr = faulty_proxy(upstream, Fault::Drops226).await;
    let run = run_with(addr, &["--step-timeout", "1s"]).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/ftp/transfers.feature",
            "step:        And the client sends \"RETR binary.bin\" over the data connection",
            "problem:     the server sent no completion reply within 1s after the transfer of \"RETR binary.bin\"",
            "expected:    the completion reply (226 or 250, RFC 959 §5.4)",
            "got:         nothing on the control connection",
            "S: 125 Data connection already open; transfer starting\\r\\n",
            "ftp data -- connection closed by server",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_accepts_port_to_a_third_party_fails_with_the_transcript() {
    let (_dir, _server, upstream) = reference_server().await;
    let addr = faulty_proxy(upstream, Fault::AcceptsThirdPartyPort).await;
    let run = run_with(addr, &["--tags", "@rfc2577", "--strict"]).await;
    // RFC 2577 §3 suggests refusing privileged ports (a SHOULD here, so a
    // failure with --strict); refusing other hosts has no keyword (@MAY).
    assert_fails_with(
        &run,
        &[
            "FAIL  features/ftp/security.feature:11  PORT to a privileged port is refused",
            "got:         \"200 PORT command successful.\"",
            "INFO  features/ftp/security.feature:21  PORT to another host's address is refused",
            "INFO  features/ftp/security.feature:32  EPRT to another host's address is refused",
            "step:        Then the server refuses the third party's address and never connects to it",
            "the server accepted a data address that is not the client's (the FTP bounce attack, RFC 2577 §3)",
            "expected:    a 4xx or 5xx refusal of \"PORT 127,0,0,2,",
            "got:         \"200 PORT command successful.\"",
            "third party -- listening on 127.0.0.2:",
            "C: PORT 127,0,0,2,",
            "S: 200 PORT command successful.\\r\\n",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bare_lf_replies_and_unindented_feat_lines_fail() {
    let (_dir, _server, upstream) = reference_server().await;
    let addr = faulty_proxy(upstream, Fault::BareLf).await;
    let run = run_with(addr, &["--tags", "@rfc959-sec-4.2 or @rfc3659-sec-4.2"]).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/ftp/session.feature:16  Reply lines end with CRLF",
            "a reply line ends with a bare LF (RFC 959 §4.2",
            "S: 220 conform reference FTP server ready\\n",
        ],
    );
    let addr = faulty_proxy(upstream, Fault::UnindentedFeat).await;
    let run = run_with(addr, &["--tags", "@rfc2389"]).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/ftp/feat.feature:17  Each feature line of the FEAT reply starts with a space",
            "a feature line does not start with a space (RFC 2389 §3.2)",
            "got:         \"EPRT\"",
            "S: 211-Features:\\r\\n",
            "S: EPRT\\r\\n",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_without_a_login_limit_is_judged_after_five_attempts() {
    let (_dir, _server, upstream) = reference_server().await;
    let addr = faulty_proxy(upstream, Fault::NoLoginLimit).await;
    let started = std::time::Instant::now();
    let run = run_with(addr, &["--tags", "@rfc2577-sec-5", "--strict"]).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/ftp/security.feature:38  The server closes the connection after a few failed logins",
            "RFC 2577 §5",
            "got:         5 failed logins, connection still open",
        ],
    );
    assert!(started.elapsed() < Duration::from_secs(20), "{}", run.all());
}

#[tokio::test(flavor = "multi_thread")]
async fn eprt_refused_with_500_instead_of_522_fails() {
    let (_dir, _server, upstream) = reference_server().await;
    let addr = faulty_proxy(upstream, Fault::Eprt500).await;
    let run = run_with(addr, &["--tags", "@rfc2428"]).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/ftp/epsv-eprt.feature:29  EPRT with an unknown network protocol is refused",
            "expected:    522",
            "got:         \"500 Bad EPRT protocol.\"",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn feat_without_features_passes_but_must_list_the_size_it_has() {
    let (_dir, _server, upstream) = reference_server().await;
    let addr = faulty_proxy(upstream, Fault::FeatNoFeatures).await;
    let run = run_with(addr, &["--tags", "@rfc2389 or @rfc3659"]).await;
    // RFC 2389 §3.2 allows "211 no-features"; RFC 3659 §4.4 then forbids
    // answering SIZE.
    assert_fails_with(
        &run,
        &[
            "PASS  features/ftp/feat.feature:11  FEAT is answered with a 211 reply",
            "PASS  features/ftp/feat.feature:17  Each feature line of the FEAT reply starts with a space",
            "FAIL  features/ftp/feat.feature:25  A server that has SIZE lists it in FEAT",
            "the server answers SIZE but its FEAT reply does not list it (RFC 3659)",
            "SKIP  features/ftp/rfc3659.feature",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn confinement_is_checked_only_where_the_profile_declares_it() {
    let (_dir, _server, upstream) = reference_server().await;
    let addr = faulty_proxy(upstream, Fault::LeaksOutsideHome).await;
    let run = run_with(addr, &["--tags", "@rfc2577-sec-4", "--strict"]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert_has(
        &run,
        &[
            "SKIP  features/ftp/security.feature:51  A path that climbs above the home finds nothing outside it",
            "the target profile does not set ftp.confined = true",
        ],
    );
    let profile = format!(
        "[ftp]\naddress = \"{addr}\"\nuser = \"bob\"\npassword = \"hungry\"\nconfined = true\n"
    );
    let run = run_against("ftp", &profile, &["--tags", "@rfc2577-sec-4", "--strict"]).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/ftp/security.feature:51  A path that climbs above the home finds nothing outside it",
            "got:         \"213 2048\"",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_150_without_a_data_connection_or_a_reply_fails() {
    let (_dir, _server, upstream) = reference_server().await;
    let addr = faulty_proxy(upstream, Fault::Stalls150).await;
    let run = run_with(
        addr,
        &[
            "--tags",
            "@rfc959-sec-3.2 or @rfc2389-sec-3.2 or @rfc3659-sec-3.2",
            "--step-timeout",
            "1s",
        ],
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/ftp/transfers.feature:74  A transfer with no data connection set up is refused with 425",
            "after \"150 File status okay; about to open data connection.\" the server sent nothing more",
            "expected:    425 (RFC 959 §5.4)",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn python_ftplib_and_curl_against_conform_serve() {
    let served = serve(&["ftp"]).await;
    let out = python_client(
        "ftp_client.py",
        &[served.profile.as_os_str()],
        Duration::from_secs(120),
    )
    .await;
    let (stdout, stderr) = (&out.stdout, &out.stderr);
    assert!(out.ok, "ftp_client.py failed\n{stdout}\n{stderr}");
    for want in [
        "ftplib passive: ok",
        "ftplib active: ok",
        "curl passive: ok",
        "curl active: ok",
        "home unchanged: ok",
    ] {
        assert!(stdout.contains(want), "{want}\n{stdout}\n{stderr}");
    }
    served.kill().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_nlst_with_ls_lines_or_a_wrong_completion_code_fails() {
    let (_dir, _server, upstream) = reference_server().await;
    let addr = faulty_proxy(upstream, Fault::NlstAsList).await;
    let run = run_with(addr, &["--tags", "@rfc959-sec-4.1.3"]).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/ftp/transfers.feature",
            "NLST lists the names of the directory",
            "the NLST line for \"binary.bin\" carries more than the name: \"-",
            "expected:    a line that is the name \"binary.bin\" alone",
        ],
    );
    // LIST itself is unchanged: its scenarios pass.
    assert!(
        run.stdout.contains("PASS  features/ftp/transfers.feature"),
        "{}",
        run.all()
    );

    let addr = faulty_proxy(upstream, Fault::Completes200).await;
    let run = run_with(addr, &["--tags", "@rfc959-sec-4.1.3"]).await;
    assert_fails_with(
        &run,
        &[
            "the reply that ends the transfer of \"RETR binary.bin\" is 200, which RFC 959 §5.4 does not list after 125/150",
            "expected:    one of 226, 250, 425, 426, 451, 551, 552 (RFC 959 §5.4)",
        ],
    );

    let addr = faulty_proxy(upstream, Fault::Code286).await;
    let run = run_with(addr, &["--tags", "@rfc959-sec-4.1.3"]).await;
    assert_fails_with(
        &run,
        &["RFC 959 §4.2.1: the first digit of a reply code is 1 to 5, the second 0 to 5"],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn type_l_8_and_rename_sequencing_are_judged() {
    let (_dir, _server, upstream) = reference_server().await;
    let tags = [
        "--tags",
        "@rfc1123-sec-4.1.2.1 or @rfc959-sec-5.4",
        "--strict",
    ];
    let addr = faulty_proxy(upstream, Fault::RefusesTypeL8).await;
    let run = run_with(addr, &tags).await;
    assert_fails_with(
        &run,
        &["FAIL  features/ftp/session.feature", "TYPE L 8 is accepted"],
    );
    let addr = faulty_proxy(upstream, Fault::Rnfr350).await;
    let run = run_with(addr, &tags).await;
    assert_fails_with(
        &run,
        &[
            "RNFR of a file that does not exist is refused",
            "expected:    one of 450, 550",
        ],
    );
    let addr = faulty_proxy(upstream, Fault::HidesPwd).await;
    let run = run_with(addr, &tags).await;
    assert_fails_with(
        &run,
        &[
            "RNTO after another command than RNFR is refused",
            "expected:    one of 503, 4xx, 5xx",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn epsv_with_an_unknown_protocol_and_data_commands_after_epsv_all_are_judged() {
    let (_dir, _server, upstream) = reference_server().await;
    let addr = faulty_proxy(upstream, Fault::Epsv501).await;
    let run = run_with(addr, &["--tags", "@rfc2428-sec-3"]).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/ftp/epsv-eprt.feature",
            "EPSV with an unknown network protocol is refused with 522",
            "expected:    522",
            "got:         \"501 Unknown network protocol.\"",
        ],
    );
    let addr = faulty_proxy(upstream, Fault::IgnoresEpsvAll).await;
    let run = run_with(addr, &["--tags", "@rfc2428-sec-3"]).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/ftp/epsv-eprt.feature:54  After EPSV ALL, PASV is refused",
            "FAIL  features/ftp/epsv-eprt.feature:65  After EPSV ALL, PORT is refused",
            "FAIL  features/ftp/epsv-eprt.feature:72  After EPSV ALL, EPRT is refused",
            "PASS  features/ftp/epsv-eprt.feature:79  After EPSV ALL, EPSV still sets up the data connection",
            "expected:    one of 4xx, 5xx",
            "got:         \"227 Entering Passive Mode (127,0,0,1,",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn undoubled_quotes_missing_arguments_and_logins_are_judged() {
    let (_dir, _server, upstream) = reference_server().await;
    let addr = faulty_proxy(upstream, Fault::UndoubledQuotes).await;
    let run = run_with(addr, &["--tags", "@rfc959-sec-7", "--strict"]).await;
    assert_fails_with(
        &run,
        &[
            "MKD of a name with a double quote names it with the quote doubled",
            "the 257 reply does not name the directory created, its quotes doubled",
            "expected:    257 \"/conform\"\"quote\" … (RFC 959 Appendix II)",
            "got:         \"257 \"/conform\"quote\" created\"",
        ],
    );
    let addr = faulty_proxy(upstream, Fault::NoArgument550).await;
    let run = run_with(addr, &["--tags", "@rfc959-sec-5.4", "--strict"]).await;
    for verb in ["RETR", "MKD", "DELE"] {
        assert!(
            run.stdout.lines().any(|l| l.starts_with("FAIL")
                && l.contains(&format!("{verb} without its argument is a syntax error"))),
            "{verb}\n{}",
            run.all()
        );
    }
    assert_fails_with(
        &run,
        &[
            "expected:    one of 501, 500",
            "got:         \"550 Failed to open file.\"",
        ],
    );
    let addr = faulty_proxy(upstream, Fault::LogsInOnWrongPass).await;
    let run = run_with(addr, &["--tags", "@rfc959-sec-5.4"]).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/ftp/session.feature",
            "After a failed PASS the session is not logged in",
            "expected:    530",
            "got:         \"257 \"/\" is the current directory\"",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn size_in_type_a_and_an_ignored_rest_are_judged() {
    let (_dir, _server, upstream) = reference_server().await;
    let addr = faulty_proxy(upstream, Fault::SizeOnDisk).await;
    let run = run_with(addr, &["--tags", "@rfc3659-sec-4"]).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/ftp/rfc3659.feature",
            "SIZE in TYPE A reports the octets a transfer in TYPE A sends",
            "SIZE does not report the number of octets a transfer in the current TYPE sends (RFC 3659 §4)",
            &format!("got:         213 {HELLO_ON_DISK}"),
        ],
    );
    let addr = faulty_proxy(upstream, Fault::IgnoresRest).await;
    let run = run_with(addr, &["--tags", "@rfc3659-sec-5"]).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/ftp/rfc3659.feature",
            "REST then RETR sends the file from the restart point",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stou_without_the_file_name_fails() {
    let (_dir, _server, upstream) = reference_server().await;
    let addr = faulty_proxy(upstream, Fault::StouUnnamed).await;
    let run = run_with(addr, &["--tags", "@rfc1123-sec-4.1.2.9"]).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/ftp/transfers.feature",
            "STOU names the file it stored in its preliminary reply",
            "the preliminary reply to STOU does not name the file (RFC 1123 §4.1.2.9)",
            " Ok to send data.\"",
        ],
    );
}
