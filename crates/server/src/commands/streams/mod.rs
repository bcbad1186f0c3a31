//! Stream commands (Redis 7.0.15's `t_stream.c`): XADD XRANGE XREVRANGE XLEN XDEL XTRIM
//! XSETID XREAD here; the consumer groups (XGROUP XREADGROUP XACK XPENDING XCLAIM XAUTOCLAIM)
//! in `groups`, XINFO in `info`. The value is [`crate::stream::Stream`].
//!
//! Blocking XREAD/XREADGROUP wait through the generic mechanism ([`block_on`], see
//! [`crate::blocking`]): a woken client runs its command again, so XREAD's `$` is replaced
//! by the ID it stood for when the client blocked (the dispatcher keeps the rewritten
//! arguments), and a retry with no COUNT reads at most 1000 entries, as Redis serves a
//! blocked reader.

mod groups;
mod info;
mod specs;

use bytes::Bytes;
use respect_resp::Frame;

pub use specs::COMMANDS;

use self::groups::{xack, xautoclaim, xclaim, xgroup, xpending, xreadgroup};
use self::info::xinfo;
use super::args::{integer, is_keyword, parse_i64};
use super::blocking::block_on;
use super::context::Ctx;
use super::events::{notify, signal_created};
use super::reply::{error_format, syntax_error, wrong_type};
use crate::db::{Entry, Value};
use crate::notify::STREAM;
use crate::stream::{NodeLimits, Stream, StreamId, Trim};

/// Redis's error for an ID it cannot read.
const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

/// How many entries a woken XREAD/XREADGROUP without COUNT gets.
const BLOCKED_DEFAULT_COUNT: usize = 1000;

/// Reads an unsigned number as Redis's `string2ull`: a `long long` that is not negative, else
/// what C's `strtoull` takes (leading white space, a sign, digits; `-` negates modulo 2^64).
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = parse_i64(s) {
        return u64::try_from(v).ok();
    }
    let start = s
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?;
    let rest = s.get(start..)?;
    let (negative, digits) = match rest.split_first() {
        Some((b'-', d)) => (true, d),
        Some((b'+', d)) => (false, d),
        _ => (false, rest),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if negative { v.wrapping_neg() } else { v })
}

/// An ID as Redis's `streamGenericParseIDOrReply` reads it: `-`, `+` (unless `strict`),
/// `<ms>`, `<ms>-<seq>`, and with `allow_auto_seq` `<ms>-*` (the second value is then
/// `false`: the sequence was not given).
fn parse_id_full(
    arg: &[u8],
    missing_seq: u64,
    strict: bool,
    allow_auto_seq: bool,
) -> Result<(StreamId, bool), Frame> {
    let invalid = || Frame::error(INVALID_ID);
    if arg.len() > 127 {
        return Err(invalid());
    }
    // A C string: it ends at the first NUL.
    let buf = arg.split(|&b| b == 0).next().unwrap_or_default();
    if buf == b"-" || buf == b"+" {
        if strict {
            return Err(invalid());
        }
        return Ok((
            if buf == b"-" {
                StreamId::MIN
            } else {
                StreamId::MAX
            },
            true,
        ));
    }
    match buf.iter().position(|&b| b == b'-') {
        Some(dash) => {
            let ms = string2ull(buf.get(..dash).unwrap_or_default()).ok_or_else(invalid)?;
            let seq_part = buf.get(dash + 1..).unwrap_or_default();
            if allow_auto_seq && seq_part == b"*" {
                return Ok((StreamId::new(ms, 0), false));
            }
            let seq = string2ull(seq_part).ok_or_else(invalid)?;
            Ok((StreamId::new(ms, seq), true))
        }
        None => {
            let ms = string2ull(buf).ok_or_else(invalid)?;
            Ok((StreamId::new(ms, missing_seq), true))
        }
    }
}

/// An ID, `-` and `+` allowed.
fn parse_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, Frame> {
    parse_id_full(arg, missing_seq, false, false).map(|(id, _)| id)
}

