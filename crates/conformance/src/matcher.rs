//! Does a reply match an expectation?

use super::scenario::Matcher;
use respect_resp::{escape_bytes, Frame};
use respect_server::glob_match;

/// Whether `frame` (read as `raw`) satisfies `matcher`.
pub fn matches(matcher: &Matcher, frame: &Frame, raw: &[u8]) -> bool {
    match matcher {
        Matcher::Exact { bytes, .. } => raw == bytes.as_slice(),
        Matcher::Unordered {
            frame: expected, ..
        } => same_unordered(expected, frame),
        Matcher::Error(pattern) => {
            frame.is_error()
                && frame
                    .as_bytes()
                    .is_some_and(|t| glob_match(pattern.as_bytes(), t))
        }
        Matcher::Simple(pattern) => {
            matches!(frame, Frame::Simple(text) if glob_match(pattern.as_bytes(), text))
        }
        Matcher::Type(name) => type_matches(name, frame),
        Matcher::Any => true,
    }
}

/// Type names a scenario may use with `? type`.
fn type_matches(name: &str, frame: &Frame) -> bool {
    match name {
        "null" => frame.is_null(),
        "error" => frame.is_error(),
        "string" => matches!(
            frame,
            Frame::Simple(_) | Frame::Bulk(_) | Frame::Verbatim { .. } | Frame::Text(_)
        ),
        "bulk" => matches!(frame, Frame::Bulk(_)),
        "simple" => matches!(frame, Frame::Simple(_)),
        other => frame.type_name() == other || frame.type_name().replace(' ', "-") == other,
    }
}

/// Equal, except that the items of arrays, sets and maps may come in any order, at any depth.
pub fn same_unordered(a: &Frame, b: &Frame) -> bool {
    match (a, b) {
        (Frame::Array(x), Frame::Array(y))
        | (Frame::Set(x), Frame::Set(y))
        | (Frame::Push(x), Frame::Push(y)) => same_multiset(x, y, same_unordered),
        (Frame::Map(x), Frame::Map(y)) => same_multiset(x, y, |(k1, v1), (k2, v2)| {
            same_unordered(k1, k2) && same_unordered(v1, v2)
        }),
        _ => a == b,
    }
}

fn same_multiset<T>(x: &[T], y: &[T], eq: impl Fn(&T, &T) -> bool) -> bool {
    if x.len() != y.len() {
        return false;
    }
    let mut used = vec![false; y.len()];
    x.iter().all(|a| {
        let found = y.iter().enumerate().position(|(i, b)| !used[i] && eq(a, b));
        if let Some(i) = found {
            used[i] = true;
        }
        found.is_some()
    })
}

/// What a matcher expects, for a report.
pub fn describe(matcher: &Matcher) -> String {
    match matcher {
        Matcher::Exact { bytes, .. } => format!("\"{}\"", clip(bytes, 0)),
        Matcher::Unordered { bytes, .. } => format!("\"{}\" (in any order)", clip(bytes, 0)),
        Matcher::Error(p) => format!("an error matching '{p}'"),
        Matcher::Simple(p) => format!("a simple string matching '{p}'"),
        Matcher::Type(t) => format!("a reply of type {t}"),
        Matcher::Any => "any reply".into(),
    }
}

/// Most escaped bytes shown of a value in a report.
pub const MAX_SHOWN: usize = 160;

/// `bytes` escaped, clipped to [`MAX_SHOWN`] around `at`.
pub fn clip(bytes: &[u8], at: usize) -> String {
    let start = at.saturating_sub(MAX_SHOWN / 2).min(bytes.len());
    let end = (start + MAX_SHOWN).min(bytes.len());
    let mut text = escape_bytes(bytes.get(start..end).unwrap_or_default());
    if start > 0 {
        text = format!("...{text}");
    }
    if end < bytes.len() {
        text.push_str(&format!("... ({} bytes in all)", bytes.len()));
    }
    text
}

/// The first offset where two byte strings differ.
pub fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or_else(|| a.len().min(b.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unordered_ignores_order_at_every_depth() {
        let a = Frame::Set(vec![Frame::bulk("a"), Frame::bulk("b")]);
        let b = Frame::Set(vec![Frame::bulk("b"), Frame::bulk("a")]);
        assert!(same_unordered(&a, &b));
        assert!(!same_unordered(
            &a,
            &Frame::Set(vec![Frame::bulk("a"), Frame::bulk("a")])
        ));
        let m1 = Frame::Map(vec![
            (Frame::bulk("x"), Frame::Integer(1)),
            (Frame::bulk("y"), Frame::Integer(2)),
        ]);
        let m2 = Frame::Map(vec![
            (Frame::bulk("y"), Frame::Integer(2)),
            (Frame::bulk("x"), Frame::Integer(1)),
        ]);
        assert!(same_unordered(&m1, &m2));
    }

    #[test]
    fn error_and_type_matchers() {
        let e = Frame::error("ERR unknown command 'x'");
        assert!(matches(
            &Matcher::Error("ERR unknown command*".into()),
            &e,
            b""
        ));
        assert!(!matches(&Matcher::Error("WRONGTYPE*".into()), &e, b""));
        assert!(matches(
            &Matcher::Type("integer".into()),
            &Frame::Integer(1),
            b""
        ));
        assert!(matches(
            &Matcher::Type("null".into()),
            &Frame::NullBulk,
            b""
        ));
        assert!(matches(
            &Matcher::Type("map".into()),
            &Frame::Map(vec![]),
            b""
        ));
    }

    #[test]
    fn differences_are_located_and_clipped() {
        assert_eq!(first_difference(b"+OK\r\n", b"+OX\r\n"), 2);
        assert_eq!(first_difference(b"abc", b"abcd"), 3);
        assert!(clip(&vec![b'x'; 10_000], 5_000).contains("10000 bytes in all"));
    }
}
