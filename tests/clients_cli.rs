//! `respect clients` from the outside: the fixture drivers (always), and the redis-py drivers
//! on a few scenarios (when a Python with redis-py and hiredis is at hand; required under CI).

mod support;

use assert_cmd::Command;

fn respect() -> Command {
    Command::cargo_bin("respect").expect("binary")
}

fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn verdicts(report: &serde_json::Value, client: &str) -> Vec<(String, String)> {
    let clients = report["clients"].as_array().cloned().unwrap_or_default();
    let run = clients
        .iter()
        .find(|c| c["client"] == client)
        .unwrap_or_else(|| panic!("no {client} in {report}"));
    run["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap_or("").to_string(),
                r["grade"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn fixture_drivers_give_every_verdict_and_exit_1() {
    let dir = fixtures();
    let out = respect()
        .args([
            "clients",
            "--client",
            "scripted",
            "--format",
            "json",
            "--drivers",
        ])
        .arg(dir.join("clients"))
        .arg("--dir")
        .arg(dir.join("clients-scenarios"))
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let got = verdicts(&report, "scripted");
    let grade = |id: &str| {
        got.iter()
            .find(|(i, _)| i == id)
            .map(|(_, g)| g.as_str())
            .unwrap_or("missing")
    };
    assert_eq!(grade("t.closed"), "PASS");
    assert_eq!(grade("t.hang"), "HANG");
    assert_eq!(grade("t.die"), "CRASH");
    assert_eq!(grade("t.ok-after-hang"), "NON-STRICT");
    assert_eq!(grade("t.unsupported"), "UNSUPPORTED");

    for (format, check) in [
        ("junit", "<testsuite name=\"respect clients: scripted\""),
        ("human", "| scripted | fixture 1 |"),
    ] {
        let out = respect()
            .args([
                "clients",
                "--client",
                "scripted",
                "--filter",
                "t.ok",
                "--format",
                format,
                "--drivers",
            ])
            .arg(dir.join("clients"))
            .arg("--dir")
            .arg(dir.join("clients-scenarios"))
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0), "only NON-STRICT: exit 0");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(check), "{format}: {text}");
    }
}

#[test]
fn an_unknown_driver_is_a_usage_error() {
    respect()
        .args(["clients", "--client", "no-such-library", "--drivers"])
        .arg(fixtures().join("clients"))
        .assert()
        .code(2);
}

#[test]
fn redis_py_drivers_grade_a_few_scenarios() {
    let Some(python) = support::python_with_redis_py() else {
        return;
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for filter in [
        "resp3.map-int-keys",
        "resp3/y_set.scenario",
        "close.close-mid-bulk",
        "resp2.bulk-binary",
    ] {
        let out = respect()
            .current_dir(root)
            .env("RESPECT_PYTHON", &python)
            .args([
                "clients",
                "--client",
                "redis-py",
                "--client",
                "redis-py-hiredis",
            ])
            .args(["--format", "json", "--filter", filter])
            .output()
            .expect("runs");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{filter}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
        for client in ["redis-py", "redis-py-hiredis"] {
            let got = verdicts(&report, client);
            assert_eq!(got.len(), 1, "{filter} {client}: {got:?}");
            let want = if filter.contains("y_set") {
                "NON-STRICT"
            } else {
                "PASS"
            };
            assert_eq!(got[0].1, want, "{filter} on {client}: {report}");
        }
        assert_eq!(out.status.code(), Some(0), "{filter}");
    }
}
