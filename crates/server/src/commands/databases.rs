//! The numbered databases: SELECT, MOVE, SWAPDB, FLUSHDB, FLUSHALL (DBSIZE counts the
//! selected database like any keyed command, in `keys`).
//!
//! A session holds the index of its database, not the database: SWAPDB exchanges two
//! databases' contents, and every client SELECTed on either sees the change at once.

use bytes::Bytes;
use respect_resp::Frame;

use super::args::parse_i64;
use super::context::Ctx;
use super::registry::{
    BeginSearch, Categories, Category, Command, Docs, FindKeys, Flag, Flags, KeyFlag, KeyFlags,
    KeyRange, KeySpec, Spec,
};
use super::reply::{not_integer, ok, syntax_error};
use super::watch::{signal_database, signal_modified};

/// This family's commands (SELECT, FLUSHDB and FLUSHALL keep their places in `connection`
/// and `keys`; their handlers are here).
pub const COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "move",
            arity: 3,
            flags: Flags::of(&[Flag::Write, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Keyspace, Category::Write, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Move a key to another database",
                since: "1.0.0",
                group: "generic",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: r#move,
    },
    Command {
        spec: Spec {
            name: "swapdb",
            arity: 3,
            flags: Flags::of(&[Flag::Write, Flag::Fast]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Keyspace, Category::Write, Category::Fast, Category::Dangerous]),
            tips: &[],
            docs: Docs {
                summary: "Swaps two Redis databases",
                since: "4.0.0",
                group: "server",
                complexity: "O(N) where N is the count of clients watching or blocking on keys from both databases.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: swapdb,
    },
];

/// The database index `arg` names (SELECT, MOVE, COPY's DB), read as Redis reads it with
/// `getIntFromObjectOrReply`: not an integer, outside C's `int`, then no such database, each
/// with its own error.
pub(super) fn db_index(ctx: &Ctx<'_>, arg: &[u8]) -> Result<usize, Frame> {
    let index = parse_i64(arg).ok_or_else(not_integer)?;
    if i32::try_from(index).is_err() {
        return Err(Frame::error(
            "ERR value is out of range, value must between -2147483648 and 2147483647",
        ));
    }
    usize::try_from(index)
        .ok()
        .filter(|&i| ctx.server.db(i).is_some())
        .ok_or_else(|| Frame::error("ERR DB index is out of range"))
}

/// `SELECT index`.
pub fn select(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    match db_index(ctx, argv.get(1).map_or(&[][..], |a| a.as_ref())) {
        Ok(index) => {
            ctx.state.db_index = index;
            ok()
        }
        Err(error) => error,
    }
}

/// `MOVE key db`: the key (with its TTL) goes to another database unless it is missing or
/// the target already has it. Runs with the server's gate held exclusively (two databases'
/// shards are locked).
fn r#move(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let key = argv.get(1).cloned().unwrap_or_default();
    let target = match db_index(ctx, argv.get(2).map_or(&[][..], |a| a.as_ref())) {
        Ok(index) => index,
        Err(error) => return error,
    };
    let source = ctx.state.db_index;
    if target == source {
        return Frame::error("ERR source and destination objects are the same");
    }
    let Some(destination) = ctx.server.db(target) else {
        return Frame::error("ERR DB index is out of range");
    };
    let now = ctx.now;
    let mut from = ctx.db.shard(&key);
    if from.get(&key, now).is_none() {
        return Frame::Integer(0);
    }
    let mut to = destination.shard(&key);
    if to.get(&key, now).is_some() {
        return Frame::Integer(0);
    }
    // The value keeps its encoding (Redis moves the object itself).
    let mark = from.converted(&key);
    let Some(entry) = from.remove(&key, now) else {
        return Frame::Integer(0);
    };
    to.insert(key.clone(), entry, now);
    if let Some(mark) = mark {
        to.set_converted(&key, mark);
    }
    drop((from, to));
    signal_modified(ctx, source, &key);
    signal_modified(ctx, target, &key);
    // Redis's order: `new` in the target (its dbAdd), `move_from`, then `move_to`.
    super::events::report_created_in(ctx, target);
    super::events::notify(ctx, crate::notify::GENERIC, "move_from", &key);
    crate::notify::notify_keyspace_event(
        &ctx.state.hub,
        crate::notify::GENERIC,
        "move_to",
        &key,
        i64::try_from(target).unwrap_or(i64::MAX),
    );
    // A client blocked on `key` in the target database may now be served (it retries in its
    // own database, so the signal needs no database).
    super::events::signal_created(ctx, &key);
    Frame::Integer(1)
}

/// `SWAPDB index1 index2`. Runs with the server's gate held exclusively.
fn swapdb(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let parse = |arg: Option<&Bytes>, which: &str| {
        parse_i64(arg.map_or(&[][..], |a| a.as_ref()))
            .ok_or_else(|| Frame::Error(Bytes::from(format!("ERR invalid {which} DB index"))))
    };
    let (first, second) = match (parse(argv.get(1), "first"), parse(argv.get(2), "second")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let index = |n: i64| {
        usize::try_from(n)
            .ok()
            .filter(|&i| ctx.server.db(i).is_some())
    };
    let (Some(a), Some(b)) = (index(first), index(second)) else {
        return Frame::error("ERR DB index is out of range");
    };
    if let (Some(db_a), Some(db_b)) = (ctx.server.db(a), ctx.server.db(b)) {
        if a != b {
            signal_database(ctx.server, a, db_a, Some(db_b));
            signal_database(ctx.server, b, db_b, Some(db_a));
            db_a.swap_contents(db_b);
            // Every blocked client may now find a list or sorted set where it waits (Redis's
            // swapdb wakes the clients blocked in both databases).
            ctx.state.hub.blocking.signal_all();
        }
    }
    ok()
}

/// The optional `ASYNC | SYNC` of FLUSHDB and FLUSHALL (both free memory at once here).
fn flush_mode(argv: &[Bytes]) -> Result<(), Frame> {
    match argv.get(1) {
        None => Ok(()),
        Some(mode)
            if argv.len() == 2
                && (mode.eq_ignore_ascii_case(b"ASYNC") || mode.eq_ignore_ascii_case(b"SYNC")) =>
        {
            Ok(())
        }
        Some(_) => Err(syntax_error()),
    }
}

/// `FLUSHDB [ASYNC|SYNC]`: the selected database.
pub fn flushdb(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    if let Err(error) = flush_mode(argv) {
        return error;
    }
    signal_database(ctx.server, ctx.state.db_index, ctx.db, None);
    ctx.db.clear();
    ok()
}

/// `FLUSHALL [ASYNC|SYNC]`: every database. Runs with the server's gate held exclusively.
pub fn flushall(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    if let Err(error) = flush_mode(argv) {
        return error;
    }
    for (index, db) in ctx.server.dbs().iter().enumerate() {
        signal_database(ctx.server, index, db, None);
        db.clear();
    }
    ok()
}
