//! The properties the fuzz targets check, as plain functions, so that `cargo fuzz` and the
//! corpus replay in `cargo test` run exactly the same code. Each one panics when its property
//! is violated: that is how libFuzzer sees a finding.

use arbitrary::{Arbitrary, Unstructured};
use bytes::{Bytes, BytesMut};

use crate::resp::{
    decode_all, encode, encode_into, DecodeError, Decoder, Dialect, Frame, Limits, Role,
};
use crate::server::{Db, Flavor, Session};

/// A fuzz target: its name (the `[[bin]]` of `fuzz/Cargo.toml`, the folder of
/// `fuzz/corpus/`) and the property it checks.
pub type Target = (&'static str, fn(&[u8]));

/// The differential target's property lives with its normalisations in
/// [`crate::differential`].
pub use crate::differential::check_diff_redis_protocol;

/// hiredis's reply parser against ours: [`crate::diff_hiredis`].
pub use crate::diff_hiredis::check_diff_hiredis;

/// Every fuzz target, the one list: `cargo test` replays each one's corpus through its
/// property, and checks that `fuzz/Cargo.toml` declares exactly these (which `.ci/run` fuzzes
/// through `cargo fuzz list`).
pub const TARGETS: &[Target] = &[
    ("decode", check_decode),
    ("decode_chunked", check_decode_chunked),
    ("roundtrip", check_roundtrip),
    ("server", check_server),
    ("diff_redis_protocol", check_diff_redis_protocol),
    ("diff_hiredis", check_diff_hiredis),
];

/// The (dialect, role) a fuzz input's first byte selects: every combination is reachable.
pub fn mode(selector: u8) -> (Dialect, Role) {
    let dialect = Dialect::ALL[usize::from(selector % 3)];
    let role = [Role::Request, Role::Reply, Role::Any][usize::from(selector / 3 % 3)];
    (dialect, role)
}

/// A decoded frame, its raw bytes, and the stream offset just past them.
pub type Decoded = (Frame, Bytes, u64);

/// Frames (with their raw bytes and end offsets) and the final state of decoding `chunks` fed
/// in order.
pub fn feed(
    chunks: &[&[u8]],
    dialect: Dialect,
    role: Role,
) -> (Vec<Decoded>, Result<usize, DecodeError>) {
    let mut decoder = Decoder::with_options(dialect, role, Limits::default());
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match decoder.decode_with_raw(&mut buf) {
                Ok(Some((frame, raw))) => frames.push((frame, raw, decoder.offset())),
                Ok(None) => break,
                Err(e) => return (frames, Err(e)),
            }
        }
    }
    (frames, Ok(buf.len()))
}

/// `decode`: arbitrary bytes never panic; the raw bytes of the frames are exactly the bytes
/// consumed; and every decoded frame re-encodes (in its dialect) to bytes that decode to a
/// frame which encodes the same way again. (Not always to an *equal* frame: `$-1` read in
/// RESP3 is a `NullBulk`, which RESP3 writes as `$-1` again; a non-canonical `:007` reads as
/// 7. The frame is equal whenever it is native to the dialect, which is also checked.)
pub fn check_decode(data: &[u8]) {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let (dialect, role) = mode(selector);
    let (frames, end) = feed(&[input], dialect, role);
    // A frame's raw bytes end where the decoder's offset stood after it (bytes a request
    // decoder skips, like empty lines, lie between frames): one comparison per byte, not a
    // search of the input.
    let mut previous = 0;
    for (_, raw, end_offset) in &frames {
        let end_offset = usize::try_from(*end_offset).unwrap_or(usize::MAX);
        let start = end_offset.checked_sub(raw.len());
        assert!(
            start.is_some_and(|s| s >= previous),
            "frames overlap at {end_offset}"
        );
        let at = start.and_then(|s| input.get(s..end_offset));
        assert_eq!(
            at,
            Some(&raw[..]),
            "raw bytes are not the input before {end_offset}"
        );
        previous = end_offset;
    }
    if let Ok(left) = end {
        assert!(previous + left <= input.len());
    }
    if !reencodes_in_one_pass(&frames, dialect) {
        for (frame, _, _) in &frames {
            check_reencoding(frame, dialect);
        }
    }
}

/// The fast path of `decode`'s re-encoding check: every frame encoded into one buffer, that
/// buffer decoded by one decoder and encoded again. True when the frames come back one for
/// one, encode to the same bytes and are equal where native; otherwise the caller runs the
/// per-frame check, which decides (and names the frame). Profiling showed the per-frame
/// version spent most of its time creating, growing and dropping a decoder, a buffer and a
/// vector per frame (fuzz/README.md, "Speed").
fn reencodes_in_one_pass(frames: &[Decoded], dialect: Dialect) -> bool {
    let mut once = BytesMut::new();
    for (frame, _, _) in frames {
        encode_into(frame, dialect, &mut once);
    }
    let Ok(again) = decode_all(&once, dialect) else {
        return false;
    };
    if again.len() != frames.len() {
        return false;
    }
    let mut twice = BytesMut::with_capacity(once.len());
    for frame in &again {
        encode_into(frame, dialect, &mut twice);
    }
    twice == once
        && frames
            .iter()
            .zip(&again)
            .all(|((frame, _, _), back)| !frame.native_in(dialect) || back == frame)
}

