//! Running a submission's program safely: its own process group, resource
//! limits set between fork and exec, stdout and stderr kept up to a bound,
//! and at the end every process it started killed (also those that forked,
//! hang, or left the group), never a stuck grader.
//!
//! Every process of a start carries `CONFORM_GRADE_RUN=<marker>` in its
//! environment; a process that left the process group (setsid) is still found
//! by it in /proc. Linux only: /proc, prctl and rlimits.
//!
//! A grader running as root runs a submission as an [`Identity`] of its own:
//! a user id no account and no other process has, so RLIMIT_NPROC binds
//! (root is exempt from it), the program cannot signal or trace the grader
//! or another submission, and it can write only its own copy of the files
//! and its lab content, which are handed over to it ([`hand_over`]).

use std::collections::BTreeSet;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

use super::assignment::Limits;

/// Starts not yet stopped: `(pgid, marker)`, for [`kill_everything`].
static LIVE: Mutex<Vec<(i32, String)>> = Mutex::new(Vec::new());

/// Kills every process of every start not yet stopped: for a grader that is
/// interrupted (SIGINT, SIGTERM) in the middle of a run.
pub fn kill_everything() {
    let live = LIVE.lock().map(|l| l.clone()).unwrap_or_default();
    for _ in 0..3 {
        for (pgid, marker) in &live {
            let pids = live_processes(*pgid, Some(&format!("{MARKER_VAR}={marker}")));
            // SAFETY: plain system calls on this start's processes.
            unsafe {
                libc::killpg(*pgid, libc::SIGKILL);
                for p in pids {
                    libc::kill(p, libc::SIGKILL);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The environment variable that marks a start's processes.
pub const MARKER_VAR: &str = "CONFORM_GRADE_RUN";

/// A started program.
pub struct Program {
    child: tokio::process::Child,
    pub pid: i32,
    /// The process group: the program's pid.
    pub pgid: i32,
    pub marker: String,
    stdout: Arc<Mutex<Capture>>,
    stderr: Arc<Mutex<Capture>>,
}

/// What a stopped program left behind.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Stopped {
    /// Set when the program had ended by itself before it was stopped, e.g.
    /// "exited with status 1" or "killed by signal 9 (SIGKILL)".
    pub ended_by_itself: Option<String>,
    pub stdout: String,
    pub stderr: String,
    /// Processes that were still running and were killed.
    pub killed: Vec<i32>,
    /// Processes still alive after the kill (should always be empty).
    pub survivors: Vec<i32>,
}

impl Program {
    /// Starts `sh -c COMMAND` in `dir` with a clean environment plus `env`.
    pub fn spawn(
        command: &str,
        dir: &Path,
        env: &[(String, String)],
        limits: &Limits,
        keep: usize,
    ) -> io::Result<Program> {
        Program::spawn_with_input(command, dir, env, limits, keep, None)
    }

    /// [`Program::spawn`] with `stdin` written to the program's standard
    /// input (then closed); `None` gives it /dev/null. A program that does
    /// not read its input does not block the writer: it is a task of its
    /// own, dropped with the pipe.
    pub fn spawn_with_input(
        command: &str,
        dir: &Path,
        env: &[(String, String)],
        limits: &Limits,
        keep: usize,
        stdin: Option<Vec<u8>>,
    ) -> io::Result<Program> {
        let marker = fresh_marker();
        let mut cmd = tokio::process::Command::new("sh");
        cmd.arg("-c")
            .arg(command)
            .current_dir(dir)
            .env_clear()
            .env(
                "PATH",
                std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()),
            )
            .env("HOME", dir)
            .env("LANG", "C.UTF-8")
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env(MARKER_VAR, &marker)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let rl = RawLimits::from(limits);
        // SAFETY: the closure runs in the forked child before exec and only
        // makes async-signal-safe system calls (setpgid, prctl, setrlimit).
        unsafe {
            cmd.pre_exec(move || rl.apply());
        }
        let mut child = cmd.spawn()?;
        let pid = child
            .id()
            .ok_or_else(|| io::Error::other("the program ended before it had a pid"))?
            as i32;
        if let Ok(mut live) = LIVE.lock() {
            live.push((pid, marker.clone()));
        }
        let stdout = Arc::new(Mutex::new(Capture::new(keep)));
        let stderr = Arc::new(Mutex::new(Capture::new(keep)));
        if let (Some(mut pipe), Some(input)) = (child.stdin.take(), stdin) {
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt as _;
                let _ = pipe.write_all(&input).await;
                let _ = pipe.shutdown().await;
            });
        }
        if let Some(out) = child.stdout.take() {
            tokio::spawn(drain(out, stdout.clone()));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(drain(err, stderr.clone()));
        }
        Ok(Program {
            child,
            pid,
            pgid: pid,
            marker,
            stdout,
            stderr,
        })
    }

    /// How the program ended, if it has.
    pub fn ended(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(describe_status(status)),
            _ => None,
        }
    }

    /// The live processes of this start: its process group, and any process
    /// carrying its marker (when `by_marker`; slower: reads every environ).
    pub fn processes(&self, by_marker: bool) -> Vec<i32> {
        let marker = by_marker.then(|| format!("{MARKER_VAR}={}", self.marker));
        live_processes(self.pgid, marker.as_deref())
    }

    /// Everything the program printed so far.
    pub fn output(&self) -> (String, String) {
        (render(&self.stdout), render(&self.stderr))
    }

    /// Kills every process of this start at once, without waiting (for a
    /// `Drop`: a scenario that ends before its program was stopped). The
    /// killed processes are reaped by tokio's child handling.
    pub fn kill_now(&self) {
        let pids = self.processes(true);
        // SAFETY: plain system calls on pids/pgid of this start.
        unsafe {
            libc::killpg(self.pgid, libc::SIGKILL);
            for p in pids {
                libc::kill(p, libc::SIGKILL);
            }
        }
        if let Ok(mut live) = LIVE.lock() {
            live.retain(|(pgid, _)| *pgid != self.pgid);
        }
    }

    /// Kills every process of this start and reaps the program.
    pub async fn stop(mut self) -> Stopped {
        let ended_by_itself = self.ended();
        let mut killed = BTreeSet::new();
        let mut survivors = Vec::new();
        for round in 0..100 {
            let pids = self.processes(true);
            if pids.is_empty() {
                break;
            }
            // SAFETY: plain system calls on pids/pgid of this start.
            unsafe {
                libc::killpg(self.pgid, libc::SIGKILL);
                for p in &pids {
                    libc::kill(*p, libc::SIGKILL);
                }
            }
            killed.extend(pids.iter().copied());
            if round == 99 {
                survivors = pids;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), self.child.wait()).await;
        if let Ok(mut live) = LIVE.lock() {
            live.retain(|(pgid, _)| *pgid != self.pgid);
        }
        // The pipes close once every holder is dead; give the readers a moment.
        for _ in 0..20 {
            let done = self.stdout.lock().map(|c| c.closed).unwrap_or(true)
                && self.stderr.lock().map(|c| c.closed).unwrap_or(true);
            if done {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let (stdout, stderr) = self.output();
        Stopped {
            ended_by_itself,
            stdout,
            stderr,
            killed: killed.into_iter().collect(),
            survivors,
        }
    }
}

/// Runs `sh -c COMMAND` to completion within `limit` (a build), killing
/// everything it started at the end. Returns whether it succeeded, and how.
pub async fn run_to_end(
    command: &str,
    dir: &Path,
    env: &[(String, String)],
    limits: &Limits,
    keep: usize,
    limit: Duration,
) -> io::Result<(bool, String, Stopped)> {
    let mut p = Program::spawn(command, dir, env, limits, keep)?;
    let status = tokio::time::timeout(limit, p.child.wait()).await;
    let (ok, how) = match status {
        Ok(Ok(s)) => (s.success(), describe_status(s)),
        Ok(Err(e)) => (false, format!("could not be waited for: {e}")),
        Err(_) => (
            false,
            format!(
                "did not finish within {}",
                humantime::format_duration(limit)
            ),
        ),
    };
    let stopped = p.stop().await;
    Ok((ok, how, stopped))
}

fn describe_status(s: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    if let Some(code) = s.code() {
        return format!("exited with status {code}");
    }
    match s.signal() {
        Some(sig) => format!("was killed by signal {sig}{}", signal_hint(sig)),
        None => "ended".into(),
    }
}

fn signal_hint(sig: i32) -> &'static str {
    match sig {
        libc::SIGKILL => " (SIGKILL: it was killed, e.g. for using too much memory or CPU)",
        libc::SIGXCPU => " (SIGXCPU: it used up its CPU time limit)",
        libc::SIGXFSZ => " (SIGXFSZ: it wrote a file larger than the limit)",
        libc::SIGSEGV => " (SIGSEGV: a memory access error)",
        libc::SIGABRT => " (SIGABRT: it aborted)",
        _ => "",
    }
}

/// The unprivileged user and group a submission runs as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
}

