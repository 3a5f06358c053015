//! One control connection: login state, current directory, transfer
//! parameters, and the commands of RFC 959 §4.1 with the extensions of
//! RFC 2389, 2428 and 3659, and the TLS security of RFC 4217 (AUTH TLS,
//! PBSZ, PROT; RFC 2228 defines the commands).

use std::collections::VecDeque;
use std::io::{self, SeekFrom};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::fs::File;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWrite, AsyncWriteExt, ReadHalf};
use tokio::net::TcpStream;

use super::ascii;
use super::command::{self, Command, MAX_LINE};
use super::data::{self, DataSetup};
use super::reply::{quote_path, Replies};
use super::tree::{self, Tree};
use super::Config;
use crate::tls::{self, Buffered, Io};

/// Commands received during a transfer and kept for after it.
const MAX_PENDING: usize = 16;
const CHUNK: usize = 16 * 1024;

/// Answers a connection beyond the limit and closes it.
pub async fn refuse(stream: TcpStream) {
    let io: Box<dyn Io> = Box::new(stream);
    let (_, w) = tokio::io::split(io);
    let mut out = Replies::new(w);
    let _ = out.send(421, "Too many connections, try again later").await;
    out.shutdown().await;
}

pub async fn run(stream: TcpStream, config: Arc<Config>) {
    let (Ok(peer), Ok(local)) = (stream.peer_addr(), stream.local_addr()) else {
        return;
    };
    let io: Box<dyn Io> = Box::new(stream);
    let (r, w) = tokio::io::split(io);
    let mut s = Session {
        tree: Tree::new(config.root.clone()),
        cfg: config,
        input: ControlIn { r, buf: Vec::new() },
        out: Replies::new(w),
        peer,
        local,
        user: None,
        logged_in: false,
        failed: 0,
        cwd: "/".into(),
        ascii: true,
        data: DataSetup::None,
        epsv_all: false,
        rename_from: None,
        rest: 0,
        pending: VecDeque::new(),
        tls: false,
        pbsz: false,
        private: false,
    };
    let _ = s.serve().await;
    s.out.shutdown().await;
}

enum Flow {
    Continue,
    Close,
}

enum Input {
    Line(Vec<u8>),
    TooLong,
    Eof,
}

/// The reading side of the control connection: bounded lines. Reading is
/// cancel-safe (bytes stay in `buf`), so a transfer can watch for ABOR.
struct ControlIn {
    r: ReadHalf<Box<dyn Io>>,
    buf: Vec<u8>,
}

impl ControlIn {
    async fn line(&mut self) -> io::Result<Input> {
        loop {
            if let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=pos).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Input::Line(strip_telnet(&line)));
            }
            if self.buf.len() >= MAX_LINE {
                return Ok(Input::TooLong);
            }
            let mut chunk = [0u8; 1024];
            let n = self.r.read(&mut chunk).await?;
            if n == 0 {
                return Ok(Input::Eof);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// The control connection speaks Telnet (RFC 959 §4.1.3): clients send
/// `IAC IP IAC DM` before ABOR. Telnet commands are removed; `IAC IAC`
/// stands for the byte 255.
fn strip_telnet(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len());
    let mut it = line.iter().copied();
    while let Some(b) = it.next() {
        if b == 0xff {
            match it.next() {
                Some(0xff) => out.push(0xff),
                // WILL/WONT/DO/DONT carry an option byte.
                Some(251..=254) => {
                    it.next();
                }
                _ => {}
            }
        } else {
            out.push(b);
        }
    }
    out
}

struct Session {
    cfg: Arc<Config>,
    tree: Tree,
    input: ControlIn,
    out: Replies,
    peer: SocketAddr,
    local: SocketAddr,
    user: Option<String>,
    logged_in: bool,
    failed: u32,
    /// The current directory, as a virtual path.
    cwd: String,
    /// TYPE A (true) or TYPE I.
    ascii: bool,
    data: DataSetup,
    /// After `EPSV ALL`, only EPSV may set up data connections (RFC 2428 §4).
    epsv_all: bool,
    rename_from: Option<PathBuf>,
    /// The REST offset for the next transfer.
    rest: u64,
    pending: VecDeque<Vec<u8>>,
    /// The control connection is in TLS (after AUTH TLS).
    tls: bool,
    /// PBSZ was accepted (RFC 4217 §9: PROT needs it first).
    pbsz: bool,
    /// PROT P: data connections are in TLS.
    private: bool,
}

/// How a transfer ended.
enum Transfer {
    Done,
    Aborted,
    DataFailed(io::Error),
    LocalFailed(io::Error),
    TooLarge,
}

