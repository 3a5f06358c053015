//! DNS message steps: build a query from step text or a table, send it over
//! UDP or TCP to `${dns.address}`, and check the response's header, RCODE and
//! sections. Responses are decoded with hickory-proto; header and question
//! are also read from the bytes (see `wire::dns`). Scenarios driven by
//! hickory-client query the way a resolver library does.
//!
//! A response is read lazily: the first Then step after a query waits for it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use cucumber::gherkin::Step;
use cucumber::{given, then, when};

use super::{Failure, StepResult, World};
use crate::step;
use crate::target::profile::resolve;
use crate::wire::dns::{
    compression_pointers, question_bytes, rcode_from_name, rcode_name, rdata_text, read_tcp,
    send_tcp, type_from_name, EdnsSpec, QuerySpec, Response,
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
        let conn =
            Conn::connect(addr, &format!("dns tcp{n}"), &w.transcript, w.step_timeout).await?;
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
            udp.recv_within(timeout, "a DNS response")
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

#[when(regex = r#"^the client queries "(.*)" for (\S+)(?: with RD set)?(?: over (UDP|TCP))?$"#)]
async fn queries(
    w: &mut World,
    step: &Step,
    name: String,
    qtype: String,
    transport: String,
) -> StepResult {
    step!(w, {
        let name = w.expand(&name)?;
        let mut spec = QuerySpec::new(fresh_id(w), &name, parse_type(&qtype)?);
        spec.rd = step.value.contains("with RD set");
        let bytes = spec.encode().map_err(Failure::harness)?;
        send(w, Some(spec), bytes, Transport::parse(Some(&transport))).await
    })
}

#[when(regex = r#"^the client queries "(.*)" for (\S+) (\d+) times(?: over (UDP|TCP))?$"#)]
async fn queries_n_times(
    w: &mut World,
    name: String,
    qtype: String,
    n: usize,
    transport: String,
) -> StepResult {
    step!(w, {
        let name = w.expand(&name)?;
        for _ in 0..n.min(50) {
            let spec = QuerySpec::new(fresh_id(w), &name, parse_type(&qtype)?);
            let bytes = spec.encode().map_err(Failure::harness)?;
            send(w, Some(spec), bytes, Transport::parse(Some(&transport))).await?;
            response(w).await?;
        }
        Ok(())
    })
}

/// A query from a two-column table of fields: `id`, `opcode`, `rd`, `qr`,
/// `name`, `type`, `class`, `edns` (yes/no), `payload`, `version`, `do`,
/// `extra OPT records`.
#[when(regex = r"^the client sends this query(?: over (UDP|TCP))?:$")]
async fn sends_query_table(w: &mut World, step: &Step, transport: String) -> StepResult {
    step!(w, {
        let mut fields = BTreeMap::new();
        for row in step
            .table
            .as_ref()
            .map(|t| t.rows.as_slice())
            .unwrap_or_default()
        {
            if row.len() != 2 {
                return Err(Failure::harness(
                    "a query table has two columns: field | value",
                ));
            }
            fields.insert(row[0].trim().to_ascii_lowercase(), w.expand(row[1].trim())?);
        }
        let spec = spec_from_fields(w, &fields)?;
        let bytes = spec.encode().map_err(Failure::harness)?;
        send(w, Some(spec), bytes, Transport::parse(Some(&transport))).await
    })
}

fn spec_from_fields(w: &mut World, f: &BTreeMap<String, String>) -> Result<QuerySpec, Failure> {
    let num = |k: &str| -> Result<Option<u32>, Failure> {
        f.get(k)
            .map(|v| {
                v.parse::<u32>()
                    .map_err(|_| Failure::harness(format!("{k}: \"{v}\" is not a number")))
            })
            .transpose()
    };
    let name = f
        .get("name")
        .cloned()
        .ok_or_else(|| Failure::harness("the query table needs a name"))?;
    let qtype = parse_type(f.get("type").map(String::as_str).unwrap_or("A"))?;
    let mut q = QuerySpec::new(fresh_id(w), &name, qtype);
    if let Some(id) = num("id")? {
        q.id = id as u16;
    }
    if let Some(op) = num("opcode")? {
        q.opcode = op as u8;
    }
    if let Some(c) = f.get("class") {
        q.qclass = match c.to_ascii_uppercase().as_str() {
            "IN" => 1,
            "CH" | "CHAOS" => 3,
            "HS" => 4,
            "ANY" => 255,
            n => n
                .parse()
                .map_err(|_| Failure::harness(format!("class \"{n}\"")))?,
        };
    }
    if let Some(v) = f.get("rd") {
        q.rd = parse_bool(v)?;
    }
    if let Some(v) = f.get("qr") {
        q.qr = parse_bool(v)?;
    }
    let wants_edns = match f.get("edns") {
        Some(v) => parse_bool(v)?,
        None => f.contains_key("payload") || f.contains_key("version") || f.contains_key("do"),
    };
    if wants_edns {
        q.edns = Some(EdnsSpec {
            payload: num("payload")?.unwrap_or(1232) as u16,
            version: num("version")?.unwrap_or(0) as u8,
            dnssec_ok: f
                .get("do")
                .map(|v| parse_bool(v))
                .transpose()?
                .unwrap_or(false),
        });
    }
    if let Some(n) = num("extra opt records")? {
        q.extra_opts = n as usize;
    }
    Ok(q)
}

/// Raw octets as hex (`"00 2a 01 00 …"`), for messages no builder makes.
#[when(regex = r#"^the client sends the message "([0-9a-fA-F ]*)" over (UDP|TCP)$"#)]
async fn sends_raw(w: &mut World, hex: String, transport: String) -> StepResult {
    step!(w, {
        let clean: String = hex.chars().filter(|c| !c.is_whitespace()).collect();
        if !clean.len().is_multiple_of(2) {
            return Err(Failure::harness("odd number of hex digits"));
        }
        let bytes: Vec<u8> = (0..clean.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&clean[i..i + 2], 16))
            .collect::<Result<_, _>>()
            .map_err(|e| Failure::harness(format!("hex: {e}")))?;
        send(w, None, bytes, Transport::parse(Some(&transport))).await
    })
}

