//! A borrowed view of a request, for a server's hot path.
//!
//! Almost every request on the wire is an array of bulk strings. [`Decoder::decode_request`]
//! returns one as [`Args`]: the frame's bytes (one `Bytes` handle, one reference count) and
//! the ranges of its arguments, inline for up to [`INLINE_ARGS`] arguments. A command like
//! `SET k v` then costs no allocation and no per-argument reference count; an argument that
//! must outlive the request (a stored value) is sliced out with [`Args::bytes`]. Anything else
//! (inline commands, seed typed values, nulls) comes back as a full [`Frame`].

use bytes::{Bytes, BytesMut};

use super::{DecodeError, Decoder, Frame};

/// Arguments held without allocating; a request with more uses a `Vec`.
pub const INLINE_ARGS: usize = 8;

/// A decoded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// An array of bulk strings, as views into its bytes.
    Args(Args),
    /// Any other frame (an inline command, a seed request with typed values, ...).
    Frame(Frame),
}

impl Request {
    /// The request as a [`Frame`] (an array of bulk strings for [`Request::Args`]).
    pub fn into_frame(self) -> Frame {
        match self {
            Request::Args(args) => args.to_frame(),
            Request::Frame(frame) => frame,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ranges {
    Inline([(u32, u32); INLINE_ARGS], u8),
    Heap(Vec<(u32, u32)>),
}

/// The arguments of an array-of-bulk-strings request: the frame's exact bytes and where each
/// argument lies in them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    raw: Bytes,
    ranges: Ranges,
}

impl Args {
    fn ranges(&self) -> &[(u32, u32)] {
        match &self.ranges {
            Ranges::Inline(r, n) => r.get(..usize::from(*n)).unwrap_or_default(),
            Ranges::Heap(v) => v,
        }
    }

    /// How many arguments (the command name included).
    pub fn len(&self) -> usize {
        self.ranges().len()
    }

    /// Whether there are none (never, for a decoded request: Redis skips `*0`).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Argument `i`, borrowed.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let &(start, end) = self.ranges().get(i)?;
        self.raw.get(start as usize..end as usize)
    }

    /// Argument `i` as its own `Bytes` (a slice of the request: no copy).
    pub fn bytes(&self, i: usize) -> Option<Bytes> {
        let &(start, end) = self.ranges().get(i)?;
        let (start, end) = (start as usize, end as usize);
        (end <= self.raw.len() && start <= end).then(|| self.raw.slice(start..end))
    }

    /// Every argument, borrowed.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.ranges()
            .iter()
            .map(|&(s, e)| self.raw.get(s as usize..e as usize).unwrap_or_default())
    }

    /// The request's exact bytes on the wire.
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }

    /// The request as an array of bulk strings.
    pub fn to_frame(&self) -> Frame {
        Frame::Array(
            (0..self.len())
                .filter_map(|i| self.bytes(i))
                .map(Frame::Bulk)
                .collect(),
        )
    }
}

impl Decoder {
    /// Decodes the next request as [`Request::Args`] when it is an array of bulk strings
    /// complete in `buf`, else as a [`Frame`] exactly as [`Decoder::decode`] would. Errors,
    /// limits and `Ok(None)` are those of [`Decoder::decode`].
    pub fn decode_request(&mut self, buf: &mut BytesMut) -> Result<Option<Request>, DecodeError> {
        if let Some(end) = self.scan_bulk_array_at_start(buf) {
            let fits = u32::try_from(end).is_ok();
            if fits {
                let raw = buf.split_to(end).freeze();
                let bulks = self.take_bulk_ranges();
                let to32 = |r: &std::ops::Range<usize>| (r.start as u32, r.end as u32);
                let ranges = if bulks.len() <= INLINE_ARGS {
                    let mut inline = [(0, 0); INLINE_ARGS];
                    for (slot, r) in inline.iter_mut().zip(bulks) {
                        *slot = to32(r);
                    }
                    Ranges::Inline(inline, bulks.len() as u8)
                } else {
                    Ranges::Heap(bulks.iter().map(to32).collect())
                };
                self.finish_bulk_array(end);
                return Ok(Some(Request::Args(Args { raw, ranges })));
            }
        }
        Ok(self.decode(buf)?.map(Request::Frame))
    }
}
