//! The parameters CONFIG GET and CONFIG SET know, their validation (Redis 7.0.15's rules and
//! error texts), and the live limits some of them control.
//!
//! Every value is kept in the form CONFIG GET shows it (memory in bytes, enums in lower case,
//! the notification flags in Redis's canonical order). The parameters that map onto a limit
//! of ours (maxclients, proto-max-bulk-len, client-query-buffer-limit, timeout) are also kept
//! as atomics the connection loop reads without a lock.
//! The others are accepted and stored only (this server has no persistence, eviction,
//! replication or scripting), which is what a client or test suite configuring them needs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

use bytes::Bytes;

use crate::glob::glob_match;

/// How a parameter's value is checked and normalised.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// An integer in `min..=max`.
    Int { min: i64, max: i64 },
    /// A memory amount (`100mb`, `1gb`, `1k`, bytes) in `min..=max`, shown in bytes.
    Memory { min: i64, max: i64 },
    /// `yes` or `no`.
    Bool,
    /// One of these words.
    Enum(&'static [&'static str]),
    /// Pairs of `seconds changes`, or empty.
    Save,
    /// keyspace notification classes (`notify-keyspace-events`).
    Notify,
    /// Set at start only.
    Immutable,
    /// Any text (a password a replica would send its master: `masterauth`).
    Text,
    /// Refused by CONFIG SET unless `enable-protected-configs` allows it (Redis 7.0's
    /// `dir`, `dbfilename`); this server never allows it.
    Protected,
}

/// One parameter: its name, the old name Redis still accepts, its default, its kind.
struct Param {
    name: &'static str,
    alias: Option<&'static str>,
    default: &'static str,
    kind: Kind,
}

const I32: i64 = i32::MAX as i64;
const MIB: i64 = 1024 * 1024;

