//! MIGRATE against real redis-servers: the same sequence run with ours as the source and
//! with a redis-server as the source, each into a second redis-server, must get the same
//! replies and leave the same values (DEBUG DIGEST-VALUE) and TTLs on the target; and a
//! redis-server migrating into ours leaves ours holding its values. Skipped with a message
//! when redis-server is not installed (a failure under CI).

mod support;

use std::net::SocketAddr;

use respect::client::Client;
use respect::resp::{Dialect, Frame};
use respect::server::ServerConfig;

async fn connect(addr: SocketAddr) -> Client {
    Client::connect(addr, Dialect::Resp2)
        .await
        .expect("connect")
}

async fn call(client: &mut Client, args: &[&str]) -> Frame {
    client.call(args).await.expect("call")
}

/// Runs the sequence on `source`, migrating into `target`; returns every reply the source
/// gave, then what the target holds.
async fn run(source: SocketAddr, target: SocketAddr) -> (Vec<Frame>, Vec<Frame>) {
    let mut s = connect(source).await;
    let mut t = connect(target).await;
    let host = "127.0.0.1".to_string();
    let port = target.port().to_string();
    let closed = support::free_port().to_string();
    call(&mut t, &["FLUSHALL"]).await;
    call(&mut s, &["FLUSHALL"]).await;
    call(&mut t, &["SELECT", "5"]).await;
    call(&mut t, &["SET", "k3", "there"]).await;
    for setup in [
        vec!["SET", "k1", "value"],
        vec!["RPUSH", "k2", "a", "b", "300"],
        vec!["PEXPIRE", "k2", "50000"],
        vec!["HSET", "k3", "f", "v"],
        vec!["SADD", "k4", "1", "2", "3"],
    ] {
        call(&mut s, &setup).await;
    }
    let m = |rest: &[&str]| {
        let mut args = vec!["MIGRATE", host.as_str(), port.as_str()];
        args.extend_from_slice(rest);
        args.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let sequence: Vec<Vec<String>> = vec![
        m(&["k1", "5", "1000"]),
        m(&["", "5", "1000", "KEYS", "k2", "nosuch", "k4"]),
        m(&["k3", "5", "1000"]),
        m(&["k3", "5", "1000", "COPY", "REPLACE"]),
        vec![
            "EXISTS".into(),
            "k1".into(),
            "k2".into(),
            "k3".into(),
            "k4".into(),
        ],
        m(&["nosuch", "5", "1000"]),
        m(&["k3", "5", "1000", "KEYS", "k1"]),
        m(&["k3", "5", "1000", "AUTH"]),
        m(&["k3", "5", "1000", "AUTH2", "u"]),
        m(&["k3", "5", "1000", "BOGUS"]),
        m(&["k3", "x", "1000"]),
        m(&["k3", "5", "x"]),
        m(&["k3", "5", "1000", "AUTH", "pw"]),
        vec![
            "MIGRATE".into(),
            host.clone(),
            closed.clone(),
            "k3".into(),
            "5".into(),
            "200".into(),
        ],
    ];
    let mut replies = Vec::new();
    for args in &sequence {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        replies.push(call(&mut s, &args).await);
    }
    let mut held = vec![call(&mut t, &["DBSIZE"]).await];
    for key in ["k1", "k2", "k3", "k4"] {
        held.push(call(&mut t, &["DEBUG", "DIGEST-VALUE", key]).await);
    }
    let pttl = call(&mut t, &["PTTL", "k2"]).await;
    held.push(Frame::Integer(match pttl {
        Frame::Integer(ms) if ms > 40_000 && ms <= 50_000 => 1,
        _ => 0,
    }));
    held.push(call(&mut t, &["PTTL", "k1"]).await);
    (replies, held)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_answers_and_moves_as_redis_does() {
    let Some(target) = support::RedisServer::start() else {
        return;
    };
    let Some(redis_source) = support::RedisServer::start() else {
        return;
    };
    let ours = support::our_server(ServerConfig {
        enable_debug_command: true,
        ..ServerConfig::default()
    })
    .await;
    let (their_replies, their_target) = run(redis_source.addr, target.addr).await;
    let (our_replies, our_target) = run(ours.addr(), target.addr).await;
    assert_eq!(our_replies.len(), their_replies.len());
    for (i, (ours, theirs)) in our_replies.iter().zip(&their_replies).enumerate() {
        assert_eq!(ours, theirs, "reply {i} differs");
    }
    assert_eq!(our_target, their_target, "the target holds something else");
    assert_eq!(our_target.first(), Some(&Frame::Integer(4)));

    // Into ours: redis-server's values arrive whole.
    let mut r = connect(redis_source.addr).await;
    let mut o = connect(ours.addr()).await;
    call(&mut o, &["FLUSHALL"]).await;
    call(&mut r, &["FLUSHALL"]).await;
    call(&mut r, &["ZADD", "z", "1", "a", "2.5", "b"]).await;
    call(&mut r, &["SET", "s", "text"]).await;
    let before = [
        call(&mut r, &["DEBUG", "DIGEST-VALUE", "z"]).await,
        call(&mut r, &["DEBUG", "DIGEST-VALUE", "s"]).await,
    ];
    let port = ours.addr().port().to_string();
    let reply = call(
        &mut r,
        &[
            "MIGRATE",
            "127.0.0.1",
            &port,
            "",
            "0",
            "1000",
            "KEYS",
            "z",
            "s",
        ],
    )
    .await;
    assert_eq!(reply, Frame::Simple("OK".into()));
    let after = [
        call(&mut o, &["DEBUG", "DIGEST-VALUE", "z"]).await,
        call(&mut o, &["DEBUG", "DIGEST-VALUE", "s"]).await,
    ];
    assert_eq!(before, after);
    assert_eq!(call(&mut r, &["DBSIZE"]).await, Frame::Integer(0));
    ours.shutdown().await;
}
