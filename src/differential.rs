//! Differential properties: our decoder against other RESP parsers on the same bytes. A
//! disagreement is a bug in one of them; each is triaged against the RESP2/RESP3 specifications
//! and Redis's own behaviour (see `fuzz/findings/`).
//!
//! Both sides read replies (role [`Role::Reply`]) from the same buffer, one frame at a time.
//! At each step each side either yields a frame and the bytes it consumed, or does not
//! (incomplete or an error). The step agrees when both yield frames that are equal after
//! normalisation and consumed the same bytes, or when neither yields one. "Incomplete" and
//! "error" count as the same answer: a parser that waits for more bytes on input that can
//! never become valid is slower to say no, not more accepting, and which it does depends on
//! how far each looks ahead.
//!
//! Normalisations, each for a difference of representation, not of acceptance:
//! - RESP2 `$-1` and `*-1` are one `Null` in redis-protocol; ours keeps `NullBulk` and
//!   `NullArray` apart. Both become `Null`.
//! - redis-protocol's RESP3 maps, sets and attributes are hash maps: no wire order, a repeated
//!   key keeps its first value (as its decoder builds them), a repeated member appears once.
//!   Ours keeps the wire's pairs.
//!   Both sides are folded into key order before comparing.
//! - A double is compared by its bits, with every NaN as one NaN and `-0.0` as `0.0`.
//!
//! Steps where redis-protocol's model cannot hold what the wire says end the comparison
//! (documented in `fuzz/findings/redis-protocol.md`, never counted as agreement on a frame):
//! - a simple or blob error that is not UTF-8 (it stores errors as `String`; Redis sends any
//!   bytes),
//! - a verbatim string whose format is not `txt` or `mkd` (it knows only those two; the RESP3
//!   spec allows any three bytes),
//! - streamed strings and aggregates (its complete decoder does not assemble them),
//! - a line starting with `H` in RESP3 (it reads `HELLO ...` as a frame of its own),
//! - a NaN as a map key or set member (NaN is unequal to itself, so a hash map keeps each one
//!   apart and no folding can match it).

use bytes::{Bytes, BytesMut};
use redis_protocol::resp2::types::OwnedFrame as Rp2;
use redis_protocol::resp3::types::{OwnedFrame as Rp3, VerbatimStringFormat};

use crate::resp::{Decoder, Dialect, Frame, Limits, Role};

/// A frame in the shape both parsers can be compared in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Norm {
    /// Simple string.
    Simple(Vec<u8>),
    /// Simple error.
    Error(Vec<u8>),
    /// Integer.
    Integer(i64),
    /// Bulk string.
    Bulk(Vec<u8>),
    /// Any null.
    Null,
    /// Array (and RESP3 push, tagged).
    Array(bool, Vec<Norm>),
    /// Double, by bits (`-0.0` as `0.0`).
    Double(u64),
    /// Boolean.
    Boolean(bool),
    /// Blob error.
    BlobError(Vec<u8>),
    /// Verbatim string: format and text.
    Verbatim(Vec<u8>, Vec<u8>),
    /// Big number digits.
    BigNumber(Vec<u8>),
    /// Map, folded as a hash map would hold it.
    Map(Vec<(Norm, Norm)>),
    /// Set, folded.
    Set(Vec<Norm>),
    /// A frame with attributes before it.
    Attributed(Vec<(Norm, Norm)>, Box<Norm>),
}

/// Why a comparison stopped before the end of the input without a disagreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmodelled {
    /// An error that is not UTF-8.
    NonUtf8Error,
    /// A verbatim format other than `txt`/`mkd`.
    VerbatimFormat,
    /// A streamed string or aggregate.
    Streamed,
    /// A RESP3 line starting with `H`.
    Hello,
    /// A NaN as a map key or set member: NaN is not equal to itself, so a hash map keeps every
    /// one apart and no folding can match it.
    NanKey,
    /// Aggregates nested deeper than the other parser supports (hiredis: 7).
    TooDeep,
}

