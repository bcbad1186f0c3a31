//! The keyspace: values, expiry, and the locks that let many connections share it.
//!
//! Keys are spread over [`SHARDS`] independently locked maps so that connections on different
//! cores rarely wait for each other. A command touching one key locks one shard; a command
//! touching several (MSET, DEL a b, FLUSHDB, KEYS) locks them in shard order, which rules out
//! deadlock. Expired keys are never visible; they are removed when touched (or by the active
//! cycle of `crate::expiry`), and each removal is logged for `crate::expiry` to report (the
//! `expired` event, WATCH, CLIENT TRACKING) once the command that found it is done.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use indexmap::{IndexMap, IndexSet};

use respect_resp::Frame;

/// Independently locked parts of the keyspace.
pub const SHARDS: usize = 64;

/// A stored value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string (Redis) or a bulk-bytes value (seed).
    Str(Bytes),
    /// A hash; fields keep insertion order, as Redis's small hashes do.
    Hash(IndexMap<Bytes, Bytes>),
    /// A list.
    List(VecDeque<Bytes>),
    /// A set; members keep insertion order.
    Set(IndexSet<Bytes>),
    /// A sorted set.
    ZSet(crate::zset::ZSet),
    /// A stream.
    Stream(Box<crate::stream::Stream>),
    /// A typed value of the seed dialect (a nested dict, a set, text, JSON, a number, a null,
    /// an array), stored as it arrived and returned as is.
    Seed(Frame),
}

impl Value {
    /// The bytes of the value's payload, plus `per_element` for each element of a collection.
    pub fn payload_estimate(&self, per_element: usize) -> usize {
        match self {
            Value::Str(b) => b.len(),
            Value::Hash(h) => h.iter().map(|(f, v)| per_element + f.len() + v.len()).sum(),
            Value::List(l) => l.iter().map(|v| per_element + v.len()).sum(),
            Value::Set(s) => s.iter().map(|v| per_element + v.len()).sum(),
            // A member and its score (8 bytes), twice linked: the map and the skip list.
            Value::ZSet(z) => z
                .iter_unordered()
                .map(|(m, _)| 2 * per_element + m.len() + 8)
                .sum(),
            Value::Stream(s) => s.payload_estimate(per_element),
            Value::Seed(_) => per_element,
        }
    }

    /// The name `TYPE` replies with.
    pub fn type_name(&self) -> &'static str {
        match self {
            // A seed value answers with the name of the Redis type it resembles.
            Value::Hash(_) | Value::Seed(Frame::Map(_)) => "hash",
            Value::List(_) | Value::Seed(Frame::Array(_)) => "list",
            Value::Set(_) | Value::Seed(Frame::Set(_)) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
            Value::Str(_) | Value::Seed(_) => "string",
        }
    }
}

/// A value and when it expires (milliseconds since the Unix epoch).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The value.
    pub value: Value,
    /// Absolute expiry time in Unix milliseconds, if any.
    pub expires_at: Option<u64>,
    /// When it was last used, or how often (see [`crate::access`]); stamped by the shard on
    /// insert and on every lookup but the introspection commands'.
    pub access: u32,
}

impl Entry {
    /// Whether the entry has not expired at `now`.
    pub fn is_live(&self, now: u64) -> bool {
        self.expires_at.is_none_or(|t| t > now)
    }

    /// A value that never expires.
    pub fn new(value: Value) -> Entry {
        Entry::expiring(value, None)
    }

    /// A value with an expiry time (Unix ms), if any.
    pub fn expiring(value: Value, expires_at: Option<u64>) -> Entry {
        Entry {
            value,
            expires_at,
            access: 0,
        }
    }
}

/// What a value's contents alone do not say about how Redis stores it: the marks writes
/// leave (see `commands::encoding`, which sets and reads them for OBJECT ENCODING). Redis
/// converts a small encoding to a big one in place and never back, and a string modified in
/// place becomes `raw`; a fresh value (SET, a *STORE result) starts unmarked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Converted {
    /// A string modified in place (APPEND, SETRANGE, SETBIT...): `raw` whatever its length.
    Raw,
    /// A string built by a command that does not try the integer encoding (INCRBYFLOAT):
    /// `embstr` or `raw` by its length, never `int`.
    NotInt,
    /// A hash, set or sorted set that outgrew its small encoding.
    Big,
}

