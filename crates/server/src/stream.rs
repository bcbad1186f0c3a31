//! The stream value (Redis's `stream.h`): entries ordered by ID in a B-tree (a range read is
//! O(log n + count)), the stream's counters (last ID, first ID, max deleted ID, entries
//! added), and the consumer groups with their pending entries lists.
//!
//! Redis keeps entries in listpack "nodes" of at most `stream-node-max-entries` entries (and
//! `stream-node-max-bytes` bytes) indexed by a radix tree; approximate trimming (`~`) only
//! removes whole nodes, and XINFO reports the tree's size. We keep the entries in one map and
//! a shadow of the node boundaries (first ID, live count, the deleted entries a node still
//! holds, the master entry's field names, an estimate of the listpack's bytes), so `~` trims
//! and XINFO's `radix-tree-*` fields agree with Redis, and the RDB form (`rdb::write`) lays
//! the nodes out byte for byte as Redis does.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;

/// An entry ID: milliseconds and a sequence number, ordered as a 128-bit number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    /// The milliseconds part.
    pub ms: u64,
    /// The sequence part.
    pub seq: u64,
}

impl StreamId {
    /// `0-0`.
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    /// The largest ID there is.
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    /// An ID.
    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// The next ID, `None` past the last (Redis's `streamIncrID`).
    pub fn next(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                None
            } else {
                Some(StreamId::new(self.ms + 1, 0))
            }
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    /// The previous ID, `None` before `0-0` (Redis's `streamDecrID`).
    pub fn prev(self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                None
            } else {
                Some(StreamId::new(self.ms - 1, u64::MAX))
            }
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }

    /// `<ms>-<seq>`.
    pub fn to_bytes(self) -> Bytes {
        Bytes::from(format!("{}-{}", self.ms, self.seq))
    }

    /// The 16 big-endian bytes Redis keys its radix trees with.
    pub fn encode(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.ms.to_be_bytes());
        out[8..].copy_from_slice(&self.seq.to_be_bytes());
        out
    }

    /// The inverse of [`StreamId::encode`].
    pub fn decode(b: &[u8; 16]) -> StreamId {
        let mut ms = [0u8; 8];
        let mut seq = [0u8; 8];
        ms.copy_from_slice(&b[..8]);
        seq.copy_from_slice(&b[8..]);
        StreamId::new(u64::from_be_bytes(ms), u64::from_be_bytes(seq))
    }
}

/// Redis's `SCG_INVALID_ENTRIES_READ`: a group's read counter that is not known.
pub const INVALID_ENTRIES_READ: i64 = -1;

/// A pending entry: delivered to a consumer, not yet acknowledged.
#[derive(Debug, Clone, PartialEq)]
pub struct Nack {
    /// When it was last delivered (Unix ms; XCLAIM TIME may set any value).
    pub delivery_time: i64,
    /// How many times it was delivered.
    pub delivery_count: u64,
    /// Its owner (none for an entry XCLAIM FORCE created and gave to nobody yet).
    pub consumer: Option<Bytes>,
}

impl Nack {
    /// Milliseconds since it was last delivered, as Redis's C computes it (wrapping: a
    /// restored payload or XCLAIM TIME may hold any time).
    pub fn idle(&self, now: i64) -> i64 {
        now.wrapping_sub(self.delivery_time)
    }

    /// One more delivery (wrapping, as Redis's `delivery_count++`).
    pub fn count_delivery(&mut self) {
        self.delivery_count = self.delivery_count.wrapping_add(1);
    }
}

/// A consumer of a group.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Consumer {
    /// When it last read or claimed (Unix ms).
    pub seen_time: i64,
    /// The IDs pending for it.
    pub pel: BTreeSet<StreamId>,
}

/// A consumer group.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Group {
    /// The last ID delivered to the group.
    pub last_id: StreamId,
    /// How many entries the group has read, or [`INVALID_ENTRIES_READ`].
    pub entries_read: i64,
    /// Every pending entry of the group.
    pub pel: BTreeMap<StreamId, Nack>,
    /// The consumers, by name (Redis's radix tree orders them so).
    pub consumers: BTreeMap<Bytes, Consumer>,
}

/// One of Redis's listpack nodes, as far as trimming, XINFO and the RDB form need to know:
/// its live entry count, its deleted entries (kept as Redis keeps them, flagged inside the
/// listpack, so the RDB form writes them back), its listpack's size, and its master entry's
/// field names (those of the first entry added to it, deleted or not).
#[derive(Debug, Clone, PartialEq)]
struct Node {
    live: u64,
    tombstones: BTreeMap<StreamId, Box<[Bytes]>>,
    bytes: usize,
    fields: Box<[Bytes]>,
}

