//! The DNS hierarchy the harness plays for a recursive resolver under test
//! (RFC 1034 §2.4, §4.3.2, §5.3.3): authoritative servers for the root, a
//! top-level domain and second-level zones, each on its own loopback address
//! (`127.53.0.1` is the root, see [`server_ip`]) and one port for all (53
//! unless the profile says `[resolver] hierarchy_port`).
//!
//! One hierarchy serves a whole run; each scenario registers its own zones
//! under a fresh top-level label (`${tld}` in the feature files, such as
//! `t4k2x9`), so nothing a resolver cached in one scenario answers another,
//! and scenarios may run at once. A query is attributed to the scenario by the
//! last label of its name; queries for other names (the resolver priming its
//! root, `. NS`) are answered from the shared root zone and not recorded.
//!
//! Every query that reaches a server of a scenario is recorded ([`Seen`]:
//! server, transport, source port, ID, flags, name and type, EDNS) for its
//! Then steps, and written to its transcript with what the server answered,
//! so the transcript shows the walk. The servers never trust the resolver:
//! datagrams and TCP messages are bounded, TCP connections and exchanges
//! in flight are capped, every TCP read has a deadline, nothing from the wire
//! is unwrapped.
//!
//! Messages are decoded and encoded with hickory-proto, as everywhere in the
//! harness (`crate::wire::dns` reads the raw header for the transcript).

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NS, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Semaphore;

use super::Tasks;
use crate::transcript::Transcript;
use crate::wire::dns::{rdata_text, RawHeader};

/// The hierarchy's servers: `127.53.0.1` (the root) to `127.53.0.SERVERS`.
pub const SERVERS: u8 = 16;
/// The root server's address, the one root hints name.
pub const ROOT: Ipv4Addr = Ipv4Addr::new(127, 53, 0, 1);
/// The port a resolver queries by default (RFC 1035 §4.2.1).
pub const DEFAULT_PORT: u16 = 53;
/// The name of the root server in the root zone's NS record.
pub const ROOT_NS: &str = "a.root-servers.conform.";
/// Queries kept per scenario; more are counted, not kept.
pub const MAX_SEEN: usize = 2048;
/// Exchanges in flight at once (a flooding resolver waits or is dropped).
const MAX_IN_FLIGHT: usize = 256;
/// TCP connections open at once across the hierarchy.
const MAX_TCP: usize = 64;
/// Messages answered on one TCP connection.
const MAX_TCP_MESSAGES: usize = 64;
/// How long a TCP connection may stay silent (RFC 7766 §6.2.3).
const TCP_IDLE: Duration = Duration::from_secs(10);
/// The largest UDP payload the servers send when the query has EDNS.
const UDP_EDNS: u16 = 1232;
/// Without EDNS, UDP messages are at most 512 octets (RFC 1035 §4.2.1).
const UDP_CLASSIC: usize = 512;

/// Address of the hierarchy's server `n` (1 is the root).
pub fn server_ip(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 53, 0, n)
}

/// How one server of a scenario behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    Normal,
    /// Answers after this delay.
    Slow(Duration),
    /// Never answers (an unreachable server).
    Silent,
    /// Listed in a delegation but not authoritative: answers REFUSED
    /// (RFC 8499 "lame delegation").
    Lame,
    /// Over UDP answers only with TC set and no records, so the whole
    /// answer comes over TCP (RFC 7766 §5).
    TcpOnly,
    /// Over UDP, before its true answer (sent 300 ms later), forged ones
    /// with another address: one from itself with the wrong ID, one with the
    /// right ID from [`SPOOFER`] (RFC 5452 §9.1: neither may be taken).
    Spoofed,
}

/// The address the forged answers of [`Behaviour::Spoofed`] come from.
pub const SPOOFER: Ipv4Addr = Ipv4Addr::new(127, 53, 0, SERVERS);
/// The address the forged answers give.
pub const FORGED: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 66);

/// Forged datagrams to send before an answer: (from, bytes).
type Forged = Vec<(Ipv4Addr, Vec<u8>)>;

/// A zone and the servers that serve it.
#[derive(Clone, Debug)]
pub struct Zone {
    pub origin: Name,
    pub records: Vec<Record>,
    pub servers: Vec<Ipv4Addr>,
}

/// What one scenario's part of the hierarchy holds.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// The scenario's top-level label, lower case.
    pub tld: String,
    /// Its zones; the root zone's records for the TLD (the delegation) are
    /// the zone with origin `.`.
    pub zones: Vec<Zone>,
    pub behaviour: HashMap<Ipv4Addr, Behaviour>,
    /// Records a server adds to the additional section of every answer
    /// (out-of-bailiwick data, the classic poisoning shape).
    pub extra_additional: HashMap<Ipv4Addr, Vec<Record>>,
}

