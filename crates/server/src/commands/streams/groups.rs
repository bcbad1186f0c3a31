//! Consumer groups: XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM.

use bytes::Bytes;
use respect_resp::Frame;

use super::super::args::is_keyword;
use super::super::context::Ctx;
use super::super::events::notify;
use super::super::propagate::{number, word};
use super::super::reply::{help, ok, syntax_error, unknown_subcommand_or_arity, wrong_type};
use super::super::watch::signal_modified;
use super::at;
use super::{
    block_read, entry_frame, error_with, id_frame, integer, no_such_group, parse_id,
    parse_read_args, parse_strict_id, range_end, range_start, read_reply, with_stream,
    with_stream_or_new, BLOCKED_DEFAULT_COUNT,
};
use crate::db::Value;
use crate::notify::STREAM;
use crate::stream::{Consumer, Group, Nack, Stream, StreamId, INVALID_ENTRIES_READ};

const XGROUP_HELP: &[&str] = &[
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
];

/// Counts `n` changes to the dataset that no key signal counts: Redis's `server.dirty += n`
/// in the commands that change a stream's groups, consumers, acknowledgements or last ID
/// (which do not call `signalModifiedKey`). They make the command propagate and count in
/// INFO's `rdb_changes_since_last_save`.
fn dirty(ctx: &Ctx<'_>, n: u64) {
    if n > 0 {
        ctx.server.persistence.note_changes(n);
    }
}

/// What XCLAIM and XAUTOCLAIM do once they have claimed: count the changes (one more per
/// consumer created, as Redis's `streamCreateConsumer` does), propagate the claims and send
/// the keyspace events.
fn after_claims(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    changes: u64,
    created: u64,
    ops: Option<Vec<Vec<Bytes>>>,
) {
    dirty(ctx, changes + created);
    if let Some(ops) = ops {
        ctx.propagate_instead(|| ops);
    }
    for _ in 0..created {
        notify(ctx, STREAM, "xgroup-createconsumer", key);
    }
}

/// How a change to a NACK goes to replicas (Redis's `streamPropagateXCLAIM`): an XCLAIM
/// that sets it as it is here whatever the replica holds, `id` as the command named it.
/// On a replica whose entry is gone it drops the NACK, as a deleted entry's cleanup does here.
fn xclaim_op(
    key: &Bytes,
    group_name: &Bytes,
    id: Bytes,
    nack: &Nack,
    last_id: StreamId,
) -> Vec<Bytes> {
    vec![
        word("XCLAIM"),
        key.clone(),
        group_name.clone(),
        nack.consumer.clone().unwrap_or_default(),
        word("0"),
        id,
        word("TIME"),
        number(nack.delivery_time),
        word("RETRYCOUNT"),
        number(nack.delivery_count),
        word("FORCE"),
        word("JUSTID"),
        word("LASTID"),
        last_id.to_bytes(),
    ]
}

/// How a group's last ID moved without a claim goes to replicas (Redis's
/// `streamPropagateGroupID`): `XGROUP SETID <key> <group> <last-id> ENTRIESREAD <n>`.
fn setid_op(key: &Bytes, group_name: &Bytes, group: &Group) -> Vec<Bytes> {
    vec![
        word("XGROUP"),
        word("SETID"),
        key.clone(),
        group_name.clone(),
        group.last_id.to_bytes(),
        word("ENTRIESREAD"),
        number(group.entries_read),
    ]
}

/// How a consumer that no claim will create goes to replicas (Redis's
/// `streamPropagateConsumerCreation`, for XREADGROUP NOACK).
fn createconsumer_op(key: &Bytes, group_name: &Bytes, consumer: &Bytes) -> Vec<Bytes> {
    vec![
        word("XGROUP"),
        word("CREATECONSUMER"),
        key.clone(),
        group_name.clone(),
        consumer.clone(),
    ]
}

/// The consumer `name` of `group`, created when missing (then `true`: its caller counts
/// the change and sends `xgroup-createconsumer`); its seen time refreshed (Redis's lookup
/// with `SLC_DEFAULT`, or `streamCreateConsumer`).
fn consumer_for<'g>(group: &'g mut Group, name: &Bytes, now: i64) -> (&'g mut Consumer, bool) {
    let created = !group.consumers.contains_key(name);
    let consumer = group.consumers.entry(name.clone()).or_default();
    consumer.seen_time = now;
    (consumer, created)
}

