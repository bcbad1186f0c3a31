//! Blocking list pops (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) and the non-blocking moves
//! and pops they are built on (LMOVE, RPOPLPUSH, LMPOP), plus [`block_on`], the one call a
//! blocking command makes to wait (see [`crate::blocking`] for the whole mechanism).
//!
//! A blocking sorted-set pop (BZPOPMIN, BZPOPMAX, BZMPOP) plugs in the same way: parse the
//! timeout with [`parse_timeout`], try to pop; when nothing can be popped return
//! `block_on(ctx, keys, timeout)`; and signal the key where a sorted set is created
//! (`ctx.state.hub.blocking.signal(key)`, as [`super::collection::update`] does for lists).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::args::{is_keyword, parse_f64, parse_i64};
use super::context::Ctx;
use super::events::{notify, signal_created};
use super::propagate::{number, word};
use super::registry::{
    BeginSearch, Categories, Category, Command, Deprecation, Docs, FindKeys, Flag, Flags, KeyFlag,
    KeyFlags, KeyRange, KeySpec, Spec,
};
use super::reply::{syntax_error, wrong_type};
use crate::blocking::BlockRequest;
use crate::db::{Entry, Value};
use crate::notify::{GENERIC, LIST};
use respect_resp::Frame;

/// This family's commands.
pub const COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "blpop",
            arity: -3,
            flags: Flags::of(&[Flag::Write, Flag::Noscript, Flag::Blocking]),
            keys: KeyRange { first: 1, last: -2, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: -2, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::List, Category::Slow, Category::Blocking]),
            tips: &[],
            docs: Docs {
                summary: "Remove and get the first element in a list, or block until one is available",
                since: "2.0.0",
                group: "list",
                complexity: "O(N) where N is the number of provided keys.",
                deprecated: None,
                history: &[("6.0.0", "`timeout` is interpreted as a double instead of an integer.")],
            },
            subcommands: &[],
        },
        run: blpop,
    },
    Command {
        spec: Spec {
            name: "brpop",
            arity: -3,
            flags: Flags::of(&[Flag::Write, Flag::Noscript, Flag::Blocking]),
            keys: KeyRange { first: 1, last: -2, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: -2, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::List, Category::Slow, Category::Blocking]),
            tips: &[],
            docs: Docs {
                summary: "Remove and get the last element in a list, or block until one is available",
                since: "2.0.0",
                group: "list",
                complexity: "O(N) where N is the number of provided keys.",
                deprecated: None,
                history: &[("6.0.0", "`timeout` is interpreted as a double instead of an integer.")],
            },
            subcommands: &[],
        },
        run: brpop,
    },
    Command {
        spec: Spec {
            name: "blmove",
            arity: 6,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Noscript, Flag::Blocking]),
            keys: KeyRange { first: 1, last: 2, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }, KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Insert]), begin: BeginSearch::Index(2), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::List, Category::Slow, Category::Blocking]),
            tips: &[],
            docs: Docs {
                summary: "Pop an element from a list, push it to another list and return it; or block until one is available",
                since: "6.2.0",
                group: "list",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: blmove,
    },
    Command {
        spec: Spec {
            name: "blmpop",
            arity: -5,
            flags: Flags::of(&[Flag::Write, Flag::Blocking, Flag::Movablekeys]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]), begin: BeginSearch::Index(2), find: FindKeys::KeyNum { key_num_index: 0, first_key: 1, key_step: 1 } }],
            acl: Categories::of(&[Category::Write, Category::List, Category::Slow, Category::Blocking]),
            tips: &[],
            docs: Docs {
                summary: "Pop elements from a list, or block until one is available",
                since: "7.0.0",
                group: "list",
                complexity: "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: blmpop,
    },
    Command {
        spec: Spec {
            name: "brpoplpush",
            arity: 4,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Noscript, Flag::Blocking]),
            keys: KeyRange { first: 1, last: 2, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }, KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Insert]), begin: BeginSearch::Index(2), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::List, Category::Slow, Category::Blocking]),
            tips: &[],
            docs: Docs {
                summary: "Pop an element from a list, push it to another list and return it; or block until one is available",
                since: "2.2.0",
                group: "list",
                complexity: "O(1)",
                deprecated: Some(Deprecation { since: "6.2.0", replaced_by: "`BLMOVE` with the `RIGHT` and `LEFT` arguments" }),
                history: &[("6.0.0", "`timeout` is interpreted as a double instead of an integer.")],
            },
            subcommands: &[],
        },
        run: brpoplpush,
    },
    Command {
        spec: Spec {
            name: "lmove",
            arity: 5,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom]),
            keys: KeyRange { first: 1, last: 2, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }, KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Insert]), begin: BeginSearch::Index(2), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::List, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Pop an element from a list, push it to another list and return it",
                since: "6.2.0",
                group: "list",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: lmove,
    },
    Command {
        spec: Spec {
            name: "rpoplpush",
            arity: 3,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom]),
            keys: KeyRange { first: 1, last: 2, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }, KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Insert]), begin: BeginSearch::Index(2), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::List, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Remove the last element in a list, prepend it to another list and return it",
                since: "1.2.0",
                group: "list",
                complexity: "O(1)",
                deprecated: Some(Deprecation { since: "6.2.0", replaced_by: "`LMOVE` with the `RIGHT` and `LEFT` arguments" }),
                history: &[],
            },
            subcommands: &[],
        },
        run: rpoplpush,
    },
    Command {
        spec: Spec {
            name: "lmpop",
            arity: -4,
            flags: Flags::of(&[Flag::Write, Flag::Movablekeys]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::KeyNum { key_num_index: 0, first_key: 1, key_step: 1 } }],
            acl: Categories::of(&[Category::Write, Category::List, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Pop elements from a list",
                since: "7.0.0",
                group: "list",
                complexity: "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: lmpop,
    },
];

/// Parses a blocking command's timeout in seconds as Redis's `getTimeoutFromObjectOrReply`
/// does: a float, rounded up to whole milliseconds; `None` is 0, wait forever. A value
/// whose milliseconds do not fit Redis's `long long` (`inf`, `1e300`) is "negative" there,
/// and here too. (Redis also reads C's hexadecimal floats, `0x10`; we do not.)
pub fn parse_timeout(arg: &[u8]) -> Result<Option<Duration>, Frame> {
    let Some(seconds) = parse_f64(arg) else {
        return Err(Frame::error("ERR timeout is not a float or out of range"));
    };
    let ms = (seconds * 1000.0).ceil();
    // 2^63 milliseconds: past it, Redis's conversion to `long long` is negative.
    const LONG_LONG_END: f64 = 9_223_372_036_854_775_808.0;
    if !(0.0..LONG_LONG_END).contains(&ms) {
        return Err(Frame::error("ERR timeout is negative"));
    }
    let ms = ms as u64;
    Ok((ms > 0).then(|| Duration::from_millis(ms)))
}

/// Asks the connection to wait until one of `keys` may be served, or `timeout` passes
/// (`None`: forever), then run the command again. Returns the timeout reply (the null array
/// of the client's protocol), which is the answer wherever the command cannot wait: inside
/// EXEC, in the in-process session.
pub fn block_on(ctx: &mut Ctx<'_>, keys: Vec<Bytes>, timeout: Option<Duration>) -> Frame {
    let reply = ctx.null_array();
    ctx.state.block = Some(Box::new(BlockRequest {
        keys,
        deadline: timeout.and_then(|t| Instant::now().checked_add(t)),
        timeout_reply: reply.clone(),
        argv: Vec::new(),
    }));
    reply
}

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Left,
    Right,
}

