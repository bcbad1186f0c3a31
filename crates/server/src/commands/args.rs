//! Typed argument parsing: numbers as Redis reads them, and option keywords.
//!
//! Commands with options (SET, the EXPIRE family, SCAN) parse all their arguments into a
//! typed options struct with these first, and only then touch the keyspace, so a syntax error
//! never leaves half a command done.

use bytes::Bytes;
use respect_resp::Frame;

use super::reply::{not_integer, syntax_error};

/// Parses an integer as Redis's `string2ll` does: optional `-`, digits, no `+`, no spaces, no
/// leading zeros, within i64.
pub fn parse_i64(b: &[u8]) -> Option<i64> {
    let (negative, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if digits.len() > 1 && digits.first() == Some(&b'0') {
        return None;
    }
    if negative && digits == b"0" {
        return None;
    }
    let text = std::str::from_utf8(b).ok()?;
    text.parse().ok()
}

/// Argument `i` (a cheap reference-counted clone), empty when there is none: the arity check
/// has already refused a command too short for its handler.
pub fn arg(argv: &[Bytes], i: usize) -> Bytes {
    argv.get(i).cloned().unwrap_or_default()
}

/// [`parse_i64`], or `-ERR value is not an integer or out of range`.
pub fn integer(b: &[u8]) -> Result<i64, Frame> {
    parse_i64(b).ok_or_else(not_integer)
}

/// Parses a float as Redis's `string2ld` accepts it: a complete decimal or exponent number
/// (also `inf`, `-inf`), no spaces, not NaN.
pub fn parse_f64(b: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(b).ok()?;
    if text.is_empty()
        || text.starts_with(char::is_whitespace)
        || text.ends_with(char::is_whitespace)
    {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let value: f64 = match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ if lower.contains("nan") || lower.contains("inf") => return None,
        _ => lower.parse().ok()?,
    };
    Some(value)
}

/// Parses a SCAN cursor as Redis's `parseScanCursorOrReply` does (`strtoull`, whole string).
pub fn parse_cursor(b: &[u8]) -> Option<u64> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// Whether `arg` is the option keyword `keyword` (given in capitals), any case.
pub fn is_keyword(arg: &[u8], keyword: &str) -> bool {
    arg.eq_ignore_ascii_case(keyword.as_bytes())
}

/// Ranks `start..=end` (negative from the end) as ascending positions `[start, end)` clamped
/// to a collection of `len` elements, or `None` when empty: Redis's rank rules (LRANGE,
/// LTRIM, ZRANGE, ZREMRANGEBYRANK).
pub fn rank_span(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let start = if start < 0 {
        start.saturating_add(len)
    } else {
        start
    }
    .max(0);
    let end = if end < 0 {
        end.saturating_add(len)
    } else {
        end
    };
    if start > end || start >= len {
        return None;
    }
    let end = end.min(len - 1);
    Some((usize::try_from(start).ok()?, usize::try_from(end).ok()? + 1))
}

/// Option arguments read left to right, each keyword optionally followed by its value.
pub struct Options<'a> {
    args: &'a [Bytes],
}

impl<'a> Options<'a> {
    /// The options in `args` (the arguments after the fixed ones).
    pub fn new(args: &'a [Bytes]) -> Options<'a> {
        Options { args }
    }

    /// The next keyword, if any.
    pub fn next_keyword(&mut self) -> Option<&'a Bytes> {
        let (first, rest) = self.args.split_first()?;
        self.args = rest;
        Some(first)
    }

    /// The value after a keyword that takes one, or `-ERR syntax error` when none is left.
    pub fn value(&mut self) -> Result<&'a Bytes, Frame> {
        self.next_keyword().ok_or_else(syntax_error)
    }
}

/// C's `atoi`, as Redis reads some DEBUG flags: leading spaces, an optional sign, then the
/// digits there are (none: 0); what follows is ignored, an overflow saturates.
pub fn atoi(arg: &[u8]) -> i64 {
    let text = arg
        .iter()
        .position(|b| !b" \t\n\x0b\x0c\r".contains(b))
        .and_then(|start| arg.get(start..))
        .unwrap_or_default();
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    let mut n: i64 = 0;
    for d in digits.iter().take_while(|b| b.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(i64::from(d - b'0'));
    }
    if negative {
        -n
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_follow_redis_rules() {
        assert_eq!(rank_span(0, -1, 3), Some((0, 3)));
        assert_eq!(rank_span(-100, 100, 3), Some((0, 3)));
        assert_eq!(rank_span(2, 1, 3), None);
        assert_eq!(rank_span(3, 5, 3), None);
        assert_eq!(rank_span(i64::MIN, i64::MAX, 3), Some((0, 3)));
        assert_eq!(rank_span(0, 0, 0), None);
    }

    #[test]
    fn integers_parse_like_redis() {
        assert_eq!(parse_i64(b"42"), Some(42));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"+1",
            b" 1",
            b"01",
            b"-0",
            b"1.5",
            b"9223372036854775808",
            b"abc",
        ] {
            assert_eq!(parse_i64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn options_hand_out_keywords_then_values() {
        let args = [Bytes::from_static(b"ex"), Bytes::from_static(b"10")];
        let mut options = Options::new(&args);
        let keyword = options.next_keyword().cloned();
        assert!(keyword.is_some_and(|k| is_keyword(&k, "EX")));
        assert_eq!(options.value().cloned(), Ok(Bytes::from_static(b"10")));
        assert_eq!(options.value(), Err(syntax_error()));
    }

    #[test]
    fn atoi_reads_like_c() {
        assert_eq!(atoi(b"1"), 1);
        assert_eq!(atoi(b"  -12abc"), -12);
        assert_eq!(atoi(b"0.5"), 0);
        assert_eq!(atoi(b"x1"), 0);
        assert_eq!(atoi(b""), 0);
        assert_eq!(atoi(b"99999999999999999999999"), i64::MAX);
    }
}
