//! HyperLogLog sketches in Redis 7.0's representation (its `hyperloglog.c`), byte for byte:
//! a 16-byte header (`HYLL`, the encoding, three zero bytes, the cached cardinality in little
//! endian whose top bit marks it stale) and 16384 six-bit registers, either dense (12288
//! bytes, registers packed from the least significant bit) or sparse (run-length opcodes
//! ZERO `00xxxxxx`, XZERO `01xxxxxx yyyyyyyy`, VAL `1vvvvvxx`).
//!
//! Everything here works on plain bytes a client may have written with SET: no index is
//! trusted, every read past the end sees a zero byte (Redis's string terminator) and every
//! run length is summed in 64 bits, so a hostile value is reported as corrupt, never read
//! or written out of bounds. The commands are in `commands::hyperloglog`.

use bytes::BytesMut;

/// Header length.
pub const HDR_SIZE: usize = 16;
/// Registers per sketch (`HLL_P` = 14).
pub const REGISTERS: usize = 1 << P;
/// A dense sketch's length.
pub const DENSE_SIZE: usize = HDR_SIZE + (REGISTERS * BITS).div_ceil(8);
/// The encoding byte of a dense sketch.
pub const DENSE: u8 = 0;
/// The encoding byte of a sparse sketch.
pub const SPARSE: u8 = 1;

const P: usize = 14;
const Q: usize = 64 - P;
const BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << BITS) - 1;
const SPARSE_VAL_MAX_VALUE: u8 = 32;
const SPARSE_VAL_MAX_LEN: i64 = 4;
const SPARSE_ZERO_MAX_LEN: i64 = 64;
const SPARSE_XZERO_MAX_LEN: usize = 16384;
/// 0.5 / ln(2).
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;
/// The seed Redis hashes elements with.
const SEED: u64 = 0xadc8_3b19;

/// The sketch was not valid (Redis's `C_ERR` / -1: `INVALIDOBJ Corrupted HLL object`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// MurmurHash2, 64-bit version (MurmurHash64A), reading words in little endian as Redis does
/// on every architecture.
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut words = key.chunks_exact(8);
    for word in &mut words {
        let mut k = word
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element goes to and the length of its `000..1` pattern (1..=Q+1).
pub fn pattern(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, SEED);
    let index = (hash as usize) & (REGISTERS - 1);
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// Whether `value` passes Redis's `isHLLObjectOrReply`: long enough, `HYLL`, a known
/// encoding, and a dense one of the exact length. (Its sparse body is checked when read.)
pub fn is_sketch(value: &[u8]) -> bool {
    value.len() >= HDR_SIZE
        && value.starts_with(b"HYLL")
        && match value.get(4) {
            Some(&DENSE) => value.len() == DENSE_SIZE,
            Some(&SPARSE) => true,
            _ => false,
        }
}

/// The encoding byte (call on a value [`is_sketch`] accepted).
pub fn encoding(value: &[u8]) -> u8 {
    value.get(4).copied().unwrap_or(DENSE)
}

/// The cached cardinality, if valid.
pub fn cached_count(value: &[u8]) -> Option<u64> {
    let card: [u8; 8] = value.get(8..16)?.try_into().ok()?;
    (card[7] & 0x80 == 0).then(|| u64::from_le_bytes(card))
}

/// Stores `count` as the cached cardinality.
pub fn set_cached_count(value: &mut [u8], count: u64) {
    if let Some(card) = value.get_mut(8..16) {
        card.copy_from_slice(&count.to_le_bytes());
    }
}

/// Marks the cached cardinality stale.
pub fn invalidate_cache(value: &mut [u8]) {
    if let Some(b) = value.get_mut(15) {
        *b |= 0x80;
    }
}

/// A new, empty sketch: sparse, one XZERO opcode covering every register.
pub fn new_sketch() -> BytesMut {
    let mut s = BytesMut::zeroed(HDR_SIZE);
    s[..4].copy_from_slice(b"HYLL");
    s[4] = SPARSE;
    let mut left = REGISTERS;
    while left > 0 {
        let run = left.min(SPARSE_XZERO_MAX_LEN);
        s.extend_from_slice(&xzero(run as i64));
        left -= run;
    }
    s
}

// ---------------------------------------------------------------------------------------
// Dense registers. `regs` is the body after the header; register 16383 also touches the
// byte after it (Redis's terminator), which holds none of its bits: it is read as 0 and
// not written.

/// Dense register `i`.
pub fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = u16::from(regs.get(byte).copied().unwrap_or(0));
    let b1 = u16::from(regs.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> fb) | (b1 << (8 - fb))) as u8) & REGISTER_MAX
}

