//! The sorted-set value: a member -> score map for O(1) lookups beside a [`SkipList`] that
//! keeps (score, member) in order with ranks, so adds, removals, ranks, ranges by rank and
//! counts between bounds are O(log n) (+ output).
//!
//! Redis keeps a small sorted set as a listpack and converts it to a skip list once it holds
//! more than `zset-max-listpack-entries` members or a member longer than
//! `zset-max-listpack-value` bytes (see `crate::encoding`). We always use the skip list, but
//! remember which encoding Redis would have, because it shows: ZSCAN returns a listpack set whole with the scores as the listpack stores them,
//! and a listpack stores a score of -0 as the integer 0.

mod range;
mod skiplist;

pub use range::{parse_score, strtod_whole, LexBound, LexRange, ScoreBound, ScoreRange};
pub use skiplist::SkipList;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use bytes::Bytes;

/// Redis's `zset-max-listpack-entries` default: more members than this and a set is a skip
/// list. The live limits (CONFIG SET) are in `crate::encoding::current`.
#[cfg(test)]
const MAX_LISTPACK_ENTRIES: usize = crate::encoding::DEFAULT_ZSET_MAX_LISTPACK_ENTRIES as usize;

/// Redis's `zset-max-listpack-value` default: a longer member makes the set a skip list.
#[cfg(test)]
const MAX_LISTPACK_VALUE: usize = crate::encoding::DEFAULT_ZSET_MAX_LISTPACK_VALUE as usize;

/// Counts sets created, so each gets its own level-generator seed.
static CREATED: AtomicU64 = AtomicU64::new(0);

/// A seed for a new set's level generator: the creation count hashed under a per-process
/// random key, so a peer cannot predict the levels and build a degenerate list.
fn level_seed() -> u64 {
    static KEY: OnceLock<ahash::RandomState> = OnceLock::new();
    KEY.get_or_init(ahash::RandomState::new)
        .hash_one(CREATED.fetch_add(1, Ordering::Relaxed))
}

/// A sorted set.
#[derive(Debug, Clone)]
pub struct ZSet {
    scores: HashMap<Bytes, f64, ahash::RandomState>,
    list: SkipList,
    listpack: bool,
}

impl PartialEq for ZSet {
    fn eq(&self, other: &ZSet) -> bool {
        self.scores.len() == other.scores.len()
            && self
                .scores
                .iter()
                .all(|(m, s)| other.scores.get(m) == Some(s))
    }
}

impl Default for ZSet {
    fn default() -> ZSet {
        ZSet::new()
    }
}

/// Which end of the order a pop takes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The lowest scores (ZPOPMIN, ZMPOP MIN).
    Min,
    /// The highest scores (ZPOPMAX, ZMPOP MAX).
    Max,
}

impl ZSet {
    /// An empty set, listpack-encoded as Redis creates a small one.
    pub fn new() -> ZSet {
        ZSet {
            scores: HashMap::default(),
            list: SkipList::new(level_seed()),
            listpack: true,
        }
    }

    /// Picks Redis's encoding for a new set whose first member is `first` (ZADD on a new key
    /// looks at the first member only).
    pub fn encode_for_first_member(&mut self, first: &[u8]) {
        if self.is_empty() {
            self.listpack = first.len() <= crate::encoding::current().zset_value();
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.scores.len()
    }

    /// Whether it has no members.
    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    /// `listpack` or `skiplist`, as OBJECT ENCODING says in Redis 7.0.
    pub fn encoding(&self) -> &'static str {
        if self.listpack {
            "listpack"
        } else {
            "skiplist"
        }
    }

    /// Whether Redis would hold this set as a listpack.
    pub fn is_listpack(&self) -> bool {
        self.listpack
    }

    /// Redis's conversion of a stored result (ZUNIONSTORE and friends build a skip list and
    /// convert it back when small enough).
    pub fn settle_encoding(&mut self) {
        let limits = crate::encoding::current();
        let value = limits.zset_value();
        self.listpack =
            self.len() <= limits.zset_entries() && self.scores.keys().all(|m| m.len() <= value);
        if self.listpack {
            self.normalize_negative_zeros();
        }
    }

    /// Forces the encoding ZRANGESTORE picks from the result's length.
    pub fn set_listpack(&mut self, listpack: bool) {
        self.listpack = listpack;
        if listpack {
            self.normalize_negative_zeros();
        }
    }

    fn normalize_negative_zeros(&mut self) {
        let negative: Vec<Bytes> = self
            .scores
            .iter()
            .filter(|(_, s)| is_negative_zero(**s))
            .map(|(m, _)| m.clone())
            .collect();
        for member in negative {
            self.insert(member, 0.0);
        }
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.scores.get(member).copied()
    }

