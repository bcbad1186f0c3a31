//! What several subcommands take, spelled once: `--flavor`, `--dialect`, durations, the
//! scenario selection, the async runtime, and the exit codes.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::ValueEnum;
use respect::client::{ReplyBudget, DEFAULT_MAX_REPLY_BYTES, DEFAULT_MAX_REPLY_ELEMENTS};
use respect::conformance::cluster::Cluster;
use respect::conformance::target::{Target, Version};
use respect::conformance::{runner::DEFAULT_TIMEOUT, RunOptions, Selection};
use respect::resp::{Dialect, Flavor};

/// Every PASS (or NON-STRICT, or no finding).
pub const EXIT_OK: u8 = 0;
/// Something failed: a FAIL or ERROR verdict, a finding, a malformed capture.
pub const EXIT_FAILED: u8 = 1;
/// The run could not happen: bad usage, an unreachable target, an unreadable file.
pub const EXIT_USAGE: u8 = 2;

/// The protocol world: what a server speaks and a suite is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FlavorArg {
    /// Redis 7: RESP2, RESP3 after HELLO 3.
    Redis,
    /// simpledb 0.4.3's seed dialect.
    #[value(alias = "simpledb")]
    Seed,
}

impl From<FlavorArg> for Flavor {
    fn from(f: FlavorArg) -> Flavor {
        match f {
            FlavorArg::Redis => Flavor::Redis,
            FlavorArg::Seed => Flavor::Seed,
        }
    }
}

/// A wire dialect: which markers one byte stream may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DialectArg {
    /// RESP2: + - : $ *
    Resp2,
    /// RESP3: RESP2 plus _ , # ! = ( % ~ | > and streamed forms.
    Resp3,
    /// The seed dialect: RESP2 plus ^ @ & %.
    #[value(alias = "simpledb")]
    Seed,
}

impl From<DialectArg> for Dialect {
    fn from(d: DialectArg) -> Dialect {
        match d {
            DialectArg::Resp2 => Dialect::Resp2,
            DialectArg::Resp3 => Dialect::Resp3,
            DialectArg::Seed => Dialect::Seed,
        }
    }
}

/// A duration as the command line spells it: `500ms`, `2s`, `1.5` (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span(pub Duration);

impl std::str::FromStr for Span {
    type Err = String;

    fn from_str(text: &str) -> Result<Span, String> {
        let (number, scale) = if let Some(ms) = text.strip_suffix("ms") {
            (ms, 0.001)
        } else if let Some(s) = text.strip_suffix('s') {
            (s, 1.0)
        } else {
            (text, 1.0)
        };
        number
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
            .map(|v| Span(Duration::from_secs_f64(v * scale)))
            .ok_or_else(|| format!("bad duration `{text}` (like 500ms or 2s)"))
    }
}

impl std::fmt::Display for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.subsec_millis() == 0 {
            write!(f, "{}s", self.0.as_secs())
        } else {
            write!(f, "{}ms", self.0.as_millis())
        }
    }
}

/// What one reply from the server may cost: shared by every subcommand that reads replies
/// (`run`, `record`, `diff`, `cli`, `fuzz`). Past either bound the step is an ERROR and the
/// connection is dropped, so a hostile server cannot make the tool hold unbounded memory.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct Budget {
    /// Largest reply accepted, in bytes (declared lengths over it are refused on sight).
    #[arg(long, default_value_t = DEFAULT_MAX_REPLY_BYTES)]
    pub max_reply_bytes: usize,
    /// Most elements (scalars and aggregates, at every depth) in one reply.
    #[arg(long, default_value_t = DEFAULT_MAX_REPLY_ELEMENTS)]
    pub max_reply_elements: usize,
}

impl Budget {
    /// The client's budget.
    pub fn reply_budget(&self) -> ReplyBudget {
        ReplyBudget {
            max_bytes: self.max_reply_bytes,
            max_elements: self.max_reply_elements,
        }
    }
}

