//! Steps of the course's upper-casing servers: the expected reply is the
//! client's own message with the ASCII letters a–z upper-cased, which the
//! harness computes itself from what it sent.

use cucumber::then;

use super::raw::{receive_datagram, receive_exactly};
use super::{client_name, StepResult, World};
use crate::step;

/// Python's `bytes.upper()`: only a–z change.
pub fn upper(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .map(|b| if b.is_ascii_lowercase() { b - 32 } else { *b })
        .collect()
}

#[then(regex = r"^(the client|client \w+) receives the sent bytes upper-cased$")]
async fn receives_sent_upper(w: &mut World, who: String) -> StepResult {
    step!(w, {
        let expected = upper(&w.session(&client_name(&who))?.sent);
        receive_exactly(w, &who, &expected).await
    })
}

#[then(regex = r"^(the client|client \w+) receives the sent datagram upper-cased$")]
async fn receives_datagram_upper(w: &mut World, who: String) -> StepResult {
    step!(w, {
        let expected = upper(&w.udp_client(&client_name(&who))?.1);
        receive_datagram(w, &who, &expected).await
    })
}
