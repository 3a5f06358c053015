//! POP3 steps (RFC 1939): sessions before and after login, remembering a
//! message and finding it unchanged in a later session, scan listings, and
//! the SMTP → POP3 chain (a message delivered by SMTP, found, compared byte
//! for byte, and deleted again so the mailbox is left as it was found).
//!
//! A maildrop may be locked for a whole session (RFC 1939 §4), so scenarios
//! that work in a logged-in session are tagged `@serial`: they need the
//! maildrop to themselves. The course's login needs no session afterwards:
//! `-ERR [IN-USE]` (RFC 2449 §8.1.2) answers it as well as +OK.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use cucumber::{given, then, when};

use super::line::{check_status, command, last_reply, next_reply};
use super::raw::open_session;
use super::text::payload;
use super::{client_name, Failure, StepResult, World};
use crate::report::transcript::escape_short;
use crate::step;
use crate::wire::pop3::Pop3Reader;
use crate::wire::Reply;

#[derive(Default)]
pub struct Pop3State {
    /// Messages the client read, by number.
    remembered: BTreeMap<usize, Vec<u8>>,
    /// The message this scenario delivered by SMTP: its id header and the
    /// exact content sent.
    delivered: Option<(String, Vec<u8>)>,
    /// Its number in the current POP3 session, once found.
    found: Option<usize>,
}

/// Opens a POP3 connection; with `greet`, requires the +OK greeting (§4).
pub async fn open(w: &mut World, client: &str, greet: bool) -> StepResult {
    let reader = Arc::new(Pop3Reader::new());
    open_session(w, client, "pop3", "${pop3.address}", reader).await?;
    if greet {
        let reply = next_reply(w, client).await?;
        check_status(&reply, &["+OK".into()], "as the greeting (RFC 1939 §4)")?;
    }
    Ok(())
}

/// USER and PASS with the profile's account; the PASS reply is the last
/// reply. Does not judge it.
async fn user_pass(w: &mut World, client: &str) -> Result<Reply, Failure> {
    let user = w.expand("USER ${pop3.user}")?;
    let pass = w.expand("PASS ${pop3.password}")?;
    let reply = command(w, client, user.as_bytes()).await?;
    check_status(
        &reply,
        &["+OK".into()],
        "to USER with the profile's user (RFC 1939 §7)",
    )?;
    command(w, client, pass.as_bytes()).await
}

