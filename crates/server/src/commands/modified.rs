//! Which keys a write command modified, derived centrally from the registry (the command's
//! `write` flag and key specs) and from what the command answered, so that no handler has to
//! remember to call [`signal_modified`].
//!
//! Redis signals a key when a command really changed it (`signalModifiedKey`). Its rules,
//! for the commands held here, reduce to three cases:
//! - most write commands answer something that says "nothing happened" when nothing did: a
//!   null (SET NX/XX that did not set, LPOP of a missing key, GETDEL of a missing key) or 0
//!   (SETNX, MSETNX, HSETNX, SADD/SREM/HDEL of nothing, EXPIRE/PERSIST that did not apply),
//!   and otherwise changed every key they name;
//! - a few always change their keys when they succeed, whatever the number they answer
//!   (INCRBY by 0, DECR to 0, HSET of an existing field, APPEND of an empty string);
//! - multi-key deletions (DEL, UNLINK) changed exactly the keys that existed before.
//!
//! SET (whose answer does not tell with GET: a null is also the missing old value of a key it
//! did set) signals in its handler, where NX/XX decided; GETSET always sets.
//!
//! An empty array is a no-op answer too (ZPOPMIN of a missing key, LPOP with count 0).
//! Commands that change whole databases (FLUSHDB, FLUSHALL, SWAPDB) or another database
//! (MOVE) signal inside their handlers.

use bytes::Bytes;
use respect_resp::Frame;

use super::context::Ctx;
use super::registry::{Flag, Spec};
use super::watch::signal_modified;

/// How a write command's answer tells whether it changed its keys.
enum Rule {
    /// A null or 0 answer means nothing changed.
    UnlessNoop,
    /// Any answer but an error is a change.
    Always,
    /// Changed the keys that existed before it ran.
    Existing,
    /// The handler signals itself.
    Manual,
}

fn rule(name: &str) -> Rule {
    match name {
        "incr" | "decr" | "incrby" | "decrby" | "incrbyfloat" | "hset" | "hincrby"
        | "hincrbyfloat" | "append" | "lpush" | "rpush" | "getset" => Rule::Always,
        "set" => Rule::Manual,
        "del" | "unlink" => Rule::Existing,
        "move" | "flushdb" | "flushall" | "swapdb" => Rule::Manual,
        // Lists and sets whose answer does not tell (LINSERT's -1, LTRIM's +OK, SPOP's empty
        // set, SMOVE within one key, the *STORE forms that change only their destination).
        "linsert" | "ltrim" | "spop" | "smove" | "sinterstore" | "sunionstore" | "sdiffstore" => {
            Rule::Manual
        }
        // Signalled by their handlers, which know when Redis does (`string_edit::changed`).
        "setrange" | "getex" | "setbit" | "bitop" | "bitfield" => Rule::Manual,
        // Same-name RENAME changes nothing; COPY may write another database.
        "rename" | "renamenx" | "copy" => Rule::Manual,
        // ZADD answers 0 when it only updated scores (no CH): its handler counts both.
        "zadd" | "zincrby" => Rule::Manual,
        // SORT changes only its STORE destination, and answers its length either way.
        "sort" => Rule::Manual,
        // GEOADD is ZADD (above); the GEORADIUS family changes only its STORE destination.
        "geoadd" | "georadius" | "georadiusbymember" | "geosearchstore" => Rule::Manual,
        // RESTORE with a TTL already past stores nothing (and deletes only with REPLACE).
        "restore" => Rule::Manual,
        // MIGRATE deletes only the keys the target acknowledged.
        "migrate" => Rule::Manual,
        // Redis signals none of these (XGROUP CREATE MKSTREAM signals in its handler).
        "xsetid"
        | "xreadgroup"
        | "xack"
        | "xclaim"
        | "xautoclaim"
        | "xgroup|create"
        | "xgroup|setid"
        | "xgroup|destroy"
        | "xgroup|createconsumer"
        | "xgroup|delconsumer" => Rule::Manual,
        _ => Rule::UnlessNoop,
    }
}

/// What the dispatcher remembers before running a write command (only while someone is
/// interested in modifications; otherwise nothing is computed at all).
pub struct Before {
    keys: Vec<Bytes>,
    existed: Vec<bool>,
}

/// Called before a command runs: the keys it may modify, when anyone is interested.
pub fn before(ctx: &Ctx<'_>, spec: &Spec, argv: &[Bytes]) -> Option<Before> {
    if !spec.flags.contains(Flag::Write) || !super::watch::modifications_wanted(ctx) {
        return None;
    }
    let args: Vec<&[u8]> = argv.iter().map(|a| a.as_ref()).collect();
    let keys: Vec<Bytes> = spec
        .key_positions(&args)
        .into_iter()
        .filter_map(|i| argv.get(i).cloned())
        .collect();
    let existed = match rule(spec.name) {
        Rule::Existing => keys
            .iter()
            // A look that counts no keyspace hit or miss: the command has not read anything yet.
            .map(|k| ctx.db.shard(k).peek(k, ctx.now).is_some())
            .collect(),
        _ => Vec::new(),
    };
    Some(Before { keys, existed })
}

/// Called after the command answered `reply`: signals the keys it changed.
pub fn after(ctx: &Ctx<'_>, spec: &Spec, before: Option<Before>, reply: &Frame) {
    let Some(Before { keys, existed }) = before else {
        return;
    };
    if reply.is_error() {
        return;
    }
    let noop = match reply {
        Frame::Null | Frame::NullBulk | Frame::NullArray | Frame::Integer(0) => true,
        Frame::Array(items) => items.is_empty(),
        _ => false,
    };
    let db = ctx.state.db_index;
    match rule(spec.name) {
        Rule::Manual => {}
        Rule::UnlessNoop if noop => {}
        Rule::UnlessNoop | Rule::Always => {
            for key in &keys {
                signal_modified(ctx, db, key);
            }
        }
        Rule::Existing => {
            for (key, _) in keys.iter().zip(&existed).filter(|(_, e)| **e) {
                signal_modified(ctx, db, key);
            }
        }
    }
}
