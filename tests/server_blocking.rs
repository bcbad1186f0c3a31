//! Blocking pops and pub/sub under concurrency, on our server: what the scenarios cannot
//! say because it takes many clients at once.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use respect::client::Client;
use respect::resp::{Dialect, Frame};
use respect::server::ServerConfig;
use support::our_server as server;

/// Many poppers blocked in BLPOP on two keys while many pushers push: every pushed element is
/// popped exactly once (no wake-up lost, none served twice), and nobody waits forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_pushed_element_is_popped_exactly_once() {
    const PUSHERS: usize = 6;
    const PER_PUSHER: usize = 300;
    const POPPERS: usize = 12;
    let server = server(ServerConfig::default()).await;
    let addr = server.addr();
    let total = PUSHERS * PER_PUSHER;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    let poppers: Vec<_> = (0..POPPERS)
        .map(|_| {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut client = Client::connect(addr, Dialect::Resp2)
                    .await
                    .expect("connect");
                loop {
                    // A short timeout lets a popper notice the end; a lost wake-up would show
                    // as elements left in the lists.
                    match client
                        .call(&["BLPOP", "respect:bq1", "respect:bq2", "0.5"])
                        .await
                        .expect("BLPOP")
                    {
                        Frame::Array(pair) => match pair.get(1) {
                            Some(Frame::Bulk(v)) => {
                                if tx.send(v.to_vec()).is_err() {
                                    return;
                                }
                            }
                            other => panic!("BLPOP element {other:?}"),
                        },
                        Frame::NullArray => {
                            if tx.is_closed() {
                                return;
                            }
                        }
                        other => panic!("BLPOP replied {other:?}"),
                    }
                }
            })
        })
        .collect();
    drop(tx);
    let pushers: Vec<_> = (0..PUSHERS)
        .map(|p| {
            tokio::spawn(async move {
                let mut client = Client::connect(addr, Dialect::Resp2)
                    .await
                    .expect("connect");
                for i in 0..PER_PUSHER {
                    let key = if i % 2 == 0 {
                        "respect:bq1"
                    } else {
                        "respect:bq2"
                    };
                    let push = if i % 3 == 0 { "LPUSH" } else { "RPUSH" };
                    let value = format!("{p}-{i}");
                    client.call(&[push, key, &value]).await.expect("push");
                }
            })
        })
        .collect();
    for p in pushers {
        p.await.expect("pusher");
    }
    let mut seen = HashSet::new();
    while seen.len() < total {
        let value = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap_or_else(|_| panic!("only {} of {total} elements popped", seen.len()))
            .expect("poppers alive");
        assert!(seen.insert(value.clone()), "popped twice: {value:?}");
    }
    rx.close();
    for p in poppers {
        p.await.expect("popper");
    }
    let mut check = Client::connect(addr, Dialect::Resp2)
        .await
        .expect("connect");
    assert_eq!(
        check.call(&["LLEN", "respect:bq1"]).await.expect("LLEN"),
        Frame::Integer(0)
    );
    server.shutdown().await;
}

/// One publisher, many subscribers: each subscriber receives every message, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subscriber_gets_every_message_in_order() {
    const SUBSCRIBERS: usize = 20;
    const MESSAGES: usize = 200;
    let server = server(ServerConfig::default()).await;
    let addr = server.addr();
    let mut subscribers = Vec::new();
    for _ in 0..SUBSCRIBERS {
        let mut client = Client::connect(addr, Dialect::Resp2)
            .await
            .expect("connect");
        client
            .call(&["SUBSCRIBE", "respect:fan"])
            .await
            .expect("SUBSCRIBE");
        subscribers.push(client);
    }
    let mut publisher = Client::connect(addr, Dialect::Resp2)
        .await
        .expect("connect");
    for i in 0..MESSAGES {
        let receivers = publisher
            .call(&["PUBLISH", "respect:fan", &i.to_string()])
            .await
            .expect("PUBLISH");
        assert_eq!(receivers, Frame::Integer(SUBSCRIBERS as i64));
    }
    for mut client in subscribers {
        for i in 0..MESSAGES {
            let reply = client
                .read_reply_timeout(Duration::from_secs(5))
                .await
                .expect("message");
            let Frame::Array(items) = reply.frame else {
                panic!("message frame {:?}", reply.frame);
            };
            assert_eq!(items.get(2), Some(&Frame::Bulk(i.to_string().into())));
        }
    }
    server.shutdown().await;
}

