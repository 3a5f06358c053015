//! The generic CRLF command/reply protocol: a client sends `VERB args<CRLF>`,
//! the server answers each command with one reply. SMTP, FTP (numeric
//! replies, RFC 5321 §4.2 and RFC 959 §4.2) and POP3 (`+OK`/`-ERR`, RFC 1939
//! §3) modules configure a [`LineProtocol`]; so can a course's own text
//! protocol.
//!
//! Oracles:
//! - answers: each command gets its reply within the deadline; a command
//!   whose line ending is not CRLF is sent last, after which the fuzzer
//!   closes its side and the server must finish and close in time;
//! - well-formed: replies follow the dialect (`ddd text<CRLF>`, multi-line
//!   `ddd-` lines with the same code, or `+OK`/`-ERR`), CRLF-terminated;
//! - acceptable class: a command whose verb is not one of the protocol's
//!   gets an error reply (4xx/5xx, `-ERR`), never success;
//! - stays alive: a fresh connection gets a greeting and the probe command
//!   a success reply.

use std::sync::{Arc, RwLock};
use std::time::Instant;

use proptest::prelude::*;

use super::link::{Link, ReadError, TcpLink};
use super::mutate::{self, TextGrammar};
use super::{
    Case, Channel, FuzzProtocol, Limits, Next, Oracle, Security, Step, Transport, Violation,
};
use crate::notation::escape_short;
use crate::target::Profile;
use crate::wire::codec::Malformed;
use crate::wire::{ftp, pop3, smtp, Terminator};

/// Most bytes read after an oddly framed last line, up to the close.
const MAX_AFTER_ODD: usize = 1024 * 1024;

