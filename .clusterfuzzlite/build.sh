#!/bin/bash -eu
# Builds every fuzz target with the sanitizer flags the base image sets, and hands each one to
# ClusterFuzzLite with its dictionary and seed corpus (fuzz/README.md). The targets are the
# ones fuzz/Cargo.toml declares, as in .ci/run (tests/fuzz_corpus.rs checks those against
# respect::fuzzing::TARGETS). Assigned first, so that a failing `cargo fuzz list` fails the build.
cd "$SRC/respect"
cargo fuzz build -O
targets="$(cargo fuzz list)"
[ -n "$targets" ] || { echo "cargo fuzz list names no target"; exit 1; }
for target in $targets; do
  cp "fuzz/target/x86_64-unknown-linux-gnu/release/$target" "$OUT/"
  cp fuzz/resp.dict "$OUT/$target.dict"
  (cd "fuzz/corpus/$target" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
done
