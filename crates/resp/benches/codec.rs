//! Decode and encode throughput, side by side with the `redis-protocol` crate (6.x) on the same
//! inputs and in the same run. `cargo bench --bench codec`; numbers are quoted as ratios in the
//! README. Frames per second are the `thrpt` lines (criterion's elements/s).
//!
//! Inputs:
//! - `small_set`: 1,000,000 pipelined `SET key:N value:N` commands (~40 bytes each);
//! - `value_1k`: 100,000 `SET` commands with a 1 KiB value;
//! - `value_1m`: 100 `SET` commands with a 1 MiB value;
//! - `resp3_mix`: 100,000 RESP3 replies (maps, sets, doubles, booleans, nulls, verbatim, big
//!   numbers, nested arrays);
//! - `byte_at_a_time`: one 16 MiB bulk string appended to the buffer one byte per call, against
//!   the same value decoded from a whole buffer (the time should be of the same order: no
//!   rescanning).

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use redis_protocol::resp2::decode::decode_bytes_mut as rp2_decode;
use redis_protocol::resp2::encode::extend_encode as rp2_encode;
use redis_protocol::resp2::types::BytesFrame as Rp2Frame;
use redis_protocol::resp3::decode::complete::decode_bytes_mut as rp3_decode;
use redis_protocol::resp3::encode::complete::extend_encode as rp3_encode;
use redis_protocol::resp3::types::BytesFrame as Rp3Frame;
use respect_resp::{encode_into, Decoder, Dialect, Frame, Limits, Role};

fn set_commands(n: usize, value_len: usize) -> Vec<u8> {
    let mut out = BytesMut::new();
    for i in 0..n {
        let value = if value_len == 0 {
            format!("value:{i}").into_bytes()
        } else {
            vec![b'v'; value_len]
        };
        let key = format!("key:{i}");
        encode_into(
            &Frame::command([&b"SET"[..], key.as_bytes(), &value]),
            Dialect::Resp2,
            &mut out,
        );
    }
    out.to_vec()
}

fn resp3_mix(n: usize) -> Vec<u8> {
    let replies: &[&[u8]] = &[
        b"%2\r\n$5\r\nfield\r\n$5\r\nvalue\r\n$3\r\nnum\r\n:42\r\n",
        b"~3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
        b",3.14159\r\n",
        b"#t\r\n",
        b"_\r\n",
        b"=15\r\ntxt:Some string\r\n",
        b"(3492890328409238509324850943850943825024385\r\n",
        b"*2\r\n*2\r\n:1\r\n:2\r\n$5\r\nhello\r\n",
        b"+OK\r\n",
        b"$11\r\nhello world\r\n",
    ];
    replies
        .iter()
        .cycle()
        .take(n)
        .flat_map(|r| r.iter().copied())
        .collect()
}

/// Our decoder over the whole buffer; returns the frame count.
fn ours(input: &[u8], dialect: Dialect, role: Role) -> usize {
    ours_from(BytesMut::from(input), dialect, role)
}

/// Our request view (`decode_request`): one refcount per command, arguments as ranges.
fn ours_requests(mut buf: BytesMut) -> usize {
    let mut decoder = Decoder::with_options(Dialect::Resp2, Role::Request, Limits::default());
    let mut n = 0;
    while let Ok(Some(request)) = decoder.decode_request(&mut buf) {
        std::hint::black_box(request);
        n += 1;
    }
    n
}

/// redis-protocol's zero-copy path: frames of ranges into the buffer, no `Bytes` at all.
fn theirs2_ranges(buf: BytesMut) -> usize {
    let mut at = 0;
    let mut n = 0;
    while let Ok(Some((frame, len))) = redis_protocol::resp2::decode::decode_range(&buf[at..]) {
        std::hint::black_box(frame);
        at += len;
        n += 1;
    }
    n
}

fn ours_from(mut buf: BytesMut, dialect: Dialect, role: Role) -> usize {
    let mut decoder = Decoder::with_options(dialect, role, Limits::default());
    let mut n = 0;
    while let Ok(Some(frame)) = decoder.decode(&mut buf) {
        std::hint::black_box(frame);
        n += 1;
    }
    n
}

