//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFSELFTEST, PFDEBUG. A sketch is a plain
//! string value in Redis's representation (see [`crate::hll`]), so GET, SET and APPEND see
//! its bytes; a string that is not one is refused as Redis refuses it
//! (`WRONGTYPE Key is not a valid HyperLogLog string value.`), and a sparse body whose runs do
//! not add up is `INVALIDOBJ Corrupted HLL object detected`.
//!
//! What Redis 7.0 signals: PFADD (when a register or the key changed) and PFMERGE send the
//! `pfadd` event of the string class and touch WATCH; PFCOUNT of one key touches WATCH when it
//! refreshes the cached cardinality stored in the value (no event); PFDEBUG converts without
//! telling anyone. Every command that accepts the value leaves it `raw` (Redis unshares it).

use std::sync::atomic::Ordering;

use bytes::{Bytes, BytesMut};
use respect_resp::Frame;

use super::args::arg;
use super::context::Ctx;
use super::conversions::mark_modified_in_place;
use super::registry::{
    BeginSearch, Categories, Category, Command, Docs, FindKeys, Flag, Flags, KeyFlag, KeyFlags,
    KeyRange, KeySpec, Spec,
};
use super::reply::{error_format, ok, wrong_type};
use crate::db::{Entry, Shard, Value};
use crate::hll;

/// This family's commands.
pub const COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "pfadd",
            arity: -2,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Insert]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Hyperloglog, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Adds the specified elements to the specified HyperLogLog.",
                since: "2.8.9",
                group: "hyperloglog",
                complexity: "O(1) to add every element.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: pfadd,
    },
    Command {
        spec: Spec {
            name: "pfcount",
            arity: -2,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: -1, step: 1 },
            key_specs: &[KeySpec { notes: Some("RW because it may change the internal representation of the key, and propagate to replicas"), flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: -1, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Hyperloglog, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
                since: "2.8.9",
                group: "hyperloglog",
                complexity: "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: pfcount,
    },
    Command {
        spec: Spec {
            name: "pfmerge",
            arity: -2,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom]),
            keys: KeyRange { first: 1, last: -1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Insert]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }, KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(2), find: FindKeys::Range { last_key: -1, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Hyperloglog, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Merge N different HyperLogLogs into a single one.",
                since: "2.8.9",
                group: "hyperloglog",
                complexity: "O(N) to merge N HyperLogLogs, but with high constant times.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: pfmerge,
    },
    Command {
        spec: Spec {
            name: "pfselftest",
            arity: 1,
            flags: Flags::of(&[Flag::Admin]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Hyperloglog, Category::Admin, Category::Slow, Category::Dangerous]),
            tips: &[],
            docs: Docs {
                summary: "An internal command for testing HyperLogLog values",
                since: "2.8.9",
                group: "hyperloglog",
                complexity: "N/A",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: pfselftest,
    },
    Command {
        spec: Spec {
            name: "pfdebug",
            arity: 3,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Admin]),
            keys: KeyRange { first: 2, last: 2, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access]), begin: BeginSearch::Index(2), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Hyperloglog, Category::Admin, Category::Slow, Category::Dangerous]),
            tips: &[],
            docs: Docs {
                summary: "Internal commands for debugging HyperLogLog values",
                since: "2.8.9",
                group: "hyperloglog",
                complexity: "N/A",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: pfdebug,
    },
];

/// Redis's reply to a string that is not a sketch.
fn not_a_sketch() -> Frame {
    Frame::error("WRONGTYPE Key is not a valid HyperLogLog string value.")
}

/// Redis's reply to a sketch whose sparse body is corrupt.
fn corrupt() -> Frame {
    Frame::error("INVALIDOBJ Corrupted HLL object detected")
}

fn sparse_max_bytes(ctx: &Ctx<'_>) -> u64 {
    ctx.server
        .settings
        .hll_sparse_max_bytes
        .load(Ordering::Relaxed)
}

/// Edits a stored string's bytes where they lie when nothing else holds them (no copy of a
/// 12 KB dense sketch per PFADD).
fn edit<T>(value: &mut Bytes, f: impl FnOnce(&mut BytesMut) -> T) -> T {
    let mut buf = std::mem::take(value)
        .try_into_mut()
        .unwrap_or_else(|shared| BytesMut::from(shared.as_ref()));
    let out = f(&mut buf);
    *value = buf.freeze();
    out
}

