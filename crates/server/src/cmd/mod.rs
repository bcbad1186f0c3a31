//! The command layer: one file per family, each command a function from its arguments to a
//! reply frame. Commands never see sockets; they return RESP3-shaped frames (`Map`, `Set`,
//! `Null`) and the codec's downgrade rules, which are Redis's, turn them into RESP2 bytes for
//! a RESP2 client. The seed dialect has its own table in [`seed`].

pub mod collection;
pub mod connection;
pub mod hashes;
pub mod keys;
pub mod lists;
pub mod seed;
pub mod server;
pub mod sets;
pub mod strings;

use std::collections::HashMap;
use std::sync::OnceLock;

use bytes::Bytes;

use super::db::{Db, Entry, Shard, Value};
use super::session::SessionState;
use respect_resp::{Dialect, Frame};

/// What a command can see and change: the keyspace, its own connection's state, the time.
pub struct Ctx<'a> {
    /// The keyspace.
    pub db: &'a Db,
    /// This connection's state (protocol, name, id, auth, quit).
    pub state: &'a mut SessionState,
    /// Now, in Unix milliseconds, read once per command.
    pub now: u64,
}

impl Ctx<'_> {
    /// Whether replies go out as RESP3.
    pub fn resp3(&self) -> bool {
        self.state.dialect == Dialect::Resp3
    }

    /// The null array of the connection's protocol: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&self) -> Frame {
        if self.resp3() {
            Frame::Null
        } else {
            Frame::NullArray
        }
    }
}

/// A command's implementation.
pub type Run = fn(&mut Ctx<'_>, &[Bytes]) -> Frame;

/// A command: its name (lowercase, as Redis spells it in errors), its arity in Redis's
/// convention (N: exactly N arguments including the name; -N: at least N), and its code.
pub struct Spec {
    /// Lowercase name.
    pub name: &'static str,
    /// Redis arity.
    pub arity: i32,
    /// The implementation.
    pub run: Run,
}

/// Every command of the Redis flavor.
pub fn redis_commands() -> &'static [Spec] {
    static ALL: OnceLock<Vec<Spec>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut all = Vec::new();
        all.extend(connection::COMMANDS.iter().map(copy));
        all.extend(server::COMMANDS.iter().map(copy));
        all.extend(keys::COMMANDS.iter().map(copy));
        all.extend(strings::COMMANDS.iter().map(copy));
        all.extend(hashes::COMMANDS.iter().map(copy));
        all.extend(lists::COMMANDS.iter().map(copy));
        all.extend(sets::COMMANDS.iter().map(copy));
        all
    })
}

fn copy(s: &Spec) -> Spec {
    Spec {
        name: s.name,
        arity: s.arity,
        run: s.run,
    }
}

/// Longer than any command name: a longer first argument is an unknown command.
const MAX_COMMAND_NAME: usize = 32;

/// Looks a command up by name, any case.
pub fn lookup(name: &[u8]) -> Option<&'static Spec> {
    static INDEX: OnceLock<HashMap<Vec<u8>, usize, ahash::RandomState>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        redis_commands()
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.as_bytes().to_vec(), i))
            .collect()
    });
    // Lower-cased on the stack: the lookup runs for every command and allocates nothing.
    let mut lower = [0u8; MAX_COMMAND_NAME];
    let lower = lower.get_mut(..name.len())?;
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    index.get(&*lower).and_then(|&i| redis_commands().get(i))
}

/// Runs one Redis-flavor command: lookup, arity, authentication, then the command.
pub fn execute(db: &Db, state: &mut SessionState, argv: &[Bytes]) -> Frame {
    let Some(name) = argv.first() else {
        return Frame::error("ERR empty command");
    };
    let Some(spec) = lookup(name) else {
        return unknown_command(name, argv.get(1..).unwrap_or_default());
    };
    if !state.authenticated && !matches!(spec.name, "auth" | "hello" | "quit") {
        return Frame::error("NOAUTH Authentication required.");
    }
    let n = argv.len() as i64;
    let arity = i64::from(spec.arity);
    if (arity > 0 && n != arity) || (arity < 0 && n < -arity) {
        return wrong_args(spec.name);
    }
    let now = state.now();
    let mut ctx = Ctx { db, state, now };
    let reply = (spec.run)(&mut ctx, argv);
    ctx.state.stats.count_command(reply.is_error());
    reply
}