impl Session {
    async fn serve(&mut self) -> io::Result<()> {
        self.out
            .send(220, "conform reference FTP server ready")
            .await?;
        loop {
            let input = match self.pending.pop_front() {
                Some(line) => Input::Line(line),
                None => match tokio::time::timeout(self.cfg.idle, self.input.line()).await {
                    Ok(r) => r?,
                    Err(_) => {
                        self.out
                            .send(421, "Idle timeout, closing control connection")
                            .await?;
                        return Ok(());
                    }
                },
            };
            let line = match input {
                Input::Eof => return Ok(()),
                Input::TooLong => {
                    self.out
                        .send(500, "Command line too long, closing control connection")
                        .await?;
                    return Ok(());
                }
                Input::Line(l) => l,
            };
            let Some(cmd) = command::parse(&line) else {
                self.out
                    .send(500, "Syntax error, command unrecognized")
                    .await?;
                continue;
            };
            if let Flow::Close = self.dispatch(cmd).await? {
                return Ok(());
            }
        }
    }

    async fn dispatch(&mut self, cmd: Command) -> io::Result<Flow> {
        let verb = cmd.verb.as_str();
        let arg = cmd.arg.as_str();
        // RNTO must come right after RNFR (RFC 959 §4.1.3).
        let rename_from = if verb == "RNTO" {
            self.rename_from.take()
        } else {
            self.rename_from = None;
            None
        };
        // A REST offset is for the transfer that follows (RFC 959 §4.1.3);
        // data-connection set-up in between is tolerated, anything else
        // cancels it.
        if !matches!(
            verb,
            "RETR" | "STOR" | "APPE" | "REST" | "PASV" | "EPSV" | "PORT" | "EPRT" | "TYPE"
        ) {
            self.rest = 0;
        }
        match verb {
            "USER" => return self.user(arg).await,
            "PASS" => return self.pass(arg).await,
            "QUIT" => {
                self.out.send(221, "Goodbye").await?;
                return Ok(Flow::Close);
            }
            "NOOP" => self.out.send(200, "NOOP ok").await?,
            "FEAT" => self.feat().await?,
            "HELP" => self.help().await?,
            "SYST" => self.out.send(215, "UNIX Type: L8").await?,
            "OPTS" => self.opts(arg).await?,
            "ACCT" => self.out.send(202, "ACCT not needed").await?,
            "AUTH" => return self.auth(arg).await,
            "PBSZ" => self.pbsz(arg).await?,
            "PROT" => self.prot(arg).await?,
            _ if !KNOWN.contains(&verb) => {
                self.out
                    .send(502, &format!("{verb} not implemented"))
                    .await?
            }
            _ if !self.logged_in => {
                self.out
                    .send(530, "Please login with USER and PASS")
                    .await?
            }
            "PWD" | "XPWD" => {
                let text = format!("{} is the current directory", quote_path(&self.cwd));
                self.out.send(257, &text).await?
            }
            "CWD" | "XCWD" => self.cwd(arg).await?,
            "CDUP" | "XCUP" => {
                self.cwd = Tree::virtual_path(&self.cwd, "..");
                self.out.send(200, "Directory changed").await?
            }
            "TYPE" => self.type_(arg).await?,
            "MODE" => self.one_of(arg, "S", &["B", "C"], "Mode").await?,
            "STRU" => self.one_of(arg, "F", &["R", "P"], "Structure").await?,
            "PASV" => self.pasv().await?,
            "EPSV" => self.epsv(arg).await?,
            "PORT" => self.port(arg).await?,
            "EPRT" => self.eprt(arg).await?,
            "REST" => match arg.trim().parse::<u64>() {
                Ok(n) => {
                    self.rest = n;
                    self.out
                        .send(350, &format!("Restarting at {n}, send RETR or STOR"))
                        .await?
                }
                Err(_) => self.out.send(501, "REST needs a byte offset").await?,
            },
            "ABOR" => self.out.send(225, "No transfer to abort").await?,
            "RNTO" => self.rnto(arg, rename_from).await?,
            _ if arg.is_empty() && NEEDS_ARG.contains(&verb) => {
                self.out
                    .send(501, &format!("{verb} needs an argument"))
                    .await?
            }
            "MKD" | "XMKD" => self.mkd(arg).await?,
            "RMD" | "XRMD" => self.rmd(arg).await?,
            "DELE" => self.dele(arg).await?,
            "RNFR" => self.rnfr(arg).await?,
            "SIZE" => self.size(arg).await?,
            "MDTM" => self.mdtm(arg).await?,
            "MLST" => self.mlst(arg).await?,
            "LIST" | "NLST" | "MLSD" => return self.listing(verb, arg).await,
            "RETR" => return self.retr(arg).await,
            "STOR" | "APPE" => return self.stor(arg, verb == "APPE", false).await,
            "STOU" => return self.stou().await,
            _ => self.out.send(502, "Command not implemented").await?,
        }
        Ok(Flow::Continue)
    }

    // ---- access control (RFC 959 §4.1.1) ----------------------------------

    async fn user(&mut self, arg: &str) -> io::Result<Flow> {
        if arg.is_empty() {
            self.out.send(501, "USER needs a user name").await?;
            return Ok(Flow::Continue);
        }
        // A new USER starts a new login. The reply never tells whether the
        // user exists (RFC 2577 §4).
        self.logged_in = false;
        self.user = Some(arg.to_string());
        self.out.send(331, "User name okay, need password").await?;
        Ok(Flow::Continue)
    }

