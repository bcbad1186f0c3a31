//! A run leaves a real redis-server as it found it: 1,000 user keys byte-identical, no key of
//! its own left behind, and a second run counts exactly what the first did.

mod support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use respect::client::Client;
use respect::conformance::report::Counts;
use respect::conformance::{run_suite, Report, RunOptions, Selection};
use respect::resp::{Dialect, Flavor, Frame};

const USER_KEYS: usize = 1000;

/// Every key the server holds with its DUMP (type, value and encoding, byte for byte).
async fn snapshot(addr: SocketAddr) -> BTreeMap<Vec<u8>, Frame> {
    let mut client = Client::connect(addr, Dialect::Resp2)
        .await
        .expect("connect");
    let mut all = BTreeMap::new();
    let mut cursor = b"0".to_vec();
    loop {
        let reply = client
            .call(&[&b"SCAN"[..], &cursor, b"COUNT", b"1000"])
            .await
            .expect("SCAN");
        let Frame::Array(parts) = reply else {
            panic!("SCAN answered {reply}")
        };
        let next = parts[0].as_bytes().expect("cursor").to_vec();
        let Frame::Array(keys) = &parts[1] else {
            panic!("no keys")
        };
        for key in keys {
            let key = key.as_bytes().expect("key").to_vec();
            let dump = client.call(&[&b"DUMP"[..], &key]).await.expect("DUMP");
            all.insert(key, dump);
        }
        if next == b"0" {
            return all;
        }
        cursor = next;
    }
}

async fn run(addr: SocketAddr) -> Report {
    run_suite(
        Path::new("conformance"),
        Some(addr),
        Flavor::Redis,
        &Selection::default(),
        &RunOptions::default(),
        &|_| {},
    )
    .await
    .expect("the run happens")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_leave_user_keys_alone_and_count_the_same() {
    let Some(redis) = support::RedisServer::start() else {
        return;
    };
    let mut client = Client::connect(redis.addr, Dialect::Resp2)
        .await
        .expect("connect");
    for i in 0..USER_KEYS {
        let key = format!("user:{i}");
        let reply = match i % 3 {
            0 => {
                client
                    .call(&["SET", &key, &format!("value {i}\x00\r\n")])
                    .await
            }
            1 => {
                client
                    .call(&["RPUSH", &key, "a", "b", &i.to_string()])
                    .await
            }
            _ => client.call(&["HSET", &key, "f", &i.to_string()]).await,
        };
        assert!(!reply.expect("write").is_error());
    }
    // Keys some scenarios name outside their prefix, held by the user: those scenarios are
    // SKIPPED, never run over the user's value.
    client
        .call(&["SET", "", "the user's empty key"])
        .await
        .expect("SET");
    let before = snapshot(redis.addr).await;
    assert_eq!(before.len(), USER_KEYS + 1);

    let first = run(redis.addr).await;
    let after_first = snapshot(redis.addr).await;
    let second = run(redis.addr).await;
    let after_second = snapshot(redis.addr).await;

    assert!(after_first == before, "the first run changed or left keys");
    assert!(
        after_second == before,
        "the second run changed or left keys"
    );
    let counts: [Counts; 2] = [first.counts(), second.counts()];
    assert_eq!(
        counts[0],
        counts[1],
        "{}\n{}",
        first.summary(),
        second.summary()
    );
    assert_eq!(counts[0].fail + counts[0].error, 0, "{}", first.summary());
    assert!(
        counts[0].skipped >= 2,
        "destructive and global scenarios are skipped"
    );
    for r in first
        .results
        .iter()
        .filter(|r| r.outcome == respect::conformance::Outcome::Skipped)
    {
        assert!(r.detail.is_some(), "{} is skipped without a reason", r.id);
    }
    eprintln!("{}\n{}", first.summary(), second.summary());
}
