//! DNS messages on the client side (RFC 1035 §4): building queries byte by
//! byte (so a scenario controls every field, including malformed ones),
//! reading TCP-framed responses, and decoding responses with hickory-proto.
//!
//! The header and the question are also read here directly from the bytes,
//! so that checks on flags, counts and the echoed question do not depend on
//! how a library normalises them.

use std::fmt::Write as _;

use hickory_proto::op::Message;
use hickory_proto::rr::{RData, Record, RecordType};

use super::{Conn, WireError};

pub const HEADER_LEN: usize = 12;

/// What a scenario asks: every header field and the question, plus EDNS(0).
#[derive(Clone, Debug)]
pub struct QuerySpec {
    pub id: u16,
    pub opcode: u8,
    pub rd: bool,
    /// Set QR as if the query were a response (a malformed query).
    pub qr: bool,
    /// The name as text; its case is sent as written.
    pub name: String,
    pub qtype: u16,
    pub qclass: u16,
    pub edns: Option<EdnsSpec>,
    /// Extra OPT records (more than one is malformed, RFC 6891 §6.1.1).
    pub extra_opts: usize,
    /// The AD and CD header bits (RFC 4035 §3.1.6; RFC 6840 §5.7).
    pub ad: bool,
    pub cd: bool,
    /// How many times the question is written (QDCOUNT; more than one is
    /// malformed for a QUERY).
    pub questions: u16,
}

#[derive(Clone, Debug, Default)]
pub struct EdnsSpec {
    pub payload: u16,
    pub version: u8,
    pub dnssec_ok: bool,
    /// Further bits of the OPT flags field (RFC 6891 §6.1.3's Z, below DO).
    pub flags: u16,
    /// Options in the OPT RDATA: code and data (RFC 6891 §6.1.2).
    pub options: Vec<(u16, Vec<u8>)>,
}

impl QuerySpec {
    pub fn new(id: u16, name: &str, qtype: u16) -> Self {
        QuerySpec {
            id,
            opcode: 0,
            rd: false,
            qr: false,
            name: name.to_string(),
            qtype,
            qclass: 1,
            edns: None,
            extra_opts: 0,
            ad: false,
            cd: false,
            questions: 1,
        }
    }

    /// The query on the wire: header, one question, and any OPT records.
    pub fn encode(&self) -> Result<Vec<u8>, String> {
        let opts = self.edns.is_some() as usize + self.extra_opts;
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&self.id.to_be_bytes());
        out.push((self.qr as u8) << 7 | (self.opcode & 0x0f) << 3 | self.rd as u8);
        out.push((self.ad as u8) << 5 | (self.cd as u8) << 4);
        for count in [self.questions, 0, 0, opts as u16] {
            out.extend_from_slice(&count.to_be_bytes());
        }
        for _ in 0..self.questions {
            out.extend_from_slice(&encode_name(&self.name)?);
            out.extend_from_slice(&self.qtype.to_be_bytes());
            out.extend_from_slice(&self.qclass.to_be_bytes());
        }
        let e = self.edns.clone().unwrap_or(EdnsSpec {
            payload: 1232,
            ..EdnsSpec::default()
        });
        let mut rdata = Vec::new();
        for (code, data) in &e.options {
            rdata.extend_from_slice(&code.to_be_bytes());
            rdata.extend_from_slice(&(data.len() as u16).to_be_bytes());
            rdata.extend_from_slice(data);
        }
        for _ in 0..opts {
            out.push(0); // root owner
            out.extend_from_slice(&41u16.to_be_bytes());
            out.extend_from_slice(&e.payload.to_be_bytes());
            let ttl =
                (e.version as u32) << 16 | (e.dnssec_ok as u32) << 15 | u32::from(e.flags & 0x7fff);
            out.extend_from_slice(&ttl.to_be_bytes());
            out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            out.extend_from_slice(&rdata);
        }
        Ok(out)
    }
}

