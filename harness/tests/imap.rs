//! The IMAP suite end to end: against the bundled server, through `conform
//! serve` with Python's imaplib, and against faulty servers, each a proxy
//! in front of the reference server that breaks one rule: a tagged
//! completion with the wrong tag, a literal whose length is off by one, and
//! STORE +FLAGS that is answered OK but never done.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::{
    assert_fails_with, assert_has, bundled_run_passes, cases, conform, proxy, python_client,
    run_against, serve,
};
use reference_servers::mailstore::{Accounts, MailStore};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

#[tokio::test(flavor = "multi_thread")]
async fn the_bundled_server_passes_and_junit_loads() {
    let (run, suites) = bundled_run_passes(&["imap"], &[], 70).await;
    // The reference server meets the SHOULDs too: no warning.
    assert!(
        run.stdout.contains(" 0 failed, 0 errors, 0 warnings"),
        "{}",
        run.all()
    );
    // The end-to-end scenario (SMTP delivery) ran too.
    assert!(
        cases(&suites)
            .iter()
            .any(|c| c.original_name.contains("delivered by SMTP")),
        "the end-to-end scenario ran"
    );
}

/// The reference server on a fresh store holding bob's empty INBOX.
async fn reference_server() -> (SocketAddr, reference_servers::Running, tempfile::TempDir) {
    reference_server_with(None).await
}

/// The same, with a personal namespace prefix (RFC 2342) outside which
/// CREATE is refused, as on dovecot with `prefix = INBOX.`.
async fn reference_server_with(
    namespace: Option<&str>,
) -> (SocketAddr, reference_servers::Running, tempfile::TempDir) {
    reference_server_flipped(namespace, Default::default()).await
}

/// [`reference_server_with`], with the server's behaviour flipped by
/// `faults`.
async fn reference_server_flipped(
    namespace: Option<&str>,
    faults: reference_servers::imap::Faults,
) -> (SocketAddr, reference_servers::Running, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = MailStore::open(dir.path()).unwrap();
    store.create_user("bob").unwrap();
    store.create_user("carol").unwrap();
    let mut config = reference_servers::imap::Config::new(
        Accounts::new().with("bob", "hungry").with("carol", "lunch"),
    );
    config.namespace = namespace.map(str::to_string);
    config.faults = faults;
    let running = reference_servers::imap::start([127, 0, 0, 1].into(), 0, config, store)
        .await
        .unwrap();
    let addr = running.addr("imap").unwrap();
    (addr, running, dir)
}

#[derive(Clone, Copy)]
enum Fault {
    /// The tagged completion of every command tagged `a1` carries `x1`.
    WrongTag,
    /// Literals in FETCH responses announce one octet more than they hold.
    LiteralOffByOne,
    /// `STORE … +FLAGS …` is answered `OK` and never reaches the server.
    IgnoresStoreFlags,
    /// Every UID the server sends is shifted by the connection's number:
    /// UIDs change between sessions, UIDVALIDITY does not.
    UidsShiftPerSession,
    /// A command whose tag holds "]" gets an untagged BAD (dovecot).
    RejectsBracketInTag,
    /// CREATE of a name one level under another is refused.
    RefusesNestedCreate,
    /// The NAMESPACE response lacks two of its three classes.
    BrokenNamespace,
    /// The completion of the command tagged `p2` never comes.
    DropsSecondCompletion,
    /// FETCH responses for messages 1 and 2 lose their UID item.
    UidOnLastOnly,
    /// Only the first untagged EXPUNGE of a connection is passed on.
    ReportsOneExpunge,
    /// `STORE … FLAGS` is done as `+FLAGS`.
    StoreFlagsAdds,
    /// A SELECT of another mailbox than the first is refused without
    /// leaving the first: the selection stays.
    KeepsSelectionOnFailedSelect,
    /// No untagged EXISTS after the SELECT.
    NoExistsAfterAppend,
    /// `n:m` with m < n and `n:*` are taken for `n` alone.
    NarrowRanges,
    /// The message/rfc822 part of a BODYSTRUCTURE tells one octet less
    /// than it holds (68 → 67).
    NestedSizeOffByOne,
    /// UID FETCH of a UID that does not exist is answered NO.
    NonexistentUidErrors,
    /// Every RENAME is answered OK by the proxy and never reaches the
    /// server.
    RenameAlwaysOk,
    /// SEARCH keys lost on the way: NOT and LARGER dropped, HEADER Subject
    /// searched in To, a sequence set taken from its first number to the
    /// end, an unknown CHARSET taken for US-ASCII.
    SearchKeysLost,
    /// `%` in a LIST pattern is taken for `*`.
    PercentAsStar,
    /// A non-synchronising literal `{n+}` goes upstream as `{n}`: the
    /// server's continuation request reaches the client.
    NoLiteralPlus,
}

static CONNECTIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// `UID n` in a server line, with `n + by`.
fn shift_uids(line: &[u8], by: u64) -> Vec<u8> {
    let text = String::from_utf8_lossy(line);
    let mut out = String::new();
    let mut rest: &str = &text;
    while let Some(i) = rest.find("UID ") {
        out.push_str(&rest[..i + 4]);
        rest = &rest[i + 4..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<u64>() {
            Ok(n) => out.push_str(&(n + by).to_string()),
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out.into_bytes()
}

/// A proxy in front of `upstream` that breaks the protocol as `fault` says.
async fn faulty(upstream: SocketAddr, fault: Fault) -> SocketAddr {
    proxy(upstream, move |client, server| relay(client, server, fault)).await
}

async fn relay(client: TcpStream, server: TcpStream, fault: Fault) {
    let session = CONNECTIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) * 1000;
    let mut expunges = 0;
    let (cr, cw) = client.into_split();
    let (sr, mut sw) = server.into_split();
    let cw = Arc::new(Mutex::new(cw));
    // Server to client: response by response (line plus literals).
    let to_client = {
        let cw = cw.clone();
        async move {
            let mut sr = BufReader::new(sr);
            loop {
                let mut line = Vec::new();
                if sr.read_until(b'\n', &mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                let literal = literal_len(&line);
                let mut data = vec![0u8; literal.unwrap_or(0)];
                if literal.is_some() && sr.read_exact(&mut data).await.is_err() {
                    return;
                }
                match fault {
                    Fault::WrongTag if line.starts_with(b"a1 ") => {
                        line.splice(0..2, b"x1".iter().copied());
                    }
                    Fault::LiteralOffByOne if literal.is_some() && line.starts_with(b"* ") => {
                        let n = literal.unwrap_or(0);
                        let at = line.iter().rposition(|c| *c == b'{').unwrap_or(0);
                        line.truncate(at);
                        line.extend_from_slice(format!("{{{}}}\r\n", n + 1).as_bytes());
                    }
                    Fault::BrokenNamespace if line.starts_with(b"* NAMESPACE ") => {
                        line = b"* NAMESPACE ((\"INBOX.\"))\r\n".to_vec();
                    }
                    Fault::UidsShiftPerSession if line.starts_with(b"* ") => {
                        line = shift_uids(&line, session);
                    }
                    Fault::DropsSecondCompletion if line.starts_with(b"p2 ") => continue,
                    Fault::NestedSizeOffByOne
                        if line.starts_with(b"* ")
                            && line.windows(13).any(|w| w == b"BODYSTRUCTURE") =>
                    {
                        let text = String::from_utf8_lossy(&line).into_owned();
                        let re = regex::Regex::new(r#"(?i)("rfc822" [^()]*?) 68 \("#).unwrap();
                        line = re.replace(&text, "$1 67 (").into_owned().into_bytes();
                    }
                    Fault::NoExistsAfterAppend if line.starts_with(b"* 4 EXISTS") => continue,
                    Fault::UidOnLastOnly
                        if line.starts_with(b"* 1 FETCH") || line.starts_with(b"* 2 FETCH") =>
                    {
                        let text = String::from_utf8_lossy(&line).into_owned();
                        let re = regex::Regex::new(r"UID [0-9]+ ?").unwrap();
                        line = re.replace_all(&text, "").into_owned().into_bytes();
                    }
                    Fault::ReportsOneExpunge
                        if line.starts_with(b"* ") && line.ends_with(b" EXPUNGE\r\n") =>
                    {
                        expunges += 1;
                        if expunges > 1 {
                            continue;
                        }
                    }
                    _ => {}
                }
                line.extend_from_slice(&data);
                if cw.lock().await.write_all(&line).await.is_err() {
                    return;
                }
            }
        }
    };
    // Client to server: line by line; literal data passes as lines too.
    let to_server = async move {
        let mut cr = BufReader::new(cr);
        let mut first_selected: Option<String> = None;
        loop {
            let mut line = Vec::new();
            if cr.read_until(b'\n', &mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let text = String::from_utf8_lossy(&line).to_ascii_uppercase();
            let words: Vec<String> = String::from_utf8_lossy(&line)
                .split_whitespace()
                .map(str::to_string)
                .collect();
            if matches!(fault, Fault::NarrowRanges) && text.contains(" FETCH ") {
                line = String::from_utf8_lossy(&line)
                    .replace(" 3:2 ", " 3 ")
                    .replace(" 2:* ", " 2 ")
                    .into_bytes();
            }
            if matches!(fault, Fault::NonexistentUidErrors)
                && text.contains(" UID FETCH 4000000000")
            {
                let reply = format!("{} NO no such message\r\n", words[0]);
                if cw.lock().await.write_all(reply.as_bytes()).await.is_err() {
                    return;
                }
                continue;
            }
            if matches!(fault, Fault::NoLiteralPlus) && text.ends_with("+}\r\n") {
                let at = line.len() - 4;
                line.remove(at);
            }
            if matches!(fault, Fault::PercentAsStar) && text.contains(" LIST ") {
                line = String::from_utf8_lossy(&line)
                    .replace('%', "*")
                    .into_bytes();
            }
            if matches!(fault, Fault::SearchKeysLost) && text.contains(" SEARCH ") {
                line = String::from_utf8_lossy(&line)
                    .replace(" NOT ", " ")
                    .replace(" LARGER 200", "")
                    .replace(" HEADER Subject ", " TO ")
                    .replace(" 1,3:*", " 1:*")
                    .replace("CHARSET X-CONFORM-UNKNOWN", "CHARSET US-ASCII")
                    .into_bytes();
            }
            if matches!(fault, Fault::RenameAlwaysOk)
                && words
                    .get(1)
                    .is_some_and(|v| v.eq_ignore_ascii_case("RENAME"))
            {
                let reply = format!("{} OK RENAME completed\r\n", words[0]);
                if cw.lock().await.write_all(reply.as_bytes()).await.is_err() {
                    return;
                }
                continue;
            }
            if matches!(fault, Fault::StoreFlagsAdds) && text.contains(" STORE ") {
                line = String::from_utf8_lossy(&line)
                    .replace(" FLAGS (", " +FLAGS (")
                    .into_bytes();
            }
            if matches!(fault, Fault::KeepsSelectionOnFailedSelect)
                && words
                    .get(1)
                    .is_some_and(|v| v.eq_ignore_ascii_case("SELECT"))
            {
                let name = words.get(2).cloned().unwrap_or_default();
                match &first_selected {
                    None => first_selected = Some(name),
                    Some(first) if *first != name => {
                        let reply = format!("{} NO [NONEXISTENT] No such mailbox\r\n", words[0]);
                        if cw.lock().await.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    _ => {}
                }
            }
            if matches!(fault, Fault::RefusesNestedCreate)
                && text.contains(" CREATE ")
                && text.contains(".CHILD")
            {
                let tag = String::from_utf8_lossy(&line)
                    .split(' ')
                    .next()
                    .unwrap_or("*")
                    .to_string();
                let reply = format!("{tag} NO [CANNOT] no such parent\r\n");
                if cw.lock().await.write_all(reply.as_bytes()).await.is_err() {
                    return;
                }
                continue;
            }
            let tag_has_bracket = text.split(' ').next().is_some_and(|t| t.contains(']'));
            if matches!(fault, Fault::RejectsBracketInTag) && tag_has_bracket {
                let reply = b"* BAD Error in IMAP command received by server.\r\n";
                if cw.lock().await.write_all(reply).await.is_err() {
                    return;
                }
                continue;
            }
            if matches!(fault, Fault::IgnoresStoreFlags)
                && text.contains(" STORE ")
                && text.contains("+FLAGS")
            {
                let tag = text.split(' ').next().unwrap_or("*").to_string();
                let tag = String::from_utf8_lossy(&line[..tag.len()]).into_owned();
                let reply = format!("{tag} OK STORE completed\r\n");
                if cw.lock().await.write_all(reply.as_bytes()).await.is_err() {
                    return;
                }
                continue;
            }
            if sw.write_all(&line).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        _ = to_client => {}
        _ = to_server => {}
    }
}

fn literal_len(line: &[u8]) -> Option<usize> {
    let body = line.strip_suffix(b"}\r\n")?;
    let open = body.iter().rposition(|c| *c == b'{')?;
    std::str::from_utf8(&body[open + 1..]).ok()?.parse().ok()
}

async fn run_with(fault: Fault) -> common::Run {
    let (upstream, _running, _dir) = reference_server().await;
    let addr = faulty(upstream, fault).await;
    let profile = format!("[imap]\naddress = \"{addr}\"\nuser = \"bob\"\npassword = \"hungry\"\n");
    run_against("imap", &profile, &["--step-timeout", "2s"]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_completion_with_the_wrong_tag_fails_with_the_transcript() {
    let run = run_with(Fault::WrongTag).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/imap/session.feature",
            "step:        When the client sends \"a1 NOOP\"",
            "the command's tag is \"a1\", but the completion carries \"x1\"",
            "expected:    a IMAP reply to \"a1 NOOP\"",
            "C: a1 NOOP\\r\\n",
            "S: x1 OK NOOP completed\\r\\n",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_literal_length_off_by_one_fails_with_the_transcript() {
    let run = run_with(Fault::LiteralOffByOne).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/imap/messages.feature",
            "FETCH BODY[HEADER] returns only the header, with its blank line",
            "problem:     malformed",
            "S: * 1 FETCH (BODY[HEADER] {184}\\r\\n",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_ignores_store_flags_fails_with_the_transcript() {
    let run = run_with(Fault::IgnoresStoreFlags).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/imap/messages.feature",
            "A flag added by STORE +FLAGS is kept",
            "message 2 lacks the flag \\Flagged on a later FETCH",
            "C: a1 STORE 2 +FLAGS (\\\\Flagged)\\r\\n",
            "S: a1 OK STORE completed\\r\\n",
        ],
    );
}

/// UIDs that change between sessions under the same UIDVALIDITY fail the
/// RFC 3501 §2.3.1.1 MUST; the other UID scenarios still pass.
#[tokio::test(flavor = "multi_thread")]
async fn uids_that_change_between_sessions_under_one_uidvalidity_fail() {
    let (upstream, _running, _dir) = reference_server().await;
    let addr = faulty(upstream, Fault::UidsShiftPerSession).await;
    let run = run_against("imap", &bob(addr, ""), &["--tags", "@rfc3501-sec-2.3.1.1"]).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/imap/mailboxes.feature",
            "A UID that changes between sessions comes with a greater UIDVALIDITY",
            "the UID of a message changed between sessions under the same UIDVALIDITY",
            "imap: 4 passed, 1 failed, 0 errors",
        ],
    );
}

/// RFC 3501 §9: "]" is an ASTRING-CHAR, so "a]1" is a tag.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_rejects_a_bracket_in_a_tag_fails() {
    let run = run_with(Fault::RejectsBracketInTag).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/imap/session.feature",
            "A tag containing \"]\" gets its completion",
            "it did not take \"a]1\" for a tag",
            "S: * BAD Error in IMAP command received by server.\\r\\n",
        ],
    );
}

/// RFC 3501 §6.3.3: the server SHOULD create the superior names; refusing
/// a nested CREATE is a warning, not a failure.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_refuses_a_nested_create_gets_a_warning() {
    let (upstream, _running, _dir) = reference_server().await;
    let addr = faulty(upstream, Fault::RefusesNestedCreate).await;
    let run = run_against("imap", &bob(addr, ""), &["--tags", "@rfc3501-sec-6.3.3"]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert_has(
        &run,
        &[
            "WARN  features/imap/mailboxes.feature",
            "CREATE of a name under a parent that does not exist creates the parent too",
            ".child\\r\\n",
            "NO [CANNOT] no such parent",
            "imap: 3 passed, 0 failed, 0 errors, 1 warnings",
        ],
    );
}

/// The three §1 checks of issue 13 that used to pass a broken server.
async fn tagged_with(fault: Fault, tags: &str) -> common::Run {
    let (upstream, _running, _dir) = reference_server().await;
    let addr = faulty(upstream, fault).await;
    run_against(
        "imap",
        &bob(addr, ""),
        &["--step-timeout", "2s", "--tags", tags],
    )
    .await
}

/// RFC 3501 §5.5: a server that never completes the second of two
/// pipelined commands fails.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_never_completes_the_second_pipelined_command_fails() {
    let run = tagged_with(Fault::DropsSecondCompletion, "@rfc3501-sec-5.5").await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/imap/session.feature",
            "Pipelined commands are answered each with its own tag",
            "the completion of \"p2\"",
            "C: p2 CAPABILITY\\r\\n",
        ],
    );
}

/// RFC 3501 §6.4.8: UID FETCH sends the UID of every message, not only
/// the last.
#[tokio::test(flavor = "multi_thread")]
async fn uid_fetch_without_the_uid_of_every_message_fails() {
    let run = tagged_with(Fault::UidOnLastOnly, "@rfc3501-sec-6.4.8").await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/imap/messages.feature",
            "UID FETCH returns the UID with every message",
            "the FETCH response for message 1 lacks UID",
        ],
    );
}

