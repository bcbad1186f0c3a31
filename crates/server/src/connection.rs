//! One client connection: its read buffer and decoder, its write batching. It knows nothing
//! of what commands mean; it hands requests to a [`Session`] and writes what comes back.
//!
//! Every complete request in the read buffer is run before anything is written, and the
//! replies go out in one write: pipelined clients get one syscall per batch, not per reply
//! (flushing per reply is what collapses mini-redis under pipelining).
//!
//! Why a hand loop and not `Framed<TcpStream, respect_resp::RespCodec>`: requests are decoded
//! into a borrowed view ([`respect_resp::Decoder::decode_request`]), which allocates nothing
//! per argument (23.8 M small SETs/s against 9.8 M/s decoded to owned frames in the codec
//! bench, 2.4x), and the replies of a whole read are batched into one write; a `Framed` stream
//! yields owned frames one at a time and flushes per `send`. The loop also owns the buffers'
//! lifetimes (lazy, freed after large requests), which `Framed` keeps at their high-water mark.

use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::state::ServerState;
use super::{Flavor, ServerConfig, Session};
use respect_resp::{
    encode_into, write_error, Decoder, Dialect, Frame, Limits, Request, Role, INLINE_ARGS,
};

/// Most bytes taken from the socket per read, then processed before the next read: Redis's
/// `PROTO_IOBUF_LEN`. Matching it matters for the bytes on the wire, not only for speed:
/// Redis applies its 64 KiB inline limit only to a query buffer with no newline yet, so how
/// much one read may add decides whether a long inline line is run or refused.
pub(crate) const READ_CHUNK: usize = 16 * 1024;

/// Largest output buffer a connection keeps between batches. A larger one (a big reply went
/// out) is freed once written rather than kept at its high-water mark: thousands of
/// connections that each once read a megabyte must not keep a megabyte each. (The read
/// buffer is freed whenever it is empty; see `serve`.)
pub(crate) const RETAINED_BUFFER_CAPACITY: usize = 4 * 1024;

