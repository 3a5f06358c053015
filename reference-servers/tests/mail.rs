//! The SMTP and POP3 reference servers over real sockets: limits, timeouts
//! and the POP3 states, which the suites cannot reach (they would need a
//! target configured with tiny limits).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use reference_servers::mailstore::{Accounts, MailStore};
use reference_servers::{pop3, smtp, Running};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

struct Client {
    r: BufReader<OwnedReadHalf>,
    w: OwnedWriteHalf,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        let (r, w) = TcpStream::connect(addr).await.unwrap().into_split();
        Client {
            r: BufReader::new(r),
            w,
        }
    }

    /// One line, or "" at end of file.
    async fn line(&mut self) -> String {
        let mut s = String::new();
        tokio::time::timeout(Duration::from_secs(5), self.r.read_line(&mut s))
            .await
            .expect("a line within 5 s")
            .unwrap();
        s
    }

    /// An SMTP reply: lines until "NNN ".
    async fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let l = self.line().await;
            all.push_str(&l);
            if l.len() < 4 || l.as_bytes()[3] != b'-' {
                return all;
            }
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.w.write_all(bytes).await.unwrap();
    }

    async fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }

    /// A POP3 single-line reply.
    async fn single(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.line().await
    }

    /// A POP3 multi-line reply, status line included.
    async fn multi(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes()).await;
        let mut all = self.line().await;
        if !all.starts_with("+OK") {
            return all;
        }
        loop {
            let l = self.line().await;
            all.push_str(&l);
            if l == ".\r\n" || l.is_empty() {
                return all;
            }
        }
    }
}

fn store() -> (tempfile::TempDir, MailStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = MailStore::open(dir.path()).unwrap();
    store.create_user("bob").unwrap();
    (dir, store)
}

async fn smtp_server(
    store: &MailStore,
    tweak: impl FnOnce(&mut smtp::Config),
) -> (Running, SocketAddr) {
    let mut config = smtp::Config::new("mx.example.test", "example.test");
    tweak(&mut config);
    let r = smtp::start(LOCAL, 0, config, store.clone()).await.unwrap();
    let a = r.addr("smtp").unwrap();
    (r, a)
}

async fn pop3_server(store: &MailStore, idle: Duration) -> (Running, SocketAddr) {
    let mut config = pop3::Config::new("mx.example.test", Accounts::new().with("bob", "hungry"));
    config.idle_timeout = idle;
    let r = pop3::start(LOCAL, 0, config, store.clone()).await.unwrap();
    let a = r.addr("pop3").unwrap();
    (r, a)
}

async fn greeted(addr: SocketAddr) -> Client {
    let mut c = Client::connect(addr).await;
    assert!(c.reply().await.starts_with("220 "));
    assert!(c.cmd("EHLO client.example").await.starts_with("250-"));
    c
}

/// MAIL FROM a@b.test, RCPT TO bob, DATA: each accepted (250, 250, 354).
async fn to_bob_data(c: &mut Client) {
    assert!(c.cmd("MAIL FROM:<a@b.test>").await.starts_with("250 "));
    assert!(c
        .cmd("RCPT TO:<bob@example.test>")
        .await
        .starts_with("250 "));
    assert!(c.cmd("DATA").await.starts_with("354 "));
}

#[tokio::test]
async fn smtp_idle_client_gets_421_and_is_disconnected() {
    let (_d, store) = store();
    let (_r, addr) = smtp_server(&store, |c| c.idle_timeout = Duration::from_millis(200)).await;
    let mut c = greeted(addr).await;
    assert!(c.reply().await.starts_with("421 "));
    assert_eq!(c.line().await, "", "closed after 421");
}

#[tokio::test]
async fn smtp_refuses_oversize_messages_with_552_and_delivers_nothing() {
    let (_d, store) = store();
    let (_r, addr) = smtp_server(&store, |c| c.max_message = 100).await;
    let mut c = greeted(addr).await;
    assert!(c
        .cmd("MAIL FROM:<a@b.test> SIZE=101")
        .await
        .starts_with("552 "));
    to_bob_data(&mut c).await;
    c.send(&b"x".repeat(98)).await;
    c.send(b"\r\nmore\r\n.\r\n").await;
    assert!(c.reply().await.starts_with("552 "));
    assert!(store.inbox("bob").unwrap().list().unwrap().is_empty());
    // The session carries on.
    assert!(c.cmd("NOOP").await.starts_with("250 "));
}

