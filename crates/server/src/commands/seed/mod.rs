//! The seed flavor: the commands, replies and error texts of `simpledb` 0.4.3 (see
//! `../shared/seed/simpledb-dialect.md`), minus its bugs: a float stays a float, and
//! malformed input gets an error reply (the connection layer's job).
//!
//! Every value is stored as the typed frame it arrived as (a `%` dict, a `&` set, `^` text,
//! a nested array, a float...) and returned as is; `@` JSON is turned into native values, as
//! simpledb's reader does. Keys are the payload bytes of a string-like frame (`$`, `+`, `^`).

mod collections;
use collections::Algebra;
pub(crate) mod schedule;
mod snapshot;

use bytes::Bytes;

use std::sync::OnceLock;

use super::context::SessionState;
use super::registry::{
    find, index, BeginSearch, Categories, Docs, FindKeys, Flag, Flags, KeyFlags, KeyRange, KeySpec,
    NameIndex, Spec,
};
use crate::db::{Db, Entry, Value};
use crate::state::ServerState;
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

/// A seed command's implementation: the keyspace view, the connection, the arguments after
/// the name (typed values, not only strings).
type SeedRun = fn(&Seed<'_>, &mut SessionState, &[Frame]) -> Frame;

/// A seed command: its spec (name, key positions, `no_auth`) and its code.
pub struct SeedCommand {
    /// The metadata, in the Redis flavor's shape.
    pub spec: Spec,
    run: SeedRun,
}

/// The seed table's keys: the first argument.
const FIRST_KEY: &[KeySpec] = &[KeySpec {
    notes: None,
    flags: KeyFlags::of(&[]),
    begin: BeginSearch::Index(1),
    find: FindKeys::Range {
        last_key: 0,
        key_step: 1,
        limit: 0,
    },
}];

/// Every argument is a key (MGET, MDELETE).
const EVERY_KEY: &[KeySpec] = &[KeySpec {
    notes: None,
    flags: KeyFlags::of(&[]),
    begin: BeginSearch::Index(1),
    find: FindKeys::Range {
        last_key: -1,
        key_step: 1,
        limit: 0,
    },
}];

/// The keys of the one dict argument (MSET).
const DICT_KEYS: &[KeySpec] = &[KeySpec {
    notes: None,
    flags: KeyFlags::of(&[]),
    begin: BeginSearch::Index(1),
    find: FindKeys::DictKeys,
}];

/// A seed command's entry. simpledb checks no arity (a missing argument is a Python
/// exception: `Unhandled server error`), keeps no flags or docs; what the registry holds for
/// it is the name, the key positions and whether it runs before AUTH.
const fn command(name: &'static str, key_specs: &'static [KeySpec], run: SeedRun) -> SeedCommand {
    SeedCommand {
        spec: Spec {
            name,
            arity: -1,
            flags: Flags::of(&[]),
            keys: KeyRange::NONE,
            key_specs,
            acl: Categories::of(&[]),
            tips: &[],
            docs: Docs {
                summary: "",
                since: "0.4.3",
                group: "seed",
                complexity: "",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run,
    }
}

/// A command that runs before authentication (AUTH, QUIT).
const fn before_auth(mut entry: SeedCommand) -> SeedCommand {
    entry.spec.flags = Flags::of(&[Flag::NoAuth]);
    entry
}

/// The seed flavor's commands: simpledb 0.4.3's that we implement, plus AUTH (simpledb has
/// none; ours exists so `--requirepass` means something on this flavor too).
pub const COMMANDS: &[SeedCommand] = &[
    command("set", FIRST_KEY, |s, _, a| s.set(a)),
    command("get", FIRST_KEY, |s, _, a| s.get(a)),
    command("delete", FIRST_KEY, |s, _, a| s.delete(a)),
    command("exists", FIRST_KEY, |s, _, a| s.exists(a)),
    command("mset", DICT_KEYS, |s, _, a| s.mset(a)),
    command("mget", EVERY_KEY, |s, _, a| s.mget(a)),
    command("mdelete", EVERY_KEY, |s, _, a| s.mdelete(a)),
    command("getset", FIRST_KEY, |s, _, a| s.getset(a)),
    command("setnx", FIRST_KEY, |s, _, a| s.setnx(a)),
    command("append", FIRST_KEY, |s, _, a| s.append(a)),
    command("incr", FIRST_KEY, |s, _, a| s.incr(a, 1, false)),
    command("decr", FIRST_KEY, |s, _, a| s.incr(a, -1, false)),
    command("incrby", FIRST_KEY, |s, _, a| s.incr(a, 1, true)),
    command("decrby", FIRST_KEY, |s, _, a| s.incr(a, -1, true)),
    command("mpop", EVERY_KEY, |s, _, a| s.mpop(a)),
    command("pop", FIRST_KEY, |s, _, a| s.pop_key(a)),
    command("setex", FIRST_KEY, |s, _, a| s.setex(a)),
    command("msetex", DICT_KEYS, |s, _, a| s.msetex(a)),
    command("len", &[], |s, _, _| Frame::Integer(s.db.len() as i64)),
    command("flush", &[], |s, _, _| Frame::Integer(s.flush() as i64)),
    command("flushall", &[], |s, _, _| {
        s.flush();
        s.server.seed_schedule.flush();
        Frame::Integer(1)
    }),
    command("expire", FIRST_KEY, |s, _, a| s.expire(a)),
    command("hset", FIRST_KEY, |s, _, a| s.hset(a)),
    command("hget", FIRST_KEY, |s, _, a| s.hget(a)),
    command("hgetall", FIRST_KEY, |s, _, a| {
        s.with_dict(a, |d| Frame::Map(d.clone()))
    }),
    command("hdel", FIRST_KEY, |s, _, a| s.hdel(a)),
    command("hexists", FIRST_KEY, |s, _, a| {
        s.with_field(a, |v| Frame::Integer(i64::from(v.is_some())))
    }),
    command("hlen", FIRST_KEY, |s, _, a| {
        s.with_dict(a, |d| Frame::Integer(d.len() as i64))
    }),
    command("hkeys", FIRST_KEY, |s, _, a| {
        s.with_dict(a, |d| {
            Frame::Array(d.iter().map(|(k, _)| k.clone()).collect())
        })
    }),
    command("hvals", FIRST_KEY, |s, _, a| {
        s.with_dict(a, |d| {
            Frame::Array(d.iter().map(|(_, v)| v.clone()).collect())
        })
    }),
    command("hincrby", FIRST_KEY, |s, _, a| s.hincrby(a)),
    command("hmget", FIRST_KEY, |s, _, a| s.hmget(a)),
    command("hmset", FIRST_KEY, |s, _, a| s.hmset(a)),
    command("hsetnx", FIRST_KEY, |s, _, a| s.hsetnx(a)),
    command("lpush", FIRST_KEY, |s, _, a| s.push(a, true)),
    command("rpush", FIRST_KEY, |s, _, a| s.push(a, false)),
    command("lpop", FIRST_KEY, |s, _, a| s.pop(a, true)),
    command("rpop", FIRST_KEY, |s, _, a| s.pop(a, false)),
    command("llen", FIRST_KEY, |s, _, a| {
        s.with_list(a, |l| Frame::Integer(l.len() as i64))
    }),
    command("lrem", FIRST_KEY, |s, _, a| s.lrem(a)),
    command("lindex", FIRST_KEY, |s, _, a| s.lindex(a)),
    command("lrange", FIRST_KEY, |s, _, a| s.lrange(a)),
    command("lset", FIRST_KEY, |s, _, a| s.lset(a)),
    command("ltrim", FIRST_KEY, |s, _, a| s.ltrim(a)),
    command("rpoplpush", EVERY_KEY, |s, _, a| s.rpoplpush(a)),
    command("lflush", FIRST_KEY, |s, _, a| s.lflush(a)),
    command("sadd", FIRST_KEY, |s, _, a| s.sadd(a)),
    command("srem", FIRST_KEY, |s, _, a| s.srem(a)),
    command("spop", FIRST_KEY, |s, _, a| s.spop(a)),
    command("sdiff", EVERY_KEY, |s, _, a| {
        s.set_algebra(a, Algebra::Diff, false)
    }),
    command("sinter", EVERY_KEY, |s, _, a| {
        s.set_algebra(a, Algebra::Inter, false)
    }),
    command("sunion", EVERY_KEY, |s, _, a| {
        s.set_algebra(a, Algebra::Union, false)
    }),
    command("sdiffstore", EVERY_KEY, |s, _, a| {
        s.set_algebra(a, Algebra::Diff, true)
    }),
    command("sinterstore", EVERY_KEY, |s, _, a| {
        s.set_algebra(a, Algebra::Inter, true)
    }),
    command("sunionstore", EVERY_KEY, |s, _, a| {
        s.set_algebra(a, Algebra::Union, true)
    }),
    command("add", &[], |s, _, a| schedule::add(s, a)),
    command("read", &[], |s, _, a| schedule::read(s, a)),
    command("flush_schedule", &[], |s, _, _| {
        Frame::Integer(s.server.seed_schedule.flush() as i64)
    }),
    command("length_schedule", &[], |s, _, _| {
        Frame::Integer(s.server.seed_schedule.len() as i64)
    }),
    command("save", &[], |s, _, a| snapshot::save(s, a)),
    command("restore", &[], |s, _, a| snapshot::restore(s, a, false)),
    command("merge", &[], |s, _, a| snapshot::restore(s, a, true)),
    command("shutdown", &[], |s, state, _| {
        // simpledb answers `:1`, then stops.
        state.quit = true;
        s.server.stop.send_replace(true);
        Frame::Integer(1)
    }),
    command("smembers", FIRST_KEY, |s, _, a| {
        s.with_set(a, |m| Frame::Set(m.clone()))
    }),
    command("scard", FIRST_KEY, |s, _, a| {
        s.with_set(a, |m| Frame::Integer(m.len() as i64))
    }),
    command("sismember", FIRST_KEY, |s, _, a| match a.get(1) {
        Some(member) => s.with_set(a, |m| Frame::Integer(i64::from(m.contains(member)))),
        None => unhandled(),
    }),
    command("info", &[], |s, state, _| {
        info(s.db, state.stats.snapshot())
    }),
    before_auth(command("quit", &[], |_, state, _| {
        state.quit = true;
        Frame::Integer(1)
    })),
    before_auth(command("auth", &[], auth)),
];

/// Looks a seed command up by name, any case, without allocating.
pub fn lookup(name: &[u8]) -> Option<&'static SeedCommand> {
    static INDEX: OnceLock<NameIndex<SeedCommand>> = OnceLock::new();
    find(
        INDEX.get_or_init(|| index(COMMANDS.iter().map(|c| (c.spec.name, c)))),
        name,
    )
}

/// The seed flavor's refusal before AUTH, in simpledb's style (a plain sentence, no code).
pub const AUTH_REQUIRED: &str = "Authentication required.";

/// `AUTH password`: `:1` when it matches `--requirepass`. Errors are worded in simpledb's
/// style (a plain sentence); a missing or extra argument is, as for every seed command with
/// the wrong arguments, `Unhandled server error`.
fn auth(_: &Seed<'_>, state: &mut SessionState, args: &[Frame]) -> Frame {
    let [password] = args else {
        return unhandled();
    };
    let Some(expected) = state.requirepass.clone() else {
        return Frame::error("AUTH called without any password configured.");
    };
    match text_of(password) {
        Some(given) if given.as_ref() == &*expected => {
            state.authenticated = true;
            Frame::Integer(1)
        }
        _ => Frame::error("Invalid password."),
    }
}

/// Runs one seed request: lookup, authentication, then the command.
pub fn execute(server: &ServerState, state: &mut SessionState, request: Frame) -> Frame {
    let db = server.db0();
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
    let Some(command) = lookup(name) else {
        return Frame::Error(Bytes::from(format!(
            "Unrecognized command: {}",
            python_bytes_repr(&name.to_ascii_uppercase())
        )));
    };
    if !state.authenticated && !command.spec.flags.contains(Flag::NoAuth) {
        return Frame::error(AUTH_REQUIRED);
    }
    let ctx = Seed {
        db,
        server,
        now: state.now(),
    };
    let reply = (command.run)(&ctx, state, args.get(1..).unwrap_or_default());
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
    /// The schedule, the data directory, the stop signal.
    server: &'a ServerState,
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
        let [_, field, value] = args else {
            return unhandled();
        };
        let value = stored(value.clone());
        self.modify_dict(args, |dict| {
            match dict.iter_mut().find(|(k, _)| same_key(k, field)) {
                Some((_, v)) => *v = value,
                None => dict.push((field.clone(), value)),
            }
            Frame::Integer(1)
        })
    }

    fn hdel(&self, args: &[Frame]) -> Frame {
        let [_, field] = args else {
            return unhandled();
        };
        self.modify_dict(args, |dict| {
            let before = dict.len();
            dict.retain(|(k, _)| !same_key(k, field));
            Frame::Integer((before - dict.len()) as i64)
        })
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
        let Some(values) = args.get(1..).filter(|v| !v.is_empty()) else {
            return unhandled();
        };
        self.modify_list(args, |list| {
            for v in values {
                if front {
                    list.insert(0, stored(v.clone()));
                } else {
                    list.push(stored(v.clone()));
                }
            }
            // simpledb answers how many values were pushed, not the list's length.
            Frame::Integer(values.len() as i64)
        })
    }

    fn pop(&self, args: &[Frame], front: bool) -> Frame {
        if args.len() != 1 {
            return unhandled();
        }
        // An emptied queue stays, empty, as simpledb's deque does.
        self.modify_list(args, |list| {
            let item = if front {
                (!list.is_empty()).then(|| list.remove(0))
            } else {
                list.pop()
            };
            item.unwrap_or(Frame::NullBulk)
        })
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
        let Some(members) = args.get(1..).filter(|v| !v.is_empty()) else {
            return unhandled();
        };
        self.modify_set(args, |set| {
            for m in members {
                if !set.contains(m) {
                    set.push(m.clone());
                }
            }
            // simpledb answers the set's size after the add, not how many members were new.
            Frame::Integer(set.len() as i64)
        })
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
