//! The DNS suite end to end: against the bundled server, through `conform
//! serve`, and against faulty servers that each break one rule. The faulty
//! servers are proxies in front of the reference server that alter its
//! responses (a wrong ID, AA cleared, TC never set), or hostile servers that
//! send broken messages. Each failure must show the decoded messages.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::{assert_fails_with, cases, conform, parse_junit, run_against, serve};
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
    proxy(upstream, alter, false).await
}

/// [`faulty_proxy`]; with `one_read`, its TCP side takes each query from a
/// single read and ends the connection when that read does not hold the
/// whole framed message (what RFC 7766 §8 forbids).
async fn proxy(upstream: SocketAddr, alter: Alter, one_read: bool) -> SocketAddr {
    let (listener, udp) = tcp_and_udp().await;
    let addr = listener.local_addr().unwrap();
    let udp = Arc::new(udp);
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
                    let q = if one_read {
                        read_once(&mut client).await
                    } else {
                        read_framed(&mut client).await
                    };
                    let Some(q) = q else {
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

/// A TCP listener and a UDP socket on one free loopback port (another
/// process may hold the UDP port of a free TCP one: then try another).
async fn tcp_and_udp() -> (TcpListener, UdpSocket) {
    for _ in 0..50 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        if let Ok(udp) = UdpSocket::bind(addr).await {
            return (listener, udp);
        }
    }
    panic!("no loopback port free for both TCP and UDP");
}

async fn read_framed(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len).await.ok()?;
    let mut m = vec![0u8; u16::from_be_bytes(len) as usize];
    s.read_exact(&mut m).await.ok()?;
    Some(m)
}

/// One framed message from a single read, or None.
async fn read_once(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 65537];
    let n = s.read(&mut buf).await.ok()?;
    let len = u16::from_be_bytes([*buf.first()?, *buf.get(1)?]) as usize;
    (n == 2 + len).then(|| buf[2..n].to_vec())
}

async fn write_framed(s: &mut TcpStream, m: &[u8]) -> Option<()> {
    let mut f = (m.len() as u16).to_be_bytes().to_vec();
    f.extend_from_slice(m);
    s.write_all(&f).await.ok()
}

/// A front for `upstream` that, over UDP, drops the first copy of every query
/// and passes on the copies after it: what a client sees of a resolver that
/// drops requests it has worked on too long (unbound's discard-timeout) or
/// of a lost datagram.
async fn forgetful_udp(upstream: SocketAddr) -> SocketAddr {
    let (listener, udp) = tcp_and_udp().await;
    let addr = listener.local_addr().unwrap();
    let udp = Arc::new(udp);
    // TCP goes through as it is.
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Ok(mut up) = TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut up).await;
                }
            });
        }
    });
    tokio::spawn(async move {
        let mut seen = std::collections::HashSet::new();
        let mut buf = vec![0u8; 65535];
        loop {
            let Ok((n, from)) = udp.recv_from(&mut buf).await else {
                return;
            };
            let query = buf[..n].to_vec();
            if seen.insert(query.clone()) {
                continue;
            }
            let udp = udp.clone();
            tokio::spawn(async move {
                let up = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                up.send_to(&query, upstream).await.unwrap();
                let mut resp = vec![0u8; 65535];
                if let Ok(Ok((m, _))) =
                    tokio::time::timeout(Duration::from_secs(2), up.recv_from(&mut resp)).await
                {
                    let _ = udp.send_to(&resp[..m], from).await;
                }
            });
        }
    });
    addr
}

/// RFC 1035 §4.2.1: a UDP query "may be lost, and hence a retransmission
/// strategy is required". The client sends the query again after 2 s, so a
/// server whose first copy went nowhere still passes, and the transcript
/// says so.
#[tokio::test(flavor = "multi_thread")]
async fn a_query_whose_first_copy_is_lost_is_sent_again() {
    let (_r, up, dir) = upstream().await;
    let addr = forgetful_udp(up).await;
    let profile = dir.path().join("t.toml");
    std::fs::write(&profile, dns_profile(addr)).unwrap();
    let junit = dir.path().join("r.xml");
    let run = conform(&[
        "run",
        "dns",
        "--target",
        profile.to_str().unwrap(),
        "--tags",
        "@course-D-25",
        "--junit",
        junit.to_str().unwrap(),
    ])
    .await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains(" 0 failed, 0 errors"), "{}", run.all());
    let suites = parse_junit(&junit);
    for c in cases(&suites) {
        let so = c.system_out.as_deref().unwrap_or_default();
        assert!(
            so.contains("no response within 2 s: the query goes again (RFC 1035 §4.2.1)"),
            "{}: {so}",
            c.name
        );
    }
}

