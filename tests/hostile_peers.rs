//! `respect run`, `cli` and `fuzz` against scripted hostile peers on loopback: each ends within
//! its timeout plus a generous margin (liveness, not a benchmark) and stays under 256 MB of
//! resident memory, whatever the peer does.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Peak resident memory any command may reach.
const MAX_RSS_KB: u64 = 256 * 1024;

/// How a scripted peer treats every connection.
#[derive(Clone, Copy, Debug)]
enum Peer {
    /// Accepts and never reads.
    NeverReads,
    /// Reads and discards, never answers.
    NeverAnswers,
    /// `*2147483647` then `:1` forever.
    EndlessArray,
    /// Answers the first request with `+PONG`, then streams a never-ending bulk.
    EndlessAfterProbe,
    /// A bulk length no budget admits, then bytes forever.
    HugeDeclaredLength,
    /// `*1` forever.
    DeepNesting,
}

fn flood(stream: &mut TcpStream, head: &[u8], body: &[u8]) {
    if stream.write_all(head).is_err() {
        return;
    }
    let chunk = body.repeat(64 * 1024 / body.len());
    while stream.write_all(&chunk).is_ok() {}
}

fn serve(mut stream: TcpStream, peer: Peer) {
    let mut sink = [0u8; 4096];
    match peer {
        Peer::NeverReads => std::thread::sleep(Duration::from_secs(120)),
        Peer::NeverAnswers => while matches!(stream.read(&mut sink), Ok(n) if n > 0) {},
        Peer::EndlessArray => flood(&mut stream, b"*2147483647\r\n", b":1\r\n"),
        Peer::EndlessAfterProbe => {
            if matches!(stream.read(&mut sink), Ok(n) if n > 0) {
                flood(&mut stream, b"+PONG\r\n$134217000\r\n", b"y");
            }
        }
        Peer::HugeDeclaredLength => flood(&mut stream, b"$999999999999\r\n", b"z"),
        Peer::DeepNesting => flood(&mut stream, b"", b"*1\r\n"),
    }
}

fn start(peer: Peer) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve(stream, peer));
        }
    });
    addr
}

/// The highest resident set a process reached so far (VmHWM), in kB.
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs the binary with `args` (and two PINGs on stdin, for `cli` without a command), sampling its peak memory until it exits; panics if it outlives
/// `limit`. Returns the exit code, the wall time and the peak RSS (kB).
fn measure(args: &[&str], limit: Duration) -> (Option<i32>, Duration, u64) {
    let bin = assert_cmd::cargo::cargo_bin("respect");
    let started = Instant::now();
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn respect");
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(b"PING\nPING\n");
    }
    let mut peak = 0;
    loop {
        if let Some(kb) = peak_rss_kb(child.id()) {
            peak = peak.max(kb);
        }
        if let Ok(Some(status)) = child.try_wait() {
            return (status.code(), started.elapsed(), peak);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`respect {}` still running after {limit:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn check(peer: Peer, args: &[&str], limit: Duration) {
    let (code, took, peak) = measure(args, limit);
    eprintln!(
        "{peer:?}: respect {} -> exit {code:?} in {took:?}, peak {} MB",
        args.join(" "),
        peak / 1024
    );
    assert!(
        code.is_some_and(|c| c != 0),
        "{peer:?}: {args:?} exited {code:?}"
    );
    assert!(peak < MAX_RSS_KB, "{peer:?}: {args:?} peaked at {peak} kB");
}

/// What a debug build needs beyond the deadlines: starting up and parsing the whole scenario
/// folder (the 16 MiB scenarios included) takes a few seconds of CPU on a shared machine.
const STARTUP: Duration = Duration::from_secs(15);

#[test]
fn no_hostile_peer_holds_run_cli_or_fuzz_hostage() {
    let peers = [
        Peer::NeverReads,
        Peer::NeverAnswers,
        Peer::EndlessArray,
        Peer::EndlessAfterProbe,
        Peer::HugeDeclaredLength,
        Peer::DeepNesting,
    ];
    // One peer at a time, so that the commands' deadlines, not CPU contention, set the pace.
    for peer in peers {
        let addr = start(peer).to_string();
        // A 16 MiB write is what a peer that never reads blocks; a PING is what the others
        // answer badly. One scenario, one step that ends at its 2 s timeout at worst.
        let filter = match peer {
            Peer::NeverReads => "y_value_16mb",
            // Its first reply is the PONG the peer gives; the second meets the stream.
            Peer::EndlessAfterProbe => "y_large_pipeline_of_pings",
            _ => "connection/y_ping.scenario",
        };
        check(
            peer,
            &[
                "run",
                "--addr",
                &addr,
                "--timeout",
                "2s",
                "--jobs",
                "1",
                "--filter",
                filter,
                // Given, so the scenario's own steps meet the peer (a run that asks first
                // stops at the unanswered INFO, exit 2).
                "--target-version",
                "7.0.15",
            ],
            Duration::from_secs(2) + STARTUP,
        );
        check(
            peer,
            // Two PINGs from stdin: a peer that answers the first meets the second.
            &["cli", "--addr", &addr, "--timeout", "2"],
            Duration::from_secs(2) + STARTUP,
        );
        // Each case is the case plus a liveness probe, each bounded by the 1 s timeout.
        let out = std::env::temp_dir().join(format!("respect-hostile-{}", addr.replace(':', "_")));
        check(
            peer,
            &[
                "fuzz",
                "--addr",
                &addr,
                "--runs",
                "3",
                "--timeout",
                "1s",
                "--out",
                &out.to_string_lossy(),
            ],
            Duration::from_secs(3 * (1 + 1) + 1) + STARTUP,
        );
        let _ = std::fs::remove_dir_all(out);
    }
}
