#![deny(missing_docs)]
//! A small async client over the codec: connect, send a frame or raw bytes, read replies with
//! their exact bytes. Shared by the conformance runner, the network fuzzer and `respect cli`.

use std::io;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, ToSocketAddrs};

use respect_resp::{encode_into, DecodeError, Decoder, Dialect, Frame, Limits, Role};

/// How a read from the server failed.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The socket failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// The server sent bytes that are not a valid reply in the client's dialect.
    #[error("server sent malformed data: {0}")]
    Decode(#[from] DecodeError),
    /// Nothing complete arrived in time.
    #[error("no complete reply within {0:?}")]
    Timeout(Duration),
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
    stream: TcpStream,
    decoder: Decoder,
    buf: BytesMut,
    dialect: Dialect,
}

/// Read size: large enough for pipelined replies, small enough to stay cheap per connection.
const READ_CHUNK: usize = 16 * 1024;

impl Client {
    /// Connects to `addr`, reading replies in `dialect` with default limits.
    pub async fn connect(addr: impl ToSocketAddrs, dialect: Dialect) -> io::Result<Client> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Client::from_stream(stream, dialect, Limits::default()))
    }

    /// Wraps an established stream.
    pub fn from_stream(stream: TcpStream, dialect: Dialect, limits: Limits) -> Client {
        Client {
            stream,
            decoder: Decoder::with_options(dialect, Role::Reply, limits),
            buf: BytesMut::with_capacity(READ_CHUNK),
            dialect,
        }
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

    /// Writes one frame, encoded in the client's dialect.
    pub async fn send(&mut self, frame: &Frame) -> io::Result<()> {
        let mut out = BytesMut::new();
        encode_into(frame, self.dialect, &mut out);
        self.stream.write_all(&out).await
    }

    /// Writes bytes exactly as given.
    pub async fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// Reads the next reply, waiting as long as it takes.
    pub async fn read_reply(&mut self) -> Result<Reply, ClientError> {
        loop {
            if let Some((frame, raw)) = self.decoder.decode_with_raw(&mut self.buf)? {
                return Ok(Reply { frame, raw });
            }
            self.buf.reserve(READ_CHUNK);
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                return Err(ClientError::Closed {
                    partial: self.buf.len(),
                });
            }
        }
    }

    /// Reads the next reply, giving up after `limit`.
    pub async fn read_reply_timeout(&mut self, limit: Duration) -> Result<Reply, ClientError> {
        match tokio::time::timeout(limit, self.read_reply()).await {
            Ok(result) => result,
            Err(_) => Err(ClientError::Timeout(limit)),
        }
    }

    /// Sends a command (an array of bulk strings) and reads its reply.
    pub async fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Frame, ClientError> {
        self.send(&Frame::command(args)).await?;
        Ok(self.read_reply().await?.frame)
    }

    /// Waits up to `limit` for the server to close the connection. `Ok(bytes)` with whatever
    /// arrived before the close; `Err(Timeout)` if it stayed open.
    pub async fn expect_close(&mut self, limit: Duration) -> Result<Bytes, ClientError> {
        let wait = async {
            loop {
                self.buf.reserve(READ_CHUNK);
                match self.stream.read_buf(&mut self.buf).await {
                    Ok(0) => return Ok(self.buf.split().freeze()),
                    Ok(_) => continue,
                    // A reset is a close too, as far as a peer can tell.
                    Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                        return Ok(self.buf.split().freeze())
                    }
                    Err(e) => return Err(ClientError::Io(e)),
                }
            }
        };
        match tokio::time::timeout(limit, wait).await {
            Ok(result) => result,
            Err(_) => Err(ClientError::Timeout(limit)),
        }
    }

    /// Bytes received but not yet part of a complete reply.
    pub fn pending_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Closes the write half, telling the server no more requests come.
    pub async fn shutdown(&mut self) -> io::Result<()> {
        self.stream.shutdown().await
    }
}
