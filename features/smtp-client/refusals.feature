@smtp-client @rfc5321 @timeout(30s)
Feature: Mail client: refusals and shutdown

  What a client does when the server says no: after a refused MAIL, after
  every RCPT was refused, and after a 421. RFC 5321 §3.3: "message data
  MUST NOT be sent unless a 354 reply is received". The peer answers a DATA
  that comes anyway with 503 or 554, and records any message data that
  follows it where commands belong.

  Background:
    Given an SMTP peer

  @rfc5321-sec-3.3 @MUST @points(1)
  Scenario: No message data after MAIL is refused
    Given the SMTP peer answers MAIL with "550 5.7.1 Sender refused"
    And the SMTP peer answers DATA with "503 5.5.1 Bad sequence of commands"
    When the mail client under test sends a message
    Then the SMTP peer receives no message data
    And the last command the SMTP peer receives is QUIT

  @rfc5321-sec-3.3 @MUST @points(1)
  Scenario: No message data when every recipient is refused
    # §3.3: "If there was no MAIL, or no RCPT, command, or all such commands
    # were rejected, the server MAY return a "command out of sequence" (503)
    # or "no valid recipients" (554) reply in response to the DATA command.
    # If one of those replies (or any other 5yz reply) is received, the
    # client MUST NOT send the message data".
    Given the SMTP peer answers RCPT with "550 5.1.1 No such user"
    And the SMTP peer answers DATA with "554 5.5.1 No valid recipients"
    When the mail client under test sends a message
    Then the SMTP peer receives no message data

  @rfc5321-sec-3.3 @MUST @points(1)
  Scenario: No message data after a temporary refusal of the recipient
    Given the SMTP peer answers RCPT with "451 4.3.0 Try again later"
    And the SMTP peer answers DATA with "554 5.5.1 No valid recipients"
    When the mail client under test sends a message
    Then the SMTP peer receives no message data

  @rfc5321-sec-3.8 @MUST @points(1)
  Scenario: After a 421 the client sends no message data and ends
    # §3.8: a server closes the connection "After detecting the need to
    # shut down the SMTP service and returning a 421 response code". The
    # peer answers MAIL with 421 and closes; no 354 ever came, so §3.3's
    # MUST NOT applies to any message data, and the client must not hang.
    Given the SMTP peer answers MAIL with "421 4.3.2 Service shutting down"
    When the mail client under test sends a message
    Then the client under test ends by itself within 5 seconds
    And the SMTP peer receives no message data
    And the SMTP peer receives nothing after its 421 but QUIT
