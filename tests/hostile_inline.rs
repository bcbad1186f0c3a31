//! Long and odd inline requests, byte for byte against redis-server 7.0.15 (issue 16, item
//! 4a). Redis applies its 64 KiB inline limit only to a query buffer that has no newline yet
//! (`processInlineBuffer`), reads 16 KiB at a time, and finds the newline with `strchr`
//! (which stops at a NUL). So a 70 KB line that arrives whole is run (an unknown command,
//! named in 128 bytes), a 100 KB one is refused, and the pauses between sends matter.

mod hostile;
mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// What a server did with one probe: every byte it sent, and whether the connection was
/// still usable afterwards (a PING answered).
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    reply: Vec<u8>,
    open: bool,
}

/// Sends `parts` with a pause after each (so each arrives in reads of its own), collects
/// the reply until the server is quiet or closes, then checks the connection with a PING.
fn probe(addr: SocketAddr, parts: &[Vec<u8>]) -> Outcome {
    let mut conn = TcpStream::connect(addr).expect("connect");
    for part in parts {
        if conn.write_all(part).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    conn.set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let mut reply = Vec::new();
    let mut chunk = [0u8; 4096];
    let closed = loop {
        match conn.read(&mut chunk) {
            Ok(0) => break true,
            Ok(n) => reply.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                break false
            }
            Err(_) => break true,
        }
    };
    let open = !closed && conn.write_all(b"PING\r\n").is_ok() && {
        let mut pong = [0u8; 7];
        conn.read_exact(&mut pong).is_ok() && &pong == b"+PONG\r\n"
    };
    Outcome { reply, open }
}

fn a(n: usize) -> Vec<u8> {
    vec![b'a'; n]
}

fn with_crlf(mut line: Vec<u8>) -> Vec<u8> {
    line.extend_from_slice(b"\r\n");
    line
}

#[test]
fn long_inline_lines_match_redis() {
    let Some(redis) = hostile::redis() else {
        return;
    };
    let ours = hostile::ours(&[]);
    let too_big = b"-ERR Protocol error: too big inline request\r\n".to_vec();
    let unknown = {
        let mut text = b"-ERR unknown command '".to_vec();
        text.extend_from_slice(&a(128));
        text.extend_from_slice(b"', with args beginning with: \r\n");
        text
    };
    let cases: Vec<(&str, Vec<Vec<u8>>, Outcome)> = vec![
        (
            "70 KB line with its CRLF in one send: run",
            vec![with_crlf(a(70_000))],
            Outcome {
                reply: unknown.clone(),
                open: true,
            },
        ),
        (
            "100 KB line in one send: no newline within 64 KiB of 16 KiB reads",
            vec![with_crlf(a(100_000))],
            Outcome {
                reply: too_big.clone(),
                open: false,
            },
        ),
        (
            "60 KB, pause, 10 KB and CRLF: run",
            vec![a(60_000), with_crlf(a(10_000))],
            Outcome {
                reply: unknown.clone(),
                open: true,
            },
        ),
        (
            "exactly 64 KiB, pause, rest and CRLF: run",
            vec![a(65_536), with_crlf(a(4_000))],
            Outcome {
                reply: unknown.clone(),
                open: true,
            },
        ),
        (
            "66 KB, pause, rest and CRLF: refused before the newline",
            vec![a(66_000), with_crlf(a(4_000))],
            Outcome {
                reply: too_big.clone(),
                open: false,
            },
        ),
        (
            "PING then 70 KB without newline",
            vec![[&b"PING\r\n"[..], &a(70_000)].concat()],
            Outcome {
                reply: [&b"+PONG\r\n"[..], &too_big].concat(),
                open: false,
            },
        ),
        (
            "a NUL before the newline hides it, then 70 KB",
            vec![with_crlf([&a(10)[..], b"\0", &a(70_000)].concat())],
            Outcome {
                reply: too_big.clone(),
                open: false,
            },
        ),
    ];
    for (name, parts, expected) in &cases {
        let theirs = probe(redis.addr(), parts);
        assert_eq!(&theirs, expected, "redis-server, {name}");
        let got = probe(ours.addr(), parts);
        assert_eq!(&got, expected, "ours, {name}");
    }
}

#[test]
fn a_nul_in_a_short_inline_line_leaves_it_waiting_as_redis_does() {
    let Some(redis) = hostile::redis() else {
        return;
    };
    let ours = hostile::ours(&[]);
    let request = b"PING\r\nECHO a\0b\r\nPING\r\n";
    for target in [&redis, &ours] {
        let mut conn = TcpStream::connect(target.addr()).expect("connect");
        conn.write_all(request).expect("send");
        conn.set_read_timeout(Some(Duration::from_millis(500)))
            .expect("timeout");
        let mut reply = Vec::new();
        let mut chunk = [0u8; 256];
        while let Ok(n) = conn.read(&mut chunk) {
            if n == 0 {
                break;
            }
            reply.extend_from_slice(&chunk[..n]);
        }
        assert_eq!(reply, b"+PONG\r\n", "{}", target.name);
    }
}
