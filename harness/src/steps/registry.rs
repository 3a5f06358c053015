//! Every step definition, as cucumber registered it: its kind, regex and
//! place in the source, with the `///` doc comment written above its
//! attribute (collected by `build.rs`) and an example from the bundled
//! suites. `conform steps` lists them, the README's step tables are
//! generated from them (`conform steps --readme README.md`), and
//! [`check`] matches a run's steps against them before anything connects.
//!
//! A step's doc comment is its documentation: the first lines say what it
//! does (one line in the tables); a line `Example: When …` gives an example
//! where no bundled scenario uses the step.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use cucumber::codegen::{inventory, StepConstructor as _, WorldInventory};
use cucumber::gherkin::{self, StepType};

use super::World;
use crate::suite;

include!(concat!(env!("OUT_DIR"), "/step_docs.rs"));

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Given,
    When,
    Then,
}

impl Kind {
    pub fn of(ty: StepType) -> Kind {
        match ty {
            StepType::Given => Kind::Given,
            StepType::When => Kind::When,
            StepType::Then => Kind::Then,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Given => "Given",
            Kind::When => "When",
            Kind::Then => "Then",
        }
    }
}

/// The README's step sections, in their order: `generic` for the steps
/// every suite shares (`steps/raw.rs`, `line.rs`, `fuzz.rs`), then one per
/// protocol.
pub const SECTIONS: &[(&str, &str)] = &[
    ("generic", "Generic"),
    ("sockets", "Sockets"),
    ("http", "HTTP"),
    ("proxy", "Proxy"),
    ("smtp", "SMTP"),
    ("pop3", "POP3"),
    ("imap", "IMAP"),
    ("ftp", "FTP"),
    ("dns", "DNS"),
];

pub struct StepDef {
    pub kind: Kind,
    pub regex: regex::Regex,
    /// The source file as the compiler named it (`harness/src/steps/smtp.rs`).
    pub file: &'static str,
    /// The line of its `#[given]`/`#[when]`/`#[then]` attribute.
    pub line: u32,
    /// The doc comment above the attribute (`None`: the build found no
    /// attribute at this place, i.e. the registry and the sources disagree).
    pub doc: Option<&'static str>,
    /// One of [`SECTIONS`].
    pub section: &'static str,
    /// Its place in [`all`], for [`StepDef::example`].
    index: usize,
}

impl StepDef {
    /// The regex without its anchors: `an SMTP session`.
    pub fn pattern(&self) -> &str {
        let p = self.regex.as_str();
        let p = p.strip_prefix('^').unwrap_or(p);
        p.strip_suffix('$').unwrap_or(p)
    }

    /// The doc comment's text, `Example:` lines left out, as one line.
    pub fn meaning(&self) -> String {
        self.doc
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("Example:"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn doc_example(&self) -> Option<String> {
        self.doc?
            .lines()
            .find_map(|l| l.trim().strip_prefix("Example:"))
            .map(|e| e.trim().trim_matches('`').to_string())
    }

    /// A use of the step: the doc's `Example:` line, else the first bundled
    /// scenario step it matches (found on first use: a run does not need
    /// them).
    pub fn example(&self) -> Option<&'static str> {
        examples().get(self.index)?.as_deref()
    }

    /// Whether a step of this kind with this text runs this definition.
    pub fn matches(&self, kind: Kind, text: &str) -> bool {
        self.kind == kind && self.regex.is_match(text)
    }
}

/// Every step definition, by section, file and line.
pub fn all() -> &'static [StepDef] {
    static ALL: OnceLock<Vec<StepDef>> = OnceLock::new();
    ALL.get_or_init(build)
}

fn build() -> Vec<StepDef> {
    let mut defs = Vec::new();
    let mut add =
        |kind: Kind, (loc, regex, _): (cucumber::step::Location, fn() -> regex::Regex, _)| {
            let doc = STEP_DOCS
                .iter()
                .find(|(file, line, _)| loc.path.ends_with(file) && *line == loc.line)
                .map(|(_, _, d)| *d);
            defs.push(StepDef {
                kind,
                regex: regex(),
                file: loc.path,
                line: loc.line,
                doc,
                section: section_of(loc.path),
                index: 0,
            });
        };
    for s in inventory::iter::<<World as WorldInventory>::Given> {
        add(Kind::Given, s.inner());
    }
    for s in inventory::iter::<<World as WorldInventory>::When> {
        add(Kind::When, s.inner());
    }
    for s in inventory::iter::<<World as WorldInventory>::Then> {
        add(Kind::Then, s.inner());
    }
    let order = |s: &str| {
        SECTIONS
            .iter()
            .position(|(k, _)| *k == s)
            .unwrap_or(usize::MAX)
    };
    defs.sort_by(|a, b| {
        (order(a.section), a.file, a.line).cmp(&(order(b.section), b.file, b.line))
    });
    for (i, d) in defs.iter_mut().enumerate() {
        d.index = i;
    }
    defs
}

