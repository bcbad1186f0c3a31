//! `respect cli` against a real redis-server.

mod support;

use assert_cmd::Command;

fn cli(addr: &str, args: &[&str], stdin: &str) -> (bool, String) {
    let out = Command::cargo_bin("respect")
        .expect("binary")
        .args(["cli", "--addr", addr])
        .args(args)
        .write_stdin(stdin)
        .output()
        .expect("run respect cli");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn talks_to_redis_like_redis_cli() {
    let Some(redis) = support::RedisServer::start() else {
        return;
    };
    let addr = redis.addr.to_string();

    let (ok, out) = cli(&addr, &["SET", "respect:cli", "a b\r\n"], "");
    assert!(ok && out == "OK\n", "{out}");
    let (ok, out) = cli(&addr, &["--raw", "GET", "respect:cli"], "");
    assert!(ok && out == "\"$5\\r\\na b\\r\\n\\r\\n\"\n", "{out}");

    // Lines from stdin, quoting rules, an error, and the RESP3 switch on HELLO 3.
    let (ok, out) = cli(
        &addr,
        &[],
        "HSET respect:h f \"\\x00v\"\nHGETALL respect:h\nNOSUCH\nHELLO 3\nHGETALL respect:h\n",
    );
    assert!(!ok, "an error reply makes the exit status non-zero");
    let expected = [
        "(integer) 1",
        "1) \"f\"",
        "2) \"\\x00v\"",
        "(error) ERR unknown command 'NOSUCH', with args beginning with: ",
    ];
    for line in expected {
        assert!(out.contains(line), "missing {line:?} in {out}");
    }
    assert!(out.ends_with("1# \"f\" => \"\\x00v\"\n"), "{out}");
}

#[test]
fn resp3_from_the_start() {
    let Some(redis) = support::RedisServer::start() else {
        return;
    };
    let (ok, out) = cli(
        &redis.addr.to_string(),
        &["--dialect", "resp3", "--raw", "HGETALL", "respect:none"],
        "",
    );
    assert!(ok && out == "\"%0\\r\\n\"\n", "{out}");
}

#[test]
fn unreachable_server_exits_2() {
    let port = support::free_port();
    let out = Command::cargo_bin("respect")
        .expect("binary")
        .args(["cli", "--addr", &format!("127.0.0.1:{port}"), "PING"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}
