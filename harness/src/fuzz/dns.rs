//! Fuzzing DNS over UDP (RFC 1035): queries taken apart (header flags and
//! counts, question name, type and class, an EDNS OPT record, RFC 6891) and
//! mutated there: opcodes, the QR/TC/Z bits, counts that disagree with the
//! records, label lengths at and over 63, names at and over 255 octets,
//! compression pointers in a query (to itself, forward, out of the message),
//! truncated records, odd types and classes, EDNS versions and options; then
//! byte-level flips, inserts and truncations.
//!
//! A server may drop a malformed query, so every query is followed on the
//! same socket by a valid *sync* query with its own ID: the fuzzer reads
//! until the sync query's response, judging whatever came before it. No
//! timeout is spent on a dropped query, and a server that stops answering
//! this client is seen at once.
//!
//! Oracles: a well-formed query gets exactly one response with its ID, QR
//! set and its question echoed (RFC 1035 §4.1.1, §7.3); every response parses
//! (names, compression pointers inside the message, record lengths; an error
//! response to a query that does not parse may just echo its header); a query
//! whose question does not parse is not answered NOERROR; the server keeps
//! answering a fresh socket's SOA query for the zone.

use std::sync::{Arc, RwLock};
use std::time::Instant;

use proptest::prelude::*;

use super::link::{Link, ReadError, UdpLink};
use super::mutate::bytes;
use super::{Case, Channel, FuzzProtocol, Limits, Next, Oracle, Step, Transport, Violation};
use crate::notation::escape_short;
use crate::target::Profile;

/// The sync query's ID is the mutated query's ID plus this (mod 2^16).
const SYNC_OFFSET: u16 = 0x8001;

/// A query taken apart.
#[derive(Clone, Debug)]
pub struct Query {
    pub id: u16,
    /// Header bits 16-31: QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode.
    pub flags: u16,
    /// Count overrides (`None`: the true count).
    pub counts: [Option<u16>; 4],
    /// Question name, as wire bytes (labels and terminator, or anything).
    pub qname: Vec<u8>,
    pub qtype: u16,
    pub qclass: u16,
    /// An OPT record in the additional section: (payload size, version, DO, options).
    pub opt: Option<(u16, u8, bool, Vec<u8>)>,
}