/// RFC 3501 §6.4.3: one EXPUNGE response for two removed messages fails.
#[tokio::test(flavor = "multi_thread")]
async fn one_expunge_response_for_two_removed_messages_fails() {
    let run = tagged_with(Fault::ReportsOneExpunge, "@rfc3501-sec-6.4.3").await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/imap/messages.feature",
            "EXPUNGE removes the \\Deleted messages and reports each",
            "do not report each removed message",
        ],
    );
}

/// Issue 13 §3: STORE FLAGS replaces (§6.4.6), a failed SELECT leaves
/// nothing selected (§6.3.1), APPEND to the selected mailbox reports
/// EXISTS (§6.3.11, a SHOULD: a warning).
#[tokio::test(flavor = "multi_thread")]
async fn imap_breadth_checks_fail_against_servers_that_break_them() {
    let run = tagged_with(Fault::StoreFlagsAdds, "@rfc3501-sec-6.4.6").await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/imap/messages.feature",
            "STORE FLAGS replaces the flags",
            "message 1 has the flag \\Answered on a later FETCH",
        ],
    );
    let run = tagged_with(Fault::KeepsSelectionOnFailedSelect, "@rfc3501-sec-6.3.1").await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/imap/messages.feature",
            "A failed SELECT leaves no mailbox selected",
            "expected:    one of BAD, NO",
        ],
    );
    let run = tagged_with(
        Fault::NarrowRanges,
        "@rfc3501-sec-9 and not @rfc3501-sec-2.2.1",
    )
    .await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/imap/messages.feature",
            "A sequence range names every message between its ends",
            "no FETCH response for message 3",
            "C: a1 FETCH 3:2 (FLAGS)",
            " 2 failed, 0 errors",
        ],
    );
    let run = tagged_with(Fault::NonexistentUidErrors, "@rfc3501-sec-6.4.8").await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/imap/messages.feature",
            "UID FETCH of a UID that does not exist completes with OK and no data",
            "S: a1 NO no such message",
        ],
    );
    let run = tagged_with(Fault::NoExistsAfterAppend, "@rfc3501-sec-6.3.11").await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert_has(
        &run,
        &[
            "WARN  features/imap/messages.feature",
            "APPEND into the selected mailbox reports the new message with EXISTS",
            "no untagged response matches",
        ],
    );
}

