//! FETCH data items (RFC 3501 §6.4.5, §7.4.2): parsing the requested items
//! and rendering ENVELOPE, BODYSTRUCTURE and BODY[section]<partial>.

use super::args::{Args, Parsed};
use super::mime::{self, Part};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SectionText {
    Header,
    Fields(Vec<String>),
    FieldsNot(Vec<String>),
    Text,
    Mime,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub path: Vec<u32>,
    pub text: Option<SectionText>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Flags,
    InternalDate,
    Size,
    Envelope,
    BodyStructure,
    Body,
    Uid,
    Rfc822,
    Rfc822Header,
    Rfc822Text,
    Section {
        peek: bool,
        section: Section,
        partial: Option<(u32, u32)>,
    },
}

impl Item {
    /// Fetching it sets `\Seen` (§6.4.5: BODY[…], RFC822, RFC822.TEXT).
    pub fn sets_seen(&self) -> bool {
        matches!(
            self,
            Item::Rfc822 | Item::Rfc822Text | Item::Section { peek: false, .. }
        )
    }
}

/// `fetch-att` or a parenthesised list of them, or a macro.
pub fn parse_items(a: &mut Args) -> Parsed<Vec<Item>> {
    if a.eat(b'(') {
        let mut out = Vec::new();
        while !a.eat(b')') {
            if !out.is_empty() {
                a.space()?;
            }
            out.push(parse_item(a)?);
        }
        if out.is_empty() {
            return Err("an empty list of fetch items".into());
        }
        return Ok(out);
    }
    let name = peek_name(a);
    match name.to_ascii_uppercase().as_str() {
        "ALL" => {
            a.i += name.len();
            Ok(vec![
                Item::Flags,
                Item::InternalDate,
                Item::Size,
                Item::Envelope,
            ])
        }
        "FAST" => {
            a.i += name.len();
            Ok(vec![Item::Flags, Item::InternalDate, Item::Size])
        }
        "FULL" => {
            a.i += name.len();
            Ok(vec![
                Item::Flags,
                Item::InternalDate,
                Item::Size,
                Item::Envelope,
                Item::Body,
            ])
        }
        _ => Ok(vec![parse_item(a)?]),
    }
}

/// The item name at the cursor (letters, digits, dots), not consumed.
fn peek_name(a: &Args) -> String {
    let mut name = String::new();
    while let Some(c) = a.peek_at(name.len()) {
        if !(c.is_ascii_alphanumeric() || c == b'.') {
            break;
        }
        name.push(c as char);
    }
    name
}

fn parse_item(a: &mut Args) -> Parsed<Item> {
    let name = peek_name(a);
    a.i += name.len();
    let up = name.to_ascii_uppercase();
    let item = match up.as_str() {
        "FLAGS" => Item::Flags,
        "INTERNALDATE" => Item::InternalDate,
        "RFC822.SIZE" => Item::Size,
        "ENVELOPE" => Item::Envelope,
        "BODYSTRUCTURE" => Item::BodyStructure,
        "UID" => Item::Uid,
        "RFC822" => Item::Rfc822,
        "RFC822.HEADER" => Item::Rfc822Header,
        "RFC822.TEXT" => Item::Rfc822Text,
        "BODY" if a.peek() != Some(b'[') => Item::Body,
        "BODY" | "BODY.PEEK" => {
            let section = parse_section(a)?;
            let partial = if a.eat(b'<') {
                let start = number(a)?;
                if !a.eat(b'.') {
                    return Err("a partial range is <start.length>".into());
                }
                let len = number(a)?;
                if !a.eat(b'>') || len == 0 {
                    return Err("a partial range is <start.length>, length > 0".into());
                }
                Some((start, len))
            } else {
                None
            };
            Item::Section {
                peek: up == "BODY.PEEK",
                section,
                partial,
            }
        }
        "" => return Err("a fetch item was expected".into()),
        _ => return Err(format!("unknown fetch item \"{name}\"")),
    };
    Ok(item)
}

