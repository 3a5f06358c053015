//! Robustness steps: the fuzzer's strategies and oracles inside a scenario.
//!
//! ```gherkin
//! When 200 mutations of "hello world" are sent to the sockets server over tcp
//! Then every reply is well-formed
//! And the sockets server still answers
//! ```
//!
//! and, for a regression found by `conform fuzz` on a line protocol:
//!
//! ```gherkin
//! Given a fuzz session with the smtp server
//! When the fuzz session sends the prefix "EHLO client.example\r\n"
//! And the fuzz session sends "HELO \x80\r\n"
//! Then every reply is well-formed
//! And the smtp server still answers
//! ```
//!
//! The mutations are drawn with a seed taken from the step's text, so a
//! scenario sends the same messages on every run.

use std::sync::Arc;
use std::time::Duration;

use cucumber::{given, then, when};

use super::text::payload;
use super::{Failure, StepResult, World};
use crate::fuzz::engine::{self, Executor, Finding};
use crate::fuzz::{self, Case, Channel, FuzzProtocol, Limits, Oracle};
use crate::protocol::Protocol;
use crate::step;

#[derive(Default)]
struct FuzzState {
    /// A session being written down by the steps, not sent yet.
    case: Option<Case>,
    /// What the mutations or the session found.
    ran: bool,
    exchanges: u64,
    finding: Option<Finding>,
}

fn plugin(name: &str) -> Result<Arc<dyn FuzzProtocol>, Failure> {
    Protocol::parse(name)
        .and_then(fuzz::plugin)
        .ok_or_else(|| Failure::harness(format!("there is no fuzz module for `{name}`")))
}

fn channels(w: &World, p: &dyn FuzzProtocol, only: &str) -> Result<Vec<Channel>, Failure> {
    let all = p.channels(w.profile()).map_err(Failure::harness)?;
    let chosen: Vec<Channel> = all
        .into_iter()
        .filter(|c| only.is_empty() || c.name == only)
        .collect();
    if chosen.is_empty() {
        return Err(Failure::harness(format!(
            "the profile gives no `{only}` channel for {}",
            p.name()
        )));
    }
    Ok(chosen)
}

fn step_seed(text: &str) -> u64 {
    text.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}

fn record(w: &mut World, f: &Finding) {
    for line in f.transcript.lines() {
        w.transcript.event("fuzz", line.to_string());
    }
}

/// N sessions of mutated messages made from the seed (the fuzzer's engine),
/// over the transport named.
#[when(regex = r#"^(\d+) mutations of "(.*)" are sent to the (\w+) server(?: over (\w+))?$"#)]
async fn mutations(
    w: &mut World,
    n: u64,
    seed_text: String,
    proto: String,
    over: String,
) -> StepResult {
    step!(w, {
        let p = plugin(&proto)?;
        let seed_msg = payload(w, &seed_text)?;
        let chans = channels(w, p.as_ref(), &over)?;
        let seed = step_seed(&format!("{n} {seed_text} {proto} {over}"));
        let timeout = w.step_timeout.min(Duration::from_secs(2));
        let (exchanges, finding, sample) = tokio::task::spawn_blocking(move || {
            engine::mutations(p, chans, vec![seed_msg], n, seed, timeout)
        })
        .await
        .map_err(|e| Failure::harness(format!("the fuzzer failed: {e}")))?;
        w.transcript.event("fuzz", "the first mutated session:");
        for line in sample.lines() {
            w.transcript.event("fuzz", line.to_string());
        }
        w.transcript.event(
            "fuzz",
            format!("{n} mutated sessions sent to {proto}, {exchanges} exchanges (seed {seed})"),
        );
        if let Some(f) = &finding {
            record(w, f);
        }
        let st = w.state::<FuzzState>();
        st.ran = true;
        st.exchanges = exchanges;
        st.finding = finding;
        Ok(())
    })
}

/// Starts a fuzz case for the protocol's server; the steps after it give its
/// prefix and messages.
/// Example: `Given a fuzz session with the smtp server`
#[given(regex = r"^a fuzz session with the (\w+) server$")]
async fn fuzz_session(w: &mut World, proto: String) -> StepResult {
    step!(w, {
        let p = plugin(&proto)?;
        let channel = channels(w, p.as_ref(), "")?.remove(0).name;
        w.state::<FuzzState>().case = Some(Case {
            protocol: proto,
            channel,
            prefix: vec![],
            messages: vec![],
        });
        Ok(())
    })
}