fn double(f: f64) -> Norm {
    Norm::Double(if f == 0.0 {
        0
    } else if f.is_nan() {
        f64::NAN.to_bits()
    } else {
        f.to_bits()
    })
}

fn is_nan(n: &Norm) -> bool {
    *n == Norm::Double(f64::NAN.to_bits())
}

/// `Err` when a map key or set member is a NaN ([`Unmodelled::NanKey`]).
fn no_nan_keys<'a>(mut keys: impl Iterator<Item = &'a Norm>) -> Result<(), Unmodelled> {
    if keys.any(is_nan) {
        Err(Unmodelled::NanKey)
    } else {
        Ok(())
    }
}

/// Folds pairs as redis-protocol's map holds them: one entry per key, the first value, in key order
/// (a hash map's iteration order is not the wire's).
fn fold_pairs(pairs: Vec<(Norm, Norm)>) -> Vec<(Norm, Norm)> {
    let mut map = std::collections::BTreeMap::new();
    for (k, v) in pairs {
        map.entry(k).or_insert(v);
    }
    map.into_iter().collect()
}

/// Folds members as a hash set holds them: once each, in order.
fn fold_set(items: Vec<Norm>) -> Vec<Norm> {
    let set: std::collections::BTreeSet<Norm> = items.into_iter().collect();
    set.into_iter().collect()
}

/// Ours, normalised for redis-protocol; `Err` when the frame holds something it cannot model.
pub fn normalise_ours(frame: &Frame) -> Result<Norm, Unmodelled> {
    normalise_for(frame, true)
}

/// Ours, normalised; `utf8_errors` when the other parser holds error texts as UTF-8 strings
/// (a non-UTF-8 error is then [`Unmodelled::NonUtf8Error`]).
pub fn normalise_for(frame: &Frame, utf8_errors: bool) -> Result<Norm, Unmodelled> {
    let normalise_ours = |f: &Frame| normalise_for(f, utf8_errors);
    let pairs = |p: &[(Frame, Frame)]| -> Result<Vec<(Norm, Norm)>, Unmodelled> {
        p.iter()
            .map(|(k, v)| Ok((normalise_ours(k)?, normalise_ours(v)?)))
            .collect()
    };
    let items =
        |i: &[Frame]| -> Result<Vec<Norm>, Unmodelled> { i.iter().map(normalise_ours).collect() };
    Ok(match frame {
        Frame::Simple(b) => Norm::Simple(b.to_vec()),
        Frame::Error(b) => {
            if utf8_errors {
                std::str::from_utf8(b).map_err(|_| Unmodelled::NonUtf8Error)?;
            }
            Norm::Error(b.to_vec())
        }
        Frame::Integer(i) => Norm::Integer(*i),
        Frame::Bulk(b) => Norm::Bulk(b.to_vec()),
        Frame::NullBulk | Frame::NullArray | Frame::Null => Norm::Null,
        Frame::Array(i) => Norm::Array(false, items(i)?),
        Frame::Push(i) => Norm::Array(true, items(i)?),
        Frame::Double(f) => double(*f),
        Frame::Boolean(b) => Norm::Boolean(*b),
        Frame::BlobError(b) => {
            if utf8_errors {
                std::str::from_utf8(b).map_err(|_| Unmodelled::NonUtf8Error)?;
            }
            Norm::BlobError(b.to_vec())
        }
        Frame::Verbatim { format, text } => {
            if format != b"txt" && format != b"mkd" {
                return Err(Unmodelled::VerbatimFormat);
            }
            Norm::Verbatim(format.to_vec(), text.to_vec())
        }
        Frame::BigNumber(b) => Norm::BigNumber(b.to_vec()),
        Frame::Map(p) => {
            let p = pairs(p)?;
            no_nan_keys(p.iter().map(|(k, _)| k))?;
            Norm::Map(fold_pairs(p))
        }
        Frame::Set(i) => {
            let i = items(i)?;
            no_nan_keys(i.iter())?;
            Norm::Set(fold_set(i))
        }
        Frame::Attributed {
            attributes, frame, ..
        } => {
            let a = pairs(attributes)?;
            no_nan_keys(a.iter().map(|(k, _)| k))?;
            Norm::Attributed(fold_pairs(a), Box::new(normalise_ours(frame)?))
        }
        Frame::StreamedString(_)
        | Frame::StreamedArray(_)
        | Frame::StreamedMap(_)
        | Frame::StreamedSet(_) => return Err(Unmodelled::Streamed),
        // Not reply frames of RESP2/RESP3: the decoder never yields them here.
        Frame::Text(b) | Frame::Json(b) => Norm::Bulk(b.to_vec()),
        Frame::DoubleText(t) => double(
            std::str::from_utf8(t)
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(f64::NAN),
        ),
        Frame::Inline(args) => {
            Norm::Array(false, args.iter().map(|a| Norm::Bulk(a.to_vec())).collect())
        }
    })
}

