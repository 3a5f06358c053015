//! Checks on one HTTP response, shared by the raw-wire and library steps.

use crate::fixtures;
use crate::notation::escape_short;
use crate::steps::{Failure, StepResult};
use crate::wire::http::{Framing, Response};

fn head_text(r: &Response) -> String {
    escape_short(r.to_reply().text().as_bytes(), 400)
}

pub fn has_header(r: &Response, name: &str) -> StepResult {
    if r.field(name).is_some() {
        return Ok(());
    }
    Err(
        Failure::conformance(format!("the response has no {name} header"))
            .expected(format!("the header field {name}"))
            .got(format!("\"{}\"", head_text(r))),
    )
}

/// The validator (`ETag`, `Last-Modified`) a later request builds on. Both
/// are SHOULDs (RFC 9110 §8.8.2.1, §8.8.3), checked by their own scenarios:
/// without one, a scenario built on it does not apply and is skipped.
pub fn validator(r: &Response, name: &str) -> Result<String, Failure> {
    r.field(name).ok_or_else(|| {
        Failure::skip(format!(
            "the server sent no {name} (RFC 9110 §8.8: SHOULD, judged by its own scenario), \
             so there is nothing to build this scenario's request on"
        ))
    })
}

pub fn header_value(r: &Response, name: &str, how: &str, want: &str) -> StepResult {
    has_header(r, name)?;
    let got = r.field(name).unwrap_or_default();
    let ok = match how {
        "is" => got == want,
        "contains" => got
            .to_ascii_lowercase()
            .contains(&want.to_ascii_lowercase()),
        "ends with" => got.ends_with(want),
        // A comma-separated list that has the token (case-insensitive).
        _ => got.split(',').any(|t| t.trim().eq_ignore_ascii_case(want)),
    };
    if ok {
        return Ok(());
    }
    Err(
        Failure::conformance(format!("unexpected {name} header value"))
            .expected(format!("{name} that {how} \"{want}\""))
            .got(format!("{name}: {got}")),
    )
}

/// RFC 9110 §5.6.7: a sender MUST generate HTTP-date as IMF-fixdate,
/// `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(r: &Response, name: &str) -> StepResult {
    has_header(r, name)?;
    let got = r.field(name).unwrap_or_default();
    let shape = regex::Regex::new(
        r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$",
    )
    .map_err(|e| Failure::harness(e.to_string()))?;
    if shape.is_match(&got) && httpdate::parse_http_date(&got).is_ok() {
        return Ok(());
    }
    Err(
        Failure::conformance(format!("{name} is not an IMF-fixdate"))
            .expected("an IMF-fixdate such as \"Sun, 06 Nov 1994 08:49:37 GMT\" (RFC 9110 §5.6.7)")
            .got(format!("{name}: {got}")),
    )
}

/// The date in `name` differs from this machine's clock by at most `secs`.
pub fn date_near(r: &Response, name: &str, secs: u64) -> StepResult {
    http_date(r, name)?;
    let got = r.field(name).unwrap_or_default();
    let when = httpdate::parse_http_date(&got)
        .map_err(|e| Failure::conformance(format!("{name} \"{got}\": {e}")))?;
    let now = std::time::SystemTime::now();
    let skew = now
        .duration_since(when)
        .or_else(|_| when.duration_since(now))
        .unwrap_or_default();
    if skew.as_secs() <= secs {
        return Ok(());
    }
    Err(Failure::conformance(format!(
        "{name} is {}s away from the client's clock",
        skew.as_secs()
    ))
    .expected(format!(
        "within {secs}s of {}",
        httpdate::fmt_http_date(now)
    ))
    .got(format!("{name}: {got}")))
}

