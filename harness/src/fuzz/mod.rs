//! `conform fuzz`: proptest-driven, stateful message mutation.
//!
//! How a run goes ([`engine`]): proptest draws a [`Case`] from the protocol's
//! strategy (a valid session prefix, then mutated messages from the seeds in
//! `corpus/<protocol>/` and the suites), sends it, and the protocol's
//! [oracles](Oracle) judge each reply; now and then a fresh client checks that
//! the target is still alive. A failing case is replayed to confirm it,
//! shrunk ([`shrink`]) to a minimal session, and written to
//! `corpus/<protocol>/regressions/` as a case file and a Gherkin scenario
//! ([`corpus`]). `conform fuzz --replay FILE` sends a case file again.
//!
//! A protocol plugs in with one module implementing [`FuzzProtocol`]: its
//! channels, seeds and strategy, how one message is exchanged and judged, and
//! a liveness probe. [`line`] is the generic CRLF command/reply protocol that
//! SMTP, POP3, FTP and IMAP modules configure; [`sockets`] is the course's
//! upper-casing servers over TCP and UDP.

pub mod case;
pub mod corpus;
pub mod dns;
pub mod engine;
pub mod ftp;
pub mod http;
pub mod imap;
pub mod known;
pub mod line;
pub mod link;
pub mod mutate;
pub mod pop3;
pub mod report;
pub mod shrink;
pub mod smtp;
pub mod sockets;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::strategy::BoxedStrategy;

pub use case::Case;
pub use engine::{run, Finding, FuzzOptions, FuzzReport, Observer};
pub use known::Known;
pub use link::Link;

use crate::protocol::Protocol;
use crate::target::Profile;

/// What the fuzzer checks about every exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Oracle {
    /// The target answers each message within the deadline (and does not
    /// drop the connection instead).
    Answers,
    /// The answer is well-formed for the protocol.
    WellFormed,
    /// The answer is of an acceptable class for the input (a syntax error
    /// gets an error reply, not success).
    AcceptableClass,
    /// The target stays alive: a fresh client and a valid probe succeed.
    StaysAlive,
}

impl Oracle {
    pub const ALL: [Oracle; 4] = [
        Oracle::Answers,
        Oracle::WellFormed,
        Oracle::AcceptableClass,
        Oracle::StaysAlive,
    ];

    /// Stable name, used in JUnit and case files.
    pub fn name(self) -> &'static str {
        match self {
            Oracle::Answers => "answers",
            Oracle::WellFormed => "well-formed",
            Oracle::AcceptableClass => "acceptable-class",
            Oracle::StaysAlive => "stays-alive",
        }
    }
}

/// An oracle that did not hold.
#[derive(Clone, Debug)]
pub struct Violation {
    pub oracle: Oracle,
    pub message: String,
    pub expected: Option<String>,
    pub got: Option<String>,
}

impl Violation {
    pub fn new(oracle: Oracle, message: impl Into<String>) -> Self {
        Violation {
            oracle,
            message: message.into(),
            expected: None,
            got: None,
        }
    }

    pub fn expected(mut self, e: impl Into<String>) -> Self {
        self.expected = Some(e.into());
        self
    }

    pub fn got(mut self, g: impl Into<String>) -> Self {
        self.got = Some(g.into());
        self
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}", self.oracle.name(), self.message)?;
        if let Some(e) = &self.expected {
            write!(f, "\n  expected: {e}")?;
        }
        if let Some(g) = &self.got {
            write!(f, "\n  got:      {g}")?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Udp,
}

/// Where a protocol's messages go: `tcp` and `udp` for the sockets servers,
/// `address` for most protocols.
#[derive(Clone, Debug)]
pub struct Channel {
    pub name: String,
    pub transport: Transport,
    pub addr: SocketAddr,
}

impl Channel {
    /// The channel `name` at the address the profile gives as `path`
    /// (`smtp.address`), or why there is none.
    pub fn from_profile(
        profile: &Profile,
        path: &str,
        name: &str,
        transport: Transport,
    ) -> Result<Channel, String> {
        let v = profile
            .get(path)
            .ok_or_else(|| format!("the target profile has no `{path}`"))?;
        let addr =
            crate::target::profile::resolve(v).map_err(|e| format!("{path} = \"{v}\": {e}"))?;
        Ok(Channel {
            name: name.into(),
            transport,
            addr,
        })
    }
}

/// How the fuzzer secures its sessions with a section's server: as the
/// profile's `tls` says, so that what is fuzzed is the session the suites
/// test, and credentials cross only inside TLS when the profile says TLS.
#[derive(Clone)]
pub struct Security {
    pub mode: crate::wire::tls::Mode,
    client: Option<crate::wire::tls::Client>,
}

impl Default for Security {
    fn default() -> Self {
        Security {
            mode: crate::wire::tls::Mode::None,
            client: None,
        }
    }
}

impl Security {
    /// The TLS of `section` (its address at `<section>.address`); `Err` is a
    /// configuration problem (no trust, an unreadable CA file).
    pub fn of(profile: &Profile, section: &str) -> Result<Security, String> {
        let mode = crate::wire::tls::mode(profile, section);
        if mode == crate::wire::tls::Mode::None {
            return Ok(Security::default());
        }
        let client = crate::wire::tls::section_client(profile, section)?;
        Ok(Security {
            mode,
            client: Some(client),
        })
    }

    /// With `tls = "implicit"`: the handshake, before anything else.
    pub fn before_greeting(&self, l: &mut link::TcpLink, deadline: Instant) -> Result<(), String> {
        match (&self.client, self.mode) {
            (Some(c), crate::wire::tls::Mode::Implicit) => l.start_tls(c, deadline),
            _ => Ok(()),
        }
    }

