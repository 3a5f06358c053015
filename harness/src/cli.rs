//! The `conform` command line (DESIGN.md "The command line" is the contract).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::protocol::Protocol;
use crate::report;
use crate::runner::{self, wait_for_signal, RunOptions, SetupError};
use crate::suite::{self, Selection};
use crate::target::{bundled, Profile};

#[derive(Parser)]
#[command(
    name = "conform",
    version,
    about = "Conformance tests and protocol fuzzing for HTTP, FTP, SMTP, POP3, IMAP, DNS and course socket servers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the suites against the bundled reference servers, or a target profile.
    Run(RunArgs),
    /// Run the bundled reference servers standalone.
    Serve(ServeArgs),
    /// Write the content the suites expect a target to hold, and a template profile.
    Fixtures {
        #[arg(long)]
        out: PathBuf,
    },
    /// List the scenarios a run would select.
    List(ListArgs),
    /// Fuzz a protocol's server with mutated messages, or replay a case file.
    Fuzz(FuzzArgs),
    /// Grade a student's program (or a folder of them) against an assignment.
    Grade(GradeArgs),
    /// Join the JSON reports of the shards of one run (`run --shard K/N
    /// --json`) into the report of the whole run.
    Merge(MergeArgs),
    /// Put the JSON reports of runs against several targets side by side:
    /// scenarios × targets, differences first.
    Compare(CompareArgs),
    /// Which RFC requirements the suites cover, per section (with a run's
    /// verdicts from its JSON report).
    Coverage(CoverageArgs),
    /// List every step definition with its meaning and an example.
    Steps(StepsArgs),
    /// Check feature files and assignments without connecting anywhere:
    /// they parse, and every step has exactly one definition.
    Check(CheckArgs),
}

#[derive(Args)]
struct StepsArgs {
    /// Only these sections: generic sockets http proxy smtp pop3 imap ftp dns.
    #[arg(value_parser = parse_section)]
    sections: Vec<String>,
    /// Only steps whose pattern, meaning or example contains WORD.
    #[arg(long, value_name = "WORD")]
    grep: Option<String>,
    /// Print the README's step tables (Markdown).
    #[arg(long, conflicts_with = "readme")]
    markdown: bool,
    /// Rewrite the generated step tables of this README in place.
    #[arg(long, value_name = "FILE")]
    readme: Option<PathBuf>,
}

#[derive(Args)]
struct CheckArgs {
    /// Folders or feature files to check (none: the bundled suites).
    paths: Vec<PathBuf>,
    /// Assignments to check too (file or bundled name), against the
    /// bundled suites and the folders given.
    #[arg(long, value_name = "FILE")]
    assignment: Vec<String>,
}

fn parse_section(s: &str) -> Result<String, String> {
    use crate::steps::registry::SECTIONS;
    SECTIONS
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(s))
        .map(|(k, _)| k.to_string())
        .ok_or_else(|| {
            format!(
                "unknown step section `{s}` (one of: {})",
                SECTIONS
                    .iter()
                    .map(|(k, _)| *k)
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        })
}

/// Where the feature files come from, for `run` and `list`.
#[derive(Args, Clone)]
struct FeatureArgs {
    /// A folder of feature files to run besides the bundled suites
    /// (repeatable). Its protocol tags decide each file's protocol; a file
    /// with the same protocol and file name as a bundled one replaces it.
    #[arg(long, value_name = "DIR")]
    features: Vec<PathBuf>,
    /// Leave the bundled suites out: only the --features folders.
    #[arg(long)]
    no_bundled: bool,
}

impl FeatureArgs {
    fn sources(self) -> Result<suite::Sources, SetupError> {
        suite::Sources::from_args(self.features, self.no_bundled).map_err(SetupError)
    }
}

#[derive(Args)]
struct MergeArgs {
    /// The shards' JSON reports.
    #[arg(required = true)]
    reports: Vec<PathBuf>,
    /// Write the merged JUnit report.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Write the merged JSON report.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the merged HTML report.
    #[arg(long)]
    html: Option<PathBuf>,
}

