//! The argument syntax of commands (RFC 3501 §9 formal syntax): atoms,
//! quoted strings, literals (already read by the codec, kept inline as
//! `{n}` CRLF data), astrings, parenthesised lists and sequence sets.

/// A cursor over one command.
pub struct Args<'a> {
    b: &'a [u8],
    pub i: usize,
}

pub type Parsed<T> = Result<T, String>;

impl<'a> Args<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Args { b, i: 0 }
    }

    pub fn at_end(&self) -> bool {
        self.i >= self.b.len()
    }

    pub fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    pub fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.b.get(self.i + ahead).copied()
    }

    /// Exactly one space (arguments are separated by one SP).
    pub fn space(&mut self) -> Parsed<()> {
        if self.peek() == Some(b' ') {
            self.i += 1;
            Ok(())
        } else {
            Err("a space was expected between arguments".into())
        }
    }

    /// Consumes `c` if it is next.
    pub fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    pub fn end(&self) -> Parsed<()> {
        if self.at_end() {
            Ok(())
        } else {
            Err("unexpected text after the arguments".into())
        }
    }

    /// Characters allowed in an atom (§9 ATOM-CHAR), plus `]` when `brackets`.
    fn atom_char(c: u8, extra: &[u8]) -> bool {
        c > b' ' && c < 0x7f && (!b"(){%*\"\\]".contains(&c) || extra.contains(&c))
    }

    /// An atom; `extra` admits otherwise special characters (`*` `%` in
    /// LIST patterns, `\` in flags, `]` in tags of responses…).
    pub fn atom_with(&mut self, extra: &[u8]) -> Parsed<String> {
        let start = self.i;
        while self.peek().is_some_and(|c| Self::atom_char(c, extra)) {
            self.i += 1;
        }
        if self.i == start {
            return Err("an atom was expected".into());
        }
        Ok(String::from_utf8_lossy(&self.b[start..self.i]).into_owned())
    }

    pub fn atom(&mut self) -> Parsed<String> {
        self.atom_with(b"")
    }

    pub fn number(&mut self) -> Parsed<u32> {
        let a = self.atom()?;
        a.parse()
            .ok()
            .filter(|_| a.bytes().all(|c| c.is_ascii_digit()))
            .ok_or_else(|| format!("\"{a}\" is not a number"))
    }

    /// A quoted string or a literal (§4.3).
    pub fn string(&mut self) -> Parsed<Vec<u8>> {
        match self.peek() {
            Some(b'"') => self.quoted(),
            Some(b'{') => self.literal(),
            _ => Err("a string was expected".into()),
        }
    }

    fn quoted(&mut self) -> Parsed<Vec<u8>> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err("a quoted string is not closed".into()),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    match self.b.get(self.i + 1) {
                        Some(c @ (b'"' | b'\\')) => out.push(*c),
                        _ => return Err("bad escape in a quoted string".into()),
                    }
                    self.i += 2;
                }
                Some(b'\r' | b'\n') => return Err("CR or LF in a quoted string".into()),
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    fn literal(&mut self) -> Parsed<Vec<u8>> {
        let close = self.b[self.i..]
            .iter()
            .position(|c| *c == b'}')
            .ok_or("a literal is not closed")?;
        let n: usize = std::str::from_utf8(&self.b[self.i + 1..self.i + close])
            .ok()
            .and_then(|d| d.parse().ok())
            .ok_or("a literal length is not a number")?;
        self.i += close + 1;
        if self.b.get(self.i..self.i + 2) != Some(b"\r\n") {
            return Err("a literal announcement must end the line".into());
        }
        self.i += 2;
        let data = self
            .b
            .get(self.i..self.i + n)
            .ok_or("a literal is incomplete")?
            .to_vec();
        self.i += n;
        Ok(data)
    }

    /// `astring = 1*ASTRING-CHAR / string` (ASTRING-CHAR admits `]`).
    pub fn astring(&mut self) -> Parsed<Vec<u8>> {
        match self.peek() {
            Some(b'"') | Some(b'{') => self.string(),
            _ => Ok(self.atom_with(b"]")?.into_bytes()),
        }
    }

    pub fn astring_text(&mut self) -> Parsed<String> {
        String::from_utf8(self.astring()?).map_err(|_| "the name is not UTF-8".into())
    }

    /// A mailbox name (§5.1: INBOX is case-insensitive).
    pub fn mailbox(&mut self) -> Parsed<String> {
        let name = self.astring_text()?;
        Ok(if name.eq_ignore_ascii_case("INBOX") {
            "INBOX".into()
        } else {
            name
        })
    }

    /// A LIST pattern: `list-mailbox` admits `%` and `*`.
    pub fn list_mailbox(&mut self) -> Parsed<String> {
        match self.peek() {
            Some(b'"') | Some(b'{') => {
                String::from_utf8(self.string()?).map_err(|_| "the pattern is not UTF-8".into())
            }
            _ => self.atom_with(b"%*]"),
        }
    }

    /// `(a b c)` of atoms, flags allowed (`\Seen`).
    pub fn flag_list(&mut self) -> Parsed<Vec<String>> {
        if !self.eat(b'(') {
            return Err("a parenthesised list was expected".into());
        }
        let mut out = Vec::new();
        while !self.eat(b')') {
            if !out.is_empty() {
                self.space()?;
            }
            out.push(self.atom_with(b"\\")?);
        }
        Ok(out)
    }

    /// Flags as a list, or (STORE) a bare flag sequence.
    pub fn flags(&mut self) -> Parsed<Vec<String>> {
        if self.peek() == Some(b'(') {
            return self.flag_list();
        }
        let mut out = vec![self.atom_with(b"\\")?];
        while self.eat(b' ') {
            out.push(self.atom_with(b"\\")?);
        }
        Ok(out)
    }

    /// A sequence set (`1,3:5,7:*`), unparsed.
    pub fn sequence_set(&mut self) -> Parsed<String> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, b':' | b',' | b'*' | b'$'))
        {
            self.i += 1;
        }
        if self.i == start {
            return Err("a sequence set was expected".into());
        }
        Ok(String::from_utf8_lossy(&self.b[start..self.i]).into_owned())
    }
}

