//! The `diff_redis_protocol` target: our decoder against the `redis-protocol` crate on the same
//! reply bytes; see `respect::fuzzing::check_diff_redis_protocol` (shared with the corpus
//! replay in `cargo test`) and `fuzz/findings/redis-protocol.md`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    respect::fuzzing::check_diff_redis_protocol(data);
});
