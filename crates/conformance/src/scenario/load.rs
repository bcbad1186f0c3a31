//! Reading scenario files from disk: one file, or every file under a scenario root, with the
//! size limit that keeps a hostile file from being read whole.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::identity::EXTENSION;
use super::parse::ParseError;
use super::types::Scenario;

/// Largest scenario file read.
pub const MAX_SCENARIO_FILE: u64 = 1024 * 1024;

/// Reads a file, refusing one larger than [`MAX_SCENARIO_FILE`].
pub(crate) fn read(path: &Path) -> Result<String, ParseError> {
    let fail = |message: String| ParseError {
        path: path.display().to_string(),
        line: 0,
        message,
    };
    let size = std::fs::metadata(path)
        .map_err(|e| fail(e.to_string()))?
        .len();
    if size > MAX_SCENARIO_FILE {
        return Err(fail(format!("larger than {MAX_SCENARIO_FILE} bytes")));
    }
    std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))
}

impl Scenario {
    /// Reads and parses one file outside any scenario root (see [`Scenario::parse`]).
    pub fn load(path: &Path) -> Result<Scenario, ParseError> {
        Scenario::parse(path, &read(path)?)
    }

    /// Reads and parses one file under the scenario root `root`: its id comes from its path
    /// (see [`Scenario::parse_under`]).
    pub fn load_under(root: &Path, path: &Path) -> Result<Scenario, ParseError> {
        Scenario::parse_under(root, path, &read(path)?)
    }
}

/// The folder under the scenario root that holds client scenarios, another format
/// (`crate::clients::scenario`): server runs do not read it.
pub const CLIENTS_FOLDER: &str = "clients";

/// Every `*.scenario` file under the scenario root `dir`, parsed, sorted by path, except the
/// client scenarios of `dir/clients/` ([`CLIENTS_FOLDER`]). Two files with one id are an error
/// (the id names the keys a scenario may touch).
pub fn load_dir(dir: &Path) -> Result<Vec<Scenario>, ParseError> {
    let files = scenario_files(dir, Some(CLIENTS_FOLDER))?;
    let scenarios: Vec<Scenario> = files
        .iter()
        .map(|p| Scenario::load_under(dir, p))
        .collect::<Result<_, _>>()?;
    let mut seen: BTreeMap<&str, &Path> = BTreeMap::new();
    for s in &scenarios {
        if let Some(other) = seen.insert(&s.id, &s.path) {
            return Err(ParseError {
                path: s.path.display().to_string(),
                line: 0,
                message: format!("id `{}` is also the id of {}", s.id, other.display()),
            });
        }
    }
    Ok(scenarios)
}

