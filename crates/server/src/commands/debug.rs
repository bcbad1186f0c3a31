//! DEBUG, allowed only when the server was started with `enable_debug_command` (Redis's
//! `enable-debug-command`): PROTOCOL (one reply of each RESP3 type, for clients' tests),
//! SLEEP, SET-ACTIVE-EXPIRE, LOG, HELP.

use std::time::Duration;

use bytes::Bytes;
use respect_resp::Frame;

use super::args::{atoi, is_keyword, parse_f64};
use super::context::Ctx;
use super::registry::{Categories, Category, Command, Docs, Flag, Flags, KeyRange, Spec};
use super::reply::ok;

/// Longest DEBUG SLEEP honoured, so a typo cannot hang a worker thread for hours.
pub const MAX_DEBUG_SLEEP: Duration = Duration::from_secs(60);

/// This family's commands.
pub const COMMANDS: &[Command] = &[Command {
    spec: Spec {
        name: "debug",
        arity: -2,
        flags: Flags::of(&[Flag::Admin, Flag::Noscript, Flag::Loading, Flag::Stale]),
        keys: KeyRange {
            first: 0,
            last: 0,
            step: 0,
        },
        key_specs: &[],
        acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous]),
        tips: &[],
        docs: Docs {
            summary: "A container for debugging commands",
            since: "1.0.0",
            group: "server",
            complexity: "Depends on subcommand.",
            deprecated: None,
            history: &[],
        },
        subcommands: &[],
    },
    run: debug,
}];

/// Redis's refusal when DEBUG is not enabled (a rejection: it also fails a transaction).
pub const NOT_ALLOWED: &str = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

/// The type names DEBUG PROTOCOL knows, as Redis lists them in its error.
const PROTOCOL_TYPES: &str =
    "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false";

fn debug(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let sub = argv.get(1).map_or(&[][..], |s| s.as_ref());
    match argv.get(2..).unwrap_or_default() {
        [kind] if is_keyword(sub, "PROTOCOL") => protocol(ctx, kind),
        [key] if is_keyword(sub, "OBJECT") => object(ctx, key),
        [seconds] if is_keyword(sub, "SLEEP") => {
            // Redis reads the time with strtod: anything unreadable is 0.
            let secs = parse_f64(seconds).filter(|s| s.is_finite() && *s > 0.0);
            let wait = secs.map_or(Duration::ZERO, |s| {
                Duration::try_from_secs_f64(s).map_or(MAX_DEBUG_SLEEP, |d| d.min(MAX_DEBUG_SLEEP))
            });
            // Blocks this worker, as Redis blocks its one thread; the dispatcher holds the
            // gate exclusively for DEBUG, so no other command runs meanwhile either.
            std::thread::sleep(wait);
            ok()
        }
        [flag] if is_keyword(sub, "SET-DISABLE-DENY-SCRIPTS") => {
            // Lets scripts call `noscript` commands (Redis's test suite uses it to call
            // DEBUG PROTOCOL from a script).
            ctx.server
                .script_disable_deny
                .store(atoi(flag) != 0, std::sync::atomic::Ordering::Relaxed);
            ok()
        }
        [flag] if is_keyword(sub, "PAUSE-CRON") => {
            // Stops the periodic work (active expiry, save points, replica pings) until
            // PAUSE-CRON 0, as Redis pauses its serverCron; read with atoi as Redis reads it.
            ctx.server
                .cron_paused
                .store(atoi(flag) != 0, std::sync::atomic::Ordering::Relaxed);
            ok()
        }
        [flag] if is_keyword(sub, "SET-ACTIVE-EXPIRE") => {
            // Redis reads it with atoi: anything but a non-zero number is off.
            let on = atoi(flag) != 0;
            ctx.server
                .active_expire
                .store(on, std::sync::atomic::Ordering::Relaxed);
            ok()
        }
        [size] if is_keyword(sub, "QUICKLIST-PACKED-THRESHOLD") => {
            // Redis stores list elements at least this large in nodes of their own. Our lists
            // have no nodes, so no reply depends on it; the argument is checked as Redis checks
            // it (a memory value up to 4 GB - 1 MB; 0 restores the default).
            let limit = (1i64 << 32) - (1 << 20);
            match std::str::from_utf8(size)
                .ok()
                .and_then(super::settings::parse_memory)
            {
                Some(n) if (0..=limit).contains(&n) => ok(),
                _ => Frame::error(
                    "ERR argument must be a memory value bigger than 1 and smaller than 4gb",
                ),
            }
        }
        [] if is_keyword(sub, "DIGEST") => super::digest::dataset_digest(ctx.server),
        keys if is_keyword(sub, "DIGEST-VALUE") => super::digest::digest_value(ctx, keys),
        options if is_keyword(sub, "RELOAD") => reload(ctx, options),
        _ if is_keyword(sub, "LOADAOF") => reload(ctx, &[]),
        _ if is_keyword(sub, "LOG") => {
            tracing::info!(
                "DEBUG LOG {}",
                String::from_utf8_lossy(argv.get(2).map_or(&[][..], |a| a.as_ref()))
            );
            ok()
        }
        _ => super::reply::unknown_subcommand_or_arity(sub, "debug"),
    }
}

