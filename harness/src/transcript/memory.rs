//! The run's memory bound on what the other side sends.
//!
//! Each read has its own size limit (a line, a reply's lines, a body), but
//! those limits are per read: thirty-two scenarios each reading a 16 MiB
//! body from a flooding server would hold half a gigabyte. So every byte a
//! scenario receives (on its connections, its datagrams, the relays of its
//! client libraries, its peers) is also counted against its [`Allowance`]:
//! [`SCENARIO_FREE`] of its own, and beyond that a draw on one pool that
//! all the scenarios running at once share ([`RUN_POOL`]). What a scenario
//! drew goes back to the pool when it ends. A read that finds the pool
//! empty fails with [`WireError::OverBudget`](super::WireError::OverBudget):
//! the suites' scenarios receive a few hundred KiB at most, so only a
//! server that floods meets it.
//!
//! The count is of bytes received, not bytes held: an over-estimate (a
//! reader keeps no more than it read), so the bound holds whatever a reader
//! does with the bytes.

use std::sync::atomic::{AtomicUsize, Ordering};

/// What one scenario may receive without drawing on the pool.
pub const SCENARIO_FREE: usize = 512 * 1024;
/// What the scenarios running at once may receive beyond their own share,
/// together.
pub const RUN_POOL: usize = 16 * 1024 * 1024;

/// Bytes drawn from the pool by the scenarios running now.
static DRAWN: AtomicUsize = AtomicUsize::new(0);

/// How much the scenarios running now have drawn from the pool.
pub fn drawn() -> usize {
    DRAWN.load(Ordering::Relaxed)
}

/// One scenario's account of what it received.
#[derive(Debug, Default)]
pub struct Allowance {
    received: AtomicUsize,
    drawn: AtomicUsize,
}

impl Allowance {
    /// Counts `n` more bytes received. `Err(RUN_POOL)` when they are beyond
    /// the scenario's own share and the pool has no room for them.
    pub fn charge(&self, n: usize) -> Result<(), usize> {
        let before = self.received.fetch_add(n, Ordering::Relaxed);
        let after = before.saturating_add(n);
        if after <= SCENARIO_FREE {
            return Ok(());
        }
        let want = after - before.max(SCENARIO_FREE);
        let mut now = DRAWN.load(Ordering::Relaxed);
        loop {
            if now.saturating_add(want) > RUN_POOL {
                return Err(RUN_POOL);
            }
            match DRAWN.compare_exchange_weak(now, now + want, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(seen) => now = seen,
            }
        }
        self.drawn.fetch_add(want, Ordering::Relaxed);
        Ok(())
    }

    /// Gives what the scenario drew back to the pool and starts its count
    /// again (its connections are closed: what they read is freed).
    pub fn release(&self) {
        let d = self.drawn.swap(0, Ordering::AcqRel);
        DRAWN.fetch_sub(d, Ordering::AcqRel);
        self.received.store(0, Ordering::Relaxed);
    }
}

impl Drop for Allowance {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_draws_on_the_pool_beyond_its_share_and_gives_it_back() {
        let a = Allowance::default();
        assert!(a.charge(SCENARIO_FREE).is_ok());
        let before = drawn();
        assert!(a.charge(1000).is_ok());
        assert!(drawn() >= before + 1000);
        // More than the whole pool: refused.
        assert_eq!(a.charge(RUN_POOL + 1), Err(RUN_POOL));
        a.release();
        // Its count starts again: its own share is free.
        assert!(a.charge(SCENARIO_FREE).is_ok());
    }
}
