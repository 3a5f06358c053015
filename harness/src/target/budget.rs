//! Connection budgets: `[section] max_connections` is the most connections
//! the run keeps open at once to that section's server, across every
//! scenario running concurrently. Stock servers limit them (dovecot 10 per
//! user and address, MTAs and FTP servers 15–20, small listen backlogs).
//!
//! Deadlock-free by construction: a scenario reserves its whole need for
//! every section before its first step ([`scenario_need`], derived from its
//! steps), taking the sections one after another in one fixed order
//! (protocol order) and each section's permits all at once. A scenario that
//! waits therefore holds nothing of the section it waits for, and never
//! waits for a section ordered before one it holds, so no cycle of waiting
//! scenarios can form.
//!
//! Every connection the steps open takes a [`Lease`] from the scenario's
//! [`Ledger`]; it is given back when the connection is dropped. A scenario
//! that opens more than it reserved (a step the derivation does not know)
//! takes a further permit only if one is free within the step timeout,
//! never blocking forever while holding others, so the budget is never
//! exceeded and the run never hangs.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{Profile, ProfileError};
use crate::protocol::Protocol;

/// The budget of a section of an external target without `max_connections`:
/// below the stock limits of dovecot (10 per user and address), postfix and
/// vsftpd, with room for a server that notices a closed connection late.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 8;

/// The budget the bundled servers' embedded profile gives every section:
/// the connections each of them serves at once.
pub const BUNDLED_MAX_CONNECTIONS: u32 = reference_servers::MAX_CONNECTIONS as u32;

/// The profile key.
pub const KEY: &str = "max_connections";

struct Section {
    limit: u32,
    permits: Arc<Semaphore>,
    /// Connections open right now, by every scenario.
    open: AtomicU32,
}

/// The budgets of a run, one per section under test.
#[derive(Default)]
pub struct Budgets {
    sections: BTreeMap<Protocol, Section>,
}

impl std::fmt::Debug for Budgets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let limits: BTreeMap<_, _> = self.sections.iter().map(|(p, s)| (p, s.limit)).collect();
        f.debug_struct("Budgets").field("limits", &limits).finish()
    }
}

impl Budgets {
    /// `max_connections` of each section of `profile` (a positive whole
    /// number), or the default.
    pub fn from_profile(profile: &Profile) -> Result<Budgets, ProfileError> {
        let mut sections = BTreeMap::new();
        for p in profile.protocols() {
            let limit = limit_of(profile, p)?;
            sections.insert(
                p,
                Section {
                    limit,
                    permits: Arc::new(Semaphore::new(limit as usize)),
                    open: AtomicU32::new(0),
                },
            );
        }
        Ok(Budgets { sections })
    }

    /// The section's budget; `None` for a section not under test.
    pub fn limit(&self, p: Protocol) -> Option<u32> {
        self.sections.get(&p).map(|s| s.limit)
    }

    /// Connections open to the section right now, across all scenarios.
    pub fn open(&self, p: Protocol) -> u32 {
        self.sections
            .get(&p)
            .map(|s| s.open.load(Ordering::SeqCst))
            .unwrap_or(0)
    }

    /// Waits until the whole `need` is free and takes it: sections in
    /// protocol order, each all at once. A need above a section's budget is
    /// an error (the scenario cannot run within it).
    pub async fn reserve(
        self: &Arc<Self>,
        need: &BTreeMap<Protocol, u32>,
    ) -> Result<Reservation, String> {
        let mut held = Vec::new();
        let mut reserved = BTreeMap::new();
        for (p, n) in need {
            let Some(section) = self.sections.get(p) else {
                continue;
            };
            if *n == 0 {
                continue;
            }
            if *n > section.limit {
                return Err(format!(
                    "the scenario needs {n} connections at once to the [{p}] server, more than [{p}] {KEY} = {} allows",
                    section.limit
                ));
            }
            let permit = section
                .permits
                .clone()
                .acquire_many_owned(*n)
                .await
                .map_err(|_| "the connection budget was closed".to_string())?;
            held.push(permit);
            reserved.insert(*p, *n);
        }
        Ok(Reservation {
            _held: held,
            ledger: Ledger(Arc::new(LedgerInner {
                budgets: self.clone(),
                counts: Mutex::new(Counts {
                    reserved,
                    ..Counts::default()
                }),
                extra: Mutex::new(Vec::new()),
            })),
        })
    }
}

