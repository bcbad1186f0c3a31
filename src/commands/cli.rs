//! `respect cli`: a redis-cli-like client.

use std::process::ExitCode;

use respect::cli::{run_cli_stdio, CliError, CliOptions};

use super::shared::{runtime, Budget, DialectArg, EXIT_FAILED, EXIT_USAGE};

/// Send a command (or each line of stdin) to a server and print the replies, like redis-cli.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1:6379")]
    addr: String,
    /// The wire dialect: resp2, resp3 (sends HELLO 3 first) or seed.
    #[arg(long, value_enum, default_value_t = DialectArg::Resp2)]
    dialect: DialectArg,
    /// Seconds to wait for each reply.
    #[arg(long, default_value_t = 5.0)]
    timeout: f64,
    /// Print each reply's exact bytes, escaped.
    #[arg(long)]
    raw: bool,
    #[command(flatten)]
    budget: Budget,
    /// The command and its arguments; without them, commands are read from stdin.
    command: Vec<String>,
}

impl Args {
    /// Exit 1 when any reply was an error or an exchange failed (timeout, reply over budget),
    /// 2 when the server cannot be reached.
    pub fn run(self) -> ExitCode {
        let options = CliOptions {
            addr: self.addr,
            dialect: self.dialect.into(),
            timeout: std::time::Duration::from_secs_f64(self.timeout.max(0.001)),
            raw: self.raw,
            budget: self.budget.reply_budget(),
        };
        let rt = match runtime() {
            Ok(rt) => rt,
            Err(code) => return code,
        };
        match rt.block_on(run_cli_stdio(&options, &self.command)) {
            Ok(false) => ExitCode::SUCCESS,
            Ok(true) => ExitCode::from(EXIT_FAILED),
            Err(e @ CliError::Unreachable { .. }) => {
                eprintln!("respect cli: {e}");
                ExitCode::from(EXIT_USAGE)
            }
            Err(e) => {
                eprintln!("respect cli: {e}");
                ExitCode::from(EXIT_FAILED)
            }
        }
    }
}