/// The node limits in force (`stream-node-max-entries`, `stream-node-max-bytes`).
#[derive(Debug, Clone, Copy)]
pub struct NodeLimits {
    /// Entries per node, live and deleted (0: no limit).
    pub entries: u64,
    /// Bytes per node (0: Redis's 1 GiB cap).
    pub bytes: usize,
}

/// Redis's `STREAM_LISTPACK_MAX_SIZE`.
const LISTPACK_MAX_SIZE: usize = 1 << 30;

/// A stream.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stream {
    /// The entries: each a flat list of fields and values.
    entries: BTreeMap<StreamId, Box<[Bytes]>>,
    /// The listpack nodes, by their master ID.
    nodes: BTreeMap<StreamId, Node>,
    /// The last ID added (or set by XSETID).
    pub last_id: StreamId,
    /// The largest ID XDEL removed.
    pub max_deleted: StreamId,
    /// How many entries were ever added.
    pub entries_added: u64,
    /// The consumer groups, by name.
    pub groups: BTreeMap<Bytes, Group>,
}

/// What trimming to do (XADD's and XTRIM's options).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trim {
    /// Keep at most this many entries.
    MaxLen(u64),
    /// Drop entries below this ID.
    MinId(StreamId),
}

/// The bytes a listpack element takes for an integer value (Redis's `lpEncodeBacklen` plus
/// the encoding).
fn lp_int_size(v: i64) -> usize {
    let enc = if (0..=127).contains(&v) {
        1
    } else if (-4096..=4095).contains(&v) {
        2
    } else if (-32768..=32767).contains(&v) {
        3
    } else if (-8_388_608..=8_388_607).contains(&v) {
        4
    } else if (-2_147_483_648..=2_147_483_647).contains(&v) {
        5
    } else {
        9
    };
    enc + backlen_size(enc)
}

fn backlen_size(l: usize) -> usize {
    if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2_097_151 {
        3
    } else if l < 268_435_455 {
        4
    } else {
        5
    }
}

/// The bytes a listpack element takes for `s` (stored as an integer when it is one).
fn lp_str_size(s: &[u8]) -> usize {
    if s.len() <= 20 {
        if let Some(v) = crate::commands::args::parse_i64(s) {
            return lp_int_size(v);
        }
    }
    let enc = if s.len() < 64 {
        1 + s.len()
    } else if s.len() < 4096 {
        2 + s.len()
    } else {
        5 + s.len()
    };
    enc + backlen_size(enc)
}

impl Stream {
    /// An empty stream.
    pub fn new() -> Stream {
        Stream::default()
    }

    /// How many entries it holds.
    pub fn len(&self) -> u64 {
        self.entries.len() as u64
    }

    /// Whether it holds no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry `id`'s fields and values.
    pub fn get(&self, id: StreamId) -> Option<&[Bytes]> {
        self.entries.get(&id).map(|b| &b[..])
    }

