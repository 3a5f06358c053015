//! `conform`: a conformance test harness and protocol fuzzer for the
//! application-layer protocols of a networking course.
//!
//! - [`cli`]: the command line.
//! - [`bundle`]: the suites, corpus seeds and assignments built into the binary.
//! - [`suite`] and [`runner`]: feature files, selection, and the cucumber run.
//! - [`target`]: profiles and the bundled reference servers.
//! - [`wire`]: bounded client-side connections and reply readers.
//! - [`peer`]: servers the harness plays when the system under test is a
//!   client, and the client under test itself.
//! - [`steps`]: Gherkin step definitions, generic and per protocol.
//! - [`fuzz`]: proptest-driven message mutation, oracles, shrinking, corpus.
//! - [`report`]: scenario results, console, JUnit, JSON and HTML.
//! - [`transcript`] and [`notation`]: leaves every layer above uses: what
//!   crossed the wire (with the per-scenario memory bound) and the byte
//!   notation (`\r \n \xNN`) of features, case files and transcripts.
//! - [`grade`]: `conform grade`, the suites as a grader of students' programs.

pub mod bundle;
pub mod cli;
pub mod fixtures;
pub mod fuzz;
pub mod grade;
pub mod notation;
pub mod peer;
pub mod protocol;
pub mod report;
pub mod runner;
pub mod steps;
pub mod suite;
pub mod target;
pub mod transcript;
pub mod wire;