fn pending(w: &mut World) -> Result<&mut Case, Failure> {
    w.state::<FuzzState>()
        .case
        .as_mut()
        .ok_or_else(|| Failure::harness("\"a fuzz session with the … server\" must come first"))
}

/// Adds a line to the fuzz case's valid prefix.
/// Example: `When the fuzz session sends the prefix "EHLO conform.test\r\n"`
#[when(regex = r#"^the fuzz session sends the prefix "(.*)"$"#)]
async fn session_prefix(w: &mut World, text: String) -> StepResult {
    step!(w, {
        let bytes = crate::notation::unescape(&text).map_err(Failure::harness)?;
        pending(w)?.prefix.push(bytes);
        Ok(())
    })
}

/// Adds a message to the fuzz case.
/// Example: `When the fuzz session sends "MAIL FROM:<>\r\n"`
#[when(regex = r#"^the fuzz session sends "(.*)"$"#)]
async fn session_send(w: &mut World, text: String) -> StepResult {
    step!(w, {
        let bytes = crate::notation::unescape(&text).map_err(Failure::harness)?;
        pending(w)?.messages.push(bytes);
        Ok(())
    })
}

/// Sends a session written down by the steps, once.
async fn run_pending(w: &mut World) -> StepResult {
    let Some(case) = w.state::<FuzzState>().case.take() else {
        return Ok(());
    };
    let p = plugin(&case.protocol)?;
    let chans = channels(w, p.as_ref(), &case.channel)?;
    let limits = Limits {
        reply_timeout: w.step_timeout.min(Duration::from_secs(2)),
        drain: Duration::from_millis(100),
    };
    let sent = case.clone();
    let result = tokio::task::spawn_blocking(move || {
        let mut exec = Executor::new(p, chans, limits);
        exec.check(&sent, Duration::from_secs(1))
    })
    .await
    .map_err(|e| Failure::harness(format!("the fuzzer failed: {e}")))?;
    let st = w.state::<FuzzState>();
    st.ran = true;
    st.exchanges = (case.prefix.len() + case.messages.len()) as u64;
    st.finding = result.map(|(violation, transcript)| Finding {
        transcript,
        ..Finding::new(violation, case.clone(), case, 0)
    });
    if let Some(f) = w.state::<FuzzState>().finding.clone() {
        record(w, &f);
    }
    Ok(())
}

fn as_failure(f: &Finding) -> Failure {
    let v = &f.violation;
    let mut got = v.got.clone().unwrap_or_default();
    got.push_str(&format!(
        "\n  minimized reproducer (conform fuzz --replay):\n{}",
        f.minimized
            .to_text(&[])
            .lines()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    ));
    let mut failure = Failure::conformance(format!("[{}] {}", v.oracle.name(), v.message)).got(got);
    if let Some(e) = &v.expected {
        failure = failure.expected(e.clone());
    }
    failure
}

/// Every reply of the mutated sessions came in time and was well-formed.
#[then(regex = r"^every reply is well-formed$")]
async fn every_reply_well_formed(w: &mut World) -> StepResult {
    step!(w, {
        run_pending(w).await?;
        let st = w.state::<FuzzState>();
        if !st.ran {
            return Err(Failure::harness("nothing was sent to check"));
        }
        match &st.finding {
            Some(f) if f.violation.oracle != Oracle::StaysAlive => Err(as_failure(f)),
            _ => Ok(()),
        }
    })
}

/// A fresh client's valid probe still gets a valid answer.
#[then(regex = r"^the (\w+) server still answers$")]
async fn still_answers(w: &mut World, proto: String) -> StepResult {
    step!(w, {
        run_pending(w).await?;
        if let Some(f) = w
            .state::<FuzzState>()
            .finding
            .as_ref()
            .filter(|f| f.violation.oracle == Oracle::StaysAlive)
        {
            return Err(as_failure(f));
        }
        let p = plugin(&proto)?;
        let chans = channels(w, p.as_ref(), "")?;
        let limits = Limits {
            reply_timeout: w.step_timeout.min(Duration::from_secs(2)),
            drain: Duration::ZERO,
        };
        let probe = tokio::task::spawn_blocking(move || p.probe(&chans, &limits))
            .await
            .map_err(|e| Failure::harness(format!("the fuzzer failed: {e}")))?;
        probe.map_err(|e| {
            Failure::conformance("the server no longer serves a fresh client")
                .expected("a fresh connection and a valid exchange succeed")
                .got(e)
        })
    })
}
