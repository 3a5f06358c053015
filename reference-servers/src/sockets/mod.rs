//! The course's socket-programming servers (Kurose & Ross §2.7): a UDP and a
//! TCP server that send back the client's message upper-cased.
//!
//! Both behave like `UDPServer.py` and `TCPServer.py` of the course notes:
//! the UDP server answers each datagram with exactly one datagram sent to the
//! datagram's source address; the TCP server reads one message (one `recv` of
//! at most 1024 bytes), sends it back upper-cased and closes that connection.

mod tcp;
mod udp;

use std::net::{IpAddr, SocketAddr};

use crate::Running;

/// `bytes.upper()` of Python: only the ASCII letters a–z change; every other
/// byte (digits, punctuation, `{`, `` ` ``, bytes above 0x7F) is left alone.
pub fn upper(message: &[u8]) -> Vec<u8> {
    message.to_ascii_uppercase()
}

/// Starts both servers on `ip`. The course runs them on the same port number
/// (12000) for TCP and UDP; with `port == 0` an ephemeral TCP port is chosen
/// and the UDP server takes the same number when it is free.
pub async fn start(ip: IpAddr, port: u16) -> std::io::Result<Running> {
    let listener = crate::listener::bind(SocketAddr::new(ip, port))?;
    let tcp_addr = listener.local_addr()?;
    let socket = match tokio::net::UdpSocket::bind(tcp_addr).await {
        Ok(s) => s,
        Err(_) if port == 0 => tokio::net::UdpSocket::bind(SocketAddr::new(ip, 0)).await?,
        Err(e) => return Err(e),
    };
    let udp_addr = socket.local_addr()?;
    let mut running = Running::new();
    running.add("tcp", tcp_addr, tokio::spawn(tcp::serve(listener)));
    running.add("udp", udp_addr, tokio::spawn(udp::serve(socket)));
    Ok(running)
}

#[cfg(test)]
mod tests {
    #[test]
    fn upper_changes_only_ascii_letters() {
        assert_eq!(
            super::upper(b"`az{ @AZ[ 09 \xe9\xff"),
            b"`AZ{ @AZ[ 09 \xe9\xff"
        );
    }
}
