//! A TCP connection to the server under test, read through a bounded buffer.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::WireError;
use crate::report::transcript::{Dir, Transcript};
use crate::target::budget::Lease;

/// Largest single read from the socket.
const CHUNK: usize = 16 * 1024;

/// How a line ended on the wire. Line protocols require CRLF; a bare LF is
/// accepted by the reader but reported so that a step can insist on CRLF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Terminator {
    CrLf,
    Lf,
}

/// One line as received, without its terminator.
#[derive(Clone, Debug)]
pub struct Line {
    pub bytes: Vec<u8>,
    pub end: Terminator,
}

impl Line {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

pub struct Conn {
    /// The name this connection has in the transcript.
    pub name: String,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    /// How long any single wait on this connection may take.
    pub timeout: Duration,
    stream: TcpStream,
    buf: Vec<u8>,
    eof: bool,
    transcript: Transcript,
    /// Which side the harness plays: the client (what it sends is `C:`), or
    /// a peer serving the client under test (what it sends is `S:`).
    side: Side,
    /// Its place in the section's connection budget, given back on drop.
    _lease: Lease,
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
                return Err(WireError::io(what, e));
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
            stream,
            buf: Vec::new(),
            eof: false,
            transcript: transcript.clone(),
            side: Side::Client,
            _lease: Lease::none(),
        }
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

    /// Sends bytes as they are.
    pub async fn send(&mut self, data: &[u8]) -> Result<(), WireError> {
        self.transcript.bytes(&self.name, self.side.sent(), data);
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
        let mut chunk = [0u8; CHUNK];
        match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
            Ok(Ok(0)) => {
                self.eof = true;
                self.transcript.event(
                    &self.name,
                    format!("connection closed by {}", self.side.other()),
                );
                Ok(0)
            }
            Ok(Ok(n)) => {
                self.transcript
                    .bytes(&self.name, self.side.received(), &chunk[..n]);
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

    /// Reads one line ending in LF (CRLF or bare LF), of at most `max` bytes
    /// including the terminator.
    pub async fn read_line(&mut self, max: usize, what: &str) -> Result<Line, WireError> {
        let deadline = self.deadline();
        let mut scanned = 0;
        loop {
            if let Some(pos) = self.buf[scanned..].iter().position(|b| *b == b'\n') {
                let end = scanned + pos;
                if end + 1 > max {
                    return Err(WireError::TooLong {
                        what: what.into(),
                        limit: max,
                    });
                }
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                line.pop();
                let term = if line.last() == Some(&b'\r') {
                    line.pop();
                    Terminator::CrLf
                } else {
                    Terminator::Lf
                };
                return Ok(Line {
                    bytes: line,
                    end: term,
                });
            }
            scanned = self.buf.len();
            if scanned >= max {
                return Err(WireError::TooLong {
                    what: what.into(),
                    limit: max,
                });
            }
            if self.fill(deadline, what).await? == 0 {
                return Err(WireError::Closed {
                    what: what.into(),
                    partial: std::mem::take(&mut self.buf),
                });
            }
        }
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
