//! Redis's RDB serialization of values (RDB version 10, Redis 7.0): the payloads of DUMP
//! and RESTORE, byte-compatible with redis-server both ways, and the sizes DEBUG OBJECT
//! reports.
//!
//! A DUMP payload is a value's type byte and body ([`write`]), then the RDB version (u16 LE)
//! and a CRC-64 (Jones, as Redis's `crc64.c`; u64 LE) of everything before it. RESTORE checks
//! both ([`verify`]) before reading the value ([`read`]), which takes what Redis 7.0 writes
//! and what older versions wrote (ziplists, linked lists, text scores).
//!
//! Whole files (the keyspace, expiry and auxiliary records around the values) are [`file`]'s.
//! Streams are written as Redis 7.0 writes them (type 19) and read from types 15, 19 and 21.
//! Not here: module values (RESTORE of one is `Bad data format`, a file holding one does not
//! load: this server has no such type).

pub mod file;
pub mod functions;
pub mod intset;
pub mod listpack;
pub mod lzf;
pub mod read;
pub mod write;
pub mod ziplist;

use crate::db::Value;

/// The RDB version this server writes and the newest it reads (Redis 7.0's `RDB_VERSION`).
pub const RDB_VERSION: u16 = 10;

/// The longest string a reader unpacks unless told otherwise ([`read::Reader::max_string`]):
/// Redis's default `proto-max-bulk-len`, 512 MiB.
pub const DEFAULT_MAX_STRING: usize = 512 * 1024 * 1024;

/// Encoded-string markers (the low bits after a `11` length prefix).
pub const ENC_INT8: u8 = 0;
/// See [`ENC_INT8`].
pub const ENC_INT16: u8 = 1;
/// See [`ENC_INT8`].
pub const ENC_INT32: u8 = 2;
/// See [`ENC_INT8`].
pub const ENC_LZF: u8 = 3;

/// A payload or blob that is not well formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

impl From<lzf::Corrupt> for Corrupt {
    fn from(_: lzf::Corrupt) -> Corrupt {
        Corrupt
    }
}
impl From<listpack::Corrupt> for Corrupt {
    fn from(_: listpack::Corrupt) -> Corrupt {
        Corrupt
    }
}
impl From<ziplist::Corrupt> for Corrupt {
    fn from(_: ziplist::Corrupt) -> Corrupt {
        Corrupt
    }
}
impl From<intset::Corrupt> for Corrupt {
    fn from(_: intset::Corrupt) -> Corrupt {
        Corrupt
    }
}

/// The RDB object types this server reads (`RDB_TYPE_*`); it writes the Redis 7.0 ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// 0.
    String,
    /// 1: a linked list of strings (before Redis 3.2).
    List,
    /// 2: a hash-table set.
    Set,
    /// 3: a sorted set with text scores (before Redis 4.0? RDB version 7).
    ZSet,
    /// 4: a hash-table hash.
    Hash,
    /// 5: a skip-list sorted set with binary scores.
    ZSet2,
    /// 10: a small list as one ziplist.
    ListZiplist,
    /// 11: an intset.
    SetIntset,
    /// 12: a small sorted set as a ziplist.
    ZSetZiplist,
    /// 13: a small hash as a ziplist.
    HashZiplist,
    /// 14: a quicklist of ziplists (Redis 3.2 to 6.2).
    ListQuicklist,
    /// 16: a small hash as a listpack (Redis 7.0).
    HashListpack,
    /// 17: a small sorted set as a listpack (Redis 7.0).
    ZSetListpack,
    /// 18: a quicklist of listpacks and plain nodes (Redis 7.0).
    ListQuicklist2,
    /// 15: a stream (Redis 5.0 to 6.2): no first ID, max deleted ID, entries added or
    /// groups' entries read.
    StreamListpacks,
    /// 19: a stream (Redis 7.0).
    StreamListpacks2,
    /// 21: a stream (Redis 7.2): consumers also have an active time.
    StreamListpacks3,
}

impl Type {
    /// The type byte.
    pub fn byte(self) -> u8 {
        match self {
            Type::String => 0,
            Type::List => 1,
            Type::Set => 2,
            Type::ZSet => 3,
            Type::Hash => 4,
            Type::ZSet2 => 5,
            Type::ListZiplist => 10,
            Type::SetIntset => 11,
            Type::ZSetZiplist => 12,
            Type::HashZiplist => 13,
            Type::ListQuicklist => 14,
            Type::HashListpack => 16,
            Type::ZSetListpack => 17,
            Type::ListQuicklist2 => 18,
            Type::StreamListpacks => 15,
            Type::StreamListpacks2 => 19,
            Type::StreamListpacks3 => 21,
        }
    }