/// Every parameter CONFIG knows: the ones clients and Redis's own test suite set or read.
const PARAMS: &[Param] = &[
    p(
        "maxclients",
        None,
        "10000",
        Kind::Int {
            min: 1,
            max: u32::MAX as i64,
        },
    ),
    p(
        "proto-max-bulk-len",
        None,
        "536870912",
        Kind::Memory {
            min: MIB,
            max: i64::MAX,
        },
    ),
    p(
        "client-query-buffer-limit",
        None,
        "1073741824",
        Kind::Memory {
            min: MIB,
            max: i64::MAX,
        },
    ),
    p("databases", None, "16", Kind::Immutable),
    p("hz", None, "10", Kind::Int { min: 0, max: I32 }),
    p("timeout", None, "0", Kind::Int { min: 0, max: I32 }),
    p(
        "maxmemory",
        None,
        "0",
        Kind::Memory {
            min: 0,
            max: i64::MAX,
        },
    ),
    p(
        "maxmemory-policy",
        None,
        "noeviction",
        Kind::Enum(&[
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "noeviction",
        ]),
    ),
    p("save", None, "", Kind::Save),
    p("dir", None, "", Kind::Protected),
    p("dbfilename", None, "dump.rdb", Kind::Protected),
    p("appendonly", None, "no", Kind::Bool),
    p(
        "appendfsync",
        None,
        "everysec",
        Kind::Enum(&["always", "everysec", "no"]),
    ),
    p("appendfilename", None, "appendonly.aof", Kind::Immutable),
    p("notify-keyspace-events", None, "", Kind::Notify),
    // What a replica would authenticate to its master with. This server never connects to
    // a master (see `crate::replication`): kept for CONFIG GET, and redacted in the slow log.
    p("masterauth", None, "", Kind::Text),
    p("masteruser", None, "", Kind::Text),
    // The default user's password (see `crate::acl`): CONFIG SET makes it the one password
    // of the default user, or none when empty.
    p("requirepass", None, "", Kind::Text),
    p(
        "acllog-max-len",
        None,
        "128",
        Kind::Int {
            min: 0,
            max: i64::MAX,
        },
    ),
    p(
        "tracking-table-max-keys",
        None,
        "1000000",
        Kind::Int {
            min: 0,
            max: i64::MAX,
        },
    ),
    p(
        "acl-pubsub-default",
        None,
        "resetchannels",
        Kind::Enum(&["allchannels", "resetchannels"]),
    ),
    p(
        "slowlog-log-slower-than",
        None,
        "10000",
        Kind::Int {
            min: -1,
            max: i64::MAX,
        },
    ),
    p(
        "slowlog-max-len",
        None,
        "128",
        Kind::Int {
            min: 0,
            max: i64::MAX,
        },
    ),
    p(
        "busy-reply-threshold",
        Some("lua-time-limit"),
        "5000",
        Kind::Int {
            min: 0,
            max: i64::MAX,
        },
    ),
    p(
        "hash-max-listpack-entries",
        Some("hash-max-ziplist-entries"),
        "512",
        Kind::Int {
            min: 0,
            max: i64::MAX,
        },
    ),
    p(
        "hash-max-listpack-value",
        Some("hash-max-ziplist-value"),
        "64",
        // A memory amount in Redis 7.0 (`1kb` is accepted and shown as 1024).
        Kind::Memory {
            min: 0,
            max: i64::MAX,
        },
    ),
    p(
        "zset-max-listpack-entries",
        Some("zset-max-ziplist-entries"),
        "128",
        Kind::Int {
            min: 0,
            max: i64::MAX,
        },
    ),
    p(
        "zset-max-listpack-value",
        Some("zset-max-ziplist-value"),
        "64",
        // A memory amount in Redis 7.0 (`1kb` is accepted and shown as 1024).
        Kind::Memory {
            min: 0,
            max: i64::MAX,
        },
    ),
    p(
        "stream-node-max-entries",
        None,
        "100",
        Kind::Int {
            min: 0,
            max: i64::MAX,
        },
    ),
    p(
        "stream-node-max-bytes",
        None,
        "4096",
        // A memory amount in Redis 7.0.
        Kind::Memory {
            min: 0,
            max: i64::MAX,
        },
    ),
    p(
        "set-max-intset-entries",
        None,
        "512",
        Kind::Int {
            min: 0,
            max: i64::MAX,
        },
    ),
    p(
        "list-max-listpack-size",
        Some("list-max-ziplist-size"),
        "-2",
        Kind::Int {
            min: i32::MIN as i64,
            max: I32,
        },
    ),
    p(
        "replica-serve-stale-data",
        Some("slave-serve-stale-data"),
        "yes",
        Kind::Bool,
    ),
    p(
        "replica-read-only",
        Some("slave-read-only"),
        "yes",
        Kind::Bool,
    ),
    p(
        "min-replicas-to-write",
        Some("min-slaves-to-write"),
        "0",
        Kind::Int { min: 0, max: I32 },
    ),
    p(
        "repl-ping-replica-period",
        Some("repl-ping-slave-period"),
        "10",
        Kind::Int { min: 1, max: I32 },
    ),
    p("lazyfree-lazy-user-flush", None, "no", Kind::Bool),
    p("latency-tracking", None, "yes", Kind::Bool),
    p(
        "loglevel",
        None,
        "notice",
        Kind::Enum(&["debug", "verbose", "notice", "warning"]),
    ),
    p("enable-debug-command", None, "no", Kind::Immutable),
    // --- encodings and eviction tuning (wt-keyspace): stored for CONFIG GET; the encoding
    // limits above are also mirrored in `Settings::encoding` for OBJECT ENCODING ---
    p(
        "list-compress-depth",
        None,
        "0",
        Kind::Int { min: 0, max: I32 },
    ),
    p("lfu-log-factor", None, "10", Kind::Int { min: 0, max: I32 }),
    p("lfu-decay-time", None, "1", Kind::Int { min: 0, max: I32 }),
    p(
        "maxmemory-samples",
        None,
        "5",
        Kind::Int { min: 1, max: I32 },
    ),
    p(
        "active-expire-effort",
        None,
        "1",
        Kind::Int { min: 1, max: 10 },
    ),
    p("lazyfree-lazy-eviction", None, "no", Kind::Bool),
    p("lazyfree-lazy-expire", None, "no", Kind::Bool),
    p("lazyfree-lazy-server-del", None, "no", Kind::Bool),
    p("lazyfree-lazy-user-del", None, "no", Kind::Bool),
    // The largest sparse HyperLogLog before it turns dense (read by PFADD and PFMERGE).
    p(
        "hll-sparse-max-bytes",
        None,
        "3000",
        Kind::Memory {
            min: 0,
            max: i64::MAX,
        },
    ),
];

const fn p(
    name: &'static str,
    alias: Option<&'static str>,
    default: &'static str,
    kind: Kind,
) -> Param {
    Param {
        name,
        alias,
        default,
        kind,
    }
}

/// Redis's highest `hz`: a larger value is stored and shown as this (its `updateHz`).
const MAX_HZ: i64 = 500;

