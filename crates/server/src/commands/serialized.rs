//! How many bytes Redis 7.0's RDB writer spends on a value (`rdbSavedObjectLen`), for DEBUG
//! OBJECT's `serializedlength`, and the shape of a list's quicklist for its `ql_*` fields.
//!
//! The RDB form is rebuilt from what Redis would hold: strings saved as small integers when
//! they are canonical 32-bit ones, and LZF-compressed when longer than 20 bytes and LZF
//! saves something (the compressor is `lzf_c.c`'s algorithm with Redis's settings, so the
//! compressed length is the same); listpacks (small hashes and sorted sets, list nodes) and
//! intsets laid out byte for byte and saved as one string each; big hashes, sets and sorted
//! sets element by element.
//!
//! Approximations: a list's nodes are packed from its head, as RPUSH fills them; a list
//! built by LPUSH, LINSERT or LREM may be split differently in Redis. Sets are judged by
//! their members now (as OBJECT ENCODING does here), and plain (huge-element) list nodes are
//! not modelled.

use bytes::Bytes;

use super::args::parse_i64;
use crate::db::Value;

/// `rdbSaveLen`'s size for `len`.
fn len_len(len: usize) -> usize {
    if len < 1 << 6 {
        1
    } else if len < 1 << 14 {
        2
    } else if u32::try_from(len).is_ok() {
        5
    } else {
        9
    }
}

/// `rdbSaveRawString`'s size for `s`: a canonical integer of at most 11 characters within
/// 32 bits as 2, 3 or 5 bytes; more than 20 bytes LZF-compressed when that is shorter by more
/// than 4; else a length and the bytes.
fn raw_string(s: &[u8]) -> usize {
    if s.len() <= 11 {
        if let Some(n) = parse_i64(s) {
            if let Some(size) = integer_size(n) {
                return size;
            }
        }
    }
    if s.len() > 20 {
        if let Some(compressed) = lzf_len(s, s.len() - 4) {
            return 1 + len_len(compressed) + len_len(s.len()) + compressed;
        }
    }
    len_len(s.len()) + s.len()
}

/// `rdbEncodeInteger`'s size, when `n` fits 32 bits.
fn integer_size(n: i64) -> Option<usize> {
    if (-(1 << 7)..1 << 7).contains(&n) {
        Some(2)
    } else if (-(1 << 15)..1 << 15).contains(&n) {
        Some(3)
    } else if (-(1 << 31)..1 << 31).contains(&n) {
        Some(5)
    } else {
        None
    }
}

/// The length `lzf_compress` (Redis's `lzf_c.c`: HLOG 16, VERY_FAST) gives `input` with an
/// output buffer of `out_len` bytes, or `None` when it does not fit (Redis then saves the
/// string uncompressed).
fn lzf_len(input: &[u8], out_len: usize) -> Option<usize> {
    const HLOG: u32 = 16;
    const MAX_LIT: usize = 1 << 5;
    const MAX_OFF: usize = 1 << 13;
    const MAX_REF: usize = (1 << 8) + (1 << 3);
    let in_len = input.len();
    if in_len < 3 || out_len == 0 {
        return None;
    }
    let at = |i: usize| u32::from(input.get(i).copied().unwrap_or(0));
    let first = |p: usize| (at(p) << 8) | at(p + 1);
    let next = |v: u32, p: usize| (v << 8) | at(p + 2);
    let idx = |h: u32| {
        ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) & ((1 << HLOG) - 1)) as usize
    };
    let mut table = Table::for_input(in_len, 1 << HLOG);
    let set = |table: &mut Table, h: u32, p: usize| {
        table.replace(idx(h), p);
    };
    // One more literal byte in the output: a run of them takes a control byte every MAX_LIT.
    let literal = |lit: &mut usize, op: &mut usize| {
        *lit += 1;
        *op += 1;
        if *lit == MAX_LIT {
            *lit = 0;
            *op += 1;
        }
    };
    let mut op = 1usize;
    let mut lit = 0usize;
    let mut ip = 0usize;
    let mut hval = first(ip);
    while ip < in_len - 2 {
        hval = next(hval, ip);
        let slot = idx(hval);
        let reference = table.replace(slot, ip);
        let matched = reference.filter(|&r| {
            r < ip
                && ip - r - 1 < MAX_OFF
                && r > 0
                && at(r + 2) == at(ip + 2)
                && at(r) == at(ip)
                && at(r + 1) == at(ip + 1)
        });
        if let Some(r) = matched {
            let mut len = 2usize;
            let maxlen = (in_len - ip - len).min(MAX_REF);
            if op + 3 + 1 >= out_len && op - usize::from(lit == 0) + 3 + 1 >= out_len {
                return None;
            }
            op -= usize::from(lit == 0);
            let mut unrolled_mismatch = false;
            if maxlen > 16 {
                for _ in 0..16 {
                    len += 1;
                    if at(r + len) != at(ip + len) {
                        unrolled_mismatch = true;
                        break;
                    }
                }
            }
            if !unrolled_mismatch {
                loop {
                    len += 1;
                    if !(len < maxlen && at(r + len) == at(ip + len)) {
                        break;
                    }
                }
            }
            len -= 2;
            ip += 1;
            op += if len < 7 { 1 } else { 2 };
            op += 1;
            lit = 0;
            op += 1;
            ip += len + 1;
            if ip >= in_len - 2 {
                break;
            }
            ip -= 2;
            hval = first(ip);
            hval = next(hval, ip);
            set(&mut table, hval, ip);
            ip += 1;
            hval = next(hval, ip);
            set(&mut table, hval, ip);
            ip += 1;
        } else {
            if op >= out_len {
                return None;
            }
            literal(&mut lit, &mut op);
            ip += 1;
        }
    }
    if op + 3 > out_len {
        return None;
    }
    while ip < in_len {
        literal(&mut lit, &mut op);
        ip += 1;
    }
    op -= usize::from(lit == 0);
    Some(op)
}

