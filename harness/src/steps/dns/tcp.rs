//! Several queries on one TCP connection (RFC 7766 §6.2.1).

use cucumber::gherkin::Step;
use cucumber::{then, when};

use super::header::{decoded, fail};
use super::*;
use crate::step;
use crate::wire::Segments;

/// Several queries written back to back on one TCP connection before any
/// response is read (RFC 7766 §6.2.1.1 pipelining).
#[when(regex = r"^the client sends these queries over TCP without waiting:$")]
async fn pipelined(w: &mut World, step: &Step) -> StepResult {
    step!(w, {
        let rows = step
            .table
            .as_ref()
            .map(|t| t.rows.clone())
            .unwrap_or_default();
        let mut all = Vec::new();
        let mut specs = Vec::new();
        for row in rows.iter().skip(1) {
            let name = w.expand(row.first().map(String::as_str).unwrap_or_default())?;
            let spec = QuerySpec::new(
                fresh_id(w),
                &name,
                parse_type(row.get(1).map(String::as_str).unwrap_or("A"))?,
            );
            let bytes = spec.encode().map_err(Failure::harness)?;
            all.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
            all.extend_from_slice(&bytes);
            specs.push((spec, bytes));
        }
        for (spec, bytes) in &specs {
            w.transcript.event(
                "dns tcp",
                format!("query: {}", describe_query(Some(spec), bytes)),
            );
        }
        tcp_conn(w).await?.send(&all).await?;
        w.state::<DnsState>()
            .pending
            .extend(specs.into_iter().map(|(spec, bytes)| Sent {
                spec: Some(spec),
                bytes,
                transport: Transport::Tcp,
            }));
        Ok(())
    })
}

/// A query over TCP whose two-octet length goes in a segment of its own,
/// the message 50 ms later (RFC 7766 §8: servers "MUST NOT close a
/// connection simply because the first \"read\" from the TCP layer does not
/// contain the entire DNS message").
/// Example: `When the client queries "www.example.test" for A over TCP with the length prefix in a segment of its own`
#[when(
    regex = r#"^the client queries "(.*)" for (\S+) over TCP with the length prefix in a segment of its own$"#
)]
async fn prefix_apart(w: &mut World, name: String, qtype: String) -> StepResult {
    step!(w, {
        let name = w.expand(&name)?;
        let spec = QuerySpec::new(fresh_id(w), &name, parse_type(&qtype)?);
        let bytes = spec.encode().map_err(Failure::harness)?;
        w.transcript.event(
            "dns tcp",
            format!(
                "query: {}, its length prefix sent apart",
                describe_query(Some(&spec), &bytes)
            ),
        );
        let conn = tcp_conn(w).await?;
        conn.send_as(&(bytes.len() as u16).to_be_bytes(), Segments::OneWrite)
            .await?;
        // A pause, so the prefix leaves (and is read) alone.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        conn.send_as(&bytes, Segments::OneWrite).await?;
        let st = w.state::<DnsState>();
        if let Some(r) = st.response.take() {
            st.history.push(r);
        }
        st.pending.push(Sent {
            spec: Some(spec),
            bytes,
            transport: Transport::Tcp,
        });
        Ok(())
    })
}

/// Every pipelined query got a response on the TCP connection, each with its
/// own ID and question (RFC 7766 §6.2.1.1).
#[then(regex = r"^each of them is answered, with its own ID and question, on the same connection$")]
async fn each_answered(w: &mut World) -> StepResult {
    step!(w, {
        let sent: Vec<Sent> = std::mem::take(&mut w.state::<DnsState>().pending);
        let mut unanswered: Vec<&Sent> = sent.iter().collect();
        // RFC 7766 §7: responses may come in any order; match them by ID.
        for _ in 0..sent.len() {
            let resp = receive_one(w, &sent[0]).await??;
            let id = resp.header.map(|h| h.id);
            let Some(pos) = unanswered
                .iter()
                .position(|s| s.spec.as_ref().map(|q| q.id) == id)
            else {
                return Err(Failure::conformance(
                    "a response matches none of the outstanding queries' IDs",
                )
                .expected(format!(
                    "one of the IDs {:?}",
                    unanswered
                        .iter()
                        .filter_map(|s| s.spec.as_ref().map(|q| q.id))
                        .collect::<Vec<_>>()
                ))
                .got(resp.describe()));
            };
            let s = unanswered.remove(pos);
            if question_bytes(&resp.raw) != question_bytes(&s.bytes) {
                return Err(
                    Failure::conformance("a response's question is not its query's")
                        .got(resp.describe()),
                );
            }
        }
        if w.state::<DnsState>().tcp_opened != 1 {
            return Err(Failure::harness(
                "the queries did not all go over one connection",
            ));
        }
        Ok(())
    })
}

