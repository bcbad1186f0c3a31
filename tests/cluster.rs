//! The harness against a real Redis Cluster: three redis-server masters on free loopback
//! ports, joined by `redis-cli --cluster create`. `respect run --cluster` finds the nodes,
//! runs each scenario on the master serving its slot, SKIPS (with a reason) what a cluster
//! cannot run, and leaves no key on any node; the harness's own traffic follows -MOVED (a map
//! that routes to the wrong node on purpose) and -ASK (a slot set migrating, then undone).
//! Skipped with a message when redis-server or redis-cli is missing (a failure under CI).

mod support;

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use respect::client::Client;
use respect::conformance::cluster::{key_slot, Cluster, Link, SlotMap};
use respect::conformance::runner::run_scenarios;
use respect::conformance::{load_dir, Outcome, RunOptions};
use respect::resp::{Dialect, Frame};
use support::{free_port, tool_missing, ServerProcess};

/// How long a new cluster may take to agree that every slot is served.
const CLUSTER_READY: Duration = Duration::from_secs(30);

/// Three masters in a temporary folder; every process is stopped and the folder removed on
/// drop, however the test ends.
struct TestCluster {
    nodes: Vec<ServerProcess>,
    dir: PathBuf,
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        // Stop the servers (ServerProcess's own drop) before their folder goes.
        self.nodes.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl TestCluster {
    /// Starts and joins the cluster; `None` when the tools are missing (and not under CI).
    fn start() -> Option<TestCluster> {
        if tool_missing("redis-server") || tool_missing("redis-cli") {
            return None;
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let dir =
            std::env::temp_dir().join(format!("respect-cluster-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        let mut cluster = TestCluster {
            nodes: Vec::new(),
            dir,
        };
        for _ in 0..3 {
            let dir = cluster.dir.clone();
            let node = ServerProcess::spawn(OsStr::new("redis-server"), move |port| {
                // The cluster bus gets its own free port: port + 10000 may be taken or > 65535.
                let bus = free_port().to_string();
                let config = dir.join(format!("nodes-{port}.conf"));
                [
                    "--port",
                    &port.to_string(),
                    "--cluster-port",
                    &bus,
                    "--bind",
                    "127.0.0.1",
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    &config.display().to_string(),
                    "--dir",
                    &dir.display().to_string(),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    // The DEBUG scenarios run here too: this cluster is the test's own.
                    "--enable-debug-command",
                    "yes",
                ]
                .map(String::from)
                .to_vec()
            });
            cluster.nodes.push(node);
        }
        let status = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(cluster.addrs().iter().map(|a| a.to_string()))
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run redis-cli --cluster create");
        assert!(status.success(), "redis-cli --cluster create: {status}");
        Some(cluster)
    }

    fn addrs(&self) -> Vec<SocketAddr> {
        self.nodes.iter().map(|n| n.addr).collect()
    }

    /// Waits until every node says `cluster_state:ok`.
    async fn wait_ready(&self) {
        let started = Instant::now();
        for addr in self.addrs() {
            let mut client = Client::connect(addr, Dialect::Resp2)
                .await
                .expect("connect to a node");
            loop {
                let info = client
                    .call(&["CLUSTER", "INFO"])
                    .await
                    .expect("CLUSTER INFO");
                let ok = info
                    .as_bytes()
                    .is_some_and(|t| t.starts_with(b"cluster_state:ok"));
                if ok {
                    break;
                }
                assert!(
                    started.elapsed() < CLUSTER_READY,
                    "{addr} not ready after {CLUSTER_READY:?}: {info}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }

    /// Every `respect:*` key on every node.
    async fn harness_keys(&self) -> Vec<String> {
        let mut left = Vec::new();
        for addr in self.addrs() {
            let mut client = Client::connect(addr, Dialect::Resp2)
                .await
                .expect("connect to a node");
            let reply = client
                .call(&["KEYS", "respect:*"])
                .await
                .expect("KEYS respect:*");
            let Frame::Array(keys) = reply else {
                panic!("KEYS answered {reply}")
            };
            left.extend(
                keys.iter()
                    .filter_map(Frame::as_bytes)
                    .map(|k| format!("{addr}: {}", String::from_utf8_lossy(k))),
            );
        }
        left
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_runs_on_a_three_master_cluster_and_leaves_no_key() {
    let Some(cluster) = TestCluster::start() else {
        return;
    };
    cluster.wait_ready().await;
    let seed = cluster.addrs()[0];
    let report_path = cluster.dir.join("report.json");
    let output = Command::new(env!("CARGO_BIN_EXE_respect"))
        .args(["run", "--cluster", "--addr", &seed.to_string()])
        .args(["--format", "json", "--output"])
        .arg(&report_path)
        .output()
        .expect("run respect");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).unwrap_or_default())
            .unwrap_or_else(|e| panic!("no JSON report ({e}); stderr: {stderr}"));
    let results = report["results"].as_array().expect("results");
    let bad: Vec<String> = results
        .iter()
        .filter(|r| matches!(r["outcome"].as_str(), Some("FAIL" | "ERROR")))
        .map(|r| format!("{} {}: {}", r["outcome"], r["id"], r["detail"]))
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let target = report["target"].as_str().unwrap_or_default();
    assert!(target.contains("a cluster of 3 masters"), "{target}");
    for r in results {
        let outcome = r["outcome"].as_str().unwrap_or_default();
        let detail = r["detail"].as_str().unwrap_or_default();
        if outcome == "SKIPPED" {
            assert!(
                !detail.trim().is_empty(),
                "{} SKIPPED without a reason",
                r["id"]
            );
        }
    }
    // The cluster-protocol scenarios all run and pass here (bar the one about standalone
    // servers, which a cluster node answers otherwise).
    let cluster_only: Vec<String> = load_dir(Path::new("conformance"))
        .expect("the corpus parses")
        .into_iter()
        .filter(|s| s.cluster.needs_cluster())
        .map(|s| s.id)
        .collect();
    assert!(cluster_only.len() >= 6, "{cluster_only:?}");
    for id in &cluster_only {
        let outcome = results
            .iter()
            .find(|r| r["id"].as_str() == Some(id))
            .map(|r| r["outcome"].clone());
        assert_eq!(outcome, Some("PASS".into()), "{id}");
    }
    // Most of the suite runs: SKIPPED is for what a cluster cannot do, not a way out. The
    // measure is over the scenarios a default run takes on any server: the ones that flush or
    // change global settings wait for --allow-flush/--allow-global everywhere, cluster or not.
    let opt_in: Vec<String> = load_dir(Path::new("conformance"))
        .expect("the corpus parses")
        .into_iter()
        .filter(|s| s.destructive || s.global)
        .map(|s| s.id)
        .collect();
    let by_default: Vec<&serde_json::Value> = results
        .iter()
        .filter(|r| !opt_in.iter().any(|id| r["id"].as_str() == Some(id)))
        .collect();
    let passed = by_default.iter().filter(|r| r["outcome"] == "PASS").count();
    let not_passed: Vec<String> = by_default
        .iter()
        .filter(|r| r["outcome"] != "PASS")
        .map(|r| format!("{} {}: {}", r["outcome"], r["id"], r["detail"]))
        .collect();
    assert!(
        passed * 100 >= by_default.len() * 95,
        "{passed} of {} PASS; the rest:\n{}",
        by_default.len(),
        not_passed.join("\n")
    );
    let left = cluster.harness_keys().await;
    assert!(left.is_empty(), "keys left behind: {left:?}");
}

fn options_for(cluster: Arc<Cluster>) -> RunOptions {
    RunOptions {
        cluster: Some(cluster),
        ..RunOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_routed_to_the_wrong_node_follows_moved() {
    let Some(cluster) = TestCluster::start() else {
        return;
    };
    cluster.wait_ready().await;
    let seed = cluster.addrs()[0];
    let options = RunOptions::default();
    let real = Cluster::discover(seed, &options)
        .await
        .expect("the slot map");
    let scenario = load_dir(Path::new("conformance"))
        .expect("the corpus parses")
        .into_iter()
        .find(|s| s.id == "redis.strings.set-get")
        .expect("a strings scenario");
    let slot = key_slot(scenario.key_prefix().as_bytes());
    let owner = real.master_of(slot);
    let wrong = cluster
        .addrs()
        .into_iter()
        .find(|a| *a != owner)
        .expect("another master");
    // A map that puts every slot on a node that does not serve this scenario's.
    let stale = Arc::new(Cluster::with_map(seed, &options, SlotMap::all_on(wrong)));
    let results = run_scenarios(
        wrong,
        vec![scenario.clone()],
        &options_for(stale.clone()),
        &|_| {},
    )
    .await;
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].outcome, Outcome::Pass, "{:?}", results[0].detail);
    assert!(stale.refreshes() >= 1, "the map was never read again");
    assert_eq!(stale.master_of(slot), owner, "the map was not corrected");
    let left = cluster.harness_keys().await;
    assert!(left.is_empty(), "keys left behind: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_harness_follows_ask_while_a_slot_migrates() {
    let Some(cluster) = TestCluster::start() else {
        return;
    };
    cluster.wait_ready().await;
    let seed = cluster.addrs()[0];
    let options = RunOptions::default();
    let known = Arc::new(
        Cluster::discover(seed, &options)
            .await
            .expect("the slot map"),
    );
    let key = format!("respect:{{ask-{}}}:k", std::process::id());
    let slot = key_slot(key.as_bytes()).to_string();
    let source = known.master_of(key_slot(key.as_bytes()));
    let target = cluster
        .addrs()
        .into_iter()
        .find(|a| *a != source)
        .expect("another master");
    let node_id = |addr: SocketAddr| async move {
        let mut c = Client::connect(addr, Dialect::Resp2)
            .await
            .expect("connect");
        let id = c.call(&["CLUSTER", "MYID"]).await.expect("CLUSTER MYID");
        (
            c,
            String::from_utf8_lossy(id.as_bytes().expect("an id")).into_owned(),
        )
    };
    let (mut to, target_id) = node_id(target).await;
    let (mut from, source_id) = node_id(source).await;
    // The slot holds no key, so marking it migrating moves nothing and is undone by STABLE.
    let importing = to
        .call(&["CLUSTER", "SETSLOT", &slot, "IMPORTING", &source_id])
        .await
        .expect("IMPORTING");
    assert_eq!(importing, Frame::Simple("OK".into()));
    let migrating = from
        .call(&["CLUSTER", "SETSLOT", &slot, "MIGRATING", &target_id])
        .await
        .expect("MIGRATING");
    assert_eq!(migrating, Frame::Simple("OK".into()));
    // A key the source does not hold is asked for on the target: the bytes Redis sends.
    let asked = from.call(&["GET", &key]).await.expect("GET");
    assert_eq!(
        asked,
        Frame::Error(format!("ASK {slot} {target}").into()),
        "the source's answer"
    );
    let run = options_for(known.clone());
    let mut link = Link::open(source, Some(&known), &run)
        .await
        .expect("a link");
    let set = link
        .call(&[b"SET", key.as_bytes(), b"v"])
        .await
        .expect("SET");
    assert_eq!(set, Frame::Simple("OK".into()));
    let deleted = link.call(&[b"DEL", key.as_bytes()]).await.expect("DEL");
    assert_eq!(
        deleted,
        Frame::Integer(1),
        "the key was written on the target"
    );
    assert_eq!(
        link.addr(),
        source,
        "ASK is for one command: the link stays"
    );
    for node in [&mut from, &mut to] {
        let stable = node
            .call(&["CLUSTER", "SETSLOT", &slot, "STABLE"])
            .await
            .expect("STABLE");
        assert_eq!(stable, Frame::Simple("OK".into()));
    }
    let left = cluster.harness_keys().await;
    assert!(left.is_empty(), "keys left behind: {left:?}");
}
