@ftp @rfc2389
Feature: FTP feature negotiation (FEAT, OPTS)

  FEAT is an extension (RFC 2389): a server without it answers 500 or 502
  (§3.2) and the scenarios about its reply are skipped. A server with no
  extensions may answer with the single line "211 no-features" (§3.2:
  no-features = "211" SP *TCHAR CRLF); otherwise the reply is the
  multi-line feature listing.

  @rfc2389-sec-3.2 @MUST
  Scenario: FEAT is answered with a 211 reply
    Given an FTP session logged in as the profile's user
    When the client sends "FEAT"
    Then a server that implements the command replies with one of 211

  @rfc2389-sec-3.2 @MUST
  Scenario: Each feature line of the FEAT reply starts with a space
    # §3.2: feature-listing = "211-" *TCHAR CRLF 1*( SP feature CRLF )
    # "211 End" CRLF.
    Given an FTP session logged in as the profile's user
    When the client sends "FEAT"
    Then every line between the first and the last starts with a space

  @rfc3659-sec-4.4 @MUST
  Scenario: A server that has SIZE lists it in FEAT
    # RFC 3659 §4.4: "When replying to the FEAT command, a server-FTP
    # process that supports the SIZE command MUST include a line containing
    # the single word "SIZE"."
    Given an FTP session logged in as the profile's user
    When the client sends "TYPE I"
    Then a server that answers "SIZE binary.bin" with 213 lists "SIZE" in its FEAT reply

  @rfc3659-sec-3.4 @MUST
  Scenario: A server that has MDTM lists it in FEAT
    # RFC 3659 §3.4: a server-FTP process that supports MDTM "MUST include a
    # line containing the single word "MDTM"" when replying to FEAT.
    Given an FTP session logged in as the profile's user
    Then a server that answers "MDTM hello.txt" with 213 lists "MDTM" in its FEAT reply

  @rfc2389-sec-4 @MAY
  Scenario: OPTS UTF8 ON is accepted by a server that lists UTF8
    # No RFC defines OPTS UTF8 ON: RFC 2640 §3.2 has the UTF8 line of FEAT,
    # and RFC 2389 §4 defines OPTS for a command name, letting a server
    # answer 501. Clients send it anyway; a server that lists UTF8 answering
    # 200 (or 202, already on) is informational.
    Given an FTP session logged in as the profile's user
    And the server announces "UTF8" in its FEAT reply
    When the client sends "OPTS UTF8 ON"
    Then the server replies with one of 200, 202
