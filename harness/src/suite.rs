//! The suites: the bundled `features/<protocol>/*.feature` and the user's
//! `--features` folders. Loading, selecting by protocol, tags and profile,
//! and reading a scenario's metadata from its tags.

use std::path::{Path, PathBuf};
use std::time::Duration;

use cucumber::feature::Ext as _;
use cucumber::gherkin::{self, tagexpr::TagOperation, GherkinEnv};
use cucumber::tag::Ext as _;

use crate::protocol::Protocol;
use crate::target::Profile;

/// Every feature file of a run, parsed, with Examples expanded.
pub struct Suites {
    /// Report file names are relative to this folder (for `conform grade`'s
    /// scratch copy); empty: the paths as given.
    pub root: PathBuf,
    pub features: Vec<gherkin::Feature>,
}

/// Where a run's feature files come from: the suites bundled in the binary
/// (reported as `features/<protocol>/<file>.feature`) unless `--no-bundled`,
/// and every `--features DIR` (reported by the paths given). Nothing is
/// read from the working folder unless it is named.
#[derive(Clone, Debug)]
pub struct Sources {
    pub bundled: bool,
    pub dirs: Vec<PathBuf>,
    /// Report names relative to this folder instead of as given.
    pub relative_to: Option<PathBuf>,
}

impl Sources {
    /// The bundled suites only: what `conform run` uses without `--features`.
    pub fn bundled() -> Sources {
        Sources {
            bundled: true,
            dirs: Vec::new(),
            relative_to: None,
        }
    }

    /// From the command line: `--features DIR` (repeatable) adds to the
    /// bundled suites, `--no-bundled` leaves them out.
    pub fn from_args(dirs: Vec<PathBuf>, no_bundled: bool) -> Result<Sources, String> {
        if no_bundled && dirs.is_empty() {
            return Err("--no-bundled needs at least one --features DIR".into());
        }
        Ok(Sources {
            bundled: !no_bundled,
            dirs,
            relative_to: None,
        })
    }

    /// What the sources are, for messages: `bundled suites, ./mine`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.bundled {
            parts.push("the bundled suites".to_string());
        }
        parts.extend(self.dirs.iter().map(|d| d.display().to_string()));
        parts.join(", ")
    }
}

/// One folder alone, names relative to it (the library's and the tests'
/// `RunOptions::new(dir)`, and `conform grade`'s scratch copy).
impl From<PathBuf> for Sources {
    fn from(dir: PathBuf) -> Sources {
        Sources {
            bundled: false,
            dirs: vec![dir.clone()],
            relative_to: Some(dir),
        }
    }
}

impl From<&Path> for Sources {
    fn from(dir: &Path) -> Sources {
        dir.to_path_buf().into()
    }
}

/// Every feature file below a folder, names relative to it.
pub fn load(root: &Path) -> Result<Suites, String> {
    load_sources(&root.into())
}

/// The bundled suites (unless left out), then each folder's; a folder's
/// file with the same protocol and file name as a bundled one replaces it
/// (its scenario ids would be the same).
pub fn load_sources(src: &Sources) -> Result<Suites, String> {
    let mut features = Vec::new();
    if src.bundled {
        for (path, text) in crate::bundle::below("features") {
            let mut f = gherkin::Feature::parse(text, GherkinEnv::default())
                .map_err(|e| format!("{path}: {e}"))?;
            f.path = Some(PathBuf::from(path));
            features.push(f.expand_examples().map_err(|e| format!("{path}: {e}"))?);
        }
    }
    let bundled_count = features.len();
    for root in &src.dirs {
        if !root.is_dir() {
            return Err(format!("features folder {} does not exist", root.display()));
        }
        let mut files = Vec::new();
        collect(root, &mut files).map_err(|e| format!("cannot read {}: {e}", root.display()))?;
        files.sort();
        for file in files {
            let f = load_file(&file)?;
            if protocol_of(&f).is_none() {
                return Err(format!(
                    "{}: the feature has no protocol tag (one of @{}), so it would never run",
                    file.display(),
                    Protocol::ALL.map(|p| p.name()).join(" @")
                ));
            }
            let key = (protocol_of(&f), stem_of(&f));
            if let Some(i) = features[..bundled_count]
                .iter()
                .position(|b| (protocol_of(b), stem_of(b)) == key)
            {
                features[i] = f;
            } else {
                features.push(f);
            }
        }
    }
    Ok(Suites {
        root: src.relative_to.clone().unwrap_or_default(),
        features,
    })
}

/// One feature file, by the path given.
pub fn load_file(file: &Path) -> Result<gherkin::Feature, String> {
    let f = gherkin::Feature::parse_path(file, GherkinEnv::default())
        .map_err(|e| format!("{}: {e}", file.display()))?;
    f.expand_examples()
        .map_err(|e| format!("{}: {e}", file.display()))
}

