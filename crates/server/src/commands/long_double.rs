//! The x87 80-bit `long double` arithmetic INCRBYFLOAT and HINCRBYFLOAT do in Redis, in
//! software and exact: Redis reads both operands with `strtold`, adds them in 80-bit extended
//! precision (a 64-bit significand), and writes the sum with `%.17Lf` minus trailing zeros
//! (`ld2string` in `LD_STR_HUMAN` mode). Doing the same in `f64` differs on many values (the
//! network differential fuzzer found them), so each step here is done on exact integers and
//! rounded once, to nearest with ties to even, as the hardware and glibc do.
//!
//! Every size is bounded: a text is at most [`MAX_TEXT_LEN`] bytes (Redis's
//! `MAX_LONG_DOUBLE_CHARS`), and exponents are clamped before any power of ten is built.

use std::cmp::Ordering;

/// The smallest exponent of a value's integer significand: subnormals are `m * 2^-16445`.
const MIN_EXP: i64 = -16445;
/// The largest: the largest finite value is `(2^64 - 1) * 2^16320` (about 1.19e4932).
const MAX_EXP: i64 = 16320;
/// Bits of the significand.
const SIGNIFICAND_BITS: i64 = 64;
/// Redis's `MAX_LONG_DOUBLE_CHARS`: `string2ld` refuses a text this long or longer.
pub const MAX_TEXT_LEN: usize = 5 * 1024;
/// Digits after the point `%.17Lf` writes.
const FRACTION_DIGITS: u32 = 17;
/// Decimal magnitudes (exponent of the leading digit) beyond which a text is surely out of
/// range: above [`MAX_DECIMAL_MAGNITUDE`] it overflows, below [`MIN_DECIMAL_MAGNITUDE`] it
/// rounds to zero (the smallest subnormal is about 3.6e-4951). Both have a margin; values in
/// between are rounded exactly.
const MAX_DECIMAL_MAGNITUDE: i64 = 4935;
const MIN_DECIMAL_MAGNITUDE: i64 = -4955;

/// An 80-bit extended value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongDouble {
    /// `mantissa * 2^exponent`; normalized (top bit set) unless subnormal or zero.
    Finite {
        negative: bool,
        mantissa: u64,
        exponent: i64,
    },
    Infinite {
        negative: bool,
    },
    NaN,
}

impl LongDouble {
    /// Zero.
    pub const ZERO: LongDouble = LongDouble::Finite {
        negative: false,
        mantissa: 0,
        exponent: 0,
    };

    /// A double, exactly (every double is an 80-bit value): C's promotion to `long double`.
    pub fn from_f64(v: f64) -> LongDouble {
        if v.is_nan() {
            return LongDouble::NaN;
        }
        let negative = v.is_sign_negative();
        if v.is_infinite() {
            return LongDouble::Infinite { negative };
        }
        let bits = v.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i64;
        let fraction = bits & ((1u64 << 52) - 1);
        if biased == 0 {
            if fraction == 0 {
                return LongDouble::Finite {
                    negative,
                    mantissa: 0,
                    exponent: 0,
                };
            }
            // Subnormal: fraction * 2^-1074, normalized.
            let shift = fraction.leading_zeros();
            return LongDouble::Finite {
                negative,
                mantissa: fraction << shift,
                exponent: -1074 - i64::from(shift),
            };
        }
        LongDouble::Finite {
            negative,
            mantissa: (fraction | (1u64 << 52)) << 11,
            exponent: biased - 1075 - 11,
        }
    }

    /// Whether the value is neither infinite nor NaN.
    pub fn is_finite(self) -> bool {
        matches!(self, LongDouble::Finite { .. })
    }

