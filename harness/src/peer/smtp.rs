//! An SMTP server peer (RFC 5321) for judging mail clients: a scripted
//! greeting, scripted replies per command (multi-line, 4xx, 5xx, 421), and
//! a record of every command line and every octet of message data exactly
//! as the client under test sent them, with whether each command came
//! before the peer had finished its previous reply (RFC 5321 §4.3.1: "the
//! sender MUST wait for this response before sending further commands").
//!
//! Replies are written with the harness's own SMTP reply syntax
//! (`crate::wire::smtp`); nothing is shared with the reference servers.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{accept_loop, listen, Connections, Served, Tasks, MAX_RECORDED};
use crate::transcript::Transcript;
use crate::wire::{Terminator, WireError};

/// The peer's name in its greeting and EHLO reply.
pub const DOMAIN: &str = "peer.conform.test";
/// Longest command line the peer reads (RFC 5321 §4.5.3.1.4 says 512; more
/// is recorded as too long).
const MAX_COMMAND: usize = 4096;
/// Longest text line of message data the peer reads (§4.5.3.1.6: 1000).
const MAX_TEXT: usize = 64 * 1024;

#[derive(Clone, Debug)]
pub struct Script {
    /// The greeting, one reply (several lines for a multi-line one).
    pub greeting: String,
    pub greeting_delay: Duration,
    /// EHLO extensions announced; `None`: EHLO is answered 500 (a server
    /// that knows only HELO).
    pub extensions: Option<Vec<String>>,
    /// Replies by verb (`MAIL`, `RCPT`, …, and `.` for the end of data),
    /// instead of the defaults; lines separated by `\n`.
    pub replies: Vec<(String, String)>,
    /// Before every reply the peer waits this long and notes whether the
    /// client sent more meanwhile (pipelining).
    pub reply_delay: Duration,
    /// In a multi-line reply, the pause before its last line.
    pub last_line_pause: Duration,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            greeting: format!("220 {DOMAIN} ESMTP conform peer"),
            greeting_delay: Duration::ZERO,
            extensions: Some(vec!["8BITMIME".into(), "ENHANCEDSTATUSCODES".into()]),
            replies: Vec::new(),
            reply_delay: Duration::ZERO,
            last_line_pause: Duration::ZERO,
        }
    }
}

impl Script {
    fn reply_for(&self, verb: &str) -> String {
        if let Some((_, r)) = self
            .replies
            .iter()
            .find(|(v, _)| v.eq_ignore_ascii_case(verb))
        {
            return r.clone();
        }
        match verb {
            "EHLO" => match &self.extensions {
                None => "500 5.5.1 Command unrecognized: EHLO".into(),
                Some(exts) => {
                    let mut lines = vec![format!("250 {DOMAIN} greets you")];
                    lines.extend(exts.iter().map(|e| format!("250 {e}")));
                    lines.join("\n")
                }
            },
            "HELO" => format!("250 {DOMAIN}"),
            "MAIL" => "250 2.1.0 Sender ok".into(),
            "RCPT" => "250 2.1.5 Recipient ok".into(),
            "DATA" => "354 Start mail input; end with <CRLF>.<CRLF>".into(),
            "." => "250 2.0.0 Message accepted".into(),
            "RSET" | "NOOP" => "250 2.0.0 OK".into(),
            "QUIT" => format!("221 2.0.0 {DOMAIN} closing connection"),
            "VRFY" => "252 2.1.5 Cannot VRFY user".into(),
            _ => "500 5.5.2 Command unrecognized".into(),
        }
    }
}

/// The SMTP verbs a client may send (RFC 5321 §4.1.1 and the common
/// extensions); anything else a client sends where a command belongs is
/// not a command (message data sent without a 354, garbage).
pub const VERBS: &[&str] = &[
    "EHLO", "HELO", "MAIL", "RCPT", "DATA", "RSET", "VRFY", "EXPN", "HELP", "NOOP", "QUIT",
    "STARTTLS", "AUTH", "BDAT",
];

/// One command line as the client sent it.
#[derive(Clone, Debug)]
pub struct Command {
    /// Without its line ending.
    pub line: Vec<u8>,
    /// The verb, upper-cased (the first word).
    pub verb: String,
    pub crlf: bool,
    /// It arrived before the peer had sent the whole reply to what came
    /// before it (the greeting or the previous command).
    pub early: bool,
    /// The reply the peer gave it (its first line's code).
    pub reply: String,
}

