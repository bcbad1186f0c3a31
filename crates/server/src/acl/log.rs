//! `ACL LOG`: the refusals and failed authentications, newest first (Redis's `ACLLog`).
//!
//! A refusal like one of the last ten entries (same reason, context, object and user,
//! within a minute) bumps that entry's count and moves it to the front instead of adding
//! one, as Redis groups them.

use std::collections::VecDeque;

use bytes::Bytes;

/// Redis's `ACL_LOG_GROUPING_MAX_TIME_DELTA`: how close in time two refusals must be to be
/// counted as one entry (ms).
pub const GROUPING_MAX_DELTA_MS: u64 = 60_000;
/// How many of the newest entries a refusal is compared with (Redis's `toscan`).
const GROUPING_SCAN: usize = 10;
/// Redis's default `acllog-max-len`.
pub const DEFAULT_MAX_LEN: usize = 128;

/// What was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The command.
    Command,
    /// A key.
    Key,
    /// A channel.
    Channel,
    /// AUTH or HELLO AUTH with a wrong password or user.
    Auth,
}

impl Reason {
    fn name(self) -> &'static str {
        match self {
            Reason::Command => "command",
            Reason::Key => "key",
            Reason::Channel => "channel",
            Reason::Auth => "auth",
        }
    }
}

/// Where the refused command came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Sent by the client.
    Toplevel,
    /// Queued in, or run by, a transaction.
    Multi,
    /// Called by a script.
    Lua,
}

impl Context {
    fn name(self) -> &'static str {
        match self {
            Context::Toplevel => "toplevel",
            Context::Multi => "multi",
            Context::Lua => "lua",
        }
    }
}

/// One entry.
#[derive(Debug, Clone)]
pub struct Entry {
    count: u64,
    reason: Reason,
    context: Context,
    object: Bytes,
    username: Bytes,
    /// Unix ms of the last refusal counted.
    at_ms: u64,
    /// The `CLIENT LIST` line of the last refused client.
    client_info: String,
}

/// The log, newest first.
#[derive(Debug, Default)]
pub struct AclLog {
    entries: VecDeque<Entry>,
}

impl AclLog {
    /// Records a refusal (Redis's `addACLLogEntry`), keeping at most `max_len` entries.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        reason: Reason,
        context: Context,
        object: Bytes,
        username: Bytes,
        client_info: String,
        now_ms: u64,
        max_len: usize,
    ) {
        let similar = self.entries.iter().take(GROUPING_SCAN).position(|e| {
            e.reason == reason
                && e.context == context
                && e.at_ms.abs_diff(now_ms) <= GROUPING_MAX_DELTA_MS
                && e.object == object
                && e.username == username
        });
        if let Some(at) = similar {
            if let Some(mut entry) = self.entries.remove(at) {
                entry.count += 1;
                entry.at_ms = now_ms;
                entry.client_info = client_info;
                self.entries.push_front(entry);
            }
            return;
        }
        self.entries.push_front(Entry {
            count: 1,
            reason,
            context,
            object,
            username,
            at_ms: now_ms,
            client_info,
        });
        self.entries.truncate(max_len);
    }

    /// `ACL LOG RESET`.
    pub fn reset(&mut self) {
        self.entries.clear();
    }

    /// The newest `count` entries as `ACL LOG` shows each: its fields in Redis's order,
    /// `age-seconds` as a double.
    pub fn newest(&self, count: usize, now_ms: u64) -> Vec<Vec<(&'static str, Field)>> {
        self.entries
            .iter()
            .take(count)
            .map(|e| {
                vec![
                    ("count", Field::Integer(e.count)),
                    (
                        "reason",
                        Field::Text(Bytes::from_static(e.reason.name().as_bytes())),
                    ),
                    (
                        "context",
                        Field::Text(Bytes::from_static(e.context.name().as_bytes())),
                    ),
                    ("object", Field::Text(e.object.clone())),
                    ("username", Field::Text(e.username.clone())),
                    (
                        "age-seconds",
                        Field::Seconds(now_ms.saturating_sub(e.at_ms) as f64 / 1000.0),
                    ),
                    (
                        "client-info",
                        Field::Text(Bytes::from(e.client_info.clone())),
                    ),
                ]
            })
            .collect()
    }
}

/// One field's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// An integer.
    Integer(u64),
    /// A bulk string.
    Text(Bytes),
    /// A double.
    Seconds(f64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_refusals_are_one_entry_with_a_count() {
        let mut log = AclLog::default();
        let add = |log: &mut AclLog, object: &'static str, at: u64| {
            log.add(
                Reason::Command,
                Context::Toplevel,
                Bytes::from_static(object.as_bytes()),
                Bytes::from_static(b"u"),
                String::new(),
                at,
                2,
            )
        };
        add(&mut log, "get", 1000);
        add(&mut log, "set", 2000);
        add(&mut log, "get", 3000);
        let newest = log.newest(10, 4000);
        assert_eq!(newest.len(), 2);
        assert_eq!(newest[0][0].1, Field::Integer(2));
        add(&mut log, "get", 3000 + GROUPING_MAX_DELTA_MS + 1);
        add(&mut log, "del", 200_000);
        assert_eq!(log.newest(10, 200_000).len(), 2, "trimmed to max_len");
    }
}
