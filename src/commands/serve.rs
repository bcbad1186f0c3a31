//! `respect serve`: run the reference server until SIGINT, SIGTERM or SHUTDOWN.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::process::ExitCode;

use respect::resp::Limits;
use respect::server::{
    ServerConfig, DEFAULT_MAXCLIENTS, DEFAULT_QUERY_BUFFER_LIMIT, DEFAULT_TCP_BACKLOG,
};

use super::shared::{runtime_with, FlavorArg, EXIT_USAGE};

/// Run the reference server until SIGINT or SIGTERM.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Address to listen on (loopback unless told otherwise).
    #[arg(long, default_value = "127.0.0.1:6379")]
    bind: SocketAddr,
    /// What the server speaks: redis (RESP2, RESP3 after HELLO 3) or seed (simpledb's dialect).
    #[arg(long, value_enum, default_value_t = FlavorArg::Redis)]
    flavor: FlavorArg,
    /// Password clients must AUTH with.
    #[arg(long)]
    requirepass: Option<String>,
    /// Most clients at once.
    #[arg(long, default_value_t = DEFAULT_MAXCLIENTS)]
    maxclients: usize,
    /// Most unprocessed input bytes per client before it is disconnected.
    #[arg(long, default_value_t = DEFAULT_QUERY_BUFFER_LIMIT)]
    query_buffer_limit: usize,
    /// Largest bulk string accepted in a request, in bytes.
    #[arg(long, default_value_t = Limits::default().max_bulk_len)]
    max_bulk_len: usize,
    /// Length of the queue of connections not yet accepted (Redis's `tcp-backlog`; Linux
    /// caps it at net.core.somaxconn).
    #[arg(long, default_value_t = DEFAULT_TCP_BACKLOG)]
    tcp_backlog: u32,
    /// Threads serving connections (default: one per core). 1 runs a single-threaded
    /// event loop, as Redis does, and leaves the other cores to a load generator.
    #[arg(long)]
    threads: Option<NonZeroUsize>,
    /// Number of databases (SELECT 0 to N-1; Redis's `databases`).
    #[arg(long, default_value_t = respect::server::DEFAULT_DATABASES)]
    databases: usize,
    /// Allow the DEBUG command (Redis's `enable-debug-command`); off by default.
    #[arg(long)]
    enable_debug_command: bool,
    /// Turn RDB persistence on, in this directory (Redis's `dir`): load DBFILENAME from it at
    /// start, and SAVE/BGSAVE to it. Off by default: a test double starts empty.
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
    /// The RDB file's name in --dir (Redis's `dbfilename`).
    #[arg(long, default_value = "dump.rdb")]
    dbfilename: String,
}

impl Args {
    /// Serves until a signal; exit 2 if the server cannot start.
    pub fn run(self) -> ExitCode {
        init_logging();
        let config = ServerConfig {
            bind: self.bind,
            flavor: self.flavor.into(),
            requirepass: self.requirepass,
            maxclients: self.maxclients,
            query_buffer_limit: self.query_buffer_limit,
            limits: Limits {
                max_bulk_len: self.max_bulk_len,
                ..Limits::default()
            },
            tcp_backlog: self.tcp_backlog,
            databases: self.databases,
            enable_debug_command: self.enable_debug_command,
            dir: self.dir,
            dbfilename: self.dbfilename,
            ..ServerConfig::default()
        };
        let rt = match runtime_with(self.threads) {
            Ok(rt) => rt,
            Err(code) => return code,
        };
        match rt.block_on(serve(config)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("respect serve: {e}");
                ExitCode::from(EXIT_USAGE)
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

/// Serves until SIGINT, SIGTERM or a client's SHUTDOWN, then shuts down cleanly.
async fn serve(config: ServerConfig) -> std::io::Result<()> {
    let server = respect::server::spawn(config).await?;
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("signal received, shutting down"),
        _ = terminate.recv() => tracing::info!("signal received, shutting down"),
        _ = server.stop_requested() => tracing::info!("SHUTDOWN received, shutting down"),
    }
    server.shutdown().await;
    Ok(())
}
