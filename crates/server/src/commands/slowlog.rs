//! SLOWLOG GET/LEN/RESET/HELP, and the log itself: every command that took at least
//! `slowlog-log-slower-than` microseconds (-1: none, 0: all) is kept, newest first, up to
//! `slowlog-max-len` entries, with Redis's entry shape: id, Unix time, duration, the
//! arguments as the client sent them (at most 32, each cut at 128 bytes, as Redis cuts
//! them, passwords redacted as Redis redacts them), the client's address and name. Commands
//! flagged `skip_slowlog` (EXEC, whose commands are logged one by one...) are never kept.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use bytes::Bytes;
use respect_resp::Frame;

use super::args::{is_keyword, parse_i64};
use super::context::Ctx;
use super::registry::{Categories, Category, Command, Docs, Flag, Flags, KeyRange, Spec};
use super::reply::{ok, unknown_subcommand_or_arity};
use crate::clients::lock;

/// Most arguments an entry keeps (Redis's `SLOWLOG_ENTRY_MAX_ARGC`); the last one kept then
/// says how many more there were.
pub const MAX_ARGS: usize = 32;

/// Most bytes an entry keeps of one argument (Redis's `SLOWLOG_ENTRY_MAX_STRING`).
pub const MAX_ARG_BYTES: usize = 128;

/// This family's commands.
pub const COMMANDS: &[Command] = &[Command {
    spec: Spec {
        name: "slowlog",
        arity: -2,
        flags: Flags::of(&[]),
        keys: KeyRange {
            first: 0,
            last: 0,
            step: 0,
        },
        key_specs: &[],
        acl: Categories::of(&[Category::Slow]),
        tips: &[],
        docs: Docs {
            summary: "A container for slow log commands",
            since: "2.2.12",
            group: "server",
            complexity: "Depends on subcommand.",
            deprecated: None,
            history: &[],
        },
        subcommands: &[
            Spec {
                name: "slowlog|get",
                arity: -2,
                flags: Flags::of(&[Flag::Admin, Flag::Loading, Flag::Stale]),
                keys: KeyRange {
                    first: 0,
                    last: 0,
                    step: 0,
                },
                key_specs: &[],
                acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous]),
                tips: &["request_policy:all_nodes", "nondeterministic_output"],
                docs: Docs {
                    summary: "Get the slow log's entries",
                    since: "2.2.12",
                    group: "server",
                    complexity: "O(N) where N is the number of entries returned",
                    deprecated: None,
                    history: &[(
                        "4.0.0",
                        "Added client IP address, port and name to the reply.",
                    )],
                },
                subcommands: &[],
            },
            Spec {
                name: "slowlog|len",
                arity: 2,
                flags: Flags::of(&[Flag::Admin, Flag::Loading, Flag::Stale]),
                keys: KeyRange {
                    first: 0,
                    last: 0,
                    step: 0,
                },
                key_specs: &[],
                acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous]),
                tips: &[
                    "request_policy:all_nodes",
                    "response_policy:agg_sum",
                    "nondeterministic_output",
                ],
                docs: Docs {
                    summary: "Get the slow log's length",
                    since: "2.2.12",
                    group: "server",
                    complexity: "O(1)",
                    deprecated: None,
                    history: &[],
                },
                subcommands: &[],
            },
            Spec {
                name: "slowlog|reset",
                arity: 2,
                flags: Flags::of(&[Flag::Admin, Flag::Loading, Flag::Stale]),
                keys: KeyRange {
                    first: 0,
                    last: 0,
                    step: 0,
                },
                key_specs: &[],
                acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous]),
                tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
                docs: Docs {
                    summary: "Clear all entries from the slow log",
                    since: "2.2.12",
                    group: "server",
                    complexity: "O(N) where N is the number of entries in the slowlog",
                    deprecated: None,
                    history: &[],
                },
                subcommands: &[],
            },
            Spec {
                name: "slowlog|help",
                arity: 2,
                flags: Flags::of(&[Flag::Loading, Flag::Stale]),
                keys: KeyRange {
                    first: 0,
                    last: 0,
                    step: 0,
                },
                key_specs: &[],
                acl: Categories::of(&[Category::Slow]),
                tips: &[],
                docs: Docs {
                    summary: "Show helpful text about the different subcommands",
                    since: "6.2.0",
                    group: "server",
                    complexity: "O(1)",
                    deprecated: None,
                    history: &[],
                },
                subcommands: &[],
            },
        ],
    },
    run: slowlog,
}];

/// One logged command.
#[derive(Debug, Clone)]
struct Entry {
    id: u64,
    unix_secs: u64,
    micros: u64,
    argv: Vec<Bytes>,
    peer: String,
    name: Bytes,
}

/// The slow log of one server.
#[derive(Debug, Default)]
pub struct Slowlog {
    entries: Mutex<VecDeque<Entry>>,
    next_id: AtomicU64,
}

