//! Whole RDB files (Redis 7.0, version 10): what SAVE and BGSAVE write and what the server
//! loads at start, interchangeable with redis-server's `dump.rdb`.
//!
//! Layout: `REDIS0010`, auxiliary fields (0xFA name value), each function library (0xF5 and
//! its code, see [`super::functions`]), then for each non-empty database
//! a SELECTDB (0xFE index) and RESIZEDB (0xFB keys, keys with a TTL), each key as an optional
//! EXPIRETIME_MS (0xFC, u64 LE), the value's type, the key and the value (see [`super::write`]);
//! then EOF (0xFF) and the CRC-64 of everything before it (u64 LE; 0 when Redis wrote it with
//! `rdbchecksum no`).
//!
//! The reader takes files of RDB versions 1 to 10 and skips what does not change the data
//! (auxiliary fields, LRU idle times and LFU counters) and returns the function libraries'
//! codes (FUNCTION2 records and the older FUNCTION ones) for the server to load. Module values
//! and anything unknown stop the load with a clear error: a file half read is never
//! half used.

use bytes::Bytes;

use super::functions::{OP_FUNCTION, OP_FUNCTION2};
use super::read::Reader;
use super::{crc64, write, Corrupt, RDB_VERSION};
use crate::db::{Entry, Value};

const OP_MODULE_AUX: u8 = 0xf7;
const OP_IDLE: u8 = 0xf8;
const OP_FREQ: u8 = 0xf9;
const OP_AUX: u8 = 0xfa;
const OP_RESIZEDB: u8 = 0xfb;
const OP_EXPIRETIME_MS: u8 = 0xfc;
const OP_EXPIRETIME: u8 = 0xfd;
const OP_SELECTDB: u8 = 0xfe;
const OP_EOF: u8 = 0xff;

/// One key as the writer takes it: its name, its entry, and its OBJECT ENCODING (which
/// picks the RDB type).
pub struct Item {
    /// The key.
    pub key: Bytes,
    /// Its value and expiry.
    pub entry: Entry,
    /// OBJECT ENCODING of the value.
    pub encoding: &'static str,
}

/// A whole RDB file holding the function libraries with these codes (where Redis's
/// `rdbSaveRio` puts them: after the auxiliary fields, before the databases) and `databases`
/// (index, keys), with Redis's auxiliary fields. Seed-dialect values have no RDB form and
/// are left out (their count is returned).
pub fn encode(
    databases: &[(usize, Vec<Item>)],
    functions: &[Bytes],
    now_ms: u64,
) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    out.extend_from_slice(format!("REDIS{RDB_VERSION:04}").as_bytes());
    let aux = |out: &mut Vec<u8>, name: &[u8], value: &[u8]| {
        out.push(OP_AUX);
        write::string(out, name);
        write::string(out, value);
    };
    aux(
        &mut out,
        b"redis-ver",
        crate::commands::connection::SERVER_VERSION.as_bytes(),
    );
    aux(&mut out, b"redis-bits", b"64");
    aux(&mut out, b"ctime", (now_ms / 1000).to_string().as_bytes());
    aux(&mut out, b"used-mem", b"0");
    aux(&mut out, b"aof-base", b"0");
    for code in functions {
        super::functions::write_library(&mut out, code);
    }
    let mut skipped = 0;
    for (index, items) in databases {
        let storable: Vec<&Item> = items
            .iter()
            .filter(|i| !matches!(i.entry.value, Value::Seed(_)))
            .collect();
        skipped += items.len() - storable.len();
        if storable.is_empty() {
            continue;
        }
        out.push(OP_SELECTDB);
        write::len(&mut out, *index);
        out.push(OP_RESIZEDB);
        write::len(&mut out, storable.len());
        let volatile = storable
            .iter()
            .filter(|i| i.entry.expires_at.is_some())
            .count();
        write::len(&mut out, volatile);
        for item in storable {
            if let Some(at) = item.entry.expires_at {
                out.push(OP_EXPIRETIME_MS);
                out.extend_from_slice(&at.to_le_bytes());
            }
            let Some(kind) = write::object_type(&item.entry.value, item.encoding) else {
                continue;
            };
            out.push(kind.byte());
            write::string(&mut out, &item.key);
            write::object(&mut out, &item.entry.value, item.encoding);
        }
    }
    out.push(OP_EOF);
    let crc = crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    (out, skipped)
}

