//! The network fuzzer against real servers: ours must survive it, a fragile one must be caught,
//! and on redis-server it finds only the one quirk we know of.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use respect::netfuzz::{fuzz, FuzzOptions, Problem};
use respect::resp::Flavor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn options(addr: SocketAddr, flavor: Flavor, runs: usize) -> FuzzOptions {
    FuzzOptions {
        addr,
        flavor,
        runs,
        duration: Duration::from_secs(60),
        rng_seed: 7,
        out: None,
        timeout: Duration::from_millis(500),
        budget: respect::client::ReplyBudget::default(),
        grammar: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_server_survives_the_fuzzer_in_both_flavors() {
    for flavor in Flavor::ALL {
        let server = respect::conformance::start_embedded(flavor)
            .await
            .expect("embedded");
        let report = fuzz(&options(server.addr(), flavor, 400), &|_, _| {})
            .await
            .expect("fuzz");
        assert_eq!(report.cases, 400);
        assert!(
            report.findings.is_empty(),
            "{flavor}: {:#?}",
            report.findings
        );
        if flavor == Flavor::Redis {
            // The names the generator uses are deleted at the end. (A mutated name such as
            // `respect:ne|fuzz:3` is the fuzzer's bytes, not a generated key, so only the
            // generated names are checked.)
            let mut client =
                respect::client::Client::connect(server.addr(), respect::resp::Dialect::Resp2)
                    .await
                    .expect("connect");
            let mut exists = vec!["EXISTS".to_string()];
            exists.extend((0..8).map(|i| format!("respect:netfuzz:{i}")));
            exists.extend(["a", "b", "c", "d"].map(|k| format!("respect:netfuzz:{k}")));
            let left = client.call(&exists).await.expect("EXISTS");
            assert_eq!(left, respect::resp::Frame::Integer(0), "keys left behind");
        }
        server.shutdown().await;
    }
}

/// A server that answers PING, but swallows any line starting with `$` without a word: the
/// fuzzer must report it.
async fn fragile_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while let Ok(n) = stream.read(&mut chunk).await {
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if buf.windows(4).any(|w| w == b"PING") {
                        buf.clear();
                        if stream.write_all(b"+PONG\r\n").await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn a_fragile_server_is_caught() {
    let addr = fragile_server().await;
    let report = fuzz(&options(addr, Flavor::Redis, 60), &|_, _| {})
        .await
        .expect("fuzz");
    assert!(
        !report.findings.is_empty(),
        "the fuzzer missed a server that swallows requests"
    );
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.problem != Problem::Unresponsive),
        "{:?}",
        report.findings
    );
}

#[tokio::test]
async fn findings_are_written_as_replayable_scenarios() {
    let addr = fragile_server().await;
    let dir = std::env::temp_dir().join(format!("respect-netfuzz-{}", std::process::id()));
    let mut o = options(addr, Flavor::Redis, 40);
    o.out = Some(dir.clone());
    let report = fuzz(&o, &|_, _| {}).await.expect("fuzz");
    let first = report.findings.first().expect("a finding");
    let scenario = first
        .files
        .iter()
        .find(|f| f.ends_with(".scenario"))
        .expect("a scenario file");
    let parsed = respect::conformance::Scenario::load(std::path::Path::new(scenario))
        .expect("the finding parses as a scenario");
    assert!(!parsed.steps.is_empty());
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn on_redis_server_only_the_nul_in_an_inline_line_is_found() {
    let Some(redis) = support::RedisServer::start() else {
        return;
    };
    let report = fuzz(&options(redis.addr, Flavor::Redis, 300), &|_, _| {})
        .await
        .expect("fuzz");
    for f in &report.findings {
        // Redis finds an inline line's end with strchr, which stops at a NUL: such a line waits
        // for a newline it already has. Anything else would be a new finding.
        assert!(
            f.bytes.contains("\\x00"),
            "unexpected finding on redis-server: {f:#?}"
        );
    }
}

#[test]
fn refuses_addresses_off_this_machine() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let o = options("192.0.2.1:6379".parse().expect("addr"), Flavor::Redis, 1);
    assert!(rt.block_on(fuzz(&o, &|_, _| {})).is_err());
}

/// `respect fuzz --against` leaves the two servers as it found them: every key it creates is
/// under its prefix and deleted after its sequence, and keys it did not create (named like the
/// values it generates: `3`, `v`, `field`) are neither read away nor changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_differential_fuzzer_leaves_nothing_and_touches_no_foreign_key() {
    use respect::netfuzz::against::{against, AgainstOptions};
    let a = respect::conformance::start_embedded(Flavor::Redis)
        .await
        .expect("embedded");
    let b = respect::conformance::start_embedded(Flavor::Redis)
        .await
        .expect("embedded");
    let foreign: Vec<String> = ["3", "2", "1", "0", "v", "w", "field", "member", "a b"]
        .map(String::from)
        .to_vec();
    for server in [&a, &b] {
        let mut client =
            respect::client::Client::connect(server.addr(), respect::resp::Dialect::Resp2)
                .await
                .expect("connect");
        for (i, k) in foreign.iter().enumerate() {
            let args = if i % 2 == 0 {
                ["ZADD", k.as_str(), "1", "m1", "2", "m2"]
            } else {
                ["RPUSH", k.as_str(), "m1", "m2", "m3", "m4"]
            };
            client.call(&args).await.expect("ZADD or RPUSH");
        }
    }
    let options = AgainstOptions {
        a: a.addr(),
        b: b.addr(),
        sequences: 100,
        duration: Duration::from_secs(60),
        length: 40,
        rng_seed: 11,
        out: None,
        timeout: Duration::from_millis(2000),
        budget: respect::client::ReplyBudget::default(),
        skip: Vec::new(),
    };
    let report = against(&options).await.expect("against");
    assert_eq!(report.sequences, 100);
    for server in [&a, &b] {
        assert_eq!(server.key_count(), foreign.len(), "keys left behind");
        let mut client =
            respect::client::Client::connect(server.addr(), respect::resp::Dialect::Resp2)
                .await
                .expect("connect");
        for (i, k) in foreign.iter().enumerate() {
            let (len, n) = if i % 2 == 0 {
                ("ZCARD", 2)
            } else {
                ("LLEN", 4)
            };
            let card = client.call(&[len, k.as_str()]).await.expect(len);
            assert_eq!(card, respect::resp::Frame::Integer(n), "{k} was changed");
        }
    }
    a.shutdown().await;
    b.shutdown().await;
}
