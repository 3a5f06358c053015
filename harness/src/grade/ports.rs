//! Ports: a free one for each start of a submission, and the ports a
//! submission's processes actually opened (read from /proc), so that "never
//! opened its port" and "opened port 12000 instead of the one it was given"
//! can be told apart.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Transport {
    Tcp,
    Udp,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Tcp => "TCP",
            Transport::Udp => "UDP",
        })
    }
}

/// A loopback port that is free for both TCP and UDP right now, for a
/// submission to bind. It is drawn below the kernel's ephemeral range
/// (`ip_local_port_range`): a port from that range, found by binding port
/// 0 and released, can be handed to any other process's outgoing
/// connection or `bind(0)` before the submission binds it (EADDRINUSE, a
/// failure that would not be the student's). Below the range only a
/// program naming the port takes it.
pub fn free_port() -> std::io::Result<u16> {
    use std::hash::BuildHasher;
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    // Above the course's customary 12000 (a program that ignores {port}
    // and binds 12000 must never be given 12000 by chance).
    const LOW: u16 = 12_100;
    // Never the same port twice in a run, and none a socket holds in any
    // state (a listening program's closed connections linger in TIME_WAIT
    // and would refuse a bind without SO_REUSEADDR).
    static GIVEN: std::sync::Mutex<BTreeSet<u16>> = std::sync::Mutex::new(BTreeSet::new());
    if ephemeral_low > LOW + 1000 {
        let random = std::collections::hash_map::RandomState::new();
        let held = ports_in_use();
        for i in 0..200u32 {
            let port = LOW + (random.hash_one(i) % u64::from(ephemeral_low - LOW)) as u16;
            if held.contains(&port) || !free_for_both(port) {
                continue;
            }
            if let Ok(mut given) = GIVEN.lock() {
                if !given.insert(port) {
                    continue;
                }
            }
            return Ok(port);
        }
    }
    let mut last = None;
    for _ in 0..50 {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = tcp.local_addr()?.port();
        match std::net::UdpSocket::bind(("127.0.0.1", port)) {
            Ok(_) => return Ok(port),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free port")))
}

/// The local ports of every TCP and UDP socket, in any state, in the
/// calling thread's network namespace (a grading runs in a namespace of its
/// own, and /proc/net is the main thread's).
fn ports_in_use() -> BTreeSet<u16> {
    let mut ports = BTreeSet::new();
    for file in ["tcp", "tcp6", "udp", "udp6"] {
        let Ok(text) = std::fs::read_to_string(format!("/proc/thread-self/net/{file}"))
            .or_else(|_| std::fs::read_to_string(format!("/proc/net/{file}")))
        else {
            continue;
        };
        for line in text.lines().skip(1) {
            let port = line
                .split_whitespace()
                .nth(1)
                .and_then(|local| local.rsplit(':').next())
                .and_then(|hex| u16::from_str_radix(hex, 16).ok());
            ports.extend(port);
        }
    }
    ports
}

fn free_for_both(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
        && std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok()
}

/// The TCP ports listened on and UDP ports bound by these processes, or
/// `None` where /proc does not tell (not Linux).
pub fn opened_by(pids: &[i32]) -> Option<BTreeSet<(Transport, u16)>> {
    let mut table: HashMap<u64, (Transport, u16)> = HashMap::new();
    let mut any = false;
    // The sockets of the processes' own network namespace (a graded
    // submission has one of its own).
    let net = pids
        .iter()
        .map(|p| format!("/proc/{p}/net"))
        .find(|d| std::path::Path::new(&format!("{d}/tcp")).exists())
        .unwrap_or_else(|| "/proc/thread-self/net".into());
    for (file, transport) in [
        ("tcp", Transport::Tcp),
        ("tcp6", Transport::Tcp),
        ("udp", Transport::Udp),
        ("udp6", Transport::Udp),
    ] {
        let Ok(text) = std::fs::read_to_string(format!("{net}/{file}")) else {
            continue;
        };
        any = true;
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 {
                continue;
            }
            // TCP: only listening sockets (state 0A).
            if transport == Transport::Tcp && f[3] != "0A" {
                continue;
            }
            let Some(port) = f[1]
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
            else {
                continue;
            };
            if let Ok(inode) = f[9].parse::<u64>() {
                table.insert(inode, (transport, port));
            }
        }
    }
    if !any {
        return None;
    }
    let mut out = BTreeSet::new();
    for pid in pids {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            let Ok(link) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let link = link.to_string_lossy();
            let Some(inode) = link
                .strip_prefix("socket:[")
                .and_then(|s| s.strip_suffix(']'))
                .and_then(|s| s.parse::<u64>().ok())
            else {
                continue;
            };
            if let Some(found) = table.get(&inode) {
                out.insert(*found);
            }
        }
    }
    Some(out)
}

/// `TCP 12000, UDP 12000`.
pub fn describe(set: &BTreeSet<(Transport, u16)>) -> String {
    set.iter()
        .map(|(t, p)| format!("{t} {p}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_its_own_sockets() {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let me = [std::process::id() as i32];
        let Some(seen) = opened_by(&me) else { return };
        assert!(seen.contains(&(Transport::Tcp, tcp.local_addr().unwrap().port())));
        assert!(seen.contains(&(Transport::Udp, udp.local_addr().unwrap().port())));
    }

    #[test]
    fn free_ports_are_free() {
        let p = free_port().unwrap();
        std::net::TcpListener::bind(("127.0.0.1", p)).unwrap();
    }
}
