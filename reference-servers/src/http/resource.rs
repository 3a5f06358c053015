//! What the server answers for a well-formed request: the fixture resources,
//! files under the web root with their validators, and conditional requests
//! (RFC 9110 §9, §13).

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::request::{Reject, Request};
use super::response::Response;
use super::target::{self, Target};

/// Methods this server knows (RFC 9110 §9). Any other is 501.
const KNOWN: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];
/// The largest file served.
const MAX_FILE: u64 = 16 * 1024 * 1024;

/// Where `/redirect` points.
pub const REDIRECT_TO: &str = "/somedir/page.html";
/// The cookie `/cookie/set` sets.
pub const COOKIE: &str = "conform_id=4711";

pub async fn respond(req: &Request, body: &[u8], root: &Path) -> Response {
    match dispatch(req, body, root).await {
        Ok(r) => r,
        Err(Reject(s)) => Response::error(s),
    }
}

async fn dispatch(req: &Request, body: &[u8], root: &Path) -> Result<Response, Reject> {
    let method = req.method.as_str();
    // RFC 9110 §9.1: an unrecognised method SHOULD get 501.
    if !KNOWN.contains(&method) {
        return Ok(Response::error(501));
    }
    if req.target == "*" {
        // The asterisk form is only for OPTIONS (RFC 9112 §3.2.4).
        return if method == "OPTIONS" {
            Ok(Response::new(200).with("Allow", "GET, HEAD, POST, OPTIONS"))
        } else {
            Err(Reject(400))
        };
    }
    let t = target::parse(&req.target)?;
    let path = t.path();
    let allow: &[&str] = match path.as_str() {
        "/echo" => &["GET", "HEAD", "POST", "OPTIONS"],
        _ => &["GET", "HEAD", "OPTIONS"],
    };
    if !allow.contains(&method) {
        // RFC 9110 §15.5.6: a 405 MUST carry Allow.
        return Ok(Response::error(405).with("Allow", allow.join(", ")));
    }
    if method == "OPTIONS" {
        return Ok(Response::new(200).with("Allow", allow.join(", ")));
    }
    match path.as_str() {
        "/echo" => Ok(Response::new(200).content("text/plain", format!("len={}\n", body.len()))),
        // RFC 9110 §15.4.2: 301 SHOULD carry Location.
        "/redirect" => Ok(Response::error(301).with("Location", REDIRECT_TO)),
        "/cookie/set" => Ok(Response::new(200)
            // RFC 6265 §4.1: Set-Cookie: cookie-pair *( ";" SP cookie-av ).
            .with("Set-Cookie", format!("{COOKIE}; Path=/"))
            .content("text/plain", "cookie set\n")),
        "/cookie/show" => {
            let cookies: Vec<String> = req
                .all("cookie")
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect();
            Ok(
                Response::new(200)
                    .content("text/plain", format!("cookie={}\n", cookies.join("; "))),
            )
        }
        _ => file(req, &t, root).await,
    }
}

async fn file(req: &Request, t: &Target, root: &Path) -> Result<Response, Reject> {
    let mut path = t.under(root);
    let meta = tokio::fs::metadata(&path).await.map_err(|_| Reject(404))?;
    if meta.is_dir() {
        if !t.trailing_slash && !t.segments.is_empty() {
            return Ok(Response::error(301).with("Location", format!("{}/", t.path())));
        }
        path.push("index.html");
    }
    // A symbolic link inside the root must not lead out of it.
    let real = tokio::fs::canonicalize(&path)
        .await
        .map_err(|_| Reject(404))?;
    if !real.starts_with(root) {
        return Err(Reject(404));
    }
    let meta = tokio::fs::metadata(&real).await.map_err(|_| Reject(404))?;
    if !meta.is_file() {
        return Err(Reject(404));
    }
    if meta.len() > MAX_FILE {
        return Err(Reject(500));
    }
    let modified = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    let last_modified = UNIX_EPOCH + Duration::from_secs(modified);
    // RFC 9110 §8.8.3: a strong validator that changes with the content.
    let etag = format!("\"{:x}-{:x}\"", modified, meta.len());
    let validators = |r: Response| {
        r.with("Last-Modified", httpdate::fmt_http_date(last_modified))
            .with("ETag", etag.clone())
    };
    if let Some(status) = precondition(req, &etag, last_modified) {
        return Ok(if status == 304 {
            validators(Response::new(304))
        } else {
            Response::error(status)
        });
    }
    let content = tokio::fs::read(&real).await.map_err(|_| Reject(404))?;
    let kind = content_type(&real);
    // RFC 9110 §14.2: Range is evaluated after the preconditions, and only
    // for GET ("A server MUST ignore a Range header field received with a
    // request method ... for which range handling is not defined").
    // If-Range is not implemented, so a request with it gets the whole file.
    if req.method == "GET" && req.field("if-range").is_none() {
        if let Some(range) = req.field("range") {
            match byte_range(&range, content.len()) {
                // §15.3.7.1: a single part carries Content-Range and exactly
                // the range.
                Some(Ok((first, last))) => {
                    return Ok(validators(Response::new(206))
                        .with(
                            "Content-Range",
                            format!("bytes {first}-{last}/{}", content.len()),
                        )
                        .content(kind, content[first..=last].to_vec()))
                }
                // §14.2: an unsatisfiable range SHOULD get 416; §15.5.17: with
                // a Content-Range naming the current length (SHOULD).
                Some(Err(())) => {
                    return Ok(Response::error(416)
                        .with("Content-Range", format!("bytes */{}", content.len())))
                }
                // Another unit ("MUST ignore" one it does not understand),
                // several ranges or an invalid specifier (MAY ignore).
                None => {}
            }
        }
    }
    Ok(validators(Response::new(200)).content(kind, content))
}

