//! Steps of the smtp-client suite: the SMTP peer (`crate::peer::smtp`) is
//! scripted by the Givens, the mail client under test (`[smtp-client]
//! command`, with `{host}`, `{port}`, `{from}`, `{to}`) sends one message
//! read from its standard input, and the Thens judge the commands and the
//! message data exactly as the peer received them.

use std::time::Duration;

use cucumber::{given, then, when};

use super::peer::{account, seconds, settle, start_client, Peers};
use super::text::payload;
use super::{Failure, StepResult, World};
use crate::notation::escape_short;
use crate::peer::smtp::{self, Session, SmtpPeer};
use crate::step;

/// The envelope of every message the suite has sent.
pub const FROM: &str = "alice@crepes.fr";
pub const TO: &str = "bob@example.test";

/// An SMTP server peer for the mail client under test (scripted replies, 250 unless a step says otherwise).
#[given("an SMTP peer")]
async fn smtp_peer(w: &mut World) -> StepResult {
    step!(w, {
        w.state::<Peers>().smtp_script = smtp::Script::default();
        Ok(())
    })
}

/// The SMTP peer sends its 220 greeting only after N seconds.
#[given(regex = r"^the SMTP peer greets only after ([0-9.]+) seconds?$")]
async fn greets_after(w: &mut World, secs: String) -> StepResult {
    step!(w, {
        let d = seconds(&secs)?;
        w.state::<Peers>().smtp_script.greeting_delay = d;
        Ok(())
    })
}

/// The SMTP peer answers EHLO with 500, as a server that knows only HELO.
#[given("the SMTP peer does not know EHLO")]
async fn no_ehlo(w: &mut World) -> StepResult {
    step!(w, {
        w.state::<Peers>().smtp_script.extensions = None;
        Ok(())
    })
}

/// The SMTP peer's EHLO reply announces only these extensions.
#[given(regex = r#"^the SMTP peer announces only "(.*)"$"#)]
async fn announces(w: &mut World, exts: String) -> StepResult {
    step!(w, {
        let list = exts
            .split(',')
            .map(|e| e.trim().to_string())
            .filter(|e| !e.is_empty())
            .collect();
        w.state::<Peers>().smtp_script.extensions = Some(list);
        Ok(())
    })
}

/// `\n` in the text separates the lines of a multi-line reply.
#[given(
    regex = r#"^the SMTP peer answers (EHLO|HELO|MAIL|RCPT|DATA|RSET|QUIT|the end of the data) with "(.*)"$"#
)]
async fn answers_with(w: &mut World, verb: String, text: String) -> StepResult {
    step!(w, {
        let verb = if verb.starts_with("the end") {
            ".".to_string()
        } else {
            verb
        };
        let text = String::from_utf8_lossy(&payload(w, &text)?).into_owned();
        w.state::<Peers>().smtp_script.replies.push((verb, text));
        Ok(())
    })
}

/// The SMTP peer waits N seconds before each reply.
#[given(regex = r"^the SMTP peer waits ([0-9.]+) seconds? before each reply$")]
async fn reply_delay(w: &mut World, secs: String) -> StepResult {
    step!(w, {
        let d = seconds(&secs)?;
        w.state::<Peers>().smtp_script.reply_delay = d;
        Ok(())
    })
}

/// The SMTP peer pauses N seconds before the last line of each multi-line reply.
#[given(
    regex = r"^the SMTP peer pauses ([0-9.]+) seconds? before the last line of a multi-line reply$"
)]
async fn last_line_pause(w: &mut World, secs: String) -> StepResult {
    step!(w, {
        let d = seconds(&secs)?;
        w.state::<Peers>().smtp_script.last_line_pause = d;
        Ok(())
    })
}

/// The message a mail client is given: RFC 5322 header fields and a body,
/// with LF line ends as in a text file (the client sends CRLF).
fn message(body: &str, from: &str, to: &str) -> String {
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    // `Wed, 02 Dec 2026 00:40:00 GMT` is RFC 5322 §3.3 date-time with an
    // obsolete zone; the +0000 form is the current one.
    let date = date.replace(" GMT", " +0000");
    let id = super::sockets::random_sentence()
        .iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(|b| *b as char)
        .collect::<String>();
    format!(
        "Date: {date}\nFrom: Alice <{from}>\nTo: Bob <{to}>\nSubject: conform test message\nMessage-ID: <{id}@crepes.fr>\n\n{body}"
    )
}

