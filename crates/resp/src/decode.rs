//! The incremental decoder.
//!
//! # How it stays linear, bounded and panic-free
//!
//! A socket delivers a frame in pieces. The decoder *scans* the bytes it has, remembering how
//! far it got (`pos`), the aggregates still open (an explicit stack, never recursion), and the
//! structure seen so far as a list of tokens holding byte ranges. When a piece ends inside a
//! line or a payload, it records what it waits for ([`Pending`]) and returns `Ok(None)`
//! without consuming anything; the next call resumes there, so no byte is scanned twice and a
//! 16 MB value fed one byte at a time costs one pass. Only when the whole top-level frame is
//! present does it split those bytes off the buffer, freeze them, and *build* the [`Frame`],
//! with bulk payloads as zero-copy slices.
//!
//! Declared lengths and counts only move counters: memory grows with bytes that actually
//! arrived, never with what a header claims. Each limit in [`Limits`] is checked as soon as
//! the number is read.

use std::ops::Range;

use bytes::{Buf, Bytes, BytesMut};
use memchr::{memchr, memchr2};

use super::frame::is_big_number;
use super::{split_inline, DecodeError, Dialect, ErrorKind, Frame, Limits};

/// Which side of a connection the bytes come from. It decides what a line that does not start
/// with a marker means, and how strict requests are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// What a server reads. In the Redis dialects this follows Redis exactly: a line starting
    /// with `*` is a multibulk whose elements must all be `$` bulk strings (else
    /// `expected '$', got 'x'`), a count of zero or less is skipped, and any other line is an
    /// inline command. In the seed dialect it is the same as [`Role::Any`].
    Request,
    /// What a client reads: every frame must start with a marker of the dialect.
    Reply,
    /// Anything: frames of the dialect, and inline requests for lines that start with no
    /// marker. What `respect decode` uses by default.
    Any,
}

/// The incremental, bounded decoder. Feed it the same [`BytesMut`] again and again, appending
/// what arrives; each call returns the next complete frame, or `Ok(None)` when more bytes are
/// needed (nothing is consumed then).
///
/// ```
/// use bytes::BytesMut;
/// use respect_resp::{Decoder, Dialect, Frame};
///
/// let mut decoder = Decoder::new(Dialect::Resp2);
/// let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$1\r\n"[..]);
/// assert_eq!(decoder.decode(&mut buf).unwrap(), None);
/// buf.extend_from_slice(b"k\r\n+OK\r\n");
/// assert_eq!(decoder.decode(&mut buf).unwrap(), Some(Frame::command(["GET", "k"])));
/// assert_eq!(decoder.decode(&mut buf).unwrap(), Some(Frame::simple("OK")));
/// ```
#[derive(Debug)]
pub struct Decoder {
    dialect: Dialect,
    role: Role,
    limits: Limits,
    /// Stream offset of `buf[0]`: the bytes consumed by earlier frames.
    offset: u64,
    /// How much of the current frame has been scanned (index into `buf`).
    pos: usize,
    /// What the token at `pos` is waiting for.
    pending: Pending,
    /// The aggregates open at `pos`, innermost last.
    stack: Vec<Open>,
    /// The current frame's structure, in order.
    tokens: Vec<Token>,
    /// Scratch space for [`Decoder::build`], kept to avoid an allocation per frame.
    building: Vec<Building>,
    /// Scratch space for [`Decoder::scan_bulk_array`]: the payload ranges of its array.
    bulk_ranges: Vec<Range<usize>>,
    /// Set after an error: the stream is out of sync and stays failed.
    failed: Option<DecodeError>,
}

