//! Redis 7.0's value encodings, as OBJECT ENCODING names them, and the limits that choose
//! them (`hash-max-listpack-entries`, `set-max-intset-entries`...).
//!
//! We store every value one way; the encoding Redis would use is derived from the value's
//! contents plus a mark ([`Converted`]) that writes leave where the contents alone do not say
//! (Redis converts a small encoding to a big one and never back; a string changed in place is
//! `raw`). Sorted sets keep their own flag (`ZSet::is_listpack`), because ZSCAN's output
//! depends on it.
//!
//! The limits belong to each server's settings; a command reads them through [`current`],
//! which the dispatcher points at its server's before running it.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::commands::args::parse_i64;
use crate::db::{Converted, Value};

/// Redis's defaults for the encoding limits.
pub const DEFAULT_HASH_MAX_LISTPACK_ENTRIES: u64 = 512;
/// See [`DEFAULT_HASH_MAX_LISTPACK_ENTRIES`].
pub const DEFAULT_HASH_MAX_LISTPACK_VALUE: u64 = 64;
/// See [`DEFAULT_HASH_MAX_LISTPACK_ENTRIES`].
pub const DEFAULT_SET_MAX_INTSET_ENTRIES: u64 = 512;
/// See [`DEFAULT_HASH_MAX_LISTPACK_ENTRIES`].
pub const DEFAULT_ZSET_MAX_LISTPACK_ENTRIES: u64 = 128;
/// See [`DEFAULT_HASH_MAX_LISTPACK_ENTRIES`].
pub const DEFAULT_ZSET_MAX_LISTPACK_VALUE: u64 = 64;

/// Redis's default `stream-node-max-entries`.
pub const DEFAULT_STREAM_NODE_MAX_ENTRIES: u64 = 100;
/// Redis's default `stream-node-max-bytes`.
pub const DEFAULT_STREAM_NODE_MAX_BYTES: u64 = 4096;

/// Longest string Redis stores `embstr` (its `OBJ_ENCODING_EMBSTR_SIZE_LIMIT`).
pub const EMBSTR_SIZE_LIMIT: usize = 44;

/// Longest string Redis tries as an integer (`tryObjectEncoding`: 20 characters).
pub const INT_ENCODING_MAX_LEN: usize = 20;

/// Integers below this are Redis's shared integer objects (`OBJ_SHARED_INTEGERS`), whose
/// OBJECT REFCOUNT is `INT_MAX`.
pub const SHARED_INTEGERS: i64 = 10_000;

/// One server's live encoding limits (in its settings; CONFIG SET writes them).
#[derive(Debug)]
pub struct Limits {
    hash_entries: AtomicU64,
    hash_value: AtomicU64,
    set_intset_entries: AtomicU64,
    zset_entries: AtomicU64,
    zset_value: AtomicU64,
    /// An LFU `maxmemory-policy`: keys count accesses instead of stamping times (see
    /// `crate::access`).
    lfu: std::sync::atomic::AtomicBool,
    lfu_log_factor: AtomicU64,
    lfu_decay_time: AtomicU64,
    stream_node_entries: AtomicU64,
    stream_node_bytes: AtomicU64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            hash_entries: AtomicU64::new(DEFAULT_HASH_MAX_LISTPACK_ENTRIES),
            hash_value: AtomicU64::new(DEFAULT_HASH_MAX_LISTPACK_VALUE),
            set_intset_entries: AtomicU64::new(DEFAULT_SET_MAX_INTSET_ENTRIES),
            zset_entries: AtomicU64::new(DEFAULT_ZSET_MAX_LISTPACK_ENTRIES),
            zset_value: AtomicU64::new(DEFAULT_ZSET_MAX_LISTPACK_VALUE),
            lfu: std::sync::atomic::AtomicBool::new(false),
            lfu_log_factor: AtomicU64::new(crate::access::DEFAULT_LFU_LOG_FACTOR),
            lfu_decay_time: AtomicU64::new(crate::access::DEFAULT_LFU_DECAY_TIME),
            stream_node_entries: AtomicU64::new(DEFAULT_STREAM_NODE_MAX_ENTRIES),
            stream_node_bytes: AtomicU64::new(DEFAULT_STREAM_NODE_MAX_BYTES),
        }
    }
}

fn load(a: &AtomicU64) -> usize {
    usize::try_from(a.load(Ordering::Relaxed)).unwrap_or(usize::MAX)
}

