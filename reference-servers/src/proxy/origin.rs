//! The proxy as a client of the origin: one connection per forwarded
//! request, the request written in origin-form, the response read with the
//! server's own bounded readers (status line, fields, body framed by
//! RFC 9112 §6.3), all within the origin deadline.

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::http::body::chunked;
use crate::http::input::{Input, ReadError};
use crate::http::request::field_line;
use crate::http::{MAX_FIELDS, MAX_FIELD_LINE, MAX_HEADER_BYTES};

/// A response as the origin sent it.
pub struct OriginResponse {
    pub status: u16,
    pub reason: String,
    pub fields: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why there is no response: the status the client gets instead.
#[derive(Debug)]
pub enum Failed {
    /// RFC 9110 §15.6.3: 502, "an invalid response from the inbound
    /// server" (refused, reset, closed early, malformed, too large).
    BadGateway(String),
    /// RFC 9110 §15.6.5: 504, "did not receive a timely response".
    Timeout,
}

/// Sends `head` and `body` to `addr` and reads the response to `method`,
/// all within `deadline` (none: wait for ever — only the HangOnDeadOrigin
/// flaw does that). Responses larger than `max_body` are 502.
pub async fn exchange(
    addr: &str,
    head: &[u8],
    body: &[u8],
    method: &str,
    deadline: Option<Duration>,
    max_body: usize,
) -> Result<OriginResponse, Failed> {
    let work = async {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| Failed::BadGateway(format!("cannot connect to {addr}: {e}")))?;
        let _ = stream.set_nodelay(true);
        let (read, mut write) = stream.into_split();
        let mut out = head.to_vec();
        out.extend_from_slice(body);
        write
            .write_all(&out)
            .await
            .map_err(|e| Failed::BadGateway(format!("writing to {addr}: {e}")))?;
        let mut input = Input::new(read);
        // Interim 1xx responses are not forwarded (this proxy never sends
        // Expect upstream); a bounded number is skipped.
        for _ in 0..4 {
            let r = read_response(&mut input, method, max_body).await?;
            if (100..200).contains(&r.status) {
                continue;
            }
            return Ok(r);
        }
        Err(Failed::BadGateway("too many interim responses".into()))
    };
    match deadline {
        Some(d) => tokio::time::timeout(d, work)
            .await
            .unwrap_or(Err(Failed::Timeout)),
        None => work.await,
    }
}

fn bad(what: &str) -> impl Fn(ReadError) -> Failed + '_ {
    move |e| Failed::BadGateway(format!("{what}: {e:?}"))
}

async fn read_response(
    input: &mut Input,
    method: &str,
    max_body: usize,
) -> Result<OriginResponse, Failed> {
    let line = input
        .read_line(MAX_FIELD_LINE)
        .await
        .map_err(bad("the status line"))?;
    // status-line = HTTP-version SP status-code SP [ reason-phrase ]
    // (RFC 9112 §4).
    let text = String::from_utf8_lossy(&line);
    let mut parts = text.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().unwrap_or("");
    let reason: String = parts
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    if !version.starts_with("HTTP/1.") || code.len() != 3 {
        return Err(Failed::BadGateway(format!(
            "not a status line: {:?}",
            text.chars().take(80).collect::<String>()
        )));
    }
    let status: u16 = code
        .parse()
        .ok()
        .filter(|s| (100..600).contains(s))
        .ok_or_else(|| Failed::BadGateway(format!("bad status code {code:?}")))?;
    let mut fields = Vec::new();
    let mut total = 0;
    loop {
        let line = input
            .read_line(MAX_FIELD_LINE)
            .await
            .map_err(bad("the response fields"))?;
        if line.is_empty() {
            break;
        }
        total += line.len() + 2;
        if total > MAX_HEADER_BYTES || fields.len() >= MAX_FIELDS {
            return Err(Failed::BadGateway(
                "response header section too large".into(),
            ));
        }
        let (name, value) = field_line(&line)
            .map_err(|_| Failed::BadGateway("a malformed response field line".into()))?;
        fields.push((name, String::from_utf8_lossy(&value).into_owned()));
    }
    let get = |n: &str| super::cache::joined(&fields, n);
    // RFC 9112 §6.3: HEAD, 1xx, 204 and 304 have no body; then chunked;
    // then Content-Length (differing values are unrecoverable); else the
    // body runs to the close.
    let body = if method == "HEAD" || status < 200 || status == 204 || status == 304 {
        Vec::new()
    } else if get("transfer-encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked")) {
        let b = chunked(input)
            .await
            .map_err(|r| Failed::BadGateway(format!("a bad chunked body ({})", r.0)))?;
        if b.len() > max_body {
            return Err(Failed::BadGateway("response body too large".into()));
        }
        b
    } else if let Some(cl) = get("content-length") {
        let mut n: Option<usize> = None;
        for v in cl.split(',') {
            let v: usize = v
                .trim()
                .parse()
                .map_err(|_| Failed::BadGateway(format!("bad Content-Length {cl:?}")))?;
            if n.is_some_and(|n| n != v) {
                return Err(Failed::BadGateway(format!(
                    "conflicting Content-Length {cl:?}"
                )));
            }
            n = Some(v);
        }
        let n = n.unwrap_or(0);
        if n > max_body {
            return Err(Failed::BadGateway("response body too large".into()));
        }
        input
            .read_exact(n)
            .await
            .map_err(bad("the response body"))?
    } else {
        let mut b = Vec::new();
        loop {
            match input.read_some().await {
                Ok(bytes) => b.extend(bytes),
                Err(_) => break,
            }
            if b.len() > max_body {
                return Err(Failed::BadGateway("response body too large".into()));
            }
        }
        b
    };
    Ok(OriginResponse {
        status,
        reason,
        fields,
        body,
    })
}
