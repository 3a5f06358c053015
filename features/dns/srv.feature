@dns @rfc2782
Feature: Service location records (SRV, RFC 2782)

  Background:
    Given a DNS client for the server under test

  @MUST
  Scenario: An SRV query returns priority, weight, port and target
    When the client queries "_imap._tcp.${dns.zone}" for SRV
    Then the answer section is exactly:
      | name                   | type | data                    |
      | _imap._tcp.${dns.zone} | SRV  | 0 1 143 mail.${dns.zone} |
