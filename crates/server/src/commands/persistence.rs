//! SAVE, BGSAVE and LASTSAVE (see [`crate::persistence`]): the keyspace to an RDB file that
//! redis-server loads. Both saves hold the server's gate exclusively while they copy the
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
];

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