/// The content with its content codings (RFC 9110 §8.4) removed: gzip and
/// deflate, which a server may apply when the request accepts them (or
/// names no Accept-Encoding, §12.5.3). Bounded like the body itself.
pub fn decoded(r: &Response) -> Result<std::borrow::Cow<'_, [u8]>, Failure> {
    use std::io::Read;
    let Some(codings) = r.field("Content-Encoding") else {
        return Ok(std::borrow::Cow::Borrowed(&r.body));
    };
    let mut body = r.body.clone();
    for coding in codings.rsplit(',').map(|c| c.trim().to_ascii_lowercase()) {
        let mut out = Vec::new();
        let limit = crate::wire::http::MAX_BODY as u64 + 1;
        let read = match coding.as_str() {
            "identity" | "" => continue,
            "gzip" | "x-gzip" => flate2::read::MultiGzDecoder::new(&body[..])
                .take(limit)
                .read_to_end(&mut out),
            "deflate" => flate2::read::ZlibDecoder::new(&body[..])
                .take(limit)
                .read_to_end(&mut out),
            other => {
                return Err(Failure::conformance(format!(
                    "the response has a content coding the request did not offer: {other}"
                ))
                .expected("gzip, deflate or no Content-Encoding")
                .got(format!("Content-Encoding: {codings}")))
            }
        };
        if let Err(e) = read {
            return Err(Failure::conformance(format!(
                "the content does not decode as its Content-Encoding {coding} says: {e}"
            ))
            .expected(format!("{coding}-coded content"))
            .got(format!("\"{}\"", escape_short(&body, 80))));
        }
        if out.len() as u64 >= limit {
            return Err(
                Failure::conformance("the decoded content exceeds the size limit")
                    .expected(format!("at most {} bytes", crate::wire::http::MAX_BODY))
                    .got(format!("Content-Encoding: {codings}")),
            );
        }
        body = out;
    }
    Ok(std::borrow::Cow::Owned(body))
}

/// A 206 holding octets `first..=last` of the fixture file, announced by
/// `Content-Range: bytes first-last/length` (RFC 9110 §14.4, §15.3.7.1).
pub fn byte_range(r: &Response, path: &str, first: usize, last: usize) -> StepResult {
    let want = fixtures::http::file(path)
        .ok_or_else(|| Failure::harness(format!("\"{path}\" is not a fixture file")))?;
    let Some(part) = want.get(first..=last) else {
        return Err(Failure::harness(format!(
            "bytes {first}-{last} lie outside the fixture file {path}"
        )));
    };
    let range = format!("bytes {first}-{last}/{}", want.len());
    let got = r.field("Content-Range");
    if got.as_deref().map(str::trim) != Some(range.as_str()) {
        return Err(Failure::conformance(
            "a 206 without the Content-Range of the range it encloses (RFC 9110 §15.3.7.1: the server \"MUST generate a Content-Range header field, describing what range of the selected representation is enclosed\")",
        )
        .expected(format!("Content-Range: {range}"))
        .got(match got {
            Some(v) => format!("Content-Range: {v}"),
            None => format!("no Content-Range in \"{}\"", head_text(r)),
        }));
    }
    if r.body != part {
        return Err(Failure::conformance(
            "the 206's content is not the range its Content-Range names (RFC 9110 §15.3.7.1: \"a content consisting of the range\")",
        )
        .expected(format!(
            "the {} octets \"{}\"",
            part.len(),
            escape_short(part, 80)
        ))
        .got(format!(
            "{} octets \"{}\"",
            r.body.len(),
            escape_short(&r.body, 80)
        )));
    }
    Ok(())
}

pub fn body_is_fixture(r: &Response, path: &str) -> StepResult {
    let want = fixtures::http::file(path)
        .ok_or_else(|| Failure::harness(format!("\"{path}\" is not a fixture file")))?;
    let body = decoded(r)?;
    if body.as_ref() == want {
        return Ok(());
    }
    let encoded = r
        .field("Content-Encoding")
        .map(|c| format!(", decoded from {c}"))
        .unwrap_or_default();
    let why = match want.iter().zip(body.iter()).position(|(a, b)| a != b) {
        Some(i) => format!("they differ first at byte {i}{encoded}"),
        None => format!(
            "the body is {} bytes{encoded}, the file {} bytes",
            body.len(),
            want.len()
        ),
    };
    Err(Failure::conformance(format!(
        "the response body is not the fixture file {path}: {why}"
    ))
    .expected(format!(
        "the {} bytes of {path}: \"{}\"",
        want.len(),
        escape_short(want, 120)
    ))
    .got(format!(
        "{} bytes ({}{encoded}): \"{}\"",
        body.len(),
        framing(&r.framing),
        escape_short(&body, 120)
    )))
}

