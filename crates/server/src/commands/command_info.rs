//! `COMMAND` and its subcommands (COUNT, INFO, DOCS, LIST, GETKEYS), answered from the
//! registry in redis-server 7.0's shapes: each `COMMAND INFO` entry has Redis's ten fields
//! (name, arity, flags, first/last/step, ACL categories, tips, key specs, subcommands).
//!
//! Left out, because the registry does not hold them: `COMMAND DOCS`'s `arguments` trees
//! (so a DOCS entry has summary, since, group, complexity, the deprecation notice and
//! history, but not the arguments), and the subcommands of CLIENT, COMMAND and CONFIG that
//! we do not implement (their `COMMAND INFO` entries list ours only). `COMMAND LIST` lists
//! in table order; Redis's order is its hash table's. `FILTERBY MODULE` matches nothing,
//! as on a server without modules.

use bytes::Bytes;
use respect_resp::Frame;

use super::args::is_keyword;
use super::context::Ctx;
use super::dispatch::{lookup, lookup_subcommand, redis_commands};
use super::registry::{BeginSearch, Category, FindKeys, Flag, KeySpec, Spec};
use super::reply::{syntax_error, unknown_subcommand};
use crate::glob::glob_match;

fn bulk(s: &'static str) -> Frame {
    Frame::Bulk(Bytes::from_static(s.as_bytes()))
}

fn simple(s: &'static str) -> Frame {
    Frame::Simple(Bytes::from_static(s.as_bytes()))
}

fn int(n: i32) -> Frame {
    Frame::Integer(i64::from(n))
}

/// A command or subcommand by its full name (`get`, `client|id`), any case.
fn spec_by_name(name: &[u8]) -> Option<&'static Spec> {
    match name.iter().position(|&c| c == b'|') {
        None => lookup(name).map(|c| &c.spec),
        Some(bar) => {
            let parent = lookup(name.get(..bar)?)?;
            lookup_subcommand(&parent.spec, name.get(bar + 1..)?)
        }
    }
}

/// Every command and subcommand, parents first.
fn every_spec() -> impl Iterator<Item = &'static Spec> {
    redis_commands().flat_map(|c| std::iter::once(&c.spec).chain(c.spec.subcommands.iter()))
}

/// `COMMAND [subcommand ...]`.
pub fn command(_: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let Some(sub) = argv.get(1) else {
        return Frame::Array(redis_commands().map(|c| info(&c.spec)).collect());
    };
    let rest = argv.get(2..).unwrap_or_default();
    if is_keyword(sub, "COUNT") {
        Frame::Integer(redis_commands().count() as i64)
    } else if is_keyword(sub, "INFO") {
        if rest.is_empty() {
            return Frame::Array(redis_commands().map(|c| info(&c.spec)).collect());
        }
        Frame::Array(
            rest.iter()
                .map(|name| spec_by_name(name).map_or(Frame::Null, info))
                .collect(),
        )
    } else if is_keyword(sub, "DOCS") {
        let pairs = if rest.is_empty() {
            redis_commands().map(|c| docs_pair(&c.spec)).collect()
        } else {
            rest.iter()
                .filter_map(|name| spec_by_name(name))
                .map(docs_pair)
                .collect()
        };
        Frame::Map(pairs)
    } else if is_keyword(sub, "LIST") {
        list(rest)
    } else if is_keyword(sub, "GETKEYS") {
        getkeys(rest, false)
    } else if is_keyword(sub, "GETKEYSANDFLAGS") {
        getkeys(rest, true)
    } else if is_keyword(sub, "HELP") {
        super::reply::help("command", HELP)
    } else {
        unknown_subcommand(sub, "command")
    }
}

