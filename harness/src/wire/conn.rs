//! A TCP connection to the server under test, read through a bounded buffer.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::codec::{Decoded, Decoder, LineDecoder};
use super::WireError;
use crate::target::budget::Lease;
use crate::transcript::{Dir, Transcript};

/// Largest single read from the socket.
const CHUNK: usize = 16 * 1024;

/// How the client's writes and reads are cut on the wire (`conform run
/// --perturb`): a correct server gives the same answers whatever the
/// segmentation, since TCP is a byte stream (RFC 9293 §3.7: "TCP guarantees
/// no correlation between the boundaries of TCP segments sent and received
/// and the boundaries of the read or write buffers").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Perturb {
    /// Each write as one `write_all`, reads as large as the data.
    #[default]
    None,
    /// Every write as 1-byte segments with [`SPLIT_GAP`] between them (a
    /// long write: its first and last [`SPLIT_EDGE`] bytes, its middle in
    /// [`SPLIT_MIDDLE`] pieces, so a large body stays fast; see
    /// [`split_plan`]).
    Split,
    /// The consecutive writes of a step held back and sent in one segment
    /// when the step next reads, closes, or ends.
    Coalesce,
    /// The server's bytes read a few at a time with [`SLOW_GAP`] between
    /// reads; the read size grows with what the exchange has read, so a
    /// large reply still arrives within its deadline.
    SlowRead,
}

impl Perturb {
    pub const ALL: [Perturb; 4] = [
        Perturb::None,
        Perturb::Split,
        Perturb::Coalesce,
        Perturb::SlowRead,
    ];

    /// What is left of it for a scenario whose every write must be one
    /// write (`@one-write`): only the reads are perturbed.
    pub fn reads_only(self) -> Perturb {
        match self {
            Perturb::SlowRead => Perturb::SlowRead,
            _ => Perturb::None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Perturb::None => "none",
            Perturb::Split => "split",
            Perturb::Coalesce => "coalesce",
            Perturb::SlowRead => "slow-read",
        }
    }

    pub fn parse(s: &str) -> Result<Perturb, String> {
        Perturb::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                format!("unknown perturbation \"{s}\" (none, split, coalesce, slow-read)")
            })
    }
}

/// How one send is cut, whatever the run's [`Perturb`] (steps "… in one
/// write", "… byte by byte").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segments {
    /// As the run's perturbation says.
    Run,
    /// One `write_all`, with nothing held back before it.
    OneWrite,
    /// Every byte its own segment, with [`SPLIT_GAP`] between them.
    Bytes,
}

/// The pause between the segments of a split write: long enough that the
/// server reads each on its own (and Linux does not cork them together).
pub const SPLIT_GAP: Duration = Duration::from_millis(1);
/// Bytes at each end of a split write that go one by one.
pub const SPLIT_EDGE: usize = 32;
/// Most segments the middle of a long split write is cut into, so that a
/// write costs at most `2 * SPLIT_EDGE + SPLIT_MIDDLE` gaps.
pub const SPLIT_MIDDLE: usize = 32;
/// The pause before each read under slow-read.
pub const SLOW_GAP: Duration = Duration::from_millis(1);
/// The first read size under slow-read.
pub const SLOW_FIRST: usize = 8;
/// Most bytes a coalescing connection holds back before it sends anyway.
const COALESCE_MAX: usize = 1024 * 1024;

/// The segments a write of `len` bytes is cut into, as `(start, end)`:
/// every byte alone up to `2 * SPLIT_EDGE + SPLIT_MIDDLE` bytes; a longer
/// write has its first and last [`SPLIT_EDGE`] bytes alone and its middle
/// in [`SPLIT_MIDDLE`] equal segments. [`Segments::Bytes`] cuts every byte.
pub fn split_plan(len: usize, how: Segments) -> Vec<(usize, usize)> {
    if how == Segments::Bytes || len <= 2 * SPLIT_EDGE + SPLIT_MIDDLE {
        return (0..len).map(|i| (i, i + 1)).collect();
    }
    let mut out: Vec<(usize, usize)> = (0..SPLIT_EDGE).map(|i| (i, i + 1)).collect();
    let middle = len - 2 * SPLIT_EDGE;
    let size = middle.div_ceil(SPLIT_MIDDLE);
    let mut at = SPLIT_EDGE;
    while at < len - SPLIT_EDGE {
        let end = (at + size).min(len - SPLIT_EDGE);
        out.push((at, end));
        at = end;
    }
    out.extend((len - SPLIT_EDGE..len).map(|i| (i, i + 1)));
    out
}