/// The head of the listpack entry `lpInsert` makes of `s`: an integer in its smallest form
/// (its encoding byte and the number's bytes), or a string's 1, 2 or 5 byte length header,
/// which the string's bytes follow (`true`). The one model of the entry encoding: its size
/// ([`listpack_entry`]) and its bytes ([`listpack_bytes`]) are both read from it.
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

/// `lzf_c.c`'s hash table of `2^HLOG` slots, each the last position whose three bytes hashed
/// there. Dense for an input of a few KiB or more, as Redis's; kept sparse for a short one,
/// since a fresh table per string costs what the string costs (a dense one would be 512 KiB
/// zeroed for every short string of a big set), and a sparse one for a long input costs a
/// hash-map probe per byte (20 MB took 15 s in a debug build).
enum Table {
    Sparse(std::collections::HashMap<usize, usize>),
    Dense(Vec<usize>),
}

impl Table {
    /// Inputs at least this long get a dense table: zeroing it costs less than a hash-map
    /// probe per byte (DEBUG OBJECT, debug build: a set of 400 members of 4 KiB, 779 ms
    /// sparse, 326 ms dense; a 200k-element list's 8 KiB nodes, 955 ms and 410 ms; members of
    /// 200 bytes stay sparse).
    const DENSE_FROM: usize = 1 << 12;

    fn for_input(len: usize, slots: usize) -> Table {
        if len >= Self::DENSE_FROM {
            Table::Dense(vec![0; slots])
        } else {
            Table::Sparse(std::collections::HashMap::with_capacity(len.min(slots)))
        }
    }

    /// Records position `p` in `slot`, answering the position it held before, if any.
    /// (Positions are stored + 1, 0 being empty; Redis's table holds pointers, and
    /// position 0 never matches.)
    fn replace(&mut self, slot: usize, p: usize) -> Option<usize> {
        let old = match self {
            Table::Sparse(map) => map.insert(slot, p + 1).unwrap_or(0),
            Table::Dense(slots) => slots
                .get_mut(slot)
                .map_or(0, |s| std::mem::replace(s, p + 1)),
        };
        old.checked_sub(1)
    }
}

/// Bytes one listpack entry holding `s` takes (encoding, data, back length).
fn listpack_entry(s: &[u8]) -> usize {
    let ((_, head), string) = entry_head(s);
    let body = head + if string { s.len() } else { 0 };
    body + backlen_len(body)
}

/// The RDB size of a listpack of `entries` bytes in all, saved as one string: the listpack's
/// own bytes are needed for LZF, so they are rebuilt.
fn listpack_string<'a>(items: impl Iterator<Item = &'a [u8]>) -> usize {
    raw_string(&listpack_bytes(items))
}

/// The size of a listpack holding `items`.
pub fn listpack_len<'a>(items: impl Iterator<Item = &'a [u8]>) -> usize {
    7 + items.map(listpack_entry).sum::<usize>()
}

/// A listpack holding `items`, byte for byte as Redis lays it out.
fn listpack_bytes<'a>(items: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
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

/// The nodes of a quicklist holding `list` with `list-max-listpack-size` -2 (8 KiB
/// listpacks), packed from the head: each node's element count and listpack size.
pub fn quicklist_nodes(list: &std::collections::VecDeque<Bytes>) -> Vec<(usize, usize)> {
    const LIMIT: usize = 8192;
    const OVERHEAD: usize = 8;
    let mut nodes: Vec<(usize, usize)> = Vec::new();
    for element in list {
        let entry = listpack_entry(element);
        match nodes.last_mut() {
            Some((count, size)) if *size + element.len() + OVERHEAD <= LIMIT => {
                *count += 1;
                *size += entry;
            }
            _ => nodes.push((1, 7 + entry)),
        }
    }
    nodes
}

