//! Which keys a scenario's requests name, so that scenarios run side by side never meet.
//!
//! The runner replays scenarios several at a time against one keyspace. That is only
//! deterministic if no two of them touch the same key, which is what the `{{k}}` prefix
//! (`respect:<id>:`) is for. [`foreign_keys`] finds the keys a scenario names outside its
//! prefix; the runner gives such a scenario the server to itself, and the suites' own test
//! checks that ours name none (bar the empty key, which cannot carry a prefix).
//!
//! Where a command's keys are comes from the server's command registry
//! ([`respect_server::commands::lookup_spec`]): Redis 7's key specs for the Redis flavor, the
//! seed table's for the seed flavor (its `MSET` takes one `%` dict whose keys are the keys).
//! One source of truth: a command added to the server is followed here without an edit. An
//! unknown command names no keys (a server can only reject it), and bytes that do not decode
//! as requests end the search on that connection (a Redis server closes it there).
//!
//! One harness rule is not the registry's: a key *pattern* (KEYS's argument) is not a key to
//! Redis, but one outside the scenario's prefix reads other scenarios' keys, so the harness
//! counts it as one.

use std::collections::HashMap;

use bytes::{Bytes, BytesMut};

use super::scenario::Scenario;
use super::scenario::{Step, FIRST_CONNECTION};
use respect_resp::{Decoder, Flavor, Frame, Limits, Role};
use respect_server::commands::lookup_spec;

/// Commands whose argument at this index is a key pattern the harness treats as a key.
const PATTERN_ARGUMENTS: &[(&str, usize)] = &[("keys", 1)];

/// The keys one request names (a command as an array, or an inline command) in `flavor`.
pub fn request_keys(flavor: Flavor, request: &Frame) -> Vec<Bytes> {
    // The arguments, the name first: each a string, or a typed value (seed dialect).
    let items: Vec<&Frame> = match request {
        Frame::Array(items) => items.iter().collect(),
        Frame::Inline(_) => Vec::new(),
        _ => return Vec::new(),
    };
    let strings: Vec<Option<&Bytes>> = match request {
        Frame::Inline(args) => args.iter().map(Some).collect(),
        _ => items.iter().map(|f| f.as_bytes()).collect(),
    };
    let Some(Some(name)) = strings.first() else {
        return Vec::new();
    };
    let Some(spec) = lookup_spec(flavor, name) else {
        return Vec::new();
    };
    let args: Vec<&[u8]> = strings
        .iter()
        .map(|s| s.map_or(&[][..], |b| b.as_ref()))
        .collect();
    let mut keys = Vec::new();
    for at in spec.key_positions(&args) {
        match (items.get(at), strings.get(at)) {
            // A key position holding a dict (the seed MSET): its keys are the keys.
            (Some(Frame::Map(pairs)), _) => {
                keys.extend(pairs.iter().filter_map(|(k, _)| k.as_bytes().cloned()));
            }
            (_, Some(Some(key))) => keys.push((*key).clone()),
            _ => {}
        }
    }
    for (command, at) in PATTERN_ARGUMENTS {
        if spec.name == *command {
            keys.extend(strings.get(*at).copied().flatten().cloned());
        }
    }
    keys
}

/// Every request `scenario` sends, decoded, connection by connection (each in order).
pub fn scenario_requests(scenario: &Scenario) -> Vec<Frame> {
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
    let mut requests = Vec::new();
    for (_, stream) in streams {
        let mut decoder = Decoder::with_options(
            scenario.flavor.request_dialect(),
            Role::Request,
            Limits::default(),
        );
        let mut buf = BytesMut::from(stream.as_slice());
        while let Ok(Some(frame)) = decoder.decode(&mut buf) {
            requests.push(frame);
        }
    }
    requests
}

/// The name of a request, upper case (`None` when it has none).
pub fn request_name(request: &Frame) -> Option<String> {
    let name = match request {
        Frame::Inline(args) => args.first(),
        Frame::Array(items) => items.first().and_then(Frame::as_bytes),
        _ => None,
    }?;
    Some(String::from_utf8_lossy(name).to_ascii_uppercase())
}

/// Every key `scenario` names, in order of first use, on every connection.
pub fn scenario_keys(scenario: &Scenario) -> Vec<Bytes> {
    let mut keys = Vec::new();
    for frame in scenario_requests(scenario) {
        for key in request_keys(scenario.flavor, &frame) {
            if !keys.contains(&key) {
                keys.push(key);
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