fn dns_profile(addr: SocketAddr) -> String {
    format!("[dns]\naddress = \"{addr}\"\nzone = \"example.test\"\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn bundled_server_passes_and_junit_loads() {
    // The bundled server does not recurse: the scenarios for a server that
    // also recurses are skipped, every other one passes.
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("r.xml");
    let run = conform(&["run", "dns", "--junit", junit.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains(" 0 failed"), "{}", run.all());
    let suites = parse_junit(&junit);
    let found = cases(&suites);
    assert!(found.len() >= 60, "{}", found.len());
    let mut skipped = 0;
    for c in found {
        if c.status.is_skipped() {
            skipped += 1;
            let reason = format!("{:?}", c.status);
            assert!(
                reason.contains("dns.recursion"),
                "{} skipped: {reason}",
                c.name
            );
        } else {
            assert!(c.status.is_success(), "{} passed", c.name);
        }
        let so = c.system_out.as_deref().unwrap_or_default();
        assert!(
            c.status.is_skipped() || so.contains("decoded ;; id"),
            "decoded messages in the transcript of {}: {so}",
            c.name
        );
    }
    assert_eq!(skipped, 3, "{}", run.stdout);
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
            "FAIL  features/dns/header.feature",
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
            "FAIL  features/dns/header.feature",
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
            "FAIL  features/dns/truncation.feature",
            "step:        Then the TC flag is set",
            "problem:     the TC flag is clear",
            "decoded ;; QUESTION big.example.test. IN TXT",
            "decoded ;; ANSWER big.example.test. 3600 IN TXT",
        ],
    );
}

/// A hostile UDP server: answers every query with `reply(query)`.
async fn hostile_udp(reply: fn(&[u8]) -> Vec<u8>) -> SocketAddr {
    let (listener, udp) = tcp_and_udp().await;
    let addr = listener.local_addr().unwrap();
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

/// Answers DS at the cut as the child's: a referral (AA clear, the child's
/// NS in the authority section) instead of the parent's NODATA.
fn refers_ds(r: &mut Vec<u8>, _udp: bool) {
    use hickory_proto::rr::{rdata::NS, RData, Record, RecordType};
    rewrite(r, |m| {
        let Some(q) = m.queries().first().cloned() else {
            return;
        };
        if q.query_type() != RecordType::DS {
            return;
        }
        m.set_authoritative(false);
        let _ = m.take_name_servers();
        let ns = q.name().prepend_label("ns1").unwrap();
        m.add_name_server(Record::from_rdata(
            q.name().clone(),
            3600,
            RData::NS(NS(ns)),
        ));
    });
}

/// RFC 4035 §3.1.4.1: DS at the delegation point is answered by the parent;
/// a server that refers it to the child is warned about (SHOULD), and
/// fails under --strict, naming the AA flag.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_refers_ds_at_the_cut_fails() {
    let (_up, up, _d) = upstream().await;
    let profile = dns_profile(faulty_proxy(up, refers_ds).await);
    let run = run_against("dns", &profile, &["--tags", "@rfc4035-sec-3.1.4.1"]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    common::assert_has(
        &run,
        &[
            "WARN  features/dns/referral.feature",
            "dns: 0 passed, 0 failed, 0 errors, 1 warnings",
        ],
    );
    let run = run_against(
        "dns",
        &profile,
        &["--tags", "@rfc4035-sec-3.1.4.1", "--strict"],
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/dns/referral.feature",
            "A DS query for the delegation point is answered by the parent, not referred",
            "requirement: SHOULD · RFC 1034 · RFC 4035 §3.1.4.1 · RFC 4034 §5",
            "step:        And the AA flag is set",
        ],
    );
}

/// Rewrites a response through hickory-proto (the test's own tool, not the
/// harness's reading of it).
fn rewrite(r: &mut Vec<u8>, f: impl FnOnce(&mut hickory_proto::op::Message)) {
    if let Ok(mut m) = hickory_proto::op::Message::from_vec(r) {
        f(&mut m);
        if let Ok(v) = m.to_vec() {
            *r = v;
        }
    }
}

