//! Grammar-aware mutations of a text command line: `VERB arg arg<CRLF>`.
//!
//! The line is split into its parts (verb, arguments, the whitespace between
//! them, the terminator); each operation changes one part in a way that
//! parsers get wrong: the verb's case or the verb itself, arguments dropped,
//! repeated or replaced, odd delimiters, LF or CR instead of CRLF, a length
//! right at, just under and just over the protocol's line limit, control and
//! non-ASCII bytes.

use proptest::prelude::*;
use proptest::sample::Index;

use super::bytes::interesting;

/// What the mutations know about a text protocol.
#[derive(Clone, Debug)]
pub struct TextGrammar {
    /// Verbs of the protocol (any case); a replaced verb is drawn from these
    /// or made up.
    pub verbs: Vec<Vec<u8>>,
    /// Argument values worth trying (addresses, numbers, paths…).
    pub args: Vec<Vec<u8>>,
    /// The longest line the protocol promises to take, terminator included
    /// (SMTP: 512, POP3: 255…). Lengths are drawn at and around it.
    pub line_limit: usize,
}

impl TextGrammar {
    /// Lengths worth sending: around the limit and a few far beyond.
    pub fn lengths(&self) -> Vec<usize> {
        let l = self.line_limit.max(4);
        vec![l - 2, l - 1, l, l + 1, l + 2, 2 * l, 4 * l + 3]
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Case {
    Lower,
    Upper,
    /// Alternate by the bits of the mask.
    Mixed(u32),
}

#[derive(Clone, Debug)]
pub enum TextOp {
    VerbCase(Case),
    /// Replace the verb: a verb of the protocol, or made-up bytes.
    Verb(Vec<u8>),
    DropVerb,
    ArgReplace {
        at: Index,
        with: Vec<u8>,
    },
    ArgDrop {
        at: Index,
    },
    ArgRepeat {
        at: Index,
        times: usize,
    },
    ArgAdd(Vec<u8>),
    /// What separates the verb and the arguments.
    Delimiter(Vec<u8>),
    /// How the line ends.
    Terminator(Vec<u8>),
    /// Pad the last field so that the whole line is this long.
    Length {
        len: usize,
        fill: u8,
    },
    /// Put one control or non-ASCII byte inside a field.
    Inject {
        at: Index,
        byte: u8,
    },
}

/// A command line taken apart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineMsg {
    pub verb: Vec<u8>,
    pub args: Vec<Vec<u8>>,
    /// Between fields (a single space in a valid line).
    pub delim: Vec<u8>,
    /// CRLF in a valid line; may be empty.
    pub term: Vec<u8>,
}

impl LineMsg {
    /// Splits `VERB a b\r\n`. Any bytes parse: what is not a verb or an
    /// argument stays inside one.
    pub fn parse(bytes: &[u8]) -> LineMsg {
        let body_end = if bytes.ends_with(b"\r\n") {
            bytes.len() - 2
        } else if bytes.ends_with(b"\n") || bytes.ends_with(b"\r") {
            bytes.len() - 1
        } else {
            bytes.len()
        };
        let (body, term) = bytes.split_at(body_end);
        let mut fields = body.split(|b| *b == b' ');
        let verb = fields.next().unwrap_or_default().to_vec();
        LineMsg {
            verb,
            args: fields.map(<[u8]>::to_vec).collect(),
            delim: b" ".to_vec(),
            term: term.to_vec(),
        }
    }

    pub fn render(&self) -> Vec<u8> {
        let mut out = self.verb.clone();
        for a in &self.args {
            out.extend_from_slice(&self.delim);
            out.extend_from_slice(a);
        }
        out.extend_from_slice(&self.term);
        out
    }

