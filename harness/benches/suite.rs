//! Benchmark: the whole bundled suite, every protocol with a bundled server,
//! run in-process several times. Prints wall time and scenarios per second
//! (a benchmark that reports figures; nothing here asserts on time).
//!
//!     cargo bench -p conform --bench suite [-- ITERATIONS]

use std::time::{Duration, Instant};

use conform::runner::{run, RunOptions};

fn main() {
    let iterations: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let features = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../features"));
    println!(
        "{:<14} {:>5} {:>10} {:>10} {:>12}",
        "concurrency", "run", "scenarios", "wall (s)", "scenarios/s"
    );
    for concurrency in [1, 32] {
        let mut walls = Vec::new();
        for i in 0..iterations {
            let opts = RunOptions {
                concurrency,
                step_timeout: Duration::from_secs(5),
                ..RunOptions::new(features.clone())
            };
            let start = Instant::now();
            let report = rt.block_on(run(&opts)).expect("the bundled suite runs");
            let wall = start.elapsed().as_secs_f64();
            let n = report.scenarios.len();
            assert_eq!(report.exit_code(), 0, "the bundled suite passes");
            println!(
                "{concurrency:<14} {:>5} {n:>10} {wall:>10.3} {:>12.1}",
                i + 1,
                n as f64 / wall
            );
            walls.push((wall, n));
        }
        walls.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (median, n) = walls[walls.len() / 2];
        println!("concurrency {concurrency}: median {median:.3} s for {n} scenarios = {:.1} scenarios/s\n", n as f64 / median);
    }
}
