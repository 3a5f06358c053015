//! Shared helpers for the integration tests: run the `conform` binary, write
//! profiles, and host small (often deliberately faulty) servers in-process.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Everything printed, for assertion messages.
    pub fn all(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

pub fn conform_bin() -> &'static str {
    env!("CARGO_BIN_EXE_conform")
}

/// The repository's features folder.
pub fn features_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../features")
}

/// Runs `conform ARGS` (the suites built into the binary, as a user gets
/// them) and waits at most five minutes (a hang guard, not a timed check: a
/// server lab's grade starts the program afresh for each of 20 to 40
/// scenarios, and a loaded machine makes that slow; 300 s is also the
/// assignments' own `total_time`).
pub async fn conform(args: &[&str]) -> Run {
    let mut cmd = tokio::process::Command::new(conform_bin());
    cmd.args(args);
    cmd.kill_on_drop(true);
    let out: Output = tokio::time::timeout(Duration::from_secs(330), cmd.output())
        .await
        .expect("conform finished within five and a half minutes")
        .expect("conform started");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Writes a profile into a fresh temporary folder and returns both.
pub fn profile(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("target.toml");
    std::fs::write(&path, text).expect("write profile");
    (dir, path)
}

/// Parses a JUnit file with an established JUnit consumer (the junit-parser
/// crate, which follows what Jenkins and GitLab accept).
pub fn parse_junit(path: &Path) -> junit_parser::TestSuites {
    let file = std::fs::File::open(path).expect("junit file exists");
    junit_parser::from_reader(std::io::BufReader::new(file)).expect("junit file parses")
}

/// All test cases of a JUnit document.
pub fn cases(suites: &junit_parser::TestSuites) -> Vec<&junit_parser::TestCase> {
    suites.suites.iter().flat_map(|s| s.cases.iter()).collect()
}

/// Asserts that the console output has every one of `wants`.
pub fn assert_has(run: &Run, wants: &[&str]) {
    // Shown with --nocapture: what a user of the faulty server would read.
    println!("{}", run.stdout);
    for want in wants {
        assert!(
            run.stdout.contains(want),
            "output has {want:?}\n{}",
            run.all()
        );
    }
}

/// Asserts that the run failed a check (exit 1) and shows every one of
/// `wants` (the failing step, the expectation, the transcript).
pub fn assert_fails_with(run: &Run, wants: &[&str]) {
    assert_eq!(run.code, 1, "{}", run.all());
    assert_has(run, wants);
}

/// `conform run PROTOCOLS --target P ARGS` with the profile `profile_text`.
pub async fn run_against(protocol: &str, profile_text: &str, args: &[&str]) -> Run {
    let (_dir, p) = profile(profile_text);
    let mut all = vec!["run", protocol, "--target", p.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    conform(&all).await
}

/// `conform run PROTOCOLS --junit r.xml ARGS` against the bundled servers:
/// asserts that it exits 0 with " 0 failed" and that its JUnit file loads
/// with at least `at_least` test cases, every one successful. Returns the
/// run and the parsed JUnit document for further checks.
pub async fn bundled_run_passes(
    protocols: &[&str],
    args: &[&str],
    at_least: usize,
) -> (Run, junit_parser::TestSuites) {
    let dir = tempfile::tempdir().expect("temp dir");
    let junit = dir.path().join("r.xml");
    let mut all = vec!["run"];
    all.extend_from_slice(protocols);
    all.extend_from_slice(&["--junit", junit.to_str().expect("utf-8 path")]);
    all.extend_from_slice(args);
    let run = conform(&all).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains(" 0 failed"), "{}", run.all());
    // Every scenario reserved the connections it opened (target::budget):
    // the transcripts in system-out never note one beyond the reservation.
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert!(
        !xml.contains("beyond the reservation of the scenario"),
        "a scenario opened more connections than its steps reserve; extend target::budget::scenario_need\n{}",
        xml.lines()
            .filter(|l| l.contains("beyond the reservation of the scenario"))
            .take(5)
            .collect::<Vec<_>>()
            .join("\n")
    );
    let suites = parse_junit(&junit);
    let found = cases(&suites);
    assert!(
        found.len() >= at_least,
        "one testcase per scenario, got {}",
        found.len()
    );
    for c in &found {
        assert!(c.status.is_success(), "{} passed", c.name);
    }
    (run, suites)
}

/// `conform serve PROTOCOLS --profile-out p.toml`, running.
pub struct Served {
    pub child: tokio::process::Child,
    /// The profile the server wrote.
    pub profile: PathBuf,
    /// The first line it printed (`PROTOCOL ADDRESS`).
    pub first_line: String,
    // Kept open so that later prints of `serve` do not meet a closed pipe.
    _stdout: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    _dir: tempfile::TempDir,
}

/// Starts `conform serve PROTOCOLS --profile-out p.toml` and waits (at most
/// 30 s) for its first line and for the profile with a section for each
/// protocol.
pub async fn serve(protocols: &[&str]) -> Served {
    use tokio::io::AsyncBufReadExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let p = dir.path().join("p.toml");
    let mut child = tokio::process::Command::new(conform_bin())
        .arg("serve")
        .args(protocols)
        .arg("--profile-out")
        .arg(&p)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("conform serve started");
    let out = child.stdout.take().expect("piped stdout");
    let mut lines = tokio::io::BufReader::new(out).lines();
    let first_line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("serve printed its first line within 30 s")
        .expect("serve's stdout reads")
        .expect("serve printed a line");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        if text.ends_with("\n\n") && protocols.iter().all(|s| text.contains(&format!("[{s}]"))) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "serve wrote no profile: {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Served {
        child,
        profile: p,
        first_line,
        _stdout: lines,
        _dir: dir,
    }
}

