//! The replication stream against a real redis-server 7.0: the same commands run on both
//! servers while a connection attached with SYNC reads what each propagates, and the two
//! streams are compared command for command. Absolute times (the PXAT and PEXPIREAT that
//! relative expiries become) differ by the milliseconds between the runs, so 13-digit
//! numbers are compared as "a time in milliseconds"; everything else is compared byte for
//! byte: which commands propagate, their rewrites, SELECTs, MULTI/EXEC wrapping.

mod support;

use std::time::Duration;

use bytes::BytesMut;
use respect::client::Client;
use respect::resp::{escape_bytes, Decoder, Dialect, Frame};
use respect::server::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One step of a script.
enum Step {
    /// A command on the main connection.
    Run(Vec<Vec<u8>>),
    /// A blocking command on a second connection, left waiting until the server counts it
    /// blocked (its reply is read at the end).
    Block(Vec<Vec<u8>>),
    /// A pause (a key's time to live running out).
    Sleep(u64),
}

fn run(words: &[&str]) -> Step {
    Step::Run(words.iter().map(|w| w.as_bytes().to_vec()).collect())
}

fn block(words: &[&str]) -> Step {
    Step::Block(words.iter().map(|w| w.as_bytes().to_vec()).collect())
}

/// The PUBLISH that ends every script: Redis propagates PUBLISH, so seeing it in the stream
/// says that everything before it has arrived.
const END: &str = "__end_of_script__";

