//! `conform run`: selects scenarios, starts or checks the target, runs the
//! suites on cucumber, and turns what happened into a [`RunReport`].

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cucumber::event::{self, ScenarioFinished};
use cucumber::gherkin::{self, tagexpr::TagOperation};
use cucumber::World as _;
use futures::FutureExt as _;

use crate::protocol::Protocol;
use crate::report::deviations::Deviations;
use crate::report::{Outcome, RunReport, ScenarioResult};
use crate::steps::{Failure, RunContext, World};
use crate::suite::{self, Selection};
use crate::target::budget::{self, Budgets};
use crate::target::health::{Health, Stop};
use crate::target::{bundled, Profile};
use crate::wire::Perturb;

pub struct RunOptions {
    /// Protocols asked for on the command line; empty means all.
    pub protocols: Vec<Protocol>,
    pub target: Option<PathBuf>,
    pub tags: Option<String>,
    pub strict: bool,
    pub concurrency: usize,
    pub step_timeout: Duration,
    /// Where the feature files come from (`--features`, `--no-bundled`).
    pub features: suite::Sources,
    /// Print each scenario's verdict as it finishes (grouped by feature
    /// file, in file order).
    pub progress: bool,
    /// In the progress lines, leave out the scenarios that passed or were
    /// skipped (`--only-failures`).
    pub only_failures: bool,
    /// A target given directly (by `conform grade`); wins over `target`.
    pub profile: Option<Profile>,
    /// Check that every TCP address accepts a connection before the run.
    /// Grading turns it off: it waits for the port itself, and a probe
    /// connection would use up a student's server that serves one client.
    pub preflight: bool,
    /// Only the scenarios with these stable ids, if given.
    pub only: Option<BTreeSet<String>>,
    /// Declared deviations of the target (`--deviations FILE`).
    pub deviations: Option<Deviations>,
    /// A declared deviation that no longer occurs fails the run.
    pub ratchet: bool,
    /// Only this part of the selected scenarios (`--shard K/N`).
    pub shard: Option<suite::Shard>,
    /// How the scenarios' TCP writes and reads are cut (`--perturb`).
    pub perturb: Perturb,
    /// The whole run's bound (`--run-timeout`): after it no scenario
    /// starts and the steps under way end; `None`: no bound.
    pub run_timeout: Option<Duration>,
    /// Catch SIGINT and SIGTERM: start no more scenarios, run the cleanups
    /// of those under way, and report what finished (`conform run`).
    pub catch_signals: bool,
    /// How clients under test are started (`conform grade` of a client
    /// lab: its limits and environment).
    pub client_sandbox: crate::peer::client::Sandbox,
}

impl RunOptions {
    /// The options `conform run` would use with no arguments.
    pub fn new(features: impl Into<suite::Sources>) -> Self {
        RunOptions {
            protocols: Vec::new(),
            target: None,
            tags: None,
            strict: false,
            concurrency: 32,
            step_timeout: Duration::from_secs(5),
            features: features.into(),
            progress: false,
            only_failures: false,
            profile: None,
            preflight: true,
            only: None,
            deviations: None,
            ratchet: false,
            shard: None,
            perturb: Perturb::None,
            run_timeout: Some(crate::target::health::DEFAULT_RUN_TIMEOUT),
            catch_signals: false,
            client_sandbox: Default::default(),
        }
    }
}

