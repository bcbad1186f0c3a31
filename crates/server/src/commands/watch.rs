//! WATCH's registry and the one "a key was modified" signal, [`signal_modified`].
//!
//! As in Redis, each watching session owns a dirty flag; the server keeps, per (database,
//! key), the flags of the sessions watching it. A modification sets those flags; EXEC then
//! sees its own flag and aborts. When nobody watches anything, the signal costs one atomic
//! load, so write commands pay nothing for the feature they do not use.
//!
//! Every write path goes through [`signal_modified`]: the dispatcher calls it for the keys
//! of write commands that changed something (see `modified`), the commands that replace a
//! whole database (FLUSHDB, FLUSHALL, SWAPDB) call [`signal_database`], and MOVE signals its
//! key in both databases. CLIENT TRACKING's invalidations are meant to hook in here too.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use super::context::Ctx;
use crate::db::Db;
use crate::state::ServerState;

/// A session's "a watched key changed" flag (Redis's `CLIENT_DIRTY_CAS`).
pub type DirtyFlag = Arc<AtomicBool>;

/// Who watches what, server-wide.
#[derive(Debug, Default)]
pub struct Watches {
    /// How many (database, key, session) watches exist; 0 makes signals free.
    active: AtomicUsize,
    by_key: Mutex<HashMap<(usize, Bytes), Vec<DirtyFlag>>>,
}

impl Watches {
    /// Whether anyone watches anything (the signal's fast path).
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Acquire) > 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(usize, Bytes), Vec<DirtyFlag>>> {
        self.by_key.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers `flag` for `key` in `db`; false (and nothing changes) when it already is.
    fn add(&self, db: usize, key: Bytes, flag: &DirtyFlag) -> bool {
        let mut map = self.lock();
        let flags = map.entry((db, key)).or_default();
        if flags.iter().any(|f| Arc::ptr_eq(f, flag)) {
            return false;
        }
        flags.push(Arc::clone(flag));
        self.active.fetch_add(1, Ordering::AcqRel);
        true
    }

    fn remove(&self, db: usize, key: &Bytes, flag: &DirtyFlag) {
        let mut map = self.lock();
        let lookup = (db, key.clone());
        if let Some(flags) = map.get_mut(&lookup) {
            if let Some(at) = flags.iter().position(|f| Arc::ptr_eq(f, flag)) {
                flags.swap_remove(at);
                self.active.fetch_sub(1, Ordering::AcqRel);
            }
            if flags.is_empty() {
                map.remove(&lookup);
            }
        }
    }

    /// Sets the flags of every session watching `key` in database `db`.
    pub(crate) fn touch(&self, db: usize, key: &Bytes) {
        if let Some(flags) = self.lock().get(&(db, key.clone())) {
            for flag in flags {
                flag.store(true, Ordering::Release);
            }
        }
    }

    /// Sets the flags of every session watching a key of database `db` for which `exists`
    /// holds.
    fn touch_where(&self, db: usize, exists: impl Fn(&Bytes) -> bool) {
        for ((watched_db, key), flags) in self.lock().iter() {
            if *watched_db == db && exists(key) {
                for flag in flags {
                    flag.store(true, Ordering::Release);
                }
            }
        }
    }
}

/// Key `key` of database `db` was modified by the command running in `ctx`: Redis's
/// `signalModifiedKey`. Every session watching it will fail its EXEC, and clients that may
/// cache it are told (CLIENT TRACKING; the invalidations of the caller's own change follow its
/// reply). The one entry point every write goes through (see the module documentation).
pub fn signal_modified(ctx: &Ctx<'_>, db: usize, key: &Bytes) {
    let server = ctx.server;
    server.persistence.note_change();
    if server.watches.is_active() {
        server.watches.touch(db, key);
    }
    let state = &*ctx.state;
    if state.hub.tracking.active() {
        for (_, keys) in
            crate::tracking::invalidate_key(&state.hub, key, state.client.id, state.client.id)
        {
            state.client.defer(keys);
        }
    }
}

