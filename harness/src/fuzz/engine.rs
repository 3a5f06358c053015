//! The fuzz loop: draw a case, send it, judge it; confirm, shrink and record
//! what fails. Runs on the calling thread with blocking sockets (see
//! [`super::link`]); call it from `spawn_blocking` in async code.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use super::known::Known;
use super::shrink::Shrinker;
use super::{Case, Channel, FuzzProtocol, Limits, Link, Next, Oracle, Step, Violation};
use crate::target::Profile;

#[derive(Clone, Debug)]
pub struct FuzzOptions {
    /// Stop after this many cases…
    pub cases: Option<u64>,
    /// …or after this long (default: 1000 cases).
    pub duration: Option<Duration>,
    pub seed: u64,
    /// Sessions run at once, each drawing from its own seed ([`job_seed`]).
    pub jobs: usize,
    /// Go on after a new finding (a campaign) instead of ending the run.
    pub keep_going: bool,
    /// Findings already judged: counted, never stopping the run.
    pub known: Known,
    pub reply_timeout: Duration,
    /// How long shrinking may take.
    pub shrink_time: Duration,
    /// How long to wait for a target that stopped answering to come back
    /// (a supervised server restarts) before giving up on shrinking.
    pub recover_time: Duration,
    /// How often a fresh client checks the target is alive.
    pub probe_every: Duration,
}

impl Default for FuzzOptions {
    fn default() -> Self {
        FuzzOptions {
            cases: None,
            duration: None,
            seed: 0,
            jobs: 1,
            keep_going: false,
            known: Known::default(),
            reply_timeout: Duration::from_secs(2),
            shrink_time: Duration::from_secs(30),
            recover_time: Duration::from_secs(5),
            probe_every: Duration::from_millis(500),
        }
    }
}

/// A confirmed failure, shrunk.
#[derive(Clone, Debug)]
pub struct Finding {
    pub violation: Violation,
    /// The case as drawn.
    pub original: Case,
    /// The smallest case found that fails the same oracle.
    pub minimized: Case,
    /// The minimized case's transcript.
    pub transcript: String,
    pub shrink_runs: usize,
    /// Why the case may not be minimal, if it may not be.
    pub note: Option<String>,
    /// Regression files written.
    pub files: Vec<PathBuf>,
    /// The seed of the job that drew it.
    pub seed: u64,
    /// Why it is known, if the known-findings file lists it.
    pub known: Option<String>,
    /// How many drawn cases came to this finding (same signature).
    pub hits: u64,
}

impl Finding {
    /// A finding with nothing but its violation and cases.
    pub fn new(violation: Violation, original: Case, minimized: Case, seed: u64) -> Self {
        Finding {
            violation,
            original,
            minimized,
            transcript: String::new(),
            shrink_runs: 0,
            note: None,
            files: vec![],
            seed,
            known: None,
            hits: 1,
        }
    }

    /// What findings are told apart by: the oracle and the minimized case
    /// (`well-formed-1a2b3c4d`); also the regression files' name.
    pub fn signature(&self) -> String {
        format!(
            "{}-{}",
            self.violation.oracle.name(),
            self.minimized.fingerprint()
        )
    }
}

#[derive(Clone, Debug)]
pub struct FuzzReport {
    pub protocol: String,
    pub target: String,
    pub seed: u64,
    pub jobs: usize,
    pub cases: u64,
    pub exchanges: u64,
    pub seconds: f64,
    pub oracles: Vec<(Oracle, String)>,
    /// Distinct findings (one per signature) in the order they were made,
    /// known ones included.
    pub findings: Vec<Finding>,
    /// Failures that did not happen again on replay (not reported as findings).
    pub unconfirmed: Vec<String>,
}

impl FuzzReport {
    pub fn rate(&self) -> f64 {
        if self.seconds > 0.0 {
            self.exchanges as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// The findings that are not known: what makes the run fail.
    pub fn new_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.known.is_none())
    }

    pub fn known_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.known.is_some())
    }

    /// The first new finding, if any.
    pub fn finding(&self) -> Option<&Finding> {
        self.new_findings().next()
    }
}

