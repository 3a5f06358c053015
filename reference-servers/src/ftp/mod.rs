//! A small, strict FTP server (RFC 959) with the extensions real clients use:
//! EPSV/EPRT (RFC 2428), FEAT/OPTS (RFC 2389), SIZE/MDTM/MLSD/MLST/REST
//! (RFC 3659), the security advice of RFC 2577 (no PORT bounce, a bound
//! on failed logins, no way out of the user's root), and TLS (RFC 4217:
//! AUTH TLS on the control connection, PBSZ and PROT for the data
//! connections, after the security extensions of RFC 2228).
//!
//! - `reply`: how replies are written (single and multi-line, RFC 959 §4.2)
//! - `command`: parsing a command line into a verb and an argument
//! - `tree`: the user's file tree, path resolution confined to its root,
//!   listings (LIST, NLST, MLSD) and times (MDTM)
//! - `data`: the data connection, passive (PASV/EPSV) or active (PORT/EPRT)
//! - `ascii`: TYPE A line-ending conversion
//! - `session`: the per-connection state machine

mod ascii;
mod command;
mod data;
mod reply;
mod session;
mod tree;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::listener::{self, accept_loop, WhenFull};
use crate::Running;

/// What the server serves and to whom.
#[derive(Clone, Debug)]
pub struct Config {
    /// The user's home: every path the client names resolves inside it.
    pub root: PathBuf,
    pub user: String,
    pub password: String,
    /// Failed PASS attempts on one connection before it is closed (RFC 2577 §3).
    pub max_failed_logins: u32,
    /// Pause after each failed PASS, to slow down password guessing.
    pub failed_login_delay: Duration,
    /// A control connection silent this long is closed with 421.
    pub idle: Duration,
    /// How long the server waits for a data connection to be made.
    pub data_timeout: Duration,
    /// Largest file STOR/APPE accepts.
    pub max_upload: u64,
    /// Control connections served at once (default
    /// [`crate::MAX_CONNECTIONS`]); the next one gets 421 and is closed.
    pub max_connections: usize,
    /// The identity AUTH TLS upgrades to; `None`: no TLS (AUTH is 502).
    pub tls: Option<crate::tls::Identity>,
    /// Deliberate faults, for the tests that prove the suites catch them.
    pub faults: Faults,
}

/// Ways to break RFC 4217 on purpose (all off by default).
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    /// Runs the plaintext pipelined behind AUTH TLS inside TLS.
    pub executes_injected: bool,
    /// Keeps the USER given before AUTH TLS (§4.2 says reset it).
    pub keeps_user_after_auth: bool,
    /// Answers PROT P with 200 but leaves data connections in the clear.
    pub clear_data_after_prot_p: bool,
    /// Takes PBSZ before AUTH TLS and PROT before PBSZ (§9 orders them).
    pub ignores_pbsz_prot_order: bool,
    /// Leaves AUTH, PBSZ and PROT out of FEAT (§6 says list them).
    pub feat_hides_tls: bool,
    /// Answers ABOR during a transfer with 226 alone, without the 426
    /// (RFC 959 §4.1.3 wants 426, then 226).
    pub abor_without_426: bool,
}

impl Config {
    pub fn new(root: PathBuf, user: &str, password: &str) -> Self {
        Config {
            root,
            user: user.into(),
            password: password.into(),
            max_failed_logins: 3,
            failed_login_delay: Duration::from_millis(300),
            idle: Duration::from_secs(300),
            data_timeout: Duration::from_secs(10),
            max_upload: 64 * 1024 * 1024,
            max_connections: crate::MAX_CONNECTIONS,
            tls: None,
            faults: Faults::default(),
        }
    }
}

/// Starts the server on `ip:port` (0 picks a free port). The listener is
/// registered as `control`.
pub async fn start(ip: IpAddr, port: u16, config: Config) -> std::io::Result<Running> {
    let root = config.root.canonicalize()?;
    if !root.is_dir() {
        return Err(std::io::Error::other(format!(
            "FTP root {} is not a directory",
            root.display()
        )));
    }
    let config = Arc::new(Config { root, ..config });
    let addr = SocketAddr::new(ip, port);
    listener::start("control", addr, |l| serve(l, config)).await
}

