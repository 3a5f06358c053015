@smtp @rfc3207
Feature: STARTTLS: upgrading an SMTP session to TLS

  RFC 3207: a server that announces STARTTLS answers it 220, then the client
  starts the TLS handshake at once (§4). After the handshake the session is
  back in its initial state: the server forgets what the client said before
  (the EHLO name, any command read ahead), the client sends EHLO again, and
  STARTTLS is no longer announced (§4.2). These scenarios run when the
  profile sets [smtp] tls = "starttls" (and ca_file or tls_insecure); a
  server without TLS skips them.

  @rfc3207-sec-4 @MUST
  Scenario: STARTTLS is answered 220 and the TLS handshake follows
    # §4: "220 Ready to start TLS"; "After receiving a 220 response to a
    # STARTTLS command, the client MUST start the TLS negotiation".
    Given an SMTP session after EHLO that announces STARTTLS
    When the client sends "STARTTLS"
    Then the server replies 220
    When the client completes the TLS handshake
    And the client sends "EHLO client.example"
    Then the server replies 250

  @rfc3207-sec-4.2 @MUST
  Scenario: EHLO inside TLS does not announce STARTTLS
    # §4.2: "A server MUST NOT return the STARTTLS extension in response to
    # an EHLO command received after a TLS handshake has completed."
    Given an SMTP session in TLS
    When the client sends "EHLO client.example"
    Then the server replies 250
    And the EHLO reply does not announce "STARTTLS"

  @rfc3207-sec-4.2 @MUST
  Scenario: STARTTLS inside TLS is refused
    # §4.2: "Both the client and the server MUST know if there is a TLS
    # session active": a second STARTTLS is not answered "220 Ready".
    Given an SMTP session in TLS
    When the client sends "EHLO client.example"
    And the client sends "STARTTLS"
    Then the server replies with one of 4xx, 5xx

  @rfc3207-sec-4.2 @MUST
  Scenario: After the handshake a mail transaction needs a new EHLO
    # §4.2: "the SMTP protocol is reset to the initial state ... The server
    # MUST discard any knowledge obtained from the client, such as the
    # argument to the EHLO command". A server that refuses MAIL before EHLO
    # refuses it right after the handshake too.
    Given the SMTP server refuses MAIL before EHLO
    And an SMTP session in TLS
    When the client sends "MAIL FROM:<alice@crepes.fr>"
    Then the server replies with one of 503, 5xx

  @rfc3207-sec-4.2 @MUST @one-write
  Scenario: Commands pipelined with STARTTLS are not executed inside TLS
    # §4.2: the server "MUST discard any knowledge obtained from the client
    # ... which was not obtained from the TLS negotiation itself": a command
    # sent in plaintext in the same segment as STARTTLS must not be answered
    # inside TLS (the CVE-2011-0411 class of injection). A server may also
    # refuse the STARTTLS that came with pipelined data.
    Given an SMTP session after EHLO that announces STARTTLS
    Then the command "HELP" pipelined with STARTTLS is not executed inside TLS
