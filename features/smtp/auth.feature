@smtp @rfc4954
Feature: AUTH: SMTP authentication with PLAIN

  RFC 4954 §4: AUTH names a SASL mechanism and may carry the initial
  response; "*" cancels the exchange; 235 accepts, 535 refuses the
  credentials. RFC 4616: the PLAIN message is NUL user NUL password. The
  scenarios need [smtp] user and password; with [smtp] tls they run only
  inside TLS (credentials never go out in plaintext then), and those about
  the server's TLS policy need [smtp] auth_requires_tls = true. A refusal
  of credentials may come late: servers delay failed logins on purpose
  (dovecot's auth penalty grows with each failure from an address), hence
  the longer bound on those scenarios.

  @rfc4954-sec-4 @MUST
  Scenario: AUTH PLAIN with an initial response and good credentials gets 235
    # §4: the initial response may be given with the AUTH command; §6:
    # "235 2.7.0 Authentication Succeeded".
    Given an SMTP session ready for AUTH
    When the client authenticates with PLAIN as the profile's user
    Then the server replies 235

  @rfc4954-sec-4 @SHOULD @timeout(30s)
  Scenario: A wrong password gets 535
    # §4: "If the server rejects the authentication data, it SHOULD reject
    # the AUTH command with a 535 reply unless a more specific error code
    # ... is appropriate."
    Given an SMTP session ready for AUTH
    When the client authenticates with PLAIN as the profile's user with a wrong password
    Then the server replies 535

  @rfc4954-sec-4 @SHOULD @timeout(30s)
  Scenario: An unknown user gets 535 like a wrong password
    # §4 as above: the same 535, so the reply does not tell which part of
    # the credentials was wrong.
    Given an SMTP session ready for AUTH
    When the client authenticates with PLAIN as an unknown user
    Then the server replies 535

  @rfc4954-sec-4 @MUST
  Scenario: Cancelling AUTH with "*" gets 501
    # §4: "If the client wishes to cancel the authentication exchange, it
    # issues a line with a single "*". If the server receives such a
    # response, it MUST reject the AUTH command by sending a 501 reply."
    Given an SMTP session ready for AUTH
    When the client sends "AUTH PLAIN"
    Then the server replies 334
    When the client sends "*"
    Then the server replies 501

  @rfc4616-sec-4 @SHOULD
  Scenario: AUTH is not announced before TLS where the server requires TLS for it
    # RFC 4616 §4: "By default, implementations SHOULD NOT advertise and
    # SHOULD NOT make use of the PLAIN mechanism unless adequate data
    # security services are in place." The profile says this server keeps
    # AUTH for TLS.
    Given the profile sets smtp.auth_requires_tls to true
    And an SMTP session after EHLO that announces STARTTLS
    Then the EHLO reply does not announce "AUTH"

  @rfc4954-sec-6 @rfc3207-sec-4 @SHOULD
  Scenario: AUTH before TLS is refused where the server requires TLS for it
    # RFC 4954 §6: "538 5.7.11 Encryption required for requested
    # authentication mechanism"; §4: a mechanism that "requires an
    # encryption layer" is rejected with 504; RFC 3207 §4: 530 "Must issue
    # a STARTTLS command first"; 503 from a server that offers no AUTH yet.
    # No credentials are sent: only the bare AUTH PLAIN.
    Given the profile sets smtp.auth_requires_tls to true
    And an SMTP session after EHLO that announces STARTTLS
    When the client sends "AUTH PLAIN"
    Then the server replies with one of 503, 504, 530, 538
