//! The bounds a decoder enforces on hostile input.
//!
//! Every limit is checked *before* the bytes it governs are buffered or allocated: a declared
//! length or count only ever moves a counter, so `$999999999999\r\n` or `*2147483647\r\n` cost
//! a few bytes of state, not memory.

/// Largest bulk payload (`$`, `!`, `=`, `^`, `@`, and the sum of a streamed string's chunks).
/// Redis's default `proto-max-bulk-len` is 512 MiB.
pub const DEFAULT_MAX_BULK_LEN: usize = 512 * 1024 * 1024;

/// Largest element count of one aggregate (`*`, `%` pairs, `~`, `&`, `>`, `|`, and the items of
/// a streamed aggregate). Redis rejects a multibulk count above `INT_MAX`.
pub const DEFAULT_MAX_AGGREGATE_LEN: usize = i32::MAX as usize;

/// Deepest nesting of aggregates. The decoder keeps its own stack (no recursion), but frames
/// are dropped, compared and printed recursively, so a bound protects every later consumer.
pub const DEFAULT_MAX_DEPTH: usize = 128;

/// Longest line: an inline request, or the payload of a line-typed frame (`+ - , ( #` ...).
/// Redis's `PROTO_INLINE_MAX_SIZE` is 64 KiB.
pub const DEFAULT_MAX_LINE_LEN: usize = 64 * 1024;

/// Most digits in a length, count or `:` integer (an `i64` has at most 19).
pub const DEFAULT_MAX_INTEGER_DIGITS: usize = 19;

/// The bounds one [`crate::Decoder`] enforces. Start from [`Limits::default`] and
/// override what you need:
///
/// ```
/// let limits = respect_resp::Limits { max_depth: 8, ..Default::default() };
/// assert_eq!(limits.max_bulk_len, 512 * 1024 * 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// See [`DEFAULT_MAX_BULK_LEN`].
    pub max_bulk_len: usize,
    /// See [`DEFAULT_MAX_AGGREGATE_LEN`].
    pub max_aggregate_len: usize,
    /// See [`DEFAULT_MAX_DEPTH`].
    pub max_depth: usize,
    /// See [`DEFAULT_MAX_LINE_LEN`].
    pub max_line_len: usize,
    /// See [`DEFAULT_MAX_INTEGER_DIGITS`].
    pub max_integer_digits: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: DEFAULT_MAX_BULK_LEN,
            max_aggregate_len: DEFAULT_MAX_AGGREGATE_LEN,
            max_depth: DEFAULT_MAX_DEPTH,
            max_line_len: DEFAULT_MAX_LINE_LEN,
            max_integer_digits: DEFAULT_MAX_INTEGER_DIGITS,
        }
    }
}