/// The parameters' current values and the live limits.
#[derive(Debug)]
pub struct Settings {
    values: RwLock<HashMap<&'static str, String>>,
    /// `maxclients`, read by the accept loop.
    pub maxclients: AtomicU64,
    /// `proto-max-bulk-len`, read by each connection's decoder.
    pub proto_max_bulk_len: AtomicU64,
    /// `client-query-buffer-limit`, read by each connection.
    pub query_buffer_limit: AtomicU64,
    /// `maxmemory` in bytes (0: no limit), read before each command that may grow memory.
    pub maxmemory: AtomicU64,
    /// `timeout` in seconds (0: never), read by each connection while it waits for input.
    pub timeout_secs: AtomicU64,
    /// Told when `timeout` is set, so idle connections re-arm their timers.
    timeout_changed: tokio::sync::watch::Sender<()>,
    /// The encoding limits, read by every write that may convert (see `crate::encoding`).
    pub encoding: crate::encoding::Limits,
    /// `hll-sparse-max-bytes`, read by PFADD and PFMERGE.
    pub hll_sparse_max_bytes: AtomicU64,
    /// `slowlog-log-slower-than` in microseconds (-1: off), read after every command.
    pub slowlog_slower_than: std::sync::atomic::AtomicI64,
    /// `slowlog-max-len`.
    pub slowlog_max_len: AtomicU64,
    /// `min-replicas-to-write` (0: off), read before every write.
    pub min_replicas_to_write: AtomicU64,
    /// `maxmemory-policy`, parsed (see `crate::evict::policy_code`; 0: `noeviction`), read
    /// before every command while over `maxmemory`.
    pub eviction_policy: std::sync::atomic::AtomicU8,
    /// `maxmemory-samples`, read by each eviction pass.
    pub maxmemory_samples: AtomicU64,
    /// `busy-reply-threshold` in milliseconds (0: never busy), read before every command
    /// while a script runs.
    pub busy_reply_threshold: AtomicU64,
}

impl Settings {
    /// `proto-max-bulk-len` as a length: the longest string a payload (RESTORE, FUNCTION
    /// RESTORE, an RDB file) may declare.
    pub fn max_bulk_len(&self) -> usize {
        usize::try_from(self.proto_max_bulk_len.load(Ordering::Relaxed)).unwrap_or(usize::MAX)
    }

    /// Every parameter at its default, with `databases` as given.
    pub fn new(databases: usize) -> Settings {
        let mut values: HashMap<&'static str, String> = PARAMS
            .iter()
            .map(|p| (p.name, p.default.to_string()))
            .collect();
        values.insert("databases", databases.to_string());
        Settings {
            values: RwLock::new(values),
            maxclients: AtomicU64::new(10_000),
            proto_max_bulk_len: AtomicU64::new(512 * MIB as u64),
            query_buffer_limit: AtomicU64::new(1024 * MIB as u64),
            maxmemory: AtomicU64::new(0),
            timeout_secs: AtomicU64::new(0),
            timeout_changed: tokio::sync::watch::Sender::new(()),
            encoding: crate::encoding::Limits::default(),
            hll_sparse_max_bytes: AtomicU64::new(3000),
            slowlog_slower_than: std::sync::atomic::AtomicI64::new(10_000),
            slowlog_max_len: AtomicU64::new(128),
            min_replicas_to_write: AtomicU64::new(0),
            eviction_policy: std::sync::atomic::AtomicU8::new(0),
            maxmemory_samples: AtomicU64::new(5),
            busy_reply_threshold: AtomicU64::new(5000),
        }
    }

    /// A receiver told of every CONFIG SET of `timeout` from now on.
    pub fn timeout_changes(&self) -> tokio::sync::watch::Receiver<()> {
        self.timeout_changed.subscribe()
    }

    /// Sets a parameter at start (a `ServerConfig` field), bypassing the mutability check
    /// and the range (a value CONFIG SET would refuse is stored as given).
    pub fn set_initial(&self, name: &str, value: &str) {
        if let Some(param) = PARAMS.iter().find(|p| p.name == name) {
            let normalised = match param.kind {
                Kind::Immutable => Ok(value.to_string()),
                kind => normalise(kind, value.as_bytes()),
            };
            self.apply(param, normalised.unwrap_or_else(|_| value.to_string()));
        }
    }

    /// The current value of `name` (canonical name).
    pub fn get(&self, name: &str) -> Option<String> {
        self.read().get(name).cloned()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<&'static str, String>> {
        self.values.read().unwrap_or_else(|p| p.into_inner())
    }

