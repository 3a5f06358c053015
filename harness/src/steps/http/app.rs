//! Steps for a server's own application endpoints (a JSON API, a form): a
//! request from method, path, header lines and a doc-string body with its
//! Content-Length computed, body checks by regular expression and by JSON
//! pointer (RFC 6901), and values captured from a response as `${name.key}`
//! for later steps. They go through the same raw-wire exchange as the
//! suites' steps, so framing is still judged by the one HTTP reader.

use cucumber::gherkin::Step;
use cucumber::{given, then, when};

use super::{build, client_name, exchange, last_response};
use crate::step;
use crate::steps::{Failure, StepResult, World};

/// Header lines queued for the next application request.
#[derive(Default)]
struct Pending {
    lines: Vec<String>,
}

/// The largest body the JSON and regex checks look at.
const BODY_LIMIT: usize = 1 << 20;

fn body_text(w: &mut World) -> Result<String, Failure> {
    let r = last_response(w, "")?;
    if r.body.len() > BODY_LIMIT {
        return Err(Failure::harness(format!(
            "the response body is {} bytes, more than the {} the body checks read",
            r.body.len(),
            BODY_LIMIT
        )));
    }
    Ok(String::from_utf8_lossy(&r.body).into_owned())
}

fn json_body(w: &mut World) -> Result<serde_json::Value, Failure> {
    let text = body_text(w)?;
    serde_json::from_str(&text).map_err(|e| {
        Failure::conformance(format!("the response body is not JSON: {e}"))
            .expected("a JSON document")
            .got(format!(
                "\"{}\"",
                text.chars().take(200).collect::<String>()
            ))
    })
}

fn at<'a>(doc: &'a serde_json::Value, pointer: &str) -> Result<&'a serde_json::Value, Failure> {
    doc.pointer(pointer).ok_or_else(|| {
        Failure::conformance(format!("the response JSON has nothing at \"{pointer}\""))
            .expected(format!("a value at {pointer}"))
            .got(
                doc.to_string()
                    .chars()
                    .take(300)
                    .collect::<String>()
                    .to_string(),
            )
    })
}

fn regex(pattern: &str) -> Result<regex::Regex, Failure> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| Failure::harness(format!("the step's regular expression does not parse: {e}")))
}

/// A value as a scenario writes it: a string is itself, anything else JSON.
fn as_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Queues a header line for the next request of the application steps
/// (and of "requests METHOD …"); `${…}` values are expanded.
/// Example: `Given the next request has the header "Accept: application/json"`
#[given(regex = r#"^the next request has the header "([^"]+)"$"#)]
async fn next_header(w: &mut World, line: String) -> StepResult {
    let line = w.expand(&line)?;
    if !line.contains(':') || line.contains('\r') || line.contains('\n') {
        return Err(Failure::harness(format!(
            "\"{line}\" is not a header line (Name: value)"
        )));
    }
    w.state::<Pending>().lines.push(line);
    Ok(())
}

/// The queued header lines, as the `extra` of a request.
pub(super) fn take_pending(w: &mut World) -> String {
    // Joined as the one-line steps write them: `build` reads escapes.
    std::mem::take(&mut w.state::<Pending>().lines).join("\\r\\n")
}

/// A request with the doc string below the step as its body (`${…}`
/// expanded, Content-Length computed), the queued header lines, then reads
/// the response.
/// Example: `When the client requests POST "/api/items" with the body:`
#[when(regex = r#"^(the client|client \w+) requests ([A-Z]+) "([^"]*)" with the body:$"#)]
async fn requests_with_body(
    w: &mut World,
    #[step] s: &Step,
    who: String,
    method: String,
    path: String,
) -> StepResult {
    step!(w, {
        let text = s.docstring.as_deref().ok_or_else(|| {
            Failure::harness("the step needs a doc string (\"\"\" … \"\"\") below it: the body")
        })?;
        // Gherkin keeps the doc string's first newline; the body is what is
        // between the quotes.
        let text = text.strip_prefix('\n').unwrap_or(text);
        let body = w.expand(text)?.into_bytes();
        let extra = take_pending(w);
        let req = build(w, &method, &path, "HTTP/1.1", &extra, &body)?;
        exchange(w, &client_name(&who), req).await
    })
}