#[derive(Args)]
struct CompareArgs {
    /// The JSON reports (`conform run --json`), one per target; each is
    /// named by its file stem (`nginx.json` is column `nginx`).
    #[arg(required = true, num_args = 2..)]
    reports: Vec<PathBuf>,
    /// List every scenario, not only those whose verdicts differ.
    #[arg(long)]
    all: bool,
    /// Write the comparison as one HTML file.
    #[arg(long)]
    html: Option<PathBuf>,
}

#[derive(Args)]
struct CoverageArgs {
    /// Only the RFCs these protocols' scenarios cite (none: every suite).
    #[arg(value_parser = parse_protocol)]
    protocols: Vec<Protocol>,
    /// A run's JSON report (`conform run --json`): its scenarios, with their
    /// verdicts, instead of the suites'.
    #[arg(long, value_name = "RUN.json")]
    report: Option<PathBuf>,
    /// Only these RFCs (e.g. --rfc 5321; repeatable).
    #[arg(long, value_name = "N")]
    rfc: Vec<String>,
    /// A line per requirement under each section, with the scenarios.
    #[arg(long)]
    requirements: bool,
    /// Only the sections no scenario is bound to.
    #[arg(long)]
    uncovered: bool,
    /// A folder of RFC texts (rfcNNNN.txt): with --requirements, each
    /// requirement's sentence.
    #[arg(long, value_name = "DIR")]
    rfc_dir: Option<PathBuf>,
    /// Write the coverage as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the coverage as one HTML file.
    #[arg(long)]
    html: Option<PathBuf>,
    #[command(flatten)]
    features: FeatureArgs,
}

fn coverage(a: CoverageArgs) -> Result<i32, SetupError> {
    use report::coverage::{self, Bound};
    let mut bound = match &a.report {
        Some(path) => Bound::from_report(&report::merge::read(path).map_err(SetupError)?),
        None => {
            let suites = suite::load_sources(&a.features.sources()?).map_err(SetupError)?;
            let root = suites.root.clone();
            let mut all = Vec::new();
            for f in &suites.features {
                for s in &f.scenarios {
                    all.push(Bound::from_meta(&suite::ScenarioMeta::of(
                        &root, f, None, s,
                    )));
                }
                for r in &f.rules {
                    for s in &r.scenarios {
                        all.push(Bound::from_meta(&suite::ScenarioMeta::of(
                            &root,
                            f,
                            Some(r),
                            s,
                        )));
                    }
                }
            }
            all
        }
    };
    if !a.protocols.is_empty() {
        bound.retain(|b| a.protocols.iter().any(|p| p.name() == b.protocol));
    }
    if let Some(dir) = &a.rfc_dir {
        if !dir.is_dir() {
            return Err(SetupError(format!(
                "--rfc-dir {}: not a folder",
                dir.display()
            )));
        }
    }
    let rfcs: Vec<String> = a
        .rfc
        .iter()
        .map(|r| {
            r.trim_start_matches("rfc")
                .trim_start_matches("RFC")
                .to_string()
        })
        .collect();
    let c = coverage::build(&coverage::Index::bundled(), &bound, &rfcs);
    if c.rfcs.is_empty() {
        return Err(SetupError(
            "no scenario cites the RFCs asked for".to_string(),
        ));
    }
    if let Some(path) = &a.json {
        let text = serde_json::to_string_pretty(&c).map_err(|e| SetupError(e.to_string()))?;
        write_file(path, &text)?;
    }
    if let Some(path) = &a.html {
        write_file(path, &report::html::render_coverage(&c))?;
    }
    print!(
        "{}",
        coverage::render_text(&c, a.requirements, a.uncovered, a.rfc_dir.as_deref())
    );
    Ok(0)
}

/// The JSON reports of runs, each with the path it was read from.
fn read_reports(paths: &[PathBuf]) -> Result<Vec<(String, report::RunReport)>, SetupError> {
    paths
        .iter()
        .map(|p| {
            Ok((
                p.display().to_string(),
                report::merge::read(p).map_err(SetupError)?,
            ))
        })
        .collect()
}

