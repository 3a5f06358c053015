//! STARTTLS on IMAP (RFC 9051 §6.2.1; RFC 3501 §6.2.1): the upgrade, what
//! the server announces inside TLS, a second STARTTLS, and plaintext
//! pipelined behind STARTTLS, which must never run inside TLS (the
//! STARTTLS command injection class, CERT VU#555316). These run when the
//! profile sets `[imap] tls = "starttls"` (the in-TLS ones also with
//! `"implicit"`); a server without TLS skips them.

use std::time::Duration;

use cucumber::{given, then};

use super::{capabilities, connect, connect_cleartext, imap, quote};
use crate::notation::escape_short;
use crate::step;
use crate::steps::{Failure, StepResult, World};
use crate::wire::tls::Mode;

/// Skips unless `[imap] tls = "starttls"`; then a greeted cleartext session
/// and its answer to CAPABILITY.
async fn cleartext_capability(w: &mut World) -> Result<crate::wire::Reply, Failure> {
    crate::steps::tls::require_starttls(w, "imap")?;
    connect_cleartext(w, "").await?;
    imap(w, "", "CAPABILITY").await
}

fn announces(reply: &crate::wire::Reply, capability: &str) -> bool {
    capabilities(reply)
        .iter()
        .any(|c| c.eq_ignore_ascii_case(capability))
}

/// Skips unless `[imap] tls = "starttls"`; then a greeted cleartext session
/// whose CAPABILITY announces STARTTLS (its absence is a configuration
/// error: the profile says the server upgrades).
#[given(regex = r"^an IMAP session on the cleartext connection that announces STARTTLS$")]
async fn cleartext_announcing(w: &mut World) -> StepResult {
    step!(w, {
        let reply = cleartext_capability(w).await?;
        if !announces(&reply, "STARTTLS") {
            return Err(Failure::harness(
                "the target profile sets [imap] tls = \"starttls\", but CAPABILITY does not announce STARTTLS",
            )
            .got(quote(&reply.text())));
        }
        Ok(())
    })
}

/// Skips unless `[imap] tls = "starttls"`; then a greeted cleartext session
/// whose CAPABILITY announces LOGINDISABLED. A server that does not is
/// skipped with the reason: RFC 9051 §6.2.3 asks servers to implement
/// that configuration, not to run in it.
#[given(regex = r"^an IMAP session on the cleartext connection that announces LOGINDISABLED$")]
async fn cleartext_login_disabled(w: &mut World) -> StepResult {
    step!(w, {
        let reply = cleartext_capability(w).await?;
        if !announces(&reply, "LOGINDISABLED") {
            return Err(Failure::skip(
                "the server does not announce LOGINDISABLED on the cleartext connection (it allows LOGIN before TLS in this configuration; dovecot: disable_plaintext_auth, which loopback clients are exempt from)",
            ));
        }
        Ok(())
    })
}

/// A greeted session inside TLS: upgraded by STARTTLS, or on the
/// implicit-TLS port; skipped when the profile gives `[imap]` no TLS.
#[given(regex = r"^an IMAP session in TLS$")]
async fn in_tls(w: &mut World) -> StepResult {
    step!(w, {
        match crate::steps::tls::mode(w, "imap") {
            Mode::None => Err(Failure::skip(
                "the target profile does not set [imap] tls (see README, target profile)",
            )),
            _ => connect(w, "").await,
        }
    })
}

/// Reads lines until the tagged completion of `tag`, bounded in count;
/// the lines before it and the completion.
async fn until_tagged(w: &mut World, tag: &str) -> Result<(Vec<String>, String), Failure> {
    let s = w.session("")?;
    let mut before = Vec::new();
    for _ in 0..64 {
        let line = s.conn.read_line(8 * 1024, "an IMAP response").await?;
        let text = line.text();
        if text.starts_with(&format!("{tag} ")) {
            return Ok((before, text));
        }
        before.push(text);
    }
    Err(Failure::conformance(format!(
        "no tagged completion of {tag} within 64 responses"
    )))
}

/// Sends `STARTTLS` and the command in one write (one segment). A refused
/// STARTTLS is fine; after its OK, the handshake: a server that takes the
/// pipelined plaintext as the start of the handshake fails it (RFC 9051
/// §6.2.1, option 1), one that throws it away completes it (option 2) and
/// then must answer NOOP inside TLS with nothing for the pipelined command.
/// (The step is `steps::tls`'s, which dispatches by the session's protocol.)
pub(crate) async fn injection_not_executed(w: &mut World, injected: &str) -> StepResult {
    {
        let bytes = format!("i1 STARTTLS\r\ni2 {injected}\r\n");
        let s = w.session("")?;
        s.conn
            .send_as(bytes.as_bytes(), crate::wire::Segments::OneWrite)
            .await?;
        s.sent = b"i1 STARTTLS".to_vec();
        let (_, done) = until_tagged(w, "i1").await?;
        if !done.starts_with("i1 OK") {
            // Refused: nothing is upgraded, nothing runs inside TLS.
            return Ok(());
        }
        let option_1 = "the server took it as handshake data (RFC 9051 §6.2.1, option 1)";
        if !crate::steps::tls::start_after_pipelined(w, "imap", option_1).await? {
            return Ok(());
        }
        let s = w.session("")?;
        s.conn.send(b"i3 NOOP\r\n").await?;
        let (before, _) = until_tagged(w, "i3").await?;
        let s = w.session("")?;
        let mut executed = before;
        let extra = s.conn.drain_for(Duration::from_millis(300), 4096).await?;
        if !extra.is_empty() {
            executed.push(String::from_utf8_lossy(&extra).into_owned());
        }
        let answered = executed.iter().any(|l| l.starts_with("i2 "))
            || (injected.eq_ignore_ascii_case("CAPABILITY")
                && executed.iter().any(|l| l.starts_with("* CAPABILITY")));
        if answered {
            return Err(Failure::conformance(format!(
                "the server executed \"{injected}\", sent in plaintext behind STARTTLS, inside TLS (RFC 9051 §6.2.1: the server MUST either take such data as the start of the handshake or throw it away)"
            ))
            .expected("no response to i2 inside TLS")
            .got(format!("\"{}\"", escape_short(executed.join("\n").as_bytes(), 300))));
        }
        Ok(())
    }
}

/// CAPABILITY, asked now, does not list `cap`.
/// Example: `Then CAPABILITY does not announce "STARTTLS"`
#[then(regex = r#"^CAPABILITY does not announce "(.*)"$"#)]
async fn capability_lacks(w: &mut World, cap: String) -> StepResult {
    step!(w, {
        let reply = imap(w, "", "CAPABILITY").await?;
        let caps = capabilities(&reply);
        if caps.iter().any(|c| c.eq_ignore_ascii_case(&cap)) {
            return Err(Failure::conformance(format!("CAPABILITY announces {cap}"))
                .expected(format!("no {cap}"))
                .got(quote(&reply.text())));
        }
        Ok(())
    })
}