    /// Reads a value as Redis's `string2ld` does: `strtold` on the whole text (decimal or
    /// hexadecimal, `inf`, `infinity`), no leading space; NaN, a text of [`MAX_TEXT_LEN`]
    /// bytes or more, and a value that overflows or underflows to zero are refused.
    pub fn parse(text: &[u8]) -> Option<LongDouble> {
        if text.is_empty() || text.len() >= MAX_TEXT_LEN {
            return None;
        }
        let (negative, rest) = match text.split_first() {
            Some((b'-', rest)) => (true, rest),
            Some((b'+', rest)) => (false, rest),
            _ => (false, text),
        };
        if rest.eq_ignore_ascii_case(b"inf") || rest.eq_ignore_ascii_case(b"infinity") {
            return Some(LongDouble::Infinite { negative });
        }
        let value = match rest {
            [b'0', b'x' | b'X', hex @ ..] => parse_hex(negative, hex)?,
            _ => parse_decimal(negative, rest)?,
        };
        match value {
            LongDouble::Finite { mantissa: 0, .. } if !is_zero_text(rest) => None,
            LongDouble::Finite { .. } => Some(value),
            _ => None,
        }
    }

    /// The sum, rounded once to the nearest 80-bit value (ties to even).
    pub fn add(self, other: LongDouble) -> LongDouble {
        use LongDouble::{Finite, Infinite, NaN};
        match (self, other) {
            (NaN, _) | (_, NaN) => NaN,
            (Infinite { negative: a }, Infinite { negative: b }) if a != b => NaN,
            (Infinite { negative }, _) | (_, Infinite { negative }) => Infinite { negative },
            (
                Finite {
                    negative: na,
                    mantissa: ma,
                    exponent: ea,
                },
                Finite {
                    negative: nb,
                    mantissa: mb,
                    exponent: eb,
                },
            ) => {
                if ma == 0 && mb == 0 {
                    return Finite {
                        negative: na && nb,
                        mantissa: 0,
                        exponent: 0,
                    };
                }
                if ma == 0 {
                    return other;
                }
                if mb == 0 {
                    return self;
                }
                let low = ea.min(eb);
                let a = Big::from_u128(u128::from(ma)).shl((ea - low) as usize);
                let b = Big::from_u128(u128::from(mb)).shl((eb - low) as usize);
                if na == nb {
                    return round(na, &a.add(&b), low, false);
                }
                match a.cmp(&b) {
                    Ordering::Equal => LongDouble::ZERO,
                    Ordering::Greater => round(na, &a.sub(&b), low, false),
                    Ordering::Less => round(nb, &b.sub(&a), low, false),
                }
            }
        }
    }

    /// The text Redis stores and replies: `%.17Lf` with trailing zeros (and a trailing
    /// point) removed, `-0` written `0`, infinities `inf` and `-inf`.
    pub fn to_human(self) -> String {
        let (negative, mantissa, exponent) = match self {
            LongDouble::Finite {
                negative,
                mantissa,
                exponent,
            } => (negative, mantissa, exponent),
            LongDouble::Infinite { negative: false } => return "inf".to_string(),
            LongDouble::Infinite { negative: true } => return "-inf".to_string(),
            LongDouble::NaN => return "nan".to_string(),
        };
        let mut text = String::new();
        if negative {
            text.push('-');
        }
        if exponent >= 0 {
            // An integer: no fraction digits survive the trimming.
            text.push_str(
                &Big::from_u128(u128::from(mantissa))
                    .shl(exponent as usize)
                    .to_decimal(),
            );
        } else {
            // mantissa * 10^17 < 2^121: the scaled value fits in a u128.
            let scaled = u128::from(mantissa) * 10u128.pow(FRACTION_DIGITS);
            let shift = exponent.unsigned_abs();
            let rounded = if shift >= 122 {
                0
            } else {
                let kept = scaled >> shift;
                let rest = scaled & ((1u128 << shift) - 1);
                let half = 1u128 << (shift - 1);
                if rest > half || (rest == half && kept & 1 == 1) {
                    kept + 1
                } else {
                    kept
                }
            };
            let digits = format!("{rounded:0>18}");
            let (whole, fraction) = digits.split_at(digits.len() - FRACTION_DIGITS as usize);
            text.push_str(whole);
            let fraction = fraction.trim_end_matches('0');
            if !fraction.is_empty() {
                text.push('.');
                text.push_str(fraction);
            }
        }
        if text == "-0" {
            text = "0".to_string();
        }
        text
    }
}