/// The example of every step of [`all`], by index: the doc's `Example:`
/// line, else the first step of the bundled suites it matches.
fn examples() -> &'static [Option<String>] {
    static EXAMPLES: OnceLock<Vec<Option<String>>> = OnceLock::new();
    EXAMPLES.get_or_init(|| {
        let defs = all();
        let mut out: Vec<Option<String>> = defs.iter().map(|d| d.doc_example()).collect();
        if let Ok(suites) = suite::load_sources(&suite::Sources::bundled()) {
            for f in &suites.features {
                for step in feature_steps(f) {
                    let kind = Kind::of(step.ty);
                    for (d, e) in defs.iter().zip(out.iter_mut()) {
                        if e.is_none() && d.matches(kind, &step.value) {
                            *e = Some(format!("{} {}", kind.name(), step.value));
                        }
                    }
                }
            }
        }
        out
    })
}

/// `harness/src/steps/http/mod.rs` → `http`; `ftp_client.rs` → `ftp`;
/// `raw.rs`, `line.rs`, `fuzz.rs` → `generic`.
fn section_of(path: &str) -> &'static str {
    let below = path
        .rsplit_once("steps/")
        .map(|(_, rest)| rest)
        .unwrap_or(path);
    let first = below.split('/').next().unwrap_or_default();
    let stem = first.trim_end_matches(".rs");
    let stem = stem.strip_suffix("_client").unwrap_or(stem);
    SECTIONS
        .iter()
        .map(|(k, _)| *k)
        .find(|k| *k == stem)
        .unwrap_or("generic")
}

/// Every step of a feature: backgrounds, scenarios, rules.
fn feature_steps(f: &gherkin::Feature) -> impl Iterator<Item = &gherkin::Step> {
    let bg = f.background.iter().flat_map(|b| b.steps.iter());
    let scenarios = f.scenarios.iter().flat_map(|s| s.steps.iter());
    let rules = f.rules.iter().flat_map(|r| {
        r.background
            .iter()
            .flat_map(|b| b.steps.iter())
            .chain(r.scenarios.iter().flat_map(|s| s.steps.iter()))
    });
    bg.chain(scenarios).chain(rules)
}

/// The definitions a step would run: none (undefined), one, or several
/// (ambiguous).
pub fn matching(kind: Kind, text: &str) -> Vec<&'static StepDef> {
    all().iter().filter(|d| d.matches(kind, text)).collect()
}