/// Which scenarios, from where, for which flavor: shared by `run`, `record` and `diff`.
#[derive(clap::Args, Debug)]
pub struct Scenarios {
    /// Which suite the server(s) speak.
    #[arg(long, value_enum, default_value_t = FlavorArg::Redis)]
    pub flavor: FlavorArg,
    /// Only the RESP2 (2) or RESP3 (3) scenarios.
    #[arg(long)]
    pub resp: Option<u8>,
    /// Only scenarios whose id or path contains this.
    #[arg(long)]
    pub filter: Option<String>,
    /// Only scenarios with one of these tags (comma separated).
    #[arg(long, value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Per-step timeout (500ms, 2s).
    #[arg(long, default_value_t = Span(DEFAULT_TIMEOUT))]
    pub timeout: Span,
    /// AUTH with this password on every connection.
    #[arg(long)]
    pub password: Option<String>,
    /// Scenario folder.
    #[arg(long, default_value = "conformance")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub budget: Budget,
    /// Run the scenarios that need an empty server (they FLUSH every key); without it they
    /// are SKIPPED.
    #[arg(long)]
    pub allow_flush: bool,
    /// Run the scenarios that change global state (CONFIG SET, SELECT of another database,
    /// SCRIPT/FUNCTION FLUSH, CLIENT KILL); without it they are SKIPPED.
    #[arg(long)]
    pub allow_global: bool,
    /// The Redis version to grade against (6.2, 7.0.15) instead of the one the server reports
    /// (HELLO / INFO): replies the scenarios explain by an older or newer version are VERSION.
    #[arg(long)]
    pub target_version: Option<Version>,
    /// `--addr` is a node of a Redis Cluster (`run` and `record`): the slot map is read from
    /// it, each scenario runs on the master serving its keys' slot, the harness follows
    /// -MOVED/-ASK for its own commands, and scenarios a cluster cannot run are SKIPPED.
    #[arg(long)]
    pub cluster: bool,
}

impl Scenarios {
    /// The selection these flags make.
    pub fn selection(&self) -> Selection {
        Selection {
            filter: self.filter.clone(),
            tags: self.tags.clone(),
            resp: self.resp,
        }
    }

    /// Run options with this timeout and password, the rest default.
    pub fn options(&self) -> RunOptions {
        RunOptions {
            timeout: self.timeout.0,
            password: self.password.clone(),
            budget: self.budget.reply_budget(),
            allow_flush: self.allow_flush,
            allow_global: self.allow_global,
            target: self.target_version.map(Target::given),
            ..RunOptions::default()
        }
    }

    /// [`Scenarios::options`] for a run against `addr`; with `--cluster`, the cluster behind it
    /// discovered (`Err`, one line, when it cannot be).
    pub async fn options_at(&self, addr: Option<SocketAddr>) -> Result<RunOptions, String> {
        let mut options = self.options();
        if self.cluster {
            let seed = addr.ok_or("--cluster needs --addr, a node of the cluster")?;
            let cluster = Cluster::discover(seed, &options).await?;
            options.cluster = Some(Arc::new(cluster));
        }
        Ok(options)
    }

    /// `Err` when `--cluster` is given to a subcommand that cannot use it.
    pub fn refuse_cluster(&self, command: &str) -> Result<(), String> {
        match self.cluster {
            true => Err(format!(
                "--cluster is for `run` and `record`; `{command}` takes plain servers"
            )),
            false => Ok(()),
        }
    }
}

/// Runs a subcommand's async body to its exit code on the default runtime.
pub fn block_on(body: impl std::future::Future<Output = u8>) -> ExitCode {
    match runtime() {
        Ok(rt) => ExitCode::from(rt.block_on(body)),
        Err(code) => code,
    }
}

/// The multi-threaded runtime (one worker per core).
pub fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    runtime_with(None)
}

/// The multi-threaded runtime with `threads` workers when given, one per core by default. One
/// thread is a single-threaded runtime, as Redis runs one event loop: everything runs on the
/// calling thread, with no work stealing and no wakeups handed across threads.
pub fn runtime_with(threads: Option<NonZeroUsize>) -> Result<tokio::runtime::Runtime, ExitCode> {
    let mut builder = match threads.map(NonZeroUsize::get) {
        Some(1) => tokio::runtime::Builder::new_current_thread(),
        Some(n) => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(n);
            builder
        }
        None => tokio::runtime::Builder::new_multi_thread(),
    };
    builder.enable_all().build().map_err(|e| {
        eprintln!("respect: cannot start the async runtime: {e}");
        ExitCode::from(EXIT_USAGE)
    })
}