/// Encodes a name as labels, uncompressed. Lengths are written as they
/// are, so a 64-octet label goes out as the (invalid) length octet 0x40.
pub fn encode_name(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let trimmed = text.strip_suffix('.').unwrap_or(text);
    if !trimmed.is_empty() {
        for label in trimmed.split('.') {
            if label.is_empty() || label.len() > 255 {
                return Err(format!("cannot encode the label \"{label}\" of {text}"));
            }
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
    }
    out.push(0);
    Ok(out)
}

/// The fixed header, read from the bytes (RFC 1035 §4.1.1).
#[derive(Clone, Copy, Debug)]
pub struct RawHeader {
    pub id: u16,
    pub qr: bool,
    pub opcode: u8,
    pub aa: bool,
    pub tc: bool,
    pub rd: bool,
    pub ra: bool,
    pub rcode: u8,
    pub counts: [u16; 4],
}

impl RawHeader {
    pub fn read(b: &[u8]) -> Option<RawHeader> {
        let h = b.get(..HEADER_LEN)?;
        let w = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
        Some(RawHeader {
            id: w(0),
            qr: h[2] & 0x80 != 0,
            opcode: (h[2] >> 3) & 0x0f,
            aa: h[2] & 0x04 != 0,
            tc: h[2] & 0x02 != 0,
            rd: h[2] & 0x01 != 0,
            ra: h[3] & 0x80 != 0,
            rcode: h[3] & 0x0f,
            counts: [w(4), w(6), w(8), w(10)],
        })
    }

    pub fn flags(&self) -> String {
        let mut f = vec![];
        for (on, name) in [
            (self.qr, "qr"),
            (self.aa, "aa"),
            (self.tc, "tc"),
            (self.rd, "rd"),
            (self.ra, "ra"),
        ] {
            if on {
                f.push(name);
            }
        }
        f.join(" ")
    }
}

/// The question section's octets of a message with one question (the name
/// read without following pointers: a question is always first).
pub fn question_bytes(msg: &[u8]) -> Option<&[u8]> {
    let mut at = HEADER_LEN;
    loop {
        let len = *msg.get(at)? as usize;
        if len == 0 {
            at += 1;
            break;
        }
        if len & 0xc0 == 0xc0 {
            at += 2;
            break;
        }
        at += 1 + len;
    }
    msg.get(HEADER_LEN..at + 4)
}

/// A response as received: its bytes and what hickory-proto made of them.
#[derive(Clone, Debug)]
pub struct Response {
    pub raw: Vec<u8>,
    pub header: Option<RawHeader>,
    pub message: Result<Message, String>,
    /// `udp` or `tcp`, for messages.
    pub transport: &'static str,
}

impl Response {
    pub fn decode(raw: Vec<u8>, transport: &'static str) -> Response {
        let header = RawHeader::read(&raw);
        let message = Message::from_vec(&raw).map_err(|e| e.to_string());
        Response {
            raw,
            header,
            message,
            transport,
        }
    }

    /// The response, dig-style, for transcripts and failure messages.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        match (&self.header, &self.message) {
            (None, _) => {
                let _ = write!(
                    s,
                    "not a DNS message: {} octets, shorter than a header",
                    self.raw.len()
                );
            }
            (Some(h), Ok(m)) => {
                s = describe_message(h, m, self.raw.len());
            }
            (Some(h), Err(e)) => {
                let _ = write!(
                    s,
                    ";; id {} opcode {} rcode {} flags [{}] QD {} AN {} NS {} AR {}, {} octets\n;; undecodable: {e}",
                    h.id, h.opcode, rcode_name(h.rcode as u16), h.flags(), h.counts[0], h.counts[1], h.counts[2], h.counts[3], self.raw.len()
                );
            }
        }
        s
    }
}

