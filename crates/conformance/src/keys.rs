//! Which keys a scenario's requests name, so that scenarios run side by side never meet.
//!
//! The runner replays scenarios several at a time against one keyspace. That is only
//! deterministic if no two of them touch the same key, which is what the `{{k}}` prefix
//! (`respect:<id>:`) is for. [`foreign_keys`] finds the keys a scenario names outside its
//! prefix; the runner gives such a scenario the server to itself, and the suites' own test
//! checks that ours name none (bar the empty key, which cannot carry a prefix).
//!
//! Where the keys are among a command's arguments follows Redis's key specs for the commands
//! the suites use; the seed dialect's `MSET` takes one `%` dict whose keys are the keys. An
//! unknown command names no keys (a server can only reject it), and bytes that do not decode
//! as requests end the search on that connection (a Redis server closes it there).

use std::collections::HashMap;

use bytes::{Bytes, BytesMut};

use super::scenario::Scenario;
use super::scenario::{Step, FIRST_CONNECTION};
use respect_resp::{Decoder, Frame, Limits, Role};

/// Where a command's keys are among its arguments (the name excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeySpec {
    /// None (PING, HELLO, DBSIZE, unknown commands, ...).
    None,
    /// The first argument.
    First,
    /// Every argument (DEL, EXISTS, MGET, ...).
    All,
    /// Every other argument from the first (MSET's key/value pairs), or the keys of a single
    /// dict argument (the seed dialect's MSET).
    Pairs,
}

fn key_spec(name: &[u8]) -> KeySpec {
    const FIRST: &[&str] = &[
        "GET",
        "SET",
        "SETNX",
        "SETEX",
        "PSETEX",
        "GETSET",
        "GETDEL",
        "GETEX",
        "GETRANGE",
        "SETRANGE",
        "APPEND",
        "STRLEN",
        "INCR",
        "INCRBY",
        "DECR",
        "DECRBY",
        "INCRBYFLOAT",
        "EXPIRE",
        "PEXPIRE",
        "EXPIREAT",
        "PEXPIREAT",
        "TTL",
        "PTTL",
        "PERSIST",
        "TYPE",
        "LPUSH",
        "RPUSH",
        "LPOP",
        "RPOP",
        "LRANGE",
        "LLEN",
        "LINDEX",
        "LSET",
        "LREM",
        "SADD",
        "SREM",
        "SMEMBERS",
        "SISMEMBER",
        "SCARD",
        "HSET",
        "HSETNX",
        "HGET",
        "HMGET",
        "HMSET",
        "HDEL",
        "HGETALL",
        "HKEYS",
        "HVALS",
        "HLEN",
        "HEXISTS",
        "HINCRBY",
        // A pattern, not a key, but one outside the prefix reads other scenarios' keys.
        "KEYS",
    ];
    const ALL: &[&str] = &["DEL", "DELETE", "UNLINK", "EXISTS", "TOUCH", "MGET"];
    const PAIRS: &[&str] = &["MSET", "MSETNX"];
    let is = |list: &[&str]| list.iter().any(|c| c.as_bytes().eq_ignore_ascii_case(name));
    if is(FIRST) {
        KeySpec::First
    } else if is(ALL) {
        KeySpec::All
    } else if is(PAIRS) {
        KeySpec::Pairs
    } else {
        KeySpec::None
    }
}

/// The keys one request names (a command as an array, or an inline command).
pub fn request_keys(request: &Frame) -> Vec<Bytes> {
    // The arguments as strings, the name first; `None` for a typed value (seed dialect).
    let args: Vec<Option<&Bytes>> = match request {
        Frame::Array(items) => items.iter().map(Frame::as_bytes).collect(),
        Frame::Inline(args) => args.iter().map(Some).collect(),
        _ => return Vec::new(),
    };
    let Some((Some(name), args)) = args.split_first() else {
        return Vec::new();
    };
    // The seed dialect's MSET takes one dict: its keys are the keys.
    let dict = match request {
        Frame::Array(items) => match items.as_slice() {
            [_, Frame::Map(pairs)] => Some(pairs),
            _ => None,
        },
        _ => None,
    };
    let owned = |args: &mut dyn Iterator<Item = &Option<&Bytes>>| -> Vec<Bytes> {
        args.copied().flatten().cloned().collect()
    };
    match (key_spec(name), dict) {
        (KeySpec::None, _) => Vec::new(),
        (KeySpec::First, _) => owned(&mut args.iter().take(1)),
        (KeySpec::All, _) => owned(&mut args.iter()),
        (KeySpec::Pairs, Some(pairs)) => pairs
            .iter()
            .filter_map(|(k, _)| k.as_bytes().cloned())
            .collect(),
        (KeySpec::Pairs, None) => owned(&mut args.iter().step_by(2)),
    }
}

