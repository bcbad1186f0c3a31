//! Redis's listpack (`listpack.c`): the byte layout of small hashes, sorted sets and list
//! nodes, written as Redis lays it out and read back with every length checked.
//!
//! Layout: total bytes (u32 LE), element count (u16 LE, 65535 = unknown), the entries, and
//! 0xFF. Each entry is an encoding byte (with the data's length or a small integer), the data,
//! and a back length (the entry's size, 7 bits a byte) for walking backwards.

use bytes::Bytes;

use crate::commands::args::parse_i64;

/// The head of the entry `lpInsert` makes of `s`: an integer in its smallest form (its
/// encoding byte and the number's bytes), or a string's 1, 2 or 5 byte length header, which
/// the string's bytes follow (`true`). The one model of the entry encoding: sizes
/// ([`entry_len`]) and bytes ([`encode`]) are both read from it.
fn entry_head(s: &[u8]) -> (([u8; 9], usize), bool) {
    let head = |tag: u8, number: &[u8]| {
        let mut head = [tag; 9];
        for (slot, &b) in head.iter_mut().skip(1).zip(number) {
            *slot = b;
        }
        (head, 1 + number.len())
    };
    let len = s.len();
    match parse_i64(s).filter(|_| len <= 20) {
        Some(n) if (0..=127).contains(&n) => (head(n as u8, &[]), false),
        Some(n) if (-4096..=4095).contains(&n) => {
            let v = (n as u16) & 0x1fff;
            (head(0xc0 | (v >> 8) as u8, &[v as u8]), false)
        }
        Some(n) if (-(1 << 15)..1 << 15).contains(&n) => {
            (head(0xf1, &(n as i16).to_le_bytes()), false)
        }
        Some(n) if (-(1 << 23)..1 << 23).contains(&n) => (
            head(0xf2, (n as i32).to_le_bytes().get(..3).unwrap_or_default()),
            false,
        ),
        Some(n) if (-(1 << 31)..1 << 31).contains(&n) => {
            (head(0xf3, &(n as i32).to_le_bytes()), false)
        }
        Some(n) => (head(0xf4, &n.to_le_bytes()), false),
        None if len < 64 => (head(0x80 | len as u8, &[]), true),
        None if len < 4096 => (head(0xe0 | (len >> 8) as u8, &[len as u8]), true),
        None => (head(0xf0, &(len as u32).to_le_bytes()), true),
    }
}

/// How many bytes the back length of an entry of `body` bytes takes (`lpEncodeBacklen`: 7
/// bits a byte).
fn backlen_len(body: usize) -> usize {
    match body {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// Bytes one entry holding `s` takes (encoding, data, back length).
pub fn entry_len(s: &[u8]) -> usize {
    let ((_, head), string) = entry_head(s);
    let body = head + if string { s.len() } else { 0 };
    body + backlen_len(body)
}

/// The size of a listpack holding `items`.
pub fn len<'a>(items: impl Iterator<Item = &'a [u8]>) -> usize {
    7 + items.map(entry_len).sum::<usize>()
}

/// A listpack holding `items`, byte for byte as Redis lays it out.
pub fn encode<'a>(items: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut body = Vec::new();
    let mut count = 0u32;
    for item in items {
        count = count.saturating_add(1);
        let start = body.len();
        let ((head, used), string) = entry_head(item);
        body.extend_from_slice(head.get(..used).unwrap_or_default());
        if string {
            body.extend_from_slice(item);
        }
        // The back length: the entry's size, most significant 7 bits first, every byte but
        // the first with its high bit set.
        let l = body.len() - start;
        let groups = backlen_len(l);
        for g in (0..groups).rev() {
            let byte = ((l >> (7 * g)) & 127) as u8;
            body.push(if g == groups - 1 { byte } else { byte | 128 });
        }
    }
    let total = 6 + body.len() + 1;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&(count.min(65535) as u16).to_le_bytes());
    out.extend(body);
    out.push(0xff);
    out
}