/// Issue 13 §3: RENAME onto an existing name or from a missing one fails
/// (§6.3.5); SEARCH NOT, HEADER, a sequence set, LARGER/SMALLER and an
/// unknown CHARSET (§6.4.4; its BADCHARSET is a SHOULD: --strict).
#[tokio::test(flavor = "multi_thread")]
async fn rename_errors_and_search_keys_are_judged() {
    let run = tagged_with(Fault::RenameAlwaysOk, "@rfc3501-sec-6.3.5").await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/imap/mailboxes.feature",
            "RENAME onto the name of an existing mailbox fails with NO",
            "RENAME of a mailbox that does not exist fails with NO",
            "S: a1 OK RENAME completed",
        ],
    );
    let run = tagged_with(Fault::NoLiteralPlus, "@rfc7888-sec-3").await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/imap/mailboxes.feature",
            "APPEND with a non-synchronising literal adds a message where LITERAL+ is announced",
            "expected:    OK",
            "S: + ",
        ],
    );
    let run = tagged_with(Fault::PercentAsStar, "@rfc3501-sec-6.3.8").await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/imap/mailboxes.feature",
            "LIST with % stops at the hierarchy delimiter, LIST with * goes on",
            "LIST still shows",
        ],
    );
    let (upstream, _running, _dir) = reference_server().await;
    let addr = faulty(upstream, Fault::SearchKeysLost).await;
    let run = run_against(
        "imap",
        &bob(addr, ""),
        &[
            "--step-timeout",
            "2s",
            "--tags",
            "@rfc3501-sec-6.4.4",
            "--strict",
        ],
    )
    .await;
    for name in [
        "SEARCH NOT matches the messages the key does not",
        "SEARCH HEADER matches a header field's contents",
        "SEARCH by a sequence set matches those messages",
        "SEARCH LARGER and SMALLER compare RFC822.SIZE",
        "SEARCH with a charset the server does not have fails with NO",
        "The NO to an unknown SEARCH charset carries BADCHARSET",
    ] {
        assert!(
            run.stdout
                .lines()
                .any(|l| l.starts_with("FAIL") && l.contains(name)),
            "{name}\n{}",
            run.all()
        );
    }
    assert_fails_with(
        &run,
        &[
            "PASS  features/imap/messages.feature",
            "SEARCH ALL lists every message",
        ],
    );
}

