@sockets @rfc9293 @rfc768 @course-K-10
Feature: The upper-casing servers survive mutated messages

  Robustness, with the fuzzer's own strategies (conform fuzz sockets): each
  scenario sends 200 mutated messages drawn from one sentence (the sentence's
  case, words, line endings, lengths around the course's receive buffers of
  1024 and 2048 bytes, control and non-ASCII bytes, bit flips, insertions and
  truncations). The same scenario always sends the same messages. Every reply
  must be the message upper-cased, and a fresh client must still be served.

  @tcp @MUST @points(2) @timeout(60s)
  Scenario: The TCP server answers 200 mutated messages, each upper-cased, and keeps serving
    When 200 mutations of "hello world" are sent to the sockets server over tcp
    Then every reply is well-formed
    And the sockets server still answers

  @udp @MUST @points(2) @timeout(60s)
  Scenario: The UDP server answers 200 mutated datagrams, each upper-cased, and keeps serving
    When 200 mutations of "caf\xc3\xa9 au lait" are sent to the sockets server over udp
    Then every reply is well-formed
    And the sockets server still answers
