//! Byte-level mutations: they know nothing of the protocol, which is the
//! point: they reach what no grammar thought of.

use proptest::prelude::*;
use proptest::sample::Index;

#[derive(Clone, Debug)]
pub enum ByteOp {
    /// Flip one bit of one byte.
    Flip { at: Index, bit: u8 },
    /// Overwrite one byte.
    Set { at: Index, byte: u8 },
    /// Insert bytes before a position.
    Insert { at: Index, bytes: Vec<u8> },
    /// Remove up to `len` bytes from a position.
    Delete { at: Index, len: usize },
    /// Repeat a run of bytes in place.
    Duplicate { at: Index, len: usize, times: usize },
    /// Cut the message at a position.
    Truncate { at: Index },
}

/// Bytes that break parsers more often than random ones do.
pub fn interesting() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => any::<u8>(),
        1 => Just(0u8),
        1 => Just(b'\r'),
        1 => Just(b'\n'),
        1 => Just(b' '),
        1 => Just(b'\t'),
        1 => Just(0x7f),
        1 => Just(0x80),
        1 => Just(0xff),
        1 => Just(b'%'),
        1 => Just(b'"'),
    ]
}

pub fn op() -> impl Strategy<Value = ByteOp> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(at, bit)| ByteOp::Flip { at, bit }),
        (any::<Index>(), interesting()).prop_map(|(at, byte)| ByteOp::Set { at, byte }),
        (
            any::<Index>(),
            proptest::collection::vec(interesting(), 1..8)
        )
            .prop_map(|(at, bytes)| ByteOp::Insert { at, bytes }),
        (any::<Index>(), 1usize..16).prop_map(|(at, len)| ByteOp::Delete { at, len }),
        (any::<Index>(), 1usize..8, 1usize..64).prop_map(|(at, len, times)| ByteOp::Duplicate {
            at,
            len,
            times
        }),
        any::<Index>().prop_map(|at| ByteOp::Truncate { at }),
    ]
}

/// A position in `0..=len` (inserting at the end is allowed).
fn pos(at: &Index, len: usize) -> usize {
    at.index(len + 1)
}

impl ByteOp {
    pub fn apply(&self, msg: &mut Vec<u8>) {
        let len = msg.len();
        match self {
            ByteOp::Flip { at, bit } if len > 0 => msg[at.index(len)] ^= 1 << (bit % 8),
            ByteOp::Set { at, byte } if len > 0 => msg[at.index(len)] = *byte,
            ByteOp::Insert { at, bytes } => {
                let p = pos(at, len);
                msg.splice(p..p, bytes.iter().copied());
            }
            ByteOp::Delete { at, len: n } if len > 0 => {
                let p = at.index(len);
                let end = (p + n).min(len);
                msg.drain(p..end);
            }
            ByteOp::Duplicate { at, len: n, times } if len > 0 => {
                let p = at.index(len);
                let end = (p + n).min(len);
                let run = msg[p..end].to_vec();
                let copies: Vec<u8> = run
                    .iter()
                    .copied()
                    .cycle()
                    .take(run.len() * times)
                    .collect();
                msg.splice(end..end, copies);
            }
            ByteOp::Truncate { at } => msg.truncate(pos(at, len)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    proptest! {
        #[test]
        fn any_op_applies_to_any_message(op in op(), mut msg in proptest::collection::vec(any::<u8>(), 0..64)) {
            let before = msg.len();
            op.apply(&mut msg);
            // Bounded growth: one op adds at most 8 * 64 bytes.
            prop_assert!(msg.len() <= before + 8 * 64);
        }
    }

    #[test]
    fn ops_do_what_they_say() {
        let mut runner = TestRunner::deterministic();
        let at = any::<Index>().new_tree(&mut runner).unwrap().current();
        let mut m = b"abc".to_vec();
        ByteOp::Insert {
            at,
            bytes: vec![0x80],
        }
        .apply(&mut m);
        assert_eq!(m.len(), 4);
        assert!(m.contains(&0x80));
        let mut m = b"abc".to_vec();
        ByteOp::Truncate { at }.apply(&mut m);
        assert!(m.len() <= 3);
        let mut empty = vec![];
        ByteOp::Flip { at, bit: 3 }.apply(&mut empty);
        assert!(empty.is_empty());
    }
}
