//! An interrupted run leaves the target as it found it: SIGINT during a run
//! of the FTP and IMAP suites (whose MKD, STOR and CREATE scenarios leave
//! things behind until their cleanups run) against `conform serve`; the
//! FTP home and the IMAP mailbox list are the same afterwards, and the run
//! reports that it was interrupted and exits 1.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A value of the served profile.
fn value(served: &common::Served, section: &str, key: &str) -> String {
    let text = std::fs::read_to_string(&served.profile).expect("profile");
    let table: toml::Table = text.parse().expect("profile parses");
    table[section][key].as_str().expect("a string").to_string()
}

struct Lines {
    r: BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: tokio::net::tcp::OwnedWriteHalf,
}

impl Lines {
    async fn open(addr: SocketAddr) -> Lines {
        let (r, w) = TcpStream::connect(addr)
            .await
            .expect("connect")
            .into_split();
        Lines {
            r: BufReader::new(r),
            w,
        }
    }

    async fn line(&mut self) -> String {
        let mut l = String::new();
        tokio::time::timeout(Duration::from_secs(10), self.r.read_line(&mut l))
            .await
            .expect("a line in time")
            .expect("read");
        l
    }

    /// An FTP reply's last line.
    async fn ftp(&mut self, cmd: &str) -> String {
        if !cmd.is_empty() {
            self.w
                .write_all(format!("{cmd}\r\n").as_bytes())
                .await
                .expect("send");
        }
        loop {
            let l = self.line().await;
            if l.len() >= 4 && l.as_bytes()[3] == b' ' {
                return l;
            }
        }
    }
}

/// The names in the FTP user's home.
async fn ftp_listing(addr: SocketAddr, user: &str, pass: &str) -> Vec<String> {
    let mut c = Lines::open(addr).await;
    c.ftp("").await;
    c.ftp(&format!("USER {user}")).await;
    c.ftp(&format!("PASS {pass}")).await;
    let epsv = c.ftp("EPSV").await;
    let port: u16 = epsv
        .split("|||")
        .nth(1)
        .and_then(|p| p.split('|').next())
        .and_then(|p| p.parse().ok())
        .expect("EPSV port");
    let mut data = TcpStream::connect((addr.ip(), port)).await.expect("data");
    c.w.write_all(b"NLST\r\n").await.expect("send");
    let mut names = String::new();
    data.read_to_string(&mut names).await.expect("listing");
    let mut names: Vec<String> = names.lines().map(str::to_string).collect();
    names.sort();
    names
}

/// The IMAP user's mailboxes, asked inside TLS (the served IMAP server
/// announces LOGINDISABLED before STARTTLS).
async fn imap_mailboxes(addr: SocketAddr, user: &str, pass: &str, ca: &str) -> Vec<String> {
    let mut plain = BufReader::new(TcpStream::connect(addr).await.expect("connect"));
    let mut l = String::new();
    let within = Duration::from_secs(10);
    let _ = tokio::time::timeout(within, plain.read_line(&mut l)).await;
    plain
        .get_mut()
        .write_all(b"s STARTTLS\r\n")
        .await
        .expect("send");
    loop {
        l.clear();
        tokio::time::timeout(within, plain.read_line(&mut l))
            .await
            .expect("a line in time")
            .expect("read");
        if l.starts_with("s ") || l.is_empty() {
            assert!(l.starts_with("s OK"), "STARTTLS: {l}");
            break;
        }
    }
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let tls = common::tls_connector(std::path::Path::new(ca))
        .connect(name, plain.into_inner())
        .await
        .expect("TLS");
    let mut c = BufReader::new(tls);
    c.get_mut()
        .write_all(format!("a LOGIN {user} {pass}\r\nb LIST \"\" \"*\"\r\n").as_bytes())
        .await
        .expect("send");
    let mut out = Vec::new();
    loop {
        l.clear();
        tokio::time::timeout(within, c.read_line(&mut l))
            .await
            .expect("a line in time")
            .expect("read");
        if l.starts_with("b ") || l.is_empty() {
            break;
        }
        if l.starts_with("* LIST") {
            out.push(l.trim_end().to_string());
        }
    }
    out.sort();
    out
}

async fn store(served: &common::Served) -> (Vec<String>, Vec<String>) {
    let ftp: SocketAddr = value(served, "ftp", "address")
        .parse()
        .expect("ftp address");
    let imap: SocketAddr = value(served, "imap", "address")
        .parse()
        .expect("imap address");
    (
        ftp_listing(
            ftp,
            &value(served, "ftp", "user"),
            &value(served, "ftp", "password"),
        )
        .await,
        imap_mailboxes(
            imap,
            &value(served, "imap", "user"),
            &value(served, "imap", "password"),
            &value(served, "imap", "ca_file"),
        )
        .await,
    )
}

#[tokio::test]
async fn an_interrupted_run_leaves_the_ftp_and_imap_stores_as_found() {
    let served = common::serve(&["ftp", "imap"]).await;
    let before = store(&served).await;
    assert!(!before.0.is_empty() && !before.1.is_empty(), "{before:?}");
    // Interrupted as soon as the first scenarios have finished (the
    // progress lines), and a while later.
    for after_ms in [0u64, 1500] {
        let mut child = tokio::process::Command::new(common::conform_bin())
            // One at a time: the run lasts several seconds even on an idle
            // machine (at the default concurrency it can end in about one
            // second, before the later interrupt).
            .args([
                "run",
                "ftp",
                "imap",
                "--concurrency",
                "1",
                "--target",
                served.profile_arg(),
            ])
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("conform started");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        tokio::time::timeout(Duration::from_secs(60), out.read_line(&mut first))
            .await
            .expect("a progress line within a minute")
            .expect("stdout reads");
        // The rest is read as it comes (a full pipe would block the run).
        let reader = tokio::spawn(async move {
            let mut text = String::new();
            let _ = out.read_to_string(&mut text).await;
            text
        });
        tokio::time::sleep(Duration::from_millis(after_ms)).await;
        let pid = child.id().expect("running").to_string();
        let killed = tokio::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .await
            .expect("kill runs");
        assert!(killed.success());
        let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
            .await
            .expect("the interrupted run ends within a minute")
            .expect("exit status");
        let text = reader.await.expect("stdout read");
        eprintln!(
            "interrupted after {after_ms} ms: {status}\n{}",
            text.lines().rev().take(6).collect::<Vec<_>>().join("\n")
        );
        assert_eq!(status.code(), Some(1), "{text}");
        assert!(
            text.contains("stopped before the end: the run was interrupted (SIGINT)"),
            "{text}"
        );
        // Scenarios had run (and left things behind until their cleanups).
        assert!(!text.contains("conform: 0 passed"), "{text}");
        let after = store(&served).await;
        assert_eq!(before, after, "the stores are as found");
    }
    served.kill().await;
}
