//! DUMP and RESTORE against a real redis-server 7.0: the same values built on both servers,
//! their payloads compared byte for byte where Redis's bytes do not depend on its hash
//! tables' order, each server's payload RESTOREd into the other (contents compared with
//! DEBUG DIGEST-VALUE, encodings with OBJECT ENCODING), and RESTORE's refusals compared
//! reply for reply.

mod support;

use respect::client::Client;
use respect::resp::{escape_bytes, Dialect, Frame};
use respect::server::ServerConfig;

/// A command as its arguments.
type Command = Vec<Vec<u8>>;

/// Values covering every encoding a DUMP can carry: (key, commands that build it, whether
/// Redis's payload is deterministic).
fn values() -> Vec<(&'static str, Vec<Command>, bool)> {
    let cmd = |parts: &[&[u8]]| parts.iter().map(|p| p.to_vec()).collect::<Vec<_>>();
    let many = |verb: &[u8], key: &[u8], n: usize, f: &dyn Fn(usize) -> Vec<Vec<u8>>| {
        let mut c = vec![verb.to_vec(), key.to_vec()];
        for i in 0..n {
            c.extend(f(i));
        }
        vec![c]
    };
    let mut random = Vec::new();
    let mut x: u32 = 12345;
    for _ in 0..5000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        random.push((x >> 16) as u8);
    }
    let text: Vec<u8> = (0..3000u64)
        .flat_map(|i| format!("{} ", i * i % 1000).into_bytes())
        .collect();
    vec![
        ("s:hello", vec![cmd(&[b"SET", b"s:hello", b"hello"])], true),
        ("s:empty", vec![cmd(&[b"SET", b"s:empty", b""])], true),
        ("s:int", vec![cmd(&[b"SET", b"s:int", b"123456"])], true),
        ("s:neg", vec![cmd(&[b"SET", b"s:neg", b"-5"])], true),
        (
            "s:long-int",
            vec![cmd(&[b"SET", b"s:long-int", b"-9223372036854775808"])],
            true,
        ),
        ("s:text", vec![cmd(&[b"SET", b"s:text", &text])], true),
        ("s:random", vec![cmd(&[b"SET", b"s:random", &random])], true),
        (
            "s:appended",
            vec![cmd(&[b"APPEND", b"s:appended", b"12"])],
            true,
        ),
        (
            "l:small",
            vec![cmd(&[
                b"RPUSH", b"l:small", b"a", b"1", b"-300", b"70000", b"",
            ])],
            true,
        ),
        (
            "l:big",
            many(b"RPUSH", b"l:big", 3000, &|i| {
                vec![if i % 7 == 0 {
                    vec![b'x'; 200]
                } else {
                    i.to_string().into_bytes()
                }]
            }),
            true,
        ),
        (
            "set:ints",
            vec![cmd(&[b"SADD", b"set:ints", b"5", b"-1", b"70000", b"3"])],
            true,
        ),
        (
            "set:wide",
            vec![cmd(&[b"SADD", b"set:wide", b"1", b"-9223372036854775808"])],
            true,
        ),
        (
            "set:words",
            vec![cmd(&[b"SADD", b"set:words", b"a", b"b", b"c"])],
            false,
        ),
        (
            "set:many-ints",
            many(b"SADD", b"set:many-ints", 600, &|i| {
                vec![i.to_string().into_bytes()]
            }),
            false,
        ),
        (
            "h:small",
            vec![cmd(&[
                b"HSET", b"h:small", b"f", b"v", b"n", b"12", b"neg", b"-70000",
            ])],
            true,
        ),
        (
            "h:long-value",
            vec![cmd(&[b"HSET", b"h:long-value", b"f", &[b'v'; 100]])],
            false,
        ),
        (
            "h:many",
            many(b"HSET", b"h:many", 600, &|i| {
                vec![format!("field{i}").into_bytes(), i.to_string().into_bytes()]
            }),
            false,
        ),
        (
            "z:small",
            vec![cmd(&[
                b"ZADD", b"z:small", b"1", b"a", b"2.5", b"b", b"-inf", b"c", b"1e17", b"d",
                b"0.1", b"e",
            ])],
            true,
        ),
        (
            "z:big",
            many(b"ZADD", b"z:big", 300, &|i| {
                vec![
                    format!("{}", i as f64 / 3.0).into_bytes(),
                    format!("m{i}").into_bytes(),
                ]
            }),
            true,
        ),
        (
            "z:long-member",
            vec![cmd(&[b"ZADD", b"z:long-member", b"1", &[b'm'; 100]])],
            true,
        ),
    ]
}

