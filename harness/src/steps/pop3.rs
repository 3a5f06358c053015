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
use super::smtp::{is_trace_prefix, received_among};
use super::text::payload;
use super::{client_name, Failure, StepResult, World};
use crate::notation::escape_short;
use crate::step;
use crate::wire::pop3::Pop3Reader;
use crate::wire::{Reply, WireError};

#[derive(Default)]
pub struct Pop3State {
    /// Messages the client read, by number.
    remembered: BTreeMap<usize, Vec<u8>>,
    /// The message this scenario delivered by SMTP: its id header and the
    /// exact content sent.
    delivered: Option<(String, Vec<u8>)>,
    /// Its number in the current POP3 session, once found.
    found: Option<usize>,
    /// The ids of the messages placed in the Maildir, in order.
    placed: Vec<String>,
    /// Their numbers in the session that saw them.
    placed_numbers: Vec<usize>,
    /// How many messages that session's maildrop held.
    placed_total: usize,
    /// The placed messages (1-based) marked with DELE.
    placed_marked: Vec<usize>,
    /// The APOP timestamp of the greeting (RFC 1939 §7).
    timestamp: Option<String>,
}

/// Opens a POP3 connection; with `greet`, requires the +OK greeting (§4)
/// and, when the profile sets `[pop3] tls = "starttls"`, upgrades with
/// STLS before anything else, as a client whose policy is TLS does (the
/// greeting stays the session's last reply).
pub async fn open(w: &mut World, client: &str, greet: bool) -> StepResult {
    let reader = Arc::new(Pop3Reader::new());
    open_session(w, client, "pop3", "${pop3.address}", reader).await?;
    if greet {
        let greeting = next_reply(w, client).await?;
        check_status(&greeting, &["+OK".into()], "as the greeting (RFC 1939 §4)")?;
        if super::tls::mode(w, "pop3") == crate::wire::tls::Mode::StartTls {
            stls(w, client).await?;
            if let Some(s) = w.tcp.get_mut(client) {
                s.last_reply = Some(greeting);
                s.sent.clear();
            }
        }
    }
    Ok(())
}

/// STLS answered +OK (RFC 2595 §4), then the handshake. A refusal is a
/// configuration matter: the profile says the server upgrades.
async fn stls(w: &mut World, client: &str) -> StepResult {
    let reply = command(w, client, b"STLS").await?;
    if reply.status != "+OK" {
        return Err(Failure::harness(
            "the target profile sets [pop3] tls = \"starttls\", but the server did not answer STLS with +OK",
        )
        .got(format!("\"{}\"", escape_short(reply.text().as_bytes(), 200))));
    }
    super::tls::start(w, client).await
}

/// USER and PASS with the profile's account; the PASS reply is the last
/// reply. Does not judge it.
async fn user_pass(w: &mut World, client: &str) -> Result<Reply, Failure> {
    // Never the profile's password in plaintext when the profile says TLS.
    super::tls::guard_credentials(w, client)?;
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

/// The PASS reply to a wrong password: -ERR, and not "[IN-USE]", which
/// says "the authentication was successful" (RFC 2449 §8.1.2).
#[then(regex = r"^the server refuses the wrong password$")]
async fn refuses_password(w: &mut World) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        let text = reply.text();
        let in_use = text.to_ascii_uppercase().starts_with("-ERR [IN-USE]");
        if reply.status == "-ERR" && !in_use {
            return Ok(());
        }
        Err(Failure::conformance(
            "the server took a wrong password (RFC 1939 §7 PASS: -ERR \"invalid password\")",
        )
        .expected("-ERR (not [IN-USE]: that means the authentication succeeded, RFC 2449 §8.1.2)")
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

/// TOP n k (§7): "the headers of the message, the blank line separating
/// the headers from the body, and then the number of lines of the
/// indicated message's body"; more lines than the body has is the whole
/// message.
#[then(
    regex = r"^the data is the header of message (\d+) and the blank line(?:, then (\d+) body lines?)?$"
)]
async fn top_lines(w: &mut World, n: usize, lines: String) -> StepResult {
    step!(w, {
        let k: usize = lines.parse().unwrap_or(0);
        let full = remembered(w, n)?;
        let mut end = full
            .windows(4)
            .position(|x| x == b"\r\n\r\n")
            .map(|i| i + 4)
            .unwrap_or(full.len());
        for _ in 0..k {
            match full[end..].windows(2).position(|x| x == b"\r\n") {
                Some(i) => end += i + 2,
                None => end = full.len(),
            }
        }
        let want = &full[..end];
        let got = last_reply(w, "")?.body;
        if got == want {
            Ok(())
        } else {
            Err(Failure::conformance(format!(
                "TOP {n} {k} did not return exactly the header, the blank line and {k} body lines (RFC 1939 §7)"
            ))
            .expected(format!("\"{}\"", escape_short(want, 300)))
            .got(format!("\"{}\"", escape_short(&got, 300))))
        }
    })
}

