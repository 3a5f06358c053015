//! The result of one scenario and of a whole run, from which every report
//! (console, JUnit, JSON, grading) is made.

use serde::{Deserialize, Serialize};

use crate::steps::{Failure, FailureKind};
use crate::suite::ScenarioMeta;
use crate::transcript::Entry;

/// The verdict of one scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Passed,
    /// A `@MUST` requirement (or `@SHOULD` with `--strict`) does not hold.
    Failed,
    /// A `@SHOULD` requirement does not hold; does not fail the run.
    Warning,
    /// A `@MAY` behaviour is absent; informational.
    Info,
    /// The harness could not judge: target unreachable, broken profile, a
    /// step without a definition, a bug.
    Error,
    /// Not applicable to this target (e.g. the extension is not announced).
    Skipped,
    /// Did not hold, but the target declares it (`--deviations`).
    Deviation,
    /// Declared as a deviation, yet it holds now; fails the run with
    /// `--ratchet` until the declaration is removed.
    Fixed,
}

impl Outcome {
    /// Whether this outcome makes the run exit 1.
    pub fn fails_run(self) -> bool {
        matches!(self, Outcome::Failed | Outcome::Error)
    }

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Passed => "PASS",
            Outcome::Failed => "FAIL",
            Outcome::Warning => "WARN",
            Outcome::Info => "INFO",
            Outcome::Error => "ERROR",
            Outcome::Skipped => "SKIP",
            Outcome::Deviation => "DEV",
            Outcome::Fixed => "FIXED",
        }
    }

    /// Maps a step failure to a verdict, by the scenario's requirement level.
    pub fn judge(failure: Option<&Failure>, level: &str, strict: bool) -> Outcome {
        let Some(f) = failure else {
            return Outcome::Passed;
        };
        match f.kind {
            FailureKind::Skip => Outcome::Skipped,
            FailureKind::Harness | FailureKind::Limit => Outcome::Error,
            FailureKind::Conformance => match level {
                "SHOULD" if !strict => Outcome::Warning,
                "MAY" => Outcome::Info,
                _ => Outcome::Failed,
            },
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// Stable across edits of the file: `protocol/file-stem/name-slug`
    /// ([`crate::suite::ScenarioMeta::id`]).
    pub id: String,
    pub protocol: String,
    pub feature: String,
    /// The feature file, relative to the features folder.
    pub file: String,
    pub line: usize,
    /// The scenario's name; for an Examples row, with the row's values.
    pub name: String,
    /// Feature, rule and scenario tags, without `@`.
    pub tags: Vec<String>,
    /// `5321` from `@rfc5321`.
    pub rfc: Vec<String>,
    /// RFC-bound sections, from `@rfc5321-sec-4.1.1.4`: `RFC 5321 §4.1.1.4`.
    pub section: Vec<String>,
    /// The RFC Editor's page of each section in `section`.
    pub links: Vec<String>,
    /// `MUST`, `SHOULD`, `MAY`, or empty (treated as MUST).
    pub level: String,
    /// The requirement in one line: level, RFC-bound sections, course
    /// notes, and the scenario's name, which states it
    /// (`MUST · RFC 5321 §4.1.1.4 · course notes S-09: DATA is answered with 354`).
    #[serde(default)]
    pub requirement: String,
    /// `@points(N)`; in a grade, the scenario's maximum points.
    pub points: Option<f64>,
    /// In a grade, the points it earned.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default)]
    pub earned: Option<f64>,
    /// `passed`, `failed`, `warning`, … (JUnit's `verdict` property and the
    /// console's label say the same).
    #[serde(rename = "verdict")]
    pub outcome: Outcome,
    pub failure: Option<Failure>,
    /// The declared reason, for a `deviation` or a `fixed` scenario.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deviation: Option<String>,
    /// The step that failed, as written, with its line.
    pub step: Option<String>,
    pub seconds: f64,
    pub transcript: Vec<Entry>,
    /// The transcript rendered for people (made again from `transcript`
    /// when a report is read back).
    #[serde(skip)]
    pub transcript_text: String,
}

impl ScenarioResult {
    /// The result of the scenario `meta` of the feature called `feature`,
    /// judged `outcome`, with no failure, no time and no transcript yet.
    pub fn of(meta: ScenarioMeta, feature: &str, outcome: Outcome) -> ScenarioResult {
        let mut r = ScenarioResult {
            id: meta.id,
            protocol: meta.protocol,
            feature: feature.to_string(),
            file: meta.file,
            line: meta.line,
            name: meta.name,
            tags: meta.tags,
            rfc: meta.rfc,
            section: meta.sections.iter().map(|s| s.to_string()).collect(),
            links: meta.sections.iter().map(|s| s.url()).collect(),
            level: meta.level,
            requirement: String::new(),
            points: meta.points,
            earned: None,
            outcome,
            failure: None,
            deviation: None,
            step: None,
            seconds: 0.0,
            transcript: Vec::new(),
            transcript_text: String::new(),
        };
        r.requirement = format!("{}: {}", super::console::requirement(&r), r.name);
        r
    }
}

/// A whole run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunReport {
    /// Which conform, when, and the addresses and banners of the servers.
    #[serde(flatten)]
    pub context: super::Context,
    pub target: String,
    pub protocols: Vec<String>,
    pub strict: bool,
    /// `--ratchet`: a declared deviation that no longer occurs fails the run.
    pub ratchet: bool,
    pub seconds: f64,
    pub scenarios: Vec<ScenarioResult>,
}

