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
    let out = tempfile::tempdir().unwrap();
    let dir = submission(sub);
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
    // The hidden scenario shows only its name and points.
    let hidden = g.results["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"].as_str().unwrap().contains("random sentence"))
        .unwrap();
    assert_eq!(hidden["score"].as_f64(), Some(0.0));
    let text = hidden["output"].as_str().unwrap();
    assert!(
        text.contains("hidden test") && !text.contains("C:") && !text.contains("expected"),
        "{text}"
    );
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
        problem.contains("did not open TCP") && problem.contains("within 3s"),
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