fn normalise_rp2(frame: Rp2) -> Norm {
    match frame {
        Rp2::SimpleString(s) => Norm::Simple(s),
        Rp2::Error(e) => Norm::Error(e.into_bytes()),
        Rp2::Integer(i) => Norm::Integer(i),
        Rp2::BulkString(b) => Norm::Bulk(b),
        Rp2::Array(items) => Norm::Array(false, items.into_iter().map(normalise_rp2).collect()),
        Rp2::Null => Norm::Null,
    }
}

fn normalise_rp3(frame: Rp3) -> Result<Norm, Unmodelled> {
    let attrs = |a: Option<redis_protocol::resp3::types::OwnedAttributes>| {
        a.map(|a| {
            a.into_iter()
                .map(|(k, v)| Ok((normalise_rp3(k)?, normalise_rp3(v)?)))
                .collect::<Result<Vec<_>, Unmodelled>>()
                .map(fold_pairs)
        })
        .transpose()
    };
    let (norm, attributes) = match frame {
        Rp3::BlobString { data, attributes } => (Norm::Bulk(data), attrs(attributes)?),
        Rp3::BlobError { data, attributes } => (Norm::BlobError(data), attrs(attributes)?),
        Rp3::SimpleString { data, attributes } => (Norm::Simple(data), attrs(attributes)?),
        Rp3::SimpleError { data, attributes } => {
            (Norm::Error(data.into_bytes()), attrs(attributes)?)
        }
        Rp3::Boolean { data, attributes } => (Norm::Boolean(data), attrs(attributes)?),
        Rp3::Null => (Norm::Null, None),
        Rp3::Number { data, attributes } => (Norm::Integer(data), attrs(attributes)?),
        Rp3::Double { data, attributes } => (double(data), attrs(attributes)?),
        Rp3::BigNumber { data, attributes } => (Norm::BigNumber(data), attrs(attributes)?),
        Rp3::VerbatimString {
            data,
            format,
            attributes,
        } => {
            let format = match format {
                VerbatimStringFormat::Text => b"txt".to_vec(),
                VerbatimStringFormat::Markdown => b"mkd".to_vec(),
            };
            (Norm::Verbatim(format, data), attrs(attributes)?)
        }
        Rp3::Array { data, attributes } => (
            Norm::Array(
                false,
                data.into_iter()
                    .map(normalise_rp3)
                    .collect::<Result<_, _>>()?,
            ),
            attrs(attributes)?,
        ),
        Rp3::Push { data, attributes } => (
            Norm::Array(
                true,
                data.into_iter()
                    .map(normalise_rp3)
                    .collect::<Result<_, _>>()?,
            ),
            attrs(attributes)?,
        ),
        Rp3::Map { data, attributes } => (
            Norm::Map(fold_pairs(
                data.into_iter()
                    .map(|(k, v)| Ok((normalise_rp3(k)?, normalise_rp3(v)?)))
                    .collect::<Result<_, Unmodelled>>()?,
            )),
            attrs(attributes)?,
        ),
        Rp3::Set { data, attributes } => (
            Norm::Set(fold_set(
                data.into_iter()
                    .map(normalise_rp3)
                    .collect::<Result<_, Unmodelled>>()?,
            )),
            attrs(attributes)?,
        ),
        Rp3::Hello { .. } => return Err(Unmodelled::Hello),
        Rp3::ChunkedString(_) => return Err(Unmodelled::Streamed),
    };
    Ok(match attributes {
        Some(a) => Norm::Attributed(a, Box::new(norm)),
        None => norm,
    })
}