/// A problem that stops the run before any verdict: exit 2.
#[derive(Debug)]
pub struct SetupError(pub String);

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Runs the selected suites. Without a target profile, the bundled reference
/// servers are started first and stopped afterwards.
pub async fn run(opts: &RunOptions) -> Result<RunReport, SetupError> {
    // From the start (a signal during the preflight stops the run too).
    // Ended when the run is: neither the deadline nor the signals outlive it.
    let stop = Stop::default();
    let _deadline = opts.run_timeout.map(|t| AbortOnDrop(stop.after(t)));
    let _signals = opts
        .catch_signals
        .then(|| stop.on_signals().map(AbortOnDrop))
        .flatten();
    let tags = parse_tags(opts.tags.as_deref())?;
    let (profile, _bundled) = match (&opts.profile, &opts.target) {
        (Some(p), _) => (p.clone(), None),
        (None, Some(path)) => (Profile::load(path).map_err(|e| SetupError(e.0))?, None),
        (None, None) => {
            let protocols = if opts.protocols.is_empty() {
                bundled::available()
            } else {
                opts.protocols.clone()
            };
            for p in &protocols {
                if !bundled::available().contains(p) {
                    return Err(SetupError(format!(
                        "there is no bundled reference server for {p}; give an external one with --target FILE"
                    )));
                }
            }
            let b = bundled::start(&protocols, bundled::loopback())
                .await
                .map_err(|e| SetupError(format!("cannot start the bundled servers: {e}")))?;
            (b.profile.clone(), Some(b))
        }
    };
    let protocols = protocols_under_test(&profile, &opts.protocols)?;
    let suites = suite::load_sources(&opts.features).map_err(SetupError)?;
    let mut selection = Selection {
        protocols: protocols.clone(),
        tags,
        profile: profile.clone(),
        only: opts.only.clone().map(|ids| (suites.root.clone(), ids)),
    };
    if let Some(d) = &opts.deviations {
        d.check_ids(&suites.ids()).map_err(SetupError)?;
    }
    let mut selected = suites.select(&selection);
    if let Some(shard) = opts.shard {
        let ids: BTreeSet<String> = selected
            .iter()
            .map(|(f, r, s)| suite::ScenarioMeta::of(&suites.root, f, *r, s).id)
            .filter(|id| shard.takes(id))
            .collect();
        selection.only = Some((suites.root.clone(), ids));
        selected = suites.select(&selection);
        if selected.is_empty() {
            // A small run split many ways: this part has nothing to do.
            return Ok(RunReport {
                context: crate::report::Context::new(
                    std::time::SystemTime::now(),
                    &profile,
                    &protocols,
                    &[],
                ),
                target: profile.source.clone(),
                protocols: protocols.iter().map(|p| p.name().to_string()).collect(),
                strict: opts.strict,
                ratchet: opts.ratchet,
                seconds: 0.0,
                scenarios: Vec::new(),
            });
        }
    }
    if selected.is_empty() {
        return Err(SetupError(format!(
            "no scenario selected (protocols: {}; tags: {}; features: {})",
            protocols
                .iter()
                .map(|p| p.name())
                .collect::<Vec<_>>()
                .join(" "),
            opts.tags.as_deref().unwrap_or("none"),
            opts.features.describe()
        )));
    }
    // Every step of every selected scenario must have exactly one
    // definition before anything connects.
    crate::steps::registry::check(&suites.root, &selected).map_err(SetupError)?;
    let budgets = Arc::new(Budgets::from_profile(&profile).map_err(|e| SetupError(e.0))?);
    if opts.preflight {
        // The fixture content is what the bundled suites need; a run of the
        // user's own features only (`--no-bundled`) checks reachability.
        preflight(
            &profile,
            &protocols,
            opts.step_timeout,
            opts.features.bundled,
        )
        .await?;
    }

    let started = Instant::now();
    let wall = std::time::SystemTime::now();
    let ctx = Arc::new(RunContext {
        profile: profile.clone(),
        step_timeout: opts.step_timeout,
        budgets,
        perturb: opts.perturb,
        health: Arc::new(Health::new()),
        stop: stop.clone(),
        client_sandbox: opts.client_sandbox.clone(),
    });
    let order: Vec<(String, usize)> = selected
        .iter()
        .map(|(f, r, s)| {
            let m = suite::ScenarioMeta::of(&suites.root, f, *r, s);
            (m.file, m.line)
        })
        .collect();
    let root = suites.root.clone();
    let features = suites.features.clone();
    let selected_count = selected.len();
    drop(selected);
    let health = ctx.health.clone();
    let results = execute(opts, ctx, selection, &order, root, features).await?;
    let mut scenarios = results;
    // A server that went down refused or left unanswered the connections
    // of the scenarios under way; while other connections were open that
    // looked like a connection limit (steps::limits). It was not.
    for r in &mut scenarios {
        let down = Protocol::parse(&r.protocol).and_then(|p| health.down(p));
        if let (Some(down), Some(f)) = (down, r.failure.as_mut()) {
            if f.is_configuration() {
                *f = Failure::harness(format!("the server was going down ({down}): {}", f.message));
            }
        }
    }
    scenarios.sort_by(|a, b| {
        (a.protocol.as_str(), a.file.as_str(), a.line).cmp(&(
            b.protocol.as_str(),
            b.file.as_str(),
            b.line,
        ))
    });
    if scenarios.len() != selected_count {
        return Err(SetupError(format!(
            "{} scenarios were selected but {} ran; the feature files may not parse",
            selected_count,
            scenarios.len()
        )));
    }
    let mut context = crate::report::Context::new(wall, &profile, &protocols, &scenarios);
    context.stopped = stop.reason();
    let report = RunReport {
        context,
        target: profile.source.clone(),
        protocols: protocols.iter().map(|p| p.name().to_string()).collect(),
        strict: opts.strict,
        ratchet: opts.ratchet,
        seconds: started.elapsed().as_secs_f64(),
        scenarios,
    };
    Ok(report)
}

