//! The seed flavor: the commands, replies and error texts of `simpledb` 0.4.3 (see
//! `../shared/seed/simpledb-dialect.md`), minus its bugs: a float stays a float, and
//! malformed input gets an error reply (the connection layer's job).
//!
//! Every value is stored as the typed frame it arrived as (a `%` dict, a `&` set, `^` text,
//! a nested array, a float...) and returned as is; `@` JSON is turned into native values, as
//! simpledb's reader does. Keys are the payload bytes of a string-like frame (`$`, `+`, `^`).

use bytes::Bytes;

use crate::db::{Db, Entry, Value};
use crate::session::SessionState;
use respect_resp::Frame;

/// simpledb's reply to any failure it did not anticipate (a Python exception).
fn unhandled() -> Frame {
    Frame::error("Unhandled server error")
}

fn wrong_type() -> Frame {
    Frame::error("Operation against wrong key type.")
}

/// How Python prints a bytes object: `b'PING'`, escapes and all.
pub fn python_bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = format!("b{quote}");
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            c if char::from(c) == quote => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7e => out.push(char::from(c)),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push(quote);
    out
}

/// The bytes of a string-like frame (a key, a field, a command name).
fn text_of(frame: &Frame) -> Option<&Bytes> {
    match frame {
        Frame::Bulk(b) | Frame::Simple(b) | Frame::Text(b) => Some(b),
        _ => None,
    }
}

/// Converts a JSON document into the frames simpledb returns for it: objects become dicts
/// with text keys, strings text, integers integers, other numbers floats, booleans 1/0,
/// null the null. serde_json bounds the nesting (128 levels), so the recursion is bounded.
fn json_to_frame(value: &serde_json::Value) -> Frame {
    match value {
        serde_json::Value::Null => Frame::NullBulk,
        serde_json::Value::Bool(b) => Frame::Integer(i64::from(*b)),
        serde_json::Value::Number(n) => n.as_i64().map_or_else(
            || Frame::Double(n.as_f64().unwrap_or(f64::NAN)),
            Frame::Integer,
        ),
        serde_json::Value::String(s) => Frame::Text(Bytes::from(s.clone())),
        serde_json::Value::Array(items) => Frame::Array(items.iter().map(json_to_frame).collect()),
        serde_json::Value::Object(map) => Frame::Map(
            map.iter()
                .map(|(k, v)| (Frame::Text(Bytes::from(k.clone())), json_to_frame(v)))
                .collect(),
        ),
    }
}

/// A request value as it is stored: JSON decoded, everything else as it came.
fn stored(value: Frame) -> Frame {
    match value {
        Frame::Json(raw) => serde_json::from_slice::<serde_json::Value>(&raw)
            .map_or(Frame::Json(raw), |v| json_to_frame(&v)),
        other => other,
    }
}

