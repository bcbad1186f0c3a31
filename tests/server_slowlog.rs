//! SLOWLOG against redis-server 7.0.15: with `slowlog-log-slower-than 0` every command is
//! logged, and the entries' arguments (cut at 32 arguments and 128 bytes, with Redis's
//! notes), client name and shape equal Redis's; `-1` logs nothing; `slowlog-max-len` bounds
//! the log; AUTH-like `skip_slowlog` commands are never logged.

mod support;

use std::net::SocketAddr;

use respect::client::Client;
use respect::resp::{Dialect, Frame};
use respect::server::ServerConfig;

async fn call(client: &mut Client, args: &[&str]) -> Frame {
    client.call(args).await.expect("a reply")
}

/// The parts of each entry that do not depend on time or ports: arguments and name.
fn stable(entries: &Frame) -> Vec<(Frame, Frame)> {
    let Frame::Array(entries) = entries else {
        panic!("not an array: {entries:?}");
    };
    entries
        .iter()
        .map(|entry| match entry {
            Frame::Array(fields) if fields.len() == 6 => {
                for i in 0..3 {
                    assert!(matches!(fields[i], Frame::Integer(_)), "{fields:?}");
                }
                assert!(
                    matches!(&fields[4], Frame::Bulk(b) if b.starts_with(b"127.0.0.1:")),
                    "{fields:?}"
                );
                (fields[3].clone(), fields[5].clone())
            }
            other => panic!("not an entry: {other:?}"),
        })
        .collect()
}

async fn run(addr: SocketAddr) -> Vec<Vec<(Frame, Frame)>> {
    let mut c = Client::connect(addr, Dialect::Resp2)
        .await
        .expect("connect");
    let mut seen = Vec::new();
    call(&mut c, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]).await;
    call(&mut c, &["CONFIG", "SET", "slowlog-max-len", "128"]).await;
    call(&mut c, &["SLOWLOG", "RESET"]).await;
    call(&mut c, &["CLIENT", "SETNAME", "logged"]).await;
    let long = "v".repeat(300);
    call(&mut c, &["SET", "slowlog-key", &long]).await;
    let many: Vec<String> = (0..40).map(|i| format!("a{i}")).collect();
    let mut rpush = vec!["RPUSH", "slowlog-list"];
    rpush.extend(many.iter().map(String::as_str));
    call(&mut c, &rpush).await;
    call(&mut c, &["AUTH", "secret"]).await;
    seen.push(stable(&call(&mut c, &["SLOWLOG", "GET", "-1"]).await));
    call(&mut c, &["CONFIG", "SET", "slowlog-max-len", "2"]).await;
    call(&mut c, &["GET", "slowlog-key"]).await;
    seen.push(stable(&call(&mut c, &["SLOWLOG", "GET"]).await));
    call(&mut c, &["CONFIG", "SET", "slowlog-log-slower-than", "-1"]).await;
    call(&mut c, &["SLOWLOG", "RESET"]).await;
    call(&mut c, &["GET", "slowlog-key"]).await;
    assert_eq!(call(&mut c, &["SLOWLOG", "LEN"]).await, Frame::Integer(0));
    call(&mut c, &["DEL", "slowlog-key", "slowlog-list"]).await;
    call(
        &mut c,
        &["CONFIG", "SET", "slowlog-log-slower-than", "10000"],
    )
    .await;
    call(&mut c, &["CONFIG", "SET", "slowlog-max-len", "128"]).await;
    seen
}

#[tokio::test]
async fn the_log_keeps_what_redis_keeps() {
    let ours = support::our_server(ServerConfig::default()).await;
    let mine = run(ours.addr()).await;
    assert!(
        mine.first().is_some_and(|entries| entries.len() >= 4),
        "{mine:?}"
    );
    let Some(redis) = support::RedisServer::start() else {
        return;
    };
    let theirs = run(redis.addr).await;
    assert_eq!(mine, theirs);
}