/// The scripts, each a name and its steps; every script starts from empty databases.
fn scripts() -> Vec<(&'static str, Vec<Step>)> {
    let secs = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        + 1000)
        .to_string();
    let ms = format!("{secs}000");
    vec![
        (
            "strings and their expiries",
            vec![
                run(&["SET", "k", "v"]),
                run(&["SET", "k", "v", "EX", "100"]),
                run(&["set", "k", "v", "px", "100000", "get"]),
                run(&["SET", "k", "v", "EXAT", &secs]),
                run(&["SET", "k", "v", "PXAT", &ms, "GET"]),
                run(&["SET", "k", "v", "GET", "XX", "get"]),
                run(&["SET", "k", "v", "NX"]),
                run(&["SET", "k", "v", "XX", "KEEPTTL"]),
                run(&["SETEX", "k", "100", "v"]),
                run(&["PSETEX", "k", "100000", "v"]),
                run(&["SETNX", "k", "v"]),
                run(&["GETSET", "k", "w"]),
                run(&["GETDEL", "k"]),
                run(&["GETDEL", "k"]),
                run(&["INCRBYFLOAT", "f", "1.5"]),
                run(&["INCRBYFLOAT", "f", "3.0e3"]),
                run(&["APPEND", "a", "xyz"]),
                run(&["SETRANGE", "a", "1", ""]),
                run(&["SETRANGE", "a", "1", "Q"]),
                run(&["INCR", "n"]),
                run(&["SET", "g", "v"]),
                run(&["GETEX", "g"]),
                run(&["GETEX", "g", "EX", "100"]),
                run(&["GETEX", "g", "PERSIST"]),
                run(&["GETEX", "g", "PERSIST"]),
                run(&["GETEX", "g", "PXAT", &ms]),
                run(&["GETEX", "g", "EXAT", "100"]),
                run(&["MSET", "m1", "1", "m2", "2"]),
                run(&["MSETNX", "m1", "1", "m3", "3"]),
            ],
        ),
        (
            "the expire family",
            vec![
                run(&["SET", "e", "v"]),
                run(&["EXPIRE", "e", "100"]),
                run(&["PEXPIRE", "e", "200000", "GT"]),
                run(&["EXPIRE", "e", "50", "GT"]),
                run(&["EXPIRE", "e", "100", "NX"]),
                run(&["EXPIREAT", "e", &secs]),
                run(&["pexpireat", "e", &ms]),
                run(&["PERSIST", "e"]),
                run(&["PERSIST", "e"]),
                run(&["EXPIRE", "missing", "100"]),
                run(&["EXPIREAT", "e", "100"]),
                run(&["SET", "e", "v"]),
                run(&["PEXPIRE", "e", "-1"]),
            ],
        ),
        (
            "lists: pops propagate as the pops that do not block",
            vec![
                run(&["RPUSH", "l", "a", "b", "c", "d", "e", "f"]),
                run(&["LPOP", "l"]),
                run(&["RPOP", "l", "1"]),
                run(&["BLPOP", "l", "0"]),
                run(&["BRPOP", "missing", "l", "0"]),
                run(&["RPUSH", "l", "a", "b", "c", "d"]),
                run(&["LMPOP", "1", "l", "LEFT", "COUNT", "2"]),
                run(&["BLMPOP", "0", "2", "missing", "l", "RIGHT", "COUNT", "10"]),
                run(&["LMPOP", "1", "l", "LEFT"]),
                run(&["RPUSH", "l", "a", "b", "c"]),
                run(&["BLMOVE", "l", "dst", "LEFT", "RIGHT", "0"]),
                run(&["BRPOPLPUSH", "l", "dst", "0"]),
                run(&["LMOVE", "dst", "l", "left", "left"]),
                run(&["RPOPLPUSH", "dst", "l"]),
                run(&["LPOP", "missing"]),
                run(&["LINSERT", "l", "BEFORE", "a", "z"]),
                run(&["LTRIM", "l", "0", "1"]),
            ],
        ),
        (
            "stream consumer groups: reads and claims go as XCLAIM and XGROUP SETID",
            stream_group_steps(),
        ),
        (
            "a blocked client served by a push",
            vec![
                block(&["BLPOP", "w", "0"]),
                run(&["RPUSH", "w", "x", "y"]),
                block(&["BLMPOP", "0", "1", "w2", "RIGHT", "COUNT", "5"]),
                run(&["LPUSH", "w2", "1", "2", "3"]),
                block(&["BZPOPMAX", "z", "0"]),
                run(&["ZADD", "z", "1", "a", "2", "b"]),
            ],
        ),
        (
            "sets, hashes and sorted sets",
            vec![
                run(&["SADD", "s", "a"]),
                run(&["SPOP", "s"]),
                run(&["SADD", "s", "a", "b", "c"]),
                run(&["SPOP", "s", "10"]),
                run(&["SPOP", "s", "10"]),
                run(&["SADD", "s", "a"]),
                run(&["SREM", "s", "nothing"]),
                run(&["HSET", "h", "f", "1"]),
                run(&["HINCRBYFLOAT", "h", "f", "0.25"]),
                run(&["HINCRBY", "h", "g", "2"]),
                run(&["HDEL", "h", "nothing"]),
                run(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]),
                run(&["ZADD", "z", "NX", "1", "a"]),
                run(&["ZPOPMIN", "z"]),
                run(&["ZPOPMAX", "z", "1"]),
                run(&["BZPOPMIN", "z", "0"]),
                run(&["ZMPOP", "1", "z", "MAX", "COUNT", "5"]),
                run(&["ZADD", "z", "1", "a"]),
                run(&["BZMPOP", "0", "1", "z", "MIN"]),
            ],
        ),
        (
            "transactions",
            vec![
                run(&["MULTI"]),
                run(&["SET", "t", "1"]),
                run(&["EXEC"]),
                run(&["MULTI"]),
                run(&["SET", "t", "1"]),
                run(&["GET", "t"]),
                run(&["INCR", "t"]),
                run(&["EXEC"]),
                run(&["MULTI"]),
                run(&["GET", "t"]),
                run(&["EXEC"]),
                run(&["MULTI"]),
                run(&["DEL", "missing"]),
                run(&["EXEC"]),
                run(&["MULTI"]),
                run(&["SELECT", "1"]),
                run(&["SET", "t", "1"]),
                run(&["SELECT", "2"]),
                run(&["SET", "t", "2"]),
                run(&["SELECT", "0"]),
                run(&["EXEC"]),
                run(&["MULTI"]),
                run(&["SET", "t", "3", "EX", "100"]),
                run(&["INCRBYFLOAT", "u", "1"]),
                run(&["EXEC"]),
            ],
        ),
        (
            "databases",
            vec![
                run(&["SET", "d", "0"]),
                run(&["SELECT", "3"]),
                run(&["SET", "d", "3"]),
                run(&["MOVE", "d", "4"]),
                run(&["MOVE", "d", "4"]),
                run(&["COPY", "x", "y"]),
                run(&["SELECT", "0"]),
                run(&["COPY", "d", "d2", "DB", "5"]),
                run(&["SWAPDB", "0", "5"]),
                run(&["FLUSHDB"]),
                run(&["FLUSHALL"]),
                run(&["DEL", "d"]),
                run(&["SET", "d", "1"]),
                run(&["RENAME", "d", "e"]),
                run(&["UNLINK", "e", "f"]),
            ],
        ),
        (
            "streams: generated IDs and approximate trims go exact",
            vec![
                run(&["XADD", "x", "5-*", "f", "v"]),
                run(&["XADD", "x", "5-*", "f", "v"]),
                run(&["XADD", "x", "MAXLEN", "~", "1", "7-1", "f", "v"]),
                run(&["XADD", "x", "MAXLEN", "=", "2", "8-*", "f", "v"]),
                run(&["XTRIM", "x", "MINID", "~", "6"]),
                run(&["XTRIM", "x", "MAXLEN", "5"]),
                run(&["XADD", "missing", "NOMKSTREAM", "*", "f", "v"]),
                run(&["XDEL", "x", "8-0"]),
                run(&["XSETID", "x", "99-0"]),
                run(&["XGROUP", "CREATE", "x", "g", "0"]),
                run(&["XGROUP", "CREATE", "y", "g", "$", "MKSTREAM"]),
                run(&["XGROUP", "SETID", "x", "g", "7-1"]),
                run(&["XGROUP", "CREATECONSUMER", "x", "g", "c"]),
                run(&["XGROUP", "CREATECONSUMER", "x", "g", "c"]),
                run(&["XACK", "x", "g", "7-1"]),
                run(&["XGROUP", "DESTROY", "x", "nope"]),
                run(&["XGROUP", "DESTROY", "x", "g"]),
            ],
        ),
        (
            "streams: MINID ~ goes as the first ID, deleted or not, the largest when empty",
            vec![
                run(&["XADD", "e", "1-1", "f", "v"]),
                run(&["XADD", "e", "2-1", "f", "v"]),
                run(&["XTRIM", "e", "MINID", "~", "5"]),
                run(&["XADD", "e", "MINID", "~", "9", "4-1", "f", "v"]),
                run(&["XADD", "e", "MAXLEN", "~", "0", "5-1", "f", "v"]),
                run(&["XTRIM", "e", "MINID", "~", "0"]),
                run(&["XTRIM", "e", "MAXLEN", "~", "0"]),
                run(&["XADD", "t", "1-1", "f", "v"]),
                run(&["XADD", "t", "2-1", "f", "v"]),
                run(&["XADD", "t", "3-1", "f", "v"]),
                run(&["XADD", "t", "4-1", "f", "v"]),
                run(&["XTRIM", "t", "MINID", "3"]),
                run(&["XTRIM", "t", "MINID", "~", "0"]),
                run(&["XDEL", "t", "3-1"]),
                run(&["XTRIM", "t", "MINID", "~", "2"]),
                run(&["XTRIM", "t", "MINID", "~", "9"]),
                // Nodes of two: 1-1 2-1 | 3-1 (deleted) 4-1 | 5-1; the trim removes the
                // first node and goes as MINID = 3-1.
                run(&["CONFIG", "SET", "stream-node-max-entries", "2"]),
                run(&["XADD", "u", "1-1", "f", "v"]),
                run(&["XADD", "u", "2-1", "f", "v"]),
                run(&["XADD", "u", "3-1", "f", "v"]),
                run(&["XADD", "u", "4-1", "f", "v"]),
                run(&["XADD", "u", "5-1", "f", "v"]),
                run(&["XDEL", "u", "3-1"]),
                run(&["XTRIM", "u", "MINID", "~", "4"]),
                run(&["CONFIG", "SET", "stream-node-max-entries", "100"]),
            ],
        ),
        (
            "a replica propagates nothing of its own",
            vec![
                run(&["SET", "r", "1"]),
                run(&["MULTI"]),
                run(&["SET", "r", "2"]),
                run(&["REPLICAOF", "127.0.0.1", "1"]),
                run(&["SET", "r", "3"]),
                run(&["EXEC"]),
                run(&["SET", "r", "4"]),
                run(&["PUBLISH", "ignored", "x"]),
                // Leaving the role closes the replicas' connections: the stream ends here.
                run(&["REPLICAOF", "NO", "ONE"]),
            ],
        ),
        (
            "keys found expired are deleted first",
            vec![
                run(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]),
                run(&["SET", "x1", "v", "PX", "1"]),
                run(&["SET", "x2", "v", "PX", "1"]),
                run(&["SET", "x3", "v", "PX", "1"]),
                Step::Sleep(20),
                run(&["GET", "x1"]),
                run(&["SET", "x2", "new"]),
                run(&["EXISTS", "x3"]),
                run(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]),
            ],
        ),
    ]
}

