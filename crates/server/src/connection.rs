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
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::blocking::BlockRequest;
use super::clients::{Client, Hub, Queued};
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
    let hub = Arc::clone(&server.hub);
    let client = Arc::new(Client::new(
        Session::next_client_id(),
        stream.peer_addr().ok(),
        stream.local_addr().ok(),
        i64::from(stream.as_raw_fd()),
    ));
    hub.register(client.clone());
    // Leaves the registry, its channels and its waits however the connection ends.
    let _registered = Registered {
        hub: hub.clone(),
        client: client.clone(),
    };
    let password = config.requirepass.as_ref().map(|p| Arc::from(p.as_bytes()));
    let shared = Arc::clone(&server);
    let mut session = Session::attach_as(server, config.flavor, password, client.clone());
    let request_dialect = match config.flavor {
        Flavor::Redis => Dialect::Resp2,
        Flavor::Seed => Dialect::Seed,
    };
    let mut decoder = Decoder::with_options(request_dialect, Role::Request, config.limits);
    // Both buffers start empty and unallocated: an idle connection costs its task and its
    // socket, not 32 KiB of buffers (10,000 idle clients would hold 320 MB).
    let mut input = BytesMut::new();
    let mut output = BytesMut::new();
    // The wait of a blocking command (BLPOP...), while it lasts: no further request is read.
    let mut blocked: Option<Box<BlockRequest>> = None;
    // Its deadline's timer, boxed: an idle connection does not carry a timer's room.
    let mut timer: Option<Pin<Box<tokio::time::Sleep>>> = None;
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
        while blocked.is_none() {
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
                    let _ = write_out(&mut stream, &output, &client).await;
                    return;
                }
            };
            // A script is running, not yet long enough to answer BUSY: the command waits
            // here, not on the server's gate (which would hold a runtime thread).
            while let Some(wait) = session.busy_in() {
                tokio::select! {
                    () = tokio::time::sleep(wait.min(std::time::Duration::from_millis(10))) => {}
                    _ = &mut shutdown => return,
                }
            }
            // CLIENT PAUSE: the command waits (its earlier replies go out first). The wait
            // for UNPAUSE is registered only while a pause holds (one atomic load otherwise),
            // then the pause is checked again, so an UNPAUSE in between is not missed.
            while session.paused_until(request_name(&request)).is_some() {
                let lifted = hub.pause.lifted();
                tokio::pin!(lifted);
                lifted.as_mut().enable();
                let Some(until) = session.paused_until(request_name(&request)) else {
                    break;
                };
                if write_out(&mut stream, &output, &client).await.is_err() {
                    return;
                }
                release_or_clear(&mut output);
                tokio::select! {
                    () = tokio::time::sleep_until(until.into()) => {}
                    () = &mut lifted => {}
                    _ = &mut shutdown => return,
                }
                session.set_batch_time(Some(super::db::now_ms()));
            }
            let reply = run(&mut session, request);
            for frame in session.take_before_reply() {
                encode_into(&frame, session.dialect(), &mut output);
            }
            // What the command pushed to this very client (its own SUBSCRIBE confirmations,
            // a message it published to itself) goes out before its reply, as in Redis.
            while client.has_pending() {
                drain_pushes(
                    &client,
                    session.dialect(),
                    config.output_batch_limit,
                    &mut output,
                );
                if output.len() >= config.output_batch_limit {
                    if write_out(&mut stream, &output, &client).await.is_err() {
                        return;
                    }
                    release_or_clear(&mut output);
                }
            }
            if session.closes_without_reply() {
                // SHUTDOWN: the replies before it go out, its own never does.
                let _ = write_out(&mut stream, &output, &client).await;
                let _ = stream.shutdown().await;
                return;
            }
            if let Some(start) = session.take_replica_start() {
                // SYNC: the replies before it, the snapshot, then only the stream. The
                // snapshot is encoded here, off the server's gate and off the runtime's
                // workers; what changes meanwhile waits in the replica's outbox.
                let _attached = Attached {
                    server: Arc::clone(&shared),
                    id: client.id,
                };
                let Ok(snapshot) = tokio::task::spawn_blocking(move || start.encode()).await else {
                    return;
                };
                output.extend_from_slice(&snapshot);
                drop(snapshot);
                serve_replica(stream, &client, output, config.output_batch_limit, shutdown).await;
                return;
            }
            match session.take_block() {
                None => {
                    // CLIENT REPLY OFF/SKIP silences replies, not pushes: a (un)subscribe
                    // confirmation still goes out, as Redis sends what it writes while
                    // pushing whatever the reply mode.
                    if !session.reply_suppressed() || matches!(reply, Frame::Push(_)) {
                        encode_into(&reply, session.dialect(), &mut output);
                    }
                    for frame in session.take_after_reply() {
                        if !session.reply_suppressed() {
                            encode_into(&frame, session.dialect(), &mut output);
                        }
                    }
                    // The client's invalidations of its own changes follow its reply.
                    crate::tracking::send_deferred(&hub, &client);
                }
                Some(wait) => match start_wait(&mut session, wait) {
                    Ok(reply) => {
                        encode_into(&reply, session.dialect(), &mut output);
                        for frame in session.take_after_reply() {
                            encode_into(&frame, session.dialect(), &mut output);
                        }
                        crate::tracking::send_deferred(&hub, &client);
                    }
                    Err(wait) => blocked = Some(wait),
                },
            }
            if session.should_close() || client.is_killed() {
                let _ = write_out(&mut stream, &output, &client).await;
                let _ = stream.shutdown().await;
                return;
            }
            if output.len() >= config.output_batch_limit {
                if write_out(&mut stream, &output, &client).await.is_err() {
                    return;
                }
                release_or_clear(&mut output);
                // A client that is slow to read can hold this write for any length of time.
                session.set_batch_time(Some(super::db::now_ms()));
            }
        }
        // Every command read so far has run: BCAST invalidations go out now, batched as
        // Redis sends them before its event loop sleeps.
        crate::tracking::flush_broadcasts(&shared);
        // Pushes from other clients (messages, invalidations), in the order they came.
        drain_pushes(
            &client,
            session.dialect(),
            config.output_batch_limit,
            &mut output,
        );
        if !output.is_empty() {
            if write_out(&mut stream, &output, &client).await.is_err() {
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
        let deadline = blocked
            .as_ref()
            .and_then(|b| b.deadline)
            .map(tokio::time::Instant::from_std);
        match deadline {
            Some(at) if timer.as_ref().is_none_or(|t| t.deadline() != at) => {
                timer = Some(Box::pin(tokio::time::sleep_until(at)));
            }
            Some(_) => {}
            None => timer = None,
        }
        let mut timed_out = false;
        // `biased`: a wake for bytes reads them without polling the shutdown wait, whose
        // every poll locks the one waiter list all connections share (under thousands of
        // slow-loris clients that lock was taken per byte). A wake-up (a push for this
        // client, a key it waits on, CLIENT UNBLOCK or KILL) is a `Notify`: no polling.
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
        // Redis's `clientsCronHandleTimeout` does; not one that is blocked or subscribed,
        // which Redis exempts too.
        let idle = match session.idle_timeout_secs() {
            0 => None,
            _ if blocked.is_some() || client.is_subscribed() => None,
            secs => Some(std::time::Duration::from_secs(secs)),
        };
        tokio::select! {
            biased;
            read = read_available(&mut stream, &mut input) => match read {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            },
            () = std::future::ready(()), if client.has_pending() => {}
            () = client.woken() => {}
            () = wait_timer(&mut timer), if timer.is_some() => timed_out = true,
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
        if client.is_killed() {
            return;
        }
        if let Some(wait) = blocked.take() {
            session.set_batch_time(Some(super::db::now_ms()));
            match finish_wait(&mut session, wait, timed_out) {
                Ok(Some(reply)) => encode_into(&reply, session.dialect(), &mut output),
                Ok(None) => {}
                Err(wait) => blocked = Some(wait),
            }
        }
    }
}

/// Takes a client that has gone out of the hub (its registration, channels and waits).
struct Registered {
    hub: Arc<Hub>,
    client: Arc<Client>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.hub.unregister(&self.client);
    }
}

