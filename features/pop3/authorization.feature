@pop3 @rfc1939
Feature: POP3 greeting and the AUTHORIZATION state

  Course notes §5 (P-01 to P-04): the client connects to port 110, the
  server greets with +OK, the client logs in with "user" and "pass", every
  reply starts with +OK or -ERR.

  @rfc1939-sec-4 @MUST @course-P-01
  Scenario: The server greets with +OK
    Given a POP3 session
    Then the next reply is +OK

  @rfc1939-sec-7 @MUST @course-P-04
  Scenario: USER with the user name is answered with +OK
    Given a POP3 session that has been greeted
    When the client sends "USER ${pop3.user}"
    Then the server replies +OK

  @rfc1939-sec-3 @rfc1939-sec-7 @MUST @course-P-04 @points(2)
  Scenario: The course's login, in lower case, is accepted
    # The course transcript: "user bob" / "+OK" / "pass hungry" / "+OK user
    # successfully logged on". §3: keywords are case-insensitive. While
    # another scenario's session holds the maildrop, "-ERR [IN-USE]" says
    # the same: "the authentication was successful" (RFC 2449 §8.1.2).
    Given a POP3 session that has been greeted
    When the client sends "user ${pop3.user}"
    Then the server replies +OK
    When the client sends "pass ${pop3.password}"
    Then the server accepts the login, or answers that the maildrop is in use

  @rfc1939-sec-7 @MUST @course-P-04
  Scenario: A wrong password is refused with -ERR
    Given a POP3 session that has been greeted
    When the client sends "USER ${pop3.user}"
    And the client sends "PASS not-the-password-${pop3.password}"
    Then the server refuses the wrong password

  @rfc1939-sec-4 @MUST @timeout(15s)
  Scenario: After a refused PASS the session is still in the AUTHORIZATION state
    # (Servers delay the answer to a wrong password, dovecot by 2 s: hence
    # the longer timeout.) §4: after a negative answer "the server may close the connection. If
    # the server does not close the connection, the client may either issue
    # a new authentication command and start again, or ... QUIT". So STAT
    # is refused, and USER and the right PASS then log in.
    Given a POP3 session that has been greeted
    When the client sends "USER ${pop3.user}"
    And the client sends "PASS not-the-password-${pop3.password}"
    Then the server refuses the wrong password
    And the server is back in the AUTHORIZATION state or has closed the connection

  @rfc1939-sec-7 @MUST
  Scenario: PASS without a preceding USER is refused with -ERR
    # §7: PASS "may only be given in the AUTHORIZATION state immediately
    # after a successful USER command".
    Given a POP3 session that has been greeted
    When the client sends "PASS ${pop3.password}"
    Then the server replies -ERR

  @rfc1939-sec-4 @MUST @course-P-02
  Scenario Outline: Transaction commands before login are refused with -ERR
    # §4: in the AUTHORIZATION state only USER/PASS (or APOP) and QUIT.
    Given a POP3 session that has been greeted
    When the client sends "<command>"
    Then the server replies -ERR

    Examples:
      | command |
      | STAT    |
      | LIST    |
      | RETR 1  |
      | DELE 1  |

  @rfc1939-sec-3 @MUST @course-P-03
  Scenario Outline: An unknown or misspelled command is refused with -ERR
    # Course P-03: "If you misspell a command, the POP3 server will reply
    # with an -ERR message."
    Given a POP3 session that has been greeted
    When the client sends "<command>"
    Then the server replies -ERR

    Examples:
      | command |
      | usr bob |
      | FOO     |

  @rfc1939-sec-4 @MUST
  Scenario: QUIT before login is answered with +OK and closes the connection
    # §4: QUIT in the AUTHORIZATION state ends the session without UPDATE.
    Given a POP3 session that has been greeted
    When the client sends "QUIT"
    Then the server replies +OK
    And the server closes the client's connection

  @rfc2449 @rfc2449-sec-5 @MAY
  Scenario: CAPA lists the capabilities as multi-line data
    # RFC 2449 is an extension: a server need not offer CAPA, nor list USER
    # (§6.2). Where it does, CAPA works in AUTHORIZATION (§5); the reader
    # checks the dot-terminated list.
    Given a POP3 session that has been greeted
    When the client sends "CAPA"
    Then the server replies +OK
    And the reply text contains "USER"

  @rfc1939-sec-7 @MUST
  Scenario: The APOP timestamp differs on every connection
    # §7: a server that implements APOP puts a timestamp (an RFC 822
    # msg-id) in its greeting, which "MUST be different each time the POP3
    # server issues a banner greeting". Skipped where the greeting has
    # none (dovecot's stock greeting).
    Given a POP3 session whose greeting carries an APOP timestamp
    Then a second connection's greeting carries another timestamp

  @rfc1939-sec-7 @MUST @timeout(15s)
  Scenario: APOP with the digest of the timestamp and the password logs in
    # §7: the digest is the MD5 of the timestamp, angle brackets included,
    # followed by the shared secret; if it "is correct, the POP3 server
    # issues a positive response". While another scenario's session holds
    # the maildrop, "-ERR [IN-USE]" says the same (RFC 2449 §8.1.2).
    Given a POP3 session whose greeting carries an APOP timestamp
    When the client sends APOP with the digest of the timestamp and the profile's password
    Then the server accepts the login, or answers that the maildrop is in use

  @rfc1939-sec-7 @MUST @timeout(20s)
  Scenario: APOP with a wrong digest is refused and leaves the session unauthenticated
    # (Servers delay the answer to a failed login; dovecot with APOP
    # enabled takes several seconds: hence the longer timeout.) §7: "Otherwise, a negative response is issued and the POP3 session
    # remains in the AUTHORIZATION state": STAT is refused and USER and PASS
    # log in (or the server closes, as §4 lets it after a failed login).
    Given a POP3 session whose greeting carries an APOP timestamp
    When the client sends APOP with the digest of the timestamp and a wrong password
    Then the server replies -ERR
    And the server is back in the AUTHORIZATION state or has closed the connection
