//! Steps where the system under test is a client: the harness starts a
//! peer (`crate::peer`), runs the client under test against it, and judges
//! what the peer received and what the client printed. The TCP and UDP
//! peers of the course's client programs live here; the SMTP peer's own
//! steps are in `smtp_client`.
//!
//! A client that never connects, floods, sends garbage, hangs or crashes
//! ends its scenario within the step timeout: the first step that judges
//! it waits for it to end (bounded), kills what is left, and every verdict
//! says how it ended and what it printed last on stderr.

use std::time::Duration;

use cucumber::{given, then, when};

use super::text::payload;
use super::{Failure, StepResult, World};
use crate::notation::escape_short;
use crate::peer::client::{self, ClientRun};
use crate::peer::{tcp, udp, ConnRecord};
use crate::step;

/// The peers and the client under test of a scenario.
#[derive(Default)]
pub struct Peers {
    pub tcp: Option<tcp::TcpPeer>,
    pub udp: Option<udp::UdpPeer>,
    pub smtp: Option<crate::peer::smtp::SmtpPeer>,
    pub smtp_script: crate::peer::smtp::Script,
    pub http: Option<crate::peer::http::HttpOrigin>,
    pub client: Option<ClientRun>,
    /// The input the client was given (the sentence, the message).
    pub input: Vec<u8>,
    /// The client has been waited for: later steps do not wait again.
    pub settled: bool,
    /// The TCP peer's connections as they were when the client was
    /// killed (a still-running client's sockets close only when it dies).
    pub at_kill: Option<Vec<ConnRecord>>,
}

/// The `(the peer closes, answers …)` part of a Given.
fn tcp_answer(what: &str, text: Option<String>, w: &World) -> Result<tcp::Answer, Failure> {
    Ok(match what {
        "answers upper-cased" => tcp::Answer::Upper,
        "never answers" => tcp::Answer::Silence,
        "closes without answering" => tcp::Answer::Close,
        _ => tcp::Answer::Fixed(payload(w, text.as_deref().unwrap_or(""))?),
    })
}

/// A step's `N seconds`.
pub fn seconds(s: &str) -> Result<Duration, Failure> {
    s.parse::<f64>()
        .ok()
        .filter(|d| d.is_finite() && *d >= 0.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| Failure::harness(format!("\"{s}\" is not a number of seconds")))
}

/// A TCP or UDP peer standing in for the course's server: it upper-cases, answers a fixed text, stays silent or closes, optionally after a delay.
#[given(
    regex = r#"^a (TCP|UDP) peer that (answers upper-cased|answers "(.*)"|never answers|closes without answering)(?: after ([0-9.]+) seconds?)?$"#
)]
async fn peer_that(
    w: &mut World,
    transport: String,
    what: String,
    text: String,
    delay: String,
) -> StepResult {
    step!(w, {
        let text = (!text.is_empty()).then_some(text);
        let delay = if delay.is_empty() {
            Duration::ZERO
        } else {
            seconds(&delay)?
        };
        let what = if what.starts_with("answers \"") {
            "answers text"
        } else {
            what.as_str()
        };
        let answer = tcp_answer(what, text, w)?;
        let t = w.transcript.clone();
        if transport == "TCP" {
            let script = tcp::Script {
                answer,
                delay,
                close_after: true,
            };
            let peer = tcp::TcpPeer::start(script, &t)
                .await
                .map_err(|e| Failure::harness(format!("cannot start the TCP peer: {e}")))?;
            w.state::<Peers>().tcp = Some(peer);
        } else {
            let answer = match answer {
                tcp::Answer::Upper => udp::Answer::Upper,
                tcp::Answer::Fixed(b) => udp::Answer::Fixed(b),
                tcp::Answer::Silence => udp::Answer::Silence,
                tcp::Answer::Close => {
                    return Err(Failure::harness(
                        "a UDP peer has no connection to close: write `never answers`",
                    ))
                }
            };
            let peer = udp::UdpPeer::start(udp::Script { answer, delay }, &t)
                .await
                .map_err(|e| Failure::harness(format!("cannot start the UDP peer: {e}")))?;
            w.state::<Peers>().udp = Some(peer);
        }
        Ok(())
    })
}

