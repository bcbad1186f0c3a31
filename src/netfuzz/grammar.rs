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
        for _ in fixed..argc {
            args.push(if rng.below(12) == 0 {
                key(rng, prefix)
            } else {
                argument(rng, prefix)
            });
        }
        prefix_keys(spec, &mut args, rng, prefix);
        bound_reply_counts(spec, &mut args);
        Some((spec, args))
    }
}

/// The longest reply a generated command may ask a server to build from a count alone.
/// SRANDMEMBER, ZRANDMEMBER and HRANDFIELD with a negative count `-n` answer `n` picks
/// whatever the collection holds, and Redis streams them: `SRANDMEMBER k -2147483649` made a
/// redis-server 7.0.15 grow past 24 GB until the kernel killed it. A fuzzer is a guest on the
/// server it tests, so larger counts are sent as `-MAX_GENERATED_REPLY_COUNT`; the parser's
/// edge (`-9223372036854775808`, refused as out of range) is still sent as drawn.
pub const MAX_GENERATED_REPLY_COUNT: i64 = 10_000;

/// The commands whose argument 2 is such a count.
const REPLY_COUNT_COMMANDS: &[&str] = &["srandmember", "zrandmember", "hrandfield"];

/// Applies [`MAX_GENERATED_REPLY_COUNT`] to a generated command.
fn bound_reply_counts(spec: &Spec, args: &mut [Bytes]) {
    if !REPLY_COUNT_COMMANDS.contains(&spec.name) {
        return;
    }
    let Some(count) = args.get_mut(2) else {
        return;
    };
    // Parsed as Redis does (no spaces, an optional sign): what it would take as a count.
    let value = std::str::from_utf8(count)
        .ok()
        .filter(|t| !t.starts_with('+') && !t.contains(' '))
        .and_then(|t| t.parse::<i64>().ok());
    if value.is_some_and(|n| n != i64::MIN && n < -MAX_GENERATED_REPLY_COUNT) {
        *count = Bytes::from((-MAX_GENERATED_REPLY_COUNT).to_string());
    }
}

/// Puts a key under `prefix` at every position the server's key specs read a key from
/// ([`Spec::key_positions`], as the harness's key check does), including the movable keys
/// after a count (LMPOP, ZMPOP, ZUNIONSTORE...) that the legacy first/last/step range does not
/// mark: a generated `ZMPOP 2 3 v MIN` would pop from another user's keys `3` and `v`.
/// Replacing an argument can move the positions (a `STORE` keyword that was a key), so this
/// repeats until none is outside; each round prefixes at least one more argument, so it ends.
fn prefix_keys(spec: &Spec, args: &mut [Bytes], rng: &mut Rng, prefix: &str) {
    loop {
        let views: Vec<&[u8]> = args.iter().map(|a| a.as_ref()).collect();
        let outside: Vec<usize> = spec
            .key_positions(&views)
            .into_iter()
            .filter(|&i| !views[i].starts_with(prefix.as_bytes()))
            .collect();
        if outside.is_empty() {
            return;
        }
        for i in outside {
            args[i] = key(rng, prefix);
        }
    }
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
    fn counts_that_size_a_reply_alone_are_bounded() {
        let spec = |name: &str| {
            crate::server::commands::lookup_spec(Flavor::Redis, name.as_bytes())
                .expect("implemented")
        };
        for (name, given, sent) in [
            ("srandmember", "-2147483649", "-10000"),
            ("zrandmember", "-10001", "-10000"),
            ("hrandfield", "-9223372036854775807", "-10000"),
            (
                "srandmember",
                "-9223372036854775808",
                "-9223372036854775808",
            ),
            ("srandmember", "-10000", "-10000"),
            ("srandmember", "2147483649", "2147483649"),
            ("srandmember", "x", "x"),
            ("lrange", "-2147483649", "-2147483649"),
        ] {
            let mut args = [Bytes::from("X"), Bytes::from("k"), Bytes::from(given)];
            bound_reply_counts(spec(name), &mut args);
            assert_eq!(args[2], Bytes::from(sent), "{name} {given}");
        }
    }

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
            let views: Vec<&[u8]> = args.iter().map(|a| a.as_ref()).collect();
            for i in spec.key_positions(&views) {
                assert!(args[i].starts_with(b"P:"), "{} {:?}", spec.name, args);
            }
        }
    }

    #[test]
    fn movable_keys_after_a_count_are_put_under_the_prefix() {
        // Generated as ZMPOP would be before: its count made `3` and `v` keys.
        let zmpop = crate::server::commands::lookup_spec(Flavor::Redis, b"zmpop").expect("zmpop");
        let mut args: Vec<Bytes> = ["ZMPOP", "3", "P:b", "3", "v", "MIN"]
            .map(Bytes::from)
            .to_vec();
        prefix_keys(zmpop, &mut args, &mut Rng::new(1), "P:");
        assert_eq!(args[0], "ZMPOP");
        assert_eq!(args[1], "3");
        assert_eq!(args[2], "P:b");
        assert!(
            args[3].starts_with(b"P:") && args[4].starts_with(b"P:"),
            "{args:?}"
        );
        assert_eq!(args[5], "MIN");
        let mset = crate::server::commands::lookup_spec(Flavor::Redis, b"mset").expect("mset");
        let mut args: Vec<Bytes> = ["MSET", "x", "1", "y", "2"].map(Bytes::from).to_vec();
        prefix_keys(mset, &mut args, &mut Rng::new(1), "P:");
        assert!(
            args[1].starts_with(b"P:") && args[3].starts_with(b"P:"),
            "{args:?}"
        );
        assert_eq!((&args[2][..], &args[4][..]), (&b"1"[..], &b"2"[..]));
    }
}
