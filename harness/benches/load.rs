//! Benchmark: the bundled servers under load (issue 21). For each TCP
//! protocol the bundled server is started in-process and SESSIONS clients
//! (1,000 unless told) connect at once, each doing valid work with the
//! harness's own clients and reply readers:
//!
//! | protocol | before the barrier            | after it                         |
//! |----------|-------------------------------|----------------------------------|
//! | sockets  | connect                       | a sentence, its upper-case echo  |
//! | http     | GET on a persistent connection| a second GET with close          |
//! | smtp     | greeting, EHLO                | MAIL, RCPT, DATA, QUIT           |
//! | pop3     | greeting, USER, PASS          | STAT, QUIT                       |
//! | imap     | greeting, LOGIN               | SELECT INBOX, LOGOUT             |
//! | ftp      | greeting, USER, PASS          | PWD, QUIT                        |
//! | dns      | a query over TCP              | a second query on it, close      |
//!
//! Every session waits at a barrier, so all of them are open and served at
//! once. While they are held, connections up to the server's limit
//! ([`reference_servers::MAX_CONNECTIONS`]) are opened the same way, and one
//! more must get the protocol's own refusal (SMTP and FTP 421, POP3 -ERR,
//! IMAP `* BYE`, as `conform::steps::limits` recognises them). Sockets, HTTP
//! and DNS have no refusal: the probe says whether that connection was
//! closed or left waiting in the backlog for a second (being served means
//! the limit did not hold). HTTP and DNS make their first exchange before
//! the barrier, since the bundled HTTP server closes a connection idle for
//! 3 s (as it should).
//!
//! POP3 locks a maildrop for its session (RFC 1939 §8), so its sessions log
//! in as users of their own, in a store made here; the other servers are
//! the bundled ones (`conform::target::bundled`) as a run starts them.
//!
//! Printed per protocol: sessions ok and errored, wall time (open and
//! finish, without the hold while the limit is probed), sessions/s, the
//! per-session time against a run of BASELINE sessions measured just
//! before, the peak RSS (VmHWM; each protocol runs in a process of its own,
//! server and clients together) and its rise over the start,
//! and the probe's outcome. Nothing asserts on time; the exit status is 1
//! when a session failed or a refusal was wrong.
//!
//!     cargo bench -p conform --bench load [-- SESSIONS] [PROTOCOL ...]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use conform::notation::escape_short;
use conform::protocol::Protocol;
use conform::steps::limits::is_refusal;
use conform::target::bundled;
use conform::transcript::Transcript;
use conform::wire::ftp::FtpReader;
use conform::wire::imap::ImapReader;
use conform::wire::pop3::Pop3Reader;
use conform::wire::smtp::SmtpReader;
use conform::wire::{dns, http, Conn, Reply, ReplyReader, WireError};
use reference_servers::mailstore::{Accounts, MailStore};
use reference_servers::MAX_CONNECTIONS;
use tokio::sync::Barrier;

const SESSIONS: usize = 1000;
const BASELINE: usize = 10;
/// The bound on every connect and read of a session.
const WAIT: Duration = Duration::from_secs(30);
/// How long the connection beyond the limit of a server without a refusal
/// is watched.
const PROBE: Duration = Duration::from_secs(1);
/// The bound on one protocol's whole load run.
const RUN_BOUND: Duration = Duration::from_secs(300);

const PROTOCOLS: [Protocol; 7] = [
    Protocol::Sockets,
    Protocol::Http,
    Protocol::Smtp,
    Protocol::Pop3,
    Protocol::Imap,
    Protocol::Ftp,
    Protocol::Dns,
];

/// A started server and what its clients need.
struct Target {
    protocol: Protocol,
    addr: SocketAddr,
    user: String,
    password: String,
    recipient: String,
    /// POP3: session `i` logs in as `user{i}`.
    own_users: bool,
    /// IMAP: the bundled server allows LOGIN only inside TLS
    /// (LOGINDISABLED), so its sessions do STARTTLS first.
    starttls: Option<conform::wire::tls::Client>,
    _bundled: Option<bundled::Bundled>,
    _running: Option<reference_servers::Running>,
    _store: Option<tempfile::TempDir>,
}

