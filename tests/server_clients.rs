//! Our server driven by real clients and under concurrency.

mod support;

use std::process::Command;
use std::time::Duration;

use respect::client::Client;
use respect::resp::{Dialect, Frame};
use respect::server::ServerConfig;
use support::our_server as server;

/// N clients each sending M INCRs end at exactly N*M: no lost update.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_incrs_lose_nothing() {
    const CLIENTS: usize = 20;
    const INCRS: usize = 500;
    let server = server(ServerConfig::default()).await;
    let addr = server.addr();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            tokio::spawn(async move {
                let mut client = Client::connect(addr, Dialect::Resp2)
                    .await
                    .expect("connect");
                for _ in 0..INCRS {
                    assert!(matches!(
                        client
                            .call(&["INCR", "respect:counter"])
                            .await
                            .expect("INCR"),
                        Frame::Integer(_)
                    ));
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("client task");
    }
    let mut client = Client::connect(addr, Dialect::Resp2)
        .await
        .expect("connect");
    let total = client.call(&["GET", "respect:counter"]).await.expect("GET");
    assert_eq!(total, Frame::bulk((CLIENTS * INCRS).to_string()));
    server.shutdown().await;
}

#[tokio::test]
async fn redis_cli_talks_to_it() {
    if support::tool_missing("redis-cli") {
        return;
    }
    let server = server(ServerConfig::default()).await;
    let port = server.addr().port().to_string();
    let (out1, out2, out3, out4) = tokio::task::spawn_blocking(move || {
        let cli = |args: &[&str]| {
            let out = Command::new("redis-cli")
                .args(["-h", "127.0.0.1", "-p", &port])
                .args(args)
                .output()
                .expect("run redis-cli");
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        (
            cli(&["SET", "respect:k", "hello world"]),
            cli(&["GET", "respect:k"]),
            cli(&["-3", "HSET", "respect:h", "f", "v"]) + &cli(&["-3", "HGETALL", "respect:h"]),
            cli(&["PING"]),
        )
    })
    .await
    .expect("redis-cli");
    assert_eq!(out1, "OK\n");
    assert_eq!(out2, "hello world\n");
    // Not a TTY: redis-cli prints a map's keys and values as plain lines, as with redis-server.
    assert_eq!(out3, "1\nf v\n");
    assert_eq!(out4, "PONG\n");
    server.shutdown().await;
}

#[tokio::test]
async fn redis_py_with_hiredis_talks_to_it() {
    let Some(python) = support::python_with_redis_py() else {
        return;
    };
    let server = server(ServerConfig::default()).await;
    let script = format!(
        r#"
import redis
from redis.utils import HIREDIS_AVAILABLE
assert HIREDIS_AVAILABLE, "hiredis not in use"
for protocol in (2, 3):
    r = redis.Redis(host="127.0.0.1", port={port}, protocol=protocol)
    assert r.ping()
    assert r.set("respect:py", b"\x00\xff bytes")
    assert r.get("respect:py") == b"\x00\xff bytes"
    assert r.get("respect:missing") is None
    r.hset("respect:pyh", mapping={{"a": "1", "b": "2"}})
    assert r.hgetall("respect:pyh") == {{b"a": b"1", b"b": b"2"}}
    r.sadd("respect:pys", "x", "y")
    assert r.smembers("respect:pys") == {{b"x", b"y"}}
    n = r.incrby("respect:pyn", 5)
    assert n == 5 * (protocol - 1), (protocol, n)
    pipe = r.pipeline(transaction=False)
    for i in range(100):
        pipe.set(f"respect:p{{i}}", i)
    assert all(pipe.execute())
    try:
        r.incr("respect:pyh")
        raise SystemExit("expected WRONGTYPE")
    except redis.ResponseError as e:
        assert str(e).startswith("WRONGTYPE"), str(e)
print("ok")
"#,
        port = server.addr().port()
    );
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .args(["-c", &script])
            .output()
            .expect("run python")
    })
    .await
    .expect("python");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn maxclients_turns_the_next_client_away() {
    let server = server(ServerConfig {
        maxclients: 1,
        ..Default::default()
    })
    .await;
    let mut first = Client::connect(server.addr(), Dialect::Resp2)
        .await
        .expect("connect");
    assert_eq!(
        first.call(&["PING"]).await.expect("PING"),
        Frame::simple("PONG")
    );
    let mut second = Client::connect(server.addr(), Dialect::Resp2)
        .await
        .expect("connect");
    let bytes = second
        .expect_close(Duration::from_secs(5))
        .await
        .expect("closed");
    assert_eq!(&bytes[..], b"-ERR max number of clients reached\r\n");
    server.shutdown().await;
}

#[tokio::test]
async fn requirepass_needs_auth() {
    let server = server(ServerConfig {
        requirepass: Some("sesame".into()),
        ..Default::default()
    })
    .await;
    let mut client = Client::connect(server.addr(), Dialect::Resp2)
        .await
        .expect("connect");
    assert_eq!(
        client.call(&["GET", "k"]).await.expect("GET"),
        Frame::error("NOAUTH Authentication required.")
    );
    assert_eq!(
        client.call(&["AUTH", "wrong"]).await.expect("AUTH"),
        Frame::error("WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert_eq!(
        client.call(&["AUTH", "sesame"]).await.expect("AUTH"),
        Frame::simple("OK")
    );
    assert_eq!(
        client.call(&["GET", "k"]).await.expect("GET"),
        Frame::NullBulk
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_protocol_error_is_answered_then_the_connection_closes() {
    let server = server(ServerConfig::default()).await;
    for (request, reply) in [
        (
            &b"*1\r\n:5\r\n"[..],
            &b"-ERR Protocol error: expected '$', got ':'\r\n"[..],
        ),
        (
            b"*1\r\n$-5\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*3000000000\r\n",
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"SET \"a\r\n",
            b"-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
    ] {
        let mut client = Client::connect(server.addr(), Dialect::Resp2)
            .await
            .expect("connect");
        client.send_raw(b"PING\r\n").await.expect("send");
        client.send_raw(request).await.expect("send");
        let bytes = client
            .expect_close(Duration::from_secs(5))
            .await
            .expect("closed");
        assert_eq!(
            bytes,
            [&b"+PONG\r\n"[..], reply].concat(),
            "nothing accepted before the error is lost"
        );
    }
    server.shutdown().await;
}

/// A tracking client (BCAST: every write concerns it) that never reads is disconnected at
/// the pubsub output limit, like a subscriber that never reads, instead of its outbox
/// growing with every key other clients change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tracking_client_that_never_reads_is_bounded() {
    use tokio::io::AsyncWriteExt;
    let server = server(ServerConfig {
        pubsub_output_limit: respect::server::clients::OutputLimit {
            hard_bytes: 256 * 1024,
            soft_bytes: 0,
            soft_seconds: 0,
        },
        ..ServerConfig::default()
    })
    .await;
    let addr = server.addr();
    let mut tracker = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tracker
        .write_all(b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n*4\r\n$6\r\nCLIENT\r\n$8\r\nTRACKING\r\n$2\r\non\r\n$5\r\nBCAST\r\n")
        .await
        .expect("write");
    let mut writer = Client::connect(addr, Dialect::Resp2)
        .await
        .expect("connect");
    // Wait until the tracker is tracking (CLIENT LIST shows flags=t).
    for _ in 0..100 {
        let list = writer.call(&["CLIENT", "LIST"]).await.expect("CLIENT LIST");
        if matches!(&list, Frame::Bulk(b) if b.windows(7).any(|w| w == b"flags=t")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Far more invalidations than loopback socket buffers hold plus the limit.
    let pad = "k".repeat(16 * 1024);
    for i in 0..4000 {
        let key = format!("respect:track:{i}:{pad}");
        writer.call(&["SET", &key, "v"]).await.expect("SET");
        if i % 500 == 499 {
            let clients = writer.call(&["CLIENT", "LIST"]).await.expect("list");
            if matches!(&clients, Frame::Bulk(b) if !b.windows(7).any(|w| w == b"flags=t")) {
                writer.call(&["FLUSHALL"]).await.expect("FLUSHALL");
                return;
            }
        }
    }
    panic!("the tracking client that never reads was never disconnected");
}
