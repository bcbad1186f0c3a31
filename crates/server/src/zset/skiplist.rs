//! The ordered half of a sorted set: a skip list with spans, in an arena.
//!
//! Why a skip list: it is what Redis uses, so ties, ranks and range edges behave the same way
//! by construction; with a span on every forward link (how many elements it jumps over), rank
//! lookups, "element at rank r" and "how many elements are below x" are all O(log n) expected,
//! which makes ZRANK, ZRANGE by rank, ZCOUNT and ZLEXCOUNT O(log n) (+ output). An
//! order-statistic balanced tree would give the same bounds in the worst case, at the cost of
//! rotations that are easy to get subtly wrong; the skip list's worst case needs a peer to
//! predict our random levels, which a per-set seeded generator rules out in practice.
//!
//! Nodes live in one `Vec` and link by `u32` index (no `Rc`, no `unsafe`); a removed node's
//! slot is reused through a free list, so memory follows the live element count. Node 0 is the
//! header. Each node holds its member (a cheap `Bytes` clone shared with the member -> score
//! map), its score, a backward link and 1..=[`MAX_LEVEL`] forward links (1.33 on average). The
//! first [`INLINE_LEVELS`] links live inside the node, next to the score, so a search step
//! touches one place in memory rather than two: a ZADD into a 100k-member set spent two thirds
//! of its time in the search, waiting on memory.

use bytes::Bytes;
use std::cmp::Ordering;

/// Levels of the tallest node: with p = 1/4, enough for 2^64 elements.
pub const MAX_LEVEL: usize = 32;

/// The chance, out of 4, that a node gets one more level (Redis's `ZSKIPLIST_P` = 0.25).
const LEVEL_UP_IN_FOUR: u64 = 1;

/// "No node".
const NIL: u32 = u32::MAX;

/// Forward links held inside a node (98% of nodes have at most this many).
const INLINE_LEVELS: usize = 4;

/// The header's index.
const HEAD: u32 = 0;

#[derive(Debug, Clone, Copy)]
struct Link {
    next: u32,
    /// Elements between this node and `next` (1 for the neighbour; for a link to NIL, the
    /// elements left after this node). Fits: nodes are counted in `u32` too.
    span: u32,
}

impl Link {
    const NONE: Link = Link { next: NIL, span: 0 };
}

/// A node's forward links: the first [`INLINE_LEVELS`] inline, the rest on the heap.
#[derive(Debug, Clone)]
struct Links {
    inline: [Link; INLINE_LEVELS],
    len: u8,
    more: Vec<Link>,
}

impl Links {
    fn new(levels: usize) -> Links {
        Links {
            inline: [Link::NONE; INLINE_LEVELS],
            len: u8::try_from(levels).unwrap_or(u8::MAX),
            more: vec![Link::NONE; levels.saturating_sub(INLINE_LEVELS)],
        }
    }

    fn len(&self) -> usize {
        usize::from(self.len)
    }

    fn get(&self, level: usize) -> Option<&Link> {
        if level >= self.len() {
            None
        } else if level < INLINE_LEVELS {
            self.inline.get(level)
        } else {
            self.more.get(level - INLINE_LEVELS)
        }
    }

    fn get_mut(&mut self, level: usize) -> Option<&mut Link> {
        if level >= self.len() {
            None
        } else if level < INLINE_LEVELS {
            self.inline.get_mut(level)
        } else {
            self.more.get_mut(level - INLINE_LEVELS)
        }
    }
}

/// Laid out with the score and the inline links first, the fields a search reads.
#[derive(Debug, Clone)]
#[repr(C)]
struct Node {
    score: f64,
    back: u32,
    links: Links,
    member: Bytes,
}

