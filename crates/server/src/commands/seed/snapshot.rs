//! SAVE, RESTORE and MERGE `filename`: the seed flavor's keyspace and schedule written to a
//! file and read back.
//!
//! simpledb pickles its state, and loading a pickle runs whatever code the file names, so a
//! file from anyone who can write to the directory is a way in. Ours writes the state as one
//! frame of the seed dialect itself, after a header line:
//!
//! ```text
//! respect-seed-snapshot 1\r\n
//! %2  ^2 kv  *N  (*3 key value expiry-ms|null)...   ^8 schedule  *M  (*2 ^time value)...
//! ```
//!
//! Reading it back is decoding, with the codec's limits on nesting and sizes, so an
//! unreadable or hostile file is an error and the live data is untouched (the file is
//! decoded whole before anything is replaced). Also unlike simpledb, a file name is only a
//! name: the file lives in the server's data directory (`--dir`), never elsewhere, and
//! without a directory these commands are refused. Each key's expiry is kept in the file
//! (simpledb's pickle leaves it out), and a file is written as SAVE writes the RDB file:
//! a temporary file, flushed, then renamed, so a crash never leaves half a file.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use bytes::{Bytes, BytesMut};
use respect_resp::{encode_into, Decoder, Dialect, Frame, Limits, Role};

use super::schedule::{self, Time};
use super::{text_of, unhandled, Seed};
use crate::db::{Entry, Value};

/// The first line of a snapshot file: the format and its version.
const HEADER: &[u8] = b"respect-seed-snapshot 1\r\n";

/// `SAVE filename`: `:1`.
pub(super) fn save(seed: &Seed<'_>, args: &[Frame]) -> Frame {
    let path = match file(seed, args) {
        Ok(path) => path,
        Err(error) => return error,
    };
    let mut out = BytesMut::from(HEADER);
    encode_into(&state(seed), Dialect::Seed, &mut out);
    match crate::persistence::write_atomically(&path, &out) {
        Ok(()) => Frame::Integer(1),
        Err(e) => Frame::Error(Bytes::from(format!("Could not save: {e}"))),
    }
}

/// `RESTORE filename` (the file's keys and schedule replace the live ones) and `MERGE
/// filename` (the file's keys are added, a live key keeping its value; the schedule is the
/// file's, as simpledb does): `:1`, or `:0` when there is no such file.
pub(super) fn restore(seed: &Seed<'_>, args: &[Frame], merge: bool) -> Frame {
    let path = match file(seed, args) {
        Ok(path) => path,
        Err(error) => return error,
    };
    let max = seed
        .server
        .settings
        .proto_max_bulk_len
        .load(Ordering::Relaxed);
    let bytes = match read_bounded(&path, max) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Frame::Integer(0),
        Err(error) => return Frame::Error(Bytes::from(error)),
    };
    let (keys, entries) = match parse(bytes) {
        Ok(state) => state,
        Err(why) => return Frame::Error(Bytes::from(format!("Bad snapshot file: {why}"))),
    };
    let now = seed.now;
    if !merge {
        seed.flush();
    }
    for (key, value, expires_at) in keys {
        let mut shard = seed.db.shard(&key);
        if merge && shard.get(&key, now).is_some() {
            continue;
        }
        shard.insert(key, Entry::expiring(Value::Seed(value), expires_at), now);
    }
    seed.server.seed_schedule.replace(entries);
    Frame::Integer(1)
}

/// The file `args` names, in the data directory.
fn file(seed: &Seed<'_>, args: &[Frame]) -> Result<PathBuf, Frame> {
    let [name] = args else {
        return Err(unhandled());
    };
    let Some(name) = text_of(name) else {
        return Err(unhandled());
    };
    let Some(dir) = seed.server.persistence.dir() else {
        return Err(Frame::error(
            "No data directory: start the server with --dir to SAVE, RESTORE or MERGE.",
        ));
    };
    let name = std::str::from_utf8(name)
        .ok()
        .filter(|n| !n.is_empty() && *n != "." && *n != ".." && !n.contains(['/', '\\', '\0']))
        .ok_or_else(|| Frame::error("Invalid file name: a name in the data directory, no path."))?;
    Ok(dir.join(name))
}

/// The file's bytes, `None` if it does not exist; refused past `max` bytes.
fn read_bounded(path: &std::path::Path, max: u64) -> Result<Option<Vec<u8>>, String> {
    use std::io::Read;
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("Could not read: {e}")),
    };
    let mut bytes = Vec::new();
    // One byte past the limit tells a file that is too large from one that fits.
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("Could not read: {e}"))?;
    if bytes.len() as u64 > max {
        return Err(format!(
            "Bad snapshot file: larger than proto-max-bulk-len ({max} bytes)"
        ));
    }
    Ok(Some(bytes))
}

