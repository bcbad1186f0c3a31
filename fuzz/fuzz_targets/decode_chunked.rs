//! The `decode_chunked` target: see `respect::fuzzing::check_decode_chunked` for the property (shared with the corpus
//! replay in `cargo test`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    respect::fuzzing::check_decode_chunked(data);
});
