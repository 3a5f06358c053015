//! A whole `conform run` against a server that floods: it stays under its
//! memory bound (200 MB resident at the default concurrency), ends within
//! a bounded time, and fails each scenario with a clear message. The bound
//! is measured on the binary itself (VmHWM, its peak resident set, read
//! from /proc while it runs).

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const LIMIT_KB: u64 = 200 * 1024;

#[derive(Clone, Copy)]
enum Flood {
    /// Bytes without a newline, forever.
    NoNewline,
    /// `250-` continuation lines, forever: a reply that never ends.
    Continuation,
}

/// An SMTP server that answers the preflight's first two connections
/// properly and floods every later one.
async fn flooding_smtp(flood: Flood) -> SocketAddr {
    let n = Arc::new(AtomicUsize::new(0));
    common::tcp_server(move |s| {
        let n = n.clone();
        async move {
            if n.fetch_add(1, Ordering::SeqCst) < 2 {
                well_behaved(s).await;
            } else {
                flooding(s, flood).await;
            }
        }
    })
    .await
}

async fn well_behaved(s: TcpStream) {
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

async fn flooding(mut s: TcpStream, flood: Flood) {
    let chunk: Vec<u8> = match flood {
        Flood::NoNewline => vec![b'a'; 64 * 1024],
        Flood::Continuation => {
            b"250-a continuation line that never ends the reply\r\n".repeat(1000)
        }
    };
    if let Flood::Continuation = flood {
        let _ = s.write_all(b"220 ok\r\n").await;
    }
    let until = Instant::now() + Duration::from_secs(90);
    while Instant::now() < until {
        if s.write_all(&chunk).await.is_err() {
            return;
        }
    }
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

async fn run_measured(addr: SocketAddr) -> (i32, String, u64, Duration) {
    let (_dir, path) = common::profile(&format!(
        "[smtp]\naddress = \"{addr}\"\ndomain = \"example.test\"\nrecipient = \"bob@example.test\"\n"
    ));
    let started = Instant::now();
    let mut child = tokio::process::Command::new(common::conform_bin())
        .args(["run", "smtp", "--quiet", "--target"])
        .arg(&path)
        .arg("--features")
        .arg(common::features_dir())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("conform started");
    let pid = child.id().expect("pid");
    let mut out = child.stdout.take().expect("stdout");
    let reader = tokio::spawn(async move {
        let mut text = Vec::new();
        let _ = tokio::io::AsyncReadExt::read_to_end(&mut out, &mut text).await;
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
                started.elapsed() < Duration::from_secs(120),
                "the run ended within two minutes"
            ),
        }
    };
    let text = reader.await.expect("stdout read");
    (status.code().unwrap_or(-1), text, peak, started.elapsed())
}

async fn check(flood: Flood, what: &str) {
    let addr = flooding_smtp(flood).await;
    let (code, out, peak, took) = run_measured(addr).await;
    assert_eq!(code, 1, "{what}: exit 1\n{out}");
    assert!(
        peak > 0 && peak < LIMIT_KB,
        "{what}: peak resident {peak} kB, bound {LIMIT_KB} kB"
    );
    assert!(took < Duration::from_secs(60), "{what}: took {took:?}");
    // Each failure names what happened.
    assert!(
        out.contains("exceeded") || out.contains("did not complete"),
        "{what}: {out}"
    );
    eprintln!("{what}: peak {peak} kB in {took:?}");
}

#[tokio::test]
async fn an_smtp_server_streaming_bytes_without_a_newline_stays_under_the_bound() {
    check(Flood::NoNewline, "no newline").await;
}

#[tokio::test]
async fn an_smtp_server_streaming_endless_continuation_lines_stays_under_the_bound() {
    check(Flood::Continuation, "endless 250-").await;
}
