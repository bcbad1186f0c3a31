//! Authentication with a password set, in both flavors, over real sockets.
//!
//! Redis flavor: the order of checks is redis-server 7.0.15's (unknown command and arity
//! before authentication; AUTH, HELLO, QUIT and RESET, the `no_auth` commands, run before
//! it), compared byte for byte with a real redis-server started with `--requirepass`.
//! Seed flavor: simpledb has no AUTH; ours refuses everything but AUTH and QUIT until the
//! password is given, in simpledb's error style.

mod support;

use std::time::Duration;

use respect::client::Client;
use respect::resp::{escape_bytes, Dialect, Frame};
use respect::server::{Flavor, ServerConfig};

const PASSWORD: &str = "secret";

/// Each case is the commands sent on one fresh connection; the replies are compared whole.
const CASES: &[&[&[&str]]] = &[
    &[&["GET"]],
    &[&["GET", "k"]],
    &[&["SET", "k"]],
    &[&["NOSUCH", "a", "b"]],
    &[&["PING"]],
    &[&["COMMAND"]],
    &[&["RESET"], &["GET", "k"]],
    &[&["HELLO"]],
    &[&["HELLO", "3"]],
    &[&["HELLO", "4"]],
    &[&["HELLO", "x"]],
    &[&["HELLO", "3", "SETNAME", "x"]],
    &[&["HELLO", "3", "AUTH", "default", "wrong"]],
    &[&["HELLO", "3", "BOGUS"]],
    &[&["HELLO", "3", "AUTH", "default", "wrong", "BOGUS"]],
    &[&[
        "HELLO", "3", "AUTH", "default", "wrong", "SETNAME", "bad name",
    ]],
    &[&[
        "HELLO", "2", "AUTH", "default", "secret", "AUTH", "default", "wrong",
    ]],
    &[&[
        "HELLO", "2", "SETNAME", "bad name", "AUTH", "default", "wrong",
    ]],
    &[&["CLIENT"]],
    &[&["CLIENT", "ID"]],
    &[&["CLIENT", "ID", "x"]],
    &[&["CLIENT", "LIST"]],
    &[&["CONFIG", "GET"]],
    &[&["AUTH"]],
    &[&["AUTH", "a", "b", "c"]],
    &[&["AUTH", "wrong"]],
    &[&["AUTH", "default", "wrong"]],
    &[&["AUTH", "nobody", "secret"]],
    &[&["QUIT"]],
    &[
        &["AUTH", "secret"],
        &["GET", "k"],
        &["RESET"],
        &["GET", "k"],
    ],
    &[
        &["AUTH", "default", "secret"],
        &["PING"],
        &["CLIENT", "GETNAME"],
    ],
];

fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
    }
    out
}

/// The raw replies to `commands` sent one at a time on a fresh connection to `addr`.
async fn exchange(addr: std::net::SocketAddr, commands: &[&[&str]]) -> Vec<u8> {
    let mut client = Client::connect(addr, Dialect::Resp2)
        .await
        .expect("connect");
    let mut got = Vec::new();
    for command in commands {
        client.send_raw(&encode(command)).await.expect("send");
        let reply = client
            .read_reply_timeout(Duration::from_secs(5))
            .await
            .unwrap_or_else(|e| panic!("{command:?}: {e}"));
        got.extend_from_slice(&reply.raw);
    }
    got
}

#[tokio::test]
async fn redis_flavor_checks_in_redis_order() {
    let ours = support::our_server(ServerConfig {
        requirepass: Some(PASSWORD.into()),
        ..Default::default()
    })
    .await;
    // These hold without a redis-server to compare with.
    let pinned: &[(&[&[&str]], &[u8])] = &[
        (&[&["GET"]], b"-ERR wrong number of arguments for 'get' command\r\n"),
        (&[&["GET", "k"]], b"-NOAUTH Authentication required.\r\n"),
        (&[&["RESET"], &["GET", "k"]], b"+RESET\r\n-NOAUTH Authentication required.\r\n"),
        (
            &[&["HELLO", "3"]],
            b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n",
        ),
    ];
    for (commands, expected) in pinned {
        assert_eq!(
            escape_bytes(&exchange(ours.addr(), commands).await),
            escape_bytes(expected),
            "{commands:?}"
        );
    }
    let Some(redis) = support::RedisServer::start_with(&["--requirepass", PASSWORD]) else {
        ours.shutdown().await;
        return;
    };
    for commands in CASES {
        let theirs = exchange(redis.addr, commands).await;
        let got = exchange(ours.addr(), commands).await;
        assert_eq!(escape_bytes(&got), escape_bytes(&theirs), "{commands:?}");
    }
    ours.shutdown().await;
}

async fn seed_call(client: &mut Client, request: &[u8]) -> Vec<u8> {
    client.send_raw(request).await.expect("send");
    client
        .read_reply_timeout(Duration::from_secs(5))
        .await
        .expect("reply")
        .raw
        .to_vec()
}

#[tokio::test]
async fn seed_flavor_refuses_everything_but_auth_and_quit_before_auth() {
    let server = support::our_server(ServerConfig {
        flavor: Flavor::Seed,
        requirepass: Some(PASSWORD.into()),
        ..Default::default()
    })
    .await;
    let mut client = Client::connect(server.addr(), Dialect::Seed)
        .await
        .expect("connect");
    let refused = b"-Authentication required.\r\n";
    for request in [
        &b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"[..],
        b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
        b"*1\r\n$5\r\nFLUSH\r\n",
        b"*1\r\n$4\r\nINFO\r\n",
        b"SET k v\r\n",
    ] {
        assert_eq!(
            escape_bytes(&seed_call(&mut client, request).await),
            escape_bytes(refused),
            "{}",
            escape_bytes(request)
        );
    }
    assert_eq!(
        seed_call(&mut client, b"*2\r\n$4\r\nAUTH\r\n$5\r\nwrong\r\n").await,
        b"-Invalid password.\r\n"
    );
    assert_eq!(
        seed_call(&mut client, b"*1\r\n$4\r\nAUTH\r\n").await,
        b"-Unhandled server error\r\n"
    );
    assert_eq!(
        seed_call(&mut client, b"*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\n").await,
        b":1\r\n"
    );
    assert_eq!(
        seed_call(&mut client, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n").await,
        b":1\r\n"
    );
    assert_eq!(
        seed_call(&mut client, b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n").await,
        b"$1\r\nv\r\n"
    );
    // Nothing was written before AUTH.
    assert_eq!(server.key_count(), 1);

    // QUIT needs no password.
    let mut other = Client::connect(server.addr(), Dialect::Seed)
        .await
        .expect("connect");
    assert_eq!(
        seed_call(&mut other, b"*1\r\n$4\r\nQUIT\r\n").await,
        b":1\r\n"
    );
    assert!(other.expect_close(Duration::from_secs(5)).await.is_ok());
    server.shutdown().await;
}

#[tokio::test]
async fn seed_flavor_without_a_password_answers_auth_with_an_error() {
    let server = support::our_server(ServerConfig {
        flavor: Flavor::Seed,
        ..Default::default()
    })
    .await;
    let mut client = Client::connect(server.addr(), Dialect::Seed)
        .await
        .expect("connect");
    assert_eq!(
        seed_call(&mut client, b"*2\r\n$4\r\nAUTH\r\n$1\r\nx\r\n").await,
        b"-AUTH called without any password configured.\r\n"
    );
    assert_eq!(
        client.call(&["GET", "k"]).await.expect("GET"),
        Frame::NullBulk
    );
    server.shutdown().await;
}
