//! Shrinking a failing case to a minimal session, in two passes:
//!
//! 1. proptest's own shrinking of the drawn value (fewer messages, fewer and
//!    simpler mutations, the first seed);
//! 2. a byte-level pass on what is left: drop whole messages, cut chunks out
//!    of each message (halves, quarters, … single bytes), and replace what
//!    is left by plain letters where the failure does not need the byte.
//!
//! A candidate counts only if it fails the same oracle as the original.

use std::time::Instant;

use proptest::strategy::ValueTree;

use super::{Case, Violation};

/// Tries candidates; `fails` runs one and says whether it fails the same way.
pub struct Shrinker<'a> {
    pub fails: &'a mut dyn FnMut(&Case) -> Option<Violation>,
    pub deadline: Instant,
    pub max_runs: usize,
    pub runs: usize,
    /// The last violation of the best candidate.
    pub violation: Option<Violation>,
}

impl Shrinker<'_> {
    fn out_of_budget(&self) -> bool {
        self.runs >= self.max_runs || Instant::now() >= self.deadline
    }

    fn test(&mut self, c: &Case) -> bool {
        self.runs += 1;
        match (self.fails)(c) {
            Some(v) => {
                self.violation = Some(v);
                true
            }
            None => false,
        }
    }

    /// Pass 1: proptest's value tree.
    pub fn tree(&mut self, tree: &mut dyn ValueTree<Value = Case>) -> Case {
        let mut best = tree.current();
        if !tree.simplify() {
            return best;
        }
        loop {
            if self.out_of_budget() {
                break;
            }
            let c = tree.current();
            if self.test(&c) {
                best = c;
                if !tree.simplify() {
                    break;
                }
            } else if !tree.complicate() {
                break;
            }
        }
        best
    }

    /// Pass 2: bytes.
    pub fn bytes(&mut self, mut best: Case) -> Case {
        // Whole messages, last first (the prefix too: it may not be needed).
        for i in (0..best.messages.len()).rev() {
            if best.messages.len() > 1 && !self.out_of_budget() {
                let mut c = best.clone();
                c.messages.remove(i);
                if self.test(&c) {
                    best = c;
                }
            }
        }
        for i in (0..best.prefix.len()).rev() {
            if !self.out_of_budget() {
                let mut c = best.clone();
                c.prefix.remove(i);
                if self.test(&c) {
                    best = c;
                }
            }
        }
        // Chunks of each message, never down to nothing.
        for m in 0..best.messages.len() {
            let mut chunk = best.messages[m].len() / 2;
            while chunk >= 1 && !self.out_of_budget() {
                let mut start = 0;
                while start < best.messages[m].len() && !self.out_of_budget() {
                    let len = best.messages[m].len();
                    let end = (start + chunk).min(len);
                    if len - (end - start) == 0 {
                        start = end;
                        continue;
                    }
                    let mut c = best.clone();
                    c.messages[m].drain(start..end);
                    if self.test(&c) {
                        best = c;
                    } else {
                        start = end;
                    }
                }
                chunk /= 2;
            }
        }
        // Plain letters where the failure does not depend on the byte.
        for m in 0..best.messages.len() {
            let plain = |b: u8| b.is_ascii_alphanumeric() || b == b' ';
            if best.messages[m].iter().all(|b| *b == b'a') || self.out_of_budget() {
                continue;
            }
            let mut c = best.clone();
            c.messages[m].fill(b'a');
            if self.test(&c) {
                best = c;
                continue;
            }
            if best.messages[m].len() <= 64 {
                for i in 0..best.messages[m].len() {
                    if plain(best.messages[m][i]) || self.out_of_budget() {
                        continue;
                    }
                    let mut c = best.clone();
                    c.messages[m][i] = b'a';
                    if self.test(&c) {
                        best = c;
                    }
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(messages: Vec<Vec<u8>>) -> Case {
        Case {
            protocol: "t".into(),
            channel: "tcp".into(),
            prefix: vec![b"HELO x\r\n".to_vec()],
            messages,
        }
    }

    #[test]
    fn bytes_pass_finds_the_one_byte_that_matters() {
        let mut fails = |c: &Case| {
            c.messages
                .iter()
                .any(|m| m.iter().any(|b| *b > 0x7f))
                .then(|| Violation::new(super::super::Oracle::Answers, "x"))
        };
        let mut s = Shrinker {
            fails: &mut fails,
            deadline: Instant::now() + std::time::Duration::from_secs(5),
            max_runs: 10_000,
            runs: 0,
            violation: None,
        };
        let best = s.bytes(case(vec![
            b"hello".to_vec(),
            b"wor\xffld\r\n".to_vec(),
            b"x".to_vec(),
        ]));
        assert_eq!(best.messages, vec![b"\xff".to_vec()]);
        assert!(best.prefix.is_empty());
    }

    #[test]
    fn bytes_pass_keeps_a_length_and_makes_it_plain() {
        let mut fails = |c: &Case| {
            (c.messages[0].len() > 100).then(|| Violation::new(super::super::Oracle::Answers, "x"))
        };
        let mut s = Shrinker {
            fails: &mut fails,
            deadline: Instant::now() + std::time::Duration::from_secs(5),
            max_runs: 10_000,
            runs: 0,
            violation: None,
        };
        let mut long = b"\r\n\x00".repeat(90);
        long.extend_from_slice(b"tail");
        let best = s.bytes(case(vec![long]));
        assert_eq!(best.messages, vec![vec![b'a'; 101]]);
    }
}
