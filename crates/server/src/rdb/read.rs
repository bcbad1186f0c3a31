//! Redis's RDB reader for one value (`rdbLoadObjectType` and `rdbLoadObject`): what RESTORE
//! takes, from Redis 7.0 (listpacks) and from older versions (ziplists, linked lists, string
//! scores). The payload is hostile: every length is checked against the bytes present before
//! anything is allocated for it, and a value that would break our invariants (duplicate
//! members, a NaN score, an empty collection) is refused as Redis refuses it.

use std::collections::VecDeque;

use bytes::Bytes;
use indexmap::{IndexMap, IndexSet};

use super::{intset, listpack, lzf, ziplist, Corrupt, Type};
use crate::db::Value;
use crate::stream::{Consumer, Group, Nack, Stream, StreamId};
use crate::zset::ZSet;

/// A cursor over a payload.
pub struct Reader<'a> {
    data: &'a [u8],
    at: usize,
    /// The longest string an LZF record may unpack to (see [`Reader::max_string`]).
    max_string: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `data`.
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader {
            data,
            at: 0,
            max_string: super::DEFAULT_MAX_STRING,
        }
    }

    /// Caps what one LZF-compressed string may unpack to: LZF expands up to ~130 times, so a
    /// payload of a few MB could otherwise ask for GBs. The server passes its
    /// `proto-max-bulk-len` (no string a client could send is longer); a longer one is
    /// corrupt data for this server.
    pub fn max_string(mut self, limit: usize) -> Reader<'a> {
        self.max_string = limit;
        self
    }

    /// Bytes not yet read.
    fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.at)
    }

    /// How many of a collection's `declared` elements to make room for before reading them:
    /// at most one per byte left, and at most [`PREALLOCATE_MAX`] (an element costs a hash
    /// table far more than the byte or two it takes in the payload, so a hostile count must
    /// not size the table; growth takes care of the rest).
    fn preallocation(&self, declared: usize) -> usize {
        declared.min(self.remaining()).min(PREALLOCATE_MAX)
    }

    /// How far it has read.
    pub fn position(&self) -> usize {
        self.at
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize) -> Result<(), Corrupt> {
        self.take(n).map(|_| ())
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Corrupt> {
        let end = self.at.checked_add(n).ok_or(Corrupt)?;
        let bytes = self.data.get(self.at..end).ok_or(Corrupt)?;
        self.at = end;
        Ok(bytes)
    }

    /// The next byte.
    pub fn byte(&mut self) -> Result<u8, Corrupt> {
        self.take(1).map(|b| b.first().copied().unwrap_or(0))
    }

    /// `rdbLoadLen`: a length, or (`Err(encoding)` inside `Ok`) the marker of an encoded
    /// string.
    fn len_or_encoding(&mut self) -> Result<Result<usize, u8>, Corrupt> {
        let first = self.byte()?;
        let n = match first >> 6 {
            0 => u64::from(first & 0x3f),
            1 => (u64::from(first & 0x3f) << 8) | u64::from(self.byte()?),
            3 => return Ok(Err(first & 0x3f)),
            _ if first == 0x80 => {
                let b = self.take(4)?;
                u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            }
            _ if first == 0x81 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(self.take(8)?);
                u64::from_be_bytes(b)
            }
            _ => return Err(Corrupt),
        };
        Ok(Ok(usize::try_from(n).map_err(|_| Corrupt)?))
    }

    /// A plain length (an encoded-string marker here is corrupt).
    pub fn len(&mut self) -> Result<usize, Corrupt> {
        self.len_or_encoding()?.map_err(|_| Corrupt)
    }

    /// `rdbGenericLoadStringObject`: a string saved raw, as a small integer, or LZF-packed.
    pub fn string(&mut self) -> Result<Bytes, Corrupt> {
        match self.len_or_encoding()? {
            Ok(n) => Ok(Bytes::copy_from_slice(self.take(n)?)),
            Err(super::ENC_INT8) => {
                let b = self.take(1)?;
                Ok(decimal(i64::from(b[0] as i8)))
            }
            Err(super::ENC_INT16) => {
                let b = self.take(2)?;
                Ok(decimal(i64::from(i16::from_le_bytes([b[0], b[1]]))))
            }
            Err(super::ENC_INT32) => {
                let b = self.take(4)?;
                Ok(decimal(i64::from(i32::from_le_bytes([
                    b[0], b[1], b[2], b[3],
                ]))))
            }
            Err(super::ENC_LZF) => {
                let packed_len = self.len()?;
                let plain_len = self.len()?;
                if plain_len > self.max_string {
                    return Err(Corrupt);
                }
                let packed = self.take(packed_len)?;
                lzf::decompress(packed, plain_len)
                    .map(Bytes::from)
                    .map_err(|_| Corrupt)
            }
            Err(_) => Err(Corrupt),
        }
    }

    /// A ZSET_2 score: a little-endian IEEE double.
    fn binary_double(&mut self) -> Result<f64, Corrupt> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(f64::from_le_bytes(b))
    }

    /// An old ZSET score (`rdbLoadDoubleValue`): a length byte (253 NaN, 254 +inf, 255 -inf)
    /// and that many characters of text.
    fn text_double(&mut self) -> Result<f64, Corrupt> {
        match self.byte()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let text = self.take(usize::from(n))?;
                crate::zset::parse_score(text).ok_or(Corrupt)
            }
        }
    }

    /// `rdbLoadObjectType`.
    pub fn object_type(&mut self) -> Result<Type, Corrupt> {
        Type::from_byte(self.byte()?).ok_or(Corrupt)
    }

    /// `rdbLoadObject` for a value of type `kind`.
    pub fn object(&mut self, kind: Type) -> Result<Value, Corrupt> {
        match kind {
            Type::String => Ok(Value::Str(self.string()?)),
            Type::List => {
                let n = self.len()?;
                let mut list = VecDeque::with_capacity(self.preallocation(n));
                for _ in 0..n {
                    list.push_back(self.string()?);
                }
                non_empty_list(list)
            }
            Type::ListZiplist => non_empty_list(ziplist::decode(&self.string()?)?.into()),
            Type::ListQuicklist | Type::ListQuicklist2 => {
                let nodes = self.len()?;
                let mut list = VecDeque::new();
                for _ in 0..nodes {
                    let container = if kind == Type::ListQuicklist2 {
                        self.len()?
                    } else {
                        PACKED
                    };
                    let data = self.string()?;
                    match (kind, container) {
                        // An empty node is refused (Redis: `encoded_len == 0`).
                        _ if data.is_empty() => return Err(Corrupt),
                        (Type::ListQuicklist2, PLAIN) => list.push_back(data),
                        (Type::ListQuicklist2, PACKED) => list.extend(listpack::decode(&data)?),
                        (Type::ListQuicklist, _) => list.extend(ziplist::decode(&data)?),
                        _ => return Err(Corrupt),
                    }
                }
                non_empty_list(list)
            }
            Type::Set => {
                let n = self.len()?;
                let mut set = IndexSet::with_capacity(self.preallocation(n));
                for _ in 0..n {
                    if !set.insert(self.string()?) {
                        return Err(Corrupt);
                    }
                }
                non_empty(Value::Set(set))
            }
            Type::SetIntset => {
                let members = intset::decode(&self.string()?)?;
                non_empty(Value::Set(members.into_iter().collect()))
            }
            Type::Hash => {
                let n = self.len()?;
                let mut hash = IndexMap::with_capacity(self.preallocation(n));
                for _ in 0..n {
                    let field = self.string()?;
                    let value = self.string()?;
                    if hash.insert(field, value).is_some() {
                        return Err(Corrupt);
                    }
                }
                non_empty(Value::Hash(hash))
            }
            Type::HashListpack | Type::HashZiplist => {
                let blob = self.string()?;
                let items = if kind == Type::HashListpack {
                    listpack::decode(&blob)?
                } else {
                    ziplist::decode(&blob)?
                };
                hash_from_pairs(items)
            }
            Type::ZSet | Type::ZSet2 => {
                let n = self.len()?;
                let mut zset = ZSet::new();
                zset.set_listpack(false);
                for _ in 0..n {
                    let member = self.string()?;
                    let score = if kind == Type::ZSet2 {
                        self.binary_double()?
                    } else {
                        self.text_double()?
                    };
                    if score.is_nan() || zset.insert(member, score).is_some() {
                        return Err(Corrupt);
                    }
                }
                zset.settle_encoding();
                non_empty(Value::ZSet(zset))
            }
            Type::StreamListpacks | Type::StreamListpacks2 | Type::StreamListpacks3 => {
                Ok(Value::Stream(Box::new(self.stream(kind)?)))
            }
            Type::ZSetListpack | Type::ZSetZiplist => {
                let blob = self.string()?;
                let items = if kind == Type::ZSetListpack {
                    listpack::decode(&blob)?
                } else {
                    ziplist::decode(&blob)?
                };
                if !items.len().is_multiple_of(2) {
                    return Err(Corrupt);
                }
                let mut zset = ZSet::new();
                zset.set_listpack(false);
                let mut items = items.into_iter();
                while let (Some(member), Some(score)) = (items.next(), items.next()) {
                    let score = crate::zset::parse_score(&score).ok_or(Corrupt)?;
                    if score.is_nan() || zset.insert(member, score).is_some() {
                        return Err(Corrupt);
                    }
                }
                zset.settle_encoding();
                non_empty(Value::ZSet(zset))
            }
        }
    }
}

