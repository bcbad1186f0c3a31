//! SORT and SORT_RO, as Redis 7.0.15's `sort.c` runs them.
//!
//! `SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
//! [STORE destination]` sorts the elements of a list, set or sorted set: by their value read
//! as a double (ties broken by the element's bytes, so the order is total), or with ALPHA by
//! their bytes. BY reads the sort value from another key (`*` replaced by the element;
//! `key->field` reads a hash field); a BY pattern without `*` sorts nothing (`nosort`): lists
//! and sorted sets keep their own order (reversed by DESC, LIMIT taken directly), sets their
//! walk order (with STORE, Redis sorts them with ALPHA to be deterministic). GET replaces each
//! element by what a pattern names (`#` is the element; a missing key is a null, or an empty
//! string in a STORE). STORE writes the result as a list (an empty result deletes the
//! destination) and answers its length.
//!
//! What Redis leaves to the C library is reproduced: `qsort` is glibc's merge sort (stable),
//! so equal ALPHA+BY values keep the elements' loading order; with BY and a LIMIT that cuts
//! the result Redis sorts with its own partial quicksort (`pqsort.c`, not stable), which
//! [`partial_sort`] follows step by step so that ties land where Redis puts them. ALPHA
//! without STORE compares with `strcoll`, which in the C and C.UTF-8 locales redis-server
//! runs under here is `strcmp` (bytes up to the first NUL); with STORE, whole bytes.
//!
//! Not reproduced: a set sorted with `BY nosort` comes in our walk order, not Redis's hash
//! table order (as SMEMBERS); neither is a sorted set's, which Redis loads from its hash
//! table before sorting (only ties of ALPHA+BY show it). Redis Cluster refuses BY and GET
//! patterns (`... denied in Cluster mode`); this server is not a cluster and accepts them.
//! There are no ACL key permissions, so the `insufficient ACL permissions` refusals never
//! happen.
//!
//! Every allocation is bounded by the data present: the sorting vector holds at most the
//! collection's elements, and LIMIT's numbers are clamped to its length first.
//!
//! With a BY or GET pattern that names keys, or with STORE, the command holds the server's
//! gate exclusively (see [`needs_exclusive`]): the keys its patterns name are found only while
//! it runs, and a STORE writes a second key after reading the first, so nothing else may write
//! in between. Without them it reads one key under that key's shard lock, as any read does,
//! and sorts after letting go of it: other clients are not stopped for the sort.

use bytes::Bytes;
use respect_resp::Frame;

use super::args::{is_keyword, parse_i64};
use super::context::Ctx;
use super::events::{notify, signal_created};
use super::registry::{
    BeginSearch, Categories, Category, Command, Docs, FindKeys, Flag, Flags, KeyFlag, KeyFlags,
    KeyRange, KeySpec, Spec,
};
use super::reply::{not_integer, syntax_error, wrong_type};
use super::sets::walk_order;
use super::watch::signal_modified;
use crate::db::{Entry, Value};

const KEY_SPECS_RO: &[KeySpec] = &[
    KeySpec {
        notes: None,
        flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]),
        begin: BeginSearch::Index(1),
        find: FindKeys::Range {
            last_key: 0,
            key_step: 1,
            limit: 0,
        },
    },
    KeySpec {
        notes: Some("For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"),
        flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]),
        begin: BeginSearch::Unknown,
        find: FindKeys::Unknown,
    },
];

const KEY_SPECS: &[KeySpec] = &[
    KEY_SPECS_RO[0],
    KEY_SPECS_RO[1],
    KeySpec {
        notes: Some("For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array"),
        flags: KeyFlags::of(&[KeyFlag::Ow, KeyFlag::Update]),
        begin: BeginSearch::Unknown,
        find: FindKeys::Unknown,
    },
];

const COMPLEXITY: &str = "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).";

