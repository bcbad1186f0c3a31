//! List commands.

use std::collections::VecDeque;

use bytes::Bytes;

use super::args::parse_i64;
use super::collection::{read, reply, update};
use super::context::Ctx;
use super::registry::{
    BeginSearch, Categories, Category, Command, Docs, FindKeys, Flag, Flags, KeyFlag, KeyFlags,
    KeyRange, KeySpec, Spec,
};
use super::reply::{not_integer, wrong_args};
use respect_resp::Frame;

type List = VecDeque<Bytes>;

/// This family's commands.
pub const COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "lpush",
            arity: -3,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Insert]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::List, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Prepend one or multiple elements to a list",
                since: "1.0.0",
                group: "list",
                complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
                deprecated: None,
                history: &[("2.4.0", "Accepts multiple `element` arguments.")],
            },
            subcommands: &[],
        },
        run: lpush,
    },
    Command {
        spec: Spec {
            name: "rpush",
            arity: -3,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Insert]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::List, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Append one or multiple elements to a list",
                since: "1.0.0",
                group: "list",
                complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
                deprecated: None,
                history: &[("2.4.0", "Accepts multiple `element` arguments.")],
            },
            subcommands: &[],
        },
        run: rpush,
    },
    Command {
        spec: Spec {
            name: "lpop",
            arity: -2,
            flags: Flags::of(&[Flag::Write, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::List, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Remove and get the first elements in a list",
                since: "1.0.0",
                group: "list",
                complexity: "O(N) where N is the number of elements returned",
                deprecated: None,
                history: &[("6.2.0", "Added the `count` argument.")],
            },
            subcommands: &[],
        },
        run: lpop,
    },
    Command {
        spec: Spec {
            name: "rpop",
            arity: -2,
            flags: Flags::of(&[Flag::Write, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::List, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Remove and get the last elements in a list",
                since: "1.0.0",
                group: "list",
                complexity: "O(N) where N is the number of elements returned",
                deprecated: None,
                history: &[("6.2.0", "Added the `count` argument.")],
            },
            subcommands: &[],
        },
        run: rpop,
    },
    Command {
        spec: Spec {
            name: "lrange",
            arity: 4,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::List, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Get a range of elements from a list",
                since: "1.0.0",
                group: "list",
                complexity: "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: lrange,
    },
    Command {
        spec: Spec {
            name: "llen",
            arity: 2,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::List, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Get the length of a list",
                since: "1.0.0",
                group: "list",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: llen,
    },
];

fn key(argv: &[Bytes]) -> Bytes {
    argv.get(1).cloned().unwrap_or_default()
}

fn push(ctx: &mut Ctx<'_>, argv: &[Bytes], front: bool) -> Frame {
    let values = argv.get(2..).unwrap_or_default();
    let key = key(argv);
    let result = update::<List, _>(ctx, &key, |l| {
        for v in values {
            if front {
                l.push_front(v.clone());
            } else {
                l.push_back(v.clone());
            }
        }
        Frame::Integer(l.len() as i64)
    });
    if result.is_ok() {
        let event = if front { "lpush" } else { "rpush" };
        super::events::notify(ctx, crate::notify::LIST, event, &key);
    }
    reply(result)
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
        // Redis 7.0 declares LPOP/RPOP `key [count]`: more is an arity error, not syntax.
        Some(_) => return wrong_args(if front { "lpop" } else { "rpop" }),
    };
    let null_array = ctx.null_array();
    let out = reply(read::<List, _>(ctx, &key(argv), |l| {
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
    }));
    let popped = match &out {
        Frame::Bulk(_) => true,
        Frame::Array(items) => !items.is_empty(),
        _ => false,
    };
    if popped {
        let event = if front { "lpop" } else { "rpop" };
        super::events::notify(ctx, crate::notify::LIST, event, &key(argv));
        super::events::notify_if_deleted(ctx, &key(argv));
    }
    out
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
