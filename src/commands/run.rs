//! `respect run`: replay the conformance scenarios against a server (the embedded reference
//! server when no address is given) and report a verdict per scenario.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use respect::conformance::hygiene;
use respect::conformance::report::{write_human, write_json, write_junit, write_markdown};
use respect::conformance::runner::DEFAULT_JOBS;
use respect::conformance::scenario::template::run_token;
use respect::conformance::{load_dir, run_suite, CaseResult, RunOptions};
use tokio::signal::unix::{signal, Signal, SignalKind};

use super::shared::{block_on, Scenarios, EXIT_USAGE};

/// How long a run goes before it shows a progress bar.
const PROGRESS_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// Whether the user asked for no colour (<https://no-color.org>: set and not empty).
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For a terminal.
    Human,
    /// Machine-readable.
    Json,
    /// For CI systems.
    Junit,
    /// For pull requests and wikis.
    #[value(alias = "md")]
    Markdown,
}

/// Replay the conformance scenarios against a server (the embedded one by default).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The server to test; without it, the embedded reference server (one per flavor).
    #[arg(long)]
    addr: Option<SocketAddr>,
    #[command(flatten)]
    scenarios: Scenarios,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Write the report to this file instead of stdout.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Scenarios run at once.
    #[arg(long, default_value_t = DEFAULT_JOBS)]
    jobs: usize,
    /// List passing scenarios too.
    #[arg(long, short)]
    verbose: bool,
}

impl Args {
    /// Runs the suite and writes the report: exit 1 on any FAIL or ERROR, 2 when the run
    /// itself could not happen.
    pub fn run(self) -> ExitCode {
        block_on(self.execute())
    }

    /// After Ctrl-C: deletes what this run's scenarios left under its own prefixes, or says
    /// what may be left. Every call of the cleanup has the run's step timeout; a second Ctrl-C
    /// (`interrupt`, still registered: tokio keeps the handler, so the default action that
    /// would end the process is gone) gives up on the cleanup. Exit 130, as a shell reports an
    /// interrupted command.
    async fn interrupted(&self, options: &RunOptions, interrupt: Option<&mut Signal>) -> u8 {
        const EXIT_INTERRUPTED: u8 = 130;
        let Some(addr) = self.addr else {
            eprintln!("respect run: interrupted");
            return EXIT_INTERRUPTED;
        };
        let flavor = self.scenarios.flavor.into();
        let prefix = format!("respect:{{{}:", run_token());
        eprintln!(
            "respect run: interrupted; deleting the keys left under {prefix} (Ctrl-C again to \
             leave them)"
        );
        let cleanup = async {
            let options = RunOptions {
                cleanup: hygiene::detect(addr, flavor, options).await,
                ..options.clone()
            };
            hygiene::clean_run(addr, flavor, &options).await
        };
        let again = async {
            match interrupt {
                Some(signal) => signal.recv().await,
                None => std::future::pending().await,
            }
        };
        let cleaned = tokio::select! {
            cleaned = cleanup => cleaned,
            Some(()) = again => Err("interrupted again".to_string()),
        };
        match cleaned {
            Ok(n) => eprintln!(
                "respect run: deleted {n} keys the scenarios in progress left under {prefix}"
            ),
            Err(e) => {
                eprintln!("respect run: keys under {prefix} may be left on {addr}: {e}")
            }
        }
        eprintln!(
            "respect run: a scenario in progress that names fixed keys outside its prefix (one \
             that has the server to itself) may have left those"
        );
        EXIT_INTERRUPTED
    }

    async fn execute(self) -> u8 {
        let selection = self.scenarios.selection();
        let options = match self.scenarios.options_at(self.addr).await {
            Ok(options) => RunOptions {
                jobs: self.jobs,
                ..options
            },
            Err(e) => {
                eprintln!("respect run: {e}");
                return EXIT_USAGE;
            }
        };
        // Progress goes to stderr, and only when it is a terminal: piped output stays clean.
        // The bar appears once the run has taken a second, so quick runs never flash one.
        let started = std::time::Instant::now();
        let bar = std::io::stderr().is_terminal().then(|| {
            let total = load_dir(&self.scenarios.dir)
                .map(|v| v.iter().filter(|s| selection.admits(s)).count())
                .unwrap_or(0);
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(total as u64),
                indicatif::ProgressDrawTarget::hidden(),
            );
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        let progress = |r: &CaseResult| {
            if let Some(bar) = &bar {
                if bar.is_hidden() && started.elapsed() >= PROGRESS_AFTER {
                    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                }
                bar.set_message(r.id.clone());
                bar.inc(1);
            }
        };
        // Registered now, not on the select's first poll: the run's first poll loads and parses
        // every scenario, and a Ctrl-C in that time would kill the process unhandled.
        let mut interrupt = match signal(SignalKind::interrupt()) {
            Ok(signal) => Some(signal),
            Err(e) => {
                eprintln!(
                    "respect run: cannot handle Ctrl-C ({e}): an interrupted run may leave keys"
                );
                None
            }
        };
        let interrupted = async {
            match &mut interrupt {
                Some(signal) => signal.recv().await,
                None => std::future::pending().await,
            }
        };
        let run = run_suite(
            &self.scenarios.dir,
            self.addr,
            self.scenarios.flavor.into(),
            &selection,
            &options,
            &progress,
        );
        let report = tokio::select! {
            report = run => match report {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("respect run: {e}");
                    return EXIT_USAGE;
                }
            },
            // Dropping the run aborts the scenarios in flight; then their keys are deleted.
            Some(()) = interrupted => {
                if let Some(bar) = &bar {
                    bar.finish_and_clear();
                }
                return self.interrupted(&options, interrupt.as_mut()).await;
            }
        };
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let color = self.output.is_none() && std::io::stdout().is_terminal() && !no_color();
        let mut buffer = Vec::new();
        let written = match self.format {
            Format::Human => write_human(&report, color, self.verbose, &mut buffer),
            Format::Json => write_json(&report, &mut buffer),
            Format::Junit => write_junit(&report, &mut buffer),
            Format::Markdown => write_markdown(&report, &mut buffer),
        };
        let delivered = written.and_then(|()| match &self.output {
            Some(path) => std::fs::write(path, &buffer),
            None => std::io::stdout().write_all(&buffer),
        });
        if let Err(e) = delivered {
            eprintln!("respect run: cannot write the report: {e}");
            return EXIT_USAGE;
        }
        if self.output.is_some() {
            eprintln!("{}", report.summary());
        }
        u8::from(report.failed())
    }
}
