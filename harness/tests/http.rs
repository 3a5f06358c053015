//! The HTTP suite end to end: against the bundled server, through `conform
//! serve` with Python's http.client, against faulty servers that each break
//! one rule, and the response reader against hostile peers.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{
    assert_fails_with, assert_has, bundled_run_passes, conform, one_connection, python_client,
    run_against, serve, tcp_server,
};
use conform::transcript::Transcript;
use conform::wire::http::{read_response, read_response_to};
use conform::wire::{Conn, WireError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread")]
async fn bundled_server_passes_and_junit_loads() {
    // The HTTPS scenario skips here (the bundled HTTP server is plain
    // HTTP); tests/tls.rs runs the suite over HTTPS.
    let (run, _suites) = bundled_run_passes(&["http"], &["--tags", "not @https"], 70).await;
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

#[derive(Clone, Copy, PartialEq, Debug)]
enum Fault {
    /// Routes by the Host field even in absolute-form, and has no site for
    /// a Host it does not know: 421 (RFC 9112 §3.2.2 says use the target).
    HostOverAbsoluteForm,
    /// Never answers If-Modified-Since with 304.
    IgnoresIfModifiedSince,
    /// Announces one byte less than the body it sends.
    ContentLengthShort,
    /// Announces one byte more than the body it sends.
    ContentLengthLong,
    /// Sends the body in reply to HEAD too.
    BodyOnHead,
    /// Reads a request body by Content-Length only: a chunked body is left
    /// on the connection.
    ChunkedIgnored,
    /// Rejects a chunk-size line with an extension (400 and close).
    ChunkExtensionRejected,
    /// Ends a chunked body at the line after the last chunk, whatever it is
    /// (reads one trailer line at most).
    TrailerCutShort,
    /// Never reads a Content-Length body.
    ContentLengthIgnored,
    /// Processes Content-Length with Transfer-Encoding by the chunked coding
    /// and keeps the connection open.
    KeepsOpenOnClTe,
    /// Processes Content-Length with Transfer-Encoding by Content-Length and
    /// keeps the connection open.
    ClOverTe,
    /// Takes the first 8 KiB of a longer request line as the request line
    /// and the rest as the next request.
    SplitsLongLine,
    /// Keeps only the first 8 KiB of a field value.
    TruncatesFields,
    /// Drops a folded continuation line instead of unfolding it.
    DropsFoldedLines,
    /// Answers a request that has a body without reading it, then closes
    /// (as lighttpd does for a static file).
    ClosesAfterBody,
    /// Answers in the version the request named, even HTTP/2.0.
    EchoesVersion,
    /// Sends neither ETag nor Last-Modified (both SHOULDs).
    NoValidators,
    /// Closes a connection it is to close only 3 s later (as at an idle
    /// timeout).
    LateClose,
    /// Never answers Expect: 100-continue: waits for the content.
    IgnoresExpect,
    /// Sends 100 (Continue) to an HTTP/1.0 request with the expectation.
    ContinueToHttp10,
    /// Sends "100 Continue" with a Content-Length before every response
    /// but that to /index.html.
    InterimWithLength,
    /// Every response carries a folded field line (obs-fold).
    FoldedResponse,
    /// Sends its entity tag without the quotes (`ETag: v1`).
    UnquotedEtag,
    /// Answers the echo resource chunked, even to HTTP/1.0.
    ChunksToHttp10,
    /// Sends a Last-Modified a day later than its Date.
    FutureLastModified,
    /// Answers any Range, whatever its unit or method, with 206 and the
    /// first 5 octets.
    HonoursAnyRange,
    /// Answers a POST to the echo resource with If-Modified-Since with 304.
    ImsOnPost,
    /// Parses a chunk size as strtoul does (leading blanks, "0x", wrapping
    /// at 64 bits, empty as 0) and skips to the line end after chunk data.
    LenientChunks,
    /// Takes only the exact value "chunked" for the chunked coding; any
    /// other Transfer-Encoding is ignored (no body read).
    TeByExactValue,
    /// Trims whitespace before the colon from a field name.
    TrimsFieldNames,
    /// Ends a field value at a bare CR or a NUL (a C string).
    CutsValuesAtCtl,
}

const LAST_MODIFIED: &str = "Mon, 02 Jan 2023 00:00:00 GMT";
const ETAG: &str = "\"v1\"";
const LINE_LIMIT: usize = 8 * 1024;

/// A small persistent HTTP/1.1 file server over the fixture web root that is
/// right about most things (its framing follows RFC 9112 §6 and §7) and
/// wrong about `fault`.
async fn faulty_server(fault: Fault) -> SocketAddr {
    tcp_server(move |s| http_session(s, fault)).await
}

/// The connection's input, buffered, every wait bounded.
struct Input {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Input {
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 8192];
        match tokio::time::timeout(Duration::from_secs(5), self.s.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => {
                self.buf.extend_from_slice(&chunk[..n]);
                self.buf.len() < 256 * 1024
            }
            _ => false,
        }
    }

    /// One CRLF-terminated line, without the CRLF.
    async fn line(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.buf[..i].to_vec();
                self.buf.drain(..i + 2);
                return Some(line);
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    async fn take(&mut self, n: usize) -> Option<Vec<u8>> {
        while self.buf.len() < n {
            if !self.fill().await {
                return None;
            }
        }
        Some(self.buf.drain(..n).collect())
    }

    async fn send(&mut self, bytes: &[u8]) -> bool {
        self.s.write_all(bytes).await.is_ok()
    }
}

/// A chunked body (RFC 9112 §7.1); None when it is malformed.
async fn read_chunked(input: &mut Input, fault: Fault) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = input.line().await?;
        let text = String::from_utf8_lossy(&line).to_string();
        if fault == Fault::ChunkExtensionRejected && text.contains(';') {
            return None;
        }
        let size = text.split(';').next().unwrap_or_default().trim_end();
        let n = if fault == Fault::LenientChunks {
            let digits = size.trim_start();
            let digits = digits.strip_prefix("0x").unwrap_or(digits);
            digits
                .chars()
                .map_while(|c| c.to_digit(16))
                .fold(0u64, |n, d| n.wrapping_mul(16).wrapping_add(u64::from(d)))
                as usize
        } else {
            usize::from_str_radix(size, 16).ok()?
        };
        if n == 0 {
            break;
        }
        body.extend(input.take(n).await?);
        if !input.line().await?.is_empty() && fault != Fault::LenientChunks {
            return None;
        }
    }
    if fault == Fault::TrailerCutShort {
        input.line().await?;
        return Some(body);
    }
    // The trailer section, up to its empty line.
    loop {
        if input.line().await?.is_empty() {
            return Some(body);
        }
    }
}

