//! String commands.

use bytes::{Bytes, BytesMut};

use super::args::{arg, integer, is_keyword, parse_i64, Options};
use super::context::Ctx;
use super::long_double::LongDouble;
use super::propagate::{number, word};
use super::registry::{
    BeginSearch, Categories, Category, Command, Deprecation, Docs, FindKeys, Flag, Flags, KeyFlag,
    KeyFlags, KeyRange, KeySpec, Spec,
};
use super::reply::{not_integer, ok, syntax_error, wrong_args, wrong_type};
use crate::db::{Entry, Value};
use respect_resp::Frame;

/// This family's commands.
pub const COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "get",
            arity: 2,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::String, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Get the value of a key",
                since: "1.0.0",
                group: "string",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: get,
    },
    Command {
        spec: Spec {
            name: "set",
            arity: -3,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: Some("RW and ACCESS due to the optional `GET` argument"), flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Update, KeyFlag::VariableFlags]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::String, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Set the string value of a key",
                since: "1.0.0",
                group: "string",
                complexity: "O(1)",
                deprecated: None,
                history: &[("2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."), ("6.0.0", "Added the `KEEPTTL` option."), ("6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."), ("7.0.0", "Allowed the `NX` and `GET` options to be used together.")],
            },
            subcommands: &[],
        },
        run: set,
    },
    Command {
        spec: Spec {
            name: "getset",
            arity: 3,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::String, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Set the string value of a key and return its old value",
                since: "1.0.0",
                group: "string",
                complexity: "O(1)",
                deprecated: Some(Deprecation { since: "6.2.0", replaced_by: "`SET` with the `!GET` argument" }),
                history: &[],
            },
            subcommands: &[],
        },
        run: getset,
    },
    Command {
        spec: Spec {
            name: "getdel",
            arity: 2,
            flags: Flags::of(&[Flag::Write, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::String, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Get the value of a key and delete the key",
                since: "6.2.0",
                group: "string",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: getdel,
    },
    Command {
        spec: Spec {
            name: "setnx",
            arity: 3,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ow, KeyFlag::Insert]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::String, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Set the value of a key, only if the key does not exist",
                since: "1.0.0",
                group: "string",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: setnx,
    },
    Command {
        spec: Spec {
            name: "setex",
            arity: 4,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ow, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::String, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Set the value and expiration of a key",
                since: "2.0.0",
                group: "string",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: setex,
    },
    Command {
        spec: Spec {
            name: "psetex",
            arity: 4,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ow, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::String, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Set the value and expiration in milliseconds of a key",
                since: "2.6.0",
                group: "string",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: psetex,
    },
    Command {
        spec: Spec {
            name: "append",
            arity: 3,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Insert]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::String, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Append a value to a key",
                since: "2.0.0",
                group: "string",
                complexity: "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: append,
    },
    Command {
        spec: Spec {
            name: "strlen",
            arity: 2,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::String, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Get the length of the value stored in a key",
                since: "2.2.0",
                group: "string",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: strlen,
    },
    Command {
        spec: Spec {
            name: "incr",
            arity: 2,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::String, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Increment the integer value of a key by one",
                since: "1.0.0",
                group: "string",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: incr,
    },
    Command {
        spec: Spec {
            name: "decr",
            arity: 2,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::String, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Decrement the integer value of a key by one",
                since: "1.0.0",
                group: "string",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: decr,
    },
    Command {
        spec: Spec {
            name: "incrby",
            arity: 3,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::String, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Increment the integer value of a key by the given amount",
                since: "1.0.0",
                group: "string",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: incrby,
    },
    Command {
        spec: Spec {
            name: "decrby",
            arity: 3,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::String, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Decrement the integer value of a key by the given number",
                since: "1.0.0",
                group: "string",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: decrby,
    },
    Command {
        spec: Spec {
            name: "incrbyfloat",
            arity: 3,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::String, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Increment the float value of a key by the given amount",
                since: "2.6.0",
                group: "string",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: incrbyfloat,
    },
    Command {
        spec: Spec {
            name: "mset",
            arity: -3,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom]),
            keys: KeyRange { first: 1, last: -1, step: 2 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ow, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: -1, key_step: 2, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::String, Category::Slow]),
            tips: &["request_policy:multi_shard", "response_policy:all_succeeded"],
            docs: Docs {
                summary: "Set multiple keys to multiple values",
                since: "1.0.1",
                group: "string",
                complexity: "O(N) where N is the number of keys to set.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: mset,
    },
    Command {
        spec: Spec {
            name: "msetnx",
            arity: -3,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom]),
            keys: KeyRange { first: 1, last: -1, step: 2 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ow, KeyFlag::Insert]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: -1, key_step: 2, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::String, Category::Slow]),
            tips: &["request_policy:multi_shard", "response_policy:agg_min"],
            docs: Docs {
                summary: "Set multiple keys to multiple values, only if none of the keys exist",
                since: "1.0.1",
                group: "string",
                complexity: "O(N) where N is the number of keys to set.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: msetnx,
    },
    Command {
        spec: Spec {
            name: "mget",
            arity: -2,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: -1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: -1, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::String, Category::Fast]),
            tips: &["request_policy:multi_shard"],
            docs: Docs {
                summary: "Get the values of all the given keys",
                since: "1.0.0",
                group: "string",
                complexity: "O(N) where N is the number of keys to retrieve.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: mget,
    },
];

fn get(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let key = arg(argv, 1);
    let mut shard = ctx.db.shard(&key);
    match get_string(&mut shard, &key, ctx.now) {
        Ok(Some(v)) => Frame::Bulk(v.clone()),
        Ok(None) => Frame::Null,
        Err(e) => e,
    }
}

/// When a SET's key expires, and whether it keeps the old expiry.
/// SET's expiry option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expiry {
    /// None given: the key loses any TTL.
    None,
    /// EX, PX, EXAT or PXAT: this Unix time in milliseconds.
    At(u64),
    /// KEEPTTL.
    Keep,
}

/// SET's condition: NX (only if absent) or XX (only if present).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Condition {
    Always,
    IfAbsent,
    IfPresent,
}

/// `SET key value [NX | XX] [GET] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL]`, parsed
/// whole before the keyspace is touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SetOptions {
    condition: Condition,
    /// GET: reply with the old value.
    get: bool,
    expiry: Expiry,
}

impl SetOptions {
    /// Parses the options after the value, with Redis's errors in Redis's order; `now` turns
    /// a relative expiry into an absolute one.
    fn parse(args: &[Bytes], now: u64) -> Result<SetOptions, Frame> {
        let mut options = SetOptions {
            condition: Condition::Always,
            get: false,
            expiry: Expiry::None,
        };
        let mut args = Options::new(args);
        let mut timed: Option<(Bytes, i64, bool)> = None;
        while let Some(option) = args.next_keyword() {
            let (unit, absolute) =
                if is_keyword(option, "NX") && options.condition != Condition::IfPresent {
                    options.condition = Condition::IfAbsent;
                    continue;
                } else if is_keyword(option, "XX") && options.condition != Condition::IfAbsent {
                    options.condition = Condition::IfPresent;
                    continue;
                } else if is_keyword(option, "GET") {
                    options.get = true;
                    continue;
                } else if is_keyword(option, "KEEPTTL")
                    && matches!(options.expiry, Expiry::None | Expiry::Keep)
                    && timed.is_none()
                {
                    options.expiry = Expiry::Keep;
                    continue;
                } else if let Some(unit) = expiry_unit(option) {
                    unit
                } else {
                    return Err(syntax_error());
                };
            // The same unit again is allowed (the last one wins), as in Redis; another unit
            // or KEEPTTL is a syntax error.
            let same_unit = timed
                .as_ref()
                .is_none_or(|(_, u, a)| *u == unit && *a == absolute);
            if options.expiry != Expiry::None || !same_unit {
                return Err(syntax_error());
            }
            timed = Some((args.value()?.clone(), unit, absolute));
        }
        // As Redis: the time's value is checked only once every option parsed (a syntax error
        // later on the line wins over an invalid time).
        if let Some((value, unit, absolute)) = timed {
            options.expiry = Expiry::At(expire_at(&value, unit, absolute, now, "set")?);
        }
        Ok(options)
    }
}

/// The expiry options of SET and GETEX: milliseconds per unit (1000 for EX and EXAT, 1 for
/// PX and PXAT) and whether the time is absolute (EXAT, PXAT).
pub(super) fn expiry_unit(word: &[u8]) -> Option<(i64, bool)> {
    if is_keyword(word, "EX") {
        Some((1000, false))
    } else if is_keyword(word, "PX") {
        Some((1, false))
    } else if is_keyword(word, "EXAT") {
        Some((1000, true))
    } else if is_keyword(word, "PXAT") {
        Some((1, true))
    } else {
        None
    }
}

/// An expiry argument of `unit` milliseconds (relative to `now` unless `absolute`) as a Unix
/// time in ms, with Redis's checks (`getExpireMillisecondsOrReply`): not an integer, not
/// positive, or out of range once scaled is an error naming `command`.
pub(super) fn expire_at(
    value: &[u8],
    unit: i64,
    absolute: bool,
    now: u64,
    command: &str,
) -> Result<u64, Frame> {
    let n = integer(value)?;
    let ms = n.checked_mul(unit).filter(|_| n > 0);
    let at = if absolute {
        ms
    } else {
        ms.and_then(|ms| ms.checked_add(now as i64))
    };
    match at {
        Some(at) => Ok(at as u64),
        None => Err(Frame::Error(Bytes::from(format!(
            "ERR invalid expire time in '{command}' command"
        )))),
    }
}

fn set(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (key, value) = (arg(argv, 1), arg(argv, 2));
    let options = match SetOptions::parse(argv.get(3..).unwrap_or_default(), ctx.now) {
        Ok(options) => options,
        Err(error) => return error,
    };
    let want_old = options.get;
    let mut shard = ctx.db.shard(&key);
    // With GET it is a read too, counted as Redis's getGenericCommand counts it.
    let found = if want_old {
        shard.get(&key, ctx.now)
    } else {
        shard.get_for_write(&key, ctx.now)
    };
    let old = match found {
        None => None,
        Some(Entry {
            value: Value::Str(s),
            expires_at,
            ..
        }) => Some((Some(s.clone()), *expires_at)),
        Some(entry) if want_old => {
            let _ = entry;
            return wrong_type();
        }
        Some(entry) => Some((None, entry.expires_at)),
    };
    let previous = || match &old {
        Some((Some(s), _)) if want_old => Frame::Bulk(s.clone()),
        _ if want_old => Frame::Null,
        _ => Frame::Null,
    };
    let refused = match options.condition {
        Condition::Always => false,
        Condition::IfAbsent => old.is_some(),
        Condition::IfPresent => old.is_none(),
    };
    if refused {
        return previous();
    }
    let expires_at = match options.expiry {
        Expiry::None => None,
        Expiry::At(at) => Some(at),
        Expiry::Keep => old.as_ref().and_then(|(_, e)| *e),
    };
    let reply = if want_old { previous() } else { ok() };
    // Any expiry goes to a replica as PXAT (its clock must not matter); GET, which only
    // shapes the reply, does not go at all.
    if let Expiry::At(at) = options.expiry {
        ctx.propagate_as(|| vec![set_pxat(&key, &value, at)]);
    } else if want_old {
        ctx.propagate_as(|| {
            let kept = argv
                .iter()
                .enumerate()
                .filter(|(i, a)| *i < 3 || !is_keyword(a, "GET"));
            vec![kept.map(|(_, a)| a.clone()).collect()]
        });
    }
    if expires_at.is_some_and(|at| at <= ctx.now) {
        shard.remove(&key, ctx.now);
    } else {
        shard.insert(
            key.clone(),
            Entry::expiring(Value::Str(value), expires_at),
            ctx.now,
        );
    }
    drop(shard);
    // Signalled here, where the condition was decided: the reply cannot tell (a null is also
    // the missing old value of a key GET did set).
    super::watch::signal_modified(ctx, ctx.state.db_index, &key);
    super::events::notify(ctx, crate::notify::STRING, "set", &key);
    if matches!(options.expiry, Expiry::At(_)) {
        super::events::notify(ctx, crate::notify::GENERIC, "expire", &key);
    }
    reply
}

fn getset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (key, value) = (arg(argv, 1), arg(argv, 2));
    let mut shard = ctx.db.shard(&key);
    let old = match get_string(&mut shard, &key, ctx.now) {
        Ok(old) => old.cloned(),
        Err(e) => return e,
    };
    shard.insert(key.clone(), Entry::new(Value::Str(value.clone())), ctx.now);
    drop(shard);
    ctx.propagate_as(|| vec![vec![word("SET"), key.clone(), value]]);
    super::events::notify(ctx, crate::notify::STRING, "set", &key);
    old.map_or(Frame::Null, Frame::Bulk)
}

/// `SET key value PXAT at`: how SET with a relative expiry, SETEX and PSETEX propagate.
fn set_pxat(key: &Bytes, value: &Bytes, at: u64) -> Vec<Bytes> {
    vec![
        word("SET"),
        key.clone(),
        value.clone(),
        word("PXAT"),
        number(at),
    ]
}

fn getdel(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let key = arg(argv, 1);
    let mut shard = ctx.db.shard(&key);
    match get_string(&mut shard, &key, ctx.now) {
        Ok(Some(v)) => {
            let v = v.clone();
            shard.remove(&key, ctx.now);
            drop(shard);
            ctx.propagate_as(|| vec![vec![word("DEL"), key.clone()]]);
            super::events::notify(ctx, crate::notify::GENERIC, "del", &key);
            Frame::Bulk(v)
        }
        Ok(None) => Frame::Null,
        Err(e) => e,
    }
}

fn setnx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (key, value) = (arg(argv, 1), arg(argv, 2));
    let mut shard = ctx.db.shard(&key);
    if shard.get(&key, ctx.now).is_some() {
        return Frame::Integer(0);
    }
    shard.insert(key.clone(), Entry::new(Value::Str(value)), ctx.now);
    drop(shard);
    super::events::notify(ctx, crate::notify::STRING, "set", &key);
    Frame::Integer(1)
}

fn setex_with(ctx: &mut Ctx<'_>, argv: &[Bytes], unit: i64, name: &str) -> Frame {
    let (key, value) = (arg(argv, 1), arg(argv, 3));
    let at = match expire_at(&arg(argv, 2), unit, false, ctx.now, name) {
        Ok(at) => at,
        Err(error) => return error,
    };
    ctx.propagate_as(|| vec![set_pxat(&key, &value, at)]);
    ctx.db.shard(&key).insert(
        key.clone(),
        Entry::expiring(Value::Str(value), Some(at)),
        ctx.now,
    );
    super::events::notify(ctx, crate::notify::STRING, "set", &key);
    super::events::notify(ctx, crate::notify::GENERIC, "expire", &key);
    ok()
}

fn setex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    setex_with(ctx, argv, 1000, "setex")
}

fn psetex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    setex_with(ctx, argv, 1, "psetex")
}

