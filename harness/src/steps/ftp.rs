//! FTP steps (RFC 959, 2389, 2428, 3659, 2577): raw control-connection steps
//! through [`FtpReader`], data-connection steps in passive and active mode,
//! and checks on what came over the data connection. The steps that drive a
//! real client (suppaftp) are in `ftp_client`.
//!
//! Everything the scenario uploads or creates is registered for removal
//! after the scenario (a fresh session deletes it), so a run leaves the
//! target as it found it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use cucumber::{given, then, when};
use tokio::net::TcpListener;

use super::line::{check_status, command, last_reply, next_reply};
use super::text::payload;
use super::{Failure, StepResult, World};
use crate::notation::escape_short;
use crate::step;
use crate::transcript::Transcript;
use crate::wire::ftp::data::{self, DataChannel};
use crate::wire::ftp::{self as wire, FtpReader};
use crate::wire::{Conn, Reply};

/// The transcript name of the control connection.
const CONTROL: &str = "ftp";

#[derive(Default)]
pub struct FtpState {
    /// The data connection prepared by PASV/EPSV/PORT/EPRT.
    pub data: Option<DataChannel>,
    /// What the last transfer brought over the data connection.
    pub received: Option<Vec<u8>>,
    /// The directory the login put the client in (from PWD).
    pub home: Option<String>,
    /// A listener at a third party's address (RFC 2577 bounce check).
    pub third_party: Option<TcpListener>,
    /// Failed logins made, and whether the server then closed the connection.
    pub failed_logins: Option<(usize, bool)>,
    /// The address the last 227 reply named.
    pub pasv_addr: Option<SocketAddr>,
    /// The reply that refused the last transfer command (no data came).
    pub refused: Option<String>,
    /// The preliminary reply (125/150) of the last transfer.
    pub preliminary: Option<String>,
    /// After PROT P (RFC 4217 §9): the TLS client the data connections
    /// start TLS with. The control connection's own client, so that its
    /// session is resumed on them, as servers that require session reuse
    /// (vsftpd's `require_ssl_reuse`) insist.
    pub protected: Option<crate::wire::tls::Client>,
}

// ---- sessions -------------------------------------------------------------

/// The `[ftp]` profile values.
pub struct Account {
    pub address: SocketAddr,
    pub user: String,
    pub password: String,
}

pub fn account(w: &World) -> Result<Account, Failure> {
    Ok(Account {
        address: super::raw::address(w, "${ftp.address}")?,
        user: w.expand("${ftp.user}")?,
        password: w.expand("${ftp.password}")?,
    })
}

async fn connect(w: &mut World) -> Result<(), Failure> {
    super::raw::open_session(w, "", CONTROL, "${ftp.address}", Arc::new(FtpReader)).await
}

/// Reads the greeting: 220, possibly after 120 "ready in nnn minutes"
/// (RFC 959 §5.4, connection establishment: 120 → 220, 220, 421).
async fn greeting(w: &mut World) -> Result<Reply, Failure> {
    let mut reply = next_reply(w, "").await?;
    if reply.status == "120" {
        reply = next_reply(w, "").await?;
    }
    Ok(reply)
}

async fn greeted(w: &mut World) -> StepResult {
    connect(w).await?;
    let reply = greeting(w).await?;
    check_status(&reply, &["220".into()], "as the greeting")?;
    secure(w).await?;
    // The greeting stays the session's last reply.
    if let Some(s) = w.tcp.get_mut("") {
        s.last_reply = Some(reply);
        s.sent.clear();
    }
    Ok(())
}

/// When the profile gives `[ftp]` TLS, the client a TLS policy makes:
/// with `tls = "starttls"`, AUTH TLS (234, then the handshake, RFC 4217
/// §4) before USER; on TLS (either mode), PBSZ 0 and PROT P (§8, §9) so
/// the data connections are protected too. A server that refuses any of
/// it contradicts the profile: a configuration error, not a failure.
async fn secure(w: &mut World) -> StepResult {
    let mode = super::tls::mode(w, "ftp");
    if mode == crate::wire::tls::Mode::None {
        return Ok(());
    }
    if mode == crate::wire::tls::Mode::StartTls {
        auth_tls(w).await?;
    }
    protect(w).await
}

/// AUTH TLS answered 234, then the handshake (RFC 4217 §4.2). Any other
/// answer contradicts the profile's `tls = "starttls"`: a configuration
/// error.
async fn auth_tls(w: &mut World) -> StepResult {
    let reply = command(w, "", b"AUTH TLS").await?;
    if reply.status != "234" {
        return Err(Failure::harness(
            "the target profile sets [ftp] tls = \"starttls\", but the server did not answer AUTH TLS with 234 (RFC 4217 §4.2)",
        )
        .got(format!("\"{}\"", escape_short(reply.text().as_bytes(), 200))));
    }
    super::tls::start(w, "").await
}

/// PBSZ 0 then PROT P inside TLS (RFC 4217 §8, §9: PBSZ before PROT, 0
/// for a stream-mode TLS transfer); afterwards every data connection
/// starts TLS. Refusals are configuration errors: a server whose profile
/// says TLS and that refuses protected data cannot be tested over it.
async fn protect(w: &mut World) -> StepResult {
    for (line, what) in [
        ("PBSZ 0", "PBSZ 0 (RFC 4217 §8)"),
        ("PROT P", "PROT P (RFC 4217 §9)"),
    ] {
        let reply = command(w, "", line.as_bytes()).await?;
        if reply.status != "200" {
            return Err(Failure::harness(format!(
                "the target profile gives [ftp] TLS, but the server did not answer {what} with 200: protected data connections are not available"
            ))
            .got(format!("\"{}\"", escape_short(reply.text().as_bytes(), 200))));
        }
    }
    let client = super::tls::client(w, "ftp")?;
    w.state::<FtpState>().protected = Some(client);
    Ok(())
}

/// USER and PASS with the profile's account, then PWD to learn the login
/// directory.
async fn log_in(w: &mut World) -> StepResult {
    // Never the profile's password in plaintext when the profile says TLS.
    super::tls::guard_credentials(w, "")?;
    let user = w.expand("USER ${ftp.user}")?;
    let reply = command(w, "", user.as_bytes()).await?;
    // RFC 959 §5.4: USER → 230 (no password needed), 331, 332.
    if reply.status != "230" {
        check_status(&reply, &["331".into()], "to USER with the profile's user")?;
        let pass = w.expand("PASS ${ftp.password}")?;
        let reply = command(w, "", pass.as_bytes()).await?;
        check_status(
            &reply,
            &["230".into(), "202".into()],
            "to PASS with the profile's password (check [ftp] user and password)",
        )?;
    }
    let pwd = command(w, "", b"PWD").await?;
    check_status(&pwd, &["257".into()], "to PWD")?;
    let home = wire::parse_257(&pwd.text()).ok_or_else(|| {
        Failure::conformance("the 257 reply to PWD does not quote the directory")
            .expected("257 \"<directory>\" … (RFC 959 Appendix II)")
            .got(format!("\"{}\"", escape_short(pwd.text().as_bytes(), 200)))
    })?;
    w.state::<FtpState>().home = Some(home);
    Ok(())
}

/// Opens the FTP control connection and reads the greeting.
#[given(regex = r"^an FTP connection$")]
async fn ftp_connection(w: &mut World) -> StepResult {
    step!(w, {
        connect(w).await?;
        greeting(w).await.map(|_| ())
    })
}

/// Opens the control connection and checks the greeting is 220.
#[given(regex = r"^an FTP session that has been greeted$")]
async fn ftp_greeted(w: &mut World) -> StepResult {
    step!(w, greeted(w).await)
}

/// Greeted, then USER/PASS with the `[ftp]` user and password (230), then PWD
/// to learn the login directory.
#[given(regex = r"^an FTP session logged in as the profile's user$")]
async fn ftp_logged_in(w: &mut World) -> StepResult {
    step!(w, {
        greeted(w).await?;
        log_in(w).await
    })
}

/// USER/PASS with the `[ftp]` user and password on the open control
/// connection.
/// Example: `When the client logs in as the profile's user`
#[when(regex = r"^the client logs in as the profile's user$")]
async fn client_logs_in(w: &mut World) -> StepResult {
    step!(w, log_in(w).await)
}

// ---- data connection set-up -------------------------------------------------