/// XREADGROUP (new entries, NOACK, history, new consumers, in MULTI, blocked then served),
/// XCLAIM, XAUTOCLAIM (with deleted entries), XACK, XSETID and the XGROUP subcommands.
fn stream_group_steps() -> Vec<Step> {
    vec![
        run(&["XADD", "s", "1-1", "f", "v"]),
        run(&["XADD", "s", "2-1", "f", "v"]),
        run(&["XADD", "s", "3-1", "f", "v"]),
        run(&["XGROUP", "CREATE", "s", "g", "0"]),
        run(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "1",
            "STREAMS",
            "s",
            ">",
        ]),
        run(&["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"]),
        run(&["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "0"]),
        run(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "carol",
            "NOACK",
            "COUNT",
            "1",
            "STREAMS",
            "s",
            ">",
        ]),
        run(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "NOACK",
            "STREAMS",
            "s",
            ">",
        ]),
        run(&["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"]),
        run(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "new1",
            "NOACK",
            "STREAMS",
            "s",
            "0",
        ]),
        run(&["XCLAIM", "s", "g", "bob", "0", "1-1"]),
        run(&["XCLAIM", "s", "g", "bob", "0", "1", "JUSTID"]),
        run(&["XCLAIM", "s", "g", "bob", "0", "2-1", "LASTID", "5-0"]),
        run(&["XCLAIM", "s", "g", "bob", "0", "2-1", "LASTID", "4-0"]),
        run(&[
            "XCLAIM",
            "s",
            "g",
            "dave",
            "0",
            "3-1",
            "FORCE",
            "RETRYCOUNT",
            "7",
        ]),
        run(&["XDEL", "s", "1-1"]),
        run(&["XCLAIM", "s", "g", "bob", "0", "1-1", "3-1"]),
        run(&["XADD", "s", "6-1", "f", "v"]),
        run(&["XADD", "s", "7-1", "f", "v"]),
        run(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "erin",
            "COUNT",
            "2",
            "STREAMS",
            "s",
            ">",
        ]),
        run(&["XDEL", "s", "6-1"]),
        run(&["XAUTOCLAIM", "s", "g", "frank", "0", "0-0", "COUNT", "10"]),
        run(&["XAUTOCLAIM", "s", "g", "frank", "0", "0-0", "JUSTID"]),
        run(&["XAUTOCLAIM", "s", "g", "frank", "100000", "0-0"]),
        run(&["XACK", "s", "g", "7-1", "3-1"]),
        run(&["XACK", "s", "g", "7-1"]),
        run(&["XACK", "missing", "g", "1-1"]),
        run(&["XSETID", "s", "100-0"]),
        run(&["XGROUP", "CREATE", "s", "g2", "$"]),
        run(&["XGROUP", "CREATE", "s", "g2", "$"]),
        run(&["XGROUP", "CREATE", "s2", "g", "0", "MKSTREAM"]),
        run(&["XGROUP", "SETID", "s", "g2", "0", "ENTRIESREAD", "0"]),
        run(&["XGROUP", "CREATECONSUMER", "s", "g2", "zed"]),
        run(&["XGROUP", "CREATECONSUMER", "s", "g2", "zed"]),
        run(&["XGROUP", "DELCONSUMER", "s", "g2", "zed"]),
        run(&["XGROUP", "DELCONSUMER", "s", "g2", "zed"]),
        run(&["XGROUP", "DESTROY", "s", "g2"]),
        run(&["XGROUP", "DESTROY", "s", "g2"]),
        run(&["MULTI"]),
        run(&["XADD", "s", "101-1", "f", "v"]),
        run(&["XREADGROUP", "GROUP", "g", "ivy", "STREAMS", "s", ">"]),
        run(&["EXEC"]),
        block(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "gina",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ]),
        run(&["XADD", "s", "200-1", "f", "v"]),
        block(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "hank",
            "NOACK",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ]),
        run(&["XADD", "s", "201-1", "f", "v"]),
        // Two keys at once; a script; MKSTREAM on a key that exists.
        run(&["XADD", "s2", "1-1", "f", "v"]),
        run(&["XGROUP", "CREATE", "s2", "g2", "$"]),
        run(&["XREADGROUP", "GROUP", "g", "jay", "STREAMS", "s", "s2", ">", ">"]),
        run(&["XGROUP", "SETID", "s", "g", "0"]),
        run(&["XGROUP", "CREATE", "s2", "g3", "$", "MKSTREAM"]),
        run(&[
            "EVAL",
            "return redis.call('XREADGROUP', 'GROUP', 'g', 'kim', 'COUNT', '2', 'STREAMS', KEYS[1], '>')",
            "1",
            "s",
        ]),
        run(&[
            "EVAL",
            "return redis.call('XREADGROUP', 'GROUP', 'g', 'kim', 'NOACK', 'COUNT', '1', 'STREAMS', KEYS[1], '>')",
            "1",
            "s",
        ]),
        // Readers of two groups served by one XADD, and by a transaction.
        block(&["XREADGROUP", "GROUP", "g2", "lee", "BLOCK", "0", "STREAMS", "s2", ">"]),
        block(&["XREADGROUP", "GROUP", "g3", "max", "NOACK", "BLOCK", "0", "STREAMS", "s2", ">"]),
        run(&["XADD", "s2", "2-1", "f", "v"]),
        block(&["XREADGROUP", "GROUP", "g2", "lee", "BLOCK", "0", "STREAMS", "s2", ">"]),
        block(&["XREADGROUP", "GROUP", "g3", "ned", "BLOCK", "0", "STREAMS", "s2", ">"]),
        run(&["MULTI"]),
        run(&["XADD", "s2", "3-1", "f", "v"]),
        run(&["XADD", "s2", "4-1", "f", "v"]),
        run(&["EXEC"]),
    ]
}