impl End {
    fn parse(arg: &[u8]) -> Result<End, Frame> {
        if is_keyword(arg, "LEFT") {
            Ok(End::Left)
        } else if is_keyword(arg, "RIGHT") {
            Ok(End::Right)
        } else {
            Err(syntax_error())
        }
    }

    fn pop_event(self) -> &'static str {
        match self {
            End::Left => "lpop",
            End::Right => "rpop",
        }
    }

    /// The pop a replica runs for a pop from this end.
    fn pop_word(self) -> Bytes {
        match self {
            End::Left => word("LPOP"),
            End::Right => word("RPOP"),
        }
    }

    fn push_event(self) -> &'static str {
        match self {
            End::Left => "lpush",
            End::Right => "rpush",
        }
    }
}

/// Pops up to `count` elements from the `end` of the list at `key`: `Ok(None)` when the key
/// is missing, WRONGTYPE for another type. Sends the pop's events (and `del` when the list
/// is emptied).
fn pop_from(
    ctx: &mut Ctx<'_>,
    key: &Bytes,
    end: End,
    count: usize,
) -> Result<Option<Vec<Bytes>>, Frame> {
    let now = ctx.now;
    let (popped, emptied) = {
        let mut shard = ctx.db.shard(key);
        let Some(entry) = shard.get_mut(key, now) else {
            return Ok(None);
        };
        let Value::List(list) = &mut entry.value else {
            return Err(wrong_type());
        };
        let mut popped = Vec::new();
        while popped.len() < count {
            let next = match end {
                End::Left => list.pop_front(),
                End::Right => list.pop_back(),
            };
            match next {
                Some(v) => popped.push(v),
                None => break,
            }
        }
        let emptied = list.is_empty();
        if emptied {
            shard.remove(key, now);
        }
        (popped, emptied)
    };
    if popped.is_empty() {
        return Ok(None);
    }
    notify(ctx, LIST, end.pop_event(), key);
    if emptied {
        notify(ctx, GENERIC, "del", key);
    }
    Ok(Some(popped))
}

