//! Pub/sub fan-out load: one publisher, N subscribers on one channel, against any RESP server
//! (issue 11's figure; `benches/server_vs_redis.sh` runs it against redis-server and ours in
//! the same run). redis-benchmark cannot subscribe, hence this tool.
//!
//! Every subscriber connects and subscribes to `bench:fanout`; then the publisher sends
//! `--messages` PUBLISHes in batches of `--window` (one write per batch, then the batch's
//! replies, as redis-benchmark's `-P`). Each payload carries its send time, so every
//! subscriber measures publish-to-receive latency of every message it gets.
//!
//! Prints one line: `delivered/s` (messages received by all subscribers together, divided by
//! the time from the first publish to the last receive), `publish/s`, and the latency p50, p99
//! and max over every (message, subscriber) pair. Exits non-zero if a subscriber missed a
//! message or a PUBLISH did not reach every subscriber.
//!
//! ```text
//! cargo run --release -p respect-client --example pubsub_fanout -- \
//!     127.0.0.1:6379 [subscribers=50] [messages=100000] [window=1] [payload=32]
//! ```

use std::time::{Duration, Instant};

use bytes::{BufMut, BytesMut};
use respect_client::Client;
use respect_resp::{Dialect, Frame};

/// The channel every subscriber listens on.
const CHANNEL: &str = "bench:fanout";
/// How long a subscriber waits for its next message before it counts the rest as lost.
const RECEIVE_TIMEOUT: Duration = Duration::from_secs(30);
/// The send time's width in the payload (nanoseconds since the run's start, zero-padded).
const STAMP_WIDTH: usize = 20;

/// What one subscriber saw.
struct Received {
    /// Publish-to-receive latency of every message, in nanoseconds.
    latencies: Vec<u64>,
    /// When its last message arrived.
    last: Instant,
}

/// The run's parameters, from the positional arguments.
struct Options {
    addr: String,
    subscribers: usize,
    messages: usize,
    window: usize,
    payload: usize,
}

fn parse_options() -> Result<Options, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: usize| -> Result<usize, String> {
        match args.get(i) {
            None => Ok(default),
            Some(text) => text
                .parse()
                .map_err(|_| format!("argument {}: not a number: {text}", i + 1)),
        }
    };
    let addr = args
        .first()
        .cloned()
        .ok_or("usage: pubsub_fanout HOST:PORT [subscribers] [messages] [window] [payload]")?;
    let options = Options {
        addr,
        subscribers: number(1, 50)?,
        messages: number(2, 100_000)?,
        window: number(3, 1)?.max(1),
        payload: number(4, 32)?.max(STAMP_WIDTH),
    };
    Ok(options)
}

/// Connects one subscriber and subscribes it to [`CHANNEL`] (each step within the client's
/// io timeout).
async fn subscribe(addr: &str) -> Result<Client, String> {
    let mut client = Client::connect(addr, Dialect::Resp2)
        .await
        .map_err(|e| format!("subscriber connect: {e}"))?;
    let confirmed = client
        .call(&["SUBSCRIBE", CHANNEL])
        .await
        .map_err(|e| format!("SUBSCRIBE: {e}"))?;
    if confirmed.is_error() {
        return Err(format!("SUBSCRIBE: {confirmed}"));
    }
    Ok(client)
}

/// Reads `messages` messages on a subscribed `client` and times each.
async fn receive(mut client: Client, messages: usize, start: Instant) -> Result<Received, String> {
    let mut latencies = Vec::with_capacity(messages);
    let mut last = Instant::now();
    while latencies.len() < messages {
        let reply = client
            .read_reply_timeout(RECEIVE_TIMEOUT)
            .await
            .map_err(|e| format!("after {} messages: {e}", latencies.len()))?;
        last = Instant::now();
        let sent = match &reply.frame {
            Frame::Array(items) => match items.as_slice() {
                [Frame::Bulk(kind), _, Frame::Bulk(payload)] if &kind[..] == b"message" => {
                    stamp_of(payload)
                }
                _ => None,
            },
            _ => None,
        }
        .ok_or_else(|| format!("unexpected frame: {:?}", reply.frame))?;
        let now = u64::try_from(last.duration_since(start).as_nanos()).unwrap_or(u64::MAX);
        latencies.push(now.saturating_sub(sent));
    }
    Ok(Received { latencies, last })
}