/// A random mailbox at `domain`, such as `romeo.kilo4711@crepes.fr`: two
/// words of a random sentence and its number. Only its lower-case words of
/// letters and digits are taken (the sentence also has `[h]`, `@j`, `e.f`…,
/// which are not atext or would break the dot-atom, RFC 5322 §3.2.3), so the
/// local part is always a valid dot-atom a client can send as given.
fn random_address(domain: &str) -> String {
    let s = String::from_utf8_lossy(&super::sockets::random_sentence()).into_owned();
    let mut words: Vec<&str> = s.split(' ').collect();
    let number = words.pop().unwrap_or("0");
    let plain: Vec<&str> = words
        .into_iter()
        .filter(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        .take(2)
        .collect();
    let two = match plain.as_slice() {
        [] => "mail".to_string(),
        some => some.join("."),
    };
    format!("{two}{number}@{domain}")
}

/// Runs the mail client under test to send one message (optionally from a random sender to a random recipient, `${from}` and `${to}` in later steps; optionally with this body) through the SMTP peer.
#[when(
    regex = r#"^the mail client under test sends a message( from a random sender to a random recipient)?(?: with the body "(.*)")?$"#
)]
async fn sends_message(w: &mut World, random: String, body: String) -> StepResult {
    step!(w, {
        let body = if body.is_empty() {
            "Hello Bob,\nthis is a test message from conform.\n".to_string()
        } else {
            String::from_utf8_lossy(&payload(w, &body)?).into_owned()
        };
        // A random envelope catches a program that hard-codes the
        // addresses instead of sending the ones it is given.
        let (from, to) = if random.is_empty() {
            (FROM.to_string(), TO.to_string())
        } else {
            (random_address("crepes.fr"), random_address("example.test"))
        };
        w.vars.insert("from".into(), from.clone());
        w.vars.insert("to".into(), to.clone());
        let msg = message(&body, &from, &to);
        let script = w.state::<Peers>().smtp_script.clone();
        let peer = SmtpPeer::start(script, &w.transcript)
            .await
            .map_err(|e| Failure::harness(format!("cannot start the SMTP peer: {e}")))?;
        let port = peer.addr.port();
        let p = w.state::<Peers>();
        p.smtp = Some(peer);
        p.input = msg.clone().into_bytes();
        start_client(
            w,
            "smtp-client",
            "command",
            port,
            &[("from", &from), ("to", &to)],
            msg.into_bytes(),
        )
        .await
    })
}

/// The first session, once the client has ended (or was killed).
async fn session(w: &mut World) -> Result<Session, Failure> {
    let wait = w
        .step_timeout
        .saturating_sub(Duration::from_millis(1500))
        .max(Duration::from_millis(500));
    if !settle(w, wait).await {
        return Err(Failure::harness(
            "the scenario judges the mail client before running it",
        ));
    }
    let sessions = w
        .state::<Peers>()
        .smtp
        .as_ref()
        .map(|p| p.sessions())
        .unwrap_or_default();
    match sessions.into_iter().next() {
        Some(s) => Ok(s),
        None => Err(Failure::conformance(
            "the mail client under test never connected to the SMTP peer",
        )
        .got(account(w))),
    }
}

