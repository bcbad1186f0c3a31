//! BITFIELD and BITFIELD_RO: integers of 1 to 64 bits (unsigned up to 63) at any bit offset
//! of a string, read, written and incremented with Redis's overflow rules (WRAP, SAT, FAIL).

use bytes::Bytes;

use super::args::{arg, integer, is_keyword, parse_i64};
use super::bits::bit_offset;
use super::context::Ctx;
use super::reply::syntax_error;
use super::string_edit::{self, changed};
use respect_resp::Frame;

/// Redis's error for a bad field type.
const BAD_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

/// What happens when SET or INCRBY does not fit the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Get,
    Set(i64),
    IncrBy(i64),
}

/// One GET, SET or INCRBY, with the overflow rule in force where it appeared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Op {
    action: Action,
    offset: u64,
    bits: u32,
    signed: bool,
    overflow: Overflow,
}

/// `i1`..`i64` or `u1`..`u63`.
fn field_type(text: &[u8]) -> Result<(bool, u32), Frame> {
    let bad = || Frame::error(BAD_TYPE);
    let (signed, digits) = match text.split_first() {
        Some((b'i', rest)) => (true, rest),
        Some((b'u', rest)) => (false, rest),
        _ => return Err(bad()),
    };
    match parse_i64(digits) {
        Some(bits @ 1..=64) if signed => Ok((true, bits as u32)),
        Some(bits @ 1..=63) => Ok((false, bits as u32)),
        _ => Err(bad()),
    }
}

/// Parses every subcommand before the keyspace is touched, with Redis's errors in its order.
fn parse(ctx: &Ctx<'_>, args: &[Bytes]) -> Result<Vec<Op>, Frame> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut at = 0;
    while let Some(name) = args.get(at) {
        let remaining = args.len() - at - 1;
        let takes_value = if is_keyword(name, "GET") && remaining >= 2 {
            false
        } else if (is_keyword(name, "SET") || is_keyword(name, "INCRBY")) && remaining >= 3 {
            true
        } else if is_keyword(name, "OVERFLOW") && remaining >= 1 {
            let kind = args.get(at + 1).map(Bytes::as_ref).unwrap_or_default();
            overflow = if is_keyword(kind, "WRAP") {
                Overflow::Wrap
            } else if is_keyword(kind, "SAT") {
                Overflow::Sat
            } else if is_keyword(kind, "FAIL") {
                Overflow::Fail
            } else {
                return Err(Frame::error("ERR Invalid OVERFLOW type specified"));
            };
            at += 2;
            continue;
        } else {
            return Err(syntax_error());
        };
        let field = |i: usize| args.get(at + i).map(Bytes::as_ref).unwrap_or_default();
        let (signed, bits) = field_type(field(1))?;
        let offset = bit_offset(ctx, field(2), Some(bits))?;
        let action = if !takes_value {
            Action::Get
        } else if is_keyword(name, "SET") {
            Action::Set(integer(field(3))?)
        } else {
            Action::IncrBy(integer(field(3))?)
        };
        ops.push(Op {
            action,
            offset,
            bits,
            signed,
            overflow,
        });
        at += if takes_value { 4 } else { 3 };
    }
    Ok(ops)
}

/// `BITFIELD key [GET type offset | SET type offset value | INCRBY type offset increment |
/// OVERFLOW WRAP|SAT|FAIL] ...`.
pub fn bitfield(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    run(ctx, argv, false)
}

/// `BITFIELD_RO key [GET type offset] ...`.
pub fn bitfield_ro(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    run(ctx, argv, true)
}

