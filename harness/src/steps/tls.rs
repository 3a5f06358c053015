//! TLS in the scenarios, for every protocol that upgrades (SMTP STARTTLS,
//! POP3 STLS, IMAP STARTTLS, FTP AUTH TLS): whether the profile gives the section TLS,
//! the handshake on a session, and the rule that credentials never go out
//! in plaintext when the profile says TLS.

use cucumber::{then, when};

use super::{client_name, Failure, StepResult, World};
use crate::protocol::Protocol;
use crate::step;
use crate::wire::tls::{self, Mode};

/// The section's TLS mode.
pub fn mode(w: &World, section: &str) -> Mode {
    tls::mode(w.profile(), section)
}

/// Skips the scenario unless the section upgrades with STARTTLS (its
/// `tls = "starttls"`): a server without TLS must not fail, and one on an
/// implicit-TLS port has no upgrade to test.
pub fn require_starttls(w: &World, section: &str) -> StepResult {
    match mode(w, section) {
        Mode::StartTls => Ok(()),
        Mode::None => Err(Failure::skip(format!(
            "the target profile does not set [{section}] tls = \"starttls\" (see README, target profile)"
        ))),
        Mode::Implicit => Err(Failure::skip(format!(
            "the target profile's [{section}] tls is \"implicit\": there is no upgrade to test"
        ))),
    }
}

/// The TLS clients a scenario made, one per section: every connection of
/// the scenario to that server shares its session cache, so a second
/// connection resumes the first's TLS session (RFC 4217 §10.2: FTP servers
/// may require the data connection to resume the control one's).
#[derive(Default)]
struct Clients(Vec<(String, tls::Client)>);

/// The TLS client for the section's server (`address`'s host, or
/// `tls_name`), the same for the whole scenario.
pub fn client(w: &mut World, section: &str) -> Result<tls::Client, Failure> {
    if let Some((_, c)) = w.state::<Clients>().0.iter().find(|(s, _)| s == section) {
        return Ok(c.clone());
    }
    let c = tls::section_client(w.profile(), section).map_err(Failure::harness)?;
    w.state::<Clients>()
        .0
        .push((section.to_string(), c.clone()));
    Ok(c)
}

/// Upgrades `client`'s session to TLS (after the server's go-ahead).
pub async fn start(w: &mut World, client_label: &str) -> StepResult {
    let section = session_section(w, client_label)?;
    let tls = client(w, section.name())?;
    let s = w.session(client_label)?;
    s.conn.start_tls(&tls).await?;
    Ok(())
}

/// Starts TLS at once on a session just opened to a section whose
/// profile says `tls = "implicit"` (RFC 8314 §3: the greeting comes inside
/// TLS); nothing for other sessions.
pub async fn implicit(w: &mut World, client_label: &str) -> StepResult {
    let Some(section) = w.tcp.get(client_label).and_then(|s| s.section) else {
        return Ok(());
    };
    if mode(w, section.name()) == Mode::Implicit {
        start(w, client_label).await?;
    }
    Ok(())
}

fn session_section(w: &mut World, client_label: &str) -> Result<Protocol, Failure> {
    w.session(client_label)?.section.ok_or_else(|| {
        Failure::harness("the session is not to a server of the profile: it has no TLS settings")
    })
}

/// The handshake after the go-ahead to an upgrade that was sent with
/// plaintext pipelined behind it. `Ok(false)` when the handshake fails:
/// the server took that plaintext as handshake data, so nothing ran inside
/// TLS; the transcript notes it, with `meaning`.
pub async fn start_after_pipelined(
    w: &mut World,
    label: &str,
    meaning: &str,
) -> Result<bool, Failure> {
    match start(w, "").await {
        Ok(()) => Ok(true),
        Err(e) => {
            w.transcript.event(
                label,
                format!(
                    "the handshake after the pipelined plaintext failed ({}): {meaning}",
                    e.message
                ),
            );
            Ok(false)
        }
    }
}

/// Inside TLS nothing may arrive before the client's first command there:
/// anything that does answers `injected`, sent in plaintext behind `verb`.
pub async fn silent_until_asked(w: &mut World, injected: &str, verb: &str) -> StepResult {
    let s = w.session("")?;
    let early = s
        .conn
        .drain_for(std::time::Duration::from_millis(300), 4096)
        .await?;
    if !early.is_empty() {
        return Err(Failure::conformance(format!(
            "a reply came inside TLS before any command was sent in it: the server executed \"{injected}\", sent in plaintext behind {verb}"
        ))
        .expected("nothing until the client's first command inside TLS")
        .got(format!(
            "\"{}\"",
            crate::notation::escape_short(&early, 300)
        )));
    }
    Ok(())
}

/// Refuses to go on when the profile says TLS but the session is not in
/// TLS: credentials never go out in plaintext then.
pub fn guard_credentials(w: &mut World, client_label: &str) -> StepResult {
    let section = session_section(w, client_label)?;
    let tls_on = w.session(client_label)?.conn.is_tls();
    if mode(w, section.name()) != Mode::None && !tls_on {
        return Err(Failure::harness(format!(
            "the scenario would send credentials in plaintext, but the profile sets [{}] tls = \"{}\"",
            section.name(),
            mode(w, section.name()).name()
        )));
    }
    Ok(())
}

/// Runs the TLS handshake on the session, right after the server's
/// go-ahead (STARTTLS's 220, STLS's +OK). A server that sends anything but
/// a handshake, stalls in it, presents a certificate the profile's
/// `ca_file` does not vouch for, or closes, fails the step.
/// Example: `When the client completes the TLS handshake`
#[when(regex = r"^(the client|client \w+) completes the TLS handshake$")]
async fn completes_handshake(w: &mut World, who: String) -> StepResult {
    step!(w, start(w, &client_name(&who)).await)
}

/// Sends STARTTLS and the command in one write (one segment), then judges
/// that the command is not executed inside TLS: SMTP (RFC 3207 §4.2), IMAP
/// (RFC 9051 §6.2.1), POP3 (STLS, RFC 2595 §4) or FTP (AUTH TLS, RFC 4217
/// §4), by the session's protocol.
/// Example: `Then the command "HELP" pipelined with STARTTLS is not executed inside TLS`
#[then(
    regex = r#"^the command "(.*)" pipelined with (?:STARTTLS|STLS|AUTH TLS) is not executed inside TLS$"#
)]
async fn injection_not_executed(w: &mut World, injected: String) -> StepResult {
    step!(w, {
        match session_section(w, "")? {
            Protocol::Smtp => super::smtp::injection_not_executed(w, &injected).await,
            Protocol::Imap => super::imap::injection_not_executed(w, &injected).await,
            Protocol::Pop3 => super::pop3::injection_not_executed(w, &injected).await,
            Protocol::Ftp => super::ftp::injection_not_executed(w, &injected).await,
            other => Err(Failure::harness(format!(
                "STARTTLS injection is checked for SMTP, IMAP, POP3 and FTP sessions, not {}",
                other.name()
            ))),
        }
    })
}
