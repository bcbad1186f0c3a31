//! RDB persistence: SAVE, BGSAVE and loading at start, in Redis 7.0's file format (see
//! [`crate::rdb::file`]), so a `dump.rdb` moves between this server and redis-server.
//!
//! Off unless the server is given a directory (`ServerConfig::dir`, `respect serve --dir`):
//! an in-process test double must never pick up a stale `dump.rdb` from its working
//! directory, nor leave one behind. A save writes a temporary file in the same directory,
//! flushes it to disk and renames it over the old one, so a crash mid-save leaves the
//! previous file whole.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::db::now_ms;
use crate::rdb::file::{self, Item};
use crate::state::ServerState;

/// Where and how this server saves.
#[derive(Debug)]
pub(crate) struct Persistence {
    /// The file SAVE writes and the server loads at start; `None`: persistence is off.
    path: Option<PathBuf>,
    /// Unix seconds of the last successful save (the start time before any): LASTSAVE.
    last_save: AtomicU64,
    /// A BGSAVE is writing.
    bgsave_running: AtomicBool,
    /// Whether the last BGSAVE succeeded (INFO's `rdb_last_bgsave_status`).
    last_bgsave_ok: AtomicBool,
    /// Key changes since the last successful save (Redis's `server.dirty`, INFO's
    /// `rdb_changes_since_last_save`): one per key a write signalled as modified.
    dirty: AtomicU64,
    /// When the last BGSAVE was tried (Unix seconds), for the retry delay after a failure.
    last_bgsave_try: AtomicU64,
}

impl Persistence {
    /// Persistence to `dir`/`dbfilename`, or off without a directory.
    pub(crate) fn new(dir: Option<&Path>, dbfilename: &str) -> Persistence {
        Persistence {
            path: dir.map(|d| d.join(dbfilename)),
            last_save: AtomicU64::new(now_ms() / 1000),
            bgsave_running: AtomicBool::new(false),
            last_bgsave_ok: AtomicBool::new(true),
            dirty: AtomicU64::new(0),
            last_bgsave_try: AtomicU64::new(0),
        }
    }

    /// A write changed a key.
    pub(crate) fn note_change(&self) {
        self.dirty.fetch_add(1, Ordering::Relaxed);
    }

    /// A command made `n` changes that no key signal counts (Redis's `server.dirty += n`
    /// in the stream commands that change a stream's groups, consumers or last ID).
    pub(crate) fn note_changes(&self, n: u64) {
        self.dirty.fetch_add(n, Ordering::Relaxed);
    }

    /// A save wrote the first `saved` changes: later ones stay counted.
    fn forget_changes(&self, saved: u64) {
        let _ = self
            .dirty
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |d| {
                Some(d.saturating_sub(saved))
            });
    }

    /// INFO's `rdb_changes_since_last_save`.
    pub(crate) fn dirty(&self) -> u64 {
        self.dirty.load(Ordering::Relaxed)
    }

    /// The file, if persistence is on.
    pub(crate) fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The data directory (`--dir`), if persistence is on.
    pub(crate) fn dir(&self) -> Option<&Path> {
        self.path.as_deref().and_then(Path::parent)
    }

    /// LASTSAVE.
    pub(crate) fn last_save(&self) -> u64 {
        self.last_save.load(Ordering::Relaxed)
    }

    /// Whether a BGSAVE is running.
    pub(crate) fn bgsave_running(&self) -> bool {
        self.bgsave_running.load(Ordering::Relaxed)
    }

    /// Whether the last BGSAVE succeeded.
    pub(crate) fn last_bgsave_ok(&self) -> bool {
        self.last_bgsave_ok.load(Ordering::Relaxed)
    }
}

/// A copy of every live key of every database, with the encoding that picks its RDB type.
/// The caller holds the server's gate exclusively, so the copy is one instant's keyspace.
pub(crate) fn snapshot(server: &ServerState) -> Vec<(usize, Vec<Item>)> {
    let now = now_ms();
    let mut databases = Vec::new();
    for index in 0.. {
        let Some(db) = server.db(index) else {
            break;
        };
        let mut items = Vec::new();
        db.for_each_shard(|shard| {
            shard.for_each_live(now, |key, entry, mark| {
                items.push(Item {
                    key: key.clone(),
                    entry: entry.clone(),
                    encoding: crate::encoding::encoding_name(&entry.value, mark),
                })
            })
        });
        if !items.is_empty() {
            databases.push((index, items));
        }
    }
    databases
}

/// Writes the function libraries with these codes and `databases` to `path`: a temporary
/// file in the same directory, flushed to disk, then renamed over `path`. Returns how many
/// seed-dialect values were left out.
pub(crate) fn write(
    path: &Path,
    databases: &[(usize, Vec<Item>)],
    functions: &[bytes::Bytes],
) -> std::io::Result<usize> {
    let (bytes, skipped) = file::encode(databases, functions, now_ms());
    write_atomically(path, &bytes)?;
    Ok(skipped)
}

