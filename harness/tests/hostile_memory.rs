//! Whole `conform run`s against servers (and clients under test) that
//! flood: each stays under its memory bound (200 MB resident at the default
//! concurrency), ends within a bounded time, and fails its scenarios with a
//! clear message. The bound is measured on the binary itself (VmHWM, its
//! peak resident set, read from /proc while it runs).
//!
//! Each hostile server answers what the preflight asks properly and floods
//! where a reader keeps the most: endless continuation lines (SMTP, FTP),
//! endless untagged responses (IMAP), a multi-line answer that never ends
//! (POP3), a body delimited by a close that never comes (HTTP), an endless
//! data connection (FTP), endless length-prefixed messages (DNS over TCP),
//! endless bytes (sockets) and clients under test that never stop sending.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

const LIMIT_KB: u64 = 200 * 1024;

/// How long a flood goes on at most (the run ends long before).
const FLOOD_FOR: Duration = Duration::from_secs(170);

/// Writes `prefix`, then `chunk` again and again until the reader goes
/// away or [`FLOOD_FOR`] has passed.
async fn flood<W: AsyncWriteExt + Unpin>(w: &mut W, prefix: &[u8], chunk: &[u8]) {
    if w.write_all(prefix).await.is_err() {
        return;
    }
    let until = Instant::now() + FLOOD_FOR;
    while Instant::now() < until {
        if w.write_all(chunk).await.is_err() {
            return;
        }
    }
}

/// `n` copies of `line` (CRLF added) in one buffer.
fn lines(line: &str, n: usize) -> Vec<u8> {
    format!("{line}\r\n").repeat(n).into_bytes()
}

#[derive(Clone, Copy)]
enum Flood {
    /// Bytes without a newline, forever.
    NoNewline,
    /// `250-` continuation lines, forever: a reply that never ends.
    Continuation,
}

/// What a scripted line server does with one command.
enum Answer {
    /// Sends the reply and reads the next command.
    Reply(String),
    /// Sends the reply and closes.
    Close(String),
    /// Sends the prefix, then floods with the chunk.
    Flood(String, Vec<u8>),
    /// FTP PASV (false) or EPSV (true): a data listener that floods
    /// whoever connects, its address in the reply.
    Passive(bool),
}

