//! The fuzz loop: draw a case, send it, judge it; confirm, shrink and record
//! what fails. Runs on the calling thread with blocking sockets (see
//! [`super::link`]); call it from `spawn_blocking` in async code.

use std::collections::{HashMap, VecDeque};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use super::shrink::Shrinker;
use super::{corpus, Case, Channel, FuzzProtocol, Limits, Link, Next, Oracle, Step, Violation};
use crate::target::Profile;

#[derive(Clone, Debug)]
pub struct FuzzOptions {
    /// Stop after this many cases…
    pub cases: Option<u64>,
    /// …or after this long (default: 1000 cases).
    pub duration: Option<Duration>,
    pub seed: u64,
    pub reply_timeout: Duration,
    /// Redraw a progress line on stderr (only if it is a terminal).
    pub progress: bool,
    /// `corpus/`: seeds are read from `<corpus>/<protocol>/`, findings
    /// written to `<corpus>/<protocol>/regressions/`.
    pub corpus: Option<PathBuf>,
    /// Feature files to take seed messages from.
    pub features: Option<PathBuf>,
    /// Also the seeds built into the binary: the bundled corpus's
    /// `corpus/<protocol>/*.case` and the messages of the bundled suites.
    pub bundled_seeds: bool,
    /// Where findings are written when there is no `corpus`:
    /// `<regressions>/<protocol>/regressions/`.
    pub regressions: Option<PathBuf>,
    pub write_regressions: bool,
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
            reply_timeout: Duration::from_secs(2),
            progress: false,
            corpus: None,
            features: None,
            bundled_seeds: false,
            regressions: None,
            write_regressions: false,
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
}

#[derive(Clone, Debug)]
pub struct FuzzReport {
    pub protocol: String,
    pub target: String,
    pub seed: u64,
    pub cases: u64,
    pub exchanges: u64,
    pub seconds: f64,
    pub oracles: Vec<(Oracle, String)>,
    pub finding: Option<Finding>,
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

/// Counters for the progress line.
struct Progress {
    enabled: bool,
    started: Instant,
    last: Instant,
}

impl Progress {
    fn show(&mut self, protocol: &str, cases: u64, exchanges: u64, findings: usize, force: bool) {
        if !self.enabled || (!force && self.last.elapsed() < Duration::from_millis(200)) {
            return;
        }
        self.last = Instant::now();
        let secs = self.started.elapsed().as_secs_f64();
        let rate = if secs > 0.0 {
            exchanges as f64 / secs
        } else {
            0.0
        };
        let mut err = std::io::stderr();
        let _ = write!(
            err,
            "\r\x1b[2Kfuzz {protocol}: {cases} cases, {exchanges} exchanges, {rate:.0}/s, {findings} finding(s), {secs:.1}s"
        );
        let _ = err.flush();
    }

