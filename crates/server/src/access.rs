//! When each key was last used, or how often (Redis's 24-bit `robj->lru`): OBJECT IDLETIME
//! and FREQ, RESTORE's IDLETIME and FREQ, and the RDB file's idle and frequency records.
//!
//! Every lookup of a key stamps it (Redis's `lookupKey`), except the introspection commands'
//! (OBJECT, DEBUG OBJECT), which look without touching. With an LRU or any non-LFU policy the
//! stamp is the LRU clock (Unix seconds, 24 bits); with an LFU `maxmemory-policy` it is the
//! minutes clock (16 bits) above a logarithmic access counter (8 bits) that decays by one every
//! `lfu-decay-time` minutes, as `evict.c` keeps it. The stamp lives in the entry (4 bytes) and
//! costs no clock read: it is taken from the command's batch time.

use std::cell::Cell;

/// Redis's `LRU_CLOCK_MAX`: the LRU clock wraps at 24 bits (194 days of seconds).
pub const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;
/// Redis's `LFU_INIT_VAL`: a new key's counter, so it is not evicted at once.
pub const LFU_INIT_VAL: u32 = 5;
/// Redis's default `lfu-log-factor`.
pub const DEFAULT_LFU_LOG_FACTOR: u64 = 10;
/// Redis's default `lfu-decay-time` (minutes).
pub const DEFAULT_LFU_DECAY_TIME: u64 = 1;

/// The LRU clock at `now_ms` (`getLRUClock`: seconds, 24 bits).
pub fn lru_clock(now_ms: u64) -> u32 {
    ((now_ms / 1000) & u64::from(LRU_CLOCK_MAX)) as u32
}

/// The LFU minutes clock at `now_ms` (`LFUGetTimeInMinutes`: 16 bits).
fn minutes(now_ms: u64) -> u32 {
    ((now_ms / 60_000) & 65535) as u32
}

/// The stamp of a key created at `now_ms` (`createObject`).
pub fn fresh(now_ms: u64) -> u32 {
    if crate::encoding::current().lfu() {
        (minutes(now_ms) << 8) | LFU_INIT_VAL
    } else {
        lru_clock(now_ms)
    }
}

/// A lookup's update (`lookupKey`: `updateLFU` or the LRU clock).
pub fn touch(stamp: &mut u32, now_ms: u64) {
    let policy = crate::encoding::current();
    if policy.lfu() {
        let counter = log_incr(frequency(*stamp, now_ms), policy.lfu_log_factor());
        *stamp = (minutes(now_ms) << 8) | counter;
    } else {
        *stamp = lru_clock(now_ms);
    }
}

/// OBJECT IDLETIME's seconds (`estimateObjectIdleTime`, the clock's wrap allowed for).
pub fn idle_seconds(stamp: u32, now_ms: u64) -> u64 {
    let clock = lru_clock(now_ms);
    let stamp = stamp & LRU_CLOCK_MAX;
    if clock >= stamp {
        u64::from(clock - stamp)
    } else {
        u64::from(clock) + u64::from(LRU_CLOCK_MAX - stamp)
    }
}

/// OBJECT FREQ's counter, decayed by the minutes since the last access (`LFUDecrAndReturn`).
pub fn frequency(stamp: u32, now_ms: u64) -> u32 {
    let last = stamp >> 8;
    let counter = stamp & 255;
    let now = minutes(now_ms);
    let elapsed = if now >= last {
        now - last
    } else {
        65535 - last + now
    };
    let decay = crate::encoding::current().lfu_decay_time();
    let periods = if decay == 0 {
        0
    } else {
        elapsed / u32::try_from(decay).unwrap_or(u32::MAX)
    };
    counter.saturating_sub(periods)
}

/// The stamp RESTORE's IDLETIME or the RDB idle record gives (`objectSetLRUOrLFU`): the LRU
/// clock `seconds` ago (ignored under an LFU policy, as Redis ignores it).
pub fn idle_for(stamp: &mut u32, seconds: u64, now_ms: u64) {
    if crate::encoding::current().lfu() {
        return;
    }
    let clock = i64::from(lru_clock(now_ms));
    let back = i64::try_from(seconds).unwrap_or(i64::MAX);
    let mut at = clock.saturating_sub(back);
    if at < 0 {
        at += i64::from(LRU_CLOCK_MAX);
    }
    *stamp = u32::try_from(at.clamp(0, i64::from(LRU_CLOCK_MAX))).unwrap_or(0);
}

/// The stamp RESTORE's FREQ or the RDB frequency record gives: the counter as of now (ignored
/// under a non-LFU policy, as Redis ignores it).
pub fn frequency_of(stamp: &mut u32, counter: u8, now_ms: u64) {
    if crate::encoding::current().lfu() {
        *stamp = (minutes(now_ms) << 8) | u32::from(counter);
    }
}

thread_local! {
    /// A cheap generator for the counter's coin flips (xorshift; not for anything secret).
    static RANDOM: Cell<u64> = Cell::new(0x9e37_79b9_7f4a_7c15 ^ std::process::id() as u64);
}

fn random_unit() -> f64 {
    RANDOM.with(|r| {
        let mut x = r.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        r.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

/// `LFULogIncr`: the counter grows by one with probability 1 / ((counter - 5) * factor + 1).
fn log_incr(counter: u32, factor: usize) -> u32 {
    if counter >= 255 {
        return 255;
    }
    let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
    let p = 1.0 / (base * factor as f64 + 1.0);
    if random_unit() < p {
        counter + 1
    } else {
        counter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_time_allows_for_the_clock_wrap() {
        let now = 1_000_000_000;
        let mut stamp = fresh(now);
        assert_eq!(idle_seconds(stamp, now), 0);
        assert_eq!(idle_seconds(stamp, now + 5_000), 5);
        idle_for(&mut stamp, 1000, now);
        assert_eq!(idle_seconds(stamp, now), 1000);
        // Stamped just before the wrap, read just after.
        let before_wrap = u64::from(LRU_CLOCK_MAX - 2) * 1000;
        let stamp = lru_clock(before_wrap);
        assert_eq!(idle_seconds(stamp, before_wrap + 10_000), 9);
    }

    #[test]
    fn the_counter_decays_by_the_minute_and_grows_ever_slower() {
        let now = 600_000_000;
        let stamp = (minutes(now) << 8) | 100;
        assert_eq!(frequency(stamp, now), 100);
        assert_eq!(frequency(stamp, now + 3 * 60_000), 97);
        assert_eq!(log_incr(255, 10), 255);
        let grown = (0..1000).filter(|_| log_incr(5, 10) == 6).count();
        assert_eq!(grown, 1000);
        let grown = (0..10_000).filter(|_| log_incr(100, 10) == 101).count();
        assert!(grown < 100, "{grown}");
    }
}
