@dns @rfc1035
Feature: Name compression (RFC 1035 §4.1.4)

  "In order to reduce the size of messages, the domain system utilizes a
  compression scheme which eliminates the repetition of domain names": a
  pointer (two octets starting with 11) refers to a prior occurrence of a
  name. Servers may avoid pointers; those they send must be valid.

  Background:
    Given a DNS client for the server under test

  @rfc1035-sec-4.1.4 @MUST
  Scenario: Every pointer in a referral points back to an earlier name
    Given the zone under test holds the fixture's "delegation" data
    When the client queries "www.child.${dns.zone}" for A
    Then every compression pointer in the response points back to an earlier name, and the sections fill the message exactly

  @rfc1035-sec-4.1.4 @MUST
  Scenario: Every pointer in a large answer points back to an earlier name
    When the client queries "big.${dns.zone}" for TXT over TCP
    Then every compression pointer in the response points back to an earlier name, and the sections fill the message exactly

  @rfc1035-sec-4.1.4 @MAY
  Scenario: Repeated names are compressed
    # "Programs are free to avoid using pointers in messages they generate,
    # although this will reduce datagram capacity".
    When the client queries "www.${dns.zone}" for A
    Then the response uses name compression
