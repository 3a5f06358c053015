//! A command line: a verb of up to four letters, optionally a space and an
//! argument (RFC 959 §5.3). Verbs are case-insensitive.

/// Longest command line accepted, CRLF included. RFC 959 sets no limit;
/// a path of a few hundred bytes is already generous.
pub const MAX_LINE: usize = 2048;

#[derive(Debug, PartialEq, Eq)]
pub struct Command {
    /// Upper-cased verb.
    pub verb: String,
    /// The argument as sent (may be empty).
    pub arg: String,
}

/// Parses one line without its terminator. `None` for an empty line or a
/// verb that is not 3–4 ASCII letters.
pub fn parse(line: &[u8]) -> Option<Command> {
    let text = String::from_utf8_lossy(line);
    let (verb, arg) = match text.split_once(' ') {
        Some((v, a)) => (v, a),
        None => (text.as_ref(), ""),
    };
    if !(3..=4).contains(&verb.len()) || !verb.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    Some(Command {
        verb: verb.to_ascii_uppercase(),
        arg: arg.to_string(),
    })
}

/// `h1,h2,h3,h4,p1,p2` of PORT (RFC 959 §4.1.2).
pub fn parse_port(arg: &str) -> Option<std::net::SocketAddr> {
    let n: Vec<u8> = arg
        .trim()
        .split(',')
        .map(|p| p.trim().parse::<u8>())
        .collect::<Result<_, _>>()
        .ok()?;
    let [a, b, c, d, p1, p2] = n.as_slice() else {
        return None;
    };
    let ip = std::net::Ipv4Addr::new(*a, *b, *c, *d);
    Some(std::net::SocketAddr::new(
        ip.into(),
        u16::from(*p1) << 8 | u16::from(*p2),
    ))
}

/// `|1|132.235.1.2|6275|` of EPRT (RFC 2428 §2): any delimiter character,
/// protocol 1 (IPv4) or 2 (IPv6). `Err(true)` for an unknown protocol
/// (reply 522), `Err(false)` for bad syntax (501).
pub fn parse_eprt(arg: &str) -> Result<std::net::SocketAddr, bool> {
    let arg = arg.trim();
    let delim = arg.chars().next().ok_or(false)?;
    if !(33..=126).contains(&(delim as u32)) {
        return Err(false);
    }
    let parts: Vec<&str> = arg.split(delim).collect();
    let [empty, proto, addr, port, end] = parts.as_slice() else {
        return Err(false);
    };
    if !empty.is_empty() || !end.is_empty() {
        return Err(false);
    }
    let port: u16 = port.parse().map_err(|_| false)?;
    let ip: std::net::IpAddr = match *proto {
        "1" => addr
            .parse::<std::net::Ipv4Addr>()
            .map_err(|_| false)?
            .into(),
        "2" => addr
            .parse::<std::net::Ipv6Addr>()
            .map_err(|_| false)?
            .into(),
        _ => return Err(true),
    };
    Ok(std::net::SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands() {
        assert_eq!(
            parse(b"retr a b.txt"),
            Some(Command {
                verb: "RETR".into(),
                arg: "a b.txt".into()
            })
        );
        assert_eq!(parse(b"PWD").map(|c| c.arg), Some(String::new()));
        assert!(parse(b"").is_none());
        assert!(parse(b"TOOLONG x").is_none());
        assert!(parse(b"R3TR x").is_none());
    }

    #[test]
    fn parses_port_and_eprt() {
        assert_eq!(
            parse_port("127,0,0,1,4,1"),
            Some("127.0.0.1:1025".parse().unwrap())
        );
        assert!(parse_port("127,0,0,1,4").is_none());
        assert!(parse_port("127,0,0,1,4,256").is_none());
        assert_eq!(
            parse_eprt("|1|127.0.0.1|2121|"),
            Ok("127.0.0.1:2121".parse().unwrap())
        );
        assert_eq!(parse_eprt("!2!::1!21!"), Ok("[::1]:21".parse().unwrap()));
        assert_eq!(parse_eprt("|3|x|1|"), Err(true));
        assert_eq!(parse_eprt("|1|x|1|"), Err(false));
        assert_eq!(parse_eprt(""), Err(false));
    }
}