/// How many scenarios got each verdict. Every summary line (console, per
/// protocol, JSON) is made from this, so warnings and info are never counted
/// as passed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    pub warnings: usize,
    pub info: usize,
    pub skipped: usize,
    /// Declared deviations (`--deviations`) that still deviate.
    pub deviations: usize,
    /// Declared deviations that hold now.
    pub fixed: usize,
}

impl Counts {
    pub fn of<'a>(scenarios: impl IntoIterator<Item = &'a ScenarioResult>) -> Counts {
        let mut c = Counts::default();
        for s in scenarios {
            c.add(s.outcome);
        }
        c
    }

    pub fn add(&mut self, o: Outcome) {
        match o {
            Outcome::Passed => self.passed += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Error => self.errors += 1,
            Outcome::Warning => self.warnings += 1,
            Outcome::Info => self.info += 1,
            Outcome::Skipped => self.skipped += 1,
            Outcome::Deviation => self.deviations += 1,
            Outcome::Fixed => self.fixed += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.passed
            + self.failed
            + self.errors
            + self.warnings
            + self.info
            + self.skipped
            + self.deviations
            + self.fixed
    }
}

impl std::fmt::Display for Counts {
    /// `3 passed, 1 failed, 0 errors, 2 warnings, 0 info, 1 skipped`, then
    /// `, 2 deviations, 0 fixed` when deviations were declared.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} errors, {} warnings, {} info, {} skipped",
            self.passed, self.failed, self.errors, self.warnings, self.info, self.skipped
        )?;
        if self.deviations + self.fixed > 0 {
            write!(f, ", {} deviations, {} fixed", self.deviations, self.fixed)?;
        }
        Ok(())
    }
}

impl RunReport {
    pub fn count(&self, o: Outcome) -> usize {
        self.scenarios.iter().filter(|s| s.outcome == o).count()
    }

    /// Scenarios whose server refused a connection for a limit (a
    /// configuration problem: the run exits 2).
    pub fn limit_refusals(&self) -> usize {
        self.scenarios
            .iter()
            .filter(|s| s.failure.as_ref().is_some_and(Failure::is_configuration))
            .count()
    }

    pub fn counts(&self) -> Counts {
        Counts::of(&self.scenarios)
    }

    /// 0 when every selected scenario passed (warnings, skips and declared
    /// deviations allowed), 1 otherwise; 2 when the server refused
    /// connections for a limit (a configuration problem).
    pub fn exit_code(&self) -> i32 {
        if self.limit_refusals() > 0 {
            return 2;
        }
        // A run cut short (its time up, interrupted) does not pass.
        if self.context.stopped.is_some() {
            return 1;
        }
        if self
            .scenarios
            .iter()
            .any(|s| s.outcome.fails_run() || (self.ratchet && s.outcome == Outcome::Fixed))
        {
            1
        } else {
            0
        }
    }
}
