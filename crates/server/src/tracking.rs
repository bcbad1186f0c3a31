//! Client-side caching (CLIENT TRACKING): which clients may hold which keys, and the
//! `invalidate` messages sent when a key changes.
//!
//! Default mode: the keys a tracking client reads (read-only commands) are remembered; the
//! first change to one sends it one invalidation and forgets it. BCAST mode: every change to
//! a key under one of its prefixes (all keys without a prefix) is sent. OPTIN / OPTOUT with
//! CLIENT CACHING choose which reads are remembered, NOLOOP skips the client's own changes,
//! REDIRECT sends to another client: as a RESP3 push (`>2 invalidate [keys]`), or to a RESP2
//! client subscribed to `__redis__:invalidate` as a message on that channel.
//!
//! [`invalidate_key`] is the one entry for a changed key: `commands::watch::signal_modified`
//! (Redis's `signalModifiedKey`, for every key a write changed) and `crate::expiry` (a key
//! removed on expiry) call it. A client's own invalidations go out after its reply, as Redis
//! 7.0 sends them.
//!
//! BCAST invalidations are batched as Redis batches them: a changed key is remembered (with
//! the client that changed it last, for NOLOOP) and [`flush_broadcasts`] sends each BCAST
//! client one message per prefix with every key changed under it, keys in byte order (Redis's
//! `trackingBroadcastInvalidationMessages`, run before the event loop sleeps). A connection
//! flushes when it has run every command it had read, so an MSET, an EXEC or a pipeline read
//! in one go is one message per prefix.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use bytes::Bytes;
use indexmap::{IndexMap, IndexSet};
use respect_resp::Frame;

use crate::clients::{lock, Client, Hub};

/// The channel RESP2 clients receive invalidations on when another client redirects to them.
pub const INVALIDATE_CHANNEL: &str = "__redis__:invalidate";

/// One client's CLIENT TRACKING settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// BCAST.
    pub bcast: bool,
    /// OPTIN.
    pub optin: bool,
    /// OPTOUT.
    pub optout: bool,
    /// NOLOOP.
    pub noloop: bool,
    /// REDIRECT (0: none).
    pub redirect: u64,
    /// PREFIX, in the order given (BCAST).
    pub prefixes: Vec<Bytes>,
    /// CLIENT CACHING YES (OPTIN) or NO (OPTOUT) given for the next command.
    pub caching: bool,
    /// The redirect target has gone.
    pub broken_redirect: bool,
}

#[derive(Debug, Default)]
struct Table {
    /// Key -> ids of the clients that may cache it (default mode). Indexed, so a key can be
    /// evicted in O(1) when the table is full (see [`MAX_TRACKED_KEYS`]).
    keys: IndexMap<Bytes, IndexSet<u64>, ahash::RandomState>,
    /// Id -> settings, for every client with tracking on.
    clients: HashMap<u64, Settings, ahash::RandomState>,
    /// The prefixes of the clients in BCAST mode (the empty prefix for one without any), with
    /// how many clients have each: Redis's `PrefixTable`. A changed key is remembered when it
    /// starts with one, looked up without going through every tracking client.
    bcast_prefixes: BTreeMap<Bytes, usize>,
    /// Keys changed under some BCAST client's prefix since the last [`flush_broadcasts`], each
    /// with the id of the client that changed it last ([`SERVER`] for an expiry), in byte
    /// order as Redis's radix tree keeps them.
    changed: BTreeMap<Bytes, u64>,
}

/// The changer of a key the server itself removed (an expiry): no client, so NOLOOP never
/// hides it (client ids start at 1).
pub const SERVER: u64 = 0;

/// Most keys the tracking table remembers: Redis's `tracking-table-max-keys` default. The
/// table grows with every distinct key a tracking client reads (missing keys too), and an
/// entry outlives the client that read it until the key changes; past this bound a key is
/// forgotten and its clients are told to drop it, as Redis's `trackingLimitUsedSlots` does.
pub const MAX_TRACKED_KEYS: usize = 1_000_000;

