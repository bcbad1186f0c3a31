//! The `diff_hiredis` target: our decoder against hiredis's C reply parser on the same RESP2
//! reply bytes; see `respect::diff_hiredis` (shared with the corpus replay in `cargo test`) and
//! `fuzz/findings/hiredis.md`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    respect::fuzzing::check_diff_hiredis(data);
});