/// What sending one case did.
pub enum Execution {
    Passed {
        exchanges: u64,
    },
    Failed {
        exchanges: u64,
        violation: Violation,
        transcript: String,
    },
    /// The link could not be opened: the target is not serving.
    Unreachable(String),
}

/// Sends cases over links of the protocol's channels, keeping reusable links.
pub struct Executor {
    pub plugin: Arc<dyn FuzzProtocol>,
    pub channels: Vec<Channel>,
    pub limits: Limits,
    idle: HashMap<String, Link>,
    /// The transcript of the last case sent on a fresh (logging) link.
    pub last_log: Option<String>,
    /// The longest a passing case took: shrinking waits a small multiple of
    /// it rather than the full reply timeout, so that a target that stops
    /// answering does not cost the full timeout per candidate.
    pub slowest_pass: Duration,
}

impl Executor {
    pub fn new(plugin: Arc<dyn FuzzProtocol>, channels: Vec<Channel>, limits: Limits) -> Self {
        Executor {
            plugin,
            channels,
            limits,
            idle: HashMap::new(),
            slowest_pass: Duration::ZERO,
            last_log: None,
        }
    }

    /// Sends `case`; with `reuse`, over a link kept from an earlier case
    /// where the protocol allows it.
    pub fn execute(&mut self, case: &Case, reuse: bool) -> Execution {
        let Some(channel) = self
            .channels
            .iter()
            .find(|c| c.name == case.channel)
            .cloned()
        else {
            return Execution::Failed {
                exchanges: 0,
                violation: Violation::new(
                    Oracle::Answers,
                    format!(
                        "the case is for channel `{}`, which the target profile does not give",
                        case.channel
                    ),
                ),
                transcript: String::new(),
            };
        };
        let reusable = reuse && self.plugin.reusable(&channel);
        let cached = if reusable {
            self.idle.remove(&channel.name)
        } else {
            None
        };
        let mut link = match cached {
            Some(l) => l,
            None => match self.plugin.open(&channel, &self.limits) {
                Ok(l) => l,
                Err(e) => return Execution::Unreachable(e),
            },
        };
        // The fast path keeps no transcript: a failure is replayed on a
        // fresh link, which does.
        link.set_logging(!reuse);
        let total = case.prefix.len() + case.messages.len();
        let started = Instant::now();
        let mut exchanges = 0;
        for (i, msg) in case.prefix.iter().chain(&case.messages).enumerate() {
            let step = Step {
                prefix: i < case.prefix.len(),
                last: i + 1 == total,
            };
            exchanges += 1;
            match self.plugin.exchange(&mut link, msg, step, &self.limits) {
                Ok(Next::Continue) => {}
                Ok(Next::Ended) => return Execution::Passed { exchanges },
                Err(violation) => {
                    return Execution::Failed {
                        exchanges,
                        violation,
                        transcript: link.log().render(&channel.name),
                    }
                }
            }
        }
        if !reuse {
            self.last_log = Some(link.log().render(&channel.name));
        }
        if reusable {
            self.idle.insert(channel.name, link);
        }
        self.slowest_pass = self.slowest_pass.max(started.elapsed());
        Execution::Passed { exchanges }
    }

    pub fn probe(&self) -> Result<(), String> {
        self.plugin.probe(&self.channels, &self.limits)
    }