/// One frame re-encodes (in its dialect) to bytes that decode to exactly one frame, which
/// encodes the same way again, and is equal to it when native to the dialect.
fn check_reencoding(frame: &Frame, dialect: Dialect) {
    let once = encode(frame, dialect);
    let again = decode_all(&once, dialect)
        .unwrap_or_else(|e| panic!("{dialect}: re-encoded {frame:?} does not decode: {e}"));
    assert_eq!(
        again.len(),
        1,
        "{dialect}: {frame:?} re-encoded as {} frames",
        again.len()
    );
    assert_eq!(
        encode(&again[0], dialect),
        once,
        "{dialect}: encoding is not stable for {frame:?}"
    );
    if frame.native_in(dialect) {
        assert_eq!(
            &again[0], frame,
            "{dialect}: native frame changed in a round trip"
        );
    }
}

/// `decode_chunked`: the same bytes cut at fuzzer-chosen points decode exactly as whole:
/// same frames, same raw bytes, same error at the same offset.
pub fn check_decode_chunked(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Some((&cuts, input)) = rest.split_first() else {
        return;
    };
    let (dialect, role) = mode(selector);
    let whole = feed(&[input], dialect, role);
    // Cut points from the input itself, so the fuzzer steers them.
    let mut pieces = Vec::new();
    let mut at = 0;
    let mut step = usize::from(cuts % 7) + 1;
    while at < input.len() {
        let end = (at + step).min(input.len());
        pieces.push(&input[at..end]);
        step = usize::from(input[at] % 5) + usize::from(cuts % 3) + 1;
        at = end;
    }
    assert_eq!(
        feed(&pieces, dialect, role),
        whole,
        "{dialect} {role:?}: chunked decoding differs"
    );
    let singles: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(
        feed(&singles, dialect, role),
        whole,
        "{dialect} {role:?}: byte-at-a-time decoding differs"
    );
}

/// `roundtrip`: an arbitrary frame encodes and decodes back to itself in every dialect that
/// carries it natively, and in every dialect its encoding is exactly one valid frame.
pub fn check_roundtrip(data: &[u8]) {
    let Ok(frame) = Frame::arbitrary(&mut Unstructured::new(data)) else {
        return;
    };
    for dialect in Dialect::ALL {
        let bytes = encode(&frame, dialect);
        let decoded = decode_all(&bytes, dialect)
            .unwrap_or_else(|e| panic!("{dialect}: encoding of {frame:?} does not decode: {e}"));
        assert_eq!(decoded.len(), 1, "{dialect}: {frame:?}");
        if frame.native_in(dialect) {
            assert_eq!(
                decoded[0], frame,
                "{dialect}: native frame changed in a round trip"
            );
        }
    }
}

/// One command of the `server` target's vocabulary, over a handful of keys so that commands
/// collide on the same keys and types.
#[derive(Debug, Arbitrary)]
enum Op {
    Set(u8, Vec<u8>),
    SetEx(u8, Vec<u8>, u8),
    Get(u8),
    Del(u8),
    Incr(u8),
    Append(u8, Vec<u8>),
    HSet(u8, u8, Vec<u8>),
    HDel(u8, u8),
    LPush(u8, Vec<u8>),
    LPop(u8, u8),
    SAdd(u8, Vec<u8>),
    SRem(u8, Vec<u8>),
    Expire(u8, i8),
    PExpire(u8, u8),
    Persist(u8),
    FlushAll,
    Hello(bool),
    Raw(Frame),
    /// RESTORE of an arbitrary RDB value (a type byte and a body) behind a valid footer, so
    /// the reader itself is fuzzed, not the checksum.
    Restore(u8, Vec<u8>),
    /// DUMP of one key RESTOREd under another: what DUMP writes must always restore.
    DumpRestore(u8, u8),
    /// A command from the registry's grammar ([`crate::netfuzz::grammar`]), drawn by a PRNG
    /// seeded with this number: every command the server implements, with its arity, key
    /// positions and typed arguments.
    Registry(u64),
}

/// The Redis flavor's grammar, built once per process.
fn registry_grammar() -> &'static crate::netfuzz::grammar::Grammar {
    static GRAMMAR: std::sync::OnceLock<crate::netfuzz::grammar::Grammar> =
        std::sync::OnceLock::new();
    GRAMMAR.get_or_init(|| crate::netfuzz::grammar::Grammar::from_registry(Flavor::Redis))
}

fn key(k: u8) -> Vec<u8> {
    format!("k{}", k % 6).into_bytes()
}

fn args(session: &mut Session, parts: &[&[u8]]) -> Frame {
    session.execute(Frame::command(parts))
}