fn commands_text(s: &Session) -> String {
    if s.commands.is_empty() {
        return "no command".into();
    }
    s.commands
        .iter()
        .map(|c| escape_short(&c.line, 60))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The transaction got as far as the message: the checks of the data and
/// of QUIT are not vacuous.
fn delivered(s: &Session, w: &mut World) -> Result<(), Failure> {
    if s.data.is_empty() {
        return Err(
            Failure::conformance("the mail client under test sent no message data")
                .expected("EHLO/HELO, MAIL, RCPT, DATA, the message, QUIT")
                .got(format!("{}; {}", commands_text(s), account(w))),
        );
    }
    Ok(())
}

/// The client sent nothing before the peer's greeting.
#[then("the SMTP peer receives nothing before its greeting")]
async fn nothing_before_greeting(w: &mut World) -> StepResult {
    step!(w, {
        let s = session(w).await?;
        if !s.before_greeting.is_empty() {
            return Err(Failure::conformance(
                "the client sent a command before the server's greeting",
            )
            .expected("nothing until the 220 greeting")
            .got(format!("\"{}\"", escape_short(&s.before_greeting, 120))));
        }
        if s.commands.is_empty() {
            return Err(Failure::conformance(
                "the client sent no command after the greeting either",
            )
            .got(account(w)));
        }
        Ok(())
    })
}

/// The client's first command was EHLO (or HELO).
#[then(regex = r"^the first command the SMTP peer receives is (EHLO|HELO)$")]
async fn first_is(w: &mut World, verb: String) -> StepResult {
    step!(w, {
        let s = session(w).await?;
        match s.commands.first() {
            Some(c) if c.verb == verb => Ok(()),
            _ => Err(
                Failure::conformance(format!("the session does not start with {verb}"))
                    .expected(format!("{verb} first"))
                    .got(commands_text(&s)),
            ),
        }
    })
}

/// After the peer refused EHLO, the client sent HELO.
#[then("the SMTP peer receives HELO after refusing EHLO")]
async fn helo_after_ehlo(w: &mut World) -> StepResult {
    step!(w, {
        let s = session(w).await?;
        let refused = s
            .commands
            .iter()
            .position(|c| c.verb == "EHLO" && c.reply.starts_with('5'));
        let helo = s.commands.iter().position(|c| c.verb == "HELO");
        match (refused, helo) {
            (Some(e), Some(h)) if h > e => delivered(&s, w),
            _ => Err(Failure::conformance(
                "the client did not fall back to HELO after EHLO was refused with 500",
            )
            .expected("EHLO (500), then HELO, then the transaction")
            .got(format!("{}; {}", commands_text(&s), account(w)))),
        }
    })
}

/// The client sent EHLO or HELO before MAIL.
#[then("the SMTP peer receives EHLO or HELO before MAIL")]
async fn hello_before_mail(w: &mut World) -> StepResult {
    step!(w, {
        let s = session(w).await?;
        let mail = s.commands.iter().position(|c| c.verb == "MAIL");
        let hello = s
            .commands
            .iter()
            .position(|c| c.verb == "EHLO" || c.verb == "HELO");
        match (hello, mail) {
            (Some(h), Some(m)) if h < m => Ok(()),
            (_, None) => Err(
                Failure::conformance("the client sent no MAIL command").got(format!(
                    "{}; {}",
                    commands_text(&s),
                    account(w)
                )),
            ),
            _ => Err(Failure::conformance("MAIL came before any EHLO or HELO")
                .expected("EHLO or HELO, then MAIL")
                .got(commands_text(&s))),
        }
    })
}

/// The client sent a MAIL or RCPT command starting with this text.
#[then(regex = r#"^the SMTP peer receives a (MAIL|RCPT) command starting with "(.*)"$"#)]
async fn command_starting(w: &mut World, verb: String, start: String) -> StepResult {
    step!(w, {
        let s = session(w).await?;
        let start = String::from_utf8_lossy(&payload(w, &start)?).into_owned();
        let of_verb: Vec<_> = s.commands.iter().filter(|c| c.verb == verb).collect();
        if of_verb.is_empty() {
            return Err(
                Failure::conformance(format!("the client sent no {verb} command")).got(format!(
                    "{}; {}",
                    commands_text(&s),
                    account(w)
                )),
            );
        }
        // The verb and "FROM:"/"TO:" are case-insensitive (RFC 5321 §2.4),
        // the path is compared as written.
        let n = start.find('<').unwrap_or(start.len());
        let ok = of_verb.iter().any(|c| {
            let t = c.text();
            t.len() >= start.len()
                && t[..n].eq_ignore_ascii_case(&start[..n])
                && t.get(n..start.len()) == Some(&start[n..])
        });
        if ok {
            Ok(())
        } else {
            Err(Failure::conformance(format!(
                "the {verb} command does not have the form the RFC's syntax requires"
            ))
            .expected(format!("\"{start}…\""))
            .got(
                of_verb
                    .iter()
                    .map(|c| format!("\"{}\"", c.text()))
                    .collect::<Vec<_>>()
                    .join(", "),
            ))
        }
    })
}

/// Every command line the peer received ends in CRLF.
#[then("every command line the SMTP peer receives ends in CRLF")]
async fn commands_crlf(w: &mut World) -> StepResult {
    step!(w, {
        let s = session(w).await?;
        if s.commands.is_empty() {
            return Err(Failure::conformance("the client sent no command").got(account(w)));
        }
        match s.commands.iter().find(|c| !c.crlf) {
            None => Ok(()),
            Some(c) => Err(Failure::conformance("a command line ends in a bare LF")
                .expected("CRLF after every command")
                .got(format!("\"{}\\n\"", escape_short(&c.line, 100)))),
        }
    })
}

/// The message data has CRLF line ends only.
#[then("the message data has only CRLF line ends")]
async fn data_crlf(w: &mut World) -> StepResult {
    step!(w, {
        let s = session(w).await?;
        delivered(&s, w)?;
        let raw = &s.data[0].raw;
        let bad = raw.iter().enumerate().find(|(i, b)| {
            (**b == b'\n' && (*i == 0 || raw[i - 1] != b'\r'))
                || (**b == b'\r' && raw.get(i + 1) != Some(&b'\n'))
        });
        match bad {
            None => Ok(()),
            Some((i, b)) => Err(Failure::conformance(format!(
                "the message data holds a bare {} at octet {i}",
                if *b == b'\n' { "LF" } else { "CR" }
            ))
            .expected("CR and LF only together, as CRLF line ends")
            .got(format!(
                "\"{}\"",
                escape_short(&raw[i.saturating_sub(30)..], 80)
            ))),
        }
    })
}

/// The message data ends with CRLF . CRLF.
#[then("the message data ends with CRLF . CRLF")]
async fn data_ended(w: &mut World) -> StepResult {
    step!(w, {
        let s = session(w).await?;
        delivered(&s, w)?;
        let d = &s.data[0];
        if d.ended && (d.raw.is_empty() || d.raw.ends_with(b"\r\n")) {
            Ok(())
        } else {
            Err(Failure::conformance(
                "the message data was not ended by a line holding only a period after CRLF",
            )
            .expected("CRLF . CRLF")
            .got(format!(
                "the data ends \"{}\"; {}",
                escape_short(&d.raw[d.raw.len().saturating_sub(40)..], 60),
                account(w)
            )))
        }
    })
}

/// Text with LF line ends and no empty lines at its end: the comparisons
/// of content judge one thing each (line ends and a trailing empty line a
/// client may add are not the dot-stuffing's business).
fn normalized(bytes: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes).replace("\r\n", "\n");
    text.trim_end_matches('\n').as_bytes().to_vec()
}