/// A decoded message as dig prints it: header, then each section.
pub fn describe_message(h: &RawHeader, m: &Message, size: usize) -> String {
    let mut s = String::new();
    let rcode = u16::from(m.response_code());
    let _ = writeln!(
        s,
        ";; id {} opcode {} rcode {} flags [{}] QD {} AN {} NS {} AR {}, {size} octets",
        h.id,
        h.opcode,
        rcode_name(rcode),
        h.flags(),
        h.counts[0],
        h.counts[1],
        h.counts[2],
        h.counts[3]
    );
    if let Some(e) = m.extensions() {
        let _ = writeln!(
            s,
            ";; OPT version {} udp payload {} do {}",
            e.version(),
            e.max_payload(),
            e.flags().dnssec_ok
        );
    }
    for q in m.queries() {
        let _ = writeln!(
            s,
            ";; QUESTION {} {} {}",
            q.name(),
            q.query_class(),
            q.query_type()
        );
    }
    for (title, records) in [
        ("ANSWER", m.answers()),
        ("AUTHORITY", m.name_servers()),
        ("ADDITIONAL", m.additionals()),
    ] {
        for r in records {
            let _ = writeln!(s, ";; {title} {}", present(r));
        }
    }
    s.trim_end().to_string()
}

/// `name TTL class type data`, with data in presentation form.
pub fn present(r: &Record) -> String {
    format!(
        "{} {} {} {} {}",
        r.name(),
        r.ttl(),
        r.dns_class(),
        r.record_type(),
        rdata_text(r.data())
    )
}

/// RDATA in master-file form, names in lower case with the final dot, so
/// that it compares with a scenario's table.
pub fn rdata_text(d: &RData) -> String {
    let name = |n: &hickory_proto::rr::Name| n.to_ascii().to_ascii_lowercase();
    match d {
        RData::A(a) => a.0.to_string(),
        RData::AAAA(a) => a.0.to_string(),
        RData::NS(n) => name(&n.0),
        RData::CNAME(n) => name(&n.0),
        RData::PTR(n) => name(&n.0),
        RData::MX(mx) => format!("{} {}", mx.preference(), name(mx.exchange())),
        RData::SRV(srv) => format!(
            "{} {} {} {}",
            srv.priority(),
            srv.weight(),
            srv.port(),
            name(srv.target())
        ),
        RData::TXT(t) => t
            .iter()
            .map(|s| format!("\"{}\"", String::from_utf8_lossy(s)))
            .collect::<Vec<_>>()
            .join(" "),
        RData::SOA(soa) => format!(
            "{} {} {} {} {} {} {}",
            name(soa.mname()),
            name(soa.rname()),
            soa.serial(),
            soa.refresh(),
            soa.retry(),
            soa.expire(),
            soa.minimum()
        ),
        other => other.to_string(),
    }
}

pub fn rcode_name(code: u16) -> String {
    match code {
        0 => "NOERROR".into(),
        1 => "FORMERR".into(),
        2 => "SERVFAIL".into(),
        3 => "NXDOMAIN".into(),
        4 => "NOTIMP".into(),
        5 => "REFUSED".into(),
        16 => "BADVERS".into(),
        n => n.to_string(),
    }
}

pub fn rcode_from_name(s: &str) -> Option<u16> {
    (0..=23u16).find(|c| rcode_name(*c).eq_ignore_ascii_case(s))
}

/// A record type by mnemonic (`A`, `MX`, …) or number (`TYPE65280` / `65280`).
pub fn type_from_name(s: &str) -> Option<u16> {
    let upper = s.to_ascii_uppercase();
    if let Some(n) = upper.strip_prefix("TYPE").and_then(|n| n.parse().ok()) {
        return Some(n);
    }
    if let Ok(n) = upper.parse() {
        return Some(n);
    }
    upper.parse::<RecordType>().ok().map(u16::from)
}

/// One resource record as found on the wire, by the harness's own walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawRecord {
    /// 1 answer, 2 authority, 3 additional.
    pub section: u8,
    pub rtype: u16,
    pub class: u16,
    pub ttl: u32,
}

