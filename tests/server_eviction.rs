//! Eviction over `maxmemory` on our server, as redis-server 7.0.15 behaves: each
//! `maxmemory-policy` evicts the keys it may (a `volatile-*` policy only keys with a TTL),
//! each eviction is an `evicted` keyspace event and counts in INFO `evicted_keys`, and what
//! cannot be freed leaves write commands refused with Redis's OOM error. The same sequence
//! runs on redis-server (memory is measured differently there, so the limits are set from
//! each server's own `used_memory`) and the outcomes that do not depend on sizes are equal.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use respect::client::Client;
use respect::resp::{Dialect, Frame};
use respect::server::ServerConfig;

async fn call(client: &mut Client, args: &[&str]) -> Frame {
    client.call(args).await.expect("a reply")
}

fn integer(frame: &Frame) -> i64 {
    match frame {
        Frame::Integer(n) => *n,
        other => panic!("not an integer: {other:?}"),
    }
}

/// A field of INFO as a number.
async fn info_field(client: &mut Client, section: &str, field: &str) -> u64 {
    let Frame::Bulk(text) = call(client, &["INFO", section]).await else {
        panic!("INFO is not a bulk string");
    };
    let text = String::from_utf8_lossy(&text).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
}

/// What happened: (keys left after volatile-ttl, whether a key without TTL survived,
/// the SET reply once nothing volatile is left, evicted events seen, evicted_keys,
/// keys left after allkeys-lru under a limit that needs every key gone, the OOM error).
async fn run(addr: SocketAddr) -> (i64, bool, Frame, usize, u64, i64, Frame) {
    let mut admin = Client::connect(addr, Dialect::Resp2)
        .await
        .expect("connect");
    let mut subscriber = Client::connect(addr, Dialect::Resp2)
        .await
        .expect("connect");
    call(&mut admin, &["FLUSHALL"]).await;
    call(&mut admin, &["CONFIG", "RESETSTAT"]).await;
    call(
        &mut admin,
        &["CONFIG", "SET", "notify-keyspace-events", "Ee"],
    )
    .await;
    subscriber
        .call(&["PSUBSCRIBE", "__keyevent@*__:evicted"])
        .await
        .expect("psubscribe");
    let value = "v".repeat(2000);
    for i in 0..40 {
        call(&mut admin, &["SET", &format!("evict:{i}"), &value]).await;
    }
    for i in 0..3 {
        call(&mut admin, &["EXPIRE", &format!("evict:{i}"), "1000"]).await;
    }
    // A limit just under what is used: volatile-ttl may take only the three keys with a TTL.
    let used = info_field(&mut admin, "memory", "used_memory").await;
    call(
        &mut admin,
        &["CONFIG", "SET", "maxmemory-policy", "volatile-ttl"],
    )
    .await;
    call(
        &mut admin,
        &["CONFIG", "SET", "maxmemory", &(used - 100_000).to_string()],
    )
    .await;
    let set = call(&mut admin, &["SET", "evict:new", "x"]).await;
    let left = integer(&call(&mut admin, &["DBSIZE"]).await);
    let survivor = integer(&call(&mut admin, &["EXISTS", "evict:39"]).await) == 1;
    // allkeys-lru with a limit below an empty server's use: every key goes.
    call(
        &mut admin,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
    )
    .await;
    call(&mut admin, &["CONFIG", "SET", "maxmemory", "1"]).await;
    let oom = call(&mut admin, &["SET", "evict:again", "x"]).await;
    let all_gone = integer(&call(&mut admin, &["DBSIZE"]).await);
    call(&mut admin, &["CONFIG", "SET", "maxmemory", "0"]).await;
    call(
        &mut admin,
        &["CONFIG", "SET", "maxmemory-policy", "noeviction"],
    )
    .await;
    call(&mut admin, &["CONFIG", "SET", "notify-keyspace-events", ""]).await;
    let mut events = 0;
    while let Ok(reply) = subscriber
        .read_reply_timeout(Duration::from_millis(300))
        .await
    {
        if let Frame::Array(parts) = reply.frame {
            if parts.len() == 4 {
                events += 1;
            }
        }
    }
    let evicted = info_field(&mut admin, "stats", "evicted_keys").await;
    (left, survivor, set, events, evicted, all_gone, oom)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eviction_follows_the_policy() {
    let ours = support::our_server(ServerConfig::default()).await;
    let mine = run(ours.addr()).await;
    let (left, survivor, set, events, evicted, all_gone, oom) = mine.clone();
    // The three volatile keys went, then nothing more could: the SET was refused.
    assert_eq!(left, 37, "{mine:?}");
    assert!(survivor);
    assert!(
        matches!(&set, Frame::Error(e) if e.starts_with(b"OOM command not allowed")),
        "{set:?}"
    );
    assert_eq!(all_gone, 0);
    assert!(
        matches!(&oom, Frame::Error(e) if e.starts_with(b"OOM ")),
        "{oom:?}"
    );
    assert_eq!(events, 40);
    assert_eq!(evicted, 40);
    ours.shutdown().await;
    let Some(redis) = support::RedisServer::start() else {
        return;
    };
    assert_eq!(run(redis.addr).await, mine);
}
