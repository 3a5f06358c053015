//! `conform coverage` end to end, and the committed requirement index is
//! what `tools/requirements-index.py` derives from the RFC texts (where the
//! texts are at hand, ../shared/rfc beside the repository).

mod common;

use std::path::Path;

use common::conform;

#[tokio::test]
async fn coverage_lists_requirements_per_section_with_the_scenarios_and_verdicts() {
    let run = conform(&["coverage", "smtp", "--rfc", "5321"]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("RFC 5321: ")
            && run
                .stdout
                .contains("requirements in sections with scenarios"),
        "{}",
        run.all()
    );
    assert!(
        run.stdout.contains("§4.1.1.4    DATA (DATA)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("not covered"), "{}", run.stdout);

    // From a run's report: the verdicts, in the text and the JSON.
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("run.json");
    let cov = dir.path().join("coverage.json");
    let r = conform(&["run", "pop3", "--quiet", "--json", report.to_str().unwrap()]).await;
    assert_eq!(r.code, 0, "{}", r.all());
    let run = conform(&[
        "coverage",
        "--report",
        report.to_str().unwrap(),
        "--requirements",
        "--json",
        cov.to_str().unwrap(),
    ])
    .await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("RFC 1939: "), "{}", run.stdout);
    assert!(run.stdout.contains(", passed)"), "{}", run.stdout);
    // Each requirement line carries its summary from summaries.tsv.
    assert!(
        run.stdout
            .contains("line 138  server: \"+OK\" and \"-ERR\" must be sent in upper case"),
        "{}",
        run.stdout
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cov).expect("json")).expect("valid");
    let rfcs = json["rfcs"].as_array().expect("rfcs");
    assert!(rfcs.iter().any(|r| r["rfc"] == "1939"), "{json}");
    assert!(
        rfcs.iter().all(|r| r["rfc"] != "5321"),
        "only what the POP3 run cites: {json}"
    );
    let verdicts: Vec<&str> = rfcs
        .iter()
        .flat_map(|r| r["sections"].as_array().into_iter().flatten())
        .flat_map(|s| s["scenarios"].as_array().into_iter().flatten())
        .filter_map(|s| s["verdict"].as_str())
        .collect();
    assert!(
        !verdicts.is_empty() && verdicts.iter().all(|v| *v == "passed" || *v == "skipped"),
        "{verdicts:?}"
    );
    let summaries: Vec<&str> = rfcs
        .iter()
        .flat_map(|r| r["sections"].as_array().into_iter().flatten())
        .flat_map(|s| s["requirements"].as_array().into_iter().flatten())
        .map(|q| q["summary"].as_str().unwrap_or_default())
        .collect();
    assert!(
        !summaries.is_empty() && summaries.iter().all(|s| !s.is_empty()),
        "every requirement in the JSON has a summary: {json}"
    );

    let run = conform(&["coverage", "--rfc", "1"]).await;
    assert_eq!(run.code, 2, "no scenario cites RFC 1: {}", run.all());
}

#[test]
fn the_committed_index_is_what_the_script_derives() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let rfcs = repo.join("../shared/rfc");
    if !rfcs.join("rfc5321.txt").exists() {
        eprintln!("skipped: the RFC texts are not at {}", rfcs.display());
        return;
    }
    let out = tempfile::tempdir().expect("temp dir");
    let run = std::process::Command::new("python3")
        .arg(repo.join("tools/requirements-index.py"))
        .arg(&rfcs)
        .arg(out.path())
        .output()
        .expect("python3 runs");
    let said = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{said}");
    assert!(
        !said.contains("copied: "),
        "summaries are our words, not the RFC's: {said}"
    );
    for f in ["index.tsv", "sections.tsv"] {
        let made = std::fs::read_to_string(out.path().join(f)).expect("made");
        let committed =
            std::fs::read_to_string(repo.join("harness/requirements").join(f)).expect("committed");
        assert!(
            made == committed,
            "harness/requirements/{f} is stale: run tools/requirements-index.py"
        );
    }
}

/// Every indexed requirement has a one-line summary in our words
/// (`harness/requirements/summaries.tsv`, merged into index.tsv by the
/// script), and every summary still names a requirement of the index.
#[test]
fn every_requirement_has_a_summary_and_every_summary_a_requirement() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("requirements");
    let index = std::fs::read_to_string(dir.join("index.tsv")).expect("index.tsv");
    let summaries = std::fs::read_to_string(dir.join("summaries.tsv")).expect("summaries.tsv");
    // The RFCs whose summaries are complete (`# done: 5321 9110 …`, or `all`).
    let done: Vec<&str> = summaries
        .lines()
        .filter_map(|l| l.strip_prefix("# done:"))
        .flat_map(str::split_whitespace)
        .collect();
    let required = |rfc: &str| done.contains(&"all") || done.contains(&rfc);
    let mut keys = std::collections::BTreeSet::new();
    let mut missing = Vec::new();
    for line in index.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        assert!(
            f.len() >= 8,
            "index.tsv row without a summary column: {line}"
        );
        keys.insert((f[0], f[1], f[2], f[3]));
        if f[7].trim().is_empty() && required(f[0]) {
            missing.push(format!("{} §{} #{} {}", f[0], f[1], f[2], f[3]));
        }
    }
    assert!(
        missing.is_empty(),
        "{} requirements without a summary in summaries.tsv: {}",
        missing.len(),
        missing.join(", ")
    );
    for line in summaries
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 5, "rfc, section, n, keyword, summary: {line}");
        assert!(
            keys.contains(&(f[0], f[1], f[2], f[3])),
            "summaries.tsv names no requirement of the index (stale): {line}"
        );
        let words = f[4].split_whitespace().count();
        assert!(
            (1..=14).contains(&words),
            "a summary is one to 14 words: {line}"
        );
    }
}
