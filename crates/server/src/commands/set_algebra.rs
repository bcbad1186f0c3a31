//! SINTER, SUNION, SDIFF, their STORE forms, and SINTERCARD, as Redis's
//! `sinterGenericCommand` and `sunionDiffGenericCommand`: a missing key is an empty set, any
//! other type is WRONGTYPE (the STORE forms overwrite a destination of any type), and a STORE
//! whose result is empty deletes the destination.

use bytes::Bytes;
use indexmap::IndexSet;
use respect_resp::Frame;

use super::args::{is_keyword, parse_i64};
use super::context::Ctx;
use super::events::notify;
use super::reply::{syntax_error, wrong_type};
use super::sets::{set_reply, walk_order};
use super::watch::signal_modified;
use crate::db::{Entry, Value};

type Set = IndexSet<Bytes>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Inter,
    Union,
    Diff,
}

impl Op {
    fn store_event(self) -> &'static str {
        match self {
            Op::Inter => "sinterstore",
            Op::Union => "sunionstore",
            Op::Diff => "sdiffstore",
        }
    }
}

/// Runs `f` on the sets at `keys` (`None` for a missing key), borrowed under all their locks
/// at once: only the members a result keeps are copied. WRONGTYPE if any holds another type,
/// after the lookups before it were counted, as Redis's loop over `lookupKeyRead` stops.
fn with_inputs<T>(
    ctx: &Ctx<'_>,
    keys: &[Bytes],
    f: impl FnOnce(&[Option<&Set>]) -> T,
) -> Result<T, Frame> {
    let now = ctx.now;
    let refs: Vec<&[u8]> = keys.iter().map(|k| k.as_ref()).collect();
    let mut locked = ctx.db.lock_keys(&refs);
    for k in keys {
        // The counted lookup (expiring a key whose time passed), then the type check.
        let value = locked
            .shard(k)
            .and_then(|s| s.get(k, now))
            .map(|e| &e.value);
        if value.is_some_and(|v| !matches!(v, Value::Set(_))) {
            return Err(wrong_type());
        }
    }
    let sets: Vec<Option<&Set>> = keys
        .iter()
        .map(|k| {
            match locked
                .shard_ref(k)
                .and_then(|s| s.peek(k, now))
                .map(|e| &e.value)
            {
                Some(Value::Set(s)) => Some(s),
                _ => None,
            }
        })
        .collect();
    Ok(f(&sets))
}

/// The intersection, walking the smallest input; stops after `limit` members (0: no limit).
fn intersect(sets: &[Option<&Set>], limit: usize) -> Set {
    let Some(mut present) = sets.iter().copied().collect::<Option<Vec<&Set>>>() else {
        return Set::new();
    };
    present.sort_by_key(|s| s.len());
    let Some((smallest, rest)) = present.split_first() else {
        return Set::new();
    };
    let mut out = Set::new();
    for member in walk_order(smallest) {
        if rest.iter().all(|s| s.contains(member)) {
            out.insert(member.clone());
            if limit != 0 && out.len() >= limit {
                break;
            }
        }
    }
    out
}

fn compute(op: Op, sets: &[Option<&Set>]) -> Set {
    match op {
        Op::Inter => intersect(sets, 0),
        Op::Union => sets
            .iter()
            .flatten()
            .flat_map(|s| s.iter())
            .cloned()
            .collect(),
        Op::Diff => {
            let Some((first, rest)) = sets.split_first() else {
                return Set::new();
            };
            first
                .iter()
                .flat_map(|s| s.iter())
                .filter(|m| !rest.iter().flatten().any(|s| s.contains(*m)))
                .cloned()
                .collect()
        }
    }
}

/// SINTER, SUNION, SDIFF: the result as a set reply, in Redis's walk order where it has one.
fn query(ctx: &mut Ctx<'_>, argv: &[Bytes], op: Op) -> Frame {
    let keys = argv.get(1..).unwrap_or_default();
    match with_inputs(ctx, keys, |sets| compute(op, sets)) {
        Ok(result) => set_reply(&result),
        Err(error) => error,
    }
}

/// The STORE forms: the result's size. Signals the destination itself (the `Manual` rule):
/// the sources are only read.
fn store(ctx: &mut Ctx<'_>, argv: &[Bytes], op: Op) -> Frame {
    let (Some(dst), Some(keys)) = (argv.get(1), argv.get(2..)) else {
        return syntax_error();
    };
    let result = match with_inputs(ctx, keys, |sets| compute(op, sets)) {
        Ok(result) => result,
        Err(error) => return error,
    };
    let len = result.len();
    let now = ctx.now;
    let deleted = {
        let mut shard = ctx.db.shard(dst);
        if len == 0 {
            shard.remove(dst, now).is_some()
        } else {
            shard.insert(dst.clone(), Entry::new(Value::Set(result)), now);
            false
        }
    };
    if len > 0 || deleted {
        signal_modified(ctx, ctx.state.db_index, dst);
    }
    if len > 0 {
        notify(ctx, crate::notify::SET, op.store_event(), dst);
    } else if deleted {
        notify(ctx, crate::notify::GENERIC, "del", dst);
    }
    Frame::Integer(i64::try_from(len).unwrap_or(i64::MAX))
}

pub fn sinter(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    query(ctx, argv, Op::Inter)
}

pub fn sunion(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    query(ctx, argv, Op::Union)
}

pub fn sdiff(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    query(ctx, argv, Op::Diff)
}

pub fn sinterstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    store(ctx, argv, Op::Inter)
}

pub fn sunionstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    store(ctx, argv, Op::Union)
}

pub fn sdiffstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    store(ctx, argv, Op::Diff)
}

/// `SINTERCARD numkeys key [key ...] [LIMIT limit]`, its errors worded as Redis's.
pub fn sintercard(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let Some(numkeys) = argv.get(1).and_then(|n| parse_i64(n)).filter(|n| *n >= 1) else {
        return Frame::error("ERR numkeys should be greater than 0");
    };
    let after = argv.get(2..).unwrap_or_default();
    let Some(numkeys) = usize::try_from(numkeys).ok().filter(|n| *n <= after.len()) else {
        return Frame::error("ERR Number of keys can't be greater than number of args");
    };
    let (keys, options) = after.split_at(numkeys);
    let mut limit = 0;
    let mut options = options.iter();
    while let Some(option) = options.next() {
        if !is_keyword(option, "LIMIT") || options.len() == 0 {
            return syntax_error();
        }
        match options
            .next()
            .and_then(|l| parse_i64(l))
            .filter(|l| *l >= 0)
        {
            Some(l) => limit = usize::try_from(l).unwrap_or(usize::MAX),
            None => return Frame::error("ERR LIMIT can't be negative"),
        }
    }
    match with_inputs(ctx, keys, |sets| intersect(sets, limit).len()) {
        Ok(len) => Frame::Integer(i64::try_from(len).unwrap_or(i64::MAX)),
        Err(error) => error,
    }
}
