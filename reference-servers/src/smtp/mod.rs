//! Reference SMTP server (RFC 5321), delivering into the shared [`MailStore`].
//!
//! - `command.rs`: parsing command lines, paths and MAIL parameters.
//! - `session.rs`: the per-connection state machine (greeting, HELO/EHLO,
//!   mail transactions, DATA with dot-unstuffing, limits, timeouts),
//!   STARTTLS (RFC 3207) and AUTH PLAIN / LOGIN (RFC 4954, RFC 4616).
//!
//! It accepts mail only for its own domains and for mailboxes that exist in
//! the store (no relaying, RFC 5321 §3.6.2 / §7.1), and adds the trace lines
//! a final-delivery server must add (§4.4): `Return-Path:` and `Received:`.

mod command;
mod session;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::listener::{self, accept_loop, WhenFull};
use crate::mailstore::{Accounts, MailStore};
use crate::tls;
use crate::Running;

/// What the server is and what it accepts.
#[derive(Clone, Debug)]
pub struct Config {
    /// The name in the greeting and in `Received:` lines.
    pub hostname: String,
    /// Domains this server delivers for (case-insensitive).
    pub domains: Vec<String>,
    /// Largest message accepted, in octets (advertised as SIZE).
    pub max_message: usize,
    /// Most recipients per transaction (RFC 5321 §4.5.3.1.8: at least 100).
    pub max_recipients: usize,
    /// A client silent this long gets 421 and is disconnected (§4.5.3.2
    /// suggests minutes; tests use less).
    pub idle_timeout: Duration,
    /// Simultaneous connections (default [`crate::MAX_CONNECTIONS`]); the
    /// next one gets 421 and is closed.
    pub max_connections: usize,
    /// Whether delivery adds the trace fields §4.4 requires; off only in
    /// tests, to be a server that breaks that MUST.
    pub trace_fields: bool,
    /// The certificate for STARTTLS (RFC 3207); without it STARTTLS is
    /// neither announced nor accepted.
    pub tls: Option<tls::Identity>,
    /// TLS from the first byte on this listener (RFC 8314 §3.3, port 465):
    /// needs `tls`.
    pub implicit_tls: bool,
    /// The accounts AUTH PLAIN and LOGIN check (RFC 4954); without them
    /// AUTH is neither announced nor accepted.
    pub accounts: Option<Accounts>,
    /// AUTH only inside TLS: not announced before, refused with 538.
    pub auth_requires_tls: bool,
    /// Rules broken on purpose, only in tests.
    pub faults: Faults,
}

/// Deliberate faults of the TLS upgrade and AUTH, each a server the suites
/// must catch (they are all off in a real configuration).
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    /// Executes the commands pipelined after STARTTLS, read in plaintext,
    /// as if they came inside TLS (CVE-2011-0411).
    pub executes_injected: bool,
    /// Keeps the EHLO name and transaction across the handshake.
    pub keeps_state_after_tls: bool,
    /// Offers and accepts AUTH before TLS though `auth_requires_tls`.
    pub auth_in_plaintext: bool,
}

impl Config {
    pub fn new(hostname: &str, domain: &str) -> Self {
        Self {
            hostname: hostname.to_string(),
            domains: vec![domain.to_string()],
            max_message: 10 * 1024 * 1024,
            max_recipients: 100,
            idle_timeout: Duration::from_secs(300),
            max_connections: crate::MAX_CONNECTIONS,
            trace_fields: true,
            tls: None,
            implicit_tls: false,
            accounts: None,
            auth_requires_tls: false,
            faults: Faults::default(),
        }
    }
}

/// Starts the server on `ip:port`; the listener is called `smtp`.
pub async fn start(
    ip: IpAddr,
    port: u16,
    config: Config,
    store: MailStore,
) -> std::io::Result<Running> {
    let addr = SocketAddr::new(ip, port);
    listener::start("smtp", addr, |l| serve(l, config, store)).await
}

async fn serve(listener: TcpListener, config: Config, store: MailStore) {
    let config = Arc::new(config);
    let max = config.max_connections;
    let for_refusal = config.clone();
    let full = WhenFull::refuse(move |stream| session::refuse(stream, for_refusal.clone()));
    accept_loop(listener, max, full, move |stream, peer| {
        let config = config.clone();
        let store = store.clone();
        async move { session::run(stream, peer, &config, &store).await }
    })
    .await
}
