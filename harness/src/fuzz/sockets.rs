//! Fuzzing the course's upper-casing servers (`TCPServer.py`,
//! `UDPServer.py`).
//!
//! Oracles, as the course states the servers:
//! - answers: one reply per message: over TCP the reply and then the close of
//!   the connection; over UDP exactly one datagram back to the sender;
//! - well-formed: the reply is the message with a–z upper-cased and every
//!   other byte unchanged (a message longer than the course's receive buffer,
//!   1024 bytes over TCP and 2048 over UDP, may come back cut to it);
//! - stays alive: a fresh client sending `ping` gets `PING`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::link::{Link, ReadError, MAX_REPLY};
use super::mutate::{self, TextGrammar};
use super::{Case, Channel, FuzzProtocol, Limits, Next, Oracle, Step, Transport, Violation};
use crate::notation::escape_short;
use crate::target::profile::resolve;
use crate::target::Profile;

/// `connectionSocket.recv(1024)`.
pub const TCP_BUFFER: usize = 1024;
/// `serverSocket.recvfrom(2048)`.
pub const UDP_BUFFER: usize = 2048;

pub struct Sockets;

/// Python's `bytes.upper()`.
pub fn upper(b: &[u8]) -> Vec<u8> {
    b.to_ascii_uppercase()
}

fn grammar(limit: usize) -> TextGrammar {
    TextGrammar {
        verbs: vec![b"hello".to_vec(), b"HELLO".to_vec(), b"ping".to_vec()],
        args: vec![
            b"world".to_vec(),
            b"caf\xc3\xa9".to_vec(),
            b"`az{@AZ[".to_vec(),
        ],
        line_limit: limit,
    }
}

fn buffer(channel: &str) -> usize {
    if channel == "udp" {
        UDP_BUFFER
    } else {
        TCP_BUFFER
    }
}

/// Whether `reply` is what the course server sends for `msg`: the message
/// upper-cased, or for a message beyond the receive buffer its first part,
/// at least a buffer long. `reset`: the connection was reset, which may cost
/// the tail of the reply for a message the server did not read in full.
fn judge(msg: &[u8], reply: &[u8], limit: usize, reset: bool) -> Result<(), Violation> {
    let want = upper(msg);
    if reply == want {
        return Ok(());
    }
    let beyond = msg.len() > limit;
    if beyond && want.starts_with(reply) && (reply.len() >= limit || reset) {
        return Ok(());
    }
    let why = match want.iter().zip(reply).position(|(a, b)| a != b) {
        Some(i) => format!(
            "the reply differs from the message upper-cased at byte {i}: expected 0x{:02x}, got 0x{:02x}",
            want[i], reply[i]
        ),
        None if reply.len() < want.len() => format!(
            "the reply is {} bytes, the message {} bytes",
            reply.len(),
            want.len()
        ),
        None => format!(
            "the reply has {} bytes more than the message",
            reply.len() - want.len()
        ),
    };
    let expected = if beyond {
        format!(
            "\"{}\" or its first {limit}+ bytes ({} bytes sent, beyond the {limit}-byte receive buffer)",
            escape_short(&want, 80),
            msg.len()
        )
    } else {
        format!("\"{}\" ({} bytes)", escape_short(&want, 200), want.len())
    };
    Err(Violation::new(Oracle::WellFormed, why)
        .expected(expected)
        .got(format!(
            "\"{}\" ({} bytes)",
            escape_short(reply, 200),
            reply.len()
        )))
}