/// An ID, `-` and `+` refused.
fn parse_strict_id(arg: &[u8]) -> Result<StreamId, Frame> {
    parse_id_full(arg, 0, true, false).map(|(id, _)| id)
}

/// A range bound: `(` makes it exclusive (Redis's `streamParseIntervalIDOrReply`).
fn parse_interval(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), Frame> {
    match arg.split_first() {
        Some((b'(', rest)) if arg.len() > 1 => {
            parse_id_full(rest, missing_seq, true, false).map(|(id, _)| (id, true))
        }
        _ => parse_id(arg, missing_seq).map(|id| (id, false)),
    }
}

/// The start of a range, moved past an exclusive bound.
fn range_start(arg: &[u8]) -> Result<StreamId, Frame> {
    let (id, exclusive) = parse_interval(arg, 0)?;
    if exclusive {
        id.next()
            .ok_or_else(|| Frame::error("ERR invalid start ID for the interval"))
    } else {
        Ok(id)
    }
}

/// The end of a range, moved before an exclusive bound.
fn range_end(arg: &[u8]) -> Result<StreamId, Frame> {
    let (id, exclusive) = parse_interval(arg, u64::MAX)?;
    if exclusive {
        id.prev()
            .ok_or_else(|| Frame::error("ERR invalid end ID for the interval"))
    } else {
        Ok(id)
    }
}

/// An ID as a bulk string.
fn id_frame(id: StreamId) -> Frame {
    Frame::Bulk(id.to_bytes())
}

/// An entry as Redis replies with it: its ID, then its fields and values.
fn entry_frame(id: StreamId, fields: &[Bytes]) -> Frame {
    Frame::Array(vec![
        id_frame(id),
        Frame::Array(fields.iter().cloned().map(Frame::Bulk).collect()),
    ])
}

/// Up to `count` (0: all) entries from `start` to `end`, as frames.
fn range_frames(s: &Stream, start: StreamId, end: StreamId, count: usize, rev: bool) -> Vec<Frame> {
    let it = s.range(start, end, rev).map(|(id, f)| entry_frame(id, f));
    if count == 0 {
        it.collect()
    } else {
        it.take(count).collect()
    }
}

/// Runs `f` on the stream at `key` (`None` when missing); WRONGTYPE for another type.
fn with_stream<T>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(Option<&mut Stream>) -> T,
) -> Result<T, Frame> {
    let now = ctx.now;
    let mut shard = ctx.db.shard(key);
    match shard.get_mut(key, now) {
        None => Ok(f(None)),
        Some(entry) => match &mut entry.value {
            Value::Stream(s) => Ok(f(Some(s))),
            _ => Err(wrong_type()),
        },
    }
}

/// Runs `f` on the stream at `key`, or on a new empty one which is stored if `f` succeeds.
fn with_stream_or_new<T>(
    ctx: &mut Ctx<'_>,
    key: &Bytes,
    f: impl FnOnce(&mut Stream) -> Result<T, Frame>,
) -> Result<T, Frame> {
    let now = ctx.now;
    let mut shard = ctx.db.shard(key);
    match shard.get_mut(key, now) {
        Some(entry) => match &mut entry.value {
            Value::Stream(s) => f(s),
            _ => Err(wrong_type()),
        },
        None => {
            let mut fresh = Box::new(Stream::new());
            let out = f(&mut fresh)?;
            shard.insert(key.clone(), Entry::new(Value::Stream(fresh)), now);
            Ok(out)
        }
    }
}

/// The node limits of the running command's server.
fn node_limits() -> NodeLimits {
    let limits = crate::encoding::current();
    NodeLimits {
        entries: limits.stream_node_entries() as u64,
        bytes: limits.stream_node_bytes(),
    }
}

