//! The DNS suite end to end: against the bundled server, through `conform
//! serve`, and against faulty servers that each break one rule. The faulty
//! servers are proxies in front of the reference server that alter its
//! responses (a wrong ID, AA cleared, TC never set), or hostile servers that
//! send broken messages. Each failure must show the decoded messages.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::{
    assert_fails_with, bundled_run_passes, cases, conform, parse_junit, run_against, serve,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

/// The reference server on the fixture zone, started in-process.
async fn upstream() -> (reference_servers::Running, SocketAddr, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let zones = conform::fixtures::dns::write(dir.path()).unwrap();
    let r = reference_servers::dns::start("127.0.0.1".parse().unwrap(), 0, &zones)
        .await
        .unwrap();
    let addr = r.addr("address").unwrap();
    (r, addr, dir)
}

type Alter = fn(&mut Vec<u8>, bool);

/// A UDP+TCP proxy on one port that passes each response through `alter`
/// (`true` for UDP).
async fn faulty_proxy(upstream: SocketAddr, alter: Alter) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let udp = Arc::new(UdpSocket::bind(addr).await.unwrap());
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65535];
        loop {
            let Ok((n, from)) = udp.recv_from(&mut buf).await else {
                return;
            };
            let query = buf[..n].to_vec();
            let udp = udp.clone();
            tokio::spawn(async move {
                let up = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                up.send_to(&query, upstream).await.unwrap();
                let mut resp = vec![0u8; 65535];
                if let Ok(Ok((m, _))) =
                    tokio::time::timeout(Duration::from_secs(2), up.recv_from(&mut resp)).await
                {
                    resp.truncate(m);
                    alter(&mut resp, true);
                    let _ = udp.send_to(&resp, from).await;
                }
            });
        }
    });
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let Ok(mut up) = TcpStream::connect(upstream).await else {
                    return;
                };
                loop {
                    let Some(q) = read_framed(&mut client).await else {
                        return;
                    };
                    if write_framed(&mut up, &q).await.is_none() {
                        return;
                    }
                    let Some(mut r) = read_framed(&mut up).await else {
                        return;
                    };
                    alter(&mut r, false);
                    if write_framed(&mut client, &r).await.is_none() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

async fn read_framed(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len).await.ok()?;
    let mut m = vec![0u8; u16::from_be_bytes(len) as usize];
    s.read_exact(&mut m).await.ok()?;
    Some(m)
}

async fn write_framed(s: &mut TcpStream, m: &[u8]) -> Option<()> {
    let mut f = (m.len() as u16).to_be_bytes().to_vec();
    f.extend_from_slice(m);
    s.write_all(&f).await.ok()
}

