//! One connection: requests are read and answered one after another, so
//! pipelined requests get their responses in order (RFC 9112 §9.3.2). The
//! connection persists unless the request asks otherwise (§9.3) or its
//! framing cannot be trusted, and it is closed after the idle timeout.

use std::time::Duration;

use tokio::io::{AsyncWriteExt, WriteHalf};
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::body::{self, Framing};
use super::input::Input;
use super::request::{self, Reject, Request};
use super::response::Response;
use super::{resource, Config};

/// How long a closing connection keeps reading what the client still sends,
/// so that the response is not destroyed by a TCP reset (RFC 9112 §9.6).
const LINGER: Duration = Duration::from_millis(500);

/// The longest a TLS handshake may take.
const HANDSHAKE: Duration = Duration::from_secs(30);

/// The sending side of a connection: TCP, or TLS over it.
type Writer = WriteHalf<crate::tls::Stream>;

pub async fn run(stream: TcpStream, config: &Config) {
    // HTTPS (RFC 9110 §4.2.2): TLS from the first byte, the server
    // selecting http/1.1 by ALPN (RFC 7301) when the client offers it.
    let io = match &config.tls {
        Some(identity) => {
            match crate::tls::implicit(stream, identity, HANDSHAKE.min(config.idle_timeout)).await {
                Some(io) => io,
                None => return,
            }
        }
        None => crate::tls::plain(stream),
    };
    let (reader, mut writer) = tokio::io::split(io);
    let mut input = Input::new(reader);
    loop {
        // Idle between requests: nothing arrives within the timeout → close.
        match timeout(config.idle_timeout, input.has_data()).await {
            Ok(true) => {}
            _ => return,
        }
        let req = match timeout(config.idle_timeout, request::read_head(&mut input)).await {
            Err(_) | Ok(Ok(None)) => return,
            Ok(Err(Reject(status))) => {
                close_with(&mut writer, &mut input, Response::error(status), false).await;
                return;
            }
            Ok(Ok(Some(req))) => req,
        };
        if !answer(&req, &mut input, &mut writer, config).await {
            return;
        }
    }
}

/// Answers one request; false when the connection is to be closed.
async fn answer(req: &Request, input: &mut Input, writer: &mut Writer, config: &Config) -> bool {
    let head_only = req.method == "HEAD";
    if let Err(Reject(status)) = host_ok(req) {
        close_with(writer, input, Response::error(status), head_only).await;
        return false;
    }
    let framing = match body::framing(req) {
        Ok(f) => f,
        Err(Reject(status)) => {
            close_with(writer, input, Response::error(status), head_only).await;
            return false;
        }
    };
    if framing != Framing::None && req.minor >= 1 {
        if let Some(expect) = req.field("expect") {
            // RFC 9110 §10.1.1: 100-continue is the only expectation defined.
            if !expect.trim().eq_ignore_ascii_case("100-continue") {
                close_with(writer, input, Response::error(417), head_only).await;
                return false;
            }
            if !send(writer, b"HTTP/1.1 100 Continue\r\n\r\n").await {
                return false;
            }
        }
    }
    let content = match timeout(config.idle_timeout, body::read(input, &framing)).await {
        Ok(Ok(b)) => b,
        Ok(Err(Reject(status))) => {
            close_with(writer, input, Response::error(status), head_only).await;
            return false;
        }
        Err(_) => return false,
    };
    let response = resource::respond(req, &content, &config.root).await;
    // RFC 9112 §9.3: HTTP/1.1 persists unless "close" is listed; HTTP/1.0
    // persists only when the client asked for keep-alive.
    let keep = if req.minor >= 1 {
        !req.lists("connection", "close")
    } else {
        req.lists("connection", "keep-alive")
    };
    if !keep {
        close_with(writer, input, response, head_only).await;
        return false;
    }
    let connection = (req.minor == 0).then_some("keep-alive");
    send(writer, &response.to_bytes(head_only, connection)).await
}

/// Writes and flushes (a TLS stream holds what is written until flushed).
async fn send(writer: &mut Writer, bytes: &[u8]) -> bool {
    writer.write_all(bytes).await.is_ok() && writer.flush().await.is_ok()
}

/// RFC 9112 §3.2: an HTTP/1.1 request MUST have exactly one Host with a
/// valid value; otherwise 400.
fn host_ok(req: &Request) -> Result<(), Reject> {
    let hosts: Vec<&[u8]> = req.all("host").collect();
    match hosts.as_slice() {
        [] if req.minor == 0 => Ok(()),
        [h] if valid_host(h) => Ok(()),
        _ => Err(Reject(400)),
    }
}

/// `uri-host [ ":" port ]`, loosely: reg-name/IPv4 characters or an IP
/// literal, then digits for the port. Empty is allowed (RFC 9110 §7.2).
fn valid_host(h: &[u8]) -> bool {
    let (host, port) = if h.starts_with(b"[") {
        match h.iter().position(|b| *b == b']') {
            Some(i) => (&h[..=i], &h[i + 1..]),
            None => return false,
        }
    } else {
        match h.iter().position(|b| *b == b':') {
            Some(i) => (&h[..i], &h[i..]),
            None => (h, &h[h.len()..]),
        }
    };
    let host_ok = host
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=%[]:".contains(b));
    let port_ok = port.is_empty()
        || (port[0] == b':' && port[1..].iter().all(u8::is_ascii_digit) && port.len() <= 6);
    host_ok && port_ok
}

/// Sends the response with `Connection: close`, half-closes, and drains what
/// the client still sends for a moment before the socket is dropped.
async fn close_with(writer: &mut Writer, input: &mut Input, response: Response, head_only: bool) {
    if !send(writer, &response.to_bytes(head_only, Some("close"))).await {
        return;
    }
    let _ = writer.shutdown().await;
    let _ = timeout(LINGER, async {
        for _ in 0..64 {
            if input.read_exact(1024).await.is_err() {
                break;
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    #[test]
    fn host_values() {
        for ok in [
            &b"a.test"[..],
            b"a.test:80",
            b"127.0.0.1:8080",
            b"[::1]:80",
            b"",
        ] {
            assert!(super::valid_host(ok), "{ok:?}");
        }
        for bad in [&b"a b"[..], b"a.test:8x", b"a/b", b"[::1"] {
            assert!(!super::valid_host(bad), "{bad:?}");
        }
    }
}