/// The last query again, with a new ID, over TCP (the client's answer to TC,
/// RFC 7766 §5).
#[when(regex = r"^the client repeats the query over TCP$")]
async fn repeats_over_tcp(w: &mut World) -> StepResult {
    step!(w, {
        response(w).await?;
        let last = w
            .state::<DnsState>()
            .last_query
            .as_ref()
            .and_then(|s| s.spec.clone());
        let mut spec = last.ok_or_else(|| Failure::harness("no earlier query to repeat"))?;
        spec.id = fresh_id(w);
        let bytes = spec.encode().map_err(Failure::harness)?;
        send(w, Some(spec), bytes, Transport::Tcp).await
    })
}

/// Several queries written back to back on one TCP connection before any
/// response is read (RFC 7766 §6.2.1.1 pipelining).
#[when(regex = r"^the client sends these queries over TCP without waiting:$")]
async fn pipelined(w: &mut World, step: &Step) -> StepResult {
    step!(w, {
        let rows = step
            .table
            .as_ref()
            .map(|t| t.rows.clone())
            .unwrap_or_default();
        let mut all = Vec::new();
        let mut specs = Vec::new();
        for row in rows.iter().skip(1) {
            let name = w.expand(row.first().map(String::as_str).unwrap_or_default())?;
            let spec = QuerySpec::new(
                fresh_id(w),
                &name,
                parse_type(row.get(1).map(String::as_str).unwrap_or("A"))?,
            );
            let bytes = spec.encode().map_err(Failure::harness)?;
            all.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
            all.extend_from_slice(&bytes);
            specs.push((spec, bytes));
        }
        for (spec, bytes) in &specs {
            w.transcript.event(
                "dns tcp",
                format!("query: {}", describe_query(Some(spec), bytes)),
            );
        }
        tcp_conn(w).await?.send(&all).await?;
        w.state::<DnsState>()
            .pending
            .extend(specs.into_iter().map(|(spec, bytes)| Sent {
                spec: Some(spec),
                bytes,
                transport: Transport::Tcp,
            }));
        Ok(())
    })
}

