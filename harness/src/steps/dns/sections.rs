//! Then steps on the answer, authority and additional sections.

use std::collections::BTreeMap;

use cucumber::gherkin::Step;
use cucumber::then;

use super::*;
use crate::step;

use super::header::{decoded, fail};

type Section<'a> = &'a [hickory_proto::rr::Record];

fn section<'a>(m: &'a hickory_proto::op::Message, which: &str) -> Section<'a> {
    match which {
        "answer" => m.answers(),
        "authority" => m.name_servers(),
        _ => m.additionals(),
    }
}

/// The named section of the response has no records.
#[then(regex = r"^the (answer|authority|additional) section is empty$")]
async fn section_empty(w: &mut World, which: String) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let m = decoded(&resp)?;
        if section(m, &which).is_empty() {
            Ok(())
        } else {
            Err(fail(
                format!("the {which} section has records"),
                format!("an empty {which} section"),
                &resp,
            ))
        }
    })
}

/// The named section of the response has exactly N records.
#[then(regex = r"^the (answer|authority|additional) section has (\d+) records?$")]
async fn section_count(w: &mut World, which: String, n: usize) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let m = decoded(&resp)?;
        let got = section(m, &which).len();
        if got == n {
            Ok(())
        } else {
            Err(fail(
                format!("the {which} section has {got} records"),
                format!("{n} records"),
                &resp,
            ))
        }
    })
}

/// One expected record: name, type, and optionally data and TTL.
struct Want {
    name: String,
    rtype: u16,
    data: Option<String>,
    ttl: Option<u32>,
    class: Option<String>,
}

fn norm_name(s: &str) -> String {
    let s = s.trim().to_ascii_lowercase();
    if s.ends_with('.') {
        s
    } else {
        format!("{s}.")
    }
}

/// Names in data end with a dot; everything else is compared as written.
fn norm_data(s: &str) -> String {
    s.split_whitespace()
        .map(|t| {
            let lower = t.to_ascii_lowercase();
            if !t.starts_with('"')
                && lower.contains('.')
                && lower.chars().any(|c| c.is_ascii_alphabetic())
                && !lower.contains(':')
            {
                norm_name(&lower)
            } else {
                t.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn wants(w: &World, step: &Step) -> Result<Vec<Want>, Failure> {
    let rows = step
        .table
        .as_ref()
        .map(|t| t.rows.clone())
        .unwrap_or_default();
    let header: Vec<String> = rows
        .first()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let (n, t) = col("name")
        .zip(col("type"))
        .ok_or_else(|| Failure::harness("a record table needs name and type columns"))?;
    let mut out = Vec::new();
    for row in rows.iter().skip(1) {
        out.push(Want {
            name: norm_name(&w.expand(&row[n])?),
            rtype: parse_type(&row[t])?,
            data: col("data")
                .map(|d| w.expand(&row[d]).map(|v| norm_data(&v)))
                .transpose()?,
            ttl: col("ttl")
                .map(|c| {
                    row[c]
                        .trim()
                        .parse::<u32>()
                        .map_err(|_| Failure::harness("ttl must be a number"))
                })
                .transpose()?,
            class: col("class").map(|c| row[c].trim().to_ascii_uppercase()),
        });
    }
    Ok(out)
}

fn matches(want: &Want, r: &hickory_proto::rr::Record) -> bool {
    norm_name(&r.name().to_ascii()) == want.name
        && u16::from(r.record_type()) == want.rtype
        && want
            .data
            .as_ref()
            .is_none_or(|d| norm_data(&rdata_text(r.data())) == *d)
        && want.ttl.is_none_or(|t| r.ttl() == t)
        && want
            .class
            .as_ref()
            .is_none_or(|c| r.dns_class().to_string().eq_ignore_ascii_case(c))
}

fn describe_want(w: &Want) -> String {
    format!(
        "{}{} {}{}{}",
        w.name,
        w.class
            .as_ref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default(),
        hickory_proto::rr::RecordType::from(w.rtype),
        w.data.as_ref().map(|d| format!(" {d}")).unwrap_or_default(),
        w.ttl.map(|t| format!(" (TTL {t})")).unwrap_or_default()
    )
}

/// The named section holds the records of the table (name, type, data), or
/// exactly those.
#[then(regex = r"^the (answer|authority|additional) section (contains|is exactly):$")]
async fn section_holds(w: &mut World, step: &Step, which: String, how: String) -> StepResult {
    step!(w, {
        let wanted = wants(w, step)?;
        let resp = response(w).await?;
        let m = decoded(&resp)?;
        let records = section(m, &which);
        let missing: Vec<String> = wanted
            .iter()
            .filter(|want| !records.iter().any(|r| matches(want, r)))
            .map(describe_want)
            .collect();
        if !missing.is_empty() {
            return Err(fail(
                format!("the {which} section lacks {}", missing.join("; ")),
                describe_all(&wanted),
                &resp,
            ));
        }
        if how == "is exactly" {
            let extra: Vec<String> = records
                .iter()
                .filter(|r| !wanted.iter().any(|want| matches(want, r)))
                .map(crate::wire::dns::present)
                .collect();
            if !extra.is_empty() || records.len() != wanted.len() {
                return Err(fail(
                    format!(
                        "the {which} section holds other records too: {}",
                        extra.join("; ")
                    ),
                    describe_all(&wanted),
                    &resp,
                ));
            }
        }
        Ok(())
    })
}

fn describe_all(w: &[Want]) -> String {
    w.iter().map(describe_want).collect::<Vec<_>>().join("; ")
}

/// The authority section holds the zone's SOA record (a negative answer, RFC
/// 2308 §3).
#[then(regex = r#"^the authority section holds the SOA of "(.*)"$"#)]
async fn authority_soa(w: &mut World, zone: String) -> StepResult {
    step!(w, {
        let zone = norm_name(&w.expand(&zone)?);
        let resp = response(w).await?;
        let m = decoded(&resp)?;
        let ok = m
            .name_servers()
            .iter()
            .any(|r| u16::from(r.record_type()) == 6 && norm_name(&r.name().to_ascii()) == zone);
        if ok {
            Ok(())
        } else {
            Err(fail(
                "no SOA in the authority section",
                format!("the SOA of {zone} (RFC 2308 §3)"),
                &resp,
            ))
        }
    })
}

/// RFC 2308 §3, §5: the SOA of a negative answer has the TTL
/// min(SOA TTL, SOA.MINIMUM), the SOA's own TTL as served in the answer to
/// an earlier SOA query of the scenario.
#[then(
    regex = r"^the SOA in the authority section has the TTL min\(SOA TTL, MINIMUM\) of the SOA answered before$"
)]
async fn negative_soa_ttl(w: &mut World) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let m = decoded(&resp)?;
        let soa_of = |r: &hickory_proto::rr::Record| match r.data() {
            hickory_proto::rr::RData::SOA(s) => {
                Some((norm_name(&r.name().to_ascii()), r.ttl(), s.minimum()))
            }
            _ => None,
        };
        let earlier = w
            .state::<DnsState>()
            .history
            .iter()
            .rev()
            .filter_map(|r| r.message.as_ref().ok())
            .find_map(|m| m.answers().iter().find_map(soa_of))
            .ok_or_else(|| {
                Failure::harness("the scenario checks the negative TTL before an SOA query was answered with the SOA")
            })?;
        let (zone, ttl, minimum) = earlier;
        let want = ttl.min(minimum);
        let Some((_, got, _)) = m
            .name_servers()
            .iter()
            .filter_map(soa_of)
            .find(|(owner, _, _)| *owner == zone)
        else {
            return Err(fail(
                "no SOA in the authority section",
                format!("the SOA of {zone} (RFC 2308 §3)"),
                &resp,
            ));
        };
        if got == want {
            Ok(())
        } else {
            Err(fail(
                format!(
                    "the SOA in the authority section has TTL {got} (RFC 2308 §3: \"The TTL of this record is set from the minimum of the MINIMUM field of the SOA record and the TTL of the SOA itself\")"
                ),
                format!("TTL {want} = min(SOA TTL {ttl}, MINIMUM {minimum})"),
                &resp,
            ))
        }
    })
}