/// A logged-in session for `client`. A maildrop still locked by a session
/// that just ended (`[IN-USE]`, RFC 2449 §8.1.1) is retried for a while.
pub async fn login(w: &mut World, client: &str) -> StepResult {
    let deadline = tokio::time::Instant::now() + w.step_timeout / 2;
    loop {
        open(w, client, true).await?;
        let reply = user_pass(w, client).await?;
        if reply.status == "+OK" {
            return Ok(());
        }
        let in_use = reply.text().to_ascii_uppercase().contains("[IN-USE]");
        if !in_use || tokio::time::Instant::now() >= deadline {
            return Err(Failure::harness(format!(
                "cannot log in to POP3 as the profile's user: the server answered PASS with \"{}\"",
                escape_short(reply.text().as_bytes(), 200)
            )));
        }
        w.tcp.remove(client);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn quit(w: &mut World, client: &str) -> StepResult {
    let reply = command(w, client, b"QUIT").await?;
    check_status(&reply, &["+OK".into()], "to QUIT (RFC 1939 §6)")?;
    w.tcp.remove(client);
    Ok(())
}

/// The number of messages in a STAT reply (`+OK 2 320`); 0 where the reply
/// does not say.
fn stat_count(stat: &crate::wire::Reply) -> usize {
    stat.text()
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Checks that the maildrop holds message `n` at all: a scenario about an
/// existing message cannot judge an empty maildrop.
async fn need_message(w: &mut World, client: &str, n: usize) -> StepResult {
    let stat = command(w, client, b"STAT").await?;
    check_status(&stat, &["+OK".into()], "to STAT (RFC 1939 §5)")?;
    let count = stat_count(&stat);
    if count < n {
        return Err(Failure::harness(format!(
            "the scenario needs message {n} but the maildrop holds {count}; load the fixture messages (`conform fixtures`, maildir/)"
        )));
    }
    Ok(())
}

/// RETR n, requiring +OK; the message as the server sent it, unstuffed.
async fn retrieve(w: &mut World, client: &str, n: usize) -> Result<Vec<u8>, Failure> {
    need_message(w, client, n).await?;
    let reply = command(w, client, format!("RETR {n}").as_bytes()).await?;
    check_status(&reply, &["+OK".into()], &format!("to \"RETR {n}\""))?;
    Ok(reply.body)
}

/// Opens the POP3 connection and reads the greeting.
#[given(regex = r"^a POP3 session$")]
async fn session(w: &mut World) -> StepResult {
    step!(w, open(w, "", false).await)
}

/// Opens the POP3 connection and checks the greeting is +OK.
#[given(regex = r"^a POP3 session that has been greeted$")]
async fn session_greeted(w: &mut World) -> StepResult {
    step!(w, open(w, "", true).await)
}

/// A named further client with its own greeted POP3 session.
/// Example: `Given client B has a POP3 session that has been greeted`
#[given(regex = r"^client (\w+) has a POP3 session that has been greeted$")]
async fn client_session_greeted(w: &mut World, client: String) -> StepResult {
    step!(w, open(w, &client, true).await)
}

/// Greeted, then USER/PASS with the `[pop3]` user and password.
#[given(regex = r"^(?:a|another) POP3 session logged in$")]
async fn session_logged_in(w: &mut World) -> StepResult {
    step!(w, login(w, "").await)
}

/// USER/PASS with the `[pop3]` user and password on the open session.
/// Example: `When client B logs in with the profile's user and password`
#[when(regex = r"^(the client|client \w+) logs in with the profile's user and password$")]
async fn logs_in(w: &mut World, who: String) -> StepResult {
    step!(w, user_pass(w, &client_name(&who)).await.map(|_| ()))
}

/// The PASS reply: +OK, or `-ERR [IN-USE]`, which says "the authentication
/// was successful, but the user's maildrop is currently in use" (RFC 2449
/// §8.1.2): another session of the run holds the lock (RFC 1939 §4). Either
/// way the server understood the command and accepted the credentials.
#[then(regex = r"^the server accepts the login, or answers that the maildrop is in use$")]
async fn accepts_login(w: &mut World) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        let text = reply.text();
        if reply.status == "+OK" || text.to_ascii_uppercase().starts_with("-ERR [IN-USE]") {
            return Ok(());
        }
        Err(Failure::conformance("the server refused the login")
            .expected(
                "+OK, or -ERR [IN-USE] (RFC 2449 §8.1.2) while another session holds the maildrop",
            )
            .got(format!("\"{}\"", escape_short(text.as_bytes(), 200))))
    })
}

/// Keeps message N's content (RETR) for a later comparison.
#[when(regex = r"^the client remembers message (\d+)$")]
async fn remembers(w: &mut World, n: usize) -> StepResult {
    step!(w, {
        let body = retrieve(w, "", n).await?;
        w.state::<Pop3State>().remembered.insert(n, body);
        Ok(())
    })
}

/// Closes the connection without QUIT (no UPDATE state: nothing may be
/// deleted, RFC 1939 §6).
#[when(regex = r"^the client drops the connection without QUIT$")]
async fn drops(w: &mut World) -> StepResult {
    step!(w, {
        let s = w.session("")?;
        s.conn
            .transcript()
            .event(&s.conn.name, "client closed the connection without QUIT");
        w.tcp.remove("");
        Ok(())
    })
}

/// In a new session, message N is what was remembered, byte for byte.
#[then(regex = r"^message (\d+) is unchanged in a new session$")]
async fn unchanged(w: &mut World, n: usize) -> StepResult {
    step!(w, {
        let before = remembered(w, n)?;
        login(w, "").await?;
        let reply = command(w, "", format!("RETR {n}").as_bytes()).await?;
        if reply.status != "+OK" {
            return Err(Failure::conformance(format!(
                "message {n} is gone in a new session: a session that ended without QUIT deleted it (RFC 1939 §6: only UPDATE deletes)"
            ))
            .expected(format!("+OK and message {n} as before"))
            .got(format!("\"{}\"", escape_short(reply.text().as_bytes(), 200))));
        }
        if reply.body != before {
            return Err(Failure::conformance(format!(
                "message {n} is a different message in a new session: the one marked deleted went away without QUIT (RFC 1939 §6)"
            ))
            .expected(format!("\"{}\"", escape_short(&before, 200)))
            .got(format!("\"{}\"", escape_short(&reply.body, 200))));
        }
        quit(w, "").await
    })
}