#[cfg(test)]
mod plan_tests {
    use super::*;

    #[test]
    fn a_split_plan_covers_the_write_in_order() {
        for len in [0, 1, 95, 96, 97, 265, 1000, 65536] {
            let plan = split_plan(len, Segments::Run);
            let mut at = 0;
            for (a, b) in &plan {
                assert_eq!(*a, at);
                assert!(b > a);
                at = *b;
            }
            assert_eq!(at, len);
            assert!(plan.len() <= 2 * SPLIT_EDGE + SPLIT_MIDDLE);
            assert!(len < 2 || plan[0] == (0, 1) && plan[plan.len() - 1] == (len - 1, len));
        }
        assert_eq!(split_plan(1000, Segments::Bytes).len(), 1000);
    }
}

/// How a line ended on the wire. Line protocols require CRLF; a bare LF is
/// accepted by the reader but reported so that a step can insist on CRLF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Terminator {
    CrLf,
    Lf,
}

/// One line as received, without its terminator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub bytes: Vec<u8>,
    pub end: Terminator,
}

impl Line {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// How a split write ended.
enum SplitEnd {
    Done,
    /// A write failed at this offset.
    Failed(usize, std::io::Error),
    /// The server stopped taking data for longer than the timeout.
    Stalled,
}

/// The blocking half of [`Conn::write_split`]: one `write` per segment on a
/// duplicate of the connection's (non-blocking) socket. Returns how it
/// ended and the time spent in gaps.
fn split_write(
    sock: &std::net::TcpStream,
    data: &[u8],
    plan: &[(usize, usize)],
    timeout: Duration,
) -> (SplitEnd, Duration) {
    use std::io::{ErrorKind, Write};
    let mut paused = Duration::ZERO;
    let deadline = std::time::Instant::now() + timeout + SPLIT_GAP * plan.len() as u32;
    let mut w = sock;
    for (i, (a, b)) in plan.iter().enumerate() {
        if i > 0 {
            let t = std::time::Instant::now();
            std::thread::sleep(SPLIT_GAP);
            paused += t.elapsed();
        }
        let mut at = *a;
        while at < *b {
            match w.write(&data[at..*b]) {
                Ok(n) => at += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if std::time::Instant::now() > deadline {
                        return (SplitEnd::Stalled, paused);
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) => return (SplitEnd::Failed(*a, e), paused),
            }
        }
    }
    (SplitEnd::Done, paused)
}

pub struct Conn {
    /// The name this connection has in the transcript.
    pub name: String,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    /// How long any single wait on this connection may take.
    pub timeout: Duration,
    stream: Stream,
    buf: Vec<u8>,
    eof: bool,
    transcript: Transcript,
    /// How writes and reads are cut on the wire.
    perturb: Perturb,
    /// Writes held back under [`Perturb::Coalesce`].
    pending: Vec<u8>,
    /// Bytes read since the client last sent (sizes slow reads).
    read_since_send: usize,
    /// Where the pauses the perturbation makes are added up (microseconds),
    /// so that a step's overall bound does not count them against the
    /// server.
    paused: Option<Arc<AtomicU64>>,
    /// Its place in the section's connection budget, given back on drop.
    /// Which side the harness plays: the client (what it sends is `C:`), or
    /// a peer serving the client under test (what it sends is `S:`).
    side: Side,
    _lease: Lease,
}

/// What a connection carries: TCP, or TLS over it once [`Conn::start_tls`]
/// has run (the transcript then shows the plaintext inside TLS).
enum Stream {
    Tcp(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    /// A handshake failed: nothing more can be read or sent.
    Gone,
}

fn gone() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::NotConnected,
        "the connection ended with its failed TLS handshake",
    )
}

