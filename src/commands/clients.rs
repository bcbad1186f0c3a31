//! `respect clients`: grade real client libraries. The harness plays the server (a scripted
//! server per case, on a free loopback port) and each library runs behind a driver process
//! (`clients/<name>/run`); see `conformance/clients/README.md`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::ValueEnum;
use respect::conformance::clients::report::{write_human, write_json, write_junit};
use respect::conformance::clients::{
    load_client_dir, run_driver, ClientResult, ClientRun, ClientScenario, Driver,
};

use super::shared::{block_on, Span, EXIT_USAGE};

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For a terminal.
    Human,
    /// Machine-readable.
    Json,
    /// For CI systems.
    Junit,
}

/// Grade client libraries: the harness plays the server, a driver per library talks to it.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A driver to run (a folder under --drivers); repeat for several.
    #[arg(long = "client")]
    clients: Vec<String>,
    /// Every driver under --drivers (the default when no --client is given).
    #[arg(long)]
    all: bool,
    /// Only scenarios whose id or path contains this.
    #[arg(long)]
    filter: Option<String>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Write the report to this file instead of stdout.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Per-case timeout (the library's own, plus a grace before the driver counts as hung).
    #[arg(long, default_value_t = Span(std::time::Duration::from_secs(5)))]
    timeout: Span,
    /// Client scenario folder.
    #[arg(long, default_value = "conformance/clients")]
    dir: PathBuf,
    /// Driver folder: one `<name>/run` executable per client.
    #[arg(long, default_value = "clients")]
    drivers: PathBuf,
    /// List passing verdicts too.
    #[arg(long, short)]
    verbose: bool,
}

/// Every folder under `dir` with a `run` file, sorted.
fn every_driver(dir: &Path) -> Result<Vec<String>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().join("run").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

/// The drivers to run: `clients`, or every driver under `drivers` when `all` or when none is
/// named; `Err` when one has no `run` file or there are none.
pub(super) fn driver_names(
    drivers: &Path,
    clients: &[String],
    all: bool,
) -> Result<Vec<String>, String> {
    let names = if clients.is_empty() || all {
        every_driver(drivers)?
    } else {
        clients.to_vec()
    };
    for name in &names {
        let run = drivers.join(name).join("run");
        if !run.is_file() {
            return Err(format!("no driver {}", run.display()));
        }
    }
    if names.is_empty() {
        return Err(format!("no drivers under {}", drivers.display()));
    }
    Ok(names)
}

/// The client scenarios of `dir` whose id or path contains `filter`.
pub(super) fn chosen_scenarios(
    dir: &Path,
    filter: Option<&str>,
) -> Result<Vec<Arc<ClientScenario>>, String> {
    let scenarios = load_client_dir(dir).map_err(|e| e.to_string())?;
    Ok(scenarios
        .into_iter()
        .filter(|s| filter.is_none_or(|f| s.id.contains(f) || s.path.to_string_lossy().contains(f)))
        .map(Arc::new)
        .collect())
}

/// The progress line of a verdict, on a terminal only (rewritten in place).
pub(super) fn progress_line(terminal: bool) -> impl Fn(&ClientResult) + Sync {
    move |r: &ClientResult| {
        if terminal {
            eprint!("\r\x1b[K{} {} {}", r.client, r.grade.label(), r.id);
        }
    }
}

/// Runs each driver over `chosen`, one after the other.
pub(super) async fn run_drivers(
    drivers: &Path,
    names: &[String],
    chosen: &[Arc<ClientScenario>],
    timeout: std::time::Duration,
    progress: &(dyn Fn(&ClientResult) + Sync),
) -> Vec<ClientRun> {
    let mut runs = Vec::new();
    for name in names {
        let mut driver = Driver::new(drivers, name);
        runs.push(run_driver(&mut driver, chosen, timeout, progress).await);
    }
    runs
}

impl Args {
    /// Runs the drivers and writes the report: exit 1 on any FAIL, HANG or CRASH (or a driver
    /// that cannot start), 2 when the run cannot happen.
    pub fn run(self) -> ExitCode {
        block_on(self.execute())
    }

    async fn execute(self) -> u8 {
        let names = match driver_names(&self.drivers, &self.clients, self.all) {
            Ok(n) => n,
            Err(e) => {
                eprintln!("respect clients: {e}");
                return EXIT_USAGE;
            }
        };
        let chosen = match chosen_scenarios(&self.dir, self.filter.as_deref()) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("respect clients: {e}");
                return EXIT_USAGE;
            }
        };
        let terminal = std::io::stderr().is_terminal();
        let progress = progress_line(terminal);
        let runs = run_drivers(&self.drivers, &names, &chosen, self.timeout.0, &progress).await;
        if terminal {
            eprint!("\r\x1b[K");
        }
        let mut buffer = Vec::new();
        let written = match self.format {
            Format::Human => write_human(&runs, self.verbose, &mut buffer),
            Format::Json => write_json(&runs, &mut buffer),
            Format::Junit => write_junit(&runs, &mut buffer),
        };
        let delivered = written.and_then(|()| match &self.output {
            Some(path) => std::fs::write(path, &buffer),
            None => std::io::stdout().write_all(&buffer),
        });
        if let Err(e) = delivered {
            eprintln!("respect clients: cannot write the report: {e}");
            return EXIT_USAGE;
        }
        let failed = runs
            .iter()
            .any(|r| !r.started || r.results.iter().any(|x| x.grade.failed()));
        if self.output.is_some() {
            for r in &runs {
                eprintln!("{}: {}", r.client, r.summary());
            }
        }
        u8::from(failed)
    }
}
