//! The `Frame` enum: one value of any dialect.

use bytes::Bytes;

use super::Dialect;

/// One protocol value, of any dialect. Payloads are [`Bytes`]: a decoded bulk string is a
/// zero-copy slice of the read buffer, and nothing is ever converted to text implicitly.
///
/// Which frames a dialect carries natively is [`Frame::native_in`]; the encoder writes any
/// frame in any dialect, converting by documented rules where it must
/// (see [`crate::encode_into`]).
#[derive(Debug, Clone)]
pub enum Frame {
    /// `+text` (all dialects). Must not contain CR or LF.
    Simple(Bytes),
    /// `-text` (all dialects). Must not contain CR or LF.
    Error(Bytes),
    /// `:n` (all dialects).
    Integer(i64),
    /// `$len` + payload (all dialects).
    Bulk(Bytes),
    /// `$-1`, the RESP2 null bulk string (accepted and written as such in every dialect).
    NullBulk,
    /// `*-1`, the RESP2 null array (accepted and written as such in every dialect).
    NullArray,
    /// `*count` + items (all dialects).
    Array(Vec<Frame>),
    /// `_`, the RESP3 null.
    Null,
    /// `,` in RESP3; in the seed dialect a `:` that holds a float.
    Double(f64),
    /// A double written with a text of its own: `,text` in RESP3, a bulk string of the text in
    /// RESP2 and seed. Servers use it where the text is not the `%.17g` one [`Frame::Double`]
    /// writes (Redis's `addReplyHumanLongDouble`: `%.17Lf` with the trailing zeros cut). Never
    /// produced by decoding: `,text` decodes as [`Frame::Double`].
    DoubleText(Bytes),
    /// `#t` / `#f` (RESP3).
    Boolean(bool),
    /// `!len` + payload (RESP3).
    BlobError(Bytes),
    /// `=len` + `fmt:` + text (RESP3).
    Verbatim {
        /// The three-byte format, `txt` or `mkd`.
        format: [u8; 3],
        /// The text after `fmt:`.
        text: Bytes,
    },
    /// `(digits` in RESP3; in the seed dialect a `:` integer too large for an `i64`.
    /// Holds an optionally signed run of ASCII digits.
    BigNumber(Bytes),
    /// `%pairs` (RESP3 map, seed dict).
    Map(Vec<(Frame, Frame)>),
    /// `~count` in RESP3, `&count` in the seed dialect.
    Set(Vec<Frame>),
    /// `>count` (RESP3 out-of-band push).
    Push(Vec<Frame>),
    /// `|pairs` attributes followed by the frame they describe (RESP3). `streamed` is true for
    /// the `|?` form.
    Attributed {
        /// The attribute map.
        attributes: Vec<(Frame, Frame)>,
        /// Whether the attributes were sent as `|?` ... `.`.
        streamed: bool,
        /// The reply the attributes belong to.
        frame: Box<Frame>,
    },
    /// `$?` followed by `;len` chunks and `;0` (RESP3). Chunks are never empty.
    StreamedString(Vec<Bytes>),
    /// `*?` items `.` (RESP3).
    StreamedArray(Vec<Frame>),
    /// `%?` pairs `.` (RESP3).
    StreamedMap(Vec<(Frame, Frame)>),
    /// `~?` items `.` (RESP3).
    StreamedSet(Vec<Frame>),
    /// `^len` + UTF-8 text (seed). The payload is valid UTF-8.
    Text(Bytes),
    /// `@len` + JSON (seed). The payload is valid JSON.
    Json(Bytes),
    /// An inline request: a line not starting with a marker, split by redis-cli's quoting
    /// rules. Only ever a top-level request.
    Inline(Vec<Bytes>),
}

impl Frame {
    /// A simple string.
    pub fn simple(text: impl Into<Bytes>) -> Frame {
        Frame::Simple(text.into())
    }

    /// A simple error (the text without the leading `-`).
    pub fn error(text: impl Into<Bytes>) -> Frame {
        Frame::Error(text.into())
    }

    /// A bulk string.
    pub fn bulk(payload: impl Into<Bytes>) -> Frame {
        Frame::Bulk(payload.into())
    }