/// The width of the integers of an intset holding `set`'s members: 2, 4 or 8 bytes, what
/// its widest member needs (`_intsetValueEncoding`).
pub fn intset_width(set: &indexmap::IndexSet<Bytes>) -> usize {
    set.iter()
        .filter_map(|m| parse_i64(m))
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

/// `rdbSavedObjectLen` for a list whose quicklist has `nodes` (see [`quicklist_nodes`]):
/// each node's listpack saved as one string.
pub fn list_saved_len(list: &std::collections::VecDeque<Bytes>, nodes: &[(usize, usize)]) -> usize {
    let mut total = len_len(nodes.len());
    let mut rest = list.iter();
    for (count, _) in nodes {
        total += 1 + listpack_string(rest.by_ref().take(*count).map(|b| b.as_ref()));
    }
    total
}

/// `rdbSavedObjectLen` for `value`, whose OBJECT ENCODING is `encoding`.
pub fn saved_len(value: &Value, encoding: &str) -> usize {
    match value {
        Value::Str(s) => raw_string(s),
        Value::List(list) => list_saved_len(list, &quicklist_nodes(list)),
        Value::Set(set) if encoding == "intset" => {
            let width = intset_width(set);
            let mut sorted: Vec<i64> = set.iter().filter_map(|m| parse_i64(m)).collect();
            sorted.sort_unstable();
            let mut blob = Vec::with_capacity(8 + width * sorted.len());
            blob.extend_from_slice(&(width as u32).to_le_bytes());
            blob.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
            for n in sorted {
                blob.extend_from_slice(n.to_le_bytes().get(..width).unwrap_or_default());
            }
            raw_string(&blob)
        }
        Value::Set(set) => len_len(set.len()) + set.iter().map(|m| raw_string(m)).sum::<usize>(),
        Value::Hash(hash) if encoding == "listpack" => {
            listpack_string(hash.iter().flat_map(|(f, v)| [f.as_ref(), v.as_ref()]))
        }
        Value::Hash(hash) => {
            len_len(hash.len())
                + hash
                    .iter()
                    .map(|(f, v)| raw_string(f) + raw_string(v))
                    .sum::<usize>()
        }
        Value::ZSet(zset) if encoding == "listpack" => {
            super::zsets::scan::with_listpack_entries(zset, |items| listpack_string(items))
        }
        Value::ZSet(zset) => {
            len_len(zset.len())
                + zset
                    .iter_unordered()
                    .map(|(m, _)| raw_string(m) + 8)
                    .sum::<usize>()
        }
        Value::Seed(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_sized_as_redis_saves_them() {
        assert_eq!(raw_string(b"1"), 2);
        assert_eq!(raw_string(b"-200"), 3);
        assert_eq!(raw_string(b"100000"), 5);
        assert_eq!(raw_string(b"01"), 3);
        assert_eq!(raw_string(b"hello"), 6);
        assert_eq!(
            raw_string(&[b'a'; 100]),
            1 + 1 + 2 + lzf_len(&[b'a'; 100], 96).unwrap_or(0)
        );
    }

    #[test]
    fn long_strings_compress_as_redis_compresses_them_with_either_table() {
        // "0 1 4 9 16 ..." (i * i % 1000), cut to `n` bytes; serializedlength measured on
        // redis-server 7.0.15. 2000 bytes use the sparse table, 10000 the dense one.
        let text = |n: usize| {
            let mut s = Vec::new();
            let mut i = 0u64;
            while s.len() < n {
                s.extend_from_slice(format!("{} ", i * i % 1000).as_bytes());
                i += 1;
            }
            s.truncate(n);
            s
        };
        assert_eq!(raw_string(&text(2000)), 1296);
        assert_eq!(raw_string(&text(10000)), 3715);
    }

    #[test]
    fn listpacks_are_laid_out_as_redis_does() {
        let lp = listpack_bytes([&b"a"[..], b"1", b"-1", b"300"].into_iter());
        assert_eq!(lp.len(), 6 + 3 + 2 + 3 + 3 + 1);
    }

    #[test]
    fn entry_sizes_are_the_laid_out_bytes() {
        let long = [b'x'; 5000];
        let items: [&[u8]; 14] = [
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
                let bytes = listpack_bytes(std::iter::once(item));
                assert_eq!(listpack_entry(item), bytes.len() - 7, "{:?}", item.get(..8));
                assert_eq!(listpack_len(std::iter::once(item)), bytes.len());
            }
        }
    }

    #[test]
    fn intset_width_is_its_widest_member() {
        let set = |members: &[&str]| -> indexmap::IndexSet<Bytes> {
            members
                .iter()
                .map(|m| Bytes::copy_from_slice(m.as_bytes()))
                .collect()
        };
        assert_eq!(intset_width(&set(&[])), 2);
        assert_eq!(intset_width(&set(&["1", "-32768"])), 2);
        assert_eq!(intset_width(&set(&["1", "32768"])), 4);
        assert_eq!(intset_width(&set(&["-2147483649", "1"])), 8);
    }
}
