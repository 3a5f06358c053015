@smtp @rfc5321
Feature: SMTP recipients: local mailboxes, unknown users, postmaster, relaying

  @rfc5321-sec-4.1.1.3 @MUST
  Scenario: RCPT to an existing mailbox is answered with 250
    Given an SMTP session after EHLO
    When the client sends "MAIL FROM:<alice@crepes.fr>"
    And the client sends "RCPT TO:<${smtp.recipient}>"
    Then the server replies with one of 250, 251

  @rfc5321-sec-3.3 @SHOULD
  Scenario: RCPT to an unknown mailbox in a local domain is answered with 550
    # §3.3: "If the recipient is known not to be a deliverable address, the
    # SMTP server returns a 550 reply". 551 and 553 are the other mailbox
    # refusals §4.3.2 lists for RCPT. Only the profile knows such an address
    # (smtp.unknown_recipient): a catch-all server, like the aiosmtpd sink,
    # has none, and the scenario is skipped without it.
    Given the profile sets smtp.unknown_recipient
    And an SMTP session after EHLO
    When the client sends "MAIL FROM:<alice@crepes.fr>"
    And the client sends "RCPT TO:<${smtp.unknown_recipient}>"
    Then the server replies with one of 550, 551, 553

  @rfc5321-sec-4.5.1 @MUST
  Scenario: Mail to postmaster at a local domain is accepted
    # §4.5.1: "Any system that includes an SMTP server supporting mail
    # relaying or delivery MUST support the reserved mailbox postmaster".
    Given an SMTP session after EHLO
    When the client sends "MAIL FROM:<alice@crepes.fr>"
    And the client sends "RCPT TO:<postmaster@${smtp.domain}>"
    Then the server replies with one of 250, 251

  @rfc5321-sec-4.5.1 @MUST
  Scenario: Mail to postmaster is accepted whatever the case of its letters
    # §4.5.1: the server "MUST support the reserved mailbox "postmaster" as
    # a case-insensitive local name".
    Given an SMTP session after EHLO
    When the client sends "MAIL FROM:<alice@crepes.fr>"
    And the client sends "RCPT TO:<PostMaster@${smtp.domain}>"
    Then the server replies with one of 250, 251

  @rfc5321-sec-4.5.1 @MUST
  Scenario: Mail to <Postmaster> without a domain is accepted
    # §4.5.1: "the special case of RCPT TO:<Postmaster> (with no domain
    # specification), MUST be supported."
    Given an SMTP session after EHLO
    When the client sends "MAIL FROM:<alice@crepes.fr>"
    And the client sends "RCPT TO:<Postmaster>"
    Then the server replies with one of 250, 251

  @rfc5321-sec-3.6.2 @rfc5321-sec-7.1 @MAY
  Scenario: Relaying to a domain the server does not serve is refused
    # §3.6.2: servers MAY decline to relay; an open relay is the abuse §7.1
    # warns of. The refusal is a 5xx (postfix: 554 5.7.1, others 550).
    # Servers configured to relay for the client's network accept it.
    Given an SMTP session after EHLO
    When the client sends "MAIL FROM:<alice@crepes.fr>"
    And the client sends "RCPT TO:<bob@hamburger.invalid>"
    Then the server replies 5xx

  @rfc5321-sec-4.5.3.1.8 @MUST
  Scenario: A transaction takes 100 recipients
    # §4.5.3.1.8: "The minimum total number of recipients that MUST be
    # buffered is 100 recipients." The same address a hundred times: no
    # DATA follows, so nothing is delivered.
    Given an SMTP session after EHLO
    When the client sends "MAIL FROM:<alice@crepes.fr>"
    And the client sends "RCPT TO:<${smtp.sink}>" 100 times
    Then every one of those replies is 250
