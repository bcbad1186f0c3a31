#!/bin/bash -eu
# Builds every fuzz target with the sanitizer flags the base image sets, and hands each one to
# ClusterFuzzLite with its dictionary and seed corpus (fuzz/README.md). The target list must
# be respect::fuzzing::TARGETS: `cargo test` (tests/fuzz_corpus.rs) checks that it is.
cd "$SRC/respect"
cargo fuzz build -O
for target in decode decode_chunked roundtrip server diff_redis_protocol diff_hiredis; do
  cp "fuzz/target/x86_64-unknown-linux-gnu/release/$target" "$OUT/"
  cp fuzz/resp.dict "$OUT/$target.dict"
  (cd "fuzz/corpus/$target" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
done