/// The current time in Unix milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// One shard of the keyspace. Keys are hashed with aHash under a per-process random seed:
/// several times faster than the standard SipHash on short keys, and still resistant to a
/// peer choosing keys that collide.
/// The keys a database's commands created, in order, for the `new` keyspace event (Redis
/// sends it from `dbAdd`). Kept only while someone can hear the event: otherwise one
/// atomic load per created key.
#[derive(Debug, Default)]
struct CreatedLog {
    wanted: std::sync::atomic::AtomicBool,
    keys: Mutex<Vec<Bytes>>,
}

#[derive(Debug, Default)]
pub struct Shard {
    map: HashMap<Bytes, Entry, ahash::RandomState>,
    /// Keys removed because their time had passed (INFO expired_keys).
    expired: u64,
    /// Lookups through [`Shard::get`] (the read path) that found a live key, or not (INFO
    /// keyspace_hits / keyspace_misses). Counted under the shard's lock: no atomics.
    hits: u64,
    misses: u64,
    /// The keys whose value carries a [`Converted`] mark; kept in step with `map` by every
    /// method that inserts or removes a key (the map is private to this module), so a
    /// replaced or deleted value never inherits a mark. Usually empty: one length check.
    converted: HashMap<Bytes, Converted, ahash::RandomState>,
    /// Keys removed on expiry and not yet taken by [`Db::take_expired`]. Bounded by the keys
    /// that existed: it is emptied after every command on the database and by every active
    /// expiry pass.
    just_expired: Vec<Bytes>,
    /// How many keys wait in `just_expired` over all the database's shards (shared with
    /// the [`Db`], so finding none costs one atomic load).
    pending: Arc<AtomicUsize>,
    /// Whether a key may have an expiry: set by every way one can get one (an inserted entry
    /// with a time, any [`Shard::get_mut`], the only `&mut Entry` there is), cleared by a purge
    /// that finds none. The active cycle skips a shard without it, so a keyspace without
    /// expiries costs it nothing (it scanned 2 M keys for 5% of a core before).
    may_expire: bool,
    /// The database's log of created keys (shared by its shards, so it keeps their order).
    created: Arc<CreatedLog>,
}

impl Shard {
    /// An empty shard whose expiries are counted in `pending` and whose new keys go to
    /// `created`.
    fn new(pending: Arc<AtomicUsize>, created: Arc<CreatedLog>) -> Shard {
        Shard {
            pending,
            created,
            ..Shard::default()
        }
    }

    /// Logs a key that did not exist before, when the `new` event is wanted.
    fn log_created(&self, key: &Bytes) {
        if self.created.wanted.load(Ordering::Relaxed) {
            lock_log(&self.created.keys).push(key.clone());
        }
    }

    /// Removes the entry at `key`, which has expired, and logs it.
    fn expire(&mut self, key: &[u8]) {
        if let Some((key, _)) = self.map.remove_entry(key) {
            self.forget_converted(&key);
            self.log_expired(key);
        }
    }

    /// Counts and logs a key removed on expiry.
    fn log_expired(&mut self, key: Bytes) {
        self.expired += 1;
        self.just_expired.push(key);
        self.pending.fetch_add(1, Ordering::Relaxed);
    }

    /// The mark on the value at `key`, if any.
    pub fn converted(&self, key: &[u8]) -> Option<Converted> {
        if self.converted.is_empty() {
            return None;
        }
        self.converted.get(key).copied()
    }

    /// Marks the value at `key` (nothing if the key is not stored).
    pub fn set_converted(&mut self, key: &[u8], mark: Converted) {
        if let Some((stored, _)) = self.map.get_key_value(key) {
            self.converted.insert(stored.clone(), mark);
        }
    }

