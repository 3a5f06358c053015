//! IMAP steps (RFC 3501, RFC 9051). A session is opened with the
//! [`ImapReader`], so the generic steps work on it: `the client sends "a1
//! NOOP"` reads up to the tagged completion and `the server replies OK`
//! checks its status. The steps here open sessions, manage a scratch
//! mailbox per scenario (created, filled with the test messages, and
//! deleted after the scenario), and inspect untagged data: FETCH items,
//! SEARCH results, STATUS and LIST.
//!
//! Scenario values: `${imap.scratch}` and `${imap.scratch2}` name the
//! scenario's scratch mailboxes.

mod cleanup;
mod library;
pub mod messages;
mod namespace;
mod smtp;
mod structure;
mod tls;

pub(crate) use tls::injection_not_executed;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use cucumber::{given, then, when};
use regex::RegexBuilder;

use super::line::{command, last_reply};
use super::text::payload;
use super::{client_name, Failure, StepResult, World};
use crate::notation::escape_short;
use crate::step;
use crate::wire::imap::{parse_response, ImapReader, Response, Token};
use crate::wire::Reply;

use messages::TestMessage;

/// Per-scenario IMAP state.
#[derive(Default)]
pub struct ImapState {
    next_tag: u32,
    /// What to remove after the scenario (see `cleanup`).
    leftovers: Option<Arc<std::sync::Mutex<cleanup::Leftovers>>>,
    /// What async-imap saw.
    library_subjects: Vec<String>,
    /// Where the scenario's mailboxes go (see `namespace`).
    namespace: Option<namespace::Personal>,
}

static SCRATCH_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A name no other scenario (or run) uses.
fn scratch_name() -> String {
    let n = SCRATCH_COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or_default();
    format!("conform-{}-{t}-{n}", std::process::id())
}

fn next_tag(w: &mut World) -> String {
    let s = w.state::<ImapState>();
    s.next_tag += 1;
    format!("c{}", s.next_tag)
}

/// Sends `tag command` (a fresh tag) and reads the reply.
pub(crate) async fn imap(w: &mut World, client: &str, cmd: &str) -> Result<Reply, Failure> {
    let tag = next_tag(w);
    command(w, client, format!("{tag} {cmd}").as_bytes()).await
}

/// Like [`imap`], but anything other than OK is a failure of `purpose`.
async fn imap_ok(w: &mut World, client: &str, cmd: &str, purpose: &str) -> Result<Reply, Failure> {
    let reply = imap(w, client, cmd).await?;
    if reply.status != "OK" {
        return Err(Failure::conformance(format!("{purpose} failed"))
            .expected(format!("OK to \"{cmd}\""))
            .got(quote(&reply.text())));
    }
    Ok(reply)
}

fn quote(s: &str) -> String {
    format!("\"{}\"", escape_short(s.as_bytes(), 400))
}

/// The name a mailbox argument stands for: a quoted string unquoted.
fn unquote(arg: &str) -> String {
    match arg.strip_prefix('"').and_then(|a| a.strip_suffix('"')) {
        Some(inner) => {
            let mut out = String::new();
            let mut escaped = false;
            for c in inner.chars() {
                if c == '\\' && !escaped {
                    escaped = true;
                } else {
                    out.push(c);
                    escaped = false;
                }
            }
            out
        }
        None => arg.to_string(),
    }
}

/// IMAP quoted string (RFC 3501 §4.3).
pub(crate) fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Connects `client` to `${imap.address}` and reads the greeting; with
/// `[imap] tls = "starttls"` it then upgrades the session with STARTTLS,
/// as a client whose policy is TLS does before anything else (the
/// greeting stays the session's last reply, for the steps that judge it).
pub(crate) async fn connect(w: &mut World, client: &str) -> StepResult {
    connect_cleartext(w, client).await?;
    if super::tls::mode(w, "imap") == crate::wire::tls::Mode::StartTls {
        let greeting = last_reply(w, client)?;
        if greeting.status != "PREAUTH" {
            starttls(w, client).await?;
            if let Some(s) = w.tcp.get_mut(client) {
                s.last_reply = Some(greeting);
            }
        }
    }
    Ok(())
}

/// Connects and reads the greeting, with no STARTTLS whatever the profile
/// (the STARTTLS scenarios start here).
pub(crate) async fn connect_cleartext(w: &mut World, client: &str) -> StepResult {
    let reader = Arc::new(ImapReader::default());
    super::raw::open_session(w, client, "imap", "${imap.address}", reader).await?;
    super::line::next_reply(w, client).await?;
    Ok(())
}

/// STARTTLS answered OK (RFC 9051 §6.2.1), then the handshake. A refusal
/// is a configuration matter: the profile says the server upgrades.
async fn starttls(w: &mut World, client: &str) -> StepResult {
    let reply = imap(w, client, "STARTTLS").await?;
    if reply.status != "OK" {
        return Err(Failure::harness(
            "the target profile sets [imap] tls = \"starttls\", but the server did not answer STARTTLS with OK",
        )
        .got(quote(&reply.text())));
    }
    super::tls::start(w, client).await
}

pub(crate) async fn login(w: &mut World, client: &str) -> StepResult {
    // Never the profile's password in plaintext when the profile says TLS.
    super::tls::guard_credentials(w, client)?;
    let user = w.expand("${imap.user}")?;
    let pass = w.expand("${imap.password}")?;
    let reply = imap(
        w,
        client,
        &format!("LOGIN {} {}", quoted(&user), quoted(&pass)),
    )
    .await?;
    if reply.status != "OK" {
        return Err(Failure::harness(format!(
            "cannot log in as the profile's imap.user \"{user}\": {}",
            reply.text()
        )));
    }
    Ok(())
}

async fn authenticated(w: &mut World, client: &str) -> StepResult {
    connect(w, client).await?;
    let greeting = last_reply(w, client)?;
    if greeting.status == "PREAUTH" {
        return Ok(());
    }
    login(w, client).await
}

/// A mailbox name no other scenario (or run) uses, under the personal
/// namespace, as a command argument.
async fn fresh_mailbox(w: &mut World) -> Result<String, Failure> {
    let ns = namespace::personal(w).await?;
    Ok(ns.mailbox(&scratch_name()))
}

/// Creates a scratch mailbox, remembered for the cleanup; sets `var`.
/// A refused CREATE is not what the scenario checks: it is a setup problem
/// (most often the namespace), reported as such. "[ALREADYEXISTS]" for a
/// name no one used is tried again with another (dovecot 2.3's mailbox list
/// index answers so when CREATEs run concurrently).
async fn create_scratch(w: &mut World, var: &str) -> StepResult {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let name = fresh_mailbox(w).await?;
        // Remembered first: a CREATE whose reply is lost may still have worked.
        remember_mailbox(w, &name)?;
        let reply = imap(w, "", &format!("CREATE {name}")).await?;
        if reply.status == "OK" {
            w.vars.insert(format!("imap.{var}"), name);
            return Ok(());
        }
        let text = reply.text();
        if text.to_ascii_uppercase().contains("[ALREADYEXISTS]") && attempt < 3 {
            continue;
        }
        let source = w
            .state::<ImapState>()
            .namespace
            .as_ref()
            .map(|n| n.source)
            .unwrap_or_default();
        return Err(Failure::harness(format!(
            "the server refused to create the scratch mailbox {name} (placed by {source}): \
             set [imap] namespace_prefix (and delimiter) in the profile to where the user \
             may create mailboxes (RFC 2342 personal namespace)"
        ))
        .got(quote(&text)));
    }
}