/// The first user id handed to submissions: far above any account's.
const FIRST_UID: u32 = 2_000_000_000;

impl Identity {
    /// A fresh identity when the grader runs as root (`None` otherwise: an
    /// ordinary user's programs run as that user, and RLIMIT_NPROC binds).
    /// The id is drawn at random above [`FIRST_UID`] and is not one that any
    /// running process has.
    pub fn for_submission() -> Option<Identity> {
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return None;
        }
        let taken = running_uids();
        let mut seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            ^ (std::process::id() as u64).rotate_left(32);
        loop {
            // xorshift: enough to keep concurrent graders apart.
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let uid = FIRST_UID + (seed % 1_000_000_000) as u32;
            if !taken.contains(&uid) {
                return Some(Identity { uid, gid: uid });
            }
        }
    }
}

/// The real user ids of the running processes.
fn running_uids() -> BTreeSet<u32> {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return BTreeSet::new();
    };
    dir.flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| e.metadata().ok().map(|m| m.uid()))
        .collect()
}

/// Gives `path` (a file or a whole tree; symbolic links themselves, never
/// what they point to) to `who`, so the program can write there. Nothing
/// without an identity.
pub fn hand_over(path: &Path, who: Option<Identity>) -> io::Result<()> {
    let Some(id) = who else {
        return Ok(());
    };
    fn walk(p: &Path, id: Identity) -> io::Result<()> {
        std::os::unix::fs::lchown(p, Some(id.uid), Some(id.gid))?;
        let meta = std::fs::symlink_metadata(p)?;
        if meta.is_dir() {
            for e in std::fs::read_dir(p)? {
                walk(&e?.path(), id)?;
            }
        }
        Ok(())
    }
    walk(path, id)
}