    /// Forgets every mark, after giving each value to `f`: what a reload from disk does to
    /// encodings (DEBUG RELOAD), which Redis picks anew from the contents.
    pub fn forget_conversions(&mut self, f: impl FnMut(&mut Value)) {
        self.converted.clear();
        self.map.values_mut().map(|e| &mut e.value).for_each(f);
    }

    /// Drops the mark of a key whose value goes away or is replaced.
    fn forget_converted(&mut self, key: &[u8]) {
        if !self.converted.is_empty() {
            self.converted.remove(key);
        }
    }

    /// The live entry at `key`, removing it first if it has expired; stamped as used.
    pub fn get_mut(&mut self, key: &[u8], now: u64) -> Option<&mut Entry> {
        // The caller may give the entry a time to live (EXPIRE, GETEX).
        self.may_expire = true;
        if self.map.get(key).is_some_and(|e| !e.is_live(now)) {
            self.expire(key);
        }
        let entry = self.map.get_mut(key)?;
        crate::access::touch(&mut entry.access, now);
        Some(entry)
    }

    /// The live entry at `key`, counted as a keyspace hit or miss; stamped as used. Two map
    /// lookups on a hit, as before the stamp: one for the expiry check, one to stamp it.
    pub fn get(&mut self, key: &[u8], now: u64) -> Option<&Entry> {
        if self.map.get(key).is_some_and(|e| !e.is_live(now)) {
            self.expire(key);
        }
        match self.map.get_mut(key) {
            Some(entry) => {
                self.hits += 1;
                crate::access::touch(&mut entry.access, now);
                Some(entry)
            }
            None => {
                self.misses += 1;
                None
            }
        }
    }

    /// [`Shard::get`] without the use stamp: what OBJECT and DEBUG OBJECT see (Redis's
    /// `LOOKUP_NOTOUCH`), so that looking at a key's idle time does not reset it.
    pub fn get_untouched(&mut self, key: &[u8], now: u64) -> Option<&Entry> {
        if self.map.get(key).is_some_and(|e| !e.is_live(now)) {
            self.expire(key);
        }
        let found = self.map.get(key);
        if found.is_some() {
            self.hits += 1;
        } else {
            self.misses += 1;
        }
        found
    }

    /// The entry stored at `key`, expired or not, nothing counted or removed: what DEBUG
    /// OBJECT sees (Redis's raw `dictFind`, so a key past its TTL that nothing has touched
    /// is still described).
    pub fn stored(&self, key: &[u8]) -> Option<&Entry> {
        self.map.get(key)
    }

    /// The live entry at `key` as a write looks it up (Redis's `lookupKeyWrite`): removed
    /// first if it has expired, no keyspace hit or miss counted; stamped as used.
    pub fn get_for_write(&mut self, key: &[u8], now: u64) -> Option<&Entry> {
        if self.map.get(key).is_some_and(|e| !e.is_live(now)) {
            self.expire(key);
        }
        let entry = self.map.get_mut(key)?;
        crate::access::touch(&mut entry.access, now);
        Some(entry)
    }

    /// The live entry at `key`, read-only: nothing counted, nothing removed. For a second
    /// look at a key already read with [`Shard::get`] under the same lock, when several
    /// entries must be borrowed at once (SINTER and friends).
    pub fn peek(&self, key: &[u8], now: u64) -> Option<&Entry> {
        self.map.get(key).filter(|e| e.is_live(now))
    }

    /// Stores `entry` at `key`, returning the live entry it replaced. The entry is stamped
    /// as new (see [`crate::access`]).
    pub fn insert(&mut self, key: Bytes, mut entry: Entry, now: u64) -> Option<Entry> {
        entry.access = crate::access::fresh(now);
        self.forget_converted(&key);
        self.may_expire |= entry.expires_at.is_some();
        match self.map.entry(key) {
            std::collections::hash_map::Entry::Occupied(mut slot) => {
                let old = slot.insert(entry);
                if old.is_live(now) {
                    return Some(old);
                }
                // Overwriting an expired key expires it first, as Redis's lookupKeyWrite.
                let key = slot.key().clone();
                self.log_expired(key.clone());
                self.log_created(&key);
                None
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                if self.created.wanted.load(Ordering::Relaxed) {
                    lock_log(&self.created.keys).push(slot.key().clone());
                }
                slot.insert(entry);
                None
            }
        }
    }