/// This family's commands.
pub const COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "sort",
            arity: -2,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Movablekeys]),
            keys: KeyRange {
                first: 1,
                last: 1,
                step: 1,
            },
            key_specs: KEY_SPECS,
            acl: Categories::of(&[
                Category::Write,
                Category::Set,
                Category::Sortedset,
                Category::List,
                Category::Slow,
                Category::Dangerous,
            ]),
            tips: &[],
            docs: Docs {
                summary: "Sort the elements in a list, set or sorted set",
                since: "1.0.0",
                group: "generic",
                complexity: COMPLEXITY,
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: sort,
    },
    Command {
        spec: Spec {
            name: "sort_ro",
            arity: -2,
            flags: Flags::of(&[Flag::Readonly, Flag::Movablekeys]),
            keys: KeyRange {
                first: 1,
                last: 1,
                step: 1,
            },
            key_specs: KEY_SPECS_RO,
            acl: Categories::of(&[
                Category::Read,
                Category::Set,
                Category::Sortedset,
                Category::List,
                Category::Slow,
                Category::Dangerous,
            ]),
            tips: &[],
            docs: Docs {
                summary:
                    "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
                since: "7.0.0",
                group: "generic",
                complexity: COMPLEXITY,
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: sort_ro,
    },
];

fn sort(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    sort_generic(ctx, argv, false)
}

fn sort_ro(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    sort_generic(ctx, argv, true)
}

/// The options, parsed before any key is read, as Redis parses them.
struct Options {
    desc: bool,
    alpha: bool,
    /// LIMIT's offset and count (`0, -1` without it).
    limit: (i64, i64),
    store: Option<Bytes>,
    by: Option<Bytes>,
    /// Whether BY names no key (its pattern has no `*`): nothing is sorted.
    dont_sort: bool,
    gets: Vec<Bytes>,
}

/// The options from argument 2 on. Later ones win (the last STORE, BY, LIMIT); an option
/// without enough arguments left, or STORE in SORT_RO, is a syntax error; LIMIT's numbers
/// must be integers. A BY pattern with a `*` and any GET need `may_read_any_key` (the user's
/// ACL lets it read every key: the keys they name are found only as the sort runs).
fn parse(argv: &[Bytes], readonly: bool, may_read_any_key: bool) -> Result<Options, Frame> {
    let mut options = Options {
        desc: false,
        alpha: false,
        limit: (0, -1),
        store: None,
        by: None,
        dont_sort: false,
        gets: Vec::new(),
    };
    let mut j = 2;
    while let Some(arg) = argv.get(j) {
        let left = argv.len() - j - 1;
        let next = |n: usize| argv.get(j + n).cloned().unwrap_or_default();
        if is_keyword(arg, "ASC") {
            options.desc = false;
        } else if is_keyword(arg, "DESC") {
            options.desc = true;
        } else if is_keyword(arg, "ALPHA") {
            options.alpha = true;
        } else if is_keyword(arg, "LIMIT") && left >= 2 {
            let offset = parse_i64(&next(1)).ok_or_else(not_integer)?;
            let count = parse_i64(&next(2)).ok_or_else(not_integer)?;
            options.limit = (offset, count);
            j += 2;
        } else if !readonly && is_keyword(arg, "STORE") && left >= 1 {
            options.store = Some(next(1));
            j += 1;
        } else if is_keyword(arg, "BY") && left >= 1 {
            let pattern = next(1);
            // Redis looks for the `*` with `strchr`: the pattern ends at a NUL byte.
            options.dont_sort = star(&pattern).is_none();
            if !options.dont_sort && !may_read_any_key {
                return Err(Frame::error(
                    "ERR BY option of SORT denied due to insufficient ACL permissions.",
                ));
            }
            options.by = Some(pattern);
            j += 1;
        } else if is_keyword(arg, "GET") && left >= 1 {
            if !may_read_any_key {
                return Err(Frame::error(
                    "ERR GET option of SORT denied due to insufficient ACL permissions.",
                ));
            }
            options.gets.push(next(1));
            j += 1;
        } else {
            return Err(syntax_error());
        }
        j += 1;
    }
    Ok(options)
}

/// Whether this SORT (or SORT_RO: `readonly`) must run with the server's gate held
/// exclusively: when it STOREs, or a BY or GET pattern names keys (has a `*`, and is not `#`).
/// A request that does not parse reads nothing.
pub(crate) fn needs_exclusive(argv: &[Bytes], readonly: bool) -> bool {
    parse(argv, readonly, true).is_ok_and(|options| {
        options.store.is_some()
            || !options.dont_sort && options.by.is_some()
            || options.gets.iter().any(|pattern| names_keys(pattern))
    })
}

/// Whether a pattern is `#`: the element itself (as C compares it, up to a NUL byte).
fn is_element(pattern: &[u8]) -> bool {
    c_str(pattern) == b"#"
}

/// Whether a pattern reads keys.
fn names_keys(pattern: &[u8]) -> bool {
    matches!(Pattern::parse(pattern), Pattern::Key { .. })
}

/// `s` as C reads it: up to its first NUL byte.
fn c_str(s: &[u8]) -> &[u8] {
    s.split(|&b| b == 0).next().unwrap_or_default()
}

/// Where a pattern's first `*` is, in its C string.
fn star(pattern: &[u8]) -> Option<usize> {
    c_str(pattern).iter().position(|&b| b == b'*')
}

/// The collection being sorted, as Redis loads it.
enum Source {
    List,
    Set,
    ZSet,
}

/// One element of the sorting vector: the element, and what it sorts by.
struct Item {
    element: Bytes,
    score: f64,
    /// ALPHA with BY: the value the pattern found (`None`: no such key or field).
    by_value: Option<Bytes>,
}

impl Item {
    fn new(element: Bytes) -> Item {
        Item {
            element,
            score: 0.0,
            by_value: None,
        }
    }
}

/// How two elements compare, as Redis's `sortCompare` with the flags of this SORT.
#[derive(Clone, Copy)]
struct Order {
    desc: bool,
    alpha: bool,
    by: bool,
    store: bool,
}

impl Order {
    fn compare(self, a: &Item, b: &Item) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        let ordering = if !self.alpha {
            match a.score.partial_cmp(&b.score) {
                Some(Ordering::Equal) | None => a.element.cmp(&b.element),
                Some(other) => other,
            }
        } else if self.by {
            match (&a.by_value, &b.by_value) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => self.strings(x, y),
            }
        } else {
            self.strings(&a.element, &b.element)
        };
        if self.desc {
            ordering.reverse()
        } else {
            ordering
        }
    }

    /// Two strings compared ALPHA: whole bytes with STORE (`compareStringObjects`),
    /// otherwise `strcoll`, which is `strcmp` in the C locales.
    fn strings(self, a: &[u8], b: &[u8]) -> std::cmp::Ordering {
        if self.store {
            a.cmp(b)
        } else {
            c_str(a).cmp(c_str(b))
        }
    }
}

