//! The JSON report: the whole run, every result, machine-readable.

use std::io::{self, Write};

use super::Report;

/// Writes `{target, millis, counts, results: [{id, path, title, tags, verdict, outcome, detail, millis}]}`.
pub fn write_json(report: &Report, out: &mut impl Write) -> io::Result<()> {
    let value = serde_json::json!({
        "target": report.target,
        "millis": report.millis,
        "counts": report.counts(),
        "results": report.results,
    });
    serde_json::to_writer_pretty(&mut *out, &value)?;
    writeln!(out)
}
