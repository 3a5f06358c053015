//! The store of a shared cache (RFC 9111): what may be stored (§3), the
//! cache key and Vary (§2, §4.1), freshness and age (§4.2), the update
//! after a 304 (§4.3.4) and invalidation (§4.4).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// A response the proxy holds, with what it needs to judge reuse.
#[derive(Clone, Debug)]
pub struct Stored {
    pub status: u16,
    pub reason: String,
    /// End-to-end fields of the response (hop-by-hop ones already removed).
    pub fields: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The request's values of the fields the response Varies on.
    pub vary: Vec<(String, Option<String>)>,
    /// When the request that got it was sent and the response arrived
    /// (RFC 9111 §4.2.3 request_time and response_time), seconds.
    pub request_time: u64,
    pub response_time: u64,
    /// Stored for a request with Authorization.
    pub authorized: bool,
}

/// A Cache-Control field, parsed: directives lower-cased, with their value.
pub struct Directives(Vec<(String, Option<String>)>);

impl Directives {
    pub fn parse(value: Option<&str>) -> Directives {
        let mut out = Vec::new();
        for part in value.unwrap_or("").split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (name, arg) = match part.split_once('=') {
                Some((n, a)) => (n.trim(), Some(a.trim().trim_matches('"').to_string())),
                None => (part, None),
            };
            out.push((name.to_ascii_lowercase(), arg));
        }
        Directives(out)
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }

    /// A delta-seconds argument (RFC 9111 §1.2.2); an invalid one is absent.
    pub fn seconds(&self, name: &str) -> Option<u64> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, a)| a.as_deref())
            .and_then(|a| a.parse::<u64>().ok())
    }
}

pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// All values of a field joined by commas (RFC 9110 §5.3).
pub fn joined(fields: &[(String, String)], name: &str) -> Option<String> {
    let v: Vec<&str> = fields
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect();
    (!v.is_empty()).then(|| v.join(", "))
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn date(value: Option<&str>) -> Option<u64> {
    let t = httpdate::parse_http_date(value?.trim()).ok()?;
    t.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs())
}

/// Statuses a cache may store without explicit freshness, using a
/// heuristic (RFC 9110 §15.1: "heuristically cacheable").
const HEURISTIC: &[u16] = &[200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501];

/// Whether a response may be stored (RFC 9111 §3) by this shared cache.
/// `ignore_forbidden`, `ignore_authorization`: flaws for the suite's tests.
pub fn storable(
    method: &str,
    request_cc: &Directives,
    authorized: bool,
    status: u16,
    fields: &[(String, String)],
    ignore_forbidden: bool,
    ignore_authorization: bool,
) -> bool {
    let cc = Directives::parse(joined(fields, "cache-control").as_deref());
    // §3: "the request method is understood by the cache" — GET only here
    // (HEAD responses are not stored; HEAD is answered from a stored GET).
    if method != "GET" {
        return false;
    }
    // §3: "the response status code is final"; this cache stores 200 and
    // the heuristically cacheable statuses only.
    if !HEURISTIC.contains(&status) {
        return false;
    }
    // §3 / §5.2.1.5 / §5.2.2.5: no-store in the request or the response
    // forbids storing. §5.2.2.7: a shared cache MUST NOT store a private one.
    if !ignore_forbidden && (cc.has("no-store") || request_cc.has("no-store") || cc.has("private"))
    {
        return false;
    }
    // §3.5: a shared cache MUST NOT use a response to a request with
    // Authorization unless public, must-revalidate or s-maxage allows it.
    if authorized
        && !ignore_authorization
        && !(cc.has("public") || cc.has("must-revalidate") || cc.has("s-maxage"))
    {
        return false;
    }
    // Vary: * never matches a later request (§4.1): not worth storing.
    if joined(fields, "vary").is_some_and(|v| v.split(',').any(|t| t.trim() == "*")) {
        return false;
    }
    // §3: one of explicit freshness (max-age, s-maxage, Expires), public,
    // or a heuristically cacheable status (with a Last-Modified to base the
    // heuristic on, §4.2.2).
    cc.has("max-age")
        || cc.has("s-maxage")
        || cc.has("public")
        || field(fields, "expires").is_some()
        || field(fields, "last-modified").is_some()
}

