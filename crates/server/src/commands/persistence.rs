//! SAVE, BGSAVE, LASTSAVE and SHUTDOWN (see [`crate::persistence`]): the keyspace to an RDB
//! file that redis-server loads. Both saves hold the server's gate exclusively while they copy the
//! keyspace, so the file is one instant's data; BGSAVE then encodes and writes on a thread
//! of its own while clients go on.

use bytes::Bytes;

use super::args::is_keyword;
use super::context::Ctx;
use super::registry::{Categories, Category, Command, Docs, Flag, Flags, KeyRange, Spec};
use super::reply::{ok, syntax_error};
use respect_resp::Frame;

/// This family's commands.
#[rustfmt::skip]
pub const COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "save",
            arity: 1,
            flags: Flags::of(&[Flag::Admin, Flag::Noscript, Flag::NoAsyncLoading, Flag::NoMulti]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous]),
            tips: &[],
            docs: Docs {
                summary: "Synchronously save the dataset to disk",
                since: "1.0.0",
                group: "server",
                complexity: "O(N) where N is the total number of keys in all databases",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: save,
    },
    Command {
        spec: Spec {
            name: "bgsave",
            arity: -1,
            flags: Flags::of(&[Flag::Admin, Flag::Noscript, Flag::NoAsyncLoading]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous]),
            tips: &[],
            docs: Docs {
                summary: "Asynchronously save the dataset to disk",
                since: "1.0.0",
                group: "server",
                complexity: "O(1)",
                deprecated: None,
                history: &[("3.2.2", "Added the `SCHEDULE` option.")],
            },
            subcommands: &[],
        },
        run: bgsave,
    },
    Command {
        spec: Spec {
            name: "lastsave",
            arity: 1,
            flags: Flags::of(&[Flag::Loading, Flag::Stale, Flag::Fast]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Admin, Category::Fast, Category::Dangerous]),
            tips: &["nondeterministic_output"],
            docs: Docs {
                summary: "Get the UNIX time stamp of the last successful save to disk",
                since: "1.0.0",
                group: "server",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: lastsave,
    },
    Command {
        spec: Spec {
            name: "shutdown",
            arity: -1,
            flags: Flags::of(&[Flag::Admin, Flag::Noscript, Flag::Loading, Flag::Stale, Flag::NoMulti, Flag::AllowBusy]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous]),
            tips: &[],
            docs: Docs {
                summary: "Synchronously save the dataset to disk and then shut down the server",
                since: "1.0.0",
                group: "server",
                complexity: "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
                deprecated: None,
                history: &[("7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers.")],
            },
            subcommands: &[],
        },
        run: shutdown,
    },
];

/// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]`, as Redis 7.0 parses it. It saves first
/// when told to (SAVE) or when save points are configured (unless NOSAVE); a failed save
/// stops the shutdown (`-ERR Errors trying to SHUTDOWN. Check logs.`) unless FORCE. Then the
/// server stops and, as in Redis, the client gets no reply: its connection closes. There
/// are no replicas to wait for, so NOW changes nothing and no shutdown is ever in progress
/// for ABORT to stop.
fn shutdown(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (mut nosave, mut save, mut force, mut abort, mut other) =
        (false, false, false, false, false);
    for arg in argv.get(1..).unwrap_or_default() {
        if is_keyword(arg, "NOSAVE") {
            nosave = true;
        } else if is_keyword(arg, "SAVE") {
            save = true;
        } else if is_keyword(arg, "NOW") {
            other = true;
        } else if is_keyword(arg, "FORCE") {
            force = true;
            other = true;
        } else if is_keyword(arg, "ABORT") {
            abort = true;
        } else {
            return syntax_error();
        }
    }
    if (abort && (nosave || save || other)) || (nosave && save) {
        return syntax_error();
    }
    if abort {
        return Frame::error("ERR No shutdown in progress.");
    }
    // A script past busy-reply-threshold: only SHUTDOWN NOSAVE stops the server (saving
    // would write a dataset the script is halfway through changing).
    if !nosave {
        if let Some(busy) = super::scripting::busy_error(ctx.server) {
            return busy;
        }
    }
    let save_points = ctx
        .server
        .settings
        .get("save")
        .is_some_and(|points| !points.is_empty());
    let persistent = ctx.server.persistence.path().is_some();
    if save || (!nosave && save_points && persistent) {
        if let Err(error) = crate::persistence::save(ctx.server) {
            tracing::warn!("SHUTDOWN: {error}");
            if !force {
                return Frame::error("ERR Errors trying to SHUTDOWN. Check logs.");
            }
        }
    }
    tracing::info!("SHUTDOWN: the server stops");
    // A running script is stopped (even one that wrote, as Redis's SHUTDOWN NOSAVE kills a
    // timed-out script): its connection would otherwise keep the process alive, looping.
    ctx.server
        .scripting
        .status
        .kill
        .store(true, std::sync::atomic::Ordering::Release);
    ctx.server.stop.send_replace(true);
    // No reply: this connection closes, as Redis's does when it exits.
    ctx.state.close_without_reply = true;
    Frame::Null
}

/// `SAVE`: refused while a BGSAVE runs, as Redis refuses it.
fn save(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Frame {
    if ctx.server.persistence.bgsave_running() {
        return Frame::error("ERR Background save already in progress");
    }
    match crate::persistence::save(ctx.server) {
        Ok(()) => ok(),
        Err(error) => Frame::Error(Bytes::from(error)),
    }
}

/// `BGSAVE [SCHEDULE]`.
fn bgsave(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    match argv.get(1..).unwrap_or_default() {
        [] => {}
        [schedule] if is_keyword(schedule, "SCHEDULE") => {}
        _ => return syntax_error(),
    }
    match crate::persistence::bgsave(ctx.server) {
        Ok(()) => Frame::Simple(Bytes::from_static(b"Background saving started")),
        Err(error) => Frame::Error(Bytes::from(error)),
    }
}

/// `LASTSAVE`: Unix seconds of the last successful save, the start time before any.
fn lastsave(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Frame {
    Frame::Integer(i64::try_from(ctx.server.persistence.last_save()).unwrap_or(i64::MAX))
}