impl Target {
    fn user(&self, i: usize) -> String {
        if self.own_users {
            format!("{}{i}", self.user)
        } else {
            self.user.clone()
        }
    }
}

async fn start(protocol: Protocol) -> Result<Target, String> {
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    if protocol == Protocol::Pop3 {
        return start_pop3(ip).await;
    }
    let b = bundled::start(&[protocol], ip)
        .await
        .map_err(|e| format!("start {protocol}: {e}"))?;
    let key = match protocol {
        Protocol::Sockets => "sockets.tcp".to_string(),
        p => format!("{}.address", p.name()),
    };
    let addr = b.profile.addr(&key).map_err(|e| e.to_string())?;
    let get = |k: &str| {
        b.profile
            .get(&format!("{protocol}.{k}"))
            .unwrap_or_default()
            .to_string()
    };
    let starttls = match protocol {
        Protocol::Imap if get("tls") == "starttls" => {
            Some(conform::wire::tls::section_client(&b.profile, "imap")?)
        }
        _ => None,
    };
    Ok(Target {
        protocol,
        addr,
        user: get("user"),
        password: get("password"),
        recipient: get("recipient"),
        own_users: false,
        starttls,
        _bundled: Some(b),
        _running: None,
        _store: None,
    })
}

/// The reference POP3 server with the bundled configuration, over a store
/// with a user (and one message) for every connection it serves.
async fn start_pop3(ip: IpAddr) -> Result<Target, String> {
    let dir = tempfile::Builder::new()
        .prefix("conform-load-pop3-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let store = MailStore::open(dir.path()).map_err(|e| e.to_string())?;
    let mut accounts = Accounts::new();
    for i in 0..=MAX_CONNECTIONS {
        let user = format!("load{i}");
        let inbox = store.create_user(&user).map_err(|e| e.to_string())?;
        inbox
            .deliver(format!("Subject: load {i}\r\n\r\nmessage {i}\r\n").as_bytes())
            .map_err(|e| e.to_string())?;
        accounts = accounts.with(&user, "secret");
    }
    let config = reference_servers::pop3::Config::new("mail.example.test", accounts);
    let r = reference_servers::pop3::start(ip, 0, config, store)
        .await
        .map_err(|e| format!("start pop3: {e}"))?;
    let addr = r.addr("pop3").ok_or("pop3 has no listener")?;
    Ok(Target {
        protocol: Protocol::Pop3,
        addr,
        user: "load".into(),
        password: "secret".into(),
        recipient: String::new(),
        own_users: true,
        starttls: None,
        _bundled: None,
        _running: Some(r),
        _store: Some(dir),
    })
}

/// One client's connection and what reads its replies.
struct Session {
    conn: Conn,
    reader: Option<Box<dyn ReplyReader>>,
}

fn reader(p: Protocol) -> Option<Box<dyn ReplyReader>> {
    match p {
        Protocol::Smtp => Some(Box::new(SmtpReader)),
        Protocol::Pop3 => Some(Box::new(Pop3Reader::new())),
        Protocol::Imap => Some(Box::new(ImapReader::default())),
        Protocol::Ftp => Some(Box::new(FtpReader)),
        _ => None,
    }
}

fn text(reply: &Reply) -> String {
    escape_short(reply.text().as_bytes(), 120)
}

impl Session {
    async fn connect(t: &Target, i: usize) -> Result<Session, String> {
        let conn = Conn::connect(t.addr, &format!("c{i}"), &Transcript::new(), WAIT)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Session {
            conn,
            reader: reader(t.protocol),
        })
    }

    fn reader(&self) -> Result<&dyn ReplyReader, String> {
        self.reader.as_deref().ok_or_else(|| "no reader".into())
    }

    /// Reads a reply and checks its status.
    async fn hear(&mut self, what: &str, status: &str) -> Result<Reply, String> {
        let reply = match &self.reader {
            Some(r) => r.read(&mut self.conn).await,
            None => return Err("no reader".into()),
        }
        .map_err(|e| format!("{what}: {e}"))?;
        if reply.status != status {
            return Err(format!("{what}: {status} expected, got {}", text(&reply)));
        }
        Ok(reply)
    }

    /// Sends a command line, framed by the reader, and checks the reply.
    async fn say(&mut self, command: &str, status: &str) -> Result<Reply, String> {
        let framed = self.reader()?.frame(command.as_bytes());
        let verb = command.split(' ').next().unwrap_or_default().to_string();
        self.conn
            .send(&framed)
            .await
            .map_err(|e| format!("{verb}: {e}"))?;
        self.hear(&verb, status).await
    }

    async fn closed(&mut self) -> Result<(), String> {
        self.conn
            .wait_for_close(4096)
            .await
            .map(|_| ())
            .map_err(|e| format!("close: {e}"))
    }

    async fn http_get(&mut self, path: &str, close: bool) -> Result<(), String> {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: load.test\r\n{}\r\n",
            if close { "Connection: close\r\n" } else { "" }
        );
        self.conn
            .send(request.as_bytes())
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        let r = http::read_response(&mut self.conn, "GET")
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        if r.status != 200 {
            return Err(format!("GET {path}: 200 expected, got {}", r.status));
        }
        Ok(())
    }

    async fn dns_query(&mut self, id: u16, name: &str, qtype: u16) -> Result<(), String> {
        let query = dns::QuerySpec::new(id, name, qtype).encode()?;
        dns::send_tcp(&mut self.conn, &query)
            .await
            .map_err(|e| format!("query {name}: {e}"))?;
        let answer = dns::read_tcp(&mut self.conn)
            .await
            .map_err(|e| format!("query {name}: {e}"))?;
        let h = dns::RawHeader::read(&answer).ok_or("a response shorter than its header")?;
        if h.id != id || !h.qr || h.rcode != 0 || h.counts[1] == 0 {
            return Err(format!(
                "query {name}: a NOERROR answer with id {id} expected, got id {} rcode {} with {} answers",
                h.id, h.rcode, h.counts[1]
            ));
        }
        Ok(())
    }

    /// Connects and does the work before the barrier.
    async fn open(t: &Target, i: usize) -> Result<Session, String> {
        let mut s = Session::connect(t, i).await?;
        let user = t.user(i);
        match t.protocol {
            Protocol::Sockets => {}
            Protocol::Http => s.http_get("/", false).await?,
            Protocol::Dns => s.dns_query(i as u16, "www.example.test", 1).await?,
            Protocol::Smtp => {
                s.hear("greeting", "220").await?;
                s.say("EHLO load.test", "250").await?;
            }
            Protocol::Pop3 => {
                s.hear("greeting", "+OK").await?;
                s.say(&format!("USER {user}"), "+OK").await?;
                s.say(&format!("PASS {}", t.password), "+OK").await?;
            }
            Protocol::Imap => {
                s.hear("greeting", "OK").await?;
                if let Some(client) = &t.starttls {
                    s.say("a0 STARTTLS", "OK").await?;
                    s.conn
                        .start_tls(client)
                        .await
                        .map_err(|e| format!("STARTTLS: {e}"))?;
                }
                s.say(&format!("a1 LOGIN {user} {}", t.password), "OK")
                    .await?;
            }
            Protocol::Ftp => {
                s.hear("greeting", "220").await?;
                s.say(&format!("USER {user}"), "331").await?;
                s.say(&format!("PASS {}", t.password), "230").await?;
            }
            p => return Err(format!("{p} is not benchmarked")),
        }
        Ok(s)
    }

    /// The work after the barrier, to the session's end.
    async fn finish(mut self, t: &Target, i: usize) -> Result<(), String> {
        match t.protocol {
            Protocol::Sockets => {
                let sentence = format!("load session {i}, all lower case");
                self.conn
                    .send(sentence.as_bytes())
                    .await
                    .map_err(|e| format!("send: {e}"))?;
                let echo = self
                    .conn
                    .read_to_close(4096, "the upper-cased sentence")
                    .await
                    .map_err(|e| format!("echo: {e}"))?;
                if echo != sentence.to_ascii_uppercase().as_bytes() {
                    return Err(format!(
                        "echo: {:?} expected, got {}",
                        sentence.to_ascii_uppercase(),
                        escape_short(&echo, 120)
                    ));
                }
            }
            Protocol::Http => {
                self.http_get("/somedir/page.html", true).await?;
                self.closed().await?;
            }
            Protocol::Dns => self.dns_query(i as u16 ^ 0x8000, "example.test", 6).await?,
            Protocol::Smtp => {
                let from = format!("load{i}@load.test");
                self.say(&format!("MAIL FROM:<{from}>"), "250").await?;
                self.say(&format!("RCPT TO:<{}>", t.recipient), "250")
                    .await?;
                self.say("DATA", "354").await?;
                let message = format!(
                    "From: <{from}>\r\nTo: <{}>\r\nSubject: load {i}\r\n\r\nsession {i}\r\n.\r\n",
                    t.recipient
                );
                self.conn
                    .send(message.as_bytes())
                    .await
                    .map_err(|e| format!("message: {e}"))?;
                self.hear("end of data", "250").await?;
                self.say("QUIT", "221").await?;
                self.closed().await?;
            }
            Protocol::Pop3 => {
                self.say("STAT", "+OK").await?;
                self.say("QUIT", "+OK").await?;
                self.closed().await?;
            }
            Protocol::Imap => {
                self.say("a2 SELECT INBOX", "OK").await?;
                self.say("a3 LOGOUT", "OK").await?;
                self.closed().await?;
            }
            Protocol::Ftp => {
                self.say("PWD", "257").await?;
                self.say("QUIT", "221").await?;
                self.closed().await?;
            }
            p => return Err(format!("{p} is not benchmarked")),
        }
        Ok(())
    }
}

