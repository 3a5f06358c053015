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
    /// The course's client programs (UDPClient, TCPClient) against the
    /// harness's peers.
    SocketsClient,
    /// A mail client (an SMTP client program) against the SMTP peer.
    SmtpClient,
    /// An HTTP client against the HTTP origin peer.
    HttpClient,
    /// An HTTP proxy or gateway cache, in front of the HTTP origin peer.
    Proxy,
    /// A recursive resolver against the DNS hierarchy the harness plays
    /// (`crate::peer::dns`).
    Resolver,
}

impl Protocol {
    pub const ALL: [Protocol; 12] = [
        Protocol::Http,
        Protocol::Ftp,
        Protocol::Smtp,
        Protocol::Pop3,
        Protocol::Imap,
        Protocol::Dns,
        Protocol::Sockets,
        Protocol::SocketsClient,
        Protocol::SmtpClient,
        Protocol::HttpClient,
        Protocol::Proxy,
        Protocol::Resolver,
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
            Protocol::SocketsClient => "sockets-client",
            Protocol::SmtpClient => "smtp-client",
            Protocol::HttpClient => "http-client",
            Protocol::Proxy => "proxy",
            Protocol::Resolver => "resolver",
        }
    }

    /// The system under test is a client: its section names a command to
    /// run (`{host}`, `{port}`, `{input}` substituted, see `crate::peer`),
    /// not an address, and the harness plays the server.
    pub fn is_client(self) -> bool {
        matches!(
            self,
            Protocol::SocketsClient | Protocol::SmtpClient | Protocol::HttpClient
        )
    }

    /// The keys of a client section that hold commands.
    pub fn command_keys(self) -> &'static [&'static str] {
        match self {
            Protocol::SocketsClient => &["udp", "tcp"],
            Protocol::SmtpClient => &["command"],
            // `post`: optional, the command that POSTs `{input}` to `{url}`.
            Protocol::HttpClient => &["command", "post"],
            _ => &[],
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
            Protocol::Http | Protocol::Proxy | Protocol::Resolver => &["address"],
            Protocol::Ftp | Protocol::Pop3 | Protocol::Imap => &["address", "user", "password"],
            Protocol::Smtp => &["address", "domain", "recipient"],
            Protocol::Dns => &["address", "zone"],
            // Either or both: a course may set only the TCP or only the UDP server.
            Protocol::Sockets | Protocol::SocketsClient => &[],
            Protocol::SmtpClient | Protocol::HttpClient => &["command"],
        }
    }

    /// Optional keys that name a resource on the target by its path (`/echo`):
    /// scenarios that need the resource skip without it, and a value that
    /// is not a path is a configuration error ([`Protocol::check_value`]).
    /// What each resource must do is in [`crate::fixtures::http::RESOURCES`].
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

    /// Checks the value of an optional key this protocol gives a meaning
    /// (`[dns] recursion`, `[dns] lacks`, `[ftp] confined`, the `[http]`
    /// resource paths); other keys pass.
    pub fn check_value(self, key: &str, value: &str) -> Result<(), String> {
        // HTTP has no upgrade the suites test: HTTPS is TLS from the first
        // byte (RFC 9110 §4.2.2).
        if self == Protocol::Http && key == "tls" && value == "starttls" {
            return Err(
                "HTTP has no STARTTLS: \"implicit\" (HTTPS, TLS from the first byte) or \"none\""
                    .into(),
            );
        }
        // `tls`, `ca_file`, `tls_insecure`, `tls_name` are checked by the
        // TLS client they configure (wire::tls, called by Profile::validate).
        match (self, key) {
            (Protocol::Dns, "recursion") => match value {
                "true" | "false" => Ok(()),
                other => Err(format!(
                    "must be true (the server also recurses) or false, not \"{other}\""
                )),
            },
            (Protocol::Dns, "lacks") => dns_lacks(value).map(|_| ()),
            // The server offers AUTH only inside TLS (its policy).
            (Protocol::Smtp, "auth_requires_tls") => match value {
                "true" | "false" => Ok(()),
                other => Err(format!(
                    "must be true (AUTH only inside TLS) or false, not \"{other}\""
                )),
            },
            // How the proxy is deployed (see crate::steps::proxy).
            (Protocol::Proxy, "mode") => match value {
                "forward" | "reverse" => Ok(()),
                other => Err(format!(
                    "must be \"forward\" (clients send absolute-form requests) or \"reverse\" (a gateway in front of [proxy] origin), not \"{other}\""
                )),
            },
            // Where a reverse proxy's origin listens: the harness's origin
            // peer takes that address in each scenario.
            (Protocol::Proxy, "origin") => value
                .parse::<std::net::SocketAddr>()
                .map(|_| ())
                .map_err(|_| format!("must be an IP address and port (\"127.0.0.1:8081\"), not \"{value}\"")),
            (Protocol::Proxy, "origin_timeout") => humantime::parse_duration(value)
                .map(|_| ())
                .map_err(|e| format!("must be a duration (\"10s\"): {e}")),
            // The port of every server of the harness's DNS hierarchy.
            (Protocol::Resolver, "hierarchy_port") => match value.parse::<u16>() {
                Ok(p) if p > 0 => Ok(()),
                _ => Err(format!(
                    "must be a port number (53 unless the resolver can query another), not \"{value}\""
                )),
            },
            // The server confines the user to the home (chroot, virtual root).
            (Protocol::Ftp, "confined") => match value {
                "true" | "false" => Ok(()),
                other => Err(format!(
                    "must be true (the server confines the user to the home) or false, not \"{other}\""
                )),
            },
            // A client's command must be told where the peer listens.
            (p, key) if p.command_keys().contains(&key) => {
                if value.contains("{port}") || value.contains("{url}") {
                    Ok(())
                } else {
                    Err(format!(
                        "the command \"{value}\" must contain {{port}} (and usually {{host}}), or {{url}}: the harness's peer listens on a fresh port in every scenario"
                    ))
                }
            }
            (p, key) if p.resource_keys().contains(&key) => {
                if value.starts_with('/') && !value.bytes().any(|b| b <= b' ' || b == 0x7f) {
                    Ok(())
                } else {
                    Err(format!(
                        "\"{value}\" must be a path on the target, starting with / (e.g. \"/{key}\")"
                    ))
                }
            }
            // The personal namespace's hierarchy delimiter ("" for none).
            (Protocol::Imap, "delimiter") if value.chars().count() > 1 => Err(format!(
                "must be one character (\"\" for none), not \"{value}\""
            )),
            _ => Ok(()),
        }
    }

    /// Keys that name a TCP address to check for reachability before a run.
    pub fn tcp_address_keys(self) -> &'static [&'static str] {
        match self {
            Protocol::Sockets => &["tcp"],
            p if p.is_client() => &[],
            _ => &["address"],
        }
    }

    /// Keys of which the section must have at least one, each enabling the
    /// scenarios tagged with the same name (`@tcp`, `@udp`).
    pub fn optional_parts(self) -> &'static [&'static str] {
        match self {
            Protocol::Sockets | Protocol::SocketsClient => &["tcp", "udp"],
            _ => &[],
        }
    }
}

/// The fixture-zone features a DNS target may declare it cannot hold
/// (`[dns] lacks`), each with what it covers; their scenarios are skipped.
pub const DNS_FIXTURE_FEATURES: &[(&str, &str)] = &[
    ("wildcard", "the wildcard records *.wild (RFC 1034 §4.3.3)"),
    (
        "delegation",
        "the delegated child zone: its NS records and glue (referrals)",
    ),
    (
        "ttl",
        "per-record TTLs: records with their own TTL, the others from $TTL",
    ),
    ("ptr", "the PTR record 10.2.0.192.rev"),
];

/// `[dns] lacks`: a list separated by commas or spaces (a TOML array is
/// joined into one), each a name from `DNS_FIXTURE_FEATURES`.
pub fn dns_lacks(value: &str) -> Result<Vec<&'static str>, String> {
    let mut out = Vec::new();
    for word in value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
    {
        let known = DNS_FIXTURE_FEATURES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(word))
            .map(|(name, _)| *name)
            .ok_or_else(|| {
                format!(
                    "unknown fixture feature \"{word}\" (known: {})",
                    DNS_FIXTURE_FEATURES
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
        out.push(known);
    }
    Ok(out)
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
