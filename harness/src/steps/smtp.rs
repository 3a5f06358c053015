//! SMTP steps (RFC 5321): sessions at each stage of the dialogue, message
//! content sent with the harness's own dot-stuffing, EHLO extensions,
//! enhanced status codes, and a message sent by a real client (lettre).

use std::sync::Arc;
use std::time::Duration;

use cucumber::{given, then, when};

use super::line::{check_status, command, last_reply, next_reply};
use super::raw::{address, open_session};
use super::text::payload;
use super::{Failure, StepResult, World};
use crate::notation::escape_short;
use crate::step;
use crate::wire::smtp::{enhanced, extensions, SmtpReader};
use crate::wire::Reply;

/// The name the harness gives in HELO/EHLO.
pub const CLIENT_DOMAIN: &str = "client.example";
/// The sender of the harness's test mail (the course's Alice).
pub const SENDER: &str = "alice@crepes.fr";
/// The header fields RFC 5322 §3.6 requires (Date, From), for messages the
/// server owes a 250.
pub const MESSAGE_HEADER: &str =
    "From: alice@crepes.fr\r\nDate: Tue, 1 Dec 2026 12:00:00 +0000\r\n";

#[derive(Default)]
pub struct SmtpState {
    /// The extensions the last EHLO announced.
    pub extensions: Option<Vec<(String, Vec<String>)>>,
    /// Replies to a command sent several times over.
    pub repeated: Vec<Reply>,
    /// What lettre made of its delivery: the server's reply, or an error.
    pub lettre: Option<Result<(String, String), String>>,
}

/// Opens an SMTP connection for `client`; with `greet`, reads the greeting
/// and requires 220 (RFC 5321 §3.1, §4.2).
pub async fn open(w: &mut World, client: &str, greet: bool) -> StepResult {
    open_session(w, client, "smtp", "${smtp.address}", Arc::new(SmtpReader)).await?;
    if greet {
        let reply = next_reply(w, client).await?;
        check_status(&reply, &["220".into()], "as the greeting (RFC 5321 §4.2)")?;
    }
    Ok(())
}

/// Sends a command and requires one of `accepted`.
pub async fn expect(
    w: &mut World,
    client: &str,
    line: &str,
    accepted: &[&str],
) -> Result<Reply, Failure> {
    let reply = command(w, client, line.as_bytes()).await?;
    let accepted: Vec<String> = accepted.iter().map(|s| s.to_string()).collect();
    check_status(&reply, &accepted, &format!("to \"{line}\""))?;
    Ok(reply)
}

/// EHLO, and remembers the extensions it announces.
pub async fn ehlo(w: &mut World, client: &str) -> StepResult {
    let reply = expect(w, client, &format!("EHLO {CLIENT_DOMAIN}"), &["250"]).await?;
    w.state::<SmtpState>().extensions = Some(extensions(&reply));
    Ok(())
}

/// Message content as DATA carries it (RFC 5321 §4.5.2): CRLF line ends,
/// a "." doubled at the start of a line, then CRLF.CRLF.
pub fn dot_stuffed(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 16);
    let mut at_line_start = true;
    for &b in content {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// Sends message content after a 354 and reads the one reply to it.
pub async fn send_content(w: &mut World, client: &str, content: &[u8]) -> Result<Reply, Failure> {
    let s = w.session(client)?;
    s.conn.send(&dot_stuffed(content)).await?;
    s.sent = b"<message content>".to_vec();
    next_reply(w, client).await
}

/// A whole transaction on a fresh connection of its own: greeting, EHLO,
/// MAIL, RCPT, DATA, content, QUIT. Any refusal is a failure.
pub async fn deliver(w: &mut World, client: &str, to: &str, content: &[u8]) -> StepResult {
    deliver_with(w, client, to, content, None).await
}

/// [`deliver`], with `BODY=<body>` on the MAIL command (RFC 6152 §3); the
/// scenario is skipped when the EHLO reply does not announce 8BITMIME.
pub async fn deliver_with(
    w: &mut World,
    client: &str,
    to: &str,
    content: &[u8],
    body: Option<&str>,
) -> StepResult {
    open(w, client, true).await?;
    ehlo(w, client).await?;
    let mut mail = format!("MAIL FROM:<{SENDER}>");
    if let Some(body) = body {
        announced(w, "8BITMIME")?;
        mail.push_str(&format!(" BODY={body}"));
    }
    expect(w, client, &mail, &["250"]).await?;
    expect(w, client, &format!("RCPT TO:<{to}>"), &["250", "251"]).await?;
    expect(w, client, "DATA", &["354"]).await?;
    let reply = send_content(w, client, content).await?;
    check_status(&reply, &["250".into()], "to the end of the message data")?;
    expect(w, client, "QUIT", &["221"]).await?;
    w.tcp.remove(client);
    Ok(())
}

/// Opens the SMTP connection and reads the greeting.
#[given(regex = r"^an SMTP session$")]
async fn session(w: &mut World) -> StepResult {
    step!(w, open(w, "", false).await)
}

/// Opens the SMTP connection and checks the greeting is 220.
#[given(regex = r"^(?:an|another) SMTP session that has been greeted$")]
async fn session_greeted(w: &mut World) -> StepResult {
    step!(w, open(w, "", true).await)
}

/// A named further client with its own greeted SMTP session.
/// Example: `Given client B has an SMTP session that has been greeted`
#[given(regex = r"^client (\w+) has an SMTP session that has been greeted$")]
async fn client_session_greeted(w: &mut World, client: String) -> StepResult {
    step!(w, open(w, &client, true).await)
}

/// Greeted, then EHLO (250).
#[given(regex = r"^an SMTP session after EHLO$")]
async fn session_after_ehlo(w: &mut World) -> StepResult {
    step!(w, {
        open(w, "", true).await?;
        ehlo(w, "").await
    })
}

/// Greeted, then HELO (250).
#[given(regex = r"^an SMTP session after HELO$")]
async fn session_after_helo(w: &mut World) -> StepResult {
    step!(w, {
        open(w, "", true).await?;
        expect(w, "", &format!("HELO {CLIENT_DOMAIN}"), &["250"])
            .await
            .map(|_| ())
    })
}

/// After EHLO, MAIL FROM the suites' sender and RCPT TO the address, both
/// answered 250.
#[given(regex = r#"^an SMTP session with a mail transaction to "(.*)"$"#)]
async fn session_in_transaction(w: &mut World, to: String) -> StepResult {
    step!(w, {
        let to = w.expand(&to)?;
        open(w, "", true).await?;
        ehlo(w, "").await?;
        expect(w, "", &format!("MAIL FROM:<{SENDER}>"), &["250"]).await?;
        expect(w, "", &format!("RCPT TO:<{to}>"), &["250", "251"])
            .await
            .map(|_| ())
    })
}

/// DATA, then the content with dot-stuffing and the terminating `.`; reads
/// the reply.
#[when(regex = r#"^the client sends the message "(.*)"$"#)]
async fn sends_message(w: &mut World, text: String) -> StepResult {
    step!(w, {
        let content = payload(w, &text)?;
        send_content(w, "", &content).await.map(|_| ())
    })
}

/// Sends a message whose body has one line of N octets (with its CRLF).
#[when(regex = r"^the client sends a message with a line of (\d+) octets$")]
async fn sends_long_line_message(w: &mut World, octets: usize) -> StepResult {
    step!(w, {
        // The line counts its CRLF (RFC 5321 §4.5.3.1.6).
        let mut content = MESSAGE_HEADER.as_bytes().to_vec();
        content.extend_from_slice(b"Subject: a long line\r\n\r\n");
        content.extend(std::iter::repeat_n(b'x', octets.saturating_sub(2)));
        content.extend_from_slice(b"\r\n");
        send_content(w, "", &content).await.map(|_| ())
    })
}

/// `MAIL FROM:<alice@…>` padded to `octets` with the CRLF: the sender's
/// domain is made of 63-octet labels ending in the harness's own domain.
fn long_mail_line(octets: usize) -> Option<Vec<u8>> {
    let (local, tail) = SENDER.split_once('@')?;
    let fixed = "MAIL FROM:<".len() + local.len() + 1 + tail.len() + ">".len() + 2;
    let mut pad = octets.checked_sub(fixed)?;
    let mut local = local.to_string();
    if pad == 1 {
        local.push('x');
        pad = 0;
    }
    let line = format!("MAIL FROM:<{local}@{}{tail}>", labels(pad)?);
    (line.len() + 2 == octets).then(|| line.into_bytes())
}

/// Exactly `pad` octets of domain labels, each followed by its dot, none
/// empty and none above 63 octets (RFC 1035 §2.3.4); none for `pad` 1.
fn labels(mut pad: usize) -> Option<String> {
    let mut out = String::new();
    while pad > 0 {
        // A label and its dot, never leaving a single octet over.
        let mut label = (pad - 1).min(63);
        if pad - (label + 1) == 1 {
            label -= 1;
        }
        if label == 0 {
            return None;
        }
        out.push_str(&"x".repeat(label));
        out.push('.');
        pad -= label + 1;
    }
    Some(out)
}

/// After a second EHLO: accepted and the transaction reset as RSET would
/// (RCPT then gets 503), or refused (500, 501, 502, 550) with the session
/// kept (RFC 5321 §4.1.4).
#[then(regex = r"^the server either reset the transaction or refused the EHLO and kept it$")]
async fn ehlo_reset_or_kept(w: &mut World) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        let probe = w.expand("RCPT TO:<${smtp.sink}>")?;
        // RFC 5321 §4.1.4: an acceptable EHLO resets as RSET would; one that
        // is not acceptable gets 501, 500, 502 or 550 and changes nothing.
        let (accepted, context) = match reply.status.as_str() {
            "250" => (
                vec!["503".to_string()],
                "to RCPT after the new EHLO was accepted (RFC 5321 §4.1.4: the state is reset \"exactly as if a RSET command had been issued\", so there is no MAIL)",
            ),
            "500" | "501" | "502" | "550" => (
                vec!["250".to_string(), "251".to_string()],
                "to RCPT after the new EHLO was refused (RFC 5321 §4.1.4: the server \"MUST stay in the same state\", so the transaction is still open)",
            ),
            _ => {
                return Err(Failure::conformance(
                    "a new EHLO is either accepted, resetting the transaction, or refused with 501, 500, 502 or 550 (RFC 5321 §4.1.4)",
                )
                .expected("250, or one of 500, 501, 502, 550")
                .got(format!("\"{}\"", escape_short(reply.text().as_bytes(), 300))))
            }
        };
        let r = command(w, "", probe.as_bytes()).await?;
        check_status(&r, &accepted, context)
    })
}

