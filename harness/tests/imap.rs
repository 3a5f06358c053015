//! The IMAP suite end to end: against the bundled server, through `conform
//! serve` with Python's imaplib, and against faulty servers, each a proxy
//! in front of the reference server that breaks one rule: a tagged
//! completion with the wrong tag, a literal whose length is off by one, and
//! STORE +FLAGS that is answered OK but never done.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::{cases, conform, parse_junit, profile};
use reference_servers::mailstore::{Accounts, MailStore};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;

#[tokio::test(flavor = "multi_thread")]
async fn the_bundled_server_passes_and_junit_loads() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("r.xml");
    let run = conform(&["run", "imap", "--junit", junit.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("0 failed"), "{}", run.all());
    let suites = parse_junit(&junit);
    let all = cases(&suites);
    assert!(
        all.len() >= 70,
        "one testcase per scenario, got {}",
        all.len()
    );
    assert!(all.iter().all(|c| c.status.is_success()));
    // The end-to-end scenario (SMTP delivery) ran too.
    assert!(
        all.iter()
            .any(|c| c.original_name.contains("delivered by SMTP")),
        "the end-to-end scenario ran"
    );
}

/// The reference server on a fresh store holding bob's empty INBOX.
async fn reference_server() -> (SocketAddr, reference_servers::Running, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = MailStore::open(dir.path()).unwrap();
    store.create_user("bob").unwrap();
    let config = reference_servers::imap::Config::new(Accounts::new().with("bob", "hungry"));
    let running = reference_servers::imap::start([127, 0, 0, 1].into(), 0, config, store)
        .await
        .unwrap();
    let addr = running.addr("imap").unwrap();
    (addr, running, dir)
}

#[derive(Clone, Copy)]
enum Fault {
    /// The tagged completion of every command tagged `a1` carries `x1`.
    WrongTag,
    /// Literals in FETCH responses announce one octet more than they hold.
    LiteralOffByOne,
    /// `STORE … +FLAGS …` is answered `OK` and never reaches the server.
    IgnoresStoreFlags,
}

/// A proxy in front of `upstream` that breaks the protocol as `fault` says.
async fn faulty(upstream: SocketAddr, fault: Fault) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = l.accept().await else {
                return;
            };
            let Ok(server) = TcpStream::connect(upstream).await else {
                return;
            };
            tokio::spawn(proxy(client, server, fault));
        }
    });
    addr
}

