//! POP3 command lines (RFC 1939 §3): a case-insensitive keyword, then
//! arguments separated by single spaces.

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    User(String),
    Pass(String),
    /// `APOP name digest` (RFC 1939 §7).
    Apop(String, String),
    Quit,
    Stat,
    /// `LIST [msg]`.
    List(Option<usize>),
    Retr(usize),
    Dele(usize),
    Noop,
    Rset,
    /// `TOP msg n`.
    Top(usize, usize),
    /// `UIDL [msg]`.
    Uidl(Option<usize>),
    Capa,
    /// RFC 2595 §4: STLS, the upgrade to TLS.
    Stls,
    /// A known command with missing or malformed arguments.
    BadArguments(&'static str),
    Unknown,
}

pub fn parse(line: &[u8]) -> Command {
    let Ok(text) = std::str::from_utf8(line) else {
        return Command::Unknown;
    };
    let mut words = text.split(' ');
    let keyword = words.next().unwrap_or_default().to_ascii_uppercase();
    let args: Vec<&str> = words.collect();
    let n = |i: usize| args.get(i).and_then(|a| number(a));
    let none = args.is_empty();
    match (keyword.as_str(), args.len()) {
        // PASS takes the rest of the line: a password may contain spaces.
        ("PASS", _) if !none => Command::Pass(args.join(" ")),
        ("USER", 1) if !args[0].is_empty() => Command::User(args[0].to_string()),
        ("APOP", 2) if !args[0].is_empty() && args[1].len() == 32 => {
            Command::Apop(args[0].to_string(), args[1].to_ascii_lowercase())
        }
        ("QUIT", 0) => Command::Quit,
        ("STAT", 0) => Command::Stat,
        ("NOOP", 0) => Command::Noop,
        ("RSET", 0) => Command::Rset,
        ("CAPA", 0) => Command::Capa,
        ("STLS", 0) => Command::Stls,
        ("LIST", 0) => Command::List(None),
        ("UIDL", 0) => Command::Uidl(None),
        ("LIST", 1) => n(0).map_or(bad("message number"), |m| Command::List(Some(m))),
        ("UIDL", 1) => n(0).map_or(bad("message number"), |m| Command::Uidl(Some(m))),
        ("RETR", 1) => n(0).map_or(bad("message number"), Command::Retr),
        ("DELE", 1) => n(0).map_or(bad("message number"), Command::Dele),
        ("TOP", 2) => match (n(0), args[1].parse::<usize>().ok()) {
            (Some(m), Some(lines)) if args[1].bytes().all(|b| b.is_ascii_digit()) => {
                Command::Top(m, lines)
            }
            _ => bad("TOP msg n"),
        },
        (
            "USER" | "PASS" | "APOP" | "QUIT" | "STAT" | "NOOP" | "RSET" | "CAPA" | "STLS" | "LIST"
            | "UIDL" | "RETR" | "DELE" | "TOP",
            _,
        ) => bad("arguments"),
        _ => Command::Unknown,
    }
}

fn bad(what: &'static str) -> Command {
    Command::BadArguments(what)
}

/// A message number: decimal digits only, at least 1.
fn number(s: &str) -> Option<usize> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|n| *n >= 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(parse(b"user bob"), Command::User("bob".into()));
        assert_eq!(
            parse(b"PASS hungry hippo"),
            Command::Pass("hungry hippo".into())
        );
        assert_eq!(
            parse(b"APOP mrose C4C9334BAC560ECC979E58001B3E22FB"),
            Command::Apop("mrose".into(), "c4c9334bac560ecc979e58001b3e22fb".into())
        );
        assert_eq!(parse(b"APOP mrose"), Command::BadArguments("arguments"));
        assert_eq!(parse(b"list"), Command::List(None));
        assert_eq!(parse(b"LIST 2"), Command::List(Some(2)));
        assert_eq!(parse(b"TOP 1 0"), Command::Top(1, 0));
        assert!(matches!(parse(b"RETR 0"), Command::BadArguments(_)));
        assert!(matches!(parse(b"RETR -1"), Command::BadArguments(_)));
        assert!(matches!(parse(b"RETR"), Command::BadArguments(_)));
        assert!(matches!(parse(b"DELE 1 2"), Command::BadArguments(_)));
        assert!(matches!(parse(b"TOP 1 +2"), Command::BadArguments(_)));
        assert!(matches!(parse(b"USER"), Command::BadArguments(_)));
        assert_eq!(parse(b"usr bob"), Command::Unknown);
        assert_eq!(parse(b""), Command::Unknown);
    }
}
