//! One client connection: its read buffer and decoder, its write batching. It knows nothing
//! of what commands mean; it hands requests to a [`Session`] and writes what comes back.
//!
//! Every complete request in the read buffer is run before anything is written, and the
//! replies go out in one write: pipelined clients get one syscall per batch, not per reply
//! (flushing per reply is what collapses mini-redis under pipelining).

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::{Db, Flavor, ServerConfig, Session, Stats};
use respect_resp::{encode_into, write_error, Decoder, Dialect, Frame, Request, Role, INLINE_ARGS};

/// Bytes asked of the socket per read.
const READ_CHUNK: usize = 16 * 1024;

pub(super) async fn serve(
    mut stream: TcpStream,
    db: Db,
    stats: Arc<Stats>,
    config: Arc<ServerConfig>,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let password = config.requirepass.as_ref().map(|p| Arc::from(p.as_bytes()));
    let mut session = Session::with_stats(db, config.flavor, password, stats);
    let request_dialect = match config.flavor {
        Flavor::Redis => Dialect::Resp2,
        Flavor::Seed => Dialect::Seed,
    };
    let mut decoder = Decoder::with_options(request_dialect, Role::Request, config.limits);
    let mut input = BytesMut::with_capacity(READ_CHUNK);
    let mut output = BytesMut::with_capacity(READ_CHUNK);
    // One wait for shutdown for the connection's whole life, not a new one per read.
    let shutdown = shutdown.changed();
    tokio::pin!(shutdown);
    loop {
        // Commands see the clock as of the batch's start, as Redis caches its time per
        // event-loop turn. Refreshed after every await, so a wait never makes it stale.
        session.set_batch_time(Some(super::db::now_ms()));
        loop {
            let decoded = decoder.decode_request(&mut input);
            let request = match decoded {
                Ok(Some(request)) => request,
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!("protocol error: {e}");
                    let text = match config.flavor {
                        Flavor::Redis => format!("ERR {}", e.redis_reply()),
                        Flavor::Seed => e.redis_reply(),
                    };
                    write_error(text.as_bytes(), &mut output);
                    let _ = stream.write_all(&output).await;
                    return;
                }
            };
            let reply = run(&mut session, request);
            encode_into(&reply, session.dialect(), &mut output);
            if session.should_close() {
                let _ = stream.write_all(&output).await;
                let _ = stream.shutdown().await;
                return;
            }
            if output.len() >= config.output_batch_limit {
                if stream.write_all(&output).await.is_err() {
                    return;
                }
                output.clear();
                // A client that is slow to read can hold this write for any length of time.
                session.set_batch_time(Some(super::db::now_ms()));
            }
        }
        if !output.is_empty() {
            if stream.write_all(&output).await.is_err() {
                return;
            }
            output.clear();
        }
        if input.len() > config.query_buffer_limit {
            tracing::warn!(
                "closing client that reached the query buffer limit ({} bytes)",
                input.len()
            );
            return;
        }
        input.reserve(READ_CHUNK);
        tokio::select! {
            read = stream.read_buf(&mut input) => match read {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            },
            _ = &mut shutdown => return,
        }
    }
}

/// Runs one request. A plain Redis command's arguments go to the session as a stack array.
///
/// Each argument is copied out of the read buffer rather than sliced from it: a stored key or
/// value that shared the buffer would keep the whole buffer (16 KiB or more, with whatever
/// else the client pipelined) alive for as long as the key lives, so a client could make the
/// server hold hundreds of times the memory it stored. Redis copies too. The codec stays
/// zero-copy; this is the server's choice, and the README's server benchmark includes it.
fn run(session: &mut Session, request: Request) -> Frame {
    match request {
        Request::Args(args) if args.len() <= INLINE_ARGS => {
            let mut argv: [Bytes; INLINE_ARGS] = Default::default();
            for (slot, arg) in argv.iter_mut().zip(args.iter()) {
                *slot = Bytes::copy_from_slice(arg);
            }
            session.execute_args(argv.get(..args.len()).unwrap_or_default())
        }
        Request::Args(args) => session.execute(args.to_frame().detached()),
        Request::Frame(frame) => session.execute(frame.detached()),
    }
}
