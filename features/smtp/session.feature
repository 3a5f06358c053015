@smtp @rfc5321
Feature: SMTP session: greeting, HELO and EHLO, QUIT, and the course transcript

  The course notes (§4, S-06 to S-13) describe SMTP as a command/response
  dialogue over TCP: a 220 greeting, HELO, MAIL FROM, RCPT TO, DATA, the
  message ended by a line holding only ".", then QUIT. Only the reply codes
  are compared; the text after them is free-form (RFC 5321 §4.2).

  @rfc5321-sec-4.2 @rfc5321-sec-3.1 @MUST @course-S-02 @course-S-09
  Scenario: The server greets a new connection with 220
    Given an SMTP session
    Then the next reply is 220

  @rfc5321-sec-4.1.1.1 @MUST @course-S-08 @course-S-09
  Scenario: HELO is answered with 250
    Given an SMTP session that has been greeted
    When the client sends "HELO crepes.fr"
    Then the server replies 250

  @rfc5321-sec-4.1.1.1 @MUST
  Scenario: EHLO is answered with 250
    Given an SMTP session that has been greeted
    When the client sends "EHLO client.example"
    Then the server replies 250

  @rfc5321-sec-4.1.1.1 @rfc5321-sec-4.1.3 @MUST
  Scenario: EHLO with an address literal is accepted
    # §4.1.1.1: ehlo = "EHLO" SP ( Domain / address-literal ) CRLF; a client
    # without a domain name gives its IP address in brackets (§4.1.3).
    Given an SMTP session that has been greeted
    When the client sends "EHLO [127.0.0.1]"
    Then the server replies 250

  @rfc5321-sec-2.4 @MUST
  Scenario: Command verbs are case-insensitive
    # §2.4: "Verbs and argument values ... are not case sensitive".
    Given an SMTP session that has been greeted
    When the client sends "helo crepes.fr"
    Then the server replies 250

  @rfc5321-sec-4.1.1.10 @MUST @course-S-09
  Scenario: QUIT is answered with 221 and the server closes the connection
    # §4.1.1.10: "The receiver MUST send a 221 OK reply, and then close the
    # transmission channel."
    Given an SMTP session that has been greeted
    When the client sends "QUIT"
    Then the server replies 221
    And the server closes the client's connection

  @rfc5321-sec-4.1.1.9 @MUST
  Scenario: NOOP is answered with 250
    Given an SMTP session after EHLO
    When the client sends "NOOP"
    Then the server replies 250

  @rfc5321-sec-4.1.1.5 @MUST
  Scenario: RSET is answered with 250
    Given an SMTP session after EHLO
    When the client sends "RSET"
    Then the server replies 250

  @rfc5321-sec-3.5.2 @rfc5321-sec-3.5.3 @rfc5321-sec-7.3 @MUST
  Scenario: VRFY of an existing mailbox is not answered as if it did not exist
    # 250 or 251 verify it and "MUST include the <Mailbox> name" (§3.5.2);
    # 252 says it cannot be verified, which is also what a server that
    # disables VRFY "MUST return ... rather than a code that could be
    # confused with successful or unsuccessful verification" (§7.3). A 550
    # for a mailbox that exists is that confusion: "an implementation that
    # "supports" VRFY by always returning 550 whether or not the address is
    # valid is equally not in conformance". 500/502 (not implemented) skip:
    # the next scenario judges them.
    Given an SMTP session after EHLO
    When the client sends "VRFY ${smtp.recipient}"
    Then the server answers VRFY of the existing mailbox as the RFC allows

  @rfc5321-sec-3.5.2 @rfc5321-sec-3.5.3 @SHOULD
  Scenario: VRFY is implemented
    # §3.5.2: "Server implementations SHOULD support both VRFY and EXPN";
    # §3.5.3: "implementations that return 500 or 502 for VRFY are not in
    # full compliance with this specification".
    Given an SMTP session after EHLO
    When the client sends "VRFY ${smtp.recipient}"
    Then the server replies with one of 250, 251, 252, 550, 551, 553

  @rfc5321-sec-4.1.1.8 @rfc5321-sec-4.3.2 @SHOULD
  Scenario: HELP is answered with a help reply
    # §4.1.1.8: "SMTP servers SHOULD support HELP without arguments". §4.3.2
    # gives 211 and 214 as its "usual possible replies" and lets servers
    # "generate other replies", so any 2xx with the help text passes; 500 or
    # 502 (HELP not implemented, as postfix answers) is the SHOULD broken.
    Given an SMTP session after EHLO
    When the client sends "HELP"
    Then the server replies 2xx

  @rfc5321-sec-4.1.4 @MUST @course-S-07 @course-S-13 @points(3)
  Scenario: The course's sample session is answered 220, 250, 250, 250, 354, 250, 221
    # The course transcript, with the recipient taken from the profile (the
    # course's bob@hamburger.edu is another server's mailbox) and two
    # corrections a server may otherwise refuse: no space after "FROM:" and
    # "TO:" (§3.3: "spaces are not permitted on either side of the colon"),
    # and the header fields RFC 5322 §3.6 requires before the text. The
    # transcript as the course shows it is the next two scenarios.
    Given an SMTP session
    Then the next reply is 220
    When the client sends "HELO crepes.fr"
    Then the server replies 250
    When the client sends "MAIL FROM:<alice@crepes.fr>"
    Then the server replies 250
    When the client sends "RCPT TO:<${smtp.sink}>"
    Then the server replies 250
    When the client sends "DATA"
    Then the server replies 354
    When the client sends the message "From: alice@crepes.fr\r\nDate: Tue, 1 Dec 2026 12:00:00 +0000\r\n\r\nDo you like ketchup?\r\nHow about pickles?\r\n"
    Then the server replies 250
    When the client sends "QUIT"
    Then the server replies 221
    And the server closes the client's connection

  @rfc5321-sec-3.3 @SHOULD @course-S-07
  Scenario: A message without header fields, as in the course transcript, is accepted
    # The course's message is two lines of text and no header section, which
    # RFC 5322 §3.6 requires. §3.3: "Server SMTP systems SHOULD NOT reject
    # messages based on perceived defects in the RFC 822 or MIME (RFC 2045
    # [21]) message header section or message body."
    Given an SMTP session with a mail transaction to "${smtp.sink}"
    When the client sends "DATA"
    Then the server replies 354
    When the client sends the message "Do you like ketchup?\r\nHow about pickles?\r\n"
    Then the server replies 250

  @rfc5321-sec-3.3 @MAY @course-S-07
  Scenario: A space after "FROM:", as in the course transcript, is tolerated
    # §3.3: "spaces are not permitted on either side of the colon following
    # FROM in the MAIL command or TO in the RCPT command", and calls it "a
    # common source of errors". Accepting it anyway is the server's choice:
    # informational.
    Given an SMTP session after HELO
    When the client sends "MAIL FROM: <alice@crepes.fr>"
    Then the server replies 250

  @rfc5321-sec-3.3 @MUST @course-S-11
  Scenario: Several messages go over one connection
    # Course S-11: "it can send all of the messages over the same TCP
    # connection"; §3.3: a new MAIL after the end of data starts a new
    # transaction.
    Given an SMTP session with a mail transaction to "${smtp.sink}"
    When the client sends "DATA"
    And the client sends the message "From: alice@crepes.fr\r\nDate: Tue, 1 Dec 2026 12:00:00 +0000\r\nSubject: first\r\n\r\nOne.\r\n"
    Then the server replies 250
    When the client sends "MAIL FROM:<alice@crepes.fr>"
    Then the server replies 250
    When the client sends "RCPT TO:<${smtp.sink}>"
    Then the server replies 250
    When the client sends "DATA"
    Then the server replies 354
    When the client sends the message "From: alice@crepes.fr\r\nDate: Tue, 1 Dec 2026 12:00:00 +0000\r\nSubject: second\r\n\r\nTwo.\r\n"
    Then the server replies 250

  @rfc5321-sec-4.5.3.2 @rfc5321-sec-3.8 @rfc5321-sec-4.2.2 @SHOULD @timeout(20s)
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
