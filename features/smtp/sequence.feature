@smtp @rfc5321
Feature: SMTP command order

  §4.1.4: commands out of order get 503 ("Bad sequence of commands"). A
  mail transaction is MAIL, then one or more RCPT, then DATA (§3.3).

  @sec-4.1.4 @MUST @course-S-06
  Scenario: RCPT before MAIL gets 503
    Given an SMTP session after EHLO
    When the client sends "RCPT TO:<${smtp.recipient}>"
    Then the server replies 503

  @sec-3.3 @MUST @course-S-06
  Scenario: DATA before any RCPT gets 503 or 554
    # §3.3: "If there was no MAIL, or no RCPT, command, or all such commands
    # were rejected, the server MAY return a "command out of sequence" (503)
    # or "no valid recipients" (554) reply in response to the DATA command."
    Given an SMTP session after EHLO
    When the client sends "MAIL FROM:<alice@crepes.fr>"
    Then the server replies 250
    When the client sends "DATA"
    Then the server replies with one of 503, 554

  @sec-4.1.4 @MUST @course-S-06
  Scenario: DATA before MAIL gets 503 or 554
    Given an SMTP session after EHLO
    When the client sends "DATA"
    Then the server replies with one of 503, 554

  @sec-4.1.4 @MUST
  Scenario: A second MAIL inside a transaction gets 503
    # §4.1.4: MAIL "may not be sent during a transaction" without RSET.
    Given an SMTP session after EHLO
    When the client sends "MAIL FROM:<alice@crepes.fr>"
    Then the server replies 250
    When the client sends "MAIL FROM:<alice@crepes.fr>"
    Then the server replies 503

  @sec-4.1.1.5 @MUST
  Scenario: RSET ends the transaction, so RCPT afterwards gets 503
    # §4.1.1.5: RSET discards the sender and recipients.
    Given an SMTP session with a mail transaction to "${smtp.recipient}"
    When the client sends "RSET"
    Then the server replies 250
    When the client sends "RCPT TO:<${smtp.recipient}>"
    Then the server replies 503

  @sec-4.1.4 @MUST
  Scenario: A new EHLO resets the transaction
    # §4.1.4: after EHLO the state is reset "exactly as if a RSET command
    # had been issued".
    Given an SMTP session with a mail transaction to "${smtp.recipient}"
    When the client sends "EHLO client.example"
    Then the server replies 250
    When the client sends "DATA"
    Then the server replies with one of 503, 554

  @sec-4.1.4 @MAY
  Scenario: MAIL before HELO or EHLO is refused with 503
    # §4.1.4: "a server MAY ... reject MAIL ... before a HELO/EHLO"; postfix
    # and most servers do, with 503.
    Given an SMTP session that has been greeted
    When the client sends "MAIL FROM:<alice@crepes.fr>"
    Then the server replies 503