/// RFC 1939 §4: after a negative answer to PASS (or APOP) "the server may close the
/// connection. If the server does not close the connection, the client may
/// either issue a new authentication command and start again, or ... QUIT":
/// the session is still in AUTHORIZATION, so STAT is refused, and a new
/// USER and PASS log in.
#[then(regex = r"^the server is back in the AUTHORIZATION state or has closed the connection$")]
async fn back_in_authorization(w: &mut World) -> StepResult {
    step!(w, {
        let s = w.session("")?;
        let framed = s.reader.frame(b"STAT");
        s.sent = b"STAT".to_vec();
        let read = match s.conn.send(&framed).await {
            Ok(()) => s.reader.read(&mut s.conn).await,
            Err(e) => Err(e),
        };
        let stat = match read {
            Ok(r) => r,
            // Closed (or reset) after the -ERR: allowed.
            Err(WireError::Closed { partial, .. }) if partial.is_empty() => return Ok(()),
            Err(WireError::Io { .. }) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if stat.status == "+OK" {
            return Err(Failure::conformance(
                "after a refused PASS or APOP the session is in the TRANSACTION state (RFC 1939 §4: a failed authentication leaves it in AUTHORIZATION)",
            )
            .expected("-ERR to STAT")
            .got(format!("\"{}\"", escape_short(stat.text().as_bytes(), 200))));
        }
        let reply = user_pass(w, "").await?;
        let text = reply.text();
        if reply.status == "+OK" || text.to_ascii_uppercase().starts_with("-ERR [IN-USE]") {
            return Ok(());
        }
        Err(Failure::conformance(
            "after a refused PASS or APOP, a new USER and PASS with the right password do not log in (RFC 1939 §4: the client \"may either issue a new authentication command and start again\")",
        )
        .expected("+OK, or -ERR [IN-USE]")
        .got(format!("\"{}\"", escape_short(text.as_bytes(), 200))))
    })
}

/// The timestamp of a greeting, "<…@…>" (RFC 1939 §7: the syntax of an
/// RFC 822 msg-id), if it carries one.
fn greeting_timestamp(greeting: &Reply) -> Option<String> {
    let text = greeting.text();
    let start = text.find('<')?;
    let len = text[start..].find('>')? + 1;
    let stamp = &text[start..start + len];
    (stamp.contains('@') && !stamp.contains(' ')).then(|| stamp.to_string())
}

/// Connects and reads a +OK greeting (RFC 1939 §4) for `client`, and its
/// APOP timestamp.
async fn greeted_timestamp(w: &mut World, client: &str) -> Result<Option<String>, Failure> {
    // Greeted (and, with `[pop3] tls = "starttls"`, upgraded: the timestamp
    // is the plaintext greeting's, which APOP inside TLS still uses).
    open(w, client, true).await?;
    let reply = last_reply(w, client)?;
    Ok(greeting_timestamp(&reply))
}

/// A greeted session whose greeting carries a timestamp, the mark of a
/// server that implements APOP (RFC 1939 §7); skipped without one.
#[given(regex = r"^a POP3 session whose greeting carries an APOP timestamp$")]
async fn session_with_timestamp(w: &mut World) -> StepResult {
    step!(w, {
        let Some(stamp) = greeted_timestamp(w, "").await? else {
            return Err(Failure::skip(
                "the greeting carries no timestamp, so the server does not offer APOP (RFC 1939 §7)",
            ));
        };
        w.state::<Pop3State>().timestamp = Some(stamp);
        Ok(())
    })
}

/// `APOP user digest`, the digest the MD5 of the greeting's timestamp and
/// the profile's password (RFC 1939 §7), or of a wrong password.
#[when(
    regex = r"^the client sends APOP with the digest of the timestamp and (the profile's|a wrong) password$"
)]
async fn sends_apop(w: &mut World, which: String) -> StepResult {
    step!(w, {
        let stamp = w
            .state::<Pop3State>()
            .timestamp
            .clone()
            .ok_or_else(|| Failure::harness("the scenario sends APOP before any timestamp"))?;
        let mut secret = w.expand("${pop3.password}")?;
        if which == "a wrong" {
            secret = format!("not-the-password-{secret}");
        }
        let digest = reference_servers::md5::hex(format!("{stamp}{secret}").as_bytes());
        let line = w.expand(&format!("APOP ${{pop3.user}} {digest}"))?;
        command(w, "", line.as_bytes()).await.map(|_| ())
    })
}

