//! Steps of the course's upper-casing servers: the expected reply is the
//! client's own message with the ASCII letters a–z upper-cased, which the
//! harness computes itself from what it sent.

use std::hash::{BuildHasher as _, Hasher as _};

use cucumber::{then, when};

use super::raw::{receive_datagram, receive_exactly, send_datagram, send_raw, Match};
use super::{client_name, StepResult, World};
use crate::step;

use crate::peer::upper;

/// Reads the reply and checks it is the bytes sent, with a-z upper-cased.
#[then(regex = r"^(the client|client \w+) receives the sent bytes upper-cased$")]
async fn receives_sent_upper(w: &mut World, who: String) -> StepResult {
    step!(w, {
        let expected = upper(&w.session(&client_name(&who))?.sent);
        receive_exactly(w, &who, &expected, Match::Exact).await
    })
}

/// The next datagram is the datagram sent, with a-z upper-cased.
#[then(regex = r"^(the client|client \w+) receives the sent datagram upper-cased$")]
async fn receives_datagram_upper(w: &mut World, who: String) -> StepResult {
    step!(w, {
        let expected = upper(&w.udp_client(&client_name(&who))?.1);
        receive_datagram(w, &who, &expected, Match::Exact).await
    })
}

/// For scenarios about something else than the letters (the connection is
/// closed, the next client is served, the reply reaches the sender): the
/// client's own message back, letters in any case, so that a server that gets
/// the case wrong loses only the upper-casing scenarios.
#[then(regex = r"^(the client|client \w+) receives its message back in any letter case$")]
async fn receives_own_message(w: &mut World, who: String) -> StepResult {
    step!(w, {
        let sent = w.session(&client_name(&who))?.sent.clone();
        receive_exactly(w, &who, &sent, Match::IgnoreCase).await
    })
}

/// The next datagram is the one sent, letters in any case (for scenarios
/// about something else).
#[then(regex = r"^(the client|client \w+) receives its datagram back in any letter case$")]
async fn receives_own_datagram(w: &mut World, who: String) -> StepResult {
    step!(w, {
        let sent = w.udp_client(&client_name(&who))?.1.clone();
        receive_datagram(w, &who, &sent, Match::IgnoreCase).await
    })
}

/// Words a random sentence is made of: letters of both cases, digits and
/// punctuation, so that only a real upper-casing gives the expected reply.
const WORDS: &[&str] = &[
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett",
    "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
    "uniform", "victor", "whiskey", "xray", "yankee", "zulu", "socket", "port", "datagram",
    "Mixed", "iPhone", "x42", "3pm", "a-b", "c_d", "e.f", "{g}", "[h]", "`i`", "@j", "k~l",
];

/// A fresh random sentence of 4 to 11 words, e.g. `tango x42 Mixed {g} kilo`,
/// different in every scenario run: a program that answers with a fixed text
/// cannot pass a step that sends one.
pub fn random_sentence() -> Vec<u8> {
    let mut state = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
        | 1;
    let mut next = move || {
        // xorshift64: plenty for picking words.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let n = 4 + (next() % 8) as usize;
    let words: Vec<&str> = (0..n)
        .map(|_| WORDS[(next() % WORDS.len() as u64) as usize])
        .collect();
    format!("{} {}", words.join(" "), next() % 10_000).into_bytes()
}

/// Sends a random lower-case sentence (catches programs that hard-code the
/// answer).
#[when(regex = r"^(the client|client \w+) sends a random sentence$")]
async fn sends_random_sentence(w: &mut World, who: String) -> StepResult {
    step!(w, send_raw(w, &who, random_sentence()).await)
}

/// Sends a random lower-case sentence in one datagram.
#[when(regex = r"^(the client|client \w+) sends a random sentence in a datagram$")]
async fn sends_random_datagram(w: &mut World, who: String) -> StepResult {
    step!(w, send_datagram(w, &who, random_sentence()).await)
}

#[cfg(test)]
mod tests {
    #[test]
    fn random_sentences_differ_and_have_letters_to_change() {
        let a = super::random_sentence();
        let b = super::random_sentence();
        assert_ne!(a, b);
        assert_ne!(super::upper(&a), a);
    }
}