/// The server's tracking table.
#[derive(Debug)]
pub struct Tracking {
    table: Mutex<Table>,
    /// Clients with tracking on: writes cost one atomic load when none is.
    tracking: AtomicUsize,
    /// `tracking-table-max-keys` (0: no bound); see [`MAX_TRACKED_KEYS`].
    max_keys: AtomicUsize,
}

impl Default for Tracking {
    fn default() -> Self {
        Tracking {
            table: Mutex::default(),
            tracking: AtomicUsize::new(0),
            max_keys: AtomicUsize::new(MAX_TRACKED_KEYS),
        }
    }
}

impl Tracking {
    /// Turns tracking on for `id` (or updates its settings).
    pub fn enable(&self, id: u64, settings: Settings) {
        let mut t = lock(&self.table);
        let new_prefixes = bcast_prefixes_of(&settings);
        match t.clients.insert(id, settings) {
            None => {
                self.tracking.fetch_add(1, Ordering::Relaxed);
            }
            Some(old) => forget_prefixes(&mut t, &old),
        }
        for prefix in new_prefixes {
            *t.bcast_prefixes.entry(prefix).or_default() += 1;
        }
    }

    /// Turns tracking off for `id` (also when the client goes).
    pub fn disable(&self, id: u64) {
        let mut t = lock(&self.table);
        if let Some(old) = t.clients.remove(&id) {
            self.tracking.fetch_sub(1, Ordering::Relaxed);
            forget_prefixes(&mut t, &old);
        }
    }

    /// Whether any client has tracking on.
    pub fn active(&self) -> bool {
        self.tracking.load(Ordering::Relaxed) > 0
    }

    /// `id`'s settings, when tracking is on.
    pub fn settings(&self, id: u64) -> Option<Settings> {
        if self.tracking.load(Ordering::Relaxed) == 0 {
            return None;
        }
        lock(&self.table).clients.get(&id).cloned()
    }

    /// Changes `id`'s settings in place (CLIENT CACHING); false when tracking is off.
    pub fn update(&self, id: u64, f: impl FnOnce(&mut Settings)) -> bool {
        match lock(&self.table).clients.get_mut(&id) {
            Some(s) => {
                f(s);
                true
            }
            None => false,
        }
    }

    /// After a read-only command of client `id`: remembers `keys` for it, unless OPTIN /
    /// OPTOUT and CLIENT CACHING say otherwise, or it is in BCAST mode. Returns the keys
    /// evicted to stay within [`MAX_TRACKED_KEYS`], with the clients to invalidate them for.
    #[must_use]
    pub fn remember(&self, id: u64, keys: &[&Bytes]) -> Vec<(Bytes, IndexSet<u64>)> {
        let mut evicted = Vec::new();
        if self.tracking.load(Ordering::Relaxed) == 0 || keys.is_empty() {
            return evicted;
        }
        let mut t = lock(&self.table);
        let Some(s) = t.clients.get(&id) else {
            return evicted;
        };
        if s.bcast || (s.optin && !s.caching) || (s.optout && s.caching) {
            return evicted;
        }
        for key in keys {
            t.keys.entry((*key).clone()).or_default().insert(id);
        }
        trim(&mut t, self.max_keys.load(Ordering::Relaxed), &mut evicted);
        evicted
    }

    /// INFO's `tracking_total_keys`, `tracking_total_items` (a key counted once per client
    /// that may cache it) and `tracking_total_prefixes`.
    pub fn totals(&self) -> (usize, usize, usize) {
        let t = lock(&self.table);
        let items = t.keys.values().map(IndexSet::len).sum();
        (t.keys.len(), items, t.bcast_prefixes.len())
    }