fn control_addrs(w: &mut World) -> Result<(SocketAddr, SocketAddr), Failure> {
    let s = w.session("")?;
    Ok((s.conn.local, s.conn.peer))
}

/// Connects to the address a 227/229 reply named. A failure here is the
/// server's: it named an address where nothing accepts the connection.
async fn connect_passive(w: &mut World, addr: SocketAddr, reply: &Reply) -> StepResult {
    // A data connection replaces the one prepared before.
    w.state::<FtpState>().data = None;
    let lease = super::lease(
        &w.budget,
        Some(crate::protocol::Protocol::Ftp),
        data::NAME,
        &w.transcript,
        w.step_timeout,
    )
    .await?;
    match DataChannel::connect(addr, &w.transcript, w.step_timeout).await {
        Ok(d) => {
            let d = d.with_lease(lease);
            w.state::<FtpState>().data = Some(d);
            Ok(())
        }
        Err(e) => Err(Failure::conformance(format!(
            "the passive-mode data connection to {addr}, the address the server's reply named, failed: {e}"
        ))
        .expected(format!("a listening data port at {addr}"))
        .got(format!(
            "\"{}\" naming a port where the connection failed",
            escape_short(reply.text().as_bytes(), 200)
        ))),
    }
}

/// PASV: checks 227 and connects to the address it names.
#[when(regex = r"^the client enters passive mode$")]
async fn enters_passive(w: &mut World) -> StepResult {
    step!(w, {
        let reply = command(w, "", b"PASV").await?;
        check_status(&reply, &["227".into()], "to PASV")?;
        let addr = wire::parse_pasv(&reply.text()).ok_or_else(|| {
            Failure::conformance("the 227 reply does not carry an address h1,h2,h3,h4,p1,p2")
                .expected("227 Entering Passive Mode (h1,h2,h3,h4,p1,p2) (RFC 959 §4.1.2)")
                .got(format!(
                    "\"{}\"",
                    escape_short(reply.text().as_bytes(), 200)
                ))
        })?;
        w.state::<FtpState>().pasv_addr = Some(addr);
        connect_passive(w, addr, &reply).await
    })
}

/// The host in the 227 reply is the address the control connection went to.
#[then(regex = r"^the address in the 227 reply is the server's control address$")]
async fn pasv_is_control_address(w: &mut World) -> StepResult {
    step!(w, {
        let (_, peer) = control_addrs(w)?;
        let named = w
            .state::<FtpState>()
            .pasv_addr
            .ok_or_else(|| Failure::harness("no 227 reply was read in this scenario"))?;
        if named.ip() == peer.ip() {
            Ok(())
        } else {
            Err(Failure::conformance(
                "the 227 reply names another host than the one the client is connected to \
                 (a server behind NAT announcing its inside address, or a misconfigured pasv_address)",
            )
            .expected(peer.ip().to_string())
            .got(named.ip().to_string()))
        }
    })
}

/// EPSV: checks 229 and connects to the port it names at the control address.
#[when(regex = r"^the client enters extended passive mode$")]
async fn enters_epsv(w: &mut World) -> StepResult {
    step!(w, {
        let reply = command(w, "", b"EPSV").await?;
        not_implemented(&reply, "EPSV")?;
        check_status(&reply, &["229".into()], "to EPSV")?;
        let port = wire::parse_epsv(&reply.text()).ok_or_else(|| {
            Failure::conformance("the 229 reply does not carry a port as (|||port|)")
                .expected("229 Entering Extended Passive Mode (|||port|) (RFC 2428 §3)")
                .got(format!(
                    "\"{}\"",
                    escape_short(reply.text().as_bytes(), 200)
                ))
        })?;
        // RFC 2428 §3: the data connection goes to the control connection's
        // server address.
        let (_, peer) = control_addrs(w)?;
        connect_passive(w, SocketAddr::new(peer.ip(), port), &reply).await
    })
}

async fn active(w: &mut World, extended: bool) -> StepResult {
    let (local, peer) = control_addrs(w)?;
    let (channel, addr) = DataChannel::listen(local.ip(), peer.ip(), &w.transcript).await?;
    let line = if extended {
        format!("EPRT {}", data::eprt_argument(addr))
    } else {
        let arg = data::port_argument(addr)
            .ok_or_else(|| Failure::skip("PORT needs IPv4; the control connection is IPv6"))?;
        format!("PORT {arg}")
    };
    let reply = command(w, "", line.as_bytes()).await?;
    if extended {
        not_implemented(&reply, "EPRT")?;
    }
    check_status(&reply, &["200".into()], &format!("to \"{line}\""))?;
    w.state::<FtpState>().data = Some(channel);
    Ok(())
}

/// RFC 2428 is an extension: 500 or 502 to EPSV/EPRT skips the scenario.
fn not_implemented(reply: &Reply, verb: &str) -> StepResult {
    if matches!(reply.status.as_str(), "500" | "502") {
        return Err(Failure::skip(format!(
            "the server does not implement {verb} (it answered \"{}\"), an RFC 2428 extension",
            escape_short(reply.text().as_bytes(), 120)
        )));
    }
    Ok(())
}

/// Listens for a data connection and sends PORT (200 expected).
#[when(regex = r"^the client enters active mode$")]
async fn enters_active(w: &mut World) -> StepResult {
    step!(w, active(w, false).await)
}

/// Listens for a data connection and sends EPRT (200 expected).
#[when(regex = r"^the client enters extended active mode$")]
async fn enters_eprt(w: &mut World) -> StepResult {
    step!(w, active(w, true).await)
}

/// Ports a scenario holds bound, never listening (see [`port_to_nothing`]).
#[derive(Default)]
struct HeldPorts(Vec<tokio::net::TcpSocket>);

/// PORT for a port where nothing listens, then the command; for the 425
/// checks (425 to PORT itself counts too).
#[when(
    regex = r#"^the client sends "(.*)" after a PORT command for a port where nothing listens$"#
)]
async fn port_to_nothing(w: &mut World, text: String) -> StepResult {
    step!(w, {
        let line = payload(w, &text)?;
        let (local, _) = control_addrs(w)?;
        // A socket bound but never listening, held until the scenario
        // ends: a connection to its port is refused, and no other socket
        // (a concurrent scenario's data listener, another program) can take
        // the port meanwhile, as it could a port merely bound and released.
        let bind_err = |e: std::io::Error| Failure::harness(format!("bind a probe port: {e}"));
        let socket = if local.is_ipv4() {
            tokio::net::TcpSocket::new_v4()
        } else {
            tokio::net::TcpSocket::new_v6()
        }
        .map_err(bind_err)?;
        socket
            .bind(SocketAddr::new(local.ip(), 0))
            .map_err(bind_err)?;
        let addr = socket.local_addr().map_err(bind_err)?;
        w.state::<HeldPorts>().0.push(socket);
        let arg = data::port_argument(addr)
            .ok_or_else(|| Failure::skip("PORT needs IPv4; the control connection is IPv6"))?;
        let reply = command(w, "", format!("PORT {arg}").as_bytes()).await?;
        // Most servers accept the address (200) and fail on the transfer
        // command; some (pyftpdlib) connect at once and answer PORT itself
        // with 425. Either way the 425 is what the Then step checks.
        if reply.status == "425" {
            return Ok(());
        }
        check_status(&reply, &["200".into(), "425".into()], "to PORT")?;
        command(w, "", &line).await.map(|_| ())
    })
}

// ---- transfers ----------------------------------------------------------------

/// What the client does on the data connection of a transfer.
enum Exchange {
    /// Read everything until the server closes it (RETR, LIST…).
    Read,
    /// Send these bytes, then close (STOR, APPE).
    Send(Vec<u8>),
    /// Send these bytes, keep the data connection open and abort the
    /// transfer with ABOR (RFC 959 §4.1.3).
    Abort(Vec<u8>),
}