/// What walking a message's sections found: every compression pointer (where,
/// to where), every record, and where the last section ends.
pub struct Walk {
    pub pointers: Vec<(usize, usize)>,
    pub records: Vec<RawRecord>,
    /// Where the question section ends (the answer section begins).
    pub question_end: usize,
    pub end: usize,
}

/// Every compression pointer of a message, as (where, to where), and where
/// the last section ends, walking
/// the names of all sections independently of any library. An error says
/// where the message is broken (a pointer loop, forward pointer, or a name
/// running past the end).
pub fn compression_pointers(msg: &[u8]) -> Result<(Vec<(usize, usize)>, usize), String> {
    walk(msg).map(|w| (w.pointers, w.end))
}

/// Walks header, question and records with bounds on every read: the counts
/// come from the peer, so each record must be there before it is counted.
pub fn walk(msg: &[u8]) -> Result<Walk, String> {
    let h = RawHeader::read(msg).ok_or("shorter than a header")?;
    let mut at = HEADER_LEN;
    let mut pointers = vec![];
    let mut records = vec![];
    let name = |at: &mut usize, pointers: &mut Vec<(usize, usize)>| -> Result<(), String> {
        let mut pos = *at;
        let mut jumped = false;
        let mut hops = 0;
        // RFC 1035 §2.3.4: a name is 255 octets or less.
        let mut octets = 0usize;
        loop {
            let len = *msg
                .get(pos)
                .ok_or(format!("a name at octet {pos} runs past the end"))?
                as usize;
            if len == 0 {
                if !jumped {
                    *at = pos + 1;
                }
                return Ok(());
            }
            if len & 0xc0 == 0xc0 {
                let target =
                    (len & 0x3f) << 8 | *msg.get(pos + 1).ok_or("a pointer cut off")? as usize;
                if target >= pos {
                    return Err(format!(
                        "the pointer at octet {pos} points forward to {target}"
                    ));
                }
                hops += 1;
                if hops > 127 {
                    return Err("a chain of more than 127 pointers".into());
                }
                pointers.push((pos, target));
                if !jumped {
                    *at = pos + 2;
                }
                jumped = true;
                pos = target;
                continue;
            }
            if len & 0xc0 != 0 {
                return Err(format!("reserved label type 0x{len:02x} at octet {pos}"));
            }
            octets += 1 + len;
            if octets > 255 {
                return Err(format!(
                    "the name at octet {} is longer than 255 octets (RFC 1035 §2.3.4)",
                    *at
                ));
            }
            pos += 1 + len;
        }
    };
    for _ in 0..h.counts[0] {
        name(&mut at, &mut pointers)?;
        at += 4;
        if at > msg.len() {
            return Err("a question cut off".into());
        }
    }
    let question_end = at;
    for (section, count) in h.counts[1..].iter().enumerate() {
        for _ in 0..*count {
            name(&mut at, &mut pointers)?;
            let fixed = msg.get(at..at + 10).ok_or("a record cut off")?;
            let word = |i: usize| u16::from_be_bytes([fixed[i], fixed[i + 1]]);
            let rtype = word(0);
            let rdlen = word(8) as usize;
            records.push(RawRecord {
                section: section as u8 + 1,
                rtype,
                class: word(2),
                ttl: u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
            });
            let start = at + 10;
            if start + rdlen > msg.len() {
                return Err(format!("RDATA at octet {start} runs past the end"));
            }
            // Names inside the RDATA of the RFC 1035 types may be compressed.
            let mut p = start;
            match rtype {
                2 | 5 | 12 => name(&mut p, &mut pointers)?,
                15 => {
                    p += 2;
                    name(&mut p, &mut pointers)?
                }
                6 => {
                    name(&mut p, &mut pointers)?;
                    name(&mut p, &mut pointers)?
                }
                _ => {}
            }
            at = start + rdlen;
        }
    }
    Ok(Walk {
        pointers,
        records,
        question_end,
        end: at,
    })
}

