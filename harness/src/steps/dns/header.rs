//! Then steps on the header: RCODE, flags, ID, the echoed question, size.

use cucumber::then;

use super::*;
use crate::step;

pub(super) fn decoded(resp: &Response) -> Result<&hickory_proto::op::Message, Failure> {
    resp.message.as_ref().map_err(|e| {
        Failure::conformance(format!(
            "the response is not a well-formed DNS message: {e}"
        ))
        .got(resp.describe())
    })
}

pub(super) fn fail(
    msg: impl Into<String>,
    expected: impl Into<String>,
    resp: &Response,
) -> Failure {
    Failure::conformance(msg)
        .expected(expected)
        .got(resp.describe())
}

/// The RCODE is read from the header (and the OPT record's extended bits)
/// by the harness itself, so that a FORMERR that repeats what was malformed
/// in the query is still judged by its RCODE (`wire::dns::response_rcode`).
#[then(regex = r"^the response has RCODE (?:one of )?(.+)$")]
async fn has_rcode(w: &mut World, codes: String) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let want: Vec<u16> = codes
            .split(',')
            .map(|c| {
                rcode_from_name(c.trim())
                    .ok_or_else(|| Failure::harness(format!("unknown RCODE {c}")))
            })
            .collect::<Result<_, _>>()?;
        let got = response_rcode(&resp.raw).map_err(|e| {
            Failure::conformance(format!(
                "the response is not a well-formed DNS message: {e}"
            ))
            .expected(format!("RCODE {codes}"))
            .got(resp.describe())
        })?;
        if want.contains(&got) {
            Ok(())
        } else {
            Err(fail(
                format!("RCODE {}", rcode_name(got)),
                format!("RCODE {codes}"),
                &resp,
            ))
        }
    })
}

/// RFC 1035 §4.1.1: Z, "Reserved for future use. Must be zero in all
/// queries and responses" (the bit 0x40 of the fourth octet; AD and CD,
/// the other two once-Z bits, are DNSSEC's).
#[then(regex = r"^the Z bit is clear$")]
async fn z_clear(w: &mut World) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        match resp.raw.get(3) {
            Some(b) if b & 0x40 == 0 => Ok(()),
            Some(_) => Err(fail(
                "the Z bit is set (RFC 1035 §4.1.1: Z \"Must be zero in all queries and responses\")",
                "Z clear",
                &resp,
            )),
            None => Err(fail("no header", "a header", &resp)),
        }
    })
}

/// Checks one header flag of the response (RFC 1035 §4.1.1; AD and CD, the
/// bits 0x20 and 0x10 of the fourth octet, are RFC 4035's).
/// Example: `Then the CD flag is set`
#[then(regex = r"^the (QR|AA|TC|RD|RA|AD|CD) flag is (set|clear)$")]
async fn flag(w: &mut World, which: String, state: String) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let h = resp
            .header
            .ok_or_else(|| fail("no header", "a header", &resp))?;
        let fourth = resp.raw.get(3).copied().unwrap_or_default();
        let on = match which.as_str() {
            "QR" => h.qr,
            "AA" => h.aa,
            "TC" => h.tc,
            "RD" => h.rd,
            "AD" => fourth & 0x20 != 0,
            "CD" => fourth & 0x10 != 0,
            _ => h.ra,
        };
        if on == (state == "set") {
            Ok(())
        } else {
            // RA set where the profile describes an authoritative-only
            // server: the server may be a resolver too.
            let hint = if which == "RA" && on && w.profile().get("dns.recursion").is_none() {
                " (if the server also offers recursion, say so with [dns] recursion = true)"
            } else {
                ""
            };
            Err(fail(
                format!(
                    "the {which} flag is {}{hint}",
                    if on { "set" } else { "clear" }
                ),
                format!("{which} {state}"),
                &resp,
            ))
        }
    })
}

/// The response's RD bit equals the query's (RFC 1035 §4.1.1: RD "is copied
/// into the response").
#[then(regex = r"^the RD flag is copied from the query$")]
async fn rd_copied(w: &mut World) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let want = last_spec(w)?.rd;
        match resp.header {
            Some(h) if h.rd == want => Ok(()),
            _ => Err(fail(
                "RD differs from the query's",
                format!("RD {}", want as u8),
                &resp,
            )),
        }
    })
}

fn last_spec(w: &mut World) -> Result<QuerySpec, Failure> {
    w.state::<DnsState>()
        .last_query
        .as_ref()
        .and_then(|s| s.spec.clone())
        .ok_or_else(|| Failure::harness("no query of this scenario to compare with"))
}

/// The response carries the query's ID and opcode (RFC 1035 §4.1.1).
#[then(regex = r"^the response ID and opcode are the query's$")]
async fn id_echoed(w: &mut World) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let q = last_spec(w)?;
        match resp.header {
            Some(h) if h.id == q.id && h.opcode == q.opcode => Ok(()),
            _ => Err(fail(
                "the response does not echo ID and opcode",
                format!("ID {} opcode {}", q.id, q.opcode),
                &resp,
            )),
        }
    })
}

/// The response repeats the query's question section octet for octet.
#[then(regex = r"^the question section is the query's, byte for byte$")]
async fn question_echoed(w: &mut World) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let sent = w
            .state::<DnsState>()
            .last_query
            .as_ref()
            .map(|s| s.bytes.clone())
            .unwrap_or_default();
        let want =
            question_bytes(&sent).ok_or_else(|| Failure::harness("the query has no question"))?;
        let count = resp.header.map(|h| h.counts[0]);
        if count == Some(1) && question_bytes(&resp.raw) == Some(want) {
            Ok(())
        } else {
            Err(fail(
                "the question section differs from the query's (RFC 1035 §4.1.2, §7.3: the question is copied, name case included)",
                format!("QDCOUNT 1 and the question {}", crate::notation::escape(want)),
                &resp,
            ))
        }
    })
}

/// The response message is at most N octets long (512 over UDP without
/// EDNS, RFC 1035 §4.2.1).
#[then(regex = r"^the response is at most (\d+) octets$")]
async fn at_most(w: &mut World, n: usize) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        if resp.raw.len() <= n {
            Ok(())
        } else {
            Err(fail(
                format!("the response is {} octets", resp.raw.len()),
                format!("at most {n} octets"),
                &resp,
            ))
        }
    })
}

/// The response message is more than N octets long.
#[then(regex = r"^the response is larger than (\d+) octets$")]
async fn larger_than(w: &mut World, n: usize) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        if resp.raw.len() > n {
            Ok(())
        } else {
            Err(fail(
                format!("the response is {} octets", resp.raw.len()),
                format!("more than {n} octets"),
                &resp,
            ))
        }
    })
}

/// AA clear, except where the RCODE is one for which an RFC lets a server
/// answer with authority although the name is in none of its zones (an
/// NXDOMAIN for a special-use name, RFC 6761 §6.4).
#[then(regex = r"^the AA flag is clear unless the RCODE is (\S+)$")]
async fn aa_clear_unless(w: &mut World, code: String) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let except = rcode_from_name(&code)
            .ok_or_else(|| Failure::harness(format!("unknown RCODE {code}")))?;
        let h = resp
            .header
            .ok_or_else(|| fail("no header", "a header", &resp))?;
        let got = response_rcode(&resp.raw).unwrap_or(h.rcode as u16);
        if !h.aa || got == except {
            Ok(())
        } else {
            Err(fail(
                format!(
                    "the AA flag is set on a {} response for a name outside the server's zones",
                    rcode_name(got)
                ),
                format!("AA clear (or RCODE {code})"),
                &resp,
            ))
        }
    })
}
