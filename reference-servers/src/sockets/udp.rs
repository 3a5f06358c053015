//! `UDPServer.py`: `message, clientAddress = recvfrom(2048)`, then
//! `sendto(message.upper(), clientAddress)`, forever.

use tokio::net::UdpSocket;

/// The course's receive buffer: `serverSocket.recvfrom(2048)`. A longer
/// datagram is truncated to this size, as it would be by the course code.
pub const MAX_DATAGRAM: usize = 2048;

pub async fn serve(socket: UdpSocket) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (n, client) = match socket.recv_from(&mut buf).await {
            Ok(r) => r,
            // An ICMP error from an earlier reply (e.g. port unreachable) is
            // reported on the next receive on some systems; keep serving.
            Err(_) => continue,
        };
        // Exactly one reply, to the sender's own address and port (RFC 768:
        // the source port is "the port to which a reply should be addressed").
        let _ = socket.send_to(&super::upper(&buf[..n]), client).await;
    }
}
