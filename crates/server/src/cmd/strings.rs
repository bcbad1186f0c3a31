//! String commands.

use bytes::{Bytes, BytesMut};

use super::{
    get_string, not_integer, ok, parse_f64, parse_i64, syntax_error, wrong_type, Ctx, Spec,
};
use crate::db::{Entry, Value};
use respect_resp::Frame;

/// This family's commands.
pub const COMMANDS: &[Spec] = &[
    Spec {
        name: "get",
        arity: 2,
        run: get,
    },
    Spec {
        name: "set",
        arity: -3,
        run: set,
    },
    Spec {
        name: "getset",
        arity: 3,
        run: getset,
    },
    Spec {
        name: "getdel",
        arity: 2,
        run: getdel,
    },
    Spec {
        name: "setnx",
        arity: 3,
        run: setnx,
    },
    Spec {
        name: "setex",
        arity: 4,
        run: setex,
    },
    Spec {
        name: "psetex",
        arity: 4,
        run: psetex,
    },
    Spec {
        name: "append",
        arity: 3,
        run: append,
    },
    Spec {
        name: "strlen",
        arity: 2,
        run: strlen,
    },
    Spec {
        name: "incr",
        arity: 2,
        run: incr,
    },
    Spec {
        name: "decr",
        arity: 2,
        run: decr,
    },
    Spec {
        name: "incrby",
        arity: 3,
        run: incrby,
    },
    Spec {
        name: "decrby",
        arity: 3,
        run: decrby,
    },
    Spec {
        name: "incrbyfloat",
        arity: 3,
        run: incrbyfloat,
    },
    Spec {
        name: "mset",
        arity: -3,
        run: mset,
    },
    Spec {
        name: "msetnx",
        arity: -3,
        run: msetnx,
    },
    Spec {
        name: "mget",
        arity: -2,
        run: mget,
    },
];

fn arg(argv: &[Bytes], i: usize) -> Bytes {
    argv.get(i).cloned().unwrap_or_default()
}

fn get(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let key = arg(argv, 1);
    let mut shard = ctx.db.shard(&key);
    match get_string(&mut shard, &key, ctx.now) {
        Ok(Some(v)) => Frame::Bulk(v.clone()),
        Ok(None) => Frame::Null,
        Err(e) => e,
    }
}

/// When a SET's key expires, and whether it keeps the old expiry.
enum Expiry {
    None,
    At(u64),
    Keep,
}

/// `SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL]`.
fn set(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (key, value) = (arg(argv, 1), arg(argv, 2));
    let (mut nx, mut xx, mut want_old) = (false, false, false);
    let mut expiry = Expiry::None;
    let mut i = 3;
    while let Some(option) = argv.get(i) {
        let upper = option.to_ascii_uppercase();
        let unit = match upper.as_slice() {
            b"NX" if !xx => {
                nx = true;
                i += 1;
                continue;
            }
            b"XX" if !nx => {
                xx = true;
                i += 1;
                continue;
            }
            b"GET" => {
                want_old = true;
                i += 1;
                continue;
            }
            b"KEEPTTL" if matches!(expiry, Expiry::None) => {
                expiry = Expiry::Keep;
                i += 1;
                continue;
            }
            b"EX" => 1000,
            b"PX" => 1,
            b"EXAT" => 1000,
            b"PXAT" => 1,
            _ => return syntax_error(),
        };
        if !matches!(expiry, Expiry::None) {
            return syntax_error();
        }
        let Some(amount) = argv.get(i + 1) else {
            return syntax_error();
        };
        let Some(n) = parse_i64(amount) else {
            return not_integer();
        };
        let at = if upper.ends_with(b"AT") {
            n.checked_mul(unit)
        } else {
            n.checked_mul(unit)
                .and_then(|ms| ms.checked_add(ctx.now as i64))
        };
        match at {
            Some(at) if n > 0 => expiry = Expiry::At(at as u64),
            _ => return Frame::error("ERR invalid expire time in 'set' command"),
        }
        i += 2;
    }
    let mut shard = ctx.db.shard(&key);
    let old = match shard.get(&key, ctx.now) {
        None => None,
        Some(Entry {
            value: Value::Str(s),
            expires_at,
        }) => Some((Some(s.clone()), *expires_at)),
        Some(entry) if want_old => {
            let _ = entry;
            return wrong_type();
        }
        Some(entry) => Some((None, entry.expires_at)),
    };
    let previous = || match &old {
        Some((Some(s), _)) if want_old => Frame::Bulk(s.clone()),
        _ if want_old => Frame::Null,
        _ => Frame::Null,
    };
    if (nx && old.is_some()) || (xx && old.is_none()) {
        return previous();
    }
    let expires_at = match expiry {
        Expiry::None => None,
        Expiry::At(at) => Some(at),
        Expiry::Keep => old.as_ref().and_then(|(_, e)| *e),
    };
    let reply = if want_old { previous() } else { ok() };
    if expires_at.is_some_and(|at| at <= ctx.now) {
        shard.remove(&key, ctx.now);
    } else {
        shard.insert(
            key,
            Entry {
                value: Value::Str(value),
                expires_at,
            },
            ctx.now,
        );
    }
    reply
}

