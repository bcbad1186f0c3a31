//! Ranges: ZRANGE (BYSCORE, BYLEX, REV, LIMIT, WITHSCORES) and the older commands it
//! subsumes, ZRANGESTORE, and the ZREMRANGEBY* commands. A range is turned into ascending
//! ranks `[start, end)` with two O(log n) lookups, then walked.

use bytes::Bytes;
use respect_resp::Frame;

use super::super::collection::{read, reply};
use super::super::reply::syntax_error;
use super::read::{lex_range, score_range};
use super::{arg, members_reply, removed, written};
use crate::commands::args::{integer, is_keyword, rank_span};
use crate::commands::context::Ctx;
use crate::commands::events::notify;
use crate::db::{Entry, Value};
use crate::notify::GENERIC;
use crate::zset::{LexRange, ScoreRange, ZSet};

/// What a range selects.
#[derive(Debug, Clone, PartialEq)]
enum Select {
    /// Ranks, negative from the end, both inclusive.
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// Which kind of range a command is fixed to (the older commands) or `Auto` (ZRANGE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Auto,
    Rank,
    Score,
    Lex,
}

/// A parsed range query.
#[derive(Debug, Clone, PartialEq)]
struct Query {
    select: Select,
    rev: bool,
    withscores: bool,
    offset: i64,
    /// Negative: no limit.
    limit: i64,
}

impl Query {
    /// Parses `<src> <min> <max> [BYSCORE|BYLEX] [REV] [WITHSCORES] [LIMIT offset count]`
    /// from `src` (the index of the source key) as Redis's `zrangeGenericCommand` does.
    /// `rev` is `None` where REV may be given.
    fn parse(
        argv: &[Bytes],
        src: usize,
        store: bool,
        mut kind: Kind,
        rev: Option<bool>,
    ) -> Result<Query, Frame> {
        let (mut withscores, mut offset, mut limit) = (false, 0, -1);
        let mut reverse = rev.unwrap_or(false);
        let mut at = src + 3;
        while let Some(option) = argv.get(at) {
            let left = argv.len() - at - 1;
            if !store && is_keyword(option, "WITHSCORES") {
                withscores = true;
            } else if is_keyword(option, "LIMIT") && left >= 2 {
                offset = integer(&arg(argv, at + 1))?;
                limit = integer(&arg(argv, at + 2))?;
                at += 2;
            } else if rev.is_none() && is_keyword(option, "REV") {
                reverse = true;
            } else if kind == Kind::Auto && is_keyword(option, "BYLEX") {
                kind = Kind::Lex;
            } else if kind == Kind::Auto && is_keyword(option, "BYSCORE") {
                kind = Kind::Score;
            } else {
                return Err(syntax_error());
            }
            at += 1;
        }
        if kind == Kind::Auto {
            kind = Kind::Rank;
        }
        if limit != -1 && kind == Kind::Rank {
            return Err(Frame::error(
                "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
            ));
        }
        if withscores && kind == Kind::Lex {
            return Err(Frame::error(
                "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
            ));
        }
        let (mut min, mut max) = (arg(argv, src + 1), arg(argv, src + 2));
        if reverse && kind != Kind::Rank {
            // The reversed forms take the range as max, min.
            std::mem::swap(&mut min, &mut max);
        }
        let select = match kind {
            Kind::Score => Select::Score(score_range(&min, &max)?),
            Kind::Lex => Select::Lex(lex_range(&min, &max)?),
            Kind::Auto | Kind::Rank => Select::Rank(integer(&min)?, integer(&max)?),
        };
        Ok(Query {
            select,
            rev: reverse,
            withscores: withscores || store,
            offset,
            limit,
        })
    }

    /// The members the query selects, in reply order.
    fn run(&self, set: &ZSet) -> Vec<(Bytes, f64)> {
        let len = set.len();
        let (start, end, offset, limit) = match &self.select {
            Select::Rank(start, end) => match rank_span(*start, *end, len) {
                // Reversed, the ranks count from the top.
                Some((start, end)) if self.rev => (len - end, len - start, 0, -1),
                Some((start, end)) => (start, end, 0, -1),
                None => return Vec::new(),
            },
            Select::Score(range) => {
                let (s, e) = set.ranks_by_score(range);
                (s, e, self.offset, self.limit)
            }
            Select::Lex(range) => {
                let (s, e) = set.ranks_by_lex(range, self.rev);
                (s, e, self.offset, self.limit)
            }
        };
        if offset < 0 || start >= end {
            return Vec::new();
        }
        let skip = usize::try_from(offset).unwrap_or(usize::MAX);
        let take = usize::try_from(limit).unwrap_or(usize::MAX);
        let count = (end - start).saturating_sub(skip).min(take);
        if count == 0 {
            return Vec::new();
        }
        let pick = |(m, s): (&Bytes, f64)| (m.clone(), s);
        if self.rev {
            set.iter_down_from(end - 1 - skip)
                .take(count)
                .map(pick)
                .collect()
        } else {
            set.iter_from(start + skip).take(count).map(pick).collect()
        }
    }
}