    /// The entries from `start` to `end` inclusive, forwards or backwards.
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
    ) -> Box<dyn Iterator<Item = (StreamId, &[Bytes])> + '_> {
        if start > end {
            return Box::new(std::iter::empty());
        }
        let it = self.entries.range(start..=end).map(|(k, v)| (*k, &v[..]));
        if rev {
            Box::new(it.rev())
        } else {
            Box::new(it)
        }
    }

    /// The first live entry's ID, 0-0 when empty (Redis's `first_id`, which XDEL and
    /// trimming keep so).
    pub fn first_id(&self) -> StreamId {
        self.entries.keys().next().copied().unwrap_or(StreamId::MIN)
    }

    /// The first ID of the first node, deleted entries included, and `MAX` when there is
    /// none: Redis's `streamGetEdgeID(s, 1, 0, ...)`, which a MINID trim goes to replicas
    /// as. A node holds its deleted entries until all are, and its first entry's ID is its
    /// master ID.
    pub fn first_edge_id(&self) -> StreamId {
        self.nodes.keys().next().copied().unwrap_or(StreamId::MAX)
    }

    /// The last live entry's ID (0-0 when empty): Redis's `streamLastValidID`.
    pub fn last_valid_id(&self) -> StreamId {
        self.entries
            .keys()
            .next_back()
            .copied()
            .unwrap_or(StreamId::MIN)
    }

    /// The ID a `*` gives: the time, or the last ID's next when the clock is behind.
    pub fn next_auto_id(&self, now: u64) -> Option<StreamId> {
        if now > self.last_id.ms {
            Some(StreamId::new(now, 0))
        } else {
            self.last_id.next()
        }
    }

    /// Appends an entry with `id`, which the caller has checked is above the last ID.
    pub fn append(&mut self, id: StreamId, fields: Box<[Bytes]>, limits: NodeLimits) {
        let element_bytes: usize = fields.iter().map(|f| f.len()).sum();
        let max_bytes = if limits.bytes == 0 || limits.bytes > LISTPACK_MAX_SIZE {
            LISTPACK_MAX_SIZE
        } else {
            limits.bytes
        };
        let tail = self.nodes.iter_mut().next_back();
        let mut node_at = match tail {
            Some((master, node)) => {
                let full = node.bytes + element_bytes >= max_bytes
                    || (limits.entries > 0
                        && node.live + node.tombstones.len() as u64 >= limits.entries);
                if full {
                    None
                } else {
                    Some(*master)
                }
            }
            None => None,
        };
        let entry_bytes = self.entry_bytes(node_at, id, &fields);
        let node = match node_at.take().and_then(|m| self.nodes.get_mut(&m)) {
            Some(node) => node,
            None => {
                // A new listpack: its header, the master entry (count, deleted, the fields,
                // the terminator), and the end byte.
                let mut bytes = 6 + 1 + 3 * lp_int_size(0) + lp_int_size(fields.len() as i64 / 2);
                bytes += fields
                    .iter()
                    .step_by(2)
                    .map(|f| lp_str_size(f))
                    .sum::<usize>();
                self.nodes.entry(id).or_insert(Node {
                    live: 0,
                    tombstones: BTreeMap::new(),
                    bytes,
                    fields: fields.iter().step_by(2).cloned().collect(),
                })
            }
        };
        node.live += 1;
        node.bytes += entry_bytes;
        self.entries.insert(id, fields);
        self.entries_added = self.entries_added.wrapping_add(1);
        self.last_id = id;
    }

    /// The listpack bytes of an entry appended to the node at `master` (a new node if none).
    fn entry_bytes(&self, master: Option<StreamId>, id: StreamId, fields: &[Bytes]) -> usize {
        let master_id = master.unwrap_or(id);
        let same_fields = master
            .and_then(|m| self.nodes.get(&m))
            .is_none_or(|node| same_fields(&node.fields, fields));
        let ms_delta = id.ms.wrapping_sub(master_id.ms) as i64;
        let seq_delta = id.seq.wrapping_sub(master_id.seq) as i64;
        let mut bytes = lp_int_size(0) + lp_int_size(ms_delta) + lp_int_size(seq_delta);
        let values: usize = fields
            .iter()
            .skip(1)
            .step_by(2)
            .map(|v| lp_str_size(v))
            .sum();
        bytes += values;
        let count = if same_fields {
            fields.len() / 2 + 3
        } else {
            let names: usize = fields.iter().step_by(2).map(|f| lp_str_size(f)).sum();
            bytes += names + lp_int_size(fields.len() as i64 / 2);
            fields.len() + 4
        };
        bytes + lp_int_size(count as i64)
    }

    /// Removes entry `id`; whether it was there. Updates the node, first ID and max deleted
    /// ID as XDEL does.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some(fields) = self.entries.remove(&id) else {
            return false;
        };
        if let Some((&master, node)) = self.nodes.range_mut(..=id).next_back() {
            node.live = node.live.saturating_sub(1);
            node.tombstones.insert(id, fields);
            if node.live == 0 {
                self.nodes.remove(&master);
            }
        }
        if id > self.max_deleted {
            self.max_deleted = id;
        }
        true
    }

    /// Trims as Redis's `streamTrim`: whole nodes from the head, then (unless `approx`)
    /// entries inside the next node; `limit` caps the entries removed (0: none). Returns how
    /// many were removed.
    pub fn trim(&mut self, trim: Trim, approx: bool, limit: u64) -> u64 {
        let mut deleted = 0u64;
        loop {
            if let Trim::MaxLen(max) = trim {
                if self.len() <= max {
                    break;
                }
            }
            let Some((master, node_live, last_tombstone)) = self
                .nodes
                .iter()
                .next()
                .map(|(m, n)| (*m, n.live, n.tombstones.keys().next_back().copied()))
            else {
                break;
            };
            if limit > 0 && deleted + node_live > limit {
                break;
            }
            let next_master = self
                .nodes
                .range((
                    std::ops::Bound::Excluded(master),
                    std::ops::Bound::Unbounded,
                ))
                .next()
                .map(|(k, _)| *k);
            let remove_node = match trim {
                Trim::MaxLen(max) => self.len().saturating_sub(node_live) >= max,
                Trim::MinId(min) => {
                    // The node's last entry, live or deleted.
                    let last_live = match next_master {
                        Some(n) => self.entries.range(master..n).next_back().map(|(k, _)| *k),
                        None => self.entries.range(master..).next_back().map(|(k, _)| *k),
                    };
                    let last = last_live.max(last_tombstone);
                    last.is_some_and(|l| l < min)
                }
            };
            if remove_node {
                let ids: Vec<StreamId> = match next_master {
                    Some(n) => self.entries.range(master..n).map(|(k, _)| *k).collect(),
                    None => self.entries.range(master..).map(|(k, _)| *k).collect(),
                };
                for id in &ids {
                    self.entries.remove(id);
                }
                self.nodes.remove(&master);
                deleted += ids.len() as u64;
                continue;
            }
            if approx {
                break;
            }
            // Entries inside this node, oldest first.
            let mut removed_here = Vec::new();
            while let Some((&id, _)) = self.entries.range(master..).next() {
                if next_master.is_some_and(|n| id >= n) {
                    break;
                }
                let stop = match trim {
                    Trim::MaxLen(max) => self.len() <= max,
                    Trim::MinId(min) => id >= min,
                };
                if stop {
                    break;
                }
                if let Some(fields) = self.entries.remove(&id) {
                    removed_here.push((id, fields));
                }
            }
            deleted += removed_here.len() as u64;
            if let Some(node) = self.nodes.get_mut(&master) {
                node.live -= (removed_here.len() as u64).min(node.live);
                node.tombstones.extend(removed_here);
            }
            break;
        }
        deleted
    }

    /// How many listpack nodes (XINFO's `radix-tree-keys`).
    pub fn node_count(&self) -> u64 {
        self.nodes.len() as u64
    }

    /// How many radix tree nodes hold the listpack nodes (XINFO's `radix-tree-nodes`): the
    /// nodes of the compressed trie of their 16-byte keys, as Redis's `rax` builds it.
    pub fn rax_nodes(&self) -> u64 {
        let keys: Vec<[u8; 16]> = self.nodes.keys().map(|k| k.encode()).collect();
        rax_size(&keys, 0) as u64
    }

    /// Whether a deleted entry may lie in `start..` (Redis's `streamRangeHasTombstones`
    /// with no end).
    pub fn has_tombstones_from(&self, start: StreamId) -> bool {
        if self.is_empty() || self.max_deleted == StreamId::MIN {
            return false;
        }
        if self.first_id() > self.max_deleted {
            return false;
        }
        start <= self.max_deleted
    }

    /// Redis's `streamEstimateDistanceFromFirstEverEntry`: the read counter of `id`, or
    /// [`INVALID_ENTRIES_READ`].
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        let added = i64::try_from(self.entries_added).unwrap_or(i64::MAX);
        if self.entries_added == 0 {
            return 0;
        }
        if self.is_empty() && id <= self.last_id {
            return added;
        }
        if id == self.last_id {
            return added;
        } else if id > self.last_id {
            return INVALID_ENTRIES_READ;
        }
        if self.max_deleted == StreamId::MIN || self.max_deleted < self.first_id() {
            let len = self.len() as i64;
            if id < self.first_id() {
                return added - len;
            } else if id == self.first_id() {
                return added - len + 1;
            }
        }
        INVALID_ENTRIES_READ
    }

    /// A group's lag, `None` when it cannot be known (Redis's `streamReplyWithCGLag`).
    pub fn lag(&self, group: &Group) -> Option<i64> {
        let added = i64::try_from(self.entries_added).unwrap_or(i64::MAX);
        if self.entries_added == 0 {
            return Some(0);
        }
        if group.entries_read != INVALID_ENTRIES_READ && !self.has_tombstones_from(group.last_id) {
            return Some(added.wrapping_sub(group.entries_read));
        }
        let read = self.estimate_distance(group.last_id);
        (read != INVALID_ENTRIES_READ).then(|| added.wrapping_sub(read))
    }

    /// Every entry, oldest first (DUMP, DEBUG DIGEST...).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (StreamId, &[Bytes])> + '_ {
        self.entries.iter().map(|(k, v)| (*k, &v[..]))
    }

    /// Redis's `objectComputeSize` of a stream, less the object header: the stream struct, the
    /// radix tree, the listpacks as allocated (`alloc` gives an allocation's usable size;
    /// every node but the last was shrunk to fit, the last preallocated `prealloc` bytes),
    /// sampled as Redis samples them, and the groups' and consumers' structures and PELs.
    pub fn memory_usage(
        &self,
        samples: usize,
        prealloc: usize,
        alloc: impl Fn(usize) -> usize,
    ) -> usize {
        fn rax_usage(numele: usize, numnodes: usize) -> usize {
            // Redis's `streamRadixTreeMemoryUsage` (its first line is overwritten by the
            // second, so the rax struct itself is not counted).
            numele * 16 + numnodes * 4 + numnodes * 8 * 30
        }
        let keys: Vec<[u8; 16]> = self.nodes.keys().map(|k| k.encode()).collect();
        let mut size = 80 + rax_usage(keys.len(), rax_size(&keys, 0));
        let count = self.nodes.len();
        let allocated = |i: usize, node: &Node| {
            if i + 1 == count {
                alloc(node.bytes.max(prealloc))
            } else {
                alloc(node.bytes)
            }
        };
        let sampled: Vec<usize> = self
            .nodes
            .values()
            .enumerate()
            .take(samples.max(1))
            .map(|(i, n)| allocated(i, n))
            .collect();
        let total: usize = sampled.iter().sum();
        if count <= sampled.len() {
            size += total;
        } else if let Some(last) = self.nodes.values().next_back() {
            let average = total / sampled.len().max(1);
            size += average * (count - 1) + allocated(count - 1, last);
        }
        for g in self.groups.values() {
            let pel: Vec<[u8; 16]> = g.pel.keys().map(|k| k.encode()).collect();
            size += 40 + rax_usage(pel.len(), rax_size(&pel, 0)) + 24 * pel.len();
            for (name, c) in &g.consumers {
                let cpel: Vec<[u8; 16]> = c.pel.iter().map(|k| k.encode()).collect();
                size += 24 + name.len() + rax_usage(cpel.len(), rax_size(&cpel, 0));
            }
        }
        size
    }

    /// A payload size estimate (MEMORY USAGE and friends).
    pub fn payload_estimate(&self, per_element: usize) -> usize {
        self.nodes.values().map(|n| n.bytes).sum::<usize>()
            + self
                .groups
                .values()
                .map(|g| per_element * (1 + g.pel.len()))
                .sum::<usize>()
    }
}