/// One query that reached a server of the hierarchy.
#[derive(Clone, Debug)]
pub struct Seen {
    pub server: Ipv4Addr,
    pub transport: &'static str,
    pub from: SocketAddr,
    pub id: u16,
    /// The name as sent, case included.
    pub name: String,
    pub qtype: u16,
    pub rd: bool,
    pub cd: bool,
    /// The EDNS UDP payload size, if the query had an OPT record.
    pub edns: Option<u16>,
    /// Seconds since the scenario registered.
    pub at: f64,
    /// What the server did: an answer, a referral, TC, nothing.
    pub outcome: String,
}

struct Scenario {
    plan: Plan,
    seen: Mutex<Vec<Seen>>,
    dropped: AtomicUsize,
    transcript: Transcript,
    started: Instant,
}

/// The running hierarchy: its servers and the scenarios registered in it.
pub struct Hierarchy {
    pub port: u16,
    scenarios: Mutex<HashMap<String, Arc<Scenario>>>,
    root: Vec<Record>,
    in_flight: Semaphore,
    tcp_open: Semaphore,
    tasks: Tasks,
    /// Each server's UDP socket, for the forged answers of another address.
    sockets: Mutex<HashMap<Ipv4Addr, Arc<UdpSocket>>>,
}

/// The hierarchies started by this process, one per port; they live as long
/// as the process (a run), so that no scenario waits for a port to be freed.
static RUNNING: Mutex<Vec<Arc<Hierarchy>>> = Mutex::new(Vec::new());

/// The hierarchy serving `port`, started on first use; every scenario of a
/// run shares it.
pub async fn hierarchy(port: u16) -> std::io::Result<Arc<Hierarchy>> {
    static START: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one_at_a_time = START.lock().await;
    if let Ok(list) = RUNNING.lock() {
        if let Some(h) = list.iter().find(|h| h.port == port) {
            return Ok(h.clone());
        }
    }
    let h = Hierarchy::start(port).await?;
    if let Ok(mut list) = RUNNING.lock() {
        list.push(h.clone());
    }
    Ok(h)
}

impl Hierarchy {
    async fn start(port: u16) -> std::io::Result<Arc<Hierarchy>> {
        let root = parse_records(ROOT_ZONE, &Name::root()).map_err(std::io::Error::other)?;
        let h = Arc::new(Hierarchy {
            port,
            scenarios: Mutex::default(),
            root,
            in_flight: Semaphore::new(MAX_IN_FLIGHT),
            tcp_open: Semaphore::new(MAX_TCP),
            tasks: Tasks::default(),
            sockets: Mutex::default(),
        });
        for n in 1..=SERVERS {
            let addr = SocketAddr::from((server_ip(n), port));
            let bind_err = |e: std::io::Error| {
                std::io::Error::new(
                    e.kind(),
                    format!("the DNS hierarchy cannot listen on {addr}: {e}"),
                )
            };
            let udp = UdpSocket::bind(addr).await.map_err(bind_err)?;
            let tcp = TcpListener::bind(addr).await.map_err(bind_err)?;
            let weak = Arc::downgrade(&h);
            let udp = Arc::new(udp);
            if let Ok(mut m) = h.sockets.lock() {
                m.insert(server_ip(n), udp.clone());
            }
            h.tasks.add(tokio::spawn(serve_udp(weak.clone(), udp)));
            h.tasks.add(tokio::spawn(serve_tcp(weak, tcp)));
        }
        Ok(h)
    }

    /// Registers a scenario's plan; its queries are recorded in the guard.
    pub fn enter(self: &Arc<Self>, plan: Plan, transcript: &Transcript) -> Registration {
        let tld = plan.tld.to_ascii_lowercase();
        transcript.event(
            "hierarchy",
            format!(
                "root {ROOT}:{} serves the zone of \"{tld}.\"; servers 127.53.0.1–{}",
                self.port,
                server_ip(SERVERS)
            ),
        );
        let scenario = Arc::new(Scenario {
            plan,
            seen: Mutex::default(),
            dropped: AtomicUsize::new(0),
            transcript: transcript.clone(),
            started: Instant::now(),
        });
        if let Ok(mut m) = self.scenarios.lock() {
            m.insert(tld.clone(), scenario.clone());
        }
        Registration {
            hierarchy: self.clone(),
            tld,
            scenario,
        }
    }