/// A line-protocol server: sends `greeting`, then answers each command line
/// as `answer` says (on the connection's `n`-th command line).
async fn line_server(greeting: &'static str, answer: fn(&str) -> Answer) -> SocketAddr {
    common::tcp_server(move |s| async move {
        let (r, mut w) = s.into_split();
        let mut r = BufReader::new(r.take(1 << 20));
        if w.write_all(greeting.as_bytes()).await.is_err() {
            return;
        }
        let mut line = String::new();
        while r.read_line(&mut line).await.unwrap_or(0) > 0 {
            match answer(line.trim_end()) {
                Answer::Reply(reply) => {
                    if w.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
                Answer::Close(reply) => {
                    let _ = w.write_all(reply.as_bytes()).await;
                    return;
                }
                Answer::Flood(prefix, chunk) => {
                    flood(&mut w, prefix.as_bytes(), &chunk).await;
                    return;
                }
                Answer::Passive(extended) => {
                    let Ok(l) = TcpListener::bind("127.0.0.1:0").await else {
                        return;
                    };
                    let Ok(port) = l.local_addr().map(|a| a.port()) else {
                        return;
                    };
                    tokio::spawn(async move {
                        if let Ok(Ok((mut s, _))) =
                            tokio::time::timeout(Duration::from_secs(10), l.accept()).await
                        {
                            flood(&mut s, b"", &lines(&"d".repeat(1000), 64)).await;
                        }
                    });
                    let reply = if extended {
                        format!("229 Entering Extended Passive Mode (|||{port}|)\r\n")
                    } else {
                        format!(
                            "227 Entering Passive Mode (127,0,0,1,{},{})\r\n",
                            port >> 8,
                            port & 0xff
                        )
                    };
                    if w.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            }
            line.clear();
        }
    })
    .await
}

/// An SMTP server that answers the preflight's first two connections
/// properly and floods every later one.
async fn flooding_smtp(flood_kind: Flood) -> SocketAddr {
    let n = Arc::new(AtomicUsize::new(0));
    common::tcp_server(move |s| {
        let n = n.clone();
        async move {
            if n.fetch_add(1, Ordering::SeqCst) < 2 {
                well_behaved_smtp(s).await;
            } else {
                flooding_smtp_session(s, flood_kind).await;
            }
        }
    })
    .await
}

async fn well_behaved_smtp(s: TcpStream) {
    let (r, mut w) = s.into_split();
    let mut r = BufReader::new(r);
    if w.write_all(b"220 ok\r\n").await.is_err() {
        return;
    }
    let mut line = String::new();
    while r.read_line(&mut line).await.unwrap_or(0) > 0 {
        let quit = line.to_ascii_uppercase().starts_with("QUIT");
        let reply: &[u8] = if quit { b"221 bye\r\n" } else { b"250 ok\r\n" };
        if w.write_all(reply).await.is_err() || quit {
            return;
        }
        line.clear();
    }
}

async fn flooding_smtp_session(mut s: TcpStream, kind: Flood) {
    match kind {
        Flood::NoNewline => flood(&mut s, b"", &vec![b'a'; 64 * 1024]).await,
        Flood::Continuation => {
            flood(
                &mut s,
                b"220 ok\r\n",
                &lines("250-a continuation line that never ends the reply", 1000),
            )
            .await
        }
    }
}

/// POP3: the preflight's USER, PASS and QUIT are answered; every other
/// command gets `+OK` and data lines without the terminating ".".
fn pop3_answer(cmd: &str) -> Answer {
    let verb = cmd.split(' ').next().unwrap_or("").to_ascii_uppercase();
    match verb.as_str() {
        "USER" | "PASS" => Answer::Reply("+OK\r\n".into()),
        "QUIT" => Answer::Close("+OK bye\r\n".into()),
        _ => Answer::Flood("+OK here it comes\r\n".into(), lines(&"p".repeat(8000), 8)),
    }
}

/// IMAP: LOGIN and LOGOUT are answered; every other command gets untagged
/// responses that never reach the tagged completion.
fn imap_answer(cmd: &str) -> Answer {
    let mut words = cmd.split(' ');
    let tag = words.next().unwrap_or("*");
    let verb = words.next().unwrap_or("").to_ascii_uppercase();
    match verb.as_str() {
        // What the preflight asks is answered.
        "CAPABILITY" => Answer::Reply(format!("* CAPABILITY IMAP4rev1\r\n{tag} OK done\r\n")),
        "LOGIN" => Answer::Reply(format!("{tag} OK logged in\r\n")),
        "LOGOUT" => Answer::Close(format!("* BYE\r\n{tag} OK bye\r\n")),
        _ => Answer::Flood(
            String::new(),
            lines(&format!("* OK {}", "i".repeat(4000)), 16),
        ),
    }
}

/// FTP: what the preflight asks is answered; PASV and EPSV open a data
/// listener that floods; a transfer gets 150 and never its 226; every other
/// command a multi-line reply that never ends.
fn ftp_answer(cmd: &str) -> Answer {
    let verb = cmd.split(' ').next().unwrap_or("").to_ascii_uppercase();
    match verb.as_str() {
        "USER" => Answer::Reply("331 password\r\n".into()),
        "PASS" => Answer::Reply("230 in\r\n".into()),
        "TYPE" => Answer::Reply("200 ok\r\n".into()),
        "SIZE" => Answer::Reply("213 11\r\n".into()),
        "MDTM" => Answer::Reply("213 20260101000000\r\n".into()),
        "CWD" => Answer::Reply("250 ok\r\n".into()),
        "QUIT" => Answer::Close("221 bye\r\n".into()),
        "PASV" => Answer::Passive(false),
        "EPSV" => Answer::Passive(true),
        "LIST" | "NLST" | "RETR" | "MLSD" | "STOR" => Answer::Reply("150 here it comes\r\n".into()),
        _ => Answer::Flood(
            "214-this reply never ends\r\n".into(),
            lines(&format!("214-{}", "f".repeat(7000)), 8),
        ),
    }
}

/// HTTP: GET / is answered with the fixture index.html (the preflight);
/// every other request with a 200 whose body, delimited by the close,
/// never ends.
async fn flooding_http() -> SocketAddr {
    let index = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/www/index.html"),
    )
    .expect("fixture index.html");
    let index = Arc::new(index);
    common::tcp_server(move |s| {
        let index = index.clone();
        async move {
            let (r, mut w) = s.into_split();
            let mut r = BufReader::new(r.take(1 << 20));
            let mut first = String::new();
            if r.read_line(&mut first).await.unwrap_or(0) == 0 {
                return;
            }
            let mut line = String::new();
            while r.read_line(&mut line).await.unwrap_or(0) > 2 {
                line.clear();
            }
            if first.starts_with("GET / ") {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    index.len()
                );
                let _ = w.write_all(head.as_bytes()).await;
                let _ = w.write_all(&index).await;
                return;
            }
            flood(
                &mut w,
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n",
                &lines(&"h".repeat(1000), 64),
            )
            .await;
        }
    })
    .await
}

