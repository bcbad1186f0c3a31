//! `MEMORY USAGE key [SAMPLES count]`: Redis 7.0's estimate (`objectComputeSize`) of what a
//! key costs, rebuilt from the allocations Redis would make and jemalloc's size classes.
//!
//! Exact where Redis's estimate depends only on the value: integers, `embstr` and `raw`
//! strings as SET stores them, intsets, listpacks (small hashes and sorted sets), and lists
//! (quicklist nodes as `crate::rdb::write` packs them, sampled as Redis samples them). Approximate
//! for hash tables (big sets and hashes, skip-list sorted sets): Redis averages the first
//! SAMPLES elements of its hash table's order, which ours does not share, and a skip-list
//! node's size depends on its random level (counted here as level 1); strings grown in place
//! (APPEND, SETRANGE) have spare room in Redis that is not modelled.

use bytes::Bytes;
use respect_resp::Frame;

use super::args::{is_keyword, parse_i64};
use super::context::Ctx;
use super::registry::{
    BeginSearch, Categories, Category, Command, Docs, FindKeys, Flag, Flags, KeyFlag, KeyFlags,
    KeyRange, KeySpec, Spec,
};
use super::reply::{not_integer, syntax_error, unknown_subcommand};
use crate::db::Value;

/// This family's commands.
pub const COMMANDS: &[Command] = &[Command {
    spec: Spec {
        name: "memory",
        arity: -2,
        flags: Flags::of(&[]),
        keys: KeyRange {
            first: 0,
            last: 0,
            step: 0,
        },
        key_specs: &[],
        acl: Categories::of(&[Category::Slow]),
        tips: &[],
        docs: Docs {
            summary: "A container for memory diagnostics commands",
            since: "4.0.0",
            group: "server",
            complexity: "Depends on subcommand.",
            deprecated: None,
            history: &[],
        },
        subcommands: &[
            Spec {
                name: "memory|doctor",
                arity: 2,
                flags: Flags::of(&[]),
                keys: KeyRange {
                    first: 0,
                    last: 0,
                    step: 0,
                },
                key_specs: &[],
                acl: Categories::of(&[Category::Slow]),
                tips: &[
                    "nondeterministic_output",
                    "request_policy:all_shards",
                    "response_policy:special",
                ],
                docs: Docs {
                    summary: "Outputs memory problems report",
                    since: "4.0.0",
                    group: "server",
                    complexity: "O(1)",
                    deprecated: None,
                    history: &[],
                },
                subcommands: &[],
            },
            Spec {
                name: "memory|help",
                arity: 2,
                flags: Flags::of(&[Flag::Loading, Flag::Stale]),
                keys: KeyRange {
                    first: 0,
                    last: 0,
                    step: 0,
                },
                key_specs: &[],
                acl: Categories::of(&[Category::Slow]),
                tips: &[],
                docs: Docs {
                    summary: "Show helpful text about the different subcommands",
                    since: "4.0.0",
                    group: "server",
                    complexity: "O(1)",
                    deprecated: None,
                    history: &[],
                },
                subcommands: &[],
            },
            Spec {
                name: "memory|malloc-stats",
                arity: 2,
                flags: Flags::of(&[]),
                keys: KeyRange {
                    first: 0,
                    last: 0,
                    step: 0,
                },
                key_specs: &[],
                acl: Categories::of(&[Category::Slow]),
                tips: &[
                    "nondeterministic_output",
                    "request_policy:all_shards",
                    "response_policy:special",
                ],
                docs: Docs {
                    summary: "Show allocator internal stats",
                    since: "4.0.0",
                    group: "server",
                    complexity: "Depends on how much memory is allocated, could be slow",
                    deprecated: None,
                    history: &[],
                },
                subcommands: &[],
            },
            Spec {
                name: "memory|purge",
                arity: 2,
                flags: Flags::of(&[]),
                keys: KeyRange {
                    first: 0,
                    last: 0,
                    step: 0,
                },
                key_specs: &[],
                acl: Categories::of(&[Category::Slow]),
                tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
                docs: Docs {
                    summary: "Ask the allocator to release memory",
                    since: "4.0.0",
                    group: "server",
                    complexity: "Depends on how much memory is allocated, could be slow",
                    deprecated: None,
                    history: &[],
                },
                subcommands: &[],
            },
            Spec {
                name: "memory|stats",
                arity: 2,
                flags: Flags::of(&[]),
                keys: KeyRange {
                    first: 0,
                    last: 0,
                    step: 0,
                },
                key_specs: &[],
                acl: Categories::of(&[Category::Slow]),
                tips: &[
                    "nondeterministic_output",
                    "request_policy:all_shards",
                    "response_policy:special",
                ],
                docs: Docs {
                    summary: "Show memory usage details",
                    since: "4.0.0",
                    group: "server",
                    complexity: "O(1)",
                    deprecated: None,
                    history: &[],
                },
                subcommands: &[],
            },
            Spec {
                name: "memory|usage",
                arity: -3,
                flags: Flags::of(&[Flag::Readonly]),
                keys: KeyRange {
                    first: 2,
                    last: 2,
                    step: 1,
                },
                key_specs: &[KeySpec {
                    notes: None,
                    flags: KeyFlags::of(&[KeyFlag::Ro]),
                    begin: BeginSearch::Index(2),
                    find: FindKeys::Range {
                        last_key: 0,
                        key_step: 1,
                        limit: 0,
                    },
                }],
                acl: Categories::of(&[Category::Read, Category::Slow]),
                tips: &[],
                docs: Docs {
                    summary: "Estimate the memory usage of a key",
                    since: "4.0.0",
                    group: "server",
                    complexity: "O(N) where N is the number of samples.",
                    deprecated: None,
                    history: &[],
                },
                subcommands: &[],
            },
        ],
    },
    run: memory,
}];

