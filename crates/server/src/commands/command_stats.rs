//! Per-command and per-error counters: INFO commandstats and errorstats.
//!
//! Each command (and subcommand) of the registry has a slot of atomic counters, found from
//! its spec's address by a binary search in a table built once, so counting costs no lock.
//! Error replies are counted by their first word (`ERR`, `WRONGTYPE`...) under a lock, on the
//! error path only; like Redis, at most [`MAX_ERROR_CODES`] distinct words are tracked.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use respect_resp::Frame;

use super::registry::Spec;

/// Most distinct error words errorstats tracks (Redis's `ERRORSTATS_LIMIT`); past it, new
/// words are not added (Redis disables the whole table instead).
pub const MAX_ERROR_CODES: usize = 128;

/// Longest error word kept (a peer's made-up prefix cannot grow the table's keys).
const MAX_ERROR_CODE_LEN: usize = 64;

/// One command's counters.
#[derive(Debug, Default)]
struct Counters {
    calls: AtomicU64,
    failed: AtomicU64,
    rejected: AtomicU64,
}

/// A command's counters' slot: its number in the ACL's table (each command, then its
/// subcommands, in the registry's order).
fn slot(spec: &Spec) -> Option<usize> {
    crate::acl::table::table().id_of(spec).map(usize::from)
}

/// The counters of one server.
#[derive(Debug)]
pub struct CommandStats {
    commands: Box<[Counters]>,
    errors: Mutex<BTreeMap<Vec<u8>, u64>>,
}

impl Default for CommandStats {
    fn default() -> Self {
        CommandStats {
            commands: crate::acl::table::table()
                .entries
                .iter()
                .map(|_| Counters::default())
                .collect(),
            errors: Mutex::new(BTreeMap::new()),
        }
    }
}

impl CommandStats {
    /// `spec` ran and answered `reply`.
    pub fn ran(&self, spec: &Spec, reply: &Frame) {
        self.count_call(spec, reply.is_error());
        self.error(reply);
    }

    /// `spec` was refused before running (arity, authentication, transaction rules).
    pub fn rejected(&self, spec: Option<&Spec>, reply: &Frame) {
        if let Some(spec) = spec {
            self.count_rejection(spec);
        }
        self.error(reply);
    }

    /// One call of `spec` (a `failed` one answered an error), without errorstats: what a
    /// script's reply counts when it passes on an error already counted.
    pub fn count_call(&self, spec: &Spec, failed: bool) {
        if let Some(c) = slot(spec).and_then(|i| self.commands.get(i)) {
            c.calls.fetch_add(1, Ordering::Relaxed);
            if failed {
                c.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// One refusal of `spec`, without errorstats: what Redis's `scriptCall` counts on a
    /// command refused inside a script (its error is counted once, by its own text).
    pub fn count_rejection(&self, spec: &Spec) {
        if let Some(c) = slot(spec).and_then(|i| self.commands.get(i)) {
            c.rejected.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn error(&self, reply: &Frame) {
        if let Frame::Error(text) = reply {
            self.count_error_code(text);
        }
    }

    /// Counts the error code (the first word) of the error text `text` in errorstats.
    pub fn count_error_code(&self, text: &[u8]) {
        let code: Vec<u8> = text
            .split(|&b| b == b' ')
            .next()
            .unwrap_or_default()
            .iter()
            .take(MAX_ERROR_CODE_LEN)
            .copied()
            .collect();
        let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = errors.get_mut(&code) {
            *count += 1;
        } else if errors.len() < MAX_ERROR_CODES {
            errors.insert(code, 1);
        }
    }

    /// CONFIG RESETSTAT.
    pub fn reset(&self) {
        for c in self.commands.iter() {
            c.calls.store(0, Ordering::Relaxed);
            c.failed.store(0, Ordering::Relaxed);
            c.rejected.store(0, Ordering::Relaxed);
        }
        self.errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// INFO commandstats' lines: each command called or rejected at least once. Times
    /// are not measured (reading the clock twice per command is not free), so they are 0.
    pub fn command_lines(&self) -> Vec<String> {
        crate::acl::table::table()
            .entries
            .iter()
            .map(|e| e.spec)
            .zip(self.commands.iter())
            .filter_map(|(spec, c)| {
                let (calls, failed, rejected) = (
                    c.calls.load(Ordering::Relaxed),
                    c.failed.load(Ordering::Relaxed),
                    c.rejected.load(Ordering::Relaxed),
                );
                (calls + rejected > 0).then(|| {
                    format!(
                        "cmdstat_{}:calls={calls},usec=0,usec_per_call=0.00,rejected_calls={rejected},failed_calls={failed}",
                        spec.name
                    )
                })
            })
            .collect()
    }

    /// INFO errorstats' lines.
    pub fn error_lines(&self) -> Vec<String> {
        self.errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(code, count)| {
                format!("errorstat_{}:count={count}", String::from_utf8_lossy(code))
            })
            .collect()
    }
}