/// RFC 1034 §4.3.2 / §3.6.2: an answer holds records of the question's name
/// and type, or a CNAME chain that leads to them.
#[then(
    regex = r"^every answer record is for the question's name and type, or a CNAME chain leading to them$"
)]
async fn answer_relevant(w: &mut World) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let m = decoded(&resp)?;
        let q = m
            .queries()
            .first()
            .ok_or_else(|| fail("no question in the response", "the question", &resp))?;
        let mut current = norm_name(&q.name().to_ascii());
        for r in m.answers() {
            let owner = norm_name(&r.name().to_ascii());
            if owner != current {
                return Err(fail(
                    format!(
                        "the answer record {} is not for {current}",
                        crate::wire::dns::present(r)
                    ),
                    "records of the question's name or its CNAME chain",
                    &resp,
                ));
            }
            if r.record_type() == hickory_proto::rr::RecordType::CNAME
                && q.query_type() != hickory_proto::rr::RecordType::CNAME
            {
                current = norm_name(&rdata_text(r.data()));
            } else if r.record_type() != q.query_type()
                && q.query_type() != hickory_proto::rr::RecordType::ANY
            {
                return Err(fail(
                    format!(
                        "the answer record {} has another type",
                        crate::wire::dns::present(r)
                    ),
                    format!("type {}", q.query_type()),
                    &resp,
                ));
            }
        }
        Ok(())
    })
}

/// RFC 2181 §5.2: the records of one RRset all have the same TTL.
#[then(regex = r"^the records of each RRset have the same TTL$")]
async fn rrset_ttls(w: &mut World) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let m = decoded(&resp)?;
        let mut ttls: BTreeMap<(String, u16, String), u32> = BTreeMap::new();
        for (which, records) in [
            ("answer", m.answers()),
            ("authority", m.name_servers()),
            ("additional", m.additionals()),
        ] {
            for r in records {
                let key = (
                    norm_name(&r.name().to_ascii()),
                    u16::from(r.record_type()),
                    which.to_string(),
                );
                if let Some(t) = ttls.insert(key, r.ttl()) {
                    if t != r.ttl() {
                        return Err(fail(
                            format!(
                                "the RRset of {} has TTLs {t} and {}",
                                crate::wire::dns::present(r),
                                r.ttl()
                            ),
                            "one TTL per RRset",
                            &resp,
                        ));
                    }
                }
            }
        }
        Ok(())
    })
}