/// One parser's answer at one step: a frame and the bytes it took, or no frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A complete frame of this many bytes.
    Frame(Norm, usize),
    /// Incomplete or malformed.
    NoFrame,
}

/// Where the two parsers first disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    /// Byte offset of the step.
    pub offset: usize,
    /// Our answer.
    pub ours: Step,
    /// The other parser's answer.
    pub theirs: Step,
    /// Who it points at.
    pub blame: Blame,
}

/// The other parser of a differential comparison.
pub trait Peer {
    /// Whether it holds error texts as UTF-8 strings (see [`normalise_for`]).
    const UTF8_ERRORS: bool;
    /// Its answer for the next frame; `rest` is the input from the current offset (a peer
    /// that keeps its own reader may ignore it). `Err` ends the comparison quietly: the step
    /// holds what the peer cannot model.
    fn step(&mut self, rest: &[u8]) -> Result<Step, Unmodelled>;
    /// Whether it reads `bytes`, by themselves, as exactly one frame.
    fn takes_whole(&self, bytes: &[u8]) -> bool;
}

/// The `redis-protocol` crate as a [`Peer`].
struct RedisProtocol {
    resp3: bool,
}

impl Peer for RedisProtocol {
    const UTF8_ERRORS: bool = true;

    fn step(&mut self, rest: &[u8]) -> Result<Step, Unmodelled> {
        if self.resp3 {
            if rest.first() == Some(&b'H') {
                return Err(Unmodelled::Hello);
            }
            Ok(
                match redis_protocol::resp3::decode::complete::decode(rest) {
                    Ok(Some((frame, n))) => Step::Frame(normalise_rp3(frame)?, n),
                    _ => Step::NoFrame,
                },
            )
        } else {
            Ok(match redis_protocol::resp2::decode::decode(rest) {
                Ok(Some((frame, n))) => Step::Frame(normalise_rp2(frame), n),
                _ => Step::NoFrame,
            })
        }
    }

    fn takes_whole(&self, bytes: &[u8]) -> bool {
        theirs_takes_whole(bytes, self.resp3)
    }
}

/// Runs both decoders over `input` in `dialect` (RESP2 or RESP3) and returns the first
/// disagreement, if any. Steps redis-protocol cannot model end the comparison quietly.
pub fn compare_with_redis_protocol(input: &[u8], dialect: Dialect) -> Option<Disagreement> {
    let resp3 = dialect == Dialect::Resp3;
    compare_with(input, dialect, &mut RedisProtocol { resp3 })
}