    /// A request as clients send it: an array of bulk strings.
    pub fn command<I, A>(args: I) -> Frame
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        Frame::Array(
            args.into_iter()
                .map(|a| Frame::Bulk(Bytes::copy_from_slice(a.as_ref())))
                .collect(),
        )
    }

    /// The type's name as the RESP3 specification spells it (for messages and reports).
    pub fn type_name(&self) -> &'static str {
        match self {
            Frame::Simple(_) => "simple string",
            Frame::Error(_) => "simple error",
            Frame::Integer(_) => "integer",
            Frame::Bulk(_) => "bulk string",
            Frame::NullBulk => "null bulk string",
            Frame::NullArray => "null array",
            Frame::Array(_) => "array",
            Frame::Null => "null",
            Frame::Double(_) | Frame::DoubleText(_) => "double",
            Frame::Boolean(_) => "boolean",
            Frame::BlobError(_) => "blob error",
            Frame::Verbatim { .. } => "verbatim string",
            Frame::BigNumber(_) => "big number",
            Frame::Map(_) => "map",
            Frame::Set(_) => "set",
            Frame::Push(_) => "push",
            Frame::Attributed { .. } => "attributed reply",
            Frame::StreamedString(_) => "streamed string",
            Frame::StreamedArray(_) => "streamed array",
            Frame::StreamedMap(_) => "streamed map",
            Frame::StreamedSet(_) => "streamed set",
            Frame::Text(_) => "text",
            Frame::Json(_) => "json",
            Frame::Inline(_) => "inline request",
        }
    }

    /// Whether this frame is any kind of error reply.
    pub fn is_error(&self) -> bool {
        matches!(self, Frame::Error(_) | Frame::BlobError(_))
    }

    /// Whether this frame is any kind of null.
    pub fn is_null(&self) -> bool {
        matches!(self, Frame::Null | Frame::NullBulk | Frame::NullArray)
    }

    /// The payload of a string-like frame (simple, error, bulk, blob error, verbatim text,
    /// seed text or JSON); `None` for the others.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Frame::Simple(b)
            | Frame::Error(b)
            | Frame::Bulk(b)
            | Frame::BlobError(b)
            | Frame::Text(b)
            | Frame::Json(b)
            | Frame::BigNumber(b) => Some(b),
            Frame::Verbatim { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The same frame with every byte payload copied into its own allocation. A decoded
    /// frame's payloads are slices of the read buffer (zero-copy); one that outlives the
    /// request (a stored value) should be detached so that it does not keep the whole buffer
    /// alive. Recurses as deep as the frame nests, which decoding bounds at
    /// [`crate::Limits::max_depth`] (as dropping a frame does).
    pub fn detached(self) -> Frame {
        let copy = |b: Bytes| Bytes::copy_from_slice(&b);
        let all = |items: Vec<Frame>| items.into_iter().map(Frame::detached).collect();
        let pairs = |items: Vec<(Frame, Frame)>| {
            items
                .into_iter()
                .map(|(k, v)| (k.detached(), v.detached()))
                .collect()
        };
        match self {
            Frame::Simple(b) => Frame::Simple(copy(b)),
            Frame::Error(b) => Frame::Error(copy(b)),
            Frame::Bulk(b) => Frame::Bulk(copy(b)),
            Frame::BlobError(b) => Frame::BlobError(copy(b)),
            Frame::BigNumber(b) => Frame::BigNumber(copy(b)),
            Frame::Text(b) => Frame::Text(copy(b)),
            Frame::Json(b) => Frame::Json(copy(b)),
            Frame::DoubleText(b) => Frame::DoubleText(copy(b)),
            Frame::Verbatim { format, text } => Frame::Verbatim {
                format,
                text: copy(text),
            },
            Frame::StreamedString(chunks) => {
                Frame::StreamedString(chunks.into_iter().map(copy).collect())
            }
            Frame::Inline(args) => Frame::Inline(args.into_iter().map(copy).collect()),
            Frame::Array(items) => Frame::Array(all(items)),
            Frame::Set(items) => Frame::Set(all(items)),
            Frame::Push(items) => Frame::Push(all(items)),
            Frame::StreamedArray(items) => Frame::StreamedArray(all(items)),
            Frame::StreamedSet(items) => Frame::StreamedSet(all(items)),
            Frame::Map(p) => Frame::Map(pairs(p)),
            Frame::StreamedMap(p) => Frame::StreamedMap(pairs(p)),
            Frame::Attributed {
                attributes,
                streamed,
                frame,
            } => Frame::Attributed {
                attributes: pairs(attributes),
                streamed,
                frame: Box::new(frame.detached()),
            },
            scalar @ (Frame::Integer(_)
            | Frame::NullBulk
            | Frame::NullArray
            | Frame::Null
            | Frame::Double(_)
            | Frame::Boolean(_)) => scalar,
        }
    }

    /// Whether `encode_into(self, dialect)` followed by decoding in `dialect` (role
    /// [`crate::Role::Any`], default limits) gives back an equal frame. Frames that are
    /// not native are written by the conversion rules of [`crate::encode_into`].
    pub fn native_in(&self, dialect: Dialect) -> bool {
        self.native_at(dialect, true)
    }

    fn native_at(&self, d: Dialect, top: bool) -> bool {
        let resp3 = d == Dialect::Resp3;
        let seed = d == Dialect::Seed;
        let all = |items: &[Frame]| items.iter().all(|f| f.native_at(d, false));
        let pairs = |items: &[(Frame, Frame)]| {
            items
                .iter()
                .all(|(k, v)| k.native_at(d, false) && v.native_at(d, false))
        };
        match self {
            Frame::Simple(b) | Frame::Error(b) => !b.iter().any(|&c| c == b'\r' || c == b'\n'),
            Frame::Integer(_) | Frame::Bulk(_) | Frame::NullBulk | Frame::NullArray => true,
            Frame::Array(items) => all(items),
            Frame::Null | Frame::Boolean(_) | Frame::BlobError(_) | Frame::Verbatim { .. } => resp3,
            Frame::Double(_) => resp3 || seed,
            Frame::DoubleText(_) => false,
            Frame::BigNumber(b) => {
                let well_formed = is_big_number(b);
                (resp3 && well_formed)
                    || (seed
                        && well_formed
                        && std::str::from_utf8(b).is_ok_and(|s| s.parse::<i64>().is_err()))
            }
            Frame::Map(p) => (resp3 || seed) && pairs(p),
            Frame::Set(items) => (resp3 || seed) && all(items),
            Frame::Push(items) | Frame::StreamedArray(items) | Frame::StreamedSet(items) => {
                resp3 && all(items)
            }
            Frame::StreamedMap(p) => resp3 && pairs(p),
            Frame::Attributed {
                attributes, frame, ..
            } => resp3 && pairs(attributes) && frame.native_at(d, false),
            Frame::StreamedString(chunks) => resp3 && chunks.iter().all(|c| !c.is_empty()),
            Frame::Text(b) => seed && std::str::from_utf8(b).is_ok(),
            Frame::Json(b) => seed && crate::json::is_valid_json(b),
            Frame::Inline(args) => {
                top && !args.is_empty()
                    && super::inline::quoted_line_len(args) <= super::limits::DEFAULT_MAX_LINE_LEN
            }
        }
    }
}

