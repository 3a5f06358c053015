//! The resolver suite end to end: against the bundled reference resolver,
//! and against the reference resolver with one rule broken each (never
//! caches, caches past the TTL, one source port, one ID, ignores TC, sets
//! AA, takes out-of-bailiwick data, takes any answer). Each faulty resolver
//! must fail the scenario that judges its rule; SHOULD scenarios are run
//! with --strict so that their failure counts. One that keeps the letter
//! case of its queries gets information on the MAY scenario only.

mod common;

use std::net::SocketAddr;

use common::{bundled_run_passes, run_against};
use reference_servers::dns::resolver::{self, Config, Faults};

/// Runs the suite against the reference resolver with `faults` and returns
/// the names of the scenarios that failed.
async fn failed_with(faults: Faults) -> Vec<String> {
    let run = run_with(faults).await;
    assert_eq!(run.code, 1, "the faulty resolver fails\n{}", run.all());
    run.stdout
        .lines()
        .filter_map(|l| l.strip_prefix("FAIL  "))
        .map(str::to_string)
        .collect()
}

/// The suite's run (with --strict) against the reference resolver with
/// `faults`.
async fn run_with(faults: Faults) -> common::Run {
    let port = conform::peer::dns::free_port()
        .await
        .expect("a free port on 127.53.0.x");
    let config = Config {
        roots: vec![SocketAddr::from((conform::peer::dns::ROOT, port))],
        open: false,
        faults,
    };
    let r = resolver::start("127.0.0.1".parse().unwrap(), 0, config)
        .await
        .expect("the resolver starts");
    let addr = r.addr("address").unwrap();
    let profile = format!("[resolver]\naddress = \"{addr}\"\nhierarchy_port = {port}\n");
    let run = run_against("resolver", &profile, &["--strict"]).await;
    println!("{}", run.stdout);
    run
}

fn assert_failed(failed: &[String], scenario: &str) {
    assert!(
        failed.iter().any(|f| f.contains(scenario)),
        "\"{scenario}\" fails; failed: {failed:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bundled_resolver_passes() {
    let (run, _) = bundled_run_passes(&["resolver"], &[], 18).await;
    assert!(run.stdout.contains("resolver: "), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolver_that_never_caches_fails_the_cache_scenario() {
    let failed = failed_with(Faults {
        no_cache: true,
        ..Faults::default()
    })
    .await;
    assert_failed(&failed, "A repeated query is answered from the cache");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolver_that_caches_past_the_ttl_fails_the_expiry_scenarios() {
    let failed = failed_with(Faults {
        cache_past_ttl: true,
        ..Faults::default()
    })
    .await;
    assert_failed(&failed, "A record whose TTL has run out is asked for again");
    assert_failed(&failed, "A negative answer is cached no longer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolver_with_a_fixed_source_port_or_id_fails_the_randomisation_scenario() {
    for faults in [
        Faults {
            fixed_port: true,
            ..Faults::default()
        },
        Faults {
            fixed_id: true,
            ..Faults::default()
        },
    ] {
        let failed = failed_with(faults).await;
        assert_failed(&failed, "vary their source ports and IDs");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolver_that_ignores_tc_fails_the_tcp_scenario() {
    let failed = failed_with(Faults {
        ignore_tc: true,
        ..Faults::default()
    })
    .await;
    assert_failed(
        &failed,
        "A truncated answer from a server is asked again over TCP",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolver_that_sets_aa_fails_the_aa_scenario() {
    let failed = failed_with(Faults {
        set_aa: true,
        ..Faults::default()
    })
    .await;
    assert_failed(&failed, "is not marked authoritative");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolver_that_takes_out_of_bailiwick_data_fails_the_poisoning_scenario() {
    let failed = failed_with(Faults {
        accept_out_of_bailiwick: true,
        ..Faults::default()
    })
    .await;
    assert_failed(
        &failed,
        "outside the server's zone in the additional section",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolver_that_takes_any_answer_fails_the_forgery_scenario() {
    let failed = failed_with(Faults {
        accept_any_answer: true,
        ..Faults::default()
    })
    .await;
    assert_failed(
        &failed,
        "Forged answers with the wrong ID or from another address are ignored",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolver_that_keeps_the_case_is_reported_as_information_only() {
    // The bundled resolver randomises the case (the 0x20 bit) and passes;
    // without it the MAY scenario is information, and the run still passes.
    let run = run_with(Faults {
        fixed_case: true,
        ..Faults::default()
    })
    .await;
    assert_eq!(run.code, 0, "{}", run.all());
    let info: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("INFO  "))
        .collect();
    assert!(
        info.iter()
            .any(|l| l.contains("randomises the letter case of the names")),
        "{info:#?}"
    );
    assert!(
        run.stdout
            .contains("every name went up the hierarchy in one letter case"),
        "{}",
        run.stdout
    );
}
