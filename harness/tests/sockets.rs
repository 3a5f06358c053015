//! The sockets suite end to end: against the bundled servers, through
//! `conform serve`, and against faulty servers that each break one rule.

mod common;

use common::{
    assert_fails_with, bundled_run_passes, cases, conform, parse_junit, profile, run_against,
    serve, tcp_server,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

#[tokio::test(flavor = "multi_thread")]
async fn bundled_servers_pass_and_junit_loads() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let (_run, suites) =
        bundled_run_passes(&["sockets"], &["--json", json.to_str().unwrap()], 20).await;
    let all = cases(&suites);
    let names: std::collections::HashSet<_> = all
        .iter()
        .map(|c| (c.classname.clone(), c.name.clone()))
        .collect();
    assert_eq!(names.len(), all.len(), "testcase names are unique");
    for c in &all {
        let props: Vec<_> = c.properties.vec.iter().map(|(k, _)| k.as_str()).collect();
        for key in ["target", "level", "rfc", "tags", "id"] {
            assert!(
                props.contains(&key),
                "{} has property {key}: {props:?}",
                c.name
            );
        }
        assert!(
            c.system_out
                .as_deref()
                .unwrap_or_default()
                .contains("connected")
                || c.system_out
                    .as_deref()
                    .unwrap_or_default()
                    .contains("UDP socket"),
            "transcript in system-out"
        );
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(report["scenarios"].as_array().unwrap().len() >= 20);
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_then_run_against_the_written_profile() {
    let served = serve(&["sockets"]).await;
    assert!(
        served.first_line.starts_with("sockets "),
        "serve prints PROTOCOL ADDRESS: {}",
        served.first_line
    );
    let run = conform(&["run", "sockets", "--target", served.profile_arg()]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout
            .contains(&format!("target {}", served.profile.display())),
        "{}",
        run.all()
    );
    served.kill().await;
}

/// Serves TCP with `reply(message)`; closes the connection after the reply
/// only when `close` is true.
async fn reply_server(reply: fn(&[u8]) -> Vec<u8>, close: bool) -> std::net::SocketAddr {
    tcp_server(move |mut s| async move {
        let mut buf = vec![0u8; 1024];
        let n = s.read(&mut buf).await.unwrap_or(0);
        let _ = s.write_all(&reply(&buf[..n])).await;
        if close {
            return;
        }
        // Never closes: keep the socket until the client goes away.
        let _ = s.read(&mut buf).await;
    })
    .await
}

/// Serves UDP with `reply(message)`, sent to `to(sender)`.
async fn udp_server(
    reply: fn(&[u8]) -> Vec<u8>,
    to: fn(std::net::SocketAddr) -> std::net::SocketAddr,
) -> std::net::SocketAddr {
    let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = s.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 2048];
        loop {
            let Ok((n, from)) = s.recv_from(&mut buf).await else {
                return;
            };
            let _ = s.send_to(&reply(&buf[..n]), to(from)).await;
        }
    });
    addr
}

fn upper(b: &[u8]) -> Vec<u8> {
    b.to_ascii_uppercase()
}