/// The message is intact once the peer removes the transparency dots (RFC 5321 §4.5.2).
#[then("the message arrives intact once the server removes the transparency dots")]
async fn data_intact(w: &mut World) -> StepResult {
    step!(w, {
        let s = session(w).await?;
        delivered(&s, w)?;
        let want = normalized(&w.state::<Peers>().input);
        let d = &s.data[0];
        let got = normalized(&smtp::unstuff(&d.raw));
        if d.ended && got == want {
            return Ok(());
        }
        // Say where it differs: a lost line after a lone dot, a removed dot.
        let at = super::text::first_difference(&got, &want);
        let from = at.saturating_sub(20);
        Err(Failure::conformance(if d.ended {
            "the message the server reads differs from the one given: a line starting with \".\" was not dot-stuffed"
        } else {
            "the message data was not ended by CRLF . CRLF"
        })
        .expected(format!("\"{}\"", escape_short(&want[from.min(want.len())..], 80)))
        .got(format!(
            "\"{}\" (what the server reads, from octet {from}; line ends shown as LF)",
            escape_short(&got[from.min(got.len())..], 80)
        )))
    })
}

/// The client sent no command before the peer's previous reply was complete.
#[then("the SMTP peer receives no command before its previous reply was complete")]
async fn no_pipelining(w: &mut World) -> StepResult {
    step!(w, {
        let s = session(w).await?;
        if s.commands.len() < 2 {
            return Err(
                Failure::conformance("the client sent fewer than two commands").got(format!(
                    "{}; {}",
                    commands_text(&s),
                    account(w)
                )),
            );
        }
        match s.commands.iter().find(|c| c.early) {
            None => Ok(()),
            Some(c) => Err(Failure::conformance(format!(
                "\"{}\" came before the reply to the previous command was complete",
                c.text()
            ))
            .expected("each command only after the whole reply to the one before (no PIPELINING announced)")
            .got(commands_text(&s))),
        }
    })
}

