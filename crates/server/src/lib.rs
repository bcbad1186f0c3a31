//! The respect reference server: Redis 7.0 byte for byte (RESP2, and RESP3 after `HELLO 3`)
//! or simpledb 0.4.3's seed dialect, embeddable in another crate's tests as a test double.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! // Port 0: a free loopback port, so tests can run side by side.
//! let server = respect_server::spawn(respect_server::ServerConfig::loopback()).await?;
//! let mut conn = tokio::net::TcpStream::connect(server.addr()).await?;
//! conn.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n").await?;
//! let mut reply = [0u8; 5];
//! conn.read_exact(&mut reply).await?;
//! assert_eq!(&reply, b"+OK\r\n");
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Rooms: `listener` accepts and shuts down, `connection` owns a socket's buffers and knows
//! no command, `commands` holds the registry and the commands (one file per family, the seed flavor as a
//! peer) and knows no socket, `db` is the
//! keyspace. With the `in-process` feature, [`Session`] is the command layer as a library (the
//! `server` fuzz target drives it without sockets).
#![deny(missing_docs)]

pub(crate) mod access;
pub(crate) mod acl;
pub(crate) mod blocking;
pub mod clients;
pub mod commands;
mod connection;
pub(crate) mod db;
pub(crate) mod encoded_push;
pub(crate) mod encoding;
pub(crate) mod evict;
pub(crate) mod expiry;
mod glob;
pub(crate) mod hll;
mod listener;
pub mod notify;
mod persistence;
pub(crate) mod pubsub;
pub(crate) mod rdb;
pub(crate) mod replication;
pub(crate) mod session;
mod state;
pub(crate) mod stream;
pub mod tracking;
pub(crate) mod zset;

pub use glob::glob_match;
pub use respect_resp::Flavor;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::task::JoinHandle;

pub use db::Db;
pub use session::Session;
pub use state::{DEFAULT_DATABASES, MAX_DATABASES};

/// A DUMP payload around `body` (an RDB type byte and a value): Redis 7.0's RDB version and
/// CRC-64 footer appended, so RESTORE reads the body. For fuzzing RESTORE's reader past its
/// checksum, and for tests that craft payloads.
pub fn dump_payload(body: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    out.extend_from_slice(&rdb::RDB_VERSION.to_le_bytes());
    let crc = rdb::crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

use respect_resp::Limits;

/// Most clients served at once; one more is told `-ERR max number of clients reached`.
/// Redis's default `maxclients`.
pub const DEFAULT_MAXCLIENTS: usize = 10_000;

/// Largest unprocessed input one client may have buffered (a frame still arriving); past it
/// the client is disconnected. Redis's default `client-query-buffer-limit` is 1 GiB.
pub const DEFAULT_QUERY_BUFFER_LIMIT: usize = 1024 * 1024 * 1024;

/// Most reply bytes gathered before they are written out. A client that sends requests but
/// never reads replies stalls its own connection at this much memory instead of growing it
/// (the write waits for the peer), which is what bounds the output buffer.
pub const DEFAULT_OUTPUT_BATCH_LIMIT: usize = 256 * 1024;

/// Length of the queue of connections the kernel has accepted but the server has not yet
/// taken: Redis's default `tcp-backlog`. A burst of thousands of clients connecting at once
/// waits in this queue; a short one (std's bind asks for 128) makes the kernel drop SYNs and
/// the clients retry a second later. Linux caps it at `net.core.somaxconn`.
pub const DEFAULT_TCP_BACKLOG: u32 = 511;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on; port 0 picks a free one.
    pub bind: SocketAddr,
    /// Redis or seed.
    pub flavor: Flavor,
    /// Password every client must AUTH with (Redis flavor).
    pub requirepass: Option<String>,
    /// See [`DEFAULT_MAXCLIENTS`].
    pub maxclients: usize,
    /// See [`DEFAULT_QUERY_BUFFER_LIMIT`].
    pub query_buffer_limit: usize,
    /// See [`DEFAULT_OUTPUT_BATCH_LIMIT`].
    pub output_batch_limit: usize,
    /// The codec's limits for requests.
    pub limits: Limits,
    /// See [`DEFAULT_TCP_BACKLOG`].
    pub tcp_backlog: u32,
    /// How far a subscriber may fall behind; see [`clients::DEFAULT_PUBSUB_OUTPUT_LIMIT`].
    pub pubsub_output_limit: clients::OutputLimit,
    /// `notify-keyspace-events` at start (Redis's default: empty, off).
    pub notify_keyspace_events: String,
    /// How many numbered databases (`databases`); see [`DEFAULT_DATABASES`].
    pub databases: usize,
    /// Whether the DEBUG command is allowed (Redis's `enable-debug-command`); off by
    /// default, as in Redis, since it lets a client stall or reshape the server.
    pub enable_debug_command: bool,
    /// Where SAVE and BGSAVE write and whence the server loads at start (Redis's `dir`);
    /// `None`, the default, turns persistence off: an in-process test double never loads a
    /// stale file nor leaves one behind. See `persistence.rs`.
    pub dir: Option<std::path::PathBuf>,
    /// The file's name in `dir` (Redis's `dbfilename`).
    pub dbfilename: String,
}

