//! Hash commands. HGETALL is a map: `%N` in RESP3, a flat array in RESP2.

use bytes::Bytes;
use indexmap::IndexMap;

use super::collection::{read, reply, update};
use super::{not_integer, parse_i64, wrong_args, Ctx, Spec};
use respect_resp::Frame;

type Hash = IndexMap<Bytes, Bytes>;

/// This family's commands.
pub const COMMANDS: &[Spec] = &[
    Spec {
        name: "hset",
        arity: -4,
        run: hset,
    },
    Spec {
        name: "hmset",
        arity: -4,
        run: hmset,
    },
    Spec {
        name: "hsetnx",
        arity: 4,
        run: hsetnx,
    },
    Spec {
        name: "hget",
        arity: 3,
        run: hget,
    },
    Spec {
        name: "hgetall",
        arity: 2,
        run: hgetall,
    },
    Spec {
        name: "hdel",
        arity: -3,
        run: hdel,
    },
    Spec {
        name: "hlen",
        arity: 2,
        run: hlen,
    },
    Spec {
        name: "hkeys",
        arity: 2,
        run: hkeys,
    },
    Spec {
        name: "hvals",
        arity: 2,
        run: hvals,
    },
    Spec {
        name: "hmget",
        arity: -3,
        run: hmget,
    },
    Spec {
        name: "hexists",
        arity: 3,
        run: hexists,
    },
    Spec {
        name: "hincrby",
        arity: 4,
        run: hincrby,
    },
];

fn key(argv: &[Bytes]) -> Bytes {
    argv.get(1).cloned().unwrap_or_default()
}

fn set_fields(ctx: &mut Ctx<'_>, argv: &[Bytes], name: &str) -> Result<usize, Frame> {
    let fields = argv.get(2..).unwrap_or_default();
    if fields.len() % 2 != 0 {
        return Err(wrong_args(name));
    }
    update::<Hash, _>(ctx, &key(argv), |h| {
        fields
            .chunks(2)
            .filter(|p| h.insert(p[0].clone(), p[1].clone()).is_none())
            .count()
    })
}

fn hset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    reply(set_fields(ctx, argv, "hset").map(|n| Frame::Integer(n as i64)))
}

fn hmset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    reply(set_fields(ctx, argv, "hmset").map(|_| super::ok()))
}

fn hsetnx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (field, value) = (
        argv.get(2).cloned().unwrap_or_default(),
        argv.get(3).cloned().unwrap_or_default(),
    );
    reply(update::<Hash, _>(ctx, &key(argv), |h| {
        if h.contains_key(&field) {
            Frame::Integer(0)
        } else {
            h.insert(field, value);
            Frame::Integer(1)
        }
    }))
}

fn hget(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let field = argv.get(2).cloned().unwrap_or_default();
    reply(read::<Hash, _>(ctx, &key(argv), |h| {
        h.and_then(|h| h.get(&field).cloned())
            .map_or(Frame::Null, Frame::Bulk)
    }))
}

fn hgetall(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    reply(read::<Hash, _>(ctx, &key(argv), |h| {
        Frame::Map(
            h.map(|h| {
                h.iter()
                    .map(|(k, v)| (Frame::Bulk(k.clone()), Frame::Bulk(v.clone())))
                    .collect()
            })
            .unwrap_or_default(),
        )
    }))
}

fn hdel(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let fields = argv.get(2..).unwrap_or_default();
    reply(read::<Hash, _>(ctx, &key(argv), |h| {
        Frame::Integer(h.map_or(0, |h| {
            fields
                .iter()
                .filter(|f| h.shift_remove(*f).is_some())
                .count()
        }) as i64)
    }))
}

fn hlen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    reply(read::<Hash, _>(ctx, &key(argv), |h| {
        Frame::Integer(h.map_or(0, |h| h.len()) as i64)
    }))
}

fn hkeys(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    reply(read::<Hash, _>(ctx, &key(argv), |h| {
        Frame::Array(
            h.map(|h| h.keys().cloned().map(Frame::Bulk).collect())
                .unwrap_or_default(),
        )
    }))
}

fn hvals(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    reply(read::<Hash, _>(ctx, &key(argv), |h| {
        Frame::Array(
            h.map(|h| h.values().cloned().map(Frame::Bulk).collect())
                .unwrap_or_default(),
        )
    }))
}

fn hmget(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let fields = argv.get(2..).unwrap_or_default();
    reply(read::<Hash, _>(ctx, &key(argv), |h| {
        Frame::Array(
            fields
                .iter()
                .map(|f| {
                    h.as_ref()
                        .and_then(|h| h.get(f).cloned())
                        .map_or(Frame::Null, Frame::Bulk)
                })
                .collect(),
        )
    }))
}

fn hexists(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let field = argv.get(2).cloned().unwrap_or_default();
    reply(read::<Hash, _>(ctx, &key(argv), |h| {
        Frame::Integer(i64::from(h.is_some_and(|h| h.contains_key(&field))))
    }))
}

fn hincrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let field = argv.get(2).cloned().unwrap_or_default();
    let Some(delta) = argv.get(3).and_then(|d| parse_i64(d)) else {
        return not_integer();
    };
    reply(update::<Hash, _>(ctx, &key(argv), |h| {
        let current = match h.get(&field) {
            None => 0,
            Some(v) => match parse_i64(v) {
                Some(n) => n,
                None => return Frame::error("ERR hash value is not an integer"),
            },
        };
        match current.checked_add(delta) {
            Some(next) => {
                h.insert(field, Bytes::from(next.to_string()));
                Frame::Integer(next)
            }
            None => Frame::error("ERR increment or decrement would overflow"),
        }
    }))
}