/// Sends a transfer command. On a preliminary 1xx reply the data connection
/// is opened and the exchange runs on it; then the completion reply is read.
/// Any other first reply is kept as the last reply (a 550, a 425…).
async fn transfer(w: &mut World, line: &[u8], exchange: Exchange) -> StepResult {
    let channel = w.state::<FtpState>().data.take();
    w.state::<FtpState>().received = None;
    w.state::<FtpState>().refused = None;
    let first = command(w, "", line).await?;
    let what = String::from_utf8_lossy(line).into_owned();
    if first.class() != Some('1') {
        // RFC 959 §5.4: a transfer command's first reply is a 1yz
        // preliminary one or an error (4yz, 5yz); 2yz or 3yz would say the
        // command completed without any data connection.
        if matches!(first.class(), Some('4' | '5')) {
            w.state::<FtpState>().refused = Some(first.text());
            return Ok(());
        }
        return Err(Failure::conformance(format!(
            "the first reply to \"{what}\" is {}, which RFC 959 §5.4 does not list for a transfer command",
            first.status
        ))
        .expected("125 or 150 before the data connection, or an error reply (4yz, 5yz) (RFC 959 §5.4)")
        .got(format!("\"{}\"", escape_short(first.text().as_bytes(), 300))));
    }
    // RFC 959 §5.4: RETR, STOR, LIST… → 125 or 150, then 226 or 250.
    check_status(
        &first,
        &["125".into(), "150".into()],
        "as the preliminary reply of a transfer",
    )?;
    w.state::<FtpState>().preliminary = Some(first.text());
    let channel = channel.ok_or_else(|| {
        Failure::harness("the scenario transfers data without setting up a data connection")
    })?;
    let mut conn = channel
        .open(&w.transcript, w.step_timeout)
        .await
        .map_err(|e| {
            Failure::conformance(format!(
                "the data connection did not open after \"{what}\": {e}"
            ))
            .expected("the server connects to the client's PORT/EPRT address (RFC 959 §3.2)")
        })?;
    // After PROT P the data connection is in TLS, the client its TLS client
    // whichever side connected (RFC 4217 §9, §10.2). A server that answers
    // 522 on the control connection refused it there.
    let protected = w.state::<FtpState>().protected.clone();
    if let Some(client) = &protected {
        if let Err(e) = conn.start_tls(client).await {
            drop(conn);
            // What the server said about it on the control connection, if
            // anything (522, RFC 4217 §10.2), makes the failure actionable.
            let s = w.session("")?;
            let said = match s.reader.read(&mut s.conn).await {
                Ok(r) => format!(
                    "; the server then replied \"{}\"",
                    escape_short(r.text().as_bytes(), 200)
                ),
                Err(_) => String::new(),
            };
            return Err(Failure::from(e).expected(format!(
                "a TLS handshake on the data connection of \"{what}\" after PROT P (RFC 4217 §9){said}"
            )));
        }
    }
    let received = match exchange {
        Exchange::Read => Some(read_all(&mut conn).await?),
        Exchange::Send(bytes) => {
            send_data(&mut conn, &bytes).await?;
            None
        }
        Exchange::Abort(bytes) => {
            conn.send(&bytes).await?;
            return abort_in_progress(w, conn, &what).await;
        }
    };
    drop(conn);
    w.state::<FtpState>().received = received;
    let s = w.session("")?;
    let expected = format!(
        "the completion reply (226 or 250, RFC 959 §5.4) after the data connection of \"{what}\" closed"
    );
    let reply = s.reader.read(&mut s.conn).await.map_err(|e| match e {
        crate::wire::WireError::Timeout {
            waited, partial, ..
        } if partial.is_empty() => Failure::conformance(format!(
            "the server sent no completion reply within {} after the transfer of \"{what}\"",
            humantime::format_duration(waited)
        ))
        .expected(expected.clone())
        .got("nothing on the control connection"),
        e => Failure::from(e).expected(expected.clone()),
    })?;
    let status = reply.status.clone();
    let text = reply.text();
    s.last_reply = Some(reply);
    // RFC 959 §5.4: after the preliminary reply, RETR, STOR, APPE, LIST and
    // NLST end with 226 or 250, or with one of the errors 425, 426, 451,
    // 551, 552 (and MLSD likewise, RFC 3659 §7.1); no other code.
    // Under PROT P, 522 too: the data connection's TLS was refused (RFC
    // 4217 §10.2).
    let tls_refused = protected.is_some() && status == "522";
    if !COMPLETIONS.contains(&status.as_str()) && !tls_refused {
        let listed = if protected.is_some() {
            format!(
                "one of {}, or 522 under PROT P (RFC 959 §5.4, RFC 4217 §10.2)",
                COMPLETIONS.join(", ")
            )
        } else {
            format!("one of {} (RFC 959 §5.4)", COMPLETIONS.join(", "))
        };
        return Err(Failure::conformance(format!(
            "the reply that ends the transfer of \"{what}\" is {status}, which RFC 959 §5.4 does not list after 125/150"
        ))
        .expected(listed)
        .got(format!("\"{}\"", escape_short(text.as_bytes(), 300))));
    }
    Ok(())
}

/// ABOR while the transfer runs (the client has not closed its side of the
/// data connection). RFC 959 §4.1.3: the client sends Telnet IP and Synch
/// first: `IAC IP IAC DM`, all in the stream (not the DM as TCP urgent data,
/// which a server reading both connections does not need, and which TLS
/// cannot carry); in the second case ("the FTP
/// service command is still in progress") the server "aborts the FTP
/// service in progress and closes the data connection, returning a 426
/// reply", then "sends a 226 reply".
async fn abort_in_progress(w: &mut World, mut data: Conn, what: &str) -> StepResult {
    let s = w.session("")?;
    s.conn.send(b"\xff\xf4\xff\xf2ABOR\r\n").await?;
    let expected = format!(
        "426 (the transfer of \"{what}\" aborted), then 226, to ABOR during the transfer (RFC 959 §4.1.3)"
    );
    let first = s
        .reader
        .read(&mut s.conn)
        .await
        .map_err(|e| Failure::from(e).expected(expected.clone()))?;
    let got =
        |r: &crate::wire::reply::Reply| format!("\"{}\"", escape_short(r.text().as_bytes(), 300));
    if first.status != "426" {
        return Err(Failure::conformance(format!(
            "ABOR during the transfer of \"{what}\" was answered {} first, not 426",
            first.status
        ))
        .expected(expected)
        .got(got(&first)));
    }
    let second = s
        .reader
        .read(&mut s.conn)
        .await
        .map_err(|e| Failure::from(e).expected(expected.clone()))?;
    if second.status != "226" {
        return Err(Failure::conformance(format!(
            "after its 426 the server answered ABOR with {}, not 226",
            second.status
        ))
        .expected(expected)
        .got(got(&second)));
    }
    s.last_reply = Some(second);
    // "the data connection must be closed": the server's side ends.
    data.wait_for_close(64 * 1024).await.map_err(|e| {
        Failure::conformance(format!(
            "the server did not close the data connection of \"{what}\" after ABOR: {e}"
        ))
        .expected("the data connection closed by the server (RFC 959 §4.1.3)")
    })?;
    Ok(())
}

/// The replies RFC 959 §5.4 lists after a transfer's 125/150.
const COMPLETIONS: [&str; 7] = ["226", "250", "425", "426", "451", "551", "552"];

async fn read_all(conn: &mut Conn) -> Result<Vec<u8>, Failure> {
    conn.read_to_close(
        data::MAX_DATA,
        "the end of the data (the server closes the data connection)",
    )
    .await
    .map_err(|e| {
        Failure::from(e).expected(
            "the data followed by the server closing the data connection (RFC 959 §3.4.1, stream mode)",
        )
    })
}

async fn send_data(conn: &mut Conn, bytes: &[u8]) -> StepResult {
    conn.send(bytes).await?;
    // The end of the file is the close of the connection (stream mode).
    conn.shutdown_write().await?;
    // Wait for the server's side to close too, so that its completion reply
    // refers to the whole file.
    let _ = conn.wait_for_close(1024).await;
    Ok(())
}

/// Sends a transfer command: 125/150, the data until the server closes the
/// data connection, then the completion reply.
#[when(regex = r#"^the client sends "(.*)" over the data connection$"#)]
async fn sends_over_data(w: &mut World, text: String) -> StepResult {
    step!(w, {
        let line = payload(w, &text)?;
        transfer(w, &line, Exchange::Read).await
    })
}