/// DNS: UDP is relayed to the bundled server (the preflight's SOA query);
/// over TCP every connection gets endless 65535-byte messages.
async fn flooding_dns(upstream: SocketAddr) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("local address");
    let udp = Arc::new(UdpSocket::bind(addr).await.expect("udp on the same port"));
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65536];
        while let Ok((n, from)) = udp.recv_from(&mut buf).await {
            let query = buf[..n].to_vec();
            let udp = udp.clone();
            tokio::spawn(async move {
                let Ok(up) = UdpSocket::bind("127.0.0.1:0").await else {
                    return;
                };
                if up.send_to(&query, upstream).await.is_err() {
                    return;
                }
                let mut answer = vec![0u8; 65536];
                if let Ok(Ok(n)) =
                    tokio::time::timeout(Duration::from_secs(5), up.recv(&mut answer)).await
                {
                    let _ = udp.send_to(&answer[..n], from).await;
                }
            });
        }
    });
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut message = vec![0xffu8, 0xff];
                message.extend(std::iter::repeat_n(0x2a, 0xffff));
                flood(&mut s, b"", &message.repeat(4)).await;
            });
        }
    });
    addr
}

/// Sockets: over TCP endless bytes to every connection (after the
/// preflight's first); over UDP a burst of large datagrams for each one.
async fn flooding_sockets() -> (SocketAddr, SocketAddr) {
    let n = Arc::new(AtomicUsize::new(0));
    let tcp = common::tcp_server(move |mut s| {
        let n = n.clone();
        async move {
            if n.fetch_add(1, Ordering::SeqCst) == 0 {
                return;
            }
            flood(&mut s, b"", &vec![b'S'; 64 * 1024]).await;
        }
    })
    .await;
    let udp = UdpSocket::bind("127.0.0.1:0").await.expect("bind udp");
    let udp_addr = udp.local_addr().expect("udp address");
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65536];
        let burst = vec![b'U'; 60_000];
        while let Ok((_, from)) = udp.recv_from(&mut buf).await {
            for _ in 0..200 {
                if udp.send_to(&burst, from).await.is_err() {
                    break;
                }
            }
        }
    });
    (tcp, udp_addr)
}

/// Peak resident set of a running process, in kB.
fn peak_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Runs `conform run PROTOCOLS --target PROFILE` and measures its peak
/// resident set while it runs.
async fn run_measured(protocols: &[&str], profile: &str) -> (i32, String, u64, Duration) {
    let (_dir, path) = common::profile(profile);
    let started = Instant::now();
    let mut child = tokio::process::Command::new(common::conform_bin())
        .arg("run")
        .args(protocols)
        .args(["--quiet", "--target"])
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("conform started");
    let pid = child.id().expect("pid");
    let mut out = child.stdout.take().expect("stdout");
    let reader = tokio::spawn(async move {
        let mut text = Vec::new();
        let _ = out.read_to_end(&mut text).await;
        String::from_utf8_lossy(&text).into_owned()
    });
    let mut peak = 0;
    let status = loop {
        if let Some(kb) = peak_kb(pid) {
            peak = peak.max(kb);
        }
        match tokio::time::timeout(Duration::from_millis(50), child.wait()).await {
            Ok(s) => break s.expect("exit status"),
            Err(_) => assert!(
                started.elapsed() < Duration::from_secs(200),
                "the run ended within 200 s"
            ),
        }
    };
    let text = reader.await.expect("stdout read");
    (status.code().unwrap_or(-1), text, peak, started.elapsed())
}

/// The run exits 1 (failures, not a configuration problem), under the
/// memory bound, within `within`, and its output names what happened
/// (one of `says`).
async fn check(what: &str, protocols: &[&str], profile: &str, within: Duration, says: &[&str]) {
    let (code, out, peak, took) = run_measured(protocols, profile).await;
    eprintln!("{what}: exit {code}, peak {peak} kB in {took:?}");
    assert_eq!(code, 1, "{what}: exit 1\n{out}");
    assert!(
        peak > 0 && peak < LIMIT_KB,
        "{what}: peak resident {peak} kB, bound {LIMIT_KB} kB\n{out}"
    );
    assert!(took < within, "{what}: took {took:?}\n{out}");
    assert!(
        says.iter().any(|s| out.contains(s)),
        "{what}: says one of {says:?}\n{out}"
    );
}

fn smtp_profile(addr: SocketAddr) -> String {
    format!("[smtp]\naddress = \"{addr}\"\ndomain = \"example.test\"\nrecipient = \"bob@example.test\"\n")
}