/// `DEBUG OBJECT key`: Redis's status line. The address is where our entry lies; `refcount`
/// and `encoding` are OBJECT's; `serializedlength` is what Redis's RDB writer would spend
/// (see `crate::rdb::write`); `lru` and `lru_seconds_idle` are the key's use stamp and idle
/// time (see `crate::access`). A list adds the
/// `ql_*` fields of a quicklist with Redis's defaults (8 KiB listpacks, no compression).
fn object(ctx: &mut Ctx<'_>, key: &Bytes) -> Frame {
    let shard = ctx.db.shard(key);
    let mark = shard.converted(key);
    let Some(entry) = shard.stored(key) else {
        return Frame::error("ERR no such key");
    };
    let value = &entry.value;
    let encoding = crate::encoding::encoding_name(value, mark);
    let refcount = super::object::refcount(value, mark, ctx.server);
    // A list's quicklist nodes, worked out once for `serializedlength` and the `ql_*` fields.
    let list = match value {
        crate::db::Value::List(list) => Some((list, crate::rdb::write::quicklist_nodes(list))),
        _ => None,
    };
    let serialized = match &list {
        Some((list, nodes)) => {
            let mut out = Vec::new();
            crate::rdb::write::list(&mut out, list, nodes);
            out.len()
        }
        None => crate::rdb::write::object_len(value, encoding),
    };
    let (lru, idle) = (
        entry.access,
        crate::access::idle_seconds(entry.access, ctx.now),
    );
    let mut line = format!(
        "Value at:{:p} refcount:{refcount} encoding:{encoding} serializedlength:{serialized} lru:{lru} lru_seconds_idle:{idle}",
        value as *const _
    );
    if let Some((list, nodes)) = list {
        let count = nodes.len().max(1);
        let avg = list.len() as f64 / count as f64;
        let size: usize = nodes.iter().map(|(_, s)| s).sum();
        line.push_str(&format!(
            " ql_nodes:{} ql_avg_node:{avg:.2} ql_listpack_max:-2 ql_compressed:0 ql_uncompressed_size:{size}",
            nodes.len()
        ));
    }
    Frame::Simple(Bytes::from(line))
}

/// `DEBUG RELOAD [options]` and `DEBUG LOADAOF`: Redis saves and loads its dataset again.
/// Without persistence the data stays as it is; what a reload changes is the encodings,
/// picked anew from each value's contents as Redis's loader picks them (a set of integers is
/// an intset again, a small sorted set a listpack). The dispatcher holds the gate exclusively
/// for DEBUG.
///
/// RELOAD's options are Redis's: NOFLUSH loads the file over what is in memory, which
/// without MERGE fails on a function library already loaded (`Error trying to load the RDB
/// dump`; Redis loads the libraries before any key, so nothing changes). The file is taken
/// to hold what memory holds (true after the save RELOAD does without NOSAVE; with NOSAVE,
/// Redis would read whatever file is on disk, which this model does not).
fn reload(ctx: &mut Ctx<'_>, options: &[Bytes]) -> Frame {
    let (mut merge, mut flush) = (false, true);
    for option in options {
        if is_keyword(option, "MERGE") {
            merge = true;
        } else if is_keyword(option, "NOFLUSH") {
            flush = false;
        } else if !is_keyword(option, "NOSAVE") {
            return Frame::error(
                "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
            );
        }
    }
    if !flush && !merge && !ctx.server.scripting.library_codes().is_empty() {
        return Frame::error("ERR Error trying to load the RDB dump");
    }
    for index in 0.. {
        let Some(db) = ctx.server.db(index) else {
            break;
        };
        db.for_each_shard(|shard| {
            shard.forget_conversions(|value| {
                if let crate::db::Value::ZSet(z) = value {
                    z.settle_encoding();
                }
            })
        });
    }
    ok()
}

/// `DEBUG PROTOCOL type`: Redis's sample reply of each type (RESP2 gets the codec's
/// downgrades, which are Redis's, except push, which Redis refuses in RESP2).
fn protocol(ctx: &mut Ctx<'_>, kind: &[u8]) -> Frame {
    let bulk = |s: &'static str| Frame::Bulk(Bytes::from_static(s.as_bytes()));
    let ints = || (0..3).map(Frame::Integer);
    let name = kind.to_ascii_lowercase();
    match name.as_slice() {
        b"string" => bulk("Hello World"),
        b"integer" => Frame::Integer(12345),
        // Redis's sample value, not an approximation of pi.
        #[allow(clippy::approx_constant)]
        b"double" => Frame::Double(3.141),
        b"bignum" => Frame::BigNumber(Bytes::from_static(b"1234567999999999999999999999999999999")),
        b"null" => Frame::Null,
        b"array" => Frame::Array(ints().collect()),
        b"set" => Frame::Set(ints().collect()),
        b"map" => Frame::Map(
            ints()
                .map(|i| (i.clone(), Frame::Boolean(i == Frame::Integer(1))))
                .collect(),
        ),
        b"attrib" => Frame::Attributed {
            attributes: vec![(
                bulk("key-popularity"),
                Frame::Array(vec![bulk("key:123"), Frame::Integer(90)]),
            )],
            streamed: false,
            frame: Box::new(bulk("Some real reply following the attribute")),
        },
        b"push" if !ctx.resp3() => Frame::error("ERR RESP2 is not supported by this command"),
        b"push" => {
            ctx.state.before_reply.push(Frame::Push(vec![
                bulk("server-cpu-usage"),
                Frame::Integer(42),
            ]));
            bulk("Some real reply following the push reply")
        }
        b"verbatim" => Frame::Verbatim {
            format: *b"txt",
            text: Bytes::from_static(b"This is a verbatim\nstring"),
        },
        b"true" => Frame::Boolean(true),
        b"false" => Frame::Boolean(false),
        _ => Frame::Error(Bytes::from(format!(
            "ERR Wrong protocol type name. Please use one of the following: {PROTOCOL_TYPES}"
        ))),
    }
}