/// A listpack that is not well formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// The elements of the listpack `lp`, integers spelled in decimal as Redis returns them.
/// Everything is checked: the total length, each entry's encoding, data and back length, the
/// count (unless 65535, "unknown") and the terminator.
pub fn decode(lp: &[u8]) -> Result<Vec<Bytes>, Corrupt> {
    let header = lp.get(..6).ok_or(Corrupt)?;
    let total = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
    let count = u16::from_le_bytes([header[4], header[5]]);
    if usize::try_from(total).ok() != Some(lp.len()) {
        return Err(Corrupt);
    }
    let mut items = Vec::new();
    let mut p = 6usize;
    loop {
        let &tag = lp.get(p).ok_or(Corrupt)?;
        if tag == 0xff {
            break;
        }
        let bytes = |from: usize, n: usize| lp.get(from..from + n).ok_or(Corrupt);
        let (item, body) = match tag {
            0x00..=0x7f => (Bytes::from(itoa(i64::from(tag))), 1),
            0x80..=0xbf => {
                let n = usize::from(tag & 0x3f);
                (Bytes::copy_from_slice(bytes(p + 1, n)?), 1 + n)
            }
            0xc0..=0xdf => {
                let low = *lp.get(p + 1).ok_or(Corrupt)?;
                let v = (u16::from(tag & 0x1f) << 8) | u16::from(low);
                // 13 bits, two's complement.
                let n = if v >= 1 << 12 {
                    i64::from(v) - (1 << 13)
                } else {
                    i64::from(v)
                };
                (Bytes::from(itoa(n)), 2)
            }
            0xe0..=0xef => {
                let low = *lp.get(p + 1).ok_or(Corrupt)?;
                let n = (usize::from(tag & 0x0f) << 8) | usize::from(low);
                (Bytes::copy_from_slice(bytes(p + 2, n)?), 2 + n)
            }
            0xf0 => {
                let b = bytes(p + 1, 4)?;
                let n = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                let n = usize::try_from(n).map_err(|_| Corrupt)?;
                (Bytes::copy_from_slice(bytes(p + 5, n)?), 5 + n)
            }
            0xf1 => {
                let b = bytes(p + 1, 2)?;
                (
                    Bytes::from(itoa(i64::from(i16::from_le_bytes([b[0], b[1]])))),
                    3,
                )
            }
            0xf2 => {
                let b = bytes(p + 1, 3)?;
                // Sign-extended from 24 bits.
                let n = i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8;
                (Bytes::from(itoa(i64::from(n))), 4)
            }
            0xf3 => {
                let b = bytes(p + 1, 4)?;
                (
                    Bytes::from(itoa(i64::from(i32::from_le_bytes([
                        b[0], b[1], b[2], b[3],
                    ])))),
                    5,
                )
            }
            0xf4 => {
                let b = bytes(p + 1, 8)?;
                let mut n = [0u8; 8];
                n.copy_from_slice(b);
                (Bytes::from(itoa(i64::from_le_bytes(n))), 9)
            }
            _ => return Err(Corrupt),
        };
        // The back length must say the entry's size.
        let groups = backlen_len(body);
        let back = bytes(p + body, groups)?;
        let mut said = 0usize;
        for (i, &b) in back.iter().enumerate() {
            let high = i > 0;
            if (b & 128 != 0) != high {
                return Err(Corrupt);
            }
            said = (said << 7) | usize::from(b & 127);
        }
        if said != body {
            return Err(Corrupt);
        }
        items.push(item);
        p += body + groups;
    }
    if p + 1 != lp.len() || (count != u16::MAX && usize::from(count) != items.len()) {
        return Err(Corrupt);
    }
    Ok(items)
}

fn itoa(n: i64) -> Vec<u8> {
    itoa::Buffer::new().format(n).as_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listpacks_are_laid_out_as_redis_does() {
        let lp = encode([&b"a"[..], b"1", b"-1", b"300"].into_iter());
        assert_eq!(lp.len(), 6 + 3 + 2 + 3 + 3 + 1);
        // HSET h f v n 12 on redis-server 7.0.15, as DUMP shows its listpack.
        let redis = b"\x12\x00\x00\x00\x04\x00\x81f\x02\x81v\x02\x81n\x02\x0c\x01\xff";
        assert_eq!(encode([&b"f"[..], b"v", b"n", b"12"].into_iter()), redis);
    }

    #[test]
    fn entry_sizes_are_the_laid_out_bytes_and_decode_to_themselves() {
        let long = [b'x'; 5000];
        let items: [&[u8]; 15] = [
            &long[..200],
            b"",
            b"0",
            b"127",
            b"128",
            b"-4096",
            b"4096",
            b"-32768",
            b"40000",
            b"-8388609",
            b"2147483647",
            b"2147483648",
            b"-9223372036854775808",
            b"x",
            &long,
        ];
        for item in items {
            for size in [63, 64, 4095, 4096] {
                let item = if item == b"x" { &long[..size] } else { item };
                let bytes = encode(std::iter::once(item));
                assert_eq!(entry_len(item), bytes.len() - 7, "{:?}", item.get(..8));
                assert_eq!(len(std::iter::once(item)), bytes.len());
                assert_eq!(decode(&bytes), Ok(vec![Bytes::copy_from_slice(item)]));
            }
        }
    }

    #[test]
    fn a_damaged_listpack_is_refused() {
        let good = encode([&b"f"[..], b"v", b"12"].into_iter());
        assert!(decode(&good).is_ok());
        // Every truncation, and every single-byte change, is refused or decodes to something
        // (never a panic); the length-changing ones are refused.
        for cut in 0..good.len() {
            assert_eq!(decode(good.get(..cut).unwrap_or_default()), Err(Corrupt));
        }
        for i in 0..good.len() {
            for b in [0u8, 0x7f, 0x80, 0xbf, 0xe0, 0xf0, 0xf4, 0xfe, 0xff] {
                let mut bad = good.clone();
                if let Some(slot) = bad.get_mut(i) {
                    *slot = b;
                }
                let _ = decode(&bad);
            }
        }
    }
}
