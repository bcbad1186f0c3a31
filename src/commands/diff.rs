//! `respect diff`: replay every scenario on two servers and list where their replies differ.

use std::net::SocketAddr;
use std::process::ExitCode;

use respect::conformance::diff::{diff_scenarios, render};
use respect::conformance::load_dir;
use respect::conformance::runner::{check_reachable, DEFAULT_JOBS};

use super::shared::{block_on, Scenarios, EXIT_USAGE};

/// Replay every scenario on two servers and list where their replies differ (every reply of
/// every scenario; replies that match the same loose form of the expectation agree).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The two servers (give --addr twice).
    #[arg(long = "addr", num_args = 1, required = true)]
    addrs: Vec<SocketAddr>,
    #[command(flatten)]
    scenarios: Scenarios,
    /// Scenarios run at once (on both servers).
    #[arg(long, default_value_t = DEFAULT_JOBS)]
    jobs: usize,
}

impl Args {
    /// Diffs; exit 1 when any scenario differs, 2 when the diff cannot happen.
    pub fn run(self) -> ExitCode {
        let [a, b] = self.addrs[..] else {
            eprintln!("respect diff: needs exactly two servers: --addr A --addr B");
            return ExitCode::from(EXIT_USAGE);
        };
        block_on(self.execute(a, b))
    }

    async fn execute(self, a: SocketAddr, b: SocketAddr) -> u8 {
        let scenarios = match load_dir(&self.scenarios.dir) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("respect diff: {e}");
                return EXIT_USAGE;
            }
        };
        if let Err(e) = self.scenarios.refuse_cluster("diff") {
            eprintln!("respect diff: {e}");
            return EXIT_USAGE;
        }
        let (flavor, selection) = (self.scenarios.flavor.into(), self.scenarios.selection());
        let options = respect::conformance::RunOptions {
            jobs: self.jobs,
            ..self.scenarios.options()
        };
        for addr in [a, b] {
            if let Err(e) = check_reachable(addr, &options).await {
                eprintln!("respect diff: {e}");
                return EXIT_USAGE;
            }
        }
        let chosen: Vec<_> = scenarios
            .into_iter()
            .filter(|s| s.flavor == flavor && selection.admits(s))
            .collect();
        let report = diff_scenarios(a, b, chosen, &options).await;
        print!("{}", render(&report, a, b));
        u8::from(!report.differences.is_empty())
    }
}
