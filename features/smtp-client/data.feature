@smtp-client @rfc5321 @timeout(30s)
Feature: Mail client: the message data

  The message the client was given (LF line ends, as in a text file) must
  reach the server as RFC 5321 §4.5.2 and §2.3.8 say: CRLF line ends,
  dot-stuffed, ended by CRLF . CRLF, and the RFC 5322 fields it was given.

  Background:
    Given an SMTP peer

  @rfc5321-sec-2.3.8 @MUST @points(1)
  Scenario: The message data has CRLF line ends only
    # RFC 5321 §2.3.8: "SMTP client implementations MUST NOT transmit these
    # characters except when they are intended as line terminators and then
    # MUST ... transmit them only as a <CRLF> sequence."
    When the mail client under test sends a message
    Then the message data has only CRLF line ends

  @rfc5321-sec-4.1.1.4 @MUST @points(1)
  Scenario: The message data ends with CRLF . CRLF
    # RFC 5321 §4.1.1.4: "The mail data are terminated by a line containing
    # only a period, that is, the character sequence "<CRLF>.<CRLF>"".
    When the mail client under test sends a message
    Then the message data ends with CRLF . CRLF

  @rfc5321-sec-4.5.2 @MUST @points(2)
  Scenario: Lines beginning with a period are dot-stuffed
    # RFC 5321 §4.5.2: "Before sending a line of mail text, the SMTP client
    # checks the first character of the line. If it is a period, one
    # additional period is inserted at the beginning of the line." Without
    # it the server deletes the period of ".signature" and takes the lone
    # "." for the end of the data. (§4.5.2 gives the procedure without a
    # keyword; it is the protocol's only transparency and the server side
    # relies on it, so a client without it corrupts the message.)
    When the mail client under test sends a message with the body "Dots:\n.signature\n.\n..two\nend\n"
    Then the message arrives intact once the server removes the transparency dots

  @rfc5321-sec-2.4 @MUST @points(1)
  Scenario: No 8-bit data to a server that does not announce 8BITMIME
    # RFC 5321 §2.4: "An originating SMTP client that has not successfully
    # negotiated an appropriate extension with a particular server ... MUST
    # NOT transmit messages with information in the high-order bit of
    # octets." Refusing to send, or converting the body to 7 bits
    # (quoted-printable), both pass.
    Given the SMTP peer announces only "ENHANCEDSTATUSCODES"
    When the mail client under test sends a message with the body "Caf\xc3\xa9 cr\xc3\xa8me\n"
    Then the message data holds no octet with the high-order bit set

  @rfc5322 @rfc5322-sec-3.6 @MUST @points(1)
  Scenario: The message carries its Date and From fields
    # RFC 5322 §3.6: "The only required header fields are the origination
    # date field and the originator address field(s)." The client was given
    # both; it must not lose them.
    When the mail client under test sends a message
    Then the message's header section has the field "Date"
    And the message's header section has the field "From"

  @rfc5322 @rfc5322-sec-3.6.4 @SHOULD
  Scenario: The message carries a Message-ID
    # RFC 5322 §3.6.4: "every message SHOULD have a "Message-ID:" field."
    When the mail client under test sends a message
    Then the message's header section has the field "Message-ID"

  @rfc1870 @rfc1870-sec-6 @SHOULD
  Scenario: A declared SIZE is not smaller than the message
    # RFC 1870 §6: the SIZE value "should include the message header, body,
    # and the CR-LF sequences between lines, but not the SMTP DATA command's
    # terminating dot or doubled quoting dots"; an estimate "should be chosen
    # so that the declared message size is usually larger than the actual
    # message size" (§6.3 permits a smaller one: hence SHOULD). A client
    # that declares no SIZE is skipped (§7: a minimal client need not).
    Given the SMTP peer announces only "SIZE 10240000, 8BITMIME, ENHANCEDSTATUSCODES"
    When the mail client under test sends a message with the body "Size matters.\n..and dots do not count.\n"
    Then the SIZE the client declares is not smaller than the message it sends