fn limit_of(profile: &Profile, p: Protocol) -> Result<u32, ProfileError> {
    let Some(v) = profile.get(&format!("{p}.{KEY}")) else {
        return Ok(DEFAULT_MAX_CONNECTIONS);
    };
    match v.trim().parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(ProfileError(format!(
            "target profile {}: [{p}] {KEY} = \"{v}\": must be a whole number of at least 1",
            profile.source
        ))),
    }
}

/// A scenario's permits; dropping it (after the scenario's cleanups) gives
/// them back.
pub struct Reservation {
    _held: Vec<OwnedSemaphorePermit>,
    pub ledger: Ledger,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Ok(mut extra) = self.ledger.0.extra.lock() {
            extra.clear();
        }
    }
}

#[derive(Default)]
struct Counts {
    reserved: BTreeMap<Protocol, u32>,
    live: BTreeMap<Protocol, u32>,
    /// The most connections the scenario had open at once, per section.
    peak: BTreeMap<Protocol, u32>,
}

struct LedgerInner {
    budgets: Arc<Budgets>,
    counts: Mutex<Counts>,
    /// Permits taken beyond the reservation.
    extra: Mutex<Vec<OwnedSemaphorePermit>>,
}

/// One scenario's account of its connections. Cheap to clone (cleanups
/// take one along).
#[derive(Clone)]
pub struct Ledger(Arc<LedgerInner>);

impl Default for Ledger {
    /// No budget at all (a world outside a run).
    fn default() -> Self {
        Ledger(Arc::new(LedgerInner {
            budgets: Arc::new(Budgets::default()),
            counts: Mutex::new(Counts::default()),
            extra: Mutex::new(Vec::new()),
        }))
    }
}

/// The result of asking for one more connection beyond the reservation.
#[derive(Debug, PartialEq, Eq)]
pub enum Beyond {
    /// Within the reservation.
    No,
    /// A further permit was free.
    Granted,
}

impl Ledger {
    /// A lease for one connection to `p`'s server, within `timeout`.
    pub async fn lease(&self, p: Protocol, timeout: Duration) -> Result<(Lease, Beyond), String> {
        let Some(section) = self.0.budgets.sections.get(&p) else {
            return Ok((Lease(None), Beyond::No));
        };
        let within = {
            let c = self.0.counts.lock().map_err(|_| "ledger poisoned")?;
            c.live.get(&p).copied().unwrap_or(0) < c.reserved.get(&p).copied().unwrap_or(0)
        };
        let mut beyond = Beyond::No;
        if !within {
            let permit = match section.permits.clone().try_acquire_owned() {
                Ok(permit) => permit,
                Err(_) => {
                    match tokio::time::timeout(timeout, section.permits.clone().acquire_owned())
                        .await
                    {
                        Ok(Ok(permit)) => permit,
                        _ => {
                            return Err(format!(
                                "the scenario needs more connections at once to the [{p}] server than it reserved, and none of [{p}] {KEY} = {} came free within {}",
                                section.limit,
                                humantime::format_duration(timeout)
                            ))
                        }
                    }
                }
            };
            self.0
                .extra
                .lock()
                .map_err(|_| "ledger poisoned")?
                .push(permit);
            let mut c = self.0.counts.lock().map_err(|_| "ledger poisoned")?;
            *c.reserved.entry(p).or_default() += 1;
            beyond = Beyond::Granted;
        }
        let mut c = self.0.counts.lock().map_err(|_| "ledger poisoned")?;
        let live = c.live.entry(p).or_default();
        *live += 1;
        let now = *live;
        let peak = c.peak.entry(p).or_default();
        *peak = (*peak).max(now);
        section.open.fetch_add(1, Ordering::SeqCst);
        Ok((
            Lease(Some(LeaseInner {
                ledger: self.clone(),
                protocol: p,
            })),
            beyond,
        ))
    }

