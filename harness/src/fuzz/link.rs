//! The fuzzer's own client sockets: blocking, bounded by deadline and size,
//! and cheap, because the fuzzer makes thousands of exchanges a second. Each
//! link keeps a small log of what crossed it, which becomes the transcript of
//! a finding.
//!
//! Blocking sockets on the fuzzer's own thread: no scheduler hop per
//! exchange, and every wait is a `set_read_timeout` away from its deadline.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use crate::notation::escape_short;
use crate::wire::codec::{Decoded, Decoder, Malformed};

/// Largest reply the fuzzer keeps from one message.
pub const MAX_REPLY: usize = 256 * 1024;
/// How many bytes of traffic a link's log keeps.
const MAX_LOG: usize = 16 * 1024;

/// Why a read did not deliver what was asked for.
#[derive(Debug)]
pub enum ReadError {
    /// Nothing (more) came before the deadline; `partial` is what did.
    Timeout {
        partial: Vec<u8>,
    },
    /// The peer closed (or reset) first.
    Closed {
        partial: Vec<u8>,
    },
    /// The peer sent more than the bound.
    TooLong,
    /// The bytes are not the protocol unit the decoder reads, or exceed one
    /// of its limits (see [`crate::wire::codec`]).
    Malformed(Malformed),
    Io(String),
}

impl ReadError {
    pub fn describe(&self, waited: Duration) -> String {
        match self {
            ReadError::Timeout { partial } if partial.is_empty() => {
                format!("no reply within {}", humantime::format_duration(waited))
            }
            ReadError::Timeout { partial } => format!(
                "the reply stopped after \"{}\" (nothing more within {})",
                escape_short(partial, 120),
                humantime::format_duration(waited)
            ),
            ReadError::Closed { partial } if partial.is_empty() => {
                "the server closed the connection without replying".into()
            }
            ReadError::Closed { partial } => format!(
                "the server closed the connection in the middle of a reply, after \"{}\"",
                escape_short(partial, 120)
            ),
            ReadError::TooLong => format!("the reply exceeded {MAX_REPLY} bytes"),
            ReadError::Malformed(m) => m.to_string(),
            ReadError::Io(e) => e.clone(),
        }
    }
}

/// One line of a link's log.
#[derive(Clone, Debug)]
pub struct LogEntry {
    /// `C:` sent by the fuzzer, `S:` received, `--` an event.
    pub dir: &'static str,
    pub text: String,
}

pub struct Log {
    pub entries: Vec<LogEntry>,
    kept: usize,
    /// Off while fuzzing at full speed: a failing case is replayed on a
    /// fresh, logging link before it is reported.
    pub enabled: bool,
}

impl Default for Log {
    fn default() -> Self {
        Log {
            entries: Vec::new(),
            kept: 0,
            enabled: true,
        }
    }
}

impl Log {
    fn bytes(&mut self, dir: &'static str, data: &[u8]) {
        if !self.enabled || self.kept > MAX_LOG {
            return;
        }
        self.kept += data.len();
        self.entries.push(LogEntry {
            dir,
            text: escape_short(data, 300),
        });
    }

    pub fn event(&mut self, text: impl Into<String>) {
        if !self.enabled {
            return;
        }
        self.entries.push(LogEntry {
            dir: "--",
            text: text.into(),
        });
    }

    pub fn render(&self, conn: &str) -> String {
        let mut out = String::new();
        for e in &self.entries {
            out.push_str(&format!("{conn} {} {}\n", e.dir, e.text));
        }
        out
    }
}

/// A TCP connection with a receive buffer, in TLS once
/// [`TcpLink::start_tls`] has run.
pub struct TcpLink {
    stream: TcpStream,
    /// The TLS session over `stream` (blocking rustls: the same deadlines,
    /// set on the socket, bound its reads).
    tls: Option<Box<rustls::ClientConnection>>,
    buf: Vec<u8>,
    eof: bool,
    /// The connection ended with a reset rather than a clean close.
    pub reset: bool,
    /// The last reply on it was an error reply (kept by line protocols).
    pub after_error: bool,
    pub log: Log,
}

impl TcpLink {
    pub fn connect(addr: SocketAddr, timeout: Duration) -> Result<TcpLink, String> {
        let stream = TcpStream::connect_timeout(&addr, timeout)
            .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        let _ = stream.set_nodelay(true);
        let _ = stream.set_write_timeout(Some(timeout));
        let mut log = Log::default();
        log.event(format!("connected to {addr}"));
        Ok(TcpLink {
            stream,
            tls: None,
            buf: Vec::with_capacity(4096),
            eof: false,
            reset: false,
            after_error: false,
            log,
        })
    }

