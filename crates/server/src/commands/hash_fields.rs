//! Hash commands on single fields and sampling: HINCRBYFLOAT, HSTRLEN, HRANDFIELD, HSCAN.

use bytes::Bytes;
use indexmap::IndexMap;

use super::args::{arg, integer, is_keyword};
use super::collection::{read, reply, update};
use super::context::Ctx;
use super::long_double::LongDouble;
use super::propagate::word;
use super::registry::{
    BeginSearch, Categories, Category, Command, Docs, FindKeys, Flag, Flags, KeyFlag, KeyFlags,
    KeyRange, KeySpec, Spec,
};
use super::reply::syntax_error;
use super::zsets::pop::{distinct_positions, random_below, MAX_RANDOM_REPLY_MEMBERS};
use super::zsets::scan::{cursor, parse_options, position};
use crate::glob::glob_match;
use respect_resp::Frame;

type Hash = IndexMap<Bytes, Bytes>;

/// This family's commands.
pub const COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "hincrbyfloat",
            arity: 4,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Hash, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Increment the float value of a hash field by the given amount",
                since: "2.6.0",
                group: "hash",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: hincrbyfloat,
    },
    Command {
        spec: Spec {
            name: "hstrlen",
            arity: 3,
            flags: Flags::of(&[Flag::Readonly, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Hash, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Get the length of the value of a hash field",
                since: "3.2.0",
                group: "hash",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: hstrlen,
    },
    Command {
        spec: Spec {
            name: "hrandfield",
            arity: -2,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Hash, Category::Slow]),
            tips: &["nondeterministic_output"],
            docs: Docs {
                summary: "Get one or multiple random fields from a hash",
                since: "6.2.0",
                group: "hash",
                complexity: "O(N) where N is the number of fields returned",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: hrandfield,
    },
    Command {
        spec: Spec {
            name: "hscan",
            arity: -3,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Hash, Category::Slow]),
            tips: &["nondeterministic_output"],
            docs: Docs {
                summary: "Incrementally iterate hash fields and associated values",
                since: "2.8.0",
                group: "hash",
                complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: hscan,
    },
];

/// `HINCRBYFLOAT key field increment`: adds in 80-bit long double and stores the sum as
/// Redis formats it (see [`super::long_double`]).
fn hincrbyfloat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (key, field) = (arg(argv, 1), arg(argv, 2));
    // Redis's order: the increment, then the key's type, then the field's value.
    let Some(increment) = LongDouble::parse(&arg(argv, 3)) else {
        return Frame::error("ERR value is not a valid float");
    };
    if !increment.is_finite() {
        return Frame::error("ERR value is NaN or Infinity");
    }
    let out = reply(update::<Hash, _>(ctx, &key, |hash| {
        let current = match hash.get(&field) {
            None => LongDouble::ZERO,
            Some(value) => match LongDouble::parse(value) {
                Some(current) => current,
                None => return Frame::error("ERR hash value is not a float"),
            },
        };
        let sum = current.add(increment);
        if !sum.is_finite() {
            return Frame::error("ERR increment would produce NaN or Infinity");
        }
        let text = Bytes::from(sum.to_human());
        hash.insert(field.clone(), text.clone());
        Frame::Bulk(text)
    }));
    if let Frame::Bulk(value) = &out {
        // The new value, not the increment: a replica's float arithmetic must not matter.
        ctx.propagate_as(|| {
            vec![vec![
                word("HSET"),
                key.clone(),
                field.clone(),
                value.clone(),
            ]]
        });
        super::events::notify(ctx, crate::notify::HASH, "hincrbyfloat", &key);
    }
    out
}

/// `HSTRLEN key field`: the length of the field's value, 0 when there is none.
fn hstrlen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let field = arg(argv, 2);
    reply(read::<Hash, _>(ctx, &arg(argv, 1), |hash| {
        Frame::Integer(
            hash.and_then(|h| h.get(&field))
                .map_or(0, |v| v.len() as i64),
        )
    }))
}

/// `HRANDFIELD key [count [WITHVALUES]]`: with a positive count, distinct fields; with a
/// negative one, `-count` fields that may repeat. With values, RESP3 answers pairs, RESP2 a
/// flat list. Redis streams a repeating reply of any length; we build replies whole, so past
/// [`MAX_RANDOM_REPLY_MEMBERS`] picks the count is refused as ZRANDMEMBER's is.
fn hrandfield(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let key = arg(argv, 1);
    if argv.len() < 3 {
        return reply(read::<Hash, _>(ctx, &key, |hash| {
            match hash.filter(|h| !h.is_empty()) {
                Some(h) => h
                    .get_index(random_below(h.len()))
                    .map_or(Frame::Null, |(f, _)| Frame::Bulk(f.clone())),
                None => Frame::Null,
            }
        }));
    }
    let count = match integer(&arg(argv, 2)) {
        Ok(i64::MIN) => {
            return Frame::error(
                "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            )
        }
        Ok(count) => count,
        Err(error) => return error,
    };
    let with_values = match argv.get(3) {
        None => false,
        Some(word) if argv.len() == 4 && is_keyword(word, "WITHVALUES") => true,
        Some(_) => return syntax_error(),
    };
    if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Frame::error("ERR value is out of range");
    }
    let resp3 = ctx.resp3();
    reply(read::<Hash, _>(ctx, &key, |hash| {
        let Some(hash) = hash.filter(|h| !h.is_empty()) else {
            return Frame::Array(Vec::new());
        };
        let picks: Vec<usize> = if count < 0 {
            if count.unsigned_abs() > MAX_RANDOM_REPLY_MEMBERS {
                return Frame::error("ERR value is out of range");
            }
            (0..count.unsigned_abs())
                .map(|_| random_below(hash.len()))
                .collect()
        } else if count as u64 >= hash.len() as u64 {
            (0..hash.len()).collect()
        } else {
            distinct_positions(hash.len(), count as usize)
        };
        let entry = |i: usize| hash.get_index(i);
        let mut out = Vec::with_capacity(picks.len() * if with_values && !resp3 { 2 } else { 1 });
        for (field, value) in picks.into_iter().filter_map(entry) {
            match (with_values, resp3) {
                (false, _) => out.push(Frame::Bulk(field.clone())),
                (true, true) => out.push(Frame::Array(vec![
                    Frame::Bulk(field.clone()),
                    Frame::Bulk(value.clone()),
                ])),
                (true, false) => {
                    out.push(Frame::Bulk(field.clone()));
                    out.push(Frame::Bulk(value.clone()));
                }
            }
        }
        Frame::Array(out)
    }))
}