/// Starts the client under test from `[section] key` against `port`.
pub async fn start_client(
    w: &mut World,
    section: &str,
    key: &str,
    port: u16,
    vars: &[(&str, &str)],
    stdin: Vec<u8>,
) -> StepResult {
    let path = format!("{section}.{key}");
    let Some(template) = w.profile().get(&path).map(str::to_string) else {
        return Err(Failure::skip(format!(
            "the profile has no [{section}] {key}: the command of the client under test"
        )));
    };
    let port = port.to_string();
    let mut all: Vec<(&str, &str)> = vec![("host", "127.0.0.1"), ("port", &port)];
    all.extend_from_slice(vars);
    let command = client::substitute(&template, &all);
    let dir = client::workdir(w.profile(), section);
    let run = ClientRun::start(&command, &dir, stdin, &w.ctx.client_sandbox, &w.transcript)
        .await
        .map_err(Failure::harness)?;
    let peers = w.state::<Peers>();
    peers.client = Some(run);
    peers.settled = false;
    // Whatever happens, nothing of the client outlives the scenario.
    Ok(())
}

/// Starts the TCP or UDP client under test against the peer, with this input (or a random sentence) on its command line and stdin.
#[when(
    regex = r#"^the (TCP|UDP) client under test runs with (?:the input "(.*)"|a random sentence)$"#
)]
async fn sockets_client_runs(w: &mut World, transport: String, input: String) -> StepResult {
    step!(w, {
        let sentence = if input.is_empty() {
            super::sockets::random_sentence()
        } else {
            payload(w, &input)?
        };
        let key = transport.to_ascii_lowercase();
        let port = {
            let p = w.state::<Peers>();
            match key.as_str() {
                "tcp" => p.tcp.as_ref().map(|p| p.addr.port()),
                _ => p.udp.as_ref().map(|p| p.addr.port()),
            }
        }
        .ok_or_else(|| {
            Failure::harness(format!(
                "the scenario runs the {transport} client before starting a {transport} peer"
            ))
        })?;
        let text = String::from_utf8_lossy(&sentence).into_owned();
        // The course's clients read the sentence with input(): one line on
        // standard input; `{input}` gives it as an argument instead.
        let mut stdin = sentence.clone();
        stdin.push(b'\n');
        w.state::<Peers>().input = sentence;
        start_client(w, "sockets-client", &key, port, &[("input", &text)], stdin).await
    })
}

/// How long the first judging step waits for the client to end by itself:
/// most of the step timeout, leaving room to kill it and judge.
fn settle_wait(w: &World) -> Duration {
    w.step_timeout
        .saturating_sub(Duration::from_millis(1500))
        .max(Duration::from_millis(500))
}

/// Waits (once) for the client under test to end by itself, up to `wait`,
/// then kills whatever is left of it and lets the peers record the last
/// bytes. Returns false when there is no client.
pub async fn settle(w: &mut World, wait: Duration) -> bool {
    let p = w.state::<Peers>();
    if p.settled {
        return p.client.is_some();
    }
    let Some(c) = p.client.as_mut() else {
        return false;
    };
    let ended = c.wait(wait).await.is_some();
    if !ended {
        p.at_kill = stream_conns(p);
    }
    if let Some(c) = p.client.as_mut() {
        c.stop().await;
    }
    // The peers read what the dying client's sockets still held.
    tokio::time::sleep(Duration::from_millis(50)).await;
    w.state::<Peers>().settled = true;
    true
}

/// The connections of the scenario's stream peer (TCP, else the HTTP
/// origin), as recorded so far.
fn stream_conns(p: &Peers) -> Option<Vec<ConnRecord>> {
    match (&p.tcp, &p.http) {
        (Some(t), _) => Some(t.conns.snapshot().0),
        (None, Some(h)) => Some(h.conns.snapshot().0),
        (None, None) => None,
    }
}

/// Whether the client under test has sent anything to a peer yet (a
/// datagram, a connection).
fn contacted(w: &mut World) -> bool {
    let p = w.state::<Peers>();
    p.udp.as_ref().is_some_and(|u| !u.datagrams().is_empty())
        || stream_conns(p).is_some_and(|c| !c.is_empty())
        || p.smtp
            .as_ref()
            .is_some_and(|t| !t.conns.snapshot().0.is_empty())
}

