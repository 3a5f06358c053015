//! Fuzzing IMAP4rev2 (RFC 9051): tagged commands, untagged data, literals.
//! The fuzzer's own tag (`f1`, `f2`…) starts each command and is never
//! mutated, so the tagged completion can always be found; the command after
//! it is mutated with the text strategies. Sessions start before login,
//! after LOGIN, and after EXAMINE INBOX (read-only, so that FETCH does not
//! set \Seen, §6.3.3). Commands that change the mailbox or the session's
//! dialogue (STORE, EXPUNGE, APPEND, COPY, MOVE, CREATE, DELETE, RENAME,
//! SELECT, CLOSE, UID, IDLE, AUTHENTICATE, STARTTLS, LOGOUT) are never sent.
//!
//! Oracles: each command gets its tagged completion in time (a `* BYE` and
//! the close are allowed, §7.1.5); every line is untagged (`* `), a
//! continuation (`+`, only after a literal) or a completion (`tag OK|NO|BAD`),
//! CRLF-terminated, with literals `{n}` followed by n octets; an unknown
//! command gets BAD or NO (§7.1.3), never OK; a fresh connection gets a
//! greeting and `NOOP` an OK.

use std::sync::{Arc, RwLock};
use std::time::Instant;

use proptest::prelude::*;

use super::line::LineProtocol;
use super::link::{Link, ReadError, TcpLink};
use super::mutate::{self, TextGrammar};
use super::{
    Case, Channel, FuzzProtocol, Limits, Next, Oracle, Security, Step, Transport, Violation,
};
use crate::notation::escape_short;
use crate::target::Profile;

const MAX_LINE: usize = 64 * 1024;
const MAX_LITERAL: usize = 4 * 1024 * 1024;
const MAX_LINES: usize = 100_000;

const VERBS: &[&str] = &[
    "NOOP",
    "CAPABILITY",
    "EXAMINE",
    "LIST",
    "LSUB",
    "STATUS",
    "FETCH",
    "SEARCH",
    "CHECK",
    "NAMESPACE",
    "UNSELECT",
    "ENABLE",
    "ID",
    "LOGIN",
];
const FORBIDDEN: &[&str] = &[
    "STORE",
    "EXPUNGE",
    "APPEND",
    "COPY",
    "MOVE",
    "CREATE",
    "DELETE",
    "RENAME",
    "SELECT",
    "CLOSE",
    "UID",
    "IDLE",
    "AUTHENTICATE",
    "STARTTLS",
    "LOGOUT",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "SETACL",
    "DELETEACL",
    "SETQUOTA",
    "SETMETADATA",
    "COMPRESS",
];

#[derive(Default)]
pub struct Imap {
    profile: RwLock<Profile>,
    security: RwLock<Security>,
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// `f12 ` → `f12`: the fuzzer's own tag shape.
fn tag_of(msg: &[u8]) -> Option<&[u8]> {
    let sp = msg.iter().position(|c| *c == b' ')?;
    let tag = &msg[..sp];
    (tag.len() >= 2
        && (tag[0] == b'f' || tag[0] == b'p')
        && tag[1..].iter().all(u8::is_ascii_digit))
    .then_some(tag)
}

/// The command's verb (after the tag), upper-cased.
fn verb(msg: &[u8]) -> Vec<u8> {
    let rest = match msg.iter().position(|c| *c == b' ') {
        Some(i) => &msg[i + 1..],
        None => &[][..],
    };
    let end = rest
        .iter()
        .position(|c| matches!(c, b' ' | b'\r' | b'\n'))
        .unwrap_or(rest.len());
    rest[..end].to_ascii_uppercase()
}

/// `{12}` or `{12+}` at the end of a line (before CRLF): a literal of that
/// many octets follows (the suites' reading, `wire::imap`).
fn literal_at_end(line: &[u8]) -> Option<usize> {
    crate::wire::imap::literal_announced(line)?
        .ok()
        .map(|a| a.len)
}

impl Imap {
    fn expand(&self, msg: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(msg);
        if !text.contains("${") {
            return msg.to_vec();
        }
        match self.profile.read().map(|p| p.expand(&text)) {
            Ok(Ok(t)) => t.into_bytes(),
            _ => msg.to_vec(),
        }
    }

    fn malformed(why: &str, got: &[u8]) -> Violation {
        Violation::new(Oracle::WellFormed, format!("a malformed response: {why}"))
            .expected("`* …`, `+ …` or `tag OK|NO|BAD …` lines, CRLF-terminated, literals {n} followed by n octets (RFC 9051 §2.2, §4.3)")
            .got(format!("\"{}\"", escape_short(got, 200)))
    }

