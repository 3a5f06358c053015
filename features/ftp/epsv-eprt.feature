@ftp @rfc2428
Feature: FTP extended passive and active modes (EPSV, EPRT)

  RFC 2428 adds EPSV and EPRT, which work for IPv4 and IPv6 alike. EPSV
  answers 229 with only a port, (|||port|); the data connection goes to the
  control connection's server address. Both are an extension: a server that
  answers them with 500 or 502 is skipped.

  Background:
    Given an FTP session logged in as the profile's user

  @rfc2428-sec-3 @MUST
  Scenario: EPSV is answered with 229 and a port, and RETR works over it
    When the client sends "TYPE I"
    And the client enters extended passive mode
    And the client sends "RETR binary.bin" over the data connection
    Then the server replies with one of 226, 250
    And the data received is the fixture file "binary.bin"

  @rfc2428-sec-2 @MUST
  Scenario: EPRT with an IPv4 address sets up an active data connection
    When the client sends "TYPE I"
    And the client enters extended active mode
    And the client sends "RETR binary.bin" over the data connection
    Then the server replies with one of 226, 250
    And the data received is the fixture file "binary.bin"

  @rfc2428-sec-2 @MUST
  Scenario: EPRT with an unknown network protocol is refused
    # RFC 2428 §2: "The response code 522 indicates that the server does not
    # support the requested network protocol"; "If the network protocol is
    # unsupported, the format of the response string MUST be" the text and
    # "(prot1,prot2,...,protn)". 9 is an IANA address family number, so the
    # command is well-formed (500 and 501 are for syntax errors). vsftpd
    # 3.0.3 ("500 Bad EPRT protocol.") and pyftpdlib ("501 Unknown network
    # protocol") deviate. The EPRT for IPv4 first shows that the server has
    # EPRT at all.
    When the client enters extended active mode
    And the client sends "EPRT |9|127.0.0.1|2000|"
    Then the server replies 522

  @rfc2428-sec-3 @MUST
  Scenario: EPSV with an unknown network protocol is refused with 522
    # RFC 2428 §3: for EPSV <net-prt>, if the protocol is not supported "the
    # server MUST return the 522 error messages as outlined in section 2".
    # 3 is an IANA address family number, so the command is well-formed
    # (500 and 501 are for syntax errors). The plain EPSV first shows that
    # the server has EPSV at all.
    When the client enters extended passive mode
    And the client sends "EPSV 3"
    Then the server replies 522

  @rfc2428-sec-3 @MUST
  Scenario: After EPSV ALL, PASV is refused
    # RFC 2428 §3: "Upon receipt of an EPSV ALL command, the server MUST
    # reject all data connection setup commands other than EPSV (i.e.,
    # EPRT, PORT, PASV, et al.)". The reply to EPSV ALL itself is not
    # specified: any 2xx.
    When the client sends "EPSV ALL"
    Then a server that implements the command replies with one of 2xx
    When the client sends "PASV"
    Then the server replies with one of 4xx, 5xx

  @rfc2428-sec-3 @MUST
  Scenario: After EPSV ALL, PORT is refused
    When the client sends "EPSV ALL"
    Then a server that implements the command replies with one of 2xx
    When the client sends PORT for port 40000 at its own address
    Then the server replies with one of 4xx, 5xx

  @rfc2428-sec-3 @MUST
  Scenario: After EPSV ALL, EPRT is refused
    When the client sends "EPSV ALL"
    Then a server that implements the command replies with one of 2xx
    When the client sends EPRT for port 40000 at its own address
    Then the server replies with one of 4xx, 5xx

  @rfc2428-sec-3 @MUST
  Scenario: After EPSV ALL, EPSV still sets up the data connection
    When the client sends "EPSV ALL"
    Then a server that implements the command replies with one of 2xx
    When the client sends "TYPE I"
    And the client enters extended passive mode
    And the client sends "RETR binary.bin" over the data connection
    Then the server replies with one of 226, 250
    And the data received is the fixture file "binary.bin"