/// The sketch stored at `key` for a write (no keyspace hit counted): `Ok(None)` when the key
/// is missing, the error Redis gives for another type or a string that is not a sketch.
fn sketch_for_write<'s>(
    shard: &'s mut Shard,
    key: &[u8],
    now: u64,
) -> Result<Option<&'s mut Bytes>, Frame> {
    match shard.get_mut(key, now) {
        None => Ok(None),
        Some(Entry {
            value: Value::Str(s),
            ..
        }) if hll::is_sketch(s) => Ok(Some(s)),
        Some(Entry {
            value: Value::Str(_),
            ..
        }) => Err(not_a_sketch()),
        Some(_) => Err(wrong_type()),
    }
}

/// Looks `key` up as a read (a keyspace hit or miss) and checks it is a sketch.
fn check_read<'s>(shard: &'s mut Shard, key: &[u8], now: u64) -> Result<Option<&'s Bytes>, Frame> {
    match shard.get(key, now) {
        None => Ok(None),
        Some(Entry {
            value: Value::Str(s),
            ..
        }) if hll::is_sketch(s) => Ok(Some(s)),
        Some(Entry {
            value: Value::Str(_),
            ..
        }) => Err(not_a_sketch()),
        Some(_) => Err(wrong_type()),
    }
}

/// Adds every element; the number of changed registers, or the corruption that stopped it.
fn add_all(
    sketch: &mut BytesMut,
    elements: &[Bytes],
    max_bytes: u64,
) -> Result<usize, hll::Corrupt> {
    let mut batch = hll::Batch::new(sketch);
    let mut updated = 0;
    for element in elements {
        if batch.add(element, max_bytes)? {
            updated += 1;
        }
    }
    Ok(updated)
}

/// `PFADD key [element ...]`: 1 when the key was created or a register changed.
fn pfadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let key = arg(argv, 1);
    let elements = argv.get(2..).unwrap_or_default();
    let max_bytes = sparse_max_bytes(ctx);
    let mut shard = ctx.db.shard(&key);
    let updated = match sketch_for_write(&mut shard, &key, ctx.now) {
        Err(error) => return error,
        Ok(Some(value)) => edit(value, |sketch| {
            let added = add_all(sketch, elements, max_bytes);
            if matches!(added, Ok(n) if n > 0) {
                hll::invalidate_cache(sketch);
            }
            added
        }),
        Ok(None) => {
            let mut sketch = hll::new_sketch();
            let added = add_all(&mut sketch, elements, max_bytes).map(|n| n + 1);
            hll::invalidate_cache(&mut sketch);
            shard.insert(
                key.clone(),
                Entry::new(Value::Str(sketch.freeze())),
                ctx.now,
            );
            added
        }
    };
    mark_modified_in_place(&mut shard, &key, ctx.now);
    drop(shard);
    match updated {
        Err(hll::Corrupt) => corrupt(),
        Ok(0) => Frame::Integer(0),
        Ok(_) => {
            super::watch::signal_modified(ctx, ctx.state.db_index, &key);
            super::events::notify(ctx, crate::notify::STRING, "pfadd", &key);
            Frame::Integer(1)
        }
    }
}

/// `PFCOUNT key [key ...]`: the estimate of one sketch (cached in its header), or of the
/// union of several (none of them changed).
fn pfcount(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    if argv.len() > 2 {
        let mut max = vec![0u8; hll::REGISTERS];
        if let Err(error) = union(ctx, argv.get(1..).unwrap_or_default(), &mut max, &mut false) {
            return error;
        }
        return Frame::Integer(hll::count_registers(&max) as i64);
    }
    let key = arg(argv, 1);
    let mut shard = ctx.db.shard(&key);
    match check_read(&mut shard, &key, ctx.now) {
        Err(error) => return error,
        Ok(None) => return Frame::Integer(0),
        Ok(Some(value)) => {
            if let Some(count) = hll::cached_count(value) {
                mark_modified_in_place(&mut shard, &key, ctx.now);
                return Frame::Integer(count as i64);
            }
        }
    }
    mark_modified_in_place(&mut shard, &key, ctx.now);
    let Ok(Some(value)) = sketch_for_write(&mut shard, &key, ctx.now) else {
        return Frame::Integer(0);
    };
    let Ok(count) = hll::count(value) else {
        return corrupt();
    };
    edit(value, |sketch| hll::set_cached_count(sketch, count));
    drop(shard);
    super::watch::signal_modified(ctx, ctx.state.db_index, &key);
    Frame::Integer(count as i64)
}

