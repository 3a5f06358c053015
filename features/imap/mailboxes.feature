@imap @rfc3501 @rfc9051
Feature: IMAP mailboxes
  The course notes (§6, I-02, I-04): mail lives in folders on the server,
  new mail goes to INBOX, and the folders persist across sessions. RFC 3501
  §6.3 / RFC 9051 §6.3 give the commands. Each scenario works in scratch
  mailboxes of its own, deleted afterwards; INBOX is only EXAMINEd.

  @rfc3501-sec-6.3.1 @MUST @course-I-02
  Scenario: SELECT reports the number of messages with EXISTS
    Given an IMAP session with a scratch mailbox
    And the scratch mailbox holds the test messages
    When the client sends "a1 SELECT ${imap.scratch}"
    Then the server replies OK
    And the client got an untagged response matching "^\* 3 EXISTS$"

  @rfc3501-sec-6.3.1 @MUST
  Scenario: SELECT reports the mailbox's flags
    Given an IMAP session with a scratch mailbox
    When the client sends "a1 SELECT ${imap.scratch}"
    Then the server replies OK
    And the client got an untagged response matching "^\* FLAGS \(.*\\Seen.*\)$"

  @rfc3501-sec-6.3.1 @rfc3501-sec-2.3.1.1 @rfc9051-sec-2.3.1.1 @MUST
  Scenario: SELECT reports UIDVALIDITY
    # §6.3.1: the "OK [UIDVALIDITY <n>]" untagged response is REQUIRED.
    Given an IMAP session with a scratch mailbox
    When the client sends "a1 SELECT ${imap.scratch}"
    Then the server replies OK
    And the client got an untagged response matching "^\* OK \[UIDVALIDITY [1-9][0-9]*\]"

  @rfc3501-sec-6.3.1 @MUST
  Scenario: SELECT reports UIDNEXT
    # RFC 3501 §6.3.1: "OK [UIDNEXT <n>]" is REQUIRED.
    Given an IMAP session with a scratch mailbox
    When the client sends "a1 SELECT ${imap.scratch}"
    Then the server replies OK
    And the client got an untagged response matching "^\* OK \[UIDNEXT [1-9][0-9]*\]"

  @rfc3501-sec-6.3.1 @SHOULD
  Scenario: SELECT of a writable mailbox completes with READ-WRITE
    # §6.3.1 (RFC 9051 §6.3.2): "If the client is permitted to modify the
    # mailbox, the server SHOULD prefix the text of the tagged OK response
    # with the "[READ-WRITE]" response code" (the scratch mailbox it made).
    Given an IMAP session with a scratch mailbox
    When the client sends "a1 SELECT ${imap.scratch}"
    Then the server replies OK
    And the tagged completion matches "^a1 OK \[READ-WRITE\]"

  @rfc3501-sec-6.3.2 @MUST
  Scenario: EXAMINE completes with READ-ONLY
    # §6.3.2: "The tagged OK response to an EXAMINE command MUST begin with
    # the [READ-ONLY] response code."
    Given an authenticated IMAP session
    When the client sends "a1 EXAMINE INBOX"
    Then the server replies OK
    And the tagged completion matches "^a1 OK \[READ-ONLY\]"

  @rfc3501-sec-5.1 @rfc9051-sec-5.1 @MUST @course-I-02
  Scenario: The name INBOX is case-insensitive
    # §5.1: "The case-insensitive mailbox name INBOX is a special name
    # reserved to mean "the primary mailbox for this user on this server"".
    Given an authenticated IMAP session
    When the client sends "a1 EXAMINE iNbOx"
    Then the server replies OK

  @rfc3501-sec-6.3.1 @MUST
  Scenario: SELECT of a mailbox that does not exist fails with NO
    Given an authenticated IMAP session
    And an unused mailbox name
    When the client sends "a1 SELECT ${imap.unused}"
    Then the server replies NO

  # @serial: dovecot 2.3's mailbox list index answers "NO [ALREADYEXISTS]"
  # to a name no one used when CREATEs and DELETEs of other sessions run at
  # the same time (a server race, not this requirement). Run alone, the
  # scenario judges only what it states.
  @rfc3501-sec-6.3.3 @MUST @course-I-02 @serial
  Scenario: A created mailbox is listed
    Given an authenticated IMAP session
    And an unused mailbox name
    When the client sends "a1 CREATE ${imap.unused}"
    Then the server replies OK
    And LIST shows the mailbox "${imap.unused}"

  # @serial: dovecot 2.3's mailbox list index answers "NO [ALREADYEXISTS]"
  # to a name no one used when CREATEs and DELETEs of other sessions run at
  # the same time (a server race, not this requirement). Run alone, the
  # scenario judges only what it states.
  @rfc3501-sec-6.3.3 @SHOULD @serial
  Scenario: CREATE of a name under a parent that does not exist creates the parent too
    # §6.3.3: "If the server's hierarchy separator character appears
    # elsewhere in the name, the server SHOULD create any superior
    # hierarchical names that are needed for the CREATE command to be
    # successfully completed." ${imap.child} is ${imap.unused}, the
    # namespace's delimiter, and "child".
    Given an authenticated IMAP session
    And an unused mailbox name
    And a name one level under the unused one
    When the client sends "a1 CREATE ${imap.child}"
    Then the server replies OK
    And LIST shows the mailbox "${imap.unused}"

  @rfc3501-sec-6.3.3 @MUST
  Scenario: CREATE of an existing mailbox fails with NO
    # §6.3.3: "It is an error to attempt to create ... a mailbox with a
    # name that refers to an extant mailbox."
    Given an IMAP session with a scratch mailbox
    When the client sends "a1 CREATE ${imap.scratch}"
    Then the server replies NO

  @rfc3501-sec-6.3.3 @MUST
  Scenario: CREATE INBOX fails with NO
    # §6.3.3: "It is an error to attempt to create INBOX".
    Given an authenticated IMAP session
    When the client sends "a1 CREATE INBOX"
    Then the server replies NO

  @rfc3501-sec-6.3.4 @MUST
  Scenario: A deleted mailbox is no longer listed
    Given an IMAP session with a scratch mailbox
    When the client sends "a1 DELETE ${imap.scratch}"
    Then the server replies OK
    And LIST does not show the mailbox "${imap.scratch}"

  @rfc3501-sec-6.3.4 @MUST
  Scenario: DELETE of a mailbox that does not exist fails with NO
    Given an authenticated IMAP session
    And an unused mailbox name
    When the client sends "a1 DELETE ${imap.unused}"
    Then the server replies NO

  @rfc3501-sec-6.3.4 @MUST
  Scenario: DELETE INBOX fails with NO
    # §6.3.4: "It is an error to attempt to delete INBOX".
    Given an authenticated IMAP session
    When the client sends "a1 DELETE INBOX"
    Then the server replies NO

  # @serial: a fresh new name, as for CREATE above (dovecot's list index race).
  @rfc3501-sec-6.3.5 @MUST @serial
  Scenario: RENAME gives a mailbox its new name
    Given an IMAP session with a scratch mailbox
    And an unused mailbox name
    When the client sends "a1 RENAME ${imap.scratch} ${imap.unused}"
    Then the server replies OK
    And LIST shows the mailbox "${imap.unused}"

  # @serial: a fresh new name, as for CREATE above (dovecot's list index race).
  @rfc3501-sec-6.3.5 @MUST @serial
  Scenario: After RENAME the old name is gone
    Given an IMAP session with a scratch mailbox
    And an unused mailbox name
    When the client sends "a1 RENAME ${imap.scratch} ${imap.unused}"
    Then the server replies OK
    And LIST does not show the mailbox "${imap.scratch}"

  @rfc3501-sec-6.3.5 @MUST
  Scenario: RENAME onto the name of an existing mailbox fails with NO
    # §6.3.5: "It is an error to attempt to rename from a mailbox name that
    # does not exist or to a mailbox name that already exists." INBOX
    # always exists.
    Given an IMAP session with a scratch mailbox
    When the client sends "a1 RENAME ${imap.scratch} INBOX"
    Then the server replies NO
    And LIST shows the mailbox "${imap.scratch}"

  @rfc3501-sec-6.3.5 @MUST
  Scenario: RENAME of a mailbox that does not exist fails with NO
    # §6.3.5, as above: the source name does not exist (nor the target).
    Given an authenticated IMAP session
    And an unused mailbox name
    And a name one level under the unused one
    When the client sends "a1 RENAME ${imap.unused} ${imap.child}"
    Then the server replies NO

  # @serial: a fresh new name, as for CREATE above (dovecot's list index race).
  @rfc3501-sec-6.3.5 @rfc9051-sec-6.3.6 @MUST @serial
  Scenario: RENAME INBOX moves its messages to the new name and leaves INBOX empty, or is refused with NO
    # §6.3.5 defines it: renaming INBOX "moves all messages in INBOX to a
    # new mailbox with the given name, leaving INBOX empty" (a definition
    # without a keyword, as DELETE INBOX's error above: @MUST). RFC 9051
    # §6.3.6: it "does not result in a tagged BAD response", and some
    # servers refuse it with a tagged NO, which leaves INBOX as it was. The
    # spare user's INBOX (the profile's [imap] spare_user), so no other
    # scenario's INBOX moves; its messages go back afterwards.
    Given an authenticated IMAP session as the spare user
    And INBOX holds a test message
    And an unused mailbox name
    When the client sends "a1 RENAME INBOX ${imap.unused}"
    Then the server replies with one of OK, NO
    And INBOX's messages moved to the new name, leaving INBOX empty, unless the server refused

  # @serial: fresh new names, as for CREATE above (dovecot's list index race).
  @rfc3501-sec-6.3.8 @MUST @serial
  Scenario: LIST with % stops at the hierarchy delimiter, LIST with * goes on
    # §6.3.8: "*" matches zero or more characters at its position; "%" is
    # like "*" "but it does not match a hierarchy delimiter". Both names are
    # created, so the parent is a real mailbox.
    Given an authenticated IMAP session
    And an unused mailbox name
    And a name one level under the unused one
    When the client sends "a1 CREATE ${imap.unused}"
    And the client sends "a2 CREATE ${imap.child}"
    Then the server replies OK
    And LIST with the pattern "${imap.unused}%" shows the mailbox "${imap.unused}"
    And LIST with the pattern "${imap.unused}%" does not show the mailbox "${imap.child}"
    And LIST with the pattern "${imap.unused}*" shows the mailbox "${imap.child}"

  @rfc3501-sec-6.3.8 @MUST
  Scenario: LIST with an empty pattern returns the hierarchy delimiter
    # §6.3.8: 'An empty ("" string) mailbox name argument is a special
    # request to return the hierarchy delimiter and the root name'.
    Given an authenticated IMAP session
    When the client sends "a1 LIST \"\" \"\""
    Then the server replies OK
    And the client got an untagged response matching "^\* LIST \([^)]*\) (NIL|"[^"]*"|"\\\\") ""$"

  @rfc2342 @rfc2342-sec-5 @MUST
  Scenario: NAMESPACE answers with the three namespace classes
    # RFC 2342 §5 (RFC 9051 §6.3.10): "an untagged NAMESPACE response that
    # contains the prefix and hierarchy delimiter to the server's Personal
    # Namespace(s), Other Users' Namespace(s), and Shared Namespace(s) ...
    # The response will contain a NIL for any namespace class that is not
    # available."
    Given an authenticated IMAP session
    And the server announces the NAMESPACE capability
    When the client sends "a1 NAMESPACE"
    Then the server replies OK
    And the client got an untagged response matching "^\* NAMESPACE (NIL|\(\(.*\)\)) (NIL|\(\(.*\)\)) (NIL|\(\(.*\)\))$"

  @rfc3501-sec-6.3.8 @MUST @course-I-02
  Scenario: LIST "*" includes INBOX
    Given an authenticated IMAP session
    When the client sends "a1 LIST \"\" \"*\""
    Then the server replies OK
    And LIST shows the mailbox "INBOX"

  @rfc3501-sec-6.3.10 @MUST
  Scenario: STATUS reports the number of messages
    Given an IMAP session with a scratch mailbox
    And the scratch mailbox holds the test messages
    When the client sends "a1 STATUS ${imap.scratch} (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)"
    Then the server replies OK
    And the STATUS response reports MESSAGES 3

  @rfc3501-sec-6.3.10 @MUST
  Scenario: STATUS reports unseen messages
    Given an IMAP session with a scratch mailbox
    And the scratch mailbox holds the test messages
    When the client sends "a1 STATUS ${imap.scratch} (UNSEEN)"
    Then the server replies OK
    And the STATUS response reports UNSEEN 3

  @rfc3501-sec-6.3.11 @MUST
  Scenario: APPEND with a synchronising literal adds a message
    Given an IMAP session with a scratch mailbox
    When the client sends "a1 APPEND ${imap.scratch} {17}"
    Then the server replies +
    When the client sends "Subject: hi\r\n\r\nho"
    Then the server replies OK
    And the scratch mailbox holds 1 message

  @rfc7888-sec-3 @MUST
  Scenario: APPEND with a non-synchronising literal adds a message where LITERAL+ is announced
    # RFC 7888 §3: a literal written {n+} is non-synchronising: "The server
    # does not generate a command continuation request" for it, and "MUST
    # treat the specified number of following octets and the following
    # line" as part of the same command.
    Given an IMAP session with a scratch mailbox
    And the server announces the LITERAL+ capability
    When the client appends a small message to the mailbox "${imap.scratch}" with a non-synchronising literal
    Then the server replies OK
    And the scratch mailbox holds 1 message

  @rfc3501-sec-6.3.11 @MUST
  Scenario: APPEND to a mailbox that does not exist fails with NO
    # §6.3.11: "If the destination mailbox does not exist, a server MUST
    # return an error, and MUST NOT automatically create the mailbox."
    # §7.5: the server may refuse at once instead of asking for the literal.
    Given an authenticated IMAP session
    And an unused mailbox name
    When the client appends a small message to the mailbox "${imap.unused}"
    Then the server replies NO

  @rfc3501-sec-6.3.11 @SHOULD
  Scenario: APPEND to a mailbox that does not exist suggests TRYCREATE
    # §6.3.11: the NO "SHOULD" carry the [TRYCREATE] response code.
    Given an authenticated IMAP session
    And an unused mailbox name
    When the client appends a small message to the mailbox "${imap.unused}"
    Then the server replies NO
    And the tagged completion matches "^\S+ NO \[TRYCREATE\]"

  @rfc3501-sec-2.3.1.1 @rfc9051-sec-2.3.1.1 @MUST @course-I-04
  Scenario: A mailbox and its messages persist across sessions
    # The course notes (I-04): "An IMAP server maintains user state
    # information across IMAP sessions".
    Given an IMAP session with a scratch mailbox
    And the scratch mailbox holds the test messages
    When the client logs out and opens a new authenticated IMAP session
    Then LIST shows the mailbox "${imap.scratch}"
    And the scratch mailbox holds 3 messages

  @rfc3501-sec-2.3.2 @rfc9051-sec-2.3.2 @MUST
  Scenario: A permanent flag stored in one session is seen by the next
    # §2.3.2: "Permanent flags are those which the client can add or remove
    # from the message flags permanently; that is, concurrent and
    # subsequent sessions will see any change in permanent flags." Which
    # flags are permanent, PERMANENTFLAGS says (§7.1).
    Given an IMAP session with a scratch mailbox
    And the scratch mailbox holds the test messages
    And the scratch mailbox is selected, with \Flagged among its PERMANENTFLAGS
    When the client sends "a1 STORE 2 +FLAGS (\\Flagged)"
    Then the server replies OK
    When the client logs out and opens a new authenticated IMAP session
    And the client selects the scratch mailbox
    Then message 2 has the flag \Flagged when fetched again

  @rfc3501-sec-7.1 @rfc9051-sec-7.1 @MUST
  Scenario: A keyword stored where PERMANENTFLAGS allows new ones is seen by the next session
    # §7.1: PERMANENTFLAGS "can also include the special flag \*, which
    # indicates that it is possible to create new keywords by attempting to
    # store those flags in the mailbox"; §2.3.2: subsequent sessions see any
    # change in permanent flags. A server without \* skips.
    Given an IMAP session with a scratch mailbox
    And the scratch mailbox holds the test messages
    And the scratch mailbox is selected, with \* among its PERMANENTFLAGS
    When the client sends "a1 STORE 2 +FLAGS (conformkw)"
    Then the server replies OK
    When the client logs out and opens a new authenticated IMAP session
    And the client selects the scratch mailbox
    Then message 2 has the flag conformkw when fetched again

  @rfc3501-sec-2.3.1.1 @rfc9051-sec-2.3.1.1 @MUST
  Scenario: A UID that changes between sessions comes with a greater UIDVALIDITY
    # §2.3.1.1: "Any change of unique identifiers between sessions MUST be
    # detectable using the UIDVALIDITY mechanism"; "If unique identifiers
    # from an earlier session fail to persist in this session, the unique
    # identifier validity value MUST be greater than the one used in the
    # earlier session."
    Given an IMAP session with a scratch mailbox
    And the scratch mailbox holds the test messages
    When the client notes the UIDVALIDITY of the scratch mailbox
    And the client selects the scratch mailbox
    And the client notes the UID of message 3
    And the client logs out and opens a new authenticated IMAP session
    And the client selects the scratch mailbox
    Then the UID of message 3 is as noted, or the new UIDVALIDITY is greater

  @rfc3501-sec-2.3.1.1 @rfc9051-sec-2.3.1.1 @SHOULD @course-I-04
  Scenario: UIDVALIDITY stays the same across sessions
    # §2.3.1.1: "The unique identifier of a message MUST NOT change during
    # the session, and SHOULD NOT change between sessions"; a new
    # UIDVALIDITY declares every UID changed.
    Given an IMAP session with a scratch mailbox
    And the scratch mailbox holds the test messages
    When the client notes the UIDVALIDITY of the scratch mailbox
    And the client logs out and opens a new authenticated IMAP session
    And the client sends "a1 STATUS ${imap.scratch} (UIDVALIDITY)"
    Then the server replies OK
    And the STATUS response reports UIDVALIDITY ${imap.uidvalidity}
