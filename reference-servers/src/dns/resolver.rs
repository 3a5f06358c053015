//! A small recursive resolver with a cache, a companion to RFC 1034 §5.3.3
//! ("Algorithm" of the resolver), with the later rules that refine it:
//! RFC 2181 §5.4.1 (which data to trust), RFC 2308 (negative caching),
//! RFC 5452 (unpredictable IDs and ports), RFC 6891 (EDNS) and RFC 7766 (TCP).
//!
//! It answers clients on UDP and TCP, recursing for queries with RD set, and
//! walks the hierarchy from its root hints. It is bounded everywhere: the
//! cache holds at most [`MAX_CACHE`] RRsets, one client query costs at most
//! [`MAX_WORK`] upstream queries and [`DEADLINE`] of time, every upstream
//! wait has a timeout, and only loopback clients get recursion unless the
//! configuration opens it.
//!
//! [`Faults`] breaks one rule each, for the tests that prove the resolver
//! suite can fail.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Semaphore;

use super::codec::{parse_query, parse_response, rcode, Header, Malformed, Opt, Question};
use super::codec::{Response, Section, Writer};
use super::name::{Key, Name};
use super::record::{RData, Record, TYPE_A, TYPE_CNAME, TYPE_NS, TYPE_SOA};
use super::server::{TCP_IDLE, TCP_MAX, UDP_CLASSIC, UDP_MAX};
use crate::listener::{accept_loop, WhenFull};
use crate::Running;

/// RRsets (positive and negative) the cache holds; a full cache drops the
/// entry closest to expiry first.
pub const MAX_CACHE: usize = 10_000;
/// Upstream queries one client query may cost (RFC 1034 §5.3.3 asks for a
/// bound on the work per request, "to prevent runaway" loops).
pub const MAX_WORK: usize = 48;
/// How long one client query may take before SERVFAIL.
pub const DEADLINE: Duration = Duration::from_secs(4);
/// How long to wait for one upstream server.
pub const UPSTREAM_TIMEOUT: Duration = Duration::from_millis(1500);
/// CNAMEs followed for one query.
const MAX_CNAMES: usize = 8;
/// Levels of glueless lookups (a server name that needs its own walk).
const MAX_DEPTH: usize = 3;
/// Client exchanges in flight at once.
const MAX_IN_FLIGHT: usize = 128;

/// One broken rule each; all false is the correct resolver.
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    /// Never caches: every query walks the hierarchy.
    pub no_cache: bool,
    /// Keeps cached data past its TTL, and does not count the TTL down.
    pub cache_past_ttl: bool,
    /// Sends every upstream query from one source port.
    pub fixed_port: bool,
    /// Uses the same ID for every upstream query.
    pub fixed_id: bool,
    /// Takes a truncated (TC) upstream answer as it is, without TCP.
    pub ignore_tc: bool,
    /// Sets AA in its answers.
    pub set_aa: bool,
    /// Caches every address of an upstream answer, out of bailiwick too.
    pub accept_out_of_bailiwick: bool,
    /// Takes the first datagram that arrives as the answer, whatever its
    /// source address and ID.
    pub accept_any_answer: bool,
    /// Sends the name as the client gave it, without randomising its case.
    pub fixed_case: bool,
}

#[derive(Clone, Debug)]
pub struct Config {
    /// The root servers (the root hints).
    pub roots: Vec<SocketAddr>,
    /// Recursion for clients outside loopback too.
    pub open: bool,
    pub faults: Faults,
}

