//! SMTP command lines (RFC 5321 §4.1): a verb, then arguments; verbs are
//! case-insensitive. Paths are parsed to the grammar of §4.1.2.

/// One parsed command line.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Helo(String),
    Ehlo(String),
    /// Reverse-path (`""` for the null path `<>`) and parameters.
    Mail(String, Vec<(String, Option<String>)>),
    Rcpt(String, Vec<(String, Option<String>)>),
    Data,
    Rset,
    Noop,
    Quit,
    Vrfy(String),
    Help,
    /// RFC 3207 §4: STARTTLS, no parameters.
    StartTls,
    /// RFC 4954 §4: `AUTH mechanism [initial-response]`, the mechanism in
    /// upper case; the initial response as sent (base64 or `=`).
    Auth(String, Option<Vec<u8>>),
    /// Known verb, not implemented here (EXPN, TURN, …): 502.
    NotImplemented,
    /// Known verb, bad arguments: 501 with this text.
    BadSyntax(&'static str),
    /// Not a command: 500.
    Unknown,
}

pub fn parse(line: &[u8]) -> Command {
    let Ok(text) = std::str::from_utf8(line) else {
        return Command::Unknown;
    };
    let (verb, rest) = match text.find(' ') {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (text, ""),
    };
    let arg = rest.trim();
    match verb.to_ascii_uppercase().as_str() {
        "HELO" | "EHLO" if arg.is_empty() || arg.contains(' ') => {
            Command::BadSyntax("5.5.4 Syntax: HELO/EHLO domain")
        }
        "HELO" => Command::Helo(arg.to_string()),
        "EHLO" => Command::Ehlo(arg.to_string()),
        "MAIL" => match path_argument(rest, "FROM:") {
            Some((path, params)) if path.is_empty() || mailbox(&path) => match parameters(params) {
                Some(p) => Command::Mail(path, p),
                None => Command::BadSyntax("5.5.4 Bad MAIL parameters"),
            },
            Some(_) => Command::BadSyntax("5.1.7 Bad sender address syntax"),
            None => Command::BadSyntax("5.5.4 Syntax: MAIL FROM:<address>"),
        },
        "RCPT" => match path_argument(rest, "TO:") {
            Some((path, params)) if mailbox(&path) || path.eq_ignore_ascii_case("postmaster") => {
                match parameters(params) {
                    Some(p) => Command::Rcpt(path, p),
                    None => Command::BadSyntax("5.5.4 Bad RCPT parameters"),
                }
            }
            Some(_) => Command::BadSyntax("5.1.3 Bad recipient address syntax"),
            None => Command::BadSyntax("5.5.4 Syntax: RCPT TO:<address>"),
        },
        "DATA" if arg.is_empty() => Command::Data,
        "RSET" if arg.is_empty() => Command::Rset,
        "QUIT" if arg.is_empty() => Command::Quit,
        "DATA" | "RSET" | "QUIT" => Command::BadSyntax("5.5.4 No parameters allowed"),
        // §4.1.1.9: NOOP may carry a string, which is ignored.
        "NOOP" => Command::Noop,
        "VRFY" if arg.is_empty() => Command::BadSyntax("5.5.4 Syntax: VRFY string"),
        "VRFY" => Command::Vrfy(arg.to_string()),
        "HELP" => Command::Help,
        // RFC 3207 §4: "501 Syntax error (no parameters allowed)".
        "STARTTLS" if arg.is_empty() => Command::StartTls,
        "STARTTLS" => Command::BadSyntax("5.5.4 Syntax error (no parameters allowed)"),
        "AUTH" => {
            let mut words = arg.split(' ').filter(|w| !w.is_empty());
            match (words.next(), words.next(), words.next()) {
                (Some(mech), initial, None) => Command::Auth(
                    mech.to_ascii_uppercase(),
                    initial.map(|i| i.as_bytes().to_vec()),
                ),
                _ => Command::BadSyntax("5.5.4 Syntax: AUTH mechanism [initial-response]"),
            }
        }
        "EXPN" | "TURN" | "SEND" | "SOML" | "SAML" | "ETRN" | "BDAT" => Command::NotImplemented,
        _ => Command::Unknown,
    }
}

