//! Embeds what `conform` reads at run time into the binary, so that an
//! installed or copied binary works from any folder:
//!
//! - the suites (`features/`), the fuzz corpus seeds (`corpus/`) and the
//!   bundled assignments (`harness/assignments/`), as `BUNDLE`: a table of
//!   `(path, text)` with paths like `features/http/semantics.feature`;
//! - the documentation of every step definition (`harness/src/steps/`): the
//!   `///` lines above each `#[given]`, `#[when]` and `#[then]` attribute, as
//!   `STEP_DOCS` (`(file below harness/, line of the attribute, doc)`), joined
//!   at run time with cucumber's own step registry (see `steps::registry`).
//!
//! Only the standard library: no build dependency.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let repo = manifest.join("..");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));

    let mut bundle = String::from("pub static BUNDLE: &[(&str, &str)] = &[\n");
    for (prefix, dir, ext) in [
        ("features", repo.join("features"), "feature"),
        ("corpus", repo.join("corpus"), "case"),
        ("assignments", manifest.join("assignments"), "toml"),
        ("assignments", manifest.join("assignments"), "feature"),
    ] {
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files = Vec::new();
        walk(&dir, &mut files);
        files.sort();
        for file in files {
            if file.extension().is_none_or(|e| e != ext) {
                continue;
            }
            // Corpus regressions are findings of local fuzz runs, replayed
            // by the tests from the source tree; the seeds are what a run needs.
            if prefix == "corpus" && file.components().any(|c| c.as_os_str() == "regressions") {
                continue;
            }
            let rel = file.strip_prefix(&dir).expect("below dir");
            let name = format!("{prefix}/{}", slashes(rel));
            let abs = file.canonicalize().unwrap_or(file.clone());
            writeln!(
                bundle,
                "    ({name:?}, include_str!({:?})),",
                abs.display().to_string()
            )
            .expect("write to a String");
        }
    }
    bundle.push_str("];\n");

    let steps_dir = manifest.join("src/steps");
    println!("cargo:rerun-if-changed={}", steps_dir.display());
    let mut sources = Vec::new();
    walk(&steps_dir, &mut sources);
    sources.sort();
    let mut docs = String::from("pub static STEP_DOCS: &[(&str, u32, &str)] = &[\n");
    for file in sources {
        if file.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let rel = slashes(file.strip_prefix(&manifest).expect("below the crate"));
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            if !(t.starts_with("#[given(") || t.starts_with("#[when(") || t.starts_with("#[then("))
            {
                continue;
            }
            // The doc comment above, skipping other attributes.
            let mut doc = Vec::new();
            let mut j = i;
            while j > 0 {
                j -= 1;
                let above = lines[j].trim_start();
                if let Some(d) = above.strip_prefix("///") {
                    doc.push(d.trim().to_string());
                } else if above.starts_with("#[") {
                    continue;
                } else {
                    break;
                }
            }
            doc.reverse();
            writeln!(docs, "    ({rel:?}, {}, {:?}),", i + 1, doc.join("\n"))
                .expect("write to a String");
        }
    }
    docs.push_str("];\n");

    std::fs::write(out_dir.join("bundle.rs"), bundle).expect("write OUT_DIR/bundle.rs");
    std::fs::write(out_dir.join("step_docs.rs"), docs).expect("write OUT_DIR/step_docs.rs");
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn slashes(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}
