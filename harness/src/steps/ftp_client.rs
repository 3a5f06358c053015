//! FTP through a real client library, suppaftp (tokio; rustls with ring
//! where the profile sets `[ftp] tls`): what a user's program does — log
//! in, list, upload and download in passive and active mode, in binary and
//! ASCII. In plaintext its control connection goes through a recording
//! relay, so the transcript shows it (`suppaftp#1`); with TLS suppaftp
//! connects itself (its bytes are encrypted). What the library did is noted
//! as events under `suppaftp`.

use cucumber::{given, then, when};
use suppaftp::types::{FileType, FormatControl};
use suppaftp::Status;
use suppaftp::{ActivePeerCheck, Mode};
use tokio::io::AsyncReadExt;
use tokio::sync::Mutex;

use super::ftp::{account, crlf, fixture_bytes, register_cleanup, FtpState};
use super::text::payload;
use super::{Failure, StepResult, World};
use crate::step;
use crate::wire::ftp::data::MAX_DATA;
use crate::wire::relay::Relay;

const NAME: &str = "suppaftp";

/// suppaftp over rustls, through [`Flushing`].
type AsyncFtpStream = suppaftp::tokio::ImplAsyncFtpStream<Flushing>;

/// suppaftp's TLS connector: rustls (the profile's CA), its streams
/// wrapped in [`Flushing`].
struct Connector(tokio_rustls::TlsConnector);

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Connector")
    }
}

#[async_trait::async_trait]
impl suppaftp::tokio::AsyncTlsConnector for Connector {
    type Stream = Flushing;

    async fn connect(
        &self,
        domain: &str,
        stream: tokio::net::TcpStream,
    ) -> suppaftp::FtpResult<Flushing> {
        let name = rustls::pki_types::ServerName::try_from(domain.to_string())
            .map_err(|e| suppaftp::FtpError::SecureError(e.to_string()))?;
        self.0
            .connect(name, stream)
            .await
            .map(|tls| Flushing(Box::new(tls)))
            .map_err(|e| suppaftp::FtpError::SecureError(e.to_string()))
    }
}

/// A rustls stream that sends what it is given. suppaftp writes a command
/// and waits for the reply without flushing, and tokio-rustls does not
/// promise to send a write before a flush. Seen on the wire (a relay in
/// between): in about one run in five under load, the command after TYPE
/// never left the client, and both ends waited until the step timeout.
/// Every write here is flushed, and every read first sends whatever is
/// still pending; with that, 30 runs in a row passed.
#[derive(Debug)]
struct Flushing(Box<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>);

use tokio::io::AsyncWrite as _;