/// One `bytes` range-spec (RFC 9110 §14.1.2) against a representation of
/// `len` octets: `Some(Ok((first, last)))` when satisfiable (last clamped to
/// the end), `Some(Err(()))` when unsatisfiable, `None` when it is another
/// unit, several ranges or no valid specifier (then the Range is ignored).
fn byte_range(value: &str, len: usize) -> Option<Result<(usize, usize), ()>> {
    let (unit, spec) = value.trim().split_once('=')?;
    if !unit.eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return None;
    }
    let (a, b) = spec.trim().split_once('-')?;
    let num = |t: &str| -> Option<usize> {
        (!t.is_empty() && t.len() <= 15 && t.bytes().all(|c| c.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    if a.is_empty() {
        // suffix-range: the last N octets; "-0" or an empty file is
        // unsatisfiable.
        let n = num(b)?;
        if n == 0 || len == 0 {
            return Some(Err(()));
        }
        return Some(Ok((len.saturating_sub(n), len - 1)));
    }
    let first = num(a)?;
    let last = if b.is_empty() { usize::MAX } else { num(b)? };
    if last < first {
        return None;
    }
    // "satisfiable if the first-pos is less than the current length".
    if first >= len {
        return Some(Err(()));
    }
    Some(Ok((first, last.min(len - 1))))
}

/// The preconditions of RFC 9110 §13.2.2, in its order. `Some(status)` when
/// one decides the response (304 or 412).
fn precondition(req: &Request, etag: &str, last_modified: SystemTime) -> Option<u16> {
    let date = |name: &str| {
        req.field(name)
            .and_then(|v| httpdate::parse_http_date(&v).ok())
    };
    // 1. If-Match: strong comparison; 2. else If-Unmodified-Since.
    if let Some(im) = req.field("if-match") {
        if !matches(&im, etag, false) {
            return Some(412);
        }
    } else if let Some(d) = date("if-unmodified-since") {
        if last_modified > d {
            return Some(412);
        }
    }
    // 3. If-None-Match: weak comparison; it takes precedence over
    // If-Modified-Since, which is then ignored (§13.1.3).
    if let Some(inm) = req.field("if-none-match") {
        return matches(&inm, etag, true).then_some(304);
    }
    // 4. If-Modified-Since: only for GET and HEAD; an invalid date is ignored.
    if let Some(d) = date("if-modified-since") {
        if last_modified <= d {
            return Some(304);
        }
    }
    None
}

/// Whether an If-Match/If-None-Match list matches `etag` (§8.8.3.2).
fn matches(list: &str, etag: &str, weak: bool) -> bool {
    if list.trim() == "*" {
        return true;
    }
    list.split(',').map(str::trim).any(|tag| {
        let (is_weak, opaque) = match tag.strip_prefix("W/") {
            Some(o) => (true, o),
            None => (false, tag),
        };
        opaque == etag && (weak || !is_weak)
    })
}

fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
    {
        "html" | "htm" => "text/html",
        "txt" => "text/plain",
        "css" => "text/css",
        "js" => "application/javascript",
        "json" => "application/json",
        "gif" => "image/gif",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_tag_comparison() {
        assert!(matches("\"a\"", "\"a\"", false));
        assert!(matches("W/\"a\", \"b\"", "\"a\"", true));
        assert!(!matches("W/\"a\"", "\"a\"", false));
        assert!(matches("*", "\"a\"", false));
        assert!(!matches("\"b\"", "\"a\"", true));
    }

    #[test]
    fn byte_ranges() {
        assert_eq!(byte_range("bytes=10-19", 100), Some(Ok((10, 19))));
        assert_eq!(byte_range("bytes=90-", 100), Some(Ok((90, 99))));
        assert_eq!(byte_range("bytes=95-200", 100), Some(Ok((95, 99))));
        assert_eq!(byte_range("bytes=-5", 100), Some(Ok((95, 99))));
        assert_eq!(byte_range("bytes=200-", 100), Some(Err(())));
        assert_eq!(byte_range("bytes=-0", 100), Some(Err(())));
        assert_eq!(byte_range("pages=0-4", 100), None);
        assert_eq!(byte_range("bytes=0-1,5-6", 100), None);
        assert_eq!(byte_range("bytes=5-1", 100), None);
        assert_eq!(byte_range("bytes=x-1", 100), None);
    }
}
