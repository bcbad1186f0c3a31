//! Sorted-set commands (the blocking pops in [`blocking`]), over [`crate::zset::ZSet`].
//!
//! Scores go out as `Frame::Double`, which the codec writes as redis-server 7.0 does
//! (`%.17g`: a bulk string in RESP2, `,` in RESP3). WITHSCORES replies are flat
//! member/score arrays in RESP2 and `[member, score]` pairs in RESP3, as Redis 7 replies.
//! Every command parses all its arguments before it touches the keyspace, in Redis's order,
//! so errors come out as Redis's do.

mod blocking;
pub(crate) mod pop;
mod range;
mod read;
pub(crate) mod scan;
mod setops;
mod write;

use bytes::Bytes;
use respect_resp::Frame;

use super::context::Ctx;
use super::events::{notify, notify_if_deleted, signal_created};
use super::registry::{
    BeginSearch, Categories, Category, Command, Deprecation, Docs, FindKeys, Flag, Flags, KeyFlag,
    KeyFlags, KeyRange, KeySpec, Spec,
};
use crate::notify::ZSET as ZSET_EVENTS;
pub use blocking::BLOCKING_COMMANDS;
use pop::{zmpop, zpopmax, zpopmin, zrandmember};
use range::{
    zrange, zrangebylex, zrangebyscore, zrangestore, zremrangebylex, zremrangebyrank,
    zremrangebyscore, zrevrange, zrevrangebylex, zrevrangebyscore,
};
use read::{zcard, zcount, zlexcount, zmscore, zrank, zrevrank, zscore};
use scan::zscan;
use setops::{zdiff, zdiffstore, zinter, zintercard, zinterstore, zunion, zunionstore};
pub(crate) use write::geo_add;
use write::{zadd, zincrby, zrem};