#[derive(Debug, Clone, Copy)]
enum Pending {
    None,
    /// A line whose terminator is not here yet; bytes before `scanned` hold no CR or LF.
    Line {
        scanned: usize,
    },
    /// A payload of `len` bytes starting at `payload`, then CRLF.
    Blob {
        start: usize,
        payload: usize,
        len: usize,
        kind: BlobKind,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlobKind {
    Bulk,
    BlobError,
    Verbatim,
    Text,
    Json,
    Chunk,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AggKind {
    Array,
    Map,
    Set,
    Push,
    Attribute,
    /// A streamed string (`$?`): its items are chunks.
    String,
}

#[derive(Debug)]
struct Open {
    kind: AggKind,
    streamed: bool,
    /// Items still expected (counted aggregates).
    remaining: usize,
    /// Items seen (streamed aggregates), or bytes seen (streamed strings).
    seen: usize,
}

#[derive(Debug)]
enum Token {
    Simple(Range<usize>),
    Error(Range<usize>),
    Integer(i64),
    Bulk(Range<usize>),
    NullBulk,
    NullArray,
    Null,
    Double(f64),
    Boolean(bool),
    BlobError(Range<usize>),
    Verbatim(Range<usize>),
    BigNumber(Range<usize>),
    Text(Range<usize>),
    Json(Range<usize>),
    Chunk(Range<usize>),
    Open { kind: AggKind, items: usize },
    OpenStreamed(AggKind),
    Close,
}

#[derive(Debug)]
struct Building {
    kind: AggKind,
    streamed: bool,
    need: usize,
    items: Vec<Frame>,
}

/// What one scan found.
enum Scan {
    Incomplete,
    /// A complete frame ends at this index.
    Frame(usize),
    /// An inline request ending at this index.
    Inline(Vec<Bytes>, usize),
    /// Bytes to drop without a frame (an empty inline line, a Redis `*0` or `*-1` request).
    Skip(usize),
}

/// A parsed `<marker><number>\r\n` header.
enum Header {
    Len(i64),
    Streamed,
}

impl Decoder {
    /// A decoder for `dialect` in [`Role::Any`] with default [`Limits`].
    pub fn new(dialect: Dialect) -> Decoder {
        Decoder::with_options(dialect, Role::Any, Limits::default())
    }

    /// A decoder with every option set.
    pub fn with_options(dialect: Dialect, role: Role, limits: Limits) -> Decoder {
        Decoder {
            dialect,
            role,
            limits,
            offset: 0,
            pos: 0,
            pending: Pending::None,
            stack: Vec::new(),
            tokens: Vec::new(),
            building: Vec::new(),
            bulk_ranges: Vec::new(),
            failed: None,
        }
    }

    /// The dialect this decoder reads.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Switches dialect between frames (a Redis connection after `HELLO 3`).
    pub fn set_dialect(&mut self, dialect: Dialect) {
        self.dialect = dialect;
    }

    /// The limits this decoder enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The stream offset of the next frame: every byte consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Whether part of a frame has been scanned but not yet returned.
    pub fn is_mid_frame(&self) -> bool {
        self.pos > 0
    }

    /// How many items (scalars, aggregate headers and ends) of the unfinished frame have been
    /// scanned so far. The decoder's state grows with this count, not only with bytes (a
    /// `:1\r\n` costs four bytes of input and one token of state), so a client bounding what
    /// a peer can make it hold checks this as well as the buffered bytes.
    pub fn pending_items(&self) -> usize {
        self.tokens.len()
    }

    /// Returns the next complete frame, `Ok(None)` if `buf` holds only part of one (nothing
    /// is consumed then: append more bytes and call again), or the error that put the stream
    /// out of sync (returned again on every later call).
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, DecodeError> {
        Ok(self.decode_inner(buf, false)?.map(|(frame, _)| frame))
    }

    /// Like [`Decoder::decode`], and also returns the exact bytes the frame was read from
    /// (at no extra copy: the frame's payloads are slices of those same bytes).
    pub fn decode_with_raw(
        &mut self,
        buf: &mut BytesMut,
    ) -> Result<Option<(Frame, Bytes)>, DecodeError> {
        Ok(self
            .decode_inner(buf, true)?
            .map(|(frame, raw)| (frame, raw.unwrap_or_default())))
    }

    /// Both of the above. Without `keep_raw`, the fast path gives the frame's own buffer handle
    /// to its last payload, saving a reference-count increment and decrement per frame.
    fn decode_inner(
        &mut self,
        buf: &mut BytesMut,
        keep_raw: bool,
    ) -> Result<Option<(Frame, Option<Bytes>)>, DecodeError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        loop {
            if let Some(end) = self.scan_bulk_array(buf) {
                let raw = buf.split_to(end).freeze();
                self.reset_frame(end);
                let mut items = Vec::with_capacity(self.bulk_ranges.len());
                if keep_raw {
                    items.extend(
                        self.bulk_ranges
                            .iter()
                            .map(|r| Frame::Bulk(raw.slice(r.clone()))),
                    );
                    return Ok(Some((Frame::Array(items), Some(raw))));
                }
                if let Some((last, rest)) = self.bulk_ranges.split_last() {
                    items.extend(rest.iter().map(|r| Frame::Bulk(raw.slice(r.clone()))));
                    let mut tail = raw;
                    tail.truncate(last.end);
                    tail.advance(last.start);
                    items.push(Frame::Bulk(tail));
                }
                return Ok(Some((Frame::Array(items), None)));
            }
            let scanned = self.scan(buf);
            match scanned {
                Ok(Scan::Incomplete) => return Ok(None),
                Ok(Scan::Skip(end)) => {
                    buf.advance(end);
                    self.reset_frame(end);
                }
                Ok(Scan::Inline(args, end)) => {
                    let raw = buf.split_to(end).freeze();
                    self.reset_frame(end);
                    return Ok(Some((Frame::Inline(args), Some(raw))));
                }
                Ok(Scan::Frame(end)) => {
                    let raw = buf.split_to(end).freeze();
                    let built = self.build(&raw);
                    self.reset_frame(end);
                    return match built {
                        Some(frame) => Ok(Some((frame, Some(raw)))),
                        None => Err(self.fail(0, ErrorKind::Internal)),
                    };
                }
                Err(e) => {
                    self.failed = Some(e.clone());
                    return Err(e);
                }
            }
        }
    }

    /// Forgets any partial frame and a past error, and restarts offsets at zero; for reuse on a
    /// new stream.
    pub fn reset(&mut self) {
        self.reset_frame(0);
        self.offset = 0;
        self.failed = None;
    }

    fn reset_frame(&mut self, consumed: usize) {
        self.offset += consumed as u64;
        self.pos = 0;
        self.pending = Pending::None;
        self.stack.clear();
        self.tokens.clear();
    }

    /// Builds the error for the byte at `at` (an index into the buffer) and records it.
    fn fail(&mut self, at: usize, kind: ErrorKind) -> DecodeError {
        let e = DecodeError {
            offset: self.offset + at as u64,
            kind,
        };
        self.failed = Some(e.clone());
        e
    }

    fn err(&self, at: usize, kind: ErrorKind) -> DecodeError {
        DecodeError {
            offset: self.offset + at as u64,
            kind,
        }
    }

    fn redis_requests(&self) -> bool {
        self.role == Role::Request && self.dialect.is_redis()
    }

    fn streams_allowed(&self) -> bool {
        self.dialect == Dialect::Resp3 && self.role != Role::Request
    }

    /// Scans from `pos` as far as the bytes go.
    fn scan(&mut self, buf: &[u8]) -> Result<Scan, DecodeError> {
        loop {
            if let Pending::Blob {
                start,
                payload,
                len,
                kind,
            } = self.pending
            {
                let end = payload + len;
                if buf.len() < end + 2 {
                    return Ok(Scan::Incomplete);
                }
                if buf.get(end..end + 2) != Some(b"\r\n") {
                    return Err(self.err(end, ErrorKind::ExpectedCrlf));
                }
                self.pending = Pending::None;
                self.pos = end + 2;
                let range = payload..end;
                let token = match kind {
                    BlobKind::Bulk => Token::Bulk(range),
                    BlobKind::BlobError => Token::BlobError(range),
                    BlobKind::Verbatim => {
                        if len < 4 || buf.get(payload + 3) != Some(&b':') {
                            return Err(self.err(start, ErrorKind::InvalidVerbatim));
                        }
                        Token::Verbatim(range)
                    }
                    BlobKind::Text => {
                        if std::str::from_utf8(buf.get(range.clone()).unwrap_or_default()).is_err()
                        {
                            return Err(self.err(start, ErrorKind::InvalidUtf8));
                        }
                        Token::Text(range)
                    }
                    BlobKind::Json => {
                        if !crate::json::is_valid_json(buf.get(range.clone()).unwrap_or_default()) {
                            return Err(self.err(start, ErrorKind::InvalidJson));
                        }
                        Token::Json(range)
                    }
                    BlobKind::Chunk => {
                        // A chunk belongs to the open streamed string, not to its parent.
                        self.tokens.push(Token::Chunk(range));
                        continue;
                    }
                };
                if let Some(done) = self.leaf(token)? {
                    return Ok(done);
                }
                continue;
            }

            let start = self.pos;
            let Some(&marker) = buf.get(start) else {
                return Ok(Scan::Incomplete);
            };
            let top = self.stack.last().map(|o| (o.kind, o.streamed));

            let progress = if top == Some((AggKind::String, true)) {
                self.scan_chunk(buf, start, marker)?
            } else if marker == b'.' && matches!(top, Some((_, true))) {
                self.scan_stream_end(buf, start)?
            } else {
                if self.redis_requests() {
                    if top.is_none() && marker != b'*' {
                        return self.scan_inline(buf, start);
                    }
                    if top.is_some() && marker != b'$' {
                        return Err(self.err(start, ErrorKind::ExpectedBulk(marker)));
                    }
                }
                if !self.dialect.is_marker(marker) {
                    if top.is_none() && self.role != Role::Reply {
                        return self.scan_inline(buf, start);
                    }
                    return Err(self.err(start, ErrorKind::UnknownMarker(marker)));
                }
                match marker {
                    b'+' | b'-' | b':' | b',' | b'#' | b'(' | b'_' => {
                        self.scan_line(buf, start, marker)?
                    }
                    b'$' | b'!' | b'=' | b'^' | b'@' => {
                        self.scan_blob_header(buf, start, marker)?
                    }
                    _ => self.scan_aggregate_header(buf, start, marker)?,
                }
            };
            // A step either completes the frame, makes progress (moves `pos` or starts waiting
            // for a payload), or stops for want of bytes.
            match progress {
                Some(done) => return Ok(done),
                None if self.pos == start => return Ok(Scan::Incomplete),
                None => continue,
            }
        }
    }

    /// [`Decoder::scan_bulk_array`] for other modules of the codec; `None` after an error too.
    pub(super) fn scan_bulk_array_at_start(&mut self, buf: &[u8]) -> Option<usize> {
        if self.failed.is_some() {
            return None;
        }
        self.scan_bulk_array(buf)
    }

    /// The payload ranges found by the last successful [`Decoder::scan_bulk_array`].
    pub(super) fn take_bulk_ranges(&self) -> &[Range<usize>] {
        &self.bulk_ranges
    }

    /// Records that the frame found by [`Decoder::scan_bulk_array`] was consumed.
    pub(super) fn finish_bulk_array(&mut self, end: usize) {
        self.reset_frame(end);
    }

    /// The fast path for the commonest frame of all, a request: a `*N` array of `$` bulk
    /// strings, complete in the buffer. Returns where it ends, with the payload ranges in
    /// `bulk_ranges`; `None` for anything else (another type, a null, an incomplete frame,
    /// a limit exceeded, an error), leaving every piece of state as it was so the general
    /// scan takes over. It runs only at the start of a frame, so a frame that arrives in
    /// pieces is tried once per read at most and the general scan keeps the work linear.
    fn scan_bulk_array(&mut self, buf: &[u8]) -> Option<usize> {
        if self.pos != 0 || buf.first() != Some(&b'*') || self.limits.max_depth == 0 {
            return None;
        }
        let (count, mut at) = self.plain_length(buf, 1)?;
        if count == 0 || count > self.limits.max_aggregate_len {
            return None;
        }
        self.bulk_ranges.clear();
        for _ in 0..count {
            if buf.get(at) != Some(&b'$') {
                return None;
            }
            let (len, payload) = self.plain_length(buf, at + 1)?;
            if len > self.limits.max_bulk_len {
                return None;
            }
            let end = payload.checked_add(len)?;
            if buf.get(end..end.checked_add(2)?)? != b"\r\n" {
                return None;
            }
            self.bulk_ranges.push(payload..end);
            at = end + 2;
        }
        Some(at)
    }

    /// The fast path's length: plain digits (no sign, no leading zero, within the digit limit)
    /// then CRLF, starting at `at`. `None` for anything else, which the general scan then
    /// accepts or rejects with the right error.
    #[inline]
    fn plain_length(&self, buf: &[u8], at: usize) -> Option<(usize, usize)> {
        let digits = buf.get(at..)?;
        let mut value: usize = 0;
        let mut i = 0;
        loop {
            match *digits.get(i)? {
                c @ b'0'..=b'9' => {
                    if (c == b'0' && i == 0 && digits.get(1) != Some(&b'\r'))
                        || i >= self.limits.max_integer_digits
                    {
                        return None;
                    }
                    value = value.checked_mul(10)?.checked_add(usize::from(c - b'0'))?;
                    i += 1;
                }
                b'\r' if i > 0 => break,
                _ => return None,
            }
        }
        (digits.get(i + 1) == Some(&b'\n')).then_some((value, at + i + 2))
    }

    /// Pushes a complete leaf token; returns the scan result if it completed the frame.
    fn leaf(&mut self, token: Token) -> Result<Option<Scan>, DecodeError> {
        self.tokens.push(token);
        self.item_done()
    }

    /// Records one complete item at the innermost open level, closing every counted aggregate
    /// it completes. Returns `Some(Scan::Frame)` when the top-level frame is complete. A
    /// streamed aggregate has no declared count, so the aggregate limit is checked here, per
    /// item (twice the limit for the items of a map, which counts pairs).
    fn item_done(&mut self) -> Result<Option<Scan>, DecodeError> {
        loop {
            let Some(top) = self.stack.last_mut() else {
                return Ok(Some(Scan::Frame(self.pos)));
            };
            if top.streamed {
                top.seen += 1;
                let paired = matches!(top.kind, AggKind::Map | AggKind::Attribute);
                let limit = if paired {
                    self.limits.max_aggregate_len.saturating_mul(2)
                } else {
                    self.limits.max_aggregate_len
                };
                if top.seen > limit {
                    return Err(self.err(self.pos, ErrorKind::InvalidMultibulkLength));
                }
                return Ok(None);
            }
            top.remaining = top.remaining.saturating_sub(1);
            if top.remaining > 0 {
                return Ok(None);
            }
            self.stack.pop();
        }
    }

    fn push_open(&mut self, start: usize, open: Open) -> Result<(), DecodeError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(self.err(start, ErrorKind::TooDeep(self.limits.max_depth)));
        }
        self.stack.push(open);
        Ok(())
    }