    /// Waits up to `within` for the target to answer a probe again.
    pub fn wait_alive(&self, within: Duration) -> bool {
        let until = Instant::now() + within;
        loop {
            if self.probe().is_ok() {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Runs `case` on fresh links, then (for a liveness oracle) probes:
    /// the violation, with the transcript, if it fails.
    pub fn check(&mut self, case: &Case, recover: Duration) -> Option<(Violation, String)> {
        if !self.wait_alive(recover) {
            return None;
        }
        match self.execute(case, false) {
            Execution::Failed {
                violation,
                transcript,
                ..
            } => Some((violation, transcript)),
            Execution::Unreachable(e) => {
                Some((Violation::new(Oracle::StaysAlive, e), String::new()))
            }
            Execution::Passed { .. } => match self.probe() {
                Ok(()) => None,
                Err(e) => Some((dead(&e), String::new())),
            },
        }
    }
}

fn dead(e: &str) -> Violation {
    Violation::new(
        Oracle::StaysAlive,
        "the target stopped serving: a fresh client's valid probe failed",
    )
    .expected("a fresh connection and a valid exchange succeed after the case")
    .got(e.to_string())
}

/// proptest's RNG from the seed: the same seed draws the same cases.
pub fn test_runner(seed: u64) -> TestRunner {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    )
}

/// Recent passing cases with their value trees, for finding which one a
/// target died of.
const RECENT: usize = 64;

/// The seed of job `job` of a run with `seed`: job 0 uses the run's seed
/// itself (so `--jobs 1` draws what a run always drew), the others a value
/// derived from it (SplitMix64), printed with their findings.
pub fn job_seed(seed: u64, job: usize) -> u64 {
    if job == 0 {
        return seed;
    }
    let mut z = seed.wrapping_add((job as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Where a run stands, for a progress line.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub cases: u64,
    pub exchanges: u64,
    /// Distinct findings so far that are not known.
    pub new: usize,
    /// Distinct known findings met so far.
    pub known: usize,
    pub elapsed: Duration,
}

/// What the caller of [`run`] does with what happens during it: the engine
/// itself neither draws on the terminal nor writes files.
pub trait Observer {
    /// Called every 200 ms or so, and once at the end.
    fn progress(&mut self, _p: &Progress) {}
    /// A new finding (confirmed, shrunk, neither known nor met before in
    /// this run), called once per signature as soon as it is made; the
    /// caller may record the files it writes in `files`.
    fn finding(&mut self, _f: &mut Finding) {}
}

/// An observer that does nothing.
pub struct Quiet;
impl Observer for Quiet {}

/// What the jobs of a run share.
struct Shared<'a> {
    plugin: &'a Arc<dyn FuzzProtocol>,
    channels: &'a [Channel],
    seeds: &'a Arc<Vec<Vec<u8>>>,
    opts: &'a FuzzOptions,
    started: Instant,
    max_cases: u64,
    /// Cases drawn by all jobs.
    drawn: AtomicU64,
    exchanges: AtomicU64,
    /// Set when the run is to end (a new finding without `keep_going`).
    stop: AtomicBool,
    /// The kinds ([`kind`]) of the findings made so far.
    kinds: Mutex<HashSet<String>>,
}

/// What a job tells the run.
enum Event {
    /// A confirmed and shrunk finding, with the kind of its first failure.
    Finding(String, Finding),
    /// A drawn case failed the way an earlier finding did.
    Repeat(String),
}

/// What a failure is told apart by before it is shrunk: its oracle and the
/// first line of its message ("an unknown command got a success reply").
/// A failure of a kind already found counts toward that finding without
/// being confirmed and shrunk again: a campaign does not spend its time
/// shrinking the same fault a thousand times.
fn kind(v: &Violation) -> String {
    format!(
        "{} {}",
        v.oracle.name(),
        v.message.lines().next().unwrap_or_default()
    )
}

impl Shared<'_> {
    fn over(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
            || self
                .opts
                .duration
                .is_some_and(|d| self.started.elapsed() >= d)
    }
}

/// Fuzzes the target described by `profile` with the seed messages given
/// (see [`super::corpus::campaign_seeds`]). `Err` is a setup problem (exit
/// 2): no channel, target unreachable before the first case.
///
/// With `opts.jobs` above one, that many sessions run at once, job `i`
/// drawing from [`job_seed`]`(seed, i)`; findings are deduplicated by
/// signature (oracle and minimized case) across jobs. Known findings
/// (`opts.known`) are counted and never stop the run; the first new one
/// does unless `opts.keep_going`.
pub fn run(
    plugin: Arc<dyn FuzzProtocol>,
    profile: &Profile,
    seeds: Vec<Vec<u8>>,
    opts: &FuzzOptions,
    observer: &mut dyn Observer,
) -> Result<FuzzReport, String> {
    let channels = plugin.channels(profile)?;
    let limits = Limits {
        reply_timeout: opts.reply_timeout,
        drain: Duration::ZERO,
    };
    Executor::new(plugin.clone(), channels.clone(), limits)
        .probe()
        .map_err(|e| format!("target unreachable before fuzzing: {e}"))?;
    let seeds = Arc::new(seeds);
    let jobs = opts.jobs.max(1);
    let shared = Shared {
        plugin: &plugin,
        channels: &channels,
        seeds: &seeds,
        opts,
        started: Instant::now(),
        max_cases: match (opts.cases, opts.duration) {
            (Some(n), _) => n,
            (None, Some(_)) => u64::MAX,
            (None, None) => 1000,
        },
        drawn: AtomicU64::new(0),
        exchanges: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        kinds: Mutex::new(HashSet::new()),
    };
    let mut report = FuzzReport {
        protocol: plugin.name().to_string(),
        target: profile.source.clone(),
        seed: opts.seed,
        jobs,
        cases: 0,
        exchanges: 0,
        seconds: 0.0,
        oracles: plugin.oracles(),
        findings: Vec::new(),
        unconfirmed: Vec::new(),
    };
    let (tx, rx) = mpsc::channel::<Event>();
    let results = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs)
            .map(|job| {
                let tx = tx.clone();
                let shared = &shared;
                scope.spawn(move || worker(shared, job_seed(opts.seed, job), tx))
            })
            .collect();
        drop(tx);
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut by_kind: HashMap<String, usize> = HashMap::new();
        let mut last = Instant::now();
        loop {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(Event::Repeat(k)) => {
                    if let Some(&i) = by_kind.get(&k) {
                        report.findings[i].hits += 1;
                    }
                }
                Ok(Event::Finding(k, mut f)) => {
                    let sig = f.signature();
                    if let Some(&i) = index.get(&sig) {
                        report.findings[i].hits += 1;
                        by_kind.entry(k).or_insert(i);
                        continue;
                    }
                    by_kind.entry(k).or_insert(report.findings.len());
                    f.known = opts.known.matches(plugin.name(), &f).map(str::to_string);
                    if f.known.is_none() {
                        if !opts.keep_going {
                            shared.stop.store(true, Ordering::Relaxed);
                        }
                        observer.finding(&mut f);
                    }
                    index.insert(sig, report.findings.len());
                    report.findings.push(f);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            if last.elapsed() >= Duration::from_millis(200) {
                last = Instant::now();
                observer.progress(&progress(&shared, &report));
            }
        }
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a fuzz job panicked".into()))
            })
            .collect::<Vec<_>>()
    });
    for r in results {
        report.unconfirmed.extend(r?);
    }
    report.cases = shared.drawn.load(Ordering::Relaxed).min(shared.max_cases);
    report.exchanges = shared.exchanges.load(Ordering::Relaxed);
    report.seconds = shared.started.elapsed().as_secs_f64();
    observer.progress(&progress(&shared, &report));
    Ok(report)
}

