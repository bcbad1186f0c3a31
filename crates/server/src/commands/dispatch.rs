//! The Redis flavor's dispatcher: the registry's tables gathered into one index, and the
//! checks every command passes before it runs, in redis-server 7.0's order (its
//! `processCommand`): known command, known subcommand, arity, then authentication.

use std::sync::OnceLock;

use bytes::Bytes;
use respect_resp::Frame;

use super::context::{Ctx, SessionState};
use super::registry::{find, index, Command, Flag, NameIndex, Spec};
use super::reply::{no_auth, unknown_command, unknown_subcommand, wrong_args};
use super::{blocking, pubsub};
use super::{cluster, connection, hashes, keys, lists, server, sets, strings, zsets};
use crate::db::Db;

/// Every family's table, in the order `COMMAND` lists them.
const FAMILIES: &[&[Command]] = &[
    connection::COMMANDS,
    server::COMMANDS,
    keys::COMMANDS,
    strings::COMMANDS,
    hashes::COMMANDS,
    lists::COMMANDS,
    sets::COMMANDS,
    zsets::COMMANDS,
    zsets::BLOCKING_COMMANDS,
    cluster::COMMANDS,
    pubsub::COMMANDS,
    blocking::COMMANDS,
];

/// Every command of the Redis flavor.
pub fn redis_commands() -> impl Iterator<Item = &'static Command> {
    FAMILIES.iter().flat_map(|family| family.iter())
}

/// Looks a command up by name, any case, without allocating.
pub fn lookup(name: &[u8]) -> Option<&'static Command> {
    static INDEX: OnceLock<NameIndex<Command>> = OnceLock::new();
    find(
        INDEX.get_or_init(|| index(redis_commands().map(|c| (c.spec.name, c)))),
        name,
    )
}

/// The spec of `name`'s subcommand `sub` (`client|id`), any case.
pub fn lookup_subcommand(parent: &'static Spec, sub: &[u8]) -> Option<&'static Spec> {
    let parent_len = parent.name.len() + 1;
    parent.subcommands.iter().find(|s| {
        s.name
            .get(parent_len..)
            .is_some_and(|n| n.as_bytes().eq_ignore_ascii_case(sub))
    })
}

/// Runs one Redis-flavor command: lookup, subcommand, arity, authentication, then the code.
///
/// A subcommand the registry does not hold goes to the handler (after authentication), which
/// answers `unknown subcommand`; redis-server answers that before authentication when the
/// subcommand does not exist at all, and NOAUTH for one it has but we do not implement. Ours
/// follows the second rule for both.
pub fn execute(db: &Db, state: &mut SessionState, argv: &[Bytes]) -> Frame {
    let Some(name) = argv.first() else {
        return Frame::error("ERR empty command");
    };
    let Some(command) = lookup(name) else {
        return unknown_command(name, argv.get(1..).unwrap_or_default());
    };
    let mut spec = &command.spec;
    if let Some(sub) = argv.get(1).filter(|_| !spec.subcommands.is_empty()) {
        match lookup_subcommand(spec, sub) {
            Some(found) => spec = found,
            None if state.authenticated => {
                return unknown_subcommand(sub, command.spec.name);
            }
            None => {}
        }
    }
    if !spec.arity_accepts(argv.len()) {
        return wrong_args(spec.name);
    }
    if !state.authenticated && !spec.flags.contains(Flag::NoAuth) {
        return no_auth();
    }
    // --- connections that talk to each other: CLIENT LIST's cmd=, RESP2 subscribed mode ---
    state.client.record_command(spec.name);
    // A wait asked for by an earlier command that nobody took (the in-process session).
    state.block = None;
    if let Some(refused) = pubsub::refuse_in_subscribed_mode(state, spec.name) {
        return refused;
    }
    let now = state.now();
    let mut ctx = Ctx { db, state, now };
    let reply = (command.run)(&mut ctx, argv);
    if let Some(wait) = ctx.state.block.as_mut() {
        wait.argv = argv.to_vec();
    }
    // --- CLIENT TRACKING ---
    if ctx.state.hub.tracking.active() {
        track(ctx.state, spec, argv, &reply);
    }
    if matches!(spec.name, "client|setname" | "hello" | "reset") {
        ctx.state
            .client
            .sync_identity(ctx.state.name.clone(), ctx.state.dialect);
    }
    // Clients blocked on keys this command made ready are served now, before its reply.
    if !ctx.state.retrying && ctx.state.hub.blocking.has_ready() {
        serve_blocked(db, &ctx.state.hub);
    }
    ctx.state.stats.count_command(reply.is_error());
    reply
}

/// Runs the commands of the clients blocked on ready keys on their behalf, Redis's
/// `handleClientsBlockedOnKeys` (see [`crate::blocking`]).
pub fn serve_blocked(db: &Db, hub: &crate::clients::Hub) {
    hub.blocking.serve_ready(hub, |state, argv| {
        state.retrying = true;
        let reply = execute(db, state, argv);
        state.retrying = false;
        match state.block.take() {
            Some(_) => None,
            None => Some(reply),
        }
    });
}

/// Client-side caching after a command: the keys a write command names are invalidated, the
/// keys a read-only command names are remembered for the caller.
fn track(state: &SessionState, spec: &Spec, argv: &[Bytes], reply: &Frame) {
    let hub = &state.hub;
    let me = state.client.id;
    let args: Vec<&[u8]> = argv.iter().map(|a| &a[..]).collect();
    let keys = || {
        spec.key_positions(&args)
            .into_iter()
            .filter_map(|i| argv.get(i))
    };
    if spec.flags.contains(Flag::Write) && !reply.is_error() {
        if matches!(spec.name, "flushdb" | "flushall") {
            for (_, keys) in crate::tracking::invalidate_all(hub, me) {
                state.client.defer(keys);
            }
        }
        for key in keys() {
            // HOOK: modified key. Every write command's keys pass here; the key-modified
            // signal of WATCH (wt-core's `signal_modified`) is the same event.
            for (_, keys) in crate::tracking::invalidate_key(hub, 0, key, me) {
                state.client.defer(keys);
            }
        }
    } else if spec.flags.contains(Flag::Readonly) {
        let read: Vec<&Bytes> = keys().collect();
        hub.tracking.remember(me, &read);
    }
    if !spec.name.starts_with("client|") {
        hub.tracking.command_done(me);
    }
}