/// The TOP data is message N's header and the blank line after it.
#[then(regex = r"^the data is the header of message (\d+) and the blank line$")]
async fn top_zero(w: &mut World, n: usize) -> StepResult {
    step!(w, {
        let full = remembered(w, n)?;
        let header_end = full
            .windows(4)
            .position(|x| x == b"\r\n\r\n")
            .map(|i| i + 4)
            .unwrap_or(full.len());
        let want = &full[..header_end];
        let got = last_reply(w, "")?.body;
        if got == want {
            Ok(())
        } else {
            Err(Failure::conformance(
                "TOP n 0 did not return exactly the header and the blank line (RFC 1939 §7)",
            )
            .expected(format!("\"{}\"", escape_short(want, 300)))
            .got(format!("\"{}\"", escape_short(&got, 300))))
        }
    })
}

/// The content of message `n` as the scenario remembered it.
fn remembered(w: &mut World, n: usize) -> Result<Vec<u8>, Failure> {
    w.state::<Pop3State>()
        .remembered
        .get(&n)
        .cloned()
        .ok_or_else(|| Failure::harness(format!("the scenario never remembered message {n}")))
}

/// Data lines of the last reply, as text.
fn data_lines(reply: &Reply) -> Vec<String> {
    reply.lines.iter().skip(1).map(|l| l.text()).collect()
}

/// `n word` lines with ascending message numbers (RFC 1939 §5 LIST, §7 UIDL).
fn check_listing(reply: &Reply, what: &str, word_ok: fn(&str) -> bool) -> StepResult {
    let mut last = 0usize;
    for line in data_lines(reply) {
        let mut parts = line.split(' ');
        let n = parts.next().and_then(|n| n.parse::<usize>().ok());
        let word = parts.next();
        let ok = match (n, word, parts.next()) {
            (Some(n), Some(word), None) => n > last && word_ok(word),
            _ => false,
        };
        if !ok {
            return Err(Failure::conformance(format!("a malformed {what} line"))
                .expected(format!(
                    "\"<msg-number> <{what}>\" with ascending message numbers"
                ))
                .got(format!("\"{}\"", escape_short(line.as_bytes(), 200))));
        }
        last = n.unwrap_or(last);
    }
    Ok(())
}

/// Each line of the LIST data is `msg-number SP size`.
#[then(regex = r"^every line of the listing is a message number and a size$")]
async fn scan_listing(w: &mut World) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        check_listing(&reply, "size", |s| {
            !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
        })
    })
}

/// Each line of the UIDL data is `msg-number SP unique-id` (RFC 1939 §7).
#[then(regex = r"^every line of the listing is a message number and a unique-id$")]
async fn uid_listing(w: &mut World) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        // §7: a unique-id is 1 to 70 characters in the range 0x21 to 0x7E.
        check_listing(&reply, "unique-id", |s| {
            (1..=70).contains(&s.len()) && s.bytes().all(|b| (0x21..=0x7e).contains(&b))
        })
    })
}

/// LIST's count and total size agree with STAT's.
#[then(regex = r"^the scan listing agrees with STAT$")]
async fn listing_agrees(w: &mut World) -> StepResult {
    step!(w, {
        let listing = last_reply(w, "")?;
        let (mut count, mut total) = (0u64, 0u64);
        for line in data_lines(&listing) {
            count += 1;
            total += line
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0);
        }
        let stat = command(w, "", b"STAT").await?;
        let want = format!("+OK {count} {total}");
        let got = stat.text();
        // §5 STAT: "+OK" SP number-of-messages SP size-in-octets.
        let matches = got == want || got.starts_with(&format!("{want} "));
        if matches {
            Ok(())
        } else {
            Err(
                Failure::conformance("STAT disagrees with the scan listing (RFC 1939 §5)")
                    .expected(format!("\"{want}\""))
                    .got(format!("\"{}\"", escape_short(got.as_bytes(), 200))),
            )
        }
    })
}

/// The STAT reply is `+OK nn mm` (RFC 1939 §5).
#[then(regex = r"^the STAT reply is \+OK, a message count and a size$")]
async fn stat_form(w: &mut World) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        let text = reply.text();
        let mut parts = text.split(' ');
        let ok = parts.next() == Some("+OK")
            && parts
                .next()
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            && parts
                .next()
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if ok {
            Ok(())
        } else {
            Err(Failure::conformance("a malformed STAT reply (RFC 1939 §5)")
                .expected("\"+OK nn mm\"")
                .got(format!("\"{}\"", escape_short(text.as_bytes(), 200))))
        }
    })
}