/// Prints the comparison; exit 0 (a comparison judges no one), 2 when a
/// report cannot be read.
fn compare(a: CompareArgs) -> Result<i32, SetupError> {
    let parts = read_reports(&a.reports)?;
    let m = report::compare::build(&parts).map_err(SetupError)?;
    if let Some(path) = &a.html {
        write_file(path, &report::html::render_compare(&m))?;
    }
    print!("{}", report::compare::render_text(&m, a.all));
    Ok(0)
}

/// Joins shard reports; prints the whole run's problems and totals, and exits
/// as the whole run would have.
fn merge(a: MergeArgs) -> Result<i32, SetupError> {
    let parts = read_reports(&a.reports)?;
    let report = report::merge::merge(parts).map_err(SetupError)?;
    finish_run(
        &report,
        a.junit.as_deref(),
        a.json.as_deref(),
        a.html.as_deref(),
    )
}

/// Writes the run's JUnit, JSON and HTML reports where asked, prints the problems
/// and totals, and gives the run's exit code (`run` and `merge`).
fn finish_run(
    report: &report::RunReport,
    junit: Option<&std::path::Path>,
    json: Option<&std::path::Path>,
    html: Option<&std::path::Path>,
) -> Result<i32, SetupError> {
    if let Some(path) = html {
        let cov = report::coverage::build(
            &report::coverage::Index::bundled(),
            &report::coverage::Bound::from_report(report),
            &[],
        );
        write_file(
            path,
            &report::html::render(report, Some(&report::coverage::render_html(&cov))),
        )?;
    }
    if let Some(path) = junit {
        write_file(path, &report::junit::render(report))?;
    }
    if let Some(path) = json {
        write_file(path, &report::json::render(report))?;
    }
    report::console::print(report);
    Ok(report.exit_code())
}