fn theirs2_from(mut buf: BytesMut) -> usize {
    let mut n = 0;
    while let Ok(Some(frame)) = rp2_decode(&mut buf) {
        std::hint::black_box(frame);
        n += 1;
    }
    n
}

fn theirs3_from(mut buf: BytesMut) -> usize {
    let mut n = 0;
    while let Ok(Some(frame)) = rp3_decode(&mut buf) {
        std::hint::black_box(frame);
        n += 1;
    }
    n
}

fn decode_benches(c: &mut Criterion) {
    let cases: Vec<(&str, Vec<u8>, usize, bool)> = vec![
        ("small_set", set_commands(1_000_000, 0), 1_000_000, false),
        ("value_1k", set_commands(100_000, 1024), 100_000, false),
        ("value_1m", set_commands(100, 1024 * 1024), 100, false),
        ("resp3_mix", resp3_mix(100_000), 100_000, true),
    ];
    let mut group = c.benchmark_group("decode");
    group.sample_size(10);
    for (name, input, frames, resp3) in &cases {
        let dialect = if *resp3 {
            Dialect::Resp3
        } else {
            Dialect::Resp2
        };
        let theirs = if *resp3 { theirs3_from } else { theirs2_from };
        // The copy of the input into a fresh buffer is setup, not timed.
        let fresh = || BytesMut::from(&input[..]);
        // Every decoder must see every frame, or the comparison means nothing.
        assert_eq!(
            ours_from(fresh(), dialect, Role::Reply),
            *frames,
            "{name}: respect"
        );
        assert_eq!(theirs(fresh()), *frames, "{name}: redis-protocol");
        group.throughput(Throughput::Elements(*frames as u64));
        group.bench_function(BenchmarkId::new("respect", name), |b| {
            b.iter_batched(
                fresh,
                |buf| ours_from(buf, dialect, Role::Reply),
                BatchSize::LargeInput,
            )
        });
        group.bench_function(BenchmarkId::new("redis-protocol", name), |b| {
            b.iter_batched(fresh, theirs, BatchSize::LargeInput)
        });
        if !*resp3 {
            assert_eq!(
                ours_requests(fresh()),
                *frames,
                "{name}: respect decode_request"
            );
            assert_eq!(
                theirs2_ranges(fresh()),
                *frames,
                "{name}: redis-protocol decode_range"
            );
            group.bench_function(BenchmarkId::new("respect-request", name), |b| {
                b.iter_batched(
                    fresh,
                    |buf| ours_from(buf, Dialect::Resp2, Role::Request),
                    BatchSize::LargeInput,
                )
            });
            group.bench_function(BenchmarkId::new("respect-decode_request", name), |b| {
                b.iter_batched(fresh, ours_requests, BatchSize::LargeInput)
            });
            group.bench_function(BenchmarkId::new("redis-protocol-decode_range", name), |b| {
                b.iter_batched(fresh, theirs2_ranges, BatchSize::LargeInput)
            });
        }
    }
    group.finish();
}

/// A 1 MiB and a 16 MiB bulk string appended one byte per decode call, and decoded whole.
/// Linear work shows as the same bytes/s for both sizes.
fn byte_at_a_time(c: &mut Criterion) {
    let mut group = c.benchmark_group("byte_at_a_time");
    group.sample_size(10);
    for mib in [1usize, 16] {
        let len = mib * 1024 * 1024;
        let mut input = format!("${len}\r\n").into_bytes();
        input.resize(input.len() + len, b'x');
        input.extend_from_slice(b"\r\n");
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function(
            BenchmarkId::new("respect/whole", format!("{mib}MiB")),
            |b| b.iter(|| ours(&input, Dialect::Resp2, Role::Reply)),
        );
        group.bench_function(
            BenchmarkId::new("respect/1-byte-reads", format!("{mib}MiB")),
            |b| {
                b.iter(|| {
                    let mut decoder = Decoder::new(Dialect::Resp2);
                    assert_eq!(
                        feed_bytewise(&input, |buf| matches!(decoder.decode(buf), Ok(Some(_)))),
                        1
                    );
                })
            },
        );
        group.bench_function(
            BenchmarkId::new("redis-protocol/1-byte-reads", format!("{mib}MiB")),
            |b| {
                b.iter(|| {
                    assert_eq!(
                        feed_bytewise(&input, |buf| matches!(rp2_decode(buf), Ok(Some(_)))),
                        1
                    )
                })
            },
        );
    }
    group.finish();
}

