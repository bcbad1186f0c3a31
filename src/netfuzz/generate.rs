//! Traffic for the network fuzzer: valid commands, near-valid mutations of them, and malformed
//! input of the kinds that break servers (bad and huge lengths, deep nesting, wrong markers,
//! oversized inline lines), delivered whole, in pieces, or cut off by a disconnect.

use bytes::BytesMut;

use super::grammar::Grammar;
pub use crate::conformance::rng::Rng;
use crate::conformance::scenario::key_prefix;
use crate::resp::{encode_into, Dialect, Frame};

/// What kind of traffic a case is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A well-formed command.
    Valid,
    /// A well-formed command with one mutation.
    NearValid,
    /// Input no server should accept as a command.
    Malformed,
}

/// One fuzz case: bytes to send, and how.
#[derive(Debug, Clone)]
pub struct Case {
    /// What generated it.
    pub name: String,
    /// Its kind.
    pub kind: Kind,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Write in chunks of at most this many bytes (1 = byte by byte); `None`: one write.
    pub chunk: Option<usize>,
    /// Close the connection right after sending, without reading.
    pub disconnect: bool,
}

const REDIS_COMMANDS: &[&str] = &[
    "GET", "SET", "DEL", "INCR", "HSET", "HGETALL", "LPUSH", "LRANGE", "SADD", "SMEMBERS",
    "EXPIRE", "TTL", "MGET", "APPEND", "PING", "ECHO",
];
const SEED_COMMANDS: &[&str] = &[
    "GET", "SET", "DELETE", "EXISTS", "MGET", "HSET", "HGETALL", "LPUSH", "SADD", "INCR", "APPEND",
];

/// How many keys the fixed list's commands name (`0`..`7` under the fuzzer's prefix).
pub(super) const FIXED_KEYS: usize = 8;

fn command(rng: &mut Rng, dialect: Dialect) -> Vec<u8> {
    let names = if dialect == Dialect::Seed {
        SEED_COMMANDS
    } else {
        REDIS_COMMANDS
    };
    let mut args = vec![Frame::bulk(names[rng.below(names.len())])];
    args.push(Frame::bulk(format!(
        "{}{}",
        key_prefix(super::KEY_SPACE),
        rng.below(FIXED_KEYS)
    )));
    for _ in 0..rng.below(3) {
        let value = match (dialect, rng.below(6)) {
            (Dialect::Seed, 0) => Frame::Integer(rng.next_u64() as i64 % 1000),
            (Dialect::Seed, 1) => Frame::Map(vec![(Frame::bulk("f"), Frame::bulk(rng.bytes(8)))]),
            (Dialect::Seed, 2) => Frame::Text(bytes::Bytes::from("t\u{e9}xt")),
            _ => Frame::Bulk(bytes::Bytes::from(rng.bytes(16))),
        };
        args.push(value);
    }
    let mut out = BytesMut::new();
    encode_into(&Frame::Array(args), dialect, &mut out);
    out.to_vec()
}

fn mutate(rng: &mut Rng, mut bytes: Vec<u8>) -> (String, Vec<u8>) {
    if bytes.is_empty() {
        return ("empty".into(), bytes);
    }
    match rng.below(6) {
        0 => {
            let at = rng.below(bytes.len());
            bytes[at] ^= 1 << rng.below(8);
            ("bit flip".into(), bytes)
        }
        1 => {
            let at = rng.below(bytes.len());
            bytes.truncate(at);
            ("truncated".into(), bytes)
        }
        2 => {
            // Change a length digit: a declared size that disagrees with the payload.
            match bytes.iter().position(|c| c.is_ascii_digit()) {
                Some(at) => {
                    bytes[at] = b'0' + rng.below(10) as u8;
                    ("length changed".into(), bytes)
                }
                None => ("unchanged".into(), bytes),
            }
        }
        3 => {
            let at = rng.below(bytes.len());
            let junk = rng.bytes(8);
            bytes.splice(at..at, junk);
            ("bytes inserted".into(), bytes)
        }
        4 => {
            let copy = bytes.clone();
            bytes.extend_from_slice(&copy);
            ("doubled".into(), bytes)
        }
        _ => {
            let at = rng.below(bytes.len());
            bytes.remove(at);
            ("byte removed".into(), bytes)
        }
    }
}

