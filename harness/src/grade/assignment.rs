//! The assignment file (TOML): which scenarios grade a submission, how to
//! build and start it, its limits, and the points of each scenario.
//!
//! ```toml
//! name = "udp-upper"
//! title = "UDP upper-casing server (UDPServer.py)"
//!
//! [suite]
//! protocols = ["sockets"]
//! paths = ["sockets/udp.feature"]  # below the features folder, or next to this file
//! tags = "@udp"                    # optional tag expression
//!
//! [submission]
//! build = "javac *.java"           # optional, run in the submission folder
//! start = "python3 UDPServer.py {port}"
//! bind_timeout = "3s"              # how long the program has to open its port
//! restart = "each-scenario"        # or "once": one start for all scenarios
//! step_timeout = "2s"
//!
//! [target]                         # the target profile the scenarios see
//! sockets = { udp = "127.0.0.1:{port}" }
//!
//! [limits]
//! cpu = "10s"          # CPU time per start (RLIMIT_CPU)
//! memory = "512MiB"    # address space (RLIMIT_AS)
//! processes = 32       # more processes than the user already runs (RLIMIT_NPROC)
//! file_size = "1MiB"   # largest file it may write (RLIMIT_FSIZE)
//! open_files = 64      # RLIMIT_NOFILE
//! output = "16KiB"     # stdout and stderr kept for feedback, each
//! build_time = "120s"  # wall time for the build
//! total_time = "300s"  # wall time for grading the whole submission
//!
//! [points]
//! default = 1          # for scenarios without @points(N) or a rubric entry
//!
//! [[rubric]]
//! criterion = "Exact upper-casing"
//! scenarios = ["A lowercase sentence comes back upper-cased"]
//! points = 2           # optional: overrides the scenarios' @points(N)
//! hidden = false       # hidden scenarios show only their name and points
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::protocol::Protocol;
use crate::target::Profile;

/// The assignments that ship with conform (`--assignment udp-upper`).
pub const BUNDLED: &[(&str, &str)] = &[
    (
        "udp-upper",
        include_str!("../../assignments/udp-upper.toml"),
    ),
    (
        "tcp-upper",
        include_str!("../../assignments/tcp-upper.toml"),
    ),
    (
        "web-server",
        include_str!("../../assignments/web-server.toml"),
    ),
    (
        "smtp-server",
        include_str!("../../assignments/smtp-server.toml"),
    ),
    (
        "pop3-server",
        include_str!("../../assignments/pop3-server.toml"),
    ),
    (
        "ftp-server",
        include_str!("../../assignments/ftp-server.toml"),
    ),
    (
        "dns-server",
        include_str!("../../assignments/dns-server.toml"),
    ),
    (
        "web-proxy",
        include_str!("../../assignments/web-proxy.toml"),
    ),
    (
        "udp-client",
        include_str!("../../assignments/udp-client.toml"),
    ),
    (
        "tcp-client",
        include_str!("../../assignments/tcp-client.toml"),
    ),
    (
        "mail-client",
        include_str!("../../assignments/mail-client.toml"),
    ),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    name: Option<String>,
    title: Option<String>,
    suite: SuiteSpec,
    submission: SubmissionSpec,
    target: toml::Table,
    #[serde(default)]
    limits: LimitsSpec,
    #[serde(default)]
    points: PointsSpec,
    #[serde(default)]
    rubric: Vec<RubricEntry>,
    #[serde(default)]
    gradescope: GradescopeSpec,
}

/// How `results.json` is written (Gradescope's autograder specification).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradescopeSpec {
    /// `output_format` of the top-level output and of every test:
    /// `text` (default), `md`, `html`, `simple_format` or `ansi`.
    pub output_format: Option<String>,
    /// Top-level `visibility` (default `visible`).
    pub visibility: Option<String>,
    /// `stdout_visibility` (default `hidden`).
    pub stdout_visibility: Option<String>,
    /// Write a leaderboard: the score, and the seconds grading took.
    #[serde(default)]
    pub leaderboard: bool,
}

