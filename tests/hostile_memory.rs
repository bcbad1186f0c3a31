//! Memory that comes back (issue 16, item 2): bursts of clients that each send a megabyte
//! of a value declared at 100 MB and hang up. After each burst the server's idle memory
//! must return to within 2x of what it was before the first, and stay there burst after
//! burst; the declared 100 MB must never be allocated up front.

mod hostile;
mod support;

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hostile::{both, mb, scaled, table_row, Target};

/// How much idle memory may grow over the figure before any burst: 2x, as issue 16 asks,
/// with a floor for a server whose starting figure is tiny (a few MB of allocator arenas
/// touched once are not a leak).
fn allowed_after(before: u64) -> u64 {
    (2 * before).max(before + 16 * 1024 * 1024)
}

/// One burst: `clients` connections, each sending `payload` bytes of a SET whose value is
/// declared at 100 MB, all held open until every one has sent, then all closed. Returns
/// the peak resident memory seen during the burst.
fn burst(target: &Target, clients: usize, payload: usize) -> u64 {
    let peak = Arc::new(AtomicU64::new(target.rss()));
    let done = Arc::new(AtomicBool::new(false));
    let pid = target.pid();
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(hostile::rss_of(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let header = b"*3\r\n$3\r\nSET\r\n$5\r\nburst\r\n$100000000\r\n";
    let body = vec![b'x'; payload];
    let threads = 8;
    let senders: Vec<_> = (0..threads)
        .map(|t| {
            let addr = target.addr();
            let body = body.clone();
            let count = clients / threads + usize::from(t < clients % threads);
            std::thread::spawn(move || {
                let mut conns = Vec::with_capacity(count);
                for _ in 0..count {
                    let mut conn = TcpStream::connect(addr).expect("connect a burst client");
                    conn.set_write_timeout(Some(Duration::from_secs(60)))
                        .expect("timeout");
                    conn.write_all(header).expect("send the header");
                    conn.write_all(&body).expect("send the payload");
                    conns.push(conn);
                }
                conns
            })
        })
        .collect();
    let conns: Vec<Vec<TcpStream>> = senders
        .into_iter()
        .map(|s| s.join().expect("sender"))
        .collect();
    // Let the server read what the kernel still holds before the clients hang up.
    std::thread::sleep(Duration::from_secs(1));
    drop(conns);
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    assert!(
        target.wait_for_clients(1, Duration::from_secs(30)),
        "{} kept burst clients",
        target.name
    );
    peak.load(Ordering::Relaxed)
}

#[test]
fn memory_returns_after_bursts_of_large_requests() {
    let clients = scaled(100, 3_000);
    let cycles = scaled(4, 8);
    let payload = 1024 * 1024;
    let mut rows: Vec<(&str, Vec<u64>, u64, u64)> = Vec::new();
    for target in both(&["--maxclients", "20000"]) {
        let _ = hostile::info(target.addr());
        let before = target.idle_rss(Duration::from_secs(2));
        let mut idle = Vec::new();
        let mut peak = 0;
        for _ in 0..cycles {
            peak = peak.max(burst(&target, clients, payload));
            idle.push(target.idle_rss(Duration::from_secs(3)));
        }
        eprintln!(
            "{}: before {} | idle after each burst {:?} MB | peak {}",
            target.name,
            mb(before),
            idle.iter().map(|&b| b / 1_000_000).collect::<Vec<_>>(),
            mb(peak)
        );
        rows.push((target.name, idle, before, peak));
    }
    let find = |name: &str| rows.iter().find(|r| r.0 == name);
    let case = format!("{cycles} bursts of {clients} x 1 MB");
    let ours = find("ours").expect("ours ran");
    let redis = find("redis");
    let series = |r: &(&str, Vec<u64>, u64, u64)| {
        r.1.iter()
            .map(|&b| format!("{}", b / 1_000_000))
            .collect::<Vec<_>>()
            .join(" ")
    };
    table_row(&case, "idle RSS before", redis.map(|r| mb(r.2)), mb(ours.2));
    table_row(
        &case,
        "idle RSS after each burst (MB)",
        redis.map(series),
        series(ours),
    );
    table_row(&case, "peak RSS", redis.map(|r| mb(r.3)), mb(ours.3));
    let limit = allowed_after(ours.2);
    for (cycle, &after) in ours.1.iter().enumerate() {
        assert!(
            after <= limit,
            "burst {}: idle RSS {} is more than allowed {} (before: {})",
            cycle + 1,
            mb(after),
            mb(limit),
            mb(ours.2)
        );
    }
}
