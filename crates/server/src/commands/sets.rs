//! Set commands. SMEMBERS is a set: `~N` in RESP3, an array in RESP2.

use bytes::Bytes;
use indexmap::IndexSet;

use super::args::parse_i64;
use super::collection::{read, reply, update};
use super::context::Ctx;
use super::propagate::word;
use super::registry::{
    BeginSearch, Categories, Category, Command, Docs, FindKeys, Flag, Flags, KeyFlag, KeyFlags,
    KeyRange, KeySpec, Spec,
};
use super::reply::{not_integer, syntax_error, wrong_type};
use super::set_algebra::{sdiff, sdiffstore, sinter, sintercard, sinterstore, sunion, sunionstore};
use super::watch::signal_modified;
use super::zsets::pop::{distinct_positions, random_below, MAX_RANDOM_REPLY_MEMBERS};
use super::zsets::scan::{cursor as scan_cursor, page_by_hash, parse_options as scan_options};
use crate::db::{Entry, Value};
use crate::glob::glob_match;
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
    Command {
        spec: Spec {
            name: "spop",
            arity: -2,
            flags: Flags::of(&[Flag::Write, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Set, Category::Fast]),
            tips: &["nondeterministic_output"],
            docs: Docs {
                summary: "Remove and return one or multiple random members from a set",
                since: "1.0.0",
                group: "set",
                complexity: "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
                deprecated: None,
                history: &[("3.2.0", "Added the `count` argument.")],
            },
            subcommands: &[],
        },
        run: spop,
    },
    Command {
        spec: Spec {
            name: "srandmember",
            arity: -2,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Set, Category::Slow]),
            tips: &["nondeterministic_output"],
            docs: Docs {
                summary: "Get one or multiple random members from a set",
                since: "1.0.0",
                group: "set",
                complexity: "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
                deprecated: None,
                history: &[("2.6.0", "Added the optional `count` argument.")],
            },
            subcommands: &[],
        },
        run: srandmember,
    },
    Command {
        spec: Spec {
            name: "smove",
            arity: 4,
            flags: Flags::of(&[Flag::Write, Flag::Fast]),
            keys: KeyRange { first: 1, last: 2, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }, KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Insert]), begin: BeginSearch::Index(2), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Set, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Move a member from one set to another",
                since: "1.0.0",
                group: "set",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: smove,
    },
    Command {
        spec: Spec {
            name: "smismember",
            arity: -3,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Set, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Returns the membership associated with the given elements for a set",
                since: "6.2.0",
                group: "set",
                complexity: "O(N) where N is the number of elements being checked for membership",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: smismember,
    },
    Command {
        spec: Spec {
            name: "sinter",
            arity: -2,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: -1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: -1, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Set, Category::Slow]),
            tips: &["nondeterministic_output_order"],
            docs: Docs {
                summary: "Intersect multiple sets",
                since: "1.0.0",
                group: "set",
                complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: sinter,
    },
    Command {
        spec: Spec {
            name: "sinterstore",
            arity: -3,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom]),
            keys: KeyRange { first: 1, last: -1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }, KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(2), find: FindKeys::Range { last_key: -1, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Set, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Intersect multiple sets and store the resulting set in a key",
                since: "1.0.0",
                group: "set",
                complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: sinterstore,
    },
    Command {
        spec: Spec {
            name: "sunion",
            arity: -2,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: -1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: -1, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Set, Category::Slow]),
            tips: &["nondeterministic_output_order"],
            docs: Docs {
                summary: "Add multiple sets",
                since: "1.0.0",
                group: "set",
                complexity: "O(N) where N is the total number of elements in all given sets.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: sunion,
    },
    Command {
        spec: Spec {
            name: "sunionstore",
            arity: -3,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom]),
            keys: KeyRange { first: 1, last: -1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ow, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }, KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(2), find: FindKeys::Range { last_key: -1, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Set, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Add multiple sets and store the resulting set in a key",
                since: "1.0.0",
                group: "set",
                complexity: "O(N) where N is the total number of elements in all given sets.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: sunionstore,
    },
    Command {
        spec: Spec {
            name: "sdiff",
            arity: -2,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: -1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: -1, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Set, Category::Slow]),
            tips: &["nondeterministic_output_order"],
            docs: Docs {
                summary: "Subtract multiple sets",
                since: "1.0.0",
                group: "set",
                complexity: "O(N) where N is the total number of elements in all given sets.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: sdiff,
    },
    Command {
        spec: Spec {
            name: "sdiffstore",
            arity: -3,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom]),
            keys: KeyRange { first: 1, last: -1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ow, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }, KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(2), find: FindKeys::Range { last_key: -1, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Set, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Subtract multiple sets and store the resulting set in a key",
                since: "1.0.0",
                group: "set",
                complexity: "O(N) where N is the total number of elements in all given sets.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: sdiffstore,
    },
    Command {
        spec: Spec {
            name: "sintercard",
            arity: -3,
            flags: Flags::of(&[Flag::Readonly, Flag::Movablekeys]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::KeyNum { key_num_index: 0, first_key: 1, key_step: 1 } }],
            acl: Categories::of(&[Category::Read, Category::Set, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Intersect multiple sets and return the cardinality of the result",
                since: "7.0.0",
                group: "set",
                complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: sintercard,
    },
    Command {
        spec: Spec {
            name: "sscan",
            arity: -3,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Set, Category::Slow]),
            tips: &["nondeterministic_output"],
            docs: Docs {
                summary: "Incrementally iterate Set elements",
                since: "2.8.0",
                group: "set",
                complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: sscan,
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
        s.map_or_else(|| Frame::Set(vec![]), |s| set_reply(s))
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

/// The members of `set` in the order Redis walks them where that order is defined: ascending
/// numbers for what Redis would hold as an intset (see [`intset_order`]), otherwise the order
/// they are kept in. Borrowed: a caller clones only what it replies with or keeps.
pub fn walk_order(set: &Set) -> impl Iterator<Item = &Bytes> {
    let sorted = intset_order(set);
    let kept = sorted.is_none().then(|| set.iter());
    sorted
        .into_iter()
        .flatten()
        .chain(kept.into_iter().flatten())
}

/// The members in ascending numeric order when Redis would hold `set` as an intset (at most
/// `set-max-intset-entries` members, as CONFIG SET left it, all integers), else `None`. The
/// size is checked first, so a hash-table-sized set costs nothing; a small one is parsed up
/// to its first non-integer. (Redis keeps a set a hash table once it was one; this looks only
/// at the members now, see `crate::encoding`.)
fn intset_order(set: &Set) -> Option<Vec<&Bytes>> {
    if set.len() > crate::encoding::current().set_intset_entries() {
        return None;
    }
    let mut numbers: Vec<(i64, &Bytes)> = set
        .iter()
        .map(|m| parse_i64(m).map(|n| (n, m)))
        .collect::<Option<_>>()?;
    numbers.sort_unstable_by_key(|(n, _)| *n);
    Some(numbers.into_iter().map(|(_, m)| m).collect())
}

/// `set` as a set reply (`~N` in RESP3, an array in RESP2), in [`walk_order`].
pub fn set_reply(set: &Set) -> Frame {
    Frame::Set(walk_order(set).cloned().map(Frame::Bulk).collect())
}

fn smismember(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let members = argv.get(2..).unwrap_or_default();
    reply(read::<Set, _>(ctx, &key(argv), |s| {
        Frame::Array(
            members
                .iter()
                .map(|m| Frame::Integer(i64::from(s.as_ref().is_some_and(|s| s.contains(m)))))
                .collect(),
        )
    }))
}

/// `SPOP key [count]`. Without a count: one member or null. With one (>= 0, else Redis's
/// positive-range error): an empty set for 0 or a missing key, the whole set (and the key
/// deleted) when it asks for at least its size, else that many distinct random members.
/// Redis replicates the popped members as SREM (DEL for the whole set); we do not replicate.
/// Signals its key itself (the `Manual` rule).
fn spop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let count = match argv.get(2) {
        None => None,
        Some(_) if argv.len() > 3 => return syntax_error(),
        Some(c) => match parse_i64(c).filter(|n| *n >= 0) {
            Some(n) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
            None => return Frame::error("ERR value is out of range, must be positive"),
        },
    };
    let key = key(argv);
    let popped = read::<Set, _>(ctx, &key, |s| {
        let s = s?;
        Some(match count {
            None => {
                let at = random_below(s.len());
                s.swap_remove_index(at).map_or(Frame::Null, Frame::Bulk)
            }
            Some(0) => return None,
            Some(n) if n >= s.len() => set_reply(&std::mem::take(s)),
            Some(n) => Frame::Set(
                (0..n)
                    .filter_map(|_| s.swap_remove_index(random_below(s.len())))
                    .map(Frame::Bulk)
                    .collect(),
            ),
        })
    });
    match popped {
        Err(error) => error,
        Ok(None) if count.is_some() => Frame::Set(vec![]),
        Ok(None) => Frame::Null,
        Ok(Some(out)) => {
            // As Redis: a count that took the whole set goes as DEL, any other pop as one
            // SREM per member (the replica must lose the very members this one chose).
            let whole = count.is_some() && ctx.db.shard(&key).peek(&key, ctx.now).is_none();
            ctx.propagate_as(|| match (&out, whole) {
                (_, true) => vec![vec![word("DEL"), key.clone()]],
                (Frame::Bulk(member), _) => vec![vec![word("SREM"), key.clone(), member.clone()]],
                (Frame::Set(members) | Frame::Array(members), _) => members
                    .iter()
                    .filter_map(|m| match m {
                        Frame::Bulk(m) => Some(vec![word("SREM"), key.clone(), m.clone()]),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            });
            signal_modified(ctx, ctx.state.db_index, &key);
            super::events::notify(ctx, crate::notify::SET, "spop", &key);
            super::events::notify_if_deleted(ctx, &key);
            out
        }
    }
}

/// `SRANDMEMBER key [count]`: without a count one member or null; a count > 0 gives distinct
/// members (the whole set when it asks for at least its size), < 0 that many picks that may
/// repeat, 0 an empty array. Redis streams a repeating reply of any length; we build replies
/// whole, so past [`MAX_RANDOM_REPLY_MEMBERS`] picks the count is refused as ZRANDMEMBER's is.
fn srandmember(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let count = match argv.get(2) {
        None => None,
        Some(_) if argv.len() > 3 => return syntax_error(),
        Some(c) => match parse_i64(c) {
            Some(i64::MIN) => {
                return Frame::error(
                    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
                )
            }
            Some(n) => Some(n),
            None => return not_integer(),
        },
    };
    reply(read::<Set, _>(ctx, &key(argv), |s| {
        let Some(s) = s else {
            return if count.is_some() {
                Frame::Array(vec![])
            } else {
                Frame::Null
            };
        };
        let picks = |n: usize| -> Vec<Bytes> {
            (0..n)
                .filter_map(|_| s.get_index(random_below(s.len())).cloned())
                .collect()
        };
        let members = match count {
            None => return picks(1).pop().map_or(Frame::Null, Frame::Bulk),
            Some(0) => Vec::new(),
            Some(n) if n < 0 => {
                if n.unsigned_abs() > MAX_RANDOM_REPLY_MEMBERS {
                    return Frame::error("ERR value is out of range");
                }
                picks(usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX))
            }
            Some(1) => picks(1),
            Some(n) if usize::try_from(n).map_or(true, |n| n >= s.len()) => {
                walk_order(s).cloned().collect()
            }
            Some(n) => distinct_positions(s.len(), usize::try_from(n).unwrap_or(0))
                .into_iter()
                .filter_map(|i| s.get_index(i).cloned())
                .collect(),
        };
        Frame::Array(members.into_iter().map(Frame::Bulk).collect())
    }))
}

/// `SMOVE source destination member`, under both keys' locks. A missing source is 0 before
/// any type check, as in Redis; a move within one key changes nothing. Signals its keys
/// itself (the `Manual` rule): the source on every move, the destination when it gained.
fn smove(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (src, dst) = (key(argv), argv.get(2).cloned().unwrap_or_default());
    let member = argv.get(3).cloned().unwrap_or_default();
    let now = ctx.now;
    let (emptied, added) = {
        let mut locked = ctx.db.lock_keys(&[&src, &dst]);
        let source_kind = locked
            .shard(&src)
            .and_then(|s| s.get(&src, now))
            .map(|e| matches!(e.value, Value::Set(_)));
        let Some(source_is_set) = source_kind else {
            return Frame::Integer(0);
        };
        let target_kind = locked
            .shard(&dst)
            .and_then(|s| s.get(&dst, now))
            .map(|e| matches!(e.value, Value::Set(_)));
        if !source_is_set || target_kind == Some(false) {
            return wrong_type();
        }
        let Some(source) = locked.shard(&src) else {
            return Frame::Integer(0);
        };
        let Some(Value::Set(set)) = source.get_mut(&src, now).map(|e| &mut e.value) else {
            return Frame::Integer(0);
        };
        if src == dst {
            return Frame::Integer(i64::from(set.contains(&member)));
        }
        if !set.shift_remove(&member) {
            return Frame::Integer(0);
        }
        let emptied = set.is_empty();
        if emptied {
            source.remove(&src, now);
        }
        let Some(target) = locked.shard(&dst) else {
            return Frame::Integer(1);
        };
        let added = match target.get_mut(&dst, now).map(|e| &mut e.value) {
            Some(Value::Set(set)) => set.insert(member),
            _ => {
                let set: Set = std::iter::once(member).collect();
                target.insert(dst.clone(), Entry::new(Value::Set(set)), now);
                true
            }
        };
        (emptied, added)
    };
    let db = ctx.state.db_index;
    super::events::notify(ctx, crate::notify::SET, "srem", &src);
    if emptied {
        super::events::notify(ctx, crate::notify::GENERIC, "del", &src);
    }
    signal_modified(ctx, db, &src);
    if added {
        signal_modified(ctx, db, &dst);
        super::events::notify(ctx, crate::notify::SET, "sadd", &dst);
    }
    Frame::Integer(1)
}

/// `SSCAN key cursor [MATCH pattern] [COUNT count]`: the cursor is read first, the options
/// only once the key is found, as Redis's `scanGenericCommand` does. An intset-sized set of
/// integers comes whole with cursor 0, as Redis returns a non-hash-table encoding; a larger
/// set is walked by member hash as ZSCAN walks a skip list, only the page copied out.
fn sscan(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let Some(cursor) = scan_cursor(&argv.get(2).cloned().unwrap_or_default()) else {
        return Frame::error("ERR invalid cursor");
    };
    let options = argv.get(3..).unwrap_or_default();
    let result = read::<Set, _>(ctx, &key(argv), |s| {
        let Some(s) = s else {
            return Ok((0, Vec::new()));
        };
        let (pattern, count) = scan_options(options)?;
        let (next, page) = match intset_order(s) {
            Some(sorted) => (0, sorted),
            None => page_by_hash(s.iter(), cursor, count),
        };
        let keep = |m: &&Bytes| pattern.as_ref().is_none_or(|p| glob_match(p, m));
        Ok((
            next,
            page.into_iter()
                .filter(keep)
                .cloned()
                .map(Frame::Bulk)
                .collect(),
        ))
    });
    match result {
        Ok(Ok((next, members))) => Frame::Array(vec![
            Frame::Bulk(Bytes::from(next.to_string())),
            Frame::Array(members),
        ]),
        Ok(Err(error)) | Err(error) => error,
    }
}
