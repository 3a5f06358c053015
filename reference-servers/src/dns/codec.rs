//! The DNS message format (RFC 1035 \xc2\xa74.1): reading queries and writing
//! responses, with name compression (\xc2\xa74.1.4) and a size limit that sets TC.
//!
//! ```text
//!  0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15
//! |                      ID                       |
//! |QR|   Opcode  |AA|TC|RD|RA|   Z    |   RCODE   |
//! |QDCOUNT|ANCOUNT|NSCOUNT|ARCOUNT (16 bits each) |
//! ```

use std::collections::HashMap;

use super::name::{Key, Name, MAX_LABEL, MAX_NAME};
use super::record::{RData, Record, TYPE_OPT};

/// Length of the fixed header (RFC 1035 \xc2\xa74.1.1).
pub const HEADER_LEN: usize = 12;

pub mod rcode {
    pub const NOERROR: u8 = 0;
    pub const FORMERR: u8 = 1;
    pub const SERVFAIL: u8 = 2;
    pub const NXDOMAIN: u8 = 3;
    pub const NOTIMP: u8 = 4;
    pub const REFUSED: u8 = 5;
    /// Extended RCODE 16 (RFC 6891 \xc2\xa76.1.3): its upper 8 bits travel in the OPT TTL.
    pub const BADVERS: u16 = 16;
}

#[derive(Clone, Debug, Default)]
pub struct Header {
    pub id: u16,
    pub qr: bool,
    pub opcode: u8,
    pub aa: bool,
    pub tc: bool,
    pub rd: bool,
    pub ra: bool,
    /// The Z bit and the AD/CD bits (RFC 4035); kept only to read them.
    pub z: u8,
    pub rcode: u8,
    pub qdcount: u16,
    pub ancount: u16,
    pub nscount: u16,
    pub arcount: u16,
}

impl Header {
    pub fn read(b: &[u8]) -> Option<Header> {
        let w = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        if b.len() < HEADER_LEN {
            return None;
        }
        Some(Header {
            id: w(0),
            qr: b[2] & 0x80 != 0,
            opcode: (b[2] >> 3) & 0x0f,
            aa: b[2] & 0x04 != 0,
            tc: b[2] & 0x02 != 0,
            rd: b[2] & 0x01 != 0,
            ra: b[3] & 0x80 != 0,
            z: (b[3] >> 4) & 0x07,
            rcode: b[3] & 0x0f,
            qdcount: w(4),
            ancount: w(6),
            nscount: w(8),
            arcount: w(10),
        })
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.id.to_be_bytes());
        out.push(
            (self.qr as u8) << 7
                | (self.opcode & 0x0f) << 3
                | (self.aa as u8) << 2
                | (self.tc as u8) << 1
                | self.rd as u8,
        );
        out.push((self.ra as u8) << 7 | (self.rcode & 0x0f));
        for c in [self.qdcount, self.ancount, self.nscount, self.arcount] {
            out.extend_from_slice(&c.to_be_bytes());
        }
    }
}

#[derive(Clone, Debug)]
pub struct Question {
    pub name: Name,
    pub qtype: u16,
    pub qclass: u16,
}

/// The EDNS(0) OPT pseudo-record of a query (RFC 6891 \xc2\xa76.1.2).
#[derive(Clone, Debug)]
pub struct Edns {
    pub payload: u16,
    pub version: u8,
    pub dnssec_ok: bool,
}

#[derive(Clone, Debug)]
pub struct Query {
    pub header: Header,
    pub question: Question,
    pub edns: Option<Edns>,
}

/// Why a query cannot be answered normally.
#[derive(Debug)]
pub enum Malformed {
    /// Too short for a header, or a response: not answered at all.
    Drop,
    /// Answered with this RCODE; the question is echoed when it parsed.
    Reply(Header, Option<Question>, u8),
}

/// A cursor over a received message; every read is bounds-checked.
struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn u8(&mut self) -> Option<u8> {
        let v = *self.msg.get(self.pos)?;
        self.pos += 1;
        Some(v)
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes([self.u8()?, self.u8()?]))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes([
            self.u8()?,
            self.u8()?,
            self.u8()?,
            self.u8()?,
        ]))
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        (self.pos + n <= self.msg.len()).then(|| self.pos += n)
    }

    /// Reads a possibly compressed name (RFC 1035 \xc2\xa74.1.4). A pointer must
    /// point backwards, before the label that holds it, so a chain of
    /// pointers always ends: no loops.
    fn name(&mut self) -> Option<Name> {
        let mut labels = Vec::new();
        let mut at = self.pos;
        let mut end = None;
        let mut total = 1;
        loop {
            let len = *self.msg.get(at)? as usize;
            match len & 0xc0 {
                0x00 if len == 0 => break,
                0x00 => {
                    let label = self.msg.get(at + 1..at + 1 + len)?;
                    total += len + 1;
                    if len > MAX_LABEL || total > MAX_NAME {
                        return None;
                    }
                    labels.push(label.to_vec());
                    at += len + 1;
                }
                0xc0 => {
                    let target = (len & 0x3f) << 8 | *self.msg.get(at + 1)? as usize;
                    if target >= at {
                        return None;
                    }
                    end.get_or_insert(at + 2);
                    at = target;
                }
                // 0x40 and 0x80 are reserved label types (RFC 6891 \xc2\xa75).
                _ => return None,
            }
        }
        self.pos = end.unwrap_or(at + 1);
        Name::from_labels(labels)
    }
}

