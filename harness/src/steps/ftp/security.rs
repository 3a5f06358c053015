//! FTP steps: security (RFC 2577).

#[allow(unused_imports)]
use super::*;

/// A third party's address on this machine: 127.0.0.2 when the client uses
/// 127.0.0.1 (all of 127/8 is loopback on Linux).
pub(crate) fn third_party_ip(local: IpAddr) -> Option<IpAddr> {
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
pub(crate) async fn port_third_party(w: &mut World, verb: String) -> StepResult {
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
pub(crate) async fn refuses_third_party(w: &mut World) -> StepResult {
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
pub(crate) fn feat_lists(reply: &Reply, feature: &str) -> bool {
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
pub(crate) async fn implementer_lists(
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
pub(crate) async fn announces(w: &mut World, feature: String) -> StepResult {
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
pub(crate) async fn port_to_own_port(w: &mut World, verb: String, port: u16) -> StepResult {
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
pub(crate) async fn fails_logins(w: &mut World, n: usize) -> StepResult {
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
pub(crate) async fn closed_after_failures(w: &mut World, n: usize) -> StepResult {
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