#[derive(Args)]
struct FuzzArgs {
    /// The protocol to fuzz.
    #[arg(value_parser = parse_protocol, required_unless_present = "replay", conflicts_with = "replay")]
    protocol: Option<Protocol>,
    /// Target profile (TOML). Without it, the bundled reference server is started.
    #[arg(long)]
    target: Option<PathBuf>,
    /// Stop after this many cases (default 1000 unless --duration is given).
    #[arg(long, conflicts_with = "duration")]
    cases: Option<u64>,
    /// Stop after this long, e.g. 10s or 2m.
    #[arg(long, value_parser = humantime::parse_duration)]
    duration: Option<Duration>,
    /// Seed of the case generator: the same seed sends the same cases
    /// (default: drawn from the clock and printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Write a JUnit XML report here (one testcase per oracle).
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Send the session of a case file (e.g. a regression) once and judge it.
    #[arg(long, value_name = "FILE")]
    replay: Option<PathBuf>,
    /// How long a reply may take.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    reply_timeout: Duration,
    /// Corpus folder: seeds from <corpus>/<protocol>/ besides the built-in
    /// ones, findings written to <corpus>/<protocol>/regressions/ (without
    /// it, findings go to ./corpus/<protocol>/regressions/).
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Do not write regression files for a finding.
    #[arg(long)]
    no_save: bool,
    /// Part K of N of one campaign over several machines (e.g. 2/4): each
    /// part draws from its own seed derived from --seed (part 1 uses --seed
    /// itself), so the parts never repeat each other's cases.
    #[arg(long, value_parser = suite::Shard::parse, requires = "seed")]
    shard: Option<suite::Shard>,
    /// Sessions run at once, each job drawing from its own seed derived
    /// from --seed (job 0 uses --seed itself); findings are reported once.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    jobs: u16,
    /// A campaign: go on after a finding; findings are told apart by oracle
    /// and minimized case, and each is written once.
    #[arg(long)]
    keep_going: bool,
    /// Known findings (TOML: `[[known]]` with oracle, case signature or
    /// message words, and reason): counted, never ending the run.
    #[arg(long, value_name = "FILE")]
    known: Option<PathBuf>,
    /// No progress line.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["submission", "command", "submissions"])))]
struct GradeArgs {
    /// Assignment file (TOML), or a bundled assignment: udp-upper, tcp-upper, web-server, web-proxy, smtp-server, pop3-server, ftp-server, dns-server, udp-client, tcp-client, mail-client.
    #[arg(long)]
    assignment: String,
    /// The submission: a folder, copied to a scratch folder, built and started there.
    #[arg(long)]
    submission: Option<PathBuf>,
    /// The submission as a command to start (with {port}), in the current folder.
    #[arg(long)]
    command: Option<String>,
    /// Batch mode: grade every folder in this folder (needs --out).
    #[arg(long)]
    submissions: Option<PathBuf>,
    /// Write a JUnit XML report here.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Write Gradescope's results.json here.
    #[arg(long)]
    results: Option<PathBuf>,
    /// Report folder: summary.txt, results.json, junit.xml and grade.json (in
    /// batch mode, one folder per submission and the gradebook).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Batch mode: how many submissions are graded at once.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// A folder of feature files where the assignment's suite paths are
    /// looked up before the bundled suites.
    #[arg(long, value_name = "DIR")]
    features: Option<PathBuf>,
    /// Print only the summary.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args)]
struct RunArgs {
    /// Protocols to test (http ftp smtp pop3 imap dns sockets, and the client
    /// suites sockets-client smtp-client http-client, and proxy); none means all.
    #[arg(value_parser = parse_protocol)]
    protocols: Vec<Protocol>,
    /// Target profile (TOML). Without it, the bundled reference servers are started.
    #[arg(long)]
    target: Option<PathBuf>,
    /// Cucumber tag expression, e.g. "@MUST and not @slow".
    #[arg(long)]
    tags: Option<String>,
    /// Write a JUnit XML report here.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Write a JSON report here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write an HTML report here: one self-contained file with a summary,
    /// filters, and every scenario's requirement, expected, got and transcript.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Count @SHOULD failures as failures, not warnings.
    #[arg(long)]
    strict: bool,
    /// How many scenarios run at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Bound on every network wait in a step (a scenario's @timeout(…) tag overrides it).
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    step_timeout: Duration,
    /// Bound on the whole run: after it no scenario starts, the steps under
    /// way end, their cleanups run, and the run exits 1 (0s: no bound).
    #[arg(long, default_value = "30m", value_parser = humantime::parse_duration)]
    run_timeout: Duration,
    /// Cut the TCP traffic differently: split (every write as 1-byte
    /// segments), coalesce (a step's writes in one segment), slow-read
    /// (the server's bytes read a few at a time); none is the default.
    #[arg(long, default_value = "none", value_parser = crate::wire::Perturb::parse)]
    perturb: crate::wire::Perturb,
    #[command(flatten)]
    features: FeatureArgs,
    /// Run only part K of N of the selected scenarios (e.g. 2/4), chosen by
    /// stable id; `conform merge` joins the parts' JSON reports.
    #[arg(long, value_parser = suite::Shard::parse)]
    shard: Option<suite::Shard>,
    /// Progress lines only for the scenarios that did not pass or skip.
    #[arg(long)]
    only_failures: bool,
    /// Print only the summary, not a line per scenario.
    #[arg(long, short)]
    quiet: bool,
    /// Declared deviations of the target (TOML: [[deviation]] id, reason,
    /// link): a listed scenario that does not hold is reported as a declared
    /// deviation, not a failure.
    #[arg(long, value_name = "FILE")]
    deviations: Option<PathBuf>,
    /// With --deviations: a declared deviation that no longer occurs fails the
    /// run until it is removed from the file.
    #[arg(long, requires = "deviations")]
    ratchet: bool,
    /// Write every scenario that did not hold as a deviations file (a
    /// starting list to edit).
    #[arg(long, value_name = "FILE")]
    write_deviations: Option<PathBuf>,
}

#[derive(Args)]
struct ServeArgs {
    #[arg(value_parser = parse_protocol)]
    protocols: Vec<Protocol>,
    /// Write a target profile describing the running servers.
    #[arg(long)]
    profile_out: Option<PathBuf>,
    /// Address to listen on: an IP (ephemeral ports), or IP:PORT for a single protocol.
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
}

#[derive(Args)]
struct ListArgs {
    #[arg(value_parser = parse_protocol)]
    protocols: Vec<Protocol>,
    #[arg(long)]
    tags: Option<String>,
    #[command(flatten)]
    features: FeatureArgs,
}

fn parse_protocol(s: &str) -> Result<Protocol, String> {
    Protocol::parse(s).ok_or_else(|| {
        format!(
            "unknown protocol `{s}` (one of: {})",
            Protocol::ALL.map(|p| p.name()).join(" ")
        )
    })
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("conform: cannot start the async runtime: {e}");
            return 2;
        }
    };
    let result = rt.block_on(async {
        match cli.command {
            Command::Run(a) => run(a).await,
            Command::Serve(a) => serve(a).await,
            Command::Fixtures { out } => {
                crate::fixtures::write(&out).map(|()| 0).map_err(SetupError)
            }
            Command::List(a) => list(a),
            Command::Fuzz(a) => fuzz(a).await,
            Command::Grade(a) => grade(a).await,
            Command::Steps(a) => steps(a),
            Command::Check(a) => check(a),
            Command::Merge(a) => merge(a),
            Command::Compare(a) => compare(a),
            Command::Coverage(a) => coverage(a),
        }
    });
    // Servers started in-process must not keep the process alive.
    rt.shutdown_timeout(Duration::from_millis(200));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("conform: {e}");
            2
        }
    }
}

