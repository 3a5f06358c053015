//! Gherkin step definitions. Generic steps for raw TCP/UDP and for line
//! protocols live here once; each protocol adds its own module.
//!
//! Every step body runs through [`step!`], which bounds it by the step timeout
//! and records its failure in the world for the report.

pub mod dns;
mod failure;
pub mod ftp;
pub mod ftp_client;
pub mod fuzz;
pub mod http;
pub mod http_client;
pub mod imap;
pub mod limits;
pub mod line;
pub mod peer;
pub mod pop3;
pub mod proxy;
pub mod raw;
pub mod registry;
pub mod resolver;
pub mod smtp;
pub mod smtp_client;
pub mod sockets;
pub mod text;
pub mod tls;
mod world;

use std::cell::Cell;

pub use failure::{Failure, FailureKind, StepResult};
pub use world::{client_name, connect_within, describe_client, lease, RunContext, Session, World};

/// Runs a step body (an expression of type [`StepResult`] that may use `?`)
/// under the step timeout, and records a failure in the world.
#[macro_export]
macro_rules! step {
    ($w:ident, $body:expr) => {{
        let limit = $w.step_timeout;
        let preempted = $w.preempted.take();
        // Individual waits are bounded by the same timeout and report what they
        // waited for; this outer bound only catches a step that makes progress
        // too slowly to ever finish.
        let outer = limit + std::time::Duration::from_millis(250);
        let result = match preempted {
            Some(f) => Err(f),
            None => {
                let paused = $w.paused.clone();
                // The run's stop (--run-timeout, an interrupt) ends the step.
                let stop = $w.ctx.stop.clone();
                let body = $crate::steps::typed(async { $body });
                tokio::select! {
                    r = $crate::steps::bounded(outer, &paused, body) => match r {
                        Some(r) => r,
                        None => Err($crate::steps::Failure::stalled(limit)),
                    },
                    why = stop.wait() => Err($crate::steps::Failure::harness(format!(
                        "cut short: {why}"
                    ))),
                }
            }
        };
        // Under `--perturb coalesce` the step's writes go out as it ends.
        let result = match result {
            Ok(()) => $w.flush_writes().await,
            Err(f) => Err(f),
        };
        $w.settle(result)
    }};
}

/// Runs `f` within `limit`, extended by the pauses the client itself made
/// meanwhile (`--perturb split` and `slow-read` add them to `paused`):
/// they are the harness's time, not the server's. `None` if it did not end.
pub async fn bounded<F: std::future::Future<Output = StepResult>>(
    limit: std::time::Duration,
    paused: &std::sync::atomic::AtomicU64,
    f: F,
) -> Option<StepResult> {
    use std::sync::atomic::Ordering;
    let start = paused.load(Ordering::Relaxed);
    let mut granted = 0;
    let mut deadline = tokio::time::Instant::now() + limit;
    tokio::pin!(f);
    loop {
        tokio::select! {
            r = &mut f => return Some(r),
            _ = tokio::time::sleep_until(deadline) => {
                let total = paused.load(Ordering::Relaxed).saturating_sub(start);
                if total <= granted {
                    return None;
                }
                deadline += std::time::Duration::from_micros(total - granted);
                granted = total;
            }
        }
    }
}

pub fn typed<F: std::future::Future<Output = StepResult>>(f: F) -> F {
    f
}

thread_local! {
    static EXPECTED_PANIC: Cell<bool> = const { Cell::new(false) };
}

/// cucumber turns a step's `Err` into a panic. Such panics are expected and
/// reported by conform itself; the panic hook stays quiet for them.
pub(crate) fn expect_failure_panic() {
    EXPECTED_PANIC.with(|c| c.set(true));
}

/// Installs a panic hook that silences step failures and keeps real panics
/// (bugs) visible.
pub fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(install_quiet_hook);
}

fn install_quiet_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if EXPECTED_PANIC.with(|c| c.replace(false)) {
            return;
        }
        default(info);
    }));
}