/// Builds `key` with `commands` on both servers, each reply equal.
async fn same_on_both(r: &mut Client, o: &mut Client, key: &str, commands: &[Vec<Vec<u8>>]) {
    for command in commands {
        let args: Vec<&[u8]> = command.iter().map(|a| a.as_slice()).collect();
        let (a, b) = (call(r, &args).await, call(o, &args).await);
        assert_eq!(a, b, "{key}: {:?}", command.first());
    }
}

async fn call(client: &mut Client, args: &[&[u8]]) -> Frame {
    client.call(args).await.expect("a reply")
}

fn bulk(frame: &Frame) -> Vec<u8> {
    match frame {
        Frame::Bulk(b) => b.to_vec(),
        other => panic!("not a bulk string: {other:?}"),
    }
}

/// A payload with `body` (type byte and value) and a valid footer.
fn payload(body: &[u8], version: u16) -> Vec<u8> {
    let mut out = body.to_vec();
    out.extend_from_slice(&version.to_le_bytes());
    let crc = crc::Crc::<u64>::new(&crc::CRC_64_REDIS).checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// A redis-server and our server (DEBUG allowed with `debug`), with a client on each;
/// `None` without redis-server.
async fn both(
    debug: bool,
) -> Option<(
    support::RedisServer,
    respect::server::ServerHandle,
    Client,
    Client,
)> {
    let redis = support::RedisServer::start()?;
    let ours = support::our_server(ServerConfig {
        enable_debug_command: debug,
        ..Default::default()
    })
    .await;
    let r = Client::connect(redis.addr, Dialect::Resp2)
        .await
        .expect("redis");
    let o = Client::connect(ours.addr(), Dialect::Resp2)
        .await
        .expect("ours");
    Some((redis, ours, r, o))
}

#[tokio::test]
async fn payloads_are_redis_payloads_both_ways() {
    let Some((_redis, _ours, mut r, mut o)) = both(true).await else {
        return;
    };
    let mut compared = 0;
    for (key, commands, deterministic) in values() {
        same_on_both(&mut r, &mut o, key, &commands).await;
        let k = key.as_bytes();
        let digest = call(&mut r, &[b"DEBUG", b"DIGEST-VALUE", k]).await;
        assert_eq!(
            digest,
            call(&mut o, &[b"DEBUG", b"DIGEST-VALUE", k]).await,
            "{key}"
        );
        let encoding = call(&mut r, &[b"OBJECT", b"ENCODING", k]).await;
        assert_eq!(
            encoding,
            call(&mut o, &[b"OBJECT", b"ENCODING", k]).await,
            "{key}"
        );
        let from_redis = bulk(&call(&mut r, &[b"DUMP", k]).await);
        let from_ours = bulk(&call(&mut o, &[b"DUMP", k]).await);
        if deterministic {
            assert_eq!(
                escape_bytes(&from_ours),
                escape_bytes(&from_redis),
                "{key}: DUMP differs"
            );
            compared += 1;
        }
        // Each payload into the other server, under a new name.
        let copy = format!("{key}:copy");
        let copy = copy.as_bytes();
        for (client, payload) in [(&mut o, &from_redis), (&mut r, &from_ours)] {
            let reply = call(client, &[b"RESTORE", copy, b"0", payload]).await;
            assert_eq!(reply, Frame::Simple("OK".into()), "{key}");
            let got = call(client, &[b"DEBUG", b"DIGEST-VALUE", copy]).await;
            assert_eq!(got, digest, "{key}: restored contents differ");
            let got = call(client, &[b"OBJECT", b"ENCODING", copy]).await;
            assert_eq!(got, encoding, "{key}: restored encoding differs");
        }
    }
    assert!(compared >= 15, "{compared}");
}

#[tokio::test]
async fn restore_refuses_what_redis_refuses_with_its_words() {
    let Some((_redis, _ours, mut r, mut o)) = both(false).await else {
        return;
    };
    let good = payload(b"\x00\x05hello", 10);
    let mut bad_crc = good.clone();
    if let Some(last) = bad_crc.last_mut() {
        *last ^= 1;
    }
    let lp_hash = b"\x10\x12\x12\x00\x00\x00\x04\x00\x81f\x02\x81v\x02\x81n\x02\x0c\x01\xff";
    let mut broken_lp = lp_hash.to_vec();
    broken_lp[8] = 0x85; // a 5-byte string where 1 byte is
    let c = |parts: &[&[u8]]| parts.iter().map(|p| p.to_vec()).collect::<Vec<_>>();
    let cases: Vec<Vec<Vec<u8>>> = vec![
        c(&[b"SET", b"busy", b"x"]),
        c(&[b"RESTORE", b"busy", b"0", &good]),
        c(&[b"RESTORE", b"busy", b"0", &good, b"REPLACE"]),
        c(&[b"GET", b"busy"]),
        c(&[b"RESTORE", b"k", b"-1", &good]),
        c(&[b"RESTORE", b"k", b"x", &good]),
        c(&[b"RESTORE", b"k", b"0", &good, b"BOGUS"]),
        c(&[b"RESTORE", b"k", b"0", &good, b"IDLETIME", b"-1"]),
        c(&[b"RESTORE", b"k", b"0", &good, b"IDLETIME", b"x"]),
        c(&[b"RESTORE", b"k", b"0", &good, b"FREQ", b"256"]),
        c(&[
            b"RESTORE",
            b"k",
            b"0",
            &good,
            b"FREQ",
            b"1",
            b"IDLETIME",
            b"1",
        ]),
        c(&[b"RESTORE", b"k", b"0", &good, b"IDLETIME"]),
        c(&[b"RESTORE", b"k", b"0", &bad_crc]),
        c(&[b"RESTORE", b"k", b"0", b"short"]),
        c(&[b"RESTORE", b"k", b"0", b""]),
        c(&[b"RESTORE", b"k", b"0", &payload(b"\x00\x05hello", 11)]),
        c(&[b"RESTORE", b"k", b"0", &payload(b"\x63\x05hello", 10)]),
        c(&[b"RESTORE", b"k", b"0", &payload(b"\x00\x09hello", 10)]),
        c(&[b"RESTORE", b"k", b"0", &payload(b"\x02\x00", 10)]),
        c(&[b"RESTORE", b"k", b"0", &payload(b"\x02\x02\x01a\x01a", 10)]),
        c(&[b"RESTORE", b"k", b"0", &payload(b"\x04\x01\x01f\x01v", 10)]),
        c(&[b"RESTORE", b"k", b"0", &payload(&broken_lp, 10)]),
        c(&[b"RESTORE", b"k", b"0", &payload(lp_hash, 10)]),
        c(&[b"HGETALL", b"k"]),
        c(&[b"RESTORE", b"k", b"1", &good, b"ABSTTL", b"REPLACE"]),
        c(&[b"EXISTS", b"k"]),
        c(&[b"RESTORE", b"k", b"4102444800000", &good, b"ABSTTL"]),
        c(&[b"PEXPIRETIME", b"k"]),
        c(&[b"RESTORE", b"k2", b"100000", &good, b"FREQ", b"5"]),
        c(&[b"TYPE", b"k2"]),
        c(&[b"DUMP", b"missing"]),
        c(&[b"DUMP"]),
    ];
    for case in &cases {
        let case: Vec<&[u8]> = case.iter().map(|a| a.as_slice()).collect();
        let (a, b) = (call(&mut r, &case).await, call(&mut o, &case).await);
        assert_eq!(
            a,
            b,
            "{:?}",
            case.iter().map(|a| escape_bytes(a)).collect::<Vec<_>>()
        );
    }
}

#[tokio::test]
async fn idle_time_and_frequency_are_kept_as_redis_keeps_them() {
    let Some(redis) = support::RedisServer::start() else {
        return;
    };
    let ours = support::our_server(ServerConfig::default()).await;
    let hello = payload(b"\x00\x05hello", 10);
    for addr in [redis.addr, ours.addr()] {
        let mut c = Client::connect(addr, Dialect::Resp2)
            .await
            .expect("connect");
        let ok = Frame::Simple("OK".into());
        assert_eq!(
            call(
                &mut c,
                &[b"RESTORE", b"old", b"0", &hello, b"IDLETIME", b"1000"]
            )
            .await,
            ok
        );
        let idle = call(&mut c, &[b"OBJECT", b"IDLETIME", b"old"]).await;
        assert!(
            matches!(idle, Frame::Integer(1000 | 1001)),
            "{addr}: {idle:?}"
        );
        // EXISTS, TYPE and TTL look without touching; TOUCH and GET stamp the key as used.
        for look in [&b"EXISTS"[..], b"TYPE", b"TTL"] {
            call(&mut c, &[look, b"old"]).await;
        }
        let idle = call(&mut c, &[b"OBJECT", b"IDLETIME", b"old"]).await;
        assert!(
            matches!(idle, Frame::Integer(1000 | 1001)),
            "{addr}: {idle:?}"
        );
        assert_eq!(
            call(&mut c, &[b"TOUCH", b"old", b"none"]).await,
            Frame::Integer(1)
        );
        assert_eq!(
            call(&mut c, &[b"OBJECT", b"IDLETIME", b"old"]).await,
            Frame::Integer(0)
        );
        // Under an LFU policy: FREQ is kept, IDLETIME refused.
        let lfu: &[&[u8]] = &[b"CONFIG", b"SET", b"maxmemory-policy", b"allkeys-lfu"];
        assert_eq!(call(&mut c, lfu).await, ok);
        assert_eq!(
            call(&mut c, &[b"RESTORE", b"hot", b"0", &hello, b"FREQ", b"100"]).await,
            ok
        );
        assert_eq!(
            call(&mut c, &[b"OBJECT", b"FREQ", b"hot"]).await,
            Frame::Integer(100)
        );
        // Without FREQ, a restored key starts at a new key's counter: RESTORE is no access.
        let plain: &[&[u8]] = &[b"RESTORE", b"plain", b"0", &hello];
        assert_eq!(call(&mut c, plain).await, ok);
        let freq: &[&[u8]] = &[b"OBJECT", b"FREQ", b"plain"];
        assert_eq!(call(&mut c, freq).await, Frame::Integer(5), "{addr}");
        assert_eq!(call(&mut c, &[b"SET", b"new", b"v"]).await, ok);
        assert_eq!(
            call(&mut c, &[b"OBJECT", b"FREQ", b"new"]).await,
            Frame::Integer(5)
        );
        let refused = call(&mut c, &[b"OBJECT", b"IDLETIME", b"hot"]).await;
        assert!(
            matches!(&refused, Frame::Error(e) if e.starts_with(b"ERR An LFU maxmemory policy is selected")),
            "{refused:?}"
        );
        let back: &[&[u8]] = &[b"CONFIG", b"SET", b"maxmemory-policy", b"noeviction"];
        assert_eq!(call(&mut c, back).await, ok);
    }
}

/// Streams built by the same commands on both servers: (key, commands, whether Redis's
/// payload is ours byte for byte).
fn streams() -> Vec<(&'static str, Vec<Command>, bool)> {
    let cmd = |parts: &[&str]| {
        parts
            .iter()
            .map(|p| p.as_bytes().to_vec())
            .collect::<Command>()
    };
    let adds = |key: &str, n: u64| -> Vec<Command> {
        (1..=n)
            .map(|i| {
                cmd(&[
                    "XADD",
                    key,
                    &format!("{i}-1"),
                    "a",
                    &i.to_string(),
                    "b",
                    &format!("x{i}"),
                ])
            })
            .collect()
    };
    let mut big = adds("x:big", 250);
    big.push(cmd(&["XADD", "x:big", "251-0", "other", "1"]));
    big.push(cmd(&[
        "XADD",
        "x:big",
        "1700000000000-5",
        "a",
        "-70000",
        "b",
        &"long".repeat(40),
    ]));
    let mut deleted = adds("x:deleted", 250);
    deleted.push(cmd(&["XDEL", "x:deleted", "1-1", "150-1", "250-1"]));
    deleted.push(cmd(&["XTRIM", "x:deleted", "MINID", "20-1"]));
    let mut groups = adds("x:groups", 30);
    groups.extend([
        cmd(&["XGROUP", "CREATE", "x:groups", "g", "0"]),
        cmd(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "3",
            "STREAMS",
            "x:groups",
            ">",
        ]),
        cmd(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "bob",
            "COUNT",
            "2",
            "STREAMS",
            "x:groups",
            ">",
        ]),
        cmd(&["XACK", "x:groups", "g", "2-1"]),
        cmd(&["XGROUP", "CREATE", "x:groups", "g2", "$"]),
        cmd(&["XGROUP", "CREATECONSUMER", "x:groups", "g2", "carol"]),
        cmd(&["XDEL", "x:groups", "10-1"]),
        cmd(&[
            "XGROUP",
            "CREATE",
            "x:groups",
            "g3",
            "12-1",
            "ENTRIESREAD",
            "5",
        ]),
    ]);
    vec![
        ("x:big", big, true),
        ("x:deleted", deleted, true),
        ("x:groups", groups, false),
        (
            "x:empty",
            vec![
                cmd(&["XADD", "x:empty", "1-1", "f", "v"]),
                cmd(&["XDEL", "x:empty", "1-1"]),
            ],
            true,
        ),
        (
            "x:trimmed",
            vec![
                cmd(&["XADD", "x:trimmed", "5-5", "f", "v"]),
                cmd(&["XTRIM", "x:trimmed", "MAXLEN", "0"]),
                cmd(&[
                    "XSETID",
                    "x:trimmed",
                    "10-0",
                    "ENTRIESADDED",
                    "7",
                    "MAXDELETEDID",
                    "9-0",
                ]),
            ],
            true,
        ),
    ]
}

