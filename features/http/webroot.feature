@http @rfc9110
Feature: Nothing outside the web root

  A file server maps the request-target onto its file system; RFC 9110
  §17.3 warns that "." and ".." segments, their percent-encoded forms and
  absolute paths are how a request reaches files the server never meant to
  publish. Whatever the status, the content of /etc/passwd must not come
  back.

  Background:
    Given an HTTP connection to the target

  @rfc9110-sec-17.3 @MUST
  Scenario Outline: A request-target cannot climb out of the web root
    When the client sends the request "GET <target> HTTP/1.1\r\nHost: ${http.address}\r\nConnection: close\r\n\r\n" and reads the response
    Then the server replies with one of 400, 403, 404
    And the response body does not contain "root:"

    Examples:
      | target                                   |
      | /../../../../../../etc/passwd            |
      | /somedir/../../../../../../etc/passwd    |
      | /%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd  |
      | /%2E%2E%2F%2E%2E%2F%2E%2E%2Fetc%2Fpasswd |
      | /..%2f..%2f..%2f..%2fetc%2fpasswd        |
      | //etc/passwd                             |
      | /etc/passwd                              |
      | http://x/../../../../etc/passwd          |
