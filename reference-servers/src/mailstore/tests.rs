use super::*;

fn store() -> (tempfile::TempDir, MailStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = MailStore::open(dir.path()).expect("open");
    store.create_user("bob").expect("create bob");
    (dir, store)
}

#[test]
fn delivery_lands_in_new_with_size_and_increasing_uids() {
    let (dir, store) = store();
    let inbox = store.inbox("bob").unwrap();
    let a = inbox.deliver(b"Subject: a\r\n\r\nhello\r\n").unwrap();
    let b = inbox.deliver(b"Subject: b\r\n\r\n.\r\n").unwrap();
    assert!(dir.path().join("bob/Maildir/new").join(&a).is_file());
    assert_eq!(
        std::fs::read_dir(dir.path().join("bob/Maildir/tmp"))
            .unwrap()
            .count(),
        0
    );
    let listing = inbox.scan().unwrap();
    let names: Vec<_> = listing.messages.iter().map(|m| m.unique.clone()).collect();
    assert_eq!(names, vec![a.clone(), b.clone()]);
    assert_eq!(listing.messages[0].uid, 1);
    assert_eq!(listing.messages[1].uid, 2);
    assert_eq!(listing.uid_next, 3);
    assert_eq!(listing.messages[0].size, 21);
    assert!(listing.messages[0].recent);
    assert_eq!(inbox.read(&b).unwrap(), b"Subject: b\r\n\r\n.\r\n");
}

#[test]
fn uids_survive_flag_changes_and_are_never_reused() {
    let (_dir, store) = store();
    let inbox = store.inbox("bob").unwrap();
    let a = inbox.deliver(b"a\r\n").unwrap();
    let b = inbox.deliver(b"b\r\n").unwrap();
    let before = inbox.scan().unwrap();
    inbox.set_flags(&a, "SF").unwrap();
    let after = inbox.list().unwrap();
    assert_eq!(after[0].uid, 1);
    assert_eq!(after[0].flags, "FS");
    assert!(!after[0].recent);
    assert!(inbox.find(&a).unwrap().to_string_lossy().ends_with(":2,FS"));
    inbox.delete(&b).unwrap();
    let c = inbox.deliver(b"c\r\n").unwrap();
    let now = inbox.scan().unwrap();
    assert_eq!(now.uid_validity, before.uid_validity);
    let uids: Vec<_> = now
        .messages
        .iter()
        .map(|m| (m.uid, m.unique.clone()))
        .collect();
    assert_eq!(uids, vec![(1, a), (3, c)]);
    // A second handle on the same root sees the same UIDs (state is on disk).
    let again = MailStore::open(store.root()).unwrap().inbox("bob").unwrap();
    assert_eq!(again.scan().unwrap().messages, now.messages);
}

#[test]
fn files_without_uids_get_them_in_delivery_order() {
    // As `conform fixtures` or another MDA leaves them: no uid list yet.
    let (dir, store) = store();
    let cur = dir.path().join("bob/Maildir/cur");
    std::fs::write(cur.join("1000.A.host:2,S"), b"first\r\n").unwrap();
    std::fs::write(cur.join("1001.B.host:2,"), b"second\r\n").unwrap();
    let list = store.inbox("bob").unwrap().list().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].flags, "S");
    assert!(list.iter().all(|m| m.uid > 0));
}

#[test]
fn the_maildrop_lock_is_exclusive_until_dropped() {
    let (_dir, store) = store();
    let inbox = store.inbox("bob").unwrap();
    let held = inbox.lock().unwrap();
    let other = store.inbox("bob").unwrap();
    assert_eq!(
        other.lock().unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock
    );
    drop(held);
    assert!(other.lock().is_ok());
}

#[test]
fn folders_are_maildir_plus_plus_subdirectories() {
    let (dir, store) = store();
    store.create_folder("bob", "Sent").unwrap();
    assert!(dir.path().join("bob/Maildir/.Sent/new").is_dir());
    assert_eq!(store.folders("bob").unwrap(), vec!["INBOX", "Sent"]);
    assert!(store.folder("bob", "inbox").is_ok());
    assert!(store.folder("bob", "Nope").is_err());
    assert!(store.folder("bob", "../x").is_err());
    assert!(store.folder("../bob", "INBOX").is_err());
    let sent = store.folder("bob", "Sent").unwrap();
    let u = sent.append(b"x\r\n", "S").unwrap();
    assert_eq!(sent.list().unwrap()[0].unique, u);
    assert_eq!(sent.list().unwrap()[0].flags, "S");
}

#[test]
fn unknown_users_have_no_mailbox() {
    let (_dir, store) = store();
    assert!(store.has_user("bob"));
    assert!(!store.has_user("alice"));
    assert!(!store.has_user("../bob"));
    assert!(store.inbox("alice").is_err());
}

#[test]
fn accounts_check_user_and_password() {
    let a = Accounts::new().with("bob", "hungry");
    assert!(a.check("bob", "hungry"));
    assert!(!a.check("bob", "Hungry"));
    assert!(!a.check("alice", "hungry"));
}

#[test]
fn a_broken_uid_list_starts_fresh_rather_than_failing() {
    let (dir, store) = store();
    let inbox = store.inbox("bob").unwrap();
    inbox.deliver(b"a\r\n").unwrap();
    std::fs::write(dir.path().join("bob/Maildir/conform-uidlist"), "garbage").unwrap();
    let l = inbox.scan().unwrap();
    assert_eq!(l.messages[0].uid, 1);
}

/// Keywords get the letters a–z in order, once each (case-insensitive), named
/// in the folder's dovecot-keywords; when the 26 are taken, none is given.
#[test]
fn keywords_get_one_letter_each_until_the_26_are_taken() {
    let (dir, store) = store();
    let inbox = store.inbox("bob").unwrap();
    assert_eq!(inbox.keyword_letter("Junk", false).unwrap(), None);
    assert_eq!(inbox.keyword_letter("Junk", true).unwrap(), Some('a'));
    assert_eq!(inbox.keyword_letter("$Label1", true).unwrap(), Some('b'));
    assert_eq!(inbox.keyword_letter("junk", true).unwrap(), Some('a'));
    assert_eq!(inbox.keywords(), vec!["Junk".to_string(), "$Label1".into()]);
    let file = std::fs::read_to_string(dir.path().join("bob/Maildir/dovecot-keywords")).unwrap();
    assert_eq!(file, "0 Junk\n1 $Label1\n");
    for i in 2..MAX_KEYWORDS {
        let c = inbox.keyword_letter(&format!("k{i}"), true).unwrap();
        assert_eq!(c, Some(char::from(b'a' + i as u8)));
    }
    assert_eq!(inbox.keyword_letter("one-too-many", true).unwrap(), None);
}
