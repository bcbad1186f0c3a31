//! Reports of a run: for people (`human`, `markdown`) and for machines (`json`, `junit`).

mod html;
mod human;
mod json;
pub(crate) mod junit;
mod markdown;

use std::time::Duration;

use super::runner::{CaseResult, Outcome};

pub use html::{write_html, write_html_with_clients};
pub use human::write_human;
pub use json::write_json;
pub use junit::write_junit;
pub use markdown::write_markdown;

/// A finished run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// What was tested: an address, or "embedded".
    pub target: String,
    /// Results, sorted by id.
    pub results: Vec<CaseResult>,
    /// Wall time of the whole run.
    pub millis: u128,
}

/// Counts per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// PASS.
    pub pass: usize,
    /// NON-STRICT.
    pub non_strict: usize,
    /// UNSUPPORTED.
    pub unsupported: usize,
    /// FAIL.
    pub fail: usize,
    /// ERROR.
    pub error: usize,
    /// SKIPPED.
    pub skipped: usize,
    /// VERSION.
    pub version: usize,
}

impl Report {
    /// A report of `results` (sorted here).
    pub fn new(target: String, mut results: Vec<CaseResult>, took: Duration) -> Report {
        results.sort_by(|a, b| a.path.cmp(&b.path));
        Report {
            target,
            results,
            millis: took.as_millis(),
        }
    }

    /// Counts per outcome.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for r in &self.results {
            match r.outcome {
                Outcome::Pass => c.pass += 1,
                Outcome::NonStrict => c.non_strict += 1,
                Outcome::Unsupported => c.unsupported += 1,
                Outcome::Fail => c.fail += 1,
                Outcome::Error => c.error += 1,
                Outcome::Skipped => c.skipped += 1,
                Outcome::Version => c.version += 1,
            }
        }
        c
    }

    /// Whether the run should exit non-zero (any FAIL or ERROR).
    pub fn failed(&self) -> bool {
        let c = self.counts();
        c.fail + c.error > 0
    }

    /// The one-line summary.
    pub fn summary(&self) -> String {
        let c = self.counts();
        format!(
            "{} scenarios against {}: {} PASS, {} NON-STRICT, {} UNSUPPORTED, {} VERSION, {} SKIPPED, {} FAIL, {} ERROR in {:.2}s",
            self.results.len(),
            self.target,
            c.pass,
            c.non_strict,
            c.unsupported,
            c.version,
            c.skipped,
            c.fail,
            c.error,
            self.millis as f64 / 1000.0
        )
    }
}
