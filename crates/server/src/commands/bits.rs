//! Bitmap commands over string values: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP (BITFIELD is
//! in `bitfield`). Bits are numbered from the most significant bit of the first byte, as
//! Redis numbers them; a missing key is an endless run of zero bits.

use bytes::Bytes;

use super::args::{arg, integer, is_keyword, parse_i64};
use super::context::Ctx;
use super::registry::{
    BeginSearch, Categories, Category, Command, Docs, FindKeys, Flag, Flags, KeyFlag, KeyFlags,
    KeyRange, KeySpec, Spec,
};
use super::reply::syntax_error;
use super::string_edit::{self, changed};
use crate::db::{Entry, Value};
use respect_resp::Frame;

/// This family's commands.
pub const COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "setbit",
            arity: 4,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Bitmap, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Sets or clears the bit at offset in the string value stored at key",
                since: "2.2.0",
                group: "bitmap",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: setbit,
    },
    Command {
        spec: Spec {
            name: "getbit",
            arity: 3,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Bitmap, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Returns the bit value at offset in the string value stored at key",
                since: "2.2.0",
                group: "bitmap",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: getbit,
    },
    Command {
        spec: Spec {
            name: "bitcount",
            arity: -2,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Bitmap, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Count set bits in a string",
                since: "2.6.0",
                group: "bitmap",
                complexity: "O(N)",
                deprecated: None,
                history: &[("7.0.0", "Added the `BYTE|BIT` option.")],
            },
            subcommands: &[],
        },
        run: bitcount,
    },
    Command {
        spec: Spec {
            name: "bitpos",
            arity: -3,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Bitmap, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Find first bit set or clear in a string",
                since: "2.8.7",
                group: "bitmap",
                complexity: "O(N)",
                deprecated: None,
                history: &[("7.0.0", "Added the `BYTE|BIT` option.")],
            },
            subcommands: &[],
        },
        run: bitpos,
    },
    Command {
        spec: Spec {
            name: "bitop",
            arity: -4,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom]),
            keys: KeyRange { first: 2, last: -1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ow, KeyFlag::Update]), begin: BeginSearch::Index(2), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }, KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(3), find: FindKeys::Range { last_key: -1, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Bitmap, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Perform bitwise operations between strings",
                since: "2.6.0",
                group: "bitmap",
                complexity: "O(N)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: bitop,
    },
    Command {
        spec: Spec {
            name: "bitfield",
            arity: -2,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: Some("This command allows both access and modification of the key"), flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Update, KeyFlag::VariableFlags]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Bitmap, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Perform arbitrary bitfield integer operations on strings",
                since: "3.2.0",
                group: "bitmap",
                complexity: "O(1) for each subcommand specified",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: super::bitfield::bitfield,
    },
    Command {
        spec: Spec {
            name: "bitfield_ro",
            arity: -2,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Bitmap, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
                since: "6.0.0",
                group: "bitmap",
                complexity: "O(1) for each subcommand specified",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: super::bitfield::bitfield_ro,
    },
];

/// Redis's error for a bad bit offset (SETBIT, GETBIT, BITFIELD).
const BAD_OFFSET: &str = "ERR bit offset is not an integer or out of range";

/// Parses a bit offset as Redis's `getBitOffsetFromArgument`: a non-negative integer whose
/// byte is below `proto-max-bulk-len`; with `hash_bits` (BITFIELD), `#N` means N times the
/// field width.
pub(crate) fn bit_offset(ctx: &Ctx<'_>, text: &[u8], hash_bits: Option<u32>) -> Result<u64, Frame> {
    let bad = || Frame::error(BAD_OFFSET);
    let (multiplier, digits) = match (text.split_first(), hash_bits) {
        (Some((b'#', rest)), Some(bits)) if bits > 0 => (Some(bits), rest),
        _ => (None, text),
    };
    let mut offset = parse_i64(digits).ok_or_else(bad)?;
    if let Some(bits) = multiplier {
        // Redis multiplies in a C `long long` that wraps; a wrapped offset is negative or
        // beyond the limit, and refused below either way.
        offset = offset.wrapping_mul(i64::from(bits));
    }
    let max = string_edit::max_string_len(ctx);
    match u64::try_from(offset) {
        Ok(offset) if (offset >> 3) < max => Ok(offset),
        _ => Err(bad()),
    }
}

