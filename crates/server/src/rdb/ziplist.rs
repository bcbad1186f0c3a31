//! Redis's ziplist (`ziplist.c`), read only: Redis 7.0 writes listpacks, but a DUMP made by
//! Redis 6.2 or older (RDB version 9 and below) holds small hashes, sorted sets and list nodes
//! as ziplists, and RESTORE takes those too.
//!
//! Layout: total bytes (u32 LE), offset of the last entry (u32 LE), element count (u16 LE,
//! 65535 = unknown), the entries, and 0xFF. Each entry is the previous entry's size (1 byte,
//! or 0xFE and a u32 LE), an encoding (with a string's length or an integer's width) and
//! the data.

use bytes::Bytes;

/// A ziplist that is not well formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// The elements of the ziplist `zl`, integers in decimal. Every length is checked, and so is
/// each entry's record of the previous entry's size.
pub fn decode(zl: &[u8]) -> Result<Vec<Bytes>, Corrupt> {
    let u32_at = |p: usize| {
        zl.get(p..p + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or(Corrupt)
    };
    let total = u32_at(0)?;
    let tail = u32_at(4)?;
    let count = zl
        .get(8..10)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .ok_or(Corrupt)?;
    if usize::try_from(total).ok() != Some(zl.len()) {
        return Err(Corrupt);
    }
    let mut items = Vec::new();
    let mut p = 10usize;
    let mut previous = 0usize;
    let mut last_start = 10usize;
    loop {
        let &first = zl.get(p).ok_or(Corrupt)?;
        if first == 0xff {
            break;
        }
        let start = p;
        last_start = start;
        let said_previous = if first < 0xfe {
            p += 1;
            usize::from(first)
        } else if first == 0xfe {
            let n = u32_at(p + 1)?;
            p += 5;
            usize::try_from(n).map_err(|_| Corrupt)?
        } else {
            return Err(Corrupt);
        };
        if said_previous != previous {
            return Err(Corrupt);
        }
        let &encoding = zl.get(p).ok_or(Corrupt)?;
        let bytes = |from: usize, n: usize| zl.get(from..from + n).ok_or(Corrupt);
        let int = |n: i64| Bytes::from(itoa::Buffer::new().format(n).as_bytes().to_vec());
        let (item, used) = match encoding >> 6 {
            0 => {
                let n = usize::from(encoding & 0x3f);
                (Bytes::copy_from_slice(bytes(p + 1, n)?), 1 + n)
            }
            1 => {
                let low = *zl.get(p + 1).ok_or(Corrupt)?;
                let n = (usize::from(encoding & 0x3f) << 8) | usize::from(low);
                (Bytes::copy_from_slice(bytes(p + 2, n)?), 2 + n)
            }
            2 if encoding == 0x80 => {
                let b = bytes(p + 1, 4)?;
                let n = usize::try_from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                    .map_err(|_| Corrupt)?;
                (Bytes::copy_from_slice(bytes(p + 5, n)?), 5 + n)
            }
            3 => match encoding {
                0xc0 => {
                    let b = bytes(p + 1, 2)?;
                    (int(i64::from(i16::from_le_bytes([b[0], b[1]]))), 3)
                }
                0xd0 => {
                    let b = bytes(p + 1, 4)?;
                    (
                        int(i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))),
                        5,
                    )
                }
                0xe0 => {
                    let b = bytes(p + 1, 8)?;
                    let mut n = [0u8; 8];
                    n.copy_from_slice(b);
                    (int(i64::from_le_bytes(n)), 9)
                }
                0xf0 => {
                    let b = bytes(p + 1, 3)?;
                    (
                        int(i64::from(i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8)),
                        4,
                    )
                }
                0xfe => {
                    let b = *zl.get(p + 1).ok_or(Corrupt)?;
                    (int(i64::from(b as i8)), 2)
                }
                // An immediate 0..=12, stored as 1..=13.
                0xf1..=0xfd => (int(i64::from(encoding & 0x0f) - 1), 1),
                _ => return Err(Corrupt),
            },
            _ => return Err(Corrupt),
        };
        p += used;
        previous = p - start;
        items.push(item);
    }
    // The tail offset must point at the last entry (at the end marker when there is none),
    // as Redis's deep integrity check asks.
    if p + 1 != zl.len()
        || usize::try_from(tail).ok() != Some(last_start)
        || (count != u16::MAX && usize::from(count) != items.len())
    {
        return Err(Corrupt);
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redis_6_ziplist_reads() {
        // "a", 1, "bb", -2, 300, 100000 as Redis 6.2 lays them out.
        let mut zl = vec![0u8; 10];
        let entries: [&[u8]; 6] = [
            &[0x00, 0x01, b'a'],
            &[0x03, 0xf2],
            &[0x02, 0x02, b'b', b'b'],
            &[0x04, 0xfe, 0xfe],
            &[0x03, 0xc0, 0x2c, 0x01],
            &[0x04, 0xf0, 0xa0, 0x86, 0x01],
        ];
        let mut tail = 0;
        for e in entries {
            tail = zl.len() as u32;
            zl.extend_from_slice(e);
        }
        zl.push(0xff);
        let total = zl.len() as u32;
        zl[..4].copy_from_slice(&total.to_le_bytes());
        zl[4..8].copy_from_slice(&tail.to_le_bytes());
        zl[8..10].copy_from_slice(&6u16.to_le_bytes());
        let items = decode(&zl).unwrap_or_default();
        let text: Vec<&[u8]> = items.iter().map(|b| b.as_ref()).collect();
        assert_eq!(
            text,
            [&b"a"[..], b"1", b"bb", b"-2", b"300", b"100000"].to_vec()
        );
        for cut in 0..zl.len() {
            assert_eq!(decode(zl.get(..cut).unwrap_or_default()), Err(Corrupt));
        }
    }
}
