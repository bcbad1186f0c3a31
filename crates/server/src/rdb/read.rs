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