/// The client under test's account (how it ended, its last stderr), for
/// failure messages.
pub fn account(w: &mut World) -> String {
    w.state::<Peers>()
        .client
        .as_ref()
        .map(|c| c.account())
        .unwrap_or_else(|| "the client under test was not started".into())
}

async fn judged(w: &mut World) -> Result<(), Failure> {
    let wait = settle_wait(w);
    if !settle(w, wait).await {
        return Err(Failure::harness(
            "the scenario judges the client under test before running it",
        ));
    }
    Ok(())
}

/// The client under test exits on its own within N seconds (it is killed after the scenario either way).
#[then(regex = r"^the client under test ends by itself within ([0-9.]+) seconds?$")]
async fn ends_within(w: &mut World, secs: String) -> StepResult {
    step!(w, {
        let limit = seconds(&secs)?;
        if limit + Duration::from_secs(1) > w.step_timeout {
            return Err(Failure::harness(format!(
                "the step waits {} but the step timeout is {}: tag the scenario @timeout(…) longer",
                humantime::format_duration(limit),
                humantime::format_duration(w.step_timeout)
            )));
        }
        // Counted from the client's first contact with a peer, not from its
        // start: a slow start (an interpreter on a loaded machine) is not a
        // hang.
        let before = w
            .step_timeout
            .saturating_sub(limit + Duration::from_secs(1));
        let deadline = std::time::Instant::now() + before;
        let ended = loop {
            let contacted = contacted(w);
            let p = w.state::<Peers>();
            let Some(c) = p.client.as_mut() else {
                return Err(Failure::harness(
                    "the scenario judges the client under test before running it",
                ));
            };
            if let Some(e) = c.wait(Duration::ZERO).await {
                break Some(e);
            }
            if contacted || std::time::Instant::now() >= deadline {
                break c.wait(limit).await;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        settle(w, Duration::ZERO).await;
        match ended {
            Some(_) => Ok(()),
            None => Err(Failure::conformance(format!(
                "the client under test was still running after {}: it waits forever (it was killed)",
                humantime::format_duration(limit)
            ))
            .expected(format!("the program to end by itself within {}", humantime::format_duration(limit)))
            .got(account(w))),
        }
    })
}

/// The client under test exited with status 0.
#[then("the client under test exits with status 0")]
async fn exits_zero(w: &mut World) -> StepResult {
    step!(w, {
        judged(w).await?;
        let how = w
            .state::<Peers>()
            .client
            .as_ref()
            .and_then(|c| c.ended.clone());
        match how {
            Some((h, _)) if h == "exited with status 0" => Ok(()),
            _ => Err(
                Failure::conformance("the client under test did not exit with status 0")
                    .expected("exit status 0")
                    .got(account(w)),
            ),
        }
    })
}

/// The client under test printed the peer's reply (or the given text; or the reply after a label such as "From Server:", spaces between allowed) on its standard output.
#[then(regex = r#"^the client under test prints (the reply|the reply after "(.*)"|"(.*)")$"#)]
async fn prints(w: &mut World, what: String, label: String, text: String) -> StepResult {
    step!(w, {
        judged(w).await?;
        let want = if what.starts_with("the reply") {
            crate::peer::upper(&w.state::<Peers>().input)
        } else {
            payload(w, &text)?
        };
        let label = String::from_utf8_lossy(&payload(w, &label)?).into_owned();
        let (out, _) = w
            .state::<Peers>()
            .client
            .as_ref()
            .map(|c| c.output())
            .unwrap_or_default();
        let want_s = String::from_utf8_lossy(&want).into_owned();
        // `print('From Server:', reply)` puts one space between them; the
        // textbook's `'From Server: '` two: any run of blanks is fine.
        let labelled = |out: &str| {
            out.match_indices(label.as_str()).any(|(i, _)| {
                out[i + label.len()..]
                    .trim_start_matches([' ', '\t'])
                    .starts_with(&want_s)
            })
        };
        if label.is_empty() && out.contains(&want_s) || !label.is_empty() && labelled(&out) {
            Ok(())
        } else if !label.is_empty() && out.contains(&want_s) {
            Err(Failure::conformance(format!(
                "the client under test printed the reply, but not after \"{label}\""
            ))
            .expected(format!(
                "standard output with \"{label} {}\"",
                escape_short(&want, 200)
            ))
            .got(format!("\"{}\"", escape_short(out.as_bytes(), 300))))
        } else {
            Err(
                Failure::conformance("the client under test did not print the server's reply")
                    .expected(format!(
                        "standard output containing \"{}\"",
                        escape_short(&want, 200)
                    ))
                    .got(format!(
                        "\"{}\"; {}",
                        escape_short(out.as_bytes(), 300),
                        account(w)
                    )),
            )
        }
    })
}

/// The UDP peer received the input sentence, exactly, in one datagram.
#[then("the peer receives exactly the input in one datagram")]
async fn one_datagram(w: &mut World) -> StepResult {
    step!(w, {
        judged(w).await?;
        let p = w.state::<Peers>();
        let input = p.input.clone();
        let got = p.udp.as_ref().map(|u| u.datagrams()).unwrap_or_default();
        let acc = account(w);
        match got.as_slice() {
            [] => Err(
                Failure::conformance("the client under test sent no datagram to the peer")
                    .expected(format!("one datagram \"{}\"", escape_short(&input, 200)))
                    .got(format!("nothing; {acc}")),
            ),
            [d] if d.payload == input => Ok(()),
            [d] => Err(Failure::conformance(
                "the datagram does not hold exactly the input sentence",
            )
            .expected(format!("\"{}\"", escape_short(&input, 200)))
            .got(format!("\"{}\"", escape_short(&d.payload, 200)))),
            many => Err(Failure::conformance(format!(
                "the client under test sent {} datagrams for one sentence",
                many.len()
            ))
            .expected("one datagram")
            .got(
                many.iter()
                    .map(|d| format!("\"{}\"", escape_short(&d.payload, 60)))
                    .collect::<Vec<_>>()
                    .join(", "),
            )),
        }
    })
}

/// The TCP peer received the input sentence, exactly, on one connection.
#[then("the peer receives exactly the input on one connection")]
async fn one_connection(w: &mut World) -> StepResult {
    step!(w, {
        judged(w).await?;
        let p = w.state::<Peers>();
        let input = p.input.clone();
        let (conns, away) = p
            .tcp
            .as_ref()
            .map(|t| t.conns.snapshot())
            .unwrap_or_default();
        let acc = account(w);
        match conns.as_slice() {
            [] => Err(
                Failure::conformance("the client under test never connected to the peer")
                    .expected("one TCP connection carrying the input sentence")
                    .got(format!("no connection; {acc}")),
            ),
            [c] if c.received == input => Ok(()),
            [c] => Err(Failure::conformance(
                "the connection did not carry exactly the input sentence",
            )
            .expected(format!("\"{}\"", escape_short(&input, 200)))
            .got(format!(
                "\"{}\"{}",
                escape_short(&c.received, 200),
                if c.dropped > 0 {
                    format!(" and {} bytes more (a flood)", c.dropped)
                } else {
                    String::new()
                }
            ))),
            many => Err(Failure::conformance(format!(
                "the client under test opened {} connections for one sentence",
                many.len() + away
            ))
            .expected("one connection")),
        }
    })
}

/// The client under test closed its connection to the TCP peer (or the HTTP origin).
#[then("the client under test closes its connection")]
async fn closes(w: &mut World) -> StepResult {
    step!(w, {
        judged(w).await?;
        let p = w.state::<Peers>();
        let conns = match &p.at_kill {
            Some(c) => c.clone(),
            None => stream_conns(p).unwrap_or_default(),
        };
        let acc = account(w);
        if conns.is_empty() {
            return Err(
                Failure::conformance("the client under test never connected to the peer").got(acc),
            );
        }
        if conns.iter().all(|c| c.closed_by_client) {
            Ok(())
        } else {
            Err(
                Failure::conformance("the client under test kept its connection open")
                    .expected("the client to close the connection after reading the reply")
                    .got(acc),
            )
        }
    })
}
