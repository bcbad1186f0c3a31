//! The seed flavor against the byte traces of simpledb 0.4.3 (../shared/seed/simpledb-dialect.md).
//! Where respect departs from simpledb on purpose the case says so: a float stays a float
//! (simpledb truncates `:1.5` to `:1`), malformed input gets an error reply and a close
//! (simpledb goes silent), and a set keeps insertion order (simpledb's has none).

mod support;

use std::time::Duration;

use respect::client::{Client, ClientError};
use respect::resp::{escape_bytes, Dialect};
use respect::server::{Flavor, ServerConfig};

/// (what it pins, request bytes, number of replies, expected reply bytes)
const TRACES: &[(&str, &[u8], usize, &[u8])] = &[
    ("pipelined SET then GET", b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", 2, b":1\r\n$5\r\nhello\r\n"),
    ("GET of a missing key is $-1", b"*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n", 1, b"$-1\r\n"),
    ("DELETE twice", b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$6\r\nDELETE\r\n$1\r\nk\r\n*2\r\n$6\r\nDELETE\r\n$1\r\nk\r\n", 3, b":1\r\n:1\r\n:0\r\n"),
    ("MSET takes one dict, MGET has nulls", b"*2\r\n$4\r\nMSET\r\n%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n*4\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\nz\r\n$1\r\nb\r\n", 2, b":2\r\n*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n"),
    ("flat MSET is an unhandled error", b"*5\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n", 1, b"-Unhandled server error\r\n"),
    ("FLUSH replies the count dropped", b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\n1\r\n*3\r\n$3\r\nSET\r\n$1\r\ny\r\n$1\r\n2\r\n*1\r\n$5\r\nFLUSH\r\n", 3, b":1\r\n:1\r\n:2\r\n"),
    ("UTF-8 text comes back as ^", b"*3\r\n$3\r\nSET\r\n$1\r\nu\r\n^6\r\nh\xc3\xa9llo\r\n*2\r\n$3\r\nGET\r\n$1\r\nu\r\n", 2, b":1\r\n^6\r\nh\xc3\xa9llo\r\n"),
    ("binary bytes come back as $", b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$3\r\n\xff\x00\xfe\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n", 2, b":1\r\n$3\r\n\xff\x00\xfe\r\n"),
    ("a nested dict is stored and returned nested", b"*3\r\n$3\r\nSET\r\n$1\r\nd\r\n%1\r\n$1\r\nx\r\n%1\r\n$1\r\ny\r\n*1\r\n:1\r\n*2\r\n$3\r\nGET\r\n$1\r\nd\r\n", 2, b":1\r\n%1\r\n$1\r\nx\r\n%1\r\n$1\r\ny\r\n*1\r\n:1\r\n"),
    ("a set comes back as & (in insertion order)", b"*3\r\n$3\r\nSET\r\n$1\r\ns\r\n&2\r\n$1\r\na\r\n$1\r\nb\r\n*2\r\n$3\r\nGET\r\n$1\r\ns\r\n", 2, b":1\r\n&2\r\n$1\r\na\r\n$1\r\nb\r\n"),
    ("JSON is decoded to native values", b"*3\r\n$3\r\nSET\r\n$1\r\nj\r\n@13\r\n{\"a\": [1, 2]}\r\n*2\r\n$3\r\nGET\r\n$1\r\nj\r\n", 2, b":1\r\n%1\r\n^1\r\na\r\n*2\r\n:1\r\n:2\r\n"),
    ("a float stays a float (simpledb truncates it)", b"*3\r\n$3\r\nSET\r\n$1\r\nf\r\n:1.5\r\n*2\r\n$3\r\nGET\r\n$1\r\nf\r\n", 2, b":1\r\n:1.5\r\n"),
    ("a typed list with a null", b"*3\r\n$3\r\nSET\r\n$1\r\nl\r\n*3\r\n$1\r\na\r\n:2\r\n$-1\r\n*2\r\n$3\r\nGET\r\n$1\r\nl\r\n", 2, b":1\r\n*3\r\n$1\r\na\r\n:2\r\n$-1\r\n"),
    ("the empty string", b"*3\r\n$3\r\nSET\r\n$1\r\ne\r\n$0\r\n\r\n*2\r\n$3\r\nGET\r\n$1\r\ne\r\n", 2, b":1\r\n$0\r\n\r\n"),
    ("HGETALL is a dict; INCR on it is the wrong type", b"*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$7\r\nHGETALL\r\n$1\r\nh\r\n*2\r\n$4\r\nINCR\r\n$1\r\nh\r\n", 3, b":1\r\n%1\r\n$1\r\nf\r\n$1\r\nv\r\n-Operation against wrong key type.\r\n"),
    ("PING is unknown, as a multibulk and inline", b"*1\r\n$4\r\nPING\r\nPING\r\n", 2, b"-Unrecognized command: b'PING'\r\n-Unrecognized command: b'PING'\r\n"),
    ("an inline GET", b"get k\r\n", 1, b"$-1\r\n"),
    ("the first element must be a command name", b"*1\r\n:5\r\n", 1, b"-First parameter must be command name.\r\n"),
    ("an empty request is an unhandled error", b"*0\r\n", 1, b"-Unhandled server error\r\n"),
];

async fn seed_server() -> respect::server::ServerHandle {
    support::our_server(ServerConfig {
        flavor: Flavor::Seed,
        ..Default::default()
    })
    .await
}

#[tokio::test]
async fn replies_match_the_simpledb_traces() {
    for (what, request, replies, expected) in TRACES {
        // A fresh server per trace: every trace starts from an empty keyspace.
        let server = seed_server().await;
        let mut client = Client::connect(server.addr(), Dialect::Seed)
            .await
            .expect("connect");
        client.send_raw(request).await.expect("send");
        let mut got = Vec::new();
        for _ in 0..*replies {
            let reply = client
                .read_reply_timeout(Duration::from_secs(5))
                .await
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            got.extend_from_slice(&reply.raw);
        }
        assert_eq!(escape_bytes(&got), escape_bytes(expected), "{what}");
        server.shutdown().await;
    }
}

#[tokio::test]
async fn quit_replies_then_closes() {
    let server = seed_server().await;
    let mut client = Client::connect(server.addr(), Dialect::Seed)
        .await
        .expect("connect");
    client
        .send_raw(b"*1\r\n$4\r\nQUIT\r\n")
        .await
        .expect("send");
    let reply = client
        .read_reply_timeout(Duration::from_secs(5))
        .await
        .expect("reply");
    assert_eq!(&reply.raw[..], b":1\r\n");
    assert!(client.expect_close(Duration::from_secs(5)).await.is_ok());
    server.shutdown().await;
}

/// Where simpledb hangs or dies, respect answers with an error and closes.
#[tokio::test]
async fn malformed_input_gets_an_error_then_a_close() {
    let cases: &[(&[u8], &[u8])] = &[
        (b"$abc\r\n", b"-Protocol error: invalid bulk length\r\n"),
        (
            b"$999999999999\r\n",
            b"-Protocol error: invalid bulk length\r\n",
        ),
        (b"*-5\r\n", b"-Protocol error: invalid multibulk length\r\n"),
        (
            b"^2\r\n\xff\xfe\r\n",
            b"-Protocol error: text is not valid UTF-8\r\n",
        ),
    ];
    let server = seed_server().await;
    for (request, expected) in cases {
        let mut client = Client::connect(server.addr(), Dialect::Seed)
            .await
            .expect("connect");
        client.send_raw(request).await.expect("send");
        match client.expect_close(Duration::from_secs(5)).await {
            Ok(bytes) => assert_eq!(escape_bytes(&bytes), escape_bytes(expected)),
            Err(ClientError::Timeout(_)) => panic!(
                "{}: the server kept the connection open",
                escape_bytes(request)
            ),
            Err(e) => panic!("{e}"),
        }
    }
    // ...and it still serves everyone else.
    let mut client = Client::connect(server.addr(), Dialect::Seed)
        .await
        .expect("connect");
    client
        .send_raw(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
        .await
        .expect("send");
    assert_eq!(
        &client.read_reply().await.expect("reply").raw[..],
        b"$-1\r\n"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn info_is_a_dict_with_text_keys() {
    let server = seed_server().await;
    let mut client = Client::connect(server.addr(), Dialect::Seed)
        .await
        .expect("connect");
    client
        .send_raw(b"*1\r\n$4\r\nINFO\r\n")
        .await
        .expect("send");
    let reply = client.read_reply().await.expect("reply");
    assert!(
        reply
            .raw
            .starts_with(b"%6\r\n^18\r\nactive_connections\r\n:"),
        "{}",
        escape_bytes(&reply.raw)
    );
    server.shutdown().await;
}