/// Detaches a replica from the stream however its connection ends.
struct Attached {
    server: Arc<ServerState>,
    id: u64,
}

impl Drop for Attached {
    fn drop(&mut self) {
        self.server.replication.detach(self.id);
    }
}

/// A connection that sent SYNC: from now on it only carries the replication stream, which
/// arrives in its outbox (see [`crate::replication`]). What the replica sends (REPLCONF ACK,
/// say) is read and dropped: it is read only to notice the replica leave.
async fn serve_replica(
    mut stream: TcpStream,
    client: &Client,
    mut output: BytesMut,
    budget: usize,
    mut shutdown: Pin<&mut impl std::future::Future>,
) {
    let mut ignored = BytesMut::new();
    loop {
        drain_pushes(client, Dialect::Resp2, budget, &mut output);
        if !output.is_empty() {
            if write_out(&mut stream, &output, client).await.is_err() {
                return;
            }
            release_or_clear(&mut output);
        }
        if client.is_killed() {
            return;
        }
        tokio::select! {
            biased;
            read = read_available(&mut stream, &mut ignored) => match read {
                Ok(0) | Err(_) => return,
                Ok(_) => ignored = BytesMut::new(),
            },
            () = std::future::ready(()), if client.has_pending() => {}
            () = client.woken() => {}
            _ = &mut shutdown => return,
        }
    }
}

