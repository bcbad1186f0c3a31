//! Keyspace notifications against a real redis-server 7.0.15 started with the same
//! `notify-keyspace-events`: a subscriber to every keyspace and keyevent channel receives the
//! same bytes from both servers for the same commands. Skipped without redis-server (a
//! failure under CI).

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use respect::client::Client;
use respect::resp::Dialect;
use respect::server::ServerConfig;

/// Runs `commands` on one connection while another, subscribed to `__key*__:*`, collects
/// the raw bytes of every message until nothing arrives for a moment.
async fn events(addr: SocketAddr, commands: &[&[&str]]) -> Vec<u8> {
    let mut subscriber = Client::connect(addr, Dialect::Resp2)
        .await
        .expect("connect");
    subscriber
        .call(&["PSUBSCRIBE", "__key*__:*"])
        .await
        .expect("PSUBSCRIBE");
    let mut client = Client::connect(addr, Dialect::Resp2)
        .await
        .expect("connect");
    for command in commands {
        client.call(command).await.expect("command");
    }
    let mut raw = Vec::new();
    while let Ok(reply) = subscriber
        .read_reply_timeout(Duration::from_millis(300))
        .await
    {
        raw.extend_from_slice(&reply.raw);
    }
    raw
}

/// The same events from redis-server and ours for `commands`.
async fn compare(commands: &[&[&str]]) {
    compare_classes("KEA", commands).await;
}

/// The same events from both, the servers started with `classes`.
async fn compare_classes(classes: &str, commands: &[&[&str]]) {
    let Some(redis) = support::RedisServer::start_with(&["--notify-keyspace-events", classes])
    else {
        return;
    };
    let ours = support::our_server(ServerConfig {
        notify_keyspace_events: classes.to_owned(),
        ..ServerConfig::default()
    })
    .await;
    let theirs = events(redis.addr, commands).await;
    let got = events(ours.addr(), commands).await;
    assert!(!theirs.is_empty(), "redis-server sent no event");
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&theirs)
    );
    ours.shutdown().await;
}

#[tokio::test]
async fn string_key_hash_and_set_events_match_redis() {
    compare(&[
        &["SET", "respect:s", "1"],
        &["SET", "respect:s", "2", "EX", "100"],
        &["SET", "respect:s", "3", "NX"],
        &["SETNX", "respect:s2", "x"],
        &["SETEX", "respect:s3", "100", "x"],
        &["APPEND", "respect:s", "z"],
        &["INCR", "respect:n"],
        &["INCRBYFLOAT", "respect:n", "1.5"],
        &["MSET", "respect:m1", "a", "respect:m2", "b"],
        &["GETSET", "respect:m1", "c"],
        &["GETDEL", "respect:m2"],
        &["EXPIRE", "respect:m1", "100"],
        &["PERSIST", "respect:m1"],
        &["EXPIRE", "respect:m1", "-1"],
        &["DEL", "respect:s", "respect:nothing", "respect:s2"],
        &["HSET", "respect:h", "f", "v", "g", "w"],
        &["HSETNX", "respect:h", "f", "v"],
        &["HINCRBY", "respect:h", "n", "2"],
        &["HDEL", "respect:h", "f", "g", "n"],
        &["SADD", "respect:set", "a", "b"],
        &["SADD", "respect:set", "a"],
        &["SREM", "respect:set", "a", "b"],
        &["RPUSH", "respect:l", "a"],
        &["LPOP", "respect:l"],
    ])
    .await;
}