impl Reader<'_> {
    /// A 64-bit `rdbLoadLen`.
    fn len64(&mut self) -> Result<u64, Corrupt> {
        Ok(self.len()? as u64)
    }

    fn id(&mut self) -> Result<StreamId, Corrupt> {
        Ok(StreamId::new(self.len64()?, self.len64()?))
    }

    /// A raw 128-bit big-endian ID (PEL entries).
    fn raw_id(&mut self) -> Result<StreamId, Corrupt> {
        let mut b = [0u8; 16];
        b.copy_from_slice(self.take(16)?);
        Ok(StreamId::decode(&b))
    }

    /// `rdbLoadMillisecondTime`: 8 bytes, little-endian.
    fn millis(&mut self) -> Result<i64, Corrupt> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(i64::from_le_bytes(b))
    }

    /// A stream (`RDB_TYPE_STREAM_LISTPACKS`, `_2` or `_3`), checked as Redis's deep
    /// sanitization checks it and more: every node listpack well formed and laid out as a
    /// stream node (`streamValidateListpackIntegrity`), node keys 16 bytes, IDs rising
    /// across the whole stream, the length and the counts of each node matching the entries
    /// present, the last ID not below any entry, no repeated group, consumer or PEL entry,
    /// and every consumer's pending ID in its group's PEL, owned by no other consumer.
    fn stream(&mut self, kind: Type) -> Result<Stream, Corrupt> {
        let mut stream = Stream::new();
        let nodes = self.len()?;
        let mut prev: Option<StreamId> = None;
        for _ in 0..nodes {
            let key = self.string()?;
            let key = <[u8; 16]>::try_from(key.as_ref()).map_err(|_| Corrupt)?;
            let master = StreamId::decode(&key);
            let lp = self.string()?;
            let node = stream_node(master, &lp, &mut prev)?;
            stream.load_node(master, node.fields, node.tombstones, lp.len(), node.live);
        }
        let length = self.len64()?;
        stream.last_id = self.id()?;
        if kind == Type::StreamListpacks {
            stream.entries_added = length;
        } else {
            // The recorded first ID is ours to derive from the entries.
            self.id()?;
            stream.max_deleted = self.id()?;
            stream.entries_added = self.len64()?;
        }
        if length != stream.len()
            || prev.is_some_and(|last| last > stream.last_id)
            || stream.entries_added < length
        {
            return Err(Corrupt);
        }
        let groups = self.len()?;
        for _ in 0..groups {
            let name = self.string()?;
            let last_id = self.id()?;
            let entries_read = if kind == Type::StreamListpacks {
                stream.estimate_distance(last_id)
            } else {
                self.len64()? as i64
            };
            let mut group = Group {
                last_id,
                entries_read,
                ..Group::default()
            };
            for _ in 0..self.len()? {
                let id = self.raw_id()?;
                let nack = Nack {
                    delivery_time: self.millis()?,
                    delivery_count: self.len64()?,
                    consumer: None,
                };
                if group.pel.insert(id, nack).is_some() {
                    return Err(Corrupt);
                }
            }
            for _ in 0..self.len()? {
                let cname = self.string()?;
                let mut consumer = Consumer {
                    seen_time: self.millis()?,
                    ..Consumer::default()
                };
                if kind == Type::StreamListpacks3 {
                    // Redis 7.2's active time: this server keeps the seen time only.
                    self.millis()?;
                }
                for _ in 0..self.len()? {
                    let id = self.raw_id()?;
                    let nack = group.pel.get_mut(&id).ok_or(Corrupt)?;
                    if nack.consumer.is_some() || !consumer.pel.insert(id) {
                        return Err(Corrupt);
                    }
                    nack.consumer = Some(cname.clone());
                }
                if group.consumers.insert(cname, consumer).is_some() {
                    return Err(Corrupt);
                }
            }
            // A pending entry no consumer owns (Redis's deep check: "Stream CG PEL entry
            // without consumer").
            if group.pel.values().any(|nack| nack.consumer.is_none()) {
                return Err(Corrupt);
            }
            if stream.groups.insert(name, group).is_some() {
                return Err(Corrupt);
            }
        }
        Ok(stream)
    }
}