/// A node listpack entry's flag: the entry was deleted (Redis's `STREAM_ITEM_FLAG_DELETED`).
pub const ENTRY_DELETED: i64 = 1;
/// A node listpack entry's flag: it has the master entry's fields, which it does not repeat
/// (`STREAM_ITEM_FLAG_SAMEFIELDS`).
pub const ENTRY_SAME_FIELDS: i64 = 2;

/// Whether an entry's `fields` (names and values) have the names `names` in order: Redis's
/// `STREAM_ITEM_FLAG_SAMEFIELDS` test against a node's master entry.
pub fn same_fields(names: &[Bytes], fields: &[Bytes]) -> bool {
    names.len() * 2 == fields.len() && names.iter().eq(fields.iter().step_by(2))
}

/// One listpack node of a stream as the RDB form lays it out (see [`Stream::nodes`]).
pub struct NodeView<'a> {
    /// The master ID: the node's key, its first entry's ID (even when that one is deleted).
    pub master: StreamId,
    /// The master entry's field names.
    pub fields: &'a [Bytes],
    /// The node's live entries, oldest first.
    pub entries: std::collections::btree_map::Range<'a, StreamId, Box<[Bytes]>>,
    /// The node's deleted entries, oldest first.
    pub tombstones: &'a BTreeMap<StreamId, Box<[Bytes]>>,
}