/// Why a file could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// Not an RDB file, or one from a newer Redis.
    Header(String),
    /// The checksum at the end does not match.
    Checksum,
    /// Cut short or malformed at about this byte offset.
    Corrupt(usize),
    /// Holds something this server cannot hold (a stream, a module value).
    Unsupported(String),
    /// A database index beyond this server's databases.
    Database(usize),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Header(why) => write!(f, "not a loadable RDB file: {why}"),
            LoadError::Checksum => write!(f, "wrong RDB checksum"),
            LoadError::Corrupt(at) => write!(f, "short read or corrupt data near byte {at}"),
            LoadError::Unsupported(what) => write!(f, "cannot load {what}"),
            LoadError::Database(n) => write!(f, "database {n} is out of range"),
        }
    }
}

/// What a file holds: (database index, keys) in file order; keys whose time has passed at
/// `now_ms` are left out, as Redis's loader leaves them; and the function libraries' codes.
pub struct Loaded {
    /// Keys by database.
    pub databases: Vec<(usize, Vec<(Bytes, Entry)>)>,
    /// The function libraries' codes, in file order (the server loads them).
    pub functions: Vec<Bytes>,
}

/// Reads a whole RDB file. `databases` is how many this server has; `max_string` caps a
/// compressed string's unpacked length (see [`Reader::max_string`]).
pub fn decode(
    file: &[u8],
    now_ms: u64,
    databases: usize,
    max_string: usize,
) -> Result<Loaded, LoadError> {
    let magic = file
        .get(..9)
        .ok_or_else(|| LoadError::Header("too short".into()))?;
    if magic.get(..5) != Some(b"REDIS") {
        return Err(LoadError::Header("no REDIS signature".into()));
    }
    let version: u16 = std::str::from_utf8(magic.get(5..).unwrap_or_default())
        .ok()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| LoadError::Header("bad version".into()))?;
    if version == 0 || version > RDB_VERSION {
        return Err(LoadError::Header(format!(
            "RDB version {version} (this server reads 1 to {RDB_VERSION})"
        )));
    }
    let mut reader = Reader::new(file).max_string(max_string);
    reader.skip(9).map_err(|_| LoadError::Corrupt(9))?;
    let corrupt = |r: &Reader<'_>| LoadError::Corrupt(r.position());
    let mut loaded = Loaded {
        databases: Vec::new(),
        functions: Vec::new(),
    };
    let mut db = 0usize;
    let mut expires_at: Option<u64> = None;
    loop {
        let op = reader.byte().map_err(|_| corrupt(&reader))?;
        match op {
            OP_EOF => break,
            OP_SELECTDB => {
                db = reader.len().map_err(|_| corrupt(&reader))?;
                if db >= databases {
                    return Err(LoadError::Database(db));
                }
            }
            OP_RESIZEDB => {
                reader.len().map_err(|_| corrupt(&reader))?;
                reader.len().map_err(|_| corrupt(&reader))?;
            }
            OP_AUX => {
                reader.string().map_err(|_| corrupt(&reader))?;
                reader.string().map_err(|_| corrupt(&reader))?;
            }
            OP_EXPIRETIME_MS => {
                let b = reader.take(8).map_err(|_| corrupt(&reader))?;
                let mut ms = [0u8; 8];
                ms.copy_from_slice(b);
                expires_at = Some(u64::from_le_bytes(ms));
            }
            OP_EXPIRETIME => {
                let b = reader.take(4).map_err(|_| corrupt(&reader))?;
                let secs = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                expires_at = Some(u64::from(secs) * 1000);
            }
            OP_IDLE => {
                reader.len().map_err(|_| corrupt(&reader))?;
            }
            OP_FREQ => {
                reader.byte().map_err(|_| corrupt(&reader))?;
            }
            OP_FUNCTION | OP_FUNCTION2 => {
                let code = super::functions::read_library(&mut reader, op)
                    .map_err(|_| corrupt(&reader))?;
                loaded.functions.push(code);
            }
            OP_MODULE_AUX => return Err(LoadError::Unsupported("module data".into())),
            kind => {
                let Some(kind) = super::Type::from_byte(kind) else {
                    return Err(LoadError::Unsupported(match kind {
                        6 | 7 => "a module value".into(),
                        9 => "a zipmap hash (Redis 2.x)".into(),
                        other => format!("a value of RDB type {other}"),
                    }));
                };
                let key = reader.string().map_err(|_| corrupt(&reader))?;
                let value = reader.object(kind).map_err(|_| corrupt(&reader))?;
                let at = expires_at.take();
                if at.is_some_and(|t| t <= now_ms) {
                    continue;
                }
                let entry = Entry::expiring(value, at);
                match loaded.databases.last_mut() {
                    Some((index, keys)) if *index == db => keys.push((key, entry)),
                    _ => loaded.databases.push((db, vec![(key, entry)])),
                }
            }
        }
    }
    let body_end = reader.position();
    if version >= 5 {
        let b = reader.take(8).map_err(|_| corrupt(&reader))?;
        let mut said = [0u8; 8];
        said.copy_from_slice(b);
        let said = u64::from_le_bytes(said);
        let body = file.get(..body_end).ok_or(LoadError::Corrupt(body_end))?;
        if said != 0 && said != crc64(body) {
            return Err(LoadError::Checksum);
        }
    }
    Ok(loaded)
}

