@imap @rfc3501 @rfc9051 @needs-smtp @serial
Feature: Mail delivered by SMTP is read over IMAP
  The course notes (§6, I-02, I-05): "new mail goes to the recipient's
  INBOX", and a user agent can fetch "just one part of a multipart MIME
  message". Needs the profile's [smtp] section; ${smtp.recipient} must be
  the mailbox of ${imap.user}. The delivered message is expunged afterwards.

  @rfc3501-sec-6.4.4 @rfc9051-sec-6.4.4 @rfc3501-sec-6.4.5 @rfc9051-sec-6.4.5 @MUST @course-I-02 @course-I-05
  Scenario: A multipart message delivered by SMTP is found by SEARCH and its second part fetched alone
    Given an authenticated IMAP session
    And the multipart test message has been delivered by SMTP to the IMAP user's INBOX
    When the client searches INBOX for the delivered message's Message-ID
    And the client sends "a1 FETCH ${imap.found} BODY.PEEK[2]"
    Then the server replies OK
    And the FETCH item "BODY[2]" of message ${imap.found} is the multipart test message's part 2