impl Stored {
    fn cc(&self) -> Directives {
        Directives::parse(joined(&self.fields, "cache-control").as_deref())
    }

    /// The freshness lifetime (RFC 9111 §4.2.1), first match wins: a shared
    /// cache's s-maxage, max-age, Expires minus Date, else a heuristic (10%
    /// of the time since Last-Modified, at most a day, §4.2.2).
    pub fn lifetime(&self, prefer_expires: bool, ignore_s_maxage: bool) -> u64 {
        let cc = self.cc();
        if !ignore_s_maxage {
            if let Some(s) = cc.seconds("s-maxage") {
                return s;
            }
        }
        let expires = || {
            // §5.3: an invalid Expires, such as "0", is a time in the past.
            let date_value = date(field(&self.fields, "date")).unwrap_or(self.response_time);
            field(&self.fields, "expires")
                .map(|e| date(Some(e)).map_or(0, |t| t.saturating_sub(date_value)))
        };
        if prefer_expires {
            if let Some(e) = expires() {
                return e;
            }
        }
        // §5.3: with max-age present, Expires MUST be ignored.
        if let Some(m) = cc.seconds("max-age") {
            return m;
        }
        if let Some(e) = expires() {
            return e;
        }
        // §4.2.2: a cache MUST NOT use heuristics when an explicit
        // expiration time is present (handled above), and may otherwise.
        match date(field(&self.fields, "last-modified")) {
            Some(lm) => (self.response_time.saturating_sub(lm) / 10).min(86_400),
            None => 0,
        }
    }

    /// The current age (RFC 9111 §4.2.3).
    pub fn age(&self) -> u64 {
        let date_value = date(field(&self.fields, "date")).unwrap_or(self.response_time);
        let age_value = field(&self.fields, "age")
            .and_then(|a| a.trim().parse::<u64>().ok())
            .unwrap_or(0);
        let apparent_age = self.response_time.saturating_sub(date_value);
        let response_delay = self.response_time.saturating_sub(self.request_time);
        let corrected_age_value = age_value + response_delay;
        let corrected_initial_age = apparent_age.max(corrected_age_value);
        let resident_time = now().saturating_sub(self.response_time);
        corrected_initial_age + resident_time
    }

    /// §4.2: fresh when the freshness lifetime exceeds the current age.
    pub fn fresh(&self, prefer_expires: bool, ignore_s_maxage: bool) -> bool {
        self.lifetime(prefer_expires, ignore_s_maxage) > self.age()
    }

    /// Stale use is forbidden outright (§4.2.4): must-revalidate, and for a
    /// shared cache proxy-revalidate and s-maxage (§5.2.2.8, §5.2.2.10);
    /// no-cache requires validation every time (§5.2.2.4).
    pub fn must_validate_when_stale(&self) -> bool {
        let cc = self.cc();
        cc.has("must-revalidate")
            || cc.has("proxy-revalidate")
            || cc.has("s-maxage")
            || cc.has("no-cache")
    }

    /// §5.2.2.4: no-cache in the response: never reused without validation.
    pub fn no_cache(&self) -> bool {
        self.cc().has("no-cache")
    }

    /// §4.3.4: the fields of a 304 replace the stored ones of the same name
    /// (framing fields excepted: the stored content is what is sent).
    pub fn merge(&mut self, fields: &[(String, String)], request_time: u64) {
        const KEEP: &[&str] = &["content-length", "transfer-encoding", "content-encoding"];
        for (name, _) in fields {
            if KEEP.iter().any(|k| name.eq_ignore_ascii_case(k)) {
                continue;
            }
            self.fields.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        }
        for (name, value) in fields {
            if !KEEP.iter().any(|k| name.eq_ignore_ascii_case(k)) {
                self.fields.push((name.clone(), value.clone()));
            }
        }
        self.request_time = request_time;
        self.response_time = now();
    }
}