/// The client sent no message data (no DATA was accepted).
#[then("the SMTP peer receives no message data")]
async fn no_data(w: &mut World) -> StepResult {
    step!(w, {
        let s = session(w).await?;
        if !s.data.is_empty() {
            return Err(Failure::conformance("the client sent message data").got(commands_text(&s)));
        }
        // Message data sent without a 354 arrives where commands belong:
        // lines that are no SMTP command (header fields, the body, ".").
        match s.commands.iter().find(|c| c.verb.is_empty()) {
            None => Ok(()),
            Some(c) => Err(Failure::conformance(
                "the client sent message data although no 354 reply came",
            )
            .expected("no message data (RSET or QUIT after the refusal)")
            .got(format!("\"{}\" among {}", c.text(), commands_text(&s)))),
        }
    })
}

/// After the peer's 421 the client sent nothing but QUIT.
#[then("the SMTP peer receives nothing after its 421 but QUIT")]
async fn nothing_after_421(w: &mut World) -> StepResult {
    step!(w, {
        let s = session(w).await?;
        let Some(i) = s.commands.iter().position(|c| c.reply == "421") else {
            return Err(Failure::conformance(
                "the client did not get as far as the command the peer answers with 421",
            )
            .got(format!("{}; {}", commands_text(&s), account(w))));
        };
        match s.commands[i + 1..].iter().find(|c| c.verb != "QUIT") {
            None => Ok(()),
            Some(c) => Err(Failure::conformance("the client went on after the 421")
                .expected("nothing, or QUIT")
                .got(format!("\"{}\"", c.text()))),
        }
    })
}

/// The client's last command was QUIT.
#[then("the last command the SMTP peer receives is QUIT")]
async fn ends_with_quit(w: &mut World) -> StepResult {
    step!(w, {
        let s = session(w).await?;
        match s.commands.last() {
            Some(c) if c.verb == "QUIT" => Ok(()),
            _ => Err(
                Failure::conformance("the client closed the connection without QUIT")
                    .expected("QUIT as the last command")
                    .got(format!("{}; {}", commands_text(&s), account(w))),
            ),
        }
    })
}

/// The message data holds no octet with the high-order bit set.
#[then("the message data holds no octet with the high-order bit set")]
async fn seven_bit(w: &mut World) -> StepResult {
    step!(w, {
        let s = session(w).await?;
        let parts = s
            .data
            .iter()
            .map(|d| d.raw.as_slice())
            .chain(s.commands.iter().map(|c| c.line.as_slice()));
        for raw in parts {
            if let Some(i) = raw.iter().position(|b| *b > 0x7f) {
                return Err(Failure::conformance(
                    "the client sent 8-bit data to a server that did not announce 8BITMIME",
                )
                .expected("7-bit data only (or the message refused, or converted)")
                .got(format!(
                    "\"{}\"",
                    escape_short(&raw[i.saturating_sub(20)..], 60)
                )));
            }
        }
        Ok(())
    })
}