/// A stream node read from its listpack.
struct StreamNode {
    fields: Box<[Bytes]>,
    tombstones: std::collections::BTreeMap<StreamId, Box<[Bytes]>>,
    live: Vec<(StreamId, Box<[Bytes]>)>,
}

/// The entries of the node listpack `lp` keyed `master`, checked (see [`Reader::stream`]);
/// `prev` is the last ID seen before it (deleted entries included) and is moved on.
fn stream_node(
    master: StreamId,
    lp: &[u8],
    prev: &mut Option<StreamId>,
) -> Result<StreamNode, Corrupt> {
    use crate::stream::{ENTRY_DELETED as DELETED, ENTRY_SAME_FIELDS as SAMEFIELDS};
    if prev.is_some_and(|p| master <= p) {
        return Err(Corrupt);
    }
    let items = listpack::decode(lp)?;
    let mut items = items.into_iter();
    let int = |items: &mut std::vec::IntoIter<Bytes>| -> Result<i64, Corrupt> {
        items
            .next()
            .and_then(|b| crate::commands::args::parse_i64(&b))
            .ok_or(Corrupt)
    };
    let count = u64::try_from(int(&mut items)?).map_err(|_| Corrupt)?;
    let deleted = u64::try_from(int(&mut items)?).map_err(|_| Corrupt)?;
    let master_fields = usize::try_from(int(&mut items)?).map_err(|_| Corrupt)?;
    if master_fields > items.len() {
        return Err(Corrupt);
    }
    let fields: Box<[Bytes]> = items.by_ref().take(master_fields).collect();
    if int(&mut items)? != 0 {
        return Err(Corrupt);
    }
    let total = count.checked_add(deleted).ok_or(Corrupt)?;
    let mut live = Vec::new();
    let mut tombstones = std::collections::BTreeMap::new();
    while items.len() > 0 {
        let flags = int(&mut items)?;
        if flags & !(DELETED | SAMEFIELDS) != 0 {
            return Err(Corrupt);
        }
        let ms = int(&mut items)?;
        let seq = int(&mut items)?;
        let id = StreamId::new(
            master.ms.wrapping_add(ms as u64),
            master.seq.wrapping_add(seq as u64),
        );
        if id < master || prev.is_some_and(|p| id <= p) {
            return Err(Corrupt);
        }
        *prev = Some(id);
        let (entry, taken): (Box<[Bytes]>, i64) = if flags & SAMEFIELDS != 0 {
            if master_fields > items.len() {
                return Err(Corrupt);
            }
            let values = items.by_ref().take(master_fields);
            let entry = fields
                .iter()
                .cloned()
                .zip(values)
                .flat_map(|(f, v)| [f, v])
                .collect();
            (entry, master_fields as i64 + 3)
        } else {
            let n = usize::try_from(int(&mut items)?).map_err(|_| Corrupt)?;
            let n2 = n.checked_mul(2).ok_or(Corrupt)?;
            if n2 > items.len() {
                return Err(Corrupt);
            }
            (items.by_ref().take(n2).collect(), n as i64 * 2 + 4)
        };
        if int(&mut items)? != taken {
            return Err(Corrupt);
        }
        if flags & DELETED != 0 {
            tombstones.insert(id, entry);
        } else {
            live.push((id, entry));
        }
        if live.len() as u64 + tombstones.len() as u64 > total {
            return Err(Corrupt);
        }
    }
    if live.len() as u64 != count || tombstones.len() as u64 != deleted || total == 0 {
        return Err(Corrupt);
    }
    Ok(StreamNode {
        fields,
        tombstones,
        live,
    })
}

