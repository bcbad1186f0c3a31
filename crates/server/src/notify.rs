//! Keyspace notifications: the `notify-keyspace-events` classes, parsed and printed exactly as
//! Redis 7.0 does (`keyspaceEventsStringToFlags` / `keyspaceEventsFlagsToString`), and the
//! messages a command's event becomes: `__keyspace@<db>__:<key>` carrying the event name,
//! `__keyevent@<db>__:<event>` carrying the key, published as any PUBLISH is.

use std::sync::atomic::{AtomicU32, Ordering};

use bytes::{BufMut, Bytes, BytesMut};

use crate::clients::Hub;
use crate::pubsub::Kind;

/// `K`: `__keyspace@<db>__:<key>` messages.
pub const KEYSPACE: u32 = 1 << 0;
/// `E`: `__keyevent@<db>__:<event>` messages.
pub const KEYEVENT: u32 = 1 << 1;
/// `g`: DEL, EXPIRE, RENAME, ...
pub const GENERIC: u32 = 1 << 2;
/// `$`: string commands.
pub const STRING: u32 = 1 << 3;
/// `l`: list commands.
pub const LIST: u32 = 1 << 4;
/// `s`: set commands.
pub const SET: u32 = 1 << 5;
/// `h`: hash commands.
pub const HASH: u32 = 1 << 6;
/// `z`: sorted-set commands.
pub const ZSET: u32 = 1 << 7;
/// `x`: a key found expired.
pub const EXPIRED: u32 = 1 << 8;
/// `e`: a key evicted.
pub const EVICTED: u32 = 1 << 9;
/// `t`: stream commands.
pub const STREAM: u32 = 1 << 10;
/// `m`: a key missed (not part of `A`).
pub const KEY_MISS: u32 = 1 << 11;
/// `d`: module events.
pub const MODULE: u32 = 1 << 13;
/// `n`: a new key (not part of `A`).
pub const NEW: u32 = 1 << 14;
/// `A`: every class but `m` and `n`.
pub const ALL: u32 =
    GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// The server's `notify-keyspace-events` setting (off by default, as in Redis).
#[derive(Debug, Default)]
pub struct Notifications {
    flags: AtomicU32,
}

/// Parses a `notify-keyspace-events` value; `None` for a character that names no class
/// (Redis then refuses the CONFIG SET).
pub fn parse_flags(classes: &[u8]) -> Option<u32> {
    classes.iter().try_fold(0u32, |flags, c| {
        let class = match c {
            b'A' => ALL,
            b'g' => GENERIC,
            b'$' => STRING,
            b'l' => LIST,
            b's' => SET,
            b'h' => HASH,
            b'z' => ZSET,
            b'x' => EXPIRED,
            b'e' => EVICTED,
            b'K' => KEYSPACE,
            b'E' => KEYEVENT,
            b't' => STREAM,
            b'm' => KEY_MISS,
            b'd' => MODULE,
            b'n' => NEW,
            _ => return None,
        };
        Some(flags | class)
    })
}

/// Redis's refusal of a `notify-keyspace-events` value with an unknown class character.
const INVALID_CLASS: &str = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";

/// A `notify-keyspace-events` value as CONFIG GET shows it (CONFIG SET stores this text),
/// or Redis's refusal.
pub fn canonical(classes: &[u8]) -> Result<String, String> {
    parse_flags(classes)
        .map(flags_to_string)
        .ok_or_else(|| INVALID_CLASS.to_owned())
}

/// The flags as `CONFIG GET notify-keyspace-events` prints them.
pub fn flags_to_string(flags: u32) -> String {
    let mut out = String::new();
    if flags & ALL == ALL {
        out.push('A');
    } else {
        for (bit, c) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
            (NEW, 'n'),
        ] {
            if flags & bit != 0 {
                out.push(c);
            }
        }
    }
    for (bit, c) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if flags & bit != 0 {
            out.push(c);
        }
    }
    out
}

impl Notifications {
    /// Sets `notify-keyspace-events` from its text; an unknown class character is an error
    /// and leaves the setting as it was. (CONFIG SET calls this.)
    pub fn set_notify_keyspace_events(&self, classes: &str) -> Result<(), String> {
        let flags = parse_flags(classes.as_bytes()).ok_or_else(|| INVALID_CLASS.to_owned())?;
        self.flags.store(flags, Ordering::Relaxed);
        Ok(())
    }

    /// The setting now, as CONFIG GET prints it.
    pub fn get(&self) -> String {
        flags_to_string(self.flags.load(Ordering::Relaxed))
    }

    /// Whether events of `class` are published at all: a command checks this before it
    /// builds an event, so notifications cost one atomic load when off.
    pub fn enabled(&self, class: u32) -> bool {
        let flags = self.flags.load(Ordering::Relaxed);
        flags & class != 0 && flags & (KEYSPACE | KEYEVENT) != 0
    }
}

/// Publishes `event` on `key` of database `db` when its `class` is enabled: Redis's
/// `notifyKeyspaceEvent(type, event, key, dbid)`.
pub fn notify_keyspace_event(hub: &Hub, class: u32, event: &str, key: &[u8], db: i64) {
    if !hub.notifications.enabled(class) {
        return;
    }
    let flags = hub.notifications.flags.load(Ordering::Relaxed);
    let event_bytes = Bytes::copy_from_slice(event.as_bytes());
    let key = Bytes::copy_from_slice(key);
    if flags & KEYSPACE != 0 {
        let channel = channel("__keyspace@", db, &key);
        hub.pubsub
            .publish(Kind::Channel, &channel, &event_bytes, hub.pubsub_limit);
    }
    if flags & KEYEVENT != 0 {
        let channel = channel("__keyevent@", db, event.as_bytes());
        hub.pubsub
            .publish(Kind::Channel, &channel, &key, hub.pubsub_limit);
    }
}

fn channel(prefix: &str, db: i64, tail: &[u8]) -> Bytes {
    let db = db.to_string();
    let mut out = BytesMut::with_capacity(prefix.len() + db.len() + 3 + tail.len());
    out.put_slice(prefix.as_bytes());
    out.put_slice(db.as_bytes());
    out.put_slice(b"__:");
    out.put_slice(tail);
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_parse_and_print_as_redis_does() {
        assert_eq!(
            parse_flags(b"KEA").map(flags_to_string).as_deref(),
            Some("AKE")
        );
        assert_eq!(
            parse_flags(b"Elg").map(flags_to_string).as_deref(),
            Some("glE")
        );
        assert_eq!(
            parse_flags(b"Amn").map(flags_to_string).as_deref(),
            Some("Am")
        );
        assert_eq!(parse_flags(b"").map(flags_to_string).as_deref(), Some(""));
        assert_eq!(parse_flags(b"Kq"), None);
        assert_eq!(canonical(b"KA").as_deref(), Ok("AK"));
        assert_eq!(canonical(b"Ex$g").as_deref(), Ok("g$xE"));
        assert_eq!(canonical(b"Q"), Err(INVALID_CLASS.to_owned()));
        assert_eq!(canonical(b"").as_deref(), Ok(""));
    }
}
