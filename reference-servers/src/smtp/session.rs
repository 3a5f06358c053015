//! One SMTP connection: RFC 5321 §4.1.1 commands, §4.1.4 ordering, §4.5.3
//! limits. Replies carry enhanced status codes (RFC 3463, RFC 2034).

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::command::{self, Command};
use super::Config;
use crate::calendar::{civil_from_days, MONTHS};
use crate::lineio::{read_line, Line};
use crate::mailstore::MailStore;
use crate::sasl;
use crate::tls::{self, Buffered, Stream};

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
    /// The connection: plain TCP, or TLS once STARTTLS has run.
    io: Stream,
    /// Whether TLS is up (after STARTTLS, or from the start).
    tls: bool,
    /// The name given in HELO/EHLO, once greeted.
    client: Option<String>,
    /// Who AUTH authenticated (RFC 4954), once it has.
    user: Option<String>,
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
    // Implicit TLS (RFC 8314 §3.3): the handshake comes first, and the
    // greeting inside it.
    let (io, tls) = match (&config.implicit_tls, &config.tls) {
        (true, Some(identity)) => {
            match tls::implicit(stream, identity, config.idle_timeout).await {
                Some(io) => (io, true),
                None => return,
            }
        }
        _ => (tls::plain(stream), false),
    };
    let mut s = Session {
        config,
        store,
        peer,
        io,
        tls,
        client: None,
        user: None,
        tx: Transaction::default(),
    };
    // §4.2: the greeting is 220, naming this server.
    let greeting = format!("220 {} ESMTP conform reference server", config.hostname);
    if !s.send(&greeting).await {
        return;
    }
    loop {
        let line = match tokio::time::timeout(
            config.idle_timeout,
            read_line(&mut s.io, MAX_COMMAND),
        )
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
            Command::Data => s.data().await,
            Command::StartTls => match s.starttls().await {
                Some(keep_going) => keep_going,
                None => return,
            },
            Command::Auth(mechanism, initial) => s.auth(mechanism, initial).await,
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
        // A TLS stream holds what is written until flushed.
        self.io.write_all(&bytes).await.is_ok() && self.io.flush().await.is_ok()
    }

    /// Reads one line of an exchange inside a command (an AUTH response),
    /// bounded like a command line; `None` if the client is gone or silent.
    async fn read_response(&mut self) -> Option<Vec<u8>> {
        match tokio::time::timeout(
            self.config.idle_timeout,
            read_line(&mut self.io, MAX_COMMAND),
        )
        .await
        {
            Ok(Ok(Line::Crlf(l))) => Some(l),
            // Not base64, so it is answered 501.
            Ok(Ok(Line::TooLong)) => Some(b"?".to_vec()),
            _ => None,
        }
    }

    /// The client's response in an AUTH exchange: the initial response if
    /// it gave one, else what it answers to the 334 `challenge`; `None` if
    /// it is gone.
    async fn response_to(&mut self, initial: Option<Vec<u8>>, challenge: &str) -> Option<Vec<u8>> {
        if initial.is_some() {
            return initial;
        }
        if !self.send(challenge).await {
            return None;
        }
        self.read_response().await
    }

    /// RFC 3207 §4: STARTTLS. `Some(false)` ends the session after a
    /// reply; `None` ends it at once (the handshake failed).
    async fn starttls(&mut self) -> Option<bool> {
        let Some(identity) = self.config.tls.clone() else {
            return Some(self.send("502 5.5.1 Command not implemented").await);
        };
        if self.tls {
            // §4.2: "Both the client and the server MUST know if there is a
            // TLS session active": a second STARTTLS is out of sequence.
            return Some(self.send("503 5.5.1 TLS already active").await);
        }
        if self.tx.from.is_some() {
            // The upgrade resets the session (§4.2), which would silently
            // drop the transaction: finish or RSET it first.
            return Some(self.send("503 5.5.1 Mail transaction in progress").await);
        }
        // §4: 220, then the client starts the handshake at once.
        if !self.send("220 2.0.0 Ready to start TLS").await {
            return Some(false);
        }
        let io = std::mem::replace(&mut self.io, tls::closed());
        // §4.2: what the client pipelined after STARTTLS came in plaintext
        // and is discarded (a faulty server in tests keeps it).
        let buffered = if self.config.faults.executes_injected {
            Buffered::KeepInjected
        } else {
            Buffered::Discard
        };
        self.io = tls::upgrade(io, &identity, self.config.idle_timeout, buffered).await?;
        self.tls = true;
        // §4.2: "the SMTP protocol is reset to the initial state ... The
        // server MUST discard any knowledge obtained from the client, such
        // as the argument to the EHLO command": a new EHLO is needed.
        if !self.config.faults.keeps_state_after_tls {
            self.client = None;
            self.user = None;
            self.tx = Transaction::default();
        }
        Some(true)
    }

    /// Whether AUTH may be used now: offered at all, and (where the
    /// server requires TLS for it) with TLS up.
    fn auth_allowed(&self) -> bool {
        self.config.accounts.is_some()
            && (self.tls || !self.config.auth_requires_tls || self.config.faults.auth_in_plaintext)
    }

    /// RFC 4954 §4: AUTH mechanism [initial-response], PLAIN (RFC 4616)
    /// and LOGIN.
    async fn auth(&mut self, mechanism: String, initial: Option<Vec<u8>>) -> bool {
        let Some(accounts) = self.config.accounts.clone() else {
            return self.send("502 5.5.1 Command not implemented").await;
        };
        if self.client.is_none() {
            // AUTH is an ESMTP extension, announced in the EHLO reply.
            return self.send("503 5.5.1 Error: send EHLO first").await;
        }
        if self.user.is_some() {
            // §4: "After a successful AUTH command completes, a server
            // MUST reject any further AUTH commands with a 503 reply."
            return self.send("503 5.5.1 Already authenticated").await;
        }
        if self.tx.from.is_some() {
            // §4: "An AUTH command issued during a mail transaction MUST
            // be rejected with a 503 reply."
            return self.send("503 5.5.1 Mail transaction in progress").await;
        }
        if !self.auth_allowed() {
            // §6: "538 5.7.11 Encryption required for requested
            // authentication mechanism".
            return self
                .send("538 5.7.11 Encryption required for requested authentication mechanism")
                .await;
        }
        let credentials = match mechanism.as_str() {
            "PLAIN" => {
                // §4: without an initial response the server sends an
                // empty challenge, "334 " (RFC 4616 §2: the client speaks
                // first).
                let Some(response) = self.response_to(initial, "334 ").await else {
                    return false;
                };
                match self.decode(&response) {
                    Err(reply) => return self.send(reply).await,
                    Ok(message) => match sasl::plain(&message) {
                        sasl::Plain::Credentials { user, password } => (user, password),
                        sasl::Plain::Malformed => {
                            return self.send("501 5.5.2 Malformed PLAIN response").await
                        }
                        sasl::Plain::OtherIdentity => {
                            return self
                                .send("535 5.7.8 Authentication credentials invalid")
                                .await
                        }
                    },
                }
            }
            "LOGIN" => {
                // draft-murchison-sasl-login: "Username:" then "Password:",
                // each prompt base64; an initial response is the username.
                let Some(user) = self.response_to(initial, "334 VXNlcm5hbWU6").await else {
                    return false;
                };
                let user = match self.decode(&user) {
                    Ok(u) => u,
                    Err(reply) => return self.send(reply).await,
                };
                let Some(password) = self.response_to(None, "334 UGFzc3dvcmQ6").await else {
                    return false;
                };
                let password = match self.decode(&password) {
                    Ok(p) => p,
                    Err(reply) => return self.send(reply).await,
                };
                (
                    String::from_utf8_lossy(&user).into_owned(),
                    String::from_utf8_lossy(&password).into_owned(),
                )
            }
            // §4: "If the requested authentication mechanism is invalid
            // (e.g., is not supported ...), the server rejects the AUTH
            // command with a 504 reply."
            _ => {
                return self
                    .send("504 5.5.4 Unrecognized authentication type")
                    .await
            }
        };
        // §6: 535 for credentials that do not check out, the same whether
        // the user or the password was wrong.
        if !accounts.check(&credentials.0, &credentials.1) {
            return self
                .send("535 5.7.8 Authentication credentials invalid")
                .await;
        }
        self.user = Some(credentials.0);
        self.send("235 2.7.0 Authentication successful").await
    }

    /// A client response in an AUTH exchange: `*` cancels (§4: "the server
    /// MUST reject the AUTH command by sending a 501 reply"), and so does
    /// one that is not base64 ("it MUST reject the AUTH command with a 501
    /// reply").
    fn decode(&self, response: &[u8]) -> Result<Vec<u8>, &'static str> {
        if response == b"*" {
            return Err("501 5.7.0 Authentication cancelled");
        }
        sasl::response(response).ok_or("501 5.5.2 Cannot decode the response as base64")
    }

    /// §4.1.1.1; a repeated HELO/EHLO resets the transaction (§4.1.4).
    async fn helo(&mut self, name: String, extended: bool) -> bool {
        self.tx = Transaction::default();
        let host = &self.config.hostname;
        let reply = if extended {
            let mut lines = vec![
                format!("{host} Hello {name}"),
                "PIPELINING".to_string(),
                format!("SIZE {}", self.config.max_message),
                "8BITMIME".to_string(),
                "ENHANCEDSTATUSCODES".to_string(),
            ];
            // RFC 3207 §4.2: "A server MUST NOT return the STARTTLS
            // extension in response to an EHLO command received after a
            // TLS handshake has completed."
            if self.config.tls.is_some() && !self.tls {
                lines.push("STARTTLS".into());
            }
            // RFC 4954 §3: AUTH lists the mechanisms; where the server
            // requires TLS for them it offers none before (RFC 4616 §4:
            // PLAIN is not advertised without a security layer).
            if self.auth_allowed() {
                lines.push("AUTH PLAIN LOGIN".into());
            }
            lines.push("HELP".into());
            let last = lines.len() - 1;
            lines
                .iter()
                .enumerate()
                .map(|(i, l)| format!("250{}{l}", if i == last { ' ' } else { '-' }))
                .collect::<Vec<_>>()
                .join("\r\n")
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
    async fn data(&mut self) -> bool {
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
                read_line(&mut self.io, MAX_TEXT_LINE),
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
    crate::random_u64()
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
