//! Generic raw steps: TCP connections that carry bytes as they are, and UDP
//! client sockets. The sockets suite is built from these; other suites use
//! them for byte-exact framing.

use std::sync::Arc;
use std::time::Duration;

use cucumber::{given, then, when};

use super::text::{payload, repeat_to};
use super::{client_name, describe_client, Failure, Session, StepResult, World};
use crate::notation::escape_short;
use crate::step;
use crate::target::profile::resolve;
use crate::wire::{LineReader, ReplyReader, Segments, UdpClient};

/// Most bytes a raw read keeps while waiting for the connection to close.
const MAX_RAW: usize = 1024 * 1024;

pub(crate) fn address(w: &World, raw: &str) -> Result<std::net::SocketAddr, Failure> {
    let text = w.expand(raw)?;
    resolve(&text).map_err(|e| Failure::harness(format!("\"{text}\": {e}")))
}

/// `Given the profile sets ftp.confined to true` / `… sets smtp.unknown_recipient`:
/// a scenario that depends on what only the profile can declare about the
/// target (a configuration, not a protocol rule) is skipped without it.
#[given(regex = r"^the profile sets ([a-z0-9_]+\.[a-z0-9_]+)(?: to (\S+))?$")]
async fn profile_sets(w: &mut World, key: String, value: String) -> StepResult {
    step!(w, {
        let got = w.profile().get(&key).map(str::to_string);
        match got {
            Some(v) if value.is_empty() || v.eq_ignore_ascii_case(&value) => Ok(()),
            Some(v) => Err(Failure::skip(format!(
                "the target profile sets {key} = \"{v}\", not {value}"
            ))),
            None if value.is_empty() => Err(Failure::skip(format!(
                "the target profile does not set {key} (see README, target profile)"
            ))),
            None => Err(Failure::skip(format!(
                "the target profile does not set {key} = {value} (see README, target profile)"
            ))),
        }
    })
}

/// Connects `client` to `addr` (profile values expanded) and makes the
/// connection its session, replacing any it had, with replies read by
/// `reader`. The transcript names it `kind`, or `kind client` for a named
/// client.
pub(crate) async fn open_session(
    w: &mut World,
    client: &str,
    kind: &str,
    addr: &str,
    reader: Arc<dyn ReplyReader>,
) -> StepResult {
    let raw = addr;
    let addr = address(w, raw)?;
    let label = if client.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} {client}")
    };
    // The session it replaces ends first: a client has one connection.
    w.tcp.remove(client);
    let section = crate::target::budget::section_of(w.profile(), raw, addr);
    let conn = w.connect(section, addr, &label).await?;
    w.tcp.insert(
        client.to_string(),
        Session {
            conn,
            reader,
            last_reply: None,
            sent: Vec::new(),
            section,
            replies: 0,
        },
    );
    // A section on an implicit-TLS port: TLS before the first byte.
    super::tls::implicit(w, client).await
}

/// Opens a raw TCP connection for `client`, replacing any it had.
pub(crate) async fn connect_raw(w: &mut World, client: &str, addr: &str) -> StepResult {
    let reader = Arc::new(LineReader {
        max_line: 64 * 1024,
    });
    open_session(w, client, "tcp", addr, reader).await
}

/// Opens a TCP connection to the address (the client's).
#[given(regex = r#"^(?:a|another|a new) TCP connection to "(.*)"$"#)]
async fn tcp_connection(w: &mut World, addr: String) -> StepResult {
    step!(w, connect_raw(w, "", &addr).await)
}

/// Opens a TCP connection for a named further client.
#[given(regex = r#"^TCP client (\w+) (?:is )?connected to "(.*)"$"#)]
async fn tcp_client_connected(w: &mut World, client: String, addr: String) -> StepResult {
    step!(w, connect_raw(w, &client, &addr).await)
}

pub(crate) async fn send_raw(w: &mut World, who: &str, bytes: Vec<u8>) -> StepResult {
    let s = w.session(&client_name(who))?;
    s.conn.send(&bytes).await?;
    s.sent = bytes;
    Ok(())
}

/// Sends the bytes exactly, nothing added.
#[when(regex = r#"^(the client|client \w+) sends the bytes "(.*)"$"#)]
async fn sends_bytes(w: &mut World, who: String, text: String) -> StepResult {
    step!(w, {
        let bytes = payload(w, &text)?;
        send_raw(w, &who, bytes).await
    })
}