fn dns_profile(addr: SocketAddr) -> String {
    format!("[dns]\naddress = \"{addr}\"\nzone = \"example.test\"\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn bundled_server_passes_and_junit_loads() {
    let (_run, suites) = bundled_run_passes(&["dns"], &[], 60).await;
    for c in cases(&suites) {
        let so = c.system_out.as_deref().unwrap_or_default();
        assert!(
            so.contains("decoded ;; id"),
            "decoded messages in the transcript of {}: {so}",
            c.name
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_then_run_against_the_written_profile() {
    let served = serve(&["dns"]).await;
    assert!(
        served.first_line.starts_with("dns 127.0.0.1:"),
        "serve prints PROTOCOL ADDRESS: {}",
        served.first_line
    );
    let run = conform(&["run", "dns", "--target", served.profile_arg()]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    served.kill().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn fixtures_write_the_zone() {
    let dir = tempfile::tempdir().unwrap();
    let run = conform(&["fixtures", "--out", dir.path().to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    let zone = std::fs::read_to_string(dir.path().join("zones/example.test.zone")).unwrap();
    assert!(zone.contains("$ORIGIN example.test."));
    assert!(std::fs::read_to_string(dir.path().join("profile.toml"))
        .unwrap()
        .contains("[dns]"));
}

fn wrong_id(r: &mut Vec<u8>, _udp: bool) {
    if r.len() >= 2 {
        r[1] = r[1].wrapping_add(1);
    }
}

fn clear_aa(r: &mut Vec<u8>, _udp: bool) {
    if r.len() > 2 {
        r[2] &= !0x04;
    }
}

fn never_tc(r: &mut Vec<u8>, _udp: bool) {
    if r.len() > 2 {
        r[2] &= !0x02;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_does_not_echo_the_id_fails_with_the_decoded_message() {
    let (_up, up, _d) = upstream().await;
    let run = run_against("dns", &dns_profile(faulty_proxy(up, wrong_id).await), &[]).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  dns/header.feature",
            "the response's ID is not the query's",
            "expected:    ID 4660",
            "got:         ;; id 4661 opcode 0 rcode NOERROR flags [qr aa]",
            "decoded ;; ANSWER www.example.test. 300 IN A 192.0.2.1",
            "requirement: MUST",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_clears_aa_fails_with_the_decoded_message() {
    let (_up, up, _d) = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("r.xml");
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, clear_aa).await),
        &["--junit", junit.to_str().unwrap()],
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "FAIL  dns/header.feature",
            "step:        And the AA flag is set",
            "problem:     the AA flag is clear",
            "expected:    AA set",
            "got:         ;; id ",
            "decoded ;; QUESTION www.example.test. IN A",
        ],
    );
    // Referrals have AA clear anyway: those scenarios still pass.
    let suites = parse_junit(&junit);
    let passed: Vec<_> = cases(&suites)
        .into_iter()
        .filter(|c| c.status.is_success())
        .map(|c| c.original_name.clone())
        .collect();
    assert!(
        passed
            .iter()
            .any(|n| n.contains("referral with no answer and AA clear")),
        "{passed:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_never_sets_tc_fails_with_the_decoded_message() {
    let (_up, up, _d) = upstream().await;
    let run = run_against("dns", &dns_profile(faulty_proxy(up, never_tc).await), &[]).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  dns/truncation.feature",
            "step:        Then the TC flag is set",
            "problem:     the TC flag is clear",
            "decoded ;; QUESTION big.example.test. IN TXT",
            "decoded ;; ANSWER big.example.test. 3600 IN TXT",
        ],
    );
}

/// A hostile UDP server: answers every query with `reply(query)`.
async fn hostile_udp(reply: fn(&[u8]) -> Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let udp = UdpSocket::bind(addr).await.unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65535];
        loop {
            let Ok((n, from)) = udp.recv_from(&mut buf).await else {
                return;
            };
            let _ = udp.send_to(&reply(&buf[..n]), from).await;
        }
    });
    // TCP: accept, read, never answer (a stall).
    tokio::spawn(async move {
        let mut held = vec![];
        loop {
            let Ok((s, _)) = listener.accept().await else {
                return;
            };
            held.push(s);
        }
    });
    addr
}

/// The query's ID and question, then one answer whose owner name is a
/// pointer to itself.
fn pointer_loop(q: &[u8]) -> Vec<u8> {
    let mut r = q.to_vec();
    if r.len() < 12 {
        return r;
    }
    r[2] |= 0x84;
    r[6..8].copy_from_slice(&1u16.to_be_bytes());
    r[10..12].copy_from_slice(&[0, 0]);
    let at = r.len().min(300);
    r.truncate(at);
    r.extend_from_slice(&(0xc000 | at as u16).to_be_bytes());
    r.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
    r
}

/// The query's header with QR set and one answer announced, then nothing.
fn cut_short(q: &[u8]) -> Vec<u8> {
    let mut r = q.get(..12).unwrap_or(q).to_vec();
    if r.len() == 12 {
        r[2] |= 0x84;
        r[6..8].copy_from_slice(&1u16.to_be_bytes());
    }
    r
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_responses_fail_cleanly_without_hanging() {
    for (reply, want) in [
        (pointer_loop as fn(&[u8]) -> Vec<u8>, "points forward"),
        (cut_short, "not a well-formed DNS message"),
    ] {
        let started = std::time::Instant::now();
        let run = run_against(
            "dns",
            &dns_profile(hostile_udp(reply).await),
            &[
                "--step-timeout",
                "1s",
                "--tags",
                "@rfc1035 and not @rfc7766",
            ],
        )
        .await;
        assert_eq!(run.code, 1, "{}", run.all());
        assert!(
            run.stdout.contains(want) || run.stdout.contains("undecodable"),
            "{want}\n{}",
            run.all()
        );
        assert!(!run.all().contains("panicked"), "{}", run.all());
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "bounded by the step timeout"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tcp_server_that_never_answers_times_out() {
    let run = run_against(
        "dns",
        &dns_profile(hostile_udp(cut_short).await),
        &["--step-timeout", "1s", "--tags", "@rfc7766"],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stdout.contains("two-octet length"), "{}", run.all());
}

/// Sets RA: claims recursion that an authoritative-only server lacks.
fn sets_ra(r: &mut Vec<u8>, _udp: bool) {
    if r.len() > 3 {
        r[3] |= 0x80;
    }
}

/// Lower-cases the echoed question name (a server that normalises case).
fn lowercases_question(r: &mut Vec<u8>, _udp: bool) {
    let mut at = 12;
    while at < r.len() && r[at] != 0 && r[at] & 0xc0 == 0 {
        let end = (at + 1 + r[at] as usize).min(r.len());
        r[at + 1..end].make_ascii_lowercase();
        at = end;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_sets_ra_or_lowercases_the_question_fails() {
    let (_up, up, _d) = upstream().await;
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, sets_ra).await),
        &["--tags", "@rfc1035"],
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "step:        Then the RA flag is clear",
            "problem:     the RA flag is set",
            "flags [qr aa rd ra]",
        ],
    );

    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, lowercases_question).await),
        &["--tags", "@rfc1035"],
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "step:        Then the question section is the query's, byte for byte",
            "expected:    QDCOUNT 1 and the question \\x03wWw\\x07ExAmPlE",
            "decoded ;; QUESTION www.example.example.test. IN A",
        ],
    );
}
