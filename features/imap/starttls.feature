@imap @rfc9051
Feature: STARTTLS: upgrading an IMAP session to TLS

  RFC 9051 §6.2.1 (as RFC 3501 §6.2.1 and RFC 2595 §3.1 before it): in the
  not-authenticated state the client sends STARTTLS, the server completes
  it with OK and the TLS handshake begins right after that line. Plaintext
  the client sent behind STARTTLS must never be taken for commands inside
  TLS, and once TLS is up STARTTLS is neither announced nor accepted.
  These run when the profile sets [imap] tls = "starttls" (and ca_file or
  tls_insecure); a server without TLS skips them. With that setting every
  other IMAP scenario upgrades its session before logging in, so the
  profile's password never goes out in plaintext.

  @rfc9051-sec-6.2.1 @MUST
  Scenario: STARTTLS is completed with OK and the TLS handshake follows
    # §6.2.1 Result: "OK - starttls completed, begin TLS negotiation"; "A
    # TLS negotiation begins immediately after the CRLF at the end of the
    # tagged OK response". §6.1.1: servers MUST implement STARTTLS on
    # cleartext ports.
    Given an IMAP session on the cleartext connection that announces STARTTLS
    When the client sends "a1 STARTTLS"
    Then the server replies OK
    When the client completes the TLS handshake
    And the client sends "a2 NOOP"
    Then the server replies OK

  @rfc9051-sec-6.2.1 @SHOULD
  Scenario: CAPABILITY inside TLS does not announce STARTTLS
    # §6.2.1: the server "SHOULD NOT advertise the STARTTLS capability,
    # after a successful STARTTLS command".
    Given an IMAP session in TLS
    Then CAPABILITY does not announce "STARTTLS"

  @rfc9051-sec-6.2.1 @MUST
  Scenario: STARTTLS inside TLS is answered BAD
    # §6.2.1 Result: "BAD - STARTTLS received after a successful TLS
    # negotiation"; on an Implicit TLS port the server "MUST always respond
    # with a tagged BAD response".
    Given an IMAP session in TLS
    When the client sends "a1 STARTTLS"
    Then the server replies BAD

  @rfc9051-sec-6.2.1 @MUST @one-write
  Scenario: A command pipelined with STARTTLS is not executed inside TLS
    # §6.2.1: for data received in the same TCP buffer after the STARTTLS
    # line, "server implementations MUST do one of the following": take it
    # as the beginning of the TLS handshake (which then fails), or throw it
    # away. Either passes; answering it inside TLS fails.
    Given an IMAP session on the cleartext connection that announces STARTTLS
    Then the command "CAPABILITY" pipelined with STARTTLS is not executed inside TLS

  @rfc9051-sec-6.2.3 @MUST
  Scenario: Where LOGINDISABLED is announced, LOGIN before TLS is answered with a tagged NO
    # §6.2.3: a server MUST implement a configuration in which it
    # advertises LOGINDISABLED and does not permit LOGIN outside TLS; §7.2.2:
    # such a server "will respond with a tagged NO response to any attempt
    # to use the LOGIN command even if the user name and password are
    # valid". The credentials sent are made up: the profile's password
    # never goes out in plaintext. A server that does not announce
    # LOGINDISABLED skips this.
    Given an IMAP session on the cleartext connection that announces LOGINDISABLED
    When the client sends "a1 LOGIN conform-nobody not-the-password"
    Then the server replies NO