    /// Starts TLS as `client` (the profile section's trust and server
    /// name), the handshake done before `deadline`. Bytes the server sent
    /// after its go-ahead and before the handshake are an error: a client
    /// must not take them as part of the TLS session (RFC 3207 §4.2 and its
    /// POP3, IMAP and FTP counterparts).
    pub fn start_tls(
        &mut self,
        client: &crate::wire::tls::Client,
        deadline: Instant,
    ) -> Result<(), String> {
        if !self.buf.is_empty() {
            return Err(format!(
                "the server sent \"{}\" before the TLS handshake",
                escape_short(&self.buf, 120)
            ));
        }
        let mut conn = rustls::ClientConnection::new(client.config.clone(), client.name.clone())
            .map_err(|e| format!("cannot start TLS: {e}"))?;
        while conn.is_handshaking() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err("the TLS handshake did not finish in time".into());
            }
            let _ = self.stream.set_read_timeout(Some(left));
            if let Err(e) = conn.complete_io(&mut self.stream) {
                let (why, _) = crate::wire::tls::handshake_error(&e, client);
                self.log.event(format!("TLS handshake failed: {why}"));
                return Err(why);
            }
        }
        self.log.event("TLS established");
        self.tls = Some(Box::new(conn));
        Ok(())
    }

    fn write_io(&mut self, data: &[u8]) -> std::io::Result<()> {
        match &mut self.tls {
            Some(conn) => {
                let mut s = rustls::Stream::new(conn.as_mut(), &mut self.stream);
                s.write_all(data)?;
                s.flush()
            }
            None => self.stream.write_all(data),
        }
    }

    fn read_io(&mut self, chunk: &mut [u8]) -> std::io::Result<usize> {
        match &mut self.tls {
            // A close without close_notify ends the stream as a plain
            // close does: the oracles judge the close, not its TLS form.
            Some(conn) => match rustls::Stream::new(conn.as_mut(), &mut self.stream).read(chunk) {
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(0),
                other => other,
            },
            None => self.stream.read(chunk),
        }
    }

    pub fn send(&mut self, data: &[u8]) -> Result<(), String> {
        self.log.bytes("C:", data);
        self.write_io(data).map_err(|e| {
            self.log.event(format!("send failed: {e}"));
            format!("send failed: {e}")
        })
    }

    /// Half-closes: the server reads end-of-file.
    pub fn shutdown_write(&mut self) {
        self.log.event("client closed its sending side");
        if let Some(conn) = &mut self.tls {
            conn.send_close_notify();
            while conn.wants_write() {
                if conn.write_tls(&mut self.stream).is_err() {
                    break;
                }
            }
        }
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    pub fn buffered(&self) -> &[u8] {
        &self.buf
    }

    pub fn at_eof(&self) -> bool {
        self.eof && self.buf.is_empty()
    }

    /// Reads more into the buffer; `Ok(0)` is end-of-file.
    fn fill(&mut self, deadline: Instant) -> Result<usize, ReadError> {
        if self.eof {
            return Ok(0);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ReadError::Timeout {
                partial: self.buf.clone(),
            });
        }
        let _ = self.stream.set_read_timeout(Some(left));
        let mut chunk = [0u8; 16 * 1024];
        match self.read_io(&mut chunk) {
            Ok(0) => {
                self.eof = true;
                self.log.event("connection closed by server");
                Ok(0)
            }
            Ok(n) => {
                self.log.bytes("S:", &chunk[..n]);
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(n)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Err(ReadError::Timeout {
                    partial: self.buf.clone(),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Ok(self.fill(deadline)?),
            Err(e) => {
                // A reset counts as the server closing the connection.
                self.eof = true;
                self.reset = true;
                self.log.event(format!("receive failed: {e}"));
                Ok(0)
            }
        }
    }

    /// One unit read through a decoder (the same one the suites use, see
    /// [`crate::wire::codec`]), all of it before `deadline`.
    pub fn read_decoded<D: Decoder>(
        &mut self,
        d: &mut D,
        deadline: Instant,
    ) -> Result<D::Item, ReadError> {
        loop {
            match d.decode(&self.buf) {
                Decoded::Complete(item, used) => {
                    self.buf.drain(..used.min(self.buf.len()));
                    return Ok(item);
                }
                Decoded::Malformed(m) => return Err(ReadError::Malformed(m)),
                Decoded::Incomplete => {}
            }
            // What a timeout or close shows is the part waited for.
            let mark = d.mark();
            let part = |buf: &[u8]| buf.get(mark..).unwrap_or_default().to_vec();
            let filled = match self.fill(deadline) {
                Err(ReadError::Timeout { .. }) => {
                    return Err(ReadError::Timeout {
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
                    Decoded::Malformed(m) => Err(ReadError::Malformed(m)),
                    Decoded::Incomplete => {
                        let partial = part(&self.buf);
                        self.buf.clear();
                        Err(ReadError::Closed { partial })
                    }
                };
            }
        }
    }

    /// One line ending in LF (the terminator is kept), at most `max` bytes.
    pub fn read_line(&mut self, max: usize, deadline: Instant) -> Result<Vec<u8>, ReadError> {
        let mut scanned = 0;
        loop {
            if let Some(pos) = self.buf[scanned..].iter().position(|b| *b == b'\n') {
                let end = scanned + pos + 1;
                if end > max {
                    return Err(ReadError::TooLong);
                }
                return Ok(self.buf.drain(..end).collect());
            }
            scanned = self.buf.len();
            if scanned >= max {
                return Err(ReadError::TooLong);
            }
            if self.fill(deadline)? == 0 {
                return Err(ReadError::Closed {
                    partial: std::mem::take(&mut self.buf),
                });
            }
        }
    }

    /// Everything until the server closes, at most `max` bytes.
    pub fn read_to_close(&mut self, max: usize, deadline: Instant) -> Result<Vec<u8>, ReadError> {
        loop {
            if self.buf.len() > max {
                return Err(ReadError::TooLong);
            }
            if self.fill(deadline)? == 0 {
                return Ok(std::mem::take(&mut self.buf));
            }
        }
    }

    /// Exactly `n` bytes.
    pub fn read_exact(&mut self, n: usize, deadline: Instant) -> Result<Vec<u8>, ReadError> {
        while self.buf.len() < n {
            if self.fill(deadline)? == 0 {
                return Err(ReadError::Closed {
                    partial: std::mem::take(&mut self.buf),
                });
            }
        }
        Ok(self.buf.drain(..n).collect())
    }
}

/// A UDP socket bound to an ephemeral loopback (or unspecified) port.
pub struct UdpLink {
    socket: UdpSocket,
    pub target: SocketAddr,
    pub log: Log,
    buf: Vec<u8>,
}

impl UdpLink {
    pub fn bind(target: SocketAddr) -> Result<UdpLink, String> {
        let local: SocketAddr = match (target.is_ipv4(), target.ip().is_loopback()) {
            (true, true) => "127.0.0.1:0",
            (true, false) => "0.0.0.0:0",
            (false, true) => "[::1]:0",
            (false, false) => "[::]:0",
        }
        .parse()
        .map_err(|e| format!("{e}"))?;
        let socket =
            UdpSocket::bind(local).map_err(|e| format!("cannot bind a UDP socket: {e}"))?;
        let mut log = Log::default();
        log.event(format!(
            "UDP socket {} for {target}",
            socket
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default()
        ));
        Ok(UdpLink {
            socket,
            target,
            log,
            buf: vec![0u8; 65_536],
        })
    }

    pub fn send(&mut self, data: &[u8]) -> Result<(), String> {
        self.log.bytes("C:", data);
        self.socket
            .send_to(data, self.target)
            .map(|_| ())
            .map_err(|e| format!("send failed: {e}"))
    }

    /// The next datagram from the target before `deadline`.
    pub fn recv(&mut self, deadline: Instant) -> Result<Vec<u8>, ReadError> {
        let buf = &mut self.buf;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ReadError::Timeout { partial: vec![] });
            }
            let _ = self.socket.set_read_timeout(Some(left));
            match self.socket.recv_from(buf) {
                Ok((n, from)) if from == self.target => {
                    self.log.bytes("S:", &buf[..n]);
                    return Ok(buf[..n].to_vec());
                }
                Ok((_, from)) => self.log.event(format!("ignored a datagram from {from}")),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(ReadError::Timeout { partial: vec![] })
                }
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    self.log.event("ICMP port unreachable");
                    return Err(ReadError::Closed { partial: vec![] });
                }
                Err(e) => return Err(ReadError::Io(format!("receive failed: {e}"))),
            }
        }
    }
}

/// A link of either transport.
pub enum Link {
    Tcp(TcpLink),
    Udp(UdpLink),
}

impl Link {
    pub fn log(&self) -> &Log {
        match self {
            Link::Tcp(l) => &l.log,
            Link::Udp(l) => &l.log,
        }
    }

    pub fn send(&mut self, data: &[u8]) -> Result<(), String> {
        match self {
            Link::Tcp(l) => l.send(data),
            Link::Udp(l) => l.send(data),
        }
    }

    pub fn set_logging(&mut self, on: bool) {
        match self {
            Link::Tcp(l) => l.log.enabled = on,
            Link::Udp(l) => l.log.enabled = on,
        }
    }
}