fn bob(addr: SocketAddr, extra: &str) -> String {
    format!("[imap]\naddress = \"{addr}\"\nuser = \"bob\"\npassword = \"hungry\"\n{extra}")
}

/// A server that takes new mailboxes only under `INBOX.` (announced with
/// NAMESPACE): the whole suite passes, every scratch mailbox under the
/// prefix, and none is left behind.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_with_an_inbox_namespace_passes() {
    let (addr, _running, dir) = reference_server_with(Some("INBOX.")).await;
    let json = dir.path().join("run.json");
    let json_arg = json.to_str().unwrap();
    let run = run_against("imap", &bob(addr, ""), &["--json", json_arg]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains(" 0 failed, 0 errors"), "{}", run.all());
    let report = std::fs::read_to_string(&json).unwrap();
    assert!(report.contains("* NAMESPACE (("), "NAMESPACE was asked");
    assert!(
        report.contains("CREATE INBOX.conform-"),
        "scratch under INBOX."
    );
    assert!(
        !report.contains("CREATE conform-"),
        "no scratch at top level"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path().join("bob/Maildir"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n.contains("conform-"))
        .collect();
    assert!(left.is_empty(), "scratch mailboxes left behind: {left:?}");
}

/// The profile's keys override NAMESPACE: pointing them at top level on
/// that server makes every scenario that needs a scratch mailbox an error
/// that names the key to fix, not a conformance failure.
#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_namespace_prefix_is_an_error_naming_the_key() {
    let (addr, _running, _dir) = reference_server_with(Some("INBOX.")).await;
    let profile = bob(addr, "namespace_prefix = \"\"\ndelimiter = \".\"\n");
    let run = run_against("imap", &profile, &["--tags", "@rfc3501-sec-6.4.5"]).await;
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stdout.contains(" 0 failed,"), "{}", run.all());
    assert_has(
        &run,
        &[
            "ERROR features/imap/messages.feature",
            "the server refused to create the scratch mailbox conform-",
            "placed by the profile's imap.namespace_prefix and imap.delimiter",
            "set [imap] namespace_prefix",
            "NO [CANNOT] Mailboxes can be created only under the personal namespace",
        ],
    );
}

