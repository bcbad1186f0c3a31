//! Strings that a small request asks to grow (SETRANGE, SETBIT, BITFIELD at a huge offset):
//! the growth is refused before a byte is allocated when `maxmemory` is set and the growth
//! alone is larger than it, or when `proto-max-bulk-len` would be passed; and WATCH sees the bit and range commands
//! modify a key exactly when Redis's `signalModifiedKey` would.

mod support;

use respect::client::Client;
use respect::resp::{Dialect, Frame};
use respect::server::ServerConfig;

async fn call(client: &mut Client, args: &[&str]) -> Frame {
    client.call(args).await.expect("a reply")
}

fn is_oom(frame: &Frame) -> bool {
    matches!(frame, Frame::Error(text) if text.starts_with(b"OOM "))
}

#[tokio::test]
async fn growth_past_maxmemory_is_refused_before_allocating() {
    let server = support::our_server(ServerConfig::default()).await;
    let mut client = Client::connect(server.addr(), Dialect::Resp2)
        .await
        .expect("connect");
    assert_eq!(
        call(&mut client, &["CONFIG", "SET", "maxmemory", "64mb"]).await,
        Frame::Simple("OK".into())
    );
    // Each of these would make a string of about 512 MB from a few bytes of request.
    for command in [
        &["SETRANGE", "grow", "536870000", "x"][..],
        &["SETBIT", "grow", "4294967000", "1"],
        &["BITFIELD", "grow", "SET", "u8", "4294967000", "1"],
    ] {
        let reply = call(&mut client, command).await;
        assert!(is_oom(&reply), "{command:?}: {reply:?}");
    }
    assert_eq!(
        call(&mut client, &["EXISTS", "grow"]).await,
        Frame::Integer(0)
    );
    // Growth within the limit is fine.
    assert_eq!(
        call(&mut client, &["SETRANGE", "grow", "1048575", "x"]).await,
        Frame::Integer(1_048_576)
    );
    // As in Redis, a command under the limit may take the server past it (the next one
    // evicts or is refused): 63 MiB more on a 64 MiB limit with 1 MiB already used.
    assert_eq!(
        call(&mut client, &["SETRANGE", "grow2", "66060287", "x"]).await,
        Frame::Integer(66_060_288)
    );
    // And past proto-max-bulk-len it is Redis's error, whatever maxmemory says.
    call(&mut client, &["CONFIG", "SET", "maxmemory", "0"]).await;
    assert_eq!(
        call(&mut client, &["SETRANGE", "grow", "536870912", "x"]).await,
        Frame::error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    );
    server.shutdown().await;
}

/// Whether a transaction WATCHing `key` still runs after `other` ran `command`.
async fn exec_survives(command: &[&str], setup: &[&[&str]]) -> bool {
    let server = support::our_server(ServerConfig::default()).await;
    let mut watcher = Client::connect(server.addr(), Dialect::Resp2)
        .await
        .expect("connect");
    let mut other = Client::connect(server.addr(), Dialect::Resp2)
        .await
        .expect("connect");
    for step in setup {
        call(&mut other, step).await;
    }
    call(&mut watcher, &["WATCH", "k"]).await;
    call(&mut other, command).await;
    call(&mut watcher, &["MULTI"]).await;
    call(&mut watcher, &["PING"]).await;
    let reply = call(&mut watcher, &["EXEC"]).await;
    server.shutdown().await;
    matches!(reply, Frame::Array(_))
}

#[tokio::test]
async fn watch_sees_bit_and_range_changes_as_redis_signals_them() {
    let set_k: &[&[&str]] = &[&["SET", "k", "\u{1}"]];
    // Changes.
    assert!(!exec_survives(&["SETBIT", "k", "0", "1"], set_k).await);
    assert!(!exec_survives(&["SETRANGE", "k", "0", "x"], set_k).await);
    assert!(!exec_survives(&["BITFIELD", "k", "SET", "u8", "0", "9"], set_k).await);
    assert!(!exec_survives(&["BITOP", "NOT", "k", "k"], set_k).await);
    assert!(!exec_survives(&["GETEX", "k", "EX", "100"], set_k).await);
    assert!(!exec_survives(&["HINCRBYFLOAT", "k", "f", "1"], &[]).await);
    // No change: the same bit, an empty range, a read, GETEX without options.
    assert!(exec_survives(&["SETBIT", "k", "7", "1"], set_k).await);
    assert!(exec_survives(&["SETRANGE", "k", "0", ""], set_k).await);
    assert!(exec_survives(&["BITFIELD", "k", "GET", "u8", "0"], set_k).await);
    assert!(exec_survives(&["BITFIELD", "k", "SET", "u8", "0", "1"], set_k).await);
    assert!(exec_survives(&["GETEX", "k"], set_k).await);
    assert!(exec_survives(&["GETEX", "k", "PERSIST"], set_k).await);
    assert!(exec_survives(&["BITOP", "AND", "k", "none"], &[]).await);
}

/// A growth checked against `maxmemory` when the memory estimate is stale (here, queued after
/// a slow command in a transaction) refreshes the estimate while the string's shard is held:
/// the refresh must not wait on that same shard.
#[tokio::test]
async fn growth_check_with_a_stale_memory_estimate_does_not_hang() {
    let server = support::our_server(ServerConfig {
        enable_debug_command: true,
        ..ServerConfig::default()
    })
    .await;
    let mut client = Client::connect(server.addr(), Dialect::Resp2)
        .await
        .expect("connect");
    call(&mut client, &["CONFIG", "SET", "maxmemory", "1gb"]).await;
    for command in [
        &["SETRANGE", "k", "10", "x"][..],
        &["SETBIT", "k", "200", "1"],
        &["BITFIELD", "k", "SET", "u8", "400", "1"],
    ] {
        call(&mut client, &["MULTI"]).await;
        call(&mut client, &["DEBUG", "SLEEP", "0.2"]).await;
        call(&mut client, command).await;
        let reply =
            tokio::time::timeout(std::time::Duration::from_secs(10), client.call(&["EXEC"]))
                .await
                .expect("EXEC answers")
                .expect("a reply");
        assert!(
            matches!(reply, Frame::Array(ref r) if r.len() == 2),
            "{command:?}: {reply:?}"
        );
    }
    server.shutdown().await;
}
