//! `conform grade`: the suites as a grader. A submission (a folder with a
//! student's program, or a command) is built, started on a free port with
//! limits, and run against the assignment's scenarios with the same runner
//! as `conform run`; every scenario earns its points or zero, with feedback.
//!
//! - [`assignment`]: the assignment file and the bundled assignments.
//! - [`sandbox`]: starting and killing a submission's processes.
//! - [`ports`]: free ports, and which ports a submission opened.
//! - [`feedback`]: summary, Gradescope `results.json`, JUnit.
//! - [`batch`]: a folder of submissions and the gradebook.

pub mod assignment;
pub mod batch;
pub mod feedback;
pub mod ports;
pub mod sandbox;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::protocol::Protocol;
use crate::report::{Outcome, ScenarioResult};
use crate::runner::{self, RunOptions, SetupError};
use crate::steps::Failure;
use crate::suite::{self, Selection};
use assignment::{Assignment, Restart};
use futures::StreamExt as _;
use ports::Transport;
use sandbox::{Program, Stopped};

/// What is graded.
#[derive(Clone, Debug)]
pub enum Submission {
    /// A folder: copied to a scratch folder, built there, started there.
    Folder(PathBuf),
    /// A command (with `{port}`) started in the current folder, not built.
    Command(String),
}

#[derive(Clone)]
pub struct GradeOptions {
    pub assignment: Assignment,
    pub submission: Submission,
    /// A folder of feature files where the assignment's suite paths are
    /// looked up before the bundled suites (`--features DIR`).
    pub features: Option<PathBuf>,
    /// Print each scenario's points as it is graded.
    pub progress: bool,
}

/// How many starts of a submission are graded at once (each scenario gets its
/// own start with `restart = "each-scenario"`).
const PARALLEL_STARTS: usize = 2;

/// One scenario, graded.
#[derive(Clone, Debug, Serialize)]
pub struct GradedScenario {
    pub criterion: String,
    pub name: String,
    /// The name as written (an outline's, for each of its rows).
    #[serde(skip)]
    pub title: String,
    pub score: f64,
    pub max_score: f64,
    /// Students see only its name and points (any visibility but `visible`).
    pub hidden: bool,
    /// Gradescope visibility: `visible`, `hidden`, `after_due_date`,
    /// `after_published`.
    pub visibility: String,
    pub passed: bool,
    /// About the program rather than the wire: it ended during the
    /// scenario, never opened its port, did not build.
    pub note: Option<String>,
    pub result: ScenarioResult,
}

#[derive(Clone, Debug, Serialize)]
pub struct BuildLog {
    pub command: String,
    pub ok: bool,
    pub how: String,
    pub stdout: String,
    pub stderr: String,
}

/// One start of the program.
#[derive(Clone, Debug, Serialize)]
pub struct Start {
    pub scenarios: Vec<String>,
    pub port: u16,
    pub pid: i32,
    pub pgid: i32,
    /// What kept the scenarios from running, if anything.
    pub problem: Option<String>,
    pub stopped: Stopped,
}

#[derive(Clone, Debug, Serialize)]
pub struct GradeReport {
    pub assignment: String,
    pub title: String,
    pub submission: String,
    pub score: f64,
    pub max_score: f64,
    pub seconds: f64,
    /// The rubric's criteria in its order ("Other" last, if used).
    pub criteria: Vec<String>,
    /// Whether each scenario ran against a fresh start of the program.
    pub fresh_start_per_scenario: bool,
    /// The program is a client: each scenario ran it against the
    /// harness's peer.
    pub client_lab: bool,
    /// The network the submission's programs saw: `loopback only` (a
    /// network namespace of its own, shared with the grader's side of the
    /// scenarios) or `the machine's`.
    pub network: &'static str,
    /// A problem that cost every remaining scenario its points.
    pub problem: Option<String>,
    pub build: Option<BuildLog>,
    pub starts: Vec<Start>,
    pub scenarios: Vec<GradedScenario>,
}

impl GradeReport {
    /// 0 for full marks (no scenario lost points), 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        if self.problem.is_none()
            && self
                .scenarios
                .iter()
                .all(|s| s.passed || s.max_score == 0.0)
        {
            0
        } else {
            1
        }
    }
}

