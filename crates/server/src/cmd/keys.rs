//! Keyspace and expiry commands.

use bytes::Bytes;

use super::{glob_match, not_integer, ok, parse_i64, syntax_error, Ctx, Spec};
use crate::db::SHARDS;
use respect_resp::Frame;

/// This family's commands.
pub const COMMANDS: &[Spec] = &[
    Spec {
        name: "del",
        arity: -2,
        run: del,
    },
    Spec {
        name: "unlink",
        arity: -2,
        run: del,
    },
    Spec {
        name: "exists",
        arity: -2,
        run: exists,
    },
    Spec {
        name: "type",
        arity: 2,
        run: type_of,
    },
    Spec {
        name: "keys",
        arity: 2,
        run: keys,
    },
    Spec {
        name: "scan",
        arity: -2,
        run: scan,
    },
    Spec {
        name: "dbsize",
        arity: 1,
        run: dbsize,
    },
    Spec {
        name: "flushdb",
        arity: -1,
        run: flush,
    },
    Spec {
        name: "flushall",
        arity: -1,
        run: flush,
    },
    Spec {
        name: "expire",
        arity: -3,
        run: expire,
    },
    Spec {
        name: "pexpire",
        arity: -3,
        run: pexpire,
    },
    Spec {
        name: "expireat",
        arity: -3,
        run: expireat,
    },
    Spec {
        name: "pexpireat",
        arity: -3,
        run: pexpireat,
    },
    Spec {
        name: "ttl",
        arity: 2,
        run: ttl,
    },
    Spec {
        name: "pttl",
        arity: 2,
        run: pttl,
    },
    Spec {
        name: "persist",
        arity: 2,
        run: persist,
    },
];

fn del(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let removed = argv
        .get(1..)
        .unwrap_or_default()
        .iter()
        .filter(|k| ctx.db.shard(k).remove(k, ctx.now).is_some())
        .count();
    Frame::Integer(removed as i64)
}

fn exists(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let found = argv
        .get(1..)
        .unwrap_or_default()
        .iter()
        .filter(|k| ctx.db.shard(k).get(k, ctx.now).is_some())
        .count();
    Frame::Integer(found as i64)
}

fn type_of(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let key = argv.get(1).cloned().unwrap_or_default();
    let mut shard = ctx.db.shard(&key);
    Frame::simple(
        shard
            .get(&key, ctx.now)
            .map_or("none", |e| e.value.type_name()),
    )
}

fn keys(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let pattern = argv.get(1).cloned().unwrap_or_default();
    let now = ctx.now;
    let all = ctx.db.for_each_shard(|s| s.live_keys(now));
    Frame::Array(
        all.into_iter()
            .flatten()
            .filter(|k| glob_match(&pattern, k))
            .map(Frame::Bulk)
            .collect(),
    )
}

/// `SCAN cursor [MATCH pattern] [COUNT n] [TYPE type]`. The cursor is a shard index: each call
/// returns whole shards until COUNT keys were looked at, so a key present for the whole
/// iteration is returned exactly once.
fn scan(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let Some(cursor) = argv
        .get(1)
        .and_then(|c| std::str::from_utf8(c).ok()?.parse::<u64>().ok())
    else {
        return Frame::error("ERR invalid cursor");
    };
    let (mut pattern, mut count, mut kind) = (None, 10usize, None);
    let mut i = 2;
    while let Some(option) = argv.get(i) {
        let value = argv.get(i + 1);
        match (option.to_ascii_uppercase().as_slice(), value) {
            (b"MATCH", Some(v)) => pattern = Some(v.clone()),
            (b"COUNT", Some(v)) => match parse_i64(v) {
                Some(n) if n >= 1 => count = n as usize,
                Some(_) => return syntax_error(),
                None => return not_integer(),
            },
            (b"TYPE", Some(v)) => kind = Some(v.to_ascii_lowercase()),
            _ => return syntax_error(),
        }
        i += 2;
    }
    let now = ctx.now;
    let mut shard = cursor as usize;
    let mut seen = 0;
    let mut found = Vec::new();
    while shard < SHARDS && seen < count {
        let mut guard = ctx.db.shard_at(shard);
        for key in guard.live_keys(now) {
            seen += 1;
            let type_ok = kind.as_ref().is_none_or(|t| {
                guard
                    .get(&key, now)
                    .is_some_and(|e| e.value.type_name().as_bytes() == t.as_slice())
            });
            if type_ok && pattern.as_ref().is_none_or(|p| glob_match(p, &key)) {
                found.push(Frame::Bulk(key));
            }
        }
        shard += 1;
    }
    let next = if shard >= SHARDS { 0 } else { shard };
    Frame::Array(vec![
        Frame::Bulk(Bytes::from(next.to_string())),
        Frame::Array(found),
    ])
}