pub fn parse_tags(expr: Option<&str>) -> Result<Option<TagOperation>, SetupError> {
    expr.map(|e| {
        e.parse::<TagOperation>()
            .map_err(|err| SetupError(format!("--tags \"{e}\": {err}")))
    })
    .transpose()
}

/// The protocols to run: those asked for (all, if none), which the profile
/// must describe.
pub fn protocols_under_test(
    profile: &Profile,
    asked: &[Protocol],
) -> Result<Vec<Protocol>, SetupError> {
    if asked.is_empty() {
        let all = profile.protocols();
        if all.is_empty() {
            return Err(SetupError(format!(
                "target profile {} describes no protocol",
                profile.source
            )));
        }
        return Ok(all);
    }
    for p in asked {
        if !profile.has(*p) {
            return Err(SetupError(format!(
                "target profile {} has no [{p}] section",
                profile.source
            )));
        }
    }
    Ok(asked.to_vec())
}

/// Every TCP address of the protocols under test must accept a connection
/// before anything runs: an unreachable target is a setup error, not a
/// hundred failed scenarios.
async fn preflight(
    profile: &Profile,
    protocols: &[Protocol],
    timeout: Duration,
    content: bool,
) -> Result<(), SetupError> {
    for p in protocols {
        for key in p.tcp_address_keys() {
            let path = format!("{p}.{key}");
            if profile.get(&path).is_none() {
                continue;
            }
            let addr = profile.addr(&path).map_err(|e| SetupError(e.0))?;
            match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    return Err(SetupError(format!(
                        "target unreachable: {path} = {addr}: {e}"
                    )))
                }
                Err(_) => {
                    return Err(SetupError(format!(
                        "target unreachable: {path} = {addr}: no answer within {}",
                        humantime::format_duration(timeout)
                    )))
                }
            }
        }
    }
    // Then what the suites need of each section: credentials, the zone, the
    // recipients, the fixture content.
    if !content {
        return Ok(());
    }
    crate::target::preflight::check(profile, protocols, timeout)
        .await
        .map_err(SetupError)
}

/// What the writer saw of a scenario: the failing step, or an undefined one.
#[derive(Default)]
struct StepNotes {
    failed_step: HashMap<(String, usize), String>,
    undefined_step: HashMap<(String, usize), String>,
}

type Key = (String, usize);

fn key(feature: &gherkin::Feature, scenario: &gherkin::Scenario) -> Key {
    (
        feature
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        scenario.position.line,
    )
}