/// Sends a MAIL FROM line of exactly N octets, CRLF included.
#[when(regex = r"^the client sends a MAIL command line of (\d+) octets$")]
async fn sends_long_mail(w: &mut World, octets: usize) -> StepResult {
    step!(w, {
        let line = long_mail_line(octets).ok_or_else(|| {
            Failure::harness(format!("no MAIL command line of exactly {octets} octets"))
        })?;
        command(w, "", &line).await.map(|_| ())
    })
}

/// MAIL FROM with a local part of N octets at the suites' sender domain.
#[when(regex = r"^the client sends MAIL FROM with a local part of (\d+) octets$")]
async fn sends_long_local_part(w: &mut World, octets: usize) -> StepResult {
    step!(w, {
        let domain = SENDER
            .split_once('@')
            .map(|(_, d)| d)
            .unwrap_or("crepes.fr");
        let line = format!("MAIL FROM:<{}@{domain}>", "a".repeat(octets));
        command(w, "", line.as_bytes()).await.map(|_| ())
    })
}

/// RFC 5321 §2.3.8: "Conforming implementations MUST NOT recognize ...
/// any other character or character sequence as a line terminator", so a
/// command ended by a bare LF is not executed: no reply yet (the line goes
/// on), or a refusal of the bare LF; a 2xx means it ran.
#[then(regex = r"^the server does not execute the line ended by a bare LF$")]
async fn bare_lf_command(w: &mut World) -> StepResult {
    step!(w, {
        let early = after_bare_lf(w).await?;
        if early.is_empty() || is_refusal(&early) {
            return Ok(());
        }
        Err(Failure::conformance(
            "the server took a bare LF for the end of a command line and executed it (RFC 5321 §2.3.8: only CRLF ends a line)",
        )
        .expected("no reply until CRLF, or a 4xx/5xx refusal of the bare LF")
        .got(format!("\"{}\"", escape_short(&early, 200))))
    })
}

/// Sends the command line N times, each reply read.
#[when(regex = r#"^the client sends "(.*)" (\d+) times$"#)]
async fn sends_repeatedly(w: &mut World, text: String, times: usize) -> StepResult {
    step!(w, {
        let line = payload(w, &text)?;
        let mut replies = Vec::with_capacity(times);
        for _ in 0..times {
            replies.push(command(w, "", &line).await?);
        }
        w.state::<SmtpState>().repeated = replies;
        Ok(())
    })
}

/// Every reply of the repeated command has this status.
#[then(regex = r"^every one of those replies is (\S+)$")]
async fn every_reply_is(w: &mut World, status: String) -> StepResult {
    step!(w, {
        let replies = std::mem::take(&mut w.state::<SmtpState>().repeated);
        if replies.is_empty() {
            return Err(Failure::harness(
                "the scenario checks repeated replies before sending any",
            ));
        }
        for (i, reply) in replies.iter().enumerate() {
            check_status(
                reply,
                std::slice::from_ref(&status),
                &format!("to repetition {}", i + 1),
            )?;
        }
        Ok(())
    })
}

