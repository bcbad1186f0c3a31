//! `respect clients`: grade real client libraries. The harness plays the server (a scripted
//! server per case, on a free loopback port) and each library runs behind a driver process
//! (`clients/<name>/run`); see `conformance/clients/README.md`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::ValueEnum;
use respect::conformance::clients::report::{write_human, write_json, write_junit};
use respect::conformance::clients::{load_client_dir, run_driver, ClientResult, Driver};

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

impl Args {
    /// Runs the drivers and writes the report: exit 1 on any FAIL, HANG or CRASH (or a driver
    /// that cannot start), 2 when the run cannot happen.
    pub fn run(self) -> ExitCode {
        block_on(self.execute())
    }

    async fn execute(self) -> u8 {
        let names = if self.clients.is_empty() || self.all {
            match every_driver(&self.drivers) {
                Ok(n) => n,
                Err(e) => {
                    eprintln!("respect clients: {e}");
                    return EXIT_USAGE;
                }
            }
        } else {
            self.clients.clone()
        };
        for name in &names {
            if !self.drivers.join(name).join("run").is_file() {
                eprintln!(
                    "respect clients: no driver {}",
                    self.drivers.join(name).join("run").display()
                );
                return EXIT_USAGE;
            }
        }
        if names.is_empty() {
            eprintln!(
                "respect clients: no drivers under {}",
                self.drivers.display()
            );
            return EXIT_USAGE;
        }
        let scenarios = match load_client_dir(&self.dir) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("respect clients: {e}");
                return EXIT_USAGE;
            }
        };
        let chosen: Vec<_> = scenarios
            .into_iter()
            .filter(|s| {
                self.filter.as_ref().is_none_or(|f| {
                    s.id.contains(f.as_str()) || s.path.to_string_lossy().contains(f.as_str())
                })
            })
            .map(Arc::new)
            .collect();
        let terminal = std::io::stderr().is_terminal();
        let progress = |r: &ClientResult| {
            if terminal {
                eprint!("\r\x1b[K{} {} {}", r.client, r.grade.label(), r.id);
            }
        };
        let mut runs = Vec::new();
        for name in &names {
            let mut driver = Driver::new(&self.drivers, name);
            runs.push(run_driver(&mut driver, &chosen, self.timeout.0, &progress).await);
        }
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
                let c = r.counts();
                eprintln!(
                    "{}: {} PASS, {} NON-STRICT, {} UNSUPPORTED, {} FAIL, {} HANG, {} CRASH",
                    r.client, c[0], c[1], c[2], c[3], c[4], c[5]
                );
            }
        }
        u8::from(failed)
    }
}