/// Starts the resolver on `ip`:`port` (UDP and TCP on the same port; 0 for
/// an ephemeral one).
pub async fn start(ip: IpAddr, port: u16, config: Config) -> std::io::Result<Running> {
    let r = Arc::new(Resolver {
        config,
        cache: Mutex::default(),
        fixed_socket: tokio::sync::Mutex::new(None),
        in_flight: Semaphore::new(MAX_IN_FLIGHT),
    });
    let mut last_err = None;
    for _ in 0..20 {
        let listener = crate::listener::bind(SocketAddr::new(ip, port))?;
        let addr = listener.local_addr()?;
        match UdpSocket::bind(addr).await {
            Ok(socket) => {
                let mut running = Running::new();
                running.add("address", addr, tokio::spawn(serve_udp(r.clone(), socket)));
                running.add("tcp", addr, tokio::spawn(serve_tcp(r, listener)));
                return Ok(running);
            }
            Err(e) if port == 0 => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| std::io::Error::other("no free port for UDP and TCP")))
}

struct Resolver {
    config: Config,
    cache: Mutex<Cache>,
    /// The one socket of [`Faults::fixed_port`].
    fixed_socket: tokio::sync::Mutex<Option<UdpSocket>>,
    in_flight: Semaphore,
}

/// A cached RRset or negative answer, with when it expires.
#[derive(Clone)]
enum Entry {
    Records(Vec<Record>),
    /// NXDOMAIN (`rcode` 3) or no data (0), with the zone's SOA (RFC 2308 §5).
    Negative(u8, Record),
}

#[derive(Default)]
struct Cache {
    entries: HashMap<(Key, u16), (Entry, Instant, Instant)>,
}

impl Cache {
    /// An entry still alive, with its records' TTLs counted down to what is
    /// left (RFC 1035 §7.4: the TTL of cached data decreases, and the data
    /// is discarded when it reaches zero).
    fn get(&mut self, name: &Name, rtype: u16, past_ttl: bool) -> Option<Entry> {
        let key = (name.key(), rtype);
        let (entry, stored, expires) = self.entries.get(&key)?.clone();
        let now = Instant::now();
        if now >= expires && !past_ttl {
            self.entries.remove(&key);
            return None;
        }
        if past_ttl {
            return Some(entry);
        }
        let used = now.duration_since(stored).as_secs() as u32;
        let down = |r: &Record| Record {
            ttl: r.ttl.saturating_sub(used),
            ..r.clone()
        };
        Some(match entry {
            Entry::Records(rs) => Entry::Records(rs.iter().map(down).collect()),
            Entry::Negative(code, soa) => Entry::Negative(code, down(&soa)),
        })
    }

    fn put(&mut self, name: &Name, rtype: u16, entry: Entry, ttl: u32) {
        if ttl == 0 {
            return; // RFC 1035 §3.2.1: TTL 0 means "not cached".
        }
        if self.entries.len() >= MAX_CACHE {
            if let Some(k) = self
                .entries
                .iter()
                .min_by_key(|(_, (_, _, exp))| *exp)
                .map(|(k, _)| k.clone())
            {
                self.entries.remove(&k);
            }
        }
        let now = Instant::now();
        let expires = now + Duration::from_secs(ttl as u64);
        self.entries
            .insert((name.key(), rtype), (entry, now, expires));
    }
}

/// What a resolution ends with.
struct Resolved {
    rcode: u8,
    answer: Vec<Record>,
    authority: Vec<Record>,
}

fn servfail() -> Resolved {
    Resolved {
        rcode: rcode::SERVFAIL,
        answer: vec![],
        authority: vec![],
    }
}

/// The work left for one client query.
struct Budget {
    queries: usize,
    until: Instant,
}

impl Budget {
    fn spend(&mut self) -> bool {
        if self.queries == 0 || Instant::now() >= self.until {
            return false;
        }
        self.queries -= 1;
        true
    }
}

/// An unpredictable 16-bit value (RFC 5452 §9.2: IDs "from a good random
/// source"): SipHash keyed by the standard library's random keys.
fn random16() -> u16 {
    crate::random_u64() as u16
}