impl FuzzProtocol for Sockets {
    fn name(&self) -> &'static str {
        "sockets"
    }

    fn channels(&self, profile: &Profile) -> Result<Vec<Channel>, String> {
        let mut out = Vec::new();
        for (key, transport) in [("tcp", Transport::Tcp), ("udp", Transport::Udp)] {
            if let Some(v) = profile.get(&format!("sockets.{key}")) {
                out.push(Channel {
                    name: key.into(),
                    transport,
                    addr: resolve(v).map_err(|e| format!("sockets.{key} = \"{v}\": {e}"))?,
                });
            }
        }
        if out.is_empty() {
            return Err("the profile's [sockets] section has neither tcp nor udp".into());
        }
        Ok(out)
    }

    fn builtin_seeds(&self) -> Vec<Vec<u8>> {
        // The sockets suite's own messages.
        vec![
            b"hello world".to_vec(),
            b"`az{ @AZ[ 0123456789 !?.,;:-_~ Mixed\tTabs\\slash".to_vec(),
            b"caf\xc3\xa9 na\xc3\xafve \xff\x80\xe9".to_vec(),
            b"line one\r\n".to_vec(),
            b"the quick brown fox jumps over the lazy dog".to_vec(),
        ]
    }

    fn strategy(&self, channels: &[Channel], seeds: Arc<Vec<Vec<u8>>>) -> BoxedStrategy<Case> {
        let mut per_channel = Vec::new();
        for c in channels {
            let name = c.name.clone();
            let msg = mutate::message(seeds.clone(), Arc::new(grammar(buffer(&name))));
            let s = match c.transport {
                // One message per connection: the server closes after replying.
                // An empty TCP message is no message at all.
                Transport::Tcp => msg
                    .prop_map(|m| if m.is_empty() { b"a".to_vec() } else { m })
                    .prop_map(|m| vec![m])
                    .boxed(),
                Transport::Udp => proptest::collection::vec(msg, 1..8).boxed(),
            };
            per_channel.push(
                s.prop_map(move |messages| Case {
                    protocol: "sockets".into(),
                    channel: name.clone(),
                    prefix: vec![],
                    messages,
                })
                .boxed(),
            );
        }
        proptest::strategy::Union::new(per_channel).boxed()
    }

    fn oracles(&self) -> Vec<(Oracle, String)> {
        vec![
            (
                Oracle::Answers,
                "one reply per message (TCP: the reply, then the server closes; UDP: one datagram back)"
                    .into(),
            ),
            (
                Oracle::WellFormed,
                "the reply is the message with a-z upper-cased, every other byte unchanged".into(),
            ),
            (
                Oracle::StaysAlive,
                "a fresh client sending \"ping\" still gets \"PING\"".into(),
            ),
        ]
    }

    fn exchange(
        &self,
        link: &mut Link,
        msg: &[u8],
        step: Step,
        limits: &Limits,
    ) -> Result<Next, Violation> {
        exchange_once(link, msg, step, limits).map(|()| Next::Continue)
    }

    fn probe(&self, channels: &[Channel], limits: &Limits) -> Result<(), String> {
        for c in channels {
            let mut link = self.open(c, limits)?;
            let step = Step {
                prefix: true,
                last: true,
            };
            let quick = Limits {
                drain: Duration::ZERO,
                ..*limits
            };
            exchange_once(&mut link, b"ping", step, &quick)
                .map_err(|v| format!("{} probe \"ping\": {}", c.name, v.message))?;
        }
        Ok(())
    }

    fn scenario(&self, case: &Case, violation: &Violation) -> String {
        let q = super::case::quote;
        let mut s = String::new();
        if case.channel == "udp" {
            s.push_str("    Given a UDP client socket for \"${sockets.udp}\"\n");
            for m in &case.messages {
                s.push_str(&format!(
                    "    When the client sends the datagram \"{}\"\n",
                    q(m)
                ));
                s.push_str("    Then the client receives the sent datagram upper-cased\n");
            }
            s.push_str("    And no further datagram arrives at the client within 200 ms\n");
        } else {
            s.push_str("    Given a TCP connection to \"${sockets.tcp}\"\n");
            for m in &case.messages {
                s.push_str(&format!(
                    "    When the client sends the bytes \"{}\"\n",
                    q(m)
                ));
                s.push_str("    Then the client receives the sent bytes upper-cased\n");
                s.push_str("    And the server closes the client's connection\n");
            }
        }
        if violation.oracle == Oracle::StaysAlive {
            if case.channel == "udp" {
                s.push_str("    Given a new UDP client socket for \"${sockets.udp}\"\n");
                s.push_str("    When the client sends the datagram \"ping\"\n");
                s.push_str("    Then the client receives the datagram \"PING\"\n");
            } else {
                s.push_str("    Given a new TCP connection to \"${sockets.tcp}\"\n");
                s.push_str("    When the client sends the bytes \"ping\"\n");
                s.push_str("    Then the client receives exactly \"PING\"\n");
            }
        }
        let tags = if case.channel == "udp" {
            "@sockets @udp @rfc768"
        } else {
            "@sockets @tcp @rfc9293"
        };
        format!("{tags}\nFeature: {{title}}\n\n  @MUST\n  Scenario: {{name}}\n{s}")
    }
}

