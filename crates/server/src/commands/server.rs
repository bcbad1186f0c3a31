//! Server commands: INFO, COMMAND, CONFIG GET, TIME.

use bytes::Bytes;

use super::context::Ctx;
use super::registry::{Categories, Category, Command, Docs, Flag, Flags, KeyRange, Spec};
use respect_resp::Frame;

/// This family's commands.
pub const COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "info",
            arity: -1,
            flags: Flags::of(&[Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow, Category::Dangerous]),
            tips: &["nondeterministic_output", "request_policy:all_shards", "response_policy:special"],
            docs: Docs {
                summary: "Get information and statistics about the server",
                since: "1.0.0",
                group: "server",
                complexity: "O(1)",
                deprecated: None,
                history: &[("7.0.0", "Added support for taking multiple section arguments.")],
            },
            subcommands: &[],
        },
        run: super::info::info,
    },
    Command {
        spec: Spec {
            name: "command",
            arity: -1,
            flags: Flags::of(&[Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow, Category::Connection]),
            tips: &["nondeterministic_output_order"],
            docs: Docs {
                summary: "Get array of Redis command details",
                since: "2.8.13",
                group: "server",
                complexity: "O(N) where N is the total number of Redis commands",
                deprecated: None,
                history: &[],
            },
            subcommands: &[
Spec {
    name: "command|help",
    arity: 2,
    flags: Flags::of(&[Flag::Loading, Flag::Stale]),
    keys: KeyRange { first: 0, last: 0, step: 0 },
    key_specs: &[],
    acl: Categories::of(&[Category::Slow, Category::Connection]),
    tips: &[],
    docs: Docs {
        summary: "Show helpful text about the different subcommands",
        since: "5.0.0",
        group: "server",
        complexity: "O(1)",
        deprecated: None,
        history: &[],
    },
    subcommands: &[],
},
Spec {
    name: "command|getkeysandflags",
    arity: -4,
    flags: Flags::of(&[Flag::Loading, Flag::Stale]),
    keys: KeyRange { first: 0, last: 0, step: 0 },
    key_specs: &[],
    acl: Categories::of(&[Category::Slow, Category::Connection]),
    tips: &[],
    docs: Docs {
        summary: "Extract keys and access flags given a full Redis command",
        since: "7.0.0",
        group: "server",
        complexity: "O(N) where N is the number of arguments to the command",
        deprecated: None,
        history: &[],
    },
    subcommands: &[],
},
        Spec {
            name: "command|count",
            arity: 2,
            flags: Flags::of(&[Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow, Category::Connection]),
            tips: &[],
            docs: Docs {
                summary: "Get total number of Redis commands",
                since: "2.8.13",
                group: "server",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        Spec {
            name: "command|info",
            arity: -2,
            flags: Flags::of(&[Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow, Category::Connection]),
            tips: &["nondeterministic_output_order"],
            docs: Docs {
                summary: "Get array of specific Redis command details, or all when no argument is given.",
                since: "2.8.13",
                group: "server",
                complexity: "O(N) where N is the number of commands to look up",
                deprecated: None,
                history: &[("7.0.0", "Allowed to be called with no argument to get info on all commands.")],
            },
            subcommands: &[],
        },
        Spec {
            name: "command|docs",
            arity: -2,
            flags: Flags::of(&[Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow, Category::Connection]),
            tips: &["nondeterministic_output_order"],
            docs: Docs {
                summary: "Get array of specific Redis command documentation",
                since: "7.0.0",
                group: "server",
                complexity: "O(N) where N is the number of commands to look up",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        Spec {
            name: "command|list",
            arity: -2,
            flags: Flags::of(&[Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow, Category::Connection]),
            tips: &["nondeterministic_output_order"],
            docs: Docs {
                summary: "Get an array of Redis command names",
                since: "7.0.0",
                group: "server",
                complexity: "O(N) where N is the total number of Redis commands",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        Spec {
            name: "command|getkeys",
            arity: -4,
            flags: Flags::of(&[Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow, Category::Connection]),
            tips: &[],
            docs: Docs {
                summary: "Extract keys given a full Redis command",
                since: "2.8.13",
                group: "server",
                complexity: "O(N) where N is the number of arguments to the command",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
    ],
        },
        run: super::command_info::command,
    },
    Command {
        spec: Spec {
            name: "time",
            arity: 1,
            flags: Flags::of(&[Flag::Loading, Flag::Stale, Flag::Fast]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Fast]),
            tips: &["nondeterministic_output"],
            docs: Docs {
                summary: "Return the current server time",
                since: "2.6.0",
                group: "server",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: time,
    },
];

fn time(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Frame {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    let _ = ctx;
    Frame::Array(vec![
        Frame::Bulk(Bytes::from((micros / 1_000_000).to_string())),
        Frame::Bulk(Bytes::from((micros % 1_000_000).to_string())),
    ])
}