/// `XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER|HELP ...`
pub(super) fn xgroup(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let sub = &at(argv, 1)[..];
    let syntax = || unknown_subcommand_or_arity(sub, "xgroup");
    if argv.len() == 2 && is_keyword(sub, "HELP") {
        return help("xgroup", XGROUP_HELP);
    }
    if argv.len() < 4 {
        return syntax();
    }
    let create = is_keyword(sub, "CREATE");
    let setid = is_keyword(sub, "SETID");
    let mut mkstream = false;
    let mut entries_read = INVALID_ENTRIES_READ;
    let mut i = 5;
    while i < argv.len() {
        if create && is_keyword(at(argv, i), "MKSTREAM") {
            mkstream = true;
            i += 1;
        } else if (create || setid) && is_keyword(at(argv, i), "ENTRIESREAD") && i + 1 < argv.len()
        {
            entries_read = match integer(at(argv, i + 1)) {
                Ok(n) if n < 0 && n != INVALID_ENTRIES_READ => {
                    return Frame::error("ERR value for ENTRIESREAD must be positive or -1")
                }
                Ok(n) => n,
                Err(e) => return e,
            };
            i += 2;
        } else {
            return syntax();
        }
    }
    let key = at(argv, 2);
    let group_name = at(argv, 3);
    let now = ctx.now;
    let exists = {
        let mut shard = ctx.db.shard(key);
        match shard.get_for_write(key, now).map(|e| &e.value) {
            None => None,
            Some(Value::Stream(s)) => Some(s.groups.contains_key(group_name)),
            Some(_) => return wrong_type(),
        }
    };
    if !mkstream {
        let Some(group_exists) = exists else {
            return Frame::error("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.");
        };
        if !group_exists
            && (setid || is_keyword(sub, "CREATECONSUMER") || is_keyword(sub, "DELCONSUMER"))
        {
            return no_such_group(group_name, key);
        }
    }
    if create && argv.len() <= 8 {
        let id_arg = at(argv, 4);
        let explicit = if id_arg.as_ref() == b"$" {
            None
        } else {
            match parse_strict_id(id_arg) {
                Ok(id) => Some(id),
                Err(e) => return e,
            }
        };
        let created_key = exists.is_none();
        let result = with_stream_or_new(ctx, key, |s| {
            let id = explicit.unwrap_or(s.last_id);
            if s.groups.contains_key(group_name) {
                return Ok(false);
            }
            s.groups.insert(
                group_name.clone(),
                Group {
                    last_id: id,
                    entries_read,
                    ..Group::default()
                },
            );
            Ok(true)
        });
        if created_key {
            // Redis signals the new key (which counts no change there) and then counts the
            // group's creation: here the signal counts that one change.
            let db = ctx.state.db_index;
            signal_modified(ctx, db, key);
        }
        return match result {
            Ok(true) => {
                if !created_key {
                    dirty(ctx, 1);
                }
                notify(ctx, STREAM, "xgroup-create", key);
                ok()
            }
            Ok(false) => Frame::error("BUSYGROUP Consumer Group name already exists"),
            Err(e) => e,
        };
    }
    if setid && (argv.len() == 5 || argv.len() == 7) {
        let id_arg = at(argv, 4);
        let explicit = if id_arg.as_ref() == b"$" {
            None
        } else {
            match parse_id(id_arg, 0) {
                Ok(id) => Some(id),
                Err(e) => return e,
            }
        };
        let _ = with_stream(ctx, key, |s| {
            if let Some(s) = s {
                let last = s.last_id;
                if let Some(g) = s.groups.get_mut(group_name) {
                    g.last_id = explicit.unwrap_or(last);
                    g.entries_read = entries_read;
                }
            }
        });
        dirty(ctx, 1);
        notify(ctx, STREAM, "xgroup-setid", key);
        return ok();
    }
    if is_keyword(sub, "DESTROY") && argv.len() == 4 {
        let removed = with_stream(ctx, key, |s| {
            s.is_some_and(|s| s.groups.remove(group_name).is_some())
        })
        .unwrap_or(false);
        if removed {
            dirty(ctx, 1);
            notify(ctx, STREAM, "xgroup-destroy", key);
            // Clients blocked in XREADGROUP on it get their NOGROUP error.
            super::signal_created(ctx, key);
        }
        return Frame::Integer(i64::from(removed));
    }
    if is_keyword(sub, "CREATECONSUMER") && argv.len() == 5 {
        let name = at(argv, 4);
        let created = with_stream(ctx, key, |s| {
            let g = s.and_then(|s| s.groups.get_mut(group_name))?;
            if g.consumers.contains_key(name) {
                return Some(false);
            }
            g.consumers.insert(
                name.clone(),
                Consumer {
                    seen_time: now as i64,
                    ..Consumer::default()
                },
            );
            Some(true)
        })
        .ok()
        .flatten()
        .unwrap_or(false);
        if created {
            dirty(ctx, 1);
            notify(ctx, STREAM, "xgroup-createconsumer", key);
        }
        return Frame::Integer(i64::from(created));
    }
    if is_keyword(sub, "DELCONSUMER") && argv.len() == 5 {
        let name = at(argv, 4);
        let pending = with_stream(ctx, key, |s| {
            let g = s.and_then(|s| s.groups.get_mut(group_name))?;
            let consumer = g.consumers.remove(name)?;
            for id in &consumer.pel {
                g.pel.remove(id);
            }
            Some(consumer.pel.len() as i64)
        })
        .ok()
        .flatten();
        if pending.is_some() {
            dirty(ctx, 1);
            notify(ctx, STREAM, "xgroup-delconsumer", key);
        }
        return Frame::Integer(pending.unwrap_or(0));
    }
    syntax()
}