    fn done(&self) {
        if self.enabled {
            eprintln!();
        }
    }
}

/// Recent passing cases with their value trees, for finding which one a
/// target died of.
const RECENT: usize = 64;

/// Fuzzes the target described by `profile`. `Err` is a setup problem
/// (exit 2): no channel, target unreachable before the first case.
pub fn run(
    plugin: Arc<dyn FuzzProtocol>,
    profile: &Profile,
    opts: &FuzzOptions,
) -> Result<FuzzReport, String> {
    let channels = plugin.channels(profile)?;
    let limits = Limits {
        reply_timeout: opts.reply_timeout,
        drain: Duration::ZERO,
    };
    let mut exec = Executor::new(plugin.clone(), channels.clone(), limits);
    exec.probe()
        .map_err(|e| format!("target unreachable before fuzzing: {e}"))?;
    let mut seeds = corpus::seeds(
        plugin.as_ref(),
        opts.corpus.as_deref(),
        opts.features.as_deref(),
    );
    if opts.bundled_seeds {
        seeds.extend(corpus::bundled_seeds(plugin.as_ref()));
        seeds.sort();
        seeds.dedup();
    }
    let seeds = Arc::new(seeds);
    let strategy = plugin.strategy(&channels, seeds);
    let mut runner = test_runner(opts.seed);
    let started = Instant::now();
    let max_cases = match (opts.cases, opts.duration) {
        (Some(n), _) => n,
        (None, Some(_)) => u64::MAX,
        (None, None) => 1000,
    };
    let mut progress = Progress {
        enabled: opts.progress && std::io::stderr().is_terminal(),
        started,
        last: started,
    };
    let mut report = FuzzReport {
        protocol: plugin.name().to_string(),
        target: profile.source.clone(),
        seed: opts.seed,
        cases: 0,
        exchanges: 0,
        seconds: 0.0,
        oracles: plugin.oracles(),
        finding: None,
        unconfirmed: Vec::new(),
    };
    let mut recent: VecDeque<Box<dyn ValueTree<Value = Case>>> = VecDeque::new();
    let mut last_probe = Instant::now();
    while report.cases < max_cases {
        if opts.duration.is_some_and(|d| started.elapsed() >= d) {
            break;
        }
        let tree = strategy
            .new_tree(&mut runner)
            .map_err(|e| format!("the strategy could not draw a case: {e}"))?;
        let case = tree.current();
        report.cases += 1;
        match exec.execute(&case, true) {
            Execution::Passed { exchanges } => {
                report.exchanges += exchanges;
                recent.push_back(tree);
                if recent.len() > RECENT {
                    recent.pop_front();
                }
            }
            Execution::Failed {
                exchanges,
                violation,
                ..
            } => {
                report.exchanges += exchanges;
                if let Some(f) =
                    confirm_and_shrink(&mut exec, tree, violation, exchanges, opts, &mut report)
                {
                    report.finding = Some(f);
                    break;
                }
            }
            Execution::Unreachable(e) => {
                recent.push_back(tree);
                if let Some(f) = died(&mut exec, &mut recent, &e, opts, &mut report) {
                    report.finding = Some(f);
                    break;
                }
            }
        }
        if last_probe.elapsed() >= opts.probe_every {
            last_probe = Instant::now();
            if let Err(e) = exec.probe() {
                if let Some(f) = died(&mut exec, &mut recent, &e, opts, &mut report) {
                    report.finding = Some(f);
                    break;
                }
            }
            recent.clear();
        }
        progress.show(plugin.name(), report.cases, report.exchanges, 0, false);
    }
    if report.finding.is_none() {
        if let Err(e) = exec.probe() {
            report.finding = died(&mut exec, &mut recent, &e, opts, &mut report);
        }
    }
    report.seconds = started.elapsed().as_secs_f64();
    progress.show(
        plugin.name(),
        report.cases,
        report.exchanges,
        report.finding.iter().count(),
        true,
    );
    progress.done();
    let write_to = opts.corpus.as_ref().or(opts.regressions.as_ref());
    if let (Some(f), Some(dir), true) = (&mut report.finding, write_to, opts.write_regressions) {
        match corpus::write_regression(plugin.as_ref(), dir, f, opts.seed) {
            Ok(files) => f.files = files,
            Err(e) => eprintln!("conform: could not write the regression files: {e}"),
        }
    }
    Ok(report)
}

/// Replays a failing case on fresh links; if it fails the same oracle again,
/// shrinks it.
fn confirm_and_shrink(
    exec: &mut Executor,
    mut tree: Box<dyn ValueTree<Value = Case>>,
    violation: Violation,
    sent: u64,
    opts: &FuzzOptions,
    report: &mut FuzzReport,
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
        });
    }
    let confirmed = exec
        .check(&original, opts.recover_time)
        .filter(|(v, _)| v.oracle == violation.oracle);
    let Some((first, _)) = confirmed else {
        exec.limits.drain = Duration::ZERO;
        report.unconfirmed.push(format!(
            "case {} failed once but not on replay: {}",
            report.cases, violation
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
    report: &mut FuzzReport,
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
    report.unconfirmed.push(format!(
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
    let mut report = FuzzReport {
        protocol: String::new(),
        target: String::new(),
        seed,
        cases: 0,
        exchanges: 0,
        seconds: 0.0,
        oracles: vec![],
        finding: None,
        unconfirmed: vec![],
    };
    let mut sample = String::new();
    for i in 0..n {
        let Ok(mut tree) = strategy.new_tree(&mut runner) else {
            break;
        };
        let case = tree.current();
        report.cases += 1;
        // The first session goes over a logging link: a sample transcript.
        let result = exec.execute(&case, i > 0);
        if i == 0 {
            sample = exec.last_log.take().unwrap_or_default();
        }
        match result {
            Execution::Passed { exchanges } => report.exchanges += exchanges,
            Execution::Failed {
                exchanges,
                violation,
                ..
            } => {
                report.exchanges += exchanges;
                if let Some(f) =
                    confirm_and_shrink(&mut exec, tree, violation, exchanges, &opts, &mut report)
                {
                    return (report.exchanges, Some(f), sample);
                }
            }
            Execution::Unreachable(e) => {
                let original = tree.current();
                return (
                    report.exchanges,
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
    (report.exchanges, None, sample)
}
