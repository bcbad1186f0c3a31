//! XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS, XINFO HELP.

use bytes::Bytes;
use respect_resp::Frame;

use super::super::args::is_keyword;
use super::super::context::Ctx;
use super::super::reply::{help, unknown_subcommand_or_arity, wrong_type};
use super::at;
use super::{entry_frame, id_frame, integer, no_such_group, range_frames};
use crate::db::Value;
use crate::stream::{Group, Stream, StreamId, INVALID_ENTRIES_READ};

const XINFO_HELP: &[&str] = &[
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
];

fn name(text: &'static str) -> Frame {
    Frame::Bulk(Bytes::from_static(text.as_bytes()))
}

fn entries_read(g: &Group) -> Frame {
    if g.entries_read == INVALID_ENTRIES_READ {
        Frame::Null
    } else {
        Frame::Integer(g.entries_read)
    }
}

fn lag(s: &Stream, g: &Group) -> Frame {
    s.lag(g).map_or(Frame::Null, Frame::Integer)
}

/// `XINFO <subcommand> ...`
pub(super) fn xinfo(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let sub = &at(argv, 1)[..];
    let syntax = || unknown_subcommand_or_arity(sub, "xinfo");
    if is_keyword(sub, "HELP") {
        if argv.len() != 2 {
            return syntax();
        }
        return help("xinfo", XINFO_HELP);
    }
    if argv.len() < 3 {
        return syntax();
    }
    let key = at(argv, 2);
    let now = ctx.now;
    let mut shard = ctx.db.shard(key);
    let s = match shard.get(key, now).map(|e| &e.value) {
        None => return Frame::error("ERR no such key"),
        Some(Value::Stream(s)) => s,
        Some(_) => return wrong_type(),
    };
    if is_keyword(sub, "CONSUMERS") && argv.len() == 4 {
        let Some(g) = s.groups.get(at(argv, 3)) else {
            return no_such_group(at(argv, 3), key);
        };
        let now = now as i64;
        return Frame::Array(
            g.consumers
                .iter()
                .map(|(cname, c)| {
                    Frame::Map(vec![
                        (name("name"), Frame::Bulk(cname.clone())),
                        (name("pending"), Frame::Integer(c.pel.len() as i64)),
                        (
                            name("idle"),
                            Frame::Integer((now.wrapping_sub(c.seen_time)).max(0)),
                        ),
                    ])
                })
                .collect(),
        );
    }
    if is_keyword(sub, "GROUPS") && argv.len() == 3 {
        return Frame::Array(
            s.groups
                .iter()
                .map(|(gname, g)| {
                    Frame::Map(vec![
                        (name("name"), Frame::Bulk(gname.clone())),
                        (name("consumers"), Frame::Integer(g.consumers.len() as i64)),
                        (name("pending"), Frame::Integer(g.pel.len() as i64)),
                        (name("last-delivered-id"), id_frame(g.last_id)),
                        (name("entries-read"), entries_read(g)),
                        (name("lag"), lag(s, g)),
                    ])
                })
                .collect(),
        );
    }
    if is_keyword(sub, "STREAM") {
        return stream_info(s, argv.get(3..).unwrap_or_default(), sub);
    }
    syntax()
}

fn stream_info(s: &Stream, opts: &[Bytes], sub: &[u8]) -> Frame {
    let syntax = || unknown_subcommand_or_arity(sub, "xinfo");
    let mut full = false;
    let mut count: i64 = 10;
    if !opts.is_empty() {
        if opts.len() != 1 && opts.len() != 3 {
            return syntax();
        }
        if !is_keyword(&opts[0], "FULL") {
            return syntax();
        }
        full = true;
        if opts.len() == 3 {
            if !is_keyword(&opts[1], "COUNT") {
                return syntax();
            }
            count = match integer(&opts[2]) {
                Ok(n) if n < 0 => 10,
                Ok(n) => n,
                Err(e) => return e,
            };
        }
    }
    let mut map = vec![
        (name("length"), Frame::Integer(s.len() as i64)),
        (
            name("radix-tree-keys"),
            Frame::Integer(s.node_count() as i64),
        ),
        (
            name("radix-tree-nodes"),
            Frame::Integer(s.rax_nodes() as i64),
        ),
        (name("last-generated-id"), id_frame(s.last_id)),
        (name("max-deleted-entry-id"), id_frame(s.max_deleted)),
        (
            name("entries-added"),
            Frame::Integer(s.entries_added as i64),
        ),
        (name("recorded-first-entry-id"), id_frame(s.first_id())),
    ];
    if !full {
        map.push((name("groups"), Frame::Integer(s.groups.len() as i64)));
        let first = s
            .iter()
            .next()
            .map_or(Frame::Null, |(id, f)| entry_frame(id, f));
        let last = s
            .iter()
            .next_back()
            .map_or(Frame::Null, |(id, f)| entry_frame(id, f));
        map.push((name("first-entry"), first));
        map.push((name("last-entry"), last));
        return Frame::Map(map);
    }
    let limit = usize::try_from(count).unwrap_or(usize::MAX);
    let take = if limit == 0 { usize::MAX } else { limit };
    map.push((
        name("entries"),
        Frame::Array(range_frames(s, StreamId::MIN, StreamId::MAX, limit, false)),
    ));
    let groups = s
        .groups
        .iter()
        .map(|(gname, g)| {
            let pending = g
                .pel
                .iter()
                .take(take)
                .map(|(id, n)| {
                    Frame::Array(vec![
                        id_frame(*id),
                        Frame::Bulk(n.consumer.clone().unwrap_or_default()),
                        Frame::Integer(n.delivery_time),
                        Frame::Integer(n.delivery_count as i64),
                    ])
                })
                .collect();
            let consumers = g
                .consumers
                .iter()
                .map(|(cname, c)| {
                    let pending = c
                        .pel
                        .iter()
                        .take(take)
                        .map(|id| {
                            let n = g.pel.get(id);
                            Frame::Array(vec![
                                id_frame(*id),
                                Frame::Integer(n.map_or(0, |n| n.delivery_time)),
                                Frame::Integer(n.map_or(0, |n| n.delivery_count as i64)),
                            ])
                        })
                        .collect();
                    Frame::Map(vec![
                        (name("name"), Frame::Bulk(cname.clone())),
                        (name("seen-time"), Frame::Integer(c.seen_time)),
                        (name("pel-count"), Frame::Integer(c.pel.len() as i64)),
                        (name("pending"), Frame::Array(pending)),
                    ])
                })
                .collect();
            Frame::Map(vec![
                (name("name"), Frame::Bulk(gname.clone())),
                (name("last-delivered-id"), id_frame(g.last_id)),
                (name("entries-read"), entries_read(g)),
                (name("lag"), lag(s, g)),
                (name("pel-count"), Frame::Integer(g.pel.len() as i64)),
                (name("pending"), Frame::Array(pending)),
                (name("consumers"), Frame::Array(consumers)),
            ])
        })
        .collect();
    map.push((name("groups"), Frame::Array(groups)));
    Frame::Map(map)
}
