//! The per-scenario state: the target profile, the scenario's connections and
//! transcript, and typed slots that each protocol's steps keep their state in.

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use super::{Failure, StepResult};
use crate::protocol::Protocol;
use crate::target::budget::{Beyond, Budgets, Lease, Ledger, Reservation};
use crate::target::Profile;
use crate::transcript::Transcript;
use crate::wire::{Conn, Perturb, Reply, ReplyReader, UdpClient};

/// What every scenario of a run shares.
#[derive(Debug)]
pub struct RunContext {
    pub profile: Profile,
    pub step_timeout: Duration,
    /// `[section] max_connections`, shared by every scenario.
    pub budgets: Arc<Budgets>,
    /// How the scenarios' TCP writes and reads are cut (`--perturb`).
    pub perturb: Perturb,
    /// The sections whose server stopped answering.
    pub health: Arc<crate::target::health::Health>,
    /// The run's stop (`--run-timeout`, SIGINT/SIGTERM): a step under way
    /// ends with it, and no scenario starts after it.
    pub stop: crate::target::health::Stop,
    /// How clients under test are started (`conform grade` of a client lab
    /// gives its assignment's limits).
    pub client_sandbox: crate::peer::client::Sandbox,
}

/// A TCP connection together with the reader that knows where its replies end.
pub struct Session {
    pub conn: Conn,
    pub reader: Arc<dyn ReplyReader>,
    pub last_reply: Option<Reply>,
    /// The last payload the client sent on it.
    pub sent: Vec<u8>,
    /// The section whose server it is connected to, if a profile one.
    pub section: Option<Protocol>,
    /// Replies read so far; the first is the greeting.
    pub replies: usize,
}

#[derive(cucumber::World)]
#[world(init = Self::empty)]
pub struct World {
    pub ctx: Arc<RunContext>,
    /// Bound on every wait in a step; `--step-timeout`, or `@timeout(…)`.
    pub step_timeout: Duration,
    pub transcript: Transcript,
    /// TCP sessions by client name; the unnamed client is `""`.
    pub tcp: BTreeMap<String, Session>,
    /// UDP client sockets by client name, with the last datagram each sent.
    pub udp: BTreeMap<String, (UdpClient, Vec<u8>)>,
    /// Values the scenario's own steps set for later steps, as
    /// `${section.key}` (a scratch mailbox's name…); they come before the
    /// profile's.
    pub vars: BTreeMap<String, String>,
    /// How this scenario's TCP traffic is cut: the run's `--perturb`, but
    /// a scenario tagged `@one-write` sends each write as one (split and
    /// coalesce do not apply to it; slow-read does).
    pub perturb: Perturb,
    /// The client's own pauses under `--perturb` (microseconds), which a
    /// step's overall bound does not count against the server.
    pub paused: Arc<std::sync::atomic::AtomicU64>,
    /// The first failure of the scenario, as the step reported it.
    pub failure: Option<Failure>,
    /// Undo actions registered by steps (delete an uploaded file…), run
    /// after the scenario whatever its outcome, so the target is left as it
    /// was found.
    pub cleanups: Vec<futures::future::BoxFuture<'static, ()>>,
    /// The scenario's account of its connections (`max_connections`).
    pub budget: Ledger,
    /// The permits reserved for the scenario; given back after its cleanups.
    pub reservation: Option<Reservation>,
    /// A verdict decided before the first step (the scenario cannot run
    /// within the connection budget); the first step reports it.
    pub preempted: Option<Failure>,
    slots: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("tcp", &self.tcp.keys())
            .field("udp", &self.udp.keys())
            .finish()
    }
}

impl World {
    fn empty() -> Self {
        World {
            ctx: Arc::new(RunContext {
                profile: Profile::default(),
                step_timeout: Duration::from_secs(5),
                budgets: Arc::new(Budgets::default()),
                perturb: Perturb::None,
                health: Arc::default(),
                stop: Default::default(),
                client_sandbox: Default::default(),
            }),
            step_timeout: Duration::from_secs(5),
            transcript: Transcript::new(),
            tcp: BTreeMap::new(),
            udp: BTreeMap::new(),
            vars: BTreeMap::new(),
            perturb: Perturb::None,
            paused: Arc::default(),
            failure: None,
            cleanups: Vec::new(),
            budget: Ledger::default(),
            reservation: None,
            preempted: None,
            slots: HashMap::new(),
        }
    }

