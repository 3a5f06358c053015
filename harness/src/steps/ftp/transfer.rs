//! FTP steps: transfers.

#[allow(unused_imports)]
use super::*;

/// What the client does on the data connection of a transfer.
pub(crate) enum Exchange {
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
pub(crate) async fn transfer(w: &mut World, line: &[u8], exchange: Exchange) -> StepResult {
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
pub(crate) async fn abort_in_progress(w: &mut World, mut data: Conn, what: &str) -> StepResult {
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
pub(crate) const COMPLETIONS: [&str; 7] = ["226", "250", "425", "426", "451", "551", "552"];

pub(crate) async fn read_all(conn: &mut Conn) -> Result<Vec<u8>, Failure> {
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

pub(crate) async fn send_data(conn: &mut Conn, bytes: &[u8]) -> StepResult {
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
pub(crate) async fn sends_over_data(w: &mut World, text: String) -> StepResult {
    step!(w, {
        let line = payload(w, &text)?;
        transfer(w, &line, Exchange::Read).await
    })
}

/// Registers commands that undo what the scenario created, run after it in a
/// fresh logged-in session.
pub fn register_cleanup(w: &mut World, commands: Vec<String>) -> StepResult {
    let acct = account(w)?;
    let tls = match crate::steps::tls::mode(w, "ftp") {
        crate::wire::tls::Mode::None => None,
        mode => Some((mode, crate::steps::tls::client(w, "ftp")?)),
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

pub(crate) async fn cleanup(
    acct: Account,
    tls: Option<(crate::wire::tls::Mode, crate::wire::tls::Client)>,
    ledger: crate::target::budget::Ledger,
    transcript: Transcript,
    timeout: Duration,
    commands: Vec<String>,
) -> Result<(), Failure> {
    let mut conn = crate::steps::connect_within(
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

pub(crate) async fn store(w: &mut World, verb: &str, name: &str, bytes: Vec<u8>) -> StepResult {
    register_cleanup(w, vec![format!("DELE {name}")])?;
    let line = format!("{verb} {name}");
    transfer(w, line.as_bytes(), Exchange::Send(bytes)).await
}

/// STOR of NAME: some bytes over the data connection, then ABOR before the
/// client closes it; the replies must be 426 then 226 and the server must
/// close the data connection (RFC 959 §4.1.3). NAME is deleted after the
/// scenario.
#[when(regex = r#"^the client aborts an upload of "(.*)" in progress with ABOR$"#)]
pub(crate) async fn aborts_upload(w: &mut World, name: String) -> StepResult {
    step!(w, {
        register_cleanup(w, vec![format!("DELE {name}")])?;
        let line = format!("STOR {name}");
        transfer(w, line.as_bytes(), Exchange::Abort(vec![b'x'; 4096])).await
    })
}

/// STOR of NAME with these bytes over the data connection; NAME is deleted
/// after the scenario.
#[when(regex = r#"^the client stores "(.*)" with the bytes "(.*)"$"#)]
pub(crate) async fn stores_bytes(w: &mut World, name: String, text: String) -> StepResult {
    step!(w, {
        let bytes = payload(w, &text)?;
        store(w, "STOR", &name, bytes).await
    })
}

/// STOR of NAME with a fixture file's content; NAME is deleted after the
/// scenario.
#[when(regex = r#"^the client stores "(.*)" with the fixture file "(.*)"$"#)]
pub(crate) async fn stores_fixture(w: &mut World, name: String, fixture: String) -> StepResult {
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
pub(crate) async fn stores_unique(w: &mut World, text: String) -> StepResult {
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
pub(crate) async fn appends_bytes(w: &mut World, text: String, name: String) -> StepResult {
    step!(w, {
        let bytes = payload(w, &text)?;
        store(w, "APPE", &name, bytes).await
    })
}

/// Removes the directory after the scenario (for what a scenario creates by
/// hand with MKD).
#[when(regex = r#"^the scenario will remove the directory "(.*)" afterwards$"#)]
pub(crate) async fn will_remove_dir(w: &mut World, name: String) -> StepResult {
    step!(w, {
        let name = String::from_utf8_lossy(&payload(w, &name)?).into_owned();
        register_cleanup(w, vec![format!("RMD {name}")])
    })
}

/// Removes the file after the scenario (for what a scenario creates by hand).
#[when(regex = r#"^the scenario will remove the file "(.*)" afterwards$"#)]
pub(crate) async fn will_remove_file(w: &mut World, name: String) -> StepResult {
    step!(w, register_cleanup(w, vec![format!("DELE {name}")]))
}

/// The transfer is refused with this reply, instead of or after the 1xx.
#[then(regex = r"^the transfer is refused with (\d{3})$")]
pub(crate) async fn transfer_refused(w: &mut World, code: String) -> StepResult {
    step!(w, {
        // RFC 959 §5.4 allows 425 either instead of the preliminary reply or
        // after it (125/150 → 425): both are accepted.
        let mut reply = last_reply(w, "")?;
        if reply.class() == Some('1') {
            let first = reply.text();
            reply = next_reply(w, "").await.map_err(|e| {
                let mut f = e.clone();
                if f.kind == crate::steps::FailureKind::Conformance {
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