/// Checks that every step of the selected scenarios (their backgrounds
/// included) has exactly one definition. The error lists every undefined or
/// ambiguous step as `file:line`, with the closest known steps.
pub fn check(
    root: &Path,
    selected: &[(
        &gherkin::Feature,
        Option<&gherkin::Rule>,
        &gherkin::Scenario,
    )],
) -> Result<(), String> {
    let mut problems: BTreeSet<(String, usize, String)> = BTreeSet::new();
    // A background's steps come once per scenario: each text is matched once.
    let mut seen: std::collections::HashMap<(Kind, &str), Option<String>> = Default::default();
    for (f, r, s) in selected {
        let file = f
            .path
            .as_deref()
            .map(|p| suite::display_path(root, p))
            .unwrap_or_default();
        let steps = f
            .background
            .iter()
            .flat_map(|b| b.steps.iter())
            .chain(
                r.iter()
                    .flat_map(|r| r.background.iter().flat_map(|b| b.steps.iter())),
            )
            .chain(s.steps.iter());
        for step in steps {
            let found = seen
                .entry((Kind::of(step.ty), step.value.as_str()))
                .or_insert_with(|| problem(step));
            if let Some(problem) = found {
                problems.insert((file.clone(), step.position.line, problem.clone()));
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let n = problems.len();
    let list: Vec<String> = problems
        .into_iter()
        .map(|(file, line, p)| format!("{file}:{line}: {p}"))
        .collect();
    Err(format!(
        "{n} step(s) match no step definition or more than one (see `conform steps`):\n{}",
        list.join("\n")
    ))
}

/// What is wrong with one step, if anything.
pub fn problem(step: &gherkin::Step) -> Option<String> {
    let kind = Kind::of(step.ty);
    let found = matching(kind, &step.value);
    match found.len() {
        1 => None,
        0 => {
            let mut text = format!("undefined step \"{} {}\"", kind.name(), step.value);
            let near = closest(kind, &step.value, 3);
            if !near.is_empty() {
                text.push_str("\n    closest known steps:");
                for d in near {
                    text.push_str(&format!("\n      {}", describe(d)));
                }
            }
            Some(text)
        }
        _ => {
            let mut text = format!(
                "ambiguous step \"{} {}\": it matches {} definitions",
                kind.name(),
                step.value,
                found.len()
            );
            for d in found {
                text.push_str(&format!("\n      {}", describe(d)));
            }
            Some(text)
        }
    }
}

/// `Then the server replies 250  (^the server replies (\d+)$, harness/src/steps/line.rs:80)`.
fn describe(d: &StepDef) -> String {
    let shown = d
        .example()
        .map(str::to_string)
        .unwrap_or_else(|| format!("{} {}", d.kind.name(), d.pattern()));
    format!(
        "{shown}   [{} {}, {}:{}]",
        d.kind.name(),
        d.regex.as_str(),
        d.file,
        d.line
    )
}

/// The `n` definitions whose example (or pattern) is nearest to `text`, by
/// edit distance over the characters once quoted arguments and numbers are
/// made alike; a definition of another kind counts as a little farther.
pub fn closest(kind: Kind, text: &str, n: usize) -> Vec<&'static StepDef> {
    let chars = |words: Vec<String>| words.join(" ").chars().collect::<Vec<char>>();
    let want = chars(normalise(text));
    let mut scored: Vec<(usize, &StepDef)> = all()
        .iter()
        .map(|d| {
            let cand = chars(match d.example() {
                Some(e) => normalise(e.split_once(' ').map(|(_, rest)| rest).unwrap_or(e)),
                None => normalise(d.pattern()),
            });
            let penalty = if d.kind == kind { 0 } else { 3 };
            (distance(&want, &cand) + penalty, d)
        })
        .collect();
    scored.sort_by_key(|(score, d)| (*score, d.file, d.line));
    // Only those that share a good part of the text.
    let limit = want.len().max(4) / 2;
    scored
        .into_iter()
        .filter(|(score, _)| *score <= limit)
        .take(n)
        .map(|(_, d)| d)
        .collect()
}

/// Lower-case words; a quoted argument becomes `"…"` and a number `N`.
fn normalise(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('"') {
            // Up to the closing quote not preceded by a backslash.
            let mut end = after.len();
            let mut escaped = false;
            for (i, c) in after.char_indices() {
                match c {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => {
                        end = i;
                        break;
                    }
                    _ => escaped = false,
                }
            }
            out.push("\"…\"".to_string());
            rest = after.get(end + 1..).unwrap_or_default();
            continue;
        }
        let end = rest.find(['"', ' ']).unwrap_or(rest.len());
        let (word, tail) = rest.split_at(end);
        if !word.is_empty() {
            if word.chars().all(|c| c.is_ascii_digit()) {
                out.push("N".to_string());
            } else {
                out.push(word.to_lowercase());
            }
        }
        rest = tail.strip_prefix(' ').unwrap_or(tail);
    }
    out
}

/// Levenshtein distance.
fn distance<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, y) in b.iter().enumerate() {
            let cost = usize::from(x != y);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `conform steps` output: every step of the sections asked for (all if
/// none) whose pattern, meaning or example contains `grep`
/// (case-insensitive).
pub fn listing(sections: &[String], grep: Option<&str>) -> String {
    let mut out = String::new();
    for (key, title) in SECTIONS {
        if !sections.is_empty() && !sections.iter().any(|s| s == key) {
            continue;
        }
        let defs: Vec<&StepDef> = selected(key, grep).collect();
        if defs.is_empty() {
            continue;
        }
        out.push_str(&format!("{title} ({key})\n"));
        for d in defs {
            out.push_str(&format!("  {} {}\n", d.kind.name(), d.pattern()));
            let meaning = d.meaning();
            if !meaning.is_empty() {
                out.push_str(&format!("      {meaning}\n"));
            }
            if let Some(e) = d.example() {
                out.push_str(&format!("      e.g. {e}\n"));
            }
        }
        out.push('\n');
    }
    out
}

fn selected<'a>(
    section: &'a str,
    grep: Option<&'a str>,
) -> impl Iterator<Item = &'static StepDef> + 'a {
    let grep = grep.map(str::to_lowercase);
    all().iter().filter(move |d| {
        d.section == section
            && grep.as_ref().is_none_or(|g| {
                d.pattern().to_lowercase().contains(g)
                    || d.meaning().to_lowercase().contains(g)
                    || d.example().unwrap_or_default().to_lowercase().contains(g)
            })
    })
}

/// The README's step tables: one `####` heading and table per section.
pub fn markdown() -> String {
    let mut out = String::new();
    for (key, title) in SECTIONS {
        let defs: Vec<&StepDef> = selected(key, None).collect();
        if defs.is_empty() {
            continue;
        }
        let files: BTreeSet<String> = defs
            .iter()
            .map(|d| {
                let f = d.file.rsplit_once("src/").map(|(_, r)| r).unwrap_or(d.file);
                format!("`{f}`")
            })
            .collect();
        out.push_str(&format!(
            "#### {title} steps\n\nDefined in {}.\n\n| Step | Meaning | Example |\n|---|---|---|\n",
            files.into_iter().collect::<Vec<_>>().join(", ")
        ));
        for d in defs {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                code(&format!("{} {}", d.kind.name(), d.pattern())),
                cell(&d.meaning()),
                d.example().map(short).map(|e| code(&e)).unwrap_or_default()
            ));
        }
        out.push('\n');
    }
    out
}

