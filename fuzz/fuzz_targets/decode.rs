//! The `decode` target: see `respect::fuzzing::check_decode` for the property (shared with the corpus
//! replay in `cargo test`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    respect::fuzzing::check_decode(data);
});
