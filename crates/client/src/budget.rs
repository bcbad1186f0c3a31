//! How much a server may make the client hold, and for how long: the bounds that keep a hostile
//! or broken peer from holding a run hostage.
//!
//! A reply is bounded in bytes (what the client buffers) and in items (what the decoder keeps
//! per scalar: a `:1\r\n` is four bytes of input but one token of state, so bytes alone do not
//! bound memory). Every read and write also has a deadline checked between frames and between
//! reads, not only when the socket has nothing to give: a peer that streams without pause is
//! stopped as surely as one that says nothing.

use std::time::Duration;

/// Largest reply the client buffers, in bytes. The biggest reply the conformance suite expects
/// is 16 MiB (`value-16mb`); 128 MiB leaves room for real data sets while keeping a run against
/// an endless reply under 256 MB of memory. Override with `--max-reply-bytes`.
pub const DEFAULT_MAX_REPLY_BYTES: usize = 128 * 1024 * 1024;

/// Most items (scalars and aggregate headers, at every depth) of one reply. Each costs the
/// decoder a token of state and the reply a frame (together about 90 bytes, measured: two
/// million took a run from 100 MB to 284 MB against an endless array of tiny integers), so
/// one million keep that stream under about 100 MB. Override with `--max-reply-elements`.
pub const DEFAULT_MAX_REPLY_ELEMENTS: usize = 1_000_000;

/// Default deadline of every read, write and connect when the caller names none.
pub const DEFAULT_IO_TIMEOUT: Duration = Duration::from_secs(5);

/// The size bounds of one reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyBudget {
    /// See [`DEFAULT_MAX_REPLY_BYTES`].
    pub max_bytes: usize,
    /// See [`DEFAULT_MAX_REPLY_ELEMENTS`].
    pub max_elements: usize,
}

impl Default for ReplyBudget {
    fn default() -> Self {
        ReplyBudget {
            max_bytes: DEFAULT_MAX_REPLY_BYTES,
            max_elements: DEFAULT_MAX_REPLY_ELEMENTS,
        }
    }
}

/// How a client talks to a server: the deadline of writes (and of reads with no explicit
/// limit) and the reply budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOptions {
    /// Deadline of connects, writes, and reads that name no limit of their own.
    pub io_timeout: Duration,
    /// What one reply may cost.
    pub budget: ReplyBudget,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            io_timeout: DEFAULT_IO_TIMEOUT,
            budget: ReplyBudget::default(),
        }
    }
}

/// Which bound a reply broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overrun {
    /// More bytes arrived (or were declared) than the budget allows.
    Bytes {
        /// Bytes buffered or declared.
        seen: u64,
        /// The budget.
        max: usize,
    },
    /// More items arrived (or were declared) than the budget allows.
    Elements {
        /// Items scanned or declared.
        seen: u64,
        /// The budget.
        max: usize,
    },
}

impl std::fmt::Display for Overrun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Overrun::Bytes { seen, max } => write!(
                f,
                "reply exceeds the budget of {max} bytes ({seen} bytes; raise --max-reply-bytes)"
            ),
            Overrun::Elements { seen, max } => write!(
                f,
                "reply exceeds the budget of {max} elements ({seen} elements; raise --max-reply-elements)"
            ),
        }
    }
}
