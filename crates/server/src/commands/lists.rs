//! List commands.

use std::collections::VecDeque;

use bytes::Bytes;

use super::args::{integer, is_keyword, parse_i64, rank_span};
use super::collection::{read, reply, update};
use super::context::Ctx;
use super::registry::{
    BeginSearch, Categories, Category, Command, Docs, FindKeys, Flag, Flags, KeyFlag, KeyFlags,
    KeyRange, KeySpec, Spec,
};
use super::reply::{not_integer, ok, syntax_error, wrong_args};
use super::watch::signal_modified;
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
    Command {
        spec: Spec {
            name: "lindex",
            arity: 3,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::List, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Get an element from a list by its index",
                since: "1.0.0",
                group: "list",
                complexity: "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: lindex,
    },
    Command {
        spec: Spec {
            name: "linsert",
            arity: 5,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Insert]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::List, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Insert an element before or after another element in a list",
                since: "2.2.0",
                group: "list",
                complexity: "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: linsert,
    },
    Command {
        spec: Spec {
            name: "lset",
            arity: 4,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::List, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Set the value of an element in a list by its index",
                since: "1.0.0",
                group: "list",
                complexity: "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: lset,
    },
    Command {
        spec: Spec {
            name: "lrem",
            arity: 4,
            flags: Flags::of(&[Flag::Write]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::List, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Remove elements from a list",
                since: "1.0.0",
                group: "list",
                complexity: "O(N+M) where N is the length of the list and M is the number of elements removed.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: lrem,
    },
    Command {
        spec: Spec {
            name: "ltrim",
            arity: 4,
            flags: Flags::of(&[Flag::Write]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::List, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Trim a list to the specified range",
                since: "1.0.0",
                group: "list",
                complexity: "O(N) where N is the number of elements to be removed by the operation.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: ltrim,
    },
    Command {
        spec: Spec {
            name: "lpos",
            arity: -3,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::List, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Return the index of matching elements on a list",
                since: "6.0.6",
                group: "list",
                complexity: "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: lpos,
    },
    Command {
        spec: Spec {
            name: "lpushx",
            arity: -3,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Insert]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::List, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Prepend an element to a list, only if the list exists",
                since: "2.2.0",
                group: "list",
                complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
                deprecated: None,
                history: &[("4.0.0", "Accepts multiple `element` arguments.")],
            },
            subcommands: &[],
        },
        run: lpushx,
    },
    Command {
        spec: Spec {
            name: "rpushx",
            arity: -3,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Insert]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::List, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Append an element to a list, only if the list exists",
                since: "2.2.0",
                group: "list",
                complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
                deprecated: None,
                history: &[("4.0.0", "Accepts multiple `element` arguments.")],
            },
            subcommands: &[],
        },
        run: rpushx,
    },
];

fn key(argv: &[Bytes]) -> Bytes {
    argv.get(1).cloned().unwrap_or_default()
}

/// LPUSH/RPUSH, and LPUSHX/RPUSHX (`only_existing`: push only onto an existing list, 0 for a
/// missing key; an existing list has no blocked clients waiting on it, so nothing is woken).
fn push(ctx: &mut Ctx<'_>, argv: &[Bytes], front: bool, only_existing: bool) -> Frame {
    let values = argv.get(2..).unwrap_or_default();
    let key = key(argv);
    let extend = |l: &mut List| {
        for v in values {
            if front {
                l.push_front(v.clone());
            } else {
                l.push_back(v.clone());
            }
        }
        Frame::Integer(l.len() as i64)
    };
    let out = reply(if only_existing {
        read::<List, _>(ctx, &key, |l| l.map_or(Frame::Integer(0), extend))
    } else {
        update::<List, _>(ctx, &key, extend)
    });
    if super::events::changed(&out) > 0 {
        let event = if front { "lpush" } else { "rpush" };
        super::events::notify(ctx, crate::notify::LIST, event, &key);
    }
    out
}

fn lpush(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    push(ctx, argv, true, false)
}

fn rpush(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    push(ctx, argv, false, false)
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
        let Some((start, end)) = rank_span(start, stop, l.len()) else {
            return Frame::Array(vec![]);
        };
        Frame::Array(l.range(start..end).cloned().map(Frame::Bulk).collect())
    }))
}

