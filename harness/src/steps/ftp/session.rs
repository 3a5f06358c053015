//! FTP steps: sessions.

#[allow(unused_imports)]
use super::*;

/// The `[ftp]` profile values.
pub struct Account {
    pub address: SocketAddr,
    pub user: String,
    pub password: String,
}

pub fn account(w: &World) -> Result<Account, Failure> {
    Ok(Account {
        address: crate::steps::raw::address(w, "${ftp.address}")?,
        user: w.expand("${ftp.user}")?,
        password: w.expand("${ftp.password}")?,
    })
}

pub(crate) async fn connect(w: &mut World) -> Result<(), Failure> {
    crate::steps::raw::open_session(w, "", CONTROL, "${ftp.address}", Arc::new(FtpReader)).await
}

/// Reads the greeting: 220, possibly after 120 "ready in nnn minutes"
/// (RFC 959 §5.4, connection establishment: 120 → 220, 220, 421).
pub(crate) async fn greeting(w: &mut World) -> Result<Reply, Failure> {
    let mut reply = next_reply(w, "").await?;
    if reply.status == "120" {
        reply = next_reply(w, "").await?;
    }
    Ok(reply)
}

pub(crate) async fn greeted(w: &mut World) -> StepResult {
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
pub(crate) async fn secure(w: &mut World) -> StepResult {
    let mode = crate::steps::tls::mode(w, "ftp");
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
pub(crate) async fn auth_tls(w: &mut World) -> StepResult {
    let reply = command(w, "", b"AUTH TLS").await?;
    if reply.status != "234" {
        return Err(Failure::harness(
            "the target profile sets [ftp] tls = \"starttls\", but the server did not answer AUTH TLS with 234 (RFC 4217 §4.2)",
        )
        .got(format!("\"{}\"", escape_short(reply.text().as_bytes(), 200))));
    }
    crate::steps::tls::start(w, "").await
}

/// PBSZ 0 then PROT P inside TLS (RFC 4217 §8, §9: PBSZ before PROT, 0
/// for a stream-mode TLS transfer); afterwards every data connection
/// starts TLS. Refusals are configuration errors: a server whose profile
/// says TLS and that refuses protected data cannot be tested over it.
pub(crate) async fn protect(w: &mut World) -> StepResult {
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
    let client = crate::steps::tls::client(w, "ftp")?;
    w.state::<FtpState>().protected = Some(client);
    Ok(())
}

/// USER and PASS with the profile's account, then PWD to learn the login
/// directory.
pub(crate) async fn log_in(w: &mut World) -> StepResult {
    // Never the profile's password in plaintext when the profile says TLS.
    crate::steps::tls::guard_credentials(w, "")?;
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
pub(crate) async fn ftp_connection(w: &mut World) -> StepResult {
    step!(w, {
        connect(w).await?;
        greeting(w).await.map(|_| ())
    })
}

/// Opens the control connection and checks the greeting is 220.
#[given(regex = r"^an FTP session that has been greeted$")]
pub(crate) async fn ftp_greeted(w: &mut World) -> StepResult {
    step!(w, greeted(w).await)
}

/// Greeted, then USER/PASS with the `[ftp]` user and password (230), then PWD
/// to learn the login directory.
#[given(regex = r"^an FTP session logged in as the profile's user$")]
pub(crate) async fn ftp_logged_in(w: &mut World) -> StepResult {
    step!(w, {
        greeted(w).await?;
        log_in(w).await
    })
}

/// USER/PASS with the `[ftp]` user and password on the open control
/// connection.
/// Example: `When the client logs in as the profile's user`
#[when(regex = r"^the client logs in as the profile's user$")]
pub(crate) async fn client_logs_in(w: &mut World) -> StepResult {
    step!(w, log_in(w).await)
}
