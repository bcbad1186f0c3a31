//! What the `hostile_*` tests share: both servers as processes (ours and a real
//! redis-server, side by side), their resident memory read from `/proc`, and crowds of
//! connections. Each test runs at a small size by default so `cargo test` stays fast;
//! `RESPECT_HOSTILE_SCALE=full` (what `benches/hostile.sh` sets) runs the sizes of issue 16,
//! and every test prints its measurements as `table|<case>|<metric>|<redis>|<ours>` lines
//! that the bench script gathers into the README's table.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::support::{RedisServer, ServerProcess};

/// Whether the full-size runs were asked for (`RESPECT_HOSTILE_SCALE=full`).
pub fn full_scale() -> bool {
    std::env::var("RESPECT_HOSTILE_SCALE").is_ok_and(|v| v == "full")
}

/// `small` in `cargo test`, `full` under `benches/hostile.sh`.
pub fn scaled(small: usize, full: usize) -> usize {
    if full_scale() {
        full
    } else {
        small
    }
}

/// One server under test, as a process whose memory can be read.
pub struct Target {
    /// "redis" or "ours".
    pub name: &'static str,
    /// The process, killed on drop.
    pub process: ServerProcess,
}

impl Target {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.process.addr
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.process.child.id()
    }

    /// Its resident memory now, in bytes (`VmRSS` of `/proc/<pid>/status`).
    pub fn rss(&self) -> u64 {
        rss_of(self.pid())
    }

    /// Its resident memory after `idle` with no traffic: allocators return freed memory
    /// with a delay (jemalloc's decay, in Redis and in ours), so a reading taken at once
    /// after a burst would measure the delay, not what the server keeps.
    pub fn idle_rss(&self, idle: Duration) -> u64 {
        std::thread::sleep(idle);
        self.rss()
    }

    /// `INFO`'s `connected_clients`: how many connections the server has taken.
    pub fn connected_clients(&self) -> usize {
        let text = info(self.addr());
        text.lines()
            .find_map(|l| l.strip_prefix("connected_clients:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Waits until the server reports `n` connected clients (the probe's own included), at
    /// most `limit`; whether it did.
    pub fn wait_for_clients(&self, n: usize, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.connected_clients() == n {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

/// The resident memory of process `pid` in bytes; 0 if it cannot be read.
pub fn rss_of(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kib| kib * 1024)
}

/// Our server as a process (`respect serve`), with `extra` flags. `RESPECT_HOSTILE_BIN`
/// names another build of the binary to measure (the bench compares allocators that way).
pub fn ours(extra: &[&str]) -> Target {
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    let program = std::env::var_os("RESPECT_HOSTILE_BIN")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_respect").into());
    let process = ServerProcess::spawn(&program, |port| {
        let mut args = vec![
            "serve".to_string(),
            "--bind".to_string(),
            format!("127.0.0.1:{port}"),
        ];
        args.extend(extra.iter().cloned());
        args
    });
    Target {
        name: "ours",
        process,
    }
}

/// A real redis-server 7.0.15 as a process, without persistence (the tests' one way of
/// starting it: [`RedisServer`]); `None` where it is not installed (and not under CI).
pub fn redis() -> Option<Target> {
    // As ours is run: the full-size idle test holds 10,000 clients and a probe, one over
    // Redis's default (Redis lowers it to what the fd limit allows).
    let server = RedisServer::start_with(&["--maxclients", "20000"])?;
    Some(Target {
        name: "redis",
        process: server.process,
    })
}

/// Both servers, redis first; only ours where redis-server is missing (outside CI).
pub fn both(our_flags: &[&str]) -> Vec<Target> {
    let mut targets = Vec::new();
    targets.extend(redis());
    targets.push(ours(our_flags));
    targets
}

/// Sends `command` (already encoded) on a fresh connection and reads one reply's bytes.
pub fn roundtrip(addr: SocketAddr, command: &[u8]) -> Vec<u8> {
    let mut conn = connect(addr);
    conn.write_all(command).expect("send");
    read_reply(&mut conn)
}

/// A blocking connection with generous timeouts (a hung server fails the test, not CI).
pub fn connect(addr: SocketAddr) -> TcpStream {
    let conn = TcpStream::connect(addr).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    conn.set_write_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    conn
}

/// Reads until one complete RESP2 reply has arrived (a line, or a bulk string with its
/// payload); what a test's simple commands answer with.
pub fn read_reply(conn: &mut TcpStream) -> Vec<u8> {
    let mut reply = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        if let Some(len) = complete_reply_len(&reply) {
            reply.truncate(len);
            return reply;
        }
        let n = conn.read(&mut chunk).expect("read a reply");
        assert!(n > 0, "server closed before replying: {reply:?}");
        reply.extend_from_slice(&chunk[..n]);
    }
}

/// The length of the first complete simple reply in `buf`, if it is all there.
fn complete_reply_len(buf: &[u8]) -> Option<usize> {
    let line_end = buf.windows(2).position(|w| w == b"\r\n")? + 2;
    if buf.first() != Some(&b'$') {
        return Some(line_end);
    }
    let len: i64 = std::str::from_utf8(&buf[1..line_end - 2])
        .ok()?
        .parse()
        .ok()?;
    if len < 0 {
        return Some(line_end);
    }
    let total = line_end + len as usize + 2;
    (buf.len() >= total).then_some(total)
}

/// `INFO` as text.
pub fn info(addr: SocketAddr) -> String {
    let reply = roundtrip(addr, b"*1\r\n$4\r\nINFO\r\n");
    String::from_utf8_lossy(&reply).into_owned()
}

/// A RESP2 multibulk request.
pub fn command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Prints one row of the ours-vs-redis table (see the module doc).
pub fn table_row(case: &str, metric: &str, redis: Option<String>, ours: String) {
    println!(
        "table|{case}|{metric}|{}|{ours}",
        redis.unwrap_or_else(|| "-".to_string())
    );
}

/// Bytes as MB with one decimal, for the table.
pub fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}
