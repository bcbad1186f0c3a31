//! Redis 7.0's RDB writer for one value (`rdbSaveObjectType` and `rdbSaveObject`): what DUMP
//! sends and what DEBUG OBJECT's `serializedlength` counts.
//!
//! The RDB form is rebuilt from what Redis would hold: strings saved as small integers when
//! they are canonical 32-bit ones, and LZF-compressed when longer than 20 bytes and LZF saves
//! more than 4 bytes; listpacks (small hashes and sorted sets, list nodes) and intsets laid
//! out byte for byte and saved as one string each; big hashes, sets and sorted sets element
//! by element (in our order, where Redis's is its hash table's: the same value, other bytes).
//!
//! Approximations: a list's nodes are packed from its head, as RPUSH fills them; a list built
//! by LPUSH, LINSERT or LREM may be split differently in Redis. Plain (huge-element) list
//! nodes and `list-compress-depth` are not modelled.

use std::collections::VecDeque;

use bytes::Bytes;

use super::{intset, listpack, lzf, Type};
use crate::commands::args::parse_i64;
use crate::db::Value;
use crate::stream::{same_fields, NodeView, Stream, StreamId};

/// `rdbSaveLen`.
pub fn len(out: &mut Vec<u8>, len: usize) {
    len64(out, len as u64);
}

