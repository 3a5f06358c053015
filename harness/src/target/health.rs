//! How the run stands with its target while it runs: the sections whose
//! server stopped accepting or answering, and the run's stop (its
//! `--run-timeout` passed, or it was interrupted).
//!
//! A target that dies half-way would otherwise cost every remaining
//! scenario its full timeout, each blamed on the server. Instead, each
//! scenario that ends because it could not reach its server or got nothing
//! from it in time (see [`Failure::is_silence`]) is a strike against its
//! section; a scenario that got an answer clears them. After
//! [`STRIKES`] in a row the section's own preflight is run again
//! ([`crate::target::preflight::check`]): when that fails too, the section
//! is down, and every scenario of it that has not started is not run, with
//! one error saying what happened.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::protocol::Protocol;
use crate::steps::Failure;
use crate::target::budget::Budgets;
use crate::target::Profile;

/// Scenarios in a row that could not reach their server, or got nothing
/// from it, before it is checked again.
pub const STRIKES: u32 = 3;

/// The default `--run-timeout`: the bundled suite takes about a minute, a
/// stock server's whole suite a few; a run still going after this is stuck.
pub const DEFAULT_RUN_TIMEOUT: Duration = Duration::from_secs(30 * 60);

#[derive(Default)]
struct Section {
    strikes: u32,
    /// A re-check is running: further strikes wait for its verdict.
    checking: bool,
    /// Why the section is down, once it is.
    down: Option<String>,
}

/// The sections' state, shared by every scenario of the run.
#[derive(Default)]
pub struct Health {
    sections: Mutex<BTreeMap<Protocol, Section>>,
    started: Option<Instant>,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Health")
    }
}

impl Health {
    pub fn new() -> Self {
        Health {
            sections: Mutex::default(),
            started: Some(Instant::now()),
        }
    }

    /// Why `section` is down, if it is.
    pub fn down(&self, section: Protocol) -> Option<String> {
        let s = self.sections.lock().ok()?;
        s.get(&section).and_then(|s| s.down.clone())
    }

    /// Notes how a scenario of `section` ended. Returns true when the
    /// section should be checked again now (this caller does it, then
    /// reports with [`Health::checked`]).
    pub fn ended(&self, section: Protocol, failure: Option<&Failure>) -> bool {
        let Ok(mut all) = self.sections.lock() else {
            return false;
        };
        let s = all.entry(section).or_default();
        if s.down.is_some() {
            return false;
        }
        if failure.is_some_and(Failure::is_silence) {
            s.strikes += 1;
        } else {
            s.strikes = 0;
        }
        if s.strikes >= STRIKES && !s.checking {
            s.checking = true;
            return true;
        }
        false
    }

    /// The verdict of a re-check: `Err(why)` marks the section down.
    pub fn checked(&self, section: Protocol, result: Result<(), String>) {
        let at = self
            .started
            .map(|t| format!(" {:.1} s into the run", t.elapsed().as_secs_f64()))
            .unwrap_or_default();
        if let Ok(mut all) = self.sections.lock() {
            let s = all.entry(section).or_default();
            s.checking = false;
            match result {
                Ok(()) => s.strikes = 0,
                Err(why) => {
                    s.down = Some(format!(
                        "[{section}] stopped answering{at}: {STRIKES} scenarios in a row could not reach it or got nothing from it, and checking it again failed: {why}"
                    ))
                }
            }
        }
    }

    /// Checks `section` again (its preflight, every wait bounded by
    /// `timeout`) and records the verdict. The check runs alone: it first
    /// takes the section's whole connection budget, so a server that only
    /// limits connections is not taken for dead.
    pub async fn recheck(
        &self,
        profile: &Profile,
        budgets: &std::sync::Arc<Budgets>,
        section: Protocol,
        timeout: Duration,
    ) {
        let all = BTreeMap::from([(section, budgets.limit(section).unwrap_or(0))]);
        let _alone = budgets.reserve(&all).await.ok();
        let result = reachable(profile, section, timeout).await;
        let result = match result {
            Ok(()) => crate::target::preflight::check(profile, &[section], timeout).await,
            Err(e) => Err(e),
        };
        // A server that answers with a refusal for a limit is alive: the
        // strikes were its limit (reported as such), not its end.
        let result = match result {
            Err(e) if e.contains(crate::target::preflight::REFUSED) => Ok(()),
            other => other,
        };
        self.checked(section, result);
    }
}

