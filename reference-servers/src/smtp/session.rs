//! One SMTP connection: RFC 5321 §4.1.1 commands, §4.1.4 ordering, §4.5.3
//! limits. Replies carry enhanced status codes (RFC 3463, RFC 2034).

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;

use super::command::{self, Command};
use super::Config;
use crate::calendar::{civil_from_days, MONTHS};
use crate::lineio::{read_line, Line};
use crate::mailstore::MailStore;

/// §4.5.3.1.4: a command line is at most 512 octets including CRLF.
const MAX_COMMAND: usize = 512;
/// §4.5.3.1.6: a text line is at most 1000 octets including CRLF.
const MAX_TEXT_LINE: usize = 1000;

/// A transaction in progress (§3.3): sender, then recipients.
#[derive(Default)]
struct Transaction {
    from: Option<String>,
    /// `(address as given, mailbox user)`.
    to: Vec<(String, String)>,
}

struct Session<'a> {
    config: &'a Config,
    store: &'a MailStore,
    peer: SocketAddr,
    out: OwnedWriteHalf,
    /// The name given in HELO/EHLO, once greeted.
    client: Option<String>,
    tx: Transaction,
}

/// Too many connections: 421 and close (§3.8).
pub async fn refuse(mut stream: TcpStream, config: Arc<Config>) {
    let text = format!(
        "421 4.7.0 {} Too many connections, try again later\r\n",
        config.hostname
    );
    let _ = stream.write_all(text.as_bytes()).await;
}

pub async fn run(stream: TcpStream, peer: SocketAddr, config: &Config, store: &MailStore) {
    let (input, out) = stream.into_split();
    let mut input = BufReader::new(input);
    let mut s = Session {
        config,
        store,
        peer,
        out,
        client: None,
        tx: Transaction::default(),
    };
    // §4.2: the greeting is 220, naming this server.
    let greeting = format!("220 {} ESMTP conform reference server", config.hostname);
    if !s.send(&greeting).await {
        return;
    }
    loop {
        let line =
            match tokio::time::timeout(config.idle_timeout, read_line(&mut input, MAX_COMMAND))
                .await
            {
                Err(_) => {
                    let bye = format!("421 4.4.2 {} Error: timeout exceeded", config.hostname);
                    s.send(&bye).await;
                    return;
                }
                Ok(Err(_)) | Ok(Ok(Line::Eof)) => return,
                Ok(Ok(Line::TooLong)) => {
                    // §4.5.3.1.10: "500 Line too long".
                    if !s.send("500 5.5.6 Line too long").await {
                        return;
                    }
                    continue;
                }
                Ok(Ok(Line::BareLf(_))) => {
                    // §2.3.8: lines end in CRLF; a bare LF is not a line end.
                    if !s.send("500 5.5.2 Command lines must end with CRLF").await {
                        return;
                    }
                    continue;
                }
                Ok(Ok(Line::Crlf(l))) => l,
            };
        let keep_going = match command::parse(&line) {
            Command::Helo(name) => s.helo(name, false).await,
            Command::Ehlo(name) => s.helo(name, true).await,
            Command::Mail(path, params) => s.mail(path, params).await,
            Command::Rcpt(path, params) => s.rcpt(path, params).await,
            Command::Data => s.data(&mut input).await,
            Command::Rset => {
                s.tx = Transaction::default();
                s.send("250 2.0.0 OK").await
            }
            Command::Noop => s.send("250 2.0.0 OK").await,
            Command::Quit => {
                let bye = format!("221 2.0.0 {} closing connection", config.hostname);
                s.send(&bye).await;
                return;
            }
            // §3.5.3: 252 when the server will accept but does not verify.
            Command::Vrfy(_) => {
                s.send("252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery")
                    .await
            }
            Command::Help => {
                s.send(
                    "214-2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP\r\n\
                     214 2.0.0 End of HELP info",
                )
                .await
            }
            Command::NotImplemented => s.send("502 5.5.1 Command not implemented").await,
            Command::BadSyntax(why) => s.send(&format!("501 {why}")).await,
            Command::Unknown => s.send("500 5.5.2 Syntax error, command unrecognized").await,
        };
        if !keep_going {
            return;
        }
    }
}