/// A mailbox to unsubscribe and delete after the scenario.
fn remember_mailbox(w: &mut World, name: &str) -> StepResult {
    let list = cleanup::leftovers(w)?;
    if let Ok(mut l) = list.lock() {
        l.mailboxes.push(name.to_string());
    }
    Ok(())
}

/// A message delivered into INBOX, to expunge after the scenario.
pub(crate) fn remember_delivery(w: &mut World, message_id: &str) -> StepResult {
    let list = cleanup::leftovers(w)?;
    if let Ok(mut l) = list.lock() {
        l.delivered.push(message_id.to_string());
    }
    Ok(())
}

fn scratch(w: &World, which: &str) -> Result<String, Failure> {
    let key = if which.contains("second") {
        "imap.scratch2"
    } else {
        "imap.scratch"
    };
    w.vars
        .get(key)
        .cloned()
        .ok_or_else(|| Failure::harness(format!("the scenario has no {which} mailbox")))
}

/// APPENDs `msg` with a synchronising literal: the server must ask for the
/// literal with a continuation request (RFC 3501 §7.5) and then complete.
pub(crate) async fn append(w: &mut World, client: &str, mailbox: &str, msg: &str) -> StepResult {
    let cmd = format!("APPEND {mailbox} {{{}}}", msg.len());
    let first = imap(w, client, &cmd).await?;
    if first.status != "+" {
        return Err(Failure::conformance(
            "APPEND with a synchronising literal got no continuation request (RFC 3501 §7.5)",
        )
        .expected("\"+ …\"")
        .got(quote(&first.text())));
    }
    let done = command(w, client, msg.as_bytes()).await?;
    if done.status != "OK" {
        return Err(Failure::conformance("APPEND failed")
            .expected("OK")
            .got(quote(&done.text())));
    }
    Ok(())
}

// ---------------------------------------------------------------- Given

/// Opens the IMAP connection and reads the greeting (`the server replies with
/// one of OK, PREAUTH` checks it).
#[given(regex = r"^an IMAP session(?: that has been greeted)?$")]
async fn session(w: &mut World) -> StepResult {
    step!(w, connect(w, "").await)
}

/// Greeting, then LOGIN with the `[imap]` user and password.
#[given(regex = r"^an authenticated IMAP session$")]
async fn authenticated_session(w: &mut World) -> StepResult {
    step!(w, authenticated(w, "").await)
}

/// Greeting, then LOGIN as the profile's `[imap] spare_user`: an account of
/// its own whose INBOX a scenario may rename, so no other scenario's INBOX
/// changes under it. From here on `${imap.user}` and `${imap.password}`
/// (the cleanup's login too) are the spare user's. Skips when the profile
/// names no spare user, or the server logs the session in by itself.
#[given(regex = r"^an authenticated IMAP session as the spare user$")]
async fn spare_session(w: &mut World) -> StepResult {
    step!(w, {
        let user = w.profile().get("imap.spare_user").map(str::to_string);
        let pass = w.profile().get("imap.spare_password").map(str::to_string);
        let (Some(user), Some(pass)) = (user, pass) else {
            return Err(Failure::skip(
                "the target profile names no [imap] spare_user and spare_password: \
                 a second account whose INBOX the scenario may rename",
            ));
        };
        if w.state::<ImapState>().leftovers.is_some() {
            return Err(Failure::harness(
                "\"as the spare user\" must be the scenario's first IMAP step",
            ));
        }
        w.vars.insert("imap.user".into(), user);
        w.vars.insert("imap.password".into(), pass);
        connect(w, "").await?;
        if last_reply(w, "")?.status == "PREAUTH" {
            return Err(Failure::skip(
                "the server greets with PREAUTH: the session is not the spare user's",
            ));
        }
        login(w, "").await
    })
}

/// A named further client with its own authenticated session.
#[given(regex = r"^client (\w+) has an authenticated IMAP session$")]
async fn client_authenticated(w: &mut World, client: String) -> StepResult {
    step!(w, authenticated(w, &client).await)
}

/// An authenticated session and a fresh scratch mailbox `${imap.scratch}`
/// (removed afterwards).
#[given(regex = r"^an IMAP session with a scratch mailbox$")]
async fn with_scratch(w: &mut World) -> StepResult {
    step!(w, {
        authenticated(w, "").await?;
        create_scratch(w, "scratch").await
    })
}

/// A second fresh scratch mailbox `${imap.scratch2}` (removed afterwards).
#[given(regex = r"^a second scratch mailbox$")]
async fn second_scratch(w: &mut World) -> StepResult {
    step!(w, create_scratch(w, "scratch2").await)
}

/// APPENDs the three test messages to the scratch mailbox (synchronising
/// literals).
#[given(regex = r"^the scratch mailbox holds the test messages$")]
async fn holds_test_messages(w: &mut World) -> StepResult {
    step!(w, {
        let name = scratch(w, "scratch")?;
        for m in messages::ALL {
            append(w, "", &name, &m.text()).await?;
        }
        Ok(())
    })
}

/// APPENDs the plain test message, under a Message-ID of its own, to INBOX
/// (expunged after the scenario) and notes how many messages INBOX then
/// holds as `${imap.inbox_messages}` (STATUS, RFC 3501 §6.3.10).
#[given(regex = r"^INBOX holds a test message$")]
async fn inbox_holds_message(w: &mut World) -> StepResult {
    step!(w, {
        let id = format!("<{}@conform.test>", scratch_name());
        let msg = messages::PLAIN
            .text()
            .replace("<conform-plain@crepes.fr>", &id);
        remember_delivery(w, &id)?;
        append(w, "", "INBOX", &msg).await?;
        let reply = imap_ok(w, "", "STATUS INBOX (MESSAGES)", "STATUS").await?;
        let n = status_item(&reply, "MESSAGES")?;
        if n == 0 {
            return Err(Failure::conformance(
                "STATUS counts no message in INBOX after an APPEND to it succeeded (RFC 3501 §6.3.10)",
            )
            .got(quote(&reply.text())));
        }
        w.vars.insert("imap.inbox_messages".into(), n.to_string());
        Ok(())
    })
}

/// SELECTs the scratch mailbox.
#[given(regex = r"^the scratch mailbox is selected$")]
async fn scratch_selected(w: &mut World) -> StepResult {
    step!(w, {
        let name = scratch(w, "scratch")?;
        imap_ok(
            w,
            "",
            &format!("SELECT {name}"),
            "selecting the scratch mailbox",
        )
        .await
        .map(|_| ())
    })
}

