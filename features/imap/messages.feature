@imap @rfc3501 @rfc9051
Feature: IMAP messages: FETCH, STORE, SEARCH, COPY, EXPUNGE
  RFC 3501 §6.4 / RFC 9051 §6.4, and the course notes (§6): search remote
  folders (I-03), fetch only the header or one MIME part (I-05). Each
  scenario selects a scratch mailbox holding the three test messages:
  1 "plain" (from Alice), 2 "multipart" (from Bob, a text part and a
  base64 part), 3 "third" (from Carol).

  Background:
    Given an IMAP session with a scratch mailbox
    And the scratch mailbox holds the test messages
    And the scratch mailbox is selected

  @rfc3501-sec-6.4.5 @rfc9051-sec-6.4.5 @MUST
  Scenario: FETCH FLAGS returns the flags of a message
    When the client sends "a1 FETCH 1 (FLAGS)"
    Then the server replies OK
    And the FETCH response for message 1 does not have the flag \Seen

  @rfc3501-sec-6.4.5 @rfc9051-sec-6.4.5 @MUST
  Scenario: FETCH BODY[] returns the whole message
    When the client sends "a1 FETCH 1 BODY[]"
    Then the server replies OK
    And the FETCH item "BODY[]" of message 1 is the plain test message's whole text

  @rfc3501-sec-6.4.5 @rfc9051-sec-6.4.5 @MUST
  Scenario: FETCH BODY[] sets the \Seen flag
    # §6.4.5 BODY[<section>]: "The \Seen flag is implicitly set".
    When the client sends "a1 FETCH 1 BODY[]"
    Then the server replies OK
    And message 1 has the flag \Seen when fetched again

  @rfc3501-sec-6.4.5 @rfc9051-sec-6.4.5 @SHOULD
  Scenario: The FETCH that sets \Seen reports the new flags
    # §6.4.5: "if this causes the flags to change, they SHOULD be included
    # as part of the FETCH responses."
    When the client sends "a1 FETCH 1 BODY[]"
    Then the server replies OK
    And the FETCH response for message 1 has the flag \Seen

  @rfc3501-sec-6.4.5 @rfc9051-sec-6.4.5 @MUST
  Scenario: FETCH BODY.PEEK[] does not set the \Seen flag
    # §6.4.5 BODY.PEEK: "An alternate form of BODY[<section>] that does not
    # implicitly set the \Seen flag."
    When the client sends "a1 FETCH 1 BODY.PEEK[]"
    Then the server replies OK
    And message 1 does not have the flag \Seen when fetched again

  @rfc3501-sec-6.4.5 @rfc9051-sec-6.4.5 @MUST @course-I-05
  Scenario: FETCH BODY[HEADER] returns only the header, with its blank line
    When the client sends "a1 FETCH 1 BODY.PEEK[HEADER]"
    Then the server replies OK
    And the FETCH item "BODY[HEADER]" of message 1 is the plain test message's header

  @rfc3501-sec-6.4.5 @rfc9051-sec-6.4.5 @MUST
  Scenario: FETCH BODY[TEXT] returns the body without the header
    When the client sends "a1 FETCH 1 BODY.PEEK[TEXT]"
    Then the server replies OK
    And the FETCH item "BODY[TEXT]" of message 1 is the plain test message's body

  @rfc3501-sec-6.4.5 @rfc9051-sec-6.4.5 @MUST
  Scenario: FETCH BODY[HEADER.FIELDS] returns only the fields asked for
    When the client sends "a1 FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]"
    Then the server replies OK
    And the FETCH item "BODY[HEADER.FIELDS (SUBJECT)]" of message 1 is 46 octets long
    And the FETCH item "BODY[HEADER.FIELDS (SUBJECT)]" of message 1 contains "Subject: Searching for the meaning of life"

  @rfc3501-sec-6.4.5 @rfc9051-sec-6.4.5 @MUST @course-I-05
  Scenario: FETCH BODY[2] returns the second MIME part alone
    # The course notes (I-05): a user agent can obtain "just one part of a
    # multipart MIME message".
    When the client sends "a1 FETCH 2 BODY.PEEK[2]"
    Then the server replies OK
    And the FETCH item "BODY[2]" of message 2 is the multipart test message's part 2

  @rfc3501-sec-6.4.5 @rfc9051-sec-6.4.5 @MUST
  Scenario: FETCH BODY[1] of a multipart message returns its first part
    When the client sends "a1 FETCH 2 BODY.PEEK[1]"
    Then the server replies OK
    And the FETCH item "BODY[1]" of message 2 is the multipart test message's part 1

  @rfc3501-sec-6.4.5 @rfc9051-sec-6.4.5 @MUST
  Scenario: FETCH BODY[1] of a non-multipart message returns its body
    # §6.4.5: "Every message has at least one part number. Non-[MIME-IMB]
    # messages, and non-multipart [MIME-IMB] messages with no encapsulated
    # message, only have a part 1."
    When the client sends "a1 FETCH 1 BODY.PEEK[1]"
    Then the server replies OK
    And the FETCH item "BODY[1]" of message 1 is the plain test message's part 1

  @rfc3501-sec-6.4.5 @rfc9051-sec-6.4.5 @MUST
  Scenario: FETCH BODY[2.MIME] returns the part's MIME header
    When the client sends "a1 FETCH 2 BODY.PEEK[2.MIME]"
    Then the server replies OK
    And the FETCH item "BODY[2.MIME]" of message 2 is the multipart test message's part 2 MIME header

  @rfc3501-sec-6.4.5 @rfc9051-sec-6.4.5 @rfc3501-sec-7.4.2 @MUST
  Scenario: A partial FETCH returns the octets asked for, named by their origin
    # §7.4.2: for BODY[]<origin.count> the response names only the origin:
    # "BODY[]<0>".
    When the client sends "a1 FETCH 1 BODY.PEEK[]<0.10>"
    Then the server replies OK
    And the FETCH item "BODY[]<0>" of message 1 is 10 octets long
    And the FETCH item "BODY[]<0>" of message 1 contains "From: Alic"

  @rfc3501-sec-7.4.2 @MUST
  Scenario: RFC822.SIZE is the message's size in octets
    When the client sends "a1 FETCH 2 (RFC822.SIZE)"
    Then the server replies OK
    And the FETCH item "RFC822.SIZE" of message 2 is the size of the multipart test message

  @rfc3501-sec-7.4.2 @MUST
  Scenario: ENVELOPE carries the subject
    When the client sends "a1 FETCH 1 (ENVELOPE)"
    Then the server replies OK
    And the FETCH item "ENVELOPE" of message 1 contains "Searching for the meaning of life"

  @rfc3501-sec-7.4.2 @MUST
  Scenario: ENVELOPE carries the sender's address split into mailbox and host
    When the client sends "a1 FETCH 1 (ENVELOPE)"
    Then the server replies OK
    And the FETCH item "ENVELOPE" of message 1 contains "(\"Alice\" NIL \"alice\" \"crepes.fr\")"

  @rfc3501-sec-7.4.2 @MUST
  Scenario: BODYSTRUCTURE describes both parts and the multipart subtype
    When the client sends "a1 FETCH 2 (BODYSTRUCTURE)"
    Then the server replies OK
    And the FETCH item "BODYSTRUCTURE" of message 2 contains "\"mixed\""
    And the FETCH item "BODYSTRUCTURE" of message 2 contains "\"application\" \"octet-stream\""

  @rfc3501-sec-7.4.2 @rfc9051-sec-7.5.2 @MUST
  Scenario: BODYSTRUCTURE of a forwarded message describes its parts and the message inside
    # §7.4.2: BODYSTRUCTURE is "the [MIME-IMB] body structure of the
    # message"; §9 body: each part gives type, subtype, parameters,
    # encoding and size, text its lines, and a message/rfc822 part the
    # envelope, the body structure and the lines of the message it holds.
    # Every field is compared with what the message's bytes say
    # (extension data aside).
    When the client appends the forwarded test message to the scratch mailbox
    And the client selects the scratch mailbox
    Then the BODYSTRUCTURE of message 4 is the forwarded test message's structure

  @rfc3501-sec-7.4.2 @MUST
  Scenario: INTERNALDATE is a date-time
    When the client sends "a1 FETCH 1 (INTERNALDATE)"
    Then the server replies OK
    And the client got an untagged response matching "INTERNALDATE \"[ 0-9][0-9]-[A-Z][a-z]{2}-[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\""

  @rfc3501-sec-6.4.8 @MUST
  Scenario: UID FETCH returns the UID with every message
    # §6.4.8: "the UID FETCH ... MUST send the UID ... even if the UID
    # data item is not specified as a message data item".
    When the client sends "a1 UID FETCH 1:* (FLAGS)"
    Then the server replies OK
    And the FETCH responses of messages 1, 2, 3 each carry UID

  @rfc3501-sec-6.4.6 @rfc9051-sec-6.4.6 @SHOULD
  Scenario: STORE +FLAGS adds a flag and reports it
    # §6.4.6: "Normally, STORE will return the updated value of the data
    # with an untagged FETCH response" (not a MUST; that the flag is added
    # is the next scenario's MUST).
    When the client sends "a1 STORE 2 +FLAGS (\\Flagged)"
    Then the server replies OK
    And the FETCH response for message 2 has the flag \Flagged

  @rfc3501-sec-6.4.6 @rfc9051-sec-6.4.6 @MUST
  Scenario: A flag added by STORE +FLAGS is kept
    When the client sends "a1 STORE 2 +FLAGS (\\Flagged)"
    Then the server replies OK
    And message 2 has the flag \Flagged when fetched again

  @rfc3501-sec-6.4.6 @rfc9051-sec-6.4.6 @MUST
  Scenario: STORE -FLAGS removes a flag
    When the client sends "a1 STORE 2 +FLAGS (\\Flagged \\Answered)"
    And the client sends "a2 STORE 2 -FLAGS (\\Flagged)"
    Then the server replies OK
    And message 2 does not have the flag \Flagged when fetched again

  @rfc3501-sec-6.4.6 @rfc9051-sec-6.4.6 @SHOULD
  Scenario: STORE +FLAGS.SILENT sends no untagged FETCH
    # §6.4.6: ".SILENT ... the server SHOULD NOT send an untagged FETCH".
    When the client sends "a1 STORE 2 +FLAGS.SILENT (\\Flagged)"
    Then the server replies OK
    And no untagged response matches "^\* 2 FETCH"

  @rfc3501-sec-6.4.8 @MUST
  Scenario: UID STORE changes the message with that UID
    # §6.4.8: UID STORE takes UIDs; the untagged FETCH carries the UID.
    When the client notes the UID of message 3
    And the client sends "a1 UID STORE ${imap.uid} +FLAGS (\\Answered)"
    Then the server replies OK
    And message 3 has the flag \Answered when fetched again

  @rfc3501-sec-6.4.4 @rfc9051-sec-6.4.4 @MUST @course-I-03
  Scenario: SEARCH FROM finds the messages from a sender
    # The course notes (I-03): "SEARCH FROM "alice"" returns the matching
    # sequence numbers.
    When the client sends "a1 SEARCH FROM \"alice\""
    Then the server replies OK
    And the SEARCH response lists exactly message 1

  @rfc3501-sec-6.4.4 @rfc9051-sec-6.4.4 @MUST
  Scenario: SEARCH SUBJECT matches a substring case-insensitively
    When the client sends "a1 SEARCH SUBJECT \"LUNCH\""
    Then the server replies OK
    And the SEARCH response lists exactly message 3

  @rfc3501-sec-6.4.4 @rfc9051-sec-6.4.4 @MUST
  Scenario: SEARCH with several keys matches all of them
    When the client sends "a1 SEARCH TO \"bob\" NOT FROM \"carol\""
    Then the server replies OK
    And the SEARCH response lists exactly message 1

  @rfc3501-sec-6.4.4 @rfc9051-sec-6.4.4 @MUST
  Scenario: SEARCH OR matches either key
    When the client sends "a1 SEARCH OR FROM \"alice\" FROM \"carol\""
    Then the server replies OK
    And the SEARCH response lists exactly messages 1, 3

  @rfc3501-sec-6.4.4 @rfc9051-sec-6.4.4 @MUST
  Scenario: SEARCH ALL lists every message
    When the client sends "a1 SEARCH ALL"
    Then the server replies OK
    And the SEARCH response lists exactly messages 1, 2, 3

  @rfc3501-sec-6.4.4 @rfc9051-sec-6.4.4 @MUST
  Scenario: SEARCH NOT matches the messages the key does not
    When the client sends "a1 SEARCH NOT FROM \"alice\""
    Then the server replies OK
    And the SEARCH response lists exactly messages 2, 3

  @rfc3501-sec-6.4.4 @rfc9051-sec-6.4.4 @MUST
  Scenario: SEARCH HEADER matches a header field's contents
    # §6.4.4: HEADER <field-name> <string>, a substring of the field's
    # contents, case-insensitively.
    When the client sends "a1 SEARCH HEADER Subject \"lunch\""
    Then the server replies OK
    And the SEARCH response lists exactly message 3

  @rfc3501-sec-6.4.4 @rfc9051-sec-6.4.4 @MUST
  Scenario: SEARCH by a sequence set matches those messages
    # §6.4.4: <sequence set> "Messages with message sequence numbers
    # corresponding to the specified message sequence number set".
    When the client sends "a1 SEARCH 1,3:*"
    Then the server replies OK
    And the SEARCH response lists exactly messages 1, 3

  @rfc3501-sec-6.4.4 @rfc9051-sec-6.4.4 @MUST
  Scenario: SEARCH LARGER and SMALLER compare RFC822.SIZE
    # The plain message is 225 octets, the third 177, the multipart one
    # more than 600.
    When the client sends "a1 SEARCH LARGER 200 SMALLER 400"
    Then the server replies OK
    And the SEARCH response lists exactly message 1

  @rfc3501-sec-6.4.4 @rfc9051-sec-6.4.4 @MUST
  Scenario: SEARCH with a charset the server does not have fails with NO
    # §6.4.4: "If the server does not support the specified [CHARSET], it
    # MUST return a tagged NO response (not a BAD)."
    When the client sends "a1 SEARCH CHARSET X-CONFORM-UNKNOWN SUBJECT \"lunch\""
    Then the server replies NO

  @rfc3501-sec-6.4.4 @rfc9051-sec-6.4.4 @SHOULD
  Scenario: The NO to an unknown SEARCH charset carries BADCHARSET
    # §6.4.4: that NO "SHOULD contain the BADCHARSET response code".
    When the client sends "a1 SEARCH CHARSET X-CONFORM-UNKNOWN SUBJECT \"lunch\""
    Then the server replies NO
    And the tagged completion matches "^\S+ NO \[BADCHARSET"

  @rfc3501-sec-6.4.4 @rfc9051-sec-6.4.4 @MUST
  Scenario: SEARCH by flag finds the flagged message
    When the client sends "a1 STORE 3 +FLAGS (\\Flagged)"
    And the client sends "a2 SEARCH FLAGGED"
    Then the server replies OK
    And the SEARCH response lists exactly message 3

  @rfc3501-sec-6.4.4 @rfc9051-sec-6.4.4 @MUST
  Scenario: SEARCH BODY looks into the body
    When the client sends "a1 SEARCH BODY \"pickles\""
    Then the server replies OK
    And the SEARCH response lists exactly message 1

  @rfc3501-sec-6.4.8 @MUST
  Scenario: UID SEARCH returns UIDs
    When the client sends "a1 UID SEARCH FROM \"bob\""
    Then the server replies OK
    And the SEARCH response lists exactly the UIDs of message 2

  @rfc3501-sec-6.4.7 @rfc9051-sec-6.4.7 @MUST @course-I-02
  Scenario: COPY puts a copy into the destination mailbox
    Given a second scratch mailbox
    When the client sends "a1 COPY 1:2 ${imap.scratch2}"
    Then the server replies OK
    And the second scratch mailbox holds 2 messages

  @rfc3501-sec-6.4.7 @rfc9051-sec-6.4.7 @SHOULD
  Scenario: COPY to a mailbox that does not exist fails with NO
    # RFC 3501 §6.4.7: "If the destination mailbox does not exist, a server
    # SHOULD return an error." (RFC 9051 §6.4.7 makes it a MUST; an
    # IMAP4rev1 server is held to the SHOULD.)
    Given an unused mailbox name
    When the client sends "a1 COPY 1 ${imap.unused}"
    Then the server replies NO

  @rfc3501-sec-6.4.3 @rfc9051-sec-6.4.3 @MUST
  Scenario: EXPUNGE removes the \Deleted messages and reports each
    # §6.4.3 / §7.4.1: an untagged EXPUNGE for each removed message, each
    # numbered as the mailbox stands after the ones before it ("* 1
    # EXPUNGE" twice, or "* 3 EXPUNGE" then "* 1 EXPUNGE", for 1 and 3).
    When the client sends "a1 STORE 1,3 +FLAGS.SILENT (\\Deleted)"
    And the client sends "a2 EXPUNGE"
    Then the server replies OK
    And the EXPUNGE responses remove exactly messages 1, 3 of 3

  @rfc3501-sec-6.4.3 @rfc9051-sec-6.4.3 @MUST
  Scenario: After EXPUNGE the mailbox holds the other messages
    # The one left is the multipart message, renumbered 1 (§7.4.1).
    When the client sends "a1 STORE 1,3 +FLAGS.SILENT (\\Deleted)"
    And the client sends "a2 EXPUNGE"
    Then the server replies OK
    And the scratch mailbox holds 1 message
    When the client sends "a3 FETCH 1 BODY.PEEK[HEADER]"
    Then the server replies OK
    And the FETCH item "BODY[HEADER]" of message 1 is the multipart test message's header

  @rfc3501-sec-6.4.2 @MUST
  Scenario: CLOSE removes \Deleted messages without EXPUNGE responses
    # §6.4.2: "No untagged EXPUNGE responses are sent."
    When the client sends "a1 STORE 1 +FLAGS.SILENT (\\Deleted)"
    And the client sends "a2 CLOSE"
    Then the server replies OK
    And no untagged response matches "EXPUNGE"
    And the scratch mailbox holds 2 messages

  @rfc3501-sec-6.4.2 @MUST
  Scenario: After CLOSE no mailbox is selected
    When the client sends "a1 CLOSE"
    And the client sends "a2 FETCH 1 (FLAGS)"
    Then the server replies with one of BAD, NO

  @rfc3501-sec-6.3.2 @MUST
  Scenario: A mailbox opened with EXAMINE cannot be changed by STORE
    # §6.3.2: EXAMINE selects the mailbox read-only; "no changes to the
    # permanent state of the mailbox, including per-user state, are
    # permitted". The RFC does not say how STORE is answered: refused (NO,
    # BAD; the reference server) or "OK Store ignored with read-only
    # mailbox" (dovecot). What it requires is that the flag is not stored.
    When the client sends "a1 EXAMINE ${imap.scratch}"
    And the client sends "a2 STORE 1 +FLAGS (\\Flagged)"
    Then the server replies with one of NO, BAD, OK
    And message 1 does not have the flag \Flagged when fetched again

  @rfc6851 @rfc6851-sec-3.1 @MUST
  Scenario: MOVE puts the message into the destination and expunges it
    Given the server announces the MOVE capability
    And a second scratch mailbox
    When the client sends "a1 MOVE 3 ${imap.scratch2}"
    Then the server replies OK
    And the client got an untagged response matching "^\* 3 EXPUNGE$"
    And the second scratch mailbox holds 1 message

  @rfc3501-sec-2.3.1.1 @rfc9051-sec-2.3.1.1 @MUST
  Scenario: A message appended later gets a higher UID
    # §2.3.1.1: "Unique identifiers are assigned in a strictly ascending
    # fashion in the mailbox".
    When the client appends the plain test message to the scratch mailbox
    And the client sends "a1 NOOP"
    Then the server replies OK
    And the UIDs of messages 1, 2, 3, 4 ascend

  @rfc3501-sec-6.4.6 @rfc9051-sec-6.4.6 @MUST
  Scenario: STORE FLAGS replaces the flags
    # §6.4.6: "FLAGS <flag list>: Replace the flags for the message ...
    # with the argument."
    When the client sends "a1 STORE 1 +FLAGS (\\Answered)"
    And the client sends "a2 STORE 1 FLAGS (\\Flagged)"
    Then the server replies OK
    And message 1 has the flag \Flagged when fetched again
    And message 1 does not have the flag \Answered when fetched again

  @rfc3501-sec-6.3.1 @rfc9051-sec-6.3.2 @MUST
  Scenario: A failed SELECT leaves no mailbox selected
    # §6.3.1: "The SELECT command automatically deselects any currently
    # selected mailbox before attempting the new selection. Consequently,
    # if a mailbox is selected and a SELECT command that fails is
    # attempted, no mailbox is selected."
    Given an unused mailbox name
    When the client sends "a1 SELECT ${imap.unused}"
    Then the server replies NO
    When the client sends "a2 FETCH 1 (FLAGS)"
    Then the server replies with one of BAD, NO

  @rfc3501-sec-6.3.11 @rfc9051-sec-6.3.12 @SHOULD
  Scenario: APPEND into the selected mailbox reports the new message with EXISTS
    # §6.3.11: "If the mailbox is currently selected, the normal new
    # message actions SHOULD occur. Specifically, the server SHOULD notify
    # the client immediately via an untagged EXISTS response."
    When the client appends a small message to the mailbox "${imap.scratch}"
    Then the server replies OK
    And the client got an untagged response matching "^\* 4 EXISTS$"

  @rfc3501-sec-9 @rfc9051-sec-9 @MUST
  Scenario Outline: A sequence range names every message between its ends
    # §9: seq-range is "two seq-number values and all values between these
    # two regardless of order. Example: 2:4 and 4:2 are equivalent"; "*"
    # is the number of the last message.
    When the client sends "a1 FETCH <range> (FLAGS)"
    Then the server replies OK
    And the FETCH responses of messages 2, 3 each carry FLAGS

    Examples:
      | range |
      | 3:2   |
      | 2:*   |

  @rfc3501-sec-6.4.8 @MUST
  Scenario: UID FETCH of a UID that does not exist completes with OK and no data
    # §6.4.8: "A non-existent unique identifier is ignored without any
    # error message generated. Thus, it is possible for a UID FETCH command
    # to return an OK without any data".
    When the client sends "a1 UID FETCH 4000000000 (FLAGS)"
    Then the server replies OK
    And no untagged response matches "FETCH"
