//! A response and its bytes on the wire (RFC 9112 §4, §6).

use std::time::SystemTime;

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub fields: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16) -> Self {
        Self {
            status,
            fields: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.fields.push((name.into(), value.into()));
        self
    }

    pub fn content(self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        let mut r = self.with("Content-Type", content_type);
        r.body = body.into();
        r
    }

    /// A short HTML page explaining the status.
    pub fn error(status: u16) -> Self {
        let text = format!(
            "<!DOCTYPE html>\n<html><head><title>{status} {r}</title></head><body><h1>{status} {r}</h1></body></html>\n",
            r = reason(status)
        );
        Response::new(status).content("text/html", text)
    }

    /// RFC 9110 §6.4.1: 1xx, 204 and 304 never have content.
    fn has_content(&self) -> bool {
        !(self.status < 200 || self.status == 204 || self.status == 304)
    }

    /// The bytes sent: status line, Date, Server, the fields, Content-Length
    /// where the status allows content, `Connection` as given, then the body
    /// unless the request was HEAD.
    pub fn to_bytes(&self, head_only: bool, connection: Option<&str>) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        // RFC 9110 §6.6.1: an origin server with a clock MUST send Date.
        out.push_str(&format!(
            "Date: {}\r\nServer: conform-reference\r\n",
            httpdate::fmt_http_date(SystemTime::now())
        ));
        for (n, v) in &self.fields {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
        if self.has_content() {
            out.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        if let Some(c) = connection {
            out.push_str(&format!("Connection: {c}\r\n"));
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        if self.has_content() && !head_only {
            bytes.extend_from_slice(&self.body);
        }
        bytes
    }
}

pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}