/// The bit at `offset` of `bytes` (0 beyond the end).
fn bit_at(bytes: &[u8], offset: u64) -> u8 {
    let byte = usize::try_from(offset >> 3)
        .ok()
        .and_then(|i| bytes.get(i).copied())
        .unwrap_or(0);
    (byte >> (7 - (offset & 7))) & 1
}

/// The byte index and length a bit offset needs, or an error on a 32-bit host.
fn byte_len(offset: u64) -> Result<usize, Frame> {
    usize::try_from((offset >> 3) + 1).map_err(|_| Frame::error(BAD_OFFSET))
}

/// `SETBIT key offset value`: the old bit.
fn setbit(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let key = arg(argv, 1);
    let offset = match bit_offset(ctx, &arg(argv, 2), None) {
        Ok(offset) => offset,
        Err(error) => return error,
    };
    let on = match parse_i64(&arg(argv, 3)) {
        Some(on @ (0 | 1)) => on as u8,
        _ => return Frame::error("ERR bit is not an integer or out of range"),
    };
    let len = match byte_len(offset) {
        Ok(len) => len,
        Err(error) => return error,
    };
    let edited = string_edit::edit(ctx, &key, len, |bytes| {
        let old = bit_at(bytes, offset);
        let mask = 1u8 << (7 - (offset & 7));
        if let Some(byte) = bytes.get_mut(len - 1) {
            if on == 1 {
                *byte |= mask;
            } else {
                *byte &= !mask;
            }
        }
        old
    });
    match edited {
        Ok((old, grew)) => {
            if grew || old != on {
                changed(ctx, "setbit", &key);
            }
            Frame::Integer(i64::from(old))
        }
        Err(error) => error,
    }
}

/// `GETBIT key offset`.
fn getbit(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let offset = match bit_offset(ctx, &arg(argv, 2), None) {
        Ok(offset) => offset,
        Err(error) => return error,
    };
    match string_edit::read(ctx, &arg(argv, 1)) {
        Ok(value) => Frame::Integer(i64::from(bit_at(
            value.as_deref().unwrap_or_default(),
            offset,
        ))),
        Err(error) => error,
    }
}

/// A `start end [BYTE|BIT]` range resolved against a string of `len` bytes, as BITCOUNT and
/// BITPOS resolve it: whole bytes `first..=last`, and for a BIT range the bits of the first
/// and last byte that lie outside it (Redis's negative masks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BitRange {
    first: i64,
    last: i64,
    /// Bits of byte `first` before the range.
    first_outside: u8,
    /// Bits of byte `last` after the range.
    last_outside: u8,
}

impl BitRange {
    /// Clamps `start..=end` (negative from the end) to `len` bytes, or `len * 8` bits when
    /// `bits`; `first > last` is an empty range.
    fn resolve(len: i64, mut start: i64, mut end: i64, bits: bool) -> BitRange {
        let total = if bits { len << 3 } else { len };
        if start < 0 {
            start += total;
        }
        if end < 0 {
            end += total;
        }
        start = start.max(0);
        end = end.max(0);
        if end >= total {
            end = total - 1;
        }
        let mut range = BitRange {
            first: start,
            last: end,
            first_outside: 0,
            last_outside: 0,
        };
        if bits && start <= end {
            range.first_outside = !((1u16 << (8 - (start & 7))) - 1) as u8;
            range.last_outside = ((1u16 << (7 - (end & 7))) - 1) as u8;
            range.first = start >> 3;
            range.last = end >> 3;
        }
        range
    }

    /// The bytes `first..=last` of `bytes` (empty when the range is).
    fn bytes<'b>(&self, bytes: &'b [u8]) -> &'b [u8] {
        match (usize::try_from(self.first), usize::try_from(self.last)) {
            (Ok(first), Ok(last)) if first <= last => bytes.get(first..=last).unwrap_or_default(),
            _ => &[],
        }
    }
}

/// `BYTE` or `BIT`, any case.
fn unit_is_bit(unit: &[u8]) -> Result<bool, Frame> {
    if is_keyword(unit, "BIT") {
        Ok(true)
    } else if is_keyword(unit, "BYTE") {
        Ok(false)
    } else {
        Err(syntax_error())
    }
}