fn dbsize(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Frame {
    Frame::Integer(ctx.db.len() as i64)
}

fn flush(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    match argv.get(1).map(|a| a.to_ascii_uppercase()) {
        None => {}
        Some(mode) if (mode == b"ASYNC" || mode == b"SYNC") && argv.len() == 2 => {}
        Some(_) => return syntax_error(),
    }
    let now = ctx.now;
    ctx.db.for_each_shard(|s| s.clear(now));
    ok()
}

/// Sets the expiry of `key` to `at` (Unix ms) under the NX/XX/GT/LT condition in `argv[3]`.
fn expire_at(ctx: &mut Ctx<'_>, argv: &[Bytes], at: Option<i64>, name: &str) -> Frame {
    let key = argv.get(1).cloned().unwrap_or_default();
    let Some(at) = at else {
        return Frame::Error(Bytes::from(format!(
            "ERR invalid expire time in '{name}' command"
        )));
    };
    let condition = argv.get(3).map(|c| c.to_ascii_uppercase());
    if argv.len() > 4
        || condition
            .as_deref()
            .is_some_and(|c| !matches!(c, b"NX" | b"XX" | b"GT" | b"LT"))
    {
        return match condition {
            Some(c) if !matches!(c.as_slice(), b"NX" | b"XX" | b"GT" | b"LT") => {
                Frame::Error(Bytes::from(format!(
                    "ERR Unsupported option {}",
                    String::from_utf8_lossy(&c)
                )))
            }
            _ => syntax_error(),
        };
    }
    let mut shard = ctx.db.shard(&key);
    let now = ctx.now;
    let Some(entry) = shard.get_mut(&key, now) else {
        return Frame::Integer(0);
    };
    let current = entry.expires_at.map(|t| t as i64);
    let allowed = match condition.as_deref() {
        Some(b"NX") => current.is_none(),
        Some(b"XX") => current.is_some(),
        Some(b"GT") => current.is_some_and(|c| at > c),
        Some(b"LT") => current.is_none_or(|c| at < c),
        _ => true,
    };
    if !allowed {
        return Frame::Integer(0);
    }
    if at <= now as i64 {
        shard.remove(&key, now);
    } else {
        entry.expires_at = Some(at as u64);
    }
    Frame::Integer(1)
}

fn relative(ctx: &Ctx<'_>, amount: &[u8], unit: i64) -> Result<Option<i64>, Frame> {
    let n = parse_i64(amount).ok_or_else(not_integer)?;
    Ok(n.checked_mul(unit)
        .and_then(|ms| ms.checked_add(ctx.now as i64)))
}

fn expire(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    match relative(
        ctx,
        argv.get(2).map(|b| b.as_ref()).unwrap_or_default(),
        1000,
    ) {
        Ok(at) => expire_at(ctx, argv, at, "expire"),
        Err(e) => e,
    }
}

fn pexpire(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    match relative(ctx, argv.get(2).map(|b| b.as_ref()).unwrap_or_default(), 1) {
        Ok(at) => expire_at(ctx, argv, at, "pexpire"),
        Err(e) => e,
    }
}

fn expireat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    match argv.get(2).and_then(|b| parse_i64(b)) {
        Some(s) => expire_at(ctx, argv, s.checked_mul(1000), "expireat"),
        None => not_integer(),
    }
}

fn pexpireat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    match argv.get(2).and_then(|b| parse_i64(b)) {
        Some(ms) => expire_at(ctx, argv, Some(ms), "pexpireat"),
        None => not_integer(),
    }
}

/// Remaining time to live of `key` in ms: -2 missing, -1 no expiry.
fn ttl_ms(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> i64 {
    let key = argv.get(1).cloned().unwrap_or_default();
    let mut shard = ctx.db.shard(&key);
    match shard.get(&key, ctx.now) {
        None => -2,
        Some(e) => e
            .expires_at
            .map_or(-1, |t| t.saturating_sub(ctx.now) as i64),
    }
}

fn ttl(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let ms = ttl_ms(ctx, argv);
    // Redis rounds to the nearest second.
    Frame::Integer(if ms < 0 { ms } else { (ms + 500) / 1000 })
}

fn pttl(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    Frame::Integer(ttl_ms(ctx, argv))
}

fn persist(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let key = argv.get(1).cloned().unwrap_or_default();
    let mut shard = ctx.db.shard(&key);
    match shard.get_mut(&key, ctx.now) {
        Some(e) if e.expires_at.is_some() => {
            e.expires_at = None;
            Frame::Integer(1)
        }
        _ => Frame::Integer(0),
    }
}