/// The string, bit and hash-field commands of issue 12: `setrange`, `setbit` (SETBIT,
/// BITFIELD), `set`/`del` (BITOP), `expire`/`persist`/`del` (GETEX), `hincrbyfloat`, and
/// nothing for what changed nothing (SETBIT of the same bit, SETRANGE of "", BITFIELD GET).
#[tokio::test]
async fn string_bit_and_hash_field_events_match_redis() {
    compare(&[
        &["SETRANGE", "respect:r", "3", "abc"],
        &["SETRANGE", "respect:r", "0", ""],
        &["SETBIT", "respect:b", "9", "1"],
        &["SETBIT", "respect:b", "9", "1"],
        &["SETBIT", "respect:b", "9", "0"],
        &["BITFIELD", "respect:b", "GET", "u8", "0"],
        &["BITFIELD", "respect:b", "SET", "u8", "0", "0"],
        &[
            "BITFIELD",
            "respect:b",
            "SET",
            "u8",
            "0",
            "7",
            "INCRBY",
            "u8",
            "0",
            "1",
        ],
        &[
            "BITFIELD",
            "respect:bf",
            "OVERFLOW",
            "FAIL",
            "SET",
            "u2",
            "0",
            "9",
        ],
        &["BITOP", "OR", "respect:d", "respect:b", "respect:r"],
        &["BITOP", "AND", "respect:d", "respect:none"],
        &["GETEX", "respect:r"],
        &["GETEX", "respect:r", "EX", "100"],
        &["GETEX", "respect:r", "PERSIST"],
        &["GETEX", "respect:r", "PERSIST"],
        &["GETEX", "respect:r", "PXAT", "1"],
        &["HINCRBYFLOAT", "respect:h", "f", "1.5"],
        &["LCS", "respect:b", "respect:b"],
        &["GETRANGE", "respect:b", "0", "1"],
        &["DEL", "respect:b", "respect:d", "respect:h", "respect:bf"],
    ])
    .await;
}

#[tokio::test]
async fn list_events_match_redis() {
    compare(&[
        &["RPUSH", "respect:ev", "a", "b"],
        &["LPUSH", "respect:ev", "c"],
        &["LMOVE", "respect:ev", "respect:ev2", "LEFT", "RIGHT"],
        &["BLPOP", "respect:ev2", "0"],
        &["LMPOP", "1", "respect:ev", "RIGHT", "COUNT", "5"],
    ])
    .await;
}

/// Class `z`: the event names of t_zset.c's `notifyKeyspaceEvent` calls, none for a write
/// that changes nothing, and `del` after the event when a set is emptied.
#[tokio::test]
async fn sorted_set_events_match_redis() {
    compare(&[
        &["ZADD", "respect:z", "1", "a", "2", "b", "3", "c", "4", "d"],
        &["ZADD", "respect:z", "1", "a"],
        &["ZADD", "respect:z", "NX", "9", "a"],
        &["ZADD", "respect:z", "CH", "5", "a"],
        &["ZINCRBY", "respect:z", "1", "e"],
        &["ZINCRBY", "respect:z", "0", "e"],
        &["ZREM", "respect:z", "nothing"],
        &["ZREM", "respect:z", "e"],
        &["ZADD", "respect:z", "6", "f", "7", "g", "8", "h"],
        &["ZREMRANGEBYSCORE", "respect:z", "100", "200"],
        &["ZREMRANGEBYSCORE", "respect:z", "6", "6"],
        &["ZREMRANGEBYRANK", "respect:z", "0", "0"],
        &["ZREMRANGEBYLEX", "respect:z", "[g", "[g"],
        &["ZPOPMIN", "respect:z"],
        &["ZPOPMAX", "respect:z", "0"],
        &["ZPOPMAX", "respect:z"],
        &["ZMPOP", "1", "respect:z", "MIN", "COUNT", "1"],
        &["ZADD", "respect:s1", "1", "x", "2", "y"],
        &["ZADD", "respect:s2", "1", "y"],
        &["ZUNIONSTORE", "respect:u", "2", "respect:s1", "respect:s2"],
        &["ZINTERSTORE", "respect:i", "2", "respect:s1", "respect:s2"],
        &["ZDIFFSTORE", "respect:d", "2", "respect:s1", "respect:s2"],
        &["ZRANGESTORE", "respect:r", "respect:s1", "0", "0"],
        &["ZINTERSTORE", "respect:i", "1", "respect:none"],
        &["ZDIFFSTORE", "respect:none2", "1", "respect:none"],
        &["ZRANGESTORE", "respect:r", "respect:s1", "5", "9"],
        &["BZPOPMIN", "respect:s2", "0"],
        &["BZMPOP", "0", "1", "respect:s1", "MAX", "COUNT", "5"],
        &["ZREMRANGEBYRANK", "respect:u", "0", "-1"],
        &["ZREM", "respect:d", "x"],
    ])
    .await;
}