fn rcode(r: &[u8]) -> u8 {
    r.get(3).map(|b| b & 0x0f).unwrap_or(0)
}

fn is_referral(m: &hickory_proto::op::Message) -> bool {
    m.answers().is_empty()
        && !m.authoritative()
        && m.name_servers()
            .iter()
            .any(|r| r.record_type() == hickory_proto::rr::RecordType::NS)
}

/// A recursive resolver in front of the reference server, as unbound with
/// an auth-zone should be: RA always set; a name outside the zones or below
/// the delegation with RD set is resolved, here failing (SERVFAIL: no
/// upstream). `RECURSES_NO_RA` does the same with RA left clear.
fn recurses_impl(r: &mut Vec<u8>, ra: bool) {
    let rd = r.get(2).is_some_and(|b| b & 1 != 0);
    let refused = rcode(r) == 5;
    rewrite(r, |m| {
        if rd && (refused || is_referral(m)) {
            m.set_response_code(hickory_proto::op::ResponseCode::ServFail);
            m.take_name_servers();
            m.take_additionals();
        }
        m.set_recursion_available(ra);
    });
}

fn recurses(r: &mut Vec<u8>, _udp: bool) {
    recurses_impl(r, true)
}

fn recurses_no_ra(r: &mut Vec<u8>, _udp: bool) {
    recurses_impl(r, false)
}