impl Stream {
    async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf).await,
            Stream::Tls(s) => s.read(buf).await,
            Stream::Gone => Err(gone()),
        }
    }

    async fn write_all(&mut self, data: &[u8]) -> std::io::Result<()> {
        match self {
            Stream::Tcp(s) => s.write_all(data).await,
            // A TLS stream holds what is written until flushed.
            Stream::Tls(s) => {
                s.write_all(data).await?;
                s.flush().await
            }
            Stream::Gone => Err(gone()),
        }
    }

    async fn shutdown(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Tcp(s) => s.shutdown().await,
            // close_notify, then the TCP FIN.
            Stream::Tls(s) => s.shutdown().await,
            Stream::Gone => Err(gone()),
        }
    }
}

/// The harness's side of a connection, for the transcript's directions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Client,
    Peer,
}

impl Side {
    fn sent(self) -> Dir {
        match self {
            Side::Client => Dir::Client,
            Side::Peer => Dir::Server,
        }
    }

    fn received(self) -> Dir {
        match self {
            Side::Client => Dir::Server,
            Side::Peer => Dir::Client,
        }
    }

    fn other(self) -> &'static str {
        match self {
            Side::Client => "server",
            Side::Peer => "client",
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // What a coalescing connection still holds goes out before the
        // socket closes (best effort: the socket is not waited for).
        if let (false, Stream::Tcp(s)) = (self.pending.is_empty(), &self.stream) {
            let _ = s.try_write(&self.pending);
        }
    }
}