/// MAIL FROM with a SIZE= parameter above (one more than) or below (half
/// of, or 1000 without a fixed limit) the size the EHLO reply announced;
/// skipped without SIZE, and "above" without a fixed limit.
#[when(regex = r#"^the client sends "(.*)" declaring a size (above|below) the announced SIZE$"#)]
async fn sends_sized_mail(w: &mut World, text: String, side: String) -> StepResult {
    step!(w, {
        let limit = announced(w, "SIZE")?
            .first()
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|n| *n > 0);
        let size = match (limit, side.as_str()) {
            (Some(limit), "above") => limit.saturating_add(1),
            (Some(limit), _) => limit / 2,
            (None, "above") => {
                return Err(Failure::skip(
                    "the server announces SIZE without a fixed limit",
                ))
            }
            (None, _) => 1000,
        };
        let line = format!("{} SIZE={size}", w.expand(&text)?);
        command(w, "", line.as_bytes()).await.map(|_| ())
    })
}

/// EHLO with a domain of exactly N octets: 63-octet labels (RFC 1035
/// §2.3.4) in front of the harness's own name.
#[when(regex = r"^the client sends EHLO with a domain of (\d+) octets$")]
async fn sends_long_ehlo(w: &mut World, octets: usize) -> StepResult {
    step!(w, {
        let domain = long_domain(octets)
            .ok_or_else(|| Failure::harness(format!("no domain of exactly {octets} octets")))?;
        let line = format!("EHLO {domain}");
        command(w, "", line.as_bytes()).await.map(|_| ())
    })
}

/// A domain of exactly `octets` octets ending in [`CLIENT_DOMAIN`].
fn long_domain(octets: usize) -> Option<String> {
    let pad = octets.checked_sub(CLIENT_DOMAIN.len())?;
    let domain = format!("{}{CLIENT_DOMAIN}", labels(pad)?);
    (domain.len() == octets).then_some(domain)
}

/// Sends each command line in turn, each reply read and kept for the
/// checks on "those replies".
/// Example: `When the client sends each of "HELP", "NOOP", "FOOBAR"`
#[when(regex = r#"^the client sends each of ((?:"[^"]*"(?:, | and )?)+)$"#)]
async fn sends_each(w: &mut World, list: String) -> StepResult {
    step!(w, {
        let mut replies = Vec::new();
        for item in list.split('"').skip(1).step_by(2) {
            let line = payload(w, item)?;
            replies.push(command(w, "", &line).await?);
        }
        w.state::<SmtpState>().repeated = replies;
        Ok(())
    })
}

/// RFC 5321 §4.5.3.1.5: a reply line, its code and CRLF included, is at
/// most 512 octets; §4.5.3.1: "Objects larger than these sizes SHOULD be
/// avoided".
#[then(regex = r"^no line of those replies is longer than 512 octets with its CRLF$")]
async fn reply_lines_bounded(w: &mut World) -> StepResult {
    step!(w, {
        let replies = std::mem::take(&mut w.state::<SmtpState>().repeated);
        if replies.is_empty() {
            return Err(Failure::harness(
                "the scenario checks the replies before sending any command",
            ));
        }
        for line in replies.iter().flat_map(|r| &r.lines) {
            // The reader took the CRLF off.
            if line.bytes.len() + 2 > 512 {
                return Err(Failure::conformance(
                    "a reply line is longer than 512 octets (RFC 5321 §4.5.3.1.5, and §4.5.3.1: larger objects \"SHOULD be avoided\")",
                )
                .expected("reply lines of at most 512 octets, CRLF included")
                .got(format!(
                    "{} octets: \"{}\"",
                    line.bytes.len() + 2,
                    escape_short(&line.bytes, 200)
                )));
            }
        }
        Ok(())
    })
}

/// The parameters of an extension the last EHLO announced; skips the
/// scenario when it is not announced.
fn announced(w: &mut World, keyword: &str) -> Result<Vec<String>, Failure> {
    let ext =
        w.state::<SmtpState>().extensions.clone().ok_or_else(|| {
            Failure::harness("the scenario checks EHLO extensions before any EHLO")
        })?;
    ext.into_iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(keyword))
        .map(|(_, params)| params)
        .ok_or_else(|| Failure::skip(format!("the server does not announce {keyword}")))
}

/// Skips the scenario unless the EHLO reply announced the extension.
#[given(regex = r#"^the server has announced "(.*)"$"#)]
async fn has_announced(w: &mut World, keyword: String) -> StepResult {
    step!(w, announced(w, &keyword).map(|_| ()))
}

/// The EHLO reply lists the extension keyword.
#[then(regex = r#"^the EHLO reply announces "(.*)"$"#)]
async fn ehlo_announces(w: &mut World, keyword: String) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        let found = extensions(&reply)
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(&keyword));
        if found {
            Ok(())
        } else {
            Err(
                Failure::conformance(format!("EHLO does not announce {keyword}"))
                    .expected(format!("a line \"250-{keyword}\" or \"250 {keyword}\""))
                    .got(format!(
                        "\"{}\"",
                        escape_short(reply.text().as_bytes(), 400)
                    )),
            )
        }
    })
}

/// Every line of the last reply starts with an enhanced status code
/// `class.subject.detail` of the reply's class (RFC 2034).
#[then(regex = r"^every line of the reply carries an enhanced status code of the reply's class$")]
async fn enhanced_codes(w: &mut World) -> StepResult {
    step!(w, {
        announced(w, "ENHANCEDSTATUSCODES")?;
        let reply = last_reply(w, "")?;
        for line in &reply.lines {
            let code = enhanced(&line.bytes);
            // RFC 2034 §3: the class of the enhanced code is the first digit
            // of the reply code.
            let ok = code
                .as_deref()
                .is_some_and(|c| c.chars().next() == reply.status.chars().next());
            if !ok {
                return Err(Failure::conformance(
                    "a reply line lacks an enhanced status code of its class (RFC 2034 §3)",
                )
                .expected(format!("\"{} {}.x.x …\"", reply.status, &reply.status[..1]))
                .got(format!("\"{}\"", escape_short(&line.bytes, 200))));
            }
        }
        Ok(())
    })
}

/// What the server sends within 500 ms of a bare LF (nothing, if it is
/// still waiting for a CRLF).
async fn after_bare_lf(w: &mut World) -> Result<Vec<u8>, Failure> {
    let s = w.session("")?;
    Ok(s.conn
        .drain_for(std::time::Duration::from_millis(500), 64 * 1024)
        .await?)
}

/// A 4xx or 5xx reply: the server refused (the bare LF).
fn is_refusal(sent: &[u8]) -> bool {
    sent.first().is_some_and(|b| matches!(b, b'4' | b'5'))
}

