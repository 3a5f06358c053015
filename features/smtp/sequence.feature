@smtp @rfc5321
Feature: SMTP command order

  §4.1.4: commands out of order get 503 ("Bad sequence of commands"). A
  mail transaction is MAIL, then one or more RCPT, then DATA (§3.3).

  @rfc5321-sec-4.1.4 @MUST @course-S-06
  Scenario: RCPT before MAIL gets 503
    Given an SMTP session after EHLO
    When the client sends "RCPT TO:<${smtp.recipient}>"
    Then the server replies 503

  @rfc5321-sec-3.3 @MUST @course-S-06
  Scenario: DATA before any RCPT gets 503 or 554
    # §3.3: "If there was no MAIL, or no RCPT, command, or all such commands
    # were rejected, the server MAY return a "command out of sequence" (503)
    # or "no valid recipients" (554) reply in response to the DATA command."
    Given an SMTP session after EHLO
    When the client sends "MAIL FROM:<alice@crepes.fr>"
    Then the server replies 250
    When the client sends "DATA"
    Then the server replies with one of 503, 554

  @rfc5321-sec-4.1.4 @MUST @course-S-06
  Scenario: DATA before MAIL gets 503 or 554
    Given an SMTP session after EHLO
    When the client sends "DATA"
    Then the server replies with one of 503, 554

  @rfc5321-sec-4.1.4 @MUST
  Scenario: A second MAIL inside a transaction gets 503
    # §4.1.4: MAIL "may not be sent during a transaction" without RSET.
    Given an SMTP session after EHLO
    When the client sends "MAIL FROM:<alice@crepes.fr>"
    Then the server replies 250
    When the client sends "MAIL FROM:<alice@crepes.fr>"
    Then the server replies 503

  @rfc5321-sec-4.1.1.5 @MUST
  Scenario: RSET ends the transaction, so RCPT afterwards gets 503
    # §4.1.1.5: RSET discards the sender and recipients.
    Given an SMTP session with a mail transaction to "${smtp.recipient}"
    When the client sends "RSET"
    Then the server replies 250
    When the client sends "RCPT TO:<${smtp.recipient}>"
    Then the server replies 503

  @rfc5321-sec-4.1.4 @MUST
  Scenario: A new EHLO resets the transaction, or is refused and changes nothing
    # §4.1.4: "If it is issued after the session begins and the EHLO command
    # is acceptable to the SMTP server, the SMTP server MUST clear all
    # buffers and reset the state exactly as if a RSET command had been
    # issued." "If the EHLO command is not acceptable to the SMTP server,
    # 501, 500, 502, or 550 failure replies MUST be returned as appropriate.
    # The SMTP server MUST stay in the same state". A RCPT shows which: 503
    # after the reset (no MAIL any more), 250 in the transaction kept.
    Given an SMTP session with a mail transaction to "${smtp.sink}"
    When the client sends "EHLO client.example"
    Then the server either reset the transaction or refused the EHLO and kept it

  @rfc5321-sec-4.1.1.1 @rfc5321-sec-4.1.4 @MAY
  Scenario: MAIL before HELO or EHLO is refused with 503
    # §4.1.4: "A session that will contain mail transactions MUST first be
    # initialized by the use of the EHLO command", and §4.1.1.1: "a client
    # MUST issue HELO or EHLO before starting a mail transaction". Both bind
    # the client; no keyword tells the server to refuse, and postfix accepts
    # the MAIL. Refusing it with 503 is informational.
    Given an SMTP session that has been greeted
    When the client sends "MAIL FROM:<alice@crepes.fr>"
    Then the server replies 503
