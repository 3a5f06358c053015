//! `conform grade` end to end with the bundled assignments and the example
//! submissions in tests/submissions/: the course's programs score full
//! marks, each faulty program loses the points of what it breaks with
//! feedback that says why, and no process of a submission outlives the grader.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use common::{cases, conform, parse_junit};
use serde_json::Value;

fn submission(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/submissions")
        .join(name)
}

struct Graded {
    run: common::Run,
    grade: Value,
    results: Value,
    out: tempfile::TempDir,
}

async fn grade(assignment: &str, sub: &str) -> Graded {
    grade_folder(assignment, &submission(sub)).await
}

async fn grade_folder(assignment: &str, dir: &Path) -> Graded {
    let out = tempfile::tempdir().unwrap();
    let run = conform(&[
        "grade",
        "--assignment",
        assignment,
        "--submission",
        dir.to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
    ])
    .await;
    assert!(run.code == 0 || run.code == 1, "{}", run.all());
    let grade =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("grade.json")).unwrap())
            .unwrap();
    let results =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("results.json")).unwrap())
            .unwrap();
    assert_no_leftovers(&grade);
    Graded {
        run,
        grade,
        results,
        out,
    }
}

/// Every process a start of the submission had is gone (or a zombie).
fn assert_no_leftovers(grade: &Value) {
    for start in grade["starts"].as_array().unwrap() {
        let pgid = start["pgid"].as_i64().unwrap();
        let mut pids: Vec<i64> = start["stopped"]["killed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_i64().unwrap())
            .collect();
        pids.push(start["pid"].as_i64().unwrap());
        for pid in pids {
            assert!(
                !alive(pid),
                "process {pid} of the submission is still running"
            );
        }
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i64>() else {
                continue;
            };
            if let Some((state, pgrp)) = stat(pid) {
                assert!(
                    !(pgrp == pgid && state != 'Z'),
                    "process {pid} in the submission's group {pgid} is still running"
                );
            }
        }
        assert!(start["stopped"]["survivors"].as_array().unwrap().is_empty());
    }
}

fn stat(pid: i64) -> Option<(char, i64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    let mut f = rest.split_whitespace();
    let state = f.next()?.chars().next()?;
    f.next()?;
    Some((state, f.next()?.parse().ok()?))
}

fn alive(pid: i64) -> bool {
    matches!(stat(pid), Some((s, _)) if s != 'Z' && s != 'X')
}