/// Whether anyone is interested in which keys a command modifies (WATCH, CLIENT TRACKING,
/// the changes-since-last-save count of a server that saves, a replica: a command that
/// changed nothing does not propagate): when not, writes skip
/// computing it (so without persistence `rdb_changes_since_last_save` stays 0).
pub fn modifications_wanted(ctx: &Ctx<'_>) -> bool {
    ctx.server.watches.is_active()
        || ctx.state.hub.tracking.active()
        || ctx.server.persistence.path().is_some()
        || ctx.server.replication.active()
}

/// Database `db` was emptied or replaced (FLUSHDB, FLUSHALL, SWAPDB): as Redis's
/// `touchAllWatchedKeysInDb`, a watched key counts as modified if it exists in `before` (the
/// database's contents until now) or in `after` (what replaced them, for SWAPDB). Call it
/// before the change, while `before` still holds the old contents.
pub fn signal_database(server: &ServerState, db: usize, before: &Db, after: Option<&Db>) {
    if !server.watches.is_active() {
        return;
    }
    let now = crate::db::now_ms();
    let exists = |key: &Bytes| {
        before.shard(key).get(key, now).is_some()
            || after.is_some_and(|other| other.shard(key).get(key, now).is_some())
    };
    server.watches.touch_where(db, exists);
}

/// One key a session watches, and whether it had an expiry still to come when watched
/// (EXEC fails if that time has passed, as Redis's `isWatchedKeyExpired`).
#[derive(Debug)]
struct Watched {
    db: usize,
    key: Bytes,
    expires_at: Option<u64>,
}

/// A session's watches: its dirty flag and its keys. Dropping it (the connection closed)
/// withdraws them from the server's registry.
#[derive(Debug)]
pub struct WatchState {
    dirty: DirtyFlag,
    keys: Vec<Watched>,
    registry: Option<Arc<ServerState>>,
}

impl Default for WatchState {
    fn default() -> Self {
        WatchState {
            dirty: Arc::new(AtomicBool::new(false)),
            keys: Vec::new(),
            registry: None,
        }
    }
}

impl Clone for WatchState {
    /// A cloned session starts with no watches of its own (a flag is one session's).
    fn clone(&self) -> Self {
        WatchState::default()
    }
}

impl WatchState {
    /// WATCH `key` in database `db`: a no-op if already watched there.
    pub fn watch(&mut self, server: &Arc<ServerState>, db: usize, key: &Bytes, now: u64) {
        // The server's registry answers "already watched" by a hash lookup: a scan of this
        // client's own list made one WATCH of n keys cost n^2 comparisons.
        if !server.watches.add(db, key.clone(), &self.dirty) {
            return;
        }
        let expires_at = server.db(db).and_then(|d| {
            d.shard(key)
                .get(key, now)
                .and_then(|entry| entry.expires_at)
        });
        self.registry = Some(Arc::clone(server));
        self.keys.push(Watched {
            db,
            key: key.clone(),
            expires_at,
        });
    }

    /// Whether EXEC must fail: a watched key was modified, or one that was live with an
    /// expiry when watched has expired since.
    pub fn broken(&self, now: u64) -> bool {
        self.dirty.load(Ordering::Acquire)
            || self
                .keys
                .iter()
                .any(|w| w.expires_at.is_some_and(|at| at <= now))
    }

    /// UNWATCH: forget every key and clear the flag (EXEC, DISCARD and RESET do this too).
    pub fn unwatch(&mut self) {
        if let Some(server) = &self.registry {
            for watched in self.keys.drain(..) {
                server.watches.remove(watched.db, &watched.key, &self.dirty);
            }
        }
        self.keys.clear();
        self.dirty.store(false, Ordering::Release);
    }
}

impl Drop for WatchState {
    fn drop(&mut self) {
        self.unwatch();
    }
}
