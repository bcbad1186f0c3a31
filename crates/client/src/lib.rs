#![deny(missing_docs)]
//! A small async client over the codec: connect, send a frame or raw bytes, read replies with
//! their exact bytes. Shared by the conformance runner, the network fuzzer and `respect cli`.
//!
//! A server cannot hold it hostage ([`budget`]): every connect, write and read has a deadline
//! checked between reads and frames, and a reply larger than its [`ReplyBudget`] ends the read
//! with [`ClientError::Budget`] and drops the connection.
//!
//! It reads with its own loop rather than `Framed<_, respect_resp::RespCodec>` because the
//! harness needs each reply's exact bytes ([`Reply::raw`]), byte-level control of how requests
//! are delivered (whole, pipelined, one byte at a time), and the clock checked between frames;
//! a `Framed` stream yields decoded frames only and waits inside `next()`.

pub mod budget;

use std::io;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio::time::Instant;

use respect_resp::{encode_into, DecodeError, Decoder, Dialect, ErrorKind, Frame, Limits, Role};

pub use budget::{
    ClientOptions, Overrun, ReplyBudget, DEFAULT_IO_TIMEOUT, DEFAULT_MAX_REPLY_BYTES,
    DEFAULT_MAX_REPLY_ELEMENTS,
};

/// How a read from the server failed.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The socket failed (a write that missed its deadline is an `io::ErrorKind::TimedOut`).
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// The server sent bytes that are not a valid reply in the client's dialect.
    #[error("server sent malformed data: {0}")]
    Decode(#[from] DecodeError),
    /// Nothing complete arrived in time.
    #[error("no complete reply within {0:?}")]
    Timeout(Duration),
    /// The reply outgrew the budget; the connection has been dropped.
    #[error("{0}; connection dropped")]
    Budget(Overrun),
    /// The server closed the connection (`partial` bytes of an unfinished reply were pending).
    #[error("connection closed by the server{}", if *partial > 0 { format!(" inside a reply ({partial} bytes pending)") } else { String::new() })]
    Closed {
        /// Bytes of an incomplete reply received before the close.
        partial: usize,
    },
}

/// One reply and the bytes it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The decoded frame.
    pub frame: Frame,
    /// Its exact bytes on the wire.
    pub raw: Bytes,
}

/// An async connection to a RESP server.
#[derive(Debug)]
pub struct Client {
    /// `None` once dropped after a budget overrun: the stream is out of sync for good.
    stream: Option<TcpStream>,
    decoder: Decoder,
    buf: BytesMut,
    dialect: Dialect,
    options: ClientOptions,
}

/// Read size: large enough for pipelined replies, small enough to stay cheap per connection
/// and to let the deadline and budget be checked often.
const READ_CHUNK: usize = 16 * 1024;

/// The error of a write that missed its deadline.
fn write_timeout(limit: Duration) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("the server did not take the request within {limit:?} (it is not reading)"),
    )
}

/// The error of any use of a connection dropped after a budget overrun.
fn dropped() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "the connection was dropped after a reply outgrew its budget",
    )
}

/// Decoder limits no looser than the budget, so that a declared length or count over the budget
/// is refused as soon as its header is read, before a byte of it is buffered.
fn limits_within(budget: &ReplyBudget) -> Limits {
    let defaults = Limits::default();
    Limits {
        max_bulk_len: defaults.max_bulk_len.min(budget.max_bytes),
        max_aggregate_len: defaults.max_aggregate_len.min(budget.max_elements),
        ..defaults
    }
}

impl Client {
    /// Connects to `addr`, reading replies in `dialect` with default [`ClientOptions`].
    pub async fn connect(addr: impl ToSocketAddrs, dialect: Dialect) -> io::Result<Client> {
        Client::connect_with(addr, dialect, ClientOptions::default()).await
    }