/// Parses a query (RFC 1035 \xc2\xa74.1). Exactly one question; no answer or
/// authority records; at most one OPT (RFC 6891 \xc2\xa76.1.1).
pub fn parse_query(msg: &[u8]) -> Result<Query, Malformed> {
    let header = Header::read(msg).ok_or(Malformed::Drop)?;
    if header.qr {
        return Err(Malformed::Drop);
    }
    let mut r = Reader {
        msg,
        pos: HEADER_LEN,
    };
    let question = if header.qdcount >= 1 {
        read_question(&mut r)
    } else {
        None
    };
    let formerr = |q: Option<Question>| Malformed::Reply(header.clone(), q, rcode::FORMERR);
    // RFC 1035 \xc2\xa74.1.1: only the standard query is implemented here.
    if header.opcode != 0 {
        return Err(Malformed::Reply(header.clone(), question, rcode::NOTIMP));
    }
    let Some(question) = question else {
        return Err(formerr(None));
    };
    if header.qdcount != 1 || header.ancount != 0 || header.nscount != 0 {
        return Err(formerr(Some(question)));
    }
    let mut edns = None;
    for _ in 0..header.arcount {
        match read_opt(&mut r) {
            Some(Some(e)) if edns.is_none() => edns = Some(e),
            Some(None) => {}
            _ => return Err(formerr(Some(question))),
        }
    }
    if r.pos != msg.len() {
        return Err(formerr(Some(question)));
    }
    Ok(Query {
        header,
        question,
        edns,
    })
}

fn read_question(r: &mut Reader) -> Option<Question> {
    Some(Question {
        name: r.name()?,
        qtype: r.u16()?,
        qclass: r.u16()?,
    })
}

/// Reads one additional record: `Some(Some(opt))` for an OPT, `Some(None)`
/// for another type (ignored), `None` when malformed (an OPT whose owner is
/// not the root is malformed, RFC 6891 \xc2\xa76.1.2).
fn read_opt(r: &mut Reader) -> Option<Option<Edns>> {
    let start = r.pos;
    let owner = r.name()?;
    let rtype = r.u16()?;
    let class = r.u16()?;
    let ttl = r.u32()?;
    let rdlen = r.u16()? as usize;
    r.skip(rdlen)?;
    if rtype != TYPE_OPT {
        // Not used, but read as a record all the same: RDATA that cannot be
        // what its type says (an NS whose RDATA holds no domain name, RFC
        // 1035 §3.3.11) is a query the server cannot interpret (§4.1.1:
        // FORMERR), not one to answer as if it were whole.
        r.pos = start;
        read_record(r)?;
        return Some(None);
    }
    if owner.label_count() != 0 {
        return None;
    }
    Some(Some(Edns {
        payload: class,
        version: (ttl >> 16) as u8,
        dnssec_ok: ttl & 0x8000 != 0,
    }))
}

/// A response as a resolver reads it (RFC 1035 §4.1): the header, the
/// question, and the records of each section whose types this crate knows
/// (others, and the OPT record, are skipped). `None` when it is malformed.
#[derive(Clone, Debug)]
pub struct Response {
    pub header: Header,
    pub question: Option<Question>,
    pub answer: Vec<Record>,
    pub authority: Vec<Record>,
    pub additional: Vec<Record>,
}

pub fn parse_response(msg: &[u8]) -> Option<Response> {
    let header = Header::read(msg)?;
    let mut r = Reader {
        msg,
        pos: HEADER_LEN,
    };
    let mut question = None;
    for _ in 0..header.qdcount {
        question = Some(read_question(&mut r)?);
    }
    let mut sections: [Vec<Record>; 3] = Default::default();
    for (i, count) in [header.ancount, header.nscount, header.arcount]
        .into_iter()
        .enumerate()
    {
        for _ in 0..count {
            if let Some(rec) = read_record(&mut r)? {
                sections[i].push(rec);
            }
        }
    }
    let [answer, authority, additional] = sections;
    Some(Response {
        header,
        question,
        answer,
        authority,
        additional,
    })
}

