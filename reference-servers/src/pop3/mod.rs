//! Reference POP3 server (RFC 1939, CAPA from RFC 2449) over the shared
//! [`MailStore`].
//!
//! - `command.rs`: command lines and message-number arguments.
//! - `maildrop.rs`: the session's snapshot of the maildrop, with deletion
//!   marks applied only in the UPDATE state (RFC 1939 §6).
//! - `session.rs`: AUTHORIZATION → TRANSACTION → UPDATE.

mod command;
mod maildrop;
mod session;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::listener::{self, accept_loop, WhenFull};
use crate::mailstore::{Accounts, MailStore};
use crate::Running;

#[derive(Clone, Debug)]
pub struct Config {
    /// The name in the greeting.
    pub hostname: String,
    /// Who may log in (USER/PASS).
    pub accounts: Accounts,
    /// RFC 1939 §3: an inactivity autologout timer of at least 10 minutes;
    /// tests use less. A timed-out session does not enter UPDATE.
    pub idle_timeout: Duration,
    /// Simultaneous connections (default [`crate::MAX_CONNECTIONS`]); the
    /// next one gets -ERR and is closed.
    pub max_connections: usize,
    /// Whether a session holds the maildrop's exclusive lock (§4); off
    /// only in tests, to be a server that lets a second session remove
    /// messages from under the first (dovecot's default).
    pub lock_maildrop: bool,
    /// STLS with this identity (RFC 2595 §4); `None`: no TLS.
    pub tls: Option<crate::tls::Identity>,
    /// With `tls`: an implicit-TLS port (POP3S, RFC 8314 §3.3), where the
    /// handshake comes first and the greeting inside it; no STLS there.
    pub implicit_tls: bool,
    /// Deliberate faults, for the tests that prove the suites catch them.
    pub faults: Faults,
}

/// Ways to break the STLS rules on purpose (only tests set these).
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    /// Executes commands pipelined after STLS in plaintext as if they came
    /// inside TLS (the STARTTLS command injection flaw).
    pub executes_injected: bool,
    /// Still announces STLS inside TLS, and accepts it again.
    pub stls_in_tls: bool,
}

impl Config {
    pub fn new(hostname: &str, accounts: Accounts) -> Self {
        Self {
            hostname: hostname.to_string(),
            accounts,
            idle_timeout: Duration::from_secs(600),
            max_connections: crate::MAX_CONNECTIONS,
            lock_maildrop: true,
            tls: None,
            implicit_tls: false,
            faults: Faults::default(),
        }
    }
}

/// Starts the server on `ip:port`; the listener is called `pop3`.
pub async fn start(
    ip: IpAddr,
    port: u16,
    config: Config,
    store: MailStore,
) -> std::io::Result<Running> {
    let addr = SocketAddr::new(ip, port);
    listener::start("pop3", addr, |l| serve(l, config, store)).await
}

async fn serve(listener: TcpListener, config: Config, store: MailStore) {
    let config = Arc::new(config);
    let max = config.max_connections;
    accept_loop(
        listener,
        max,
        WhenFull::refuse(session::refuse),
        move |stream, _| {
            let config = config.clone();
            let store = store.clone();
            async move { session::run(stream, &config, &store).await }
        },
    )
    .await
}