/// A bare LF `.` LF inside DATA does not end the message (RFC 5321 §4.1.1.4).
#[then(regex = r"^the server does not take a bare LF for the end of the message$")]
async fn no_bare_lf_end(w: &mut World) -> StepResult {
    step!(w, {
        let early = after_bare_lf(w).await?;
        let s = w.session("")?;
        if early.is_empty() {
            // Still in DATA: finish properly; any verdict on the message is fine.
            s.conn.send(b"\r\n.\r\n").await?;
            let reply = next_reply(w, "").await?;
            // §4.1.1.4: the processing of the message either succeeds (250)
            // or fails (a failure reply).
            return check_status(
                &reply,
                &["250".into(), "4xx".into(), "5xx".into()],
                "to the real end of data",
            );
        }
        // A server may refuse bare LF outright (a 5xx or a temporary 4xx
        // reply, maybe closing), but a 2xx means LF "." LF ended the message:
        // the smuggling bug.
        if is_refusal(&early) {
            Ok(())
        } else {
            Err(Failure::conformance(
                "the server ended the message at LF \".\" LF (RFC 5321 §4.1.1.4: only CRLF \".\" CRLF ends it)",
            )
            .expected("no reply until CRLF.CRLF, or a 4xx/5xx refusal of the bare LF")
            .got(format!("\"{}\"", escape_short(&early, 200))))
        }
    })
}

/// A real client (lettre) sends a message from and to the addresses.
#[when(regex = r#"^lettre sends a message from "(.*)" to "(.*)"$"#)]
async fn lettre_sends(w: &mut World, from: String, to: String) -> StepResult {
    step!(w, {
        let from = w.expand(&from)?;
        let to = w.expand(&to)?;
        // In plaintext (lettre does not take up STARTTLS unless told),
        // which an implicit-TLS port does not speak; the TLS variant of
        // the step covers that port.
        if super::tls::mode(w, "smtp") == crate::wire::tls::Mode::Implicit {
            return Err(Failure::skip(
                "the target profile's [smtp] tls is \"implicit\": there is no plaintext to send in (see \"lettre delivers a message inside TLS\")",
            ));
        }
        let addr = address(w, "${smtp.address}")?;
        // Through a recording relay, which holds the connection's lease
        // and cuts off a server that floods the library.
        let relay = w
            .library_relay(addr, "lettre", crate::protocol::Protocol::Smtp)
            .await?;
        let outcome = lettre_send(relay.addr, &from, &to, w.step_timeout, None).await;
        drop(relay);
        record_lettre(w, outcome);
        Ok(())
    })
}

/// lettre with its own TLS (rustls with ring, trusting the profile's
/// `[smtp]` ca_file): STARTTLS required (RFC 3207), or the implicit-TLS
/// port. Skipped when the profile gives SMTP no TLS. lettre connects
/// straight to the server, its bytes encrypted: the transcript notes what
/// lettre reports.
#[when(regex = r#"^lettre sends a message from "(.*)" to "(.*)" inside TLS$"#)]
async fn lettre_sends_tls(w: &mut World, from: String, to: String) -> StepResult {
    step!(w, {
        use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
        let mode = super::tls::mode(w, "smtp");
        if mode == crate::wire::tls::Mode::None {
            return Err(Failure::skip(
                "the target profile does not set [smtp] tls (see README, target profile)",
            ));
        }
        let from = w.expand(&from)?;
        let to = w.expand(&to)?;
        let addr = address(w, "${smtp.address}")?;
        let profile = w.profile();
        let name = profile
            .get("smtp.tls_name")
            .map(str::to_string)
            .unwrap_or_else(|| addr.ip().to_string());
        let mut params = TlsParameters::builder(name.clone());
        if profile.get("smtp.tls_insecure") == Some("true") {
            params = params.dangerous_accept_invalid_certs(true);
        } else {
            let ca = profile.get("smtp.ca_file").unwrap_or_default().to_string();
            let pem = std::fs::read(&ca)
                .map_err(|e| Failure::harness(format!("[smtp] ca_file = \"{ca}\": {e}")))?;
            let cert = Certificate::from_pem(&pem)
                .map_err(|e| Failure::harness(format!("[smtp] ca_file = \"{ca}\": {e}")))?;
            params = params
                .certificate_store(CertificateStore::None)
                .add_root_certificate(cert);
        }
        let params = params
            .build_rustls()
            .map_err(|e| Failure::harness(format!("cannot set up lettre's TLS: {e}")))?;
        let tls = match mode {
            crate::wire::tls::Mode::Implicit => Tls::Wrapper(params),
            _ => Tls::Required(params),
        };
        let _lease = crate::steps::lease(
            &w.budget,
            Some(crate::protocol::Protocol::Smtp),
            "lettre",
            &w.transcript,
            w.step_timeout,
        )
        .await?;
        w.transcript.event(
            "lettre",
            format!(
                "lettre connects itself to {addr} ({}, rustls, verifying \"{name}\"; its bytes are not shown)",
                if mode == crate::wire::tls::Mode::Implicit { "implicit TLS" } else { "STARTTLS required" }
            ),
        );
        let outcome = lettre_send(addr, &from, &to, w.step_timeout, Some(tls)).await;
        record_lettre(w, outcome);
        Ok(())
    })
}

/// Notes lettre's outcome in the transcript and keeps it for the Then step.
fn record_lettre(w: &mut World, outcome: Result<(String, String), String>) {
    let note = match &outcome {
        Ok((code, text)) => format!("lettre: the server answered the message with {code} {text}"),
        Err(e) => format!("lettre: {e}"),
    };
    w.transcript.event("lettre", note);
    w.state::<SmtpState>().lettre = Some(outcome);
}

/// lettre sends one message to `addr`, in plaintext without `tls`.
async fn lettre_send(
    addr: std::net::SocketAddr,
    from: &str,
    to: &str,
    timeout: std::time::Duration,
    tls: Option<lettre::transport::smtp::client::Tls>,
) -> Result<(String, String), String> {
    use lettre::transport::smtp::extension::ClientId;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    let message = Message::builder()
        .from(
            from.parse()
                .map_err(|e| format!("bad sender {from}: {e}"))?,
        )
        .to(to.parse().map_err(|e| format!("bad recipient {to}: {e}"))?)
        .subject("conform: a message sent with lettre")
        .body(String::from(
            "Sent by the lettre SMTP client.\r\n.A line that starts with a dot.\r\n",
        ))
        .map_err(|e| format!("cannot build the message: {e}"))?;
    let mut builder =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(addr.ip().to_string())
            .port(addr.port())
            .hello_name(ClientId::Domain(CLIENT_DOMAIN.into()))
            .timeout(Some(timeout));
    if let Some(tls) = tls {
        builder = builder.tls(tls);
    }
    let transport = builder.build();
    let response = transport
        .send(message)
        .await
        .map_err(|e| format!("the delivery failed: {e}"))?;
    Ok((
        response.code().to_string(),
        response.message().collect::<Vec<_>>().join(" "),
    ))
}

/// lettre's send succeeded.
#[then(regex = r"^lettre reports that the server accepted the message$")]
async fn lettre_accepted(w: &mut World) -> StepResult {
    step!(w, {
        match w.state::<SmtpState>().lettre.clone() {
            None => Err(Failure::harness(
                "the scenario checks lettre before it sent anything",
            )),
            Some(Ok((code, _))) if code.starts_with('2') => Ok(()),
            Some(Ok((code, text))) => {
                Err(Failure::conformance("the server refused lettre's message")
                    .expected("a 2xx reply to the end of data")
                    .got(format!("{code} {text}")))
            }
            // The profile says the server upgrades; it does not offer to.
            Some(Err(e)) if e.contains("STARTTLS is not supported") => Err(Failure::harness(
                "the target profile sets [smtp] tls = \"starttls\", but the server's EHLO does not announce STARTTLS",
            )
            .got(e)),
            Some(Err(e)) => Err(Failure::conformance("lettre could not deliver the message")
                .expected("a complete SMTP transaction")
                .got(e)),
        }
    })
}

