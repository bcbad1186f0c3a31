//! LZF as Redis's `lzf_c.c` and `lzf_d.c` do it (HLOG 16, VERY_FAST): the compressor makes the
//! very bytes Redis makes, so a DUMP payload and DEBUG OBJECT's `serializedlength` match
//! Redis's, and the decompressor reads what Redis wrote, checking every reference against the
//! input (a hostile payload's back reference before the start or past the end is an error,
//! never a read out of bounds).

/// Longest literal run (`MAX_LIT`).
const MAX_LIT: usize = 1 << 5;
/// Farthest back reference (`MAX_OFF`).
const MAX_OFF: usize = 1 << 13;
/// Longest back reference (`MAX_REF`).
const MAX_REF: usize = (1 << 8) + (1 << 3);
/// log2 of the hash table's slots (`HLOG`).
const HLOG: u32 = 16;

/// `lzf_compress(input, in_len, out, out_len)`: the compressed bytes, or `None` when they do
/// not fit in `out_len` bytes (Redis then saves the data uncompressed).
pub fn compress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let in_len = input.len();
    if in_len < 3 || out_len == 0 {
        return None;
    }
    let at = |i: usize| u32::from(input.get(i).copied().unwrap_or(0));
    let byte = |i: usize| input.get(i).copied().unwrap_or(0);
    let first = |p: usize| (at(p) << 8) | at(p + 1);
    let next = |v: u32, p: usize| (v << 8) | at(p + 2);
    let idx = |h: u32| {
        ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) & ((1 << HLOG) - 1)) as usize
    };
    let mut table = Table::for_input(in_len, 1 << HLOG);
    // `out` holds the output so far; a literal run's control byte is a placeholder until the
    // run ends (`run` is where it sits), as `op[-lit-1]` in the C.
    let mut out: Vec<u8> = Vec::with_capacity(out_len.min(in_len + in_len / 16 + 8));
    out.push(0);
    let mut lit = 0usize;
    let mut ip = 0usize;
    let mut hval = first(ip);
    // Ends the current literal run: its control byte, or no control byte if it is empty.
    let stop_run = |out: &mut Vec<u8>, lit: usize| {
        if lit == 0 {
            out.pop();
        } else if let Some(control) = out.len().checked_sub(lit + 1).and_then(|i| out.get_mut(i)) {
            *control = (lit - 1) as u8;
        }
    };
    // One more literal byte; a full run gets its control byte and a new run starts.
    let literal = |out: &mut Vec<u8>, lit: &mut usize, b: u8| {
        *lit += 1;
        out.push(b);
        if *lit == MAX_LIT {
            stop_run(out, *lit);
            *lit = 0;
            out.push(0);
        }
    };
    while ip < in_len - 2 {
        hval = next(hval, ip);
        let reference = table.replace(idx(hval), ip);
        let matched = reference.filter(|&r| {
            r < ip
                && ip - r - 1 < MAX_OFF
                && r > 0
                && at(r + 2) == at(ip + 2)
                && at(r) == at(ip)
                && at(r + 1) == at(ip + 1)
        });
        if let Some(r) = matched {
            let off = ip - r - 1;
            let mut len = 2usize;
            let maxlen = (in_len - ip - len).min(MAX_REF);
            let op = out.len();
            if op + 3 + 1 >= out_len && op - usize::from(lit == 0) + 3 + 1 >= out_len {
                return None;
            }
            stop_run(&mut out, lit);
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
            if len < 7 {
                out.push(((off >> 8) + (len << 5)) as u8);
            } else {
                out.push(((off >> 8) + (7 << 5)) as u8);
                out.push((len - 7) as u8);
            }
            out.push(off as u8);
            lit = 0;
            out.push(0);
            ip += len + 1;
            if ip >= in_len - 2 {
                break;
            }
            ip -= 2;
            hval = first(ip);
            hval = next(hval, ip);
            table.replace(idx(hval), ip);
            ip += 1;
            hval = next(hval, ip);
            table.replace(idx(hval), ip);
            ip += 1;
        } else {
            if out.len() >= out_len {
                return None;
            }
            literal(&mut out, &mut lit, byte(ip));
            ip += 1;
        }
    }
    if out.len() + 3 > out_len {
        return None;
    }
    while ip < in_len {
        literal(&mut out, &mut lit, byte(ip));
        ip += 1;
    }
    stop_run(&mut out, lit);
    Some(out)
}

/// Why compressed data could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// `lzf_decompress`: exactly `out_len` bytes from `input`, or [`Corrupt`] when the input is
/// cut short, refers before the output's start, or gives more or fewer bytes than declared.
/// The output grows with what is decompressed, never by `out_len` up front: a hostile
/// declared length costs nothing until the data backs it (and LZF expands at most ~130x, so
/// the input bounds it).
pub fn decompress(input: &[u8], out_len: usize) -> Result<Vec<u8>, Corrupt> {
    let mut out: Vec<u8> = Vec::with_capacity(out_len.min(input.len().saturating_mul(4)));
    let mut ip = 0usize;
    while let Some(&control) = input.get(ip) {
        ip += 1;
        let control = usize::from(control);
        if control < MAX_LIT {
            let run = control + 1;
            let literal = input.get(ip..ip + run).ok_or(Corrupt)?;
            if out.len() + run > out_len {
                return Err(Corrupt);
            }
            out.extend_from_slice(literal);
            ip += run;
        } else {
            let mut len = control >> 5;
            if len == 7 {
                len += usize::from(*input.get(ip).ok_or(Corrupt)?);
                ip += 1;
            }
            let low = usize::from(*input.get(ip).ok_or(Corrupt)?);
            ip += 1;
            let back = ((control & 0x1f) << 8) + low + 1;
            let len = len + 2;
            if out.len() + len > out_len {
                return Err(Corrupt);
            }
            let start = out.len().checked_sub(back).ok_or(Corrupt)?;
            // The reference may overlap what it writes (a run): byte by byte.
            for i in start..start + len {
                let b = *out.get(i).ok_or(Corrupt)?;
                out.push(b);
            }
        }
    }
    if out.len() == out_len {
        Ok(out)
    } else {
        Err(Corrupt)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_compressed_decompresses_to_itself() {
        let mut text = Vec::new();
        for i in 0..3000u64 {
            text.extend_from_slice(format!("{} ", i * i % 1000).as_bytes());
        }
        for n in [3, 21, 100, 2000, 5000, text.len()] {
            let input = text.get(..n).unwrap_or_default();
            if let Some(packed) = compress(input, n + 64) {
                assert_eq!(decompress(&packed, n), Ok(input.to_vec()), "{n}");
            }
        }
        let packed = compress(&[b'a'; 1000], 996).unwrap_or_default();
        assert!(packed.len() < 40, "{}", packed.len());
        assert_eq!(decompress(&packed, 1000), Ok(vec![b'a'; 1000]));
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        // A back reference before the start, a literal run past the end, a wrong length.
        assert_eq!(decompress(&[0x20, 0x00], 10), Err(Corrupt));
        assert_eq!(decompress(&[0x05, b'a'], 6), Err(Corrupt));
        assert_eq!(decompress(&[0x00, b'a'], 2), Err(Corrupt));
        assert_eq!(decompress(&[0x00, b'a', 0xe0], 300), Err(Corrupt));
        // A huge declared length allocates nothing up front.
        assert_eq!(decompress(&[0x00, b'a'], usize::MAX), Err(Corrupt));
    }
}
