@pop3 @rfc1939 @serial
Feature: The UPDATE state without SMTP: a message placed in the Maildir

  A POP3 server that reads a Maildir gets its messages from a local
  delivery agent; here conform is that agent. The scenario places its own
  message in the [pop3] user's Maildir (the profile's pop3.maildir, written
  by conform; without it the scenario is skipped) and removes it again with
  DELE and QUIT, so the maildrop ends as it was found.

  @rfc1939-sec-6 @MUST @course-P-02 @course-P-05
  Scenario: DELE and QUIT remove a message placed in the Maildir
    # §6: "the POP3 server removes all messages marked as deleted from the
    # maildrop" when QUIT is issued in the TRANSACTION state.
    Given a message "From: alice@crepes.fr\r\nTo: bob@example.test\r\nSubject: Delete me\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\nMessage-ID: <dele-placed@crepes.fr>\r\n\r\nDelete me.\r\n" placed in the POP3 user's Maildir
    And a POP3 session logged in that sees the delivered message
    When the client marks the delivered message deleted
    And the client sends "QUIT"
    Then the server replies +OK
    And the delivered message is gone in a new session

  @rfc1939-sec-6 @MUST
  Scenario: QUIT after several DELEs removes exactly the messages marked
    # §6: QUIT "removes all messages marked as deleted from the maildrop";
    # the others stay. Three placed messages, the first and the third
    # marked: in a new session only the second is left of them, and the
    # maildrop is two messages smaller.
    Given 3 messages placed in the POP3 user's Maildir
    And a POP3 session logged in that sees the placed messages
    When the client marks placed messages 1 and 3 deleted
    And the client sends "QUIT"
    Then the server replies +OK
    And a new session has exactly the placed messages that were not marked
