//! The encoding conversions writes cause, recorded as [`Converted`] marks for OBJECT ENCODING
//! (see [`crate::encoding`]). The dispatcher calls [`after`] once per successful write
//! command; handlers need not know about encodings.
//!
//! Each rule follows what Redis 7.0's command does to its object:
//! - APPEND to an existing string, SETRANGE, SETBIT, BITFIELD, BITOP's destination: the
//!   string is modified in place (or built raw) and is `raw` whatever its length;
//! - INCRBYFLOAT builds its result without trying the integer encoding: `embstr`/`raw`;
//! - HSET, HMSET, HSETNX, HINCRBY, HINCRBYFLOAT convert a hash when an argument is longer
//!   than `hash-max-listpack-value` (Redis checks the arguments, of HSETNX only when it sets)
//!   or it holds more than `hash-max-listpack-entries` fields;
//! - SADD and SMOVE convert a set when a member that is not an integer joins it, or it holds
//!   more than `set-max-intset-entries` members;
//! - the set STORE commands build a fresh set (its encoding follows its contents), marked
//!   here when big so that later removals do not make it small again.
//!
//! Sorted sets convert inside `ZSet` itself. Each check is O(1) plus O(arguments); only the
//! STORE commands scan their (fresh) result. A value already marked is not looked at again.

use bytes::Bytes;
use respect_resp::Frame;

use super::context::Ctx;
use super::registry::{Flag, Spec};
use crate::db::{Converted, Shard, Value};
use crate::encoding::{current, hash_is_big, is_intset_member, set_is_big};

/// Called before a write command runs: whether APPEND's key exists (APPEND to a new key
/// stores its argument as SET would; to an existing one it modifies in place).
pub fn before(ctx: &Ctx<'_>, spec: &Spec, argv: &[Bytes]) -> bool {
    spec.name == "append"
        && argv
            .get(1)
            .is_some_and(|k| ctx.db.shard(k).get_mut(k, ctx.now).is_some())
}

/// Called after a command answered `reply`: records the conversions it caused. `existed` is
/// what [`before`] said.
pub fn after(ctx: &Ctx<'_>, spec: &Spec, argv: &[Bytes], reply: &Frame, existed: bool) {
    // Every command below is a write: a read (most traffic) leaves by one flag test.
    if !spec.flags.contains(Flag::Write) || reply.is_error() {
        return;
    }
    let arg = |i: usize| argv.get(i);
    let rest = |from: usize, to: usize| argv.get(from..to.min(argv.len())).unwrap_or_default();
    match spec.name {
        "append" if existed => mark_string(ctx, arg(1), Converted::Raw),
        // SETRANGE of nothing leaves the string as it was (an `int` stays one).
        "setrange" if arg(3).is_some_and(|v| v.is_empty()) => {}
        "setrange" | "setbit" | "bitfield" => mark_string(ctx, arg(1), Converted::Raw),
        "bitop" => mark_string(ctx, arg(2), Converted::Raw),
        "incrbyfloat" => mark_string(ctx, arg(1), Converted::NotInt),
        "hset" | "hmset" => note_collection(ctx, arg(1), rest(2, argv.len()), false),
        "hsetnx" if *reply == Frame::Integer(1) => note_collection(ctx, arg(1), rest(2, 4), false),
        "hincrby" | "hincrbyfloat" => note_collection(ctx, arg(1), rest(2, 3), false),
        "sadd" => note_collection(ctx, arg(1), rest(2, argv.len()), false),
        "smove" => note_collection(ctx, arg(2), rest(3, 4), false),
        "sinterstore" | "sunionstore" | "sdiffstore" => note_collection(ctx, arg(1), &[], true),
        _ => {}
    }
}

/// Marks the string at `key` as modified in place: OBJECT ENCODING says `raw` from now on
/// (until the key is set anew). For commands that change a string's bytes where it lies.
pub fn mark_modified_in_place(shard: &mut Shard, key: &[u8], now: u64) {
    if matches!(shard.get_mut(key, now), Some(e) if matches!(e.value, Value::Str(_))) {
        shard.set_converted(key, Converted::Raw);
    }
}