/// The score of a sort value as Redis reads it: `strtod` over its C string, which must be
/// read whole (an empty string is 0); NaN and what glibc's `strtod` flags ERANGE (overflow,
/// underflow to zero, and a subnormal result) are `None`: `One or more scores can't be
/// converted into double`.
fn score(value: &[u8]) -> Option<f64> {
    let text = c_str(value);
    if text.is_empty() {
        return Some(0.0);
    }
    let (value, erange) = crate::zset::strtod_whole(text)?;
    let subnormal = value != 0.0 && value.abs() < f64::MIN_POSITIVE;
    (!value.is_nan() && !erange && !subnormal).then_some(value)
}

/// A BY or GET pattern, read once for all the elements (Redis's `lookupKeyByPattern` reads it
/// again for each): `#` is the element; the first `*` is replaced by the element to make a key
/// (a pattern without one names nothing), holding a string, or with `key->field` a hash whose
/// field is read.
enum Pattern<'a> {
    Element,
    Nothing,
    Key {
        prefix: &'a [u8],
        suffix: &'a [u8],
        field: Option<&'a [u8]>,
    },
}

impl<'a> Pattern<'a> {
    fn parse(pattern: &'a [u8]) -> Pattern<'a> {
        if is_element(pattern) {
            return Pattern::Element;
        }
        let Some(at) = star(pattern) else {
            return Pattern::Nothing;
        };
        // The field starts after the first `->` behind the `*` (in the C string), if anything
        // follows it; it runs to the pattern's end.
        let after_star = c_str(pattern).get(at + 1..).unwrap_or_default();
        let field_start = after_star
            .windows(2)
            .position(|w| w == b"->")
            .map(|i| at + 1 + i + 2)
            .filter(|&start| pattern.get(start).is_some_and(|&b| b != 0));
        let key_end = field_start.map_or(pattern.len(), |start| start - 2);
        Pattern::Key {
            prefix: pattern.get(..at).unwrap_or_default(),
            suffix: pattern.get(at + 1..key_end).unwrap_or_default(),
            field: field_start.and_then(|start| pattern.get(start..)),
        }
    }

    /// What the pattern names for `element` (anything but a string, or a hash's field, is
    /// `None`); `key` is room to spell the key in, reused from element to element.
    fn lookup(&self, ctx: &Ctx<'_>, element: &Bytes, key: &mut Vec<u8>) -> Option<Bytes> {
        let (prefix, suffix, field) = match self {
            Pattern::Element => return Some(element.clone()),
            Pattern::Nothing => return None,
            Pattern::Key {
                prefix,
                suffix,
                field,
            } => (prefix, suffix, field),
        };
        key.clear();
        key.extend_from_slice(prefix);
        key.extend_from_slice(element);
        key.extend_from_slice(suffix);
        let mut shard = ctx.db.shard(key);
        let entry = shard.get(key, ctx.now)?;
        match (field, &entry.value) {
            (None, Value::Str(s)) => Some(s.clone()),
            (Some(field), Value::Hash(h)) => h.get(*field).cloned(),
            _ => None,
        }
    }
}

/// Redis's LIMIT arithmetic: the positions `start..=end` of the sorted vector of `len`
/// elements to output, clamped to it (`end < start` when nothing is).
fn limit_range(offset: i64, count: i64, len: i64) -> (i64, i64) {
    let start = offset.max(0).min(len);
    let count = count.max(-1).min(len);
    let mut end = if count < 0 {
        len - 1
    } else {
        start + count - 1
    };
    let start = if start >= len {
        end = len - 2;
        len - 1
    } else {
        start
    };
    (start, end.min(len - 1))
}

fn sort_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], readonly: bool) -> Frame {
    // Redis's `ACLUserCheckCmdWithUnrestrictedKeyAccess(..., CMD_KEY_ACCESS)`.
    let may_read_any_key = super::dispatch::lookup(argv.first().map_or(&[][..], |n| &n[..]))
        .is_some_and(|c| crate::acl::may_read_any_key(&ctx.state.user, &c.spec, argv));
    let mut options = match parse(argv, readonly, may_read_any_key) {
        Ok(options) => options,
        Err(error) => return error,
    };
    let key = argv.get(1).cloned().unwrap_or_default();
    let now = ctx.now;

    // The elements, as Redis loads them (a missing key is an empty list).
    let mut shard = ctx.db.shard(&key);
    let kind = match shard.get(&key, now).map(|e| &e.value) {
        None | Some(Value::List(_)) => Source::List,
        Some(Value::Set(_)) => Source::Set,
        Some(Value::ZSet(_)) => Source::ZSet,
        Some(_) => return wrong_type(),
    };
    // A set sorted with nothing to sort by is sorted ALPHA when stored or called from a
    // script, for a result replicas and script replays see the same.
    if options.dont_sort
        && matches!(kind, Source::Set)
        && (options.store.is_some() || ctx.state.in_script)
    {
        options.dont_sort = false;
        options.alpha = true;
        options.by = None;
    }
    let entry = shard.get_mut(&key, now);
    // Redis converts a sorted set to a skip list to sort it, even for SORT_RO.
    let len = match entry.as_ref().map(|e| &e.value) {
        Some(Value::List(l)) => l.len(),
        Some(Value::Set(s)) => s.len(),
        Some(Value::ZSet(z)) => z.len(),
        _ => 0,
    };
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let (mut start, mut end) = limit_range(options.limit.0, options.limit.1, len);
    let direct = options.dont_sort && matches!(kind, Source::List | Source::ZSet);
    // Lists and sorted sets with nothing to sort: only LIMIT's range is loaded, in their own
    // order (reversed by DESC), and output whole.
    let skip = usize::try_from(start).unwrap_or(0);
    let take = usize::try_from(end - start + 1).unwrap_or(0);
    let mut items: Vec<Item> = Vec::new();
    match entry.map(|e| &mut e.value) {
        Some(Value::List(list)) if direct && options.desc => {
            items.extend(
                list.iter()
                    .rev()
                    .skip(skip)
                    .take(take)
                    .cloned()
                    .map(Item::new),
            );
        }
        Some(Value::List(list)) if direct => {
            items.extend(list.iter().skip(skip).take(take).cloned().map(Item::new));
        }
        Some(Value::List(list)) => items.extend(list.iter().cloned().map(Item::new)),
        Some(Value::Set(set)) => items.extend(walk_order(set).cloned().map(Item::new)),
        Some(Value::ZSet(zset)) => {
            zset.set_listpack(false);
            let member = |(m, _): (&Bytes, f64)| Item::new(m.clone());
            if !direct {
                items.extend(zset.iter_unordered().map(member));
            } else if take == 0 {
            } else if options.desc {
                let from = zset.len().saturating_sub(skip.saturating_add(1));
                items.extend(zset.iter_down_from(from).take(take).map(member));
            } else {
                items.extend(zset.iter_from(skip).take(take).map(member));
            }
        }
        _ => {}
    }
    if direct && end >= start {
        end -= start;
        start = 0;
    }
    drop(shard);

    let by = options.by.as_deref().map(Pattern::parse);
    let gets: Vec<Pattern<'_>> = options.gets.iter().map(|g| Pattern::parse(g)).collect();
    let mut key = Vec::new();
    if !options.dont_sort {
        let mut unconvertible = false;
        for item in &mut items {
            let value = match &by {
                Some(pattern) => match pattern.lookup(ctx, &item.element, &mut key) {
                    Some(value) => value,
                    None => continue,
                },
                None => item.element.clone(),
            };
            if options.alpha {
                if options.by.is_some() {
                    item.by_value = Some(value);
                }
            } else {
                match score(&value) {
                    Some(score) => item.score = score,
                    None => unconvertible = true,
                }
            }
        }
        if unconvertible {
            return Frame::error("ERR One or more scores can't be converted into double");
        }
        let order = Order {
            desc: options.desc,
            alpha: options.alpha,
            by: options.by.is_some(),
            store: options.store.is_some(),
        };
        let last = i64::try_from(items.len()).unwrap_or(i64::MAX) - 1;
        if options.by.is_some() && (start != 0 || end != last) {
            let (lo, hi) = (
                usize::try_from(start).unwrap_or(0),
                usize::try_from(end).unwrap_or(0),
            );
            partial_sort(&mut items, lo, hi, &|a, b| order.compare(a, b));
        } else {
            items.sort_by(|a, b| order.compare(a, b));
        }
    }

    let selected: &[Item] = match (usize::try_from(start), usize::try_from(end)) {
        (Ok(s), Ok(e)) if e >= s => items.get(s..=e).unwrap_or_default(),
        _ => &[],
    };
    match options.store {
        None => {
            let mut out = Vec::with_capacity(
                selected
                    .len()
                    .saturating_mul(gets.len().max(1))
                    .min(1 << 16),
            );
            for item in selected {
                if gets.is_empty() {
                    out.push(Frame::Bulk(item.element.clone()));
                }
                for pattern in &gets {
                    out.push(
                        pattern
                            .lookup(ctx, &item.element, &mut key)
                            .map_or(Frame::Null, Frame::Bulk),
                    );
                }
            }
            Frame::Array(out)
        }
        Some(destination) => {
            let mut list = std::collections::VecDeque::new();
            for item in selected {
                if gets.is_empty() {
                    list.push_back(item.element.clone());
                }
                for pattern in &gets {
                    list.push_back(
                        pattern
                            .lookup(ctx, &item.element, &mut key)
                            .unwrap_or_default(),
                    );
                }
            }
            store(ctx, &destination, list)
        }
    }
}

