//! One IMAP connection: the state machine of RFC 3501 §3 (not
//! authenticated → authenticated → selected → logout) and the commands of
//! §6. Each command gets exactly one tagged completion: OK on success, NO
//! when it was understood but failed, BAD for a syntax error or a command
//! not valid in the current state (§7.1).

use std::sync::Arc;

use super::args::{in_set, parse_set, Args};
use super::codec::{Read, Wire};
use super::fetch::{self, Item};
use super::mailbox::Selected;
use super::search::{self, Candidate};
use super::{date, flags, folders, Config, CAPABILITIES};
use crate::mailstore::{MailStore, Message, INBOX};
use crate::sasl;

enum State {
    NotAuthenticated,
    Authenticated,
    Selected(Selected),
    Logout,
}

/// A command's completion: `OK`, `NO` or `BAD` with its text.
struct Done(&'static str, String);

fn ok(text: impl Into<String>) -> Done {
    Done("OK", text.into())
}
fn no(text: impl Into<String>) -> Done {
    Done("NO", text.into())
}
fn bad(text: impl Into<String>) -> Done {
    Done("BAD", text.into())
}

struct Session {
    wire: Wire,
    config: Arc<Config>,
    store: MailStore,
    state: State,
    user: String,
    /// Untagged responses of the command being run.
    out: Vec<u8>,
    /// The session runs inside TLS (after STARTTLS).
    tls: bool,
    /// STARTTLS was answered OK: the handshake follows the reply.
    upgrade: bool,
}

/// One session on `wire`, which is already inside TLS when `tls` (an
/// implicit-TLS port).
pub async fn run(wire: Wire, tls: bool, config: Arc<Config>, store: MailStore) {
    let mut s = Session {
        wire,
        config,
        store,
        state: State::NotAuthenticated,
        user: String::new(),
        out: Vec::new(),
        tls,
        upgrade: false,
    };
    let greeting = format!(
        "* OK [CAPABILITY {}] conform IMAP reference server ready\r\n",
        s.capabilities()
    );
    if !s.wire.send(greeting.as_bytes()).await {
        return;
    }
    loop {
        let command = match s.wire.command().await {
            Read::Command(c) => c,
            Read::TooLong(c) => {
                let tag = tag_of(&c).unwrap_or("*").to_string();
                let line = format!("{tag} BAD Command line or literal too long\r\n");
                if !s.wire.send(line.as_bytes()).await {
                    return;
                }
                continue;
            }
            Read::Gone => {
                let _ = s
                    .wire
                    .send(b"* BYE Autologout; idle for too long\r\n")
                    .await;
                return;
            }
        };
        let Some(tag) = tag_of(&command).map(str::to_string) else {
            if !s.wire.send(b"* BAD Missing or invalid tag\r\n").await {
                return;
            }
            continue;
        };
        let mut args = Args::new(&command[tag.len()..]);
        let done = match args.space().and_then(|_| args.atom()) {
            Ok(name) => s.dispatch(&name.to_ascii_uppercase(), &mut args).await,
            Err(_) => bad("Missing command name"),
        };
        let mut reply = std::mem::take(&mut s.out);
        reply.extend_from_slice(format!("{tag} {} {}\r\n", done.0, done.1).as_bytes());
        if !s.wire.send(&reply).await || matches!(s.state, State::Logout) {
            return;
        }
        if std::mem::take(&mut s.upgrade) && !s.start_tls().await {
            // Nothing more can be said in plaintext once the client has
            // started its handshake.
            return;
        }
    }
}

/// `tag = 1*<any ASTRING-CHAR except "+">` (§9).
fn tag_of(command: &[u8]) -> Option<&str> {
    let end = command
        .iter()
        .position(|c| *c == b' ')
        .unwrap_or(command.len());
    let tag = std::str::from_utf8(&command[..end]).ok()?;
    let valid = !tag.is_empty()
        && tag
            .bytes()
            .all(|c| c > b' ' && c < 0x7f && !b"(){%*\"\\+".contains(&c));
    valid.then_some(tag)
}

/// Commands valid in any state (RFC 3501 §6.1).
const ANY_STATE: &[&str] = &["CAPABILITY", "NOOP", "LOGOUT"];
/// Commands valid in the not-authenticated state (§6.2).
const NOT_AUTHENTICATED: &[&str] = &["LOGIN", "AUTHENTICATE", "STARTTLS"];
/// Commands valid in the authenticated and selected states (§6.3).
const AUTHENTICATED: &[&str] = &[
    "SELECT",
    "EXAMINE",
    "CREATE",
    "DELETE",
    "RENAME",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "LIST",
    "LSUB",
    "STATUS",
    "APPEND",
    "IDLE",
    "NAMESPACE",
];
/// Commands valid in the selected state only (§6.4).
const SELECTED: &[&str] = &[
    "CHECK", "CLOSE", "UNSELECT", "EXPUNGE", "SEARCH", "FETCH", "STORE", "COPY", "MOVE", "UID",
];

/// Commands valid in each state (§6.1–§6.4).
fn allowed(state: &State, command: &str) -> bool {
    if ANY_STATE.contains(&command) {
        return true;
    }
    match state {
        State::NotAuthenticated => NOT_AUTHENTICATED.contains(&command),
        State::Authenticated => AUTHENTICATED.contains(&command),
        State::Selected(_) => AUTHENTICATED.contains(&command) || SELECTED.contains(&command),
        State::Logout => false,
    }
}

/// Whether `command` is an IMAP command this server knows at all.
fn known(command: &str) -> bool {
    [ANY_STATE, NOT_AUTHENTICATED, AUTHENTICATED, SELECTED]
        .iter()
        .any(|commands| commands.contains(&command))
}

impl Session {
    fn untagged(&mut self, line: impl AsRef<[u8]>) {
        self.out.extend_from_slice(b"* ");
        self.out.extend_from_slice(line.as_ref());
        self.out.extend_from_slice(b"\r\n");
    }

    fn selected(&mut self) -> Option<&mut Selected> {
        match &mut self.state {
            State::Selected(s) => Some(s),
            _ => None,
        }
    }

    async fn dispatch(&mut self, name: &str, a: &mut Args<'_>) -> Done {
        if !known(name) {
            return bad(format!("Unknown command {name}"));
        }
        if !allowed(&self.state, name) {
            return bad(format!("{name} is not valid in this state (RFC 3501 §6)"));
        }
        let done = match self.command(name, a).await {
            Ok(d) => d,
            Err(syntax) => bad(format!("{name}: {syntax}")),
        };
        // Tell the client about changes made meanwhile (§7: untagged data may
        // come with any response; EXPUNGE not during FETCH/STORE/SEARCH).
        let full = matches!(
            name,
            "NOOP" | "CHECK" | "IDLE" | "EXPUNGE" | "CLOSE" | "MOVE"
        );
        if let State::Selected(sel) = &mut self.state {
            let _ = sel.refresh(full, &mut self.out);
        }
        done
    }

    async fn command(&mut self, name: &str, a: &mut Args<'_>) -> Result<Done, String> {
        match name {
            "CAPABILITY" => {
                a.end()?;
                self.untagged(format!("CAPABILITY {}", self.capabilities()));
                Ok(ok("CAPABILITY completed"))
            }
            "NOOP" | "CHECK" => {
                a.end()?;
                Ok(ok(format!("{name} completed")))
            }
            "LOGOUT" => {
                a.end()?;
                self.untagged("BYE conform IMAP server logging out");
                self.state = State::Logout;
                Ok(ok("LOGOUT completed"))
            }
            "STARTTLS" => {
                a.end()?;
                Ok(self.starttls())
            }
            "LOGIN" => {
                a.space()?;
                let user = a.astring_text()?;
                a.space()?;
                let pass = String::from_utf8_lossy(&a.astring()?).into_owned();
                a.end()?;
                Ok(self.login(&user, &pass))
            }
            "AUTHENTICATE" => self.authenticate(a).await,
            "SELECT" | "EXAMINE" => {
                a.space()?;
                let mailbox = a.mailbox()?;
                a.end()?;
                Ok(self.select(&mailbox, name == "EXAMINE"))
            }
            "NAMESPACE" => {
                a.end()?;
                Ok(self.namespace())
            }
            "CREATE" => {
                a.space()?;
                let mailbox = a.mailbox()?;
                a.end()?;
                Ok(self.create(&mailbox))
            }
            "DELETE" => {
                a.space()?;
                let mailbox = a.mailbox()?;
                a.end()?;
                Ok(self.delete(&mailbox))
            }
            "RENAME" => {
                a.space()?;
                let from = a.mailbox()?;
                a.space()?;
                let to = a.mailbox()?;
                a.end()?;
                Ok(self.rename(&from, &to))
            }
            "SUBSCRIBE" | "UNSUBSCRIBE" => {
                a.space()?;
                let mailbox = a.mailbox()?;
                a.end()?;
                let on = name == "SUBSCRIBE";
                if on && self.store.folder(&self.user, &mailbox).is_err() {
                    return Ok(no("[NONEXISTENT] No such mailbox"));
                }
                Ok(
                    match folders::set_subscribed(&self.store, &self.user, &mailbox, on) {
                        Ok(()) => ok(format!("{name} completed")),
                        Err(e) => no(format!("[SERVERBUG] {e}")),
                    },
                )
            }
            "LIST" | "LSUB" => {
                a.space()?;
                let reference = a.list_mailbox().or_else(|_| a.astring_text())?;
                a.space()?;
                let pattern = a.list_mailbox()?;
                a.end()?;
                Ok(self.list(name, &reference, &pattern))
            }
            "STATUS" => {
                a.space()?;
                let mailbox = a.mailbox()?;
                a.space()?;
                let items = a.flag_list()?;
                a.end()?;
                Ok(self.status(&mailbox, &items))
            }
            "APPEND" => self.append(a),
            "IDLE" => {
                a.end()?;
                Ok(self.idle().await)
            }
            "CLOSE" | "UNSELECT" => {
                a.end()?;
                if let State::Selected(sel) = &mut self.state {
                    // §6.4.2: CLOSE expunges silently, without EXPUNGE responses.
                    if name == "CLOSE" && !sel.read_only {
                        for m in &sel.messages {
                            if flags::has(&m.flags, 'T') {
                                let _ = sel.dir.delete(&m.unique);
                            }
                        }
                    }
                }
                self.state = State::Authenticated;
                Ok(ok(format!("{name} completed")))
            }
            "EXPUNGE" => {
                a.end()?;
                Ok(self.expunge())
            }
            "UID" => {
                a.space()?;
                let sub = a.atom()?.to_ascii_uppercase();
                match sub.as_str() {
                    "FETCH" | "STORE" | "COPY" | "MOVE" | "SEARCH" => {
                        self.selected_command(&sub, true, a)
                    }
                    _ => Ok(bad(format!("UID {sub} is not a UID command"))),
                }
            }
            "SEARCH" | "FETCH" | "STORE" | "COPY" | "MOVE" => self.selected_command(name, false, a),
            _ => Ok(bad(format!("Unknown command {name}"))),
        }
    }

    fn selected_command(&mut self, name: &str, uid: bool, a: &mut Args) -> Result<Done, String> {
        a.space()?;
        match name {
            "SEARCH" => self.search(uid, a),
            "FETCH" => {
                let set = a.sequence_set()?;
                a.space()?;
                let items = fetch::parse_items(a)?;
                a.end()?;
                self.fetch(uid, &set, items)
            }
            "STORE" => {
                let set = a.sequence_set()?;
                a.space()?;
                let how = a.atom()?.to_ascii_uppercase();
                a.space()?;
                let list = a.flags()?;
                a.end()?;
                self.store_flags(uid, &set, &how, &list)
            }
            _ => {
                let set = a.sequence_set()?;
                a.space()?;
                let dest = a.mailbox()?;
                a.end()?;
                self.copy(uid, &set, &dest, name == "MOVE")
            }
        }
    }

    /// Whether LOGIN and AUTHENTICATE PLAIN wait for TLS (RFC 9051
    /// §6.2.3): the configuration that asks for it, and no TLS yet.
    fn login_disabled(&self) -> bool {
        self.config.login_requires_tls && self.config.tls.is_some() && !self.tls
    }

    /// What the server announces: NAMESPACE only with a namespace.
    fn capabilities(&self) -> String {
        let mut caps = CAPABILITIES.to_string();
        // §6.2.3 and §7.2.2: LOGINDISABLED while LOGIN is refused; PLAIN
        // is not offered in plaintext either.
        if self.login_disabled() {
            caps = caps.replace(" AUTH=PLAIN", "");
            caps.push_str(" LOGINDISABLED");
        }
        if self.config.namespace.is_some() {
            caps.push_str(" NAMESPACE");
        }
        // RFC 9051 §6.2.1: STARTTLS is offered on the cleartext connection
        // and SHOULD NOT be advertised once TLS is up.
        if self.config.tls.is_some() && (!self.tls || self.config.faults.starttls_in_tls) {
            caps.push_str(" STARTTLS");
        }
        caps
    }

    /// RFC 9051 §6.2.1 (RFC 3501 §6.2.1): STARTTLS, valid in the
    /// not-authenticated state. OK, then the handshake begins right after
    /// the CRLF of the OK; a second STARTTLS once TLS is up is BAD.
    fn starttls(&mut self) -> Done {
        if self.config.tls.is_none() {
            return bad("STARTTLS is not offered (see CAPABILITY)");
        }
        if self.tls && !self.config.faults.starttls_in_tls {
            return bad("TLS is already active");
        }
        self.upgrade = true;
        ok("Begin TLS negotiation now")
    }

    /// The handshake after STARTTLS's OK. Plaintext the client pipelined
    /// behind STARTTLS is thrown away (RFC 9051 §6.2.1 option 2: the
    /// defence against STARTTLS command injection); the session stays in
    /// the not-authenticated state.
    async fn start_tls(&mut self) -> bool {
        let Some(identity) = self.config.tls.clone() else {
            return false;
        };
        let buffered = if self.config.faults.executes_injected {
            crate::tls::Buffered::KeepInjected
        } else {
            crate::tls::Buffered::Discard
        };
        if !self.wire.start_tls(&identity, buffered).await {
            return false;
        }
        self.tls = true;
        true
    }

    fn capability_code(&self) -> String {
        format!("[CAPABILITY {}]", self.capabilities())
    }

    /// RFC 2342 §5: the personal namespace, no others.
    fn namespace(&mut self) -> Done {
        let Some(prefix) = self.config.namespace.clone() else {
            return bad("Unknown command NAMESPACE");
        };
        let d = folders::DELIMITER;
        self.untagged(format!(
            "NAMESPACE (({} \"{d}\")) NIL NIL",
            fetch::string(prefix.as_bytes())
        ));
        ok("NAMESPACE completed")
    }

    /// With a namespace prefix, new names must be under it.
    fn outside_namespace(&self, name: &str) -> Option<Done> {
        let prefix = self.config.namespace.as_deref().filter(|p| !p.is_empty())?;
        let inside = name
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
            && name.len() > prefix.len();
        (!inside).then(|| {
            no(format!(
                "[CANNOT] Mailboxes can be created only under the personal namespace \"{prefix}\""
            ))
        })
    }

    fn login(&mut self, user: &str, pass: &str) -> Done {
        // §7.2.2: with LOGINDISABLED, a tagged NO to any LOGIN, the
        // credentials not even checked.
        if self.login_disabled() {
            if self.config.faults.logindisabled_bad {
                return bad("LOGIN is disabled");
            }
            return no("[PRIVACYREQUIRED] LOGIN is disabled before STARTTLS");
        }
        if !self.config.accounts.check(user, pass) {
            return no("[AUTHENTICATIONFAILED] Invalid credentials");
        }
        if let Err(e) = self.store.create_user(user) {
            return no(format!("[UNAVAILABLE] The mailbox cannot be opened: {e}"));
        }
        self.user = user.to_string();
        self.state = State::Authenticated;
        ok(format!("{} Logged in", self.capability_code()))
    }

    /// AUTHENTICATE PLAIN (RFC 4616), with an initial response (SASL-IR,
    /// RFC 4959) or after an empty continuation request.
    async fn authenticate(&mut self, a: &mut Args<'_>) -> Result<Done, String> {
        a.space()?;
        let mech = a.atom()?.to_ascii_uppercase();
        let initial = if a.eat(b' ') {
            Some(a.atom_with(b"=")?.into_bytes())
        } else {
            None
        };
        a.end()?;
        if mech != "PLAIN" {
            return Ok(no(format!("Unsupported authentication mechanism {mech}")));
        }
        if self.login_disabled() {
            // Not offered before TLS (§6.2.3): no continuation request,
            // and an initial response is not looked at.
            return Ok(no("[PRIVACYREQUIRED] PLAIN is disabled before STARTTLS"));
        }
        let response = match initial {
            Some(r) => r,
            None => {
                if !self.wire.send(b"+ \r\n").await {
                    return Ok(bad("The connection broke"));
                }
                match self.wire.line().await {
                    Ok(Ok(l)) => l,
                    _ => return Ok(bad("No authentication response")),
                }
            }
        };
        if response == b"*" {
            return Ok(bad("Authentication cancelled"));
        }
        let Some(decoded) = sasl::response(&response) else {
            return Ok(bad("The authentication response is not base64"));
        };
        let (user, pass) = match sasl::plain(&decoded) {
            sasl::Plain::Credentials { user, password } => (user, password),
            sasl::Plain::Malformed => {
                return Ok(no("[AUTHENTICATIONFAILED] Malformed PLAIN response"))
            }
            sasl::Plain::OtherIdentity => {
                return Ok(no("[AUTHORIZATIONFAILED] Cannot act as another user"))
            }
        };
        Ok(self.login(&user, &pass))
    }

    fn select(&mut self, mailbox: &str, read_only: bool) -> Done {
        // §6.3.1: a failed SELECT leaves no mailbox selected.
        self.state = State::Authenticated;
        let dir = match self.store.folder(&self.user, mailbox) {
            Ok(d) => d,
            Err(_) => return no("[NONEXISTENT] No such mailbox"),
        };
        let sel = match Selected::open(mailbox, dir, read_only) {
            Ok(s) => s,
            Err(e) => return no(format!("[SERVERBUG] {e}")),
        };
        self.untagged(format!("FLAGS {}", flags::list(&sel.keywords, false)));
        self.untagged(format!("{} EXISTS", sel.exists()));
        self.untagged(format!("{} RECENT", sel.recent_count()));
        if let Some(i) = sel.messages.iter().position(|m| !flags::has(&m.flags, 'S')) {
            self.untagged(format!("OK [UNSEEN {}] First unseen", i + 1));
        }
        // §7.1: the flags a client can change for good; `\*`: it may
        // create keywords too.
        let permanent = if read_only {
            "()".to_string()
        } else {
            flags::list(&sel.keywords, true)
        };
        self.untagged(format!("OK [PERMANENTFLAGS {permanent}] Flags permitted"));
        self.untagged(format!("OK [UIDVALIDITY {}] UIDs valid", sel.uid_validity));
        self.untagged(format!("OK [UIDNEXT {}] Predicted next UID", sel.uid_next));
        let mode = if read_only { "READ-ONLY" } else { "READ-WRITE" };
        let verb = if read_only { "EXAMINE" } else { "SELECT" };
        self.state = State::Selected(sel);
        ok(format!("[{mode}] {verb} completed"))
    }

    fn create(&mut self, mailbox: &str) -> Done {
        let name = mailbox.trim_end_matches(folders::DELIMITER);
        if name.eq_ignore_ascii_case(INBOX) {
            return no("[ALREADYEXISTS] INBOX always exists");
        }
        if self.store.folder(&self.user, name).is_ok() {
            return no("[ALREADYEXISTS] Mailbox exists");
        }
        if let Some(refused) = self.outside_namespace(name) {
            return refused;
        }
        // §6.3.3: "the server SHOULD create any superior hierarchical names
        // that are needed for the CREATE command to be successfully
        // completed."
        for (i, _) in name.match_indices(folders::DELIMITER) {
            let superior = &name[..i];
            if superior.is_empty()
                || superior.eq_ignore_ascii_case(INBOX)
                || self.store.folder(&self.user, superior).is_ok()
            {
                continue;
            }
            if let Err(e) = self.store.create_folder(&self.user, superior) {
                return no(format!("[CANNOT] {e}"));
            }
        }
        match self.store.create_folder(&self.user, name) {
            Ok(_) => ok("CREATE completed"),
            Err(e) => no(format!("[CANNOT] {e}")),
        }
    }

    fn delete(&mut self, mailbox: &str) -> Done {
        if mailbox == INBOX {
            return no("[CANNOT] INBOX cannot be deleted");
        }
        if self.store.folder(&self.user, mailbox).is_err() {
            return no("[NONEXISTENT] No such mailbox");
        }
        if let State::Selected(sel) = &self.state {
            if sel.name == mailbox {
                self.state = State::Authenticated;
            }
        }
        match self.store.delete_folder(&self.user, mailbox) {
            Ok(()) => ok("DELETE completed"),
            Err(e) => no(format!("[SERVERBUG] {e}")),
        }
    }

    fn rename(&mut self, from: &str, to: &str) -> Done {
        if self.store.folder(&self.user, from).is_err() {
            return no("[NONEXISTENT] No such mailbox");
        }
        if to == INBOX || self.store.folder(&self.user, to).is_ok() {
            return no("[ALREADYEXISTS] The new name exists");
        }
        if let Some(refused) = self.outside_namespace(to) {
            return refused;
        }
        if from == INBOX {
            // §6.3.5: renaming INBOX moves its messages to the new mailbox
            // and leaves INBOX empty.
            return match self.move_inbox(to) {
                Ok(()) => ok("RENAME completed"),
                Err(e) => no(format!("[SERVERBUG] {e}")),
            };
        }
        // Inferior names move along (§6.3.5).
        let children: Vec<String> = self
            .store
            .folders(&self.user)
            .unwrap_or_default()
            .into_iter()
            .filter(|n| n.starts_with(&format!("{from}{}", folders::DELIMITER)))
            .collect();
        if let Err(e) = self.store.rename_folder(&self.user, from, to) {
            return no(format!("[CANNOT] {e}"));
        }
        for child in children {
            let new = format!("{to}{}", &child[from.len()..]);
            let _ = self.store.rename_folder(&self.user, &child, &new);
        }
        ok("RENAME completed")
    }

    fn move_inbox(&mut self, to: &str) -> std::io::Result<()> {
        let inbox = self.store.inbox(&self.user)?;
        let dest = self.store.create_folder(&self.user, to)?;
        for m in inbox.list()? {
            let bytes = inbox.read(&m.unique)?;
            let unique = dest.append(&bytes, &m.flags)?;
            set_internal_date(&dest, &unique, m.delivered);
            if !self.config.faults.inbox_rename_copies {
                inbox.delete(&m.unique)?;
            }
        }
        Ok(())
    }

    fn list(&mut self, verb: &str, reference: &str, pattern: &str) -> Done {
        let d = folders::DELIMITER;
        if pattern.is_empty() && verb == "LIST" {
            // §6.3.8: an empty pattern asks for the delimiter and root.
            self.untagged(format!("LIST (\\Noselect) \"{d}\" \"\""));
            return ok("LIST completed");
        }
        let full = format!("{reference}{pattern}");
        let all = match self.store.folders(&self.user) {
            Ok(a) => a,
            Err(e) => return no(format!("[SERVERBUG] {e}")),
        };
        let subscribed = folders::subscriptions(&self.store, &self.user).unwrap_or_default();
        for name in &all {
            if !folders::matches(&full, name) {
                continue;
            }
            if verb == "LSUB" && !subscribed.contains(name) {
                continue;
            }
            let children = all.iter().any(|n| n.starts_with(&format!("{name}{d}")));
            let attr = if verb == "LSUB" {
                ""
            } else if children {
                "\\HasChildren"
            } else {
                "\\HasNoChildren"
            };
            self.untagged(format!(
                "{verb} ({attr}) \"{d}\" {}",
                fetch::string(name.as_bytes())
            ));
        }
        ok(format!("{verb} completed"))
    }

    fn status(&mut self, mailbox: &str, items: &[String]) -> Done {
        let dir = match self.store.folder(&self.user, mailbox) {
            Ok(d) => d,
            Err(_) => return no("[NONEXISTENT] No such mailbox"),
        };
        let listing = match dir.scan() {
            Ok(l) => l,
            Err(e) => return no(format!("[SERVERBUG] {e}")),
        };
        let mut out = Vec::new();
        for item in items {
            let up = item.to_ascii_uppercase();
            let v = match up.as_str() {
                "MESSAGES" => listing.messages.len() as u64,
                "RECENT" => listing.messages.iter().filter(|m| m.recent).count() as u64,
                "UIDNEXT" => u64::from(listing.uid_next),
                "UIDVALIDITY" => u64::from(listing.uid_validity),
                "UNSEEN" => listing
                    .messages
                    .iter()
                    .filter(|m| !flags::has(&m.flags, 'S'))
                    .count() as u64,
                _ => return bad(format!("Unknown STATUS item {item}")),
            };
            out.push(format!("{up} {v}"));
        }
        self.untagged(format!(
            "STATUS {} ({})",
            fetch::string(mailbox.as_bytes()),
            out.join(" ")
        ));
        ok("STATUS completed")
    }

    /// `APPEND mailbox [flags] [date-time] literal` (§6.3.11).
    fn append(&mut self, a: &mut Args) -> Result<Done, String> {
        a.space()?;
        let mailbox = a.mailbox()?;
        a.space()?;
        let mut listed = Vec::new();
        if a.peek() == Some(b'(') {
            listed = a.flag_list()?;
            a.space()?;
        }
        let mut internal = None;
        if a.peek() == Some(b'"') {
            let text = String::from_utf8_lossy(&a.string()?).into_owned();
            internal = Some(date::parse_date_time(&text).ok_or("a bad date-time")?);
            a.space()?;
        }
        let message = a.string()?;
        a.end()?;
        let dir = match self.store.folder(&self.user, &mailbox) {
            Ok(d) => d,
            Err(_) => return Ok(no("[TRYCREATE] No such mailbox")),
        };
        let (letters, _) = flags::letters(&dir, &listed, true);
        let unique = match dir.append(&message, &letters) {
            Ok(u) => u,
            Err(e) => return Ok(no(format!("[SERVERBUG] {e}"))),
        };
        if let Some(t) = internal {
            set_internal_date(&dir, &unique, t);
        }
        Ok(ok("APPEND completed"))
    }

    /// IDLE (RFC 2177): report changes as they happen until the client
    /// sends DONE.
    async fn idle(&mut self) -> Done {
        if !self.wire.send(b"+ idling\r\n").await {
            return bad("The connection broke");
        }
        let poll = self.config.idle_poll;
        let idle_limit = self.config.limits.idle;
        let started = tokio::time::Instant::now();
        loop {
            if let State::Selected(sel) = &mut self.state {
                let _ = sel.refresh(true, &mut self.out);
            }
            if !self.out.is_empty() {
                let pending = std::mem::take(&mut self.out);
                if !self.wire.send(&pending).await {
                    return bad("The connection broke");
                }
            }
            if started.elapsed() > idle_limit {
                return bad("IDLE lasted too long");
            }
            tokio::select! {
                ready = self.wire.readable() => {
                    if !ready {
                        return bad("The connection closed during IDLE");
                    }
                    return match self.wire.line().await {
                        Ok(Ok(l)) if l.eq_ignore_ascii_case(b"DONE") => ok("IDLE terminated"),
                        _ => bad("Expected DONE"),
                    };
                }
                _ = tokio::time::sleep(poll) => {}
            }
        }
    }

    fn expunge(&mut self) -> Done {
        let Some(sel) = self.selected() else {
            return bad("No mailbox selected");
        };
        if sel.read_only {
            return no("[READ-ONLY] The mailbox is read-only");
        }
        let mut out = Vec::new();
        let mut i = 0;
        while i < sel.messages.len() {
            if flags::has(&sel.messages[i].flags, 'T') {
                let _ = sel.dir.delete(&sel.messages[i].unique);
                out.extend_from_slice(format!("* {} EXPUNGE\r\n", i + 1).as_bytes());
                sel.messages.remove(i);
            } else {
                i += 1;
            }
        }
        self.out.extend_from_slice(&out);
        ok("EXPUNGE completed")
    }

    /// The indexes (0-based) a sequence or UID set names, ascending.
    fn resolve(sel: &Selected, uid: bool, set: &str) -> Result<Vec<usize>, String> {
        let largest = if uid {
            sel.largest_uid()
        } else {
            sel.exists() as u32
        };
        if !uid && sel.exists() == 0 {
            return Err("no messages: the sequence set names none (§6.4.8)".into());
        }
        let ranges = parse_set(set, largest.max(1))?;
        if !uid {
            if let Some((_, hi)) = ranges.iter().find(|(_, hi)| *hi as usize > sel.exists()) {
                return Err(format!("message {hi} does not exist"));
            }
        }
        Ok(sel
            .messages
            .iter()
            .enumerate()
            .filter(|(i, m)| in_set(&ranges, if uid { m.uid } else { *i as u32 + 1 }))
            .map(|(i, _)| i)
            .collect())
    }

    fn fetch(&mut self, uid: bool, set: &str, mut items: Vec<Item>) -> Result<Done, String> {
        if uid && !items.contains(&Item::Uid) {
            items.insert(0, Item::Uid); // §6.4.8: UID FETCH always returns UID
        }
        let Some(sel) = self.selected() else {
            return Ok(bad("No mailbox selected"));
        };
        let chosen = Self::resolve(sel, uid, set)?;
        let sets_seen = items.iter().any(Item::sets_seen) && !sel.read_only;
        let mut out = Vec::new();
        for i in chosen {
            let recent = sel.is_recent(&sel.messages[i]);
            let m = &mut sel.messages[i];
            let body = match sel.dir.read(&m.unique) {
                Ok(b) => b,
                Err(_) => continue, // expunged by another session meanwhile
            };
            let mut wanted = items.clone();
            if sets_seen && !flags::has(&m.flags, 'S') {
                let new = format!("{}S", m.flags);
                if sel.dir.set_flags(&m.unique, &new).is_ok() {
                    m.flags = crate::mailstore::normalize_flags(&new);
                    if !wanted.contains(&Item::Flags) {
                        wanted.push(Item::Flags);
                    }
                }
            }
            out.extend_from_slice(format!("* {} FETCH (", i + 1).as_bytes());
            for (k, item) in wanted.iter().enumerate() {
                if k > 0 {
                    out.push(b' ');
                }
                render_item(&mut out, item, m, recent, &body, &sel.keywords);
            }
            out.extend_from_slice(b")\r\n");
        }
        self.out.extend_from_slice(&out);
        Ok(ok(if uid {
            "UID FETCH completed"
        } else {
            "FETCH completed"
        }))
    }

    fn store_flags(
        &mut self,
        uid: bool,
        set: &str,
        how: &str,
        list: &[String],
    ) -> Result<Done, String> {
        let (op, silent) = match how.strip_suffix(".SILENT") {
            Some(op) => (op, true),
            None => (how, false),
        };
        if !matches!(op, "FLAGS" | "+FLAGS" | "-FLAGS") {
            return Err(format!("\"{how}\" is not FLAGS, +FLAGS or -FLAGS"));
        }
        // §2.3.2: the flags PERMANENTFLAGS lists are permanent, "concurrent
        // and subsequent sessions will see any change": written to the
        // Maildir at once.
        let permanent = !self.config.faults.session_only_flags;
        let drops_keywords = self.config.faults.drops_keywords;
        let Some(sel) = self.selected() else {
            return Ok(bad("No mailbox selected"));
        };
        if sel.read_only {
            return Ok(no("[READ-ONLY] The mailbox is read-only"));
        }
        let chosen = Self::resolve(sel, uid, set)?;
        // \Recent cannot be set by a client (§2.3.2): ignored. A keyword
        // being added gets a letter of the folder (PERMANENTFLAGS has \*,
        // §7.1); one being removed needs none if it has none.
        let (mut letters, all_kept) = flags::letters(&sel.dir, list, op != "-FLAGS");
        if drops_keywords {
            letters.retain(|c| !c.is_ascii_lowercase());
        }
        sel.keywords = sel.dir.keywords();
        let mut out = Vec::new();
        if !all_kept {
            // §7.1: with the letters used up, "the server MUST send a new
            // PERMANENTFLAGS response code without the special flag \*".
            out.extend_from_slice(
                format!(
                    "* OK [PERMANENTFLAGS {}] No more keywords in this mailbox\r\n",
                    flags::list(&sel.keywords, true)
                )
                .as_bytes(),
            );
        }
        for i in chosen {
            let recent = sel.is_recent(&sel.messages[i]);
            let m = &mut sel.messages[i];
            let new: String = match op {
                "FLAGS" => letters.clone(),
                "+FLAGS" => format!("{}{letters}", m.flags),
                _ => m.flags.chars().filter(|c| !letters.contains(*c)).collect(),
            };
            let new = crate::mailstore::normalize_flags(&new);
            if new != m.flags {
                if permanent && sel.dir.set_flags(&m.unique, &new).is_err() {
                    continue;
                }
                m.flags = new;
            }
            if !silent {
                let uid_part = if uid {
                    format!(" UID {}", m.uid)
                } else {
                    String::new()
                };
                out.extend_from_slice(
                    format!(
                        "* {} FETCH (FLAGS {}{uid_part})\r\n",
                        i + 1,
                        flags::render(&m.flags, recent, &sel.keywords)
                    )
                    .as_bytes(),
                );
            }
        }
        self.out.extend_from_slice(&out);
        Ok(ok("STORE completed"))
    }

    fn copy(&mut self, uid: bool, set: &str, dest: &str, is_move: bool) -> Result<Done, String> {
        let user = self.user.clone();
        let target = self.store.folder(&user, dest);
        let Some(sel) = self.selected() else {
            return Ok(bad("No mailbox selected"));
        };
        let chosen = Self::resolve(sel, uid, set)?;
        let Ok(target) = target else {
            return Ok(no("[TRYCREATE] No such mailbox"));
        };
        if is_move && sel.read_only {
            return Ok(no("[READ-ONLY] The mailbox is read-only"));
        }
        // §6.4.7: all or nothing. Copy first; undo the copies on failure.
        let mut copied = Vec::new();
        for &i in &chosen {
            let m = &sel.messages[i];
            let result = sel.dir.read(&m.unique).and_then(|b| {
                target.append(&b, &flags::translate(&m.flags, &sel.keywords, &target))
            });
            match result {
                Ok(u) => {
                    set_internal_date(&target, &u, m.delivered);
                    copied.push(u);
                }
                Err(e) => {
                    for u in copied {
                        let _ = target.delete(&u);
                    }
                    return Ok(no(format!("[SERVERBUG] {e}")));
                }
            }
        }
        if is_move {
            // RFC 6851 §3.3: the moved messages are expunged from the source,
            // reported with EXPUNGE responses, highest first.
            let mut out = Vec::new();
            for &i in chosen.iter().rev() {
                let _ = sel.dir.delete(&sel.messages[i].unique);
                out.extend_from_slice(format!("* {} EXPUNGE\r\n", i + 1).as_bytes());
                sel.messages.remove(i);
            }
            self.out.extend_from_slice(&out);
        }
        let verb = if is_move { "MOVE" } else { "COPY" };
        Ok(ok(format!("{verb} completed")))
    }

    fn search(&mut self, uid: bool, a: &mut Args) -> Result<Done, String> {
        let (key, charset) = search::parse_program(a)?;
        if let Some(c) = charset {
            if !c.eq_ignore_ascii_case("US-ASCII") && !c.eq_ignore_ascii_case("UTF-8") {
                return Ok(no("[BADCHARSET (US-ASCII UTF-8)] Unsupported charset"));
            }
        }
        let Some(sel) = self.selected() else {
            return Ok(bad("No mailbox selected"));
        };
        let mut hits = Vec::new();
        let largest_seq = sel.exists() as u32;
        let largest_uid = sel.largest_uid();
        for (i, m) in sel.messages.iter().enumerate() {
            let dir = &sel.dir;
            let unique = m.unique.clone();
            let read = move || dir.read(&unique).unwrap_or_default();
            let c = Candidate {
                seq: i as u32 + 1,
                uid: m.uid,
                largest_seq,
                largest_uid,
                flags: &m.flags,
                recent: sel.is_recent(m),
                size: m.size,
                internal_day: date::day(m.delivered),
                message: &read,
            };
            if search::matches(&key, &c)? {
                hits.push(if uid { m.uid } else { i as u32 + 1 });
            }
        }
        let mut line = String::from("SEARCH");
        for h in hits {
            line.push_str(&format!(" {h}"));
        }
        self.untagged(line);
        Ok(ok("SEARCH completed"))
    }
}

fn render_item(
    out: &mut Vec<u8>,
    item: &Item,
    m: &Message,
    recent: bool,
    body: &[u8],
    keywords: &[String],
) {
    let mut text = |s: String| out.extend_from_slice(s.as_bytes());
    match item {
        Item::Flags => text(format!(
            "FLAGS {}",
            flags::render(&m.flags, recent, keywords)
        )),
        Item::InternalDate => text(format!("INTERNALDATE \"{}\"", date::date_time(m.delivered))),
        Item::Size => text(format!("RFC822.SIZE {}", body.len())),
        Item::Uid => text(format!("UID {}", m.uid)),
        Item::Envelope => text(format!("ENVELOPE {}", fetch::envelope(body))),
        Item::BodyStructure => text(format!(
            "BODYSTRUCTURE {}",
            fetch::body_structure(body, true)
        )),
        Item::Body => text(format!("BODY {}", fetch::body_structure(body, false))),
        Item::Rfc822 => {
            text("RFC822 ".into());
            out.extend_from_slice(&fetch::literal_bytes(body));
        }
        Item::Rfc822Header | Item::Rfc822Text => {
            let section = fetch::Section {
                path: vec![],
                text: Some(if *item == Item::Rfc822Header {
                    fetch::SectionText::Header
                } else {
                    fetch::SectionText::Text
                }),
            };
            let name = if *item == Item::Rfc822Header {
                "RFC822.HEADER "
            } else {
                "RFC822.TEXT "
            };
            text(name.into());
            let data = fetch::section_bytes(body, &section).unwrap_or_default();
            out.extend_from_slice(&fetch::literal_bytes(&data));
        }
        Item::Section {
            section, partial, ..
        } => {
            text(format!("{} ", fetch::section_name(section, *partial)));
            // §6.4.5: a section that does not exist is returned empty.
            let data = fetch::section_bytes(body, section).unwrap_or_default();
            out.extend_from_slice(&fetch::literal_bytes(&fetch::partial(&data, *partial)));
        }
    }
}

/// Sets a message's INTERNALDATE (the file's modification time).
fn set_internal_date(dir: &crate::mailstore::Maildir, unique: &str, t: std::time::SystemTime) {
    if let Ok(path) = dir.find(unique) {
        if let Ok(f) = std::fs::File::options().write(true).open(path) {
            let _ = f.set_modified(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert_eq!(tag_of(b"a1 NOOP"), Some("a1"));
        assert_eq!(tag_of(b"+ NOOP"), None);
        assert_eq!(tag_of(b"* NOOP"), None);
    }
}