/// Runs our decoder and `peer` over `input` in `dialect`, frame by frame, and returns the
/// first disagreement with its blame, if any. Steps the peer cannot model end the comparison
/// quietly.
pub fn compare_with<P: Peer>(input: &[u8], dialect: Dialect, peer: &mut P) -> Option<Disagreement> {
    let mut decoder = Decoder::with_options(dialect, Role::Reply, Limits::default());
    let mut buf = BytesMut::from(input);
    let mut offset = 0;
    while offset < input.len() {
        let rest = input.get(offset..).unwrap_or_default();
        let mut our_frame = None;
        let ours = match decoder.decode_with_raw(&mut buf) {
            Ok(Some((frame, raw))) => match normalise_for(&frame, P::UTF8_ERRORS) {
                Ok(norm) => {
                    our_frame = Some(frame);
                    Step::Frame(norm, consumed(&raw, &decoder, offset))
                }
                Err(_) => return None,
            },
            Ok(None) | Err(_) => Step::NoFrame,
        };
        let theirs = peer.step(rest).ok()?;
        let verdict = match (&ours, &theirs) {
            (Step::Frame(a, n), Step::Frame(b, m)) if a == b && n == m => {
                offset += n;
                continue;
            }
            (Step::NoFrame, Step::NoFrame) => return None,
            (Step::Frame(..), Step::Frame(..)) => Blame::Meaning,
            // Only theirs took a frame: if its frame written canonically is exactly the bytes
            // it took, ours refused canonical input (ours is wrong); if not, theirs accepted
            // non-canonical bytes (its leniency, listed in the findings file).
            (Step::NoFrame, Step::Frame(norm, n)) => {
                let took = rest.get(..*n).unwrap_or_default();
                let valid = spec_valid(norm);
                if valid && canonical(norm, dialect).as_deref() == Some(took) {
                    Blame::OursRefusesCanonical
                } else {
                    Blame::TheirsLenient
                }
            }
            // Only ours took a frame: if those bytes are how our encoder writes that very
            // frame, theirs refused well-formed input (its strictness, listed); if not, ours
            // accepted a looser spelling theirs refuses, which needs a look.
            // (When the spelling differs, theirs is asked about ours's canonical writing: if it
            // refuses that too, it refuses the content, whatever the spelling.)
            (Step::Frame(_, n), Step::NoFrame) => {
                let took = rest.get(..*n).unwrap_or_default();
                let ours_canonical = our_frame.map(|f| crate::resp::encode(&f, dialect));
                let canonical = ours_canonical.as_deref().unwrap_or_default();
                if canonical == took || !peer.takes_whole(canonical) {
                    Blame::TheirsStrict
                } else {
                    Blame::OursLenient
                }
            }
        };
        return Some(Disagreement {
            offset,
            ours,
            theirs,
            blame: verdict,
        });
    }
    None
}

/// Who a disagreement points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blame {
    /// Both took a frame, and they differ in meaning or length.
    Meaning,
    /// Ours refused bytes that are the canonical writing of the frame theirs read.
    OursRefusesCanonical,
    /// Ours took non-canonical bytes that theirs refused.
    OursLenient,
    /// Theirs took non-canonical bytes that ours refused (per the specification).
    TheirsLenient,
    /// Theirs refused canonical bytes that ours took.
    TheirsStrict,
}

impl Blame {
    /// Whether this disagreement may be a defect of ours (the fuzz target fails on these).
    pub fn implicates_ours(self) -> bool {
        matches!(
            self,
            Blame::Meaning | Blame::OursRefusesCanonical | Blame::OursLenient
        )
    }
}

/// Whether a value's payloads are what the specifications allow: no CR or LF in simple
/// strings and errors, a big number of an optional sign and digits.
fn spec_valid(norm: &Norm) -> bool {
    let line = |v: &[u8]| !v.iter().any(|&c| c == b'\r' || c == b'\n');
    match norm {
        Norm::Simple(v) | Norm::Error(v) => line(v),
        Norm::BigNumber(v) => {
            let digits = v
                .strip_prefix(b"-")
                .or_else(|| v.strip_prefix(b"+"))
                .unwrap_or(v);
            !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
        }
        Norm::Array(_, items) | Norm::Set(items) => items.iter().all(spec_valid),
        Norm::Map(pairs) => pairs.iter().all(|(k, v)| spec_valid(k) && spec_valid(v)),
        Norm::Attributed(pairs, f) => {
            pairs.iter().all(|(k, v)| spec_valid(k) && spec_valid(v)) && spec_valid(f)
        }
        _ => true,
    }
}

/// How our encoder writes the frame a normalised value stands for, when that is one frame
/// (folded maps and sets are written in key order, so a wire order that differs is not
/// canonical here: a false "not canonical", never a false "canonical").
fn canonical(norm: &Norm, dialect: Dialect) -> Option<Vec<u8>> {
    let frame = denormalise(norm, dialect)?;
    Some(crate::resp::encode(&frame, dialect).to_vec())
}

