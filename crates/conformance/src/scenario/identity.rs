//! What a scenario's path says about it, as in JSONTestSuite: the file name's prefix is the
//! verdict, the folders are the area, and together they are the scenario's identity.
//!
//! The id of `redis/nulls/y_get_missing_key.scenario` (a path under the scenario root) is
//! `redis.nulls.get-missing-key`: the folders joined by `.`, then the file stem without its
//! verdict prefix (`y_`, `n_`, `i_`) and with `_` written `-`. The verdict is left out so that a
//! scenario keeps its id (and its key prefix, `respect:<id>:`) when its verdict is revised;
//! two files whose ids would collide (`y_x` and `n_x` in one folder) are refused when a folder
//! is loaded ([`super::load::load_dir`]).

use std::path::{Component, Path};

use respect_resp::Flavor;

use super::types::Verdict;

/// The extension of scenario files.
pub const EXTENSION: &str = "scenario";

/// The id of the scenario at `relative`, a path under the scenario root (see the module doc).
/// Non-UTF-8 path bytes are replaced (lossy), as ids are text.
pub fn id_from_path(relative: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    let folders = relative
        .parent()
        .map(Path::components)
        .into_iter()
        .flatten();
    for component in folders {
        if let Component::Normal(name) = component {
            parts.push(name.to_string_lossy().into_owned());
        }
    }
    let stem = relative
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let title = ["y_", "n_", "i_"]
        .iter()
        .find_map(|prefix| stem.strip_prefix(prefix))
        .unwrap_or(&stem);
    parts.push(title.replace('_', "-"));
    parts.join(".")
}

/// The verdict the file name's prefix states (`y_` when it has none).
pub fn verdict_of(path: &Path) -> Verdict {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.starts_with("n_") {
        Verdict::Reject
    } else if name.starts_with("i_") {
        Verdict::ImplementationDefined
    } else {
        Verdict::Accept
    }
}

/// The flavor a path implies: seed under a `seed` folder, else redis (a `# flavor:` header
/// overrides it).
pub fn flavor_of(path: &Path) -> Flavor {
    if path.components().any(|c| c.as_os_str() == "seed") {
        Flavor::Seed
    } else {
        Flavor::Redis
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_the_folders_and_the_title() {
        let id = |p: &str| id_from_path(Path::new(p));
        assert_eq!(
            id("redis/nulls/y_get_missing_key.scenario"),
            "redis.nulls.get-missing-key"
        );
        assert_eq!(
            id("seed/types/i_float_value.scenario"),
            "seed.types.float-value"
        );
        assert_eq!(id("n_netfuzz_7_3.scenario"), "netfuzz-7-3");
        assert_eq!(id("./a/b/plain.scenario"), "a.b.plain");
    }

    #[test]
    fn the_verdict_is_the_prefix() {
        assert_eq!(verdict_of(Path::new("a/n_x.scenario")), Verdict::Reject);
        assert_eq!(
            verdict_of(Path::new("a/i_x.scenario")),
            Verdict::ImplementationDefined
        );
        assert_eq!(verdict_of(Path::new("a/y_x.scenario")), Verdict::Accept);
    }
}
