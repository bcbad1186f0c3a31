//! Profiling aid: decodes 1M pipelined SET commands ten times (`cargo run --release --example
//! decode_small_set`), for perf or callgrind.
use bytes::BytesMut;
use respect_resp::{encode_into, Decoder, Dialect, Frame, Limits, Role};

fn main() {
    let mut input = BytesMut::new();
    for i in 0..1_000_000 {
        let key = format!("key:{i}");
        let value = format!("value:{i}");
        encode_into(
            &Frame::command([&b"SET"[..], key.as_bytes(), value.as_bytes()]),
            Dialect::Resp2,
            &mut input,
        );
    }
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10);
    let start = std::time::Instant::now();
    let mut frames = 0;
    for _ in 0..rounds {
        let mut decoder = Decoder::with_options(Dialect::Resp2, Role::Request, Limits::default());
        let mut buf = input.clone();
        while let Ok(Some(frame)) = decoder.decode(&mut buf) {
            std::hint::black_box(&frame);
            frames += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{frames} frames in {secs:.3}s: {:.2} M frames/s",
        frames as f64 / secs / 1e6
    );
}
