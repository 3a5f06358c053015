//! Steps of the resolver suite: the DNS hierarchy the harness plays
//! (`crate::peer::dns`) is set up for the scenario, the client's queries go
//! to the resolver under test (`${resolver.address}`) through the DNS
//! suite's query and response steps, and the Then steps here judge what
//! reached the hierarchy: which queries, from which ports, with which IDs,
//! over which transport, and the TTLs the resolver passed on.

use std::collections::BTreeSet;
use std::time::Duration;

use cucumber::{given, then, when};
use hickory_proto::rr::RecordType;

use super::dns::{current_response, earlier_responses};
use super::{Failure, StepResult, World};
use crate::peer::dns::{self as hier, Registration, Seen};
use crate::step;
use crate::wire::dns::{present, rdata_text, type_from_name};

#[derive(Default)]
pub struct ResolverState {
    reg: Option<Registration>,
    /// How many queries had been recorded when they were noted.
    mark: usize,
}

fn reg(w: &mut World) -> Result<&Registration, Failure> {
    w.state::<ResolverState>()
        .reg
        .as_ref()
        .ok_or_else(|| Failure::harness("the scenario checks the hierarchy before setting it up"))
}

fn seen(w: &mut World) -> Result<Vec<Seen>, Failure> {
    Ok(reg(w)?.seen().0)
}

/// The queries that reached the hierarchy over UDP (where ports, IDs and
/// case are what a forger must guess).
fn seen_udp(w: &mut World) -> Result<Vec<Seen>, Failure> {
    Ok(seen(w)?
        .into_iter()
        .filter(|s| s.transport == "udp")
        .collect())
}

/// A scenario's name (`www.glue.${tld}`), expanded and made absolute.
fn name_arg(w: &World, name: &str) -> Result<String, Failure> {
    let n = w.expand(name)?;
    Ok(if n.ends_with('.') { n } else { format!("{n}.") })
}

fn qtype_arg(t: &str) -> Result<u16, Failure> {
    type_from_name(t.trim()).ok_or_else(|| Failure::harness(format!("unknown record type \"{t}\"")))
}