async fn execute(
    opts: &RunOptions,
    ctx: Arc<RunContext>,
    selection: Selection,
    order: &[(String, usize)],
    root: PathBuf,
    features: Vec<gherkin::Feature>,
) -> Result<Vec<ScenarioResult>, SetupError> {
    crate::steps::install_panic_hook();
    let notes = Rc::new(RefCell::new(StepNotes::default()));
    let results: Rc<RefCell<Vec<(Key, ScenarioResult)>>> = Rc::default();
    let features_root = root.clone();
    let strict = opts.strict;
    let progress = opts.progress.then(|| {
        Rc::new(RefCell::new(crate::report::console::Progress::new(
            order,
            opts.only_failures,
        )))
    });
    let after_progress = progress.clone();
    let default_timeout = opts.step_timeout;
    let deviations = opts.deviations.clone();

    let before_ctx = ctx.clone();
    let before_root = root;
    let after_results = results.clone();
    let writer = Recorder {
        notes: notes.clone(),
        parse_errors: Vec::new(),
    };
    let filter = move |f: &gherkin::Feature, r: Option<&gherkin::Rule>, s: &gherkin::Scenario| {
        selection.accepts(f, r, s)
    };

    let recorder = World::cucumber::<PathBuf>()
        .with_parser(Preloaded)
        .with_writer(writer)
        .with_default_cli()
        .max_concurrent_scenarios(opts.concurrency.max(1))
        .which_scenario(|f, r, s| {
            let serial = suite::all_tags(f, r, s).any(|t| t == "serial");
            if serial {
                cucumber::ScenarioType::Serial
            } else {
                cucumber::ScenarioType::Concurrent
            }
        })
        .before(move |f, r, s, world| {
            let ctx = before_ctx.clone();
            let root = before_root.clone();
            async move {
                world.step_timeout = suite::timeout_tag(f, r, s).unwrap_or(default_timeout);
                // Nothing starts once the run is stopped or its section's
                // server is down: one error says why.
                let section = scenario_section(&root, f, r, s);
                let not_run = ctx
                    .stop
                    .reason()
                    .or_else(|| section.and_then(|p| ctx.health.down(p)));
                if let Some(why) = not_run {
                    world.preempted = Some(Failure::harness(format!("{NOT_RUN}{why}")));
                    world.ctx = ctx;
                    world.state::<Started>().0 = Some(Instant::now());
                    return;
                }
                // The scenario's connections, all reserved before its first
                // step (see target::budget).
                let need = scenario_need(&root, f, r, s);
                match ctx.budgets.reserve(&need).await {
                    // The server went down while the scenario waited.
                    Ok(_) if section.and_then(|p| ctx.health.down(p)).is_some() => {
                        let why = section.and_then(|p| ctx.health.down(p)).unwrap_or_default();
                        world.preempted = Some(Failure::harness(format!("{NOT_RUN}{why}")));
                    }
                    Ok(reservation) => {
                        world.budget = reservation.ledger.clone();
                        world.reservation = Some(reservation);
                    }
                    Err(e) => {
                        world.preempted = Some(Failure::skip(format!(
                            "{e}; raise max_connections in the profile to run it"
                        )))
                    }
                }
                let one_write = suite::all_tags(f, r, s).any(|t| t == "one-write");
                world.perturb = if one_write {
                    ctx.perturb.reads_only()
                } else {
                    ctx.perturb
                };
                world.ctx = ctx;
                world.state::<Started>().0 = Some(Instant::now());
            }
            .boxed_local()
        })
        .after(move |f, r, s, finished, mut world| {
            let results = after_results.clone();
            let root = features_root.clone();
            let deviations = deviations.clone();
            let progress = progress.clone();
            async move {
                if let Some(w) = world.as_deref_mut() {
                    // The scenario's sessions end before the cleanups open
                    // theirs: both count against the same reservation.
                    w.tcp.clear();
                    w.udp.clear();
                    // What they read is freed: the scenario's draw on the
                    // run's memory pool goes back (transcript::memory).
                    w.transcript.release_memory();
                    w.run_cleanups().await;
                }
                let mut result =
                    build_result(&root, f, r, s, finished, world.as_deref_mut(), strict);
                if let (Some(w), Some(p)) = (world.as_deref(), scenario_section(&root, f, r, s)) {
                    let failure = result.failure.as_ref();
                    let not_run = failure.is_some_and(|f| f.message.starts_with(NOT_RUN));
                    if !not_run && w.ctx.health.ended(p, failure) {
                        // Checked again on the side; scenarios that start
                        // after its verdict see it.
                        let ctx = w.ctx.clone();
                        tokio::spawn(async move {
                            ctx.health
                                .recheck(&ctx.profile, &ctx.budgets, p, ctx.step_timeout)
                                .await
                        });
                    }
                }
                if let Some(d) = &deviations {
                    d.apply(&mut result);
                }
                if let Some(w) = world {
                    w.close();
                    w.reservation = None;
                }
                if let Some(p) = &progress {
                    p.borrow_mut().finished(&result);
                }
                results.borrow_mut().push((key(f, s), result));
            }
            .boxed_local()
        })
        .filter_run(features, filter)
        .await;

    if let Some(p) = &after_progress {
        p.borrow_mut().flush(true);
    }
    if !recorder.parse_errors.is_empty() {
        return Err(SetupError(format!(
            "the feature files do not parse:\n  {}",
            recorder.parse_errors.join("\n  ")
        )));
    }
    let notes = notes.borrow();
    let mut out = Vec::new();
    for (k, mut result) in results.borrow_mut().drain(..) {
        if let Some(step) = notes.undefined_step.get(&k) {
            result.failure = Some(Failure::harness(format!(
                "no step definition matches \"{step}\"; check its wording against the step definitions (README, Steps)"
            )));
            result.outcome = Outcome::Error;
            result.deviation = None;
            result.step = Some(step.clone());
        } else if result.failure.is_some() {
            result.step = notes.failed_step.get(&k).cloned();
        }
        out.push(result);
    }
    Ok(out)
}