/// RETR of message N sends as many octets as LIST reports for it.
#[then(regex = r"^message (\d+) has as many octets as LIST reports$")]
async fn size_matches(w: &mut World, n: usize) -> StepResult {
    step!(w, {
        let body = retrieve(w, "", n).await?;
        let reply = command(w, "", format!("LIST {n}").as_bytes()).await?;
        check_status(&reply, &["+OK".into()], &format!("to \"LIST {n}\""))?;
        let text = reply.text();
        let size = text.split(' ').nth(2).and_then(|s| s.parse::<usize>().ok());
        if size == Some(body.len()) {
            Ok(())
        } else {
            Err(Failure::conformance(format!(
                "LIST {n} does not give the size of the message RETR {n} sends (RFC 1939 §5: the exact size in octets)"
            ))
            .expected(format!("\"+OK {n} {}\"", body.len()))
            .got(format!("\"{}\"", escape_short(text.as_bytes(), 200))))
        }
    })
}

/// RETR and LIST of message N are refused with -ERR (it was deleted in this
/// session).
#[then(regex = r"^the server has no message (\d+) in this session$")]
async fn no_message(w: &mut World, n: usize) -> StepResult {
    step!(w, {
        for cmd in [format!("RETR {n}"), format!("LIST {n}")] {
            let reply = command(w, "", cmd.as_bytes()).await?;
            check_status(
                &reply,
                &["-ERR".into()],
                &format!("to \"{cmd}\" for a message marked deleted (RFC 1939 §5)"),
            )?;
        }
        // §5 LIST: "messages marked as deleted are not listed".
        let listing = command(w, "", b"LIST").await?;
        check_status(&listing, &["+OK".into()], "to LIST")?;
        let prefix = format!("{n} ");
        match data_lines(&listing)
            .into_iter()
            .find(|l| l.starts_with(&prefix))
        {
            None => Ok(()),
            Some(line) => Err(Failure::conformance(
                "LIST still shows a message marked deleted (RFC 1939 §5)",
            )
            .expected(format!("no line for message {n}"))
            .got(format!("\"{line}\""))),
        }
    })
}

// --- The SMTP → POP3 chain ---------------------------------------------------

/// A header that finds the message again among others: unique per scenario.
fn fresh_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    format!("conform-{:016x}", h.finish())
}

/// Delivers the message by SMTP (`[smtp]`) to the address, marked with a
/// fresh X-Conform-Id (`@needs-smtp`).
#[given(regex = r#"^a message "(.*)" delivered by SMTP to "(.*)"$"#)]
async fn delivered(w: &mut World, text: String, to: String) -> StepResult {
    step!(w, {
        let to = w.expand(&to)?;
        let id = fresh_id();
        let mut content = format!("X-Conform-Id: {id}\r\n").into_bytes();
        content.extend_from_slice(&payload(w, &text)?);
        super::smtp::deliver(w, "smtp", &to, &content).await?;
        w.state::<Pop3State>().delivered = Some((id, content));
        Ok(())
    })
}

