//! The suites on disk: `features/<protocol>/*.feature`. Loading, selecting by
//! protocol, tags and profile, and reading a scenario's metadata from its tags.

use std::path::{Path, PathBuf};
use std::time::Duration;

use cucumber::feature::Ext as _;
use cucumber::gherkin::{self, tagexpr::TagOperation, GherkinEnv};
use cucumber::tag::Ext as _;

use crate::protocol::Protocol;
use crate::target::Profile;

/// Every feature file below a folder, parsed, with Examples expanded.
pub struct Suites {
    pub root: PathBuf,
    pub features: Vec<gherkin::Feature>,
}

/// Where the suites are: `--features DIR`, else `./features`, else the
/// folder this binary was built from.
pub fn default_features_dir() -> PathBuf {
    let local = PathBuf::from("features");
    if local.is_dir() {
        return local;
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../features"))
}

pub fn load(root: &Path) -> Result<Suites, String> {
    if !root.is_dir() {
        return Err(format!("features folder {} does not exist", root.display()));
    }
    let mut files = Vec::new();
    collect(root, &mut files).map_err(|e| format!("cannot read {}: {e}", root.display()))?;
    files.sort();
    let mut features = Vec::new();
    for file in files {
        let f = gherkin::Feature::parse_path(&file, GherkinEnv::default())
            .map_err(|e| format!("{}: {e}", file.display()))?;
        features.push(f.expand_examples().map_err(|e| e.to_string())?);
    }
    Ok(Suites {
        root: root.to_path_buf(),
        features,
    })
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "feature") {
            out.push(path);
        }
    }
    Ok(())
}

/// Which scenarios a run takes.
pub struct Selection {
    pub protocols: Vec<Protocol>,
    pub tags: Option<TagOperation>,
    pub profile: Profile,
    /// Only the scenarios with these ids (`file:line`, the file relative to
    /// the features folder given first).
    pub only: Option<(PathBuf, std::collections::BTreeSet<String>)>,
}

impl Selection {
    pub fn accepts(
        &self,
        f: &gherkin::Feature,
        r: Option<&gherkin::Rule>,
        s: &gherkin::Scenario,
    ) -> bool {
        let Some(protocol) = protocol_of(f) else {
            return false;
        };
        if let Some((root, ids)) = &self.only {
            let file = f
                .path
                .as_deref()
                .map(|p| relative_name(root, p))
                .unwrap_or_default();
            if !ids.contains(&format!("{file}:{}", s.position.line)) {
                return false;
            }
        }
        if !self.protocols.contains(&protocol) {
            return false;
        }
        // `@tcp`/`@udp` scenarios need the matching profile key.
        for part in protocol.optional_parts() {
            if all_tags(f, r, s).any(|t| t == *part)
                && self.profile.get(&format!("{protocol}.{part}")).is_none()
            {
                return false;
            }
        }
        // `@needs-smtp` and the like: a scenario that also drives another
        // protocol runs only when the profile has that section too.
        for tag in all_tags(f, r, s) {
            if let Some(other) = tag.strip_prefix("needs-").and_then(Protocol::parse) {
                if !self.profile.has(other) {
                    return false;
                }
            }
        }
        match &self.tags {
            Some(op) => op.eval(all_tags(f, r, s).collect::<Vec<_>>()),
            None => true,
        }
    }
}

impl Suites {
    /// The stable id of every scenario, selected or not.
    pub fn ids(&self) -> std::collections::BTreeSet<String> {
        self.all()
            .into_iter()
            .map(|(f, r, s)| ScenarioMeta::of(&self.root, f, r, s).id)
            .collect()
    }

    /// `(feature, rule, scenario)` of every scenario.
    pub fn all(
        &self,
    ) -> Vec<(
        &gherkin::Feature,
        Option<&gherkin::Rule>,
        &gherkin::Scenario,
    )> {
        let mut out = Vec::new();
        for f in &self.features {
            out.extend(f.scenarios.iter().map(|s| (f, None, s)));
            for r in &f.rules {
                out.extend(r.scenarios.iter().map(|s| (f, Some(r), s)));
            }
        }
        out
    }

    /// `(feature, rule, scenario)` of every selected scenario.
    pub fn select<'a>(
        &'a self,
        sel: &Selection,
    ) -> Vec<(
        &'a gherkin::Feature,
        Option<&'a gherkin::Rule>,
        &'a gherkin::Scenario,
    )> {
        let mut out = Vec::new();
        for f in &self.features {
            for s in &f.scenarios {
                if sel.accepts(f, None, s) {
                    out.push((f, None, s));
                }
            }
            for r in &f.rules {
                for s in &r.scenarios {
                    if sel.accepts(f, Some(r), s) {
                        out.push((f, Some(r), s));
                    }
                }
            }
        }
        out
    }
}

