//! The JUnit XML report, for CI systems: one test case per scenario.

use std::io::{self, Write};

use super::super::runner::Outcome;
use super::Report;

/// `text` escaped for an XML attribute or text node (control characters as references).
pub(crate) fn xml(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '"' => "&quot;".into(),
            '\'' => "&apos;".into(),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t') => format!("&#x{:x};", c as u32),
            c => c.to_string(),
        })
        .collect()
}

/// Writes a `<testsuite>`: FAIL is a `<failure>`, ERROR an `<error>`, UNSUPPORTED and SKIPPED
/// `<skipped>` (with the reason).
pub fn write_junit(report: &Report, out: &mut impl Write) -> io::Result<()> {
    let c = report.counts();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuite name="respect conformance: {}" tests="{}" failures="{}" errors="{}" skipped="{}" time="{:.3}">"#,
        xml(&report.target),
        report.results.len(),
        c.fail,
        c.error,
        c.unsupported + c.skipped,
        report.millis as f64 / 1000.0
    )?;
    for r in &report.results {
        let name = xml(&r.id);
        let class = xml(&r.path);
        let time = r.millis as f64 / 1000.0;
        let detail = xml(r.detail.as_deref().unwrap_or(""));
        match r.outcome {
            Outcome::Pass => writeln!(
                out,
                r#"  <testcase name="{name}" classname="{class}" time="{time:.3}"/>"#
            )?,
            Outcome::NonStrict | Outcome::Version => writeln!(
                out,
                r#"  <testcase name="{name}" classname="{class}" time="{time:.3}"><system-out>NON-STRICT: {detail}</system-out></testcase>"#
            )?,
            Outcome::Unsupported | Outcome::Skipped => writeln!(
                out,
                r#"  <testcase name="{name}" classname="{class}" time="{time:.3}"><skipped message="{detail}"/></testcase>"#
            )?,
            Outcome::Fail => writeln!(
                out,
                r#"  <testcase name="{name}" classname="{class}" time="{time:.3}"><failure message="FAIL">{detail}</failure></testcase>"#
            )?,
            Outcome::Error => writeln!(
                out,
                r#"  <testcase name="{name}" classname="{class}" time="{time:.3}"><error message="ERROR">{detail}</error></testcase>"#
            )?,
        }
    }
    writeln!(out, "</testsuite>")
}
