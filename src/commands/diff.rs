//! `respect diff`: replay every scenario on two servers and list where their bytes differ.

use std::net::SocketAddr;
use std::process::ExitCode;

use respect::conformance::load_dir;
use respect::conformance::record::diff_scenario;
use respect::conformance::runner::check_reachable;

use super::shared::{runtime, Scenarios, EXIT_USAGE};

/// Replay every scenario on two servers and list where their replies differ.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The two servers (give --addr twice).
    #[arg(long = "addr", num_args = 1, required = true)]
    addrs: Vec<SocketAddr>,
    #[command(flatten)]
    scenarios: Scenarios,
}

impl Args {
    /// Diffs; exit 1 when any scenario differs.
    pub fn run(self) -> ExitCode {
        let [a, b] = self.addrs[..] else {
            eprintln!("respect diff: needs exactly two servers: --addr A --addr B");
            return ExitCode::from(EXIT_USAGE);
        };
        match runtime() {
            Ok(rt) => ExitCode::from(rt.block_on(self.execute(a, b))),
            Err(code) => code,
        }
    }

    async fn execute(self, a: SocketAddr, b: SocketAddr) -> u8 {
        let scenarios = match load_dir(&self.scenarios.dir) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("respect diff: {e}");
                return EXIT_USAGE;
            }
        };
        let (flavor, selection, options) = (
            self.scenarios.flavor.into(),
            self.scenarios.selection(),
            self.scenarios.options(),
        );
        for addr in [a, b] {
            if let Err(e) = check_reachable(addr, &options).await {
                eprintln!("respect diff: {e}");
                return EXIT_USAGE;
            }
        }
        let chosen: Vec<_> = scenarios
            .iter()
            .filter(|s| s.flavor == flavor && selection.admits(s))
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
}
