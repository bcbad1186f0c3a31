//! `respect decode` from the outside: what a user inspecting a capture sees, and its exit code.

use assert_cmd::Command;

fn decode(args: &[&str], input: &[u8]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("respect")
        .expect("binary")
        .arg("decode")
        .args(args)
        .write_stdin(input)
        .assert()
}

#[test]
fn prints_each_frame_and_exits_zero() {
    let out = decode(&["--raw"], b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n+OK\r\n")
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).expect("utf-8 output");
    assert!(text.contains("#1 at 0 (20 bytes) array"), "{text}");
    assert!(
        text.contains("raw: \"*2\\r\\n$3\\r\\nGET\\r\\n$1\\r\\nk\\r\\n\""),
        "{text}"
    );
    assert!(text.contains("#2 at 20 (5 bytes) simple string"), "{text}");
}

#[test]
fn malformed_input_names_the_offset_and_fails() {
    let out = decode(&["--role", "reply"], b"+OK\r\n$abc\r\n")
        .failure()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).expect("utf-8 output");
    assert!(
        text.contains("error: invalid bulk length at offset 5"),
        "{text}"
    );
}

#[test]
fn truncated_input_fails() {
    decode(&[], b"$5\r\nhel").failure().code(1);
}

#[test]
fn dialects_and_limits_are_flags() {
    decode(&["--dialect", "seed"], b"^6\r\nh\xc3\xa9llo\r\n").success();
    decode(
        &["--dialect", "resp2", "--role", "reply"],
        b"^6\r\nh\xc3\xa9llo\r\n",
    )
    .failure();
    decode(&["--max-depth", "2"], b"*1\r\n*1\r\n*1\r\n:1\r\n").failure();
    decode(&["--max-depth", "3"], b"*1\r\n*1\r\n*1\r\n:1\r\n").success();
}

#[test]
fn reads_a_file() {
    let dir = std::env::temp_dir().join(format!("respect-decode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("capture.bin");
    std::fs::write(&file, b":1\r\n:2\r\n").expect("write capture");
    Command::cargo_bin("respect")
        .expect("binary")
        .arg("decode")
        .arg(&file)
        .assert()
        .success();
    let _ = std::fs::remove_dir_all(dir);
}