/// `BITCOUNT key [start end [BYTE|BIT]]`.
fn bitcount(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    // Redis looks the key up first: a missing key is 0 whatever the rest says.
    let value = match string_edit::read(ctx, &arg(argv, 1)) {
        Ok(Some(value)) => value,
        Ok(None) => return Frame::Integer(0),
        Err(error) => return error,
    };
    match count_bits(&value, argv) {
        Ok(n) => Frame::Integer(n),
        Err(error) => error,
    }
}

fn count_bits(value: &[u8], argv: &[Bytes]) -> Result<i64, Frame> {
    let len = value.len() as i64;
    let range = match argv.len() {
        2 => BitRange::resolve(len, 0, -1, false),
        4 | 5 => {
            let start = integer(&arg(argv, 2))?;
            let end = integer(&arg(argv, 3))?;
            if start < 0 && end < 0 && start > end {
                return Ok(0);
            }
            let bits = match argv.get(4) {
                Some(unit) => unit_is_bit(unit)?,
                None => false,
            };
            BitRange::resolve(len, start, end, bits)
        }
        _ => return Err(syntax_error()),
    };
    let bytes = range.bytes(value);
    let mut count: i64 = bytes.iter().map(|b| i64::from(b.count_ones())).sum();
    if let (Some(first), Some(last)) = (bytes.first(), bytes.last()) {
        count -= i64::from((first & range.first_outside).count_ones());
        count -= i64::from((last & range.last_outside).count_ones());
    }
    Ok(count)
}

/// Redis's `redisBitpos`: the first bit equal to `bit` in `bytes`; when there is none, -1
/// for a 1 and `8 * len` for a 0 (the string is taken as padded with zeros on the right).
fn first_bit(bytes: impl ExactSizeIterator<Item = u8>, bit: u8) -> i64 {
    let skip = if bit == 1 { 0u8 } else { 0xff };
    let len = bytes.len();
    match bytes.enumerate().find(|&(_, b)| b != skip) {
        Some((at, byte)) => {
            let within = if bit == 1 {
                byte.leading_zeros()
            } else {
                byte.leading_ones()
            };
            at as i64 * 8 + i64::from(within)
        }
        None if bit == 1 => -1,
        None => len as i64 * 8,
    }
}

/// `BITPOS key bit [start [end [BYTE|BIT]]]`.
fn bitpos(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let bit = match integer(&arg(argv, 2)) {
        Ok(bit @ (0 | 1)) => bit as u8,
        Ok(_) => return Frame::error("ERR The bit argument must be 1 or 0."),
        Err(error) => return error,
    };
    let value = match string_edit::read(ctx, &arg(argv, 1)) {
        Ok(Some(value)) => value,
        Ok(None) => return Frame::Integer(if bit == 1 { -1 } else { 0 }),
        Err(error) => return error,
    };
    match find_bit(&value, bit, argv) {
        Ok(n) => Frame::Integer(n),
        Err(error) => error,
    }
}

fn find_bit(value: &[u8], bit: u8, argv: &[Bytes]) -> Result<i64, Frame> {
    let len = value.len() as i64;
    let (range, end_given) = match argv.len() {
        3 => (BitRange::resolve(len, 0, -1, false), false),
        4..=6 => {
            let start = integer(&arg(argv, 3))?;
            let bits = match argv.get(5) {
                Some(unit) => unit_is_bit(unit)?,
                None => false,
            };
            let (end, given) = match argv.get(4) {
                Some(end) => (integer(end)?, true),
                None => (-1, false),
            };
            (BitRange::resolve(len, start, end, bits), given)
        }
        _ => return Err(syntax_error()),
    };
    if range.first > range.last {
        return Ok(-1);
    }
    let bytes = range.bytes(value);
    // The edge bytes with their bits outside the range set to what is not looked for (read
    // in passing: a BIT range over a large string is not copied).
    let hide = |byte: u8, outside: u8| {
        if bit == 1 {
            byte & !outside
        } else {
            byte | outside
        }
    };
    let last = bytes.len().saturating_sub(1);
    let body = bytes.iter().enumerate().map(|(i, &byte)| {
        let byte = if i == 0 {
            hide(byte, range.first_outside)
        } else {
            byte
        };
        if i == last {
            hide(byte, range.last_outside)
        } else {
            byte
        }
    });
    let pos = first_bit(body, bit);
    // With an explicit end, the bits right of the range are not zero padding: no clear bit
    // inside it is -1.
    if end_given && bit == 0 && pos == bytes.len() as i64 * 8 {
        return Ok(-1);
    }
    Ok(if pos == -1 { -1 } else { pos + range.first * 8 })
}

