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

/// The response's OPT pseudo-record, or the failure of a response without.
fn opt_record(resp: &Response) -> Result<&hickory_proto::op::Edns, Failure> {
    decoded(resp)?.extensions().as_ref().ok_or_else(|| {
        fail(
            "no OPT record in the response",
            "an OPT record (RFC 6891 §6.1.1)",
            resp,
        )
    })
}

/// The response has an OPT pseudo-record (EDNS, RFC 6891), optionally of
/// version 0.
#[then(regex = r"^the response has an OPT record( of version 0)?$")]
async fn has_opt(w: &mut World, version: String) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let e = opt_record(&resp)?;
        if version.is_empty() || e.version() == 0 {
            Ok(())
        } else {
            Err(fail(
                format!("OPT version {}", e.version()),
                "OPT version 0",
                &resp,
            ))
        }
    })
}

/// The response's OPT record does not carry the option (RFC 6891 §6.1.2:
/// an option the responder does not understand is ignored, not echoed;
/// RFC 8906 §8.2.3).
/// Example: `Then the OPT record of the response carries no option 100`
#[then(regex = r"^the OPT record of the response carries no option (\d+)$")]
async fn opt_lacks_option(w: &mut World, code: u16) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let e = opt_record(&resp)?;
        let code = hickory_proto::rr::rdata::opt::EdnsCode::from(code);
        if e.options().get(code).is_none() {
            Ok(())
        } else {
            Err(fail(
                format!("the OPT record carries option {} back", u16::from(code)),
                "no such option: the responder does not understand it, so it ignores it (RFC 6891 §6.1.2)",
                &resp,
            ))
        }
    })
}

/// The flags of the response's OPT record (RFC 6891 §6.1.3): DO as stated,
/// and no other bit, since a flag the server does not know "must not" be
/// added to the response (RFC 8906 §3.2.4).
/// Example: `Then the OPT record of the response has DO clear and no other flag`
#[then(regex = r"^the OPT record of the response has DO (set|clear) and no other flag$")]
async fn opt_flags(w: &mut World, state: String) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let e = opt_record(&resp)?;
        let f = e.flags();
        let want_do = state == "set";
        if f.dnssec_ok != want_do {
            return Err(fail(
                format!(
                    "DO is {} in the response's OPT record",
                    if f.dnssec_ok { "set" } else { "clear" }
                ),
                format!("DO {state}, as in the query (RFC 3225 §3: the DO bit of the query MUST be copied in the response)"),
                &resp,
            ));
        }
        if f.z != 0 {
            return Err(fail(
                format!("the OPT flags have the bits {:#06x} set besides DO", f.z),
                "no flag but DO (RFC 8906 §3.2.4: servers \"must not add\" EDNS flags they do not understand to the response)",
                &resp,
            ));
        }
        Ok(())
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