fn lower(b: &[u8]) -> Vec<u8> {
    b.to_ascii_lowercase()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lowercasing_server_fails_with_step_expectation_and_transcript() {
    let tcp = reply_server(lower, true).await;
    let udp = udp_server(lower, |a| a).await;
    let (dir, p) = profile(&format!("[sockets]\ntcp = \"{tcp}\"\nudp = \"{udp}\"\n"));
    let junit = dir.path().join("r.xml");
    let run = conform(&[
        "run",
        "sockets",
        "--target",
        p.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ])
    .await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/sockets/tcp.feature",
            "step:        Then the client receives exactly \"HELLO WORLD\"",
            "expected:    \"HELLO WORLD\" (11 bytes)",
            "got:         \"hello world\" (11 bytes)",
            "C: hello world",
            "S: hello world",
            "requirement: MUST",
        ],
    );
    let suites = parse_junit(&junit);
    let failed: Vec<_> = cases(&suites)
        .into_iter()
        .filter(|c| c.status.is_failure())
        .collect();
    assert!(!failed.is_empty());
    let c = failed
        .iter()
        .find(|c| {
            c.original_name == "A lowercase sentence comes back upper-cased"
                && c.classname.as_deref().unwrap_or_default().contains("tcp")
        })
        .unwrap();
    let so = c.system_out.as_deref().unwrap_or_default();
    assert!(
        so.contains("S: hello world"),
        "transcript in system-out: {so}"
    );
    let f = c.status.failure_as_ref();
    assert!(
        f.text.contains("expected:") && f.text.contains("HELLO WORLD"),
        "failure text: {}",
        f.text
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_never_closes_fails_the_close_scenarios() {
    let tcp = reply_server(upper, false).await;
    let profile = format!("[sockets]\ntcp = \"{tcp}\"\n");
    let run = run_against("sockets", &profile, &["--step-timeout", "1s"]).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/sockets/tcp.feature:52  The server closes the connection after its reply",
            "step:        And the server closes the client's connection",
            "the server did not close the connection within 1s",
            // The upper-casing itself still passes.
            "PASS  features/sockets/tcp.feature:24  A lowercase sentence",
        ],
    );
    assert!(
        !run.stdout.contains("udp.feature"),
        "no [sockets] udp: UDP scenarios are not selected\n{}",
        run.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_replies_to_a_fixed_port_fails() {
    let udp = udp_server(upper, |a| std::net::SocketAddr::new(a.ip(), 9)).await;
    let profile = format!("[sockets]\nudp = \"{udp}\"\n");
    let run = run_against("sockets", &profile, &["--step-timeout", "1s"]).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/sockets/udp.feature:24  The reply is sent to the client's own address and port",
            "nothing arrived within 1s while waiting for a reply datagram at 127.0.0.1:",
            "C: where am i",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_replies_twice_fails_the_one_reply_scenario() {
    let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let udp = s.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 2048];
        while let Ok((n, from)) = s.recv_from(&mut buf).await {
            let r = buf[..n].to_ascii_uppercase();
            let _ = s.send_to(&r, from).await;
            let _ = s.send_to(&r, from).await;
        }
    });
    let profile = format!("[sockets]\nudp = \"{udp}\"\n");
    let run = run_against("sockets", &profile, &["--tags", "@udp"]).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/sockets/udp.feature:37  Each datagram gets exactly one reply",
            "received a second datagram",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn setup_problems_exit_2() {
    // Nothing selected.
    let run = conform(&["run", "sockets", "--tags", "@no-such-tag"]).await;
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("no scenario selected"), "{}", run.all());

    // An unreachable target: a port nobody listens on.
    let closed = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let (_d1, p) = profile(&format!("[sockets]\ntcp = \"{closed}\"\n"));
    let run = conform(&["run", "sockets", "--target", p.to_str().unwrap()]).await;
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("target unreachable"), "{}", run.all());

    // A broken profile.
    let (_d2, p) = profile("[sockets]\ntcp = 12\n[nonsense]\n");
    let run = conform(&["run", "--target", p.to_str().unwrap()]).await;
    assert_eq!(run.code, 2, "{}", run.all());

    // A protocol the profile does not describe.
    let (_d3, p) = profile("[sockets]\ntcp = \"127.0.0.1:1\"\n");
    let run = conform(&["run", "smtp", "--target", p.to_str().unwrap()]).await;
    assert_eq!(run.code, 2, "{}", run.all());

    // Usage error.
    let run = conform(&["run", "gopher"]).await;
    assert_eq!(run.code, 2, "{}", run.all());
}

#[tokio::test(flavor = "multi_thread")]
async fn list_and_fixtures() {
    let run = conform(&["list", "sockets", "--tags", "@udp and @MUST"]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.lines().count() >= 9
            && run
                .stdout
                .lines()
                .all(|l| l.starts_with("sockets/udp/")
                    && l.contains("\tfeatures/sockets/udp.feature:")),
        "{}",
        run.all()
    );
    let dir = tempfile::tempdir().unwrap();
    let run = conform(&["fixtures", "--out", dir.path().to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(std::fs::read_to_string(dir.path().join("profile.toml"))
        .unwrap()
        .contains("[sockets]"));
}
