@smtp @rfc5321
Feature: SMTP syntax errors and line limits

  §4.2.2 and §4.3.2: an unrecognised command gets 500, bad arguments get
  501 (500 is also "Syntax error, command unrecognized", which servers use
  for malformed lines). §4.5.3.1 sets the sizes every server must accept.

  @rfc5321-sec-4.2.4 @SHOULD @course-S-09
  Scenario: An unknown command gets 500
    # §4.2.4: "If the command is not recognized, code 500 SHOULD be
    # returned"; 502 is for a command "actually recognized by the SMTP
    # server, but not implemented".
    Given an SMTP session after EHLO
    When the client sends "FOOBAR"
    Then the server replies 500

  @rfc5321-sec-4.1.1.1 @MAY
  Scenario: HELO without a domain gets 501
    # helo = "HELO" SP Domain CRLF (§4.1.1.1): the grammar, with no keyword
    # that obliges the server to refuse a HELO without one. Informational.
    Given an SMTP session that has been greeted
    When the client sends "HELO"
    Then the server replies with one of 500, 501

  @rfc5321-sec-4.1.2 @MAY
  Scenario: MAIL without angle brackets around the path gets 501
    # §4.1.2: Reverse-path = Path / "<>"; Path = "<" ... ">". The grammar
    # has the brackets, but no keyword obliges a server to refuse the bare
    # address (§4.1.4: a 501 "MUST be returned" only "if the transaction
    # beginning command argument is not acceptable", which is the server's
    # call). postfix and aiosmtpd accept it for old clients: informational.
    Given an SMTP session after EHLO
    When the client sends "MAIL FROM:alice@crepes.fr"
    Then the server replies with one of 500, 501, 553

  @rfc5321-sec-4.1.2 @MUST
  Scenario: RCPT with a malformed address gets a 5xx reply
    # §4.1.2: "SMTP servers that receive a command in which invalid
    # character codes have been employed, and for which there are no other
    # reasons for rejection, MUST reject that command with a 501 response".
    # An "@" in a domain label is one; another reason for the refusal is
    # fine too: postfix reads the domain as "@${smtp.domain}" and refuses to
    # relay (554 5.7.1).
    Given an SMTP session with a mail transaction to "${smtp.recipient}"
    When the client sends "RCPT TO:<bob@@${smtp.domain}>"
    Then the server replies 5xx

  @rfc5321-sec-4.1.1.4 @MAY
  Scenario: DATA with an argument gets 501
    # §4.1.1.4: data = "DATA" CRLF; no parameters. The grammar, with no
    # keyword that obliges the server to refuse one: informational.
    Given an SMTP session with a mail transaction to "${smtp.recipient}"
    When the client sends "DATA now"
    Then the server replies with one of 500, 501

  @rfc5321-sec-4.1.1.2 @MUST
  Scenario: The null reverse-path <> is accepted
    # §4.5.5: notifications are sent with MAIL FROM:<>; servers must accept it.
    Given an SMTP session after EHLO
    When the client sends "MAIL FROM:<>"
    Then the server replies 250

  @rfc5321-sec-4.5.3.1.4 @rfc5321-sec-4.5.3.1.10 @MUST
  Scenario: A command line of 512 octets is read whole
    # §4.5.3.1.4: "The maximum total length of a command line including the
    # command word and the <CRLF> is 512 octets." The line is a MAIL whose
    # sender domain makes it 512 octets long, so the server has to parse
    # the whole argument. The path (500 octets) is above the 256 octets of
    # §4.5.3.1.3, so it may be refused as too long ("501 Path too long",
    # §4.5.3.1.10; 553 for a bad mailbox name, or a policy refusal of the
    # domain), but not the line ("500 Line too long"), and the line gets one
    # reply: the RSET after it gets its own 250.
    Given an SMTP session after EHLO
    When the client sends a MAIL command line of 512 octets
    Then the server replies with one of 250, 450, 451, 501, 550, 553
    When the client sends "RSET"
    Then the server replies 250

  @rfc5321-sec-4.1.1.9 @SHOULD
  Scenario: NOOP with an argument is answered with 250
    # §4.1.1.9: "If a parameter string is specified, servers SHOULD ignore
    # it."
    Given an SMTP session after EHLO
    When the client sends "NOOP ignore this"
    Then the server replies 250

  @rfc5321-sec-4.5.3.1.6 @MUST
  Scenario: A text line of 1000 octets is accepted in a message
    # §4.5.3.1.6: "The maximum total length of a text line including the
    # <CRLF> is 1000 octets".
    Given an SMTP session with a mail transaction to "${smtp.sink}"
    When the client sends "DATA"
    And the client sends a message with a line of 1000 octets
    Then the server replies 250

  @rfc5321-sec-4.1.1.11 @rfc5321-sec-4.1.2 @MUST
  Scenario: MAIL with a parameter the server does not know gets 555
    # §4.1.1.11: "If the server SMTP does not recognize or cannot implement
    # one or more of the parameters associated with a particular MAIL FROM
    # or RCPT TO command, it will return code 555." 501 (syntax error in
    # parameters) is the older answer some servers give.
    Given an SMTP session after EHLO
    When the client sends "MAIL FROM:<alice@crepes.fr> X-NO-SUCH-PARAMETER=1"
    Then the server replies with one of 555, 501

  @rfc5321-sec-2.3.8 @MUST
  Scenario: A command ended by a bare LF is not executed
    # §2.3.8: "Conforming implementations MUST NOT recognize or generate any
    # other character or character sequence as a line terminator." The
    # server waits for the CRLF (no reply) or refuses the bare LF (4xx/5xx,
    # the reference server's 500); a 250 means "NOOP<LF>" ran.
    Given an SMTP session after EHLO
    When the client sends the bytes "NOOP\n"
    Then the server does not execute the line ended by a bare LF

  @rfc5321-sec-4.5.3.1 @rfc5321-sec-4.5.3.1.1 @MUST
  Scenario: A local part of 64 octets is accepted
    # §4.5.3.1.1: "The maximum total length of a user name or other
    # local-part is 64 octets"; §4.5.3.1: "Every implementation MUST be
    # able to receive objects of at least these sizes."
    Given an SMTP session after EHLO
    When the client sends MAIL FROM with a local part of 64 octets
    Then the server replies 250

  @rfc5321-sec-4.5.3.1 @rfc5321-sec-4.5.3.1.3 @MUST
  Scenario: A reverse-path of 256 octets is accepted
    # §4.5.3.1.3: "The maximum total length of a reverse-path or
    # forward-path is 256 octets (including the punctuation and element
    # separators)"; §4.5.3.1: every implementation "MUST be able to receive
    # objects of at least these sizes". "MAIL FROM:" (10), the path (256)
    # and CRLF (2) make a line of 268 octets; the domain is 248 octets.
    Given an SMTP session after EHLO
    When the client sends a MAIL command line of 268 octets
    Then the server replies 250

  @rfc5321-sec-4.5.3.1 @rfc5321-sec-4.5.3.1.2 @MUST
  Scenario: EHLO with a domain of 255 octets is accepted
    # §4.5.3.1.2: "The maximum total length of a domain name or number is
    # 255 octets"; §4.5.3.1: every implementation "MUST be able to receive
    # objects of at least these sizes". The domain is made of 63-octet
    # labels; the line (EHLO, space, domain, CRLF) is 262 octets.
    Given an SMTP session that has been greeted
    When the client sends EHLO with a domain of 255 octets
    Then the server replies 250

  @rfc5321-sec-4.5.3.1.5 @rfc5321-sec-4.5.3.1 @SHOULD
  Scenario: No reply line is longer than 512 octets
    # §4.5.3.1.5: a reply line, "including the reply code and the <CRLF>",
    # is at most 512 octets, and "More information may be conveyed through
    # multiple-line replies"; §4.5.3.1 asks only that larger objects
    # "SHOULD be avoided". Replies to a success, refusals and help text.
    Given an SMTP session that has been greeted
    When the client sends each of "EHLO client.example", "HELP", "NOOP", "VRFY ${smtp.recipient}", "FOOBAR", "MAIL FROM:<alice@crepes.fr>", "RCPT TO:<${smtp.recipient}>", "RCPT TO:<bob@@${smtp.domain}>", "DATA now", "RSET"
    Then no line of those replies is longer than 512 octets with its CRLF