/// One record: `Some(None)` for a type this crate does not hold.
fn read_record(r: &mut Reader) -> Option<Option<Record>> {
    let name = r.name()?;
    let rtype = r.u16()?;
    let class = r.u16()?;
    let ttl = r.u32()?;
    let rdlen = r.u16()? as usize;
    let end = r.pos + rdlen;
    if end > r.msg.len() {
        return None;
    }
    let data = match rtype {
        super::record::TYPE_A => RData::A(r.msg.get(r.pos..end)?.try_into().ok()?),
        super::record::TYPE_AAAA => RData::Aaaa(r.msg.get(r.pos..end)?.try_into().ok()?),
        super::record::TYPE_NS => RData::Ns(r.name()?),
        super::record::TYPE_CNAME => RData::Cname(r.name()?),
        super::record::TYPE_PTR => RData::Ptr(r.name()?),
        super::record::TYPE_MX => RData::Mx(r.u16()?, r.name()?),
        super::record::TYPE_TXT => {
            let mut strings = Vec::new();
            while r.pos < end {
                let n = r.u8()? as usize;
                strings.push(r.msg.get(r.pos..r.pos + n)?.to_vec());
                r.skip(n)?;
            }
            RData::Txt(strings)
        }
        super::record::TYPE_SOA => RData::Soa(super::record::Soa {
            mname: r.name()?,
            rname: r.name()?,
            serial: r.u32()?,
            refresh: r.u32()?,
            retry: r.u32()?,
            expire: r.u32()?,
            minimum: r.u32()?,
        }),
        _ => {
            r.pos = end;
            return Some(None);
        }
    };
    // The RDATA must be exactly as long as its length says.
    if r.pos > end {
        return None;
    }
    r.pos = end;
    Some(Some(Record {
        name,
        class,
        ttl,
        data,
    }))
}

/// Which section a record goes in.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Answer,
    Authority,
    Additional,
}

/// Writes a response no longer than `limit` octets. Records that do not fit
/// are left out; if one of the answer or authority section is left out, TC is
/// set (RFC 2181 \xc2\xa79: missing additional data does not set TC).
pub struct Writer {
    buf: Vec<u8>,
    header: Header,
    limit: usize,
    /// Names already written, by their lower-cased suffix, for compression.
    names: HashMap<Key, usize>,
    /// Octets kept free for the OPT record written last.
    reserve: usize,
    full: bool,
}

impl Writer {
    pub fn new(mut header: Header, question: Option<&Question>, limit: usize) -> Self {
        header.qdcount = question.is_some() as u16;
        header.ancount = 0;
        header.nscount = 0;
        header.arcount = 0;
        let mut w = Writer {
            buf: vec![0; HEADER_LEN],
            header,
            limit,
            names: HashMap::new(),
            reserve: 0,
            full: false,
        };
        if let Some(q) = question {
            // The question is the query's, name case included (it is written
            // first, so it is never compressed).
            w.name(&q.name);
            w.buf.extend_from_slice(&q.qtype.to_be_bytes());
            w.buf.extend_from_slice(&q.qclass.to_be_bytes());
        }
        w
    }

    /// Keeps room for an OPT record (11 octets with no options).
    pub fn reserve_opt(&mut self) {
        self.reserve = 11;
    }

    pub fn header_mut(&mut self) -> &mut Header {
        &mut self.header
    }

    /// Writes a name, pointing at an earlier copy of its longest known suffix.
    fn name(&mut self, name: &Name) {
        let key = name.key();
        for i in 0..key.len() {
            if let Some(&at) = self.names.get(&key[i..]) {
                self.buf
                    .extend_from_slice(&(0xc000 | at as u16).to_be_bytes());
                return;
            }
            if self.buf.len() < 0x3fff {
                self.names.insert(key[i..].to_vec(), self.buf.len());
            }
            let label = &name.labels()[i];
            self.buf.push(label.len() as u8);
            self.buf.extend_from_slice(label);
        }
        self.buf.push(0);
    }

    /// Adds a record unless it does not fit; returns whether it was added.
    pub fn add(&mut self, section: Section, rec: &Record) -> bool {
        if self.full {
            return false;
        }
        let mark = self.buf.len();
        self.name(&rec.name);
        self.buf.extend_from_slice(&rec.data.rtype().to_be_bytes());
        self.buf.extend_from_slice(&rec.class.to_be_bytes());
        self.buf.extend_from_slice(&rec.ttl.to_be_bytes());
        let len_at = self.buf.len();
        self.buf.extend_from_slice(&[0, 0]);
        self.rdata(&rec.data);
        let rdlen = self.buf.len() - len_at - 2;
        if self.buf.len() + self.reserve > self.limit || rdlen > 0xffff {
            self.buf.truncate(mark);
            self.names.retain(|_, at| *at < mark);
            if section != Section::Additional {
                self.header.tc = true;
                self.full = true;
            }
            return false;
        }
        self.buf[len_at..len_at + 2].copy_from_slice(&(rdlen as u16).to_be_bytes());
        let count = match section {
            Section::Answer => &mut self.header.ancount,
            Section::Authority => &mut self.header.nscount,
            Section::Additional => &mut self.header.arcount,
        };
        *count += 1;
        true
    }

