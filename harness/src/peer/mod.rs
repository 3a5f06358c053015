//! Peers: the servers the harness plays inside a scenario when the system
//! under test is a client (the course's UDPClient/TCPClient, a mail client,
//! an HTTP client) or an intermediary (a web cache: see [`http`]).
//!
//! Each peer listens on an ephemeral loopback port, follows the script the
//! scenario's Given steps wrote, and records everything the client under
//! test did: bytes, commands, connections, closes, with times. It never
//! trusts the client: every read has a deadline and a size bound, at most
//! [`MAX_CONNECTIONS`] connections are served, at most [`MAX_RECORDED`] bytes
//! of each are kept, and a client that floods, stalls or sends garbage is
//! recorded as doing so, not obeyed. In the transcript `S:` is what the peer
//! sent and `C:` what the client under test sent.
//!
//! Peers use the harness's own codecs (`crate::wire`), never the reference
//! servers' code. [`client`] runs the client under test.

pub mod client;
pub mod dns;
pub mod http;
pub mod smtp;
pub mod tcp;
pub mod udp;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::transcript::Transcript;
use crate::wire::Conn;

/// Connections a peer serves; later ones are accepted and closed at once
/// (and counted), so a client that opens connections in a loop cannot
/// exhaust the harness.
pub const MAX_CONNECTIONS: usize = 16;
/// Bytes of one connection (or of all datagrams) a peer keeps.
pub const MAX_RECORDED: usize = 256 * 1024;
/// Datagrams a UDP peer answers and keeps.
pub const MAX_DATAGRAMS: usize = 64;
/// How long a peer waits for the next bytes of a client before it gives up
/// on the connection (the scenario's own bound is the step timeout).
pub const IDLE: Duration = Duration::from_secs(30);

/// The tasks of a peer; dropping it stops them (and closes the sockets).
#[derive(Default)]
pub struct Tasks(Mutex<Vec<JoinHandle<()>>>);

impl Tasks {
    pub fn add(&self, h: JoinHandle<()>) {
        if let Ok(mut v) = self.0.lock() {
            v.push(h);
        }
    }

    /// Stops every task now (the peer is gone; its sockets close).
    pub fn abort_all(&self) {
        if let Ok(v) = self.0.lock() {
            for h in v.iter() {
                h.abort();
            }
        }
    }
}

impl Drop for Tasks {
    fn drop(&mut self) {
        if let Ok(v) = self.0.lock() {
            for h in v.iter() {
                h.abort();
            }
        }
    }
}

/// A loopback TCP listener for a peer.
pub async fn listen() -> std::io::Result<(TcpListener, SocketAddr)> {
    let l = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
    let addr = l.local_addr()?;
    Ok((l, addr))
}

/// What happened on one connection the client under test opened to a peer.
#[derive(Clone, Debug, Default)]
pub struct ConnRecord {
    /// Every byte the client sent, up to [`MAX_RECORDED`].
    pub received: Vec<u8>,
    /// Bytes past the bound (counted, not kept).
    pub dropped: usize,
    /// The client closed its side (end of file) or reset the connection.
    pub closed_by_client: bool,
    /// Seconds after the connection was accepted.
    pub closed_at: Option<f64>,
    /// The peer gave up waiting for the client (idle past [`IDLE`] or the
    /// connection's own bound).
    pub stalled: bool,
}

impl ConnRecord {
    pub fn keep(&mut self, bytes: &[u8]) {
        let room = MAX_RECORDED.saturating_sub(self.received.len());
        let n = room.min(bytes.len());
        self.received.extend_from_slice(&bytes[..n]);
        self.dropped += bytes.len() - n;
    }
}

/// The connections of a TCP peer, shared between its tasks and the steps.
#[derive(Clone, Default)]
pub struct Connections(pub Arc<Mutex<ConnList>>);

#[derive(Debug, Default)]
pub struct ConnList {
    pub conns: Vec<ConnRecord>,
    /// Connections beyond [`MAX_CONNECTIONS`], closed unserved.
    pub turned_away: usize,
}