/// `ERR unknown command '<name>', with args beginning with: '<a>' '<b>' ` as Redis 7 words
/// it (each argument quoted and followed by a space, at most 128 bytes of them).
pub fn unknown_command(name: &[u8], args: &[Bytes]) -> Frame {
    let mut text = b"ERR unknown command '".to_vec();
    text.extend(printable(name, 128));
    text.extend_from_slice(b"', with args beginning with: ");
    let mut budget = 128usize;
    for arg in args {
        if budget == 0 {
            break;
        }
        let shown = printable(arg, budget);
        budget = budget.saturating_sub(shown.len());
        text.push(b'\'');
        text.extend(shown);
        text.extend_from_slice(b"' ");
    }
    Frame::Error(Bytes::from(text))
}

/// Up to `max` bytes of `b` for an error message, raw as Redis copies them; CR and LF become
/// spaces, as Redis's `addReplyErrorLength` does, so the line cannot end early.
fn printable(b: &[u8], max: usize) -> Vec<u8> {
    b.iter()
        .take(max)
        .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c })
        .collect()
}

/// `ERR wrong number of arguments for '<name>' command`.
pub fn wrong_args(name: &str) -> Frame {
    Frame::Error(Bytes::from(format!(
        "ERR wrong number of arguments for '{name}' command"
    )))
}

/// The reply `+OK`.
pub fn ok() -> Frame {
    Frame::Simple(Bytes::from_static(b"OK"))
}

/// `-WRONGTYPE ...`.
pub fn wrong_type() -> Frame {
    Frame::error("WRONGTYPE Operation against a key holding the wrong kind of value")
}

/// `-ERR value is not an integer or out of range`.
pub fn not_integer() -> Frame {
    Frame::error("ERR value is not an integer or out of range")
}

/// `-ERR syntax error`.
pub fn syntax_error() -> Frame {
    Frame::error("ERR syntax error")
}

/// Parses an integer as Redis's `string2ll` does: optional `-`, digits, no `+`, no spaces, no
/// leading zeros, within i64.
pub fn parse_i64(b: &[u8]) -> Option<i64> {
    let (negative, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if digits.len() > 1 && digits.first() == Some(&b'0') {
        return None;
    }
    if negative && digits == b"0" {
        return None;
    }
    let text = std::str::from_utf8(b).ok()?;
    text.parse().ok()
}

/// Parses a float as Redis's `string2ld` accepts it: a complete decimal or exponent number
/// (also `inf`, `-inf`), no spaces, not NaN.
pub fn parse_f64(b: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(b).ok()?;
    if text.is_empty()
        || text.starts_with(char::is_whitespace)
        || text.ends_with(char::is_whitespace)
    {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let value: f64 = match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ if lower.contains("nan") || lower.contains("inf") => return None,
        _ => lower.parse().ok()?,
    };
    Some(value)
}

/// Formats a float as Redis replies to INCRBYFLOAT: the shortest text that reads back to the
/// same value, without exponent for ordinary magnitudes and without a trailing `.0`.
pub fn format_float(f: f64) -> String {
    if f == f.trunc() && f.abs() < 1e17 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// The live entry at `key` in a locked shard, checked to be a string.
pub fn get_string<'s>(
    shard: &'s mut Shard,
    key: &[u8],
    now: u64,
) -> Result<Option<&'s Bytes>, Frame> {
    match shard.get(key, now) {
        None => Ok(None),
        Some(Entry {
            value: Value::Str(s),
            ..
        }) => Ok(Some(s)),
        Some(_) => Err(wrong_type()),
    }
}

pub use crate::glob::glob_match;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_parse_like_redis() {
        assert_eq!(parse_i64(b"42"), Some(42));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"+1",
            b" 1",
            b"01",
            b"-0",
            b"1.5",
            b"9223372036854775808",
            b"abc",
        ] {
            assert_eq!(parse_i64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn unknown_command_is_worded_like_redis_7() {
        let args = [Bytes::from_static(b"a"), Bytes::from_static(b"b")];
        assert_eq!(
            unknown_command(b"foo", &args),
            Frame::error("ERR unknown command 'foo', with args beginning with: 'a' 'b' ")
        );
    }
}