    /// The response to one message received by `server`, and how long to
    /// wait before sending it; `None` when it gets none.
    fn respond(
        &self,
        server: Ipv4Addr,
        transport: &'static str,
        from: SocketAddr,
        bytes: &[u8],
    ) -> Option<(Vec<u8>, Duration, Forged)> {
        let query = Message::from_vec(bytes).ok()?;
        if query.message_type() != MessageType::Query {
            return None;
        }
        let Some(q) = query.queries().first().cloned() else {
            return Some((error(&query, ResponseCode::FormErr), Duration::ZERO, vec![]));
        };
        let name = q.name().clone();
        let tld = name
            .iter()
            .last()
            .map(|l| String::from_utf8_lossy(l).to_ascii_lowercase());
        let scenario = tld.and_then(|t| self.scenarios.lock().ok()?.get(&t).cloned());
        let Some(sc) = scenario else {
            // Not a scenario's name: the shared root zone answers (priming).
            if server != ROOT {
                return Some((error(&query, ResponseCode::Refused), Duration::ZERO, vec![]));
            }
            let zone = Zone {
                origin: Name::root(),
                records: self.root.clone(),
                servers: vec![ROOT],
            };
            return Some((
                answer(&query, &[&zone], &[], transport),
                Duration::ZERO,
                vec![],
            ));
        };
        let header = RawHeader::read(bytes);
        let mut seen = Seen {
            server,
            transport,
            from,
            id: query.id(),
            name: name.to_ascii(),
            qtype: u16::from(q.query_type()),
            rd: query.recursion_desired(),
            cd: query.checking_disabled(),
            edns: query.extensions().as_ref().map(|e| e.max_payload()),
            at: sc.started.elapsed().as_secs_f64(),
            outcome: String::new(),
        };
        let behaviour = sc
            .plan
            .behaviour
            .get(&server)
            .copied()
            .unwrap_or(Behaviour::Normal);
        let (reply, delay) = match behaviour {
            Behaviour::Silent => (None, Duration::ZERO),
            Behaviour::Lame => (Some(error(&query, ResponseCode::Refused)), Duration::ZERO),
            Behaviour::TcpOnly if transport == "udp" => {
                let mut m = reply_to(&query);
                m.set_truncated(true);
                (m.to_vec().ok(), Duration::ZERO)
            }
            Behaviour::Slow(d) => (Some(self.lookup(&sc, server, &query, transport)), d),
            Behaviour::Spoofed if transport == "udp" => (
                Some(self.lookup(&sc, server, &query, transport)),
                Duration::from_millis(300),
            ),
            _ => (
                Some(self.lookup(&sc, server, &query, transport)),
                Duration::ZERO,
            ),
        };
        seen.outcome = match &reply {
            None => "no answer".into(),
            Some(r) => outcome(r),
        };
        sc.transcript.event(
            &format!("hierarchy {server}"),
            format!(
                "{transport} from port {} id {} [{}] {} {}{} → {}{}",
                from.port(),
                seen.id,
                header.map(|h| h.flags()).unwrap_or_default(),
                seen.name,
                RecordType::from(seen.qtype),
                seen.edns.map(|p| format!(" edns {p}")).unwrap_or_default(),
                seen.outcome,
                if delay.is_zero() {
                    String::new()
                } else {
                    format!(" after {} ms", delay.as_millis())
                }
            ),
        );
        if let Ok(mut s) = sc.seen.lock() {
            if s.len() < MAX_SEEN {
                s.push(seen);
            } else {
                sc.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        let forged = match (&reply, behaviour) {
            (Some(r), Behaviour::Spoofed) if transport == "udp" => {
                let f = forge(r);
                sc.transcript.event(
                    &format!("hierarchy {server}"),
                    format!(
                        "forged answers first ({FORGED}): with the ID {} from {server}, with the ID {} from {SPOOFER}",
                        seen_id(&f.0),
                        seen_id(&f.1)
                    ),
                );
                vec![(server, f.0), (SPOOFER, f.1)]
            }
            _ => vec![],
        };
        reply.map(|r| (r, delay, forged))
    }

    fn lookup(&self, sc: &Scenario, server: Ipv4Addr, query: &Message, transport: &str) -> Vec<u8> {
        let mut root = None;
        if server == ROOT {
            let mut records = self.root.clone();
            for z in sc.plan.zones.iter().filter(|z| z.origin.is_root()) {
                records.extend(z.records.iter().cloned());
            }
            root = Some(Zone {
                origin: Name::root(),
                records,
                servers: vec![ROOT],
            });
        }
        let zones: Vec<&Zone> = sc
            .plan
            .zones
            .iter()
            .filter(|z| !z.origin.is_root() && z.servers.contains(&server))
            .chain(root.as_ref())
            .collect();
        let extra = sc
            .plan
            .extra_additional
            .get(&server)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        answer(query, &zones, extra, transport)
    }
}

/// A scenario's place in the hierarchy; dropping it removes the scenario's
/// zones (its later queries are refused).
pub struct Registration {
    hierarchy: Arc<Hierarchy>,
    tld: String,
    scenario: Arc<Scenario>,
}

impl Registration {
    pub fn tld(&self) -> &str {
        &self.tld
    }

    pub fn port(&self) -> u16 {
        self.hierarchy.port
    }

    /// The queries recorded so far, and how many more were not kept.
    pub fn seen(&self) -> (Vec<Seen>, usize) {
        (
            self.scenario
                .seen
                .lock()
                .map(|s| s.clone())
                .unwrap_or_default(),
            self.scenario.dropped.load(Ordering::Relaxed),
        )
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut m) = self.hierarchy.scenarios.lock() {
            m.remove(&self.tld);
        }
    }
}

/// The response header for `query`: its ID, opcode, RD and question.
fn reply_to(query: &Message) -> Message {
    let mut m = Message::new();
    m.set_id(query.id())
        .set_message_type(MessageType::Response)
        .set_op_code(query.op_code())
        .set_recursion_desired(query.recursion_desired())
        .set_checking_disabled(query.checking_disabled());
    m.add_queries(query.queries().iter().cloned());
    if query.extensions().is_some() {
        let mut e = Edns::new();
        e.set_max_payload(UDP_EDNS);
        m.set_edns(e);
    }
    m
}

fn error(query: &Message, code: ResponseCode) -> Vec<u8> {
    let mut m = reply_to(query);
    m.set_response_code(code);
    m.to_vec().unwrap_or_default()
}

/// One line on what a response says, for the transcript and the records.
fn outcome(bytes: &[u8]) -> String {
    let Ok(m) = Message::from_vec(bytes) else {
        return format!("{} octets", bytes.len());
    };
    let mut s = format!("{}", m.response_code());
    if m.truncated() {
        s.push_str(" TC");
    }
    if m.authoritative() {
        s.push_str(" AA");
    }
    let show = |rs: &[Record]| {
        rs.iter()
            .map(|r| format!("{} {} {}", r.name(), r.record_type(), rdata_text(r.data())))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !m.answers().is_empty() {
        s.push_str(&format!(" answer {}", show(m.answers())));
    } else if m
        .name_servers()
        .iter()
        .any(|r| r.record_type() == RecordType::NS)
    {
        s.push_str(&format!(" referral {}", show(m.name_servers())));
        if !m.additionals().is_empty() {
            s.push_str(&format!(" glue {}", show(m.additionals())));
        }
    }
    s
}

/// The authoritative answer of `zones` (the ones this server serves) to
/// `query`, following RFC 1034 §4.3.2: the closest enclosing zone; a
/// referral at a delegation below its apex (NS in authority, glue in
/// additional, AA clear); the data (AA set), following CNAMEs inside the
/// zone; or NXDOMAIN / no data with the zone's SOA, sent as written in the
/// zone (so that the resolver applies RFC 2308's min itself). A name in no
/// zone of this server is REFUSED.
fn answer(query: &Message, zones: &[&Zone], extra: &[Record], transport: &str) -> Vec<u8> {
    let mut m = reply_to(query);
    let Some(q) = query.queries().first() else {
        return error(query, ResponseCode::FormErr);
    };
    if query.op_code() != OpCode::Query {
        return error(query, ResponseCode::NotImp);
    }
    let mut qname = q.name().clone();
    qname.set_fqdn(true);
    let qtype = q.query_type();
    let Some(zone) = zones
        .iter()
        .filter(|z| z.origin.zone_of(&qname))
        .max_by_key(|z| z.origin.num_labels())
    else {
        return error(query, ResponseCode::Refused);
    };
    let glue = |m: &mut Message, targets: Vec<Name>| {
        for t in targets {
            for r in
                at(zone, &t).filter(|r| matches!(r.record_type(), RecordType::A | RecordType::AAAA))
            {
                m.add_additional(r.clone());
            }
        }
    };
    // A delegation on the way from the apex down to the name.
    for depth in zone.origin.num_labels() + 1..=qname.num_labels() {
        let cut = qname.trim_to(depth as usize);
        let ns: Vec<Record> = at(zone, &cut)
            .filter(|r| r.record_type() == RecordType::NS)
            .cloned()
            .collect();
        if !ns.is_empty() {
            let targets = ns_targets(&ns);
            m.add_name_servers(ns);
            glue(&mut m, targets);
            m.add_additionals(extra.iter().cloned());
            return finish(m, query, transport);
        }
    }
    m.set_authoritative(true);
    let mut name = qname.clone();
    for _ in 0..8 {
        let here: Vec<&Record> = at(zone, &name).collect();
        let wanted: Vec<Record> = here
            .iter()
            .filter(|r| r.record_type() == qtype || qtype == RecordType::ANY)
            .map(|r| (*r).clone())
            .collect();
        if !wanted.is_empty() {
            if qtype == RecordType::NS {
                glue(&mut m, ns_targets(&wanted));
            }
            m.add_answers(wanted);
            break;
        }
        if let Some(c) = here.iter().find(|r| r.record_type() == RecordType::CNAME) {
            m.add_answer((*c).clone());
            if let RData::CNAME(target) = c.data() {
                let t = target.0.clone();
                if zone.origin.zone_of(&t) {
                    name = t;
                    continue;
                }
            }
            break;
        }
        // Nothing of the type: no data if the name exists (with records or
        // below it: an empty non-terminal), else NXDOMAIN (RFC 1034 §4.3.2).
        let exists = zone.records.iter().any(|r| name.zone_of(r.name()));
        if !exists {
            m.set_response_code(ResponseCode::NXDomain);
        }
        let soa = zone
            .records
            .iter()
            .filter(|r| r.name() == &zone.origin && r.record_type() == RecordType::SOA);
        m.add_name_servers(soa.cloned());
        break;
    }
    m.add_additionals(extra.iter().cloned());
    finish(m, query, transport)
}

/// The records of `zone` owned by `n`.
fn at<'a>(zone: &'a Zone, n: &'a Name) -> impl Iterator<Item = &'a Record> + 'a {
    zone.records.iter().filter(move |r| r.name() == n)
}

/// Two forgeries of an answer, its addresses replaced by [`FORGED`]: one
/// with the ID changed, one with the ID kept.
fn forge(reply: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let Ok(mut m) = Message::from_vec(reply) else {
        return (vec![], vec![]);
    };
    for r in m.answers_mut() {
        if r.record_type() == RecordType::A {
            r.set_data(RData::A(A(FORGED)));
        }
    }
    let right = m.to_vec().unwrap_or_default();
    let id = m.id();
    m.set_id(id ^ 0x5a5a);
    (m.to_vec().unwrap_or_default(), right)
}

fn seen_id(b: &[u8]) -> u16 {
    RawHeader::read(b).map(|h| h.id).unwrap_or(0)
}

fn ns_targets(ns: &[Record]) -> Vec<Name> {
    ns.iter()
        .filter_map(|r| match r.data() {
            RData::NS(n) => Some(n.0.clone()),
            _ => None,
        })
        .collect()
}

/// Encodes the response; over UDP one larger than the query allows (512
/// octets, or its EDNS size up to 1232) goes out with TC set and the
/// records left out (RFC 1035 §4.2.1, RFC 6891 §7).
fn finish(m: Message, query: &Message, transport: &str) -> Vec<u8> {
    let bytes = m.to_vec().unwrap_or_default();
    let limit = match query.extensions() {
        Some(e) => (e.max_payload() as usize).clamp(UDP_CLASSIC, UDP_EDNS as usize),
        None => UDP_CLASSIC,
    };
    if transport == "udp" && bytes.len() > limit {
        let mut t = reply_to(query);
        t.set_truncated(true)
            .set_authoritative(m.authoritative())
            .set_response_code(m.response_code());
        return t.to_vec().unwrap_or_default();
    }
    bytes
}

async fn serve_udp(h: std::sync::Weak<Hierarchy>, socket: Arc<UdpSocket>) {
    let Ok(SocketAddr::V4(local)) = socket.local_addr() else {
        return;
    };
    let mut buf = vec![0u8; 65_535];
    loop {
        let Ok((n, from)) = socket.recv_from(&mut buf).await else {
            // An ICMP error for an earlier reply: keep serving.
            continue;
        };
        let Some(hier) = h.upgrade() else { return };
        // A resolver that floods past the bound loses the extra datagrams.
        let Ok(permit) = hier.in_flight.try_acquire() else {
            continue;
        };
        permit.forget();
        let Some((reply, delay, forged)) = hier.respond(*local.ip(), "udp", from, &buf[..n]) else {
            hier.in_flight.add_permits(1);
            continue;
        };
        for (at, bytes) in forged {
            let sock = hier.sockets.lock().ok().and_then(|m| m.get(&at).cloned());
            if let Some(sock) = sock {
                let _ = sock.send_to(&bytes, from).await;
            }
        }
        let socket = socket.clone();
        let weak = h.clone();
        // Each answer on its own, so a slow one does not hold up the next.
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = socket.send_to(&reply, from).await;
            if let Some(h) = weak.upgrade() {
                h.in_flight.add_permits(1);
            }
        });
    }
}