/// A malformed NAMESPACE response fails the NAMESPACE scenario (RFC 2342
/// §5); the scenarios that need a scratch mailbox cannot tell where it goes
/// and are errors naming the keys, until the profile sets them.
#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_namespace_response_fails_and_the_profile_keys_take_over() {
    let (upstream, _running, _dir) = reference_server_with(Some("INBOX.")).await;
    let addr = faulty(upstream, Fault::BrokenNamespace).await;
    let tags = ["--tags", "@rfc2342 or @rfc3501-sec-6.3.10"];
    let run = run_against("imap", &bob(addr, ""), &tags).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/imap/mailboxes.feature",
            "NAMESPACE answers with the three namespace classes",
            "ERROR features/imap/mailboxes.feature",
            "the server announces NAMESPACE but its answer is unusable",
            "set [imap] namespace_prefix and delimiter in the profile",
            "imap: 0 passed, 1 failed, 2 errors",
        ],
    );
    let keys = "namespace_prefix = \"INBOX.\"\ndelimiter = \".\"\n";
    let run = run_against("imap", &bob(addr, keys), &tags).await;
    assert_fails_with(&run, &["imap: 2 passed, 1 failed, 0 errors"]);
}

/// `conform serve imap` as an external target: Python's imaplib logs in,
/// selects, searches, fetches and stores flags (harness/tests/clients).
#[tokio::test(flavor = "multi_thread")]
async fn python_imaplib_against_conform_serve() {
    let served = serve(&["imap"]).await;
    let out = python_client(
        "imap_client.py",
        &[served.profile.as_os_str()],
        Duration::from_secs(60),
    )
    .await;
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(out.ok, "{text}");
    assert!(text.contains("imaplib client: ok"), "{text}");
    // The run against the same server passes too (external-target path).
    let run = conform(&["run", "imap", "--target", served.profile_arg()]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    served.kill().await;
}

/// RFC 3501 §2.3.2: a flag PERMANENTFLAGS lists is seen by the next
/// session. The reference server passes; flipped to keep STORE's changes
/// in the session only, it fails.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_keeps_flags_in_the_session_only_fails() {
    let faults = reference_servers::imap::Faults {
        session_only_flags: true,
        ..Default::default()
    };
    passes_then_fails_flipped(
        "@rfc3501-sec-2.3.2",
        faults,
        &[
            "FAIL  features/imap/mailboxes.feature",
            "A permanent flag stored in one session is seen by the next",
            "requirement: MUST · RFC 3501 §2.3.2",
        ],
    )
    .await;
}