fn recursive_profile(addr: SocketAddr) -> String {
    format!("{}recursion = true\n", dns_profile(addr))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recursive_server_is_judged_as_one() {
    let (_up, up, _d) = upstream().await;
    // A correct recursive server: passes; the authoritative-only scenarios
    // are skipped with the reason.
    let run = run_against(
        "dns",
        &recursive_profile(faulty_proxy(up, recurses).await),
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.all());
    common::assert_has(
        &run,
        &[
            "SKIP features/dns/header.feature",
            "An authoritative-only server leaves RA clear even when recursion is desired",
            "problem:     the target profile sets dns.recursion = true: the server also recurses",
            "SKIP features/dns/negative.feature",
            "A server that does not recurse answers a name outside its zones",
            "3 skipped",
        ],
    );
    // RA clear although it recurses.
    let run = run_against(
        "dns",
        &recursive_profile(faulty_proxy(up, recurses_no_ra).await),
        &[],
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "FAIL features/dns/header.feature",
            "A server that also recurses sets RA, whether or not recursion is desired",
            "problem:     the RA flag is clear",
        ],
    );
    // RA set, but referrals and REFUSED as an authoritative-only server gives.
    let run = run_against(
        "dns",
        &recursive_profile(faulty_proxy(up, sets_ra).await),
        &[],
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "FAIL features/dns/referral.feature",
            "problem:     the response is a referral: no answer, NS records in the authority section",
            "FAIL features/dns/negative.feature",
            "problem:     RCODE REFUSED",
            "expected:    RCODE NXDOMAIN, SERVFAIL",
        ],
    );
    // Without the key, a server that recurses is judged authoritative-only.
    let run = run_against("dns", &dns_profile(faulty_proxy(up, recurses).await), &[]).await;
    assert_fails_with(
        &run,
        &[
            "An authoritative-only server leaves RA clear even when recursion is desired",
            "problem:     the RA flag is set",
            "SKIP features/dns/header.feature",
            "problem:     the target profile does not set dns.recursion = true",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_profile_that_lacks_fixture_data_skips_those_scenarios() {
    let (_up, up, _d) = upstream().await;
    for (feature, scenarios, count) in [
        (
            "wildcard",
            &[
                "A wildcard answers for a name it covers, under the name asked for",
                "A name below an existing name is not matched by the wildcard of its parent",
            ][..],
            5,
        ),
        (
            "delegation",
            &[
                "The referral carries the glue addresses in the additional section",
                "Every pointer in a referral points back to an earlier name",
                "The RRsets of a referral each have one TTL",
                "A glue name is referred to the child, not answered from the glue",
                "A DS query for the delegation point is answered by the parent, not referred",
            ][..],
            10,
        ),
        (
            "ttl",
            &["Records without their own TTL take the zone's default"][..],
            2,
        ),
        (
            "ptr",
            &["A PTR query maps an address back to a name"][..],
            1,
        ),
    ] {
        let profile = format!("{}lacks = \"{feature}\"\n", dns_profile(up));
        let run = run_against("dns", &profile, &[]).await;
        assert_eq!(run.code, 0, "{feature}: {}", run.all());
        let reason = format!("problem:     the target profile declares dns.lacks = \"{feature}\"");
        assert_eq!(
            run.stdout.matches(&reason).count(),
            count,
            "{feature}: {}",
            run.stdout
        );
        for s in scenarios {
            let line = run
                .stdout
                .lines()
                .find(|l| l.starts_with("SKIP ") && l.contains(s));
            assert!(line.is_some(), "{feature}: {s} skipped\n{}", run.stdout);
        }
    }
    // A list of several, as a TOML array; a misspelt name is a configuration
    // error naming the key.
    let profile = format!("{}lacks = [\"ptr\", \"ttl\"]\n", dns_profile(up));
    let run = run_against("dns", &profile, &[]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    // ptr 1, ttl 2, and the 3 scenarios for a server that recurses.
    assert!(run.stdout.contains("6 skipped"), "{}", run.stdout);
    for bad in ["lacks = \"wildcards\"", "recursion = \"yes\""] {
        let run = run_against("dns", &format!("{}{bad}\n", dns_profile(up)), &[]).await;
        assert_eq!(run.code, 2, "{}", run.all());
        let key = bad.split(' ').next().unwrap_or_default();
        assert!(run.all().contains(&format!("[dns] {key}")), "{}", run.all());
    }
}

/// unbound's FORMERR to a query with two OPT records: the question and both
/// OPT records repeated, which hickory-proto refuses to decode.
fn formerr_echoes_two_opts(r: &mut Vec<u8>, _udp: bool) {
    if rcode(r) != 1 || r.len() < 12 {
        return;
    }
    let mut at = 12;
    while at < r.len() && r[at] != 0 {
        at += 1 + r[at] as usize;
    }
    r.truncate((at + 5).min(r.len()));
    r[6..12].copy_from_slice(&[0, 0, 0, 0, 0, 2]);
    for _ in 0..2 {
        r.extend_from_slice(&[0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0]);
    }
}

fn formerr_to_noerror(r: &mut Vec<u8>, _udp: bool) {
    if rcode(r) == 1 {
        r.splice(3..4, [r[3] & 0xf0]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_formerr_that_repeats_two_opt_records_is_judged_by_its_rcode() {
    let (_up, up, _d) = upstream().await;
    let tags = ["--tags", "@rfc6891"];
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, formerr_echoes_two_opts).await),
        &tags,
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.all());
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, formerr_to_noerror).await),
        &tags,
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "FAIL features/dns/edns.feature",
            "A query with two OPT records is malformed",
            "problem:     RCODE NOERROR",
            "expected:    RCODE FORMERR",
        ],
    );
}

/// Minimal responses (unbound's default): no additional section for MX.
fn no_additional(r: &mut Vec<u8>, _udp: bool) {
    rewrite(r, |m| {
        if m.queries()
            .first()
            .is_some_and(|q| q.query_type() == hickory_proto::rr::RecordType::MX)
        {
            m.take_additionals();
        }
    });
}

fn no_aaaa_additional(r: &mut Vec<u8>, _udp: bool) {
    rewrite(r, |m| {
        let kept: Vec<_> = m
            .take_additionals()
            .into_iter()
            .filter(|r| r.record_type() != hickory_proto::rr::RecordType::AAAA)
            .collect();
        m.add_additionals(kept);
    });
}

/// Every record without its own TTL in the fixture (3600 from $TTL) gets the
/// TTL of the record before it (300), as RFC 1035 §5.1 had it.
fn last_stated_ttl(r: &mut Vec<u8>, _udp: bool) {
    rewrite(r, |m| {
        for a in m.answers_mut() {
            if a.ttl() == 3600 {
                a.set_ttl(300);
            }
        }
    });
}

fn notimp_to_refused(r: &mut Vec<u8>, _udp: bool) {
    if rcode(r) == 4 {
        r.splice(3..4, [(r[3] & 0xf0) | 5]);
    }
}

fn refused_to(r: &mut Vec<u8>, code: u8) {
    if rcode(r) == 5 {
        r.splice(3..4, [(r[3] & 0xf0) | code]);
    }
}

