//! The HTML reports opened in a real browser: `run --html` and `compare
//! --html` render, their filters hide and show the right scenarios, and a
//! screenshot is taken (look at it: `target/html-report/*.png`).
//!
//! The browser is headless Chromium (Debian package `chromium`; `.ci/test.sh`
//! installs it). Without it the test says so and returns — except under CI
//! (`CI` set), where a missing browser fails the test.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::conform;

fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in ["/usr/bin", "/usr/local/bin", "/snap/bin"] {
            let p = Path::new(dir).join(name);
            if p.exists() {
                return Some(p);
            }
        }
    }
    None
}

/// The page's DOM after its script ran, opened at `fragment`.
fn dom(browser: &Path, file: &Path, fragment: &str) -> String {
    let url = format!("file://{}{fragment}", file.display());
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--dump-dom",
            &url,
        ])
        .output()
        .expect("chromium runs");
    assert!(out.status.success(), "chromium failed: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `showing N of M` as the page's script counted it.
fn shown(dom: &str) -> usize {
    let at = dom
        .find("data-shown=\"")
        .unwrap_or_else(|| panic!("the filter script did not run: {dom}"));
    let rest = &dom[at + 12..];
    rest[..rest.find('"').expect("closing quote")]
        .parse()
        .expect("a number")
}

fn screenshot(browser: &Path, file: &Path, png: &Path) {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1300,1400",
            &format!("--screenshot={}", png.display()),
            &format!("file://{}", file.display()),
        ])
        .output()
        .expect("chromium runs");
    assert!(out.status.success(), "chromium failed: {out:?}");
    let size = std::fs::metadata(png).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 20_000,
        "a screenshot of a rendered page, not a blank one ({size} bytes)"
    );
}

#[tokio::test]
async fn the_html_reports_render_and_filter_in_a_browser() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs chromium for this test (.ci/test.sh installs it)"
        );
        eprintln!("skipped: no chromium (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    // A failure, a warning and an error, besides the bundled sockets suite.
    let extra = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/probes");
    let p = |n: &str| dir.path().join(n);
    let arg = |path: &PathBuf| path.display().to_string();

    let (json_a, html_a) = (p("bundled.json"), p("bundled.html"));
    let run = conform(&[
        "run",
        "sockets",
        "--quiet",
        "--features",
        &extra.display().to_string(),
        "--json",
        &arg(&json_a),
        "--html",
        &arg(&html_a),
    ])
    .await;
    assert_eq!(run.code, 1, "the probe fails the run: {}", run.all());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_a).expect("json")).expect("valid");
    let total = report["scenarios"].as_array().map(Vec::len).unwrap_or(0);
    let passed = report["summary"]["passed"].as_u64().unwrap_or(0) as usize;
    assert!(total > 10, "{total}");
    let probe = report["scenarios"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|s| s["name"] == "A probe that expects the wrong reply")
        })
        .expect("the probe is in the report");
    assert_eq!(
        probe["requirement"],
        "MUST · RFC 9293 §3.10.7.4: A probe that expects the wrong reply"
    );

    let all = dom(&browser, &html_a, "");
    assert_eq!(shown(&all), total, "everything is shown at first");
    // The server's bytes are text on the page, never markup.
    assert!(
        all.contains("&lt;b&gt;markup&lt;/b&gt;"),
        "escaped transcript"
    );
    assert!(!all.contains("<b>markup</b>"), "unescaped transcript");
    assert_eq!(shown(&dom(&browser, &html_a, "#verdict=failed")), 1);
    assert_eq!(shown(&dom(&browser, &html_a, "#verdict=warning")), 1);
    assert_eq!(shown(&dom(&browser, &html_a, "#verdict=error")), 1);
    assert_eq!(shown(&dom(&browser, &html_a, "#verdict=passed")), passed);
    assert_eq!(
        shown(&dom(
            &browser,
            &html_a,
            "#verdict=failed,warning,passed&level=SHOULD"
        )),
        report["scenarios"]
            .as_array()
            .map(|a| a.iter().filter(|s| s["level"] == "SHOULD").count())
            .unwrap_or(0)
    );
    assert_eq!(
        shown(&dom(
            &browser,
            &html_a,
            "#verdict=failed,warning,passed,info,skipped,error&q=probe"
        )),
        3
    );
    assert_eq!(
        shown(&dom(
            &browser,
            &html_a,
            "#verdict=failed,warning,passed,info,skipped&tag=udp"
        )),
        report["scenarios"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|s| {
                        s["tags"].as_array().is_some_and(|t| {
                            t.iter()
                                .any(|t| t.as_str().is_some_and(|t| t.starts_with("udp")))
                        })
                    })
                    .count()
            })
            .unwrap_or(0)
    );

    // A second run without the probes, compared with the first.
    let json_b = p("clean.json");
    let run = conform(&["run", "sockets", "--quiet", "--json", &arg(&json_b)]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    let html_c = p("compare.html");
    let cmp = conform(&[
        "compare",
        &arg(&json_a),
        &arg(&json_b),
        "--html",
        &arg(&html_c),
    ])
    .await;
    assert_eq!(cmp.code, 0, "{}", cmp.all());
    assert!(
        cmp.stdout.contains("3 of ") && cmp.stdout.contains("have different verdicts:"),
        "{}",
        cmp.all()
    );
    assert!(cmp.stdout.contains("FAIL  -     MUST"), "{}", cmp.stdout);
    let every = "verdict=passed,failed,warning,info,skipped,error";
    assert_eq!(
        shown(&dom(&browser, &html_c, &format!("#{every}&diff=1"))),
        3
    );
    assert_eq!(
        shown(&dom(&browser, &html_c, &format!("#{every}&diff=0"))),
        total
    );

    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-report");
    std::fs::create_dir_all(&shots).expect("mkdir");
    screenshot(&browser, &html_a, &shots.join("run.png"));
    screenshot(&browser, &html_c, &shots.join("compare.png"));
}
