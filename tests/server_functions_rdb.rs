//! Function libraries between our server and a real redis-server 7.0: a library saved in
//! redis-server's `dump.rdb` loads in ours and runs, ours loads in redis-server and runs,
//! and FUNCTION DUMP of one library is redis-server's payload byte for byte, restorable
//! either way.

mod support;

use std::path::PathBuf;

use respect::client::Client;
use respect::resp::{Dialect, Frame};
use respect::server::ServerConfig;

/// A library worth compressing (Redis LZF-packs codes over 20 bytes when that saves more
/// than 4) and a short one.
const BIG: &str = "#!lua name=big\n-- aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n\
redis.register_function('getit', function(keys, args) return redis.call('get', keys[1]) end)";
const SMALL: &str =
    "#!lua name=small\nredis.register_function{function_name='two', callback=function() return 2 end, flags={'no-writes'}}";

async fn call<A: AsRef<[u8]>>(client: &mut Client, args: &[A]) -> Frame {
    client.call(args).await.expect("a reply")
}

fn ok() -> Frame {
    Frame::Simple("OK".into())
}

fn temp_dir(name: &str) -> PathBuf {
    support::temp_dir("respect-fn", name)
}

use support::{persistent, redis_in};

/// Loads both libraries and a key, then saves.
async fn build_and_save(client: &mut Client) {
    assert_eq!(
        call(client, &["FUNCTION", "LOAD", BIG]).await,
        Frame::Bulk("big".into())
    );
    assert_eq!(
        call(client, &["FUNCTION", "LOAD", SMALL]).await,
        Frame::Bulk("small".into())
    );
    assert_eq!(call(client, &["SET", "k", "v"]).await, ok());
    assert_eq!(call(client, &["SAVE"]).await, ok());
}

/// Both libraries' functions run and FUNCTION LIST names them.
async fn check_loaded(client: &mut Client, who: &str) {
    assert_eq!(
        call(client, &["FCALL", "getit", "1", "k"]).await,
        Frame::Bulk("v".into()),
        "{who}"
    );
    assert_eq!(
        call(client, &["FCALL_RO", "two", "0"]).await,
        Frame::Integer(2),
        "{who}"
    );
    let Frame::Array(libs) = call(client, &["FUNCTION", "LIST", "WITHCODE"]).await else {
        panic!("{who}: FUNCTION LIST is an array");
    };
    assert_eq!(libs.len(), 2, "{who}");
    let codes: Vec<String> = libs.iter().map(|l| format!("{l:?}")).collect();
    assert!(
        codes.iter().any(|c| c.contains("getit")),
        "{who}: {codes:?}"
    );
}

#[tokio::test]
async fn libraries_move_between_redis_and_ours_in_rdb_files() {
    if support::tool_missing("redis-server") {
        return;
    }
    // redis-server saves; ours loads the file and runs its functions.
    let dir = temp_dir("from-redis");
    let redis = redis_in(&dir).expect("redis-server");
    let mut r = Client::connect(redis.addr, Dialect::Resp2)
        .await
        .expect("redis");
    build_and_save(&mut r).await;
    drop(r);
    drop(redis);
    let ours = support::our_server(persistent(&dir)).await;
    let mut o = Client::connect(ours.addr(), Dialect::Resp2)
        .await
        .expect("ours");
    check_loaded(&mut o, "ours loading redis-server's file").await;
    // DEBUG RELOAD keeps them.
    assert_eq!(call(&mut o, &["DEBUG", "RELOAD"]).await, ok());
    check_loaded(&mut o, "ours after DEBUG RELOAD").await;
    drop(o);
    drop(ours);
    let _ = std::fs::remove_dir_all(&dir);

    // Ours saves; redis-server loads the file and runs its functions.
    let dir = temp_dir("from-ours");
    let ours = support::our_server(persistent(&dir)).await;
    let mut o = Client::connect(ours.addr(), Dialect::Resp2)
        .await
        .expect("ours");
    build_and_save(&mut o).await;
    drop(o);
    drop(ours);
    let redis = redis_in(&dir).expect("redis-server");
    let mut r = Client::connect(redis.addr, Dialect::Resp2)
        .await
        .expect("redis");
    check_loaded(&mut r, "redis-server loading our file").await;
    drop(r);
    drop(redis);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn function_dump_is_redis_payload_and_restores_either_way() {
    if support::tool_missing("redis-server") {
        return;
    }
    let redis = support::RedisServer::start().expect("redis-server");
    let mut r = Client::connect(redis.addr, Dialect::Resp2)
        .await
        .expect("redis");
    let ours = support::our_server(ServerConfig::default()).await;
    let mut o = Client::connect(ours.addr(), Dialect::Resp2)
        .await
        .expect("ours");
    for code in [BIG, SMALL] {
        for c in [&mut r, &mut o] {
            assert_eq!(call(c, &["FUNCTION", "FLUSH"]).await, ok());
            assert!(matches!(
                call(c, &["FUNCTION", "LOAD", code]).await,
                Frame::Bulk(_)
            ));
        }
        let theirs = call(&mut r, &["FUNCTION", "DUMP"]).await;
        let mine = call(&mut o, &["FUNCTION", "DUMP"]).await;
        assert_eq!(mine, theirs, "one library's payload, byte for byte");
        let Frame::Bulk(payload) = mine else {
            panic!("FUNCTION DUMP is a bulk string");
        };
        // Each restores the other's payload (FLUSH), and refuses it again (APPEND).
        for c in [&mut r, &mut o] {
            let restore = |policy: &str| -> Vec<Vec<u8>> {
                vec![
                    b"FUNCTION".to_vec(),
                    b"RESTORE".to_vec(),
                    payload.to_vec(),
                    policy.as_bytes().to_vec(),
                ]
            };
            assert_eq!(call(c, &restore("FLUSH")).await, ok());
            let Frame::Error(e) = call(c, &restore("APPEND")).await else {
                panic!("APPEND of a loaded library is refused");
            };
            assert!(e.starts_with(b"ERR Library "), "{e:?}");
        }
    }
    // The empty payload, byte for byte too.
    for c in [&mut r, &mut o] {
        assert_eq!(call(c, &["FUNCTION", "FLUSH"]).await, ok());
    }
    assert_eq!(
        call(&mut o, &["FUNCTION", "DUMP"]).await,
        call(&mut r, &["FUNCTION", "DUMP"]).await
    );
}
