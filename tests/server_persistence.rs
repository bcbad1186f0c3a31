//! RDB files between our server and a real redis-server 7.0: our SAVE loads in redis-server
//! and redis-server's SAVE loads in ours, with the same DEBUG DIGEST (every key, value,
//! database and expiry flag) and the same expiry times; BGSAVE writes the same file while
//! the server goes on; a damaged file stops our server's start with the reason.

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use respect::client::Client;
use respect::resp::{Dialect, Frame};
use respect::server::ServerConfig;

/// Commands that build one of each encoding in two databases, with expiry times.
fn dataset() -> Vec<Vec<String>> {
    let mut commands: Vec<Vec<String>> = Vec::new();
    let mut c = |parts: &[&str]| commands.push(parts.iter().map(|p| p.to_string()).collect());
    c(&["SET", "s", "hello"]);
    c(&["SET", "n", "123456"]);
    c(&["SET", "long", &"abc".repeat(100)]);
    c(&["SET", "ttl", "v", "PXAT", "4102444800123"]);
    c(&["RPUSH", "l", "a", "1", "-300", ""]);
    c(&["SADD", "ints", "1", "2", "-70000"]);
    c(&["SADD", "words", "a", "b", "c"]);
    c(&["HSET", "h", "f", "v", "n", "12"]);
    c(&["HSET", "bigh", "f", &"v".repeat(100)]);
    c(&["ZADD", "z", "1", "a", "2.5", "b", "-inf", "c"]);
    c(&["ZADD", "bigz", "1", &"m".repeat(100)]);
    c(&["PEXPIREAT", "h", "4102444800999"]);
    for i in 1..=250 {
        let id = format!("{i}-1");
        let v = i.to_string();
        if i == 7 {
            c(&["XADD", "x", &id, "other", &v]);
        } else {
            c(&["XADD", "x", &id, "a", &v, "b", "x"]);
        }
    }
    c(&["XDEL", "x", "1-1", "150-1"]);
    c(&["XGROUP", "CREATE", "x", "g", "0"]);
    c(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "alice",
        "COUNT",
        "3",
        "STREAMS",
        "x",
        ">",
    ]);
    c(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "bob",
        "COUNT",
        "2",
        "STREAMS",
        "x",
        ">",
    ]);
    c(&["XGROUP", "CREATE", "x", "g2", "$"]);
    c(&["XADD", "xe", "5-5", "f", "v"]);
    c(&["XTRIM", "xe", "MAXLEN", "0"]);
    c(&[
        "XSETID",
        "xe",
        "10-0",
        "ENTRIESADDED",
        "7",
        "MAXDELETEDID",
        "9-0",
    ]);
    c(&["SELECT", "5"]);
    c(&["SET", "other", "db"]);
    c(&["RPUSH", "biglist"]);
    if let Some(push) = commands.last_mut() {
        push.extend((0..2000).map(|i| i.to_string()));
    }
    commands.push(vec!["SELECT".into(), "0".into()]);
    commands
}

async fn call(client: &mut Client, args: &[&str]) -> Frame {
    client.call(args).await.expect("a reply")
}

async fn build(client: &mut Client) {
    for command in dataset() {
        let args: Vec<&str> = command.iter().map(String::as_str).collect();
        let reply = call(client, &args).await;
        assert!(!matches!(reply, Frame::Error(_)), "{args:?}: {reply:?}");
    }
}

/// DEBUG DIGEST, DBSIZE of databases 0 and 5, the two expiry times, and the streams as XINFO
/// STREAM FULL (group and consumer times included: they travel in the file) and XRANGE show
/// them.
async fn fingerprint(client: &mut Client) -> Vec<Frame> {
    let mut out = vec![call(client, &["DEBUG", "DIGEST"]).await];
    out.push(call(client, &["DBSIZE"]).await);
    out.push(call(client, &["PEXPIRETIME", "ttl"]).await);
    out.push(call(client, &["PEXPIRETIME", "h"]).await);
    out.push(call(client, &["XINFO", "STREAM", "x", "FULL"]).await);
    out.push(call(client, &["XINFO", "STREAM", "xe", "FULL"]).await);
    out.push(call(client, &["XRANGE", "x", "-", "+"]).await);
    out.push(call(client, &["SELECT", "5"]).await);
    out.push(call(client, &["DBSIZE"]).await);
    out.push(call(client, &["SELECT", "0"]).await);
    out
}

