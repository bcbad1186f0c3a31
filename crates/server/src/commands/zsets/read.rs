//! Lookups: ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK, ZCOUNT, ZLEXCOUNT.

use bytes::Bytes;
use respect_resp::Frame;

use super::super::collection::{read, reply};
use super::{arg, bound_not_float, bound_not_lex, score};
use crate::commands::context::Ctx;
use crate::zset::{LexBound, LexRange, ScoreBound, ScoreRange, ZSet};

/// `ZCARD key`.
pub fn zcard(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    reply(read::<ZSet, _>(ctx, &arg(argv, 1), |set| {
        Frame::Integer(set.map_or(0, |s| s.len()) as i64)
    }))
}

/// `ZSCORE key member`.
pub fn zscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let member = arg(argv, 2);
    reply(read::<ZSet, _>(ctx, &arg(argv, 1), |set| {
        set.and_then(|s| s.score(&member))
            .map_or(Frame::Null, score)
    }))
}

/// `ZMSCORE key member [member ...]`.
pub fn zmscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let members = argv.get(2..).unwrap_or_default();
    reply(read::<ZSet, _>(ctx, &arg(argv, 1), |set| {
        Frame::Array(
            members
                .iter()
                .map(|m| {
                    set.as_ref()
                        .and_then(|s| s.score(m))
                        .map_or(Frame::Null, score)
                })
                .collect(),
        )
    }))
}

/// `ZRANK key member`.
pub fn zrank(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    rank(ctx, argv, false)
}

/// `ZREVRANK key member`.
pub fn zrevrank(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    rank(ctx, argv, true)
}

fn rank(ctx: &mut Ctx<'_>, argv: &[Bytes], rev: bool) -> Frame {
    let member = arg(argv, 2);
    reply(read::<ZSet, _>(ctx, &arg(argv, 1), |set| {
        set.and_then(|s| s.rank(&member, rev))
            .map_or(Frame::Null, |r| Frame::Integer(r as i64))
    }))
}

/// A score range from two arguments, or `ERR min or max is not a float`.
pub(super) fn score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, Frame> {
    match (ScoreBound::parse(min), ScoreBound::parse(max)) {
        (Some(min), Some(max)) => Ok(ScoreRange { min, max }),
        _ => Err(bound_not_float()),
    }
}

/// A lexical range from two arguments, or `ERR min or max not valid string range item`.
pub(super) fn lex_range(min: &Bytes, max: &Bytes) -> Result<LexRange, Frame> {
    match (LexBound::parse(min), LexBound::parse(max)) {
        (Some(min), Some(max)) => Ok(LexRange { min, max }),
        _ => Err(bound_not_lex()),
    }
}

/// `ZCOUNT key min max`: two rank lookups.
pub fn zcount(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let range = match score_range(&arg(argv, 2), &arg(argv, 3)) {
        Ok(range) => range,
        Err(error) => return error,
    };
    reply(read::<ZSet, _>(ctx, &arg(argv, 1), |set| {
        Frame::Integer(set.map_or(0, |s| {
            let (start, end) = s.ranks_by_score(&range);
            end - start
        }) as i64)
    }))
}

/// `ZLEXCOUNT key min max`.
pub fn zlexcount(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let range = match lex_range(&arg(argv, 2), &arg(argv, 3)) {
        Ok(range) => range,
        Err(error) => return error,
    };
    reply(read::<ZSet, _>(ctx, &arg(argv, 1), |set| {
        Frame::Integer(set.map_or(0, |s| {
            let (start, end) = s.ranks_by_lex(&range, false);
            end - start
        }) as i64)
    }))
}