/// Redis's default SAMPLES (`OBJ_COMPUTE_SIZE_DEF_SAMPLES`).
const DEFAULT_SAMPLES: usize = 5;

/// MEMORY HELP's own lines, as Redis 7.0.15 prints them (see `reply::help` for the rest).
const HELP: &[&str] = &[
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
];

/// Below this much memory Redis's MEMORY DOCTOR declines to judge (its "empty instance").
const DOCTOR_MIN_MEMORY: usize = 5 * 1024 * 1024;

fn memory(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let sub = argv.get(1).map_or(&[][..], |s| s.as_ref());
    if is_keyword(sub, "HELP") {
        return super::reply::help("memory", HELP);
    }
    if is_keyword(sub, "PURGE") {
        // Redis asks jemalloc to return dirty pages; this server's allocator keeps none
        // for it to ask about.
        return super::reply::ok();
    }
    if is_keyword(sub, "MALLOC-STATS") {
        // Redis's words when it is not built with jemalloc: no allocator report here either.
        return Frame::Bulk(Bytes::from_static(
            b"Stats not supported for the current allocator",
        ));
    }
    if is_keyword(sub, "DOCTOR") {
        return doctor(ctx);
    }
    if is_keyword(sub, "STATS") {
        return stats(ctx);
    }
    if !is_keyword(sub, "USAGE") {
        return unknown_subcommand(sub, "memory");
    }
    let mut samples = DEFAULT_SAMPLES;
    let mut options = argv.get(3..).unwrap_or_default().iter();
    while let Some(option) = options.next() {
        if !is_keyword(option, "SAMPLES") || options.len() == 0 {
            return syntax_error();
        }
        let Some(n) = options.next().and_then(|n| parse_i64(n)) else {
            return not_integer();
        };
        samples = match n {
            n if n < 0 => return syntax_error(),
            0 => usize::MAX,
            n => usize::try_from(n).unwrap_or(usize::MAX),
        };
    }
    let key = argv.get(2).cloned().unwrap_or_default();
    let mut shard = ctx.db.shard(&key);
    let mark = shard.converted(&key);
    let Some(entry) = shard.get(&key, ctx.now) else {
        return Frame::Null;
    };
    let encoding = crate::encoding::encoding_name(&entry.value, mark);
    let usage = value_size(&entry.value, encoding, samples) + sds(key.len()) + DICT_ENTRY;
    Frame::Integer(i64::try_from(usage).unwrap_or(i64::MAX))
}

