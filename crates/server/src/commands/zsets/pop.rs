//! Pops (ZPOPMIN, ZPOPMAX, ZMPOP) and ZRANDMEMBER.
//!
//! [`pop_first`] is the one pop: the first of several keys holding a sorted set gives up to
//! `count` members from one end. BZPOPMIN, BZPOPMAX and BZMPOP are that call after a wait, so
//! they plug in with their reply shapes ([`reply_bzpop`], [`reply_zmpop`]) once the blocking
//! mechanism exists.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use respect_resp::Frame;

use super::super::collection::read;
use super::super::reply::syntax_error;
use super::{arg, flat_pairs, members_reply, not_positive, removed};
use crate::commands::args::{integer, is_keyword, parse_i64};
use crate::commands::context::Ctx;
use crate::commands::propagate::{number, word};
use crate::zset::{End, ZSet};

/// The most members one ZRANDMEMBER with a negative count may return: Redis streams such a
/// reply of any length; we build replies whole, so a peer asking for billions is refused
/// with Redis's out-of-range error instead of making us allocate them.
pub const MAX_RANDOM_REPLY_MEMBERS: u64 = 1_000_000;

/// The key a pop took from, and the members with their scores, in pop order.
pub type Popped = (Bytes, Vec<(Bytes, f64)>);

/// Pops up to `count` members from `end` of the first of `keys` that holds a sorted set.
/// `Ok(None)` when none does; WRONGTYPE when the first existing key is not a sorted set.
/// An emptied set is deleted.
pub fn pop_first(
    ctx: &mut Ctx<'_>,
    keys: &[Bytes],
    end: End,
    count: usize,
) -> Result<Option<Popped>, Frame> {
    for key in keys {
        let popped = read::<ZSet, _>(ctx, key, |set| set.map(|s| s.pop(end, count)))?;
        if let Some(members) = popped {
            let event = match end {
                End::Min => "zpopmin",
                End::Max => "zpopmax",
            };
            removed(ctx, key, event, members.len());
            return Ok(Some((key.clone(), members)));
        }
    }
    Ok(None)
}

/// ZMPOP's (and BZMPOP's) reply: `[key, [[member, score], ...]]` in both protocols.
pub fn reply_zmpop(key: Bytes, members: Vec<(Bytes, f64)>) -> Frame {
    Frame::Array(vec![
        Frame::Bulk(key),
        Frame::Array(
            members
                .into_iter()
                .map(|(m, s)| Frame::Array(vec![Frame::Bulk(m), Frame::Double(s)]))
                .collect(),
        ),
    ])
}

/// BZPOPMIN's and BZPOPMAX's reply: `[key, member, score]`, flat in both protocols.
pub fn reply_bzpop(key: Bytes, members: Vec<(Bytes, f64)>) -> Frame {
    let mut out = vec![Frame::Bulk(key)];
    if let Frame::Array(pairs) = flat_pairs(members) {
        out.extend(pairs);
    }
    Frame::Array(out)
}

/// `ZPOPMIN key [count]`.
pub fn zpopmin(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    zpop(ctx, argv, End::Min)
}

/// `ZPOPMAX key [count]`.
pub fn zpopmax(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    zpop(ctx, argv, End::Max)
}

fn zpop(ctx: &mut Ctx<'_>, argv: &[Bytes], end: End) -> Frame {
    if argv.len() > 3 {
        return syntax_error();
    }
    // Redis's `getPositiveLongFromObjectOrReply`: one error for a negative count and for
    // one that is not a number.
    let count = match argv.get(2).map(|c| parse_i64(c)) {
        None => None,
        Some(Some(n)) if n >= 0 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
        Some(_) => return not_positive(),
    };
    let key = arg(argv, 1);
    match pop_first(ctx, std::slice::from_ref(&key), end, count.unwrap_or(1)) {
        Err(error) => error,
        Ok(None) => Frame::Array(Vec::new()),
        // With a count, RESP3 nests the pairs; without, both protocols reply flat.
        Ok(Some((_, members))) => match count {
            Some(_) => members_reply(ctx, members, true),
            None => flat_pairs(members),
        },
    }
}

/// `ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]`.
pub fn zmpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (keys, end, count) = match parse_mpop(argv, 1) {
        Ok(parsed) => parsed,
        Err(error) => return error,
    };
    match pop_first(ctx, keys, end, count) {
        Err(error) => error,
        Ok(None) => ctx.null_array(),
        Ok(Some((key, members))) => {
            propagate_pop(ctx, &key, end, Some(members.len()));
            reply_zmpop(key, members)
        }
    }
}

/// How ZMPOP and the blocking pops go to a replica: `ZPOPMIN|ZPOPMAX key [count]`, the
/// count being how many were popped (Redis's rewrite).
pub fn propagate_pop(ctx: &mut Ctx<'_>, key: &Bytes, end: End, count: Option<usize>) {
    ctx.propagate_as(|| {
        let name = match end {
            End::Min => word("ZPOPMIN"),
            End::Max => word("ZPOPMAX"),
        };
        let mut argv = vec![name, key.clone()];
        argv.extend(count.map(number));
        vec![argv]
    });
}

