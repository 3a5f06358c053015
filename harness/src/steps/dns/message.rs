//! Then steps on the message as a whole: compression pointers, section
//! counts, EDNS(0), and outcomes where the server may drop a query.

use std::time::Duration;

use cucumber::then;

use super::*;
use crate::step;

use super::header::{decoded, fail};

/// Every compression pointer points back to an earlier name, and the sections
/// fill the message exactly (RFC 1035 §4.1.4).
#[then(
    regex = r"^every compression pointer in the response points back to an earlier name, and the sections fill the message exactly$"
)]
async fn pointers_valid(w: &mut World) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        match compression_pointers(&resp.raw) {
            Ok((_, end)) if end == resp.raw.len() => Ok(()),
            Ok((_, end)) => Err(fail(
                format!("the sections the header counts end at octet {end}, but the message has {} octets", resp.raw.len()),
                "QDCOUNT/ANCOUNT/NSCOUNT/ARCOUNT matching the records present",
                &resp,
            )),
            Err(e) => Err(fail(format!("the message is malformed: {e}"), "valid names and pointers (RFC 1035 §4.1.4)", &resp)),
        }
    })
}

/// At least one name of the response is compressed with a pointer (RFC 1035
/// §4.1.4).
#[then(regex = r"^the response uses name compression$")]
async fn uses_compression(w: &mut World) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        match compression_pointers(&resp.raw) {
            Ok((p, _)) if !p.is_empty() => Ok(()),
            Ok(_) => Err(fail(
                "no compression pointer in the response",
                "repeated names written as pointers (RFC 1035 §4.1.4)",
                &resp,
            )),
            Err(e) => Err(fail(
                format!("the message is malformed: {e}"),
                "a well-formed message",
                &resp,
            )),
        }
    })
}

/// The response has an OPT pseudo-record (EDNS, RFC 6891), optionally of
/// version 0.
#[then(regex = r"^the response has an OPT record( of version 0)?$")]
async fn has_opt(w: &mut World, version: String) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let m = decoded(&resp)?;
        let any_version = version.is_empty();
        match m.extensions() {
            Some(e) if any_version || e.version() == 0 => Ok(()),
            Some(e) => Err(fail(
                format!("OPT version {}", e.version()),
                "OPT version 0",
                &resp,
            )),
            None => Err(fail(
                "no OPT record in the response",
                "an OPT record (RFC 6891 §6.1.1)",
                &resp,
            )),
        }
    })
}

/// The response has no OPT pseudo-record.
#[then(regex = r"^the response has no OPT record$")]
async fn has_no_opt(w: &mut World) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let m = decoded(&resp)?;
        match m.extensions() {
            None => Ok(()),
            Some(_) => Err(fail(
                "the response has an OPT record",
                "no OPT record (RFC 6891 §7)",
                &resp,
            )),
        }
    })
}

/// Either no response comes within the step timeout, or it has one of the
/// RCODEs.
#[then(regex = r"^the server answers with RCODE (?:one of )?(.+) or not at all$")]
async fn answers_or_drops(w: &mut World, codes: String) -> StepResult {
    step!(w, {
        let sent = {
            let st = w.state::<DnsState>();
            if st.pending.is_empty() {
                return Err(Failure::harness("no query waiting for its response"));
            }
            st.pending.remove(0)
        };
        let limit = w.step_timeout.min(Duration::from_secs(2));
        let saved = w.step_timeout;
        w.step_timeout = limit;
        let got = receive_one(w, &sent).await;
        w.step_timeout = saved;
        let resp = match got? {
            Ok(r) => r,
            Err(WireError::Timeout { .. }) => {
                w.transcript
                    .event("dns", "no response: the server dropped the message");
                return Ok(());
            }
            // Over TCP, closing the connection is how a server declines.
            Err(e @ (WireError::Closed { .. } | WireError::Io { .. }))
                if sent.transport == Transport::Tcp =>
            {
                w.transcript.event("dns", format!("no response: {e}"));
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let want: Vec<u16> = codes
            .split(',')
            .filter_map(|c| rcode_from_name(c.trim()))
            .collect();
        // The query was malformed: a FORMERR may echo what was malformed in
        // it, so where the sections cannot be walked the header's RCODE
        // decides.
        let code = response_rcode(&resp.raw)
            .ok()
            .or(resp.header.map(|h| h.rcode as u16));
        match code {
            Some(code) if want.contains(&code) => Ok(()),
            Some(code) => Err(fail(
                format!("RCODE {}", rcode_name(code)),
                format!("RCODE {codes}, or no response"),
                &resp,
            )),
            None => Err(fail(
                "an unexpected response, shorter than a DNS header",
                format!("RCODE {codes}, or no response"),
                &resp,
            )),
        }
    })
}