fn llen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    reply(read::<List, _>(ctx, &key(argv), |l| {
        Frame::Integer(l.map_or(0, |l| l.len()) as i64)
    }))
}

/// A list index as Redis reads it (negative counts from the tail): the position it names,
/// if inside a list of `len` elements.
fn position(index: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let at = if index < 0 {
        len.checked_add(index)?
    } else {
        index
    };
    usize::try_from(at).ok().filter(|_| at < len)
}

fn lindex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let index = argv.get(2).and_then(|s| parse_i64(s));
    reply(read::<List, _>(ctx, &key(argv), |l| {
        // Redis looks the key up first: a missing key is null whatever the index.
        let Some(l) = l else {
            return Frame::Null;
        };
        let Some(index) = index else {
            return not_integer();
        };
        position(index, l.len())
            .and_then(|at| l.get(at).cloned())
            .map_or(Frame::Null, Frame::Bulk)
    }))
}

/// `LINSERT key BEFORE|AFTER pivot element`: the new length, 0 for a missing key, -1 when the
/// pivot is not in the list. Signals its key itself (the `Manual` rule): -1 changed nothing.
fn linsert(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let after = match argv.get(2) {
        Some(w) if is_keyword(w, "AFTER") => true,
        Some(w) if is_keyword(w, "BEFORE") => false,
        _ => return syntax_error(),
    };
    let (Some(pivot), Some(element)) = (argv.get(3), argv.get(4)) else {
        return wrong_args("linsert");
    };
    let key = key(argv);
    let out = reply(read::<List, _>(ctx, &key, |l| {
        let Some(l) = l else {
            return Frame::Integer(0);
        };
        match l.iter().position(|e| e == pivot) {
            Some(at) => {
                l.insert(if after { at + 1 } else { at }, element.clone());
                Frame::Integer(l.len() as i64)
            }
            None => Frame::Integer(-1),
        }
    }));
    if super::events::changed(&out) > 0 {
        signal_modified(ctx, ctx.state.db_index, &key);
        super::events::notify(ctx, crate::notify::LIST, "linsert", &key);
    }
    out
}

fn lset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let index = argv.get(2).and_then(|s| parse_i64(s));
    let value = argv.get(3).cloned().unwrap_or_default();
    let key = key(argv);
    let out = reply(read::<List, _>(ctx, &key, |l| {
        let Some(l) = l else {
            return Frame::error("ERR no such key");
        };
        let Some(index) = index else {
            return not_integer();
        };
        match position(index, l.len()).and_then(|at| l.get_mut(at)) {
            Some(slot) => {
                *slot = value;
                ok()
            }
            None => Frame::error("ERR index out of range"),
        }
    }));
    if !out.is_error() {
        super::events::notify(ctx, crate::notify::LIST, "lset", &key);
    }
    out
}

/// `LREM key count element`: count > 0 removes that many from the head, < 0 from the tail,
/// 0 every match.
fn lrem(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let Some(count) = argv.get(2).and_then(|s| parse_i64(s)) else {
        return not_integer();
    };
    let element = argv.get(3).cloned().unwrap_or_default();
    let key = key(argv);
    let limit = count.unsigned_abs();
    let out = reply(read::<List, _>(ctx, &key, |l| {
        let Some(l) = l else {
            return Frame::Integer(0);
        };
        let from_tail = count < 0;
        if from_tail {
            l.make_contiguous().reverse();
        }
        let mut removed: u64 = 0;
        l.retain(|e| {
            let hit = (limit == 0 || removed < limit) && *e == element;
            removed += u64::from(hit);
            !hit
        });
        if from_tail {
            l.make_contiguous().reverse();
        }
        Frame::Integer(i64::try_from(removed).unwrap_or(i64::MAX))
    }));
    if super::events::changed(&out) > 0 {
        super::events::notify(ctx, crate::notify::LIST, "lrem", &key);
        super::events::notify_if_deleted(ctx, &key);
    }
    out
}