impl Limits {
    /// Takes a CONFIG SET value (already validated, canonical name) if it is one of ours.
    pub fn apply(&self, name: &str, value: Option<i64>) {
        let target = match name {
            "hash-max-listpack-entries" => &self.hash_entries,
            "hash-max-listpack-value" => &self.hash_value,
            "set-max-intset-entries" => &self.set_intset_entries,
            "zset-max-listpack-entries" => &self.zset_entries,
            "zset-max-listpack-value" => &self.zset_value,
            "lfu-log-factor" => &self.lfu_log_factor,
            "lfu-decay-time" => &self.lfu_decay_time,
            "stream-node-max-entries" => &self.stream_node_entries,
            "stream-node-max-bytes" => &self.stream_node_bytes,
            _ => return,
        };
        if let Some(n) = value.and_then(|n| u64::try_from(n).ok()) {
            target.store(n, Ordering::Relaxed);
        }
    }

    /// Takes a new `maxmemory-policy`: whether it is an LFU one.
    pub fn set_policy(&self, policy: &str) {
        self.lfu.store(policy.ends_with("-lfu"), Ordering::Relaxed);
    }

    /// Makes these the limits the current thread's command sees (see [`current`]). The
    /// dispatcher calls it before each command: five relaxed loads.
    pub fn enter(&self) {
        CURRENT.with(|c| {
            c.set(Snapshot {
                hash_entries: load(&self.hash_entries),
                hash_value: load(&self.hash_value),
                set_intset_entries: load(&self.set_intset_entries),
                zset_entries: load(&self.zset_entries),
                zset_value: load(&self.zset_value),
                lfu: self.lfu.load(Ordering::Relaxed),
                lfu_log_factor: load(&self.lfu_log_factor),
                lfu_decay_time: load(&self.lfu_decay_time),
                stream_node_entries: load(&self.stream_node_entries),
                stream_node_bytes: load(&self.stream_node_bytes),
            })
        });
    }
}

/// The limits a running command sees, copied from its server's [`Limits`].
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    hash_entries: usize,
    hash_value: usize,
    set_intset_entries: usize,
    zset_entries: usize,
    zset_value: usize,
    lfu: bool,
    lfu_log_factor: usize,
    lfu_decay_time: usize,
    stream_node_entries: usize,
    stream_node_bytes: usize,
}

impl Snapshot {
    /// Redis's defaults.
    const DEFAULT: Snapshot = Snapshot {
        hash_entries: DEFAULT_HASH_MAX_LISTPACK_ENTRIES as usize,
        hash_value: DEFAULT_HASH_MAX_LISTPACK_VALUE as usize,
        set_intset_entries: DEFAULT_SET_MAX_INTSET_ENTRIES as usize,
        zset_entries: DEFAULT_ZSET_MAX_LISTPACK_ENTRIES as usize,
        zset_value: DEFAULT_ZSET_MAX_LISTPACK_VALUE as usize,
        lfu: false,
        lfu_log_factor: crate::access::DEFAULT_LFU_LOG_FACTOR as usize,
        lfu_decay_time: crate::access::DEFAULT_LFU_DECAY_TIME as usize,
        stream_node_entries: DEFAULT_STREAM_NODE_MAX_ENTRIES as usize,
        stream_node_bytes: DEFAULT_STREAM_NODE_MAX_BYTES as usize,
    };

    /// `hash-max-listpack-entries`.
    pub fn hash_entries(&self) -> usize {
        self.hash_entries
    }
    /// `hash-max-listpack-value`.
    pub fn hash_value(&self) -> usize {
        self.hash_value
    }
    /// `set-max-intset-entries`.
    pub fn set_intset_entries(&self) -> usize {
        self.set_intset_entries
    }
    /// `zset-max-listpack-entries`.
    pub fn zset_entries(&self) -> usize {
        self.zset_entries
    }
    /// `zset-max-listpack-value`.
    pub fn zset_value(&self) -> usize {
        self.zset_value
    }
    /// Whether `maxmemory-policy` is an LFU one.
    pub fn lfu(&self) -> bool {
        self.lfu
    }
    /// `lfu-log-factor`.
    pub fn lfu_log_factor(&self) -> usize {
        self.lfu_log_factor
    }
    /// `stream-node-max-entries`.
    pub fn stream_node_entries(&self) -> usize {
        self.stream_node_entries
    }
    /// `stream-node-max-bytes`.
    pub fn stream_node_bytes(&self) -> usize {
        self.stream_node_bytes
    }
    /// `lfu-decay-time` (minutes).
    pub fn lfu_decay_time(&self) -> usize {
        self.lfu_decay_time
    }
}

thread_local! {
    /// The limits of the server whose command runs on this thread. Per thread rather than
    /// passed down, because the sorted set converts inside `ZSet::insert`, which many
    /// commands call without a server at hand; per server rather than per process, because
    /// one process may run several servers (the tests do) with different settings.
    static CURRENT: Cell<Snapshot> = const { Cell::new(Snapshot::DEFAULT) };
}

/// The encoding limits of the command running on this thread (Redis's defaults outside one).
pub fn current() -> Snapshot {
    CURRENT.with(Cell::get)
}

