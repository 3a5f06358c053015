//! A UDP client socket: one ephemeral local port, datagrams to one target.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::UdpSocket;

use super::WireError;
use crate::transcript::{Dir, Transcript};

/// Largest datagram accepted (the IPv4 UDP maximum); anything larger is cut by
/// the kernel, and a larger buffer would only waste memory.
const MAX_DATAGRAM: usize = 65_535;

/// How long a DNS query over UDP waits before it is sent again: RFC 1035
/// §4.2.1, "the minimum retransmission interval should be 2-5 seconds".
pub const RESEND: Duration = Duration::from_secs(2);

pub struct UdpClient {
    pub name: String,
    pub target: SocketAddr,
    pub local: SocketAddr,
    pub timeout: Duration,
    socket: UdpSocket,
    transcript: Transcript,
}

/// One datagram as received.
#[derive(Clone, Debug)]
pub struct Datagram {
    pub payload: Vec<u8>,
    pub from: SocketAddr,
}

impl UdpClient {
    /// Binds an ephemeral port on the loopback or unspecified address of the
    /// target's family. The socket is not connected, so datagrams from any
    /// source are seen (and a reply from the wrong address can be reported).
    pub async fn bind(
        target: SocketAddr,
        name: &str,
        transcript: &Transcript,
        timeout: Duration,
    ) -> Result<Self, WireError> {
        let local_ip: IpAddr = match target.ip() {
            IpAddr::V4(ip) if ip.is_loopback() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(ip) if ip.is_loopback() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        let socket = UdpSocket::bind(SocketAddr::new(local_ip, 0))
            .await
            .map_err(|e| WireError::io("bind a UDP client socket", e))?;
        let local = socket
            .local_addr()
            .map_err(|e| WireError::io("local address", e))?;
        transcript.event(name, format!("UDP socket {local} for {target}"));
        Ok(Self {
            name: name.into(),
            target,
            local,
            timeout,
            socket,
            transcript: transcript.clone(),
        })
    }

    pub async fn send(&self, payload: &[u8]) -> Result<(), WireError> {
        self.transcript.bytes(&self.name, Dir::Client, payload);
        self.socket
            .send_to(payload, self.target)
            .await
            .map(|_| ())
            .map_err(|e| WireError::io(format!("send a datagram to {}", self.target), e))
    }

    /// Waits for the next datagram from anyone, up to `wait`.
    pub async fn recv_within(&self, wait: Duration, what: &str) -> Result<Datagram, WireError> {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        match tokio::time::timeout(wait, self.socket.recv_from(&mut buf)).await {
            Ok(Ok((n, from))) => {
                if from != self.target {
                    self.transcript.event(
                        &self.name,
                        format!("datagram from {from} (not the target {})", self.target),
                    );
                }
                self.transcript.bytes(&self.name, Dir::Server, &buf[..n]);
                if let Err(limit) = self.transcript.charge(n) {
                    return Err(WireError::OverBudget {
                        what: what.to_string(),
                        limit,
                    });
                }
                Ok(Datagram {
                    payload: buf[..n].to_vec(),
                    from,
                })
            }
            // An ICMP port unreachable for an earlier datagram surfaces here
            // on Linux as ECONNREFUSED: nothing listens at the target.
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                self.transcript.event(
                    &self.name,
                    "ICMP: port unreachable (nothing listens at the target)",
                );
                Err(WireError::io(format!("receive from {}", self.target), e))
            }
            Ok(Err(e)) => Err(WireError::io("receive a datagram", e)),
            Err(_) => Err(WireError::Timeout {
                waited: wait,
                what: what.to_string(),
                partial: vec![],
            }),
        }
    }

    /// The answer to `query`, already sent, within `timeout`: the query goes
    /// again every [`RESEND`] while time is left, as a DNS client does (RFC
    /// 1035 §4.2.1: "Queries sent using UDP may be lost, and hence a
    /// retransmission strategy is required"). A resolver may count on it:
    /// unbound stops answering a request it has worked on for 1.9 s (its
    /// `discard-timeout`) and answers the retransmission from what it
    /// learned. A wait no longer than the interval sends nothing again.
    pub async fn recv_resending(
        &self,
        query: &[u8],
        timeout: Duration,
        what: &str,
    ) -> Result<Datagram, WireError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.recv_within(left.min(RESEND), what).await {
                Err(WireError::Timeout { .. }) if left > RESEND => {
                    self.transcript.event(
                        &self.name,
                        format!(
                            "no response within {} s: the query goes again (RFC 1035 §4.2.1)",
                            RESEND.as_secs()
                        ),
                    );
                    self.send(query).await?;
                }
                Err(WireError::Timeout { partial, what, .. }) => {
                    return Err(WireError::Timeout {
                        waited: timeout,
                        what,
                        partial,
                    })
                }
                other => return other,
            }
        }
    }

    pub async fn recv(&self, what: &str) -> Result<Datagram, WireError> {
        self.recv_within(self.timeout, what).await
    }
}
