//! Grammar-driven commands: generated from the server's command registry
//! ([`crate::server::commands::command_table`]) rather than a fixed list, so every command we
//! implement is exercised with its own arity and key positions, and typed arguments that find
//! the edges of argument parsing (edge integers, odd floats, huge counts, option keywords,
//! binary values). Keys are always under a caller-given prefix, so a run touches only its own
//! keys on a shared server.

use bytes::Bytes;

use super::generate::Rng;
use crate::server::commands::{command_table, Category, Flag, Spec};
use crate::server::Flavor;

/// Commands a generated sequence never sends, and why: each would change the connection or
/// the server for everything after it (database, protocol, authentication, replication,
/// configuration, shutdown), block, wait on time, or answer with server-wide state that
/// another run or the server's own uptime changes (so no two servers can agree on it).
pub const EXCLUDED: &[&str] = &[
    "select",
    "swapdb",
    "move",
    "copy",
    "hello",
    "auth",
    "reset",
    "quit",
    "client",
    "command",
    "info",
    "config",
    "time",
    "lastsave",
    "dbsize",
    "randomkey",
    "scan",
    "keys",
    "memory",
    "object",
    "latency",
    "slowlog",
    "wait",
    "waitaof",
    "lolwut",
    "debug",
    "monitor",
    "multi",
    "exec",
    "discard",
    "watch",
    "unwatch",
    "flushall",
    "flushdb",
    "shutdown",
    "save",
    "bgsave",
    "bgrewriteaof",
    "replicaof",
    "slaveof",
    "sync",
    "psync",
    "failover",
    "acl",
    "module",
    "function",
    "script",
    "eval",
    "evalsha",
    "eval_ro",
    "evalsha_ro",
    "fcall",
    "fcall_ro",
    "migrate",
    "restore",
    "dump",
    "sort",
    "sort_ro",
    "readonly",
    "readwrite",
    "asking",
    "cluster",
    "pubsub",
    "role",
    "echo",
];

/// Commands whose integer reply is a time left or a timestamp: a second (or millisecond)
/// boundary falls differently on two servers. Positive values compare as "positive".
pub const TIME_REPLIES: &[&str] = &["ttl", "pttl", "expiretime", "pexpiretime"];

/// Option keywords of Redis's argument specs (the registry holds no argument tree), mixed into
/// argument positions so that option parsing is reached.
pub const KEYWORDS: &[&str] = &[
    "NX",
    "XX",
    "GT",
    "LT",
    "EX",
    "PX",
    "EXAT",
    "PXAT",
    "KEEPTTL",
    "GET",
    "CH",
    "INCR",
    "WITHSCORES",
    "LIMIT",
    "COUNT",
    "MATCH",
    "TYPE",
    "BEFORE",
    "AFTER",
    "LEFT",
    "RIGHT",
    "REV",
    "BYSCORE",
    "BYLEX",
    "RANK",
    "MAXLEN",
    "LEN",
    "IDX",
    "MINMATCHLEN",
    "WITHMATCHLEN",
    "WITHVALUES",
    "REPLACE",
    "ABSTTL",
    "IDLETIME",
    "FREQ",
    "FIELDS",
    "SUM",
    "MIN",
    "MAX",
    "WEIGHTS",
    "AGGREGATE",
    "ASC",
    "DESC",
    "ALPHA",
    "STORE",
    "BY",
];

/// Integers at the edges of Redis's parsers (`string2ll`, `getRangeLongFromObject`,
/// `getPositiveLongFromObject`), as text.
pub const EDGE_INTEGERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "3",
    "10",
    "-100",
    "2147483647",
    "2147483648",
    "-2147483649",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "99999999999999999999",
    "007",
    "+1",
    " 1",
    "1 ",
    "0x10",
];

/// Floats at the edges of `strtold`-based parsing and of formatting.
pub const EDGE_FLOATS: &[&str] = &[
    "1.5",
    "-0",
    "-0.0",
    "inf",
    "-inf",
    "+inf",
    "nan",
    "1e308",
    "1e309",
    "3.0e-5",
    ".5",
    "5.",
    "1e",
    "0.1",
    "-1.5",
    "1.7976931348623157e308",
    "4.9e-324",
];

/// Keys of a sequence: few, so that commands meet on the same keys and types.
pub const KEY_NAMES: &[&str] = &["a", "b", "c", "d"];

/// The commands a flavor's registry offers for generated sequences.
#[derive(Debug, Clone)]
pub struct Grammar {
    specs: Vec<&'static Spec>,
}

/// Whether a generated sequence may send `spec` (see [`EXCLUDED`]).
fn sendable(spec: &Spec) -> bool {
    let base = spec.name.split('|').next().unwrap_or(spec.name);
    !EXCLUDED.contains(&base)
        && !spec.flags.contains(Flag::Admin)
        && !spec.flags.contains(Flag::Pubsub)
        && !spec.flags.contains(Flag::Blocking)
        && !spec.flags.contains(Flag::Noscript)
        && !spec.acl.contains(Category::Dangerous)
}