fn error(status: u16) -> Vec<u8> {
    format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").into_bytes()
}

async fn http_session(s: TcpStream, fault: Fault) {
    let mut input = Input { s, buf: Vec::new() };
    loop {
        // The request line: over the limit is 414, unless split.
        let line = loop {
            if let Some(i) = input.buf.windows(2).position(|w| w == b"\r\n") {
                if i > LINE_LIMIT && fault == Fault::SplitsLongLine {
                    let cut: Vec<u8> = input.buf.drain(..LINE_LIMIT).collect();
                    break cut;
                }
                if i > LINE_LIMIT {
                    let _ = input.send(&error(414)).await;
                    return;
                }
                break input.line().await.unwrap_or_default();
            }
            if !input.fill().await {
                return;
            }
        };
        let start = String::from_utf8_lossy(&line).to_string();
        let parts: Vec<&str> = start.split(' ').collect();
        let (method, target, version) = match parts.as_slice() {
            [m, t, v] => (m.to_string(), t.to_string(), v.to_string()),
            [m, t] if fault == Fault::SplitsLongLine => {
                (m.to_string(), t.to_string(), "HTTP/1.1".to_string())
            }
            _ => {
                let _ = input.send(&error(400)).await;
                return;
            }
        };
        // The field lines, obs-fold unfolded (RFC 9112 §5.2).
        let mut fields: Vec<(String, String)> = Vec::new();
        loop {
            let Some(l) = input.line().await else { return };
            if l.is_empty() {
                break;
            }
            let l = String::from_utf8_lossy(&l).to_string();
            if l.starts_with(' ') || l.starts_with('\t') {
                if fault != Fault::DropsFoldedLines {
                    if let Some((_, v)) = fields.last_mut() {
                        v.push(' ');
                        v.push_str(l.trim());
                    }
                }
                continue;
            }
            let Some((n, v)) = l.split_once(':') else {
                let _ = input.send(&error(400)).await;
                return;
            };
            // RFC 9112 §5.1: whitespace before the colon is a 400.
            let n = if fault == Fault::TrimsFieldNames {
                n.trim_end()
            } else if n.ends_with([' ', '\t']) {
                let _ = input.send(&error(400)).await;
                return;
            } else {
                n
            };
            // RFC 9110 §5.5: CR and NUL in a value are read as SP.
            let v: String = if fault == Fault::CutsValuesAtCtl {
                v.split(['\r', '\0']).next().unwrap_or_default().into()
            } else {
                v.replace(['\r', '\0'], " ")
            };
            let mut v = v.trim().to_string();
            if fault == Fault::TruncatesFields {
                v.truncate(LINE_LIMIT);
            }
            fields.push((n.to_string(), v));
        }
        let header = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let hosts = fields
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("host"))
            .count();
        if (version == "HTTP/1.1" && hosts != 1) || hosts > 1 {
            let _ = input.send(&error(400)).await;
            return;
        }
        let te = header("transfer-encoding");
        let cls: Vec<String> = fields
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.clone())
            .collect();
        let mut close = version == "HTTP/1.0"
            || header("connection").is_some_and(|c| c.eq_ignore_ascii_case("close"));
        // RFC 9112 §6.3: Transfer-Encoding wins over Content-Length, and the
        // connection closes after such a request (§6.1).
        if fault == Fault::ClosesAfterBody && (te.is_some() || !cls.is_empty()) {
            let page = std::fs::read(webroot().join("index.html")).unwrap_or_default();
            let mut out = format!(
                "HTTP/1.1 200 X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                page.len()
            )
            .into_bytes();
            out.extend_from_slice(&page);
            let _ = input.send(&out).await;
            return;
        }
        // RFC 9110 §10.1.1: 100 (Continue) at once to an HTTP/1.1 request
        // that expects it and announces content; never to HTTP/1.0.
        let expects = header("expect").is_some_and(|e| e.eq_ignore_ascii_case("100-continue"));
        let announces = te.is_some() || cls.iter().any(|c| c != "0");
        if expects
            && announces
            && fault != Fault::IgnoresExpect
            && (version == "HTTP/1.1" || fault == Fault::ContinueToHttp10)
            && !input.send(b"HTTP/1.1 100 Continue\r\n\r\n").await
        {
            return;
        }
        let by_te = te.is_some()
            && fault != Fault::ChunkedIgnored
            && (fault != Fault::ClOverTe || cls.is_empty())
            && (fault != Fault::TeByExactValue || te.as_deref() == Some("chunked"));
        let body_in = if by_te {
            let te = te.unwrap_or_default();
            // A list of codings (RFC 9110 §5.6.1: empty elements ignored,
            // RFC 9112 §7: names case-insensitive): chunked alone.
            let codings: Vec<&str> = te
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            if codings.len() != 1 || !codings[0].eq_ignore_ascii_case("chunked") {
                let _ = input.send(&error(400)).await;
                return;
            }
            if !cls.is_empty() && fault != Fault::KeepsOpenOnClTe {
                close = true;
            }
            match read_chunked(&mut input, fault).await {
                Some(b) => b,
                None => {
                    let _ = input.send(&error(400)).await;
                    return;
                }
            }
        } else if !cls.is_empty() && fault != Fault::ContentLengthIgnored {
            let first = cls[0].clone();
            let Some(n) = first
                .parse::<usize>()
                .ok()
                .filter(|_| cls.iter().all(|c| *c == first))
            else {
                let _ = input.send(&error(400)).await;
                return;
            };
            let Some(b) = input.take(n).await else { return };
            b
        } else {
            Vec::new()
        };

        if fault == Fault::HostOverAbsoluteForm {
            if let Some(rest) = target.strip_prefix("http://") {
                let authority = rest.split('/').next().unwrap_or_default();
                if header("host").as_deref() != Some(authority) {
                    let _ = input.send(&error(421)).await;
                    return;
                }
            }
        }
        let path = target.split('?').next().unwrap_or_default().to_string();
        let etag = if fault == Fault::UnquotedEtag {
            "v1"
        } else {
            ETAG
        };
        let (status, mut out_fields, body) = if path == "/echo"
            && fault == Fault::ImsOnPost
            && header("if-modified-since").is_some()
        {
            (304, vec![], vec![])
        } else if path == "/echo" && fault == Fault::HonoursAnyRange && header("range").is_some() {
            (
                206,
                vec!["Content-Range: bytes 0-1/6".into()],
                b"le".to_vec(),
            )
        } else if path == "/echo" {
            (200, vec![], format!("len={}\n", body_in.len()).into_bytes())
        } else if path.contains("..") {
            (404, vec![], b"not found\n".to_vec())
        } else {
            match std::fs::read(webroot().join(path.trim_start_matches('/'))) {
                Ok(content) => {
                    let inm = header("if-none-match");
                    let fresh = inm
                        .as_deref()
                        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
                        || (fault != Fault::IgnoresIfModifiedSince
                            && inm.is_none()
                            && header("if-modified-since").is_some_and(|v| v == LAST_MODIFIED));
                    let mut fields = vec![
                        format!("Last-Modified: {LAST_MODIFIED}"),
                        format!("ETag: {etag}"),
                        "Content-Type: text/html".to_string(),
                    ];
                    if fault == Fault::NoValidators {
                        fields.drain(..2);
                    }
                    if fault == Fault::FutureLastModified {
                        fields[0] = "Last-Modified: Tue, 03 Jan 2023 00:00:00 GMT".into();
                    }
                    if fresh {
                        (304, fields, vec![])
                    } else if fault == Fault::HonoursAnyRange && header("range").is_some() {
                        fields.push(format!("Content-Range: bytes 0-4/{}", content.len()));
                        (206, fields, content[..5.min(content.len())].to_vec())
                    } else {
                        (200, fields, content)
                    }
                }
                Err(_) => (404, vec![], b"not found\n".to_vec()),
            }
        };
        out_fields.push("Date: Mon, 02 Jan 2023 00:00:00 GMT".into());
        if fault == Fault::FoldedResponse {
            out_fields.push("X-Folded: first\r\n second".into());
        }
        let chunks = fault == Fault::ChunksToHttp10 && path == "/echo";
        if chunks {
            out_fields.push("Transfer-Encoding: chunked".into());
        } else if status != 304 {
            let announced = match fault {
                Fault::ContentLengthShort if status == 200 => body.len() - 1,
                Fault::ContentLengthLong if status == 200 => body.len() + 1,
                _ => body.len(),
            };
            out_fields.push(format!("Content-Length: {announced}"));
        }
        if close {
            out_fields.push("Connection: close".into());
        }
        let answer_version = if fault == Fault::EchoesVersion {
            version.as_str()
        } else {
            "HTTP/1.1"
        };
        // (Not for /index.html: the run's preflight fetches it.)
        let interim: &[u8] = if fault == Fault::InterimWithLength && path != "/index.html" {
            b"HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\n"
        } else {
            b""
        };
        let mut out = interim.to_vec();
        out.extend_from_slice(
            format!(
                "{answer_version} {status} X\r\n{}\r\n\r\n",
                out_fields.join("\r\n")
            )
            .as_bytes(),
        );
        if chunks {
            out.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
            out.extend_from_slice(&body);
            out.extend_from_slice(b"\r\n0\r\n\r\n");
        } else if status != 304 && (method != "HEAD" || fault == Fault::BodyOnHead) {
            out.extend_from_slice(&body);
        }
        if !input.send(&out).await {
            return;
        }
        if close {
            if fault == Fault::LateClose {
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
            return;
        }
    }
}