/// Whether a numeric text spells zero (its digits are all zeros), so that a zero result is
/// a real zero and not an underflow.
fn is_zero_text(text: &[u8]) -> bool {
    let mantissa_end = text
        .iter()
        .position(|&c| matches!(c, b'e' | b'E' | b'p' | b'P'))
        .unwrap_or(text.len());
    let mantissa = text.get(..mantissa_end).unwrap_or_default();
    let mantissa = mantissa
        .strip_prefix(b"0x")
        .or_else(|| mantissa.strip_prefix(b"0X"))
        .unwrap_or(mantissa);
    mantissa.iter().all(|&c| c == b'0' || c == b'.')
}

/// `digits [. digits] [e [+-] digits]`, at least one digit.
fn parse_decimal(negative: bool, text: &[u8]) -> Option<LongDouble> {
    let (mantissa, exponent) = split_exponent(text, b'e')?;
    let (digits, fraction_len) = mantissa_digits(mantissa, |c| c.is_ascii_digit())?;
    let significant: Vec<u8> = digits
        .iter()
        .skip_while(|&&c| c == b'0')
        .map(|&c| c - b'0')
        .collect();
    if significant.is_empty() {
        return Some(LongDouble::Finite {
            negative,
            mantissa: 0,
            exponent: 0,
        });
    }
    let power = exponent.saturating_sub(fraction_len as i64);
    let magnitude = power.saturating_add(significant.len() as i64 - 1);
    if magnitude > MAX_DECIMAL_MAGNITUDE {
        return Some(LongDouble::Infinite { negative });
    }
    if magnitude < MIN_DECIMAL_MAGNITUDE {
        return Some(LongDouble::Finite {
            negative,
            mantissa: 0,
            exponent: 0,
        });
    }
    let mut n = Big::default();
    for d in significant {
        n.mul_add(10, u32::from(d));
    }
    if power >= 0 {
        let scaled = n.mul(&Big::pow10(power as u32));
        return Some(round(negative, &scaled, 0, false));
    }
    // n / 10^q scaled by 2^shift so that the quotient has 66 to 68 bits (the numerator
    // shifted up, or the divisor when n is the much larger one); the rest is a sticky bit.
    let divisor = Big::pow10(power.unsigned_abs() as u32);
    let shift = 66 + divisor.bit_len() as i64 - n.bit_len() as i64 + 1;
    let (quotient, remainder_nonzero) = if shift >= 0 {
        n.shl(shift as usize).div_small_quotient(&divisor)
    } else {
        n.div_small_quotient(&divisor.shl(shift.unsigned_abs() as usize))
    };
    Some(round(
        negative,
        &Big::from_u128(quotient),
        -shift,
        remainder_nonzero,
    ))
}

/// `hexdigits [. hexdigits] [p [+-] digits]` (after `0x`), at least one digit.
fn parse_hex(negative: bool, text: &[u8]) -> Option<LongDouble> {
    let (mantissa, exponent) = split_exponent(text, b'p')?;
    let (digits, fraction_len) = mantissa_digits(mantissa, |c| c.is_ascii_hexdigit())?;
    // At most MAX_TEXT_LEN digits (`parse` refuses longer texts); leading zeros leave `n`
    // empty.
    let mut n = Big::default();
    for c in digits {
        n.mul_add(16, (c as char).to_digit(16).unwrap_or(0));
    }
    if n.is_zero() {
        return Some(LongDouble::Finite {
            negative,
            mantissa: 0,
            exponent: 0,
        });
    }
    let shift = exponent.saturating_sub(4 * fraction_len as i64);
    let top = shift.saturating_add(n.bit_len() as i64);
    if top > MAX_EXP + SIGNIFICAND_BITS + 1 {
        return Some(LongDouble::Infinite { negative });
    }
    if top < MIN_EXP - 2 {
        return Some(LongDouble::Finite {
            negative,
            mantissa: 0,
            exponent: 0,
        });
    }
    Some(round(negative, &n, shift, false))
}