/// Whether `b` is an optionally signed, non-empty run of ASCII digits.
pub(crate) fn is_big_number(b: &[u8]) -> bool {
    let digits = match b.first() {
        Some(b'-') | Some(b'+') => &b[1..],
        _ => b,
    };
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}

/// Frames are equal when they would be written identically: doubles compare by bit pattern
/// (so `NaN == NaN` and `0.0 != -0.0`), everything else structurally.
impl PartialEq for Frame {
    fn eq(&self, other: &Frame) -> bool {
        use Frame::*;
        match (self, other) {
            (Simple(a), Simple(b))
            | (Error(a), Error(b))
            | (Bulk(a), Bulk(b))
            | (BlobError(a), BlobError(b))
            | (BigNumber(a), BigNumber(b))
            | (Text(a), Text(b))
            | (Json(a), Json(b))
            | (DoubleText(a), DoubleText(b)) => a == b,
            (Integer(a), Integer(b)) => a == b,
            (NullBulk, NullBulk) | (NullArray, NullArray) | (Null, Null) => true,
            (Double(a), Double(b)) => a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
            (Boolean(a), Boolean(b)) => a == b,
            (
                Verbatim { format, text },
                Verbatim {
                    format: f2,
                    text: t2,
                },
            ) => format == f2 && text == t2,
            (Array(a), Array(b))
            | (Set(a), Set(b))
            | (Push(a), Push(b))
            | (StreamedArray(a), StreamedArray(b))
            | (StreamedSet(a), StreamedSet(b)) => a == b,
            (Map(a), Map(b)) | (StreamedMap(a), StreamedMap(b)) => a == b,
            (
                Attributed {
                    attributes,
                    streamed,
                    frame,
                },
                Attributed {
                    attributes: a2,
                    streamed: s2,
                    frame: f2,
                },
            ) => streamed == s2 && attributes == a2 && frame == f2,
            (StreamedString(a), StreamedString(b)) | (Inline(a), Inline(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Frame {}

impl From<&str> for Frame {
    /// A bulk string holding the text's UTF-8 bytes.
    fn from(s: &str) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<i64> for Frame {
    fn from(n: i64) -> Frame {
        Frame::Integer(n)
    }
}
