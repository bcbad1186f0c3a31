//! The Markdown report: a summary and a table of everything that did not pass.

use std::io::{self, Write};

use super::super::runner::Outcome;
use super::Report;

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', "<br>")
}

/// Writes the summary, counts per outcome, and one row per scenario that did not pass.
pub fn write_markdown(report: &Report, out: &mut impl Write) -> io::Result<()> {
    let c = report.counts();
    writeln!(out, "# Conformance of {}\n", cell(&report.target))?;
    writeln!(
        out,
        "| PASS | NON-STRICT | UNSUPPORTED | VERSION | SKIPPED | FAIL | ERROR | scenarios | time |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|---|---|")?;
    writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {} | {} | {:.2}s |\n",
        c.pass,
        c.non_strict,
        c.unsupported,
        c.version,
        c.skipped,
        c.fail,
        c.error,
        report.results.len(),
        report.millis as f64 / 1000.0
    )?;
    let others: Vec<_> = report
        .results
        .iter()
        .filter(|r| r.outcome != Outcome::Pass)
        .collect();
    if others.is_empty() {
        return writeln!(out, "Every scenario passed.");
    }
    writeln!(out, "| outcome | scenario | file | why |")?;
    writeln!(out, "|---|---|---|---|")?;
    for r in others {
        writeln!(
            out,
            "| {} | {} | `{}` | {} |",
            r.outcome.label(),
            cell(&r.id),
            cell(&r.path),
            cell(r.detail.as_deref().unwrap_or(""))
        )?;
    }
    Ok(())
}
