//! Fuzzing the FTP control connection (RFC 959) as a [`LineProtocol`]:
//! numeric replies (1xx preliminary ones followed by the final reply), a 220
//! greeting. Sessions start before and after login. Commands that change the
//! file tree (STOR, DELE, MKD, RNFR…), open data connections or passive ports
//! (PASV, PORT, LIST, RETR…), or end the session (QUIT, REIN) are never sent.

use super::line::{Dialect, LineProtocol};
use super::mutate::TextGrammar;

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

pub fn protocol() -> LineProtocol {
    let mut p = LineProtocol::new(
        "ftp",
        "address",
        Dialect::NumericFreeText,
        true,
        TextGrammar {
            verbs: [
                "USER", "PASS", "CWD", "CDUP", "PWD", "TYPE", "MODE", "STRU", "SYST", "STAT",
                "HELP", "NOOP", "SIZE", "MDTM", "FEAT", "OPTS", "REST", "ACCT",
            ]
            .map(b)
            .to_vec(),
            args: [
                "A",
                "I",
                "E",
                "L 8",
                "S",
                "F",
                "/",
                "..",
                "../../..",
                "hello.txt",
                "UTF8 ON",
                "0",
                "-1",
                "${ftp.user}",
            ]
            .map(b)
            .to_vec(),
            // RFC 959 sets no limit; servers commonly take 512 or more.
            line_limit: 512,
        },
        [
            "SYST\r\n",
            "PWD\r\n",
            "TYPE I\r\n",
            "CWD /\r\n",
            "FEAT\r\n",
            "HELP\r\n",
            "NOOP\r\n",
            "STAT\r\n",
        ]
        .map(b)
        .to_vec(),
        vec![
            vec![b("USER ${ftp.user}\r\n")],
            vec![b("USER ${ftp.user}\r\n"), b("PASS ${ftp.password}\r\n")],
        ],
        // Allowed before login everywhere (vsftpd refuses NOOP before it):
        // 331 or 230 is success, 530 is not.
        b("USER ${ftp.user}\r\n"),
    );
    p.rfc = "@rfc959";
    // RFC 4217 §4: AUTH TLS before USER, 234 the go-ahead.
    p.upgrade = vec![b("AUTH TLS\r\n")];
    p.telnet = true;
    p.forbidden = [
        "QUIT", "REIN", "STOR", "STOU", "APPE", "DELE", "RMD", "XRMD", "MKD", "XMKD", "RNFR",
        "RNTO", "SITE", "PASV", "EPSV", "PORT", "EPRT", "LPRT", "LPSV", "LIST", "NLST", "MLSD",
        "RETR", "ABOR", "AUTH", "PROT", "PBSZ", "ALLO", "SMNT",
    ]
    .map(b)
    .to_vec();
    p
}
