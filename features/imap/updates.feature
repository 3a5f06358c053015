@imap @rfc3501 @rfc9051
Feature: IMAP updates from other sessions
  RFC 3501 §7.3.1 / §5.2: the server reports changes to the selected
  mailbox with untagged responses; IDLE (RFC 2177, part of RFC 9051)
  reports them as they happen.

  @rfc3501-sec-7.3.1 @rfc3501-sec-5.2 @rfc9051-sec-5.2 @MUST
  Scenario: NOOP reports a message another session appended
    # §6.1.2: NOOP "can be used as a periodic poll for new messages";
    # §7.3.1: EXISTS "is sent ... if the size of the mailbox changes".
    Given an IMAP session with a scratch mailbox
    And the scratch mailbox is selected
    And client B has an authenticated IMAP session
    When client B appends the plain test message to the scratch mailbox
    And the client sends "a1 NOOP"
    Then the server replies OK
    And the client got an untagged response matching "^\* 1 EXISTS$"

  @rfc3501-sec-5.2 @rfc9051-sec-5.2 @rfc3501-sec-7.4.1 @MUST
  Scenario: NOOP reports a message another session expunged
    # §5.2: "A server MUST send mailbox size updates automatically if a
    # mailbox size change is observed during the processing of a command."
    Given an IMAP session with a scratch mailbox
    And the scratch mailbox holds the test messages
    And the scratch mailbox is selected
    And client B has an authenticated IMAP session
    When client B sends "b1 SELECT ${imap.scratch}"
    And client B sends "b2 STORE 1 +FLAGS.SILENT (\\Deleted)"
    And client B sends "b3 EXPUNGE"
    And the client sends "a1 NOOP"
    Then the server replies OK
    And the client got an untagged response matching "^\* 1 EXPUNGE$"

  @rfc3501-sec-5.2 @rfc9051-sec-5.2 @SHOULD
  Scenario: NOOP reports flags another session changed
    # §5.2: "A server SHOULD send message flag updates automatically,
    # without requiring the client to request such updates explicitly."
    Given an IMAP session with a scratch mailbox
    And the scratch mailbox holds the test messages
    And the scratch mailbox is selected
    And client B has an authenticated IMAP session
    When client B sends "b1 SELECT ${imap.scratch}"
    And client B sends "b2 STORE 2 +FLAGS.SILENT (\\Flagged)"
    And the client sends "a1 NOOP"
    Then the server replies OK
    And the client got an untagged response matching "^\* 2 FETCH \(.*FLAGS \(.*\\Flagged.*\)"

  @rfc2177 @rfc2177-sec-3 @MUST
  Scenario: IDLE reports a new message while idling
    # RFC 2177 §3: "the server may send untagged EXISTS ... responses at
    # any time" while idling; "DONE" ends IDLE with a tagged OK.
    Given an IMAP session with a scratch mailbox
    And the server announces the IDLE capability
    And the scratch mailbox is selected
    And client B has an authenticated IMAP session
    When the client sends "a1 IDLE"
    Then the server replies +
    When client B appends the plain test message to the scratch mailbox
    Then the client receives an untagged EXISTS response
    When the client sends "DONE"
    Then the server replies OK
