//! The HTTP suite end to end: against the bundled server, through `conform
//! serve` with Python's http.client, against faulty servers that each break
//! one rule, and the response reader against hostile peers.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{
    assert_fails_with, bundled_run_passes, conform, one_connection, python_client, run_against,
    serve, tcp_server,
};
use conform::report::Transcript;
use conform::wire::http::read_response;
use conform::wire::{Conn, WireError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread")]
async fn bundled_server_passes_and_junit_loads() {
    let (run, _suites) = bundled_run_passes(&["http"], &[], 70).await;
    assert!(run.stdout.contains("0 warnings"), "{}", run.all());
}

fn webroot() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/www")
}

/// `conform serve http`, then Python's http.client fetches, revalidates and
/// posts through it.
#[tokio::test(flavor = "multi_thread")]
async fn python_http_client_fetches_revalidates_and_posts() {
    let served = serve(&["http"]).await;
    assert!(
        served.first_line.starts_with("http "),
        "serve prints PROTOCOL ADDRESS: {}",
        served.first_line
    );
    let py = python_client(
        "http_client.py",
        &[served.profile.as_os_str(), webroot().as_os_str()],
        Duration::from_secs(60),
    )
    .await;
    let (stdout, stderr) = (&py.stdout, &py.stderr);
    assert!(py.ok, "python client failed\n{stdout}\n{stderr}");
    for want in [
        "fetch ok",
        "revalidate (If-None-Match) ok",
        "revalidate (If-Modified-Since) ok",
        "post ok",
    ] {
        assert!(stdout.contains(want), "{want}\n{stdout}\n{stderr}");
    }
    // The same served target passes the suite through its written profile.
    let run = conform(&["run", "http", "--target", served.profile_arg()]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    // SIGTERM lets serve stop cleanly and remove its fixture folder.
    served.terminate().await;
}

// ---- faulty servers --------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Fault {
    /// Never answers If-Modified-Since with 304.
    IgnoresIfModifiedSince,
    /// Announces one byte less than the body it sends.
    ContentLengthShort,
    /// Announces one byte more than the body it sends.
    ContentLengthLong,
    /// Sends the body in reply to HEAD too.
    BodyOnHead,
}

const LAST_MODIFIED: &str = "Mon, 02 Jan 2023 00:00:00 GMT";
const ETAG: &str = "\"v1\"";

/// A small persistent HTTP/1.1 file server over the fixture web root that is
/// right about most things and wrong about `fault`.
async fn faulty_server(fault: Fault) -> SocketAddr {
    tcp_server(move |s| http_session(s, fault)).await
}

async fn http_session(mut s: TcpStream, fault: Fault) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
            if buf.len() > 64 * 1024 {
                return;
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_string();
        buf.drain(..end);
        let mut lines = head.split("\r\n");
        let start: Vec<&str> = lines.next().unwrap_or_default().split(' ').collect();
        let (method, target, version) = match start.as_slice() {
            [m, t, v] => (m.to_string(), t.to_string(), v.to_string()),
            _ => return,
        };
        let header = |name: &str| {
            head.split("\r\n").skip(1).find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
        };
        let length: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < length {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body_in: Vec<u8> = buf.drain(..length).collect();
        let close = version == "HTTP/1.0"
            || header("connection").is_some_and(|c| c.eq_ignore_ascii_case("close"));

        let path = target.split('?').next().unwrap_or_default().to_string();
        let (status, mut fields, body) = if path == "/echo" {
            (200, vec![], format!("len={}\n", body_in.len()).into_bytes())
        } else if path.contains("..") {
            (404, vec![], b"not found\n".to_vec())
        } else {
            match std::fs::read(webroot().join(path.trim_start_matches('/'))) {
                Ok(content) => {
                    let fresh = header("if-none-match").is_some_and(|v| v == ETAG)
                        || (fault != Fault::IgnoresIfModifiedSince
                            && header("if-none-match").is_none()
                            && header("if-modified-since").is_some_and(|v| v == LAST_MODIFIED));
                    let fields = vec![
                        format!("Last-Modified: {LAST_MODIFIED}"),
                        format!("ETag: {ETAG}"),
                        "Content-Type: text/html".to_string(),
                    ];
                    if fresh {
                        (304, fields, vec![])
                    } else {
                        (200, fields, content)
                    }
                }
                Err(_) => (404, vec![], b"not found\n".to_vec()),
            }
        };
        fields.push("Date: Mon, 02 Jan 2023 00:00:00 GMT".into());
        if status != 304 {
            let announced = match fault {
                Fault::ContentLengthShort if status == 200 => body.len() - 1,
                Fault::ContentLengthLong if status == 200 => body.len() + 1,
                _ => body.len(),
            };
            fields.push(format!("Content-Length: {announced}"));
        }
        if close {
            fields.push("Connection: close".into());
        }
        let mut out =
            format!("HTTP/1.1 {status} X\r\n{}\r\n\r\n", fields.join("\r\n")).into_bytes();
        if status != 304 && (method != "HEAD" || fault == Fault::BodyOnHead) {
            out.extend_from_slice(&body);
        }
        if s.write_all(&out).await.is_err() || close {
            return;
        }
    }
}