/// One `COMMAND INFO` entry.
fn info(spec: &Spec) -> Frame {
    Frame::Array(vec![
        bulk(spec.name),
        int(spec.arity),
        Frame::Set(spec.flags.iter().map(|f| simple(f.name())).collect()),
        int(spec.keys.first),
        int(spec.keys.last),
        int(spec.keys.step),
        Frame::Set(spec.acl.iter().map(|c| simple(c.name())).collect()),
        Frame::Set(spec.tips.iter().copied().map(bulk).collect()),
        Frame::Set(spec.key_specs.iter().filter_map(key_spec).collect()),
        Frame::Set(spec.subcommands.iter().map(info).collect()),
    ])
}

/// A key spec as `COMMAND INFO` shows it; `None` for the seed-only [`FindKeys::DictKeys`].
fn key_spec(spec: &KeySpec) -> Option<Frame> {
    let map = |pairs: Vec<(&'static str, Frame)>| {
        Frame::Map(pairs.into_iter().map(|(k, v)| (bulk(k), v)).collect())
    };
    let begin = match spec.begin {
        BeginSearch::Index(i) => map(vec![
            ("type", bulk("index")),
            ("spec", map(vec![("index", int(i))])),
        ]),
        BeginSearch::Unknown => map(vec![("type", bulk("unknown")), ("spec", map(vec![]))]),
        BeginSearch::Keyword {
            keyword,
            start_from,
        } => map(vec![
            ("type", bulk("keyword")),
            (
                "spec",
                map(vec![
                    ("keyword", bulk(keyword)),
                    ("startfrom", int(start_from)),
                ]),
            ),
        ]),
    };
    let find = match spec.find {
        FindKeys::Range {
            last_key,
            key_step,
            limit,
        } => map(vec![
            ("type", bulk("range")),
            (
                "spec",
                map(vec![
                    ("lastkey", int(last_key)),
                    ("keystep", int(key_step)),
                    ("limit", int(limit)),
                ]),
            ),
        ]),
        FindKeys::KeyNum {
            key_num_index,
            first_key,
            key_step,
        } => map(vec![
            ("type", bulk("keynum")),
            (
                "spec",
                map(vec![
                    ("keynumidx", int(key_num_index)),
                    ("firstkey", int(first_key)),
                    ("keystep", int(key_step)),
                ]),
            ),
        ]),
        FindKeys::Unknown => map(vec![("type", bulk("unknown")), ("spec", map(vec![]))]),
        FindKeys::DictKeys => return None,
    };
    let mut pairs = Vec::with_capacity(4);
    if let Some(notes) = spec.notes {
        pairs.push(("notes", bulk(notes)));
    }
    pairs.push((
        "flags",
        Frame::Set(spec.flags.iter().map(|f| simple(f.name())).collect()),
    ));
    pairs.push(("begin_search", begin));
    pairs.push(("find_keys", find));
    Some(map(pairs))
}

/// The commands redis-server 7.0.15 documents with the `syscmd` doc flag (none of them is
/// also deprecated).
const SYSCMD: &[&str] = &[
    "debug",
    "pfdebug",
    "pfselftest",
    "psync",
    "replconf",
    "restore-asking",
    "sync",
];

/// One `COMMAND DOCS` entry: the name and its docs (without the argument tree).
fn docs_pair(spec: &'static Spec) -> (Frame, Frame) {
    let docs = &spec.docs;
    let mut fields = vec![
        (bulk("summary"), bulk(docs.summary)),
        (bulk("since"), bulk(docs.since)),
        (bulk("group"), bulk(docs.group)),
    ];
    // Redis leaves out what a command's docs do not have (MONITOR, SYNC: no complexity).
    if !docs.complexity.is_empty() {
        fields.push((bulk("complexity"), bulk(docs.complexity)));
    }
    if SYSCMD.contains(&spec.name) {
        // Redis's `CMD_DOC_SYSCMD`: commands meant for the system, not for applications.
        fields.push((bulk("doc_flags"), Frame::Set(vec![simple("syscmd")])));
    } else if let Some(deprecated) = docs.deprecated {
        fields.push((bulk("doc_flags"), Frame::Set(vec![simple("deprecated")])));
        fields.push((bulk("deprecated_since"), bulk(deprecated.since)));
        fields.push((bulk("replaced_by"), bulk(deprecated.replaced_by)));
    }
    if !docs.history.is_empty() {
        fields.push((
            bulk("history"),
            Frame::Array(
                docs.history
                    .iter()
                    .map(|(version, change)| Frame::Array(vec![bulk(version), bulk(change)]))
                    .collect(),
            ),
        ));
    }
    if !spec.subcommands.is_empty() {
        fields.push((
            bulk("subcommands"),
            Frame::Map(spec.subcommands.iter().map(docs_pair).collect()),
        ));
    }
    (bulk(spec.name), Frame::Map(fields))
}