/// `www.example.test` as labels.
pub fn name(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in text.split('.').filter(|l| !l.is_empty()) {
        out.push(label.len().min(255) as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

impl Query {
    pub fn new(id: u16, qname: &str, qtype: u16) -> Query {
        Query {
            id,
            flags: 0x0100, // RD
            counts: [None; 4],
            qname: name(qname),
            qtype,
            qclass: 1,
            opt: None,
        }
    }

    pub fn render(&self) -> Vec<u8> {
        let arcount = u16::from(self.opt.is_some());
        let c = |i: usize, real: u16| self.counts[i].unwrap_or(real);
        let mut m = Vec::with_capacity(64);
        m.extend_from_slice(&self.id.to_be_bytes());
        m.extend_from_slice(&self.flags.to_be_bytes());
        for v in [c(0, 1), c(1, 0), c(2, 0), c(3, arcount)] {
            m.extend_from_slice(&v.to_be_bytes());
        }
        m.extend_from_slice(&self.qname);
        m.extend_from_slice(&self.qtype.to_be_bytes());
        m.extend_from_slice(&self.qclass.to_be_bytes());
        if let Some((size, version, dnssec_ok, options)) = &self.opt {
            m.push(0); // root name
            m.extend_from_slice(&41u16.to_be_bytes());
            m.extend_from_slice(&size.to_be_bytes());
            m.extend_from_slice(&[0, *version]);
            m.extend_from_slice(&(if *dnssec_ok { 0x8000u16 } else { 0 }).to_be_bytes());
            m.extend_from_slice(&(options.len() as u16).to_be_bytes());
            m.extend_from_slice(options);
        }
        m
    }
}

#[derive(Clone, Debug)]
pub enum DnsOp {
    Opcode(u8),
    Bit(u16),
    Rcode(u8),
    Count(usize, u16),
    Name(Vec<u8>),
    Type(u16),
    Class(u16),
    Opt(u16, u8, bool, Vec<u8>),
    Id(u16),
}

impl DnsOp {
    fn apply(&self, q: &mut Query) {
        match self {
            DnsOp::Opcode(o) => q.flags = (q.flags & !0x7800) | (u16::from(*o & 15) << 11),
            DnsOp::Bit(b) => q.flags ^= b,
            DnsOp::Rcode(r) => q.flags = (q.flags & !0x000f) | u16::from(*r & 15),
            DnsOp::Count(i, v) => q.counts[i % 4] = Some(*v),
            DnsOp::Name(n) => q.qname = n.clone(),
            DnsOp::Type(t) => q.qtype = *t,
            DnsOp::Class(c) => q.qclass = *c,
            DnsOp::Opt(s, v, d, o) => q.opt = Some((*s, *v, *d, o.clone())),
            DnsOp::Id(i) => q.id = *i,
        }
    }
}

fn odd_names(zone: &str) -> Vec<Vec<u8>> {
    let mut v = vec![
        name(""),
        name(zone),
        name(&format!("WwW.{}", zone.to_ascii_uppercase())),
        name(&format!("{}.{zone}", "a".repeat(63))),
        name(&format!("nothing-here.{zone}")),
        name(&format!("*.{zone}")),
        name(&format!("a b\\.{zone}")),
    ];
    // A 64-octet label: the length byte says 64, over the 63 limit.
    let mut long = vec![64u8];
    long.extend(std::iter::repeat_n(b'a', 64));
    long.extend(name(zone));
    v.push(long);
    // A name of 256 octets in all.
    let mut big = Vec::new();
    while big.len() < 250 {
        big.push(49);
        big.extend(std::iter::repeat_n(b'x', 49));
    }
    big.push(0);
    v.push(big);
    // Compression pointers in a question: to itself (offset 12), to the
    // header, past the end; a label running past the end; no terminator.
    v.push(vec![0xc0, 12]);
    v.push(vec![0xc0, 0]);
    v.push(vec![0xc0, 0xff]);
    v.push(vec![3, b'w', b'w', b'w', 0xc0, 12]);
    v.push(vec![0x80, b'a', 0]);
    v.push(vec![10, b'a']);
    v.push(b"\x07example".to_vec());
    v
}

fn op(zone: &str) -> BoxedStrategy<DnsOp> {
    prop_oneof![
        2 => prop_oneof![Just(1u8), Just(2), Just(3), Just(4), Just(5), Just(6), Just(15)].prop_map(DnsOp::Opcode),
        2 => prop_oneof![Just(0x8000u16), Just(0x0400), Just(0x0200), Just(0x0100), Just(0x0080), Just(0x0040), Just(0x0020), Just(0x0010)].prop_map(DnsOp::Bit),
        1 => (1u8..16).prop_map(DnsOp::Rcode),
        2 => (0usize..4, prop_oneof![Just(0u16), Just(1), Just(2), Just(255), Just(65535)]).prop_map(|(i, v)| DnsOp::Count(i, v)),
        3 => proptest::sample::select(odd_names(zone)).prop_map(DnsOp::Name),
        2 => prop_oneof![Just(1u16), Just(2), Just(6), Just(15), Just(16), Just(28), Just(0), Just(252), Just(255), Just(65535), Just(41)].prop_map(DnsOp::Type),
        1 => prop_oneof![Just(1u16), Just(3), Just(254), Just(255), Just(0), Just(65535)].prop_map(DnsOp::Class),
        2 => (
            prop_oneof![Just(0u16), Just(512), Just(1232), Just(4096), Just(65535)],
            prop_oneof![Just(0u8), Just(1), Just(255)],
            any::<bool>(),
            prop_oneof![
                Just(vec![]),
                Just(vec![0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]), // COOKIE
                Just(vec![0, 10, 0, 40]),                        // a length past the end
                Just(vec![0xff, 0xff, 0, 0]),
            ],
        )
            .prop_map(|(s, v, d, o)| DnsOp::Opt(s, v, d, o)),
        1 => any::<u16>().prop_map(DnsOp::Id),
    ]
    .boxed()
}

/// Walks a whole message (header, question(s), records) with the suites'
/// walker (`wire::dns::walk`). Returns the question section's bytes, the
/// rcode and the flags word.
pub fn parse(m: &[u8]) -> Result<(Vec<u8>, u8, u16), String> {
    let w = crate::wire::dns::walk(m)?;
    let question = m.get(12..w.question_end).unwrap_or_default().to_vec();
    Ok((question, m[3] & 0x0f, u16::from_be_bytes([m[2], m[3]])))
}

/// A query the fuzzer expects a plain answer to: QR clear, opcode QUERY,
/// one question that parses, nothing else but at most an OPT, nothing after.
fn well_formed_query(m: &[u8]) -> bool {
    // QR, opcode, TC; Z "must be zero in all queries" and RCODE is 0 in a
    // query (RFC 1035 §4.1.1): a query with either may be dropped.
    if m.len() < 12
        || m[2] & 0x80 != 0
        || (m[2] >> 3) & 0x0f != 0
        || m[2] & 0x02 != 0
        || m[3] & 0x4f != 0
    {
        return false;
    }
    let counts: Vec<u16> = (0..4)
        .map(|i| u16::from_be_bytes([m[4 + 2 * i], m[5 + 2 * i]]))
        .collect();
    if counts[..3] != [1, 0, 0] || counts[3] > 1 {
        return false;
    }
    // A name without pointers, labels of 1-63 octets.
    let mut at = 12;
    loop {
        match m.get(at) {
            Some(0) => break,
            Some(&l) if (1..=63).contains(&l) => at += 1 + usize::from(l),
            _ => return false,
        }
    }
    if at + 1 > 255 + 12 {
        return false;
    }
    let mut end = at + 5;
    let qclass = m
        .get(end - 2..end)
        .map(|c| u16::from_be_bytes([c[0], c[1]]));
    let qtype = m
        .get(end - 4..end - 2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]));
    // Meta types and classes (AXFR over UDP, class NONE/ANY, OPT as a
    // question) have their own rules; not judged here.
    if !matches!(qtype, Some(1..=250)) || !matches!(qclass, Some(1 | 3 | 4)) || qtype == Some(41) {
        return false;
    }
    if counts[3] == 1 {
        // The OPT record: root name, type 41, version 0, options that fit.
        if m.get(end) != Some(&0)
            || m.get(end + 1..end + 3) != Some(&[0, 41])
            || m.get(end + 6) != Some(&0)
        {
            return false;
        }
        let rdlen = m
            .get(end + 9..end + 11)
            .map(|c| usize::from(u16::from_be_bytes([c[0], c[1]])));
        match rdlen {
            Some(0) => end += 11,
            _ => return false,
        }
    }
    end == m.len()
}

/// Whether the question name (at offset 12, without pointers) is the zone
/// or below it, ignoring case.
fn in_zone(m: &[u8], zone: &str) -> bool {
    let mut labels = Vec::new();
    let mut at = 12;
    while let Some(&l) = m.get(at) {
        if l == 0 || l > 63 {
            break;
        }
        let Some(label) = m.get(at + 1..at + 1 + usize::from(l)) else {
            return false;
        };
        labels.push(label.to_ascii_lowercase());
        at += 1 + usize::from(l);
    }
    let zone: Vec<Vec<u8>> = zone
        .split('.')
        .filter(|l| !l.is_empty())
        .map(|l| l.to_ascii_lowercase().into_bytes())
        .collect();
    labels.len() >= zone.len() && labels[labels.len() - zone.len()..] == zone[..]
}

pub struct Dns {
    profile: RwLock<Profile>,
}

impl Default for Dns {
    fn default() -> Self {
        Dns {
            profile: RwLock::new(Profile::default()),
        }
    }
}

impl Dns {
    fn zone(&self) -> String {
        self.profile
            .read()
            .ok()
            .and_then(|p| p.get("dns.zone").map(str::to_string))
            .unwrap_or_else(|| "example.test".into())
    }

    fn malformed(why: &str, got: &[u8]) -> Violation {
        Violation::new(Oracle::WellFormed, format!("a malformed response: {why}"))
            .expected(
                "a DNS message whose names, pointers and records stay inside it (RFC 1035 §4)",
            )
            .got(format!("\"{}\"", escape_short(got, 120)))
    }
}

impl FuzzProtocol for Dns {
    fn name(&self) -> &'static str {
        "dns"
    }

    fn channels(&self, profile: &Profile) -> Result<Vec<Channel>, String> {
        if let Ok(mut p) = self.profile.write() {
            *p = profile.clone();
        }
        Ok(vec![Channel::from_profile(
            profile,
            "dns.address",
            "udp",
            Transport::Udp,
        )?])
    }

    fn builtin_seeds(&self) -> Vec<Vec<u8>> {
        vec![]
    }

    fn strategy(&self, channels: &[Channel], _: Arc<Vec<Vec<u8>>>) -> BoxedStrategy<Case> {
        let zone = self.zone();
        let names = [
            zone.clone(),
            format!("www.{zone}"),
            format!("mail.{zone}"),
            format!("missing.{zone}"),
        ];
        let seeds: Vec<Query> = names
            .iter()
            .flat_map(|n| [1u16, 28, 15, 6, 2, 16].map(|t| Query::new(0, n, t)))
            .collect();
        let channel = channels.first().map(|c| c.name.clone()).unwrap_or_default();
        let message = (
            proptest::sample::select(seeds),
            any::<u16>(),
            proptest::collection::vec(op(&zone), 0..4),
            proptest::collection::vec(bytes::op(), 0..2),
            proptest::bool::weighted(0.3),
        )
            .prop_map(|(mut q, id, ops, byte_ops, flip)| {
                q.id = id;
                for o in &ops {
                    o.apply(&mut q);
                }
                let mut m = q.render();
                if flip {
                    for o in &byte_ops {
                        o.apply(&mut m);
                    }
                }
                m
            });
        proptest::collection::vec(message, 1..6)
            .prop_map(move |messages| Case {
                protocol: "dns".into(),
                channel: channel.clone(),
                prefix: vec![],
                messages,
            })
            .boxed()
    }

    fn oracles(&self) -> Vec<(Oracle, String)> {
        vec![
            (Oracle::Answers, "a well-formed query gets one response with its ID, QR set and its question; the next query is still answered".into()),
            (Oracle::WellFormed, "every response parses: names, compression pointers and records stay inside the message".into()),
            (Oracle::AcceptableClass, "a query whose question does not parse is not answered NOERROR".into()),
            (Oracle::StaysAlive, "a fresh socket's SOA query for the zone is answered NOERROR".into()),
        ]
    }

    fn exchange(
        &self,
        link: &mut Link,
        msg: &[u8],
        _: Step,
        limits: &Limits,
    ) -> Result<Next, Violation> {
        let Link::Udp(l) = link else {
            return Err(Violation::new(
                Oracle::Answers,
                "this DNS module runs over UDP",
            ));
        };
        let id = msg.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]]));
        let sync_id = id.unwrap_or(0).wrapping_add(SYNC_OFFSET);
        let sync = Query::new(sync_id, &self.zone(), 6).render();
        let deadline = Instant::now() + limits.reply_timeout;
        l.send(msg)
            .map_err(|e| Violation::new(Oracle::Answers, e))?;
        l.send(&sync)
            .map_err(|e| Violation::new(Oracle::Answers, e))?;
        // Only names in the zone must be answered in time: a resolver (Unbound
        // in the lab) may spend longer recursing for anything else.
        let valid = well_formed_query(msg) && in_zone(msg, &self.zone());
        let question_parses = msg.len() >= 12 && parse(msg).is_ok();
        let mut answered = 0;
        loop {
            let r = l.recv(deadline).map_err(|e| {
                Violation::new(
                    Oracle::Answers,
                    match e {
                        ReadError::Closed { .. } => "no response: ICMP port unreachable".into(),
                        e => format!(
                            "{} (to the sync query after \"{}\")",
                            e.describe(limits.reply_timeout),
                            escape_short(msg, 80)
                        ),
                    },
                )
                .expected("a response to the sync query with its ID")
            })?;
            if r.len() < 12 {
                return Err(Self::malformed("shorter than a header", &r));
            }
            // An error response to a query that does not parse may echo the
            // query's header, counts and all, without the records they
            // promise (Unbound answers FORMERR so): only its header counts.
            let echoed_error =
                !question_parses && r[3] & 0x0f != 0 && r[..2] == msg[..2.min(msg.len())];
            let (question, rcode, _) = match parse(&r) {
                Ok(p) => p,
                Err(_) if echoed_error => (Vec::new(), r[3] & 0x0f, 0),
                Err(why) => return Err(Self::malformed(&why, &r)),
            };
            if r[2] & 0x80 == 0 {
                return Err(Self::malformed("QR is not set in a response", &r));
            }
            let rid = u16::from_be_bytes([r[0], r[1]]);
            if rid == sync_id && r.len() >= 12 && question == sync[12..] {
                break;
            }
            if Some(rid) != id {
                // A late response to an earlier query of this socket (a
                // multi-threaded server may answer out of order).
                continue;
            }
            answered += 1;
            if valid && question != msg[12..msg.len().min(12 + question.len())] {
                return Err(Violation::new(
                    Oracle::WellFormed,
                    "the response does not echo the question",
                )
                .expected(format!("\"{}\"", escape_short(&msg[12..], 80)))
                .got(format!("\"{}\"", escape_short(&question, 80))));
            }
            if !question_parses && rcode == 0 {
                return Err(Violation::new(
                    Oracle::AcceptableClass,
                    "a query whose question does not parse was answered NOERROR",
                )
                .expected("FORMERR (or no response)")
                .got(format!("\"{}\"", escape_short(&r, 80))));
            }
        }
        if valid && answered != 1 {
            return Err(Violation::new(
                Oracle::Answers,
                if answered == 0 {
                    "a well-formed query got no response (the sync query after it did)"
                } else {
                    "a query got more than one response"
                },
            )
            .expected("exactly one response")
            .got(format!("{answered}")));
        }
        Ok(Next::Continue)
    }

    fn probe(&self, channels: &[Channel], limits: &Limits) -> Result<(), String> {
        for c in channels {
            let mut l = UdpLink::bind(c.addr)?;
            let q = Query::new(0x5a5a, &self.zone(), 6).render();
            l.send(&q)?;
            let r = l
                .recv(Instant::now() + limits.reply_timeout)
                .map_err(|e| e.describe(limits.reply_timeout))?;
            match parse(&r) {
                Ok((_, 0, _)) if r[..2] == q[..2] => {}
                Ok((_, rcode, _)) => return Err(format!("the SOA query got rcode {rcode}")),
                Err(why) => return Err(why),
            }
        }
        Ok(())
    }

    fn scenario(&self, case: &Case, _: &Violation) -> String {
        super::session_scenario("dns", "@rfc1035", case)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_render_and_parse() {
        let q = Query::new(7, "www.example.test", 1).render();
        assert!(well_formed_query(&q));
        assert!(parse(&q).is_ok());
        let mut with_opt = Query::new(7, "example.test", 6);
        with_opt.opt = Some((1232, 0, false, vec![]));
        assert!(well_formed_query(&with_opt.render()));
        let mut loopy = Query::new(7, "x", 1);
        loopy.qname = vec![0xc0, 12];
        assert!(parse(&loopy.render()).is_err());
        assert!(!well_formed_query(&loopy.render()));
        let mut long = Query::new(7, "x", 1);
        long.qname = odd_names("example.test")[7].clone();
        assert!(!well_formed_query(&long.render()));
    }
}
