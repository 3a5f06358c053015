//! Where an IMAP reply ends. A command's reply is every untagged response
//! (`* …`) up to the tagged completion that carries the command's tag
//! (RFC 3501 §2.2.2, RFC 9051 §2.2.2), or a continuation request (`+ …`,
//! §7.5) when the server wants more from the client. A response line that
//! ends in `{n}` is followed by exactly `n` bytes of literal data and then
//! the rest of the response (§4.3): the reader reads them by count.

use std::sync::Mutex;

use futures::future::BoxFuture;

use super::syntax::parse_response;
use crate::wire::{Conn, Line, Reply, ReplyReader, Terminator, WireError};

/// Bounds on what one reply may hold.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// One line of a response, literals excluded.
    pub line: usize,
    /// One literal.
    pub literal: usize,
    /// Everything in one reply (all its responses).
    pub reply: usize,
    /// Responses in one reply.
    pub responses: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            line: 64 * 1024,
            literal: 16 * 1024 * 1024,
            reply: 32 * 1024 * 1024,
            responses: 100_000,
        }
    }
}

/// What the reader expects next on its connection.
#[derive(Default)]
struct Pending {
    /// Tags of commands sent and not yet completed, oldest first (several
    /// when the client pipelines, RFC 3501 §5.5).
    outstanding: Vec<String>,
    /// A command has been sent: the greeting is behind us.
    sent_any: bool,
    /// The last reply was a continuation request: the next line the client
    /// sends continues the same command (literal data, SASL, IDLE's DONE).
    continuing: bool,
}

pub struct ImapReader {
    pub limits: Limits,
    pending: Mutex<Pending>,
}

impl Default for ImapReader {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

impl ImapReader {
    pub fn new(limits: Limits) -> Self {
        ImapReader {
            limits,
            pending: Mutex::new(Pending::default()),
        }
    }

    /// The tags a tagged completion may carry now; `None` before any
    /// command was sent (the greeting comes first).
    pub fn expected_tags(&self) -> Option<Vec<String>> {
        let p = self.pending.lock().ok()?;
        p.sent_any.then(|| p.outstanding.clone())
    }

    fn set(&self, f: impl FnOnce(&mut Pending)) {
        if let Ok(mut p) = self.pending.lock() {
            f(&mut p)
        }
    }

    /// Reads one response: a line and the literals it announces.
    async fn response(&self, conn: &mut Conn, budget: &mut usize) -> Result<Line, WireError> {
        let mut bytes = Vec::new();
        let mut end;
        loop {
            let line = conn
                .read_line(self.limits.line, "an IMAP response line")
                .await?;
            end = line.end;
            let n = literal_length(&line.bytes);
            bytes.extend_from_slice(&line.bytes);
            take(budget, line.bytes.len() + 2, self.limits.reply)?;
            let Some(n) = n else { break };
            let n = n.map_err(|why| WireError::malformed(why, &line.bytes))?;
            if n > self.limits.literal {
                return Err(WireError::TooLong {
                    what: format!("a literal announced as {{{n}}}"),
                    limit: self.limits.literal,
                });
            }
            take(budget, n, self.limits.reply)?;
            let data = conn
                .read_exact(n, &format!("the {n} bytes of a literal"))
                .await?;
            bytes.extend_from_slice(b"\r\n");
            bytes.extend_from_slice(&data);
        }
        Ok(Line { bytes, end })
    }
}

fn take(budget: &mut usize, n: usize, limit: usize) -> Result<(), WireError> {
    *budget = budget.saturating_sub(n);
    if *budget == 0 {
        return Err(WireError::TooLong {
            what: "one IMAP reply".into(),
            limit,
        });
    }
    Ok(())
}

/// A literal announced at the end of a line (RFC 9051 §4.3): `{n}`, or
/// `{n+}`, a non-synchronizing literal (LITERAL+, RFC 7888), which only a
/// client may send. `~{n}` (literal8) reads the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Announced {
    pub len: usize,
    pub non_sync: bool,
}

/// `Some(Ok(_))` when the line (its CRLF or LF, if any, aside) ends with a
/// literal announcement; `Some(Err)` when it looks like one but its length
/// is not a number. The one reading of literals for the suites' reader and
/// the fuzzer.
pub fn literal_announced(line: &[u8]) -> Option<Result<Announced, String>> {
    let line = line
        .strip_suffix(b"\r\n")
        .or_else(|| line.strip_suffix(b"\n"))
        .unwrap_or(line);
    let body = line.strip_suffix(b"}")?;
    let open = body.iter().rposition(|c| *c == b'{')?;
    let (digits, non_sync) = match body[open + 1..].strip_suffix(b"+") {
        Some(d) => (d, true),
        None => (&body[open + 1..], false),
    };
    let text = std::str::from_utf8(digits).ok();
    Some(
        text.filter(|t| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|t| t.parse::<usize>().ok())
            .map(|len| Announced { len, non_sync })
            .ok_or_else(|| "literal announcement {n} whose n is not a number".to_string()),
    )
}