/// RFC 1939 §7: the timestamp "MUST be different each time the POP3 server
/// issues a banner greeting": a second connection's greeting has another.
#[then(regex = r"^a second connection's greeting carries another timestamp$")]
async fn another_timestamp(w: &mut World) -> StepResult {
    step!(w, {
        let first = w.state::<Pop3State>().timestamp.clone().unwrap_or_default();
        let second = greeted_timestamp(w, "second").await?;
        w.tcp.remove("second");
        match second {
            Some(s) if s != first => Ok(()),
            other => Err(Failure::conformance(
                "the APOP timestamp is the same in two greetings (RFC 1939 §7: it \"MUST be different each time the POP3 server issues a banner greeting\")",
            )
            .expected(format!("a timestamp other than {first}"))
            .got(other.unwrap_or_else(|| "a greeting without one".into()))),
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

/// The `n size` pairs of a scan listing (§5), in order.
fn scan_pairs(reply: &Reply) -> Vec<(usize, u64)> {
    data_lines(reply)
        .iter()
        .filter_map(|l| {
            let mut p = l.split(' ');
            Some((p.next()?.parse().ok()?, p.next()?.parse().ok()?))
        })
        .collect()
}

/// STAT and LIST, both +OK.
async fn stat_and_listing(w: &mut World) -> Result<(String, Vec<(usize, u64)>), Failure> {
    let stat = command(w, "", b"STAT").await?;
    check_status(&stat, &["+OK".into()], "to STAT (RFC 1939 §5)")?;
    let listing = command(w, "", b"LIST").await?;
    check_status(&listing, &["+OK".into()], "to LIST (RFC 1939 §5)")?;
    Ok((stat.text(), scan_pairs(&listing)))
}

/// The last reply is `+OK n size` for message N, as in the LIST data (RFC
/// 1939 §5).
#[then(regex = r"^the reply is the scan listing of message (\d+)$")]
async fn scan_line(w: &mut World, n: usize) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        let text = reply.text();
        // §5 LIST: "+OK" then the scan listing, "the message-number of the
        // message, followed by a single space and the exact size of the
        // message in octets" (anything after the size is the server's).
        let mut words = text.split(' ');
        let ok = words.next() == Some("+OK")
            && words.next() == Some(n.to_string().as_str())
            && words
                .next()
                .is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return Err(Failure::conformance(format!(
                "LIST {n} is not answered with the scan listing of message {n} (RFC 1939 §5)"
            ))
            .expected(format!("\"+OK {n} <size>\""))
            .got(format!("\"{}\"", escape_short(text.as_bytes(), 200))));
        }
        let size: u64 = text
            .split(' ')
            .nth(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let (_, pairs) = stat_and_listing(w).await?;
        match pairs.iter().find(|(m, _)| *m == n) {
            Some((_, s)) if *s == size => Ok(()),
            other => Err(Failure::conformance(format!(
                "LIST {n} and the full scan listing disagree on message {n}'s size (RFC 1939 §5: the exact size)"
            ))
            .expected(format!("\"{n} {size}\" in the listing"))
            .got(match other {
                Some((_, s)) => format!("\"{n} {s}\""),
                None => format!("no line for message {n}"),
            })),
        }
    })
}

#[derive(Default)]
struct Noted {
    listing: Vec<(usize, u64)>,
    uids: Vec<(usize, String)>,
}

/// LIST now, its scan listing kept for a later comparison.
#[when(regex = r"^the client notes the scan listing$")]
async fn notes_listing(w: &mut World) -> StepResult {
    step!(w, {
        let (_, listing) = stat_and_listing(w).await?;
        if listing.len() < 2 {
            return Err(Failure::harness(format!(
                "the scenario needs two messages but the maildrop holds {}; load the fixture messages (`conform fixtures`, maildir/)",
                listing.len()
            )));
        }
        w.state::<Noted>().listing = listing;
        Ok(())
    })
}

/// After DELE n: STAT counts only the messages left (§5 STAT: "messages
/// marked as deleted are not counted in either total") and every other
/// message keeps its number and size (§5 DELE: the number stays bound to
/// the deleted message; the others are not renumbered).
#[then(regex = r"^STAT and the scan listing are as noted without message (\d+)$")]
async fn as_noted_without(w: &mut World, n: usize) -> StepResult {
    step!(w, {
        let noted = std::mem::take(&mut w.state::<Noted>().listing);
        let want: Vec<(usize, u64)> = noted.iter().copied().filter(|(m, _)| *m != n).collect();
        let want_stat = format!(
            "+OK {} {}",
            want.len(),
            want.iter().map(|(_, s)| s).sum::<u64>()
        );
        let (stat, listing) = stat_and_listing(w).await?;
        if stat != want_stat && !stat.starts_with(&format!("{want_stat} ")) {
            return Err(Failure::conformance(format!(
                "STAT still counts message {n}, marked deleted (RFC 1939 §5: \"messages marked as deleted are not counted in either total\")"
            ))
            .expected(format!("\"{want_stat}\""))
            .got(format!("\"{}\"", escape_short(stat.as_bytes(), 200))));
        }
        if listing != want {
            let show = |l: &[(usize, u64)]| {
                l.iter()
                    .map(|(m, s)| format!("{m} {s}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(Failure::conformance(format!(
                "after DELE {n} the other messages are renumbered or changed (RFC 1939 §5: a deleted message's number is not reused in the session)"
            ))
            .expected(format!("the scan listing {}", show(&want)))
            .got(format!("the scan listing {}", show(&listing))));
        }
        Ok(())
    })
}

/// UIDL in this session, `(number, unique-id)`; a -ERR skips the scenario
/// (UIDL is optional, §7).
async fn uidl(w: &mut World) -> Result<Vec<(usize, String)>, Failure> {
    let reply = command(w, "", b"UIDL").await?;
    if reply.status != "+OK" {
        return Err(Failure::skip(format!(
            "the server does not implement UIDL (it answered \"{}\"); the command is optional (RFC 1939 §7)",
            escape_short(reply.text().as_bytes(), 100)
        )));
    }
    Ok(data_lines(&reply)
        .iter()
        .filter_map(|l| {
            let mut p = l.split(' ');
            Some((p.next()?.parse().ok()?, p.next()?.to_string()))
        })
        .collect())
}

/// §7 UIDL: the unique-id "uniquely identifies a message within a
/// maildrop and ... persists across sessions".
#[when(regex = r"^the client notes the unique-ids$")]
async fn notes_uids(w: &mut World) -> StepResult {
    step!(w, {
        let uids = uidl(w).await?;
        for (i, (n, u)) in uids.iter().enumerate() {
            if let Some((m, _)) = uids[..i].iter().find(|(_, v)| v == u) {
                return Err(Failure::conformance(format!(
                    "messages {m} and {n} share the unique-id \"{u}\" (RFC 1939 §7: it \"uniquely identifies a message within a maildrop\")"
                ))
                .expected("a different unique-id per message")
                .got(format!("\"{m} {u}\" and \"{n} {u}\"")));
            }
        }
        w.state::<Noted>().uids = uids;
        Ok(())
    })
}

/// A new session's UIDL gives every message the unique-id it had (RFC
/// 1939 §7: ids persist across sessions).
#[then(regex = r"^UIDL gives the same unique-ids in a new session$")]
async fn same_uids(w: &mut World) -> StepResult {
    step!(w, {
        let before = std::mem::take(&mut w.state::<Noted>().uids);
        quit(w, "").await?;
        login(w, "").await?;
        let after = uidl(w).await?;
        quit(w, "").await?;
        if after == before {
            return Ok(());
        }
        let show = |l: &[(usize, String)]| {
            l.iter()
                .map(|(m, u)| format!("{m} {u}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        Err(Failure::conformance(
            "the unique-ids changed between sessions (RFC 1939 §7: the unique-id \"persists across sessions\")",
        )
        .expected(show(&before))
        .got(show(&after)))
    })
}

/// The capability tags of a CAPA listing (RFC 2449 §5), upper-cased.
fn capability_tags(reply: &Reply) -> Vec<String> {
    data_lines(reply)
        .iter()
        .filter_map(|l| l.split(' ').next().map(str::to_ascii_uppercase))
        .filter(|t| !t.is_empty())
        .collect()
}

/// RFC 2449 §5: CAPA "is available in both the AUTHORIZATION and
/// TRANSACTION states", and "Capabilities available in the AUTHORIZATION
/// state MUST be announced in both states". The last reply is CAPA in
/// TRANSACTION; a second session asks it before login. STLS alone is
/// announced in AUTHORIZATION only (RFC 2595 §4). A server without CAPA
/// before login skips.
#[then(regex = r"^CAPA after login announces every capability CAPA announces before it$")]
async fn capa_both_states(w: &mut World) -> StepResult {
    step!(w, {
        let after = last_reply(w, "")?;
        open(w, "capa", true).await?;
        let before = command(w, "capa", b"CAPA").await?;
        let _ = command(w, "capa", b"QUIT").await;
        w.tcp.remove("capa");
        if before.status != "+OK" {
            return Err(Failure::skip(
                "the server does not implement CAPA (-ERR before login); RFC 2449 is an extension",
            ));
        }
        if after.status != "+OK" {
            return Err(Failure::conformance(
                "CAPA is refused after login (RFC 2449 §5: \"It is available in both the AUTHORIZATION and TRANSACTION states\")",
            )
            .expected("+OK and the capability list")
            .got(format!("\"{}\"", escape_short(after.text().as_bytes(), 200))));
        }
        let later = capability_tags(&after);
        let missing: Vec<String> = capability_tags(&before)
            .into_iter()
            .filter(|t| t != "STLS" && !later.contains(t))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(Failure::conformance(format!(
            "CAPA after login leaves out {} (RFC 2449 §5: \"Capabilities available in the AUTHORIZATION state MUST be announced in both states\")",
            missing.join(", ")
        ))
        .expected(format!("{} among the capabilities after login", missing.join(", ")))
        .got(later.join(" ")))
    })
}

/// The fixture message with lines that start with "." (its Message-ID).
const DOTS_ID: &str = "<fixture-2@crepes.fr>";

/// Finds the fixture message whose body has lines starting with ".", and
/// RETRs it; the last reply is its RETR reply.
#[when(regex = r#"^the client retrieves the fixture message with lines starting with "\."$"#)]
async fn retrieves_dots(w: &mut World) -> StepResult {
    step!(w, {
        let stat = command(w, "", b"STAT").await?;
        check_status(&stat, &["+OK".into()], "to STAT (RFC 1939 §5)")?;
        for n in 1..=stat_count(&stat).min(1000) {
            let top = command(w, "", format!("TOP {n} 0").as_bytes()).await?;
            let found = if top.status == "+OK" {
                top.body
            } else {
                // TOP is optional (§7): read the whole message instead.
                let r = command(w, "", format!("RETR {n}").as_bytes()).await?;
                r.body
            };
            let header = String::from_utf8_lossy(&found).to_ascii_lowercase();
            if header.contains(&format!("message-id: {}", DOTS_ID.to_ascii_lowercase())) {
                let reply = command(w, "", format!("RETR {n}").as_bytes()).await?;
                return check_status(&reply, &["+OK".into()], &format!("to \"RETR {n}\""));
            }
        }
        Err(Failure::harness(format!(
            "no message with Message-ID {DOTS_ID} in the maildrop; load the fixture messages (`conform fixtures`, maildir/)"
        )))
    })
}

/// The fixture message's body as RFC 1939 §3 sends it: each line that
/// starts with "." gets one more ".".
fn stuffed_body(message: &[u8]) -> Vec<Vec<u8>> {
    let text = message
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let mut lines: Vec<&[u8]> = text.collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let blank = lines
        .iter()
        .position(|l| l.is_empty())
        .map(|i| i + 1)
        .unwrap_or(0);
    lines[blank..]
        .iter()
        .map(|l| {
            let mut v = Vec::new();
            if l.first() == Some(&b'.') {
                v.push(b'.');
            }
            v.extend_from_slice(l);
            v
        })
        .collect()
}

/// Judges the RETR reply on the wire, before the reader's unstuffing: the
/// body lines must be the fixture's, byte-stuffed (§3: "If any line begins
/// with the termination octet, the line is "byte-stuffed" by pre-pending
/// the termination octet to that line of the response").
#[then(regex = r#"^every line of it that starts with "\." came with one more "\." on the wire$"#)]
async fn byte_stuffed(w: &mut World) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        let fixture = crate::fixtures::mail::MESSAGES
            .iter()
            .map(|(_, m)| *m)
            .find(|m| String::from_utf8_lossy(m).contains(DOTS_ID))
            .ok_or_else(|| Failure::harness("no fixture message with lines starting with \".\""))?;
        let want = stuffed_body(fixture);
        // The wire lines after the status line, from the blank line on.
        let wire: Vec<Vec<u8>> = reply
            .lines
            .iter()
            .skip(1)
            .map(|l| l.bytes.clone())
            .collect();
        let got = match wire.iter().position(|l| l.is_empty()) {
            Some(i) => wire[i + 1..].to_vec(),
            None => vec![],
        };
        if got == want {
            return Ok(());
        }
        let show = |l: &[Vec<u8>]| {
            let joined: Vec<u8> = l.join(&b"\r\n"[..]);
            format!("\"{}\"", escape_short(&joined, 400))
        };
        Err(Failure::conformance(
            "the message's lines that start with \".\" were not byte-stuffed on the wire (RFC 1939 §3), or the body differs",
        )
        .expected(format!("the body lines {} then \".\"", show(&want)))
        .got(format!("the body lines {}", show(&got))))
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

/// Marks `content` with a fresh id header and remembers it as the
/// scenario's delivered message; returns the marked content.
pub(crate) fn mark_delivered(w: &mut World, content: &[u8]) -> Vec<u8> {
    let id = fresh_id();
    let mut marked = format!("X-Conform-Id: {id}\r\n").into_bytes();
    marked.extend_from_slice(content);
    w.state::<Pop3State>().delivered = Some((id, marked.clone()));
    marked
}

/// Delivers the message by SMTP (`[smtp]`) to the address, marked with a
/// fresh X-Conform-Id (`@needs-smtp`).
#[given(regex = r#"^a message "(.*)" delivered by SMTP to "(.*)"$"#)]
async fn delivered(w: &mut World, text: String, to: String) -> StepResult {
    step!(w, {
        let to = w.expand(&to)?;
        let text = payload(w, &text)?;
        let content = mark_delivered(w, &text);
        super::smtp::deliver(w, "smtp", &to, &content).await
    })
}

/// Places the message, marked with a fresh X-Conform-Id, in `new/` of the
/// profile's `[pop3] maildir` (the user's Maildir, writable by conform), as
/// a local delivery agent would: written in `tmp/`, then moved (the Maildir
/// convention), with LF line ends. Skips without the key, so a server
/// without a Maildir conform can write to is not judged by it.
/// Example: `Given a message "From: alice@crepes.fr\r\nSubject: Hi\r\n\r\nHi.\r\n" placed in the POP3 user's Maildir`
#[given(regex = r#"^a message "(.*)" placed in the POP3 user's Maildir$"#)]
async fn placed(w: &mut World, text: String) -> StepResult {
    step!(w, {
        let text = payload(w, &text)?;
        place(w, &text)
    })
}

/// Places `content`, marked, in the profile's `pop3.maildir` (see
/// [`placed`]); it becomes the scenario's delivered message.
fn place(w: &mut World, text: &[u8]) -> StepResult {
    {
        let Some(dir) = w
            .profile()
            .get("pop3.maildir")
            .map(std::path::PathBuf::from)
        else {
            return Err(Failure::skip(
                "the target profile sets no pop3.maildir, so no message can be placed in the user's maildrop without SMTP",
            ));
        };
        if !dir.join("new").is_dir() || !dir.join("tmp").is_dir() {
            return Err(Failure::harness(format!(
                "pop3.maildir \"{}\" holds no new/ and tmp/: set it to the [pop3] user's Maildir",
                dir.display()
            )));
        }
        let content = mark_delivered(w, text);
        let (id, _) = delivered_message(w)?;
        let lf: Vec<u8> = content.iter().copied().filter(|b| *b != b'\r').collect();
        let name = format!("{id}.conform");
        let (tmp, new) = (dir.join("tmp").join(&name), dir.join("new").join(&name));
        std::fs::write(&tmp, &lf)
            .and_then(|_| std::fs::rename(&tmp, &new))
            .map_err(|e| {
                Failure::harness(format!(
                    "cannot place the message in pop3.maildir ({}): {e}",
                    dir.display()
                ))
            })?;
        w.transcript
            .event("maildir", format!("placed {}", new.display()));
        Ok(())
    }
}

/// Places N messages, one after the other, in the POP3 user's Maildir
/// (see `a message … placed in the POP3 user's Maildir`); they are the
/// placed messages 1 to N of the scenario.
#[given(regex = r"^(\d+) messages placed in the POP3 user's Maildir$")]
async fn placed_several(w: &mut World, count: usize) -> StepResult {
    step!(w, {
        let mut ids = Vec::with_capacity(count);
        for i in 1..=count {
            let text = format!(
                "From: alice@crepes.fr\r\nTo: bob@example.test\r\nSubject: Placed {i}\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n\r\nPlaced message {i}.\r\n"
            );
            place(w, text.as_bytes())?;
            ids.push(delivered_message(w)?.0);
        }
        w.state::<Pop3State>().placed = ids;
        Ok(())
    })
}

/// The maildrop's messages by number, each with its X-Conform-Id (if any),
/// read with STAT and TOP n 0 in the logged-in session.
async fn conform_ids(w: &mut World) -> Result<Vec<(usize, Option<String>)>, Failure> {
    let stat = command(w, "", b"STAT").await?;
    check_status(&stat, &["+OK".into()], "to STAT")?;
    let listing = command(w, "", b"LIST").await?;
    check_status(&listing, &["+OK".into()], "to LIST")?;
    let numbers: Vec<usize> = data_lines(&listing)
        .iter()
        .filter_map(|l| l.split(' ').next()?.parse().ok())
        .collect();
    let mut out = Vec::with_capacity(numbers.len());
    for n in numbers {
        let top = command(w, "", format!("TOP {n} 0").as_bytes()).await?;
        check_status(
            &top,
            &["+OK".into()],
            &format!("to \"TOP {n} 0\" (RFC 1939 §7)"),
        )?;
        let id = top.lines.iter().find_map(|l| {
            let t = l.text();
            let (name, value) = t.split_once(':')?;
            name.eq_ignore_ascii_case("X-Conform-Id")
                .then(|| value.trim().to_string())
        });
        out.push((n, id));
    }
    Ok(out)
}

/// Logs in and finds every placed message by its id; fails when one is
/// missing. Remembers their numbers and the size of the maildrop.
#[given(regex = r"^a POP3 session logged in that sees the placed messages$")]
async fn session_sees_placed(w: &mut World) -> StepResult {
    step!(w, {
        login(w, "").await?;
        let all = conform_ids(w).await?;
        let placed = w.state::<Pop3State>().placed.clone();
        let mut numbers = Vec::with_capacity(placed.len());
        for (i, id) in placed.iter().enumerate() {
            let n = all
                .iter()
                .find(|(_, got)| got.as_deref() == Some(id.as_str()))
                .map(|(n, _)| *n)
                .ok_or_else(|| {
                    Failure::conformance(
                        "a message placed in the user's Maildir is not in the maildrop",
                    )
                    .expected(format!(
                        "placed message {} with \"X-Conform-Id: {id}\"",
                        i + 1
                    ))
                    .got(format!("{} messages without it", all.len()))
                })?;
            numbers.push(n);
        }
        let st = w.state::<Pop3State>();
        st.placed_numbers = numbers;
        st.placed_total = all.len();
        Ok(())
    })
}

/// The placed messages named in a list such as "1 and 3" or "1, 2 and 4".
fn placed_list(list: &str) -> Vec<usize> {
    list.split([',', ' '])
        .filter_map(|t| t.trim().parse().ok())
        .collect()
}

/// DELE of each named placed message, each answered +OK (RFC 1939 §5).
#[when(regex = r"^the client marks placed messages (.+) deleted$")]
async fn marks_placed(w: &mut World, list: String) -> StepResult {
    step!(w, {
        let numbers = w.state::<Pop3State>().placed_numbers.clone();
        let marked = placed_list(&list);
        for i in &marked {
            let n = *numbers.get(i.wrapping_sub(1)).ok_or_else(|| {
                Failure::harness(format!("there is no placed message {i} in this session"))
            })?;
            let reply = command(w, "", format!("DELE {n}").as_bytes()).await?;
            check_status(
                &reply,
                &["+OK".into()],
                &format!("to \"DELE {n}\" (RFC 1939 §5)"),
            )?;
        }
        w.state::<Pop3State>().placed_marked = marked;
        Ok(())
    })
}

/// RFC 1939 §6: QUIT in the TRANSACTION state "removes all messages marked
/// as deleted from the maildrop", and nothing else: in a new session the
/// marked placed messages are gone, the others are there, and the maildrop
/// is smaller by exactly the number marked. The placed messages left are
/// deleted again, so the maildrop ends as found.
#[then(regex = r"^a new session has exactly the placed messages that were not marked$")]
async fn exactly_unmarked_left(w: &mut World) -> StepResult {
    step!(w, {
        let (placed, marked, total) = {
            let st = w.state::<Pop3State>();
            (st.placed.clone(), st.placed_marked.clone(), st.placed_total)
        };
        w.tcp.remove("");
        login(w, "").await?;
        let all = conform_ids(w).await?;
        let mut problems = Vec::new();
        for (i, id) in placed.iter().enumerate() {
            let here = all
                .iter()
                .find(|(_, got)| got.as_deref() == Some(id.as_str()));
            let wanted = !marked.contains(&(i + 1));
            match (here, wanted) {
                (Some((n, _)), true) => {
                    command(w, "", format!("DELE {n}").as_bytes()).await?;
                }
                (Some((n, _)), false) => {
                    problems.push(format!(
                        "placed message {} (marked) is still there as {n}",
                        i + 1
                    ));
                    command(w, "", format!("DELE {n}").as_bytes()).await?;
                }
                (None, true) => {
                    problems.push(format!("placed message {} (not marked) is gone", i + 1))
                }
                (None, false) => {}
            }
        }
        let want_total = total.saturating_sub(marked.len());
        if problems.is_empty() && all.len() != want_total {
            problems.push(format!(
                "the maildrop went from {total} to {} messages",
                all.len()
            ));
        }
        quit(w, "").await?;
        if problems.is_empty() {
            return Ok(());
        }
        Err(Failure::conformance(
            "QUIT did not remove exactly the messages marked with DELE (RFC 1939 §6: the UPDATE state \"removes all messages marked as deleted from the maildrop\")",
        )
        .expected(format!(
            "placed messages {marked:?} gone, the others there, {want_total} messages in all"
        ))
        .got(problems.join("; ")))
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
        let all = conform_ids(w).await?;
        let count = all.len();
        if let Some((n, _)) = all
            .iter()
            .find(|(_, got)| got.as_deref() == Some(id.as_str()))
        {
            w.state::<Pop3State>().found = Some(*n);
            return Ok(*n);
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
        // (That a Received: is among them is the §4.4 scenario's check.)
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

/// The id header and the exact content of the message this scenario
/// delivered by SMTP.
pub(crate) fn delivered_message(w: &mut World) -> Result<(String, Vec<u8>), Failure> {
    w.state::<Pop3State>().delivered.clone().ok_or_else(|| {
        Failure::harness("the scenario looks for a delivered message before delivering one")
    })
}

/// RETR of the delivered message gives it whole, after trace header
/// fields the server added (RFC 5321 §4.4).
#[then(regex = r"^POP3 retrieves the delivered message behind a Received: trace field$")]
async fn retrieves_with_received(w: &mut World) -> StepResult {
    step!(w, {
        let n = find_delivered(w).await?;
        let (_, sent) = delivered_message(w)?;
        let got = retrieve(w, "", n).await?;
        let verdict = received_among(&got, &sent);
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
        for (n, got) in conform_ids(w).await? {
            if got.as_deref() == Some(id.as_str()) {
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

// ---- STLS (RFC 2595 §4) ----

/// Skips unless `[pop3] tls = "starttls"`; then a greeted cleartext session
/// whose CAPA announces STLS (its absence is a configuration error: the
/// profile says the server upgrades).
#[given(regex = r"^a POP3 session on the cleartext connection that announces STLS$")]
async fn cleartext_announcing_stls(w: &mut World) -> StepResult {
    step!(w, {
        super::tls::require_starttls(w, "pop3")?;
        let reader = Arc::new(Pop3Reader::new());
        open_session(w, "", "pop3", "${pop3.address}", reader).await?;
        let greeting = next_reply(w, "").await?;
        check_status(&greeting, &["+OK".into()], "as the greeting (RFC 1939 §4)")?;
        let capa = command(w, "", b"CAPA").await?;
        if !capability_tags(&capa).iter().any(|t| t == "STLS") {
            return Err(Failure::harness(
                "the target profile sets [pop3] tls = \"starttls\", but CAPA does not announce STLS",
            )
            .got(format!("\"{}\"", escape_short(capa.text().as_bytes(), 300))));
        }
        Ok(())
    })
}

/// A greeted session inside TLS: upgraded by STLS, or on the implicit-TLS
/// port; skipped when the profile gives `[pop3]` no TLS.
#[given(regex = r"^a POP3 session in TLS$")]
async fn pop3_in_tls(w: &mut World) -> StepResult {
    step!(w, {
        match super::tls::mode(w, "pop3") {
            crate::wire::tls::Mode::None => Err(Failure::skip(
                "the target profile does not set [pop3] tls (see README, target profile)",
            )),
            _ => open(w, "", true).await,
        }
    })
}

/// Sends `STLS` and the command in one write (one segment). A refused STLS
/// is fine; after its +OK, the handshake (a server that takes the
/// pipelined plaintext as handshake data fails it: nothing runs inside
/// TLS); inside TLS nothing may arrive before the client's first command,
/// and NOOP must be answered by its own +OK.
/// (The step is `steps::tls`'s, which dispatches by the session's protocol.)
pub(crate) async fn injection_not_executed(w: &mut World, injected: &str) -> StepResult {
    let bytes = format!("STLS\r\n{injected}\r\n");
    let s = w.session("")?;
    s.conn
        .send_as(bytes.as_bytes(), crate::wire::Segments::OneWrite)
        .await?;
    s.sent = b"STLS".to_vec();
    let reply = next_reply(w, "").await?;
    if reply.status != "+OK" {
        return Ok(());
    }
    if !super::tls::start_after_pipelined(w, "pop3", "nothing ran inside TLS").await? {
        return Ok(());
    }
    super::tls::silent_until_asked(w, injected, "STLS").await?;
    // NOOP is a TRANSACTION command (RFC 1939 §5): -ERR is its answer here;
    // a capability list instead would be the injected CAPA's.
    let noop = command(w, "", b"NOOP").await?;
    check_status(
        &noop,
        &["+OK".into(), "-ERR".into()],
        "to NOOP, the first command inside TLS",
    )?;
    if noop.text().to_ascii_lowercase().contains("capa") {
        return Err(Failure::conformance(format!(
            "the first reply inside TLS answers \"{injected}\", sent in plaintext behind STLS"
        ))
        .got(format!("\"{}\"", escape_short(noop.text().as_bytes(), 300))));
    }
    Ok(())
}

/// CAPA, asked now, does not list the capability.
/// Example: `Then CAPA does not announce "STLS"`
#[then(regex = r#"^CAPA does not announce "(.*)"$"#)]
async fn capa_lacks(w: &mut World, tag: String) -> StepResult {
    step!(w, {
        let capa = command(w, "", b"CAPA").await?;
        if capability_tags(&capa)
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&tag))
        {
            return Err(Failure::conformance(format!("CAPA announces {tag}"))
                .expected(format!("no {tag}"))
                .got(format!("\"{}\"", escape_short(capa.text().as_bytes(), 300))));
        }
        Ok(())
    })
}