fn progress(shared: &Shared, report: &FuzzReport) -> Progress {
    let known = report.findings.iter().filter(|f| f.known.is_some()).count();
    Progress {
        cases: shared.drawn.load(Ordering::Relaxed).min(shared.max_cases),
        exchanges: shared.exchanges.load(Ordering::Relaxed),
        new: report.findings.len() - known,
        known,
        elapsed: shared.started.elapsed(),
    }
}

/// One job: draws cases from its own seed until the run is over, sends
/// every confirmed and shrunk finding to `tx`; returns its notes on
/// failures that were not confirmed.
fn worker(sh: &Shared, seed: u64, tx: mpsc::Sender<Event>) -> Result<Vec<String>, String> {
    let limits = Limits {
        reply_timeout: sh.opts.reply_timeout,
        drain: Duration::ZERO,
    };
    let mut exec = Executor::new(sh.plugin.clone(), sh.channels.to_vec(), limits);
    let strategy = sh.plugin.strategy(sh.channels, sh.seeds.clone());
    let mut runner = test_runner(seed);
    let mut notes = Vec::new();
    let mut recent: VecDeque<Box<dyn ValueTree<Value = Case>>> = VecDeque::new();
    let mut last_probe = Instant::now();
    let mut own_cases = 0u64;
    // Whether this job's last finding ends the run for it.
    let stops =
        |f: &Finding| !sh.opts.keep_going && sh.opts.known.matches(sh.plugin.name(), f).is_none();
    let send = |k: String, mut f: Finding| -> bool {
        f.seed = seed;
        let stop = stops(&f);
        if let Ok(mut kinds) = sh.kinds.lock() {
            kinds.insert(k.clone());
        }
        let _ = tx.send(Event::Finding(k, f));
        stop
    };
    loop {
        if sh.over() {
            break;
        }
        let n = sh.drawn.fetch_add(1, Ordering::Relaxed);
        if n >= sh.max_cases {
            break;
        }
        own_cases += 1;
        let tree = strategy
            .new_tree(&mut runner)
            .map_err(|e| format!("the strategy could not draw a case: {e}"))?;
        let case = tree.current();
        let found = match exec.execute(&case, true) {
            Execution::Passed { exchanges } => {
                sh.exchanges.fetch_add(exchanges, Ordering::Relaxed);
                recent.push_back(tree);
                if recent.len() > RECENT {
                    recent.pop_front();
                }
                None
            }
            Execution::Failed {
                exchanges,
                violation,
                ..
            } => {
                sh.exchanges.fetch_add(exchanges, Ordering::Relaxed);
                recent.clear();
                let k = kind(&violation);
                if sh.kinds.lock().is_ok_and(|kinds| kinds.contains(&k)) {
                    let _ = tx.send(Event::Repeat(k));
                    None
                } else {
                    confirm_and_shrink(
                        &mut exec, tree, violation, exchanges, sh.opts, own_cases, &mut notes,
                    )
                    .map(|f| (k, f))
                }
            }
            Execution::Unreachable(e) => {
                recent.push_back(tree);
                died(&mut exec, &mut recent, &e, sh.opts, &mut notes)
                    .map(|f| (kind(&f.violation), f))
            }
        };
        if let Some((k, f)) = found {
            if send(k, f) {
                return Ok(notes);
            }
        }
        if last_probe.elapsed() >= sh.opts.probe_every {
            last_probe = Instant::now();
            if let Err(e) = exec.probe() {
                if let Some(f) = died(&mut exec, &mut recent, &e, sh.opts, &mut notes) {
                    if send(kind(&f.violation), f) {
                        return Ok(notes);
                    }
                }
            }
            recent.clear();
        }
    }
    if !sh.stop.load(Ordering::Relaxed) {
        if let Err(e) = exec.probe() {
            if let Some(f) = died(&mut exec, &mut recent, &e, sh.opts, &mut notes) {
                send(kind(&f.violation), f);
            }
        }
    }
    Ok(notes)
}