async fn serve_tcp(h: std::sync::Weak<Hierarchy>, listener: TcpListener) {
    let Ok(SocketAddr::V4(local)) = listener.local_addr() else {
        return;
    };
    loop {
        let Ok((stream, from)) = listener.accept().await else {
            continue;
        };
        let Some(hier) = h.upgrade() else { return };
        let Ok(permit) = hier.tcp_open.try_acquire() else {
            drop(stream);
            continue;
        };
        permit.forget();
        let weak = h.clone();
        tokio::spawn(async move {
            serve_conn(weak.clone(), *local.ip(), stream, from).await;
            if let Some(h) = weak.upgrade() {
                h.tcp_open.add_permits(1);
            }
        });
    }
}

/// Messages on one TCP connection, each with its two-octet length (RFC 1035
/// §4.2.2), answered in order; a deadline on every read.
async fn serve_conn(
    h: std::sync::Weak<Hierarchy>,
    server: Ipv4Addr,
    mut stream: TcpStream,
    from: SocketAddr,
) {
    for _ in 0..MAX_TCP_MESSAGES {
        let mut len = [0u8; 2];
        let read = tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut len)).await;
        if !matches!(read, Ok(Ok(_))) {
            return;
        }
        let mut msg = vec![0u8; u16::from_be_bytes(len) as usize];
        let read = tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut msg)).await;
        if !matches!(read, Ok(Ok(_))) {
            return;
        }
        let Some(hier) = h.upgrade() else { return };
        let Some((reply, delay, _)) = hier.respond(server, "tcp", from, &msg) else {
            continue;
        };
        drop(hier);
        tokio::time::sleep(delay).await;
        let mut framed = (reply.len().min(65_535) as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&reply);
        if tokio::time::timeout(TCP_IDLE, stream.write_all(&framed))
            .await
            .map_or(true, |r| r.is_err())
        {
            return;
        }
    }
}

