//! DUMP and RESTORE: a value as Redis's RDB serializes it (see [`crate::rdb`]), so a payload
//! DUMPed from redis-server RESTOREs here and one DUMPed here RESTOREs into redis-server.
//!
//! RESTORE's IDLETIME and FREQ set the key's use stamp (see [`crate::access`]) as Redis's
//! `objectSetLRUOrLFU` does: IDLETIME under an LRU (or any non-LFU) policy, FREQ under LFU.

use bytes::Bytes;

use super::args::{integer, is_keyword};
use super::context::Ctx;
use super::propagate::{number, word};
use super::registry::{
    BeginSearch, Categories, Category, Command, Docs, FindKeys, Flag, Flags, KeyFlag, KeyFlags,
    KeyRange, KeySpec, Spec,
};
use super::reply::{ok, syntax_error};
use super::watch::signal_modified;
use crate::db::{Entry, Value};
use respect_resp::Frame;

/// This family's commands.
#[rustfmt::skip]
pub const COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "dump",
            arity: 2,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Keyspace, Category::Read, Category::Slow]),
            tips: &["nondeterministic_output"],
            docs: Docs {
                summary: "Return a serialized version of the value stored at the specified key.",
                since: "2.6.0",
                group: "generic",
                complexity: "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: dump,
    },
    Command {
        spec: Spec {
            name: "restore",
            arity: -4,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ow, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Keyspace, Category::Write, Category::Slow, Category::Dangerous]),
            tips: &[],
            docs: Docs {
                summary: "Create a key using the provided serialized value, previously obtained using DUMP.",
                since: "2.6.0",
                group: "generic",
                complexity: "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).",
                deprecated: None,
                history: &[("3.0.0", "Added the `REPLACE` modifier."), ("5.0.0", "Added the `ABSTTL` modifier."), ("5.0.0", "Added the `IDLETIME` and `FREQ` options.")],
            },
            subcommands: &[],
        },
        run: restore,
    },
];

/// `DUMP key`: the payload, or a null for a missing key. A seed-dialect value has no Redis
/// form: an error says so.
fn dump(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let key = argv.get(1).cloned().unwrap_or_default();
    let mut shard = ctx.db.shard(&key);
    let mark = shard.converted(&key);
    let Some(entry) = shard.get(&key, ctx.now) else {
        return Frame::Null;
    };
    let encoding = crate::encoding::encoding_name(&entry.value, mark);
    match crate::rdb::dump(&entry.value, encoding) {
        Some(payload) => Frame::Bulk(Bytes::from(payload)),
        None => Frame::error("ERR a seed-dialect value has no RDB serialization"),
    }
}

/// RESTORE's options, parsed whole first as `restoreCommand` does.
struct RestoreOptions {
    replace: bool,
    absttl: bool,
    idle: Option<u64>,
    freq: Option<u8>,
}

impl RestoreOptions {
    fn parse(args: &[Bytes]) -> Result<RestoreOptions, Frame> {
        let mut options = RestoreOptions {
            replace: false,
            absttl: false,
            idle: None,
            freq: None,
        };
        let mut i = 0;
        while let Some(option) = args.get(i) {
            let value = args.get(i + 1);
            if is_keyword(option, "REPLACE") {
                options.replace = true;
            } else if is_keyword(option, "ABSTTL") {
                options.absttl = true;
            } else if let (true, Some(value), None) =
                (is_keyword(option, "IDLETIME"), value, options.freq)
            {
                // IDLETIME and FREQ exclude each other: once one is given, the other is a
                // syntax error.
                let Ok(idle) = u64::try_from(integer(value)?) else {
                    return Err(Frame::error("ERR Invalid IDLETIME value, must be >= 0"));
                };
                options.idle = Some(idle);
                i += 1;
            } else if let (true, Some(value), None) =
                (is_keyword(option, "FREQ"), value, options.idle)
            {
                let Ok(freq) = u8::try_from(integer(value)?) else {
                    return Err(Frame::error(
                        "ERR Invalid FREQ value, must be >= 0 and <= 255",
                    ));
                };
                options.freq = Some(freq);
                i += 1;
            } else {
                return Err(syntax_error());
            }
            i += 1;
        }
        Ok(options)
    }
}

/// `RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]`,
/// checked in Redis's order: options, an existing key (without REPLACE), the TTL, the
/// payload's version and CRC, then the value itself. A TTL already past deletes the old key
/// (with REPLACE) and stores nothing, answering +OK as Redis does.
fn restore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let key = argv.get(1).cloned().unwrap_or_default();
    let options = match RestoreOptions::parse(argv.get(4..).unwrap_or_default()) {
        Ok(options) => options,
        Err(error) => return error,
    };
    let now = ctx.now;
    if !options.replace && ctx.db.shard(&key).get_for_write(&key, now).is_some() {
        return Frame::error("BUSYKEY Target key name already exists.");
    }
    let ttl = match integer(argv.get(2).map_or(&[][..], |t| t.as_ref())) {
        Ok(ttl) if ttl < 0 => return Frame::error("ERR Invalid TTL value, must be >= 0"),
        Ok(ttl) => ttl,
        Err(error) => return error,
    };
    let payload = argv.get(3).map_or(&[][..], |p| p.as_ref());
    if !crate::rdb::verify(payload) {
        return Frame::error("ERR DUMP payload version or checksum are wrong");
    }
    let max_string = ctx.server.settings.max_bulk_len();
    let Ok(value) = crate::rdb::restore(payload, max_string) else {
        return Frame::error("ERR Bad data format");
    };
    let expires_at = match (ttl, options.absttl) {
        (0, _) => None,
        (ttl, true) => Some(u64::try_from(ttl).unwrap_or(0)),
        (ttl, false) => Some(now.saturating_add(u64::try_from(ttl).unwrap_or(0))),
    };
    let db = ctx.state.db_index;
    if expires_at.is_some_and(|at| at <= now) {
        let deleted = options.replace && ctx.db.shard(&key).remove(&key, now).is_some();
        if deleted {
            ctx.propagate_as(|| vec![vec![word("DEL"), key.clone()]]);
            signal_modified(ctx, db, &key);
            super::events::notify(ctx, crate::notify::GENERIC, "del", &key);
        }
        return ok();
    }
    let waited_on = matches!(value, Value::List(_) | Value::ZSet(_));
    {
        let mut shard = ctx.db.shard(&key);
        shard.insert(key.clone(), Entry::expiring(value, expires_at), now);
        // Only when asked: a lookup stamps the key as used, which under an LFU policy would
        // bump a new key's counter past Redis's 5.
        let stamp = options.idle.is_some() || options.freq.is_some();
        if let Some(entry) = stamp.then(|| shard.get_mut(&key, now)).flatten() {
            if let Some(idle) = options.idle {
                crate::access::idle_for(&mut entry.access, idle, now);
            }
            if let Some(freq) = options.freq {
                crate::access::frequency_of(&mut entry.access, freq, now);
            }
        }
    }
    if let (Some(at), false) = (expires_at, options.absttl) {
        // The time to live as the absolute time it ends, whatever the replica's clock.
        ctx.propagate_as(|| {
            let mut argv = argv.to_vec();
            if let Some(ttl) = argv.get_mut(2) {
                *ttl = number(at);
            }
            argv.push(word("ABSTTL"));
            vec![argv]
        });
    }
    signal_modified(ctx, db, &key);
    super::events::notify(ctx, crate::notify::GENERIC, "restore", &key);
    if waited_on {
        super::events::signal_created(ctx, &key);
    }
    ok()
}