    /// RDATA (RFC 1035 \xc2\xa73.3, RFC 3596 \xc2\xa72.2, RFC 2782). Names in the RDATA of
    /// the RFC 1035 types may be compressed; the SRV target must not be.
    fn rdata(&mut self, data: &RData) {
        match data {
            RData::A(a) => self.buf.extend_from_slice(a),
            RData::Aaaa(a) => self.buf.extend_from_slice(a),
            RData::Ns(n) | RData::Cname(n) | RData::Ptr(n) => self.name(n),
            RData::Mx(pref, n) => {
                self.buf.extend_from_slice(&pref.to_be_bytes());
                self.name(n);
            }
            RData::Txt(strings) => {
                for s in strings {
                    self.buf.push(s.len() as u8);
                    self.buf.extend_from_slice(s);
                }
            }
            RData::Soa(soa) => {
                self.name(&soa.mname);
                self.name(&soa.rname);
                for v in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] {
                    self.buf.extend_from_slice(&v.to_be_bytes());
                }
            }
            RData::Srv(srv) => {
                for v in [srv.priority, srv.weight, srv.port] {
                    self.buf.extend_from_slice(&v.to_be_bytes());
                }
                for l in srv.target.labels() {
                    self.buf.push(l.len() as u8);
                    self.buf.extend_from_slice(l);
                }
                self.buf.push(0);
            }
        }
    }

    /// Ends the message with an OPT record (RFC 6891 \xc2\xa76.1.2) when asked for.
    pub fn finish(mut self, opt: Option<Opt>) -> Vec<u8> {
        if let Some(opt) = opt {
            self.buf.push(0); // owner: the root
            self.buf.extend_from_slice(&TYPE_OPT.to_be_bytes());
            self.buf.extend_from_slice(&opt.payload.to_be_bytes());
            let ttl = (opt.ext_rcode as u32) << 24 | (opt.dnssec_ok as u32) << 15;
            self.buf.extend_from_slice(&ttl.to_be_bytes());
            self.buf.extend_from_slice(&[0, 0]);
            self.header.arcount += 1;
        }
        let mut head = Vec::with_capacity(HEADER_LEN);
        self.header.write(&mut head);
        self.buf[..HEADER_LEN].copy_from_slice(&head);
        self.buf
    }
}

/// The OPT record of a response.
pub struct Opt {
    /// The largest UDP payload this server reassembles.
    pub payload: u16,
    /// The upper 8 bits of the 12-bit extended RCODE.
    pub ext_rcode: u8,
    pub dnssec_ok: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &[u8]) -> Vec<u8> {
        let mut q = vec![0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        q.extend_from_slice(name);
        q.extend_from_slice(&[0, 1, 0, 1]);
        q
    }

    #[test]
    fn reads_a_query_and_keeps_case() {
        let q = parse_query(&query(b"\x03WwW\x07example\x04test\x00")).unwrap();
        assert_eq!(q.header.id, 0x1234);
        assert!(q.header.rd);
        assert_eq!(q.question.name.to_string(), "WwW.example.test.");
    }

    #[test]
    fn rejects_pointer_loops_and_truncation() {
        // A pointer to itself, a forward pointer, a label running off the end.
        for bad in [&b"\xc0\x0c"[..], b"\xc0\x20", b"\x05ab"] {
            assert!(
                matches!(parse_query(&query(bad)), Err(Malformed::Reply(_, None, 1))),
                "{bad:?}"
            );
        }
        assert!(matches!(parse_query(&[0u8; 5]), Err(Malformed::Drop)));
    }

    #[test]
    fn compresses_repeated_names_and_truncates_with_tc() {
        let q = parse_query(&query(b"\x03www\x07example\x04test\x00")).unwrap();
        let mut w = Writer::new(q.header.clone(), Some(&q.question), 80);
        let rec = Record {
            name: q.question.name.clone(),
            class: 1,
            ttl: 300,
            data: RData::A([192, 0, 2, 1]),
        };
        assert!(w.add(Section::Answer, &rec));
        assert!(w.add(Section::Answer, &rec));
        assert!(!w.add(Section::Answer, &rec) || !w.add(Section::Answer, &rec));
        let out = w.finish(None);
        assert!(out.len() <= 80);
        assert_eq!(&out[34..36], &[0xc0, 0x0c]); // owner points at the question
        assert_eq!(out[2] & 0x02, 0x02, "TC set");
    }
}