/// Checks an assignment against its suites without grading anything (batch
/// mode does this before it starts any submission).
pub fn check_assignment(a: &Assignment, features: Option<&Path>) -> Result<usize, SetupError> {
    let scratch = tempfile::Builder::new()
        .prefix("conform-check-")
        .tempdir()
        .map_err(|e| SetupError(format!("cannot make a scratch folder: {e}")))?;
    let dest = scratch.path().join("features");
    let shown = gather_features(a, features, &dest)?;
    Ok(select(a, &dest, &shown)?.len())
}

/// Grades one submission. A grader running as root grades a submission
/// folder inside a network namespace of its own ([`sandbox::NetNs`]): its
/// programs, and the grader's side of every scenario (the connections,
/// the peers, the ports probed), see one loopback interface and nothing
/// else. Where no namespace can be made, it runs on the machine's network
/// and the report says so.
pub async fn grade(opts: &GradeOptions) -> Result<GradeReport, SetupError> {
    if !matches!(opts.submission, Submission::Folder(_))
        || sandbox::Identity::for_submission().is_none()
    {
        return grade_here(opts, "the machine's").await;
    }
    let ns = match sandbox::NetNs::loopback_only() {
        Ok(ns) => ns,
        Err(e) => {
            eprintln!(
                "conform: no network namespace for the submission ({e}); it runs on the machine's network"
            );
            return grade_here(opts, "the machine's").await;
        }
    };
    // A thread of its own enters the namespace and runs the grading on a
    // runtime whose threads all start from it, so every socket of the
    // grading and every process of the submission is inside. Dropping this
    // future (an interrupted grader) drops `_cancel`, which ends the
    // grading there as it would here.
    let (done, result) = tokio::sync::oneshot::channel();
    let (_cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
    let opts = opts.clone();
    std::thread::Builder::new()
        .name("conform-grade".into())
        .spawn(move || {
            let run = || -> Result<Option<Result<GradeReport, SetupError>>, String> {
                ns.enter()
                    .map_err(|e| format!("cannot enter the submission's network namespace: {e}"))?;
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot start the grading runtime: {e}"))?;
                Ok(rt.block_on(async {
                    tokio::select! {
                        r = grade_here(&opts, "loopback only") => Some(r),
                        _ = cancelled => None,
                    }
                }))
            };
            let _ = done.send(run());
        })
        .map_err(|e| SetupError(format!("cannot start the grading thread: {e}")))?;
    match result.await {
        Ok(Ok(Some(r))) => r,
        Ok(Ok(None)) => Err(SetupError("grading cancelled".into())),
        Ok(Err(e)) => Err(SetupError(e)),
        Err(_) => Err(SetupError(
            "the grading thread ended without a result".into(),
        )),
    }
}

async fn grade_here(opts: &GradeOptions, network: &'static str) -> Result<GradeReport, SetupError> {
    let started = Instant::now();
    // A grader running as root runs a submission's programs as a user of
    // its own (sandbox::Identity), on its own copy of the files; a command
    // given on the command line runs in the current folder, as the grader.
    let mut assignment = opts.assignment.clone();
    if let Submission::Folder(_) = &opts.submission {
        assignment.limits.run_as = sandbox::Identity::for_submission();
    }
    let a = &assignment;
    let scratch = tempfile::Builder::new()
        .prefix("conform-grade-")
        .tempdir()
        .map_err(|e| SetupError(format!("cannot make a scratch folder: {e}")))?;
    if a.limits.run_as.is_some() {
        // The submission's user passes through the scratch folder to its
        // copy and its lab content; it can neither list nor change it (the
        // feature files stay the grader's).
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(scratch.path(), std::fs::Permissions::from_mode(0o711))
            .map_err(|e| SetupError(format!("cannot open the scratch folder: {e}")))?;
    }
    let features = scratch.path().join("features");
    let shown = gather_features(a, opts.features.as_deref(), &features)?;
    let mut graded = select(a, &features, &shown)?;

    let (workdir, command, label) = match &opts.submission {
        Submission::Folder(dir) => {
            if !dir.is_dir() {
                return Err(SetupError(format!(
                    "submission {} is not a folder",
                    dir.display()
                )));
            }
            let work = scratch.path().join("submission");
            copy_tree(dir, &work).map_err(|e| {
                SetupError(format!("cannot copy submission {}: {e}", dir.display()))
            })?;
            // Its copy of the files is the submission's user's, once for
            // the build and every start.
            sandbox::hand_over(&work, a.limits.run_as).map_err(|e| {
                SetupError(format!(
                    "cannot give the copy of {} to its user: {e}",
                    dir.display()
                ))
            })?;
            (work, a.start.clone(), dir.display().to_string())
        }
        Submission::Command(cmd) => (
            std::env::current_dir().map_err(|e| SetupError(e.to_string()))?,
            cmd.clone(),
            cmd.clone(),
        ),
    };
    // Server labs: the fixture content the scenarios expect ({www},
    // {maildir}, {zone}, {ftp_root}), written afresh for the build and for
    // every start of the program (see `run_group`).
    let (build, build_env) = match &a.build {
        Some(b) => {
            let content = lab_content(a, &command, &scratch.path().join("build"))?;
            (Some(fill(b, &content)), fill_env(a, &content))
        }
        None => (None, Vec::new()),
    };
    let starts = std::sync::atomic::AtomicUsize::new(0);
    let mut report = GradeReport {
        assignment: a.name.clone(),
        title: a.title.clone(),
        submission: label,
        score: 0.0,
        max_score: round_points(graded.iter().map(|g| g.max_score).sum()),
        seconds: 0.0,
        criteria: criteria_in_order(a, &graded),
        fresh_start_per_scenario: a.client || a.restart == Restart::EachScenario,
        client_lab: a.client,
        network,
        problem: None,
        build: None,
        starts: Vec::new(),
        scenarios: Vec::new(),
    };

    // Build.
    if let (Submission::Folder(_), Some(build)) = (&opts.submission, &build) {
        let mut limits = a.limits;
        limits.cpu_seconds = Some(a.build_time.as_secs().max(1));
        let (ok, how, stopped) = sandbox::run_to_end(
            build,
            &workdir,
            &build_env,
            &limits,
            a.output_bytes,
            a.build_time,
        )
        .await
        .map_err(|e| SetupError(format!("cannot run the build command: {e}")))?;
        report.build = Some(BuildLog {
            command: build.clone(),
            ok,
            how: how.clone(),
            stdout: stopped.stdout.clone(),
            stderr: stopped.stderr.clone(),
        });
        if !ok {
            let msg = format!(
                "The build (`{build}`) failed: it {how}.{}",
                output_excerpt(&stopped)
            );
            fail_all(&mut graded, &msg);
            report.problem = Some(msg);
        }
    }

    // A client lab: the scenarios start the program themselves, each
    // against its own peer; nothing to start or wait for here.
    if a.client {
        if report.problem.is_none() {
            let env = fill_env(a, &[]);
            run_clients(a, &features, &workdir, &command, &env, &mut graded, started).await?;
        }
        report.score = round_points(graded.iter().map(|g| g.score).sum());
        report.scenarios = graded;
        report.seconds = started.elapsed().as_secs_f64();
        return Ok(report);
    }

    // Run: each group of scenarios gets its own start of the program.
    let groups: Vec<Vec<usize>> = match a.restart {
        Restart::EachScenario => (0..graded.len()).map(|i| vec![i]).collect(),
        Restart::Once => vec![(0..graded.len()).collect()],
    };
    let deadline = started + a.total_time;
    // Each start of the program is its own process on its own port, so the
    // groups run side by side: a program that never answers costs the wait
    // of a few scenarios, not the sum of all of them.
    let parallel = groups.len().clamp(1, PARALLEL_STARTS);
    let problem: std::cell::RefCell<Option<String>> =
        std::cell::RefCell::new(report.problem.clone());
    let runs = futures::stream::iter(groups.into_iter().map(|group| {
        let mut local: Vec<GradedScenario> = group.iter().map(|&i| graded[i].clone()).collect();
        let (features, workdir, command, problem) = (&features, &workdir, &command, &problem);
        // Each start gets its own copy of the fixture content, so what one
        // scenario changed (a deleted message, an uploaded file) never
        // reaches another.
        let lab = scratch.path().join(format!(
            "start-{}",
            starts.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        async move {
            if problem.borrow().is_some() {
                return Ok((group, local, None));
            }
            let now = Instant::now();
            let all: Vec<usize> = (0..local.len()).collect();
            if now >= deadline {
                let msg = format!(
                    "Not run: grading this submission took longer than its limit of {}.",
                    humantime::format_duration(a.total_time)
                );
                for g in &mut local {
                    fail(g, &msg);
                }
                return Ok((group, local, None));
            }
            let start = run_group(
                a,
                features,
                workdir,
                command,
                &lab,
                &mut local,
                &all,
                deadline - now,
            )
            .await?;
            if let Some(p) = &start.problem {
                problem.borrow_mut().get_or_insert_with(|| p.clone());
            }
            Ok::<_, SetupError>((group, local, Some(start)))
        }
    }))
    .buffered(parallel)
    .collect::<Vec<_>>()
    .await;
    for run in runs {
        let (group, local, start) = run?;
        for (&i, g) in group.iter().zip(local) {
            graded[i] = g;
        }
        if opts.progress {
            for &i in &group {
                feedback::progress_line(&graded[i]);
            }
        }
        report.starts.extend(start);
    }
    if let Some(msg) = problem.into_inner() {
        // The program cannot be tested at all: the same for every scenario.
        if report.problem.is_none() {
            fail_all(&mut graded, &msg);
            report.problem = Some(msg);
        }
    }
    // Shared criterion points (2 over 5 rows) sum without float dust.
    report.score = round_points(graded.iter().map(|g| g.score).sum());
    report.scenarios = graded;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

fn round_points(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn criteria_in_order(a: &Assignment, graded: &[GradedScenario]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let named = a.rubric.iter().map(|r| &r.criterion);
    for c in named.chain(graded.iter().map(|g| &g.criterion)) {
        if !out.contains(c) {
            out.push(c.clone());
        }
    }
    out
}

/// The placeholders a server lab may use, with what each becomes.
pub const LAB_CONTENT: &[(&str, &str)] = &[
    ("{www}", "the fixture web root (index.html, somedir/page.html, …)"),
    (
        "{maildir}",
        "the fixture mailboxes: {maildir}/bob/Maildir holds the fixture messages; sink and postmaster are empty",
    ),
    ("{zone}", "the fixture zone file for example.test"),
    ("{ftp_root}", "the fixture FTP tree, writable"),
];

/// Writes the fixture content that the start command, the build command,
/// the environment or the target profile mention into `dir/lab/`, and
/// returns each placeholder with its path.
fn lab_content(
    a: &Assignment,
    command: &str,
    dir: &Path,
) -> Result<Vec<(&'static str, String)>, SetupError> {
    let mut texts = vec![command.to_string()];
    texts.extend(a.build.clone());
    texts.extend(a.env.values().cloned());
    texts.extend(a.target.iter().map(|(_, _, v)| v.clone()));
    let used = |k: &str| texts.iter().any(|t| t.contains(k));
    let lab = dir.join("lab");
    let failed = |what: &str, e: String| SetupError(format!("cannot write the {what}: {e}"));
    let mut out = Vec::new();
    for (key, _) in LAB_CONTENT {
        if !used(key) {
            continue;
        }
        let path = match *key {
            "{www}" => {
                let dir = lab.join("www");
                crate::fixtures::http::write_www(&dir)
                    .map_err(|e| failed("web root", e.to_string()))?;
                dir
            }
            "{maildir}" => {
                let dir = lab.join("maildir");
                crate::fixtures::mail::write_maildirs(&dir)
                    .map_err(|e| failed("mailboxes", e.to_string()))?;
                dir
            }
            "{zone}" => crate::fixtures::dns::write(&lab)
                .map_err(|e| failed("zone", e))?
                .join(crate::fixtures::dns::ZONE_FILE),
            _ => {
                let dir = lab.join("ftp");
                crate::fixtures::ftp::write(&dir).map_err(|e| failed("FTP tree", e))?;
                dir
            }
        };
        out.push((*key, path.display().to_string()));
    }
    // The submission may change its lab content (a POP3 server deletes
    // mail, an FTP server stores files): it is handed over to its user.
    if lab.exists() {
        sandbox::hand_over(&lab, a.limits.run_as)
            .map_err(|e| failed("lab content's owner", e.to_string()))?;
    }
    Ok(out)
}

/// `text` with each placeholder of `content` replaced by its path.
fn fill(text: &str, content: &[(&'static str, String)]) -> String {
    content
        .iter()
        .fold(text.to_string(), |t, (k, path)| t.replace(k, path))
}

/// The assignment's extra environment, placeholders filled.
fn fill_env(a: &Assignment, content: &[(&'static str, String)]) -> Vec<(String, String)> {
    a.env
        .iter()
        .map(|(k, v)| (k.clone(), fill(v, content)))
        .collect()
}

/// The run of the scenarios `only` of an assignment against `profile`.
fn run_options(
    a: &Assignment,
    features: &Path,
    profile: crate::target::Profile,
    only: BTreeSet<String>,
    concurrency: usize,
) -> RunOptions {
    let mut opts = RunOptions::new(features.to_path_buf());
    opts.protocols = a.protocols.clone();
    opts.tags = a.tags.clone();
    opts.step_timeout = a.step_timeout;
    opts.concurrency = concurrency;
    opts.profile = Some(profile);
    // The grader waits for the program's port itself (a probe would use up
    // a server that serves one client); a client lab has none.
    opts.preflight = false;
    opts.only = Some(only);
    opts
}

/// Starts the program, waits for its port, runs the group's scenarios, and
/// kills it.
#[allow(clippy::too_many_arguments)]
async fn run_group(
    a: &Assignment,
    features: &Path,
    workdir: &Path,
    command: &str,
    lab: &Path,
    graded: &mut [GradedScenario],
    group: &[usize],
    time_left: Duration,
) -> Result<Start, SetupError> {
    let port =
        ports::free_port().map_err(|e| SetupError(format!("cannot find a free port: {e}")))?;
    let content = lab_content(a, command, lab)?;
    let profile = a.profile_with(port, &content).map_err(SetupError)?;
    let mut env = fill_env(a, &content);
    env.push(("PORT".into(), port.to_string()));
    let cmd = fill(command, &content).replace("{port}", &port.to_string());
    let mut program = Program::spawn(&cmd, workdir, &env, &a.limits, a.output_bytes)
        .map_err(|e| SetupError(format!("cannot start `{cmd}`: {e}")))?;
    let names = group.iter().map(|&i| graded[i].name.clone()).collect();
    let wanted: Vec<(Transport, u16)> = a
        .ports()
        .into_iter()
        .map(|(_, udp)| (if udp { Transport::Udp } else { Transport::Tcp }, port))
        .collect();
    if let Err(why) = wait_bound(&mut program, &wanted, a.bind_timeout.min(time_left), &cmd).await {
        let (pid, pgid) = (program.pid, program.pgid);
        let stopped = program.stop().await;
        return Ok(Start {
            scenarios: names,
            port,
            pid,
            pgid,
            problem: Some(format!("{why}{}", output_excerpt(&stopped))),
            stopped,
        });
    }
    let ids = group.iter().map(|&i| graded[i].result.id.clone()).collect();
    let opts = run_options(a, features, profile, ids, 1);
    let outcome = tokio::time::timeout(time_left, runner::run(&opts)).await;
    // A program that closed its port has quit or is quitting: let it finish,
    // so the feedback can say how it ended.
    let mut closed = None;
    if let Some(open) = ports::opened_by(&program.processes(false)) {
        let want: BTreeSet<(Transport, u16)> = wanted.iter().copied().collect();
        if !want.is_subset(&open) {
            closed = Some(ports::describe(&want));
            for _ in 0..20 {
                if program.ended().is_some() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
    }
    let (pid, pgid) = (program.pid, program.pgid);
    let stopped = program.stop().await;
    let ended = match (&stopped.ended_by_itself, closed) {
        (Some(how), _) => Some(format!("Your program {how} while this scenario ran")),
        (None, Some(ports)) => Some(format!(
            "Your program was no longer listening on {ports} at the end of this scenario"
        )),
        (None, None) => None,
    };
    let note = ended.map(|what| {
        let afresh = if a.restart == Restart::EachScenario {
            " (it is started afresh for each scenario)"
        } else {
            ""
        };
        format!("{what}{afresh}.{}", output_excerpt(&stopped))
    });
    record(a, graded, group, outcome, note.as_deref());
    Ok(Start {
        scenarios: names,
        port,
        pid,
        pgid,
        problem: None,
        stopped,
    })
}

type RunOutcome = Result<Result<crate::report::RunReport, SetupError>, tokio::time::error::Elapsed>;

/// Gives the scenarios of `group` the verdicts of a run: each earns its
/// points or none; `note` (how the program ended) goes with each failure.
fn record(
    a: &Assignment,
    graded: &mut [GradedScenario],
    group: &[usize],
    outcome: RunOutcome,
    note: Option<&str>,
) {
    match outcome {
        Ok(Ok(run)) => {
            for r in run.scenarios {
                let Some(g) = graded.iter_mut().find(|g| g.result.id == r.id) else {
                    continue;
                };
                g.passed = r.failure.is_none();
                g.score = if g.passed { g.max_score } else { 0.0 };
                // The file as the grading shows it (see `Shown`), not
                // its copy in the scratch folder.
                let file = std::mem::take(&mut g.result.file);
                g.result = r;
                g.result.file = file;
                g.result.points = Some(g.max_score);
                g.result.earned = Some(g.score);
                // Whatever its level or kind (a SHOULD, a scenario that
                // could not be judged for want of what the lab asks), a
                // scenario that cost points failed the grade.
                if !g.passed && g.max_score > 0.0 {
                    g.result.outcome = Outcome::Failed;
                }
                if !g.passed {
                    if let Some(n) = note {
                        g.note = Some(n.to_string());
                    }
                }
            }
        }
        Ok(Err(e)) => {
            for &i in group {
                fail(
                    &mut graded[i],
                    &format!("The grader could not run this scenario: {e}"),
                );
            }
        }
        Err(_) => {
            for &i in group {
                fail(
                    &mut graded[i],
                    &format!(
                        "Not finished: grading this submission took longer than its limit of {}.",
                        humantime::format_duration(a.total_time)
                    ),
                );
            }
        }
    }
}

/// A client lab: every scenario runs the program (the client section's
/// command is the start command, in the submission's folder, under the
/// assignment's limits) against the scenario's own peer. The client under
/// test's machinery (`crate::peer::client`) kills what it started when
/// the scenario is judged.
async fn run_clients(
    a: &Assignment,
    features: &Path,
    workdir: &Path,
    command: &str,
    env: &[(String, String)],
    graded: &mut [GradedScenario],
    started: Instant,
) -> Result<(), SetupError> {
    let profile = a
        .client_profile(command, workdir)
        .map_err(|e| SetupError(format!("assignment {}: {e}", a.name)))?;
    let ids = graded.iter().map(|g| g.result.id.clone()).collect();
    let mut opts = run_options(a, features, profile, ids, PARALLEL_STARTS);
    opts.client_sandbox = crate::peer::client::Sandbox {
        limits: a.limits,
        output: a.output_bytes,
        env: env.to_vec(),
    };
    let left = (started + a.total_time).saturating_duration_since(Instant::now());
    let outcome = tokio::time::timeout(left, runner::run(&opts)).await;
    let all: Vec<usize> = (0..graded.len()).collect();
    record(a, graded, &all, outcome, None);
    Ok(())
}

/// Waits until the program's processes have opened every wanted port.
async fn wait_bound(
    p: &mut Program,
    wanted: &[(Transport, u16)],
    timeout: Duration,
    cmd: &str,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let want: BTreeSet<(Transport, u16)> = wanted.iter().copied().collect();
    let mut seen = BTreeSet::new();
    loop {
        if let Some(how) = p.ended() {
            return Err(format!(
                "Your program (`{cmd}`) {how} before it opened {}, so no scenario could run.",
                ports::describe(&want)
            ));
        }
        let pids = p.processes(false);
        match ports::opened_by(&pids) {
            Some(open) => {
                if want.is_subset(&open) {
                    return Ok(());
                }
                seen = open;
            }
            None => {
                // No /proc: TCP ports by connecting, UDP by a short grace.
                let mut all = true;
                for (t, port) in &want {
                    all &= match t {
                        Transport::Tcp => {
                            std::net::TcpStream::connect(("127.0.0.1", *port)).is_ok()
                        }
                        Transport::Udp => false,
                    };
                }
                if all {
                    return Ok(());
                }
                if want.iter().all(|(t, _)| *t == Transport::Udp) {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    return Ok(());
                }
            }
        }
        if Instant::now() >= deadline {
            let limit = humantime::format_duration(timeout);
            return Err(if seen.is_empty() {
                format!(
                    "Your program (`{cmd}`) did not open {} within {limit}, so no scenario could run. \
                     A server must open its port as soon as it starts.",
                    ports::describe(&want)
                )
            } else {
                format!(
                    "Your program (`{cmd}`) opened {} but not {}: it must use the port it is given \
                     on its command line (here {}), not a fixed one.",
                    ports::describe(&seen),
                    ports::describe(&want),
                    want.iter().next().map(|(_, p)| *p).unwrap_or_default()
                )
            });
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// `\n\nIts output …` with what the program printed, if anything.
fn output_excerpt(s: &Stopped) -> String {
    let mut out = String::new();
    for (name, text) in [
        ("standard error", &s.stderr),
        ("standard output", &s.stdout),
    ] {
        let text = text.trim_end();
        if text.is_empty() {
            continue;
        }
        let tail: String = if text.len() > 1500 {
            let cut = text.len() - 1500;
            let cut = (cut..text.len())
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(cut);
            format!("…{}", &text[cut..])
        } else {
            text.to_string()
        };
        out.push_str(&format!("\n\nIts {name}:\n{tail}"));
    }
    out
}

fn fail(g: &mut GradedScenario, msg: &str) {
    g.passed = false;
    g.score = 0.0;
    g.note = Some(msg.to_string());
    g.result.earned = Some(0.0);
    if g.result.failure.is_none() {
        g.result.failure = Some(Failure::harness(msg.lines().next().unwrap_or(msg)));
        // It costs points: a failure of the grade, not of the grader.
        g.result.outcome = Outcome::Failed;
    }
}

/// Every scenario that has not run yet gets zero with `msg`.
fn fail_all(graded: &mut [GradedScenario], msg: &str) {
    // Not run yet: neither passed nor failed.
    for g in graded
        .iter_mut()
        .filter(|g| !g.passed && g.result.failure.is_none())
    {
        fail(g, msg);
    }
}

/// Copies the assignment's feature files into `dest/<protocol>/`, so that
/// suites from the features folder and files next to the assignment run as
/// one. A suite path is looked up next to the assignment, then in
/// `--features DIR`, then in the bundled suites (`features/<path>`).
/// The feature files of a grading, copied into its scratch folder
/// (`dest/<protocol>/<name>`), and the path each is shown by: a bundled
/// suite's `features/<protocol>/<file>.feature`, a lab's own file by the
/// path it was found at (next to the assignment, or below `--features`).
#[derive(Debug, Default)]
struct Shown(Vec<(String, String)>);

impl Shown {
    /// The path `copied` (relative to the scratch folder's features) is
    /// shown by.
    fn file(&self, copied: &str) -> String {
        self.0
            .iter()
            .find(|(c, _)| c == copied)
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| copied.to_string())
    }

    /// `text` with each line that starts with a copied path (`file:line: …`,
    /// as the step check reports) starting with its shown path instead.
    fn lines(&self, text: &str) -> String {
        text.lines()
            .map(|l| {
                self.0
                    .iter()
                    .find_map(|(c, s)| {
                        l.strip_prefix(c.as_str())
                            .filter(|rest| rest.starts_with(':'))
                            .map(|rest| format!("{s}{rest}"))
                    })
                    .unwrap_or_else(|| l.to_string())
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// `timeout.feature` for `./timeout.feature`.
fn shown_path(file: &Path) -> String {
    file.strip_prefix(".").unwrap_or(file).display().to_string()
}

fn gather_features(
    a: &Assignment,
    features: Option<&Path>,
    dest: &Path,
) -> Result<Shown, SetupError> {
    // (name, text, protocol from the folder if the feature has no tag)
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    for p in &a.paths {
        let local = a.base.join(p);
        let given = features.map(|f| f.join(p)).filter(|f| f.exists());
        let path = if local.exists() { Some(local) } else { given };
        if let Some(path) = path {
            let mut found = Vec::new();
            if path.is_dir() {
                collect_features(&path, &mut found)
                    .map_err(|e| SetupError(format!("cannot read {}: {e}", path.display())))?;
            } else {
                found.push(path);
            }
            for file in found {
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| SetupError(format!("cannot read {}: {e}", file.display())))?;
                files.push((file, text));
            }
            continue;
        }
        let inside = format!("features/{}", p.trim_matches('/'));
        let bundled: Vec<_> = match crate::bundle::file(&inside) {
            Some(text) => vec![(inside.as_str(), text)],
            None => crate::bundle::below(&inside).collect(),
        };
        if bundled.is_empty() {
            return Err(SetupError(format!(
                "assignment {}: suite path {p} is neither next to the assignment{} nor a bundled suite",
                a.name,
                features
                    .map(|f| format!(", in {},", f.display()))
                    .unwrap_or_default()
            )));
        }
        files.extend(
            bundled
                .into_iter()
                .map(|(name, text)| (PathBuf::from(name), text.to_string())),
        );
    }
    let mut shown = Shown::default();
    for (i, (file, text)) in files.iter().enumerate() {
        let proto = file
            .parent()
            .and_then(|d| d.file_name())
            .and_then(|n| Protocol::parse(&n.to_string_lossy()))
            .unwrap_or(a.protocols[0]);
        let dir = dest.join(proto.name());
        std::fs::create_dir_all(&dir).map_err(|e| SetupError(e.to_string()))?;
        let name = file.file_name().map(PathBuf::from).unwrap_or_default();
        let mut to = dir.join(&name);
        if to.exists() {
            to = dir.join(format!("{i}-{}", name.display()));
        }
        std::fs::write(&to, text)
            .map_err(|e| SetupError(format!("cannot copy {}: {e}", file.display())))?;
        if let Ok(rel) = to.strip_prefix(dest) {
            shown.0.push((rel.display().to_string(), shown_path(file)));
        }
    }
    Ok(shown)
}

fn collect_features(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect_features(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "feature") {
            out.push(p);
        }
    }
    Ok(())
}

/// The assignment's scenarios, each with its criterion, points and
/// visibility, all not yet run.
fn select(
    a: &Assignment,
    features: &Path,
    shown: &Shown,
) -> Result<Vec<GradedScenario>, SetupError> {
    let suites = suite::load(features).map_err(SetupError)?;
    let selection = Selection {
        protocols: a.protocols.clone(),
        tags: runner::parse_tags(a.tags.as_deref())?,
        profile: a.profile(1).map_err(SetupError)?,
        only: None,
    };
    let selected = suites.select(&selection);
    if selected.is_empty() {
        return Err(SetupError(format!(
            "assignment {}: the suite paths and tags select no scenario",
            a.name
        )));
    }
    // With a rubric, exactly the scenarios it names are graded; without
    // one, every scenario the paths and tags select, at its own points.
    // Every step of those is defined, before any submission starts.
    let graded: Vec<_> = selected
        .iter()
        .filter(|(f, r, s)| {
            a.rubric.is_empty()
                || a.rubric_for(&suite::ScenarioMeta::of(features, f, *r, s))
                    .is_some()
        })
        .copied()
        .collect();
    crate::steps::registry::check(features, &graded)
        .map_err(|e| SetupError(format!("assignment {}: {}", a.name, shown.lines(&e))))?;
    let mut out = Vec::new();
    for (f, r, s) in selected {
        let meta = suite::ScenarioMeta::of(features, f, r, s);
        let entry = a.rubric_for(&meta);
        if entry.is_none() && !a.rubric.is_empty() {
            continue;
        }
        let own = meta.points.unwrap_or(a.default_points);
        let visibility = match entry {
            Some(e) => e.visibility().to_string(),
            None => "visible".to_string(),
        };
        let visibility = if visibility == "visible" && meta.tags.iter().any(|t| t == "hidden") {
            "after_published".to_string()
        } else {
            visibility
        };
        let criterion = entry
            .map(|e| e.criterion.clone())
            .unwrap_or_else(|| f.name.clone());
        out.push(GradedScenario {
            criterion,
            name: meta.name.clone(),
            title: meta.title.clone(),
            score: 0.0,
            max_score: own,
            hidden: visibility != "visible",
            visibility,
            passed: false,
            note: None,
            result: ScenarioResult {
                points: Some(own),
                file: shown.file(&meta.file),
                ..ScenarioResult::of(meta, &f.name, Outcome::Error)
            },
        });
    }
    for entry in &a.rubric {
        for name in &entry.scenarios {
            if !out.iter().any(|g| {
                g.criterion == entry.criterion
                    && (&g.name == name || &g.result.id == name || &g.title == name)
            }) {
                return Err(SetupError(format!(
                    "assignment {}: rubric criterion \"{}\" names the scenario \"{name}\", which the suite paths and tags do not select",
                    a.name, entry.criterion
                )));
            }
        }
        // A criterion's points are its total, shared equally by the
        // scenarios it names (an outline's rows count one each).
        if let Some(total) = entry.points {
            let of = out
                .iter()
                .filter(|g| g.criterion == entry.criterion)
                .count();
            for g in out.iter_mut().filter(|g| g.criterion == entry.criterion) {
                g.max_score = total / of as f64;
                g.result.points = Some(g.max_score);
            }
        }
    }
    Ok(out)
}

/// Copies a submission folder (regular files and folders; links and other
/// special files are left out).
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let kind = e.file_type()?;
        let dest = to.join(e.file_name());
        if kind.is_dir() {
            copy_tree(&e.path(), &dest)?;
        } else if kind.is_file() {
            std::fs::copy(e.path(), dest)?;
        }
    }
    Ok(())
}