/// Every `*.scenario` file under `dir`, sorted by path, leaving out the folder `skip` directly
/// under it (the client scenarios, for server runs).
pub(crate) fn scenario_files(dir: &Path, skip: Option<&str>) -> Result<Vec<PathBuf>, ParseError> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| ParseError {
            path: d.display().to_string(),
            line: 0,
            message: e.to_string(),
        })?;
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                if d == dir && skip.is_some_and(|s| entry.file_name() == s) {
                    continue;
                }
                pending.push(p);
            } else if p.extension().is_some_and(|e| e == EXTENSION) {
                files.push(p);
            }
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::identity::id_from_path;
    use crate::scenario::Step;

    fn corpus() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance")
    }

    /// A guest may not change a server's settings, its other clients or its server-wide
    /// state: every scenario that sends a command that would (if the target wrongly accepted
    /// it: a CLIENT PAUSE of -1 read as forever, a REPLICAOF of a bad port taken) is
    /// `# global: yes`, so it runs only with `--allow-global`, alone. So is every scenario
    /// calling a cjson setting function with arguments (the setting outlives the scenario).
    #[test]
    fn every_scenario_that_can_change_server_settings_is_global() {
        const SETTING_COMMANDS: &[&str] = &[
            "CONFIG SET",
            "CONFIG RESETSTAT",
            "DEBUG SET-ACTIVE-EXPIRE",
            "CLIENT PAUSE",
            "CLIENT UNPAUSE",
            "CLIENT KILL",
            "REPLICAOF",
            "SLAVEOF",
            "SLOWLOG RESET",
            "SCRIPT FLUSH",
            "SCRIPT KILL",
            "FUNCTION FLUSH",
            "FUNCTION DELETE",
            "FUNCTION RESTORE",
            "FUNCTION KILL",
            "FUNCTION LOAD",
        ];
        let root = corpus();
        for s in load_dir(&root).expect("the corpus loads") {
            let text = std::fs::read_to_string(&s.path).expect("readable");
            let sends = text
                .lines()
                .filter_map(|l| l.strip_prefix("> "))
                .map(str::to_ascii_uppercase);
            for sent in sends {
                // A cjson setting lasts for the server's Lua state, beyond the scenario.
                let cjson_setting = ["CJSON.ENCODE_", "CJSON.DECODE_"].iter().any(|setter| {
                    sent.match_indices(setter).any(|(at, _)| {
                        let rest = sent.get(at + setter.len()..).unwrap_or_default();
                        let args = rest.split_once('(').map_or("", |(_, a)| a);
                        !args.starts_with(')')
                    })
                });
                if cjson_setting || SETTING_COMMANDS.iter().any(|c| sent.starts_with(c)) {
                    assert!(
                        s.global,
                        "{} sends `{sent}` without `# global: yes`",
                        s.path.display()
                    );
                }
            }
        }
    }

    /// A scenario that reads no reply asserts nothing: it would PASS on any server.
    #[test]
    fn every_scenario_checks_a_reply() {
        for s in load_dir(&corpus()).expect("the corpus loads") {
            assert!(
                s.steps.iter().any(|step| matches!(step, Step::Expect(_))),
                "{} checks no reply",
                s.path.display()
            );
        }
    }

    /// Identity comes from the path; a `# id:` header may only repeat it (the corpus has none
    /// left: they repeated their paths, so the path is the one source).
    #[test]
    fn every_id_comes_from_the_path_and_any_header_agrees() {
        let root = corpus();
        let all = load_dir(&root).expect("the corpus loads");
        for s in &all {
            let relative = s.path.strip_prefix(&root).expect("under the root");
            assert_eq!(s.id, id_from_path(relative), "{}", s.path.display());
            let text = std::fs::read_to_string(&s.path).expect("readable");
            for line in text.lines() {
                if let Some(id) = line.strip_prefix("# id:") {
                    assert_eq!(id.trim(), s.id, "{}", s.path.display());
                }
            }
        }
    }

    #[test]
    fn a_header_that_disagrees_with_the_path_is_refused() {
        let root = Path::new("suite");
        let path = root.join("redis/nulls/y_get_missing.scenario");
        let ok = Scenario::parse_under(root, &path, "# id: redis.nulls.get-missing\n> PING\n");
        assert_eq!(ok.expect("agrees").id, "redis.nulls.get-missing");
        let bare = Scenario::parse_under(root, &path, "> PING\n").expect("no header");
        assert_eq!(
            bare.key_prefix(),
            format!(
                "respect:{{{}:redis.nulls.get-missing}}:",
                super::super::template::run_token()
            )
        );
        let e = Scenario::parse_under(root, &path, "# id: other\n> PING\n").unwrap_err();
        assert_eq!(e.line, 1, "{e}");
    }

    #[test]
    fn two_files_with_one_id_are_refused() {
        let dir = std::env::temp_dir().join(format!("respect-ids-{}", std::process::id()));
        let area = dir.join("redis/area");
        std::fs::create_dir_all(&area).expect("temp dir");
        std::fs::write(area.join("y_same.scenario"), "> PING\n").expect("write");
        std::fs::write(area.join("n_same.scenario"), "> PING\n").expect("write");
        let e = load_dir(&dir).unwrap_err();
        assert!(e.message.contains("redis.area.same"), "{e}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