/// What a replica read: the snapshot, then the commands (each as its words).
type Stream = (BytesMut, Vec<Vec<String>>);

/// Reads the stream of one script on `addr`: attaches with SYNC, runs `steps`, and returns
/// the snapshot and every command propagated until the closing PUBLISH (or until the server
/// closes the stream, as it does when it leaves the replica role).
async fn stream_of(addr: std::net::SocketAddr, steps: &[Step]) -> Stream {
    let mut client = Client::connect(addr, Dialect::Resp2)
        .await
        .expect("connect");
    let mut replica = TcpStream::connect(addr).await.expect("connect replica");
    replica.write_all(b"SYNC\r\n").await.expect("sync");
    let mut input = BytesMut::new();
    // The snapshot: `$<len>\r\n` and that many bytes, after any keep-alive newlines.
    let len = loop {
        if let Some(end) = input.iter().position(|b| *b == b'\n') {
            let line = input.split_to(end + 1);
            let line = std::str::from_utf8(&line).expect("header").trim();
            if line.is_empty() {
                continue;
            }
            let len = line.strip_prefix('$').expect("a bulk header");
            break len.parse::<usize>().expect("a length");
        }
        assert!(
            read_more(&mut replica, &mut input).await,
            "closed before the snapshot"
        );
    };
    while input.len() < len {
        assert!(
            read_more(&mut replica, &mut input).await,
            "closed in the snapshot"
        );
    }
    let snapshot = input.split_to(len);
    assert!(snapshot.starts_with(b"REDIS"), "an RDB file");
    let mut blocked = Vec::new();
    for step in steps {
        match step {
            Step::Run(argv) => {
                client.call(argv).await.expect("reply");
            }
            Step::Block(argv) => {
                let mut waiter = Client::connect(addr, Dialect::Resp2)
                    .await
                    .expect("connect");
                let frame =
                    Frame::Array(argv.iter().map(|a| Frame::Bulk(a.clone().into())).collect());
                let before = blocked_clients(&mut client).await;
                waiter.send(&frame).await.expect("send");
                wait_blocked(&mut client, before + 1).await;
                blocked.push(waiter);
            }
            Step::Sleep(ms) => tokio::time::sleep(Duration::from_millis(*ms)).await,
        }
    }
    for waiter in &mut blocked {
        waiter
            .read_reply()
            .await
            .expect("the blocked client's reply");
    }
    client.call(&["PUBLISH", END, "x"]).await.expect("publish");
    let mut decoder = Decoder::new(Dialect::Resp2);
    let mut commands = Vec::new();
    loop {
        while let Some(frame) = decoder.decode(&mut input).expect("a valid stream") {
            let words: Vec<String> = match frame {
                Frame::Array(items) => items
                    .iter()
                    .map(|item| match item {
                        Frame::Bulk(b) => normalised(b),
                        other => panic!("not a bulk string in the stream: {other:?}"),
                    })
                    .collect(),
                other => panic!("not a command in the stream: {other:?}"),
            };
            if words
                .first()
                .is_some_and(|w| w.eq_ignore_ascii_case("ping"))
            {
                continue;
            }
            if words.get(1).map(String::as_str) == Some(END) {
                return (snapshot, commands);
            }
            commands.push(words);
        }
        if !read_more(&mut replica, &mut input).await {
            return (snapshot, commands);
        }
    }
}

