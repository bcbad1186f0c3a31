//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! After MULTI the dispatcher queues every command (answering `+QUEUED`) instead of running
//! it; a command refused while queueing (unknown, wrong arity, not allowed in a transaction)
//! marks the transaction failed, and EXEC then discards it with EXECABORT. EXEC runs the
//! queue holding the server's gate exclusively (see `ServerState`), so no other client's
//! command interleaves with it; it fails with a null array when a WATCHed key changed.

use bytes::Bytes;
use respect_resp::Frame;

use super::context::Ctx;
use super::dispatch;
use super::registry::{
    BeginSearch, Categories, Category, Command, Docs, FindKeys, Flag, Flags, KeyFlag, KeyFlags,
    KeyRange, KeySpec, Spec,
};
use super::reply::ok;

/// A transaction being queued: the commands (each its arguments) and whether one was
/// refused. The queue grows only with commands the client has sent (bounded by what it
/// sent, as in Redis, whose `multi` state has no limit of its own either).
#[derive(Debug, Clone, Default)]
pub struct Multi {
    /// The queued commands, in order.
    pub queued: Vec<Vec<Bytes>>,
    /// Set when a command was refused while queueing: EXEC will answer EXECABORT.
    pub failed: bool,
}

/// This family's commands.
pub const COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "multi",
            arity: 1,
            flags: Flags::of(&[
                Flag::Noscript,
                Flag::Loading,
                Flag::Stale,
                Flag::Fast,
                Flag::AllowBusy,
            ]),
            keys: KeyRange {
                first: 0,
                last: 0,
                step: 0,
            },
            key_specs: &[],
            acl: Categories::of(&[Category::Fast, Category::Transaction]),
            tips: &[],
            docs: Docs {
                summary: "Mark the start of a transaction block",
                since: "1.2.0",
                group: "transactions",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: multi,
    },
    Command {
        spec: Spec {
            name: "exec",
            arity: 1,
            flags: Flags::of(&[
                Flag::Noscript,
                Flag::Loading,
                Flag::Stale,
                Flag::SkipSlowlog,
            ]),
            keys: KeyRange {
                first: 0,
                last: 0,
                step: 0,
            },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow, Category::Transaction]),
            tips: &[],
            docs: Docs {
                summary: "Execute all commands issued after MULTI",
                since: "1.2.0",
                group: "transactions",
                complexity: "Depends on commands in the transaction",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: exec,
    },
    Command {
        spec: Spec {
            name: "discard",
            arity: 1,
            flags: Flags::of(&[
                Flag::Noscript,
                Flag::Loading,
                Flag::Stale,
                Flag::Fast,
                Flag::AllowBusy,
            ]),
            keys: KeyRange {
                first: 0,
                last: 0,
                step: 0,
            },
            key_specs: &[],
            acl: Categories::of(&[Category::Fast, Category::Transaction]),
            tips: &[],
            docs: Docs {
                summary: "Discard all commands issued after MULTI",
                since: "2.0.0",
                group: "transactions",
                complexity: "O(N), when N is the number of queued commands",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: discard,
    },
    Command {
        spec: Spec {
            name: "watch",
            arity: -2,
            flags: Flags::of(&[
                Flag::Noscript,
                Flag::Loading,
                Flag::Stale,
                Flag::Fast,
                Flag::AllowBusy,
            ]),
            keys: KeyRange {
                first: 1,
                last: -1,
                step: 1,
            },
            key_specs: &[KeySpec {
                notes: None,
                flags: KeyFlags::of(&[KeyFlag::Ro]),
                begin: BeginSearch::Index(1),
                find: FindKeys::Range {
                    last_key: -1,
                    key_step: 1,
                    limit: 0,
                },
            }],
            acl: Categories::of(&[Category::Fast, Category::Transaction]),
            tips: &[],
            docs: Docs {
                summary: "Watch the given keys to determine execution of the MULTI/EXEC block",
                since: "2.2.0",
                group: "transactions",
                complexity: "O(1) for every key.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: watch,
    },
    Command {
        spec: Spec {
            name: "unwatch",
            arity: 1,
            flags: Flags::of(&[
                Flag::Noscript,
                Flag::Loading,
                Flag::Stale,
                Flag::Fast,
                Flag::AllowBusy,
            ]),
            keys: KeyRange {
                first: 0,
                last: 0,
                step: 0,
            },
            key_specs: &[],
            acl: Categories::of(&[Category::Fast, Category::Transaction]),
            tips: &[],
            docs: Docs {
                summary: "Forget about all watched keys",
                since: "2.2.0",
                group: "transactions",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: unwatch,
    },
];

fn multi(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Frame {
    if ctx.state.multi.is_some() {
        return Frame::error("ERR MULTI calls can not be nested");
    }
    ctx.state.multi = Some(Multi::default());
    ok()
}

fn discard(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Frame {
    if ctx.state.multi.take().is_none() {
        return Frame::error("ERR DISCARD without MULTI");
    }
    ctx.state.watch.unwatch();
    ok()
}

/// EXEC: the dispatcher holds the server's gate exclusively while this runs.
fn exec(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Frame {
    let Some(transaction) = ctx.state.multi.take() else {
        return Frame::error("ERR EXEC without MULTI");
    };
    if transaction.failed {
        ctx.state.watch.unwatch();
        return Frame::error("EXECABORT Transaction discarded because of previous errors.");
    }
    if ctx.state.watch.broken(ctx.now) {
        ctx.state.watch.unwatch();
        return ctx.null_array();
    }
    // Redis unwatches before running the queue: the transaction's own writes do not
    // count against it.
    ctx.state.watch.unwatch();
    let replies = transaction
        .queued
        .iter()
        .map(|argv| dispatch::run_queued(ctx.server, ctx.state, argv))
        .collect();
    Frame::Array(replies)
}

fn watch(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    if ctx.state.multi.is_some() {
        return Frame::error("ERR WATCH inside MULTI is not allowed");
    }
    let db = ctx.state.db_index;
    for key in argv.get(1..).unwrap_or_default() {
        ctx.state.watch.watch(ctx.server, db, key, ctx.now);
    }
    ok()
}

fn unwatch(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Frame {
    ctx.state.watch.unwatch();
    ok()
}
