//! The embedded default: the bundled reference servers started in-process on
//! ephemeral loopback ports, described by a profile like any external target.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use reference_servers::Running;

use super::Profile;
use crate::protocol::Protocol;

/// Servers started for a run; dropping it stops them.
pub struct Bundled {
    pub profile: Profile,
    _running: Vec<Running>,
    /// Fixture content written for the servers (the HTTP web root…).
    _fixtures: Option<tempfile::TempDir>,
}

/// The idle timeout of the bundled HTTP server, announced in its profile.
const HTTP_IDLE: std::time::Duration = std::time::Duration::from_secs(3);

/// Protocols that have a bundled reference server.
pub fn available() -> Vec<Protocol> {
    vec![Protocol::Http, Protocol::Sockets]
}

/// Starts the reference servers for `protocols` on `ip`, on ephemeral ports.
pub async fn start(protocols: &[Protocol], ip: IpAddr) -> std::io::Result<Bundled> {
    start_at(protocols, SocketAddr::new(ip, 0)).await
}

/// Starts the reference servers on `bind` (a port other than 0 only makes
/// sense for a single protocol).
pub async fn start_at(protocols: &[Protocol], bind: SocketAddr) -> std::io::Result<Bundled> {
    let ip = bind.ip();
    let mut profile = Profile::new("embedded");
    let mut running = Vec::new();
    let mut fixtures: Option<tempfile::TempDir> = None;
    for p in protocols {
        match p {
            Protocol::Sockets => {
                let r = reference_servers::sockets::start(ip, bind.port()).await?;
                for (name, addr) in &r.listeners {
                    profile.set("sockets", name, &addr.to_string());
                }
                running.push(r);
            }
            Protocol::Http => {
                let dir = fixtures_dir(&mut fixtures)?;
                let root = dir.join("www");
                crate::fixtures::http::write_www(&root)?;
                let mut config = reference_servers::http::Config::new(root);
                config.idle_timeout = HTTP_IDLE;
                let r = reference_servers::http::start(ip, bind.port(), config).await?;
                if let Some(addr) = r.addr("http") {
                    profile.set("http", "address", &addr.to_string());
                    profile.set(
                        "http",
                        "idle_timeout",
                        &humantime::format_duration(HTTP_IDLE).to_string(),
                    );
                }
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
        _fixtures: fixtures,
    })
}

/// The run's temporary fixture folder, created on first use.
fn fixtures_dir(slot: &mut Option<tempfile::TempDir>) -> std::io::Result<std::path::PathBuf> {
    if slot.is_none() {
        *slot = Some(
            tempfile::Builder::new()
                .prefix("conform-fixtures")
                .tempdir()?,
        );
    }
    match slot {
        Some(d) => Ok(d.path().to_path_buf()),
        None => Err(std::io::Error::other("no fixture folder")),
    }
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