impl Stream {
    /// The listpack nodes, in order, with their live and deleted entries (DUMP and SAVE).
    pub fn nodes(&self) -> impl Iterator<Item = NodeView<'_>> + '_ {
        let mut it = self.nodes.iter().peekable();
        std::iter::from_fn(move || {
            let (master, node) = it.next()?;
            let entries = match it.peek() {
                Some((next, _)) => self.entries.range(*master..**next),
                None => self.entries.range(*master..),
            };
            Some(NodeView {
                master: *master,
                fields: &node.fields,
                entries,
                tombstones: &node.tombstones,
            })
        })
    }

    /// Adds a node read from an RDB listpack: its master ID, master field names, its deleted
    /// entries, its size, and its live entries. The caller has checked that
    /// nodes come in order and every ID is above the previous one and at least `master`.
    pub fn load_node(
        &mut self,
        master: StreamId,
        fields: Box<[Bytes]>,
        tombstones: BTreeMap<StreamId, Box<[Bytes]>>,
        bytes: usize,
        entries: Vec<(StreamId, Box<[Bytes]>)>,
    ) {
        let live = entries.len() as u64;
        self.entries.extend(entries);
        self.nodes.insert(
            master,
            Node {
                live,
                tombstones,
                bytes,
                fields,
            },
        );
    }
}

