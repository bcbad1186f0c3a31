//! Output flood (issue 16): a client that sends requests with large replies and never reads
//! them must not make the server buffer those replies without bound. Ours stops reading a
//! client whose reply write is blocked (the batch limit, `DEFAULT_OUTPUT_BATCH_LIMIT`), so
//! what it holds for the client stays near that limit; default redis grows its output
//! buffer (no hard limit for normal clients), which the table shows side by side.

mod hostile;
mod support;

use std::io::Write;
use std::time::{Duration, Instant};

use hostile::{command, mb, roundtrip, scaled, table_row};

#[test]
fn a_client_that_never_reads_keeps_a_bounded_output() {
    let value_len = 1024 * 1024;
    let requests = scaled(200, 2_000);
    let mut rows = Vec::new();
    for target in hostile::both(&[]) {
        let value = vec![b'v'; value_len];
        assert_eq!(
            roundtrip(target.addr(), &command(&[b"SET", b"big", &value])),
            b"+OK\r\n"
        );
        let before = target.idle_rss(Duration::from_secs(1));
        let get = command(&[b"GET", b"big"]);
        let batch: Vec<u8> = get.repeat(requests);
        let mut conn = std::net::TcpStream::connect(target.addr()).expect("connect");
        conn.set_write_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        // Send the GETs until the server stops taking them (its reads stall behind the
        // unread replies) or all are sent; never read a byte.
        let start = Instant::now();
        let mut sent = 0;
        while sent < batch.len() && start.elapsed() < Duration::from_secs(10) {
            match conn.write(&batch[sent..]) {
                Ok(n) => sent += n,
                Err(_) => break,
            }
        }
        // Give the server time to run what it took and fill whatever it will hold.
        let held = target
            .idle_rss(Duration::from_secs(2))
            .saturating_sub(before);
        let replied_bytes = requests as u64 * value_len as u64;
        eprintln!(
            "{}: {} held for a non-reading client ({} of replies asked)",
            target.name,
            mb(held),
            mb(replied_bytes)
        );
        // The server still answers others.
        assert_eq!(
            roundtrip(target.addr(), b"*1\r\n$4\r\nPING\r\n"),
            b"+PONG\r\n"
        );
        drop(conn);
        rows.push((target.name, held, replied_bytes));
    }
    let ours = rows.iter().find(|r| r.0 == "ours").expect("ours ran");
    let redis = rows.iter().find(|r| r.0 == "redis");
    table_row(
        &format!("non-reading client, {requests} x GET of 1 MB"),
        "RSS held",
        redis.map(|r| mb(r.1)),
        mb(ours.1),
    );
    // The batch limit (256 KiB) plus a reply being encoded and the socket's own buffers;
    // nowhere near the gigabytes asked.
    assert!(ours.1 < 64 * 1024 * 1024, "ours held {}", mb(ours.1));
}