impl Conn {
    /// Connects within `timeout`.
    pub async fn connect(
        addr: SocketAddr,
        name: &str,
        transcript: &Transcript,
        timeout: Duration,
    ) -> Result<Conn, WireError> {
        let what = format!("connect to {addr}");
        let stream = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                transcript.event(name, format!("connect to {addr} failed: {e}"));
                return Err(WireError::Connect { addr, error: e });
            }
            Err(_) => {
                transcript.event(name, format!("connect to {addr} timed out"));
                return Err(WireError::Timeout {
                    waited: timeout,
                    what,
                    partial: vec![],
                });
            }
        };
        let _ = stream.set_nodelay(true);
        let local = stream
            .local_addr()
            .map_err(|e| WireError::io("local address", e))?;
        transcript.event(name, format!("connected {local} -> {addr}"));
        Ok(Conn::over(stream, name, addr, local, transcript, timeout))
    }

    /// Wraps a connection the server opened to the client (an accepted
    /// socket, such as an FTP active-mode data connection).
    pub fn accepted(
        stream: TcpStream,
        name: &str,
        transcript: &Transcript,
        timeout: Duration,
    ) -> Result<Conn, WireError> {
        let _ = stream.set_nodelay(true);
        let local = stream
            .local_addr()
            .map_err(|e| WireError::io("local address", e))?;
        let peer = stream
            .peer_addr()
            .map_err(|e| WireError::io("peer address", e))?;
        transcript.event(name, format!("accepted {peer} -> {local}"));
        Ok(Conn::over(stream, name, peer, local, transcript, timeout))
    }

    /// A connection the client under test opened to one of the harness's
    /// peers: what the peer sends is recorded as `S:`, what the client under
    /// test sent as `C:` (see `crate::peer`).
    pub fn served(
        stream: TcpStream,
        name: &str,
        transcript: &Transcript,
        timeout: Duration,
    ) -> Result<Conn, WireError> {
        let mut conn = Conn::accepted(stream, name, transcript, timeout)?;
        conn.side = Side::Peer;
        Ok(conn)
    }

    /// A connection over `stream`, with nothing read yet.
    fn over(
        stream: TcpStream,
        name: &str,
        peer: SocketAddr,
        local: SocketAddr,
        transcript: &Transcript,
        timeout: Duration,
    ) -> Conn {
        Conn {
            name: name.to_string(),
            peer,
            local,
            timeout,
            stream: Stream::Tcp(stream),
            buf: Vec::new(),
            eof: false,
            transcript: transcript.clone(),
            perturb: Perturb::None,
            pending: Vec::new(),
            read_since_send: 0,
            paused: None,
            side: Side::Client,
            _lease: Lease::none(),
        }
    }

    /// The connection, with its writes and reads cut as `perturb` says;
    /// the pauses that makes are added to `paused`.
    pub fn perturbed(mut self, perturb: Perturb, paused: &Arc<AtomicU64>) -> Conn {
        self.paused = Some(paused.clone());
        if perturb != Perturb::None && perturb != self.perturb {
            self.transcript.event(
                &self.name,
                format!("segmentation perturbed: {}", perturb.name()),
            );
        }
        self.perturb = perturb;
        self
    }

    pub fn perturbation(&self) -> Perturb {
        self.perturb
    }

    /// The connection, counted against a connection budget while it lives.
    pub fn with_lease(mut self, lease: Lease) -> Conn {
        self._lease = lease;
        self
    }

    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// Bytes received but not consumed by a read yet.
    pub fn buffered(&self) -> &[u8] {
        &self.buf
    }

    pub fn at_eof(&self) -> bool {
        self.eof && self.buf.is_empty()
    }

    /// Sends bytes as they are, cut as the run's perturbation says.
    pub async fn send(&mut self, data: &[u8]) -> Result<(), WireError> {
        self.send_as(data, Segments::Run).await
    }

    /// Sends bytes as they are, cut as `how` says.
    pub async fn send_as(&mut self, data: &[u8], how: Segments) -> Result<(), WireError> {
        self.transcript.bytes(&self.name, self.side.sent(), data);
        self.read_since_send = 0;
        match (how, self.perturb) {
            (Segments::Run, Perturb::Coalesce) => {
                self.pending.extend_from_slice(data);
                if self.pending.len() >= COALESCE_MAX {
                    self.flush().await?;
                }
                Ok(())
            }
            (Segments::Run, Perturb::Split) | (Segments::Bytes, _) => {
                self.flush().await?;
                self.write_split(data, how).await
            }
            _ => {
                self.flush().await?;
                self.write(data).await
            }
        }
    }

    /// Sends `data` cut as [`split_plan`] says, [`SPLIT_GAP`] between the
    /// segments. The writes run on a thread of their own, on a duplicate of
    /// the socket, so the gaps are the gap and not the scheduling delays
    /// of the (single-threaded) scenario runner.
    async fn write_split(&mut self, data: &[u8], how: Segments) -> Result<(), WireError> {
        use std::os::fd::AsFd;
        let tcp = match &self.stream {
            Stream::Tcp(s) => s,
            // Inside TLS each segment is a record of its own, flushed on
            // its own, with the same gaps.
            _ => return self.write_split_tls(data, how).await,
        };
        let sock = tcp
            .as_fd()
            .try_clone_to_owned()
            .map(std::net::TcpStream::from)
            .map_err(|e| WireError::io("send", e))?;
        let plan = split_plan(data.len(), how);
        let bytes = data.to_vec();
        let timeout = self.timeout;
        let job = tokio::task::spawn_blocking(move || split_write(&sock, &bytes, &plan, timeout));
        let (end, paused) = match job.await {
            Ok(r) => r,
            Err(e) => {
                return Err(WireError::io(
                    "send",
                    std::io::Error::other(format!("the split write did not finish: {e}")),
                ))
            }
        };
        if let Some(p) = &self.paused {
            p.fetch_add(paused.as_micros() as u64, Ordering::Relaxed);
        }
        match end {
            SplitEnd::Done => Ok(()),
            // The server answered and closed before the whole write was
            // out (a 414, a 421…): in one write the kernel would have taken
            // it all, and the reply is what the next read judges.
            SplitEnd::Failed(at, _) if at > 0 => {
                self.transcript.event(
                    &self.name,
                    format!(
                        "the server stopped reading after {at} of {} bytes; the rest was not sent",
                        data.len()
                    ),
                );
                Ok(())
            }
            SplitEnd::Failed(_, e) => {
                self.transcript
                    .event(&self.name, format!("send failed: {e}"));
                Err(WireError::io("send", e))
            }
            SplitEnd::Stalled => Err(WireError::Timeout {
                waited: self.timeout,
                what: format!(
                    "the {} to accept the data sent (it stopped reading)",
                    self.side.other()
                ),
                partial: vec![],
            }),
        }
    }

    /// [`Conn::write_split`] inside TLS.
    async fn write_split_tls(&mut self, data: &[u8], how: Segments) -> Result<(), WireError> {
        for (i, (a, b)) in split_plan(data.len(), how).into_iter().enumerate() {
            if i > 0 {
                self.pause(SPLIT_GAP).await;
            }
            self.write(&data[a..b]).await?;
        }
        Ok(())
    }

    /// Upgrades the connection to TLS in place, after the server's
    /// go-ahead (STARTTLS's 220, STLS's +OK, …) or at once for implicit
    /// TLS. The deadline, size limits and transcript carry on; the
    /// transcript marks the handshake. Plaintext the server sent after its
    /// go-ahead is a failure: it cannot belong to the handshake, and a
    /// client must not take it as part of the TLS session.
    pub async fn start_tls(&mut self, client: &super::tls::Client) -> Result<(), WireError> {
        self.flush().await?;
        if !self.buf.is_empty() {
            let got = std::mem::take(&mut self.buf);
            return Err(WireError::Tls {
                what: format!(
                    "the server sent \"{}\" in plaintext after its go-ahead, where the TLS handshake begins",
                    crate::notation::escape_short(&got, 200)
                ),
                trust: false,
            });
        }
        let tcp = match std::mem::replace(&mut self.stream, Stream::Gone) {
            Stream::Tcp(s) => s,
            other => {
                self.stream = other;
                return Err(WireError::Tls {
                    what: "the harness tried to start TLS on a connection already in TLS".into(),
                    trust: false,
                });
            }
        };
        self.transcript.event(
            &self.name,
            format!("TLS handshake (server name {:?})", client.name),
        );
        let connector = tokio_rustls::TlsConnector::from(client.config.clone());
        let handshake = connector.connect(client.name.clone(), tcp);
        match tokio::time::timeout(self.timeout, handshake).await {
            Ok(Ok(tls)) => {
                let (_, session) = tls.get_ref();
                let version = session
                    .protocol_version()
                    .map(|v| format!("{v:?}"))
                    .unwrap_or_default();
                let suite = session
                    .negotiated_cipher_suite()
                    .map(|c| format!("{:?}", c.suite()))
                    .unwrap_or_default();
                let alpn = session
                    .alpn_protocol()
                    .map(|p| format!(", ALPN {}", String::from_utf8_lossy(p)))
                    .unwrap_or_default();
                self.transcript.event(
                    &self.name,
                    format!("TLS established: {version} {suite}{alpn}; what follows is inside TLS"),
                );
                self.stream = Stream::Tls(Box::new(tls));
                Ok(())
            }
            Ok(Err(e)) => {
                self.eof = true;
                let (what, trust) = super::tls::handshake_error(&e, client);
                self.transcript.event(&self.name, what.clone());
                Err(WireError::Tls { what, trust })
            }
            Err(_) => {
                self.eof = true;
                self.transcript
                    .event(&self.name, "the TLS handshake did not finish in time");
                Err(WireError::Timeout {
                    waited: self.timeout,
                    what: "the TLS handshake to finish (the server stalled in it)".into(),
                    partial: vec![],
                })
            }
        }
    }

    /// Whether the connection is in TLS.
    pub fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    /// A pause the perturbation makes, added up for the step's bound.
    async fn pause(&self, d: Duration) {
        let t = Instant::now();
        tokio::time::sleep(d).await;
        if let Some(p) = &self.paused {
            p.fetch_add(t.elapsed().as_micros() as u64, Ordering::Relaxed);
        }
    }

    /// Sends what a coalescing connection holds back, in one write.
    pub async fn flush(&mut self) -> Result<(), WireError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let data = std::mem::take(&mut self.pending);
        self.write(&data).await
    }

    /// One `write_all` of bytes already in the transcript.
    async fn write(&mut self, data: &[u8]) -> Result<(), WireError> {
        let what = "send";
        match tokio::time::timeout(self.timeout, self.stream.write_all(data)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                self.transcript
                    .event(&self.name, format!("send failed: {e}"));
                Err(WireError::io(what, e))
            }
            Err(_) => Err(WireError::Timeout {
                waited: self.timeout,
                what: format!(
                    "the {} to accept the data sent (it stopped reading)",
                    self.side.other()
                ),
                partial: vec![],
            }),
        }
    }

    /// Half-closes the sending side (TCP FIN): the server reads end-of-file.
    pub async fn shutdown_write(&mut self) -> Result<(), WireError> {
        self.flush().await?;
        self.transcript.event(
            &self.name,
            match self.side {
                Side::Client => "client closed its sending side",
                Side::Peer => "peer closed its sending side",
            },
        );
        self.stream
            .shutdown()
            .await
            .map_err(|e| WireError::io("shutdown", e))
    }

    /// Reads more bytes into the buffer before `deadline`. Returns how many
    /// arrived; 0 means the server closed the connection.
    async fn fill(&mut self, deadline: Instant, what: &str) -> Result<usize, WireError> {
        if self.eof {
            return Ok(0);
        }
        // A read ends the client's turn: what it held back goes out first.
        self.flush().await?;
        let mut chunk = [0u8; CHUNK];
        let slow = self.perturb == Perturb::SlowRead;
        let size = if slow {
            (SLOW_FIRST + self.read_since_send / 4).min(CHUNK)
        } else {
            CHUNK
        };
        if slow {
            // The pause counts against the same deadline as the read.
            if tokio::time::timeout_at(deadline, self.pause(SLOW_GAP))
                .await
                .is_err()
            {
                return Err(WireError::Timeout {
                    waited: self.timeout,
                    what: what.to_string(),
                    partial: self.buf.clone(),
                });
            }
        }
        let read = self.stream.read(&mut chunk[..size]);
        match tokio::time::timeout_at(deadline, read).await {
            Ok(Ok(0)) => {
                self.eof = true;
                self.transcript.event(
                    &self.name,
                    format!("connection closed by {}", self.side.other()),
                );
                Ok(0)
            }
            Ok(Ok(n)) => {
                self.read_since_send += n;
                self.transcript
                    .bytes(&self.name, self.side.received(), &chunk[..n]);
                if let Err(limit) = self.transcript.charge(n) {
                    self.eof = true;
                    self.transcript.event(
                        &self.name,
                        "cut off at the run's memory bound (see transcript::memory)",
                    );
                    return Err(WireError::OverBudget {
                        what: what.to_string(),
                        limit,
                    });
                }
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(n)
            }
            Ok(Err(e)) => {
                self.eof = true;
                self.transcript
                    .event(&self.name, format!("receive failed: {e}"));
                Err(WireError::io(format!("receive ({what})"), e))
            }
            Err(_) => Err(WireError::Timeout {
                waited: self.timeout,
                what: what.to_string(),
                partial: self.buf.clone(),
            }),
        }
    }

    fn deadline(&self) -> Instant {
        Instant::now() + self.timeout
    }

    /// Reads one unit through a decoder (see [`super::codec`]): bytes come
    /// until it is complete, malformed, or over one of its limits. Each part
    /// it waits for (see [`Decoder::mark`]) has the connection's timeout; the
    /// run's memory bound holds as for every read.
    pub async fn read_decoded<D: Decoder>(&mut self, d: &mut D) -> Result<D::Item, WireError> {
        let mut deadline = self.deadline();
        let mut mark = d.mark();
        loop {
            match d.decode(&self.buf) {
                Decoded::Complete(item, used) => {
                    self.buf.drain(..used.min(self.buf.len()));
                    return Ok(item);
                }
                Decoded::Malformed(m) => return Err(m.into()),
                Decoded::Incomplete => {}
            }
            if d.mark() != mark {
                mark = d.mark();
                deadline = self.deadline();
            }
            // What a timeout or close shows is the part waited for.
            let part = |buf: &[u8]| buf.get(mark..).unwrap_or_default().to_vec();
            let filled = match self.fill(deadline, &d.what()).await {
                Err(WireError::Timeout { waited, what, .. }) => {
                    return Err(WireError::Timeout {
                        waited,
                        what,
                        partial: part(&self.buf),
                    })
                }
                other => other?,
            };
            if filled == 0 {
                return match d.decode_eof(&self.buf) {
                    Decoded::Complete(item, used) => {
                        self.buf.drain(..used.min(self.buf.len()));
                        Ok(item)
                    }
                    Decoded::Malformed(m) => Err(m.into()),
                    Decoded::Incomplete => {
                        let partial = part(&self.buf);
                        self.buf.clear();
                        Err(WireError::Closed {
                            what: d.what(),
                            partial,
                        })
                    }
                };
            }
        }
    }

    /// Reads one line ending in LF (CRLF or bare LF), of at most `max` bytes
    /// including the terminator.
    pub async fn read_line(&mut self, max: usize, what: &str) -> Result<Line, WireError> {
        self.read_decoded(&mut LineDecoder::new(max, what)).await
    }

    /// Reads exactly `n` bytes (a literal, a Content-Length body).
    pub async fn read_exact(&mut self, n: usize, what: &str) -> Result<Vec<u8>, WireError> {
        let deadline = self.deadline();
        while self.buf.len() < n {
            if self.fill(deadline, what).await? == 0 {
                return Err(WireError::Closed {
                    what: what.into(),
                    partial: std::mem::take(&mut self.buf),
                });
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    /// Reads until `want` bytes have arrived or the server closes, whichever
    /// comes first; a stall before either is a timeout.
    pub async fn read_up_to(&mut self, want: usize, what: &str) -> Result<Vec<u8>, WireError> {
        let deadline = self.deadline();
        while self.buf.len() < want {
            if self.fill(deadline, what).await? == 0 {
                break;
            }
        }
        let n = self.buf.len().min(want);
        Ok(self.buf.drain(..n).collect())
    }

    /// Reads everything until the server closes, at most `max` bytes.
    pub async fn read_to_close(&mut self, max: usize, what: &str) -> Result<Vec<u8>, WireError> {
        let deadline = self.deadline();
        loop {
            if self.buf.len() > max {
                return Err(WireError::TooLong {
                    what: what.into(),
                    limit: max,
                });
            }
            if self.fill(deadline, what).await? == 0 {
                return Ok(std::mem::take(&mut self.buf));
            }
        }
    }

    /// Waits for the server to close the connection. Returns the bytes that
    /// arrived first (empty when it closed cleanly right away). A reset
    /// counts as closed.
    pub async fn wait_for_close(&mut self, max: usize) -> Result<Vec<u8>, WireError> {
        let deadline = self.deadline();
        let what = "the server to close the connection";
        loop {
            if self.buf.len() > max {
                return Err(WireError::TooLong {
                    what: what.into(),
                    limit: max,
                });
            }
            match self.fill(deadline, what).await {
                Ok(0) => return Ok(std::mem::take(&mut self.buf)),
                Ok(_) => continue,
                Err(WireError::Io { .. }) => return Ok(std::mem::take(&mut self.buf)),
                Err(e) => return Err(e),
            }
        }
    }

    /// Waits `quiet` for more bytes and keeps them in the buffer (see
    /// [`Conn::buffered`]), at most `max`: to see whether the other side
    /// sent something without waiting for an answer.
    pub async fn wait_for_more(&mut self, quiet: Duration, max: usize) -> Result<(), WireError> {
        let deadline = Instant::now() + quiet;
        while self.buf.len() <= max {
            match self.fill(deadline, "more data").await {
                Ok(0) => break,
                Ok(_) => continue,
                Err(WireError::Timeout { .. }) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Waits `quiet` for anything further; returns what came (empty if the
    /// line stayed silent). Used to check "no more data" without closing.
    pub async fn drain_for(&mut self, quiet: Duration, max: usize) -> Result<Vec<u8>, WireError> {
        self.wait_for_more(quiet, max).await?;
        Ok(std::mem::take(&mut self.buf))
    }
}
