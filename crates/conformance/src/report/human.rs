//! The terminal report: every scenario that did not pass, with why, then the summary.

use std::io::{self, Write};

use super::super::runner::Outcome;
use super::Report;

/// Writes the report; `color` adds ANSI colors (only for a terminal, and never with NO_COLOR).
pub fn write_human(
    report: &Report,
    color: bool,
    verbose: bool,
    out: &mut impl Write,
) -> io::Result<()> {
    let paint = |outcome: Outcome| {
        let label = format!("{:<11}", outcome.label());
        if !color {
            return label;
        }
        let code = match outcome {
            Outcome::Pass => "32",
            Outcome::NonStrict => "33",
            Outcome::Unsupported => "36",
            Outcome::Skipped => "34",
            Outcome::Version => "35",
            Outcome::Fail | Outcome::Error => "31",
        };
        format!("\x1b[{code}m{label}\x1b[0m")
    };
    for r in &report.results {
        if r.outcome == Outcome::Pass && !verbose {
            continue;
        }
        writeln!(out, "{} {}  {}", paint(r.outcome), r.id, r.path)?;
        if !r.title.is_empty() && r.outcome != Outcome::Pass {
            writeln!(out, "    {}", r.title)?;
        }
        if let Some(detail) = &r.detail {
            for line in detail.lines() {
                writeln!(out, "    {line}")?;
            }
        }
    }
    writeln!(out, "{}", report.summary())
}