/// Waits up to `[smtp] idle_timeout` and a margin for a 421 and a close
/// (skipped without the key).
#[then(regex = r"^the server ends the idle session with 421 within its idle timeout$")]
async fn ends_idle_session(w: &mut World) -> StepResult {
    step!(w, {
        let Some(idle) = w.profile().get("smtp.idle_timeout").map(str::to_string) else {
            return Err(Failure::skip(
                "the target profile sets no smtp.idle_timeout, so how long to wait is unknown \
                 (RFC 5321 §4.5.3.2 suggests at least 5 minutes)",
            ));
        };
        let idle = humantime::parse_duration(&idle)
            .map_err(|e| Failure::harness(format!("smtp.idle_timeout \"{idle}\": {e}")))?;
        let margin = Duration::from_secs(2);
        if idle + margin > w.step_timeout {
            return Err(Failure::skip(format!(
                "smtp.idle_timeout {} plus {} of margin exceeds the step timeout {}; raise it with --step-timeout",
                humantime::format_duration(idle),
                humantime::format_duration(margin),
                humantime::format_duration(w.step_timeout),
            )));
        }
        let s = w.session("")?;
        let old = s.conn.timeout;
        s.conn.timeout = idle + margin;
        let got = s.conn.wait_for_close(64 * 1024).await;
        s.conn.timeout = old;
        let expected = format!(
            "a 421 reply, then the connection closed, within the idle timeout of {} (smtp.idle_timeout)",
            humantime::format_duration(idle)
        );
        match got {
            Ok(sent) => closing_reply_is_421(&sent).map_err(|got| {
                Failure::conformance("the server ended the idle session without a 421 reply")
                    .expected(expected)
                    .got(got)
            }),
            Err(crate::wire::WireError::Timeout { .. }) => Err(Failure::conformance(format!(
                "the idle session was still open {} after the last reply",
                humantime::format_duration(idle + margin)
            ))
            .expected(expected)
            .got("the connection still open")),
            Err(e) => Err(e.into()),
        }
    })
}

/// What a server sent before closing an idle session: one 421 reply (RFC
/// 5321 §3.8, §4.2.2), possibly multi-line, and nothing else. Err says what
/// came instead.
fn closing_reply_is_421(sent: &[u8]) -> Result<(), String> {
    if sent.is_empty() {
        return Err("the connection closed with nothing sent".into());
    }
    let text = String::from_utf8_lossy(sent);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    // A complete reply ends in CRLF: the split leaves an empty last piece.
    let complete = lines.len() > 1 && lines.last() == Some(&"");
    let lines = &lines[..lines.len() - 1];
    let code_line = |l: &&str, sep: &[char]| {
        l.starts_with("421")
            && l[3..]
                .chars()
                .next()
                .map_or(sep.contains(&' '), |c| sep.contains(&c))
    };
    let well_formed = complete
        && lines
            .iter()
            .take(lines.len() - 1)
            .all(|l| code_line(l, &['-']))
        && lines.last().is_some_and(|l| code_line(l, &[' ']));
    if well_formed {
        Ok(())
    } else {
        Err(format!("\"{}\" then close", escape_short(sent, 200)))
    }
}

/// A header block of trace fields: every line a field (`Name:`) or a folded
/// continuation (starts with space or tab), each ending in CRLF.
pub fn is_trace_prefix(prefix: &[u8]) -> bool {
    let text = String::from_utf8_lossy(prefix);
    let Some(lines) = text.strip_suffix("\r\n").map(|t| t.split("\r\n")) else {
        return prefix.is_empty();
    };
    lines.into_iter().all(|l| {
        l.starts_with([' ', '\t'])
            || l.split_once(':').is_some_and(|(name, _)| {
                !name.is_empty() && name.bytes().all(|b| (33..=126).contains(&b))
            })
    })
}

/// The message as stored (`got`) is what the client sent behind trace
/// fields the servers added, and a `Received:` field is among them: RFC
/// 5321 §4.4, "When an SMTP server receives a message for delivery or
/// further processing, it MUST insert trace ("time stamp" or "Received")
/// information at the beginning of the message content".
pub fn received_among(got: &[u8], sent: &[u8]) -> StepResult {
    let prefix = got.strip_suffix(sent).filter(|p| is_trace_prefix(p));
    let Some(prefix) = prefix else {
        return Err(Failure::harness(
            "the stored message is not the one sent behind header fields; the byte-for-byte scenario says why",
        )
        .got(format!("\"{}\"", escape_short(got, 400))));
    };
    let text = String::from_utf8_lossy(prefix);
    let names: Vec<&str> = text
        .split("\r\n")
        .filter(|l| !l.starts_with([' ', '\t']))
        .filter_map(|l| l.split_once(':').map(|(n, _)| n))
        .collect();
    if names.iter().any(|n| n.eq_ignore_ascii_case("Received")) {
        return Ok(());
    }
    Err(Failure::conformance(
        "the delivered message carries no Received: trace field (RFC 5321 §4.4: the server \"MUST insert trace (\"time stamp\" or \"Received\") information at the beginning of the message content\")",
    )
    .expected("a \"Received: from … by …\" field above the message")
    .got(if names.is_empty() {
        "no field above the message sent".to_string()
    } else {
        format!("only {} above the message sent", names.join(", "))
    }))
}

/// The profile's `[smtp] sink_maildir`: the Maildir (holding `new/` and
/// `cur/`) where the server stores mail for `${smtp.sink}`, readable by
/// conform. Without it the scenario is skipped.
fn sink_maildir(w: &World) -> Result<std::path::PathBuf, Failure> {
    let Some(dir) = w.profile().get("smtp.sink_maildir") else {
        return Err(Failure::skip(
            "the target profile sets no smtp.sink_maildir, so what the server stored for ${smtp.sink} cannot be read",
        ));
    };
    let dir = std::path::PathBuf::from(dir);
    if !dir.join("new").is_dir() && !dir.join("cur").is_dir() {
        return Err(Failure::harness(format!(
            "smtp.sink_maildir \"{}\" holds neither new/ nor cur/: set it to the sink's Maildir",
            dir.display()
        )));
    }
    Ok(dir)
}

/// Largest file read from the sink's Maildir.
const MAX_STORED: u64 = 4 * 1024 * 1024;