fn denormalise(norm: &Norm, dialect: Dialect) -> Option<Frame> {
    let b = |v: &[u8]| Bytes::copy_from_slice(v);
    let pairs = |p: &[(Norm, Norm)]| -> Option<Vec<(Frame, Frame)>> {
        p.iter()
            .map(|(k, v)| Some((denormalise(k, dialect)?, denormalise(v, dialect)?)))
            .collect()
    };
    let items =
        |i: &[Norm]| -> Option<Vec<Frame>> { i.iter().map(|n| denormalise(n, dialect)).collect() };
    Some(match norm {
        Norm::Simple(v) => Frame::Simple(b(v)),
        Norm::Error(v) => Frame::Error(b(v)),
        Norm::Integer(i) => Frame::Integer(*i),
        Norm::Bulk(v) => Frame::Bulk(b(v)),
        Norm::Null if dialect == Dialect::Resp3 => Frame::Null,
        Norm::Null => Frame::NullBulk,
        Norm::Array(false, i) => Frame::Array(items(i)?),
        Norm::Array(true, i) => Frame::Push(items(i)?),
        Norm::Double(bits) => Frame::Double(f64::from_bits(*bits)),
        Norm::Boolean(v) => Frame::Boolean(*v),
        Norm::BlobError(v) => Frame::BlobError(b(v)),
        Norm::Verbatim(format, text) => Frame::Verbatim {
            format: <[u8; 3]>::try_from(&format[..]).ok()?,
            text: b(text),
        },
        Norm::BigNumber(v) => Frame::BigNumber(b(v)),
        Norm::Map(p) => Frame::Map(pairs(p)?),
        Norm::Set(i) => Frame::Set(items(i)?),
        Norm::Attributed(a, f) => Frame::Attributed {
            attributes: pairs(a)?,
            streamed: false,
            frame: Box::new(denormalise(f, dialect)?),
        },
    })
}

/// Whether redis-protocol reads `bytes` as exactly one frame.
fn theirs_takes_whole(bytes: &[u8], resp3: bool) -> bool {
    let taken = if resp3 {
        redis_protocol::resp3::decode::complete::decode(bytes).map(|r| r.map(|(_, n)| n))
    } else {
        redis_protocol::resp2::decode::decode(bytes).map(|r| r.map(|(_, n)| n))
    };
    matches!(taken, Ok(Some(n)) if n == bytes.len())
}

/// Bytes our decoder consumed for a frame whose raw bytes are `raw`: up to its offset.
pub(crate) fn consumed(raw: &Bytes, decoder: &Decoder, offset: usize) -> usize {
    let end = usize::try_from(decoder.offset()).unwrap_or(usize::MAX);
    end.saturating_sub(offset).max(raw.len())
}

/// The stack of the thread a differential comparison runs on (see
/// [`check_diff_redis_protocol`]).
pub const COMPARISON_STACK: usize = 256 * 1024 * 1024;

/// The `diff_redis_protocol` fuzz target's property: the first byte picks RESP2 or RESP3, the
/// rest is fed to both decoders, and a disagreement that may be ours ([`Blame::implicates_ours`])
/// panics with both answers. The others are redis-protocol's, listed in
/// `fuzz/findings/redis-protocol.md`.
pub fn check_diff_redis_protocol(data: &[u8]) {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let dialect = if selector & 1 == 0 {
        Dialect::Resp2
    } else {
        Dialect::Resp3
    };
    // redis-protocol parses recursively (one nesting level per stack frame, up to a quarter
    // of the input's length): on a test thread's 2 MiB stack a 4 KiB input of `*1\r\n` overflows
    // it in a debug build. The comparison runs on a thread with a stack that fits any input
    // the fuzzer makes.
    let input = input.to_vec();
    let compared = std::thread::Builder::new()
        .stack_size(COMPARISON_STACK)
        .spawn(move || compare_with_redis_protocol(&input, dialect).map(|d| (d, input)))
        .map(|t| t.join());
    let found = match compared {
        Ok(Ok(found)) => found,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(e) => panic!("cannot start the comparison thread: {e}"),
    };
    if let Some((d, input)) = found.filter(|(d, _)| d.blame.implicates_ours()) {
        panic!(
            "{dialect}: parsers disagree ({:?}) at byte {} of \"{}\": ours {:?}, redis-protocol {:?}",
            d.blame,
            d.offset,
            crate::resp::escape_bytes(&input),
            d.ours,
            d.theirs
        );
    }
}
