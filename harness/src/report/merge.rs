//! `conform merge`: the JSON reports of the shards of one run (`--shard
//! K/N`) made into the report of the whole run, from which the console
//! summary, JSON and JUnit are written as if it had run on one machine.

use std::collections::BTreeMap;

use super::RunReport;
use crate::transcript::render_entries;

/// Reads one JSON report (`conform run --json`).
pub fn read(path: &std::path::Path) -> Result<RunReport, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut r: RunReport = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a conform JSON report: {e}", path.display()))?;
    for s in &mut r.scenarios {
        s.transcript_text = render_entries(&s.transcript, 0);
    }
    Ok(r)
}

/// The union of disjoint reports. A scenario in two of them, or reports of
/// runs with different `--strict`/`--ratchet`, are an error: they are not
/// parts of one run.
pub fn merge(parts: Vec<(String, RunReport)>) -> Result<RunReport, String> {
    let mut iter = parts.into_iter();
    let Some((first_name, mut all)) = iter.next() else {
        return Err("conform merge needs at least one report".into());
    };
    let mut seen: BTreeMap<String, String> = all
        .scenarios
        .iter()
        .map(|s| (s.id.clone(), first_name.clone()))
        .collect();
    for (name, r) in iter {
        if (r.strict, r.ratchet) != (all.strict, all.ratchet) {
            return Err(format!(
                "{name} was run with different --strict/--ratchet than {first_name}: not parts of one run"
            ));
        }
        for s in &r.scenarios {
            if let Some(other) = seen.insert(s.id.clone(), name.clone()) {
                return Err(format!(
                    "scenario {} is in both {other} and {name}: shards of one run are disjoint",
                    s.id
                ));
            }
        }
        if !all.target.split(", ").any(|t| t == r.target) {
            all.target = format!("{}, {}", all.target, r.target);
        }
        for p in r.protocols {
            if !all.protocols.contains(&p) {
                all.protocols.push(p);
            }
        }
        if all.context.started.is_empty()
            || (!r.context.started.is_empty() && r.context.started < all.context.started)
        {
            all.context.started = r.context.started;
        }
        for t in r.context.targets {
            if !all
                .context
                .targets
                .iter()
                .any(|a| a.key == t.key && a.address == t.address)
            {
                all.context.targets.push(t);
            }
        }
        // Shards run side by side: the whole took as long as the longest.
        all.seconds = all.seconds.max(r.seconds);
        all.scenarios.extend(r.scenarios);
    }
    all.scenarios.sort_by(|a, b| {
        (a.protocol.as_str(), a.file.as_str(), a.line).cmp(&(
            b.protocol.as_str(),
            b.file.as_str(),
            b.line,
        ))
    });
    Ok(all)
}
