# A server project's own scenarios, run next to conform's bundled HTTP suite:
#
#   conform run http --target ours.toml --features examples/server-project/conform --junit conform.xml
#
# The protocol comes from the @http tag, so this folder can sit anywhere in
# the project. harness/tests/authoring.rs runs exactly this against the
# bundled HTTP server (the README's "Authoring" chapter).
@http @rfc9110
Feature: Our echo endpoint

  Our application answers POST /echo with the length of what it read, and
  serves its start page as HTML. The profile names the endpoint:
  `[http] echo = "/echo"`.

  Background:
    Given the target has the "echo" resource
    And an HTTP connection to the target

  @MUST @rfc9110-sec-9.3.3
  Scenario: The echo endpoint reports the length of a form it was posted
    When the client posts "first=Ada&last=Lovelace" to "${http.echo}"
    Then the server replies 200
    And the response body contains "len=23"

  @MUST @rfc9110-sec-9.3.3
  Scenario: An empty POST is read as zero octets
    When the client posts "" to "${http.echo}"
    Then the server replies 200
    And the response body contains "len=0"

  @SHOULD @rfc9110-sec-8.3
  Scenario: The start page is served as HTML
    When the client requests GET "/index.html"
    Then the server replies 200
    And the response header "Content-Type" contains "text/html"