/// Logs in and finds the delivered message by its id header (TOP n 0),
/// newest first; mail may take a moment to arrive after SMTP said 250.
async fn find_delivered(w: &mut World) -> Result<usize, Failure> {
    let (id, _) = w.state::<Pop3State>().delivered.clone().ok_or_else(|| {
        Failure::harness("the scenario looks for a delivered message before delivering one")
    })?;
    let needle = format!("X-Conform-Id: {id}");
    let deadline = tokio::time::Instant::now() + w.step_timeout * 3 / 4;
    loop {
        login(w, "").await?;
        let stat = command(w, "", b"STAT").await?;
        check_status(&stat, &["+OK".into()], "to STAT")?;
        let count = stat_count(&stat);
        for n in (1..=count).rev() {
            let top = command(w, "", format!("TOP {n} 0").as_bytes()).await?;
            check_status(
                &top,
                &["+OK".into()],
                &format!("to \"TOP {n} 0\" (RFC 1939 §7)"),
            )?;
            if top
                .lines
                .iter()
                .any(|l| l.text().eq_ignore_ascii_case(&needle))
            {
                w.state::<Pop3State>().found = Some(n);
                return Ok(n);
            }
        }
        quit(w, "").await?;
        if tokio::time::Instant::now() >= deadline {
            return Err(Failure::conformance(
                "the message that SMTP accepted for the POP3 user never showed up in the maildrop",
            )
            .expected(format!("a message with the header \"{needle}\""))
            .got(format!("{count} other messages")));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The number under which this session found the delivered message.
fn found_number(w: &mut World) -> Result<usize, Failure> {
    w.state::<Pop3State>()
        .found
        .ok_or_else(|| Failure::harness("the delivered message was not found in this session"))
}

/// A logged-in POP3 session that waits until the delivered message is in the
/// maildrop (delivery may be queued).
#[given(regex = r"^a POP3 session logged in that sees the delivered message$")]
async fn session_sees_delivered(w: &mut World) -> StepResult {
    step!(w, find_delivered(w).await.map(|_| ()))
}

/// DELE of the delivered message.
#[when(regex = r"^the client marks the delivered message deleted$")]
async fn marks_delivered(w: &mut World) -> StepResult {
    step!(w, {
        let n = found_number(w)?;
        let reply = command(w, "", format!("DELE {n}").as_bytes()).await?;
        check_status(
            &reply,
            &["+OK".into()],
            &format!("to \"DELE {n}\" (RFC 1939 §5)"),
        )
    })
}

/// A second session for `client` tries to log in while the first holds the
/// maildrop; where the server lets it in (answering PASS within a short
/// hold), it marks the delivered message deleted and QUITs. A -ERR, or no
/// answer yet (held back until the first session ends), ends it there.
#[when(
    regex = r"^client (\w+) deletes the delivered message in a second session, if the server lets it in$"
)]
async fn second_session_deletes(w: &mut World, client: String) -> StepResult {
    step!(w, {
        let (id, _) = w
            .state::<Pop3State>()
            .delivered
            .clone()
            .ok_or_else(|| Failure::harness("the scenario has no delivered message"))?;
        open(w, &client, true).await?;
        let user = w.expand("USER ${pop3.user}")?;
        let reply = command(w, &client, user.as_bytes()).await?;
        check_status(&reply, &["+OK".into()], "to USER (RFC 1939 §7)")?;
        let pass = w.expand("PASS ${pop3.password}")?;
        let conn = &mut w.session(&client)?.conn;
        conn.send(format!("{pass}\r\n").as_bytes()).await?;
        let hold = (w.step_timeout / 2).min(Duration::from_secs(2));
        let reply = match tokio::time::timeout(hold, next_reply(w, &client)).await {
            Err(_) => {
                let s = w.session(&client)?;
                s.conn.transcript().event(
                    &s.conn.name,
                    format!(
                        "no answer to PASS within {}: held back while the maildrop is locked",
                        humantime::format_duration(hold)
                    ),
                );
                w.tcp.remove(&client);
                return Ok(());
            }
            Ok(r) => r?,
        };
        if reply.status != "+OK" {
            w.tcp.remove(&client);
            return Ok(()); // refused: the first session keeps the maildrop
        }
        let needle = format!("X-Conform-Id: {id}");
        let stat = command(w, &client, b"STAT").await?;
        let count = stat_count(&stat);
        for n in (1..=count.min(1000)).rev() {
            let top = command(w, &client, format!("TOP {n} 0").as_bytes()).await?;
            if top
                .lines
                .iter()
                .any(|l| l.text().eq_ignore_ascii_case(&needle))
            {
                command(w, &client, format!("DELE {n}").as_bytes()).await?;
                break;
            }
        }
        quit(w, &client).await
    })
}

/// The first session still sends the delivered message (RETR by the number
/// it found); then deletes it, so the maildrop ends as it was found.
#[then(regex = r"^the client still retrieves the delivered message$")]
async fn still_retrieves(w: &mut World) -> StepResult {
    step!(w, {
        let n = found_number(w)?;
        let sent = w
            .state::<Pop3State>()
            .delivered
            .clone()
            .map(|d| d.1)
            .unwrap_or_default();
        let reply = command(w, "", format!("RETR {n}").as_bytes()).await?;
        let verdict = if reply.status == "+OK" && reply.body.ends_with(&sent) {
            Ok(())
        } else {
            Err(Failure::conformance(format!(
                "a second session removed message {n} from under this one before its UPDATE state (RFC 1939 §4: the lock is to prevent messages from being modified or removed)"
            ))
            .expected(format!("+OK to RETR {n} and the delivered message"))
            .got(format!("\"{}\"", escape_short(reply.text().as_bytes(), 200))))
        };
        // Leave the maildrop as found, whatever the verdict (QUIT may say
        // "-ERR some deleted messages not removed" where the other session
        // removed it: §6 allows that).
        let _ = command(w, "", format!("DELE {n}").as_bytes()).await?;
        let _ = command(w, "", b"QUIT").await?;
        w.tcp.remove("");
        verdict
    })
}

/// A header block of trace fields: every line a field (`Name:`) or a folded
/// continuation (starts with space or tab), each ending in CRLF.
fn is_trace_prefix(prefix: &[u8]) -> bool {
    let text = String::from_utf8_lossy(prefix);
    let Some(lines) = text.strip_suffix("\r\n").map(|t| t.split("\r\n")) else {
        return prefix.is_empty();
    };
    lines.into_iter().all(|l| {
        l.starts_with([' ', '\t'])
            || l.split_once(':').is_some_and(|(name, _)| {
                !name.is_empty() && name.bytes().all(|b| (33..=126).contains(&b))
            })
    })
}

/// RETR of the delivered message gives it byte for byte (dot-unstuffed).
#[then(regex = r"^POP3 retrieves the delivered message byte for byte$")]
async fn retrieves_byte_for_byte(w: &mut World) -> StepResult {
    step!(w, {
        let n = find_delivered(w).await?;
        let sent = w
            .state::<Pop3State>()
            .delivered
            .clone()
            .map(|d| d.1)
            .unwrap_or_default();
        let got = retrieve(w, "", n).await?;
        // RFC 5321 §4.4: servers add trace fields (Return-Path, Received…)
        // at the top; everything from the client must follow unchanged.
        let verdict = if got.ends_with(&sent) && is_trace_prefix(&got[..got.len() - sent.len()]) {
            Ok(())
        } else {
            Err(Failure::conformance(
                "the message retrieved by POP3 differs from the one sent by SMTP (dot-stuffing undone wrongly, or lines changed)",
            )
            .expected(format!("trace header fields, then \"{}\"", escape_short(&sent, 400)))
            .got(format!("\"{}\"", escape_short(&got, 600))))
        };
        // Leave the maildrop as it was found, whatever the verdict.
        let reply = command(w, "", format!("DELE {n}").as_bytes()).await?;
        check_status(&reply, &["+OK".into()], &format!("to \"DELE {n}\""))?;
        quit(w, "").await?;
        verdict
    })
}

/// A new session no longer has the delivered message.
#[then(regex = r"^the delivered message is gone in a new session$")]
async fn delivered_gone(w: &mut World) -> StepResult {
    step!(w, {
        let (id, _) = w.state::<Pop3State>().delivered.clone().unwrap_or_default();
        login(w, "").await?;
        let listing = command(w, "", b"LIST").await?;
        check_status(&listing, &["+OK".into()], "to LIST")?;
        let numbers: Vec<usize> = data_lines(&listing)
            .iter()
            .filter_map(|l| l.split(' ').next()?.parse().ok())
            .collect();
        for n in numbers {
            let top = command(w, "", format!("TOP {n} 0").as_bytes()).await?;
            if top.lines.iter().any(|l| l.text().contains(&id)) {
                // Clean up, then report.
                command(w, "", format!("DELE {n}").as_bytes()).await?;
                quit(w, "").await?;
                return Err(Failure::conformance(
                    "the message marked with DELE is still there after QUIT (RFC 1939 §6: UPDATE removes it)",
                )
                .expected("no message with the delivered id")
                .got(format!("message {n} still has \"X-Conform-Id: {id}\"")));
            }
        }
        quit(w, "").await
    })
}

/// A new session still has the delivered message.
#[then(regex = r"^the delivered message is still there in a new session$")]
async fn delivered_still_there(w: &mut World) -> StepResult {
    step!(w, {
        let n = find_delivered(w).await?;
        // Found: the session that ended without QUIT deleted nothing. Clean up.
        let reply = command(w, "", format!("DELE {n}").as_bytes()).await?;
        check_status(&reply, &["+OK".into()], &format!("to \"DELE {n}\""))?;
        quit(w, "").await
    })
}

#[cfg(test)]
mod tests {
    use super::is_trace_prefix;

    #[test]
    fn trace_prefixes() {
        assert!(is_trace_prefix(b""));
        assert!(is_trace_prefix(
            b"Return-Path: <a@b>\r\nReceived: from x\r\n\tby y\r\n"
        ));
        assert!(!is_trace_prefix(b"Return-Path: <a@b>\r\nnot a header\r\n"));
        assert!(!is_trace_prefix(b"Received: x"));
    }
}
