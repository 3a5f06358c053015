//! FTP steps: control-connection checks.

#[allow(unused_imports)]
use super::*;

/// SIZE answered 213 with the fixture file's size in octets (RFC 3659 §4).
#[then(regex = r#"^the server replies 213 with the size of the fixture file "(.*)"$"#)]
pub(crate) async fn size_reply(w: &mut World, name: String) -> StepResult {
    step!(w, {
        let expected = fixture_bytes(&name)?.len();
        check_size(w, expected, false, "the file's size in TYPE I")
    })
}

/// SIZE answered 213 with the number of octets the last transfer brought,
/// or refused with 550: RFC 3659 §4 defines the size as the octets a
/// transfer in the current TYPE would send, and lets a server that cannot
/// work that out (TYPE A) refuse.
#[then(regex = r"^the server replies 213 with the number of octets received, or 550$")]
pub(crate) async fn size_is_received(w: &mut World) -> StepResult {
    step!(w, {
        let expected = received(w)?.len();
        check_size(
            w,
            expected,
            true,
            "the number of octets a transfer in the current TYPE sends",
        )
    })
}

pub(crate) fn check_size(
    w: &mut World,
    expected: usize,
    may_refuse: bool,
    what: &str,
) -> StepResult {
    let reply = last_reply(w, "")?;
    if may_refuse && reply.status == "550" {
        return Ok(());
    }
    let codes = if may_refuse {
        vec!["213".into(), "550".into()]
    } else {
        vec!["213".into()]
    };
    check_status(&reply, &codes, "to SIZE")?;
    let got = reply.text().get(4..).unwrap_or_default().trim().to_string();
    if got == expected.to_string() {
        return Ok(());
    }
    Err(
        Failure::conformance(format!("SIZE does not report {what} (RFC 3659 §4)"))
            .expected(if may_refuse {
                format!("213 {expected}, or 550")
            } else {
                format!("213 {expected}")
            })
            .got(reply.text()),
    )
}

/// The last reply is 530 to a command before login; any other reply means
/// that the server lets it through without one (its choice, RFC 959
/// §4.1.1), and the scenario is skipped.
#[then(regex = r"^a server that needs a login for it replies 530$")]
pub(crate) async fn needs_login(w: &mut World) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        if reply.status == "530" {
            return Ok(());
        }
        let sent = escape_short(&w.session("")?.sent, 120);
        Err(Failure::skip(format!(
            "the server answers \"{sent}\" without a login ({}): it needs none for it",
            reply.status
        )))
    })
}

/// MDTM answered 213 with a time-val `YYYYMMDDHHMMSS[.sss]` (RFC 3659 §3).
#[then(regex = r"^the server replies 213 with a time-val$")]
pub(crate) async fn mdtm_reply(w: &mut World) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        check_status(&reply, &["213".into()], "to MDTM")?;
        let text = reply.text();
        let value = text.get(4..).unwrap_or_default().trim();
        let (main, frac) = value.split_once('.').unwrap_or((value, "0"));
        let ok = main.len() == 14
            && main.bytes().all(|b| b.is_ascii_digit())
            && !frac.is_empty()
            && frac.bytes().all(|b| b.is_ascii_digit())
            && plausible_time(main);
        if ok {
            Ok(())
        } else {
            Err(
                Failure::conformance("the MDTM reply is not a time-val (RFC 3659 §2.3)")
                    .expected("213 YYYYMMDDHHMMSS[.sss], in UTC")
                    .got(text),
            )
        }
    })
}

pub(crate) fn plausible_time(v: &str) -> bool {
    let n = |r: std::ops::Range<usize>| v[r].parse::<u32>().unwrap_or(99);
    (1..=12).contains(&n(4..6))
        && (1..=31).contains(&n(6..8))
        && n(8..10) < 24
        && n(10..12) < 60
        && n(12..14) < 61
}

/// The last reply is a multi-line reply as RFC 959 §4.2 shapes it: `NNN-`
/// first, `NNN ` last.
/// Example: `Then the reply is a multi-line reply in the RFC 959 format`
#[then(regex = r"^the reply is a multi-line reply in the RFC 959 format$")]
pub(crate) async fn multiline_format(w: &mut World) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        let first = reply
            .lines
            .first()
            .map(|l| l.bytes.clone())
            .unwrap_or_default();
        let ok = reply.lines.len() >= 2 && first.get(3) == Some(&b'-');
        if ok {
            Ok(())
        } else {
            Err(Failure::conformance(
                "expected a multi-line reply: \"NNN-\" on the first line, \"NNN \" on the last (RFC 959 §4.2)",
            )
            .expected("NNN-text … NNN text")
            .got(format!("\"{}\"", escape_short(reply.text().as_bytes(), 300))))
        }
    })
}