impl Resolver {
    /// RFC 1034 §5.3.3: the resolver's algorithm for SNAME, STYPE.
    async fn resolve(
        &self,
        qname: &Name,
        qtype: u16,
        budget: &mut Budget,
        depth: usize,
    ) -> Resolved {
        let past = self.config.faults.cache_past_ttl;
        let mut sname = qname.clone();
        let mut chain: Vec<Record> = Vec::new();
        'names: for _ in 0..=MAX_CNAMES {
            // Step 1: "See if the answer is in local information, and if so
            // return it to the client." A cached CNAME for SNAME changes
            // SNAME (§3.6.2: the alias leads to the canonical name).
            {
                let mut cache = self.lock();
                match cache.get(&sname, qtype, past) {
                    Some(Entry::Records(rs)) => {
                        chain.extend(rs);
                        return answered(chain);
                    }
                    Some(Entry::Negative(code, soa)) => {
                        return Resolved {
                            rcode: code,
                            answer: chain,
                            authority: vec![soa],
                        }
                    }
                    None => {}
                }
                if qtype != TYPE_CNAME {
                    if let Some(Entry::Records(rs)) = cache.get(&sname, TYPE_CNAME, past) {
                        if let Some(RData::Cname(t)) = rs.first().map(|r| &r.data) {
                            sname = t.clone();
                            chain.extend(rs);
                            continue 'names;
                        }
                    }
                }
            }
            // Step 2: "Find the best servers to ask": the closest enclosing
            // zone whose NS records (and their addresses) are known; the root
            // hints when none is.
            let (mut zone, mut servers) = self.best_servers(&sname);
            loop {
                // Step 3: "Send them queries until one returns a response."
                let Some(resp) = self.ask(&servers, &sname, qtype, budget).await else {
                    return servfail();
                };
                let h = &resp.header;
                // Step 4a: "if the response answers the question or
                // contains a name error, cache the data as well as returning
                // it back to the client." Only data within the zone the
                // server was asked about is taken (RFC 2181 §5.4.1).
                let owned: Vec<Record> = resp
                    .answer
                    .iter()
                    .filter(|r| r.name.same(&sname))
                    .cloned()
                    .collect();
                self.keep_additional(&resp, &zone);
                let wanted: Vec<Record> = owned
                    .iter()
                    .filter(|r| r.rtype() == qtype)
                    .cloned()
                    .collect();
                if h.rcode == rcode::NOERROR && !wanted.is_empty() {
                    self.cache_rrset(&sname, qtype, &wanted);
                    chain.extend(wanted);
                    return answered(chain);
                }
                // Step 4c: "if the response shows a CNAME and that is not
                // the answer itself, cache the CNAME, change the SNAME to the
                // canonical name in the CNAME RR and go to step 1."
                if let Some(c) = owned.iter().find(|r| r.rtype() == TYPE_CNAME) {
                    if let RData::Cname(t) = &c.data {
                        self.cache_rrset(&sname, TYPE_CNAME, std::slice::from_ref(c));
                        chain.push(c.clone());
                        sname = t.clone();
                        continue 'names;
                    }
                }
                let soa = resp
                    .authority
                    .iter()
                    .find(|r| r.rtype() == TYPE_SOA && sname.is_at_or_below(&r.name));
                if h.aa && (h.rcode == rcode::NXDOMAIN || h.rcode == rcode::NOERROR) {
                    // A name error or no data: cached for the lesser of the
                    // SOA's TTL and its MINIMUM (RFC 2308 §5), passed on with
                    // the SOA so the client can cache it too (§3).
                    let Some(soa) = soa else {
                        return Resolved {
                            rcode: h.rcode,
                            answer: chain,
                            authority: vec![],
                        };
                    };
                    let min = match &soa.data {
                        RData::Soa(s) => soa.ttl.min(s.minimum),
                        _ => soa.ttl,
                    };
                    let soa = Record {
                        ttl: min,
                        ..soa.clone()
                    };
                    if !self.config.faults.no_cache {
                        let code = h.rcode;
                        self.lock()
                            .put(&sname, qtype, Entry::Negative(code, soa.clone()), min);
                    }
                    return Resolved {
                        rcode: h.rcode,
                        answer: chain,
                        authority: vec![soa],
                    };
                }
                // Step 4b: "if the response contains a better delegation to
                // other servers, cache the delegation information, and go to
                // step 2." Better: a zone below the one asked, and above SNAME.
                let cut = resp
                    .authority
                    .iter()
                    .find(|r| {
                        r.rtype() == TYPE_NS
                            && sname.is_at_or_below(&r.name)
                            && r.name.is_at_or_below(&zone)
                            && r.name.label_count() > zone.label_count()
                    })
                    .map(|r| r.name.clone());
                if h.rcode == rcode::NOERROR && !h.aa {
                    if let Some(cut) = cut {
                        let ns: Vec<Record> = resp
                            .authority
                            .iter()
                            .filter(|r| r.rtype() == TYPE_NS && r.name.same(&cut))
                            .cloned()
                            .collect();
                        self.cache_rrset(&cut, TYPE_NS, &ns);
                        let next = self.addresses(&ns, budget, depth).await;
                        if next.is_empty() {
                            return servfail();
                        }
                        zone = cut;
                        servers = next;
                        continue;
                    }
                }
                // Step 4d: "if the response shows a servers failure or
                // other bizarre contents, delete the server from the SLIST
                // and go back to step 3." `ask` has skipped servers that
                // failed or refused; an answer that is none of the above
                // (not authoritative, no better delegation) ends here.
                return servfail();
            }
        }
        servfail()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn cache_rrset(&self, name: &Name, rtype: u16, rs: &[Record]) {
        if self.config.faults.no_cache || rs.is_empty() {
            return;
        }
        let ttl = rs.iter().map(|r| r.ttl).min().unwrap_or(0);
        self.lock()
            .put(name, rtype, Entry::Records(rs.to_vec()), ttl);
    }

