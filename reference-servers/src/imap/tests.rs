//! The server against hostile clients: every case is answered or the
//! connection closed, within bounds, without a panic; the server keeps
//! serving afterwards.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{start, Config};
use crate::mailstore::{Accounts, MailStore};

async fn server(
    tweak: impl FnOnce(&mut Config),
) -> (std::net::SocketAddr, crate::Running, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = MailStore::open(dir.path()).unwrap();
    let mut config = Config::new(Accounts::new().with("bob", "hungry"));
    config.limits.line = 1024;
    config.limits.literal = 4096;
    tweak(&mut config);
    let running = start([127, 0, 0, 1].into(), 0, config, store)
        .await
        .unwrap();
    let addr = running.addr("imap").unwrap();
    (addr, running, dir)
}

/// Sends `input` after the greeting and returns what came back within a
/// short while (or until the server closed).
async fn exchange(addr: std::net::SocketAddr, input: &[u8]) -> (String, bool) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let _ = s.write_all(input).await;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let mut closed = false;
    loop {
        match tokio::time::timeout(Duration::from_millis(400), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
        assert!(out.len() < 1_000_000, "bounded output");
    }
    (String::from_utf8_lossy(&out).into_owned(), closed)
}

#[tokio::test]
async fn an_overlong_line_is_refused_and_the_session_goes_on() {
    let (addr, _r, _d) = server(|_| {}).await;
    let mut input = b"a1 NOOP ".to_vec();
    input.extend(std::iter::repeat_n(b'x', 100_000));
    input.extend_from_slice(b"\r\na2 NOOP\r\n");
    let (out, _) = exchange(addr, &input).await;
    assert!(out.contains("a1 BAD"), "{out}");
    assert!(out.contains("a2 OK"), "{out}");
}

#[tokio::test]
async fn a_too_large_literal_gets_no_continuation() {
    let (addr, _r, _d) = server(|_| {}).await;
    let (out, _) = exchange(addr, b"a1 LOGIN {999999999}\r\na2 NOOP\r\n").await;
    assert!(out.contains("a1 BAD"), "{out}");
    assert!(!out.lines().any(|l| l.starts_with('+')), "{out}");
    assert!(out.contains("a2 OK"), "{out}");
}

#[tokio::test]
async fn a_too_large_non_synchronising_literal_closes_the_connection() {
    let (addr, _r, _d) = server(|_| {}).await;
    let (_, closed) = exchange(addr, b"a1 LOGIN {999999999+}\r\nxxxx").await;
    assert!(closed);
}

#[tokio::test]
async fn garbage_is_answered_with_bad() {
    let (addr, _r, _d) = server(|_| {}).await;
    let (out, _) = exchange(
        addr,
        b"\x00\xff\xfe\r\n+ NOOP\r\n* NOOP\r\na1\r\na2 LOGIN\r\na3 LOGIN \"unterminated\r\na4 NOOP\r\n",
    )
    .await;
    assert!(out.contains("* BAD"), "{out}");
    assert!(
        out.contains("a1 BAD") && out.contains("a2 BAD") && out.contains("a3 BAD"),
        "{out}"
    );
    assert!(out.contains("a4 OK"), "{out}");
}

#[tokio::test]
async fn hostile_arguments_in_the_selected_state() {
    let (addr, _r, _d) = server(|_| {}).await;
    let mut input =
        b"a1 LOGIN bob hungry\r\na2 CREATE x\r\na3 APPEND x {5+}\r\nhello\r\na4 SELECT x\r\n"
            .to_vec();
    input.extend_from_slice(b"b1 SEARCH ");
    input.extend(std::iter::repeat_n(b'(', 500));
    input.extend_from_slice(b"ALL\r\n");
    input.extend_from_slice(b"b2 FETCH 1:99999999999 FLAGS\r\n");
    input.extend_from_slice(b"b3 FETCH 1 BODY[1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1]\r\n");
    input.extend_from_slice(b"b4 FETCH 1 BODY[]<4294967295.4294967295>\r\n");
    input.extend_from_slice(b"b5 FETCH 2 FLAGS\r\n");
    input.extend_from_slice(b"b6 STORE 1 +FLAGS (\\Recent keyword \\Seen)\r\n");
    input.extend_from_slice(b"b7 SEARCH SINCE 99-Foo-99999\r\n");
    input.extend_from_slice(b"b8 LIST \"\" \"*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%\"\r\n");
    input.extend_from_slice(b"b9 CREATE ../../etc\r\n");
    input.extend_from_slice(b"c1 NOOP\r\n");
    let (out, _) = exchange(addr, &input).await;
    for want in [
        "a4 OK", "b1 BAD", "b2 BAD", "b3 OK", "b4 OK", "b5 BAD", "b6 OK", "b7 BAD", "b8 OK",
        "b9 NO", "c1 OK",
    ] {
        assert!(out.contains(want), "{want} in {out}");
    }
    assert!(out.contains("BODY[]<4294967295> {0}"), "{out}");
}