/// The protocol is the folder under `features/` the file is in (or, for the
/// fuzzer's `corpus/<protocol>/regressions/`, the folder above).
pub fn protocol_of(f: &gherkin::Feature) -> Option<Protocol> {
    let path = f.path.as_ref()?;
    let parent = path.parent()?;
    let mut dir = parent.file_name()?.to_str()?;
    if dir == "regressions" {
        dir = parent.parent()?.file_name()?.to_str()?;
    }
    Protocol::parse(dir)
}

pub fn all_tags<'a>(
    f: &'a gherkin::Feature,
    r: Option<&'a gherkin::Rule>,
    s: &'a gherkin::Scenario,
) -> impl Iterator<Item = &'a String> {
    f.tags
        .iter()
        .chain(r.into_iter().flat_map(|r| r.tags.iter()))
        .chain(s.tags.iter())
}

/// `@timeout(10s)`.
pub fn timeout_tag(
    f: &gherkin::Feature,
    r: Option<&gherkin::Rule>,
    s: &gherkin::Scenario,
) -> Option<Duration> {
    all_tags(f, r, s)
        .filter_map(|t| t.strip_prefix("timeout(")?.strip_suffix(')'))
        .filter_map(|d| humantime::parse_duration(d).ok())
        .last()
}

/// What the reports say about a scenario, read from its place and tags.
pub struct ScenarioMeta {
    /// Stable across edits of the file: `protocol/file-stem/slug-of-the-name`,
    /// or `protocol/file-stem/X` for a scenario tagged `@id(X)`.
    pub id: String,
    pub protocol: String,
    pub file: String,
    pub line: usize,
    pub name: String,
    pub tags: Vec<String>,
    pub rfc: Vec<String>,
    pub section: Vec<String>,
    pub level: String,
    pub points: Option<f64>,
}

impl ScenarioMeta {
    pub fn of(
        root: &Path,
        f: &gherkin::Feature,
        r: Option<&gherkin::Rule>,
        s: &gherkin::Scenario,
    ) -> ScenarioMeta {
        let tags: Vec<String> = all_tags(f, r, s).cloned().collect();
        let file = f
            .path
            .as_deref()
            .map(|p| relative_name(root, p))
            .unwrap_or_default();
        let mut name = s.name.clone();
        let mut row_id = String::new();
        if let Some(ex) = s.examples.first().and_then(|e| e.table.as_ref()) {
            if let (Some(head), Some(row)) = (ex.rows.first(), ex.rows.get(1)) {
                let cells: Vec<String> = head
                    .iter()
                    .zip(row)
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                let cells = cells.join(", ");
                // The row's values, readable; where the slug loses some of
                // them (`/../x` and `//x` both read `x`), a short hash of the
                // values keeps rows apart.
                row_id = format!("-{}", slug(&cells));
                if cells
                    .chars()
                    .any(|c| !(c.is_ascii_alphanumeric() || " =,-".contains(c)))
                {
                    row_id.push_str(&format!("-{:06x}", fnv1a(cells.as_bytes()) & 0xff_ffff));
                }
                name = format!("{name} [{cells}]");
            }
        }
        let rfc = tags
            .iter()
            .filter_map(|t| t.strip_prefix("rfc"))
            .filter(|n| n.chars().all(|c| c.is_ascii_digit()))
            .map(str::to_string)
            .collect();
        let section = tags
            .iter()
            .filter_map(|t| t.strip_prefix("sec-"))
            .map(str::to_string)
            .collect();
        let level = tags
            .iter()
            .rev()
            .find(|t| matches!(t.as_str(), "MUST" | "SHOULD" | "MAY"))
            .cloned()
            .unwrap_or_default();
        let points = tags
            .iter()
            .filter_map(|t| t.strip_prefix("points(")?.strip_suffix(')')?.parse().ok())
            .last();
        let protocol = protocol_of(f)
            .map(|p| p.name().to_string())
            .unwrap_or_default();
        let own = tags
            .iter()
            .filter_map(|t| t.strip_prefix("id(")?.strip_suffix(')'))
            .next_back()
            .map(slug);
        let scenario_slug = own.unwrap_or_else(|| slug(&s.name));
        let stem = f
            .path
            .as_deref()
            .and_then(|p| p.file_stem())
            .map(|s| slug(&s.to_string_lossy()))
            .unwrap_or_default();
        ScenarioMeta {
            id: format!("{protocol}/{stem}/{scenario_slug}{row_id}"),
            protocol,
            file,
            line: s.position.line,
            name,
            tags,
            rfc,
            section,
            level,
            points,
        }
    }
}

/// `A 405 lists Allow [m=GET]` → `a-405-lists-allow-m-get`: lower-case ASCII
/// letters and digits, every other run of characters one `-`.
pub fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |h: u32, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// `smtp/session.feature`: the path below the features folder, or else the
/// file's folder and name.
fn relative_name(root: &Path, path: &Path) -> String {
    if let Ok(rel) = path.strip_prefix(root) {
        return rel.display().to_string();
    }
    let name = path.file_name().map(PathBuf::from).unwrap_or_default();
    match path.parent().and_then(|d| d.file_name()) {
        Some(dir) => PathBuf::from(dir).join(name).display().to_string(),
        None => name.display().to_string(),
    }
}