    /// Addresses of the additional section are kept only for names within
    /// `zone`, the zone the server was asked as an authority for: anything
    /// else is out of its bailiwick and could be forged (RFC 2181 §5.4.1:
    /// data from the additional section ranks lowest; RFC 5452 §6).
    fn keep_additional(&self, resp: &Response, zone: &Name) {
        let mut by_name: HashMap<Key, (Name, Vec<Record>)> = HashMap::new();
        for r in &resp.additional {
            let trusted = r.name.is_at_or_below(zone) || self.config.faults.accept_out_of_bailiwick;
            if trusted && r.rtype() == TYPE_A {
                by_name
                    .entry(r.name.key())
                    .or_insert_with(|| (r.name.clone(), vec![]))
                    .1
                    .push(r.clone());
            }
        }
        for (_, (name, rs)) in by_name {
            self.cache_rrset(&name, TYPE_A, &rs);
        }
    }

    /// The closest enclosing zone with known servers (RFC 1034 §5.3.3 step
    /// 2: "look for the nearest ancestor with NS RRs in the cache"), or the
    /// root hints.
    fn best_servers(&self, sname: &Name) -> (Name, Vec<SocketAddr>) {
        let past = self.config.faults.cache_past_ttl;
        let port = self.config.roots.first().map(|a| a.port()).unwrap_or(53);
        let mut cache = self.lock();
        for n in (1..=sname.label_count()).rev() {
            let zone = sname.suffix(n);
            let Some(Entry::Records(ns)) = cache.get(&zone, TYPE_NS, past) else {
                continue;
            };
            let mut addrs = vec![];
            for r in &ns {
                if let RData::Ns(target) = &r.data {
                    if let Some(Entry::Records(a)) = cache.get(target, TYPE_A, past) {
                        addrs.extend(a.iter().filter_map(|a| match a.data {
                            RData::A(ip) => Some(SocketAddr::from((Ipv4Addr::from(ip), port))),
                            _ => None,
                        }));
                    }
                }
            }
            if !addrs.is_empty() {
                return (zone, addrs);
            }
        }
        (Name::root(), self.config.roots.clone())
    }

