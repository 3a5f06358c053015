//! A recording TCP relay. A client library (reqwest) talks to the relay, the
//! relay to the target: every byte lands in the scenario's transcript, and
//! the relay counts the connections the library opened (keep-alive reuse is
//! visible as one connection carrying several requests). Towards a server
//! on an implicit-TLS port (HTTPS) the relay is the TLS client, so the
//! transcript still shows what the library sent and got, in plaintext.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::protocol::Protocol;
use crate::target::budget::{Lease, Ledger};
use crate::transcript::{Dir, Transcript};

pub struct Relay {
    /// Where the library should connect.
    pub addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Relay {
    /// Listens on loopback and forwards each connection to `target`; the
    /// transcript names connection n `label#n`.
    pub async fn start(
        target: SocketAddr,
        transcript: &Transcript,
        label: &str,
    ) -> std::io::Result<Relay> {
        Self::within(target, transcript, label, None).await
    }

    /// [`Relay::start`], each relayed connection counted against `budget`'s
    /// section (`max_connections`) while it lasts.
    pub async fn within(
        target: SocketAddr,
        transcript: &Transcript,
        label: &str,
        budget: Option<(Ledger, Protocol, Duration)>,
    ) -> std::io::Result<Relay> {
        Self::secured(target, transcript, label, budget, None).await
    }

    /// [`Relay::within`], starting TLS as `upstream` on each connection to
    /// the target before relaying (the target speaks TLS from the first
    /// byte; the library speaks plaintext to the relay).
    pub async fn secured(
        target: SocketAddr,
        transcript: &Transcript,
        label: &str,
        budget: Option<(Ledger, Protocol, Duration)>,
        upstream: Option<crate::wire::tls::Client>,
    ) -> std::io::Result<Relay> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let connections = Arc::new(AtomicUsize::new(0));
        let count = connections.clone();
        let transcript = transcript.clone();
        let label = label.to_string();
        let task = tokio::spawn(async move {
            // Dropping the set (when the relay is dropped) ends every relayed
            // connection with it.
            let mut set = JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                let name = format!("{label}#{n}");
                let transcript = transcript.clone();
                let budget = budget.clone();
                let upstream = upstream.clone();
                set.spawn(async move {
                    let _lease = match &budget {
                        Some((ledger, p, timeout)) => {
                            match crate::steps::lease(
                                ledger,
                                Some(*p),
                                &name,
                                &transcript,
                                *timeout,
                            )
                            .await
                            {
                                Ok(l) => l,
                                Err(e) => {
                                    transcript.event(&name, format!("not relayed: {}", e.message));
                                    return;
                                }
                            }
                        }
                        None => Lease::none(),
                    };
                    match TcpStream::connect(target).await {
                        Ok(server) => {
                            transcript.event(
                                &name,
                                format!("library connection {n} relayed to {target}"),
                            );
                            let Some(tls) = upstream else {
                                pipe(client, server, &transcript, &name).await;
                                return;
                            };
                            let connector = tokio_rustls::TlsConnector::from(tls.config.clone());
                            let wait = budget.as_ref().map_or(Duration::from_secs(10), |b| b.2);
                            match tokio::time::timeout(wait, connector.connect(tls.name.clone(), server))
                                .await
                            {
                                Ok(Ok(server)) => {
                                    transcript.event(&name, "TLS established with the target; the relay shows the plaintext inside it");
                                    pipe(client, server, &transcript, &name).await;
                                }
                                Ok(Err(e)) => transcript.event(
                                    &name,
                                    format!(
                                        "not relayed: {}",
                                        crate::wire::tls::handshake_error(&e, &tls).0
                                    ),
                                ),
                                Err(_) => transcript.event(
                                    &name,
                                    "not relayed: the TLS handshake with the target did not finish in time",
                                ),
                            }
                        }
                        Err(e) => {
                            transcript.event(&name, format!("connect to {target} failed: {e}"))
                        }
                    }
                });
            }
        });
        Ok(Relay {
            addr,
            connections,
            task,
        })
    }

    /// How many connections the library has opened so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Most bytes the server may send on one relayed connection. A client
/// library buffers what it reads (an endless line, an endless reply), so
/// the relay is where a flooding server is cut off: the library sees the
/// connection close and fails, within bounded memory.
pub const MAX_RELAYED: usize = 4 * 1024 * 1024;

async fn pipe<S: AsyncRead + AsyncWrite + Unpin>(
    client: TcpStream,
    server: S,
    transcript: &Transcript,
    name: &str,
) {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = tokio::io::split(server);
    let up = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match cr.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    let _ = sw.shutdown().await;
                    return;
                }
                Ok(n) => {
                    transcript.bytes(name, Dir::Client, &buf[..n]);
                    // A TLS stream holds what is written until flushed.
                    if sw.write_all(&buf[..n]).await.is_err() || sw.flush().await.is_err() {
                        return;
                    }
                }
            }
        }
    };
    let down = async {
        let mut buf = vec![0u8; 16 * 1024];
        let mut relayed = 0usize;
        loop {
            if relayed > MAX_RELAYED {
                transcript.event(
                    name,
                    format!(
                        "the server sent more than {} MiB on one connection; the relay cut it off",
                        MAX_RELAYED >> 20
                    ),
                );
                let _ = cw.shutdown().await;
                return;
            }
            match sr.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    transcript.event(name, "connection closed by server");
                    let _ = cw.shutdown().await;
                    return;
                }
                Ok(n) => {
                    relayed += n;
                    transcript.bytes(name, Dir::Server, &buf[..n]);
                    if transcript.charge(n).is_err() {
                        transcript.event(
                            name,
                            "the relay cut the connection off at the run's memory bound (see transcript::memory)",
                        );
                        let _ = cw.shutdown().await;
                        return;
                    }
                    if cw.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            }
        }
    };
    tokio::join!(up, down);
}
