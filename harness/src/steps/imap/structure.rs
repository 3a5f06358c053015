//! BODYSTRUCTURE judged field by field (RFC 3501 §7.4.2; the grammar is
//! §9 `body`): a part is `type subtype params id desc encoding octets`,
//! then the lines for text, or envelope, body and lines for
//! message/rfc822; a multipart is its parts, then the subtype. Extension
//! data after those fields is the server's choice and is not judged.

use cucumber::then;

use super::messages::{self, Structure};
use super::{fetch_item, imap_ok, seq_arg};
use crate::step;
use crate::steps::{Failure, StepResult, World};
use crate::wire::imap::Token;

fn text(t: Option<&Token>) -> Option<String> {
    t.and_then(Token::as_text)
}

fn same(t: Option<&Token>, want: &str) -> bool {
    text(t).is_some_and(|g| g.eq_ignore_ascii_case(want))
}

/// What `got` says that differs from `want`, one line per field, each
/// named by its place (`part 2.1 octets`).
fn differences(got: &Token, want: &Structure, at: &str, out: &mut Vec<String>) {
    let Some(fields) = got.as_list() else {
        out.push(format!("{at}: not a parenthesised body"));
        return;
    };
    match want {
        Structure::Multi(parts, subtype) => {
            let got_parts: Vec<&Token> = fields
                .iter()
                .take_while(|t| t.as_list().is_some())
                .collect();
            if got_parts.len() != parts.len() {
                out.push(format!(
                    "{at}: {} parts, not the message's {} (a multipart body lists its parts first)",
                    got_parts.len(),
                    parts.len()
                ));
                return;
            }
            for (i, (g, w)) in got_parts.iter().zip(parts).enumerate() {
                let name = if at == "the body" {
                    format!("part {}", i + 1)
                } else {
                    format!("{at}.{}", i + 1)
                };
                differences(g, w, &name, out);
            }
            if !same(fields.get(parts.len()), subtype) {
                out.push(format!(
                    "{at}: multipart subtype {:?}, not \"{subtype}\"",
                    text(fields.get(parts.len())).unwrap_or_else(|| "missing".into())
                ));
            }
        }
        Structure::Part {
            media,
            params,
            encoding,
            octets,
            lines,
            message,
        } => {
            if !same(fields.first(), media.0) || !same(fields.get(1), media.1) {
                out.push(format!(
                    "{at}: media type {}/{}, not {}/{}",
                    text(fields.first()).unwrap_or_default(),
                    text(fields.get(1)).unwrap_or_default(),
                    media.0,
                    media.1
                ));
                return;
            }
            let got_params: Vec<String> = fields
                .get(2)
                .and_then(Token::as_list)
                .unwrap_or_default()
                .iter()
                .filter_map(Token::as_text)
                .collect();
            for (k, v) in *params {
                let found = got_params.chunks(2).any(|kv| {
                    kv.len() == 2 && kv[0].eq_ignore_ascii_case(k) && kv[1].eq_ignore_ascii_case(v)
                });
                if !found {
                    out.push(format!(
                        "{at}: the parameter {k}={v} the part states is missing from ({})",
                        got_params.join(" ")
                    ));
                }
            }
            if !same(fields.get(5), encoding) {
                out.push(format!(
                    "{at}: encoding {:?}, not \"{encoding}\"",
                    text(fields.get(5)).unwrap_or_else(|| "missing".into())
                ));
            }
            let got_octets = fields.get(6).and_then(Token::as_number);
            if got_octets != Some(*octets) {
                out.push(format!(
                    "{at}: {} octets, not {octets}",
                    got_octets.map_or("no number of".into(), |n| n.to_string())
                ));
            }
            let lines_at = if message.is_some() { 9 } else { 7 };
            if let Some(l) = lines {
                let got_lines = fields.get(lines_at).and_then(Token::as_number);
                if got_lines != Some(*l) {
                    out.push(format!(
                        "{at}: {} lines, not {l}",
                        got_lines.map_or("no number of".into(), |n| n.to_string())
                    ));
                }
            }
            if let Some((subject, (mailbox, host), inner)) = message {
                let env = fields.get(7).and_then(Token::as_list).unwrap_or_default();
                if !same(env.get(1), subject) {
                    out.push(format!(
                        "{at}: the envelope's subject is {:?}, not \"{subject}\"",
                        text(env.get(1)).unwrap_or_else(|| "missing".into())
                    ));
                }
                let from = env
                    .get(2)
                    .and_then(Token::as_list)
                    .and_then(|l| l.first())
                    .and_then(Token::as_list)
                    .unwrap_or_default();
                if !same(from.get(2), mailbox) || !same(from.get(3), host) {
                    out.push(format!(
                        "{at}: the envelope's sender is not {mailbox}@{host}"
                    ));
                }
                match fields.get(8) {
                    Some(body) => differences(body, inner, &format!("{at} (its message)"), out),
                    None => out.push(format!("{at}: no body of the message it holds")),
                }
            }
        }
    }
}

/// A structure as a person reads it.
fn describe(s: &Structure) -> String {
    match s {
        Structure::Multi(parts, sub) => format!(
            "{} {sub}",
            parts
                .iter()
                .map(|p| format!("({})", describe(p)))
                .collect::<String>()
        ),
        Structure::Part {
            media,
            params,
            encoding,
            octets,
            lines,
            message,
        } => {
            let mut out = format!("{}/{}", media.0, media.1);
            for (k, v) in *params {
                out.push_str(&format!(" {k}={v}"));
            }
            out.push_str(&format!(" {encoding} {octets} octets"));
            if let Some(l) = lines {
                out.push_str(&format!(" {l} lines"));
            }
            if let Some((subject, (m, h), inner)) = message {
                out.push_str(&format!(
                    ", holding \"{subject}\" from {m}@{h}: ({})",
                    describe(inner)
                ));
            }
            out
        }
    }
}

/// FETCH n (BODYSTRUCTURE), asked now, matches the named test message's
/// structure in every field RFC 3501 §9 requires (extension data aside).
#[then(regex = r"^the BODYSTRUCTURE of message (\S+) is the (\w+) test message's structure$")]
async fn bodystructure_is(w: &mut World, seq: String, which: String) -> StepResult {
    step!(w, {
        let want = match which.as_str() {
            "forwarded" => messages::forwarded_structure(),
            other => {
                return Err(Failure::harness(format!(
                    "no structure is written out for the {other} test message"
                )))
            }
        };
        let seq = seq_arg(w, &seq)?;
        let reply = imap_ok(
            w,
            "",
            &format!("FETCH {seq} (BODYSTRUCTURE)"),
            "FETCH BODYSTRUCTURE",
        )
        .await?;
        let got = fetch_item(&reply, seq, "BODYSTRUCTURE")?;
        let mut out = Vec::new();
        differences(&got, &want, "the body", &mut out);
        if out.is_empty() {
            Ok(())
        } else {
            Err(Failure::conformance(format!(
                "the BODYSTRUCTURE of message {seq} does not describe the message: {}",
                out.join("; ")
            ))
            .expected(format!(
                "the {which} test message's structure (RFC 3501 §7.4.2, §9 body): {}",
                describe(&want)
            )))
        }
    })
}