#[then(regex = r"^each of them is answered, with its own ID and question, on the same connection$")]
async fn each_answered(w: &mut World) -> StepResult {
    step!(w, {
        let sent: Vec<Sent> = std::mem::take(&mut w.state::<DnsState>().pending);
        let mut unanswered: Vec<&Sent> = sent.iter().collect();
        // RFC 7766 §7: responses may come in any order; match them by ID.
        for _ in 0..sent.len() {
            let resp = receive_one(w, &sent[0]).await??;
            let id = resp.header.map(|h| h.id);
            let Some(pos) = unanswered
                .iter()
                .position(|s| s.spec.as_ref().map(|q| q.id) == id)
            else {
                return Err(Failure::conformance(
                    "a response matches none of the outstanding queries' IDs",
                )
                .expected(format!(
                    "one of the IDs {:?}",
                    unanswered
                        .iter()
                        .filter_map(|s| s.spec.as_ref().map(|q| q.id))
                        .collect::<Vec<_>>()
                ))
                .got(resp.describe()));
            };
            let s = unanswered.remove(pos);
            if question_bytes(&resp.raw) != question_bytes(&s.bytes) {
                return Err(
                    Failure::conformance("a response's question is not its query's")
                        .got(resp.describe()),
                );
            }
        }
        if w.state::<DnsState>().tcp_opened != 1 {
            return Err(Failure::harness(
                "the queries did not all go over one connection",
            ));
        }
        Ok(())
    })
}

#[then(regex = r"^both queries went over the same TCP connection$")]
async fn same_connection(w: &mut World) -> StepResult {
    step!(w, {
        response(w).await?;
        let st = w.state::<DnsState>();
        if st.tcp_opened == 1 && st.tcp.as_ref().is_some_and(|c| !c.at_eof()) {
            Ok(())
        } else {
            Err(Failure::conformance(
                "the server closed the TCP connection after a response; the next query needed a new connection",
            ))
        }
    })
}

#[when(regex = r#"^a hickory client queries "(.*)" for (\S+) over (UDP|TCP)$"#)]
async fn hickory_queries(
    w: &mut World,
    name: String,
    qtype: String,
    transport: String,
) -> StepResult {
    step!(w, {
        let name = w.expand(&name)?;
        let qtype = parse_type(&qtype)?;
        let addr = server(w)?;
        let t = Transport::parse(Some(&transport));
        w.transcript.event(
            &format!("hickory {}", t.name()),
            format!(
                "query {name} {} via hickory-client (RD set, EDNS(0))",
                hickory_proto::rr::RecordType::from(qtype)
            ),
        );
        let raw =
            super::dns_hickory::query(addr, &name, qtype, t == Transport::Tcp, w.step_timeout)
                .await
                .map_err(|e| {
                    Failure::conformance(format!(
                        "hickory-client could not complete the query: {e}"
                    ))
                })?;
        let resp = Response::decode(raw, t.name());
        log_response(w, &resp);
        let st = w.state::<DnsState>();
        st.pending.clear();
        st.last_query = None;
        if let Some(r) = st.response.replace(resp) {
            st.history.push(r);
        }
        Ok(())
    })
}

// ---- checks -------------------------------------------------------------

fn decoded(resp: &Response) -> Result<&hickory_proto::op::Message, Failure> {
    resp.message.as_ref().map_err(|e| {
        Failure::conformance(format!(
            "the response is not a well-formed DNS message: {e}"
        ))
        .got(resp.describe())
    })
}

fn fail(msg: impl Into<String>, expected: impl Into<String>, resp: &Response) -> Failure {
    Failure::conformance(msg)
        .expected(expected)
        .got(resp.describe())
}

#[then(regex = r"^the response has RCODE (?:one of )?(.+)$")]
async fn has_rcode(w: &mut World, codes: String) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let m = decoded(&resp)?;
        let want: Vec<u16> = codes
            .split(',')
            .map(|c| {
                rcode_from_name(c.trim())
                    .ok_or_else(|| Failure::harness(format!("unknown RCODE {c}")))
            })
            .collect::<Result<_, _>>()?;
        let got = u16::from(m.response_code());
        if want.contains(&got) {
            Ok(())
        } else {
            Err(fail(
                format!("RCODE {}", rcode_name(got)),
                format!("RCODE {codes}"),
                &resp,
            ))
        }
    })
}

