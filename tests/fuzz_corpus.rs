//! Every file of the fuzz corpora replayed through the same checks the fuzz targets run, so a
//! regression fails `cargo test` without cargo-fuzz; and the target list of
//! `respect::fuzzing::TARGETS` is the one `fuzz/Cargo.toml` and its sources declare.
//!
//! A crash input worth keeping goes into `fuzz/corpus/<target>/`, where it is replayed here
//! and seeds every later fuzzing run (no crash input was ever committed; see `fuzz/README.md`).

use std::path::Path;

use respect::fuzzing::TARGETS;

#[test]
fn corpora_replay_cleanly() {
    let mut count = 0;
    for (target, check) in TARGETS {
        let dir = Path::new("fuzz/corpus").join(target);
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten();
        for entry in entries {
            let data = std::fs::read(entry.path()).expect("read corpus file");
            if std::panic::catch_unwind(|| check(&data)).is_err() {
                panic!("{} fails its property", entry.path().display());
            }
            count += 1;
        }
    }
    assert!(count >= 400, "only {count} corpus files");
}

/// The `[[bin]]` names of `fuzz/Cargo.toml` (a line `name = "..."` after each `[[bin]]`).
fn declared_bins() -> Vec<String> {
    let manifest = std::fs::read_to_string("fuzz/Cargo.toml").expect("fuzz/Cargo.toml");
    let mut bins = Vec::new();
    let mut in_bin = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if let Some(name) = line.strip_prefix("name = ").filter(|_| in_bin) {
            bins.push(name.trim_matches('"').to_string());
        }
    }
    bins
}

#[test]
fn the_fuzz_manifest_declares_exactly_the_targets() {
    let mut declared = declared_bins();
    declared.sort();
    let mut ours: Vec<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    ours.sort();
    assert_eq!(
        declared, ours,
        "fuzz/Cargo.toml vs respect::fuzzing::TARGETS"
    );
    for (name, _) in TARGETS {
        let source = std::fs::read_to_string(format!("fuzz/fuzz_targets/{name}.rs"))
            .unwrap_or_else(|e| panic!("fuzz/fuzz_targets/{name}.rs: {e}"));
        assert!(
            source.contains(&format!("respect::fuzzing::check_{name}(")),
            "fuzz/fuzz_targets/{name}.rs does not run check_{name}"
        );
    }
}

#[test]
fn ci_fuzzes_the_targets_the_manifest_declares() {
    let ci = std::fs::read_to_string(".ci/run").expect(".ci/run");
    assert!(
        ci.contains("targets=\"$(cargo fuzz list)\""),
        ".ci/run should take its targets from `cargo fuzz list`, not a list of its own"
    );
}

/// ClusterFuzzLite builds and uploads the targets the manifest declares (checked against
/// `respect::fuzzing::TARGETS` above), taken from `cargo fuzz list` as `.ci/run` does, not from
/// a list of its own.
#[test]
fn clusterfuzzlite_builds_every_target() {
    let script = std::fs::read_to_string(".clusterfuzzlite/build.sh").expect("build.sh");
    assert!(
        script.contains("targets=\"$(cargo fuzz list)\"")
            && script.contains("for target in $targets; do"),
        ".clusterfuzzlite/build.sh should take its targets from `cargo fuzz list`"
    );
    let project = std::fs::read_to_string(".clusterfuzzlite/project.yaml").expect("project.yaml");
    assert!(project.contains("language: rust"));
}