/// XADD's and XTRIM's trimming options.
#[derive(Debug, Default)]
struct TrimArgs {
    trim: Option<Trim>,
    approx: bool,
    limit: u64,
    no_mkstream: bool,
    /// XADD: the ID and whether its sequence was given (`None`: `*`).
    id: Option<(StreamId, bool)>,
    /// XADD: where the ID is.
    id_pos: usize,
    /// Where the `~` of an approximate trim is (its count or ID follows).
    approx_at: usize,
}

/// How XADD and XTRIM go to a replica (Redis's `streamRewriteApproxSpecifier` and
/// `streamRewriteTrimArgument`): an approximate trim as the exact one it turned out to be
/// (`= <length>` for MAXLEN; for MINID `= <first ID>`, deleted entries included, the
/// largest ID when the stream is empty), and XADD's generated ID in place of
/// `*` or `ms-*`, so the replica's stream is this one's.
fn propagated(
    argv: &[Bytes],
    args: &TrimArgs,
    id: Option<StreamId>,
    after: (u64, StreamId),
) -> Vec<Bytes> {
    let mut argv = argv.to_vec();
    if let (Some(id), false) = (id, matches!(args.id, Some((_, true)))) {
        if let Some(slot) = argv.get_mut(args.id_pos) {
            *slot = id.to_bytes();
        }
    }
    if args.approx {
        let (len, first) = after;
        if let Some(slot) = argv.get_mut(args.approx_at) {
            *slot = Bytes::from_static(b"=");
        }
        if let Some(slot) = argv.get_mut(args.approx_at + 1) {
            *slot = match args.trim {
                Some(Trim::MinId(_)) => first.to_bytes(),
                _ => Bytes::from(len.to_string()),
            };
        }
    }
    argv
}

/// Argument `i` of a command, empty when there is none. The arity checks before each use
/// make the argument present; this keeps a slip in them from becoming a panic on a peer's
/// input.
fn at(argv: &[Bytes], i: usize) -> &Bytes {
    static NONE: Bytes = Bytes::new();
    argv.get(i).unwrap_or(&NONE)
}

