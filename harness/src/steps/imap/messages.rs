//! The messages IMAP scenarios APPEND to their scratch mailboxes, with the
//! sections a correct server returns for them written out by hand (the
//! harness does not parse MIME: what it expects is stated here).

pub struct TestMessage {
    pub name: &'static str,
    /// `BODY[HEADER]`: the header with the blank line that ends it.
    pub header: &'static str,
    /// `BODY[TEXT]`.
    pub body: &'static str,
    /// `BODY[n]` for n = 1, 2…: each part's body.
    pub parts: &'static [&'static str],
    /// `BODY[n.MIME]`.
    pub part_headers: &'static [&'static str],
    pub subject: &'static str,
}

impl TestMessage {
    /// `BODY[]`: the whole message as appended.
    pub fn text(&self) -> String {
        format!("{}{}", self.header, self.body)
    }
}

pub const PLAIN: TestMessage = TestMessage {
    name: "plain",
    header: "From: Alice <alice@crepes.fr>\r\nTo: Bob <bob@hamburger.edu>\r\nSubject: Searching for the meaning of life\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\nMessage-ID: <conform-plain@crepes.fr>\r\n\r\n",
    body: "Do you like ketchup?\r\nHow about pickles?\r\n",
    parts: &["Do you like ketchup?\r\nHow about pickles?\r\n"],
    part_headers: &[],
    subject: "Searching for the meaning of life",
};

pub const MULTIPART: TestMessage = TestMessage {
    name: "multipart",
    header: "From: Bob <bob@hamburger.edu>\r\nTo: Alice <alice@crepes.fr>\r\nSubject: Holiday picture\r\nDate: Tue, 3 Nov 2026 09:30:00 +0000\r\nMessage-ID: <conform-multipart@hamburger.edu>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"conform-boundary\"\r\n\r\n",
    body: "This is a multi-part message in MIME format.\r\n--conform-boundary\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nThe picture from the beach is attached.\r\n--conform-boundary\r\nContent-Type: application/octet-stream; name=\"beach.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQoLDA0ODw==\r\n--conform-boundary--\r\n",
    // RFC 2046 §5.1.1: the CRLF before a boundary belongs to the boundary.
    parts: &[
        "The picture from the beach is attached.",
        "AAECAwQFBgcICQoLDA0ODw==",
    ],
    part_headers: &[
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n",
        "Content-Type: application/octet-stream; name=\"beach.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
    ],
    subject: "Holiday picture",
};

pub const THIRD: TestMessage = TestMessage {
    name: "third",
    header: "From: Carol <carol@example.test>\r\nTo: Bob <bob@hamburger.edu>\r\nSubject: Lunch\r\nDate: Wed, 4 Nov 2026 12:00:00 +0000\r\nMessage-ID: <conform-third@example.test>\r\n\r\n",
    body: "Lunch at noon?\r\n",
    parts: &["Lunch at noon?\r\n"],
    part_headers: &[],
    subject: "Lunch",
};

/// A forwarded message: a text part, then a message/rfc822 part holding a
/// message of its own (RFC 2046 §5.2.1). Not one of "the test messages":
/// appended by the scenarios that ask for it. Every part ends with CRLF
/// before the boundary's CRLF, so its size and line count are plain.
pub const FORWARDED: TestMessage = TestMessage {
    name: "forwarded",
    header: "From: Dave <dave@example.test>\r\nTo: Bob <bob@hamburger.edu>\r\nSubject: Fwd: Lunch\r\nDate: Thu, 5 Nov 2026 08:00:00 +0000\r\nMessage-ID: <conform-forwarded@example.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"conform-fwd\"\r\n\r\n",
    body: "--conform-fwd\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nSee below.\r\n\r\n--conform-fwd\r\nContent-Type: message/rfc822\r\n\r\nFrom: Carol <carol@example.test>\r\nSubject: Lunch\r\n\r\nLunch at noon?\r\n\r\n--conform-fwd--\r\n",
    parts: &[
        "See below.\r\n",
        "From: Carol <carol@example.test>\r\nSubject: Lunch\r\n\r\nLunch at noon?\r\n",
    ],
    part_headers: &[
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n",
        "Content-Type: message/rfc822\r\n\r\n",
    ],
    subject: "Fwd: Lunch",
};

/// What BODYSTRUCTURE (RFC 3501 §7.4.2, §9 `body`) must say of a body, in
/// the fields every server sends (extension data is not judged).
#[derive(Debug)]
pub enum Structure {
    /// A multipart: its parts and subtype.
    Multi(Vec<Structure>, &'static str),
    /// A leaf: type, subtype, the parameters the message states (others a
    /// server may add), encoding, size in octets, and for text and
    /// message/rfc822 the lines; for message/rfc822 the subject and sender
    /// (mailbox, host) of its envelope and its own structure.
    Part {
        media: (&'static str, &'static str),
        params: &'static [(&'static str, &'static str)],
        encoding: &'static str,
        octets: u64,
        lines: Option<u64>,
        message: Option<(&'static str, (&'static str, &'static str), Box<Structure>)>,
    },
}

/// The structure of the forwarded test message, worked out by hand from
/// its bytes: part 1 "See below.\r\n" (12 octets, 1 line); part 2 the
/// 68-octet message of 4 lines, whose body "Lunch at noon?\r\n" is text
/// (16 octets, 1 line) by RFC 2045 §5.2's default, encoding 7bit (§6.1).
pub fn forwarded_structure() -> Structure {
    Structure::Multi(
        vec![
            Structure::Part {
                media: ("text", "plain"),
                params: &[("charset", "us-ascii")],
                encoding: "7bit",
                octets: 12,
                lines: Some(1),
                message: None,
            },
            Structure::Part {
                media: ("message", "rfc822"),
                params: &[],
                encoding: "7bit",
                octets: 68,
                lines: Some(4),
                message: Some((
                    "Lunch",
                    ("carol", "example.test"),
                    Box::new(Structure::Part {
                        media: ("text", "plain"),
                        params: &[],
                        encoding: "7bit",
                        octets: 16,
                        lines: Some(1),
                        message: None,
                    }),
                )),
            },
        ],
        "mixed",
    )
}

/// In the order "the test messages" are appended: message 1, 2, 3.
pub const ALL: [&TestMessage; 3] = [&PLAIN, &MULTIPART, &THIRD];

pub fn by_name(name: &str) -> Option<&'static TestMessage> {
    ALL.into_iter().chain([&FORWARDED]).find(|m| m.name == name)
}