/// Selects the scratch mailbox; skips unless the SELECT's PERMANENTFLAGS
/// (RFC 3501 §7.1) lists `flag` (`\*`: new keywords can be stored).
#[given(regex = r"^the scratch mailbox is selected, with (\S+) among its PERMANENTFLAGS$")]
async fn scratch_selected_permanent(w: &mut World, flag: String) -> StepResult {
    step!(w, {
        let name = scratch(w, "scratch")?;
        let reply = imap_ok(
            w,
            "",
            &format!("SELECT {name}"),
            "selecting the scratch mailbox",
        )
        .await?;
        let listed = permanent_flags(&reply);
        if listed.iter().any(|f| f.eq_ignore_ascii_case(&flag)) {
            Ok(())
        } else {
            Err(Failure::skip(format!(
                "the SELECT's PERMANENTFLAGS ({}) does not list {flag}, so the server does not keep it",
                listed.join(" ")
            )))
        }
    })
}

/// The flags of `* OK [PERMANENTFLAGS (...)]` in a SELECT's reply.
fn permanent_flags(reply: &Reply) -> Vec<String> {
    untagged_lines(reply)
        .iter()
        .find_map(|l| {
            let (name, data) = crate::wire::imap::response_code(l)?;
            let list = data.strip_prefix('(')?.strip_suffix(')')?;
            (name == "PERMANENTFLAGS")
                .then(|| list.split_whitespace().map(str::to_string).collect())
        })
        .unwrap_or_default()
}

/// Skips the scenario unless CAPABILITY (asked now, in the current state)
/// announces `cap` (RFC 3501 §6.1.1; an extension is used only when
/// announced).
#[given(regex = r"^the server announces the (\S+) capability$")]
async fn announces(w: &mut World, cap: String) -> StepResult {
    step!(w, {
        let reply = imap_ok(w, "", "CAPABILITY", "CAPABILITY").await?;
        let caps = capabilities(&reply);
        if caps.iter().any(|c| c.eq_ignore_ascii_case(&cap)) {
            Ok(())
        } else {
            Err(Failure::skip(format!(
                "the server does not announce {cap} (CAPABILITY: {})",
                caps.join(" ")
            )))
        }
    })
}

fn capabilities(reply: &Reply) -> Vec<String> {
    untagged(reply)
        .into_iter()
        .filter(|r| r.word(0).as_deref() == Some("CAPABILITY"))
        .flat_map(|r| {
            r.tokens[1..]
                .iter()
                .filter_map(Token::as_text)
                .collect::<Vec<_>>()
        })
        .collect()
}

// ---------------------------------------------------------------- When

/// APPENDs the named test message (plain, multipart) to the scratch mailbox.
#[when(
    regex = r"^(the client|client \w+) appends the (\w+) test message to the (scratch|second scratch) mailbox$"
)]
async fn appends(w: &mut World, who: String, which: String, mailbox: String) -> StepResult {
    step!(w, {
        let msg = test_message(&which)?;
        let name = scratch(w, &mailbox)?;
        append(w, &client_name(&who), &name, &msg.text()).await
    })
}

/// AUTHENTICATE PLAIN's response (RFC 4616): `authzid NUL user NUL pass`,
/// base64, sent as the answer to the continuation request.
#[when(regex = r"^the client answers with the PLAIN credentials$")]
async fn plain_credentials(w: &mut World) -> StepResult {
    step!(w, {
        let user = w.expand("${imap.user}")?;
        let pass = w.expand("${imap.password}")?;
        let b64 = super::text::base64(format!("\0{user}\0{pass}").as_bytes());
        command(w, "", b64.as_bytes()).await.map(|_| ())
    })
}

/// LOGIN whose user name is a synchronising literal (RFC 3501 §4.3): the
/// server must answer `{n}` with a continuation request before the client
/// sends the rest.
#[when(regex = r"^the client logs in with the user name as a synchronising literal$")]
async fn login_literal(w: &mut World) -> StepResult {
    step!(w, {
        let user = w.expand("${imap.user}")?;
        let pass = w.expand("${imap.password}")?;
        let first = imap(w, "", &format!("LOGIN {{{}}}", user.len())).await?;
        if first.status != "+" {
            return Err(Failure::conformance(
                "the server did not send a continuation request for the literal (RFC 3501 §4.3, §7.5)",
            )
            .expected("\"+ …\"")
            .got(quote(&first.text())));
        }
        command(w, "", format!("{user} {}", quoted(&pass)).as_bytes())
            .await
            .map(|_| ())
    })
}

/// APPEND with a synchronising literal, leaving the final reply to be
/// checked: the server may refuse at once (tagged NO/BAD instead of "+",
/// RFC 3501 §7.5) or after the literal. "with a non-synchronising
/// literal": `{n+}` and the message in the same write, no continuation
/// request awaited (RFC 7888 §3, LITERAL+); a "+" the server sends all the
/// same is the reply left to check.
#[when(
    regex = r#"^the client appends a small message to the mailbox "(.*)"(| with a non-synchronising literal)$"#
)]
async fn append_small(w: &mut World, mailbox: String, plus: String) -> StepResult {
    step!(w, {
        let mailbox = w.expand(&mailbox)?;
        let msg = "Subject: hi\r\n\r\nho";
        if !plus.is_empty() {
            let cmd = format!("APPEND {mailbox} {{{}+}}\r\n{msg}", msg.len());
            return imap(w, "", &cmd).await.map(|_| ());
        }
        let first = imap(w, "", &format!("APPEND {mailbox} {{{}}}", msg.len())).await?;
        if first.status == "+" {
            command(w, "", msg.as_bytes()).await?;
        }
        Ok(())
    })
}

/// LOGOUT, then a new authenticated session (state across sessions).
#[when(regex = r"^the client logs out and opens a new authenticated IMAP session$")]
async fn relogin(w: &mut World) -> StepResult {
    step!(w, {
        imap(w, "", "LOGOUT").await?;
        authenticated(w, "").await
    })
}

/// SELECTs the mailbox; the reply is left for a Then.
#[when(regex = r"^the client selects the (scratch|second scratch) mailbox$")]
async fn selects(w: &mut World, which: String) -> StepResult {
    step!(w, {
        let name = scratch(w, &which)?;
        imap(w, "", &format!("SELECT {name}")).await.map(|_| ())
    })
}