    /// Sets `member`'s score (adding it if new); returns the score it had.
    pub fn insert(&mut self, member: Bytes, score: f64) -> Option<f64> {
        let limits = crate::encoding::current();
        if self.listpack
            && (member.len() > limits.zset_value() || self.len() >= limits.zset_entries())
            && !self.scores.contains_key(&member)
        {
            self.listpack = false;
        }
        // A listpack stores a score of -0 as the integer 0.
        let score = if self.listpack && is_negative_zero(score) {
            0.0
        } else {
            score
        };
        let old = self.scores.insert(member.clone(), score);
        if let Some(old) = old {
            if old.to_bits() == score.to_bits() {
                return Some(old);
            }
            self.list.remove(old, &member);
        }
        self.list.insert(score, member);
        old
    }

    /// Removes `member`; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let score = self.scores.remove(member)?;
        self.list.remove(score, member);
        Some(score)
    }

    /// `member`'s 0-based rank, ascending or (`rev`) descending.
    pub fn rank(&self, member: &[u8], rev: bool) -> Option<usize> {
        let score = self.score(member)?;
        let rank = self.list.rank(score, member)?;
        Some(if rev { self.len() - 1 - rank } else { rank })
    }

    /// The members from ascending rank `start` on.
    pub fn iter_from(&self, start: usize) -> impl Iterator<Item = (&Bytes, f64)> {
        self.list.iter_from(start).map(|(s, m)| (m, s))
    }

    /// The members from ascending rank `start` downwards.
    pub fn iter_down_from(&self, start: usize) -> impl Iterator<Item = (&Bytes, f64)> {
        self.list.iter_down_from(start).map(|(s, m)| (m, s))
    }

    /// Every member with its score, in no particular order.
    pub fn iter_unordered(&self) -> impl Iterator<Item = (&Bytes, f64)> {
        self.scores.iter().map(|(m, s)| (m, *s))
    }

    /// The ascending rank of the first member whose score is `min` or more (the length when
    /// there is none): one descent, for a walk upwards from `min`.
    pub fn rank_of_score(&self, min: f64) -> usize {
        self.list.count_prefix(|s, _| s < min)
    }

    /// The ascending ranks `[start, end)` of the members with scores in `range`.
    pub fn ranks_by_score(&self, range: &ScoreRange) -> (usize, usize) {
        let start = self.list.count_prefix(|s, _| range.below(s));
        let end = self.list.count_prefix(|s, _| !range.above(s));
        (start, end.max(start))
    }

    /// The ascending ranks `[start, end)` of the members in the lexical `range`, for a walk
    /// upwards or (`rev`) downwards. Redis documents lexical ranges for sets whose scores are
    /// all equal; when they are not, a listpack-sized set answers as Redis's listpack does
    /// (a linear walk from the end the walk starts at: the first member inside, then members
    /// while they stay inside), and a larger one as a skip list descent, which in Redis too
    /// depends on its random levels.
    pub fn ranks_by_lex(&self, range: &LexRange, rev: bool) -> (usize, usize) {
        if range.is_empty() {
            return (0, 0);
        }
        if self.listpack {
            return self.lex_walk(range, rev);
        }
        let start = self.list.count_prefix(|_, m| range.below(m));
        let end = self.list.count_prefix(|_, m| !range.above(m));
        (start, end.max(start))
    }

    /// [`ZSet::ranks_by_lex`] for a listpack-sized set (at most `zset-max-listpack-entries`
    /// members, so the walk is short).
    fn lex_walk(&self, range: &LexRange, rev: bool) -> (usize, usize) {
        let members: Vec<&Bytes> = self.iter_from(0).map(|(m, _)| m).collect();
        let (Some(first), Some(last)) = (members.first(), members.last()) else {
            return (0, 0);
        };
        if range.below(last) || range.above(first) {
            return (0, 0);
        }
        if rev {
            let Some(top) = members.iter().rposition(|m| !range.above(m)) else {
                return (0, 0);
            };
            let run = members
                .get(..=top)
                .unwrap_or_default()
                .iter()
                .rev()
                .take_while(|m| !range.below(m))
                .count();
            (top + 1 - run, top + 1)
        } else {
            let Some(bottom) = members.iter().position(|m| !range.below(m)) else {
                return (0, 0);
            };
            let run = members
                .get(bottom..)
                .unwrap_or_default()
                .iter()
                .take_while(|m| !range.above(m))
                .count();
            (bottom, bottom + run)
        }
    }

    /// Removes and returns up to `count` members from `end`, in pop order. The one pop used
    /// by ZPOPMIN/ZPOPMAX and ZMPOP (and by the blocking variants, which wait first).
    pub fn pop(&mut self, end: End, count: usize) -> Vec<(Bytes, f64)> {
        let mut out = Vec::new();
        while out.len() < count {
            let next = match end {
                End::Min => self.iter_from(0).next(),
                End::Max => self.list.last().map(|(s, m)| (m, s)),
            }
            .map(|(m, s)| (m.clone(), s));
            let Some((member, score)) = next else {
                break;
            };
            self.remove(&member);
            out.push((member, score));
        }
        out
    }
}

