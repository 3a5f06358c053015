@smtp @rfc5321
Feature: SMTP DATA: 354, the end-of-data line, and dot-stuffing

  §4.1.1.4: DATA is answered with 354; the message ends with a line holding
  only "." (CRLF.CRLF); the server then replies once for the whole message.
  §4.5.2: a line that starts with "." is sent with one more "."
  (transparency) and the receiver removes it.

  @sec-4.1.1.4 @MUST @course-S-09 @course-S-10
  Scenario: DATA is answered with 354
    Given an SMTP session with a mail transaction to "${smtp.sink}"
    When the client sends "DATA"
    Then the server replies 354

  @sec-4.1.1.4 @MUST @course-S-10 @course-S-12
  Scenario: A line holding only "." ends the message, which is answered with 250
    # A plain 7-bit ASCII message (course S-12) must be accepted.
    Given an SMTP session with a mail transaction to "${smtp.sink}"
    When the client sends "DATA"
    And the client sends the bytes "Subject: ketchup\r\n\r\nDo you like ketchup?\r\n.\r\n"
    Then the next reply is 250

  @sec-4.1.1.4 @MUST @course-S-10
  Scenario: A "." that does not start a line does not end the message
    # Only CRLF "." CRLF ends it; "x." CRLF is an ordinary line. The server
    # must not reply until the real end arrives.
    Given an SMTP session with a mail transaction to "${smtp.sink}"
    When the client sends "DATA"
    And the client sends the bytes "Subject: dots\r\n\r\nNot the end.\r\n"
    Then the server sends nothing for 500 ms
    When the client sends the bytes ".\r\n"
    Then the next reply is 250

  @sec-4.5.2 @MUST @course-S-10
  Scenario: Dot-stuffed lines are part of the message, not its end
    # "..\r\n" is a line holding "." once the receiver removes the stuffing.
    Given an SMTP session with a mail transaction to "${smtp.sink}"
    When the client sends "DATA"
    And the client sends the bytes "Subject: stuffed\r\n\r\n..\r\n..leading dot\r\n"
    Then the server sends nothing for 500 ms
    When the client sends the bytes ".\r\n"
    Then the next reply is 250

  @sec-2.3.8 @sec-4.1.1.4 @MUST
  Scenario: A bare LF before "." does not end the message
    # §4.1.1.4 and the SMTP smuggling advisories: the end of data is
    # CRLF "." CRLF; LF "." LF or LF "." CRLF must not end it. Refusing
    # bare LF with a 5xx reply is fine too (postfix's
    # smtpd_forbid_bare_newline does that).
    Given an SMTP session with a mail transaction to "${smtp.sink}"
    When the client sends "DATA"
    And the client sends the bytes "Subject: lf\r\n\r\nline\n.\nmore\n.\r\n"
    Then the server does not take a bare LF for the end of the message

  @rfc1870 @sec-6.1 @SHOULD
  Scenario: MAIL declaring a size above the announced SIZE limit gets 552
    # RFC 1870 §6.1: a declared size beyond the fixed maximum is refused with
    # "552 message size exceeds fixed maximium message size".
    Given an SMTP session after EHLO
    When the client sends "MAIL FROM:<alice@crepes.fr>" declaring a size above the announced SIZE
    Then the server replies 552
