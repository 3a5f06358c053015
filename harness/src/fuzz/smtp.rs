//! Fuzzing SMTP (RFC 5321) as a [`LineProtocol`]: numeric replies, a 220
//! greeting, command lines of at most 512 bytes (§4.5.3.1.4). Sessions start
//! bare, after EHLO, after MAIL and after RCPT, so that mutations reach the
//! transaction states. DATA, BDAT, QUIT, STARTTLS and AUTH are never sent: the
//! fuzzer stays in the command dialogue and delivers no mail.

use super::line::{Dialect, LineProtocol};
use super::mutate::TextGrammar;

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

pub fn protocol() -> LineProtocol {
    let mut p = LineProtocol::new(
        "smtp",
        "address",
        Dialect::Numeric,
        true,
        TextGrammar {
            verbs: [
                "EHLO", "HELO", "MAIL", "RCPT", "RSET", "VRFY", "EXPN", "HELP", "NOOP",
            ]
            .map(b)
            .to_vec(),
            args: [
                "client.example",
                "[127.0.0.1]",
                "FROM:<fuzz@client.example>",
                "FROM:<>",
                "TO:<postmaster>",
                "TO:<${smtp.recipient}>",
                "SIZE=1000",
                "BODY=8BITMIME",
                "<@a.example,@b.example:c@d.example>",
                "postmaster",
            ]
            .map(b)
            .to_vec(),
            line_limit: 512,
        },
        [
            "EHLO client.example\r\n",
            "HELO client.example\r\n",
            "MAIL FROM:<fuzz@client.example>\r\n",
            "RCPT TO:<postmaster@example.test>\r\n",
            "VRFY postmaster\r\n",
            "HELP\r\n",
            "NOOP\r\n",
            "RSET\r\n",
        ]
        .map(b)
        .to_vec(),
        vec![
            vec![b("EHLO client.example\r\n")],
            vec![
                b("EHLO client.example\r\n"),
                b("MAIL FROM:<fuzz@client.example>\r\n"),
            ],
            vec![
                b("EHLO client.example\r\n"),
                b("MAIL FROM:<fuzz@client.example>\r\n"),
                b("RCPT TO:<${smtp.recipient}>\r\n"),
            ],
        ],
        b("NOOP\r\n"),
    );
    p.rfc = "@rfc5321";
    // RFC 3207 §4: STARTTLS after EHLO, 220 the go-ahead; the prefixes
    // say EHLO again inside TLS (§4.2: the client forgets what it knew).
    p.upgrade = vec![b("EHLO client.example\r\n"), b("STARTTLS\r\n")];
    p.forbidden = ["DATA", "BDAT", "QUIT", "STARTTLS", "AUTH"].map(b).to_vec();
    p
}