/// A reply the dialect's decoder refused.
fn malformed_reply(m: &Malformed) -> Violation {
    match m {
        Malformed::Syntax { expected, got } => {
            Violation::new(Oracle::WellFormed, format!("a malformed reply: {expected}"))
                .expected(expected.clone())
                .got(format!("\"{}\"", escape_short(got, 200)))
        }
        other => Violation::new(Oracle::WellFormed, other.to_string()),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// `250-first` … `250 last`, every line with the code (SMTP, RFC 5321
    /// §4.2.1).
    Numeric,
    /// `211-first`, free text, … `211 last` (FTP, RFC 959 §4.2: only the
    /// first and the last line of a multi-line reply carry the code).
    NumericFreeText,
    /// `+OK text` / `-ERR text` (POP3).
    OkErr,
}

/// A reply as read: its lines without terminators, and whether it is an
/// error (4xx/5xx, `-ERR`).
#[derive(Clone, Debug)]
pub struct LineReply {
    pub lines: Vec<Vec<u8>>,
    pub error: bool,
    pub status: String,
}

pub struct LineProtocol {
    pub name: &'static str,
    /// Profile key of the address: `<name>.<key>`.
    pub key: &'static str,
    pub dialect: Dialect,
    /// The server speaks first (SMTP 220, POP3 +OK, FTP 220).
    pub greeting: bool,
    /// Verbs (which are mutated into each other), argument samples, line limit.
    pub grammar: TextGrammar,
    /// Valid command lines (with CRLF) to mutate.
    pub seeds: Vec<Vec<u8>>,
    /// Valid session prefixes (`${section.key}` is filled from the profile),
    /// so that mutations land in deeper states. The empty prefix is always one.
    pub prefixes: Vec<Vec<Vec<u8>>>,
    /// A command that must succeed on a fresh session (`NOOP`).
    pub probe: Vec<u8>,
    /// Most mutated commands in one session.
    pub max_messages: usize,
    /// The feature tag of the protocol's RFC (`@rfc5321`), for regression
    /// scenarios.
    pub rfc: &'static str,
    /// The control connection carries Telnet (FTP, RFC 959 §4.1): IAC
    /// sequences around a verb do not make it unknown.
    pub telnet: bool,
    /// Verbs never sent (a drawn command with one becomes the probe): those
    /// that change the target (DELE, STOR), hold its resources (PASV), or
    /// end the command/reply dialogue (QUIT, DATA, STARTTLS, AUTH).
    pub forbidden: Vec<Vec<u8>>,
    /// Whether a success reply to this verb (upper-cased; with or without
    /// an argument) carries a dot-terminated body (POP3 LIST, CAPA, RETR).
    pub multiline: fn(&[u8], bool) -> bool,
    /// With `tls = "starttls"`: the commands after the greeting that end
    /// in the server's go-ahead for the handshake (SMTP `EHLO`, `STARTTLS`;
    /// POP3 `STLS`; FTP `AUTH TLS`), each answered with success.
    pub upgrade: Vec<Vec<u8>>,
    profile: RwLock<Profile>,
    security: RwLock<Security>,
}

impl LineProtocol {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &'static str,
        key: &'static str,
        dialect: Dialect,
        greeting: bool,
        grammar: TextGrammar,
        seeds: Vec<Vec<u8>>,
        prefixes: Vec<Vec<Vec<u8>>>,
        probe: Vec<u8>,
    ) -> Self {
        LineProtocol {
            name,
            key,
            dialect,
            greeting,
            grammar,
            seeds,
            prefixes,
            probe,
            max_messages: 8,
            rfc: "",
            telnet: false,
            forbidden: Vec::new(),
            multiline: |_, _| false,
            upgrade: Vec::new(),
            profile: RwLock::new(Profile::default()),
            security: RwLock::new(Security::default()),
        }
    }

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

    /// The verb: the bytes before the first space or tab, after any leading
    /// whitespace, upper-cased.
    fn verb_of(msg: &[u8]) -> Vec<u8> {
        let start = msg
            .iter()
            .position(|b| *b != b' ' && *b != b'\t')
            .unwrap_or(msg.len());
        let rest = &msg[start..];
        let end = rest
            .iter()
            .position(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            .unwrap_or(rest.len());
        rest[..end].to_ascii_uppercase()
    }

    /// Whether anything follows the verb on the line.
    fn has_arg(msg: &[u8]) -> bool {
        let body = msg
            .strip_suffix(b"\r\n")
            .or_else(|| msg.strip_suffix(b"\n"))
            .unwrap_or(msg);
        let verb = Self::verb_of(body).len();
        let start = body
            .iter()
            .position(|b| *b != b' ' && *b != b'\t')
            .unwrap_or(body.len());
        body[(start + verb).min(body.len())..]
            .iter()
            .any(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
    }

    fn known_verb(&self, msg: &[u8]) -> bool {
        // Telnet commands are the transport's, not the verb's (RFC 959
        // §4.1.3: ABOR comes after IAC IP IAC DM).
        let v = if self.telnet {
            Self::verb_of(&strip_telnet(msg))
        } else {
            Self::verb_of(msg)
        };
        self.grammar
            .verbs
            .iter()
            .chain(&self.forbidden)
            .chain(self.prefixes.iter().flatten())
            .chain(self.seeds.iter())
            .chain(std::iter::once(&self.probe))
            .any(|k| Self::verb_of(k) == v)
    }

    /// Reads one reply of the dialect through the suites' decoder for it
    /// (`wire::smtp`, `wire::ftp`, `wire::pop3`); `multi`: a POP3 +OK is
    /// followed by dot-terminated data. FTP's positive preliminary replies
    /// (1yz, RFC 959 §4.2) are skipped: the final one follows. Every line
    /// must end in CRLF.
    pub fn read_reply(
        &self,
        l: &mut TcpLink,
        deadline: Instant,
        multi: bool,
    ) -> Result<LineReply, Result<Violation, ReadError>> {
        loop {
            let read = match self.dialect {
                Dialect::Numeric => l.read_decoded(&mut smtp::ReplyDecoder::default(), deadline),
                Dialect::NumericFreeText => {
                    l.read_decoded(&mut ftp::ReplyDecoder::default(), deadline)
                }
                Dialect::OkErr => {
                    let mut d = pop3::ReplyDecoder::new(multi);
                    d.unstuff = false;
                    l.read_decoded(&mut d, deadline)
                }
            };
            let reply = match read {
                Ok(r) => r,
                Err(ReadError::Malformed(m)) if !matches!(m, Malformed::TooLong { .. }) => {
                    return Err(Ok(malformed_reply(&m)))
                }
                Err(e) => return Err(Err(e)),
            };
            if let Some(bare) = reply.lines.iter().find(|l| l.end != Terminator::CrLf) {
                return Err(Ok(Violation::new(
                    Oracle::WellFormed,
                    "a reply line ends in a bare LF, not CRLF",
                )
                .expected("CRLF at the end of every reply line")
                .got(format!("\"{}\\n\"", escape_short(&bare.bytes, 200)))));
            }
            if self.dialect == Dialect::NumericFreeText && reply.class() == Some('1') {
                continue;
            }
            let error = matches!(reply.class(), Some('4' | '5')) || reply.status == "-ERR";
            return Ok(LineReply {
                error,
                status: reply.status,
                lines: reply.lines.into_iter().map(|l| l.bytes).collect(),
            });
        }
    }

    /// A message that ends in CRLF and has no other CR or LF: the server
    /// sees exactly one command line.
    pub fn cleanly_framed(msg: &[u8]) -> bool {
        msg.ends_with(b"\r\n")
            && !msg[..msg.len() - 2]
                .iter()
                .any(|b| *b == b'\r' || *b == b'\n')
    }

    /// A cleanly framed line with something on it: exactly one reply is
    /// owed. An empty or blank line may be answered (500) or ignored
    /// (vsftpd ignores it), so it is treated like an oddly framed one.
    pub fn one_reply_owed(msg: &[u8]) -> bool {
        Self::cleanly_framed(msg)
            && msg
                .iter()
                .any(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
    }
    /// Makes a message one clean command line (for messages that are not last).
    fn clean(mut msg: Vec<u8>) -> Vec<u8> {
        while msg.last().is_some_and(|b| *b == b'\r' || *b == b'\n') {
            msg.pop();
        }
        for b in msg.iter_mut() {
            if *b == b'\r' || *b == b'\n' {
                *b = b' ';
            }
        }
        msg.extend_from_slice(b"\r\n");
        msg
    }

    fn success_of(&self, l: &mut TcpLink, deadline: Instant, what: &str) -> Result<(), String> {
        match self.read_reply(l, deadline, false) {
            Ok(r) if !r.error => Ok(()),
            Ok(r) => Err(format!(
                "{what}: an error reply \"{}\"",
                escape_short(&r.lines.concat(), 120)
            )),
            Err(Ok(v)) => Err(format!("{what}: {}", v.message)),
            Err(Err(e)) => Err(format!("{what}: {}", e.describe(std::time::Duration::ZERO))),
        }
    }
}

/// Removes Telnet commands (RFC 854): IAC IAC is a data 0xFF; IAC WILL,
/// WONT, DO or DONT take an option byte; IAC and any other byte is a command.
pub fn strip_telnet(msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len());
    let mut i = 0;
    while i < msg.len() {
        match (msg[i], msg.get(i + 1)) {
            (0xff, Some(0xff)) => {
                out.push(0xff);
                i += 2;
            }
            (0xff, Some(0xfb..=0xfe)) => i += 3,
            (0xff, _) => i += 2,
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

impl FuzzProtocol for LineProtocol {
    fn name(&self) -> &'static str {
        self.name
    }

    fn channels(&self, profile: &Profile) -> Result<Vec<Channel>, String> {
        if let Ok(mut p) = self.profile.write() {
            *p = profile.clone();
        }
        let security = Security::of(profile, self.name)?;
        if security.mode == crate::wire::tls::Mode::StartTls && self.upgrade.is_empty() {
            return Err(format!(
                "[{}] tls = \"starttls\": the {} fuzzer does not start TLS",
                self.name, self.name
            ));
        }
        if let Ok(mut s) = self.security.write() {
            *s = security;
        }
        let path = format!("{}.{}", self.name, self.key);
        Ok(vec![Channel::from_profile(
            profile,
            &path,
            self.key,
            Transport::Tcp,
        )?])
    }

    fn builtin_seeds(&self) -> Vec<Vec<u8>> {
        self.seeds.clone()
    }

    fn strategy(&self, channels: &[Channel], seeds: Arc<Vec<Vec<u8>>>) -> BoxedStrategy<Case> {
        // Seeds are command lines: a suite's `sends "NOOP"` gets its CRLF.
        let seeds: Vec<Vec<u8>> = seeds
            .iter()
            .map(|s| {
                if s.ends_with(b"\n") {
                    s.clone()
                } else {
                    [s.as_slice(), b"\r\n"].concat()
                }
            })
            .collect();
        let msg = mutate::message(Arc::new(seeds), Arc::new(self.grammar.clone()));
        // Where the profile says TLS, every session is inside it (see
        // `open`), logins included.
        let mut prefixes = vec![Vec::new()];
        prefixes.extend(self.prefixes.iter().cloned());
        let channel = channels.first().map(|c| c.name.clone()).unwrap_or_default();
        let name = self.name.to_string();
        let forbidden = self.forbidden.clone();
        let probe = self.probe.clone();
        (
            proptest::sample::select(prefixes),
            proptest::collection::vec(msg, 1..=self.max_messages.max(1)),
        )
            .prop_map(move |(prefix, mut messages)| {
                // Only the last command may be framed oddly: after it the
                // fuzzer cannot tell how many commands the server saw.
                let n = messages.len();
                for (i, m) in messages.iter_mut().enumerate() {
                    let v = LineProtocol::verb_of(m);
                    if forbidden.iter().any(|f| f.eq_ignore_ascii_case(&v)) {
                        *m = probe.clone();
                    } else if i + 1 < n && !LineProtocol::one_reply_owed(m) {
                        *m = LineProtocol::clean(std::mem::take(m));
                        if !LineProtocol::one_reply_owed(m) {
                            *m = probe.clone();
                        }
                    }
                }
                Case {
                    protocol: name.clone(),
                    channel: channel.clone(),
                    prefix,
                    messages,
                }
            })
            .boxed()
    }

    fn oracles(&self) -> Vec<(Oracle, String)> {
        vec![
            (Oracle::Answers, "each command gets its reply in time; after an oddly framed last line and the client's close, the server closes in time".into()),
            (Oracle::WellFormed, match self.dialect {
                Dialect::Numeric => "replies are `ddd text` lines (multi-line `ddd-`), CRLF-terminated".into(),
                Dialect::NumericFreeText => "replies are `ddd text` lines (multi-line: `ddd-` … `ddd `), CRLF-terminated".into(),
                Dialect::OkErr => "replies are `+OK`/`-ERR` lines, CRLF-terminated".into(),
            }),
            (Oracle::AcceptableClass, "an unknown command gets an error reply, never success".into()),
            (Oracle::StaysAlive, format!("a fresh session gets a greeting and \"{}\" succeeds", escape_short(&self.probe, 60))),
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
        if self.greeting {
            self.success_of(&mut l, deadline(), "the greeting")?;
        }
        security.after_greeting(&mut l, deadline(), |l| {
            for command in &self.upgrade {
                l.send(command)?;
                let what = String::from_utf8_lossy(command).trim_end().to_string();
                self.success_of(l, deadline(), &what)?;
            }
            Ok(())
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
            return Err(Violation::new(
                Oracle::Answers,
                "a line protocol runs over TCP",
            ));
        };
        let msg = self.expand(msg);
        // A forbidden verb is never sent, even when shrinking makes one.
        let verb = Self::verb_of(&msg);
        if self.forbidden.iter().any(|f| f.eq_ignore_ascii_case(&verb)) {
            return Ok(Next::Ended);
        }
        let deadline = Instant::now() + limits.reply_timeout;
        // A server may drop a client after error replies (Dovecot POP3 after
        // three bad commands: "-ERR Too many invalid bad commands."); a
        // connection found closed right after an error reply ends the
        // session. Closing without a word after a command it accepted, or
        // after the first bad one, remains a finding.
        let dropped_after_error = |l: &TcpLink| l.after_error && !step.prefix;
        if let Err(e) = l.send(&msg) {
            if dropped_after_error(l) {
                return Ok(Next::Ended);
            }
            return Err(Violation::new(
                Oracle::Answers,
                format!("the server stopped taking data: {e}"),
            ));
        }
        if !Self::one_reply_owed(&msg) {
            // How many commands the server saw depends on how it treats a
            // bare CR or LF; after the client's close it must answer what it
            // owes and close, in time.
            l.shutdown_write();
            return match l.read_to_close(MAX_AFTER_ODD, deadline) {
                Ok(_) => Ok(Next::Ended),
                Err(e) => Err(Violation::new(
                    Oracle::Answers,
                    format!(
                        "after an oddly framed last line and the client's close: {}",
                        e.describe(limits.reply_timeout)
                    ),
                )
                .expected("the replies it owes, then the connection closed")),
            };
        }
        let multi = self.dialect == Dialect::OkErr
            && (self.multiline)(&Self::verb_of(&msg), Self::has_arg(&msg));
        let reply = match self.read_reply(l, deadline, multi) {
            Ok(r) => r,
            Err(Ok(v)) => return Err(v),
            Err(Err(ReadError::Closed { partial }))
                if partial.is_empty() && dropped_after_error(l) =>
            {
                return Ok(Next::Ended)
            }
            Err(Err(e)) => {
                return Err(
                    Violation::new(Oracle::Answers, e.describe(limits.reply_timeout))
                        .expected(format!("a reply to \"{}\"", escape_short(&msg, 120))),
                )
            }
        };
        // 421: the server closes the channel, which it may do at any time
        // (RFC 5321 §3.8, RFC 959 §4.2).
        // 221 and 421 close the channel; a server may close it at any time
        // (RFC 5321 §3.8; Postfix answers a command line with control bytes
        // "221 2.7.0 Error: I can break rules, too. Goodbye.").
        if self.dialect != Dialect::OkErr && (reply.status == "421" || reply.status == "221") {
            return Ok(Next::Ended);
        }
        l.after_error = reply.error;
        if !step.prefix && !reply.error && !self.known_verb(&msg) {
            return Err(Violation::new(
                Oracle::AcceptableClass,
                "an unknown command got a success reply",
            )
            .expected(match self.dialect {
                Dialect::Numeric | Dialect::NumericFreeText => {
                    "an error reply (500 command unrecognized, or another 4xx/5xx)"
                }
                Dialect::OkErr => "-ERR",
            })
            .got(format!(
                "\"{}\" to \"{}\"",
                escape_short(&reply.lines.join(&b"\r\n"[..]), 200),
                escape_short(&msg, 120)
            )));
        }
        if step.prefix && reply.error {
            return Err(Violation::new(
                Oracle::AcceptableClass,
                "a command of the valid session prefix was refused",
            )
            .expected("success")
            .got(format!("\"{}\"", escape_short(&reply.lines.concat(), 200))));
        }
        Ok(Next::Continue)
    }

    fn probe(&self, channels: &[Channel], limits: &Limits) -> Result<(), String> {
        for c in channels {
            let Link::Tcp(mut l) = self.open(c, limits)? else {
                continue;
            };
            l.send(&self.expand(&self.probe))?;
            self.success_of(&mut l, Instant::now() + limits.reply_timeout, "the probe")?;
        }
        Ok(())
    }

    fn scenario(&self, case: &Case, _: &Violation) -> String {
        super::session_scenario(self.name, self.rfc, case)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_and_verbs() {
        assert!(LineProtocol::cleanly_framed(b"NOOP\r\n"));
        assert!(!LineProtocol::cleanly_framed(b"NOOP\n"));
        assert!(!LineProtocol::cleanly_framed(b"NO\nOP\r\n"));
        assert_eq!(LineProtocol::clean(b"A\nB\r".to_vec()), b"A B\r\n");
        assert_eq!(LineProtocol::verb_of(b"  helo\tx\r\n"), b"HELO");
    }
}