    async fn pass(&mut self, arg: &str) -> io::Result<Flow> {
        if self.logged_in {
            self.out.send(230, "Already logged in").await?;
            return Ok(Flow::Continue);
        }
        let Some(user) = self.user.take() else {
            self.out.send(503, "Login with USER first").await?;
            return Ok(Flow::Continue);
        };
        if user == self.cfg.user && arg == self.cfg.password {
            self.logged_in = true;
            self.failed = 0;
            self.cwd = "/".into();
            self.out.send(230, "User logged in, proceed").await?;
            return Ok(Flow::Continue);
        }
        // RFC 2577 §4: slow down password guessing, and close the connection
        // after a few failures.
        tokio::time::sleep(self.cfg.failed_login_delay).await;
        self.failed += 1;
        if self.failed >= self.cfg.max_failed_logins {
            self.out
                .send(421, "Too many failed logins, closing control connection")
                .await?;
            return Ok(Flow::Close);
        }
        self.out.send(530, "Login incorrect").await?;
        Ok(Flow::Continue)
    }

    // ---- security (RFC 4217, RFC 2228) ------------------------------------

    async fn auth(&mut self, arg: &str) -> io::Result<Flow> {
        let Some(identity) = self.cfg.tls.clone() else {
            self.out.send(502, "AUTH not implemented").await?;
            return Ok(Flow::Continue);
        };
        // RFC 4217 §4.1: the mechanism is "TLS"; §6: "TLS-C" is a synonym.
        if !matches!(arg.trim().to_ascii_uppercase().as_str(), "TLS" | "TLS-C") {
            // RFC 2228 §4: 504 "Command not implemented for that parameter".
            self.out.send(504, "Only AUTH TLS is supported").await?;
            return Ok(Flow::Continue);
        }
        if self.tls {
            self.out.send(503, "Already in TLS").await?;
            return Ok(Flow::Continue);
        }
        // §4.2: 234 is the reply to an AUTH TLS the server will honour.
        self.out.send(234, "AUTH TLS successful").await?;
        // §4.2: the user must log in again, and "all other transfer
        // parameters ... must be reset, almost as if a REIN command was
        // issued".
        if !self.cfg.faults.keeps_user_after_auth {
            self.user = None;
        }
        self.logged_in = false;
        self.cwd = "/".into();
        self.ascii = true;
        self.data = DataSetup::None;
        self.epsv_all = false;
        self.rest = 0;
        self.rename_from = None;
        self.pending.clear();
        // What the client sent behind AUTH TLS, before the handshake, is
        // not part of the protected session (the STARTTLS injection class):
        // it is discarded.
        let injected = std::mem::take(&mut self.input.buf);
        let buffered = if self.cfg.faults.executes_injected {
            Buffered::KeepInjected
        } else {
            Buffered::Discard
        };
        let (r, w) = tokio::io::split(tls::closed().into_inner());
        let r = std::mem::replace(&mut self.input.r, r);
        let w = std::mem::replace(&mut self.out, Replies::new(w)).into_inner();
        let plain = r.unsplit(w);
        // §10.1: a handshake that fails leaves the control connection in
        // an unknown state: the server drops it.
        let Some(stream) =
            tls::handshake(plain, injected, &identity, self.cfg.data_timeout, buffered).await
        else {
            return Ok(Flow::Close);
        };
        let (r, w) = tokio::io::split(stream.into_inner());
        self.input.r = r;
        self.out = Replies::new(w);
        self.tls = true;
        Ok(Flow::Continue)
    }

    async fn pbsz(&mut self, arg: &str) -> io::Result<()> {
        // RFC 4217 §9: "a PBSZ command MUST be preceded by a successful
        // security data exchange"; RFC 2228 §3 answers 503 otherwise.
        if !self.tls && !self.cfg.faults.ignores_pbsz_prot_order {
            return self.out.send(503, "PBSZ needs AUTH TLS first").await;
        }
        if arg.trim().parse::<u32>().is_err() {
            return self.out.send(501, "PBSZ needs a decimal integer").await;
        }
        // TLS is a streaming protection: the buffer size is 0 (§9), and a
        // server answers the size it will use (RFC 2228 §3, "PBSZ=").
        self.pbsz = true;
        self.out.send(200, "PBSZ=0").await
    }

    async fn prot(&mut self, arg: &str) -> io::Result<()> {
        // RFC 4217 §9: "the PROT command MUST be preceded by a PBSZ command".
        if !self.tls || (!self.pbsz && !self.cfg.faults.ignores_pbsz_prot_order) {
            return self
                .out
                .send(503, "PROT needs AUTH TLS and PBSZ first")
                .await;
        }
        match arg.trim().to_ascii_uppercase().as_str() {
            "P" => {
                self.private = true;
                self.out.send(200, "Data connections will be in TLS").await
            }
            "C" => {
                self.private = false;
                self.out.send(200, "Data connections will be clear").await
            }
            // §9: only Private and Clear are used with TLS; RFC 2228 §3:
            // 536 "Requested PROT level not supported by mechanism".
            "S" | "E" => {
                self.out
                    .send(536, "Only PROT P and PROT C are supported")
                    .await
            }
            _ => self.out.send(504, "Unknown protection level").await,
        }
    }

