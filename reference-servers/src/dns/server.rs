//! Answering a query message, and the UDP and TCP transports
//! (RFC 1035 §4.2; RFC 7766 for TCP; RFC 6891 for EDNS(0)).

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

use super::codec::{parse_query, rcode, Header, Malformed, Opt, Section, Writer};
use super::lookup;
use super::zone::Zone;
use crate::listener::{accept_loop, WhenFull};

/// RFC 1035 §4.2.1: UDP messages are at most 512 octets without EDNS(0).
pub const UDP_CLASSIC: usize = 512;
/// The largest UDP payload this server sends and advertises (the 1232 of
/// the DNS flag day 2020 avoids IP fragmentation).
pub const UDP_MAX: u16 = 1232;
/// A TCP message is at most 65535 octets (the two-octet length, §4.2.2).
pub const TCP_MAX: usize = 65535;
/// How long an idle TCP connection stays open (RFC 7766 §6.2.3 suggests
/// seconds, not minutes).
pub const TCP_IDLE: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// The response to one received message, or `None` when it gets none (too
/// short for a header, or itself a response).
pub fn respond(zones: &[Zone], msg: &[u8], transport: Transport) -> Option<Vec<u8>> {
    let query = match parse_query(msg) {
        Ok(q) => q,
        Err(Malformed::Drop) => return None,
        Err(Malformed::Reply(header, question, code)) => {
            let mut w = Writer::new(reply_header(&header, code), question.as_ref(), UDP_CLASSIC);
            w.header_mut().aa = false;
            return Some(w.finish(None));
        }
    };
    let limit = match (transport, &query.edns) {
        (Transport::Tcp, _) => TCP_MAX,
        (Transport::Udp, None) => UDP_CLASSIC,
        // RFC 6891 §6.2.5: a size below 512 is treated as 512; the response
        // never exceeds what the requestor can take (no amplification
        // beyond its own figure) nor what this server sends.
        (Transport::Udp, Some(e)) => (e.payload as usize).clamp(UDP_CLASSIC, UDP_MAX as usize),
    };
    let opt = |ext_rcode: u8| {
        query.edns.as_ref().map(|e| Opt {
            payload: UDP_MAX,
            ext_rcode,
            dnssec_ok: e.dnssec_ok,
        })
    };
    // RFC 6891 §6.1.3: an unknown EDNS version gets BADVERS and version 0.
    if query.edns.as_ref().is_some_and(|e| e.version != 0) {
        let header = reply_header(&query.header, (rcode::BADVERS & 0x0f) as u8);
        let mut w = Writer::new(header, Some(&query.question), limit);
        w.reserve_opt();
        return Some(w.finish(opt((rcode::BADVERS >> 4) as u8)));
    }
    let q = &query.question;
    let a = lookup::answer(zones, &q.name, q.qtype, q.qclass);
    let mut header = reply_header(&query.header, a.rcode);
    header.aa = a.aa;
    let mut w = Writer::new(header, Some(q), limit);
    if query.edns.is_some() {
        w.reserve_opt();
    }
    for r in &a.answer {
        w.add(Section::Answer, r);
    }
    for r in &a.authority {
        w.add(Section::Authority, r);
    }
    for r in &a.additional {
        w.add(Section::Additional, r);
    }
    Some(w.finish(opt(0)))
}

/// The response header: ID, opcode and RD copied from the query (RFC 1035
/// §4.1.1), QR set, RA clear (no recursion here), AA decided by the lookup.
/// Z stays zero (§4.1.1: "Must be zero in all queries and responses"), AD
/// too: no RRset here is DNSSEC-validated (RFC 4035 §3.1.6: a name server
/// "MUST NOT set the AD bit in a response unless the name server considers
/// all RRsets in the Answer and Authority sections of the response to be
/// authentic"). CD is left clear in these authoritative answers, as nsd and
/// knot leave it.
fn reply_header(query: &Header, code: u8) -> Header {
    Header {
        id: query.id,
        qr: true,
        opcode: query.opcode,
        rd: query.rd,
        rcode: code,
        ..Header::default()
    }
}

/// One response datagram per query datagram, sent to its source.
pub async fn serve_udp(socket: UdpSocket, zones: Arc<Vec<Zone>>) {
    let mut buf = vec![0u8; TCP_MAX];
    loop {
        let Ok((n, client)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        if let Some(reply) = respond(&zones, &buf[..n], Transport::Udp) {
            let _ = socket.send_to(&reply, client).await;
        }
    }
}

pub async fn serve_tcp(listener: TcpListener, zones: Arc<Vec<Zone>>) {
    // Beyond the limit, new connections are closed right away.
    accept_loop(
        listener,
        crate::MAX_CONNECTIONS,
        WhenFull::Close,
        move |stream, _| {
            let zones = zones.clone();
            async move {
                let _ = connection(stream, &zones).await;
            }
        },
    )
    .await
}

/// Several queries on one connection, each framed by a two-octet length
/// (RFC 1035 §4.2.2, RFC 7766 §6.2.1), answered in order.
async fn connection(mut stream: TcpStream, zones: &[Zone]) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    loop {
        let mut len = [0u8; 2];
        match tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut len)).await {
            Ok(Ok(_)) => {}
            _ => return Ok(()),
        }
        let len = u16::from_be_bytes(len) as usize;
        let mut msg = vec![0u8; len];
        match tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut msg)).await {
            Ok(Ok(_)) => {}
            _ => return Ok(()),
        }
        let Some(reply) = respond(zones, &msg, Transport::Tcp) else {
            return Ok(());
        };
        let mut framed = Vec::with_capacity(reply.len() + 2);
        framed.extend_from_slice(&(reply.len() as u16).to_be_bytes());
        framed.extend_from_slice(&reply);
        tokio::time::timeout(TCP_IDLE, stream.write_all(&framed))
            .await
            .map_err(|_| std::io::Error::other("client stopped reading"))??;
    }
}