/// `… sends the bytes "…" byte by byte` / `… in one write`: the bytes cut
/// on the wire as said, whatever `--perturb` says.
/// Example: `When the client sends the bytes "hello world" byte by byte`
#[when(regex = r#"^(the client|client \w+) sends the bytes "(.*)" (byte by byte|in one write)$"#)]
async fn sends_bytes_cut(w: &mut World, who: String, text: String, how: String) -> StepResult {
    step!(w, {
        let bytes = payload(w, &text)?;
        let how = if how == "byte by byte" {
            Segments::Bytes
        } else {
            Segments::OneWrite
        };
        let s = w.session(&client_name(&who))?;
        s.conn.send_as(&bytes, how).await?;
        s.sent = bytes;
        Ok(())
    })
}

/// Sends N bytes made by repeating the pattern.
#[when(regex = r#"^(the client|client \w+) sends (\d+) bytes of "(.*)"$"#)]
async fn sends_n_bytes(w: &mut World, who: String, n: usize, pattern: String) -> StepResult {
    step!(w, {
        let bytes = repeat_to(&payload(w, &pattern)?, n)?;
        send_raw(w, &who, bytes).await
    })
}

/// Closes the sending half of the TCP connection (half-close).
#[when(regex = r#"^(the client|client \w+) closes its sending side$"#)]
async fn closes_sending_side(w: &mut World, who: String) -> StepResult {
    step!(
        w,
        Ok(w.session(&client_name(who.as_str()))?
            .conn
            .shutdown_write()
            .await?)
    )
}

/// How received bytes are compared with the expected ones.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Match {
    Exact,
    /// ASCII letters match in either case: for scenarios about something
    /// else than the letters (a reply came, the connection closed…), so a
    /// server that gets the case wrong loses only the scenarios about case.
    IgnoreCase,
}

impl Match {
    fn same(self, expected: &[u8], got: &[u8]) -> bool {
        match self {
            Match::Exact => expected == got,
            Match::IgnoreCase => expected.eq_ignore_ascii_case(got),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Match::Exact => "",
            Match::IgnoreCase => " (in any letter case)",
        }
    }
}

/// Reads `expected.len()` bytes (or until close) and compares them. Bytes
/// that came beyond them are a failure too.
pub(crate) async fn receive_exactly(
    w: &mut World,
    who: &str,
    expected: &[u8],
    how: Match,
) -> StepResult {
    let client = client_name(who);
    let s = w.session(&client)?;
    let what = format!("the {}-byte reply", expected.len());
    let got = match s.conn.read_up_to(expected.len(), &what).await {
        Ok(got) => got,
        Err(e) => {
            return Err(Failure::from(e).expected(format!("\"{}\"", escape_short(expected, 300))));
        }
    };
    if !how.same(expected, &got) {
        let why = if got.is_empty() && s.conn.at_eof() {
            "the server closed the connection without replying".to_string()
        } else if got.len() < expected.len() {
            format!(
                "the reply is {} bytes, {} fewer than expected, and differs",
                got.len(),
                expected.len() - got.len()
            )
        } else {
            first_difference(expected, &got)
        };
        return Err(Failure::conformance(format!(
            "{} did not receive the expected bytes: {why}",
            describe_client(&client)
        ))
        .expected(format!(
            "\"{}\" ({}){}",
            escape_short(expected, 300),
            count(expected.len()),
            how.describe()
        ))
        .got(format!(
            "\"{}\" ({})",
            escape_short(&got, 300),
            count(got.len())
        )));
    }
    let extra = s.conn.buffered().to_vec();
    if !extra.is_empty() {
        return Err(Failure::conformance(format!(
            "{} received {} bytes more than expected right after the reply",
            describe_client(&client),
            extra.len()
        ))
        .expected(format!(
            "\"{}\" and nothing more",
            escape_short(expected, 300)
        ))
        .got(format!(
            "\"{}\" followed by \"{}\"",
            escape_short(&got, 300),
            escape_short(&extra, 100)
        )));
    }
    Ok(())
}

/// `1 byte`, `11 bytes`.
fn count(n: usize) -> String {
    if n == 1 {
        "1 byte".into()
    } else {
        format!("{n} bytes")
    }
}