#[then(regex = r"^the (QR|AA|TC|RD|RA) flag is (set|clear)$")]
async fn flag(w: &mut World, which: String, state: String) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let h = resp
            .header
            .ok_or_else(|| fail("no header", "a header", &resp))?;
        let on = match which.as_str() {
            "QR" => h.qr,
            "AA" => h.aa,
            "TC" => h.tc,
            "RD" => h.rd,
            _ => h.ra,
        };
        if on == (state == "set") {
            Ok(())
        } else {
            Err(fail(
                format!("the {which} flag is {}", if on { "set" } else { "clear" }),
                format!("{which} {state}"),
                &resp,
            ))
        }
    })
}

#[then(regex = r"^the RD flag is copied from the query$")]
async fn rd_copied(w: &mut World) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let want = last_spec(w)?.rd;
        match resp.header {
            Some(h) if h.rd == want => Ok(()),
            _ => Err(fail(
                "RD differs from the query's",
                format!("RD {}", want as u8),
                &resp,
            )),
        }
    })
}

fn last_spec(w: &mut World) -> Result<QuerySpec, Failure> {
    w.state::<DnsState>()
        .last_query
        .as_ref()
        .and_then(|s| s.spec.clone())
        .ok_or_else(|| Failure::harness("no query of this scenario to compare with"))
}

#[then(regex = r"^the response ID and opcode are the query's$")]
async fn id_echoed(w: &mut World) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let q = last_spec(w)?;
        match resp.header {
            Some(h) if h.id == q.id && h.opcode == q.opcode => Ok(()),
            _ => Err(fail(
                "the response does not echo ID and opcode",
                format!("ID {} opcode {}", q.id, q.opcode),
                &resp,
            )),
        }
    })
}

#[then(regex = r"^the question section is the query's, byte for byte$")]
async fn question_echoed(w: &mut World) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let sent = w
            .state::<DnsState>()
            .last_query
            .as_ref()
            .map(|s| s.bytes.clone())
            .unwrap_or_default();
        let want =
            question_bytes(&sent).ok_or_else(|| Failure::harness("the query has no question"))?;
        let count = resp.header.map(|h| h.counts[0]);
        if count == Some(1) && question_bytes(&resp.raw) == Some(want) {
            Ok(())
        } else {
            Err(fail(
                "the question section differs from the query's (RFC 1035 §4.1.2, §7.3: the question is copied, name case included)",
                format!("QDCOUNT 1 and the question {}", crate::report::transcript::escape(want)),
                &resp,
            ))
        }
    })
}

#[then(regex = r"^the response is at most (\d+) octets$")]
async fn at_most(w: &mut World, n: usize) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        if resp.raw.len() <= n {
            Ok(())
        } else {
            Err(fail(
                format!("the response is {} octets", resp.raw.len()),
                format!("at most {n} octets"),
                &resp,
            ))
        }
    })
}

#[then(regex = r"^the response is larger than (\d+) octets$")]
async fn larger_than(w: &mut World, n: usize) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        if resp.raw.len() > n {
            Ok(())
        } else {
            Err(fail(
                format!("the response is {} octets", resp.raw.len()),
                format!("more than {n} octets"),
                &resp,
            ))
        }
    })
}

type Section<'a> = &'a [hickory_proto::rr::Record];

fn section<'a>(m: &'a hickory_proto::op::Message, which: &str) -> Section<'a> {
    match which {
        "answer" => m.answers(),
        "authority" => m.name_servers(),
        _ => m.additionals(),
    }
}

#[then(regex = r"^the (answer|authority|additional) section is empty$")]
async fn section_empty(w: &mut World, which: String) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let m = decoded(&resp)?;
        if section(m, &which).is_empty() {
            Ok(())
        } else {
            Err(fail(
                format!("the {which} section has records"),
                format!("an empty {which} section"),
                &resp,
            ))
        }
    })
}

#[then(regex = r"^the (answer|authority|additional) section has (\d+) records?$")]
async fn section_count(w: &mut World, which: String, n: usize) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let m = decoded(&resp)?;
        let got = section(m, &which).len();
        if got == n {
            Ok(())
        } else {
            Err(fail(
                format!("the {which} section has {got} records"),
                format!("{n} records"),
                &resp,
            ))
        }
    })
}