/// Replays a failing case on fresh links; if it fails the same oracle again,
/// shrinks it.
fn confirm_and_shrink(
    exec: &mut Executor,
    mut tree: Box<dyn ValueTree<Value = Case>>,
    violation: Violation,
    sent: u64,
    opts: &FuzzOptions,
    case_number: u64,
    notes: &mut Vec<String>,
) -> Option<Finding> {
    let original = tree.current();
    exec.limits.drain = Duration::from_millis(50);
    if !exec.wait_alive(opts.recover_time) {
        // It failed, and then the target stopped serving altogether. What
        // came after the failing message was never sent: the case ends there.
        let error = exec.probe().err().unwrap_or_default();
        let mut minimized = original.clone();
        let upto = (sent as usize).saturating_sub(minimized.prefix.len());
        if upto >= 1 {
            minimized.messages.truncate(upto);
        }
        return Some(Finding {
            violation: dead(&error),
            original: original.clone(),
            minimized,
            transcript: String::new(),
            shrink_runs: 0,
            note: Some(format!(
                "the case first failed with: {violation}\nthen the target stopped serving and did not come back within {}, \
                 so the case is cut after the message that failed but not otherwise confirmed or minimized",
                humantime::format_duration(opts.recover_time)
            )),
            files: vec![],
            seed: 0,
            known: None,
            hits: 1,
        });
    }
    let confirmed = exec
        .check(&original, opts.recover_time)
        .filter(|(v, _)| v.oracle == violation.oracle);
    let Some((first, _)) = confirmed else {
        exec.limits.drain = Duration::ZERO;
        notes.push(format!(
            "case {case_number} failed once but not on replay: {violation}"
        ));
        return None;
    };
    Some(shrink_finding(exec, tree.as_mut(), original, first, opts))
}