#[tokio::test]
async fn an_idle_client_is_logged_out() {
    let (addr, _r, _d) = server(|c| c.limits.idle = Duration::from_millis(100)).await;
    let (out, closed) = exchange(addr, b"").await;
    assert!(out.contains("* BYE"), "{out}");
    assert!(closed);
}

#[tokio::test]
async fn connections_beyond_the_limit_get_bye() {
    let (addr, _r, _d) = server(|c| c.max_connections = 1).await;
    let _first = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (out, closed) = exchange(addr, b"").await;
    assert!(out.contains("* BYE Too many connections"), "{out}");
    assert!(closed);
}

/// The argument parsers and the MIME/FETCH code on many random inputs made
/// of IMAP-ish pieces: they return, never panic.
#[test]
fn parsers_survive_random_input() {
    use super::args::Args;
    use super::{fetch, mime, search};
    const PIECES: &[&[u8]] = &[
        b"(",
        b")",
        b"[",
        b"]",
        b"<",
        b">",
        b".",
        b" ",
        b"\"",
        b"\\",
        b"{",
        b"}",
        b"{3}\r\n",
        b"1",
        b"0",
        b"*",
        b":",
        b",",
        b"BODY",
        b"PEEK",
        b"HEADER",
        b"FIELDS",
        b"NOT",
        b"TEXT",
        b"MIME",
        b"OR",
        b"NOT",
        b"FROM",
        b"UID",
        b"ALL",
        b"SINCE",
        b"1-Jan-2000",
        b"\r\n",
        b"\xff",
        b"~",
        b"--b",
        b"Content-Type: multipart/mixed; boundary=b",
        b"\n",
        b"message/rfc822",
    ];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..20_000 {
        let n = (next() % 24) as usize;
        let mut input = Vec::new();
        for _ in 0..n {
            input.extend_from_slice(PIECES[(next() % PIECES.len() as u64) as usize]);
        }
        let _ = fetch::parse_items(&mut Args::new(&input));
        let _ = search::parse_program(&mut Args::new(&input));
        let mut a = Args::new(&input);
        let _ = a.astring().and_then(|_| a.flag_list());
        let _ = fetch::body_structure(&input, true);
        let _ = fetch::envelope(&input);
        let _ = mime::parse(&input);
        if let Ok(items) = fetch::parse_items(&mut Args::new(
            b"(BODY[1.2.MIME] BODY[2.HEADER] BODY[3] BODY[TEXT]<1.2>)",
        )) {
            for item in items {
                if let fetch::Item::Section {
                    section, partial, ..
                } = item
                {
                    let data = fetch::section_bytes(&input, &section).unwrap_or_default();
                    let _ = fetch::partial(&data, partial);
                }
            }
        }
    }
}

#[tokio::test]
async fn create_makes_superior_names_and_keeps_to_the_namespace() {
    let (addr, _r, _d) = server(|c| c.namespace = Some("INBOX.".into())).await;
    let (out, _) = exchange(
        addr,
        b"a1 LOGIN bob hungry\r\na2 NAMESPACE\r\na3 CREATE top\r\na4 CREATE INBOX.a.b\r\na5 LIST \"\" *\r\n",
    )
    .await;
    assert!(
        out.contains("* NAMESPACE ((\"INBOX.\" \".\")) NIL NIL"),
        "{out}"
    );
    assert!(out.contains("a3 NO [CANNOT]"), "{out}");
    assert!(out.contains("a4 OK"), "{out}");
    assert!(out.contains("\".\" \"INBOX.a\"\r\n"), "{out}");
    assert!(out.contains("\".\" \"INBOX.a.b\"\r\n"), "{out}");
}
