//! Pub/sub commands: SUBSCRIBE and UNSUBSCRIBE with their pattern (P) and shard (S) forms,
//! PUBLISH, SPUBLISH and PUBSUB. The channels live in [`crate::pubsub`]; this file turns
//! requests into calls there and writes Redis's confirmations.
//!
//! A (un)subscribe to N channels answers N frames: all but the last go to the client's own
//! outbox, which the connection writes before the command's reply, and the last is the
//! reply. In RESP3 they are push frames (`>`), in RESP2 arrays.

use bytes::Bytes;

use super::context::Ctx;
use super::registry::{
    BeginSearch, Categories, Category, Command, Docs, FindKeys, Flag, Flags, KeyFlag, KeyFlags,
    KeyRange, KeySpec, Spec,
};
use super::reply::unknown_subcommand;
use crate::pubsub::Kind;
use respect_resp::Frame;

/// This family's commands.
pub const COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "subscribe",
            arity: -2,
            flags: Flags::of(&[Flag::Pubsub, Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Pubsub, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Listen for messages published to the given channels",
                since: "2.0.0",
                group: "pubsub",
                complexity: "O(N) where N is the number of channels to subscribe to.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: subscribe,
    },
    Command {
        spec: Spec {
            name: "unsubscribe",
            arity: -1,
            flags: Flags::of(&[Flag::Pubsub, Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Pubsub, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Stop listening for messages posted to the given channels",
                since: "2.0.0",
                group: "pubsub",
                complexity: "O(N) where N is the number of clients already subscribed to a channel.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: unsubscribe,
    },
    Command {
        spec: Spec {
            name: "psubscribe",
            arity: -2,
            flags: Flags::of(&[Flag::Pubsub, Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Pubsub, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Listen for messages published to channels matching the given patterns",
                since: "2.0.0",
                group: "pubsub",
                complexity: "O(N) where N is the number of patterns the client is already subscribed to.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: psubscribe,
    },
    Command {
        spec: Spec {
            name: "punsubscribe",
            arity: -1,
            flags: Flags::of(&[Flag::Pubsub, Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Pubsub, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Stop listening for messages posted to channels matching the given patterns",
                since: "2.0.0",
                group: "pubsub",
                complexity: "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: punsubscribe,
    },
    Command {
        spec: Spec {
            name: "ssubscribe",
            arity: -2,
            flags: Flags::of(&[Flag::Pubsub, Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 1, last: -1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::NotKey]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: -1, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Pubsub, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Listen for messages published to the given shard channels",
                since: "7.0.0",
                group: "pubsub",
                complexity: "O(N) where N is the number of shard channels to subscribe to.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: ssubscribe,
    },
    Command {
        spec: Spec {
            name: "sunsubscribe",
            arity: -1,
            flags: Flags::of(&[Flag::Pubsub, Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 1, last: -1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::NotKey]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: -1, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Pubsub, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Stop listening for messages posted to the given shard channels",
                since: "7.0.0",
                group: "pubsub",
                complexity: "O(N) where N is the number of clients already subscribed to a shard channel.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: sunsubscribe,
    },
    Command {
        spec: Spec {
            name: "publish",
            arity: 3,
            flags: Flags::of(&[Flag::Pubsub, Flag::Loading, Flag::Stale, Flag::Fast]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Pubsub, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Post a message to a channel",
                since: "2.0.0",
                group: "pubsub",
                complexity: "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: publish,
    },
    Command {
        spec: Spec {
            name: "spublish",
            arity: 3,
            flags: Flags::of(&[Flag::Pubsub, Flag::Loading, Flag::Stale, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::NotKey]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Pubsub, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Post a message to a shard channel",
                since: "7.0.0",
                group: "pubsub",
                complexity: "O(N) where N is the number of clients subscribed to the receiving shard channel.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: spublish,
    },
    Command {
        spec: Spec {
            name: "pubsub",
            arity: -2,
            flags: Flags::of(&[]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "A container for Pub/Sub commands",
                since: "2.8.0",
                group: "pubsub",
                complexity: "Depends on subcommand.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[
Spec {
    name: "pubsub|help",
    arity: 2,
    flags: Flags::of(&[Flag::Loading, Flag::Stale]),
    keys: KeyRange { first: 0, last: 0, step: 0 },
    key_specs: &[],
    acl: Categories::of(&[Category::Slow]),
    tips: &[],
    docs: Docs {
        summary: "Show helpful text about the different subcommands",
        since: "6.2.0",
        group: "pubsub",
        complexity: "O(1)",
        deprecated: None,
        history: &[],
    },
    subcommands: &[],
},
        Spec {
            name: "pubsub|channels",
            arity: -2,
            flags: Flags::of(&[Flag::Pubsub, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Pubsub, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "List active channels",
                since: "2.8.0",
                group: "pubsub",
                complexity: "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        Spec {
            name: "pubsub|numsub",
            arity: -2,
            flags: Flags::of(&[Flag::Pubsub, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Pubsub, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Get the count of subscribers for channels",
                since: "2.8.0",
                group: "pubsub",
                complexity: "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        Spec {
            name: "pubsub|numpat",
            arity: 2,
            flags: Flags::of(&[Flag::Pubsub, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Pubsub, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Get the count of unique patterns pattern subscriptions",
                since: "2.8.0",
                group: "pubsub",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        Spec {
            name: "pubsub|shardchannels",
            arity: -2,
            flags: Flags::of(&[Flag::Pubsub, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Pubsub, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "List active shard channels",
                since: "7.0.0",
                group: "pubsub",
                complexity: "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        Spec {
            name: "pubsub|shardnumsub",
            arity: -2,
            flags: Flags::of(&[Flag::Pubsub, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Pubsub, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Get the count of subscribers for shard channels",
                since: "7.0.0",
                group: "pubsub",
                complexity: "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
    ],
        },
        run: pubsub,
    },
];

fn bulk(text: &'static str) -> Frame {
    Frame::Bulk(Bytes::from_static(text.as_bytes()))
}

fn count(n: usize) -> Frame {
    Frame::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

/// One (un)subscribe confirmation: `word`, the name (`Null` when there was none to leave),
/// the client's count after it.
fn confirmation(word: &'static str, name: Frame, n: usize) -> Frame {
    Frame::Push(vec![bulk(word), name, count(n)])
}

/// Sends every confirmation but the last to the client's own outbox, returns the last.
fn confirm(ctx: &mut Ctx<'_>, mut frames: Vec<Frame>) -> Frame {
    let last = frames.pop().unwrap_or(Frame::Null);
    for frame in frames {
        ctx.state.client.push(
            frame,
            crate::clients::OutputLimit {
                hard_bytes: 0,
                soft_bytes: 0,
                soft_seconds: 0,
            },
        );
    }
    last
}

fn subscribe_kind(ctx: &mut Ctx<'_>, argv: &[Bytes], kind: Kind, word: &'static str) -> Frame {
    let frames = argv
        .get(1..)
        .unwrap_or_default()
        .iter()
        .map(|name| {
            let n = ctx
                .state
                .hub
                .pubsub
                .subscribe(&ctx.state.client, kind, name);
            confirmation(word, Frame::Bulk(name.clone()), n)
        })
        .collect();
    confirm(ctx, frames)
}

fn unsubscribe_kind(ctx: &mut Ctx<'_>, argv: &[Bytes], kind: Kind, word: &'static str) -> Frame {
    let named = argv.get(1..).unwrap_or_default();
    let frames: Vec<Frame> = if named.is_empty() {
        // Everything of this kind, left in one pass; each confirmation carries the count as
        // it would stand after leaving the names one at a time.
        let (names, after) = ctx
            .state
            .hub
            .pubsub
            .unsubscribe_all(&ctx.state.client, kind);
        if names.is_empty() {
            return confirmation(word, Frame::Null, after);
        }
        let total = names.len();
        names
            .into_iter()
            .enumerate()
            .map(|(i, name)| confirmation(word, Frame::Bulk(name), after + (total - i - 1)))
            .collect()
    } else {
        named
            .iter()
            .map(|name| {
                let n = ctx
                    .state
                    .hub
                    .pubsub
                    .unsubscribe(&ctx.state.client, kind, name);
                confirmation(word, Frame::Bulk(name.clone()), n)
            })
            .collect()
    };
    confirm(ctx, frames)
}

fn subscribe(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    subscribe_kind(ctx, argv, Kind::Channel, "subscribe")
}

fn psubscribe(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    subscribe_kind(ctx, argv, Kind::Pattern, "psubscribe")
}

fn ssubscribe(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    subscribe_kind(ctx, argv, Kind::Shard, "ssubscribe")
}

fn unsubscribe(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    unsubscribe_kind(ctx, argv, Kind::Channel, "unsubscribe")
}

fn punsubscribe(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    unsubscribe_kind(ctx, argv, Kind::Pattern, "punsubscribe")
}

fn sunsubscribe(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    unsubscribe_kind(ctx, argv, Kind::Shard, "sunsubscribe")
}

fn publish_kind(ctx: &mut Ctx<'_>, argv: &[Bytes], kind: Kind) -> Frame {
    let (Some(channel), Some(message)) = (argv.get(1), argv.get(2)) else {
        return Frame::Integer(0);
    };
    let hub = &ctx.state.hub;
    count(hub.pubsub.publish(kind, channel, message, hub.pubsub_limit))
}

fn publish(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    publish_kind(ctx, argv, Kind::Channel)
}

fn spublish(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    publish_kind(ctx, argv, Kind::Shard)
}

/// PUBSUB HELP's own lines, as Redis 7.0.15 prints them (see `reply::help` for the rest).
const PUBSUB_HELP: &[&str] = &[
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
];

/// `PUBSUB CHANNELS|SHARDCHANNELS [pattern] | NUMSUB|SHARDNUMSUB [channel ...] | NUMPAT`.
fn pubsub(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let hub = &ctx.state.hub;
    let sub = argv
        .get(1)
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    let names = |v: Vec<Bytes>| Frame::Array(v.into_iter().map(Frame::Bulk).collect());
    let numsub = |kind| {
        Frame::Array(
            argv.get(2..)
                .unwrap_or_default()
                .iter()
                .flat_map(|c| [Frame::Bulk(c.clone()), count(hub.pubsub.numsub(kind, c))])
                .collect(),
        )
    };
    match sub.as_slice() {
        b"help" => super::reply::help("pubsub", PUBSUB_HELP),
        b"channels" => names(
            hub.pubsub
                .channels(Kind::Channel, argv.get(2).map(|p| &p[..])),
        ),
        b"shardchannels" => names(
            hub.pubsub
                .channels(Kind::Shard, argv.get(2).map(|p| &p[..])),
        ),
        b"numsub" => numsub(Kind::Channel),
        b"shardnumsub" => numsub(Kind::Shard),
        b"numpat" => count(hub.pubsub.numpat()),
        _ => unknown_subcommand(argv.get(1).map_or(&[][..], |s| &s[..]), "pubsub"),
    }
}

/// The commands a RESP2 client may run while subscribed.
const ALLOWED_WHILE_SUBSCRIBED: &[&str] = &[
    "subscribe",
    "ssubscribe",
    "unsubscribe",
    "sunsubscribe",
    "psubscribe",
    "punsubscribe",
    "ping",
    "quit",
    "reset",
];

/// Redis's refusal of any other command by a RESP2 client in subscribed mode (RESP3 clients
/// may run anything).
pub fn refuse_in_subscribed_mode(
    state: &super::context::SessionState,
    name: &str,
) -> Option<Frame> {
    if state.dialect != respect_resp::Dialect::Resp2
        || ALLOWED_WHILE_SUBSCRIBED.contains(&name)
        || !state.client.is_subscribed()
    {
        return None;
    }
    Some(Frame::Error(Bytes::from(format!(
        "ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    ))))
}

/// Whether PING must answer in subscribed mode's form (`*2 pong <msg>`, RESP2 only).
pub fn subscribed_ping(state: &super::context::SessionState) -> bool {
    state.dialect == respect_resp::Dialect::Resp2 && state.client.is_subscribed()
}
