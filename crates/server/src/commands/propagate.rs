//! What a command sends down the replication stream (see [`crate::replication`]), Redis's
//! rules from its `call`: a command that changed the dataset propagates, as sent or as the
//! command its handler rewrote it to ([`Ctx::propagate_as`]); the deletions of keys it
//! found expired go first; a few commands propagate even without changing a key (FLUSHALL
//! of an empty server, PUBLISH), and the commands that run others (EXEC, and scripts)
//! propagate those instead of themselves.

use bytes::Bytes;
use respect_resp::Frame;

use super::context::Ctx;
use super::registry::Spec;
use crate::replication::Op;

/// Called after a command ran while a replica reads the stream: queues what it propagates
/// on the session, for the end of the top-level call. `changes` is the server's count of
/// key changes before it ran; `db` the database it ran in.
pub fn after(
    ctx: &mut Ctx<'_>,
    spec: &Spec,
    argv: &[Bytes],
    reply: &Frame,
    db: usize,
    changes: u64,
) {
    let rewritten = ctx.state.propagate_as.take();
    let always = std::mem::take(&mut ctx.state.propagate_always);
    let expired = ctx.server.replication.take_expired();
    ctx.state.propagated.extend(expired);
    if runs_others(spec.name) {
        return;
    }
    if always {
        let ops = rewritten.unwrap_or_default();
        ctx.state
            .propagated
            .extend(ops.into_iter().map(|argv| Op::new(db, argv)));
        return;
    }
    let changed = ctx.server.persistence.dirty() != changes;
    let forced = !reply.is_error() && forced(spec.name);
    if !changed && !forced {
        return;
    }
    match rewritten {
        Some(commands) => ctx
            .state
            .propagated
            .extend(commands.into_iter().map(|argv| Op::new(db, argv))),
        None => ctx.state.propagated.push(Op::new(db, argv.to_vec())),
    }
}

/// Commands whose effects are the commands they run, which propagate themselves.
fn runs_others(name: &str) -> bool {
    matches!(
        name,
        "exec" | "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro"
    )
}

/// Commands that propagate whenever they succeed, whether or not a key changed: the
/// flushes and SWAPDB (Redis's `forceCommandPropagation`; they change whole databases,
/// which no key signal counts), PUBLISH (a replica's subscribers get the message too), and
/// the function library's changes.
fn forced(name: &str) -> bool {
    matches!(
        name,
        "flushall"
            | "flushdb"
            | "swapdb"
            | "publish"
            | "function|load"
            | "function|delete"
            | "function|flush"
            | "function|restore"
    )
}

/// Commands that may delete keys they happen to find expired anywhere in the keyspace
/// (Redis's `CMD_TOUCHES_ARBITRARY_KEYS`): their deletions go out one by one, never wrapped
/// in MULTI/EXEC.
pub fn touches_arbitrary_keys(name: &str) -> bool {
    matches!(name, "scan" | "randomkey")
}

/// `word` as an argument.
pub fn word(word: &'static str) -> Bytes {
    Bytes::from_static(word.as_bytes())
}

/// `n` as an argument.
pub fn number(n: impl itoa::Integer) -> Bytes {
    Bytes::copy_from_slice(itoa::Buffer::new().format(n).as_bytes())
}