/// Sets dense register `i` to `v` (at most 63).
pub fn dense_put(regs: &mut [u8], i: usize, v: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let fb8 = 8 - fb;
    let v = u16::from(v);
    let max = u16::from(REGISTER_MAX);
    if let Some(b) = regs.get_mut(byte) {
        *b &= !((max << fb) as u8);
        *b |= (v << fb) as u8;
    }
    if let Some(b) = regs.get_mut(byte + 1) {
        *b &= !((max >> fb8) as u8);
        *b |= (v >> fb8) as u8;
    }
}

/// Raises dense register `i` to `count` if lower: whether it changed.
fn dense_set(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_put(regs, i, count);
        true
    } else {
        false
    }
}

// ---------------------------------------------------------------------------------------
// Sparse opcodes.

/// One decoded opcode: registers covered, value (0 for the zero runs), bytes taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Op {
    span: i64,
    value: u8,
    len: usize,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Zero,
    Xzero,
    Val,
}

/// The opcode at `p` of `body` (the byte after the end reads as 0, as Redis's terminator).
fn op_at(body: &[u8], p: usize) -> Op {
    let b = body.get(p).copied().unwrap_or(0);
    if b & 0xc0 == 0 {
        Op {
            span: i64::from(b & 0x3f) + 1,
            value: 0,
            len: 1,
            kind: Kind::Zero,
        }
    } else if b & 0x80 != 0 {
        Op {
            span: i64::from(b & 0x3) + 1,
            value: ((b >> 2) & 0x1f) + 1,
            len: 1,
            kind: Kind::Val,
        }
    } else {
        let low = body.get(p + 1).copied().unwrap_or(0);
        Op {
            span: ((i64::from(b & 0x3f) << 8) | i64::from(low)) + 1,
            value: 0,
            len: 2,
            kind: Kind::Xzero,
        }
    }
}

fn val(value: u8, len: i64) -> u8 {
    ((value.wrapping_sub(1) << 2) | ((len - 1) as u8 & 3)) | 0x80
}

fn zero(len: i64) -> u8 {
    (len - 1) as u8 & 0x3f
}

fn xzero(len: i64) -> [u8; 2] {
    let l = len - 1;
    [((l >> 8) as u8 & 0x3f) | 0x40, (l & 0xff) as u8]
}