    /// Removes `key`, returning its live entry.
    pub fn remove(&mut self, key: &[u8], now: u64) -> Option<Entry> {
        self.forget_converted(key);
        match self.map.remove_entry(key) {
            Some((key, old)) if !old.is_live(now) => {
                self.log_expired(key);
                None
            }
            found => found.map(|(_, old)| old),
        }
    }

    /// Gives every live entry to `f` with its key and encoding mark, in no particular order
    /// (SAVE and BGSAVE: nothing counted, nothing removed).
    pub fn for_each_live(&self, now: u64, mut f: impl FnMut(&Bytes, &Entry, Option<Converted>)) {
        for (key, entry) in &self.map {
            if entry.is_live(now) {
                f(key, entry, self.converted(key));
            }
        }
    }

    /// Live keys, expired ones dropped on the way.
    pub fn live_keys(&mut self, now: u64) -> Vec<Bytes> {
        self.purge_expired(now);
        self.map.keys().cloned().collect()
    }

    /// The live key at position `pick` modulo the number of live keys (RANDOMKEY), expired
    /// ones dropped on the way; `None` when no key is live. O(keys in the shard): the map
    /// has no random access.
    pub fn live_key_at(&mut self, now: u64, pick: u64) -> Option<Bytes> {
        let live = self.purge_expired(now) as u64;
        if live == 0 {
            return None;
        }
        let index = usize::try_from(pick % live).unwrap_or(0);
        self.map.keys().nth(index).cloned()
    }

    /// Drops the keys expired by `now` (counted in `expired`); returns how many are left.
    fn purge_expired(&mut self, now: u64) -> usize {
        let before = self.map.len();
        let mut gone = Vec::new();
        let mut volatile = false;
        self.map.retain(|k, e| {
            let live = e.is_live(now);
            if !live {
                gone.push(k.clone());
            }
            volatile |= live && e.expires_at.is_some();
            live
        });
        self.may_expire = volatile;
        if !self.converted.is_empty() && self.map.len() < before {
            let map = &self.map;
            self.converted.retain(|k, _| map.contains_key(k));
        }
        for key in gone {
            self.log_expired(key);
        }
        self.map.len()
    }

    /// Up to `n` live keys for eviction to weigh (`evictionPoolPopulate`'s sample), with their
    /// use stamps and expiry times: those after position `start` (modulo the shard's size) in
    /// the map's order, which the per-process hash seed makes arbitrary, wrapping around;
    /// only keys with an expiry when `volatile`. Appends to `out`.
    pub fn sample(&self, now: u64, start: usize, n: usize, volatile: bool, out: &mut Vec<Sampled>) {
        let len = self.map.len();
        // (`may_expire` is false only when no key here has a TTL: a volatile sample of such a
        // shard would walk it all to find nothing.)
        if len == 0 || n == 0 || (volatile && !self.may_expire) {
            return;
        }
        let start = start % len;
        let eligible =
            |(_, e): &(&Bytes, &Entry)| e.is_live(now) && (!volatile || e.expires_at.is_some());
        let picked = self
            .map
            .iter()
            .skip(start)
            .chain(self.map.iter().take(start))
            .filter(eligible)
            .take(n)
            .map(|(k, e)| Sampled {
                key: k.clone(),
                access: e.access,
                expires_at: e.expires_at,
            });
        out.extend(picked);
    }

    /// Drops everything; returns how many live keys there were.
    pub fn clear(&mut self, now: u64) -> usize {
        let live = self.map.values().filter(|e| e.is_live(now)).count();
        self.map.clear();
        self.converted.clear();
        live
    }
}

