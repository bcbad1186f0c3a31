//! ZUNION, ZINTER, ZDIFF, their STORE forms, and ZINTERCARD, as Redis's
//! `zunionInterDiffGenericCommand`: inputs may be sorted sets or sets (whose members score 1),
//! missing keys are empty, WEIGHTS multiply, AGGREGATE SUM|MIN|MAX combines, a NaN from
//! `inf * 0` or `inf + -inf` becomes 0.

use std::collections::HashMap;

use bytes::Bytes;
use indexmap::IndexSet;
use respect_resp::Frame;

use super::super::reply::{syntax_error, wrong_type};
use super::range::store;
use super::{arg, members_reply};
use crate::commands::args::{integer, is_keyword, parse_i64};
use crate::commands::context::Ctx;
use crate::db::Value;
use crate::zset::{parse_score, ZSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    fn combine(self, into: &mut f64, value: f64) {
        match self {
            Aggregate::Sum => {
                *into += value;
                if into.is_nan() {
                    *into = 0.0;
                }
            }
            Aggregate::Min => *into = into.min(value),
            Aggregate::Max => *into = into.max(value),
        }
    }
}

/// One input, borrowed under the command's locks while the result is computed: a sorted
/// set, a set (its members score 1), or a missing key (empty).
#[derive(Clone, Copy)]
enum Source<'a> {
    Missing,
    Sorted(&'a ZSet),
    Plain(&'a IndexSet<Bytes>),
}

impl<'a> Source<'a> {
    /// The input a key's value is, WRONGTYPE for another type.
    fn of(value: Option<&'a Value>) -> Result<Self, Frame> {
        match value {
            None => Ok(Source::Missing),
            Some(Value::ZSet(z)) => Ok(Source::Sorted(z)),
            Some(Value::Set(s)) => Ok(Source::Plain(s)),
            Some(_) => Err(wrong_type()),
        }
    }

    fn len(self) -> usize {
        match self {
            Source::Missing => 0,
            Source::Sorted(z) => z.len(),
            Source::Plain(s) => s.len(),
        }
    }

    /// `member`'s score, if the input holds it.
    fn score(self, member: &[u8]) -> Option<f64> {
        match self {
            Source::Missing => None,
            Source::Sorted(z) => z.score(member),
            Source::Plain(s) => s.contains(member).then_some(1.0),
        }
    }

    /// The members and scores: a sorted set's by rank, a set's in its own order.
    fn members(self) -> Box<dyn Iterator<Item = (&'a Bytes, f64)> + 'a> {
        match self {
            Source::Missing => Box::new(std::iter::empty()),
            Source::Sorted(z) => Box::new(z.iter_from(0)),
            Source::Plain(s) => Box::new(s.iter().map(|m| (m, 1.0))),
        }
    }
}

/// The parsed command.
struct SetOp<'a> {
    /// The input keys, type-checked by [`parse`] and borrowed by [`SetOp::compute`].
    keys: &'a [Bytes],
    weights: Vec<f64>,
    aggregate: Aggregate,
    withscores: bool,
    /// ZINTERCARD's LIMIT (0: none).
    limit: usize,
}

/// Reads the inputs and options from `numkeys_at` on, in Redis's order: numkeys, the keys'
/// types, then the options. `name` is the command's name for the numkeys error.
fn parse<'a>(
    ctx: &mut Ctx<'_>,
    argv: &'a [Bytes],
    numkeys_at: usize,
    op: Op,
    store: bool,
    cardinality: bool,
    name: &str,
) -> Result<SetOp<'a>, Frame> {
    let numkeys = integer(&arg(argv, numkeys_at))?;
    if numkeys < 1 {
        return Err(Frame::Error(Bytes::from(format!(
            "ERR at least 1 input key is needed for '{name}' command"
        ))));
    }
    let first = numkeys_at + 1;
    let keys = usize::try_from(numkeys)
        .ok()
        .and_then(|n| argv.get(first..first.checked_add(n)?))
        .ok_or_else(syntax_error)?;
    let now = ctx.now;
    for key in keys {
        // The counted lookup and the type check, key by key as Redis's: nothing copied.
        Source::of(ctx.db.shard(key).get(key, now).map(|e| &e.value))?;
    }
    let mut parsed = SetOp {
        weights: vec![1.0; keys.len()],
        keys,
        aggregate: Aggregate::Sum,
        withscores: false,
        limit: 0,
    };
    let mut at = first + keys.len();
    while let Some(option) = argv.get(at) {
        let remaining = argv.len() - at;
        if op != Op::Diff && !cardinality && remaining > keys.len() && is_keyword(option, "WEIGHTS")
        {
            for (i, weight) in parsed.weights.iter_mut().enumerate() {
                *weight = parse_score(&arg(argv, at + 1 + i))
                    .ok_or_else(|| Frame::error("ERR weight value is not a float"))?;
            }
            at += 1 + keys.len();
        } else if op != Op::Diff
            && !cardinality
            && remaining >= 2
            && is_keyword(option, "AGGREGATE")
        {
            let value = arg(argv, at + 1);
            parsed.aggregate = if is_keyword(&value, "SUM") {
                Aggregate::Sum
            } else if is_keyword(&value, "MIN") {
                Aggregate::Min
            } else if is_keyword(&value, "MAX") {
                Aggregate::Max
            } else {
                return Err(syntax_error());
            };
            at += 2;
        } else if !store && !cardinality && is_keyword(option, "WITHSCORES") {
            parsed.withscores = true;
            at += 1;
        } else if cardinality && remaining >= 2 && is_keyword(option, "LIMIT") {
            // Redis's `getPositiveLongFromObjectOrReply` with a message: one text for both.
            let limit = parse_i64(&arg(argv, at + 1))
                .filter(|n| *n >= 0)
                .ok_or_else(|| Frame::error("ERR LIMIT can't be negative"))?;
            parsed.limit = usize::try_from(limit).unwrap_or(usize::MAX);
            at += 2;
        } else {
            return Err(syntax_error());
        }
    }
    Ok(parsed)
}