fn first_difference(expected: &[u8], got: &[u8]) -> String {
    match expected.iter().zip(got).position(|(a, b)| a != b) {
        Some(i) => format!(
            "first difference at byte {i}: expected 0x{:02x} ({}), got 0x{:02x} ({})",
            expected[i],
            escape_short(&[expected[i]], 1),
            got[i],
            escape_short(&[got[i]], 1)
        ),
        None => format!("{} bytes expected, {} came", expected.len(), got.len()),
    }
}

/// Receives exactly these bytes and nothing more.
#[then(regex = r#"^(the client|client \w+) receives exactly "(.*)"$"#)]
async fn receives_exactly(w: &mut World, who: String, text: String) -> StepResult {
    step!(w, {
        let expected = payload(w, &text)?;
        receive_exactly(w, &who, &expected, Match::Exact).await
    })
}

/// The server closes the connection (EOF with no further data), optionally
/// within N ms.
#[then(
    regex = r#"^the server closes (the client's|client \w+'s) connection(?: within (\d+) ms)?$"#
)]
async fn server_closes(w: &mut World, whose: String, within: String) -> StepResult {
    step!(w, {
        let client = client_name(whose.trim_end_matches("'s"));
        let s = w.session(&client)?;
        // "within N ms": promptly, so that an idle-timeout close later on
        // does not pass for a close after the response.
        let old = s.conn.timeout;
        if let Ok(ms) = within.parse::<u64>() {
            s.conn.timeout = old.min(Duration::from_millis(ms));
        }
        let timeout = s.conn.timeout;
        let got = s.conn.wait_for_close(MAX_RAW).await;
        s.conn.timeout = old;
        match got {
            Ok(extra) if extra.is_empty() => Ok(()),
            Ok(extra) => Err(Failure::conformance(
                "the server sent more data before closing the connection",
            )
            .expected("the connection closed with no further data")
            .got(format!("\"{}\" then close", escape_short(&extra, 200)))),
            Err(crate::wire::WireError::Timeout { partial, .. }) => {
                Err(Failure::conformance(format!(
                    "the server did not close the connection within {}",
                    humantime::format_duration(timeout)
                ))
                .expected("end of file (the server closes the connection socket after replying)")
                .got(if partial.is_empty() {
                    "the connection still open, nothing more received".to_string()
                } else {
                    format!(
                        "the connection still open after \"{}\"",
                        escape_short(&partial, 200)
                    )
                }))
            }
            Err(e) => Err(e.into()),
        }
    })
}

/// Nothing arrives from the server for N ms.
#[then(regex = r"^the server sends nothing for (\d+) ms$")]
async fn server_silent(w: &mut World, ms: u64) -> StepResult {
    step!(w, {
        let s = w.session("")?;
        let got = s.conn.drain_for(Duration::from_millis(ms), MAX_RAW).await?;
        if got.is_empty() && !s.conn.at_eof() {
            return Ok(());
        }
        Err(Failure::conformance(
            "the server answered before the client finished (it took part of the input for the end)",
        )
        .expected(format!("no reply yet, and the connection open, for {ms} ms"))
        .got(if got.is_empty() {
            "the connection closed".to_string()
        } else {
            format!("\"{}\"", escape_short(&got, 200))
        }))
    })
}

// ---- UDP ----------------------------------------------------------------

async fn udp_socket(w: &mut World, client: &str, addr: &str) -> StepResult {
    let target = address(w, addr)?;
    let label = if client.is_empty() {
        "udp".to_string()
    } else {
        format!("udp {client}")
    };
    let sock = UdpClient::bind(target, &label, &w.transcript, w.step_timeout).await?;
    w.udp.insert(client.to_string(), (sock, Vec::new()));
    Ok(())
}

/// Binds an ephemeral UDP socket for sending to the address.
#[given(regex = r#"^a (?:new )?UDP client socket for "(.*)"$"#)]
async fn udp_client(w: &mut World, addr: String) -> StepResult {
    step!(w, udp_socket(w, "", &addr).await)
}

/// An ephemeral UDP socket for a named further client.
#[given(regex = r#"^UDP client (\w+) for "(.*)"$"#)]
async fn udp_named_client(w: &mut World, client: String, addr: String) -> StepResult {
    step!(w, udp_socket(w, &client, &addr).await)
}

pub(crate) async fn send_datagram(w: &mut World, who: &str, bytes: Vec<u8>) -> StepResult {
    let (sock, sent) = w.udp_client(&client_name(who))?;
    sock.send(&bytes).await?;
    *sent = bytes;
    Ok(())
}

