//! String commands that address part of a value or its expiry: GETEX, GETRANGE and SUBSTR,
//! SETRANGE, and LCS (longest common subsequence of two strings).

use bytes::Bytes;

use super::args::{arg, integer, is_keyword};
use super::context::Ctx;
use super::propagate::{number, word};
use super::registry::{
    BeginSearch, Categories, Category, Command, Deprecation, Docs, FindKeys, Flag, Flags, KeyFlag,
    KeyFlags, KeyRange, KeySpec, Spec,
};
use super::reply::{syntax_error, wrong_type};
use super::string_edit::{self, changed};
use super::strings::{expire_at, expiry_unit};
use crate::db::{Entry, Value};
use respect_resp::Frame;

/// This family's commands.
pub const COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "getex",
            arity: -2,
            flags: Flags::of(&[Flag::Write, Flag::Fast]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: Some("RW and UPDATE because it changes the TTL"), flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::String, Category::Fast]),
            tips: &[],
            docs: Docs {
                summary: "Get the value of a key and optionally set its expiration",
                since: "6.2.0",
                group: "string",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: getex,
    },
    Command {
        spec: Spec {
            name: "getrange",
            arity: 4,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::String, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Get a substring of the string stored at a key",
                since: "2.4.0",
                group: "string",
                complexity: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: getrange,
    },
    Command {
        spec: Spec {
            name: "substr",
            arity: 4,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::String, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Get a substring of the string stored at a key",
                since: "1.0.0",
                group: "string",
                complexity: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.",
                deprecated: Some(Deprecation { since: "2.0.0", replaced_by: "`GETRANGE`" }),
                history: &[],
            },
            subcommands: &[],
        },
        run: substr,
    },
    Command {
        spec: Spec {
            name: "setrange",
            arity: 4,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::String, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Overwrite part of a string at key starting at the specified offset",
                since: "2.2.0",
                group: "string",
                complexity: "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: setrange,
    },
    Command {
        spec: Spec {
            name: "lcs",
            arity: -3,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 2, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 1, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::String, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Find longest common substring",
                since: "7.0.0",
                group: "string",
                complexity: "O(N*M) where N and M are the lengths of s1 and s2, respectively",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: lcs,
    },
];

/// GETEX's option: a new expiry (with its unit and whether it is absolute), or PERSIST.
#[derive(Debug, Clone, PartialEq, Eq)]
enum GetexOption {
    Keep,
    Persist,
    Expire {
        value: Bytes,
        /// Milliseconds per unit: 1000 for EX and EXAT, 1 for PX and PXAT.
        unit: i64,
        absolute: bool,
    },
}

/// Parses `[EX s | PX ms | EXAT s | PXAT ms | PERSIST]` as Redis's
/// `parseExtendedStringArgumentsOrReply` does: the same option may repeat (the last value
/// wins), two different ones are a syntax error, and so is an option without its value.
fn parse_getex(args: &[Bytes]) -> Result<GetexOption, Frame> {
    let mut option = GetexOption::Keep;
    let mut at = 0;
    while let Some(word) = args.get(at) {
        let next = args.get(at + 1);
        if is_keyword(word, "PERSIST") && matches!(option, GetexOption::Keep | GetexOption::Persist)
        {
            option = GetexOption::Persist;
            at += 1;
            continue;
        }
        let Some((unit, absolute)) = expiry_unit(word) else {
            return Err(syntax_error());
        };
        let compatible = match &option {
            GetexOption::Keep => true,
            GetexOption::Persist => false,
            GetexOption::Expire {
                unit: u,
                absolute: a,
                ..
            } => *u == unit && *a == absolute,
        };
        let Some(value) = next.filter(|_| compatible) else {
            return Err(syntax_error());
        };
        option = GetexOption::Expire {
            value: value.clone(),
            unit,
            absolute,
        };
        at += 2;
    }
    Ok(option)
}

/// `GETEX key [EX s | PX ms | EXAT s | PXAT ms | PERSIST]`: the value, and its expiry changed.
fn getex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let key = arg(argv, 1);
    let option = match parse_getex(argv.get(2..).unwrap_or_default()) {
        Ok(option) => option,
        Err(error) => return error,
    };
    let mut shard = ctx.db.shard(&key);
    let (value, had_ttl) = match shard.get(&key, ctx.now) {
        None => return Frame::Null,
        Some(Entry {
            value: Value::Str(s),
            expires_at,
            ..
        }) => (s.clone(), expires_at.is_some()),
        Some(_) => return wrong_type(),
    };
    let event = match &option {
        GetexOption::Keep => None,
        GetexOption::Persist => {
            if let Some(entry) = shard.get_mut(&key, ctx.now) {
                entry.expires_at = None;
            }
            ctx.propagate_as(|| vec![vec![word("PERSIST"), key.clone()]]);
            had_ttl.then_some((crate::notify::GENERIC, "persist"))
        }
        GetexOption::Expire {
            value: when,
            unit,
            absolute,
        } => {
            let at = match expire_at(when, *unit, *absolute, ctx.now, "getex") {
                Ok(at) => at,
                Err(error) => return error,
            };
            if *absolute && at <= ctx.now {
                shard.remove(&key, ctx.now);
                ctx.propagate_as(|| vec![vec![word("DEL"), key.clone()]]);
                Some((crate::notify::GENERIC, "del"))
            } else {
                if let Some(entry) = shard.get_mut(&key, ctx.now) {
                    entry.expires_at = Some(at);
                }
                ctx.propagate_as(|| vec![vec![word("PEXPIREAT"), key.clone(), number(at)]]);
                Some((crate::notify::GENERIC, "expire"))
            }
        }
    };
    drop(shard);
    if let Some((class, name)) = event {
        super::watch::signal_modified(ctx, ctx.state.db_index, &key);
        super::events::notify(ctx, class, name, &key);
    }
    Frame::Bulk(value)
}

