//! Score and lexical ranges, and the number reading Redis does for them.
//!
//! Redis reads a score with C's `strtod` in two ways: ZADD/ZINCRBY's `string2d` (no leading
//! space, the whole text, no NaN, no overflow to infinity or underflow to zero), and range
//! bounds' `zslParseRange` (`(` for exclusive, then `strtod` over the whole rest: leading space
//! is fine, an empty text is 0, an overflow is infinity; only NaN is refused).

use bytes::Bytes;

/// C's `isspace`.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// What `strtod` makes of the whole of `text` (after optional leading space): the value and
/// whether it was out of range (ERANGE: overflowed to infinity or underflowed to zero). `None`
/// when some of `text` is not part of the number. An empty text (or only space) is 0, as
/// `strtod` converts nothing and the caller sees the end of the string. Hexadecimal floats
/// (`0x1p3`) are not read (Redis would accept them).
pub fn strtod_whole(text: &[u8]) -> Option<(f64, bool)> {
    let start = text.iter().position(|b| !is_c_space(*b))?;
    let text = std::str::from_utf8(text.get(start..)?).ok()?;
    let (sign, body) = match text.as_bytes().first() {
        Some(b'-') => (-1.0, &text[1..]),
        Some(b'+') => (1.0, &text[1..]),
        _ => (1.0, text),
    };
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return Some((sign * f64::INFINITY, false));
    }
    if lower == "nan" {
        return Some((f64::NAN, false));
    }
    if let Some(hex) = lower.strip_prefix("0x") {
        return hex_float(hex).map(|v| (sign * v, v.is_infinite()));
    }
    // Rust's grammar is C's decimal one except for the words handled above.
    if !body
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        || !body
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.')
    {
        return None;
    }
    let value: f64 = body.parse().ok()?;
    let mantissa = body.split(['e', 'E']).next().unwrap_or("");
    let nonzero_digits = mantissa.bytes().any(|b| matches!(b, b'1'..=b'9'));
    let erange = value.is_infinite() || (value == 0.0 && nonzero_digits);
    Some((sign * value, erange))
}

/// The value of a C hexadecimal float after its `0x`: hex digits with an optional `.`, then
/// an optional binary exponent `p[+-]N`.
fn hex_float(text: &str) -> Option<f64> {
    let (digits, exponent) = match text.split_once('p') {
        Some((d, e)) => (d, e.parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let mut value = 0f64;
    for c in whole.chars() {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in fraction.chars() {
        value += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    Some(value * 2f64.powi(exponent))
}

/// A score as ZADD, ZINCRBY and ZADD's INCR read it (Redis's `string2d`).
pub fn parse_score(text: &[u8]) -> Option<f64> {
    if text.first().is_none_or(|b| is_c_space(*b)) {
        return None;
    }
    let (value, erange) = strtod_whole(text)?;
    if value.is_nan() || (erange && (value.is_infinite() || value == 0.0)) {
        return None;
    }
    Some(value)
}

/// One end of a score range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreBound {
    /// The score.
    pub value: f64,
    /// Whether the bound itself is excluded (`(`).
    pub exclusive: bool,
}

impl ScoreBound {
    /// A bound as `zslParseRange` reads it; `None` is `ERR min or max is not a float`. Redis
    /// reads the bound as a C string, so a NUL byte ends it (`1\0x` is 1).
    pub fn parse(text: &[u8]) -> Option<ScoreBound> {
        let text = text.split(|&b| b == 0).next().unwrap_or_default();
        let (exclusive, number) = match text.split_first() {
            Some((b'(', rest)) => (true, rest),
            _ => (false, text),
        };
        // An empty bound is 0 (strtod converts nothing and stops at the end); one of only
        // C space is refused (strtod leaves its end pointer at the first space).
        let value = if number.is_empty() {
            0.0
        } else {
            strtod_whole(number)?.0
        };
        (!value.is_nan()).then_some(ScoreBound { value, exclusive })
    }
}

/// Scores from `min` to `max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    /// The low end.
    pub min: ScoreBound,
    /// The high end.
    pub max: ScoreBound,
}

impl ScoreRange {
    /// Whether `score` is under the range.
    pub fn below(&self, score: f64) -> bool {
        score < self.min.value || (self.min.exclusive && score == self.min.value)
    }

    /// Whether `score` is over the range.
    pub fn above(&self, score: f64) -> bool {
        score > self.max.value || (self.max.exclusive && score == self.max.value)
    }
}

/// One end of a lexical range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: before everything.
    Min,
    /// `+`: after everything.
    Max,
    /// `[member`.
    Inclusive(Bytes),
    /// `(member`.
    Exclusive(Bytes),
}

impl LexBound {
    /// A bound as `zslParseLexRangeItem` reads it; `None` is
    /// `ERR min or max not valid string range item`.
    pub fn parse(text: &Bytes) -> Option<LexBound> {
        match text.first()? {
            b'+' if text.len() == 1 => Some(LexBound::Max),
            b'-' if text.len() == 1 => Some(LexBound::Min),
            b'[' => Some(LexBound::Inclusive(text.slice(1..))),
            b'(' => Some(LexBound::Exclusive(text.slice(1..))),
            _ => None,
        }
    }
}

impl LexBound {
    /// The bound as an ordered key (`-` before every member, `+` after) and whether it is
    /// exclusive.
    fn key(&self) -> (LexKey<'_>, bool) {
        match self {
            LexBound::Min => (LexKey::Min, true),
            LexBound::Max => (LexKey::Max, true),
            LexBound::Inclusive(m) => (LexKey::Member(m), false),
            LexBound::Exclusive(m) => (LexKey::Member(m), true),
        }
    }
}

/// A lexical bound's position: the derived order puts `Min` first and `Max` last.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum LexKey<'a> {
    Min,
    Member(&'a [u8]),
    Max,
}

/// Members from `min` to `max`, by bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexRange {
    /// The low end.
    pub min: LexBound,
    /// The high end.
    pub max: LexBound,
}