/// Advances `group` past `id` (delivered now), keeping its read counter as Redis does.
fn advance_group(s: &Stream, group: &mut Group, id: StreamId) {
    if id > group.last_id {
        if group.entries_read != INVALID_ENTRIES_READ && !s.has_tombstones_from(id) {
            // C's signed arithmetic: ENTRIESREAD may have set the largest there is.
            group.entries_read = group.entries_read.wrapping_add(1);
        } else if s.entries_added > 0 {
            group.entries_read = s.estimate_distance(id);
        }
        group.last_id = id;
    }
}

/// Records `id` as delivered to `consumer` now (a new NACK, or one taken from another
/// consumer with its count reset).
fn add_pending(group: &mut Group, consumer: &Bytes, id: StreamId, now: i64) {
    let previous = group.pel.insert(
        id,
        Nack {
            delivery_time: now,
            delivery_count: 1,
            consumer: Some(consumer.clone()),
        },
    );
    if let Some(owner) = previous.and_then(|n| n.consumer) {
        if let Some(c) = group.consumers.get_mut(&owner) {
            c.pel.remove(&id);
        }
    }
    if let Some(c) = group.consumers.get_mut(consumer) {
        c.pel.insert(id);
    }
}

/// `XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK] STREAMS key ... id ...`
pub(super) fn xreadgroup(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let args = match parse_read_args(argv, true, ctx.state.in_script) {
        Ok(a) => a,
        Err(e) => return e,
    };
    let Some((group_name, consumer_name)) = args.group else {
        return syntax_error();
    };
    let now = ctx.now;
    let retrying = ctx.state.retrying;
    // Check every key and group, and read the IDs (`None`: `>`), before serving any.
    let mut ids: Vec<Option<StreamId>> = Vec::with_capacity(args.keys.len());
    for (key, id_arg) in args.keys.iter().zip(args.ids) {
        let state = {
            let mut shard = ctx.db.shard(key);
            match shard.get(key, now).map(|e| &e.value) {
                None => Ok(false),
                Some(Value::Stream(s)) => Ok(s.groups.contains_key(group_name)),
                Some(_) => Err(()),
            }
        };
        match state {
            Err(()) if retrying => {
                return Frame::error("UNBLOCKED the stream key no longer exists")
            }
            Err(()) => return wrong_type(),
            Ok(false) if retrying => {
                let key_exists = ctx.db.shard(key).peek(key, now).is_some();
                return Frame::error(if key_exists {
                    "NOGROUP the consumer group this client was blocked on no longer exists"
                } else {
                    "UNBLOCKED the stream key no longer exists"
                });
            }
            Ok(false) => {
                return error_with(&[
                    b"NOGROUP No such key '",
                    key,
                    b"' or consumer group '",
                    group_name,
                    b"' in XREADGROUP with GROUP option",
                ])
            }
            Ok(true) => {}
        }
        if id_arg.as_ref() == b"$" {
            return Frame::error("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.");
        }
        if id_arg.as_ref() == b">" {
            ids.push(None);
            continue;
        }
        match parse_strict_id(id_arg) {
            Ok(id) if id == StreamId::MAX => ids.push(None),
            Ok(id) => ids.push(Some(id)),
            Err(e) => return e,
        }
    }
    let count = if retrying && args.count == 0 {
        BLOCKED_DEFAULT_COUNT
    } else {
        args.count
    };
    let now_i = now as i64;
    let null_array = ctx.null_array();
    let mut found = Vec::new();
    let mut ops = ctx.replicating().then(Vec::new);
    for (key, id) in args.keys.iter().zip(&ids) {
        let mut created = 0;
        let served = with_stream(ctx, key, |s| {
            let s = s?;
            let (gname, mut group) = s.groups.remove_entry(group_name)?;
            let out = serve_group(
                s,
                &mut group,
                ServeArgs {
                    key,
                    group_name,
                    consumer_name,
                    after: *id,
                    count,
                    noack: args.noack,
                    now: now_i,
                    null_array: &null_array,
                },
                &mut created,
                ops.as_mut(),
            );
            s.groups.insert(gname, group);
            out
        })
        .ok()
        .flatten();
        // Redis counts each consumer it creates, and each key it serves at once (not the
        // key that serves a blocked reader later).
        dirty(ctx, created + u64::from(served.is_some() && !retrying));
        for _ in 0..created {
            notify(ctx, STREAM, "xgroup-createconsumer", key);
        }
        if let Some(entries) = served {
            found.push((key.clone(), entries));
        }
    }
    if let Some(ops) = ops {
        ctx.propagate_instead(|| ops);
    }
    if !found.is_empty() {
        return read_reply(ctx, found);
    }
    match args.block {
        Some(ms) => block_read(ctx, args.keys, ms, argv.to_vec()),
        None => ctx.null_array(),
    }
}

