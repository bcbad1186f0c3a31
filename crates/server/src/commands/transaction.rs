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
    /// Whether a queued command may grow memory (`denyoom`): EXEC is then refused when the
    /// server is over `maxmemory`.
    pub denyoom: bool,
    /// Whether a queued command writes: EXEC is then refused on a read-only replica.
    pub writes: bool,
    /// Whether a queued command lacks the `stale` flag: EXEC is then refused on a replica
    /// that serves no stale data.
    pub not_stale: bool,
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
    ctx.state.in_exec = true;
    let replies = transaction
        .queued
        .iter()
        .map(|argv| dispatch::run_queued(ctx.server, ctx.state, argv))
        .collect();
    ctx.state.in_exec = false;
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

#[cfg(test)]
mod tests {
    //! Transactions under real concurrency: sessions of one server on several threads.

    use std::sync::Arc;

    use bytes::Bytes;
    use respect_resp::Frame;

    use crate::state::ServerState;
    use crate::{Flavor, Session, Stats};

    fn server() -> Arc<ServerState> {
        Arc::new(ServerState::new(16, Arc::new(Stats::default())))
    }

    fn run(session: &mut Session, line: &str) -> Frame {
        let argv: Vec<Bytes> = line
            .split(' ')
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect();
        session.execute_args(&argv)
    }

    fn integer(frame: &Frame) -> i64 {
        match frame {
            Frame::Integer(n) => *n,
            Frame::Bulk(b) => std::str::from_utf8(b)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(i64::MIN),
            other => panic!("not a number: {other:?}"),
        }
    }

    /// While other threads INCR the same key as fast as they can, no INCR lands between two
    /// commands of one EXEC: inside each transaction the counter moves by exactly its own
    /// increments.
    #[test]
    fn no_command_interleaves_with_exec() {
        const ROUNDS: usize = 300;
        let server = server();
        std::thread::scope(|scope| {
            for _ in 0..3 {
                let mut other = Session::attach(Arc::clone(&server), Flavor::Redis, None);
                scope.spawn(move || {
                    for _ in 0..ROUNDS * 10 {
                        run(&mut other, "INCR counter");
                    }
                });
            }
            let mut session = Session::attach(Arc::clone(&server), Flavor::Redis, None);
            for _ in 0..ROUNDS {
                run(&mut session, "MULTI");
                for _ in 0..4 {
                    assert_eq!(run(&mut session, "INCR counter"), Frame::simple("QUEUED"));
                }
                let Frame::Array(replies) = run(&mut session, "EXEC") else {
                    panic!("EXEC did not answer an array");
                };
                let values: Vec<i64> = replies.iter().map(integer).collect();
                let first = values.first().copied().unwrap_or_default();
                assert_eq!(values, (first..first + 4).collect::<Vec<_>>());
            }
        });
    }

    /// Optimistic locking as clients do it (WATCH, read, MULTI, write, EXEC, retry on a null
    /// EXEC) loses no update when several threads race on one counter: every modification by
    /// another session between WATCH and EXEC must abort the EXEC.
    #[test]
    fn watch_makes_check_and_set_lose_no_update() {
        const THREADS: usize = 4;
        const UPDATES: i64 = 200;
        let server = server();
        std::thread::scope(|scope| {
            for _ in 0..THREADS {
                let mut session = Session::attach(Arc::clone(&server), Flavor::Redis, None);
                scope.spawn(move || {
                    let mut done = 0;
                    while done < UPDATES {
                        run(&mut session, "WATCH cas");
                        let current = match run(&mut session, "GET cas") {
                            Frame::NullBulk | Frame::Null => 0,
                            other => integer(&other),
                        };
                        run(&mut session, "MULTI");
                        run(&mut session, &format!("SET cas {}", current + 1));
                        if matches!(run(&mut session, "EXEC"), Frame::Array(_)) {
                            done += 1;
                        }
                    }
                });
            }
        });
        let mut session = Session::attach(server, Flavor::Redis, None);
        assert_eq!(
            integer(&run(&mut session, "GET cas")),
            THREADS as i64 * UPDATES
        );
    }

    /// A write that changed nothing (SET NX on an existing key) leaves a WATCH intact; a
    /// real write, a FLUSHDB and a SWAPDB break it.
    #[test]
    fn watch_follows_redis_rules_for_what_counts_as_modified() {
        let server = server();
        let mut watcher = Session::attach(Arc::clone(&server), Flavor::Redis, None);
        let mut other = Session::attach(Arc::clone(&server), Flavor::Redis, None);
        let exec_after = |watcher: &mut Session, other: &mut Session, write: &str| {
            run(watcher, "SET k v");
            run(watcher, "WATCH k");
            run(other, write);
            run(watcher, "MULTI");
            run(watcher, "PING");
            run(watcher, "EXEC")
        };
        let ran = Frame::Array(vec![Frame::simple("PONG")]);
        assert_eq!(exec_after(&mut watcher, &mut other, "SET k x NX"), ran);
        assert_eq!(exec_after(&mut watcher, &mut other, "DEL missing"), ran);
        assert_eq!(
            exec_after(&mut watcher, &mut other, "SET k v"),
            Frame::NullArray
        );
        assert_eq!(
            exec_after(&mut watcher, &mut other, "FLUSHDB"),
            Frame::NullArray
        );
        assert_eq!(
            exec_after(&mut watcher, &mut other, "SWAPDB 0 1"),
            Frame::NullArray
        );
        assert_eq!(exec_after(&mut watcher, &mut other, "SET other 1"), ran);
    }
}
