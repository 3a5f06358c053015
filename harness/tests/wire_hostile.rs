//! The wire layer against hostile peers: a line that never ends, no newline
//! then silence, a reset, a stall, a flood. Every case must end with a clear
//! error, quickly, within bounded memory, and never panic.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::one_connection;
use conform::transcript::Transcript;
use conform::wire::{Conn, LineReader, ReplyReader, UdpClient, WireError};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

const T: Duration = Duration::from_millis(500);

async fn connect(addr: SocketAddr) -> Conn {
    Conn::connect(addr, "hostile", &Transcript::new(), T)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_line_that_never_ends_is_cut_at_the_limit() {
    let addr = one_connection(|mut s| async move {
        let chunk = vec![b'a'; 64 * 1024];
        for _ in 0..1024 {
            if s.write_all(&chunk).await.is_err() {
                return;
            }
        }
    })
    .await;
    let mut c = connect(addr).await;
    let start = Instant::now();
    let err = c.read_line(4096, "a reply line").await.unwrap_err();
    assert!(
        matches!(err, WireError::TooLong { limit: 4096, .. }),
        "{err}"
    );
    assert!(
        c.buffered().len() < 64 * 1024,
        "memory stays bounded: {} bytes buffered",
        c.buffered().len()
    );
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn no_newline_then_silence_times_out_with_the_partial_data() {
    let addr = one_connection(|mut s| async move {
        let _ = s.write_all(b"220 half a line").await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    })
    .await;
    let mut c = connect(addr).await;
    let start = Instant::now();
    let err = c.read_line(512, "the greeting").await.unwrap_err();
    match &err {
        WireError::Timeout { partial, .. } => assert_eq!(partial, b"220 half a line"),
        other => panic!("expected a timeout, got {other}"),
    }
    assert!(
        err.to_string().contains("got only \"220 half a line\""),
        "{err}"
    );
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_reset_is_an_error_not_a_panic() {
    let addr = one_connection(|s| async move {
        // SO_LINGER 0: closing sends RST instead of FIN.
        #[allow(deprecated)]
        let _ = s.set_linger(Some(Duration::ZERO));
        drop(s);
    })
    .await;
    let mut c = connect(addr).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let r = LineReader { max_line: 512 }.read(&mut c).await;
    assert!(r.is_err(), "a reset yields an error");
}

#[tokio::test]
async fn a_stall_times_out_within_the_deadline() {
    let addr = one_connection(|s| async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(s);
    })
    .await;
    let mut c = connect(addr).await;
    let start = Instant::now();
    let err = LineReader { max_line: 512 }.read(&mut c).await.unwrap_err();
    assert!(matches!(err, WireError::Timeout { .. }), "{err}");
    assert!(
        err.to_string().contains("nothing arrived within 500ms"),
        "{err}"
    );
    let waited = start.elapsed();
    assert!(waited >= T && waited < Duration::from_secs(2), "{waited:?}");
}

#[tokio::test]
async fn a_flood_is_bounded_when_reading_to_close() {
    let addr = one_connection(|mut s| async move {
        let chunk = vec![b'x'; 64 * 1024];
        loop {
            if s.write_all(&chunk).await.is_err() {
                return;
            }
        }
    })
    .await;
    let mut c = connect(addr).await;
    let err = c
        .read_to_close(1024 * 1024, "the response body")
        .await
        .unwrap_err();
    assert!(matches!(err, WireError::TooLong { .. }), "{err}");
    let err = c.wait_for_close(1024 * 1024).await.unwrap_err();
    assert!(matches!(err, WireError::TooLong { .. }), "{err}");
}

#[tokio::test]
async fn an_early_close_reports_what_came() {
    let addr = one_connection(|mut s| async move {
        let _ = s.write_all(b"250-first line\r\n250-sec").await;
    })
    .await;
    let mut c = connect(addr).await;
    let first = c.read_line(512, "a reply line").await.unwrap();
    assert_eq!(first.bytes, b"250-first line");
    let err = c.read_line(512, "a reply line").await.unwrap_err();
    match err {
        WireError::Closed { partial, .. } => assert_eq!(partial, b"250-sec"),
        other => panic!("expected Closed, got {other}"),
    }
    assert!(c.at_eof());
}

#[tokio::test]
async fn a_refused_connection_is_a_connectivity_error() {
    let closed = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let err = Conn::connect(closed, "x", &Transcript::new(), T)
        .await
        .err()
        .unwrap();
    assert!(err.is_connectivity(), "{err}");
}

#[tokio::test]
async fn a_silent_udp_target_times_out() {
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let c = UdpClient::bind(silent.local_addr().unwrap(), "udp", &Transcript::new(), T)
        .await
        .unwrap();
    c.send(b"hello").await.unwrap();
    let err = c.recv("a reply").await.unwrap_err();
    assert!(matches!(err, WireError::Timeout { .. }), "{err}");
}