async fn run(a: RunArgs) -> Result<i32, SetupError> {
    let deviations = a
        .deviations
        .as_deref()
        .map(report::deviations::Deviations::load)
        .transpose()
        .map_err(SetupError)?;
    let opts = RunOptions {
        protocols: a.protocols,
        target: a.target,
        tags: a.tags,
        strict: a.strict,
        concurrency: a.concurrency,
        step_timeout: a.step_timeout,
        features: a.features.sources()?,
        progress: !a.quiet,
        only_failures: a.only_failures,
        profile: None,
        preflight: true,
        only: None,
        deviations,
        ratchet: a.ratchet,
        shard: a.shard,
        perturb: a.perturb,
        run_timeout: (!a.run_timeout.is_zero()).then_some(a.run_timeout),
        catch_signals: true,
        client_sandbox: Default::default(),
    };
    let report = runner::run(&opts).await?;
    if let Some(path) = &a.write_deviations {
        write_file(path, &report::deviations::render_current(&report))?;
    }
    finish_run(
        &report,
        a.junit.as_deref(),
        a.json.as_deref(),
        a.html.as_deref(),
    )
}

async fn grade(a: GradeArgs) -> Result<i32, SetupError> {
    use crate::grade::{self, assignment::Assignment, feedback, Submission};
    let assignment = Assignment::load(&a.assignment).map_err(SetupError)?;
    let features = a.features;
    if let Some(folder) = a.submissions {
        // The assignment is checked before any submission starts.
        grade::check_assignment(&assignment, features.as_deref())?;
        let Some(out) = a.out else {
            return Err(SetupError(
                "--submissions needs --out DIR for the reports and the gradebook".into(),
            ));
        };
        let opts = grade::batch::BatchOptions {
            assignment: a.assignment,
            folder,
            out,
            jobs: a.jobs,
            features,
            limit: assignment.total_time + assignment.build_time + Duration::from_secs(60),
        };
        return grade::batch::run(&opts).await;
    }
    let submission = match (a.submission, a.command) {
        (Some(dir), _) => Submission::Folder(dir),
        (None, Some(cmd)) => Submission::Command(cmd),
        (None, None) => unreachable!("clap requires one of them"),
    };
    let opts = grade::GradeOptions {
        assignment,
        submission,
        features,
        progress: !a.quiet,
    };
    let report = tokio::select! {
        r = grade::grade(&opts) => r?,
        _ = wait_for_signal() => {
            grade::sandbox::kill_everything();
            return Err(SetupError(
                "interrupted; every process of the submission was killed".into(),
            ));
        }
    };
    let summary = feedback::summary(&report);
    if let Some(dir) = &a.out {
        write_file(&dir.join("summary.txt"), &summary)?;
        write_file(
            &dir.join("results.json"),
            &feedback::gradescope(&report, &opts.assignment.gradescope),
        )?;
        write_file(&dir.join("junit.xml"), &feedback::junit(&report))?;
        write_file(&dir.join("grade.json"), &feedback::full_json(&report))?;
    }
    if let Some(path) = &a.junit {
        write_file(path, &feedback::junit(&report))?;
    }
    if let Some(path) = &a.results {
        write_file(
            path,
            &feedback::gradescope(&report, &opts.assignment.gradescope),
        )?;
    }
    if !a.quiet {
        println!();
    }
    print!("{summary}");
    Ok(report.exit_code())
}