/// The last response body matches the regular expression (anywhere in it).
/// Example: `Then the response body matches "\"id\": *[0-9]+"`
#[then(regex = r#"^the response body matches "(.*)"$"#)]
async fn body_matches(w: &mut World, pattern: String) -> StepResult {
    step!(w, {
        let re = regex(&w.expand(&pattern)?)?;
        let text = body_text(w)?;
        if re.is_match(&text) {
            return Ok(());
        }
        Err(Failure::conformance("the response body does not match")
            .expected(format!("a body matching /{re}/"))
            .got(format!(
                "\"{}\"",
                text.chars().take(300).collect::<String>()
            )))
    })
}

/// The value at a JSON pointer (RFC 6901) of the last response body: `is`
/// compares with the expected value read as JSON (or as a string when it
/// is not JSON), `contains` looks for the text in its string form.
/// Example: `Then the response JSON at "/items/0/name" is "widget"`
#[then(regex = r#"^the response JSON at "([^"]*)" (is|contains) "(.*)"$"#)]
async fn json_at(w: &mut World, pointer: String, how: String, want: String) -> StepResult {
    step!(w, {
        let want = w.expand(&want)?;
        let doc = json_body(w)?;
        let got = at(&doc, &pointer)?;
        let ok = if how == "is" {
            // `3`, `true`, `null`, `[1,2]`, `"3"`: compared as JSON values;
            // anything else (`widget`) as the string it spells.
            match serde_json::from_str::<serde_json::Value>(&want) {
                Ok(v) => *got == v,
                Err(_) => got.as_str() == Some(want.as_str()),
            }
        } else {
            as_text(got).contains(&want)
        };
        if ok {
            return Ok(());
        }
        Err(Failure::conformance(format!(
            "the response JSON at \"{pointer}\" {how} not as expected"
        ))
        .expected(format!("{how} {want}"))
        .got(got.to_string()))
    })
}

/// The last response body is JSON with a value at the pointer.
/// Example: `Then the response JSON has "/id"`
#[then(regex = r#"^the response JSON has "([^"]*)"$"#)]
async fn json_has(w: &mut World, pointer: String) -> StepResult {
    step!(w, {
        let doc = json_body(w)?;
        at(&doc, &pointer).map(|_| ())
    })
}

/// Keeps the value at a JSON pointer of the last response as `${name.key}`
/// for later steps (a string as itself, anything else as JSON).
/// Example: `When the client notes the response JSON at "/id" as "app.id"`
#[when(
    regex = r#"^(?:the client|client \w+) notes the response JSON at "([^"]*)" as "([a-z_]+\.[a-z_]+)"$"#
)]
async fn notes_json(w: &mut World, pointer: String, var: String) -> StepResult {
    step!(w, {
        let doc = json_body(w)?;
        let v = as_text(at(&doc, &pointer)?);
        w.vars.insert(var, v);
        Ok(())
    })
}

/// Keeps the first group of the regular expression's first match in the
/// last response body (the whole match without a group) as `${name.key}`.
/// Example: `When the client notes the body match "id=([0-9]+)" as "app.id"`
#[when(
    regex = r#"^(?:the client|client \w+) notes the body match "(.*)" as "([a-z_]+\.[a-z_]+)"$"#
)]
async fn notes_match(w: &mut World, pattern: String, var: String) -> StepResult {
    step!(w, {
        let re = regex(&w.expand(&pattern)?)?;
        let text = body_text(w)?;
        let Some(c) = re.captures(&text) else {
            return Err(Failure::conformance("the response body does not match")
                .expected(format!("a body matching /{re}/"))
                .got(format!(
                    "\"{}\"",
                    text.chars().take(300).collect::<String>()
                )));
        };
        let v = c.get(1).or_else(|| c.get(0)).map_or("", |m| m.as_str());
        w.vars.insert(var, v.to_string());
        Ok(())
    })
}