/// Runs one seed request.
pub fn execute(db: &Db, state: &mut SessionState, request: Frame) -> Frame {
    let args: Vec<Frame> = match request {
        Frame::Array(items) => items,
        Frame::Inline(args) => args.into_iter().map(Frame::Bulk).collect(),
        _ => return unhandled(),
    };
    let Some(first) = args.first() else {
        return unhandled();
    };
    let Some(name) = text_of(first) else {
        return Frame::error("First parameter must be command name.");
    };
    let name = name.to_ascii_uppercase();
    let ctx = Seed {
        db,
        now: state.now(),
    };
    let rest = args.get(1..).unwrap_or_default();
    let reply = match name.as_slice() {
        b"SET" => ctx.set(rest),
        b"GET" => ctx.get(rest),
        b"DELETE" => ctx.delete(rest),
        b"EXISTS" => ctx.exists(rest),
        b"MSET" => ctx.mset(rest),
        b"MGET" => ctx.mget(rest),
        b"MDELETE" => ctx.mdelete(rest),
        b"GETSET" => ctx.getset(rest),
        b"SETNX" => ctx.setnx(rest),
        b"APPEND" => ctx.append(rest),
        b"INCR" => ctx.incr(rest, 1, false),
        b"DECR" => ctx.incr(rest, -1, false),
        b"INCRBY" => ctx.incr(rest, 1, true),
        b"DECRBY" => ctx.incr(rest, -1, true),
        b"LEN" => Frame::Integer(db.len() as i64),
        b"FLUSH" => Frame::Integer(ctx.flush() as i64),
        b"FLUSHALL" => {
            ctx.flush();
            Frame::Integer(1)
        }
        b"EXPIRE" => ctx.expire(rest),
        b"HSET" => ctx.hset(rest),
        b"HGET" => ctx.hget(rest),
        b"HGETALL" => ctx.with_dict(rest, |d| Frame::Map(d.clone())),
        b"HDEL" => ctx.hdel(rest),
        b"HEXISTS" => ctx.with_field(rest, |v| Frame::Integer(i64::from(v.is_some()))),
        b"HLEN" => ctx.with_dict(rest, |d| Frame::Integer(d.len() as i64)),
        b"HKEYS" => ctx.with_dict(rest, |d| {
            Frame::Array(d.iter().map(|(k, _)| k.clone()).collect())
        }),
        b"HVALS" => ctx.with_dict(rest, |d| {
            Frame::Array(d.iter().map(|(_, v)| v.clone()).collect())
        }),
        b"LPUSH" => ctx.push(rest, true),
        b"RPUSH" => ctx.push(rest, false),
        b"LPOP" => ctx.pop(rest, true),
        b"RPOP" => ctx.pop(rest, false),
        b"LLEN" => ctx.with_list(rest, |l| Frame::Integer(l.len() as i64)),
        b"SADD" => ctx.sadd(rest),
        b"SMEMBERS" => ctx.with_set(rest, |s| Frame::Set(s.clone())),
        b"SCARD" => ctx.with_set(rest, |s| Frame::Integer(s.len() as i64)),
        b"SISMEMBER" => match rest.get(1) {
            Some(member) => ctx.with_set(rest, |s| Frame::Integer(i64::from(s.contains(member)))),
            None => unhandled(),
        },
        b"INFO" => info(db, state.stats.snapshot()),
        b"QUIT" => {
            state.quit = true;
            Frame::Integer(1)
        }
        _ => Frame::Error(Bytes::from(format!(
            "Unrecognized command: {}",
            python_bytes_repr(&name)
        ))),
    };
    state.stats.count_command(reply.is_error());
    reply
}

fn info(db: &Db, stats: crate::StatsSnapshot) -> Frame {
    let text = |k: &'static str| Frame::Text(Bytes::from_static(k.as_bytes()));
    Frame::Map(vec![
        (
            text("active_connections"),
            Frame::Integer(stats.connected as i64),
        ),
        (
            text("commands_processed"),
            Frame::Integer(stats.commands as i64),
        ),
        (text("command_errors"), Frame::Integer(stats.errors as i64)),
        (text("connections"), Frame::Integer(stats.accepted as i64)),
        (text("keys"), Frame::Integer(db.len() as i64)),
        (
            text("timestamp"),
            Frame::Integer((crate::db::now_ms() / 1000) as i64),
        ),
    ])
}

struct Seed<'a> {
    db: &'a Db,
    now: u64,
}