    /// Finds the CRLF that ends the line whose content starts at `from`; `Ok(None)` if it has
    /// not arrived. Resumes where the previous call stopped looking.
    fn find_crlf(
        &mut self,
        buf: &[u8],
        start: usize,
        from: usize,
        too_long: ErrorKind,
    ) -> Result<Option<usize>, DecodeError> {
        let resume = match self.pending {
            Pending::Line { scanned } => scanned.max(from),
            _ => from,
        };
        let rest = buf.get(resume..).unwrap_or_default();
        match memchr2(b'\r', b'\n', rest) {
            Some(i) => {
                let at = resume + i;
                if rest.get(i) == Some(&b'\n') {
                    return Err(self.err(at, ErrorKind::ExpectedCrlf));
                }
                if at - from > self.limits.max_line_len {
                    return Err(self.err(start, too_long));
                }
                match buf.get(at + 1) {
                    None => {
                        self.pending = Pending::Line { scanned: at };
                        Ok(None)
                    }
                    Some(b'\n') => {
                        self.pending = Pending::None;
                        Ok(Some(at))
                    }
                    Some(_) => Err(self.err(at + 1, ErrorKind::ExpectedCrlf)),
                }
            }
            None => {
                if buf.len() - from > self.limits.max_line_len {
                    return Err(self.err(start, too_long));
                }
                self.pending = Pending::Line { scanned: buf.len() };
                Ok(None)
            }
        }
    }