/// A network namespace of its own with only a loopback interface, up: what
/// a submission's programs and the grader's side of its scenarios share,
/// and nothing else (no other interface, no route off the machine, none of
/// the machine's own loopback services). Needs CAP_SYS_ADMIN (root).
#[derive(Debug)]
pub struct NetNs {
    fd: std::os::fd::OwnedFd,
}

impl NetNs {
    /// Makes one on a thread of its own (unshare moves only the calling
    /// thread), which brings its loopback up and keeps a handle to it.
    pub fn loopback_only() -> io::Result<NetNs> {
        std::thread::Builder::new()
            .name("conform-netns".into())
            .spawn(|| {
                // SAFETY: unshare on this thread only; it exits right after.
                if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
                    return Err(io::Error::last_os_error());
                }
                loopback_up()?;
                let file = std::fs::File::open("/proc/thread-self/ns/net")?;
                Ok(NetNs { fd: file.into() })
            })?
            .join()
            .map_err(|_| io::Error::other("the namespace thread panicked"))?
    }

    /// Moves the calling thread into the namespace: every socket it opens
    /// from then on, every thread it starts and every process it forks is
    /// in it.
    pub fn enter(&self) -> io::Result<()> {
        use std::os::fd::AsRawFd as _;
        // SAFETY: a valid namespace descriptor; affects this thread only.
        if unsafe { libc::setns(self.fd.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

/// `ip link set lo up`, on the calling thread's namespace: a new namespace's
/// loopback is down, and bringing it up gives it 127.0.0.1/8 and ::1.
fn loopback_up() -> io::Result<()> {
    use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
    // SAFETY: a socket for the ioctl, owned (closed) by `sock`.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    let sock = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: ifreq is plain data; all zeroes is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(b"lo") {
        *d = *s as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS and SIOCSIFFLAGS read and write `req`, which
    // names the interface and outlives the calls.
    unsafe {
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS as _, &mut req) != 0 {
            return Err(io::Error::last_os_error());
        }
        req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS as _, &req) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Limits as plain numbers, copied into the child.
#[derive(Clone, Copy)]
struct RawLimits {
    cpu: Option<u64>,
    memory: Option<u64>,
    nproc: Option<u64>,
    fsize: Option<u64>,
    nofile: Option<u64>,
    run_as: Option<Identity>,
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
type Resource = libc::__rlimit_resource_t;
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
type Resource = libc::c_int;

impl RawLimits {
    fn from(l: &Limits) -> RawLimits {
        RawLimits {
            cpu: l.cpu_seconds,
            memory: l.memory_bytes,
            // RLIMIT_NPROC counts every process (and thread) of the user, so
            // the limit is on top of what the user already runs (nothing, for
            // a fresh identity). root is not bound by it at all.
            nproc: l
                .processes
                .map(|n| n + l.run_as.map(|_| 0).unwrap_or_else(user_tasks)),
            fsize: l.file_size_bytes,
            nofile: l.open_files,
            run_as: l.run_as,
        }
    }

    /// In the child between fork and exec.
    fn apply(&self) -> io::Result<()> {
        // SAFETY: async-signal-safe system calls with valid arguments.
        unsafe {
            if libc::setpgid(0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The submission's own user: no supplementary groups, then the
            // group, then the user (after which nothing can be taken back).
            // First, because a change of user clears the death signal.
            if let Some(id) = self.run_as {
                if libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(id.gid) != 0
                    || libc::setuid(id.uid) != 0
                {
                    return Err(io::Error::last_os_error());
                }
            }
            // If the grader dies, the program dies with it.
            #[cfg(target_os = "linux")]
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
            // CPU: SIGXCPU at the soft limit, SIGKILL one second later.
            set_limit(
                libc::RLIMIT_CPU as Resource,
                self.cpu,
                self.cpu.map(|c| c + 1),
            )?;
            set_limit(libc::RLIMIT_AS as Resource, self.memory, self.memory)?;
            set_limit(libc::RLIMIT_NPROC as Resource, self.nproc, self.nproc)?;
            set_limit(libc::RLIMIT_FSIZE as Resource, self.fsize, self.fsize)?;
            set_limit(libc::RLIMIT_NOFILE as Resource, self.nofile, self.nofile)?;
            set_limit(libc::RLIMIT_CORE as Resource, Some(0), Some(0))?;
        }
        Ok(())
    }
}

/// Lowers a limit (never raises one above what the grader itself has).
unsafe fn set_limit(res: Resource, soft: Option<u64>, hard: Option<u64>) -> io::Result<()> {
    let (Some(soft), Some(hard)) = (soft, hard) else {
        return Ok(());
    };
    let mut cur = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    if libc::getrlimit(res, &mut cur) != 0 {
        return Err(io::Error::last_os_error());
    }
    let hard = (hard as libc::rlim_t).min(cur.rlim_max);
    let soft = (soft as libc::rlim_t).min(hard);
    let new = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    if libc::setrlimit(res, &new) != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Tasks (processes and threads) of this user, as RLIMIT_NPROC counts them.
fn user_tasks() -> u64 {
    use std::os::unix::fs::MetadataExt as _;
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut n = 0;
    for e in dir.flatten() {
        let name = e.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if e.metadata().map(|m| m.uid() == uid).unwrap_or(false) {
            n += std::fs::read_dir(e.path().join("task"))
                .map(|d| d.count() as u64)
                .unwrap_or(1);
        }
    }
    n
}

/// Live (not zombie) processes in group `pgid`, or whose environment holds
/// `marker` (`NAME=value`).
pub fn live_processes(pgid: i32, marker: Option<&str>) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in dir.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Some((state, _ppid, pgrp)) = stat(pid) else {
            continue;
        };
        if state == 'Z' || state == 'X' {
            continue;
        }
        if pgrp == pgid {
            out.push(pid);
            continue;
        }
        if let Some(m) = marker {
            if let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) {
                if env.split(|b| *b == 0).any(|kv| kv == m.as_bytes()) {
                    out.push(pid);
                }
            }
        }
    }
    out
}

/// `(state, ppid, pgrp)` from /proc/PID/stat.
pub fn stat(pid: i32) -> Option<(char, i32, i32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain anything.
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((state, ppid, pgrp))
}

fn fresh_marker() -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    let r = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!("{}-{r:016x}", std::process::id())
}

/// Output kept for feedback: the first half of the bound and the last half.
struct Capture {
    keep: usize,
    head: Vec<u8>,
    tail: std::collections::VecDeque<u8>,
    total: usize,
    closed: bool,
}

impl Capture {
    fn new(keep: usize) -> Self {
        Capture {
            keep: keep.max(64),
            head: Vec::new(),
            tail: std::collections::VecDeque::new(),
            total: 0,
            closed: false,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        self.total += bytes.len();
        let half = self.keep / 2;
        let room = half.saturating_sub(self.head.len());
        let (h, t) = bytes.split_at(room.min(bytes.len()));
        self.head.extend_from_slice(h);
        for b in t {
            if self.tail.len() == half {
                self.tail.pop_front();
            }
            self.tail.push_back(*b);
        }
    }
}

fn render(c: &Arc<Mutex<Capture>>) -> String {
    let Ok(c) = c.lock() else {
        return String::new();
    };
    let mut s = String::from_utf8_lossy(&c.head).into_owned();
    let kept = c.head.len() + c.tail.len();
    if c.total > kept {
        s.push_str(&format!("\n[… {} bytes left out …]\n", c.total - kept));
    }
    let tail: Vec<u8> = c.tail.iter().copied().collect();
    s.push_str(&String::from_utf8_lossy(&tail));
    s
}

async fn drain(mut r: impl AsyncRead + Unpin, into: Arc<Mutex<Capture>>) {
    let mut buf = vec![0u8; 8192];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if let Ok(mut c) = into.lock() {
                    c.push(&buf[..n]);
                }
            }
        }
    }
    if let Ok(mut c) = into.lock() {
        c.closed = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_keeps_head_and_tail() {
        let c = Arc::new(Mutex::new(Capture::new(64)));
        c.lock().unwrap().push(&[b'a'; 40]);
        c.lock().unwrap().push(&[b'b'; 100]);
        let s = render(&c);
        assert!(s.starts_with(&"a".repeat(32)));
        assert!(s.ends_with(&"b".repeat(32)));
        assert!(s.contains("76 bytes left out"), "{s}");
    }

    #[tokio::test]
    async fn limits_apply() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits {
            memory_bytes: Some(256 << 20),
            file_size_bytes: Some(1 << 20),
            ..Limits::default()
        };
        let run = |cmd: &'static str| {
            let dir = dir.path().to_path_buf();
            async move {
                run_to_end(cmd, &dir, &[], &limits, 4096, Duration::from_secs(20))
                    .await
                    .unwrap()
            }
        };
        // CPU time: a busy loop is stopped after a second of CPU.
        let cpu = Limits {
            cpu_seconds: Some(1),
            ..Limits::default()
        };
        let t = std::time::Instant::now();
        let (ok, how, _) = run_to_end(
            "python3 -c 'while True: pass'",
            dir.path(),
            &[],
            &cpu,
            4096,
            Duration::from_secs(30),
        )
        .await
        .unwrap();
        assert!(!ok && t.elapsed() < Duration::from_secs(10), "{how}");
        // Address space: a 1 GiB allocation fails.
        let (ok, how, s) = run("python3 -c 'bytearray(1 << 30)'").await;
        assert!(!ok, "{how}");
        assert!(s.stderr.contains("MemoryError"), "{}", s.stderr);
        // File size: writing past 1 MiB is stopped (SIGXFSZ, or EFBIG when ignored).
        let (ok, how, _) = run("head -c 2000000 /dev/zero > big").await;
        assert!(!ok, "{how}");
        assert!(std::fs::metadata(dir.path().join("big")).unwrap().len() <= 1 << 20);
        // Limits are per start: the grader itself is unaffected.
        let (ok, how, _) = run("true").await;
        assert!(ok, "{how}");
    }

    #[tokio::test]
    async fn a_flood_of_output_is_kept_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let (ok, how, s) = run_to_end(
            "head -c 5000000 /dev/zero | tr '\\0' a; echo; echo the end >&2",
            dir.path(),
            &[],
            &Limits::default(),
            4096,
            Duration::from_secs(30),
        )
        .await
        .unwrap();
        assert!(ok, "{how}");
        assert!(s.stdout.len() < 4200, "{}", s.stdout.len());
        assert!(s.stdout.contains("bytes left out"));
        assert_eq!(s.stderr, "the end\n");
    }

    #[tokio::test]
    async fn a_forking_program_is_killed_whole() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits::default();
        let p = Program::spawn(
            "sleep 600 & sleep 600 & sleep 600",
            dir.path(),
            &[],
            &limits,
            1024,
        )
        .unwrap();
        let mut before = Vec::new();
        for _ in 0..100 {
            before = p.processes(true);
            if before.len() >= 4 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(before.len() >= 4, "sh and three sleeps: {before:?}");
        let pgid = p.pgid;
        let stopped = p.stop().await;
        assert!(stopped.survivors.is_empty());
        assert!(live_processes(pgid, None).is_empty());
        for pid in before {
            assert!(
                !matches!(stat(pid), Some((s, _, _)) if s != 'Z'),
                "{pid} is gone"
            );
        }
    }
}

