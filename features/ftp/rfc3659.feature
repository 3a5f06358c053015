@ftp @rfc3659
Feature: FTP extensions SIZE, MDTM, MLSD and REST STREAM

  These extensions are optional: a scenario runs when the server lists the
  extension in its FEAT reply (RFC 3659 §4.4, §3.4, §7.8, §5.5) and is
  skipped otherwise. vsftpd, for one, has no MLST/MLSD.

  Background:
    Given an FTP session logged in as the profile's user

  @rfc3659-sec-4 @MUST
  Scenario: SIZE in TYPE I reports the file's size in octets
    Given the server announces "SIZE" in its FEAT reply
    When the client sends "TYPE I"
    And the client sends "SIZE binary.bin"
    Then the server replies 213 with the size of the fixture file "binary.bin"

  @rfc3659-sec-4 @MUST
  Scenario: SIZE in TYPE A reports the octets a transfer in TYPE A sends
    # RFC 3659 §4: the size is the "exact number of octets" that a transfer
    # of the file would send, and depends on the current TYPE; a server
    # that cannot work it out in TYPE A refuses SIZE there with 550
    # (pyftpdlib does), which §4 allows. The RETR before it shows what this
    # server sends in TYPE A (whether it converts to CRLF is judged in
    # transfers.feature).
    Given the server announces "SIZE" in its FEAT reply
    When the client sends "TYPE A"
    And the client enters passive mode
    And the client sends "RETR hello.txt" over the data connection
    And the client sends "SIZE hello.txt"
    Then the server replies 213 with the number of octets received, or 550

  @rfc3659-sec-4.2 @MUST
  Scenario: SIZE of a missing file is refused with 550
    Given the server announces "SIZE" in its FEAT reply
    When the client sends "TYPE I"
    And the client sends "SIZE conform-no-such-file.txt"
    Then the server replies 550

  @rfc3659-sec-3 @MUST
  Scenario: MDTM answers 213 with a UTC time-val
    Given the server announces "MDTM" in its FEAT reply
    When the client sends "MDTM hello.txt"
    Then the server replies 213 with a time-val

  @rfc3659-sec-3.2 @MUST
  Scenario: MDTM of a missing file is refused with 550
    Given the server announces "MDTM" in its FEAT reply
    When the client sends "MDTM conform-no-such-file.txt"
    Then the server replies 550

  @rfc3659-sec-7 @MUST
  Scenario: MLSD lists files with type and size facts
    Given the server announces "MLST" in its FEAT reply
    When the client enters passive mode
    And the client sends "MLSD" over the data connection
    Then the server replies with one of 226, 250
    And the MLSD entry for "binary.bin" has type "file" and the fixture file's size

  @rfc3659-sec-7 @MUST
  Scenario: MLSD marks directories with type=dir
    Given the server announces "MLST" in its FEAT reply
    When the client enters passive mode
    And the client sends "MLSD" over the data connection
    Then the MLSD entry for "docs" has type "dir"

  @rfc3659-sec-5 @MUST
  Scenario: REST then RETR sends the file from the restart point
    Given the server announces "REST" in its FEAT reply
    # REST is "followed immediately by the FTP service command which shall
    # cause file transfer to resume" (RFC 959 §4.1.3): PASV comes first.
    When the client sends "TYPE I"
    And the client enters passive mode
    And the client sends "REST 6"
    And the client sends "RETR hello.txt" over the data connection
    Then the data received is exactly "from the conform FTP fixture tree.\nThis file has LF line endings on disk.\nIn TYPE A they travel as CRLF.\n"

  @rfc3659-sec-5.3 @MUST
  Scenario: REST is answered with 350
    Given the server announces "REST" in its FEAT reply
    When the client sends "TYPE I"
    And the client sends "REST 6"
    Then the server replies 350