/// Every line of the last reply ends with CRLF.
#[then(regex = r"^every line of the reply ends with CRLF$")]
pub(crate) async fn reply_lines_crlf(w: &mut World) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        match reply.lines.iter().position(|l| l.end != crate::wire::Terminator::CrLf) {
            None => Ok(()),
            Some(i) => Err(Failure::conformance(
                "a reply line ends with a bare LF (RFC 959 §4.2: replies are Telnet lines ending in CRLF)",
            )
            .expected("\\r\\n after every line")
            .got(format!("line {} \"{}\" ended with \\n", i + 1, reply.lines[i].text()))),
        }
    })
}

/// The lines of the last multi-line reply between its first and last start
/// with a space (FEAT, RFC 2389 §3.2).
#[then(regex = r"^every line between the first and the last starts with a space$")]
pub(crate) async fn feature_lines(w: &mut World) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        // RFC 2389 §3.2: a server without FEAT answers 500 or 502; one
        // without extensions may answer the single line "211 no-features".
        if matches!(reply.status.as_str(), "500" | "502") {
            return Err(Failure::skip(format!(
                "the server does not implement FEAT (it answered {})",
                reply.status
            )));
        }
        let n = reply.lines.len();
        if n == 1 && reply.status == "211" {
            return Ok(());
        }
        let bad = reply
            .lines
            .iter()
            .enumerate()
            .find(|(i, l)| *i > 0 && *i + 1 < n && l.bytes.first() != Some(&b' '));
        match bad {
            None if n >= 2 => Ok(()),
            None => Err(Failure::conformance(
                "FEAT is answered with the 211 feature listing or \"211 no-features\" (RFC 2389 §3.2)",
            )
            .expected("211-… / features / 211 End")
            .got(reply.text())),
            Some((_, l)) => Err(Failure::conformance(
                "a feature line does not start with a space (RFC 2389 §3.2)",
            )
            .expected("\" FEATURE\"")
            .got(format!("\"{}\"", l.text()))),
        }
    })
}

pub(crate) async fn pwd(w: &mut World) -> Result<String, Failure> {
    let reply = command(w, "", b"PWD").await?;
    check_status(&reply, &["257".into()], "to PWD")?;
    wire::parse_257(&reply.text()).ok_or_else(|| {
        Failure::conformance("the 257 reply does not quote the directory")
            .expected("257 \"<directory>\" … (RFC 959 Appendix II)")
            .got(reply.text())
    })
}

pub(crate) fn home(w: &mut World) -> Result<String, Failure> {
    w.state::<FtpState>()
        .home
        .clone()
        .ok_or_else(|| Failure::harness("the scenario checks directories before logging in"))
}

pub(crate) fn join(home: &str, sub: &str) -> String {
    if sub.is_empty() {
        home.to_string()
    } else {
        format!("{}/{sub}", home.trim_end_matches('/'))
    }
}

pub(crate) async fn check_cwd(w: &mut World, sub: &str) -> StepResult {
    let want = join(&home(w)?, sub);
    let got = pwd(w).await?;
    if got == want {
        Ok(())
    } else {
        Err(
            Failure::conformance("PWD names another directory than expected")
                .expected(format!("257 \"{want}\""))
                .got(format!("257 \"{got}\"")),
        )
    }
}

/// The last reply is the 257 of an MKD and names this directory under the
/// login directory as an absolute path, quotes in it doubled (RFC 959
/// Appendix II: the "quote-doubling" convention).
#[then(regex = r#"^the 257 reply names "(.*)" under the login directory$"#)]
pub(crate) async fn mkd_reply_names(w: &mut World, sub: String) -> StepResult {
    step!(w, {
        let sub = String::from_utf8_lossy(&payload(w, &sub)?).into_owned();
        let want = join(&home(w)?, &sub);
        let reply = last_reply(w, "")?;
        check_status(&reply, &["257".into()], "to MKD")?;
        let text = reply.text();
        let shown = format!("\"{}\"", escape_short(text.as_bytes(), 200));
        let expected = format!(
            "257 \"{}\" … (RFC 959 Appendix II)",
            want.replace('"', "\"\"")
        );
        match wire::parse_257(&text) {
            Some(got) if got == want => Ok(()),
            Some(_) if want.contains('"') => Err(Failure::conformance(
                "the 257 reply does not name the directory created, its quotes doubled",
            )
            .expected(expected)
            .got(shown)),
            _ => Err(
                Failure::conformance("the 257 reply does not name the absolute path created")
                    .expected(expected)
                    .got(shown),
            ),
        }
    })
}

/// PWD names the login directory.
#[then(regex = r"^the current directory is the login directory$")]
pub(crate) async fn cwd_is_home(w: &mut World) -> StepResult {
    step!(w, check_cwd(w, "").await)
}

/// PWD names this directory under the login directory.
#[then(regex = r#"^the current directory is "(.*)" under the login directory$"#)]
pub(crate) async fn cwd_is_under_home(w: &mut World, sub: String) -> StepResult {
    step!(w, check_cwd(w, &sub).await)
}