/// A sequence set resolved against a mailbox: `*` is `largest`.
pub fn parse_set(set: &str, largest: u32) -> Parsed<Vec<(u32, u32)>> {
    let mut out = Vec::new();
    for range in set.split(',') {
        let num = |s: &str| -> Parsed<u32> {
            if s == "*" {
                return Ok(largest);
            }
            match s.parse::<u32>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(format!("\"{s}\" is not a message number")),
            }
        };
        let (a, b) = match range.split_once(':') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => (num(range)?, num(range)?),
        };
        out.push((a.min(b), a.max(b)));
    }
    Ok(out)
}

pub fn in_set(set: &[(u32, u32)], n: u32) -> bool {
    set.iter().any(|(a, b)| *a <= n && n <= *b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_lists() {
        let mut a = Args::new(b"\"a \\\"b\" {3}\r\nxyz (\\Seen foo) 1:3,5");
        assert_eq!(a.astring().unwrap(), b"a \"b");
        a.space().unwrap();
        assert_eq!(a.astring().unwrap(), b"xyz");
        a.space().unwrap();
        assert_eq!(a.flag_list().unwrap(), vec!["\\Seen", "foo"]);
        a.space().unwrap();
        assert_eq!(a.sequence_set().unwrap(), "1:3,5");
        a.end().unwrap();
    }

    #[test]
    fn sets() {
        assert_eq!(parse_set("3:1,4:*", 9).unwrap(), vec![(1, 3), (4, 9)]);
        assert!(parse_set("0", 9).is_err());
        assert!(parse_set("a", 9).is_err());
    }
}
