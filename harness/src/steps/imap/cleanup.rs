//! Leaving the target as it was found: after each scenario, the mailboxes
//! it created are unsubscribed and deleted, and messages it had delivered
//! into INBOX are expunged, over a fresh connection (the scenario's own may
//! be closed or in the middle of a command). Best effort: a failure here
//! does not change the scenario's verdict.

use super::{connect, imap, login, untagged, ImapState};
use crate::steps::{Failure, World};
use crate::wire::imap::Token;

const CLIENT: &str = "cleanup";

pub async fn cleanup(w: &mut World) {
    let (created, delivered) = {
        let s = w.state::<ImapState>();
        (
            std::mem::take(&mut s.created),
            std::mem::take(&mut s.delivered),
        )
    };
    if created.is_empty() && delivered.is_empty() {
        return;
    }
    // The scenario's own IMAP connections go first: servers limit
    // connections per user (dovecot: mail_max_userip_connections).
    w.tcp.retain(|_, s| s.reader.protocol() != "IMAP");
    w.transcript
        .event(CLIENT, "removing what the scenario created");
    for attempt in 0..3 {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        let done = run(w, &created, &delivered).await;
        w.tcp.remove(CLIENT);
        match done {
            Ok(()) => return,
            Err(e) => w.transcript.event(
                CLIENT,
                format!("cleanup attempt {} failed: {e}", attempt + 1),
            ),
        }
    }
}

async fn run(w: &mut World, created: &[String], delivered: &[String]) -> Result<(), Failure> {
    connect(w, CLIENT).await?;
    login(w, CLIENT).await?;
    for name in created {
        imap(w, CLIENT, &format!("UNSUBSCRIBE {name}")).await?;
        imap(w, CLIENT, &format!("DELETE {name}")).await?;
    }
    if !delivered.is_empty() {
        imap(w, CLIENT, "SELECT INBOX").await?;
        for id in delivered {
            let reply = imap(
                w,
                CLIENT,
                &format!("UID SEARCH HEADER Message-ID {}", super::quoted(id)),
            )
            .await?;
            let uids: Vec<String> = untagged(&reply)
                .iter()
                .filter(|r| r.word(0).as_deref() == Some("SEARCH"))
                .flat_map(|r| r.tokens[1..].iter().filter_map(Token::as_number))
                .map(|n| n.to_string())
                .collect();
            if !uids.is_empty() {
                imap(
                    w,
                    CLIENT,
                    &format!("UID STORE {} +FLAGS.SILENT (\\Deleted)", uids.join(",")),
                )
                .await?;
            }
        }
        imap(w, CLIENT, "EXPUNGE").await?;
    }
    imap(w, CLIENT, "LOGOUT").await?;
    Ok(())
}