/// Sends one datagram with this payload.
#[when(regex = r#"^(the client|client \w+) sends the datagram "(.*)"$"#)]
async fn sends_datagram(w: &mut World, who: String, text: String) -> StepResult {
    step!(w, {
        let bytes = payload(w, &text)?;
        send_datagram(w, &who, bytes).await
    })
}

/// Sends one datagram of N bytes made by repeating the pattern.
#[when(regex = r#"^(the client|client \w+) sends a datagram of (\d+) bytes of "(.*)"$"#)]
async fn sends_n_datagram(w: &mut World, who: String, n: usize, pattern: String) -> StepResult {
    step!(w, {
        let bytes = repeat_to(&payload(w, &pattern)?, n)?;
        send_datagram(w, &who, bytes).await
    })
}

/// Waits for the next datagram and compares its payload.
pub(crate) async fn receive_datagram(
    w: &mut World,
    who: &str,
    expected: &[u8],
    how: Match,
) -> StepResult {
    let client = client_name(who);
    let (sock, _) = w.udp_client(&client)?;
    let what = format!(
        "a reply datagram at {} (the client's own address and port)",
        sock.local
    );
    let dg = sock.recv(&what).await.map_err(|e| {
        Failure::from(e).expected(format!(
            "the datagram \"{}\" sent back to {}",
            escape_short(expected, 300),
            sock.local
        ))
    })?;
    if !how.same(expected, &dg.payload) {
        return Err(Failure::conformance(format!(
            "{} received a datagram with the wrong payload: {}",
            describe_client(&client),
            first_difference(expected, &dg.payload)
        ))
        .expected(format!(
            "\"{}\" ({}){}",
            escape_short(expected, 300),
            count(expected.len()),
            how.describe()
        ))
        .got(format!(
            "\"{}\" ({}) from {}",
            escape_short(&dg.payload, 300),
            count(dg.payload.len()),
            dg.from
        )));
    }
    sock_last_from(w, &client, dg.from);
    Ok(())
}

fn sock_last_from(w: &mut World, client: &str, from: std::net::SocketAddr) {
    w.state::<LastSource>().0.insert(client.to_string(), from);
}

/// The source address of the last datagram each client received.
#[derive(Default)]
struct LastSource(std::collections::HashMap<String, std::net::SocketAddr>);

/// The next datagram that arrives has exactly this payload.
#[then(regex = r#"^(the client|client \w+) receives the datagram "(.*)"$"#)]
async fn receives_datagram(w: &mut World, who: String, text: String) -> StepResult {
    step!(w, {
        let expected = payload(w, &text)?;
        receive_datagram(w, &who, &expected, Match::Exact).await
    })
}

