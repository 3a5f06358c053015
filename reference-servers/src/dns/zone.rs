//! Zones loaded from master files (RFC 1035 §5): `$ORIGIN`, `$TTL`
//! (RFC 2308 §4), `@`, relative names, a blank owner meaning the previous
//! one, parentheses across lines, `;` comments and quoted strings.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::name::{Key, Name};
use super::record::*;

/// Largest master file read (the fixture zone is a few kilobytes).
pub const MAX_FILE: usize = 1024 * 1024;

pub struct Zone {
    pub origin: Name,
    pub soa: Record,
    /// Records by owner name (lower-cased), in file order.
    nodes: HashMap<Key, Vec<Record>>,
}

impl Zone {
    /// The records at `name`; empty if there are none.
    pub fn records(&self, name: &Name) -> &[Record] {
        self.nodes
            .get(&name.key())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// True when `name` owns records or has a descendant that does (an
    /// "empty non-terminal" exists too: RFC 1034 §3.1, RFC 8020).
    pub fn exists(&self, name: &Name) -> bool {
        let key = name.key();
        self.nodes
            .keys()
            .any(|k| k.len() >= key.len() && k[k.len() - key.len()..] == key[..])
    }

    /// Parses a master file for the zone at `origin`.
    pub fn parse(text: &str, origin: &Name) -> Result<Zone, String> {
        let mut origin_now = origin.clone();
        let mut default_ttl: Option<u32> = None;
        let mut last_owner: Option<Name> = None;
        let mut nodes: HashMap<Key, Vec<Record>> = HashMap::new();
        for (line_no, entry) in entries(text)? {
            let err = |m: String| format!("line {line_no}: {m}");
            let mut toks = entry.tokens.iter().map(String::as_str).peekable();
            let first = match toks.peek() {
                Some(t) => *t,
                None => continue,
            };
            if first.eq_ignore_ascii_case("$ORIGIN") {
                toks.next();
                let n = toks
                    .next()
                    .ok_or_else(|| err("$ORIGIN needs a name".into()))?;
                origin_now =
                    Name::parse(n, &origin_now).ok_or_else(|| err(format!("bad name {n}")))?;
                continue;
            }
            if first.eq_ignore_ascii_case("$TTL") {
                toks.next();
                let t = toks
                    .next()
                    .ok_or_else(|| err("$TTL needs a value".into()))?;
                default_ttl = Some(parse_ttl(t).ok_or_else(|| err(format!("bad TTL {t}")))?);
                continue;
            }
            if first.starts_with('$') {
                return Err(err(format!("{first} is not supported")));
            }
            let owner = if entry.blank_owner {
                last_owner
                    .clone()
                    .ok_or_else(|| err("no previous owner".into()))?
            } else {
                let t = toks.next().unwrap_or_default();
                Name::parse(t, &origin_now).ok_or_else(|| err(format!("bad owner {t}")))?
            };
            last_owner = Some(owner.clone());
            // [TTL] [class] or [class] [TTL], then the type.
            let mut ttl = None;
            let rtype = loop {
                let t = toks.next().ok_or_else(|| err("missing type".into()))?;
                if t.eq_ignore_ascii_case("IN") {
                    continue;
                }
                if let Some(v) = parse_ttl(t).filter(|_| ttl.is_none()) {
                    ttl = Some(v);
                    continue;
                }
                break type_from_name(t)
                    .ok_or_else(|| err(format!("unknown type or class {t}")))?;
            };
            let rest: Vec<&str> = toks.collect();
            let data = rdata(rtype, &rest, &origin_now)
                .ok_or_else(|| err(format!("bad RDATA: {}", rest.join(" "))))?;
            let ttl = match (ttl, default_ttl, &data) {
                (Some(t), _, _) => t,
                (None, Some(t), _) => t,
                // RFC 1035 §5.1: without $TTL, the SOA MINIMUM is the default.
                (None, None, RData::Soa(s)) => s.minimum,
                (None, None, _) => return Err(err("no TTL and no $TTL".into())),
            };
            if !owner.is_at_or_below(origin) {
                return Err(err(format!("{owner} is outside the zone {origin}")));
            }
            nodes.entry(owner.key()).or_default().push(Record {
                name: owner,
                class: CLASS_IN,
                ttl,
                data,
            });
        }
        let soa = nodes
            .get(&origin.key())
            .and_then(|rs| rs.iter().find(|r| r.rtype() == TYPE_SOA))
            .cloned()
            .ok_or_else(|| format!("zone {origin} has no SOA at its apex"))?;
        Ok(Zone {
            origin: origin.clone(),
            soa,
            nodes,
        })
    }
}

fn parse_ttl(t: &str) -> Option<u32> {
    t.parse::<u32>().ok().filter(|v| *v <= i32::MAX as u32)
}

fn rdata(rtype: u16, f: &[&str], origin: &Name) -> Option<RData> {
    let name = |s: &str| Name::parse(s, origin);
    let n = |s: &str| s.parse::<u32>().ok();
    let n16 = |s: &str| s.parse::<u16>().ok();
    let exactly = |k: usize| (f.len() == k).then_some(());
    Some(match rtype {
        TYPE_A => {
            exactly(1)?;
            RData::A(f[0].parse::<Ipv4Addr>().ok()?.octets())
        }
        TYPE_AAAA => {
            exactly(1)?;
            RData::Aaaa(f[0].parse::<Ipv6Addr>().ok()?.octets())
        }
        TYPE_NS => RData::Ns(exactly(1).and_then(|_| name(f[0]))?),
        TYPE_CNAME => RData::Cname(exactly(1).and_then(|_| name(f[0]))?),
        TYPE_PTR => RData::Ptr(exactly(1).and_then(|_| name(f[0]))?),
        TYPE_MX => {
            exactly(2)?;
            RData::Mx(n16(f[0])?, name(f[1])?)
        }
        TYPE_SRV => {
            exactly(4)?;
            RData::Srv(Srv {
                priority: n16(f[0])?,
                weight: n16(f[1])?,
                port: n16(f[2])?,
                target: name(f[3])?,
            })
        }
        TYPE_SOA => {
            exactly(7)?;
            RData::Soa(Soa {
                mname: name(f[0])?,
                rname: name(f[1])?,
                serial: n(f[2])?,
                refresh: n(f[3])?,
                retry: n(f[4])?,
                expire: n(f[5])?,
                minimum: n(f[6])?,
            })
        }
        TYPE_TXT => {
            let strings: Option<Vec<Vec<u8>>> = f.iter().map(|s| unquote(s)).collect();
            let strings = strings?;
            if strings.is_empty() || strings.iter().any(|s| s.len() > 255) {
                return None;
            }
            RData::Txt(strings)
        }
        _ => return None,
    })
}

/// A character-string token: the quotes kept by the tokenizer are removed and
/// `\X` / `\DDD` escapes resolved (RFC 1035 §5.1).
fn unquote(tok: &str) -> Option<Vec<u8>> {
    let inner = tok
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(tok);
    let b = inner.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            let digits = b
                .get(i + 1..i + 4)
                .filter(|d| d.iter().all(u8::is_ascii_digit));
            if let Some(d) = digits {
                out.push(std::str::from_utf8(d).ok()?.parse::<u8>().ok()?);
                i += 4;
            } else {
                out.push(*b.get(i + 1)?);
                i += 2;
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// One logical entry: its tokens, and whether its line began with blank space.
struct Entry {
    tokens: Vec<String>,
    blank_owner: bool,
}

/// Splits the file into entries, joining lines inside parentheses.
fn entries(text: &str) -> Result<Vec<(usize, Entry)>, String> {
    let mut out = Vec::new();
    let mut current: Option<(usize, Entry)> = None;
    let mut depth = 0usize;
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if depth == 0 {
            if let Some(e) = current.take() {
                out.push(e);
            }
            current = Some((
                line_no,
                Entry {
                    tokens: vec![],
                    blank_owner: line.starts_with([' ', '\t']),
                },
            ));
        }
        let Some((_, entry)) = current.as_mut() else {
            continue;
        };
        let mut chars = line.chars().peekable();
        let mut tok = String::new();
        let mut in_quotes = false;
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    tok.push(c);
                    if let Some(n) = chars.next() {
                        tok.push(n);
                    }
                }
                '"' => {
                    tok.push(c);
                    in_quotes = !in_quotes;
                    if !in_quotes {
                        entry.tokens.push(std::mem::take(&mut tok));
                    }
                }
                _ if in_quotes => tok.push(c),
                ';' => break,
                '(' | ')' | ' ' | '\t' => {
                    if !tok.is_empty() {
                        entry.tokens.push(std::mem::take(&mut tok));
                    }
                    if c == '(' {
                        depth += 1;
                    } else if c == ')' {
                        depth = depth
                            .checked_sub(1)
                            .ok_or(format!("line {line_no}: unbalanced )"))?;
                    }
                }
                _ => tok.push(c),
            }
        }
        if in_quotes {
            return Err(format!("line {line_no}: unterminated quoted string"));
        }
        if !tok.is_empty() {
            entry.tokens.push(tok);
        }
    }
    if depth != 0 {
        return Err("unbalanced ( at end of file".into());
    }
    out.extend(current);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_small_zone() {
        let origin = Name::parse("example.test.", &Name::root()).unwrap();
        let z = Zone::parse(
            "$TTL 300\n@ IN SOA ns1 host ( 1 2 3 4\n  5 ) ; c\n  IN NS ns1\nns1 600 IN A 192.0.2.1\nt TXT \"a b\" \"c\\\"d\"\n",
            &origin,
        )
        .unwrap();
        assert_eq!(z.records(&origin).len(), 2);
        let ns1 = Name::parse("NS1", &origin).unwrap();
        assert_eq!(z.records(&ns1)[0].ttl, 600);
        let t = Name::parse("t", &origin).unwrap();
        match &z.records(&t)[0].data {
            RData::Txt(s) => assert_eq!(s, &vec![b"a b".to_vec(), b"c\"d".to_vec()]),
            other => panic!("{other:?}"),
        }
        assert!(Zone::parse("@ IN A 1.2.3.4", &origin).is_err());
    }
}