/// `LTRIM key start stop`: keeps the range LRANGE would return. On an existing list it
/// always counts as a change (event and WATCH), even when nothing was cut, as in Redis; a
/// missing key is `+OK` and nothing else. Signals its key itself (the `Manual` rule).
fn ltrim(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (Some(start), Some(stop)) = (
        argv.get(2).and_then(|s| parse_i64(s)),
        argv.get(3).and_then(|s| parse_i64(s)),
    ) else {
        return not_integer();
    };
    let key = key(argv);
    let existed = read::<List, _>(ctx, &key, |l| {
        let Some(l) = l else {
            return false;
        };
        match rank_span(start, stop, l.len()) {
            Some((start, end)) => {
                l.truncate(end);
                l.drain(..start);
            }
            None => l.clear(),
        }
        true
    });
    match existed {
        Err(error) => error,
        Ok(false) => ok(),
        Ok(true) => {
            signal_modified(ctx, ctx.state.db_index, &key);
            super::events::notify(ctx, crate::notify::LIST, "ltrim", &key);
            super::events::notify_if_deleted(ctx, &key);
            ok()
        }
    }
}

/// LPOS's options, parsed as Redis's `lposCommand` does before it looks at the key.
struct LposOptions {
    rank: i64,
    /// `None` without COUNT (a single index or null is answered), 0 for every match.
    count: Option<i64>,
    /// 0: no limit.
    maxlen: i64,
}

fn lpos_options(args: &[Bytes]) -> Result<LposOptions, Frame> {
    let mut options = LposOptions {
        rank: 1,
        count: None,
        maxlen: 0,
    };
    let mut args = args.iter();
    while let Some(option) = args.next() {
        let remaining = args.len();
        if is_keyword(option, "RANK") && remaining > 0 {
            let rank = args.next().map_or(Err(not_integer()), |v| integer(v))?;
            if rank == 0 {
                return Err(Frame::error(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                ));
            }
            options.rank = rank;
        } else if is_keyword(option, "COUNT") && remaining > 0 {
            options.count = Some(non_negative(args.next(), "ERR COUNT can't be negative")?);
        } else if is_keyword(option, "MAXLEN") && remaining > 0 {
            options.maxlen = non_negative(args.next(), "ERR MAXLEN can't be negative")?;
        } else {
            return Err(syntax_error());
        }
    }
    Ok(options)
}

/// An integer >= 0, or the error `message` (also for a non-integer, as Redis's
/// `getPositiveLongFromObjectOrReply` with a message answers).
fn non_negative(arg: Option<&Bytes>, message: &'static str) -> Result<i64, Frame> {
    arg.and_then(|a| parse_i64(a))
        .filter(|n| *n >= 0)
        .ok_or_else(|| Frame::error(message))
}

/// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]`. A negative RANK searches
/// from the tail. Redis negates RANK in a C `long`, so `RANK -9223372036854775808` stays
/// negative: every match then qualifies and COUNT never stops the search; the wrapping
/// arithmetic below reproduces that.
fn lpos(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let element = argv.get(2).cloned().unwrap_or_default();
    let options = match lpos_options(argv.get(3..).unwrap_or_default()) {
        Ok(options) => options,
        Err(error) => return error,
    };
    let from_tail = options.rank < 0;
    let rank = if from_tail {
        options.rank.wrapping_neg()
    } else {
        options.rank
    };
    let null = Frame::Null;
    reply(read::<List, _>(ctx, &key(argv), |l| {
        let Some(l) = l else {
            return if options.count.is_some() {
                Frame::Array(vec![])
            } else {
                null
            };
        };
        let len = l.len();
        let scanned = usize::try_from(options.maxlen)
            .ok()
            .filter(|m| *m > 0)
            .unwrap_or(len);
        let at = |i: usize| if from_tail { len - 1 - i } else { i };
        let mut matches: i64 = 0;
        let mut found = Vec::new();
        for i in 0..len.min(scanned) {
            let Some(e) = l.get(at(i)) else { break };
            if *e != element {
                continue;
            }
            matches += 1;
            if matches < rank {
                continue;
            }
            let index = Frame::Integer(at(i) as i64);
            match options.count {
                None => return index,
                Some(count) => {
                    found.push(index);
                    if count != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= count {
                        break;
                    }
                }
            }
        }
        if options.count.is_some() {
            Frame::Array(found)
        } else {
            Frame::Null
        }
    }))
}

fn lpushx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    push(ctx, argv, true, true)
}

fn rpushx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    push(ctx, argv, false, true)
}
