//! The `respect` command line: parse, dispatch, exit. Each subcommand lives in its own file
//! under `commands/` with an `Args` struct and `run(self) -> ExitCode`.

mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The global allocator: jemalloc, chosen by measurement (the README's reliability section).
/// After bursts of clients that each sent a megabyte and hung up, glibc's malloc kept 6-20x
/// its idle memory (its per-thread arenas are trimmed only from the top) and mimalloc
/// 3-20x; jemalloc configured as below returned to within 1 MB of the figure before.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read at its start (the `_RJEM_MALLOC_CONF` environment variable
/// overrides them). Without a background thread jemalloc returns freed pages only while
/// the program keeps allocating, so a server gone idle after a burst would keep the burst's
/// memory forever; with it, dirty pages go back after about a second (`dirty_decay_ms`),
/// straight to the system (`muzzy_decay_ms:0`), much as Redis's own jemalloc does.
#[cfg(feature = "jemalloc")]
#[export_name = "_rjem_malloc_conf"]
static JEMALLOC_CONF: &[u8] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

/// mimalloc, the other allocator measured (the `mimalloc` feature, when `jemalloc` is off).
#[cfg(all(feature = "mimalloc", not(feature = "jemalloc")))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    Clients(commands::clients::Args),
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
        Command::Clients(args) => args.run(),
    }
}
