//! The target profile (TOML): one section per protocol under test, read by the
//! scenarios as `${section.key}`.

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;

use crate::protocol::Protocol;

#[derive(Debug)]
pub struct ProfileError(pub String);

impl std::fmt::Display for ProfileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProfileError {}

#[derive(Clone, Debug, Default)]
pub struct Profile {
    /// Where it came from: a file path, or `embedded` for the bundled servers.
    pub source: String,
    sections: BTreeMap<String, BTreeMap<String, String>>,
}

impl Profile {
    pub fn new(source: &str) -> Self {
        Self {
            source: source.into(),
            sections: BTreeMap::new(),
        }
    }

    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ProfileError(format!(
                "cannot read target profile {}: {e}",
                path.display()
            ))
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, source: &str) -> Result<Profile, ProfileError> {
        let table: toml::Table = text
            .parse()
            .map_err(|e| ProfileError(format!("target profile {source} is not valid TOML: {e}")))?;
        let mut profile = Profile::new(source);
        for (name, value) in table {
            if Protocol::parse(&name).is_none() {
                return Err(ProfileError(format!(
                    "target profile {source}: unknown section [{name}] (known: {})",
                    Protocol::ALL.map(|p| p.name()).join(", ")
                )));
            }
            let toml::Value::Table(t) = value else {
                return Err(ProfileError(format!(
                    "target profile {source}: `{name}` must be a [section]"
                )));
            };
            profile.sections.entry(name.clone()).or_default();
            for (key, v) in t {
                let v = match v {
                    toml::Value::String(s) => s,
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Boolean(b) => b.to_string(),
                    // A list of words (`lacks = ["wildcard", "ptr"]`).
                    toml::Value::Array(items)
                        if items.iter().all(|i| matches!(i, toml::Value::String(_))) =>
                    {
                        items
                            .iter()
                            .filter_map(|i| i.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                    other => {
                        return Err(ProfileError(format!(
                            "target profile {source}: [{name}] {key} must be a string or number, not {}",
                            other.type_str()
                        )))
                    }
                };
                profile.set(&name, &key, &v);
            }
        }
        // Scenarios deliver test mail to `sink`; without one, to `recipient`.
        if let (Some(r), None) = (profile.get("smtp.recipient"), profile.get("smtp.sink")) {
            let r = r.to_string();
            profile.set("smtp", "sink", &r);
        }
        // A redirect resource points at /somedir/page.html unless it says.
        if profile.get("http.redirect").is_some() && profile.get("http.redirect_to").is_none() {
            profile.set("http", "redirect_to", crate::fixtures::http::REDIRECT_TO);
        }
        profile.validate()?;
        Ok(profile)
    }

    pub fn set(&mut self, section: &str, key: &str, value: &str) {
        self.sections
            .entry(section.into())
            .or_default()
            .insert(key.into(), value.into());
    }

    /// Checks that every section present has its required keys and that
    /// addresses parse.
    pub fn validate(&self) -> Result<(), ProfileError> {
        for p in self.protocols() {
            let section = &self.sections[p.name()];
            for key in p.required_keys() {
                if !section.contains_key(*key) {
                    return Err(ProfileError(format!(
                        "target profile {}: [{p}] needs `{key}`",
                        self.source
                    )));
                }
            }
            // A reverse proxy forwards to one origin: the harness must know
            // where, to listen there.
            if p == Protocol::Proxy
                && section.get("mode").map(String::as_str) == Some("reverse")
                && !section.contains_key("origin")
            {
                return Err(ProfileError(format!(
                    "target profile {}: [proxy] mode = \"reverse\" needs `origin` (the address the proxy forwards to, where conform's origin peer listens)",
                    self.source
                )));
            }
            let parts = p.optional_parts();
            if !parts.is_empty() && !parts.iter().any(|k| section.contains_key(*k)) {
                return Err(ProfileError(format!(
                    "target profile {}: [{p}] needs at least one of {}",
                    self.source,
                    parts.join(", ")
                )));
            }
            for (key, value) in section {
                p.check_value(key, value)
                    .and_then(|()| match p.is_client() {
                        // `tls`, `ca_file`, `tls_insecure`, `tls_name`.
                        false => crate::wire::tls::check_value(key, value).unwrap_or(Ok(())),
                        true => Ok(()),
                    })
                    .map_err(|e| {
                        ProfileError(format!("target profile {}: [{p}] {key}: {e}", self.source))
                    })?;
            }
            if p.is_client() {
                continue;
            }
            crate::wire::tls::check_section(self, p.name())
                .map_err(|e| ProfileError(format!("target profile {}: [{p}] {e}", self.source)))?;
            for key in p.tcp_address_keys().iter().chain(parts) {
                if section.contains_key(*key) {
                    self.addr(&format!("{p}.{key}"))?;
                }
            }
        }
        Ok(())
    }

    /// The protocols this profile puts under test.
    pub fn protocols(&self) -> Vec<Protocol> {
        Protocol::ALL
            .into_iter()
            .filter(|p| self.sections.contains_key(p.name()))
            .collect()
    }

    pub fn has(&self, protocol: Protocol) -> bool {
        self.sections.contains_key(protocol.name())
    }

    /// `get("smtp.recipient")`.
    pub fn get(&self, path: &str) -> Option<&str> {
        let (section, key) = path.split_once('.')?;
        self.sections.get(section)?.get(key).map(String::as_str)
    }

    /// Resolves `section.key` to a socket address (`host:port`).
    pub fn addr(&self, path: &str) -> Result<SocketAddr, ProfileError> {
        let value = self.get(path).ok_or_else(|| {
            ProfileError(format!("target profile {} has no `{path}`", self.source))
        })?;
        resolve(value).map_err(|e| {
            ProfileError(format!(
                "target profile {}: `{path}` = \"{value}\": {e}",
                self.source
            ))
        })
    }

    /// Replaces every `${section.key}` in `text` with its value.
    pub fn expand(&self, text: &str) -> Result<String, ProfileError> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| ProfileError(format!("unterminated ${{…}} in \"{text}\"")))?;
            let name = &after[..end];
            let value = self.get(name).ok_or_else(|| {
                ProfileError(format!(
                    "the step uses ${{{name}}} but target profile {} does not set it",
                    self.source
                ))
            })?;
            out.push_str(value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The profile as TOML, sections in protocol order.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        for (name, keys) in &self.sections {
            out.push_str(&format!("[{name}]\n"));
            for (k, v) in keys {
                out.push_str(&format!("{k} = {}\n", toml::Value::String(v.clone())));
            }
            out.push('\n');
        }
        out
    }

    pub fn sections(&self) -> &BTreeMap<String, BTreeMap<String, String>> {
        &self.sections
    }
}