fn write_file(path: &std::path::Path, content: &str) -> Result<(), SetupError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| SetupError(format!("cannot create {}: {e}", dir.display())))?;
    }
    std::fs::write(path, content)
        .map_err(|e| SetupError(format!("cannot write {}: {e}", path.display())))
}

async fn serve(a: ServeArgs) -> Result<i32, SetupError> {
    // The client suites' bundled clients are not servers to serve.
    let protocols: Vec<Protocol> = if a.protocols.is_empty() {
        bundled::available()
    } else {
        a.protocols
    }
    .into_iter()
    .filter(|p| !p.is_client())
    .collect();
    if protocols.is_empty() {
        return Err(SetupError(
            "serve runs servers; the client suites have none to serve".into(),
        ));
    }
    let bind: SocketAddr = match a.bind.parse::<IpAddr>() {
        Ok(ip) => SocketAddr::new(ip, 0),
        Err(_) => a
            .bind
            .parse()
            .map_err(|_| SetupError(format!("--bind {}: not an IP or IP:PORT", a.bind)))?,
    };
    if bind.port() != 0 && protocols.len() != 1 {
        return Err(SetupError(
            "--bind with a port serves exactly one protocol".into(),
        ));
    }
    let running = bundled::start_at(&protocols, bind)
        .await
        .map_err(|e| SetupError(format!("cannot start: {e}")))?;
    for line in bundled::describe(&running.profile) {
        println!("{line}");
    }
    if let Some(path) = &a.profile_out {
        let mut text = String::from(
            "# Target profile for the conform reference servers started by `conform serve`.\n\n",
        );
        text.push_str(&running.profile.to_toml());
        write_file(path, &text)?;
        eprintln!("profile written to {}", path.display());
    }
    eprintln!("serving; stop with Ctrl-C or SIGTERM");
    wait_for_signal().await;
    Ok(0)
}

/// The profile to use: `--target`, or the bundled server of `protocol`
/// (returned too, to keep it running).
async fn target_for(
    protocol: Protocol,
    target: &Option<PathBuf>,
) -> Result<(Profile, Option<bundled::Bundled>), SetupError> {
    match target {
        Some(path) => {
            let p = Profile::load(path).map_err(|e| SetupError(e.0))?;
            p.validate().map_err(|e| SetupError(e.0))?;
            if !p.has(protocol) {
                return Err(SetupError(format!(
                    "target profile {} has no [{protocol}] section",
                    p.source
                )));
            }
            Ok((p, None))
        }
        None => {
            if !bundled::available().contains(&protocol) {
                return Err(SetupError(format!(
                    "there is no bundled reference server for {protocol}; give an external one with --target FILE"
                )));
            }
            let b = bundled::start(&[protocol], bundled::loopback())
                .await
                .map_err(|e| SetupError(format!("cannot start the bundled server: {e}")))?;
            // The bundled SMTP, POP3 and IMAP servers say STARTTLS: the
            // fuzzer's sessions upgrade as the suites' do.
            let profile = b.profile.clone();
            Ok((profile, Some(b)))
        }
    }
}