    /// The addresses of a delegation's servers: glue from the cache, or for
    /// a glueless delegation, a lookup of the server's name of its own.
    async fn addresses(&self, ns: &[Record], budget: &mut Budget, depth: usize) -> Vec<SocketAddr> {
        let port = self.config.roots.first().map(|a| a.port()).unwrap_or(53);
        let to_addrs = |rs: &[Record]| -> Vec<SocketAddr> {
            rs.iter()
                .filter_map(|a| match a.data {
                    RData::A(ip) => Some(SocketAddr::from((Ipv4Addr::from(ip), port))),
                    _ => None,
                })
                .collect()
        };
        let mut out = vec![];
        let mut glueless = vec![];
        for r in ns {
            let RData::Ns(target) = &r.data else { continue };
            match self
                .lock()
                .get(target, TYPE_A, self.config.faults.cache_past_ttl)
            {
                Some(Entry::Records(a)) => out.extend(to_addrs(&a)),
                _ => glueless.push(target.clone()),
            }
        }
        if out.is_empty() && depth < MAX_DEPTH {
            for target in glueless {
                let r = Box::pin(self.resolve(&target, TYPE_A, budget, depth + 1)).await;
                out.extend(to_addrs(&r.answer));
                if !out.is_empty() {
                    break;
                }
            }
        }
        out
    }

    /// RFC 1034 §5.3.3 step 3: each server in turn until one answers. An
    /// answer counts only if it comes from the server asked, to the port the
    /// query left from, with the query's ID and question (RFC 5452 §9.1);
    /// anything else is ignored and the wait goes on. TC leads to the same
    /// query over TCP (RFC 7766 §5). A server that refuses or fails is
    /// skipped (step 4d).
    async fn ask(
        &self,
        servers: &[SocketAddr],
        sname: &Name,
        qtype: u16,
        budget: &mut Budget,
    ) -> Option<Response> {
        'servers: for server in servers {
            // The 0x20 bit (draft-vixie-dnsext-dns0x20, not an RFC): each
            // letter of the name goes in a random case, and only an answer
            // that echoes the question octet for octet is taken, so a forger
            // must guess the case as well as the ID and port. It rests on RFC
            // 4343 §4.1 (servers preserve the case of the question); a server
            // that does not is asked once more with the name as given.
            let mut mixed = !self.config.faults.fixed_case;
            let (mut resp, query, id, question) = loop {
                if !budget.spend() {
                    return None;
                }
                let id = if self.config.faults.fixed_id {
                    0x1234
                } else {
                    random16()
                };
                let question = Question {
                    name: if mixed {
                        sname.with_random_case(crate::random_u64)
                    } else {
                        sname.clone()
                    },
                    qtype,
                    qclass: 1,
                };
                let header = Header {
                    id,
                    ..Header::default()
                };
                // RFC 6891 §6.2.5: the UDP payload this resolver reassembles.
                let query = Writer::new(header, Some(&question), UDP_CLASSIC).finish(Some(Opt {
                    payload: UDP_MAX,
                    ext_rcode: 0,
                    dnssec_ok: false,
                }));
                match self.udp_exchange(*server, &query, id, &question).await {
                    Heard::Answer(r) => break (r, query, id, question),
                    Heard::CaseChanged if mixed => mixed = false,
                    Heard::CaseChanged | Heard::Nothing => continue 'servers,
                }
            };
            if resp.header.tc && !self.config.faults.ignore_tc {
                if !budget.spend() {
                    return None;
                }
                match tcp_exchange(*server, &query, id, &question).await {
                    Some(r) => resp = r,
                    None => continue,
                }
            }
            if resp.header.rcode == rcode::SERVFAIL || resp.header.rcode == rcode::REFUSED {
                continue;
            }
            return Some(resp);
        }
        None
    }

    async fn udp_exchange(&self, server: SocketAddr, query: &[u8], id: u16, q: &Question) -> Heard {
        if self.config.faults.fixed_port {
            let mut guard = self.fixed_socket.lock().await;
            if guard.is_none() {
                *guard = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.ok();
            }
            let Some(socket) = guard.as_ref() else {
                return Heard::Nothing;
            };
            return exchange_on(socket, server, query, id, q, self.config.faults).await;
        }
        // RFC 5452 §9.2: a fresh socket per query, so the source port is
        // the kernel's random choice among the ephemeral ones.
        let Ok(socket) = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await else {
            return Heard::Nothing;
        };
        exchange_on(&socket, server, query, id, q, self.config.faults).await
    }
}

