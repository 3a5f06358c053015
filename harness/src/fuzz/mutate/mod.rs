//! Strategies: how a valid message becomes a mutated one.
//!
//! - [`bytes`]: byte-level flips, sets, inserts, deletions, duplications and
//!   truncations, for any protocol.
//! - [`text`]: grammar-aware mutations of a text command line (verb and its
//!   case, arguments, delimiters and whitespace, CRLF vs LF vs CR, lengths at
//!   and around the line limit, control and non-ASCII bytes, repeated and
//!   missing fields).
//!
//! A mutated message is a seed plus a list of operations; proptest draws and
//! shrinks both (fewer operations, simpler ones, the first seed).

pub mod bytes;
pub mod text;

use std::sync::Arc;

use proptest::prelude::*;
use proptest::sample::Index;

pub use bytes::ByteOp;
pub use text::{TextGrammar, TextOp};

/// A seed message with the operations applied to it.
#[derive(Clone, Debug)]
pub struct Mutation {
    pub seed: Index,
    pub text: Vec<TextOp>,
    pub bytes: Vec<ByteOp>,
}

impl Mutation {
    pub fn apply(&self, seeds: &[Vec<u8>], grammar: &TextGrammar) -> Vec<u8> {
        let seed = if seeds.is_empty() {
            Vec::new()
        } else {
            seeds[self.seed.index(seeds.len())].clone()
        };
        let mut line = text::LineMsg::parse(&seed);
        for op in &self.text {
            line.apply(op, grammar);
        }
        let mut out = line.render();
        for op in &self.bytes {
            op.apply(&mut out);
        }
        out
    }
}

/// Mutated messages drawn from `seeds` under `grammar`.
pub fn message(seeds: Arc<Vec<Vec<u8>>>, grammar: Arc<TextGrammar>) -> BoxedStrategy<Vec<u8>> {
    let g = grammar.clone();
    (
        any::<Index>(),
        proptest::collection::vec(text::op(&g), 0..4),
        proptest::collection::vec(bytes::op(), 0..3),
    )
        .prop_map(move |(seed, text, bytes)| Mutation { seed, text, bytes }.apply(&seeds, &grammar))
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;

    fn draw(seed: u64, n: usize) -> Vec<Vec<u8>> {
        let grammar = TextGrammar {
            verbs: vec![b"HELO".to_vec(), b"NOOP".to_vec(), b"MAIL".to_vec()],
            args: vec![b"FROM:<a@b.example>".to_vec()],
            line_limit: 512,
        };
        let s = message(
            Arc::new(vec![b"HELO client.example\r\n".to_vec()]),
            Arc::new(grammar),
        );
        let mut runner = crate::fuzz::engine::test_runner(seed);
        (0..n)
            .map(|_| s.new_tree(&mut runner).unwrap().current())
            .collect()
    }

    /// Every kind of mutation the issue names shows up in a few thousand
    /// draws from one seed line.
    #[test]
    fn the_strategies_reach_every_kind_of_mutation() {
        let all = draw(1, 4000);
        let seed = b"HELO client.example\r\n";
        let has = |what: &str, f: &dyn Fn(&[u8]) -> bool| {
            let n = all.iter().filter(|m| f(m)).count();
            assert!(n > 0, "no drawn message is {what}");
            n
        };
        has("a lower-case verb", &|m| m.starts_with(b"helo "));
        has("a mixed-case verb", &|m| {
            m.len() > 4
                && m[..4].eq_ignore_ascii_case(b"HELO")
                && &m[..4] != b"HELO"
                && &m[..4] != b"helo"
        });
        has("another verb", &|m| {
            m.starts_with(b"NOOP ") || m.starts_with(b"MAIL ")
        });
        has("ended by a bare LF", &|m| {
            m.ends_with(b"\n") && !m.ends_with(b"\r\n")
        });
        has("ended by a bare CR", &|m| {
            m.ends_with(b"\r") && !m.contains(&b'\n')
        });
        has("unterminated", &|m| {
            !m.is_empty() && !m.contains(&b'\n') && !m.contains(&b'\r')
        });
        for len in [510, 511, 512, 513, 514, 1024] {
            has(&format!("{len} bytes long"), &|m| m.len() == len);
        }
        has("carrying a byte above 0x7F", &|m| {
            m.iter().any(|b| *b > 0x7f)
        });
        has("carrying a control byte", &|m| {
            m.iter()
                .any(|b| *b < 0x20 && !matches!(b, b'\r' | b'\n' | b'\t'))
        });
        has("with the argument repeated", &|m| {
            m.windows(29).any(|w| w == b"client.example client.example")
        });
        has("with the argument missing", &|m| m == b"HELO\r\n");
        has("with a tab delimiter", &|m| m.starts_with(b"HELO\tclient"));
        has("with a grammar argument", &|m| {
            m.windows(18).any(|w| w == b"FROM:<a@b.example>")
        });
        has("truncated", &|m| {
            !m.is_empty() && m.len() < seed.len() && seed.starts_with(m)
        });
        has("unchanged", &|m| m == seed);
    }

    #[test]
    fn the_same_seed_draws_the_same_messages() {
        assert_eq!(draw(7, 300), draw(7, 300));
        assert_ne!(draw(7, 300), draw(8, 300));
    }
}
