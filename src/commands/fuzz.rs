//! `respect fuzz`: the network fuzzer against a server on this machine.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use respect::netfuzz::against::{against, AgainstOptions, DEFAULT_SEQUENCE_LEN};
use respect::netfuzz::{fuzz, FuzzOptions, DEFAULT_DURATION, DEFAULT_RUNS, DEFAULT_TIMEOUT};

use super::shared::{block_on, Budget, FlavorArg, Span, EXIT_FAILED, EXIT_OK, EXIT_USAGE};

/// Send generated valid, near-valid and malformed traffic to a server on this machine and
/// report every case after which it went silent, out of sync, or down.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The server (loopback only); without it, the embedded reference server.
    #[arg(long)]
    addr: Option<SocketAddr>,
    /// What the server speaks.
    #[arg(long, value_enum, default_value_t = FlavorArg::Redis)]
    flavor: FlavorArg,
    /// Most cases to send.
    #[arg(long, default_value_t = DEFAULT_RUNS)]
    runs: usize,
    /// Time budget (e.g. 60s).
    #[arg(long, default_value_t = Span(DEFAULT_DURATION))]
    duration: Span,
    /// PRNG seed: the same number sends the same traffic.
    #[arg(long, default_value_t = 1)]
    rng_seed: u64,
    /// Where findings go (a scenario file and the raw bytes each).
    #[arg(long, default_value = "fuzz-findings")]
    out: PathBuf,
    /// How long the server may take to answer a probe.
    #[arg(long, default_value_t = Span(DEFAULT_TIMEOUT))]
    timeout: Span,
    /// Draw valid commands from the server's command registry (names, arities, key
    /// positions, typed arguments) instead of the fixed list.
    #[arg(long)]
    grammar: bool,
    /// Differential mode: send the same grammar-driven sequences to `--addr` (the reference)
    /// and this server, and report every sequence whose replies differ (`--runs` counts
    /// sequences).
    #[arg(long, requires = "addr")]
    against: Option<SocketAddr>,
    /// Differential mode: never send these commands (comma-separated), e.g. known
    /// differences that would end every sequence they appear in.
    #[arg(long, value_delimiter = ',')]
    skip: Vec<String>,
    /// Commands per sequence in differential mode.
    #[arg(long, default_value_t = DEFAULT_SEQUENCE_LEN)]
    length: usize,
    #[command(flatten)]
    budget: Budget,
}

impl Args {
    /// Fuzzes; exit 1 when anything was found, 2 when the run could not happen.
    pub fn run(self) -> ExitCode {
        block_on(self.execute())
    }

    async fn execute(self) -> u8 {
        if let (Some(a), Some(b)) = (self.addr, self.against) {
            return self.differential(a, b).await;
        }
        let flavor = self.flavor.into();
        let embedded = match self.addr {
            Some(_) => None,
            None => match respect::conformance::start_embedded(flavor).await {
                Ok(server) => Some(server),
                Err(e) => {
                    eprintln!("respect fuzz: cannot start the embedded server: {e}");
                    return EXIT_USAGE;
                }
            },
        };
        let Some(addr) = self.addr.or(embedded.as_ref().map(|s| s.addr())) else {
            return EXIT_USAGE;
        };
        let options = FuzzOptions {
            addr,
            flavor,
            runs: self.runs,
            duration: self.duration.0,
            rng_seed: self.rng_seed,
            out: Some(self.out),
            timeout: self.timeout.0,
            budget: self.budget.reply_budget(),
            grammar: self.grammar,
        };
        let result = fuzz(&options, &|_, _| {}).await;
        if let Some(server) = embedded {
            server.shutdown().await;
        }
        let report = match result {
            Ok(report) => report,
            Err(e) => {
                eprintln!("respect fuzz: {e}");
                return EXIT_USAGE;
            }
        };
        for f in &report.findings {
            println!(
                "FINDING case {} ({:?}): {}\n    bytes: \"{}\"",
                f.case, f.problem, f.name, f.bytes
            );
            for file in &f.files {
                println!("    wrote {file}");
            }
        }
        println!(
            "{} cases against {addr} (rng seed {}) in {:.1}s: {} findings",
            report.cases,
            report.rng_seed,
            report.millis as f64 / 1000.0,
            report.findings.len()
        );
        if report.findings.is_empty() {
            EXIT_OK
        } else {
            EXIT_FAILED
        }
    }

    /// `--against`: the same sequences on two servers; exit 1 on any difference.
    async fn differential(&self, a: SocketAddr, b: SocketAddr) -> u8 {
        let options = AgainstOptions {
            a,
            b,
            sequences: self.runs,
            duration: self.duration.0,
            length: self.length,
            rng_seed: self.rng_seed,
            out: Some(self.out.clone()),
            timeout: self.timeout.0,
            budget: self.budget.reply_budget(),
            skip: self.skip.iter().map(|s| s.to_lowercase()).collect(),
        };
        let report = match against(&options).await {
            Ok(report) => report,
            Err(e) => {
                eprintln!("respect fuzz: {e}");
                return EXIT_USAGE;
            }
        };
        for d in &report.differences {
            println!(
                "DIFFERENCE sequence {} step {}: {}\n    {a}: \"{}\"\n    {b}: \"{}\"",
                d.sequence, d.step, d.command, d.a, d.b
            );
            if let Some(file) = &d.file {
                println!("    wrote {file}");
            }
        }
        println!(
            "{} sequences, {} commands each to {a} and {b} (rng seed {}) in {:.1}s: {} differences, {} replies equal only after normalisation",
            report.sequences,
            report.commands,
            self.rng_seed,
            report.millis as f64 / 1000.0,
            report.differences.len(),
            report.normalised
        );
        if report.differences.is_empty() {
            EXIT_OK
        } else {
            EXIT_FAILED
        }
    }
}
