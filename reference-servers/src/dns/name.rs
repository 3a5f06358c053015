//! Domain names (RFC 1035 §3.1): a sequence of labels of at most 63 octets,
//! at most 255 octets in all on the wire. Case is kept as received, so that a
//! question is echoed exactly; comparisons ignore ASCII case (RFC 4343).

use std::fmt;

/// Longest label (RFC 1035 §2.3.4).
pub const MAX_LABEL: usize = 63;
/// Longest name on the wire, length octets and root included (RFC 1035 §2.3.4).
pub const MAX_NAME: usize = 255;

#[derive(Clone, Debug, Default)]
pub struct Name {
    labels: Vec<Vec<u8>>,
}

/// A name folded to lower case, for maps and comparisons.
pub type Key = Vec<Vec<u8>>;

impl Name {
    pub fn root() -> Self {
        Name { labels: vec![] }
    }

    /// Builds a name from labels; fails if a label or the whole is too long.
    pub fn from_labels(labels: Vec<Vec<u8>>) -> Option<Self> {
        let name = Name { labels };
        let ok = name
            .labels
            .iter()
            .all(|l| !l.is_empty() && l.len() <= MAX_LABEL)
            && name.wire_len() <= MAX_NAME;
        ok.then_some(name)
    }

    pub fn labels(&self) -> &[Vec<u8>] {
        &self.labels
    }

    /// Octets this name takes uncompressed: a length octet per label plus the
    /// root's zero octet.
    pub fn wire_len(&self) -> usize {
        self.labels.iter().map(|l| l.len() + 1).sum::<usize>() + 1
    }

    pub fn key(&self) -> Key {
        self.labels.iter().map(|l| l.to_ascii_lowercase()).collect()
    }

    pub fn same(&self, other: &Name) -> bool {
        self.labels.len() == other.labels.len()
            && self
                .labels
                .iter()
                .zip(&other.labels)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    }

    /// The same name, octet for octet (case included): how a resolver that
    /// randomised the case of its question checks the echo.
    pub fn identical(&self, other: &Name) -> bool {
        self.labels == other.labels
    }

    /// The same name with each letter's case taken from one random bit (the
    /// 0x20 bit of the octet); other octets are kept.
    pub fn with_random_case(&self, mut random: impl FnMut() -> u64) -> Name {
        let mut bits = 0u64;
        let mut left = 0;
        let labels = self
            .labels
            .iter()
            .map(|l| {
                l.iter()
                    .map(|&b| {
                        if !b.is_ascii_alphabetic() {
                            return b;
                        }
                        if left == 0 {
                            bits = random();
                            left = 64;
                        }
                        left -= 1;
                        let upper = bits & 1 == 1;
                        bits >>= 1;
                        if upper {
                            b.to_ascii_uppercase()
                        } else {
                            b.to_ascii_lowercase()
                        }
                    })
                    .collect()
            })
            .collect();
        Name { labels }
    }

    /// True when `self` is `zone` or lies below it.
    pub fn is_at_or_below(&self, zone: &Name) -> bool {
        let n = zone.labels.len();
        self.labels.len() >= n && self.suffix(n).same(zone)
    }

    /// The last `n` labels: `suffix(2)` of `a.b.c.` is `b.c.`.
    pub fn suffix(&self, n: usize) -> Name {
        let n = n.min(self.labels.len());
        Name {
            labels: self.labels[self.labels.len() - n..].to_vec(),
        }
    }

    pub fn label_count(&self) -> usize {
        self.labels.len()
    }

    /// `*.` prepended (RFC 1034 §4.3.3), if the result is not too long.
    pub fn wildcard_child(&self) -> Option<Name> {
        let mut labels = vec![b"*".to_vec()];
        labels.extend(self.labels.iter().cloned());
        Name::from_labels(labels)
    }

    pub fn is_wildcard(&self) -> bool {
        self.labels.first().map(|l| l.as_slice()) == Some(b"*")
    }

    /// Parses presentation form relative to `origin` (RFC 1035 §5.1): `@` is
    /// the origin, a name ending in `.` is absolute, others are relative.
    /// `\.` and `\DDD` escapes are understood.
    pub fn parse(text: &str, origin: &Name) -> Option<Name> {
        if text == "@" {
            return Some(origin.clone());
        }
        if text == "." {
            return Some(Name::root());
        }
        let bytes = text.as_bytes();
        let mut labels = Vec::new();
        let mut label = Vec::new();
        let mut absolute = false;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => {
                    let digits = bytes
                        .get(i + 1..i + 4)
                        .filter(|d| d.iter().all(u8::is_ascii_digit));
                    if let Some(d) = digits {
                        let v: u32 = std::str::from_utf8(d).ok()?.parse().ok()?;
                        label.push(u8::try_from(v).ok()?);
                        i += 4;
                    } else {
                        label.push(*bytes.get(i + 1)?);
                        i += 2;
                    }
                    continue;
                }
                b'.' => {
                    if label.is_empty() {
                        return None;
                    }
                    labels.push(std::mem::take(&mut label));
                    if i + 1 == bytes.len() {
                        absolute = true;
                    }
                }
                b => label.push(b),
            }
            i += 1;
        }
        if !label.is_empty() {
            labels.push(label);
        }
        if !absolute {
            labels.extend(origin.labels.iter().cloned());
        }
        Name::from_labels(labels)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.labels.is_empty() {
            return f.write_str(".");
        }
        for l in &self.labels {
            for &b in l {
                match b {
                    b'.' | b'\\' => write!(f, "\\{}", b as char)?,
                    0x21..=0x7e => write!(f, "{}", b as char)?,
                    _ => write!(f, "\\{b:03}")?,
                }
            }
            f.write_str(".")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_relative_absolute_and_escapes() {
        let origin = Name::parse("example.test.", &Name::root()).unwrap();
        assert_eq!(
            Name::parse("www", &origin).unwrap().to_string(),
            "www.example.test."
        );
        assert_eq!(
            Name::parse("@", &origin).unwrap().to_string(),
            "example.test."
        );
        assert_eq!(Name::parse("a\\.b.c.", &origin).unwrap().label_count(), 2);
        assert!(Name::parse("a..b", &origin).is_none());
        assert!(Name::parse(&"x".repeat(64), &origin).is_none());
        assert!(Name::parse("WWW.Example.TEST.", &origin)
            .unwrap()
            .same(&Name::parse("www", &origin).unwrap()));
    }

    #[test]
    fn random_case_changes_letters_only() {
        let n = Name::parse("www-1.example.test.", &Name::root()).unwrap();
        let mixed = n.with_random_case(|| 0b1010_1010_1010_1010);
        assert_eq!(mixed.to_string(), "wWw-1.ExAmPlE.tEsT.");
        assert!(mixed.same(&n) && !mixed.identical(&n));
        assert!(n.with_random_case(|| 0).identical(&n));
    }
}
