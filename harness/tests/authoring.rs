//! Writing your own: the README's "Authoring" chapter run as written, the
//! step registry behind `conform steps` and the README's step tables, the
//! step check before any connection, and the suites built into the binary.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{cases, conform_bin, parse_junit, Run};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// `conform ARGS` run in `dir`, as a user types it there.
fn conform_in(dir: &Path, bin: &Path, args: &[&str]) -> Run {
    let out = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("conform started");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn bin() -> PathBuf {
    PathBuf::from(conform_bin())
}

/// The worked example of the README: a project's own three scenarios next
/// to the bundled HTTP suite, one command, one JUnit file, with the paths
/// the user gave.
#[test]
fn own_features_run_next_to_the_bundled_http_suite_in_one_command() {
    let out = tempfile::tempdir().unwrap();
    let junit = out.path().join("conform.xml");
    let run = conform_in(
        &repo(),
        &bin(),
        &[
            "run",
            "http",
            "--features",
            "examples/server-project/conform",
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout
            .contains("PASS  examples/server-project/conform/echo.feature:20"),
        "{}",
        run.all()
    );
    let suites = parse_junit(&junit);
    let all = cases(&suites);
    let own: Vec<_> = all
        .iter()
        .filter(|c| c.file.as_deref() == Some("examples/server-project/conform/echo.feature"))
        .collect();
    assert_eq!(own.len(), 3, "the three own scenarios");
    let bundled = all
        .iter()
        .filter(|c| {
            c.file
                .as_deref()
                .is_some_and(|f| f.starts_with("features/http/"))
        })
        .count();
    assert!(bundled > 50, "the bundled HTTP suite ran too: {bundled}");
    assert_eq!(all.len(), own.len() + bundled);
    // --no-bundled: only the project's.
    let only = conform_in(
        &repo(),
        &bin(),
        &[
            "list",
            "--features",
            "examples/server-project/conform",
            "--no-bundled",
        ],
    );
    assert_eq!(only.code, 0, "{}", only.all());
    assert_eq!(only.stdout.lines().count(), 3, "{}", only.all());
    assert!(only
        .stdout
        .contains("http/echo/an-empty-post-is-read-as-zero-octets\texamples/server-project/conform/echo.feature:26"));
}

/// A feature with a misspelt step is a configuration error before anything
/// connects: exit 2, the file and line, and the step it probably meant.
#[tokio::test(flavor = "multi_thread")]
async fn a_misspelt_step_is_refused_before_any_connection() {
    let dir = tempfile::tempdir().unwrap();
    let mine = dir.path().join("mine/any/layout");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(
        mine.join("app.feature"),
        "@http @MUST\nFeature: ours\n\n  Scenario: typo\n    Given an HTTP connection to the target\n    When the client requests GET \"/\"\n    Then the server replys 200\n",
    )
    .unwrap();
    // A target that counts connections.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    std::fs::write(
        dir.path().join("ours.toml"),
        format!("[http]\naddress = \"{addr}\"\n"),
    )
    .unwrap();
    for args in [
        &["run", "http", "--target", "ours.toml", "--features", "mine"][..],
        &["list", "--features", "mine", "--no-bundled"][..],
        &["check", "mine"][..],
    ] {
        let run = conform_in(dir.path(), &bin(), args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.all());
        assert!(
            run.stderr.contains(
                "mine/any/layout/app.feature:7: undefined step \"Then the server replys 200\""
            ),
            "{args:?}: {}",
            run.all()
        );
        let hint = run
            .stderr
            .lines()
            .skip_while(|l| !l.contains("closest known steps"))
            .nth(1)
            .unwrap_or_default()
            .to_string();
        assert!(
            hint.contains("Then the server replies"),
            "{args:?}: the suggestion: {}",
            run.all()
        );
    }
    let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
    assert!(accepted.is_err(), "conform connected to the target");
    // The same file spelt right checks.
    let fixed = std::fs::read_to_string(mine.join("app.feature"))
        .unwrap()
        .replace("replys", "replies");
    std::fs::write(mine.join("app.feature"), fixed).unwrap();
    let run = conform_in(dir.path(), &bin(), &["check", "mine"]);
    assert_eq!(run.code, 0, "{}", run.all());
    // The protocol tag decides the protocol; without one the file would
    // never be selected, so it is refused rather than silently left out.
    std::fs::write(
        mine.join("untagged.feature"),
        "Feature: no tag\n\n  Scenario: x\n    Given an HTTP connection to the target\n",
    )
    .unwrap();
    let run = conform_in(dir.path(), &bin(), &["list", "--features", "mine"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("untagged.feature: the feature has no protocol tag"),
        "{}",
        run.all()
    );
}

/// An instructor's assignment with a step typo is refused before any
/// submission is started, in single and batch mode; so is a rubric that
/// names a scenario the suite does not have.
#[test]
fn an_assignment_with_a_step_typo_is_refused_before_any_submission_starts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("lab/sockets")).unwrap();
    std::fs::write(
        d.join("lab/sockets/echo.feature"),
        "@sockets @tcp @MUST\nFeature: lab\n\n  Scenario: Upper\n    Given a TCP conection to \"${sockets.tcp}\"\n    When the client sends the bytes \"hi\"\n    Then the client receives exactly \"HI\"\n",
    )
    .unwrap();
    let assignment = |rubric: &str| {
        format!(
            "name = \"lab\"\n[suite]\nprotocols = [\"sockets\"]\npaths = [\"sockets/echo.feature\"]\n[submission]\nstart = \"touch STARTED; sleep 5 {{port}}\"\n[target]\nsockets = {{ tcp = \"127.0.0.1:{{port}}\" }}\n{rubric}"
        )
    };
    std::fs::write(d.join("lab/lab.toml"), assignment("")).unwrap();
    std::fs::create_dir_all(d.join("subs/ada")).unwrap();
    for args in [
        &[
            "grade",
            "--assignment",
            "lab/lab.toml",
            "--command",
            "touch STARTED; sleep 5",
        ][..],
        &[
            "grade",
            "--assignment",
            "lab/lab.toml",
            "--submissions",
            "subs",
            "--out",
            "out",
        ][..],
        &["check", "--assignment", "lab/lab.toml"][..],
    ] {
        let run = conform_in(d, &bin(), args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.all());
        assert!(
            // Named by the path the assignment gave it, not its copy.
            run.stderr
                .contains("lab/sockets/echo.feature:5: undefined step \"Given a TCP conection to"),
            "{args:?}: {}",
            run.all()
        );
        assert!(
            run.stderr.contains("Given a TCP connection to"),
            "{}",
            run.all()
        );
        assert!(
            !d.join("STARTED").exists(),
            "{args:?} started the submission"
        );
        assert!(!d.join("subs/ada/STARTED").exists());
    }
    // Spelt right, but the rubric names a scenario that is not there.
    let text = std::fs::read_to_string(d.join("lab/sockets/echo.feature"))
        .unwrap()
        .replace("conection", "connection");
    std::fs::write(d.join("lab/sockets/echo.feature"), text).unwrap();
    std::fs::write(
        d.join("lab/lab.toml"),
        assignment("[[rubric]]\ncriterion = \"Case\"\nscenarios = [\"Uper\"]\n"),
    )
    .unwrap();
    let run = conform_in(d, &bin(), &["check", "--assignment", "lab/lab.toml"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("names the scenario \"Uper\""),
        "{}",
        run.all()
    );
    // A bad tag expression is refused at load too.
    std::fs::write(
        d.join("lab/lab.toml"),
        assignment("").replace("[submission]", "tags = \"@tcp and (\"\n[submission]"),
    )
    .unwrap();
    let run = conform_in(d, &bin(), &["check", "--assignment", "lab/lab.toml"]);
    assert_eq!(run.code, 2, "{}", run.all());
    // The bundled assignments check.
    let run = conform_in(
        d,
        &bin(),
        &[
            "check",
            "--assignment",
            "tcp-upper",
            "--assignment",
            "udp-upper",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.all());
}

/// A copy of the binary runs the bundled suites from an empty folder, and a
/// stray `features/` folder in the working folder is not picked up.
#[test]
fn a_copied_binary_runs_its_own_suites_from_any_folder() {
    let place = tempfile::tempdir().unwrap();
    let copy = place.path().join("conform");
    std::fs::copy(bin(), &copy).unwrap();
    let empty = tempfile::tempdir().unwrap();
    let run = conform_in(empty.path(), &copy, &["run", "sockets", "--quiet"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("0 failed, 0 errors"), "{}", run.all());
    let list = conform_in(empty.path(), &copy, &["list"]);
    assert_eq!(list.code, 0, "{}", list.all());
    let ids = list.stdout.lines().count();
    assert!(ids > 300, "{ids} scenarios listed");
    assert!(list.stdout.contains(
        "sockets/tcp/a-lowercase-sentence-comes-back-upper-cased\tfeatures/sockets/tcp.feature:"
    ));
    let check = conform_in(empty.path(), &copy, &["check", "--assignment", "tcp-upper"]);
    assert_eq!(check.code, 0, "{}", check.all());
    // Some other project's features/ folder: ignored.
    let other = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(other.path().join("features/http")).unwrap();
    std::fs::write(
        other.path().join("features/http/bogus.feature"),
        "@http\nFeature: not ours\n\n  Scenario: Bogus\n    Given nothing at all\n",
    )
    .unwrap();
    let there = conform_in(other.path(), &copy, &["list"]);
    assert_eq!(there.code, 0, "{}", there.all());
    assert_eq!(there.stdout.lines().count(), ids);
    assert!(!there.stdout.contains("bogus"));
    let run = conform_in(other.path(), &copy, &["run", "sockets", "--quiet"]);
    assert_eq!(run.code, 0, "{}", run.all());
}

/// The README's step tables are what `conform steps --markdown` prints:
/// regenerate them with `cargo run -p conform -- steps --readme README.md`.
#[test]
fn the_readme_step_tables_are_generated_from_the_step_definitions() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let tables = conform_in(&repo(), &bin(), &["steps", "--markdown"]);
    assert_eq!(tables.code, 0, "{}", tables.all());
    let begin = "<!-- steps:begin";
    let start = readme
        .find(begin)
        .expect("README has the steps:begin marker");
    let body_start = readme[start..].find('\n').map(|i| start + i + 1).unwrap();
    let end = readme.find("<!-- steps:end -->").expect("steps:end marker");
    let in_readme = readme[body_start..end].trim();
    assert!(
        in_readme == tables.stdout.trim(),
        "the README's step tables are stale: run `cargo run -p conform -- steps --readme README.md`"
    );
    // Every step has a line in them.
    let listing = conform_in(&repo(), &bin(), &["steps"]);
    let steps = listing
        .stdout
        .lines()
        .filter(|l| {
            l.starts_with("  Given ") || l.starts_with("  When ") || l.starts_with("  Then ")
        })
        .count();
    let rows = tables
        .stdout
        .lines()
        .filter(|l| l.starts_with("| `"))
        .count();
    assert_eq!(rows, steps);
    // --grep and a section narrow the listing.
    let grep = conform_in(&repo(), &bin(), &["steps", "smtp", "--grep", "EHLO"]);
    assert_eq!(grep.code, 0, "{}", grep.all());
    assert!(grep.stdout.starts_with("SMTP (smtp)"), "{}", grep.all());
    // Each step listed (its pattern, meaning and example) mentions EHLO.
    let mut blocks: Vec<String> = Vec::new();
    for line in grep.stdout.lines().skip(1) {
        if line.starts_with("      ") {
            if let Some(b) = blocks.last_mut() {
                b.push_str(line);
            }
        } else if line.starts_with("  ") {
            blocks.push(line.to_string());
        }
    }
    assert!(blocks.len() >= 2, "{}", grep.all());
    for b in &blocks {
        assert!(b.to_lowercase().contains("ehlo"), "{b}");
    }
    assert!(grep.stdout.contains("an SMTP session after EHLO"));
    assert!(!grep.stdout.contains("IMAP"));
}

/// The README's JSON API example: a project's own scenarios for a JSON
/// endpoint (application steps: header lines, a doc-string body, JSON
/// pointer and regex checks, a captured id) pass against the example
/// application and fail against its faulty mode.
#[test]
fn a_json_api_example_passes_and_its_faulty_mode_fails() {
    for (faulty, want) in [(false, 0), (true, 1)] {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let mut args = vec![
            repo()
                .join("examples/json-api/app.py")
                .display()
                .to_string(),
            port.to_string(),
        ];
        if faulty {
            args.push("--faulty".into());
        }
        let mut app = std::process::Command::new("python3")
            .args(&args)
            .spawn()
            .expect("python3 starts the example app");
        let up = (0..100).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(100));
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        let out = tempfile::tempdir().unwrap();
        let profile = out.path().join("app.toml");
        std::fs::write(
            &profile,
            format!("[http]\naddress = \"127.0.0.1:{port}\"\n"),
        )
        .unwrap();
        let run = conform_in(
            &repo(),
            &bin(),
            &[
                "run",
                "http",
                "--target",
                profile.to_str().unwrap(),
                "--features",
                "examples/json-api/conform",
                "--no-bundled",
            ],
        );
        let _ = app.kill();
        let _ = app.wait();
        assert!(up, "the example app listened on {port}");
        assert_eq!(run.code, want, "faulty={faulty}: {}", run.all());
        if faulty {
            assert!(
                run.stdout.contains("the response has no Location header")
                    && run.stdout.contains("conform: 1 passed, 2 failed"),
                "{}",
                run.all()
            );
        } else {
            assert!(
                run.stdout.contains("conform: 3 passed, 0 failed"),
                "{}",
                run.all()
            );
        }
    }
}

/// The README's worked example of an instructor's own client lab
/// (`examples/client-lab/`): an assignment file next to the lab's own
/// feature file, graded as written: the solution gets full marks (exit 0),
/// the course's TCPClient.py, which has no timeout, loses only the timeout
/// criterion.
#[test]
fn the_client_lab_worked_example_grades_as_the_readme_says() {
    let root = repo();
    let check = conform_in(
        &root,
        &bin(),
        &[
            "check",
            "--assignment",
            "examples/client-lab/tcp-client-timeout.toml",
        ],
    );
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    assert!(
        check
            .stdout
            .contains("assignment tcp-client-timeout: 6 scenario(s), rubric and steps check"),
        "{}",
        check.stdout
    );
    let assignment = "examples/client-lab/tcp-client-timeout.toml";
    let grade = |submission: &str| {
        conform_in(
            &root,
            &bin(),
            &[
                "grade",
                "--assignment",
                assignment,
                "--submission",
                submission,
            ],
        )
    };
    let run = grade("examples/client-lab/solution");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("Total: 7/7 points (6 of 6 scenarios passed"),
        "{}",
        run.stdout
    );
    let run = grade("harness/tests/submissions/tcp-client-course");
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("Total: 5/7 points (5 of 6 scenarios passed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "FAIL   0/2  [hidden] A server that never answers: the client says so and ends"
        ),
        "{}",
        run.stdout
    );
}