/// Splits `FROM:<path> params` (`keyword` includes the colon). RFC 5321
/// §3.3 says spaces around the colon are not permitted but common; a space
/// after the colon is accepted, as the course transcript and postfix do.
fn path_argument<'a>(rest: &'a str, keyword: &str) -> Option<(String, &'a str)> {
    let head = rest.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let after = rest[keyword.len()..].trim_start_matches(' ');
    let inner = after.strip_prefix('<')?;
    let close = inner.find('>')?;
    let path = &inner[..close];
    let params = &inner[close + 1..];
    if !params.is_empty() && !params.starts_with(' ') {
        return None;
    }
    // Drop an obsolete source route "@a,@b:" (§4.1.2, MUST accept).
    let path = match path.starts_with('@') {
        true => path.split_once(':').map(|(_, p)| p)?,
        false => path,
    };
    Some((path.to_string(), params.trim()))
}

/// `esmtp-keyword["=" esmtp-value]` separated by spaces (§4.1.2).
fn parameters(text: &str) -> Option<Vec<(String, Option<String>)>> {
    let mut out = Vec::new();
    for p in text.split(' ').filter(|p| !p.is_empty()) {
        let (k, v) = match p.split_once('=') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (p, None),
        };
        let key_ok = k.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        let value_ok = v.as_deref().is_none_or(|v| {
            !v.is_empty() && v.bytes().all(|b| (33..=126).contains(&b) && b != b'=')
        });
        if !key_ok || !value_ok {
            return None;
        }
        out.push((k.to_ascii_uppercase(), v));
    }
    Some(out)
}

/// `Mailbox = Local-part "@" ( Domain / address-literal )` (§4.1.2).
pub fn mailbox(s: &str) -> bool {
    let Some(at) = s.rfind('@') else {
        return false;
    };
    let (local, domain) = (&s[..at], &s[at + 1..]);
    local_part(local) && (domain_name(domain) || address_literal(domain))
}

fn local_part(s: &str) -> bool {
    if s.len() > 64 {
        return false; // §4.5.3.1.1
    }
    if let Some(q) = s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        // Quoted-string: printable ASCII, with \ escapes.
        let mut escaped = false;
        return q.bytes().all(|b| {
            let ok = (32..=126).contains(&b) && (escaped || b != b'"');
            escaped = !escaped && b == b'\\';
            ok
        }) && !escaped;
    }
    // Dot-string: atoms separated by single dots.
    !s.is_empty()
        && s.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b))
        })
}

fn domain_name(s: &str) -> bool {
    s.len() <= 255
        && !s.is_empty()
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

fn address_literal(s: &str) -> bool {
    let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) else {
        return false;
    };
    match inner.strip_prefix("IPv6:") {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => inner.parse::<std::net::Ipv4Addr>().is_ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_and_paths() {
        assert_eq!(parse(b"helo crepes.fr"), Command::Helo("crepes.fr".into()));
        assert_eq!(
            parse(b"MAIL FROM: <alice@crepes.fr>"),
            Command::Mail("alice@crepes.fr".into(), vec![])
        );
        assert_eq!(parse(b"MAIL FROM:<>"), Command::Mail("".into(), vec![]));
        assert_eq!(
            parse(b"MAIL FROM:<a@b.c> SIZE=10 BODY=8BITMIME"),
            Command::Mail(
                "a@b.c".into(),
                vec![
                    ("SIZE".into(), Some("10".into())),
                    ("BODY".into(), Some("8BITMIME".into()))
                ]
            )
        );
        assert_eq!(
            parse(b"RCPT TO:<@relay.x:bob@b.c>"),
            Command::Rcpt("bob@b.c".into(), vec![])
        );
        assert_eq!(
            parse(b"RCPT TO:<Postmaster>"),
            Command::Rcpt("Postmaster".into(), vec![])
        );
        assert!(matches!(
            parse(b"MAIL FROM:alice@crepes.fr"),
            Command::BadSyntax(_)
        ));
        assert!(matches!(parse(b"MAIL FROM:<alice>"), Command::BadSyntax(_)));
        assert!(matches!(parse(b"RCPT TO:<a@@b>"), Command::BadSyntax(_)));
        assert!(matches!(parse(b"RCPT TO:<a@b>x"), Command::BadSyntax(_)));
        assert!(matches!(parse(b"RCPT"), Command::BadSyntax(_)));
        assert!(matches!(parse(b"HELO"), Command::BadSyntax(_)));
        assert!(matches!(parse(b"DATA x"), Command::BadSyntax(_)));
        assert_eq!(parse(b"FOO"), Command::Unknown);
        assert_eq!(parse(b""), Command::Unknown);
        assert_eq!(parse(b"\xff"), Command::Unknown);
        assert!(mailbox("\"a b\"@[127.0.0.1]"));
        assert!(mailbox("x@[IPv6:::1]"));
        assert!(!mailbox("a..b@c"));
        assert!(!mailbox("a@-c"));
    }
}