/// `GETRANGE key start end`: the bytes `start..=end` (negative from the end), clamped.
fn getrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (start, end) = match (integer(&arg(argv, 2)), integer(&arg(argv, 3))) {
        (Ok(start), Ok(end)) => (start, end),
        (Err(error), _) | (_, Err(error)) => return error,
    };
    let value = match string_edit::read(ctx, &arg(argv, 1)) {
        Ok(value) => value.unwrap_or_default(),
        Err(error) => return error,
    };
    Frame::Bulk(slice_range(&value, start, end))
}

/// `SUBSTR key start end`: GETRANGE's old name.
fn substr(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    getrange(ctx, argv)
}

/// GETRANGE's clamping (Redis's `getrangeCommand`).
fn slice_range(value: &Bytes, mut start: i64, mut end: i64) -> Bytes {
    let len = value.len() as i64;
    if (start < 0 && end < 0 && start > end) || len == 0 {
        return Bytes::new();
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0).min(len - 1);
    if start > end {
        return Bytes::new();
    }
    value.slice(start as usize..=end as usize)
}

/// `SETRANGE key offset value`: writes `value` at `offset`, zero-padding the string as
/// needed; the new length.
fn setrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (key, value) = (arg(argv, 1), arg(argv, 3));
    let offset = match integer(&arg(argv, 2)) {
        Ok(offset) if offset < 0 => return Frame::error("ERR offset is out of range"),
        Ok(offset) => offset as u64,
        Err(error) => return error,
    };
    let current = match string_edit::read(ctx, &key) {
        Ok(current) => current,
        Err(error) => return error,
    };
    if value.is_empty() {
        // Setting nothing changes nothing (and creates nothing).
        return Frame::Integer(current.map_or(0, |c| c.len() as i64));
    }
    let end = offset.saturating_add(value.len() as u64);
    let too_long = || Frame::error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    if end > string_edit::max_string_len(ctx) {
        return too_long();
    }
    let (Ok(start), Ok(end)) = (usize::try_from(offset), usize::try_from(end)) else {
        return too_long();
    };
    let edited = string_edit::edit(ctx, &key, end, |bytes| {
        if let Some(target) = bytes.get_mut(start..end) {
            target.copy_from_slice(&value);
        }
        bytes.len()
    });
    match edited {
        Ok((len, _)) => {
            changed(ctx, "setrange", &key);
            Frame::Integer(len as i64)
        }
        Err(error) => error,
    }
}