    /// Parses the header `<marker><number>\r\n` at `start`. Restarting it from the marker
    /// costs at most the digit limit, so it keeps no state between calls.
    fn parse_header(
        &mut self,
        buf: &[u8],
        start: usize,
        bad: ErrorKind,
    ) -> Result<Option<(Header, usize)>, DecodeError> {
        match self.parse_header_digits(buf, start, bad.clone()) {
            Err(e) if self.redis_requests() && e.kind == bad => {
                self.redis_length_fault(buf, start, bad)
            }
            other => other,
        }
    }

    /// What Redis does with a count or length line it cannot parse: it looks for the CR first,
    /// and only a line that has one is `invalid ... length`; with no CR within the line limit
    /// it is `too big ... count string`, and before that it waits. The search resumes where it
    /// stopped, so feeding the line a byte at a time stays linear.
    fn redis_length_fault(
        &mut self,
        buf: &[u8],
        start: usize,
        bad: ErrorKind,
    ) -> Result<Option<(Header, usize)>, DecodeError> {
        let resume = match self.pending {
            Pending::Line { scanned } => scanned.max(start),
            _ => start,
        };
        if memchr(b'\r', buf.get(resume..).unwrap_or_default()).is_some() {
            return Err(self.err(start, bad));
        }
        if buf.len() - start > self.limits.max_line_len {
            let multibulk = bad == ErrorKind::InvalidMultibulkLength;
            return Err(self.err(start, ErrorKind::TooBigCountString(multibulk)));
        }
        self.pending = Pending::Line { scanned: buf.len() };
        Ok(None)
    }