/// STORE: the result as a list at `destination` (replacing whatever was there, its TTL too),
/// or the destination deleted when the result is empty; the result's length.
fn store(ctx: &mut Ctx<'_>, destination: &Bytes, list: std::collections::VecDeque<Bytes>) -> Frame {
    let len = i64::try_from(list.len()).unwrap_or(i64::MAX);
    let now = ctx.now;
    let db = ctx.state.db_index;
    if list.is_empty() {
        let deleted = ctx.db.shard(destination).remove(destination, now).is_some();
        if deleted {
            signal_modified(ctx, db, destination);
            notify(ctx, crate::notify::GENERIC, "del", destination);
        }
    } else {
        let replaced = ctx.db.shard(destination).insert(
            destination.clone(),
            Entry::new(Value::List(list)),
            now,
        );
        signal_modified(ctx, db, destination);
        notify(ctx, crate::notify::LIST, "sortstore", destination);
        if replaced.is_none() {
            // A new list: clients blocked on it may be served (Redis's `dbAdd`).
            signal_created(ctx, destination);
        }
    }
    Frame::Integer(len)
}

/// Redis's `pqsort` (Bentley and McIlroy's quicksort, as in NetBSD's `qsort`, that skips the
/// parts wholly outside positions `lo..=hi`): after it, those positions hold what a full sort
/// would put there, and equal elements are where Redis leaves them. The parts still to sort
/// are kept on a heap stack, not the call stack: a crafted input that makes the quicksort
/// quadratic costs time, never a stack overflow, and the stack stays O(log n) long (the
/// smaller part is taken first). Disjoint parts are independent, so the order they are
/// taken in changes nothing.
pub(crate) fn partial_sort<T>(
    v: &mut [T],
    lo: usize,
    hi: usize,
    cmp: &dyn Fn(&T, &T) -> std::cmp::Ordering,
) {
    let mut pending = vec![(0usize, v.len())];
    while let Some((base, n)) = pending.pop() {
        partition(v, base, n, lo, hi, cmp, &mut pending);
    }
}