fn refused_to_nxdomain(r: &mut Vec<u8>, _udp: bool) {
    refused_to(r, 3)
}

fn refused_to_servfail(r: &mut Vec<u8>, _udp: bool) {
    refused_to(r, 2)
}

/// The position of the extended RCODE in a response that ends with an OPT
/// record without options (how the reference server sends one).
fn last_opt_ttl(r: &[u8]) -> Option<usize> {
    let n = r.len();
    (n >= 23 && r[n - 11..n - 8] == [0, 0, 41] && r[n - 2..] == [0, 0]).then(|| n - 6)
}

/// BADVERS with OPT version 1 (a server that claims a version it lacks).
fn badvers_version_1(r: &mut Vec<u8>, _udp: bool) {
    if let Some(at) = last_opt_ttl(r) {
        if r[at] == 1 {
            r.splice(at + 1..at + 2, [1]);
        }
    }
}

/// BADVERS turned into NOERROR: the extended RCODE cleared.
fn badvers_to_noerror(r: &mut Vec<u8>, _udp: bool) {
    if let Some(at) = last_opt_ttl(r) {
        r.splice(at..at + 1, [0]);
    }
}

/// REFUSED as NOERROR with AA set: claims authority outside its zones.
fn refused_to_authoritative_noerror(r: &mut Vec<u8>, _udp: bool) {
    if rcode(r) == 5 {
        r.splice(2..4, [r[2] | 0x04, r[3] & 0xf0]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn levels_follow_the_rfc_words() {
    let (_up, up, _d) = upstream().await;
    // No additional section processing at all: the AAAA scenario does not
    // apply (skipped), the A one is a SHOULD (a warning, exit 0).
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, no_additional).await),
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.all());
    common::assert_has(
        &run,
        &[
            "SKIP features/dns/aaaa.feature",
            "problem:     the additional section holds no A record of mail.example.test.",
            "WARN features/dns/records.feature",
            "The mail servers' addresses come in the additional section",
        ],
    );
    // A records added, AAAA left out: RFC 3596 §3 is broken.
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, no_aaaa_additional).await),
        &[],
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "FAIL features/dns/aaaa.feature",
            "problem:     the additional section holds the A record of mail.example.test. but lacks mail.example.test. AAAA 2001:db8::25",
            "requirement: MUST · RFC 3596 §3",
        ],
    );
    // $TTL ignored.
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, last_stated_ttl).await),
        &[],
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "FAIL features/dns/records.feature",
            "Records without their own TTL take the zone's default",
            "RFC 2308 §4",
        ],
    );
    // REFUSED for an unknown opcode: RFC 8906 expects NOTIMP, no MUST.
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, notimp_to_refused).await),
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.all());
    common::assert_has(
        &run,
        &[
            "WARN features/dns/errors.feature",
            "An unknown opcode is answered NOTIMP",
            "requirement: SHOULD",
            "RFC 8906 §3.1.4",
        ],
    );
    // BADVERS is a MUST, the version in it a SHOULD.
    let tags = ["--tags", "@rfc6891"];
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, badvers_version_1).await),
        &tags,
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.all());
    common::assert_has(
        &run,
        &[
            "WARN features/dns/edns.feature",
            "A BADVERS response states the highest version the server implements",
            "problem:     OPT version 1",
            "1 warnings",
        ],
    );
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, badvers_to_noerror).await),
        &tags,
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "FAIL features/dns/edns.feature",
            "An unknown EDNS version is answered with BADVERS",
            "problem:     RCODE NOERROR",
        ],
    );
    // A name outside the zones: NXDOMAIN (RFC 6761 for invalid.) passes,
    // SERVFAIL does not. (The proxy also turns the refused AXFR of the zone
    // into NXDOMAIN, which the transfer scenario rightly fails.)
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, refused_to_nxdomain).await),
        &["--tags", "not @rfc5936"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.all());
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, refused_to_servfail).await),
        &[],
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "A server that does not recurse answers a name outside its zones with no data and RA clear",
            "problem:     RCODE SERVFAIL",
        ],
    );
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, refused_to_authoritative_noerror).await),
        &[],
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "A server that does not recurse answers a name outside its zones with no data and RA clear",
            "problem:     the AA flag is set on a NOERROR response for a name outside the server's zones",
        ],
    );
}