/// Parses `numkeys key [key ...] MIN|MAX [COUNT count]` starting at `numkeys_at`
/// (Redis's `zmpopGenericCommand`; BZMPOP has its timeout first, at 1).
pub fn parse_mpop(argv: &[Bytes], numkeys_at: usize) -> Result<(&[Bytes], End, usize), Frame> {
    let numkeys = parse_i64(&arg(argv, numkeys_at))
        .filter(|n| *n >= 1)
        .ok_or_else(|| Frame::error("ERR numkeys should be greater than 0"))?;
    let where_at = usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(numkeys_at + 1))
        .filter(|at| *at < argv.len())
        .ok_or_else(syntax_error)?;
    let end = match argv.get(where_at) {
        Some(w) if is_keyword(w, "MIN") => End::Min,
        Some(w) if is_keyword(w, "MAX") => End::Max,
        _ => return Err(syntax_error()),
    };
    let mut count = None;
    let mut at = where_at + 1;
    while let Some(option) = argv.get(at) {
        if count.is_none() && is_keyword(option, "COUNT") && at + 1 < argv.len() {
            let n = parse_i64(&arg(argv, at + 1))
                .filter(|n| *n >= 1)
                .ok_or_else(|| Frame::error("ERR count should be greater than 0"))?;
            count = Some(usize::try_from(n).unwrap_or(usize::MAX));
            at += 2;
        } else {
            return Err(syntax_error());
        }
    }
    let keys = argv.get(numkeys_at + 1..where_at).unwrap_or_default();
    Ok((keys, end, count.unwrap_or(1)))
}

/// Random numbers for ZRANDMEMBER, SRANDMEMBER and SPOP: xorshift64 over a shared, time-seeded state.
pub(crate) fn random() -> u64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        x = crate::db::now_ms() | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    x
}

/// A uniformly random position below `len` (0 for an empty range).
pub(crate) fn random_below(len: usize) -> usize {
    (random() % len.max(1) as u64) as usize
}

/// `wanted` distinct random positions below `len` (at most `len` of them), in pick order
/// (ZRANDMEMBER, SRANDMEMBER with a positive count): a partial Fisher-Yates shuffle that
/// remembers only the slots it moved, so its memory follows `wanted`, not the collection.
pub(crate) fn distinct_positions(len: usize, wanted: usize) -> Vec<usize> {
    let mut moved: HashMap<usize, usize> = HashMap::new();
    (0..wanted.min(len))
        .map(|i| {
            let j = i + random_below(len - i);
            let picked = moved.get(&j).copied().unwrap_or(j);
            let displaced = moved.get(&i).copied().unwrap_or(i);
            moved.insert(j, displaced);
            picked
        })
        .collect()
}

/// `ZRANDMEMBER key [count [WITHSCORES]]`, by Redis's rules: no count, one member or null;
/// a negative count, that many picks that may repeat; a positive one, distinct members, the
/// whole set when it asks for at least as many.
pub fn zrandmember(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let key = arg(argv, 1);
    let Some(count) = argv.get(2) else {
        let picked = read::<ZSet, _>(ctx, &key, |set| {
            set.and_then(|s| {
                s.iter_from(random_below(s.len()))
                    .next()
                    .map(|(m, _)| Frame::Bulk(m.clone()))
            })
            .unwrap_or(Frame::Null)
        });
        return picked.unwrap_or_else(|e| e);
    };
    let count = match integer(count) {
        Ok(n) if n == i64::MIN => {
            return Frame::error(
                "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            )
        }
        Ok(n) => n,
        Err(error) => return error,
    };
    let withscores = match argv.get(3) {
        None => false,
        Some(w) if argv.len() == 4 && is_keyword(w, "WITHSCORES") => true,
        Some(_) => return syntax_error(),
    };
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Frame::error("ERR value is out of range");
    }
    let picked = read::<ZSet, _>(ctx, &key, |set| match set {
        None => Ok(Vec::new()),
        Some(_) if count < 0 && count.unsigned_abs() > MAX_RANDOM_REPLY_MEMBERS => {
            Err(Frame::error("ERR value is out of range"))
        }
        Some(set) => Ok(pick(set, count)),
    });
    match picked {
        Ok(Ok(items)) => members_reply(ctx, items, withscores),
        Ok(Err(error)) | Err(error) => error,
    }
}

/// `count` random members of `set` (see [`zrandmember`]).
fn pick(set: &ZSet, count: i64) -> Vec<(Bytes, f64)> {
    let len = set.len();
    let at = |rank: usize| {
        set.iter_from(rank)
            .next()
            .map(|(m, s)| (m.clone(), s))
            .unwrap_or_default()
    };
    if count == 0 || len == 0 {
        return Vec::new();
    }
    if count < 0 {
        let n = count.unsigned_abs();
        return (0..n).map(|_| at(random_below(len))).collect();
    }
    let wanted = usize::try_from(count).unwrap_or(usize::MAX);
    if wanted >= len {
        // The whole set, highest score first: Redis's set-operation iterator walks from the tail.
        return set
            .iter_down_from(len - 1)
            .map(|(m, s)| (m.clone(), s))
            .collect();
    }
    distinct_positions(len, wanted)
        .into_iter()
        .map(at)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Always `min(wanted, len)` positions, each below `len`, none twice; over many draws
    /// every position comes up (the shuffle reaches the whole range, not just the front).
    #[test]
    fn distinct_positions_are_distinct_and_cover_the_range() {
        let mut seen = [false; 50];
        for (len, wanted) in [(0, 3), (1, 1), (5, 2), (5, 5), (5, 9), (50, 3), (50, 49)] {
            for _ in 0..200 {
                let picked = distinct_positions(len, wanted);
                assert_eq!(picked.len(), wanted.min(len));
                let mut sorted = picked.clone();
                sorted.sort_unstable();
                sorted.dedup();
                assert_eq!(sorted.len(), picked.len(), "{picked:?}");
                assert!(picked.iter().all(|&p| p < len));
                if len == 50 {
                    picked.iter().for_each(|&p| seen[p] = true);
                }
            }
        }
        assert!(seen.iter().all(|&s| s));
    }
}