/// `server`: an arbitrary sequence of commands through the command layer in-process never
/// panics, and after each one: DBSIZE equals the number of keys KEYS lists, every live key's
/// TTL is -1 or not negative, and a hash's HLEN equals its HGETALL pairs.
pub fn check_server(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let flavor = if u.arbitrary::<bool>().unwrap_or(false) {
        Flavor::Seed
    } else {
        Flavor::Redis
    };
    let mut session = Session::new(Db::new(), flavor);
    let mut steps = 0;
    while let Ok(op) = u.arbitrary::<Op>() {
        steps += 1;
        if steps > 64 {
            break;
        }
        let n = |x: u8| x.to_string().into_bytes();
        let _ = match &op {
            Op::Set(k, v) => args(&mut session, &[b"SET", &key(*k), v]),
            Op::SetEx(k, v, s) => args(
                &mut session,
                &[b"SET", &key(*k), v, b"PX", &n(s.saturating_add(1))],
            ),
            Op::Get(k) => args(&mut session, &[b"GET", &key(*k)]),
            Op::Del(k) => args(&mut session, &[b"DEL", &key(*k)]),
            Op::Incr(k) => args(&mut session, &[b"INCR", &key(*k)]),
            Op::Append(k, v) => args(&mut session, &[b"APPEND", &key(*k), v]),
            Op::HSet(k, f, v) => args(&mut session, &[b"HSET", &key(*k), &n(*f % 4), v]),
            Op::HDel(k, f) => args(&mut session, &[b"HDEL", &key(*k), &n(*f % 4)]),
            Op::LPush(k, v) => args(&mut session, &[b"LPUSH", &key(*k), v]),
            Op::LPop(k, c) => args(&mut session, &[b"LPOP", &key(*k), &n(*c % 4)]),
            Op::SAdd(k, m) => args(&mut session, &[b"SADD", &key(*k), m]),
            Op::SRem(k, m) => args(&mut session, &[b"SREM", &key(*k), m]),
            Op::Expire(k, s) => args(
                &mut session,
                &[b"EXPIRE", &key(*k), s.to_string().as_bytes()],
            ),
            Op::PExpire(k, ms) => args(&mut session, &[b"PEXPIRE", &key(*k), &n(*ms)]),
            Op::Persist(k) => args(&mut session, &[b"PERSIST", &key(*k)]),
            Op::FlushAll => args(&mut session, &[b"FLUSHALL"]),
            Op::Hello(three) => args(&mut session, &[b"HELLO", if *three { b"3" } else { b"2" }]),
            Op::Raw(frame) => session.execute(frame.clone()),
            Op::Restore(k, body) => {
                let payload = crate::server::dump_payload(body);
                args(
                    &mut session,
                    &[b"RESTORE", &key(*k), b"0", &payload, b"REPLACE"],
                )
            }
            Op::DumpRestore(from, to) => match args(&mut session, &[b"DUMP", &key(*from)]) {
                Frame::Bulk(payload) if flavor == Flavor::Redis => {
                    let reply = args(
                        &mut session,
                        &[b"RESTORE", &key(*to), b"0", &payload, b"REPLACE"],
                    );
                    assert_eq!(reply, Frame::Simple("OK".into()), "DUMP's payload refused");
                    reply
                }
                other => other,
            },
            Op::Registry(seed) => {
                let mut rng = crate::netfuzz::Rng::new(*seed);
                match registry_grammar().command(&mut rng, "k") {
                    Some((_, argv)) => session.execute(Frame::command(&argv)),
                    None => Frame::Null,
                }
            }
        };
        if flavor == Flavor::Redis && !session.should_close() {
            check_invariants(&mut session);
        }
    }
}

fn check_invariants(session: &mut Session) {
    let keys = match args(session, &[b"KEYS", b"*"]) {
        Frame::Array(keys) => keys,
        other => panic!("KEYS answered {other:?}"),
    };
    let Frame::Integer(size) = args(session, &[b"DBSIZE"]) else {
        panic!("DBSIZE is not an integer")
    };
    // Keys can only expire between the two commands, never appear.
    assert!(
        size <= keys.len() as i64,
        "DBSIZE {size} > {} keys listed",
        keys.len()
    );
    for k in keys {
        let Frame::Bulk(k) = k else {
            panic!("KEYS listed a non-bulk")
        };
        match args(session, &[b"TTL", &k]) {
            Frame::Integer(t) => assert!(t >= -2, "TTL {t} for a key"),
            other => panic!("TTL answered {other:?}"),
        }
        if let Frame::Simple(t) = args(session, &[b"TYPE", &k]) {
            if &t[..] == b"hash" {
                let len = args(session, &[b"HLEN", &k]);
                let all = args(session, &[b"HGETALL", &k]);
                let pairs = match all {
                    Frame::Map(p) => p.len() as i64,
                    Frame::Array(items) => items.len() as i64 / 2,
                    _ => -1,
                };
                if let Frame::Integer(len) = len {
                    assert!(
                        pairs == len || pairs == 0,
                        "HLEN {len} but HGETALL has {pairs} pairs"
                    );
                }
            }
        }
    }
}
