@dns @rfc1035
Feature: UDP message size and truncation (RFC 1035 §4.2.1, §4.1.1)

  "Messages carried by UDP are restricted to 512 bytes (not counting the IP
  or UDP headers)." Without EDNS(0), an answer that does not fit is sent
  truncated with TC set, and the client asks again over TCP (tcp.feature).

  Background:
    Given a DNS client for the server under test

  @rfc1035-sec-4.2.1 @MUST @course-D-02
  Scenario: A UDP response without EDNS(0) is at most 512 octets
    When the client queries "big.${dns.zone}" for TXT
    Then the response is at most 512 octets

  @rfc1035-sec-4.1.1 @MUST
  Scenario: An answer too large for UDP has TC set
    # TC: "this message was truncated due to length greater than that
    # permitted on the transmission channel" (also RFC 2181 §9).
    When the client queries "big.${dns.zone}" for TXT
    Then the TC flag is set

  @rfc1035-sec-4.1.1 @MUST
  Scenario: An answer that fits over UDP does not have TC set
    # TC "specifies that this message was truncated" (§4.1.1); RFC 2181 §9:
    # "The TC bit should be set in responses only when an RRSet is required
    # as a part of the response, but could not be included in its entirety."
    When the client queries "${dns.zone}" for MX
    Then the TC flag is clear
