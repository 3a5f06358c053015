//! The preflight of a profile: before any scenario runs, each section under
//! test is checked once with the harness's own wire readers, so that a
//! wrong password, zone or recipient is one configuration error naming the
//! key (exit 2), not dozens of failures blamed on the server. Every wait is
//! bounded by the step timeout. Nothing is changed on the target: SMTP is
//! checked up to RCPT, then RSET.

use std::net::SocketAddr;
use std::time::Duration;

use crate::notation::escape_short;
use crate::protocol::Protocol;
use crate::target::Profile;
use crate::transcript::Transcript;
use crate::wire::ftp::FtpReader;
use crate::wire::imap::ImapReader;
use crate::wire::smtp::SmtpReader;
use crate::wire::{Conn, Reply, ReplyReader, UdpClient, WireError};

use crate::steps::smtp::{CLIENT_DOMAIN, SENDER};

/// Checks every section of `protocols`; the first problem found, as a
/// message naming its profile key.
pub async fn check(
    profile: &Profile,
    protocols: &[Protocol],
    timeout: Duration,
) -> Result<(), String> {
    for p in protocols {
        let run = async {
            // A server that refuses for a limit may still count a connection
            // just closed (the reachability probe's): try again shortly.
            let mut result = Ok(());
            for attempt in 0..3 {
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                result = section(profile, *p, timeout).await;
                match &result {
                    Err(e) if e.contains(REFUSED) => continue,
                    _ => break,
                }
            }
            result
        };
        // Each wait is bounded; so is the whole check of a section.
        match tokio::time::timeout(timeout * 8, run).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(format!("preflight of {}: {e}", profile.source)),
            Err(_) => {
                return Err(format!(
                    "preflight of {}: [{p}] address: the check did not finish within {}",
                    profile.source,
                    humantime::format_duration(timeout * 8)
                ))
            }
        }
    }
    Ok(())
}

/// How the preflight says a server refused for a limit (a 421, `* BYE`):
/// it is alive (`target::health`).
pub const REFUSED: &str = "the server refused the connection";

async fn section(profile: &Profile, p: Protocol, timeout: Duration) -> Result<(), String> {
    match p {
        Protocol::Pop3 => pop3(profile, timeout).await,
        Protocol::Imap => imap(profile, timeout).await,
        Protocol::Ftp => ftp(profile, timeout).await,
        Protocol::Smtp => smtp(profile, timeout).await,
        Protocol::Dns => dns(profile, timeout).await,
        Protocol::Http => http(profile, timeout).await,
        // Connect only (the runner's reachability check).
        Protocol::Sockets => Ok(()),
        // The harness plays the server: nothing to reach.
        Protocol::SocketsClient | Protocol::SmtpClient | Protocol::HttpClient => Ok(()),
        // Connect only: whatever a proxy answers depends on its origin,
        // which the scenarios start themselves.
        Protocol::Proxy => Ok(()),
        // A resolver is asked in its scenarios, about the hierarchy they set up.
        Protocol::Resolver => Ok(()),
    }
}

fn value(profile: &Profile, path: &str) -> Result<String, String> {
    profile.get(path).map(str::to_string).ok_or_else(|| {
        format!(
            "[{}] has no `{}`",
            path.split('.').next().unwrap_or(path),
            path
        )
    })
}

fn text(reply: &Reply) -> String {
    escape_short(reply.text().trim_end().as_bytes(), 200)
}

/// A session for the checks, with a transcript of its own.
struct Session {
    conn: Conn,
    reader: Box<dyn ReplyReader>,
    section: Protocol,
}

