//! Batch mode: every folder in a folder of submissions graded, several at a
//! time, each by its own `conform grade` process (so one submission cannot
//! disturb another's grading), into `OUT/<submission>/`; then the gradebook
//! `OUT/gradebook.csv` and `OUT/gradebook.json`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt as _;
use serde_json::{json, Value};

use crate::runner::SetupError;

pub struct BatchOptions {
    /// The assignment as given on the command line (file or bundled name).
    pub assignment: String,
    pub folder: PathBuf,
    pub out: PathBuf,
    pub jobs: usize,
    /// `--features DIR`, passed on to each grader.
    pub features: Option<PathBuf>,
    /// Bound on one submission's grading, after which it is stopped.
    pub limit: Duration,
}

/// One line of the gradebook.
struct Row {
    submission: String,
    score: f64,
    max_score: f64,
    status: String,
    /// Why the program could not be tested (build, port), if so.
    problem: String,
    criteria: Vec<(String, f64, f64)>,
}

pub async fn run(opts: &BatchOptions) -> Result<i32, SetupError> {
    let mut subs: Vec<PathBuf> = std::fs::read_dir(&opts.folder)
        .map_err(|e| SetupError(format!("cannot read {}: {e}", opts.folder.display())))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .filter(|p| !name_of(p).starts_with('.'))
        .collect();
    subs.sort();
    if subs.is_empty() {
        return Err(SetupError(format!(
            "{} holds no submission folders",
            opts.folder.display()
        )));
    }
    std::fs::create_dir_all(&opts.out)
        .map_err(|e| SetupError(format!("cannot create {}: {e}", opts.out.display())))?;
    let exe = std::env::current_exe()
        .map_err(|e| SetupError(format!("cannot find the conform binary: {e}")))?;
    let children: Children = Arc::default();
    let all = futures::stream::iter(subs.iter())
        .map(|sub| grade_one(&exe, opts, sub, children.clone()))
        .buffered(opts.jobs.max(1))
        .collect::<Vec<Row>>();
    let rows = tokio::select! {
        rows = all => rows,
        _ = crate::runner::wait_for_signal() => {
            // Each grader kills its submission's processes on SIGTERM.
            for pid in children.lock().map(|c| c.clone()).unwrap_or_default() {
                // SAFETY: a plain kill of a grader process this batch started.
                unsafe { libc::kill(pid as i32, libc::SIGTERM) };
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
            return Err(SetupError("interrupted; the graders were stopped".into()));
        }
    };
    let csv = gradebook_csv(&rows);
    let json = gradebook_json(&rows);
    write(&opts.out.join("gradebook.csv"), &csv)?;
    write(&opts.out.join("gradebook.json"), &json)?;
    for r in &rows {
        println!(
            "{:<32} {:>7}  {}",
            r.submission,
            format!("{}/{}", fmt(r.score), fmt(r.max_score)),
            r.status
        );
    }
    println!(
        "{} submissions graded; gradebook in {}",
        rows.len(),
        opts.out.join("gradebook.csv").display()
    );
    Ok(if rows.iter().all(|r| r.status == "graded") {
        0
    } else {
        1
    })
}

fn name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Pids of the graders running now.
type Children = Arc<Mutex<Vec<u32>>>;

async fn grade_one(exe: &Path, opts: &BatchOptions, sub: &Path, children: Children) -> Row {
    let name = name_of(sub);
    let out = opts.out.join(&name);
    let mut cmd = tokio::process::Command::new(exe);
    cmd.arg("grade")
        .arg("--assignment")
        .arg(&opts.assignment)
        .arg("--submission")
        .arg(sub)
        .arg("--out")
        .arg(&out)
        .args(
            opts.features
                .iter()
                .flat_map(|f| [std::ffi::OsStr::new("--features"), f.as_os_str()]),
        )
        .arg("--quiet")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let result = match cmd.spawn() {
        Ok(child) => {
            let pid = child.id().unwrap_or_default();
            if let Ok(mut c) = children.lock() {
                c.push(pid);
            }
            let r = tokio::time::timeout(opts.limit, child.wait_with_output()).await;
            if r.is_err() {
                // Too slow: the grader kills its submission's processes on SIGTERM.
                // SAFETY: a plain kill of the grader process started above.
                unsafe { libc::kill(pid as i32, libc::SIGTERM) };
            }
            if let Ok(mut c) = children.lock() {
                c.retain(|p| *p != pid);
            }
            r
        }
        Err(e) => Ok(Err(e)),
    };
    let status = match result {
        Err(_) => format!(
            "error: grading did not finish within {}",
            humantime::format_duration(opts.limit)
        ),
        Ok(Err(e)) => format!("error: cannot run the grader: {e}"),
        Ok(Ok(o)) => {
            let _ = std::fs::create_dir_all(&out);
            let mut log = o.stdout.clone();
            log.extend_from_slice(&o.stderr);
            let _ = std::fs::write(out.join("grader.log"), log);
            match o.status.code() {
                Some(0) | Some(1) => "graded".to_string(),
                _ => format!(
                    "error: {}",
                    String::from_utf8_lossy(&o.stderr)
                        .lines()
                        .last()
                        .unwrap_or("the grader failed")
                ),
            }
        }
    };
    let report: Option<Value> = std::fs::read_to_string(out.join("grade.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let mut row = Row {
        submission: name,
        score: 0.0,
        max_score: 0.0,
        status,
        problem: String::new(),
        criteria: Vec::new(),
    };
    if let (Some(r), true) = (report, row.status == "graded") {
        row.score = r["score"].as_f64().unwrap_or(0.0);
        row.max_score = r["max_score"].as_f64().unwrap_or(0.0);
        for g in r["scenarios"].as_array().into_iter().flatten() {
            let c = g["criterion"].as_str().unwrap_or("Other").to_string();
            let (s, m) = (
                g["score"].as_f64().unwrap_or(0.0),
                g["max_score"].as_f64().unwrap_or(0.0),
            );
            match row.criteria.iter_mut().find(|(n, _, _)| *n == c) {
                Some(e) => {
                    e.1 += s;
                    e.2 += m;
                }
                None => row.criteria.push((c, s, m)),
            }
        }
        // Still a grade (the program was tried and earned what it earned),
        // with the reason it earned nothing more.
        if let Some(p) = r["problem"].as_str() {
            row.problem = p.lines().next().unwrap_or(p).to_string();
        }
    }
    row
}

fn fmt(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn gradebook_csv(rows: &[Row]) -> String {
    let mut criteria: Vec<String> = Vec::new();
    for r in rows {
        for (c, _, _) in &r.criteria {
            if !criteria.contains(c) {
                criteria.push(c.clone());
            }
        }
    }
    let mut out = String::from("submission,score,max_score,percent,status,problem");
    for c in &criteria {
        out.push(',');
        out.push_str(&csv_field(c));
    }
    out.push('\n');
    for r in rows {
        let pct = if r.max_score > 0.0 {
            100.0 * r.score / r.max_score
        } else {
            0.0
        };
        out.push_str(&format!(
            "{},{},{},{:.1},{},{}",
            csv_field(&r.submission),
            fmt(r.score),
            fmt(r.max_score),
            pct,
            csv_field(&r.status),
            csv_field(&r.problem)
        ));
        for c in &criteria {
            let v = r
                .criteria
                .iter()
                .find(|(n, _, _)| n == c)
                .map(|(_, s, _)| fmt(*s))
                .unwrap_or_default();
            out.push(',');
            out.push_str(&v);
        }
        out.push('\n');
    }
    out
}

fn gradebook_json(rows: &[Row]) -> String {
    let list: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "submission": r.submission,
                "score": r.score,
                "max_score": r.max_score,
                "status": r.status,
                "problem": r.problem,
                "report": format!("{}/", r.submission),
                "criteria": r.criteria.iter().map(|(c, s, m)| json!({
                    "criterion": c, "score": s, "max_score": m
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&list).unwrap_or_default()
}

fn write(path: &Path, text: &str) -> Result<(), SetupError> {
    std::fs::write(path, text)
        .map_err(|e| SetupError(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_quotes_what_needs_it() {
        assert_eq!(super::csv_field("a,b"), "\"a,b\"");
        assert_eq!(super::csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(super::csv_field("plain"), "plain");
    }
}
