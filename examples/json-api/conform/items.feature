# A JSON API's own scenarios (examples/json-api/app.py), written with the
# application steps: a request with header lines and a doc-string body,
# body checks by JSON pointer and by regular expression, and a value
# captured from one response for the next request.
#
#   python3 examples/json-api/app.py 8088 &
#   conform run http --target examples/json-api/profile.toml --features examples/json-api/conform
#
# harness/tests/authoring.rs runs exactly this (and against --faulty).
@http @rfc9110
Feature: Our items API

  Background:
    Given an HTTP connection to the target

  @MUST @rfc9110-sec-9.3.3 @rfc9110-sec-15.3.2
  Scenario: Creating an item answers 201 with the item and where it lives
    Given the next request has the header "Content-Type: application/json"
    When the client requests POST "/api/items" with the body:
      """
      {"name": "widget"}
      """
    And the client notes the response JSON at "/id" as "item.id"
    Then the server replies 201
    And the response JSON at "/name" is "widget"
    And the response header "Location" is "/api/items/${item.id}"

  @MUST @rfc9110-sec-9.3.1
  Scenario: A created item can be fetched by the id it was given
    Given the next request has the header "Content-Type: application/json"
    When the client requests POST "/api/items" with the body:
      """
      {"name": "gadget"}
      """
    And the client notes the response JSON at "/id" as "item.id"
    And the client requests GET "/api/items/${item.id}"
    Then the server replies 200
    And the response JSON at "/name" is "gadget"
    And the response JSON at "/id" is "${item.id}"

  @MUST @rfc9110-sec-15.5.5
  Scenario: An unknown item is 404 with a JSON error
    Given the next request has the header "Accept: application/json"
    When the client requests GET "/api/items/999999"
    Then the server replies 404
    And the response header "Content-Type" contains "application/json"
    And the response body matches "\"error\": *\"[^\"]+\""