/// One expected record: name, type, and optionally data and TTL.
struct Want {
    name: String,
    rtype: u16,
    data: Option<String>,
    ttl: Option<u32>,
    class: Option<String>,
}

fn norm_name(s: &str) -> String {
    let s = s.trim().to_ascii_lowercase();
    if s.ends_with('.') {
        s
    } else {
        format!("{s}.")
    }
}

/// Names in data end with a dot; everything else is compared as written.
fn norm_data(s: &str) -> String {
    s.split_whitespace()
        .map(|t| {
            let lower = t.to_ascii_lowercase();
            if !t.starts_with('"')
                && lower.contains('.')
                && lower.chars().any(|c| c.is_ascii_alphabetic())
                && !lower.contains(':')
            {
                norm_name(&lower)
            } else {
                t.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn wants(w: &World, step: &Step) -> Result<Vec<Want>, Failure> {
    let rows = step
        .table
        .as_ref()
        .map(|t| t.rows.clone())
        .unwrap_or_default();
    let header: Vec<String> = rows
        .first()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let (n, t) = col("name")
        .zip(col("type"))
        .ok_or_else(|| Failure::harness("a record table needs name and type columns"))?;
    let mut out = Vec::new();
    for row in rows.iter().skip(1) {
        out.push(Want {
            name: norm_name(&w.expand(&row[n])?),
            rtype: parse_type(&row[t])?,
            data: col("data")
                .map(|d| w.expand(&row[d]).map(|v| norm_data(&v)))
                .transpose()?,
            ttl: col("ttl")
                .map(|c| {
                    row[c]
                        .trim()
                        .parse::<u32>()
                        .map_err(|_| Failure::harness("ttl must be a number"))
                })
                .transpose()?,
            class: col("class").map(|c| row[c].trim().to_ascii_uppercase()),
        });
    }
    Ok(out)
}

fn matches(want: &Want, r: &hickory_proto::rr::Record) -> bool {
    norm_name(&r.name().to_ascii()) == want.name
        && u16::from(r.record_type()) == want.rtype
        && want
            .data
            .as_ref()
            .is_none_or(|d| norm_data(&rdata_text(r.data())) == *d)
        && want.ttl.is_none_or(|t| r.ttl() == t)
        && want
            .class
            .as_ref()
            .is_none_or(|c| r.dns_class().to_string().eq_ignore_ascii_case(c))
}

fn describe_want(w: &Want) -> String {
    format!(
        "{}{} {}{}{}",
        w.name,
        w.class
            .as_ref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default(),
        hickory_proto::rr::RecordType::from(w.rtype),
        w.data.as_ref().map(|d| format!(" {d}")).unwrap_or_default(),
        w.ttl.map(|t| format!(" (TTL {t})")).unwrap_or_default()
    )
}

#[then(regex = r"^the (answer|authority|additional) section (contains|is exactly):$")]
async fn section_holds(w: &mut World, step: &Step, which: String, how: String) -> StepResult {
    step!(w, {
        let wanted = wants(w, step)?;
        let resp = response(w).await?;
        let m = decoded(&resp)?;
        let records = section(m, &which);
        let missing: Vec<String> = wanted
            .iter()
            .filter(|want| !records.iter().any(|r| matches(want, r)))
            .map(describe_want)
            .collect();
        if !missing.is_empty() {
            return Err(fail(
                format!("the {which} section lacks {}", missing.join("; ")),
                describe_all(&wanted),
                &resp,
            ));
        }
        if how == "is exactly" {
            let extra: Vec<String> = records
                .iter()
                .filter(|r| !wanted.iter().any(|want| matches(want, r)))
                .map(crate::wire::dns::present)
                .collect();
            if !extra.is_empty() || records.len() != wanted.len() {
                return Err(fail(
                    format!(
                        "the {which} section holds other records too: {}",
                        extra.join("; ")
                    ),
                    describe_all(&wanted),
                    &resp,
                ));
            }
        }
        Ok(())
    })
}

fn describe_all(w: &[Want]) -> String {
    w.iter().map(describe_want).collect::<Vec<_>>().join("; ")
}

#[then(regex = r#"^the authority section holds the SOA of "(.*)"$"#)]
async fn authority_soa(w: &mut World, zone: String) -> StepResult {
    step!(w, {
        let zone = norm_name(&w.expand(&zone)?);
        let resp = response(w).await?;
        let m = decoded(&resp)?;
        let ok = m
            .name_servers()
            .iter()
            .any(|r| u16::from(r.record_type()) == 6 && norm_name(&r.name().to_ascii()) == zone);
        if ok {
            Ok(())
        } else {
            Err(fail(
                "no SOA in the authority section",
                format!("the SOA of {zone} (RFC 2308 §3)"),
                &resp,
            ))
        }
    })
}

/// RFC 1034 §4.3.2 / §3.6.2: an answer holds records of the question's name
/// and type, or a CNAME chain that leads to them.
#[then(
    regex = r"^every answer record is for the question's name and type, or a CNAME chain leading to them$"
)]
async fn answer_relevant(w: &mut World) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let m = decoded(&resp)?;
        let q = m
            .queries()
            .first()
            .ok_or_else(|| fail("no question in the response", "the question", &resp))?;
        let mut current = norm_name(&q.name().to_ascii());
        for r in m.answers() {
            let owner = norm_name(&r.name().to_ascii());
            if owner != current {
                return Err(fail(
                    format!(
                        "the answer record {} is not for {current}",
                        crate::wire::dns::present(r)
                    ),
                    "records of the question's name or its CNAME chain",
                    &resp,
                ));
            }
            if r.record_type() == hickory_proto::rr::RecordType::CNAME
                && q.query_type() != hickory_proto::rr::RecordType::CNAME
            {
                current = norm_name(&rdata_text(r.data()));
            } else if r.record_type() != q.query_type()
                && q.query_type() != hickory_proto::rr::RecordType::ANY
            {
                return Err(fail(
                    format!(
                        "the answer record {} has another type",
                        crate::wire::dns::present(r)
                    ),
                    format!("type {}", q.query_type()),
                    &resp,
                ));
            }
        }
        Ok(())
    })
}