/// The shared root zone: its SOA, its NS and the NS's address.
const ROOT_ZONE: &str = "\
. 86400 SOA a.root-servers.conform. hostmaster.conform. 1 1800 900 604800 86400
. 518400 NS a.root-servers.conform.
a.root-servers.conform. 518400 A 127.53.0.1
";

/// Parses records in a small master-file form (RFC 1035 §5.1): one per
/// line, `owner [TTL] [IN] TYPE RDATA`, `@` for the origin, names relative
/// to `origin` unless they end with a dot; `;` starts a comment. Types: A,
/// AAAA, NS, CNAME, MX, TXT (quoted strings; `x*N` for N octets of `x`),
/// SOA. The TTL defaults to 300.
pub fn parse_records(text: &str, origin: &Name) -> Result<Vec<Record>, String> {
    let mut out = Vec::new();
    for (no, line) in text.lines().enumerate() {
        let line = line.split(';').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let err = |m: String| format!("line {}: {m}: {line}", no + 1);
        let mut words = line.split_whitespace().peekable();
        let owner = name_in(words.next().unwrap_or("@"), origin).map_err(err)?;
        let mut ttl = 300;
        if let Some(t) = words.peek().and_then(|w| w.parse::<u32>().ok()) {
            ttl = t;
            words.next();
        }
        if words.peek().is_some_and(|w| w.eq_ignore_ascii_case("IN")) {
            words.next();
        }
        let rtype = words
            .next()
            .ok_or_else(|| err("no type".into()))?
            .to_ascii_uppercase();
        let rest: Vec<&str> = words.collect();
        let one = |i: usize| {
            rest.get(i)
                .copied()
                .ok_or_else(|| err("too few fields".into()))
        };
        let data = match rtype.as_str() {
            "A" => RData::A(A(one(0)?.parse().map_err(|e| err(format!("{e}")))?)),
            "AAAA" => RData::AAAA(AAAA(one(0)?.parse().map_err(|e| err(format!("{e}")))?)),
            "NS" => RData::NS(NS(name_in(one(0)?, origin).map_err(err)?)),
            "CNAME" => RData::CNAME(CNAME(name_in(one(0)?, origin).map_err(err)?)),
            "MX" => RData::MX(MX::new(
                one(0)?.parse().map_err(|_| err("bad preference".into()))?,
                name_in(one(1)?, origin).map_err(err)?,
            )),
            "TXT" => {
                let strings = rest
                    .iter()
                    .map(|s| {
                        let s = s.trim_matches('"');
                        match s
                            .split_once('*')
                            .and_then(|(c, n)| Some((c, n.parse().ok()?)))
                        {
                            Some((c, n)) => c.repeat(n),
                            None => s.to_string(),
                        }
                    })
                    .collect();
                RData::TXT(TXT::new(strings))
            }
            "SOA" => {
                let n = |i: usize| -> Result<u32, String> {
                    one(i)?.parse().map_err(|_| err("bad SOA number".into()))
                };
                RData::SOA(SOA::new(
                    name_in(one(0)?, origin).map_err(err)?,
                    name_in(one(1)?, origin).map_err(err)?,
                    n(2)?,
                    n(3)? as i32,
                    n(4)? as i32,
                    n(5)? as i32,
                    n(6)?,
                ))
            }
            other => return Err(err(format!("the type {other} is not supported here"))),
        };
        out.push(Record::from_rdata(owner, ttl, data));
    }
    Ok(out)
}

