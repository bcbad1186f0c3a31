//! The conformance harness, verified: the Redis suite passes on a real redis-server, both
//! suites pass on our server, and a deliberately broken server fails exactly the scenarios it
//! should.

mod support;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;

use bytes::BytesMut;
use respect::conformance::keys;
use respect::conformance::scenario::{Matcher, Step};
use respect::conformance::{load_dir, run_scenarios, start_embedded, Outcome, RunOptions};
use respect::resp::Flavor;
use respect::resp::{encode_into, Decoder, Dialect, Frame, Limits, Role};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The scenarios of `flavor` that a standalone server runs: those testing the cluster protocol
/// (`# cluster: only`) are SKIPPED here and run by `tests/cluster.rs`.
fn scenarios(flavor: Flavor) -> Vec<respect::conformance::Scenario> {
    load_dir(Path::new("conformance"))
        .expect("the corpus parses")
        .into_iter()
        .filter(|s| s.flavor == flavor && !s.cluster.needs_cluster())
        .collect()
}

fn options() -> RunOptions {
    RunOptions {
        timeout: std::time::Duration::from_secs(5),
        jobs: 4,
        allow_flush: true,
        allow_global: true,
        ..RunOptions::default()
    }
}

fn failures(results: &[respect::conformance::CaseResult]) -> Vec<String> {
    results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Fail | Outcome::Error))
        .map(|r| {
            format!(
                "{} {}: {}",
                r.outcome.label(),
                r.id,
                r.detail.clone().unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn the_corpus_is_large_and_named_by_verdict() {
    let all = load_dir(Path::new("conformance")).expect("the corpus parses");
    assert!(all.len() >= 200, "only {} scenarios", all.len());
    let mut ids = BTreeSet::new();
    for s in &all {
        assert!(ids.insert(s.id.clone()), "duplicate id {}", s.id);
        let name = s
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        assert!(
            name.starts_with("y_") || name.starts_with("n_") || name.starts_with("i_"),
            "{name}"
        );
        assert!(!s.title.is_empty(), "{} has no title", s.id);
    }
}

/// Scenarios run four at a time on one keyspace; one that named a key another also names
/// could see that key change under it (CI once saw `seed.types.deep-nested-arrays` overwrite
/// the `t` of `seed.types.binary-bytes-come-back-as-bulk`). So every key is under the
/// scenario's own prefix; the empty key, which cannot be, belongs to one scenario, and so do
/// two keys of two fixed hash slots, which a `-CROSSSLOT` check cannot do without (a scenario's
/// own keys all share its slot); the runner gives those scenarios the server to itself. So
/// does it to the DEBUG DIGEST scenario, which flushes the server (the digest covers the
/// keys' names, so they cannot carry the run's prefix).
#[test]
fn every_scenario_keeps_to_its_own_keys() {
    let all = load_dir(Path::new("conformance")).expect("the corpus parses");
    let mut outside = Vec::new();
    for s in &all {
        for key in keys::foreign_keys(s) {
            outside.push(format!("{} names {}", s.id, Frame::Bulk(key)));
        }
    }
    assert_eq!(
        outside,
        vec![
            "redis.bytes.empty-key names \"\"".to_string(),
            "redis.cluster.crossslot-keys-of-two-slots-in-one-command names \"respect:{crossslot-a}x\""
                .to_string(),
            "redis.cluster.crossslot-keys-of-two-slots-in-one-command names \"respect:{crossslot-b}y\""
                .to_string(),
        ]
        .into_iter()
        .chain(
            ["s", "l", "set", "h", "z"].map(|k| {
                format!("redis.persistence.debug-digest-of-the-dataset names \"digest:{k}\"")
            }),
        )
        .collect::<Vec<_>>(),
        "keys outside the scenario's prefix"
    );
    let shared = keys::shared_keys(&all);
    assert!(
        shared.is_empty(),
        "keys named by several scenarios: {shared:?}"
    );
    // The check sees keys at all: the corpus names hundreds under its prefixes.
    let named: usize = all.iter().map(|s| keys::scenario_keys(s).len()).sum();
    assert!(named > 300, "only {named} keys found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redis_suite_passes_on_redis_server() {
    let Some(redis) = support::RedisServer::start() else {
        return;
    };
    let results = run_scenarios(redis.addr, scenarios(Flavor::Redis), &options(), &|_| {}).await;
    let failed = failures(&results);
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    assert!(
        results.iter().all(|r| r.outcome == Outcome::Pass),
        "redis-server is the reference: every scenario is strict"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_suites_pass_on_our_server() {
    for flavor in Flavor::ALL {
        let server = start_embedded(flavor).await.expect("embedded server");
        let results = run_scenarios(server.addr(), scenarios(flavor), &options(), &|_| {}).await;
        let failed = failures(&results);
        assert!(failed.is_empty(), "{flavor:?}:\n{}", failed.join("\n"));
        server.shutdown().await;
    }
}

/// A proxy that adds 1000 to every top-level integer reply and passes everything else through
/// byte for byte: a server that is wrong about exactly one reply type.
async fn corrupting_proxy(upstream: SocketAddr) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
    let addr = listener.local_addr().expect("proxy addr");
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let up = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                    let _ = server_write.shutdown().await;
                });
                // RESP3 decoding reads RESP2 replies too, so HELLO 3 needs no tracking.
                let mut decoder =
                    Decoder::with_options(Dialect::Resp3, Role::Reply, Limits::default());
                let mut buf = BytesMut::new();
                loop {
                    let mut out = BytesMut::new();
                    let mut broken = false;
                    loop {
                        match decoder.decode_with_raw(&mut buf) {
                            Ok(Some((Frame::Integer(n), _))) => {
                                encode_into(&Frame::Integer(n + 1000), Dialect::Resp3, &mut out)
                            }
                            Ok(Some((_, raw))) => out.extend_from_slice(&raw),
                            Ok(None) => break,
                            Err(_) => {
                                broken = true;
                                break;
                            }
                        }
                    }
                    if broken {
                        out.extend_from_slice(&buf.split());
                    }
                    if client_write.write_all(&out).await.is_err() {
                        break;
                    }
                    buf.reserve(16 * 1024);
                    match server_read.read_buf(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
                let _ = client_write.shutdown().await;
                up.abort();
            });
        }
    });
    addr
}

