//! `respect run` from the outside: exit codes and report formats.

use assert_cmd::Command;

fn respect() -> Command {
    Command::cargo_bin("respect").expect("binary")
}

#[test]
fn the_readme_command_passes_on_the_embedded_server() {
    let out = respect()
        .args(["run", "--filter", "nulls"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("PASS") && text.contains("0 FAIL, 0 ERROR"),
        "{text}"
    );
}

#[test]
fn json_and_junit_and_markdown_reports() {
    let dir = std::env::temp_dir().join(format!("respect-reports-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (format, check) in [
        ("json", "\"outcome\": \"PASS\""),
        ("junit", "<testsuite"),
        ("markdown", "| PASS | NON-STRICT |"),
    ] {
        let file = dir.join(format!("report.{format}"));
        respect()
            .args(["run", "--filter", "strings", "--format", format, "--output"])
            .arg(&file)
            .assert()
            .success();
        let text = std::fs::read_to_string(&file).expect("report written");
        assert!(text.contains(check), "{format}: {text}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).expect("json"))
            .expect("valid json");
    assert!(json["counts"]["pass"].as_u64().unwrap_or(0) > 10);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_unreachable_server_is_one_line_and_exit_2() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let out = respect()
        .args([
            "run",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--filter",
            "y_ping",
            "--timeout",
            "500ms",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "no report for a run that could not happen"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("respect run: cannot connect to 127.0.0.1:{port}: connection refused\n")
    );
}

#[test]
fn a_silent_server_costs_one_timeout_per_scenario_not_a_hang() {
    // A listener that accepts and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let started = std::time::Instant::now();
    let out = respect()
        .args([
            "run",
            "--addr",
            &addr.to_string(),
            "--filter",
            "connection/y_",
            "--timeout",
            "300ms",
            "--jobs",
            "8",
            // Given, so the run does not stop at the target detection (tested below).
            "--target-version",
            "7.0.15",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    // The first request of each scenario (the cleanup's, before its steps) meets the silence.
    assert!(String::from_utf8_lossy(&out.stdout).contains("reply within 300ms"));
}

#[test]
fn a_silent_server_is_one_line_and_exit_2_when_its_version_is_asked() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let out = respect()
        .args(["run", "--addr", &addr.to_string(), "--timeout", "300ms"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("did not answer INFO within 300ms"),
        "{stderr}"
    );
}
