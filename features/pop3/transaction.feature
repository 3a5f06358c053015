@pop3 @rfc1939 @serial
Feature: POP3 TRANSACTION state: STAT, LIST, RETR, DELE, RSET, NOOP, TOP, UIDL

  Course notes §5 (P-05 to P-07): list, retr, dele and quit; DELE only
  marks a message, which disappears from the session at once but from the
  maildrop only when QUIT enters the UPDATE state. These scenarios need at
  least two messages in the maildrop (the fixture Maildir has two) and
  never delete one: every session that marks a message ends without QUIT.
  The maildrop may be locked for a whole session (§4), so these scenarios
  run one at a time (@serial).

  Background:
    Given a POP3 session logged in

  @rfc1939-sec-5 @MUST @course-P-07
  Scenario: STAT is answered with +OK, a message count and a size
    When the client sends "STAT"
    Then the STAT reply is +OK, a message count and a size

  @rfc1939-sec-5 @MUST @course-P-05 @points(2)
  Scenario: LIST is a dot-terminated scan listing of numbers and sizes
    # Course P-05: "1 498" / "2 912" / "."; §5 puts +OK before the listing.
    When the client sends "list"
    Then the server replies +OK
    And every line of the listing is a message number and a size

  @rfc1939-sec-5 @MUST
  Scenario: The scan listing adds up to STAT
    When the client sends "LIST"
    Then the scan listing agrees with STAT

  @rfc1939-sec-5 @MUST
  Scenario: LIST with a message number gives that message's size
    When the client sends "LIST 1"
    Then the server replies +OK

  @rfc1939-sec-5 @MUST
  Scenario: LIST of a message that does not exist is refused with -ERR
    When the client sends "LIST 99999"
    Then the server replies -ERR

  @rfc1939-sec-5 @MUST @course-P-05 @points(2)
  Scenario: RETR sends the message in as many octets as LIST says
    # §5: LIST gives "the exact size of the message in octets"; RETR sends
    # it dot-terminated and byte-stuffed (the reader undoes the stuffing).
    Then message 1 has as many octets as LIST reports

  @rfc1939-sec-5 @MUST
  Scenario: RETR of a message that does not exist is refused with -ERR
    When the client sends "RETR 99999"
    Then the server replies -ERR

  @rfc1939-sec-5 @MUST @course-P-07
  Scenario: A message marked with DELE is gone from the session at once
    # §5: "Any future reference to the message-number associated with the
    # message in a POP3 command generates an error."
    When the client sends "DELE 1"
    Then the server replies +OK
    And the server has no message 1 in this session

  @rfc1939-sec-5 @MUST
  Scenario: DELE of a message already marked is refused with -ERR
    When the client sends "DELE 1"
    And the client sends "DELE 1"
    Then the server replies -ERR

  @rfc1939-sec-5 @MUST @course-P-07
  Scenario: RSET unmarks deleted messages
    When the client sends "DELE 1"
    And the client sends "RSET"
    Then the server replies +OK
    When the client sends "LIST 1"
    Then the server replies +OK

  @rfc1939-sec-5 @MUST
  Scenario: NOOP is answered with +OK
    When the client sends "NOOP"
    Then the server replies +OK

  @rfc1939-sec-5 @MUST @course-T-08
  Scenario: NOOP sent byte by byte is answered with +OK
    # RFC 9293 §3.7: "TCP guarantees no correlation between the boundaries
    # of TCP segments sent and received and the boundaries of the read or
    # write buffers": a command cut into 1-byte segments is the same command
    # (course catalogue T-08).
    When the client sends "NOOP" byte by byte
    Then the server replies +OK

  @rfc1939-sec-6 @MUST @course-P-02 @course-P-07 @points(3)
  Scenario: A session that ends without QUIT deletes nothing
    # §6: only the UPDATE state, entered by QUIT, removes marked messages.
    # Course P-02: "dele 1, then a dropped connection without quit: message
    # 1 still exists in the next session".
    When the client remembers message 1
    And the client sends "DELE 1"
    Then the server replies +OK
    When the client drops the connection without QUIT
    Then message 1 is unchanged in a new session

  @rfc1939-sec-6 @MUST @course-P-05
  Scenario: QUIT in the TRANSACTION state is answered with +OK and closes
    When the client sends "QUIT"
    Then the server replies +OK
    And the server closes the client's connection

  @rfc1939-sec-7 @MAY
  Scenario: TOP n 0 sends the header and the blank line
    # TOP is optional (§7); where implemented, it sends "the headers of the
    # message, the blank line separating the headers from the body, and
    # then the number of lines of the indicated message's body".
    When the client remembers message 1
    And the client sends "TOP 1 0"
    Then the server replies +OK
    And the data is the header of message 1 and the blank line

  @rfc1939-sec-7 @MAY
  Scenario: UIDL lists a unique-id per message
    # UIDL is optional (§7); a unique-id is 1 to 70 characters 0x21-0x7E.
    When the client sends "UIDL"
    Then the server replies +OK
    And every line of the listing is a message number and a unique-id
