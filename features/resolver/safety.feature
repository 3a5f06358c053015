@resolver @rfc2181
Feature: A recursive resolver does not trust what it cannot trust

  RFC 2181 §5.4.1 (ranking data: what comes in the additional section is
  not an answer), RFC 1035 §7.4 and §7.3, RFC 5452 (unpredictable IDs and
  ports), and RFC 9156 (QNAME minimisation, a MAY).

  Background:
    Given the harness plays the DNS hierarchy

  @rfc2181-sec-5.4.1 @SHOULD
  Scenario: An address outside the server's zone in the additional section is not used as an answer
    # RFC 2181 §5.4.1: data "from the additional data section ... should not
    # be cached in such a way that they would ever be returned as answers to
    # a received query"; RFC 1035 §7.4: "RR data other than that requested
    # ... should discard it without caching it". The server of
    # poison.${tld} adds victim.glue.${tld} A 192.0.2.66, a name of another
    # zone, to its answers; glue.${tld}'s server says 192.0.2.10.
    When the client queries "www.poison.${tld}" for A with RD set
    Then the response has RCODE NOERROR
    When the client queries "victim.glue.${tld}" for A with RD set
    Then the response has RCODE NOERROR
    And the answer section is exactly:
      | name               | type | data       |
      | victim.glue.${tld} | A    | 192.0.2.10 |

  @rfc5452 @rfc5452-sec-9.2 @MUST
  Scenario: The queries to the hierarchy vary their source ports and IDs
    # RFC 5452 §9.2: resolver implementations "MUST: Use an unpredictable
    # source port for outgoing queries from the range of available ports
    # ... Use an unpredictable query ID for outgoing queries, utilizing the
    # full range available (0-65535)". Five names give five or more queries;
    # random choices repeat rarely (a repeat of a port or an ID among five
    # draws from 16 bits is under 1 in 6000).
    When the client queries "www.glue.${tld}" for A with RD set
    Then the response has RCODE NOERROR
    When the client queries "www.other.${tld}" for A with RD set
    Then the response has RCODE NOERROR
    When the client queries "www.neg.${tld}" for A with RD set
    Then the response has RCODE NOERROR
    When the client queries "www.lame.${tld}" for A with RD set
    Then the response has RCODE NOERROR
    When the client queries "www.poison.${tld}" for A with RD set
    Then the response has RCODE NOERROR
    And the queries that reached the hierarchy came from at least 4 source ports with at least 4 IDs

  @rfc9156 @rfc9156-sec-3 @MAY
  Scenario: The resolver minimises the names it sends up the hierarchy
    # RFC 9156 §3 describes QNAME minimisation: a resolver sends each
    # server only as many labels as it needs to find the next zone cut. It
    # is a choice (the RFC is Standards Track but does not require it of
    # every resolver): @MAY, reported as information.
    When the client queries "www.glue.${tld}" for A with RD set
    Then the response has RCODE NOERROR
    And neither the root nor the TLD's server was sent the whole name "www.glue.${tld}"

  @rfc4343 @rfc4343-sec-4.1 @MAY
  Scenario: The resolver randomises the letter case of the names it sends up the hierarchy
    # The 0x20 bit (draft-vixie-dnsext-dns0x20, an expired draft, not an
    # RFC): a resolver may send each letter of the name in a random case and
    # take only an answer that echoes it exactly, so that a forger must guess
    # the case too. It rests on RFC 4343 §4.1 (a server preserves the case of
    # the question it echoes). No RFC asks for it: @MAY, reported as
    # information.
    When the client queries "www.glue.${tld}" for A with RD set
    Then the response has RCODE NOERROR
    When the client queries "www.other.${tld}" for A with RD set
    Then the response has RCODE NOERROR
    And some name sent to the hierarchy over UDP mixes upper and lower case letters

  @rfc5452 @rfc5452-sec-9.1 @MUST
  Scenario: Forged answers with the wrong ID or from another address are ignored
    # RFC 5452 §9.1: "resolver implementations MUST match responses to all
    # of the following attributes of the query": the remote address against
    # the query's destination address, the ports, the query ID, the name,
    # class and type. The server of spoof.${tld} sends two forged answers
    # (192.0.2.66) before its true one (192.0.2.130, 300 ms later): one
    # from itself with another ID, one with the query's ID from 127.53.0.16.
    When the client queries "www.spoof.${tld}" for A with RD set
    Then the response has RCODE NOERROR
    And the answer section is exactly:
      | name              | type | data        |
      | www.spoof.${tld}  | A    | 192.0.2.130 |
