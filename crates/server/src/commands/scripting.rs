//! FUNCTION FLUSH and SCRIPT FLUSH. This server has no scripting, so there is never a script
//! or function to remove, and `+OK` is the honest answer; clients and Redis's test suite
//! call these to start from a clean server. The other FUNCTION and SCRIPT subcommands are
//! not implemented (unknown subcommand).

use bytes::Bytes;
use respect_resp::Frame;

use super::args::is_keyword;
use super::context::Ctx;
use super::registry::{Categories, Category, Command, Docs, Flag, Flags, KeyRange, Spec};
use super::reply::{ok, unknown_subcommand};

/// This family's commands.
pub const COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "function",
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
                summary: "A container for function commands",
                since: "7.0.0",
                group: "scripting",
                complexity: "Depends on subcommand.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[Spec {
                name: "function|flush",
                arity: -2,
                flags: Flags::of(&[Flag::Write, Flag::Noscript]),
                keys: KeyRange {
                    first: 0,
                    last: 0,
                    step: 0,
                },
                key_specs: &[],
                acl: Categories::of(&[Category::Write, Category::Slow, Category::Scripting]),
                tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
                docs: Docs {
                    summary: "Deleting all functions",
                    since: "7.0.0",
                    group: "scripting",
                    complexity: "O(N) where N is the number of functions deleted",
                    deprecated: None,
                    history: &[],
                },
                subcommands: &[],
            }],
        },
        run: function,
    },
    Command {
        spec: Spec {
            name: "script",
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
                summary: "A container for Lua scripts management commands",
                since: "2.6.0",
                group: "scripting",
                complexity: "Depends on subcommand.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[Spec {
                name: "script|flush",
                arity: -2,
                flags: Flags::of(&[Flag::Noscript]),
                keys: KeyRange {
                    first: 0,
                    last: 0,
                    step: 0,
                },
                key_specs: &[],
                acl: Categories::of(&[Category::Slow, Category::Scripting]),
                tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
                docs: Docs {
                    summary: "Remove all the scripts from the script cache.",
                    since: "2.6.0",
                    group: "scripting",
                    complexity: "O(N) with N being the number of scripts in cache",
                    deprecated: None,
                    history: &[(
                        "6.2.0",
                        "Added the `ASYNC` and `SYNC` flushing mode modifiers.",
                    )],
                },
                subcommands: &[],
            }],
        },
        run: script,
    },
];

/// Whether `args` (after `FLUSH`) is nothing, `ASYNC` or `SYNC`: `None` when it is
/// something else, `Some(false)` for too many arguments.
fn flush_mode_ok(args: &[Bytes]) -> Option<bool> {
    match args {
        [] => Some(true),
        [mode] => (is_keyword(mode, "ASYNC") || is_keyword(mode, "SYNC")).then_some(true),
        _ => Some(false),
    }
}

fn function(_: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let sub = argv.get(1).map_or(&[][..], |s| s.as_ref());
    if !is_keyword(sub, "FLUSH") {
        return unknown_subcommand(sub, "function");
    }
    match flush_mode_ok(argv.get(2..).unwrap_or_default()) {
        Some(true) => ok(),
        // Redis names the subcommand as the client spelled it.
        Some(false) => {
            let mut text = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
            text.extend(sub.iter().take(128).filter(|&&c| c != b'\r' && c != b'\n'));
            text.extend_from_slice(b"'. Try FUNCTION HELP.");
            Frame::Error(Bytes::from(text))
        }
        None => Frame::error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option"),
    }
}

fn script(_: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let sub = argv.get(1).map_or(&[][..], |s| s.as_ref());
    if !is_keyword(sub, "FLUSH") {
        return unknown_subcommand(sub, "script");
    }
    match flush_mode_ok(argv.get(2..).unwrap_or_default()) {
        Some(true) => ok(),
        _ => Frame::error("ERR SCRIPT FLUSH only support SYNC|ASYNC option"),
    }
}