fn temp_dir(name: &str) -> PathBuf {
    support::temp_dir("respect-rdb", name)
}

use support::{persistent, redis_in};

#[tokio::test]
async fn our_file_loads_in_redis_and_redis_file_loads_in_ours() {
    if support::tool_missing("redis-server") {
        return;
    }
    // Ours saves; redis-server loads.
    let dir = temp_dir("ours");
    let ours = support::our_server(persistent(&dir)).await;
    let mut o = Client::connect(ours.addr(), Dialect::Resp2)
        .await
        .expect("ours");
    build(&mut o).await;
    assert_eq!(call(&mut o, &["SAVE"]).await, Frame::Simple("OK".into()));
    let expected = fingerprint(&mut o).await;
    assert_ne!(expected[0], Frame::Simple("0".repeat(40).into()));
    let redis = redis_in(&dir).expect("redis-server");
    let mut r = Client::connect(redis.addr, Dialect::Resp2)
        .await
        .expect("redis");
    assert_eq!(
        fingerprint(&mut r).await,
        expected,
        "redis-server loading our file"
    );
    drop(r);
    drop(redis);

    // redis-server saves; ours loads.
    let dir = temp_dir("redis");
    let redis = redis_in(&dir).expect("redis-server");
    let mut r = Client::connect(redis.addr, Dialect::Resp2)
        .await
        .expect("redis");
    build(&mut r).await;
    assert_eq!(call(&mut r, &["SAVE"]).await, Frame::Simple("OK".into()));
    let expected = fingerprint(&mut r).await;
    let ours = support::our_server(persistent(&dir)).await;
    let mut o = Client::connect(ours.addr(), Dialect::Resp2)
        .await
        .expect("ours");
    assert_eq!(
        fingerprint(&mut o).await,
        expected,
        "ours loading redis-server's file"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn bgsave_writes_while_the_server_goes_on_and_lastsave_moves() {
    let dir = temp_dir("bgsave");
    let ours = support::our_server(persistent(&dir)).await;
    let mut o = Client::connect(ours.addr(), Dialect::Resp2)
        .await
        .expect("ours");
    build(&mut o).await;
    let expected = fingerprint(&mut o).await;
    let before = call(&mut o, &["LASTSAVE"]).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        call(&mut o, &["BGSAVE"]).await,
        Frame::Simple("Background saving started".into())
    );
    let start = Instant::now();
    loop {
        let info = call(&mut o, &["INFO", "persistence"]).await;
        let text = match info {
            Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
            other => panic!("{other:?}"),
        };
        if text.contains("rdb_bgsave_in_progress:0") {
            assert!(text.contains("rdb_last_bgsave_status:ok"), "{text}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "BGSAVE never ended"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_ne!(call(&mut o, &["LASTSAVE"]).await, before);
    assert_eq!(
        call(&mut o, &["BGSAVE", "NOW"]).await,
        Frame::Error("ERR syntax error".into())
    );
    // A second server started on the same directory holds the same data.
    let again = support::our_server(persistent(&dir)).await;
    let mut a = Client::connect(again.addr(), Dialect::Resp2)
        .await
        .expect("again");
    assert_eq!(fingerprint(&mut a).await, expected);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_damaged_file_stops_the_start_and_no_directory_means_no_saving() {
    let dir = temp_dir("damaged");
    std::fs::write(dir.join("dump.rdb"), b"REDIS0010\xfa\x09redis-ver").expect("write");
    let error = respect::server::spawn(ServerConfig {
        bind: "127.0.0.1:0".parse().expect("addr"),
        ..persistent(&dir)
    })
    .await
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(
        error.contains("cannot load") && error.contains("dump.rdb"),
        "{error}"
    );
    let _ = std::fs::remove_dir_all(&dir);

    let ours = support::our_server(ServerConfig::default()).await;
    let mut o = Client::connect(ours.addr(), Dialect::Resp2)
        .await
        .expect("ours");
    let reply = call(&mut o, &["SAVE"]).await;
    assert!(
        matches!(&reply, Frame::Error(e) if e.starts_with(b"ERR persistence is off")),
        "{reply:?}"
    );
    assert_eq!(
        call(&mut o, &["CONFIG", "SET", "dir", "/tmp"]).await,
        Frame::Error(
            "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"
                .into()
        )
    );
}

#[tokio::test]
async fn shutdown_saves_closes_without_a_reply_and_stops_the_server() {
    let dir = temp_dir("shutdown");
    let ours = support::our_server(persistent(&dir)).await;
    let addr = ours.addr();
    let mut o = Client::connect(addr, Dialect::Resp2).await.expect("ours");
    build(&mut o).await;
    let expected = fingerprint(&mut o).await;
    for (args, error) in [
        (&["SHUTDOWN", "NOSAVE", "SAVE"][..], "ERR syntax error"),
        (&["SHUTDOWN", "ABORT", "NOW"][..], "ERR syntax error"),
        (&["SHUTDOWN", "LATER"][..], "ERR syntax error"),
        (&["SHUTDOWN", "ABORT"][..], "ERR No shutdown in progress."),
    ] {
        assert_eq!(
            call(&mut o, args).await,
            Frame::Error(error.into()),
            "{args:?}"
        );
    }
    o.send(&Frame::command(["SHUTDOWN", "SAVE"]))
        .await
        .expect("send");
    // No reply: the connection closes.
    let closed = o.expect_close(Duration::from_secs(10)).await;
    assert!(matches!(&closed, Ok(rest) if rest.is_empty()), "{closed:?}");
    tokio::time::timeout(Duration::from_secs(10), ours.stop_requested())
        .await
        .expect("the server was asked to stop");
    ours.shutdown().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still accepting"
    );
    let again = support::our_server(persistent(&dir)).await;
    let mut a = Client::connect(again.addr(), Dialect::Resp2)
        .await
        .expect("again");
    assert_eq!(fingerprint(&mut a).await, expected);
    let _ = std::fs::remove_dir_all(&dir);
}

/// INFO persistence's `rdb_changes_since_last_save`.
async fn changes(client: &mut Client) -> u64 {
    let Frame::Bulk(info) = call(client, &["INFO", "persistence"]).await else {
        panic!("INFO is not a bulk string")
    };
    String::from_utf8_lossy(&info)
        .lines()
        .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("rdb_changes_since_last_save")
}

#[tokio::test]
async fn changes_are_counted_and_a_save_point_saves() {
    let dir = temp_dir("savepoints");
    let ours = support::our_server(persistent(&dir)).await;
    let mut o = Client::connect(ours.addr(), Dialect::Resp2)
        .await
        .expect("ours");
    assert_eq!(changes(&mut o).await, 0);
    call(&mut o, &["SETBIT", "b", "0", "1"]).await;
    call(&mut o, &["SETBIT", "b", "0", "1"]).await;
    call(&mut o, &["MSET", "x", "1", "y", "2"]).await;
    // A SETBIT that changes nothing is no change (Tcl unit/bitops asks it of Redis).
    assert_eq!(changes(&mut o).await, 3);
    assert_eq!(call(&mut o, &["SAVE"]).await, Frame::Simple("OK".into()));
    assert_eq!(changes(&mut o).await, 0);
    // One change within one second: the save point starts a BGSAVE by itself.
    let before = call(&mut o, &["LASTSAVE"]).await;
    assert_eq!(
        call(&mut o, &["CONFIG", "SET", "save", "1 1"]).await,
        Frame::Simple("OK".into())
    );
    call(&mut o, &["SET", "z", "3"]).await;
    let start = Instant::now();
    while changes(&mut o).await != 0 || call(&mut o, &["LASTSAVE"]).await == before {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "no save point fired"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let again = support::our_server(persistent(&dir)).await;
    let mut a = Client::connect(again.addr(), Dialect::Resp2)
        .await
        .expect("again");
    assert_eq!(call(&mut a, &["GET", "z"]).await, Frame::Bulk("3".into()));
    let _ = std::fs::remove_dir_all(&dir);
}