    /// INFO's `tracking_clients`: clients with tracking on.
    pub fn clients(&self) -> usize {
        self.tracking.load(Ordering::Relaxed)
    }

    /// CONFIG SET tracking-table-max-keys: the new bound (0: none), and the keys forgotten
    /// at once to fit it (Redis forgets them over its next cron runs), with their clients,
    /// who must be told to drop them.
    pub fn set_max_keys(&self, max: usize) -> Vec<(Bytes, IndexSet<u64>)> {
        self.max_keys.store(max, Ordering::Relaxed);
        let mut evicted = Vec::new();
        if self.tracking.load(Ordering::Relaxed) != 0 || max != 0 {
            trim(&mut lock(&self.table), max, &mut evicted);
        }
        evicted
    }

    /// Clears a pending CLIENT CACHING after any command but CLIENT's own.
    pub fn command_done(&self, id: u64) {
        if self.tracking.load(Ordering::Relaxed) == 0 {
            return;
        }
        if let Some(s) = lock(&self.table).clients.get_mut(&id) {
            s.caching = false;
        }
    }
}

/// Forgets keys until at most `max` are left (0: no bound), each with its clients.
fn trim(t: &mut Table, max: usize, evicted: &mut Vec<(Bytes, IndexSet<u64>)>) {
    if max == 0 {
        return;
    }
    while t.keys.len() > max {
        // The first entry: after earlier swap-removals, an arbitrary one, as Redis picks a
        // random key.
        match t.keys.swap_remove_index(0) {
            Some(entry) => evicted.push(entry),
            None => break,
        }
    }
}

/// The prefixes a client's settings put in the BCAST prefix table (none outside BCAST).
fn bcast_prefixes_of(s: &Settings) -> Vec<Bytes> {
    match (s.bcast, s.prefixes.is_empty()) {
        (false, _) => Vec::new(),
        (true, true) => vec![Bytes::new()],
        (true, false) => s.prefixes.clone(),
    }
}

/// Takes a client's old settings out of the BCAST prefix table; with the last BCAST client
/// gone, the keys waiting for one go too.
fn forget_prefixes(t: &mut Table, old: &Settings) {
    for prefix in bcast_prefixes_of(old) {
        if let Some(n) = t.bcast_prefixes.get_mut(&prefix) {
            *n -= 1;
            if *n == 0 {
                t.bcast_prefixes.remove(&prefix);
            }
        }
    }
    if t.bcast_prefixes.is_empty() {
        t.changed.clear();
    }
}

/// `key` changed by no client (it expired, or was evicted): its trackers are told; what is
/// owed to `me`, the client whose command made it happen, is deferred to follow its reply.
pub(crate) fn invalidate_as_server(hub: &Hub, key: &Bytes, me: Option<&crate::clients::Client>) {
    if !hub.tracking.active() {
        return;
    }
    let me_id = me.map_or(SERVER, |c| c.id);
    let mine = invalidate_key(hub, key, SERVER, me_id);
    if let Some(me) = me {
        for (_, frame) in mine {
            me.defer(frame);
        }
    }
}

/// `key` was changed by client `by` ([`SERVER`] for an expiry) during a command of client
/// `me` (the same client for a write): sends the invalidations it causes to default-mode
/// clients, and remembers it for BCAST clients ([`flush_broadcasts`]). Those for `me` are
/// returned instead, to be sent after its reply ([`send_invalidation`]).
pub fn invalidate_key(hub: &Hub, key: &Bytes, by: u64, me: u64) -> Vec<(u64, Frame)> {
    let tracking = &hub.tracking;
    if tracking.tracking.load(Ordering::Relaxed) == 0 {
        return Vec::new();
    }
    let mut targets: Vec<u64> = Vec::new();
    {
        let mut t = lock(&tracking.table);
        let ids = t.keys.swap_remove(key).unwrap_or_default();
        for id in ids {
            let Some(s) = t.clients.get(&id) else {
                continue;
            };
            if s.bcast || (s.noloop && id == by) {
                continue;
            }
            targets.push(id);
        }
        if t.bcast_prefixes.keys().any(|p| key.starts_with(p)) {
            t.changed.insert(key.clone(), by);
        }
    }
    let keys = Frame::Array(vec![Frame::Bulk(key.clone())]);
    let mut mine = Vec::new();
    for id in targets {
        if id == me {
            mine.push((id, keys.clone()));
        } else {
            send_invalidation(hub, id, keys.clone());
        }
    }
    mine
}