/// Finds the file holding the message with `X-Conform-Id: id` in the sink's
/// Maildir, waiting a while (delivery may follow the 250); returns its path
/// and content with line ends as CRLF (Maildirs often store bare LF).
async fn stored_message(
    w: &mut World,
    wait: Duration,
) -> Result<(std::path::PathBuf, Vec<u8>), Failure> {
    let dir = sink_maildir(w)?;
    let (id, _) = super::pop3::delivered_message(w)?;
    let needle = format!("X-Conform-Id: {id}");
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
                continue;
            };
            for e in entries.flatten() {
                let small = e
                    .metadata()
                    .is_ok_and(|m| m.is_file() && m.len() <= MAX_STORED);
                let Ok(bytes) = small.then(|| std::fs::read(e.path())).unwrap_or(Ok(vec![])) else {
                    continue;
                };
                if bytes.windows(needle.len()).any(|x| x == needle.as_bytes()) {
                    return Ok((e.path(), crlf(&bytes)));
                }
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Failure::conformance(
                "the message that SMTP accepted for ${smtp.sink} never showed up in smtp.sink_maildir",
            )
            .expected(format!("a file in {}/new or cur with \"{needle}\"", dir.display())));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Line ends as CRLF: a bare LF becomes CRLF, a CRLF stays.
fn crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 16);
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' && (i == 0 || bytes[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// Removes the scenario's message from the sink's Maildir, so it is left
/// as found; a failure to remove is noted, not judged.
fn remove_stored(w: &World, path: &std::path::Path) {
    if let Err(e) = std::fs::remove_file(path) {
        w.transcript
            .event("sink", format!("could not remove {}: {e}", path.display()));
    }
}

/// RFC 5321 §4.5.2: "the receiver ... If the line is composed of a single
/// period, it is treated as the end of mail indicator. If the first
/// character is a period and there are other characters on the line, the
/// first character is deleted." What the client sent (before its
/// stuffing) must be what is stored, behind the trace fields.
#[then(regex = r"^the sink's Maildir holds the delivered message byte for byte$")]
async fn stored_byte_for_byte(w: &mut World) -> StepResult {
    step!(w, {
        let (path, got) = stored_message(w, w.step_timeout * 3 / 4).await?;
        let (_, sent) = super::pop3::delivered_message(w)?;
        remove_stored(w, &path);
        if got.ends_with(&sent) && is_trace_prefix(&got[..got.len() - sent.len()]) {
            return Ok(());
        }
        Err(Failure::conformance(
            "the message stored for ${smtp.sink} differs from the one sent (the transparency dots of RFC 5321 §4.5.2 removed wrongly, or lines changed)",
        )
        .expected(format!("trace header fields, then \"{}\"", escape_short(&sent, 400)))
        .got(format!("\"{}\"", escape_short(&got, 600))))
    })
}

/// The copy stored in the sink's Maildir starts with a Received: trace
/// field (RFC 5321 §4.4).
#[then(regex = r"^the message stored in the sink's Maildir begins with a Received: trace field$")]
async fn stored_with_received(w: &mut World) -> StepResult {
    step!(w, {
        let (path, got) = stored_message(w, w.step_timeout * 3 / 4).await?;
        let (_, sent) = super::pop3::delivered_message(w)?;
        remove_stored(w, &path);
        received_among(&got, &sent)
    })
}

/// A message of `octets` octets (header fields, then numbered body lines
/// of 78 octets), before the X-Conform-Id field that finds it again.
fn sized_message(octets: usize) -> Vec<u8> {
    let mut content = format!("{MESSAGE_HEADER}Subject: {octets} octets\r\n\r\n").into_bytes();
    let mut n = 0;
    while content.len() < octets {
        n += 1;
        let left = octets - content.len();
        let mut line = format!("{n:06} ").into_bytes();
        line.resize(76, b'x');
        line.extend_from_slice(b"\r\n");
        if left < line.len() + 2 {
            // The last line takes what is left, its CRLF included.
            line.truncate(left.saturating_sub(2));
            line.extend_from_slice(b"\r\n");
            line.truncate(left);
        }
        content.extend_from_slice(&line);
    }
    content
}

/// Delivers (as `a message … delivered by SMTP`) a message of N octets of
/// content, plus its X-Conform-Id field.
#[given(regex = r#"^a message of (\d+) octets delivered by SMTP to "(.*)"$"#)]
async fn delivered_sized(w: &mut World, octets: usize, to: String) -> StepResult {
    step!(w, {
        let to = w.expand(&to)?;
        let content = super::pop3::mark_delivered(w, &sized_message(octets));
        deliver(w, "smtp", &to, &content).await
    })
}

/// Delivers the message with `BODY=7BIT` or `BODY=8BITMIME` on MAIL
/// (RFC 6152 §3); skipped when the server does not announce 8BITMIME.
#[given(regex = r#"^a message "(.*)" delivered by SMTP to "(.*)" with BODY=(7BIT|8BITMIME)$"#)]
async fn delivered_with_body(w: &mut World, text: String, to: String, body: String) -> StepResult {
    step!(w, {
        let to = w.expand(&to)?;
        let text = payload(w, &text)?;
        let content = super::pop3::mark_delivered(w, &text);
        deliver_with(w, "smtp", &to, &content, Some(&body)).await
    })
}

/// After 354: the start of a marked message, then the connection closed
/// with no end of data.
#[when(regex = r"^the client sends the start of a message and drops the connection$")]
async fn drops_mid_message(w: &mut World) -> StepResult {
    step!(w, {
        let part =
            format!("{MESSAGE_HEADER}Subject: dropped\r\n\r\nThe first line, and no end.\r\n");
        let content = super::pop3::mark_delivered(w, part.as_bytes());
        let s = w.session("")?;
        s.conn.send(&content).await?;
        s.conn.transcript().event(
            &s.conn.name,
            "client closed the connection in the middle of the message",
        );
        w.tcp.remove("");
        Ok(())
    })
}

/// RFC 5321 §4.1.1.10: "If the connection is closed prematurely ... the
/// server MUST cancel any pending transaction": the message must not show
/// up in the sink's Maildir (watched for 2 s).
#[then(regex = r"^the sink's Maildir does not get the message$")]
async fn not_stored(w: &mut World) -> StepResult {
    step!(w, {
        let watch = Duration::from_secs(2).min(w.step_timeout / 2);
        match stored_message(w, watch).await {
            Err(e) if e.kind == super::FailureKind::Conformance => Ok(()),
            Err(e) => Err(e),
            Ok((path, got)) => {
                remove_stored(w, &path);
                Err(Failure::conformance(
                    "a message whose connection was dropped before its end was delivered (RFC 5321 §4.1.1.10: \"the server MUST cancel any pending transaction\")",
                )
                .expected("nothing stored")
                .got(format!("\"{}\"", escape_short(&got, 300))))
            }
        }
    })
}