/// The Vary key of a request: its values of the fields the response names.
pub fn vary_values(
    response_fields: &[(String, String)],
    request_fields: &[(String, String)],
) -> Vec<(String, Option<String>)> {
    joined(response_fields, "vary")
        .unwrap_or_default()
        .split(',')
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .map(|name| {
            let v = joined(request_fields, &name).map(|v| normalize(&v));
            (name, v)
        })
        .collect()
}

/// §4.1: values are compared after combining and normalising whitespace.
fn normalize(v: &str) -> String {
    v.split(',')
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(",")
}

/// The stored responses, keyed by the target URI (§2: the primary cache
/// key is the request method, GET, and the target URI), each key with its
/// Vary variants. Bounded by the number of entries.
pub struct Cache {
    max: usize,
    entries: Mutex<VecDeque<(String, Stored)>>,
}

impl Cache {
    pub fn new(max: usize) -> Cache {
        Cache {
            max: max.max(1),
            entries: Mutex::new(VecDeque::new()),
        }
    }

    /// A stored response for `uri` whose Vary values match the request
    /// (§4.1: a cache MUST NOT use a stored response unless every field
    /// the response Varies on matches). `ignore_vary`: a flaw for tests.
    pub fn lookup(
        &self,
        uri: &str,
        request_fields: &[(String, String)],
        ignore_vary: bool,
    ) -> Option<Stored> {
        let entries = self.entries.lock().ok()?;
        entries
            .iter()
            .rev()
            .filter(|(k, _)| k == uri)
            .map(|(_, s)| s)
            .find(|s| ignore_vary || vary_values(&s.fields, request_fields) == s.vary)
            .cloned()
    }

    /// Stores `s` for `uri`, replacing the variant with the same Vary
    /// values, and evicting the oldest entry beyond the bound.
    pub fn store(&self, uri: &str, s: Stored) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        entries.retain(|(k, old)| !(k == uri && old.vary == s.vary));
        entries.push_back((uri.to_string(), s));
        while entries.len() > self.max {
            entries.pop_front();
        }
    }

    /// §4.4: removes every response stored for `uri`.
    pub fn invalidate(&self, uri: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|(k, _)| k != uri);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn stored(fields: &[(&str, &str)], age_secs: u64) -> Stored {
        let t = now().saturating_sub(age_secs);
        Stored {
            status: 200,
            reason: "OK".into(),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: Vec::new(),
            vary: Vec::new(),
            request_time: t,
            response_time: t,
            authorized: false,
        }
    }

    #[test]
    fn freshness_follows_the_order_of_section_4_2_1() {
        let s = stored(&[("Cache-Control", "max-age=60, s-maxage=0")], 0);
        assert!(!s.fresh(false, false));
        assert!(s.fresh(false, true));
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(600));
        let s = stored(&[("Cache-Control", "max-age=0"), ("Expires", &future)], 0);
        assert!(!s.fresh(false, false));
        assert!(s.fresh(true, false));
        let s = stored(&[("Expires", "0")], 0);
        assert!(!s.fresh(false, false));
        let s = stored(&[("Cache-Control", "max-age=10")], 20);
        assert!(!s.fresh(false, false) && s.age() >= 20);
    }

    #[test]
    fn a_304_replaces_the_fields_it_carries() {
        let mut s = stored(
            &[("ETag", "\"1\""), ("X-V", "1"), ("Content-Length", "3")],
            5,
        );
        s.merge(
            &[
                ("X-V".into(), "2".into()),
                ("Content-Length".into(), "0".into()),
            ],
            now(),
        );
        assert_eq!(field(&s.fields, "x-v"), Some("2"));
        assert_eq!(field(&s.fields, "content-length"), Some("3"));
        assert_eq!(field(&s.fields, "etag"), Some("\"1\""));
    }
}