/// Sends every BCAST client the keys changed under its prefixes since the last call: one
/// message per prefix (in byte order of the prefixes), keys in byte order, without the keys a
/// NOLOOP client changed last itself; a prefix with no such key sends nothing.
///
/// It runs between commands, never inside one: the server's gate is taken exclusively first
/// (only when some change waits), so no EXEC stands between two of its writes and no MSET
/// between two of its keys while the keys go out. (Without it, a flush from another
/// connection could split an EXEC's keys over two messages: CI saw it.)
pub fn flush_broadcasts(server: &crate::state::ServerState) {
    let hub = &server.hub;
    let tracking = &hub.tracking;
    if tracking.tracking.load(Ordering::Relaxed) == 0 || lock(&tracking.table).changed.is_empty() {
        return;
    }
    let _gate = server.exclusive();
    let (changed, clients) = {
        let mut t = lock(&tracking.table);
        if t.changed.is_empty() {
            return;
        }
        let changed = std::mem::take(&mut t.changed);
        let clients: Vec<(u64, bool, Vec<Bytes>)> = t
            .clients
            .iter()
            .filter(|(_, s)| s.bcast)
            .map(|(id, s)| (*id, s.noloop, bcast_prefixes_of(s)))
            .collect();
        (changed, clients)
    };
    for (id, noloop, mut prefixes) in clients {
        prefixes.sort();
        for prefix in prefixes {
            let keys: Vec<Frame> = changed
                .range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .filter(|(_, by)| !(noloop && **by == id))
                .map(|(k, _)| Frame::Bulk(k.clone()))
                .collect();
            if !keys.is_empty() {
                send_invalidation(hub, id, Frame::Array(keys));
            }
        }
    }
}

/// FLUSHDB / FLUSHALL: every tracking client is told to drop everything (a null key list),
/// and the table forgets every key.
pub fn invalidate_all(hub: &Hub, by: u64) -> Vec<(u64, Frame)> {
    let tracking = &hub.tracking;
    let ids: Vec<u64> = {
        // The table goes even when nobody tracks now: entries outlive the clients that
        // turned tracking off, and Redis frees the whole table on a flush.
        let mut t = lock(&tracking.table);
        t.keys.clear();
        if tracking.tracking.load(Ordering::Relaxed) == 0 {
            return Vec::new();
        }
        t.clients.keys().copied().collect()
    };
    let mut mine = Vec::new();
    for id in ids {
        if id == by {
            mine.push((id, Frame::Null));
        } else {
            send_invalidation(hub, id, Frame::Null);
        }
    }
    mine
}

/// Sends the invalidations of `client`'s own changes held until its reply was out
/// ([`Client::defer`]): after a command's reply, whichever way the reply went (written by its
/// connection, or queued when a blocked command was served on its behalf).
pub fn send_deferred(hub: &Hub, client: &Client) {
    if !hub.tracking.active() {
        return;
    }
    for keys in client.take_deferred() {
        send_invalidation(hub, client.id, keys);
    }
}