    // ---- informational ----------------------------------------------------

    async fn feat(&mut self) -> io::Result<()> {
        // RFC 2389 §3.2: one feature per line, each starting with a space.
        let mut features: Vec<String> = [
            "EPRT",
            "EPSV",
            "MDTM",
            "MLST type*;size*;modify*;perm*;",
            "REST STREAM",
            "SIZE",
            "TVFS",
            "UTF8",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // RFC 4217 §6: a server with FEAT "MUST advertise supported AUTH,
        // PBSZ, and PROT commands", AUTH with its TLS parameter.
        if self.cfg.tls.is_some() && !self.cfg.faults.feat_hides_tls {
            features.extend(["AUTH TLS", "PBSZ", "PROT"].map(String::from));
            features.sort();
        }
        self.out
            .send_lines(211, "Features:", &features, "End")
            .await
    }

    async fn help(&mut self) -> io::Result<()> {
        let lines: Vec<String> = KNOWN.chunks(8).map(|c| c.join(" ")).collect();
        self.out
            .send_lines(
                214,
                "The following commands are recognized:",
                &lines,
                "Help OK",
            )
            .await
    }

    async fn opts(&mut self, arg: &str) -> io::Result<()> {
        let upper = arg.trim().to_ascii_uppercase();
        if upper == "UTF8 ON" || upper == "UTF8" {
            self.out.send(200, "UTF8 mode is always on").await
        } else if upper.starts_with("MLST") {
            self.out.send(200, "MLST OPTS type;size;modify;perm;").await
        } else {
            self.out.send(501, "Option not understood").await
        }
    }

    // ---- parameters (RFC 959 §4.1.2) ----------------------------------------

    async fn type_(&mut self, arg: &str) -> io::Result<()> {
        let words: Vec<String> = arg
            .split_whitespace()
            .map(|w| w.to_ascii_uppercase())
            .collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        match words.as_slice() {
            ["A"] | ["A", "N"] => {
                self.ascii = true;
                self.out.send(200, "Type set to A").await
            }
            ["I"] | ["L", "8"] => {
                self.ascii = false;
                self.out.send(200, "Type set to I").await
            }
            ["A", _] | ["E"] | ["E", _] | ["L", _] => {
                self.out
                    .send(504, "Only TYPE A, A N, I and L 8 are implemented")
                    .await
            }
            _ => self.out.send(501, "Unknown TYPE").await,
        }
    }

    /// MODE and STRU: one supported value, some known but not implemented.
    async fn one_of(&mut self, arg: &str, ok: &str, known: &[&str], what: &str) -> io::Result<()> {
        let a = arg.trim().to_ascii_uppercase();
        if a == ok {
            self.out.send(200, &format!("{what} set to {ok}")).await
        } else if known.contains(&a.as_str()) {
            self.out
                .send(504, &format!("{what} {a} not implemented"))
                .await
        } else {
            self.out.send(501, &format!("Unknown {what}")).await
        }
    }

    async fn pasv(&mut self) -> io::Result<()> {
        if self.epsv_all {
            return self.out.send(501, "EPSV ALL was sent: use EPSV").await;
        }
        self.data = DataSetup::None;
        let listener = match data::listen(self.local.ip()).await {
            Ok(l) => l,
            Err(_) => return self.out.send(425, "Cannot open a passive port").await,
        };
        let Some(tuple) = listener.local_addr().ok().and_then(data::pasv_tuple) else {
            return self.out.send(425, "PASV is IPv4 only, use EPSV").await;
        };
        self.data = DataSetup::Passive(listener);
        self.out
            .send(227, &format!("Entering Passive Mode ({tuple})"))
            .await
    }

    async fn epsv(&mut self, arg: &str) -> io::Result<()> {
        let a = arg.trim().to_ascii_uppercase();
        let family_ok = match a.as_str() {
            "" => true,
            "ALL" => {
                self.epsv_all = true;
                return self.out.send(200, "EPSV ALL ok").await;
            }
            "1" => self.local.is_ipv4(),
            "2" => self.local.is_ipv6(),
            _ => false,
        };
        if !family_ok {
            let proto = if self.local.is_ipv4() { "1" } else { "2" };
            return self
                .out
                .send(
                    522,
                    &format!("Network protocol not supported, use ({proto})"),
                )
                .await;
        }
        self.data = DataSetup::None;
        let listener = match data::listen(self.local.ip()).await {
            Ok(l) => l,
            Err(_) => return self.out.send(425, "Cannot open a passive port").await,
        };
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        self.data = DataSetup::Passive(listener);
        self.out
            .send(229, &format!("Entering Extended Passive Mode (|||{port}|)"))
            .await
    }

    async fn port(&mut self, arg: &str) -> io::Result<()> {
        if self.epsv_all {
            return self.out.send(501, "EPSV ALL was sent: use EPSV").await;
        }
        let Some(to) = command::parse_port(arg) else {
            return self.out.send(501, "PORT needs h1,h2,h3,h4,p1,p2").await;
        };
        self.active(to).await
    }

    async fn eprt(&mut self, arg: &str) -> io::Result<()> {
        if self.epsv_all {
            return self.out.send(501, "EPSV ALL was sent: use EPSV").await;
        }
        match command::parse_eprt(arg) {
            Ok(to) => self.active(to).await,
            Err(true) => {
                self.out
                    .send(522, "Network protocol not supported, use (1,2)")
                    .await
            }
            Err(false) => self.out.send(501, "EPRT needs |proto|address|port|").await,
        }
    }

    async fn active(&mut self, to: SocketAddr) -> io::Result<()> {
        self.data = DataSetup::None;
        if let Err(why) = data::allowed_active(to, self.peer.ip()) {
            return self.out.send(504, why).await;
        }
        self.data = DataSetup::Active(to);
        self.out.send(200, "Active data connection set up").await
    }

    // ---- file system (RFC 959 §4.1.3, RFC 3659) -----------------------------

    fn vpath(&self, arg: &str) -> String {
        Tree::virtual_path(&self.cwd, arg)
    }

    async fn cwd(&mut self, arg: &str) -> io::Result<()> {
        let v = self.vpath(arg);
        match self.tree.existing(&v) {
            Ok(p) if p.is_dir() => {
                self.cwd = v;
                self.out.send(250, "Directory changed").await
            }
            _ => self.out.send(550, "No such directory").await,
        }
    }

    async fn mkd(&mut self, arg: &str) -> io::Result<()> {
        let v = self.vpath(arg);
        let made = match self.tree.creatable(&v) {
            Ok(p) => tokio::fs::create_dir(&p).await.is_ok(),
            Err(_) => false,
        };
        if made {
            self.out
                .send(257, &format!("{} created", quote_path(&v)))
                .await
        } else {
            self.out.send(550, "Cannot create that directory").await
        }
    }

    async fn rmd(&mut self, arg: &str) -> io::Result<()> {
        let v = self.vpath(arg);
        let removed = match self.tree.existing(&v) {
            Ok(p) if p.is_dir() && !self.tree.is_root(&p) => {
                tokio::fs::remove_dir(&p).await.is_ok()
            }
            _ => false,
        };
        if removed {
            self.out.send(250, "Directory removed").await
        } else {
            self.out.send(550, "No such empty directory").await
        }
    }

    async fn dele(&mut self, arg: &str) -> io::Result<()> {
        let v = self.vpath(arg);
        let removed = match self.tree.existing(&v) {
            Ok(p) if p.is_file() => tokio::fs::remove_file(&p).await.is_ok(),
            _ => false,
        };
        if removed {
            self.out.send(250, "File deleted").await
        } else {
            self.out.send(550, "No such file").await
        }
    }

    async fn rnfr(&mut self, arg: &str) -> io::Result<()> {
        let v = self.vpath(arg);
        match self.tree.existing(&v) {
            Ok(p) if !self.tree.is_root(&p) => {
                self.rename_from = Some(p);
                self.out.send(350, "Ready for RNTO").await
            }
            _ => self.out.send(550, "No such file or directory").await,
        }
    }

    async fn rnto(&mut self, arg: &str, from: Option<PathBuf>) -> io::Result<()> {
        let Some(from) = from else {
            return self.out.send(503, "RNFR must come first").await;
        };
        if arg.is_empty() {
            return self.out.send(501, "RNTO needs a name").await;
        }
        let v = self.vpath(arg);
        let ok = match self.tree.creatable(&v) {
            Ok(to) => tokio::fs::rename(&from, &to).await.is_ok(),
            Err(_) => false,
        };
        if ok {
            self.out.send(250, "Renamed").await
        } else {
            self.out.send(553, "Cannot rename to that name").await
        }
    }

    async fn size(&mut self, arg: &str) -> io::Result<()> {
        let v = self.vpath(arg);
        let file = match self.tree.existing(&v) {
            Ok(p) if p.is_file() => p,
            _ => return self.out.send(550, "No such file").await,
        };
        // RFC 3659 §4: the size is what a RETR in the current TYPE would send.
        let size = if self.ascii {
            match tokio::fs::metadata(&file).await {
                Ok(m) if m.len() <= self.cfg.max_upload => match tokio::fs::read(&file).await {
                    Ok(bytes) => Some(ascii::wire_len(&bytes)),
                    Err(_) => None,
                },
                _ => None,
            }
        } else {
            tokio::fs::metadata(&file).await.ok().map(|m| m.len())
        };
        match size {
            Some(n) => self.out.send(213, &n.to_string()).await,
            None => self.out.send(550, "Size not available").await,
        }
    }

    async fn mdtm(&mut self, arg: &str) -> io::Result<()> {
        let v = self.vpath(arg);
        match self.tree.existing(&v) {
            Ok(p) if p.is_file() => match std::fs::metadata(&p) {
                Ok(m) => self.out.send(213, &tree::timeval(&m)).await,
                Err(_) => self.out.send(550, "No such file").await,
            },
            _ => self.out.send(550, "No such file").await,
        }
    }

    async fn mlst(&mut self, arg: &str) -> io::Result<()> {
        let v = self.vpath(arg);
        match self.tree.existing(&v).and_then(|p| std::fs::metadata(&p)) {
            Ok(m) => {
                let facts = tree::mlsx_facts(&v, &m, None);
                self.out
                    .send_lines(250, &format!("Listing {v}"), &[facts], "End")
                    .await
            }
            Err(_) => self.out.send(550, "No such file or directory").await,
        }
    }

    // ---- transfers ----------------------------------------------------------

    async fn listing(&mut self, verb: &str, arg: &str) -> io::Result<Flow> {
        // `LIST -la` and similar: clients pass ls options; they are not paths.
        let path_arg = if verb != "MLSD" && arg.starts_with('-') {
            arg.split_once(' ').map(|(_, p)| p.trim()).unwrap_or("")
        } else {
            arg.trim()
        };
        let v = self.vpath(path_arg);
        let Ok(real) = self.tree.existing(&v) else {
            self.out.send(550, "No such file or directory").await?;
            return Ok(Flow::Continue);
        };
        let mut lines = Vec::new();
        if real.is_dir() {
            for (name, meta) in self.tree.entries(&real).unwrap_or_default() {
                lines.push(match verb {
                    "LIST" => tree::list_line(&name, &meta),
                    "NLST" => name,
                    _ => tree::mlsx_facts(&name, &meta, None),
                });
            }
        } else if verb == "MLSD" {
            // RFC 3659 §7.2.1: MLSD of something that is not a directory is 501.
            self.out.send(501, "Not a directory").await?;
            return Ok(Flow::Continue);
        } else {
            let name = v.rsplit('/').next().unwrap_or_default().to_string();
            let meta = std::fs::metadata(&real)?;
            lines.push(if verb == "LIST" {
                tree::list_line(&name, &meta)
            } else {
                name
            });
        }
        let mut body = Vec::new();
        for l in lines {
            body.extend_from_slice(l.as_bytes());
            body.extend_from_slice(b"\r\n");
        }
        let what = format!("ASCII mode data connection for {verb}");
        self.transfer_out(&what, Source::Bytes(body)).await
    }

    async fn retr(&mut self, arg: &str) -> io::Result<Flow> {
        let v = self.vpath(arg);
        let file = match self.tree.existing(&v) {
            Ok(p) if p.is_file() => p,
            _ => {
                self.out.send(550, "No such file").await?;
                return Ok(Flow::Continue);
            }
        };
        let mut f = match File::open(&file).await {
            Ok(f) => f,
            Err(_) => {
                self.out.send(550, "Cannot read that file").await?;
                return Ok(Flow::Continue);
            }
        };
        let rest = std::mem::take(&mut self.rest);
        if rest > 0 && f.seek(SeekFrom::Start(rest)).await.is_err() {
            self.out.send(554, "Invalid REST offset").await?;
            return Ok(Flow::Continue);
        }
        let mode = if self.ascii { "ASCII" } else { "BINARY" };
        let what = format!("{mode} mode data connection for {v}");
        self.transfer_out(&what, Source::File(f)).await
    }

    /// STOU (RFC 959 §4.1.3): STOR into a name not in use in the current
    /// directory, named in the preliminary reply as RFC 1123 §4.1.2.9
    /// defines it ("150 FILE: pppp").
    async fn stou(&mut self) -> io::Result<Flow> {
        for n in 0..1000u32 {
            let name = format!("stou.{}.{n}", std::process::id());
            let v = self.vpath(&name);
            if matches!(self.tree.creatable(&v), Ok(p) if !p.exists()) {
                return self.stor(&name, false, true).await;
            }
        }
        self.out.send(452, "No unique file name available").await?;
        Ok(Flow::Continue)
    }

    /// STOR, APPE, and STOU's STOR into its `unique` name.
    async fn stor(&mut self, arg: &str, append: bool, unique: bool) -> io::Result<Flow> {
        let v = self.vpath(arg);
        let target = match self.tree.creatable(&v) {
            Ok(p) if !p.is_dir() => p,
            _ => {
                self.out.send(553, "File name not allowed").await?;
                return Ok(Flow::Continue);
            }
        };
        let rest = std::mem::take(&mut self.rest);
        // The data connection first: a 425 must leave the file untouched.
        let Some((stream, already_open)) = self.connect_data().await? else {
            return Ok(Flow::Continue);
        };
        let mut opts = tokio::fs::OpenOptions::new();
        opts.write(true).create(true);
        if append {
            opts.append(true);
        } else if rest == 0 {
            opts.truncate(true);
        }
        let mut f = match opts.open(&target).await {
            Ok(f) => f,
            Err(_) => {
                self.out.send(550, "Cannot write that file").await?;
                return Ok(Flow::Continue);
            }
        };
        if rest > 0
            && !append
            && (f.set_len(rest).await.is_err() || f.seek(SeekFrom::Start(rest)).await.is_err())
        {
            self.out.send(554, "Invalid REST offset").await?;
            return Ok(Flow::Continue);
        }
        if unique {
            let code = if already_open { 125 } else { 150 };
            self.out.send(code, &format!("FILE: {arg}")).await?
        } else {
            self.preliminary(already_open, &format!("data connection for {v}"))
                .await?
        }
        let Some(mut stream) = self.protect(stream).await? else {
            return Ok(Flow::Continue);
        };
        let (ascii, max, idle) = (self.ascii, self.cfg.max_upload, self.cfg.idle);
        let outcome = {
            let work = receive(&mut stream, &mut f, ascii, max, idle);
            self.watch(work).await?
        };
        drop(stream);
        if matches!(outcome, Transfer::TooLarge) {
            let _ = tokio::fs::remove_file(&target).await;
        }
        self.finish(outcome).await
    }

    /// Opens the prepared data connection; `None` after replying 425.
    async fn connect_data(&mut self) -> io::Result<Option<(Box<dyn Io>, bool)>> {
        let setup = std::mem::replace(&mut self.data, DataSetup::None);
        if matches!(setup, DataSetup::None) {
            self.out
                .send(425, "Use PORT, EPRT, PASV or EPSV first")
                .await?;
            return Ok(None);
        }
        match setup
            .open((self.local, self.peer), self.cfg.data_timeout)
            .await
        {
            Ok((s, open)) => Ok(Some((Box::new(s), open))),
            Err(e) => {
                self.out
                    .send(425, &format!("Can't open data connection: {e}"))
                    .await?;
                Ok(None)
            }
        }
    }

    /// The preliminary reply of a transfer (RFC 959 §4.2.2): 125 "Data
    /// connection already open; transfer starting", or 150 "File status
    /// okay; about to open data connection".
    async fn preliminary(&mut self, already_open: bool, what: &str) -> io::Result<()> {
        if already_open {
            self.out
                .send(125, "Data connection already open; transfer starting")
                .await
        } else {
            self.out.send(150, &format!("Opening {what}")).await
        }
    }

    /// After the preliminary reply: under PROT P, the TLS handshake on the
    /// data connection (RFC 4217 §9: "a TLS negotiation must take place on
    /// the data connection ... prior to any data being transmitted"), the
    /// FTP server being the TLS server (§7). `None` after replying 522, the
    /// reply §10.2 gives for a data handshake that failed.
    async fn protect(&mut self, stream: Box<dyn Io>) -> io::Result<Option<Box<dyn Io>>> {
        let identity = match &self.cfg.tls {
            Some(id) if self.private && !self.cfg.faults.clear_data_after_prot_p => id.clone(),
            _ => return Ok(Some(stream)),
        };
        match identity.accept(stream, self.cfg.data_timeout).await {
            Ok(tls) => Ok(Some(Box::new(tls))),
            Err(e) => {
                self.out
                    .send(522, &format!("TLS on the data connection failed: {e}"))
                    .await?;
                Ok(None)
            }
        }
    }

    async fn transfer_out(&mut self, what: &str, source: Source) -> io::Result<Flow> {
        let Some((stream, already_open)) = self.connect_data().await? else {
            return Ok(Flow::Continue);
        };
        self.preliminary(already_open, what).await?;
        let Some(mut stream) = self.protect(stream).await? else {
            return Ok(Flow::Continue);
        };
        let (ascii, idle) = (self.ascii, self.cfg.idle);
        let outcome = {
            let work = send(&mut stream, source, ascii, idle);
            self.watch(work).await?
        };
        drop(stream);
        self.finish(outcome).await
    }

    /// Runs a transfer while reading the control connection: ABOR aborts it
    /// (RFC 959 §4.1.3), other commands wait until it is over.
    async fn watch<F: std::future::Future<Output = Transfer>>(
        &mut self,
        work: F,
    ) -> io::Result<Transfer> {
        tokio::pin!(work);
        loop {
            tokio::select! {
                t = &mut work => return Ok(t),
                input = self.input.line(), if self.pending.len() < MAX_PENDING => {
                    match input? {
                        Input::Line(l) if command::parse(&l).is_some_and(|c| c.verb == "ABOR") => {
                            return Ok(Transfer::Aborted);
                        }
                        Input::Line(l) => self.pending.push_back(l),
                        Input::TooLong | Input::Eof => return Ok(Transfer::Aborted),
                    }
                }
            }
        }
    }

    async fn finish(&mut self, outcome: Transfer) -> io::Result<Flow> {
        match outcome {
            Transfer::Done => {
                self.out
                    .send(226, "Transfer complete, closing data connection")
                    .await?
            }
            // RFC 959 §4.1.3, ABOR of a command still in progress: the data
            // connection is closed (it was dropped), 426, then 226.
            Transfer::Aborted => {
                if !self.cfg.faults.abor_without_426 {
                    self.out
                        .send(426, "Connection closed; transfer aborted")
                        .await?;
                }
                self.out.send(226, "ABOR command successful").await?
            }
            Transfer::DataFailed(e) => {
                self.out
                    .send(426, &format!("Connection closed; transfer aborted: {e}"))
                    .await?
            }
            // RFC 959 §4.2.1: 452 "Requested action not taken. Insufficient
            // storage space in system."
            Transfer::LocalFailed(e) if e.kind() == io::ErrorKind::StorageFull => {
                self.out
                    .send(452, "Insufficient storage space in system")
                    .await?
            }
            Transfer::LocalFailed(e) => {
                self.out
                    .send(451, &format!("Local error in processing: {e}"))
                    .await?
            }
            Transfer::TooLarge => self.out.send(552, "File too large for this server").await?,
        }
        Ok(Flow::Continue)
    }
}

enum Source {
    File(File),
    Bytes(Vec<u8>),
}

/// A data connection on which nothing moves for `idle` is given up.
async fn bounded<T>(
    idle: Duration,
    io: impl std::future::Future<Output = io::Result<T>>,
) -> io::Result<T> {
    tokio::time::timeout(idle, io).await.unwrap_or_else(|_| {
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "data connection idle",
        ))
    })
}