#[derive(Default)]
struct Started(Option<Instant>);

use crate::report::NOT_RUN;

/// Aborts a background task of the run when the run ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The profile section a scenario's server is under.
fn scenario_section(
    root: &Path,
    f: &gherkin::Feature,
    r: Option<&gherkin::Rule>,
    s: &gherkin::Scenario,
) -> Option<Protocol> {
    Protocol::parse(&suite::ScenarioMeta::of(root, f, r, s).protocol)
}

/// What the scenario needs of each section's connection budget, from its
/// steps (backgrounds included).
fn scenario_need(
    root: &Path,
    f: &gherkin::Feature,
    r: Option<&gherkin::Rule>,
    s: &gherkin::Scenario,
) -> std::collections::BTreeMap<Protocol, u32> {
    let protocol = suite::ScenarioMeta::of(root, f, r, s).protocol;
    let Some(protocol) = Protocol::parse(&protocol) else {
        return Default::default();
    };
    let steps = f
        .background
        .iter()
        .flat_map(|b| b.steps.iter())
        .chain(
            r.into_iter()
                .flat_map(|r| r.background.iter().flat_map(|b| b.steps.iter())),
        )
        .chain(s.steps.iter())
        .map(|st| st.value.as_str());
    budget::scenario_need(protocol, steps)
}