#[cfg(test)]
mod identity_tests {
    use super::*;

    /// As root, a program runs as the submission's own user, writes its
    /// handed-over folder, and the process limit binds: of 40 background
    /// sleeps under a limit of 8 processes, fewer than 8 are forked.
    #[tokio::test]
    async fn a_submission_runs_as_its_own_user_under_the_process_limit() {
        let Some(id) = Identity::for_submission() else {
            eprintln!("not root: the grader runs programs as its own user");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        hand_over(dir.path(), Some(id)).unwrap();
        let limits = Limits {
            processes: Some(8),
            run_as: Some(id),
            ..Limits::default()
        };
        let (ok, how, stopped) = run_to_end(
            "id -u > uid.txt; for i in $(seq 40); do sleep 3 & echo started; done; wait",
            dir.path(),
            &[],
            &limits,
            4096,
            Duration::from_secs(20),
        )
        .await
        .unwrap();
        let uid = std::fs::read_to_string(dir.path().join("uid.txt")).unwrap();
        assert_eq!(uid.trim(), id.uid.to_string(), "{how} {stopped:?}");
        // The shell gives up at the first fork refused.
        let started = stopped.stdout.matches("started").count();
        assert!(
            !ok && started < 8 && stopped.stderr.contains("Cannot fork"),
            "{started} sleeps started ({how}): {}",
            stopped.stderr
        );
    }
}