const SAYS: &[&str] = &["exceeded", "did not complete", "memory bound"];

#[tokio::test]
async fn an_smtp_server_streaming_bytes_without_a_newline_stays_under_the_bound() {
    let addr = flooding_smtp(Flood::NoNewline).await;
    let p = smtp_profile(addr);
    check(
        "smtp no newline",
        &["smtp"],
        &p,
        Duration::from_secs(170),
        SAYS,
    )
    .await;
}

#[tokio::test]
async fn an_smtp_server_streaming_endless_continuation_lines_stays_under_the_bound() {
    let addr = flooding_smtp(Flood::Continuation).await;
    let p = smtp_profile(addr);
    check(
        "smtp endless 250-",
        &["smtp"],
        &p,
        Duration::from_secs(170),
        SAYS,
    )
    .await;
}

#[tokio::test]
async fn a_pop3_server_whose_multi_line_answers_never_end_stays_under_the_bound() {
    let addr = line_server("+OK ready\r\n", pop3_answer).await;
    let p = format!("[pop3]\naddress = \"{addr}\"\nuser = \"bob\"\npassword = \"hungry\"\n");
    check(
        "pop3 endless data",
        &["pop3"],
        &p,
        Duration::from_secs(170),
        SAYS,
    )
    .await;
}

#[tokio::test]
async fn an_imap_server_sending_endless_untagged_responses_stays_under_the_bound() {
    let addr = line_server("* OK ready\r\n", imap_answer).await;
    let p = format!("[imap]\naddress = \"{addr}\"\nuser = \"bob\"\npassword = \"hungry\"\n");
    check(
        "imap endless untagged",
        &["imap"],
        &p,
        Duration::from_secs(170),
        SAYS,
    )
    .await;
}

#[tokio::test]
async fn an_ftp_server_flooding_control_and_data_connections_stays_under_the_bound() {
    let addr = line_server("220 ready\r\n", ftp_answer).await;
    let p = format!("[ftp]\naddress = \"{addr}\"\nuser = \"bob\"\npassword = \"hungry\"\n");
    check(
        "ftp endless replies and data",
        &["ftp"],
        &p,
        Duration::from_secs(170),
        SAYS,
    )
    .await;
}

#[tokio::test]
async fn an_http_server_sending_an_endless_body_stays_under_the_bound() {
    let addr = flooding_http().await;
    let p = format!("[http]\naddress = \"{addr}\"\n");
    check(
        "http endless body",
        &["http"],
        &p,
        Duration::from_secs(170),
        SAYS,
    )
    .await;
}

#[tokio::test]
async fn a_dns_server_flooding_tcp_stays_under_the_bound() {
    let served = common::serve(&["dns"]).await;
    let addr = flooding_dns(served.addr()).await;
    let p = common::reroute(&served, "dns", addr, "");
    check(
        "dns tcp flood",
        &["dns"],
        &p,
        Duration::from_secs(170),
        &["FAIL"],
    )
    .await;
    served.kill().await;
}

#[tokio::test]
async fn a_sockets_server_flooding_stays_under_the_bound() {
    let (tcp, udp) = flooding_sockets().await;
    let p = format!("[sockets]\ntcp = \"{tcp}\"\nudp = \"{udp}\"\n");
    check(
        "sockets flood",
        &["sockets"],
        &p,
        Duration::from_secs(170),
        SAYS,
    )
    .await;
}

/// A client under test that connects and sends without end, then (when the
/// peer stops reading) prints without end.
const FLOOD_CLIENT: &str = r#"
import socket, sys
how, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
chunk = b"c" * 65536
try:
    if how == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        while True:
            s.sendto(chunk[:60000], (host, port))
    else:
        s = socket.create_connection((host, port))
        while True:
            s.sendall(chunk)
except OSError:
    pass
while True:
    sys.stdout.write("o" * 65536)
"#;

#[tokio::test]
async fn clients_under_test_that_flood_the_peers_stay_under_the_bound() {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("flood.py");
    std::fs::write(&script, FLOOD_CLIENT).expect("write the client");
    let s = script.display();
    let p = format!(
        "[sockets-client]\ntcp = \"python3 {s} tcp {{host}} {{port}}\"\nudp = \"python3 {s} udp {{host}} {{port}}\"\n\
         [smtp-client]\ncommand = \"python3 {s} tcp {{host}} {{port}}\"\n\
         [http-client]\ncommand = \"python3 {s} tcp {{host}} {{port}}\"\n"
    );
    check(
        "flooding clients",
        &["sockets-client", "smtp-client", "http-client"],
        &p,
        Duration::from_secs(170),
        &["FAIL"],
    )
    .await;
}
