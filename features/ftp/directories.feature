@ftp @rfc959 @course-F-04
Feature: FTP directories and file management

  The server keeps the client's current directory (course notes F-04). Paths
  in replies are quoted as RFC 959 Appendix II describes. Every file or
  directory a scenario creates is removed after it.

  Background:
    Given an FTP session logged in as the profile's user

  @rfc959-sec-4.1.3 @MUST
  Scenario: PWD names the current directory in a 257 reply
    When the client sends "PWD"
    Then the server replies 257

  @rfc959-sec-4.1.1 @MUST @course-F-04
  Scenario: CWD into a directory changes what PWD reports
    When the client sends "CWD docs"
    Then the server replies 250
    And the current directory is "docs" under the login directory

  @rfc959-sec-4.1.1 @MUST
  Scenario: CDUP returns to the parent directory
    # RFC 959 §4.1.1 says CDUP's replies are those of CWD (250); §5.4 lists
    # 200. Both are accepted.
    When the client sends "CWD docs"
    And the client sends "CDUP"
    Then the server replies with one of 200, 250
    And the current directory is the login directory

  @rfc959-sec-5.4 @MUST
  Scenario: CWD into a missing directory is refused with 550
    When the client sends "CWD no-such-directory"
    Then the server replies 550

  @rfc959-sec-4.1.3 @MUST
  Scenario: MKD creates a directory and answers 257
    When the scenario will remove the directory "conform-mkd-test" afterwards
    And the client sends "MKD conform-mkd-test"
    Then the server replies 257

  @rfc959-sec-7 @SHOULD
  Scenario: MKD of a name with a double quote names it with the quote doubled
    # RFC 959 Appendix II: the 257 reply to MKD carries the directory name,
    # in which "embedded double-quotes should be escaped by double-quotes
    # (the "quote-doubling" convention)", and it "must always contain the
    # absolute pathname" (a MUST of its own, checked with it).
    When the scenario will remove the directory "conform\"quote" afterwards
    And the client sends "MKD conform\"quote"
    Then the 257 reply names "conform\"quote" under the login directory

  @rfc959-sec-4.1.3 @MUST
  Scenario: RMD removes an empty directory with 250
    When the client sends "MKD conform-rmd-test"
    And the client sends "RMD conform-rmd-test"
    Then the server replies 250

  @rfc959-sec-5.4 @MUST
  Scenario: DELE of a missing file is refused with 550
    When the client sends "DELE conform-no-such-file.txt"
    Then the server replies 550

  @rfc959-sec-4.1.3 @MUST
  Scenario: DELE removes a file with 250
    When the client enters passive mode
    And the client stores "conform-dele.txt" with the bytes "to be deleted\r\n"
    And the client sends "DELE conform-dele.txt"
    Then the server replies 250

  @rfc959-sec-4.1.3 @MUST
  Scenario: RNFR of an existing file is answered 350, pending RNTO
    When the client enters passive mode
    And the client stores "conform-rnfr.txt" with the bytes "rename me\r\n"
    And the client sends "RNFR conform-rnfr.txt"
    Then the server replies 350

  @rfc959-sec-4.1.3 @MUST
  Scenario: RNTO after RNFR renames the file with 250
    When the scenario will remove the file "conform-rnto-new.txt" afterwards
    And the client enters passive mode
    And the client stores "conform-rnto-old.txt" with the bytes "rename me\r\n"
    And the client sends "RNFR conform-rnto-old.txt"
    And the client sends "RNTO conform-rnto-new.txt"
    Then the server replies 250

  @rfc959-sec-4.1.3 @rfc959-sec-5.4 @SHOULD
  Scenario: RNTO after another command than RNFR is refused
    # §4.1.3: RNFR "must be immediately followed by a "rename to" command";
    # RNTO names the new pathname of the file "specified in the immediately
    # preceding "rename from" command". With PWD in between there is none:
    # RNTO should fail (§5.4 lists 503, bad sequence, among its errors), and
    # the file keep its name. The "must" binds the client's order; no
    # sentence tells the server to refuse, so: @SHOULD (vsftpd and
    # pyftpdlib both rename).
    When the scenario will remove the file "conform-rnto-late.txt" afterwards
    And the client enters passive mode
    And the client stores "conform-rnfr-late.txt" with the bytes "rename me\r\n"
    And the client sends "RNFR conform-rnfr-late.txt"
    And the client sends "PWD"
    And the client sends "RNTO conform-rnto-late.txt"
    Then the server replies with one of 503, 4xx, 5xx

  @rfc959-sec-5.4 @SHOULD
  Scenario: RNFR of a file that does not exist is refused
    # §5.4: RNFR is answered 350 (pending RNTO) or 450/550; 550 is
    # "Requested action not taken. File unavailable (e.g., file not found,
    # no access)". No sentence makes the server look at RNFR rather than at
    # RNTO, so: @SHOULD.
    When the client sends "RNFR conform-no-such-file.txt"
    Then the server replies with one of 450, 550

  @rfc959-sec-5.4 @MUST
  Scenario: RNTO without RNFR is a bad sequence of commands
    When the client sends "RNTO conform-nothing.txt"
    Then the server replies 503