/// The queries, one a line, for failure messages.
fn list(seen: &[Seen]) -> String {
    if seen.is_empty() {
        return "no query".into();
    }
    seen.iter()
        .map(|s| {
            format!(
                "{} {} port {} id {} {} {}",
                s.server,
                s.transport,
                s.from.port(),
                s.id,
                s.name,
                RecordType::from(s.qtype)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Sets up the fixture hierarchy under a fresh top-level label (`${tld}`) on
/// the port `[resolver] hierarchy_port` (53 by default), and points the DNS
/// client steps at `${resolver.address}`.
/// Example: Given the harness plays the DNS hierarchy
#[given(regex = r"^the harness plays the DNS hierarchy$")]
async fn plays_hierarchy(w: &mut World) -> StepResult {
    step!(w, {
        let port = match w.profile().get("resolver.hierarchy_port") {
            None => hier::DEFAULT_PORT,
            Some(p) => p.parse().map_err(|_| {
                Failure::harness(format!(
                    "resolver.hierarchy_port: \"{p}\" is not a port number"
                ))
            })?,
        };
        let h = hier::hierarchy(port).await.map_err(|e| {
            Failure::harness(format!(
                "{e} (resolver.hierarchy_port = {port}; port 53 needs root or CAP_NET_BIND_SERVICE)"
            ))
        })?;
        let tld = hier::fresh_tld();
        let plan = hier::fixture(&tld).map_err(Failure::harness)?;
        let registration = h.enter(plan, &w.transcript);
        let address = w.expand("${resolver.address}")?;
        w.vars.insert("tld".into(), tld);
        // The DNS suite's client steps query `${dns.address}`: here, the
        // resolver under test.
        w.vars.insert("dns.address".into(), address);
        w.state::<ResolverState>().reg = Some(registration);
        Ok(())
    })
}

/// Notes how many queries reached the hierarchy so far; the "since they
/// were noted" steps look only at later ones.
/// Example: When the hierarchy's queries so far are noted
#[when(regex = r"^the hierarchy's queries so far are noted$")]
async fn note(w: &mut World) -> StepResult {
    step!(w, {
        // The response to the query before is read first, so that every
        // query of its resolution is counted before the mark.
        let _ = current_response(w).await;
        let n = seen(w)?.len();
        w.state::<ResolverState>().mark = n;
        Ok(())
    })
}

/// Waits, so that cached TTLs count down or expire (at most 10 seconds).
/// Example: When 3 seconds pass
#[when(regex = r"^(\d+) seconds? pass(?:es)?$")]
async fn seconds_pass(w: &mut World, n: u64) -> StepResult {
    step!(w, {
        let _ = current_response(w).await;
        tokio::time::sleep(Duration::from_secs(n.min(10))).await;
        Ok(())
    })
}

fn since(w: &mut World, all: Vec<Seen>, noted: bool) -> Vec<Seen> {
    let mark = if noted {
        w.state::<ResolverState>().mark
    } else {
        0
    };
    all.into_iter().skip(mark).collect()
}

/// At least one query for NAME (any type, or TYPE) reached the hierarchy
/// (since they were noted, if said), at a given server or over a given
/// transport if said. Names compare without regard to case.
/// Example: Then a query for "www.tcp.${tld}" A reached 127.53.0.9 over TCP
#[then(
    regex = r#"^a query for "(.*)"(?: (\S+))? reached (the hierarchy|127\.53\.0\.\d+)(?: over (UDP|TCP))?( since they were noted)?$"#
)]
async fn query_reached(
    w: &mut World,
    name: String,
    qtype: String,
    at: String,
    transport: String,
    noted: String,
) -> StepResult {
    step!(w, {
        let _ = current_response(w).await;
        let want = name_arg(w, &name)?;
        let t = if qtype.is_empty() {
            None
        } else {
            Some(qtype_arg(&qtype)?)
        };
        let all = seen(w)?;
        let pool = since(w, all, !noted.is_empty());
        let hit = pool.iter().any(|s| {
            s.name.eq_ignore_ascii_case(&want)
                && t.is_none_or(|t| t == s.qtype)
                && (at == "the hierarchy" || s.server.to_string() == at)
                && (transport.is_empty() || s.transport.eq_ignore_ascii_case(&transport))
        });
        if hit {
            return Ok(());
        }
        Err(Failure::conformance(format!(
            "no query for {want} reached {at}{}{}",
            if transport.is_empty() {
                String::new()
            } else {
                format!(" over {transport}")
            },
            noted
        ))
        .expected(format!("a query for {want} {qtype}"))
        .got(list(&pool)))
    })
}

/// No query for NAME (of any type) reached the hierarchy since they were
/// noted: the resolver answered from its cache.
/// Example: Then no query for "www.glue.${tld}" reached the hierarchy since they were noted
#[then(regex = r#"^no query for "(.*)" reached the hierarchy since they were noted$"#)]
async fn no_query(w: &mut World, name: String) -> StepResult {
    step!(w, {
        let _ = current_response(w).await;
        let want = name_arg(w, &name)?;
        let all = seen(w)?;
        let pool: Vec<Seen> = since(w, all, true)
            .into_iter()
            .filter(|s| s.name.eq_ignore_ascii_case(&want))
            .collect();
        if pool.is_empty() {
            return Ok(());
        }
        Err(Failure::conformance(format!(
            "the resolver asked the hierarchy about {want} again instead of answering from its cache"
        ))
        .expected("no query: the answer from the cache")
        .got(list(&pool)))
    })
}

/// The queries that reached the hierarchy used at least N source ports
/// and N IDs (with their counts in the failure).
/// Example: Then the queries that reached the hierarchy came from at least 4 source ports with at least 4 IDs
#[then(
    regex = r"^the queries that reached the hierarchy came from at least (\d+) source ports with at least (\d+) IDs$"
)]
async fn varied(w: &mut World, ports: usize, ids: usize) -> StepResult {
    step!(w, {
        let _ = current_response(w).await;
        let all = seen_udp(w)?;
        let p: BTreeSet<u16> = all.iter().map(|s| s.from.port()).collect();
        let i: BTreeSet<u16> = all.iter().map(|s| s.id).collect();
        if p.len() >= ports && i.len() >= ids {
            return Ok(());
        }
        Err(Failure::conformance(format!(
            "{} UDP queries came from {} source port(s) with {} ID(s)",
            all.len(),
            p.len(),
            i.len()
        ))
        .expected(format!("at least {ports} source ports and {ids} IDs"))
        .got(list(&all)))
    })
}