/// Every TCP address of the section accepts a connection within `timeout`.
async fn reachable(profile: &Profile, p: Protocol, timeout: Duration) -> Result<(), String> {
    for key in p.tcp_address_keys() {
        let path = format!("{p}.{key}");
        if profile.get(&path).is_none() {
            continue;
        }
        let addr = profile.addr(&path).map_err(|e| e.0)?;
        match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await {
            // The course's TCP server says nothing first: a message must
            // get an answer, or at least the close (a listen backlog
            // accepts connections for a server that never takes them).
            Ok(Ok(s)) if p == Protocol::Sockets => answers(s, timeout)
                .await
                .map_err(|e| format!("{path} = {addr}: {e}"))?,
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(format!("connect to {path} = {addr}: {e}")),
            Err(_) => {
                return Err(format!(
                    "connect to {path} = {addr}: no answer within {} (the server does not accept connections)",
                    humantime::format_duration(timeout)
                ))
            }
        }
    }
    Ok(())
}

/// Sends a message and waits for a byte of the answer or the close.
async fn answers(mut s: tokio::net::TcpStream, timeout: Duration) -> Result<(), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    s.write_all(b"conform checks that the server still answers")
        .await
        .map_err(|e| format!("send: {e}"))?;
    let mut one = [0u8; 1];
    match tokio::time::timeout(timeout, s.read(&mut one)).await {
        Ok(_) => Ok(()),
        Err(_) => Err(format!(
            "a message got no answer within {} (the connection was accepted, by the server or only by its listen backlog)",
            humantime::format_duration(timeout)
        )),
    }
}

/// The run's stop: its time is up or it was interrupted. Cheap to clone;
/// the first reason given wins.
#[derive(Clone, Debug)]
pub struct Stop {
    tx: std::sync::Arc<tokio::sync::watch::Sender<Option<String>>>,
}

impl Default for Stop {
    fn default() -> Self {
        Stop {
            tx: std::sync::Arc::new(tokio::sync::watch::channel(None).0),
        }
    }
}

impl Stop {
    /// Stops the run for `reason`, unless it is stopped already.
    pub fn stop(&self, reason: impl Into<String>) {
        let reason = reason.into();
        self.tx.send_if_modified(|r| {
            if r.is_none() {
                *r = Some(reason);
                true
            } else {
                false
            }
        });
    }

    /// Why the run stopped, if it did.
    pub fn reason(&self) -> Option<String> {
        self.tx.borrow().clone()
    }

    /// Waits until the run stops; returns why.
    pub async fn wait(&self) -> String {
        let mut rx = self.tx.subscribe();
        loop {
            if let Some(r) = rx.borrow_and_update().clone() {
                return r;
            }
            if rx.changed().await.is_err() {
                // The sender lives in `self`: this does not happen.
                std::future::pending::<()>().await;
            }
        }
    }

    /// Stops the run when `limit` has passed (`--run-timeout`).
    pub fn after(&self, limit: Duration) -> tokio::task::JoinHandle<()> {
        let stop = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(limit).await;
            stop.stop(format!(
                "the run's time was up (--run-timeout {})",
                humantime::format_duration(limit)
            ));
        })
    }

    /// Stops the run at the first SIGINT or SIGTERM; a second one ends the
    /// process at once (exit 130).
    pub fn on_signals(&self) -> Option<tokio::task::JoinHandle<()>> {
        use tokio::signal::unix::{signal, SignalKind};
        let mut int = signal(SignalKind::interrupt()).ok()?;
        let mut term = signal(SignalKind::terminate()).ok()?;
        let stop = self.clone();
        Some(tokio::spawn(async move {
            let mut first = true;
            loop {
                let name = tokio::select! {
                    _ = int.recv() => "SIGINT",
                    _ = term.recv() => "SIGTERM",
                };
                if !first {
                    eprintln!("conform: {name} again: stopping at once, without cleanups");
                    std::process::exit(130);
                }
                first = false;
                eprintln!(
                    "conform: {name}: starting no more scenarios; running the cleanups of those under way (again to stop at once)"
                );
                stop.stop(format!("the run was interrupted ({name})"));
            }
        }))
    }
}
