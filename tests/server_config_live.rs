//! CONFIG SET of the parameters that are live limits of ours changes the running server:
//! `maxclients` refuses the next connection, `timeout` closes an idle client.

mod support;

use std::time::Duration;

use respect::client::Client;
use respect::resp::{Dialect, Frame};
use respect::server::ServerConfig;
use support::our_server as server;
use tokio::io::AsyncReadExt;

#[tokio::test]
async fn config_set_maxclients_refuses_the_next_client_at_once() {
    let server = server(ServerConfig::default()).await;
    let mut admin = Client::connect(server.addr(), Dialect::Resp2)
        .await
        .expect("connect");
    assert_eq!(
        admin
            .call(&["CONFIG", "SET", "maxclients", "1"])
            .await
            .expect("CONFIG SET"),
        Frame::simple("OK")
    );
    let mut refused = tokio::net::TcpStream::connect(server.addr())
        .await
        .expect("the kernel still accepts");
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), refused.read_to_end(&mut reply))
        .await
        .expect("the server answers and closes")
        .expect("read");
    assert_eq!(reply, b"-ERR max number of clients reached\r\n");
    assert_eq!(
        admin
            .call(&["CONFIG", "SET", "maxclients", "10000"])
            .await
            .expect("CONFIG SET"),
        Frame::simple("OK")
    );
    let mut welcome = Client::connect(server.addr(), Dialect::Resp2)
        .await
        .expect("connect");
    assert_eq!(
        welcome.call(&["PING"]).await.expect("PING"),
        Frame::simple("PONG")
    );
    server.shutdown().await;
}

#[tokio::test]
async fn config_set_timeout_closes_a_client_that_was_already_idle() {
    let server = server(ServerConfig::default()).await;
    let mut idle = tokio::net::TcpStream::connect(server.addr())
        .await
        .expect("connect");
    let mut admin = Client::connect(server.addr(), Dialect::Resp2)
        .await
        .expect("connect");
    assert_eq!(
        admin
            .call(&["CONFIG", "SET", "timeout", "1"])
            .await
            .expect("CONFIG SET"),
        Frame::simple("OK")
    );
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), idle.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the idle client was not closed within 10 s");
    assert!(
        rest.is_empty(),
        "an idle client is closed without a word, as Redis does"
    );
    server.shutdown().await;
}
