//! FTP steps: AUTH TLS, PBSZ, PROT (RFC 4217, RFC 2228).

#[allow(unused_imports)]
use super::*;

/// Skips unless `[ftp] tls = "starttls"`; then a greeted session still in
/// plaintext (no AUTH TLS sent yet).
#[given(regex = r"^an FTP session on the cleartext connection$")]
pub(crate) async fn ftp_cleartext(w: &mut World) -> StepResult {
    step!(w, {
        crate::steps::tls::require_starttls(w, "ftp")?;
        connect(w).await?;
        let reply = greeting(w).await?;
        check_status(&reply, &["220".into()], "as the greeting")
    })
}

/// A greeted session in TLS (after AUTH TLS, or on the implicit-TLS
/// port) that has sent neither PBSZ nor PROT; skipped when the profile
/// gives `[ftp]` no TLS.
#[given(regex = r"^an FTP session in TLS that has sent neither PBSZ nor PROT$")]
pub(crate) async fn ftp_tls_unprotected(w: &mut World) -> StepResult {
    step!(w, {
        let mode = crate::steps::tls::mode(w, "ftp");
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
pub(crate) async fn ftp_tls_logged_in(w: &mut World) -> StepResult {
    step!(w, {
        if crate::steps::tls::mode(w, "ftp") == crate::wire::tls::Mode::None {
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
pub(crate) async fn feat_lists_all(w: &mut World, list: String) -> StepResult {
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
    if !crate::steps::tls::start_after_pipelined(w, CONTROL, "nothing ran inside TLS").await? {
        return Ok(());
    }
    crate::steps::tls::silent_until_asked(w, injected, "AUTH TLS").await?;
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
pub(crate) async fn pass_after_plain_user(w: &mut World) -> StepResult {
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
