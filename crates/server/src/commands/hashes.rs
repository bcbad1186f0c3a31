//! Hash commands. HGETALL is a map: `%N` in RESP3, a flat array in RESP2.

use bytes::Bytes;
use indexmap::IndexMap;

use super::args::parse_i64;
use super::collection::{read, reply, update};
use super::context::Ctx;
use super::registry::{
    BeginSearch, Categories, Category, Command, Deprecation, Docs, FindKeys, Flag, Flags, KeyFlag,
    KeyFlags, KeyRange, KeySpec, Spec,
};
use super::reply::{not_integer, ok, wrong_args};
use respect_resp::Frame;

type Hash = IndexMap<Bytes, Bytes>;

/// This family's commands.
pub const COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "hset",
            arity: -4,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Hash, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Set the string value of a hash field",
                since: "2.0.0",
                group: "hash",
                complexity: "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.",
                deprecated: None,
                history: &[("4.0.0", "Accepts multiple `field` and `value` arguments.")],
            },
            subcommands: &[],
        },
        run: hset,
    },
    Command {
        spec: Spec {
            name: "hmset",
            arity: -4,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Hash, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Set multiple hash fields to multiple values",
                since: "2.0.0",
                group: "hash",
                complexity: "O(N) where N is the number of fields being set.",
                deprecated: Some(Deprecation { since: "4.0.0", replaced_by: "`HSET` with multiple field-value pairs" }),
                history: &[],
            },
            subcommands: &[],
        },
        run: hmset,
    },
    Command {
        spec: Spec {
            name: "hsetnx",
            arity: 4,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Insert]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Hash, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Set the value of a hash field, only if the field does not exist",
                since: "2.0.0",
                group: "hash",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: hsetnx,
    },
    Command {
        spec: Spec {
            name: "hget",
            arity: 3,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Hash, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Get the value of a hash field",
                since: "2.0.0",
                group: "hash",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: hget,
    },
    Command {
        spec: Spec {
            name: "hgetall",
            arity: 2,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Hash, Category::Slow]),
            tips: &["nondeterministic_output_order"],
            docs: Docs {
                summary: "Get all the fields and values in a hash",
                since: "2.0.0",
                group: "hash",
                complexity: "O(N) where N is the size of the hash.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: hgetall,
    },
    Command {
        spec: Spec {
            name: "hdel",
            arity: -3,
            flags: Flags::of(&[Flag::Write, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Hash, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Delete one or more hash fields",
                since: "2.0.0",
                group: "hash",
                complexity: "O(N) where N is the number of fields to be removed.",
                deprecated: None,
                history: &[("2.4.0", "Accepts multiple `field` arguments.")],
            },
            subcommands: &[],
        },
        run: hdel,
    },
    Command {
        spec: Spec {
            name: "hlen",
            arity: 2,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Hash, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Get the number of fields in a hash",
                since: "2.0.0",
                group: "hash",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: hlen,
    },
    Command {
        spec: Spec {
            name: "hkeys",
            arity: 2,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Hash, Category::Slow]),
            tips: &["nondeterministic_output_order"],
            docs: Docs {
                summary: "Get all the fields in a hash",
                since: "2.0.0",
                group: "hash",
                complexity: "O(N) where N is the size of the hash.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: hkeys,
    },
    Command {
        spec: Spec {
            name: "hvals",
            arity: 2,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Hash, Category::Slow]),
            tips: &["nondeterministic_output_order"],
            docs: Docs {
                summary: "Get all the values in a hash",
                since: "2.0.0",
                group: "hash",
                complexity: "O(N) where N is the size of the hash.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: hvals,
    },
    Command {
        spec: Spec {
            name: "hmget",
            arity: -3,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Hash, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Get the values of all the given hash fields",
                since: "2.0.0",
                group: "hash",
                complexity: "O(N) where N is the number of fields being requested.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: hmget,
    },
    Command {
        spec: Spec {
            name: "hexists",
            arity: 3,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Hash, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Determine if a hash field exists",
                since: "2.0.0",
                group: "hash",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: hexists,
    },
    Command {
        spec: Spec {
            name: "hincrby",
            arity: 4,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Hash, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Increment the integer value of a hash field by the given number",
                since: "2.0.0",
                group: "hash",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
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
    let out = set_fields(ctx, argv, "hset").map(|n| Frame::Integer(n as i64));
    if out.is_ok() {
        super::events::notify(ctx, crate::notify::HASH, "hset", &key(argv));
    }
    reply(out)
}

fn hmset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let out = set_fields(ctx, argv, "hmset").map(|_| ok());
    if out.is_ok() {
        super::events::notify(ctx, crate::notify::HASH, "hset", &key(argv));
    }
    reply(out)
}

fn hsetnx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (field, value) = (
        argv.get(2).cloned().unwrap_or_default(),
        argv.get(3).cloned().unwrap_or_default(),
    );
    let out = reply(update::<Hash, _>(ctx, &key(argv), |h| {
        if h.contains_key(&field) {
            Frame::Integer(0)
        } else {
            h.insert(field, value);
            Frame::Integer(1)
        }
    }));
    if super::events::changed(&out) > 0 {
        super::events::notify(ctx, crate::notify::HASH, "hset", &key(argv));
    }
    out
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
    let out = reply(read::<Hash, _>(ctx, &key(argv), |h| {
        Frame::Integer(h.map_or(0, |h| {
            fields
                .iter()
                .filter(|f| h.shift_remove(*f).is_some())
                .count()
        }) as i64)
    }));
    if super::events::changed(&out) > 0 {
        super::events::notify(ctx, crate::notify::HASH, "hdel", &key(argv));
        super::events::notify_if_deleted(ctx, &key(argv));
    }
    out
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
    let out = reply(update::<Hash, _>(ctx, &key(argv), |h| {
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
    }));
    if !out.is_error() {
        super::events::notify(ctx, crate::notify::HASH, "hincrby", &key(argv));
    }
    out
}
