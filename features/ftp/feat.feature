@ftp @rfc2389
Feature: FTP feature negotiation (FEAT, OPTS)

  @sec-3.2 @MUST
  Scenario: FEAT is answered with a multi-line 211 reply
    Given an FTP session logged in as the profile's user
    When the client sends "FEAT"
    Then the server replies 211
    And the reply is a multi-line reply in the RFC 959 format

  @sec-3.2 @MUST
  Scenario: Each feature line of the FEAT reply starts with a space
    Given an FTP session logged in as the profile's user
    When the client sends "FEAT"
    Then every line between the first and the last starts with a space

  @sec-3.2 @SHOULD
  Scenario: FEAT lists the RFC 2428 and RFC 3659 commands the server has
    Given an FTP session logged in as the profile's user
    When the client sends "FEAT"
    Then the reply text contains "EPSV"
    And the reply text contains "SIZE"
    And the reply text contains "MDTM"

  @sec-4 @MUST
  Scenario: OPTS UTF8 ON is accepted
    # RFC 2640 §3.1 (UTF8 in FEAT) with RFC 2389 §4: a server that lists UTF8
    # accepts OPTS UTF8 ON with 200. Some servers answer 202 (already on).
    Given an FTP session logged in as the profile's user
    When the client sends "OPTS UTF8 ON"
    Then the server replies with one of 200, 202