impl tokio::io::AsyncRead for Flushing {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        // A flush still pending registers the waker for writability; the
        // read goes on regardless, so a reply is never held up by it.
        if let std::task::Poll::Ready(Err(e)) = std::pin::Pin::new(&mut *self.0).poll_flush(cx) {
            return std::task::Poll::Ready(Err(e));
        }
        std::pin::Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Flushing {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        // What an earlier write left in rustls goes first.
        std::task::ready!(std::pin::Pin::new(&mut *self.0).poll_flush(cx))?;
        let n = std::task::ready!(std::pin::Pin::new(&mut *self.0).poll_write(cx, buf))?;
        // Pending here is fine: the next write or read flushes it.
        if let std::task::Poll::Ready(Err(e)) = std::pin::Pin::new(&mut *self.0).poll_flush(cx) {
            return std::task::Poll::Ready(Err(e));
        }
        std::task::Poll::Ready(Ok(n))
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

impl suppaftp::tokio::TokioTlsStream for Flushing {
    type InnerStream = tokio_rustls::client::TlsStream<tokio::net::TcpStream>;

    fn tcp_stream(self) -> suppaftp::FtpResult<tokio::net::TcpStream> {
        Ok(self.0.into_inner().0)
    }

    fn get_ref(&self) -> &tokio::net::TcpStream {
        self.0.get_ref().0
    }

    fn mut_ref(&mut self) -> &mut Self::InnerStream {
        &mut self.0
    }
}

/// The logged-in client, and the relay its control connection goes through.
#[derive(Default)]
struct Client {
    ftp: Option<Mutex<AsyncFtpStream>>,
    _relay: Option<Relay>,
    /// With TLS, suppaftp's connection is not the relay's: its lease.
    _lease: Option<crate::target::budget::Lease>,
}

fn lib_failure(what: &str, e: suppaftp::FtpError) -> Failure {
    Failure::conformance(format!("suppaftp could not {what}: {e}"))
}

fn note(w: &World, what: impl Into<String>) {
    w.transcript.event(NAME, what);
}

/// Reads a suppaftp data connection to its end, at most [`MAX_DATA`]
/// bytes, each counted against the scenario's memory allowance
/// (`transcript::memory`): the data connection does not go through the relay.
async fn read_data<R: tokio::io::AsyncRead + Unpin>(
    stream: &mut R,
    transcript: &crate::transcript::Transcript,
    what: &str,
) -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| Failure::conformance(format!("reading {what} failed: {e}")))?;
        if n == 0 {
            return Ok(buf);
        }
        if let Err(limit) = transcript.charge(n) {
            return Err(crate::wire::WireError::OverBudget {
                what: what.to_string(),
                limit,
            }
            .into());
        }
        if buf.len() + n > MAX_DATA {
            return Err(crate::wire::WireError::TooLong {
                what: what.to_string(),
                limit: MAX_DATA,
            }
            .into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn with_client<T>(
    w: &mut World,
    f: impl for<'a> FnOnce(&'a mut AsyncFtpStream) -> futures::future::BoxFuture<'a, Result<T, Failure>>,
) -> Result<T, Failure> {
    let client = w
        .state::<Client>()
        .ftp
        .as_ref()
        .ok_or_else(|| Failure::harness("the scenario uses suppaftp before logging it in"))?;
    let mut guard = client.lock().await;
    f(&mut guard).await
}

/// A real client (suppaftp, tokio) logged in with the `[ftp]` user and
/// password; inside its own AUTH TLS where `[ftp] tls = "starttls"`.
#[given(regex = r"^a suppaftp client logged in as the profile's user$")]
async fn suppaftp_logged_in(w: &mut World) -> StepResult {
    step!(w, {
        let acct = account(w)?;
        let mode = super::tls::mode(w, "ftp");
        let (mut ftp, relay, lease) = if mode == crate::wire::tls::Mode::None {
            let relay = w
                .library_relay(acct.address, NAME, crate::protocol::Protocol::Ftp)
                .await?;
            note(
                w,
                format!(
                    "connect to {} through the relay {}",
                    acct.address, relay.addr
                ),
            );
            let ftp = AsyncFtpStream::connect_timeout(relay.addr, w.step_timeout)
                .await
                .map_err(|e| lib_failure("connect and read the greeting", e))?;
            (ftp, Some(relay), None)
        } else {
            if mode == crate::wire::tls::Mode::Implicit {
                return Err(Failure::skip(
                    "the suppaftp scenarios run in plaintext or with AUTH TLS; the target profile sets [ftp] tls = \"implicit\"",
                ));
            }
            // suppaftp's own TLS (RFC 4217): AUTH TLS, the handshake, PBSZ 0
            // and PROT P before USER, trusting only the profile's CA; every
            // data connection is TLS too.
            let client = super::tls::client(w, "ftp")?;
            let lease = crate::steps::lease(
                &w.budget,
                Some(crate::protocol::Protocol::Ftp),
                NAME,
                &w.transcript,
                w.step_timeout,
            )
            .await?;
            let domain = client.name.to_str().into_owned();
            note(
                w,
                format!(
                    "suppaftp connects itself to {} (AUTH TLS, rustls, verifying \"{domain}\"; its bytes are not shown)",
                    acct.address
                ),
            );
            let connector = Connector(tokio_rustls::TlsConnector::from(client.config.clone()));
            let ftp = AsyncFtpStream::connect_timeout(acct.address, w.step_timeout)
                .await
                .map_err(|e| lib_failure("connect and read the greeting", e))?;
            let ftp = tokio::time::timeout(w.step_timeout, ftp.into_secure(connector, &domain))
                .await
                .map_err(|_| {
                    Failure::conformance(
                        "suppaftp's AUTH TLS, PBSZ and PROT did not complete within the step timeout",
                    )
                })?
                .map_err(|e| lib_failure("secure the connection (AUTH TLS, PBSZ 0, PROT P)", e))?;
            note(w, "TLS is up; PBSZ 0 and PROT P accepted");
            (ftp, None, Some(lease))
        };
        // The control connection's peer may be the relay; active-mode data
        // connections must come from the server itself.
        ftp.set_active_peer_check(ActivePeerCheck::Allow(vec![acct.address.ip()]));
        note(w, format!("USER {} / PASS ****", acct.user));
        ftp.login(acct.user.as_str(), acct.password.as_str())
            .await
            .map_err(|e| lib_failure("log in with the profile's user", e))?;
        note(w, "logged in");
        *w.state::<Client>() = Client {
            ftp: Some(Mutex::new(ftp)),
            _relay: relay,
            _lease: lease,
        };
        Ok(())
    })
}

/// suppaftp's data connections: passive or active.
#[when(regex = r"^suppaftp uses (passive|active) mode$")]
async fn suppaftp_mode(w: &mut World, mode: String) -> StepResult {
    step!(w, {
        let timeout = w.step_timeout;
        let slot = &mut w.state::<Client>().ftp;
        let ftp = slot
            .take()
            .ok_or_else(|| Failure::harness("the scenario uses suppaftp before logging it in"))?
            .into_inner();
        let ftp = if mode == "active" {
            ftp.active_mode(timeout)
        } else {
            let mut ftp = ftp;
            ftp.set_mode(Mode::Passive);
            ftp
        };
        *slot = Some(Mutex::new(ftp));
        note(w, format!("{mode} mode"));
        Ok(())
    })
}

/// suppaftp's transfer type: binary (I) or ASCII (A).
#[when(regex = r"^suppaftp uses (binary|ASCII) type$")]
async fn suppaftp_type(w: &mut World, kind: String) -> StepResult {
    step!(w, {
        let t = if kind == "ASCII" {
            FileType::Ascii(FormatControl::Default)
        } else {
            FileType::Binary
        };
        note(w, format!("TYPE {kind}"));
        with_client(w, |ftp| {
            Box::pin(async move {
                ftp.transfer_type(t)
                    .await
                    .map_err(|e| lib_failure("set the transfer type", e))
            })
        })
        .await
    })
}

/// suppaftp downloads the file (RETR); the data is kept for the checks.
#[when(regex = r#"^suppaftp downloads "(.*)"$"#)]
async fn suppaftp_downloads(w: &mut World, name: String) -> StepResult {
    step!(w, {
        let n = name.clone();
        let transcript = w.transcript.clone();
        let bytes = with_client(w, |ftp| {
            Box::pin(async move {
                let mut stream = ftp
                    .retr_as_stream(&n)
                    .await
                    .map_err(|e| lib_failure(&format!("start RETR {n}"), e))?;
                let buf = read_data(&mut stream, &transcript, &format!("the data of {n}")).await?;
                stream.finish().await.map_err(|e| {
                    lib_failure(&format!("finish RETR {n} (the completion reply)"), e)
                })?;
                Ok(buf)
            })
        })
        .await?;
        note(
            w,
            format!("RETR {name}: {} bytes, transfer complete", bytes.len()),
        );
        w.state::<FtpState>().received = Some(bytes);
        Ok(())
    })
}

async fn upload(w: &mut World, name: String, bytes: Vec<u8>) -> StepResult {
    register_cleanup(w, vec![format!("DELE {name}")])?;
    let n = name.clone();
    let sent = with_client(w, |ftp| {
        Box::pin(async move {
            let mut reader = std::io::Cursor::new(bytes);
            ftp.put_file(&n, &mut reader)
                .await
                .map_err(|e| lib_failure(&format!("STOR {n}"), e))
        })
    })
    .await?;
    note(
        w,
        format!("STOR {name}: {sent} bytes sent, transfer complete"),
    );
    Ok(())
}

/// suppaftp uploads NAME with a fixture file's content (removed afterwards).
#[when(regex = r#"^suppaftp uploads "(.*)" with the fixture file "(.*)"$"#)]
async fn suppaftp_uploads_fixture(w: &mut World, name: String, fixture: String) -> StepResult {
    step!(w, {
        let bytes = fixture_bytes(&fixture)?.to_vec();
        upload(w, name, bytes).await
    })
}

/// suppaftp uploads NAME with these bytes (removed afterwards).
#[when(regex = r#"^suppaftp uploads "(.*)" with the bytes "(.*)"$"#)]
async fn suppaftp_uploads_bytes(w: &mut World, name: String, text: String) -> StepResult {
    step!(w, {
        let bytes = payload(w, &text)?;
        upload(w, name, bytes).await
    })
}

/// suppaftp lists the current directory (LIST).
#[when(regex = r"^suppaftp lists the current directory$")]
async fn suppaftp_lists(w: &mut World) -> StepResult {
    step!(w, {
        // suppaftp's own `list` keeps every line the server sends: the
        // data is read here, bounded, and cut into lines as it does.
        let transcript = w.transcript.clone();
        let lines = with_client(w, |ftp| {
            Box::pin(async move {
                let (_, mut stream) = ftp
                    .custom_data_command("LIST", &[Status::AboutToSend, Status::AlreadyOpen])
                    .await
                    .map_err(|e| lib_failure("LIST", e))?;
                let data = read_data(&mut stream, &transcript, "the listing").await?;
                stream
                    .finish()
                    .await
                    .map_err(|e| lib_failure("finish LIST (the completion reply)", e))?;
                Ok(data
                    .split(|b| *b == b'\n')
                    .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
                    .filter(|l| !l.is_empty())
                    .map(|l| String::from_utf8_lossy(l).into_owned())
                    .collect::<Vec<_>>())
            })
        })
        .await?;
        note(w, format!("LIST: {} lines", lines.len()));
        let mut data = Vec::new();
        for l in lines {
            data.extend_from_slice(l.as_bytes());
            data.extend_from_slice(b"\r\n");
        }
        w.state::<FtpState>().received = Some(data);
        Ok(())
    })
}

/// suppaftp's SIZE of NAME equals the fixture file's size.
#[then(regex = r#"^suppaftp reports the size of "(.*)" as the fixture file "(.*)"'s$"#)]
async fn suppaftp_size(w: &mut World, name: String, fixture: String) -> StepResult {
    step!(w, {
        let expected = fixture_bytes(&fixture)?.len();
        let n = name.clone();
        let got = with_client(w, |ftp| {
            Box::pin(async move { ftp.size(&n).await.map_err(|e| lib_failure("SIZE", e)) })
        })
        .await?;
        note(w, format!("SIZE {name}: {got}"));
        if got == expected {
            Ok(())
        } else {
            Err(
                Failure::conformance("SIZE of the uploaded file differs from what was uploaded")
                    .expected(expected.to_string())
                    .got(got.to_string()),
            )
        }
    })
}

/// The data suppaftp received is these bytes with CRLF line endings.
#[then(regex = r#"^the data received is "(.*)" with CRLF line endings$"#)]
async fn data_is_crlf(w: &mut World, text: String) -> StepResult {
    step!(w, {
        let expected = crlf(&payload(w, &text)?);
        let got = super::ftp::received(w)?;
        super::ftp::compare_data(&got, &expected, "the text in NVT-ASCII (CRLF line endings)")
    })
}

/// suppaftp's QUIT gets 221.
#[then(regex = r"^suppaftp quits cleanly$")]
async fn suppaftp_quits(w: &mut World) -> StepResult {
    step!(w, {
        with_client(w, |ftp| {
            Box::pin(async move { ftp.quit().await.map_err(|e| lib_failure("QUIT", e)) })
        })
        .await?;
        note(w, "QUIT: 221");
        Ok(())
    })
}
