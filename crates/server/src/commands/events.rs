//! What a command tells the rest of the server about a key it changed: keyspace
//! notifications (see [`crate::notify`]) and blocked clients that a new key may serve (see
//! [`crate::blocking`]).

use super::context::Ctx;
use respect_resp::Frame;

/// Publishes `event` on `key` if its `class` is enabled (`notify-keyspace-events`): Redis's
/// `notifyKeyspaceEvent`. One atomic load when notifications are off.
pub fn notify(ctx: &Ctx<'_>, class: u32, event: &str, key: &[u8]) {
    // Keys the command found expired come first: Redis sends `expired` as it removes them.
    crate::expiry::report(
        ctx.server,
        ctx.state.db_index,
        ctx.db,
        Some(&ctx.state.client),
    );
    // Then the keys it created: Redis sends `new` from dbAdd, before the command's event.
    report_created(ctx);
    let db = i64::try_from(ctx.state.db_index).unwrap_or(i64::MAX);
    crate::notify::notify_keyspace_event(&ctx.state.hub, class, event, key, db);
}

/// The `new` events of the keys the command created so far (`notify-keyspace-events n`).
pub fn report_created(ctx: &Ctx<'_>) {
    report_created_in(ctx, ctx.state.db_index);
}

/// [`report_created`] for database `index` (COPY ... DB writes another one).
pub fn report_created_in(ctx: &Ctx<'_>, index: usize) {
    let Some(target) = ctx.server.db(index) else {
        return;
    };
    let created = target.take_created();
    let db = i64::try_from(index).unwrap_or(i64::MAX);
    for key in &created {
        crate::notify::notify_keyspace_event(&ctx.state.hub, crate::notify::NEW, "new", key, db);
    }
}

/// A key that blocked clients may wait on was created (a list by LPUSH, LMOVE...): wakes the
/// first of them. Redis's `signalKeyAsReady`.
pub fn signal_created(ctx: &Ctx<'_>, key: &[u8]) {
    ctx.state.hub.blocking.signal(key);
}

/// After a command removed elements from the collection at `key`: the `del` event when the
/// last one went and the key with it, as Redis sends after `hdel`, `srem`, `lpop`...
pub fn notify_if_deleted(ctx: &Ctx<'_>, key: &[u8]) {
    if !ctx.state.hub.notifications.enabled(crate::notify::GENERIC) {
        return;
    }
    let gone = ctx.db.shard(key).get(key, ctx.now).is_none();
    if gone {
        notify(ctx, crate::notify::GENERIC, "del", key);
    }
}

/// The integer a successful reply carries (how many fields, members... changed).
pub fn changed(reply: &Frame) -> i64 {
    match reply {
        Frame::Integer(n) => *n,
        _ => 0,
    }
}