/// Splits `mantissa [marker [+-] digits]`; the exponent saturates (it is clamped later).
fn split_exponent(text: &[u8], marker: u8) -> Option<(&[u8], i64)> {
    let Some(at) = text.iter().position(|c| c.eq_ignore_ascii_case(&marker)) else {
        return Some((text, 0));
    };
    let mantissa = text.get(..at)?;
    let exponent = text.get(at + 1..)?;
    let (sign, digits) = match exponent.split_first() {
        Some((b'-', rest)) => (-1i64, rest),
        Some((b'+', rest)) => (1, rest),
        _ => (1, exponent),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = digits.iter().fold(0i64, |acc, &d| {
        acc.saturating_mul(10).saturating_add(i64::from(d - b'0'))
    });
    Some((mantissa, sign * value))
}

/// The digits of `int [. frac]` (the point removed) and how many came after the point; at
/// least one digit, nothing else.
fn mantissa_digits(text: &[u8], is_digit: impl Fn(u8) -> bool) -> Option<(Vec<u8>, usize)> {
    let (whole, fraction) = match text.iter().position(|&c| c == b'.') {
        Some(at) => (text.get(..at)?, text.get(at + 1..)?),
        None => (text, &[][..]),
    };
    if whole.len() + fraction.len() == 0 || !whole.iter().chain(fraction).all(|&c| is_digit(c)) {
        return None;
    }
    let mut digits = whole.to_vec();
    digits.extend_from_slice(fraction);
    Some((digits, fraction.len()))
}

/// Rounds `n * 2^shift` (plus, when `sticky`, a nonzero amount below `n`'s last bit) to the
/// nearest 80-bit value, ties to even; beyond the largest finite value, infinity.
fn round(negative: bool, n: &Big, shift: i64, sticky: bool) -> LongDouble {
    if n.is_zero() {
        return LongDouble::Finite {
            negative,
            mantissa: 0,
            exponent: 0,
        };
    }
    let len = n.bit_len() as i64;
    let mut exponent = (shift + len - SIGNIFICAND_BITS).max(MIN_EXP);
    let dropped = exponent - shift;
    let mantissa = if dropped <= 0 {
        // Exact: every bit fits (callers pass `sticky` only with bits to drop).
        n.bits(0, len as usize) << dropped.unsigned_abs()
    } else {
        let dropped = dropped as usize;
        let kept = n.bits(dropped, SIGNIFICAND_BITS as usize);
        let half = n.bit(dropped - 1);
        let below = sticky || n.any_below(dropped - 1);
        if half && (below || kept & 1 == 1) {
            match kept.checked_add(1) {
                Some(up) => up,
                None => {
                    exponent += 1;
                    1u64 << 63
                }
            }
        } else {
            kept
        }
    };
    if exponent > MAX_EXP {
        return LongDouble::Infinite { negative };
    }
    LongDouble::Finite {
        negative,
        mantissa,
        exponent,
    }
}

/// A non-negative integer of any size: 32-bit limbs, least significant first, no zero limb
/// at the top. Just what exact rounding needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Big(Vec<u32>);

impl Big {
    fn from_u128(mut v: u128) -> Big {
        let mut limbs = Vec::new();
        while v != 0 {
            limbs.push(v as u32);
            v >>= 32;
        }
        Big(limbs)
    }

    fn trim(mut self) -> Big {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
        self
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn bit_len(&self) -> usize {
        match self.0.last() {
            Some(top) => self.0.len() * 32 - top.leading_zeros() as usize,
            None => 0,
        }
    }

    fn bit(&self, i: usize) -> bool {
        self.0.get(i / 32).is_some_and(|l| (l >> (i % 32)) & 1 == 1)
    }

    /// Whether any bit below `i` is set.
    fn any_below(&self, i: usize) -> bool {
        let whole = i / 32;
        self.0.iter().take(whole).any(|&l| l != 0)
            || self
                .0
                .get(whole)
                .is_some_and(|l| l & ((1u32 << (i % 32)) - 1) != 0)
    }

    /// `count` (at most 64) bits from bit `from` up.
    fn bits(&self, from: usize, count: usize) -> u64 {
        (0..count.min(64)).fold(0u64, |acc, i| acc | (u64::from(self.bit(from + i)) << i))
    }

    /// `self * m + a`.
    fn mul_add(&mut self, m: u32, a: u32) {
        let mut carry = u64::from(a);
        for limb in &mut self.0 {
            let v = u64::from(*limb) * u64::from(m) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
    }

    fn pow10(n: u32) -> Big {
        let mut p = Big::from_u128(1);
        for _ in 0..n / 9 {
            p.mul_add(1_000_000_000, 0);
        }
        for _ in 0..n % 9 {
            p.mul_add(10, 0);
        }
        p
    }

    fn mul(&self, other: &Big) -> Big {
        let mut out = vec![0u32; self.0.len() + other.0.len()];
        for (i, &a) in self.0.iter().enumerate() {
            let mut carry = 0u64;
            for (j, &b) in other.0.iter().enumerate() {
                if let Some(slot) = out.get_mut(i + j) {
                    let v = u64::from(*slot) + u64::from(a) * u64::from(b) + carry;
                    *slot = v as u32;
                    carry = v >> 32;
                }
            }
            let mut k = i + other.0.len();
            while carry != 0 {
                if let Some(slot) = out.get_mut(k) {
                    let v = u64::from(*slot) + carry;
                    *slot = v as u32;
                    carry = v >> 32;
                    k += 1;
                } else {
                    break;
                }
            }
        }
        Big(out).trim()
    }

    fn shl(&self, bits: usize) -> Big {
        if self.is_zero() {
            return Big::default();
        }
        let (limbs, rest) = (bits / 32, bits % 32);
        let mut out = vec![0u32; limbs];
        let mut carry = 0u32;
        for &l in &self.0 {
            if rest == 0 {
                out.push(l);
            } else {
                out.push((l << rest) | carry);
                carry = l >> (32 - rest);
            }
        }
        if carry != 0 {
            out.push(carry);
        }
        Big(out).trim()
    }

    fn add(&self, other: &Big) -> Big {
        let mut out = Vec::with_capacity(self.0.len().max(other.0.len()) + 1);
        let mut carry = 0u64;
        for i in 0..self.0.len().max(other.0.len()) {
            let v = u64::from(self.0.get(i).copied().unwrap_or(0))
                + u64::from(other.0.get(i).copied().unwrap_or(0))
                + carry;
            out.push(v as u32);
            carry = v >> 32;
        }
        if carry != 0 {
            out.push(carry as u32);
        }
        Big(out).trim()
    }

    /// `self - other`, for `self >= other`.
    fn sub(&self, other: &Big) -> Big {
        let mut out = Vec::with_capacity(self.0.len());
        let mut borrow = 0i64;
        for (i, &a) in self.0.iter().enumerate() {
            let mut v = i64::from(a) - i64::from(other.0.get(i).copied().unwrap_or(0)) - borrow;
            borrow = 0;
            if v < 0 {
                v += 1 << 32;
                borrow = 1;
            }
            out.push(v as u32);
        }
        Big(out).trim()
    }

    fn cmp(&self, other: &Big) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }

    /// `self / divisor` when the quotient has at most 127 bits, and whether a remainder was
    /// left: restoring division, one quotient bit per step.
    fn div_small_quotient(&self, divisor: &Big) -> (u128, bool) {
        let mut remainder = self.clone();
        let mut quotient = 0u128;
        let top = (self.bit_len() + 1)
            .saturating_sub(divisor.bit_len())
            .min(127);
        for i in (0..=top).rev() {
            let shifted = divisor.shl(i);
            if remainder.cmp(&shifted) != Ordering::Less {
                remainder = remainder.sub(&shifted);
                quotient |= 1u128 << i;
            }
        }
        (quotient, !remainder.is_zero())
    }

    /// Decimal digits ("0" for zero).
    fn to_decimal(&self) -> String {
        let mut limbs = self.0.clone();
        let mut chunks = Vec::new();
        while !limbs.is_empty() {
            let mut rem = 0u64;
            for limb in limbs.iter_mut().rev() {
                let v = (rem << 32) | u64::from(*limb);
                *limb = (v / 1_000_000_000) as u32;
                rem = v % 1_000_000_000;
            }
            while limbs.last() == Some(&0) {
                limbs.pop();
            }
            chunks.push(rem as u32);
        }
        let mut text = chunks.last().map_or("0".to_string(), u32::to_string);
        for chunk in chunks.iter().rev().skip(1) {
            text.push_str(&format!("{chunk:09}"));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incr(a: &str, b: &str) -> String {
        let (Some(a), Some(b)) = (
            LongDouble::parse(a.as_bytes()),
            LongDouble::parse(b.as_bytes()),
        ) else {
            return "invalid".to_string();
        };
        a.add(b).to_human()
    }

    #[test]
    fn sums_are_formatted_as_redis_formats_them() {
        // Values checked against redis-server 7.0.15's INCRBYFLOAT.
        assert_eq!(incr("10.5", "0.1"), "10.6");
        assert_eq!(incr("0", "3.0e3"), "3000");
        assert_eq!(incr("5.0e3", "2.0e2"), "5200");
        assert_eq!(incr("0", "1.5"), "1.5");
        assert_eq!(incr("0", "-1.1"), "-1.1");
        assert_eq!(incr("1", "-1"), "0");
        assert_eq!(incr("0", "0.0000000000000000001"), "0");
        assert_eq!(incr("0", "-0.0000000000000000001"), "0");
        assert_eq!(incr("0", "0x10"), "16");
        // Leading zeros of a hexadecimal text count for nothing, however many.
        let zeros = format!("0x{}1p4", "0".repeat(MAX_TEXT_LEN - 10));
        assert_eq!(incr("0", &zeros), "16");
        assert_eq!(incr("0", "0x0000.8"), "0.5");
        assert_eq!(incr("0", "17179869184"), "17179869184");
        // A long integer part with a fraction (found by the differential fuzzer).
        assert_eq!(
            incr("0", "3094133369342321999973744192978159780408292464799523788319072.480342464154193093467417672678069903845825699263999043677827"),
            "3094133369342322000038019550733699612102215022957253489590272"
        );
    }

    #[test]
    fn texts_are_refused_as_string2ld_refuses_them() {
        for bad in [
            "", " 1", "1 ", "nan", "1e", "e5", ".", "1.2.3", "1e99999", "1e-99999", "0x",
        ] {
            assert_eq!(LongDouble::parse(bad.as_bytes()), None, "{bad:?}");
        }
        assert!(LongDouble::parse(b"1e4000").is_some_and(LongDouble::is_finite));
        assert_eq!(
            LongDouble::parse(b"-inf"),
            Some(LongDouble::Infinite { negative: true })
        );
        assert!(LongDouble::parse(b"0e99999").is_some());
        assert_eq!(LongDouble::parse(&vec![b'1'; MAX_TEXT_LEN]), None);
    }

    #[test]
    fn big_integers_print_in_decimal() {
        assert_eq!(Big::from_u128(0).to_decimal(), "0");
        assert_eq!(
            Big::from_u128(1).shl(100).to_decimal(),
            "1267650600228229401496703205376"
        );
        assert_eq!(Big::pow10(20).to_decimal(), "100000000000000000000");
    }
}