/// Registers commands that undo what the scenario created, run after it in a
/// fresh logged-in session.
pub fn register_cleanup(w: &mut World, commands: Vec<String>) -> StepResult {
    let acct = account(w)?;
    let tls = match super::tls::mode(w, "ftp") {
        crate::wire::tls::Mode::None => None,
        mode => Some((mode, super::tls::client(w, "ftp")?)),
    };
    let transcript = w.transcript.clone();
    let timeout = w.step_timeout;
    let ledger = w.budget.clone();
    w.cleanups.push(Box::pin(async move {
        let run = cleanup(acct, tls, ledger, transcript.clone(), timeout, commands);
        if let Err(e) = run.await {
            transcript.event("ftp cleanup", format!("cleanup failed: {e}"));
        }
    }));
    Ok(())
}

async fn cleanup(
    acct: Account,
    tls: Option<(crate::wire::tls::Mode, crate::wire::tls::Client)>,
    ledger: crate::target::budget::Ledger,
    transcript: Transcript,
    timeout: Duration,
    commands: Vec<String>,
) -> Result<(), Failure> {
    let mut conn = super::connect_within(
        &ledger,
        Some(crate::protocol::Protocol::Ftp),
        acct.address,
        "ftp cleanup",
        &transcript,
        timeout,
    )
    .await?;
    let frame = |line: String| {
        let mut v = line.into_bytes();
        v.extend_from_slice(b"\r\n");
        v
    };
    // The password only inside TLS when the profile gives [ftp] TLS.
    if let Some((mode, client)) = &tls {
        if *mode == crate::wire::tls::Mode::Implicit {
            conn.start_tls(client).await?;
        }
    }
    wire::read_reply(&mut conn).await?;
    if let Some((crate::wire::tls::Mode::StartTls, client)) = &tls {
        conn.send(&frame("AUTH TLS".into())).await?;
        let reply = wire::read_reply(&mut conn).await?;
        if reply.status != "234" {
            return Err(Failure::harness(format!(
                "AUTH TLS was answered \"{}\"",
                escape_short(reply.text().as_bytes(), 200)
            )));
        }
        conn.start_tls(client).await?;
    }
    for line in [
        format!("USER {}", acct.user),
        format!("PASS {}", acct.password),
    ]
    .into_iter()
    .chain(commands)
    .chain(["QUIT".to_string()])
    {
        conn.send(&frame(line)).await?;
        wire::read_reply(&mut conn).await?;
    }
    Ok(())
}

async fn store(w: &mut World, verb: &str, name: &str, bytes: Vec<u8>) -> StepResult {
    register_cleanup(w, vec![format!("DELE {name}")])?;
    let line = format!("{verb} {name}");
    transfer(w, line.as_bytes(), Exchange::Send(bytes)).await
}

/// STOR of NAME: some bytes over the data connection, then ABOR before the
/// client closes it; the replies must be 426 then 226 and the server must
/// close the data connection (RFC 959 §4.1.3). NAME is deleted after the
/// scenario.
#[when(regex = r#"^the client aborts an upload of "(.*)" in progress with ABOR$"#)]
async fn aborts_upload(w: &mut World, name: String) -> StepResult {
    step!(w, {
        register_cleanup(w, vec![format!("DELE {name}")])?;
        let line = format!("STOR {name}");
        transfer(w, line.as_bytes(), Exchange::Abort(vec![b'x'; 4096])).await
    })
}

/// STOR of NAME with these bytes over the data connection; NAME is deleted
/// after the scenario.
#[when(regex = r#"^the client stores "(.*)" with the bytes "(.*)"$"#)]
async fn stores_bytes(w: &mut World, name: String, text: String) -> StepResult {
    step!(w, {
        let bytes = payload(w, &text)?;
        store(w, "STOR", &name, bytes).await
    })
}

/// STOR of NAME with a fixture file's content; NAME is deleted after the
/// scenario.
#[when(regex = r#"^the client stores "(.*)" with the fixture file "(.*)"$"#)]
async fn stores_fixture(w: &mut World, name: String, fixture: String) -> StepResult {
    step!(w, {
        let bytes = fixture_bytes(&fixture)?.to_vec();
        store(w, "STOR", &name, bytes).await
    })
}

/// STOU with these bytes over the data connection. The preliminary reply
/// must name the file as RFC 1123 §4.1.2.9 defines it ("125 FILE: pppp" or
/// "150 FILE: pppp"); `${ftp.stou}` is that name, deleted after the
/// scenario. STOU is optional (RFC 1123 §4.1.4: MAY): 500 or 502 skips.
#[when(regex = r#"^the client stores the bytes "(.*)" with STOU$"#)]
async fn stores_unique(w: &mut World, text: String) -> StepResult {
    step!(w, {
        let bytes = payload(w, &text)?;
        w.state::<FtpState>().preliminary = None;
        transfer(w, b"STOU", Exchange::Send(bytes)).await?;
        let st = w.state::<FtpState>();
        if let Some(refused) = st.refused.clone() {
            if refused.starts_with("500") || refused.starts_with("502") {
                return Err(Failure::skip(format!(
                    "the server does not implement STOU (\"{}\"), an optional command",
                    escape_short(refused.as_bytes(), 120)
                )));
            }
            return Err(Failure::conformance("the server refused STOU")
                .expected("125 or 150 FILE: <name>, the data, then 226 or 250")
                .got(format!("\"{}\"", escape_short(refused.as_bytes(), 300))));
        }
        let first = st.preliminary.clone().unwrap_or_default();
        let name = first
            .get(4..)
            .map(str::trim_start)
            .filter(|t| t.len() > 5 && t[..5].eq_ignore_ascii_case("FILE:"))
            .map(|t| t[5..].trim().to_string())
            .filter(|n| !n.is_empty());
        let Some(name) = name else {
            return Err(Failure::conformance(
                "the preliminary reply to STOU does not name the file (RFC 1123 §4.1.2.9)",
            )
            .expected("\"125 FILE: <name>\" or \"150 FILE: <name>\"")
            .got(format!("\"{}\"", escape_short(first.as_bytes(), 300))));
        };
        register_cleanup(w, vec![format!("DELE {name}")])?;
        w.vars.insert("ftp.stou".into(), name);
        Ok(())
    })
}

/// APPE of these bytes to NAME over the data connection.
#[when(regex = r#"^the client appends the bytes "(.*)" to "(.*)"$"#)]
async fn appends_bytes(w: &mut World, text: String, name: String) -> StepResult {
    step!(w, {
        let bytes = payload(w, &text)?;
        store(w, "APPE", &name, bytes).await
    })
}

/// Removes the directory after the scenario (for what a scenario creates by
/// hand with MKD).
#[when(regex = r#"^the scenario will remove the directory "(.*)" afterwards$"#)]
async fn will_remove_dir(w: &mut World, name: String) -> StepResult {
    step!(w, {
        let name = String::from_utf8_lossy(&payload(w, &name)?).into_owned();
        register_cleanup(w, vec![format!("RMD {name}")])
    })
}

/// Removes the file after the scenario (for what a scenario creates by hand).
#[when(regex = r#"^the scenario will remove the file "(.*)" afterwards$"#)]
async fn will_remove_file(w: &mut World, name: String) -> StepResult {
    step!(w, register_cleanup(w, vec![format!("DELE {name}")]))
}

/// The transfer is refused with this reply, instead of or after the 1xx.
#[then(regex = r"^the transfer is refused with (\d{3})$")]
async fn transfer_refused(w: &mut World, code: String) -> StepResult {
    step!(w, {
        // RFC 959 §5.4 allows 425 either instead of the preliminary reply or
        // after it (125/150 → 425): both are accepted.
        let mut reply = last_reply(w, "")?;
        if reply.class() == Some('1') {
            let first = reply.text();
            reply = next_reply(w, "").await.map_err(|e| {
                let mut f = e.clone();
                if f.kind == super::FailureKind::Conformance {
                    f.message = format!(
                        "after \"{}\" the server sent nothing more: {}",
                        escape_short(first.as_bytes(), 120),
                        e.message
                    );
                }
                f.expected(format!(
                    "{code} (RFC 959 §5.4) once the data connection cannot be opened: a 1yz reply \"expect[s] another reply before proceeding\" (§4.2)"
                ))
            })?;
        }
        check_status(&reply, &[code], "when the data connection cannot be opened")
    })
}

// ---- what came over the data connection ------------------------------------------

pub fn fixture_bytes(name: &str) -> Result<&'static [u8], Failure> {
    crate::fixtures::ftp::file(name).ok_or_else(|| {
        Failure::harness(format!("\"{name}\" is not a file of the FTP fixture tree"))
    })
}