/// Sends one invalidation for tracking client `id`: to its redirect target if it has one
/// (a RESP2 target only when subscribed, on [`INVALIDATE_CHANNEL`]), else to itself when it
/// speaks RESP3; a RESP2 client without redirect gets nothing, as in Redis.
pub fn send_invalidation(hub: &Hub, id: u64, keys: Frame) {
    let Some(settings) = hub.tracking.settings(id) else {
        return;
    };
    // Another client's writes fill this outbox, so it is bounded like a subscriber's: a
    // tracking client that stops reading while keys keep changing (BCAST: every write) is
    // disconnected rather than growing without end.
    let limit = hub.pubsub_limit;
    let (target, redirected) = if settings.redirect != 0 {
        match hub.get(settings.redirect) {
            Some(t) => (t, true),
            None => {
                hub.tracking.update(id, |s| s.broken_redirect = true);
                if let Some(me) = hub.get(id).filter(|c| lock(&c.info).resp == 3) {
                    me.push(
                        Frame::Push(vec![
                            Frame::Bulk(Bytes::from_static(b"tracking-redir-broken")),
                            Frame::Integer(i64::try_from(settings.redirect).unwrap_or(i64::MAX)),
                        ]),
                        limit,
                    );
                }
                return;
            }
        }
    } else {
        match hub.get(id) {
            Some(t) => (t, false),
            None => return,
        }
    };
    let resp3 = lock(&target.info).resp == 3;
    let frame = if resp3 {
        Frame::Push(vec![Frame::Bulk(Bytes::from_static(b"invalidate")), keys])
    } else if redirected && target.is_subscribed() {
        // RESP2's null key list is the null bulk string, as Redis writes it.
        let keys = if keys == Frame::Null {
            Frame::NullBulk
        } else {
            keys
        };
        Frame::Push(vec![
            Frame::Bulk(Bytes::from_static(b"message")),
            Frame::Bulk(Bytes::from_static(INVALIDATE_CHANNEL.as_bytes())),
            keys,
        ])
    } else {
        return;
    };
    target.push(frame, limit);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bcast_prefix_table_follows_clients_in_and_out() {
        let tracking = Tracking::default();
        let bcast = |prefixes: &[&str]| Settings {
            bcast: true,
            prefixes: prefixes
                .iter()
                .map(|p| Bytes::from(p.to_string()))
                .collect(),
            ..Settings::default()
        };
        let table = |t: &Tracking| -> Vec<(String, usize)> {
            lock(&t.table)
                .bcast_prefixes
                .iter()
                .map(|(p, n)| (String::from_utf8_lossy(p).into_owned(), *n))
                .collect()
        };
        tracking.enable(1, bcast(&["a", "b"]));
        tracking.enable(2, bcast(&["a"]));
        tracking.enable(3, Settings::default());
        assert_eq!(table(&tracking), [("a".into(), 2), ("b".into(), 1)]);
        // New settings replace the old ones' prefixes.
        tracking.enable(1, bcast(&[]));
        assert_eq!(table(&tracking), [("".into(), 1), ("a".into(), 1)]);
        lock(&tracking.table).changed.insert(Bytes::from("k"), 1);
        tracking.disable(1);
        tracking.disable(2);
        assert!(table(&tracking).is_empty());
        assert!(
            lock(&tracking.table).changed.is_empty(),
            "no BCAST client is left to send them to"
        );
    }

    #[test]
    fn a_full_table_evicts_keys_for_invalidation() {
        let tracking = Tracking::default();
        assert!(tracking.set_max_keys(2).is_empty());
        tracking.enable(1, Settings::default());
        let (a, b, c) = (Bytes::from("a"), Bytes::from("b"), Bytes::from("c"));
        assert!(tracking.remember(1, &[&a, &b]).is_empty());
        let evicted = tracking.remember(1, &[&c]);
        assert_eq!(evicted.len(), 1);
        let (key, ids) = &evicted[0];
        assert!(key == &a || key == &b);
        assert_eq!(ids.iter().copied().collect::<Vec<_>>(), vec![1]);
        assert_eq!(lock(&tracking.table).keys.len(), 2);
        assert!(lock(&tracking.table).keys.contains_key(&c));
    }
}