/// What [`serve_group`] serves: one key of an XREADGROUP.
struct ServeArgs<'a> {
    key: &'a Bytes,
    group_name: &'a Bytes,
    consumer_name: &'a Bytes,
    /// The history after this ID, or (`None`, the `>` ID) the entries the group has not seen.
    after: Option<StreamId>,
    count: usize,
    noack: bool,
    now: i64,
    null_array: &'a Frame,
}

/// Serves one key of an XREADGROUP: the consumer's history after `after`, or (`None`, the
/// `>` ID) the entries the group has not seen; `None` when there is nothing new. With `ops`
/// (a replica reads the stream) it collects what Redis propagates for it: an XCLAIM for
/// each new NACK (which carries the group's last ID), and with NOACK the consumer's creation
/// and the group's new last ID. Reading history propagates nothing.
fn serve_group(
    s: &Stream,
    group: &mut Group,
    a: ServeArgs<'_>,
    created: &mut u64,
    mut ops: Option<&mut Vec<Vec<Bytes>>>,
) -> Option<Vec<Frame>> {
    let limit = if a.count == 0 { usize::MAX } else { a.count };
    let mut consumer = |group: &mut Group, ops: Option<&mut Vec<Vec<Bytes>>>| {
        let (_, new) = consumer_for(group, a.consumer_name, a.now);
        *created += u64::from(new);
        if new && a.noack {
            if let Some(ops) = ops {
                ops.push(createconsumer_op(a.key, a.group_name, a.consumer_name));
            }
        }
    };
    match a.after {
        Some(after) => {
            let start = after.next()?;
            consumer(group, ops);
            let ids: Vec<StreamId> = group
                .consumers
                .get(a.consumer_name)
                .map(|c| c.pel.range(start..).take(limit).copied().collect())
                .unwrap_or_default();
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                match s.get(id) {
                    Some(fields) => {
                        out.push(entry_frame(id, fields));
                        if let Some(nack) = group.pel.get_mut(&id) {
                            nack.delivery_time = a.now;
                            nack.count_delivery();
                        }
                    }
                    None => out.push(Frame::Array(vec![id_frame(id), a.null_array.clone()])),
                }
            }
            Some(out)
        }
        None => {
            if s.is_empty() || s.last_valid_id() <= group.last_id {
                return None;
            }
            let start = group.last_id.next()?;
            consumer(group, ops.as_deref_mut());
            let mut out = Vec::new();
            let mut moved = false;
            for (id, fields) in s.range(start, StreamId::MAX, false).take(limit) {
                moved |= id > group.last_id;
                advance_group(s, group, id);
                out.push(entry_frame(id, fields));
                if !a.noack {
                    add_pending(group, a.consumer_name, id, a.now);
                    if let (Some(ops), Some(nack)) = (ops.as_deref_mut(), group.pel.get(&id)) {
                        ops.push(xclaim_op(
                            a.key,
                            a.group_name,
                            id.to_bytes(),
                            nack,
                            group.last_id,
                        ));
                    }
                }
            }
            if a.noack && moved {
                if let Some(ops) = ops {
                    ops.push(setid_op(a.key, a.group_name, group));
                }
            }
            Some(out)
        }
    }
}

