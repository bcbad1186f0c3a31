//! With feature `fuzzing`, the `diff_hiredis` property links hiredis's static library
//! (`src/hiredis.rs`): this tells rustc where it lies, from pkg-config or the usual
//! library folders (Debian's `libhiredis-dev`). Without the feature it does nothing.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_FUZZING").is_none() {
        return;
    }
    // Debian's hiredis.pc says /usr/lib although the archive is in the multiarch folder: the
    // first folder that holds libhiredis.a wins.
    let from_pkg_config = std::process::Command::new("pkg-config")
        .args(["--variable=libdir", "hiredis"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string());
    let candidates = from_pkg_config
        .into_iter()
        .chain(["/usr/lib/x86_64-linux-gnu", "/usr/local/lib", "/usr/lib"].map(String::from));
    for dir in candidates {
        if std::path::Path::new(&dir).join("libhiredis.a").exists() {
            println!("cargo:rustc-link-search=native={dir}");
            return;
        }
    }
    println!("cargo:warning=libhiredis.a not found (Debian: apt-get install libhiredis-dev)");
}