/// The message's header section has this field.
#[then(regex = r#"^the message's header section has the field "([A-Za-z-]+)"$"#)]
async fn header_field(w: &mut World, name: String) -> StepResult {
    step!(w, {
        let s = session(w).await?;
        delivered(&s, w)?;
        // Line ends are judged by their own scenario: LF counts here.
        let content = normalized(&smtp::unstuff(&s.data[0].raw));
        let text = String::from_utf8_lossy(&content);
        let head = text.split("\n\n").next().unwrap_or("");
        let has = head.split('\n').any(|l| {
            l.split_once(':')
                .is_some_and(|(n, _)| n.eq_ignore_ascii_case(&name))
        });
        if has {
            Ok(())
        } else {
            Err(
                Failure::conformance(format!("the message has no {name}: field"))
                    .expected(format!("a {name}: field in the header section"))
                    .got(format!("\"{}\"", escape_short(head.as_bytes(), 300))),
            )
        }
    })
}

/// The SIZE the client declared in MAIL (RFC 1870 §6) is not smaller than the message it sent; a client that declares none is skipped (the parameter is optional).
#[then("the SIZE the client declares is not smaller than the message it sends")]
async fn size_consistent(w: &mut World) -> StepResult {
    step!(w, {
        let s = session(w).await?;
        delivered(&s, w)?;
        let Some(mail) = s.commands.iter().find(|c| c.verb == "MAIL") else {
            return Err(
                Failure::conformance("the client sent no MAIL command").got(commands_text(&s))
            );
        };
        // mail-parameters after the path: `SIZE=<1*20DIGIT>` (RFC 1870 §5),
        // the keyword case-insensitive (RFC 5321 §4.1.2).
        let text = mail.text();
        let after = text.rsplit_once('>').map(|(_, p)| p).unwrap_or("");
        let sizes: Vec<&str> = after
            .split_ascii_whitespace()
            .filter_map(|p| {
                let (k, v) = p.split_once('=')?;
                k.eq_ignore_ascii_case("SIZE").then_some(v)
            })
            .collect();
        let declared = match sizes.as_slice() {
            [] => {
                return Err(Failure::skip(
                    "the client declared no SIZE in MAIL (a minimal client need not, RFC 1870 §7)",
                ))
            }
            [one] => one,
            _ => {
                return Err(Failure::conformance(
                    "MAIL carries more than one SIZE parameter (RFC 1870 §6: only one may be specified)",
                )
                .got(format!("\"{text}\"")))
            }
        };
        let Some(declared) = (declared.len() <= 20 && declared.bytes().all(|b| b.is_ascii_digit()))
            .then(|| declared.parse::<u128>().ok())
            .flatten()
        else {
            return Err(Failure::conformance(
                "the SIZE parameter is not a decimal number of octets (RFC 1870 §5: size-value ::= 1*20DIGIT)",
            )
            .got(format!("\"{text}\"")));
        };
        // The true size: header, body and CRLFs, without the terminating
        // dot and the transparency dots (RFC 1870 §6).
        let actual = smtp::unstuff(&s.data[0].raw).len() as u128;
        if declared >= actual {
            Ok(())
        } else {
            Err(Failure::conformance(format!(
                "the client declared SIZE={declared} but sent a message of {actual} octets"
            ))
            .expected(format!(
                "SIZE of at least {actual}: the declared size \"should include the message header, body, and the CR-LF sequences between lines\" and estimates \"usually larger than the actual message size\""
            ))
            .got(format!("\"{text}\"")))
        }
    })
}

#[cfg(test)]
mod tests {
    /// RFC 5322 §3.2.3: dot-atom-text = 1*atext *("." 1*atext); the
    /// generator keeps to letters and digits, so it never needs quoting.
    #[test]
    fn random_addresses_are_plain_dot_atoms() {
        for _ in 0..2000 {
            let a = super::random_address("example.test");
            let (local, domain) = a.split_once('@').expect("an @");
            assert_eq!(domain, "example.test");
            assert!(!local.is_empty() && !local.starts_with('.') && !local.ends_with('.'));
            assert!(!local.contains(".."), "{a}");
            assert!(
                local
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.'),
                "{a}"
            );
        }
    }
}
