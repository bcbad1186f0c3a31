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
        subcommands: &[Spec {
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
        }],
    },
    run: memory,
}];

/// Redis's default SAMPLES (`OBJ_COMPUTE_SIZE_DEF_SAMPLES`).
const DEFAULT_SAMPLES: usize = 5;

fn memory(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let sub = argv.get(1).map_or(&[][..], |s| s.as_ref());
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