/// The end of the question section (one question, uncompressed name).
fn question_end(r: &[u8]) -> Option<usize> {
    let mut at = 12;
    while *r.get(at)? != 0 {
        at += 1 + *r.get(at)? as usize;
    }
    Some(at + 5).filter(|&e| e <= r.len())
}

/// Ignores the EDNS(0) payload size: any UDP response above 512 octets is
/// cut to its header and question, with TC set (as without EDNS).
fn udp_512_always(r: &mut Vec<u8>, udp: bool) {
    if !udp || r.len() <= 512 {
        return;
    }
    if let Some(end) = question_end(r) {
        r.truncate(end);
        r[2] |= 0x02;
        r[6..12].fill(0);
    }
}

/// Names compared with case: a question with an upper-case letter gets
/// NXDOMAIN and no data.
fn case_sensitive(r: &mut Vec<u8>, _udp: bool) {
    let upper = question_end(r).is_some_and(|e| r[12..e].iter().any(u8::is_ascii_uppercase));
    if upper {
        rewrite(r, |m| {
            m.set_response_code(hickory_proto::op::ResponseCode::NXDomain);
            m.take_answers();
        });
    }
}

/// The SOA of a negative answer keeps its own TTL, not min(TTL, MINIMUM).
fn negative_soa_full_ttl(r: &mut Vec<u8>, _udp: bool) {
    rewrite(r, |m| {
        let mut ns = m.take_name_servers();
        for rec in ns.iter_mut() {
            if rec.record_type() == hickory_proto::rr::RecordType::SOA {
                rec.set_ttl(3600);
            }
        }
        m.insert_name_servers(ns);
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_ignores_the_payload_size_or_case_or_the_negative_ttl_fails() {
    let (_up, up, _d) = upstream().await;
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, udp_512_always).await),
        &["--tags", "@rfc6891-sec-6.2.5"],
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/dns/edns.feature",
            "A large payload size lets an answer above 512 octets come over UDP",
            "step:        Then the response is larger than 512 octets",
            "expected:    more than 512 octets",
        ],
    );

    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, case_sensitive).await),
        &["--tags", "@rfc4343"],
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/dns/header.feature",
            "mixed-case query for an existing name",
            "step:        And the response has RCODE NOERROR",
            "rcode NXDOMAIN",
        ],
    );

    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, negative_soa_full_ttl).await),
        &["--tags", "@rfc2308-sec-5", "--strict"],
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/dns/negative.feature",
            "The SOA of an NXDOMAIN answer has the lesser",
            "The SOA of a no-data answer has the lesser",
            "the SOA in the authority section has TTL 3600 (RFC 2308 §3",
            "expected:    TTL 300 = min(SOA TTL 3600, MINIMUM 300)",
        ],
    );
}

/// Sets the reserved Z bit.
fn sets_z(r: &mut Vec<u8>, _udp: bool) {
    if r.len() > 3 {
        r[3] |= 0x40;
    }
}

/// Refuses a type it does not know (NOTIMP), as a server without RFC 3597
/// support might.
fn unknown_type_notimp(r: &mut Vec<u8>, _udp: bool) {
    let unknown = question_end(r).is_some_and(|e| r[e - 4..e - 2] == [0xff, 0x00]);
    if unknown {
        rewrite(r, |m| {
            m.set_response_code(hickory_proto::op::ResponseCode::NotImp);
            m.take_name_servers();
        });
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_sets_z_or_refuses_an_unknown_type_fails() {
    let (_up, up, _d) = upstream().await;
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, sets_z).await),
        &["--tags", "@rfc1035-sec-4.1.1"],
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "The Z bit of the response is zero",
            "the Z bit is set (RFC 1035 §4.1.1",
        ],
    );
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, unknown_type_notimp).await),
        &["--tags", "@rfc1034-sec-4.3.2"],
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "A type the server does not know is answered with no data",
            "step:        Then the response has RCODE NOERROR",
            "rcode NOTIMP",
        ],
    );
}

