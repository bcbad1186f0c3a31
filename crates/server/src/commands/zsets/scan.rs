//! ZSCAN: a listpack-sized set is returned whole with cursor 0 (as Redis does, its scores
//! spelled as the listpack stores them); a larger one is walked in member-hash order, the
//! cursor being the next hash to visit, so a member present for the whole scan is returned
//! at least once whatever is added or removed meanwhile.

use bytes::Bytes;
use respect_resp::{format_g17, Frame};

use super::super::reply::syntax_error;
use super::arg;
use crate::commands::args::{integer, is_keyword, parse_cursor};
use crate::commands::collection::read;
use crate::commands::context::Ctx;
use crate::glob::glob_match;
use crate::zset::ZSet;

/// ZSCAN's default COUNT.
const DEFAULT_COUNT: usize = 10;

/// `ZSCAN key cursor [MATCH pattern] [COUNT count]`.
pub fn zscan(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let Some(cursor) = cursor(&arg(argv, 2)) else {
        return Frame::error("ERR invalid cursor");
    };
    let options = argv.get(3..).unwrap_or_default().to_vec();
    let result = read::<ZSet, _>(ctx, &arg(argv, 1), |set| {
        let Some(set) = set else {
            return Ok((0, Vec::new()));
        };
        let (pattern, count) = parse_options(&options)?;
        Ok(scan(set, cursor, pattern.as_ref(), count))
    });
    match result {
        Ok(Ok((next, items))) => Frame::Array(vec![
            Frame::Bulk(Bytes::from(next.to_string())),
            Frame::Array(items),
        ]),
        Ok(Err(error)) | Err(error) => error,
    }
}

