//! Resource records (RFC 1035 §3.2, §3.3; RFC 3596; RFC 2782) and the types
//! this server knows.

use super::name::Name;

pub const TYPE_A: u16 = 1;
pub const TYPE_NS: u16 = 2;
pub const TYPE_CNAME: u16 = 5;
pub const TYPE_SOA: u16 = 6;
pub const TYPE_PTR: u16 = 12;
pub const TYPE_MX: u16 = 15;
pub const TYPE_TXT: u16 = 16;
pub const TYPE_AAAA: u16 = 28;
pub const TYPE_SRV: u16 = 33;
pub const TYPE_DS: u16 = 43;
pub const TYPE_OPT: u16 = 41;
pub const TYPE_IXFR: u16 = 251;
pub const TYPE_AXFR: u16 = 252;
pub const TYPE_ANY: u16 = 255;

pub const CLASS_IN: u16 = 1;
pub const CLASS_ANY: u16 = 255;

#[derive(Clone, Debug)]
pub struct Soa {
    pub mname: Name,
    pub rname: Name,
    pub serial: u32,
    pub refresh: u32,
    pub retry: u32,
    pub expire: u32,
    pub minimum: u32,
}

#[derive(Clone, Debug)]
pub struct Srv {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub target: Name,
}

#[derive(Clone, Debug)]
pub enum RData {
    A([u8; 4]),
    Aaaa([u8; 16]),
    Ns(Name),
    Cname(Name),
    Ptr(Name),
    Mx(u16, Name),
    /// One or more character-strings of at most 255 octets each.
    Txt(Vec<Vec<u8>>),
    Soa(Soa),
    Srv(Srv),
}

impl RData {
    pub fn rtype(&self) -> u16 {
        match self {
            RData::A(_) => TYPE_A,
            RData::Aaaa(_) => TYPE_AAAA,
            RData::Ns(_) => TYPE_NS,
            RData::Cname(_) => TYPE_CNAME,
            RData::Ptr(_) => TYPE_PTR,
            RData::Mx(..) => TYPE_MX,
            RData::Txt(_) => TYPE_TXT,
            RData::Soa(_) => TYPE_SOA,
            RData::Srv(_) => TYPE_SRV,
        }
    }

    /// The name whose addresses belong in the additional section (RFC 1035
    /// §3.3.9, §3.3.11; RFC 2782; RFC 3596 §3).
    pub fn additional_name(&self) -> Option<&Name> {
        match self {
            RData::Ns(n) | RData::Mx(_, n) => Some(n),
            RData::Srv(s) => Some(&s.target),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Record {
    pub name: Name,
    pub class: u16,
    pub ttl: u32,
    pub data: RData,
}

impl Record {
    pub fn rtype(&self) -> u16 {
        self.data.rtype()
    }

    /// The same record under another owner name (wildcard synthesis,
    /// RFC 1034 §4.3.3).
    pub fn with_owner(&self, name: &Name) -> Record {
        Record {
            name: name.clone(),
            ..self.clone()
        }
    }
}

/// The mnemonic of a type this server loads from a master file.
pub fn type_from_name(s: &str) -> Option<u16> {
    Some(match s.to_ascii_uppercase().as_str() {
        "A" => TYPE_A,
        "NS" => TYPE_NS,
        "CNAME" => TYPE_CNAME,
        "SOA" => TYPE_SOA,
        "PTR" => TYPE_PTR,
        "MX" => TYPE_MX,
        "TXT" => TYPE_TXT,
        "AAAA" => TYPE_AAAA,
        "SRV" => TYPE_SRV,
        _ => return None,
    })
}