/// Answers a CNAME chain that ends at a missing name with NOERROR (the
/// RCODE of the first cycle, RFC 2308 §2.2.1's old servers).
fn cname_noerror(r: &mut Vec<u8>, _udp: bool) {
    if rcode(r) == 3 {
        rewrite(r, |m| {
            if m.answers()
                .iter()
                .any(|a| a.record_type() == hickory_proto::rr::RecordType::CNAME)
            {
                m.set_response_code(hickory_proto::op::ResponseCode::NoError);
            }
        });
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_answers_a_dangling_cname_with_noerror_fails() {
    let (_up, up, _d) = upstream().await;
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, cname_noerror).await),
        &["--tags", "@rfc6604"],
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "A CNAME to a name the zone does not have is answered NXDOMAIN",
            "step:        Then the response has RCODE NXDOMAIN",
        ],
    );
}

/// Echoes an unknown EDNS flag (0x40) and option 100 in the OPT record the
/// reference server ends its response with, and drops DO.
fn echoes_unknown_edns(r: &mut Vec<u8>, _udp: bool) {
    let Some(at) = last_opt_ttl(r) else { return };
    r[at + 2] &= 0x7f;
    r[at + 3] |= 0x40;
    let option = [0u8, 100, 0, 1, 0x2a];
    r.splice(at + 4..at + 6, (option.len() as u16).to_be_bytes());
    r.extend_from_slice(&option);
}

/// Sets AD in every response (copies the query's, say).
fn sets_ad(r: &mut Vec<u8>, _udp: bool) {
    if r.len() > 3 {
        r[3] |= 0x20;
    }
}

/// Answers a name below exact.wild from *.wild (ignores the closest
/// encloser, RFC 4592 §2.2.1).
fn wildcard_below_existing(r: &mut Vec<u8>, _udp: bool) {
    use hickory_proto::rr::{rdata::A, RData, Record};
    if rcode(r) != 3 {
        return;
    }
    rewrite(r, |m| {
        let Some(q) = m.queries().first().map(|q| q.name().clone()) else {
            return;
        };
        if q.to_ascii().ends_with("exact.wild.example.test.") {
            m.set_response_code(hickory_proto::op::ResponseCode::NoError);
            m.take_name_servers();
            m.add_answer(Record::from_rdata(q, 3600, RData::A(A::new(192, 0, 2, 99))));
        }
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_echoes_edns_bits_or_misreads_the_header_or_wildcards_fails() {
    let (_up, up, _d) = upstream().await;
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, echoes_unknown_edns).await),
        &[
            "--tags",
            "@rfc6891-sec-6.1.2 or @rfc8906-sec-3.2.4 or @rfc3225",
        ],
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/dns/edns.feature",
            "An unknown EDNS option is ignored",
            "the OPT record carries option 100 back",
            "An unknown EDNS flag is not copied into the response",
            "the OPT flags have the bits 0x0040 set besides DO",
            "The DO bit of the query is copied into the response",
            "DO is clear in the response's OPT record",
        ],
    );
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, sets_ad).await),
        &["--tags", "@rfc4035"],
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "An authoritative answer from an unsigned zone does not set AD",
            "problem:     the AD flag is set",
        ],
    );
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, formerr_to_noerror).await),
        &["--tags", "@rfc1035-sec-4.1.1"],
    )
    .await;
    assert_fails_with(&run, &["A query with two questions is a format error"]);
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, wildcard_below_existing).await),
        &["--tags", "@rfc1034-sec-4.3.3"],
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "A name below an existing name is not matched by the wildcard of its parent",
            "expected:    RCODE NXDOMAIN",
        ],
    );
    let tags = ["--tags", "@rfc7766-sec-8"];
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, |_, _| {}).await),
        &tags,
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.all());
    let run = run_against("dns", &dns_profile(proxy(up, |_, _| {}, true).await), &tags).await;
    assert_fails_with(
        &run,
        &["A query whose length prefix comes in a segment of its own is answered"],
    );
}

/// Answers the (refused) AXFR with NOERROR and `records`.
fn axfr_answered(r: &mut Vec<u8>, soa_at_both_ends: bool) {
    use hickory_proto::rr::{rdata::A, rdata::SOA, Name, RData, Record};
    let axfr = question_end(r).is_some_and(|e| r[e - 4..e - 2] == [0x00, 0xfc]);
    if !axfr || rcode(r) != 5 {
        return;
    }
    rewrite(r, |m| {
        let zone = Name::from_ascii("example.test.").unwrap();
        let soa = Record::from_rdata(
            zone.clone(),
            3600,
            RData::SOA(SOA::new(
                Name::from_ascii("ns1.example.test.").unwrap(),
                Name::from_ascii("hostmaster.example.test.").unwrap(),
                2026112101,
                7200,
                900,
                1209600,
                300,
            )),
        );
        m.set_response_code(hickory_proto::op::ResponseCode::NoError);
        m.set_authoritative(true);
        if soa_at_both_ends {
            m.add_answer(soa.clone());
        }
        m.add_answer(Record::from_rdata(
            zone,
            3600,
            RData::A(A::new(192, 0, 2, 1)),
        ));
        m.add_answer(soa);
    });
}