/// Walks the sparse opcodes of `s[start..end]` (`s` may hold the byte after `end`, read by
/// an XZERO cut at the end), calling `f(first_register, run, value)` for each VAL run; fails
/// when the runs do not cover exactly 16384 registers. A VAL run past the last register fails
/// at once, as in redis-server 7.0.15 with the CVE-2025-32023 fix (Debian's build, the one
/// we compare against): `HYLL` + `Z:16384 v:1,1` is corrupt, where unpatched 7.0.15 stopped
/// reading at the VAL and accepted it.
fn for_each_val(
    s: &[u8],
    start: usize,
    end: usize,
    mut f: impl FnMut(usize, usize, u8),
) -> Result<(), Corrupt> {
    let mut idx: i64 = 0;
    let mut p = start;
    while p < end {
        let op = op_at(s, p);
        if op.kind == Kind::Val {
            if op.span + idx > REGISTERS as i64 {
                return Err(Corrupt);
            }
            f(idx as usize, op.span as usize, op.value);
        }
        idx += op.span;
        p += op.len;
    }
    if idx == REGISTERS as i64 {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// The dense form of the sparse sketch `s[..end]` (the header kept, the cached cardinality
/// with it).
fn dense_of(s: &[u8], end: usize) -> Result<BytesMut, Corrupt> {
    let mut dense = BytesMut::zeroed(DENSE_SIZE);
    let header = s.get(..HDR_SIZE).ok_or(Corrupt)?;
    dense[..HDR_SIZE].copy_from_slice(header);
    dense[4] = DENSE;
    let regs = &mut dense[HDR_SIZE..];
    for_each_val(s, HDR_SIZE, end, |first, run, value| {
        for i in first..first + run {
            dense_put(regs, i, value);
        }
    })?;
    Ok(dense)
}

/// Converts a sparse sketch to dense in place (a dense one is left alone).
pub fn to_dense(sketch: &mut BytesMut) -> Result<(), Corrupt> {
    Batch::new(sketch).make_dense()
}

/// Raises register `index` to `count` in whichever encoding the sketch has (see
/// [`Batch::set`]).
pub fn set(
    sketch: &mut BytesMut,
    index: usize,
    count: u8,
    max_bytes: u64,
) -> Result<bool, Corrupt> {
    Batch::new(sketch).set(index, count, max_bytes)
}

/// Redis's `hllAdd` (see [`Batch::add`]).
#[cfg(test)]
pub fn add(sketch: &mut BytesMut, element: &[u8], max_bytes: u64) -> Result<bool, Corrupt> {
    Batch::new(sketch).add(element, max_bytes)
}

/// A sketch being changed by one command. Redis edits the string in place with its zero
/// terminator after it, and a corrupt sparse body whose last opcode is an XZERO cut short
/// reads that byte; splitting such an opcode writes one byte past the new end, which later
/// changes of the same command read back. The batch keeps the bytes after the end for as
/// long as the command runs (the string's length is `len`; `buf` holds at least 4 more
/// bytes once a sparse change needed them), so that a PFADD of many elements sees what Redis
/// sees. Dropping it cuts the buffer back to the string.
pub struct Batch<'a> {
    buf: &'a mut BytesMut,
    len: usize,
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        self.buf.truncate(self.len);
    }
}

