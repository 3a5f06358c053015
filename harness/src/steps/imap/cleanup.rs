//! Leaving the target as it was found: after each scenario, the mailboxes
//! it created are unsubscribed and deleted, and messages it delivered into
//! INBOX are expunged, over a fresh connection (the scenario's own may be
//! closed or in the middle of a command). Registered once per scenario with
//! the world's cleanups; best effort: a failure here does not change the
//! scenario's verdict, but shows in its transcript.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{parse_response, quoted, ImapState};
use crate::steps::{Failure, World};
use crate::transcript::Transcript;
use crate::wire::imap::{ImapReader, Token};
use crate::wire::{Conn, Reply, ReplyReader, WireError};

const CLIENT: &str = "imap cleanup";

/// What a scenario leaves behind, filled in as it goes.
#[derive(Default)]
pub struct Leftovers {
    /// Mailboxes it created (or names it may have created).
    pub mailboxes: Vec<String>,
    /// Message-IDs of messages delivered into INBOX.
    pub delivered: Vec<String>,
    /// Mailboxes whose messages go back to INBOX (one that RENAME INBOX
    /// made) before they are deleted.
    pub restore: Vec<String>,
}

/// The scenario's leftovers list; the first call registers the cleanup.
pub fn leftovers(w: &mut World) -> Result<Arc<Mutex<Leftovers>>, Failure> {
    if let Some(l) = &w.state::<ImapState>().leftovers {
        return Ok(l.clone());
    }
    let list = Arc::new(Mutex::new(Leftovers::default()));
    let addr = crate::steps::raw::address(w, "${imap.address}")?;
    let user = w.expand("${imap.user}")?;
    let pass = w.expand("${imap.password}")?;
    // The password only inside TLS when the profile gives [imap] TLS.
    let tls = match crate::steps::tls::mode(w, "imap") {
        crate::wire::tls::Mode::None => None,
        mode => Some((mode, crate::steps::tls::client(w, "imap")?)),
    };
    let transcript = w.transcript.clone();
    let timeout = w.step_timeout;
    let ledger = w.budget.clone();
    let shared = list.clone();
    w.cleanups.push(Box::pin(async move {
        let (mailboxes, delivered, restore) = match shared.lock() {
            Ok(mut l) => (
                std::mem::take(&mut l.mailboxes),
                std::mem::take(&mut l.delivered),
                std::mem::take(&mut l.restore),
            ),
            Err(_) => return,
        };
        if mailboxes.is_empty() && delivered.is_empty() && restore.is_empty() {
            return;
        }
        // A server may limit connections per user (dovecot:
        // mail_max_userip_connections): try again when others have ended.
        for attempt in 0..3 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            let run = remove(
                (&ledger, addr),
                tls.as_ref(),
                &user,
                &pass,
                &transcript,
                timeout,
                &mailboxes,
                &delivered,
                &restore,
            );
            match run.await {
                Ok(()) => return,
                Err(e) => transcript.event(
                    CLIENT,
                    format!("cleanup attempt {} failed: {e}", attempt + 1),
                ),
            }
        }
    }));
    w.state::<ImapState>().leftovers = Some(list.clone());
    Ok(list)
}

struct Client {
    conn: Conn,
    reader: ImapReader,
    tag: u32,
}

impl Client {
    async fn command(&mut self, cmd: &str) -> Result<Reply, String> {
        self.tag += 1;
        let framed = self.reader.frame(format!("z{} {cmd}", self.tag).as_bytes());
        self.conn.send(&framed).await.map_err(|e| e.to_string())?;
        self.reader
            .read(&mut self.conn)
            .await
            .map_err(|e: WireError| e.to_string())
    }
}

/// `server`: the scenario's connection budget and the server's address.
#[allow(clippy::too_many_arguments)]
async fn remove(
    (ledger, addr): (&crate::target::budget::Ledger, SocketAddr),
    tls: Option<&(crate::wire::tls::Mode, crate::wire::tls::Client)>,
    user: &str,
    pass: &str,
    transcript: &Transcript,
    timeout: Duration,
    mailboxes: &[String],
    delivered: &[String],
    restore: &[String],
) -> Result<(), String> {
    let conn = crate::steps::connect_within(
        ledger,
        Some(crate::protocol::Protocol::Imap),
        addr,
        CLIENT,
        transcript,
        timeout,
    )
    .await
    .map_err(|e| e.message)?;
    let mut c = Client {
        conn,
        reader: ImapReader::default(),
        tag: 0,
    };
    if let Some((crate::wire::tls::Mode::Implicit, client)) = tls {
        c.conn.start_tls(client).await.map_err(|e| e.to_string())?;
    }
    c.reader
        .read(&mut c.conn)
        .await
        .map_err(|e| e.to_string())?;
    if let Some((crate::wire::tls::Mode::StartTls, client)) = tls {
        let reply = c.command("STARTTLS").await?;
        if reply.status != "OK" {
            return Err(format!("STARTTLS: {}", reply.text()));
        }
        c.conn.start_tls(client).await.map_err(|e| e.to_string())?;
    }
    let login = c
        .command(&format!("LOGIN {} {}", quoted(user), quoted(pass)))
        .await?;
    if login.status != "OK" {
        return Err(format!("LOGIN: {}", login.text()));
    }
    // Messages back to INBOX (COPY keeps their flags, RFC 3501 §6.4.7);
    // the scenario's own are then expunged with the delivered ones.
    for name in restore {
        let select = c.command(&format!("SELECT {name}")).await?;
        if select.status != "OK" {
            continue;
        }
        let uids = search_uids(&c.command("UID SEARCH ALL").await?);
        if !uids.is_empty() {
            let copy = c
                .command(&format!("UID COPY {} INBOX", uids.join(",")))
                .await?;
            if copy.status != "OK" {
                return Err(format!("UID COPY back to INBOX: {}", copy.text()));
            }
        }
        c.command("CLOSE").await?;
    }
    // Last made first: a mailbox under another goes before its parent.
    for name in mailboxes.iter().rev() {
        c.command(&format!("UNSUBSCRIBE {name}")).await?;
        c.command(&format!("DELETE {name}")).await?;
    }
    if !delivered.is_empty() {
        c.command("SELECT INBOX").await?;
        for id in delivered {
            let reply = c
                .command(&format!("UID SEARCH HEADER Message-ID {}", quoted(id)))
                .await?;
            let uids = search_uids(&reply);
            if !uids.is_empty() {
                c.command(&format!(
                    "UID STORE {} +FLAGS.SILENT (\\Deleted)",
                    uids.join(",")
                ))
                .await?;
            }
        }
        c.command("EXPUNGE").await?;
    }
    c.command("LOGOUT").await?;
    Ok(())
}

/// The numbers of a SEARCH reply's `* SEARCH` lines.
fn search_uids(reply: &Reply) -> Vec<String> {
    reply
        .lines
        .iter()
        .filter_map(|l| parse_response(&l.bytes).ok())
        .filter(|r| r.tag == "*" && r.word(0).as_deref() == Some("SEARCH"))
        .flat_map(|r| {
            r.tokens[1..]
                .iter()
                .filter_map(Token::as_number)
                .collect::<Vec<_>>()
        })
        .map(|n| n.to_string())
        .collect()
}