/// Bytes per cell of LCS's table (Redis's `uint32_t`): Redis refuses when the table, of
/// `(len(a) + 1) * (len(b) + 1)` cells, would take more than `proto-max-bulk-len` bytes.
const LCS_CELL_BYTES: u64 = 4;

/// What LCS replies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LcsOptions {
    len: bool,
    idx: bool,
    with_match_len: bool,
    min_match_len: i64,
}

fn parse_lcs(args: &[Bytes]) -> Result<LcsOptions, Frame> {
    let mut options = LcsOptions {
        len: false,
        idx: false,
        with_match_len: false,
        min_match_len: 0,
    };
    let mut at = 0;
    while let Some(word) = args.get(at) {
        if is_keyword(word, "IDX") {
            options.idx = true;
        } else if is_keyword(word, "LEN") {
            options.len = true;
        } else if is_keyword(word, "WITHMATCHLEN") {
            options.with_match_len = true;
        } else if let (true, Some(value)) = (is_keyword(word, "MINMATCHLEN"), args.get(at + 1)) {
            options.min_match_len = integer(value)?.max(0);
            at += 1;
        } else {
            return Err(syntax_error());
        }
        at += 1;
    }
    if options.len && options.idx {
        return Err(Frame::error(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    Ok(options)
}

/// `LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]`.
fn lcs(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (a, b) = match (
        string_edit::read(ctx, &arg(argv, 1)),
        string_edit::read(ctx, &arg(argv, 2)),
    ) {
        (Ok(a), Ok(b)) => (a.unwrap_or_default(), b.unwrap_or_default()),
        _ => return Frame::error("ERR The specified keys must contain string values"),
    };
    let options = match parse_lcs(argv.get(3..).unwrap_or_default()) {
        Ok(options) => options,
        Err(error) => return error,
    };
    if a.len() as u64 >= u64::from(u32::MAX - 1) || b.len() as u64 >= u64::from(u32::MAX - 1) {
        return Frame::error("ERR String too long for LCS");
    }
    let cells = (a.len() as u64 + 1) * (b.len() as u64 + 1);
    if cells.saturating_mul(LCS_CELL_BYTES) > string_edit::max_string_len(ctx) {
        return Frame::error(
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        );
    }
    // Not in Redis: under maxmemory, the transient table counts too (two small strings
    // may ask for 512 MB of it).
    if let Err(error) = string_edit::check_room(ctx, (cells * LCS_CELL_BYTES) as usize) {
        return error;
    }
    let Some(table) = LcsTable::build(&a, &b) else {
        return Frame::error("ERR Insufficient memory, failed allocating transient memory for LCS");
    };
    table.reply(&a, &b, options)
}

/// The dynamic-programming table: cell (i, j) holds the LCS length of `a[..i]` and `b[..j]`.
struct LcsTable {
    cells: Vec<u32>,
    width: usize,
}

impl LcsTable {
    /// `None` when the table cannot be allocated.
    fn build(a: &[u8], b: &[u8]) -> Option<LcsTable> {
        let width = b.len() + 1;
        let size = (a.len() + 1).checked_mul(width)?;
        let mut cells = Vec::new();
        cells.try_reserve_exact(size).ok()?;
        cells.resize(size, 0u32);
        for (i, &ca) in a.iter().enumerate() {
            for (j, &cb) in b.iter().enumerate() {
                let here = (i + 1) * width + j + 1;
                let value = if ca == cb {
                    cells.get(i * width + j).copied().unwrap_or(0) + 1
                } else {
                    let up = cells.get(i * width + j + 1).copied().unwrap_or(0);
                    let left = cells.get(here - 1).copied().unwrap_or(0);
                    up.max(left)
                };
                if let Some(cell) = cells.get_mut(here) {
                    *cell = value;
                }
            }
        }
        Some(LcsTable { cells, width })
    }

    fn at(&self, i: usize, j: usize) -> u32 {
        self.cells.get(i * self.width + j).copied().unwrap_or(0)
    }

    /// Walks the table back from the end as Redis does, collecting the subsequence and the
    /// matching ranges (last first), and answers in the shape the options ask for.
    fn reply(&self, a: &[u8], b: &[u8], options: LcsOptions) -> Frame {
        let total = self.at(a.len(), b.len());
        if options.len {
            return Frame::Integer(i64::from(total));
        }
        let mut sequence = Vec::with_capacity(total as usize);
        let mut matches = Vec::new();
        // The range being grown: (a_start, a_end, b_start, b_end).
        let mut range: Option<(usize, usize, usize, usize)> = None;
        let (mut i, mut j) = (a.len(), b.len());
        while i > 0 && j > 0 {
            let mut emit = false;
            if a.get(i - 1) == b.get(j - 1) {
                sequence.push(a.get(i - 1).copied().unwrap_or(0));
                range = match range {
                    None => Some((i - 1, i - 1, j - 1, j - 1)),
                    Some((a0, a1, b0, b1)) if a0 == i && b0 == j => Some((a0 - 1, a1, b0 - 1, b1)),
                    // Not contiguous (Redis's walk never gets here: a mismatch step
                    // always comes between): emit the range so far, as Redis would.
                    Some(r) => {
                        emit = true;
                        Some(r)
                    }
                };
                if range.is_some_and(|(a0, _, b0, _)| a0 == 0 || b0 == 0) {
                    emit = true;
                }
                i -= 1;
                j -= 1;
            } else {
                if self.at(i - 1, j) > self.at(i, j - 1) {
                    i -= 1;
                } else {
                    j -= 1;
                }
                emit = range.is_some();
            }
            if emit {
                if let Some(r) = range.take() {
                    self.emit(&mut matches, r, options);
                }
            }
        }
        if !options.idx {
            sequence.reverse();
            return Frame::Bulk(Bytes::from(sequence));
        }
        Frame::Map(vec![
            (
                Frame::Bulk(Bytes::from_static(b"matches")),
                Frame::Array(matches),
            ),
            (
                Frame::Bulk(Bytes::from_static(b"len")),
                Frame::Integer(i64::from(total)),
            ),
        ])
    }

    fn emit(
        &self,
        matches: &mut Vec<Frame>,
        (a0, a1, b0, b1): (usize, usize, usize, usize),
        options: LcsOptions,
    ) {
        let len = (a1 - a0 + 1) as i64;
        if options.min_match_len != 0 && len < options.min_match_len {
            return;
        }
        let pair = |x: usize, y: usize| {
            Frame::Array(vec![Frame::Integer(x as i64), Frame::Integer(y as i64)])
        };
        let mut entry = vec![pair(a0, a1), pair(b0, b1)];
        if options.with_match_len {
            entry.push(Frame::Integer(len));
        }
        matches.push(Frame::Array(entry));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn getrange_clamps_like_redis() {
        let value = Bytes::from_static(b"Hello World");
        assert_eq!(slice_range(&value, 0, 3), "Hell");
        assert_eq!(slice_range(&value, -3, -1), "rld");
        assert_eq!(slice_range(&value, 5, 3), "");
        assert_eq!(slice_range(&value, -1, -5), "");
        assert_eq!(slice_range(&value, 0, 100), "Hello World");
        assert_eq!(slice_range(&Bytes::new(), 0, -1), "");
    }

    #[test]
    fn lcs_finds_redis_example() {
        let (a, b) = (b"ohmytext".as_slice(), b"mynewtext".as_slice());
        let table = LcsTable::build(a, b);
        let options = LcsOptions {
            len: false,
            idx: false,
            with_match_len: false,
            min_match_len: 0,
        };
        let reply = table.map(|t| t.reply(a, b, options));
        assert_eq!(reply, Some(Frame::Bulk(Bytes::from_static(b"mytext"))));
    }

    #[test]
    fn getex_options_conflict_like_redis() {
        let args = |words: &[&'static str]| -> Vec<Bytes> {
            words
                .iter()
                .map(|w| Bytes::from_static(w.as_bytes()))
                .collect()
        };
        assert!(parse_getex(&args(&["EX", "1", "EX", "2"])).is_ok());
        assert_eq!(
            parse_getex(&args(&["EX", "1", "PX", "2"])),
            Err(syntax_error())
        );
        assert_eq!(
            parse_getex(&args(&["PERSIST", "EX", "2"])),
            Err(syntax_error())
        );
        assert_eq!(parse_getex(&args(&["EX"])), Err(syntax_error()));
        assert_eq!(parse_getex(&args(&["KEEPTTL"])), Err(syntax_error()));
    }
}