async fn send(
    stream: &mut (impl AsyncWrite + Unpin),
    source: Source,
    ascii: bool,
    idle: Duration,
) -> Transfer {
    let mut prev_cr = false;
    match source {
        Source::Bytes(b) => {
            if let Err(e) = bounded(idle, stream.write_all(&b)).await {
                return Transfer::DataFailed(e);
            }
        }
        Source::File(mut f) => {
            let mut buf = vec![0u8; CHUNK];
            loop {
                let n = match f.read(&mut buf).await {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) => return Transfer::LocalFailed(e),
                };
                let r = if ascii {
                    let wire = ascii::to_wire(&buf[..n], &mut prev_cr);
                    bounded(idle, stream.write_all(&wire)).await
                } else {
                    bounded(idle, stream.write_all(&buf[..n])).await
                };
                if let Err(e) = r {
                    return Transfer::DataFailed(e);
                }
            }
        }
    }
    // The end of the data is the close of the connection (RFC 959 §3.4.1,
    // stream mode); the FIN goes out before the 226.
    match bounded(idle, stream.shutdown()).await {
        Ok(()) => Transfer::Done,
        Err(e) => Transfer::DataFailed(e),
    }
}

async fn receive(
    stream: &mut (impl AsyncRead + Unpin),
    f: &mut File,
    ascii: bool,
    max: u64,
    idle: Duration,
) -> Transfer {
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    let mut pending_cr = false;
    loop {
        let n = match bounded(idle, stream.read(&mut buf)).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => return Transfer::DataFailed(e),
        };
        total += n as u64;
        if total > max {
            return Transfer::TooLarge;
        }
        let r = if ascii {
            f.write_all(&ascii::from_wire(&buf[..n], &mut pending_cr))
                .await
        } else {
            f.write_all(&buf[..n]).await
        };
        if let Err(e) = r {
            return Transfer::LocalFailed(e);
        }
    }
    if pending_cr {
        if let Err(e) = f.write_all(b"\r").await {
            return Transfer::LocalFailed(e);
        }
    }
    match f.flush().await {
        Ok(()) => Transfer::Done,
        Err(e) => Transfer::LocalFailed(e),
    }
}

