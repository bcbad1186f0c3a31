//! Our server driven by a real Rust client: the `redis` crate (redis-rs), over its async
//! multiplexed connection, in RESP2 and in RESP3, with and without a password.
//!
//! redis-rs pipelines `CLIENT SETINFO` when it connects (and `HELLO 3` for RESP3), parses
//! every reply type strictly, and maps them onto Rust types, so these tests check what a Rust
//! application would see, not just bytes.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use redis::aio::MultiplexedConnection;
use redis::{AsyncCommands, Value};
use respect::server::ServerConfig;
use support::our_server as server;

async fn connect(url: &str) -> MultiplexedConnection {
    redis::Client::open(url)
        .expect("client url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis-rs connects")
}

/// One command sent as is, its reply as redis-rs's untyped `Value`.
async fn raw(con: &mut MultiplexedConnection, args: &[&str]) -> Value {
    let mut cmd = redis::cmd(args.first().copied().unwrap_or_default());
    cmd.arg(args.get(1..).unwrap_or_default());
    cmd.query_async(con).await.expect("a reply")
}

/// The commands every application uses, through redis-rs's typed API.
async fn typed_commands(con: &mut MultiplexedConnection) {
    let () = con.set("rs:s", "value").await.expect("SET");
    let got: String = con.get("rs:s").await.expect("GET");
    assert_eq!(got, "value");
    let missing: Option<String> = con.get("rs:missing").await.expect("GET missing");
    assert_eq!(missing, None);

    // Bytes are bytes: NUL, CR, LF and non-UTF-8 come back exactly.
    let binary = b"\x00\r\n\xff\xfe bytes".to_vec();
    let () = con.set("rs:bin", &binary).await.expect("SET binary");
    let back: Vec<u8> = con.get("rs:bin").await.expect("GET binary");
    assert_eq!(back, binary);

    let () = con
        .mset(&[("rs:a", "1"), ("rs:b", "2")])
        .await
        .expect("MSET");
    let many: Vec<Option<String>> = con.mget(&["rs:a", "rs:nope", "rs:b"]).await.expect("MGET");
    assert_eq!(many, vec![Some("1".into()), None, Some("2".into())]);

    let n: i64 = con.incr("rs:a", 41).await.expect("INCRBY");
    assert_eq!(n, 42);
    let err = con
        .incr::<_, _, i64>("rs:s", 1)
        .await
        .expect_err("INCR on text");
    assert!(
        err.to_string()
            .contains("value is not an integer or out of range"),
        "{err}"
    );

    let () = con
        .hset_multiple("rs:h", &[("f1", "v1"), ("f2", "v2")])
        .await
        .expect("HSET");
    let hash: BTreeMap<String, String> = con.hgetall("rs:h").await.expect("HGETALL");
    assert_eq!(
        hash,
        BTreeMap::from([("f1".into(), "v1".into()), ("f2".into(), "v2".into())])
    );

    let added: i64 = con.sadd("rs:set", &["x", "y", "x"]).await.expect("SADD");
    assert_eq!(added, 2);
    let members: BTreeSet<String> = con.smembers("rs:set").await.expect("SMEMBERS");
    assert_eq!(members, BTreeSet::from(["x".into(), "y".into()]));

    let () = con.rpush("rs:l", &["1", "2", "3"]).await.expect("RPUSH");
    let list: Vec<i64> = con.lrange("rs:l", 0, -1).await.expect("LRANGE");
    assert_eq!(list, vec![1, 2, 3]);

    let () = con.set_ex("rs:ttl", "v", 100).await.expect("SETEX");
    let ttl: i64 = con.ttl("rs:ttl").await.expect("TTL");
    assert!((99..=100).contains(&ttl), "TTL {ttl}");

    // A pipeline of 1,000 commands: one write, 1,000 replies in order.
    let mut pipe = redis::pipe();
    for _ in 0..1000 {
        pipe.incr("rs:counter", 1);
    }
    let counts: Vec<i64> = pipe.query_async(con).await.expect("pipeline");
    assert_eq!(counts, (1..=1000).collect::<Vec<i64>>());

    let wrong: redis::RedisResult<()> = redis::cmd("NOSUCHCOMMAND").arg("x").query_async(con).await;
    let wrong = wrong.expect_err("unknown command");
    assert!(wrong.to_string().contains("unknown command"), "{wrong}");
    // The connection is still healthy after the error.
    let pong: String = redis::cmd("PING").query_async(con).await.expect("PING");
    assert_eq!(pong, "PONG");
}

#[tokio::test]
async fn redis_rs_over_resp2() {
    let server = server(ServerConfig::default()).await;
    let mut con = connect(&format!("redis://{}/", server.addr())).await;
    typed_commands(&mut con).await;
    // RESP2: a hash comes back as a flat array.
    let hash = raw(&mut con, &["HGETALL", "rs:h"]).await;
    assert!(
        matches!(&hash, Value::Array(items) if items.len() == 4),
        "{hash:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn redis_rs_over_resp3() {
    let server = server(ServerConfig::default()).await;
    let mut con = connect(&format!("redis://{}/?protocol=resp3", server.addr())).await;
    typed_commands(&mut con).await;
    // RESP3 (HELLO 3 at connect): a map, a set and a null are their own types.
    let hash = raw(&mut con, &["HGETALL", "rs:h"]).await;
    assert!(
        matches!(&hash, Value::Map(pairs) if pairs.len() == 2),
        "{hash:?}"
    );
    let set = raw(&mut con, &["SMEMBERS", "rs:set"]).await;
    assert!(
        matches!(&set, Value::Set(items) if items.len() == 2),
        "{set:?}"
    );
    assert_eq!(raw(&mut con, &["GET", "rs:missing"]).await, Value::Nil);
    // Redis 7 answers INCRBYFLOAT with a bulk string even in RESP3.
    assert_eq!(
        raw(&mut con, &["INCRBYFLOAT", "rs:f", "1.5"]).await,
        Value::BulkString(b"1.5".to_vec())
    );
    server.shutdown().await;
}

#[tokio::test]
async fn redis_rs_authenticates_with_requirepass() {
    let server = server(ServerConfig {
        requirepass: Some("s3cret".into()),
        ..ServerConfig::default()
    })
    .await;
    for url in [
        format!("redis://:s3cret@{}/", server.addr()),
        format!("redis://:s3cret@{}/?protocol=resp3", server.addr()),
    ] {
        let mut con = connect(&url).await;
        assert_eq!(
            raw(&mut con, &["PING"]).await,
            Value::SimpleString("PONG".into()),
            "{url}"
        );
    }
    let refused = redis::Client::open(format!("redis://:wrong@{}/", server.addr()))
        .expect("client url")
        .get_multiplexed_async_connection()
        .await;
    assert!(refused.is_err(), "a wrong password must not connect");
    server.shutdown().await;
}