/// LINSERT, LSET, LREM, LTRIM, LPUSHX/RPUSHX: t_list.c's event names, none for a command
/// that changed nothing, `ltrim` even when nothing was cut, `del` when the list is emptied.
#[tokio::test]
async fn list_edit_events_match_redis() {
    compare(&[
        &["RPUSH", "respect:le", "a", "b", "a", "c"],
        &["LINSERT", "respect:le", "BEFORE", "b", "x"],
        &["LINSERT", "respect:le", "AFTER", "nothing", "x"],
        &["LINSERT", "respect:missing", "AFTER", "a", "x"],
        &["LSET", "respect:le", "0", "z"],
        &["LSET", "respect:le", "99", "z"],
        &["LREM", "respect:le", "0", "a"],
        &["LREM", "respect:le", "0", "nothing"],
        &["LPUSHX", "respect:le", "p"],
        &["RPUSHX", "respect:le", "q"],
        &["LPUSHX", "respect:missing", "p"],
        &["LTRIM", "respect:le", "0", "-1"],
        &["LTRIM", "respect:missing", "0", "-1"],
        &["LTRIM", "respect:le", "1", "0"],
    ])
    .await;
}

/// SPOP, SMOVE and the STORE forms: `spop` then `del` when the set goes, `srem`/`sadd` for
/// SMOVE (nothing within one key), the `*store` event or `del` of an emptied destination.
#[tokio::test]
async fn set_events_match_redis() {
    compare(&[
        &["SADD", "respect:sa", "1", "2", "3"],
        &["SADD", "respect:sb", "3", "4"],
        &["SMOVE", "respect:sa", "respect:sb", "1"],
        &["SMOVE", "respect:sa", "respect:sb", "3"],
        &["SMOVE", "respect:sa", "respect:sa", "2"],
        &["SMOVE", "respect:sa", "respect:sn", "2"],
        &["SINTERSTORE", "respect:si", "respect:sb", "respect:sn"],
        &["SUNIONSTORE", "respect:su", "respect:sb", "respect:sn"],
        &["SDIFFSTORE", "respect:sd", "respect:sb", "respect:sn"],
        &["SDIFFSTORE", "respect:su", "respect:sb", "respect:sb"],
        &["SINTERSTORE", "respect:sd", "respect:sb", "respect:missing"],
        &["SPOP", "respect:sb", "0"],
        &["SPOP", "respect:sb", "1"],
        &["SPOP", "respect:sb", "10"],
        &["SPOP", "respect:sn"],
        &["SPOP", "respect:missing"],
    ])
    .await;
}

#[tokio::test]
async fn new_key_events_match_redis() {
    compare_classes(
        "KEAn",
        &[
            &["SET", "s", "1"],
            &["SET", "s", "2"],
            &["INCR", "counter"],
            &["APPEND", "appended", "x"],
            &["SETRANGE", "ranged", "2", "x"],
            &["LPUSH", "l", "a", "b"],
            &["LPUSH", "l", "c"],
            &["HSET", "h", "f", "v"],
            &["SADD", "set1", "a", "b"],
            &["SADD", "set2", "b", "c"],
            &["SUNIONSTORE", "set3", "set1", "set2"],
            &["SUNIONSTORE", "set3", "set1"],
            &["ZADD", "z", "1", "m"],
            &["XADD", "x", "1-1", "f", "v"],
            &["COPY", "s", "s-copy"],
            &["RENAME", "s-copy", "s-renamed"],
            &["SORT", "l", "ALPHA", "STORE", "sorted"],
            &["SORT", "l", "ALPHA", "STORE", "sorted"],
            &["MSET", "m1", "1", "s", "3"],
            &["PFADD", "hll", "a"],
            &["MOVE", "hll", "3"],
            &["COPY", "h", "h", "DB", "4"],
        ],
    )
    .await;
}