/// E2E: looks for the delivered message in INBOX (read-only, EXAMINE) by
/// its Message-ID, until it arrives or the step times out (delivery may be
/// queued); `${imap.found}` is its message number.
#[when(regex = r"^the client searches INBOX for the delivered message's Message-ID$")]
async fn search_delivered(w: &mut World) -> StepResult {
    step!(w, {
        let id = w.expand("${imap.message_id}")?;
        loop {
            imap_ok(w, "", "EXAMINE INBOX", "EXAMINE INBOX").await?;
            let reply = imap_ok(
                w,
                "",
                &format!("SEARCH HEADER Message-ID {}", quoted(&id)),
                "SEARCH",
            )
            .await?;
            if let Some(first) = search_hits(&reply)?.first() {
                w.vars.insert("imap.found".into(), first.to_string());
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    })
}

/// Asks the UID of message `seq` (FETCH UID) and keeps it as `${imap.uid}`.
#[when(regex = r"^the client notes the UID of message (\d+)$")]
async fn note_uid(w: &mut World, seq: u64) -> StepResult {
    step!(w, {
        let reply = imap_ok(w, "", &format!("FETCH {seq} (UID)"), "FETCH UID").await?;
        let uid = fetch_item(&reply, seq, "UID")?;
        let uid = uid
            .as_number()
            .ok_or_else(|| Failure::conformance("the UID is not a number").got(render(&uid)))?;
        w.vars.insert("imap.uid".into(), uid.to_string());
        Ok(())
    })
}

/// Asks STATUS (UIDVALIDITY) and keeps it as `${imap.uidvalidity}`.
#[when(regex = r"^the client notes the UIDVALIDITY of the scratch mailbox$")]
async fn note_uidvalidity(w: &mut World) -> StepResult {
    step!(w, {
        let name = scratch(w, "scratch")?;
        let reply = imap_ok(w, "", &format!("STATUS {name} (UIDVALIDITY)"), "STATUS").await?;
        let v = status_item(&reply, "UIDVALIDITY")?;
        w.vars.insert("imap.uidvalidity".into(), v.to_string());
        Ok(())
    })
}

/// `${imap.child}`: a name one level under `${imap.unused}`, with the
/// personal namespace's delimiter; skips the scenario in a flat namespace.
#[given(regex = r"^a name one level under the unused one$")]
async fn child_name(w: &mut World) -> StepResult {
    step!(w, {
        let ns = namespace::personal(w).await?;
        let Some(d) = ns.delimiter else {
            return Err(Failure::skip(format!(
                "the personal namespace has no hierarchy delimiter ({})",
                ns.source
            )));
        };
        let parent = w
            .vars
            .get("imap.unused")
            .cloned()
            .ok_or_else(|| Failure::harness("the scenario has no unused mailbox name"))?;
        let child = namespace::astring(&format!("{}{d}child", unquote(&parent)));
        remember_mailbox(w, &child)?;
        w.vars.insert("imap.child".into(), child);
        Ok(())
    })
}

/// `${imap.unused}`: a mailbox name that does not exist (removed afterwards
/// if a scenario creates it).
#[given(regex = r"^an unused mailbox name$")]
async fn unused_name(w: &mut World) -> StepResult {
    step!(w, {
        let name = fresh_mailbox(w).await?;
        remember_mailbox(w, &name)?;
        w.vars.insert("imap.unused".into(), name);
        Ok(())
    })
}

// ---------------------------------------------------------------- Then

/// The untagged responses of a reply (everything before the completion).
fn untagged(reply: &Reply) -> Vec<Response> {
    reply
        .lines
        .iter()
        .filter(|l| l.bytes.starts_with(b"* "))
        .filter_map(|l| parse_response(&l.bytes).ok())
        .collect()
}

fn untagged_lines(reply: &Reply) -> Vec<String> {
    reply
        .lines
        .iter()
        .filter(|l| l.bytes.starts_with(b"* "))
        .map(|l| l.text())
        .collect()
}

fn regex(w: &World, pattern: &str) -> Result<regex::Regex, Failure> {
    let pattern = w.expand(pattern)?;
    RegexBuilder::new(&pattern)
        .case_insensitive(true)
        .build()
        .map_err(|e| Failure::harness(format!("bad pattern \"{pattern}\": {e}")))
}

/// After "RENAME INBOX ${imap.unused}": with OK, every message INBOX held
/// is under the new name, and INBOX still exists and is empty (RFC 3501
/// §6.3.5, RFC 9051 §6.3.6); with NO (RFC 9051 §6.3.6 lets a server refuse),
/// INBOX holds what it held. The messages go back to INBOX after the
/// scenario, before the new mailbox is deleted.
#[then(
    regex = r"^INBOX's messages moved to the new name, leaving INBOX empty, unless the server refused$"
)]
async fn inbox_renamed(w: &mut World) -> StepResult {
    step!(w, {
        let status = last_reply(w, "")?.status;
        let before: u64 = w
            .expand("${imap.inbox_messages}")?
            .parse()
            .map_err(|_| Failure::harness("${imap.inbox_messages} is not a count"))?;
        let new = w.expand("${imap.unused}")?;
        // Whatever the reply, what reached the new name goes back to INBOX
        // (a server may say NO and still have moved some).
        let list = cleanup::leftovers(w)?;
        if let Ok(mut l) = list.lock() {
            l.restore.push(new.clone());
        }
        let inbox = imap(w, "", "STATUS INBOX (MESSAGES)").await?;
        match status.as_str() {
            "OK" => {
                if inbox.status != "OK" {
                    return Err(Failure::conformance(
                        "after RENAME INBOX succeeded, INBOX no longer exists: renaming INBOX \
                         moves its messages and leaves INBOX in place, empty (RFC 3501 §6.3.5)",
                    )
                    .expected("OK to \"STATUS INBOX (MESSAGES)\"")
                    .got(quote(&inbox.text())));
                }
                let left = status_item(&inbox, "MESSAGES")?;
                if left != 0 {
                    return Err(Failure::conformance(format!(
                        "after RENAME INBOX succeeded, INBOX still holds {left} of its {before} \
                         messages: renaming INBOX moves all of them, \"leaving INBOX empty\" (RFC 3501 §6.3.5)"
                    ))
                    .expected("* STATUS INBOX (MESSAGES 0)")
                    .got(quote(&inbox.text())));
                }
                let moved = imap_ok(
                    w,
                    "",
                    &format!("STATUS {new} (MESSAGES)"),
                    "STATUS of the new name",
                )
                .await?;
                let n = status_item(&moved, "MESSAGES")?;
                if n != before {
                    return Err(Failure::conformance(format!(
                        "after RENAME INBOX, the new mailbox holds {n} messages, not the {before} \
                         INBOX held: renaming INBOX moves all of them (RFC 3501 §6.3.5)"
                    ))
                    .got(quote(&moved.text())));
                }
                Ok(())
            }
            "NO" => {
                let n = if inbox.status == "OK" {
                    Some(status_item(&inbox, "MESSAGES")?)
                } else {
                    None
                };
                if n != Some(before) {
                    return Err(Failure::conformance(format!(
                        "RENAME INBOX was refused with NO, yet INBOX no longer holds its {before} messages"
                    ))
                    .expected(format!("* STATUS INBOX (MESSAGES {before})"))
                    .got(quote(&inbox.text())));
                }
                Ok(())
            }
            other => Err(Failure::harness(format!(
                "the RENAME got {other}, neither OK nor NO (the step before checks the reply)"
            ))),
        }
    })
}