impl SetOp<'_> {
    /// The result, as a sorted set; for ZINTERCARD only counted (`count_only`). The inputs
    /// are borrowed under all their locks at once: only result members are copied, and an
    /// intersection costs its smallest input, not a copy of every input.
    fn compute(&self, ctx: &Ctx<'_>, op: Op, count_only: bool) -> Result<(ZSet, usize), Frame> {
        let now = ctx.now;
        let refs: Vec<&[u8]> = self.keys.iter().map(|k| k.as_ref()).collect();
        let locked = ctx.db.lock_keys(&refs);
        // A key whose type changed since `parse` checked it is WRONGTYPE still.
        let inputs = self
            .keys
            .iter()
            .map(|k| {
                Source::of(
                    locked
                        .shard_ref(k)
                        .and_then(|s| s.peek(k, now))
                        .map(|e| &e.value),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let input = |i: usize| inputs.get(i).copied().unwrap_or(Source::Missing);
        // Redis builds the result as a skip list (so a score of -0 survives), and converts a
        // stored one afterwards ([`ZSet::settle_encoding`]).
        let mut result = ZSet::new();
        result.set_listpack(false);
        let mut order: Vec<usize> = (0..inputs.len()).collect();
        if op != Op::Diff {
            // Smallest first, as Redis iterates: it decides the order scores are combined in.
            order.sort_by_key(|&i| input(i).len());
        }
        let weight = |i: usize| self.weights.get(i).copied().unwrap_or(1.0);
        let weighted = |score: f64, w: f64| {
            let s = score * w;
            if s.is_nan() {
                0.0
            } else {
                s
            }
        };
        let mut count = 0;
        match op {
            Op::Inter => {
                let Some((&smallest, others)) = order.split_first() else {
                    return Ok((result, 0));
                };
                'members: for (member, score) in input(smallest).members() {
                    let mut total = weighted(score, weight(smallest));
                    for &i in others {
                        match input(i).score(member) {
                            Some(s) => self.aggregate.combine(&mut total, s * weight(i)),
                            None => continue 'members,
                        }
                    }
                    count += 1;
                    if count_only {
                        if self.limit != 0 && count >= self.limit {
                            break;
                        }
                    } else {
                        result.insert(member.clone(), total);
                    }
                }
            }
            Op::Union => {
                let mut totals: HashMap<Bytes, f64> = HashMap::new();
                for &i in &order {
                    for (member, score) in input(i).members() {
                        let value = weighted(score, weight(i));
                        match totals.get_mut(member) {
                            Some(total) => self.aggregate.combine(total, value),
                            None => {
                                totals.insert(member.clone(), value);
                            }
                        }
                    }
                }
                for (member, score) in totals {
                    result.insert(member, score);
                }
            }
            Op::Diff => {
                if let Some((first, rest)) = inputs.split_first() {
                    for (member, score) in first.members() {
                        if !rest.iter().any(|s| s.score(member).is_some()) {
                            result.insert(member.clone(), score);
                        }
                    }
                }
            }
        }
        count = count.max(result.len());
        Ok((result, count))
    }
}

fn query(ctx: &mut Ctx<'_>, argv: &[Bytes], op: Op, name: &str) -> Frame {
    let parsed = match parse(ctx, argv, 1, op, false, false, name) {
        Ok(parsed) => parsed,
        Err(error) => return error,
    };
    let (result, _) = match parsed.compute(ctx, op, false) {
        Ok(computed) => computed,
        Err(error) => return error,
    };
    let items = result.iter_from(0).map(|(m, s)| (m.clone(), s)).collect();
    members_reply(ctx, items, parsed.withscores)
}

/// ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE; `name` is also the keyspace event.
fn store_op(ctx: &mut Ctx<'_>, argv: &[Bytes], op: Op, name: &str) -> Frame {
    let parsed = match parse(ctx, argv, 2, op, true, false, name) {
        Ok(parsed) => parsed,
        Err(error) => return error,
    };
    let (mut result, _) = match parsed.compute(ctx, op, false) {
        Ok(computed) => computed,
        Err(error) => return error,
    };
    result.settle_encoding();
    store(ctx, &arg(argv, 1), result, name)
}

/// `ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`.
pub fn zunion(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    query(ctx, argv, Op::Union, "zunion")
}

/// `ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`.
pub fn zinter(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    query(ctx, argv, Op::Inter, "zinter")
}

/// `ZDIFF numkeys key [key ...] [WITHSCORES]`.
pub fn zdiff(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    query(ctx, argv, Op::Diff, "zdiff")
}

/// `ZUNIONSTORE dst numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]`.
pub fn zunionstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    store_op(ctx, argv, Op::Union, "zunionstore")
}

/// `ZINTERSTORE dst numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]`.
pub fn zinterstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    store_op(ctx, argv, Op::Inter, "zinterstore")
}

/// `ZDIFFSTORE dst numkeys key [key ...]`.
pub fn zdiffstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    store_op(ctx, argv, Op::Diff, "zdiffstore")
}

/// `ZINTERCARD numkeys key [key ...] [LIMIT limit]`.
pub fn zintercard(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let parsed = match parse(ctx, argv, 1, Op::Inter, false, true, "zintercard") {
        Ok(parsed) => parsed,
        Err(error) => return error,
    };
    match parsed.compute(ctx, Op::Inter, true) {
        Ok((_, count)) => Frame::Integer(count as i64),
        Err(error) => error,
    }
}
