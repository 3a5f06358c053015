# Found against Postfix 3.7: a NUL ends the command for it ("NOOP\0" is taken as NOOP).
# Reproduces a finding of `conform fuzz smtp --seed 3` (case file acceptable-class-4830fb62.case).
# Run it with: conform run smtp --features corpus/smtp/regressions --target PROFILE
@smtp @rfc5321
Feature: fuzz regression acceptable-class-4830fb62

  @MUST
  Scenario: an unknown command got a success reply (acceptable-class)
    Given a fuzz session with the smtp server
    When the fuzz session sends "NOOP\x00\r\n"
    Then every reply is well-formed
    And the smtp server still answers