/// Some untagged response of the last reply matches the regex
/// (case-insensitive).
#[then(regex = r#"^(the client|client \w+) got an untagged response matching "(.*)"$"#)]
async fn untagged_matching(w: &mut World, who: String, pattern: String) -> StepResult {
    step!(w, {
        let re = regex(w, &pattern)?;
        let reply = last_reply(w, &client_name(&who))?;
        let lines = untagged_lines(&reply);
        if lines.iter().any(|l| re.is_match(l)) {
            return Ok(());
        }
        Err(Failure::conformance("no untagged response matches")
            .expected(format!("an untagged response matching /{}/", re.as_str()))
            .got(quote(&lines.join("\n"))))
    })
}

/// No untagged response of the last reply matches the regex
/// (case-insensitive).
#[then(regex = r#"^no untagged response matches "(.*)"$"#)]
async fn no_untagged_matching(w: &mut World, pattern: String) -> StepResult {
    step!(w, {
        let re = regex(w, &pattern)?;
        let reply = last_reply(w, "")?;
        match untagged_lines(&reply).into_iter().find(|l| re.is_match(l)) {
            None => Ok(()),
            Some(l) => Err(
                Failure::conformance("an untagged response the RFC rules out came")
                    .expected(format!("no untagged response matching /{}/", re.as_str()))
                    .got(quote(&l)),
            ),
        }
    })
}

/// The tagged completion of the last reply matches the regex
/// (case-insensitive).
#[then(regex = r#"^the tagged completion matches "(.*)"$"#)]
async fn completion_matching(w: &mut World, pattern: String) -> StepResult {
    step!(w, {
        let re = regex(w, &pattern)?;
        let reply = last_reply(w, "")?;
        let last = reply.lines.last().map(|l| l.text()).unwrap_or_default();
        if re.is_match(&last) {
            Ok(())
        } else {
            Err(
                Failure::conformance("the tagged completion is not as required")
                    .expected(format!("a completion matching /{}/", re.as_str()))
                    .got(quote(&last)),
            )
        }
    })
}

/// The items of the FETCH response for message `seq` in the last reply,
/// merged when the server sent several.
fn fetch_items(reply: &Reply, seq: u64) -> Result<Vec<(String, Token)>, Failure> {
    let mut items = Vec::new();
    for r in untagged(reply) {
        if r.numbered() != Some((seq, "FETCH".into())) {
            continue;
        }
        let Some(list) = r.tokens.get(2).and_then(Token::as_list) else {
            continue;
        };
        for pair in list.chunks(2) {
            if let [Token::Atom(k), v] = pair {
                items.push((k.to_ascii_uppercase(), v.clone()));
            }
        }
    }
    if items.is_empty() {
        return Err(
            Failure::conformance(format!("no FETCH response for message {seq}"))
                .expected(format!("\"* {seq} FETCH (…)\""))
                .got(quote(&reply.text())),
        );
    }
    Ok(items)
}

fn fetch_item(reply: &Reply, seq: u64, name: &str) -> Result<Token, Failure> {
    let items = fetch_items(reply, seq)?;
    items
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
        .ok_or_else(|| {
            Failure::conformance(format!("the FETCH response for message {seq} lacks {name}"))
                .expected(format!("{name} among the items"))
                .got(
                    items
                        .iter()
                        .map(|(k, _)| k.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                )
        })
}

fn flags_of(reply: &Reply, seq: u64) -> Result<Vec<String>, Failure> {
    let t = fetch_item(reply, seq, "FLAGS")?;
    Ok(t.as_list()
        .unwrap_or_default()
        .iter()
        .filter_map(Token::as_text)
        .collect())
}

/// The FETCH response for the message in the last reply has the flag.
#[then(regex = r"^the FETCH response for message (\S+) has the flag (\S+)$")]
async fn has_flag(w: &mut World, seq: String, flag: String) -> StepResult {
    step!(w, {
        let seq = seq_arg(w, &seq)?;
        let reply = last_reply(w, "")?;
        let flags = flags_of(&reply, seq)?;
        if flags.iter().any(|f| f.eq_ignore_ascii_case(&flag)) {
            Ok(())
        } else {
            Err(
                Failure::conformance(format!("message {seq} lacks the flag {flag}"))
                    .expected(format!("FLAGS including {flag}"))
                    .got(format!("FLAGS ({})", flags.join(" "))),
            )
        }
    })
}

/// The FETCH response for the message in the last reply does not have the
/// flag.
#[then(regex = r"^the FETCH response for message (\S+) does not have the flag (\S+)$")]
async fn lacks_flag(w: &mut World, seq: String, flag: String) -> StepResult {
    step!(w, {
        let seq = seq_arg(w, &seq)?;
        let reply = last_reply(w, "")?;
        let flags = flags_of(&reply, seq)?;
        if flags.iter().any(|f| f.eq_ignore_ascii_case(&flag)) {
            Err(
                Failure::conformance(format!("message {seq} has the flag {flag}"))
                    .expected(format!("FLAGS without {flag}"))
                    .got(format!("FLAGS ({})", flags.join(" "))),
            )
        } else {
            Ok(())
        }
    })
}

/// Asks for the flags of message `seq` itself (BODY.PEEK-free: FETCH FLAGS
/// never changes them) and checks `flag`.
#[then(regex = r"^message (\d+) (has|does not have) the flag (\S+) when fetched again$")]
async fn flag_again(w: &mut World, seq: u64, has: String, flag: String) -> StepResult {
    step!(w, {
        let reply = imap_ok(w, "", &format!("FETCH {seq} (FLAGS)"), "FETCH FLAGS").await?;
        let flags = flags_of(&reply, seq)?;
        let present = flags.iter().any(|f| f.eq_ignore_ascii_case(&flag));
        if present == (has == "has") {
            Ok(())
        } else {
            Err(Failure::conformance(format!(
                "message {seq} {} the flag {flag} on a later FETCH",
                if present { "has" } else { "lacks" }
            ))
            .expected(format!(
                "FLAGS {} {flag}",
                if has == "has" { "including" } else { "without" }
            ))
            .got(format!("FLAGS ({})", flags.join(" "))))
        }
    })
}

/// A message number, given as digits or as `${imap.found}`.
fn seq_arg(w: &World, s: &str) -> Result<u64, Failure> {
    let text = w.expand(s)?;
    text.parse()
        .map_err(|_| Failure::harness(format!("\"{text}\" is not a message number")))
}

fn test_message(name: &str) -> Result<&'static TestMessage, Failure> {
    messages::by_name(name).ok_or_else(|| Failure::harness(format!("no test message \"{name}\"")))
}

fn bytes_of(t: &Token) -> Vec<u8> {
    t.as_bytes().unwrap_or_default()
}