/// Raises `max` to the registers of every sketch at `keys` (missing ones are empty); sets
/// `dense` when one of them is dense. Redis's error for the first key that is not a sketch.
fn union(ctx: &Ctx<'_>, keys: &[Bytes], max: &mut [u8], dense: &mut bool) -> Result<(), Frame> {
    for key in keys {
        let mut shard = ctx.db.shard(key);
        let Some(value) = check_read(&mut shard, key, ctx.now)? else {
            continue;
        };
        *dense |= hll::encoding(value) == hll::DENSE;
        hll::merge_into(max, value).map_err(|_| corrupt())?;
    }
    Ok(())
}

/// `PFMERGE destkey [sourcekey ...]`: the destination (a source too) becomes the union.
fn pfmerge(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let dest = arg(argv, 1);
    let mut max = vec![0u8; hll::REGISTERS];
    let mut use_dense = false;
    if let Err(error) = union(
        ctx,
        argv.get(1..).unwrap_or_default(),
        &mut max,
        &mut use_dense,
    ) {
        return error;
    }
    let max_bytes = sparse_max_bytes(ctx);
    let write = |sketch: &mut BytesMut| -> Result<(), hll::Corrupt> {
        let mut batch = hll::Batch::new(sketch);
        if use_dense {
            batch.make_dense()?;
        }
        for (i, &m) in max.iter().enumerate() {
            if m != 0 {
                // The destination was read as a source: it is not corrupt.
                let _ = batch.set(i, m, max_bytes);
            }
        }
        drop(batch);
        hll::invalidate_cache(sketch);
        Ok(())
    };
    let mut shard = ctx.db.shard(&dest);
    let written = match sketch_for_write(&mut shard, &dest, ctx.now) {
        Err(error) => return error,
        Ok(Some(value)) => edit(value, write),
        Ok(None) => {
            let mut sketch = hll::new_sketch();
            let written = write(&mut sketch);
            shard.insert(
                dest.clone(),
                Entry::new(Value::Str(sketch.freeze())),
                ctx.now,
            );
            written
        }
    };
    mark_modified_in_place(&mut shard, &dest, ctx.now);
    drop(shard);
    if written.is_err() {
        return corrupt();
    }
    super::watch::signal_modified(ctx, ctx.state.db_index, &dest);
    // Redis sends PFADD's event: a merge is a mass add.
    super::events::notify(ctx, crate::notify::STRING, "pfadd", &dest);
    ok()
}

/// `PFSELFTEST`.
fn pfselftest(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> Frame {
    let seed = ctx.now ^ 0x9e37_79b9_7f4a_7c15 | 1;
    match hll::self_test(sparse_max_bytes(ctx), seed) {
        Ok(()) => ok(),
        Err(text) => Frame::error(text),
    }
}

/// `PFDEBUG GETREG|DECODE|ENCODING|TODENSE key`. The key is looked up (and must be a
/// sketch) before the subcommand is read, as Redis does.
fn pfdebug(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let sub = arg(argv, 1);
    let key = arg(argv, 2);
    let mut shard = ctx.db.shard(&key);
    match sketch_for_write(&mut shard, &key, ctx.now) {
        Err(error) => return error,
        Ok(None) => return Frame::error("ERR The specified key does not exist"),
        Ok(Some(_)) => {}
    }
    mark_modified_in_place(&mut shard, &key, ctx.now);
    let Ok(Some(value)) = sketch_for_write(&mut shard, &key, ctx.now) else {
        return Frame::error("ERR The specified key does not exist");
    };
    let sparse = hll::encoding(value) == hll::SPARSE;
    if sub.eq_ignore_ascii_case(b"getreg") {
        if sparse && edit(value, hll::to_dense).is_err() {
            return corrupt();
        }
        let regs = value.get(hll::HDR_SIZE..).unwrap_or_default();
        Frame::Array(
            (0..hll::REGISTERS)
                .map(|i| Frame::Integer(i64::from(hll::dense_get(regs, i))))
                .collect(),
        )
    } else if sub.eq_ignore_ascii_case(b"decode") {
        if !sparse {
            return Frame::error("ERR HLL encoding is not sparse");
        }
        Frame::bulk(hll::decode(value))
    } else if sub.eq_ignore_ascii_case(b"encoding") {
        Frame::Simple(Bytes::from_static(if sparse {
            b"sparse"
        } else {
            b"dense"
        }))
    } else if sub.eq_ignore_ascii_case(b"todense") {
        if !sparse {
            return Frame::Integer(0);
        }
        if edit(value, hll::to_dense).is_err() {
            return corrupt();
        }
        Frame::Integer(1)
    } else {
        let mut text = b"ERR Unknown PFDEBUG subcommand '".to_vec();
        text.extend_from_slice(sub.split(|&b| b == 0).next().unwrap_or_default());
        text.push(b'\'');
        error_format(&text)
    }
}