/// The length of a literal a server announces: `{n}` only, since RFC 9051
/// §4.3 allows non-synchronizing literals from client to server only.
fn literal_length(line: &[u8]) -> Option<Result<usize, String>> {
    literal_announced(line).map(|a| {
        a.and_then(|a| {
            if a.non_sync {
                Err("a non-synchronizing literal {n+} from the server (RFC 9051 §4.3 allows them from the client only)".to_string())
            } else {
                Ok(a.len)
            }
        })
    })
}

/// Checks a response's syntax as far as a client relies on it; returns the
/// status word of a tagged or greeting response.
fn check(line: &Line) -> Result<(), WireError> {
    let bytes = &line.bytes;
    if line.end != Terminator::CrLf {
        return Err(WireError::malformed(
            "IMAP response (it ends in a bare LF; RFC 3501 §2.2 requires CRLF)",
            bytes,
        ));
    }
    let r = parse_response(bytes)
        .map_err(|why| WireError::malformed(format!("IMAP response ({why})"), bytes))?;
    if r.tag == "+" {
        return Ok(());
    }
    if r.tag != "*" && !r.tag.bytes().all(is_tag_char) {
        return Err(WireError::malformed(
            "IMAP response (it starts with neither \"*\", \"+\" nor a tag)",
            bytes,
        ));
    }
    // `* n FETCH (…)`: the message data is one parenthesised list (§7.4.2).
    if let Some((_, kind)) = r.numbered() {
        if kind == "FETCH" && (r.tokens.len() != 3 || r.tokens[2].as_list().is_none()) {
            return Err(WireError::malformed(
                "FETCH response (its data must be one parenthesised list and nothing after it)",
                bytes,
            ));
        }
    }
    Ok(())
}

/// `tag = 1*<any ASTRING-CHAR except "+">` (RFC 3501 §9).
fn is_tag_char(c: u8) -> bool {
    c > b' ' && c < 0x7f && !b"(){%*\"\\+".contains(&c)
}

fn status_of(line: &Line) -> String {
    let text = String::from_utf8_lossy(&line.bytes);
    text.split(' ')
        .nth(1)
        .unwrap_or_default()
        .to_ascii_uppercase()
}