fn name_in(text: &str, origin: &Name) -> Result<Name, String> {
    if text == "@" {
        return Ok(origin.clone());
    }
    let n = Name::from_ascii(text).map_err(|e| format!("\"{text}\": {e}"))?;
    if text.ends_with('.') {
        return Ok(n);
    }
    n.append_domain(origin)
        .map_err(|e| format!("\"{text}\": {e}"))
}

/// The fixture hierarchy of one scenario under the top-level label `tld`:
/// which zone each server serves and how each behaves. `{tld}` in the zone
/// texts is the label.
pub const FIXTURE: &[(&str, &[u8], &str)] = &[
    // The root's delegation of the scenario's TLD, with glue.
    (
        ".",
        &[1],
        "{tld}. 172800 NS ns.nic.{tld}.\nns.nic.{tld}. 172800 A 127.53.0.2\n",
    ),
    (
        "{tld}.",
        &[2],
        "@ 3600 SOA ns.nic hostmaster.nic 1 1800 900 604800 300
@ 3600 NS ns.nic
ns.nic 3600 A 127.53.0.2
; A delegation with glue.
glue 3600 NS ns1.glue
ns1.glue 3600 A 127.53.0.3
other 3600 NS ns.other
ns.other 3600 A 127.53.0.3
neg 3600 NS ns.neg
ns.neg 3600 A 127.53.0.3
neg2 3600 NS ns.neg
; A glueless delegation: the server's name is in another zone (glue.).
glueless 3600 NS ns.glue
; A slow server; a silent one beside a working one; a lame one beside a
; working one; one that answers only over TCP; two that never answer; one
; that adds out-of-bailiwick data.
slow 3600 NS ns.slow
ns.slow 3600 A 127.53.0.5
backup 3600 NS ns1.backup
backup 3600 NS ns2.backup
ns1.backup 3600 A 127.53.0.6
ns2.backup 3600 A 127.53.0.7
lame 3600 NS ns1.lame
lame 3600 NS ns2.lame
ns1.lame 3600 A 127.53.0.8
ns2.lame 3600 A 127.53.0.7
tcp 3600 NS ns.tcp
ns.tcp 3600 A 127.53.0.9
dead 3600 NS ns1.dead
dead 3600 NS ns2.dead
ns1.dead 3600 A 127.53.0.10
ns2.dead 3600 A 127.53.0.11
poison 3600 NS ns.poison
ns.poison 3600 A 127.53.0.12
; A server whose answers are raced by forged ones.
spoof 3600 NS ns.spoof
ns.spoof 3600 A 127.53.0.13
",
    ),
    (
        "glue.{tld}.",
        &[3],
        "@ 3600 SOA ns1 hostmaster 1 1800 900 604800 300
@ 3600 NS ns1
ns1 3600 A 127.53.0.3
ns 3600 A 127.53.0.4
www 300 A 192.0.2.1
www 300 AAAA 2001:db8::1
short 2 A 192.0.2.2
victim 300 A 192.0.2.10
cached 300 A 192.0.2.11
alias 300 CNAME www.other.{tld}.
chain 300 CNAME alias
big 300 TXT a*250 b*250 c*250 d*250 e*250 f*250
",
    ),
    (
        "other.{tld}.",
        &[3],
        "@ 3600 SOA ns hostmaster 1 1800 900 604800 300
@ 3600 NS ns
ns 3600 A 127.53.0.3
www 300 A 192.0.2.20
",
    ),
    // Negative answers: SOA TTL 300 with MINIMUM 2, and TTL 2 with
    // MINIMUM 300: either way min(TTL, MINIMUM) is 2 (RFC 2308 §5).
    (
        "neg.{tld}.",
        &[3],
        "@ 300 SOA ns hostmaster 1 1800 900 604800 2
@ 3600 NS ns
ns 3600 A 127.53.0.3
www 300 A 192.0.2.40
",
    ),
    (
        "neg2.{tld}.",
        &[3],
        "@ 2 SOA ns.neg.{tld}. hostmaster 1 1800 900 604800 300
@ 3600 NS ns.neg.{tld}.
www 300 A 192.0.2.41
",
    ),
    (
        "glueless.{tld}.",
        &[4],
        "@ 3600 SOA ns.glue.{tld}. hostmaster 1 1800 900 604800 300
@ 3600 NS ns.glue.{tld}.
www 300 A 192.0.2.30
",
    ),
    (
        "slow.{tld}.",
        &[5],
        "@ 3600 SOA ns hostmaster 1 1800 900 604800 300
@ 3600 NS ns
ns 3600 A 127.53.0.5
www 300 A 192.0.2.50
",
    ),
    (
        "backup.{tld}.",
        &[6, 7],
        "@ 3600 SOA ns1 hostmaster 1 1800 900 604800 300
@ 3600 NS ns1
@ 3600 NS ns2
ns1 3600 A 127.53.0.6
ns2 3600 A 127.53.0.7
www 300 A 192.0.2.60
",
    ),
    (
        "lame.{tld}.",
        &[7],
        "@ 3600 SOA ns2 hostmaster 1 1800 900 604800 300
@ 3600 NS ns1
@ 3600 NS ns2
ns1 3600 A 127.53.0.8
ns2 3600 A 127.53.0.7
www 300 A 192.0.2.70
",
    ),
    (
        "tcp.{tld}.",
        &[9],
        "@ 3600 SOA ns hostmaster 1 1800 900 604800 300
@ 3600 NS ns
ns 3600 A 127.53.0.9
www 300 A 192.0.2.90
",
    ),
    (
        "dead.{tld}.",
        &[10, 11],
        "@ 3600 SOA ns1 hostmaster 1 1800 900 604800 300
@ 3600 NS ns1
@ 3600 NS ns2
www 300 A 192.0.2.100
",
    ),
    (
        "spoof.{tld}.",
        &[13],
        "@ 3600 SOA ns hostmaster 1 1800 900 604800 300
@ 3600 NS ns
ns 3600 A 127.53.0.13
www 300 A 192.0.2.130
",
    ),
    (
        "poison.{tld}.",
        &[12],
        "@ 3600 SOA ns hostmaster 1 1800 900 604800 300
@ 3600 NS ns
ns 3600 A 127.53.0.12
www 300 A 192.0.2.120
",
    ),
];