    /// The type a byte names, if we read it (not zipmaps, streams or modules).
    pub fn from_byte(byte: u8) -> Option<Type> {
        Some(match byte {
            0 => Type::String,
            1 => Type::List,
            2 => Type::Set,
            3 => Type::ZSet,
            4 => Type::Hash,
            5 => Type::ZSet2,
            10 => Type::ListZiplist,
            11 => Type::SetIntset,
            12 => Type::ZSetZiplist,
            13 => Type::HashZiplist,
            14 => Type::ListQuicklist,
            16 => Type::HashListpack,
            17 => Type::ZSetListpack,
            18 => Type::ListQuicklist2,
            15 => Type::StreamListpacks,
            19 => Type::StreamListpacks2,
            21 => Type::StreamListpacks3,
            _ => return None,
        })
    }
}

/// Redis's CRC-64 (`crc64.c`: Jones polynomial, reflected, no final xor).
pub fn crc64(data: &[u8]) -> u64 {
    const CRC: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);
    CRC.checksum(data)
}

/// DUMP's payload for `value` (OBJECT ENCODING `encoding`): type, body, version, CRC-64.
/// `None` for a seed value, which has no Redis form.
pub fn dump(value: &Value, encoding: &str) -> Option<Vec<u8>> {
    let kind = write::object_type(value, encoding)?;
    let mut out = vec![kind.byte()];
    write::object(&mut out, value, encoding);
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Some(out)
}

/// `verifyDumpPayload`: at least the 10-byte footer, a version this server reads, and a CRC
/// that matches.
pub fn verify(payload: &[u8]) -> bool {
    let Some(crc_at) = payload.len().checked_sub(8) else {
        return false;
    };
    let (checked, crc) = payload.split_at(crc_at);
    let version = checked
        .get(crc_at.saturating_sub(2)..)
        .and_then(|v| <[u8; 2]>::try_from(v).ok())
        .map(u16::from_le_bytes);
    let crc = <[u8; 8]>::try_from(crc).map(u64::from_le_bytes);
    payload.len() >= 10
        && version.is_some_and(|v| v <= RDB_VERSION)
        && crc.is_ok_and(|crc| crc64(checked) == crc)
}

