@smtp @rfc5321
Feature: SMTP session: greeting, HELO and EHLO, QUIT, and the course transcript

  The course notes (§4, S-06 to S-13) describe SMTP as a command/response
  dialogue over TCP: a 220 greeting, HELO, MAIL FROM, RCPT TO, DATA, the
  message ended by a line holding only ".", then QUIT. Only the reply codes
  are compared; the text after them is free-form (RFC 5321 §4.2).

  @sec-4.2 @sec-3.1 @MUST @course-S-02 @course-S-09
  Scenario: The server greets a new connection with 220
    Given an SMTP session
    Then the next reply is 220

  @sec-4.1.1.1 @MUST @course-S-08 @course-S-09
  Scenario: HELO is answered with 250
    Given an SMTP session that has been greeted
    When the client sends "HELO crepes.fr"
    Then the server replies 250

  @sec-4.1.1.1 @MUST
  Scenario: EHLO is answered with 250
    Given an SMTP session that has been greeted
    When the client sends "EHLO client.example"
    Then the server replies 250

  @sec-4.1.1.1 @sec-4.1.3 @MUST
  Scenario: EHLO with an address literal is accepted
    # §4.1.1.1: ehlo = "EHLO" SP ( Domain / address-literal ) CRLF; a client
    # without a domain name gives its IP address in brackets (§4.1.3).
    Given an SMTP session that has been greeted
    When the client sends "EHLO [127.0.0.1]"
    Then the server replies 250

  @sec-2.4 @MUST
  Scenario: Command verbs are case-insensitive
    # §2.4: "Verbs and argument values ... are not case sensitive".
    Given an SMTP session that has been greeted
    When the client sends "helo crepes.fr"
    Then the server replies 250

  @sec-4.1.1.10 @MUST @course-S-09
  Scenario: QUIT is answered with 221 and the server closes the connection
    # §4.1.1.10: "The receiver MUST send a 221 OK reply, and then close the
    # transmission channel."
    Given an SMTP session that has been greeted
    When the client sends "QUIT"
    Then the server replies 221
    And the server closes the client's connection

  @sec-4.1.1.9 @MUST
  Scenario: NOOP is answered with 250
    Given an SMTP session after EHLO
    When the client sends "NOOP"
    Then the server replies 250

  @sec-4.1.1.5 @MUST
  Scenario: RSET is answered with 250
    Given an SMTP session after EHLO
    When the client sends "RSET"
    Then the server replies 250

  @sec-4.1.1.6 @sec-3.5.3 @MUST
  Scenario: VRFY is answered with 250, 251, 252 or a refusal, never left unanswered
    # §3.5.3: a server that will not verify answers 252; 550/551/553 and
    # 502 (not implemented) are the refusals §4.3.2 lists for VRFY.
    Given an SMTP session after EHLO
    When the client sends "VRFY ${smtp.recipient}"
    Then the server replies with one of 250, 251, 252, 502, 550, 551, 553

  @sec-4.1.1.8 @SHOULD
  Scenario: HELP is answered with 211 or 214, or refused where it is not implemented
    # HELP is not in the minimum implementation (§4.5.1), so a server may
    # not know it: 502 (not implemented) or 500 (unrecognized, as postfix
    # answers). Where implemented, the reply is 211 or 214 (§4.1.1.8).
    Given an SMTP session after EHLO
    When the client sends "HELP"
    Then the server replies with one of 211, 214, 500, 502

  @sec-4.1.4 @MUST @course-S-07 @course-S-13 @points(3)
  Scenario: The course's sample session is answered 220, 250, 250, 250, 354, 250, 221
    # The course transcript, with the recipient taken from the profile (the
    # course's bob@hamburger.edu is another server's mailbox). Its
    # "MAIL FROM: <...>" has a space after the colon, which §3.3 calls a
    # common error that servers tolerate.
    Given an SMTP session
    Then the next reply is 220
    When the client sends "HELO crepes.fr"
    Then the server replies 250
    When the client sends "MAIL FROM: <alice@crepes.fr>"
    Then the server replies 250
    When the client sends "RCPT TO: <${smtp.sink}>"
    Then the server replies 250
    When the client sends "DATA"
    Then the server replies 354
    When the client sends the message "Do you like ketchup?\r\nHow about pickles?\r\n"
    Then the server replies 250
    When the client sends "QUIT"
    Then the server replies 221
    And the server closes the client's connection

  @sec-3.3 @MUST @course-S-11
  Scenario: Several messages go over one connection
    # Course S-11: "it can send all of the messages over the same TCP
    # connection"; §3.3: a new MAIL after the end of data starts a new
    # transaction.
    Given an SMTP session with a mail transaction to "${smtp.sink}"
    When the client sends "DATA"
    And the client sends the message "Subject: first\r\n\r\nOne.\r\n"
    Then the server replies 250
    When the client sends "MAIL FROM:<alice@crepes.fr>"
    Then the server replies 250
    When the client sends "RCPT TO:<${smtp.sink}>"
    Then the server replies 250
    When the client sends "DATA"
    Then the server replies 354
    When the client sends the message "Subject: second\r\n\r\nTwo.\r\n"
    Then the server replies 250

  @sec-4.5.3.2 @sec-3.8 @sec-4.2.2 @SHOULD @timeout(20s)
  Scenario: An idle session is ended with 421 after the server's timeout
    # §4.5.3.2: "An SMTP server SHOULD have a timeout of at least 5 minutes
    # while it is awaiting the next command from the sender." §3.8 lets the
    # server close "after a timeout ... waiting for the client to send a
    # command", and 421 is the reply for a server that closes on its own
    # (§4.2.2: "Service not available, closing transmission channel"; §3.8:
    # a server shut down "SHOULD attempt to send a line containing a 421
    # response code"). The timeout itself is a SHOULD and no MUST ties the
    # 421 to it, so the scenario is @SHOULD. The profile states the target's
    # timeout as smtp.idle_timeout; without it the scenario is skipped.
    Given an SMTP session after EHLO
    Then the server ends the idle session with 421 within its idle timeout