/// Records the poisoning server adds to its answers: an address for a name
/// of `glue.`, a zone it has no authority over (RFC 2181 §5.4.1).
pub const POISON: &str = "victim.glue.{tld}. 86400 A 192.0.2.66\n";

/// How the fixture's servers behave (the others are normal).
pub fn fixture_behaviour() -> HashMap<Ipv4Addr, Behaviour> {
    HashMap::from([
        (server_ip(5), Behaviour::Slow(Duration::from_millis(800))),
        (server_ip(6), Behaviour::Silent),
        (server_ip(8), Behaviour::Lame),
        (server_ip(9), Behaviour::TcpOnly),
        (server_ip(10), Behaviour::Silent),
        (server_ip(11), Behaviour::Silent),
        (server_ip(13), Behaviour::Spoofed),
    ])
}

/// The fixture hierarchy under `tld`.
pub fn fixture(tld: &str) -> Result<Plan, String> {
    let sub = |s: &str| s.replace("{tld}", tld);
    let mut zones = Vec::new();
    for (origin, servers, text) in FIXTURE {
        let origin = Name::from_ascii(sub(origin)).map_err(|e| e.to_string())?;
        zones.push(Zone {
            records: parse_records(&sub(text), &origin)?,
            origin,
            servers: servers.iter().map(|n| server_ip(*n)).collect(),
        });
    }
    Ok(Plan {
        tld: tld.to_ascii_lowercase(),
        zones,
        behaviour: fixture_behaviour(),
        extra_additional: HashMap::from([(
            server_ip(12),
            parse_records(&sub(POISON), &Name::root())?,
        )]),
    })
}

