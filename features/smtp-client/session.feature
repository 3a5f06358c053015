@smtp-client @rfc5321 @timeout(30s)
Feature: Mail client: the SMTP session

  A mail client (the classic socket-programming lab, or smtplib, swaks,
  curl) sends one message through the harness's SMTP peer, which records
  every command and every octet of the message data exactly as the client
  sent them. The profile's `[smtp-client] command` gets the peer's {host}
  and {port}, the envelope {from} (alice@crepes.fr) and {to}
  (bob@example.test; random addresses where a scenario says so), and the
  message on standard input: RFC 5322 header
  fields (Date, From, To, Subject, Message-ID) and a body, with LF line
  ends as in a text file.

  Background:
    Given an SMTP peer

  @rfc5321-sec-4.3.1 @SHOULD @points(1)
  Scenario: The client waits for the greeting before its first command
    # RFC 5321 §4.3.1: "The sender SHOULD wait for this greeting message
    # before sending any commands."
    Given the SMTP peer greets only after 1.5 seconds
    When the mail client under test sends a message
    Then the SMTP peer receives nothing before its greeting

  @rfc5321-sec-4.1.1.1 @SHOULD @points(1)
  Scenario: The session starts with EHLO
    # RFC 5321 §4.1.1.1: "A client SMTP SHOULD start an SMTP session by
    # issuing the EHLO command."
    When the mail client under test sends a message
    Then the first command the SMTP peer receives is EHLO

  @rfc5321-sec-3.2 @SHOULD @points(1)
  Scenario: After a 500 to EHLO the client falls back to HELO
    # RFC 5321 §3.2: "if the server returns a "command not recognized"
    # response to EHLO, the client SHOULD be able to fall back and send HELO."
    Given the SMTP peer does not know EHLO
    When the mail client under test sends a message
    Then the SMTP peer receives HELO after refusing EHLO

  @rfc5321-sec-4.1.1.1 @MUST @points(1)
  Scenario: EHLO or HELO comes before the mail transaction
    # RFC 5321 §4.1.1.1: "a client MUST issue HELO or EHLO before starting
    # a mail transaction."
    When the mail client under test sends a message
    Then the SMTP peer receives EHLO or HELO before MAIL

  @rfc5321-sec-4.1.2 @MUST @points(1)
  Scenario: MAIL FROM carries the sender in angle brackets
    # RFC 5321 §4.1.1.2: mail = "MAIL FROM:" Reverse-path; §4.1.2:
    # Reverse-path = Path / "<>", Path = "<" [ A-d-l ":" ] Mailbox ">".
    # The brackets are the only form the syntax has (servers such as
    # postfix accept a bare address; the RFC's client does not send one).
    # The sender is random ({from}), so a program that hard-codes its
    # envelope fails.
    When the mail client under test sends a message from a random sender to a random recipient
    Then the SMTP peer receives a MAIL command starting with "MAIL FROM:<${from}>"

  @rfc5321-sec-4.1.2 @MUST @points(1)
  Scenario: RCPT TO carries the recipient in angle brackets
    # RFC 5321 §4.1.1.3: rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" /
    # "<Postmaster>" / Forward-path ); §4.1.2: Forward-path = Path. The
    # recipient is random ({to}).
    When the mail client under test sends a message from a random sender to a random recipient
    Then the SMTP peer receives a RCPT command starting with "RCPT TO:<${to}>"

  @rfc5321-sec-2.3.8 @MUST @points(1)
  Scenario: Every command line ends in CRLF
    # RFC 5321 §2.3.8: "SMTP client implementations MUST NOT transmit these
    # characters except when they are intended as line terminators and then
    # MUST ... transmit them only as a <CRLF> sequence."
    When the mail client under test sends a message
    Then every command line the SMTP peer receives ends in CRLF

  @rfc5321-sec-4.3.1 @MUST @points(1)
  Scenario: Without PIPELINING each command waits for the previous reply
    # RFC 5321 §4.3.1: "Unless other arrangements are negotiated through
    # service extensions, the sender MUST wait for this response before
    # sending further commands." The peer announces no PIPELINING and
    # answers each command after 0.3 s.
    Given the SMTP peer waits 0.3 seconds before each reply
    When the mail client under test sends a message
    Then the SMTP peer receives no command before its previous reply was complete

  @rfc5321-sec-4.2.1 @MUST @points(1)
  Scenario: A multi-line reply is read whole before the next command
    # RFC 5321 §4.2.1: a multi-line reply is one reply, its last line the
    # one with SP after the code; §4.3.1: "the sender MUST wait for this
    # response before sending further commands". The peer pauses 1 s
    # before the last line of its EHLO reply.
    Given the SMTP peer announces only "8BITMIME, ENHANCEDSTATUSCODES, HELP"
    And the SMTP peer pauses 1 seconds before the last line of a multi-line reply
    When the mail client under test sends a message
    Then the SMTP peer receives no command before its previous reply was complete

  @rfc5321-sec-4.1.1.10 @MUST @points(1)
  Scenario: The session ends with QUIT
    # RFC 5321 §4.1.1.10: "The sender MUST NOT intentionally close the
    # transmission channel until it sends a QUIT command".
    When the mail client under test sends a message
    Then the last command the SMTP peer receives is QUIT