/// MEMORY DOCTOR: Redis's report for an instance too small to judge, or its report of no
/// issue (this server has no fragmentation or peak figures to diagnose), verbatim in RESP3.
fn doctor(ctx: &Ctx<'_>) -> Frame {
    let text: &'static str = if ctx.server.used_memory() < DOCTOR_MIN_MEMORY {
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting."
    } else {
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base."
    };
    if ctx.resp3() {
        Frame::Verbatim {
            format: *b"txt",
            text: Bytes::from_static(text.as_bytes()),
        }
    } else {
        Frame::Bulk(Bytes::from_static(text.as_bytes()))
    }
}

/// MEMORY STATS: Redis's fields that this server can fill from its own accounting (INFO's
/// `used_memory` estimate, key counts per database); allocator figures it does not have are
/// left out. A flat array in RESP2, a map in RESP3.
fn stats(ctx: &Ctx<'_>) -> Frame {
    let server = ctx.server;
    let used = server.used_memory();
    let startup = crate::state::BASE_MEMORY;
    let int = |n: usize| Frame::Integer(i64::try_from(n).unwrap_or(i64::MAX));
    let name = |s: &str| Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()));
    let clients = server.hub.all().len();
    let mut pairs = vec![
        (name("peak.allocated"), int(used)),
        (name("total.allocated"), int(used)),
        (name("startup.allocated"), int(startup)),
        (name("replication.backlog"), int(0)),
        (name("clients.slaves"), int(server.replication.replicas())),
        (name("clients.normal"), int(clients)),
        (name("cluster.links"), int(0)),
        (name("aof.buffer"), int(0)),
        (name("lua.caches"), int(0)),
        (name("functions.caches"), int(0)),
    ];
    let mut keys = 0;
    for (index, db) in server.dbs().iter().enumerate() {
        let count = db.len();
        if count == 0 {
            continue;
        }
        keys += count;
        let overhead = Frame::Map(vec![
            (
                name("overhead.hashtable.main"),
                int(count.saturating_mul(DICT_ENTRY)),
            ),
            (name("overhead.hashtable.expires"), int(0)),
            (name("overhead.hashtable.slot-to-keys"), int(0)),
        ]);
        pairs.push((name(&format!("db.{index}")), overhead));
    }
    let dataset = used.saturating_sub(startup);
    let percent = |part: usize, whole: usize| {
        Frame::Double(if whole == 0 {
            0.0
        } else {
            part as f64 * 100.0 / whole as f64
        })
    };
    pairs.extend([
        (name("overhead.total"), int(startup)),
        (name("keys.count"), int(keys)),
        (
            name("keys.bytes-per-key"),
            int(dataset.checked_div(keys).unwrap_or(0)),
        ),
        (name("dataset.bytes"), int(dataset)),
        (
            name("dataset.percentage"),
            percent(dataset, used.saturating_sub(startup).max(1)),
        ),
        (name("peak.percentage"), percent(used, used)),
    ]);
    Frame::Map(pairs)
}

const ROBJ: usize = 16;
const DICT_ENTRY: usize = 24;
const DICT: usize = 56;
const QUICKLIST: usize = 40;
const QUICKLIST_NODE: usize = 40;

/// The usable size jemalloc gives a request of `n` bytes: its size class (8, 16, then four
/// classes per doubling).
fn jemalloc_class(n: usize) -> usize {
    if n <= 8 {
        return 8;
    }
    if n <= 128 {
        return n.div_ceil(16) * 16;
    }
    let lg = usize::BITS - 1 - (n - 1).leading_zeros();
    let step = 1usize << (lg - 2);
    n.div_ceil(step) * step
}