async fn fuzz(a: FuzzArgs) -> Result<i32, SetupError> {
    use crate::fuzz;
    if let Some(file) = &a.replay {
        let text = std::fs::read_to_string(file)
            .map_err(|e| SetupError(format!("cannot read {}: {e}", file.display())))?;
        let case =
            fuzz::Case::parse(&text).map_err(|e| SetupError(format!("{}: {e}", file.display())))?;
        let protocol = Protocol::parse(&case.protocol).ok_or_else(|| {
            SetupError(format!(
                "{}: unknown protocol `{}`",
                file.display(),
                case.protocol
            ))
        })?;
        let plugin = fuzz::plugin(protocol)
            .ok_or_else(|| SetupError(format!("there is no fuzz module for {protocol} yet")))?;
        let (profile, _bundled) = target_for(protocol, &a.target).await?;
        let timeout = a.reply_timeout;
        let replay = tokio::task::spawn_blocking(move || {
            fuzz::engine::replay(plugin, &profile, case, timeout)
        })
        .await
        .map_err(|e| SetupError(format!("the fuzzer failed: {e}")))?
        .map_err(SetupError)?;
        println!("replay {}:", file.display());
        for line in replay.case.to_text_short(200).lines() {
            println!("    {line}");
        }
        return Ok(match replay.violation {
            None => {
                println!("passed: every oracle held");
                0
            }
            Some(v) => {
                println!("FAILED (reproduced): {v}");
                if !replay.transcript.is_empty() {
                    println!("transcript:");
                    for line in replay.transcript.lines() {
                        println!("    {line}");
                    }
                }
                1
            }
        });
    }
    let Some(protocol) = a.protocol else {
        return Err(SetupError("give a PROTOCOL or --replay FILE".into()));
    };
    let plugin = fuzz::plugin(protocol).ok_or_else(|| {
        SetupError(format!(
            "there is no fuzz module for {protocol} yet (available: {})",
            fuzz::available()
                .iter()
                .map(|p| p.name())
                .collect::<Vec<_>>()
                .join(" ")
        ))
    })?;
    let (profile, _bundled) = target_for(protocol, &a.target).await?;
    let seed = a.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default()
    });
    let seed = match a.shard {
        Some(sh) if sh.k > 1 => {
            // Outside the jobs' seeds of the campaign (job_seed(seed, j)),
            // so part K's jobs and part 1's jobs draw different cases.
            let part =
                fuzz::engine::job_seed(seed.rotate_left(32) ^ 0x7368_6172_6421, sh.k as usize);
            println!(
                "fuzz: part {}/{} of the campaign with seed {seed}: seed {part}",
                sh.k, sh.n
            );
            part
        }
        _ => seed,
    };
    let known = match &a.known {
        None => fuzz::Known::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| SetupError(format!("cannot read {}: {e}", path.display())))?;
            fuzz::Known::parse(&text).map_err(|e| SetupError(format!("{}: {e}", path.display())))?
        }
    };
    let opts = fuzz::FuzzOptions {
        cases: a.cases,
        duration: a.duration,
        seed,
        keep_going: a.keep_going,
        jobs: usize::from(a.jobs),
        known,
        reply_timeout: a.reply_timeout,
        ..fuzz::FuzzOptions::default()
    };
    let seeds = fuzz::corpus::campaign_seeds(plugin.as_ref(), a.corpus.as_deref(), None, true);
    // Findings go to --corpus, else ./corpus.
    let regressions =
        (!a.no_save).then(|| a.corpus.clone().unwrap_or_else(|| PathBuf::from("corpus")));
    let progress = !a.quiet;
    let report = tokio::task::spawn_blocking(move || {
        let mut campaign = fuzz::report::Campaign::new(plugin.as_ref(), regressions, progress);
        let report = fuzz::run(plugin.clone(), &profile, seeds, &opts, &mut campaign);
        campaign.done();
        report
    })
    .await
    .map_err(|e| SetupError(format!("the fuzzer failed: {e}")))?
    .map_err(SetupError)?;
    if let Some(path) = &a.junit {
        write_file(path, &fuzz::report::junit(&report))?;
    }
    print!("{}", fuzz::report::summary(&report));
    Ok(if report.finding().is_some() { 1 } else { 0 })
}