/// RFC 2181 §8: a TTL is an unsigned value from 0 to 2^31 - 1.
#[then(regex = r"^every TTL is at most 2147483647$")]
async fn ttl_range(w: &mut World) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let m = decoded(&resp)?;
        let too_long = m
            .all_sections()
            .find(|r| r.ttl() > i32::MAX as u32)
            .map(crate::wire::dns::present);
        match too_long {
            None => Ok(()),
            Some(r) => Err(fail(
                format!("{r} has a TTL above 2^31 - 1"),
                "TTLs of at most 2147483647",
                &resp,
            )),
        }
    })
}

/// Course notes D-05: the addresses rotate across consecutive responses.
#[then(regex = r"^the order of the answer records is not the same in every response$")]
async fn order_rotates(w: &mut World) -> StepResult {
    step!(w, {
        let last = response(w).await?;
        let st = w.state::<DnsState>();
        let orders: Vec<Vec<String>> = st
            .history
            .iter()
            .chain(std::iter::once(&last))
            .filter_map(|r| r.message.as_ref().ok())
            .map(|m| m.answers().iter().map(|a| rdata_text(a.data())).collect())
            .collect();
        if orders.len() >= 2 && orders.iter().any(|o| o != &orders[0]) {
            Ok(())
        } else {
            Err(fail(
                format!(
                    "{} responses, all in the order {:?}",
                    orders.len(),
                    orders.first()
                ),
                "a changing order (DNS rotation)",
                &last,
            ))
        }
    })
}

/// RFC 3596 §3: a server that performs type A additional section processing
/// for a name performs type AAAA processing too. Where the additional
/// section holds no A record of the name, the server did no such processing
/// and the scenario does not apply.
#[then(regex = r#"^where the additional section holds an A record of "(.*)", it also contains:$"#)]
async fn additional_if_a(w: &mut World, step: &Step, owner: String) -> StepResult {
    step!(w, {
        let owner = norm_name(&w.expand(&owner)?);
        let wanted = wants(w, step)?;
        let resp = response(w).await?;
        let m = decoded(&resp)?;
        let has_a = m.additionals().iter().any(|r| {
            r.record_type() == hickory_proto::rr::RecordType::A
                && norm_name(&r.name().to_ascii()) == owner
        });
        if !has_a {
            return Err(Failure::skip(format!(
                "the additional section holds no A record of {owner}: the server does no type A \
                 additional section processing here, and RFC 3596 §3 asks for AAAA only where it does"
            )));
        }
        let missing: Vec<String> = wanted
            .iter()
            .filter(|want| !m.additionals().iter().any(|r| matches(want, r)))
            .map(describe_want)
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(fail(
                format!(
                    "the additional section holds the A record of {owner} but lacks {}",
                    missing.join("; ")
                ),
                describe_all(&wanted),
                &resp,
            ))
        }
    })
}

/// RFC 1034 §4.3.1: a recursive response is "either an error or the answer,
/// but never referrals". A referral is NOERROR with no answer and NS records
/// in the authority section.
#[then(regex = r"^the response is not a referral$")]
async fn not_a_referral(w: &mut World) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let m = decoded(&resp)?;
        let referral = u16::from(m.response_code()) == 0
            && m.answers().is_empty()
            && m.name_servers()
                .iter()
                .any(|r| r.record_type() == hickory_proto::rr::RecordType::NS);
        if referral {
            Err(fail(
                "the response is a referral: no answer, NS records in the authority section",
                "the answer or an error (RFC 1034 §4.3.1: a recursive response is \"either an error or the answer, but never referrals\")",
                &resp,
            ))
        } else {
            Ok(())
        }
    })
}

/// RFC 1034 §3.7.1: a QCLASS "matches just that class", and §4.2 keeps the
/// data of each class apart: a response to a query of another class holds
/// no record of class IN (whatever its RCODE: a server without that class's
/// data refuses or answers without it).
#[then(regex = r"^no record of the response is of class IN$")]
async fn no_class_in(w: &mut World) -> StepResult {
    step!(w, {
        let resp = response(w).await?;
        let m = decoded(&resp)?;
        let class_in = m
            .answers()
            .iter()
            .chain(m.name_servers())
            .chain(m.additionals())
            .filter(|r| r.record_type() != hickory_proto::rr::RecordType::OPT)
            .find(|r| r.dns_class() == hickory_proto::rr::DNSClass::IN);
        match class_in {
            None => Ok(()),
            Some(r) => Err(fail(
                format!(
                    "the response holds {} {} of class IN",
                    r.name(),
                    r.record_type()
                ),
                "no class IN data (RFC 1034 §3.7.1: a QCLASS \"matches just that class\")",
                &resp,
            )),
        }
    })
}
