//! The `run`, `record` and `diff` commands: options in, report out, exit status.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::record::{diff_scenario, record_scenario, unified_diff};
use super::report::{write_human, write_json, write_junit, write_markdown};
use super::{load_dir, run_suite, RunOptions, Selection, Suite};

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// For a terminal.
    Human,
    /// Machine-readable.
    Json,
    /// For CI systems.
    Junit,
    /// For pull requests and wikis.
    Markdown,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "human" => Ok(Format::Human),
            "json" => Ok(Format::Json),
            "junit" => Ok(Format::Junit),
            "markdown" | "md" => Ok(Format::Markdown),
            other => Err(format!(
                "unknown format `{other}` (human, json, junit, markdown)"
            )),
        }
    }
}

/// Everything `respect run` takes.
#[derive(Debug, Clone)]
pub struct RunCommand {
    /// Scenario folder.
    pub dir: PathBuf,
    /// Server to test; none: the embedded servers.
    pub addr: Option<SocketAddr>,
    /// Which suite an address speaks.
    pub suite: Suite,
    /// Which scenarios.
    pub selection: Selection,
    /// How.
    pub options: RunOptions,
    /// Report format.
    pub format: Format,
    /// Report file; stdout when absent.
    pub output: Option<PathBuf>,
    /// List passing scenarios too.
    pub verbose: bool,
}

/// Runs the suite and writes the report; the exit code is 1 on any FAIL or ERROR, 2 when the
/// run itself could not happen.
pub async fn run_command(cmd: RunCommand) -> u8 {
    let tty =
        std::io::stderr().is_terminal() && cmd.format == Format::Human && cmd.output.is_none();
    let bar = if tty {
        let total = load_dir(&cmd.dir)
            .map(|v| v.iter().filter(|s| cmd.selection.admits(s)).count())
            .unwrap_or(0);
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(bar)
    } else {
        None
    };
    let progress = |r: &super::CaseResult| {
        if let Some(bar) = &bar {
            bar.set_message(r.id.clone());
            bar.inc(1);
        }
    };
    let report = match run_suite(
        &cmd.dir,
        cmd.addr,
        cmd.suite,
        &cmd.selection,
        &cmd.options,
        &progress,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("respect run: {e}");
            return 2;
        }
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let color = tty && std::env::var_os("NO_COLOR").is_none();
    let mut buffer = Vec::new();
    let written = match cmd.format {
        Format::Human => write_human(&report, color, cmd.verbose, &mut buffer),
        Format::Json => write_json(&report, &mut buffer),
        Format::Junit => write_junit(&report, &mut buffer),
        Format::Markdown => write_markdown(&report, &mut buffer),
    };
    let delivered = written.and_then(|()| match &cmd.output {
        Some(path) => std::fs::write(path, &buffer),
        None => std::io::stdout().write_all(&buffer),
    });
    if let Err(e) = delivered {
        eprintln!("respect run: cannot write the report: {e}");
        return 2;
    }
    if cmd.output.is_some() {
        eprintln!("{}", report.summary());
    }
    u8::from(report.failed())
}

/// `respect record`: rewrites expectations from a trusted server; prints the diff, and writes
/// the files only with `accept`.
pub async fn record_command(
    dir: PathBuf,
    addr: SocketAddr,
    suite: Suite,
    selection: Selection,
    options: RunOptions,
    accept: bool,
) -> u8 {
    let scenarios = match load_dir(&dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("respect record: {e}");
            return 2;
        }
    };
    let (mut changed, mut failed) = (0, 0);
    for scenario in scenarios
        .iter()
        .filter(|s| s.suite == suite && selection.admits(s))
    {
        match record_scenario(addr, scenario, &options).await {
            Ok(Some(rewrite)) => {
                changed += 1;
                print!("{}", unified_diff(&rewrite));
                if accept {
                    if let Err(e) = std::fs::write(&rewrite.path, &rewrite.new) {
                        eprintln!("respect record: {}: {e}", rewrite.path.display());
                        failed += 1;
                    }
                }
            }
            Ok(None) => {}
            Err(e) => {
                eprintln!("respect record: {}: {e}", scenario.path.display());
                failed += 1;
            }
        }
    }
    let verb = if accept {
        "rewritten"
    } else {
        "would change (pass --accept to write them)"
    };
    eprintln!("{changed} scenario files {verb}; {failed} could not be recorded");
    u8::from(failed > 0)
}

/// `respect diff`: lists the scenarios where two servers' bytes differ.
pub async fn diff_command(
    dir: PathBuf,
    a: SocketAddr,
    b: SocketAddr,
    suite: Suite,
    selection: Selection,
    options: RunOptions,
) -> u8 {
    let scenarios = match load_dir(&dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("respect diff: {e}");
            return 2;
        }
    };
    let chosen: Vec<_> = scenarios
        .iter()
        .filter(|s| s.suite == suite && selection.admits(s))
        .collect();
    let mut differences = 0;
    for scenario in &chosen {
        if let Some(d) = diff_scenario(a, b, scenario, &options).await {
            differences += 1;
            println!("DIFFERS {}  {}\n    {}", d.id, d.path, d.detail);
        }
    }
    println!(
        "{} of {} scenarios differ between {a} and {b}",
        differences,
        chosen.len()
    );
    u8::from(differences > 0)
}

/// Parses `--timeout` values like `500ms`, `2s`, `1.5`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, scale) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 0.001)
    } else if let Some(s) = text.strip_suffix('s') {
        (s, 1.0)
    } else {
        (text, 1.0)
    };
    number
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(|v| Duration::from_secs_f64(v * scale))
        .ok_or_else(|| format!("bad duration `{text}` (like 500ms or 2s)"))
}
