//! Generic steps for line-based protocols (SMTP, FTP, POP3, IMAP…). A session
//! is opened by a protocol's own Given step, which picks its [`ReplyReader`];
//! these steps then send command lines and check the replies through it.
//!
//! [`ReplyReader`]: crate::wire::ReplyReader

use cucumber::{then, when};

use super::text::payload;
use super::{client_name, describe_client, Failure, StepResult, World};
use crate::notation::escape_short;
use crate::step;
use crate::wire::{Reply, Segments};

/// Sends one framed command line and reads its reply.
pub async fn command(w: &mut World, client: &str, line: &[u8]) -> Result<Reply, Failure> {
    command_as(w, client, line, Segments::Run).await
}

/// [`command`], with the command cut on the wire as `how` says.
pub async fn command_as(
    w: &mut World,
    client: &str,
    line: &[u8],
    how: Segments,
) -> Result<Reply, Failure> {
    let s = w.session(client)?;
    let framed = s.reader.frame(line);
    s.conn.send_as(&framed, how).await?;
    s.sent = line.to_vec();
    let read = s.reader.read(&mut s.conn).await;
    let reply = judge_read(&w.budget, w.tcp.get_mut(client), read).map_err(|e| {
        e.or_expected(format!(
            "a {} reply to \"{}\"",
            w.tcp
                .get(client)
                .map(|s| s.reader.protocol())
                .unwrap_or("line"),
            escape_short(line, 120)
        ))
    })?;
    Ok(reply)
}

/// A reply read on a session: a refusal for a connection limit (at the
/// greeting, or to a login) or a greeting that did not come while other
/// connections to the server were open is a [`limits`] failure; anything
/// else is what it is. Counts the reply and keeps it as the last one.
///
/// [`limits`]: super::limits
fn judge_read(
    ledger: &crate::target::budget::Ledger,
    session: Option<&mut super::Session>,
    read: Result<Reply, crate::wire::WireError>,
) -> Result<Reply, Failure> {
    let Some(s) = session else {
        return Err(Failure::harness("the session went away"));
    };
    let first = s.replies == 0;
    s.replies += 1;
    match read {
        Ok(reply) => {
            s.last_reply = Some(reply.clone());
            if super::limits::is_refusal(s.reader.protocol(), first, &s.sent, &reply) {
                return Err(super::limits::refused_reply(ledger, s.section, &reply));
            }
            Ok(reply)
        }
        Err(e) => {
            let greets = matches!(s.reader.protocol(), "SMTP" | "FTP" | "POP3" | "IMAP");
            if let (true, true, Some(p)) = (first, greets, s.section) {
                if let Some(what) = super::limits::under_load(&e, ledger.open_in_run(p)) {
                    return Err(super::limits::refused(ledger, s.section, &what));
                }
            }
            Err(e.into())
        }
    }
}

/// Reads the next reply on a session (after pipelined commands, a greeting…).
pub async fn next_reply(w: &mut World, client: &str) -> Result<Reply, Failure> {
    let s = w.session(client)?;
    let protocol = s.reader.protocol();
    let read = s.reader.read(&mut s.conn).await;
    judge_read(&w.budget, w.tcp.get_mut(client), read)
        .map_err(|e| e.or_expected(format!("a {protocol} reply")))
}

pub fn last_reply(w: &mut World, client: &str) -> Result<Reply, Failure> {
    let s = w.session(client)?;
    s.last_reply
        .clone()
        .ok_or_else(|| Failure::harness("the scenario checks a reply before any was read"))
}

/// Checks the status of `reply` against a set of acceptable statuses. An
/// entry like `5xx` accepts a whole class.
pub fn check_status(reply: &Reply, accepted: &[String], context: &str) -> StepResult {
    let ok = accepted.iter().any(|a| {
        if a.len() == 3 && a.ends_with("xx") {
            reply.class() == a.chars().next()
        } else {
            reply.status.eq_ignore_ascii_case(a)
        }
    });
    if ok {
        return Ok(());
    }
    let want = if accepted.len() == 1 {
        accepted[0].clone()
    } else {
        format!("one of {}", accepted.join(", "))
    };
    Err(
        Failure::conformance(format!("unexpected reply status {}", context))
            .expected(want)
            .got(format!(
                "\"{}\"",
                escape_short(reply.text().as_bytes(), 300)
            )),
    )
}

fn statuses(list: &str) -> Vec<String> {
    list.split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "or")
        .map(str::to_string)
        .collect()
}

/// Sends a command line (CRLF added) on the protocol session and reads one
/// complete reply with the protocol's reply reader.
#[when(regex = r#"^(the client|client \w+) sends "(.*)"$"#)]
async fn sends_command(w: &mut World, who: String, text: String) -> StepResult {
    step!(w, {
        let line = payload(w, &text)?;
        command(w, &client_name(&who), &line).await.map(|_| ())
    })
}

/// Sends a command line without reading the reply (pipelining).
#[when(regex = r#"^(the client|client \w+) sends "(.*)" without waiting for the reply$"#)]
async fn sends_pipelined(w: &mut World, who: String, text: String) -> StepResult {
    step!(w, {
        let line = payload(w, &text)?;
        let s = w.session(&client_name(&who))?;
        let framed = s.reader.frame(&line);
        s.conn.send(&framed).await?;
        s.sent = line;
        Ok(())
    })
}