    fn parse_header_digits(
        &self,
        buf: &[u8],
        start: usize,
        bad: ErrorKind,
    ) -> Result<Option<(Header, usize)>, DecodeError> {
        let mut i = start + 1;
        if self.streams_allowed() && buf.get(i) == Some(&b'?') {
            return match buf.get(i + 1..i + 3) {
                None if buf.len() < i + 3 => match buf.get(i + 1) {
                    Some(b'\r') | None => Ok(None),
                    Some(_) => Err(self.err(start, bad)),
                },
                Some(b"\r\n") => Ok(Some((Header::Streamed, i + 3))),
                _ => Err(self.err(start, bad)),
            };
        }
        let negative = buf.get(i) == Some(&b'-');
        if negative {
            i += 1;
        }
        let digits = i;
        let mut value: i64 = 0;
        loop {
            match buf.get(i) {
                None => return Ok(None),
                Some(&c @ b'0'..=b'9') => {
                    if i - digits >= self.limits.max_integer_digits {
                        return Err(self.err(start, bad));
                    }
                    value = match value
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(i64::from(c - b'0')))
                    {
                        Some(v) => v,
                        None => return Err(self.err(start, bad)),
                    };
                    i += 1;
                }
                Some(b'\r') => break,
                Some(_) => return Err(self.err(start, bad)),
            }
        }
        let count = i - digits;
        let leading_zero = count > 1 && buf.get(digits) == Some(&b'0');
        if count == 0 || leading_zero || (negative && value == 0) {
            return Err(self.err(start, bad));
        }
        match buf.get(i + 1) {
            None => Ok(None),
            Some(b'\n') => Ok(Some((
                Header::Len(if negative { -value } else { value }),
                i + 2,
            ))),
            Some(_) => Err(self.err(i + 1, ErrorKind::ExpectedCrlf)),
        }
    }

    fn scan_line(
        &mut self,
        buf: &[u8],
        start: usize,
        marker: u8,
    ) -> Result<Option<Scan>, DecodeError> {
        let what = match marker {
            b'+' => "simple string",
            b'-' => "simple error",
            b':' => "integer",
            b',' => "double",
            b'#' => "boolean",
            b'(' => "big number",
            _ => "null",
        };
        let from = start + 1;
        let Some(cr) = self.find_crlf(buf, start, from, ErrorKind::LineTooLong(what))? else {
            return Ok(None);
        };
        let line = buf.get(from..cr).unwrap_or_default();
        let token = match marker {
            b'+' => Token::Simple(from..cr),
            b'-' => Token::Error(from..cr),
            b':' => self.integer_token(line, from..cr, start)?,
            b',' => Token::Double(
                parse_double(line).ok_or_else(|| self.err(start, ErrorKind::InvalidDouble))?,
            ),
            b'#' => match line {
                b"t" => Token::Boolean(true),
                b"f" => Token::Boolean(false),
                _ => return Err(self.err(start, ErrorKind::InvalidBoolean)),
            },
            b'(' if is_big_number(line) => Token::BigNumber(from..cr),
            b'(' => return Err(self.err(start, ErrorKind::InvalidBigNumber)),
            _ if line.is_empty() => Token::Null,
            _ => return Err(self.err(start, ErrorKind::InvalidNull)),
        };
        self.pos = cr + 2;
        self.leaf(token)
    }

    /// A `:` line: an i64; in the seed dialect also a float or an integer of any size.
    fn integer_token(
        &self,
        line: &[u8],
        range: Range<usize>,
        start: usize,
    ) -> Result<Token, DecodeError> {
        let digits = match line.first() {
            Some(b'-') | Some(b'+') => line.len() - 1,
            _ => line.len(),
        };
        if is_big_number(line) {
            if digits <= self.limits.max_integer_digits {
                if let Some(n) = std::str::from_utf8(line)
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok())
                {
                    return Ok(Token::Integer(n));
                }
            }
            if self.dialect == Dialect::Seed {
                return Ok(Token::BigNumber(range));
            }
        } else if self.dialect == Dialect::Seed {
            if let Some(d) = parse_double(line) {
                return Ok(Token::Double(d));
            }
        }
        Err(self.err(start, ErrorKind::InvalidInteger))
    }

    fn scan_blob_header(
        &mut self,
        buf: &[u8],
        start: usize,
        marker: u8,
    ) -> Result<Option<Scan>, DecodeError> {
        let Some((header, payload)) =
            self.parse_header(buf, start, ErrorKind::InvalidBulkLength)?
        else {
            return Ok(None);
        };
        let len = match header {
            Header::Streamed if marker == b'$' => {
                self.push_open(
                    start,
                    Open {
                        kind: AggKind::String,
                        streamed: true,
                        remaining: 0,
                        seen: 0,
                    },
                )?;
                self.tokens.push(Token::OpenStreamed(AggKind::String));
                self.pos = payload;
                return Ok(None);
            }
            Header::Streamed => return Err(self.err(start, ErrorKind::InvalidBulkLength)),
            Header::Len(-1) if marker == b'$' && !self.redis_requests() => {
                self.pos = payload;
                return self.leaf(Token::NullBulk);
            }
            Header::Len(n) => match usize::try_from(n) {
                Ok(n) if n <= self.limits.max_bulk_len => n,
                _ => return Err(self.err(start, ErrorKind::InvalidBulkLength)),
            },
        };
        let kind = match marker {
            b'$' => BlobKind::Bulk,
            b'!' => BlobKind::BlobError,
            b'=' => BlobKind::Verbatim,
            b'^' => BlobKind::Text,
            _ => BlobKind::Json,
        };
        self.pending = Pending::Blob {
            start,
            payload,
            len,
            kind,
        };
        self.pos = payload;
        Ok(None)
    }

    /// Inside a streamed string: a `;len` chunk, `;0` ending it.
    fn scan_chunk(
        &mut self,
        buf: &[u8],
        start: usize,
        marker: u8,
    ) -> Result<Option<Scan>, DecodeError> {
        if marker != b';' {
            return Err(self.err(start, ErrorKind::InvalidChunk));
        }
        if buf.get(start + 1) == Some(&b'?') {
            return Err(self.err(start, ErrorKind::InvalidChunk));
        }
        let Some((Header::Len(n), payload)) =
            self.parse_header(buf, start, ErrorKind::InvalidChunk)?
        else {
            return Ok(None);
        };
        let len = usize::try_from(n).map_err(|_| self.err(start, ErrorKind::InvalidChunk))?;
        self.pos = payload;
        if len == 0 {
            self.tokens.push(Token::Close);
            self.stack.pop();
            return self.item_done();
        }
        let total = self.stack.last().map_or(0, |o| o.seen).saturating_add(len);
        if total > self.limits.max_bulk_len {
            return Err(self.err(start, ErrorKind::InvalidBulkLength));
        }
        if let Some(open) = self.stack.last_mut() {
            open.seen = total;
        }
        self.pending = Pending::Blob {
            start,
            payload,
            len,
            kind: BlobKind::Chunk,
        };
        Ok(None)
    }

    /// `.` closing a streamed aggregate (or the attribute map of `|?`).
    fn scan_stream_end(&mut self, buf: &[u8], start: usize) -> Result<Option<Scan>, DecodeError> {
        match buf.get(start + 1..start + 3) {
            None if buf.len() < start + 3 => {
                return match buf.get(start + 1) {
                    Some(b'\r') | None => Ok(None),
                    Some(_) => Err(self.err(start + 1, ErrorKind::ExpectedCrlf)),
                }
            }
            Some(b"\r\n") => {}
            _ => return Err(self.err(start + 1, ErrorKind::ExpectedCrlf)),
        }
        let Some(top) = self.stack.last_mut() else {
            return Err(self.err(start, ErrorKind::UnexpectedStreamEnd));
        };
        let paired = matches!(top.kind, AggKind::Map | AggKind::Attribute);
        if paired && top.seen % 2 == 1 {
            return Err(self.err(start, ErrorKind::UnexpectedStreamEnd));
        }
        self.pos = start + 3;
        self.tokens.push(Token::Close);
        if top.kind == AggKind::Attribute {
            // The attributes are complete; exactly one frame, the one they describe, follows.
            top.streamed = false;
            top.remaining = 1;
            return Ok(None);
        }
        self.stack.pop();
        self.item_done()
    }

    fn scan_aggregate_header(
        &mut self,
        buf: &[u8],
        start: usize,
        marker: u8,
    ) -> Result<Option<Scan>, DecodeError> {
        let Some((header, next)) =
            self.parse_header(buf, start, ErrorKind::InvalidMultibulkLength)?
        else {
            return Ok(None);
        };
        let kind = match marker {
            b'*' => AggKind::Array,
            b'%' => AggKind::Map,
            b'~' | b'&' => AggKind::Set,
            b'>' => AggKind::Push,
            _ => AggKind::Attribute,
        };
        let count = match header {
            Header::Streamed if kind != AggKind::Push => {
                self.push_open(
                    start,
                    Open {
                        kind,
                        streamed: true,
                        remaining: 0,
                        seen: 0,
                    },
                )?;
                self.tokens.push(Token::OpenStreamed(kind));
                self.pos = next;
                return Ok(None);
            }
            Header::Streamed => return Err(self.err(start, ErrorKind::InvalidMultibulkLength)),
            // Redis ignores a multibulk request whose count is zero or negative.
            Header::Len(n) if n <= 0 && self.redis_requests() => return Ok(Some(Scan::Skip(next))),
            Header::Len(-1) if kind == AggKind::Array => {
                self.pos = next;
                return self.leaf(Token::NullArray);
            }
            Header::Len(n) => match usize::try_from(n) {
                Ok(n) if n <= self.limits.max_aggregate_len => n,
                _ => return Err(self.err(start, ErrorKind::InvalidMultibulkLength)),
            },
        };
        self.pos = next;
        let items = match kind {
            AggKind::Map => count.saturating_mul(2),
            AggKind::Attribute => count.saturating_mul(2).saturating_add(1),
            _ => count,
        };
        self.tokens.push(Token::Open { kind, items });
        if items == 0 {
            return self.item_done();
        }
        self.push_open(
            start,
            Open {
                kind,
                streamed: false,
                remaining: items,
                seen: 0,
            },
        )?;
        Ok(None)
    }

    /// A line that starts with no marker: an inline request, split like redis-cli. The line
    /// limit applies only while no newline has arrived (what is buffered past `start` exceeds
    /// it): that is Redis's rule, so the outcome for a line longer than the limit depends on
    /// how much of it one read delivers, exactly as it does for Redis.
    fn scan_inline(&mut self, buf: &[u8], start: usize) -> Result<Scan, DecodeError> {
        let resume = match self.pending {
            Pending::Line { scanned } => scanned.max(start),
            _ => start,
        };
        let rest = buf.get(resume..).unwrap_or_default();
        // Redis finds the newline with `strchr`, which stops at a NUL byte: to Redis an
        // inline line with a NUL before its newline has no newline yet, so it waits (and
        // refuses the buffer once it passes the limit). The NUL is where the search resumes.
        let found = if self.redis_requests() {
            memchr2(b'\n', 0, rest).map(|i| resume + i)
        } else {
            memchr(b'\n', rest).map(|i| resume + i)
        };
        let Some(newline) = found.filter(|&at| buf.get(at) == Some(&b'\n')) else {
            let scanned = found.unwrap_or(buf.len());
            if buf.len() - start > self.limits.max_line_len {
                return Err(self.err(start, ErrorKind::TooBigInlineRequest));
            }
            self.pending = Pending::Line { scanned };
            return Ok(Scan::Incomplete);
        };
        // Redis requests: no length check here; like Redis's `processInlineBuffer`, the limit
        // refuses only a buffer that has no newline yet, so a long line that arrives whole is
        // run. Other dialects (seed) keep refusing any line past the limit.
        let mut line = buf.get(start..newline).unwrap_or_default();
        if !self.redis_requests() && line.len() > self.limits.max_line_len {
            return Err(self.err(start, ErrorKind::TooBigInlineRequest));
        }
        if let Some(stripped) = line.strip_suffix(b"\r") {
            line = stripped;
        }
        let args = split_inline(line).map_err(|kind| self.err(start, kind))?;
        if args.is_empty() {
            return Ok(Scan::Skip(newline + 1));
        }
        Ok(Scan::Inline(args, newline + 1))
    }

    /// Turns the tokens of a complete frame into a [`Frame`], slicing payloads out of `data`.
    /// `None` only if the tokens are inconsistent, which the scan rules out.
    fn build(&mut self, data: &Bytes) -> Option<Frame> {
        let slice = |r: &Range<usize>| (r.end <= data.len()).then(|| data.slice(r.clone()));
        self.building.clear();
        let total = self.tokens.len();
        for (index, token) in self.tokens.iter().enumerate() {
            let mut frame = match token {
                Token::Simple(r) => Frame::Simple(slice(r)?),
                Token::Error(r) => Frame::Error(slice(r)?),
                Token::Integer(n) => Frame::Integer(*n),
                Token::Bulk(r) => Frame::Bulk(slice(r)?),
                Token::NullBulk => Frame::NullBulk,
                Token::NullArray => Frame::NullArray,
                Token::Null => Frame::Null,
                Token::Double(d) => Frame::Double(*d),
                Token::Boolean(b) => Frame::Boolean(*b),
                Token::BlobError(r) => Frame::BlobError(slice(r)?),
                Token::Verbatim(r) => {
                    let all = slice(r)?;
                    let format = <[u8; 3]>::try_from(all.get(..3)?).ok()?;
                    Frame::Verbatim {
                        format,
                        text: all.slice(4..),
                    }
                }
                Token::BigNumber(r) => Frame::BigNumber(slice(r)?),
                Token::Text(r) => Frame::Text(slice(r)?),
                Token::Json(r) => Frame::Json(slice(r)?),
                Token::Chunk(r) => {
                    self.building.last_mut()?.items.push(Frame::Bulk(slice(r)?));
                    continue;
                }
                Token::Open { kind, items } => {
                    if *items == 0 {
                        finish(*kind, false, Vec::new())?
                    } else {
                        // Every item is present (the frame is complete), so this capacity is
                        // backed by bytes that arrived; the `min` keeps it so even if not.
                        self.building.push(Building {
                            kind: *kind,
                            streamed: false,
                            need: *items,
                            items: Vec::with_capacity((*items).min(total - index)),
                        });
                        continue;
                    }
                }
                Token::OpenStreamed(kind) => {
                    self.building.push(Building {
                        kind: *kind,
                        streamed: true,
                        need: usize::MAX,
                        items: Vec::new(),
                    });
                    continue;
                }
                Token::Close => {
                    let top = self.building.last_mut()?;
                    if top.kind == AggKind::Attribute {
                        top.need = top.items.len() + 1;
                        continue;
                    }
                    let done = self.building.pop()?;
                    finish(done.kind, done.streamed, done.items)?
                }
            };
            loop {
                let Some(top) = self.building.last_mut() else {
                    return (index + 1 == total).then_some(frame);
                };
                top.items.push(frame);
                if top.items.len() < top.need {
                    break;
                }
                let done = self.building.pop()?;
                frame = finish(done.kind, done.streamed, done.items)?;
            }
        }
        None
    }
}

