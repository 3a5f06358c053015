@smtp @rfc5321
Feature: ESMTP: EHLO extensions, pipelining, enhanced status codes

  §4.1.1.1: EHLO is answered with a multi-line 250 whose lines after the
  first name the service extensions the server supports (§2.2). No RFC
  obliges a server to offer PIPELINING, SIZE, 8BITMIME or
  ENHANCEDSTATUSCODES: whether it announces them is informational (@MAY),
  and a scenario about an extension's behaviour is skipped when the server
  does not announce it.

  @rfc5321-sec-4.1.1.1 @rfc5321-sec-4.2.1 @MUST
  Scenario: The EHLO reply is a well-formed multi-line reply
    # The reply reader checks every line: the same code, "-" on all but
    # the last, CRLF endings (§4.2.1).
    Given an SMTP session that has been greeted
    When the client sends "EHLO client.example"
    Then the server replies 250

  @rfc2920 @rfc5321-sec-2.2 @MAY
  Scenario: EHLO announces PIPELINING
    Given an SMTP session that has been greeted
    When the client sends "EHLO client.example"
    Then the EHLO reply announces "PIPELINING"

  @rfc1870 @MAY
  Scenario: EHLO announces SIZE
    Given an SMTP session that has been greeted
    When the client sends "EHLO client.example"
    Then the EHLO reply announces "SIZE"

  @rfc6152 @MAY
  Scenario: EHLO announces 8BITMIME
    Given an SMTP session that has been greeted
    When the client sends "EHLO client.example"
    Then the EHLO reply announces "8BITMIME"

  @rfc2034 @MAY
  Scenario: EHLO announces ENHANCEDSTATUSCODES
    Given an SMTP session that has been greeted
    When the client sends "EHLO client.example"
    Then the EHLO reply announces "ENHANCEDSTATUSCODES"

  @rfc2034 @rfc2034-sec-3 @MUST
  Scenario: With ENHANCEDSTATUSCODES, a refusal carries an enhanced code of its class
    # RFC 2034 §3: once announced, replies other than the greeting and the
    # EHLO reply carry an enhanced status code (RFC 3463).
    Given an SMTP session after EHLO
    When the client sends "RCPT TO:<${smtp.recipient}>"
    Then every line of the reply carries an enhanced status code of the reply's class

  @rfc2034 @rfc2034-sec-3 @MUST
  Scenario: With ENHANCEDSTATUSCODES, a success carries an enhanced code of its class
    Given an SMTP session after EHLO
    When the client sends "MAIL FROM:<alice@crepes.fr>"
    Then every line of the reply carries an enhanced status code of the reply's class

  @rfc2920 @rfc2920-sec-3.1 @MUST @course-T-08
  Scenario: Pipelined MAIL, RCPT and DATA are answered in order
    # RFC 2920 §3.1: with PIPELINING the client may send MAIL, RCPT and DATA
    # without waiting, "a group of commands in one send"; the server
    # answers each, in order.
    Given an SMTP session after EHLO
    And the server has announced "PIPELINING"
    When the client pipelines "MAIL FROM:<alice@crepes.fr>", "RCPT TO:<${smtp.sink}>", "DATA" in one write
    Then the next reply is 250
    And the next reply is 250
    And the next reply is 354

  @rfc2920 @rfc2920-sec-3.2 @MUST
  Scenario: A pipelined group with a refused RCPT is answered in order
    # RFC 2920 §3.2 (1): the server "MUST respond to commands in the order
    # they are received". The second RCPT is malformed (an "@" in the
    # domain), which RFC 5321 §4.1.2 refuses with a 5xx; DATA, last in the
    # group (§3.1), gets its own reply, whatever it is.
    Given an SMTP session after EHLO
    And the server has announced "PIPELINING"
    When the client pipelines "MAIL FROM:<alice@crepes.fr>", "RCPT TO:<${smtp.sink}>", "RCPT TO:<bob@@${smtp.domain}>", "DATA" in one write
    Then the next reply is 250
    And the next reply is one of 250, 251
    And the next reply is 5xx
    And the next reply is one of 354, 4xx, 5xx

  @rfc2920 @rfc2920-sec-3.2 @SHOULD
  Scenario: DATA in a pipelined group gets 354 when one RCPT was accepted
    # RFC 2920 §3.2 (3): the server "SHOULD issue a positive response to
    # the DATA command if and only if one or more valid RCPT TO addresses
    # have been previously received". The refused RCPT comes first.
    Given an SMTP session after EHLO
    And the server has announced "PIPELINING"
    When the client pipelines "MAIL FROM:<alice@crepes.fr>", "RCPT TO:<bob@@${smtp.domain}>", "RCPT TO:<${smtp.sink}>", "DATA" in one write
    Then the next reply is 250
    And the next reply is 5xx
    And the next reply is one of 250, 251
    And the next reply is 354
