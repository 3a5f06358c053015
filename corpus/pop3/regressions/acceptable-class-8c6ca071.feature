# Found against Dovecot 2.3.19 POP3: a NUL ends the command for it ("CAPA\0" is taken as CAPA).
# Reproduces a finding of `conform fuzz pop3 --seed 1` (case file acceptable-class-8c6ca071.case).
# Run it with: conform run pop3 --features corpus/pop3/regressions --target PROFILE
@pop3 @rfc1939
Feature: fuzz regression acceptable-class-8c6ca071

  @MUST
  Scenario: an unknown command got a success reply (acceptable-class)
    Given a fuzz session with the pop3 server
    When the fuzz session sends "CAPA\x00\r\n"
    Then every reply is well-formed
    And the pop3 server still answers
