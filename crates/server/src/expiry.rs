//! Keys removed on expiry: the signals they send, and the active cycle that removes the ones
//! no command touches.
//!
//! Redis removes an expired key when a command looks it up, or when its active cycle
//! (`activeExpireCycle`, `hz` times a second) finds it; either way it sends the `expired`
//! keyspace event and invalidates the key for CLIENT TRACKING clients, as changed by no client
//! (`deleteExpiredKeyAndPropagate`). Here the keyspace logs every key it removes on expiry
//! (`Db::take_expired`); [`report`] sends those signals once the command that found the key is
//! done, and before any event of that command (`commands::events::notify` reports first, so
//! `expired` precedes the `set` of a SET that replaced an expired key, as in Redis), and
//! [`run_active_cycle`] removes the expired keys of a slice of every database on each tick.
//! WATCH is not signalled here: a watched key's expiry is judged by the time it had when
//! watched (`commands::watch`), which covers Redis's stale-key rules.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::clients::Client;
use crate::db::{now_ms, Db, SHARDS};
use crate::state::ServerState;

/// How often the active cycle runs: Redis's default `hz` of 10.
pub const ACTIVE_EXPIRE_INTERVAL: Duration = Duration::from_millis(100);

/// Shards of each database the active cycle visits per tick: every key is looked at once in
/// `SHARDS / ACTIVE_EXPIRE_SHARDS_PER_TICK` ticks (0.8 s), so a key nobody reads is gone
/// within about a second of its time, as with Redis. A visit holds one shard's lock for a
/// pass over its keys (1/64 of the database).
pub const ACTIVE_EXPIRE_SHARDS_PER_TICK: usize = 8;

/// Sends the signals of the keys database `db_index` (`db`) removed on expiry since the last
/// report: the `expired` keyspace event and the CLIENT TRACKING invalidations, those for
/// `me` (the client whose command found the keys) held until its reply is out.
/// While a replica reads the stream, their deletions are noted for it (see
/// [`crate::replication::Replication::note_expired`]).
pub fn report(server: &ServerState, db_index: usize, db: &Db, me: Option<&Client>) {
    let keys = db.take_expired();
    if keys.is_empty() {
        return;
    }
    if server.replication.active() {
        server.replication.note_expired(db_index, &keys);
    }
    let hub = &server.hub;
    let index = i64::try_from(db_index).unwrap_or(i64::MAX);
    for key in &keys {
        crate::notify::notify_keyspace_event(hub, crate::notify::EXPIRED, "expired", key, index);
        crate::tracking::invalidate_as_server(hub, key, me);
    }
}

/// The active expiry cycle of `server`, until the server is gone or `stop` turns true: every
/// [`ACTIVE_EXPIRE_INTERVAL`], unless DEBUG SET-ACTIVE-EXPIRE 0 paused it, removes the expired
/// keys of the next [`ACTIVE_EXPIRE_SHARDS_PER_TICK`] shards of every database and reports
/// them. Holds the server weakly, so it never keeps a stopped server alive.
pub async fn run_active_cycle(server: Weak<ServerState>, stop: tokio::sync::watch::Receiver<bool>) {
    let mut next = 0;
    crate::state::every(ACTIVE_EXPIRE_INTERVAL, server, stop, |server| {
        if server.active_expire.load(Ordering::Relaxed) {
            cycle_step(server, next);
            next = (next + ACTIVE_EXPIRE_SHARDS_PER_TICK) % SHARDS;
        }
    })
    .await;
}

/// One tick of the cycle: shards `first..first + ACTIVE_EXPIRE_SHARDS_PER_TICK` of every
/// database, under the server's shared gate (as a command runs, so never inside an EXEC or
/// a SWAPDB).
fn cycle_step(server: &Arc<ServerState>, first: usize) {
    {
        // A script or EXEC holding the gate: skip this tick rather than block a runtime
        // thread on it (the other connections must be answered BUSY meanwhile).
        let Some(_gate) = server.try_shared() else {
            return;
        };
        let now = now_ms();
        for (index, db) in server.dbs().iter().enumerate() {
            db.purge_shards(first, ACTIVE_EXPIRE_SHARDS_PER_TICK, now);
            report(server, index, db, None);
        }
        // Each deletion of the cycle is its own unit of the replication stream, as Redis's
        // active expiry propagates them one by one.
        for op in server.replication.take_expired() {
            server.replication.feed(std::slice::from_ref(&op), false);
        }
    }
    // What the tick removed goes to BCAST clients now, as Redis's beforeSleep sends it (the
    // flush takes the gate itself, exclusively).
    crate::tracking::flush_broadcasts(server);
}
