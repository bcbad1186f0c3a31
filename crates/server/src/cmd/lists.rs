//! List commands.

use std::collections::VecDeque;

use bytes::Bytes;

use super::collection::{read, reply, update};
use super::{not_integer, parse_i64, Ctx, Spec};
use respect_resp::Frame;

type List = VecDeque<Bytes>;

/// This family's commands.
pub const COMMANDS: &[Spec] = &[
    Spec {
        name: "lpush",
        arity: -3,
        run: lpush,
    },
    Spec {
        name: "rpush",
        arity: -3,
        run: rpush,
    },
    Spec {
        name: "lpop",
        arity: -2,
        run: lpop,
    },
    Spec {
        name: "rpop",
        arity: -2,
        run: rpop,
    },
    Spec {
        name: "lrange",
        arity: 4,
        run: lrange,
    },
    Spec {
        name: "llen",
        arity: 2,
        run: llen,
    },
];

fn key(argv: &[Bytes]) -> Bytes {
    argv.get(1).cloned().unwrap_or_default()
}

fn push(ctx: &mut Ctx<'_>, argv: &[Bytes], front: bool) -> Frame {
    let values = argv.get(2..).unwrap_or_default();
    reply(update::<List, _>(ctx, &key(argv), |l| {
        for v in values {
            if front {
                l.push_front(v.clone());
            } else {
                l.push_back(v.clone());
            }
        }
        Frame::Integer(l.len() as i64)
    }))
}

fn lpush(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    push(ctx, argv, true)
}

fn rpush(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    push(ctx, argv, false)
}

fn pop(ctx: &mut Ctx<'_>, argv: &[Bytes], front: bool) -> Frame {
    let count = match argv.get(2) {
        None => None,
        Some(c) if argv.len() == 3 => match parse_i64(c) {
            Some(n) if n >= 0 => Some(n as usize),
            _ => return Frame::error("ERR value is out of range, must be positive"),
        },
        Some(_) => return super::syntax_error(),
    };
    let null_array = ctx.null_array();
    reply(read::<List, _>(ctx, &key(argv), |l| {
        let Some(l) = l else {
            return if count.is_some() {
                null_array
            } else {
                Frame::Null
            };
        };
        let mut take = || if front { l.pop_front() } else { l.pop_back() };
        match count {
            None => take().map_or(Frame::Null, Frame::Bulk),
            Some(n) => Frame::Array(std::iter::from_fn(take).take(n).map(Frame::Bulk).collect()),
        }
    }))
}

fn lpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    pop(ctx, argv, true)
}

fn rpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    pop(ctx, argv, false)
}

fn lrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (Some(start), Some(stop)) = (
        argv.get(2).and_then(|s| parse_i64(s)),
        argv.get(3).and_then(|s| parse_i64(s)),
    ) else {
        return not_integer();
    };
    reply(read::<List, _>(ctx, &key(argv), |l| {
        let Some(l) = l else {
            return Frame::Array(vec![]);
        };
        let len = l.len() as i64;
        let start = if start < 0 {
            (len + start).max(0)
        } else {
            start
        };
        let stop = if stop < 0 {
            len + stop
        } else {
            stop.min(len - 1)
        };
        if start > stop || start >= len {
            return Frame::Array(vec![]);
        }
        Frame::Array(
            l.iter()
                .skip(start as usize)
                .take((stop - start + 1) as usize)
                .cloned()
                .map(Frame::Bulk)
                .collect(),
        )
    }))
}

fn llen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    reply(read::<List, _>(ctx, &key(argv), |l| {
        Frame::Integer(l.map_or(0, |l| l.len()) as i64)
    }))
}
