//! The generic CRLF line protocol of the fuzzer (`conform::fuzz::line`),
//! driven through the library against a small SMTP-like text server written
//! here: the correct server survives, and each deliberately faulty one is
//! found by the oracle it breaks, with a minimized reproducer.

use std::sync::Arc;
use std::time::Duration;

use conform::fuzz::line::{Dialect, LineProtocol};
use conform::fuzz::mutate::TextGrammar;
use conform::fuzz::{engine, FuzzOptions, Oracle};
use conform::target::Profile;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Clone, Copy, Default)]
struct Faults {
    /// Answers 250 to commands it does not know.
    accepts_unknown: bool,
    /// Ends HELP's reply lines with a bare LF.
    bare_lf: bool,
    /// Stops answering (but keeps the connection) after a line over 300 bytes.
    stalls_on_long_lines: bool,
}

/// A toy mail-like server: greeting 220; HELO, NOOP, VRFY, HELP, MAIL, RCPT,
/// RSET, QUIT; 500 for anything else and for lines over 512 bytes.
async fn toy_server(f: Faults) -> std::net::SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            tokio::spawn(async move {
                let (r, mut w) = s.into_split();
                let mut r = BufReader::new(r);
                let _ = w.write_all(b"220 toy ready\r\n").await;
                let mut mail = false;
                loop {
                    let mut line = Vec::new();
                    match r.read_until(b'\n', &mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if line.len() > 300 && f.stalls_on_long_lines {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        return;
                    }
                    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                        line.pop();
                    }
                    let verb: Vec<u8> = line
                        .split(|b| *b == b' ')
                        .next()
                        .unwrap_or_default()
                        .to_ascii_uppercase();
                    let reply: &[u8] = if line.len() > 510 {
                        b"500 line too long\r\n"
                    } else {
                        match verb.as_slice() {
                            b"HELO" | b"NOOP" | b"RSET" => {
                                mail = false;
                                b"250 ok\r\n"
                            }
                            b"VRFY" => b"252 cannot verify\r\n",
                            b"HELP" if f.bare_lf => b"214-commands:\n214 HELO NOOP\n",
                            b"HELP" => {
                                b"214-commands:\r\n214 HELO NOOP VRFY HELP MAIL RCPT RSET QUIT\r\n"
                            }
                            b"MAIL" => {
                                mail = true;
                                b"250 sender ok\r\n"
                            }
                            b"RCPT" if mail => b"250 recipient ok\r\n",
                            b"RCPT" => b"503 need MAIL first\r\n",
                            b"QUIT" => {
                                let _ = w.write_all(b"221 bye\r\n").await;
                                return;
                            }
                            _ if f.accepts_unknown => b"250 whatever\r\n",
                            _ => b"500 command unrecognized\r\n",
                        }
                    };
                    if w.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn toy_protocol() -> LineProtocol {
    let v = |s: &str| s.as_bytes().to_vec();
    LineProtocol::new(
        "toy",
        "address",
        Dialect::Numeric,
        true,
        TextGrammar {
            verbs: ["HELO", "NOOP", "VRFY", "HELP", "MAIL", "RCPT", "RSET"]
                .map(v)
                .to_vec(),
            args: [
                "client.example",
                "FROM:<a@b.example>",
                "TO:<c@d.example>",
                "postmaster",
            ]
            .map(v)
            .to_vec(),
            line_limit: 512,
        },
        [
            "HELO client.example\r\n",
            "NOOP\r\n",
            "VRFY postmaster\r\n",
            "HELP\r\n",
            "RCPT TO:<c@d.example>\r\n",
        ]
        .map(v)
        .to_vec(),
        vec![
            vec![v("HELO client.example\r\n")],
            vec![
                v("HELO client.example\r\n"),
                v("MAIL FROM:<a@b.example>\r\n"),
            ],
        ],
        v("NOOP\r\n"),
    )
}

fn options(cases: u64) -> FuzzOptions {
    FuzzOptions {
        cases: Some(cases),
        seed: 11,
        reply_timeout: Duration::from_millis(500),
        shrink_time: Duration::from_secs(20),
        ..FuzzOptions::default()
    }
}

async fn fuzz(f: Faults, cases: u64) -> engine::FuzzReport {
    fuzz_with(f, options(cases), None).await
}

/// A run with `opts`; with `corpus`, new findings are written there as
/// `conform fuzz` writes them.
async fn fuzz_with(
    f: Faults,
    opts: FuzzOptions,
    corpus: Option<std::path::PathBuf>,
) -> engine::FuzzReport {
    let addr = toy_server(f).await;
    let mut profile = Profile::new("toy");
    profile.set("toy", "address", &addr.to_string());
    tokio::task::spawn_blocking(move || {
        let plugin = Arc::new(toy_protocol());
        let seeds = conform::fuzz::corpus::seeds(plugin.as_ref(), None, None);
        let mut campaign = conform::fuzz::report::Campaign::new(plugin.as_ref(), corpus, false);
        engine::run(plugin.clone(), &profile, seeds, &opts, &mut campaign)
    })
    .await
    .unwrap()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_correct_line_server_survives() {
    let r = fuzz(Faults::default(), 1500).await;
    assert!(
        r.findings.is_empty(),
        "{}",
        conform::fuzz::report::summary(&r)
    );
    assert_eq!(r.cases, 1500);
    assert!(
        r.exchanges > 3000,
        "sessions carry several commands: {}",
        r.exchanges
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn success_for_an_unknown_command_is_an_unacceptable_class() {
    let r = fuzz(
        Faults {
            accepts_unknown: true,
            ..Faults::default()
        },
        1500,
    )
    .await;
    eprintln!("{}", conform::fuzz::report::summary(&r));
    let f = r
        .finding()
        .unwrap_or_else(|| panic!("{}", conform::fuzz::report::summary(&r)));
    assert_eq!(
        f.violation.oracle,
        Oracle::AcceptableClass,
        "{}",
        conform::fuzz::report::summary(&r)
    );
    assert_eq!(
        f.minimized.messages.len(),
        1,
        "{}",
        conform::fuzz::report::summary(&r)
    );
    assert!(
        f.minimized.size() <= 8,
        "minimized: {}",
        conform::fuzz::report::summary(&r)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bare_lf_in_a_reply_is_malformed() {
    let r = fuzz(
        Faults {
            bare_lf: true,
            ..Faults::default()
        },
        1500,
    )
    .await;
    eprintln!("{}", conform::fuzz::report::summary(&r));
    let f = r
        .finding()
        .unwrap_or_else(|| panic!("{}", conform::fuzz::report::summary(&r)));
    assert_eq!(
        f.violation.oracle,
        Oracle::WellFormed,
        "{}",
        conform::fuzz::report::summary(&r)
    );
    assert!(
        f.minimized.prefix.is_empty(),
        "{}",
        conform::fuzz::report::summary(&r)
    );
    let m = &f.minimized.messages[0];
    assert!(
        m.to_ascii_uppercase().starts_with(b"HELP"),
        "{}",
        conform::fuzz::report::summary(&r)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_stalls_on_long_lines_is_found_with_a_line_just_over_300_bytes() {
    let r = fuzz(
        Faults {
            stalls_on_long_lines: true,
            ..Faults::default()
        },
        1500,
    )
    .await;
    eprintln!("{}", conform::fuzz::report::summary(&r));
    let f = r
        .finding()
        .unwrap_or_else(|| panic!("{}", conform::fuzz::report::summary(&r)));
    assert_eq!(
        f.violation.oracle,
        Oracle::Answers,
        "{}",
        conform::fuzz::report::summary(&r)
    );
    assert_eq!(
        f.minimized.messages.len(),
        1,
        "{}",
        conform::fuzz::report::summary(&r)
    );
    assert_eq!(
        f.minimized.messages[0].len(),
        301,
        "{}",
        conform::fuzz::report::summary(&r)
    );
}

/// A scratch folder under the target directory, empty.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn case_files(corpus: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(corpus.join("toy").join("regressions"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".case"))
        .collect();
    v.sort();
    v
}

const TWO_FAULTS: Faults = Faults {
    accepts_unknown: true,
    bare_lf: true,
    stalls_on_long_lines: false,
};

#[tokio::test(flavor = "multi_thread")]
async fn a_campaign_keeps_going_and_writes_each_finding_once() {
    let corpus = scratch("campaign-keep-going");
    let opts = FuzzOptions {
        keep_going: true,
        ..options(1500)
    };
    let r = fuzz_with(TWO_FAULTS, opts, Some(corpus.clone())).await;
    let summary = conform::fuzz::report::summary(&r);
    eprintln!("{summary}");
    // Every case was drawn: the findings did not end the run.
    assert_eq!(r.cases, 1500, "{summary}");
    let oracles: std::collections::BTreeSet<Oracle> =
        r.findings.iter().map(|f| f.violation.oracle).collect();
    assert!(
        oracles.contains(&Oracle::AcceptableClass) && oracles.contains(&Oracle::WellFormed),
        "both faults are found: {summary}"
    );
    // One finding per signature, found by more than one drawn case.
    let signatures: std::collections::BTreeSet<String> =
        r.findings.iter().map(|f| f.signature()).collect();
    assert_eq!(signatures.len(), r.findings.len(), "{summary}");
    assert!(
        r.findings.iter().map(|f| f.hits).sum::<u64>() > r.findings.len() as u64,
        "repeated findings are counted, not listed again: {summary}"
    );
    // Each written once, named by its signature.
    let expected: Vec<String> = signatures.iter().map(|s| format!("{s}.case")).collect();
    assert_eq!(case_files(&corpus), expected, "{summary}");
    assert!(
        summary.contains(&format!("findings: {} new", r.findings.len())),
        "{summary}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_known_finding_neither_stops_nor_clutters_a_run() {
    let corpus = scratch("campaign-known");
    // Without --keep-going: the known bare-LF finding does not end the run,
    // the first new one (success for an unknown command) does.
    let known = conform::fuzz::Known::parse(
        "[[known]]\noracle = \"well-formed\"\nmessage = \"bare LF\"\nreason = \"the toy's HELP is old\"\n",
    )
    .unwrap();
    let opts = FuzzOptions {
        known,
        ..options(1500)
    };
    let r = fuzz_with(
        Faults {
            bare_lf: true,
            ..Faults::default()
        },
        opts.clone(),
        Some(corpus.clone()),
    )
    .await;
    let summary = conform::fuzz::report::summary(&r);
    eprintln!("{summary}");
    assert_eq!(
        r.cases, 1500,
        "a known finding does not stop the run: {summary}"
    );
    assert!(r.finding().is_none(), "{summary}");
    assert!(r.known_findings().count() >= 1, "{summary}");
    assert!(r
        .known_findings()
        .all(|f| f.known.as_deref() == Some("the toy's HELP is old")));
    assert!(
        case_files(&corpus).is_empty(),
        "known findings are not written: {summary}"
    );
    assert!(summary.contains("no new findings"), "{summary}");

    let r = fuzz_with(TWO_FAULTS, opts, Some(corpus.clone())).await;
    let summary = conform::fuzz::report::summary(&r);
    eprintln!("{summary}");
    let f = r.finding().unwrap_or_else(|| panic!("{summary}"));
    assert_eq!(f.violation.oracle, Oracle::AcceptableClass, "{summary}");
    assert_eq!(
        r.new_findings().count(),
        1,
        "the run ends at its first new finding: {summary}"
    );
    assert_eq!(case_files(&corpus), vec![format!("{}.case", f.signature())]);
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_draw_the_cases_asked_for_and_report_a_finding_once() {
    let opts = FuzzOptions {
        jobs: 3,
        ..options(900)
    };
    let r = fuzz_with(Faults::default(), opts.clone(), None).await;
    let summary = conform::fuzz::report::summary(&r);
    assert_eq!(r.cases, 900, "{summary}");
    assert_eq!(r.jobs, 3, "{summary}");
    assert!(r.findings.is_empty(), "{summary}");

    let opts = FuzzOptions {
        keep_going: true,
        ..opts
    };
    let r = fuzz_with(TWO_FAULTS, opts, None).await;
    let summary = conform::fuzz::report::summary(&r);
    eprintln!("{summary}");
    assert_eq!(r.cases, 900, "{summary}");
    let signatures: std::collections::BTreeSet<String> =
        r.findings.iter().map(|f| f.signature()).collect();
    assert_eq!(signatures.len(), r.findings.len(), "once each: {summary}");
    let seeds: std::collections::BTreeSet<u64> = (0..3).map(|j| engine::job_seed(11, j)).collect();
    assert!(
        r.findings.iter().all(|f| seeds.contains(&f.seed)),
        "{summary}"
    );
    assert_eq!(engine::job_seed(11, 0), 11);
}
