//! Fuzzing POP3 (RFC 1939) as a [`LineProtocol`]: `+OK`/`-ERR` replies, a
//! greeting, dot-terminated bodies after CAPA, LIST, UIDL, RETR and TOP.
//! Sessions start in the AUTHORIZATION state, after USER, and in the
//! TRANSACTION state after USER and PASS. DELE, QUIT (which would enter the
//! UPDATE state and delete), STLS, AUTH and APOP are never sent: the mailbox
//! is left as it was.

use super::line::{Dialect, LineProtocol};
use super::mutate::TextGrammar;

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// RFC 1939 §5, RFC 2449 §5: which success replies carry a body.
fn multiline(verb: &[u8], has_arg: bool) -> bool {
    match verb {
        b"CAPA" | b"RETR" | b"TOP" => true,
        b"LIST" | b"UIDL" => !has_arg,
        _ => false,
    }
}

pub fn protocol() -> LineProtocol {
    let mut p = LineProtocol::new(
        "pop3",
        "address",
        Dialect::OkErr,
        true,
        TextGrammar {
            verbs: [
                "USER", "PASS", "STAT", "LIST", "UIDL", "RETR", "TOP", "NOOP", "RSET", "CAPA",
            ]
            .map(b)
            .to_vec(),
            args: [
                "1",
                "2",
                "0",
                "-1",
                "99999999999",
                "1 0",
                "1 10",
                "${pop3.user}",
                "nobody",
            ]
            .map(b)
            .to_vec(),
            // RFC 2449 §4: commands up to 255 octets with CRLF.
            line_limit: 255,
        },
        [
            "CAPA\r\n",
            "STAT\r\n",
            "LIST\r\n",
            "LIST 1\r\n",
            "UIDL 1\r\n",
            "TOP 1 0\r\n",
            "NOOP\r\n",
            "RSET\r\n",
        ]
        .map(b)
        .to_vec(),
        vec![
            vec![b("USER ${pop3.user}\r\n")],
            vec![b("USER ${pop3.user}\r\n"), b("PASS ${pop3.password}\r\n")],
        ],
        b("CAPA\r\n"),
    );
    p.rfc = "@rfc1939";
    // RFC 2595 §4: STLS in the AUTHORIZATION state, +OK the go-ahead.
    p.upgrade = vec![b("STLS\r\n")];
    p.forbidden = ["DELE", "QUIT", "STLS", "AUTH", "APOP"].map(b).to_vec();
    p.multiline = multiline;
    p
}
