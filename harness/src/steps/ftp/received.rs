//! FTP steps: what came over the data connection.

#[allow(unused_imports)]
use super::*;

pub fn fixture_bytes(name: &str) -> Result<&'static [u8], Failure> {
    crate::fixtures::ftp::file(name).ok_or_else(|| {
        Failure::harness(format!("\"{name}\" is not a file of the FTP fixture tree"))
    })
}

pub fn received(w: &mut World) -> Result<Vec<u8>, Failure> {
    let st = w.state::<FtpState>();
    if let Some(refusal) = &st.refused {
        return Err(
            Failure::conformance("the server refused the transfer, so no data came")
                .expected("125 or 150, the data, then 226 or 250 (RFC 959 §5.4)")
                .got(format!("\"{}\"", escape_short(refusal.as_bytes(), 300))),
        );
    }
    st.received.clone().ok_or_else(|| {
        Failure::harness("the scenario checks the data received, but no transfer brought any")
    })
}

/// LF → CRLF, a CR already before the LF kept (the NVT-ASCII form).
pub fn crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut prev = 0u8;
    for &b in bytes {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

pub fn compare_data(got: &[u8], expected: &[u8], what: &str) -> StepResult {
    if got == expected {
        return Ok(());
    }
    let at = crate::steps::text::first_difference(expected, got);
    Err(Failure::conformance(format!(
        "the data received differs from {what} (first difference at byte {at})"
    ))
    .expected(format!(
        "\"{}\" ({} bytes)",
        escape_short(expected, 200),
        expected.len()
    ))
    .got(format!(
        "\"{}\" ({} bytes)",
        escape_short(got, 200),
        got.len()
    )))
}

/// The data received is the fixture file, byte for byte.
#[then(regex = r#"^the data received is the fixture file "(.*)"$"#)]
pub(crate) async fn data_is_fixture(w: &mut World, name: String) -> StepResult {
    step!(w, {
        let expected = fixture_bytes(&name)?;
        compare_data(&received(w)?, expected, &format!("the fixture file {name}"))
    })
}

/// The data received is the fixture file with every line ending in CRLF (TYPE
/// A).
#[then(regex = r#"^the data received is the fixture file "(.*)" with CRLF line endings$"#)]
pub(crate) async fn data_is_fixture_crlf(w: &mut World, name: String) -> StepResult {
    step!(w, {
        let expected = crlf(fixture_bytes(&name)?);
        compare_data(
            &received(w)?,
            &expected,
            &format!("the fixture file {name} in NVT-ASCII (CRLF line endings)"),
        )
    })
}

/// The data received is exactly these bytes.
#[then(regex = r#"^the data received is exactly "(.*)"$"#)]
pub(crate) async fn data_is_exactly(w: &mut World, text: String) -> StepResult {
    step!(w, {
        let expected = payload(w, &text)?;
        compare_data(&received(w)?, &expected, "the expected bytes")
    })
}

pub(crate) fn listing_lines(data: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(data)
        .split('\n')
        .map(|l| l.trim_end_matches('\r').to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Whether a listing line (LIST, NLST or MLSD) is the entry for `name`.
pub(crate) fn names(line: &str, name: &str) -> bool {
    line == name || line.ends_with(&format!(" {name}")) || line.ends_with(&format!("/{name}"))
}

/// The LIST/NLST/MLSD data names this file.
#[then(regex = r#"^the listing names "(.*)"$"#)]
pub(crate) async fn listing_names(w: &mut World, name: String) -> StepResult {
    step!(w, {
        let data = received(w)?;
        let lines = listing_lines(&data);
        if lines.iter().any(|l| names(l, &name)) {
            Ok(())
        } else {
            Err(
                Failure::conformance(format!("the listing has no entry for \"{name}\""))
                    .expected(format!("a line for \"{name}\""))
                    .got(format!("\"{}\"", escape_short(&data, 400))),
            )
        }
    })
}

/// RFC 959 §4.1.3, NLST: "the server will return a stream of names of files
/// and no other information". The name stands alone on its line (or as the
/// last part of a pathname, "dir/name"): an `ls -l` line, with mode, owner,
/// size and date before the name, is not a name.
#[then(regex = r#"^the name list holds "(.*)" and no other information on its line$"#)]
pub(crate) async fn name_list_holds(w: &mut World, name: String) -> StepResult {
    step!(w, {
        let data = received(w)?;
        let lines = listing_lines(&data);
        let alone = |l: &String| {
            l == &name
                || l.strip_suffix(&format!("/{name}"))
                    .is_some_and(|dir| !dir.chars().any(char::is_whitespace))
        };
        if lines.iter().any(alone) {
            return Ok(());
        }
        let problem = match lines.iter().find(|l| names(l, &name)) {
            Some(l) => format!(
                "the NLST line for \"{name}\" carries more than the name: \"{}\" (RFC 959 §4.1.3: NLST returns \"names of files and no other information\")",
                escape_short(l.as_bytes(), 200)
            ),
            None => format!("the name list has no line \"{name}\""),
        };
        Err(Failure::conformance(problem)
            .expected(format!("a line that is the name \"{name}\" alone"))
            .got(format!("\"{}\"", escape_short(&data, 400))))
    })
}

/// Every line of the data received ends with CRLF.
#[then(regex = r#"^every line of the data received ends with CRLF$"#)]
pub(crate) async fn data_lines_crlf(w: &mut World) -> StepResult {
    step!(w, {
        let data = received(w)?;
        if data.is_empty() {
            return Err(Failure::conformance("the listing is empty")
                .expected("at least one line ending in CRLF")
                .got("no data"));
        }
        let ok = data.ends_with(b"\r\n")
            && data
                .iter()
                .enumerate()
                .all(|(i, b)| *b != b'\n' || (i > 0 && data[i - 1] == b'\r'));
        if ok {
            Ok(())
        } else {
            Err(Failure::conformance(
                "a line of the listing does not end with CRLF (RFC 959 §3.1.1.1: ASCII lines end in CRLF)",
            )
            .expected("every line ends with \\r\\n")
            .got(format!("\"{}\"", escape_short(&data, 400))))
        }
    })
}

/// The facts of the MLSD entry named `name`: `type=file;size=12; name`.
pub(crate) fn mlsd_facts(data: &[u8], name: &str) -> Option<Vec<(String, String)>> {
    listing_lines(data).into_iter().find_map(|line| {
        let (facts, n) = line.split_once(' ')?;
        if n != name {
            return None;
        }
        Some(
            facts
                .split(';')
                .filter(|f| !f.is_empty())
                .filter_map(|f| {
                    let (k, v) = f.split_once('=')?;
                    Some((k.to_ascii_lowercase(), v.to_string()))
                })
                .collect(),
        )
    })
}

/// The MLSD line for NAME has this type fact (and the fixture file's size),
/// RFC 3659 §7.
#[then(regex = r#"^the MLSD entry for "(.*)" has type "(.*)"(?: and the fixture file's size)?$"#)]
pub(crate) async fn mlsd_entry(w: &mut World, name: String, kind: String) -> StepResult {
    step!(w, {
        let data = received(w)?;
        let facts = mlsd_facts(&data, &name).ok_or_else(|| {
            Failure::conformance(format!(
                "no MLSD entry \"facts SP {name}\" (RFC 3659 §7.2: fact=value;… then a space and the name)"
            ))
            .expected(format!("a line \"type={kind};…; {name}\""))
            .got(format!("\"{}\"", escape_short(&data, 400)))
        })?;
        let get = |k: &str| facts.iter().find(|(f, _)| f == k).map(|(_, v)| v.clone());
        let got_type = get("type").unwrap_or_default();
        if !got_type.eq_ignore_ascii_case(&kind) {
            return Err(Failure::conformance(format!(
                "the MLSD entry for \"{name}\" has the wrong type fact"
            ))
            .expected(format!("type={kind}"))
            .got(format!("type={got_type}")));
        }
        if kind == "file" {
            if let Some(expected) = crate::fixtures::ftp::file(&name) {
                let size = get("size").unwrap_or_default();
                if size != expected.len().to_string() {
                    return Err(Failure::conformance(format!(
                        "the MLSD size fact of \"{name}\" is not the file's size (RFC 3659 §7.5.5)"
                    ))
                    .expected(format!("size={}", expected.len()))
                    .got(format!("size={size}")));
                }
            }
        }
        Ok(())
    })
}