/// A key eviction may pick, as [`Shard::sample`] saw it.
#[derive(Debug, Clone)]
pub struct Sampled {
    /// The key.
    pub key: Bytes,
    /// Its use stamp (see [`crate::access`]).
    pub access: u32,
    /// Its expiry time, if any.
    pub expires_at: Option<u64>,
}

/// Bytes of bookkeeping counted per key and per collection element (INFO used_memory).
const OVERHEAD: usize = 48;

/// What the memory estimate counts for `key` holding `entry`: see [`Db::memory_estimate`].
pub fn entry_estimate(key: &[u8], entry: &Entry) -> usize {
    OVERHEAD + key.len() + entry.value.payload_estimate(OVERHEAD)
}

/// The shared keyspace. Cloning is cheap (it is an `Arc`).
#[derive(Debug, Clone)]
pub struct Db {
    shards: Arc<Vec<Mutex<Shard>>>,
    /// The keys created since the last [`Db::take_created`], while wanted.
    created: Arc<CreatedLog>,
    /// Keys waiting in the shards' expiry logs (see [`Db::take_expired`]).
    pending: Arc<AtomicUsize>,
}

impl Default for Db {
    fn default() -> Self {
        Db::new()
    }
}

impl Db {
    /// An empty keyspace.
    pub fn new() -> Db {
        let pending = Arc::new(AtomicUsize::new(0));
        let created = Arc::new(CreatedLog::default());
        Db {
            shards: Arc::new(
                (0..SHARDS)
                    .map(|_| Mutex::new(Shard::new(Arc::clone(&pending), Arc::clone(&created))))
                    .collect(),
            ),
            created,
            pending,
        }
    }

    fn shard_index(key: &[u8]) -> usize {
        // FNV-1a: cheap, and good enough to spread keys over a few dozen locks.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in key {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        (hash % SHARDS as u64) as usize
    }

