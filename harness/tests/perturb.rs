//! `--perturb`: the shared connection layer really cuts the client's writes
//! into 1-byte segments (split), really joins a step's writes into one
//! (coalesce), and really reads the server's bytes a few at a time
//! (slow-read) — seen from a server that records each read it makes.

mod common;

use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use conform::transcript::Dir;
use conform::transcript::Transcript;
use conform::wire::conn::SLOW_FIRST;
use conform::wire::{Conn, Perturb, Segments, WireError};

const T: Duration = Duration::from_secs(2);

/// A server on a thread of its own that reads until the client closes and
/// returns the size of every read it made (blocking reads: each returns as
/// soon as a segment is there).
fn recording_server() -> (SocketAddr, std::thread::JoinHandle<Vec<Vec<u8>>>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut reads = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return reads,
                Ok(n) => reads.push(buf[..n].to_vec()),
            }
        }
    });
    (addr, h)
}

async fn conn(addr: SocketAddr, p: Perturb) -> (Conn, Arc<AtomicU64>) {
    let paused = Arc::new(AtomicU64::new(0));
    let c = Conn::connect(addr, "t", &Transcript::new(), T)
        .await
        .unwrap()
        .perturbed(p, &paused);
    (c, paused)
}

#[tokio::test]
async fn split_sends_every_byte_on_its_own() {
    let (addr, server) = recording_server();
    let (mut c, paused) = conn(addr, Perturb::Split).await;
    let msg = b"EHLO client.example\r\nMAIL FROM:<a@b.example>\r\n";
    c.send(msg).await.unwrap();
    c.shutdown_write().await.unwrap();
    drop(c);
    let reads = server.join().unwrap();
    assert_eq!(reads.concat(), msg.to_vec(), "the bytes arrive intact");
    // Each byte is its own segment 1 ms after the last; a server read that
    // lags behind may see two, so most (not all) reads are one byte.
    let ones = reads.iter().filter(|r| r.len() == 1).count();
    assert!(
        ones * 4 >= msg.len() * 3,
        "{} of {} bytes arrived alone: {reads:?}",
        ones,
        msg.len()
    );
    let p = paused.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        p >= (msg.len() as u64 - 1) * 1000,
        "the gaps are real and counted: {p} µs"
    );
}

#[tokio::test]
async fn a_long_split_write_is_split_at_both_ends_and_stays_fast() {
    let (addr, server) = recording_server();
    let (mut c, _) = conn(addr, Perturb::Split).await;
    let msg: Vec<u8> = (0..64 * 1024).map(|i| b'a' + (i % 26) as u8).collect();
    let t = Instant::now();
    c.send(&msg).await.unwrap();
    c.shutdown_write().await.unwrap();
    drop(c);
    let reads = server.join().unwrap();
    assert_eq!(reads.concat(), msg);
    assert!(reads.len() > 60, "cut into many segments: {}", reads.len());
    assert_eq!(
        reads.last().map(Vec::len),
        Some(1),
        "the end goes byte by byte"
    );
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}

#[tokio::test]
async fn coalesce_sends_a_steps_writes_in_one_segment() {
    let (addr, server) = recording_server();
    let (mut c, _) = conn(addr, Perturb::Coalesce).await;
    let parts: [&[u8]; 3] = [b"MAIL FROM:<a@b>\r\n", b"RCPT TO:<c@d>\r\n", b"DATA\r\n"];
    for p in parts {
        c.send(p).await.unwrap();
        // Nothing goes out between the writes of a step.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    c.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    c.send(b"QUIT\r\n").await.unwrap();
    c.shutdown_write().await.unwrap();
    drop(c);
    let reads = server.join().unwrap();
    assert_eq!(
        reads,
        vec![parts.concat(), b"QUIT\r\n".to_vec()],
        "one segment per flush"
    );
}

#[tokio::test]
async fn coalesce_flushes_before_it_reads_and_when_dropped() {
    // An echo server: the read after the writes gets them back at once.
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let (mut r, mut w) = s.split();
        let _ = tokio::io::copy(&mut r, &mut w).await;
    });
    let (mut c, _) = conn(addr, Perturb::Coalesce).await;
    c.send(b"one ").await.unwrap();
    c.send(b"two\n").await.unwrap();
    let line = c.read_line(100, "echo").await.unwrap();
    assert_eq!(line.text(), "one two");

    let (addr, server) = recording_server();
    let (mut c, _) = conn(addr, Perturb::Coalesce).await;
    c.send(b"QUIT\r\n").await.unwrap();
    drop(c);
    assert_eq!(server.join().unwrap().concat(), b"QUIT\r\n");
}