/// `whole text`, `header`, `body`, `part N`, `part N MIME header`.
fn expected_section(msg: &TestMessage, what: &str) -> Result<String, Failure> {
    let part = |s: &str| -> Result<usize, Failure> {
        s.parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| Failure::harness(format!("bad part number in \"{what}\"")))
    };
    if what == "whole text" {
        return Ok(msg.text());
    }
    if what == "header" {
        return Ok(msg.header.into());
    }
    if what == "body" {
        return Ok(msg.body.into());
    }
    if let Some(n) = what
        .strip_prefix("part ")
        .and_then(|r| r.strip_suffix(" MIME header"))
    {
        let n = part(n)?;
        return msg
            .part_headers
            .get(n - 1)
            .map(|s| s.to_string())
            .ok_or_else(|| {
                Failure::harness(format!(
                    "the {} test message has no part {n} header",
                    msg.name
                ))
            });
    }
    if let Some(n) = what.strip_prefix("part ") {
        let n = part(n)?;
        return msg.parts.get(n - 1).map(|s| s.to_string()).ok_or_else(|| {
            Failure::harness(format!("the {} test message has no part {n}", msg.name))
        });
    }
    Err(Failure::harness(format!("unknown section \"{what}\"")))
}

/// A FETCH item of the last reply is a section of a test message, byte for
/// byte (`whole text`, `header`, `body`, `part N`, `part N MIME header`).
#[then(regex = r#"^the FETCH item "(.+)" of message (\S+) is the (\w+) test message's (.+)$"#)]
async fn item_is_section(
    w: &mut World,
    item: String,
    seq: String,
    which: String,
    what: String,
) -> StepResult {
    step!(w, {
        let seq = seq_arg(w, &seq)?;
        let msg = test_message(&which)?;
        let expected = expected_section(msg, &what)?;
        let reply = last_reply(w, "")?;
        let got = bytes_of(&fetch_item(&reply, seq, &item)?);
        if got == expected.as_bytes() {
            Ok(())
        } else {
            Err(Failure::conformance(format!(
                "{item} of message {seq} is not the {which} message's {what}"
            ))
            .expected(quote(&expected))
            .got(quote(&String::from_utf8_lossy(&got))))
        }
    })
}

/// A FETCH item of the last reply is N octets long.
#[then(regex = r#"^the FETCH item "(.+)" of message (\S+) is (\d+) octets? long$"#)]
async fn item_length(w: &mut World, item: String, seq: String, n: usize) -> StepResult {
    step!(w, {
        let seq = seq_arg(w, &seq)?;
        let reply = last_reply(w, "")?;
        let got = bytes_of(&fetch_item(&reply, seq, &item)?);
        if got.len() == n {
            Ok(())
        } else {
            Err(
                Failure::conformance(format!("{item} of message {seq} has the wrong length"))
                    .expected(format!("{n} octets"))
                    .got(format!(
                        "{} octets: {}",
                        got.len(),
                        quote(&String::from_utf8_lossy(&got))
                    )),
            )
        }
    })
}

/// A FETCH item of the last reply is the size of the test message
/// (RFC822.SIZE).
#[then(regex = r#"^the FETCH item "(.+)" of message (\S+) is the size of the (\w+) test message$"#)]
async fn item_size(w: &mut World, item: String, seq: String, which: String) -> StepResult {
    step!(w, {
        let seq = seq_arg(w, &seq)?;
        let want = test_message(&which)?.text().len() as u64;
        let reply = last_reply(w, "")?;
        let got = fetch_item(&reply, seq, &item)?;
        if got.as_number() == Some(want) {
            Ok(())
        } else {
            Err(Failure::conformance(format!(
                "{item} of message {seq} is not the message's size in octets"
            ))
            .expected(want.to_string())
            .got(format!("{got:?}")))
        }
    })
}

/// A FETCH item of the last reply contains (or does not contain) the text.
#[then(regex = r#"^the FETCH item "(.+)" of message (\S+) (contains|does not contain) "(.*)"$"#)]
async fn item_contains(
    w: &mut World,
    item: String,
    seq: String,
    how: String,
    text: String,
) -> StepResult {
    step!(w, {
        let seq = seq_arg(w, &seq)?;
        let want = String::from_utf8_lossy(&payload(w, &text)?).into_owned();
        let reply = last_reply(w, "")?;
        let got = fetch_item(&reply, seq, &item)?;
        let rendered = render(&got);
        let present = rendered
            .to_ascii_lowercase()
            .contains(&want.to_ascii_lowercase());
        if present == (how == "contains") {
            Ok(())
        } else {
            Err(
                Failure::conformance(format!("{item} of message {seq} {how} \"{want}\" is false"))
                    .expected(format!("{item} that {how} \"{want}\""))
                    .got(quote(&rendered)),
            )
        }
    })
}

/// A token as text, lists in parentheses, strings quoted.
fn render(t: &Token) -> String {
    match t {
        Token::List(items) => format!(
            "({})",
            items.iter().map(render).collect::<Vec<_>>().join(" ")
        ),
        Token::Nil => "NIL".into(),
        Token::Quoted(b) | Token::Literal(b) => format!("\"{}\"", String::from_utf8_lossy(b)),
        other => other.as_text().unwrap_or_default(),
    }
}