/// `COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]`.
fn list(rest: &[Bytes]) -> Frame {
    let names = |keep: &dyn Fn(&Spec) -> bool| {
        Frame::Array(
            every_spec()
                .filter(|s| keep(s))
                .map(|s| bulk(s.name))
                .collect(),
        )
    };
    match rest {
        [] => names(&|_| true),
        [filterby, kind, value] if is_keyword(filterby, "FILTERBY") => {
            if is_keyword(kind, "MODULE") {
                Frame::Array(vec![])
            } else if is_keyword(kind, "ACLCAT") {
                let category = Category::ALL.into_iter().find(|c| {
                    c.name()
                        .as_bytes()
                        .get(1..)
                        .is_some_and(|n| n.eq_ignore_ascii_case(value))
                });
                match category {
                    Some(category) => names(&|s| s.acl.contains(category)),
                    None => Frame::Array(vec![]),
                }
            } else if is_keyword(kind, "PATTERN") {
                let pattern = value.to_ascii_lowercase();
                names(&|s| glob_match(&pattern, s.name.as_bytes()))
            } else {
                syntax_error()
            }
        }
        _ => syntax_error(),
    }
}

/// COMMAND HELP's own lines, as Redis 7.0.15 prints them (see `reply::help` for the rest).
const HELP: &[&str] = &[
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
];

/// `COMMAND GETKEYS command [arg ...]`, with Redis 7.0's errors in its order; with `flags`
/// (GETKEYSANDFLAGS) each key comes with its key spec's flags.
fn getkeys(command: &[Bytes], flags: bool) -> Frame {
    let Some(name) = command.first() else {
        return Frame::error("ERR Invalid command specified");
    };
    let Some(parent) = lookup(name) else {
        return Frame::error("ERR Invalid command specified");
    };
    let mut spec = &parent.spec;
    if let Some(sub) = command.get(1).filter(|_| !spec.subcommands.is_empty()) {
        match lookup_subcommand(spec, sub) {
            Some(found) => spec = found,
            None => return Frame::error("ERR Invalid command specified"),
        }
    }
    if spec.key_specs.is_empty() {
        return Frame::error("ERR The command has no key arguments");
    }
    if !spec.arity_accepts(command.len()) {
        return Frame::error("ERR Invalid number of arguments specified for command");
    }
    let args: Vec<&[u8]> = command.iter().map(|a| a.as_ref()).collect();
    let keys: Vec<Frame> = if flags {
        spec.keys_with_flags(&args)
            .into_iter()
            .filter_map(|(i, key_flags)| {
                let names = key_flags
                    .iter()
                    .map(|f| Frame::Simple(Bytes::from_static(f.name().as_bytes())))
                    .collect();
                command
                    .get(i)
                    .cloned()
                    .map(|key| Frame::Array(vec![Frame::Bulk(key), Frame::Array(names)]))
            })
            .collect()
    } else {
        spec.key_positions(&args)
            .into_iter()
            .filter_map(|i| command.get(i).cloned().map(Frame::Bulk))
            .collect()
    };
    if keys.is_empty() {
        // EVAL with no keys and its kind (`no_mandatory_keys`) have none to give.
        if spec.flags.contains(Flag::NoMandatoryKeys) {
            return Frame::Array(Vec::new());
        }
        return Frame::error("ERR Invalid arguments specified for command");
    }
    Frame::Array(keys)
}
