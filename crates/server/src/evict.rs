//! Keys deleted to stay under `maxmemory`: Redis's `performEvictions` (evict.c).
//!
//! Before each command, when `maxmemory` is set and the memory estimate is over it, and the
//! `maxmemory-policy` is not `noeviction`, [`perform`] deletes keys until the estimate is under
//! the limit or nothing the policy allows is left; CONFIG SET maxmemory does the same at once.
//! The pick follows Redis's policies, over all databases: a random key (`allkeys-random`, or
//! among keys with a TTL for `volatile-random`, the databases taken in turn), or the best of
//! a pool filled with `maxmemory-samples` keys sampled from each database: the idlest
//! (`*-lru`), the least often used (`*-lfu`, by the decayed LFU counter) or the soonest to
//! expire (`volatile-ttl`). `volatile-*` never picks a key without a TTL.
//!
//! Each evicted key is deleted as a DEL deletes it (WATCH and CLIENT TRACKING are signalled,
//! as by no client, as Redis's `signalModifiedKey(NULL, ...)`), sends the `evicted` keyspace
//! event, goes to replicas as `DEL key` (each its own unit, as Redis's eviction propagates
//! without MULTI), and counts in INFO evicted_keys. The memory estimate is only refreshed
//! every [`crate::state::MEMORY_ESTIMATE_INTERVAL`]; each deletion takes the key's estimate
//! off it, so a stale number does not make the loop evict everything.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;

use crate::db::{now_ms, Sampled, SHARDS};
use crate::replication::Op;
use crate::state::ServerState;

/// Redis's `EVPOOL_SIZE`: the best candidates kept between sampling rounds.
const POOL_SIZE: usize = 16;

/// What a `maxmemory-policy` evicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pick {
    Random,
    Lru,
    Lfu,
    Ttl,
}

/// `maxmemory-policy` as [`crate::commands::settings::Settings::eviction_policy`] holds it,
/// parsed once when it is set: 0 is `noeviction` (and any name this server does not know).
pub(crate) fn policy_code(name: &str) -> u8 {
    match name {
        "allkeys-random" => 1,
        "volatile-random" => 2,
        "allkeys-lru" => 3,
        "volatile-lru" => 4,
        "allkeys-lfu" => 5,
        "volatile-lfu" => 6,
        "volatile-ttl" => 7,
        _ => 0,
    }
}

/// The policy's pick, and whether only keys with a TTL may go; `None` for `noeviction`.
fn policy(code: u8) -> Option<(Pick, bool)> {
    Some(match code {
        1 => (Pick::Random, false),
        2 => (Pick::Random, true),
        3 => (Pick::Lru, false),
        4 => (Pick::Lru, true),
        5 => (Pick::Lfu, false),
        6 => (Pick::Lfu, true),
        7 => (Pick::Ttl, true),
        _ => return None,
    })
}

/// What an eviction pass needs, when one is due: the limit, the policy's pick and whether
/// only keys with a TTL may go. `None` (nothing to do) without a limit, under `noeviction`,
/// on a replica (it keeps its master's keys: Redis's default `replica-ignore-maxmemory
/// yes`) or under the limit. Atomic loads first; the memory estimate last.
fn due(server: &ServerState) -> Option<(u64, Pick, bool)> {
    let limit = server.settings.maxmemory.load(Ordering::Relaxed);
    if limit == 0 {
        return None;
    }
    let (pick, volatile) = policy(server.settings.eviction_policy.load(Ordering::Relaxed))?;
    if server.replication.is_replica() || !server.out_of_memory() {
        return None;
    }
    Some((limit, pick, volatile))
}

/// Before a command runs: evicts when over `maxmemory` (see the module documentation).
/// Tracking clients are told at once, the one about to run its command included: Redis
/// evicts in `processCommand`, so the invalidation precedes that command's reply. One atomic load when `maxmemory` is 0. Takes the server's gate shared; a
/// command holding it alone (EXEC, a script) makes this call skip, as Redis does not evict
/// inside them either.
pub(crate) fn perform(server: &ServerState) {
    let Some(due) = due(server) else {
        return;
    };
    let Some(_gate) = server.try_shared() else {
        return;
    };
    evict(server, due);
}

/// [`perform`] for a caller that already holds the gate (CONFIG SET maxmemory).
pub(crate) fn perform_locked(server: &ServerState) {
    if let Some(due) = due(server) {
        evict(server, due);
    }
}

/// Deletes keys by the policy until the estimate is under `limit` or nothing may go.
fn evict(server: &ServerState, (limit, pick, volatile): (u64, Pick, bool)) {
    let samples = usize::try_from(server.settings.maxmemory_samples.load(Ordering::Relaxed))
        .unwrap_or(5)
        .max(1);
    let mut pool: Vec<(u64, usize, Bytes)> = Vec::with_capacity(POOL_SIZE + samples);
    let mut ops = Vec::new();
    while server.memory_estimate_now() > limit {
        let now = now_ms();
        let victim = match pick {
            Pick::Random => random_victim(server, now, volatile),
            _ => pooled_victim(server, now, pick, volatile, samples, &mut pool),
        };
        let Some((index, key)) = victim else {
            break;
        };
        let Some(db) = server.db(index) else {
            break;
        };
        let Some(entry) = db.shard(&key).remove(&key, now) else {
            continue;
        };
        server.forget_memory(crate::db::entry_estimate(&key, &entry));
        drop(entry);
        server.stats.count_evicted();
        signal(server, index, &key);
        if server.replication.active() {
            ops.push(Op::new(index, vec![Bytes::from_static(b"DEL"), key]));
        }
    }
    // Not wrapped: each DEL is its own unit, as Redis's evictions propagate.
    server.replication.feed(&ops, false);
}