/// Names of the scenarios that lost points.
fn failed(g: &Graded) -> BTreeSet<String> {
    g.grade["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !s["passed"].as_bool().unwrap())
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

fn score(g: &Graded) -> (f64, f64) {
    (
        g.grade["score"].as_f64().unwrap(),
        g.grade["max_score"].as_f64().unwrap(),
    )
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

const CLOSES: &str = "The server closes the connection after its reply";
const ONE_PIECE: &str = "A message sent in one piece gets one reply with nothing after it";
const EMPTY: &str =
    "A client that sends nothing and closes its sending side sees the connection closed";
const LARGE: &str = "A message of 1024 bytes, the course's receive buffer, comes back whole";
const NEXT: &str = "The next client is served after the first one's connection is closed";
const IN_TURN: &str = "A client that connects while another is connected is served in turn";

#[tokio::test(flavor = "multi_thread")]
async fn the_course_tcp_server_scores_full_marks() {
    let g = grade("tcp-upper", "tcp-course").await;
    assert_eq!(g.run.code, 0, "{}", g.run.all());
    assert_eq!(score(&g), (16.0, 16.0), "{}", g.run.all());
    assert!(
        g.run.stdout.contains("Total: 16/16 points"),
        "{}",
        g.run.all()
    );
    // Gradescope: every test with its points.
    assert_eq!(g.results["score"].as_f64(), Some(16.0));
    let tests = g.results["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 11);
    for t in tests {
        assert_eq!(t["score"], t["max_score"], "{t}");
        for key in ["name", "output", "visibility"] {
            assert!(t.get(key).is_some(), "{key} in {t}");
        }
    }
    // JUnit loads and carries the points.
    let suites = parse_junit(&g.out.path().join("junit.xml"));
    let all = cases(&suites);
    assert_eq!(all.len(), 11);
    for c in all {
        assert!(c.status.is_success(), "{}", c.name);
        assert!(c.properties.vec.iter().any(|(k, _)| k == "points"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_course_udp_server_scores_full_marks() {
    let g = grade("udp-upper", "udp-course").await;
    assert_eq!(g.run.code, 0, "{}", g.run.all());
    assert_eq!(score(&g), (18.0, 18.0), "{}", g.run.all());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_python3_textbook_programs_score_full_marks() {
    // recv().decode(), str.upper(), .encode(): é becomes É and bytes that are
    // not UTF-8 make decode() raise, neither of which the course asks about.
    let g = grade("tcp-upper", "tcp-textbook").await;
    assert_eq!(g.run.code, 0, "{}", g.run.all());
    assert_eq!(score(&g), (16.0, 16.0), "{}", g.run.all());
    let g = grade("udp-upper", "udp-textbook").await;
    assert_eq!(g.run.code, 0, "{}", g.run.all());
    assert_eq!(score(&g), (18.0, 18.0), "{}", g.run.all());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_right_but_slow_program_loses_only_the_promptness_point() {
    for (assignment, sub, max) in [
        ("tcp-upper", "tcp-late", 16.0),
        ("udp-upper", "udp-late", 18.0),
    ] {
        let g = grade(assignment, sub).await;
        assert_eq!(score(&g), (max - 1.0, max), "{sub}: {}", g.run.all());
        assert_eq!(failed(&g), set(&["The reply comes promptly"]), "{sub}");
        assert!(
            g.run.stdout.contains("the reply came late: 3."),
            "{sub}: {}",
            g.run.all()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn lower_casing_loses_the_upper_casing_checks_only_and_shows_what_came() {
    let g = grade("tcp-upper", "tcp-lower").await;
    assert_eq!(g.run.code, 1);
    // Lost: the three exact upper-casing scenarios (4), the hidden random
    // sentence (2) and the 1024-byte message (1). Kept: closing, one reply,
    // next client, client in turn, empty input, promptness, which do not
    // depend on case.
    assert_eq!(score(&g), (9.0, 16.0), "{}", g.run.all());
    assert_eq!(failed(&g).len(), 5, "{:?}", failed(&g));
    for kept in [EMPTY, CLOSES, ONE_PIECE, NEXT, IN_TURN] {
        assert!(
            !failed(&g).contains(kept),
            "{kept} is about closing or serving, not case"
        );
    }
    assert!(failed(&g).contains(LARGE));
    let out = &g.run.stdout;
    assert!(
        out.contains("expected:    \"HELLO WORLD\" (11 bytes)"),
        "{out}"
    );
    assert!(
        out.contains("got:         \"hello world\" (11 bytes)"),
        "{out}"
    );
    assert!(
        out.contains("S: hello world"),
        "the transcript is in the feedback: {out}"
    );
    assert!(out.contains("behaviour:   Exact upper-casing"), "{out}");
    // The hidden scenario: in results.json withheld by Gradescope until the
    // grades are published, with its details for the instructor; in the
    // student-facing summary and JUnit only its name and points.
    let hidden = g.results["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"].as_str().unwrap().contains("random sentence"))
        .unwrap();
    assert_eq!(hidden["score"].as_f64(), Some(0.0));
    assert_eq!(hidden["visibility"], "after_published");
    assert!(hidden["output"].as_str().unwrap().contains("expected"));
    let summary = std::fs::read_to_string(g.out.path().join("summary.txt")).unwrap();
    let at = summary
        .find("FAIL [hidden] A random sentence")
        .expect("the hidden scenario in What to fix");
    let text = &summary[at..summary[at..].find("\n\n").map_or(summary.len(), |e| at + e)];
    assert!(
        text.contains("hidden test") && !text.contains("C:") && !text.contains("expected"),
        "{text}"
    );
    let junit = std::fs::read_to_string(g.out.path().join("junit.xml")).unwrap();
    assert!(junit.contains("hidden test: details are not shown"));
    assert!(
        out.contains("[hidden] A random sentence comes back upper-cased  (0/2 points)"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn never_closing_loses_the_close_checks_only() {
    let g = grade("tcp-upper", "tcp-never-closes").await;
    assert_eq!(score(&g), (7.0, 16.0), "{}", g.run.all());
    assert_eq!(
        failed(&g),
        set(&[CLOSES, ONE_PIECE, EMPTY, LARGE, NEXT, IN_TURN])
    );
    assert!(
        g.run
            .stdout
            .contains("the server did not close the connection within 10s"),
        "{}",
        g.run.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn serving_one_client_and_exiting_loses_the_next_client_checks() {
    let g = grade("tcp-upper", "tcp-one-client").await;
    assert_eq!(score(&g), (12.0, 16.0), "{}", g.run.all());
    assert_eq!(failed(&g), set(&[NEXT, IN_TURN]));
    assert!(
        g.run
            .stdout
            .contains("Your program exited with status 0 while this scenario ran"),
        "{}",
        g.run.all()
    );
    assert!(
        g.run.stdout.contains("served one client, bye"),
        "its output is in the feedback: {}",
        g.run.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_program_that_sleeps_past_the_deadline_gets_zero_quickly() {
    let t = Instant::now();
    let g = grade("tcp-upper", "tcp-sleeps").await;
    assert!(
        t.elapsed().as_secs() < 30,
        "no stuck grader: {:?}",
        t.elapsed()
    );
    assert_eq!(score(&g), (0.0, 16.0));
    let problem = g.grade["problem"].as_str().unwrap();
    assert!(
        problem.contains("did not open TCP") && problem.contains("within 10s"),
        "{problem}"
    );
    assert!(
        g.run.stdout.contains("PROBLEM: Your program"),
        "{}",
        g.run.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn forking_a_child_that_hangs_leaves_no_process_behind() {
    // The bundled assignment, but the program also notes every pid it makes.
    let dir = tempfile::tempdir().unwrap();
    // Writable by the submission's own user (a grader running as root
    // runs it as one), which owns nothing outside its copy otherwise.
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let pids = dir.path().join("pids");
    let text = common_assignment("tcp-upper").replace(
        "start = \"python3 TCPServer.py {port}\"",
        &format!(
            "start = \"python3 TCPServer.py {{port}} {}\"",
            pids.display()
        ),
    );
    let file = dir.path().join("tcp-fork.toml");
    std::fs::write(&file, text).unwrap();
    let g = grade(file.to_str().unwrap(), "tcp-fork-hang").await;
    assert_eq!(score(&g), (7.0, 16.0), "{}", g.run.all());
    assert_eq!(
        failed(&g),
        set(&[CLOSES, ONE_PIECE, EMPTY, LARGE, NEXT, IN_TURN])
    );
    let noted: Vec<i64> = std::fs::read_to_string(&pids)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    // One parent per scenario, plus the children that served clients.
    assert!(noted.len() > 11, "{noted:?}");
    for pid in noted {
        assert!(
            !alive(pid),
            "process {pid} (forked by the submission) outlived the grader"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_submission_graded_by_root_sees_only_its_own_loopback() {
    // The grader's machine has a service on its loopback; the submission
    // tries to reach it at every start and notes its interfaces, then
    // serves as the course's program does.
    let service = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    service.set_nonblocking(true).unwrap();
    let port = service.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let seen = dir.path().join("seen");
    let probe = dir.path().join("probe.py");
    std::fs::write(
        &probe,
        format!(
            "import socket\n\
             try:\n    socket.create_connection(('127.0.0.1', {port}), 1)\n    r = 'reached'\n\
             except OSError as e:\n    r = type(e).__name__\n\
             names = [l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:]]\n\
             open('{}', 'a').write(r + ' ' + ' '.join(names) + '\\n')\n",
            seen.display()
        ),
    )
    .unwrap();
    let text = common_assignment("tcp-upper").replace(
        "start = \"python3 TCPServer.py {port}\"",
        &format!(
            "start = \"python3 {}; exec python3 TCPServer.py {{port}}\"",
            probe.display()
        ),
    );
    let file = dir.path().join("tcp-probe.toml");
    std::fs::write(&file, text).unwrap();
    let g = grade(file.to_str().unwrap(), "tcp-course").await;
    // Graded as ever: every scenario's connection reached the program.
    assert_eq!(score(&g), (16.0, 16.0), "{}", g.run.all());
    let starts = std::fs::read_to_string(&seen).unwrap();
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        assert_eq!(g.grade["network"], "the machine's");
        eprintln!("not root: no network namespace to check");
        return;
    }
    assert_eq!(g.grade["network"], "loopback only", "{}", g.run.all());
    assert!(starts.lines().count() >= 11, "{starts}");
    for line in starts.lines() {
        // Refused: nothing listens on that port in its namespace, and the
        // only interface there is loopback.
        assert_eq!(line, "ConnectionRefusedError lo", "{starts}");
    }
    assert!(
        service.accept().is_err(),
        "the submission reached a service on the grader's loopback"
    );
}

fn common_assignment(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("assignments/{name}.toml")),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn replying_to_a_fixed_port_never_reaches_the_client() {
    let g = grade("udp-upper", "udp-fixed-port").await;
    assert_eq!(score(&g), (0.0, 18.0), "{}", g.run.all());
    assert!(
        g.run.stdout.contains("(the client's own address and port)"),
        "{}",
        g.run.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_program_on_the_wrong_port_is_told_so() {
    let g = grade("udp-upper", "udp-wrong-port").await;
    assert_eq!(score(&g), (0.0, 18.0));
    let problem = g.grade["problem"].as_str().unwrap();
    assert!(
        problem.contains("opened UDP") && problem.contains("must use the port it is given"),
        "{problem}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_program_that_does_not_build_is_told_why() {
    let g = grade("udp-upper", "udp-syntax-error").await;
    assert_eq!(score(&g), (0.0, 18.0));
    let problem = g.grade["problem"].as_str().unwrap();
    assert!(
        problem.contains("The build") && problem.contains("SyntaxError"),
        "{problem}"
    );
    assert!(
        g.grade["starts"].as_array().unwrap().is_empty(),
        "nothing is started after a failed build"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_command_can_be_graded_and_written_as_gradescope_results() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.json");
    let junit = dir.path().join("junit.xml");
    let program = submission("udp-course").join("UDPServer.py");
    let run = conform(&[
        "grade",
        "--assignment",
        "udp-upper",
        "--command",
        &format!("python3 {} {{port}}", program.display()),
        "--results",
        results.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--quiet",
    ])
    .await;
    assert_eq!(run.code, 0, "{}", run.all());
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    assert_eq!(r["score"].as_f64(), Some(18.0));
    assert_eq!(cases(&parse_junit(&junit)).len(), 12);
}

#[tokio::test(flavor = "multi_thread")]
async fn batch_mode_writes_a_gradebook_and_a_folder_per_submission() {
    let subs = tempfile::tempdir().unwrap();
    for name in ["tcp-course", "tcp-lower", "tcp-sleeps"] {
        let to = subs.path().join(name);
        std::fs::create_dir_all(&to).unwrap();
        std::fs::copy(
            submission(name).join("TCPServer.py"),
            to.join("TCPServer.py"),
        )
        .unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let run = conform(&[
        "grade",
        "--assignment",
        "tcp-upper",
        "--submissions",
        subs.path().to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "--jobs",
        "3",
    ])
    .await;
    assert_eq!(run.code, 0, "{}", run.all());
    let csv = std::fs::read_to_string(out.path().join("gradebook.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("submission,score,max_score,percent,status,problem,"),
        "{csv}"
    );
    assert!(
        lines[1].starts_with("tcp-course,16,16,100.0,graded,,"),
        "{csv}"
    );
    assert!(lines[2].starts_with("tcp-lower,9,16,"), "{csv}");
    assert!(lines[3].starts_with("tcp-sleeps,0,16,0.0,graded,"), "{csv}");
    let book: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("gradebook.json")).unwrap())
            .unwrap();
    assert_eq!(book.as_array().unwrap().len(), 3);
    for name in ["tcp-course", "tcp-lower", "tcp-sleeps"] {
        for file in ["summary.txt", "results.json", "junit.xml", "grade.json"] {
            assert!(out.path().join(name).join(file).is_file(), "{name}/{file}");
        }
        let g: Value = serde_json::from_str(
            &std::fs::read_to_string(out.path().join(name).join("grade.json")).unwrap(),
        )
        .unwrap();
        assert_no_leftovers(&g);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rubric_that_names_a_missing_scenario_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("typo.toml");
    std::fs::write(
        &file,
        common_assignment("udp-upper").replace(
            "An empty datagram gets an empty reply",
            "An empty datagram gets a reply",
        ),
    )
    .unwrap();
    let run = conform(&[
        "grade",
        "--assignment",
        file.to_str().unwrap(),
        "--submission",
        submission("udp-course").to_str().unwrap(),
    ])
    .await;
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("names the scenario \"An empty datagram gets a reply\""),
        "{}",
        run.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hard_coded_answers_fail_the_random_sentence() {
    let g = grade("tcp-upper", "tcp-hard-coded").await;
    assert_eq!(score(&g), (14.0, 16.0), "{}", g.run.all());
    assert_eq!(
        failed(&g),
        set(&["A random sentence comes back upper-cased"])
    );
    // The instructor's report has the details the student does not see.
    let s = g.grade["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| !s["passed"].as_bool().unwrap())
        .unwrap();
    assert!(s["hidden"].as_bool().unwrap());
    assert!(
        s["result"]["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("did not receive the expected bytes"),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_program_that_sleeps_past_the_reply_deadline_is_not_waited_for() {
    let t = Instant::now();
    let g = grade("udp-upper", "udp-slow-reply").await;
    assert!(
        t.elapsed().as_secs() < 150,
        "no stuck grader: {:?}",
        t.elapsed()
    );
    assert_eq!(score(&g), (0.0, 18.0), "{}", g.run.all());
    assert!(
        g.run.stdout.contains("nothing arrived within 10s"),
        "{}",
        g.run.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn started_once_a_program_that_exits_loses_everything_after_its_first_client() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tcp-once.toml");
    std::fs::write(
        &file,
        common_assignment("tcp-upper").replace("restart = \"each-scenario\"", "restart = \"once\""),
    )
    .unwrap();
    let g = grade(file.to_str().unwrap(), "tcp-one-client").await;
    assert_eq!(g.grade["starts"].as_array().unwrap().len(), 1);
    assert_eq!(failed(&g).len(), 10, "{}", g.run.all());
    assert!(!g.run.stdout.contains("fresh start"), "{}", g.run.all());
    assert!(
        g.run
            .stdout
            .contains("Your program exited with status 0 while this scenario ran."),
        "{}",
        g.run.all()
    );
}

/// Every key of a Gradescope `results.json` is one its autograder
/// specification documents, with the documented type and values.
fn assert_gradescope_schema(r: &Value) {
    const VISIBILITY: &[&str] = &["visible", "hidden", "after_due_date", "after_published"];
    const FORMATS: &[&str] = &["text", "md", "html", "simple_format", "ansi"];
    let top = r.as_object().unwrap();
    for (k, v) in top {
        match k.as_str() {
            "score" | "execution_time" => assert!(v.is_number(), "{k}: {v}"),
            "output" => assert!(v.is_string()),
            "output_format" | "test_output_format" => {
                assert!(FORMATS.contains(&v.as_str().unwrap()), "{k}: {v}")
            }
            "visibility" | "stdout_visibility" => {
                assert!(VISIBILITY.contains(&v.as_str().unwrap()), "{k}: {v}")
            }
            "extra_data" => assert!(v.is_object()),
            "tests" => {
                for t in v.as_array().unwrap() {
                    for (k, v) in t.as_object().unwrap() {
                        match k.as_str() {
                            "score" | "max_score" => assert!(v.is_number(), "{k}: {v}"),
                            "name" | "number" | "output" => assert!(v.is_string(), "{k}: {v}"),
                            "status" => assert!(
                                ["passed", "failed"].contains(&v.as_str().unwrap()),
                                "{k}: {v}"
                            ),
                            "output_format" | "name_format" => {
                                assert!(FORMATS.contains(&v.as_str().unwrap()), "{k}: {v}")
                            }
                            "visibility" => {
                                assert!(VISIBILITY.contains(&v.as_str().unwrap()), "{k}: {v}")
                            }
                            "tags" => assert!(v.as_array().unwrap().iter().all(|t| t.is_string())),
                            "extra_data" => assert!(v.is_object()),
                            other => {
                                panic!("test key {other} is not in Gradescope's specification")
                            }
                        }
                    }
                }
            }
            "leaderboard" => {
                for e in v.as_array().unwrap() {
                    assert!(e["name"].is_string() && !e["value"].is_null(), "{e}");
                    if let Some(o) = e.get("order") {
                        assert!(["asc", "desc"].contains(&o.as_str().unwrap()));
                    }
                }
            }
            other => panic!("key {other} is not in Gradescope's specification"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_course_web_server_scores_full_marks_with_the_lab_web_root() {
    // The program gets the fixture web root as {www}: a folder of its own.
    let g = grade("web-server", "web-course").await;
    assert_eq!(g.run.code, 0, "{}", g.run.all());
    assert_eq!(score(&g), (16.0, 16.0), "{}", g.run.all());
    // Exactly the rubric's scenarios: the outline's five rows and 13 more.
    let tests = g.results["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 18, "{}", g.run.all());
    assert_gradescope_schema(&g.results);
    // The hidden criterion is withheld by Gradescope until published.
    for t in tests {
        let hidden = t["name"].as_str().unwrap().starts_with("If-Modified-Since");
        assert_eq!(
            t["visibility"],
            if hidden { "after_published" } else { "visible" },
            "{t}"
        );
    }
    // A criterion's points are shared by its scenarios: 2 over five rows.
    let rows: Vec<f64> = g.grade["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["criterion"] == "A malformed request: 400")
        .map(|s| s["max_score"].as_f64().unwrap())
        .collect();
    assert_eq!(rows.len(), 5);
    assert!((rows.iter().sum::<f64>() - 2.0).abs() < 1e-9, "{rows:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_textbook_web_server_loses_what_it_lacks_and_is_told_the_cause() {
    let g = grade("web-server", "web-textbook").await;
    assert_eq!(g.run.code, 1);
    assert_eq!(
        failed(&g),
        set(&[
            "Content-Length frames a 100000-byte file exactly",
            "An HTML file is labelled text/html",
            "A malformed request-line is answered with 400 [line=GET /index.html HTTP/1.1 extra]",
            "A malformed request-line is answered with 400 [line=GET /index.html http/1.1]",
            "A malformed request-line is answered with 400 [line=GET /index.html HTTTP/1.1]",
            "A malformed request-line is answered with 400 [line=G(T /index.html HTTP/1.1]",
            "A malformed request-line is answered with 400 [line=FOO]",
            "A request in an unsupported major version is answered with 505",
            "A response to HEAD has no content",
            "An HTTP/1.1 connection stays open for a second request",
            "Pipelined requests are answered in the order they were sent",
            "If-Modified-Since with the Last-Modified date gets 304 Not Modified",
        ]),
        "{}",
        g.run.all()
    );
    let summary = std::fs::read_to_string(g.out.path().join("summary.txt")).unwrap();
    // The cause, not a symptom: its responses carry no Content-Length.
    assert!(
        summary.contains("neither Content-Length nor chunked"),
        "{summary}"
    );
    // A 100000-byte body is shown by its head and tail and its size.
    assert!(summary.contains("lines (") && summary.contains("bytes) not shown"));
    assert!(summary.len() < 40_000, "{} bytes", summary.len());
    let results = std::fs::read_to_string(g.out.path().join("results.json")).unwrap();
    for t in g.results["tests"].as_array().unwrap() {
        assert!(
            t["output"].as_str().unwrap().len() < 12_000,
            "{}",
            results.len()
        );
    }
    // A HEAD answered with the page shows the page once.
    let head = g.grade["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "A response to HEAD has no content")
        .unwrap();
    let got = head["result"]["failure"]["got"].as_str().unwrap();
    assert_eq!(got.matches("<!DOCTYPE html>").count(), 1, "{got}");
    // JUnit: every scenario that cost points is a failure, with its points.
    let suites = parse_junit(&g.out.path().join("junit.xml"));
    let all = cases(&suites);
    assert_eq!(all.len(), 18);
    let failures = all.iter().filter(|c| c.status.is_failure()).count();
    assert_eq!(failures, 12);
    for c in all {
        let props: Vec<&str> = c.properties.vec.iter().map(|(k, _)| k.as_str()).collect();
        assert!(
            props.contains(&"points") && props.contains(&"earned"),
            "{props:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_web_server_without_conditional_get_loses_only_that_point() {
    let g = grade("web-server", "web-no-304").await;
    assert_eq!(score(&g), (15.0, 16.0), "{}", g.run.all());
    assert_eq!(
        failed(&g),
        set(&["If-Modified-Since with the Last-Modified date gets 304 Not Modified"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rubric_grades_exactly_its_scenarios_with_the_points_of_each_criterion() {
    // Two criteria from the UDP suite, one by name and one by stable id; the
    // rest of udp.feature is not graded at all. Three options of
    // [gradescope] as well.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("two.toml");
    let text = common_assignment("udp-upper");
    let head = &text[..text.find("[[rubric]]").unwrap()];
    std::fs::write(
        &file,
        format!(
            "{head}\n[gradescope]\noutput_format = \"md\"\nleaderboard = true\n\n\
             [[rubric]]\ncriterion = \"Upper-casing\"\npoints = 3\n\
             scenarios = [\"A lowercase sentence comes back upper-cased\", \"sockets/udp/an-empty-datagram-gets-an-empty-reply\"]\n\n\
             [[rubric]]\ncriterion = \"Reply address\"\nvisibility = \"after_due_date\"\n\
             scenarios = [\"The reply is sent to the client's own address and port\"]\n"
        ),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let run = conform(&[
        "grade",
        "--assignment",
        file.to_str().unwrap(),
        "--submission",
        submission("udp-course").to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
    ])
    .await;
    assert_eq!(run.code, 0, "full marks exit 0: {}", run.all());
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("results.json")).unwrap())
            .unwrap();
    assert_gradescope_schema(&r);
    let tests = r["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 3, "{r}");
    // points = 3 is the criterion's total; without points, the scenario's own.
    let of = |c: &str| -> Vec<&Value> {
        tests
            .iter()
            .filter(|t| t["name"].as_str().unwrap().starts_with(c))
            .collect()
    };
    let upper = of("Upper-casing");
    assert_eq!(upper.len(), 2);
    let total: f64 = upper.iter().map(|t| t["max_score"].as_f64().unwrap()).sum();
    assert_eq!(total, 3.0, "{r}");
    let reply = of("Reply address");
    assert_eq!(reply[0]["max_score"].as_f64(), Some(2.0), "its @points(2)");
    assert_eq!(reply[0]["visibility"], "after_due_date");
    assert_eq!(r["score"].as_f64(), Some(5.0));
    assert!(tests.iter().all(|t| t["output_format"] == "md"));
    assert_eq!(r["leaderboard"].as_array().unwrap().len(), 2);
    let summary = std::fs::read_to_string(out.path().join("summary.txt")).unwrap();
    assert!(!summary.contains("Other"), "{summary}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_visibility_or_a_scenario_named_twice_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = common_assignment("udp-upper");
    for (name, changed, says) in [
        (
            "vis",
            text.replacen("hidden = true", "visibility = \"secret\"", 1),
            "visibility = \"secret\"",
        ),
        (
            "twice",
            format!(
                "{text}\n[[rubric]]\ncriterion = \"Again\"\nscenarios = [\"An empty datagram gets an empty reply\"]\n"
            ),
            "named by two criteria",
        ),
    ] {
        let file = dir.path().join(format!("{name}.toml"));
        std::fs::write(&file, changed).unwrap();
        let run = conform(&[
            "grade",
            "--assignment",
            file.to_str().unwrap(),
            "--command",
            "true {port}",
        ])
        .await;
        assert_eq!(run.code, 2, "{name}: {}", run.all());
        assert!(run.stderr.contains(says), "{name}: {}", run.all());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_course_smtp_server_scores_full_marks_delivering_into_the_lab_maildir() {
    // The program gets the fixture mailboxes as {maildir}; the delivery
    // scenarios read the sink's Maildir of that same start.
    let g = grade("smtp-server", "smtp-course").await;
    assert_eq!(g.run.code, 0, "{}", g.run.all());
    assert_eq!(score(&g), (17.0, 17.0), "{}", g.run.all());
    assert_gradescope_schema(&g.results);
    for t in g.results["tests"].as_array().unwrap() {
        let hidden =
            t["name"] == "A connection dropped in the middle of a message delivers nothing";
        if hidden {
            assert_eq!(t["visibility"], "after_published", "{t}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_smtp_server_without_dot_unstuffing_loses_only_that_criterion() {
    let g = grade("smtp-server", "smtp-no-unstuffing").await;
    assert_eq!(g.run.code, 1);
    assert_eq!(score(&g), (15.0, 17.0), "{}", g.run.all());
    assert_eq!(
        failed(&g),
        set(&["Lines starting with \".\" are stored with the transparency dot removed"]),
        "{}",
        g.run.all()
    );
    let summary = std::fs::read_to_string(g.out.path().join("summary.txt")).unwrap();
    assert!(summary.contains("RFC 5321 §4.5.2"), "{summary}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_course_dns_server_scores_full_marks_from_the_lab_zone_over_udp() {
    // A UDP-only program: the grader waits for its UDP port ({zone} is the
    // fixture zone file).
    let g = grade("dns-server", "dns-course").await;
    assert_eq!(g.run.code, 0, "{}", g.run.all());
    assert_eq!(score(&g), (17.0, 17.0), "{}", g.run.all());
    assert_gradescope_schema(&g.results);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dns_server_that_answers_noerror_for_a_missing_name_loses_only_the_nxdomain_points() {
    let g = grade("dns-server", "dns-no-nxdomain").await;
    assert_eq!(g.run.code, 1);
    assert_eq!(score(&g), (14.0, 17.0), "{}", g.run.all());
    assert_eq!(
        failed(&g),
        set(&[
            "A name that does not exist gets NXDOMAIN with AA set",
            "NXDOMAIN carries the zone's SOA in the authority section",
        ]),
        "{}",
        g.run.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_course_pop3_server_scores_full_marks_on_the_lab_maildrop() {
    // {maildir} holds bob's fixture messages; the UPDATE-state scenario
    // places its own message in the same start's Maildir, without SMTP.
    let g = grade("pop3-server", "pop3-course").await;
    assert_eq!(g.run.code, 0, "{}", g.run.all());
    assert_eq!(score(&g), (19.0, 19.0), "{}", g.run.all());
    assert_gradescope_schema(&g.results);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pop3_server_without_byte_stuffing_loses_only_that_criterion() {
    let g = grade("pop3-server", "pop3-no-byte-stuffing").await;
    assert_eq!(g.run.code, 1);
    assert_eq!(score(&g), (17.0, 19.0), "{}", g.run.all());
    assert_eq!(
        failed(&g),
        set(&["RETR byte-stuffs the lines of a message that start with \".\""]),
        "{}",
        g.run.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pop3_server_whose_quit_keeps_marked_messages_loses_only_the_update_scenario() {
    let g = grade("pop3-server", "pop3-quit-keeps").await;
    assert_eq!(g.run.code, 1);
    assert_eq!(score(&g), (18.25, 19.0), "{}", g.run.all());
    assert_eq!(
        failed(&g),
        set(&["DELE and QUIT remove a message placed in the Maildir"]),
        "{}",
        g.run.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_course_ftp_server_scores_full_marks_on_the_lab_ftp_tree() {
    let g = grade("ftp-server", "ftp-course").await;
    assert_eq!(g.run.code, 0, "{}", g.run.all());
    assert_eq!(score(&g), (20.0, 20.0), "{}", g.run.all());
    assert_gradescope_schema(&g.results);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ftp_server_that_ignores_pasv_loses_only_the_passive_mode_criterion() {
    let g = grade("ftp-server", "ftp-port-only").await;
    assert_eq!(g.run.code, 1);
    assert_eq!(score(&g), (16.0, 20.0), "{}", g.run.all());
    assert_eq!(
        failed(&g),
        set(&[
            "The PASV reply names the address the client is connected to",
            "RETR in passive mode sends the file byte for byte, then 226",
            "LIST sends the directory listing over the data connection",
            "STOR in passive mode then RETR gives back the same bytes (TYPE I)",
            "The control connection stays open after a transfer",
        ]),
        "{}",
        g.run.all()
    );
    let summary = std::fs::read_to_string(g.out.path().join("summary.txt")).unwrap();
    assert!(summary.contains("PASV"), "{summary}");
}

// Client labs: the program is the client; each scenario runs it against the
// harness's own server (a peer on a fresh port), with random sentences and
// envelopes.

/// No process of a client lab's program is left: every one would run in
/// the (now deleted) scratch folder of its grader.
fn assert_no_client_left(program: &str) {
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i64>() else {
            continue;
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap_or_default();
        let cwd = cwd.to_string_lossy();
        assert!(
            !(String::from_utf8_lossy(&cmdline).contains(program)
                && cwd.contains("conform-grade-")
                && cwd.ends_with("(deleted)")
                && alive(pid)),
            "process {pid} ({program}) outlived its grader"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_course_client_programs_score_full_marks() {
    for (assignment, sub, max, tests) in [
        ("udp-client", "udp-client-course", 7.0, 5),
        ("tcp-client", "tcp-client-course", 9.0, 7),
        ("mail-client", "mail-course", 15.0, 14),
    ] {
        let g = grade(assignment, sub).await;
        assert_eq!(g.run.code, 0, "{sub}: {}", g.run.all());
        assert_eq!(score(&g), (max, max), "{sub}: {}", g.run.all());
        assert!(
            g.run
                .stdout
                .contains("Each scenario ran the program afresh against the grader's own server"),
            "{}",
            g.run.all()
        );
        assert_eq!(g.grade["client_lab"], true);
        let results = g.results["tests"].as_array().unwrap();
        assert_eq!(results.len(), tests, "{sub}");
        assert_gradescope_schema(&g.results);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_udp_client_that_does_not_print_the_reply_loses_only_that() {
    let g = grade("udp-client", "udp-client-no-print").await;
    assert_eq!(g.run.code, 1);
    // The late reply is judged by what it prints, too.
    assert_eq!(score(&g), (3.0, 7.0), "{}", g.run.all());
    assert_eq!(
        failed(&g),
        set(&[
            "The client prints the server's reply",
            "The client prints what the server answered, not its own upper-casing",
            "A reply that comes two seconds late is still waited for",
        ])
    );
    // What it printed instead is in the feedback.
    assert!(
        g.run.stdout.contains("Sent: hello world"),
        "{}",
        g.run.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tcp_client_that_never_closes_loses_only_closing_and_ending() {
    let g = grade("tcp-client", "tcp-client-never-closes").await;
    assert_eq!(score(&g), (7.0, 9.0), "{}", g.run.all());
    assert_eq!(
        failed(&g),
        set(&[
            "The client closes its connection and ends",
            "A server that closes without answering: the client ends",
        ])
    );
    assert!(
        g.run.stdout.contains("it waits forever (it was killed)"),
        "{}",
        g.run.all()
    );
    assert_no_client_left("TCPClient.py");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_mistake_of_a_mail_client_loses_only_its_points() {
    let wait = [
        "The client waits for the greeting before its first command",
        "Without PIPELINING each command waits for the previous reply",
    ];
    for (sub, lost, expected) in [
        // The greeting is a reply too: a command before it is a command
        // before the previous reply.
        ("mail-no-greeting-wait", &wait[..], 13.0),
        (
            "mail-bare-lf",
            &["Every command line ends in CRLF"][..],
            14.0,
        ),
        ("mail-no-quit", &["The session ends with QUIT"][..], 14.0),
        (
            "mail-hard-coded",
            &[
                "MAIL FROM carries the sender in angle brackets",
                "RCPT TO carries the recipient in angle brackets",
            ][..],
            13.0,
        ),
        // Without the end of the data nothing after it is a command: the
        // server never has the whole message, nor a QUIT.
        (
            "mail-no-end",
            &[
                "The message data ends with CRLF . CRLF",
                "Lines beginning with a period are dot-stuffed",
                "The session ends with QUIT",
            ][..],
            11.0,
        ),
    ] {
        let g = grade("mail-client", sub).await;
        assert_eq!(g.run.code, 1, "{sub}");
        assert_eq!(failed(&g), set(lost), "{sub}: {}", g.run.all());
        assert_eq!(score(&g), (expected, 15.0), "{sub}: {}", g.run.all());
    }
}

/// The course proxy with one behaviour flipped: `from` replaced by `to` in
/// its ProxyServer.py, in a folder of its own.
fn proxy_variant(from: &str, to: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(submission("proxy-course").join("ProxyServer.py")).unwrap();
    assert!(text.contains(from), "{from}");
    std::fs::write(dir.path().join("ProxyServer.py"), text.replace(from, to)).unwrap();
    dir
}

const PROXY_CACHE: &str =
    "A fresh copy answers a repeat from the cache, also when the origin is gone";
const PROXY_CONDITIONAL: &str =
    "The conditional GET: a stale copy is revalidated with If-Modified-Since and a 304";
const PROXY_CONCURRENT: &str = "A second client is served while the origin keeps the first waiting";
const PROXY_INTACT: &str = "Objects come back unchanged: text, binary, large, chunked";

/// The criteria that lost points.
fn lost_criteria(g: &Graded) -> BTreeSet<String> {
    g.grade["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["passed"] != true)
        .map(|s| s["criterion"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_threaded_caching_proxy_scores_full_marks_and_each_flaw_loses_only_its_criterion() {
    let g = grade("web-proxy", "proxy-course").await;
    assert_eq!(score(&g), (20.0, 20.0), "{}", g.run.all());
    assert_eq!(g.run.code, 0, "{}", g.run.all());

    // Never caches: every repeat goes to the origin.
    let no_cache = proxy_variant(
        "if head.split(' ')[1] == '200' and age is not None:",
        "if False:",
    );
    // One client at a time: no thread per client.
    let one_client = proxy_variant(
        "threading.Thread(target=serve, args=(conn,), daemon=True).start()",
        "serve(conn)",
    );
    // Bodies through a text decoding: binary objects come back changed.
    let text_bodies = proxy_variant(
        ".encode('iso-8859-1') + body)",
        ".encode('iso-8859-1') + body.decode('utf-8', 'replace').encode('utf-8'))",
    );
    let (a, b, c) = tokio::join!(
        grade_folder("web-proxy", no_cache.path()),
        grade_folder("web-proxy", one_client.path()),
        grade_folder("web-proxy", text_bodies.path()),
    );
    assert_eq!(
        lost_criteria(&a),
        set(&[PROXY_CACHE, PROXY_CONDITIONAL]),
        "{}",
        a.run.all()
    );
    assert_eq!(score(&a), (12.0, 20.0));
    assert_eq!(
        lost_criteria(&b),
        set(&[PROXY_CONCURRENT]),
        "{}",
        b.run.all()
    );
    assert_eq!(score(&b), (18.0, 20.0));
    assert_eq!(lost_criteria(&c), set(&[PROXY_INTACT]), "{}", c.run.all());
    assert_eq!(score(&c), (18.0, 20.0));
    // The feedback says what differed.
    assert!(
        c.run.stdout.contains("they differ from octet 128"),
        "{}",
        c.run.all()
    );
}
