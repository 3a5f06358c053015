//! The data of one IMAP response, as tokens (RFC 3501 §9 / RFC 9051 §9
//! formal syntax, the parts a client reads): atoms, numbers, quoted strings,
//! literals, NIL and parenthesised lists. `BODY[HEADER.FIELDS (FROM)]<0>` is
//! one atom: the section in brackets belongs to it.

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    Atom(String),
    Number(u64),
    Quoted(Vec<u8>),
    Literal(Vec<u8>),
    Nil,
    List(Vec<Token>),
}

impl Token {
    /// The bytes of a string (quoted or literal), an atom or a number.
    pub fn as_bytes(&self) -> Option<Vec<u8>> {
        match self {
            Token::Atom(a) => Some(a.as_bytes().to_vec()),
            Token::Number(n) => Some(n.to_string().into_bytes()),
            Token::Quoted(b) | Token::Literal(b) => Some(b.clone()),
            Token::Nil | Token::List(_) => None,
        }
    }

    pub fn as_text(&self) -> Option<String> {
        self.as_bytes()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    pub fn as_list(&self) -> Option<&[Token]> {
        match self {
            Token::List(l) => Some(l),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<u64> {
        match self {
            Token::Number(n) => Some(*n),
            _ => None,
        }
    }
}

/// One response: `*` (untagged), `+` (continuation) or a tag, then tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub tag: String,
    pub tokens: Vec<Token>,
}

impl Response {
    /// The first token as an upper-case word (`OK`, `FETCH` after a number…).
    pub fn word(&self, i: usize) -> Option<String> {
        match self.tokens.get(i)? {
            Token::Atom(a) => Some(a.to_ascii_uppercase()),
            Token::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// For `* n KIND …` responses (EXISTS, EXPUNGE, FETCH): `(n, KIND)`.
    pub fn numbered(&self) -> Option<(u64, String)> {
        Some((self.tokens.first()?.as_number()?, self.word(1)?))
    }
}

/// The response code of a status response (`* OK [NAME data] text`,
/// `tag NO [NAME] text`; RFC 9051 §7.1): NAME upper-cased and its data as
/// sent (`(\\Seen \\Deleted)`, `3857529045`, or empty).
pub fn response_code(line: &str) -> Option<(String, String)> {
    let (_tag, rest) = line.split_once(' ')?;
    let (status, rest) = rest.split_once(' ')?;
    if !["OK", "NO", "BAD", "BYE", "PREAUTH"]
        .iter()
        .any(|s| status.eq_ignore_ascii_case(s))
    {
        return None;
    }
    let inner = &rest.strip_prefix('[')?[..];
    let inner = &inner[..inner.find(']')?];
    let (name, data) = inner.split_once(' ').unwrap_or((inner, ""));
    Some((name.to_ascii_uppercase(), data.to_string()))
}

/// Parses one response as the reader assembled it: the line, with each
/// literal's `{n}` followed by CRLF and its `n` bytes. Text after a status
/// word (`OK`, `NO`, `BAD`, `BYE`, `PREAUTH`) is free text and is kept as
/// atoms without a syntax check beyond the response code brackets.
pub fn parse_response(bytes: &[u8]) -> Result<Response, String> {
    let mut p = Parser { b: bytes, i: 0 };
    let tag = p.word().ok_or("an empty response")?;
    let mut tokens = Vec::new();
    let mut free_text = false;
    while p.i < p.b.len() {
        if p.b[p.i] == b' ' {
            p.i += 1;
            continue;
        }
        if free_text || tag == "+" {
            // resp-text: the rest is human-readable; keep it word by word.
            let w = p.word().unwrap_or_default();
            tokens.push(Token::Atom(w));
            continue;
        }
        let t = p.token(0)?;
        if tokens.len() <= 1 {
            if let Token::Atom(a) = &t {
                let up = a.to_ascii_uppercase();
                free_text = matches!(up.as_str(), "OK" | "NO" | "BAD" | "BYE" | "PREAUTH");
            }
        }
        tokens.push(t);
        if let Some(c) = p.b.get(p.i).filter(|c| **c != b' ') {
            return Err(format!("unexpected '{}' after a value", char::from(*c)));
        }
    }
    Ok(Response {
        tag: String::from_utf8_lossy(tag.as_bytes()).into_owned(),
        tokens,
    })
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

/// Lists nest this deep at most (BODYSTRUCTURE of deeply nested multiparts).
const MAX_DEPTH: usize = 64;

impl Parser<'_> {
    fn word(&mut self) -> Option<String> {
        let start = self.i;
        while self.i < self.b.len() && self.b[self.i] != b' ' {
            self.i += 1;
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.b[start..self.i]).into_owned())
    }

    fn token(&mut self, depth: usize) -> Result<Token, String> {
        if depth > MAX_DEPTH {
            return Err("lists nested too deeply".into());
        }
        match self.b.get(self.i) {
            None => Err("the response ends where a value was expected".into()),
            Some(b'(') => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    match self.b.get(self.i) {
                        None => return Err("a parenthesised list is not closed".into()),
                        Some(b')') => {
                            self.i += 1;
                            break;
                        }
                        Some(b' ') if !items.is_empty() => self.i += 1,
                        _ => {}
                    }
                    if self.b.get(self.i) == Some(&b')') {
                        continue;
                    }
                    items.push(self.token(depth + 1)?);
                    match self.b.get(self.i) {
                        Some(b' ') | Some(b')') => {}
                        // body-type-mpart = 1*body SP media-subtype: the
                        // parts of a multipart follow each other unspaced.
                        Some(b'(') if matches!(items.last(), Some(Token::List(_))) => {}
                        None => return Err("a parenthesised list is not closed".into()),
                        Some(c) => {
                            return Err(format!(
                                "unexpected '{}' after a value in a list",
                                char::from(*c)
                            ))
                        }
                    }
                }
                Ok(Token::List(items))
            }
            Some(b')') => Err("a ')' closes no list".into()),
            Some(b'"') => self.quoted(),
            Some(b'{') => self.literal(),
            Some(b'~') if self.b.get(self.i + 1) == Some(&b'{') => {
                self.i += 1; // literal8 (RFC 3516 / RFC 9051 BINARY)
                self.literal()
            }
            Some(_) => self.atom(),
        }
    }

    fn quoted(&mut self) -> Result<Token, String> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.b.get(self.i) {
                None => return Err("a quoted string is not closed".into()),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(Token::Quoted(out));
                }
                Some(b'\\') => {
                    match self.b.get(self.i + 1) {
                        Some(c @ (b'"' | b'\\')) => out.push(*c),
                        _ => return Err("a quoted string has a bad escape".into()),
                    }
                    self.i += 2;
                }
                Some(b'\r' | b'\n') => return Err("a quoted string contains CR or LF".into()),
                Some(c) => {
                    out.push(*c);
                    self.i += 1;
                }
            }
        }
    }

    fn literal(&mut self) -> Result<Token, String> {
        let close = self.b[self.i..]
            .iter()
            .position(|c| *c == b'}')
            .ok_or("a literal's {n} is not closed")?;
        let digits = &self.b[self.i + 1..self.i + close];
        let n: usize = std::str::from_utf8(digits)
            .ok()
            .filter(|d| !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|d| d.parse().ok())
            .ok_or("a literal's length is not a number")?;
        self.i += close + 1;
        if self.b.get(self.i..self.i + 2) != Some(b"\r\n") {
            return Err("a literal's {n} is not followed by CRLF".into());
        }
        self.i += 2;
        let data = self
            .b
            .get(self.i..self.i + n)
            .ok_or("a literal is shorter than its {n}")?
            .to_vec();
        self.i += n;
        Ok(Token::Literal(data))
    }

    fn atom(&mut self) -> Result<Token, String> {
        let start = self.i;
        let mut brackets = 0usize;
        while let Some(&c) = self.b.get(self.i) {
            match c {
                b'[' => brackets += 1,
                b']' if brackets > 0 => brackets -= 1,
                b' ' | b'(' | b')' if brackets == 0 => break,
                b'"' | b'{' if brackets == 0 => break,
                b'\r' | b'\n' => return Err("a bare CR or LF inside a response".into()),
                _ => {}
            }
            self.i += 1;
        }
        if brackets > 0 {
            return Err("a '[' is not closed".into());
        }
        if self.i == start {
            return Err(format!(
                "unexpected '{}'",
                char::from(self.b.get(self.i).copied().unwrap_or(b'?'))
            ));
        }
        let text = String::from_utf8_lossy(&self.b[start..self.i]).into_owned();
        if text.eq_ignore_ascii_case("NIL") {
            return Ok(Token::Nil);
        }
        if text.bytes().all(|c| c.is_ascii_digit()) {
            if let Ok(n) = text.parse() {
                return Ok(Token::Number(n));
            }
        }
        Ok(Token::Atom(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_fetch_with_a_literal() {
        let r = parse_response(
            b"* 1 FETCH (FLAGS (\\Seen) BODY[HEADER.FIELDS (FROM)] {5}\r\nab\r\nc UID 7)",
        )
        .unwrap();
        assert_eq!(r.tag, "*");
        assert_eq!(r.numbered(), Some((1, "FETCH".into())));
        let list = r.tokens[2].as_list().unwrap();
        assert_eq!(list[0], Token::Atom("FLAGS".into()));
        assert_eq!(list[1], Token::List(vec![Token::Atom("\\Seen".into())]));
        assert_eq!(list[2], Token::Atom("BODY[HEADER.FIELDS (FROM)]".into()));
        assert_eq!(list[3], Token::Literal(b"ab\r\nc".to_vec()));
        assert_eq!(list[5], Token::Number(7));
    }

    #[test]
    fn multipart_bodies_are_unspaced() {
        let r = parse_response(
            b"* 2 FETCH (BODYSTRUCTURE ((\"text\" \"plain\")(\"text\" \"html\") \"mixed\"))",
        )
        .unwrap();
        let list = r.tokens[2].as_list().unwrap();
        assert_eq!(list[1].as_list().unwrap().len(), 3);
    }

    #[test]
    fn status_text_is_free() {
        let r = parse_response(b"a1 OK [READ-WRITE] done (0.1 secs").unwrap();
        assert_eq!(r.word(0).unwrap(), "OK");
    }

    #[test]
    fn rejects_broken_data() {
        for bad in [
            &b"* 1 FETCH (FLAGS (\\Seen)"[..],
            b"* 1 FETCH (BODY[] {9}\r\nabc)",
            b"* LIST (\\Noselect) \"/ \"x",
            b"* 1 FETCH (BODY[HEADER {1}\r\nx)",
            b"* 1 FETCH (A B))",
        ] {
            assert!(
                parse_response(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut s = b"* 1 FETCH ".to_vec();
        s.extend(std::iter::repeat_n(b'(', 10_000));
        assert!(parse_response(&s).is_err());
    }
}

#[cfg(test)]
mod response_code_tests {
    use super::response_code;

    #[test]
    fn reads_name_and_data() {
        assert_eq!(
            response_code("* OK [UIDVALIDITY 3857529045] UIDs valid"),
            Some(("UIDVALIDITY".into(), "3857529045".into()))
        );
        assert_eq!(
            response_code("* OK [PERMANENTFLAGS (\\Seen \\*)] Limited"),
            Some(("PERMANENTFLAGS".into(), "(\\Seen \\*)".into()))
        );
        assert_eq!(
            response_code("a1 OK [read-write] SELECT completed"),
            Some(("READ-WRITE".into(), String::new()))
        );
        assert_eq!(response_code("* 3 EXISTS"), None);
        assert_eq!(response_code("* OK no code"), None);
    }
}
