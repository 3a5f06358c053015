@imap @rfc3501
Feature: IMAP subscriptions (RFC 3501)
  RFC 3501 §6.3.6, §6.3.7, §6.3.9: SUBSCRIBE, UNSUBSCRIBE and LSUB. RFC 9051
  drops LSUB for LIST (SUBSCRIBED), so these scenarios cite RFC 3501 only.
  The scratch mailboxes are unsubscribed and deleted afterwards.

  @rfc3501-sec-6.3.6 @MUST
  Scenario: A subscribed mailbox is listed by LSUB
    Given an IMAP session with a scratch mailbox
    When the client sends "a1 SUBSCRIBE ${imap.scratch}"
    Then the server replies OK
    And LSUB shows the mailbox "${imap.scratch}"

  @rfc3501-sec-6.3.7 @MUST
  Scenario: An unsubscribed mailbox is no longer listed by LSUB
    Given an IMAP session with a scratch mailbox
    When the client sends "a1 SUBSCRIBE ${imap.scratch}"
    And the client sends "a2 UNSUBSCRIBE ${imap.scratch}"
    Then the server replies OK
    And LSUB does not show the mailbox "${imap.scratch}"