/// The value in a verified payload (RESTORE's `rdbLoadObjectType` and `rdbLoadObject`).
/// Redis reads the value from the whole payload, footer included: bytes after the value are
/// ignored, and a value that runs into the footer takes its bytes (a string declared 4
/// bytes longer than it is ends with the version and two bytes of the CRC), so ours does too.
/// `max_string` caps a compressed string's unpacked length (see [`read::Reader::max_string`]).
pub fn restore(payload: &[u8], max_string: usize) -> Result<Value, Corrupt> {
    let mut reader = read::Reader::new(payload).max_string(max_string);
    let kind = reader.object_type()?;
    reader.object(kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn the_crc_is_redis_crc64() {
        // crc64.c's own test vector.
        assert_eq!(crc64(b"123456789"), 0xe9c6_d914_c4b8_d9ca);
    }

    #[test]
    fn a_string_dumps_as_redis_dumps_it() {
        // SET str hello; DUMP str, on redis-server 7.0.15.
        let redis = b"\x00\x05hello\n\x00cr\xdfve4 \n";
        let value = Value::Str(Bytes::from_static(b"hello"));
        assert_eq!(dump(&value, "embstr").as_deref(), Some(&redis[..]));
        assert!(verify(redis));
        assert_eq!(restore(redis, DEFAULT_MAX_STRING), Ok(value));
        // SET n 123456: an integer in 4 bytes.
        let redis = b"\x00\xc2@\xe2\x01\x00\n\x00C&G\xf4C\x19r\x83";
        let value = Value::Str(Bytes::from_static(b"123456"));
        assert_eq!(dump(&value, "int").as_deref(), Some(&redis[..]));
        assert_eq!(restore(redis, DEFAULT_MAX_STRING), Ok(value));
    }

    #[test]
    fn a_compressed_string_past_the_cap_is_refused_before_it_is_unpacked() {
        let value = Value::Str(Bytes::from(vec![b'a'; 100]));
        let payload = dump(&value, "raw").unwrap_or_default();
        assert_eq!(payload.get(1), Some(&0xc3), "LZF-compressed");
        assert_eq!(restore(&payload, 100), Ok(value));
        assert_eq!(restore(&payload, 99), Err(Corrupt));
        // A record declaring 2^62 bytes from 3 packed ones: refused, nothing allocated.
        let mut body = vec![0x00, 0xc3, 0x03, 0x81];
        body.extend_from_slice(&(1u64 << 62).to_be_bytes());
        body.extend_from_slice(&[0xe0, 0xff, 0x00]);
        body.extend_from_slice(&RDB_VERSION.to_le_bytes());
        let crc = crc64(&body);
        body.extend_from_slice(&crc.to_le_bytes());
        assert!(verify(&body));
        assert_eq!(restore(&body, DEFAULT_MAX_STRING), Err(Corrupt));
    }

    #[test]
    fn a_damaged_payload_is_refused_not_a_panic() {
        let redis = b"\x00\x05hello\n\x00cr\xdfve4 \n";
        for cut in 0..redis.len() {
            assert!(!verify(&redis[..cut]));
            let _ = restore(&redis[..cut], DEFAULT_MAX_STRING);
        }
        let mut newer = redis.to_vec();
        newer[7] = 11;
        assert!(!verify(&newer));
    }
}

#[cfg(test)]
mod round_trip {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn a_big_list_round_trips() {
        let list: std::collections::VecDeque<Bytes> = (0..3000)
            .map(|i| {
                if i % 7 == 0 {
                    Bytes::from(vec![b'x'; 200])
                } else {
                    Bytes::from(i.to_string())
                }
            })
            .collect();
        let value = Value::List(list);
        let payload = dump(&value, "quicklist").unwrap_or_default();
        assert_eq!(restore(&payload, DEFAULT_MAX_STRING), Ok(value));
    }
}

#[cfg(test)]
mod stream_payloads {
    use super::*;
    use crate::stream::{Consumer, Group, Nack, NodeLimits, Stream, StreamId};
    use bytes::Bytes;

    fn sample() -> Value {
        let limits = NodeLimits {
            entries: 100,
            bytes: 4096,
        };
        let mut s = Stream::new();
        for i in 1..=250u64 {
            let mut fields = vec![Bytes::from("a"), Bytes::from(i.to_string())];
            if i % 50 == 0 {
                fields.push(Bytes::from("extra"));
                fields.push(Bytes::from(vec![b'x'; 70]));
            }
            s.append(StreamId::new(i, 1), fields.into(), limits);
        }
        assert!(s.delete(StreamId::new(1, 1)));
        assert!(s.delete(StreamId::new(120, 1)));
        let mut group = Group {
            last_id: StreamId::new(5, 1),
            entries_read: 5,
            ..Group::default()
        };
        for (i, who) in [(2u64, "alice"), (3, "alice"), (4, "bob")] {
            let id = StreamId::new(i, 1);
            group.pel.insert(
                id,
                Nack {
                    delivery_time: 1_700_000_000_000 + i as i64,
                    delivery_count: i,
                    consumer: Some(Bytes::from(who)),
                },
            );
            group
                .consumers
                .entry(Bytes::from(who))
                .or_insert_with(|| Consumer {
                    seen_time: 1_700_000_000_999,
                    ..Consumer::default()
                })
                .pel
                .insert(id);
        }
        s.groups.insert(Bytes::from("g"), group);
        s.groups.insert(
            Bytes::from("g2"),
            Group {
                entries_read: crate::stream::INVALID_ENTRIES_READ,
                ..Group::default()
            },
        );
        Value::Stream(Box::new(s))
    }

    #[test]
    fn a_stream_round_trips_with_its_groups_and_deleted_entries() {
        let value = sample();
        let payload = dump(&value, "stream").unwrap_or_default();
        assert_eq!(payload.first(), Some(&19));
        let back = restore(&payload, DEFAULT_MAX_STRING).expect("restores");
        assert_eq!(dump(&back, "stream"), Some(payload));
        let (Value::Stream(a), Value::Stream(b)) = (&value, &back) else {
            panic!("not streams");
        };
        assert_eq!(a.iter().collect::<Vec<_>>(), b.iter().collect::<Vec<_>>());
        assert_eq!(a.groups, b.groups);
        assert_eq!(
            (a.node_count(), a.last_id, a.max_deleted, a.entries_added),
            (b.node_count(), b.last_id, b.max_deleted, b.entries_added)
        );
    }

    #[test]
    fn a_damaged_stream_payload_is_refused_not_a_panic() {
        let payload = dump(&sample(), "stream").unwrap_or_default();
        for cut in 0..payload.len() - 10 {
            assert_eq!(
                restore(&payload[..cut], DEFAULT_MAX_STRING),
                Err(Corrupt),
                "cut at {cut}"
            );
        }
        // Single-byte changes anywhere: refused or read, never a panic.
        for i in (0..payload.len() - 10).step_by(3) {
            for b in [0u8, 1, 0x40, 0x81, 0xc3, 0xff] {
                let mut bad = payload.clone();
                bad[i] = b;
                let _ = restore(&bad, DEFAULT_MAX_STRING);
            }
        }
        // A node whose entry IDs go backwards, and a consumer owning an ID not pending.
        let mut s = Stream::new();
        let limits = NodeLimits {
            entries: 100,
            bytes: 4096,
        };
        s.append(
            StreamId::new(5, 0),
            vec![Bytes::from("f"), Bytes::from("v")].into(),
            limits,
        );
        let good = dump(&Value::Stream(Box::new(s)), "stream").unwrap_or_default();
        assert!(restore(&good, DEFAULT_MAX_STRING).is_ok());
        let mut later_key = good.clone();
        // The node key's last byte: the master ID 5-1 is above its only entry's 5-0.
        later_key[2 + 16] = 1;
        assert_eq!(restore(&later_key, DEFAULT_MAX_STRING), Err(Corrupt));
    }

    #[test]
    fn a_pending_entry_no_consumer_owns_is_refused() {
        let Value::Stream(mut s) = sample() else {
            panic!("not a stream");
        };
        let group = s.groups.get_mut(&Bytes::from("g")).expect("the group");
        if let Some(nack) = group.pel.get_mut(&StreamId::new(4, 1)) {
            nack.consumer = None;
        }
        if let Some(bob) = group.consumers.get_mut(&Bytes::from("bob")) {
            bob.pel.clear();
        }
        let payload = dump(&Value::Stream(s), "stream").unwrap_or_default();
        assert_eq!(restore(&payload, DEFAULT_MAX_STRING), Err(Corrupt));
    }

    #[test]
    fn a_redis_5_stream_payload_restores_as_redis_7_restores_it() {
        // unit/type/stream-cgroups "Loading from legacy (Redis <= v6.2.x, rdb_ver < 10)
        // persistence": XADD 1-0..6-0, XDEL 3-0, groups g1 and g2, g1 reads 4, XTRIM MAXLEN = 2.
        let payload: &[u8] = b"\
            \x0f\x01\x10\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\xc3\
            \x40\x4a\x40\x57\x16\x57\x00\x00\x00\x23\x00\x02\x01\x04\x01\x01\x01\x84\x64\x61\
            \x74\x61\x05\x00\x01\x03\x01\x00\x20\x01\x03\x81\x61\x02\x04\x20\x0a\x00\x01\x40\
            \x0a\x00\x62\x60\x0a\x00\x02\x40\x0a\x00\x63\x60\x0a\x40\x22\x01\x81\x64\x20\x0a\
            \x40\x39\x20\x0a\x00\x65\x60\x0a\x00\x05\x40\x0a\x00\x66\x20\x0a\x00\xff\x02\x06\
            \x00\x02\x02\x67\x31\x05\x00\x04\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\
            \x00\x00\x00\x00\x3e\xf7\x83\x43\x7a\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\
            \x02\x00\x00\x00\x00\x00\x00\x00\x00\x3e\xf7\x83\x43\x7a\x01\x00\x00\x01\x00\x00\
            \x00\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x3e\xf7\x83\x43\x7a\x01\
            \x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x3e\
            \xf7\x83\x43\x7a\x01\x00\x00\x01\x01\x03\x63\x31\x31\x3e\xf7\x83\x43\x7a\x01\x00\
            \x00\x04\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\
            \x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\
            \x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\
            \x00\x00\x00\x00\x00\x00\x02\x67\x32\x00\x00\x00\x00\x09\x00\x3d\x52\xef\x68\x67\
            \x52\x1d\xfa";
        assert!(verify(payload));
        let Ok(Value::Stream(s)) = restore(payload, DEFAULT_MAX_STRING) else {
            panic!("restores");
        };
        assert_eq!(s.len(), 2);
        assert_eq!(s.entries_added, 2);
        assert_eq!(s.max_deleted, StreamId::MIN);
        let read: Vec<i64> = s.groups.values().map(|g| g.entries_read).collect();
        assert_eq!(read, [1, 0]);
        let lag: Vec<Option<i64>> = s.groups.values().map(|g| s.lag(g)).collect();
        assert_eq!(lag, [Some(1), Some(2)]);
    }
}