/// `XACK key group id [id ...]`
pub(super) fn xack(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let group_name = at(argv, 2);
    let result = with_stream(ctx, at(argv, 1), |s| {
        let Some(g) = s.and_then(|s| s.groups.get_mut(group_name)) else {
            return Ok(0);
        };
        let ids: Vec<StreamId> = argv
            .get(3..)
            .unwrap_or_default()
            .iter()
            .map(|a| parse_strict_id(a))
            .collect::<Result<_, _>>()?;
        Ok(ids.into_iter().filter(|id| drop_pending(g, *id)).count() as i64)
    });
    match result.and_then(|r| r) {
        Ok(n) => {
            dirty(ctx, n as u64);
            Frame::Integer(n)
        }
        Err(e) => e,
    }
}

/// `NOGROUP No such key '<key>' or consumer group '<group>'`.
fn no_group(key: &[u8], group: &[u8]) -> Frame {
    error_with(&[
        b"NOGROUP No such key '",
        key,
        b"' or consumer group '",
        group,
        b"'",
    ])
}

/// `XPENDING key group [[IDLE min-idle-time] start end count [consumer]]`
pub(super) fn xpending(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let argc = argv.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return syntax_error();
    }
    let mut extended = None;
    if argc >= 6 {
        let mut pos = 3;
        let mut min_idle = 0;
        if is_keyword(at(argv, 3), "IDLE") {
            min_idle = match integer(at(argv, 4)) {
                Ok(n) => n,
                Err(e) => return e,
            };
            if argc < 8 {
                return syntax_error();
            }
            pos += 2;
        }
        let count = match integer(at(argv, pos + 2)) {
            Ok(n) => n.max(0),
            Err(e) => return e,
        };
        let start = match range_start(at(argv, pos)) {
            Ok(id) => id,
            Err(e) => return e,
        };
        let end = match range_end(at(argv, pos + 1)) {
            Ok(id) => id,
            Err(e) => return e,
        };
        let consumer = argv.get(pos + 3).cloned();
        extended = Some((min_idle, start, end, count, consumer));
    }
    let (key, group_name) = (at(argv, 1), at(argv, 2));
    let now = ctx.now as i64;
    let null_array = ctx.null_array();
    let mut shard = ctx.db.shard(key);
    let s = match shard.get(key, ctx.now).map(|e| &e.value) {
        Some(Value::Stream(s)) => s,
        Some(_) => return wrong_type(),
        None => return no_group(key, group_name),
    };
    let Some(g) = s.groups.get(group_name) else {
        return no_group(key, group_name);
    };
    let Some((min_idle, start, end, count, consumer)) = extended else {
        let (Some((first, _)), Some((last, _))) = (g.pel.iter().next(), g.pel.iter().next_back())
        else {
            return Frame::Array(vec![
                Frame::Integer(0),
                Frame::Null,
                Frame::Null,
                null_array,
            ]);
        };
        let consumers = g
            .consumers
            .iter()
            .filter(|(_, c)| !c.pel.is_empty())
            .map(|(name, c)| {
                Frame::Array(vec![
                    Frame::Bulk(name.clone()),
                    Frame::Bulk(Bytes::from(c.pel.len().to_string())),
                ])
            })
            .collect();
        return Frame::Array(vec![
            Frame::Integer(g.pel.len() as i64),
            id_frame(*first),
            id_frame(*last),
            Frame::Array(consumers),
        ]);
    };
    let ids: Box<dyn Iterator<Item = StreamId>> = match &consumer {
        Some(name) => match g.consumers.get(name) {
            Some(c) if start <= end => Box::new(c.pel.range(start..=end).copied()),
            Some(_) => Box::new(std::iter::empty()),
            None => return Frame::Array(Vec::new()),
        },
        None if start <= end => Box::new(g.pel.range(start..=end).map(|(k, _)| *k)),
        None => Box::new(std::iter::empty()),
    };
    let mut out = Vec::new();
    let mut left = count;
    for id in ids {
        if left == 0 {
            break;
        }
        let Some(nack) = g.pel.get(&id) else {
            continue;
        };
        if min_idle != 0 && nack.idle(now) < min_idle {
            continue;
        }
        left -= 1;
        out.push(Frame::Array(vec![
            id_frame(id),
            Frame::Bulk(nack.consumer.clone().unwrap_or_default()),
            Frame::Integer(nack.idle(now).max(0)),
            Frame::Integer(nack.delivery_count as i64),
        ]));
    }
    Frame::Array(out)
}