async fn proxy(client: TcpStream, server: TcpStream, fault: Fault) {
    let (cr, cw) = client.into_split();
    let (sr, mut sw) = server.into_split();
    let cw = Arc::new(Mutex::new(cw));
    // Server to client: response by response (line plus literals).
    let to_client = {
        let cw = cw.clone();
        async move {
            let mut sr = BufReader::new(sr);
            loop {
                let mut line = Vec::new();
                if sr.read_until(b'\n', &mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                let literal = literal_len(&line);
                let mut data = vec![0u8; literal.unwrap_or(0)];
                if literal.is_some() && sr.read_exact(&mut data).await.is_err() {
                    return;
                }
                match fault {
                    Fault::WrongTag if line.starts_with(b"a1 ") => {
                        line.splice(0..2, b"x1".iter().copied());
                    }
                    Fault::LiteralOffByOne if literal.is_some() && line.starts_with(b"* ") => {
                        let n = literal.unwrap_or(0);
                        let at = line.iter().rposition(|c| *c == b'{').unwrap_or(0);
                        line.truncate(at);
                        line.extend_from_slice(format!("{{{}}}\r\n", n + 1).as_bytes());
                    }
                    _ => {}
                }
                line.extend_from_slice(&data);
                if cw.lock().await.write_all(&line).await.is_err() {
                    return;
                }
            }
        }
    };
    // Client to server: line by line; literal data passes as lines too.
    let to_server = async move {
        let mut cr = BufReader::new(cr);
        loop {
            let mut line = Vec::new();
            if cr.read_until(b'\n', &mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let text = String::from_utf8_lossy(&line).to_ascii_uppercase();
            if matches!(fault, Fault::IgnoresStoreFlags)
                && text.contains(" STORE ")
                && text.contains("+FLAGS")
            {
                let tag = text.split(' ').next().unwrap_or("*").to_string();
                let tag = String::from_utf8_lossy(&line[..tag.len()]).into_owned();
                let reply = format!("{tag} OK STORE completed\r\n");
                if cw.lock().await.write_all(reply.as_bytes()).await.is_err() {
                    return;
                }
                continue;
            }
            if sw.write_all(&line).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        _ = to_client => {}
        _ = to_server => {}
    }
}

fn literal_len(line: &[u8]) -> Option<usize> {
    let body = line.strip_suffix(b"}\r\n")?;
    let open = body.iter().rposition(|c| *c == b'{')?;
    std::str::from_utf8(&body[open + 1..]).ok()?.parse().ok()
}

async fn run_against(fault: Fault) -> common::Run {
    let (upstream, _running, _dir) = reference_server().await;
    let addr = faulty(upstream, fault).await;
    let (_pdir, p) = profile(&format!(
        "[imap]\naddress = \"{addr}\"\nuser = \"bob\"\npassword = \"hungry\"\n"
    ));
    conform(&[
        "run",
        "imap",
        "--target",
        p.to_str().unwrap(),
        "--step-timeout",
        "2s",
    ])
    .await
}

fn assert_has(run: &common::Run, wants: &[&str]) {
    assert_eq!(run.code, 1, "{}", run.all());
    for want in wants {
        assert!(
            run.stdout.contains(want),
            "output has {want:?}\n{}",
            run.all()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_completion_with_the_wrong_tag_fails_with_the_transcript() {
    let run = run_against(Fault::WrongTag).await;
    assert_has(
        &run,
        &[
            "FAIL  imap/session.feature",
            "step:        When the client sends \"a1 NOOP\"",
            "the command's tag is \"a1\", but the completion carries \"x1\"",
            "expected:    a IMAP reply to \"a1 NOOP\"",
            "C: a1 NOOP\\r\\n",
            "S: x1 OK NOOP completed\\r\\n",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_literal_length_off_by_one_fails_with_the_transcript() {
    let run = run_against(Fault::LiteralOffByOne).await;
    assert_has(
        &run,
        &[
            "FAIL  imap/messages.feature",
            "FETCH BODY[HEADER] returns only the header, with its blank line",
            "problem:     malformed",
            "S: * 1 FETCH (BODY[HEADER] {184}\\r\\n",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_ignores_store_flags_fails_with_the_transcript() {
    let run = run_against(Fault::IgnoresStoreFlags).await;
    assert_has(
        &run,
        &[
            "FAIL  imap/messages.feature",
            "A flag added by STORE +FLAGS is kept",
            "message 2 lacks the flag \\Flagged on a later FETCH",
            "C: a1 STORE 2 +FLAGS (\\\\Flagged)\\r\\n",
            "S: a1 OK STORE completed\\r\\n",
        ],
    );
}

/// `conform serve imap` as an external target: Python's imaplib logs in,
/// selects, searches, fetches and stores flags (harness/tests/clients).
#[tokio::test(flavor = "multi_thread")]
async fn python_imaplib_against_conform_serve() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.toml");
    let mut serve = tokio::process::Command::new(common::conform_bin())
        .args(["serve", "imap", "--profile-out", p.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if std::fs::read_to_string(&p).is_ok_and(|t| t.contains("password")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/imap_client.py");
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new("python3")
            .arg(&script)
            .arg(&p)
            .output(),
    )
    .await
    .expect("imaplib finished")
    .expect("python3 runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("imaplib client: ok"), "{text}");
    // The run against the same server passes too (external-target path).
    let run = conform(&["run", "imap", "--target", p.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    serve.kill().await.unwrap();
}
