//! The Redis flavor's dispatcher: the registry's tables gathered into one index, and the
//! checks every command passes before it runs, in redis-server 7.0's order (its
//! `processCommand`): known command, known subcommand, arity, then authentication.

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use respect_resp::Frame;

use super::context::{Ctx, SessionState};
use super::registry::{find, index, Command, Flag, Flags, NameIndex, Spec};
use super::reply::{no_auth, unknown_command, unknown_subcommand, wrong_args};
use super::{
    blocking, cluster, config, connection, databases, debug, hashes, keys, lists, modified,
    propagate, pubsub, scripting, server, sets, strings, transaction, zsets,
};
// wt-keyspace: RENAME, COPY, OBJECT... and the encoding conversions writes cause.
use super::{conversions, keyspace, object};
use crate::state::ServerState;

/// Every family's table, in the order `COMMAND` lists them.
const FAMILIES: &[&[Command]] = &[
    connection::COMMANDS,
    server::COMMANDS,
    config::COMMANDS,
    debug::COMMANDS,
    keys::COMMANDS,
    databases::COMMANDS,
    strings::COMMANDS,
    super::string_ranges::COMMANDS,
    super::bits::COMMANDS,
    hashes::COMMANDS,
    super::hash_fields::COMMANDS,
    lists::COMMANDS,
    sets::COMMANDS,
    transaction::COMMANDS,
    scripting::COMMANDS,
    zsets::COMMANDS,
    zsets::BLOCKING_COMMANDS,
    cluster::COMMANDS,
    pubsub::COMMANDS,
    blocking::COMMANDS,
    keyspace::COMMANDS,
    object::COMMANDS,
    super::sort::COMMANDS,
    super::geo::COMMANDS,
    super::memory::COMMANDS,
    super::dump::COMMANDS,
    super::persistence::COMMANDS,
    super::hyperloglog::COMMANDS,
    super::replication::COMMANDS,
    super::slowlog::COMMANDS,
    super::streams::COMMANDS,
    super::acl::COMMANDS,
    super::migrate::COMMANDS,
    super::monitor::COMMANDS,
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

/// Runs one Redis-flavor command: lookup, subcommand, arity, authentication, then the
/// transaction rules (queue after MULTI; `no-multi` commands refused there), then the code
/// under the server's gate.
///
/// A subcommand the registry does not hold goes to the handler (after authentication), which
/// answers `unknown subcommand`; redis-server answers that before authentication when the
/// subcommand does not exist at all, and NOAUTH for one it has but we do not implement. Ours
/// follows the second rule for both.
///
/// Every refusal before the command runs marks a transaction being queued as failed, as
/// Redis's `rejectCommand` does, so its EXEC answers EXECABORT.
pub fn execute(server: &Arc<ServerState>, state: &mut SessionState, argv: &[Bytes]) -> Frame {
    let checked = check(server, state, argv).and_then(|(command, spec)| {
        permitted(server, state, spec, argv)
            .map(|()| (command, spec))
            .map_err(|denied| Frame::Error(Bytes::from(denied.refusal(spec.name))))
    });
    let (command, spec) = match checked {
        Ok(found) => found,
        Err(refusal) => {
            let known = argv.first().and_then(|name| lookup(name)).map(|c| &c.spec);
            return reject(state, known, refusal);
        }
    };
    // --- connections that talk to each other: CLIENT LIST's cmd=, RESP2 subscribed mode ---
    state.client.record_command(spec.name);
    // A wait asked for by an earlier command that nobody took (the in-process session).
    state.block = None;
    if let Some(refused) = pubsub::refuse_in_subscribed_mode(state, spec.name) {
        return refused;
    }
    // A script running past busy-reply-threshold holds the gate: answer without it. Like
    // every refusal it fails a transaction being queued, and an EXEC says it discarded one.
    if let Some(refusal) = super::scripting::busy_reply(server, spec) {
        return reject(state, Some(spec), refusal);
    }
    // What the command may do, for the rules below: a script's shebang or a function's flags
    // stand in for EVAL's and FCALL's own (Redis's getCommandFlags).
    let rules_apply = state.multi.is_some()
        || server.settings.maxmemory.load(Ordering::Relaxed) != 0
        || server
            .settings
            .min_replicas_to_write
            .load(Ordering::Relaxed)
            != 0
        || server.replication.is_replica();
    let flags = super::scripting::command_flags(server, spec, argv, rules_apply);
    // Redis's processCommand evicts before every command when over `maxmemory` (one load
    // when it is 0); what could not be freed makes `over_maxmemory` refuse below.
    crate::evict::perform(server);
    let refusal = over_maxmemory(server, state, spec.name, flags)
        .or_else(|| replication_refusal(server, state, spec.name, flags))
        .or_else(|| super::monitor::refuse_keyspace(state, flags));
    if let Some(refusal) = refusal {
        return reject(state, Some(spec), refusal);
    }
    if state.multi.is_some() && !runs_inside_multi(spec.name) {
        let denyoom = flags.contains(Flag::Denyoom);
        let writes = flags.contains(Flag::Write);
        let not_stale = !flags.contains(Flag::Stale);
        let queued = state.multi.as_mut().map(|m| {
            m.denyoom |= denyoom;
            m.writes |= writes;
            m.not_stale |= not_stale;
            m.queued.push(argv.to_vec())
        });
        return match queued {
            Some(()) => Frame::simple("QUEUED"),
            None => Frame::error("ERR EXEC without MULTI"),
        };
    }
    let reply = if state.retrying {
        // A blocked command run again: its caller ([`serve_blocked`], the connection's
        // first retry) already holds the gate shared, taken before the blocking queues'
        // lock. Taking it again here, under that lock, would invert the order EXEC's
        // CLIENT UNBLOCK takes them in (gate exclusive, then queues): a deadlock.
        run(server, state, command, spec, argv)
    } else if spec.flags.contains(Flag::AllowBusy) && super::scripting::busy(server) {
        // A command Redis serves during a busy script (CLIENT, HELLO, AUTH...) touches no
        // key: it runs beside the script, which holds the gate until it ends.
        run(server, state, command, spec, argv)
    } else if exclusive(spec.name, argv) || server.replication.active() {
        // While a replica reads the stream, every command runs alone: the stream's order
        // is then the order of execution (see `crate::replication`).
        let _gate = server.exclusive();
        run(server, state, command, spec, argv)
    } else {
        let _gate = server.shared();
        run(server, state, command, spec, argv)
    };
    // What this call changed goes to the replicas as one unit, before any client it
    // unblocked runs (as Redis propagates at the end of `call`).
    if !state.propagated.is_empty() {
        let ops = std::mem::take(&mut state.propagated);
        server
            .replication
            .feed(&ops, !propagate::touches_arbitrary_keys(spec.name));
    }
    // Clients blocked on keys this command made ready are served now, before its reply,
    // and outside the gate (their commands enter it themselves).
    if !state.retrying && state.hub.blocking.has_ready() {
        serve_blocked(server);
    }
    reply
}

/// A command refused before it runs (Redis's `rejectCommand`): the refusal is counted, it
/// fails a transaction being queued, and an EXEC refused discards the transaction, if any,
/// and says so (Redis's `execCommandAbort`, called even outside MULTI).
fn reject(state: &mut SessionState, spec: Option<&'static Spec>, refusal: Frame) -> Frame {
    if let Some(multi) = state.multi.as_mut() {
        multi.failed = true;
    }
    let refusal = match (spec.map(|s| s.name), &refusal) {
        (Some("exec"), Frame::Error(text)) => {
            state.multi = None;
            state.watch.unwatch();
            let reason = text.strip_prefix(b"ERR ").unwrap_or(text);
            let mut abort = b"EXECABORT Transaction discarded because of: ".to_vec();
            abort.extend_from_slice(reason);
            Frame::Error(Bytes::from(abort))
        }
        _ => refusal,
    };
    state.stats.per_command.rejected(spec, &refusal);
    state.stats.count_command(true);
    refusal
}

/// Redis's `authRequired`: the connection has not authenticated and the default user needs
/// a password (or is off). Checked when the command runs, so a `requirepass` set or
/// cleared later applies to connections already open.
pub(crate) fn auth_required(server: &ServerState, state: &SessionState) -> bool {
    !state.authenticated && server.acl.default_requires_auth()
}

/// The checks before a command may run or be queued, in Redis's order; `Err` is the reply.
fn check(
    server: &ServerState,
    state: &SessionState,
    argv: &[Bytes],
) -> Result<(&'static Command, &'static Spec), Frame> {
    let Some(name) = argv.first() else {
        return Err(Frame::error("ERR empty command"));
    };
    let Some(command) = lookup(name) else {
        return Err(unknown_command(name, argv.get(1..).unwrap_or_default()));
    };
    let mut spec = &command.spec;
    if let Some(sub) = argv.get(1).filter(|_| !spec.subcommands.is_empty()) {
        match lookup_subcommand(spec, sub) {
            Some(found) => spec = found,
            None if !auth_required(server, state) => {
                return Err(unknown_subcommand(sub, command.spec.name));
            }
            None => {}
        }
    }
    if !spec.arity_accepts(argv.len()) {
        return Err(wrong_args(spec.name));
    }
    if auth_required(server, state) && !spec.flags.contains(Flag::NoAuth) {
        return Err(no_auth());
    }
    if command.spec.name == "debug" && !server.debug_command {
        return Err(Frame::error(debug::NOT_ALLOWED));
    }
    if state.multi.is_some() && spec.flags.contains(Flag::NoMulti) {
        return Err(Frame::error("ERR Command not allowed inside a transaction"));
    }
    Ok((command, spec))
}

/// The user's permission for the command (Redis's `ACLCheckAllPerm`), a refusal logged for
/// ACL LOG. Checked after the others, before the command runs or is queued, and again by
/// EXEC and by scripts for what they run (the log's context follows from the session:
/// `lua` inside a script, `multi` queued or run by EXEC).
pub(crate) fn permitted(
    server: &ServerState,
    state: &SessionState,
    spec: &'static Spec,
    argv: &[Bytes],
) -> Result<(), crate::acl::Denied> {
    crate::acl::check(&state.user, spec, argv).inspect_err(|&denied| {
        super::acl::log_denial(server, state, denied, spec, argv);
    })
}

/// Redis's `maxmemory` rule (its `processCommand`): over the limit, a command that may grow
/// memory is refused, and so is anything queued after MULTI (a queue grows memory too) and an
/// EXEC whose queue holds such a command (which [`reject`] then discards).
fn over_maxmemory(
    server: &ServerState,
    state: &SessionState,
    name: &str,
    flags: Flags,
) -> Option<Frame> {
    const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
    let in_multi = state.multi.is_some();
    let exec_denyoom = name == "exec" && state.multi.as_ref().is_some_and(|m| m.denyoom);
    let refused = flags.contains(Flag::Denyoom)
        || exec_denyoom
        || (in_multi && !matches!(name, "exec" | "discard" | "quit" | "reset"));
    if !refused || !server.out_of_memory() {
        return None;
    }
    Some(Frame::Error(Bytes::from_static(OOM.as_bytes())))
}

/// Redis's replication rules before a command runs, in its order:
/// - `min-replicas-to-write N`: a write (or an EXEC whose queue holds one) needs N attached
///   replicas (every attached replica counts as good: this server keeps no acknowledgements);
/// - a replica (`replica-read-only yes`, the default) refuses writes;
/// - a replica whose link is down (always, here) with `replica-serve-stale-data no` serves
///   only the commands flagged `stale` (and an EXEC whose queue holds only such).
fn replication_refusal(
    server: &ServerState,
    state: &SessionState,
    name: &str,
    flags: Flags,
) -> Option<Frame> {
    let multi = state.multi.as_ref().filter(|_| name == "exec");
    let write = flags.contains(Flag::Write) || multi.is_some_and(|m| m.writes);
    if write && lacks_good_replicas(server) {
        return Some(Frame::error(NOREPLICAS));
    }
    if write && read_only_replica(server) {
        return Some(Frame::error(READONLY_REPLICA));
    }
    let stale_denied = !flags.contains(Flag::Stale) || multi.is_some_and(|m| m.not_stale);
    if stale_denied && refuses_stale_data(server) {
        return Some(Frame::error(MASTERDOWN));
    }
    None
}

/// Redis's reply to a write while `min-replicas-to-write` is not met.
pub(crate) const NOREPLICAS: &str = "NOREPLICAS Not enough good replicas to write.";
/// Redis's reply to a write on a read-only replica.
pub(crate) const READONLY_REPLICA: &str = "READONLY You can't write against a read only replica.";
/// Redis's reply to a command a replica with a down link does not serve.
pub(crate) const MASTERDOWN: &str =
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";

/// `min-replicas-to-write` is set and not met (Redis's `checkGoodReplicasStatus` is false):
/// a primary with fewer attached replicas than it asks for, while `min-replicas-max-lag` is
/// not 0.
pub(crate) fn lacks_good_replicas(server: &ServerState) -> bool {
    let needed = server
        .settings
        .min_replicas_to_write
        .load(Ordering::Relaxed);
    needed > 0
        && !server.replication.is_replica()
        && (server.replication.replicas() as u64) < needed
        && server.settings.get("min-replicas-max-lag").as_deref() != Some("0")
}

/// A replica that refuses writes (`replica-read-only`, on unless set to no).
pub(crate) fn read_only_replica(server: &ServerState) -> bool {
    server.replication.is_replica()
        && server.settings.get("replica-read-only").as_deref() != Some("no")
}

/// A replica whose link is down (always, here) that serves no stale data
/// (`replica-serve-stale-data no`).
pub(crate) fn refuses_stale_data(server: &ServerState) -> bool {
    server.replication.is_replica()
        && server.settings.get("replica-serve-stale-data").as_deref() == Some("no")
}

/// Commands that act on the transaction itself rather than being queued (Redis's list in
/// `processCommand`).
fn runs_inside_multi(name: &str) -> bool {
    matches!(
        name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// Commands that hold the server's gate exclusively: EXEC (atomicity), the commands that
/// touch two databases at once (their shard locks would otherwise need an order across
/// databases), DEBUG (DEBUG SLEEP stops the server, as in Redis), SAVE and BGSAVE (while
/// they copy the keyspace), and a SORT whose BY and GET
/// patterns name keys found only as it runs, which no other command may change meanwhile, or
/// that STOREs (see `sort::needs_exclusive`); the geo searches that STORE (they read the
/// source under its shard's lock, then write the destination: nobody may come between).
fn exclusive(name: &str, argv: &[Bytes]) -> bool {
    match name {
        "exec" | "swapdb" | "move" | "flushall" | "debug" | "geosearchstore" => true,
        // Scripts are atomic, as transactions.
        "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro" => true,
        "georadius" | "georadiusbymember" => super::geo::stores(argv),
        // Their copy of the keyspace is one instant's (BGSAVE writes it afterwards, outside).
        "save" | "bgsave" | "shutdown" => true,
        // The snapshot a replica starts from and its attachment are one instant.
        "sync" | "psync" => true,
        "sort" => super::sort::needs_exclusive(argv, false),
        "sort_ro" => super::sort::needs_exclusive(argv, true),
        _ => false,
    }
}

/// Runs a command a script called, after the script's own checks (the ACL's among them);
/// the gate is already held.
pub fn run_from_script(
    server: &Arc<ServerState>,
    state: &mut SessionState,
    argv: &[Bytes],
) -> Frame {
    run_nested(server, state, argv, false)
}

/// Runs a command EXEC took from its queue (the gate is already held; the command passed
/// its checks when queued, and the ACL's again now: the rules may have changed since,
/// Redis's `execCommand`).
pub fn run_queued(server: &Arc<ServerState>, state: &mut SessionState, argv: &[Bytes]) -> Frame {
    run_nested(server, state, argv, true)
}

/// A command run inside another (a script's call, a queued command): checked, run, and
/// never left waiting (a blocking command has answered as if it timed out).
fn run_nested(
    server: &Arc<ServerState>,
    state: &mut SessionState,
    argv: &[Bytes],
    recheck_acl: bool,
) -> Frame {
    let reply = match check(server, state, argv) {
        Ok((command, spec)) => match recheck_acl.then(|| permitted(server, state, spec, argv)) {
            Some(Err(denied)) => Frame::Error(Bytes::from(format!(
                "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {}",
                denied.exec_reason()
            ))),
            _ => run(server, state, command, spec, argv),
        },
        Err(refusal) => refusal,
    };
    state.block = None;
    reply
}

/// Runs a checked command on the session's database, signals the keys it modified, counts it.
pub(crate) fn run(
    server: &Arc<ServerState>,
    state: &mut SessionState,
    command: &'static Command,
    spec: &'static Spec,
    argv: &[Bytes],
) -> Frame {
    let now = state.now();
    server.settings.encoding.enter();
    let db = server.db(state.db_index).unwrap_or_else(|| server.db0());
    let mut ctx = Ctx {
        db,
        server,
        state,
        now,
    };
    let started = std::time::Instant::now();
    let db_index = ctx.state.db_index;
    let changes = server
        .replication
        .active()
        .then(|| server.persistence.dirty());
    let before = modified::before(&ctx, spec, argv);
    let existed = conversions::before(&ctx, spec, argv);
    let reply = (command.run)(&mut ctx, argv);
    modified::after(&ctx, spec, before, &reply);
    super::monitor::feed(ctx.state, spec, argv);
    // Keys the command found expired: their `expired` events and invalidations; keys it
    // created and sent no event of its own for: their `new` events.
    crate::expiry::report(ctx.server, db_index, ctx.db, Some(&ctx.state.client));
    super::events::report_created(&ctx);
    if let Some(changes) = changes {
        propagate::after(&mut ctx, spec, argv, &reply, db_index, changes);
    }
    conversions::after(&ctx, spec, argv, &reply, existed);
    if ctx.state.hub.blocking.any()
        && spec.flags.contains(Flag::Write)
        && !reply.is_error()
        && !ctx.state.retrying
        && ctx.state.block.is_none()
    {
        wake_on_write(&ctx, spec, argv);
    }
    if let Some(wait) = ctx.state.block.as_mut() {
        // A command may ask to run again with other arguments (XREAD's `$`, resolved).
        if wait.argv.is_empty() {
            wait.argv = argv.to_vec();
        }
    }
    // --- CLIENT TRACKING ---
    // Not for a command that is now waiting (BLPOP, BLMOVE... on empty keys): it read and
    // changed nothing yet, as Redis tracks nothing for a client that blocks. Invalidating
    // its keys on every look would also hold another invalidation for every retry while it
    // waits, with no reply to send them after.
    let flush = matches!(spec.name, "flushdb" | "flushall");
    if (ctx.state.hub.tracking.active() || flush) && ctx.state.block.is_none() {
        track(ctx.state, spec, argv, &reply);
    }
    if matches!(spec.name, "client|setname" | "hello" | "reset") {
        ctx.state
            .client
            .sync_identity(ctx.state.name.clone(), ctx.state.dialect);
    }
    let counted = std::mem::take(&mut ctx.state.error_already_counted) && reply.is_error();
    ctx.state.stats.count_command(reply.is_error() && !counted);
    // A command that now waits is counted and logged once, when it is served or times out
    // (Redis's `updateStatsOnUnblock`), not once per look.
    if ctx.state.block.is_none() {
        if counted {
            ctx.state.stats.per_command.count_call(spec, true);
        } else {
            ctx.state.stats.per_command.ran(spec, &reply);
        }
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let name = ctx.state.name.as_ref();
        server.slowlog.record(
            &server.settings,
            spec,
            argv,
            micros,
            &ctx.state.client,
            name,
        );
    }
    reply
}

/// While clients are blocked: a write may have deleted or replaced a stream some client
/// waits on in XREADGROUP, which Redis answers at once (`-UNBLOCKED`, `-NOGROUP`); its keys
/// are signalled so the waiters look again (the others go on waiting).
fn wake_on_write(ctx: &Ctx<'_>, spec: &Spec, argv: &[Bytes]) {
    let blocking = &ctx.state.hub.blocking;
    if matches!(spec.name, "flushdb" | "flushall") {
        blocking.signal_all();
        return;
    }
    let args: Vec<&[u8]> = argv.iter().map(|a| &a[..]).collect();
    for i in spec.key_positions(&args) {
        if let Some(key) = argv.get(i) {
            blocking.signal_if_waited(key);
        }
    }
}

/// A blocked command timed out with `reply`: its one call for COMMANDSTATS.
pub fn count_timed_out(state: &SessionState, argv: &[Bytes], reply: &Frame) {
    if let Some(command) = argv.first().and_then(|name| lookup(name)) {
        state.stats.per_command.ran(&command.spec, reply);
    }
}

/// Runs the commands of the clients blocked on ready keys on their behalf, Redis's
/// `handleClientsBlockedOnKeys` (see [`crate::blocking`]).
pub fn serve_blocked(server: &Arc<ServerState>) {
    let hub = &server.hub;
    // The gate before the queues' lock, always (see `execute`'s retry branch).
    let _gate = server.shared();
    hub.blocking.serve_ready(hub, |state, argv| {
        // Now, not the time of the batch the client blocked in: a key that expired while
        // it waited must not serve it.
        state.batch_time = Some(crate::db::now_ms());
        state.retrying = true;
        let reply = execute(server, state, argv);
        state.retrying = false;
        match state.block.take() {
            Some(_) => None,
            None => Some(reply),
        }
    });
}

/// Client-side caching after a command: a flush invalidates everything, the keys a read-only
/// command names are remembered for the caller. (A write's keys are invalidated as it
/// modifies them, by `watch::signal_modified`, Redis's `signalModifiedKey`.)
///
/// Scripts as Redis's `call` treats them: a read-only command a script calls makes the
/// caller track the keys the script declared (not the ones the command names); EVAL_RO,
/// EVALSHA_RO and FCALL_RO themselves track nothing; the OPTIN/OPTOUT `CACHING` answer
/// holds until the script's caller's command is done.
fn track(state: &SessionState, spec: &Spec, argv: &[Bytes], reply: &Frame) {
    let hub = &state.hub;
    let me = state.client.id;
    let args: Vec<&[u8]> = argv.iter().map(|a| &a[..]).collect();
    let script_keys = state.in_script.then_some(&state.script_keys);
    let keys = || -> Vec<&Bytes> {
        match script_keys {
            Some(declared) => declared.iter().collect(),
            None => spec
                .key_positions(&args)
                .into_iter()
                .filter_map(|i| argv.get(i))
                .collect(),
        }
    };
    if spec.flags.contains(Flag::Write) && !reply.is_error() {
        if matches!(spec.name, "flushdb" | "flushall") {
            for (_, keys) in crate::tracking::invalidate_all(hub, me) {
                state.client.defer(keys);
            }
        }
    } else if spec.flags.contains(Flag::Readonly)
        && !matches!(spec.name, "eval_ro" | "evalsha_ro" | "fcall_ro")
    {
        let read = keys();
        for (key, ids) in hub.tracking.remember(me, &read) {
            // The table was full: these clients must drop `key` (the reader's own after its
            // reply).
            let keys = Frame::Array(vec![Frame::Bulk(key)]);
            for id in ids {
                if id == me {
                    state.client.defer(keys.clone());
                } else {
                    crate::tracking::send_invalidation(hub, id, keys.clone());
                }
            }
        }
    }
    if !spec.name.starts_with("client|") && !state.in_script {
        hub.tracking.command_done(me);
    }
}