/// Moves the NACK of `id` to `consumer` (created if needed), as XCLAIM and XAUTOCLAIM do.
fn claim_to(group: &mut Group, consumer: &Bytes, id: StreamId) {
    let owner = group.pel.get(&id).and_then(|n| n.consumer.clone());
    if owner.as_ref() == Some(consumer) {
        return;
    }
    if let Some(c) = owner.and_then(|o| group.consumers.get_mut(&o)) {
        c.pel.remove(&id);
    }
    if let Some(c) = group.consumers.get_mut(consumer) {
        c.pel.insert(id);
    }
    if let Some(n) = group.pel.get_mut(&id) {
        n.consumer = Some(consumer.clone());
    }
}

/// Drops the NACK of `id` (acknowledged, or its entry is gone); whether there was one.
fn drop_pending(group: &mut Group, id: StreamId) -> bool {
    let Some(nack) = group.pel.remove(&id) else {
        return false;
    };
    if let Some(c) = nack.consumer.and_then(|c| group.consumers.get_mut(&c)) {
        c.pel.remove(&id);
    }
    true
}

/// `XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME ms] [RETRYCOUNT n]
/// [FORCE] [JUSTID] [LASTID id]`
pub(super) fn xclaim(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (key, group_name, consumer_name) = (at(argv, 1), at(argv, 2), at(argv, 3));
    let now = ctx.now as i64;
    let exists = {
        let mut shard = ctx.db.shard(key);
        match shard.get(key, ctx.now).map(|e| &e.value) {
            Some(Value::Stream(s)) => s.groups.contains_key(group_name),
            Some(_) => return wrong_type(),
            None => false,
        }
    };
    if !exists {
        return no_group(key, group_name);
    }
    let min_idle = match super::parse_i64(at(argv, 4)) {
        Some(n) => n.max(0),
        None => return Frame::error("ERR Invalid min-idle-time argument for XCLAIM"),
    };
    let mut ids = Vec::new();
    let mut j = 5;
    while let Some(a) = argv.get(j) {
        match parse_strict_id(a) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    let mut force = false;
    let mut justid = false;
    let mut delivery: i64 = -1;
    let mut retrycount: i64 = -1;
    let mut last_id = StreamId::MIN;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let opt = &at(argv, j)[..];
        let number = |a: &[u8], what: &str| {
            super::parse_i64(a).ok_or_else(|| {
                Frame::Error(Bytes::from(format!(
                    "ERR Invalid {what} option argument for XCLAIM"
                )))
            })
        };
        if is_keyword(opt, "FORCE") {
            force = true;
        } else if is_keyword(opt, "JUSTID") {
            justid = true;
        } else if is_keyword(opt, "IDLE") && more > 0 {
            j += 1;
            delivery = match number(at(argv, j), "IDLE") {
                Ok(n) => now.wrapping_sub(n),
                Err(e) => return e,
            };
        } else if is_keyword(opt, "TIME") && more > 0 {
            j += 1;
            delivery = match number(at(argv, j), "TIME") {
                Ok(n) => n,
                Err(e) => return e,
            };
        } else if is_keyword(opt, "RETRYCOUNT") && more > 0 {
            j += 1;
            retrycount = match number(at(argv, j), "RETRYCOUNT") {
                Ok(n) => n,
                Err(e) => return e,
            };
        } else if is_keyword(opt, "LASTID") && more > 0 {
            j += 1;
            last_id = match parse_strict_id(at(argv, j)) {
                Ok(id) => id,
                Err(e) => return e,
            };
        } else {
            return error_with(&[b"ERR Unrecognized XCLAIM option '", opt, b"'"]);
        }
        j += 1;
    }
    let delivery = if delivery == -1 || delivery < 0 || delivery > now {
        now
    } else {
        delivery
    };
    let mut created = 0;
    let mut ops = ctx.replicating().then(Vec::new);
    let mut changes = 0u64;
    let result = with_stream(ctx, key, |s| {
        let s = s?;
        let (gname, mut g) = s.groups.remove_entry(group_name)?;
        // A LASTID that moves the group goes to replicas with the claims, or on its own.
        let mut propagate_last_id = false;
        if last_id > g.last_id {
            g.last_id = last_id;
            propagate_last_id = true;
        }
        let mut out = Vec::new();
        let mut have_consumer = false;
        for (i, id) in ids.into_iter().enumerate() {
            let id_arg = at(argv, 5 + i).clone();
            let fields = s.get(id);
            if fields.is_none() {
                if let Some(nack) = g.pel.get(&id) {
                    if let Some(ops) = ops.as_mut() {
                        ops.push(xclaim_op(key, group_name, id_arg, nack, g.last_id));
                    }
                    propagate_last_id = false;
                    changes += 1;
                }
                drop_pending(&mut g, id);
                continue;
            }
            if force && !g.pel.contains_key(&id) {
                g.pel.insert(
                    id,
                    Nack {
                        delivery_time: now,
                        delivery_count: 1,
                        consumer: None,
                    },
                );
            }
            let Some(nack) = g.pel.get(&id) else {
                continue;
            };
            if nack.consumer.is_some() && min_idle != 0 && nack.idle(now) < min_idle {
                continue;
            }
            if !have_consumer {
                created += u64::from(consumer_for(&mut g, consumer_name, now).1);
                have_consumer = true;
            }
            claim_to(&mut g, consumer_name, id);
            if let Some(nack) = g.pel.get_mut(&id) {
                nack.delivery_time = delivery;
                if retrycount >= 0 {
                    nack.delivery_count = retrycount as u64;
                } else if !justid {
                    nack.count_delivery();
                }
            }
            match fields {
                Some(f) if !justid => out.push(entry_frame(id, f)),
                _ => out.push(id_frame(id)),
            }
            if let (Some(ops), Some(nack)) = (ops.as_mut(), g.pel.get(&id)) {
                ops.push(xclaim_op(key, group_name, id_arg, nack, g.last_id));
            }
            propagate_last_id = false;
            changes += 1;
        }
        if propagate_last_id {
            if let Some(ops) = ops.as_mut() {
                ops.push(setid_op(key, group_name, &g));
            }
            changes += 1;
        }
        s.groups.insert(gname, g);
        Some(out)
    });
    after_claims(ctx, key, changes, created, ops);
    match result {
        Ok(Some(out)) => Frame::Array(out),
        Ok(None) => no_group(key, group_name),
        Err(e) => e,
    }
}