/// Every key `scenario` names, in order of first use, on every connection.
pub fn scenario_keys(scenario: &Scenario) -> Vec<Bytes> {
    // The bytes each connection is sent, in order: a request may be split across sends.
    let mut streams: Vec<(String, Vec<u8>)> = vec![(FIRST_CONNECTION.into(), Vec::new())];
    let mut current = 0;
    for step in &scenario.steps {
        match step {
            Step::Open(name) | Step::Use(name) => {
                current = match streams.iter().position(|(n, _)| n == name) {
                    Some(at) => at,
                    None => {
                        streams.push((name.clone(), Vec::new()));
                        streams.len() - 1
                    }
                }
            }
            Step::Send { bytes, .. } => {
                if let Some((_, stream)) = streams.get_mut(current) {
                    stream.extend_from_slice(bytes);
                }
            }
            _ => {}
        }
    }
    let mut keys = Vec::new();
    for (_, stream) in streams {
        let mut decoder = Decoder::with_options(
            scenario.flavor.request_dialect(),
            Role::Request,
            Limits::default(),
        );
        let mut buf = BytesMut::from(stream.as_slice());
        while let Ok(Some(frame)) = decoder.decode(&mut buf) {
            for key in request_keys(&frame) {
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
    }
    keys
}

/// The keys `scenario` names outside its own prefix (`{{k}}`).
pub fn foreign_keys(scenario: &Scenario) -> Vec<Bytes> {
    let prefix = scenario.key_prefix();
    scenario_keys(scenario)
        .into_iter()
        .filter(|k| !k.starts_with(prefix.as_bytes()))
        .collect()
}

/// Keys that more than one of `scenarios` name, with the ids of those that do.
pub fn shared_keys(scenarios: &[Scenario]) -> Vec<(Bytes, Vec<String>)> {
    let mut users: HashMap<Bytes, Vec<String>> = HashMap::new();
    for scenario in scenarios {
        for key in scenario_keys(scenario) {
            users.entry(key).or_default().push(scenario.id.clone());
        }
    }
    let mut shared: Vec<_> = users.into_iter().filter(|(_, ids)| ids.len() > 1).collect();
    shared.sort();
    shared
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn scenario(path: &str, text: &str) -> Scenario {
        Scenario::parse(Path::new(path), text).unwrap()
    }

    #[test]
    fn keys_follow_each_commands_key_spec() {
        let s = scenario(
            "conformance/redis/x/y_t.scenario",
            "# id: t\n> SET {{k}}a 1\n> MSET {{k}}b 1 c 2\n> DEL d {{k}}e\n> PING\n> ECHO f\n\
             >> GET g\\r\\n\n",
        );
        let own = |k: &str| bytes::Bytes::from(format!("{}{k}", s.key_prefix()));
        let keys = vec![
            own("a"),
            own("b"),
            bytes::Bytes::from_static(b"c"),
            bytes::Bytes::from_static(b"d"),
            own("e"),
            bytes::Bytes::from_static(b"g"),
        ];
        assert_eq!(scenario_keys(&s), keys);
        assert_eq!(foreign_keys(&s), vec![&b"c"[..], b"d", b"g"]);
    }

    #[test]
    fn a_request_split_across_sends_and_connections_is_followed() {
        let s = scenario(
            "conformance/redis/x/y_t.scenario",
            "# id: t\n>> *2\\r\\n$3\\r\\nGET\\r\\n\n! open b\n> GET x\n! use main\n\
             >> $1\\r\\ny\\r\\n\n",
        );
        assert_eq!(scenario_keys(&s), vec![&b"y"[..], b"x"]);
    }

    #[test]
    fn seed_mset_takes_the_keys_of_its_dict() {
        let s = scenario(
            "conformance/seed/x/y_t.scenario",
            "# id: t\n# dialect: seed\n>> *2\\r\\n$4\\r\\nMSET\\r\\n%1\\r\\n$1\\r\\na\\r\\n:1\\r\\n\n",
        );
        assert_eq!(scenario_keys(&s), vec![&b"a"[..]]);
    }

    #[test]
    fn undecodable_bytes_end_the_search_on_that_connection() {
        let s = scenario(
            "conformance/redis/x/y_t.scenario",
            "# id: t\n>> *1\\r\\n:5\\r\\n*2\\r\\n$3\\r\\nGET\\r\\n$1\\r\\na\\r\\n\n",
        );
        assert!(scenario_keys(&s).is_empty());
    }
}
