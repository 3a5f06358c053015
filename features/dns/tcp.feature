@dns @rfc7766
Feature: DNS over TCP (RFC 7766)

  Course notes D-02: "DNS can run over either UDP or TCP"; over TCP each
  message is preceded by a two-octet length (RFC 1035 §4.2.2). A UDP
  response is at most 512 octets without EDNS(0) (§4.2.1); an answer that
  does not fit is truncated with TC set, and the client asks again over TCP.

  Background:
    Given a DNS client for the server under test

  @rfc7766-sec-5 @MUST @course-D-02
  Scenario: A query over TCP gets the same authoritative answer
    # RFC 7766 §5: "authoritative server implementations MUST support TCP".
    When the client queries "www.${dns.zone}" for A over TCP
    Then the response has RCODE NOERROR
    And the AA flag is set
    And the answer section has 3 records
    And the question section is the query's, byte for byte

  @rfc7766-sec-5 @MUST @course-D-02
  Scenario: The truncated answer comes whole over TCP
    When the client queries "big.${dns.zone}" for TXT
    And the client repeats the query over TCP
    Then the TC flag is clear
    And the answer section has 40 records
    And the response is larger than 512 octets

  @rfc7766-sec-6.2.1 @SHOULD
  Scenario: Several queries go over one TCP connection, one after another
    # RFC 1035 §4.2.2: the server "should assume that the client will
    # initiate connection closing"; RFC 7766 §6.2.1 has clients reuse a
    # connection for several queries rather than close it after one.
    When the client queries "www.${dns.zone}" for A over TCP
    Then the response has RCODE NOERROR
    When the client queries "${dns.zone}" for MX over TCP
    Then the response has RCODE NOERROR
    And the answer section has 2 records
    And both queries went over the same TCP connection

  @rfc7766-sec-6.2.1.1 @SHOULD
  Scenario: Pipelined queries on one connection are each answered
    # RFC 7766 §6.2.1.1: clients pipeline queries (send the next one before
    # the previous answer arrives) and servers process them; responses may
    # come in any order (§7), matched by ID.
    When the client sends these queries over TCP without waiting:
      | name              | type |
      | www.${dns.zone}   | A    |
      | ${dns.zone}       | MX   |
      | mail.${dns.zone}  | AAAA |
    Then each of them is answered, with its own ID and question, on the same connection

  @rfc7766-sec-8 @MUST
  Scenario: A query whose length prefix comes in a segment of its own is answered
    # RFC 7766 §8: "DNS servers MUST NOT close a connection simply because
    # the first \"read\" from the TCP layer does not contain the entire DNS
    # message". The two octets of the length go alone, the message 50 ms
    # later.
    When the client queries "www.${dns.zone}" for A over TCP with the length prefix in a segment of its own
    Then the response has RCODE NOERROR
    And the answer section has 3 records

  @rfc5936 @rfc5936-sec-2.2 @MUST
  Scenario: A zone transfer over TCP is refused, or runs from the zone's SOA to the same SOA
    # RFC 5936 §2.2: "the first message MUST begin with the SOA resource
    # record of the zone, and the last message MUST conclude with the same
    # SOA resource record. Intermediate messages MUST NOT contain the SOA
    # resource record." A server may refuse the transfer (§5: "A zone
    # administrator has the option to restrict AXFR access"; stock nsd and
    # knot do) with "a single DNS message ... with the response code set to
    # the appropriate value": REFUSED or NOTAUTH, NOTIMP where transfers
    # are not implemented.
    When the client queries "${dns.zone}" for AXFR over TCP
    Then the server refuses the transfer with REFUSED, NOTAUTH or NOTIMP, or sends the zone from its SOA to the same SOA