/// Whether Redis would keep `member` in an intset (its `isSdsRepresentableAsLongLong`).
pub fn is_intset_member(member: &[u8]) -> bool {
    parse_i64(member).is_some()
}

/// The encoding Redis gives a string it stores with `tryObjectEncoding` (SET, MSET, APPEND
/// to a new key...): `int` for a canonical integer of at most 20 characters, `embstr` up to
/// 44 bytes, else `raw`.
pub fn string_encoding(s: &[u8]) -> &'static str {
    if s.len() <= INT_ENCODING_MAX_LEN && parse_i64(s).is_some() {
        "int"
    } else {
        sized_string_encoding(s)
    }
}

/// `embstr` or `raw` by length alone (a string Redis never tried as an integer).
fn sized_string_encoding(s: &[u8]) -> &'static str {
    if s.len() <= EMBSTR_SIZE_LIMIT {
        "embstr"
    } else {
        "raw"
    }
}

/// Whether a hash's contents need Redis's `hashtable` encoding. O(n): for OBJECT ENCODING and
/// stored results only, never on every write.
pub fn hash_is_big<'a>(len: usize, mut pairs: impl Iterator<Item = (&'a [u8], &'a [u8])>) -> bool {
    let limit = current().hash_value();
    len > current().hash_entries() || pairs.any(|(f, v)| f.len() > limit || v.len() > limit)
}

/// Whether a set's contents need Redis's `hashtable` encoding (more members than
/// `set-max-intset-entries`, or one that is not an integer). O(n), as [`hash_is_big`].
pub fn set_is_big<'a>(len: usize, mut members: impl Iterator<Item = &'a [u8]>) -> bool {
    len > current().set_intset_entries() || members.any(|m| !is_intset_member(m))
}

/// OBJECT ENCODING's answer for `value` carrying `mark`. O(n) for hashes and sets (a scan of
/// the contents, unless marked): OBJECT is an introspection command, never on a hot path.
pub fn encoding_name(value: &Value, mark: Option<Converted>) -> &'static str {
    let big = mark == Some(Converted::Big);
    match value {
        Value::Str(s) => match mark {
            Some(Converted::Raw) => "raw",
            Some(Converted::NotInt) => sized_string_encoding(s),
            _ => string_encoding(s),
        },
        Value::List(_) => "quicklist",
        Value::Hash(h) => {
            let pairs = h.iter().map(|(f, v)| (f.as_ref(), v.as_ref()));
            if big || hash_is_big(h.len(), pairs) {
                "hashtable"
            } else {
                "listpack"
            }
        }
        Value::Set(s) => {
            if big || set_is_big(s.len(), s.iter().map(|m| m.as_ref())) {
                "hashtable"
            } else {
                "intset"
            }
        }
        Value::ZSet(z) => z.encoding(),
        Value::Stream(_) => "stream",
        // Seed values have no Redis counterpart; they are stored as they arrived.
        Value::Seed(_) => "raw",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn strings_are_int_embstr_or_raw_as_redis_decides() {
        assert_eq!(string_encoding(b"12345"), "int");
        assert_eq!(string_encoding(b"-9223372036854775808"), "int");
        // Leading zeros, a plus sign, spaces and overflow are not canonical integers.
        assert_eq!(string_encoding(b"012"), "embstr");
        assert_eq!(string_encoding(b"+1"), "embstr");
        assert_eq!(string_encoding(b" 1"), "embstr");
        assert_eq!(string_encoding(b"9223372036854775808"), "embstr");
        assert_eq!(string_encoding(&[b'a'; 44]), "embstr");
        assert_eq!(string_encoding(&[b'a'; 45]), "raw");
        let one = Value::Str(Bytes::from_static(b"1"));
        assert_eq!(encoding_name(&one, Some(Converted::Raw)), "raw");
        assert_eq!(encoding_name(&one, Some(Converted::NotInt)), "embstr");
    }

    #[test]
    fn a_set_of_integers_is_an_intset_until_a_word_joins() {
        let mut set = indexmap::IndexSet::new();
        set.insert(Bytes::from_static(b"1"));
        set.insert(Bytes::from_static(b"-2"));
        assert_eq!(encoding_name(&Value::Set(set.clone()), None), "intset");
        set.insert(Bytes::from_static(b"a"));
        assert_eq!(encoding_name(&Value::Set(set.clone()), None), "hashtable");
        set.shift_remove(b"a".as_slice());
        // Only the mark a write leaves keeps it a hash table once the word is gone.
        assert_eq!(encoding_name(&Value::Set(set.clone()), None), "intset");
        assert_eq!(
            encoding_name(&Value::Set(set), Some(Converted::Big)),
            "hashtable"
        );
    }
}