/// CLIENT UNBLOCK inside EXEC (the gate held exclusively, then the blocking queues' lock)
/// while pushes serve the same blocked client (the queues' lock, then a command under the
/// gate): the two locks must be taken in one order, or the server hangs. The server runs on
/// a runtime of its own so a hang shows as this test's deadline, not as a frozen test.
#[test]
fn client_unblock_inside_exec_does_not_deadlock_with_a_serving_push() {
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server_thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(3)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let handle = server(ServerConfig::default()).await;
            addr_tx.send(handle.addr()).expect("send addr");
            let _ = stop_rx.await;
            drop(handle);
        });
        // A hung server's workers never finish: do not wait for them.
        runtime.shutdown_background();
    });
    let addr = addr_rx.recv().expect("server address");
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            const ROUNDS: usize = 400;
            let mut popper = Client::connect(addr, Dialect::Resp2)
                .await
                .expect("connect");
            let Frame::Integer(id) = popper.call(&["CLIENT", "ID"]).await.expect("id") else {
                panic!("CLIENT ID");
            };
            let pop = tokio::spawn(async move {
                for _ in 0..ROUNDS {
                    popper
                        .call(&["BLPOP", "respect:dl", "0"])
                        .await
                        .expect("BLPOP");
                }
            });
            let unblock = tokio::spawn(async move {
                let mut c = Client::connect(addr, Dialect::Resp2)
                    .await
                    .expect("connect");
                let id = id.to_string();
                for _ in 0..ROUNDS {
                    c.call(&["MULTI"]).await.expect("MULTI");
                    c.call(&["CLIENT", "UNBLOCK", &id]).await.expect("queue");
                    c.call(&["EXEC"]).await.expect("EXEC");
                }
            });
            let mut pusher = Client::connect(addr, Dialect::Resp2)
                .await
                .expect("connect");
            while !pop.is_finished() {
                pusher
                    .call(&["RPUSH", "respect:dl", "x"])
                    .await
                    .expect("RPUSH");
            }
            pop.await.expect("popper");
            unblock.await.expect("unblocker");
            pusher.call(&["DEL", "respect:dl"]).await.expect("DEL");
        });
        let _ = done_tx.send(());
    });
    done_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the server hung: CLIENT UNBLOCK in EXEC against a push serving the client");
    let _ = stop_tx.send(());
    server_thread.join().expect("server thread");
}

/// A tracking client whose BLMOVE waits, then is served by another client's push, gets its
/// reply and right after it the invalidation of the key its move wrote, byte for byte as
/// redis-server 7.0.15 sends them; nothing is held back for its next command (its own
/// invalidations used to wait for the next reply, and every look while it waited added one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_served_blocked_client_gets_its_own_invalidation_after_its_reply() {
    let server = server(ServerConfig::default()).await;
    let addr = server.addr();
    let mut tracker = Client::connect(addr, Dialect::Resp3)
        .await
        .expect("connect");
    tracker.call(&["HELLO", "3"]).await.expect("HELLO 3");
    let on = tracker
        .call(&["CLIENT", "TRACKING", "on"])
        .await
        .expect("TRACKING");
    assert_eq!(on, Frame::simple("OK"));
    // Read, so the tracker may cache it.
    tracker
        .call(&["LRANGE", "respect:tk:dst", "0", "-1"])
        .await
        .expect("LRANGE");
    tracker
        .send(&Frame::command([
            "BLMOVE",
            "respect:tk:src",
            "respect:tk:dst",
            "LEFT",
            "RIGHT",
            "0",
        ]))
        .await
        .expect("BLMOVE");
    let mut pusher = Client::connect(addr, Dialect::Resp2)
        .await
        .expect("connect");
    // Pushed only once the tracker is blocked, so that it is served by the push.
    for _ in 0..200 {
        let list = pusher.call(&["CLIENT", "LIST"]).await.expect("CLIENT LIST");
        if matches!(&list, Frame::Bulk(b) if b.windows(9).any(|w| w == b"cmd=blmov")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    pusher
        .call(&["RPUSH", "respect:tk:src", "x"])
        .await
        .expect("RPUSH");
    let reply = tracker.read_reply().await.expect("BLMOVE's reply");
    assert_eq!(&reply.raw[..], b"$1\r\nx\r\n");
    let push = tracker.read_reply().await.expect("the invalidation");
    assert_eq!(
        &push.raw[..],
        b">2\r\n$10\r\ninvalidate\r\n*1\r\n$14\r\nrespect:tk:dst\r\n"
    );
    // Nothing held back: the next command's first frame is its reply.
    let pong = tracker.call(&["PING"]).await.expect("PING");
    assert_eq!(pong, Frame::simple("PONG"));
    pusher
        .call(&["DEL", "respect:tk:src", "respect:tk:dst"])
        .await
        .expect("DEL");
    server.shutdown().await;
}