/// The keyspace and schedule as the snapshot's frame.
fn state(seed: &Seed<'_>) -> Frame {
    let now = seed.now;
    let mut keys = Vec::new();
    seed.db.for_each_shard(|shard| {
        shard.for_each_live(now, |key, entry, _| {
            let value = match &entry.value {
                Value::Seed(frame) => frame.clone(),
                Value::Str(bytes) => Frame::Bulk(bytes.clone()),
                // The seed flavor stores nothing else.
                _ => return,
            };
            let expiry = entry
                .expires_at
                .and_then(|at| i64::try_from(at).ok())
                .map_or(Frame::NullBulk, Frame::Integer);
            keys.push(Frame::Array(vec![Frame::Bulk(key.clone()), value, expiry]));
        })
    });
    let schedule = seed
        .server
        .seed_schedule
        .entries()
        .into_iter()
        .map(|(at, value)| {
            Frame::Array(vec![Frame::Text(Bytes::from(schedule::format(at))), value])
        })
        .collect();
    let text = |s: &'static str| Frame::Text(Bytes::from_static(s.as_bytes()));
    Frame::Map(vec![
        (text("kv"), Frame::Array(keys)),
        (text("schedule"), Frame::Array(schedule)),
    ])
}

/// The keys (key, value, expiry) and the schedule.
type State = (Vec<(Bytes, Frame, Option<u64>)>, Vec<(Time, Frame)>);

/// Reads a snapshot file's bytes; any departure from the format is an error.
fn parse(bytes: Vec<u8>) -> Result<State, String> {
    let body = bytes
        .strip_prefix(HEADER)
        .ok_or("not a respect seed snapshot (version 1)")?;
    let mut buffer = BytesMut::from(body);
    let limits = Limits {
        max_bulk_len: body.len(),
        max_aggregate_len: body.len(),
        ..Limits::default()
    };
    let mut decoder = Decoder::with_options(Dialect::Seed, Role::Reply, limits);
    let frame = decoder
        .decode(&mut buffer)
        .map_err(|e| e.to_string())?
        .ok_or("the file ends inside its data")?;
    if !buffer.is_empty() {
        return Err("bytes after the data".into());
    }
    let Frame::Map(sections) = frame else {
        return Err("the data is not a dict".into());
    };
    let section = |name: &str| {
        sections
            .iter()
            .find(|(k, _)| text_of(k).is_some_and(|k| k.as_ref() == name.as_bytes()))
            .map(|(_, v)| v)
    };
    let (Some(Frame::Array(kv)), Some(Frame::Array(planned))) =
        (section("kv"), section("schedule"))
    else {
        return Err("kv and schedule must be lists".into());
    };
    let mut keys = Vec::with_capacity(kv.len());
    for item in kv {
        let Frame::Array(fields) = item else {
            return Err("a key's entry is not a list".into());
        };
        let [key, value, expiry] = fields.as_slice() else {
            return Err("a key's entry is not [key, value, expiry]".into());
        };
        let key = text_of(key).ok_or("a key is not a string")?.clone();
        let expires_at = match expiry {
            Frame::NullBulk => None,
            Frame::Integer(at) => Some(u64::try_from(*at).map_err(|_| "a negative expiry")?),
            _ => return Err("an expiry is not a time in milliseconds".into()),
        };
        keys.push((key, value.clone(), expires_at));
    }
    let mut entries = Vec::with_capacity(planned.len());
    for item in planned {
        let Frame::Array(fields) = item else {
            return Err("a schedule entry is not a list".into());
        };
        let [at, value] = fields.as_slice() else {
            return Err("a schedule entry is not [time, value]".into());
        };
        let at = schedule::parse(at).ok_or("a schedule time is not Y-m-d H:M:S")?;
        entries.push((at, value.clone()));
    }
    Ok((keys, entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_files_are_errors() {
        let cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"\x80\x04\x95pickle".to_vec(),
            [HEADER, b"%1\r\n"].concat(),
            [HEADER, b"*1\r\n:1\r\n"].concat(),
            [
                HEADER,
                b"%2\r\n^2\r\nkv\r\n*1\r\n:5\r\n^8\r\nschedule\r\n*0\r\n",
            ]
            .concat(),
            [
                HEADER,
                b"%2\r\n^2\r\nkv\r\n*0\r\n^8\r\nschedule\r\n*1\r\n*2\r\n^3\r\nnow\r\n:1\r\n",
            ]
            .concat(),
            [HEADER, b"%2\r\n^2\r\nkv\r\n*999999999999\r\n"].concat(),
            [HEADER, &b"*1\r\n".repeat(100_000)].concat(),
            [HEADER, b"%0\r\nextra"].concat(),
        ];
        for bytes in cases {
            assert!(
                parse(bytes.clone()).is_err(),
                "{:?}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }

    #[test]
    fn a_state_reads_back() {
        let mut out = BytesMut::from(HEADER);
        let state = Frame::Map(vec![
            (
                Frame::Text(Bytes::from_static(b"kv")),
                Frame::Array(vec![Frame::Array(vec![
                    Frame::Bulk(Bytes::from_static(b"k")),
                    Frame::Map(vec![(
                        Frame::Text(Bytes::from_static(b"f")),
                        Frame::Double(1.5),
                    )]),
                    Frame::Integer(1_700_000_000_000),
                ])]),
            ),
            (
                Frame::Text(Bytes::from_static(b"schedule")),
                Frame::Array(vec![Frame::Array(vec![
                    Frame::Text(Bytes::from(schedule::format((2024, 1, 2, 3, 4, 5, 6)))),
                    Frame::Integer(7),
                ])]),
            ),
        ]);
        encode_into(&state, Dialect::Seed, &mut out);
        let (keys, entries) = parse(out.to_vec()).expect("reads back");
        assert_eq!(keys.len(), 1);
        assert_eq!(entries, vec![((2024, 1, 2, 3, 4, 5, 6), Frame::Integer(7))]);
    }
}
