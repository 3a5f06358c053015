//! One POP3 connection: AUTHORIZATION (§4), TRANSACTION (§5), UPDATE (§6).

use std::time::Duration;

use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::command::{self, Command};
use super::maildrop::Maildrop;
use super::Config;
use crate::lineio::{read_line, Line};
use crate::mailstore::MailStore;
use crate::tls::{self, Buffered};

/// RFC 2449 §4: a command line is at most 255 octets including CRLF.
const MAX_COMMAND: usize = 255;

enum State {
    /// Waiting for USER (or for PASS after USER `name`).
    Authorization {
        user: Option<String>,
    },
    Transaction {
        drop: Maildrop,
    },
}

pub async fn refuse(mut stream: TcpStream) {
    let _ = stream
        .write_all(b"-ERR [SYS/TEMP] Too many connections, try again later\r\n")
        .await;
}

/// The longest a TLS handshake may take.
const HANDSHAKE: Duration = Duration::from_secs(30);

pub async fn run(stream: TcpStream, config: &Config, store: &MailStore) {
    // One stream for reading and writing, which STLS swaps to TLS in place.
    // On an implicit-TLS port (RFC 8314 §3.3) the handshake comes first.
    let (mut io, mut in_tls) = match (config.implicit_tls, &config.tls) {
        (true, Some(identity)) => {
            let timeout = HANDSHAKE.min(config.idle_timeout);
            match tls::implicit(stream, identity, timeout).await {
                Some(io) => (io, true),
                None => return,
            }
        }
        _ => (tls::plain(stream), false),
    };
    // RFC 1939 §7: the greeting's timestamp, different on every connection,
    // is what an APOP digest is made from.
    let timestamp = timestamp(&config.hostname);
    let greeting = format!("+OK {} POP3 server ready {timestamp}", config.hostname);
    if !send(&mut io, &greeting).await {
        return;
    }
    let mut state = State::Authorization { user: None };
    loop {
        let out = &mut io;
        let line =
            match tokio::time::timeout(config.idle_timeout, read_line(out, MAX_COMMAND)).await {
                // §3: the autologout timer closes without entering UPDATE.
                Err(_) => {
                    send(out, "-ERR autologout: idle for too long").await;
                    return;
                }
                Ok(Err(_)) | Ok(Ok(Line::Eof)) => return,
                Ok(Ok(Line::TooLong)) => {
                    if !send(out, "-ERR line too long").await {
                        return;
                    }
                    continue;
                }
                Ok(Ok(Line::BareLf(_))) => {
                    if !send(out, "-ERR commands end with CRLF").await {
                        return;
                    }
                    continue;
                }
                Ok(Ok(Line::Crlf(l))) => l,
            };
        let cmd = command::parse(&line);
        if cmd == Command::Quit {
            let reply = match state {
                State::Authorization { .. } => "+OK POP3 server signing off".to_string(),
                // §6: UPDATE removes the marked messages, then releases the lock.
                State::Transaction { drop, .. } => match drop.update() {
                    true => "+OK POP3 server signing off".to_string(),
                    false => "-ERR some deleted messages not removed".to_string(),
                },
            };
            send(out, &reply).await;
            return;
        }
        let stls = config.tls.is_some() && (!in_tls || config.faults.stls_in_tls);
        let reply = match &mut state {
            State::Authorization { user } => match cmd {
                Command::Capa => capa(stls),
                Command::Stls => {
                    let Some(identity) = config.tls.clone() else {
                        if !send(out, "-ERR STLS is not offered").await {
                            return;
                        }
                        continue;
                    };
                    if !stls {
                        // RFC 2595 §4: "A -ERR response MAY result if a
                        // security layer is already active."
                        if !send(out, "-ERR Command not permitted when TLS active").await {
                            return;
                        }
                        continue;
                    }
                    // RFC 2595 §4: the handshake begins right after the CRLF
                    // of the +OK. What the client pipelined behind STLS came
                    // in plaintext and is thrown away, never run inside TLS;
                    // the session stays in AUTHORIZATION and forgets a USER
                    // given before.
                    if !send(out, "+OK Begin TLS negotiation").await {
                        return;
                    }
                    let buffered = if config.faults.executes_injected {
                        Buffered::KeepInjected
                    } else {
                        Buffered::Discard
                    };
                    let plain = std::mem::replace(&mut io, tls::closed());
                    let timeout = HANDSHAKE.min(config.idle_timeout);
                    match tls::upgrade(plain, &identity, timeout, buffered).await {
                        Some(upgraded) => io = upgraded,
                        None => return,
                    }
                    in_tls = true;
                    *user = None;
                    continue;
                }
                Command::User(name) => {
                    *user = Some(name);
                    "+OK send PASS".into()
                }
                Command::Pass(password) => match user.take() {
                    None => "-ERR send USER first".into(),
                    Some(name) => match login(config, store, &name, &password) {
                        Ok(drop) => {
                            let (n, size) = totals(&drop);
                            state = State::Transaction { drop };
                            format!("+OK maildrop has {n} messages ({size} octets)")
                        }
                        Err(why) => why,
                    },
                },
                // §7: the digest of the timestamp and the shared secret.
                Command::Apop(name, digest) => {
                    let secret = config.accounts.password(&name).unwrap_or_default();
                    let right = config.accounts.password(&name).is_some()
                        && crate::md5::hex(format!("{timestamp}{secret}").as_bytes()) == digest;
                    let secret = secret.to_string();
                    match right.then(|| login(config, store, &name, &secret)) {
                        Some(Ok(drop)) => {
                            let (n, size) = totals(&drop);
                            state = State::Transaction { drop };
                            format!("+OK maildrop has {n} messages ({size} octets)")
                        }
                        Some(Err(why)) => why,
                        None => "-ERR [AUTH] permission denied".into(),
                    }
                }
                Command::Unknown => "-ERR unknown command".into(),
                Command::BadArguments(what) => format!("-ERR bad {what}"),
                _ => "-ERR not in TRANSACTION state; log in first".into(),
            },
            State::Transaction { drop, .. } => transaction(drop, cmd),
        };
        if !send(&mut io, &reply).await {
            return; // no QUIT: no UPDATE, nothing deleted
        }
    }
}

