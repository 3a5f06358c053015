//! The end-to-end scenario's delivery: a multipart message sent over SMTP
//! (RFC 5321, the plain dialogue a mail client has with its server) to
//! `${smtp.recipient}`, whose INBOX the IMAP user reads. The message gets
//! a Message-ID of its own, so that the scenario finds exactly it.

use std::time::Duration;

use cucumber::given;

use super::messages;
use crate::notation::escape_short;
use crate::step;
use crate::steps::{Failure, StepResult, World};
use crate::wire::Conn;

/// Reads one SMTP reply (possibly multi-line, `250-…` then `250 …`).
async fn reply(conn: &mut Conn) -> Result<String, Failure> {
    let mut text = String::new();
    for _ in 0..100 {
        let line = conn.read_line(4096, "an SMTP reply").await?.text();
        text.push_str(&line);
        text.push('\n');
        if line.len() < 4 || line.as_bytes()[3] != b'-' {
            return Ok(text);
        }
    }
    Err(Failure::harness("an SMTP reply of more than 100 lines"))
}

async fn expect(conn: &mut Conn, send: Option<&str>, class: char) -> Result<(), Failure> {
    if let Some(s) = send {
        conn.send(format!("{s}\r\n").as_bytes()).await?;
    }
    let r = reply(conn).await?;
    if r.starts_with(class) {
        Ok(())
    } else {
        Err(Failure::harness(format!(
            "delivering the test message by SMTP failed at \"{}\": {}",
            send.unwrap_or("the greeting"),
            escape_short(r.as_bytes(), 200)
        )))
    }
}

/// Delivers the multipart test message by SMTP (`[smtp]`) to the IMAP user
/// (`@needs-smtp`).
#[given(
    regex = r"^the multipart test message has been delivered by SMTP to the IMAP user's INBOX$"
)]
async fn delivered(w: &mut World) -> StepResult {
    step!(w, {
        let addr = crate::steps::raw::address(w, "${smtp.address}")?;
        let rcpt = w.expand("${smtp.recipient}")?;
        let id = format!("<{}@conform.test>", super::scratch_name());
        let msg = messages::MULTIPART.text().replace(
            "Message-ID: <conform-multipart@hamburger.edu>",
            &format!("Message-ID: {id}"),
        );
        let mut conn = w
            .connect(Some(crate::protocol::Protocol::Smtp), addr, "smtp")
            .await?;
        expect(&mut conn, None, '2').await?;
        expect(&mut conn, Some("EHLO conform.test"), '2').await?;
        expect(&mut conn, Some("MAIL FROM:<bob@hamburger.edu>"), '2').await?;
        expect(&mut conn, Some(&format!("RCPT TO:<{rcpt}>")), '2').await?;
        expect(&mut conn, Some("DATA"), '3').await?;
        // The test message has no line starting with "." to stuff.
        conn.send(msg.as_bytes()).await?;
        expect(&mut conn, Some("."), '2').await?;
        let _ = expect(&mut conn, Some("QUIT"), '2').await;
        super::remember_delivery(w, &id)?;
        w.vars.insert("imap.message_id".into(), id);
        // Delivery may be asynchronous (a queue): give it a moment.
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok(())
    })
}