/// BITOP's operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// `BITOP AND|OR|XOR|NOT destkey key [key ...]`: the length of the result, stored at
/// `destkey` (deleted when the result is empty).
fn bitop(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let name = arg(argv, 1);
    let op = if is_keyword(&name, "AND") {
        BitOp::And
    } else if is_keyword(&name, "OR") {
        BitOp::Or
    } else if is_keyword(&name, "XOR") {
        BitOp::Xor
    } else if is_keyword(&name, "NOT") {
        BitOp::Not
    } else {
        return syntax_error();
    };
    if op == BitOp::Not && argv.len() != 4 {
        return Frame::error("ERR BITOP NOT must be called with a single source key.");
    }
    let dest = arg(argv, 2);
    let mut sources = Vec::new();
    for key in argv.get(3..).unwrap_or_default() {
        match string_edit::read(ctx, key) {
            Ok(value) => sources.push(value.unwrap_or_default()),
            Err(error) => return error,
        }
    }
    let result = combine(op, &sources);
    if result.is_empty() {
        let existed = ctx.db.shard(&dest).remove(&dest, ctx.now).is_some();
        if existed {
            super::watch::signal_modified(ctx, ctx.state.db_index, &dest);
            super::events::notify(ctx, crate::notify::GENERIC, "del", &dest);
        }
        return Frame::Integer(0);
    }
    if let Err(error) = string_edit::grow_room(ctx, result.len()) {
        return error;
    }
    let len = result.len() as i64;
    ctx.db.shard(&dest).insert(
        dest.clone(),
        Entry::new(Value::Str(Bytes::from(result))),
        ctx.now,
    );
    super::watch::signal_modified(ctx, ctx.state.db_index, &dest);
    super::events::notify(ctx, crate::notify::STRING, "set", &dest);
    Frame::Integer(len)
}

/// The bytes of `op` over `sources`, each taken as padded with zeros to the longest.
fn combine(op: BitOp, sources: &[Bytes]) -> Vec<u8> {
    let longest = sources.iter().map(Bytes::len).max().unwrap_or(0);
    let byte = |source: &Bytes, i: usize| source.get(i).copied().unwrap_or(0);
    let mut out = Vec::with_capacity(longest);
    let Some((first, rest)) = sources.split_first() else {
        return out;
    };
    for i in 0..longest {
        let mut acc = byte(first, i);
        match op {
            BitOp::Not => acc = !acc,
            BitOp::And => rest.iter().for_each(|s| acc &= byte(s, i)),
            BitOp::Or => rest.iter().for_each(|s| acc |= byte(s, i)),
            BitOp::Xor => rest.iter().for_each(|s| acc ^= byte(s, i)),
        }
        out.push(acc);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_bit_pads_with_zeros_on_the_right() {
        let first = |bytes: &[u8], bit| first_bit(bytes.iter().copied(), bit);
        assert_eq!(first(&[0xff, 0xf0], 0), 12);
        assert_eq!(first(&[0xff], 0), 8);
        assert_eq!(first(&[0x00, 0x01], 1), 15);
        assert_eq!(first(&[0x00], 1), -1);
        assert_eq!(first(&[], 0), 0);
    }

    #[test]
    fn bit_ranges_clamp_and_mask_like_redis() {
        let range = BitRange::resolve(3, 5, 17, true);
        assert_eq!((range.first, range.last), (0, 2));
        assert_eq!(range.first_outside, 0b1111_1000);
        assert_eq!(range.last_outside, 0b0011_1111);
        let empty = BitRange::resolve(3, 10, 2, false);
        assert!(empty.first > empty.last);
        assert_eq!(empty.bytes(b"abc"), b"");
    }

    #[test]
    fn bitop_pads_short_sources_with_zeros() {
        let sources = [Bytes::from_static(b"\xff\xff"), Bytes::from_static(b"\x0f")];
        assert_eq!(combine(BitOp::And, &sources), vec![0x0f, 0x00]);
        assert_eq!(combine(BitOp::Or, &sources), vec![0xff, 0xff]);
        assert_eq!(combine(BitOp::Xor, &sources), vec![0xf0, 0xff]);
        assert_eq!(combine(BitOp::Not, &sources[1..]), vec![0xf0]);
    }
}