    pub fn apply(&mut self, op: &TextOp, grammar: &TextGrammar) {
        match op {
            TextOp::VerbCase(c) => {
                for (i, b) in self.verb.iter_mut().enumerate() {
                    *b = match c {
                        Case::Lower => b.to_ascii_lowercase(),
                        Case::Upper => b.to_ascii_uppercase(),
                        Case::Mixed(mask) if mask >> (i % 32) & 1 == 1 => b.to_ascii_lowercase(),
                        Case::Mixed(_) => b.to_ascii_uppercase(),
                    }
                }
            }
            TextOp::Verb(v) => self.verb = v.clone(),
            TextOp::DropVerb => {
                self.verb = if self.args.is_empty() {
                    Vec::new()
                } else {
                    self.args.remove(0)
                }
            }
            TextOp::ArgReplace { at, with } => match self.args.len() {
                0 => self.args.push(with.clone()),
                n => self.args[at.index(n)] = with.clone(),
            },
            TextOp::ArgDrop { at } => {
                if !self.args.is_empty() {
                    self.args.remove(at.index(self.args.len()));
                }
            }
            TextOp::ArgRepeat { at, times } => {
                if !self.args.is_empty() {
                    let a = self.args[at.index(self.args.len())].clone();
                    for _ in 0..*times {
                        self.args.push(a.clone());
                    }
                }
            }
            TextOp::ArgAdd(a) => self.args.push(a.clone()),
            TextOp::Delimiter(d) => self.delim = d.clone(),
            TextOp::Terminator(t) => self.term = t.clone(),
            TextOp::Length { len, fill } => {
                let now = self.render().len();
                if *len > now {
                    let pad = vec![*fill; len - now];
                    match self.args.last_mut() {
                        Some(a) => a.extend_from_slice(&pad),
                        None => self.verb.extend_from_slice(&pad),
                    }
                } else {
                    // Cut the last field (or the verb) to fit.
                    let cut = now - len;
                    let field = match self.args.last_mut() {
                        Some(a) => a,
                        None => &mut self.verb,
                    };
                    let keep = field.len().saturating_sub(cut);
                    field.truncate(keep);
                }
                let _ = grammar;
            }
            TextOp::Inject { at, byte } => {
                let n = 1 + self.args.len();
                let i = at.index(n);
                let field = if i == 0 {
                    &mut self.verb
                } else {
                    &mut self.args[i - 1]
                };
                let p = at.index(field.len() + 1);
                field.insert(p, *byte);
            }
        }
    }
}

fn made_up_verb() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(b'A'..=b'Z', 1..9),
        proptest::collection::vec(any::<u8>(), 0..6),
        Just(Vec::new()),
    ]
}

fn arg_value(grammar: &TextGrammar) -> BoxedStrategy<Vec<u8>> {
    let samples = grammar.args.clone();
    let from_grammar = if samples.is_empty() {
        Just(b"x".to_vec()).boxed()
    } else {
        proptest::sample::select(samples).boxed()
    };
    prop_oneof![
        3 => from_grammar,
        1 => proptest::collection::vec(b'a'..=b'z', 0..12),
        1 => proptest::collection::vec(interesting(), 0..12),
        1 => Just(b"<>".to_vec()),
        1 => Just(b"-1".to_vec()),
        1 => Just(b"18446744073709551616".to_vec()),
        1 => Just(b"%s%n".to_vec()),
        1 => Just(b"../../../../etc/passwd".to_vec()),
    ]
    .boxed()
}

