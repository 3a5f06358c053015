//! The embedded default: the bundled reference servers started in-process on
//! ephemeral loopback ports, described by a profile like any external target.
//!
//! Each protocol has its own start-up function below; they share one
//! temporary fixture folder per run (web root, mail store, …), removed when
//! the [`Bundled`] handle is dropped.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use reference_servers::mailstore::{Accounts, MailStore};
use reference_servers::Running;

use super::Profile;
use crate::fixtures::mail;
use crate::protocol::Protocol;

/// Servers started for a run; dropping it stops them and removes their
/// fixture folder.
pub struct Bundled {
    pub profile: Profile,
    _running: Vec<Running>,
    _fixtures: Option<tempfile::TempDir>,
}

/// Protocols that have a bundled reference server.
pub fn available() -> Vec<Protocol> {
    // Every protocol has one.
    Protocol::ALL.to_vec()
}

/// Starts the reference servers for `protocols` on `ip`, on ephemeral ports.
pub async fn start(protocols: &[Protocol], ip: IpAddr) -> std::io::Result<Bundled> {
    // IMAP's end-to-end scenario (`@needs-smtp`) delivers by SMTP into the
    // store IMAP serves: a run of IMAP alone gets SMTP alongside, on the
    // same store. Its own suite still runs only when asked for.
    let mut protocols = protocols.to_vec();
    if protocols.contains(&Protocol::Imap) && !protocols.contains(&Protocol::Smtp) {
        protocols.insert(0, Protocol::Smtp);
    }
    start_at(&protocols, SocketAddr::new(ip, 0)).await
}

/// What the start-up functions share while a run is being set up.
struct Setup {
    bind: SocketAddr,
    profile: Profile,
    running: Vec<Running>,
    fixtures: Option<tempfile::TempDir>,
    /// SMTP delivers into the store that POP3 (and IMAP) serve: one per run.
    mail: Option<MailStore>,
    /// The run's fixture certificates (`tls/` in the fixture folder).
    tls: Option<crate::fixtures::tls::Identity>,
}

impl Setup {
    /// The run's temporary fixture folder, created on first use.
    fn fixtures(&mut self) -> std::io::Result<PathBuf> {
        if self.fixtures.is_none() {
            self.fixtures = Some(
                tempfile::Builder::new()
                    .prefix("conform-fixtures-")
                    .tempdir()?,
            );
        }
        match &self.fixtures {
            Some(d) => Ok(d.path().to_path_buf()),
            None => Err(std::io::Error::other("no fixture folder")),
        }
    }

    /// The run's mail store, holding the fixture Maildirs.
    fn mail_store(&mut self) -> std::io::Result<MailStore> {
        if let Some(store) = &self.mail {
            return Ok(store.clone());
        }
        let dir = self.fixtures()?.join("maildir");
        mail::write_maildirs(&dir)?;
        let store = MailStore::open(&dir)?;
        self.mail = Some(store.clone());
        Ok(store)
    }

    /// The servers' TLS identity (a fresh CA and certificate per run), and
    /// the CA file a profile trusts, written on first use.
    fn tls(&mut self) -> std::io::Result<(reference_servers::tls::Identity, String)> {
        let dir = self.fixtures()?.join("tls");
        let id = match &self.tls {
            Some(id) => id.clone(),
            None => {
                let id = crate::fixtures::tls::write(&dir).map_err(std::io::Error::other)?;
                self.tls = Some(id.clone());
                id
            }
        };
        let identity = reference_servers::tls::Identity::from_pem(&id.chain_pem, &id.key_pem, &[])
            .map_err(std::io::Error::other)?;
        let ca = dir.join(crate::fixtures::tls::CA_FILE);
        Ok((identity, ca.to_string_lossy().into_owned()))
    }

    /// Records a started server and its address under `[section] key`.
    fn add(&mut self, section: &str, key: &str, listener: &str, r: Running) {
        if let Some(a) = r.addr(listener) {
            self.profile.set(section, key, &a.to_string());
        }
        self.running.push(r);
    }
}

