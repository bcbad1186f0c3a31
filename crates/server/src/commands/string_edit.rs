//! Reading and editing a string value in place, for the commands that address bytes or bits
//! inside one (SETRANGE, SETBIT, BITFIELD, GETRANGE, BITCOUNT...).
//!
//! A single small request can ask for a huge string (`SETBIT k 4294967295 1` makes 512 MB,
//! as Redis does): every growth is checked against `proto-max-bulk-len` by the caller (with
//! the command's own error text) and against `maxmemory` here, before a byte is allocated.

use std::sync::atomic::Ordering;

use bytes::{Bytes, BytesMut};
use respect_resp::Frame;

use super::context::Ctx;
use super::reply::wrong_type;
use crate::db::{Entry, Value};

/// The error Redis gives a command refused under `maxmemory`.
const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// The string at `key` (a cheap reference-counted clone), `None` when the key is missing,
/// WRONGTYPE when it holds another type.
pub fn read(ctx: &Ctx<'_>, key: &[u8]) -> Result<Option<Bytes>, Frame> {
    match ctx.db.shard(key).get(key, ctx.now) {
        None => Ok(None),
        Some(Entry {
            value: Value::Str(s),
            ..
        }) => Ok(Some(s.clone())),
        Some(_) => Err(wrong_type()),
    }
}

/// `proto-max-bulk-len` as CONFIG SET left it: the largest string a client may build.
pub fn max_string_len(ctx: &Ctx<'_>) -> u64 {
    ctx.server
        .settings
        .proto_max_bulk_len
        .load(Ordering::Relaxed)
}

/// Refuses a write that would allocate `growth` more bytes when `maxmemory` is set and
/// either the server is already over it (as Redis's check before every command does) or
/// the growth alone is larger than the whole limit. Never call it with a shard locked: a
/// stale estimate is refreshed by walking every shard.
///
/// Redis lets a command under the limit grow a string past it and evicts before the next
/// command (Tcl `unit/tracking` relies on a SETBIT going 100 KiB over); that is kept. Only a
/// request that by itself asks for more than the whole `maxmemory` (a 512 MB SETRANGE from 30
/// bytes of input on a 64 MB server) is refused before anything is allocated, where Redis
/// would allocate it and then evict everything it could.
pub fn check_room(ctx: &Ctx<'_>, growth: usize) -> Result<(), Frame> {
    let limit = ctx.server.settings.maxmemory.load(Ordering::Relaxed);
    if limit == 0 || growth == 0 {
        return Ok(());
    }
    let used = ctx.server.used_memory() as u64;
    if used > limit || growth as u64 > limit {
        return Err(Frame::error(OOM));
    }
    Ok(())
}

/// [`check_room`] for a growth that stays (a string made longer, BITOP's result): it counts
/// in the memory estimate at once, so the next command's `maxmemory` check sees it. A
/// transient allocation (LCS's table) uses [`check_room`] alone.
pub fn grow_room(ctx: &Ctx<'_>, growth: usize) -> Result<(), Frame> {
    check_room(ctx, growth)?;
    if ctx.server.settings.maxmemory.load(Ordering::Relaxed) != 0 {
        ctx.server.note_memory(growth);
    }
    Ok(())
}

/// Edits the string at `key` in place after zero-padding it to at least `len` bytes, creating
/// it when missing (Redis's `lookupStringForBitCommand` and `sdsgrowzero`). Returns what `f`
/// returned and whether the key was created or grew (Redis's `dirty`). The bytes are edited
/// where they are when nothing else holds them (no copy of a large bitmap per SETBIT).
pub fn edit<T>(
    ctx: &Ctx<'_>,
    key: &Bytes,
    len: usize,
    f: impl FnOnce(&mut [u8]) -> T,
) -> Result<(T, bool), Frame> {
    if ctx.server.settings.maxmemory.load(Ordering::Relaxed) != 0 {
        // Asked with no shard held: refreshing the memory estimate locks every shard.
        let old_len = read(ctx, key)?.map_or(0, |s| s.len());
        grow_room(ctx, len.saturating_sub(old_len))?;
    }
    let mut shard = ctx.db.shard(key);
    let current = match shard.get(key, ctx.now) {
        None => None,
        Some(Entry {
            value: Value::Str(s),
            ..
        }) => Some(s.len()),
        Some(_) => return Err(wrong_type()),
    };
    let Some(old_len) = current else {
        let mut fresh = BytesMut::zeroed(len);
        let out = f(&mut fresh);
        shard.insert(key.clone(), Entry::new(Value::Str(fresh.freeze())), ctx.now);
        return Ok((out, true));
    };
    let Some(Entry {
        value: Value::Str(s),
        ..
    }) = shard.get_mut(key, ctx.now)
    else {
        return Err(wrong_type());
    };
    let mut buf = std::mem::take(s)
        .try_into_mut()
        .unwrap_or_else(|shared| BytesMut::from(shared.as_ref()));
    if buf.len() < len {
        buf.resize(len, 0);
    }
    let out = f(&mut buf);
    *s = buf.freeze();
    Ok((out, len > old_len))
}

/// After a command changed the string at `key`: WATCH sees it modified, and the keyspace
/// event `event` of the string class goes out (`setrange`, `setbit`...).
pub fn changed(ctx: &Ctx<'_>, event: &str, key: &Bytes) {
    super::watch::signal_modified(ctx, ctx.state.db_index, key);
    super::events::notify(ctx, crate::notify::STRING, event, key);
}