/// Sends one message and judges the reply.
fn exchange_once(
    link: &mut Link,
    msg: &[u8],
    step: Step,
    limits: &Limits,
) -> Result<(), Violation> {
    let deadline = Instant::now() + limits.reply_timeout;
    match link {
        Link::Tcp(l) => {
            l.send(msg).map_err(|e| {
                Violation::new(
                    Oracle::Answers,
                    format!("the server stopped taking data: {e}"),
                )
            })?;
            match l.read_to_close(MAX_REPLY, deadline) {
                Ok(reply) if reply.is_empty() && !(msg.len() > TCP_BUFFER && l.reset) => {
                    Err(Violation::new(
                        Oracle::Answers,
                        "the server closed the connection without replying",
                    )
                    .expected(format!(
                        "\"{}\", then the close",
                        escape_short(&upper(msg), 200)
                    ))
                    .got("the connection closed, no reply"))
                }
                Ok(reply) => judge(msg, &reply, TCP_BUFFER, l.reset),
                Err(ReadError::Timeout { partial }) if !partial.is_empty() => {
                    judge(msg, &partial, TCP_BUFFER, false)?;
                    Err(Violation::new(
                        Oracle::Answers,
                        "the server did not close the connection after its reply",
                    )
                    .expected("the reply, then the connection closed (one message per connection)")
                    .got(format!(
                        "the connection still open after {}",
                        humantime::format_duration(limits.reply_timeout)
                    )))
                }
                Err(e) => Err(
                    Violation::new(Oracle::Answers, e.describe(limits.reply_timeout))
                        .expected(format!("\"{}\"", escape_short(&upper(msg), 200))),
                ),
            }
        }
        Link::Udp(l) => {
            l.send(msg).map_err(|e| {
                Violation::new(Oracle::Answers, format!("cannot send the datagram: {e}"))
            })?;
            let reply = l.recv(deadline).map_err(|e| {
                Violation::new(
                    Oracle::Answers,
                    match e {
                        ReadError::Closed { .. } => {
                            "no reply: ICMP port unreachable (nothing listens any more)".into()
                        }
                        e => e.describe(limits.reply_timeout),
                    },
                )
                .expected(format!(
                    "the datagram \"{}\"",
                    escape_short(&upper(msg), 200)
                ))
            })?;
            judge(msg, &reply, UDP_BUFFER, false)?;
            if step.last {
                if let Ok(extra) = l.recv(Instant::now() + limits.drain) {
                    return Err(Violation::new(
                        Oracle::Answers,
                        "a second datagram came for one datagram sent",
                    )
                    .expected("exactly one reply datagram per datagram")
                    .got(format!(
                        "another datagram \"{}\"",
                        escape_short(&extra, 200)
                    )));
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judges_upper_casing_and_the_receive_buffer() {
        assert!(judge(b"ab\x80", b"AB\x80", 1024, false).is_ok());
        assert!(judge(b"ab", b"Ab", 1024, false).is_err());
        assert!(judge(b"ab", b"AB\n", 1024, false).is_err());
        let long = vec![b'a'; 1500];
        assert!(judge(&long, &vec![b'A'; 1024], 1024, false).is_ok());
        assert!(judge(&long, &vec![b'A'; 1000], 1024, false).is_err());
        assert!(judge(&long, &vec![b'A'; 1000], 1024, true).is_ok());
        assert!(judge(&vec![b'a'; 1024], &vec![b'A'; 1000], 1024, false).is_err());
    }
}
