//! The embedded default: the bundled reference servers started in-process on
//! ephemeral loopback ports, described by a profile like any external target.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use reference_servers::mailstore::{Accounts, MailStore};
use reference_servers::Running;

use super::Profile;
use crate::fixtures::mail;
use crate::protocol::Protocol;

/// Servers started for a run; dropping it stops them.
pub struct Bundled {
    pub profile: Profile,
    _running: Vec<Running>,
    /// Temporary fixture roots (the mail store…), removed on drop.
    _dirs: Vec<tempfile::TempDir>,
}

/// Protocols that have a bundled reference server.
pub fn available() -> Vec<Protocol> {
    vec![
        Protocol::Smtp,
        Protocol::Pop3,
        Protocol::Imap,
        Protocol::Sockets,
    ]
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

/// Starts the reference servers on `bind` (a port other than 0 only makes
/// sense for a single protocol).
pub async fn start_at(protocols: &[Protocol], bind: SocketAddr) -> std::io::Result<Bundled> {
    let ip = bind.ip();
    let mut profile = Profile::new("embedded");
    let mut running = Vec::new();
    let mut dirs = Vec::new();
    // SMTP delivers into the store that POP3 (and IMAP) serve: one per run.
    let mut mail: Option<MailStore> = None;
    for p in protocols {
        match p {
            Protocol::Sockets => {
                let r = reference_servers::sockets::start(ip, bind.port()).await?;
                for (name, addr) in &r.listeners {
                    profile.set("sockets", name, &addr.to_string());
                }
                running.push(r);
            }
            Protocol::Smtp => {
                let store = mail_store(&mut mail, &mut dirs)?;
                let config = reference_servers::smtp::Config::new(HOSTNAME, DOMAIN);
                let r = reference_servers::smtp::start(ip, bind.port(), config, store).await?;
                if let Some(a) = r.addr("smtp") {
                    profile.set("smtp", "address", &a.to_string());
                }
                profile.set("smtp", "domain", DOMAIN);
                profile.set("smtp", "recipient", &format!("{}@{DOMAIN}", mail::USER));
                profile.set("smtp", "sink", &format!("sink@{DOMAIN}"));
                running.push(r);
            }
            Protocol::Pop3 => {
                let store = mail_store(&mut mail, &mut dirs)?;
                let accounts = Accounts::new().with(mail::USER, mail::PASSWORD);
                let config = reference_servers::pop3::Config::new(HOSTNAME, accounts);
                let r = reference_servers::pop3::start(ip, bind.port(), config, store).await?;
                if let Some(a) = r.addr("pop3") {
                    profile.set("pop3", "address", &a.to_string());
                }
                profile.set("pop3", "user", mail::USER);
                profile.set("pop3", "password", mail::PASSWORD);
                running.push(r);
            }
            Protocol::Imap => {
                let store = mail_store(&mut mail, &mut dirs)?;
                let accounts = Accounts::new().with(mail::USER, mail::PASSWORD);
                let config = reference_servers::imap::Config::new(accounts);
                let r = reference_servers::imap::start(ip, bind.port(), config, store).await?;
                if let Some(a) = r.addr("imap") {
                    profile.set("imap", "address", &a.to_string());
                }
                profile.set("imap", "user", mail::USER);
                profile.set("imap", "password", mail::PASSWORD);
                running.push(r);
            }
            other => {
                return Err(std::io::Error::other(format!(
                    "no bundled reference server for {other} yet"
                )));
            }
        }
    }
    Ok(Bundled {
        profile,
        _running: running,
        _dirs: dirs,
    })
}

const HOSTNAME: &str = "mail.example.test";
const DOMAIN: &str = "example.test";

/// The run's mail store, created on first use in a temp dir holding the
/// fixture Maildirs.
fn mail_store(
    mail: &mut Option<MailStore>,
    dirs: &mut Vec<tempfile::TempDir>,
) -> std::io::Result<MailStore> {
    if let Some(store) = mail {
        return Ok(store.clone());
    }
    let dir = tempfile::Builder::new().prefix("conform-mail-").tempdir()?;
    mail::write_maildirs(dir.path())?;
    let store = MailStore::open(dir.path())?;
    dirs.push(dir);
    *mail = Some(store.clone());
    Ok(store)
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