pub(super) async fn serve(
    mut stream: TcpStream,
    server: Arc<ServerState>,
    config: Arc<ServerConfig>,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let password = config.requirepass.as_ref().map(|p| Arc::from(p.as_bytes()));
    let shared = Arc::clone(&server);
    let mut session = Session::attach(server, config.flavor, password);
    let request_dialect = match config.flavor {
        Flavor::Redis => Dialect::Resp2,
        Flavor::Seed => Dialect::Seed,
    };
    let mut decoder = Decoder::with_options(request_dialect, Role::Request, config.limits);
    // Both buffers start empty and unallocated: an idle connection costs its task and its
    // socket, not 32 KiB of buffers (10,000 idle clients would hold 320 MB).
    let mut input = BytesMut::new();
    let mut output = BytesMut::new();
    // One wait for shutdown for the connection's whole life, not a new one per read.
    let shutdown = shutdown.changed();
    tokio::pin!(shutdown);
    // Told of a CONFIG SET of `timeout`, so an idle client re-arms its timer (no box: an
    // idle connection's memory is budgeted).
    let mut timeout_changes = shared.settings.timeout_changes();
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
            for frame in session.take_before_reply() {
                encode_into(&frame, session.dialect(), &mut output);
            }
            if !session.reply_suppressed() {
                encode_into(&reply, session.dialect(), &mut output);
            }
            if session.should_close() {
                let _ = stream.write_all(&output).await;
                let _ = stream.shutdown().await;
                return;
            }
            if output.len() >= config.output_batch_limit {
                if stream.write_all(&output).await.is_err() {
                    return;
                }
                release_or_clear(&mut output);
                // A client that is slow to read can hold this write for any length of time.
                session.set_batch_time(Some(super::db::now_ms()));
            }
        }
        if !output.is_empty() {
            if stream.write_all(&output).await.is_err() {
                return;
            }
            release_or_clear(&mut output);
        }
        if input.is_empty() {
            // Always a fresh buffer: an empty view left after the decoder split requests off
            // can still pin the whole allocation they came in (a megabyte value's, say).
            input = BytesMut::new();
        }
        let query_buffer_limit = shared.settings.query_buffer_limit.load(Ordering::Relaxed);
        if input.len() as u64 > query_buffer_limit {
            tracing::warn!(
                "closing client that reached the query buffer limit ({} bytes)",
                input.len()
            );
            return;
        }
        // `biased`: a wake for bytes reads them without polling the shutdown wait, whose
        // every poll locks the one waiter list all connections share (under thousands of
        // slow-loris clients that lock was taken per byte).
        // `proto-max-bulk-len` as CONFIG SET left it, applied between frames.
        let max_bulk = shared.settings.proto_max_bulk_len.load(Ordering::Relaxed);
        let max_bulk = usize::try_from(max_bulk).unwrap_or(usize::MAX);
        if max_bulk != decoder.limits().max_bulk_len && !decoder.is_mid_frame() {
            let limits = Limits {
                max_bulk_len: max_bulk,
                ..*decoder.limits()
            };
            decoder = Decoder::with_options(request_dialect, Role::Request, limits);
        }
        // `timeout`: an idle client (nothing arrives for that many seconds) is closed, as
        // Redis's `clientsCronHandleTimeout` does.
        let idle = match session.idle_timeout_secs() {
            0 => None,
            secs => Some(std::time::Duration::from_secs(secs)),
        };
        tokio::select! {
            biased;
            read = read_available(&mut stream, &mut input) => match read {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            },
            _ = &mut shutdown => return,
            _ = idle_timer(idle) => return,
            changed = timeout_changes.changed() => {
                // The timeout changed while this client waited: wait again under the new one.
                // (An error means the server is gone; its shutdown ends this connection.)
                if changed.is_err() {
                    let _ = (&mut shutdown).await;
                    return;
                }
            }
        }
    }
}

/// Reads at most [`READ_CHUNK`] bytes and appends them to `input`, so the buffer grows by
/// what arrived, never by what a header declares, and a short request costs an allocation
/// of its own size. The chunk lives on the thread's stack for one poll only, never in the
/// connection's task: an idle connection owns no read buffer at all. Reading through
/// `poll_read` (not `try_read`) lets tokio clear the socket's readiness after a short read,
/// which saves the second, empty `read` per wake-up a slow client would otherwise cost.
///
/// A frame already in progress (a large value arriving) is read straight into the buffer's
/// spare room instead, at most [`READ_CHUNK`] at a time as well: going through the stack chunk
/// there would copy every byte of a large request twice.
async fn read_available(stream: &mut TcpStream, input: &mut BytesMut) -> io::Result<usize> {
    if !input.is_empty() {
        input.reserve(READ_CHUNK);
        return (&mut *stream).take(READ_CHUNK as u64).read_buf(input).await;
    }
    std::future::poll_fn(|cx| {
        let mut chunk = [MaybeUninit::<u8>::uninit(); READ_CHUNK];
        let mut buf = ReadBuf::uninit(&mut chunk);
        match Pin::new(&mut *stream).poll_read(cx, &mut buf) {
            Poll::Ready(Ok(())) => {
                input.extend_from_slice(buf.filled());
                Poll::Ready(Ok(buf.filled().len()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// Completes after `idle`, never when `None`.
async fn idle_timer(idle: Option<std::time::Duration>) {
    match idle {
        Some(after) => tokio::time::sleep(after).await,
        None => std::future::pending().await,
    }
}

/// Empties the output buffer once written; frees it instead if it grew past
/// [`RETAINED_BUFFER_CAPACITY`] (see there).
fn release_or_clear(buffer: &mut BytesMut) {
    if buffer.capacity() > RETAINED_BUFFER_CAPACITY {
        *buffer = BytesMut::new();
    } else {
        buffer.clear();
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
