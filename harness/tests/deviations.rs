//! Stable scenario ids and declared deviations end to end: a CI job with a
//! deviations file goes green, red on a new failure, and red on a fixed
//! deviation with --ratchet.

mod common;

use common::{cases, conform, parse_junit, profile, tcp_server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A TCP sockets server that lower-cases instead of upper-casing (breaks the
/// upper-casing scenarios only) or, with `upper`, a correct one.
async fn server(upper: bool) -> std::net::SocketAddr {
    tcp_server(move |mut s| async move {
        let mut buf = vec![0u8; 4096];
        let n = s.read(&mut buf).await.unwrap_or(0);
        let reply = if upper {
            buf[..n].to_ascii_uppercase()
        } else {
            buf[..n].to_ascii_lowercase()
        };
        let _ = s.write_all(&reply).await;
    })
    .await
}

/// `conform run sockets --target TARGET ARGS…`.
async fn sockets(target: &str, args: &[&str]) -> common::Run {
    let mut all = vec!["run", "sockets", "--target", target];
    all.extend_from_slice(args);
    conform(&all).await
}

#[tokio::test(flavor = "multi_thread")]
async fn every_bundled_scenario_has_a_unique_stable_id() {
    let run = conform(&["list"]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    let mut seen = std::collections::BTreeMap::new();
    for line in run.stdout.lines() {
        let mut cols = line.split('\t');
        let id = cols.next().unwrap().to_string();
        let place = cols.next().unwrap_or_default().to_string();
        let parts: Vec<&str> = id.split('/').collect();
        assert_eq!(parts.len(), 3, "id {id} is protocol/file/slug");
        assert!(
            id.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '/'),
            "id {id} is a slug"
        );
        if let Some(other) = seen.insert(id.clone(), place.clone()) {
            panic!("id {id} names both {other} and {place}");
        }
    }
    assert!(seen.len() > 400, "{}", seen.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn declared_deviations_and_the_ratchet() {
    let bad = server(false).await;
    let (dir, p) = profile(&format!("[sockets]\ntcp = \"{bad}\"\n"));
    let target = p.to_str().unwrap();
    let devs = dir.path().join("deviations.toml");
    let devs_arg = devs.to_str().unwrap();

    // Today's failures, written as a starting list.
    let run = sockets(target, &["--write-deviations", devs_arg]).await;
    assert_eq!(run.code, 1, "{}", run.all());
    let written = std::fs::read_to_string(&devs).unwrap();
    assert!(
        written.contains("id = \"sockets/tcp/a-lowercase-sentence-comes-back-upper-cased\""),
        "{written}"
    );

    // With the list, the same server is green, and JUnit says why.
    let junit = dir.path().join("r.xml");
    let run = sockets(
        target,
        &[
            "--deviations",
            devs_arg,
            "--ratchet",
            "--junit",
            junit.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("DEV   features/sockets/tcp.feature"),
        "{}",
        run.all()
    );
    let suites = parse_junit(&junit);
    let dev = cases(&suites)
        .into_iter()
        .find(|c| c.original_name == "A lowercase sentence comes back upper-cased")
        .expect("the scenario is in the report");
    assert!(
        matches!(dev.status, junit_parser::TestStatus::Skipped(_)),
        "a declared deviation is skipped: {:?}",
        dev.status
    );

    // A new failure is still red: drop one entry from the list.
    let mut entries: Vec<&str> = written.split("\n[[deviation]]").collect();
    let head = entries.remove(0);
    let kept = format!(
        "{head}\n[[deviation]]{}",
        entries[1..].join("\n[[deviation]]")
    );
    let fewer = dir.path().join("fewer.toml");
    std::fs::write(&fewer, kept).unwrap();
    let run = sockets(target, &["--deviations", fewer.to_str().unwrap()]).await;
    assert_eq!(run.code, 1, "{}", run.all());

    // The server is fixed: without --ratchet a note, with it red.
    let good = server(true).await;
    let (_d2, p2) = profile(&format!("[sockets]\ntcp = \"{good}\"\n"));
    let run = sockets(p2.to_str().unwrap(), &["--deviations", devs_arg]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("FIXED features/sockets/tcp.feature"),
        "{}",
        run.all()
    );
    let run = sockets(
        p2.to_str().unwrap(),
        &["--deviations", devs_arg, "--ratchet"],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stdout.contains("remove it from the deviations file"),
        "{}",
        run.all()
    );

    // A typo declares nothing: configuration error.
    let typo = dir.path().join("typo.toml");
    std::fs::write(
        &typo,
        "[[deviation]]\nid = \"sockets/tcp/no-such-scenario\"\nreason = \"x\"\n",
    )
    .unwrap();
    let run = sockets(target, &["--deviations", typo.to_str().unwrap()]).await;
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("sockets/tcp/no-such-scenario"),
        "{}",
        run.all()
    );
}