/// Gradescope's visibility values.
pub const VISIBILITIES: &[&str] = &["visible", "hidden", "after_due_date", "after_published"];
/// Gradescope's output formats.
pub const OUTPUT_FORMATS: &[&str] = &["text", "md", "html", "simple_format", "ansi"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuiteSpec {
    protocols: Vec<String>,
    paths: Vec<String>,
    tags: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmissionSpec {
    build: Option<String>,
    start: String,
    bind_timeout: Option<String>,
    restart: Option<String>,
    step_timeout: Option<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsSpec {
    cpu: Option<String>,
    memory: Option<toml::Value>,
    processes: Option<u64>,
    file_size: Option<toml::Value>,
    open_files: Option<u64>,
    output: Option<toml::Value>,
    build_time: Option<String>,
    total_time: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PointsSpec {
    default: Option<f64>,
}

/// One line of the rubric: a behaviour the grader cares about and the
/// scenarios that check it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RubricEntry {
    pub criterion: String,
    /// Scenario names (an Examples row's name includes its values) or stable
    /// ids (`sockets/tcp/a-lowercase-sentence-comes-back-upper-cased`).
    pub scenarios: Vec<String>,
    /// The criterion's points, shared equally by its scenarios; without it,
    /// each scenario's `@points(N)`, else `[points] default`.
    pub points: Option<f64>,
    /// Shorthand for `visibility = "after_published"`: students see the
    /// criterion's name and points, not its details, until the grades are
    /// published.
    #[serde(default)]
    pub hidden: bool,
    /// Gradescope visibility of its tests: `visible` (default), `hidden`,
    /// `after_due_date`, `after_published`. Anything but `visible` also keeps
    /// the details out of the student-facing summary and JUnit.
    pub visibility: Option<String>,
}

impl RubricEntry {
    /// The Gradescope visibility of this criterion's tests.
    pub fn visibility(&self) -> &str {
        match (&self.visibility, self.hidden) {
            (Some(v), _) => v,
            (None, true) => "after_published",
            (None, false) => "visible",
        }
    }

    /// Whether it names the scenario `meta`: by its name, its stable id, or
    /// (every row of an outline) the outline's name.
    pub fn names(&self, meta: &crate::suite::ScenarioMeta) -> bool {
        self.scenarios
            .iter()
            .any(|s| *s == meta.name || *s == meta.id || *s == meta.title)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restart {
    /// A fresh start of the program for every scenario: one broken behaviour
    /// costs only the scenarios that check it.
    EachScenario,
    /// One start for all scenarios.
    Once,
}

/// Limits applied to the submission's processes (see `sandbox`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Limits {
    pub cpu_seconds: Option<u64>,
    pub memory_bytes: Option<u64>,
    pub processes: Option<u64>,
    pub file_size_bytes: Option<u64>,
    pub open_files: Option<u64>,
    /// The unprivileged user the programs run as (a grader running as
    /// root, see `sandbox::Identity`); never read from an assignment.
    pub run_as: Option<super::sandbox::Identity>,
}

impl Limits {
    /// The grader's limits where an assignment sets none: 10 s of CPU,
    /// 512 MiB of memory, 32 processes, 1 MiB files, 64 open files. A
    /// client under test (`crate::peer::client`) runs under the same.
    pub const fn grader() -> Limits {
        Limits {
            cpu_seconds: Some(10),
            memory_bytes: Some(512 << 20),
            processes: Some(32),
            file_size_bytes: Some(1 << 20),
            open_files: Some(64),
            run_as: None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Assignment {
    pub name: String,
    pub title: String,
    /// Where `paths` are looked up first: the assignment file's folder.
    pub base: PathBuf,
    pub protocols: Vec<Protocol>,
    pub paths: Vec<String>,
    pub tags: Option<String>,
    pub build: Option<String>,
    pub start: String,
    pub env: BTreeMap<String, String>,
    pub bind_timeout: Duration,
    pub step_timeout: Duration,
    pub restart: Restart,
    /// A client lab: the program is a client, `[target]` names its command
    /// as `{start}` in a client section, and each scenario runs it against
    /// the harness's peer (no start of its own, no port to wait for).
    pub client: bool,
    /// `section.key` → value with `{port}` (or `{start}`, a client lab).
    pub target: Vec<(String, String, String)>,
    pub limits: Limits,
    pub output_bytes: usize,
    pub build_time: Duration,
    pub total_time: Duration,
    pub default_points: f64,
    pub rubric: Vec<RubricEntry>,
    pub gradescope: GradescopeSpec,
}

impl Assignment {
    /// `FILE`, or the name of a bundled assignment.
    pub fn load(spec: &str) -> Result<Assignment, String> {
        let path = Path::new(spec);
        if path.is_file() {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read assignment {spec}: {e}"))?;
            let base = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf();
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            return Self::parse(&text, spec, &stem, base);
        }
        let name = spec.trim_end_matches(".toml");
        match BUNDLED.iter().find(|(n, _)| *n == name) {
            Some((n, text)) => Self::parse(text, n, n, bundled_dir()),
            None => Err(format!(
                "assignment {spec}: no such file, and not a bundled assignment (bundled: {})",
                BUNDLED
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    pub fn parse(
        text: &str,
        source: &str,
        stem: &str,
        base: PathBuf,
    ) -> Result<Assignment, String> {
        let bad = |what: String| format!("assignment {source}: {what}");
        let file: File = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut protocols = Vec::new();
        for p in &file.suite.protocols {
            protocols
                .push(Protocol::parse(p).ok_or_else(|| bad(format!("unknown protocol `{p}`")))?);
        }
        if protocols.is_empty() {
            return Err(bad("[suite] protocols is empty".into()));
        }
        if file.suite.paths.is_empty() {
            return Err(bad("[suite] paths is empty".into()));
        }
        if !file.submission.start.contains("{port}") && !file.submission.start.contains("{url}") {
            return Err(bad(
                "[submission] start must pass the port to the program: put {port} in it (a client lab: the peer's {port}, or an HTTP client's {url})".into(),
            ));
        }
        let dur = |field: &str, v: &Option<String>, default: u64| -> Result<Duration, String> {
            match v {
                None => Ok(Duration::from_secs(default)),
                Some(s) => {
                    humantime::parse_duration(s).map_err(|e| bad(format!("{field} = \"{s}\": {e}")))
                }
            }
        };
        let restart = match file.submission.restart.as_deref() {
            None | Some("each-scenario") => Restart::EachScenario,
            Some("once") => Restart::Once,
            Some(other) => {
                return Err(bad(format!(
                    "restart = \"{other}\": use \"each-scenario\" or \"once\""
                )))
            }
        };
        let mut target = Vec::new();
        for (section, value) in &file.target {
            let toml::Value::Table(keys) = value else {
                return Err(bad(format!("[target] {section} must be a table")));
            };
            for (key, v) in keys {
                let toml::Value::String(v) = v else {
                    return Err(bad(format!("[target] {section}.{key} must be a string")));
                };
                target.push((section.clone(), key.clone(), v.clone()));
            }
        }
        let client = target.iter().any(|(_, _, v)| v.contains("{start}"));
        if client {
            // The program is a client: the scenarios start it, with their
            // peer's {host} and {port}, from the client section's command.
            for (section, key, v) in &target {
                let is_client = Protocol::parse(section).is_some_and(|p| p.is_client());
                if v.contains("{start}") && !is_client {
                    return Err(bad(format!(
                        "[target] {section}.{key} = \"{v}\": {{start}} belongs in a client section ([sockets-client], [smtp-client], [http-client])"
                    )));
                }
                if v.contains("{port}") {
                    return Err(bad(format!(
                        "[target] {section}.{key} = \"{v}\": a client lab has no port of its own; the peer's {{port}} goes in [submission] start"
                    )));
                }
            }
        } else if !target.iter().any(|(_, _, v)| v.contains("{port}")) {
            return Err(bad(
                "[target] must put the submission's {port} in at least one address (a client lab: its command as {start} in a client section, e.g. sockets-client = { udp = \"{start}\" })".into(),
            ));
        }
        let l = &file.limits;
        let size = |field: &str, v: &Option<toml::Value>| -> Result<Option<u64>, String> {
            match v {
                None => Ok(None),
                Some(toml::Value::Integer(i)) if *i >= 0 => Ok(Some(*i as u64)),
                Some(toml::Value::String(s)) => parse_size(s)
                    .map(Some)
                    .map_err(|e| bad(format!("{field} = \"{s}\": {e}"))),
                Some(other) => Err(bad(format!("{field} = {other}: not a size"))),
            }
        };
        let d = Limits::grader();
        let limits = Limits {
            cpu_seconds: match &l.cpu {
                Some(_) => Some(dur("cpu", &l.cpu, 0)?.as_secs().max(1)),
                None => d.cpu_seconds,
            },
            memory_bytes: size("memory", &l.memory)?.or(d.memory_bytes),
            processes: l.processes.or(d.processes),
            file_size_bytes: size("file_size", &l.file_size)?.or(d.file_size_bytes),
            open_files: l.open_files.or(d.open_files),
            run_as: None,
        };
        let assignment = Assignment {
            name: file.name.unwrap_or_else(|| stem.to_string()),
            title: file.title.unwrap_or_else(|| stem.to_string()),
            base,
            protocols,
            paths: file.suite.paths,
            tags: file.suite.tags,
            build: file.submission.build.filter(|b| !b.trim().is_empty()),
            start: file.submission.start,
            env: file.submission.env,
            bind_timeout: dur("bind_timeout", &file.submission.bind_timeout, 3)?,
            step_timeout: dur("step_timeout", &file.submission.step_timeout, 2)?,
            restart,
            client,
            target,
            limits,
            output_bytes: size("output", &l.output)?.unwrap_or(16 << 10) as usize,
            build_time: dur("build_time", &l.build_time, 120)?,
            total_time: dur("total_time", &l.total_time, 300)?,
            default_points: file.points.default.unwrap_or(1.0),
            rubric: file.rubric,
            gradescope: file.gradescope,
        };
        assignment.check_rubric().map_err(bad)?;
        // The target template must make a valid profile.
        assignment.profile(1)?;
        Ok(assignment)
    }

    /// The target profile for a submission listening on `port` (a client
    /// lab: with its start command, run in the current folder).
    pub fn profile(&self, port: u16) -> Result<Profile, String> {
        self.build_profile(port, &self.start, None, &[])
    }

    /// The target profile for a submission listening on `port`, with the
    /// server lab's placeholders (`{maildir}` …) replaced by the paths of
    /// that start's fixture content.
    pub fn profile_with(&self, port: u16, content: &[(&str, String)]) -> Result<Profile, String> {
        self.build_profile(port, &self.start, None, content)
    }

    /// A client lab's profile: `{start}` is `command`, run in `dir`.
    pub fn client_profile(&self, command: &str, dir: &Path) -> Result<Profile, String> {
        self.build_profile(0, command, Some(dir), &[])
    }

    fn build_profile(
        &self,
        port: u16,
        command: &str,
        dir: Option<&Path>,
        content: &[(&str, String)],
    ) -> Result<Profile, String> {
        let mut text = String::new();
        let mut sections: BTreeMap<&str, Vec<(&str, String)>> = BTreeMap::new();
        for (section, key, value) in &self.target {
            let keys = sections.entry(section).or_default();
            let own_dir = self
                .target
                .iter()
                .any(|(s, k, _)| s == section && k == "dir");
            if let (true, false, Some(d)) = (value.contains("{start}"), own_dir, dir) {
                // The scenarios run the client in the submission's folder.
                if !keys.iter().any(|(k, _)| *k == "dir") {
                    keys.push(("dir", d.display().to_string()));
                }
            }
            let value = content.iter().fold(
                value
                    .replace("{port}", &port.to_string())
                    .replace("{start}", command),
                |v, (k, path)| v.replace(k, path),
            );
            keys.push((key, value));
        }
        for (section, keys) in sections {
            text.push_str(&format!("[{section}]\n"));
            for (k, v) in keys {
                text.push_str(&format!("{k} = {}\n", toml::Value::String(v)));
            }
        }
        Profile::parse(&text, &format!("assignment {} [target]", self.name)).map_err(|e| e.0)
    }

    /// The ports the program must open: `(section.key, udp?)` for every
    /// target address that holds `{port}`. A key named `udp` is a UDP port,
    /// and so is a DNS server's address (DNS is UDP first, RFC 1035 §4.2;
    /// the scenarios over TCP use the same port number over TCP).
    pub fn ports(&self) -> Vec<(String, bool)> {
        if self.client {
            return Vec::new();
        }
        self.target
            .iter()
            .filter(|(_, _, v)| v.contains("{port}"))
            .map(|(s, k, _)| {
                let udp = k == "udp" || (s == "dns" && k == "address");
                (format!("{s}.{k}"), udp)
            })
            .collect()
    }

    /// The rubric entry that names a scenario (by name or stable id).
    pub fn rubric_for(&self, meta: &crate::suite::ScenarioMeta) -> Option<&RubricEntry> {
        self.rubric.iter().find(|r| r.names(meta))
    }

    /// What can be checked without the suites: visibility and format values,
    /// points, and no scenario named by two criteria.
    fn check_rubric(&self) -> Result<(), String> {
        let one_of = |field: &str, v: &str, allowed: &[&str]| {
            if allowed.contains(&v) {
                Ok(())
            } else {
                Err(format!(
                    "{field} = \"{v}\": use one of {}",
                    allowed.join(", ")
                ))
            }
        };
        let g = &self.gradescope;
        if let Some(v) = &g.output_format {
            one_of("[gradescope] output_format", v, OUTPUT_FORMATS)?;
        }
        if let Some(v) = &g.visibility {
            one_of("[gradescope] visibility", v, VISIBILITIES)?;
        }
        if let Some(v) = &g.stdout_visibility {
            one_of("[gradescope] stdout_visibility", v, VISIBILITIES)?;
        }
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for r in &self.rubric {
            let what = format!("rubric criterion \"{}\"", r.criterion);
            if let Some(v) = &r.visibility {
                one_of(&format!("{what}: visibility"), v, VISIBILITIES)?;
                if r.hidden && v == "visible" {
                    return Err(format!(
                        "{what}: hidden = true and visibility = \"visible\" contradict each other"
                    ));
                }
            }
            if r.scenarios.is_empty() {
                return Err(format!("{what} names no scenario"));
            }
            if r.points.is_some_and(|p| !(p.is_finite() && p >= 0.0)) {
                return Err(format!("{what}: points must be a number of 0 or more"));
            }
            for s in &r.scenarios {
                if let Some(other) = seen.insert(s, &r.criterion) {
                    return Err(format!(
                        "the scenario \"{s}\" is named by two criteria, \"{other}\" and \"{}\"",
                        r.criterion
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Where the bundled assignment files live in the source tree (for feature
/// files next to them).
fn bundled_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/assignments"))
}

/// `1048576`, `64KiB`, `1MB`, `512M`, `2GiB`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| "not a size like 64KiB".to_string())?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => return Err(format!("unknown unit `{other}`")),
    };
    n.checked_mul(mult).ok_or_else(|| "too large".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_assignments_parse() {
        for (name, _) in BUNDLED {
            let a = Assignment::load(name).unwrap();
            assert!(!a.rubric.is_empty(), "{name} has a rubric");
            let p = a.profile(4242).unwrap();
            assert!(
                [
                    "sockets.tcp",
                    "sockets.udp",
                    "http.address",
                    "smtp.address",
                    "pop3.address",
                    "ftp.address",
                    "dns.address",
                    "proxy.address",
                    "sockets-client.udp",
                    "sockets-client.tcp",
                    "smtp-client.command"
                ]
                .iter()
                .any(|k| p.get(k).is_some()),
                "{name}"
            );
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64KiB").unwrap(), 65536);
        assert_eq!(parse_size("2 MB").unwrap(), 2 << 20);
        assert_eq!(parse_size("17").unwrap(), 17);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("3 parsecs").is_err());
    }

    #[test]
    fn rejects_a_start_without_port() {
        let text = "[suite]\nprotocols=[\"sockets\"]\npaths=[\"sockets/udp.feature\"]\n[submission]\nstart=\"python3 s.py\"\n[target]\nsockets={udp=\"127.0.0.1:{port}\"}\n";
        let e = Assignment::parse(text, "t", "t", PathBuf::from(".")).unwrap_err();
        assert!(e.contains("{port}"), "{e}");
        let ok = text.replace("s.py", "s.py {port}");
        Assignment::parse(&ok, "t", "t", PathBuf::from(".")).unwrap();
        let typo = ok.replace("[submission]", "[submission]\nstrat=\"x\"");
        assert!(Assignment::parse(&typo, "t", "t", PathBuf::from(".")).is_err());
    }
}