/// One argument for comparison: a 13-digit number is an absolute time in milliseconds.
fn normalised(arg: &[u8]) -> String {
    if arg.len() == 13 && arg.iter().all(u8::is_ascii_digit) {
        "<unix-ms>".to_string()
    } else {
        escape_bytes(arg).to_string()
    }
}

/// Reads what arrived; false when the server closed the connection.
async fn read_more(stream: &mut TcpStream, input: &mut BytesMut) -> bool {
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_buf(input))
        .await
        .expect("the stream went silent for 10 s");
    matches!(read, Ok(n) if n > 0)
}

/// INFO's `blocked_clients`.
async fn blocked_clients(client: &mut Client) -> usize {
    let info = client.call(&["INFO", "clients"]).await.expect("info");
    let text = match info {
        Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        _ => String::new(),
    };
    text.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("INFO clients has blocked_clients")
}

/// Waits until the server counts `n` blocked clients.
async fn wait_blocked(client: &mut Client, n: usize) {
    for _ in 0..500 {
        if blocked_clients(client).await >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the client never blocked");
}

#[tokio::test]
async fn the_stream_is_redis_stream() {
    let Some(redis) = support::RedisServer::start() else {
        return;
    };
    let ours = support::our_server(ServerConfig {
        enable_debug_command: true,
        ..Default::default()
    })
    .await;
    let mut differences = Vec::new();
    for (name, steps) in scripts() {
        for addr in [redis.addr, ours.addr()] {
            let mut client = Client::connect(addr, Dialect::Resp2)
                .await
                .expect("connect");
            client.call(&["FLUSHALL"]).await.expect("flushall");
        }
        let (_, theirs) = stream_of(redis.addr, &steps).await;
        let (_, mine) = stream_of(ours.addr(), &steps).await;
        if theirs != mine {
            differences.push(format!(
                "{name}:\n  redis-server: {theirs:?}\n  ours:         {mine:?}"
            ));
        }
        assert!(
            !theirs.is_empty(),
            "{name}: redis-server propagated nothing"
        );
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

#[tokio::test]
async fn a_replica_gets_the_dataset_then_every_change_until_it_leaves() {
    let ours = support::our_server(ServerConfig::default()).await;
    let mut client = Client::connect(ours.addr(), Dialect::Resp2)
        .await
        .expect("connect");
    client.call(&["SET", "before", "1"]).await.expect("set");
    let steps = [run(&["SET", "after", "2"])];
    let (snapshot, stream) = stream_of(ours.addr(), &steps).await;
    assert!(
        snapshot.windows(6).any(|w| w == b"before"),
        "the snapshot holds the key set before SYNC"
    );
    assert_eq!(
        stream,
        vec![
            vec!["SELECT".to_string(), "0".to_string()],
            vec!["SET".to_string(), "after".to_string(), "2".to_string()],
        ]
    );
    // The replicas that left are gone: INFO counts none, and commands run as before.
    for _ in 0..100 {
        let info = client.call(&["INFO", "replication"]).await.expect("info");
        if matches!(&info, Frame::Bulk(b) if b.windows(18).any(|w| w == b"connected_slaves:0")) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the replica never detached");
}

/// INFO's `rdb_changes_since_last_save`.
async fn changes(client: &mut Client) -> i64 {
    let info = client.call(&["INFO", "persistence"]).await.expect("info");
    let text = match info {
        Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        _ => String::new(),
    };
    text.lines()
        .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("INFO persistence has rdb_changes_since_last_save")
}

/// The stream commands count the changes Redis counts (`server.dirty`), command by command.
#[tokio::test]
async fn stream_commands_count_changes_as_redis() {
    let Some(redis) = support::RedisServer::start() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("respect-xdirty-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let ours = support::our_server(ServerConfig {
        dir: Some(dir.clone()),
        ..Default::default()
    })
    .await;
    let mut theirs = Client::connect(redis.addr, Dialect::Resp2)
        .await
        .expect("connect");
    let mut mine = Client::connect(ours.addr(), Dialect::Resp2)
        .await
        .expect("connect");
    let mut differences = Vec::new();
    // Inside MULTI, INFO would be queued: a transaction's changes are compared at its EXEC.
    let mut before = [0; 2];
    let mut queuing = false;
    for step in stream_group_steps() {
        let Step::Run(argv) = step else {
            continue;
        };
        let name = String::from_utf8_lossy(&argv[0]).to_ascii_uppercase();
        let mut deltas = [0; 2];
        for ((delta, before), client) in deltas
            .iter_mut()
            .zip(before.iter_mut())
            .zip([&mut theirs, &mut mine])
        {
            if !queuing {
                *before = changes(client).await;
            }
            client.call(&argv).await.expect("reply");
            if name != "MULTI" && (name == "EXEC" || !queuing) {
                *delta = changes(client).await - *before;
            }
        }
        if name == "MULTI" {
            queuing = true;
            continue;
        }
        if queuing && name != "EXEC" {
            continue;
        }
        queuing = false;
        if deltas[0] != deltas[1] {
            let words: Vec<String> = argv.iter().map(|a| escape_bytes(a).to_string()).collect();
            differences.push(format!(
                "{}: redis-server {}, ours {}",
                words.join(" "),
                deltas[0],
                deltas[1]
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
