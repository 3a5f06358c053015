//! The client under test: a command from the profile (`[sockets-client]
//! udp = "python3 UDPClient.py {host} {port}"`, `[smtp-client] command`),
//! with `{host}`, `{port}`, `{input}` (and a protocol's own `{from}`,
//! `{to}`) substituted, its standard input scripted, run by the grader's
//! sandbox (`crate::grade::sandbox`): its own process group, the grader's
//! limits, stdout and stderr kept up to a bound, and every process it
//! started killed when the scenario ends.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::grade::assignment::Limits;
use crate::grade::sandbox::{Program, Stopped};
use crate::transcript::Transcript;

/// Output kept of each of stdout and stderr.
pub const OUTPUT: usize = 16 * 1024;

/// Clients under test running at once in this process. An interpreter's
/// start is CPU-heavy: a run's thirty client scenarios starting together
/// would starve everything else the run does (the bundled servers of the
/// other suites among it). A scenario waits for its turn in its When step.
pub const AT_ONCE: usize = 4;
static TURNS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(AT_ONCE);

/// The transcript name of the client under test's process.
pub const NAME: &str = "client under test";

/// Replaces `{name}` in `template` with each value, shell-quoted (the
/// command runs through `sh -c`), so an input with spaces or quotes reaches
/// the program as one argument.
pub fn substitute(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{k}}}"), &quote(v));
    }
    out
}

fn quote(v: &str) -> String {
    if !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/@=+,".contains(&b))
    {
        return v.to_string();
    }
    format!("'{}'", v.replace('\'', "'\\''"))
}

/// How clients under test are started: the grader's limits, the output
/// kept, extra environment variables. `conform run` uses the defaults;
/// `conform grade` of a client lab passes the assignment's `[limits]` and
/// `[submission] env`.
#[derive(Clone, Debug)]
pub struct Sandbox {
    pub limits: Limits,
    pub output: usize,
    pub env: Vec<(String, String)>,
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox {
            limits: Limits::grader(),
            output: OUTPUT,
            env: Vec::new(),
        }
    }
}

/// A started client under test.
pub struct ClientRun {
    pub command: String,
    program: Option<Program>,
    started: Instant,
    /// How it ended by itself, once seen.
    pub ended: Option<(String, f64)>,
    pub stopped: Option<Stopped>,
    transcript: Transcript,
    /// Its turn among [`AT_ONCE`]; given back when it is stopped.
    turn: Option<tokio::sync::SemaphorePermit<'static>>,
}

impl ClientRun {
    /// Starts `command` in `dir` with `stdin` as its standard input.
    pub async fn start(
        command: &str,
        dir: &std::path::Path,
        stdin: Vec<u8>,
        sandbox: &Sandbox,
        transcript: &Transcript,
    ) -> Result<ClientRun, String> {
        let turn = TURNS
            .acquire()
            .await
            .map_err(|e| format!("cannot start the client under test: {e}"))?;
        transcript.event(NAME, format!("runs `{command}` in {}", dir.display()));
        // Starting reads /proc (the process limit counts the user's tasks):
        // off the runtime's workers, which also serve the bundled servers.
        let (cmd, d, sb) = (command.to_string(), dir.to_path_buf(), sandbox.clone());
        let program = tokio::task::spawn_blocking(move || {
            Program::spawn_with_input(&cmd, &d, &sb.env, &sb.limits, sb.output, Some(stdin))
        })
        .await
        .map_err(|e| format!("cannot start the client under test `{command}`: {e}"))?
        .map_err(|e| format!("cannot start the client under test `{command}`: {e}"))?;
        Ok(ClientRun {
            command: command.to_string(),
            program: Some(program),
            started: Instant::now(),
            ended: None,
            stopped: None,
            transcript: transcript.clone(),
            turn: Some(turn),
        })
    }

    /// Waits up to `limit` for the program to end by itself; returns how it
    /// ended, or `None` if it is still running.
    pub async fn wait(&mut self, limit: Duration) -> Option<(String, f64)> {
        let deadline = Instant::now() + limit;
        loop {
            if self.ended.is_some() {
                return self.ended.clone();
            }
            let Some(p) = self.program.as_mut() else {
                return self.ended.clone();
            };
            if let Some(how) = p.ended() {
                let at = self.started.elapsed().as_secs_f64();
                self.transcript.event(NAME, format!("{how} after {at:.3}s"));
                self.ended = Some((how, at));
                return self.ended.clone();
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Kills whatever is left of the program (it and every process it
    /// started) and records its output in the transcript. Idempotent.
    pub async fn stop(&mut self) -> &Stopped {
        if let Some(p) = self.program.take() {
            if self.ended.is_none() {
                self.transcript.event(
                    NAME,
                    format!(
                        "still running after {:.3}s: killed",
                        self.started.elapsed().as_secs_f64()
                    ),
                );
            }
            // Stopping scans /proc for the program's processes, round after
            // round: on a blocking thread, not on a runtime worker.
            let handle = tokio::runtime::Handle::current();
            let s = tokio::task::spawn_blocking(move || handle.block_on(p.stop()))
                .await
                .unwrap_or_default();
            for (stream, text) in [("stdout", &s.stdout), ("stderr", &s.stderr)] {
                for line in text.lines().take(40) {
                    self.transcript.event(NAME, format!("{stream}: {line}"));
                }
            }
            self.stopped = Some(s);
        }
        self.turn = None;
        self.stopped.get_or_insert_with(Stopped::default)
    }

    /// What it printed so far (stdout, stderr).
    pub fn output(&self) -> (String, String) {
        match (&self.stopped, &self.program) {
            (Some(s), _) => (s.stdout.clone(), s.stderr.clone()),
            (None, Some(p)) => p.output(),
            (None, None) => Default::default(),
        }
    }

    /// A short account for a failure message: how it ended and the end of
    /// what it printed on stderr.
    pub fn account(&self) -> String {
        let how = match &self.ended {
            Some((how, at)) => format!("the client under test {how} after {at:.2}s"),
            None => "the client under test was still running (killed)".to_string(),
        };
        let (_, err) = self.output();
        let err = err.trim();
        if err.is_empty() {
            how
        } else {
            let tail: String = err
                .lines()
                .rev()
                .take(3)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join(" | ");
            format!("{how}; its stderr ends: {tail}")
        }
    }
}

impl Drop for ClientRun {
    /// A scenario that ended before its client was stopped (a failed step
    /// before any judging one) leaves nothing running.
    fn drop(&mut self) {
        if let Some(p) = self.program.take() {
            p.kill_now();
        }
    }
}

/// Where the command runs: `[section] dir` if set, else the folder of the
/// profile file (so `python3 UDPClient.py` finds a file next to it).
pub fn workdir(profile: &crate::target::Profile, section: &str) -> PathBuf {
    if let Some(d) = profile.get(&format!("{section}.dir")) {
        return PathBuf::from(d);
    }
    let p = std::path::Path::new(&profile.source);
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() && p.is_file() => d.to_path_buf(),
        _ => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
    }
}
