@ftp @rfc959 @course-F-06
Feature: A real FTP client (suppaftp) logs in, lists, uploads and downloads

  What a user's program does with the server, through the suppaftp library
  in passive and active mode, in binary and ASCII type. Uploads are removed
  after each scenario.

  Background:
    Given a suppaftp client logged in as the profile's user

  @rfc959-sec-4.1.3 @MUST @course-F-03
  Scenario: suppaftp downloads a file in passive mode, byte for byte
    When suppaftp uses passive mode
    And suppaftp uses binary type
    And suppaftp downloads "binary.bin"
    Then the data received is the fixture file "binary.bin"

  @rfc959-sec-4.1.3 @MUST @course-F-03
  Scenario: suppaftp downloads a file in active mode, byte for byte
    When suppaftp uses active mode
    And suppaftp uses binary type
    And suppaftp downloads "binary.bin"
    Then the data received is the fixture file "binary.bin"

  @rfc959-sec-4.1.3 @MUST @course-F-06
  Scenario: suppaftp lists the home directory
    When suppaftp uses passive mode
    And suppaftp lists the current directory
    Then the listing names "hello.txt"

  @rfc959-sec-4.1.3 @MUST @course-F-06
  Scenario: suppaftp uploads then downloads a binary file unchanged (passive)
    When suppaftp uses passive mode
    And suppaftp uses binary type
    And suppaftp uploads "conform-suppaftp-passive.bin" with the fixture file "binary.bin"
    And suppaftp downloads "conform-suppaftp-passive.bin"
    Then the data received is the fixture file "binary.bin"

  @rfc959-sec-4.1.3 @MUST @course-F-06
  Scenario: suppaftp uploads then downloads a binary file unchanged (active)
    When suppaftp uses active mode
    And suppaftp uses binary type
    And suppaftp uploads "conform-suppaftp-active.bin" with the fixture file "binary.bin"
    And suppaftp downloads "conform-suppaftp-active.bin"
    Then the data received is the fixture file "binary.bin"

  @rfc959-sec-4 @MUST
  Scenario: The size of an uploaded binary file is what was uploaded
    When suppaftp uses passive mode
    And suppaftp uses binary type
    And suppaftp uploads "conform-suppaftp-size.bin" with the fixture file "binary.bin"
    Then suppaftp reports the size of "conform-suppaftp-size.bin" as the fixture file "binary.bin"'s

  @rfc959-sec-3.1.1.1 @MUST
  Scenario: suppaftp uploads then downloads text in ASCII type
    # suppaftp sends LF as CRLF in TYPE A and hands the downloaded bytes over
    # as they came: the text comes back in NVT-ASCII, CRLF line endings.
    When suppaftp uses passive mode
    And suppaftp uses ASCII type
    And suppaftp uploads "conform-suppaftp-ascii.txt" with the bytes "one\ntwo\nthree\n"
    And suppaftp downloads "conform-suppaftp-ascii.txt"
    Then the data received is "one\ntwo\nthree\n" with CRLF line endings

  @rfc959-sec-4.1.1 @MUST
  Scenario: suppaftp quits with 221
    Then suppaftp quits cleanly
