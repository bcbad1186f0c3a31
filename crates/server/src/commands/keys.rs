//! Keyspace and expiry commands.

use bytes::Bytes;

use super::args::{integer, is_keyword, Options};
use super::context::Ctx;
use super::propagate::{number, word};
use super::registry::{
    BeginSearch, Categories, Category, Command, Docs, FindKeys, Flag, Flags, KeyFlag, KeyFlags,
    KeyRange, KeySpec, Spec,
};
use super::reply::syntax_error;
use crate::db::SHARDS;
use crate::glob::glob_match;
use respect_resp::Frame;

/// This family's commands.
pub const COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "del",
            arity: -2,
            flags: Flags::of(&[Flag::Write]),
            keys: KeyRange { first: 1, last: -1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rm, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: -1, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Keyspace, Category::Write, Category::Slow]),
            tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
            docs: Docs {
                summary: "Delete a key",
                since: "1.0.0",
                group: "generic",
                complexity: "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: del,
    },
    Command {
        spec: Spec {
            name: "unlink",
            arity: -2,
            flags: Flags::of(&[Flag::Write, Flag::Fast]),
            keys: KeyRange { first: 1, last: -1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rm, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: -1, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Keyspace, Category::Write, Category::Fast]),
            tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
            docs: Docs {
                summary: "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
                since: "4.0.0",
                group: "generic",
                complexity: "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: del,
    },
    Command {
        spec: Spec {
            name: "exists",
            arity: -2,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: -1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: -1, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Keyspace, Category::Read, Category::Fast]),
            tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
            docs: Docs {
                summary: "Determine if a key exists",
                since: "1.0.0",
                group: "generic",
                complexity: "O(N) where N is the number of keys to check.",
                deprecated: None,
                history: &[("3.0.3", "Accepts multiple `key` arguments.")],
            },
            subcommands: &[],
        },
        run: exists,
    },
    Command {
        spec: Spec {
            name: "type",
            arity: 2,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Keyspace, Category::Read, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Determine the type stored at key",
                since: "1.0.0",
                group: "generic",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: type_of,
    },
    Command {
        spec: Spec {
            name: "keys",
            arity: 2,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Keyspace, Category::Read, Category::Slow, Category::Dangerous]),
            tips: &["request_policy:all_shards", "nondeterministic_output_order"],
            docs: Docs {
                summary: "Find all keys matching the given pattern",
                since: "1.0.0",
                group: "generic",
                complexity: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: keys,
    },
    Command {
        spec: Spec {
            name: "scan",
            arity: -2,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Keyspace, Category::Read, Category::Slow]),
            tips: &["nondeterministic_output", "request_policy:special"],
            docs: Docs {
                summary: "Incrementally iterate the keys space",
                since: "2.8.0",
                group: "generic",
                complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
                deprecated: None,
                history: &[("6.0.0", "Added the `TYPE` subcommand.")],
            },
            subcommands: &[],
        },
        run: scan,
    },
    Command {
        spec: Spec {
            name: "dbsize",
            arity: 1,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Keyspace, Category::Read, Category::Fast]),
            tips: &["request_policy:all_shards", "response_policy:agg_sum"],
            docs: Docs {
                summary: "Return the number of keys in the selected database",
                since: "1.0.0",
                group: "server",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: dbsize,
    },
    Command {
        spec: Spec {
            name: "flushdb",
            arity: -1,
            flags: Flags::of(&[Flag::Write]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Keyspace, Category::Write, Category::Slow, Category::Dangerous]),
            tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
            docs: Docs {
                summary: "Remove all keys from the current database",
                since: "1.0.0",
                group: "server",
                complexity: "O(N) where N is the number of keys in the selected database",
                deprecated: None,
                history: &[("4.0.0", "Added the `ASYNC` flushing mode modifier."), ("6.2.0", "Added the `SYNC` flushing mode modifier.")],
            },
            subcommands: &[],
        },
        run: super::databases::flushdb,
    },
    Command {
        spec: Spec {
            name: "flushall",
            arity: -1,
            flags: Flags::of(&[Flag::Write]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Keyspace, Category::Write, Category::Slow, Category::Dangerous]),
            tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
            docs: Docs {
                summary: "Remove all keys from all databases",
                since: "1.0.0",
                group: "server",
                complexity: "O(N) where N is the total number of keys in all databases",
                deprecated: None,
                history: &[("4.0.0", "Added the `ASYNC` flushing mode modifier."), ("6.2.0", "Added the `SYNC` flushing mode modifier.")],
            },
            subcommands: &[],
        },
        run: super::databases::flushall,
    },
    Command {
        spec: Spec {
            name: "expire",
            arity: -3,
            flags: Flags::of(&[Flag::Write, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Keyspace, Category::Write, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Set a key's time to live in seconds",
                since: "1.0.0",
                group: "generic",
                complexity: "O(1)",
                deprecated: None,
                history: &[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")],
            },
            subcommands: &[],
        },
        run: expire,
    },
    Command {
        spec: Spec {
            name: "pexpire",
            arity: -3,
            flags: Flags::of(&[Flag::Write, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Keyspace, Category::Write, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Set a key's time to live in milliseconds",
                since: "2.6.0",
                group: "generic",
                complexity: "O(1)",
                deprecated: None,
                history: &[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")],
            },
            subcommands: &[],
        },
        run: pexpire,
    },
    Command {
        spec: Spec {
            name: "expireat",
            arity: -3,
            flags: Flags::of(&[Flag::Write, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Keyspace, Category::Write, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Set the expiration for a key as a UNIX timestamp",
                since: "1.2.0",
                group: "generic",
                complexity: "O(1)",
                deprecated: None,
                history: &[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")],
            },
            subcommands: &[],
        },
        run: expireat,
    },
    Command {
        spec: Spec {
            name: "pexpireat",
            arity: -3,
            flags: Flags::of(&[Flag::Write, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Keyspace, Category::Write, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
                since: "2.6.0",
                group: "generic",
                complexity: "O(1)",
                deprecated: None,
                history: &[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")],
            },
            subcommands: &[],
        },
        run: pexpireat,
    },
    Command {
        spec: Spec {
            name: "ttl",
            arity: 2,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Keyspace, Category::Read, Category::Fast]),
            tips: &["nondeterministic_output"],
            docs: Docs {
                summary: "Get the time to live for a key in seconds",
                since: "1.0.0",
                group: "generic",
                complexity: "O(1)",
                deprecated: None,
                history: &[("2.8.0", "Added the -2 reply.")],
            },
            subcommands: &[],
        },
        run: ttl,
    },
    Command {
        spec: Spec {
            name: "pttl",
            arity: 2,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Keyspace, Category::Read, Category::Fast]),
            tips: &["nondeterministic_output"],
            docs: Docs {
                summary: "Get the time to live for a key in milliseconds",
                since: "2.6.0",
                group: "generic",
                complexity: "O(1)",
                deprecated: None,
                history: &[("2.8.0", "Added the -2 reply.")],
            },
            subcommands: &[],
        },
        run: pttl,
    },
    Command {
        spec: Spec {
            name: "persist",
            arity: 2,
            flags: Flags::of(&[Flag::Write, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Keyspace, Category::Write, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Remove the expiration from a key",
                since: "2.2.0",
                group: "generic",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: persist,
    },
];

fn del(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let mut removed = 0;
    for k in argv.get(1..).unwrap_or_default() {
        let gone = ctx.db.shard(k).remove(k, ctx.now).is_some();
        if gone {
            removed += 1;
            super::events::notify(ctx, crate::notify::GENERIC, "del", k);
        }
    }
    Frame::Integer(removed)
}

/// `EXISTS key [key ...]`: how many of the keys are live (a key named twice counts twice).
pub(crate) fn exists(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    count_existing(ctx, argv, false)
}

/// EXISTS (`touch` false: Redis looks with LOOKUP_NOTOUCH) and TOUCH (`touch` true: the
/// keys' use stamps are refreshed) count the same way, keyspace hits and misses included.
pub(crate) fn count_existing(ctx: &mut Ctx<'_>, argv: &[Bytes], touch: bool) -> Frame {
    let found = argv
        .get(1..)
        .unwrap_or_default()
        .iter()
        .filter(|k| {
            let mut shard = ctx.db.shard(k);
            if touch {
                shard.get(k, ctx.now).is_some()
            } else {
                shard.get_untouched(k, ctx.now).is_some()
            }
        })
        .count();
    Frame::Integer(found as i64)
}

fn type_of(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let key = argv.get(1).cloned().unwrap_or_default();
    let mut shard = ctx.db.shard(&key);
    // Without touching, as Redis's TYPE (LOOKUP_NOTOUCH).
    Frame::simple(
        shard
            .get_untouched(&key, ctx.now)
            .map_or("none", |e| e.value.type_name()),
    )
}

fn keys(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let pattern = argv.get(1).cloned().unwrap_or_default();
    let now = ctx.now;
    let all = ctx.db.for_each_shard(|s| s.live_keys(now));
    Frame::Array(
        all.into_iter()
            .flatten()
            .filter(|k| glob_match(&pattern, k))
            .map(Frame::Bulk)
            .collect(),
    )
}

/// `SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]`, parsed whole first. The cursor is a
/// shard index: each call returns whole shards until COUNT keys were looked at, so a key present
/// for the whole iteration is returned exactly once.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ScanOptions {
    cursor: u64,
    pattern: Option<Bytes>,
    count: usize,
    /// Lowercase type name.
    kind: Option<Vec<u8>>,
}

impl ScanOptions {
    /// SCAN's default COUNT.
    const DEFAULT_COUNT: usize = 10;

    fn parse(argv: &[Bytes]) -> Result<ScanOptions, Frame> {
        let cursor = argv
            .get(1)
            .and_then(|c| super::zsets::scan::cursor(c))
            .ok_or_else(|| Frame::error("ERR invalid cursor"))?;
        let mut options = ScanOptions {
            cursor,
            pattern: None,
            count: Self::DEFAULT_COUNT,
            kind: None,
        };
        let mut args = Options::new(argv.get(2..).unwrap_or_default());
        while let Some(option) = args.next_keyword() {
            let value = args.value()?;
            if is_keyword(option, "MATCH") {
                options.pattern = Some(value.clone());
            } else if is_keyword(option, "COUNT") {
                match integer(value)? {
                    n if n >= 1 => options.count = usize::try_from(n).unwrap_or(usize::MAX),
                    _ => return Err(syntax_error()),
                }
            } else if is_keyword(option, "TYPE") {
                options.kind = Some(value.to_ascii_lowercase());
            } else {
                return Err(syntax_error());
            }
        }
        Ok(options)
    }
}

fn scan(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let ScanOptions {
        cursor,
        pattern,
        count,
        kind,
    } = match ScanOptions::parse(argv) {
        Ok(options) => options,
        Err(error) => return error,
    };
    let now = ctx.now;
    let mut shard = usize::try_from(cursor).unwrap_or(usize::MAX);
    let mut seen = 0;
    let mut found = Vec::new();
    while shard < SHARDS && seen < count {
        let mut guard = ctx.db.shard_at(shard);
        for key in guard.live_keys(now) {
            seen += 1;
            let type_ok = kind.as_ref().is_none_or(|t| {
                guard
                    .get(&key, now)
                    .is_some_and(|e| e.value.type_name().as_bytes() == t.as_slice())
            });
            if type_ok && pattern.as_ref().is_none_or(|p| glob_match(p, &key)) {
                found.push(Frame::Bulk(key));
            }
        }
        shard += 1;
    }
    let next = if shard >= SHARDS { 0 } else { shard };
    Frame::Array(vec![
        Frame::Bulk(Bytes::from(next.to_string())),
        Frame::Array(found),
    ])
}

/// The EXPIRE family's conditions (`NX | XX | GT | LT`; XX combines with GT or LT).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ExpireOptions {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl ExpireOptions {
    /// Parses the options after the time as Redis's `parseExtendedExpireArgumentsOrReply`
    /// does: each a known keyword, then the combinations checked.
    fn parse(args: &[Bytes]) -> Result<ExpireOptions, Frame> {
        let mut options = ExpireOptions::default();
        for arg in args {
            if is_keyword(arg, "NX") {
                options.nx = true;
            } else if is_keyword(arg, "XX") {
                options.xx = true;
            } else if is_keyword(arg, "GT") {
                options.gt = true;
            } else if is_keyword(arg, "LT") {
                options.lt = true;
            } else {
                let mut text = b"ERR Unsupported option ".to_vec();
                text.extend_from_slice(arg);
                return Err(super::reply::error_format(&text));
            }
        }
        if options.nx && (options.xx || options.gt || options.lt) {
            return Err(Frame::error(
                "ERR NX and XX, GT or LT options at the same time are not compatible",
            ));
        }
        if options.gt && options.lt {
            return Err(Frame::error(
                "ERR GT and LT options at the same time are not compatible",
            ));
        }
        Ok(options)
    }

    /// Whether a key whose expiry is `current` (`None`: no TTL) may get the expiry `at`.
    fn allows(self, current: Option<i64>, at: i64) -> bool {
        (!self.nx || current.is_none())
            && (!self.xx || current.is_some())
            && (!self.gt || current.is_some_and(|c| at > c))
            && (!self.lt || current.is_none_or(|c| at < c))
    }
}

/// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT: `unit` milliseconds per unit of the time given,
/// `relative` to now or absolute, with Redis 7.0's checks in its order (options, integer,
/// overflow, then the key).
fn expire_generic(
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
    unit: i64,
    relative: bool,
    name: &str,
) -> Frame {
    let options = match ExpireOptions::parse(argv.get(3..).unwrap_or_default()) {
        Ok(options) => options,
        Err(error) => return error,
    };
    let amount = match integer(argv.get(2).map(|b| b.as_ref()).unwrap_or_default()) {
        Ok(amount) => amount,
        Err(error) => return error,
    };
    let base = if relative { ctx.now as i64 } else { 0 };
    let Some(at) = amount.checked_mul(unit).and_then(|ms| ms.checked_add(base)) else {
        return Frame::Error(Bytes::from(format!(
            "ERR invalid expire time in '{name}' command"
        )));
    };
    let key = argv.get(1).cloned().unwrap_or_default();
    let mut shard = ctx.db.shard(&key);
    let now = ctx.now;
    let Some(entry) = shard.get_mut(&key, now) else {
        return Frame::Integer(0);
    };
    if !options.allows(entry.expires_at.map(|t| t as i64), at) {
        return Frame::Integer(0);
    }
    let event = if at <= now as i64 {
        shard.remove(&key, now);
        "del"
    } else {
        entry.expires_at = Some(at as u64);
        "expire"
    };
    drop(shard);
    ctx.propagate_as(|| {
        if event == "del" {
            return vec![vec![word("DEL"), key.clone()]];
        }
        // PEXPIREAT with the absolute time, the options kept; PEXPIREAT itself as sent.
        let mut argv = argv.to_vec();
        if name != "pexpireat" {
            if let Some(first) = argv.first_mut() {
                *first = word("PEXPIREAT");
            }
            if let Some(when) = argv.get_mut(2) {
                *when = number(at);
            }
        }
        vec![argv]
    });
    super::events::notify(ctx, crate::notify::GENERIC, event, &key);
    Frame::Integer(1)
}

fn expire(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    expire_generic(ctx, argv, 1000, true, "expire")
}

fn pexpire(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    expire_generic(ctx, argv, 1, true, "pexpire")
}

fn expireat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    expire_generic(ctx, argv, 1000, false, "expireat")
}

fn pexpireat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    expire_generic(ctx, argv, 1, false, "pexpireat")
}

fn dbsize(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Frame {
    if !ctx
        .server
        .active_expire
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        return Frame::Integer(ctx.db.stored_len() as i64);
    }
    Frame::Integer(ctx.db.len() as i64)
}

/// TTL, PTTL, EXPIRETIME and PEXPIRETIME, as Redis's one `ttlGenericCommand`: -2 for a
/// missing key, -1 for one without expiry, else the time left (or, `absolute`, the Unix time
/// of the expiry) in milliseconds, or in seconds rounded to the nearest.
pub(super) fn ttl_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], ms: bool, absolute: bool) -> Frame {
    let key = argv.get(1).map_or(&[][..], |k| k.as_ref());
    // Looked up without touching, as Redis's TTL family does (LOOKUP_NOTOUCH).
    let expires_at = match ctx.db.shard(key).get_untouched(key, ctx.now) {
        None => return Frame::Integer(-2),
        Some(e) => e.expires_at,
    };
    let Some(at) = expires_at else {
        return Frame::Integer(-1);
    };
    let shown = if absolute {
        at
    } else {
        at.saturating_sub(ctx.now)
    };
    let shown = i64::try_from(shown).unwrap_or(i64::MAX);
    Frame::Integer(if ms {
        shown
    } else {
        shown.saturating_add(500) / 1000
    })
}

fn ttl(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    ttl_generic(ctx, argv, false, false)
}

fn pttl(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    ttl_generic(ctx, argv, true, false)
}

fn persist(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let key = argv.get(1).cloned().unwrap_or_default();
    let mut shard = ctx.db.shard(&key);
    match shard.get_mut(&key, ctx.now) {
        Some(e) if e.expires_at.is_some() => {
            e.expires_at = None;
            drop(shard);
            super::events::notify(ctx, crate::notify::GENERIC, "persist", &key);
            Frame::Integer(1)
        }
        _ => Frame::Integer(0),
    }
}