/// RFC 2181 §5.2: the records of one RRset all have the same TTL.
#[then(regex = r"^the records of each RRset have the same TTL$")]
async fn rrset_ttls(w: &mut World) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let m = decoded(&resp)?;
        let mut ttls: BTreeMap<(String, u16, String), u32> = BTreeMap::new();
        for (which, records) in [
            ("answer", m.answers()),
            ("authority", m.name_servers()),
            ("additional", m.additionals()),
        ] {
            for r in records {
                let key = (
                    norm_name(&r.name().to_ascii()),
                    u16::from(r.record_type()),
                    which.to_string(),
                );
                if let Some(t) = ttls.insert(key, r.ttl()) {
                    if t != r.ttl() {
                        return Err(fail(
                            format!(
                                "the RRset of {} has TTLs {t} and {}",
                                crate::wire::dns::present(r),
                                r.ttl()
                            ),
                            "one TTL per RRset",
                            &resp,
                        ));
                    }
                }
            }
        }
        Ok(())
    })
}

/// RFC 2181 §8: a TTL is an unsigned value from 0 to 2^31 - 1.
#[then(regex = r"^every TTL is at most 2147483647$")]
async fn ttl_range(w: &mut World) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let m = decoded(&resp)?;
        let too_long = m
            .all_sections()
            .find(|r| r.ttl() > i32::MAX as u32)
            .map(crate::wire::dns::present);
        match too_long {
            None => Ok(()),
            Some(r) => Err(fail(
                format!("{r} has a TTL above 2^31 - 1"),
                "TTLs of at most 2147483647",
                &resp,
            )),
        }
    })
}

#[then(
    regex = r"^every compression pointer in the response points back to an earlier name, and the sections fill the message exactly$"
)]
async fn pointers_valid(w: &mut World) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        match compression_pointers(&resp.raw) {
            Ok((_, end)) if end == resp.raw.len() => Ok(()),
            Ok((_, end)) => Err(fail(
                format!("the sections the header counts end at octet {end}, but the message has {} octets", resp.raw.len()),
                "QDCOUNT/ANCOUNT/NSCOUNT/ARCOUNT matching the records present",
                &resp,
            )),
            Err(e) => Err(fail(format!("the message is malformed: {e}"), "valid names and pointers (RFC 1035 §4.1.4)", &resp)),
        }
    })
}