impl Session {
    async fn open(
        profile: &Profile,
        section: Protocol,
        reader: Box<dyn ReplyReader>,
        timeout: Duration,
    ) -> Result<(Session, Reply), String> {
        let addr = address(profile, section)?;
        let name = format!("{section} preflight");
        let conn = Conn::connect(addr, &name, &Transcript::new(), timeout)
            .await
            .map_err(|e| format!("[{section}] address: {e}"))?;
        // An implicit-TLS port: the handshake before the greeting; a
        // certificate the profile does not trust is its configuration.
        let mut s = Session {
            conn,
            reader,
            section,
        };
        if crate::wire::tls::mode(profile, section.name()) == crate::wire::tls::Mode::Implicit {
            s.start_tls(profile).await?;
        }
        let greeting = s
            .reader
            .read(&mut s.conn)
            .await
            .map_err(|e| s.wire(e, "the greeting"))?;
        Ok((s, greeting))
    }

    /// The handshake with the section's TLS client (at once for an
    /// implicit-TLS port, after the go-ahead for an upgrade); a
    /// certificate the profile does not trust is its configuration.
    async fn start_tls(&mut self, profile: &Profile) -> Result<(), String> {
        let section = self.section;
        let client = crate::wire::tls::section_client(profile, section.name())?;
        let mode = crate::wire::tls::mode(profile, section.name()).name();
        self.conn
            .start_tls(&client)
            .await
            .map_err(|e| format!("[{section}] tls = \"{mode}\": {e}"))
    }

    /// With `tls = "starttls"`, the section's upgrade before anything
    /// else: the profile's password never goes out in plaintext, and a
    /// server that requires TLS for logins (vsftpd's
    /// force_local_logins_ssl, LOGINDISABLED) accepts it. A refusal is the
    /// profile's configuration.
    async fn upgrade(&mut self, profile: &Profile) -> Result<(), String> {
        let section = self.section;
        if crate::wire::tls::mode(profile, section.name()) != crate::wire::tls::Mode::StartTls {
            return Ok(());
        }
        let (command, go_ahead, rfc) = match section {
            Protocol::Ftp => ("AUTH TLS", "234", "RFC 4217 §4.2"),
            Protocol::Pop3 => ("STLS", "+OK", "RFC 2595 §4"),
            Protocol::Imap => ("p0 STARTTLS", "OK", "RFC 9051 §6.2.1"),
            // SMTP's preflight sends no credentials.
            _ => return Ok(()),
        };
        let reply = self.ask(command).await?;
        if reply.status != go_ahead {
            return Err(format!(
                "[{section}] tls = \"starttls\": {} was answered \"{}\", not {go_ahead} ({rfc})",
                command.trim_start_matches("p0 "),
                escape_short(reply.text().trim_end().as_bytes(), 200)
            ));
        }
        self.start_tls(profile).await
    }

    fn wire(&self, e: WireError, what: &str) -> String {
        format!("[{}] address: no proper reply to {what}: {e}", self.section)
    }

    async fn ask(&mut self, line: &str) -> Result<Reply, String> {
        let framed = self.reader.frame(line.as_bytes());
        self.conn
            .send(&framed)
            .await
            .map_err(|e| self.wire(e, line))?;
        let what = if line.starts_with("PASS") || line.contains("LOGIN") {
            "the login".to_string()
        } else {
            format!("\"{line}\"")
        };
        match self.reader.read(&mut self.conn).await {
            Ok(r) => Ok(r),
            Err(e) => Err(self.wire(e, &what)),
        }
    }

    async fn close(mut self, quit: &str) {
        let _ = self.ask(quit).await;
    }
}

fn address(profile: &Profile, p: Protocol) -> Result<SocketAddr, String> {
    profile
        .addr(&format!("{p}.address"))
        .map_err(|e| format!("[{p}] address: {e}"))
}

/// A greeting that refuses for a connection limit.
fn limit(section: Protocol, greeting: &Reply) -> String {
    format!(
        "[{section}] address: {REFUSED}: \"{}\" (it may limit connections; wait for other clients to end, or raise its limit)",
        text(greeting)
    )
}