fn getset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (key, value) = (arg(argv, 1), arg(argv, 2));
    let mut shard = ctx.db.shard(&key);
    let old = match get_string(&mut shard, &key, ctx.now) {
        Ok(old) => old.cloned(),
        Err(e) => return e,
    };
    shard.insert(key, Entry::new(Value::Str(value)), ctx.now);
    old.map_or(Frame::Null, Frame::Bulk)
}

fn getdel(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let key = arg(argv, 1);
    let mut shard = ctx.db.shard(&key);
    match get_string(&mut shard, &key, ctx.now) {
        Ok(Some(v)) => {
            let v = v.clone();
            shard.remove(&key, ctx.now);
            Frame::Bulk(v)
        }
        Ok(None) => Frame::Null,
        Err(e) => e,
    }
}

fn setnx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (key, value) = (arg(argv, 1), arg(argv, 2));
    let mut shard = ctx.db.shard(&key);
    if shard.get(&key, ctx.now).is_some() {
        return Frame::Integer(0);
    }
    shard.insert(key, Entry::new(Value::Str(value)), ctx.now);
    Frame::Integer(1)
}

fn setex_with(ctx: &mut Ctx<'_>, argv: &[Bytes], unit: i64, name: &str) -> Frame {
    let (key, value) = (arg(argv, 1), arg(argv, 3));
    let Some(n) = parse_i64(&arg(argv, 2)) else {
        return not_integer();
    };
    let Some(at) = n
        .checked_mul(unit)
        .and_then(|ms| ms.checked_add(ctx.now as i64))
        .filter(|_| n > 0)
    else {
        return Frame::Error(Bytes::from(format!(
            "ERR invalid expire time in '{name}' command"
        )));
    };
    ctx.db.shard(&key).insert(
        key,
        Entry {
            value: Value::Str(value),
            expires_at: Some(at as u64),
        },
        ctx.now,
    );
    ok()
}

fn setex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    setex_with(ctx, argv, 1000, "setex")
}

fn psetex(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    setex_with(ctx, argv, 1, "psetex")
}

fn append(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (key, tail) = (arg(argv, 1), arg(argv, 2));
    let mut shard = ctx.db.shard(&key);
    match shard.get_mut(&key, ctx.now) {
        None => {
            let len = tail.len();
            shard.insert(key, Entry::new(Value::Str(tail)), ctx.now);
            Frame::Integer(len as i64)
        }
        Some(Entry {
            value: Value::Str(s),
            ..
        }) => {
            let mut joined = BytesMut::with_capacity(s.len() + tail.len());
            joined.extend_from_slice(s);
            joined.extend_from_slice(&tail);
            *s = joined.freeze();
            Frame::Integer(s.len() as i64)
        }
        Some(_) => wrong_type(),
    }
}

fn strlen(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let key = arg(argv, 1);
    let mut shard = ctx.db.shard(&key);
    match get_string(&mut shard, &key, ctx.now) {
        Ok(v) => Frame::Integer(v.map_or(0, |v| v.len() as i64)),
        Err(e) => e,
    }
}

