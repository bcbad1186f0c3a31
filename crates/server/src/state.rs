//! The state one server shares among all its sessions: the numbered databases, the counters,
//! the live configuration, the registry of WATCHed keys, and the gate that makes EXEC atomic.
//!
//! A session holds an `Arc<ServerState>` next to its own connection state; commands see it
//! through `Ctx::server`. Sessions built in-process with [`crate::Session::new`] get a
//! state of their own whose database 0 is the `Db` they were given.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Instant;

use crate::clients::Hub;
use crate::commands::settings::Settings;
use crate::commands::watch::Watches;
use crate::db::Db;
use crate::{ServerConfig, Stats};

/// How many numbered databases a server has (`SELECT 0` to `SELECT 15`): Redis's default
/// `databases`. Fixed while the server runs (CONFIG SET refuses it, as Redis does); set
/// another number at start with `ServerConfig::databases`.
pub const DEFAULT_DATABASES: usize = 16;

/// Bytes the server process is counted as using before any key (INFO used_memory).
pub const BASE_MEMORY: usize = 1024 * 1024;

/// How long a memory estimate is reused (the `maxmemory` check, INFO used_memory).
pub const MEMORY_ESTIMATE_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

/// Most databases a server may be started with, so a configuration cannot make the server
/// allocate an absurd table (Redis itself accepts up to `INT_MAX`, and allocates them all).
pub const MAX_DATABASES: usize = 1024;

/// Everything server-wide; see the module documentation.
#[derive(Debug)]
pub struct ServerState {
    /// The databases, by index; each is a fixed keyspace (SWAPDB swaps contents, not slots).
    dbs: Box<[Db]>,
    /// The counters INFO reports.
    pub(crate) stats: Arc<Stats>,
    /// CONFIG GET/SET's parameters, and the live limits they control.
    pub(crate) settings: Settings,
    /// The live clients and what passes between them: pub/sub, blocked clients, keyspace
    /// notifications, client-side caching (see [`crate::clients::Hub`]).
    pub(crate) hub: Arc<Hub>,
    /// Which clients WATCH which keys; the target of `signal_modified`.
    pub(crate) watches: Watches,
    /// Ordinary commands hold it shared while they run; EXEC (and the few commands that
    /// touch two databases at once) hold it exclusively, so nothing interleaves with them.
    gate: RwLock<()>,
    /// When the server started (INFO's uptime).
    pub(crate) started: Instant,
    /// The port it listens on (INFO's tcp_port); 0 in-process.
    pub(crate) port: u16,
    /// Whether DEBUG is allowed (`--enable-debug-command`).
    pub(crate) debug_command: bool,
    /// DEBUG SET-ACTIVE-EXPIRE: on (the default), expired keys count as gone everywhere; off,
    /// DBSIZE counts them until something touches them, as Redis without its expiry cycle.
    pub(crate) active_expire: std::sync::atomic::AtomicBool,
    /// DEBUG PAUSE-CRON: the periodic tasks skip their ticks while set (see [`every`]).
    pub(crate) cron_paused: std::sync::atomic::AtomicBool,
    /// DEBUG SET-DISABLE-DENY-SCRIPTS: scripts may call `noscript` commands.
    pub(crate) script_disable_deny: std::sync::atomic::AtomicBool,
    /// The last memory estimate, and when it was made (Unix ms); see `out_of_memory`.
    memory_estimate: AtomicU64,
    memory_checked_at: AtomicU64,
    /// SAVE, BGSAVE, LASTSAVE: where the file goes, when it last went.
    pub(crate) persistence: crate::persistence::Persistence,
    /// The Lua engine, the script cache and the function libraries.
    pub(crate) scripting: crate::commands::scripting::Scripting,
    /// Set to true to stop the server: by `ServerHandle::shutdown` or by SHUTDOWN. The
    /// accept loop and every connection watch it.
    pub(crate) stop: tokio::sync::watch::Sender<bool>,
    /// The replicas attached with SYNC and the stream they read (see [`crate::replication`]).
    pub(crate) replication: crate::replication::Replication,
    /// The seed flavor's schedule (ADD, READ): simpledb keeps it beside the keyspace.
    pub(crate) seed_schedule: crate::commands::seed::schedule::Schedule,
    /// SLOWLOG.
    pub(crate) slowlog: crate::commands::slowlog::Slowlog,
    /// The users and the ACL log.
    pub(crate) acl: crate::acl::Acl,
}