impl Session<'_> {
    /// Writes one reply (lines joined by CRLF) plus CRLF; false if the
    /// client is gone.
    async fn send(&mut self, reply: &str) -> bool {
        let mut bytes = reply.as_bytes().to_vec();
        bytes.extend_from_slice(b"\r\n");
        self.out.write_all(&bytes).await.is_ok()
    }

    /// §4.1.1.1; a repeated HELO/EHLO resets the transaction (§4.1.4).
    async fn helo(&mut self, name: String, extended: bool) -> bool {
        self.tx = Transaction::default();
        let host = &self.config.hostname;
        let reply = if extended {
            format!(
                "250-{host} Hello {name}\r\n250-PIPELINING\r\n250-SIZE {}\r\n\
                 250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 HELP",
                self.config.max_message
            )
        } else {
            format!("250 {host} Hello {name}, pleased to meet you")
        };
        self.client = Some(name);
        self.send(&reply).await
    }

    /// §4.1.1.2.
    async fn mail(&mut self, path: String, params: Vec<(String, Option<String>)>) -> bool {
        if self.client.is_none() {
            return self.send("503 5.5.1 Error: send HELO/EHLO first").await;
        }
        if self.tx.from.is_some() {
            return self.send("503 5.5.1 Error: nested MAIL command").await;
        }
        for (key, value) in &params {
            let bad = match (key.as_str(), value.as_deref()) {
                // RFC 1870: SIZE=n declares the message size.
                ("SIZE", Some(n)) => match n.parse::<u64>() {
                    Ok(n) if n > self.config.max_message as u64 => {
                        return self
                            .send("552 5.3.4 Message size exceeds fixed maximum message size")
                            .await
                    }
                    Ok(_) => None,
                    Err(_) => Some("501 5.5.4 Bad SIZE parameter"),
                },
                // RFC 6152: BODY=7BIT or BODY=8BITMIME.
                ("BODY", Some(v)) if v.eq_ignore_ascii_case("7BIT") => None,
                ("BODY", Some(v)) if v.eq_ignore_ascii_case("8BITMIME") => None,
                ("BODY", _) => Some("501 5.5.4 Bad BODY parameter"),
                _ => Some("555 5.5.4 Unsupported MAIL parameter"),
            };
            if let Some(reply) = bad {
                return self.send(reply).await;
            }
        }
        let reply = format!("250 2.1.0 <{path}> Sender ok");
        self.tx.from = Some(path);
        self.send(&reply).await
    }

    /// §4.1.1.3.
    async fn rcpt(&mut self, path: String, params: Vec<(String, Option<String>)>) -> bool {
        if self.tx.from.is_none() {
            return self.send("503 5.5.1 Error: need MAIL command").await;
        }
        if !params.is_empty() {
            return self.send("555 5.5.4 Unsupported RCPT parameter").await;
        }
        if self.tx.to.len() >= self.config.max_recipients {
            // §4.5.3.1.10: 452 for too many recipients.
            return self.send("452 4.5.3 Too many recipients").await;
        }
        let user = match self.mailbox_for(&path) {
            Ok(user) => user,
            Err(reply) => return self.send(reply).await,
        };
        let reply = format!("250 2.1.5 <{path}> Recipient ok");
        self.tx.to.push((path, user));
        self.send(&reply).await
    }

    /// The local mailbox a recipient is delivered to. `postmaster` (any
    /// case, with or without a local domain) must be accepted (§4.5.1).
    fn mailbox_for(&self, path: &str) -> Result<String, &'static str> {
        let (local, domain) = match path.rsplit_once('@') {
            Some((l, d)) => (l, Some(d)),
            None => (path, None),
        };
        if let Some(d) = domain {
            if !self
                .config
                .domains
                .iter()
                .any(|x| x.eq_ignore_ascii_case(d))
            {
                // §3.6.2: relaying is refused unless authorised.
                return Err("550 5.7.1 Relay access denied");
            }
        }
        let user = local.to_ascii_lowercase();
        if self.store.has_user(&user) {
            Ok(user)
        } else {
            Err("550 5.1.1 Recipient address rejected: User unknown")
        }
    }

    /// §4.1.1.4: 354, then the text up to CRLF.CRLF, dot-unstuffed
    /// (§4.5.2), then one reply for the whole message.
    async fn data<R>(&mut self, input: &mut R) -> bool
    where
        R: tokio::io::AsyncBufRead + Unpin,
    {
        if self.tx.from.is_none() {
            return self.send("503 5.5.1 Error: need MAIL command").await;
        }
        if self.tx.to.is_empty() {
            return self.send("503 5.5.1 Error: need RCPT command").await;
        }
        if !self.send("354 End data with <CR><LF>.<CR><LF>").await {
            return false;
        }
        let mut body = Vec::new();
        let mut too_big = false;
        let mut too_long = false;
        // Whether the text so far ends in CRLF: only then does a line start,
        // so only then can "." end the data or be stuffing. The data begins
        // right after the DATA command's CRLF.
        let mut at_line_start = true;
        loop {
            let line = match tokio::time::timeout(
                self.config.idle_timeout,
                read_line(input, MAX_TEXT_LINE),
            )
            .await
            {
                Err(_) => {
                    let bye = format!("421 4.4.2 {} Error: timeout exceeded", self.config.hostname);
                    self.send(&bye).await;
                    return false;
                }
                // A connection lost before the end of data delivers nothing.
                Ok(Err(_)) | Ok(Ok(Line::Eof)) => return false,
                Ok(Ok(Line::TooLong)) => {
                    too_long = true;
                    at_line_start = true;
                    continue;
                }
                Ok(Ok(Line::Crlf(l))) if at_line_start && l == b"." => break,
                Ok(Ok(Line::Crlf(mut l))) => {
                    if at_line_start && l.first() == Some(&b'.') {
                        l.remove(0);
                    }
                    at_line_start = true;
                    l.extend_from_slice(b"\r\n");
                    l
                }
                // A bare LF is not a line end (§2.3.8), so LF "." LF and
                // LF "." CRLF do not end the data.
                Ok(Ok(Line::BareLf(mut l))) => {
                    if at_line_start && l.first() == Some(&b'.') {
                        l.remove(0);
                    }
                    at_line_start = false;
                    l.push(b'\n');
                    l
                }
            };
            if body.len() + line.len() > self.config.max_message {
                too_big = true;
            } else if !too_big {
                body.extend_from_slice(&line);
            }
        }
        let tx = std::mem::take(&mut self.tx);
        if too_big {
            return self
                .send("552 5.3.4 Message size exceeds fixed maximum message size")
                .await;
        }
        if too_long {
            return self.send("500 5.5.6 Line too long").await;
        }
        let id = format!("{:016X}", rand_id());
        let from = tx.from.unwrap_or_default();
        let mut delivered = 0;
        for (address, user) in &tx.to {
            let message = self.with_trace(&from, address, &id, &body);
            match self.store.inbox(user).and_then(|m| m.deliver(&message)) {
                Ok(_) => delivered += 1,
                Err(_) => continue,
            }
        }
        if delivered == 0 {
            return self
                .send("451 4.3.0 Error: local delivery failed, try again later")
                .await;
        }
        self.send(&format!("250 2.0.0 OK: queued as {id}")).await
    }

    /// §4.4: the final-delivery server adds Return-Path, and every server
    /// adds a Received line at the top of the content.
    fn with_trace(&self, from: &str, to: &str, id: &str, body: &[u8]) -> Vec<u8> {
        if !self.config.trace_fields {
            return body.to_vec();
        }
        let helo = self.client.as_deref().unwrap_or("unknown");
        let mut m = format!(
            "Return-Path: <{from}>\r\nReceived: from {helo} ([{}])\r\n\tby {} with ESMTP id {id}\r\n\tfor <{to}>; {}\r\n",
            self.peer.ip(),
            self.config.hostname,
            rfc5322_now()
        )
        .into_bytes();
        m.extend_from_slice(body);
        m
    }
}

fn rand_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

/// The current time as an RFC 5322 §3.3 date-time in UTC.
pub fn rfc5322_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc5322(secs)
}

fn rfc5322(secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{}, {} {} {} {:02}:{:02}:{:02} +0000",
        DAYS[(days % 7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_dates() {
        assert_eq!(super::rfc5322(0), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(
            super::rfc5322(1_795_000_000),
            "Wed, 18 Nov 2026 11:06:40 +0000"
        );
    }
}