/// QNAME minimisation (RFC 9156): neither the root nor the TLD's server
/// (127.53.0.2), which only delegate the zone of NAME, was sent NAME itself.
/// Example: Then neither the root nor the TLD's server was sent the whole name "www.glue.${tld}"
#[then(regex = r#"^neither the root nor the TLD's server was sent the whole name "(.*)"$"#)]
async fn minimised(w: &mut World, name: String) -> StepResult {
    step!(w, {
        let _ = current_response(w).await;
        let want = name_arg(w, &name)?;
        let all = seen(w)?;
        let full: Vec<Seen> = all
            .iter()
            .filter(|s| {
                (s.server == hier::ROOT || s.server == hier::server_ip(2))
                    && s.name.eq_ignore_ascii_case(&want)
            })
            .cloned()
            .collect();
        if full.is_empty() {
            return Ok(());
        }
        Err(Failure::conformance(
            "the resolver sent the whole name to servers that only delegate a part of it",
        )
        .expected(format!(
            "the root and the TLD's server asked about {want}'s ancestors only"
        ))
        .got(list(&full)))
    })
}

/// Case randomisation (the 0x20 bit): some name the resolver sent up the
/// hierarchy over UDP mixes upper and lower case letters, though the client
/// asked in lower case. A resolver that forwards the name as given never
/// does; one that randomises each letter's case almost always does (a name
/// of n letters comes out in one case with chance 2^(1-n)).
/// Example: Then some name sent to the hierarchy over UDP mixes upper and lower case letters
#[then(regex = r"^some name sent to the hierarchy over UDP mixes upper and lower case letters$")]
async fn case_randomised(w: &mut World) -> StepResult {
    step!(w, {
        let _ = current_response(w).await;
        let udp = seen_udp(w)?;
        let mixed = |n: &str| {
            n.bytes().any(|b| b.is_ascii_uppercase()) && n.bytes().any(|b| b.is_ascii_lowercase())
        };
        if udp.iter().any(|s| mixed(&s.name)) {
            return Ok(());
        }
        Err(
            Failure::conformance("every name went up the hierarchy in one letter case")
                .expected("names in a random mix of cases (the 0x20 bit)")
                .got(list(&udp)),
        )
    })
}

/// Each answer record that was in the response before has a TTL lower by
/// at least N seconds now (the cache counts the TTL down).
/// Example: Then each answer TTL is at least 2 lower than in the response before
#[then(regex = r"^each answer TTL is at least (\d+) lower than in the response before$")]
async fn ttl_lower(w: &mut World, n: u32) -> StepResult {
    step!(w, {
        let now = current_response(w).await?;
        let before = earlier_responses(w)
            .pop()
            .ok_or_else(|| Failure::harness("the scenario compares TTLs before a second query"))?;
        let (Ok(a), Ok(b)) = (&now.message, &before.message) else {
            return Err(
                Failure::conformance("a response could not be decoded").got(format!(
                    "{}\n{}",
                    before.describe(),
                    now.describe()
                )),
            );
        };
        let mut compared = 0;
        for r in a.answers() {
            let key = |x: &hickory_proto::rr::Record| {
                (x.name().clone(), x.record_type(), rdata_text(x.data()))
            };
            if let Some(old) = b.answers().iter().find(|o| key(o) == key(r)) {
                compared += 1;
                if r.ttl() + n > old.ttl() {
                    return Err(Failure::conformance(format!(
                        "the TTL of {} went from {} to {}, not down by {n} or more",
                        present(r),
                        old.ttl(),
                        r.ttl()
                    ))
                    .expected(format!("a TTL of at most {}", old.ttl().saturating_sub(n)))
                    .got(now.describe()));
                }
            }
        }
        if compared == 0 {
            return Err(
                Failure::conformance("no answer record is in both responses").got(format!(
                    "{}\n{}",
                    before.describe(),
                    now.describe()
                )),
            );
        }
        Ok(())
    })
}

/// Every record of the section has a TTL of at most N.
/// Example: Then every authority TTL is at most 2
#[then(regex = r"^every (answer|authority) TTL is at most (\d+)$")]
async fn ttl_at_most(w: &mut World, which: String, n: u32) -> StepResult {
    step!(w, {
        let resp = current_response(w).await?;
        let Ok(m) = &resp.message else {
            return Err(
                Failure::conformance("the response could not be decoded").got(resp.describe())
            );
        };
        let records = if which == "answer" {
            m.answers()
        } else {
            m.name_servers()
        };
        if records.is_empty() {
            return Err(
                Failure::conformance(format!("the {which} section is empty")).got(resp.describe()),
            );
        }
        if let Some(r) = records.iter().find(|r| r.ttl() > n) {
            return Err(
                Failure::conformance(format!("{} has a TTL above {n}", present(r)))
                    .expected(format!("TTLs of at most {n}"))
                    .got(resp.describe()),
            );
        }
        Ok(())
    })
}
