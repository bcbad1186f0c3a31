//! `respect diff` of two redis-server 7.0.15 instances: no difference, and no key changed.

mod support;

use assert_cmd::Command;

fn keys(addr: std::net::SocketAddr) -> String {
    let out = std::process::Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &addr.port().to_string(), "--scan"])
        .output()
        .expect("redis-cli");
    let mut keys: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    keys.sort();
    keys.join("\n")
}

#[test]
fn two_identical_servers_differ_nowhere_and_keep_their_keys() {
    let (Some(a), Some(b)) = (support::RedisServer::start(), support::RedisServer::start()) else {
        return;
    };
    for (server, key) in [(&a, "user:a"), (&b, "user:b")] {
        let status = std::process::Command::new("redis-cli")
            .args(["-p", &server.addr.port().to_string(), "SET", key, "kept"])
            .output()
            .expect("redis-cli");
        assert!(status.status.success());
    }
    let before = (keys(a.addr), keys(b.addr));
    let out = Command::cargo_bin("respect")
        .expect("binary")
        .args([
            "diff",
            "--addr",
            &a.addr.to_string(),
            "--addr",
            &b.addr.to_string(),
        ])
        .output()
        .expect("diff");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.starts_with("0 differences in 0 of "), "{stdout}");
    // The destructive scenarios are skipped without --allow-flush: the user keys survive.
    assert_eq!((keys(a.addr), keys(b.addr)), before);
}
