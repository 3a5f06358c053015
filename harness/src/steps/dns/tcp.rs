//! Several queries on one TCP connection (RFC 7766 §6.2.1).

use cucumber::gherkin::Step;
use cucumber::{then, when};

use super::*;
use crate::step;

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