/// Most elements a collection is given room for before they are read (see
/// [`Reader::preallocation`]).
pub const PREALLOCATE_MAX: usize = 4096;

/// Quicklist node containers.
const PLAIN: usize = 1;
const PACKED: usize = 2;

fn decimal(n: i64) -> Bytes {
    Bytes::from(itoa::Buffer::new().format(n).as_bytes().to_vec())
}

fn non_empty_list(list: VecDeque<Bytes>) -> Result<Value, Corrupt> {
    non_empty(Value::List(list))
}

/// Redis refuses an empty collection (`RDB_LOAD_ERR_EMPTY_KEY`): no key holds one.
fn non_empty(value: Value) -> Result<Value, Corrupt> {
    let empty = match &value {
        Value::List(l) => l.is_empty(),
        Value::Set(s) => s.is_empty(),
        Value::Hash(h) => h.is_empty(),
        Value::ZSet(z) => z.is_empty(),
        Value::Str(_) | Value::Stream(_) | Value::Seed(_) => false,
    };
    if empty {
        Err(Corrupt)
    } else {
        Ok(value)
    }
}

/// A hash from field, value, field, value...: an odd count or a repeated field is corrupt.
fn hash_from_pairs(items: Vec<Bytes>) -> Result<Value, Corrupt> {
    if !items.len().is_multiple_of(2) {
        return Err(Corrupt);
    }
    let mut hash = IndexMap::with_capacity(items.len() / 2);
    let mut items = items.into_iter();
    while let (Some(field), Some(value)) = (items.next(), items.next()) {
        if hash.insert(field, value).is_some() {
            return Err(Corrupt);
        }
    }
    non_empty(Value::Hash(hash))
}