fn stem_of(f: &gherkin::Feature) -> Option<String> {
    Some(f.path.as_ref()?.file_stem()?.to_string_lossy().into_owned())
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
    /// Only the scenarios with these stable ids ([`ScenarioMeta::id`]), the
    /// files named relative to the features folder given first.
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
            if !ids.contains(&ScenarioMeta::of(root, f, r, s).id) {
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

/// The protocol of a feature is its protocol tag (`@http`, among the
/// feature's own tags; the lint requires one), so a user's folders can be
/// laid out freely. A file without one falls back to its folder's name
/// (`features/<protocol>/`, or for the fuzzer's
/// `corpus/<protocol>/regressions/` the folder above).
pub fn protocol_of(f: &gherkin::Feature) -> Option<Protocol> {
    if let Some(p) = f.tags.iter().find_map(|t| Protocol::parse(t)) {
        return Some(p);
    }
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
    /// For an Examples row, with the row's values: `name [k=v, …]`.
    pub name: String,
    /// The name as written: for an Examples row, the outline's name.
    pub title: String,
    pub tags: Vec<String>,
    /// Every RFC the scenario cites, in tag order: `5321`.
    pub rfc: Vec<String>,
    /// The RFC-bound sections (`@rfc5321-sec-4.1.1.4`).
    pub sections: Vec<Section>,
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
            .map(|p| display_path(root, p))
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
        let (rfc, sections) = requirements(&tags);
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
            title: s.name.clone(),
            tags,
            rfc,
            sections,
            level,
            points,
        }
    }
}

/// A section of one RFC, from a tag `@rfc5321-sec-4.1.1.4`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Section {
    pub rfc: String,
    pub section: String,
}

impl Section {
    /// Where the RFC Editor publishes it.
    pub fn url(&self) -> String {
        format!(
            "https://www.rfc-editor.org/rfc/rfc{}#section-{}",
            self.rfc, self.section
        )
    }
}

impl std::fmt::Display for Section {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RFC {} §{}", self.rfc, self.section)
    }
}

/// The RFCs (`@rfcNNNN`, and those of bound sections) and the RFC-bound
/// sections (`@rfcNNNN-sec-X.Y`) among a scenario's tags. A section tag that
/// is not bound (`@sec-X.Y`, the old form) is bound to the first RFC.
pub fn requirements(tags: &[String]) -> (Vec<String>, Vec<Section>) {
    let mut rfcs: Vec<String> = Vec::new();
    let mut sections = Vec::new();
    let mut loose = Vec::new();
    for t in tags {
        let Some(rest) = t.strip_prefix("rfc") else {
            if let Some(sec) = t.strip_prefix("sec-") {
                loose.push(sec.to_string());
            }
            continue;
        };
        let (num, sec) = match rest.split_once("-sec-") {
            Some((n, s)) => (n, Some(s)),
            None => (rest, None),
        };
        if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        if !rfcs.iter().any(|r| r == num) {
            rfcs.push(num.to_string());
        }
        if let Some(sec) = sec {
            sections.push(Section {
                rfc: num.to_string(),
                section: sec.to_string(),
            });
        }
    }
    if let Some(first) = rfcs.first() {
        for sec in loose {
            sections.push(Section {
                rfc: first.clone(),
                section: sec,
            });
        }
    }
    (rfcs, sections)
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

/// `--shard K/N`: the K-th of N disjoint parts of a run (1-based), chosen
/// by a hash of each scenario's stable id, so every machine of a CI matrix
/// computes the same partition and the parts together are the whole run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub k: u32,
    pub n: u32,
}

impl Shard {
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || format!("--shard {s}: use K/N with 1 <= K <= N, e.g. 2/4");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, n): (u32, u32) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }

    /// Whether the scenario with this stable id belongs to this shard.
    pub fn takes(&self, id: &str) -> bool {
        fnv1a(id.as_bytes()) % self.n == self.k - 1
    }
}

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |h: u32, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// `smtp/session.feature`: the path below `root`; with an empty root the
/// path as given (`features/smtp/session.feature`, `mine/app.feature`); or
/// else the file's folder and name.
pub fn display_path(root: &Path, path: &Path) -> String {
    if root.as_os_str().is_empty() {
        return path.display().to_string();
    }
    if let Ok(rel) = path.strip_prefix(root) {
        return rel.display().to_string();
    }
    let name = path.file_name().map(PathBuf::from).unwrap_or_default();
    match path.parent().and_then(|d| d.file_name()) {
        Some(dir) => PathBuf::from(dir).join(name).display().to_string(),
        None => name.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(t: &str) -> Vec<String> {
        t.split_whitespace()
            .map(|s| s.trim_start_matches('@').to_string())
            .collect()
    }

    #[test]
    fn sections_belong_to_their_rfc() {
        let (rfc, secs) = requirements(&tags(
            "@imap @rfc3501 @rfc9051 @rfc3501-sec-6.3.1 @rfc4616 @MUST",
        ));
        assert_eq!(rfc, ["3501", "9051", "4616"]);
        assert_eq!(secs.len(), 1);
        assert_eq!(secs[0].to_string(), "RFC 3501 §6.3.1");
        assert_eq!(
            secs[0].url(),
            "https://www.rfc-editor.org/rfc/rfc3501#section-6.3.1"
        );
        // A bound section names its RFC even without a plain @rfc tag.
        let (rfc, secs) = requirements(&tags("@rfc1870-sec-6.1"));
        assert_eq!(rfc, ["1870"]);
        assert_eq!(secs[0].rfc, "1870");
        // The old loose form goes to the first RFC only.
        let (_, secs) = requirements(&tags("@rfc5321 @rfc5322 @sec-4.2"));
        assert_eq!(
            secs,
            [Section {
                rfc: "5321".into(),
                section: "4.2".into()
            }]
        );
    }

    #[test]
    fn slugs_are_stable_names() {
        assert_eq!(
            slug("A 405 lists Allow [m=GET, x=/..]"),
            "a-405-lists-allow-m-get-x"
        );
        assert_eq!(slug("  --Trim--  "), "trim");
    }
}