/// A msg-id (RFC 1939 §7: "<process-ID.clock@hostname>") unique to this
/// connection: the process, a connection counter and the clock.
fn timestamp(hostname: &str) -> String {
    static CONNECTIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = CONNECTIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("<{}.{n}.{clock}@{hostname}>", std::process::id())
}

/// Checks the password and takes the maildrop's exclusive lock (§4).
fn login(
    config: &Config,
    store: &MailStore,
    user: &str,
    password: &str,
) -> Result<Maildrop, String> {
    if !config.accounts.check(user, password) {
        return Err("-ERR [AUTH] invalid user name or password".into());
    }
    let folder = store
        .inbox(user)
        .map_err(|_| "-ERR [SYS/PERM] unable to open maildrop".to_string())?;
    let lock = if config.lock_maildrop {
        let lock = folder
            .lock()
            .map_err(|_| "-ERR [IN-USE] maildrop already locked".to_string())?;
        Some(lock)
    } else {
        None
    };
    Maildrop::open(folder, lock).map_err(|_| "-ERR [SYS/TEMP] unable to read maildrop".into())
}

fn totals(drop: &Maildrop) -> (usize, u64) {
    drop.live()
        .fold((0, 0), |(n, s), (_, m)| (n + 1, s + m.size))
}

fn transaction(drop: &mut Maildrop, cmd: Command) -> String {
    match cmd {
        Command::Stat => {
            let (n, size) = totals(drop);
            format!("+OK {n} {size}")
        }
        Command::List(None) => {
            let mut r = String::from("+OK scan listing follows");
            for (n, m) in drop.live() {
                r.push_str(&format!("\r\n{n} {}", m.size));
            }
            r + "\r\n."
        }
        Command::List(Some(n)) => match drop.get(n) {
            Some(m) => format!("+OK {n} {}", m.size),
            None => no_such(n),
        },
        Command::Uidl(None) => {
            let mut r = String::from("+OK unique-id listing follows");
            for (n, m) in drop.live() {
                r.push_str(&format!("\r\n{n} {}", uid(&m.unique)));
            }
            r + "\r\n."
        }
        Command::Uidl(Some(n)) => match drop.get(n) {
            Some(m) => format!("+OK {n} {}", uid(&m.unique)),
            None => no_such(n),
        },
        Command::Retr(n) => match drop.get(n).map(|m| (m.size, drop.folder.read(&m.unique))) {
            Some((size, Ok(bytes))) => format!("+OK {size} octets\r\n{}.", stuffed(&bytes, None)),
            Some((_, Err(_))) => format!("-ERR message {n} cannot be read"),
            None => no_such(n),
        },
        Command::Top(n, lines) => match drop.get(n).map(|m| drop.folder.read(&m.unique)) {
            Some(Ok(bytes)) => format!(
                "+OK top of message follows\r\n{}.",
                stuffed(&bytes, Some(lines))
            ),
            Some(Err(_)) => format!("-ERR message {n} cannot be read"),
            None => no_such(n),
        },
        // §5: DELE only marks; the message goes away in UPDATE.
        Command::Dele(n) => match drop.mark_deleted(n) {
            true => format!("+OK message {n} deleted"),
            false => no_such(n),
        },
        Command::Rset => {
            drop.unmark_all();
            let (n, size) = totals(drop);
            format!("+OK maildrop has {n} messages ({size} octets)")
        }
        Command::Noop => "+OK".into(),
        // STLS is not permitted here, so not announced (RFC 2595 §4).
        Command::Capa => capa(false),
        Command::User(_) | Command::Pass(_) | Command::Apop(..) => "-ERR already logged in".into(),
        // RFC 2595 §4: STLS is only permitted in AUTHORIZATION state.
        Command::Stls => "-ERR STLS is only permitted in the AUTHORIZATION state".into(),
        Command::BadArguments(what) => format!("-ERR bad {what}"),
        Command::Quit | Command::Unknown => "-ERR unknown command".into(),
    }
}

