//! The protocols conform knows, and what a target profile must say about each.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Http,
    Ftp,
    Smtp,
    Pop3,
    Imap,
    Dns,
    Sockets,
}

impl Protocol {
    pub const ALL: [Protocol; 7] = [
        Protocol::Http,
        Protocol::Ftp,
        Protocol::Smtp,
        Protocol::Pop3,
        Protocol::Imap,
        Protocol::Dns,
        Protocol::Sockets,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Ftp => "ftp",
            Protocol::Smtp => "smtp",
            Protocol::Pop3 => "pop3",
            Protocol::Imap => "imap",
            Protocol::Dns => "dns",
            Protocol::Sockets => "sockets",
        }
    }

    pub fn parse(s: &str) -> Option<Protocol> {
        Protocol::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s))
    }

    /// Keys the profile section must have.
    pub fn required_keys(self) -> &'static [&'static str] {
        match self {
            Protocol::Http => &["address"],
            Protocol::Ftp | Protocol::Pop3 | Protocol::Imap => &["address", "user", "password"],
            Protocol::Smtp => &["address", "domain", "recipient"],
            Protocol::Dns => &["address", "zone"],
            // Either or both: a course may set only the TCP or only the UDP server.
            Protocol::Sockets => &[],
        }
    }

    /// Optional keys that name a resource on the target by its path (`/echo`):
    /// scenarios that need the resource skip without it, and a value that
    /// is not a path is a configuration error. What each resource must do is
    /// in [`crate::fixtures::http::RESOURCES`].
    pub fn resource_keys(self) -> &'static [&'static str] {
        match self {
            Protocol::Http => &[
                "echo",
                "redirect",
                "redirect_to",
                "cookie_set",
                "cookie_show",
            ],
            _ => &[],
        }
    }

    /// Keys that name a TCP address to check for reachability before a run.
    pub fn tcp_address_keys(self) -> &'static [&'static str] {
        match self {
            Protocol::Sockets => &["tcp"],
            _ => &["address"],
        }
    }

    /// Keys of which the section must have at least one, each enabling the
    /// scenarios tagged with the same name (`@tcp`, `@udp`).
    pub fn optional_parts(self) -> &'static [&'static str] {
        match self {
            Protocol::Sockets => &["tcp", "udp"],
            _ => &[],
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
