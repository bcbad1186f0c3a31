//! Slow-loris (issue 16, item 5): many clients that each trickle one byte every 200 ms.
//! A normal client must still get its answers, and every slow client's command must run
//! once its last byte arrives. The throughput a normal client keeps is printed for both
//! servers (the bench runs it at full size); the only time bounds asserted are generous
//! liveness bounds.

mod hostile;
mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hostile::{both, command, connect, read_reply, scaled, table_row};

/// The pause between two bytes of one slow client.
const TRICKLE_INTERVAL: Duration = Duration::from_millis(200);

/// The longest a normal request may wait for its reply before the test fails: far above
/// any healthy figure, there to catch a server that starves its normal clients.
const LIVENESS_BOUND: Duration = Duration::from_secs(5);

/// Round trips of SET then GET a normal client completes in `window`; panics if one reply
/// takes longer than [`LIVENESS_BOUND`].
fn normal_client_ops(addr: SocketAddr, window: Duration) -> u64 {
    let mut conn = connect(addr);
    let set = command(&[b"SET", b"normal", b"value"]);
    let get = command(&[b"GET", b"normal"]);
    let start = Instant::now();
    let mut ops = 0;
    while start.elapsed() < window {
        for (request, expected) in [(&set, &b"+OK\r\n"[..]), (&get, &b"$5\r\nvalue\r\n"[..])] {
            let sent = Instant::now();
            conn.write_all(request).expect("send");
            assert_eq!(read_reply(&mut conn), expected);
            assert!(
                sent.elapsed() < LIVENESS_BOUND,
                "a reply took {:?}",
                sent.elapsed()
            );
            ops += 1;
        }
    }
    ops
}

/// `n` slow clients, each sending `SET slow:<i> v` one byte per [`TRICKLE_INTERVAL`] from
/// one thread, until `stop` is set or every command is complete. The value is long enough
/// that the trickle outlasts `window`. Returns the connections (to read their replies).
fn trickle(addr: SocketAddr, n: usize, window: Duration, stop: Arc<AtomicBool>) -> Vec<TcpStream> {
    let value = vec![b'v'; (window.as_millis() / TRICKLE_INTERVAL.as_millis()) as usize + 5];
    let requests: Vec<Vec<u8>> = (0..n)
        .map(|i| command(&[b"SET", format!("slow:{i}").as_bytes(), &value]))
        .collect();
    let mut conns: Vec<TcpStream> = (0..n).map(|_| connect(addr)).collect();
    let longest = requests.iter().map(Vec::len).max().unwrap_or(0);
    for at in 0..longest {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let round = Instant::now();
        for (conn, request) in conns.iter_mut().zip(&requests) {
            if let Some(byte) = request.get(at) {
                conn.write_all(std::slice::from_ref(byte))
                    .expect("trickle a byte");
            }
        }
        std::thread::sleep(TRICKLE_INTERVAL.saturating_sub(round.elapsed()));
    }
    conns
}

#[test]
fn normal_clients_are_served_while_slow_clients_trickle() {
    let slow = scaled(300, 2_000);
    let window = Duration::from_secs(scaled(2, 10) as u64);
    let mut results = Vec::new();
    for target in both(&[]) {
        let alone = normal_client_ops(target.addr(), window);
        let stop = Arc::new(AtomicBool::new(false));
        let trickler = {
            let (addr, stop) = (target.addr(), stop.clone());
            std::thread::spawn(move || trickle(addr, slow, window, stop))
        };
        // Let every slow client connect and start trickling before measuring.
        assert!(
            target.wait_for_clients(slow + 1, Duration::from_secs(30)),
            "{} did not take the slow clients",
            target.name
        );
        let crowded = normal_client_ops(target.addr(), window);
        let mut conns = trickler.join().expect("trickler");
        // The trickler finishes every command (it outlasts the window) before returning.
        for (i, conn) in conns.iter_mut().enumerate() {
            let mut reply = [0u8; 5];
            conn.read_exact(&mut reply).expect("a slow client's reply");
            assert_eq!(&reply, b"+OK\r\n", "{} slow client {i}", target.name);
        }
        stop.store(true, Ordering::Relaxed);
        let loss = 1.0 - crowded as f64 / alone.max(1) as f64;
        eprintln!(
            "{}: {alone} ops alone, {crowded} with {slow} slow clients: {:.1}% lost",
            target.name,
            loss * 100.0
        );
        assert!(crowded > 0, "{} served no normal request", target.name);
        results.push((target.name, alone, crowded, loss));
    }
    let find = |name: &str| results.iter().find(|r| r.0 == name);
    let ours = find("ours").expect("ours ran");
    let redis = find("redis");
    let case = format!("{slow} slow-loris clients (1 byte / 200 ms)");
    let secs = window.as_secs_f64();
    table_row(
        &case,
        "normal client ops/s alone",
        redis.map(|r| format!("{:.0}", r.1 as f64 / secs)),
        format!("{:.0}", ours.1 as f64 / secs),
    );
    table_row(
        &case,
        "normal client ops/s among them",
        redis.map(|r| format!("{:.0}", r.2 as f64 / secs)),
        format!("{:.0}", ours.2 as f64 / secs),
    );
    table_row(
        &case,
        "throughput lost",
        redis.map(|r| format!("{:.1}%", r.3 * 100.0)),
        format!("{:.1}%", ours.3 * 100.0),
    );
}