/// These datagrams arrive, each once, in any order (optionally in any letter
/// case).
#[then(
    regex = r#"^(the client|client \w+) receives these datagrams in any order(| and any letter case): (.*)$"#
)]
async fn receives_in_any_order(
    w: &mut World,
    who: String,
    case: String,
    list: String,
) -> StepResult {
    let how = if case.is_empty() {
        Match::Exact
    } else {
        Match::IgnoreCase
    };
    step!(w, {
        let mut wanted = Vec::new();
        for item in quoted_list(&list).map_err(Failure::harness)? {
            wanted.push(payload(w, &item)?);
        }
        let client = client_name(&who);
        let (sock, _) = w.udp_client(&client)?;
        let mut got = Vec::new();
        while !wanted.is_empty() {
            let dg = sock
                .recv("the remaining reply datagrams")
                .await
                .map_err(|e| {
                    Failure::from(e).expected(format!(
                        "{} more datagram(s): {}",
                        wanted.len(),
                        wanted
                            .iter()
                            .map(|p| format!("\"{}\"", escape_short(p, 60)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?;
            match wanted.iter().position(|p| how.same(p, &dg.payload)) {
                Some(i) => {
                    wanted.remove(i);
                    got.push(dg.payload);
                }
                None => {
                    return Err(Failure::conformance(
                        "a reply datagram matches none of the expected ones",
                    )
                    .expected(
                        wanted
                            .iter()
                            .map(|p| format!("\"{}\"", escape_short(p, 60)))
                            .collect::<Vec<_>>()
                            .join(" or "),
                    )
                    .got(format!("\"{}\"", escape_short(&dg.payload, 200))));
                }
            }
        }
        Ok(())
    })
}

/// The last datagram came from the address it was sent to.
#[then(regex = r#"^the reply to (the client|client \w+) came from the server's address$"#)]
async fn reply_source(w: &mut World, who: String) -> StepResult {
    step!(w, {
        let client = client_name(&who);
        let target = w.udp_client(&client)?.0.target;
        let from = w.state::<LastSource>().0.get(&client).copied();
        match from {
            None => Err(Failure::harness("no datagram was received yet in this scenario")),
            Some(from) if from == target => Ok(()),
            Some(from) => Err(Failure::conformance(
                "the reply came from another address than the one the client sent to; a client that \
                 connects its UDP socket to the server would never receive it",
            )
            .expected(target.to_string())
            .got(from.to_string())),
        }
    })
}

/// No further datagram arrives within N ms (exactly one reply).
#[then(regex = r#"^no further datagram arrives at (the client|client \w+) within (\d+) ms$"#)]
async fn no_further_datagram(w: &mut World, who: String, ms: u64) -> StepResult {
    step!(w, {
        let client = client_name(&who);
        let (sock, sent) = w.udp_client(&client)?;
        let sent = sent.clone();
        match sock.recv_within(Duration::from_millis(ms), "a further datagram").await {
            Err(crate::wire::WireError::Timeout { .. }) => Ok(()),
            Err(e) => Err(e.into()),
            Ok(dg) => Err(Failure::conformance(format!(
                "{} received a second datagram for one datagram sent (the server must reply exactly once)",
                describe_client(&client)
            ))
            .expected(format!("one reply to \"{}\"", escape_short(&sent, 100)))
            .got(format!("another datagram \"{}\" from {}", escape_short(&dg.payload, 200), dg.from))),
        }
    })
}

/// How long the reply to the client's last message took: from its last
/// bytes sent to the first bytes received after them, read off the
/// transcript (TCP or UDP, whichever the client has).
#[then(regex = r#"^the reply to (the client|client \w+) came within (\d+) ms of the request$"#)]
async fn reply_within(w: &mut World, who: String, ms: u64) -> StepResult {
    step!(w, {
        let client = client_name(&who);
        let kind = if w.udp.contains_key(&client) {
            "udp"
        } else {
            "tcp"
        };
        let label = if client.is_empty() {
            kind.to_string()
        } else {
            format!("{kind} {client}")
        };
        let entries = w.transcript.entries();
        use crate::transcript::Dir;
        let sent = entries
            .iter()
            .rposition(|e| e.conn == label && e.dir == Dir::Client)
            .ok_or_else(|| {
                Failure::harness(format!("{} has sent nothing yet", describe_client(&client)))
            })?;
        let reply = entries[sent..]
            .iter()
            .find(|e| e.conn == label && e.dir == Dir::Server)
            .ok_or_else(|| {
                Failure::harness(format!(
                    "{} has received no reply yet",
                    describe_client(&client)
                ))
            })?;
        let took = reply.at - entries[sent].at;
        if took * 1000.0 <= ms as f64 {
            Ok(())
        } else {
            Err(Failure::conformance(format!(
                "the reply came late: {took:.2} s after the request; the course's program answers at once"
            ))
            .expected(format!("a reply within {ms} ms"))
            .got(format!("the reply after {:.0} ms", took * 1000.0)))
        }
    })
}

/// `"a", "b\"c", "d"` → `[a, b\"c, d]` (escapes are kept for [`payload`]).
fn quoted_list(list: &str) -> Result<Vec<String>, String> {
    let mut items = Vec::new();
    let mut chars = list.trim().chars().peekable();
    loop {
        match chars.next() {
            Some('"') => {}
            None => break,
            Some(c) => return Err(format!("expected a quoted item, found '{c}' in: {list}")),
        }
        let mut item = String::new();
        loop {
            match chars.next() {
                Some('\\') => {
                    item.push('\\');
                    if let Some(c) = chars.next() {
                        item.push(c);
                    }
                }
                Some('"') => break,
                Some(c) => item.push(c),
                None => return Err(format!("unterminated quoted item in: {list}")),
            }
        }
        items.push(item);
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_quoted_lists() {
        assert_eq!(
            super::quoted_list(r#""A", "B\"C",  "D""#).unwrap(),
            vec!["A", r#"B\"C"#, "D"]
        );
        assert!(super::quoted_list(r#""A"#).is_err());
        assert!(super::quoted_list("A").is_err());
    }
}