async fn wait_timer(timer: &mut Option<Pin<Box<tokio::time::Sleep>>>) {
    match timer {
        Some(sleep) => sleep.as_mut().await,
        None => std::future::pending().await,
    }
}

/// Moves up to about `budget` bytes of pushed frames into `output`, in `dialect`.
fn drain_pushes(client: &Client, dialect: Dialect, budget: usize, output: &mut BytesMut) {
    client.drain(budget, |queued| match queued {
        Queued::Frame(frame) => encode_into(&frame, dialect, output),
        Queued::Encoded(push) => push.write(dialect, output),
    });
}

/// Writes `output` whole, unless the client is killed meanwhile (a subscriber past its
/// output limit that does not read would otherwise hold the write forever).
///
/// Written piece by piece (`write` is cancel-safe: it writes all it reports or nothing), so a
/// wake-up between pieces costs nothing; one that was not a kill is handed on to the main
/// loop once the write is done.
async fn write_out(stream: &mut TcpStream, output: &[u8], client: &Client) -> io::Result<()> {
    let mut written = 0;
    let mut woken = false;
    while let Some(rest) = output.get(written..).filter(|r| !r.is_empty()) {
        tokio::select! {
            biased;
            n = stream.write(rest) => match n? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => written += n,
            },
            () = client.woken() => {
                if client.is_killed() {
                    return Err(io::ErrorKind::ConnectionAborted.into());
                }
                woken = true;
            }
        }
    }
    if woken {
        client.rewake();
    }
    Ok(())
}

/// A blocking command asked to wait: queue the client on its keys, retrying once under the
/// queues' lock (a push between the command's look and the queueing must not be missed).
/// `Ok` is the reply when it could be served; `Err` gives the wait back while it lasts.
fn start_wait(session: &mut Session, wait: Box<BlockRequest>) -> Result<Frame, Box<BlockRequest>> {
    let (hub, client) = (session.hub().clone(), session.client().clone());
    let state = session.state().clone();
    let server = Arc::clone(session.server());
    let served = {
        // The gate before the queues' lock, always: the retry runs under both.
        let _gate = server.shared();
        hub.blocking
            .wait(&client, &state, &wait, &hub, || session.retry(&wait.argv))
    };
    // The retry may itself have readied a key (BLMOVE's destination).
    session.serve_blocked();
    served.ok_or(wait)
}

/// After a wake-up while blocked: `Ok(None)` when another client's command served the wait
/// (or CLIENT UNBLOCK ended it): the reply is in the outbox; `Ok(Some)` the timeout reply;
/// `Err` gives the wait back while it lasts.
fn finish_wait(
    session: &mut Session,
    wait: Box<BlockRequest>,
    timed_out: bool,
) -> Result<Option<Frame>, Box<BlockRequest>> {
    let (hub, client) = (session.hub(), session.client());
    if !hub.blocking.is_blocked(client) {
        return Ok(None);
    }
    if timed_out && hub.blocking.remove(client, hub) {
        crate::commands::dispatch::count_timed_out(
            session.state(),
            &wait.argv,
            &wait.timeout_reply,
        );
        return Ok(Some(wait.timeout_reply));
    }
    Err(wait)
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

/// The command name of a request, when it has one.
fn request_name(request: &Request) -> Option<&[u8]> {
    match request {
        Request::Args(args) => args.get(0),
        Request::Frame(Frame::Array(items)) => {
            items.first().and_then(|f| f.as_bytes()).map(|b| b.as_ref())
        }
        Request::Frame(Frame::Inline(args)) => args.first().map(|a| a.as_ref()),
        Request::Frame(_) => None,
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
