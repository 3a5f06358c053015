//! A TCP peer in the course's server role (TCPServer.py, course notes §8):
//! accept, read the client's message, answer it as scripted, close — or
//! stay silent, answer late, or close without a word, so that a client's
//! handling of a bad server can be judged.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::{accept_loop, listen, Connections, Served, Tasks};
use crate::transcript::Transcript;

/// What the peer answers to the first message of a connection.
#[derive(Clone, Debug)]
pub enum Answer {
    /// The message upper-cased (a–z only, as Python's `bytes.upper()`).
    Upper,
    /// These bytes, whatever came.
    Fixed(Vec<u8>),
    /// Nothing; the connection stays open until the client closes it.
    Silence,
    /// Nothing; the peer closes the connection as soon as it has read.
    Close,
}

#[derive(Clone, Debug)]
pub struct Script {
    pub answer: Answer,
    /// Wait this long after the message before answering.
    pub delay: Duration,
    /// Close the connection after answering (the course's server does).
    pub close_after: bool,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            answer: Answer::Upper,
            delay: Duration::ZERO,
            close_after: true,
        }
    }
}

/// Largest first message the peer reads before answering (the course's
/// `recv(1024)` reads less; a longer one is still recorded whole).
const FIRST_READ: usize = 64 * 1024;

pub struct TcpPeer {
    pub addr: SocketAddr,
    pub conns: Connections,
    _tasks: Arc<Tasks>,
}

impl TcpPeer {
    pub async fn start(script: Script, transcript: &Transcript) -> std::io::Result<TcpPeer> {
        let (listener, addr) = listen().await?;
        transcript.event("tcp peer", format!("listening on {addr}"));
        let conns = Connections::default();
        let tasks = Arc::new(Tasks::default());
        accept_loop(listener, "tcp peer", transcript, &conns, &tasks, move |s| {
            serve(s, script.clone())
        });
        Ok(TcpPeer {
            addr,
            conns,
            _tasks: tasks,
        })
    }
}

async fn serve(mut s: Served, script: Script) {
    // The first message: whatever the client sends in its first write (a
    // short pause ends it), as the course's recv() would return it.
    let first = match s.conn.read_up_to(1, "the client's message").await {
        Ok(b) if !b.is_empty() => {
            let mut msg = b;
            if let Ok(more) = s
                .conn
                .drain_for(Duration::from_millis(50), FIRST_READ)
                .await
            {
                msg.extend_from_slice(&more);
            }
            msg
        }
        Ok(_) => {
            s.ended(true);
            return;
        }
        Err(crate::wire::WireError::Timeout { .. }) => {
            s.ended(false);
            return;
        }
        Err(_) => {
            s.ended(true);
            return;
        }
    };
    s.keep(&first);
    if !script.delay.is_zero() {
        tokio::time::sleep(script.delay).await;
    }
    let reply = match &script.answer {
        Answer::Upper => Some(super::upper(&first)),
        Answer::Fixed(b) => Some(b.clone()),
        Answer::Silence => None,
        Answer::Close => {
            s.conn
                .transcript()
                .event(&s.conn.name, "the peer closes without answering");
            // What the client does next (it should notice the close) is
            // seen on its own connection record: the socket is dropped here.
            return;
        }
    };
    if let Some(r) = reply {
        if s.conn.send(&r).await.is_err() {
            s.ended(true);
            return;
        }
        if script.close_after {
            s.conn
                .transcript()
                .event(&s.conn.name, "the peer closes the connection");
            let _ = s.conn.shutdown_write().await;
        }
    }
    s.record_until_close(super::IDLE).await;
}