#[then(regex = r"^the response uses name compression$")]
async fn uses_compression(w: &mut World) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        match compression_pointers(&resp.raw) {
            Ok((p, _)) if !p.is_empty() => Ok(()),
            Ok(_) => Err(fail(
                "no compression pointer in the response",
                "repeated names written as pointers (RFC 1035 §4.1.4)",
                &resp,
            )),
            Err(e) => Err(fail(
                format!("the message is malformed: {e}"),
                "a well-formed message",
                &resp,
            )),
        }
    })
}

#[then(regex = r"^the response has an OPT record of version 0$")]
async fn has_opt(w: &mut World) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let m = decoded(&resp)?;
        match m.extensions() {
            Some(e) if e.version() == 0 => Ok(()),
            Some(e) => Err(fail(
                format!("OPT version {}", e.version()),
                "OPT version 0",
                &resp,
            )),
            None => Err(fail(
                "no OPT record in the response",
                "an OPT record (RFC 6891 §6.1.1)",
                &resp,
            )),
        }
    })
}

#[then(regex = r"^the response has no OPT record$")]
async fn has_no_opt(w: &mut World) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let m = decoded(&resp)?;
        match m.extensions() {
            None => Ok(()),
            Some(_) => Err(fail(
                "the response has an OPT record",
                "no OPT record (RFC 6891 §7)",
                &resp,
            )),
        }
    })
}

#[then(regex = r"^the server answers with RCODE (?:one of )?(.+) or not at all$")]
async fn answers_or_drops(w: &mut World, codes: String) -> StepResult {
    step!(w, {
        let sent = {
            let st = w.state::<DnsState>();
            if st.pending.is_empty() {
                return Err(Failure::harness("no query waiting for its response"));
            }
            st.pending.remove(0)
        };
        let limit = w.step_timeout.min(Duration::from_secs(2));
        let saved = w.step_timeout;
        w.step_timeout = limit;
        let got = receive_one(w, &sent).await;
        w.step_timeout = saved;
        let resp = match got? {
            Ok(r) => r,
            Err(WireError::Timeout { .. }) => {
                w.transcript
                    .event("dns", "no response: the server dropped the message");
                return Ok(());
            }
            // Over TCP, closing the connection is how a server declines.
            Err(e @ (WireError::Closed { .. } | WireError::Io { .. }))
                if sent.transport == Transport::Tcp =>
            {
                w.transcript.event("dns", format!("no response: {e}"));
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let want: Vec<u16> = codes
            .split(',')
            .filter_map(|c| rcode_from_name(c.trim()))
            .collect();
        match &resp.message {
            Ok(m) if want.contains(&u16::from(m.response_code())) => Ok(()),
            _ => match resp.header {
                // The header may be all that is well-formed in an error reply.
                Some(h) if want.contains(&(h.rcode as u16)) => Ok(()),
                _ => Err(fail(
                    "an unexpected response",
                    format!("RCODE {codes}, or no response"),
                    &resp,
                )),
            },
        }
    })
}

/// Course notes D-05: the addresses rotate across consecutive responses.
#[then(regex = r"^the order of the answer records is not the same in every response$")]
async fn order_rotates(w: &mut World) -> StepResult {
    step!(w, {
        let last = response(w).await?;
        let st = w.state::<DnsState>();
        let orders: Vec<Vec<String>> = st
            .history
            .iter()
            .chain(std::iter::once(&last))
            .filter_map(|r| r.message.as_ref().ok())
            .map(|m| m.answers().iter().map(|a| rdata_text(a.data())).collect())
            .collect();
        if orders.len() >= 2 && orders.iter().any(|o| o != &orders[0]) {
            Ok(())
        } else {
            Err(fail(
                format!(
                    "{} responses, all in the order {:?}",
                    orders.len(),
                    orders.first()
                ),
                "a changing order (DNS rotation)",
                &last,
            ))
        }
    })
}
