@ftp @rfc959 @course-F-03
Feature: FTP data transfers in passive and active mode

  Each transfer uses its own data connection, which carries one file or one
  listing and is then closed (course notes F-03). The server answers the
  transfer command with a preliminary 125 or 150, and with 226 (or 250) after
  the data connection closed (RFC 959 §5.4). Stream mode ends a file by
  closing the data connection (§3.4.1).

  Background:
    Given an FTP session logged in as the profile's user

  @rfc959-sec-4.1.3 @MUST @course-F-06
  Scenario: RETR in passive mode sends the file byte for byte, then 226
    When the client sends "TYPE I"
    And the client enters passive mode
    And the client sends "RETR binary.bin" over the data connection
    Then the server replies with one of 226, 250
    And the data received is the fixture file "binary.bin"

  @rfc959-sec-4.1.2 @SHOULD
  Scenario: The PASV reply names the address the client is connected to
    # RFC 959 §4.1.2: PASV replies with "the host and port address this
    # server is listening on". A different host there is a server behind NAT
    # announcing an address the client cannot reach.
    When the client enters passive mode
    Then the address in the 227 reply is the server's control address

  @rfc959-sec-2.3 @MUST @course-F-02
  Scenario: The control connection stays open after a transfer
    When the client sends "TYPE I"
    And the client enters passive mode
    And the client sends "RETR hello.txt" over the data connection
    And the client sends "NOOP"
    Then the server replies 200

  @rfc959-sec-4.1.3 @MUST @course-F-03
  Scenario: RETR in active mode: the server connects to the PORT address
    When the client sends "TYPE I"
    And the client enters active mode
    And the client sends "RETR binary.bin" over the data connection
    Then the server replies with one of 226, 250
    And the data received is the fixture file "binary.bin"

  @rfc959-sec-4.1.3 @MUST @course-F-06
  Scenario: LIST sends the directory listing over the data connection
    When the client enters passive mode
    And the client sends "LIST" over the data connection
    Then the server replies with one of 226, 250
    And the listing names "hello.txt"

  @rfc959-sec-3.1.1.1 @MUST
  Scenario: LIST lines travel as ASCII lines ending in CRLF
    When the client enters passive mode
    And the client sends "LIST" over the data connection
    Then every line of the data received ends with CRLF

  @rfc959-sec-4.1.3 @MUST
  Scenario: LIST in active mode
    When the client enters active mode
    And the client sends "LIST docs" over the data connection
    Then the listing names "notes.txt"

  @rfc959-sec-4.1.3 @MUST
  Scenario: NLST lists the names of the directory
    # §4.1.3: "the server will return a stream of names of files and no
    # other information" (an `ls -l` line is LIST's, not NLST's).
    When the client enters passive mode
    And the client sends "NLST" over the data connection
    Then the name list holds "binary.bin" and no other information on its line
    And the server replies with one of 226, 250

  @rfc959-sec-3.2 @rfc959-sec-5.4 @MUST @course-F-07
  Scenario: A transfer with no data connection set up is refused with 425
    # Without PORT or PASV the data port is the default one, the client's
    # control port (§3.2: "The server, upon receiving the transfer request,
    # will initiate the data connection to the port", and "Every FTP
    # implementation must support the use of the default data ports").
    # Nothing listens there, so the transfer ends in 425, at once or after
    # a 125/150; a server that promises a connection with 150 and then
    # neither opens one nor answers fails.
    When the client sends "RETR hello.txt"
    Then the transfer is refused with 425

  @rfc959-sec-5.4 @MUST @course-F-07
  Scenario: A transfer whose PORT address does not answer is refused with 425
    # RFC 959 §5.4 lists 425 for the transfer command. A server may also try
    # the address at once and refuse PORT with 425 (pyftpdlib does): both are
    # a 425 for the transfer that cannot happen.
    When the client sends "RETR hello.txt" after a PORT command for a port where nothing listens
    Then the transfer is refused with 425

  @rfc959-sec-5.4 @MUST
  Scenario: RETR of a missing file is refused with 550
    When the client enters passive mode
    And the client sends "RETR conform-no-such-file.txt" over the data connection
    Then the server replies 550

  @rfc959-sec-4.1.3 @MUST @course-F-06
  Scenario: STOR in passive mode then RETR gives back the same bytes (TYPE I)
    When the client sends "TYPE I"
    And the client enters passive mode
    And the client stores "conform-stor-binary.bin" with the fixture file "binary.bin"
    And the client enters passive mode
    And the client sends "RETR conform-stor-binary.bin" over the data connection
    Then the server replies with one of 226, 250
    And the data received is the fixture file "binary.bin"

  @rfc959-sec-4.1.3 @MUST
  Scenario: STOR is answered with 226 after the data connection closes
    When the client sends "TYPE I"
    And the client enters active mode
    And the client stores "conform-stor-active.bin" with the fixture file "binary.bin"
    Then the server replies with one of 226, 250

  @rfc959-sec-3.1.1.1 @rfc1123-sec-4.1.2.13 @MUST
  Scenario: RETR in TYPE A sends the text with CRLF line endings
    # The fixture file has LF line endings on disk. RFC 959 §3.1.1.1: "The
    # sender converts the data from an internal character representation to
    # the standard 8-bit NVT-ASCII representation", whose line end is CRLF;
    # RFC 1123 §4.1.2.13: "Type: ASCII Non-print" MUST be supported. vsftpd
    # converts only with ascii_download_enable=YES (off by default).
    When the client sends "TYPE A"
    And the client enters passive mode
    And the client sends "RETR hello.txt" over the data connection
    Then the data received is the fixture file "hello.txt" with CRLF line endings

  @rfc959-sec-3.1.1.1 @MUST
  Scenario: Text stored in TYPE A comes back unchanged in TYPE A
    When the client sends "TYPE A"
    And the client enters passive mode
    And the client stores "conform-stor-ascii.txt" with the bytes "first line\r\nsecond line\r\n"
    And the client enters passive mode
    And the client sends "RETR conform-stor-ascii.txt" over the data connection
    Then the data received is exactly "first line\r\nsecond line\r\n"

  @rfc959-sec-3.1.1.1 @SHOULD
  Scenario: Text stored in TYPE A is kept with the server's line endings (LF on Unix)
    # The receiver converts NVT-ASCII to its own representation (a MUST);
    # that this representation is LF holds for Unix servers only, hence
    # SHOULD. vsftpd needs ascii_upload_enable=YES for it.
    When the client sends "TYPE A"
    And the client enters passive mode
    And the client stores "conform-stor-ascii-lf.txt" with the bytes "a\r\nb\r\n"
    And the client sends "TYPE I"
    And the client enters passive mode
    And the client sends "RETR conform-stor-ascii-lf.txt" over the data connection
    Then the data received is exactly "a\nb\n"

  @rfc959-sec-4.1.3 @rfc1123-sec-4.1.2.13 @MUST
  Scenario: APPE appends to an existing file
    # APPE is not in RFC 959 §5.1's minimum, but RFC 1123 §4.1.2.13 lists it
    # among the commands that "MUST be supported by every server-FTP".
    When the client sends "TYPE I"
    And the client enters passive mode
    And the client stores "conform-appe.txt" with the bytes "one\n"
    And the client enters passive mode
    And the client appends the bytes "two\n" to "conform-appe.txt"
    And the client enters passive mode
    And the client sends "RETR conform-appe.txt" over the data connection
    Then the data received is exactly "one\ntwo\n"

  @rfc1123-sec-4.1.2.9 @MUST
  Scenario: STOU names the file it stored in its preliminary reply
    # RFC 1123 §4.1.2.9: "a Server-FTP MUST return the actual file name in
    # the "125 Transfer Starting" or the "150 Opening Data Connection"
    # message", as "125 FILE: pppp" or "150 FILE: pppp" (the 250 of RFC 959
    # is "incorrect"). STOU itself is optional: 500 or 502 skips. The RETR
    # of that name shows it is the file stored.
    When the client sends "TYPE I"
    And the client enters passive mode
    And the client stores the bytes "unique\r\n" with STOU
    Then the server replies with one of 226, 250
    When the client enters passive mode
    And the client sends "RETR ${ftp.stou}" over the data connection
    Then the data received is exactly "unique\r\n"

  @rfc959-sec-3.3 @MUST @course-F-03
  Scenario: A second transfer needs a new data connection and gets one
    When the client sends "TYPE I"
    And the client enters passive mode
    And the client sends "RETR hello.txt" over the data connection
    And the client enters passive mode
    And the client sends "RETR binary.bin" over the data connection
    Then the server replies with one of 226, 250
    And the data received is the fixture file "binary.bin"

  @rfc959-sec-4.1.3 @MUST
  Scenario: ABOR with no transfer in progress is answered 225 or 226
    # ABOR is optional (RFC 1123 §4.1.2.13 leaves it out of the minimum; its
    # summary marks it MAY): a server without it (500, 502) is skipped.
    When the client sends "ABOR"
    Then a server that implements the command replies with one of 225, 226

  @rfc959-sec-4.1.3 @MUST
  Scenario: ABOR during an upload is answered 426, then 226, and the data connection is closed
    # §4.1.3 ABOR: if "the FTP service command is still in progress", the
    # server "aborts the FTP service in progress and closes the data
    # connection, returning a 426 reply", then "sends a 226 reply". The
    # client sends Telnet IP and Synch before ABOR, in the stream (§4.1.3's
    # recommended order). ABOR is optional (RFC 1123 §4.1.2.13): a server
    # that answers ABOR with 500 or 502 skips.
    When the client sends "ABOR"
    Then a server that implements the command replies with one of 225, 226
    When the client sends "TYPE I"
    And the client enters passive mode
    And the client aborts an upload of "conform-abor.bin" in progress with ABOR
    Then the server replies 226
