@ftp @rfc2428
Feature: FTP extended passive and active modes (EPSV, EPRT)

  RFC 2428 adds EPSV and EPRT, which work for IPv4 and IPv6 alike. EPSV
  answers 229 with only a port, (|||port|); the data connection goes to the
  control connection's server address.

  Background:
    Given an FTP session logged in as the profile's user

  @sec-3 @MUST
  Scenario: EPSV is answered with 229 and a port, and RETR works over it
    When the client sends "TYPE I"
    And the client enters extended passive mode
    And the client sends "RETR binary.bin" over the data connection
    Then the server replies with one of 226, 250
    And the data received is the fixture file "binary.bin"

  @sec-2 @MUST
  Scenario: EPRT with an IPv4 address sets up an active data connection
    When the client sends "TYPE I"
    And the client enters extended active mode
    And the client sends "RETR binary.bin" over the data connection
    Then the server replies with one of 226, 250
    And the data received is the fixture file "binary.bin"

  @sec-2 @MUST
  Scenario: EPRT with an unknown network protocol is refused
    # RFC 2428 §2: "If the server does not support the requested protocol,
    # it MUST return 522". vsftpd 3.0.3 answers "500 Bad EPRT protocol." and
    # pyftpdlib "501 Unknown network protocol": both refuse the command, which
    # is what matters for the client (it falls back to another protocol), but
    # not with 522. The outcome set states that deviation; accepting the
    # address (2xx) still fails.
    When the client sends "EPRT |9|127.0.0.1|2000|"
    Then the server replies with one of 522, 500, 501