fn mark_string(ctx: &Ctx<'_>, key: Option<&Bytes>, mark: Converted) {
    let Some(key) = key else { return };
    let mut shard = ctx.db.shard(key);
    match mark {
        Converted::Raw => mark_modified_in_place(&mut shard, key, ctx.now),
        _ => {
            if matches!(shard.get_mut(key, ctx.now), Some(e) if matches!(e.value, Value::Str(_))) {
                shard.set_converted(key, mark);
            }
        }
    }
}

/// Marks the hash or set at `key` big if the write made it so: by its size, by the
/// arguments `written` (hash: any longer than the value limit; set: any non-integer that is
/// now a member), or, for a freshly `built` result, by a scan of its contents.
fn note_collection(ctx: &Ctx<'_>, key: Option<&Bytes>, written: &[Bytes], built: bool) {
    let Some(key) = key else { return };
    let mut shard = ctx.db.shard(key);
    if shard.converted(key).is_some() {
        return;
    }
    let big = match shard.get_mut(key, ctx.now).map(|e| &e.value) {
        Some(Value::Hash(h)) if built => {
            hash_is_big(h.len(), h.iter().map(|(f, v)| (f.as_ref(), v.as_ref())))
        }
        Some(Value::Hash(h)) => {
            let limit = current().hash_value();
            h.len() > current().hash_entries() || written.iter().any(|a| a.len() > limit)
        }
        Some(Value::Set(s)) if built => set_is_big(s.len(), s.iter().map(|m| m.as_ref())),
        Some(Value::Set(s)) => {
            s.len() > current().set_intset_entries()
                || written
                    .iter()
                    .any(|m| !is_intset_member(m) && s.contains(m))
        }
        _ => false,
    };
    if big {
        shard.set_converted(key, Converted::Big);
    }
}

#[cfg(test)]
mod tests {
    use crate::db::Db;
    use crate::session::Session;
    use crate::Flavor;
    use bytes::Bytes;
    use respect_resp::Frame;

    fn run(session: &mut Session, line: &str) -> Frame {
        let argv: Vec<Bytes> = line
            .split(' ')
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        session.execute_args(&argv)
    }

    fn encoding(session: &mut Session, key: &str) -> Frame {
        run(session, &format!("OBJECT ENCODING {key}"))
    }

    fn bulk(s: &str) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn a_conversion_lasts_until_the_key_is_replaced_or_deleted() {
        let mut s = Session::new(Db::new(), Flavor::Redis);
        run(&mut s, "SADD k 1 x");
        run(&mut s, "SREM k x");
        assert_eq!(encoding(&mut s, "k"), bulk("hashtable"));
        // Deleted, then created anew: the mark went with the old value.
        run(&mut s, "DEL k");
        run(&mut s, "SADD k 1");
        assert_eq!(encoding(&mut s, "k"), bulk("intset"));
        // Overwritten by SET, then APPENDed to: raw; SET again: fresh.
        run(&mut s, "SET k 1");
        run(&mut s, "APPEND k 2");
        assert_eq!(encoding(&mut s, "k"), bulk("raw"));
        run(&mut s, "SET k 12");
        assert_eq!(encoding(&mut s, "k"), bulk("int"));
    }

    #[test]
    fn rename_moves_the_mark_and_drops_the_overwritten_ones() {
        let mut s = Session::new(Db::new(), Flavor::Redis);
        run(&mut s, "HSET a f v");
        let long = "x".repeat(65);
        run(&mut s, &format!("HSET a g {long}"));
        run(&mut s, "HDEL a g");
        run(&mut s, "SET b 1");
        run(&mut s, "APPEND b 1");
        run(&mut s, "RENAME a b");
        assert_eq!(encoding(&mut s, "b"), bulk("hashtable"));
        assert_eq!(encoding(&mut s, "a"), Frame::Null);
        run(&mut s, "HSET a f v");
        assert_eq!(encoding(&mut s, "a"), bulk("listpack"));
        // MOVE takes the value itself to the other database, mark included.
        assert_eq!(run(&mut s, "MOVE b 9"), Frame::Integer(1));
        run(&mut s, "SELECT 9");
        assert_eq!(encoding(&mut s, "b"), bulk("hashtable"));
    }
}