fn range(ctx: &mut Ctx<'_>, argv: &[Bytes], kind: Kind, rev: Option<bool>) -> Frame {
    let query = match Query::parse(argv, 1, false, kind, rev) {
        Ok(query) => query,
        Err(error) => return error,
    };
    let items = match read::<ZSet, _>(ctx, &arg(argv, 1), |set| {
        set.map(|s| query.run(s)).unwrap_or_default()
    }) {
        Ok(items) => items,
        Err(error) => return error,
    };
    members_reply(ctx, items, query.withscores)
}

/// `ZRANGE key min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]`.
pub fn zrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    range(ctx, argv, Kind::Auto, None)
}

/// `ZREVRANGE key start stop [WITHSCORES]`.
pub fn zrevrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    range(ctx, argv, Kind::Rank, Some(true))
}

/// `ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]`.
pub fn zrangebyscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    range(ctx, argv, Kind::Score, Some(false))
}

/// `ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]`.
pub fn zrevrangebyscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    range(ctx, argv, Kind::Score, Some(true))
}

/// `ZRANGEBYLEX key min max [LIMIT offset count]`.
pub fn zrangebylex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    range(ctx, argv, Kind::Lex, Some(false))
}

/// `ZREVRANGEBYLEX key max min [LIMIT offset count]`.
pub fn zrevrangebylex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    range(ctx, argv, Kind::Lex, Some(true))
}

/// `ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]`.
pub fn zrangestore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let query = match Query::parse(argv, 2, true, Kind::Auto, None) {
        Ok(query) => query,
        Err(error) => return error,
    };
    let items = match read::<ZSet, _>(ctx, &arg(argv, 2), |set| {
        set.map(|s| query.run(s)).unwrap_or_default()
    }) {
        Ok(items) => items,
        Err(error) => return error,
    };
    let mut result = ZSet::new();
    for (member, score) in items {
        result.insert(member, score);
    }
    store(ctx, &arg(argv, 1), result, "zrangestore")
}

/// Stores `result` at `dst` (replacing whatever was there), or deletes `dst` when it is
/// empty; replies with its size. The STORE commands and ZRANGESTORE end here, sending
/// `event`, or `del` when an empty result deleted an existing `dst`.
pub(super) fn store(ctx: &mut Ctx<'_>, dst: &Bytes, result: ZSet, event: &str) -> Frame {
    let len = result.len();
    let now = ctx.now;
    let deleted = {
        let mut shard = ctx.db.shard(dst);
        if len == 0 {
            shard.remove(dst, now).is_some()
        } else {
            shard.insert(dst.clone(), Entry::new(Value::ZSet(result)), now);
            false
        }
    };
    if len > 0 {
        written(ctx, dst, event);
    } else if deleted {
        notify(ctx, GENERIC, "del", dst);
    }
    Frame::Integer(len as i64)
}

/// The ZREMRANGEBY* family: parse the range, then remove what it selects.
fn remove_range(ctx: &mut Ctx<'_>, argv: &[Bytes], kind: Kind) -> Frame {
    let (min, max) = (arg(argv, 2), arg(argv, 3));
    let select = match kind {
        Kind::Score => score_range(&min, &max).map(Select::Score),
        Kind::Lex => lex_range(&min, &max).map(Select::Lex),
        Kind::Auto | Kind::Rank => integer(&min).and_then(|s| Ok(Select::Rank(s, integer(&max)?))),
    };
    let query = match select {
        Ok(select) => Query {
            select,
            rev: false,
            withscores: false,
            offset: 0,
            limit: -1,
        },
        Err(error) => return error,
    };
    let key = arg(argv, 1);
    let gone = read::<ZSet, _>(ctx, &key, |set| {
        let Some(set) = set else {
            return 0;
        };
        let doomed = query.run(set);
        for (member, _) in &doomed {
            set.remove(member);
        }
        doomed.len()
    });
    if let Ok(count) = gone {
        let event = match kind {
            Kind::Score => "zremrangebyscore",
            Kind::Lex => "zremrangebylex",
            Kind::Auto | Kind::Rank => "zremrangebyrank",
        };
        removed(ctx, &key, event, count);
    }
    reply(gone.map(|count| Frame::Integer(count as i64)))
}

/// `ZREMRANGEBYRANK key start stop`.
pub fn zremrangebyrank(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    remove_range(ctx, argv, Kind::Rank)
}

/// `ZREMRANGEBYSCORE key min max`.
pub fn zremrangebyscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    remove_range(ctx, argv, Kind::Score)
}

/// `ZREMRANGEBYLEX key min max`.
pub fn zremrangebylex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    remove_range(ctx, argv, Kind::Lex)
}
