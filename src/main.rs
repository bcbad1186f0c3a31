//! The `respect` command line: parse, dispatch, exit. Each subcommand lives in its own file
//! under `commands/` with an `Args` struct and `run(self) -> ExitCode`.

mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "respect",
    version,
    about = "A toolkit for RESP2, RESP3 and the seed dialect: codec, reference server, conformance harness, fuzzers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Run(commands::run::Args),
    Record(commands::record::Args),
    Diff(commands::diff::Args),
    Serve(commands::serve::Args),
    Fuzz(commands::fuzz::Args),
    Decode(commands::decode::Args),
    Cli(commands::cli::Args),
    Matrix(commands::matrix::Args),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Run(args) => args.run(),
        Command::Record(args) => args.run(),
        Command::Diff(args) => args.run(),
        Command::Serve(args) => args.run(),
        Command::Fuzz(args) => args.run(),
        Command::Decode(args) => args.run(),
        Command::Cli(args) => args.run(),
        Command::Matrix(args) => args.run(),
    }
}