fn parse_section(a: &mut Args) -> Parsed<Section> {
    if !a.eat(b'[') {
        return Err("a section in brackets was expected".into());
    }
    let mut path = Vec::new();
    let mut text = None;
    loop {
        if a.peek() == Some(b']') {
            break;
        }
        if a.peek().is_some_and(|c| c.is_ascii_digit()) {
            let n = digits(a)?;
            path.push(n);
            if a.eat(b'.') {
                continue;
            }
            break;
        }
        let word = peek_name(a);
        a.i += word.len();
        text = Some(match word.to_ascii_uppercase().as_str() {
            "HEADER" => SectionText::Header,
            "TEXT" => SectionText::Text,
            "MIME" if !path.is_empty() => SectionText::Mime,
            "HEADER.FIELDS" | "HEADER.FIELDS.NOT" => {
                a.space()?;
                let names = a.flag_list()?;
                if names.is_empty() {
                    return Err("HEADER.FIELDS needs at least one field name".into());
                }
                if word.len() > "HEADER.FIELDS".len() {
                    SectionText::FieldsNot(names)
                } else {
                    SectionText::Fields(names)
                }
            }
            _ => return Err(format!("unknown section text \"{word}\"")),
        });
        break;
    }
    if !a.eat(b']') {
        return Err("the section is not closed with ']'".into());
    }
    Ok(Section { path, text })
}

/// A part number: positive.
fn digits(a: &mut Args) -> Parsed<u32> {
    let n = number(a)?;
    if n == 0 {
        return Err("a part number must be a positive number".into());
    }
    Ok(n)
}

/// Decimal digits at the cursor.
fn number(a: &mut Args) -> Parsed<u32> {
    let mut n: u32 = 0;
    let mut any = false;
    while let Some(c) = a.peek().filter(u8::is_ascii_digit) {
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u32::from(c - b'0')))
            .ok_or("a part number is too large")?;
        a.i += 1;
        any = true;
    }
    if !any {
        return Err("a number was expected".into());
    }
    Ok(n)
}

/// How the response names a section: `BODY[1.HEADER.FIELDS (FROM)]<0>`.
pub fn section_name(section: &Section, partial: Option<(u32, u32)>) -> String {
    let mut s = section
        .path
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(".");
    if let Some(t) = &section.text {
        if !s.is_empty() {
            s.push('.');
        }
        s.push_str(&match t {
            SectionText::Header => "HEADER".into(),
            SectionText::Text => "TEXT".into(),
            SectionText::Mime => "MIME".into(),
            SectionText::Fields(f) => format!("HEADER.FIELDS ({})", f.join(" ")),
            SectionText::FieldsNot(f) => format!("HEADER.FIELDS.NOT ({})", f.join(" ")),
        });
    }
    match partial {
        Some((start, _)) => format!("BODY[{s}]<{start}>"),
        None => format!("BODY[{s}]"),
    }
}

/// The entity a part path names (§6.4.5: part 1 of a non-multipart message
/// is its body; the parts of a message/rfc822 part are those of the message
/// it holds).
fn resolve<'a>(root: &'a Part, path: &[u32]) -> Option<&'a Part> {
    let mut p = root;
    for n in path {
        let inner = if p.is_message { p.children.first()? } else { p };
        p = if inner.children.is_empty() || inner.is_message {
            if *n != 1 {
                return None;
            }
            inner
        } else {
            inner.children.get(*n as usize - 1)?
        };
    }
    Some(p)
}