/// Starts the reference servers on `bind` (a port other than 0 only makes
/// sense for a single protocol).
pub async fn start_at(protocols: &[Protocol], bind: SocketAddr) -> std::io::Result<Bundled> {
    let mut setup = Setup {
        bind,
        profile: Profile::new("embedded"),
        running: Vec::new(),
        fixtures: None,
        mail: None,
        tls: None,
    };
    for p in protocols {
        match p {
            Protocol::Sockets => start_sockets(&mut setup).await?,
            Protocol::Http => start_http(&mut setup).await?,
            Protocol::Smtp => start_smtp(&mut setup).await?,
            Protocol::Pop3 => start_pop3(&mut setup).await?,
            Protocol::Imap => start_imap(&mut setup).await?,
            Protocol::Dns => start_dns(&mut setup).await?,
            Protocol::Resolver => start_resolver(&mut setup).await?,
            Protocol::Ftp => start_ftp(&mut setup).await?,
            Protocol::Proxy => start_proxy(&mut setup).await?,
            p if p.is_client() => bundled_clients(&mut setup, *p)?,
            _ => {}
        }
    }
    // The bundled servers take what the run gives them: budgets never slow
    // the bundled suite down.
    for p in protocols {
        setup.profile.set(
            p.name(),
            super::budget::KEY,
            &super::budget::BUNDLED_MAX_CONNECTIONS.to_string(),
        );
    }
    Ok(Bundled {
        profile: setup.profile,
        _running: setup.running,
        _fixtures: setup.fixtures,
    })
}

/// The bundled reference clients (`fixtures/clients/`): the course's
/// textbook clients and a mail client on Python's smtplib, run by python3.
/// Without python3 on the PATH the section is left out, so the bundled run
/// does not select the client suites (asking for one names the reason).
fn bundled_clients(s: &mut Setup, p: Protocol) -> std::io::Result<()> {
    if !crate::fixtures::clients::python3_available() {
        return Ok(());
    }
    let dir = s.fixtures()?.join("clients");
    crate::fixtures::clients::write(&dir)?;
    let dir = dir.display().to_string();
    for (key, command) in crate::fixtures::clients::commands(p) {
        s.profile.set(p.name(), key, command);
    }
    s.profile.set(p.name(), "dir", &dir);
    Ok(())
}

async fn start_sockets(s: &mut Setup) -> std::io::Result<()> {
    let r = reference_servers::sockets::start(s.bind.ip(), s.bind.port()).await?;
    for (name, addr) in &r.listeners {
        s.profile.set("sockets", name, &addr.to_string());
    }
    s.running.push(r);
    Ok(())
}

/// The idle timeout of the bundled HTTP server, announced in its profile.
const HTTP_IDLE: std::time::Duration = std::time::Duration::from_secs(3);

async fn start_http(s: &mut Setup) -> std::io::Result<()> {
    let root = s.fixtures()?.join("www");
    crate::fixtures::http::write_www(&root)?;
    let mut config = reference_servers::http::Config::new(root);
    config.idle_timeout = HTTP_IDLE;
    let r = reference_servers::http::start(s.bind.ip(), s.bind.port(), config).await?;
    s.profile.set(
        "http",
        "idle_timeout",
        &humantime::format_duration(HTTP_IDLE).to_string(),
    );
    // Its application resources (reference_servers::http), by profile key.
    for (key, path) in [
        ("echo", "/echo"),
        ("redirect", "/redirect"),
        ("cookie_set", "/cookie/set"),
        ("cookie_show", "/cookie/show"),
    ] {
        s.profile.set("http", key, path);
    }
    s.profile
        .set("http", "redirect_to", crate::fixtures::http::REDIRECT_TO);
    s.add("http", "address", "http", r);
    Ok(())
}

const HOSTNAME: &str = "mail.example.test";
/// The bundled SMTP server's idle timeout: short, so the idle-session
/// scenario runs in seconds (RFC 5321 §4.5.3.2 suggests 5 minutes for real
/// servers); no other scenario leaves a session silent nearly this long.
const SMTP_IDLE: std::time::Duration = std::time::Duration::from_secs(3);
const DOMAIN: &str = "example.test";

