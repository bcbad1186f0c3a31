//! CLIENT PAUSE holds commands, not refuses them: under WRITE a write waits while reads go
//! on, under ALL everything waits, and CLIENT UNPAUSE (or the end of the timeout) lets the
//! held commands run in order; the same behaviour on redis-server 7.0.15 and on ours.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use respect::client::{Client, ClientError};
use respect::resp::{Dialect, Frame};
use respect::server::ServerConfig;

async fn connect(addr: SocketAddr) -> Client {
    Client::connect(addr, Dialect::Resp2)
        .await
        .expect("connect")
}

fn command(words: &[&str]) -> Frame {
    Frame::Array(
        words
            .iter()
            .map(|w| Frame::Bulk(bytes::Bytes::copy_from_slice(w.as_bytes())))
            .collect(),
    )
}

/// Whether a reply arrives within `limit` (a held command's does not).
async fn answers_within(client: &mut Client, limit: Duration) -> Option<Frame> {
    match client.read_reply_timeout(limit).await {
        Ok(reply) => Some(reply.frame),
        Err(ClientError::Timeout(_)) => None,
        Err(e) => panic!("{e}"),
    }
}

async fn check(addr: SocketAddr) {
    let mut admin = connect(addr).await;
    let mut writer = connect(addr).await;
    admin.call(&["SET", "pause-key", "0"]).await.expect("set");
    assert_eq!(
        admin
            .call(&["CLIENT", "PAUSE", "60000", "WRITE"])
            .await
            .expect("pause"),
        Frame::Simple("OK".into())
    );
    writer
        .send(&command(&["SET", "pause-key", "1"]))
        .await
        .expect("send");
    assert_eq!(
        answers_within(&mut writer, Duration::from_millis(300)).await,
        None
    );
    // Reads go on meanwhile, and see the value from before the held write.
    assert_eq!(
        admin.call(&["GET", "pause-key"]).await.expect("get"),
        Frame::Bulk("0".into())
    );
    admin.call(&["CLIENT", "UNPAUSE"]).await.expect("unpause");
    assert_eq!(
        answers_within(&mut writer, Duration::from_secs(10)).await,
        Some(Frame::Simple("OK".into()))
    );
    // ALL holds reads too; a pause that runs out lets them go by itself.
    admin
        .call(&["CLIENT", "PAUSE", "400", "ALL"])
        .await
        .expect("pause");
    writer
        .send(&command(&["GET", "pause-key"]))
        .await
        .expect("send");
    assert_eq!(
        answers_within(&mut writer, Duration::from_millis(100)).await,
        None
    );
    assert_eq!(
        answers_within(&mut writer, Duration::from_secs(10)).await,
        Some(Frame::Bulk("1".into()))
    );
    admin.call(&["DEL", "pause-key"]).await.expect("del");
}

#[tokio::test]
async fn pause_holds_commands_until_unpause_on_both_servers() {
    let ours = support::our_server(ServerConfig::default()).await;
    check(ours.addr()).await;
    if let Some(redis) = support::RedisServer::start() {
        check(redis.addr).await;
    }
}