pub fn received(w: &mut World) -> Result<Vec<u8>, Failure> {
    let st = w.state::<FtpState>();
    if let Some(refusal) = &st.refused {
        return Err(
            Failure::conformance("the server refused the transfer, so no data came")
                .expected("125 or 150, the data, then 226 or 250 (RFC 959 §5.4)")
                .got(format!("\"{}\"", escape_short(refusal.as_bytes(), 300))),
        );
    }
    st.received.clone().ok_or_else(|| {
        Failure::harness("the scenario checks the data received, but no transfer brought any")
    })
}

/// LF → CRLF, a CR already before the LF kept (the NVT-ASCII form).
pub fn crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut prev = 0u8;
    for &b in bytes {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

pub fn compare_data(got: &[u8], expected: &[u8], what: &str) -> StepResult {
    if got == expected {
        return Ok(());
    }
    let at = super::text::first_difference(expected, got);
    Err(Failure::conformance(format!(
        "the data received differs from {what} (first difference at byte {at})"
    ))
    .expected(format!(
        "\"{}\" ({} bytes)",
        escape_short(expected, 200),
        expected.len()
    ))
    .got(format!(
        "\"{}\" ({} bytes)",
        escape_short(got, 200),
        got.len()
    )))
}

/// The data received is the fixture file, byte for byte.
#[then(regex = r#"^the data received is the fixture file "(.*)"$"#)]
async fn data_is_fixture(w: &mut World, name: String) -> StepResult {
    step!(w, {
        let expected = fixture_bytes(&name)?;
        compare_data(&received(w)?, expected, &format!("the fixture file {name}"))
    })
}

/// The data received is the fixture file with every line ending in CRLF (TYPE
/// A).
#[then(regex = r#"^the data received is the fixture file "(.*)" with CRLF line endings$"#)]
async fn data_is_fixture_crlf(w: &mut World, name: String) -> StepResult {
    step!(w, {
        let expected = crlf(fixture_bytes(&name)?);
        compare_data(
            &received(w)?,
            &expected,
            &format!("the fixture file {name} in NVT-ASCII (CRLF line endings)"),
        )
    })
}

/// The data received is exactly these bytes.
#[then(regex = r#"^the data received is exactly "(.*)"$"#)]
async fn data_is_exactly(w: &mut World, text: String) -> StepResult {
    step!(w, {
        let expected = payload(w, &text)?;
        compare_data(&received(w)?, &expected, "the expected bytes")
    })
}

fn listing_lines(data: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(data)
        .split('\n')
        .map(|l| l.trim_end_matches('\r').to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Whether a listing line (LIST, NLST or MLSD) is the entry for `name`.
fn names(line: &str, name: &str) -> bool {
    line == name || line.ends_with(&format!(" {name}")) || line.ends_with(&format!("/{name}"))
}

/// The LIST/NLST/MLSD data names this file.
#[then(regex = r#"^the listing names "(.*)"$"#)]
async fn listing_names(w: &mut World, name: String) -> StepResult {
    step!(w, {
        let data = received(w)?;
        let lines = listing_lines(&data);
        if lines.iter().any(|l| names(l, &name)) {
            Ok(())
        } else {
            Err(
                Failure::conformance(format!("the listing has no entry for \"{name}\""))
                    .expected(format!("a line for \"{name}\""))
                    .got(format!("\"{}\"", escape_short(&data, 400))),
            )
        }
    })
}

/// RFC 959 §4.1.3, NLST: "the server will return a stream of names of files
/// and no other information". The name stands alone on its line (or as the
/// last part of a pathname, "dir/name"): an `ls -l` line, with mode, owner,
/// size and date before the name, is not a name.
#[then(regex = r#"^the name list holds "(.*)" and no other information on its line$"#)]
async fn name_list_holds(w: &mut World, name: String) -> StepResult {
    step!(w, {
        let data = received(w)?;
        let lines = listing_lines(&data);
        let alone = |l: &String| {
            l == &name
                || l.strip_suffix(&format!("/{name}"))
                    .is_some_and(|dir| !dir.chars().any(char::is_whitespace))
        };
        if lines.iter().any(alone) {
            return Ok(());
        }
        let problem = match lines.iter().find(|l| names(l, &name)) {
            Some(l) => format!(
                "the NLST line for \"{name}\" carries more than the name: \"{}\" (RFC 959 §4.1.3: NLST returns \"names of files and no other information\")",
                escape_short(l.as_bytes(), 200)
            ),
            None => format!("the name list has no line \"{name}\""),
        };
        Err(Failure::conformance(problem)
            .expected(format!("a line that is the name \"{name}\" alone"))
            .got(format!("\"{}\"", escape_short(&data, 400))))
    })
}

/// Every line of the data received ends with CRLF.
#[then(regex = r#"^every line of the data received ends with CRLF$"#)]
async fn data_lines_crlf(w: &mut World) -> StepResult {
    step!(w, {
        let data = received(w)?;
        if data.is_empty() {
            return Err(Failure::conformance("the listing is empty")
                .expected("at least one line ending in CRLF")
                .got("no data"));
        }
        let ok = data.ends_with(b"\r\n")
            && data
                .iter()
                .enumerate()
                .all(|(i, b)| *b != b'\n' || (i > 0 && data[i - 1] == b'\r'));
        if ok {
            Ok(())
        } else {
            Err(Failure::conformance(
                "a line of the listing does not end with CRLF (RFC 959 §3.1.1.1: ASCII lines end in CRLF)",
            )
            .expected("every line ends with \\r\\n")
            .got(format!("\"{}\"", escape_short(&data, 400))))
        }
    })
}

/// The facts of the MLSD entry named `name`: `type=file;size=12; name`.
fn mlsd_facts(data: &[u8], name: &str) -> Option<Vec<(String, String)>> {
    listing_lines(data).into_iter().find_map(|line| {
        let (facts, n) = line.split_once(' ')?;
        if n != name {
            return None;
        }
        Some(
            facts
                .split(';')
                .filter(|f| !f.is_empty())
                .filter_map(|f| {
                    let (k, v) = f.split_once('=')?;
                    Some((k.to_ascii_lowercase(), v.to_string()))
                })
                .collect(),
        )
    })
}

/// The MLSD line for NAME has this type fact (and the fixture file's size),
/// RFC 3659 §7.
#[then(regex = r#"^the MLSD entry for "(.*)" has type "(.*)"(?: and the fixture file's size)?$"#)]
async fn mlsd_entry(w: &mut World, name: String, kind: String) -> StepResult {
    step!(w, {
        let data = received(w)?;
        let facts = mlsd_facts(&data, &name).ok_or_else(|| {
            Failure::conformance(format!(
                "no MLSD entry \"facts SP {name}\" (RFC 3659 §7.2: fact=value;… then a space and the name)"
            ))
            .expected(format!("a line \"type={kind};…; {name}\""))
            .got(format!("\"{}\"", escape_short(&data, 400)))
        })?;
        let get = |k: &str| facts.iter().find(|(f, _)| f == k).map(|(_, v)| v.clone());
        let got_type = get("type").unwrap_or_default();
        if !got_type.eq_ignore_ascii_case(&kind) {
            return Err(Failure::conformance(format!(
                "the MLSD entry for \"{name}\" has the wrong type fact"
            ))
            .expected(format!("type={kind}"))
            .got(format!("type={got_type}")));
        }
        if kind == "file" {
            if let Some(expected) = crate::fixtures::ftp::file(&name) {
                let size = get("size").unwrap_or_default();
                if size != expected.len().to_string() {
                    return Err(Failure::conformance(format!(
                        "the MLSD size fact of \"{name}\" is not the file's size (RFC 3659 §7.5.5)"
                    ))
                    .expected(format!("size={}", expected.len()))
                    .got(format!("size={size}")));
                }
            }
        }
        Ok(())
    })
}

// ---- control-connection checks --------------------------------------------------

/// SIZE answered 213 with the fixture file's size in octets (RFC 3659 §4).
#[then(regex = r#"^the server replies 213 with the size of the fixture file "(.*)"$"#)]
async fn size_reply(w: &mut World, name: String) -> StepResult {
    step!(w, {
        let expected = fixture_bytes(&name)?.len();
        check_size(w, expected, false, "the file's size in TYPE I")
    })
}

/// SIZE answered 213 with the number of octets the last transfer brought,
/// or refused with 550: RFC 3659 §4 defines the size as the octets a
/// transfer in the current TYPE would send, and lets a server that cannot
/// work that out (TYPE A) refuse.
#[then(regex = r"^the server replies 213 with the number of octets received, or 550$")]
async fn size_is_received(w: &mut World) -> StepResult {
    step!(w, {
        let expected = received(w)?.len();
        check_size(
            w,
            expected,
            true,
            "the number of octets a transfer in the current TYPE sends",
        )
    })
}

fn check_size(w: &mut World, expected: usize, may_refuse: bool, what: &str) -> StepResult {
    let reply = last_reply(w, "")?;
    if may_refuse && reply.status == "550" {
        return Ok(());
    }
    let codes = if may_refuse {
        vec!["213".into(), "550".into()]
    } else {
        vec!["213".into()]
    };
    check_status(&reply, &codes, "to SIZE")?;
    let got = reply.text().get(4..).unwrap_or_default().trim().to_string();
    if got == expected.to_string() {
        return Ok(());
    }
    Err(
        Failure::conformance(format!("SIZE does not report {what} (RFC 3659 §4)"))
            .expected(if may_refuse {
                format!("213 {expected}, or 550")
            } else {
                format!("213 {expected}")
            })
            .got(reply.text()),
    )
}

/// The last reply is 530 to a command before login; any other reply means
/// that the server lets it through without one (its choice, RFC 959
/// §4.1.1), and the scenario is skipped.
#[then(regex = r"^a server that needs a login for it replies 530$")]
async fn needs_login(w: &mut World) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        if reply.status == "530" {
            return Ok(());
        }
        let sent = escape_short(&w.session("")?.sent, 120);
        Err(Failure::skip(format!(
            "the server answers \"{sent}\" without a login ({}): it needs none for it",
            reply.status
        )))
    })
}