impl Slowlog {
    /// Keeps the command `argv` that took `micros` if the settings ask for it.
    pub fn record(
        &self,
        settings: &super::settings::Settings,
        spec: &Spec,
        argv: &[Bytes],
        micros: u64,
        client: &crate::clients::Client,
        name: Option<&Bytes>,
    ) {
        let slower_than = settings.slowlog_slower_than.load(Ordering::Relaxed);
        let max_len = settings.slowlog_max_len.load(Ordering::Relaxed);
        let Ok(slower_than) = u64::try_from(slower_than) else {
            return;
        };
        if max_len == 0 || micros < slower_than || spec.flags.contains(Flag::SkipSlowlog) {
            return;
        }
        let secret = secret_positions(spec.name, argv);
        let kept = if argv.len() > MAX_ARGS {
            MAX_ARGS - 1
        } else {
            argv.len()
        };
        let mut logged: Vec<Bytes> = argv
            .iter()
            .take(kept)
            .enumerate()
            .map(|(i, a)| {
                if secret.contains(&i) {
                    Bytes::from_static(b"(redacted)")
                } else {
                    cut(a)
                }
            })
            .collect();
        if argv.len() > MAX_ARGS {
            let more = argv.len() - kept;
            logged.push(Bytes::from(format!("... ({more} more arguments)")));
        }
        let entry = Entry {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            unix_secs: crate::db::now_ms() / 1000,
            micros,
            argv: logged,
            peer: crate::clients::show(client.addr),
            name: name.cloned().unwrap_or_default(),
        };
        let mut entries = lock(&self.entries);
        entries.push_front(entry);
        let max_len = usize::try_from(max_len).unwrap_or(usize::MAX);
        entries.truncate(max_len);
    }
}

/// The arguments Redis 7.0 redacts before a command is logged: AUTH's password (and user),
/// HELLO's `AUTH username password`, the value of CONFIG SET of a password, every argument
/// of ACL SETUSER (the user's name and rules).
pub(crate) fn secret_positions(name: &str, argv: &[Bytes]) -> Vec<usize> {
    match name {
        "acl|setuser" => (2..argv.len()).collect(),
        "migrate" => {
            // AUTH's password, AUTH2's user and password (up to KEYS).
            let mut secret = Vec::new();
            let mut i = 6;
            while let Some(word) = argv.get(i) {
                if is_keyword(word, "KEYS") {
                    break;
                } else if is_keyword(word, "AUTH") {
                    secret.push(i + 1);
                    i += 1;
                } else if is_keyword(word, "AUTH2") {
                    secret.extend([i + 1, i + 2]);
                    i += 2;
                }
                i += 1;
            }
            secret.retain(|&i| i < argv.len());
            secret
        }
        "auth" if argv.len() <= 3 => (1..argv.len()).collect(),
        "hello" => {
            let mut secret = Vec::new();
            let mut i = 2;
            while let Some(word) = argv.get(i) {
                if is_keyword(word, "AUTH") && i + 2 < argv.len() {
                    secret.extend([i + 1, i + 2]);
                    i += 3;
                } else if is_keyword(word, "SETNAME") {
                    i += 2;
                } else {
                    i += 1;
                }
            }
            secret
        }
        "config|set" => (2..argv.len())
            .step_by(2)
            .filter(|&i| {
                argv.get(i)
                    .is_some_and(|p| is_keyword(p, "requirepass") || is_keyword(p, "masterauth"))
            })
            .map(|i| i + 1)
            .collect(),
        _ => Vec::new(),
    }
}

/// An argument as the log keeps it: cut at [`MAX_ARG_BYTES`], saying how much was cut.
fn cut(arg: &Bytes) -> Bytes {
    if arg.len() <= MAX_ARG_BYTES {
        return arg.clone();
    }
    let mut kept = arg.slice(..MAX_ARG_BYTES).to_vec();
    kept.extend_from_slice(format!("... ({} more bytes)", arg.len() - MAX_ARG_BYTES).as_bytes());
    Bytes::from(kept)
}

/// SLOWLOG HELP's own lines, as Redis 7.0.15 prints them (see `reply::help` for the rest).
const HELP: &[&str] = &[
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
];

fn slowlog(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let log = &ctx.server.slowlog;
    match argv {
        [_, sub] if is_keyword(sub, "HELP") => super::reply::help("slowlog", HELP),
        [_, sub] if is_keyword(sub, "RESET") => {
            lock(&log.entries).clear();
            ok()
        }
        [_, sub] if is_keyword(sub, "LEN") => {
            Frame::Integer(i64::try_from(lock(&log.entries).len()).unwrap_or(i64::MAX))
        }
        [_, sub, rest @ ..] if is_keyword(sub, "GET") && rest.len() <= 1 => {
            let count = match rest.first().map(|c| parse_i64(c)) {
                None => 10,
                Some(Some(-1)) => usize::MAX,
                Some(Some(n)) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
                Some(_) => return Frame::error("ERR count should be greater than or equal to -1"),
            };
            let int = |n: u64| Frame::Integer(i64::try_from(n).unwrap_or(i64::MAX));
            Frame::Array(
                lock(&log.entries)
                    .iter()
                    .take(count)
                    .map(|e| {
                        Frame::Array(vec![
                            int(e.id),
                            int(e.unix_secs),
                            int(e.micros),
                            Frame::Array(e.argv.iter().cloned().map(Frame::Bulk).collect()),
                            Frame::Bulk(Bytes::from(e.peer.clone())),
                            Frame::Bulk(e.name.clone()),
                        ])
                    })
                    .collect(),
            )
        }
        _ => unknown_subcommand_or_arity(argv.get(1).map_or(&[][..], |s| s.as_ref()), "slowlog"),
    }
}