impl ReplyReader for ImapReader {
    fn protocol(&self) -> &'static str {
        "IMAP"
    }

    fn frame(&self, command: &[u8]) -> Vec<u8> {
        self.set(|p| {
            if p.continuing {
                p.continuing = false;
            } else {
                let tag = command.split(|c| *c == b' ').next().unwrap_or_default();
                p.outstanding
                    .push(String::from_utf8_lossy(tag).into_owned());
                p.sent_any = true;
            }
        });
        let mut v = command.to_vec();
        v.extend_from_slice(b"\r\n");
        v
    }

    /// Before any command: one response, the greeting (`* OK`, `* PREAUTH`
    /// or `* BYE`, §7.1). After a command: the untagged responses up to the
    /// tagged completion with the command's tag, or a continuation request.
    /// The reply's status is `OK`/`NO`/`BAD` of the completion, `+`, or the
    /// greeting's word; when the server closes after `* BYE` it is `BYE`.
    fn read<'a>(&'a self, conn: &'a mut Conn) -> BoxFuture<'a, Result<Reply, WireError>> {
        Box::pin(async move {
            let tags = self.expected_tags();
            let mut budget = self.limits.reply;
            let mut lines: Vec<Line> = Vec::new();
            loop {
                if lines.len() >= self.limits.responses {
                    return Err(WireError::TooMany {
                        what: "one IMAP reply".into(),
                        limit: self.limits.responses,
                        of: "untagged responses",
                    });
                }
                let line = match self.response(conn, &mut budget).await {
                    Ok(l) => l,
                    Err(WireError::Closed { .. })
                        if lines.last().is_some_and(|l| status_of(l) == "BYE") =>
                    {
                        return Ok(Reply {
                            status: "BYE".into(),
                            lines,
                            body: vec![],
                        });
                    }
                    Err(e) => return Err(e),
                };
                check(&line)?;
                let first = line.bytes.split(|c| *c == b' ').next().unwrap_or_default();
                let first = String::from_utf8_lossy(first).into_owned();
                let Some(tags) = &tags else {
                    // The greeting.
                    let status = status_of(&line);
                    if first != "*" || !matches!(status.as_str(), "OK" | "PREAUTH" | "BYE") {
                        return Err(WireError::malformed(
                            "IMAP greeting (RFC 3501 §7.1: \"* OK\", \"* PREAUTH\" or \"* BYE\")",
                            &line.bytes,
                        ));
                    }
                    lines.push(line);
                    return Ok(Reply {
                        status,
                        lines,
                        body: vec![],
                    });
                };
                if first == "*" {
                    lines.push(line);
                    continue;
                }
                if first == "+" {
                    self.set(|p| p.continuing = true);
                    lines.push(line);
                    return Ok(Reply {
                        status: "+".into(),
                        lines,
                        body: vec![],
                    });
                }
                if !tags.contains(&first) {
                    let want = match tags.as_slice() {
                        [] => "no command awaits a completion".to_string(),
                        [one] => format!("the command's tag is \"{one}\""),
                        many => format!("the tags of the commands sent are {}", many.join(", ")),
                    };
                    return Err(WireError::malformed(
                        format!(
                            "tagged completion ({want}, but the completion carries \"{first}\")"
                        ),
                        &line.bytes,
                    ));
                }
                self.set(|p| p.outstanding.retain(|t| t != &first));
                let status = status_of(&line);
                if !matches!(status.as_str(), "OK" | "NO" | "BAD") {
                    return Err(WireError::malformed(
                        "tagged completion (its status must be OK, NO or BAD)",
                        &line.bytes,
                    ));
                }
                lines.push(line);
                return Ok(Reply {
                    status,
                    lines,
                    body: vec![],
                });
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_literal_announcements() {
        assert_eq!(literal_length(b"* 1 FETCH (BODY[] {12}"), Some(Ok(12)));
        assert_eq!(literal_length(b"* 1 FETCH (BODY[] ~{0}"), Some(Ok(0)));
        assert!(literal_length(b"* OK done").is_none());
        // From the server, {n+} is not allowed; from a client it is.
        assert!(matches!(
            literal_length(b"* 1 FETCH (BODY[] {3+}"),
            Some(Err(_))
        ));
        assert_eq!(
            literal_announced(b"a1 LOGIN {3+}\r\n"),
            Some(Ok(Announced {
                len: 3,
                non_sync: true
            }))
        );
        assert!(matches!(literal_length(b"* OK {x}"), Some(Err(_))));
        assert!(matches!(
            literal_length(b"* OK {99999999999999999999999}"),
            Some(Err(_))
        ));
    }

    #[test]
    fn tags() {
        assert!(b"a001".iter().all(|c| is_tag_char(*c)));
        assert!(!is_tag_char(b'+'));
        assert!(!is_tag_char(b'*'));
    }
}

/// The reader against hostile servers: every case ends, bounded, with an
/// error that says what happened, never a hang or a panic.
#[cfg(test)]
mod hostile {
    use std::time::Duration;

    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;

    use super::*;
    use crate::transcript::Transcript;

    /// A server that sends `script` once a client connects, then keeps the
    /// connection open (`hold`) or closes it; `reset` closes with RST.
    async fn server(script: Vec<u8>, hold: bool, reset: bool) -> std::net::SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            let _ = s.write_all(&script).await;
            if reset {
                let _ = s.set_zero_linger();
                drop(s);
                return;
            }
            if hold {
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
        });
        addr
    }

    async fn read_with(
        script: &[u8],
        hold: bool,
        reset: bool,
        tag: Option<&str>,
        limits: Limits,
    ) -> Result<Reply, WireError> {
        let addr = server(script.to_vec(), hold, reset).await;
        let t = Transcript::new();
        let mut conn = Conn::connect(addr, "imap", &t, Duration::from_millis(400))
            .await
            .unwrap();
        let reader = ImapReader::new(limits);
        if let Some(tag) = tag {
            reader.frame(format!("{tag} NOOP").as_bytes());
        }
        let started = std::time::Instant::now();
        let r = reader.read(&mut conn).await;
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "bounded in time"
        );
        r
    }

    async fn read(script: &[u8], hold: bool, tag: Option<&str>) -> Result<Reply, WireError> {
        read_with(script, hold, false, tag, Limits::default()).await
    }

    #[tokio::test]
    async fn reads_untagged_literals_and_the_completion() {
        let r = read(
            b"* 1 FETCH (BODY[] {7}\r\na)\r\n* b UID 3)\r\na1 OK done\r\n",
            true,
            Some("a1"),
        )
        .await
        .unwrap();
        assert_eq!(r.status, "OK");
        assert_eq!(r.lines.len(), 2);
        assert_eq!(
            r.lines[0].bytes,
            b"* 1 FETCH (BODY[] {7}\r\na)\r\n* b UID 3)"
        );
    }

    #[tokio::test]
    async fn greeting_and_continuation() {
        let r = read(b"* OK ready\r\n", true, None).await.unwrap();
        assert_eq!(r.status, "OK");
        let r = read(b"+ go ahead\r\n", true, Some("a1")).await.unwrap();
        assert_eq!(r.status, "+");
        assert!(read(b"a1 OK no greeting\r\n", true, None).await.is_err());
    }

    #[tokio::test]
    async fn a_wrong_tag_is_malformed() {
        let e = read(b"* 1 EXISTS\r\nzz OK done\r\n", true, Some("a1"))
            .await
            .unwrap_err();
        assert!(
            matches!(&e, WireError::Malformed { what, .. } if what.contains("\"a1\"") && what.contains("\"zz\"")),
            "{e}"
        );
    }

    #[tokio::test]
    async fn literal_lengths_off_by_one_are_caught() {
        // One byte too many: the literal swallows the closing parenthesis.
        let long = read(
            b"* 1 FETCH (BODY[] {4}\r\nabc)\r\na1 OK done\r\n",
            true,
            Some("a1"),
        )
        .await;
        assert!(matches!(long, Err(WireError::Malformed { .. })), "{long:?}");
        // One byte too few: the rest of the response is a line of its own.
        let short = read(
            b"* 1 FETCH (BODY[] {2}\r\nabc)\r\na1 OK done\r\n",
            true,
            Some("a1"),
        )
        .await;
        assert!(
            matches!(short, Err(WireError::Malformed { .. })),
            "{short:?}"
        );
    }

    #[tokio::test]
    async fn a_line_that_never_ends_is_bounded() {
        let flood = vec![b'x'; 200_000];
        let limits = Limits {
            line: 1000,
            ..Limits::default()
        };
        let e = read_with(&flood, true, false, Some("a1"), limits)
            .await
            .unwrap_err();
        assert!(matches!(e, WireError::TooLong { .. }), "{e}");
    }

    #[tokio::test]
    async fn no_newline_then_close() {
        let e = read(b"* OK half", false, None).await.unwrap_err();
        assert!(matches!(e, WireError::Closed { .. }), "{e}");
    }

    #[tokio::test]
    async fn stall_times_out() {
        let e = read(b"* 1 EXISTS\r\n", true, Some("a1")).await.unwrap_err();
        assert!(matches!(e, WireError::Timeout { .. }), "{e}");
    }

    #[tokio::test]
    async fn reset_is_an_error() {
        let e = read_with(
            b"* 1 EXISTS\r\n",
            false,
            true,
            Some("a1"),
            Limits::default(),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(e, WireError::Io { .. } | WireError::Closed { .. }),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_flood_of_untagged_responses_is_bounded() {
        let flood = b"* 1 EXISTS\r\n".repeat(5_000);
        let limits = Limits {
            responses: 100,
            ..Limits::default()
        };
        let e = read_with(&flood, true, false, Some("a1"), limits)
            .await
            .unwrap_err();
        assert!(matches!(e, WireError::TooMany { .. }), "{e}");
    }

    #[tokio::test]
    async fn a_huge_literal_is_refused_before_reading_it() {
        let e = read(b"* 1 FETCH (BODY[] {99999999999}\r\n", true, Some("a1"))
            .await
            .unwrap_err();
        assert!(matches!(e, WireError::TooLong { .. }), "{e}");
    }

    #[tokio::test]
    async fn a_short_literal_then_close() {
        let e = read(b"* 1 FETCH (BODY[] {100}\r\nabc", false, Some("a1"))
            .await
            .unwrap_err();
        assert!(matches!(e, WireError::Closed { .. }), "{e}");
    }

    #[tokio::test]
    async fn bye_then_close_is_a_reply() {
        let r = read(b"* BYE shutting down\r\n", false, Some("a1"))
            .await
            .unwrap();
        assert_eq!(r.status, "BYE");
    }

    #[tokio::test]
    async fn bare_lf_and_garbage_are_malformed() {
        assert!(read(b"a1 OK done\n", true, Some("a1")).await.is_err());
        assert!(read(b"(garbage\r\n", true, Some("a1")).await.is_err());
        assert!(read(b"* 1 FETCH FLAGS\r\n", true, Some("a1"))
            .await
            .is_err());
        assert!(read(b"a1 MAYBE\r\n", true, Some("a1")).await.is_err());
    }
}
