//! FTP steps: data connection set-up (PASV, EPSV, PORT, EPRT).

#[allow(unused_imports)]
use super::*;

pub(crate) fn control_addrs(w: &mut World) -> Result<(SocketAddr, SocketAddr), Failure> {
    let s = w.session("")?;
    Ok((s.conn.local, s.conn.peer))
}

/// Connects to the address a 227/229 reply named. A failure here is the
/// server's: it named an address where nothing accepts the connection.
pub(crate) async fn connect_passive(w: &mut World, addr: SocketAddr, reply: &Reply) -> StepResult {
    // A data connection replaces the one prepared before.
    w.state::<FtpState>().data = None;
    let lease = crate::steps::lease(
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
pub(crate) async fn enters_passive(w: &mut World) -> StepResult {
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
pub(crate) async fn pasv_is_control_address(w: &mut World) -> StepResult {
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
pub(crate) async fn enters_epsv(w: &mut World) -> StepResult {
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

pub(crate) async fn active(w: &mut World, extended: bool) -> StepResult {
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
pub(crate) fn not_implemented(reply: &Reply, verb: &str) -> StepResult {
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
pub(crate) async fn enters_active(w: &mut World) -> StepResult {
    step!(w, active(w, false).await)
}

/// Listens for a data connection and sends EPRT (200 expected).
#[when(regex = r"^the client enters extended active mode$")]
pub(crate) async fn enters_eprt(w: &mut World) -> StepResult {
    step!(w, active(w, true).await)
}

/// Ports a scenario holds bound, never listening (see [`port_to_nothing`]).
#[derive(Default)]
pub(crate) struct HeldPorts(Vec<tokio::net::TcpSocket>);

/// PORT for a port where nothing listens, then the command; for the 425
/// checks (425 to PORT itself counts too).
#[when(
    regex = r#"^the client sends "(.*)" after a PORT command for a port where nothing listens$"#
)]
pub(crate) async fn port_to_nothing(w: &mut World, text: String) -> StepResult {
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
