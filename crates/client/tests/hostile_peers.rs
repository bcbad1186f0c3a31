//! Scripted hostile peers on loopback: whatever a server does, every client call ends within its
//! deadline (plus a generous margin: this is liveness, not a benchmark) and holds no more than
//! its reply budget.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use respect_client::{Client, ClientError, ClientOptions, Overrun, ReplyBudget};
use respect_resp::{Dialect, Frame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What a liveness bound allows beyond the deadline: scheduling on a shared machine, not work.
const MARGIN: Duration = Duration::from_secs(2);
const TIMEOUT: Duration = Duration::from_millis(500);

/// How a scripted peer behaves on every connection.
#[derive(Clone, Copy)]
enum Peer {
    /// Accepts and never reads a byte.
    NeverReads,
    /// Reads and discards everything, never answers.
    NeverAnswers,
    /// Sends `bytes` once, then nothing.
    Sends(&'static [u8]),
    /// Sends `head`, then `body` over and over, as fast as the socket takes it.
    Floods(&'static [u8], &'static [u8]),
}

async fn peer(behaviour: Peer) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, behaviour));
        }
    });
    addr
}

async fn serve(mut stream: TcpStream, behaviour: Peer) {
    match behaviour {
        Peer::NeverReads => {
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        Peer::NeverAnswers => {
            let mut sink = [0u8; 4096];
            while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
        }
        Peer::Sends(bytes) => {
            let _ = stream.write_all(bytes).await;
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        Peer::Floods(head, body) => {
            if stream.write_all(head).await.is_err() {
                return;
            }
            let chunk = body.repeat(64 * 1024 / body.len().max(1) + 1);
            while stream.write_all(&chunk).await.is_ok() {}
        }
    }
}

fn options(budget: ReplyBudget) -> ClientOptions {
    ClientOptions {
        io_timeout: TIMEOUT,
        budget,
    }
}

async fn client(addr: SocketAddr, dialect: Dialect, budget: ReplyBudget) -> Client {
    Client::connect_with(addr, dialect, options(budget))
        .await
        .expect("connect")
}

fn within_deadline(started: Instant) {
    let took = started.elapsed();
    assert!(
        took < TIMEOUT + MARGIN,
        "took {took:?}, deadline {TIMEOUT:?}"
    );
}

#[tokio::test]
async fn a_peer_that_never_reads_cannot_block_a_write() {
    let addr = peer(Peer::NeverReads).await;
    let mut client = client(addr, Dialect::Resp2, ReplyBudget::default()).await;
    let big = vec![b'x'; 64 * 1024 * 1024];
    let started = Instant::now();
    let error = client
        .send_raw(&big)
        .await
        .expect_err("64 MiB fit no socket buffer");
    within_deadline(started);
    assert_eq!(error.kind(), std::io::ErrorKind::TimedOut, "{error}");
}

#[tokio::test]
async fn a_peer_that_never_answers_times_out() {
    let addr = peer(Peer::NeverAnswers).await;
    let mut client = client(addr, Dialect::Resp2, ReplyBudget::default()).await;
    let started = Instant::now();
    let error = client.call(&["PING"]).await.expect_err("no answer");
    within_deadline(started);
    assert!(matches!(error, ClientError::Timeout(_)), "{error}");
}

#[tokio::test]
async fn an_endless_array_is_refused_at_its_declared_count() {
    let addr = peer(Peer::Floods(b"*2147483647\r\n", b":1\r\n")).await;
    let mut client = client(addr, Dialect::Resp2, ReplyBudget::default()).await;
    let started = Instant::now();
    let error = client.call(&["PING"]).await.expect_err("over budget");
    within_deadline(started);
    assert!(
        matches!(
            error,
            ClientError::Budget(Overrun::Elements {
                seen: 2147483647,
                ..
            })
        ),
        "{error}"
    );
    // The connection is gone: nothing more is read from it.
    assert!(client.send_raw(b"PING\r\n").await.is_err());
}

#[tokio::test]
async fn an_endless_array_within_the_declared_limit_stops_at_the_element_budget() {
    // A streamed RESP3 array declares no count: only the items arriving can be counted.
    let addr = peer(Peer::Floods(b"*?\r\n", b":1\r\n")).await;
    let budget = ReplyBudget {
        max_elements: 100_000,
        ..ReplyBudget::default()
    };
    let mut client = client(addr, Dialect::Resp3, budget).await;
    let started = Instant::now();
    let error = client.read_reply().await.expect_err("over budget");
    within_deadline(started);
    assert!(
        matches!(
            error,
            ClientError::Budget(Overrun::Elements { max: 100_000, .. })
        ),
        "{error}"
    );
    assert!(client.pending_bytes().is_empty(), "the buffer is released");
}

#[tokio::test]
async fn an_endless_string_stops_at_the_byte_budget_or_the_deadline() {
    // Chunks of a streamed string arrive without pause: only the clock between reads and the
    // byte budget can end the read.
    let addr = peer(Peer::Floods(b"$?\r\n", b";8\r\nabcdefgh\r\n")).await;
    let budget = ReplyBudget {
        max_bytes: 4 * 1024 * 1024,
        ..ReplyBudget::default()
    };
    let mut client = client(addr, Dialect::Resp3, budget).await;
    let started = Instant::now();
    let error = client.read_reply().await.expect_err("never completes");
    within_deadline(started);
    assert!(
        matches!(
            error,
            ClientError::Budget(Overrun::Bytes { .. } | Overrun::Elements { .. })
                | ClientError::Timeout(_)
        ),
        "{error}"
    );
}

#[tokio::test]
async fn a_trickle_cannot_stretch_the_deadline() {
    // One byte every few milliseconds: data keeps arriving, the reply never ends.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        if let Ok((mut stream, _)) = listener.accept().await {
            let _ = stream.write_all(b"$1000000\r\n").await;
            for _ in 0..100_000 {
                if stream.write_all(b"x").await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    });
    let mut client = client(addr, Dialect::Resp2, ReplyBudget::default()).await;
    let started = Instant::now();
    let error = client.read_reply().await.expect_err("never completes");
    within_deadline(started);
    assert!(matches!(error, ClientError::Timeout(_)), "{error}");
}

#[tokio::test]
async fn an_endless_stream_after_the_probe_ends_the_next_read() {
    let addr = peer(Peer::Floods(b"+PONG\r\n$134217728000\r\n", b"y")).await;
    let mut client = client(addr, Dialect::Resp2, ReplyBudget::default()).await;
    let pong = client.call(&["PING"]).await.expect("the probe is answered");
    assert_eq!(pong, Frame::simple("PONG"));
    let started = Instant::now();
    let error = client.read_reply().await.expect_err("over budget");
    within_deadline(started);
    assert!(
        matches!(error, ClientError::Budget(Overrun::Bytes { .. })),
        "{error}"
    );
}

#[tokio::test]
async fn a_huge_declared_length_is_refused_before_its_bytes() {
    let addr = peer(Peer::Sends(b"$536870000\r\n")).await;
    let mut client = client(addr, Dialect::Resp2, ReplyBudget::default()).await;
    let started = Instant::now();
    let error = client.call(&["GET", "k"]).await.expect_err("over budget");
    within_deadline(started);
    assert!(
        matches!(
            error,
            ClientError::Budget(Overrun::Bytes {
                seen: 536870000,
                ..
            })
        ),
        "{error}"
    );
}

#[tokio::test]
async fn deep_nesting_is_malformed_not_a_stack_overflow() {
    let addr = peer(Peer::Floods(b"", b"*1\r\n")).await;
    let mut client = client(addr, Dialect::Resp2, ReplyBudget::default()).await;
    let started = Instant::now();
    let error = client.call(&["PING"]).await.expect_err("too deep");
    within_deadline(started);
    assert!(matches!(error, ClientError::Decode(_)), "{error}");
}

#[tokio::test]
async fn a_peer_that_never_closes_ends_expect_close_at_its_limit() {
    let addr = peer(Peer::Floods(b"", b"+x\r\n")).await;
    let mut client = client(
        addr,
        Dialect::Resp2,
        ReplyBudget {
            max_bytes: 1024 * 1024,
            ..ReplyBudget::default()
        },
    )
    .await;
    let started = Instant::now();
    let error = client
        .expect_close(TIMEOUT)
        .await
        .expect_err("never closes");
    within_deadline(started);
    assert!(
        matches!(error, ClientError::Budget(_) | ClientError::Timeout(_)),
        "{error}"
    );
}