/// Whether a failure on a retry after a wake-up means "keep waiting": Redis serves a woken
/// client only from a key that holds a list, and leaves it blocked otherwise.
fn keep_waiting(ctx: &Ctx<'_>, error: &Frame) -> bool {
    ctx.state.retrying && *error == wrong_type()
}

/// `BLPOP|BRPOP key [key ...] timeout`.
fn blocking_pop(ctx: &mut Ctx<'_>, argv: &[Bytes], end: End) -> Frame {
    let (Some(timeout), Some(keys)) = (argv.last(), argv.get(1..argv.len().saturating_sub(1)))
    else {
        return syntax_error();
    };
    let timeout = match parse_timeout(timeout) {
        Ok(t) => t,
        Err(e) => return e,
    };
    for key in keys {
        match pop_from(ctx, key, end, 1) {
            Ok(Some(mut v)) => {
                let value = v.pop().unwrap_or_default();
                ctx.propagate_as(|| vec![vec![end.pop_word(), key.clone()]]);
                return Frame::Array(vec![Frame::Bulk(key.clone()), Frame::Bulk(value)]);
            }
            Ok(None) => {}
            Err(e) if keep_waiting(ctx, &e) => {}
            Err(e) => return e,
        }
    }
    block_on(ctx, keys.to_vec(), timeout)
}

fn blpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    blocking_pop(ctx, argv, End::Left)
}

fn brpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    blocking_pop(ctx, argv, End::Right)
}

/// Which key of a move held another type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WrongKey {
    Source,
    Destination,
}

