//! Every file of the fuzz corpora, and every input that ever crashed a target, replayed
//! through the same checks the fuzz targets run, so a regression fails `cargo test` without
//! cargo-fuzz.

use std::path::Path;

fn replay(folder: &str) -> usize {
    let mut count = 0;
    for target in [
        "decode",
        "decode_chunked",
        "roundtrip",
        "server",
        "diff_redis_protocol",
    ] {
        let dir = Path::new(folder).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let data = std::fs::read(entry.path()).expect("read corpus file");
            let run = || match target {
                "decode" => respect::fuzzing::check_decode(&data),
                "decode_chunked" => respect::fuzzing::check_decode_chunked(&data),
                "roundtrip" => respect::fuzzing::check_roundtrip(&data),
                "diff_redis_protocol" => respect::differential::check_diff_redis_protocol(&data),
                _ => respect::fuzzing::check_server(&data),
            };
            if std::panic::catch_unwind(run).is_err() {
                panic!("{} fails its property", entry.path().display());
            }
            count += 1;
        }
    }
    count
}

#[test]
fn corpora_replay_cleanly() {
    let n = replay("fuzz/corpus");
    assert!(n >= 400, "only {n} corpus files");
}

#[test]
fn regressions_replay_cleanly() {
    replay("fuzz/regressions");
}