    /// With `tls = "starttls"`: `upgrade` asks for TLS (and checks the
    /// server's go-ahead), then the handshake.
    pub fn after_greeting(
        &self,
        l: &mut link::TcpLink,
        deadline: Instant,
        upgrade: impl FnOnce(&mut link::TcpLink) -> Result<(), String>,
    ) -> Result<(), String> {
        match (&self.client, self.mode) {
            (Some(c), crate::wire::tls::Mode::StartTls) => {
                upgrade(l).map_err(|e| format!("starting TLS as the profile says: {e}"))?;
                l.start_tls(c, deadline)
            }
            _ => Ok(()),
        }
    }
}

/// Bounds of one run.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// How long a reply (or a connect) may take.
    pub reply_timeout: Duration,
    /// How long to listen for data nobody asked for (a second reply) after
    /// a session: zero while fuzzing fast, a little when replaying.
    pub drain: Duration,
}

/// What an exchange leaves behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// The session goes on.
    Continue,
    /// The server ended the session in a way the protocol allows (SMTP
    /// 421, a server dropping a client after errors): the rest of the
    /// case is not sent.
    Ended,
}

/// Where a message sits in its session.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    /// Part of the valid prefix (expected to succeed), not a mutation.
    pub prefix: bool,
    /// The last message of the session.
    pub last: bool,
}

/// One protocol's part in fuzzing. Implement it in `fuzz/<protocol>.rs` and
/// register it in [`plugin`].
pub trait FuzzProtocol: Send + Sync {
    fn name(&self) -> &'static str;

    /// The channels the profile gives (at least one).
    fn channels(&self, profile: &Profile) -> Result<Vec<Channel>, String>;

    /// Valid messages the protocol knows by itself (the suites' own
    /// messages); the files in `corpus/<protocol>/` add to them.
    fn builtin_seeds(&self) -> Vec<Vec<u8>>;

    /// Sessions to send: a channel, a valid prefix, mutated messages.
    fn strategy(&self, channels: &[Channel], seeds: Arc<Vec<Vec<u8>>>) -> BoxedStrategy<Case>;

    /// The oracles this protocol checks, each with what it means here.
    fn oracles(&self) -> Vec<(Oracle, String)>;

    /// Whether a link that carried a passing case can carry the next one.
    fn reusable(&self, channel: &Channel) -> bool {
        channel.transport == Transport::Udp
    }

    /// A fresh link: connect (and read a greeting), or bind a UDP socket.
    fn open(&self, channel: &Channel, limits: &Limits) -> Result<Link, String> {
        match channel.transport {
            Transport::Tcp => {
                link::TcpLink::connect(channel.addr, limits.reply_timeout).map(Link::Tcp)
            }
            Transport::Udp => link::UdpLink::bind(channel.addr).map(Link::Udp),
        }
    }

    /// Sends one message and judges what comes back.
    fn exchange(
        &self,
        link: &mut Link,
        message: &[u8],
        step: Step,
        limits: &Limits,
    ) -> Result<Next, Violation>;

    /// A valid exchange on a fresh link: is the target still serving?
    fn probe(&self, channels: &[Channel], limits: &Limits) -> Result<(), String>;

    /// A Gherkin scenario that reproduces `case` with the suite's steps.
    fn scenario(&self, case: &Case, violation: &Violation) -> String;
}

/// A regression scenario written with the generic fuzz-session steps
/// (`steps/fuzz.rs`): the case's messages as they are, then the oracles.
pub fn session_scenario(protocol: &str, tags: &str, case: &Case) -> String {
    let q = case::quote_plain;
    let mut s = format!("    Given a fuzz session with the {protocol} server\n");
    let mut keyword = "When";
    for p in &case.prefix {
        s.push_str(&format!(
            "    {keyword} the fuzz session sends the prefix \"{}\"\n",
            q(p)
        ));
        keyword = "And";
    }
    for m in &case.messages {
        s.push_str(&format!(
            "    {keyword} the fuzz session sends \"{}\"\n",
            q(m)
        ));
        keyword = "And";
    }
    s.push_str("    Then every reply is well-formed\n");
    s.push_str(&format!("    And the {protocol} server still answers\n"));
    format!("@{protocol} {tags}\nFeature: {{title}}\n\n  @MUST\n  Scenario: {{name}}\n{s}")
}

/// The fuzz module of a protocol, if it has one yet.
pub fn plugin(p: Protocol) -> Option<Arc<dyn FuzzProtocol>> {
    match p {
        Protocol::Sockets => Some(Arc::new(sockets::Sockets)),
        Protocol::Smtp => Some(Arc::new(smtp::protocol())),
        Protocol::Pop3 => Some(Arc::new(pop3::protocol())),
        Protocol::Ftp => Some(Arc::new(ftp::protocol())),
        Protocol::Http => Some(Arc::new(http::Http::default())),
        Protocol::Dns => Some(Arc::new(dns::Dns::default())),
        Protocol::Imap => Some(Arc::new(imap::Imap::default())),
        // The harness plays the server: there is nothing to send mutations to.
        Protocol::SocketsClient
        | Protocol::SmtpClient
        | Protocol::HttpClient
        | Protocol::Resolver => None,
        Protocol::Proxy => None,
    }
}

/// Protocols that can be fuzzed.
pub fn available() -> Vec<Protocol> {
    Protocol::ALL
        .into_iter()
        .filter(|p| plugin(*p).is_some())
        .collect()
}