/// Writes `bytes` to `path` so that a crash leaves either the old file or the new one whole:
/// a temporary file in the same directory, flushed to disk, then renamed over `path`.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    // Unique per save, not only per process: several servers of one process (tests, an
    // embedding application) may save into the same directory at once.
    static SAVES: AtomicU64 = AtomicU64::new(0);
    let n = SAVES.fetch_add(1, Ordering::Relaxed);
    let temp = dir.join(format!("temp-{}-{n}.rdb", std::process::id()));
    let result = (|| {
        let mut out = std::fs::File::create(&temp)?;
        out.write_all(bytes)?;
        out.sync_all()?;
        std::fs::rename(&temp, path)?;
        // The rename itself is durable once the directory is.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// SAVE: the snapshot written now (the caller holds the gate exclusively).
pub(crate) fn save(server: &ServerState) -> Result<(), String> {
    let persistence = &server.persistence;
    let Some(path) = persistence.path() else {
        return Err(off());
    };
    let dirty = persistence.dirty();
    let functions = server.scripting.library_codes();
    let skipped = write(path, &snapshot(server), &functions).map_err(|e| {
        tracing::warn!(path = %path.display(), "SAVE failed: {e}");
        format!("ERR saving to {} failed: {e}", path.display())
    })?;
    if skipped > 0 {
        tracing::warn!("SAVE left out {skipped} seed-dialect values (no RDB form)");
    }
    persistence
        .last_save
        .store(now_ms() / 1000, Ordering::Relaxed);
    persistence.forget_changes(dirty);
    tracing::info!(path = %path.display(), "DB saved on disk");
    Ok(())
}

/// BGSAVE: the snapshot copied now (the caller holds the gate exclusively), encoded and
/// written on a thread of its own while clients go on.
pub(crate) fn bgsave(server: &std::sync::Arc<ServerState>) -> Result<(), String> {
    let persistence = &server.persistence;
    let Some(path) = persistence.path().map(Path::to_path_buf) else {
        return Err(off());
    };
    if persistence.bgsave_running.swap(true, Ordering::AcqRel) {
        return Err("ERR Background save already in progress".into());
    }
    persistence
        .last_bgsave_try
        .store(now_ms() / 1000, Ordering::Relaxed);
    let dirty = persistence.dirty();
    let databases = snapshot(server);
    let functions = server.scripting.library_codes();
    let server = std::sync::Arc::clone(server);
    std::thread::spawn(move || {
        let persistence = &server.persistence;
        let ok = match write(&path, &databases, &functions) {
            Ok(_) => {
                persistence
                    .last_save
                    .store(now_ms() / 1000, Ordering::Relaxed);
                // Changes made while it wrote stay counted for the next save.
                persistence.forget_changes(dirty);
                tracing::info!(path = %path.display(), "background saving terminated with success");
                true
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), "background saving failed: {e}");
                false
            }
        };
        persistence.last_bgsave_ok.store(ok, Ordering::Relaxed);
        persistence.bgsave_running.store(false, Ordering::Release);
    });
    Ok(())
}

/// How long after a failed BGSAVE the save points may try again (Redis's
/// `CONFIG_BGSAVE_RETRY_DELAY`).
const BGSAVE_RETRY_DELAY_SECS: u64 = 5;

/// Redis's save points (`save "3600 1 300 100"`): once a second, a BGSAVE starts when some
/// point's changes happened within its seconds since the last save (and, after a failed one,
/// not before the retry delay). Runs only when persistence is on; stops with the server.
pub(crate) async fn run_save_points(
    server: std::sync::Weak<ServerState>,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    crate::state::every(
        std::time::Duration::from_secs(1),
        server,
        stop,
        save_point_tick,
    )
    .await;
}

/// One second of [`run_save_points`].
fn save_point_tick(server: &std::sync::Arc<ServerState>) {
    let persistence = &server.persistence;
    if persistence.path().is_none() || persistence.bgsave_running() {
        return;
    }
    let now = now_ms() / 1000;
    let since_save = now.saturating_sub(persistence.last_save());
    let dirty = persistence.dirty();
    let points = server.settings.get("save").unwrap_or_default();
    let numbers: Vec<u64> = points
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    let due = numbers.chunks_exact(2).any(
        |p| matches!(p, &[secs, changes] if changes > 0 && dirty >= changes && since_save >= secs),
    );
    let retry_ok = persistence.last_bgsave_ok()
        || now.saturating_sub(persistence.last_bgsave_try.load(Ordering::Relaxed))
            >= BGSAVE_RETRY_DELAY_SECS;
    if due && retry_ok {
        tracing::info!("{dirty} changes in {since_save} seconds: saving");
        let _gate = server.exclusive();
        if let Err(e) = bgsave(server) {
            tracing::warn!("save point: {e}");
        }
    }
}

fn off() -> String {
    "ERR persistence is off: start the server with a directory (respect serve --dir) to save".into()
}

/// Loads the file at start, if persistence is on and the file exists: its function
/// libraries, and every key into its database. An unreadable file stops the start with the reason (nothing is half loaded:
/// the whole file is read and checked first).
pub(crate) fn load_at_start(server: &ServerState) -> Result<Option<usize>, String> {
    let Some(path) = server.persistence.path() else {
        return Ok(None);
    };
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let databases = server.dbs().len();
    let max_string = server.settings.max_bulk_len();
    let now = now_ms();
    let loaded = file::decode(&bytes, now, databases, max_string)
        .map_err(|e| format!("cannot load {}: {e}", path.display()))?;
    // The libraries first: one that fails stops the start before any key is in.
    server
        .scripting
        .load_libraries(&loaded.functions)
        .map_err(|e| {
            format!(
                "cannot load {}: failed loading library, {e}",
                path.display()
            )
        })?;
    let mut count = 0;
    for (index, keys) in loaded.databases {
        let Some(db) = server.db(index) else {
            continue;
        };
        for (key, entry) in keys {
            db.shard(&key).insert(key, entry, now);
            count += 1;
        }
    }
    tracing::info!(keys = count, path = %path.display(), "DB loaded from disk");
    Ok(Some(count))
}