    /// CONFIG GET's reply pairs for `patterns`: a pattern without glob characters names one
    /// parameter (shown under the name as given, once even if repeated in any case), a
    /// glob is matched without case against every name and alias.
    pub fn matching(&self, patterns: &[Bytes]) -> Vec<(Bytes, Bytes)> {
        let values = self.read();
        let mut seen: Vec<Vec<u8>> = Vec::new();
        let mut out = Vec::new();
        let mut add = |shown: Bytes, param: &Param, out: &mut Vec<(Bytes, Bytes)>| {
            let key = shown.to_ascii_lowercase();
            if seen.contains(&key) {
                return;
            }
            seen.push(key);
            let value = values.get(param.name).cloned().unwrap_or_default();
            out.push((shown, Bytes::from(value)));
        };
        for pattern in patterns {
            if !pattern.iter().any(|c| matches!(c, b'*' | b'?' | b'[')) {
                if let Some(param) = lookup(pattern) {
                    add(pattern.clone(), param, &mut out);
                }
                continue;
            }
            let lower = pattern.to_ascii_lowercase();
            for param in PARAMS {
                if glob_match(&lower, param.name.as_bytes()) {
                    add(Bytes::from_static(param.name.as_bytes()), param, &mut out);
                }
                if let Some(alias) = param.alias.filter(|a| glob_match(&lower, a.as_bytes())) {
                    add(Bytes::from_static(alias.as_bytes()), param, &mut out);
                }
            }
        }
        out
    }

    /// CONFIG SET name value [name value ...]: every pair is checked before any is applied,
    /// so a failing set changes nothing. `pairs` holds an even number of arguments (the
    /// caller checked). The error is Redis's text, without the `ERR ` prefix.
    pub fn set(&self, pairs: &[Bytes]) -> Result<(), String> {
        let mut checked: Vec<(&'static Param, String)> = Vec::new();
        for pair in pairs.chunks(2) {
            let [name, value] = pair else {
                return Err("wrong number of arguments for 'config|set' command".into());
            };
            let Some(param) = lookup(name) else {
                return Err(format!(
                    "Unknown option or number of arguments for CONFIG SET - '{}'",
                    String::from_utf8_lossy(name)
                ));
            };
            let failed = |why: &str| {
                format!(
                    "CONFIG SET failed (possibly related to argument '{}') - {why}",
                    String::from_utf8_lossy(name)
                )
            };
            if checked.iter().any(|(p, _)| p.name == param.name) {
                return Err(failed("duplicate parameter"));
            }
            let normalised = match param.kind {
                Kind::Immutable => Err("can't set immutable config".to_string()),
                Kind::Protected => Err("can't set protected config".to_string()),
                kind => normalise(kind, value),
            };
            checked.push((param, normalised.map_err(|why| failed(&why))?));
        }
        for (param, value) in checked {
            self.apply(param, value);
        }
        Ok(())
    }

    fn apply(&self, param: &Param, value: String) {
        let number = value.parse::<i64>().ok();
        // Redis's `updateHz` clamps the stored value itself: CONFIG GET shows the clamp.
        let value = match (param.name, number) {
            ("hz", Some(hz)) => shown_hz(hz).to_string(),
            _ => value,
        };
        let as_u64 = |n: Option<i64>| n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
        match param.name {
            "maxclients" => self.maxclients.store(as_u64(number), Ordering::Relaxed),
            "proto-max-bulk-len" => self
                .proto_max_bulk_len
                .store(as_u64(number), Ordering::Relaxed),
            "client-query-buffer-limit" => self
                .query_buffer_limit
                .store(as_u64(number), Ordering::Relaxed),
            "maxmemory" => self.maxmemory.store(as_u64(number), Ordering::Relaxed),
            "hll-sparse-max-bytes" => self
                .hll_sparse_max_bytes
                .store(as_u64(number), Ordering::Relaxed),
            "slowlog-log-slower-than" => self
                .slowlog_slower_than
                .store(number.unwrap_or(10_000), Ordering::Relaxed),
            "slowlog-max-len" => self
                .slowlog_max_len
                .store(as_u64(number), Ordering::Relaxed),
            "min-replicas-to-write" => self
                .min_replicas_to_write
                .store(as_u64(number), Ordering::Relaxed),
            "timeout" => {
                self.timeout_secs.store(as_u64(number), Ordering::Relaxed);
                self.timeout_changed.send_replace(());
            }
            "maxmemory-policy" => {
                self.encoding.set_policy(&value);
                self.eviction_policy
                    .store(crate::evict::policy_code(&value), Ordering::Relaxed);
            }
            "busy-reply-threshold" => self
                .busy_reply_threshold
                .store(as_u64(number), Ordering::Relaxed),
            "maxmemory-samples" => self
                .maxmemory_samples
                .store(number.map_or(5, |n| n.max(1) as u64), Ordering::Relaxed),
            // The encoding limits (`hash-max-listpack-entries`...) and the LFU parameters:
            // see `crate::encoding`.
            _ => self.encoding.apply(param.name, number),
        }
        let mut values = self.values.write().unwrap_or_else(|p| p.into_inner());
        values.insert(param.name, value);
    }
}

/// The parameter called `name` (or by its alias), any case.
fn lookup(name: &[u8]) -> Option<&'static Param> {
    PARAMS.iter().find(|p| {
        name.eq_ignore_ascii_case(p.name.as_bytes())
            || p.alias
                .is_some_and(|a| name.eq_ignore_ascii_case(a.as_bytes()))
    })
}

