//! The same commands against our server and a real redis-server, replies compared byte for
//! byte, in RESP2 and then RESP3.

mod support;

use respect::client::Client;
use respect::resp::{escape_bytes, Dialect, Frame};
use respect::server::ServerConfig;

/// Commands whose replies must be identical. Each runs on a fresh keyspace prefix; the list
/// covers every command family, their error replies, and the null and aggregate forms.
const SCRIPT: &[&[&str]] = &[
    &["PING"],
    &["PING", "hello"],
    &["PING", "a", "b"],
    &["ECHO", "x y"],
    &["ECHO"],
    &["SELECT", "0"],
    &["SELECT", "x"],
    &["NOSUCHCOMMAND", "a", "b"],
    &["nosuch"],
    &["GET", "d:missing"],
    &["GET"],
    &["SET", "d:k", "v"],
    &["GET", "d:k"],
    &["SET", "d:k", "v2", "NX"],
    &["SET", "d:k", "v3", "XX", "GET"],
    &["SET", "d:new", "v", "XX"],
    &["SET", "d:k", "v", "NX", "XX"],
    &["SET", "d:k", "v", "EX", "0"],
    &["SET", "d:k", "v", "EX", "abc"],
    &["SET", "d:k", "v", "EX", "100", "PX", "100"],
    &["SET", "d:k", "v", "BOGUS"],
    &["SET", "d:ttl", "v", "EX", "100"],
    &["TTL", "d:ttl"],
    &["SET", "d:ttl", "w", "KEEPTTL"],
    &["TTL", "d:ttl"],
    &["PERSIST", "d:ttl"],
    &["TTL", "d:ttl"],
    &["TTL", "d:missing"],
    &["PTTL", "d:missing"],
    &["EXPIRE", "d:ttl", "50"],
    &["EXPIRE", "d:ttl", "60", "NX"],
    &["EXPIRE", "d:ttl", "60", "XX"],
    &["EXPIRE", "d:ttl", "10", "GT"],
    &["EXPIRE", "d:ttl", "10", "LT"],
    &["EXPIRE", "d:missing", "10"],
    &["EXPIRE", "d:ttl", "x"],
    &["EXPIRE", "d:ttl", "10", "NX", "GT"],
    &["EXPIRE", "d:ttl", "10", "GT", "LT"],
    &["EXPIRE", "d:ttl", "10", "XX", "XX"],
    &["EXPIRE", "d:ttl", "10", "foo"],
    &["EXPIRE", "d:ttl", "x", "foo"],
    &["EXPIRE", "d:ttl", "9223372036854775807"],
    &["EXPIREAT", "d:ttl", "9223372036854775807"],
    &["PEXPIRE", "d:missing", "10", "NX", "XX"],
    &["EXPIRE", "d:ttl", "0"],
    &["EXISTS", "d:ttl"],
    &["GETSET", "d:gs", "1"],
    &["GETSET", "d:gs", "2"],
    &["GETDEL", "d:gs"],
    &["GETDEL", "d:gs"],
    &["SETNX", "d:nx", "1"],
    &["SETNX", "d:nx", "2"],
    &["APPEND", "d:ap", "ab"],
    &["APPEND", "d:ap", "\x00\r\n"],
    &["GET", "d:ap"],
    &["STRLEN", "d:ap"],
    &["STRLEN", "d:missing"],
    &["INCR", "d:n"],
    &["INCRBY", "d:n", "41"],
    &["DECR", "d:n"],
    &["DECRBY", "d:n", "-10"],
    &["INCRBY", "d:n", "x"],
    &["INCR", "d:ap"],
    &["SET", "d:big", "9223372036854775807"],
    &["INCR", "d:big"],
    &["INCRBYFLOAT", "d:f", "1.5"],
    &["INCRBYFLOAT", "d:f", "0.25"],
    &["INCRBYFLOAT", "d:f", "x"],
    &["INCRBYFLOAT", "d:ap", "1"],
    &["MSET", "d:a", "1", "d:b", "2"],
    &["MSET", "d:a"],
    &["MGET", "d:a", "d:missing", "d:b"],
    &["MSETNX", "d:a", "1", "d:c", "3"],
    &["DEL", "d:a", "d:b", "d:missing"],
    &["EXISTS", "d:a", "d:nx", "d:nx"],
    &["TYPE", "d:nx"],
    &["TYPE", "d:missing"],
    &["HSET", "d:h", "f1", "v1", "f2", "v2"],
    &["HSET", "d:h", "f1", "x"],
    &["HSET", "d:h", "odd"],
    &["HGET", "d:h", "f1"],
    &["HGET", "d:h", "nofield"],
    &["HGET", "d:missing", "f"],
    &["HGETALL", "d:h"],
    &["HGETALL", "d:missing"],
    &["HMGET", "d:h", "f1", "nofield", "f2"],
    &["HKEYS", "d:h"],
    &["HVALS", "d:h"],
    &["HLEN", "d:h"],
    &["HEXISTS", "d:h", "f2"],
    &["HEXISTS", "d:h", "nofield"],
    &["HINCRBY", "d:h", "count", "5"],
    &["HINCRBY", "d:h", "f1", "1"],
    &["HDEL", "d:h", "f1", "nofield"],
    &["TYPE", "d:h"],
    &["GET", "d:h"],
    &["INCR", "d:h"],
    &["LPUSH", "d:h", "x"],
    &["HSETNX", "d:h", "f2", "new"],
    &["HSETNX", "d:h", "f3", "new"],
    &["RPUSH", "d:l", "a", "b", "c"],
    &["LPUSH", "d:l", "z"],
    &["LRANGE", "d:l", "0", "-1"],
    &["LRANGE", "d:l", "1", "2"],
    &["LRANGE", "d:l", "-2", "100"],
    &["LRANGE", "d:l", "5", "10"],
    &["LRANGE", "d:l", "x", "1"],
    &["LLEN", "d:l"],
    &["LPOP", "d:l"],
    &["RPOP", "d:l"],
    &["LPOP", "d:l", "5"],
    &["LPOP", "d:l"],
    &["LPOP", "d:l", "2"],
    &["LPOP", "d:l", "-1"],
    &["LLEN", "d:l"],
    &["TYPE", "d:l"],
    &["SADD", "d:s", "a", "b", "a"],
    &["SADD", "d:s", "c"],
    &["SISMEMBER", "d:s", "a"],
    &["SISMEMBER", "d:s", "zz"],
    &["SCARD", "d:s"],
    &["SREM", "d:s", "a", "zz"],
    &["SCARD", "d:missing"],
    &["SMEMBERS", "d:missing"],
    &["TYPE", "d:s"],
    &["HGET", "d:s", "f"],
    &["CLIENT", "SETNAME", "respect-test"],
    &["CLIENT", "GETNAME"],
    &["CLIENT", "SETNAME", "bad name"],
    &["CLIENT", "NOSUCH"],
    &["AUTH", "pw"],
    &["HELLO", "4"],
    &["HELLO", "x"],
    &["COMMAND", "NOSUCH"],
    &[
        "COMMAND", "INFO", "get", "mset", "set", "keys", "hgetall", "nosuch",
    ],
    &[
        "COMMAND",
        "INFO",
        "ping",
        "auth",
        "hello",
        "reset",
        "client|id",
        "config|get",
    ],
    &["COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"],
    &["COMMAND", "GETKEYS", "get", "a", "b"],
    &["COMMAND", "GETKEYS", "ping", "x"],
    &["COMMAND", "GETKEYS", "nosuch", "x"],
    &["COMMAND", "GETKEYS", "client", "nosuch"],
    &["COMMAND", "GETKEYS"],
    &["COMMAND", "COUNT", "x"],
    &["COMMAND", "LIST", "x"],
    &["COMMAND", "LIST", "FILTERBY", "MODULE", "x"],
    &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"],
    &["COMMAND", "LIST", "FILTERBY", "PATTERN", "mget"],
    &["COMMAND", "LIST", "FILTERBY", "PATTERN", "client|set*"],
    &["COMMAND", "DOCS", "nosuch"],
    &["CLIENT", "NOSUCH"],
    &["CLIENT", "ID", "x"],
    &["CONFIG", "NOSUCH"],
    &[
        "GEOADD",
        "d:geo",
        "13.361389",
        "38.115556",
        "Palermo",
        "15.087269",
        "37.502669",
        "Catania",
    ],
    &["GEOADD", "d:geo", "181", "0", "x"],
    &["GEOPOS", "d:geo", "Palermo", "nope"],
    &["GEODIST", "d:geo", "Palermo", "Catania", "km"],
    &["GEOHASH", "d:geo", "Palermo", "Catania"],
    &[
        "GEOSEARCH",
        "d:geo",
        "FROMLONLAT",
        "15",
        "37",
        "BYRADIUS",
        "200",
        "km",
        "ASC",
        "WITHCOORD",
        "WITHDIST",
        "WITHHASH",
    ],
    &[
        "GEORADIUSBYMEMBER",
        "d:geo",
        "Palermo",
        "200",
        "km",
        "DESC",
        "COUNT",
        "1",
    ],
    &[
        "GEOSEARCHSTORE",
        "d:geo2",
        "d:geo",
        "FROMMEMBER",
        "Catania",
        "BYBOX",
        "400",
        "400",
        "km",
        "STOREDIST",
    ],
    &["ZRANGE", "d:geo2", "0", "-1", "WITHSCORES"],
    &["GEOSEARCH", "d:geo", "FROMLONLAT", "15", "37"],
    &["KEYS", "d:h*"],
    &["DBSIZE"],
    &["FLUSHALL"],
    &["DBSIZE"],
    &["KEYS", "*"],
];

