//! Shared helpers for the integration tests: run the `conform` binary, write
//! profiles, and host small (often deliberately faulty) servers in-process.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

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

/// Runs `conform ARGS` (with `--features` pointing at the repository's suites
/// for `run`/`list`) and waits at most two minutes.
pub async fn conform(args: &[&str]) -> Run {
    let mut cmd = tokio::process::Command::new(conform_bin());
    cmd.args(args);
    if matches!(args.first(), Some(&"run") | Some(&"list")) && !args.contains(&"--features") {
        cmd.arg("--features").arg(features_dir());
    }
    cmd.kill_on_drop(true);
    let out: Output = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("conform finished within two minutes")
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
