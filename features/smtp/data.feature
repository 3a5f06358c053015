@smtp @rfc5321
Feature: SMTP DATA: 354, the end-of-data line, and dot-stuffing

  §4.1.1.4: DATA is answered with 354; the message ends with a line holding
  only "." (CRLF.CRLF); the server then replies once for the whole message.
  §4.5.2: a line that starts with "." is sent with one more "."
  (transparency) and the receiver removes it. The messages carry the header
  fields RFC 5322 §3.6 requires (Date, From), so a 250 is owed to them; a
  message without them is another scenario (session.feature).

  @rfc5321-sec-4.1.1.4 @MUST @course-S-09 @course-S-10
  Scenario: DATA is answered with 354
    Given an SMTP session with a mail transaction to "${smtp.sink}"
    When the client sends "DATA"
    Then the server replies 354

  @rfc5321-sec-4.1.1.4 @MUST @course-S-10 @course-S-12
  Scenario: A line holding only "." ends the message, which is answered with 250
    # A plain 7-bit ASCII message (course S-12) must be accepted.
    Given an SMTP session with a mail transaction to "${smtp.sink}"
    When the client sends "DATA"
    And the client sends the bytes "From: alice@crepes.fr\r\nDate: Tue, 1 Dec 2026 12:00:00 +0000\r\nSubject: ketchup\r\n\r\nDo you like ketchup?\r\n.\r\n"
    Then the next reply is 250

  @rfc5321-sec-4.1.1.4 @MUST @course-S-10
  Scenario: A "." that does not start a line does not end the message
    # Only CRLF "." CRLF ends it; "x." CRLF is an ordinary line. The server
    # must not reply until the real end arrives.
    Given an SMTP session with a mail transaction to "${smtp.sink}"
    When the client sends "DATA"
    And the client sends the bytes "From: alice@crepes.fr\r\nDate: Tue, 1 Dec 2026 12:00:00 +0000\r\nSubject: dots\r\n\r\nNot the end.\r\n"
    Then the server sends nothing for 500 ms
    When the client sends the bytes ".\r\n"
    Then the next reply is 250

  @rfc5321-sec-4.5.2 @MUST @course-S-10
  Scenario: Dot-stuffed lines are part of the message, not its end
    # "..\r\n" is a line holding "." once the receiver removes the stuffing.
    Given an SMTP session with a mail transaction to "${smtp.sink}"
    When the client sends "DATA"
    And the client sends the bytes "From: alice@crepes.fr\r\nDate: Tue, 1 Dec 2026 12:00:00 +0000\r\nSubject: stuffed\r\n\r\n..\r\n..leading dot\r\n"
    Then the server sends nothing for 500 ms
    When the client sends the bytes ".\r\n"
    Then the next reply is 250

  @rfc5321-sec-2.3.8 @rfc5321-sec-4.1.1.4 @MUST
  Scenario: A bare LF before "." does not end the message
    # §4.1.1.4: "the sequence "<LF>.<LF>" (bare line feeds, without
    # carriage returns) MUST NOT be treated as equivalent to <CRLF>.<CRLF>
    # as the end of mail data indication." Refusing the bare LF outright is
    # fine too, with a 5xx or a temporary 4xx (postfix's
    # smtpd_forbid_bare_newline answers 521); only a 2xx before the real
    # end shows that LF "." LF ended the message.
    Given an SMTP session with a mail transaction to "${smtp.sink}"
    When the client sends "DATA"
    And the client sends the bytes "From: alice@crepes.fr\r\nDate: Tue, 1 Dec 2026 12:00:00 +0000\r\nSubject: lf\r\n\r\nline\n.\nmore\n.\r\n"
    Then the server does not take a bare LF for the end of the message

  @rfc1870 @rfc1870-sec-6.1 @SHOULD
  Scenario: MAIL declaring a size above the announced SIZE limit gets 552
    # RFC 1870 §6.1: a declared size beyond the fixed maximum is refused with
    # "552 message size exceeds fixed maximium message size".
    Given an SMTP session after EHLO
    When the client sends "MAIL FROM:<alice@crepes.fr>" declaring a size above the announced SIZE
    Then the server replies 552

  @rfc1870 @rfc1870-sec-6.1 @SHOULD
  Scenario: MAIL declaring a size below the announced SIZE limit is accepted
    # RFC 1870 §6.1: 552 is for a declared size "larger than the server's
    # fixed maximum message size"; one below it is accepted, or put off
    # with "452 insufficient system storage". Half the announced limit (1000
    # octets when SIZE names none); skipped without SIZE.
    Given an SMTP session after EHLO
    When the client sends "MAIL FROM:<alice@crepes.fr>" declaring a size below the announced SIZE
    Then the server replies with one of 250, 452

  @rfc1870 @rfc5321-sec-4.1.1.11 @MUST
  Scenario: MAIL declaring a size that is not a number is refused
    # RFC 1870 §4: size-value is 1*20DIGIT. RFC 5321 §4.1.1.11: a
    # parameter the server "does not recognize or cannot implement" gets
    # 555; 501 is the older syntax error in parameters.
    Given an SMTP session after EHLO
    And the server has announced "SIZE"
    When the client sends "MAIL FROM:<alice@crepes.fr> SIZE=abc"
    Then the server replies with one of 501, 555

  @rfc5321-sec-4.5.3.1 @rfc5321-sec-4.5.3.1.7 @MUST
  Scenario: A message of 64K octets is accepted and stored intact
    # §4.5.3.1.7: the maximum length of message content "MUST BE at least
    # 64K octets". 65536 octets of numbered lines, read back from
    # smtp.sink_maildir (skipped without it).
    Given a message of 65536 octets delivered by SMTP to "${smtp.sink}"
    Then the sink's Maildir holds the delivered message byte for byte

  @rfc6152 @rfc6152-sec-3 @MUST
  Scenario: A message sent with BODY=8BITMIME keeps its 8-bit octets
    # RFC 6152 §3: a server that announces 8BITMIME preserves all bits of
    # every octet of the content. Latin-1 and UTF-8 octets, read back from
    # smtp.sink_maildir (skipped without it, or without 8BITMIME).
    Given a message "From: alice@crepes.fr\r\nTo: ${smtp.sink}\r\nSubject: 8bit\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nCr\xc3\xaapes, cr\xc3\xa8me br\xc3\xbbl\xc3\xa9e \xe2\x82\xac\r\n\xff\xfe\x80\x81\r\n" delivered by SMTP to "${smtp.sink}" with BODY=8BITMIME
    Then the sink's Maildir holds the delivered message byte for byte

  @rfc6152 @rfc6152-sec-3 @MUST
  Scenario: A message sent with BODY=7BIT is accepted and stored intact
    # RFC 6152 §3: BODY takes "7BIT" or "8BITMIME"; 7BIT declares a plain
    # RFC 5322 message. Skipped without 8BITMIME or smtp.sink_maildir.
    Given a message "From: alice@crepes.fr\r\nTo: ${smtp.sink}\r\nSubject: 7bit\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n\r\nPlain ASCII.\r\n" delivered by SMTP to "${smtp.sink}" with BODY=7BIT
    Then the sink's Maildir holds the delivered message byte for byte

  @rfc5321-sec-4.5.2 @MUST @course-S-10
  Scenario: Lines starting with "." are stored with the transparency dot removed
    # §4.5.2: the receiver deletes the first "." of a line that has other
    # characters, and the lone "." the client sent as ".." is a line of the
    # message. Read back from the sink's Maildir (the profile's
    # smtp.sink_maildir; without it the scenario is skipped), so no POP3 or
    # IMAP is needed; the message must follow the trace fields unchanged.
    Given a message "From: alice@crepes.fr\r\nTo: ${smtp.sink}\r\nSubject: dots\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\nMessage-ID: <dots-sink@crepes.fr>\r\n\r\n.A line that starts with a dot\r\n..Two dots\r\n.\r\nThe line above is a lone dot.\r\n" delivered by SMTP to "${smtp.sink}"
    Then the sink's Maildir holds the delivered message byte for byte

  @rfc5321-sec-4.4 @MUST
  Scenario: The stored message begins with a Received: trace field
    # §4.4: "When an SMTP server receives a message for delivery or further
    # processing, it MUST insert trace ("time stamp" or "Received")
    # information at the beginning of the message content". Read back from
    # smtp.sink_maildir (skipped without it).
    Given a message "From: alice@crepes.fr\r\nTo: ${smtp.sink}\r\nSubject: trace\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\nMessage-ID: <trace-sink@crepes.fr>\r\n\r\nTraced.\r\n" delivered by SMTP to "${smtp.sink}"
    Then the message stored in the sink's Maildir begins with a Received: trace field

  @rfc5321-sec-4.1.1.10 @MUST
  Scenario: A connection dropped in the middle of a message delivers nothing
    # §4.1.1.10: "If the connection is closed prematurely ... the server
    # MUST cancel any pending transaction". Watched in smtp.sink_maildir
    # (skipped without it).
    Given an SMTP session with a mail transaction to "${smtp.sink}"
    When the client sends "DATA"
    Then the server replies 354
    When the client sends the start of a message and drops the connection
    Then the sink's Maildir does not get the message