/// The scenario `tags` select passes on the reference server (alone) and
/// fails, with `expected` in the report, on the server flipped by `faults`.
async fn passes_then_fails_flipped(
    tags: &str,
    faults: reference_servers::imap::Faults,
    expected: &[&str],
) {
    let args = ["--step-timeout", "2s", "--tags", tags];
    let (addr, _r, _d) = reference_server().await;
    let run = run_against("imap", &bob(addr, ""), &args).await;
    assert_eq!(run.code, 0, "{}", run.all());
    common::assert_has(&run, &["imap: 1 passed, 0 failed"]);
    let (addr, _r, _d) = reference_server_flipped(None, faults).await;
    let run = run_against("imap", &bob(addr, ""), &args).await;
    assert_fails_with(&run, expected);
}

/// RFC 3501 §7.1: where PERMANENTFLAGS has `\\*`, a stored keyword is kept
/// (the reference server names it in the folder's dovecot-keywords); a
/// server that announces `\\*` and drops keywords fails.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_drops_keywords_under_a_star_fails() {
    let faults = reference_servers::imap::Faults {
        drops_keywords: true,
        ..Default::default()
    };
    passes_then_fails_flipped(
        "@rfc3501-sec-7.1 and @rfc9051-sec-7.1",
        faults,
        &[
            "FAIL  features/imap/mailboxes.feature",
            "message 2 lacks the flag conformkw on a later FETCH",
            "requirement: MUST · RFC 3501 §7.1",
        ],
    )
    .await;
}

