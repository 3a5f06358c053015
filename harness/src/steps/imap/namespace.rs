//! Where a scenario's mailboxes go. A server may allow new mailboxes only
//! under its personal namespace (RFC 2342 §4, RFC 9051 §6.3.10: dovecot's
//! `prefix = INBOX.` with `separator = .`, Cyrus's `INBOX.`); a CREATE at
//! top level then gets NO. So every mailbox name a scenario uses
//! (`${imap.scratch}`, `${imap.scratch2}`, `${imap.unused}`) is the
//! personal namespace's prefix plus a fresh name, and `${imap.delimiter}`
//! is its hierarchy delimiter.
//!
//! Where from, first that applies: the profile (`[imap] namespace_prefix`,
//! `delimiter`); the server's NAMESPACE response, when it announces
//! NAMESPACE or IMAP4rev2; otherwise top level, with the delimiter that
//! `LIST "" ""` names (RFC 3501 §6.3.8).

use super::{imap, untagged, ImapState};
use crate::steps::{Failure, World};
use crate::wire::imap::Token;
use crate::wire::Reply;

/// The personal namespace the scenario's mailboxes live in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Personal {
    /// Prepended to every mailbox name ("" for top level, "INBOX.").
    pub prefix: String,
    /// The hierarchy delimiter; `None` for a flat namespace (NIL).
    pub delimiter: Option<char>,
    /// How it was found, for the failure messages.
    pub source: &'static str,
}

impl Personal {
    /// `prefix` + `leaf`, as a command argument: an atom where it is one,
    /// else a quoted string (RFC 3501 §9 astring).
    pub fn mailbox(&self, leaf: &str) -> String {
        let leaf = match self.delimiter {
            // The fresh names use '-'; never let them nest by accident.
            Some('-') => leaf.replace('-', "_"),
            _ => leaf.to_string(),
        };
        astring(&format!("{}{leaf}", self.prefix))
    }
}

/// A mailbox name as a command argument: an atom where it is one, else a
/// quoted string.
pub fn astring(name: &str) -> String {
    if !name.is_empty() && name.bytes().all(is_astring_char) {
        name.to_string()
    } else {
        super::quoted(name)
    }
}

/// ASTRING-CHAR (RFC 3501 §9): ATOM-CHAR or "]".
fn is_astring_char(c: u8) -> bool {
    c > b' ' && c < 0x7f && !b"(){%*\"\\".contains(&c)
}

/// The personal namespace, found once per scenario over the client's session.
pub(super) async fn personal(w: &mut World) -> Result<Personal, Failure> {
    if let Some(p) = w.state::<ImapState>().namespace.clone() {
        return Ok(p);
    }
    let p = find(w).await?;
    w.vars.insert(
        "imap.delimiter".into(),
        p.delimiter.map(String::from).unwrap_or_default(),
    );
    w.state::<ImapState>().namespace = Some(p.clone());
    Ok(p)
}

/// `imap.delimiter` from the profile: one character, or "" for none.
fn profile_delimiter(w: &World) -> Option<Option<char>> {
    let d = w.profile().get("imap.delimiter")?;
    Some(d.chars().next())
}

async fn find(w: &mut World) -> Result<Personal, Failure> {
    let profile_prefix = w.profile().get("imap.namespace_prefix").map(str::to_string);
    let profile_delim = profile_delimiter(w);
    if let (Some(prefix), Some(delimiter)) = (&profile_prefix, profile_delim) {
        return Ok(Personal {
            prefix: prefix.clone(),
            delimiter,
            source: "the profile's imap.namespace_prefix and imap.delimiter",
        });
    }
    let caps = imap(w, "", "CAPABILITY").await?;
    let announced = super::capabilities(&caps)
        .iter()
        .any(|c| c.eq_ignore_ascii_case("NAMESPACE") || c.eq_ignore_ascii_case("IMAP4rev2"));
    let from_server = if announced {
        // Judged by its own scenario (mailboxes.feature); here a broken
        // answer only means the profile must say where mailboxes go.
        let reply = imap(w, "", "NAMESPACE").await?;
        let parsed = if reply.status == "OK" {
            parse_namespace(&reply)
        } else {
            Err(Failure::conformance("NAMESPACE failed"))
        };
        match parsed {
            Ok(p) => Some(p),
            Err(e) => {
                return Err(Failure::harness(format!(
                    "cannot tell where to create scratch mailboxes: the server announces NAMESPACE but its answer is unusable ({}); set [imap] namespace_prefix and delimiter in the profile",
                    e.message
                ))
                .got(reply.text()))
            }
        }
    } else {
        None
    };
    let (prefix, source) = match (profile_prefix, &from_server) {
        (Some(p), _) => (p, "the profile's imap.namespace_prefix"),
        (None, Some((p, _))) => (p.clone(), "the server's NAMESPACE response"),
        (None, None) => (
            String::new(),
            "top level (the server does not announce NAMESPACE)",
        ),
    };
    let delimiter = match (profile_delim, from_server) {
        (Some(d), _) => d,
        (None, Some((_, d))) => d,
        (None, None) => list_delimiter(w).await?,
    };
    Ok(Personal {
        prefix,
        delimiter,
        source,
    })
}

