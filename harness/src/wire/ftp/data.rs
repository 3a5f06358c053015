//! The FTP data connection on the client side (RFC 959 §3.2, RFC 2428):
//! in passive mode the client connects to the address of a 227/229 reply; in
//! active mode it listens and the server connects to it. Either way the
//! result is a [`Conn`], so every read is bounded and recorded in the
//! transcript under its own name.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::net::TcpListener;

use crate::transcript::Transcript;
use crate::wire::{Conn, WireError};

/// The transcript name of data connections.
pub const NAME: &str = "ftp data";

/// Most bytes read from one data connection.
pub const MAX_DATA: usize = 16 * 1024 * 1024;

/// A data connection being prepared: already connected (passive) or a
/// listener waiting for the server (active).
pub enum DataChannel {
    Passive(Conn),
    Active {
        listener: TcpListener,
        /// The server's control address: the only host expected to connect.
        server: IpAddr,
    },
}

impl DataChannel {
    /// Passive mode: connect to what the server's 227/229 reply named.
    pub async fn connect(
        addr: SocketAddr,
        transcript: &Transcript,
        timeout: Duration,
    ) -> Result<DataChannel, WireError> {
        Ok(DataChannel::Passive(
            Conn::connect(addr, NAME, transcript, timeout).await?,
        ))
    }

    /// A passive connection counted against the connection budget.
    pub fn with_lease(self, lease: crate::target::budget::Lease) -> DataChannel {
        match self {
            DataChannel::Passive(conn) => DataChannel::Passive(conn.with_lease(lease)),
            active => active,
        }
    }

    /// Active mode: listen on `local` (the control connection's own address)
    /// for the server at `server`.
    pub async fn listen(
        local: IpAddr,
        server: IpAddr,
        transcript: &Transcript,
    ) -> Result<(DataChannel, SocketAddr), WireError> {
        let listener = TcpListener::bind(SocketAddr::new(local, 0))
            .await
            .map_err(|e| WireError::io("listen for an active-mode data connection", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| WireError::io("local address", e))?;
        transcript.event(
            NAME,
            format!("listening on {addr} for the server's data connection"),
        );
        Ok((DataChannel::Active { listener, server }, addr))
    }

    /// The open data connection: the passive one, or the server's connection
    /// to the active listener (within `timeout`).
    pub async fn open(self, transcript: &Transcript, timeout: Duration) -> Result<Conn, WireError> {
        match self {
            DataChannel::Passive(conn) => Ok(conn),
            DataChannel::Active { listener, server } => {
                let what = "the server to open the active-mode data connection";
                let (stream, from) = tokio::time::timeout(timeout, listener.accept())
                    .await
                    .map_err(|_| WireError::Timeout {
                        waited: timeout,
                        what: what.into(),
                        partial: vec![],
                    })?
                    .map_err(|e| WireError::io(what, e))?;
                let conn = Conn::accepted(stream, NAME, transcript, timeout)?;
                if from.ip().to_canonical() != server.to_canonical() {
                    return Err(WireError::malformed(
                        "data connection source (it must come from the server's own address)",
                        from.to_string().as_bytes(),
                    ));
                }
                Ok(conn)
            }
        }
    }
}

/// `h1,h2,h3,h4,p1,p2` for PORT.
pub fn port_argument(addr: SocketAddr) -> Option<String> {
    let IpAddr::V4(ip) = addr.ip() else {
        return None;
    };
    let [a, b, c, d] = ip.octets();
    Some(format!(
        "{a},{b},{c},{d},{},{}",
        addr.port() >> 8,
        addr.port() & 0xff
    ))
}

/// `|1|addr|port|` or `|2|addr|port|` for EPRT.
pub fn eprt_argument(addr: SocketAddr) -> String {
    let proto = if addr.is_ipv4() { 1 } else { 2 };
    format!("|{proto}|{}|{}|", addr.ip(), addr.port())
}