async fn start_smtp(s: &mut Setup) -> std::io::Result<()> {
    let store = s.mail_store()?;
    let mut config = reference_servers::smtp::Config::new(HOSTNAME, DOMAIN);
    config.idle_timeout = SMTP_IDLE;
    // STARTTLS with the run's fixture certificate, and AUTH only in TLS.
    let (identity, ca_file) = s.tls()?;
    config.tls = Some(identity);
    config.accounts = Some(Accounts::new().with(mail::USER, mail::PASSWORD));
    config.auth_requires_tls = true;
    let r = reference_servers::smtp::start(s.bind.ip(), s.bind.port(), config, store).await?;
    s.profile.set("smtp", "tls", "starttls");
    s.profile.set("smtp", "ca_file", &ca_file);
    s.profile.set("smtp", "user", mail::USER);
    s.profile.set("smtp", "password", mail::PASSWORD);
    s.profile.set("smtp", "auth_requires_tls", "true");
    s.profile.set("smtp", "domain", DOMAIN);
    s.profile.set(
        "smtp",
        "idle_timeout",
        &humantime::format_duration(SMTP_IDLE).to_string(),
    );
    s.profile
        .set("smtp", "recipient", &format!("{}@{DOMAIN}", mail::USER));
    s.profile.set("smtp", "sink", &format!("sink@{DOMAIN}"));
    // Where the reference server stores the sink's mail (the shared store).
    let sink = s.fixtures()?.join("maildir").join("sink").join("Maildir");
    s.profile
        .set("smtp", "sink_maildir", &sink.to_string_lossy());
    s.profile.set(
        "smtp",
        "unknown_recipient",
        &format!("no-such-user-7f3a@{DOMAIN}"),
    );
    s.add("smtp", "address", "smtp", r);
    Ok(())
}

async fn start_pop3(s: &mut Setup) -> std::io::Result<()> {
    let store = s.mail_store()?;
    let accounts = Accounts::new().with(mail::USER, mail::PASSWORD);
    let mut config = reference_servers::pop3::Config::new(HOSTNAME, accounts);
    // STLS with the run's fixture certificate: every session upgrades
    // before USER and PASS.
    let (identity, ca_file) = s.tls()?;
    config.tls = Some(identity);
    let r = reference_servers::pop3::start(s.bind.ip(), s.bind.port(), config, store).await?;
    s.profile.set("pop3", "tls", "starttls");
    s.profile.set("pop3", "ca_file", &ca_file);
    s.profile.set("pop3", "user", mail::USER);
    s.profile.set("pop3", "password", mail::PASSWORD);
    // The user's Maildir in the shared store, where scenarios place mail.
    let maildrop = s
        .fixtures()?
        .join("maildir")
        .join(mail::USER)
        .join("Maildir");
    s.profile
        .set("pop3", "maildir", &maildrop.to_string_lossy());
    s.add("pop3", "address", "pop3", r);
    Ok(())
}

async fn start_imap(s: &mut Setup) -> std::io::Result<()> {
    let store = s.mail_store()?;
    let accounts = Accounts::new()
        .with(mail::USER, mail::PASSWORD)
        .with(mail::SPARE_USER, mail::SPARE_PASSWORD);
    let mut config = reference_servers::imap::Config::new(accounts);
    // NAMESPACE (RFC 2342) with mailboxes at top level: `* NAMESPACE (("" "."))`.
    config.namespace = Some(String::new());
    // STARTTLS with the run's fixture certificate: every session upgrades
    // before LOGIN, as a client whose policy is TLS does. Before TLS the
    // server announces LOGINDISABLED and refuses LOGIN (RFC 9051 §6.2.3),
    // so a plaintext login anywhere in a run would show.
    let (identity, ca_file) = s.tls()?;
    config.tls = Some(identity);
    config.login_requires_tls = true;
    let r = reference_servers::imap::start(s.bind.ip(), s.bind.port(), config, store).await?;
    s.profile.set("imap", "tls", "starttls");
    s.profile.set("imap", "ca_file", &ca_file);
    s.profile.set("imap", "user", mail::USER);
    s.profile.set("imap", "password", mail::PASSWORD);
    s.profile.set("imap", "spare_user", mail::SPARE_USER);
    s.profile
        .set("imap", "spare_password", mail::SPARE_PASSWORD);
    s.add("imap", "address", "imap", r);
    Ok(())
}