impl ServerConfig {
    /// The defaults on a free loopback port (127.0.0.1:0): what a test double wants.
    pub fn loopback() -> ServerConfig {
        ServerConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..ServerConfig::default()
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 6379)),
            flavor: Flavor::Redis,
            requirepass: None,
            maxclients: DEFAULT_MAXCLIENTS,
            query_buffer_limit: DEFAULT_QUERY_BUFFER_LIMIT,
            output_batch_limit: DEFAULT_OUTPUT_BATCH_LIMIT,
            limits: Limits::default(),
            tcp_backlog: DEFAULT_TCP_BACKLOG,
            pubsub_output_limit: clients::DEFAULT_PUBSUB_OUTPUT_LIMIT,
            notify_keyspace_events: String::new(),
            databases: DEFAULT_DATABASES,
            enable_debug_command: false,
            dir: None,
            dbfilename: "dump.rdb".into(),
        }
    }
}

/// A running server.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    task: JoinHandle<()>,
    server: Arc<state::ServerState>,
}

impl ServerHandle {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many keys it holds now (all databases).
    pub fn key_count(&self) -> usize {
        self.server.key_count()
    }

    /// Stops accepting, closes every connection after its current batch, and waits.
    pub async fn shutdown(self) {
        self.server.stop.send_replace(true);
        let _ = self.task.await;
    }

    /// Resolves once something asked the server to stop: a client's SHUTDOWN (or
    /// [`ServerHandle::shutdown`] from another task). `respect serve` exits on it.
    pub async fn stop_requested(&self) {
        let mut stop = self.server.stop.subscribe();
        let _ = stop.wait_for(|stop| *stop).await;
    }
}

/// Binds and starts serving in the background on the current tokio runtime; returns once it
/// listens. Stop it with [`ServerHandle::shutdown`] (dropping the handle leaves it running
/// until the runtime ends).
pub async fn spawn(config: ServerConfig) -> io::Result<ServerHandle> {
    let listener = listen(config.bind, config.tcp_backlog)?;
    let addr = listener.local_addr()?;
    let (flavor, password_set) = (config.flavor, config.requirepass.is_some());
    let stats = Arc::new(Stats::default());
    let server = Arc::new(state::ServerState::start(&config, addr.port(), stats));
    let signal = server.stop.subscribe();
    server
        .hub
        .notifications
        .set_notify_keyspace_events(&config.notify_keyspace_events)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    if let Some(keys) = persistence::load_at_start(&server)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?
    {
        tracing::info!(keys, "keys loaded");
    }
    // After loading: keys read from the file are not `new` events.
    server.sync_new_key_events();
    if server.persistence.path().is_some() {
        tokio::spawn(persistence::run_save_points(
            Arc::downgrade(&server),
            signal.clone(),
        ));
    }
    tokio::spawn(replication::run_pings(
        Arc::downgrade(&server),
        signal.clone(),
    ));
    tokio::spawn(expiry::run_active_cycle(
        Arc::downgrade(&server),
        signal.clone(),
    ));
    let task = tokio::spawn(listener::run(
        listener,
        Arc::clone(&server),
        Arc::new(config),
        signal,
    ));
    tracing::info!(%addr, flavor = ?flavor, "respect server listening");
    if password_set {
        // Said at startup, so a password that is set (or not) is never a surprise.
        tracing::info!(
            "a password is set (requirepass): clients must AUTH before any other command"
        );
    }
    Ok(ServerHandle { addr, task, server })
}

/// A listening socket on `addr` with a backlog of `backlog` (see [`DEFAULT_TCP_BACKLOG`]),
/// `SO_REUSEADDR` set as Redis and std do, so a restart does not wait out TIME_WAIT.
fn listen(addr: SocketAddr, backlog: u32) -> io::Result<tokio::net::TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

/// One server's counters, shared by its listener and its sessions (INFO reads them).
#[derive(Debug, Default)]
pub struct Stats {
    connected: AtomicUsize,
    accepted: AtomicU64,
    commands: AtomicU64,
    errors: AtomicU64,
    /// Keys removed to stay under `maxmemory` (INFO evicted_keys).
    evicted: AtomicU64,
    /// Per command and per error word (INFO commandstats, errorstats).
    pub(crate) per_command: commands::command_stats::CommandStats,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Clients connected now.
    pub connected: usize,
    /// Connections accepted since start.
    pub accepted: u64,
    /// Commands run.
    pub commands: u64,
    /// Commands that replied with an error.
    pub errors: u64,
}

impl Stats {
    /// The counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            connected: self.connected.load(Ordering::Relaxed),
            accepted: self.accepted.load(Ordering::Relaxed),
            commands: self.commands.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
        }
    }

    /// CONFIG RESETSTAT: the counters of events start again from zero (the number of
    /// clients connected now is a state, not an event, and stays).
    pub(crate) fn reset(&self) {
        self.accepted.store(0, Ordering::Relaxed);
        self.commands.store(0, Ordering::Relaxed);
        self.errors.store(0, Ordering::Relaxed);
        self.evicted.store(0, Ordering::Relaxed);
        self.per_command.reset();
    }

    /// A key evicted under `maxmemory`.
    pub(crate) fn count_evicted(&self) {
        self.evicted.fetch_add(1, Ordering::Relaxed);
    }

    /// INFO evicted_keys.
    pub(crate) fn evicted(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }

    /// An error reply that is not a command's own (a refusal inside a script): counted in
    /// total_error_replies and errorstats.
    pub(crate) fn count_error(&self, text: &str) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.per_command.count_error_code(text.as_bytes());
    }

    pub(crate) fn count_command(&self, error: bool) {
        self.commands.fetch_add(1, Ordering::Relaxed);
        if error {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}