async fn run_with(fault: Fault) -> common::Run {
    let addr = faulty_server(fault).await;
    let profile = format!("[http]\naddress = \"{addr}\"\n");
    run_against("http", &profile, &["--step-timeout", "1s"]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_ignoring_if_modified_since_fails() {
    let run = run_with(Fault::IgnoresIfModifiedSince).await;
    assert_fails_with(
        &run,
        &[
            "If-Modified-Since with the Last-Modified date gets 304 Not Modified",
            "requirement: MUST · RFC 9110 §13.2.1",
            "step:        Then the server replies 304",
            "expected:    304",
            "C: If-Modified-Since: Mon, 02 Jan 2023 00:00:00 GMT\\r\\n",
            "S: HTTP/1.1 200 X\\r\\n",
        ],
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("FAIL  http/conditional.feature")
                && l.contains("If-Modified-Since with the Last-Modified date gets 304")),
        "{}",
        run.all()
    );
    // Entity tags still work, so only the date-based scenarios fail.
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("PASS  http/conditional.feature")
                && l.contains("If-None-Match with the current entity tag gets 304")),
        "{}",
        run.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_content_length_one_short_fails() {
    let run = run_with(Fault::ContentLengthShort).await;
    assert_fails_with(
        &run,
        &[
            "The notes' request for /somedir/page.html gets a well-formed 200 with the object",
            "step:        And the response body is the fixture file \"/somedir/page.html\"",
            "the response body is not the fixture file /somedir/page.html: the body is 163 bytes, the file 164 bytes",
            "got:         163 bytes (Content-Length: 163)",
            "S: Content-Length: 163\\r\\n",
            "C: GET /somedir/page.html HTTP/1.1\\r\\n",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_content_length_one_long_fails() {
    let run = run_with(Fault::ContentLengthLong).await;
    assert_fails_with(
        &run,
        &[
            "the 165-byte body announced by Content-Length was incomplete after 1s",
            "S: Content-Length: 165\\r\\n",
            "C: GET /somedir/page.html HTTP/1.1\\r\\n",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_in_reply_to_head_fails() {
    let run = run_with(Fault::BodyOnHead).await;
    assert_fails_with(
        &run,
        &[
            "A response to HEAD has no content",
            "requirement: MUST · RFC 9110 §9.3.2",
            "step:        And no further bytes arrive within 500 ms",
            "the server sent bytes after the end of the response as its framing defines it",
            "C: HEAD /somedir/page.html HTTP/1.1\\r\\n",
            "S: <!DOCTYPE html>\\n",
        ],
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("FAIL  http/semantics.feature")
                && l.contains("A response to HEAD has no content")),
        "{}",
        run.all()
    );
}

// ---- the response reader against hostile peers -------------------------------

/// Reads one response to GET from `addr` with a 500 ms deadline per wait,
/// and checks it returned within a few seconds.
async fn read_from(addr: SocketAddr) -> Result<conform::wire::http::Response, WireError> {
    let t = Transcript::new();
    let mut c = Conn::connect(addr, "http", &t, Duration::from_millis(500))
        .await
        .unwrap();
    let started = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(10), read_response(&mut c, "GET"))
        .await
        .expect("the reader is bounded in time");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    r
}

#[tokio::test]
async fn reader_rejects_a_status_line_that_never_ends() {
    let addr = one_connection(|mut s| async move {
        let junk = vec![b'A'; 64 * 1024];
        for _ in 0..4 {
            if s.write_all(&junk).await.is_err() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
    })
    .await;
    assert!(matches!(
        read_from(addr).await,
        Err(WireError::TooLong { .. })
    ));
}

#[tokio::test]
async fn reader_reports_a_close_before_the_newline() {
    let addr = one_connection(|mut s| async move {
        let _ = s.write_all(b"HTTP/1.1 200 O").await;
    })
    .await;
    assert!(matches!(
        read_from(addr).await,
        Err(WireError::Closed { .. })
    ));
}

#[tokio::test]
async fn reader_reports_a_reset() {
    let addr = one_connection(|s| async move {
        // SO_LINGER zero: dropping the socket sends a reset.
        #[allow(deprecated)]
        let _ = s.set_linger(Some(Duration::ZERO));
        drop(s);
    })
    .await;
    assert!(matches!(
        read_from(addr).await,
        Err(WireError::Io { .. } | WireError::Closed { .. })
    ));
}

#[tokio::test]
async fn reader_times_out_on_a_stalled_body() {
    let addr = one_connection(|mut s| async move {
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
            .await;
        tokio::time::sleep(Duration::from_secs(3)).await;
    })
    .await;
    match read_from(addr).await {
        Err(WireError::Timeout { partial, .. }) => assert_eq!(partial, b"abc"),
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn reader_bounds_a_flood_of_header_fields() {
    let addr = one_connection(|mut s| async move {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\n").await;
        let field = b"X-Flood: yes\r\n".repeat(1000);
        for _ in 0..100 {
            if s.write_all(&field).await.is_err() {
                return;
            }
        }
    })
    .await;
    assert!(matches!(
        read_from(addr).await,
        Err(WireError::TooLong { .. })
    ));
}

#[tokio::test]
async fn reader_refuses_absurd_lengths_and_bad_framing() {
    for reply in [
        &b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n",
        b"SSH-2.0-OpenSSH_9.2\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
    ] {
        let addr = one_connection(move |mut s| async move {
            let _ = s.write_all(reply).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        })
        .await;
        let got = read_from(addr).await;
        assert!(
            matches!(
                got,
                Err(WireError::Malformed { .. } | WireError::TooLong { .. })
            ),
            "{:?}: {got:?}",
            String::from_utf8_lossy(reply)
        );
    }
}

#[tokio::test]
async fn reader_bounds_a_body_delimited_by_close() {
    let addr = one_connection(|mut s| async move {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await;
        let block = vec![b'z'; 1024 * 1024];
        for _ in 0..20 {
            if s.write_all(&block).await.is_err() {
                return;
            }
        }
    })
    .await;
    assert!(matches!(
        read_from(addr).await,
        Err(WireError::TooLong { .. })
    ));
}

#[tokio::test]
async fn reader_reads_chunked_and_skips_interim_responses() {
    let addr = one_connection(|mut s| async move {
        let _ = s
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
            .await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    })
    .await;
    let r = read_from(addr).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.interim, vec![100]);
    assert_eq!(r.body, b"hello world");
    assert!(r.problems.is_empty(), "{:?}", r.problems);
}
