@imap @rfc3501
Feature: A real IMAP client library against the target
  What a Rust mail client built on async-imap does (connect, LOGIN,
  SELECT, FETCH 1:* (UID ENVELOPE), LOGOUT) works, parsed by the library's
  own parser rather than the harness's reader.

  @rfc3501-sec-6.4.5 @MUST @course-I-02
  Scenario: async-imap reads the envelopes of the messages in a mailbox
    Given an IMAP session with a scratch mailbox
    And the scratch mailbox holds the test messages
    When a client built on async-imap fetches the envelopes of the scratch mailbox
    Then async-imap saw the subjects of the test messages in order
