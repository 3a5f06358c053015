//! DNS message steps: build a query from step text or a table, send it over
//! UDP or TCP to `${dns.address}`, and check the response's header, RCODE and
//! sections. Responses are decoded with hickory-proto; header and question
//! are also read from the bytes (see `wire::dns`). Scenarios driven by
//! hickory-client query the way a resolver library does.
//!
//! A response is read lazily: the first Then step after a query waits for it.
//!
//! - this module: the scenario's sockets, sending queries, reading responses;
//! - `query`: When steps that build and send queries;
//! - `tcp`: pipelining and connection reuse;
//! - `library`: queries sent by hickory-client;
//! - `roles`: what the profile declares (recursion, fixture data it lacks);
//! - `header`, `sections`, `message`: Then steps on the response.

mod header;
mod library;
mod message;
mod query;
mod roles;
mod sections;
mod tcp;

use std::net::SocketAddr;

use cucumber::given;

use super::{Failure, StepResult, World};
use crate::step;
use crate::target::profile::resolve;
use crate::wire::dns::{
    compression_pointers, question_bytes, rcode_from_name, rcode_name, rdata_text, read_tcp,
    response_rcode, send_tcp, type_from_name, EdnsSpec, QuerySpec, Response,
};
use crate::wire::{Conn, UdpClient, WireError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    fn parse(s: Option<&str>) -> Transport {
        match s {
            Some(t) if t.eq_ignore_ascii_case("tcp") => Transport::Tcp,
            _ => Transport::Udp,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

/// A query sent whose response has not been read yet, or has.
struct Sent {
    spec: Option<QuerySpec>,
    bytes: Vec<u8>,
    transport: Transport,
}

#[derive(Default)]
pub struct DnsState {
    udp: Option<UdpClient>,
    tcp: Option<Conn>,
    /// TCP connections opened in this scenario.
    tcp_opened: usize,
    pending: Vec<Sent>,
    last_query: Option<Sent>,
    response: Option<Response>,
    /// Answer sections of earlier responses, for order comparisons.
    history: Vec<Response>,
    next_id: u16,
}

fn server(w: &World) -> Result<SocketAddr, Failure> {
    let text = w.expand("${dns.address}")?;
    resolve(&text).map_err(|e| Failure::harness(format!("dns.address \"{text}\": {e}")))
}

/// A fresh query ID per query, different across scenarios.
fn fresh_id(w: &mut World) -> u16 {
    let seed = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
        & 0xffff) as u16;
    let st = w.state::<DnsState>();
    st.next_id = st.next_id.wrapping_add(1);
    seed.wrapping_mul(31)
        .wrapping_add(st.next_id.wrapping_mul(7919))
        | 1
}

/// Binds the scenario's UDP socket; TCP connects on first use.
#[given(regex = r"^a DNS client for the server under test$")]
async fn dns_client(w: &mut World) -> StepResult {
    step!(w, bind_udp(w).await)
}

async fn bind_udp(w: &mut World) -> StepResult {
    let addr = server(w)?;
    let udp = UdpClient::bind(addr, "dns udp", &w.transcript, w.step_timeout).await?;
    w.state::<DnsState>().udp = Some(udp);
    Ok(())
}

async fn tcp_conn(w: &mut World) -> Result<&mut Conn, Failure> {
    if w.state::<DnsState>().tcp.is_none() {
        let addr = server(w)?;
        let n = w.state::<DnsState>().tcp_opened + 1;
        let conn = w
            .connect(
                Some(crate::protocol::Protocol::Dns),
                addr,
                &format!("dns tcp{n}"),
            )
            .await?;
        let st = w.state::<DnsState>();
        st.tcp = Some(conn);
        st.tcp_opened = n;
    }
    w.state::<DnsState>()
        .tcp
        .as_mut()
        .ok_or_else(|| Failure::harness("no TCP connection"))
}

/// Sends a query's bytes and notes it; the response is read later.
async fn send(
    w: &mut World,
    spec: Option<QuerySpec>,
    bytes: Vec<u8>,
    transport: Transport,
) -> StepResult {
    let label = match transport {
        Transport::Udp => "dns udp",
        Transport::Tcp => "dns tcp",
    };
    w.transcript.event(
        label,
        format!("query: {}", describe_query(spec.as_ref(), &bytes)),
    );
    match transport {
        Transport::Udp => {
            if w.state::<DnsState>().udp.is_none() {
                bind_udp(w).await?;
            }
            let st = w.state::<DnsState>();
            let udp = st
                .udp
                .as_ref()
                .ok_or_else(|| Failure::harness("no UDP socket"))?;
            udp.send(&bytes).await?;
        }
        Transport::Tcp => send_tcp(tcp_conn(w).await?, &bytes).await?,
    }
    let st = w.state::<DnsState>();
    if let Some(r) = st.response.take() {
        st.history.push(r);
    }
    st.pending.push(Sent {
        spec,
        bytes,
        transport,
    });
    Ok(())
}

fn describe_query(spec: Option<&QuerySpec>, bytes: &[u8]) -> String {
    match spec {
        Some(q) => format!(
            "id {} opcode {} rd {} {} {} class {}{}, {} octets",
            q.id,
            q.opcode,
            q.rd as u8,
            q.name,
            hickory_proto::rr::RecordType::from(q.qtype),
            q.qclass,
            q.edns
                .as_ref()
                .map(|e| format!(", EDNS version {} payload {}", e.version, e.payload))
                .unwrap_or_default(),
            bytes.len()
        ),
        None => format!("{} raw octets", bytes.len()),
    }
}

/// Reads one message for a query sent, without judging it. The outer error
/// is the harness's (no socket); the inner one is what the wire did.
async fn receive_one(w: &mut World, sent: &Sent) -> Result<Result<Response, WireError>, Failure> {
    let timeout = w.step_timeout;
    let raw = match sent.transport {
        Transport::Udp => {
            let st = w.state::<DnsState>();
            let udp = st
                .udp
                .as_ref()
                .ok_or_else(|| Failure::harness("no UDP socket"))?;
            udp.recv_resending(&sent.bytes, timeout, "a DNS response")
                .await
                .map(|d| d.payload)
        }
        Transport::Tcp => read_tcp(tcp_conn(w).await?).await,
    };
    Ok(raw.map(|raw| {
        let resp = Response::decode(raw, sent.transport.name());
        log_response(w, &resp);
        resp
    }))
}

fn log_response(w: &World, resp: &Response) {
    let label = format!("dns {}", resp.transport);
    for line in resp.describe().lines() {
        w.transcript.event(&label, format!("decoded {line}"));
    }
}

/// The response to the last query: read now if it has not been. A message
/// whose ID is not the query's is not its response (RFC 1035 §7.3): that
/// fails the step, with the message shown.
async fn response(w: &mut World) -> Result<Response, Failure> {
    loop {
        let st = w.state::<DnsState>();
        if st.pending.is_empty() {
            return st.response.clone().ok_or_else(|| {
                Failure::harness("the scenario checks a response before sending a query")
            });
        }
        let sent = st.pending.remove(0);
        let resp = receive_one(w, &sent).await??;
        check_id(&sent, &resp)?;
        let st = w.state::<DnsState>();
        st.last_query = Some(sent);
        st.response = Some(resp);
    }
}

fn check_id(sent: &Sent, resp: &Response) -> StepResult {
    let want = sent.spec.as_ref().map(|q| q.id).or_else(|| {
        (sent.bytes.len() >= 2).then(|| u16::from_be_bytes([sent.bytes[0], sent.bytes[1]]))
    });
    match (want, &resp.header) {
        (Some(id), Some(h)) if h.id != id => Err(Failure::conformance(
            "the response's ID is not the query's (RFC 1035 §4.1.1: the ID \"is copied [into] the corresponding reply\")",
        )
        .expected(format!("ID {id}"))
        .got(resp.describe())),
        (_, None) => Err(Failure::conformance("the response is shorter than a DNS header")
            .expected("a 12-octet header at least")
            .got(resp.describe())),
        _ => Ok(()),
    }
}

/// The response to the last query (read now if it has not been), for the
/// resolver suite's steps (`crate::steps::resolver`).
pub(crate) async fn current_response(w: &mut World) -> Result<Response, Failure> {
    response(w).await
}

/// The responses read before the current one, oldest first.
pub(crate) fn earlier_responses(w: &mut World) -> Vec<Response> {
    w.state::<DnsState>().history.clone()
}

fn parse_bool(s: &str) -> Result<bool, Failure> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "yes" | "true" | "set" | "on" => Ok(true),
        "0" | "no" | "false" | "clear" | "off" => Ok(false),
        other => Err(Failure::harness(format!("\"{other}\" is not yes/no"))),
    }
}

fn parse_type(s: &str) -> Result<u16, Failure> {
    type_from_name(s.trim()).ok_or_else(|| Failure::harness(format!("unknown record type \"{s}\"")))
}