fn list(a: ListArgs) -> Result<i32, SetupError> {
    let suites = suite::load_sources(&a.features.sources()?).map_err(SetupError)?;
    let root = suites.root.clone();
    let tags = runner::parse_tags(a.tags.as_deref())?;
    // Listing does not need a target: every section (for @needs-PROTO) and
    // every optional part counts as present.
    let mut profile = Profile::new("list");
    for p in Protocol::ALL {
        profile.set(p.name(), "address", "-");
        for part in p.optional_parts() {
            profile.set(p.name(), part, "-");
        }
    }
    let protocols = if a.protocols.is_empty() {
        Protocol::ALL.to_vec()
    } else {
        a.protocols
    };
    let selected = suites.select(&Selection {
        protocols,
        tags,
        profile,
        only: None,
    });
    crate::steps::registry::check(&root, &selected).map_err(SetupError)?;
    for (f, r, s) in &selected {
        let meta = suite::ScenarioMeta::of(&root, f, *r, s);
        let level = if meta.level.is_empty() {
            "MUST"
        } else {
            meta.level.as_str()
        };
        let rfc = meta
            .rfc
            .iter()
            .map(|r| format!("RFC{r}"))
            .collect::<Vec<_>>()
            .join(",");
        // A closed pipe (`conform list | head`) ends the listing, not a panic.
        use std::io::Write as _;
        if writeln!(
            std::io::stdout().lock(),
            "{}\t{}:{}\t{level}\t{rfc}\t{}",
            meta.id,
            meta.file,
            meta.line,
            meta.name
        )
        .is_err()
        {
            return Ok(0);
        }
    }
    eprintln!("{} scenario(s)", selected.len());
    Ok(if selected.is_empty() { 2 } else { 0 })
}

fn steps(a: StepsArgs) -> Result<i32, SetupError> {
    use crate::steps::registry;
    if let Some(path) = &a.readme {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SetupError(format!("cannot read {}: {e}", path.display())))?;
        let new = registry::readme_with_tables(&text)
            .map_err(|e| SetupError(format!("{}: {e}", path.display())))?;
        if new != text {
            write_file(path, &new)?;
            eprintln!("{}: step tables regenerated", path.display());
        } else {
            eprintln!("{}: step tables are current", path.display());
        }
        return Ok(0);
    }
    let text = if a.markdown {
        registry::markdown()
    } else {
        registry::listing(&a.sections, a.grep.as_deref())
    };
    use std::io::Write as _;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(if text.is_empty() { 1 } else { 0 })
}

/// `conform check [PATH…] [--assignment A…]`: every feature file parses and
/// every step of every scenario has exactly one definition; every
/// assignment selects scenarios, names only scenarios it selects, and has
/// no undefined step. Connects nowhere.
fn check(a: CheckArgs) -> Result<i32, SetupError> {
    if a.paths.is_empty() && !a.assignment.is_empty() {
        // Only assignments: each is checked with the features it selects
        // (the bundled suites and its own files), nothing else is said.
        return check_assignments(&a);
    }
    let mut dirs = Vec::new();
    let mut files = Vec::new();
    for p in &a.paths {
        if p.is_dir() {
            dirs.push(p.clone());
        } else if p.is_file() {
            files.push(p.clone());
        } else {
            return Err(SetupError(format!("{} does not exist", p.display())));
        }
    }
    let sources = suite::Sources {
        bundled: a.paths.is_empty(),
        dirs,
        relative_to: None,
    };
    let mut suites = suite::load_sources(&sources).map_err(SetupError)?;
    for f in &files {
        let feature = suite::load_file(f).map_err(SetupError)?;
        if suite::protocol_of(&feature).is_none() {
            return Err(SetupError(format!(
                "{}: the feature has no protocol tag (@http, @smtp, ...)",
                f.display()
            )));
        }
        suites.features.push(feature);
    }
    let all = suites.all();
    crate::steps::registry::check(&suites.root, &all).map_err(SetupError)?;
    println!(
        "{} feature file(s), {} scenario(s): every step has one definition",
        suites.features.len(),
        all.len()
    );
    check_assignments(&a)
}

fn check_assignments(a: &CheckArgs) -> Result<i32, SetupError> {
    for spec in &a.assignment {
        let assignment = crate::grade::assignment::Assignment::load(spec).map_err(SetupError)?;
        let features = a.paths.iter().find(|p| p.is_dir()).cloned();
        let n = crate::grade::check_assignment(&assignment, features.as_deref())?;
        println!(
            "assignment {}: {n} scenario(s), rubric and steps check",
            assignment.name
        );
    }
    Ok(0)
}
