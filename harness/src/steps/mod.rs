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
pub mod raw;
pub mod registry;
pub mod smtp;
pub mod smtp_client;
pub mod sockets;
pub mod text;
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
                match tokio::time::timeout(outer, $crate::steps::typed(async { $body })).await {
                    Ok(r) => r,
                    Err(_) => Err($crate::steps::Failure::stalled(limit)),
                }
            }
        };
        $w.settle(result)
    }};
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