/// The target stopped serving: find which recent case did it (the target
/// must come back, as a supervised server does), then shrink that one.
fn died(
    exec: &mut Executor,
    recent: &mut VecDeque<Box<dyn ValueTree<Value = Case>>>,
    error: &str,
    opts: &FuzzOptions,
    notes: &mut Vec<String>,
) -> Option<Finding> {
    let violation = dead(error);
    exec.limits.drain = Duration::from_millis(50);
    let last = recent.back().map(|t| t.current());
    if !exec.wait_alive(opts.recover_time) {
        let case = last?;
        return Some(Finding {
            violation,
            original: case.clone(),
            minimized: case,
            transcript: String::new(),
            shrink_runs: 0,
            note: Some(format!(
                "the target did not come back within {}, so the case could not be confirmed or minimized; \
                 it is the last case sent before the target stopped answering",
                humantime::format_duration(opts.recover_time)
            )),
            files: vec![],
            seed: 0,
            known: None,
            hits: 1,
        });
    }
    // Newest first: the case just before the failure is the likeliest.
    while let Some(mut tree) = recent.pop_back() {
        let case = tree.current();
        if let Some((v, _)) = exec.check(&case, opts.recover_time) {
            if v.oracle == Oracle::StaysAlive || v.oracle == Oracle::Answers {
                recent.clear();
                return Some(shrink_finding(exec, tree.as_mut(), case, v, opts));
            }
        }
    }
    exec.limits.drain = Duration::ZERO;
    notes.push(format!(
        "the target stopped answering once ({error}) but no recent case made it stop again"
    ));
    None
}

/// Whether a candidate fails the way the original did: the same oracle and
/// the same kind of message (its first words: "no reply within …", "an
/// unknown command got …"), so that shrinking does not drift to another
/// failure of the same oracle (dropping a login and being refused).
///
/// One exception: a server that goes away while handling a case shows as a
/// close without a reply, or (when the case was longer than what it read,
/// so the close became a reset) only as a failed liveness probe. Both are the
/// same failure, so shrinking may cross from one to the other.
fn same_failure(v: &Violation, first: &Violation) -> bool {
    fn kind(v: &Violation) -> String {
        let gone = v.oracle == Oracle::StaysAlive
            || (v.oracle == Oracle::Answers
                && v.message
                    .starts_with("the server closed the connection without replying"));
        if gone {
            return "the server went away".into();
        }
        let words = v
            .message
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ");
        format!("{} {words}", v.oracle.name())
    }
    kind(v) == kind(first)
}

fn shrink_finding(
    exec: &mut Executor,
    tree: &mut dyn ValueTree<Value = Case>,
    original: Case,
    first: Violation,
    opts: &FuzzOptions,
) -> Finding {
    let recover = opts.recover_time;
    let full = exec.limits.reply_timeout;
    exec.limits.reply_timeout = (exec.slowest_pass * 20).clamp(Duration::from_millis(100), full);
    let mut gave_up = false;
    let minimized;
    let runs;
    let mut violation;
    {
        let mut fails = |c: &Case| {
            if gave_up {
                return None;
            }
            if !exec.wait_alive(recover) {
                gave_up = true;
                return None;
            }
            exec.check(c, recover)
                .map(|(v, _)| v)
                .filter(|v| same_failure(v, &first))
        };
        let mut s = Shrinker {
            fails: &mut fails,
            deadline: Instant::now() + opts.shrink_time,
            max_runs: 20_000,
            runs: 0,
            violation: None,
        };
        // proptest's pass gets a third of the time; the byte pass, which
        // goes straight at lengths and bytes, the rest.
        let all = s.deadline;
        s.deadline = Instant::now() + opts.shrink_time / 3;
        let best = s.tree(tree);
        s.deadline = all;
        minimized = s.bytes(best);
        runs = s.runs;
        violation = s.violation.take().unwrap_or_else(|| first.clone());
    }
    // The minimized case once more with the full timeout, for its
    // transcript and final message.
    exec.limits.reply_timeout = full;
    let mut transcript = String::new();
    let mut flaky = false;
    if !gave_up {
        match exec.check(&minimized, recover) {
            Some((v, t)) if same_failure(&v, &first) => {
                violation = v;
                transcript = t;
            }
            _ => flaky = true,
        }
    }
    exec.limits.drain = Duration::ZERO;
    Finding {
        violation,
        original,
        minimized,
        transcript,
        shrink_runs: runs,
        note: if gave_up {
            Some(
                "the target did not come back during shrinking; the case may not be minimal"
                    .to_string(),
            )
        } else if flaky {
            Some(format!(
                "the minimized case did not fail again with the full {} reply timeout: the failure may \
                 depend on timing or load (rate limiting?); the drawn case failed twice",
                humantime::format_duration(full)
            ))
        } else {
            None
        },
        files: vec![],
        seed: 0,
        known: None,
        hits: 1,
    }
}