pub fn framing(f: &Framing) -> String {
    match f {
        Framing::NoBody => "no body by its status or method".into(),
        Framing::Length(n) => format!("Content-Length: {n}"),
        Framing::Chunked => "chunked".into(),
        Framing::Close => "delimited by close".into(),
    }
}

pub fn body_contains(body: &[u8], want: &[u8], should: bool) -> StepResult {
    let found = !want.is_empty() && body.windows(want.len()).any(|w| w == want);
    if found == should {
        return Ok(());
    }
    Err(Failure::conformance(if should {
        "the response body lacks the expected text"
    } else {
        "the response body has text it must not have"
    })
    .expected(format!(
        "a body that {} \"{}\"",
        if should {
            "contains"
        } else {
            "does not contain"
        },
        escape_short(want, 100)
    ))
    .got(format!("\"{}\"", escape_short(body, 300))))
}

pub fn no_body(r: &Response) -> StepResult {
    if r.body.is_empty() && matches!(r.framing, Framing::NoBody | Framing::Length(0)) {
        return Ok(());
    }
    Err(
        Failure::conformance("the response has a body where none is allowed")
            .expected("no content")
            .got(format!("{} ({} bytes)", framing(&r.framing), r.body.len())),
    )
}

/// The syntax the reader tolerated but RFC 9112 forbids: bare LF, obs-fold,
/// whitespace before a colon, Content-Length with Transfer-Encoding; and a
/// version of 1.x.
pub fn well_formed(r: &Response) -> StepResult {
    let mut problems = r.problems.clone();
    if !r.version.starts_with("HTTP/1.") {
        problems.push(format!(
            "the status line says {} to an HTTP/1.1 request",
            r.version
        ));
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Failure::conformance(format!("the response is not well-formed: {}", problems.join("; ")))
        .expected("a status line, CRLF-terminated field lines \"name: value\" and an empty line (RFC 9112 §2.1)")
        .got(format!("\"{}\"", head_text(r))))
}

/// RFC 9110 §8.8.2.1: Last-Modified is not later than Date. Without
/// Last-Modified (a SHOULD, judged by its own scenario) or Date: skipped.
pub fn last_modified_not_after_date(r: &Response) -> StepResult {
    let (Some(lm), Some(date)) = (r.field("Last-Modified"), r.field("Date")) else {
        return Err(Failure::skip(
            "the response lacks Last-Modified or Date (each judged by its own scenario), so there is nothing to compare",
        ));
    };
    for name in ["Last-Modified", "Date"] {
        http_date(r, name)?;
    }
    let parse = |v: &str| httpdate::parse_http_date(v).map_err(|e| Failure::harness(e.to_string()));
    if parse(&lm)? <= parse(&date)? {
        return Ok(());
    }
    Err(Failure::conformance(
        "Last-Modified is later than Date (RFC 9110 §8.8.2.1: an origin server \"MUST NOT generate a Last-Modified date that is later than the server's time of message origination\")",
    )
    .expected("Last-Modified at or before Date")
    .got(format!("Last-Modified: {lm}; Date: {date}")))
}

