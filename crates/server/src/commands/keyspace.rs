//! Keyspace commands of Redis 7.0 beyond the basics in `keys.rs`: RENAME, RENAMENX, COPY,
//! TOUCH, RANDOMKEY, EXPIRETIME, PEXPIRETIME, and WAIT (this server has no replicas).

use std::time::Duration;

use bytes::Bytes;

use super::args::{integer, is_keyword, parse_i64};
use super::context::Ctx;
use super::registry::{
    BeginSearch, Categories, Category, Command, Docs, FindKeys, Flag, Flags, KeyFlag, KeyFlags,
    KeyRange, KeySpec, Spec,
};
use super::reply::{ok, syntax_error};
use super::watch::signal_modified;
use crate::blocking::BlockRequest;
use crate::db::Value;
use respect_resp::Frame;

/// This family's commands.
#[rustfmt::skip]
pub const COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "rename",
            arity: 3,
            flags: Flags::of(&[Flag::Write]),
            keys: KeyRange { first: 1, last: 2, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }, KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ow, KeyFlag::Update]), begin: BeginSearch::Index(2), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Keyspace, Category::Write, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Rename a key",
                since: "1.0.0",
                group: "generic",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: rename,
    },
    Command {
        spec: Spec {
            name: "renamenx",
            arity: 3,
            flags: Flags::of(&[Flag::Write, Flag::Fast]),
            keys: KeyRange { first: 1, last: 2, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }, KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ow, KeyFlag::Insert]), begin: BeginSearch::Index(2), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Keyspace, Category::Write, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Rename a key, only if the new key does not exist",
                since: "1.0.0",
                group: "generic",
                complexity: "O(1)",
                deprecated: None,
                history: &[("3.2.0", "The command no longer returns an error when source and destination names are the same.")],
            },
            subcommands: &[],
        },
        run: renamenx,
    },
    Command {
        spec: Spec {
            name: "copy",
            arity: -3,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom]),
            keys: KeyRange { first: 1, last: 2, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }, KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ow, KeyFlag::Update]), begin: BeginSearch::Index(2), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Keyspace, Category::Write, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Copy a key",
                since: "6.2.0",
                group: "generic",
                complexity: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: copy,
    },
    Command {
        spec: Spec {
            name: "touch",
            arity: -2,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: -1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: -1, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Keyspace, Category::Read, Category::Fast]),
            tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
            docs: Docs {
                summary: "Alters the last access time of a key(s). Returns the number of existing keys specified.",
                since: "3.2.1",
                group: "generic",
                complexity: "O(N) where N is the number of keys that will be touched.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: touch,
    },
    Command {
        spec: Spec {
            name: "randomkey",
            arity: 1,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Keyspace, Category::Read, Category::Slow]),
            tips: &["request_policy:all_shards", "nondeterministic_output"],
            docs: Docs {
                summary: "Return a random key from the keyspace",
                since: "1.0.0",
                group: "generic",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: randomkey,
    },
    Command {
        spec: Spec {
            name: "expiretime",
            arity: 2,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Keyspace, Category::Read, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Get the expiration Unix timestamp for a key",
                since: "7.0.0",
                group: "generic",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: expiretime,
    },
    Command {
        spec: Spec {
            name: "pexpiretime",
            arity: 2,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Keyspace, Category::Read, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Get the expiration Unix timestamp for a key in milliseconds",
                since: "7.0.0",
                group: "generic",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: pexpiretime,
    },
    Command {
        spec: Spec {
            name: "wait",
            arity: 3,
            flags: Flags::of(&[Flag::Noscript]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow, Category::Connection]),
            tips: &["request_policy:all_shards", "response_policy:agg_min"],
            docs: Docs {
                summary: "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
                since: "3.0.0",
                group: "generic",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: wait,
    },
];

fn arg(argv: &[Bytes], i: usize) -> Bytes {
    argv.get(i).cloned().unwrap_or_default()
}

fn rename(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    rename_generic(ctx, argv, false)
}

fn renamenx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    rename_generic(ctx, argv, true)
}

/// RENAME and RENAMENX in Redis's order: a missing source is an error even when both names
/// are the same; the same name is then a no-op; an existing destination stops RENAMENX and
/// is replaced by RENAME. The value moves with its expiry and its encoding.
fn rename_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], nx: bool) -> Frame {
    let (src, dst) = (arg(argv, 1), arg(argv, 2));
    let now = ctx.now;
    let unchanged = if nx { Frame::Integer(0) } else { ok() };
    let mut locked = ctx.db.lock_keys(&[&src, &dst]);
    let source_exists = locked
        .shard(&src)
        .is_some_and(|s| s.get_mut(&src, now).is_some());
    if !source_exists {
        return Frame::error("ERR no such key");
    }
    if src == dst {
        return unchanged;
    }
    let target_exists = locked
        .shard(&dst)
        .is_some_and(|s| s.get_mut(&dst, now).is_some());
    if target_exists && nx {
        return unchanged;
    }
    let Some(from) = locked.shard(&src) else {
        return Frame::error("ERR no such key");
    };
    let mark = from.converted(&src);
    let Some(entry) = from.remove(&src, now) else {
        return Frame::error("ERR no such key");
    };
    let waited_on = matches!(entry.value, Value::List(_) | Value::ZSet(_));
    if let Some(to) = locked.shard(&dst) {
        to.insert(dst.clone(), entry, now);
        if let Some(mark) = mark {
            to.set_converted(&dst, mark);
        }
    }
    drop(locked);
    let db = ctx.state.db_index;
    signal_modified(ctx, db, &src);
    signal_modified(ctx, db, &dst);
    super::events::notify(ctx, crate::notify::GENERIC, "rename_from", &src);
    super::events::notify(ctx, crate::notify::GENERIC, "rename_to", &dst);
    if waited_on {
        // A list or sorted set appeared at `dst`: clients blocked on it may be served.
        super::events::signal_created(ctx, &dst);
    }
    if nx {
        Frame::Integer(1)
    } else {
        ok()
    }
}