/// The most entries, and the longest field or value, of a hash Redis keeps as a listpack
/// (`hash-max-listpack-entries`, `hash-max-listpack-value`; these are their defaults, used
/// when the setting cannot be read): such a hash is returned whole by one HSCAN call, in
/// insertion order, with cursor 0.
const LISTPACK_MAX_ENTRIES: usize = 512;
const LISTPACK_MAX_VALUE: usize = 64;

/// The listpack limits as CONFIG SET left them.
fn listpack_limits(ctx: &Ctx<'_>) -> (usize, usize) {
    let setting = |name: &str, default: usize| {
        ctx.server
            .settings
            .get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    (
        setting("hash-max-listpack-entries", LISTPACK_MAX_ENTRIES),
        setting("hash-max-listpack-value", LISTPACK_MAX_VALUE),
    )
}

/// `HSCAN key cursor [MATCH pattern] [COUNT count]`.
fn hscan(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let Some(cursor) = cursor(&arg(argv, 2)) else {
        return Frame::error("ERR invalid cursor");
    };
    let options = argv.get(3..).unwrap_or_default().to_vec();
    let limits = listpack_limits(ctx);
    let result = read::<Hash, _>(ctx, &arg(argv, 1), |hash| {
        let Some(hash) = hash else {
            return Ok((0, Vec::new()));
        };
        let (pattern, count) = parse_options(&options)?;
        Ok(scan(hash, limits, cursor, pattern.as_ref(), count))
    });
    match result {
        Ok(Ok((next, items))) => Frame::Array(vec![
            Frame::Bulk(Bytes::from(next.to_string())),
            Frame::Array(items),
        ]),
        Ok(Err(error)) | Err(error) => error,
    }
}

/// One HSCAN page: a listpack-sized hash whole; a larger one walked in field-hash order, the
/// cursor being the next hash position to visit (as ZSCAN walks a skip list's members).
fn scan(
    hash: &Hash,
    (max_entries, max_value): (usize, usize),
    cursor: u64,
    pattern: Option<&Bytes>,
    count: usize,
) -> (u64, Vec<Frame>) {
    let keep = |f: &Bytes| pattern.is_none_or(|p| glob_match(p, f));
    let mut out = Vec::new();
    let small = hash.len() <= max_entries
        && hash
            .iter()
            .all(|(f, v)| f.len() <= max_value && v.len() <= max_value);
    if small {
        for (field, value) in hash.iter().filter(|(f, _)| keep(f)) {
            out.push(Frame::Bulk(field.clone()));
            out.push(Frame::Bulk(value.clone()));
        }
        return (0, out);
    }
    let mut ahead: Vec<(u64, &Bytes, &Bytes)> = hash
        .iter()
        .map(|(f, v)| (position(f), f, v))
        .filter(|(p, _, _)| *p >= cursor)
        .collect();
    let mut next = 0;
    if let Some(last_at) = count.checked_sub(1).filter(|at| at + 1 < ahead.len()) {
        let last = ahead
            .select_nth_unstable_by_key(last_at, |(p, _, _)| *p)
            .1
             .0;
        next = ahead
            .iter()
            .map(|(p, _, _)| *p)
            .filter(|p| *p > last)
            .min()
            .unwrap_or(0);
        ahead.retain(|(p, _, _)| *p <= last);
    }
    ahead.sort_unstable_by_key(|(p, _, _)| *p);
    for (_, field, value) in ahead {
        if keep(field) {
            out.push(Frame::Bulk(field.clone()));
            out.push(Frame::Bulk(value.clone()));
        }
    }
    (next, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_hash_is_scanned_whole_across_calls() {
        let hash: Hash = (0..1000)
            .map(|i| (Bytes::from(format!("f{i}")), Bytes::from_static(b"v")))
            .collect();
        let (mut cursor, mut seen) = (0, std::collections::HashSet::new());
        loop {
            let (next, items) = scan(&hash, (128, 64), cursor, None, 10);
            for pair in items.chunks(2) {
                if let Some(Frame::Bulk(f)) = pair.first() {
                    seen.insert(f.clone());
                }
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
        assert_eq!(seen.len(), 1000);
    }
}
