//! `arbitrary::Arbitrary` for [`Frame`]: the one generator of frames, shared by the fuzz
//! targets and the property tests.
//!
//! It generates only well-formed frames (simple strings without CR/LF, big numbers of digits,
//! UTF-8 text, valid JSON, non-empty streamed chunks, inline requests only at the top), of
//! every variant, with nesting bounded by [`MAX_ARBITRARY_DEPTH`] and aggregates of at most
//! [`MAX_ARBITRARY_ITEMS`] items, so a fuzz input can never make the generator itself recurse
//! deeply or allocate much.

use arbitrary::{Arbitrary, Result, Unstructured};
use bytes::Bytes;

use super::Frame;

/// Deepest nesting of a generated frame.
pub const MAX_ARBITRARY_DEPTH: usize = 6;
/// Most items in one generated aggregate.
pub const MAX_ARBITRARY_ITEMS: usize = 6;

impl<'a> Arbitrary<'a> for Frame {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        frame(u, 0)
    }
}

/// The number of leaf variants (choices `0..LEAVES`); aggregates follow.
const LEAVES: u8 = 15;
const ALL: u8 = 24;

fn frame(u: &mut Unstructured<'_>, depth: usize) -> Result<Frame> {
    let last = if depth >= MAX_ARBITRARY_DEPTH || u.is_empty() {
        LEAVES - 1
    } else {
        ALL - 1
    };
    Ok(match u.int_in_range(0..=last)? {
        0 => Frame::Simple(line(u)?),
        1 => Frame::Error(line(u)?),
        2 => Frame::Integer(u.arbitrary()?),
        3 => Frame::Bulk(payload(u)?),
        4 => Frame::NullBulk,
        5 => Frame::NullArray,
        6 => Frame::Null,
        7 => Frame::Double(u.arbitrary()?),
        8 => Frame::Boolean(u.arbitrary()?),
        9 => Frame::BlobError(payload(u)?),
        10 => Frame::Verbatim {
            format: u.arbitrary()?,
            text: payload(u)?,
        },
        11 => Frame::BigNumber(big_number(u)?),
        12 => Frame::Text(Bytes::from(String::arbitrary(u)?)),
        13 => Frame::Json(json(u)?),
        14 if depth == 0 => {
            let mut args = vec![payload(u)?];
            for _ in 0..u.int_in_range(0..=3)? {
                args.push(payload(u)?);
            }
            Frame::Inline(args)
        }
        14 => Frame::Bulk(payload(u)?),
        15 => Frame::Array(items(u, depth)?),
        16 => Frame::Map(pairs(u, depth)?),
        17 => Frame::Set(items(u, depth)?),
        18 => Frame::Push(items(u, depth)?),
        19 => Frame::Attributed {
            attributes: pairs(u, depth)?,
            streamed: u.arbitrary()?,
            frame: Box::new(frame(u, depth + 1)?),
        },
        20 => {
            let mut chunks = Vec::new();
            for _ in 0..u.int_in_range(0..=MAX_ARBITRARY_ITEMS)? {
                let mut chunk = payload(u)?;
                if chunk.is_empty() {
                    chunk = Bytes::from_static(b"x");
                }
                chunks.push(chunk);
            }
            Frame::StreamedString(chunks)
        }
        21 => Frame::StreamedArray(items(u, depth)?),
        22 => Frame::StreamedMap(pairs(u, depth)?),
        _ => Frame::StreamedSet(items(u, depth)?),
    })
}

fn items(u: &mut Unstructured<'_>, depth: usize) -> Result<Vec<Frame>> {
    let n = u.int_in_range(0..=MAX_ARBITRARY_ITEMS)?;
    (0..n).map(|_| frame(u, depth + 1)).collect()
}

fn pairs(u: &mut Unstructured<'_>, depth: usize) -> Result<Vec<(Frame, Frame)>> {
    let n = u.int_in_range(0..=MAX_ARBITRARY_ITEMS / 2)?;
    (0..n)
        .map(|_| Ok((frame(u, depth + 1)?, frame(u, depth + 1)?)))
        .collect()
}

fn payload(u: &mut Unstructured<'_>) -> Result<Bytes> {
    Ok(Bytes::copy_from_slice(<&[u8]>::arbitrary(u)?))
}

/// Bytes for a line-typed frame: anything but CR and LF.
fn line(u: &mut Unstructured<'_>) -> Result<Bytes> {
    let raw = <&[u8]>::arbitrary(u)?;
    Ok(raw
        .iter()
        .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c })
        .collect())
}

/// A canonical big number: no leading zeros, no `-0` (a non-canonical one is legal on the
/// wire, but is not written back the same way by every dialect).
fn big_number(u: &mut Unstructured<'_>) -> Result<Bytes> {
    let n = u.int_in_range(1..=40)?;
    let mut text = Vec::new();
    let first = u.int_in_range(if n == 1 { 0..=9 } else { 1..=9 })?;
    if first != 0 && u.arbitrary()? {
        text.push(b'-');
    }
    text.push(b'0' + first);
    for _ in 1..n {
        text.push(b'0' + u.int_in_range(0..=9)?);
    }
    Ok(Bytes::from(text))
}

fn json(u: &mut Unstructured<'_>) -> Result<Bytes> {
    // Strings go through `{:?}`, whose escapes (`\"`, `\\`, `\n`, `\u{..}`) are JSON's for
    // the characters an ASCII-only string can hold; other characters are dropped.
    let string = |u: &mut Unstructured<'_>| -> Result<String> {
        let s: String = String::arbitrary(u)?
            .chars()
            .filter(|c| c.is_ascii_graphic() || *c == ' ')
            .collect();
        Ok(format!("{s:?}"))
    };
    let text = match u.int_in_range(0..=4)? {
        0 => "null".to_string(),
        1 => i64::arbitrary(u)?.to_string(),
        2 => string(u)?,
        3 => {
            let items: Vec<String> = Vec::<i32>::arbitrary(u)?
                .iter()
                .map(i32::to_string)
                .collect();
            format!("[{}]", items.join(","))
        }
        _ => format!("{{{}:{}}}", string(u)?, bool::arbitrary(u)?),
    };
    Ok(Bytes::from(text))
}