async fn start_dns(s: &mut Setup) -> std::io::Result<()> {
    // The reference server loads the fixture zone from files, as nsd would.
    let zones = crate::fixtures::dns::write(&s.fixtures()?).map_err(std::io::Error::other)?;
    let r = reference_servers::dns::start(s.bind.ip(), s.bind.port(), &zones).await?;
    s.profile.set("dns", "zone", crate::fixtures::dns::ZONE);
    s.add("dns", "address", "address", r);
    Ok(())
}

/// The reference resolver, its root hints naming the harness's DNS
/// hierarchy (`crate::peer::dns`) on a free port, which the profile passes
/// on to the scenarios as `[resolver] hierarchy_port`.
async fn start_resolver(s: &mut Setup) -> std::io::Result<()> {
    let port = crate::peer::dns::free_port().await?;
    let config = reference_servers::dns::resolver::Config {
        roots: vec![SocketAddr::from((crate::peer::dns::ROOT, port))],
        open: false,
        faults: Default::default(),
    };
    let r = reference_servers::dns::resolver::start(s.bind.ip(), s.bind.port(), config).await?;
    s.profile
        .set("resolver", "hierarchy_port", &port.to_string());
    s.add("resolver", "address", "address", r);
    Ok(())
}

const FTP_USER: &str = "bob";
const FTP_PASSWORD: &str = "hungry";

async fn start_ftp(s: &mut Setup) -> std::io::Result<()> {
    // The user's home is a fresh copy of the fixture tree.
    let home = s.fixtures()?.join("ftp");
    crate::fixtures::ftp::write(&home).map_err(std::io::Error::other)?;
    let mut config = reference_servers::ftp::Config::new(home, FTP_USER, FTP_PASSWORD);
    // AUTH TLS with the run's fixture certificate (RFC 4217): every session
    // upgrades before USER and protects its data connections with PROT P.
    let (identity, ca_file) = s.tls()?;
    config.tls = Some(identity);
    let r = reference_servers::ftp::start(s.bind.ip(), s.bind.port(), config).await?;
    s.profile.set("ftp", "tls", "starttls");
    s.profile.set("ftp", "ca_file", &ca_file);
    s.profile.set("ftp", "user", FTP_USER);
    s.profile.set("ftp", "password", FTP_PASSWORD);
    // The reference server resolves every path inside the home.
    s.profile.set("ftp", "confined", "true");
    s.add("ftp", "address", "control", r);
    Ok(())
}

/// How long the bundled proxy gives an origin, announced in its profile.
const PROXY_ORIGIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// The reference caching proxy, as a forward proxy (the origin peers of
/// the scenarios listen on ephemeral ports, which it allows).
async fn start_proxy(s: &mut Setup) -> std::io::Result<()> {
    use reference_servers::proxy::{Config, Mode};
    let mut config = Config::new(Mode::Forward);
    config.origin_timeout = PROXY_ORIGIN_TIMEOUT;
    let r = reference_servers::proxy::start(s.bind.ip(), s.bind.port(), config).await?;
    s.profile.set("proxy", "mode", "forward");
    s.profile.set(
        "proxy",
        "origin_timeout",
        &humantime::format_duration(PROXY_ORIGIN_TIMEOUT).to_string(),
    );
    s.add("proxy", "address", "proxy", r);
    Ok(())
}

pub fn loopback() -> IpAddr {
    IpAddr::V4(Ipv4Addr::LOCALHOST)
}

/// `PROTOCOL ADDRESS` lines for `conform serve`.
pub fn describe(profile: &Profile) -> Vec<String> {
    let mut lines = Vec::new();
    for (section, keys) in profile.sections() {
        if let Some(a) = keys.get("address") {
            lines.push(format!("{section} {a}"));
        }
        // The course servers share one port number for TCP and UDP.
        match (keys.get("tcp"), keys.get("udp")) {
            (Some(t), Some(u)) if t == u => lines.push(format!("{section} {t}")),
            (t, u) => {
                lines.extend(t.map(|t| format!("{section} tcp {t}")));
                lines.extend(u.map(|u| format!("{section} udp {u}")));
            }
        }
    }
    lines
}