impl<'a> Batch<'a> {
    /// Starts changing `sketch` (a value [`is_sketch`] accepted).
    pub fn new(sketch: &'a mut BytesMut) -> Batch<'a> {
        // Nothing is added yet: a dense sketch never needs the bytes after its end (its last
        // register's bits all lie inside), so PFADD on one moves no memory.
        let len = sketch.len();
        Batch { buf: sketch, len }
    }

    /// Room for the worst split (3 bytes) plus the terminator, as `sdsMakeRoomFor(s, 3)`.
    fn make_room(&mut self) {
        if self.buf.len() < self.len + 4 {
            self.buf.resize(self.len + 4, 0);
        }
    }

    fn encoding(&self) -> u8 {
        encoding(self.buf)
    }

    /// Converts a sparse sketch to dense (a dense one is left alone).
    pub fn make_dense(&mut self) -> Result<(), Corrupt> {
        if self.encoding() == DENSE {
            return Ok(());
        }
        let dense = dense_of(&self.buf[..], self.len)?;
        self.len = dense.len();
        *self.buf = dense;
        Ok(())
    }

    /// Redis's `hllAdd`: adds `element`. Ok(true) when a register changed.
    pub fn add(&mut self, element: &[u8], max_bytes: u64) -> Result<bool, Corrupt> {
        let (index, count) = pattern(element);
        self.set(index, count, max_bytes)
    }

    /// Raises register `index` to `count` if lower: Ok(true) when it changed.
    pub fn set(&mut self, index: usize, count: u8, max_bytes: u64) -> Result<bool, Corrupt> {
        match self.encoding() {
            DENSE => Ok(dense_set(&mut self.buf[HDR_SIZE..], index, count)),
            SPARSE => self.sparse_set(index, count, max_bytes),
            _ => Err(Corrupt),
        }
    }

    /// Redis's `hllSparseSet`: raises register `index` to `count` in a sparse sketch,
    /// splitting and merging opcodes in place, or promoting the sketch to dense when `count`
    /// does not fit a VAL opcode or the sketch would grow past `max_bytes`.
    fn sparse_set(&mut self, index: usize, count: u8, max_bytes: u64) -> Result<bool, Corrupt> {
        if count == 0 {
            // Every register is at least 0 (merges skip empty registers).
            return Ok(false);
        }
        if count > SPARSE_VAL_MAX_VALUE {
            return self.promote(index, count);
        }
        self.make_room();
        match sparse_set_in(self.buf, &mut self.len, index as i64, count, max_bytes) {
            SetOutcome::Done(changed) => Ok(changed),
            SetOutcome::Corrupt => Err(Corrupt),
            SetOutcome::Promote => self.promote(index, count),
        }
    }

    fn promote(&mut self, index: usize, count: u8) -> Result<bool, Corrupt> {
        self.make_dense()?;
        // The register is below `count` (a sparse VAL holds at most 32, or the split was
        // needed): it changes.
        Ok(dense_set(&mut self.buf[HDR_SIZE..], index, count))
    }
}

enum SetOutcome {
    Done(bool),
    Corrupt,
    Promote,
}

fn sparse_set_in(
    s: &mut BytesMut,
    len: &mut usize,
    index: i64,
    count: u8,
    max_bytes: u64,
) -> SetOutcome {
    let mut end = *len;
    // Step 1: find the opcode covering `index`.
    let mut p = HDR_SIZE;
    let mut first: i64 = 0;
    let mut prev: Option<usize> = None;
    let mut op = None;
    while p < end {
        let here = op_at(&s[..=end], p);
        op = Some(here);
        if index < first + here.span {
            break;
        }
        prev = Some(p);
        p += here.len;
        first += here.span;
    }
    let Some(op) = op else {
        return SetOutcome::Corrupt;
    };
    if p >= end {
        return SetOutcome::Corrupt;
    }
    let next = Some(p + op.len).filter(|&n| n < end);
    let runlen = op.span;

    let mut trivial = false;
    if op.kind == Kind::Val {
        // A) already as high; B) a VAL of one register.
        if op.value >= count {
            return SetOutcome::Done(false);
        }
        if runlen == 1 {
            s[p] = val(count, 1);
            trivial = true;
        }
    }
    // C) a ZERO of one register.
    if !trivial && op.kind == Kind::Zero && runlen == 1 {
        s[p] = val(count, 1);
        trivial = true;
    }
    if !trivial {
        // D) split the opcode into up to three.
        let mut seq = [0u8; 5];
        let mut n = 0;
        let last = first + op.span - 1;
        if op.kind == Kind::Val {
            if index != first {
                seq[n] = val(op.value, index - first);
                n += 1;
            }
            seq[n] = val(count, 1);
            n += 1;
            if index != last {
                seq[n] = val(op.value, last - index);
                n += 1;
            }
        } else {
            let mut put_zeros = |run: i64, n: &mut usize| {
                if run > SPARSE_ZERO_MAX_LEN {
                    seq[*n..*n + 2].copy_from_slice(&xzero(run));
                    *n += 2;
                } else {
                    seq[*n] = zero(run);
                    *n += 1;
                }
            };
            if index != first {
                put_zeros(index - first, &mut n);
            }
            let mut tail = 0usize;
            let mut tail_bytes = [0u8; 2];
            if index != last {
                let run = last - index;
                if run > SPARSE_ZERO_MAX_LEN {
                    tail_bytes = xzero(run);
                    tail = 2;
                } else {
                    tail_bytes[0] = zero(run);
                    tail = 1;
                }
            }
            seq[n] = val(count, 1);
            n += 1;
            seq[n..n + tail].copy_from_slice(&tail_bytes[..tail]);
            n += tail;
        }
        // Step 3: put the sequence in place of the opcode.
        let delta = n as i64 - op.len as i64;
        if delta > 0 && (*len as u64).saturating_add(delta as u64) > max_bytes {
            return SetOutcome::Promote;
        }
        if delta != 0 {
            if let Some(next) = next {
                let dest = (next as i64 + delta) as usize;
                s.copy_within(next..end, dest);
            }
        }
        *len = (*len as i64 + delta) as usize;
        s[*len] = 0;
        s[p..p + n].copy_from_slice(&seq[..n]);
        end = (end as i64 + delta) as usize;
    }
    // Step 4: merge adjacent VAL opcodes of one value, scanning up to 5 from `prev`.
    let mut p = prev.unwrap_or(HDR_SIZE);
    let mut scan = 5;
    while p < end && scan > 0 {
        scan -= 1;
        let here = op_at(&s[..=end], p);
        if here.kind != Kind::Val {
            p += here.len;
            continue;
        }
        if p + 1 < end {
            let right = op_at(&s[..=end], p + 1);
            if right.kind == Kind::Val && right.value == here.value {
                let run = here.span + right.span;
                if run <= SPARSE_VAL_MAX_LEN {
                    s[p + 1] = val(here.value, run);
                    s.copy_within(p + 1..=end, p);
                    *len -= 1;
                    s[*len] = 0;
                    end -= 1;
                    continue;
                }
            }
        }
        p += 1;
    }
    invalidate_cache(s);
    SetOutcome::Done(true)
}

/// Redis's `hllMerge`: `max[i] = max(max[i], register i)` (call on a value [`is_sketch`]
/// accepted).
pub fn merge_into(max: &mut [u8], sketch: &[u8]) -> Result<(), Corrupt> {
    let body = sketch.get(HDR_SIZE..).unwrap_or_default();
    if encoding(sketch) == DENSE {
        for (i, m) in max.iter_mut().enumerate() {
            *m = (*m).max(dense_get(body, i));
        }
        return Ok(());
    }
    for_each_val(sketch, HDR_SIZE, sketch.len(), |first, run, value| {
        for m in max.get_mut(first..first + run).unwrap_or_default() {
            *m = (*m).max(value);
        }
    })
}

/// The register histogram of a sketch, and whether a sparse one is corrupt (its runs do not
/// cover 16384 registers): Redis's `hllDenseRegHisto` / `hllSparseRegHisto`.
fn histogram(sketch: &[u8]) -> ([u64; 64], bool) {
    let mut histo = [0u64; 64];
    let body = sketch.get(HDR_SIZE..).unwrap_or_default();
    if encoding(sketch) == DENSE {
        for i in 0..REGISTERS {
            histo[usize::from(dense_get(body, i))] += 1;
        }
        return (histo, false);
    }
    let mut idx: u64 = 0;
    let mut p = 0;
    while p < body.len() {
        let op = op_at(body, p);
        idx += op.span as u64;
        histo[usize::from(op.value)] += op.span as u64;
        p += op.len;
    }
    (histo, idx != REGISTERS as u64)
}

/// Ertl's sigma (arXiv:1702.01284), as Redis computes it.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let z_prime = z;
        z += x * y;
        y += y;
        if z_prime == z {
            return z;
        }
    }
}