/// An sds string of `len` bytes allocated exactly: header (by length), bytes, NUL.
fn sds(len: usize) -> usize {
    let header = if len < 32 {
        1
    } else if len < 256 {
        3
    } else if len < 65536 {
        5
    } else {
        9
    };
    jemalloc_class(header + len + 1)
}

/// A dict's slots: 4, or the power of two its elements grew it to.
fn dict_slots(len: usize) -> usize {
    len.next_power_of_two().max(4)
}

/// `asize + elesize / samples * len`, as Redis computes it in doubles and truncates.
/// `samples` is at least 1 (SAMPLES 0 is all of them), so Redis's `do ... while` over a
/// list's nodes and this agree.
fn sampled(base: usize, sizes: impl Iterator<Item = usize>, samples: usize, len: usize) -> usize {
    let (mut total, mut count) = (0usize, 0usize);
    for size in sizes.take(samples) {
        total += size;
        count += 1;
    }
    if count == 0 {
        return base;
    }
    (base as f64 + total as f64 / count as f64 * len as f64) as usize
}

/// `objectComputeSize` for `value`, whose OBJECT ENCODING is `encoding`.
fn value_size(value: &Value, encoding: &str, samples: usize) -> usize {
    use crate::rdb::{intset, listpack, write::quicklist_nodes};
    match value {
        Value::Str(_) if encoding == "int" => ROBJ,
        Value::Str(s) if encoding == "embstr" => jemalloc_class(ROBJ + 3 + s.len() + 1),
        Value::Str(s) => sds(s.len()) + ROBJ,
        Value::List(list) => {
            let nodes = quicklist_nodes(list);
            let sizes = nodes
                .iter()
                .map(|(_, size)| QUICKLIST_NODE + jemalloc_class(*size));
            sampled(ROBJ + QUICKLIST, sizes, samples, nodes.len())
        }
        Value::Set(set) if encoding == "intset" => {
            ROBJ + jemalloc_class(8 + intset::width(set.iter().map(|m| m.as_ref())) * set.len())
        }
        Value::Set(set) => sampled(
            ROBJ + DICT + 8 * dict_slots(set.len()),
            set.iter().map(|m| DICT_ENTRY + sds(m.len())),
            samples,
            set.len(),
        ),
        Value::Hash(hash) if encoding == "listpack" => {
            ROBJ + jemalloc_class(listpack::len(
                hash.iter().flat_map(|(f, v)| [f.as_ref(), v.as_ref()]),
            ))
        }
        Value::Hash(hash) => sampled(
            ROBJ + DICT + 8 * dict_slots(hash.len()),
            hash.iter()
                .map(|(f, v)| DICT_ENTRY + sds(f.len()) + sds(v.len())),
            samples,
            hash.len(),
        ),
        Value::ZSet(zset) if encoding == "listpack" => {
            super::zsets::scan::with_listpack_entries(zset, |items| {
                ROBJ + jemalloc_class(listpack::len(items))
            })
        }
        Value::ZSet(zset) => {
            // zset, zskiplist, dict, the slots, and the 32-level header node.
            let base =
                ROBJ + 16 + 32 + DICT + 8 * dict_slots(zset.len()) + jemalloc_class(24 + 32 * 16);
            sampled(
                base,
                zset.iter_from(0)
                    .map(|(m, _)| sds(m.len()) + DICT_ENTRY + jemalloc_class(24 + 16)),
                samples,
                zset.len(),
            )
        }
        Value::Stream(stream) => {
            let max_bytes = crate::encoding::current().stream_node_bytes();
            let prealloc = if max_bytes > 0 && max_bytes < 4096 {
                max_bytes
            } else {
                4096
            };
            ROBJ + stream.memory_usage(samples, prealloc, jemalloc_class)
        }
        Value::Seed(_) => ROBJ,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jemalloc_classes() {
        let classes: Vec<usize> = [1, 8, 9, 17, 25, 129, 161, 257, 1025, 16385, 20481]
            .into_iter()
            .map(jemalloc_class)
            .collect();
        assert_eq!(
            classes,
            [8, 8, 16, 32, 32, 160, 192, 320, 1280, 20480, 24576]
        );
    }
}