/// A rank distance as a span (the list never holds more than `u32::MAX` nodes).
fn span(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// How (score, member) pairs compare: by score (no NaN is ever stored, and -0 equals 0, as C's
/// `<` says), then by member bytes.
pub fn compare(a_score: f64, a_member: &[u8], b_score: f64, b_member: &[u8]) -> Ordering {
    a_score
        .partial_cmp(&b_score)
        .unwrap_or(Ordering::Equal)
        .then_with(|| a_member.cmp(b_member))
}

/// The skip list. Ranks here are 0-based.
#[derive(Debug, Clone)]
pub struct SkipList {
    nodes: Vec<Node>,
    free: Vec<u32>,
    tail: u32,
    len: usize,
    level: usize,
    rng: u64,
}

impl SkipList {
    /// An empty list; `seed` drives the level generator.
    pub fn new(seed: u64) -> SkipList {
        let head = Node {
            member: Bytes::new(),
            score: 0.0,
            back: NIL,
            links: Links::new(MAX_LEVEL),
        };
        SkipList {
            nodes: vec![head],
            free: Vec::new(),
            tail: NIL,
            len: 0,
            level: 1,
            rng: seed | 1,
        }
    }

    /// Number of elements.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    fn node(&self, i: u32) -> &Node {
        // Indexes come only from links this list wrote; an out-of-range one is a bug, and
        // the header (an empty, harmless node) stands in rather than a panic.
        self.nodes.get(i as usize).unwrap_or(&self.nodes[0])
    }

    fn link(&self, i: u32, level: usize) -> Link {
        self.node(i).links.get(level).copied().unwrap_or(Link::NONE)
    }

    fn link_mut(&mut self, i: u32, level: usize) -> Option<&mut Link> {
        self.nodes.get_mut(i as usize)?.links.get_mut(level)
    }

    fn random_level(&mut self) -> usize {
        let mut level = 1;
        while level < MAX_LEVEL {
            // xorshift64: cheap and, seeded per set, not predictable from outside.
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            if self.rng % 4 >= LEVEL_UP_IN_FOUR {
                break;
            }
            level += 1;
        }
        level
    }

    /// For each level, the last node before (score, member), and its rank + 1 (0: header).
    fn path(&self, score: f64, member: &[u8]) -> ([u32; MAX_LEVEL], [usize; MAX_LEVEL]) {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0usize; MAX_LEVEL];
        let mut x = HEAD;
        let mut traversed = 0;
        for i in (0..self.level).rev() {
            loop {
                let link = self.link(x, i);
                if link.next == NIL {
                    break;
                }
                let n = self.node(link.next);
                if compare(n.score, &n.member, score, member) != Ordering::Less {
                    break;
                }
                traversed += link.span as usize;
                x = link.next;
            }
            update[i] = x;
            rank[i] = traversed;
        }
        (update, rank)
    }

    /// Inserts (score, member); the caller guarantees the member is not in the list.
    pub fn insert(&mut self, score: f64, member: Bytes) {
        let (mut update, mut rank) = self.path(score, &member);
        let level = self.random_level();
        if level > self.level {
            let len = self.len;
            for i in self.level..level {
                update[i] = HEAD;
                rank[i] = 0;
                if let Some(l) = self.link_mut(HEAD, i) {
                    l.span = span(len);
                }
            }
            self.level = level;
        }
        let index = match self.free.pop() {
            Some(i) => i,
            None => u32::try_from(self.nodes.len()).unwrap_or(NIL),
        };
        let mut links = Links::new(level);
        for i in 0..level {
            let before = self.link(update[i], i);
            let gap = span(rank[0] - rank[i]);
            if let Some(l) = links.get_mut(i) {
                *l = Link {
                    next: before.next,
                    span: before.span - gap,
                };
            }
            if let Some(l) = self.link_mut(update[i], i) {
                l.next = index;
                l.span = gap + 1;
            }
        }
        for (i, &before) in update.iter().enumerate().take(self.level).skip(level) {
            if let Some(l) = self.link_mut(before, i) {
                l.span += 1;
            }
        }
        let next = links.get(0).map_or(NIL, |l| l.next);
        let node = Node {
            member,
            score,
            back: if update[0] == HEAD { NIL } else { update[0] },
            links,
        };
        if (index as usize) < self.nodes.len() {
            self.nodes[index as usize] = node;
        } else {
            self.nodes.push(node);
        }
        if next == NIL {
            self.tail = index;
        } else if let Some(n) = self.nodes.get_mut(next as usize) {
            n.back = index;
        }
        self.len += 1;
    }

    /// Removes (score, member); false when it is not there.
    pub fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        let (update, _) = self.path(score, member);
        let x = self.link(update[0], 0).next;
        if x == NIL || self.node(x).member != member || self.node(x).score != score {
            return false;
        }
        for (i, &before) in update.iter().enumerate().take(self.level) {
            let removed = self.link(x, i);
            if let Some(l) = self.link_mut(before, i) {
                if l.next == x {
                    l.span = l.span + removed.span - 1;
                    l.next = removed.next;
                } else {
                    l.span -= 1;
                }
            }
        }
        let next = self.link(x, 0).next;
        let back = self.node(x).back;
        if next == NIL {
            self.tail = back;
        } else if let Some(n) = self.nodes.get_mut(next as usize) {
            n.back = back;
        }
        while self.level > 1 && self.link(HEAD, self.level - 1).next == NIL {
            self.level -= 1;
        }
        if let Some(n) = self.nodes.get_mut(x as usize) {
            n.member = Bytes::new();
            n.links = Links::new(0);
        }
        self.free.push(x);
        self.len -= 1;
        if self.len == 0 {
            // Nothing left: give the arena back.
            self.nodes.truncate(1);
            self.free.clear();
        }
        true
    }

    /// The 0-based rank of (score, member), which must be in the list.
    pub fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let (update, rank) = self.path(score, member);
        let x = self.link(update[0], 0).next;
        (x != NIL && self.node(x).member == member).then_some(rank[0])
    }

    /// How many elements satisfy `below`, which must hold for a prefix of the order (every
    /// element it holds for comes before every one it does not).
    pub fn count_prefix(&self, below: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut x = HEAD;
        let mut traversed = 0;
        for i in (0..self.level).rev() {
            loop {
                let link = self.link(x, i);
                if link.next == NIL {
                    break;
                }
                let n = self.node(link.next);
                if !below(n.score, &n.member) {
                    break;
                }
                traversed += link.span as usize;
                x = link.next;
            }
        }
        traversed
    }

    /// The node at 0-based `rank`.
    fn at_rank(&self, rank: usize) -> u32 {
        if rank >= self.len {
            return NIL;
        }
        let target = rank + 1;
        let mut x = HEAD;
        let mut traversed = 0;
        for i in (0..self.level).rev() {
            loop {
                let link = self.link(x, i);
                if link.next == NIL || traversed + link.span as usize > target {
                    break;
                }
                traversed += link.span as usize;
                x = link.next;
            }
            if traversed == target {
                return x;
            }
        }
        NIL
    }

    /// The elements from 0-based `rank` on, ascending.
    pub fn iter_from(&self, rank: usize) -> Iter<'_> {
        Iter {
            list: self,
            at: self.at_rank(rank),
            forward: true,
        }
    }

    /// The elements from 0-based `rank` down, descending.
    pub fn iter_down_from(&self, rank: usize) -> Iter<'_> {
        Iter {
            list: self,
            at: self.at_rank(rank),
            forward: false,
        }
    }

    /// The last element.
    pub fn last(&self) -> Option<(f64, &Bytes)> {
        (self.tail != NIL).then(|| {
            let n = self.node(self.tail);
            (n.score, &n.member)
        })
    }
}

