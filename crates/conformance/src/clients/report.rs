//! Reports of a client run: human (a table of counts and every non-PASS verdict), JSON, and
//! JUnit (one test suite per client). The server reports of [`crate::report`] are keyed by
//! the server outcomes; these have a client column and HANG and CRASH.

use crate::report::junit::xml;
use std::io::{self, Write};

use super::run::{ClientRun, Grade};

/// Counts per client, as a Markdown table (the README's results table).
pub fn write_table(runs: &[ClientRun], out: &mut impl Write) -> io::Result<()> {
    write!(out, "| client | library |")?;
    for g in Grade::ALL {
        write!(out, " {} |", g.label())?;
    }
    writeln!(out)?;
    write!(out, "|---|---|")?;
    for _ in Grade::ALL {
        write!(out, "--:|")?;
    }
    writeln!(out)?;
    for r in runs {
        write!(out, "| {} | {} |", r.client, r.library.replace('|', "\\|"))?;
        if r.started {
            for n in r.counts() {
                write!(out, " {n} |")?;
            }
        } else {
            for _ in Grade::ALL {
                write!(out, " – |")?;
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

/// For a terminal: every verdict that is not PASS (all with `verbose`), then the table.
pub fn write_human(runs: &[ClientRun], verbose: bool, out: &mut impl Write) -> io::Result<()> {
    for run in runs {
        if !run.started {
            writeln!(out, "{}: not run: {}", run.client, run.library)?;
            continue;
        }
        for r in &run.results {
            if verbose || r.grade != Grade::Pass {
                // One line per verdict: a library's multi-line message is shown with `\n`.
                let detail = r.detail.replace('\n', "\\n");
                writeln!(
                    out,
                    "{:<11} {:<18} {}  {detail}",
                    r.grade.label(),
                    run.client,
                    r.id,
                )?;
            }
        }
    }
    writeln!(out)?;
    write_table(runs, out)
}

/// `{"clients": [{client, library, started, counts, results: [...]}]}`.
pub fn write_json(runs: &[ClientRun], out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(
        &mut *out,
        &serde_json::json!({ "clients": clients_json(runs) }),
    )?;
    writeln!(out)
}

/// The `clients` array of [`write_json`]: `[{client, library, started, counts, results}]`
/// (also `matrix.json`'s `clients` section).
pub fn clients_json(runs: &[ClientRun]) -> serde_json::Value {
    runs.iter()
        .map(|r| {
            let counts: serde_json::Map<String, serde_json::Value> = Grade::ALL
                .iter()
                .zip(r.counts())
                .map(|(g, n)| (g.label().to_string(), n.into()))
                .collect();
            serde_json::json!({
                "client": r.client,
                "library": r.library,
                "started": r.started,
                "counts": counts,
                "results": r.results,
            })
        })
        .collect()
}

/// JUnit XML: a `<testsuite>` per client; FAIL is a `<failure>`, HANG and CRASH `<error>`,
/// UNSUPPORTED `<skipped>`.
pub fn write_junit(runs: &[ClientRun], out: &mut impl Write) -> io::Result<()> {
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, "<testsuites>")?;
    for run in runs {
        let c = run.counts();
        let [_, _, unsupported, fail, hang, crash] = c;
        let not_run = usize::from(!run.started);
        writeln!(
            out,
            r#"  <testsuite name="respect clients: {}" tests="{}" failures="{fail}" errors="{}" skipped="{unsupported}">"#,
            xml(&run.client),
            run.results.len() + not_run,
            hang + crash + not_run
        )?;
        if !run.started {
            writeln!(
                out,
                r#"    <testcase name="start" classname="{}"><error message="not run">{}</error></testcase>"#,
                xml(&run.client),
                xml(&run.library)
            )?;
        }
        for r in &run.results {
            let head = format!(
                r#"    <testcase name="{}" classname="{}" time="{:.3}""#,
                xml(&r.id),
                xml(&run.client),
                r.millis as f64 / 1000.0
            );
            let detail = xml(&r.detail);
            match r.grade {
                Grade::Pass => writeln!(out, "{head}/>")?,
                Grade::NonStrict => writeln!(
                    out,
                    "{head}><system-out>NON-STRICT: {detail}</system-out></testcase>"
                )?,
                Grade::Unsupported => {
                    writeln!(out, r#"{head}><skipped message="{detail}"/></testcase>"#)?
                }
                Grade::Fail => writeln!(
                    out,
                    r#"{head}><failure message="FAIL">{detail}</failure></testcase>"#
                )?,
                Grade::Hang | Grade::Crash => writeln!(
                    out,
                    r#"{head}><error message="{}">{detail}</error></testcase>"#,
                    r.grade.label()
                )?,
            }
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}