fn malformed(rng: &mut Rng) -> (String, Vec<u8>) {
    let huge = [
        "999999999999",
        "2147483648",
        "9223372036854775807",
        "99999999999999999999999",
    ][rng.below(4)];
    match rng.below(12) {
        0 => ("bulk length not a number".into(), b"$abc\r\n".to_vec()),
        1 => (
            "huge declared bulk".into(),
            format!("${huge}\r\n").into_bytes(),
        ),
        2 => (
            "huge declared array".into(),
            format!("*{huge}\r\n").into_bytes(),
        ),
        3 => ("negative lengths".into(), b"*2\r\n$-7\r\nxx\r\n".to_vec()),
        4 => (
            "bulk length not a number inside a request".into(),
            b"*1\r\n$x1\r\n".to_vec(),
        ),
        5 => (
            "deep nesting".into(),
            b"*1\r\n".repeat(1000 + rng.below(50_000)),
        ),
        6 => (
            "wrong marker inside a request".into(),
            [
                b"*2\r\n$3\r\nGET\r\n",
                &[b"%:#~,("[rng.below(6)]][..],
                b"1\r\n",
            ]
            .concat(),
        ),
        7 => (
            "oversized inline line".into(),
            vec![b'a'; 70_000 + rng.below(10_000)],
        ),
        8 => ("binary garbage".into(), rng.bytes(64)),
        9 => (
            "payload longer than declared".into(),
            b"*1\r\n$2\r\nPING\r\n".to_vec(),
        ),
        10 => ("unterminated quote".into(), b"SET \"a b\r\n".to_vec()),
        _ => (
            "huge declared map".into(),
            format!("%{huge}\r\n").into_bytes(),
        ),
    }
}

/// The `n`th case of a run.
pub fn case(rng: &mut Rng, dialect: Dialect) -> Case {
    case_with(rng, dialect, None)
}

/// A command from `grammar` (keys under the fuzzer's key space), or from the fixed list.
fn valid(rng: &mut Rng, dialect: Dialect, grammar: Option<&Grammar>) -> Vec<u8> {
    let prefix = key_prefix(super::KEY_SPACE);
    match grammar.and_then(|g| g.command(rng, &prefix)) {
        Some((_, args)) => {
            let mut out = BytesMut::new();
            encode_into(&Frame::command(&args), dialect, &mut out);
            out.to_vec()
        }
        None => command(rng, dialect),
    }
}

/// The `n`th case of a run; valid and near-valid commands come from `grammar` when given
/// (`respect fuzz --grammar`).
pub fn case_with(rng: &mut Rng, dialect: Dialect, grammar: Option<&Grammar>) -> Case {
    let (name, kind, bytes) = match rng.below(3) {
        0 => (
            "valid command".to_string(),
            Kind::Valid,
            valid(rng, dialect, grammar),
        ),
        1 => {
            let valid = valid(rng, dialect, grammar);
            let (how, bytes) = mutate(rng, valid);
            (format!("near-valid: {how}"), Kind::NearValid, bytes)
        }
        _ => {
            let (what, bytes) = malformed(rng);
            (format!("malformed: {what}"), Kind::Malformed, bytes)
        }
    };
    let chunk = match rng.below(4) {
        0 => Some(1 + rng.below(8)),
        _ => None,
    };
    let disconnect = rng.below(10) == 0;
    Case {
        name,
        kind,
        chunk: chunk.filter(|_| bytes.len() <= 4096),
        bytes,
        disconnect,
    }
}