    /// Reads up to the completion for `tag`; returns its status word, or
    /// `None` when the server said BYE and closed.
    fn read_completion(
        l: &mut TcpLink,
        tag: &[u8],
        deadline: Instant,
    ) -> Result<Option<Vec<u8>>, Result<Violation, ReadError>> {
        let mut bye = false;
        for _ in 0..MAX_LINES {
            let line = match l.read_line(MAX_LINE, deadline) {
                Ok(line) => line,
                Err(ReadError::Closed { partial }) if partial.is_empty() && bye => return Ok(None),
                Err(e) => return Err(Err(e)),
            };
            if !line.ends_with(b"\r\n") {
                return Err(Ok(Self::malformed("a line ends in a bare LF", &line)));
            }
            // Literals inside a response line: {n} CRLF, n octets, the line goes on.
            let mut last = line.clone();
            while let Some(n) = literal_at_end(&last) {
                if n > MAX_LITERAL {
                    return Err(Ok(Self::malformed(
                        "a literal larger than the fuzzer reads",
                        &last,
                    )));
                }
                l.read_exact(n, deadline).map_err(Err)?;
                last = l.read_line(MAX_LINE, deadline).map_err(Err)?;
                if !last.ends_with(b"\r\n") {
                    return Err(Ok(Self::malformed("a line ends in a bare LF", &last)));
                }
            }
            if line.starts_with(b"* ") {
                bye |= line[2..].to_ascii_uppercase().starts_with(b"BYE");
                continue;
            }
            if line.starts_with(b"+") {
                return Err(Ok(Self::malformed(
                    "a continuation request for a command that sent no literal",
                    &line,
                )));
            }
            if line.len() > tag.len() && line.starts_with(tag) && line[tag.len()] == b' ' {
                let rest = line[tag.len() + 1..].to_ascii_uppercase();
                let status: Vec<u8> = rest
                    .iter()
                    .copied()
                    .take_while(u8::is_ascii_alphabetic)
                    .collect();
                if matches!(status.as_slice(), b"OK" | b"NO" | b"BAD") {
                    return Ok(Some(status));
                }
                return Err(Ok(Self::malformed(
                    "a tagged line that is not OK, NO or BAD",
                    &line,
                )));
            }
            return Err(Ok(Self::malformed(
                "a line that is neither untagged, a continuation, nor this command's completion",
                &line,
            )));
        }
        Err(Ok(Self::malformed(
            "no completion after very many lines",
            b"",
        )))
    }
}

impl FuzzProtocol for Imap {
    fn name(&self) -> &'static str {
        "imap"
    }

    fn channels(&self, profile: &Profile) -> Result<Vec<Channel>, String> {
        if let Ok(mut p) = self.profile.write() {
            *p = profile.clone();
        }
        let security = Security::of(profile, "imap")?;
        if let Ok(mut s) = self.security.write() {
            *s = security;
        }
        Ok(vec![Channel::from_profile(
            profile,
            "imap.address",
            "address",
            Transport::Tcp,
        )?])
    }

    fn builtin_seeds(&self) -> Vec<Vec<u8>> {
        [
            "NOOP",
            "CAPABILITY",
            "LIST \"\" *",
            "LIST \"\" %",
            "STATUS INBOX (MESSAGES UIDNEXT)",
            "FETCH 1 (FLAGS UID)",
            "FETCH 1:* (RFC822.SIZE)",
            "FETCH 1 (BODY.PEEK[HEADER])",
            "SEARCH ALL",
            "SEARCH SUBJECT \"x\"",
            "CHECK",
            "NAMESPACE",
            "EXAMINE INBOX",
            "ID NIL",
        ]
        .iter()
        .map(|s| format!("{s}\r\n").into_bytes())
        .collect()
    }

