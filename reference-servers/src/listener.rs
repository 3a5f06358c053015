//! The accept loop every TCP server shares: a bounded number of connections
//! served at once, each in its own task, and a policy for the next one.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Semaphore;

use crate::Running;

/// The listen backlog every server asks for: connections the kernel
/// completes before the accept loop takes them. Tokio's `TcpListener::bind`
/// asks for 1024, fewer than [`crate::MAX_CONNECTIONS`] clients connecting
/// at once, and a full backlog drops SYNs (the client retries a second
/// later). The kernel caps it at `net.core.somaxconn`.
pub const BACKLOG: u32 = 4096;

/// A TCP listener on `addr` (port 0 for an ephemeral one) with address
/// reuse, as `TcpListener::bind` makes it, but a [`BACKLOG`] backlog. Every
/// server binds its TCP listeners here.
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Binds a TCP listener on `addr` and runs `serve` on it as a task; the
/// listener is registered in the returned [`Running`] as `name`.
pub async fn start<F, Fut>(name: &str, addr: SocketAddr, serve: F) -> std::io::Result<Running>
where
    F: FnOnce(TcpListener) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = bind(addr)?;
    let addr = listener.local_addr()?;
    let mut running = Running::new();
    running.add(name, addr, tokio::spawn(serve(listener)));
    Ok(running)
}

/// A task that answers a connection the server has no slot for.
pub type Refusal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What happens to a connection while every slot is taken.
pub enum WhenFull {
    /// Stop accepting until a slot frees: new clients wait in the backlog.
    Wait,
    /// Accept it and close it at once, without a word.
    Close,
    /// Accept it and hand it to this (e.g. SMTP's 421 greeting), in its own
    /// task, outside the limit.
    Refuse(Box<dyn Fn(TcpStream) -> Refusal + Send + Sync>),
}

impl WhenFull {
    /// [`WhenFull::Refuse`] with `refuse`.
    pub fn refuse<F, Fut>(refuse: F) -> Self
    where
        F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        WhenFull::Refuse(Box::new(move |stream| Box::pin(refuse(stream))))
    }
}

/// Accepts connections on `listener` for ever and runs `session` on each,
/// at most `max_connections` at once; beyond that, `when_full` decides.
/// A failed accept (e.g. out of file descriptors) is retried after a pause.
pub async fn accept_loop<S, Fut>(
    listener: TcpListener,
    max_connections: usize,
    when_full: WhenFull,
    session: S,
) where
    S: Fn(TcpStream, SocketAddr) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(max_connections));
    loop {
        let waited = match when_full {
            WhenFull::Wait => match slots.clone().acquire_owned().await {
                Ok(permit) => Some(permit),
                Err(_) => return,
            },
            _ => None,
        };
        let Ok((stream, peer)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        // Every server writes a reply whole: Nagle would only hold a small
        // reply back behind an unacknowledged one (the TLS session tickets
        // after a handshake, then a 40 ms delayed ACK).
        let _ = stream.set_nodelay(true);
        let permit = match waited
            .map(Ok)
            .unwrap_or_else(|| slots.clone().try_acquire_owned())
        {
            Ok(permit) => permit,
            Err(_) => {
                match &when_full {
                    WhenFull::Refuse(refuse) => {
                        tokio::spawn(refuse(stream));
                    }
                    WhenFull::Close | WhenFull::Wait => drop(stream),
                }
                continue;
            }
        };
        let served = session(stream, peer);
        tokio::spawn(async move {
            served.await;
            drop(permit);
        });
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::{accept_loop, WhenFull};

    /// A loop with one slot whose sessions say "hello" and wait for the
    /// client to close.
    async fn one_slot(when_full: WhenFull) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(accept_loop(listener, 1, when_full, |mut s, _| async move {
            let _ = s.write_all(b"hello").await;
            let mut buf = [0u8; 16];
            while s.read(&mut buf).await.is_ok_and(|n| n > 0) {}
        }));
        addr
    }

    /// What arrives within `wait` before the peer closes or goes quiet.
    async fn read_for(c: &mut TcpStream, wait: Duration) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; 16];
        match tokio::time::timeout(wait, c.read(&mut buf)).await {
            Ok(Ok(n)) => Some(buf[..n].to_vec()),
            _ => None,
        }
    }

    const LONG: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn bind_listens_on_an_ephemeral_port_and_can_rebind_it() {
        let listener = super::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        assert_ne!(addr.port(), 0);
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (mut served, _) = listener.accept().await.unwrap();
        served.write_all(b"x").await.unwrap();
        assert_eq!(read_for(&mut client, LONG).await.unwrap(), b"x");
        // Address reuse, as TcpListener::bind has it: the port binds again
        // while the old connection is in TIME_WAIT.
        drop((listener, served));
        drop(super::bind(addr).unwrap());
    }

    #[tokio::test]
    async fn wait_serves_the_next_client_when_a_slot_frees() {
        let addr = one_slot(WhenFull::Wait).await;
        let mut first = TcpStream::connect(addr).await.unwrap();
        assert_eq!(read_for(&mut first, LONG).await.unwrap(), b"hello");
        let mut second = TcpStream::connect(addr).await.unwrap();
        assert_eq!(
            read_for(&mut second, Duration::from_millis(300)).await,
            None
        );
        drop(first);
        assert_eq!(read_for(&mut second, LONG).await.unwrap(), b"hello");
    }

    #[tokio::test]
    async fn close_closes_the_connection_beyond_the_limit() {
        let addr = one_slot(WhenFull::Close).await;
        let mut first = TcpStream::connect(addr).await.unwrap();
        assert_eq!(read_for(&mut first, LONG).await.unwrap(), b"hello");
        let mut second = TcpStream::connect(addr).await.unwrap();
        assert_eq!(read_for(&mut second, LONG).await.unwrap(), b"");
        drop(first);
        // The slot frees once the first session has seen the close.
        for _ in 0..50 {
            let mut next = TcpStream::connect(addr).await.unwrap();
            if read_for(&mut next, LONG).await.unwrap() == b"hello" {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the slot never freed");
    }

    #[tokio::test]
    async fn refuse_answers_the_connection_beyond_the_limit() {
        let addr = one_slot(WhenFull::refuse(|mut s: TcpStream| async move {
            let _ = s.write_all(b"busy").await;
        }))
        .await;
        let mut first = TcpStream::connect(addr).await.unwrap();
        assert_eq!(read_for(&mut first, LONG).await.unwrap(), b"hello");
        let mut second = TcpStream::connect(addr).await.unwrap();
        assert_eq!(read_for(&mut second, LONG).await.unwrap(), b"busy");
    }
}
