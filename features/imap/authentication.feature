@imap @rfc3501 @rfc9051
Feature: IMAP authentication
  RFC 3501 §6.2 / RFC 9051 §6.2: LOGIN and AUTHENTICATE move the session
  to the authenticated state; bad credentials are refused with NO.

  @rfc3501-sec-6.2.3 @rfc9051-sec-6.2.3 @MUST
  Scenario: LOGIN with the profile's credentials succeeds
    Given an IMAP session
    When the client sends "a1 LOGIN \"${imap.user}\" \"${imap.password}\""
    Then the server replies OK

  # One failed login for both checks: servers delay the answer to a failed
  # login on purpose (RFC 3501 §11.2: "A server SHOULD have mechanisms in
  # place to limit or delay failed AUTHENTICATE/LOGIN attempts"; dovecot
  # waits 2 s, and more for each further failure from the address), so a
  # second failed login in the run would only wait longer.
  @rfc3501-sec-6.2.3 @rfc9051-sec-6.2.3 @MUST
  Scenario: LOGIN with a wrong password is refused with NO, and the session stays unauthenticated
    # §6.2.3: "NO - login failure: user name or password rejected"; the
    # session stays in the not authenticated state (§3.1), where SELECT is
    # not valid.
    Given an IMAP session
    When the client sends "a1 LOGIN \"${imap.user}\" \"not-the-password\""
    Then the server replies NO
    When the client sends "a2 SELECT INBOX"
    Then the server replies with one of BAD, NO

  @rfc3501-sec-4.3 @rfc9051-sec-4.3 @rfc3501-sec-7.5 @MUST
  Scenario: A synchronising literal gets a continuation request
    # §4.3: "the client MUST wait to receive a command continuation request
    # ... before sending the octet data"; the server sends "+" (§7.5).
    Given an IMAP session
    When the client logs in with the user name as a synchronising literal
    Then the server replies OK

  @rfc3501-sec-6.2.2 @rfc9051-sec-6.2.2 @rfc4616 @MUST
  Scenario: AUTHENTICATE PLAIN with a continuation request logs in
    # §6.2.2: the server sends "+" and the client answers with the base64
    # SASL response; PLAIN is "authzid NUL authcid NUL passwd" (RFC 4616).
    Given an IMAP session
    And the server announces the AUTH=PLAIN capability
    When the client sends "a1 AUTHENTICATE PLAIN"
    Then the server replies +
    When the client answers with the PLAIN credentials
    Then the server replies OK

  @rfc3501-sec-6.2.2 @rfc9051-sec-6.2.2 @MUST
  Scenario: A cancelled AUTHENTICATE is answered with BAD
    # §6.2.2: "If the client wishes to cancel an authentication exchange, it
    # issues a line consisting of a single "*". If the server receives such
    # a response, it MUST reject the AUTHENTICATE command by sending a
    # tagged BAD response."
    Given an IMAP session
    And the server announces the AUTH=PLAIN capability
    When the client sends "a1 AUTHENTICATE PLAIN"
    Then the server replies +
    When the client sends "*"
    Then the server replies BAD