/// Whether a scenario expects, strictly, a top-level integer somewhere: then the proxy must
/// make it fail.
fn expects_an_integer(scenario: &respect::conformance::Scenario) -> bool {
    scenario.steps.iter().any(|step| match step {
        Step::Expect(e) => matches!(
            e.alternatives.first(),
            Some(Matcher::Exact {
                frame: Frame::Integer(_),
                ..
            })
        ),
        _ => false,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_wrong_about_integers_fails_exactly_those_scenarios() {
    for flavor in Flavor::ALL {
        let server = start_embedded(flavor).await.expect("embedded server");
        let proxy = corrupting_proxy(server.addr()).await;
        let chosen = scenarios(flavor);
        // An implementation-defined (i_) scenario never fails: it reports NON-STRICT instead.
        let implementation_defined = |s: &&respect::conformance::Scenario| {
            s.verdict == respect::conformance::scenario::Verdict::ImplementationDefined
        };
        let predicted: BTreeSet<String> = chosen
            .iter()
            .filter(|s| expects_an_integer(s) && !implementation_defined(s))
            .map(|s| s.id.clone())
            .collect();
        let lenient: BTreeSet<String> = chosen
            .iter()
            .filter(|s| expects_an_integer(s) && implementation_defined(s))
            .map(|s| s.id.clone())
            .collect();
        let results = run_scenarios(proxy, chosen, &options(), &|_| {}).await;
        let failed: BTreeSet<String> = results
            .iter()
            .filter(|r| r.outcome == Outcome::Fail)
            .map(|r| r.id.clone())
            .collect();
        let errors = failures(&results)
            .into_iter()
            .filter(|f| f.starts_with("ERROR"))
            .collect::<Vec<_>>();
        assert!(errors.is_empty(), "{}", errors.join("\n"));
        assert!(
            predicted.len() > 20,
            "the corpus should have many integer replies"
        );
        assert_eq!(
            failed, predicted,
            "{flavor:?}: FAIL set differs from the scenarios that expect integers"
        );
        for id in &lenient {
            let outcome = results.iter().find(|r| &r.id == id).map(|r| r.outcome);
            assert_eq!(outcome, Some(Outcome::NonStrict), "{id}");
        }
        let detail = results
            .iter()
            .find(|r| r.outcome == Outcome::Fail)
            .and_then(|r| r.detail.clone())
            .unwrap_or_default();
        assert!(
            detail.contains("first difference at byte")
                && detail.contains("expected")
                && detail.contains("actual"),
            "a failure shows where the bytes differ: {detail}"
        );
        server.shutdown().await;
    }
}