/// The bytes of a section; `None` when the section does not exist.
pub fn section_bytes(msg: &[u8], section: &Section) -> Option<Vec<u8>> {
    let root = mime::parse(msg);
    let e = resolve(&root, &section.path)?;
    let slice = |r: (usize, usize)| msg[r.0..r.1].to_vec();
    // HEADER and TEXT of a part address the message a message/rfc822 holds.
    let message = if section.path.is_empty() {
        Some(e)
    } else if e.is_message {
        e.children.first()
    } else {
        None
    };
    Some(match &section.text {
        None if section.path.is_empty() => msg.to_vec(),
        None => slice(e.body),
        Some(SectionText::Mime) => slice(e.header),
        Some(SectionText::Header) => slice(message?.header),
        Some(SectionText::Text) => slice(message?.body),
        Some(SectionText::Fields(names)) => {
            filter_fields(&msg[message?.header.0..message?.header.1], names, true)
        }
        Some(SectionText::FieldsNot(names)) => {
            filter_fields(&msg[message?.header.0..message?.header.1], names, false)
        }
    })
}

/// The header lines whose field name is (or is not) in `names`, then the
/// blank line (§6.4.5: the subset "includes the blank line").
fn filter_fields(header: &[u8], names: &[String], keep: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut taking = false;
    for line in header.split_inclusive(|c| *c == b'\n') {
        let bare = line.strip_suffix(b"\n").unwrap_or(line);
        let bare = bare.strip_suffix(b"\r").unwrap_or(bare);
        if bare.is_empty() {
            continue;
        }
        if bare[0] != b' ' && bare[0] != b'\t' {
            let name = bare.split(|c| *c == b':').next().unwrap_or_default();
            let name = String::from_utf8_lossy(mime::trim(name)).into_owned();
            taking = names.iter().any(|n| n.eq_ignore_ascii_case(&name)) == keep;
        }
        if taking {
            out.extend_from_slice(bare);
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// `<start.length>` of `data`.
pub fn partial(data: &[u8], range: Option<(u32, u32)>) -> Vec<u8> {
    match range {
        None => data.to_vec(),
        Some((start, len)) => {
            let s = (start as usize).min(data.len());
            let e = s.saturating_add(len as usize).min(data.len());
            data[s..e].to_vec()
        }
    }
}

/// An IMAP string: quoted when it can be, else a literal; NIL when absent.
pub fn nstring(v: Option<&[u8]>) -> String {
    match v {
        None => "NIL".into(),
        Some(b) => string(b),
    }
}

pub fn string(b: &[u8]) -> String {
    let quotable = b.len() < 1024 && b.iter().all(|c| *c >= 0x20 && *c < 0x7f);
    if quotable {
        let mut s = String::from("\"");
        for c in b {
            if *c == b'"' || *c == b'\\' {
                s.push('\\');
            }
            s.push(*c as char);
        }
        s.push('"');
        s
    } else {
        literal_header(b)
    }
}

/// A literal in a response: `{n}` CRLF and the bytes (lossy for rendering
/// into a String, so callers with binary data use [`literal_bytes`]).
fn literal_header(b: &[u8]) -> String {
    format!("{{{}}}\r\n{}", b.len(), String::from_utf8_lossy(b))
}

pub fn literal_bytes(b: &[u8]) -> Vec<u8> {
    let mut out = format!("{{{}}}\r\n", b.len()).into_bytes();
    out.extend_from_slice(b);
    out
}

/// ENVELOPE (§7.4.2).
pub fn envelope(msg: &[u8]) -> String {
    let root = mime::parse(msg);
    envelope_of(&msg[root.header.0..root.header.1])
}

fn envelope_of(header: &[u8]) -> String {
    let f = |n: &str| mime::field(header, n);
    let from = f("From");
    let addr = |v: Option<Vec<u8>>| match v {
        None => "NIL".to_string(),
        Some(v) => addresses(&v),
    };
    let sender = f("Sender").or_else(|| from.clone());
    let reply_to = f("Reply-To").or_else(|| from.clone());
    format!(
        "({} {} {} {} {} {} {} {} {} {})",
        nstring(f("Date").as_deref()),
        nstring(f("Subject").as_deref()),
        addr(from),
        addr(sender),
        addr(reply_to),
        addr(f("To")),
        addr(f("Cc")),
        addr(f("Bcc")),
        nstring(f("In-Reply-To").as_deref()),
        nstring(f("Message-ID").as_deref()),
    )
}

/// An address list as `((name adl mailbox host) …)`.
fn addresses(v: &[u8]) -> String {
    let text = String::from_utf8_lossy(v);
    let mut items = Vec::new();
    for one in split_outside(&text, ',') {
        let one = one.trim();
        if one.is_empty() {
            continue;
        }
        if let Some(group) = one.strip_suffix(";").and_then(|g| g.strip_suffix(':')) {
            items.push(format!("(NIL NIL {} NIL)", string(group.trim().as_bytes())));
            items.push("(NIL NIL NIL NIL)".into());
            continue;
        }
        let (name, spec) = match (one.rfind('<'), one.rfind('>')) {
            (Some(l), Some(r)) if l < r => {
                let name = one[..l].trim().trim_matches('"').trim();
                (
                    (!name.is_empty()).then(|| name.to_string()),
                    one[l + 1..r].to_string(),
                )
            }
            _ => (None, one.to_string()),
        };
        let (mailbox, host) = match spec.rsplit_once('@') {
            Some((m, h)) => (Some(m.to_string()), Some(h.to_string())),
            None => (Some(spec.clone()), None),
        };
        items.push(format!(
            "({} NIL {} {})",
            nstring(name.as_deref().map(str::as_bytes)),
            nstring(mailbox.as_deref().map(str::as_bytes)),
            nstring(host.as_deref().map(str::as_bytes))
        ));
    }
    if items.is_empty() {
        "NIL".into()
    } else {
        format!("({})", items.join(""))
    }
}

fn split_outside(s: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let (mut quoted, mut angle) = (false, false);
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            _ => {}
        }
        if c == sep && !quoted && !angle {
            out.push(String::new());
        } else if let Some(last) = out.last_mut() {
            last.push(c);
        }
    }
    out
}

/// BODYSTRUCTURE (`extended`) or BODY (§7.4.2).
pub fn body_structure(msg: &[u8], extended: bool) -> String {
    structure(msg, &mime::parse(msg), extended, false)
}

fn params_list(params: &[(String, String)]) -> String {
    if params.is_empty() {
        return "NIL".into();
    }
    let items: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{} {}", string(k.as_bytes()), string(v.as_bytes())))
        .collect();
    format!("({})", items.join(" "))
}

fn structure(msg: &[u8], p: &Part, extended: bool, digest: bool) -> String {
    let header = &msg[p.header.0..p.header.1];
    let (t, s, params) = mime::content_type(header, digest);
    let disposition = || match mime::field(header, "Content-Disposition") {
        None => "NIL".to_string(),
        Some(v) => {
            let v = String::from_utf8_lossy(&v).into_owned();
            let mut pieces = mime::split_params(&v);
            if pieces.is_empty() {
                return "NIL".into();
            }
            let kind = pieces.remove(0);
            let ps: Vec<(String, String)> = pieces
                .iter()
                .filter_map(|p| {
                    let (k, v) = p.split_once('=')?;
                    Some((
                        k.trim().to_ascii_lowercase(),
                        v.trim().trim_matches('"').to_string(),
                    ))
                })
                .collect();
            format!("({} {})", string(kind.as_bytes()), params_list(&ps))
        }
    };
    if t == "multipart" && !p.children.is_empty() {
        let kids: String = p
            .children
            .iter()
            .map(|c| structure(msg, c, extended, s == "digest"))
            .collect();
        let mut out = format!("({kids} {}", string(s.as_bytes()));
        if extended {
            out.push_str(&format!(
                " {} {} NIL NIL",
                params_list(&params),
                disposition()
            ));
        }
        out.push(')');
        return out;
    }
    let body = &msg[p.body.0..p.body.1];
    let field = |n: &str| mime::field(header, n);
    let encoding = field("Content-Transfer-Encoding")
        .map(|v| String::from_utf8_lossy(&v).trim().to_string())
        .unwrap_or_else(|| "7BIT".into());
    let mut out = format!(
        "({} {} {} {} {} {} {}",
        string(t.as_bytes()),
        string(s.as_bytes()),
        params_list(&params),
        nstring(field("Content-ID").as_deref()),
        nstring(field("Content-Description").as_deref()),
        string(encoding.as_bytes()),
        body.len()
    );
    if t == "message" && s == "rfc822" {
        if let Some(inner) = p.children.first() {
            out.push_str(&format!(
                " {} {} {}",
                envelope_of(&msg[inner.header.0..inner.header.1]),
                structure(msg, inner, extended, false),
                lines(body)
            ));
        }
    } else if t == "text" {
        out.push_str(&format!(" {}", lines(body)));
    }
    if extended {
        out.push_str(&format!(
            " {} {} NIL NIL",
            nstring(field("Content-MD5").as_deref()),
            disposition()
        ));
    }
    out.push(')');
    out
}

fn lines(body: &[u8]) -> usize {
    let n = body.iter().filter(|c| **c == b'\n').count();
    if !body.is_empty() && !body.ends_with(b"\n") {
        n + 1
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"From: Bob <bob@example.test>\r\nTo: a@b.c, \"Al, X\" <al@x.y>\r\nSubject: hi\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\none\r\n--B\r\nContent-Type: text/html\r\n\r\n<p>two</p>\r\n--B--\r\n";

    fn items(s: &str) -> Vec<Item> {
        parse_items(&mut Args::new(s.as_bytes())).unwrap()
    }

    #[test]
    fn parses_items() {
        assert_eq!(items("FAST").len(), 3);
        let v = items("(UID BODY.PEEK[1.HEADER.FIELDS (From To)]<0.10> BODY[])");
        assert_eq!(v[0], Item::Uid);
        match &v[1] {
            Item::Section {
                peek,
                section,
                partial,
            } => {
                assert!(*peek);
                assert_eq!(section.path, vec![1]);
                assert_eq!(
                    section.text,
                    Some(SectionText::Fields(vec!["From".into(), "To".into()]))
                );
                assert_eq!(*partial, Some((0, 10)));
            }
            other => panic!("{other:?}"),
        }
        assert!(v[2].sets_seen());
        assert!(parse_items(&mut Args::new(b"BODY[0]")).is_err());
        assert!(parse_items(&mut Args::new(b"NONSENSE")).is_err());
    }

    #[test]
    fn sections() {
        let s = |t: &str| {
            let item = items(t).remove(0);
            let Item::Section { section, .. } = item else {
                panic!()
            };
            section_bytes(MSG, &section).map(|b| String::from_utf8(b).unwrap())
        };
        assert_eq!(s("BODY[2]").unwrap(), "<p>two</p>");
        assert_eq!(
            s("BODY[2.MIME]").unwrap(),
            "Content-Type: text/html\r\n\r\n"
        );
        assert_eq!(
            s("BODY[HEADER.FIELDS (SUBJECT)]").unwrap(),
            "Subject: hi\r\n\r\n"
        );
        assert!(s("BODY[3]").is_none());
        assert!(s("BODY[HEADER]").unwrap().ends_with("\r\n\r\n"));
    }

    #[test]
    fn structures() {
        let b = body_structure(MSG, true);
        assert!(b.starts_with("((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7BIT\" 3 1 NIL NIL NIL NIL)"), "{b}");
        assert!(
            b.ends_with(" \"mixed\" (\"boundary\" \"B\") NIL NIL NIL)"),
            "{b}"
        );
        let e = envelope(MSG);
        assert!(
            e.contains("((\"Al, X\" NIL \"al\" \"x.y\"))")
                || e.contains("(\"Al, X\" NIL \"al\" \"x.y\")"),
            "{e}"
        );
    }
}