/// `127.0.0.1:2525`, `[::1]:53` or `localhost:8080`.
pub fn resolve(value: &str) -> Result<SocketAddr, String> {
    if let Ok(a) = value.parse::<SocketAddr>() {
        return Ok(a);
    }
    value
        .to_socket_addrs()
        .map_err(|e| format!("not an address (host:port): {e}"))?
        .next()
        .ok_or_else(|| "the name resolves to no address".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_expands() {
        let p = Profile::parse("[sockets]\ntcp = \"127.0.0.1:12000\"\n[smtp]\naddress=\"127.0.0.1:25\"\ndomain=\"x.test\"\nrecipient=\"bob@x.test\"\n", "t").unwrap();
        assert_eq!(p.protocols(), vec![Protocol::Smtp, Protocol::Sockets]);
        assert_eq!(
            p.expand("RCPT TO:<${smtp.recipient}>").unwrap(),
            "RCPT TO:<bob@x.test>"
        );
        assert!(p.expand("${smtp.nope}").is_err());
        assert!(p.expand("${smtp.recipient").is_err());
    }

    #[test]
    fn rejects_broken_profiles() {
        assert!(Profile::parse("[smtpp]\naddress=\"1\"", "t").is_err());
        assert!(Profile::parse("[smtp]\naddress=\"127.0.0.1:25\"", "t").is_err());
        assert!(Profile::parse("[sockets]\n", "t").is_err());
        assert!(Profile::parse("[sockets]\ntcp=\"nonsense\"", "t").is_err());
        assert!(Profile::parse("not toml [", "t").is_err());
        let ftp = "[ftp]\naddress=\"127.0.0.1:21\"\nuser=\"u\"\npassword=\"p\"\n";
        assert!(Profile::parse(&format!("{ftp}confined = true"), "t").is_ok());
        assert!(Profile::parse(&format!("{ftp}confined = \"yes\""), "t").is_err());
        let imap = "[imap]\naddress=\"127.0.0.1:1\"\nuser=\"u\"\npassword=\"p\"\n";
        assert!(Profile::parse(&format!("{imap}delimiter=\"..\""), "t").is_err());
        assert!(Profile::parse(&format!("{imap}delimiter=\".\""), "t").is_ok());
        let dns = "[dns]\naddress=\"127.0.0.1:53\"\nzone=\"example.test\"\n";
        for bad in [
            "recursion = \"yes\"",
            "recursion = 1",
            "lacks = \"wildcards\"",
        ] {
            let e = Profile::parse(&format!("{dns}{bad}\n"), "t").unwrap_err();
            assert!(e.0.contains("[dns] "), "{e}");
        }
        let p = Profile::parse(
            &format!("{dns}recursion = true\nlacks = [\"wildcard\", \"PTR\"]\n"),
            "t",
        )
        .unwrap();
        assert_eq!(p.get("dns.recursion"), Some("true"));
        assert_eq!(
            crate::protocol::dns_lacks(p.get("dns.lacks").unwrap()).unwrap(),
            vec!["wildcard", "ptr"]
        );
        assert!(Profile::parse("[http]\naddress=\"127.0.0.1:80\"\necho=\"echo\"", "t").is_err());
        let p = Profile::parse("[http]\naddress=\"127.0.0.1:80\"\nredirect=\"/r\"", "t").unwrap();
        assert_eq!(p.get("http.redirect_to"), Some("/somedir/page.html"));
    }

    #[test]
    fn round_trips_through_toml() {
        let mut p = Profile::new("x");
        p.set("sockets", "tcp", "127.0.0.1:1");
        let q = Profile::parse(&p.to_toml(), "y").unwrap();
        assert_eq!(q.get("sockets.tcp"), Some("127.0.0.1:1"));
    }
}