/// One step of [`partial_sort`] on `v[base..base + n]`: an insertion sort when it is short,
/// otherwise a three-way partition around a median, pushing the parts that touch `lo..=hi`.
fn partition<T>(
    v: &mut [T],
    base: usize,
    n: usize,
    lo: usize,
    hi: usize,
    cmp: &dyn Fn(&T, &T) -> std::cmp::Ordering,
    pending: &mut Vec<(usize, usize)>,
) {
    let order = |v: &[T], a: usize, b: usize| match (v.get(a), v.get(b)) {
        (Some(x), Some(y)) => cmp(x, y),
        _ => std::cmp::Ordering::Equal,
    };
    let swap = |v: &mut [T], a: usize, b: usize| {
        if a < v.len() && b < v.len() {
            v.swap(a, b);
        }
    };
    if n < 7 {
        for m in base + 1..base + n {
            let mut l = m;
            while l > base && order(v, l - 1, l).is_gt() {
                swap(v, l, l - 1);
                l -= 1;
            }
        }
        return;
    }
    let med3 = |v: &[T], a: usize, b: usize, c: usize| {
        if order(v, a, b).is_lt() {
            if order(v, b, c).is_lt() {
                b
            } else if order(v, a, c).is_lt() {
                c
            } else {
                a
            }
        } else if order(v, b, c).is_gt() {
            b
        } else if order(v, a, c).is_lt() {
            a
        } else {
            c
        }
    };
    let mut pm = base + n / 2;
    if n > 7 {
        let mut pl = base;
        let mut pn = base + n - 1;
        if n > 40 {
            let d = n / 8;
            pl = med3(v, pl, pl + d, pl + 2 * d);
            pm = med3(v, pm - d, pm, pm + d);
            pn = med3(v, pn - 2 * d, pn - d, pn);
        }
        pm = med3(v, pl, pm, pn);
    }
    swap(v, base, pm);
    let (mut pa, mut pb) = (base + 1, base + 1);
    let (mut pc, mut pd) = (base + n - 1, base + n - 1);
    loop {
        while pb <= pc {
            let c = order(v, pb, base);
            if c.is_gt() {
                break;
            }
            if c.is_eq() {
                swap(v, pa, pb);
                pa += 1;
            }
            pb += 1;
        }
        while pb <= pc {
            let c = order(v, pc, base);
            if c.is_lt() {
                break;
            }
            if c.is_eq() {
                swap(v, pc, pd);
                pd -= 1;
            }
            pc -= 1;
        }
        if pb > pc {
            break;
        }
        swap(v, pb, pc);
        pb += 1;
        pc -= 1;
    }
    let end = base + n;
    let r = (pa - base).min(pb - pa);
    for i in 0..r {
        swap(v, base + i, pb - r + i);
    }
    let r = (pd - pc).min(end - pd - 1);
    for i in 0..r {
        swap(v, pb + i, end - r + i);
    }
    // The elements below the pivot and those above it, each sorted further only if it
    // overlaps `lo..=hi`. The larger is pushed first, so the smaller is taken next: the
    // stack then holds O(log n) parts whatever the input, as a recursion on the smaller
    // part would.
    let overlaps = |from: usize, len: usize| {
        !((lo < from && hi < from) || (lo >= from + len && hi >= from + len))
    };
    let left = (base, pb - pa);
    let right = (end - (pd - pc), pd - pc);
    let (larger, smaller) = if left.1 >= right.1 {
        (left, right)
    } else {
        (right, left)
    };
    for (from, len) in [larger, smaller] {
        if len > 1 && overlaps(from, len) {
            pending.push((from, len));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator for the tests.
    fn numbers(seed: u64, n: usize, modulo: u64) -> Vec<u64> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 33) % modulo
            })
            .collect()
    }

    #[test]
    fn partial_sort_puts_the_selected_positions_where_a_full_sort_does() {
        for seed in 0..200 {
            let n = (seed as usize * 7) % 300;
            let v = numbers(seed, n, 50);
            let mut sorted = v.clone();
            sorted.sort();
            for (lo, hi) in [(0, 0), (3, 9), (n / 2, n), (n.saturating_sub(1), n + 5)] {
                let mut got = v.clone();
                partial_sort(&mut got, lo, hi, &|a, b| a.cmp(b));
                let want = sorted.get(lo.min(n)..(hi + 1).min(n)).unwrap_or_default();
                assert_eq!(
                    got.get(lo.min(n)..(hi + 1).min(n)).unwrap_or_default(),
                    want
                );
                let mut all = got.clone();
                all.sort();
                assert_eq!(all, sorted, "a permutation");
            }
        }
    }

    #[test]
    fn patterns_are_read_as_lookup_key_by_pattern_reads_them() {
        let key = |p: &'static [u8]| match Pattern::parse(p) {
            Pattern::Element => Some((&b"#"[..], &b""[..], None)),
            Pattern::Nothing => None,
            Pattern::Key {
                prefix,
                suffix,
                field,
            } => Some((prefix, suffix, field)),
        };
        assert_eq!(key(b"#"), Some((&b"#"[..], &b""[..], None)));
        assert_eq!(key(b"#\0x"), Some((&b"#"[..], &b""[..], None)));
        assert_eq!(key(b"nosort"), None);
        assert_eq!(key(b"a\0*"), None);
        assert_eq!(key(b"w_*"), Some((&b"w_"[..], &b""[..], None)));
        assert_eq!(
            key(b"h_*x->f"),
            Some((&b"h_"[..], &b"x"[..], Some(&b"f"[..])))
        );
        assert_eq!(key(b"h_*->"), Some((&b"h_"[..], &b"->"[..], None)));
        assert_eq!(
            key(b"a*b->c*->e"),
            Some((&b"a"[..], &b"b"[..], Some(&b"c*->e"[..])))
        );
        assert_eq!(key(b"a*\0->f"), Some((&b"a"[..], &b"\0->f"[..], None)));
        assert_eq!(key(b"a*->\0f"), Some((&b"a"[..], &b"->\0f"[..], None)));
        assert!(!names_keys(b"#") && !names_keys(b"k") && names_keys(b"k*"));
    }

    #[test]
    fn only_a_sort_that_reads_other_keys_or_stores_is_exclusive() {
        let args = |s: &str| -> Vec<Bytes> {
            s.split(' ')
                .map(|a| Bytes::copy_from_slice(a.as_bytes()))
                .collect()
        };
        for (command, readonly, exclusive) in [
            ("SORT k", false, false),
            ("SORT k LIMIT 0 5 DESC ALPHA", false, false),
            ("SORT k BY nosort GET # GET plain", false, false),
            ("SORT k BY w_*", false, true),
            ("SORT k BY w_* BY nosort", false, false),
            ("SORT k GET # GET h_*->f", false, true),
            ("SORT k STORE d", false, true),
            ("SORT_RO k GET w_*", true, true),
            ("SORT_RO k STORE d", true, false),
            ("SORT k BY", false, false),
        ] {
            assert_eq!(
                needs_exclusive(&args(command), readonly),
                exclusive,
                "{command}"
            );
        }
    }

    #[test]
    fn limit_follows_redis_arithmetic() {
        assert_eq!(limit_range(0, -1, 5), (0, 4));
        assert_eq!(limit_range(1, 2, 5), (1, 2));
        assert_eq!(limit_range(10, 2, 5), (4, 3));
        assert_eq!(limit_range(-5, 2, 5), (0, 1));
        assert_eq!(limit_range(0, 0, 5), (0, -1));
        assert_eq!(limit_range(0, -1, 0), (-1, -2));
        assert_eq!(limit_range(i64::MAX, i64::MAX, 5), (4, 3));
        assert_eq!(limit_range(i64::MIN, i64::MAX, 5), (0, 4));
    }

    #[test]
    fn scores_are_read_as_strtod_over_the_c_string() {
        assert_eq!(score(b""), Some(0.0));
        assert_eq!(score(b"1.5"), Some(1.5));
        assert_eq!(score(b" 2"), Some(2.0));
        assert_eq!(score(b"3\0junk"), Some(3.0));
        assert_eq!(score(b"-inf"), Some(f64::NEG_INFINITY));
        for bad in [
            &b"2 "[..],
            b"abc",
            b"nan",
            b"1e400",
            b"1e-400",
            b"1e-310",
            b" ",
        ] {
            assert_eq!(score(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn options_are_parsed_as_redis_parses_them() {
        let args = |s: &str| -> Vec<Bytes> {
            s.split(' ')
                .map(|a| Bytes::copy_from_slice(a.as_bytes()))
                .collect()
        };
        assert!(parse(&args("SORT k STORE d"), true, true).is_err());
        assert!(parse(&args("SORT k LIMIT 1"), false, true).is_err());
        assert_eq!(
            parse(&args("SORT k LIMIT a 1"), false, true).err(),
            Some(not_integer())
        );
        let o = parse(
            &args("SORT k by w_* BY nosort get # desc alpha"),
            false,
            true,
        );
        assert!(o
            .as_ref()
            .is_ok_and(|o| o.dont_sort && o.desc && o.alpha && o.gets.len() == 1));
    }
}
