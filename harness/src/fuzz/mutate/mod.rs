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
