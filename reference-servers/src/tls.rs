//! TLS for the servers (rustls with the ring provider): the server
//! identity, and the stream a session runs on, which STARTTLS / STLS swap
//! from plain TCP to TLS in place.
//!
//! The upgrade rule every STARTTLS-like command shares (RFC 3207 §4.2,
//! RFC 2595 §3.1, RFC 9051 §6.2.1): the server discards what it buffered in
//! plaintext before the handshake. Commands pipelined after STARTTLS in the
//! same segment were sent before TLS and must not be executed inside it
//! (the CVE-2011-0411 class of injection).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite, BufReader, ReadBuf};
use tokio_rustls::TlsAcceptor;

/// A server certificate chain and key: what the server presents.
#[derive(Clone)]
pub struct Identity {
    acceptor: TlsAcceptor,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("tls::Identity")
    }
}

impl Identity {
    /// From a PEM certificate chain (server first) and a PEM private key;
    /// `alpn` lists the application protocols it offers (RFC 7301).
    pub fn from_pem(chain: &str, key: &str, alpn: &[&str]) -> Result<Identity, String> {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(chain.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|e| format!("the certificate chain: {e}"))?;
        if certs.is_empty() {
            return Err("the certificate chain holds no certificate".into());
        }
        let key = PrivateKeyDer::from_pem_slice(key.as_bytes())
            .map_err(|e| format!("the private key: {e}"))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| format!("the certificate and key: {e}"))?;
        config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        Ok(Identity {
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }
}

/// What a session reads and writes: plain TCP, or TLS over it.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A session's connection, read through a buffer.
pub type Stream = BufReader<Box<dyn Io>>;

pub fn plain(stream: tokio::net::TcpStream) -> Stream {
    BufReader::new(Box::new(stream))
}

/// A stream with nothing behind it (what a session holds while its
/// connection is in a handshake).
pub fn closed() -> Stream {
    BufReader::new(Box::new(Closed))
}

struct Closed;

impl AsyncRead for Closed {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Closed {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Err(io::ErrorKind::NotConnected.into()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Whether the plaintext a client sent after the STARTTLS command, before
/// the handshake, is dropped (right) or read as if it came inside TLS
/// (only in tests: the injection flaw the suites must catch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Buffered {
    Discard,
    KeepInjected,
}

/// Runs the server side of a TLS handshake on `stream`, bounded by
/// `timeout`, and returns the session's new stream; `None` if the
/// handshake failed (the session then ends: nothing more can be said in
/// plaintext once the client has started TLS).
pub async fn upgrade(
    stream: Stream,
    identity: &Identity,
    timeout: Duration,
    buffered: Buffered,
) -> Option<Stream> {
    // The plaintext read ahead of the handshake. RFC 3207 §4.2: "The
    // server MUST discard any knowledge obtained from the client ... which
    // was not obtained from the TLS negotiation itself."
    let injected = stream.buffer().to_vec();
    handshake(stream.into_inner(), injected, identity, timeout, buffered).await
}

/// The handshake of [`upgrade`] on a connection whose reader kept its own
/// buffer: `injected` is the plaintext that buffer held.
pub async fn handshake(
    inner: Box<dyn Io>,
    injected: Vec<u8>,
    identity: &Identity,
    timeout: Duration,
    buffered: Buffered,
) -> Option<Stream> {
    let tls = identity.accept(inner, timeout).await.ok()?;
    let io: Box<dyn Io> = match buffered {
        Buffered::KeepInjected if !injected.is_empty() => Box::new(Prefixed {
            prefix: injected,
            at: 0,
            inner: tls,
        }),
        _ => Box::new(tls),
    };
    Some(BufReader::new(io))
}

impl Identity {
    /// The server side of a handshake on `io`, bounded by `timeout` (FTP
    /// data connections use it directly: nothing is buffered on them).
    pub async fn accept<IO: AsyncRead + AsyncWrite + Unpin>(
        &self,
        io: IO,
        timeout: Duration,
    ) -> io::Result<tokio_rustls::server::TlsStream<IO>> {
        tokio::time::timeout(timeout, self.acceptor.accept(io))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))?
    }
}

/// Starts TLS at once on an accepted connection (implicit TLS, RFC 8314
/// §3: the greeting comes inside TLS).
pub async fn implicit(
    stream: tokio::net::TcpStream,
    identity: &Identity,
    timeout: Duration,
) -> Option<Stream> {
    upgrade(plain(stream), identity, timeout, Buffered::Discard).await
}

/// A stream whose reads start with `prefix` (the faulty server's injected
/// plaintext), then come from `inner`.
struct Prefixed<S> {
    prefix: Vec<u8>,
    at: usize,
    inner: S,
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.at < self.prefix.len() {
            let n = (self.prefix.len() - self.at).min(buf.remaining());
            let at = self.at;
            buf.put_slice(&self.prefix[at..at + n]);
            self.at += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