fn axfr_whole(r: &mut Vec<u8>, _udp: bool) {
    axfr_answered(r, true)
}

fn axfr_without_opening_soa(r: &mut Vec<u8>, _udp: bool) {
    axfr_answered(r, false)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_zone_transfer_is_refused_or_framed_by_its_soa() {
    let (_up, up, _d) = upstream().await;
    let tags = ["--tags", "@rfc5936"];
    for alter in [(|_, _| {}) as Alter, axfr_whole] {
        let run = run_against("dns", &dns_profile(faulty_proxy(up, alter).await), &tags).await;
        assert_eq!(run.code, 0, "{}", run.all());
    }
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, axfr_without_opening_soa).await),
        &tags,
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "A zone transfer over TCP is refused, or runs from the zone's SOA to the same SOA",
            "the transfer does not begin with the zone's SOA",
        ],
    );
}

/// A server that ignores QCLASS: a class CH query for the zone gets the
/// zone's class IN data, NOERROR and AA set.
fn answers_ch_with_in_data(r: &mut Vec<u8>, _udp: bool) {
    use hickory_proto::rr::{rdata::A, DNSClass, RData, Record};
    rewrite(r, |m| {
        let Some(q) = m.queries().first().cloned() else {
            return;
        };
        if q.query_class() != DNSClass::CH {
            return;
        }
        m.set_response_code(hickory_proto::op::ResponseCode::NoError);
        m.set_authoritative(true);
        m.add_answer(Record::from_rdata(
            q.name().clone(),
            3600,
            RData::A(A::new(192, 0, 2, 1)),
        ));
    });
}

/// RFC 1034 §3.7.1: a class CH query is not answered with class IN data;
/// the reference server's REFUSED passes, the class-blind server fails.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_answers_class_ch_with_its_in_data_fails() {
    let (_up, up, _d) = upstream().await;
    let tags = ["--tags", "@rfc1034-sec-3.7.1"];
    let run = run_against("dns", &dns_profile(up), &tags).await;
    assert_eq!(run.code, 0, "{}", run.all());
    common::assert_has(&run, &["1 passed, 0 failed"]);
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, answers_ch_with_in_data).await),
        &tags,
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "FAIL features/dns/errors.feature",
            "requirement: MUST · RFC 1035 · RFC 1034 §3.7.1",
            "problem:     the response holds example.test. A of class IN",
        ],
    );
}

/// A server that answers a glue name from the glue: the A record moved to
/// the answer, AA set, the referral's NS records left out.
fn answers_from_glue(r: &mut Vec<u8>, _udp: bool) {
    rewrite(r, |m| {
        let Some(q) = m.queries().first().cloned() else {
            return;
        };
        if !q.name().to_ascii().starts_with("ns1.child.") {
            return;
        }
        let glue: Vec<_> = m
            .additionals()
            .iter()
            .filter(|a| a.name() == q.name())
            .cloned()
            .collect();
        m.take_name_servers();
        m.take_additionals();
        for a in glue {
            m.add_answer(a);
        }
        m.set_authoritative(true);
    });
}

/// RFC 1034 §4.3.2 step 3b: a glue name is referred; the reference server
/// passes, one answering from the glue fails.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_answers_a_glue_name_from_the_glue_fails() {
    let (_up, up, _d) = upstream().await;
    let run = run_against("dns", &dns_profile(up), &[]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    common::assert_has(
        &run,
        &[
            "PASS  features/dns/referral.feature",
            "A glue name is referred to the child",
        ],
    );
    let run = run_against(
        "dns",
        &dns_profile(faulty_proxy(up, answers_from_glue).await),
        &[],
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "FAIL features/dns/referral.feature",
            "A glue name is referred to the child, not answered from the glue",
            "requirement: MUST · RFC 1034 §4.3.2",
        ],
    );
}
