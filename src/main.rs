//! The `respect` command line: argument parsing and dispatch only.

use std::io::Read;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use respect::inspect::{inspect, Outcome};
use respect::resp::{Dialect, Limits, Role};

#[derive(Parser)]
#[command(
    name = "respect",
    version,
    about = "A toolkit for RESP2, RESP3 and the seed dialect"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print every frame of a captured byte stream (a file, or stdin), or where it is malformed.
    Decode {
        /// The dialect of the stream.
        #[arg(long, default_value = "resp2")]
        dialect: Dialect,
        /// Which side wrote the stream: requests (Redis's request rules), replies (markers
        /// only) or any (frames, and inline commands for lines without a marker).
        #[arg(long, value_enum, default_value_t = RoleArg::Any)]
        role: RoleArg,
        /// Also print each frame's exact bytes, escaped.
        #[arg(long)]
        raw: bool,
        /// Deepest nesting accepted.
        #[arg(long, default_value_t = Limits::default().max_depth)]
        max_depth: usize,
        /// Largest bulk payload accepted, in bytes.
        #[arg(long, default_value_t = Limits::default().max_bulk_len)]
        max_bulk_len: usize,
        /// The capture to read; stdin when absent or `-`.
        file: Option<PathBuf>,
    },
    /// Replay the conformance scenarios against a server (the embedded one by default).
    Run {
        #[command(flatten)]
        target: Target,
        /// Report format: human, json, junit or markdown.
        #[arg(long, default_value = "human")]
        format: respect::conformance::cli::Format,
        /// Write the report to this file instead of stdout.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Run destructive scenarios (FLUSH*) even on a server that holds keys.
        #[arg(long)]
        allow_flush: bool,
        /// Scenarios run at once.
        #[arg(long, default_value_t = 4)]
        jobs: usize,
        /// List passing scenarios too.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Run the scenarios against a trusted server and rewrite their expectations from its
    /// replies (a diff is printed; files change only with --accept).
    Record {
        #[command(flatten)]
        target: Target,
        /// Write the rewritten files.
        #[arg(long)]
        accept: bool,
    },
    /// Replay every scenario on two servers and list where their bytes differ.
    Diff {
        /// The two servers (give --addr twice).
        #[arg(long = "addr", num_args = 1, required = true)]
        addrs: Vec<std::net::SocketAddr>,
        /// redis or seed.
        #[arg(long, default_value = "redis")]
        dialect: String,
        /// Only scenarios whose id or path contains this.
        #[arg(long)]
        filter: Option<String>,
        /// Per-step timeout (500ms, 2s).
        #[arg(long, default_value = "5s", value_parser = respect::conformance::cli::parse_duration)]
        timeout: std::time::Duration,
        /// Scenario folder.
        #[arg(long, default_value = "conformance")]
        dir: PathBuf,
    },
    /// Send generated valid, near-valid and malformed traffic to a server on this machine and
    /// report every case after which it went silent, out of sync, or down.
    Fuzz {
        /// The server (loopback only); without it, the embedded reference server.
        #[arg(long)]
        addr: Option<std::net::SocketAddr>,
        /// redis or seed.
        #[arg(long, default_value = "redis")]
        dialect: String,
        /// Most cases to send.
        #[arg(long, default_value_t = respect::netfuzz::DEFAULT_RUNS)]
        runs: usize,
        /// Time budget (e.g. 60s).
        #[arg(long, default_value = "120s", value_parser = respect::conformance::cli::parse_duration)]
        duration: std::time::Duration,
        /// PRNG seed: the same seed sends the same traffic.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Where findings go (a scenario file and the raw bytes each).
        #[arg(long, default_value = "fuzz-findings")]
        out: PathBuf,
        /// How long the server may take to answer a probe.
        #[arg(long, default_value = "1s", value_parser = respect::conformance::cli::parse_duration)]
        timeout: std::time::Duration,
    },
    /// Run the reference server until SIGINT or SIGTERM.
    Serve {
        /// Address to listen on (loopback unless told otherwise).
        #[arg(long, default_value = "127.0.0.1:6379")]
        bind: std::net::SocketAddr,
        /// redis (RESP2, RESP3 after HELLO 3) or seed (simpledb's dialect).
        #[arg(long, default_value = "redis")]
        dialect: respect::server::Flavor,
        /// Password clients must AUTH with.
        #[arg(long)]
        requirepass: Option<String>,
        /// Most clients at once.
        #[arg(long, default_value_t = respect::server::DEFAULT_MAXCLIENTS)]
        maxclients: usize,
        /// Most unprocessed input bytes per client before it is disconnected.
        #[arg(long, default_value_t = respect::server::DEFAULT_QUERY_BUFFER_LIMIT)]
        query_buffer_limit: usize,
        /// Largest bulk string accepted in a request, in bytes.
        #[arg(long, default_value_t = Limits::default().max_bulk_len)]
        max_bulk_len: usize,
        /// Threads serving connections (default: one per core). 1 runs a single-threaded
        /// event loop, as Redis does, and leaves the other cores to a load generator.
        #[arg(long)]
        threads: Option<NonZeroUsize>,
    },
    /// Send a command (or each line of stdin) to a server and print the replies, like redis-cli.
    Cli {
        /// The server's address.
        #[arg(long, default_value = "127.0.0.1:6379")]
        addr: String,
        /// resp2, resp3 (sends HELLO 3 first) or seed.
        #[arg(long, default_value = "resp2")]
        dialect: Dialect,
        /// Seconds to wait for each reply.
        #[arg(long, default_value_t = 5.0)]
        timeout: f64,
        /// Print each reply's exact bytes, escaped.
        #[arg(long)]
        raw: bool,
        /// The command and its arguments; without them, commands are read from stdin.
        command: Vec<String>,
    },
}