/// [`run_with`], the profile naming the faulty server's echo resource.
async fn run_with_echo(fault: Fault, tags: &str) -> common::Run {
    let addr = faulty_server(fault).await;
    let profile = format!("[http]\naddress = \"{addr}\"\necho = \"/echo\"\n");
    run_against("http", &profile, &["--step-timeout", "1s", "--tags", tags]).await
}

async fn run_with(fault: Fault) -> common::Run {
    let addr = faulty_server(fault).await;
    let profile = format!("[http]\naddress = \"{addr}\"\n");
    run_against("http", &profile, &["--step-timeout", "1s"]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_ignoring_if_modified_since_gets_a_warning() {
    let run = run_with(Fault::IgnoresIfModifiedSince).await;
    // RFC 9110 §13.1.3: the 304 is a SHOULD, so a warning.
    assert_has(
        &run,
        &[
            "If-Modified-Since with the Last-Modified date gets 304 Not Modified",
            "requirement: SHOULD · RFC 9110 §13.1.3",
            "step:        Then the server replies 304",
            "expected:    304",
            "C: If-Modified-Since: Mon, 02 Jan 2023 00:00:00 GMT\\r\\n",
            "S: HTTP/1.1 200 X\\r\\n",
        ],
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("WARN  features/http/conditional.feature")
                && l.contains("If-Modified-Since with the Last-Modified date gets 304")),
        "{}",
        run.all()
    );
    // Entity tags still work, so only the date-based scenarios fail.
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("PASS  features/http/conditional.feature")
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
            .any(|l| l.starts_with("FAIL  features/http/semantics.feature")
                && l.contains("A response to HEAD has no content")),
        "{}",
        run.all()
    );
}