/// A long example cut to its first 90 characters (the full one is in
/// `conform steps`).
fn short(text: &str) -> String {
    if text.chars().count() <= 96 {
        return text.to_string();
    }
    let head: String = text.chars().take(90).collect();
    format!("{head}…")
}

/// Inline code in a table cell: `|` escaped, backticks fenced.
fn code(text: &str) -> String {
    let text = text.replace('|', "\\|");
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The markers around the generated tables in the README.
pub const README_BEGIN: &str =
    "<!-- steps:begin (generated by `conform steps --readme README.md`; edit the doc comments in harness/src/steps/) -->";
pub const README_END: &str = "<!-- steps:end -->";

/// The README with its generated step tables replaced by the current ones.
pub fn readme_with_tables(readme: &str) -> Result<String, String> {
    let begin = readme
        .find(README_BEGIN)
        .ok_or_else(|| format!("the README has no line {README_BEGIN}"))?;
    let end = readme[begin..]
        .find(README_END)
        .map(|i| begin + i)
        .ok_or_else(|| format!("the README has no line {README_END}"))?;
    Ok(format!(
        "{}{README_BEGIN}\n\n{}{}",
        &readme[..begin],
        markdown(),
        &readme[end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_step_is_found_in_the_sources_and_back() {
        // The build's table of attributes and cucumber's registry agree: no
        // step is missing from the documentation and none is stale.
        let defs = all();
        assert!(defs.len() > 100, "{} steps", defs.len());
        let unmatched: Vec<String> = defs
            .iter()
            .filter(|d| d.doc.is_none())
            .map(|d| format!("{}:{}", d.file, d.line))
            .collect();
        assert!(
            unmatched.is_empty(),
            "registered but not found by build.rs: {unmatched:?}"
        );
        for (file, line, _) in STEP_DOCS {
            assert!(
                defs.iter()
                    .any(|d| d.file.ends_with(file) && d.line == *line),
                "build.rs found a step attribute at {file}:{line} that cucumber did not register"
            );
        }
    }

    #[test]
    fn every_step_has_a_meaning_and_an_example() {
        // The README's tables and `conform steps` show them: a step without
        // a `///` line above its attribute, or used by no bundled scenario
        // and without an `/// Example:` line, is not discoverable.
        let missing: Vec<String> = all()
            .iter()
            .filter(|d| d.meaning().is_empty() || d.example().is_none())
            .map(|d| format!("{}:{} {}", d.file, d.line, d.regex.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "steps without a doc comment or an example:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn doc_examples_match_their_own_step() {
        for d in all() {
            if let Some(e) = d.doc_example() {
                let (kw, text) = e.split_once(' ').unwrap_or((&e, ""));
                assert_eq!(kw, d.kind.name(), "{}:{}: example {e:?}", d.file, d.line);
                assert!(
                    d.regex.is_match(text),
                    "{}:{}: example {e:?} does not match",
                    d.file,
                    d.line
                );
            }
        }
    }

    #[test]
    fn suggestions_find_the_intended_step() {
        let near = closest(Kind::Then, "the server reples 250", 3);
        assert!(
            near.iter()
                .any(|d| d.regex.is_match("the server replies 250")),
            "{:?}",
            near.iter().map(|d| d.regex.as_str()).collect::<Vec<_>>()
        );
        assert_eq!(
            normalise("sends \"a \\\" b\" 12 times"),
            ["sends", "\"…\"", "N", "times"]
        );
    }

    #[test]
    fn sections_come_from_the_file() {
        assert_eq!(section_of("harness/src/steps/http/mod.rs"), "http");
        assert_eq!(section_of("harness/src/steps/ftp_client.rs"), "ftp");
        assert_eq!(section_of("harness/src/steps/raw.rs"), "generic");
        assert_eq!(section_of("harness/src/steps/imap/smtp.rs"), "imap");
    }
}