const SPARE: &str = "spare_user = \"carol\"\nspare_password = \"lunch\"\n";

/// RFC 3501 §6.3.5: RENAME INBOX moves the spare user's INBOX to the new
/// name and leaves INBOX empty; afterwards the run has put the message
/// carol already had back in INBOX and left nothing else. A server that
/// copies instead of moving fails; without a spare user in the profile
/// the scenario skips and says why.
#[tokio::test(flavor = "multi_thread")]
async fn rename_inbox_moves_the_spare_users_messages_and_the_run_puts_them_back() {
    let args = ["--step-timeout", "2s", "--tags", "@rfc9051-sec-6.3.6"];
    let (addr, _r, dir) = reference_server().await;
    let carol = MailStore::open(dir.path()).unwrap().inbox("carol").unwrap();
    carol
        .append(
            b"Subject: kept\r\nMessage-ID: <kept@x.test>\r\n\r\nhi\r\n",
            "S",
        )
        .unwrap();
    let run = run_against("imap", &bob(addr, SPARE), &args).await;
    assert_eq!(run.code, 0, "{}", run.all());
    common::assert_has(&run, &["imap: 1 passed, 0 failed"]);
    let left = carol.list().unwrap();
    assert_eq!(left.len(), 1, "carol's INBOX after the run: {left:?}");
    let kept = String::from_utf8(carol.read(&left[0].unique).unwrap()).unwrap();
    assert!(kept.contains("<kept@x.test>"), "{kept}");
    let store = MailStore::open(dir.path()).unwrap();
    assert_eq!(store.folders("carol").unwrap(), vec!["INBOX".to_string()]);

    let run = run_against("imap", &bob(addr, ""), &args).await;
    assert_eq!(run.code, 0, "{}", run.all());
    common::assert_has(&run, &["SKIP", "names no [imap] spare_user"]);

    let faults = reference_servers::imap::Faults {
        inbox_rename_copies: true,
        ..Default::default()
    };
    let (addr, _r, _d) = reference_server_flipped(None, faults).await;
    let run = run_against("imap", &bob(addr, SPARE), &args).await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/imap/mailboxes.feature",
            "INBOX still holds 1 of its 1 messages",
            "requirement: MUST · RFC 3501 §6.3.5",
        ],
    );
}

/// A spare user the server refuses is the profile's to fix: exit 2, the
/// key named.
#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_spare_password_is_a_configuration_error() {
    let (addr, _r, _d) = reference_server().await;
    let profile = bob(addr, "spare_user = \"carol\"\nspare_password = \"nope\"\n");
    let run = run_against("imap", &profile, &["--tags", "@rfc9051-sec-6.3.6"]).await;
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("[imap] spare_password: LOGIN as \"carol\" was refused"),
        "{}",
        run.all()
    );
}

/// RFC 3501 §7.4.2: the BODYSTRUCTURE of the forwarded message matches its
/// bytes field by field; one octet off in the nested message fails.
#[tokio::test(flavor = "multi_thread")]
async fn a_bodystructure_one_octet_off_in_the_nested_message_fails() {
    let run = tagged_with(Fault::NestedSizeOffByOne, "@rfc9051-sec-7.5.2").await;
    assert_fails_with(
        &run,
        &[
            "FAIL  features/imap/messages.feature",
            "BODYSTRUCTURE of a forwarded message describes its parts",
            "part 2: 67 octets, not 68",
        ],
    );
    let (addr, _r, _d) = reference_server().await;
    let run = run_against(
        "imap",
        &bob(addr, ""),
        &["--step-timeout", "2s", "--tags", "@rfc9051-sec-7.5.2"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.all());
    common::assert_has(&run, &["imap: 1 passed, 0 failed"]);
}