/// VRFY of the profile's existing mailbox (RFC 5321 §3.5). 250/251 verify
/// it, and then "the reply MUST include the <Mailbox> name" (§3.5.2); 252
/// says "cannot verify" (§3.5.3), which is also what a server that
/// disables VRFY "MUST return" (§7.3); 500/502 (not implemented) skips
/// here, the SHOULD of §3.5.2 judges it; anything else, 550 above all,
/// answers as if the mailbox did not exist: "an implementation that
/// "supports" VRFY by always returning 550 whether or not the address is
/// valid is equally not in conformance" (§7.3).
#[then(regex = r"^the server answers VRFY of the existing mailbox as the RFC allows$")]
async fn vrfy_existing(w: &mut World) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        let mailbox = w.expand("${smtp.recipient}")?;
        let text = reply.text();
        match reply.status.as_str() {
            "252" => Ok(()),
            "250" | "251" | "551" => {
                if text.to_ascii_lowercase().contains(&mailbox.to_ascii_lowercase()) {
                    Ok(())
                } else {
                    Err(Failure::conformance(
                        "the VRFY reply does not name the mailbox (RFC 5321 §3.5.2: \"the reply MUST include the <Mailbox> name using a \"<local-part@domain>\" construction\")",
                    )
                    .expected(format!("{} … <{mailbox}>", reply.status))
                    .got(format!("\"{}\"", escape_short(text.as_bytes(), 300))))
                }
            }
            "500" | "502" => Err(Failure::skip(format!(
                "the server does not implement VRFY (it answered {}); the scenario \"VRFY is implemented\" judges that",
                reply.status
            ))),
            _ => Err(Failure::conformance(
                "VRFY of an existing mailbox is answered as if it did not exist (RFC 5321 §7.3: a server that will not verify \"MUST return a 252 response, rather than a code that could be confused with successful or unsuccessful verification\")",
            )
            .expected(format!("250 or 251 naming <{mailbox}>, or 252"))
            .got(format!("\"{}\"", escape_short(text.as_bytes(), 300)))),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::{
        closing_reply_is_421, crlf, dot_stuffed, is_trace_prefix, long_domain, long_mail_line,
        sized_message, CLIENT_DOMAIN,
    };

    #[test]
    fn trace_prefixes() {
        assert!(is_trace_prefix(b""));
        assert!(is_trace_prefix(
            b"Return-Path: <a@b>\r\nReceived: from x\r\n\tby y\r\n"
        ));
        assert!(!is_trace_prefix(b"Return-Path: <a@b>\r\nnot a header\r\n"));
        assert!(!is_trace_prefix(b"Received: x"));
    }

    #[test]
    fn received_is_required() {
        let sent = b"From: a\r\n\r\nhi\r\n";
        let with = [&b"Received: from x\r\n\tby y\r\n"[..], sent].concat();
        assert!(super::received_among(&with, sent).is_ok());
        let without = [&b"Return-Path: <a@b>\r\n"[..], sent].concat();
        assert!(super::received_among(&without, sent).is_err());
        assert!(super::received_among(sent, sent).is_err());
    }

    #[test]
    fn bare_lf_becomes_crlf() {
        assert_eq!(crlf(b"a\nb\r\n\n"), b"a\r\nb\r\n\r\n");
        assert_eq!(crlf(b"\n"), b"\r\n");
    }

    #[test]
    fn long_mail_lines_have_the_length_asked_for() {
        for n in 30..1100 {
            let line = long_mail_line(n).expect("a line");
            assert_eq!(line.len() + 2, n);
            let text = String::from_utf8(line).unwrap();
            assert!(text.starts_with("MAIL FROM:<alice") && text.ends_with("crepes.fr>"));
            assert!(!text.contains(".."), "{text}");
            let domain = text.split('@').nth(1).unwrap();
            assert!(
                domain.split('.').all(|l| !l.is_empty() && l.len() <= 63),
                "{text}"
            );
        }
        assert!(long_mail_line(10).is_none());
    }

    #[test]
    fn sized_messages_have_the_size_asked_for() {
        for n in [100, 1000, 65536, 65537, 65538, 65539] {
            let m = sized_message(n);
            assert_eq!(m.len(), n);
            assert!(m.ends_with(b"\r\n"));
            assert!(!m.windows(2).any(|w| w == b"\n."));
        }
    }

    #[test]
    fn long_domains_have_the_length_asked_for() {
        for n in 20..300 {
            let Some(domain) = long_domain(n) else {
                assert_eq!(n, CLIENT_DOMAIN.len() + 1, "{n}");
                continue;
            };
            assert_eq!(domain.len(), n);
            assert!(domain.ends_with(CLIENT_DOMAIN));
            assert!(domain.split('.').all(|l| !l.is_empty() && l.len() <= 63));
        }
    }

    #[test]
    fn closing_reply() {
        assert!(closing_reply_is_421(b"421 4.4.2 mx Error: timeout exceeded\r\n").is_ok());
        assert!(closing_reply_is_421(b"421-mx\r\n421 bye\r\n").is_ok());
        assert!(closing_reply_is_421(b"421\r\n").is_ok());
        assert!(closing_reply_is_421(b"").is_err());
        assert!(closing_reply_is_421(b"221 bye\r\n").is_err());
        assert!(closing_reply_is_421(b"421 bye").is_err());
        assert!(closing_reply_is_421(b"4210 x\r\n").is_err());
        assert!(closing_reply_is_421(b"421-a\r\n").is_err());
        assert!(closing_reply_is_421(b"421 a\r\n250 b\r\n").is_err());
    }

    #[test]
    fn stuffs_and_terminates() {
        assert_eq!(dot_stuffed(b".a\r\nb\r\n.\r\n"), b"..a\r\nb\r\n..\r\n.\r\n");
        assert_eq!(dot_stuffed(b"x"), b"x\r\n.\r\n");
        assert_eq!(dot_stuffed(b""), b"\r\n.\r\n");
    }
}

// ---- STARTTLS (RFC 3207) and AUTH (RFC 4954, RFC 4616) ----

/// Greeted, EHLO, and requires STARTTLS in the EHLO reply: the profile
/// says the server upgrades, so a missing STARTTLS is a configuration
/// problem, not a verdict.
async fn before_starttls(w: &mut World) -> StepResult {
    super::tls::require_starttls(w, "smtp")?;
    open(w, "", true).await?;
    ehlo(w, "").await?;
    if announced(w, "STARTTLS").is_err() {
        return Err(Failure::harness(
            "the target profile sets [smtp] tls = \"starttls\", but the EHLO reply does not announce STARTTLS",
        ));
    }
    Ok(())
}

/// STARTTLS answered 220 (RFC 3207 §4), then the handshake.
async fn upgrade(w: &mut World) -> StepResult {
    expect(w, "", "STARTTLS", &["220"]).await?;
    super::tls::start(w, "").await?;
    // §4.2: the client discards what it knew of the server's extensions.
    w.state::<SmtpState>().extensions = None;
    Ok(())
}

/// Skips unless the profile sets `[smtp] tls = "starttls"`; then a greeted
/// session whose EHLO reply announces STARTTLS (its absence is a
/// configuration error: the profile said the server upgrades).
/// Example: `Given an SMTP session after EHLO that announces STARTTLS`
#[given(regex = r"^an SMTP session after EHLO that announces STARTTLS$")]
async fn session_announcing_starttls(w: &mut World) -> StepResult {
    step!(w, before_starttls(w).await)
}

