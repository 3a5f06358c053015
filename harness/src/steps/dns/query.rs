//! When steps: queries built from step text or a table, or raw octets.

use std::collections::BTreeMap;

use cucumber::gherkin::Step;
use cucumber::when;

use super::*;
use crate::step;

/// One query for NAME and TYPE (RD set if asked), over UDP unless TCP is
/// named; the response is kept for the checks.
#[when(regex = r#"^the client queries "(.*)" for (\S+)(?: with RD set)?(?: over (UDP|TCP))?$"#)]
async fn queries(
    w: &mut World,
    step: &Step,
    name: String,
    qtype: String,
    transport: String,
) -> StepResult {
    step!(w, {
        let name = w.expand(&name)?;
        let mut spec = QuerySpec::new(fresh_id(w), &name, parse_type(&qtype)?);
        spec.rd = step.value.contains("with RD set");
        let bytes = spec.encode().map_err(Failure::harness)?;
        send(w, Some(spec), bytes, Transport::parse(Some(&transport))).await
    })
}

/// The same query N times, each response kept (for rotation checks).
#[when(regex = r#"^the client queries "(.*)" for (\S+) (\d+) times(?: over (UDP|TCP))?$"#)]
async fn queries_n_times(
    w: &mut World,
    name: String,
    qtype: String,
    n: usize,
    transport: String,
) -> StepResult {
    step!(w, {
        let name = w.expand(&name)?;
        for _ in 0..n.min(50) {
            let spec = QuerySpec::new(fresh_id(w), &name, parse_type(&qtype)?);
            let bytes = spec.encode().map_err(Failure::harness)?;
            send(w, Some(spec), bytes, Transport::parse(Some(&transport))).await?;
            response(w).await?;
        }
        Ok(())
    })
}

/// A query from a two-column table of fields: `id`, `opcode`, `rd`, `qr`,
/// `ad`, `cd`, `questions` (QDCOUNT, the question repeated), `name`, `type`,
/// `class`, `edns` (yes/no), `payload`, `version`, `do`, `edns flags` (hex,
/// the OPT flag bits below DO), `edns option` (a code, sent with 7 octets
/// of data), `extra OPT records`.
#[when(regex = r"^the client sends this query(?: over (UDP|TCP))?:$")]
async fn sends_query_table(w: &mut World, step: &Step, transport: String) -> StepResult {
    step!(w, {
        let mut fields = BTreeMap::new();
        for row in step
            .table
            .as_ref()
            .map(|t| t.rows.as_slice())
            .unwrap_or_default()
        {
            if row.len() != 2 {
                return Err(Failure::harness(
                    "a query table has two columns: field | value",
                ));
            }
            fields.insert(row[0].trim().to_ascii_lowercase(), w.expand(row[1].trim())?);
        }
        let spec = spec_from_fields(w, &fields)?;
        let bytes = spec.encode().map_err(Failure::harness)?;
        send(w, Some(spec), bytes, Transport::parse(Some(&transport))).await
    })
}

fn spec_from_fields(w: &mut World, f: &BTreeMap<String, String>) -> Result<QuerySpec, Failure> {
    let num = |k: &str| -> Result<Option<u32>, Failure> {
        f.get(k)
            .map(|v| {
                v.parse::<u32>()
                    .map_err(|_| Failure::harness(format!("{k}: \"{v}\" is not a number")))
            })
            .transpose()
    };
    let name = f
        .get("name")
        .cloned()
        .ok_or_else(|| Failure::harness("the query table needs a name"))?;
    let qtype = parse_type(f.get("type").map(String::as_str).unwrap_or("A"))?;
    let mut q = QuerySpec::new(fresh_id(w), &name, qtype);
    if let Some(id) = num("id")? {
        q.id = id as u16;
    }
    if let Some(op) = num("opcode")? {
        q.opcode = op as u8;
    }
    if let Some(c) = f.get("class") {
        q.qclass = match c.to_ascii_uppercase().as_str() {
            "IN" => 1,
            "CH" | "CHAOS" => 3,
            "HS" => 4,
            "ANY" => 255,
            n => n
                .parse()
                .map_err(|_| Failure::harness(format!("class \"{n}\"")))?,
        };
    }
    if let Some(v) = f.get("rd") {
        q.rd = parse_bool(v)?;
    }
    if let Some(v) = f.get("qr") {
        q.qr = parse_bool(v)?;
    }
    if let Some(v) = f.get("ad") {
        q.ad = parse_bool(v)?;
    }
    if let Some(v) = f.get("cd") {
        q.cd = parse_bool(v)?;
    }
    if let Some(n) = num("questions")? {
        q.questions = n.min(16) as u16;
    }
    let wants_edns = match f.get("edns") {
        Some(v) => parse_bool(v)?,
        None => ["payload", "version", "do", "edns flags", "edns option"]
            .iter()
            .any(|k| f.contains_key(*k)),
    };
    if wants_edns {
        let flags = match f.get("edns flags") {
            Some(v) => {
                let hex = v.trim().trim_start_matches("0x");
                u16::from_str_radix(hex, 16).map_err(|_| {
                    Failure::harness(format!("edns flags: \"{v}\" is not a hexadecimal u16"))
                })?
            }
            None => 0,
        };
        q.edns = Some(EdnsSpec {
            payload: num("payload")?.unwrap_or(1232) as u16,
            version: num("version")?.unwrap_or(0) as u8,
            dnssec_ok: f
                .get("do")
                .map(|v| parse_bool(v))
                .transpose()?
                .unwrap_or(false),
            flags,
            options: num("edns option")?
                .map(|code| vec![(code as u16, b"conform".to_vec())])
                .unwrap_or_default(),
        });
    }
    if let Some(n) = num("extra opt records")? {
        q.extra_opts = n as usize;
    }
    Ok(q)
}

/// Raw octets as hex (`"00 2a 01 00 …"`), for messages no builder makes.
#[when(regex = r#"^the client sends the message "([0-9a-fA-F ]*)" over (UDP|TCP)$"#)]
async fn sends_raw(w: &mut World, hex: String, transport: String) -> StepResult {
    step!(w, {
        let clean: String = hex.chars().filter(|c| !c.is_whitespace()).collect();
        if !clean.len().is_multiple_of(2) {
            return Err(Failure::harness("odd number of hex digits"));
        }
        let bytes: Vec<u8> = (0..clean.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&clean[i..i + 2], 16))
            .collect::<Result<_, _>>()
            .map_err(|e| Failure::harness(format!("hex: {e}")))?;
        send(w, None, bytes, Transport::parse(Some(&transport))).await
    })
}

/// The last query again, with a new ID, over TCP (the client's answer to TC,
/// RFC 7766 §5).
#[when(regex = r"^the client repeats the query over TCP$")]
async fn repeats_over_tcp(w: &mut World) -> StepResult {
    step!(w, {
        response(w).await?;
        let last = w
            .state::<DnsState>()
            .last_query
            .as_ref()
            .and_then(|s| s.spec.clone());
        let mut spec = last.ok_or_else(|| Failure::harness("no earlier query to repeat"))?;
        spec.id = fresh_id(w);
        let bytes = spec.encode().map_err(Failure::harness)?;
        send(w, Some(spec), bytes, Transport::Tcp).await
    })
}