/// A value checked against `kind` and put in the form CONFIG GET shows, or Redis's reason.
fn normalise(kind: Kind, value: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(value)
        .map_err(|_| "argument couldn't be parsed into an integer".to_string());
    match kind {
        Kind::Int { min, max } => {
            let n = text?
                .parse::<i64>()
                .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
            in_range(n, min, max)?;
            Ok(n.to_string())
        }
        Kind::Memory { min, max } => {
            let n = std::str::from_utf8(value)
                .ok()
                .and_then(parse_memory)
                .ok_or_else(|| "argument must be a memory value".to_string())?;
            in_range(n, min, max)?;
            Ok(n.to_string())
        }
        Kind::Bool => match value.to_ascii_lowercase().as_slice() {
            b"yes" => Ok("yes".into()),
            b"no" => Ok("no".into()),
            _ => Err("argument must be 'yes' or 'no'".into()),
        },
        Kind::Enum(words) => words
            .iter()
            .find(|w| value.eq_ignore_ascii_case(w.as_bytes()))
            .map(|w| w.to_string())
            .ok_or_else(|| {
                format!(
                    "argument(s) must be one of the following: {}",
                    words.join(", ")
                )
            }),
        Kind::Save => normalise_save(value),
        Kind::Text => Ok(String::from_utf8_lossy(value).into_owned()),
        Kind::Notify => crate::notify::canonical(value),
        Kind::Immutable => Err("can't set immutable config".into()),
        Kind::Protected => Err("can't set protected config".into()),
    }
}

fn in_range(n: i64, min: i64, max: i64) -> Result<(), String> {
    if (min..=max).contains(&n) {
        Ok(())
    } else {
        Err(format!(
            "argument must be between {min} and {max} inclusive"
        ))
    }
}

/// A memory amount as Redis's `memtoull` reads it: digits and an optional unit (`b`, `k`,
/// `kb`, `m`, `mb`, `g`, `gb`, any case; `k` is 1000, `kb` 1024).
pub(crate) fn parse_memory(text: &str) -> Option<i64> {
    let lower = text.to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (digits, unit) = lower.split_at(digits_end);
    let multiplier: i64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    digits.parse::<i64>().ok()?.checked_mul(multiplier)
}

/// `save` as Redis accepts it: empty, or pairs of non-negative integers (seconds, changes),
/// shown space-separated.
fn normalise_save(value: &[u8]) -> Result<String, String> {
    let invalid = || "Invalid save parameters".to_string();
    let text = std::str::from_utf8(value).map_err(|_| invalid())?;
    let words: Vec<&str> = text.split_whitespace().collect();
    if !words.len().is_multiple_of(2) {
        return Err(invalid());
    }
    for word in &words {
        match word.parse::<i64>() {
            Ok(n) if n >= 0 => {}
            _ => return Err(invalid()),
        }
    }
    Ok(words.join(" "))
}

/// The value `hz` shows: Redis clamps it to 1..=500 when applied.
pub fn shown_hz(stored: i64) -> i64 {
    stored.clamp(1, MAX_HZ)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(items: &[&str]) -> Vec<Bytes> {
        items.iter().map(|s| Bytes::from(s.to_string())).collect()
    }

    #[test]
    fn set_is_all_or_nothing() {
        let settings = Settings::new(16);
        let failed = settings.set(&args(&["timeout", "5", "maxclients", "zero"]));
        assert!(failed.is_err());
        assert_eq!(settings.get("timeout").as_deref(), Some("0"));
        assert_eq!(
            settings.set(&args(&["timeout", "5", "maxclients", "20"])),
            Ok(())
        );
        assert_eq!(settings.maxclients.load(Ordering::Relaxed), 20);
        assert_eq!(settings.timeout_secs.load(Ordering::Relaxed), 5);
    }

    #[test]
    fn memory_units_are_redis_units() {
        assert_eq!(parse_memory("100mb"), Some(100 * 1024 * 1024));
        assert_eq!(parse_memory("100k"), Some(100_000));
        assert_eq!(parse_memory("1zz"), None);
        assert_eq!(parse_memory(""), None);
    }
}
