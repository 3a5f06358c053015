@ftp @rfc4217
Feature: AUTH TLS: securing an FTP session and its data connections

  RFC 4217: a server that honours AUTH TLS answers 234 and the TLS handshake
  follows (§4.2); the user then logs in again inside TLS, since AUTH resets
  the user and the transfer parameters (§4.2, RFC 2228 §3). PBSZ comes
  after the handshake and PROT after PBSZ (§9); after PROT P every data
  connection is in TLS too, the FTP client its TLS client (§7, §9). These
  run when the profile sets [ftp] tls = "starttls" (or "implicit", where
  there is no AUTH to send) with ca_file or tls_insecure; a server without
  TLS skips them. With that setting every other FTP scenario secures its
  session before USER and its data connections with PROT P, so the
  profile's password and files never go out in plaintext.

  @rfc4217-sec-4.2 @MUST
  Scenario: AUTH TLS is answered 234, the handshake follows, and USER is sent inside TLS
    # §4.2: "'234' is the server response to an 'AUTH TLS' command that it
    # will honour" and "the USER command MUST still be issued by the client".
    Given an FTP session on the cleartext connection
    When the client sends "AUTH TLS"
    Then the server replies 234
    When the client completes the TLS handshake
    And the client logs in as the profile's user
    Then the server replies 257

  @rfc4217-sec-6 @MUST
  Scenario: FEAT advertises AUTH, PBSZ and PROT
    # §6: "If a server supports the FEAT command, then it MUST advertise
    # supported AUTH, PBSZ, and PROT commands in the reply". A server
    # without FEAT skips.
    Given an FTP session on the cleartext connection
    Then the FEAT reply lists "AUTH", "PBSZ" and "PROT"

  @rfc4217-sec-4.2 @SHOULD
  Scenario: A USER sent before AUTH TLS does not carry into the TLS session
    # §4.2 (after RFC 2228 §3, "the user must reauthorize"): the user
    # identity is reset by AUTH, "almost as if a REIN command was issued".
    # Both RFCs say it in lower case, so it is checked as SHOULD. A PASS
    # inside TLS after a USER sent only in plaintext must not log in (503
    # bad sequence, or 530); a server that refuses the plaintext USER
    # (and may close, as vsftpd does) passes too.
    Given an FTP session on the cleartext connection
    Then a PASS inside TLS after a USER sent in plaintext does not log in

  @rfc4217-sec-9 @SHOULD
  Scenario: PBSZ before AUTH TLS is refused
    # §9: "a PBSZ command MUST be preceded by a successful security data
    # exchange"; RFC 2228 §3 names the reply: "it should respond with a 503
    # reply code". Any refusal passes.
    Given an FTP session on the cleartext connection
    When the client sends "PBSZ 0"
    Then the server replies with one of 4xx, 5xx

  @rfc4217-sec-9 @SHOULD
  Scenario: PROT before PBSZ is refused
    # §9: "the PROT command MUST be preceded by a PBSZ command"; RFC 2228
    # §3: "The PROT command will be rejected and the server should reply
    # 503 if no previous PBSZ command was issued". Any refusal passes.
    Given an FTP session in TLS that has sent neither PBSZ nor PROT
    When the client sends "PROT P"
    Then the server replies with one of 4xx, 5xx

  @rfc4217-sec-9 @MUST
  Scenario: After PROT P a file comes over a TLS data connection, byte for byte
    # §9: once PROT is accepted with 200, "the security of subsequent data
    # connections MUST be at that level"; the client starts TLS on the data
    # connection after the 150 (§12.6) and the file must come inside it.
    Given an FTP session in TLS with protected data, logged in as the profile's user
    When the client sends "TYPE I"
    And the client enters passive mode
    And the client sends "RETR binary.bin" over the data connection
    Then the data received is the fixture file "binary.bin"

  @rfc4217-sec-7 @MUST
  Scenario: After PROT P an active-mode upload is in TLS too, and comes back the same
    # §7: for the data connections "the FTP client MUST be the TLS client
    # and the FTP server MUST be the TLS server", whichever side connects:
    # here the server connects to the client's PORT address.
    Given an FTP session in TLS with protected data, logged in as the profile's user
    When the client sends "TYPE I"
    And the client enters active mode
    And the client stores "conform-tls-upload.bin" with the fixture file "binary.bin"
    And the client enters passive mode
    And the client sends "RETR conform-tls-upload.bin" over the data connection
    Then the data received is the fixture file "binary.bin"

  @rfc4217-sec-4.2 @MAY @one-write
  Scenario: A command pipelined with AUTH TLS is not executed inside TLS
    # RFC 4217 states no rule for plaintext pipelined behind AUTH TLS (RFC
    # 3207 §4.2 and RFC 9051 §6.2.1 make it a MUST for SMTP and IMAP, the
    # STARTTLS command injection class), so a server that runs it inside
    # TLS is reported as information.
    Given an FTP session on the cleartext connection
    Then the command "SYST" pipelined with AUTH TLS is not executed inside TLS