impl LexRange {
    /// Whether no member can be inside: min after max, or equal with either end exclusive
    /// (`-` and `+` count as exclusive, as Redis parses them).
    pub fn is_empty(&self) -> bool {
        use std::cmp::Ordering::*;
        let (min, min_ex) = self.min.key();
        let (max, max_ex) = self.max.key();
        match min.cmp(&max) {
            Greater => true,
            Equal => min_ex || max_ex,
            Less => false,
        }
    }

    /// Whether `member` sorts under the range.
    pub fn below(&self, member: &[u8]) -> bool {
        match &self.min {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Inclusive(m) => member < m.as_ref(),
            LexBound::Exclusive(m) => member <= m.as_ref(),
        }
    }

    /// Whether `member` sorts over the range.
    pub fn above(&self, member: &[u8]) -> bool {
        match &self.max {
            LexBound::Max => false,
            LexBound::Min => true,
            LexBound::Inclusive(m) => member > m.as_ref(),
            LexBound::Exclusive(m) => member >= m.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_read_like_string2d() {
        assert_eq!(parse_score(b"1.5"), Some(1.5));
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"+Infinity"), Some(f64::INFINITY));
        assert_eq!(parse_score(b".5"), Some(0.5));
        assert_eq!(parse_score(b"1e-320"), Some(1e-320));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"-0x1.8p1"), Some(-3.0));
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b"nan",
            b"1e400",
            b"1e-400",
            b"abc",
            b"1e",
            b"(1",
        ] {
            assert_eq!(parse_score(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn bounds_read_like_zsl_parse_range() {
        assert_eq!(
            ScoreBound::parse(b"(1"),
            Some(ScoreBound {
                value: 1.0,
                exclusive: true
            })
        );
        assert_eq!(ScoreBound::parse(b"").map(|b| b.value), Some(0.0));
        assert_eq!(ScoreBound::parse(b" 2").map(|b| b.value), Some(2.0));
        assert_eq!(ScoreBound::parse(b"(").map(|b| b.value), Some(0.0));
        for space in [&b" "[..], b"( ", b"\x0c", b"\n", b"2 "] {
            assert_eq!(ScoreBound::parse(space), None, "{space:?}");
        }
        assert_eq!(
            ScoreBound::parse(b"1e400").map(|b| b.value),
            Some(f64::INFINITY)
        );
        assert_eq!(ScoreBound::parse(b"nan"), None);
        assert_eq!(ScoreBound::parse(b"x"), None);
        assert_eq!(ScoreBound::parse(b"((1"), None);
        assert_eq!(ScoreBound::parse(b"1\0x").map(|b| b.value), Some(1.0));
        assert_eq!(
            ScoreBound::parse(b"(1\0"),
            Some(ScoreBound {
                value: 1.0,
                exclusive: true
            })
        );
    }

    #[test]
    fn lex_bounds_need_a_marker() {
        assert_eq!(
            LexBound::parse(&Bytes::from_static(b"-")),
            Some(LexBound::Min)
        );
        assert_eq!(LexBound::parse(&Bytes::from_static(b"+x")), None);
        assert_eq!(LexBound::parse(&Bytes::from_static(b"a")), None);
        assert_eq!(LexBound::parse(&Bytes::new()), None);
        assert_eq!(
            LexBound::parse(&Bytes::from_static(b"[")),
            Some(LexBound::Inclusive(Bytes::new()))
        );
    }
}