/// What `--replay` saw.
pub struct Replay {
    pub case: Case,
    pub violation: Option<Violation>,
    pub transcript: String,
}

/// Sends a case file's session once on fresh links, then probes.
pub fn replay(
    plugin: Arc<dyn FuzzProtocol>,
    profile: &Profile,
    case: Case,
    reply_timeout: Duration,
) -> Result<Replay, String> {
    let channels = plugin.channels(profile)?;
    let limits = Limits {
        reply_timeout,
        drain: Duration::from_millis(100),
    };
    let mut exec = Executor::new(plugin, channels, limits);
    exec.probe()
        .map_err(|e| format!("target unreachable before the replay: {e}"))?;
    let (violation, transcript) = match exec.execute(&case, false) {
        Execution::Passed { .. } => match exec.probe() {
            Ok(()) => (None, String::new()),
            Err(e) => (Some(dead(&e)), String::new()),
        },
        Execution::Failed {
            violation,
            transcript,
            ..
        } => (Some(violation), transcript),
        Execution::Unreachable(e) => (Some(dead(&e)), String::new()),
    };
    Ok(Replay {
        case,
        violation,
        transcript,
    })
}

/// Runs `n` mutated cases of the protocol's strategy (for the Gherkin
/// robustness steps): how many exchanges were made, and the first
/// violation, confirmed and shrunk.
pub fn mutations(
    plugin: Arc<dyn FuzzProtocol>,
    channels: Vec<Channel>,
    seeds: Vec<Vec<u8>>,
    n: u64,
    seed: u64,
    reply_timeout: Duration,
) -> (u64, Option<Finding>, String) {
    let limits = Limits {
        reply_timeout,
        drain: Duration::ZERO,
    };
    let strategy = plugin.strategy(&channels, Arc::new(seeds));
    let mut exec = Executor::new(plugin, channels, limits);
    let mut runner = test_runner(seed);
    let opts = FuzzOptions {
        shrink_time: Duration::from_secs(5),
        recover_time: Duration::from_millis(500),
        ..FuzzOptions::default()
    };
    let mut notes = Vec::new();
    let mut exchanges_sent = 0u64;
    let mut sample = String::new();
    for i in 0..n {
        let Ok(mut tree) = strategy.new_tree(&mut runner) else {
            break;
        };
        // The first session goes over a logging link: a sample transcript.
        let result = exec.execute(&tree.current(), i > 0);
        if i == 0 {
            sample = exec.last_log.take().unwrap_or_default();
        }
        match result {
            Execution::Passed { exchanges } => exchanges_sent += exchanges,
            Execution::Failed {
                exchanges,
                violation,
                ..
            } => {
                exchanges_sent += exchanges;
                if let Some(f) = confirm_and_shrink(
                    &mut exec,
                    tree,
                    violation,
                    exchanges,
                    &opts,
                    i + 1,
                    &mut notes,
                ) {
                    return (exchanges_sent, Some(f), sample);
                }
            }
            Execution::Unreachable(e) => {
                let original = tree.current();
                return (
                    exchanges_sent,
                    Some(shrink_finding(
                        &mut exec,
                        tree.as_mut(),
                        original,
                        dead(&e),
                        &opts,
                    )),
                    sample,
                );
            }
        }
    }
    (exchanges_sent, None, sample)
}
