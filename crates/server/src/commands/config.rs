//! CONFIG GET, SET, RESETSTAT, REWRITE, HELP over the parameters of `settings`.

use bytes::Bytes;
use respect_resp::Frame;

use super::args::is_keyword;
use super::context::Ctx;
use super::registry::{Categories, Category, Command, Docs, Flag, Flags, KeyRange, Spec};
use super::reply::{ok, syntax_error, unknown_subcommand};

/// This family's commands.
pub const COMMANDS: &[Command] = &[Command {
    spec: Spec {
        name: "config",
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
            summary: "A container for server configuration commands",
            since: "2.0.0",
            group: "server",
            complexity: "Depends on subcommand.",
            deprecated: None,
            history: &[],
        },
        subcommands: &[
            Spec {
                name: "config|get",
                arity: -3,
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
                    summary: "Get the values of configuration parameters",
                    since: "2.0.0",
                    group: "server",
                    complexity: "O(N) when N is the number of configuration parameters provided",
                    deprecated: None,
                    history: &[(
                        "7.0.0",
                        "Added the ability to pass multiple pattern parameters in one call",
                    )],
                },
                subcommands: &[],
            },
            Spec {
                name: "config|set",
                arity: -4,
                flags: Flags::of(&[Flag::Admin, Flag::Noscript, Flag::Loading, Flag::Stale]),
                keys: KeyRange {
                    first: 0,
                    last: 0,
                    step: 0,
                },
                key_specs: &[],
                acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous]),
                tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
                docs: Docs {
                    summary: "Set configuration parameters to the given values",
                    since: "2.0.0",
                    group: "server",
                    complexity: "O(N) when N is the number of configuration parameters provided",
                    deprecated: None,
                    history: &[(
                        "7.0.0",
                        "Added the ability to set multiple parameters in one call.",
                    )],
                },
                subcommands: &[],
            },
            Spec {
                name: "config|resetstat",
                arity: 2,
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
                    summary: "Reset the stats returned by INFO",
                    since: "2.0.0",
                    group: "server",
                    complexity: "O(1)",
                    deprecated: None,
                    history: &[],
                },
                subcommands: &[],
            },
            Spec {
                name: "config|rewrite",
                arity: 2,
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
                    summary: "Rewrite the configuration file with the in memory configuration",
                    since: "2.8.0",
                    group: "server",
                    complexity: "O(1)",
                    deprecated: None,
                    history: &[],
                },
                subcommands: &[],
            },
            Spec {
                name: "config|help",
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
                    since: "5.0.0",
                    group: "server",
                    complexity: "O(1)",
                    deprecated: None,
                    history: &[],
                },
                subcommands: &[],
            },
        ],
    },
    run: config,
}];

/// CONFIG HELP's own lines, as Redis 7.0.15 prints them (see `reply::help` for the rest).
const HELP: &[&str] = &[
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
];

fn config(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    // The dispatcher has checked the subcommand and its arity against the registry.
    let sub = argv.get(1).map_or(&[][..], |s| s.as_ref());
    let rest = argv.get(2..).unwrap_or_default();
    if is_keyword(sub, "GET") {
        let settings = &ctx.server.settings;
        Frame::Map(
            settings
                .matching(rest)
                .into_iter()
                .map(|(name, value)| (Frame::Bulk(name), Frame::Bulk(value)))
                .collect(),
        )
    } else if is_keyword(sub, "SET") {
        if !rest.len().is_multiple_of(2) {
            // An odd count past the arity check (`SET a 1 b`) is a syntax error in 7.0.
            return syntax_error();
        }
        match ctx.server.settings.set(rest) {
            Ok(()) => {
                sync_notifications(ctx);
                // A lower limit evicts at once, as Redis's CONFIG SET maxmemory does.
                if set_value(rest, "maxmemory").is_some() {
                    crate::evict::perform_locked(ctx.server);
                }
                // A lower tracking-table-max-keys forgets keys now; their clients drop them.
                let max_keys = set_value(rest, "tracking-table-max-keys")
                    .and_then(|n| super::args::parse_i64(n))
                    .and_then(|n| usize::try_from(n).ok());
                if let Some(max_keys) = max_keys {
                    let hub = &ctx.state.hub;
                    for (key, ids) in hub.tracking.set_max_keys(max_keys) {
                        let keys = Frame::Array(vec![Frame::Bulk(key)]);
                        for id in ids {
                            crate::tracking::send_invalidation(hub, id, keys.clone());
                        }
                    }
                }
                // Redis's `updateRequirePass`: the default user's password follows.
                if let Some(password) = set_value(rest, "requirepass") {
                    ctx.server.acl.set_default_password(password);
                }
                ok()
            }
            Err(text) => Frame::Error(Bytes::from(format!("ERR {text}"))),
        }
    } else if is_keyword(sub, "RESETSTAT") {
        ctx.server.stats.reset();
        // keyspace_hits, keyspace_misses and expired_keys are counted per database shard.
        for db in ctx.server.dbs() {
            db.reset_stats();
        }
        ok()
    } else if is_keyword(sub, "REWRITE") {
        Frame::error("ERR The server is running without a config file")
    } else if is_keyword(sub, "HELP") {
        super::reply::help("config", HELP)
    } else {
        unknown_subcommand(sub, "config")
    }
}

/// Hands the `notify-keyspace-events` classes CONFIG SET left to the notifications that
/// deliver them (the settings validate and store the text; the hub publishes the events).
/// The value CONFIG SET's `name value` pairs gave `name` (any case), if they name it (the
/// settings refuse a parameter named twice).
fn set_value<'a>(pairs: &'a [Bytes], name: &str) -> Option<&'a Bytes> {
    pairs
        .chunks(2)
        .find(|pair| pair.first().is_some_and(|n| is_keyword(n, name)))
        .and_then(|pair| pair.get(1))
}

fn sync_notifications(ctx: &Ctx<'_>) {
    if let Some(classes) = ctx.server.settings.get("notify-keyspace-events") {
        // The settings accepted this text already, through the same `crate::notify` parser.
        let _ = ctx
            .state
            .hub
            .notifications
            .set_notify_keyspace_events(&classes);
    }
    ctx.server.sync_new_key_events();
}
