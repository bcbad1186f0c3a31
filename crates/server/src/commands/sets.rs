//! Set commands. SMEMBERS is a set: `~N` in RESP3, an array in RESP2.

use bytes::Bytes;
use indexmap::IndexSet;

use super::collection::{read, reply, update};
use super::context::Ctx;
use super::registry::{
    BeginSearch, Categories, Category, Command, Docs, FindKeys, Flag, Flags, KeyFlag, KeyFlags,
    KeyRange, KeySpec, Spec,
};
use respect_resp::Frame;

type Set = IndexSet<Bytes>;

/// This family's commands.
pub const COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "sadd",
            arity: -3,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Insert]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Set, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Add one or more members to a set",
                since: "1.0.0",
                group: "set",
                complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
                deprecated: None,
                history: &[("2.4.0", "Accepts multiple `member` arguments.")],
            },
            subcommands: &[],
        },
        run: sadd,
    },
    Command {
        spec: Spec {
            name: "srem",
            arity: -3,
            flags: Flags::of(&[Flag::Write, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Set, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Remove one or more members from a set",
                since: "1.0.0",
                group: "set",
                complexity: "O(N) where N is the number of members to be removed.",
                deprecated: None,
                history: &[("2.4.0", "Accepts multiple `member` arguments.")],
            },
            subcommands: &[],
        },
        run: srem,
    },
    Command {
        spec: Spec {
            name: "smembers",
            arity: 2,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Set, Category::Slow]),
            tips: &["nondeterministic_output_order"],
            docs: Docs {
                summary: "Get all the members in a set",
                since: "1.0.0",
                group: "set",
                complexity: "O(N) where N is the set cardinality.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: smembers,
    },
    Command {
        spec: Spec {
            name: "sismember",
            arity: 3,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Set, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Determine if a given value is a member of a set",
                since: "1.0.0",
                group: "set",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: sismember,
    },
    Command {
        spec: Spec {
            name: "scard",
            arity: 2,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Set, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Get the number of members in a set",
                since: "1.0.0",
                group: "set",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: scard,
    },
];

fn key(argv: &[Bytes]) -> Bytes {
    argv.get(1).cloned().unwrap_or_default()
}

fn sadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let members = argv.get(2..).unwrap_or_default();
    let out = reply(update::<Set, _>(ctx, &key(argv), |s| {
        Frame::Integer(members.iter().filter(|m| s.insert((*m).clone())).count() as i64)
    }));
    if super::events::changed(&out) > 0 {
        super::events::notify(ctx, crate::notify::SET, "sadd", &key(argv));
    }
    out
}

fn srem(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let members = argv.get(2..).unwrap_or_default();
    let out = reply(read::<Set, _>(ctx, &key(argv), |s| {
        Frame::Integer(
            s.map_or(0, |s| members.iter().filter(|m| s.shift_remove(*m)).count()) as i64,
        )
    }));
    if super::events::changed(&out) > 0 {
        super::events::notify(ctx, crate::notify::SET, "srem", &key(argv));
        super::events::notify_if_deleted(ctx, &key(argv));
    }
    out
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