/// Nodes of the compressed trie holding `keys` (sorted, distinct, 16 bytes) from byte
/// `depth` on. Depth is at most 16: no recursion a peer can deepen.
fn rax_size(keys: &[[u8; 16]], depth: usize) -> usize {
    match keys {
        [] => 1,
        [_] => {
            if depth >= 16 {
                1
            } else {
                2
            }
        }
        [first, .., last] => {
            // The common prefix from `depth`: one compressed node holds it.
            let mut common = depth;
            while common < 16 && first[common] == last[common] {
                common += 1;
            }
            let prefix_node = usize::from(common > depth);
            // A branching node, then each child's subtree from the byte after the branch.
            let mut total = prefix_node + 1;
            let mut i = 0;
            while i < keys.len() {
                let byte = keys[i][common];
                let mut j = i;
                while j < keys.len() && keys[j][common] == byte {
                    j += 1;
                }
                total += rax_size(&keys[i..j], common + 1);
                i = j;
            }
            total
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Box<[Bytes]> {
        vec![Bytes::from_static(b"a"), Bytes::from_static(b"1")].into()
    }

    /// XINFO's radix-tree-keys and radix-tree-nodes as redis-server 7.0.15 reported them
    /// with `stream-node-max-entries 2`, adding `<n>-1` for n = 1, 2, 3...
    #[test]
    fn nodes_and_rax_size_follow_redis() {
        let limits = NodeLimits {
            entries: 2,
            bytes: 4096,
        };
        let mut s = Stream::new();
        let expected = [
            (1, 1, 2),
            (2, 1, 2),
            (3, 2, 6),
            (4, 2, 6),
            (5, 3, 8),
            (25, 13, 28),
        ];
        let mut n = 0;
        for (upto, keys, nodes) in expected {
            while n < upto {
                n += 1;
                s.append(StreamId::new(n, 1), fields(), limits);
            }
            assert_eq!((s.node_count(), s.rax_nodes()), (keys, nodes), "after {n}");
        }
        assert_eq!(Stream::new().rax_nodes(), 1);
    }

    #[test]
    fn approximate_trims_remove_whole_nodes_only() {
        let limits = NodeLimits {
            entries: 3,
            bytes: 4096,
        };
        let mut s = Stream::new();
        for n in 1..=7 {
            s.append(StreamId::new(n, 0), fields(), limits);
        }
        // Nodes of 3, 3 and 1: MAXLEN ~ 5 can drop only the first node.
        assert_eq!(s.trim(Trim::MaxLen(5), true, 0), 0);
        assert_eq!(s.trim(Trim::MaxLen(4), true, 0), 3);
        assert_eq!(s.first_id(), StreamId::new(4, 0));
        // Exact trimming goes inside the node.
        assert_eq!(s.trim(Trim::MinId(StreamId::new(6, 0)), false, 0), 2);
        assert_eq!(s.len(), 2);
        assert!(s.delete(StreamId::new(6, 0)));
        assert_eq!(s.max_deleted, StreamId::new(6, 0));
        assert_eq!(s.first_id(), StreamId::new(7, 0));
    }

    #[test]
    fn ids_step_over_their_limits() {
        assert_eq!(StreamId::new(1, u64::MAX).next(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MAX.next(), None);
        assert_eq!(StreamId::new(2, 0).prev(), Some(StreamId::new(1, u64::MAX)));
        assert_eq!(StreamId::MIN.prev(), None);
        let id = StreamId::new(1_700_000_000_000, 42);
        assert_eq!(StreamId::decode(&id.encode()), id);
    }
}