/// A port free on every address of the hierarchy (for a run whose resolver
/// can query another port than 53): the root's ephemeral UDP port, checked on
/// the others.
pub async fn free_port() -> std::io::Result<u16> {
    let mut last = None;
    for _ in 0..20 {
        let probe = UdpSocket::bind(SocketAddr::from((ROOT, 0))).await?;
        let port = probe.local_addr()?.port();
        let mut held = vec![probe];
        let mut ok = true;
        for n in 2..=SERVERS {
            match UdpSocket::bind(SocketAddr::from((server_ip(n), port))).await {
                Ok(s) => held.push(s),
                Err(e) => {
                    last = Some(e);
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            return Ok(port);
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no port free on 127.53.0.x")))
}

/// A fresh top-level label: a letter and seven of [a-z0-9], different in
/// every scenario of a run and across runs.
pub fn fresh_tld() -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_usize(COUNT.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    let mut v = h.finish();
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut s = String::from("t");
    for _ in 0..7 {
        s.push(alphabet[(v % 36) as usize] as char);
        v /= 36;
    }
    s
}

/// Root hints (the form of IANA's named.root) naming the harness's root.
pub fn root_hints() -> String {
    format!(
        "; Root hints for the DNS hierarchy played by conform: its root server.\n\
         .                        3600000  NS  {ROOT_NS}\n\
         {ROOT_NS:<24} 3600000  A   {ROOT}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;

    fn ask(zones: &[&Zone], name: &str, t: RecordType) -> Message {
        let mut q = Message::new();
        q.set_id(7);
        q.add_query(Query::query(Name::from_ascii(name).unwrap(), t));
        Message::from_vec(&answer(&q, zones, &[], "udp")).unwrap()
    }

    #[test]
    fn fixture_refers_answers_and_denies() {
        let plan = fixture("tx").unwrap();
        let on = |n: u8| -> Vec<&Zone> {
            plan.zones
                .iter()
                .filter(|z| z.servers.contains(&server_ip(n)))
                .collect()
        };
        let r = ask(&on(2), "www.glue.tx.", RecordType::A);
        assert!(!r.authoritative());
        assert_eq!(r.name_servers()[0].record_type(), RecordType::NS);
        assert_eq!(r.additionals().len(), 1, "glue");
        let r = ask(&on(2), "www.glueless.tx.", RecordType::A);
        assert!(r.additionals().is_empty(), "glueless");
        let r = ask(&on(3), "www.glue.tx.", RecordType::A);
        assert!(r.authoritative());
        assert_eq!(rdata_text(r.answers()[0].data()), "192.0.2.1");
        let r = ask(&on(3), "chain.glue.tx.", RecordType::A);
        assert_eq!(r.answers().len(), 2, "CNAME chased inside the zone only");
        let r = ask(&on(3), "nx.glue.tx.", RecordType::A);
        assert_eq!(r.response_code(), ResponseCode::NXDomain);
        assert_eq!(r.name_servers()[0].record_type(), RecordType::SOA);
        let r = ask(&on(3), "www.glue.tx.", RecordType::MX);
        assert_eq!(r.response_code(), ResponseCode::NoError);
        assert!(r.answers().is_empty());
        let r = ask(&on(3), "www.slow.tx.", RecordType::A);
        assert_eq!(r.response_code(), ResponseCode::Refused);
        // Too large for 512 octets: TC and no records.
        let r = ask(&on(3), "big.glue.tx.", RecordType::TXT);
        assert!(r.truncated() && r.answers().is_empty());
        assert!(fresh_tld() != fresh_tld());
        assert!(parse_records("x 1 BOGUS y", &Name::root()).is_err());
    }
}
