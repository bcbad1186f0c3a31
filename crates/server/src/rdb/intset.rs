//! Redis's intset (`intset.c`): a set of integers as one sorted array of 2, 4 or 8 byte
//! little-endian numbers, behind its width (u32 LE) and count (u32 LE).

use bytes::Bytes;

use crate::commands::args::parse_i64;

/// The width of the integers of an intset holding `members`: 2, 4 or 8 bytes, what its widest
/// member needs (`_intsetValueEncoding`). Members that are not integers are skipped.
pub fn width<'a>(members: impl Iterator<Item = &'a [u8]>) -> usize {
    members
        .filter_map(parse_i64)
        .map(|n| {
            if i16::try_from(n).is_ok() {
                2
            } else if i32::try_from(n).is_ok() {
                4
            } else {
                8
            }
        })
        .max()
        .unwrap_or(2)
}

/// The intset holding `members` (all integers), byte for byte as Redis lays it out.
pub fn encode<'a>(members: impl Iterator<Item = &'a [u8]> + Clone) -> Vec<u8> {
    let width = width(members.clone());
    let mut sorted: Vec<i64> = members.filter_map(parse_i64).collect();
    sorted.sort_unstable();
    let mut blob = Vec::with_capacity(8 + width * sorted.len());
    blob.extend_from_slice(&(width as u32).to_le_bytes());
    blob.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
    for n in sorted {
        blob.extend_from_slice(n.to_le_bytes().get(..width).unwrap_or_default());
    }
    blob
}

/// An intset that is not well formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// The members of the intset `blob`, in decimal. The width must be 2, 4 or 8, the size exact,
/// and the numbers strictly ascending (as Redis's integrity check asks: no duplicates).
pub fn decode(blob: &[u8]) -> Result<Vec<Bytes>, Corrupt> {
    let word = |p: usize| {
        blob.get(p..p + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or(Corrupt)
    };
    let width = usize::try_from(word(0)?).map_err(|_| Corrupt)?;
    let count = usize::try_from(word(4)?).map_err(|_| Corrupt)?;
    if !matches!(width, 2 | 4 | 8)
        || count.checked_mul(width).and_then(|n| n.checked_add(8)) != Some(blob.len())
    {
        return Err(Corrupt);
    }
    let mut members = Vec::with_capacity(count);
    let mut last: Option<i64> = None;
    for chunk in blob.get(8..).unwrap_or_default().chunks_exact(width) {
        let mut bytes = [0u8; 8];
        for (slot, &b) in bytes.iter_mut().zip(chunk) {
            *slot = b;
        }
        // Sign-extend from the width.
        let shift = 64 - 8 * width as u32;
        let n = (i64::from_le_bytes(bytes) << shift) >> shift;
        if last.is_some_and(|l| l >= n) {
            return Err(Corrupt);
        }
        last = Some(n);
        members.push(Bytes::from(
            itoa::Buffer::new().format(n).as_bytes().to_vec(),
        ));
    }
    Ok(members)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intsets_are_laid_out_as_redis_does() {
        // SADD s 1 2 -70000 on redis-server 7.0.15, as DUMP shows its intset.
        let redis =
            b"\x04\x00\x00\x00\x03\x00\x00\x00\x90\xee\xfe\xff\x01\x00\x00\x00\x02\x00\x00\x00";
        let members = [&b"1"[..], b"2", b"-70000"];
        assert_eq!(encode(members.iter().copied()), redis);
        let back = decode(redis).unwrap_or_default();
        assert_eq!(
            back,
            [&b"-70000"[..], b"1", b"2"]
                .map(Bytes::from_static)
                .to_vec()
        );
        assert_eq!(width([&b"1"[..], b"-32768"].into_iter()), 2);
        assert_eq!(width([&b"1"[..], b"32768"].into_iter()), 4);
        assert_eq!(width([&b"-2147483649"[..], b"1"].into_iter()), 8);
        assert_eq!(width(std::iter::empty()), 2);
        // Unsorted, duplicated, a bad width, a wrong size.
        assert_eq!(
            decode(b"\x02\x00\x00\x00\x02\x00\x00\x00\x02\x00\x01\x00"),
            Err(Corrupt)
        );
        assert_eq!(
            decode(b"\x02\x00\x00\x00\x02\x00\x00\x00\x01\x00\x01\x00"),
            Err(Corrupt)
        );
        assert_eq!(
            decode(b"\x03\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00"),
            Err(Corrupt)
        );
        assert_eq!(decode(b"\x02\x00\x00\x00\xff\xff\xff\xff"), Err(Corrupt));
    }
}