#[tokio::test]
async fn explicit_segments_override_the_run() {
    let (addr, server) = recording_server();
    let (mut c, _) = conn(addr, Perturb::Split).await;
    c.send_as(b"NOOP\r\nNOOP\r\n", Segments::OneWrite)
        .await
        .unwrap();
    c.shutdown_write().await.unwrap();
    drop(c);
    assert_eq!(server.join().unwrap(), vec![b"NOOP\r\nNOOP\r\n".to_vec()]);

    let (addr, server) = recording_server();
    let (mut c, _) = conn(addr, Perturb::None).await;
    c.send_as(b"NOOP\r\n", Segments::Bytes).await.unwrap();
    c.shutdown_write().await.unwrap();
    drop(c);
    let reads = server.join().unwrap();
    assert_eq!(reads.concat(), b"NOOP\r\n");
    assert!(reads.len() >= 4, "byte by byte: {reads:?}");
}

#[tokio::test]
async fn slow_read_reads_a_few_bytes_at_a_time_within_the_deadline() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let reply: Vec<u8> = [b"+OK ".to_vec(), vec![b'x'; 32 * 1024], b"\r\n".to_vec()].concat();
    let sent = reply.clone();
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let (mut s, _) = l.accept().await.unwrap();
        s.write_all(&sent).await.unwrap();
        // Then silence, connection open.
        tokio::time::sleep(Duration::from_secs(10)).await;
    });
    let t = Transcript::new();
    let paused = Arc::new(AtomicU64::new(0));
    let mut c = Conn::connect(addr, "t", &t, Duration::from_millis(1500))
        .await
        .unwrap()
        .perturbed(Perturb::SlowRead, &paused);
    let line = c.read_line(64 * 1024, "the reply").await.unwrap();
    assert_eq!(line.bytes.len(), reply.len() - 2);
    let chunks: Vec<usize> = t
        .entries()
        .iter()
        .filter(|e| e.dir == Dir::Server)
        .map(|e| e.text.len())
        .collect();
    assert!(chunks.len() > 10, "many small reads: {chunks:?}");
    assert!(
        chunks[0] <= SLOW_FIRST,
        "the first read is small: {chunks:?}"
    );
    // The deadline counts the whole read, pauses included.
    let start = Instant::now();
    let e = c.read_line(100, "more").await.unwrap_err();
    assert!(matches!(e, WireError::Timeout { .. }), "{e}");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_millis(2500),
        "{took:?}"
    );
}

/// The whole bundled suite of one protocol keeps its verdicts under each
/// perturbation (the CI runs every protocol under all three).
#[tokio::test]
async fn the_bundled_pop3_suite_passes_under_every_perturbation() {
    for p in ["split", "coalesce", "slow-read"] {
        let run = common::conform(&["run", "pop3", "-q", "--perturb", p]).await;
        assert_eq!(run.code, 0, "--perturb {p}: {}", run.all());
        assert!(run.stdout.contains(" 0 failed, 0 errors"), "{}", run.all());
    }
    let run = common::conform(&["run", "pop3", "--perturb", "sideways"]).await;
    assert_eq!(run.code, 2, "{}", run.all());
}

/// A proxy that gives the server one command per client read, the classic
/// `cmd = recv(); handle(cmd)` bug: the first line of each read, or the
/// whole read with CRLF added when it has no line end; the rest is lost.
/// For HTTP (`http`), a read is a whole request: the empty line is added
/// when it has none.
async fn one_read_one_command(upstream: SocketAddr, http: bool) -> SocketAddr {
    // Threads with blocking reads, not tasks: each read returns as soon as
    // a segment is there, however loaded the test's runtime is.
    use std::io::Write;
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for client in l.incoming() {
            let Ok(mut client) = client else { return };
            let Ok(mut server) = std::net::TcpStream::connect(upstream) else {
                continue;
            };
            let (Ok(mut down_from), Ok(mut down_to)) = (server.try_clone(), client.try_clone())
            else {
                continue;
            };
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut down_from, &mut down_to);
                let _ = down_to.shutdown(std::net::Shutdown::Both);
            });
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                while let Ok(n) = client.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let chunk = &buf[..n];
                    let cmd = match chunk.iter().position(|b| *b == b'\n') {
                        _ if http && chunk.ends_with(b"\r\n\r\n") => chunk.to_vec(),
                        _ if http => [chunk, b"\r\n\r\n"].concat(),
                        Some(i) => chunk[..=i].to_vec(),
                        None => [chunk, b"\r\n"].concat(),
                    };
                    if server.write_all(&cmd).is_err() {
                        break;
                    }
                }
                let _ = server.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    addr
}

