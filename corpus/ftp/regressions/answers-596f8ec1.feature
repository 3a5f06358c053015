# Found against pyftpdlib 2.2.0: after login, "STAT \0" closes the control connection without a reply.
# Reproduces a finding of `conform fuzz ftp --seed 1` (case file answers-596f8ec1.case).
# Run it with: conform run ftp --features corpus/ftp/regressions --target PROFILE
@ftp @rfc959
Feature: fuzz regression answers-596f8ec1

  @MUST
  Scenario: the server closed the connection without replying (answers)
    Given a fuzz session with the ftp server
    When the fuzz session sends the prefix "USER ${ftp.user}\r\n"
    And the fuzz session sends the prefix "PASS ${ftp.password}\r\n"
    And the fuzz session sends "STAT \x00\r\n"
    Then every reply is well-formed
    And the ftp server still answers
