//! The IMAP reference server (RFC 3501 IMAP4rev1, with LITERAL+ RFC 7888,
//! SASL-IR RFC 4959, IDLE RFC 2177, MOVE RFC 6851, UNSELECT RFC 3691) on
//! the shared Maildir mail store, so that mail the SMTP server delivers
//! appears in INBOX.
//!
//! - `codec`: commands off the wire, literals read by count
//! - `args`: the argument syntax (astrings, lists, sequence sets)
//! - `session`: the state machine (§3) and the commands of §6
//! - `mailbox`: a selected mailbox's view (sequence numbers, updates)
//! - `fetch`, `search`, `mime`, `flags`, `date`: what FETCH and SEARCH need

mod args;
mod codec;
mod date;
mod fetch;
mod flags;
mod folders;
mod mailbox;
mod mime;
mod search;
mod session;
#[cfg(test)]
mod tests;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

use crate::listener::{self, accept_loop, WhenFull};
use crate::mailstore::{Accounts, MailStore};
use crate::Running;

pub use codec::Limits;

/// What the server announces (§7.2.1). No STARTTLS: the reference servers
/// are loopback-only and plaintext, so LOGIN is not disabled.
pub const CAPABILITIES: &str = "IMAP4rev1 LITERAL+ SASL-IR IDLE MOVE UNSELECT AUTH=PLAIN";

#[derive(Clone, Debug)]
pub struct Config {
    /// Who may log in (LOGIN, AUTHENTICATE PLAIN).
    pub accounts: Accounts,
    pub limits: Limits,
    /// Simultaneous connections (default [`crate::MAX_CONNECTIONS`]); the
    /// next one gets `* BYE` and is closed.
    pub max_connections: usize,
    /// How often a session in IDLE looks for changes to report.
    pub idle_poll: Duration,
    /// The personal namespace prefix (RFC 2342), announced with NAMESPACE:
    /// `""` (top level, as bundled) or e.g. `INBOX.`, under which alone new
    /// mailboxes may then be made (dovecot or Cyrus configured that way).
    /// `None`: no NAMESPACE capability, mailboxes anywhere.
    pub namespace: Option<String>,
    /// STARTTLS with this identity (RFC 9051 §6.2.1); `None`: no TLS.
    pub tls: Option<crate::tls::Identity>,
    /// With `tls`: an implicit-TLS port (IMAPS, RFC 8314 §3.3), where the
    /// handshake comes first and the greeting inside it; no STARTTLS there.
    pub implicit_tls: bool,
    /// With `tls`: LOGIN and AUTHENTICATE PLAIN only inside TLS, and
    /// LOGINDISABLED announced before it (RFC 9051 §6.2.3: the
    /// configuration a server MUST implement).
    pub login_requires_tls: bool,
    /// Deliberate faults, for the tests that prove the suites catch them.
    pub faults: Faults,
}

/// Ways to break the STARTTLS rules on purpose (only tests set these).
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    /// Executes commands pipelined after STARTTLS in plaintext as if they
    /// came inside TLS (the STARTTLS command injection flaw).
    pub executes_injected: bool,
    /// Still announces STARTTLS inside TLS, and accepts it again.
    pub starttls_in_tls: bool,
    /// Announces LOGINDISABLED, then answers LOGIN before TLS with BAD
    /// instead of the tagged NO of RFC 9051 §7.2.2.
    pub logindisabled_bad: bool,
    /// Keeps STORE's flag changes in the session only, never in the
    /// Maildir, while PERMANENTFLAGS still lists them (RFC 3501 §2.3.2).
    pub session_only_flags: bool,
    /// Announces `\*` in PERMANENTFLAGS, then drops the keywords a STORE
    /// sets (RFC 3501 §7.1).
    pub drops_keywords: bool,
    /// RENAME INBOX copies INBOX's messages to the new name and leaves them
    /// in INBOX too (RFC 3501 §6.3.5: they move, "leaving INBOX empty").
    pub inbox_rename_copies: bool,
}

impl Config {
    pub fn new(accounts: Accounts) -> Self {
        Config {
            accounts,
            limits: Limits {
                line: 8 * 1024,
                literal: 10 * 1024 * 1024,
                // §5.4: an autologout timer of at least 30 minutes.
                idle: Duration::from_secs(30 * 60),
            },
            max_connections: crate::MAX_CONNECTIONS,
            idle_poll: Duration::from_millis(500),
            namespace: None,
            tls: None,
            implicit_tls: false,
            login_requires_tls: false,
            faults: Faults::default(),
        }
    }
}

/// Starts the server on `ip:port` (0 for an ephemeral port).
pub async fn start(
    ip: IpAddr,
    port: u16,
    config: Config,
    store: MailStore,
) -> std::io::Result<Running> {
    let addr = SocketAddr::new(ip, port);
    listener::start("imap", addr, |l| serve(l, config, store)).await
}

async fn serve(listener: TcpListener, config: Config, store: MailStore) {
    let config = Arc::new(config);
    let max = config.max_connections;
    let limits = config.limits;
    let full = WhenFull::refuse(move |stream: TcpStream| async move {
        let mut wire = codec::Wire::new(stream, limits);
        let _ = wire.send(b"* BYE Too many connections\r\n").await;
    });
    accept_loop(listener, max, full, move |stream, _| {
        let config = config.clone();
        let store = store.clone();
        async move {
            let mut wire = codec::Wire::new(stream, config.limits);
            // On an implicit-TLS port (RFC 8314 §3.3) the handshake comes
            // before the greeting.
            let tls = match (config.implicit_tls, &config.tls) {
                (true, Some(identity)) => {
                    if !wire
                        .start_tls(identity, crate::tls::Buffered::Discard)
                        .await
                    {
                        return;
                    }
                    true
                }
                _ => false,
            };
            session::run(wire, tls, config, store).await
        }
    })
    .await
}
