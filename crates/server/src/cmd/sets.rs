//! Set commands. SMEMBERS is a set: `~N` in RESP3, an array in RESP2.

use bytes::Bytes;
use indexmap::IndexSet;

use super::collection::{read, reply, update};
use super::{Ctx, Spec};
use respect_resp::Frame;

type Set = IndexSet<Bytes>;

/// This family's commands.
pub const COMMANDS: &[Spec] = &[
    Spec {
        name: "sadd",
        arity: -3,
        run: sadd,
    },
    Spec {
        name: "srem",
        arity: -3,
        run: srem,
    },
    Spec {
        name: "smembers",
        arity: 2,
        run: smembers,
    },
    Spec {
        name: "sismember",
        arity: 3,
        run: sismember,
    },
    Spec {
        name: "scard",
        arity: 2,
        run: scard,
    },
];

fn key(argv: &[Bytes]) -> Bytes {
    argv.get(1).cloned().unwrap_or_default()
}

fn sadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let members = argv.get(2..).unwrap_or_default();
    reply(update::<Set, _>(ctx, &key(argv), |s| {
        Frame::Integer(members.iter().filter(|m| s.insert((*m).clone())).count() as i64)
    }))
}

fn srem(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let members = argv.get(2..).unwrap_or_default();
    reply(read::<Set, _>(ctx, &key(argv), |s| {
        Frame::Integer(
            s.map_or(0, |s| members.iter().filter(|m| s.shift_remove(*m)).count()) as i64,
        )
    }))
}

fn smembers(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    reply(read::<Set, _>(ctx, &key(argv), |s| {
        Frame::Set(
            s.map(|s| s.iter().cloned().map(Frame::Bulk).collect())
                .unwrap_or_default(),
        )
    }))
}

fn sismember(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let member = argv.get(2).cloned().unwrap_or_default();
    reply(read::<Set, _>(ctx, &key(argv), |s| {
        Frame::Integer(i64::from(s.is_some_and(|s| s.contains(&member))))
    }))
}

fn scard(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    reply(read::<Set, _>(ctx, &key(argv), |s| {
        Frame::Integer(s.map_or(0, |s| s.len()) as i64)
    }))
}
