//! From request-target to a file under the web root (RFC 9112 §3.2,
//! RFC 3986 §5.2.4). No target can name anything outside the root: dot
//! segments are resolved after percent-decoding, and one that would climb
//! above the root is refused.

use std::path::{Path, PathBuf};

use super::request::Reject;

/// The path part of a target, percent-decoded and with dot segments
/// resolved: `/a/./b/../c` → segments `["a", "c"]`.
#[derive(Debug, PartialEq, Eq)]
pub struct Target {
    pub segments: Vec<String>,
    /// The target ended in `/` (a directory is asked for).
    pub trailing_slash: bool,
}

impl Target {
    /// `/a/c` (decoded, normalised).
    pub fn path(&self) -> String {
        let mut p = String::from("/");
        p.push_str(&self.segments.join("/"));
        if self.trailing_slash && !self.segments.is_empty() {
            p.push('/');
        }
        p
    }

    /// The file this names under `root`.
    pub fn under(&self, root: &Path) -> PathBuf {
        let mut p = root.to_path_buf();
        for s in &self.segments {
            p.push(s);
        }
        p
    }
}

/// Parses an origin-form (`/path?query`) or absolute-form
/// (`http://host/path?query`) target. RFC 9112 §3.2.2: a server MUST accept
/// the absolute form.
pub fn parse(target: &str) -> Result<Target, Reject> {
    let path = if target.starts_with('/') {
        target
    } else if let Some(rest) = strip_scheme(target) {
        match rest.find('/') {
            Some(i) => &rest[i..],
            None => "/",
        }
    } else {
        return Err(Reject(400));
    };
    // A fragment is never part of a request-target.
    if path.contains('#') {
        return Err(Reject(400));
    }
    let path = path.split('?').next().unwrap_or_default();
    let decoded = percent_decode(path)?;
    // Bytes that mean something else to a file system are refused outright.
    if decoded.iter().any(|b| *b == 0 || *b == b'\\') {
        return Err(Reject(400));
    }
    let decoded = String::from_utf8(decoded).map_err(|_| Reject(400))?;
    let trailing_slash = decoded.ends_with('/');
    let mut segments: Vec<String> = Vec::new();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                // Above the root: refused rather than silently clamped.
                if segments.pop().is_none() {
                    return Err(Reject(400));
                }
            }
            s => segments.push(s.to_string()),
        }
    }
    Ok(Target {
        segments,
        trailing_slash: trailing_slash || decoded.ends_with("/.") || decoded.ends_with("/.."),
    })
}

fn strip_scheme(t: &str) -> Option<&str> {
    let lower = t.get(..7)?.to_ascii_lowercase();
    (lower == "http://").then(|| &t[7..])
}

fn percent_decode(s: &str) -> Result<Vec<u8>, Reject> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3).ok_or(Reject(400))?;
            let text = std::str::from_utf8(hex).map_err(|_| Reject(400))?;
            out.push(u8::from_str_radix(text, 16).map_err(|_| Reject(400))?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(t: &str) -> Result<Vec<String>, Reject> {
        parse(t).map(|t| t.segments)
    }

    #[test]
    fn resolves_dot_segments_inside_the_root() {
        assert_eq!(segs("/a/./b/../c?x=1"), Ok(vec!["a".into(), "c".into()]));
        assert_eq!(segs("http://h.test/a%20b"), Ok(vec!["a b".into()]));
        assert_eq!(segs("http://h.test"), Ok(vec![]));
        assert_eq!(
            segs("//etc/passwd"),
            Ok(vec!["etc".into(), "passwd".into()])
        );
    }

    #[test]
    fn never_leaves_the_root() {
        for t in [
            "/../etc/passwd",
            "/a/../../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/%2E%2E%2fetc/passwd",
            "/a/%2e%2e/%2e%2e/x",
            "/..%5cx",
            "/a%00b",
            "/%zz",
            "/%2",
            "etc/passwd",
            "*",
        ] {
            assert!(parse(t).is_err(), "{t}");
        }
    }
}