impl Grammar {
    /// The sendable commands of `flavor`'s registry (subcommands as their own entries).
    pub fn from_registry(flavor: Flavor) -> Grammar {
        let mut specs = Vec::new();
        for spec in command_table(flavor) {
            if spec.subcommands.is_empty() {
                specs.push(spec);
            } else {
                specs.extend(spec.subcommands.iter());
            }
        }
        specs.retain(|s| sendable(s));
        Grammar { specs }
    }

    /// The commands it draws from.
    pub fn specs(&self) -> &[&'static Spec] {
        &self.specs
    }

    /// One command: its spec and its arguments (name first), keys under `prefix`.
    pub fn command(&self, rng: &mut Rng, prefix: &str) -> Option<(&'static Spec, Vec<Bytes>)> {
        let spec = *self.specs.get(rng.below(self.specs.len().max(1)))?;
        let words: Vec<&str> = spec.name.split('|').collect();
        let fixed = words.len();
        let mut argc = if spec.arity >= 0 {
            spec.arity.unsigned_abs() as usize
        } else {
            spec.arity.unsigned_abs() as usize + rng.below(5)
        };
        // Now and then one argument too few or too many: the arity error path.
        match rng.below(20) {
            0 => argc = argc.saturating_sub(1),
            1 => argc += 1,
            _ => {}
        }
        let argc = argc.max(fixed);
        let mut args: Vec<Bytes> = words
            .iter()
            .map(|w| Bytes::from(w.to_uppercase()))
            .collect();
        let keys = key_indexes(spec, argc);
        for i in fixed..argc {
            args.push(if keys.contains(&i) || rng.below(12) == 0 {
                key(rng, prefix)
            } else {
                argument(rng, prefix)
            });
        }
        Some((spec, args))
    }
}

/// The argument indexes (name = 0) that the legacy key range marks as keys in `argc` arguments.
fn key_indexes(spec: &Spec, argc: usize) -> Vec<usize> {
    let range = spec.keys;
    if range.first <= 0 || range.step <= 0 {
        return Vec::new();
    }
    let first = range.first.unsigned_abs() as usize;
    let last = if range.last < 0 {
        argc.saturating_sub(range.last.unsigned_abs() as usize)
    } else {
        range.last.unsigned_abs() as usize
    };
    (first..=last.min(argc.saturating_sub(1)))
        .step_by(range.step.unsigned_abs() as usize)
        .collect()
}

fn key(rng: &mut Rng, prefix: &str) -> Bytes {
    let name = KEY_NAMES[rng.below(KEY_NAMES.len())];
    Bytes::from(format!("{prefix}{name}"))
}

/// A typed argument: mostly small integers and short values (what commands accept), with
/// edges, keywords and binary values mixed in.
fn argument(rng: &mut Rng, prefix: &str) -> Bytes {
    let pick = |rng: &mut Rng, list: &[&str]| Bytes::from(list[rng.below(list.len())].to_string());
    match rng.below(16) {
        0..=3 => Bytes::from(rng.below(6).to_string()),
        4..=5 => pick(rng, EDGE_INTEGERS),
        6..=7 => pick(rng, KEYWORDS),
        8 => pick(rng, EDGE_FLOATS),
        9 => Bytes::new(),
        10 => {
            let len = 1 + rng.below(6);
            Bytes::from(rng.bytes(len))
        }
        11 => Bytes::from(vec![b'x'; 1 + rng.below(100)]),
        12 => key(rng, prefix),
        _ => Bytes::from(["v", "w", "field", "member", "a b"][rng.below(5)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_only_sendable_commands_with_keys_under_the_prefix() {
        let grammar = Grammar::from_registry(Flavor::Redis);
        assert!(grammar.specs().len() > 50, "{}", grammar.specs().len());
        assert!(grammar.specs().iter().all(|s| sendable(s)));
        assert!(grammar.specs().iter().any(|s| s.name == "set"));
        assert!(!grammar.specs().iter().any(|s| s.name == "flushall"));
        let mut rng = Rng::new(7);
        for _ in 0..2000 {
            let (spec, args) = grammar.command(&mut rng, "P:").expect("a command");
            for i in key_indexes(spec, args.len()) {
                assert!(args[i].starts_with(b"P:"), "{} {:?}", spec.name, args);
            }
        }
    }

    #[test]
    fn key_indexes_follow_the_legacy_range() {
        let set = crate::server::commands::lookup_spec(Flavor::Redis, b"mset").expect("mset");
        assert_eq!(key_indexes(set, 5), vec![1, 3]);
        let del = crate::server::commands::lookup_spec(Flavor::Redis, b"del").expect("del");
        assert_eq!(key_indexes(del, 4), vec![1, 2, 3]);
    }
}