/// The send time a payload starts with.
fn stamp_of(payload: &[u8]) -> Option<u64> {
    std::str::from_utf8(payload.get(..STAMP_WIDTH)?)
        .ok()?
        .parse()
        .ok()
}

/// Appends one `PUBLISH bench:fanout <stamp><padding>` to `out`.
fn push_publish(out: &mut BytesMut, stamp: u64, payload: usize) {
    let body = format!(
        "{stamp:0width$}{:pad$}",
        "",
        width = STAMP_WIDTH,
        pad = payload - STAMP_WIDTH
    );
    out.put_slice(
        format!(
            "*3\r\n$7\r\nPUBLISH\r\n${}\r\n{CHANNEL}\r\n${}\r\n{body}\r\n",
            CHANNEL.len(),
            body.len()
        )
        .as_bytes(),
    );
}

/// Publishes every message in batches of `window`; returns the publish time and how many
/// PUBLISH replies were not the number of subscribers.
async fn publisher(options: &Options, start: Instant) -> Result<(Duration, usize), String> {
    let mut client = Client::connect(&options.addr, Dialect::Resp2)
        .await
        .map_err(|e| format!("publisher connect: {e}"))?;
    let expected = i64::try_from(options.subscribers).unwrap_or(i64::MAX);
    let mut short = 0;
    let mut sent = 0;
    let begin = Instant::now();
    let mut batch = BytesMut::new();
    while sent < options.messages {
        let count = options.window.min(options.messages - sent);
        batch.clear();
        for _ in 0..count {
            let stamp = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
            push_publish(&mut batch, stamp, options.payload);
        }
        client
            .send_raw(&batch)
            .await
            .map_err(|e| format!("PUBLISH: {e}"))?;
        for _ in 0..count {
            let reply = client
                .read_reply()
                .await
                .map_err(|e| format!("PUBLISH: {e}"))?;
            if reply.frame != Frame::Integer(expected) {
                short += 1;
            }
        }
        sent += count;
    }
    Ok((begin.elapsed(), short))
}

/// The value at quantile `q` of sorted nanoseconds, in microseconds.
fn quantile_us(sorted: &[u64], q: f64) -> f64 {
    let last = sorted.len().saturating_sub(1);
    let index = ((last as f64) * q).round() as usize;
    sorted
        .get(index.min(last))
        .map_or(0.0, |&ns| ns as f64 / 1000.0)
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let options = parse_options()?;
    let start = Instant::now();
    // Every subscriber is subscribed before the first PUBLISH; one that cannot connect or
    // subscribe ends the run with its error (a barrier the others wait at would wait forever).
    let mut subscribed = Vec::with_capacity(options.subscribers);
    for _ in 0..options.subscribers {
        subscribed.push(subscribe(&options.addr).await?);
    }
    let tasks: Vec<_> = subscribed
        .into_iter()
        .map(|client| tokio::spawn(receive(client, options.messages, start)))
        .collect();
    let first_publish = Instant::now();
    let (publish_time, short) = publisher(&options, start).await?;
    let mut latencies = Vec::with_capacity(options.subscribers.saturating_mul(options.messages));
    let mut last = first_publish;
    for task in tasks {
        let received = task.await.map_err(|e| format!("subscriber task: {e}"))??;
        latencies.extend_from_slice(&received.latencies);
        last = last.max(received.last);
    }
    latencies.sort_unstable();
    let elapsed = last.duration_since(first_publish).as_secs_f64();
    println!(
        "subscribers={} messages={} window={} payload={} seconds={:.2} delivered/s={:.0} publish/s={:.0} p50_us={:.0} p99_us={:.0} max_us={:.0}",
        options.subscribers,
        options.messages,
        options.window,
        options.payload,
        elapsed,
        latencies.len() as f64 / elapsed,
        options.messages as f64 / publish_time.as_secs_f64(),
        quantile_us(&latencies, 0.50),
        quantile_us(&latencies, 0.99),
        quantile_us(&latencies, 1.0),
    );
    if short > 0 {
        return Err(format!(
            "{short} PUBLISH replies counted fewer than {} subscribers",
            options.subscribers
        ));
    }
    Ok(())
}