/// The response's RCODE as the harness reads it, independently of any
/// decoder: the header's four bits, extended by the upper eight bits in the
/// TTL of the OPT record (RFC 6891 §6.1.3). A message that repeats the query's
/// two OPT records (a FORMERR that echoes them) is judged by its header if
/// the OPT records agree; a message whose sections cannot be walked has no
/// RCODE to judge.
pub fn response_rcode(msg: &[u8]) -> Result<u16, String> {
    let h = RawHeader::read(msg).ok_or("shorter than a DNS header")?;
    let w = walk(msg)?;
    let mut ext = w
        .records
        .iter()
        .filter(|r| r.section == 3 && r.rtype == 41)
        .map(|r| (r.ttl >> 24) as u16);
    let first = ext.next();
    if let Some(e) = first {
        if ext.any(|other| other != e) {
            return Err("its OPT records give different extended RCODEs".into());
        }
    }
    Ok(first.unwrap_or(0) << 4 | h.rcode as u16)
}

/// Largest DNS message over TCP: the length prefix is two octets.
pub const TCP_MAX: usize = 65_535;

/// Sends one message with its two-octet length prefix (RFC 1035 §4.2.2).
pub async fn send_tcp(conn: &mut Conn, msg: &[u8]) -> Result<(), WireError> {
    let mut framed = Vec::with_capacity(msg.len() + 2);
    framed.extend_from_slice(&(msg.len().min(TCP_MAX) as u16).to_be_bytes());
    framed.extend_from_slice(msg);
    conn.send(&framed).await
}

/// Reads one length-prefixed message; the length bounds the read.
pub async fn read_tcp(conn: &mut Conn) -> Result<Vec<u8>, WireError> {
    let len = conn
        .read_exact(2, "the two-octet length of a DNS response")
        .await?;
    let len = u16::from_be_bytes([len[0], len[1]]) as usize;
    conn.read_exact(len, "a DNS response over TCP").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_walk_rejects_loops_and_cuts() {
        // Header with one answer whose owner points at itself.
        let mut m = vec![0, 1, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0xc0, 12];
        assert!(compression_pointers(&m).is_err());
        m.truncate(13);
        assert!(compression_pointers(&m).is_err());
        assert!(compression_pointers(&[1, 2, 3]).is_err());
    }

    #[test]
    fn encodes_queries_with_case_and_bad_labels() {
        let q = QuerySpec::new(7, "WwW.Example.test", 1).encode().unwrap();
        assert_eq!(&q[12..17], b"\x03WwW\x07");
        assert_eq!(question_bytes(&q).unwrap().len(), q.len() - 12);
        let long = format!("{}.test", "a".repeat(64));
        assert_eq!(encode_name(&long).unwrap()[0], 64);
        // A FORMERR echoing two OPT records, as unbound sends it; BADVERS
        // in the OPT's extended RCODE; OPTs that disagree; a cut record.
        let mut q = QuerySpec::new(9, "www.example.test", 1);
        q.edns = Some(EdnsSpec {
            payload: 1232,
            ..EdnsSpec::default()
        });
        q.extra_opts = 1;
        let mut r = q.encode().unwrap();
        r[2] |= 0x80;
        r[3] = 1;
        assert_eq!(response_rcode(&r), Ok(1));
        let opt_ttl = r.len() - 6;
        r[opt_ttl] = 1;
        assert!(response_rcode(&r).is_err());
        r[opt_ttl - 11] = 1;
        r[3] = 0;
        assert_eq!(response_rcode(&r), Ok(16));
        r.truncate(r.len() - 3);
        assert!(response_rcode(&r).unwrap_err().contains("cut off"));
        assert!(Response::decode(vec![1, 2], "udp")
            .describe()
            .contains("shorter"));
    }
}
