//! The runner's mechanisms for stock servers, end to end: connection budgets
//! (`max_connections`), refusals for a limit reported as a configuration
//! problem (exit 2) instead of failures, the preflight of the profile, and
//! the summary counts. The faulty servers are proxies in front of the
//! bundled servers (`conform serve`) that turn connections away beyond a
//! limit, the way a stock server does.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{conform, limited_proxy, profile, reroute, serve, OverLimit};

const IMAP_FEW: &str = "@rfc3501-sec-6.3.1 or @rfc3501-sec-6.3.3 or @rfc3501-sec-6.1.1";

async fn run_with(profile_text: &str, args: &[&str]) -> common::Run {
    let (_dir, p) = profile(profile_text);
    let mut all = vec!["run", "--target", p.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    conform(&all).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_421_greeting_beyond_the_servers_limit_is_a_configuration_error() {
    let served = serve(&["smtp"]).await;
    let upstream = served.addr();
    let (addr, refused) = limited_proxy(
        upstream,
        2,
        OverLimit::Refuse(b"421 4.7.0 Too many connections\r\n"),
        Duration::from_millis(50),
    )
    .await;
    let text = reroute(&served, "smtp", addr, "max_connections = 16");
    let run = run_with(&text, &["smtp", "--step-timeout", "2s"]).await;
    assert!(refused.load(Ordering::SeqCst) > 0, "{}", run.all());
    assert_eq!(run.code, 2, "{}", run.all());
    for want in [
        "the server refused a connection for a limit: \"421 4.7.0 Too many connections\"",
        "set [smtp] max_connections (now 16) lower",
        "conform: configuration problem: the server refused connections for a limit in",
    ] {
        assert!(run.stdout.contains(want), "{want}\n{}", run.all());
    }
    // Not read as the next pipelined command's reply.
    assert!(
        !run.stdout.contains("for the next pipelined command"),
        "{}",
        run.all()
    );

    // Within a budget below the server's limit, the same server passes.
    let text = reroute(&served, "smtp", addr, "max_connections = 1");
    let run = run_with(&text, &["smtp", "--step-timeout", "2s"]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains(" 0 failed, 0 errors"), "{}", run.all());
    // A scenario with a second client does not fit in a budget of one.
    assert!(
        run.stdout.contains(
            "the scenario needs 2 connections at once to the [smtp] server, more than [smtp] max_connections = 1 allows"
        ),
        "{}",
        run.all()
    );
    served.kill().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_imap_bye_greeting_beyond_the_limit_names_the_key() {
    let served = serve(&["imap"]).await;
    let upstream = served.addr();
    let (addr, _) = limited_proxy(
        upstream,
        1,
        OverLimit::Refuse(b"* BYE Too many connections\r\n"),
        Duration::from_millis(100),
    )
    .await;
    let text = reroute(&served, "imap", addr, "");
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("r.xml");
    let run = run_with(
        &text,
        &[
            "imap",
            "--tags",
            IMAP_FEW,
            "--step-timeout",
            "2s",
            "--junit",
            junit.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.all());
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("type=\"configuration\""), "{xml}");
    assert!(
        run.stdout
            .contains("refused a connection for a limit: \"* BYE Too many connections\""),
        "{}",
        run.all()
    );
    // The default budget is what it names.
    assert!(
        run.stdout
            .contains("set [imap] max_connections (now 8) lower"),
        "{}",
        run.all()
    );
    assert!(!run.stdout.contains("FAIL "), "{}", run.all());
    served.kill().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_greeting_that_never_comes_under_load_is_a_limit_not_a_timeout_failure() {
    let served = serve(&["smtp"]).await;
    let upstream = served.addr();
    let (addr, refused) =
        limited_proxy(upstream, 2, OverLimit::Silent, Duration::from_millis(200)).await;
    let text = reroute(&served, "smtp", addr, "max_connections = 6");
    let run = run_with(
        &text,
        &[
            "smtp",
            "--tags",
            "@rfc5321-sec-4.1.1.1",
            "--step-timeout",
            "1s",
        ],
    )
    .await;
    assert!(refused.load(Ordering::SeqCst) > 0, "{}", run.all());
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stdout.contains("no greeting within 1s while"),
        "{}",
        run.all()
    );
    assert!(
        run.stdout
            .contains("set [smtp] max_connections (now 6) lower"),
        "{}",
        run.all()
    );
    served.kill().await;
}

/// `text` with `[section] key` set to `value`.
fn with_key(text: &str, section: &str, key: &str, value: &str) -> String {
    let mut out = String::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.starts_with('[') {
            current = line.trim_matches(['[', ']']).to_string();
        } else if current == section && line.split('=').next().map(str::trim) == Some(key) {
            out.push_str(&format!("{key} = \"{value}\"\n"));
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn preflight_names_the_wrong_key_and_runs_nothing() {
    let served = serve(&["smtp", "pop3", "imap", "ftp", "dns", "http"]).await;
    let text = std::fs::read_to_string(&served.profile).expect("served profile");
    // The profile as written passes the preflight.
    let run = run_with(&text, &["--tags", "@rfc5321-sec-4.1.1.1"]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    let cases = [
        (
            "imap",
            "password",
            "nope",
            "[imap] password: LOGIN as \"bob\" was refused: NO",
        ),
        (
            "pop3",
            "password",
            "nope",
            "[pop3] password: PASS for \"bob\" was refused: -ERR",
        ),
        (
            "ftp",
            "password",
            "nope",
            "[ftp] password: PASS for \"bob\" was refused: 530",
        ),
        (
            "smtp",
            "recipient",
            "nobody@example.test",
            "[smtp] recipient: RCPT TO:<nobody@example.test> was refused: 550",
        ),
        (
            "smtp",
            "sink",
            "nobody@elsewhere.test",
            "[smtp] sink: RCPT TO:<nobody@elsewhere.test> was refused",
        ),
        (
            "dns",
            "zone",
            "wrong.test",
            "[dns] zone: the server does not serve \"wrong.test\": SOA wrong.test was answered",
        ),
    ];
    for (section, key, value, want) in cases {
        let broken = with_key(&text, section, key, value);
        let run = run_with(&broken, &[section]).await;
        assert_eq!(run.code, 2, "{section}.{key}\n{}", run.all());
        assert!(run.stderr.contains(want), "{want}\n{}", run.all());
        assert!(
            !run.stdout.contains("PASS ") && !run.stdout.contains("FAIL "),
            "no scenario ran\n{}",
            run.all()
        );
    }
    served.kill().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn preflight_finds_a_missing_fixture_tree_and_web_root() {
    // An FTP server whose home lacks the fixture tree, an HTTP server with
    // another index: small fakes.
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let ftp = common::tcp_server(|s| async move {
        let (r, mut w) = s.into_split();
        let mut lines = BufReader::new(r).lines();
        let _ = w.write_all(b"220 ready\r\n").await;
        while let Ok(Some(l)) = lines.next_line().await {
            let reply: &[u8] = match l.split(' ').next().unwrap_or("") {
                "USER" => b"331 password\r\n",
                "PASS" => b"230 in\r\n",
                "TYPE" => b"200 ok\r\n",
                "QUIT" => b"221 bye\r\n",
                _ => b"550 no such file\r\n",
            };
            let _ = w.write_all(reply).await;
        }
    })
    .await;
    let http = common::tcp_server(|mut s| async move {
        let mut buf = [0u8; 1024];
        let _ = tokio::io::AsyncReadExt::read(&mut s, &mut buf).await;
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
            .await;
    })
    .await;
    let text = format!(
        "[ftp]\naddress = \"{ftp}\"\nuser = \"bob\"\npassword = \"x\"\n[http]\naddress = \"{http}\"\n"
    );
    let run = run_with(&text, &["ftp"]).await;
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains(
            "[ftp] user: the login directory of \"bob\" does not hold the fixture file hello.txt"
        ),
        "{}",
        run.all()
    );
    let run = run_with(&text, &["http"]).await;
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("[http] address: the server does not serve the fixture web root at /"),
        "{}",
        run.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_report_says_which_conform_when_where_and_what_the_server_said() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let junit = dir.path().join("r.xml");
    let run = conform(&[
        "run",
        "smtp",
        "sockets",
        "--json",
        json.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ])
    .await;
    assert_eq!(run.code, 0, "{}", run.all());
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(r["conform_version"]
        .as_str()
        .unwrap()
        .starts_with("conform "));
    assert!(
        r["started"].as_str().unwrap().ends_with('Z'),
        "{}",
        r["started"]
    );
    let targets = r["targets"].as_array().unwrap();
    let smtp = targets.iter().find(|t| t["key"] == "smtp.address").unwrap();
    assert!(
        smtp["banner"].as_str().unwrap().starts_with("220 "),
        "{smtp}"
    );
    assert!(targets.iter().any(|t| t["key"] == "sockets.udp"));
    // One verdict vocabulary: JSON's `verdict` is JUnit's `verdict` property.
    assert_eq!(r["scenarios"][0]["verdict"], "passed");
    assert!(r["scenarios"][0].get("outcome").is_none());
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("name=\"smtp.address.banner\" value=\"220 "),
        "banner in JUnit"
    );
    assert!(xml.contains("timestamp=\""));
    assert!(xml.contains("<property name=\"verdict\" value=\"passed\"/>"));
    // Progress lines come grouped by feature file, in file order.
    let lines: Vec<(String, usize)> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("PASS "))
        .filter_map(|l| {
            let at = l.split_whitespace().nth(1)?;
            let (file, line) = at.rsplit_once(':')?;
            Some((file.to_string(), line.parse().ok()?))
        })
        .collect();
    assert!(lines.len() > 40, "{}", run.stdout);
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted, "file order");
    // --only-failures: a clean run prints no scenario line, only the totals.
    let quiet = conform(&["run", "sockets", "--only-failures"]).await;
    assert_eq!(quiet.code, 0);
    assert!(!quiet.stdout.contains("PASS "), "{}", quiet.stdout);
    assert!(quiet.stdout.contains("conform: "), "{}", quiet.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sharded_run_merged_equals_the_unsharded_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let whole = conform(&[
        "run",
        "sockets",
        "smtp",
        "--quiet",
        "--json",
        &path("all.json"),
    ])
    .await;
    assert_eq!(whole.code, 0, "{}", whole.all());
    let mut parts = Vec::new();
    for k in 1..=3 {
        let file = path(&format!("s{k}.json"));
        let shard = format!("{k}/3");
        let run = conform(&[
            "run", "sockets", "smtp", "--quiet", "--shard", &shard, "--json", &file,
        ])
        .await;
        assert_eq!(run.code, 0, "{}", run.all());
        parts.push(file);
    }
    let mut args = vec!["merge".to_string()];
    args.extend(parts.iter().cloned());
    args.extend([
        "--json".into(),
        path("m.json"),
        "--junit".into(),
        path("m.xml"),
    ]);
    let merged = conform(&args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert_eq!(merged.code, 0, "{}", merged.all());
    let read = |n: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(path(n)).unwrap()).unwrap()
    };
    let verdicts = |v: &serde_json::Value| -> std::collections::BTreeMap<String, String> {
        v["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["id"].as_str().unwrap().to_string(),
                    s["verdict"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let (all, m) = (read("all.json"), read("m.json"));
    assert_eq!(verdicts(&all), verdicts(&m));
    assert_eq!(all["summary"], m["summary"]);
    // Each shard is a real part: none is empty or the whole.
    for p in &parts {
        let n =
            verdicts(&serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()).len();
        assert!(n > 0 && n < verdicts(&all).len(), "{p}: {n}");
    }
    let suites = common::parse_junit(std::path::Path::new(&path("m.xml")));
    assert_eq!(common::cases(&suites).len(), verdicts(&all).len());
    // The same shard twice is not a partition.
    let twice = conform(&["merge", &parts[0], &parts[0]]).await;
    assert_eq!(twice.code, 2, "{}", twice.all());
    assert!(twice.stderr.contains("disjoint"), "{}", twice.all());
    // A bad --shard is a usage error.
    let bad = conform(&["run", "sockets", "--shard", "4/3"]).await;
    assert_eq!(bad.code, 2, "{}", bad.all());
}