/// `the client sends "EHLO a.example" byte by byte`: every byte of the
/// framed command its own TCP segment, whatever `--perturb` says; then its
/// reply is read. A server must not take one read for one command (TCP is
/// a byte stream; course catalogue T-08).
#[when(regex = r#"^(the client|client \w+) sends "(.*)" byte by byte$"#)]
async fn sends_byte_by_byte(w: &mut World, who: String, text: String) -> StepResult {
    step!(w, {
        let line = payload(w, &text)?;
        command_as(w, &client_name(&who), &line, Segments::Bytes)
            .await
            .map(|_| ())
    })
}

/// `the client sends "MAIL FROM:<a@b>", "RCPT TO:<c@d>" and "DATA" in one
/// write` (or `pipelines "…", "…" in one write`): the framed commands (HTTP:
/// the requests) concatenated into one TCP write, whatever `--perturb` says
/// (RFC 2920 §3.1: a client "can transmit a group of commands in one
/// send"); the replies are read by the next steps ("the next reply is …").
#[when(
    regex = r#"^(the client|client \w+) (?:sends|pipelines) ((?:"[^"]*"(?:, | and )?)+) in one write$"#
)]
async fn sends_in_one_write(w: &mut World, who: String, list: String) -> StepResult {
    step!(w, {
        let client = client_name(&who);
        let mut lines = Vec::new();
        for item in list.split('"').skip(1).step_by(2) {
            lines.push(payload(w, item)?);
        }
        let s = w.session(&client)?;
        let mut all = Vec::new();
        for line in &lines {
            all.extend(s.reader.frame(line));
        }
        s.conn.send_as(&all, Segments::OneWrite).await?;
        s.sent = lines.pop().unwrap_or_default();
        Ok(())
    })
}

/// The last reply's status is one of these (`250`, `5xx`, `OK`, `+OK`).
#[then(regex = r"^the server replies with one of (.+)$")]
async fn replies_one_of(w: &mut World, list: String) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        let sent = w.session("")?.sent.clone();
        check_status(
            &reply,
            &statuses(&list),
            &format!("to \"{}\"", escape_short(&sent, 120)),
        )
    })
}

/// For a command outside the minimum implementation (FTP's ABOR, an SMTP
/// extension's verb): 500 or 502 means the server does not have it, and the
/// scenario is skipped; anything else is checked against the set.
#[then(regex = r"^a server that implements the command replies with one of (.+)$")]
async fn implementer_replies(w: &mut World, list: String) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        let sent = escape_short(&w.session("")?.sent, 120);
        if matches!(reply.status.as_str(), "500" | "502") {
            return Err(Failure::skip(format!(
                "the server does not implement \"{sent}\" (it answered {}); the command is optional",
                reply.status
            )));
        }
        check_status(&reply, &statuses(&list), &format!("to \"{sent}\""))
    })
}

/// The last reply's status is this one (`250`, `5xx`, `OK`, `+OK`, `-ERR`).
#[then(regex = r"^the server replies (\S+)$")]
async fn replies(w: &mut World, status: String) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        let sent = w.session("")?.sent.clone();
        check_status(
            &reply,
            &[status],
            &format!("to \"{}\"", escape_short(&sent, 120)),
        )
    })
}

/// Reads one more reply on the named client's session and checks its status.
/// Example: `Then client B gets the reply 250`
#[then(regex = r"^(the client|client \w+) gets the reply (\S+)$")]
async fn client_gets_reply(w: &mut World, who: String, status: String) -> StepResult {
    step!(w, {
        let client = client_name(&who);
        let reply = last_reply(w, &client)?;
        check_status(
            &reply,
            &[status],
            &format!("for {}", describe_client(&client)),
        )
    })
}

/// Reads one more reply and checks its status.
#[then(regex = r"^the next reply is (?:one of )?(.+)$")]
async fn next_reply_is(w: &mut World, list: String) -> StepResult {
    step!(w, {
        let reply = next_reply(w, "").await?;
        check_status(&reply, &statuses(&list), "for the next pipelined command")
    })
}

/// The text of the last reply contains this (case-insensitive).
#[then(regex = r#"^the reply text contains "(.*)"$"#)]
async fn reply_contains(w: &mut World, text: String) -> StepResult {
    step!(w, {
        let want = String::from_utf8_lossy(&payload(w, &text)?).into_owned();
        let reply = last_reply(w, "")?;
        let got = reply.text();
        if got
            .to_ascii_lowercase()
            .contains(&want.to_ascii_lowercase())
        {
            Ok(())
        } else {
            Err(
                Failure::conformance("the reply text does not contain the expected words")
                    .expected(format!("text containing \"{want}\" (case-insensitive)"))
                    .got(format!("\"{}\"", escape_short(got.as_bytes(), 300))),
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Line, Terminator};

    fn reply(status: &str) -> Reply {
        Reply {
            status: status.into(),
            lines: vec![Line {
                bytes: status.as_bytes().to_vec(),
                end: Terminator::CrLf,
            }],
            body: vec![],
        }
    }

    #[test]
    fn status_sets_and_classes() {
        assert!(check_status(&reply("501"), &statuses("500, 501"), "").is_ok());
        assert!(check_status(&reply("250"), &statuses("500 or 501"), "").is_err());
        assert!(check_status(&reply("554"), &statuses("5xx"), "").is_ok());
        assert!(check_status(&reply("+OK"), &statuses("+ok"), "").is_ok());
    }
}
