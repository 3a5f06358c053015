//! The harness's module graph points one way: a module uses only those below
//! it in [`LAYERS`], so a change low down (the transcript, a codec) never
//! needs one high up (steps, the runner, the CLI), and a newcomer can read
//! the crate from the bottom. Every `crate::m` path in code (comments do not
//! count) is an edge.
//!
//! [`KNOWN`] lists the edges that still point up, each to be removed; the
//! test fails on any other upward edge, and on a listed one that no longer
//! occurs (so the list only shrinks).

use std::collections::BTreeSet;
use std::path::Path;

/// Lowest first.
const LAYERS: &[&str] = &[
    // Leaves: the byte and XML notation; the transcript with its memory bound.
    "notation",
    "transcript",
    // The protocols' names and profile keys.
    "protocol",
    // Codecs and bounded connections.
    "wire",
    // The servers the harness plays and the client under test.
    "peer",
    "fixtures",
    // Profiles, budgets, bundled servers, preflight, health.
    "target",
    "bundle",
    "suite",
    "fuzz",
    "steps",
    "report",
    "runner",
    "grade",
    "cli",
];

/// Upward edges still there: (from, to, file under src/).
const KNOWN: &[(&str, &str, &str)] = &[
    // The connection budget (target::budget) and the profile (target::Profile)
    // belong below wire; they sit in target with the bundled servers.
    ("wire", "target", "wire/conn.rs"),
    ("wire", "target", "wire/ftp/data.rs"),
    ("wire", "target", "wire/relay.rs"),
    ("wire", "target", "wire/tls.rs"),
    ("wire", "steps", "wire/relay.rs"),
    ("peer", "target", "peer/client.rs"),
    // The sandbox that runs a student's client is grade's.
    ("peer", "grade", "peer/client.rs"),
    // health strikes on steps::Failure; preflight shares the SMTP sender.
    ("target", "steps", "target/health.rs"),
    ("target", "steps", "target/preflight.rs"),
];

fn rank(m: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == m)
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `crate::name` in the code of `text` (line comments cut off).
fn crate_paths(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            // `$crate::` is a macro's own path; `crate::step!` the step macro.
            let dollar = i > 0 && rest.as_bytes()[i - 1] == b'$';
            if !name.is_empty() && !dollar {
                found.insert(name);
            }
            rest = after;
        }
    }
    found
}

#[test]
fn the_module_graph_points_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut upward = BTreeSet::new();
    let mut unlayered = BTreeSet::new();
    for path in &files {
        let rel = path
            .strip_prefix(&src)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/");
        let top = rel.split('/').next().unwrap_or_default();
        let top = top.strip_suffix(".rs").unwrap_or(top);
        if top == "lib" || top == "main" {
            continue;
        }
        let Some(from) = rank(top) else {
            unlayered.insert(top.to_string());
            continue;
        };
        let text = std::fs::read_to_string(path).expect("a source file");
        for to in crate_paths(&text) {
            if to == top || to == "step" {
                continue;
            }
            match rank(&to) {
                Some(r) if r > from => {
                    upward.insert((top.to_string(), to, rel.clone()));
                }
                Some(_) => {}
                None => {
                    unlayered.insert(to);
                }
            }
        }
    }
    assert!(
        unlayered.is_empty(),
        "modules missing from LAYERS: {unlayered:?}"
    );
    let known: BTreeSet<(String, String, String)> = KNOWN
        .iter()
        .map(|(a, b, f)| (a.to_string(), b.to_string(), f.to_string()))
        .collect();
    let new: Vec<_> = upward.difference(&known).collect();
    assert!(
        new.is_empty(),
        "upward module edges (a module may use only those below it in LAYERS): {new:?}"
    );
    let gone: Vec<_> = known.difference(&upward).collect();
    assert!(
        gone.is_empty(),
        "edges in KNOWN that no longer occur; take them off the list: {gone:?}"
    );
}

#[test]
fn comments_and_macro_paths_are_not_edges() {
    let found = crate_paths("use crate::wire::Conn; // see crate::cli\n$crate::x; crate::step!");
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        vec!["step".to_string(), "wire".to_string()]
    );
}