/// MDTM answered 213 with a time-val `YYYYMMDDHHMMSS[.sss]` (RFC 3659 §3).
#[then(regex = r"^the server replies 213 with a time-val$")]
async fn mdtm_reply(w: &mut World) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        check_status(&reply, &["213".into()], "to MDTM")?;
        let text = reply.text();
        let value = text.get(4..).unwrap_or_default().trim();
        let (main, frac) = value.split_once('.').unwrap_or((value, "0"));
        let ok = main.len() == 14
            && main.bytes().all(|b| b.is_ascii_digit())
            && !frac.is_empty()
            && frac.bytes().all(|b| b.is_ascii_digit())
            && plausible_time(main);
        if ok {
            Ok(())
        } else {
            Err(
                Failure::conformance("the MDTM reply is not a time-val (RFC 3659 §2.3)")
                    .expected("213 YYYYMMDDHHMMSS[.sss], in UTC")
                    .got(text),
            )
        }
    })
}

fn plausible_time(v: &str) -> bool {
    let n = |r: std::ops::Range<usize>| v[r].parse::<u32>().unwrap_or(99);
    (1..=12).contains(&n(4..6))
        && (1..=31).contains(&n(6..8))
        && n(8..10) < 24
        && n(10..12) < 60
        && n(12..14) < 61
}

/// The last reply is a multi-line reply as RFC 959 §4.2 shapes it: `NNN-`
/// first, `NNN ` last.
/// Example: `Then the reply is a multi-line reply in the RFC 959 format`
#[then(regex = r"^the reply is a multi-line reply in the RFC 959 format$")]
async fn multiline_format(w: &mut World) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        let first = reply
            .lines
            .first()
            .map(|l| l.bytes.clone())
            .unwrap_or_default();
        let ok = reply.lines.len() >= 2 && first.get(3) == Some(&b'-');
        if ok {
            Ok(())
        } else {
            Err(Failure::conformance(
                "expected a multi-line reply: \"NNN-\" on the first line, \"NNN \" on the last (RFC 959 §4.2)",
            )
            .expected("NNN-text … NNN text")
            .got(format!("\"{}\"", escape_short(reply.text().as_bytes(), 300))))
        }
    })
}

/// Every line of the last reply ends with CRLF.
#[then(regex = r"^every line of the reply ends with CRLF$")]
async fn reply_lines_crlf(w: &mut World) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        match reply.lines.iter().position(|l| l.end != crate::wire::Terminator::CrLf) {
            None => Ok(()),
            Some(i) => Err(Failure::conformance(
                "a reply line ends with a bare LF (RFC 959 §4.2: replies are Telnet lines ending in CRLF)",
            )
            .expected("\\r\\n after every line")
            .got(format!("line {} \"{}\" ended with \\n", i + 1, reply.lines[i].text()))),
        }
    })
}

/// The lines of the last multi-line reply between its first and last start
/// with a space (FEAT, RFC 2389 §3.2).
#[then(regex = r"^every line between the first and the last starts with a space$")]
async fn feature_lines(w: &mut World) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        // RFC 2389 §3.2: a server without FEAT answers 500 or 502; one
        // without extensions may answer the single line "211 no-features".
        if matches!(reply.status.as_str(), "500" | "502") {
            return Err(Failure::skip(format!(
                "the server does not implement FEAT (it answered {})",
                reply.status
            )));
        }
        let n = reply.lines.len();
        if n == 1 && reply.status == "211" {
            return Ok(());
        }
        let bad = reply
            .lines
            .iter()
            .enumerate()
            .find(|(i, l)| *i > 0 && *i + 1 < n && l.bytes.first() != Some(&b' '));
        match bad {
            None if n >= 2 => Ok(()),
            None => Err(Failure::conformance(
                "FEAT is answered with the 211 feature listing or \"211 no-features\" (RFC 2389 §3.2)",
            )
            .expected("211-… / features / 211 End")
            .got(reply.text())),
            Some((_, l)) => Err(Failure::conformance(
                "a feature line does not start with a space (RFC 2389 §3.2)",
            )
            .expected("\" FEATURE\"")
            .got(format!("\"{}\"", l.text()))),
        }
    })
}

async fn pwd(w: &mut World) -> Result<String, Failure> {
    let reply = command(w, "", b"PWD").await?;
    check_status(&reply, &["257".into()], "to PWD")?;
    wire::parse_257(&reply.text()).ok_or_else(|| {
        Failure::conformance("the 257 reply does not quote the directory")
            .expected("257 \"<directory>\" … (RFC 959 Appendix II)")
            .got(reply.text())
    })
}

fn home(w: &mut World) -> Result<String, Failure> {
    w.state::<FtpState>()
        .home
        .clone()
        .ok_or_else(|| Failure::harness("the scenario checks directories before logging in"))
}

fn join(home: &str, sub: &str) -> String {
    if sub.is_empty() {
        home.to_string()
    } else {
        format!("{}/{sub}", home.trim_end_matches('/'))
    }
}

async fn check_cwd(w: &mut World, sub: &str) -> StepResult {
    let want = join(&home(w)?, sub);
    let got = pwd(w).await?;
    if got == want {
        Ok(())
    } else {
        Err(
            Failure::conformance("PWD names another directory than expected")
                .expected(format!("257 \"{want}\""))
                .got(format!("257 \"{got}\"")),
        )
    }
}

/// The last reply is the 257 of an MKD and names this directory under the
/// login directory as an absolute path, quotes in it doubled (RFC 959
/// Appendix II: the "quote-doubling" convention).
#[then(regex = r#"^the 257 reply names "(.*)" under the login directory$"#)]
async fn mkd_reply_names(w: &mut World, sub: String) -> StepResult {
    step!(w, {
        let sub = String::from_utf8_lossy(&payload(w, &sub)?).into_owned();
        let want = join(&home(w)?, &sub);
        let reply = last_reply(w, "")?;
        check_status(&reply, &["257".into()], "to MKD")?;
        let text = reply.text();
        let shown = format!("\"{}\"", escape_short(text.as_bytes(), 200));
        let expected = format!(
            "257 \"{}\" … (RFC 959 Appendix II)",
            want.replace('"', "\"\"")
        );
        match wire::parse_257(&text) {
            Some(got) if got == want => Ok(()),
            Some(_) if want.contains('"') => Err(Failure::conformance(
                "the 257 reply does not name the directory created, its quotes doubled",
            )
            .expected(expected)
            .got(shown)),
            _ => Err(
                Failure::conformance("the 257 reply does not name the absolute path created")
                    .expected(expected)
                    .got(shown),
            ),
        }
    })
}