/// Moves one element from the `from` end of `src` to the `to` end of `dst` (LMOVE):
/// `Ok(None)` when `src` is missing. Checks both types before changing anything, as Redis;
/// a WRONGTYPE says which key caused it.
fn move_element(
    ctx: &mut Ctx<'_>,
    src: &Bytes,
    dst: &Bytes,
    from: End,
    to: End,
) -> Result<Option<Bytes>, WrongKey> {
    let now = ctx.now;
    let (value, emptied, created) = {
        let mut locked = ctx.db.lock_keys(&[src, dst]);
        let Some(source) = locked.shard(src) else {
            return Ok(None);
        };
        match source.get_mut(src, now).map(|e| &e.value) {
            None => return Ok(None),
            Some(Value::List(l)) if !l.is_empty() => {}
            Some(Value::List(_)) => return Ok(None),
            Some(_) => return Err(WrongKey::Source),
        }
        if let Some(target) = locked.shard(dst) {
            if let Some(e) = target.get_mut(dst, now) {
                if !matches!(e.value, Value::List(_)) {
                    return Err(WrongKey::Destination);
                }
            }
        }
        let Some(source) = locked.shard(src) else {
            return Ok(None);
        };
        let (value, emptied) = match source.get_mut(src, now).map(|e| &mut e.value) {
            Some(Value::List(list)) => {
                let value = match from {
                    End::Left => list.pop_front(),
                    End::Right => list.pop_back(),
                };
                (value, list.is_empty())
            }
            _ => (None, false),
        };
        let Some(value) = value else {
            return Ok(None);
        };
        if emptied {
            source.remove(src, now);
        }
        let Some(target) = locked.shard(dst) else {
            return Ok(None);
        };
        let created = match target.get_mut(dst, now).map(|e| &mut e.value) {
            Some(Value::List(list)) => {
                match to {
                    End::Left => list.push_front(value.clone()),
                    End::Right => list.push_back(value.clone()),
                }
                false
            }
            _ => {
                let list: VecDeque<Bytes> = VecDeque::from([value.clone()]);
                target.insert(dst.clone(), Entry::new(Value::List(list)), now);
                true
            }
        };
        (value, emptied, created)
    };
    // Redis's order: the push on the destination, then the pop and del on the source.
    notify(ctx, LIST, to.push_event(), dst);
    notify(ctx, LIST, from.pop_event(), src);
    if emptied {
        notify(ctx, GENERIC, "del", src);
    }
    if created {
        signal_created(ctx, dst);
    }
    Ok(Some(value))
}

/// LMOVE, BLMOVE, RPOPLPUSH, BRPOPLPUSH: `timeout` is `Some` for the blocking forms.
fn move_command(
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
    from: End,
    to: End,
    timeout: Option<Option<Duration>>,
) -> Frame {
    let (Some(src), Some(dst)) = (argv.get(1), argv.get(2)) else {
        return syntax_error();
    };
    match move_element(ctx, src, dst, from, to) {
        Ok(Some(value)) => {
            // The blocking forms go to a replica as the forms that do not block.
            if timeout.is_some() {
                ctx.propagate_as(|| match argv.get(3..5) {
                    Some(ends) => {
                        let mut lmove = vec![word("LMOVE"), src.clone(), dst.clone()];
                        lmove.extend_from_slice(ends);
                        vec![lmove]
                    }
                    None => vec![vec![word("RPOPLPUSH"), src.clone(), dst.clone()]],
                });
            }
            Frame::Bulk(value)
        }
        Ok(None) => match timeout {
            // Where it cannot wait (inside EXEC), BLMOVE answers as LMOVE does, a null;
            // when it times out after waiting, the null array (Redis's two replies).
            Some(timeout) => {
                block_on(ctx, vec![src.clone()], timeout);
                Frame::Null
            }
            None => Frame::Null,
        },
        // A woken client whose source is not a list keeps waiting; one whose destination is
        // not a list gets the WRONGTYPE and is unblocked, the element left in the source
        // (Redis's serveClientBlockedOnList).
        Err(WrongKey::Source) => match timeout {
            Some(timeout) if keep_waiting(ctx, &wrong_type()) => {
                block_on(ctx, vec![src.clone()], timeout)
            }
            _ => wrong_type(),
        },
        Err(WrongKey::Destination) => wrong_type(),
    }
}