fn build_result(
    root: &Path,
    f: &gherkin::Feature,
    r: Option<&gherkin::Rule>,
    s: &gherkin::Scenario,
    finished: &ScenarioFinished,
    world: Option<&mut World>,
    strict: bool,
) -> ScenarioResult {
    let meta = suite::ScenarioMeta::of(root, f, r, s);
    let (mut failure, transcript, seconds) = match world {
        Some(w) => {
            let secs = w
                .state::<Started>()
                .0
                .map(|t| t.elapsed().as_secs_f64())
                .unwrap_or_default();
            (w.failure.clone(), w.transcript.clone(), secs)
        }
        None => (None, crate::transcript::Transcript::new(), 0.0),
    };
    // A panic that is not a step's reported failure is a harness bug; it must
    // not pass silently.
    if failure.is_none() {
        match finished {
            ScenarioFinished::StepFailed(_, _, err) => {
                failure = Some(Failure::harness(format!(
                    "the harness failed: {}",
                    describe_step_error(err)
                )));
            }
            ScenarioFinished::BeforeHookFailed(_) => {
                failure = Some(Failure::harness(
                    "the harness failed before the scenario started",
                ));
            }
            // cucumber skips a step only when no definition matches it.
            ScenarioFinished::StepSkipped => {
                failure = Some(Failure::harness("a step has no matching step definition"));
            }
            ScenarioFinished::StepPassed => {}
        }
    }
    let outcome = Outcome::judge(failure.as_ref(), &meta.level, strict);
    ScenarioResult {
        failure,
        seconds,
        transcript: transcript.entries(),
        transcript_text: transcript.render(),
        ..ScenarioResult::of(meta, &f.name, outcome)
    }
}

fn describe_step_error(err: &event::StepError) -> String {
    match err {
        event::StepError::Panic(info) => {
            if let Some(s) = info.downcast_ref::<String>() {
                s.clone()
            } else if let Some(s) = info.downcast_ref::<&str>() {
                (*s).to_string()
            } else {
                "a step panicked".into()
            }
        }
        other => other.to_string(),
    }
}

/// Hands cucumber the features conform has already loaded (bundled and the
/// user's folders), so both see the same files.
struct Preloaded;

impl cucumber::Parser<Vec<gherkin::Feature>> for Preloaded {
    type Cli = cucumber::cli::Empty;
    type Output =
        futures::stream::Iter<std::vec::IntoIter<cucumber::parser::Result<gherkin::Feature>>>;

    fn parse(self, input: Vec<gherkin::Feature>, _: Self::Cli) -> Self::Output {
        futures::stream::iter(input.into_iter().map(Ok).collect::<Vec<_>>())
    }
}

/// A cucumber writer that only notes which step failed or had no definition;
/// everything else conform reports from the scenario results.
struct Recorder {
    notes: Rc<RefCell<StepNotes>>,
    parse_errors: Vec<String>,
}

impl cucumber::Writer<World> for Recorder {
    type Cli = cucumber::cli::Empty;

    async fn handle_event(
        &mut self,
        ev: cucumber::parser::Result<cucumber::Event<event::Cucumber<World>>>,
        _: &Self::Cli,
    ) {
        let ev = match ev {
            Ok(ev) => ev.value,
            Err(e) => {
                self.parse_errors.push(e.to_string());
                return;
            }
        };
        let event::Cucumber::Feature(feature, fev) = ev else {
            return;
        };
        let (scenario, sev) = match fev {
            event::Feature::Scenario(s, ev) => (s, ev.event),
            event::Feature::Rule(_, event::Rule::Scenario(s, ev)) => (s, ev.event),
            _ => return,
        };
        let (step, stev) = match sev {
            event::Scenario::Step(step, ev) | event::Scenario::Background(step, ev) => (step, ev),
            _ => return,
        };
        let text = format!(
            "{}{} (line {})",
            step.keyword, step.value, step.position.line
        );
        let k = key(&feature, &scenario);
        match stev {
            event::Step::Failed(..) => {
                self.notes.borrow_mut().failed_step.entry(k).or_insert(text);
            }
            event::Step::Skipped => {
                self.notes
                    .borrow_mut()
                    .undefined_step
                    .entry(k)
                    .or_insert(text);
            }
            _ => {}
        }
    }
}

impl cucumber::writer::Normalized for Recorder {}

/// Ctrl-C or SIGTERM: what ends a run, a `conform serve` and a batch of
/// grades early.
pub async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