fn run(ctx: &mut Ctx<'_>, argv: &[Bytes], read_only: bool) -> Frame {
    let key = arg(argv, 1);
    let ops = match parse(ctx, argv.get(2..).unwrap_or_default()) {
        Ok(ops) => ops,
        Err(error) => return error,
    };
    let highest = ops
        .iter()
        .filter(|op| op.action != Action::Get)
        .map(|op| op.offset + u64::from(op.bits) - 1)
        .max();
    let Some(highest) = highest else {
        return match string_edit::read(ctx, &key) {
            Ok(value) => Frame::Array(
                ops.iter()
                    .map(|op| Frame::Integer(get(value.as_deref().unwrap_or_default(), op)))
                    .collect(),
            ),
            Err(error) => error,
        };
    };
    if read_only {
        return Frame::error("ERR BITFIELD_RO only supports the GET subcommand");
    }
    let Ok(len) = usize::try_from((highest >> 3) + 1) else {
        return Frame::error("ERR bit offset is not an integer or out of range");
    };
    let edited = string_edit::edit(ctx, &key, len, |bytes| {
        let mut changes = 0;
        let replies: Vec<Frame> = ops
            .iter()
            .map(|op| match apply(bytes, op) {
                Some((reply, old, new)) => {
                    if old != new {
                        changes += 1;
                    }
                    Frame::Integer(reply)
                }
                None if op.action == Action::Get => Frame::Integer(get(bytes, op)),
                None => Frame::Null,
            })
            .collect();
        (replies, changes)
    });
    match edited {
        Ok(((replies, changes), grew)) => {
            let wrote = ops.iter().any(|op| op.action != Action::Get);
            // Redis counts a write as a change when the key was created or grew, or the
            // field's value changed; a FAIL that wrote nothing counts for nothing.
            let any_write_done = replies
                .iter()
                .zip(&ops)
                .any(|(reply, op)| op.action != Action::Get && !matches!(reply, Frame::Null));
            if changes > 0 || (grew && wrote && any_write_done) {
                changed(ctx, "setbit", &key);
            }
            Frame::Array(replies)
        }
        Err(error) => error,
    }
}

/// The raw `bits` bits at `offset` (zero beyond the end of `bytes`).
fn read_bits(bytes: &[u8], offset: u64, bits: u32) -> u64 {
    (0..u64::from(bits)).fold(0u64, |value, i| {
        let at = offset + i;
        let byte = usize::try_from(at >> 3)
            .ok()
            .and_then(|b| bytes.get(b).copied())
            .unwrap_or(0);
        (value << 1) | u64::from((byte >> (7 - (at & 7))) & 1)
    })
}

fn write_bits(bytes: &mut [u8], offset: u64, bits: u32, value: u64) {
    for i in 0..u64::from(bits) {
        let at = offset + i;
        let bit = (value >> (u64::from(bits) - 1 - i)) & 1;
        if let Some(byte) = usize::try_from(at >> 3).ok().and_then(|b| bytes.get_mut(b)) {
            let mask = 1u8 << (7 - (at & 7));
            if bit == 1 {
                *byte |= mask;
            } else {
                *byte &= !mask;
            }
        }
    }
}

/// The field's value, sign-extended for a signed type.
fn get(bytes: &[u8], op: &Op) -> i64 {
    let raw = read_bits(bytes, op.offset, op.bits);
    if op.signed {
        sign_extend(raw, op.bits)
    } else {
        raw as i64
    }
}

fn sign_extend(raw: u64, bits: u32) -> i64 {
    if bits < 64 && raw & (1u64 << (bits - 1)) != 0 {
        (raw | (u64::MAX << bits)) as i64
    } else {
        raw as i64
    }
}

/// Runs a SET or INCRBY on `bytes` (long enough): `(reply, old, new)`, or `None` for a GET
/// and for an overflow under FAIL (nothing written, a null reply).
fn apply(bytes: &mut [u8], op: &Op) -> Option<(i64, u64, u64)> {
    let (value, increment, is_set) = match op.action {
        Action::Get => return None,
        Action::Set(value) => (value, 0, true),
        Action::IncrBy(increment) => (0, increment, false),
    };
    let old_raw = read_bits(bytes, op.offset, op.bits);
    let mask = if op.bits == 64 {
        u64::MAX
    } else {
        (1u64 << op.bits) - 1
    };
    let (reply, new) = if op.signed {
        let old = sign_extend(old_raw, op.bits);
        let (base, incr) = if is_set { (value, 0) } else { (old, increment) };
        let (overflowed, result) = signed_result(base, incr, op.bits, op.overflow);
        if overflowed && op.overflow == Overflow::Fail {
            return None;
        }
        let reply = if is_set { old } else { result };
        (reply, result as u64 & mask)
    } else {
        let (base, incr) = if is_set {
            (value as u64, 0)
        } else {
            (old_raw, increment)
        };
        let (overflowed, result) = unsigned_result(base, incr, op.bits, op.overflow);
        if overflowed && op.overflow == Overflow::Fail {
            return None;
        }
        let reply = if is_set {
            old_raw as i64
        } else {
            result as i64
        };
        (reply, result & mask)
    };
    write_bits(bytes, op.offset, op.bits, new);
    Some((reply, old_raw, new))
}