fn ends(argv: &[Bytes]) -> Result<(End, End), Frame> {
    let from = End::parse(argv.get(3).map_or(&[][..], |a| &a[..]))?;
    let to = End::parse(argv.get(4).map_or(&[][..], |a| &a[..]))?;
    Ok((from, to))
}

fn lmove(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    match ends(argv) {
        Ok((from, to)) => move_command(ctx, argv, from, to, None),
        Err(e) => e,
    }
}

fn rpoplpush(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    move_command(ctx, argv, End::Right, End::Left, None)
}

fn blmove(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let parsed = ends(argv).and_then(|(from, to)| {
        let timeout = parse_timeout(argv.get(5).map_or(&[][..], |a| &a[..]))?;
        Ok((from, to, timeout))
    });
    match parsed {
        Ok((from, to, timeout)) => move_command(ctx, argv, from, to, Some(timeout)),
        Err(e) => e,
    }
}

fn brpoplpush(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    match parse_timeout(argv.get(3).map_or(&[][..], |a| &a[..])) {
        Ok(timeout) => move_command(ctx, argv, End::Right, End::Left, Some(timeout)),
        Err(e) => e,
    }
}

/// `[B]LMPOP [timeout] numkeys key [key ...] LEFT|RIGHT [COUNT count]`, `numkeys_at` being
/// where numkeys is (1 for LMPOP, 2 for BLMPOP). Parsed in Redis's order: numkeys, the
/// direction, COUNT, and only then (BLMPOP) the timeout.
fn mpop(ctx: &mut Ctx<'_>, argv: &[Bytes], numkeys_at: usize) -> Frame {
    const NUMKEYS: &str = "ERR numkeys should be greater than 0";
    let numkeys = match argv.get(numkeys_at).and_then(|n| parse_i64(n)) {
        Some(n) if n >= 1 => n as u64,
        _ => return Frame::error(NUMKEYS),
    };
    // Checked: a declared count never indexes or allocates before the arguments exist.
    let Some(where_at) = usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(numkeys_at + 1))
        .filter(|&i| i < argv.len())
    else {
        return syntax_error();
    };
    let end = match End::parse(argv.get(where_at).map_or(&[][..], |a| &a[..])) {
        Ok(end) => end,
        Err(e) => return e,
    };
    let mut count: Option<usize> = None;
    let mut rest = argv.get(where_at + 1..).unwrap_or_default();
    while let Some((option, after)) = rest.split_first() {
        match after.split_first() {
            Some((n, after)) if count.is_none() && is_keyword(option, "COUNT") => {
                match parse_i64(n) {
                    Some(n) if n >= 1 => count = Some(usize::try_from(n).unwrap_or(usize::MAX)),
                    _ => return Frame::error("ERR count should be greater than 0"),
                }
                rest = after;
            }
            _ => return syntax_error(),
        }
    }
    let count = count.unwrap_or(1);
    let timeout = if numkeys_at == 2 {
        match parse_timeout(argv.get(1).map_or(&[][..], |a| &a[..])) {
            Ok(t) => Some(t),
            Err(e) => return e,
        }
    } else {
        None
    };
    let keys = argv.get(numkeys_at + 1..where_at).unwrap_or_default();
    for key in keys {
        match pop_from(ctx, key, end, count) {
            Ok(Some(values)) => {
                ctx.propagate_as(|| vec![vec![end.pop_word(), key.clone(), number(values.len())]]);
                return Frame::Array(vec![
                    Frame::Bulk(key.clone()),
                    Frame::Array(values.into_iter().map(Frame::Bulk).collect()),
                ]);
            }
            Ok(None) => {}
            Err(e) if timeout.is_some() && keep_waiting(ctx, &e) => {}
            Err(e) => return e,
        }
    }
    match timeout {
        Some(timeout) => block_on(ctx, keys.to_vec(), timeout),
        None => ctx.null_array(),
    }
}

fn lmpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    mpop(ctx, argv, 1)
}

fn blmpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    mpop(ctx, argv, 2)
}