async fn serve(listener: TcpListener, config: Arc<Config>) {
    let max = config.max_connections;
    // RFC 959 §4.2: 421 "Service not available, closing control connection".
    accept_loop(
        listener,
        max,
        WhenFull::refuse(session::refuse),
        move |stream, _| session::run(stream, config.clone()),
    )
    .await
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn server() -> (std::path::PathBuf, crate::Running, std::net::SocketAddr) {
        let root = std::env::temp_dir().join(format!(
            "ftp-ref-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&root).unwrap();
        let r = super::start(
            "127.0.0.1".parse().unwrap(),
            0,
            super::Config::new(root.clone(), "u", "p"),
        )
        .await
        .unwrap();
        let a = r.addr("control").unwrap();
        (root, r, a)
    }

    async fn read_all(s: &mut tokio::net::TcpStream) -> String {
        let mut out = Vec::new();
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(3), s.read_to_end(&mut out)).await;
        String::from_utf8_lossy(&out).into_owned()
    }

    #[tokio::test]
    async fn an_endless_command_line_is_answered_500_and_closed() {
        let (root, _r, a) = server().await;
        let mut s = tokio::net::TcpStream::connect(a).await.unwrap();
        let _ = s.write_all(&vec![b'A'; super::command::MAX_LINE]).await;
        let got = read_all(&mut s).await;
        assert!(got.starts_with("220 "), "{got}");
        assert!(got.contains("\r\n500 Command line too long"), "{got}");
        let _ = std::fs::remove_dir_all(root);
    }

    /// Reads from the control connection until `want` has arrived.
    async fn until(s: &mut tokio::net::TcpStream, got: &mut String, want: &str) {
        let mut buf = [0u8; 1024];
        while !got.contains(want) {
            let n = tokio::time::timeout(std::time::Duration::from_secs(3), s.read(&mut buf))
                .await
                .expect("reply in time")
                .unwrap();
            assert!(n > 0, "closed before {want:?}: {got}");
            got.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    }

    #[tokio::test]
    async fn abor_during_a_transfer_is_answered_426_then_226() {
        let (root, _r, a) = server().await;
        let mut s = tokio::net::TcpStream::connect(a).await.unwrap();
        let mut got = String::new();
        s.write_all(b"USER u\r\nPASS p\r\nPASV\r\n").await.unwrap();
        until(&mut s, &mut got, "227 ").await;
        until(&mut s, &mut got, ")\r\n").await;
        let start = got.find("227 ").unwrap();
        let line = &got[start..];
        let nums: Vec<u16> = line[line.find('(').unwrap() + 1..line.find(')').unwrap()]
            .split(',')
            .map(|n| n.parse().unwrap())
            .collect();
        let port = nums[4] << 8 | nums[5];
        let mut data = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        s.write_all(b"STOR partial.bin\r\n").await.unwrap();
        until(&mut s, &mut got, "125 ").await;
        data.write_all(b"some bytes, and then the client gives up")
            .await
            .unwrap();
        // RFC 959 §4.1.3: Telnet IP and Synch, then ABOR.
        s.write_all(b"\xff\xf4\xff\xf2ABOR\r\n").await.unwrap();
        until(&mut s, &mut got, "226 ").await;
        let after_125 = &got[got.find("125 ").unwrap()..];
        assert!(after_125.contains("\r\n426 "), "{got}");
        assert!(after_125.find("426 ") < after_125.find("226 "), "{got}");
        s.write_all(b"NOOP\r\n").await.unwrap();
        until(&mut s, &mut got, "200 ").await;
        let _ = std::fs::remove_dir_all(root);
    }

    #[tokio::test]
    async fn repeated_failed_logins_close_the_connection() {
        let (root, _r, a) = server().await;
        let mut s = tokio::net::TcpStream::connect(a).await.unwrap();
        s.write_all(b"USER u\r\nPASS x\r\nUSER u\r\nPASS x\r\nUSER u\r\nPASS x\r\n")
            .await
            .unwrap();
        let got = read_all(&mut s).await;
        assert_eq!(got.matches("530 ").count(), 2, "{got}");
        assert!(
            got.trim_end()
                .ends_with("421 Too many failed logins, closing control connection"),
            "{got}"
        );
        let _ = std::fs::remove_dir_all(root);
    }
}
