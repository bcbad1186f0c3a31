//! Key hygiene where the server has no SCAN: twemproxy (nutcracker) in front of a
//! redis-server, and the seed dialect. The run cleans by the exact keys each scenario names,
//! says so in its summary, leaves no key behind, and no scenario ends in an ERROR of the
//! cleanup itself. The nutcracker test is skipped with a message when nutcracker or
//! redis-server is missing (a failure under CI).

mod support;

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use respect::client::Client;
use respect::conformance::{run_suite, start_embedded, RunOptions, Selection};
use respect::resp::{Dialect, Flavor, Frame};
use support::{free_port, tool_missing, RedisServer, ServerProcess};

/// A nutcracker pool of one redis-server; its config lives in a temporary file removed on drop.
struct Proxy {
    process: ServerProcess,
    config: std::path::PathBuf,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.process.child.kill();
        let _ = self.process.child.wait();
        let _ = std::fs::remove_file(&self.config);
    }
}

fn nutcracker_in_front_of(backend: std::net::SocketAddr) -> Proxy {
    let config =
        std::env::temp_dir().join(format!("respect-nutcracker-{}.yml", std::process::id()));
    let path = config.clone();
    let process = ServerProcess::spawn(OsStr::new("nutcracker"), move |port| {
        let yaml = format!(
            "respect:\n  listen: 127.0.0.1:{port}\n  redis: true\n  hash: fnv1a_64\n  \
             distribution: ketama\n  servers:\n    - {backend}:1\n"
        );
        std::fs::write(&path, yaml).expect("write the nutcracker config");
        let stats = free_port().to_string();
        [
            "-c",
            &path.display().to_string(),
            "-s",
            &stats,
            "-a",
            "127.0.0.1",
        ]
        .map(String::from)
        .to_vec()
    });
    Proxy { process, config }
}

#[test]
fn a_run_through_twemproxy_cleans_by_name_and_leaves_no_key() {
    if tool_missing("nutcracker") {
        return;
    }
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let proxy = nutcracker_in_front_of(redis.addr);
    let report_path =
        std::env::temp_dir().join(format!("respect-nutcracker-{}.json", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_respect"))
        .args(["run", "--addr", &proxy.process.addr.to_string()])
        .args(["--format", "json", "--output"])
        .arg(&report_path)
        .output()
        .expect("run respect");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).unwrap_or_default())
            .expect("a JSON report");
    let _ = std::fs::remove_file(&report_path);
    // twemproxy refuses much of the suite (FAIL cells are its answers): exit 1, not 2.
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let target = report["target"].as_str().unwrap_or_default();
    assert!(target.contains("keys cleaned by name only"), "{target}");
    let results = report["results"].as_array().expect("results");
    let passed = results.iter().filter(|r| r["outcome"] == "PASS").count();
    assert!(passed > 100, "only {passed} PASS through twemproxy");
    let cleanup_errors: Vec<String> = results
        .iter()
        .filter(|r| {
            r["detail"].as_str().is_some_and(|d| {
                d.contains("cleaning its keys") || d.contains("before the scenario")
            })
        })
        .map(|r| format!("{}: {}", r["id"], r["detail"]))
        .collect();
    assert!(cleanup_errors.is_empty(), "{}", cleanup_errors.join("\n"));
    drop(proxy);
    let left = block_on(async {
        let mut client = Client::connect(redis.addr, Dialect::Resp2)
            .await
            .expect("connect to the backend");
        client.call(&["DBSIZE"]).await.expect("DBSIZE")
    });
    assert_eq!(left, Frame::Integer(0), "keys left on the backend");
}

fn block_on<T>(body: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_run_deletes_the_keys_it_named() {
    let server = start_embedded(Flavor::Seed).await.expect("our seed server");
    let report = run_suite(
        Path::new("conformance"),
        Some(server.addr()),
        Flavor::Seed,
        &Selection::default(),
        &RunOptions::default(),
        &|_| {},
    )
    .await
    .expect("the run happens");
    assert!(!report.failed(), "{}", report.summary());
    assert!(
        report.target.contains("keys cleaned by name only"),
        "{}",
        report.target
    );
    let mut client = Client::connect(server.addr(), Dialect::Seed)
        .await
        .expect("connect");
    let left = client.call(&["LEN"]).await.expect("LEN");
    assert_eq!(left, Frame::Integer(0), "keys left on the seed server");
    server.shutdown().await;
}
