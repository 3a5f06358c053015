//! `TCPServer.py`: accept, `recv(1024)` once, send the sentence upper-cased,
//! close the connection socket (not the welcoming socket), accept the next.
//!
//! The course server is iterative; this one serves each connection in its own
//! task so that a client that connects and says nothing cannot block the
//! others, but each connection sees exactly the course's behaviour.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::listener::{accept_loop, WhenFull};

/// `connectionSocket.recv(1024)`.
pub const MAX_MESSAGE: usize = 1024;
/// A client that connects and sends nothing is dropped after this long.
const IDLE: Duration = Duration::from_secs(30);

pub async fn serve(listener: TcpListener) {
    accept_loop(
        listener,
        // Beyond the limit, new clients wait in the backlog.
        crate::MAX_CONNECTIONS,
        WhenFull::Wait,
        |stream, _| async move {
            let _ = tokio::time::timeout(IDLE, one_message(stream)).await;
        },
    )
    .await
}

async fn one_message(mut stream: TcpStream) -> std::io::Result<()> {
    let mut buf = vec![0u8; MAX_MESSAGE];
    let n = stream.read(&mut buf).await?;
    stream.write_all(&super::upper(&buf[..n])).await?;
    // Closing the connection socket: the client's next recv returns EOF.
    stream.shutdown().await
}
