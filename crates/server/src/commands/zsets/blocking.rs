//! Blocking sorted-set pops: BZPOPMIN, BZPOPMAX, BZMPOP.
//!
//! Each is its non-blocking pop ([`pop_first`]) plus a wait through the generic mechanism
//! ([`block_on`], see [`crate::blocking`]); sorted sets wake their waiters where they are
//! written ([`super::written`]). As in Redis 7.0, only a key holding a sorted set serves a
//! woken client: on a retry after a wake-up a key of another type (a list pushed where a
//! BZPOPMIN waits) is passed over and the client keeps waiting, while on the first try it is
//! WRONGTYPE.

use bytes::Bytes;
use respect_resp::Frame;

use super::super::blocking::{block_on, parse_timeout};
use super::super::reply::{syntax_error, wrong_type};
use super::pop::{parse_mpop, pop_first, propagate_pop, reply_bzpop, reply_zmpop, Popped};
use crate::commands::context::Ctx;
use crate::commands::registry::{
    BeginSearch, Categories, Category, Command, Docs, FindKeys, Flag, Flags, KeyFlag, KeyFlags,
    KeyRange, KeySpec, Spec,
};
use crate::zset::End;

/// The blocking pops, with their specs as redis-server 7.0.15's COMMAND INFO and COMMAND
/// DOCS give them (`scripts/registry_specs.py` printed them).
#[rustfmt::skip]
pub const BLOCKING_COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "bzpopmin",
            arity: -3,
            flags: Flags::of(&[Flag::Write, Flag::Noscript, Flag::Blocking, Flag::Fast]),
            keys: KeyRange { first: 1, last: -2, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: -2, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Sortedset, Category::Fast, Category::Blocking]),
            tips: &[],
            docs: Docs {
                summary: "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available",
                since: "5.0.0",
                group: "sorted-set",
                complexity: "O(log(N)) with N being the number of elements in the sorted set.",
                deprecated: None,
                history: &[("6.0.0", "`timeout` is interpreted as a double instead of an integer.")],
            },
            subcommands: &[],
        },
        run: bzpopmin,
    },
    Command {
        spec: Spec {
            name: "bzpopmax",
            arity: -3,
            flags: Flags::of(&[Flag::Write, Flag::Noscript, Flag::Blocking, Flag::Fast]),
            keys: KeyRange { first: 1, last: -2, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: -2, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Sortedset, Category::Fast, Category::Blocking]),
            tips: &[],
            docs: Docs {
                summary: "Remove and return the member with the highest score from one or more sorted sets, or block until one is available",
                since: "5.0.0",
                group: "sorted-set",
                complexity: "O(log(N)) with N being the number of elements in the sorted set.",
                deprecated: None,
                history: &[("6.0.0", "`timeout` is interpreted as a double instead of an integer.")],
            },
            subcommands: &[],
        },
        run: bzpopmax,
    },
    Command {
        spec: Spec {
            name: "bzmpop",
            arity: -5,
            flags: Flags::of(&[Flag::Write, Flag::Blocking, Flag::Movablekeys]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]), begin: BeginSearch::Index(2), find: FindKeys::KeyNum { key_num_index: 0, first_key: 1, key_step: 1 } }],
            acl: Categories::of(&[Category::Write, Category::Sortedset, Category::Slow, Category::Blocking]),
            tips: &[],
            docs: Docs {
                summary: "Remove and return members with scores in a sorted set or block until one is available",
                since: "7.0.0",
                group: "sorted-set",
                complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: bzmpop,
    },
];

/// Pops from the first of `keys` holding a sorted set, as [`pop_first`], except that on a
/// retry after a wake-up a key of another type is skipped rather than an error (the client
/// keeps waiting, as Redis serves a woken BZPOPMIN only from a sorted set).
fn try_pop(
    ctx: &mut Ctx<'_>,
    keys: &[Bytes],
    end: End,
    count: usize,
) -> Result<Option<Popped>, Frame> {
    for key in keys {
        match pop_first(ctx, std::slice::from_ref(key), end, count) {
            Ok(Some(popped)) => return Ok(Some(popped)),
            Ok(None) => {}
            Err(error) if ctx.state.retrying && error == wrong_type() => {}
            Err(error) => return Err(error),
        }
    }
    Ok(None)
}

/// `BZPOPMIN|BZPOPMAX key [key ...] timeout`: `[key, member, score]`, or the null array on
/// a timeout.
fn bzpop(ctx: &mut Ctx<'_>, argv: &[Bytes], end: End) -> Frame {
    let (Some(timeout), Some(keys)) = (argv.last(), argv.get(1..argv.len().saturating_sub(1)))
    else {
        return syntax_error();
    };
    let timeout = match parse_timeout(timeout) {
        Ok(timeout) => timeout,
        Err(error) => return error,
    };
    match try_pop(ctx, keys, end, 1) {
        Ok(Some((key, members))) => {
            propagate_pop(ctx, &key, end, None);
            reply_bzpop(key, members)
        }
        Ok(None) => block_on(ctx, keys.to_vec(), timeout),
        Err(error) => error,
    }
}

fn bzpopmin(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    bzpop(ctx, argv, End::Min)
}

fn bzpopmax(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    bzpop(ctx, argv, End::Max)
}

/// `BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]`: ZMPOP's reply, or the null
/// array on a timeout. Parsed in Redis's order: numkeys, the direction, COUNT, then the
/// timeout.
fn bzmpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (keys, end, count) = match parse_mpop(argv, 2) {
        Ok(parsed) => parsed,
        Err(error) => return error,
    };
    let timeout = match parse_timeout(argv.get(1).map_or(&[][..], |a| &a[..])) {
        Ok(timeout) => timeout,
        Err(error) => return error,
    };
    match try_pop(ctx, keys, end, count) {
        Ok(Some((key, members))) => {
            propagate_pop(ctx, &key, end, Some(members.len()));
            reply_zmpop(key, members)
        }
        Ok(None) => block_on(ctx, keys.to_vec(), timeout),
        Err(error) => error,
    }
}