/// PWD names the login directory.
#[then(regex = r"^the current directory is the login directory$")]
async fn cwd_is_home(w: &mut World) -> StepResult {
    step!(w, check_cwd(w, "").await)
}

/// PWD names this directory under the login directory.
#[then(regex = r#"^the current directory is "(.*)" under the login directory$"#)]
async fn cwd_is_under_home(w: &mut World, sub: String) -> StepResult {
    step!(w, check_cwd(w, &sub).await)
}

// ---- security (RFC 2577) ------------------------------------------------------------

/// A third party's address on this machine: 127.0.0.2 when the client uses
/// 127.0.0.1 (all of 127/8 is loopback on Linux).
fn third_party_ip(local: IpAddr) -> Option<IpAddr> {
    match local {
        IpAddr::V4(ip) if ip.is_loopback() => {
            let [a, b, c, d] = ip.octets();
            Some(IpAddr::V4(Ipv4Addr::new(
                a,
                b,
                c,
                if d == 2 { 3 } else { 2 },
            )))
        }
        _ => None,
    }
}

/// Listens at 127.0.0.2, a third party's address, and sends PORT/EPRT for it
/// (RFC 2577 bounce).
#[when(regex = r"^the client sends (PORT|EPRT) for a listener at a third party's address$")]
async fn port_third_party(w: &mut World, verb: String) -> StepResult {
    step!(w, {
        let (local, _) = control_addrs(w)?;
        let ip = third_party_ip(local.ip()).ok_or_else(|| {
            Failure::skip("the bounce check needs a loopback IPv4 control connection (it listens at 127.0.0.2)")
        })?;
        let listener = TcpListener::bind(SocketAddr::new(ip, 0))
            .await
            .map_err(|e| Failure::harness(format!("listen at {ip}: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Failure::harness(e.to_string()))?;
        w.transcript.event(
            "third party",
            format!("listening on {addr}, standing in for another host"),
        );
        w.state::<FtpState>().third_party = Some(listener);
        let line = if verb == "PORT" {
            format!("PORT {}", data::port_argument(addr).unwrap_or_default())
        } else {
            format!("EPRT {}", data::eprt_argument(addr))
        };
        command(w, "", line.as_bytes()).await.map(|_| ())
    })
}

/// The PORT/EPRT is refused (4xx/5xx), and the next LIST does not connect to
/// the third party.
#[then(regex = r"^the server refuses the third party's address and never connects to it$")]
async fn refuses_third_party(w: &mut World) -> StepResult {
    step!(w, {
        let reply = last_reply(w, "")?;
        let sent = String::from_utf8_lossy(&w.session("")?.sent).into_owned();
        // RFC 2577 §3 names no reply code: any refusal (4xx or 5xx) will do;
        // vsftpd says 500, pyftpdlib 501, the reference server 504.
        if !matches!(reply.class(), Some('4') | Some('5')) {
            return Err(Failure::conformance(
                "the server accepted a data address that is not the client's (the FTP bounce attack, RFC 2577 §3)",
            )
            .expected(format!("a 4xx or 5xx refusal of \"{sent}\""))
            .got(format!("\"{}\"", escape_short(reply.text().as_bytes(), 200))));
        }
        // Even after refusing, the server must not connect there on the next
        // transfer command. (Some servers answer 150 and then wait for a data
        // connection that never comes; the reply after it is not needed.)
        command(w, "", b"LIST").await?;
        let listener = w
            .state::<FtpState>()
            .third_party
            .take()
            .ok_or_else(|| Failure::harness("no third-party listener"))?;
        match tokio::time::timeout(Duration::from_millis(500), listener.accept()).await {
            Ok(Ok((_, from))) => Err(Failure::conformance(
                "the server opened a data connection to the third party's address (RFC 2577 §3)",
            )
            .expected("no connection to the third party")
            .got(format!("a connection from {from}"))),
            _ => Ok(()),
        }
    })
}

/// Whether a FEAT reply lists `feature` (the first word of a feature line).
fn feat_lists(reply: &Reply, feature: &str) -> bool {
    reply.lines.iter().skip(1).any(|l| {
        l.text()
            .trim()
            .to_ascii_uppercase()
            .split_whitespace()
            .next()
            == Some(feature.to_ascii_uppercase().as_str())
    })
}

/// Skipped unless the command is answered with that reply; then FEAT must
/// list the feature (RFC 3659).
#[then(regex = r#"^a server that answers "(.*)" with (\d{3}) lists "(.*)" in its FEAT reply$"#)]
async fn implementer_lists(
    w: &mut World,
    text: String,
    status: String,
    feature: String,
) -> StepResult {
    step!(w, {
        let line = payload(w, &text)?;
        let reply = command(w, "", &line).await?;
        if reply.status != status {
            return Err(Failure::skip(format!(
                "the server does not implement {feature} (it answered \"{}\")",
                escape_short(reply.text().as_bytes(), 120)
            )));
        }
        let feat = command(w, "", b"FEAT").await?;
        if matches!(feat.status.as_str(), "500" | "502") {
            return Err(Failure::skip("the server does not implement FEAT"));
        }
        if feat.status == "211" && feat_lists(&feat, &feature) {
            Ok(())
        } else {
            Err(Failure::conformance(format!(
                "the server answers {feature} but its FEAT reply does not list it (RFC 3659)"
            ))
            .expected(format!("a feature line \" {feature}\" in the 211 reply"))
            .got(format!("\"{}\"", escape_short(feat.text().as_bytes(), 400))))
        }
    })
}

/// Skips the scenario unless FEAT lists the extension.
#[given(regex = r#"^the server announces "(.*)" in its FEAT reply$"#)]
async fn announces(w: &mut World, feature: String) -> StepResult {
    step!(w, {
        // RFC 2389 §3: the extensions a server has are listed in FEAT; a
        // scenario about an optional extension is skipped if it is absent.
        let reply = command(w, "", b"FEAT").await?;
        if reply.status != "211" {
            return Err(Failure::skip(format!(
                "the server does not answer FEAT with 211, so it announces no \"{feature}\""
            )));
        }
        if feat_lists(&reply, &feature) {
            Ok(())
        } else {
            Err(Failure::skip(format!(
                "the server does not list {feature} in FEAT (an optional extension)"
            )))
        }
    })
}

/// PORT or EPRT for a port number at the client's own address (RFC 2577
/// §3, privileged ports; RFC 2428 §3, refused after EPSV ALL). Nothing
/// listens there: the reply alone is judged.
#[when(regex = r"^the client sends (PORT|EPRT) for port (\d+) at its own address$")]
async fn port_to_own_port(w: &mut World, verb: String, port: u16) -> StepResult {
    step!(w, {
        let (local, _) = control_addrs(w)?;
        let to = SocketAddr::new(local.ip(), port);
        let line = if verb == "EPRT" {
            format!("EPRT {}", data::eprt_argument(to))
        } else {
            let arg = data::port_argument(to)
                .ok_or_else(|| Failure::skip("PORT needs IPv4; the control connection is IPv6"))?;
            format!("PORT {arg}")
        };
        command(w, "", line.as_bytes()).await.map(|_| ())
    })
}

/// USER/PASS with a wrong password N times, until 421 or a close.
#[when(regex = r"^the client fails to log in (\d+) times with a wrong password$")]
async fn fails_logins(w: &mut World, n: usize) -> StepResult {
    step!(w, {
        let user = w.expand("USER ${ftp.user}")?;
        let pass = w.expand("PASS ${ftp.password}")?;
        let wrong = format!("{pass}-wrong");
        let mut closed = false;
        let mut made = 0;
        for _ in 0..n {
            let r = match command(w, "", user.as_bytes()).await {
                Ok(r) => r,
                Err(_) => {
                    closed = true;
                    break;
                }
            };
            if r.status == "421" {
                closed = true;
                break;
            }
            made += 1;
            match command(w, "", wrong.as_bytes()).await {
                Ok(r) if r.status == "421" => {
                    closed = true;
                    break;
                }
                Ok(r) => check_status(&r, &["530".into()], "to PASS with a wrong password")?,
                Err(_) => {
                    closed = true;
                    break;
                }
            }
        }
        if !closed {
            // One more USER shows whether the server closed the connection
            // after the last failure (421 or EOF); it is not a login attempt.
            closed = match command(w, "", user.as_bytes()).await {
                Ok(r) => r.status == "421",
                Err(_) => true,
            };
        }
        w.state::<FtpState>().failed_logins = Some((made, closed));
        Ok(())
    })
}

/// After at most N failed logins the server closed the connection (RFC 2577
/// §5); one more USER shows whether it is open.
#[then(regex = r"^the server has closed the connection after at most (\d+) failed logins$")]
async fn closed_after_failures(w: &mut World, n: usize) -> StepResult {
    step!(w, {
        let (made, closed) = w
            .state::<FtpState>()
            .failed_logins
            .ok_or_else(|| Failure::harness("no failed logins were made"))?;
        if closed && made <= n {
            Ok(())
        } else {
            Err(Failure::conformance(
                "the server keeps accepting passwords after repeated failures (RFC 2577 §5: close the control connection after a small number of attempts, 3-5)",
            )
            .expected(format!("421 or a closed connection within {n} failed logins"))
            .got(format!("{made} failed logins, connection still open")))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_conversion_and_listing_names() {
        assert_eq!(crlf(b"a\nb\r\nc"), b"a\r\nb\r\nc");
        assert!(names(
            "-rw-r--r-- 1 ftp ftp 12 Jan 1 2024 hello.txt",
            "hello.txt"
        ));
        assert!(names("type=file;size=1; hello.txt", "hello.txt"));
        assert!(!names(
            "-rw-r--r-- 1 ftp ftp 12 Jan 1 2024 xhello.txt",
            "hello.txt"
        ));
        let facts = mlsd_facts(b"Type=file;Size=5; a b\r\n", "a b").unwrap();
        assert_eq!(facts[1], ("size".into(), "5".into()));
        assert!(plausible_time("20240229235960"));
        assert!(!plausible_time("20241329000000"));
    }
}

// ---- AUTH TLS, PBSZ, PROT (RFC 4217, RFC 2228) --------------------------------

/// Skips unless `[ftp] tls = "starttls"`; then a greeted session still in
/// plaintext (no AUTH TLS sent yet).
#[given(regex = r"^an FTP session on the cleartext connection$")]
async fn ftp_cleartext(w: &mut World) -> StepResult {
    step!(w, {
        super::tls::require_starttls(w, "ftp")?;
        connect(w).await?;
        let reply = greeting(w).await?;
        check_status(&reply, &["220".into()], "as the greeting")
    })
}

/// A greeted session in TLS (after AUTH TLS, or on the implicit-TLS
/// port) that has sent neither PBSZ nor PROT; skipped when the profile
/// gives `[ftp]` no TLS.
#[given(regex = r"^an FTP session in TLS that has sent neither PBSZ nor PROT$")]
async fn ftp_tls_unprotected(w: &mut World) -> StepResult {
    step!(w, {
        let mode = super::tls::mode(w, "ftp");
        if mode == crate::wire::tls::Mode::None {
            return Err(Failure::skip(
                "the target profile does not set [ftp] tls (see README, target profile)",
            ));
        }
        connect(w).await?;
        let reply = greeting(w).await?;
        check_status(&reply, &["220".into()], "as the greeting")?;
        if mode == crate::wire::tls::Mode::StartTls {
            auth_tls(w).await?;
        }
        Ok(())
    })
}

/// Skipped when the profile gives `[ftp]` no TLS; otherwise a session
/// logged in inside TLS with PBSZ 0 and PROT P accepted, so its data
/// connections start TLS (RFC 4217 §9).
#[given(regex = r"^an FTP session in TLS with protected data, logged in as the profile's user$")]
async fn ftp_tls_logged_in(w: &mut World) -> StepResult {
    step!(w, {
        if super::tls::mode(w, "ftp") == crate::wire::tls::Mode::None {
            return Err(Failure::skip(
                "the target profile does not set [ftp] tls (see README, target profile)",
            ));
        }
        greeted(w).await?;
        log_in(w).await
    })
}

/// FEAT, asked now, lists each of the quoted features (RFC 4217 §6: a
/// server with FEAT "MUST advertise supported AUTH, PBSZ, and PROT
/// commands"). A server without FEAT (500, 502) skips.
/// Example: `Then the FEAT reply lists "AUTH", "PBSZ" and "PROT"`
#[then(regex = r#"^the FEAT reply lists ((?:"[^"]+"(?:, | and )?)+)$"#)]
async fn feat_lists_all(w: &mut World, list: String) -> StepResult {
    step!(w, {
        let wanted: Vec<&str> = list.split('"').skip(1).step_by(2).collect();
        let feat = command(w, "", b"FEAT").await?;
        if matches!(feat.status.as_str(), "500" | "502") {
            return Err(Failure::skip(
                "the server does not implement FEAT (RFC 2389)",
            ));
        }
        check_status(&feat, &["211".into()], "to FEAT (RFC 2389 §3.2)")?;
        let missing: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|f| !feat_lists(&feat, f))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(Failure::conformance(format!(
            "the server answers AUTH TLS but its FEAT reply does not list {}",
            missing.join(", ")
        ))
        .expected(format!(
            "feature lines {} in the 211 reply (RFC 4217 §6)",
            wanted
                .iter()
                .map(|f| format!("\" {f}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .got(format!("\"{}\"", escape_short(feat.text().as_bytes(), 400))))
    })
}

/// Sends `AUTH TLS` and the command in one write (one segment). A refused
/// AUTH is fine; after its 234 the handshake (a server that takes the
/// pipelined plaintext as handshake data fails it: nothing runs inside
/// TLS); inside TLS nothing may arrive before the client's first command,
/// and NOOP must be answered by its own 200, not the injected command's
/// reply. (The step is `steps::tls`'s, which dispatches by protocol.)
pub(crate) async fn injection_not_executed(w: &mut World, injected: &str) -> StepResult {
    let bytes = format!("AUTH TLS\r\n{injected}\r\n");
    let s = w.session("")?;
    s.conn
        .send_as(bytes.as_bytes(), crate::wire::Segments::OneWrite)
        .await?;
    s.sent = b"AUTH TLS".to_vec();
    let reply = next_reply(w, "").await?;
    if reply.status != "234" {
        return Ok(());
    }
    if !super::tls::start_after_pipelined(w, CONTROL, "nothing ran inside TLS").await? {
        return Ok(());
    }
    super::tls::silent_until_asked(w, injected, "AUTH TLS").await?;
    let noop = command(w, "", b"NOOP").await?;
    if noop.status != "200" && noop.class() == Some('2') {
        return Err(Failure::conformance(format!(
            "the first reply inside TLS answers \"{injected}\", sent in plaintext behind AUTH TLS, not NOOP"
        ))
        .expected("200 to NOOP (RFC 959 §5.4), or a refusal")
        .got(format!("\"{}\"", escape_short(noop.text().as_bytes(), 300))));
    }
    Ok(())
}

/// USER with the profile's user in plaintext, then AUTH TLS and the
/// handshake, then PASS inside TLS: the PASS must not log in (RFC 4217
/// §4.2, the user identity is reset by AUTH). A server that refuses the
/// plaintext USER (vsftpd's force_local_logins_ssl answers 530 and closes)
/// has nothing to carry over: that passes.
/// Example: `Then a PASS inside TLS after a USER sent in plaintext does not log in`
#[then(regex = r"^a PASS inside TLS after a USER sent in plaintext does not log in$")]
async fn pass_after_plain_user(w: &mut World) -> StepResult {
    step!(w, {
        let user = w.expand("USER ${ftp.user}")?;
        let reply = command(w, "", user.as_bytes()).await?;
        if matches!(reply.class(), Some('4' | '5')) {
            w.transcript.event(
                CONTROL,
                "the server refused USER in plaintext: no identity to carry into TLS",
            );
            return Ok(());
        }
        auth_tls(w).await?;
        let pass = w.expand("PASS ${ftp.password}")?;
        let reply = command(w, "", pass.as_bytes()).await?;
        if matches!(reply.class(), Some('4' | '5')) {
            return Ok(());
        }
        Err(Failure::conformance(
            "PASS inside TLS was accepted for the USER sent before AUTH TLS: the server kept the user identity across AUTH",
        )
        .expected("a refusal (503 bad sequence, 530): AUTH resets the user identity (RFC 4217 §4.2)")
        .got(format!("\"{}\"", escape_short(reply.text().as_bytes(), 200))))
    })
}