/// RFC 9110 §8.8.3: `ETag = entity-tag`, `entity-tag = [ weak ] opaque-tag`,
/// `weak = %s"W/"`, `opaque-tag = DQUOTE *etagc DQUOTE`,
/// `etagc = %x21 / %x23-7E / obs-text`. Without an ETag (a SHOULD, judged
/// by its own scenario) there is nothing to check: skipped.
pub fn entity_tag(r: &Response) -> StepResult {
    let values: Vec<&[u8]> = r
        .fields
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("etag"))
        .map(|(_, v)| v.as_slice())
        .collect();
    let Some(v) = values.first() else {
        return Err(Failure::skip(
            "the server sent no ETag (RFC 9110 §8.8.3: SHOULD, judged by its own scenario), so there is no entity-tag to check",
        ));
    };
    let opaque = v.strip_prefix(b"W/").unwrap_or(v);
    let ok = values.len() == 1
        && opaque.len() >= 2
        && opaque[0] == b'"'
        && opaque[opaque.len() - 1] == b'"'
        && opaque[1..opaque.len() - 1]
            .iter()
            .all(|&c| c == 0x21 || (0x23..=0x7e).contains(&c) || c >= 0x80);
    if ok {
        return Ok(());
    }
    Err(Failure::conformance(if values.len() > 1 {
        "the response has more than one ETag (RFC 9110 §8.8.3: ETag = entity-tag, a single value)".to_string()
    } else {
        "the ETag is not an entity-tag (RFC 9110 §8.8.3)".to_string()
    })
    .expected("entity-tag = [ W/ ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text (RFC 9110 §8.8.3)")
    .got(
        values
            .iter()
            .map(|v| format!("ETag: {}", escape_short(v, 120)))
            .collect::<Vec<_>>()
            .join(", "),
    ))
}

/// RFC 6265 §4.1.1: `set-cookie-string = cookie-pair *( ";" SP cookie-av )`,
/// `cookie-pair = cookie-name "=" cookie-value`, the name a token, the value
/// cookie-octets, optionally in double quotes.
pub fn set_cookie(r: &Response) -> StepResult {
    has_header(r, "Set-Cookie")?;
    for value in r.all("Set-Cookie") {
        if let Err(why) = set_cookie_string(&value) {
            return Err(Failure::conformance(format!("Set-Cookie does not follow RFC 6265 §4.1.1: {why}"))
                .expected("Set-Cookie: name=value *( \"; \" attribute ), e.g. \"SID=31d4d96e407aad42; Path=/\"")
                .got(format!("Set-Cookie: {value}")));
        }
    }
    Ok(())
}

fn set_cookie_string(v: &str) -> Result<(), String> {
    let mut parts = v.split(';');
    let pair = parts.next().unwrap_or_default();
    let (name, value) = pair.split_once('=').ok_or("the cookie-pair has no '='")?;
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    {
        return Err(format!("the cookie-name \"{name}\" is not a token"));
    }
    let inner = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    // cookie-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
    if let Some(c) = inner
        .bytes()
        .find(|b| !matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E))
    {
        return Err(format!("the cookie-value has the octet 0x{c:02x}"));
    }
    for av in parts {
        if !av.starts_with(' ') || av.len() < 2 {
            return Err(format!("the attribute \"{av}\" does not follow \"; \""));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::wire::http::{Framing, Response};

    fn with_coding(coding: &str, body: Vec<u8>) -> Response {
        Response {
            version: "HTTP/1.1".into(),
            status: 200,
            reason: "OK".into(),
            lines: vec![],
            fields: vec![("Content-Encoding".into(), coding.as_bytes().to_vec())],
            framing: Framing::Length(body.len()),
            body,
            interim: vec![],
            problems: vec![],
        }
    }

    #[test]
    fn content_codings_are_removed_or_refused() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"<html>fixture</html>").unwrap();
        let r = with_coding("gzip", gz.finish().unwrap());
        assert_eq!(
            super::decoded(&r).unwrap().as_ref(),
            b"<html>fixture</html>"
        );
        assert!(super::decoded(&with_coding("gzip", b"not gzip".to_vec())).is_err());
        assert!(super::decoded(&with_coding("br", b"x".to_vec())).is_err());
        assert_eq!(
            super::decoded(&with_coding("identity", b"x".to_vec()))
                .unwrap()
                .as_ref(),
            b"x"
        );
    }

    #[test]
    fn set_cookie_strings() {
        for ok in [
            "a=b",
            "SID=31d4d96e407aad42; Path=/; HttpOnly",
            "x=\"q\"",
            "e=",
        ] {
            assert!(super::set_cookie_string(ok).is_ok(), "{ok}");
        }
        for bad in ["1678", "a b=c", "a=b c", "a=b;Path=/", "=b", "a=b;"] {
            assert!(super::set_cookie_string(bad).is_err(), "{bad}");
        }
    }
}