/// Every verb this server knows (for HELP and the 502/530 decision).
const KNOWN: &[&str] = &[
    "USER", "PASS", "ACCT", "QUIT", "NOOP", "FEAT", "HELP", "SYST", "OPTS", "PWD", "XPWD", "CWD",
    "XCWD", "CDUP", "XCUP", "TYPE", "MODE", "STRU", "PASV", "EPSV", "PORT", "EPRT", "REST", "ABOR",
    "MKD", "XMKD", "RMD", "XRMD", "DELE", "RNFR", "RNTO", "SIZE", "MDTM", "MLST", "MLSD", "LIST",
    "NLST", "RETR", "STOR", "APPE", "STOU", "AUTH", "PBSZ", "PROT",
];

const NEEDS_ARG: &[&str] = &[
    "MKD", "XMKD", "RMD", "XRMD", "DELE", "RNFR", "SIZE", "MDTM", "RETR", "STOR", "APPE",
];

#[cfg(test)]
mod tests {
    #[test]
    fn strips_telnet_commands() {
        assert_eq!(super::strip_telnet(b"\xff\xf4\xff\xf2ABOR"), b"ABOR");
        assert_eq!(super::strip_telnet(b"a\xff\xffb\xff\xfb\x01c"), b"a\xffbc");
    }
}