/// Decodes `input` whole with `decode_one` (which pops one frame off the buffer).
fn collect_frames<T>(
    input: &[u8],
    mut decode_one: impl FnMut(&mut BytesMut) -> Option<T>,
) -> Vec<T> {
    let mut buf = BytesMut::from(input);
    std::iter::from_fn(|| decode_one(&mut buf)).collect()
}

/// Times encoding `frames` into one fresh buffer of `len` bytes' capacity.
fn bench_encoder<T>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: BenchmarkId,
    len: usize,
    frames: &[T],
    encode: impl Fn(&T, &mut BytesMut),
) {
    group.bench_function(id, |b| {
        b.iter_batched_ref(
            || BytesMut::with_capacity(len),
            |out| frames.iter().for_each(|f| encode(f, out)),
            BatchSize::LargeInput,
        )
    });
}

fn encode_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    group.sample_size(10);
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        ("small_set", set_commands(1_000_000, 0), false),
        ("value_1k", set_commands(100_000, 1024), false),
        ("value_1m", set_commands(100, 1024 * 1024), false),
        ("resp3_mix", resp3_mix(100_000), true),
    ];
    for (name, input, resp3) in &cases {
        let dialect = if *resp3 {
            Dialect::Resp3
        } else {
            Dialect::Resp2
        };
        let mut decoder = Decoder::new(dialect);
        let ours = collect_frames(input, |buf| decoder.decode(buf).ok().flatten());
        group.throughput(Throughput::Elements(ours.len() as u64));
        bench_encoder(
            &mut group,
            BenchmarkId::new("respect", name),
            input.len(),
            &ours,
            |f, out| encode_into(f, dialect, out),
        );
        let id = BenchmarkId::new("redis-protocol", name);
        if *resp3 {
            let theirs: Vec<Rp3Frame> =
                collect_frames(input, |buf| rp3_decode(buf).ok().flatten().map(|t| t.0));
            assert_eq!(theirs.len(), ours.len());
            bench_encoder(&mut group, id, input.len(), &theirs, |f, out| {
                let _ = rp3_encode(out, f, false);
            });
        } else {
            let theirs: Vec<Rp2Frame> =
                collect_frames(input, |buf| rp2_decode(buf).ok().flatten().map(|t| t.0));
            assert_eq!(theirs.len(), ours.len());
            bench_encoder(&mut group, id, input.len(), &theirs, |f, out| {
                let _ = rp2_encode(out, f, false);
            });
        }
    }
    group.finish();
}

/// Feeds `input` one byte per call to `decode_one`, returning how many frames came out.
fn feed_bytewise<F: FnMut(&mut BytesMut) -> bool>(input: &[u8], mut decode_one: F) -> usize {
    let mut buf = BytesMut::new();
    let mut frames = 0;
    for byte in input {
        buf.extend_from_slice(std::slice::from_ref(byte));
        while decode_one(&mut buf) {
            frames += 1;
        }
    }
    frames
}

/// Linearity under fragmentation: an array of 10,000 integers (~40 KB) arriving one byte per
/// read. A decoder that rescans from the frame's start on every read does ~n²/2 work here.
fn fragmented_array(c: &mut Criterion) {
    let mut input = b"*10000\r\n".to_vec();
    for _ in 0..10_000 {
        input.extend_from_slice(b":1\r\n");
    }
    let mut group = c.benchmark_group("fragmented_array_10k");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.bench_function("respect/1-byte-reads", |b| {
        b.iter(|| {
            let mut decoder = Decoder::new(Dialect::Resp2);
            assert_eq!(
                feed_bytewise(&input, |buf| matches!(decoder.decode(buf), Ok(Some(_)))),
                1
            );
        })
    });
    group.bench_function("redis-protocol/1-byte-reads", |b| {
        b.iter(|| {
            assert_eq!(
                feed_bytewise(&input, |buf| matches!(rp2_decode(buf), Ok(Some(_)))),
                1
            )
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    decode_benches,
    byte_at_a_time,
    fragmented_array,
    encode_benches
);
criterion_main!(benches);