/// One text operation, weighted towards what breaks line parsers.
pub fn op(grammar: &TextGrammar) -> BoxedStrategy<TextOp> {
    let verbs = grammar.verbs.clone();
    let known_verb = if verbs.is_empty() {
        made_up_verb().boxed()
    } else {
        proptest::sample::select(verbs).boxed()
    };
    let lengths = proptest::sample::select(grammar.lengths());
    prop_oneof![
        2 => prop_oneof![
            Just(Case::Lower),
            Just(Case::Upper),
            any::<u32>().prop_map(Case::Mixed)
        ]
        .prop_map(TextOp::VerbCase),
        2 => prop_oneof![known_verb, made_up_verb()].prop_map(TextOp::Verb),
        1 => Just(TextOp::DropVerb),
        2 => (any::<Index>(), arg_value(grammar))
            .prop_map(|(at, with)| TextOp::ArgReplace { at, with }),
        1 => any::<Index>().prop_map(|at| TextOp::ArgDrop { at }),
        1 => (any::<Index>(), 1usize..5).prop_map(|(at, times)| TextOp::ArgRepeat { at, times }),
        1 => arg_value(grammar).prop_map(TextOp::ArgAdd),
        2 => prop_oneof![
            Just(b"".to_vec()),
            Just(b"  ".to_vec()),
            Just(b"\t".to_vec()),
            Just(b" \t ".to_vec()),
            Just(b"\x00".to_vec()),
            Just(b"\xc2\xa0".to_vec()),
        ]
        .prop_map(TextOp::Delimiter),
        3 => prop_oneof![
            Just(b"\r\n".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"\r".to_vec()),
            Just(b"".to_vec()),
            Just(b"\r\r\n".to_vec()),
            Just(b"\n\r".to_vec()),
            Just(b" \r\n".to_vec()),
            Just(b"\r\n\r\n".to_vec()),
        ]
        .prop_map(TextOp::Terminator),
        2 => (lengths, prop_oneof![Just(b'a'), Just(b'A'), Just(b' '), Just(0x80u8)])
            .prop_map(|(len, fill)| TextOp::Length { len, fill }),
        2 => (any::<Index>(), interesting()).prop_map(|(at, byte)| TextOp::Inject { at, byte }),
    ]
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Index that picks the first element, as shrinking leaves it.
    fn first() -> Index {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let mut t = any::<Index>().new_tree(&mut runner).unwrap();
        while t.simplify() {}
        t.current()
    }

    fn grammar() -> TextGrammar {
        TextGrammar {
            verbs: vec![b"NOOP".to_vec(), b"HELO".to_vec()],
            args: vec![b"client.example".to_vec()],
            line_limit: 512,
        }
    }

    #[test]
    fn parses_and_renders_a_line_unchanged() {
        for line in [&b"HELO client.example\r\n"[..], b"NOOP\n", b"a  b", b""] {
            assert_eq!(LineMsg::parse(line).render(), line);
        }
    }

    #[test]
    fn each_operation_changes_its_part() {
        let g = grammar();
        let base = LineMsg::parse(b"helo client.example\r\n");
        let run = |op: TextOp| {
            let mut l = base.clone();
            l.apply(&op, &g);
            l.render()
        };
        assert_eq!(
            run(TextOp::VerbCase(Case::Upper)),
            b"HELO client.example\r\n"
        );
        assert_eq!(
            run(TextOp::Verb(b"NOOP".to_vec())),
            b"NOOP client.example\r\n"
        );
        assert_eq!(run(TextOp::DropVerb), b"client.example\r\n");
        assert_eq!(run(TextOp::ArgDrop { at: first() }), b"helo\r\n");
        assert_eq!(
            run(TextOp::ArgRepeat {
                at: first(),
                times: 1
            }),
            b"helo client.example client.example\r\n"
        );
        assert_eq!(
            run(TextOp::Delimiter(b"\t".to_vec())),
            b"helo\tclient.example\r\n"
        );
        assert_eq!(
            run(TextOp::Terminator(b"\n".to_vec())),
            b"helo client.example\n"
        );
        assert_eq!(
            run(TextOp::Terminator(b"\r".to_vec())),
            b"helo client.example\r"
        );
        for len in g.lengths() {
            assert_eq!(
                run(TextOp::Length { len, fill: b'a' }).len(),
                len,
                "length {len}"
            );
        }
        assert_eq!(run(TextOp::Length { len: 7, fill: b'a' }), b"helo \r\n");
        let injected = run(TextOp::Inject {
            at: first(),
            byte: 0x80,
        });
        assert!(injected.contains(&0x80));
    }

    proptest! {
        #[test]
        fn any_operation_applies(op in op(&grammar()), seed in proptest::collection::vec(any::<u8>(), 0..40)) {
            let mut l = LineMsg::parse(&seed);
            l.apply(&op, &grammar());
            let out = l.render();
            prop_assert!(out.len() <= 4 * 512 + 3 + 40 * 8 + 64);
        }
    }
}