fn numbers(list: &str) -> Vec<u64> {
    list.split([',', ' '])
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn search_hits(reply: &Reply) -> Result<Vec<u64>, Failure> {
    let r = untagged(reply)
        .into_iter()
        .find(|r| r.word(0).as_deref() == Some("SEARCH"))
        .ok_or_else(|| {
            Failure::conformance("no untagged SEARCH response (RFC 3501 §7.2.5)")
                .expected("\"* SEARCH …\"")
                .got(quote(&reply.text()))
        })?;
    let mut hits: Vec<u64> = r.tokens[1..].iter().filter_map(Token::as_number).collect();
    hits.sort_unstable();
    Ok(hits)
}

/// The SEARCH response of the last reply lists exactly these message numbers.
#[then(regex = r"^the SEARCH response lists exactly messages? (.+)$")]
async fn search_lists(w: &mut World, list: String) -> StepResult {
    step!(w, {
        let want = numbers(&list);
        let reply = last_reply(w, "")?;
        let got = search_hits(&reply)?;
        if got == want {
            Ok(())
        } else {
            Err(
                Failure::conformance("SEARCH found other messages than those that match")
                    .expected(format!("* SEARCH {want:?}"))
                    .got(format!("* SEARCH {got:?}")),
            )
        }
    })
}

/// The UID SEARCH response lists exactly the UIDs of these messages (asked
/// with FETCH UID).
#[then(regex = r"^the SEARCH response lists exactly the UIDs of messages? (.+)$")]
async fn search_lists_uids(w: &mut World, list: String) -> StepResult {
    step!(w, {
        let seqs = numbers(&list);
        let reply = last_reply(w, "")?;
        let got = search_hits(&reply)?;
        let set = seqs
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let uids_reply = imap_ok(w, "", &format!("FETCH {set} (UID)"), "FETCH UID").await?;
        let mut want = Vec::new();
        for s in &seqs {
            let uid = fetch_item(&uids_reply, *s, "UID")?;
            want.push(uid.as_number().unwrap_or_default());
        }
        want.sort_unstable();
        if got == want {
            Ok(())
        } else {
            Err(Failure::conformance(
                "UID SEARCH did not return the UIDs of the matching messages (RFC 3501 §6.4.8)",
            )
            .expected(format!("* SEARCH {want:?}"))
            .got(format!("* SEARCH {got:?}")))
        }
    })
}

/// After a new SELECT (the last reply): message `seq` has the UID noted
/// earlier, or the UIDVALIDITY of this SELECT is greater than the one noted
/// (RFC 3501 §2.3.1.1: a change of UIDs between sessions must show as a
/// greater UIDVALIDITY).
#[then(regex = r"^the UID of message (\d+) is as noted, or the new UIDVALIDITY is greater$")]
async fn uid_or_uidvalidity(w: &mut World, seq: u64) -> StepResult {
    step!(w, {
        let old_uid = w.expand("${imap.uid}")?;
        let old_validity: u64 = w
            .expand("${imap.uidvalidity}")?
            .parse()
            .map_err(|_| Failure::harness("the noted UIDVALIDITY is not a number"))?;
        let select = last_reply(w, "")?;
        if select.status != "OK" {
            return Err(Failure::conformance(
                "SELECT of the scratch mailbox failed in the new session",
            )
            .expected("OK")
            .got(quote(&select.text())));
        }
        let validity = untagged_lines(&select)
            .iter()
            .find_map(|l| {
                let (name, data) = crate::wire::imap::response_code(l)?;
                (name == "UIDVALIDITY").then(|| data.parse::<u64>().ok())?
            })
            .ok_or_else(|| {
                Failure::conformance(
                    "SELECT sent no OK [UIDVALIDITY n] (RFC 3501 §6.3.1: REQUIRED)",
                )
                .expected("\"* OK [UIDVALIDITY n]\"")
                .got(quote(&select.text()))
            })?;
        let reply = imap_ok(w, "", &format!("FETCH {seq} (UID)"), "FETCH UID").await?;
        let uid = fetch_item(&reply, seq, "UID")?
            .as_number()
            .map(|u| u.to_string())
            .unwrap_or_default();
        if validity > old_validity || (validity == old_validity && uid == old_uid) {
            return Ok(());
        }
        let problem = if validity < old_validity {
            "UIDVALIDITY went down between sessions (RFC 3501 §2.3.1.1: when UIDs do not persist it MUST be greater)"
        } else {
            "the UID of a message changed between sessions under the same UIDVALIDITY (RFC 3501 §2.3.1.1: a change MUST be detectable by UIDVALIDITY)"
        };
        Err(Failure::conformance(problem)
            .expected(format!(
                "UID {old_uid} with UIDVALIDITY {old_validity}, or a UIDVALIDITY above {old_validity}"
            ))
            .got(format!("UID {uid} with UIDVALIDITY {validity}")))
    })
}

/// Asks the UIDs of the messages itself (FETCH UID) and checks that they
/// strictly ascend with the sequence numbers (RFC 3501 §2.3.1.1).
#[then(regex = r"^the UIDs of messages (.+) ascend$")]
async fn uids_ascend(w: &mut World, list: String) -> StepResult {
    step!(w, {
        let seqs = numbers(&list);
        let set = seqs
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let reply = imap_ok(w, "", &format!("FETCH {set} (UID)"), "FETCH UID").await?;
        let mut uids = Vec::new();
        for s in &seqs {
            uids.push(
                fetch_item(&reply, *s, "UID")?
                    .as_number()
                    .unwrap_or_default(),
            );
        }
        if uids.windows(2).all(|p| p[0] < p[1]) {
            Ok(())
        } else {
            Err(
                Failure::conformance("UIDs do not ascend with the message numbers")
                    .expected(format!("strictly ascending UIDs for messages {seqs:?}"))
                    .got(format!("{uids:?}")),
            )
        }
    })
}

/// Every message named has a FETCH response carrying `item` (RFC 3501
/// §6.4.8: UID FETCH sends the UID of each message it answers for).
#[then(regex = r"^the FETCH responses of messages (.+) each carry (\S+)$")]
async fn each_carries(w: &mut World, list: String, item: String) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        for seq in numbers(&list) {
            let value = fetch_item(&reply, seq, &item)?;
            if item.eq_ignore_ascii_case("UID") && !value.as_number().is_some_and(|n| n > 0) {
                return Err(Failure::conformance(format!(
                    "the UID of message {seq} is not a non-zero number (RFC 3501 §2.3.1.1: nz-number)"
                ))
                .expected("UID n, n > 0")
                .got(quote(&reply.text())));
            }
        }
        Ok(())
    })
}

/// Replays the untagged EXPUNGE responses of the last reply on a mailbox of
/// `total` messages: each `* n EXPUNGE` removes the n-th message still
/// there and renumbers the later ones (RFC 3501 §7.4.1), so the removed
/// messages must be exactly those listed, whatever order the server took.
#[then(regex = r"^the EXPUNGE responses remove exactly messages (.+) of (\d+)$")]
async fn expunges_exactly(w: &mut World, list: String, total: u64) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        let mut left: Vec<u64> = (1..=total).collect();
        let mut removed = Vec::new();
        for r in untagged(&reply) {
            let Some((n, kind)) = r.numbered() else {
                continue;
            };
            if kind != "EXPUNGE" {
                continue;
            }
            let Some(i) = usize::try_from(n).ok().and_then(|n| n.checked_sub(1)) else {
                return Err(
                    Failure::conformance("\"* 0 EXPUNGE\": message numbers start at 1")
                        .got(quote(&reply.text())),
                );
            };
            if i >= left.len() {
                return Err(Failure::conformance(format!(
                    "\"* {n} EXPUNGE\" names a message past the end: {} left (RFC 3501 §7.4.1: later messages are renumbered at once)",
                    left.len()
                ))
                .got(quote(&reply.text())));
            }
            removed.push(left.remove(i));
        }
        removed.sort_unstable();
        let want = numbers(&list);
        if removed == want {
            Ok(())
        } else {
            Err(Failure::conformance(
                "the untagged EXPUNGE responses do not report each removed message (RFC 3501 §6.4.3: \"an untagged EXPUNGE response is sent for each message that is removed\")",
            )
            .expected(format!("EXPUNGE responses removing messages {want:?}"))
            .got(format!(
                "responses removing messages {removed:?}: {}",
                quote(&untagged_lines(&reply).join("\n"))
            )))
        }
    })
}

/// Reads the replies to commands sent without waiting until each tag named
/// has its completion, in whatever order the server completes them (RFC
/// 3501 §5.5: a server may process several at once); each must be OK.
#[then(regex = r#"^the commands tagged (.+) are each completed with OK$"#)]
async fn each_completed(w: &mut World, tags: String) -> StepResult {
    step!(w, {
        let mut waiting: Vec<String> = tags
            .split(['"', ',', ' '])
            .filter(|t| !t.is_empty() && *t != "and")
            .map(str::to_string)
            .collect();
        while !waiting.is_empty() {
            let reply = super::line::next_reply(w, "").await.map_err(|e| {
                e.or_expected(format!("the completion of \"{}\"", waiting.join("\", \"")))
            })?;
            let last = reply.lines.last().map(|l| l.text()).unwrap_or_default();
            let tag = last.split(' ').next().unwrap_or_default().to_string();
            if reply.status != "OK" {
                return Err(
                    Failure::conformance(format!("the command tagged \"{tag}\" failed"))
                        .expected(format!("\"{tag} OK …\""))
                        .got(quote(&last)),
                );
            }
            waiting.retain(|t| *t != tag);
        }
        Ok(())
    })
}

