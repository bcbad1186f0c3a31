//! Blocking sorted-set pops under concurrency: many clients adding members with ZADD while
//! many others wait in BZPOPMIN, BZPOPMAX and BZMPOP on the same keys.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use respect::client::Client;
use respect::resp::{Dialect, Frame};
use respect::server::ServerConfig;
use support::our_server as server;

/// The members a pop's reply carries: `[key, member, score]` for BZPOPMIN/BZPOPMAX,
/// `[key, [[member, score], ...]]` for BZMPOP.
fn popped_members(reply: Frame) -> Vec<Vec<u8>> {
    match reply {
        Frame::Array(items) => match items.as_slice() {
            [Frame::Bulk(_), Frame::Bulk(member), _score] => vec![member.to_vec()],
            [Frame::Bulk(_), Frame::Array(pairs)] => pairs
                .iter()
                .map(|pair| match pair {
                    Frame::Array(p) => match p.first() {
                        Some(Frame::Bulk(m)) => m.to_vec(),
                        other => panic!("BZMPOP pair {other:?}"),
                    },
                    other => panic!("BZMPOP pair {other:?}"),
                })
                .collect(),
            other => panic!("pop replied {other:?}"),
        },
        other => panic!("pop replied {other:?}"),
    }
}

/// Every member added is popped exactly once (no wake-up lost, none served twice, whatever
/// the pop's shape), and the sets end empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_added_member_is_popped_exactly_once() {
    const ADDERS: usize = 6;
    const PER_ADDER: usize = 300;
    const POPPERS: usize = 12;
    const BURST: usize = 10;
    let server = server(ServerConfig::default()).await;
    let addr = server.addr();
    let total = ADDERS * PER_ADDER;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    let poppers: Vec<_> = (0..POPPERS)
        .map(|n| {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut client = Client::connect(addr, Dialect::Resp2)
                    .await
                    .expect("connect");
                // No timeout: a lost wake-up leaves members in the sets with every popper
                // waiting, and the count below stops short. Poppers are aborted at the end.
                let command: &[&str] = match n % 3 {
                    0 => &["BZPOPMIN", "respect:bz1", "respect:bz2", "0"],
                    1 => &["BZPOPMAX", "respect:bz2", "respect:bz1", "0"],
                    _ => &[
                        "BZMPOP",
                        "0",
                        "2",
                        "respect:bz1",
                        "respect:bz2",
                        "MIN",
                        "COUNT",
                        "3",
                    ],
                };
                loop {
                    let reply = client.call(command).await.expect("pop");
                    for member in popped_members(reply) {
                        if tx.send(member).is_err() {
                            return;
                        }
                    }
                }
            })
        })
        .collect();
    drop(tx);
    // Every popper is waiting before the first member arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let adders: Vec<_> = (0..ADDERS)
        .map(|a| {
            tokio::spawn(async move {
                let mut client = Client::connect(addr, Dialect::Resp2)
                    .await
                    .expect("connect");
                for i in 0..PER_ADDER {
                    let key = if i % 2 == 0 {
                        "respect:bz1"
                    } else {
                        "respect:bz2"
                    };
                    let member = format!("{a}-{i}");
                    let score = (i % 7).to_string();
                    let reply = client
                        .call(&["ZADD", key, &score, &member])
                        .await
                        .expect("ZADD");
                    assert_eq!(reply, Frame::Integer(1), "ZADD {member}");
                    if i % BURST == BURST - 1 {
                        // A pause lets the poppers drain the sets and block again, so that
                        // most members arrive for clients that are waiting.
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            })
        })
        .collect();
    for a in adders {
        a.await.expect("adder");
    }
    let mut seen = HashSet::new();
    while seen.len() < total {
        let member = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap_or_else(|_| panic!("only {} of {total} members popped", seen.len()))
            .expect("poppers alive");
        assert!(seen.insert(member.clone()), "popped twice: {member:?}");
    }
    rx.close();
    for p in &poppers {
        p.abort();
    }
    let mut check = Client::connect(addr, Dialect::Resp2)
        .await
        .expect("connect");
    for key in ["respect:bz1", "respect:bz2"] {
        assert_eq!(
            check.call(&["ZCARD", key]).await.expect("ZCARD"),
            Frame::Integer(0)
        );
    }
    server.shutdown().await;
}