// ---- framing, long lines, folding: each fault fails its scenario ------------

/// The console line of a scenario, by the start of its name.
fn verdict<'a>(run: &'a common::Run, name: &str) -> Option<&'a str> {
    // `PASS  features/http/x.feature:12  Name (3 ms)`; `ERROR http/…` has one space.
    run.stdout
        .lines()
        .find(|l| {
            l.split_once(' ')
                .and_then(|(_, rest)| rest.trim_start().split_once("  "))
                .is_some_and(|(_, n)| n.starts_with(name))
        })
        .and_then(|l| l.split(' ').next())
}

fn assert_verdict(run: &common::Run, name: &str, want: &str) {
    assert_eq!(
        verdict(run, name),
        Some(want),
        "{name} should be {want}\n{}",
        run.all()
    );
}

const CHUNKED: &str = "A chunked request body is decoded";
const EXTENSIONS: &str = "Unknown chunk extensions are ignored";
const TRAILER: &str = "A trailer section after the last chunk is read";
const BY_LENGTH: &str = "A POST body is read by its Content-Length and not taken";
const CL_TE_LONG: &str = "Content-Length together with Transfer-Encoding ends the connection (Content-Length the longer)";
const CL_TE_SHORT: &str =
    "Content-Length together with Transfer-Encoding ends the connection (chunked the longer)";
const LONG_TARGET: &str = "A request-target too long to parse is answered with 414";
const LONG_FIELD: &str = "A header field too large to process is answered with a 4xx status";
const FOLDED: &str = "A folded field line is rejected or unfolded";

/// A server whose framing is right passes every framing scenario; the
/// faulty ones below each fail theirs.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_with_right_framing_passes_the_framing_scenarios() {
    let run = run_with(Fault::IgnoresIfModifiedSince).await;
    for name in [
        CHUNKED,
        EXTENSIONS,
        TRAILER,
        BY_LENGTH,
        CL_TE_LONG,
        CL_TE_SHORT,
        LONG_TARGET,
        LONG_FIELD,
        FOLDED,
    ] {
        assert_verdict(&run, name, "PASS");
    }
    // It serves every method (OPTIONS too, without Allow) and labels every
    // file text/html: the SHOULD scenarios that judge that warn.
    assert_verdict(&run, "A successful answer to OPTIONS on a file", "WARN");
    assert_verdict(&run, "A GIF image is labelled image/gif", "WARN");
    // The profile names no application resource.
    assert_verdict(&run, "A POST body is read whole (the echo resource", "SKIP");
    assert_verdict(&run, "The moved resource is answered with 301", "SKIP");
}

