//! OBJECT ENCODING / FREQ / IDLETIME / REFCOUNT / HELP: what Redis 7.0 says about how it
//! stores a value. The encodings follow Redis's rules (see [`crate::encoding`]); the access
//! statistics are not tracked, and each subcommand says what it answers instead.

use bytes::Bytes;

use super::args::{is_keyword, parse_i64};
use super::context::Ctx;
use super::registry::{
    BeginSearch, Categories, Category, Command, Docs, FindKeys, Flag, Flags, KeyFlag, KeyFlags,
    KeyRange, KeySpec, Spec,
};
use super::reply::{help, unknown_subcommand};
use crate::db::Value;
use crate::encoding::{encoding_name, SHARED_INTEGERS};
use respect_resp::Frame;

/// This family's commands.
#[rustfmt::skip]
pub const COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "object",
            arity: -2,
            flags: Flags::of(&[]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "A container for object introspection commands",
                since: "2.2.3",
                group: "generic",
                complexity: "Depends on subcommand.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[
Spec {
            name: "object|encoding",
            arity: 3,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 2, last: 2, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro]), begin: BeginSearch::Index(2), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Keyspace, Category::Read, Category::Slow]),
            tips: &["nondeterministic_output"],
            docs: Docs {
                summary: "Inspect the internal encoding of a Redis object",
                since: "2.2.3",
                group: "generic",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
Spec {
            name: "object|freq",
            arity: 3,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 2, last: 2, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro]), begin: BeginSearch::Index(2), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Keyspace, Category::Read, Category::Slow]),
            tips: &["nondeterministic_output"],
            docs: Docs {
                summary: "Get the logarithmic access frequency counter of a Redis object",
                since: "4.0.0",
                group: "generic",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
Spec {
            name: "object|idletime",
            arity: 3,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 2, last: 2, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro]), begin: BeginSearch::Index(2), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Keyspace, Category::Read, Category::Slow]),
            tips: &["nondeterministic_output"],
            docs: Docs {
                summary: "Get the time since a Redis object was last accessed",
                since: "2.2.3",
                group: "generic",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
Spec {
            name: "object|refcount",
            arity: 3,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 2, last: 2, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro]), begin: BeginSearch::Index(2), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Keyspace, Category::Read, Category::Slow]),
            tips: &["nondeterministic_output"],
            docs: Docs {
                summary: "Get the number of references to the value of the key",
                since: "2.2.3",
                group: "generic",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
Spec {
            name: "object|help",
            arity: 2,
            flags: Flags::of(&[Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Keyspace, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Show helpful text about the different subcommands",
                since: "6.2.0",
                group: "generic",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
            ],
        },
        run: object,
    },
];

/// OBJECT HELP's own lines, as Redis 7.0.15 prints them (see [`help`] for the rest).
const HELP: &[&str] = &[
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
];

/// Redis's error when FREQ is asked for without an LFU policy.
const NO_LFU: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

/// Redis's error when IDLETIME is asked for under an LFU policy.
const LFU: &str = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

/// OBJECT REFCOUNT of a shared object (Redis's `OBJ_SHARED_REFCOUNT`, `INT_MAX`).
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

fn object(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    // The dispatcher has checked the subcommand and its arity against the registry.
    let sub = argv.get(1).map_or(&[][..], |s| s.as_ref());
    if is_keyword(sub, "HELP") {
        return help("object", HELP);
    }
    let key = argv.get(2).cloned().unwrap_or_default();
    let lfu = crate::encoding::current().lfu();
    let mut shard = ctx.db.shard(&key);
    let mark = shard.converted(&key);
    // Looked at without touching (Redis's LOOKUP_NOTOUCH): IDLETIME is not reset by asking.
    let Some(entry) = shard.get_untouched(&key, ctx.now) else {
        return Frame::Null;
    };
    if is_keyword(sub, "ENCODING") {
        Frame::Bulk(Bytes::from_static(
            encoding_name(&entry.value, mark).as_bytes(),
        ))
    } else if is_keyword(sub, "REFCOUNT") {
        Frame::Integer(refcount(&entry.value, mark, ctx.server))
    } else if is_keyword(sub, "IDLETIME") {
        if lfu {
            Frame::error(LFU)
        } else {
            let idle = crate::access::idle_seconds(entry.access, ctx.now);
            Frame::Integer(i64::try_from(idle).unwrap_or(i64::MAX))
        }
    } else if is_keyword(sub, "FREQ") {
        if lfu {
            Frame::Integer(i64::from(crate::access::frequency(entry.access, ctx.now)))
        } else {
            Frame::error(NO_LFU)
        }
    } else {
        unknown_subcommand(sub, "object")
    }
}

/// OBJECT REFCOUNT's (and DEBUG OBJECT's) answer: Redis shares the integer objects 0..10000
/// (refcount `INT_MAX`) among all keys holding them, unless a `maxmemory` limit with an LRU
/// or LFU policy needs per-key access times.
pub(crate) fn refcount(
    value: &Value,
    mark: Option<crate::db::Converted>,
    server: &crate::state::ServerState,
) -> i64 {
    let Value::Str(s) = value else { return 1 };
    if encoding_name(value, mark) != "int" {
        return 1;
    }
    let settings = &server.settings;
    let limited = settings
        .maxmemory
        .load(std::sync::atomic::Ordering::Relaxed)
        > 0;
    let per_key_access = settings
        .get("maxmemory-policy")
        .is_some_and(|p| p.ends_with("-lru") || p.ends_with("-lfu"));
    match parse_i64(s) {
        Some(n) if (0..SHARED_INTEGERS).contains(&n) && !(limited && per_key_access) => {
            SHARED_REFCOUNT
        }
        _ => 1,
    }
}