    /// Connects to `addr` within `options.io_timeout`.
    pub async fn connect_with(
        addr: impl ToSocketAddrs,
        dialect: Dialect,
        options: ClientOptions,
    ) -> io::Result<Client> {
        let stream = tokio::time::timeout(options.io_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("connecting timed out after {:?}", options.io_timeout),
                )
            })??;
        stream.set_nodelay(true)?;
        Ok(Client::from_stream_with(stream, dialect, options))
    }

    /// Wraps an established stream with decoder `limits` (narrowed to the default budget).
    pub fn from_stream(stream: TcpStream, dialect: Dialect, limits: Limits) -> Client {
        let mut client = Client::from_stream_with(stream, dialect, ClientOptions::default());
        let within = client.decoder.limits().to_owned();
        let narrowed = Limits {
            max_bulk_len: limits.max_bulk_len.min(within.max_bulk_len),
            max_aggregate_len: limits.max_aggregate_len.min(within.max_aggregate_len),
            ..limits
        };
        client.decoder = Decoder::with_options(dialect, Role::Reply, narrowed);
        client
    }

    /// Wraps an established stream with `options`.
    pub fn from_stream_with(stream: TcpStream, dialect: Dialect, options: ClientOptions) -> Client {
        Client {
            stream: Some(stream),
            decoder: Decoder::with_options(dialect, Role::Reply, limits_within(&options.budget)),
            buf: BytesMut::with_capacity(READ_CHUNK),
            dialect,
            options,
        }
    }

    /// The options this client runs with.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// The dialect replies are read in (and frames are written in).
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Switches dialect, e.g. to RESP3 after a successful `HELLO 3`.
    pub fn set_dialect(&mut self, dialect: Dialect) {
        self.dialect = dialect;
        self.decoder.set_dialect(dialect);
    }

    fn stream(&mut self) -> io::Result<&mut TcpStream> {
        self.stream.as_mut().ok_or_else(dropped)
    }

    /// Writes one frame, encoded in the client's dialect, within the write deadline.
    pub async fn send(&mut self, frame: &Frame) -> io::Result<()> {
        let mut out = BytesMut::new();
        encode_into(frame, self.dialect, &mut out);
        self.send_raw(&out).await
    }

    /// Writes bytes exactly as given, within the write deadline: a server that stops reading
    /// cannot block the client longer than that.
    pub async fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        let limit = self.options.io_timeout;
        let stream = self.stream()?;
        match tokio::time::timeout(limit, stream.write_all(bytes)).await {
            Ok(result) => result,
            Err(_) => Err(write_timeout(limit)),
        }
    }

    /// Reads the next reply within the client's io timeout.
    pub async fn read_reply(&mut self) -> Result<Reply, ClientError> {
        self.read_reply_timeout(self.options.io_timeout).await
    }

    /// Reads the next reply, giving up after `limit` whatever the server does: the clock is
    /// checked before every decode and every read, so a peer streaming without pause is cut off
    /// as surely as a silent one. A reply over the budget drops the connection.
    pub async fn read_reply_timeout(&mut self, limit: Duration) -> Result<Reply, ClientError> {
        let deadline = Instant::now() + limit;
        loop {
            match self.decoder.decode_with_raw(&mut self.buf) {
                Ok(Some((frame, raw))) => return Ok(Reply { frame, raw }),
                Ok(None) => {}
                Err(e) => {
                    if let Some(overrun) = self.declared_overrun(&e) {
                        return Err(self.overrun(overrun));
                    }
                    return Err(ClientError::Decode(e));
                }
            }
            if let Some(overrun) = self.pending_overrun() {
                return Err(self.overrun(overrun));
            }
            if Instant::now() >= deadline {
                return Err(ClientError::Timeout(limit));
            }
            self.buf.reserve(READ_CHUNK);
            let stream = self.stream.as_mut().ok_or_else(dropped)?;
            match tokio::time::timeout_at(deadline, stream.read_buf(&mut self.buf)).await {
                Ok(Ok(0)) => {
                    return Err(ClientError::Closed {
                        partial: self.buf.len(),
                    })
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(ClientError::Io(e)),
                Err(_) => return Err(ClientError::Timeout(limit)),
            }
        }
    }

    /// The budget an unfinished reply has already broken, if any.
    fn pending_overrun(&self) -> Option<Overrun> {
        let budget = self.options.budget;
        if self.buf.len() > budget.max_bytes {
            return Some(Overrun::Bytes {
                seen: self.buf.len() as u64,
                max: budget.max_bytes,
            });
        }
        let items = self.decoder.pending_items();
        (items > budget.max_elements).then_some(Overrun::Elements {
            seen: items as u64,
            max: budget.max_elements,
        })
    }

    /// Whether a decode error is a declared length or count over the budget (the decoder's
    /// limits are narrowed to it): then it is the budget, not malformed data, that refused it.
    fn declared_overrun(&self, error: &DecodeError) -> Option<Overrun> {
        let elements = match error.kind {
            ErrorKind::InvalidBulkLength => false,
            ErrorKind::InvalidMultibulkLength => true,
            _ => return None,
        };
        let budget = self.options.budget;
        let items = self.decoder.pending_items();
        if elements && items >= budget.max_elements {
            // A streamed aggregate's items are counted against the same limit as they come.
            return Some(Overrun::Elements {
                seen: items as u64 + 1,
                max: budget.max_elements,
            });
        }
        let at = usize::try_from(error.offset.checked_sub(self.decoder.offset())?).ok()?;
        let head = self.buf.get(..=at.min(self.buf.len().checked_sub(1)?))?;
        let start = head.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let line = self.buf.get(start..)?;
        let end = line.iter().position(|&b| b == b'\r')?;
        let declared: u64 = std::str::from_utf8(line.get(1..end)?).ok()?.parse().ok()?;
        if line.first() == Some(&b';') && !elements {
            // A valid chunk length refused: the streamed string's total passed the budget.
            return Some(Overrun::Bytes {
                seen: self.buf.len() as u64 + declared,
                max: budget.max_bytes,
            });
        }
        match elements {
            true if declared > budget.max_elements as u64 => Some(Overrun::Elements {
                seen: declared,
                max: budget.max_elements,
            }),
            false if declared > budget.max_bytes as u64 => Some(Overrun::Bytes {
                seen: declared,
                max: budget.max_bytes,
            }),
            _ => None,
        }
    }

    /// Drops the connection and what it buffered, and says why.
    fn overrun(&mut self, overrun: Overrun) -> ClientError {
        self.stream = None;
        self.buf = BytesMut::new();
        self.decoder.reset();
        ClientError::Budget(overrun)
    }

    /// Sends a command (an array of bulk strings) and reads its reply, within the io timeout.
    pub async fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Frame, ClientError> {
        self.send(&Frame::command(args)).await?;
        Ok(self.read_reply().await?.frame)
    }

    /// Waits up to `limit` for the server to close the connection. `Ok(bytes)` with whatever
    /// arrived before the close; `Err(Timeout)` if it stayed open; `Err(Budget)` if it sent
    /// more than the reply budget meanwhile.
    pub async fn expect_close(&mut self, limit: Duration) -> Result<Bytes, ClientError> {
        let deadline = Instant::now() + limit;
        loop {
            if self.buf.len() > self.options.budget.max_bytes {
                let seen = self.buf.len() as u64;
                let max = self.options.budget.max_bytes;
                return Err(self.overrun(Overrun::Bytes { seen, max }));
            }
            if Instant::now() >= deadline {
                return Err(ClientError::Timeout(limit));
            }
            self.buf.reserve(READ_CHUNK);
            let stream = self.stream.as_mut().ok_or_else(dropped)?;
            match tokio::time::timeout_at(deadline, stream.read_buf(&mut self.buf)).await {
                Ok(Ok(0)) => return Ok(self.buf.split().freeze()),
                Ok(Ok(_)) => continue,
                // A reset is a close too, as far as a peer can tell.
                Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionReset => {
                    return Ok(self.buf.split().freeze())
                }
                Ok(Err(e)) => return Err(ClientError::Io(e)),
                Err(_) => return Err(ClientError::Timeout(limit)),
            }
        }
    }

    /// Bytes received but not yet part of a complete reply.
    pub fn pending_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Closes the write half, telling the server no more requests come (within the write
    /// deadline).
    pub async fn shutdown(&mut self) -> io::Result<()> {
        let limit = self.options.io_timeout;
        let stream = self.stream()?;
        match tokio::time::timeout(limit, stream.shutdown()).await {
            Ok(result) => result,
            Err(_) => Err(write_timeout(limit)),
        }
    }
}
