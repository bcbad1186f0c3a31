//! ZUNION, ZINTER, ZDIFF, their STORE forms, and ZINTERCARD, as Redis's
//! `zunionInterDiffGenericCommand`: inputs may be sorted sets or sets (whose members score 1),
//! missing keys are empty, WEIGHTS multiply, AGGREGATE SUM|MIN|MAX combines, a NaN from
//! `inf * 0` or `inf + -inf` becomes 0.

use std::collections::HashMap;

use bytes::Bytes;
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

/// One input's members and scores, copied out under its shard's lock.
type Input = Vec<(Bytes, f64)>;

/// The parsed command.
struct SetOp {
    inputs: Vec<Input>,
    weights: Vec<f64>,
    aggregate: Aggregate,
    withscores: bool,
    /// ZINTERCARD's LIMIT (0: none).
    limit: usize,
}

/// Reads the inputs and options from `numkeys_at` on, in Redis's order: numkeys, the keys'
/// types, then the options. `name` is the command's name for the numkeys error.
fn parse(
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
    numkeys_at: usize,
    op: Op,
    store: bool,
    cardinality: bool,
    name: &str,
) -> Result<SetOp, Frame> {
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
    let mut inputs = Vec::with_capacity(keys.len());
    for key in keys {
        inputs.push(snapshot(ctx, key)?);
    }
    let mut parsed = SetOp {
        weights: vec![1.0; inputs.len()],
        inputs,
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

/// The members and scores at `key`: a sorted set's, a set's with score 1, none when missing.
fn snapshot(ctx: &mut Ctx<'_>, key: &Bytes) -> Result<Input, Frame> {
    let now = ctx.now;
    let mut shard = ctx.db.shard(key);
    match shard.get(key, now).map(|e| &e.value) {
        None => Ok(Vec::new()),
        Some(Value::ZSet(z)) => Ok(z.iter_from(0).map(|(m, s)| (m.clone(), s)).collect()),
        Some(Value::Set(s)) => Ok(s.iter().map(|m| (m.clone(), 1.0)).collect()),
        Some(_) => Err(wrong_type()),
    }
}

impl SetOp {
    /// The result, as a sorted set; for ZINTERCARD only counted (`count_only`).
    fn compute(mut self, op: Op, count_only: bool) -> (ZSet, usize) {
        // Redis builds the result as a skip list (so a score of -0 survives), and converts a
        // stored one afterwards ([`ZSet::settle_encoding`]).
        let mut result = ZSet::new();
        result.set_listpack(false);
        let mut order: Vec<usize> = (0..self.inputs.len()).collect();
        if op != Op::Diff {
            // Smallest first, as Redis iterates: it decides the order scores are combined in.
            order.sort_by_key(|&i| self.inputs.get(i).map_or(0, Vec::len));
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
                    return (result, 0);
                };
                // Lookups for the inputs probed, not for the one walked.
                let lookups: Vec<(usize, HashMap<&Bytes, f64>)> = others
                    .iter()
                    .map(|&i| (i, lookup(self.inputs.get(i))))
                    .collect();
                let base = self.inputs.get(smallest).map_or(&[][..], Vec::as_slice);
                'members: for (member, score) in base {
                    let mut total = weighted(*score, weight(smallest));
                    for (i, l) in &lookups {
                        match l.get(member) {
                            Some(s) => self.aggregate.combine(&mut total, s * weight(*i)),
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
                    let input = self.inputs.get_mut(i).map(std::mem::take);
                    for (member, score) in input.unwrap_or_default() {
                        let value = weighted(score, weight(i));
                        match totals.get_mut(&member) {
                            Some(total) => self.aggregate.combine(total, value),
                            None => {
                                totals.insert(member, value);
                            }
                        }
                    }
                }
                for (member, score) in totals {
                    result.insert(member, score);
                }
            }
            Op::Diff => {
                if let Some((first, rest)) = self.inputs.split_first() {
                    let lookups: Vec<HashMap<&Bytes, f64>> =
                        rest.iter().map(|input| lookup(Some(input))).collect();
                    for (member, score) in first {
                        if !lookups.iter().any(|l| l.contains_key(member)) {
                            result.insert(member.clone(), *score);
                        }
                    }
                }
            }
        }
        count = count.max(result.len());
        (result, count)
    }
}

/// An input's members and scores by member, for probing (built only for the inputs a
/// command probes: ZUNION probes none, so it builds none).
fn lookup(input: Option<&Input>) -> HashMap<&Bytes, f64> {
    input
        .map(|input| input.iter().map(|(m, s)| (m, *s)).collect())
        .unwrap_or_default()
}

fn query(ctx: &mut Ctx<'_>, argv: &[Bytes], op: Op, name: &str) -> Frame {
    let parsed = match parse(ctx, argv, 1, op, false, false, name) {
        Ok(parsed) => parsed,
        Err(error) => return error,
    };
    let withscores = parsed.withscores;
    let (result, _) = parsed.compute(op, false);
    let items = result.iter_from(0).map(|(m, s)| (m.clone(), s)).collect();
    members_reply(ctx, items, withscores)
}

/// ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE; `name` is also the keyspace event.
fn store_op(ctx: &mut Ctx<'_>, argv: &[Bytes], op: Op, name: &str) -> Frame {
    let parsed = match parse(ctx, argv, 2, op, true, false, name) {
        Ok(parsed) => parsed,
        Err(error) => return error,
    };
    let (mut result, _) = parsed.compute(op, false);
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
    let (_, count) = parsed.compute(Op::Inter, true);
    Frame::Integer(count as i64)
}