/// Adds `delta` to the integer at `key` (0 when missing), keeping its expiry.
pub fn incr_by(ctx: &mut Ctx<'_>, key: Bytes, delta: i64) -> Frame {
    let mut shard = ctx.db.shard(&key);
    let (current, expires_at) = match shard.get(&key, ctx.now) {
        None => (0, None),
        Some(Entry {
            value: Value::Str(s),
            expires_at,
        }) => match parse_i64(s) {
            Some(n) => (n, *expires_at),
            None => return not_integer(),
        },
        Some(_) => return wrong_type(),
    };
    let Some(next) = current.checked_add(delta) else {
        return Frame::error("ERR increment or decrement would overflow");
    };
    let mut digits = itoa::Buffer::new();
    let text = Bytes::copy_from_slice(digits.format(next).as_bytes());
    shard.insert(
        key,
        Entry {
            value: Value::Str(text),
            expires_at,
        },
        ctx.now,
    );
    Frame::Integer(next)
}

fn incr(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    incr_by(ctx, arg(argv, 1), 1)
}

fn decr(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    incr_by(ctx, arg(argv, 1), -1)
}

fn incrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    match parse_i64(&arg(argv, 2)) {
        Some(delta) => incr_by(ctx, arg(argv, 1), delta),
        None => not_integer(),
    }
}

fn decrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    match parse_i64(&arg(argv, 2)).and_then(i64::checked_neg) {
        Some(delta) => incr_by(ctx, arg(argv, 1), delta),
        None => not_integer(),
    }
}

fn incrbyfloat(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let key = arg(argv, 1);
    let Some(delta) = parse_f64(&arg(argv, 2)) else {
        return Frame::error("ERR value is not a valid float");
    };
    let mut shard = ctx.db.shard(&key);
    let (current, expires_at) = match shard.get(&key, ctx.now) {
        None => (0.0, None),
        Some(Entry {
            value: Value::Str(s),
            expires_at,
        }) => match parse_f64(s) {
            Some(n) => (n, *expires_at),
            None => return Frame::error("ERR value is not a valid float"),
        },
        Some(_) => return wrong_type(),
    };
    let next = current + delta;
    if !next.is_finite() {
        return Frame::error("ERR increment would produce NaN or Infinity");
    }
    let text = Bytes::from(super::format_float(next));
    shard.insert(
        key,
        Entry {
            value: Value::Str(text.clone()),
            expires_at,
        },
        ctx.now,
    );
    Frame::Bulk(text)
}

fn pairs_or_error(argv: &[Bytes], name: &str) -> Result<Vec<(Bytes, Bytes)>, Frame> {
    let rest = argv.get(1..).unwrap_or_default();
    if rest.is_empty() || rest.len() % 2 != 0 {
        return Err(super::wrong_args(name));
    }
    Ok(rest
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect())
}

fn mset(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let pairs = match pairs_or_error(argv, "mset") {
        Ok(p) => p,
        Err(e) => return e,
    };
    let keys: Vec<&[u8]> = pairs.iter().map(|(k, _)| k.as_ref()).collect();
    let now = ctx.now;
    let mut locked = ctx.db.lock_keys(&keys);
    for (k, v) in &pairs {
        if let Some(shard) = locked.shard(k) {
            shard.insert(k.clone(), Entry::new(Value::Str(v.clone())), now);
        }
    }
    ok()
}

fn msetnx(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let pairs = match pairs_or_error(argv, "msetnx") {
        Ok(p) => p,
        Err(e) => return e,
    };
    let keys: Vec<&[u8]> = pairs.iter().map(|(k, _)| k.as_ref()).collect();
    let now = ctx.now;
    let mut locked = ctx.db.lock_keys(&keys);
    if pairs
        .iter()
        .any(|(k, _)| locked.shard(k).is_some_and(|s| s.get(k, now).is_some()))
    {
        return Frame::Integer(0);
    }
    for (k, v) in &pairs {
        if let Some(shard) = locked.shard(k) {
            shard.insert(k.clone(), Entry::new(Value::Str(v.clone())), now);
        }
    }
    Frame::Integer(1)
}

fn mget(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let keys = argv.get(1..).unwrap_or_default();
    Frame::Array(
        keys.iter()
            .map(|key| {
                let mut shard = ctx.db.shard(key);
                match shard.get(key, ctx.now) {
                    Some(Entry {
                        value: Value::Str(s),
                        ..
                    }) => Frame::Bulk(s.clone()),
                    _ => Frame::Null,
                }
            })
            .collect(),
    )
}