impl Seed<'_> {
    fn key(args: &[Frame], i: usize) -> Option<Bytes> {
        args.get(i).and_then(text_of).cloned()
    }

    fn load(&self, key: &[u8]) -> Option<Frame> {
        let mut shard = self.db.shard(key);
        shard.get(key, self.now).map(|e| match &e.value {
            Value::Seed(f) => f.clone(),
            Value::Str(b) => Frame::Bulk(b.clone()),
            other => Frame::Text(Bytes::from_static(other.type_name().as_bytes())),
        })
    }

    fn store(&self, key: Bytes, value: Frame) {
        self.db
            .shard(&key)
            .insert(key, Entry::new(Value::Seed(value)), self.now);
    }

    fn set(&self, args: &[Frame]) -> Frame {
        match (args, Self::key(args, 0)) {
            ([_, value], Some(key)) => {
                self.store(key, stored(value.clone()));
                Frame::Integer(1)
            }
            _ => unhandled(),
        }
    }

    fn get(&self, args: &[Frame]) -> Frame {
        match (args.len(), Self::key(args, 0)) {
            (1, Some(key)) => self.load(&key).unwrap_or(Frame::NullBulk),
            _ => unhandled(),
        }
    }

    fn delete(&self, args: &[Frame]) -> Frame {
        match (args.len(), Self::key(args, 0)) {
            (1, Some(key)) => Frame::Integer(i64::from(
                self.db.shard(&key).remove(&key, self.now).is_some(),
            )),
            _ => unhandled(),
        }
    }

    fn exists(&self, args: &[Frame]) -> Frame {
        match (args.len(), Self::key(args, 0)) {
            (1, Some(key)) => Frame::Integer(i64::from(self.load(&key).is_some())),
            _ => unhandled(),
        }
    }

    /// `MSET {dict}`: one dict argument, the count of keys set.
    fn mset(&self, args: &[Frame]) -> Frame {
        let [Frame::Map(pairs)] = args else {
            return unhandled();
        };
        let mut n = 0;
        for (k, v) in pairs {
            let Some(key) = text_of(k) else {
                return unhandled();
            };
            self.store(key.clone(), stored(v.clone()));
            n += 1;
        }
        Frame::Integer(n)
    }

    fn mget(&self, args: &[Frame]) -> Frame {
        let keys: Option<Vec<Bytes>> = args.iter().map(|a| text_of(a).cloned()).collect();
        match keys {
            Some(keys) => Frame::Array(
                keys.iter()
                    .map(|k| self.load(k).unwrap_or(Frame::NullBulk))
                    .collect(),
            ),
            None => unhandled(),
        }
    }

    fn mdelete(&self, args: &[Frame]) -> Frame {
        let keys: Option<Vec<Bytes>> = args.iter().map(|a| text_of(a).cloned()).collect();
        match keys {
            Some(keys) => Frame::Integer(
                keys.iter()
                    .filter(|k| self.db.shard(k).remove(k, self.now).is_some())
                    .count() as i64,
            ),
            None => unhandled(),
        }
    }

    fn getset(&self, args: &[Frame]) -> Frame {
        match (args, Self::key(args, 0)) {
            ([_, value], Some(key)) => {
                let old = self.load(&key);
                self.store(key, stored(value.clone()));
                old.unwrap_or(Frame::NullBulk)
            }
            _ => unhandled(),
        }
    }

    fn setnx(&self, args: &[Frame]) -> Frame {
        match (args, Self::key(args, 0)) {
            ([_, value], Some(key)) => {
                if self.load(&key).is_some() {
                    return Frame::Integer(0);
                }
                self.store(key, stored(value.clone()));
                Frame::Integer(1)
            }
            _ => unhandled(),
        }
    }

    fn append(&self, args: &[Frame]) -> Frame {
        let (Some(key), Some(tail)) = (Self::key(args, 0), args.get(1).and_then(text_of)) else {
            return unhandled();
        };
        let joined = match self.load(&key) {
            None => Frame::Bulk(tail.clone()),
            Some(Frame::Bulk(b)) => Frame::Bulk([b.as_ref(), tail.as_ref()].concat().into()),
            Some(Frame::Text(b)) => Frame::Text([b.as_ref(), tail.as_ref()].concat().into()),
            Some(_) => return wrong_type(),
        };
        let len = joined.as_bytes().map_or(0, |b| b.len());
        self.store(key, joined);
        Frame::Integer(len as i64)
    }

    fn incr(&self, args: &[Frame], sign: i64, with_amount: bool) -> Frame {
        let Some(key) = Self::key(args, 0) else {
            return unhandled();
        };
        let amount = if with_amount {
            match args.get(1) {
                Some(Frame::Integer(n)) => *n,
                Some(f) => match f
                    .as_bytes()
                    .and_then(|b| std::str::from_utf8(b).ok()?.parse::<i64>().ok())
                {
                    Some(n) => n,
                    None => return unhandled(),
                },
                None => return unhandled(),
            }
        } else {
            1
        };
        let current = match self.load(&key) {
            None => 0,
            Some(Frame::Integer(n)) => n,
            Some(Frame::Map(_) | Frame::Set(_) | Frame::Array(_)) => return wrong_type(),
            Some(f) => match f
                .as_bytes()
                .and_then(|b| std::str::from_utf8(b).ok()?.parse::<i64>().ok())
            {
                Some(n) => n,
                None => return unhandled(),
            },
        };
        match amount
            .checked_mul(sign)
            .and_then(|d| current.checked_add(d))
        {
            Some(next) => {
                self.store(key, Frame::Integer(next));
                Frame::Integer(next)
            }
            None => unhandled(),
        }
    }

    fn flush(&self) -> usize {
        let now = self.now;
        self.db.for_each_shard(|s| s.clear(now)).into_iter().sum()
    }

    fn expire(&self, args: &[Frame]) -> Frame {
        let (Some(key), Some(seconds)) = (Self::key(args, 0), args.get(1)) else {
            return unhandled();
        };
        let seconds = match seconds {
            Frame::Integer(n) => *n as f64,
            Frame::Double(d) => *d,
            other => match other
                .as_bytes()
                .and_then(|b| std::str::from_utf8(b).ok()?.parse::<f64>().ok())
            {
                Some(s) => s,
                None => return unhandled(),
            },
        };
        let mut shard = self.db.shard(&key);
        match shard.get_mut(&key, self.now) {
            Some(entry) => {
                entry.expires_at =
                    Some(self.now.saturating_add((seconds.max(0.0) * 1000.0) as u64));
                Frame::Integer(1)
            }
            None => Frame::Integer(0),
        }
    }

    /// Runs `f` on the dict at `args[0]` (an empty one when missing).
    fn with_dict(&self, args: &[Frame], f: impl FnOnce(&Vec<(Frame, Frame)>) -> Frame) -> Frame {
        let Some(key) = Self::key(args, 0) else {
            return unhandled();
        };
        match self.load(&key) {
            None => f(&Vec::new()),
            Some(Frame::Map(d)) => f(&d),
            Some(_) => wrong_type(),
        }
    }

    /// Runs `f` on the value of field `args[1]` of the dict at `args[0]`.
    fn with_field(&self, args: &[Frame], f: impl FnOnce(Option<&Frame>) -> Frame) -> Frame {
        let Some(field) = args.get(1).cloned() else {
            return unhandled();
        };
        self.with_dict(args, |d| {
            f(d.iter().find(|(k, _)| same_key(k, &field)).map(|(_, v)| v))
        })
    }

    fn hget(&self, args: &[Frame]) -> Frame {
        if args.len() != 2 {
            return unhandled();
        }
        self.with_field(args, |v| v.cloned().unwrap_or(Frame::NullBulk))
    }

    fn hset(&self, args: &[Frame]) -> Frame {
        let ([_, field, value], Some(key)) = (args, Self::key(args, 0)) else {
            return unhandled();
        };
        let mut dict = match self.load(&key) {
            None => Vec::new(),
            Some(Frame::Map(d)) => d,
            Some(_) => return wrong_type(),
        };
        let value = stored(value.clone());
        match dict.iter_mut().find(|(k, _)| same_key(k, field)) {
            Some((_, v)) => *v = value,
            None => dict.push((field.clone(), value)),
        }
        self.store(key, Frame::Map(dict));
        Frame::Integer(1)
    }

    fn hdel(&self, args: &[Frame]) -> Frame {
        let ([_, field], Some(key)) = (args, Self::key(args, 0)) else {
            return unhandled();
        };
        let mut dict = match self.load(&key) {
            None => return Frame::Integer(0),
            Some(Frame::Map(d)) => d,
            Some(_) => return wrong_type(),
        };
        let before = dict.len();
        dict.retain(|(k, _)| !same_key(k, field));
        let removed = before - dict.len();
        self.store(key, Frame::Map(dict));
        Frame::Integer(removed as i64)
    }

    fn with_list(&self, args: &[Frame], f: impl FnOnce(&Vec<Frame>) -> Frame) -> Frame {
        let Some(key) = Self::key(args, 0) else {
            return unhandled();
        };
        match self.load(&key) {
            None => f(&Vec::new()),
            Some(Frame::Array(l)) => f(&l),
            Some(_) => wrong_type(),
        }
    }

    fn push(&self, args: &[Frame], front: bool) -> Frame {
        let (Some(key), Some(values)) =
            (Self::key(args, 0), args.get(1..).filter(|v| !v.is_empty()))
        else {
            return unhandled();
        };
        let mut list = match self.load(&key) {
            None => Vec::new(),
            Some(Frame::Array(l)) => l,
            Some(_) => return wrong_type(),
        };
        for v in values {
            if front {
                list.insert(0, stored(v.clone()));
            } else {
                list.push(stored(v.clone()));
            }
        }
        self.store(key, Frame::Array(list));
        // simpledb answers how many values were pushed, not the list's length.
        Frame::Integer(values.len() as i64)
    }

    fn pop(&self, args: &[Frame], front: bool) -> Frame {
        let Some(key) = Self::key(args, 0) else {
            return unhandled();
        };
        let mut list = match self.load(&key) {
            None => return Frame::NullBulk,
            Some(Frame::Array(l)) => l,
            Some(_) => return wrong_type(),
        };
        let item = if front {
            (!list.is_empty()).then(|| list.remove(0))
        } else {
            list.pop()
        };
        self.store(key, Frame::Array(list));
        item.unwrap_or(Frame::NullBulk)
    }

    fn with_set(&self, args: &[Frame], f: impl FnOnce(&Vec<Frame>) -> Frame) -> Frame {
        let Some(key) = Self::key(args, 0) else {
            return unhandled();
        };
        match self.load(&key) {
            None => f(&Vec::new()),
            Some(Frame::Set(s)) => f(&s),
            Some(_) => wrong_type(),
        }
    }

    fn sadd(&self, args: &[Frame]) -> Frame {
        let (Some(key), Some(members)) =
            (Self::key(args, 0), args.get(1..).filter(|v| !v.is_empty()))
        else {
            return unhandled();
        };
        let mut set = match self.load(&key) {
            None => Vec::new(),
            Some(Frame::Set(s)) => s,
            Some(_) => return wrong_type(),
        };
        for m in members {
            if !set.contains(m) {
                set.push(m.clone());
            }
        }
        // simpledb answers the set's size after the add, not how many members were new.
        let size = set.len();
        self.store(key, Frame::Set(set));
        Frame::Integer(size as i64)
    }
}

/// Dict keys compare by their bytes when both are string-like (simpledb's bytes and str keys
/// both arrive here as bytes), else structurally.
fn same_key(a: &Frame, b: &Frame) -> bool {
    match (text_of(a), text_of(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::python_bytes_repr;

    #[test]
    fn bytes_repr_matches_python() {
        assert_eq!(python_bytes_repr(b"PING"), "b'PING'");
        assert_eq!(python_bytes_repr(b"it's"), "b\"it's\"");
        assert_eq!(python_bytes_repr(b"a\x00\xff\n\\"), "b'a\\x00\\xff\\n\\\\'");
        assert_eq!(python_bytes_repr(b"'\""), "b'\\'\"'");
    }
}
