//! MONITOR: a client that sends it receives every command the server runs from then on, one
//! status line each (Redis's `replicationFeedMonitors`): the time, the database and the
//! sender's address (`lua` for a script's calls), then the arguments quoted as
//! `sdscatrepr` quotes them. Secrets (AUTH's password, ACL SETUSER's rules...) show as
//! `(redacted)`; admin commands and commands flagged `skip_monitor` are not shown, nor is a
//! blocked command when it runs again.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use respect_resp::{Escaped, Frame};

use super::context::{Ctx, SessionState};
use super::registry::{Categories, Category, Command, Docs, Flag, Flags, KeyRange, Spec};
use super::reply::ok;
use crate::clients::lock;

/// This family's commands.
pub const COMMANDS: &[Command] = &[Command {
    spec: Spec {
        name: "monitor",
        arity: 1,
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
            summary: "Listen for all requests received by the server in real time",
            since: "1.0.0",
            group: "server",
            complexity: "",
            deprecated: None,
            history: &[],
        },
        subcommands: &[],
    },
    run: monitor,
}];

fn monitor(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Frame {
    // Inside EXEC a client expects one reply per command (Redis's CLIENT_DENY_BLOCKING).
    if ctx.state.in_exec {
        return Frame::error("ERR MONITOR isn't allowed for DENY BLOCKING client");
    }
    if !ctx.state.hub.monitors.add(&ctx.state.client) {
        // Already monitoring: Redis ignores it, without a reply.
        ctx.state.reply.skip_this();
        return Frame::Null;
    }
    lock(&ctx.state.client.info).monitor = true;
    ok()
}

/// Redis's refusal of a command that reads or writes keys from a monitor (flagged a
/// replica), or `None`.
pub(crate) fn refuse_keyspace(state: &SessionState, flags: Flags) -> Option<Frame> {
    let touches_keys = flags.contains(Flag::Write)
        || flags.contains(Flag::Readonly)
        || flags.contains(Flag::MayReplicate);
    (touches_keys && state.hub.monitors.active() && state.hub.monitors.contains(state.client.id))
        .then(|| Frame::error("ERR Replica can't interact with the keyspace"))
}

/// Stops `state`'s client monitoring (RESET).
pub(crate) fn stop(state: &SessionState) {
    state.hub.monitors.remove(state.client.id);
    lock(&state.client.info).monitor = false;
}

/// Shows a command that ran to the monitors, if any watch (one atomic load otherwise).
/// Scripts (flagged `skip_monitor`) are shown by [`feed_script_call`] instead.
pub(crate) fn feed(state: &mut SessionState, spec: &Spec, argv: &[Bytes]) {
    if !state.hub.monitors.active()
        || state.retrying
        || spec.flags.contains(Flag::Admin)
        || spec.flags.contains(Flag::SkipMonitor)
    {
        return;
    }
    send(state, spec.name, argv);
}

/// EVAL, EVALSHA and FCALL (and their `_RO` forms) are shown as they start, before the
/// commands they call, whether or not they then run (Redis's evalCommand, fcallCommand).
pub(crate) fn feed_script_call(state: &mut SessionState, argv: &[Bytes]) {
    if state.hub.monitors.active() {
        send(state, "", argv);
    }
}

/// The line for `argv` (the command called `name`, for its secrets), to every monitor.
fn send(state: &mut SessionState, name: &str, argv: &[Bytes]) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let peer = if state.in_script {
        "lua".to_string()
    } else {
        crate::clients::show(state.client.addr)
    };
    let mut line = format!(
        "{}.{:06} [{} {}]",
        now.as_secs(),
        now.subsec_micros(),
        state.db_index,
        peer
    );
    let secret = super::slowlog::secret_positions(name, argv);
    for (i, arg) in argv.iter().enumerate() {
        if secret.contains(&i) {
            line.push_str(" \"(redacted)\"");
        } else {
            line.push_str(&format!(" \"{}\"", Escaped(arg)));
        }
    }
    let line = Bytes::from(line);
    if state.hub.monitors.feed(&line, state.client.id) {
        state.after_reply.push(Frame::Simple(line));
    }
}
