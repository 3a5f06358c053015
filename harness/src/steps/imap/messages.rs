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

/// In the order "the test messages" are appended: message 1, 2, 3.
pub const ALL: [&TestMessage; 3] = [&PLAIN, &MULTIPART, &THIRD];

pub fn by_name(name: &str) -> Option<&'static TestMessage> {
    ALL.into_iter().find(|m| m.name == name)
}
