//! Scripts that Redis can stop, ours stops too, with Redis's replies: a loop inside a
//! coroutine and a loop that catches the kill error with pcall end at SCRIPT KILL (the caller
//! gets the kill error), a library whose code loops is stopped by FUNCTION LOAD's timeout,
//! and the server answers PING afterwards. Checked on redis-server 7.0.15 and on ours.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use respect::client::Client;
use respect::resp::{Dialect, Frame};
use respect::server::ServerConfig;

fn command(words: &[&str]) -> Frame {
    Frame::Array(
        words
            .iter()
            .map(|w| Frame::Bulk(bytes::Bytes::copy_from_slice(w.as_bytes())))
            .collect(),
    )
}

/// Runs each case on `addr` and returns the replies (the kill error texts and PINGs).
async fn replies(addr: SocketAddr) -> Vec<Frame> {
    let mut admin = Client::connect(addr, Dialect::Resp2)
        .await
        .expect("connect");
    admin
        .call(&["CONFIG", "SET", "busy-reply-threshold", "100"])
        .await
        .expect("config");
    let mut seen = Vec::new();
    for script in [
        "coroutine.wrap(function() while true do end end)()",
        "while true do pcall(function() while true do end end) end",
    ] {
        let mut runner = Client::connect(addr, Dialect::Resp2)
            .await
            .expect("connect");
        runner
            .send(&command(&["EVAL", script, "0"]))
            .await
            .expect("send");
        // SCRIPT KILL answers NOTBUSY until the script is past the threshold: try again.
        let mut killed = false;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let reply = admin.call(&["SCRIPT", "KILL"]).await.expect("kill");
            if reply == Frame::Simple("OK".into()) {
                killed = true;
                break;
            }
        }
        assert!(killed, "{script}: SCRIPT KILL never answered OK");
        let reply = runner
            .read_reply_timeout(Duration::from_secs(10))
            .await
            .unwrap_or_else(|e| panic!("{script}: the script did not end: {e}"));
        seen.push(reply.frame);
        seen.push(admin.call(&["PING"]).await.expect("ping"));
    }
    let load = admin
        .call(&["FUNCTION", "LOAD", "#!lua name=loops\nwhile true do end"])
        .await
        .expect("load");
    seen.push(load);
    seen.push(admin.call(&["PING"]).await.expect("ping"));
    admin
        .call(&["CONFIG", "SET", "busy-reply-threshold", "5000"])
        .await
        .expect("config");
    seen
}

// A looping script holds the worker that runs it, as it holds redis-server's one thread: the
// clients that kill it need another worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_that_redis_stops_are_stopped() {
    let ours = support::our_server(ServerConfig::default()).await;
    let mine = replies(ours.addr()).await;
    assert!(
        matches!(&mine[0], Frame::Error(e) if e.starts_with(b"ERR Script killed by user")),
        "{mine:?}"
    );
    let Some(redis) = support::RedisServer::start() else {
        return;
    };
    assert_eq!(mine, replies(redis.addr).await);
}
