//! `respect record`: run the scenarios against a trusted server and rewrite their
//! expectations from its replies (a diff is printed; files change only with `--accept`).

use std::net::SocketAddr;
use std::process::ExitCode;

use respect::conformance::load_dir;
use respect::conformance::record::{record_scenario, unified_diff};
use respect::conformance::runner::{check_reachable, skip_reason};

use super::shared::{block_on, Scenarios, EXIT_USAGE};

/// Rewrite scenario expectations from a trusted server's replies.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The trusted server.
    #[arg(long)]
    addr: SocketAddr,
    #[command(flatten)]
    scenarios: Scenarios,
    /// Write the rewritten files.
    #[arg(long)]
    accept: bool,
}

impl Args {
    /// Records; exit 1 when a scenario could not be recorded.
    pub fn run(self) -> ExitCode {
        block_on(self.execute())
    }

    async fn execute(self) -> u8 {
        let scenarios = match load_dir(&self.scenarios.dir) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("respect record: {e}");
                return EXIT_USAGE;
            }
        };
        let (flavor, selection) = (self.scenarios.flavor.into(), self.scenarios.selection());
        let options = match self.scenarios.options_at(Some(self.addr)).await {
            Ok(options) => options,
            Err(e) => {
                eprintln!("respect record: {e}");
                return EXIT_USAGE;
            }
        };
        if let Err(e) = check_reachable(self.addr, &options).await {
            eprintln!("respect record: {e}");
            return EXIT_USAGE;
        }
        let (mut changed, mut failed) = (0, 0);
        for scenario in scenarios
            .iter()
            .filter(|s| s.flavor == flavor && selection.admits(s))
        {
            // The same rules as `run`: a trusted server is still someone's server.
            if let Some(why) = skip_reason(scenario, &options) {
                eprintln!(
                    "respect record: {}: SKIPPED: {why}",
                    scenario.path.display()
                );
                continue;
            }
            match record_scenario(self.addr, scenario, &options).await {
                Ok(Some(rewrite)) => {
                    changed += 1;
                    print!("{}", unified_diff(&rewrite));
                    if self.accept {
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
        let verb = if self.accept {
            "rewritten"
        } else {
            "would change (pass --accept to write them)"
        };
        eprintln!("{changed} scenario files {verb}; {failed} could not be recorded");
        u8::from(failed > 0)
    }
}