/// What a stream shows: XINFO STREAM FULL, XRANGE, DEBUG DIGEST-VALUE.
async fn stream_view(client: &mut Client, key: &[u8]) -> Vec<Frame> {
    vec![
        call(client, &[b"XINFO", b"STREAM", key, b"FULL"]).await,
        call(client, &[b"XRANGE", key, b"-", b"+"]).await,
        call(client, &[b"DEBUG", b"DIGEST-VALUE", key]).await,
    ]
}

#[tokio::test]
async fn stream_payloads_are_redis_payloads_both_ways() {
    let Some((_redis, _ours, mut r, mut o)) = both(true).await else {
        return;
    };
    for (key, commands, deterministic) in streams() {
        same_on_both(&mut r, &mut o, key, &commands).await;
        let k = key.as_bytes();
        let from_redis = bulk(&call(&mut r, &[b"DUMP", k]).await);
        let from_ours = bulk(&call(&mut o, &[b"DUMP", k]).await);
        if deterministic {
            assert_eq!(
                escape_bytes(&from_ours),
                escape_bytes(&from_redis),
                "{key}: DUMP differs"
            );
        }
        let serialized = |f: Frame| match f {
            Frame::Simple(s) => String::from_utf8_lossy(&s)
                .split(' ')
                .find(|w| w.starts_with("serializedlength:"))
                .map(str::to_string),
            _ => None,
        };
        let a = serialized(call(&mut o, &[b"DEBUG", b"OBJECT", k]).await);
        assert_eq!(
            a,
            Some(format!("serializedlength:{}", from_ours.len() - 11))
        );
        if deterministic {
            let b = serialized(call(&mut r, &[b"DEBUG", b"OBJECT", k]).await);
            assert_eq!(a, b, "{key}: serializedlength");
        }
        // Each payload into the other server: the copy shows what the original shows
        // (times included, as they travel in the payload).
        let copy = format!("{key}:copy");
        let copy = copy.as_bytes();
        for (redis_to_ours, payload) in [(true, &from_redis), (false, &from_ours)] {
            let (from, to) = if redis_to_ours {
                (&mut r, &mut o)
            } else {
                (&mut o, &mut r)
            };
            let reply = call(to, &[b"RESTORE", copy, b"0", payload]).await;
            assert_eq!(reply, Frame::Simple("OK".into()), "{key}");
            assert_eq!(
                stream_view(to, copy).await,
                stream_view(from, k).await,
                "{key}: redis into ours {redis_to_ours}"
            );
        }
    }
}

