//! An authoritative-only DNS server (RFC 1034, RFC 1035) over UDP and TCP,
//! answering from zones in master-file format.
//!
//! - `name`: domain names; `record`: resource records; `zone`: master files;
//! - `codec`: the message format, compression and truncation;
//! - `lookup`: the authoritative lookup (answers, referrals, NXDOMAIN/NODATA);
//! - `server`: the UDP and TCP listeners, EDNS(0) and error responses;
//! - `resolver`: a separate, recursive resolver with a cache (RFC 1034
//!   §5.3.3), started on its own by [`resolver::start`].
//!
//! The authoritative server never recurses (RA is always clear) and refuses
//! names outside its zones.

pub mod codec;
pub mod lookup;
pub mod name;
pub mod record;
pub mod resolver;
pub mod server;
pub mod zone;

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use crate::Running;

/// Loads every `ORIGIN.zone` file of `dir` (`example.test.zone` holds the
/// zone `example.test.`).
pub fn load_zones(dir: &Path) -> std::io::Result<Vec<zone::Zone>> {
    let bad = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidData, m);
    let mut zones = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let Some(origin) = path
            .file_name()
            .and_then(|f| f.to_str())
            .and_then(|f| f.strip_suffix(".zone"))
        else {
            continue;
        };
        let origin = name::Name::parse(
            &format!("{}.", origin.trim_end_matches('.')),
            &name::Name::root(),
        )
        .ok_or_else(|| {
            bad(format!(
                "{}: the file name is not a zone name",
                path.display()
            ))
        })?;
        if std::fs::metadata(&path)?.len() > zone::MAX_FILE as u64 {
            return Err(bad(format!(
                "{}: larger than {} bytes",
                path.display(),
                zone::MAX_FILE
            )));
        }
        let text = std::fs::read_to_string(&path)?;
        zones.push(
            zone::Zone::parse(&text, &origin)
                .map_err(|e| bad(format!("{}: {e}", path.display())))?,
        );
    }
    if zones.is_empty() {
        return Err(bad(format!("no *.zone file in {}", dir.display())));
    }
    Ok(zones)
}

/// Starts the server on `ip`:`port` (UDP and TCP on the same port; with
/// `port == 0` an ephemeral TCP port is chosen and UDP takes the same number
/// when it is free), serving the zones of `zone_dir`.
pub async fn start(ip: IpAddr, port: u16, zone_dir: &Path) -> std::io::Result<Running> {
    let zones = Arc::new(load_zones(zone_dir)?);
    let mut last_err = None;
    // The UDP port may be taken when TCP's ephemeral number is chosen; retry.
    for _ in 0..20 {
        let listener = crate::listener::bind(SocketAddr::new(ip, port))?;
        let addr = listener.local_addr()?;
        match tokio::net::UdpSocket::bind(addr).await {
            Ok(socket) => {
                let mut running = Running::new();
                running.add(
                    "address",
                    addr,
                    tokio::spawn(server::serve_udp(socket, zones.clone())),
                );
                running.add(
                    "tcp",
                    addr,
                    tokio::spawn(server::serve_tcp(listener, zones)),
                );
                return Ok(running);
            }
            Err(e) if port == 0 => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| std::io::Error::other("no free port for UDP and TCP")))
}