/// Ertl's tau, as Redis computes it.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let z_prime = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if z_prime == z {
            return z / 3.0;
        }
    }
}

/// The cardinality estimate of a register histogram (Redis 7.0's `hllCount`).
fn estimate(histo: &[u64; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - histo[Q + 1] as f64) / m);
    for j in (1..=Q).rev() {
        z += histo[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histo[0] as f64 / m);
    (ALPHA_INF * m * m / z).round() as u64
}

/// The estimated cardinality of a sketch; Err for a corrupt sparse one.
pub fn count(sketch: &[u8]) -> Result<u64, Corrupt> {
    let (histo, corrupt) = histogram(sketch);
    if corrupt {
        return Err(Corrupt);
    }
    Ok(estimate(&histo))
}

/// The estimated cardinality of plain registers (one byte each), for PFCOUNT of several keys.
pub fn count_registers(registers: &[u8]) -> u64 {
    let mut histo = [0u64; 64];
    for &r in registers {
        histo[usize::from(r & 63)] += 1;
    }
    estimate(&histo)
}

/// PFDEBUG DECODE's text for a sparse body: `z:N`, `Z:N`, `v:VALUE,N` joined by spaces.
pub fn decode(sketch: &[u8]) -> String {
    use std::fmt::Write;
    let body = sketch.get(HDR_SIZE..).unwrap_or_default();
    let mut out = String::new();
    let mut p = 0;
    while p < body.len() {
        let op = op_at(body, p);
        let _ = match op.kind {
            Kind::Zero => write!(out, "z:{} ", op.span),
            Kind::Xzero => write!(out, "Z:{} ", op.span),
            Kind::Val => write!(out, "v:{},{} ", op.value, op.span),
        };
        p += op.len;
    }
    out.truncate(out.trim_end_matches(' ').len());
    out
}