/// The first personal namespace of `* NAMESPACE (("prefix" "delim") …) … …`
/// (RFC 2342 §5); NIL (no personal namespace) is top level.
fn parse_namespace(reply: &Reply) -> Result<(String, Option<char>), Failure> {
    let malformed = |why: &str| {
        Failure::conformance(format!(
            "a malformed NAMESPACE response: {why} (RFC 2342 §5, RFC 9051 §7.3.2)"
        ))
        .expected("\"* NAMESPACE ((\\\"prefix\\\" \\\"delimiter\\\")) NIL NIL\"")
        .got(reply.text())
    };
    let r = untagged(reply)
        .into_iter()
        .find(|r| r.word(0).as_deref() == Some("NAMESPACE"))
        .ok_or_else(|| malformed("no untagged NAMESPACE response"))?;
    let personal = match r.tokens.get(1) {
        Some(Token::Nil) => return Ok((String::new(), None)),
        Some(Token::List(l)) => l,
        _ => {
            return Err(malformed(
                "the personal namespaces are neither a list nor NIL",
            ))
        }
    };
    let first = personal
        .first()
        .and_then(Token::as_list)
        .ok_or_else(|| malformed("the personal namespace list is empty or not a list"))?;
    let prefix = first
        .first()
        .and_then(Token::as_text)
        .ok_or_else(|| malformed("a namespace without a prefix string"))?;
    let delimiter = match first.get(1) {
        Some(Token::Nil) => None,
        Some(t) => match t.as_text() {
            Some(d) if d.chars().count() == 1 => d.chars().next(),
            _ => return Err(malformed("the delimiter is not one character or NIL")),
        },
        None => return Err(malformed("a namespace without a delimiter")),
    };
    Ok((prefix, delimiter))
}

/// The delimiter `LIST "" ""` names (RFC 3501 §6.3.8); NIL for none.
async fn list_delimiter(w: &mut World) -> Result<Option<char>, Failure> {
    let reply = imap(w, "", "LIST \"\" \"\"").await?;
    let found = untagged(&reply)
        .into_iter()
        .find(|r| r.word(0).as_deref() == Some("LIST"))
        .and_then(|r| r.tokens.get(2).cloned());
    Ok(match found {
        Some(Token::Nil) | None => None,
        Some(t) => t.as_text().and_then(|d| d.chars().next()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Line, Terminator};

    fn reply(lines: &[&str]) -> Reply {
        let mut r = Reply::default();
        for l in lines {
            r.lines.push(Line {
                bytes: l.as_bytes().to_vec(),
                end: Terminator::CrLf,
            });
        }
        r.status = "OK".into();
        r
    }

    #[test]
    fn parses_personal_namespaces() {
        let r = reply(&["* NAMESPACE ((\"INBOX.\" \".\")) NIL NIL", "a OK"]);
        assert_eq!(parse_namespace(&r).unwrap(), ("INBOX.".into(), Some('.')));
        let r = reply(&["* NAMESPACE ((\"\" \"/\")(\"#mh/\" \"/\")) NIL NIL"]);
        assert_eq!(parse_namespace(&r).unwrap(), ("".into(), Some('/')));
        let r = reply(&["* NAMESPACE NIL NIL NIL"]);
        assert_eq!(parse_namespace(&r).unwrap(), ("".into(), None));
        let r = reply(&["* NAMESPACE ((\"x\" NIL)) NIL NIL"]);
        assert_eq!(parse_namespace(&r).unwrap(), ("x".into(), None));
        assert!(parse_namespace(&reply(&["* NAMESPACE ()"])).is_err());
        assert!(parse_namespace(&reply(&["* NAMESPACE ((\"a\" \"..\")) NIL NIL"])).is_err());
        assert!(parse_namespace(&reply(&["* OK hi"])).is_err());
    }

    #[test]
    fn mailbox_names_are_astrings() {
        let p = |prefix: &str, d| Personal {
            prefix: prefix.into(),
            delimiter: d,
            source: "test",
        };
        assert_eq!(
            p("INBOX.", Some('.')).mailbox("conform-1"),
            "INBOX.conform-1"
        );
        assert_eq!(p("", Some('/')).mailbox("conform-1"), "conform-1");
        assert_eq!(p("My Mail/", Some('/')).mailbox("c"), "\"My Mail/c\"");
        assert_eq!(p("", Some('-')).mailbox("conform-1"), "conform_1");
    }
}
