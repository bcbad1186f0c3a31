//! SYNC, PSYNC and REPLCONF: the commands a replica sends to attach to the replication
//! stream (see [`crate::replication`]); REPLICAOF (and its old name SLAVEOF), which gives
//! this server the replica role. A connection that sends SYNC gets a snapshot of the
//! dataset as an RDB file in a bulk (`$<len>\r\n` and the file, without a closing CRLF, as
//! Redis sends it), then every change as a command; PSYNC answers `+FULLRESYNC <replid>
//! <offset>` first, as to a replica that cannot continue an earlier stream. The snapshot is
//! built in memory (Redis writes it to disk first for a replica that does not announce
//! diskless support: the bytes on the wire are the same).

use std::sync::Arc;

use bytes::Bytes;
use respect_resp::Frame;

use super::context::Ctx;
use super::registry::{
    Categories, Category, Command, Deprecation, Docs, Flag, Flags, KeyRange, Spec,
};
use super::reply::ok;
use crate::replication::ReplicaStart;

/// This family's commands.
pub const COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "sync",
            arity: 1,
            flags: Flags::of(&[
                Flag::Admin,
                Flag::Noscript,
                Flag::NoAsyncLoading,
                Flag::NoMulti,
            ]),
            keys: KeyRange {
                first: 0,
                last: 0,
                step: 0,
            },
            key_specs: &[],
            acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous]),
            tips: &[],
            docs: Docs {
                summary: "Internal command used for replication",
                since: "1.0.0",
                group: "server",
                complexity: "",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: sync,
    },
    Command {
        spec: Spec {
            name: "psync",
            arity: -3,
            flags: Flags::of(&[
                Flag::Admin,
                Flag::Noscript,
                Flag::NoAsyncLoading,
                Flag::NoMulti,
            ]),
            keys: KeyRange {
                first: 0,
                last: 0,
                step: 0,
            },
            key_specs: &[],
            acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous]),
            tips: &[],
            docs: Docs {
                summary: "Internal command used for replication",
                since: "2.8.0",
                group: "server",
                complexity: "",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: psync,
    },
    Command {
        spec: Spec {
            name: "replconf",
            arity: -1,
            flags: Flags::of(&[
                Flag::Admin,
                Flag::Noscript,
                Flag::Loading,
                Flag::Stale,
                Flag::AllowBusy,
            ]),
            keys: KeyRange {
                first: 0,
                last: 0,
                step: 0,
            },
            key_specs: &[],
            acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous]),
            tips: &[],
            docs: Docs {
                summary: "An internal command for configuring the replication stream",
                since: "3.0.0",
                group: "server",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: replconf,
    },
    Command {
        spec: replicaof_spec("replicaof", "5.0.0", None),
        run: replicaof,
    },
    Command {
        spec: replicaof_spec(
            "slaveof",
            "1.0.0",
            Some(Deprecation {
                since: "5.0.0",
                replaced_by: "`REPLICAOF`",
            }),
        ),
        run: replicaof,
    },
];

const fn replicaof_spec(
    name: &'static str,
    since: &'static str,
    deprecated: Option<Deprecation>,
) -> Spec {
    Spec {
        name,
        arity: 3,
        flags: Flags::of(&[
            Flag::Admin,
            Flag::Noscript,
            Flag::Stale,
            Flag::NoAsyncLoading,
        ]),
        keys: KeyRange {
            first: 0,
            last: 0,
            step: 0,
        },
        key_specs: &[],
        acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous]),
        tips: &[],
        docs: Docs {
            summary: "Make the server a replica of another instance, or promote it as master.",
            since,
            group: "server",
            complexity: "O(1)",
            deprecated,
            history: &[],
        },
        subcommands: &[],
    }
}

/// `REPLICAOF host port` | `REPLICAOF NO ONE`, with Redis's replies. The replica role is
/// what clients observe of it: writes refused with READONLY (`replica-read-only`), nothing
/// propagated, INFO's `role:slave` with the master's address and its link down. This server
/// does not replicate, so the link stays down: it never connects to the master.
fn replicaof(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (Some(host), Some(port)) = (argv.get(1), argv.get(2)) else {
        return super::reply::wrong_args("replicaof");
    };
    let replication = &ctx.server.replication;
    if super::args::is_keyword(host, "NO") && super::args::is_keyword(port, "ONE") {
        replication.set_master(None);
        return ok();
    }
    if ctx.state.replica_start.is_some() {
        return Frame::error("ERR Command is not valid when client is a replica.");
    }
    let port = match super::args::parse_i64(port).and_then(|p| u16::try_from(p).ok()) {
        Some(port) => port,
        None => return Frame::error("ERR Invalid master port"),
    };
    let host = String::from_utf8_lossy(host).into_owned();
    if replication.set_master(Some((host, port))) {
        return Frame::simple("OK Already connected to specified master");
    }
    ok()
}

/// SYNC: the dispatcher holds the gate exclusively, so the snapshot and the attachment are
/// one instant: every later change reaches the replica as a command, none twice.
fn sync(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Frame {
    attach(ctx, None)
}

/// PSYNC replid offset: always a full resynchronisation (there is no backlog to continue
/// from), announced as Redis announces one.
fn psync(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Frame {
    let line = format!(
        "+FULLRESYNC {} {}\r\n",
        super::info::run_id(),
        ctx.server.replication.offset()
    );
    attach(ctx, Some(line))
}

/// Takes the snapshot, attaches the connection, and leaves the bytes to send first for the
/// connection (which then serves only the stream). The reply frame is never written.
fn attach(ctx: &mut Ctx<'_>, preamble: Option<String>) -> Frame {
    if ctx.state.replica_start.is_some() {
        return Frame::Null;
    }
    let databases = crate::persistence::snapshot(ctx.server);
    ctx.server.replication.attach(ctx.state.client.clone());
    ctx.state.replica_start = Some(Arc::new(ReplicaStart {
        preamble: preamble.unwrap_or_default(),
        databases,
        functions: ctx.server.scripting.library_codes(),
        now_ms: ctx.now,
    }));
    Frame::Null
}

/// REPLCONF: the options a replica announces (listening-port, capa, ip-address...) are
/// accepted. (What a replica sends once it reads the stream, REPLCONF ACK among it, is
/// read and dropped by its connection: ACK concerns offsets this stream does not keep.)
fn replconf(_: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    if argv.len().is_multiple_of(2) {
        return super::reply::syntax_error();
    }
    ok()
}