#[tokio::test]
async fn smtp_line_limits_give_500() {
    let (_d, store) = store();
    let (_r, addr) = smtp_server(&store, |_| {}).await;
    let mut c = greeted(addr).await;
    // §4.5.3.1.4: 512 octets is the most a command line may be.
    let ok = format!("NOOP {}", "x".repeat(512 - 7));
    assert!(c.cmd(&ok).await.starts_with("250 "));
    let long = format!("NOOP {}", "x".repeat(512 - 6));
    assert!(c.cmd(&long).await.starts_with("500 "));
    c.send(b"NOOP\n").await;
    assert!(c.reply().await.starts_with("500 "), "bare LF");
    // §4.5.3.1.6: a text line over 1000 octets.
    to_bob_data(&mut c).await;
    c.send(&b"y".repeat(1001)).await;
    c.send(b"\r\n.\r\n").await;
    assert!(c.reply().await.starts_with("500 "));
}

#[tokio::test]
async fn smtp_delivers_with_trace_fields_and_undoes_dot_stuffing() {
    let (_d, store) = store();
    let (_r, addr) = smtp_server(&store, |_| {}).await;
    let mut c = greeted(addr).await;
    assert!(c
        .cmd("MAIL FROM:<alice@crepes.fr>")
        .await
        .starts_with("250 "));
    assert!(c
        .cmd("RCPT TO:<nobody@example.test>")
        .await
        .starts_with("550 "));
    assert!(c
        .cmd("RCPT TO:<bob@elsewhere.test>")
        .await
        .starts_with("550 5.7.1"));
    assert!(c
        .cmd("RCPT TO:<BOB@Example.Test>")
        .await
        .starts_with("250 "));
    assert!(c.cmd("DATA").await.starts_with("354 "));
    c.send(b"Subject: x\r\n\r\n..one\r\n...\r\nbare\n.\nstill in\r\n.\r\n")
        .await;
    assert!(c.reply().await.starts_with("250 "));
    let inbox = store.inbox("bob").unwrap();
    let m = &inbox.list().unwrap()[0];
    let text = inbox.read(&m.unique).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.starts_with("Return-Path: <alice@crepes.fr>\r\nReceived: from client.example"));
    assert!(
        text.ends_with("\r\nSubject: x\r\n\r\n.one\r\n..\r\nbare\n.\nstill in\r\n"),
        "{text:?}"
    );
}

#[tokio::test]
async fn smtp_connection_limit_gives_421() {
    let (_d, store) = store();
    let (_r, addr) = smtp_server(&store, |c| c.max_connections = 1).await;
    let _first = greeted(addr).await;
    let mut second = Client::connect(addr).await;
    assert!(second.reply().await.starts_with("421 "));
}

#[tokio::test]
async fn pop3_deletes_only_in_update_and_locks_the_maildrop() {
    let (_d, store) = store();
    let inbox = store.inbox("bob").unwrap();
    inbox.deliver(b"Subject: 1\r\n\r\n.dot\r\n").unwrap();
    inbox.deliver(b"Subject: 2\r\n\r\ntwo\r\n").unwrap();
    let (_r, addr) = pop3_server(&store, Duration::from_secs(60)).await;

    let mut a = Client::connect(addr).await;
    assert!(a.line().await.starts_with("+OK"));
    assert!(a.single("STAT").await.starts_with("-ERR"));
    assert!(a.single("USER bob").await.starts_with("+OK"));
    assert!(a.single("PASS hungry").await.starts_with("+OK"));
    assert_eq!(
        a.multi("RETR 1").await,
        "+OK 20 octets\r\nSubject: 1\r\n\r\n..dot\r\n.\r\n"
    );
    assert!(a.single("DELE 1").await.starts_with("+OK"));
    assert_eq!(a.single("STAT").await, "+OK 1 19\r\n");

    // The maildrop is locked while `a` is in TRANSACTION.
    let mut b = Client::connect(addr).await;
    b.line().await;
    b.single("USER bob").await;
    assert!(b.single("PASS hungry").await.starts_with("-ERR [IN-USE]"));

    // Nothing is deleted yet; QUIT enters UPDATE.
    assert_eq!(inbox.list().unwrap().len(), 2);
    assert!(a.single("QUIT").await.starts_with("+OK"));
    assert_eq!(inbox.list().unwrap().len(), 1);
}

#[tokio::test]
async fn pop3_autologout_does_not_delete() {
    let (_d, store) = store();
    let inbox = store.inbox("bob").unwrap();
    inbox.deliver(b"Subject: 1\r\n\r\none\r\n").unwrap();
    let (_r, addr) = pop3_server(&store, Duration::from_millis(200)).await;
    let mut a = Client::connect(addr).await;
    a.line().await;
    a.single("USER bob").await;
    a.single("PASS hungry").await;
    assert!(a.single("DELE 1").await.starts_with("+OK"));
    assert!(a.line().await.starts_with("-ERR"), "autologout notice");
    assert_eq!(a.line().await, "");
    assert_eq!(inbox.list().unwrap().len(), 1);
    // And the lock is free again.
    let mut b = Client::connect(addr).await;
    b.line().await;
    b.single("USER bob").await;
    assert!(b.single("PASS hungry").await.starts_with("+OK"));
}