async fn pop3(profile: &Profile, timeout: Duration) -> Result<(), String> {
    let p = Protocol::Pop3;
    let (mut s, greeting) = Session::open(
        profile,
        p,
        Box::new(crate::wire::pop3::Pop3Reader::new()),
        timeout,
    )
    .await?;
    if greeting.status != "+OK" {
        return Err(limit(p, &greeting));
    }
    s.upgrade(profile).await?;
    let user = value(profile, "pop3.user")?;
    let reply = s.ask(&format!("USER {user}")).await?;
    if reply.status != "+OK" {
        return Err(format!(
            "[pop3] user: USER {user} was refused: {}",
            text(&reply)
        ));
    }
    let pass = value(profile, "pop3.password")?;
    let reply = s.ask(&format!("PASS {pass}")).await?;
    if reply.status != "+OK" {
        return Err(format!(
            "[pop3] password: PASS for \"{user}\" was refused: {}",
            text(&reply)
        ));
    }
    s.close("QUIT").await;
    Ok(())
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The profile's IMAP login, and the spare user's where it names one (the
/// account whose INBOX RENAME INBOX scenarios rename: another account, or
/// the run would empty the INBOX every other scenario reads).
async fn imap(profile: &Profile, timeout: Duration) -> Result<(), String> {
    imap_login(profile, timeout, "user", "password").await?;
    if let Some(spare) = profile.get("imap.spare_user") {
        if profile.get("imap.spare_password").is_none() {
            return Err(
                "[imap] spare_password: the profile names a spare_user without its password".into(),
            );
        }
        if Some(spare) == profile.get("imap.user") {
            return Err(format!(
                "[imap] spare_user: \"{spare}\" is also [imap] user; the spare user must be another account, whose INBOX the suite may rename"
            ));
        }
        imap_login(profile, timeout, "spare_user", "spare_password").await?;
    }
    Ok(())
}

/// Greeting, the profile's TLS upgrade, and LOGIN as `[imap] user_key`.
async fn imap_login(
    profile: &Profile,
    timeout: Duration,
    user_key: &str,
    pass_key: &str,
) -> Result<(), String> {
    let p = Protocol::Imap;
    let (mut s, greeting) =
        Session::open(profile, p, Box::new(ImapReader::default()), timeout).await?;
    match greeting.status.as_str() {
        "PREAUTH" => {}
        "OK" => {
            s.upgrade(profile).await?;
            // RFC 9051 §6.2.3: a client MUST NOT send LOGIN where the
            // server announces LOGINDISABLED; every login scenario would
            // be refused, so it is the profile's to fix.
            if crate::wire::tls::mode(profile, "imap") == crate::wire::tls::Mode::None {
                let caps = s.ask("p0 CAPABILITY").await?;
                let disabled = caps.text().lines().any(|l| {
                    l.starts_with("* CAPABILITY ")
                        && l.split(' ')
                            .any(|c| c.eq_ignore_ascii_case("LOGINDISABLED"))
                });
                if disabled {
                    return Err(
                        "[imap] tls: the server announces LOGINDISABLED: it takes LOGIN only inside TLS; set [imap] tls = \"starttls\" (and ca_file or tls_insecure)".into(),
                    );
                }
            }
            let user = value(profile, &format!("imap.{user_key}"))?;
            let pass = value(profile, &format!("imap.{pass_key}"))?;
            let reply = s
                .ask(&format!("p1 LOGIN {} {}", quoted(&user), quoted(&pass)))
                .await?;
            if reply.status != "OK" {
                let t = text(&reply);
                let t = t.strip_prefix("p1 ").unwrap_or(&t).to_string();
                if t.to_ascii_uppercase().contains("[LIMIT]") {
                    return Err(limit(p, &reply));
                }
                return Err(format!(
                    "[imap] {pass_key}: LOGIN as \"{user}\" was refused: {t}"
                ));
            }
        }
        _ => return Err(limit(p, &greeting)),
    }
    s.close("p2 LOGOUT").await;
    Ok(())
}

async fn ftp(profile: &Profile, timeout: Duration) -> Result<(), String> {
    let p = Protocol::Ftp;
    let (mut s, mut greeting) = Session::open(profile, p, Box::new(FtpReader), timeout).await?;
    if greeting.status == "120" {
        greeting = s
            .reader
            .read(&mut s.conn)
            .await
            .map_err(|e| s.wire(e, "the greeting after 120"))?;
    }
    if greeting.status != "220" {
        return Err(limit(p, &greeting));
    }
    s.upgrade(profile).await?;
    let user = value(profile, "ftp.user")?;
    let reply = s.ask(&format!("USER {user}")).await?;
    if reply.status != "230" {
        if reply.status != "331" {
            return Err(format!(
                "[ftp] user: USER {user} was refused: {}",
                text(&reply)
            ));
        }
        let pass = value(profile, "ftp.password")?;
        let reply = s.ask(&format!("PASS {pass}")).await?;
        if reply.status != "230" && reply.status != "202" {
            return Err(format!(
                "[ftp] password: PASS for \"{user}\" was refused: {}",
                text(&reply)
            ));
        }
    }
    // The login directory holds the fixture tree (`conform fixtures`).
    let _ = s.ask("TYPE I").await?;
    let mut found = s.ask("SIZE hello.txt").await?;
    if found.class() == Some('5') && found.status != "550" {
        // No SIZE: MDTM names the file as well.
        found = s.ask("MDTM hello.txt").await?;
    }
    if found.status != "213" {
        return Err(format!(
            "[ftp] user: the login directory of \"{user}\" does not hold the fixture file hello.txt (conform fixtures): {}",
            text(&found)
        ));
    }
    let docs = s.ask("CWD docs").await?;
    if docs.class() != Some('2') {
        return Err(format!(
            "[ftp] user: the login directory of \"{user}\" does not hold the fixture folder docs (conform fixtures): {}",
            text(&docs)
        ));
    }
    s.close("QUIT").await;
    Ok(())
}

async fn smtp(profile: &Profile, timeout: Duration) -> Result<(), String> {
    let p = Protocol::Smtp;
    let (mut s, greeting) = Session::open(profile, p, Box::new(SmtpReader), timeout).await?;
    if greeting.status != "220" {
        return Err(limit(p, &greeting));
    }
    let mut hello = s.ask(&format!("EHLO {CLIENT_DOMAIN}")).await?;
    if hello.class() == Some('5') {
        hello = s.ask(&format!("HELO {CLIENT_DOMAIN}")).await?;
    }
    if hello.status != "250" {
        return Err(format!(
            "[smtp] address: the server refused EHLO and HELO: {}",
            text(&hello)
        ));
    }
    let mail = s.ask(&format!("MAIL FROM:<{SENDER}>")).await?;
    if mail.status != "250" {
        return Err(format!(
            "[smtp] address: MAIL FROM:<{SENDER}> (the suites' sender) was refused: {}",
            text(&mail)
        ));
    }
    for key in ["recipient", "sink"] {
        let Some(to) = profile.get(&format!("smtp.{key}")) else {
            continue;
        };
        let reply = s.ask(&format!("RCPT TO:<{to}>")).await?;
        if reply.status != "250" && reply.status != "251" {
            return Err(format!(
                "[smtp] {key}: RCPT TO:<{to}> was refused: {}",
                text(&reply)
            ));
        }
    }
    // Nothing is delivered.
    let _ = s.ask("RSET").await;
    s.close("QUIT").await;
    Ok(())
}

async fn dns(profile: &Profile, timeout: Duration) -> Result<(), String> {
    use crate::wire::dns::{rcode_name, QuerySpec, RawHeader};
    let addr = address(profile, Protocol::Dns)?;
    let zone = value(profile, "dns.zone")?;
    let query = QuerySpec::new(0x5eed, &zone, 6)
        .encode()
        .map_err(|e| format!("[dns] zone: \"{zone}\" is not a domain name: {e}"))?;
    let udp = UdpClient::bind(addr, "dns preflight", &Transcript::new(), timeout)
        .await
        .map_err(|e| format!("[dns] address: {e}"))?;
    udp.send(&query)
        .await
        .map_err(|e| format!("[dns] address: {e}"))?;
    // The first datagram from the server is the answer: whether its id
    // matches and whether AA is set are for the suites to judge (with the
    // whole message in their failure); the preflight only asks whether the
    // server serves the zone at all.
    let d = udp
        .recv_resending(&query, timeout, "the answer to the SOA query of the zone")
        .await
        .map_err(|e| format!("[dns] address: no answer over UDP to SOA {zone}: {e}"))?;
    let h = RawHeader::read(&d.payload).ok_or_else(|| {
        format!(
            "[dns] address: the answer to SOA {zone} is {} bytes, shorter than a DNS header",
            d.payload.len()
        )
    })?;
    let soa = crate::wire::dns::Response::decode(d.payload.clone(), "udp")
        .message
        .map(|m| m.answers().iter().any(|r| u16::from(r.record_type()) == 6))
        .unwrap_or(h.counts[1] > 0);
    if h.rcode != 0 || !soa {
        return Err(format!(
            "[dns] zone: the server does not serve \"{zone}\": SOA {zone} was answered {} with {} answer(s){} (load the fixture zone, conform fixtures)",
            rcode_name(h.rcode as u16),
            h.counts[1],
            if h.aa { "" } else { ", not authoritative (AA clear)" }
        ));
    }
    Ok(())
}

async fn http(profile: &Profile, timeout: Duration) -> Result<(), String> {
    let addr = address(profile, Protocol::Http)?;
    let host = value(profile, "http.address")?;
    let index = crate::fixtures::http::WWW
        .iter()
        .find(|(n, _)| *n == "index.html")
        .map(|(_, c)| *c)
        .unwrap_or_default();
    // The raw bytes, not a parsed response: a framing fault (a wrong
    // Content-Length…) is for the suite to judge; the preflight only asks
    // whether the fixture web root is what the server serves.
    let sample = &index[..index.len().min(200)];
    let mut last = String::new();
    for path in ["/", "/index.html"] {
        let mut conn = Conn::connect(addr, "http preflight", &Transcript::new(), timeout)
            .await
            .map_err(|e| format!("[http] address: {e}"))?;
        // HTTPS: TLS before the request; a certificate the profile does not
        // trust is its configuration.
        if crate::wire::tls::mode(profile, "http") == crate::wire::tls::Mode::Implicit {
            let client = crate::wire::tls::section_client(profile, "http")?;
            conn.start_tls(&client)
                .await
                .map_err(|e| format!("[http] tls = \"implicit\": {e}"))?;
        }
        let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        conn.send(req.as_bytes())
            .await
            .map_err(|e| format!("[http] address: {e}"))?;
        let raw = conn
            .read_up_to(256 * 1024, "the response to GET /")
            .await
            .map_err(|e| format!("[http] address: no response to GET {path}: {e}"))?;
        let status_line = raw.split(|b| *b == b'\n').next().unwrap_or_default();
        let ok = status_line.starts_with(b"HTTP/1.")
            && status_line.get(9..12) == Some(b"200".as_slice());
        if ok && raw.windows(sample.len()).any(|w| w == sample) {
            return Ok(());
        }
        last = format!(
            "GET {path} was answered \"{}\"",
            escape_short(status_line.strip_suffix(b"\r").unwrap_or(status_line), 100)
        );
    }
    Err(format!(
        "[http] address: the server does not serve the fixture web root at / (conform fixtures): {last}, without the fixture index.html"
    ))
}