/// Which server and scenarios; shared by `run` and `record`.
#[derive(clap::Args)]
struct Target {
    /// The server to test; without it, the embedded reference server (one per dialect).
    #[arg(long)]
    addr: Option<std::net::SocketAddr>,
    /// Which suite the server at --addr speaks: redis or seed.
    #[arg(long, default_value = "redis")]
    dialect: String,
    /// Only the RESP2 (2) or RESP3 (3) scenarios.
    #[arg(long)]
    resp: Option<u8>,
    /// AUTH with this password on every connection.
    #[arg(long)]
    password: Option<String>,
    /// Only scenarios whose id or path contains this.
    #[arg(long)]
    filter: Option<String>,
    /// Only scenarios with one of these tags (comma separated).
    #[arg(long, value_delimiter = ',')]
    tags: Vec<String>,
    /// Per-step timeout (500ms, 2s).
    #[arg(long, default_value = "5s", value_parser = respect::conformance::cli::parse_duration)]
    timeout: std::time::Duration,
    /// Scenario folder.
    #[arg(long, default_value = "conformance")]
    dir: PathBuf,
}

fn suite_of(dialect: &str) -> Result<respect::conformance::Suite, String> {
    match dialect {
        "redis" | "resp2" | "resp3" => Ok(respect::conformance::Suite::Redis),
        "seed" | "simpledb" => Ok(respect::conformance::Suite::Seed),
        other => Err(format!("unknown dialect `{other}` (redis or seed)")),
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Request,
    Reply,
    Any,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Request => Role::Request,
            RoleArg::Reply => Role::Reply,
            RoleArg::Any => Role::Any,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Fuzz {
            addr,
            dialect,
            runs,
            duration,
            seed,
            out,
            timeout,
        } => {
            let (dialect, suite) = match dialect.as_str() {
                "seed" | "simpledb" => (Dialect::Seed, respect::conformance::Suite::Seed),
                "redis" | "resp2" => (Dialect::Resp2, respect::conformance::Suite::Redis),
                other => {
                    eprintln!("respect fuzz: unknown dialect `{other}` (redis or seed)");
                    return ExitCode::from(2);
                }
            };
            runtime().block_on(async move {
                let embedded = match addr {
                    Some(_) => None,
                    None => match respect::conformance::start_embedded(suite).await {
                        Ok(server) => Some(server),
                        Err(e) => {
                            eprintln!("respect fuzz: cannot start the embedded server: {e}");
                            return ExitCode::from(2);
                        }
                    },
                };
                let Some(addr) = addr.or(embedded.as_ref().map(|s| s.addr())) else {
                    return ExitCode::from(2);
                };
                let options = respect::netfuzz::FuzzOptions {
                    addr,
                    dialect,
                    runs,
                    duration,
                    seed,
                    out: Some(out),
                    timeout,
                };
                let result = respect::netfuzz::fuzz(&options, &|_, _| {}).await;
                if let Some(server) = embedded {
                    server.shutdown().await;
                }
                match result {
                    Ok(report) => {
                        for f in &report.findings {
                            println!(
                                "FINDING case {} ({:?}): {}
    bytes: \"{}\"",
                                f.case, f.problem, f.name, f.bytes
                            );
                            for file in &f.files {
                                println!("    wrote {file}");
                            }
                        }
                        println!(
                            "{} cases against {addr} (seed {}) in {:.1}s: {} findings",
                            report.cases,
                            report.seed,
                            report.millis as f64 / 1000.0,
                            report.findings.len()
                        );
                        ExitCode::from(u8::from(!report.findings.is_empty()))
                    }
                    Err(e) => {
                        eprintln!("respect fuzz: {e}");
                        ExitCode::from(2)
                    }
                }
            })
        }
        Command::Run {
            target,
            format,
            output,
            allow_flush,
            jobs,
            verbose,
        } => {
            let suite = match suite_of(&target.dialect) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("respect run: {e}");
                    return ExitCode::from(2);
                }
            };
            let command = respect::conformance::cli::RunCommand {
                dir: target.dir,
                addr: target.addr,
                suite,
                selection: respect::conformance::Selection {
                    filter: target.filter,
                    tags: target.tags,
                    resp: target.resp,
                },
                options: respect::conformance::RunOptions {
                    timeout: target.timeout,
                    jobs,
                    allow_flush,
                    password: target.password,
                },
                format,
                output,
                verbose,
            };
            ExitCode::from(runtime().block_on(respect::conformance::cli::run_command(command)))
        }
        Command::Record { target, accept } => {
            let (Some(addr), Ok(suite)) = (target.addr, suite_of(&target.dialect)) else {
                eprintln!(
                    "respect record: needs --addr of a trusted server and --dialect redis|seed"
                );
                return ExitCode::from(2);
            };
            let selection = respect::conformance::Selection {
                filter: target.filter,
                tags: target.tags,
                resp: target.resp,
            };
            let options = respect::conformance::RunOptions {
                timeout: target.timeout,
                password: target.password,
                ..Default::default()
            };
            ExitCode::from(
                runtime().block_on(respect::conformance::cli::record_command(
                    target.dir, addr, suite, selection, options, accept,
                )),
            )
        }
        Command::Diff {
            addrs,
            dialect,
            filter,
            timeout,
            dir,
        } => {
            let (Ok(suite), [a, b]) = (suite_of(&dialect), addrs.as_slice()) else {
                eprintln!("respect diff: needs --addr A --addr B and --dialect redis|seed");
                return ExitCode::from(2);
            };
            let selection = respect::conformance::Selection {
                filter,
                ..Default::default()
            };
            let options = respect::conformance::RunOptions {
                timeout,
                ..Default::default()
            };
            ExitCode::from(runtime().block_on(respect::conformance::cli::diff_command(
                dir, *a, *b, suite, selection, options,
            )))
        }
        Command::Serve {
            bind,
            dialect,
            requirepass,
            maxclients,
            query_buffer_limit,
            max_bulk_len,
            threads,
        } => {
            init_logging();
            let config = respect::server::ServerConfig {
                bind,
                flavor: dialect,
                requirepass,
                maxclients,
                query_buffer_limit,
                limits: Limits {
                    max_bulk_len,
                    ..Limits::default()
                },
                ..Default::default()
            };
            match runtime_with(threads).block_on(serve(config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("respect serve: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Cli {
            addr,
            dialect,
            timeout,
            raw,
            command,
        } => {
            let options = respect::cli::CliOptions {
                addr,
                dialect,
                timeout: std::time::Duration::from_secs_f64(timeout.max(0.001)),
                raw,
            };
            match runtime().block_on(respect::cli::run_cli_stdio(&options, &command)) {
                Ok(false) => ExitCode::SUCCESS,
                Ok(true) => ExitCode::FAILURE,
                Err(e) => {
                    eprintln!("respect cli: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Decode {
            dialect,
            role,
            raw,
            max_depth,
            max_bulk_len,
            file,
        } => {
            let input = match read_input(file.as_ref()) {
                Ok(bytes) => bytes,
                Err(e) => {
                    eprintln!("respect decode: {e}");
                    return ExitCode::from(2);
                }
            };
            let limits = Limits {
                max_depth,
                max_bulk_len,
                ..Limits::default()
            };
            let mut stdout = std::io::stdout().lock();
            match inspect(&input, dialect, role.into(), limits, raw, &mut stdout) {
                Ok(Outcome::Clean { .. }) => ExitCode::SUCCESS,
                Ok(Outcome::Malformed { .. }) => ExitCode::FAILURE,
                Err(e) => {
                    eprintln!("respect decode: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

/// Logs to stderr; `RUST_LOG` chooses the level (default: info).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
}

/// Serves until SIGINT or SIGTERM, then shuts down cleanly.
async fn serve(config: respect::server::ServerConfig) -> std::io::Result<()> {
    let server = respect::server::start(config).await?;
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    tracing::info!("signal received, shutting down");
    server.shutdown().await;
    Ok(())
}

fn runtime() -> tokio::runtime::Runtime {
    runtime_with(None)
}

/// The multi-threaded runtime with `threads` workers when given, one per core by default. One
/// thread is a single-threaded runtime, as Redis runs one event loop: everything runs on the
/// calling thread, with no work stealing and no wakeups handed across threads.
fn runtime_with(threads: Option<NonZeroUsize>) -> tokio::runtime::Runtime {
    let mut builder = match threads.map(NonZeroUsize::get) {
        Some(1) => tokio::runtime::Builder::new_current_thread(),
        Some(n) => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(n);
            builder
        }
        None => tokio::runtime::Builder::new_multi_thread(),
    };
    match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("respect: cannot start the async runtime: {e}");
            std::process::exit(2);
        }
    }
}

fn read_input(file: Option<&PathBuf>) -> std::io::Result<Vec<u8>> {
    let mut input = Vec::new();
    match file {
        Some(path) if path.as_os_str() != "-" => input = std::fs::read(path)?,
        _ => {
            std::io::stdin().read_to_end(&mut input)?;
        }
    }
    Ok(input)
}