impl Connections {
    /// A snapshot of what was recorded so far.
    pub fn snapshot(&self) -> (Vec<ConnRecord>, usize) {
        self.0
            .lock()
            .map(|l| (l.conns.clone(), l.turned_away))
            .unwrap_or_default()
    }

    fn update(&self, i: usize, f: impl FnOnce(&mut ConnRecord)) {
        if let Ok(mut l) = self.0.lock() {
            if let Some(c) = l.conns.get_mut(i) {
                f(c);
            }
        }
    }
}

/// Runs `serve` for each connection the client under test opens, up to
/// [`MAX_CONNECTIONS`], each as a [`Conn`] whose transcript name is
/// `name` (numbered from the second on). `serve` gets the connection and
/// its index in `conns`; what it reads is recorded there by [`Served`].
pub fn accept_loop<F, Fut>(
    listener: TcpListener,
    name: &str,
    transcript: &Transcript,
    conns: &Connections,
    tasks: &Arc<Tasks>,
    serve: F,
) where
    F: Fn(Served) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let name = name.to_string();
    let transcript = transcript.clone();
    let conns = conns.clone();
    let inner = Arc::downgrade(tasks);
    let serve = Arc::new(serve);
    let h = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let index = {
                let Ok(mut l) = conns.0.lock() else { return };
                if l.conns.len() >= MAX_CONNECTIONS {
                    l.turned_away += 1;
                    drop(stream);
                    continue;
                }
                l.conns.push(ConnRecord::default());
                l.conns.len() - 1
            };
            let label = if index == 0 {
                name.clone()
            } else {
                format!("{name} #{}", index + 1)
            };
            let Ok(conn) = Conn::served(stream, &label, &transcript, IDLE) else {
                continue;
            };
            let served = Served {
                conn,
                index,
                conns: conns.clone(),
                started: Instant::now(),
            };
            let task = tokio::spawn((serve)(served));
            match inner.upgrade() {
                Some(t) => t.add(task),
                None => task.abort(),
            }
        }
    });
    tasks.add(h);
}

/// One connection being served, with its record.
pub struct Served {
    pub conn: Conn,
    pub index: usize,
    pub conns: Connections,
    pub started: Instant,
}

impl Served {
    /// Records bytes the client sent.
    pub fn keep(&self, bytes: &[u8]) {
        self.conns.update(self.index, |c| c.keep(bytes));
    }

    /// More than twice the bound arrived: the client floods.
    pub fn flooded(&self) -> bool {
        self.conns
            .0
            .lock()
            .map(|l| {
                l.conns
                    .get(self.index)
                    .is_some_and(|c| c.dropped > MAX_RECORDED)
            })
            .unwrap_or(true)
    }

    /// Records how the connection ended for reading: closed by the client,
    /// or the peer stopped waiting.
    pub fn ended(&self, by_client: bool) {
        let at = self.started.elapsed().as_secs_f64();
        self.conns.update(self.index, |c| {
            if by_client {
                c.closed_by_client = true;
                c.closed_at = Some(at);
            } else {
                c.stalled = true;
            }
        });
    }

    /// Reads and records what the client sends until it closes, floods past
    /// the bound, or stays silent for `quiet`.
    pub async fn record_until_close(&mut self, quiet: Duration) {
        loop {
            match self.conn.drain_for(quiet, 16 * 1024).await {
                Ok(bytes) if !bytes.is_empty() => {
                    self.keep(&bytes);
                    if self.flooded() {
                        self.ended(false);
                        return;
                    }
                }
                Ok(_) if self.conn.at_eof() => {
                    self.ended(true);
                    return;
                }
                Ok(_) => {
                    self.ended(false);
                    return;
                }
                Err(_) => {
                    self.ended(true);
                    return;
                }
            }
        }
    }
}

/// Python's `bytes.upper()`: only a–z change.
pub fn upper(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .map(|b| if b.is_ascii_lowercase() { b - 32 } else { *b })
        .collect()
}