/// Asks STATUS itself and compares MESSAGES.
#[then(regex = r"^the (scratch|second scratch) mailbox holds (\d+) messages?$")]
async fn holds(w: &mut World, which: String, n: u64) -> StepResult {
    step!(w, {
        let name = scratch(w, &which)?;
        let reply = imap_ok(w, "", &format!("STATUS {name} (MESSAGES)"), "STATUS").await?;
        let got = status_item(&reply, "MESSAGES")?;
        if got == n {
            Ok(())
        } else {
            Err(Failure::conformance(format!(
                "the {which} mailbox holds another number of messages"
            ))
            .expected(format!("MESSAGES {n}"))
            .got(format!("MESSAGES {got}")))
        }
    })
}

fn status_item(reply: &Reply, item: &str) -> Result<u64, Failure> {
    for r in untagged(reply) {
        if r.word(0).as_deref() != Some("STATUS") {
            continue;
        }
        if let Some(list) = r.tokens.get(2).and_then(Token::as_list) {
            for pair in list.chunks(2) {
                if let [k, Token::Number(v)] = pair {
                    if k.as_text().is_some_and(|k| k.eq_ignore_ascii_case(item)) {
                        return Ok(*v);
                    }
                }
            }
        }
    }
    Err(
        Failure::conformance(format!("no STATUS response with {item} (RFC 3501 §7.2.4)"))
            .expected(format!("\"* STATUS name (… {item} n …)\""))
            .got(quote(&reply.text())),
    )
}

/// The STATUS response of the last reply reports this item with this value.
#[then(regex = r"^the STATUS response reports (\w+) (\S+)$")]
async fn status_reports(w: &mut World, item: String, n: String) -> StepResult {
    step!(w, {
        let n: u64 = w
            .expand(&n)?
            .parse()
            .map_err(|_| Failure::harness(format!("\"{n}\" is not a number")))?;
        let reply = last_reply(w, "")?;
        let got = status_item(&reply, &item)?;
        if got == n {
            Ok(())
        } else {
            Err(
                Failure::conformance(format!("STATUS reports a wrong {item}"))
                    .expected(format!("{item} {n}"))
                    .got(format!("{item} {got}")),
            )
        }
    })
}

/// The mailbox names of LIST/LSUB responses in a reply.
fn listed(reply: &Reply, verb: &str) -> Vec<String> {
    untagged(reply)
        .into_iter()
        .filter(|r| r.word(0).as_deref() == Some(verb))
        .filter_map(|r| r.tokens.get(3).and_then(Token::as_text))
        .collect()
}

/// Asks `LIST "" "*"` (or LSUB) itself and looks for `name`.
#[then(
    regex = r#"^(LIST|LSUB)(| with the pattern "[^"]*") (shows|does not show) the mailbox "(.*)"$"#
)]
async fn list_shows(
    w: &mut World,
    verb: String,
    pattern: String,
    how: String,
    name: String,
) -> StepResult {
    step!(w, {
        let name = unquote(&w.expand(&name)?);
        // `with the pattern "P"`: LIST "" "P" (RFC 3501 §6.3.8); else "*".
        let pattern = match pattern.split('"').nth(1) {
            Some(p) => w.expand(p)?,
            None => "*".to_string(),
        };
        let cmd = format!("{verb} \"\" {}", quoted(&pattern));
        let reply = imap_ok(w, "", &cmd, &verb).await?;
        let names = listed(&reply, &verb);
        let present = names.iter().any(|n| {
            n == &name || (n.eq_ignore_ascii_case("INBOX") && name.eq_ignore_ascii_case("INBOX"))
        });
        if present == (how == "shows") {
            Ok(())
        } else {
            Err(Failure::conformance(format!(
                "{verb} {} \"{name}\"",
                if present {
                    "still shows"
                } else {
                    "does not show"
                }
            ))
            .expected(format!("{verb} {how} \"{name}\""))
            .got(names.join(", ")))
        }
    })
}

/// Reads from `client`'s connection until an untagged `* n EXISTS` comes
/// (while it is in IDLE, RFC 2177).
#[then(regex = r"^(the client|client \w+) receives an untagged EXISTS response$")]
async fn receives_exists(w: &mut World, who: String) -> StepResult {
    step!(w, {
        let s = w.session(&client_name(&who))?;
        loop {
            let line = s
                .conn
                .read_line(64 * 1024, "an untagged EXISTS response")
                .await?;
            let text = line.text();
            if text.starts_with("* ") && text.to_ascii_uppercase().ends_with(" EXISTS") {
                return Ok(());
            }
            if !text.starts_with("* ") {
                return Err(Failure::conformance(
                    "a tagged response came during IDLE, before DONE",
                )
                .expected("\"* n EXISTS\"")
                .got(quote(&text)));
            }
        }
    })
}

/// Reads the responses to a command sent without waiting, until its tagged
/// completion (which must be OK) or an untagged BAD, which "indicates a
/// protocol-level error for which the associated command can not be
/// determined" (RFC 3501 §7.1.3): the server did not take the tag.
#[then(regex = r#"^the server completes the command tagged "(.+)" with OK$"#)]
async fn completes_tagged(w: &mut World, tag: String) -> StepResult {
    step!(w, {
        let s = w.session("")?;
        for _ in 0..100 {
            let text = s
                .conn
                .read_line(64 * 1024, "the tagged completion")
                .await?
                .text();
            if let Some(rest) = text.strip_prefix(&format!("{tag} ")) {
                if rest.to_ascii_uppercase().starts_with("OK") {
                    return Ok(());
                }
                return Err(
                    Failure::conformance(format!("the command tagged \"{tag}\" failed"))
                        .expected(format!("\"{tag} OK …\""))
                        .got(quote(&text)),
                );
            }
            if text.to_ascii_uppercase().starts_with("* BAD") {
                return Err(Failure::conformance(format!(
                    "the server answered with an untagged BAD: it did not take \"{tag}\" for a tag (RFC 3501 §9: tag = 1*<any ASTRING-CHAR except \"+\">)"
                ))
                .expected(format!("\"{tag} OK …\""))
                .got(quote(&text)));
            }
        }
        Err(Failure::conformance(
            "more than 100 responses to one command, without its completion",
        ))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn unquote() {
        assert_eq!(super::unquote("INBOX.a"), "INBOX.a");
        assert_eq!(
            super::unquote(&super::quoted("My \"Mail\"\\x")),
            "My \"Mail\"\\x"
        );
    }

    #[test]
    fn messages_are_crlf() {
        for m in super::messages::ALL {
            let t = m.text();
            assert!(!t.replace("\r\n", "").contains('\n'), "{}", m.name);
        }
    }
}
