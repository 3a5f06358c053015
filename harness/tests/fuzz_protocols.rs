//! `conform fuzz` for the protocols beyond sockets: every bundled server
//! survives a short run, and a deliberately faulty HTTP and DNS server are
//! each found by the oracle they break, with a minimized reproducer.

mod common;

use std::time::Duration;

use common::{conform, profile};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

#[tokio::test(flavor = "multi_thread")]
async fn every_bundled_server_survives_a_short_fuzz_run() {
    for p in ["http", "smtp", "pop3", "imap", "ftp", "dns"] {
        let run = conform(&[
            "fuzz",
            p,
            "--duration",
            "2s",
            "--seed",
            "5",
            "--no-save",
            "--quiet",
        ])
        .await;
        assert_eq!(run.code, 0, "{p}: {}", run.all());
        assert!(run.stdout.contains("no findings"), "{p}: {}", run.all());
    }
}

/// An HTTP server that answers every request with 200, whatever it is.
async fn yes_server() -> std::net::SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut seen = Vec::new();
                loop {
                    let n = match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    seen.extend_from_slice(&buf[..n]);
                    while let Some(i) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        seen.drain(..i + 4);
                        let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                        if s.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread")]
async fn an_http_server_that_accepts_anything_is_found() {
    let addr = yes_server().await;
    let (dir, p) = profile(&format!("[http]\naddress = \"{addr}\"\n"));
    let run = conform(&[
        "fuzz",
        "http",
        "--target",
        p.to_str().unwrap(),
        "--cases",
        "2000",
        "--seed",
        "1",
        "--reply-timeout",
        "500ms",
        "--corpus",
        dir.path().to_str().unwrap(),
    ])
    .await;
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stdout.contains("[acceptable-class]"), "{}", run.all());
    assert!(run.stdout.contains("MUST 400"), "{}", run.all());
    let case = std::fs::read_dir(dir.path().join("http/regressions"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "case"))
        .expect("a regression case file");
    let replay = conform(&[
        "fuzz",
        "--replay",
        case.to_str().unwrap(),
        "--target",
        p.to_str().unwrap(),
    ])
    .await;
    assert_eq!(replay.code, 1, "{}", replay.all());
    let bundled = conform(&["fuzz", "--replay", case.to_str().unwrap()]).await;
    assert_eq!(
        bundled.code,
        0,
        "the bundled server rejects it: {}",
        bundled.all()
    );
}

/// A DNS server that answers queries well (NOERROR, the question echoed,
/// no records) but stops answering for good, as if it crashed, after a
/// query whose question holds a compression pointer.
async fn dns_dies_on_pointers() -> std::net::SocketAddr {
    let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = s.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        while let Ok((n, from)) = s.recv_from(&mut buf).await {
            let q = &buf[..n];
            if n < 12 {
                continue;
            }
            // Walk the question name; a pointer there "crashes" the server.
            let mut at = 12;
            let mut ok = true;
            while let Some(&l) = q.get(at) {
                if l == 0 {
                    break;
                }
                if l & 0xc0 != 0 {
                    return; // the server is gone
                }
                at += 1 + usize::from(l);
            }
            let end = (at + 5).min(n);
            if at >= n {
                ok = false;
            }
            let mut r = q[..if ok { end } else { 12 }].to_vec();
            r[2] |= 0x80;
            r[3] = if ok { 0 } else { 1 };
            for b in &mut r[6..12] {
                *b = 0;
            }
            if !ok {
                r[4] = 0;
                r[5] = 0;
            }
            let _ = s.send_to(&r, from).await;
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dns_server_that_dies_on_a_compression_pointer_is_found() {
    let addr = dns_dies_on_pointers().await;
    let (dir, p) = profile(&format!(
        "[dns]\naddress = \"{addr}\"\nzone = \"example.test\"\n"
    ));
    let started = std::time::Instant::now();
    let run = conform(&[
        "fuzz",
        "dns",
        "--target",
        p.to_str().unwrap(),
        "--cases",
        "5000",
        "--seed",
        "1",
        "--reply-timeout",
        "300ms",
        "--corpus",
        dir.path().to_str().unwrap(),
    ])
    .await;
    eprintln!("{}", run.stdout);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stdout.contains("FINDING"), "{}", run.all());
    assert!(started.elapsed() < Duration::from_secs(60), "{}", run.all());
    // The target never comes back, so the finding is the last case sent.
    assert!(
        run.stdout.contains("\\xc0"),
        "the reproducer holds the pointer: {}",
        run.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_known_findings_file_is_a_setup_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let known = dir.path().join("known.toml");
    std::fs::write(
        &known,
        "[[known]]\noracle = \"crashes\"\nmessage = \"x\"\nreason = \"r\"\n",
    )
    .unwrap();
    let run = conform(&[
        "fuzz",
        "smtp",
        "--cases",
        "1",
        "--known",
        known.to_str().unwrap(),
        "--quiet",
    ])
    .await;
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.all().contains("known[0].oracle"), "{}", run.all());
}