    /// Connections open to `p`'s server by every scenario right now.
    pub fn open_in_run(&self, p: Protocol) -> u32 {
        self.0.budgets.open(p)
    }

    /// `p`'s budget, if it is under test.
    pub fn limit(&self, p: Protocol) -> Option<u32> {
        self.0.budgets.limit(p)
    }

    /// The most connections the scenario had open at once to `p`.
    pub fn peak(&self, p: Protocol) -> u32 {
        self.0
            .counts
            .lock()
            .map(|c| c.peak.get(&p).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    fn release(&self, p: Protocol) {
        if let Ok(mut c) = self.0.counts.lock() {
            if let Some(live) = c.live.get_mut(&p) {
                *live = live.saturating_sub(1);
            }
        }
        if let Some(section) = self.0.budgets.sections.get(&p) {
            section.open.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

struct LeaseInner {
    ledger: Ledger,
    protocol: Protocol,
}

/// One open connection counted against its section; given back on drop.
pub struct Lease(Option<LeaseInner>);

impl Lease {
    /// A lease that counts nothing.
    pub fn none() -> Lease {
        Lease(None)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(l) = self.0.take() {
            l.ledger.release(l.protocol);
        }
    }
}

/// How many connections a scenario holds open at once to each section's
/// server, at most, read from its steps (background included). Errs on the
/// side of more: one for the protocol's own session (and for the fresh
/// session the cleanup opens after the scenario's are closed), one more per
/// named client (`client B …`), an FTP data connection, the real clients
/// (suppaftp: control and data; reqwest: two; async-imap, lettre: one), an
/// SMTP delivery inside a POP3 or IMAP scenario, parallel connections.
pub fn scenario_need<'a>(
    feature: Protocol,
    steps: impl IntoIterator<Item = &'a str>,
) -> BTreeMap<Protocol, u32> {
    // A client under test connects to the harness's own peers: no server's
    // budget is used.
    if feature.is_client() {
        return BTreeMap::new();
    }
    let steps: Vec<&str> = steps.into_iter().collect();
    let mut need: BTreeMap<Protocol, u32> = BTreeMap::new();
    let mut named: BTreeMap<(Protocol, String), ()> = BTreeMap::new();
    let uses_tcp = steps.iter().any(|s| s.to_ascii_lowercase().contains("tcp"));
    let base = match feature {
        // UDP needs no connection.
        Protocol::Dns | Protocol::Resolver | Protocol::Sockets if !uses_tcp => 0,
        _ => 1,
    };
    if !steps.is_empty() && base > 0 {
        need.insert(feature, base);
    }
    let extra = |p: Protocol, n: u32, need: &mut BTreeMap<Protocol, u32>| {
        *need.entry(p).or_default() += n;
    };
    for s in &steps {
        let section = referenced_section(s).unwrap_or(feature);
        // A named client: `client B`, `TCP client B`.
        for name in client_names(s) {
            if named.insert((section, name), ()).is_none() {
                extra(section, 1, &mut need);
            }
        }
        // A raw connection to another section's server.
        if section != feature && s.contains("TCP connection to") {
            need.entry(section).or_insert(1);
        }
        if let Some(n) = parallel(s) {
            extra(section, n, &mut need);
        }
        if s.contains("suppaftp client") {
            extra(Protocol::Ftp, 2, &mut need);
        }
        if s.contains("(reqwest") {
            extra(Protocol::Http, 2, &mut need);
        }
        if s.contains("async-imap fetches") {
            extra(Protocol::Imap, 1, &mut need);
        }
        if s.starts_with("CAPA after login announces") {
            // A second session asks CAPA before login.
            extra(Protocol::Pop3, 1, &mut need);
        }
        if s.starts_with("a second connection's greeting carries another timestamp") {
            // A second greeting while the first session is open.
            extra(Protocol::Pop3, 1, &mut need);
        }
        if s.starts_with("lettre sends") {
            extra(Protocol::Smtp, 1, &mut need);
        }
        if s.contains("delivered by SMTP") {
            need.entry(Protocol::Smtp).or_insert(1);
        }
        if s.starts_with("a first client's request for") {
            // The first client's connection stays open while the second
            // one's request goes through the proxy.
            extra(section, 1, &mut need);
        }
        if s.contains("mutations of") {
            extra(section, 2, &mut need);
        }
    }
    if feature == Protocol::Ftp && !steps.is_empty() {
        // The data connection, in passive mode a connection to the server.
        extra(Protocol::Ftp, 1, &mut need);
    }
    need
}

/// The section whose server `raw` (a step's address, `${smtp.address}` or
/// `127.0.0.1:2525`) resolved to `addr` is: the section it names, else the
/// section whose address it is.
pub fn section_of(profile: &Profile, raw: &str, addr: std::net::SocketAddr) -> Option<Protocol> {
    if let Some(p) = referenced_section(raw) {
        return Some(p);
    }
    profile.protocols().into_iter().find(|p| {
        p.tcp_address_keys()
            .iter()
            .any(|k| profile.addr(&format!("{p}.{k}")).ok() == Some(addr))
    })
}

/// `smtp` from a step naming `${smtp.address}` (the first section named).
fn referenced_section(step: &str) -> Option<Protocol> {
    let start = step.find("${")? + 2;
    let rest = &step[start..];
    let end = rest.find('.')?;
    Protocol::parse(&rest[..end])
}

/// `B` from `client B has …` / `TCP client B connected` / `client B sends`.
fn client_names(step: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = step;
    while let Some(i) = rest.find("client ") {
        let after = &rest[i + "client ".len()..];
        let word: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let at_word_start = i == 0 || !rest.as_bytes()[i - 1].is_ascii_alphanumeric();
        if at_word_start
            && !word.is_empty()
            && word.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && !step[..step.len() - rest.len() + i].ends_with("the ")
        {
            out.push(word);
        }
        rest = after;
    }
    out
}

/// `6` from `6 parallel connections each get …`.
fn parallel(step: &str) -> Option<u32> {
    let i = step.find(" parallel connections")?;
    step[..i]
        .rsplit(' ')
        .next()?
        .parse::<u32>()
        .ok()
        .map(|n| n.min(64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(p: Protocol, steps: &[&str]) -> Vec<(Protocol, u32)> {
        scenario_need(p, steps.iter().copied())
            .into_iter()
            .collect()
    }

    #[test]
    fn needs_from_steps() {
        use Protocol::*;
        assert_eq!(
            need(Imap, &["an authenticated IMAP session"]),
            vec![(Imap, 1)]
        );
        assert_eq!(
            need(
                Imap,
                &[
                    "an authenticated IMAP session",
                    "client B has an authenticated IMAP session",
                    "client B sends \"b1 NOOP\"",
                    "a client built on async-imap fetches the envelopes of the scratch mailbox",
                    "the multipart test message has been delivered by SMTP to the IMAP user's INBOX",
                ]
            ),
            vec![(Smtp, 1), (Imap, 3)]
        );
        assert_eq!(
            need(Ftp, &["a suppaftp client logged in as the profile's user"]),
            vec![(Ftp, 4)]
        );
        assert_eq!(
            need(
                Http,
                &["6 parallel connections each get the fixture file \"/a\""]
            ),
            vec![(Http, 7)]
        );
        assert_eq!(
            need(
                Smtp,
                &[
                    "TCP client B connected to \"${smtp.address}\"",
                    "the client sends \"x\""
                ]
            ),
            vec![(Smtp, 2)]
        );
        assert_eq!(
            need(Dns, &["a DNS client for the server under test"]),
            vec![]
        );
        assert_eq!(
            need(Dns, &["the client sends the query over TCP"]),
            vec![(Dns, 1)]
        );
        assert_eq!(
            need(Sockets, &["a UDP client socket for \"${sockets.udp}\""]),
            vec![]
        );
    }

    fn profile(extra: &str) -> Profile {
        Profile::parse(
            &format!("[imap]\naddress=\"127.0.0.1:1\"\nuser=\"u\"\npassword=\"p\"\n{extra}"),
            "t",
        )
        .unwrap()
    }

    #[test]
    fn limits_from_the_profile() {
        let b = Budgets::from_profile(&profile("")).unwrap();
        assert_eq!(b.limit(Protocol::Imap), Some(DEFAULT_MAX_CONNECTIONS));
        let b = Budgets::from_profile(&profile("max_connections = 3")).unwrap();
        assert_eq!(b.limit(Protocol::Imap), Some(3));
        assert!(Budgets::from_profile(&profile("max_connections = 0")).is_err());
        assert!(Budgets::from_profile(&profile("max_connections = \"many\"")).is_err());
    }

    /// Many scenarios that each hold one connection and open a second never
    /// exceed the budget and never deadlock.
    #[tokio::test]
    async fn never_exceeds_and_never_deadlocks() {
        let budgets = Arc::new(Budgets::from_profile(&profile("max_connections = 3")).unwrap());
        let peak = Arc::new(AtomicU32::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let budgets = budgets.clone();
            let peak = peak.clone();
            tasks.push(tokio::spawn(async move {
                let need = BTreeMap::from([(Protocol::Imap, 2)]);
                let r = budgets.reserve(&need).await.unwrap();
                let t = Duration::from_secs(5);
                let (a, _) = r.ledger.lease(Protocol::Imap, t).await.unwrap();
                tokio::task::yield_now().await;
                let (b, beyond) = r.ledger.lease(Protocol::Imap, t).await.unwrap();
                assert_eq!(beyond, Beyond::No);
                peak.fetch_max(budgets.open(Protocol::Imap), Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
                drop((a, b));
                drop(r);
            }));
        }
        let all = futures::future::join_all(tasks);
        let done = tokio::time::timeout(Duration::from_secs(10), all).await;
        assert!(done.is_ok(), "deadlock");
        assert!(peak.load(Ordering::SeqCst) <= 3);
        assert_eq!(budgets.open(Protocol::Imap), 0);
    }

    #[tokio::test]
    async fn beyond_the_reservation_only_when_free() {
        let budgets = Arc::new(Budgets::from_profile(&profile("max_connections = 2")).unwrap());
        let one = BTreeMap::from([(Protocol::Imap, 1)]);
        let r1 = budgets.reserve(&one).await.unwrap();
        let r2 = budgets.reserve(&one).await.unwrap();
        let t = Duration::from_millis(50);
        let (_a, _) = r1.ledger.lease(Protocol::Imap, t).await.unwrap();
        let (_b, _) = r2.ledger.lease(Protocol::Imap, t).await.unwrap();
        // Both permits are held: a second connection of r1 must not wait forever.
        assert!(r1.ledger.lease(Protocol::Imap, t).await.is_err());
        drop(_b);
        drop(r2);
        let (_c, beyond) = r1.ledger.lease(Protocol::Imap, t).await.unwrap();
        assert_eq!(beyond, Beyond::Granted);
        let too_many = BTreeMap::from([(Protocol::Imap, 3)]);
        assert!(budgets.reserve(&too_many).await.is_err());
    }
}