impl ServerState {
    /// A server state with `databases` empty databases (at least one, at most
    /// [`MAX_DATABASES`]), counting into `stats`.
    pub(crate) fn new(databases: usize, stats: Arc<Stats>) -> ServerState {
        let count = databases.clamp(1, MAX_DATABASES);
        ServerState::with_dbs((0..count).map(|_| Db::new()).collect(), stats)
    }

    /// The state of a server started with `config`, listening on `port`.
    pub(crate) fn start(config: &ServerConfig, port: u16, stats: Arc<Stats>) -> ServerState {
        let mut state = ServerState::new(config.databases, stats);
        state.hub = Arc::new(Hub::new(config.pubsub_output_limit));
        state.port = port;
        state.debug_command = config.enable_debug_command;
        state.persistence =
            crate::persistence::Persistence::new(config.dir.as_deref(), &config.dbfilename);
        let settings = &state.settings;
        // CONFIG GET dir answers an absolute directory, as Redis (its working directory).
        let dir = config
            .dir
            .clone()
            .or_else(|| std::env::current_dir().ok())
            .map(|d| std::fs::canonicalize(&d).unwrap_or(d));
        if let Some(dir) = dir {
            settings.set_initial("dir", &dir.display().to_string());
        }
        settings.set_initial("dbfilename", &config.dbfilename);
        if let Some(password) = config.requirepass.as_deref() {
            settings.set_initial("requirepass", password);
            state.acl.set_default_password(password.as_bytes());
        }
        settings.set_initial("maxclients", &config.maxclients.to_string());
        settings.set_initial(
            "client-query-buffer-limit",
            &config.query_buffer_limit.to_string(),
        );
        settings.set_initial(
            "proto-max-bulk-len",
            &config.limits.max_bulk_len.to_string(),
        );
        if !config.notify_keyspace_events.is_empty() {
            settings.set_initial("notify-keyspace-events", &config.notify_keyspace_events);
        }
        if config.enable_debug_command {
            settings.set_initial("enable-debug-command", "yes");
        }
        // The live limits are the configuration's even where CONFIG SET would refuse the
        // value (tests start servers with tiny limits).
        let as_u64 = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let relaxed = std::sync::atomic::Ordering::Relaxed;
        settings
            .maxclients
            .store(as_u64(config.maxclients), relaxed);
        settings
            .query_buffer_limit
            .store(as_u64(config.query_buffer_limit), relaxed);
        settings
            .proto_max_bulk_len
            .store(as_u64(config.limits.max_bulk_len), relaxed);
        state
    }

    /// A server state whose database 0 is `db` (an in-process session's keyspace) and whose
    /// other [`DEFAULT_DATABASES`]` - 1` databases are empty.
    pub(crate) fn with_db0(db: Db, stats: Arc<Stats>) -> ServerState {
        let dbs = std::iter::once(db)
            .chain((1..DEFAULT_DATABASES).map(|_| Db::new()))
            .collect();
        ServerState::with_dbs(dbs, stats)
    }

    fn with_dbs(dbs: Box<[Db]>, stats: Arc<Stats>) -> ServerState {
        let settings = Settings::new(dbs.len());
        ServerState {
            dbs,
            stats,
            settings,
            hub: Arc::new(Hub::default()),
            watches: Watches::default(),
            gate: RwLock::new(()),
            started: Instant::now(),
            port: 0,
            debug_command: false,
            active_expire: std::sync::atomic::AtomicBool::new(true),
            script_disable_deny: std::sync::atomic::AtomicBool::new(false),
            cron_paused: std::sync::atomic::AtomicBool::new(false),
            memory_estimate: AtomicU64::new(BASE_MEMORY as u64),
            memory_checked_at: AtomicU64::new(0),
            persistence: crate::persistence::Persistence::new(None, "dump.rdb"),
            scripting: Default::default(),
            stop: tokio::sync::watch::Sender::new(false),
            replication: crate::replication::Replication::default(),
            seed_schedule: Default::default(),
            slowlog: Default::default(),
            acl: Default::default(),
        }
    }

    /// Makes every database log the keys it creates exactly while the `new` keyspace event
    /// can be heard (`notify-keyspace-events` holds `n` and `K` or `E`).
    pub(crate) fn sync_new_key_events(&self) {
        let wanted = self.hub.notifications.enabled(crate::notify::NEW);
        for db in self.dbs() {
            db.log_created_keys(wanted);
        }
    }