/// This family's commands, with their specs as redis-server 7.0.15's COMMAND INFO and
/// COMMAND DOCS give them (`scripts/registry_specs.py` printed them).
#[rustfmt::skip]
pub const COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "zadd",
            arity: -4,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Sortedset, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Add one or more members to a sorted set, or update its score if it already exists",
                since: "1.2.0",
                group: "sorted-set",
                complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
                deprecated: None,
                history: &[("2.4.0", "Accepts multiple elements."), ("3.0.2", "Added the `XX`, `NX`, `CH` and `INCR` options."), ("6.2.0", "Added the `GT` and `LT` options.")],
            },
            subcommands: &[],
        },
        run: zadd,
    },
    Command {
        spec: Spec {
            name: "zcard",
            arity: 2,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Sortedset, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Get the number of members in a sorted set",
                since: "1.2.0",
                group: "sorted-set",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: zcard,
    },
    Command {
        spec: Spec {
            name: "zscore",
            arity: 3,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Sortedset, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Get the score associated with the given member in a sorted set",
                since: "1.2.0",
                group: "sorted-set",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: zscore,
    },
    Command {
        spec: Spec {
            name: "zmscore",
            arity: -3,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Sortedset, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Get the score associated with the given members in a sorted set",
                since: "6.2.0",
                group: "sorted-set",
                complexity: "O(N) where N is the number of members being requested.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: zmscore,
    },
    Command {
        spec: Spec {
            name: "zincrby",
            arity: 4,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Sortedset, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Increment the score of a member in a sorted set",
                since: "1.2.0",
                group: "sorted-set",
                complexity: "O(log(N)) where N is the number of elements in the sorted set.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: zincrby,
    },
    Command {
        spec: Spec {
            name: "zrem",
            arity: -3,
            flags: Flags::of(&[Flag::Write, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Sortedset, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Remove one or more members from a sorted set",
                since: "1.2.0",
                group: "sorted-set",
                complexity: "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
                deprecated: None,
                history: &[("2.4.0", "Accepts multiple elements.")],
            },
            subcommands: &[],
        },
        run: zrem,
    },
    Command {
        spec: Spec {
            name: "zrange",
            arity: -4,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Sortedset, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Return a range of members in a sorted set",
                since: "1.2.0",
                group: "sorted-set",
                complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
                deprecated: None,
                history: &[("6.2.0", "Added the `REV`, `BYSCORE`, `BYLEX` and `LIMIT` options.")],
            },
            subcommands: &[],
        },
        run: zrange,
    },
    Command {
        spec: Spec {
            name: "zrangebyscore",
            arity: -4,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Sortedset, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Return a range of members in a sorted set, by score",
                since: "1.0.5",
                group: "sorted-set",
                complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
                deprecated: Some(Deprecation { since: "6.2.0", replaced_by: "`ZRANGE` with the `BYSCORE` argument" }),
                history: &[("2.0.0", "Added the `WITHSCORES` modifier.")],
            },
            subcommands: &[],
        },
        run: zrangebyscore,
    },
    Command {
        spec: Spec {
            name: "zrevrangebyscore",
            arity: -4,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Sortedset, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Return a range of members in a sorted set, by score, with scores ordered from high to low",
                since: "2.2.0",
                group: "sorted-set",
                complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
                deprecated: Some(Deprecation { since: "6.2.0", replaced_by: "`ZRANGE` with the `REV` and `BYSCORE` arguments" }),
                history: &[("2.1.6", "`min` and `max` can be exclusive.")],
            },
            subcommands: &[],
        },
        run: zrevrangebyscore,
    },
    Command {
        spec: Spec {
            name: "zrangebylex",
            arity: -4,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Sortedset, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Return a range of members in a sorted set, by lexicographical range",
                since: "2.8.9",
                group: "sorted-set",
                complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
                deprecated: Some(Deprecation { since: "6.2.0", replaced_by: "`ZRANGE` with the `BYLEX` argument" }),
                history: &[],
            },
            subcommands: &[],
        },
        run: zrangebylex,
    },
    Command {
        spec: Spec {
            name: "zrevrangebylex",
            arity: -4,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Sortedset, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.",
                since: "2.8.9",
                group: "sorted-set",
                complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
                deprecated: Some(Deprecation { since: "6.2.0", replaced_by: "`ZRANGE` with the `REV` and `BYLEX` arguments" }),
                history: &[],
            },
            subcommands: &[],
        },
        run: zrevrangebylex,
    },
    Command {
        spec: Spec {
            name: "zrevrange",
            arity: -4,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Sortedset, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Return a range of members in a sorted set, by index, with scores ordered from high to low",
                since: "1.2.0",
                group: "sorted-set",
                complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
                deprecated: Some(Deprecation { since: "6.2.0", replaced_by: "`ZRANGE` with the `REV` argument" }),
                history: &[],
            },
            subcommands: &[],
        },
        run: zrevrange,
    },
    Command {
        spec: Spec {
            name: "zrangestore",
            arity: -5,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom]),
            keys: KeyRange { first: 1, last: 2, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ow, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }, KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(2), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Sortedset, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Store a range of members from sorted set into another key",
                since: "6.2.0",
                group: "sorted-set",
                complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: zrangestore,
    },
    Command {
        spec: Spec {
            name: "zrank",
            arity: 3,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Sortedset, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Determine the index of a member in a sorted set",
                since: "2.0.0",
                group: "sorted-set",
                complexity: "O(log(N))",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: zrank,
    },
    Command {
        spec: Spec {
            name: "zrevrank",
            arity: 3,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Sortedset, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Determine the index of a member in a sorted set, with scores ordered from high to low",
                since: "2.0.0",
                group: "sorted-set",
                complexity: "O(log(N))",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: zrevrank,
    },
    Command {
        spec: Spec {
            name: "zcount",
            arity: 4,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Sortedset, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Count the members in a sorted set with scores within the given values",
                since: "2.0.0",
                group: "sorted-set",
                complexity: "O(log(N)) with N being the number of elements in the sorted set.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: zcount,
    },
    Command {
        spec: Spec {
            name: "zlexcount",
            arity: 4,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Sortedset, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Count the number of members in a sorted set between a given lexicographical range",
                since: "2.8.9",
                group: "sorted-set",
                complexity: "O(log(N)) with N being the number of elements in the sorted set.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: zlexcount,
    },
    Command {
        spec: Spec {
            name: "zremrangebyrank",
            arity: 4,
            flags: Flags::of(&[Flag::Write]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Sortedset, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Remove all members in a sorted set within the given indexes",
                since: "2.0.0",
                group: "sorted-set",
                complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: zremrangebyrank,
    },
    Command {
        spec: Spec {
            name: "zremrangebyscore",
            arity: 4,
            flags: Flags::of(&[Flag::Write]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Sortedset, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Remove all members in a sorted set within the given scores",
                since: "1.2.0",
                group: "sorted-set",
                complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: zremrangebyscore,
    },
    Command {
        spec: Spec {
            name: "zremrangebylex",
            arity: 4,
            flags: Flags::of(&[Flag::Write]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Sortedset, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Remove all members in a sorted set between the given lexicographical range",
                since: "2.8.9",
                group: "sorted-set",
                complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: zremrangebylex,
    },
    Command {
        spec: Spec {
            name: "zpopmin",
            arity: -2,
            flags: Flags::of(&[Flag::Write, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Sortedset, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Remove and return members with the lowest scores in a sorted set",
                since: "5.0.0",
                group: "sorted-set",
                complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: zpopmin,
    },
    Command {
        spec: Spec {
            name: "zpopmax",
            arity: -2,
            flags: Flags::of(&[Flag::Write, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Sortedset, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Remove and return members with the highest scores in a sorted set",
                since: "5.0.0",
                group: "sorted-set",
                complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: zpopmax,
    },
    Command {
        spec: Spec {
            name: "zmpop",
            arity: -4,
            flags: Flags::of(&[Flag::Write, Flag::Movablekeys]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::KeyNum { key_num_index: 0, first_key: 1, key_step: 1 } }],
            acl: Categories::of(&[Category::Write, Category::Sortedset, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Remove and return members with scores in a sorted set",
                since: "7.0.0",
                group: "sorted-set",
                complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: zmpop,
    },
    Command {
        spec: Spec {
            name: "zrandmember",
            arity: -2,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Sortedset, Category::Slow]),
            tips: &["nondeterministic_output"],
            docs: Docs {
                summary: "Get one or multiple random elements from a sorted set",
                since: "6.2.0",
                group: "sorted-set",
                complexity: "O(N) where N is the number of elements returned",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: zrandmember,
    },
    Command {
        spec: Spec {
            name: "zinter",
            arity: -3,
            flags: Flags::of(&[Flag::Readonly, Flag::Movablekeys]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::KeyNum { key_num_index: 0, first_key: 1, key_step: 1 } }],
            acl: Categories::of(&[Category::Read, Category::Sortedset, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Intersect multiple sorted sets",
                since: "6.2.0",
                group: "sorted-set",
                complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: zinter,
    },
    Command {
        spec: Spec {
            name: "zunion",
            arity: -3,
            flags: Flags::of(&[Flag::Readonly, Flag::Movablekeys]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::KeyNum { key_num_index: 0, first_key: 1, key_step: 1 } }],
            acl: Categories::of(&[Category::Read, Category::Sortedset, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Add multiple sorted sets",
                since: "6.2.0",
                group: "sorted-set",
                complexity: "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: zunion,
    },
    Command {
        spec: Spec {
            name: "zdiff",
            arity: -3,
            flags: Flags::of(&[Flag::Readonly, Flag::Movablekeys]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::KeyNum { key_num_index: 0, first_key: 1, key_step: 1 } }],
            acl: Categories::of(&[Category::Read, Category::Sortedset, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Subtract multiple sorted sets",
                since: "6.2.0",
                group: "sorted-set",
                complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: zdiff,
    },
    Command {
        spec: Spec {
            name: "zinterstore",
            arity: -4,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Movablekeys]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ow, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }, KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(2), find: FindKeys::KeyNum { key_num_index: 0, first_key: 1, key_step: 1 } }],
            acl: Categories::of(&[Category::Write, Category::Sortedset, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Intersect multiple sorted sets and store the resulting sorted set in a new key",
                since: "2.0.0",
                group: "sorted-set",
                complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: zinterstore,
    },
    Command {
        spec: Spec {
            name: "zunionstore",
            arity: -4,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Movablekeys]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ow, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }, KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(2), find: FindKeys::KeyNum { key_num_index: 0, first_key: 1, key_step: 1 } }],
            acl: Categories::of(&[Category::Write, Category::Sortedset, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Add multiple sorted sets and store the resulting sorted set in a new key",
                since: "2.0.0",
                group: "sorted-set",
                complexity: "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: zunionstore,
    },
    Command {
        spec: Spec {
            name: "zdiffstore",
            arity: -4,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Movablekeys]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ow, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }, KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(2), find: FindKeys::KeyNum { key_num_index: 0, first_key: 1, key_step: 1 } }],
            acl: Categories::of(&[Category::Write, Category::Sortedset, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Subtract multiple sorted sets and store the resulting sorted set in a new key",
                since: "6.2.0",
                group: "sorted-set",
                complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: zdiffstore,
    },
    Command {
        spec: Spec {
            name: "zintercard",
            arity: -3,
            flags: Flags::of(&[Flag::Readonly, Flag::Movablekeys]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::KeyNum { key_num_index: 0, first_key: 1, key_step: 1 } }],
            acl: Categories::of(&[Category::Read, Category::Sortedset, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Intersect multiple sorted sets and return the cardinality of the result",
                since: "7.0.0",
                group: "sorted-set",
                complexity: "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: zintercard,
    },
    Command {
        spec: Spec {
            name: "zscan",
            arity: -3,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Sortedset, Category::Slow]),
            tips: &["nondeterministic_output"],
            docs: Docs {
                summary: "Incrementally iterate sorted sets elements and associated scores",
                since: "2.8.0",
                group: "sorted-set",
                complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: zscan,
    },
];

/// The argument at `i`, or empty (arity was checked before the handler runs).
fn arg(argv: &[Bytes], i: usize) -> Bytes {
    argv.get(i).cloned().unwrap_or_default()
}

/// `-ERR value is not a valid float`.
fn not_float() -> Frame {
    Frame::error("ERR value is not a valid float")
}

/// `-ERR min or max is not a float`.
fn bound_not_float() -> Frame {
    Frame::error("ERR min or max is not a float")
}

/// `-ERR min or max not valid string range item`.
fn bound_not_lex() -> Frame {
    Frame::error("ERR min or max not valid string range item")
}

/// `-ERR value is out of range, must be positive` (Redis's `getPositiveLongFromObjectOrReply`).
fn not_positive() -> Frame {
    Frame::error("ERR value is out of range, must be positive")
}

/// A score as a reply.
fn score(d: f64) -> Frame {
    Frame::Double(d)
}

/// Members, with their scores when `withscores`: a flat array in RESP2, `[member, score]`
/// pairs in RESP3 (the ZRANGE family, ZUNION/ZINTER/ZDIFF, ZRANDMEMBER, ZPOPMIN with a count).
fn members_reply(ctx: &Ctx<'_>, items: Vec<(Bytes, f64)>, withscores: bool) -> Frame {
    if !withscores {
        return Frame::Array(items.into_iter().map(|(m, _)| Frame::Bulk(m)).collect());
    }
    if ctx.resp3() {
        Frame::Array(
            items
                .into_iter()
                .map(|(m, s)| Frame::Array(vec![Frame::Bulk(m), score(s)]))
                .collect(),
        )
    } else {
        flat_pairs(items)
    }
}

/// Member, score, member, score... (ZPOPMIN without a count in both protocols).
fn flat_pairs(items: Vec<(Bytes, f64)>) -> Frame {
    let mut out = Vec::with_capacity(items.len() * 2);
    for (m, s) in items {
        out.push(Frame::Bulk(m));
        out.push(score(s));
    }
    Frame::Array(out)
}

/// Called after a command wrote members into the sorted set at `key` (ZADD, ZINCRBY, the
/// STORE commands, ZRANGESTORE): sends its keyspace `event` (class `z`) and wakes clients
/// blocked on the key (BZPOPMIN...), the one place a sorted set becomes servable.
fn written(ctx: &mut Ctx<'_>, key: &Bytes, event: &str) {
    notify(ctx, ZSET_EVENTS, event, key);
    signal_created(ctx, key);
}

/// After a command removed members from the sorted set at `key`: its `event` when it removed
/// any, then `del` when the set was emptied and the key went with it (Redis's ZREM,
/// ZREMRANGEBY*, ZPOPMIN... send them in that order).
fn removed(ctx: &mut Ctx<'_>, key: &Bytes, event: &str, count: usize) {
    if count > 0 {
        notify(ctx, ZSET_EVENTS, event, key);
        notify_if_deleted(ctx, key);
    }
}