/// Walks the list one level-0 link at a time from a starting rank.
pub struct Iter<'a> {
    list: &'a SkipList,
    at: u32,
    forward: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (f64, &'a Bytes);

    fn next(&mut self) -> Option<Self::Item> {
        if self.at == NIL || self.at == HEAD {
            return None;
        }
        let n = self.list.node(self.at);
        self.at = if self.forward {
            n.links.get(0).map_or(NIL, |l| l.next)
        } else {
            n.back
        };
        Some((n.score, &n.member))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(list: &SkipList) -> Vec<(f64, Vec<u8>)> {
        list.iter_from(0).map(|(s, m)| (s, m.to_vec())).collect()
    }

    #[test]
    fn keeps_order_ranks_and_spans_through_inserts_and_removals() {
        let mut list = SkipList::new(7);
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        let mut rng = 12345u64;
        for step in 0..4000 {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let score = f64::from(((rng >> 33) % 50) as u32);
            let member = format!("m{}", (rng >> 20) % 300).into_bytes();
            let at = model.iter().position(|(_, m)| *m == member);
            match at {
                Some(i) => {
                    let (s, m) = model.remove(i);
                    assert!(list.remove(s, &m), "step {step}");
                }
                None => {
                    list.insert(score, Bytes::from(member.clone()));
                    model.push((score, member));
                    model.sort_by(|a, b| compare(a.0, &a.1, b.0, &b.1));
                }
            }
            assert_eq!(list.len(), model.len());
            if step % 97 == 0 {
                assert_eq!(members(&list), model);
                for (rank, (s, m)) in model.iter().enumerate() {
                    assert_eq!(list.rank(*s, m), Some(rank));
                    assert_eq!(list.iter_from(rank).next().map(|(s, _)| s), Some(*s));
                    assert_eq!(list.count_prefix(|x, y| compare(x, y, *s, m).is_lt()), rank);
                }
                let down: Vec<_> = list.iter_down_from(model.len().saturating_sub(1)).collect();
                assert_eq!(down.len(), model.len());
            }
        }
    }

    #[test]
    fn emptied_list_gives_its_memory_back() {
        let mut list = SkipList::new(1);
        for i in 0..100 {
            list.insert(f64::from(i), Bytes::from(i.to_string()));
        }
        for i in 0..100 {
            assert!(list.remove(f64::from(i), i.to_string().as_bytes()));
        }
        assert_eq!(list.len(), 0);
        assert_eq!(list.nodes.len(), 1);
        assert!(list.last().is_none());
    }
}
