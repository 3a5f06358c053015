@ftp @rfc959 @course-F-02
Feature: FTP control connection: greeting, login and command replies

  The control connection (course notes F-02, F-04, F-05) carries commands of
  four letters at most and replies of a three-digit code and text (RFC 959
  §4.2). The server keeps state for the connection: who logged in, and the
  current directory. Replies that RFC 959 §5.4 allows for each command are
  stated as sets.

  @rfc959-sec-5.4 @MUST @course-F-01
  Scenario: The server greets a new control connection with 220
    Given an FTP connection
    Then the server replies 220

  @rfc959-sec-4.2 @MUST @course-F-05
  Scenario: Reply lines end with CRLF
    Given an FTP connection
    Then every line of the reply ends with CRLF

  @rfc959-sec-4.1.1 @MUST @course-F-07
  Scenario: USER is answered with 331 User name okay, need password
    Given an FTP session that has been greeted
    When the client sends "USER ${ftp.user}"
    Then the server replies 331

  @rfc959-sec-4.1.1 @MUST @course-F-06
  Scenario: PASS with the right password after USER logs in with 230
    # RFC 959 §5.4: PASS → 230, or 202 (superfluous at this site).
    Given an FTP session that has been greeted
    When the client sends "USER ${ftp.user}"
    And the client sends "PASS ${ftp.password}"
    Then the server replies with one of 230, 202

  @rfc959-sec-4.1.1 @MUST @course-F-06
  Scenario: PASS with a wrong password is refused with 530
    Given an FTP session that has been greeted
    When the client sends "USER ${ftp.user}"
    And the client sends "PASS ${ftp.password}-wrong"
    Then the server replies 530

  @rfc959-sec-5.4 @MUST
  Scenario: PASS without USER first is a bad sequence of commands
    # RFC 959 §5.4: PASS → 230, 202, 530, 500, 501, 503, 421, 332. With no
    # USER before it, 503 "bad sequence" or 530 "not logged in".
    Given an FTP session that has been greeted
    When the client sends "PASS ${ftp.password}"
    Then the server replies with one of 503, 530

  @rfc959-sec-4.1.1 @MAY @course-F-04
  Scenario: Commands that need a login are refused with 530 before it
    # RFC 959 §4.1.1: USER "will normally be the first command transmitted
    # by the user after the control connections are made (some servers may
    # require this)". Whether PWD needs a login is the server's choice:
    # informational.
    Given an FTP session that has been greeted
    When the client sends "PWD"
    Then the server replies 530

  @rfc959-sec-4.1.1 @MAY @course-F-04
  Scenario: A transfer command before login is refused with 530
    # As above: access control is the server's (§4.1.1); 530 is the reply
    # §5.4 lists for RETR when it is refused for want of a login.
    Given an FTP session that has been greeted
    When the client sends "RETR hello.txt"
    Then the server replies 530

  @rfc959-sec-5.4 @MUST
  Scenario: After a failed PASS the session is not logged in
    # RFC 959 §5.4: the code sequences "must be strictly adhered to" and the
    # meaning of a code "cannot be altered": a 530 to PASS is "Not logged
    # in", so the next command that needs a login is refused with 530 too.
    # Whether a command needs a login at all is the server's choice
    # (§4.1.1): the PWD before USER shows that this one does, else the
    # scenario is skipped.
    Given an FTP session that has been greeted
    When the client sends "PWD"
    Then a server that needs a login for it replies 530
    When the client sends "USER ${ftp.user}"
    And the client sends "PASS ${ftp.password}-wrong"
    Then the server replies 530
    When the client sends "PWD"
    Then the server replies 530

  @rfc959-sec-5.4 @SHOULD
  Scenario Outline: <verb> without its argument is a syntax error
    # RFC 959 §5.3.2: <verb> <SP> <pathname> <CRLF>; without the pathname
    # the command does not parse, and §4.2.1 has 501 "Syntax error in
    # parameters or arguments" (500, a syntax error of the whole line, is
    # taken too). Acting on an empty name instead (550 "file unavailable")
    # is no reply §5.4 forbids for the command, but it answers another
    # question: @SHOULD.
    Given an FTP session logged in as the profile's user
    When the client sends "<verb>"
    Then the server replies with one of 501, 500

    Examples:
      | verb |
      | RETR |
      | MKD  |
      | DELE |

  @rfc959-sec-4.2 @MUST
  Scenario: An unknown command is answered with 500 or 502
    # RFC 959 §4.2.1: 500 "Syntax error, command unrecognized", 502
    # "Command not implemented".
    Given an FTP session logged in as the profile's user
    When the client sends "XYZZ"
    Then the server replies with one of 500, 502

  @rfc959-sec-4.1.3 @MUST
  Scenario: NOOP is answered with 200
    Given an FTP session logged in as the profile's user
    When the client sends "NOOP"
    Then the server replies 200

  @rfc959-sec-4.1.3 @MUST @course-T-08
  Scenario: NOOP sent byte by byte is answered with 200
    # RFC 9293 §3.7: "TCP guarantees no correlation between the boundaries
    # of TCP segments sent and received and the boundaries of the read or
    # write buffers": a command cut into 1-byte segments is the same command
    # (course catalogue T-08).
    Given an FTP session logged in as the profile's user
    When the client sends "NOOP" byte by byte
    Then the server replies 200

  @rfc959-sec-5.3.1 @MUST
  Scenario: Command verbs are case-insensitive
    Given an FTP session logged in as the profile's user
    When the client sends "noop"
    Then the server replies 200

  @rfc959-sec-4.1.3 @rfc1123-sec-4.1.2.13 @MUST
  Scenario: SYST is answered with 215 and a system name
    # RFC 1123 §4.1.2.13: SYST is among the commands that "MUST be
    # supported by every server-FTP".
    Given an FTP session logged in as the profile's user
    When the client sends "SYST"
    Then the server replies 215

  @rfc959-sec-4.1.3 @rfc1123-sec-4.1.2.13 @MUST
  Scenario: HELP is answered with 211 or 214
    # RFC 1123 §4.1.2.13 has HELP among the commands that MUST be supported;
    # RFC 959 §5.4: HELP → 211, 214. One line or several: the reply reader
    # checks the multi-line format ("214-" first, "214 " last, §4.2).
    Given an FTP session logged in as the profile's user
    When the client sends "HELP"
    Then the server replies with one of 211, 214

  @rfc959-sec-4.1.1 @MUST
  Scenario: QUIT is answered with 221 and the server closes the connection
    Given an FTP session logged in as the profile's user
    When the client sends "QUIT"
    Then the server replies 221
    And the server closes the client's connection

  @rfc959-sec-4.1.2 @MUST
  Scenario: TYPE I is accepted with 200
    Given an FTP session logged in as the profile's user
    When the client sends "TYPE I"
    Then the server replies 200

  @rfc959-sec-4.1.2 @MUST
  Scenario: TYPE A is accepted with 200
    Given an FTP session logged in as the profile's user
    When the client sends "TYPE A"
    Then the server replies 200

  @rfc959-sec-5.3.2 @rfc1123-sec-4.1.2.1 @MUST
  Scenario: TYPE L 8 is accepted
    # RFC 1123 §4.1.2.1: "An FTP program MUST support TYPE I ("IMAGE" or
    # binary type) as well as TYPE L 8 ("LOCAL" type with logical byte size
    # 8)"; RFC 959 §5.3.2: <type-code> ::= ... | L <sp> <byte-size>.
    Given an FTP session logged in as the profile's user
    When the client sends "TYPE L 8"
    Then the server replies 200

  @rfc959-sec-5.1 @rfc959-sec-5.3.2 @rfc1123-sec-4.1.2.13 @MUST
  Scenario: TYPE A N, the default ASCII format, is accepted
    # RFC 959 §5.1, minimum implementation: "TYPE - ASCII Non-print", and
    # §5.3.2: <type-code> ::= A [<sp> <form-code>]; RFC 1123 §4.1.2.13:
    # "Type: ASCII Non-print" MUST be supported. Clients such as suppaftp
    # send "TYPE A N".
    Given an FTP session logged in as the profile's user
    When the client sends "TYPE A N"
    Then the server replies 200

  @rfc959-sec-5.1 @MUST
  Scenario: MODE S, the minimum implementation, is accepted
    Given an FTP session logged in as the profile's user
    When the client sends "MODE S"
    Then the server replies 200

  @rfc959-sec-5.1 @MUST
  Scenario: STRU F, the minimum implementation, is accepted
    Given an FTP session logged in as the profile's user
    When the client sends "STRU F"
    Then the server replies 200

  @rfc959-sec-4.1.2 @MUST
  Scenario: An unknown TYPE is refused
    # RFC 959 §5.4: TYPE → 200, 500, 501, 504, 421, 530.
    Given an FTP session logged in as the profile's user
    When the client sends "TYPE Q"
    Then the server replies with one of 500, 501, 504
