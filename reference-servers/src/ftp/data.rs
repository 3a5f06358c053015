//! The data connection (RFC 959 §3.2, RFC 2428). Each transfer uses a new
//! one, prepared by the command before it:
//!
//! - passive (PASV, EPSV): the server listens on a fresh port of the control
//!   connection's local address and the client connects to it;
//! - active (PORT, EPRT): the server connects to the address the client gave,
//!   which must be the client's own (RFC 2577 §3: no "bounce" to a third host).
//!
//! In passive mode a connection from any other host than the control
//! connection's client is refused (RFC 2577 §8, port stealing).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};

pub enum DataSetup {
    None,
    Passive(TcpListener),
    Active(SocketAddr),
}

impl DataSetup {
    /// Opens the prepared connection within `timeout`. The flag tells
    /// whether it was already open (a passive connection the client made
    /// before the transfer command): RFC 959 answers 125 then, 150 otherwise.
    pub async fn open(
        self,
        control: (SocketAddr, SocketAddr),
        timeout: Duration,
    ) -> io::Result<(TcpStream, bool)> {
        let (local, peer) = control;
        match self {
            DataSetup::None => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "Use PORT, EPRT, PASV or EPSV first",
            )),
            DataSetup::Passive(listener) => {
                // A zero timeout still polls once: a connection already
                // waiting in the backlog is taken at once.
                if let Ok(r) =
                    tokio::time::timeout(Duration::ZERO, accept_from(&listener, peer.ip())).await
                {
                    return r.map(|s| (s, true));
                }
                tokio::time::timeout(timeout, accept_from(&listener, peer.ip()))
                    .await
                    .map_err(|_| {
                        io::Error::new(io::ErrorKind::TimedOut, "no data connection was made")
                    })?
                    .map(|s| (s, false))
            }
            DataSetup::Active(to) => {
                let socket = if to.is_ipv4() {
                    TcpSocket::new_v4()?
                } else {
                    TcpSocket::new_v6()?
                };
                if local.is_ipv4() == to.is_ipv4() {
                    socket.bind(SocketAddr::new(local.ip(), 0))?;
                }
                tokio::time::timeout(timeout, socket.connect(to))
                    .await
                    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))?
                    .map(|s| (s, false))
            }
        }
    }
}

async fn accept_from(listener: &TcpListener, client: IpAddr) -> io::Result<TcpStream> {
    loop {
        let (stream, from) = listener.accept().await?;
        if from.ip().to_canonical() == client.to_canonical() {
            return Ok(stream);
        }
        // Another host connected to the passive port: drop it, keep waiting.
        drop(stream);
    }
}

/// A passive listener on the control connection's local address.
pub async fn listen(local: IpAddr) -> io::Result<TcpListener> {
    crate::listener::bind(SocketAddr::new(local, 0))
}

/// Whether an active-mode address may be used: the client's own address
/// (RFC 2577 §3), and not a privileged port (RFC 2577 §3 suggests refusing
/// ports below 1024).
pub fn allowed_active(to: SocketAddr, client: IpAddr) -> Result<(), &'static str> {
    if to.ip().to_canonical() != client.to_canonical() {
        return Err("Data connections only to the client's own address (RFC 2577)");
    }
    if to.port() < 1024 {
        return Err("Data connections to privileged ports are refused (RFC 2577)");
    }
    Ok(())
}

/// `h1,h2,h3,h4,p1,p2` for a 227 reply.
pub fn pasv_tuple(addr: SocketAddr) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_addresses() {
        let client: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(allowed_active("127.0.0.1:2000".parse().unwrap(), client).is_ok());
        assert!(allowed_active("127.0.0.2:2000".parse().unwrap(), client).is_err());
        assert!(allowed_active("127.0.0.1:25".parse().unwrap(), client).is_err());
        assert_eq!(
            pasv_tuple("127.0.0.1:1025".parse().unwrap()).as_deref(),
            Some("127,0,0,1,4,1")
        );
    }
}