/// Whether `d` is -0.0.
fn is_negative_zero(d: f64) -> bool {
    d == 0.0 && d.is_sign_negative()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pairs: &[(&str, f64)]) -> ZSet {
        let mut z = ZSet::new();
        for (m, s) in pairs {
            z.insert(Bytes::copy_from_slice(m.as_bytes()), *s);
        }
        z
    }

    #[test]
    fn updates_move_members_and_ranks_follow() {
        let mut z = set(&[("a", 1.0), ("b", 2.0), ("c", 3.0)]);
        assert_eq!(z.insert(Bytes::from_static(b"a"), 10.0), Some(1.0));
        assert_eq!(z.rank(b"a", false), Some(2));
        assert_eq!(z.rank(b"a", true), Some(0));
        assert_eq!(z.remove(b"b"), Some(2.0));
        assert_eq!(z.len(), 2);
        assert_eq!(z.rank(b"c", false), Some(0));
    }

    #[test]
    fn pops_take_from_either_end_and_stop_when_empty() {
        let mut z = set(&[("a", 1.0), ("b", 2.0), ("c", 3.0)]);
        let max = z.pop(End::Max, 2);
        assert_eq!(max.len(), 2);
        assert_eq!(max[0].0, Bytes::from_static(b"c"));
        let min = z.pop(End::Min, usize::MAX);
        assert_eq!(min, vec![(Bytes::from_static(b"a"), 1.0)]);
        assert!(z.is_empty());
    }

    /// Ranges by score and by member against a sorted vector, over random sets with many
    /// ties and every kind of bound.
    #[test]
    fn ranges_agree_with_a_sorted_vector() {
        let mut rng = 99u64;
        let mut next = move |n: u64| {
            rng = rng
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (rng >> 33) % n
        };
        for _ in 0..200 {
            let mut z = ZSet::new();
            for _ in 0..next(60) {
                let member = Bytes::from(format!("{}", next(40)));
                z.insert(member, next(8) as f64);
            }
            let mut model: Vec<(f64, Bytes)> =
                z.iter_unordered().map(|(m, s)| (s, m.clone())).collect();
            model.sort_by(|a, b| skiplist::compare(a.0, &a.1, b.0, &b.1));
            let bound = |v: u64, exclusive: bool| ScoreBound {
                value: v as f64 - 0.5 * (v % 2) as f64,
                exclusive,
            };
            let range = ScoreRange {
                min: bound(next(10), next(2) == 0),
                max: bound(next(10), next(2) == 0),
            };
            let (start, end) = z.ranks_by_score(&range);
            let expected: Vec<_> = model
                .iter()
                .enumerate()
                .filter(|(_, (s, _))| !range.below(*s) && !range.above(*s))
                .map(|(i, _)| i)
                .collect();
            assert_eq!((start..end).collect::<Vec<_>>(), expected);
            let lex = |v: u64| match v % 4 {
                0 => LexBound::Min,
                1 => LexBound::Max,
                2 => LexBound::Inclusive(Bytes::from(format!("{}", v / 4))),
                _ => LexBound::Exclusive(Bytes::from(format!("{}", v / 4))),
            };
            let range = LexRange {
                min: lex(next(80)),
                max: lex(next(80)),
            };
            let mut by_member: Vec<Bytes> = model.iter().map(|(_, m)| m.clone()).collect();
            by_member.sort();
            let mut flat = ZSet::new();
            for m in &by_member {
                flat.insert(m.clone(), 0.0);
            }
            let (start, end) = flat.ranks_by_lex(&range, false);
            let expected: Vec<_> = by_member
                .iter()
                .enumerate()
                .filter(|(_, m)| !range.below(m) && !range.above(m))
                .map(|(i, _)| i)
                .collect();
            assert_eq!((start..end).collect::<Vec<_>>(), expected);
        }
    }

    #[test]
    fn encoding_follows_redis_thresholds() {
        let mut z = ZSet::new();
        for i in 0..MAX_LISTPACK_ENTRIES {
            z.insert(Bytes::from(i.to_string()), 1.0);
        }
        assert_eq!(z.encoding(), "listpack");
        z.insert(Bytes::from_static(b"one more"), 1.0);
        assert_eq!(z.encoding(), "skiplist");
        let mut long = ZSet::new();
        long.insert(Bytes::from(vec![b'x'; MAX_LISTPACK_VALUE + 1]), 1.0);
        assert_eq!(long.encoding(), "skiplist");
    }
}