/// `rdbSaveLen` of a 64-bit number (a count or a number a stream keeps as `uint64_t`).
fn len64(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if let Ok(n) = u32::try_from(n) {
        out.push(0x80);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// `rdbSaveRawString`: a canonical integer of at most 11 characters within 32 bits as 2, 3
/// or 5 bytes; more than 20 bytes LZF-compressed when that is shorter by more than 4; else a
/// length and the bytes.
pub fn string(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() <= 11 {
        if let Some(n) = parse_i64(s) {
            if integer(out, n) {
                return;
            }
        }
    }
    if s.len() > 20 {
        if let Some(packed) = lzf::compress(s, s.len() - 4) {
            out.push(0xc0 | super::ENC_LZF);
            len(out, packed.len());
            len(out, s.len());
            out.extend_from_slice(&packed);
            return;
        }
    }
    len(out, s.len());
    out.extend_from_slice(s);
}

/// `rdbEncodeInteger`: `n` in 1, 2 or 4 bytes after its marker, when it fits 32 bits.
fn integer(out: &mut Vec<u8>, n: i64) -> bool {
    if let Ok(n) = i8::try_from(n) {
        out.push(0xc0 | super::ENC_INT8);
        out.extend_from_slice(&n.to_le_bytes());
    } else if let Ok(n) = i16::try_from(n) {
        out.push(0xc0 | super::ENC_INT16);
        out.extend_from_slice(&n.to_le_bytes());
    } else if let Ok(n) = i32::try_from(n) {
        out.push(0xc0 | super::ENC_INT32);
        out.extend_from_slice(&n.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// The RDB type Redis saves `value` under, given its OBJECT ENCODING; `None` for a seed
/// value, which has no Redis form.
pub fn object_type(value: &Value, encoding: &str) -> Option<Type> {
    Some(match value {
        Value::Str(_) => Type::String,
        Value::List(_) => Type::ListQuicklist2,
        Value::Set(_) if encoding == "intset" => Type::SetIntset,
        Value::Set(_) => Type::Set,
        Value::Hash(_) if encoding == "listpack" => Type::HashListpack,
        Value::Hash(_) => Type::Hash,
        Value::ZSet(z) if z.is_listpack() => Type::ZSetListpack,
        Value::ZSet(_) => Type::ZSet2,
        Value::Stream(_) => Type::StreamListpacks2,
        Value::Seed(_) => return None,
    })
}

/// The nodes of a quicklist holding `list` with `list-max-listpack-size` -2 (8 KiB
/// listpacks), packed from the head: each node's element count and listpack size.
pub fn quicklist_nodes(list: &VecDeque<Bytes>) -> Vec<(usize, usize)> {
    const LIMIT: usize = 8192;
    const OVERHEAD: usize = 8;
    let mut nodes: Vec<(usize, usize)> = Vec::new();
    for element in list {
        let entry = listpack::entry_len(element);
        match nodes.last_mut() {
            Some((count, size)) if *size + element.len() + OVERHEAD <= LIMIT => {
                *count += 1;
                *size += entry;
            }
            _ => nodes.push((1, 7 + entry)),
        }
    }
    nodes
}

/// A list as `RDB_TYPE_LIST_QUICKLIST_2` with the given nodes (see [`quicklist_nodes`]):
/// their count, then each node's container (2, packed) and listpack as one string.
pub fn list(out: &mut Vec<u8>, list: &VecDeque<Bytes>, nodes: &[(usize, usize)]) {
    const PACKED: usize = 2;
    len(out, nodes.len());
    let mut rest = list.iter();
    for (count, _) in nodes {
        len(out, PACKED);
        let lp = listpack::encode(rest.by_ref().take(*count).map(|b| b.as_ref()));
        string(out, &lp);
    }
}

/// `rdbSaveObject` for `value`, whose OBJECT ENCODING is `encoding` (the body after the
/// type byte). Nothing for a seed value.
pub fn object(out: &mut Vec<u8>, value: &Value, encoding: &str) {
    let Some(kind) = object_type(value, encoding) else {
        return;
    };
    match (value, kind) {
        (Value::Str(s), _) => string(out, s),
        (Value::List(l), _) => list(out, l, &quicklist_nodes(l)),
        (Value::Set(set), Type::SetIntset) => {
            string(out, &intset::encode(set.iter().map(|m| m.as_ref())));
        }
        (Value::Set(set), _) => {
            len(out, set.len());
            for member in set {
                string(out, member);
            }
        }
        (Value::Hash(hash), Type::HashListpack) => {
            let lp = listpack::encode(hash.iter().flat_map(|(f, v)| [f.as_ref(), v.as_ref()]));
            string(out, &lp);
        }
        (Value::Hash(hash), _) => {
            len(out, hash.len());
            for (field, value) in hash {
                string(out, field);
                string(out, value);
            }
        }
        (Value::ZSet(zset), Type::ZSetListpack) => {
            let lp = crate::commands::zsets::scan::with_listpack_entries(zset, |items| {
                listpack::encode(items)
            });
            string(out, &lp);
        }
        (Value::ZSet(zset), _) => {
            // Greatest first, as Redis walks its skip list from the tail (so that loading
            // always inserts at the head).
            len(out, zset.len());
            for (member, score) in zset.iter_down_from(zset.len().saturating_sub(1)) {
                string(out, member);
                out.extend_from_slice(&score.to_le_bytes());
            }
        }
        (Value::Stream(s), _) => stream(out, s),
        (Value::Seed(_), _) => {}
    }
}

/// A stream as Redis 7.0 saves it (`RDB_TYPE_STREAM_LISTPACKS_2`): the nodes (each its
/// master ID as a 16-byte big-endian string and its listpack as a string), the length, last
/// ID, first ID, max deleted ID and entries added, then each group (name, last ID, entries
/// read, its PEL with delivery times and counts, its consumers with their seen times and
/// the IDs they own), groups and consumers in name order as Redis's radix trees keep them.
pub fn stream(out: &mut Vec<u8>, s: &Stream) {
    len(out, s.node_count() as usize);
    for node in s.nodes() {
        string(out, &node.master.encode());
        string(out, &node_listpack(&node));
    }
    len(out, s.len() as usize);
    let id = |out: &mut Vec<u8>, id: StreamId| {
        len64(out, id.ms);
        len64(out, id.seq);
    };
    id(out, s.last_id);
    id(out, s.first_id());
    id(out, s.max_deleted);
    len64(out, s.entries_added);
    len(out, s.groups.len());
    for (name, group) in &s.groups {
        string(out, name);
        id(out, group.last_id);
        // -1 (unknown) goes as the 64-bit length it is in C.
        len64(out, group.entries_read as u64);
        len(out, group.pel.len());
        for (pending, nack) in &group.pel {
            out.extend_from_slice(&pending.encode());
            out.extend_from_slice(&nack.delivery_time.to_le_bytes());
            len64(out, nack.delivery_count);
        }
        len(out, group.consumers.len());
        for (name, consumer) in &group.consumers {
            string(out, name);
            out.extend_from_slice(&consumer.seen_time.to_le_bytes());
            len(out, consumer.pel.len());
            for pending in &consumer.pel {
                out.extend_from_slice(&pending.encode());
            }
        }
    }
}

/// A node's listpack as `streamAppendItem` builds it: the master entry (live count, deleted
/// count, field count, field names, 0), then per entry its flags, ID deltas from the master
/// ID, the field count and names unless they are the master's (`SAMEFIELDS`), the values,
/// and how many elements the entry took. Deleted entries stay in place, flagged.
pub fn node_listpack(node: &NodeView<'_>) -> Vec<u8> {
    use crate::stream::{ENTRY_DELETED as DELETED, ENTRY_SAME_FIELDS as SAMEFIELDS};
    let mut entries: Vec<(StreamId, &[Bytes], bool)> = node
        .entries
        .clone()
        .map(|(id, f)| (*id, &f[..], false))
        .chain(node.tombstones.iter().map(|(id, f)| (*id, &f[..], true)))
        .collect();
    let live = entries.len() - node.tombstones.len();
    entries.sort_unstable_by_key(|e| e.0);
    let mut items: Vec<Bytes> = Vec::new();
    let int = |n: i64| Bytes::from(n.to_string());
    items.push(int(live as i64));
    items.push(int(node.tombstones.len() as i64));
    items.push(int(node.fields.len() as i64));
    items.extend(node.fields.iter().cloned());
    items.push(int(0));
    for (id, fields, deleted) in entries {
        let pairs = fields.len() / 2;
        let same = same_fields(node.fields, fields);
        let flags = if same { SAMEFIELDS } else { 0 } | if deleted { DELETED } else { 0 };
        items.push(int(flags));
        items.push(int(id.ms.wrapping_sub(node.master.ms) as i64));
        items.push(int(id.seq.wrapping_sub(node.master.seq) as i64));
        if same {
            items.extend(fields.iter().skip(1).step_by(2).cloned());
            items.push(int(pairs as i64 + 3));
        } else {
            items.push(int(pairs as i64));
            items.extend(fields.iter().cloned());
            items.push(int(2 * pairs as i64 + 4));
        }
    }
    listpack::encode(items.iter().map(|b| b.as_ref()))
}

/// The size of [`object`]'s output: `rdbSavedObjectLen`.
pub fn object_len(value: &Value, encoding: &str) -> usize {
    let mut out = Vec::new();
    object(&mut out, value, encoding);
    out.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string_len(s: &[u8]) -> usize {
        let mut out = Vec::new();
        string(&mut out, s);
        out.len()
    }

    #[test]
    fn strings_are_sized_as_redis_saves_them() {
        assert_eq!(string_len(b"1"), 2);
        assert_eq!(string_len(b"-200"), 3);
        assert_eq!(string_len(b"100000"), 5);
        assert_eq!(string_len(b"01"), 3);
        assert_eq!(string_len(b"hello"), 6);
        let packed = lzf::compress(&[b'a'; 100], 96).map_or(0, |p| p.len());
        assert_eq!(string_len(&[b'a'; 100]), 1 + 1 + 2 + packed);
    }

    #[test]
    fn long_strings_compress_as_redis_compresses_them_with_either_table() {
        // "0 1 4 9 16 ..." (i * i % 1000), cut to `n` bytes; serializedlength measured on
        // redis-server 7.0.15. 2000 bytes use the sparse table, 10000 the dense one.
        let text = |n: usize| {
            let mut s = Vec::new();
            let mut i = 0u64;
            while s.len() < n {
                s.extend_from_slice(format!("{} ", i * i % 1000).as_bytes());
                i += 1;
            }
            s.truncate(n);
            s
        };
        assert_eq!(string_len(&text(2000)), 1296);
        assert_eq!(string_len(&text(10000)), 3715);
    }
}