    /// Database `index`, if it exists.
    pub(crate) fn db(&self, index: usize) -> Option<&Db> {
        self.dbs.get(index)
    }

    /// Every database, by index.
    pub(crate) fn dbs(&self) -> &[Db] {
        &self.dbs
    }

    /// Database 0: the only one the seed flavor knows, and the fallback of a session whose
    /// index is out of range (which SELECT never lets happen).
    pub(crate) fn db0(&self) -> &Db {
        // `with_dbs` always holds at least one database; the slice pattern keeps this total.
        match &*self.dbs {
            [first, ..] => first,
            [] => unreachable_db(),
        }
    }

    /// Enters the gate shared: what every ordinary command does while it runs.
    pub(crate) fn shared(&self) -> RwLockReadGuard<'_, ()> {
        self.gate.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Enters the gate shared if nobody holds it alone; `None` otherwise.
    pub(crate) fn try_shared(&self) -> Option<RwLockReadGuard<'_, ()>> {
        match self.gate.try_read() {
            Ok(g) => Some(g),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// Enters the gate alone: no other command runs until the guard drops.
    pub(crate) fn exclusive(&self) -> RwLockWriteGuard<'_, ()> {
        self.gate.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `maxmemory` is set and the memory estimate (INFO used_memory) is above it.
    pub(crate) fn out_of_memory(&self) -> bool {
        let limit = self.settings.maxmemory.load(Ordering::Relaxed);
        limit != 0 && self.used_memory() as u64 > limit
    }

    /// INFO used_memory: a fixed base plus every database's estimate. The estimate walks the
    /// keyspace, so it is refreshed at most every [`MEMORY_ESTIMATE_INTERVAL`], whoever asks
    /// (the `maxmemory` check before each command, INFO in a client's polling loop).
    pub(crate) fn used_memory(&self) -> usize {
        let now = crate::db::now_ms();
        let checked = self.memory_checked_at.load(Ordering::Relaxed);
        if now.saturating_sub(checked) >= MEMORY_ESTIMATE_INTERVAL.as_millis() as u64 {
            self.memory_checked_at.store(now, Ordering::Relaxed);
            let used = BASE_MEMORY + self.dbs.iter().map(Db::memory_estimate).sum::<usize>();
            self.memory_estimate.store(used as u64, Ordering::Relaxed);
        }
        usize::try_from(self.memory_estimate.load(Ordering::Relaxed)).unwrap_or(usize::MAX)
    }

    /// The memory estimate without its refresh: what eviction weighs as it deletes.
    pub(crate) fn memory_estimate_now(&self) -> u64 {
        self.memory_estimate.load(Ordering::Relaxed)
    }

    /// Adds `bytes` (a string's growth) to the memory estimate, so the `maxmemory` check
    /// before the next command sees it before the next refresh (and evicts, as Redis).
    pub(crate) fn note_memory(&self, bytes: usize) {
        self.memory_estimate
            .fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Takes `bytes` (a deleted key's estimate) off the memory estimate, so the `maxmemory`
    /// check that follows an eviction sees it before the next refresh.
    pub(crate) fn forget_memory(&self, bytes: usize) {
        let bytes = bytes as u64;
        let _ = self
            .memory_estimate
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |m| {
                Some(m.saturating_sub(bytes).max(BASE_MEMORY as u64))
            });
    }

    /// Live keys in all databases.
    pub(crate) fn key_count(&self) -> usize {
        self.dbs.iter().map(Db::len).sum()
    }
}

/// Never called: a `ServerState` has at least one database by construction. It exists so
/// `db0` needs no panic path on a slice index.
#[cold]
fn unreachable_db() -> &'static Db {
    static EMPTY: std::sync::OnceLock<Db> = std::sync::OnceLock::new();
    EMPTY.get_or_init(Db::new)
}

/// Runs `tick` on `server` every `period` until the server is gone or `stop` turns true: the
/// server's background work (the active expiry cycle, the save points). Holds the server
/// weakly, so it never keeps a stopped server alive; a tick that runs late is not made up.
pub(crate) async fn every(
    period: std::time::Duration,
    server: std::sync::Weak<ServerState>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    mut tick: impl FnMut(&Arc<ServerState>),
) {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        let Some(server) = server.upgrade() else {
            return;
        };
        if server.cron_paused.load(Ordering::Relaxed) {
            continue;
        }
        tick(&server);
    }
}