/// Commands whose reply differs by design between servers (ids, versions): only the type of
/// the reply is compared.
fn same_type_only(args: &[&str]) -> bool {
    matches!(args.first(), Some(&"HELLO")) && args.len() == 2 && (args[1] == "2" || args[1] == "3")
}

async fn replies(
    addr: std::net::SocketAddr,
    script: &[&[&str]],
    resp3: bool,
) -> Vec<(String, Frame, bytes::Bytes)> {
    let mut client = Client::connect(addr, Dialect::Resp2)
        .await
        .expect("connect");
    let mut out = Vec::new();
    if resp3 {
        client
            .send(&Frame::command(["HELLO", "3"]))
            .await
            .expect("send HELLO");
        client.set_dialect(Dialect::Resp3);
        let hello = client.read_reply().await.expect("HELLO reply");
        out.push(("HELLO 3".into(), hello.frame, bytes::Bytes::new()));
    }
    for args in script {
        client
            .send(&Frame::command(args.iter()))
            .await
            .expect("send");
        let reply = client.read_reply().await.expect("reply");
        out.push((args.join(" "), reply.frame, reply.raw));
    }
    out
}

fn compare(ours: &[(String, Frame, bytes::Bytes)], theirs: &[(String, Frame, bytes::Bytes)]) {
    assert_eq!(ours.len(), theirs.len());
    let mut compared = 0;
    let mut diffs = Vec::new();
    for ((cmd, our_frame, our_raw), (_, their_frame, their_raw)) in ours.iter().zip(theirs) {
        let args: Vec<&str> = cmd.split(' ').collect();
        if cmd == "HELLO 3" || same_type_only(&args) {
            assert_eq!(our_frame.type_name(), their_frame.type_name(), "{cmd}");
            continue;
        }
        compared += 1;
        if our_raw != their_raw {
            diffs.push(format!(
                "{cmd}\n  redis:   \"{}\"\n  respect: \"{}\"",
                escape_bytes(their_raw),
                escape_bytes(our_raw)
            ));
        }
    }
    assert!(
        diffs.is_empty(),
        "{} replies differ from redis-server:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    assert!(
        compared >= SCRIPT.len() - 2,
        "only {compared} replies compared"
    );
}

#[tokio::test]
async fn replies_match_redis_byte_for_byte_in_resp2_and_resp3() {
    let Some(redis) = support::RedisServer::start() else {
        return;
    };
    let ours = support::our_server(ServerConfig::default()).await;
    for resp3 in [false, true] {
        let theirs_replies = replies(redis.addr, SCRIPT, resp3).await;
        let our_replies = replies(ours.addr(), SCRIPT, resp3).await;
        compare(&our_replies, &theirs_replies);
    }
    ours.shutdown().await;
}