/// A session upgraded by STARTTLS (greeting, EHLO, STARTTLS 220,
/// handshake), with no EHLO inside TLS yet; with `[smtp] tls =
/// "implicit"`, a greeted session on the implicit-TLS port. Skips when the
/// profile gives SMTP no TLS.
/// Example: `Given an SMTP session in TLS`
#[given(regex = r"^an SMTP session in TLS$")]
async fn session_in_tls(w: &mut World) -> StepResult {
    step!(w, {
        match super::tls::mode(w, "smtp") {
            crate::wire::tls::Mode::Implicit => open(w, "", true).await,
            _ => {
                before_starttls(w).await?;
                upgrade(w).await
            }
        }
    })
}

/// Skips the scenario when the server accepts MAIL before any EHLO/HELO
/// (RFC 5321 lets it): then a reset by the handshake cannot be seen by
/// MAIL being refused. Checked on a connection of its own.
/// Example: `Given the SMTP server refuses MAIL before EHLO`
#[given(regex = r"^the SMTP server refuses MAIL before EHLO$")]
async fn refuses_mail_before_ehlo(w: &mut World) -> StepResult {
    step!(w, {
        open(w, "probe", true).await?;
        let reply = command(w, "probe", format!("MAIL FROM:<{SENDER}>").as_bytes()).await?;
        w.tcp.remove("probe");
        if reply.class() == Some('2') {
            return Err(Failure::skip(
                "the server accepts MAIL before EHLO, so the reset after the handshake cannot be seen that way",
            ));
        }
        Ok(())
    })
}

/// Sends `STARTTLS` and the command in one write (one segment), then
/// judges what follows: a refused STARTTLS is fine; after 220, the
/// handshake, then EHLO inside TLS, whose reply must be the first and
/// only one — a reply to the pipelined command inside TLS means the
/// server executed plaintext sent before the upgrade (RFC 3207 §4.2; the
/// CVE-2011-0411 class of injection).
/// (The step is `steps::tls`'s, which dispatches by the session's protocol.)
pub(crate) async fn injection_not_executed(w: &mut World, injected: &str) -> StepResult {
    {
        let line = format!("STARTTLS\r\n{injected}\r\n");
        let s = w.session("")?;
        s.conn
            .send_as(line.as_bytes(), crate::wire::Segments::OneWrite)
            .await?;
        s.sent = b"STARTTLS".to_vec();
        let reply = next_reply(w, "").await?;
        if reply.status != "220" {
            // Refused (some servers refuse a STARTTLS with pipelined data):
            // nothing runs inside TLS.
            return check_status(&reply, &["4xx".into(), "5xx".into()], "to STARTTLS");
        }
        super::tls::start(w, "").await?;
        let reply = command(w, "", format!("EHLO {CLIENT_DOMAIN}").as_bytes()).await?;
        let ehlo_reply = reply.status == "250"
            && reply
                .lines
                .first()
                .is_some_and(|l| !l.bytes.windows(4).any(|x| x.eq_ignore_ascii_case(b"help")));
        if !ehlo_reply {
            return Err(Failure::conformance(format!(
                "the first reply inside TLS is not the EHLO reply: the server executed \"{injected}\", sent in plaintext before the handshake (RFC 3207 §4.2: it \"MUST discard any knowledge obtained from the client ... which was not obtained from the TLS negotiation itself\")"
            ))
            .expected("250, the reply to EHLO")
            .got(format!("\"{}\"", escape_short(reply.text().as_bytes(), 300))));
        }
        let s = w.session("")?;
        let extra = s.conn.drain_for(Duration::from_millis(300), 4096).await?;
        if !extra.is_empty() {
            return Err(Failure::conformance(format!(
                "a further reply came inside TLS after the EHLO reply: the server executed \"{injected}\", sent in plaintext before the handshake (RFC 3207 §4.2)"
            ))
            .expected("nothing more")
            .got(format!("\"{}\"", escape_short(&extra, 300))));
        }
        Ok(())
    }
}

/// The EHLO reply does not list the extension keyword.
/// Example: `Then the EHLO reply does not announce "STARTTLS"`
#[then(regex = r#"^the EHLO reply does not announce "(.*)"$"#)]
async fn ehlo_does_not_announce(w: &mut World, keyword: String) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        if extensions(&reply)
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(&keyword))
        {
            return Err(Failure::conformance(format!("EHLO announces {keyword}"))
                .expected(format!("no line \"250-{keyword}\" or \"250 {keyword}\""))
                .got(format!(
                    "\"{}\"",
                    escape_short(reply.text().as_bytes(), 400)
                )));
        }
        Ok(())
    })
}

/// The credentials of `[smtp] user` / `password`; skips without them.
fn credentials(w: &World) -> Result<(String, String), Failure> {
    match (w.profile().get("smtp.user"), w.profile().get("smtp.password")) {
        (Some(u), Some(p)) => Ok((u.to_string(), p.to_string())),
        _ => Err(Failure::skip(
            "the target profile sets no [smtp] user and password for AUTH (see README, target profile)",
        )),
    }
}

/// A session where AUTH may be tried: with the profile's TLS (STARTTLS
/// and a new EHLO, or the implicit-TLS port), else plaintext; EHLO must
/// announce AUTH with PLAIN, or the scenario skips. Skips without `[smtp]
/// user` and `password`.
/// Example: `Given an SMTP session ready for AUTH`
#[given(regex = r"^an SMTP session ready for AUTH$")]
async fn session_ready_for_auth(w: &mut World) -> StepResult {
    step!(w, {
        credentials(w)?;
        match super::tls::mode(w, "smtp") {
            crate::wire::tls::Mode::StartTls => {
                before_starttls(w).await?;
                upgrade(w).await?;
            }
            _ => open(w, "", true).await?,
        }
        ehlo(w, "").await?;
        let mechanisms = announced(w, "AUTH")?;
        if !mechanisms.iter().any(|m| m.eq_ignore_ascii_case("PLAIN")) {
            return Err(Failure::skip("the server does not announce AUTH PLAIN"));
        }
        Ok(())
    })
}

/// `AUTH PLAIN` with the initial response (RFC 4954 §4, RFC 4616 §2:
/// NUL user NUL password, base64) in the same command; reads the reply.
/// `a wrong password` sends the profile's user with a password it does not
/// have; `an unknown user` a user name the server does not know.
/// Example: `When the client authenticates with PLAIN as the profile's user`
#[when(
    regex = r"^the client authenticates with PLAIN as (the profile's user|the profile's user with a wrong password|an unknown user)$"
)]
async fn auth_plain(w: &mut World, who: String) -> StepResult {
    step!(w, {
        let (user, password) = credentials(w)?;
        let (user, password) = match who.as_str() {
            "the profile's user" => (user, password),
            "an unknown user" => ("no-such-user-7f3a".to_string(), password),
            _ => (user, format!("{password}-wrong-7f3a")),
        };
        super::tls::guard_credentials(w, "")?;
        let message = format!("\0{user}\0{password}");
        command(
            w,
            "",
            format!("AUTH PLAIN {}", super::text::base64(message.as_bytes())).as_bytes(),
        )
        .await
        .map(|_| ())
    })
}