    /// Locks the shard holding `key`. A poisoned lock (a panic elsewhere while holding it)
    /// still yields the data: every mutation leaves the map consistent.
    pub fn shard(&self, key: &[u8]) -> MutexGuard<'_, Shard> {
        self.lock(Self::shard_index(key))
    }

    /// Locks shard number `index` (modulo `SHARDS`), for iteration.
    pub fn shard_at(&self, index: usize) -> MutexGuard<'_, Shard> {
        self.lock(index)
    }

    fn lock(&self, index: usize) -> MutexGuard<'_, Shard> {
        match self.shards[index % SHARDS].lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Runs `f` on every shard in turn (for KEYS, DBSIZE, FLUSHDB, SCAN).
    pub fn for_each_shard<T>(&self, mut f: impl FnMut(&mut Shard) -> T) -> Vec<T> {
        (0..SHARDS).map(|i| f(&mut self.lock(i))).collect()
    }

    /// Locks the shards of all `keys` at once, in shard order (so two multi-key commands can
    /// never wait for each other in a cycle).
    pub fn lock_keys(&self, keys: &[&[u8]]) -> LockedShards<'_> {
        let mut indexes: Vec<usize> = keys.iter().map(|k| Self::shard_index(k)).collect();
        indexes.sort_unstable();
        indexes.dedup();
        LockedShards {
            guards: indexes.iter().map(|&i| (i, self.lock(i))).collect(),
        }
    }

    /// Number of live keys.
    pub fn len(&self) -> usize {
        let now = now_ms();
        self.for_each_shard(|s| s.purge_expired(now))
            .into_iter()
            .sum()
    }

    /// Number of stored keys, expired ones not yet removed included (DBSIZE with active
    /// expiry off).
    pub fn stored_len(&self) -> usize {
        self.for_each_shard(|s| s.map.len()).into_iter().sum()
    }

    /// Whether no key is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Exchanges the whole contents of two keyspaces (SWAPDB): shard by shard, so each side
    /// keeps its identity (clients holding either see the other's keys from now on). The
    /// caller must hold the server's gate exclusively, so no command holds a shard of either.
    pub fn swap_contents(&self, other: &Db) {
        if Arc::ptr_eq(&self.shards, &other.shards) {
            return;
        }
        for i in 0..SHARDS {
            let mut mine = self.lock(i);
            let mut theirs = other.lock(i);
            std::mem::swap(&mut mine.map, &mut theirs.map);
            std::mem::swap(&mut mine.converted, &mut theirs.converted);
            std::mem::swap(&mut mine.may_expire, &mut theirs.may_expire);
            // Logged expiries go with the keys; each side's count follows.
            std::mem::swap(&mut mine.just_expired, &mut theirs.just_expired);
            let (m, t) = (mine.just_expired.len(), theirs.just_expired.len());
            if m != t {
                self.pending.fetch_add(m, Ordering::Relaxed);
                self.pending.fetch_sub(t, Ordering::Relaxed);
                other.pending.fetch_add(t, Ordering::Relaxed);
                other.pending.fetch_sub(m, Ordering::Relaxed);
            }
        }
    }

    /// Starts or stops logging created keys (the `new` event is enabled or not).
    pub fn log_created_keys(&self, wanted: bool) {
        self.created.wanted.store(wanted, Ordering::Relaxed);
        if !wanted {
            lock_log(&self.created.keys).clear();
        }
    }

    /// The keys created since the last call, in order: for the `new` events. One atomic load
    /// while the event is not wanted.
    pub fn take_created(&self) -> Vec<Bytes> {
        if !self.created.wanted.load(Ordering::Relaxed) {
            return Vec::new();
        }
        std::mem::take(&mut *lock_log(&self.created.keys))
    }

    /// The keys removed on expiry since the last call, in the order each shard removed them
    /// (shard by shard): for `crate::expiry` to report. One atomic load when there are none.
    pub fn take_expired(&self) -> Vec<Bytes> {
        if self.pending.load(Ordering::Relaxed) == 0 {
            return Vec::new();
        }
        let mut keys = Vec::new();
        for i in 0..SHARDS {
            let mut shard = self.lock(i);
            if !shard.just_expired.is_empty() {
                let taken = std::mem::take(&mut shard.just_expired);
                self.pending.fetch_sub(taken.len(), Ordering::Relaxed);
                keys.extend(taken);
            }
        }
        keys
    }

    /// Removes the expired keys of shards `first..first + count` (modulo `SHARDS`) that may
    /// hold any: one step of the active expiry cycle (`crate::expiry`), which visits every
    /// shard in turn.
    pub fn purge_shards(&self, first: usize, count: usize, now: u64) {
        for i in first..first + count {
            let mut shard = self.lock(i % SHARDS);
            if shard.may_expire {
                shard.purge_expired(now);
            }
        }
    }

    /// CONFIG RESETSTAT: keyspace hits, misses and expired keys count from zero again.
    pub fn reset_stats(&self) {
        self.for_each_shard(|s| {
            s.hits = 0;
            s.misses = 0;
            s.expired = 0;
        });
    }

    /// Keys removed on expiry since the start (INFO expired_keys).
    pub fn expired_count(&self) -> u64 {
        self.for_each_shard(|s| s.expired).into_iter().sum()
    }

    /// Read lookups that found a key, and that did not (INFO keyspace_hits / misses).
    pub fn hits_and_misses(&self) -> (u64, u64) {
        self.for_each_shard(|s| (s.hits, s.misses))
            .into_iter()
            .fold((0, 0), |(h, m), (h2, m2)| (h + h2, m + m2))
    }

    /// Live keys, and how many of them have an expiry (INFO keyspace).
    pub fn counts(&self) -> (usize, usize) {
        let now = now_ms();
        self.for_each_shard(|s| {
            (
                s.purge_expired(now),
                s.map.values().filter(|e| e.expires_at.is_some()).count(),
            )
        })
        .into_iter()
        .fold((0, 0), |(k, e), (k2, e2)| (k + k2, e + e2))
    }

    /// An estimate of the bytes the keyspace holds: keys and values' payloads plus a fixed
    /// overhead per key and per element (INFO used_memory).
    pub fn memory_estimate(&self) -> usize {
        self.for_each_shard(|s| {
            s.map
                .iter()
                .map(|(k, e)| entry_estimate(k, e))
                .sum::<usize>()
        })
        .into_iter()
        .sum()
    }

    /// Drops every key (FLUSHDB); returns how many live keys there were.
    pub fn clear(&self) -> usize {
        let now = now_ms();
        self.for_each_shard(|s| s.clear(now)).into_iter().sum()
    }
}

