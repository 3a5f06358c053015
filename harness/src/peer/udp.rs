//! A UDP peer in the course's server role (UDPServer.py, course notes §8):
//! each datagram answered as scripted (upper-cased, a fixed text, late, or
//! not at all), every datagram recorded with its source.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;

use super::{Tasks, MAX_DATAGRAMS, MAX_RECORDED};
use crate::transcript::{Dir, Transcript};

/// What the peer answers to each datagram.
#[derive(Clone, Debug)]
pub enum Answer {
    Upper,
    Fixed(Vec<u8>),
    Silence,
}

#[derive(Clone, Debug)]
pub struct Script {
    pub answer: Answer,
    pub delay: Duration,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            answer: Answer::Upper,
            delay: Duration::ZERO,
        }
    }
}

/// One datagram from the client under test.
#[derive(Clone, Debug)]
pub struct Received {
    pub from: SocketAddr,
    pub payload: Vec<u8>,
    /// Seconds after the peer started.
    pub at: f64,
}

#[derive(Debug, Default)]
pub struct Record {
    pub datagrams: Vec<Received>,
    /// Datagrams past [`MAX_DATAGRAMS`] or [`MAX_RECORDED`] bytes: counted only.
    pub dropped: usize,
}

pub struct UdpPeer {
    pub addr: SocketAddr,
    pub record: Arc<Mutex<Record>>,
    _tasks: Arc<Tasks>,
}

/// The largest datagram (the IPv4 UDP maximum).
const MAX_DATAGRAM: usize = 65_535;

impl UdpPeer {
    pub async fn start(script: Script, transcript: &Transcript) -> std::io::Result<UdpPeer> {
        let socket = UdpSocket::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        let addr = socket.local_addr()?;
        let name = "udp peer";
        transcript.event(name, format!("listening on {addr}"));
        let record: Arc<Mutex<Record>> = Arc::default();
        let tasks = Arc::new(Tasks::default());
        let rec = record.clone();
        let t = transcript.clone();
        let started = Instant::now();
        tasks.add(tokio::spawn(async move {
            let socket = Arc::new(socket);
            let mut buf = vec![0u8; MAX_DATAGRAM];
            let mut kept = 0usize;
            loop {
                let Ok((n, from)) = socket.recv_from(&mut buf).await else {
                    // An ICMP error for an earlier reply: keep serving.
                    continue;
                };
                let payload = buf[..n].to_vec();
                {
                    let Ok(mut r) = rec.lock() else { return };
                    if r.datagrams.len() >= MAX_DATAGRAMS || kept + n > MAX_RECORDED {
                        r.dropped += 1;
                        continue;
                    }
                    kept += n;
                    r.datagrams.push(Received {
                        from,
                        payload: payload.clone(),
                        at: started.elapsed().as_secs_f64(),
                    });
                }
                t.event(name, format!("datagram from {from}"));
                t.bytes(name, Dir::Client, &payload);
                let reply = match &script.answer {
                    Answer::Upper => super::upper(&payload),
                    Answer::Fixed(b) => b.clone(),
                    Answer::Silence => continue,
                };
                let (socket, t, delay) = (socket.clone(), t.clone(), script.delay);
                // Each answer on its own, so a late one does not hold up the
                // recording of the next datagram.
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    t.bytes(name, Dir::Server, &reply);
                    let _ = socket.send_to(&reply, from).await;
                });
            }
        }));
        Ok(UdpPeer {
            addr,
            record,
            _tasks: tasks,
        })
    }

    pub fn datagrams(&self) -> Vec<Received> {
        self.record
            .lock()
            .map(|r| r.datagrams.clone())
            .unwrap_or_default()
    }
}