impl Served {
    /// The address of the first server `serve` printed (`PROTOCOL ADDRESS`).
    pub fn addr(&self) -> SocketAddr {
        self.first_line
            .split(' ')
            .nth(1)
            .and_then(|a| a.parse().ok())
            .expect("serve prints PROTOCOL ADDRESS")
    }

    /// The written profile's path as text, for command lines.
    pub fn profile_arg(&self) -> &str {
        self.profile.to_str().expect("utf-8 path")
    }

    pub async fn kill(mut self) {
        self.child.kill().await.expect("serve killed");
    }

    /// SIGTERM; asserts that serve stops within 10 s and returns its status.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().expect("serve still running").to_string();
        let status = tokio::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .expect("kill runs");
        assert!(status.success());
        tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("conform serve stops on SIGTERM")
            .expect("serve's exit status")
    }
}

/// What a client script printed.
pub struct ClientRun {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `python3 harness/tests/clients/SCRIPT ARGS` and waits at most
/// `limit`.
pub async fn python_client(script: &str, args: &[&std::ffi::OsStr], limit: Duration) -> ClientRun {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(script);
    let out = tokio::time::timeout(
        limit,
        tokio::process::Command::new("python3")
            .arg(&script)
            .args(args)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the client script finished in time")
    .expect("python3 runs");
    ClientRun {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A TCP server on a loopback port that runs `session` on each accepted
/// connection, each in its own task.
pub async fn tcp_server<F, Fut>(session: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("local address");
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            tokio::spawn(session(s));
        }
    });
    addr
}

/// A peer that accepts one connection and runs `act` on it.
pub async fn one_connection<F, Fut>(act: F) -> SocketAddr
where
    F: FnOnce(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("local address");
    tokio::spawn(async move {
        if let Ok((s, _)) = l.accept().await {
            act(s).await;
        }
    });
    addr
}

/// A proxy in front of `upstream`: for each client it connects to
/// `upstream` and runs `relay(client, server)`.
pub async fn proxy<F, Fut>(upstream: SocketAddr, relay: F) -> SocketAddr
where
    F: Fn(TcpStream, TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let relay = std::sync::Arc::new(relay);
    tcp_server(move |client| {
        let relay = relay.clone();
        async move {
            let Ok(server) = TcpStream::connect(upstream).await else {
                return;
            };
            relay(client, server).await;
        }
    })
    .await
}

/// Copies bytes both ways unchanged until the server's side ends.
pub async fn pipe(client: TcpStream, server: TcpStream) {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up = tokio::spawn(async move { tokio::io::copy(&mut cr, &mut sw).await });
    let _ = tokio::io::copy(&mut sr, &mut cw).await;
    up.abort();
}

/// What a [`limited_proxy`] does with a connection beyond its limit.
#[derive(Clone, Copy)]
pub enum OverLimit {
    /// Sends these bytes (a 421 greeting, `* BYE`) and closes.
    Refuse(&'static [u8]),
    /// Accepts and never greets.
    Silent,
}

/// A proxy in front of `upstream` that lets at most `limit` connections
/// through at once, like a stock server's connection limit; each relayed
/// connection is held at least `hold` before it is relayed, so that
/// concurrent scenarios overlap. Returns its address and a counter of the
/// connections it turned away.
pub async fn limited_proxy(
    upstream: SocketAddr,
    limit: usize,
    over: OverLimit,
    hold: Duration,
) -> (SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::io::AsyncWriteExt;
    let active = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let counted = refused.clone();
    let addr = tcp_server(move |mut client| {
        let active = active.clone();
        let refused = refused.clone();
        async move {
            if active.fetch_add(1, Ordering::SeqCst) >= limit {
                active.fetch_sub(1, Ordering::SeqCst);
                refused.fetch_add(1, Ordering::SeqCst);
                match over {
                    OverLimit::Refuse(bytes) => {
                        let _ = client.write_all(bytes).await;
                        let _ = client.shutdown().await;
                    }
                    OverLimit::Silent => tokio::time::sleep(Duration::from_secs(30)).await,
                }
                return;
            }
            tokio::time::sleep(hold).await;
            if let Ok(server) = TcpStream::connect(upstream).await {
                // Either side's end ends the connection, as for a server
                // that notices a client's close at once.
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                tokio::select! {
                    _ = tokio::io::copy(&mut cr, &mut sw) => {}
                    _ = tokio::io::copy(&mut sr, &mut cw) => {}
                }
            }
            active.fetch_sub(1, Ordering::SeqCst);
        }
    })
    .await;
    (addr, counted)
}

/// The profile `served` wrote, with `[section] address` replaced by `addr`
/// and `extra` lines added to the section.
pub fn reroute(served: &Served, section: &str, addr: SocketAddr, extra: &str) -> String {
    let text = std::fs::read_to_string(&served.profile).expect("served profile");
    let mut out = String::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.starts_with('[') {
            current = line.trim_matches(['[', ']']).to_string();
            out.push_str(line);
            out.push('\n');
            if current == section {
                out.push_str(extra);
                out.push('\n');
            }
            continue;
        }
        if current == section && line.starts_with("address") {
            out.push_str(&format!("address = \"{addr}\"\n"));
        } else if current == section && line.starts_with("max_connections") {
            continue;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Runs the scenarios `ids` of `protocol` (all when empty) in-process
/// against `profile`, without the preflight, and returns each id's outcome
/// and failure message.
pub async fn run_scenarios(
    protocol: conform::protocol::Protocol,
    profile: conform::target::Profile,
    ids: &[&str],
) -> Vec<(String, conform::report::result::Outcome, String)> {
    let mut opts = conform::runner::RunOptions::new(features_dir());
    opts.protocols = vec![protocol];
    opts.profile = Some(profile);
    opts.preflight = false;
    if !ids.is_empty() {
        opts.only = Some(ids.iter().map(|s| s.to_string()).collect());
    }
    let report = conform::runner::run(&opts).await.expect("the run starts");
    report
        .scenarios
        .into_iter()
        .map(|s| {
            let msg = s
                .failure
                .map(|f| format!("{} {:?} {:?}", f.message, f.expected, f.got))
                .unwrap_or_default();
            (s.id, s.outcome, msg)
        })
        .collect()
}

/// A TLS client trusting the CA certificate at `ca` (the fixture CA a
/// served profile names as `ca_file`).
#[allow(dead_code)]
pub fn tls_connector(ca: &Path) -> tokio_rustls::TlsConnector {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from_pem_file(ca).expect("CA certificate"))
        .expect("CA certificate accepted");
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
}
