//! A scenario driven by a real client library, async-imap: what a Rust
//! mail client would do (log in, select, fetch envelopes) must work
//! against the target. The library parses the server's responses with its
//! own parser (imap-proto), independently of the harness's reader.

use cucumber::{then, when};
use futures::TryStreamExt;

use super::{scratch, ImapState};
use crate::step;
use crate::steps::{Failure, StepResult, World};

/// One line of the server, read a byte at a time (nothing past it is
/// consumed: the TLS handshake follows STARTTLS's completion), bounded.
async fn read_line(tcp: &mut tokio::net::TcpStream) -> Result<String, String> {
    use tokio::io::AsyncReadExt;
    let mut line = Vec::new();
    while line.len() < 8 * 1024 {
        let b = tcp.read_u8().await.map_err(|e| format!("reading: {e}"))?;
        line.push(b);
        if b == b'\n' {
            return Ok(String::from_utf8_lossy(&line).trim_end().to_string());
        }
    }
    Err("a line of more than 8 KiB".into())
}

/// The connection async-imap runs on: plain TCP, or TLS as the profile
/// says — STARTTLS done here (async-imap has no STARTTLS of its own; RFC
/// 9051 §6.2.1), or at once on an implicit-TLS port. `true` when the
/// greeting is still to be read.
async fn open(
    addr: std::net::SocketAddr,
    tls: Option<(crate::wire::tls::Mode, crate::wire::tls::Client)>,
) -> Result<(Box<dyn Stream>, bool), String> {
    use crate::wire::tls::Mode;
    use tokio::io::AsyncWriteExt;
    let mut tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let Some((mode, client)) = tls else {
        return Ok((Box::new(tcp), true));
    };
    if mode == Mode::StartTls {
        read_line(&mut tcp)
            .await
            .map_err(|e| format!("the greeting: {e}"))?;
        tcp.write_all(b"s1 STARTTLS\r\n")
            .await
            .map_err(|e| format!("STARTTLS: {e}"))?;
        loop {
            let line = read_line(&mut tcp)
                .await
                .map_err(|e| format!("STARTTLS: {e}"))?;
            if line.starts_with("s1 ") {
                if !line.starts_with("s1 OK") {
                    return Err(format!("STARTTLS was answered \"{line}\""));
                }
                break;
            }
        }
    }
    let connector = tokio_rustls::TlsConnector::from(client.config.clone());
    let stream = connector
        .connect(client.name.clone(), tcp)
        .await
        .map_err(|e| crate::wire::tls::handshake_error(&e, &client).0)?;
    Ok((Box::new(stream), mode == Mode::Implicit))
}

/// What async-imap can run on.
trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + std::fmt::Debug> Stream
    for T
{
}

async fn fetch_subjects(
    addr: std::net::SocketAddr,
    tls: Option<(crate::wire::tls::Mode, crate::wire::tls::Client)>,
    user: &str,
    pass: &str,
    mailbox: &str,
) -> Result<Vec<String>, String> {
    let (stream, greeting) = open(addr, tls).await?;
    let mut client = async_imap::Client::new(stream);
    if greeting {
        client
            .read_response()
            .await
            .map_err(|e| format!("reading the greeting: {e}"))?
            .ok_or("the server closed before its greeting")?;
    }
    let mut session = client
        .login(user, pass)
        .await
        .map_err(|(e, _)| format!("LOGIN: {e}"))?;
    let mailbox_info = session
        .select(mailbox)
        .await
        .map_err(|e| format!("SELECT: {e}"))?;
    let mut subjects = Vec::new();
    if mailbox_info.exists > 0 {
        let fetches: Vec<_> = session
            .fetch("1:*", "(UID ENVELOPE)")
            .await
            .map_err(|e| format!("FETCH: {e}"))?
            .try_collect()
            .await
            .map_err(|e| format!("FETCH responses: {e}"))?;
        for f in &fetches {
            let subject = f
                .envelope()
                .and_then(|e| e.subject.as_ref())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .unwrap_or_default();
            subjects.push(subject);
        }
    }
    session.logout().await.map_err(|e| format!("LOGOUT: {e}"))?;
    Ok(subjects)
}

/// A real client (async-imap) logs in, selects the scratch mailbox and
/// fetches every envelope.
#[when(regex = r"^a client built on async-imap fetches the envelopes of the scratch mailbox$")]
async fn library_fetch(w: &mut World) -> StepResult {
    step!(w, {
        let addr = crate::steps::raw::address(w, "${imap.address}")?;
        let user = w.expand("${imap.user}")?;
        let pass = w.expand("${imap.password}")?;
        let mailbox = scratch(w, "scratch")?;
        w.transcript.event(
            "async-imap",
            format!("async-imap connects to {addr}, selects {mailbox}, fetches 1:* (UID ENVELOPE)"),
        );
        // Through a recording relay, which holds the connection's lease
        // and cuts off a server that floods the library.
        let relay = w
            .library_relay(addr, "async-imap", crate::protocol::Protocol::Imap)
            .await?;
        // The profile's TLS, for the server's name and trust; the library
        // connects through the relay.
        let tls = match crate::steps::tls::mode(w, "imap") {
            crate::wire::tls::Mode::None => None,
            mode => Some((mode, crate::steps::tls::client(w, "imap")?)),
        };
        let run = fetch_subjects(relay.addr, tls, &user, &pass, &mailbox);
        let subjects = match tokio::time::timeout(w.step_timeout, run).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                w.transcript.event("async-imap", format!("failed: {e}"));
                return Err(Failure::conformance(format!(
                    "the async-imap client failed: {e}"
                )));
            }
            Err(_) => {
                return Err(Failure::conformance(
                    "the async-imap client did not finish within the step timeout",
                ))
            }
        };
        w.transcript
            .event("async-imap", format!("subjects seen: {subjects:?}"));
        w.state::<ImapState>().library_subjects = subjects;
        Ok(())
    })
}

/// async-imap saw the test messages' subjects, in order.
#[then(regex = r"^async-imap saw the subjects of the test messages in order$")]
async fn library_saw(w: &mut World) -> StepResult {
    step!(w, {
        let want: Vec<String> = super::messages::ALL
            .iter()
            .map(|m| m.subject.to_string())
            .collect();
        let got = w.state::<ImapState>().library_subjects.clone();
        if got == want {
            Ok(())
        } else {
            Err(
                Failure::conformance("async-imap saw other envelopes than the messages appended")
                    .expected(format!("{want:?}"))
                    .got(format!("{got:?}")),
            )
        }
    })
}