/// What Redis does for an evicted key: `signalModifiedKey(NULL, ...)`, the `evicted` event.
fn signal(server: &ServerState, index: usize, key: &Bytes) {
    if server.watches.is_active() {
        server.watches.touch(index, key);
    }
    let hub = &server.hub;
    crate::tracking::invalidate_as_server(hub, key, None);
    let db = i64::try_from(index).unwrap_or(i64::MAX);
    crate::notify::notify_keyspace_event(hub, crate::notify::EVICTED, "evicted", key, db);
}

/// The databases the random policies start from, in turn (Redis's `next_db`).
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

/// `allkeys-random` / `volatile-random`: a random key of the next database that has one.
fn random_victim(server: &ServerState, now: u64, volatile: bool) -> Option<(usize, Bytes)> {
    let dbs = server.dbs();
    let mut found = Vec::with_capacity(1);
    for _ in 0..dbs.len() {
        let index = NEXT_DB.fetch_add(1, Ordering::Relaxed) % dbs.len();
        let db = dbs.get(index)?;
        let first = random() as usize;
        for i in 0..SHARDS {
            db.shard_at(first.wrapping_add(i) % SHARDS).sample(
                now,
                random() as usize,
                1,
                volatile,
                &mut found,
            );
            if let Some(s) = found.pop() {
                return Some((index, s.key));
            }
        }
    }
    None
}

/// The LRU, LFU and TTL policies: fills `pool` (kept sorted, best last) with `samples` keys
/// of each database, as `evictionPoolPopulate`, and takes the best one still there.
fn pooled_victim(
    server: &ServerState,
    now: u64,
    pick: Pick,
    volatile: bool,
    samples: usize,
    pool: &mut Vec<(u64, usize, Bytes)>,
) -> Option<(usize, Bytes)> {
    loop {
        let mut any = false;
        let mut sampled = Vec::with_capacity(samples);
        for (index, db) in server.dbs().iter().enumerate() {
            sampled.clear();
            let first = random() as usize;
            for i in 0..SHARDS {
                let want = samples - sampled.len();
                if want == 0 {
                    break;
                }
                db.shard_at(first.wrapping_add(i) % SHARDS).sample(
                    now,
                    random() as usize,
                    want,
                    volatile,
                    &mut sampled,
                );
            }
            any |= !sampled.is_empty();
            for s in sampled.drain(..) {
                let score = score(pick, &s, now);
                if pool.iter().any(|(_, i, k)| *i == index && *k == s.key) {
                    continue;
                }
                pool.push((score, index, s.key));
            }
        }
        if !any {
            return None;
        }
        pool.sort_by_key(|(score, _, _)| *score);
        if pool.len() > POOL_SIZE {
            pool.drain(..pool.len() - POOL_SIZE);
        }
        // Best to worst; a key gone since it was pooled (a ghost) is skipped.
        while let Some((_, index, key)) = pool.pop() {
            let live = server.db(index).is_some_and(|db| {
                db.shard(&key)
                    .peek(&key, now)
                    .is_some_and(|e| !volatile || e.expires_at.is_some())
            });
            if live {
                return Some((index, key));
            }
        }
    }
}

/// How much a key deserves eviction, higher first (Redis's pool `idle`).
fn score(pick: Pick, s: &Sampled, now: u64) -> u64 {
    match pick {
        Pick::Lfu => 255 - u64::from(crate::access::frequency(s.access, now).min(255)),
        Pick::Ttl => u64::MAX - s.expires_at.unwrap_or(u64::MAX),
        // (The random policies take no pool: `Pick::Random` never gets here.)
        Pick::Lru | Pick::Random => crate::access::idle_seconds(s.access, now),
    }
}

thread_local! {
    static RANDOM: Cell<u64> = Cell::new(0x2545_f491_4f6c_dd1d ^ now_ms());
}

/// A cheap xorshift generator: which shard and where in it to sample (nothing secret).
fn random() -> u64 {
    RANDOM.with(|r| {
        let mut x = r.get().max(1);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        r.set(x);
        x
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_and_noeviction_evicts_nothing() {
        assert_eq!(policy(policy_code("noeviction")), None);
        assert_eq!(policy(policy_code("volatile-ttl")), Some((Pick::Ttl, true)));
        assert_eq!(policy(policy_code("allkeys-lfu")), Some((Pick::Lfu, false)));
        assert_eq!(
            policy(policy_code("volatile-random")),
            Some((Pick::Random, true))
        );
        assert_eq!(policy(policy_code("bogus")), None);
    }

    #[test]
    fn the_soonest_expiry_and_the_idlest_score_highest() {
        let now = 1_000_000_000;
        let soon = Sampled {
            key: Bytes::from("a"),
            access: 0,
            expires_at: Some(now + 10),
        };
        let later = Sampled {
            expires_at: Some(now + 1000),
            ..soon.clone()
        };
        assert!(score(Pick::Ttl, &soon, now) > score(Pick::Ttl, &later, now));
        let old = Sampled {
            access: crate::access::lru_clock(now - 50_000),
            ..soon.clone()
        };
        let fresh = Sampled {
            access: crate::access::lru_clock(now),
            ..soon
        };
        assert!(score(Pick::Lru, &old, now) > score(Pick::Lru, &fresh, now));
    }
}