/// Redis's `streamParseAddOrTrimArgsOrReply`.
fn parse_trim_args(argv: &[Bytes], xadd: bool) -> Result<TrimArgs, Frame> {
    const BOTH: &str =
        "ERR syntax error, MAXLEN and MINID options at the same time are not compatible";
    let mut args = TrimArgs::default();
    let mut limit: i64 = 0;
    let mut limit_given = false;
    let mut i = 2;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        let opt = &at(argv, i)[..];
        if xadd && opt == b"*" {
            break;
        } else if is_keyword(opt, "MAXLEN") && more > 0 {
            if args.trim.is_some() {
                return Err(Frame::error(BOTH));
            }
            args.approx = false;
            let next = &at(argv, i + 1)[..];
            if more >= 2 && next == b"~" {
                args.approx = true;
                i += 1;
                args.approx_at = i;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            let max = integer(argv.get(i + 1).map_or(&[][..], |a| a))?;
            if max < 0 {
                return Err(Frame::error("ERR The MAXLEN argument must be >= 0."));
            }
            i += 1;
            args.trim = Some(Trim::MaxLen(max as u64));
        } else if is_keyword(opt, "MINID") && more > 0 {
            if args.trim.is_some() {
                return Err(Frame::error(BOTH));
            }
            args.approx = false;
            let next = &at(argv, i + 1)[..];
            if more >= 2 && next == b"~" {
                args.approx = true;
                i += 1;
                args.approx_at = i;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            let id = parse_strict_id(argv.get(i + 1).map_or(&[][..], |a| a))?;
            i += 1;
            args.trim = Some(Trim::MinId(id));
        } else if is_keyword(opt, "LIMIT") && more > 0 {
            limit = integer(at(argv, i + 1))?;
            if limit < 0 {
                return Err(Frame::error("ERR The LIMIT argument must be >= 0."));
            }
            limit_given = true;
            i += 1;
        } else if xadd && is_keyword(opt, "NOMKSTREAM") {
            args.no_mkstream = true;
        } else if xadd {
            args.id = Some(parse_id_full(opt, 0, true, true)?);
            break;
        } else {
            return Err(syntax_error());
        }
        i += 1;
    }
    args.id_pos = i;
    if limit != 0 && args.trim.is_none() {
        return Err(Frame::error(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && args.trim.is_none() {
        return Err(Frame::error(
            "ERR syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if limit_given {
        if !args.approx {
            return Err(Frame::error(
                "ERR syntax error, LIMIT cannot be used without the special ~ option",
            ));
        }
        args.limit = limit as u64;
    } else if args.approx {
        let per_node = crate::encoding::current().stream_node_entries() as u64;
        args.limit = per_node.saturating_mul(100).clamp(1, 1_000_000);
        if per_node == 0 {
            args.limit = 10_000;
        }
    } else {
        args.limit = 0;
    }
    Ok(args)
}

/// `XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value ...`
fn xadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let args = match parse_trim_args(argv, true) {
        Ok(a) => a,
        Err(e) => return e,
    };
    let field_pos = args.id_pos + 1;
    let nfields = argv.len().saturating_sub(field_pos);
    if argv.len() < field_pos + 2 || nfields % 2 == 1 {
        return super::reply::wrong_args("xadd");
    }
    if let Some((id, true)) = args.id {
        if id == StreamId::MIN {
            return Frame::error("ERR The ID specified in XADD must be greater than 0-0");
        }
    }
    let key = at(argv, 1);
    let fields: Box<[Bytes]> = argv.get(field_pos..).unwrap_or_default().into();
    let now = ctx.now;
    let limits = node_limits();
    let append = |s: &mut Stream| -> Result<(StreamId, u64, (u64, StreamId)), Frame> {
        if s.last_id == StreamId::MAX {
            return Err(Frame::error(
                "ERR The stream has exhausted the last possible ID, unable to add more items",
            ));
        }
        let too_small = || {
            Frame::error(
                "ERR The ID specified in XADD is equal or smaller than the target stream top item",
            )
        };
        let id = match args.id {
            None => s.next_auto_id(now).ok_or_else(too_small)?,
            Some((id, true)) => id,
            Some((id, false)) => {
                if s.last_id.ms == id.ms {
                    if s.last_id.seq == u64::MAX {
                        return Err(too_small());
                    }
                    StreamId::new(id.ms, s.last_id.seq + 1)
                } else {
                    id
                }
            }
        };
        if id <= s.last_id {
            return Err(too_small());
        }
        s.append(id, fields, limits);
        let trimmed = match args.trim {
            Some(t) => s.trim(t, args.approx, args.limit),
            None => 0,
        };
        Ok((id, trimmed, (s.len(), s.first_edge_id())))
    };
    let result = if args.no_mkstream {
        with_stream(ctx, key, |s| s.map(append)).and_then(|r| r.transpose())
    } else {
        with_stream_or_new(ctx, key, append).map(Some)
    };
    match result {
        Err(e) => e,
        Ok(None) => Frame::Null,
        Ok(Some((id, trimmed, after))) => {
            ctx.propagate_as(|| vec![propagated(argv, &args, Some(id), after)]);
            notify(ctx, STREAM, "xadd", key);
            if trimmed > 0 {
                notify(ctx, STREAM, "xtrim", key);
            }
            signal_created(ctx, key);
            id_frame(id)
        }
    }
}

/// XRANGE and XREVRANGE.
fn range_command(ctx: &mut Ctx<'_>, argv: &[Bytes], rev: bool) -> Frame {
    let (start_arg, end_arg) = if rev {
        (at(argv, 3), at(argv, 2))
    } else {
        (at(argv, 2), at(argv, 3))
    };
    let start = match range_start(start_arg) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let end = match range_end(end_arg) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let mut count: i64 = -1;
    let mut j = 4;
    while j < argv.len() {
        if is_keyword(at(argv, j), "COUNT") && j + 1 < argv.len() {
            count = match integer(at(argv, j + 1)) {
                Ok(n) => n.max(0),
                Err(e) => return e,
            };
            j += 2;
        } else {
            return syntax_error();
        }
    }
    let now = ctx.now;
    let mut shard = ctx.db.shard(at(argv, 1));
    match shard.get(at(argv, 1), now).map(|e| &e.value) {
        None => Frame::Array(Vec::new()),
        Some(Value::Stream(s)) => {
            if count == 0 {
                ctx.null_array()
            } else {
                let count = usize::try_from(count.max(0)).unwrap_or(usize::MAX);
                Frame::Array(range_frames(s, start, end, count, rev))
            }
        }
        Some(_) => wrong_type(),
    }
}

fn xrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    range_command(ctx, argv, false)
}

fn xrevrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    range_command(ctx, argv, true)
}

fn xlen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let now = ctx.now;
    let mut shard = ctx.db.shard(at(argv, 1));
    match shard.get(at(argv, 1), now).map(|e| &e.value) {
        None => Frame::Integer(0),
        Some(Value::Stream(s)) => Frame::Integer(s.len() as i64),
        Some(_) => wrong_type(),
    }
}

fn xdel(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let key = at(argv, 1);
    let ids: Result<Vec<StreamId>, Frame> = argv
        .get(2..)
        .unwrap_or_default()
        .iter()
        .map(|a| parse_strict_id(a))
        .collect();
    let result = with_stream(ctx, key, |s| {
        let Some(s) = s else {
            return Ok(0);
        };
        let ids = ids?;
        Ok(ids.into_iter().filter(|id| s.delete(*id)).count() as i64)
    });
    match result.and_then(|r| r) {
        Ok(n) => {
            if n > 0 {
                notify(ctx, STREAM, "xdel", key);
            }
            Frame::Integer(n)
        }
        Err(e) => e,
    }
}

fn xtrim(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let args = match parse_trim_args(argv, false) {
        Ok(a) => a,
        Err(e) => return e,
    };
    let key = at(argv, 1);
    let Some(trim) = args.trim else {
        return syntax_error();
    };
    match with_stream(ctx, key, |s| {
        s.map_or((0, (0, StreamId::MIN)), |s| {
            let n = s.trim(trim, args.approx, args.limit);
            (n, (s.len(), s.first_edge_id()))
        })
    }) {
        Ok((n, after)) => {
            ctx.propagate_as(|| vec![propagated(argv, &args, None, after)]);
            if n > 0 {
                notify(ctx, STREAM, "xtrim", key);
            }
            Frame::Integer(n as i64)
        }
        Err(e) => e,
    }
}

/// `XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]`
fn xsetid(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let id = match parse_strict_id(at(argv, 2)) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let mut entries_added: i64 = -1;
    let mut max_deleted = StreamId::MIN;
    let mut i = 3;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        if is_keyword(at(argv, i), "ENTRIESADDED") && more > 0 {
            entries_added = match integer(at(argv, i + 1)) {
                Ok(n) if n < 0 => return Frame::error("ERR entries_added must be positive"),
                Ok(n) => n,
                Err(e) => return e,
            };
            i += 2;
        } else if is_keyword(at(argv, i), "MAXDELETEDID") && more > 0 {
            max_deleted = match parse_strict_id(at(argv, i + 1)) {
                Ok(m) if id < m => {
                    return Frame::error(
                        "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                    )
                }
                Ok(m) => m,
                Err(e) => return e,
            };
            i += 2;
        } else {
            return syntax_error();
        }
    }
    let key = at(argv, 1);
    let result = with_stream(ctx, key, |s| {
        let Some(s) = s else {
            return Err(Frame::error("ERR no such key"));
        };
        if !s.is_empty() {
            if id < s.last_valid_id() {
                return Err(Frame::error(
                    "ERR The ID specified in XSETID is smaller than the target stream top item",
                ));
            }
            if entries_added != -1 && s.len() > entries_added as u64 {
                return Err(Frame::error(
                    "ERR The entries_added specified in XSETID is smaller than the target stream length",
                ));
            }
        }
        s.last_id = id;
        if entries_added != -1 {
            s.entries_added = entries_added as u64;
        }
        if max_deleted != StreamId::MIN {
            s.max_deleted = max_deleted;
        }
        Ok(())
    });
    match result.and_then(|r| r) {
        Ok(()) => {
            ctx.server.persistence.note_changes(1);
            notify(ctx, STREAM, "xsetid", key);
            super::reply::ok()
        }
        Err(e) => e,
    }
}

/// XREAD's and XREADGROUP's parsed arguments.
struct ReadArgs<'a> {
    /// Milliseconds to block (`Some(0)`: forever), `None` without BLOCK.
    block: Option<u64>,
    count: usize,
    noack: bool,
    group: Option<(&'a Bytes, &'a Bytes)>,
    keys: &'a [Bytes],
    ids: &'a [Bytes],
    /// Where the IDs start in argv.
    ids_at: usize,
}

/// Redis's argument loop of `xreadCommand`; `in_script`: a script called it, which may not
/// BLOCK.
fn parse_read_args(
    argv: &[Bytes],
    xreadgroup: bool,
    in_script: bool,
) -> Result<ReadArgs<'_>, Frame> {
    let mut args = ReadArgs {
        block: None,
        count: 0,
        noack: false,
        group: None,
        keys: &[],
        ids: &[],
        ids_at: 0,
    };
    let mut streams_at = 0;
    let mut i = 1;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        let o = &at(argv, i)[..];
        if is_keyword(o, "BLOCK") && more > 0 {
            if in_script {
                // The name as the script spelled it.
                return Err(error_with(&[
                    b"ERR ",
                    at(argv, 0),
                    b" command is not allowed with BLOCK option from scripts",
                ]));
            }
            i += 1;
            let ms = parse_i64(at(argv, i))
                .ok_or_else(|| Frame::error("ERR timeout is not an integer or out of range"))?;
            if ms < 0 {
                return Err(Frame::error("ERR timeout is negative"));
            }
            args.block = Some(ms as u64);
        } else if is_keyword(o, "COUNT") && more > 0 {
            i += 1;
            let n = integer(at(argv, i))?;
            args.count = usize::try_from(n.max(0)).unwrap_or(usize::MAX);
        } else if is_keyword(o, "STREAMS") && more > 0 {
            streams_at = i + 1;
            let n = argv.len() - streams_at;
            if !n.is_multiple_of(2) {
                return Err(Frame::error(
                    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            break;
        } else if is_keyword(o, "GROUP") && more >= 2 {
            if !xreadgroup {
                return Err(Frame::error(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            args.group = Some((at(argv, i + 1), at(argv, i + 2)));
            i += 2;
        } else if is_keyword(o, "NOACK") {
            if !xreadgroup {
                return Err(Frame::error(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            args.noack = true;
        } else {
            return Err(syntax_error());
        }
        i += 1;
    }
    if streams_at == 0 {
        return Err(syntax_error());
    }
    if xreadgroup && args.group.is_none() {
        return Err(Frame::error("ERR Missing GROUP option for XREADGROUP"));
    }
    let n = (argv.len() - streams_at) / 2;
    args.keys = argv.get(streams_at..streams_at + n).unwrap_or_default();
    args.ids = argv.get(streams_at + n..).unwrap_or_default();
    args.ids_at = streams_at + n;
    Ok(args)
}

/// The reply of an XREAD/XREADGROUP that found something: per key, its entries; a map in
/// RESP3, an array of pairs in RESP2.
fn read_reply(ctx: &Ctx<'_>, found: Vec<(Bytes, Vec<Frame>)>) -> Frame {
    if ctx.resp3() {
        Frame::Map(
            found
                .into_iter()
                .map(|(k, e)| (Frame::Bulk(k), Frame::Array(e)))
                .collect(),
        )
    } else {
        Frame::Array(
            found
                .into_iter()
                .map(|(k, e)| Frame::Array(vec![Frame::Bulk(k), Frame::Array(e)]))
                .collect(),
        )
    }
}

/// Asks to block an XREAD/XREADGROUP, with `argv` as it must run again.
fn block_read(ctx: &mut Ctx<'_>, keys: &[Bytes], ms: u64, argv: Vec<Bytes>) -> Frame {
    let timeout = (ms > 0).then(|| std::time::Duration::from_millis(ms));
    let reply = block_on(ctx, keys.to_vec(), timeout);
    if let Some(wait) = ctx.state.block.as_mut() {
        wait.argv = argv;
    }
    reply
}

/// `XREAD [COUNT count] [BLOCK ms] STREAMS key [key ...] id [id ...]`
fn xread(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let args = match parse_read_args(argv, false, ctx.state.in_script) {
        Ok(a) => a,
        Err(e) => return e,
    };
    let now = ctx.now;
    let retrying = ctx.state.retrying;
    // The IDs, `$` resolved; a key of another type is WRONGTYPE (on a retry: passed over).
    let mut ids = Vec::with_capacity(args.keys.len());
    let mut dollar = false;
    for (key, id_arg) in args.keys.iter().zip(args.ids) {
        let last = {
            let mut shard = ctx.db.shard(key);
            match shard.get(key, now).map(|e| &e.value) {
                None => Ok(None),
                Some(Value::Stream(s)) => Ok(Some(s.last_id)),
                Some(_) => Err(()),
            }
        };
        let last = match last {
            Ok(l) => l,
            Err(()) if retrying => None,
            Err(()) => return wrong_type(),
        };
        if id_arg.as_ref() == b"$" {
            dollar = true;
            ids.push(last.unwrap_or(StreamId::MIN));
            continue;
        }
        if id_arg.as_ref() == b">" {
            return Frame::error(
                "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
            );
        }
        match parse_strict_id(id_arg) {
            Ok(id) => ids.push(id),
            Err(e) => return e,
        }
    }
    let count = if retrying && args.count == 0 {
        BLOCKED_DEFAULT_COUNT
    } else {
        args.count
    };
    let mut found = Vec::new();
    for (key, after) in args.keys.iter().zip(&ids) {
        let mut shard = ctx.db.shard(key);
        let Some(Value::Stream(s)) = shard.get(key, now).map(|e| &e.value) else {
            continue;
        };
        if s.is_empty() || s.last_valid_id() <= *after {
            continue;
        }
        let Some(start) = after.next() else {
            continue;
        };
        found.push((
            key.clone(),
            range_frames(s, start, StreamId::MAX, count, false),
        ));
    }
    if !found.is_empty() {
        return read_reply(ctx, found);
    }
    match args.block {
        Some(ms) => {
            let mut again = argv.to_vec();
            if dollar {
                for (i, id) in ids.iter().enumerate() {
                    if let Some(slot) = again.get_mut(args.ids_at + i) {
                        if slot.as_ref() == b"$" {
                            *slot = id.to_bytes();
                        }
                    }
                }
            }
            block_read(ctx, args.keys, ms, again)
        }
        None => ctx.null_array(),
    }
}

/// `<text>` with `%s` arguments as Redis's `addReplyErrorFormat` prints them.
fn error_with(parts: &[&[u8]]) -> Frame {
    error_format(&parts.concat())
}

/// `NOGROUP No such consumer group '<group>' for key name '<key>'` (XGROUP, XINFO).
fn no_such_group(group: &[u8], key: &[u8]) -> Frame {
    error_with(&[
        b"NOGROUP No such consumer group '",
        group,
        b"' for key name '",
        key,
        b"'",
    ])
}
