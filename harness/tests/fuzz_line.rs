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

async fn fuzz(f: Faults, cases: u64) -> engine::FuzzReport {
    let addr = toy_server(f).await;
    let mut profile = Profile::new("toy");
    profile.set("toy", "address", &addr.to_string());
    let opts = FuzzOptions {
        cases: Some(cases),
        seed: 11,
        reply_timeout: Duration::from_millis(500),
        shrink_time: Duration::from_secs(20),
        ..FuzzOptions::default()
    };
    tokio::task::spawn_blocking(move || engine::run(Arc::new(toy_protocol()), &profile, &opts))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_correct_line_server_survives() {
    let r = fuzz(Faults::default(), 1500).await;
    assert!(
        r.finding.is_none(),
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
        .finding
        .as_ref()
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
        .finding
        .as_ref()
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
        .finding
        .as_ref()
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
