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
    # §5: "+OK" and the scan listing "1 <size>", the size the full listing
    # gives for message 1.
    When the client sends "LIST 1"
    Then the reply is the scan listing of message 1

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
  Scenario: After DELE, STAT leaves the message out and the others keep their numbers
    # §5 STAT: "messages marked as deleted are not counted in either
    # total"; §5 DELE: "The POP3 server marks the message as deleted", it
    # does not renumber the others (message 2 is still "2 <its size>").
    When the client notes the scan listing
    And the client sends "DELE 1"
    Then the server replies +OK
    And STAT and the scan listing are as noted without message 1

  @rfc1939-sec-3 @MUST
  Scenario: RETR byte-stuffs the lines of a message that start with "."
    # §3: "If any line begins with the termination octet, the line is
    # "byte-stuffed" by pre-pending the termination octet to that line of
    # the response." Judged on the wire, before the harness undoes it: the
    # fixture message holds a lone "." line, ".A line…" and "..Two dots".
    When the client retrieves the fixture message with lines starting with "."
    Then every line of it that starts with "." came with one more "." on the wire

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
  Scenario Outline: TOP n k sends the header, the blank line and k body lines
    # §7: "the headers of the message, the blank line separating the
    # headers from the body, and then the number of lines of the indicated
    # message's body"; "if the number of lines requested by the POP3 client
    # is greater than than the number of lines in the body, then the POP3
    # server sends the entire message". Message 2 starts with a line, then
    # a lone "."; message 1 has two body lines.
    When the client remembers message <n>
    And the client sends "TOP <n> <k>"
    Then the server replies +OK
    And the data is the header of message <n> and the blank line, then <lines> body lines

    Examples:
      | n | k   | lines |
      | 2 | 2   | 2     |
      | 1 | 100 | 100   |

  @rfc1939-sec-7 @rfc1939-sec-4 @MUST
  Scenario Outline: USER and PASS are refused in the TRANSACTION state
    # §7: USER "may only be given in the AUTHORIZATION state"; PASS "may
    # only be given in the AUTHORIZATION state immediately after a
    # successful USER command".
    When the client sends "<command>"
    Then the server replies -ERR

    Examples:
      | command                |
      | USER ${pop3.user}      |
      | PASS ${pop3.password}  |

  @rfc1939-sec-5 @MUST
  Scenario Outline: A message-number that is not one is refused with -ERR
    # §5: RETR and DELE take "a message-number (required)", LIST an
    # optional one; "The first message in the maildrop is assigned a
    # message-number of "1"". TOP takes "a non-negative number of lines
    # (required)" too (§7).
    When the client sends "<command>"
    Then the server replies -ERR

    Examples:
      | command  |
      | RETR 0   |
      | RETR abc |
      | RETR     |
      | DELE 0   |
      | DELE     |
      | LIST abc |
      | TOP 1    |

  @rfc1939-sec-7 @MAY
  Scenario: UIDL lists a unique-id per message
    # UIDL is optional (§7); a unique-id is 1 to 70 characters 0x21-0x7E.
    When the client sends "UIDL"
    Then the server replies +OK
    And every line of the listing is a message number and a unique-id

  @rfc1939-sec-7 @MUST
  Scenario: Unique-ids are distinct and persist across sessions
    # UIDL is optional (§7; -ERR skips), but a unique-id "uniquely
    # identifies a message within a maildrop and ... persists across
    # sessions. This persistence is required even if a session ends
    # without entering the UPDATE state."
    When the client notes the unique-ids
    Then UIDL gives the same unique-ids in a new session

  @rfc2449 @rfc2449-sec-5 @MUST
  Scenario: CAPA after login announces every capability announced before it
    # RFC 2449 §5: CAPA "is available in both the AUTHORIZATION and
    # TRANSACTION states"; "Capabilities available in the AUTHORIZATION
    # state MUST be announced in both states" (§6: TOP, USER, SASL,
    # RESP-CODES, UIDL… are "both"; STLS is AUTHORIZATION only, RFC 2595).
    # Skipped where CAPA is not implemented.
    When the client sends "CAPA"
    Then CAPA after login announces every capability CAPA announces before it