fn append(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let key = arg(argv, 1);
    let reply = append_to(ctx, argv);
    if !reply.is_error() {
        super::events::notify(ctx, crate::notify::STRING, "append", &key);
    }
    reply
}

fn append_to(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (key, tail) = (arg(argv, 1), arg(argv, 2));
    let mut shard = ctx.db.shard(&key);
    match shard.get_mut(&key, ctx.now) {
        None => {
            let len = tail.len();
            shard.insert(key, Entry::new(Value::Str(tail)), ctx.now);
            Frame::Integer(len as i64)
        }
        Some(Entry {
            value: Value::Str(s),
            ..
        }) => {
            let mut joined = BytesMut::with_capacity(s.len() + tail.len());
            joined.extend_from_slice(s);
            joined.extend_from_slice(&tail);
            *s = joined.freeze();
            Frame::Integer(s.len() as i64)
        }
        Some(_) => wrong_type(),
    }
}

fn strlen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let key = arg(argv, 1);
    let mut shard = ctx.db.shard(&key);
    match get_string(&mut shard, &key, ctx.now) {
        Ok(v) => Frame::Integer(v.map_or(0, |v| v.len() as i64)),
        Err(e) => e,
    }
}

/// Adds `delta` to the integer at `key` (0 when missing), keeping its expiry.
pub fn incr_by(ctx: &mut Ctx<'_>, key: Bytes, delta: i64) -> Frame {
    let mut shard = ctx.db.shard(&key);
    let (current, expires_at) = match shard.get(&key, ctx.now) {
        None => (0, None),
        Some(Entry {
            value: Value::Str(s),
            expires_at,
            ..
        }) => match parse_i64(s) {
            Some(n) => (n, *expires_at),
            None => return not_integer(),
        },
        Some(_) => return wrong_type(),
    };
    let Some(next) = current.checked_add(delta) else {
        return Frame::error("ERR increment or decrement would overflow");
    };
    let mut digits = itoa::Buffer::new();
    let text = Bytes::copy_from_slice(digits.format(next).as_bytes());
    shard.insert(
        key.clone(),
        Entry::expiring(Value::Str(text), expires_at),
        ctx.now,
    );
    drop(shard);
    super::events::notify(ctx, crate::notify::STRING, "incrby", &key);
    Frame::Integer(next)
}

