@pop3 @rfc2595
Feature: STLS: upgrading a POP3 session to TLS

  RFC 2595 §4: a server that announces the STLS capability takes STLS in
  the AUTHORIZATION state, answers +OK, and the TLS handshake begins right
  after that line; the session stays in AUTHORIZATION. These run when the
  profile sets [pop3] tls = "starttls" (and ca_file or tls_insecure); a
  server without TLS skips them. With that setting every other POP3
  scenario upgrades its session before USER and PASS, so the profile's
  password never goes out in plaintext.

  @rfc2595-sec-4 @MUST
  Scenario: STLS is answered +OK and the TLS handshake follows
    # §4: the STLS capability says the command "is present and permitted
    # in the current state"; "A TLS negotiation begins immediately after
    # the CRLF at the end of the +OK response from the server", and the
    # client "MUST NOT issue further commands until ... the TLS negotiation
    # is complete".
    Given a POP3 session on the cleartext connection that announces STLS
    When the client sends "STLS"
    Then the server replies +OK
    When the client completes the TLS handshake
    And the client sends "USER ${pop3.user}"
    Then the server replies +OK

  @rfc2595-sec-4 @MAY
  Scenario: STLS inside TLS is refused
    # §4: "A -ERR response MAY result if a security layer is already
    # active" (the RFC's example answers "-ERR Command not permitted when
    # TLS active"); a server may also offer no STLS inside TLS at all.
    Given a POP3 session in TLS
    Then CAPA does not announce "STLS"
    When the client sends "STLS"
    Then the server replies -ERR

  @rfc2595-sec-4 @MAY @one-write
  Scenario: A command pipelined with STLS is not executed inside TLS
    # RFC 2595 states no server rule for plaintext pipelined behind STLS
    # (RFC 3207 §4.2 and RFC 9051 §6.2.1 make it a MUST for SMTP and IMAP,
    # the STARTTLS command injection class), so a server that runs it inside
    # TLS is reported as information. The client side is a MUST: it sends
    # nothing until the handshake is complete.
    Given a POP3 session on the cleartext connection that announces STLS
    Then the command "CAPA" pipelined with STLS is not executed inside TLS