/// PFSELFTEST: dense registers keep what is written without touching their neighbours, and
/// a dense and a sparse sketch fed the same 10 million elements agree and stay within six
/// standard errors at every power of ten. Err carries Redis's `TESTFAILED` text.
pub fn self_test(max_bytes: u64, mut seed: u64) -> Result<(), String> {
    let mut next = move || {
        // xorshift64*: the test needs arbitrary values, not Redis's `rand()` sequence.
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut dense = BytesMut::zeroed(DENSE_SIZE);
    dense[..4].copy_from_slice(b"HYLL");
    let mut expected = vec![0u8; REGISTERS];
    for _ in 0..1000 {
        let regs = &mut dense[HDR_SIZE..];
        for (i, e) in expected.iter_mut().enumerate() {
            let r = (next() >> 32) as u8 & REGISTER_MAX;
            *e = r;
            dense_put(regs, i, r);
        }
        for (i, &e) in expected.iter().enumerate() {
            let got = dense_get(regs, i);
            if got != e {
                return Err(format!(
                    "TESTFAILED Register {i} should be {e} but is {got}"
                ));
            }
        }
    }
    dense[HDR_SIZE..].fill(0);
    let mut sparse = new_sketch();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    let salt = next();
    for j in 1..=10_000_000u64 {
        let element = (j ^ salt).to_le_bytes();
        let (index, count) = pattern(&element);
        dense_set(&mut dense[HDR_SIZE..], index, count);
        if set(&mut sparse, index, count, max_bytes).is_err() {
            return Err("TESTFAILED sparse set failed".to_string());
        }
        if j != checkpoint {
            continue;
        }
        if j < max_bytes / 2 && encoding(&sparse) != SPARSE {
            return Err("TESTFAILED sparse encoding not used".to_string());
        }
        let dense_count = count_or_zero(&dense);
        if dense_count != count_or_zero(&sparse) {
            return Err("TESTFAILED dense/sparse disagree".to_string());
        }
        let abserr = checkpoint.abs_diff(dense_count);
        let mut maxerr = (relerr * 6.0 * checkpoint as f64).ceil() as u64;
        if j == 10 {
            maxerr = 1;
        }
        if abserr > maxerr {
            return Err(format!(
                "TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"
            ));
        }
        checkpoint *= 10;
    }
    Ok(())
}

fn count_or_zero(sketch: &[u8]) -> u64 {
    count(sketch).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur_matches_known_values() {
        // Two different lengths exercise the word loop and the tail.
        assert_ne!(murmur64a(b"abcdefgh", 0), murmur64a(b"abcdefg", 0));
        assert_eq!(murmur64a(b"", 0), 0);
    }

    #[test]
    fn a_new_sketch_is_redis_s_18_bytes() {
        let s = new_sketch();
        assert_eq!(&s[..], b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff".as_slice());
        assert_eq!(count(&s), Ok(0));
        assert_eq!(decode(&s), "Z:16384");
    }

    #[test]
    fn dense_registers_do_not_touch_neighbours() {
        let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
        for i in 0..REGISTERS {
            dense_put(&mut regs, i, (i % 64) as u8);
        }
        for i in 0..REGISTERS {
            assert_eq!(dense_get(&regs, i), (i % 64) as u8);
        }
    }

    #[test]
    fn sparse_and_dense_agree_on_a_few_thousand_elements() {
        let mut sparse = new_sketch();
        let mut dense = new_sketch();
        to_dense(&mut dense).unwrap();
        for i in 0..3000u32 {
            let e = i.to_string();
            let a = add(&mut sparse, e.as_bytes(), 1 << 20).unwrap();
            let b = add(&mut dense, e.as_bytes(), 1 << 20).unwrap();
            assert_eq!(a, b, "element {i}");
        }
        assert_eq!(encoding(&sparse), SPARSE);
        assert_eq!(count(&sparse), count(&dense));
        let mut converted = sparse.clone();
        to_dense(&mut converted).unwrap();
        assert_eq!(converted[HDR_SIZE..], dense[HDR_SIZE..]);
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    fn registers(sketch: &BytesMut) -> Vec<u8> {
        let mut max = vec![0u8; REGISTERS];
        merge_into(&mut max, sketch).unwrap();
        max
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// A sparse and a dense sketch fed the same elements change on the same adds, hold
        /// the same registers and give the same estimate; converting the sparse one gives the
        /// dense one's bytes.
        #[test]
        fn sparse_and_dense_are_equivalent(
            elements in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..12), 0..400),
            max_bytes in prop_oneof![Just(3000u64), Just(100), Just(1 << 20)],
        ) {
            let mut sparse = new_sketch();
            let mut dense = new_sketch();
            to_dense(&mut dense).unwrap();
            for e in &elements {
                prop_assert_eq!(add(&mut sparse, e, max_bytes), add(&mut dense, e, max_bytes));
            }
            prop_assert_eq!(registers(&sparse), registers(&dense));
            prop_assert_eq!(count(&sparse), count(&dense));
            if encoding(&sparse) == SPARSE {
                prop_assert!(sparse.len() as u64 <= max_bytes.max(HDR_SIZE as u64 + 2));
            }
            let mut converted = sparse.clone();
            to_dense(&mut converted).unwrap();
            prop_assert_eq!(&converted[HDR_SIZE..], &dense[HDR_SIZE..]);
            // A merge into a fresh sparse sketch holds the same registers.
            let mut merged = new_sketch();
            let max = registers(&sparse);
            let mut batch = Batch::new(&mut merged);
            for (i, &m) in max.iter().enumerate() {
                batch.set(i, m, max_bytes).unwrap();
            }
            drop(batch);
            prop_assert_eq!(registers(&merged), max);
        }

        /// Whatever a client SETs, every operation on it answers (an error at worst): no
        /// panic, no read or write out of bounds, and a sparse body stays within reach.
        #[test]
        fn hostile_sketches_never_panic(
            encoding in prop_oneof![Just(SPARSE), Just(DENSE)],
            card in any::<[u8; 8]>(),
            body in proptest::collection::vec(any::<u8>(), 0..300),
            dense_body in any::<bool>(),
            elements in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..6), 0..20),
        ) {
            let mut value = BytesMut::from(&b"HYLL"[..]);
            value.extend_from_slice(&[encoding, 0, 0, 0]);
            value.extend_from_slice(&card);
            if encoding == DENSE && dense_body {
                value.resize(DENSE_SIZE, 0);
                for (i, b) in body.iter().enumerate() {
                    value[HDR_SIZE + i * 37 % (DENSE_SIZE - HDR_SIZE)] = *b;
                }
            } else {
                value.extend_from_slice(&body);
            }
            if !is_sketch(&value) {
                return Ok(());
            }
            let _ = cached_count(&value);
            let _ = count(&value);
            let _ = decode(&value);
            let mut max = vec![0u8; REGISTERS];
            let _ = merge_into(&mut max, &value);
            let mut dense = value.clone();
            let _ = to_dense(&mut dense);
            let mut added = value.clone();
            {
                let mut batch = Batch::new(&mut added);
                for e in &elements {
                    if batch.add(e, 3000).is_err() {
                        break;
                    }
                }
            }
            prop_assert!(added.len() <= value.len().max(DENSE_SIZE) + 5 * elements.len());
            let _ = count(&added);
            let mut merged = value.clone();
            let _ = set(&mut merged, 16383, 63, 3000);
            let _ = set(&mut merged, 0, 1, 3000);
        }
    }

    /// XZERO runs that add up past what a C `int` holds (CVE-2025-32023) are corrupt.
    #[test]
    fn huge_run_sums_are_corrupt() {
        let mut value = new_sketch();
        value.truncate(HDR_SIZE);
        for _ in 0..140_000 {
            value.extend_from_slice(&[0x7f, 0xff]);
        }
        value.extend_from_slice(&[0x80]);
        assert_eq!(count(&value), Err(Corrupt));
        let mut max = vec![0u8; REGISTERS];
        assert_eq!(merge_into(&mut max, &value), Err(Corrupt));
        let mut dense = value.clone();
        assert_eq!(to_dense(&mut dense), Err(Corrupt));
        let mut added = value.clone();
        let _ = add(&mut added, b"a", 3000);
        let _ = add(&mut added, b"a", u64::MAX);
    }
}
