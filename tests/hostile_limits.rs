//! Huge declared sizes and deep nesting (issue 16): what a request declares must never be
//! allocated before its bytes arrive, and a request past a limit gets Redis's error and a
//! close. Each case is compared byte for byte with a real redis-server 7.0.15.

mod hostile;
mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use hostile::{mb, scaled, table_row};

/// Every byte a server sends in answer to `request` until it goes quiet for 300 ms or
/// closes, and whether it closed.
fn answer(addr: SocketAddr, request: &[u8]) -> (Vec<u8>, bool) {
    let mut conn = TcpStream::connect(addr).expect("connect");
    conn.write_all(request).expect("send");
    conn.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let mut reply = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match conn.read(&mut chunk) {
            Ok(0) => return (reply, true),
            Ok(n) => reply.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return (reply, false)
            }
            Err(_) => return (reply, true),
        }
    }
}

#[test]
fn huge_declared_sizes_and_nesting_are_answered_as_redis_does() {
    let Some(redis) = hostile::redis() else {
        return;
    };
    let ours = hostile::ours(&[]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "a value declared at 100 MB, 1 KB sent: waits",
            [
                &b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000000\r\n"[..],
                &[b'x'; 1024],
            ]
            .concat(),
        ),
        ("a bulk of 512 MiB: waits", b"*1\r\n$536870912\r\n".to_vec()),
        ("a bulk of 512 MiB + 1", b"*1\r\n$536870913\r\n".to_vec()),
        ("a bulk of 2^63", b"*1\r\n$9223372036854775808\r\n".to_vec()),
        ("a count of 2^31 - 1: waits", b"*2147483647\r\n".to_vec()),
        ("a count of 2^31", b"*2147483648\r\n".to_vec()),
        (
            "nesting: an array in a request",
            b"*1\r\n*1\r\n*1\r\n$4\r\nPING\r\n".to_vec(),
        ),
        ("nesting 10,000 deep", b"*1\r\n".repeat(10_000)),
        ("a negative bulk length", b"*1\r\n$-2\r\n".to_vec()),
    ];
    for (name, request) in &cases {
        let theirs = answer(redis.addr(), request);
        let got = answer(ours.addr(), request);
        assert_eq!(
            (String::from_utf8_lossy(&got.0), got.1),
            (String::from_utf8_lossy(&theirs.0), theirs.1),
            "{name}: ours (reply, closed) vs redis-server's"
        );
    }
}

#[test]
fn declared_sizes_cost_no_memory_until_their_bytes_arrive() {
    let clients = scaled(500, 5_000);
    let mut rows = Vec::new();
    for target in hostile::both(&["--maxclients", "20000"]) {
        let _ = hostile::info(target.addr());
        let before = target.idle_rss(Duration::from_secs(1));
        // Each client declares a 100 MB value (and another a 2^31-element array) and sends
        // a few bytes: 50 GB declared at full scale.
        let conns: Vec<TcpStream> = (0..clients)
            .map(|i| {
                let mut conn = TcpStream::connect(target.addr()).expect("connect");
                let request: &[u8] = if i % 2 == 0 {
                    b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000000\r\nxxxx"
                } else {
                    b"*2147483647\r\n$4\r\nPING\r\n"
                };
                conn.write_all(request).expect("send");
                conn
            })
            .collect();
        assert!(target.wait_for_clients(clients + 1, Duration::from_secs(30)));
        let during = target.idle_rss(Duration::from_secs(1));
        drop(conns);
        let grown = during.saturating_sub(before);
        eprintln!(
            "{}: {} more with {clients} huge declarations",
            target.name,
            mb(grown)
        );
        rows.push((target.name, grown));
    }
    let ours = rows.iter().find(|r| r.0 == "ours").expect("ours ran").1;
    let redis = rows.iter().find(|r| r.0 == "redis").map(|r| mb(r.1));
    table_row(
        &format!("{clients} clients declaring 100 MB or 2^31 items"),
        "RSS growth",
        redis,
        mb(ours),
    );
    // A few KB per connection at most: nothing sized by the declarations.
    assert!(
        ours < clients as u64 * 8 * 1024,
        "{} for {clients} connections",
        mb(ours)
    );
}