impl From<Corrupt> for LoadError {
    fn from(_: Corrupt) -> LoadError {
        LoadError::Corrupt(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_round_trips_and_damage_is_an_error() {
        let items = vec![
            Item {
                key: Bytes::from_static(b"a"),
                entry: Entry::new(Value::Str(Bytes::from_static(b"hello"))),
                encoding: "embstr",
            },
            Item {
                key: Bytes::from_static(b"b"),
                entry: Entry::expiring(Value::Str(Bytes::from_static(b"12")), Some(u64::MAX / 2)),
                encoding: "int",
            },
            Item {
                key: Bytes::from_static(b"gone"),
                entry: Entry::expiring(Value::Str(Bytes::from_static(b"x")), Some(5)),
                encoding: "embstr",
            },
        ];
        let code = Bytes::from_static(
            b"#!lua name=lib\nredis.register_function('f', function() return 1 end)",
        );
        let (file, skipped) = encode(&[(3, items)], std::slice::from_ref(&code), 1000);
        assert_eq!(skipped, 0);
        let loaded = decode(&file, 1000, 16, crate::rdb::DEFAULT_MAX_STRING)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(loaded.databases.len(), 1);
        assert_eq!(loaded.functions, [code]);
        let (db, keys) = &loaded.databases[0];
        assert_eq!(*db, 3);
        let names: Vec<&[u8]> = keys.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(names, [&b"a"[..], b"b"]);
        assert_eq!(keys[1].1.expires_at, Some(u64::MAX / 2));
        assert_eq!(
            decode(&file, 1000, 2, crate::rdb::DEFAULT_MAX_STRING).err(),
            Some(LoadError::Database(3))
        );
        for cut in 0..file.len() {
            assert!(
                decode(&file[..cut], 1000, 16, crate::rdb::DEFAULT_MAX_STRING).is_err(),
                "{cut}"
            );
        }
        let mut bad = file.clone();
        let n = bad.len();
        bad[n - 1] ^= 1;
        assert_eq!(
            decode(&bad, 1000, 16, crate::rdb::DEFAULT_MAX_STRING).err(),
            Some(LoadError::Checksum)
        );
    }
}