/// `XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]`
pub(super) fn xautoclaim(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (key, group_name, consumer_name) = (at(argv, 1), at(argv, 2), at(argv, 3));
    let min_idle = match super::parse_i64(at(argv, 4)) {
        Some(n) => n.max(0),
        None => return Frame::error("ERR Invalid min-idle-time argument for XAUTOCLAIM"),
    };
    let start = match range_start(at(argv, 5)) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if is_keyword(at(argv, j), "COUNT") && more > 0 {
            const MAX_COUNT: i64 = i64::MAX / 16;
            count = match super::parse_i64(at(argv, j + 1)) {
                Some(n) if (1..=MAX_COUNT).contains(&n) => n,
                _ => return Frame::error("ERR COUNT must be > 0"),
            };
            j += 1;
        } else if is_keyword(at(argv, j), "JUSTID") {
            justid = true;
        } else {
            return syntax_error();
        }
        j += 1;
    }
    let now = ctx.now as i64;
    let mut created = 0;
    let mut ops = ctx.replicating().then(Vec::new);
    let mut changes = 0u64;
    let result = with_stream(ctx, key, |s| {
        let s = s?;
        let (gname, mut g) = s.groups.remove_entry(group_name)?;
        let mut attempts = count.saturating_mul(10);
        let mut left = count;
        // The IDs the loop may look at (at most `attempts`, plus the next cursor).
        let budget = usize::try_from(attempts)
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        let candidates: Vec<StreamId> =
            g.pel.range(start..).map(|(k, _)| *k).take(budget).collect();
        let mut it = candidates.into_iter();
        let mut claimed = Vec::new();
        let mut deleted = Vec::new();
        let mut have_consumer = false;
        loop {
            if attempts == 0 {
                break;
            }
            attempts -= 1;
            if left == 0 {
                break;
            }
            let Some(id) = it.next() else {
                break;
            };
            let Some(fields) = s.get(id) else {
                if let (Some(ops), Some(nack)) = (ops.as_mut(), g.pel.get(&id)) {
                    ops.push(xclaim_op(key, group_name, id.to_bytes(), nack, g.last_id));
                }
                changes += 1;
                drop_pending(&mut g, id);
                deleted.push(id_frame(id));
                left -= 1;
                continue;
            };
            let Some(nack) = g.pel.get(&id) else {
                continue;
            };
            if min_idle != 0 && nack.idle(now) < min_idle {
                continue;
            }
            if !have_consumer {
                created += u64::from(consumer_for(&mut g, consumer_name, now).1);
                have_consumer = true;
            }
            claim_to(&mut g, consumer_name, id);
            if let Some(nack) = g.pel.get_mut(&id) {
                nack.delivery_time = now;
                if !justid {
                    nack.count_delivery();
                }
            }
            claimed.push(if justid {
                id_frame(id)
            } else {
                entry_frame(id, fields)
            });
            if let (Some(ops), Some(nack)) = (ops.as_mut(), g.pel.get(&id)) {
                ops.push(xclaim_op(key, group_name, id.to_bytes(), nack, g.last_id));
            }
            changes += 1;
            left -= 1;
        }
        let next = it.next().unwrap_or(StreamId::MIN);
        s.groups.insert(gname, g);
        Some(Frame::Array(vec![
            id_frame(next),
            Frame::Array(claimed),
            Frame::Array(deleted),
        ]))
    });
    after_claims(ctx, key, changes, created, ops);
    match result {
        Ok(Some(out)) => out,
        Ok(None) => no_group(key, group_name),
        Err(e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `XGROUP CREATE k g 0 MKSTREAM ENTRIESREAD 9223372036854775807`, `XADD k 1-1 f v`,
    /// `XREADGROUP GROUP g c STREAMS k >`: redis-server 7.0.15's XINFO GROUPS then says
    /// entries-read -9223372036854775808 and lag -9223372036854775807 (the counter wraps).
    #[test]
    fn the_read_counter_wraps_as_in_c() {
        let mut s = Stream::new();
        s.append(
            StreamId::new(1, 1),
            vec![Bytes::from_static(b"f"), Bytes::from_static(b"v")].into(),
            crate::stream::NodeLimits {
                entries: 100,
                bytes: 4096,
            },
        );
        let mut g = Group {
            entries_read: i64::MAX,
            ..Group::default()
        };
        advance_group(&s, &mut g, StreamId::new(1, 1));
        assert_eq!(g.entries_read, i64::MIN);
        assert_eq!(g.last_id, StreamId::new(1, 1));
        assert_eq!(s.lag(&g), Some(-9223372036854775807));
    }
}