/// Several shards locked together; see [`Db::lock_keys`].
pub struct LockedShards<'a> {
    guards: Vec<(usize, MutexGuard<'a, Shard>)>,
}

impl LockedShards<'_> {
    /// [`LockedShards::shard`], shared: several keys' entries can be borrowed at once.
    pub fn shard_ref(&self, key: &[u8]) -> Option<&Shard> {
        let index = Db::shard_index(key);
        self.guards
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, g)| &**g)
    }

    /// The locked shard holding `key` (`None` if `key` was not among those locked).
    pub fn shard(&mut self, key: &[u8]) -> Option<&mut Shard> {
        let index = Db::shard_index(key);
        self.guards
            .iter_mut()
            .find(|(i, _)| *i == index)
            .map(|(_, g)| &mut **g)
    }
}

/// Locks a created-keys log; a poisoned lock still yields the keys.
fn lock_log(log: &Mutex<Vec<Bytes>>) -> MutexGuard<'_, Vec<Bytes>> {
    log.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expiring(at: u64) -> Entry {
        Entry::expiring(Value::Str(Bytes::from_static(b"v")), Some(at))
    }

    #[test]
    fn every_removal_on_expiry_is_logged_once() {
        let db = Db::new();
        for key in ["a", "b", "c", "d", "e"] {
            db.shard(key.as_bytes())
                .insert(Bytes::from(key), expiring(10), 0);
        }
        assert!(db.take_expired().is_empty(), "nothing has expired yet");
        // Found by a read, a write's lookup, an overwrite, a removal, and a purge.
        assert!(db.shard(b"a").get(b"a", 20).is_none());
        assert!(db.shard(b"b").get_mut(b"b", 20).is_none());
        assert!(db
            .shard(b"c")
            .insert(Bytes::from("c"), Entry::new(Value::Str(Bytes::new())), 20)
            .is_none());
        assert!(db.shard(b"d").remove(b"d", 20).is_none());
        db.purge_shards(0, SHARDS, 20);
        let mut keys = db.take_expired();
        keys.sort();
        assert_eq!(keys, ["a", "b", "c", "d", "e"].map(Bytes::from));
        assert!(db.take_expired().is_empty());
        assert_eq!(db.expired_count(), 5);
        assert_eq!(db.hits_and_misses(), (0, 1));
        db.reset_stats();
        assert_eq!(db.expired_count(), 0);
        assert_eq!(db.hits_and_misses(), (0, 0));
    }

    #[test]
    fn the_active_cycle_finds_an_expiry_set_through_get_mut() {
        let db = Db::new();
        db.shard(b"a")
            .insert(Bytes::from("a"), Entry::new(Value::Str(Bytes::new())), 0);
        db.purge_shards(0, SHARDS, 20);
        assert!(!db.shard(b"a").may_expire, "no key has a time to live");
        if let Some(entry) = db.shard(b"a").get_mut(b"a", 0) {
            entry.expires_at = Some(10);
        }
        db.purge_shards(0, SHARDS, 20);
        assert_eq!(db.take_expired(), vec![Bytes::from("a")]);
        assert!(!db.shard(b"a").may_expire, "the purge found none left");
    }

    #[test]
    fn swapped_databases_take_their_logged_expiries_along() {
        let (one, two) = (Db::new(), Db::new());
        one.shard(b"k").insert(Bytes::from("k"), expiring(10), 0);
        assert!(one.shard(b"k").get(b"k", 20).is_none());
        one.swap_contents(&two);
        assert!(one.take_expired().is_empty());
        assert_eq!(two.take_expired(), vec![Bytes::from("k")]);
    }
}
