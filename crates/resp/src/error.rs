//! Decode errors: what went wrong, and where.

use thiserror::Error;

/// What is wrong with the input. Where Redis has a wording for the same fault in a request, the
/// `Display` text is Redis's, so a server can reply `-ERR Protocol error: <text>` verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ErrorKind {
    /// A first byte that starts no frame in this dialect.
    #[error("unknown type marker {}", crate::escape_bytes(&[*.0]))]
    UnknownMarker(u8),
    /// Inside a Redis multibulk request every element must be a bulk string.
    #[error("expected '$', got '{}'", char::from(*.0))]
    ExpectedBulk(u8),
    /// A multibulk count that is not an integer, is negative where it may not be, or is over
    /// the aggregate limit.
    #[error("invalid multibulk length")]
    InvalidMultibulkLength,
    /// A bulk length that is not an integer, negative, or over the bulk limit.
    #[error("invalid bulk length")]
    InvalidBulkLength,
    /// An inline request with an unclosed quote, or a closing quote not followed by a space.
    #[error("unbalanced quotes in request")]
    UnbalancedQuotes,
    /// A Redis request's count or length line with no CR within the line limit.
    #[error("too big {} count string", if *.0 { "mbulk" } else { "bulk" })]
    TooBigCountString(bool),
    /// An inline request longer than the line limit.
    #[error("too big inline request")]
    TooBigInlineRequest,
    /// A line-typed frame (`+ - , ( #` ...) longer than the line limit.
    #[error("line of a {0} longer than the line limit")]
    LineTooLong(&'static str),
    /// A `:` integer that is not a decimal i64.
    #[error("invalid integer")]
    InvalidInteger,
    /// A `,` double that is not a number, `inf`, `-inf` or `nan`.
    #[error("invalid double")]
    InvalidDouble,
    /// A `#` boolean that is not `t` or `f`.
    #[error("invalid boolean")]
    InvalidBoolean,
    /// A `(` big number that is not an optionally signed run of digits.
    #[error("invalid big number")]
    InvalidBigNumber,
    /// A `_` null with a payload.
    #[error("invalid null")]
    InvalidNull,
    /// A `=` verbatim string without its three-byte format and `:`.
    #[error("invalid verbatim string format")]
    InvalidVerbatim,
    /// A `^` text payload that is not UTF-8.
    #[error("text is not valid UTF-8")]
    InvalidUtf8,
    /// A `@` payload that is not JSON.
    #[error("payload is not valid JSON")]
    InvalidJson,
    /// A payload not followed by CRLF, or a line ended by a bare CR.
    #[error("expected CRLF")]
    ExpectedCrlf,
    /// More nested aggregates than the depth limit.
    #[error("nesting deeper than {0} levels")]
    TooDeep(usize),
    /// A `;` chunk where none may stand, or something else inside a streamed string.
    #[error("invalid streamed string chunk")]
    InvalidChunk,
    /// A `.` end marker outside a streamed aggregate, or inside a map between key and value.
    #[error("unexpected end of stream marker")]
    UnexpectedStreamEnd,
    /// The input ended inside a frame (only from [`crate::decode_all`], which knows no
    /// more bytes will come).
    #[error("input ends inside a frame")]
    Truncated,
    /// The decoder's own bookkeeping disagreed with itself: a bug in respect, never the input's
    /// fault. Reported rather than panicking.
    #[error("decoder invariant broken (a bug in respect)")]
    Internal,
}

/// A decode failure: its kind and the absolute offset in the stream of the byte at fault.
///
/// After an error the stream is out of sync; a decoder keeps returning the same error (as
/// Redis, which replies once and closes the connection).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{kind} at offset {offset}")]
pub struct DecodeError {
    /// The offset of the offending byte, counted from the first byte the decoder ever saw.
    pub offset: u64,
    /// What is wrong.
    pub kind: ErrorKind,
}

impl DecodeError {
    /// The text a Redis server puts after `-ERR ` when it rejects this request.
    pub fn redis_reply(&self) -> String {
        format!("Protocol error: {}", self.kind)
    }
}