#[tokio::test]
async fn a_stream_restored_with_extreme_times_and_counts_serves_without_a_panic() {
    let ours = support::our_server(ServerConfig {
        enable_debug_command: true,
        ..Default::default()
    })
    .await;
    let mut o = Client::connect(ours.addr(), Dialect::Resp2)
        .await
        .expect("ours");
    for args in [
        &[&b"XADD"[..], b"s", b"1-1", b"f", b"v"][..],
        &[b"XADD", b"s", b"2-1", b"f", b"v"],
        &[b"XGROUP", b"CREATE", b"s", b"g", b"0"],
        &[
            b"XREADGROUP",
            b"GROUP",
            b"g",
            b"c",
            b"COUNT",
            b"1",
            b"STREAMS",
            b"s",
            b">",
        ],
    ] {
        call(&mut o, args).await;
    }
    let dumped = bulk(&call(&mut o, &[b"DUMP", b"s"]).await);
    let mut body = dumped[..dumped.len() - 10].to_vec();
    // The group PEL's entry 1-1 (after the group name): delivery time i64::MIN, delivery
    // count u64::MAX; the consumer's seen time i64::MIN. Redis stores such values as they come.
    let group = body.windows(2).position(|w| w == b"\x01g").expect("group");
    let mut id = [0u8; 16];
    id[7] = 1;
    id[15] = 1;
    let at = group
        + body[group..]
            .windows(16)
            .position(|w| w == id)
            .expect("PEL");
    body[at + 16..at + 24].copy_from_slice(&i64::MIN.to_le_bytes());
    assert_eq!(body[at + 24], 1);
    body.splice(
        at + 24..at + 25,
        [0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    );
    let consumer = at
        + body[at..]
            .windows(2)
            .position(|w| w == b"\x01c")
            .expect("consumer");
    body[consumer + 2..consumer + 10].copy_from_slice(&i64::MIN.to_le_bytes());
    let reply = call(&mut o, &[b"RESTORE", b"h", b"0", &payload(&body, 10)]).await;
    assert_eq!(reply, Frame::Simple("OK".into()));
    for args in [
        &[&b"XINFO"[..], b"STREAM", b"h", b"FULL"][..],
        &[b"XINFO", b"CONSUMERS", b"h", b"g"],
        &[b"XPENDING", b"h", b"g", b"-", b"+", b"10"],
        &[b"XPENDING", b"h", b"g", b"IDLE", b"5", b"-", b"+", b"10"],
        &[b"XCLAIM", b"h", b"g", b"d", b"0", b"1-1"],
        &[b"XAUTOCLAIM", b"h", b"g", b"e", b"0", b"0"],
        &[b"XADD", b"h", b"*", b"a", b"b"],
        &[b"MEMORY", b"USAGE", b"h"],
        &[b"DEBUG", b"OBJECT", b"h"],
    ] {
        let reply = call(&mut o, args).await;
        assert!(!matches!(reply, Frame::Error(_)), "{reply:?}");
    }
    assert_eq!(call(&mut o, &[b"PING"]).await, Frame::Simple("PONG".into()));
}