/// What became of the connection beyond the limit.
enum Probe {
    /// The protocol's refusal, and whether the server then closed.
    Refused { reply: String, closed: bool },
    /// Closed (or reset) without a word.
    Closed(&'static str),
    /// Nothing within [`PROBE`]: left in the backlog.
    Waiting,
    /// Served as if there were no limit, or something else came.
    Wrong(String),
}

impl Probe {
    fn ok(&self, p: Protocol) -> bool {
        let refuses = matches!(
            p,
            Protocol::Smtp | Protocol::Pop3 | Protocol::Imap | Protocol::Ftp
        );
        match self {
            Probe::Refused { .. } => refuses,
            Probe::Closed(_) | Probe::Waiting => !refuses,
            Probe::Wrong(_) => false,
        }
    }

    fn describe(&self) -> String {
        match self {
            Probe::Refused { reply, closed } => format!(
                "refused: {reply}{}",
                if *closed {
                    ", then closed"
                } else {
                    ", left open"
                }
            ),
            Probe::Closed(how) => (*how).to_string(),
            Probe::Waiting => format!(
                "left waiting (nothing within {})",
                humantime::format_duration(PROBE)
            ),
            Probe::Wrong(what) => format!("WRONG: {what}"),
        }
    }
}

/// Classifies a read on a connection the server should not serve.
fn unserved(e: WireError) -> Probe {
    match e {
        WireError::Timeout { partial, .. } if partial.is_empty() => Probe::Waiting,
        WireError::Closed { partial, .. } if partial.is_empty() => {
            Probe::Closed("closed without a word")
        }
        WireError::Io { error, .. }
            if matches!(
                error.kind(),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
            ) =>
        {
            Probe::Closed("reset")
        }
        e => Probe::Wrong(e.to_string()),
    }
}

async fn probe(t: &Target) -> Probe {
    let i = MAX_CONNECTIONS + 1;
    let mut s = match Session::connect(t, i).await {
        Ok(s) => s,
        Err(e) => return Probe::Wrong(format!("connect: {e}")),
    };
    match t.protocol {
        Protocol::Smtp | Protocol::Pop3 | Protocol::Imap | Protocol::Ftp => {
            let name = s.reader.as_ref().map(|r| r.protocol()).unwrap_or_default();
            let reply = match s.reader.as_ref() {
                Some(r) => r.read(&mut s.conn).await,
                None => return Probe::Wrong("no reader".into()),
            };
            match reply {
                Ok(r) if is_refusal(name, true, b"", &r) => {
                    s.conn.timeout = PROBE;
                    Probe::Refused {
                        reply: text(&r),
                        closed: s.conn.wait_for_close(4096).await.is_ok(),
                    }
                }
                Ok(r) => Probe::Wrong(format!("served: {}", text(&r))),
                Err(e) => Probe::Wrong(format!("no refusal: {e}")),
            }
        }
        Protocol::Sockets => {
            s.conn.timeout = PROBE;
            if let Err(e) = s.conn.send(b"beyond the limit").await {
                return unserved(e);
            }
            match s.conn.read_to_close(4096, "the echo").await {
                Ok(b) if b.is_empty() => Probe::Closed("closed without a word"),
                Ok(b) => Probe::Wrong(format!("served: {}", escape_short(&b, 60))),
                Err(e) => unserved(e),
            }
        }
        Protocol::Http => {
            s.conn.timeout = PROBE;
            if let Err(e) = s
                .conn
                .send(b"GET / HTTP/1.1\r\nHost: load.test\r\n\r\n")
                .await
            {
                return unserved(e);
            }
            match http::read_response(&mut s.conn, "GET").await {
                Ok(r) => Probe::Wrong(format!("served: {}", r.status)),
                Err(e) => unserved(e),
            }
        }
        _ => {
            s.conn.timeout = PROBE;
            let query = match dns::QuerySpec::new(1, "example.test", 6).encode() {
                Ok(q) => q,
                Err(e) => return Probe::Wrong(e),
            };
            if let Err(e) = dns::send_tcp(&mut s.conn, &query).await {
                return unserved(e);
            }
            match dns::read_tcp(&mut s.conn).await {
                Ok(_) => Probe::Wrong("served".into()),
                Err(e) => unserved(e),
            }
        }
    }
}

/// One load run of `n` sessions.
struct Outcome {
    ok: usize,
    errors: Vec<String>,
    /// Opening and finishing, without the hold at the barrier.
    wall: Duration,
    /// VmHWM and VmRSS at the start, KiB.
    peak_kib: u64,
    start_kib: u64,
    probe: Option<Probe>,
}

async fn load(t: Arc<Target>, n: usize, probe_limit: bool) -> Outcome {
    reset_peak();
    let start_kib = status_kib("VmRSS");
    let opened = Arc::new(Barrier::new(n + 1));
    let release = Arc::new(Barrier::new(n + 1));
    let began = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let (t, opened, release) = (t.clone(), opened.clone(), release.clone());
        tasks.push(tokio::spawn(async move {
            let open = Session::open(&t, i).await;
            opened.wait().await;
            release.wait().await;
            match open {
                Ok(s) => s.finish(&t, i).await,
                Err(e) => Err(e),
            }
            .map_err(|e| format!("session {i}: {e}"))
        }));
    }
    opened.wait().await;
    let open_time = began.elapsed();
    let mut probed = None;
    if probe_limit {
        // Fill the server to its limit, then one more.
        let fillers =
            futures::future::join_all((n..MAX_CONNECTIONS).map(|i| Session::open(&t, i))).await;
        let filled = fillers.iter().filter(|f| f.is_ok()).count();
        if t.protocol == Protocol::Sockets {
            // No greeting tells that the server took them: let it.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let p = probe(&t).await;
        probed = Some(if filled == MAX_CONNECTIONS - n {
            p
        } else {
            let e = fillers
                .into_iter()
                .find_map(Result::err)
                .unwrap_or_default();
            Probe::Wrong(format!(
                "only {filled} of {} connections up to the limit opened: {e}",
                MAX_CONNECTIONS - n
            ))
        });
    }
    release.wait().await;
    let finishing = Instant::now();
    let mut ok = 0;
    let mut errors = Vec::new();
    for task in tasks {
        match task.await {
            Ok(Ok(())) => ok += 1,
            Ok(Err(e)) => errors.push(e),
            Err(e) => errors.push(format!("a session task failed: {e}")),
        }
    }
    Outcome {
        ok,
        errors,
        wall: open_time + finishing.elapsed(),
        peak_kib: status_kib("VmHWM"),
        start_kib,
        probe: probed,
    }
}

/// A field of /proc/self/status in KiB (0 where there is none).
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':').map(str::to_string))
        })
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resets VmHWM to the current RSS (Linux: `5` in clear_refs).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Raises the soft limit on open files to what the run needs (client and
/// server ends of every connection), up to the hard limit.
fn raise_nofile(need: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write `lim`.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return;
        }
        if lim.rlim_cur >= need as libc::rlim_t {
            return;
        }
        lim.rlim_cur = lim.rlim_max.min(need as libc::rlim_t);
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
    }
    if lim.rlim_cur < need as libc::rlim_t {
        eprintln!(
            "open files limited to {} (hard limit); the run needs about {need}",
            lim.rlim_cur
        );
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Set in the process that runs one protocol: each protocol runs in a
/// process of its own, so that its peak RSS is its own.
const CHILD: &str = "CONFORM_LOAD_PROTOCOL";

fn main() {
    let mut sessions = SESSIONS;
    let mut chosen = Vec::new();
    for a in std::env::args().skip(1) {
        if let Ok(n) = a.parse::<usize>() {
            sessions = n.clamp(1, MAX_CONNECTIONS);
        } else if let Some(p) = PROTOCOLS.iter().find(|p| p.name() == a) {
            chosen.push(*p);
        } else if !a.starts_with('-') {
            eprintln!("unknown argument {a:?}: a number of sessions or one of sockets, http, smtp, pop3, imap, ftp, dns");
            std::process::exit(2);
        }
    }
    if let Some(p) = std::env::var(CHILD)
        .ok()
        .and_then(|c| PROTOCOLS.iter().find(|p| p.name() == c))
    {
        std::process::exit(if one(*p, sessions) { 0 } else { 1 });
    }
    if chosen.is_empty() {
        chosen = PROTOCOLS.to_vec();
    }
    println!(
        "{sessions} sessions per protocol, held open at once; baseline {BASELINE} sessions; server limit {MAX_CONNECTIONS}"
    );
    println!(
        "{:<8} {:>6} {:>6} {:>9} {:>10} {:>10} {:>7} {:>9} {:>9}  beyond the limit",
        "", "ok", "errors", "wall (s)", "sessions/s", "base (ms)", "x base", "peak MiB", "rise MiB"
    );
    let mut failed = false;
    let me = std::env::current_exe().expect("the benchmark's own path");
    for p in chosen {
        let status = std::process::Command::new(&me)
            .arg(sessions.to_string())
            .env(CHILD, p.name())
            .status();
        if !status.is_ok_and(|s| s.success()) {
            failed = true;
        }
    }
    println!(
        "(wall: opening and finishing, without the hold while the limit is probed; x base: time per session against the baseline run; peak: VmHWM of the process, server and clients together; rise: over its RSS before the run)"
    );
    if failed {
        println!("load: FAILED");
        std::process::exit(1);
    }
}

/// Runs the baseline and the load for `p` and prints its row; false when a
/// session failed or the probe's outcome is wrong.
fn one(p: Protocol, sessions: usize) -> bool {
    raise_nofile(2 * (MAX_CONNECTIONS as u64 + 64) + 256);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let result = rt.block_on(async {
        let t = Arc::new(start(p).await?);
        let base = tokio::time::timeout(RUN_BOUND, load(t.clone(), BASELINE, false))
            .await
            .map_err(|_| format!("{BASELINE} sessions did not end within {RUN_BOUND:?}"))?;
        let full = tokio::time::timeout(RUN_BOUND, load(t, sessions, true))
            .await
            .map_err(|_| format!("{sessions} sessions did not end within {RUN_BOUND:?}"))?;
        Ok::<_, String>((base, full))
    });
    let (base, full) = match result {
        Ok(r) => r,
        Err(e) => {
            println!("{p:<8} FAILED: {e}");
            return false;
        }
    };
    let per = |o: &Outcome, n: usize| o.wall.as_secs_f64() / n as f64;
    let probe = full.probe.as_ref();
    println!(
        "{:<8} {:>6} {:>6} {:>9.3} {:>10.0} {:>10.1} {:>7.2} {:>9.1} {:>9.1}  {}",
        p.name(),
        full.ok,
        full.errors.len() + base.errors.len(),
        full.wall.as_secs_f64(),
        sessions as f64 / full.wall.as_secs_f64(),
        base.wall.as_secs_f64() * 1000.0,
        per(&full, sessions) / per(&base, BASELINE),
        mib(full.peak_kib),
        mib(full.peak_kib.saturating_sub(full.start_kib)),
        probe.map(Probe::describe).unwrap_or_default(),
    );
    for e in base.errors.iter().chain(&full.errors).take(5) {
        println!("         error: {e}");
    }
    base.errors.is_empty() && full.errors.is_empty() && probe.is_some_and(|x| x.ok(p))
}