/// The reference IMAP server without TLS, on a fresh store holding the
/// fixture user's INBOX, with the fixture's spare user too (the served
/// profile names it).
async fn plain_imap() -> (SocketAddr, reference_servers::Running, tempfile::TempDir) {
    use conform::fixtures::mail::{PASSWORD, SPARE_PASSWORD, SPARE_USER, USER};
    use reference_servers::mailstore::{Accounts, MailStore};
    let dir = tempfile::tempdir().unwrap();
    let store = MailStore::open(dir.path()).unwrap();
    store.create_user(USER).unwrap();
    let config = reference_servers::imap::Config::new(
        Accounts::new()
            .with(USER, PASSWORD)
            .with(SPARE_USER, SPARE_PASSWORD),
    );
    let running = reference_servers::imap::start([127, 0, 0, 1].into(), 0, config, store)
        .await
        .unwrap();
    let addr = running.addr("imap").unwrap();
    (addr, running, dir)
}

/// The explicit steps and `--perturb split` catch a server that takes one
/// read for one command, in every line protocol and HTTP; the same
/// scenarios pass in front of the bundled servers (the bundled suite).
#[tokio::test]
async fn a_server_that_takes_one_read_for_one_command_fails_the_segmentation_scenarios() {
    let served = common::serve(&["smtp", "ftp", "pop3", "imap", "http"]).await;
    let text = std::fs::read_to_string(&served.profile).unwrap();
    for (section, failing) in [
        (
            "smtp",
            vec![
                "NOOP sent byte by byte is answered with 250",
                "Pipelined MAIL, RCPT and DATA are answered in order",
            ],
        ),
        ("ftp", vec!["NOOP sent byte by byte is answered with 200"]),
        ("pop3", vec!["NOOP sent byte by byte is answered with +OK"]),
        (
            "imap",
            vec![
                "NOOP sent byte by byte succeeds",
                "Commands sent in one write are answered each with its own tag",
            ],
        ),
        (
            "http",
            vec!["A request sent byte by byte gets a well-formed 200"],
        ),
    ] {
        // The proxy cuts the byte stream at line ends, which a TLS session
        // does not survive: the mail sections are tested in plaintext, IMAP
        // against a reference server without TLS (the served one refuses
        // LOGIN before STARTTLS, RFC 9051 §6.2.3).
        let (addr, _plain) = match section {
            "imap" => {
                let (addr, running, dir) = plain_imap().await;
                (addr, Some((running, dir)))
            }
            _ => (section_addr(&text, section), None),
        };
        let faulty = one_read_one_command(addr, section == "http").await;
        let profile =
            common::reroute(&served, section, faulty, "").replace("tls = \"starttls\"\n", "");
        let (_dir, path) = common::profile(&profile);
        let p = path.to_str().unwrap();
        let run = common::conform(&["run", section, "--target", p, "--tags", "@course-T-08"]).await;
        assert_eq!(run.code, 1, "{section}: {}", run.all());
        for name in failing {
            assert!(
                run.stdout
                    .lines()
                    .any(|l| l.starts_with("FAIL") && l.contains(name)),
                "{section}: \"{name}\" fails: {}",
                run.all()
            );
        }
    }
    // Under --perturb split an ordinary scenario catches it too.
    let addr = section_addr(&text, "smtp");
    let faulty = one_read_one_command(addr, false).await;
    let profile = common::reroute(&served, "smtp", faulty, "");
    let (_dir, path) = common::profile(&profile);
    let p = path.to_str().unwrap();
    let tags = "@rfc5321-sec-4.1.1.9 and not @course-T-08 and @MUST";
    let plain = common::conform(&["run", "smtp", "--target", p, "--tags", tags]).await;
    assert_eq!(plain.code, 0, "{}", plain.all());
    let split = common::conform(&[
        "run",
        "smtp",
        "--target",
        p,
        "--tags",
        tags,
        "--perturb",
        "split",
    ])
    .await;
    assert_eq!(split.code, 1, "{}", split.all());
    assert!(split.stdout.contains("FAIL"), "{}", split.all());
    served.kill().await;
}

fn section_addr(profile: &str, section: &str) -> SocketAddr {
    let mut current = "";
    for line in profile.lines() {
        if line.starts_with('[') {
            current = line.trim_matches(['[', ']']);
        } else if current == section && line.starts_with("address") {
            let v = line.split('"').nth(1).unwrap();
            return v.parse().unwrap();
        }
    }
    panic!("no [{section}] address in {profile}");
}