fn answered(answer: Vec<Record>) -> Resolved {
    Resolved {
        rcode: rcode::NOERROR,
        answer,
        authority: vec![],
    }
}

/// What came back for one query over UDP.
enum Heard {
    Answer(Response),
    /// Only answers whose question differs from the one sent in letter case
    /// (a server that does not preserve case, or a forger who guessed all
    /// but the case).
    CaseChanged,
    Nothing,
}

/// Whether `resp` is the answer to the query `id`, `q`: `Some(true)` when it
/// echoes the question octet for octet, `Some(false)` when only the letter
/// case differs, `None` when it is no answer to this query.
fn matches(resp: &Response, id: u16, q: &Question) -> Option<bool> {
    let rq = resp.question.as_ref()?;
    let ours = resp.header.qr && resp.header.id == id && rq.qtype == q.qtype;
    (ours && rq.name.same(&q.name)).then(|| rq.name.identical(&q.name))
}

async fn exchange_on(
    socket: &UdpSocket,
    server: SocketAddr,
    query: &[u8],
    id: u16,
    q: &Question,
    faults: Faults,
) -> Heard {
    if socket.send_to(query, server).await.is_err() {
        return Heard::Nothing;
    }
    let until = tokio::time::Instant::now() + UPSTREAM_TIMEOUT;
    let mut buf = vec![0u8; UDP_MAX as usize * 2];
    let mut case_changed = false;
    loop {
        let Ok(Ok((n, from))) = tokio::time::timeout_at(until, socket.recv_from(&mut buf)).await
        else {
            return if case_changed {
                Heard::CaseChanged
            } else {
                Heard::Nothing
            };
        };
        if from != server && !faults.accept_any_answer {
            continue; // not from the server asked: ignored (RFC 5452 §9.1)
        }
        let Some(r) = parse_response(&buf[..n]) else {
            continue;
        };
        if faults.accept_any_answer {
            return Heard::Answer(r);
        }
        match matches(&r, id, q) {
            Some(true) => return Heard::Answer(r),
            // Kept waiting: the true answer may still come.
            Some(false) => case_changed = true,
            None => {} // a wrong ID or question: ignored, keep waiting
        }
    }
}