/// The last two queries of the client went over one TCP connection (it was
/// kept open, RFC 7766 §6.2.1).
#[then(regex = r"^both queries went over the same TCP connection$")]
async fn same_connection(w: &mut World) -> StepResult {
    step!(w, {
        response(w).await?;
        let st = w.state::<DnsState>();
        if st.tcp_opened == 1 && st.tcp.as_ref().is_some_and(|c| !c.at_eof()) {
            Ok(())
        } else {
            Err(Failure::conformance(
                "the server closed the TCP connection after a response; the next query needed a new connection",
            ))
        }
    })
}

/// Most messages of a zone transfer read before giving up.
const MAX_TRANSFER_MESSAGES: usize = 256;

/// RFC 5936 §2.2: an AXFR is refused with an error RCODE in a single
/// message (REFUSED or NOTAUTH for a client not allowed, NOTIMP for a server
/// without zone transfers), or "the first message MUST begin with the SOA
/// resource record of the zone, and the last message MUST conclude with the
/// same SOA resource record. Intermediate messages MUST NOT contain the SOA
/// resource record." Messages are read until the closing SOA, at most
/// [`MAX_TRANSFER_MESSAGES`], each within the step timeout.
/// Example: `Then the server refuses the transfer with REFUSED, NOTAUTH or NOTIMP, or sends the zone from its SOA to the same SOA`
#[then(
    regex = r"^the server refuses the transfer with REFUSED, NOTAUTH or NOTIMP, or sends the zone from its SOA to the same SOA$"
)]
async fn transfer_or_refusal(w: &mut World) -> StepResult {
    use hickory_proto::rr::RecordType;
    step!(w, {
        let first = response(w).await?;
        let code = response_rcode(&first.raw).map_err(|e| {
            fail(
                format!("the response is not a well-formed DNS message: {e}"),
                "an AXFR response",
                &first,
            )
        })?;
        // REFUSED 5, NOTAUTH 9, NOTIMP 4 (RFC 1035 §4.1.1, RFC 2136 §2.2).
        if [4, 5, 9].contains(&code) {
            return Ok(());
        }
        let expected =
            "REFUSED, NOTAUTH or NOTIMP, or the zone from its SOA to the same SOA (RFC 5936 §2.2)";
        if code != 0 {
            return Err(fail(
                format!("RCODE {} to an AXFR query", rcode_name(code)),
                expected,
                &first,
            ));
        }
        let m = decoded(&first)?;
        let opening = match m.answers().first() {
            Some(r) if r.record_type() == RecordType::SOA => r.clone(),
            _ => {
                return Err(fail(
                    "the transfer does not begin with the zone's SOA (RFC 5936 §2.2: \"the first message MUST begin with the SOA resource record of the zone\")",
                    expected,
                    &first,
                ))
            }
        };
        let mut answers: Vec<_> = m.answers()[1..].to_vec();
        let mut last = first.clone();
        for _ in 0..MAX_TRANSFER_MESSAGES {
            // The closing SOA is the last record read so far.
            if let Some(pos) = answers
                .iter()
                .position(|r| r.record_type() == RecordType::SOA)
            {
                if pos + 1 != answers.len() {
                    return Err(fail(
                        "an SOA record inside the transfer, before its end (RFC 5936 §2.2: \"Intermediate messages MUST NOT contain the SOA resource record\")",
                        expected,
                        &last,
                    ));
                }
                if answers[pos].data() != opening.data() {
                    return Err(fail(
                        "the transfer ends with another SOA than it began with (RFC 5936 §2.2: \"the last message MUST conclude with the same SOA resource record\")",
                        expected,
                        &last,
                    ));
                }
                return Ok(());
            }
            let raw = read_tcp(tcp_conn(w).await?).await?;
            let resp = Response::decode(raw, "tcp");
            log_response(w, &resp);
            let m = decoded(&resp)?.clone();
            if m.response_code().low() != 0 {
                return Err(fail(
                    "the transfer stops with an error before its closing SOA",
                    expected,
                    &resp,
                ));
            }
            answers.extend(m.answers().iter().cloned());
            last = resp;
        }
        Err(fail(
            format!("no closing SOA within {MAX_TRANSFER_MESSAGES} messages"),
            expected,
            &last,
        ))
    })
}