/// `COPY source destination [DB index] [REPLACE]`, parsed whole first.
struct CopyOptions {
    target_db: Option<usize>,
    replace: bool,
}

impl CopyOptions {
    /// Redis's `copyCommand` parsing: `DB` needs a following argument (else it is a syntax
    /// error) and is read as SELECT reads its index, checked as each option is met.
    fn parse(ctx: &Ctx<'_>, args: &[Bytes]) -> Result<CopyOptions, Frame> {
        let mut options = CopyOptions {
            target_db: None,
            replace: false,
        };
        let mut i = 0;
        while let Some(option) = args.get(i) {
            if is_keyword(option, "REPLACE") {
                options.replace = true;
            } else if let (true, Some(value)) = (is_keyword(option, "DB"), args.get(i + 1)) {
                options.target_db = Some(super::databases::db_index(ctx, value)?);
                i += 1;
            } else {
                return Err(syntax_error());
            }
            i += 1;
        }
        Ok(options)
    }
}

fn copy(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (src, dst) = (arg(argv, 1), arg(argv, 2));
    let options = match CopyOptions::parse(ctx, argv.get(3..).unwrap_or_default()) {
        Ok(options) => options,
        Err(error) => return error,
    };
    let source_db = ctx.state.db_index;
    let target_db = options.target_db.unwrap_or(source_db);
    if target_db == source_db && src == dst {
        return Frame::error("ERR source and destination objects are the same");
    }
    let Some(target) = ctx.server.db(target_db) else {
        return Frame::error("ERR DB index is out of range");
    };
    let now = ctx.now;
    // The source is read and its copy taken first, then the destination written: never two
    // databases' shards held at once (no lock order across databases is needed).
    let (entry, mark) = {
        let mut shard = ctx.db.shard(&src);
        let mark = shard.converted(&src);
        match shard.get(&src, now) {
            Some(entry) => (entry.clone(), mark),
            None => return Frame::Integer(0),
        }
    };
    let waited_on = matches!(entry.value, Value::List(_) | Value::ZSet(_));
    {
        let mut shard = target.shard(&dst);
        if shard.get_mut(&dst, now).is_some() && !options.replace {
            return Frame::Integer(0);
        }
        shard.insert(dst.clone(), entry, now);
        if let Some(mark) = mark {
            shard.set_converted(&dst, mark);
        }
    }
    signal_modified(ctx, target_db, &dst);
    super::events::report_created_in(ctx, target_db);
    let db = i64::try_from(target_db).unwrap_or(i64::MAX);
    crate::notify::notify_keyspace_event(
        &ctx.state.hub,
        crate::notify::GENERIC,
        "copy_to",
        &dst,
        db,
    );
    if waited_on {
        // The signal names the key only; each woken client retries in its own database, so
        // one blocked on `dst` in the target database is served and others keep waiting.
        super::events::signal_created(ctx, &dst);
    }
    Frame::Integer(1)
}

/// `TOUCH key [key ...]`: EXISTS's count, refreshing the keys' use stamps (which EXISTS
/// leaves alone); both count keyspace hits and misses.
fn touch(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    super::keys::count_existing(ctx, argv, true)
}

/// A random live key, or a null: a random shard first, then the next non-empty one. Keys in
/// small shards are a little likelier than others (Redis's own pick is not uniform either:
/// it picks a random bucket).
fn randomkey(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Frame {
    use std::hash::{BuildHasher, Hasher};
    // A fresh std RandomState is randomly keyed: two draws per call, no generator to keep.
    let draw = || {
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
    };
    let (start, pick) = (draw(), draw());
    let shards = crate::db::SHARDS as u64;
    for offset in 0..shards {
        let index = usize::try_from((start % shards + offset) % shards).unwrap_or(0);
        if let Some(key) = ctx.db.shard_at(index).live_key_at(ctx.now, pick) {
            return Frame::Bulk(key);
        }
    }
    Frame::Null
}

fn expiretime(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    super::keys::ttl_generic(ctx, argv, false, true)
}

fn pexpiretime(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    super::keys::ttl_generic(ctx, argv, true, true)
}

/// `WAIT numreplicas timeout`: this server has no replicas, so no write is ever acknowledged
/// by any. As Redis: both arguments checked (the count first), then `:0` at once when no
/// replica is asked for or inside a transaction; otherwise the client waits out its timeout
/// (milliseconds, 0 forever) and gets `:0`.
fn wait(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let replicas = match integer(&arg(argv, 1)) {
        Ok(n) => n,
        Err(error) => return error,
    };
    let timeout = match parse_i64(&arg(argv, 2)) {
        None => return Frame::error("ERR timeout is not an integer or out of range"),
        Some(ms) if ms < 0 => return Frame::error("ERR timeout is negative"),
        Some(ms) => ms.unsigned_abs(),
    };
    let acknowledged = Frame::Integer(0);
    if replicas <= 0 || ctx.state.multi.is_some() {
        return acknowledged;
    }
    let deadline = (timeout > 0)
        .then(|| std::time::Instant::now().checked_add(Duration::from_millis(timeout)))
        .flatten();
    ctx.state.block = Some(Box::new(BlockRequest {
        keys: Vec::new(),
        deadline,
        timeout_reply: acknowledged.clone(),
        argv: Vec::new(),
    }));
    acknowledged
}