    fn strategy(&self, channels: &[Channel], seeds: Arc<Vec<Vec<u8>>>) -> BoxedStrategy<Case> {
        // The suites' commands carry their own tags: take them off.
        let seeds: Vec<Vec<u8>> = seeds
            .iter()
            .map(|s| {
                let first = s.split(|c| *c == b' ').next().unwrap_or_default();
                let tagged = first.len() >= 2
                    && first.iter().all(u8::is_ascii_alphanumeric)
                    && first.iter().any(u8::is_ascii_digit);
                let cmd = if tagged {
                    &s[first.len() + 1.min(s.len() - first.len())..]
                } else {
                    &s[..]
                };
                if cmd.ends_with(b"\n") {
                    cmd.to_vec()
                } else {
                    [cmd, b"\r\n"].concat()
                }
            })
            .filter(|s| {
                !FORBIDDEN
                    .iter()
                    .any(|f| verb(&[b"x ".as_slice(), s].concat()) == f.as_bytes())
            })
            .collect();
        let grammar = TextGrammar {
            verbs: VERBS.iter().map(|v| b(v)).collect(),
            args: [
                "INBOX",
                "\"\"",
                "*",
                "%",
                "1",
                "1:*",
                "*:1",
                "0",
                "4294967296",
                "(FLAGS)",
                "(BODY.PEEK[])",
                "ALL",
                "NIL",
                "{5}",
                "\"a\\\"b\"",
                "(",
                ")",
                "${imap.user}",
            ]
            .map(b)
            .to_vec(),
            // RFC 9051 §4 sets no limit; 8000 octets is the recommended minimum (RFC 7162 §4).
            line_limit: 8192,
        };
        let command = mutate::message(Arc::new(seeds), Arc::new(grammar));
        let login = b("p1 LOGIN \"${imap.user}\" \"${imap.password}\"\r\n");
        let examine = b("p2 EXAMINE INBOX\r\n");
        // Where the profile says TLS, every session is inside it (see
        // `open`), LOGIN included.
        let prefixes = vec![vec![], vec![login.clone()], vec![login, examine]];
        let channel = channels.first().map(|c| c.name.clone()).unwrap_or_default();
        (
            proptest::sample::select(prefixes),
            proptest::collection::vec(command, 1..6),
        )
            .prop_map(move |(prefix, commands)| {
                let n = commands.len();
                let messages = commands
                    .into_iter()
                    .enumerate()
                    .map(|(i, mut c)| {
                        let forbidden = FORBIDDEN
                            .iter()
                            .any(|f| verb(&[b"x ".as_slice(), &c].concat()) == f.as_bytes());
                        if forbidden {
                            c = b"NOOP\r\n".to_vec();
                        } else if i + 1 < n
                            && (!LineProtocol::cleanly_framed(&c) || literal_at_end(&c).is_some())
                        {
                            c = b"NOOP\r\n".to_vec();
                        }
                        [format!("f{} ", i + 1).as_bytes(), &c].concat()
                    })
                    .collect();
                Case {
                    protocol: "imap".into(),
                    channel: channel.clone(),
                    prefix: prefix.clone(),
                    messages,
                }
            })
            .boxed()
    }

    fn oracles(&self) -> Vec<(Oracle, String)> {
        vec![
            (Oracle::Answers, "each command gets its tagged completion in time (or * BYE and the close)".into()),
            (Oracle::WellFormed, "responses are untagged, continuation or completion lines, CRLF-terminated, literals as announced".into()),
            (Oracle::AcceptableClass, "an unknown command gets BAD or NO, never OK (RFC 9051 §7.1.3)".into()),
            (Oracle::StaysAlive, "a fresh connection gets a greeting and NOOP an OK".into()),
        ]
    }

    fn reusable(&self, _: &Channel) -> bool {
        false
    }

    fn open(&self, channel: &Channel, limits: &Limits) -> Result<Link, String> {
        let security = self.security.read().map(|s| s.clone()).unwrap_or_default();
        let deadline = || Instant::now() + limits.reply_timeout;
        let mut l = TcpLink::connect(channel.addr, limits.reply_timeout)?;
        security.before_greeting(&mut l, deadline())?;
        let g = l
            .read_line(MAX_LINE, deadline())
            .map_err(|e| format!("the greeting: {}", e.describe(limits.reply_timeout)))?;
        let g_up = g.to_ascii_uppercase();
        if !(g_up.starts_with(b"* OK") || g_up.starts_with(b"* PREAUTH")) {
            return Err(format!(
                "the greeting is not * OK: \"{}\"",
                escape_short(&g, 120)
            ));
        }
        // RFC 9051 §6.2.1: STARTTLS, then the handshake after its tagged OK.
        security.after_greeting(&mut l, deadline(), |l| {
            l.send(b"p0 STARTTLS\r\n")?;
            match Self::read_completion(l, b"p0", deadline()) {
                Ok(Some(status)) if status == b"OK" => Ok(()),
                Ok(Some(status)) => Err(format!(
                    "STARTTLS was answered {}",
                    String::from_utf8_lossy(&status)
                )),
                Ok(None) => Err("the server said BYE to STARTTLS".into()),
                Err(Ok(v)) => Err(v.message),
                Err(Err(e)) => Err(e.describe(limits.reply_timeout)),
            }
        })?;
        Ok(Link::Tcp(l))
    }