/// The frame of a finished aggregate.
fn finish(kind: AggKind, streamed: bool, items: Vec<Frame>) -> Option<Frame> {
    Some(match (kind, streamed) {
        (AggKind::Array, false) => Frame::Array(items),
        (AggKind::Array, true) => Frame::StreamedArray(items),
        (AggKind::Set, false) => Frame::Set(items),
        (AggKind::Set, true) => Frame::StreamedSet(items),
        (AggKind::Push, _) => Frame::Push(items),
        (AggKind::Map, false) => Frame::Map(pairs(items)?),
        (AggKind::Map, true) => Frame::StreamedMap(pairs(items)?),
        (AggKind::Attribute, streamed) => {
            let mut items = items;
            let frame = Box::new(items.pop()?);
            Frame::Attributed {
                attributes: pairs(items)?,
                streamed,
                frame,
            }
        }
        (AggKind::String, _) => Frame::StreamedString(
            items
                .into_iter()
                .map(|f| match f {
                    Frame::Bulk(b) => Some(b),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?,
        ),
    })
}

fn pairs(items: Vec<Frame>) -> Option<Vec<(Frame, Frame)>> {
    if !items.len().is_multiple_of(2) {
        return None;
    }
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    Some(out)
}

/// A RESP3 double: `inf`, `-inf`, `nan` (any case, as Python and hiredis accept), or a decimal
/// number with optional sign, fraction and exponent.
fn parse_double(line: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(line).ok()?;
    match text.to_ascii_lowercase().as_str() {
        "inf" | "+inf" => return Some(f64::INFINITY),
        "-inf" => return Some(f64::NEG_INFINITY),
        "nan" | "-nan" | "+nan" => return Some(f64::NAN),
        _ => {}
    }
    let plausible = !text.is_empty()
        && text.bytes().any(|c| c.is_ascii_digit())
        && text
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !plausible {
        return None;
    }
    text.parse::<f64>().ok()
}

/// Decodes a whole byte string in `dialect` ([`Role::Any`], default limits). Input that ends
/// inside a frame is [`ErrorKind::Truncated`].
pub fn decode_all(input: &[u8], dialect: Dialect) -> Result<Vec<Frame>, DecodeError> {
    let mut decoder = Decoder::new(dialect);
    let mut buf = BytesMut::from(input);
    let mut frames = Vec::new();
    while let Some(frame) = decoder.decode(&mut buf)? {
        frames.push(frame);
    }
    if buf.is_empty() {
        Ok(frames)
    } else {
        Err(DecodeError {
            offset: decoder.offset(),
            kind: ErrorKind::Truncated,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(input: &[u8], dialect: Dialect, limits: Limits) -> Result<Option<Frame>, DecodeError> {
        let mut decoder = Decoder::with_options(dialect, Role::Reply, limits);
        decoder.decode(&mut BytesMut::from(input))
    }

    #[test]
    fn every_limit_can_be_overridden() {
        let small = Limits {
            max_bulk_len: 3,
            max_aggregate_len: 2,
            max_depth: 2,
            max_line_len: 4,
            max_integer_digits: 3,
        };
        let kind = |input: &[u8]| first(input, Dialect::Resp3, small).map_err(|e| e.kind);
        assert_eq!(kind(b"$3\r\nabc\r\n"), Ok(Some(Frame::bulk("abc"))));
        assert_eq!(kind(b"$4\r\nabcd\r\n"), Err(ErrorKind::InvalidBulkLength));
        assert_eq!(
            kind(b"$?\r\n;2\r\nab\r\n;2\r\ncd\r\n;0\r\n"),
            Err(ErrorKind::InvalidBulkLength)
        );
        assert_eq!(kind(b"*3\r\n"), Err(ErrorKind::InvalidMultibulkLength));
        assert_eq!(
            kind(b"*?\r\n:1\r\n:2\r\n:3\r\n.\r\n"),
            Err(ErrorKind::InvalidMultibulkLength)
        );
        assert!(kind(b"%?\r\n:1\r\n:2\r\n:3\r\n:4\r\n.\r\n").is_ok());
        assert_eq!(kind(b"*1\r\n*1\r\n*1\r\n"), Err(ErrorKind::TooDeep(2)));
        assert_eq!(
            kind(b"+abcde\r\n"),
            Err(ErrorKind::LineTooLong("simple string"))
        );
        assert_eq!(kind(b":1234\r\n"), Err(ErrorKind::InvalidInteger));
        assert_eq!(kind(b"$1000\r\n"), Err(ErrorKind::InvalidBulkLength));
    }

    #[test]
    fn huge_declared_sizes_wait_without_allocating() {
        let mut decoder = Decoder::with_options(Dialect::Resp2, Role::Request, Limits::default());
        let mut buf = BytesMut::from(&b"*2147483647\r\n$536870912\r\nabc"[..]);
        let capacity = buf.capacity();
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        assert_eq!(
            buf.capacity(),
            capacity,
            "the decoder never reserves for a declared size"
        );
        assert!(decoder.stack.capacity() <= 4 && decoder.tokens.capacity() <= 4);
    }

    #[test]
    fn an_error_sticks() {
        let mut decoder = Decoder::new(Dialect::Resp2);
        let mut buf = BytesMut::from(&b"$x\r\n+OK\r\n"[..]);
        let e = decoder.decode(&mut buf).unwrap_err();
        assert_eq!(decoder.decode(&mut buf), Err(e));
        decoder.reset();
        buf.clear();
        buf.extend_from_slice(b"+OK\r\n");
        assert_eq!(decoder.decode(&mut buf), Ok(Some(Frame::simple("OK"))));
    }
}
