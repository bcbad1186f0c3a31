//! ZADD (and ZINCRBY, which is ZADD INCR) and ZREM.

use bytes::Bytes;
use respect_resp::Frame;

use super::super::collection::{read, reply, update};
use super::super::reply::syntax_error;
use super::{arg, not_float, removed, score, written};
use crate::commands::args::is_keyword;
use crate::commands::context::Ctx;
use crate::zset::parse_score;
use crate::zset::ZSet;

/// ZADD's options.
#[derive(Debug, Default, Clone, Copy)]
struct AddOptions {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

/// What one (score, member) pair did.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Added(f64),
    Updated(f64),
    /// Processed without a change (same score, or INCR by 0).
    Same(f64),
    /// Skipped by NX, XX, GT or LT.
    Skipped,
    /// INCR made NaN.
    NaN,
}

impl AddOptions {
    /// Parses the options and the pairs, checking Redis's conflicts in its order.
    fn parse(argv: &[Bytes], incr: bool) -> Result<(AddOptions, Vec<(f64, Bytes)>), Frame> {
        let mut options = AddOptions {
            incr,
            ..AddOptions::default()
        };
        let mut at = 2;
        while let Some(option) = argv.get(at) {
            let flag = match () {
                _ if is_keyword(option, "NX") => &mut options.nx,
                _ if is_keyword(option, "XX") => &mut options.xx,
                _ if is_keyword(option, "CH") => &mut options.ch,
                _ if is_keyword(option, "INCR") => &mut options.incr,
                _ if is_keyword(option, "GT") => &mut options.gt,
                _ if is_keyword(option, "LT") => &mut options.lt,
                _ => break,
            };
            *flag = true;
            at += 1;
        }
        let rest = argv.get(at..).unwrap_or_default();
        if rest.is_empty() || rest.len() % 2 != 0 {
            return Err(syntax_error());
        }
        if options.nx && options.xx {
            return Err(Frame::error(
                "ERR XX and NX options at the same time are not compatible",
            ));
        }
        if (options.nx && (options.gt || options.lt)) || (options.gt && options.lt) {
            return Err(Frame::error(
                "ERR GT, LT, and/or NX options at the same time are not compatible",
            ));
        }
        if options.incr && rest.len() > 2 {
            return Err(Frame::error(
                "ERR INCR option supports a single increment-element pair",
            ));
        }
        let pairs = rest
            .chunks(2)
            .map(|pair| match pair {
                [s, m] => parse_score(s).map(|s| (s, m.clone())).ok_or_else(not_float),
                _ => Err(syntax_error()),
            })
            .collect::<Result<Vec<_>, Frame>>()?;
        Ok((options, pairs))
    }

    /// Adds or updates one member as Redis's `zsetAdd` does.
    fn apply(&self, set: &mut ZSet, new: f64, member: &Bytes) -> Outcome {
        match set.score(member) {
            Some(current) => {
                if self.nx {
                    return Outcome::Skipped;
                }
                let new = if self.incr { current + new } else { new };
                if new.is_nan() {
                    return Outcome::NaN;
                }
                if (self.lt && new >= current) || (self.gt && new <= current) {
                    return Outcome::Skipped;
                }
                if new == current {
                    return Outcome::Same(new);
                }
                set.insert(member.clone(), new);
                Outcome::Updated(new)
            }
            None if self.xx => Outcome::Skipped,
            None => {
                set.insert(member.clone(), new);
                Outcome::Added(new)
            }
        }
    }
}

/// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]`.
pub fn zadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    add(ctx, argv, false)
}

/// `ZINCRBY key increment member`: ZADD INCR.
pub fn zincrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    add(ctx, argv, true)
}

fn add(ctx: &mut Ctx<'_>, argv: &[Bytes], incr: bool) -> Frame {
    let (options, pairs) = match AddOptions::parse(argv, incr) {
        Ok(parsed) => parsed,
        Err(error) => return error,
    };
    add_pairs(ctx, &arg(argv, 1), options, &pairs)
}

/// GEOADD's end: ZADD with its NX, XX and CH options and the (score, member) pairs it
/// computed, as Redis's `geoaddCommand` hands them to `zaddCommand` (the same events, the same
/// errors, the same reply). An empty `pairs` is ZADD's syntax error.
pub(crate) fn geo_add(
    ctx: &mut Ctx<'_>,
    key: &Bytes,
    nx: bool,
    xx: bool,
    ch: bool,
    pairs: &[(f64, Bytes)],
) -> Frame {
    if pairs.is_empty() {
        return syntax_error();
    }
    let options = AddOptions {
        nx,
        xx,
        ch,
        ..AddOptions::default()
    };
    add_pairs(ctx, key, options, pairs)
}

fn add_pairs(ctx: &mut Ctx<'_>, key: &Bytes, options: AddOptions, pairs: &[(f64, Bytes)]) -> Frame {
    let incr = options.incr;
    let key = key.clone();
    let first = pairs.first().map(|(_, m)| m.clone()).unwrap_or_default();
    let result = update::<ZSet, _>(ctx, &key, |set| {
        set.encode_for_first_member(&first);
        let (mut added, mut updated) = (0, 0);
        let mut last = None;
        for (new, member) in pairs {
            match options.apply(set, *new, member) {
                Outcome::Added(s) => {
                    added += 1;
                    last = Some(s);
                }
                Outcome::Updated(s) => {
                    updated += 1;
                    last = Some(s);
                }
                Outcome::Same(s) => last = Some(s),
                Outcome::Skipped => {}
                Outcome::NaN => {
                    return (
                        added + updated,
                        Frame::error("ERR resulting score is not a number (NaN)"),
                    )
                }
            }
        }
        let frame = if options.incr {
            last.map_or(Frame::Null, score)
        } else if options.ch {
            Frame::Integer(added + updated)
        } else {
            Frame::Integer(added)
        };
        (added + updated, frame)
    });
    match result {
        Ok((changed, frame)) => {
            if changed > 0 {
                super::super::watch::signal_modified(ctx, ctx.state.db_index, &key);
                written(ctx, &key, if incr { "zincr" } else { "zadd" });
            }
            frame
        }
        Err(error) => error,
    }
}

/// `ZREM key member [member ...]`.
pub fn zrem(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let members = argv.get(2..).unwrap_or_default();
    let key = arg(argv, 1);
    let gone = read::<ZSet, _>(ctx, &key, |set| {
        set.map_or(0, |set| {
            members.iter().filter(|m| set.remove(m).is_some()).count()
        })
    });
    if let Ok(count) = gone {
        removed(ctx, &key, "zrem", count);
    }
    reply(gone.map(|count| Frame::Integer(count as i64)))
}