impl Command {
    /// A line read where a command belongs; `verb` is empty when it is no
    /// SMTP command.
    fn of(line: &crate::wire::Line, early: bool, reply: String) -> Command {
        let verb = String::from_utf8_lossy(&line.bytes)
            .split(' ')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_uppercase();
        Command {
            line: line.bytes.clone(),
            verb: if VERBS.contains(&verb.as_str()) {
                verb
            } else {
                String::new()
            },
            crlf: line.end == Terminator::CrLf,
            early,
            reply,
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.line).into_owned()
    }
}

/// The message data of one DATA, as sent (dot-stuffed, line ends as they
/// came), without the end marker.
#[derive(Clone, Debug, Default)]
pub struct Data {
    pub raw: Vec<u8>,
    /// The data ended with CRLF . CRLF.
    pub ended: bool,
    /// Bytes past the peer's bound: not kept.
    pub truncated: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Session {
    /// Bytes that came before the greeting was complete.
    pub before_greeting: Vec<u8>,
    pub commands: Vec<Command>,
    pub data: Vec<Data>,
    /// A line longer than the peer reads (it closed the connection).
    pub overlong: bool,
    /// The peer closed after 421 or 221.
    pub closed_by_peer: bool,
}

pub struct SmtpPeer {
    pub addr: SocketAddr,
    pub conns: Connections,
    pub sessions: Arc<Mutex<Vec<Session>>>,
    _tasks: Arc<Tasks>,
}

impl SmtpPeer {
    pub async fn start(script: Script, transcript: &Transcript) -> std::io::Result<SmtpPeer> {
        let (listener, addr) = listen().await?;
        transcript.event("smtp peer", format!("listening on {addr}"));
        let conns = Connections::default();
        let sessions: Arc<Mutex<Vec<Session>>> = Arc::default();
        let tasks = Arc::new(Tasks::default());
        let s2 = sessions.clone();
        accept_loop(
            listener,
            "smtp peer",
            transcript,
            &conns,
            &tasks,
            move |served| serve(served, script.clone(), s2.clone()),
        );
        Ok(SmtpPeer {
            addr,
            conns,
            sessions,
            _tasks: tasks,
        })
    }

