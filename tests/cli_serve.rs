//! `respect serve`, the binary: every runtime shape serves a pipeline and stops cleanly on
//! SIGTERM, and a nonsense thread count is refused before anything starts.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};
use support::ServerProcess;

fn start(threads: &[&str]) -> ServerProcess {
    let binary = assert_cmd::cargo::cargo_bin("respect");
    ServerProcess::spawn(binary.as_os_str(), |port| {
        let bind = format!("127.0.0.1:{port}");
        let mut args = vec!["serve".to_string(), "--bind".into(), bind];
        args.extend(threads.iter().map(|t| t.to_string()));
        args
    })
}

fn exchange(port: u16, request: &[u8], reply_len: usize) -> Vec<u8> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    stream.write_all(request).expect("write");
    let mut reply = vec![0; reply_len];
    stream.read_exact(&mut reply).expect("read the replies");
    reply
}

fn terminate(server: &mut ServerProcess) {
    let child = &mut server.child;
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "exit after SIGTERM: {status}");
            return;
        }
        assert!(Instant::now() < deadline, "no exit within 10 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn every_runtime_shape_serves_and_stops_on_sigterm() {
    // One thread is the single-threaded runtime; two and the default are work-stealing.
    for threads in [&["--threads", "1"][..], &["--threads", "2"], &[]] {
        let mut server = start(threads);
        let port = server.addr.port();
        let mut pipeline = Vec::new();
        for _ in 0..100 {
            pipeline.extend_from_slice(b"INCR counter\r\n");
        }
        pipeline.extend_from_slice(b"*2\r\n$3\r\nGET\r\n$3\r\nnot\r\n");
        let mut expected = Vec::new();
        for i in 1..=100 {
            expected.extend_from_slice(format!(":{i}\r\n").as_bytes());
        }
        expected.extend_from_slice(b"$-1\r\n");
        assert_eq!(
            String::from_utf8_lossy(&exchange(port, &pipeline, expected.len())),
            String::from_utf8_lossy(&expected),
            "{threads:?}"
        );
        // Connections from several clients at once, on the single thread too.
        let clients: Vec<_> = (0..8)
            .map(|_| std::thread::spawn(move || exchange(port, b"PING\r\nPING\r\n", 14)))
            .collect();
        for client in clients {
            assert_eq!(client.join().expect("client"), b"+PONG\r\n+PONG\r\n");
        }
        terminate(&mut server);
    }
}

#[test]
fn zero_threads_is_refused() {
    let out = Command::new(assert_cmd::cargo::cargo_bin("respect"))
        .args(["serve", "--bind", "127.0.0.1:0", "--threads", "0"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value '0'"));
}
