//! Dead or dying targets: a listener that never accepts, a server that
//! accepts then goes silent half-way, one that dies half-way, and a run
//! whose `--run-timeout` passes. Each run ends in a bounded time (asserted
//! generously) with a non-zero exit and one error that says what happened,
//! not dozens of timeouts blamed on the server.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};

/// A proxy in front of `upstream` that relays its first `relayed`
/// connections; after them it `then`s.
#[derive(Clone, Copy)]
enum Then {
    /// Accepts and never sends anything.
    Silent,
    /// Closes its listener: connections are refused.
    Dies,
}

async fn dying_proxy(upstream: SocketAddr, relayed: usize, then: Then) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("address");
    let n = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((client, _)) = l.accept().await {
            if n.fetch_add(1, Ordering::SeqCst) >= relayed {
                match then {
                    Then::Silent => {
                        tokio::spawn(async move {
                            tokio::time::sleep(Duration::from_secs(120)).await;
                            drop(client);
                        });
                        continue;
                    }
                    Then::Dies => return,
                }
            }
            tokio::spawn(async move {
                if let Ok(server) = TcpStream::connect(upstream).await {
                    common::pipe(client, server).await;
                }
            });
        }
    });
    addr
}

/// Runs the sockets suite against a TCP server at `tcp`, with `extra`
/// options.
async fn run_sockets(tcp: SocketAddr, extra: &[&str]) -> (common::Run, Duration) {
    let (_d, path) = common::profile(&format!("[sockets]\ntcp = \"{tcp}\"\n"));
    let target = path.to_str().expect("a UTF-8 temporary path");
    let mut args = vec!["run", "sockets", "--quiet"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--target", target]);
    timed(&args).await
}

/// Runs `conform ARGS`, returning the run and how long it took.
async fn timed(args: &[&str]) -> (common::Run, Duration) {
    let t = Instant::now();
    let run = common::conform(args).await;
    (run, t.elapsed())
}

#[tokio::test]
async fn an_smtp_server_that_goes_silent_half_way_ends_the_run_with_one_error() {
    let served = common::serve(&["smtp"]).await;
    // The preflight's connections and a few scenarios' get through.
    let addr = dying_proxy(served.addr(), 12, Then::Silent).await;
    let (_d, p) = common::profile(&common::reroute(&served, "smtp", addr, ""));
    let (run, took) = timed(&["run", "smtp", "--quiet", "--target", p.to_str().unwrap()]).await;
    eprintln!("silent: {took:?}\n{}", run.stdout);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stdout.contains("not run: [smtp] stopped answering"),
        "{}",
        run.all()
    );
    assert!(took < Duration::from_secs(90), "took {took:?}");
    served.kill().await;
}

#[tokio::test]
async fn an_imap_server_that_dies_half_way_ends_the_run_with_one_error() {
    let served = common::serve(&["imap"]).await;
    let addr = dying_proxy(served.addr(), 12, Then::Dies).await;
    let (_d, p) = common::profile(&common::reroute(&served, "imap", addr, ""));
    let (run, took) = timed(&["run", "imap", "--quiet", "--target", p.to_str().unwrap()]).await;
    eprintln!("dies: {took:?}\n{}", run.stdout);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stdout.contains("not run: [imap] stopped answering") && run.stdout.contains("refused"),
        "{}",
        run.all()
    );
    assert!(took < Duration::from_secs(90), "took {took:?}");
    served.kill().await;
}

#[tokio::test]
async fn a_sockets_listener_that_never_accepts_ends_the_run_with_one_error() {
    // The kernel completes the handshakes (the listen backlog); the server
    // never takes a connection.
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("address");
    // Fewer at once than the suite has, so that some start after the
    // server is known to be down.
    let (run, took) = run_sockets(addr, &["--concurrency", "4"]).await;
    eprintln!("never accepts: {took:?}\n{}", run.stdout);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stdout.contains("not run: [sockets] stopped answering"),
        "{}",
        run.all()
    );
    assert!(took < Duration::from_secs(90), "took {took:?}");
    drop(l);
}

#[tokio::test]
async fn a_run_past_its_run_timeout_stops_and_does_not_pass() {
    // A server that accepts and never answers: every scenario waits out its
    // 5 s step bound, so the 2 s run bound passes first however fast the
    // machine is (the bundled servers finish a suite in about a second,
    // which made a run against them race the bound).
    let silent = dying_proxy("127.0.0.1:9".parse().expect("address"), 0, Then::Silent).await;
    let (run, took) = run_sockets(silent, &["--step-timeout", "5s", "--run-timeout", "2s"]).await;
    eprintln!("run timeout: {took:?}\n{}", run.stdout);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stdout
            .contains("stopped before the end: the run's time was up (--run-timeout 2s)"),
        "{}",
        run.all()
    );
    assert!(took < Duration::from_secs(60), "took {took:?}");
}