async fn tcp_exchange(server: SocketAddr, query: &[u8], id: u16, q: &Question) -> Option<Response> {
    let io = async {
        let mut s = TcpStream::connect(server).await.ok()?;
        let mut framed = (query.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(query);
        s.write_all(&framed).await.ok()?;
        let mut len = [0u8; 2];
        s.read_exact(&mut len).await.ok()?;
        let mut msg = vec![0u8; u16::from_be_bytes(len) as usize];
        s.read_exact(&mut msg).await.ok()?;
        // Over TCP a forger cannot answer blind: the case need not match.
        parse_response(&msg).filter(|r| matches(r, id, q).is_some())
    };
    tokio::time::timeout(UPSTREAM_TIMEOUT, io).await.ok()?
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Transport {
    Udp,
    Tcp,
}

/// The answer to one client message (`None`: no answer at all).
async fn respond(
    r: &Resolver,
    msg: &[u8],
    client: IpAddr,
    transport: Transport,
) -> Option<Vec<u8>> {
    let query = match parse_query(msg) {
        Ok(q) => q,
        Err(Malformed::Drop) => return None,
        Err(Malformed::Reply(header, question, code)) => {
            let w = Writer::new(
                reply_header(&header, code, false),
                question.as_ref(),
                UDP_CLASSIC,
            );
            return Some(w.finish(None));
        }
    };
    // RFC 6891 §7: a UDP answer fits what the client said it takes (512
    // octets without EDNS); one larger goes out with TC set.
    let limit = match (transport, &query.edns) {
        (Transport::Tcp, _) => TCP_MAX,
        (Transport::Udp, None) => UDP_CLASSIC,
        (Transport::Udp, Some(e)) => (e.payload as usize).clamp(UDP_CLASSIC, UDP_MAX as usize),
    };
    let opt = query.edns.as_ref().map(|e| Opt {
        payload: UDP_MAX,
        ext_rcode: 0,
        dnssec_ok: e.dnssec_ok,
    });
    let q = &query.question;
    // RFC 1034 §4.3.1: recursion only when asked for (RD) and offered to
    // this client; RFC 5358 §4: not to the whole Internet by default.
    let allowed = r.config.open || client.is_loopback();
    let resolved = if !allowed {
        Resolved {
            rcode: rcode::REFUSED,
            answer: vec![],
            authority: vec![],
        }
    } else if query.header.rd {
        let mut budget = Budget {
            queries: MAX_WORK,
            until: Instant::now() + DEADLINE,
        };
        match tokio::time::timeout(DEADLINE, r.resolve(&q.name, q.qtype, &mut budget, 0)).await {
            Ok(res) => res,
            Err(_) => servfail(),
        }
    } else {
        // Without RD: only what is in the cache, else REFUSED.
        match r
            .lock()
            .get(&q.name, q.qtype, r.config.faults.cache_past_ttl)
        {
            Some(Entry::Records(rs)) => answered(rs),
            _ => Resolved {
                rcode: rcode::REFUSED,
                answer: vec![],
                authority: vec![],
            },
        }
    };
    let mut header = reply_header(&query.header, resolved.rcode, allowed);
    // The answers come from the cache or other servers: not authoritative
    // (RFC 1035 §4.1.1, AA "valid in responses" from "an authority").
    header.aa = r.config.faults.set_aa;
    let mut w = Writer::new(header, Some(q), limit);
    if opt.is_some() {
        w.reserve_opt();
    }
    for rec in &resolved.answer {
        w.add(Section::Answer, rec);
    }
    for rec in &resolved.authority {
        w.add(Section::Authority, rec);
    }
    Some(w.finish(opt))
}

/// ID, opcode and RD copied from the query, QR set, RA set when recursion
/// is available to the client (RFC 1035 §4.1.1).
fn reply_header(query: &Header, code: u8, ra: bool) -> Header {
    Header {
        id: query.id,
        qr: true,
        opcode: query.opcode,
        rd: query.rd,
        ra,
        rcode: code,
        ..Header::default()
    }
}

async fn serve_udp(r: Arc<Resolver>, socket: UdpSocket) {
    let socket = Arc::new(socket);
    let mut buf = vec![0u8; TCP_MAX];
    loop {
        let Ok((n, client)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        // Beyond the bound, datagrams are dropped (the client retries).
        let Ok(permit) = r.in_flight.try_acquire() else {
            continue;
        };
        permit.forget();
        let (r, socket, msg) = (r.clone(), socket.clone(), buf[..n].to_vec());
        tokio::spawn(async move {
            if let Some(reply) = respond(&r, &msg, client.ip(), Transport::Udp).await {
                let _ = socket.send_to(&reply, client).await;
            }
            r.in_flight.add_permits(1);
        });
    }
}

async fn serve_tcp(r: Arc<Resolver>, listener: TcpListener) {
    accept_loop(
        listener,
        crate::MAX_CONNECTIONS,
        WhenFull::Close,
        move |stream, client| {
            let r = r.clone();
            async move {
                let _ = connection(&r, stream, client.ip()).await;
            }
        },
    )
    .await
}

/// Queries on one connection, each with its two-octet length (RFC 1035
/// §4.2.2), answered in order; an idle connection is closed (RFC 7766 §6.2.3).
async fn connection(r: &Resolver, mut stream: TcpStream, client: IpAddr) -> Option<()> {
    loop {
        let mut len = [0u8; 2];
        tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut len))
            .await
            .ok()?
            .ok()?;
        let mut msg = vec![0u8; u16::from_be_bytes(len) as usize];
        tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut msg))
            .await
            .ok()?
            .ok()?;
        let reply = respond(r, &msg, client, Transport::Tcp).await?;
        let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&reply);
        tokio::time::timeout(TCP_IDLE, stream.write_all(&framed))
            .await
            .ok()?
            .ok()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An upstream server on loopback that answers every query with an A
    /// record, echoing the question in lower case when `lowercase` (a server
    /// that does not preserve case), and records the names it was asked.
    async fn upstream(lowercase: bool) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let addr = socket.local_addr().unwrap();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            while let Ok((n, from)) = socket.recv_from(&mut buf).await {
                let Ok(q) = parse_query(&buf[..n]) else {
                    continue;
                };
                log.lock().unwrap().push(q.question.name.to_string());
                let mut question = q.question.clone();
                if lowercase {
                    question.name = Name::from_labels(question.name.key()).unwrap();
                }
                let header = Header {
                    id: q.header.id,
                    qr: true,
                    aa: true,
                    ..Header::default()
                };
                let mut w = Writer::new(header, Some(&question), 512);
                w.add(
                    Section::Answer,
                    &Record {
                        name: question.name.clone(),
                        class: 1,
                        ttl: 60,
                        data: RData::A([192, 0, 2, 7]),
                    },
                );
                let _ = socket.send_to(&w.finish(None), from).await;
            }
        });
        (addr, asked)
    }

    async fn ask_once(server: SocketAddr) -> Option<Response> {
        let r = Resolver {
            config: Config {
                roots: vec![server],
                open: false,
                faults: Faults::default(),
            },
            cache: Mutex::default(),
            fixed_socket: tokio::sync::Mutex::new(None),
            in_flight: Semaphore::new(1),
        };
        let name = Name::parse("www.case-randomisation.example.test.", &Name::root()).unwrap();
        let mut budget = Budget {
            queries: MAX_WORK,
            until: Instant::now() + DEADLINE,
        };
        r.ask(&[server], &name, TYPE_A, &mut budget).await
    }

    #[tokio::test]
    async fn the_case_of_each_query_is_random_and_its_echo_must_match() {
        let (server, asked) = upstream(false).await;
        assert!(ask_once(server).await.is_some());
        let asked = asked.lock().unwrap().clone();
        assert_eq!(asked.len(), 1, "{asked:?}");
        // 31 letters all in one case: a chance of 2^-30 per run.
        assert_ne!(asked[0], asked[0].to_ascii_lowercase(), "{asked:?}");
        assert_ne!(asked[0], asked[0].to_ascii_uppercase(), "{asked:?}");
    }

    #[tokio::test]
    async fn a_server_that_does_not_preserve_case_is_asked_again_as_given() {
        let (server, asked) = upstream(true).await;
        let resp = ask_once(server)
            .await
            .expect("an answer after the second query");
        assert_eq!(resp.answer.len(), 1);
        let asked = asked.lock().unwrap().clone();
        assert_eq!(asked.len(), 2, "{asked:?}");
        assert_eq!(asked[1], "www.case-randomisation.example.test.");
    }
}