    /// The sessions so far, in the order the connections came.
    pub fn sessions(&self) -> Vec<Session> {
        self.sessions.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// Updates the session of connection `i`.
fn with(sessions: &Arc<Mutex<Vec<Session>>>, i: usize, f: impl FnOnce(&mut Session)) {
    if let Ok(mut s) = sessions.lock() {
        while s.len() <= i {
            s.push(Session::default());
        }
        f(&mut s[i]);
    }
}

/// Sends a reply (lines separated by `\n`), pausing before the last line
/// of a multi-line one. Returns whether the client sent anything before the
/// reply was complete.
async fn reply(s: &mut Served, script: &Script, text: &str) -> Result<bool, WireError> {
    if !script.reply_delay.is_zero() {
        s.conn
            .wait_for_more(script.reply_delay, MAX_COMMAND)
            .await?;
    }
    let lines: Vec<&str> = text.split('\n').collect();
    let n = lines.len();
    let wire = |i: usize, l: &str| {
        // `CODE-text` on every line but the last (RFC 5321 §4.2.1).
        let (code, rest) = l.split_at(l.len().min(3));
        let rest = rest.strip_prefix(' ').unwrap_or(rest);
        let sep = if i + 1 < n { "-" } else { " " };
        format!("{code}{sep}{rest}\r\n").into_bytes()
    };
    if n > 1 && !script.last_line_pause.is_zero() {
        let head: Vec<u8> = lines[..n - 1]
            .iter()
            .enumerate()
            .flat_map(|(i, l)| wire(i, l))
            .collect();
        s.conn.send(&head).await?;
        s.conn
            .wait_for_more(script.last_line_pause, MAX_COMMAND)
            .await?;
        let early = !s.conn.buffered().is_empty();
        s.conn.send(&wire(n - 1, lines[n - 1])).await?;
        return Ok(early);
    }
    let all: Vec<u8> = lines
        .iter()
        .enumerate()
        .flat_map(|(i, l)| wire(i, l))
        .collect();
    let early = !s.conn.buffered().is_empty();
    s.conn.send(&all).await?;
    Ok(early)
}

async fn serve(mut s: Served, script: Script, sessions: Arc<Mutex<Vec<Session>>>) {
    let i = s.index;
    with(&sessions, i, |_| {});
    let started = Instant::now();
    if !script.greeting_delay.is_zero() {
        let _ = s
            .conn
            .wait_for_more(script.greeting_delay, MAX_COMMAND)
            .await;
    }
    let early = s.conn.buffered().to_vec();
    if !early.is_empty() {
        s.keep(&early);
        with(&sessions, i, |x| x.before_greeting = early.clone());
    }
    let greeting = script.greeting.clone();
    let mut early = match reply(&mut s, &script, &greeting).await {
        Ok(e) => e,
        Err(_) => return s.ended(true),
    };
    if greeting.starts_with("421") || greeting.starts_with("554") {
        // §3.1: a server that refuses the session answers commands with 503
        // until QUIT; this peer just records what the client does next.
    }
    loop {
        let line = match s
            .conn
            .read_line(MAX_COMMAND, "the client's next command")
            .await
        {
            Ok(l) => l,
            Err(WireError::TooLong { .. }) => {
                with(&sessions, i, |x| x.overlong = true);
                let _ = s.conn.send(b"500 5.5.6 Line too long\r\n").await;
                s.ended(false);
                return;
            }
            Err(WireError::Timeout { .. } | WireError::OverBudget { .. }) => return s.ended(false),
            Err(WireError::Closed { partial, .. }) => {
                s.keep(&partial);
                return s.ended(true);
            }
            Err(_) => return s.ended(true),
        };
        let mut raw = line.bytes.clone();
        raw.extend_from_slice(if line.end == Terminator::CrLf {
            b"\r\n"
        } else {
            b"\n"
        });
        s.keep(&raw);
        let verb = Command::of(&line, false, String::new()).verb;
        let text = script.reply_for(&verb);
        let code = text.get(..3).unwrap_or("").to_string();
        with(&sessions, i, |x| {
            x.commands.push(Command::of(&line, early, code.clone()))
        });
        early = match reply(&mut s, &script, &text).await {
            Ok(e) => e,
            Err(_) => return s.ended(true),
        };
        if (verb == "QUIT" && code.starts_with('2')) || code == "421" {
            with(&sessions, i, |x| x.closed_by_peer = true);
            let _ = s.conn.shutdown_write().await;
            // What a client still sends after the close is recorded as
            // commands (unanswered), so that "nothing after the 421" can
            // be judged.
            for _ in 0..100 {
                match s
                    .conn
                    .read_line(MAX_COMMAND, "anything after the close")
                    .await
                {
                    Ok(line) => {
                        s.keep(&line.bytes);
                        with(&sessions, i, |x| {
                            x.commands.push(Command::of(&line, false, String::new()))
                        });
                    }
                    Err(WireError::Timeout { .. }) => return s.ended(false),
                    Err(_) => return s.ended(true),
                }
            }
            return;
        }
        if verb == "DATA" && code == "354" {
            let data = read_data(&mut s).await;
            let ended = data.ended;
            with(&sessions, i, |x| x.data.push(data));
            if !ended {
                return s.ended(true);
            }
            let text = script.reply_for(".");
            early = match reply(&mut s, &script, &text).await {
                Ok(e) => e,
                Err(_) => return s.ended(true),
            };
        }
        let _ = started;
    }
}

/// Reads message data up to the line holding only "." (RFC 5321 §4.1.1.4):
/// only CRLF . CRLF ends it; a bare LF before or after the dot does not.
async fn read_data(s: &mut Served) -> Data {
    let mut data = Data::default();
    loop {
        let line = match s.conn.read_line(MAX_TEXT, "the message data").await {
            Ok(l) => l,
            Err(WireError::Closed { partial, .. }) => {
                s.keep(&partial);
                data.raw.extend_from_slice(&partial);
                return data;
            }
            Err(_) => return data,
        };
        let crlf = line.end == Terminator::CrLf;
        // `.` CRLF right after a CRLF (or at the very start) ends the data.
        let after_crlf = data.raw.is_empty() || data.raw.ends_with(b"\r\n");
        if line.bytes == b"." && crlf && after_crlf {
            s.keep(b".\r\n");
            data.ended = true;
            return data;
        }
        let mut raw = line.bytes;
        raw.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        s.keep(&raw);
        if data.raw.len() + raw.len() > MAX_RECORDED {
            data.truncated = true;
            return data;
        }
        data.raw.extend_from_slice(&raw);
    }
}

/// Undoes the transparency of RFC 5321 §4.5.2 the way a server does: a
/// leading period of a line is deleted.
pub fn unstuff(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    for line in raw.split_inclusive(|b| *b == b'\n') {
        out.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn unstuffs_leading_dots() {
        assert_eq!(super::unstuff(b"..a\r\nb\r\n.\r\n"), b".a\r\nb\r\n\r\n");
    }
}
