//! A small caching HTTP/1.1 proxy, forward or reverse (a gateway cache),
//! written as a companion to RFC 9110 §7.6 (message forwarding) and
//! RFC 9111 §3–§4 (storing, the cache key, freshness, validation,
//! invalidation).
//!
//! - Forward mode: clients send absolute-form requests
//!   (`GET http://host:port/path HTTP/1.1`, RFC 9112 §3.2.2); the proxy
//!   connects to the host named in the target, on an allowed port only.
//! - Reverse mode: clients send origin-form requests; every request goes to
//!   the one origin the configuration names.
//!
//! It is a shared cache (RFC 9111 §1): `private` responses are never
//! stored. It is bounded: request and response sizes, the number and size
//! of cached entries, connections, the idle time of a client and the time
//! an origin has to answer; and it trusts neither side: the client's
//! target and fields are checked, the origin's response is read with the
//! same bounds, and an origin that refuses, resets, stalls or answers
//! garbage gets the client a 502 or 504, never a hang.
//!
//! Modules: [`cache`] stores responses and decides freshness, [`origin`]
//! forwards one request and reads the response, [`session`] runs one client
//! connection.

pub mod cache;
mod origin;
mod session;

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::listener::{self, accept_loop, WhenFull};
use crate::Running;

/// Requests served on one client connection.
pub const MAX_REQUESTS: usize = 100;

/// Where the proxy sends requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A forward proxy: the absolute-form target names the origin.
    Forward,
    /// A reverse proxy (gateway) in front of this one origin.
    Reverse { origin: SocketAddr },
}

/// Behaviours the proxy can be told to get wrong, one at a time, so that
/// the suite's tests can show each scenario fails against a proxy that
/// breaks the rule it checks. A real deployment sets none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Flaw {
    /// Never stores anything.
    NeverCache,
    /// Stores `no-store` and `private` responses.
    StoreForbidden,
    /// Adds no Via field.
    DropVia,
    /// Forwards hop-by-hop fields and the fields Connection lists.
    ForwardHopByHop,
    /// No deadline on the origin, and a refused connection is never answered.
    HangOnDeadOrigin,
    /// Forwards the target as received (absolute-form) and the client's Host.
    EchoTarget,
    /// Forwards the client's HTTP-version instead of its own.
    EchoVersion,
    /// Ignores Max-Forwards.
    IgnoreMaxForwards,
    /// Drops the last byte of a request body.
    CorruptBody,
    /// Answers 200 to any CONNECT.
    ConnectAnything,
    /// Takes freshness from Expires even when max-age is present.
    PreferExpires,
    /// Ignores s-maxage.
    IgnoreSMaxage,
    /// Sends no Age on responses served from the cache.
    NoAge,
    /// Reuses responses to requests with Authorization.
    IgnoreAuthorization,
    /// Ignores Vary.
    IgnoreVary,
    /// Revalidates with If-Modified-Since only, never If-None-Match.
    NoEtagRevalidation,
    /// Keeps the stored fields after a 304 instead of the new ones.
    NoMerge,
    /// Ignores `no-cache` (and `max-age=0`) in a request.
    IgnoreRequestNoCache,
    /// Treats every stored response as fresh and reusable without
    /// validation (no-cache too), and serves it when the origin fails.
    ServeStale,
    /// Does not invalidate on unsafe methods.
    NoInvalidate,
    /// Serves one client connection at a time.
    OneClientAtATime,
    /// Passes response bodies through a text decoding (invalid UTF-8
    /// becomes U+FFFD), as a proxy that reads its origin as text does.
    TextBodies,
}

/// How the proxy runs.
#[derive(Clone, Debug)]
pub struct Config {
    pub mode: Mode,
    /// Ports a forward proxy connects to (RFC 9110 §9.3.6 and §17 advise
    /// restricting a proxy to known ports): by default 80 and 1024–65535.
    pub allowed_ports: Vec<std::ops::RangeInclusive<u16>>,
    /// A client connection idle this long between requests is closed.
    pub idle_timeout: Duration,
    /// The origin has this long to accept, and then to send its whole
    /// response; after that the client gets 504.
    pub origin_timeout: Duration,
    /// Largest response stored (and forwarded: larger is 502).
    pub max_object: usize,
    /// Most entries stored; the oldest is evicted beyond it.
    pub max_entries: usize,
    pub flaws: BTreeSet<Flaw>,
}

impl Config {
    pub fn new(mode: Mode) -> Config {
        Config {
            mode,
            allowed_ports: vec![80..=80, 1024..=65535],
            idle_timeout: Duration::from_secs(5),
            origin_timeout: Duration::from_secs(5),
            max_object: 1024 * 1024,
            max_entries: 1000,
            flaws: BTreeSet::new(),
        }
    }

    pub fn with_flaw(mut self, flaw: Flaw) -> Config {
        self.flaws.insert(flaw);
        self
    }

    fn has(&self, flaw: Flaw) -> bool {
        self.flaws.contains(&flaw)
    }
}

/// What the sessions share: the configuration and the cache.
struct Shared {
    config: Config,
    cache: cache::Cache,
}

/// Starts the proxy on `ip:port` (`0` for an ephemeral port). The listener
/// is registered as `proxy`.
pub async fn start(ip: IpAddr, port: u16, config: Config) -> std::io::Result<Running> {
    let shared = Arc::new(Shared {
        cache: cache::Cache::new(config.max_entries),
        config,
    });
    listener::start("proxy", SocketAddr::new(ip, port), |l| serve(l, shared)).await
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let most = if shared.config.has(Flaw::OneClientAtATime) {
        1
    } else {
        crate::MAX_CONNECTIONS
    };
    accept_loop(
        listener,
        // Beyond the limit, new clients wait in the listen backlog.
        most,
        WhenFull::Wait,
        move |stream, _| {
            let shared = shared.clone();
            async move { session::run(stream, &shared).await }
        },
    )
    .await
}