    fn exchange(
        &self,
        link: &mut Link,
        msg: &[u8],
        step: Step,
        limits: &Limits,
    ) -> Result<Next, Violation> {
        let Link::Tcp(l) = link else {
            return Err(Violation::new(Oracle::Answers, "IMAP runs over TCP"));
        };
        let msg = self.expand(msg);
        let v = verb(&msg);
        if FORBIDDEN.iter().any(|f| f.as_bytes() == v.as_slice()) {
            return Ok(Next::Ended);
        }
        let deadline = Instant::now() + limits.reply_timeout;
        let tag = tag_of(&msg).map(<[u8]>::to_vec);
        // A server may drop a client after a BAD (Dovecot's login process
        // does after an over-long line): a connection found closed right
        // after an error completion ends the session.
        let dropped = |l: &TcpLink| l.after_error && !step.prefix;
        if let Err(e) = l.send(&msg) {
            if dropped(l) {
                return Ok(Next::Ended);
            }
            return Err(Violation::new(
                Oracle::Answers,
                format!("the server stopped taking data: {e}"),
            ));
        }
        let Some(tag) =
            tag.filter(|_| LineProtocol::cleanly_framed(&msg) && literal_at_end(&msg).is_none())
        else {
            // How many commands the server saw, or whether it waits for a
            // literal, cannot be told: after the client's close it must close
            // in time.
            l.shutdown_write();
            return match l.read_to_close(MAX_LITERAL, deadline) {
                Ok(_) => Ok(Next::Ended),
                Err(e) => Err(Violation::new(
                    Oracle::Answers,
                    format!(
                        "after an oddly framed last command and the client's close: {}",
                        e.describe(limits.reply_timeout)
                    ),
                )),
            };
        };
        let status = match Self::read_completion(l, &tag, deadline) {
            Ok(Some(s)) => s,
            Ok(None) => return Ok(Next::Ended),
            Err(Err(ReadError::Closed { partial })) if partial.is_empty() && dropped(l) => {
                return Ok(Next::Ended)
            }
            Err(Ok(v)) => return Err(v),
            Err(Err(e)) => {
                return Err(
                    Violation::new(Oracle::Answers, e.describe(limits.reply_timeout)).expected(
                        format!("the tagged completion of \"{}\"", escape_short(&msg, 120)),
                    ),
                )
            }
        };
        l.after_error = status != b"OK";
        let known = VERBS.iter().any(|k| k.as_bytes() == v.as_slice());
        if !step.prefix && !known && status == b"OK" {
            return Err(
                Violation::new(Oracle::AcceptableClass, "an unknown command got OK")
                    .expected("BAD (or NO)")
                    .got(format!("OK to \"{}\"", escape_short(&msg, 160))),
            );
        }
        if step.prefix && status != b"OK" {
            return Err(Violation::new(
                Oracle::AcceptableClass,
                "a command of the valid session prefix was refused",
            )
            .expected("OK")
            .got(String::from_utf8_lossy(&status).into_owned()));
        }
        Ok(Next::Continue)
    }

    fn probe(&self, channels: &[Channel], limits: &Limits) -> Result<(), String> {
        for c in channels {
            let Link::Tcp(mut l) = self.open(c, limits)? else {
                continue;
            };
            l.send(b"p0 NOOP\r\n")?;
            match Self::read_completion(&mut l, b"p0", Instant::now() + limits.reply_timeout) {
                Ok(Some(s)) if s == b"OK" => {}
                Ok(other) => {
                    return Err(format!(
                        "NOOP got {:?}",
                        other.map(|s| String::from_utf8_lossy(&s).into_owned())
                    ))
                }
                Err(Ok(v)) => return Err(v.message),
                Err(Err(e)) => return Err(e.describe(limits.reply_timeout)),
            }
        }
        Ok(())
    }

    fn scenario(&self, case: &Case, _: &Violation) -> String {
        super::session_scenario("imap", "@rfc9051", case)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_verbs_and_literals() {
        assert_eq!(tag_of(b"f3 NOOP\r\n"), Some(&b"f3"[..]));
        assert_eq!(tag_of(b"a1 NOOP\r\n"), None);
        assert_eq!(verb(b"f1 fetch 1 (FLAGS)\r\n"), b"FETCH");
        assert_eq!(literal_at_end(b"* 1 FETCH (BODY[] {12}\r\n"), Some(12));
        assert_eq!(literal_at_end(b"f1 LOGIN {3+}\r\n"), Some(3));
        assert_eq!(literal_at_end(b"* OK {x}\r\n"), None);
    }
}