/// `value + incr` in an unsigned field of `bits` bits: whether it overflowed, and the value
/// to store (Redis's `checkUnsignedBitfieldOverflow`).
fn unsigned_result(value: u64, incr: i64, bits: u32, overflow: Overflow) -> (bool, u64) {
    let max = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = value.wrapping_neg() as i64;
    let wrapped = || value.wrapping_add(incr as u64) & max;
    if value > max || (incr > 0 && incr > max_incr) {
        match overflow {
            Overflow::Wrap => (true, wrapped()),
            Overflow::Sat => (true, max),
            Overflow::Fail => (true, 0),
        }
    } else if incr < 0 && incr < min_incr {
        match overflow {
            Overflow::Wrap => (true, wrapped()),
            Overflow::Sat => (true, 0),
            Overflow::Fail => (true, 0),
        }
    } else {
        (false, value.wrapping_add(incr as u64))
    }
}

/// `value + incr` in a signed field of `bits` bits (Redis's `checkSignedBitfieldOverflow`).
fn signed_result(value: i64, incr: i64, bits: u32, overflow: Overflow) -> (bool, i64) {
    let max = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let wrapped = || {
        let sum = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let high = u64::MAX << bits;
            if sum & (1u64 << (bits - 1)) != 0 {
                (sum | high) as i64
            } else {
                (sum & !high) as i64
            }
        } else {
            sum as i64
        }
    };
    if value > max || (bits != 64 && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr)
    {
        match overflow {
            Overflow::Wrap => (true, wrapped()),
            Overflow::Sat => (true, max),
            Overflow::Fail => (true, 0),
        }
    } else if value < min
        || (bits != 64 && incr < min_incr)
        || (value < 0 && incr < 0 && incr < min_incr)
    {
        match overflow {
            Overflow::Wrap => (true, wrapped()),
            Overflow::Sat => (true, min),
            Overflow::Fail => (true, 0),
        }
    } else {
        (false, value.wrapping_add(incr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_fields_wrap_and_saturate() {
        assert_eq!(unsigned_result(250, 10, 8, Overflow::Wrap), (true, 4));
        assert_eq!(unsigned_result(250, 10, 8, Overflow::Sat), (true, 255));
        assert_eq!(unsigned_result(5, -10, 8, Overflow::Sat), (true, 0));
        assert_eq!(unsigned_result(u64::MAX, 0, 8, Overflow::Wrap), (true, 255));
        assert_eq!(unsigned_result(5, 3, 8, Overflow::Wrap), (false, 8));
    }

    #[test]
    fn signed_fields_wrap_and_saturate() {
        assert_eq!(signed_result(127, 1, 8, Overflow::Wrap), (true, -128));
        assert_eq!(signed_result(-128, -1, 8, Overflow::Sat), (true, -128));
        assert_eq!(signed_result(100, 100, 8, Overflow::Sat), (true, 127));
        assert_eq!(
            signed_result(i64::MAX, 1, 64, Overflow::Wrap),
            (true, i64::MIN)
        );
        assert_eq!(signed_result(-3, 1, 4, Overflow::Wrap), (false, -2));
    }

    #[test]
    fn fields_read_across_byte_boundaries() {
        let mut bytes = [0u8; 3];
        write_bits(&mut bytes, 4, 12, 0xabc);
        assert_eq!(bytes, [0x0a, 0xbc, 0x00]);
        assert_eq!(read_bits(&bytes, 4, 12), 0xabc);
        assert_eq!(read_bits(&bytes, 20, 8), 0);
        assert_eq!(sign_extend(0xff, 8), -1);
    }
}
