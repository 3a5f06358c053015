//! IMAP on the client side (RFC 3501 §2.2, §7; RFC 9051 §2.2, §7): a reply
//! reader that collects untagged responses until the tagged completion of the
//! command sent (or a `+` continuation request), reads literals `{n}` by
//! count, and checks the response syntax a client depends on; and a small
//! parser of response data for the steps that inspect FETCH, LIST, STATUS…

mod reader;
mod syntax;

pub use reader::{literal_announced, Announced, ImapReader, Limits};
pub use syntax::{parse_response, response_code, Response, Token};