/// A cursor as Redis's `parseScanCursorOrReply` reads it: `strtoul` on the C string (so up
/// to the first NUL), which must be used whole; a leading space is refused, an empty text is
/// 0, a sign is allowed and `-N` wraps around, a value past `u64` is refused.
pub(crate) fn cursor(text: &[u8]) -> Option<u64> {
    let text = text.split(|&b| b == 0).next().unwrap_or_default();
    if text
        .first()
        .is_some_and(|c| matches!(c, b' ' | b'\t'..=b'\r'))
    {
        return None;
    }
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() {
        // No digits: strtoul stops at the start, which is the end only for "".
        return text.is_empty().then_some(0);
    }
    let value = parse_cursor(digits).filter(|_| digits.iter().all(u8::is_ascii_digit))?;
    Some(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

/// `[MATCH pattern] [COUNT count]`, parsed as Redis's `scanGenericCommand` does (after the
/// key was found).
pub(crate) fn parse_options(options: &[Bytes]) -> Result<(Option<Bytes>, usize), Frame> {
    let (mut pattern, mut count) = (None, DEFAULT_COUNT);
    let mut pairs = options.chunks(2);
    for pair in pairs.by_ref() {
        match pair {
            [option, value] if is_keyword(option, "COUNT") => {
                let n = integer(value)?;
                if n < 1 {
                    return Err(syntax_error());
                }
                count = usize::try_from(n).unwrap_or(usize::MAX);
            }
            [option, value] if is_keyword(option, "MATCH") => {
                // `*` matches everything; Redis skips the matching then.
                pattern = (value.as_ref() != b"*").then(|| value.clone());
            }
            _ => return Err(syntax_error()),
        }
    }
    Ok((pattern, count))
}

/// A member's place in the hash order (never 0, which ends a scan).
pub(crate) fn position(member: &[u8]) -> u64 {
    // FNV-1a: fixed across calls, so the order is the same for every call of one scan.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in member {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash.max(1)
}

fn scan(set: &ZSet, cursor: u64, pattern: Option<&Bytes>, count: usize) -> (u64, Vec<Frame>) {
    let keep = |m: &Bytes| pattern.is_none_or(|p| glob_match(p, m));
    let mut out = Vec::new();
    if set.is_listpack() {
        for (member, score) in set.iter_from(0).filter(|(m, _)| keep(m)) {
            out.push(Frame::Bulk(member.clone()));
            out.push(Frame::Bulk(Bytes::from(listpack_score(score))));
        }
        return (0, out);
    }
    let (next, page) = page_by_hash(set.iter_unordered(), cursor, count);
    for (member, score) in page {
        if keep(member) {
            out.push(Frame::Bulk(member.clone()));
            out.push(Frame::Bulk(Bytes::from(skiplist_score(score))));
        }
    }
    (next, out)
}

/// One page of a scan in member-hash order (ZSCAN, SSCAN): the items at or after `cursor`
/// with the `count` lowest positions, plus every item sharing the last one's position (so
/// none is skipped), and the next cursor (the lowest position after them, 0 at the end).
/// Only the page is sorted: the rest is partitioned off in linear time, not sorted on every
/// call of a scan.
pub(crate) fn page_by_hash<T>(
    items: impl Iterator<Item = T>,
    cursor: u64,
    count: usize,
) -> (u64, Vec<T>)
where
    T: ScanItem,
{
    let mut ahead: Vec<(u64, T)> = items
        .map(|item| (position(item.member()), item))
        .filter(|(p, _)| *p >= cursor)
        .collect();
    let mut next = 0;
    if let Some(last_at) = count.checked_sub(1).filter(|at| at + 1 < ahead.len()) {
        let last = ahead.select_nth_unstable_by_key(last_at, |(p, _)| *p).1 .0;
        next = ahead
            .iter()
            .map(|(p, _)| *p)
            .filter(|p| *p > last)
            .min()
            .unwrap_or(0);
        ahead.retain(|(p, _)| *p <= last);
    }
    ahead.sort_unstable_by_key(|(p, _)| *p);
    (next, ahead.into_iter().map(|(_, item)| item).collect())
}

/// What a scan page holds: something with a member whose hash places it.
pub(crate) trait ScanItem {
    /// The member that decides the item's place.
    fn member(&self) -> &[u8];
}

impl ScanItem for &Bytes {
    fn member(&self) -> &[u8] {
        self
    }
}

impl ScanItem for (&Bytes, f64) {
    fn member(&self) -> &[u8] {
        self.0
    }
}

/// What a listpack-encoded sorted set holds, member then score for each entry in rank order,
/// as `f` reads it (DEBUG OBJECT's serialized length, MEMORY USAGE).
pub(crate) fn with_listpack_entries<R>(
    zset: &ZSet,
    f: impl FnOnce(&mut dyn Iterator<Item = &[u8]>) -> R,
) -> R {
    let scores: Vec<String> = zset.iter_from(0).map(|(_, s)| listpack_score(s)).collect();
    let mut items = zset
        .iter_from(0)
        .zip(&scores)
        .flat_map(|((m, _), s)| [m.as_ref(), s.as_bytes()]);
    f(&mut items)
}

/// A score as a listpack holds it (Redis's `zzlInsertAt`): an integer when the double is one
/// that fits (so -0 is 0 and 1e17 is 100000000000000000), else `d2string`'s `%.17g`.
pub(crate) fn listpack_score(score: f64) -> String {
    const SAFE: f64 = (i64::MAX / 2) as f64;
    if (-SAFE..=SAFE).contains(&score) && score.trunc() == score {
        return (score as i64).to_string();
    }
    skiplist_score(score)
}

/// A score as ZSCAN spells it from a skip list (`%.17Lg`, which for a double is `%.17g`).
fn skiplist_score(score: f64) -> String {
    if score.is_infinite() {
        return if score > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    format_g17(score)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_read_as_strtoul_reads_them() {
        assert_eq!(cursor(b""), Some(0));
        assert_eq!(cursor(b"+5"), Some(5));
        assert_eq!(cursor(b"-1"), Some(u64::MAX));
        assert_eq!(cursor(b"7\x00junk"), Some(7));
        for bad in [&b" 1"[..], b"1 ", b"-", b"+", b"x", b"18446744073709551616"] {
            assert_eq!(cursor(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn listpack_scores_are_integers_when_they_fit() {
        assert_eq!(listpack_score(-0.0), "0");
        assert_eq!(listpack_score(1e17), "100000000000000000");
        assert_eq!(listpack_score(1.5), "1.5");
        assert_eq!(listpack_score(f64::INFINITY), "inf");
        assert_eq!(skiplist_score(1e17), "1e+17");
    }

    #[test]
    fn a_large_set_is_scanned_whole_across_calls() {
        let mut set = ZSet::new();
        for i in 0..1000 {
            set.insert(Bytes::from(format!("m{i}")), f64::from(i));
        }
        assert!(!set.is_listpack());
        let mut cursor = 0;
        let mut seen = 0;
        loop {
            let (next, items) = scan(&set, cursor, None, 10);
            seen += items.len() / 2;
            if next == 0 {
                break;
            }
            cursor = next;
        }
        assert_eq!(seen, 1000);
    }

    /// Pages match a full sort of the positions: the `count` lowest ahead of the cursor plus
    /// the ties of the last, and the cursor after them; an empty tail ends at 0.
    #[test]
    fn pages_follow_position_order() {
        let mut set = ZSet::new();
        for i in 0..500 {
            set.insert(Bytes::from(format!("m{i}")), f64::from(i));
        }
        let mut sorted: Vec<u64> = set.iter_unordered().map(|(m, _)| position(m)).collect();
        sorted.sort_unstable();
        for count in [1, 7, 499, 500, 501] {
            let mut cursor = 0;
            let mut at = 0;
            loop {
                let (next, items) = scan(&set, cursor, None, count);
                let page: Vec<u64> = items
                    .chunks(2)
                    .map(|pair| match &pair[0] {
                        Frame::Bulk(m) => position(m),
                        _ => unreachable!(),
                    })
                    .collect();
                let want = sorted.get(at..).unwrap_or_default();
                let want = &want[..page.len().min(want.len())];
                assert_eq!(page, want, "count {count}");
                at += page.len();
                assert_eq!(next, sorted.get(at).copied().unwrap_or(0), "count {count}");
                if next == 0 {
                    break;
                }
                cursor = next;
            }
            assert_eq!(at, 500);
        }
        assert_eq!(scan(&set, u64::MAX, None, 10), (0, Vec::new()));
    }
}