fn incr(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    incr_by(ctx, arg(argv, 1), 1)
}

fn decr(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    incr_by(ctx, arg(argv, 1), -1)
}

fn incrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    match parse_i64(&arg(argv, 2)) {
        Some(delta) => incr_by(ctx, arg(argv, 1), delta),
        None => not_integer(),
    }
}

fn decrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    // Redis words a decrement of i64::MIN (whose negation overflows) apart.
    match parse_i64(&arg(argv, 2)).map(i64::checked_neg) {
        Some(Some(delta)) => incr_by(ctx, arg(argv, 1), delta),
        Some(None) => Frame::error("ERR decrement would overflow"),
        None => not_integer(),
    }
}

/// `INCRBYFLOAT key increment`: the sum in 80-bit long double, formatted as Redis formats it
/// (see [`super::long_double`]).
fn incrbyfloat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let key = arg(argv, 1);
    let mut shard = ctx.db.shard(&key);
    // Redis's order: the key's type, then its value, then the increment.
    let (current, expires_at) = match shard.get(&key, ctx.now) {
        None => (LongDouble::ZERO, None),
        Some(Entry {
            value: Value::Str(s),
            expires_at,
            ..
        }) => match LongDouble::parse(s) {
            Some(n) => (n, *expires_at),
            None => return Frame::error("ERR value is not a valid float"),
        },
        Some(_) => return wrong_type(),
    };
    let Some(delta) = LongDouble::parse(&arg(argv, 2)) else {
        return Frame::error("ERR value is not a valid float");
    };
    let next = current.add(delta);
    if !next.is_finite() {
        return Frame::error("ERR increment would produce NaN or Infinity");
    }
    let text = Bytes::from(next.to_human());
    shard.insert(
        key.clone(),
        Entry::expiring(Value::Str(text.clone()), expires_at),
        ctx.now,
    );
    drop(shard);
    // The new value, not the increment: a replica's float arithmetic must not matter.
    ctx.propagate_as(|| {
        vec![vec![
            word("SET"),
            key.clone(),
            text.clone(),
            word("KEEPTTL"),
        ]]
    });
    super::events::notify(ctx, crate::notify::STRING, "incrbyfloat", &key);
    Frame::Bulk(text)
}