/// ETag and Last-Modified are SHOULDs: a server without them gets their
/// warnings, and the MUST scenarios built on them are skipped, not failed.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_without_validators_skips_the_scenarios_built_on_them() {
    let run = run_with(Fault::NoValidators).await;
    assert_verdict(&run, "A file's response carries an entity tag", "WARN");
    for name in [
        "If-None-Match with the current entity tag gets 304 Not Modified",
        "A 304 response repeats the entity tag",
        "A client library revalidates with the entity tag it was given",
        FOLDED,
        LONG_FIELD,
    ] {
        assert_verdict(&run, name, "SKIP");
    }
    assert_has(&run, &["the server sent no ETag"]);
}

/// A close is judged within 2 s of the response, even with a longer step
/// timeout: closing only at an idle timeout is not closing after it.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_closes_only_later_fails_the_close_scenarios() {
    let addr = faulty_server(Fault::LateClose).await;
    let profile = format!("[http]\naddress = \"{addr}\"\n");
    let run = run_against(
        "http",
        &profile,
        &["--tags", "@rfc9112-sec-9.6", "--step-timeout", "5s"],
    )
    .await;
    assert_verdict(
        &run,
        "Connection: close makes the server close after the response",
        "FAIL",
    );
    assert_has(&run, &["the server did not close the connection within 2s"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_answers_in_http_2_0_fails() {
    let run = run_with(Fault::EchoesVersion).await;
    assert_verdict(
        &run,
        "A request in major version 2 is not answered in a version the server does not speak",
        "FAIL",
    );
    assert_has(
        &run,
        &["the status line says HTTP/2.0 to an HTTP/1.1 request"],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_ignores_chunked_fails() {
    let run = run_with(Fault::ChunkedIgnored).await;
    for name in [CHUNKED, EXTENSIONS, TRAILER] {
        assert_verdict(&run, name, "FAIL");
    }
    assert_has(
        &run,
        &["the response after the first one is not the GET's: the server answered bytes of the body as a request"],
    );
    assert_verdict(&run, BY_LENGTH, "PASS");
    // The bad chunk is answered as a request after a 200: not 400, not closed.
    assert_verdict(&run, "A chunk size that is not hexadecimal", "WARN");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_rejects_chunk_extensions_fails() {
    let run = run_with(Fault::ChunkExtensionRejected).await;
    assert_verdict(&run, EXTENSIONS, "FAIL");
    assert_has(
        &run,
        &["the server answered 400 to a request whose body is well-formed"],
    );
    assert_verdict(&run, CHUNKED, "PASS");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_stops_at_the_trailer_fails() {
    let run = run_with(Fault::TrailerCutShort).await;
    assert_verdict(&run, TRAILER, "FAIL");
    assert_verdict(&run, CHUNKED, "PASS");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_ignores_content_length_fails() {
    let run = run_with(Fault::ContentLengthIgnored).await;
    assert_verdict(&run, BY_LENGTH, "FAIL");
    // The body is a request for home.index: answered as such.
    assert_has(&run, &["S: HTTP/1.1 200 X\\r\\n", "not the GET's"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn servers_that_keep_a_cl_te_connection_open_fail() {
    for fault in [Fault::KeepsOpenOnClTe, Fault::ClOverTe] {
        let run = run_with(fault).await;
        assert_verdict(&run, CL_TE_LONG, "FAIL");
        assert_verdict(&run, CL_TE_SHORT, "FAIL");
        assert_has(&run, &["the server did not close the connection within 1s"]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_cuts_long_lines_and_fields_short_fails() {
    let run = run_with(Fault::SplitsLongLine).await;
    assert_verdict(&run, LONG_TARGET, "FAIL");
    let run = run_with(Fault::TruncatesFields).await;
    assert_verdict(&run, LONG_FIELD, "FAIL");
    assert_has(&run, &["expected:    one of 4xx, 304"]);
}

/// Closing after a response is allowed (RFC 9112 §9.5): the framing
/// scenarios cannot observe the framing then, and skip; the CL+TE ones pass.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_closes_after_a_body_skips_the_framing_scenarios() {
    let run = run_with(Fault::ClosesAfterBody).await;
    for name in [CHUNKED, EXTENSIONS, TRAILER, BY_LENGTH] {
        assert_verdict(&run, name, "SKIP");
    }
    for name in [CL_TE_LONG, CL_TE_SHORT] {
        assert_verdict(&run, name, "PASS");
    }
    assert_has(&run, &["so how it framed the body is not observable"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_drops_folded_lines_fails() {
    let run = run_with(Fault::DropsFoldedLines).await;
    assert_verdict(&run, FOLDED, "FAIL");
}

const CL_TE_ECHO: &str =
    "Content-Length together with Transfer-Encoding is rejected or the body read as chunked";
const EXPECT: &str = "Expect 100-continue is answered at once with 100 or a final status";
const EXPECT_10: &str = "Expect 100-continue in an HTTP/1.0 request is ignored, and no 1xx comes";
const NO_TE_10: &str = "A response to an HTTP/1.0 request has no Transfer-Encoding";
const ETAG_GRAMMAR: &str =
    "An entity tag, where the server sends one, follows the entity-tag grammar";

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_reads_a_cl_te_body_by_content_length_fails() {
    let tags = "@rfc9112-sec-6.1";
    let run = run_with_echo(Fault::KeepsOpenOnClTe, tags).await;
    assert_verdict(&run, CL_TE_ECHO, "PASS");
    let run = run_with_echo(Fault::ClOverTe, tags).await;
    assert_verdict(&run, CL_TE_ECHO, "FAIL");
    assert_has(
        &run,
        &[
            "the server answered 200 without the body the chunked coding carries",
            "expected:    a 4xx status, or 200 with \"len=5\" in the body",
            "with the body \"len=3\\n\"",
        ],
    );
}

/// The faulty server parses Content-Length with Rust's `usize` parser (which
/// takes "+5") and has no preconditions: those scenarios fail; the others
/// fail only with their own fault.
#[tokio::test(flavor = "multi_thread")]
async fn lenient_lengths_ignored_preconditions_ranges_and_dates_fail() {
    let run = run_with_echo(Fault::IgnoresIfModifiedSince, "@rfc9112-sec-6.3 or @rfc9110-sec-13.1.1 or @rfc9110-sec-13.1.4 or @rfc9110-sec-14.2 or @rfc9110-sec-8.8.2.1 or @rfc9110-sec-13.1.3").await;
    let outline =
        "A Content-Length that is not 1*DIGIT is answered with 400 and the connection closed";
    for (row, want) in [
        ("-1", "PASS"),
        ("+5", "FAIL"),
        ("0x5", "PASS"),
        ("", "PASS"),
    ] {
        assert_verdict(&run, &format!("{outline} [value={row}]"), want);
    }
    assert_verdict(&run, "A Content-Length of 20 digits is refused", "PASS");
    assert_verdict(
        &run,
        "If-Match with a tag that is not current stops the GET",
        "FAIL",
    );
    assert_verdict(
        &run,
        "If-Unmodified-Since a date before the last modification",
        "FAIL",
    );
    assert_verdict(
        &run,
        "A Range with a unit the server does not know is ignored",
        "PASS",
    );
    assert_verdict(&run, "Last-Modified is not later than Date", "PASS");
    assert_verdict(&run, "If-Modified-Since on a POST is ignored", "PASS");
    assert_has(&run, &["expected:    one of 412, 4xx"]);

    let run = run_with_echo(Fault::HonoursAnyRange, "@rfc9110-sec-14.2").await;
    assert_verdict(
        &run,
        "A Range with a unit the server does not know is ignored",
        "FAIL",
    );
    let run = run_with_echo(Fault::FutureLastModified, "@rfc9110-sec-8.8.2.1").await;
    assert_verdict(&run, "Last-Modified is not later than Date", "FAIL");
    assert_has(
        &run,
        &["Last-Modified is later than Date (RFC 9110 §8.8.2.1"],
    );
    let run = run_with_echo(Fault::ImsOnPost, "@rfc9110-sec-13.1.3").await;
    assert_verdict(&run, "If-Modified-Since on a POST is ignored", "FAIL");
}

const CHUNK_SIZE: &str =
    "A chunk-size line that is not 1*HEXDIG is answered with 400 or the connection closed";
const CHUNK_BLANK: &str = "A chunk size after a blank is answered with 400";
const CHUNK_OVERFLOW: &str = "A chunk size past 64 bits is refused";
const TE_UPPER: &str = "Transfer-Encoding \"CHUNKED\" is the chunked coding";
const TE_COMMA: &str = "Transfer-Encoding with an empty list element before chunked";
const TE_TWICE: &str = "Transfer-Encoding \"chunked, chunked\" is refused";
const TE_COLON: &str = "Whitespace before the colon of Transfer-Encoding";
const BARE_CR: &str = "A bare CR in a field value is rejected or read as SP";
const NUL: &str = "A NUL in a field value is rejected or read as SP";

/// Chunk sizes, Transfer-Encoding values and control characters in field
/// values: a strict server passes, each lenient one fails its scenarios.
#[tokio::test(flavor = "multi_thread")]
async fn lenient_chunk_sizes_codings_and_field_values_fail() {
    let tags = "@rfc9112-sec-2.2 or @rfc9112-sec-7.1 or @rfc9112-sec-6.3 or @rfc9112-sec-5.1 or @rfc9110-sec-5.5 or @rfc9110-sec-5.6.1.2";
    let rows = ["size=0x5", "size=", "size=3"];
    let run = run_with_echo(Fault::IgnoresIfModifiedSince, tags).await;
    for row in rows {
        assert_verdict(&run, &format!("{CHUNK_SIZE} [{row}]"), "PASS");
    }
    for name in [
        TE_UPPER,
        TE_COMMA,
        CHUNK_BLANK,
        CHUNK_OVERFLOW,
        TE_TWICE,
        TE_COLON,
        BARE_CR,
        NUL,
    ] {
        assert_verdict(&run, name, "PASS");
    }

    // §2.2's 400-and-close is a SHOULD (a warning); §7.1's overflow a MUST.
    let run = run_with_echo(Fault::LenientChunks, tags).await;
    for row in rows {
        assert_verdict(&run, &format!("{CHUNK_SIZE} [{row}]"), "WARN");
    }
    assert_verdict(&run, CHUNK_BLANK, "WARN");
    assert_verdict(&run, CHUNK_OVERFLOW, "FAIL");
    assert_has(
        &run,
        &["kept reading a connection whose framing is invalid"],
    );

    let run = run_with_echo(Fault::TeByExactValue, tags).await;
    for name in [TE_UPPER, TE_COMMA, TE_TWICE] {
        assert_verdict(&run, name, "FAIL");
    }
    assert_verdict(&run, CHUNKED, "PASS");

    let run = run_with_echo(Fault::TrimsFieldNames, tags).await;
    assert_verdict(&run, TE_COLON, "FAIL");

    let run = run_with_echo(Fault::CutsValuesAtCtl, tags).await;
    assert_verdict(&run, BARE_CR, "FAIL");
    assert_verdict(&run, NUL, "FAIL");
}

/// Range: a server that ignores it passes the MAY; one that applies any
/// range to any method, answering the first five octets, fails the 206,
/// POST and 416 scenarios.
#[tokio::test(flavor = "multi_thread")]
async fn ranges_applied_wrongly_fail_and_ignored_ones_pass() {
    let tags = "@rfc9110-sec-14.2 or @rfc9110-sec-15.3.7.1";
    const WHOLE: &str = "A byte range is ignored, or answered with 206";
    const POST: &str = "A Range on a POST is ignored";
    const UNSATISFIABLE: &str = "A server that serves byte ranges answers an unsatisfiable one";
    let run = run_with_echo(Fault::IgnoresIfModifiedSince, tags).await;
    assert_verdict(&run, WHOLE, "PASS");
    assert_verdict(&run, POST, "PASS");
    assert_verdict(&run, UNSATISFIABLE, "SKIP");
    let run = run_with_echo(Fault::HonoursAnyRange, tags).await;
    assert_verdict(&run, WHOLE, "FAIL");
    assert_verdict(&run, POST, "FAIL");
    assert_verdict(&run, UNSATISFIABLE, "WARN");
    assert_has(&run, &["expected:    Content-Range: bytes 10-19/100000"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn expectations_and_http_1_0_responses_are_judged() {
    let tags = "@rfc9110-sec-10.1.1 or @rfc9112-sec-6.1 or @rfc9110-sec-8.8.3";
    let run = run_with_echo(Fault::IgnoresIfModifiedSince, tags).await;
    for name in [EXPECT, EXPECT_10, NO_TE_10, ETAG_GRAMMAR] {
        assert_verdict(&run, name, "PASS");
    }
    let run = run_with_echo(Fault::IgnoresExpect, tags).await;
    assert_verdict(&run, EXPECT, "FAIL");
    assert_has(
        &run,
        &["the server waits for the content (RFC 9110 §10.1.1: \"The origin server MUST NOT wait"],
    );
    let run = run_with_echo(Fault::ContinueToHttp10, tags).await;
    assert_verdict(&run, EXPECT, "PASS");
    assert_verdict(&run, EXPECT_10, "FAIL");
    assert_has(
        &run,
        &["an interim 100 response to an HTTP/1.0 request (RFC 9110 §15.2"],
    );
    let run = run_with_echo(Fault::ChunksToHttp10, tags).await;
    assert_verdict(&run, NO_TE_10, "FAIL");
    assert_has(
        &run,
        &["Transfer-Encoding in the response to an HTTP/1.0 request (RFC 9112 §6.1"],
    );
    let run = run_with_echo(Fault::UnquotedEtag, tags).await;
    assert_verdict(&run, ETAG_GRAMMAR, "FAIL");
    assert_has(
        &run,
        &[
            "the ETag is not an entity-tag (RFC 9110 §8.8.3)",
            "got:         ETag: v1",
        ],
    );
}

/// Well-formedness is judged by the reader on every response a step reads:
/// a scenario that never asks for it fails on a malformed response too.
#[tokio::test(flavor = "multi_thread")]
async fn every_response_read_is_judged_interim_ones_included() {
    let run = run_with(Fault::InterimWithLength).await;
    assert_verdict(&run, "Two identical GETs both get the whole object", "FAIL");
    assert_has(
        &run,
        &["malformed HTTP interim 1xx response: Content-Length in a 100 response (RFC 9110 §8.6"],
    );
    let run = run_with(Fault::FoldedResponse).await;
    assert_verdict(&run, "Two identical GETs both get the whole object", "FAIL");
    assert_has(
        &run,
        &["obsolete line folding: \" second\" (RFC 9112 §5.2: \"A sender MUST NOT generate a message that includes line folding\")"],
    );
}

#[tokio::test]
async fn reader_names_the_rule_a_malformed_response_breaks() {
    for (reply, rule) in [
        (
            &b"HTTP/1.1 200 OK\nContent-Length: 0\n\n"[..],
            "RFC 9112 §2.1",
        ),
        (b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", "RFC 9112 §4"),
        (
            b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n",
            "RFC 9112 §5.2",
        ),
        (
            b"HTTP/1.1 200 OK\r\nX : a\r\nContent-Length: 0\r\n\r\n",
            "RFC 9112 §5.1",
        ),
        (
            b"HTTP/1.1 200 OK\r\nX: a\x00b\r\nContent-Length: 0\r\n\r\n",
            "RFC 9110 §5.5",
        ),
        (
            b"HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n",
            "RFC 9110 §5.5",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "RFC 9112 §6.2",
        ),
        (
            b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
            "RFC 9110 §8.6",
        ),
        (
            b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
            "RFC 9112 §6.1",
        ),
        (
            b"HTTP/1.1 600 Odd\r\nContent-Length: 0\r\n\r\n",
            "RFC 9110 §15",
        ),
        (
            b"HTTP/1.1 103 Early Hints\nLink: </a>\n\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            "interim 1xx response: the status line ends in a bare LF",
        ),
    ] {
        let addr = one_connection(move |mut s| async move {
            let _ = s.write_all(reply).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        })
        .await;
        let got = read_from(addr).await;
        match got {
            Err(e @ WireError::Malformed { .. }) => {
                assert!(e.to_string().contains(rule), "{rule}: {e}")
            }
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(reply)),
        }
    }
    // To an HTTP/1.0 request: no 1xx, no Transfer-Encoding.
    let addr = one_connection(|mut s| async move {
        let _ = s
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    })
    .await;
    let t = Transcript::new();
    let mut c = Conn::connect(addr, "http", &t, Duration::from_millis(500))
        .await
        .unwrap();
    let e = read_response_to(&mut c, "GET", true).await.unwrap_err();
    assert!(e.to_string().contains("RFC 9110 §15.2"), "{e}");
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

// ---- conform fixtures: the resource snippets ---------------------------------

/// `conform fixtures` writes a snippet per server naming the four resources
/// and the profile lines, and CGI scripts that do what the keys promise.
#[tokio::test]
async fn fixtures_write_resource_snippets_whose_scripts_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fx");
    let run = conform(&["fixtures", "--out", out.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    let snippets = out.join("snippets");
    let cgi = std::fs::canonicalize(snippets.join("cgi-bin")).unwrap();
    for server in ["nginx", "apache2", "lighttpd"] {
        let text = std::fs::read_to_string(snippets.join(format!("{server}.conf"))).unwrap();
        for want in [
            "/echo",
            "/redirect",
            "/cookie/set",
            "/cookie/show",
            "#   echo = \"/echo\"",
            "#   cookie_show = \"/cookie/show\"",
        ] {
            assert!(text.contains(want), "{server}.conf names {want}\n{text}");
        }
        if server != "nginx" {
            assert!(text.contains(&cgi.display().to_string()), "{text}");
        }
    }
    let template = std::fs::read_to_string(out.join("profile.toml")).unwrap();
    for key in [
        "echo",
        "redirect",
        "redirect_to",
        "cookie_set",
        "cookie_show",
    ] {
        assert!(template.contains(&format!("# {key} = ")), "{template}");
    }
    // The CGI scripts, run as a server runs them.
    let script = |name: &str, stdin: &'static [u8], env: &[(&str, &str)]| {
        let mut cmd = tokio::process::Command::new(cgi.join(name));
        cmd.envs(env.iter().copied())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped());
        async move {
            let mut child = cmd.spawn().expect("the CGI script runs");
            let mut input = child.stdin.take().unwrap();
            input.write_all(stdin).await.unwrap();
            drop(input);
            let out = child.wait_with_output().await.unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
    };
    let echo = script("echo", b"hello world", &[("CONTENT_LENGTH", "11")]).await;
    assert!(
        echo.starts_with("Content-Type: text/plain\r\n\r\n") && echo.ends_with("len=11\n"),
        "{echo:?}"
    );
    let set = script("cookie-set", b"", &[]).await;
    assert!(
        set.contains("\r\nSet-Cookie: conform_id=4711; Path=/\r\n\r\n"),
        "{set:?}"
    );
    let show = script("cookie-show", b"", &[("HTTP_COOKIE", "conform_id=4711")]).await;
    assert!(show.ends_with("cookie=conform_id=4711\n"), "{show:?}");
}

/// A resource key that is not a path is a configuration error naming it.
#[tokio::test]
async fn a_resource_key_that_is_not_a_path_is_a_configuration_error() {
    let run = run_against(
        "http",
        "[http]\naddress = \"127.0.0.1:9\"\necho = \"echo\"\n",
        &[],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("[http] echo: \"echo\" must be a path"),
        "{}",
        run.all()
    );
}

/// A resource key naming a path that does not do what the key promises is
/// the profile's problem: an error naming the key, not a conformance failure.
#[tokio::test(flavor = "multi_thread")]
async fn a_resource_key_for_a_missing_resource_is_an_error_not_a_failure() {
    let addr = faulty_server(Fault::IgnoresIfModifiedSince).await;
    let profile = format!("[http]\naddress = \"{addr}\"\necho = \"/no-such-echo\"\n");
    let run = run_against("http", &profile, &["--step-timeout", "1s"]).await;
    assert_verdict(
        &run,
        "A POST body is read whole (the echo resource",
        "ERROR",
    );
    assert_has(
        &run,
        &["the profile's http.echo = \"/no-such-echo\" does not behave as that resource"],
    );
}

/// RFC 9112 §3.2.2: in absolute-form the target's host is used, the Host
/// field ignored; a server that routes by Host there fails.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_routes_absolute_form_by_host_fails() {
    let run = run_with_echo(Fault::HostOverAbsoluteForm, "@rfc9112-sec-3.2.2").await;
    assert_verdict(
        &run,
        "In absolute-form the request-target's host is used, not the Host field",
        "FAIL",
    );
}