fn no_such(n: usize) -> String {
    format!("-ERR no such message {n}")
}

/// RFC 1939 §7: a unique-id is 1 to 70 characters in 0x21–0x7E. Maildir
/// names usually qualify; longer or odd ones are replaced by a stable hash.
fn uid(unique: &str) -> String {
    if (1..=70).contains(&unique.len()) && unique.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return unique.to_string();
    }
    // FNV-1a: stable across runs, unlike std's RandomState.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in unique.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("h{h:016x}")
}

/// The message as multi-line data (§3): each line ends in CRLF, and a line
/// that starts with "." gets one more "." in front. With `body_lines`, only
/// the header, the blank line and that many body lines (TOP, §7).
fn stuffed(message: &[u8], body_lines: Option<usize>) -> String {
    let mut out = Vec::with_capacity(message.len() + 64);
    let mut in_body = false;
    let mut body_left = body_lines.unwrap_or(usize::MAX);
    let mut rest = message;
    while !rest.is_empty() {
        if in_body {
            if body_left == 0 {
                break;
            }
            body_left -= 1;
        }
        let (line, next) = match rest.iter().position(|b| *b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
        if line.is_empty() {
            in_body = true;
        }
        rest = next;
    }
    // Messages are bytes; the reply is written as bytes (see `send`).
    as_latin1(out)
}

/// Message bytes need not be UTF-8; they travel through a `String` here
/// only to share `send`. Lossless: invalid UTF-8 is kept by Latin-1 mapping
/// and undone in `send`.
fn as_latin1(bytes: Vec<u8>) -> String {
    bytes.into_iter().map(char::from).collect()
}

/// RFC 2449 §5: "Capabilities available in the AUTHORIZATION state MUST be
/// announced in both states"; all of these are "both / no" (§6), USER too.
/// STLS (RFC 2595 §4) names a command "present and permitted in the current
/// state": only before TLS, and (AUTHORIZATION only) never after login.
fn capa(stls: bool) -> String {
    let mut caps = String::from(
        "+OK capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nUSER\r\n",
    );
    if stls {
        caps.push_str("STLS\r\n");
    }
    caps + "IMPLEMENTATION conform-reference\r\n."
}

/// Writes one reply plus CRLF. Characters above U+007F stand for the byte
/// of the same value (see `stuffed`). False if the client is gone.
async fn send<W: AsyncWrite + Unpin>(out: &mut W, reply: &str) -> bool {
    let mut bytes: Vec<u8> = reply.chars().map(|c| c as u32 as u8).collect();
    bytes.extend_from_slice(b"\r\n");
    // A TLS stream holds what is written until flushed.
    out.write_all(&bytes).await.is_ok() && out.flush().await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stuffs_dots_and_cuts_top() {
        let m = b"Subject: x\r\n\r\n.one\r\n..two\r\n.\r\nlast";
        assert_eq!(
            stuffed(m, None),
            "Subject: x\r\n\r\n..one\r\n...two\r\n..\r\nlast\r\n"
        );
        assert_eq!(stuffed(m, Some(1)), "Subject: x\r\n\r\n..one\r\n");
        assert_eq!(stuffed(m, Some(0)), "Subject: x\r\n\r\n");
        assert_eq!(stuffed(b"\xe9\r\n", None).chars().next(), Some('\u{e9}'));
    }

    #[test]
    fn unique_ids_fit_rfc1939() {
        assert_eq!(uid("1.M2P3.host,S=4"), "1.M2P3.host,S=4");
        let long = "x".repeat(80);
        assert_eq!(uid(&long).len(), 17);
        assert_eq!(uid(&long), uid(&long));
    }
}