fn pairs_or_error(argv: &[Bytes], name: &str) -> Result<Vec<(Bytes, Bytes)>, Frame> {
    let rest = argv.get(1..).unwrap_or_default();
    if rest.is_empty() || rest.len() % 2 != 0 {
        return Err(wrong_args(name));
    }
    Ok(rest
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect())
}

fn mset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let pairs = match pairs_or_error(argv, "mset") {
        Ok(p) => p,
        Err(e) => return e,
    };
    let keys: Vec<&[u8]> = pairs.iter().map(|(k, _)| k.as_ref()).collect();
    let now = ctx.now;
    let mut locked = ctx.db.lock_keys(&keys);
    for (k, v) in &pairs {
        if let Some(shard) = locked.shard(k) {
            shard.insert(k.clone(), Entry::new(Value::Str(v.clone())), now);
        }
    }
    drop(locked);
    for (k, _) in &pairs {
        super::events::notify(ctx, crate::notify::STRING, "set", k);
    }
    ok()
}

fn msetnx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let pairs = match pairs_or_error(argv, "msetnx") {
        Ok(p) => p,
        Err(e) => return e,
    };
    let keys: Vec<&[u8]> = pairs.iter().map(|(k, _)| k.as_ref()).collect();
    let now = ctx.now;
    let mut locked = ctx.db.lock_keys(&keys);
    if pairs
        .iter()
        .any(|(k, _)| locked.shard(k).is_some_and(|s| s.get(k, now).is_some()))
    {
        return Frame::Integer(0);
    }
    for (k, v) in &pairs {
        if let Some(shard) = locked.shard(k) {
            shard.insert(k.clone(), Entry::new(Value::Str(v.clone())), now);
        }
    }
    drop(locked);
    for (k, _) in &pairs {
        super::events::notify(ctx, crate::notify::STRING, "set", k);
    }
    Frame::Integer(1)
}

fn mget(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let keys = argv.get(1..).unwrap_or_default();
    Frame::Array(
        keys.iter()
            .map(|key| {
                let mut shard = ctx.db.shard(key);
                match shard.get(key, ctx.now) {
                    Some(Entry {
                        value: Value::Str(s),
                        ..
                    }) => Frame::Bulk(s.clone()),
                    _ => Frame::Null,
                }
            })
            .collect(),
    )
}

/// The live entry at `key` in a locked shard, checked to be a string.
fn get_string<'s>(
    shard: &'s mut crate::db::Shard,
    key: &[u8],
    now: u64,
) -> Result<Option<&'s Bytes>, Frame> {
    match shard.get(key, now) {
        None => Ok(None),
        Some(Entry {
            value: Value::Str(s),
            ..
        }) => Ok(Some(s)),
        Some(_) => Err(wrong_type()),
    }
}
