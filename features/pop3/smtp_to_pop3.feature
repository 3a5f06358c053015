@pop3 @rfc1939 @rfc5321 @needs-smtp @serial
Feature: Mail delivered by SMTP is retrieved by POP3

  The course's Alice→Bob chain (S-05): Alice's message reaches Bob's
  mailbox by SMTP, and Bob reads it with POP3. Needs [smtp] in the profile,
  with ${smtp.recipient} the [pop3] user's mailbox. Every scenario deletes
  the message it delivered, so the maildrop ends as it was found.

  @rfc1939-sec-3 @MUST @course-S-05 @course-S-10 @course-M-01 @course-M-02 @course-M-03 @points(3)
  Scenario: Lines starting with "." and a lone "." line survive SMTP and POP3 byte for byte
    # SMTP dot-stuffs on the way in (RFC 5321 §4.5.2) and POP3 byte-stuffs
    # on the way out (RFC 1939 §3); after both are undone the message is
    # what Alice wrote, behind the trace fields servers add (RFC 5321 §4.4).
    Given a message "From: alice@crepes.fr\r\nTo: ${smtp.recipient}\r\nSubject: Searching for the meaning of life.\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\nMessage-ID: <dots-e2e@crepes.fr>\r\n\r\n.A line that starts with a dot\r\n..Two dots\r\n.\r\nThe line above is a lone dot.\r\n" delivered by SMTP to "${smtp.recipient}"
    Then POP3 retrieves the delivered message byte for byte

  @rfc5321-sec-4.4 @MUST
  Scenario: The delivered message begins with a Received: trace field
    # RFC 5321 §4.4: "When an SMTP server receives a message for delivery
    # or further processing, it MUST insert trace ("time stamp" or
    # "Received") information at the beginning of the message content".
    Given a message "From: alice@crepes.fr\r\nTo: ${smtp.recipient}\r\nSubject: Traced\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\nMessage-ID: <trace-e2e@crepes.fr>\r\n\r\nTraced.\r\n" delivered by SMTP to "${smtp.recipient}"
    Then POP3 retrieves the delivered message behind a Received: trace field

  @rfc1939-sec-6 @MUST @course-P-02 @course-P-05
  Scenario: DELE and QUIT remove the message in the UPDATE state
    Given a message "From: alice@crepes.fr\r\nTo: ${smtp.recipient}\r\nSubject: Delete me\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\nMessage-ID: <dele-e2e@crepes.fr>\r\n\r\nDelete me.\r\n" delivered by SMTP to "${smtp.recipient}"
    And a POP3 session logged in that sees the delivered message
    When the client marks the delivered message deleted
    And the client sends "QUIT"
    Then the server replies +OK
    And the delivered message is gone in a new session

  @rfc1939-sec-6 @MUST @course-P-06
  Scenario: A message read without DELE stays on the server
    # Course P-06 (download-and-keep): RETR without DELE leaves it there.
    Given a message "From: alice@crepes.fr\r\nTo: ${smtp.recipient}\r\nSubject: Keep me\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\nMessage-ID: <keep-e2e@crepes.fr>\r\n\r\nKeep me.\r\n" delivered by SMTP to "${smtp.recipient}"
    And a POP3 session logged in that sees the delivered message
    When the client sends "QUIT"
    Then the server replies +OK
    And the delivered message is still there in a new session

  @rfc1939-sec-4 @MUST
  Scenario: A message stays retrievable while another session deletes it
    # §4: the server "acquires an exclusive-access lock on the maildrop, as
    # necessary to prevent messages from being modified or removed before
    # the session enters the UPDATE state". Refusing the second session
    # (-ERR, "[IN-USE]" in RFC 2449 §8.1.2) or holding it back does that;
    # so does letting it in while the first session's messages stay intact.
    Given a message "From: alice@crepes.fr\r\nTo: ${smtp.recipient}\r\nSubject: Locked\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\nMessage-ID: <lock-e2e@crepes.fr>\r\n\r\nStill here.\r\n" delivered by SMTP to "${smtp.recipient}"
    And a POP3 session logged in that sees the delivered message
    When client B deletes the delivered message in a second session, if the server lets it in
    Then the client still retrieves the delivered message