    /// A protocol's own per-scenario state, created on first use.
    pub fn state<T: Default + Any + Send + Sync>(&mut self) -> &mut T {
        self.slots
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(T::default()))
            .downcast_mut::<T>()
            .expect("slot holds the type it is keyed by")
    }

    pub fn profile(&self) -> &Profile {
        &self.ctx.profile
    }

    /// Replaces `${section.key}` with the scenario's values, then the
    /// profile's.
    pub fn expand(&self, text: &str) -> Result<String, Failure> {
        let mut text = text.to_string();
        for (k, v) in &self.vars {
            text = text.replace(&format!("${{{k}}}"), v);
        }
        Ok(self.ctx.profile.expand(&text)?)
    }

    /// Connects to `addr`, a server of `section` (`None`: not a profile
    /// server), within the scenario's connection budget and the step
    /// timeout. The connection holds its lease until it is dropped.
    pub async fn connect(
        &self,
        section: Option<Protocol>,
        addr: std::net::SocketAddr,
        name: &str,
    ) -> Result<Conn, Failure> {
        Ok(connect_within(
            &self.budget,
            section,
            addr,
            name,
            &self.transcript,
            self.step_timeout,
        )
        .await?
        .perturbed(self.perturb, &self.paused))
    }

    /// Sends what the scenario's connections hold back under
    /// `--perturb coalesce`: a step's writes go out when it ends.
    pub async fn flush_writes(&mut self) -> StepResult {
        for s in self.tcp.values_mut() {
            s.conn.flush().await?;
        }
        Ok(())
    }

    /// A recording relay to `addr`, a server of `section`, for a client
    /// library named `name`: each connection the library opens is counted
    /// against the scenario's budget and cut off after
    /// [`MAX_RELAYED`](crate::wire::relay::MAX_RELAYED) bytes from the server.
    pub async fn library_relay(
        &self,
        addr: std::net::SocketAddr,
        name: &str,
        section: Protocol,
    ) -> Result<crate::wire::relay::Relay, Failure> {
        self.library_relay_secured(addr, name, section, None).await
    }

    /// [`World::library_relay`] to a server on an implicit-TLS port: the
    /// relay starts TLS as `upstream` towards it.
    pub async fn library_relay_secured(
        &self,
        addr: std::net::SocketAddr,
        name: &str,
        section: Protocol,
        upstream: Option<crate::wire::tls::Client>,
    ) -> Result<crate::wire::relay::Relay, Failure> {
        let budget = Some((self.budget.clone(), section, self.step_timeout));
        crate::wire::relay::Relay::secured(addr, &self.transcript, name, budget, upstream)
            .await
            .map_err(|e| Failure::harness(format!("cannot start the recording relay: {e}")))
    }

    /// The TCP session of a client (`""` is the unnamed one).
    pub fn session(&mut self, client: &str) -> Result<&mut Session, Failure> {
        self.tcp.get_mut(client).ok_or_else(|| {
            Failure::harness(format!(
                "the scenario uses {} before connecting it: open the connection first with a \
                 step such as `Given an HTTP connection to the target` or `Given an SMTP session that \
                 has been greeted` (`conform steps --grep connection`, `--grep session`)",
                describe_client(client)
            ))
        })
    }

    pub fn udp_client(&mut self, client: &str) -> Result<&mut (UdpClient, Vec<u8>), Failure> {
        self.udp.get_mut(client).ok_or_else(|| {
            Failure::harness(format!(
                "the scenario uses UDP {} before creating it",
                describe_client(client)
            ))
        })
    }

    /// Runs the registered cleanups, each bounded by the step timeout.
    pub async fn run_cleanups(&mut self) {
        for c in std::mem::take(&mut self.cleanups) {
            let _ = tokio::time::timeout(self.step_timeout, c).await;
        }
    }

    /// Ends the scenario: closes its connections and drops protocol state
    /// (which may hold locks other scenarios wait for). Called by the
    /// runner's after hook, since cucumber keeps a failed world alive.
    pub fn close(&mut self) {
        self.tcp.clear();
        self.udp.clear();
        self.slots.clear();
    }

    /// Records the step's outcome: the first failure is kept for the report.
    pub fn settle(&mut self, result: StepResult) -> StepResult {
        if let Err(f) = &result {
            if self.failure.is_none() {
                self.failure = Some(f.clone());
            }
            super::expect_failure_panic();
        }
        result
    }
}

/// A lease for one connection to `section`'s server from `ledger`; a
/// connection beyond the scenario's reservation is noted in its transcript.
pub async fn lease(
    ledger: &Ledger,
    section: Option<Protocol>,
    name: &str,
    transcript: &Transcript,
    timeout: Duration,
) -> Result<Lease, Failure> {
    let Some(p) = section else {
        return Ok(Lease::none());
    };
    match ledger.lease(p, timeout).await {
        Ok((lease, Beyond::No)) => Ok(lease),
        Ok((lease, Beyond::Granted)) => {
            transcript.event(
                name,
                format!("a connection to [{p}] beyond the reservation of the scenario (a free one of max_connections was taken)"),
            );
            Ok(lease)
        }
        Err(e) => Err(Failure::harness(e)),
    }
}

/// [`World::connect`] for code that runs outside a step (a cleanup) with
/// the scenario's ledger.
pub async fn connect_within(
    ledger: &Ledger,
    section: Option<Protocol>,
    addr: std::net::SocketAddr,
    name: &str,
    transcript: &Transcript,
    timeout: Duration,
) -> Result<Conn, Failure> {
    let lease = lease(ledger, section, name, transcript, timeout).await?;
    let conn = match Conn::connect(addr, name, transcript, timeout).await {
        Ok(c) => c,
        Err(e) => {
            // Refused or reset while others are open: the server sheds load.
            if let Some(p) = section {
                if let Some(what) = super::limits::under_load(&e, ledger.open_in_run(p)) {
                    return Err(super::limits::refused(ledger, section, &what));
                }
            }
            return Err(e.into());
        }
    };
    Ok(conn.with_lease(lease))
}

/// `"the client"` or `"client A"`.
pub fn describe_client(name: &str) -> String {
    if name.is_empty() {
        "the client".into()
    } else {
        format!("client {name}")
    }
}

/// Parses the `(the client|client X)` part of a step into a client name.
pub fn client_name(phrase: &str) -> String {
    phrase
        .strip_prefix("client ")
        .map(str::to_string)
        .unwrap_or_default()
}
