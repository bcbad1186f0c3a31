//! ACL: users, their rules and the security log (Redis 7.0's `aclCommand`), over
//! [`crate::acl`]; and what the rest of the server asks of it: who a connection is, and
//! the log of what it was refused.

use std::sync::Arc;

use bytes::Bytes;
use respect_resp::Frame;

use super::args::{is_keyword, parse_i64};
use super::context::{Ctx, SessionState};
use super::registry::{Categories, Category, Command, Docs, Flag, Flags, KeyRange, Spec};
use super::reply::{help, ok};
use crate::acl::{rules::has_spaces, Denied, LogContext, Reason, User};
use crate::clients::lock;
use crate::state::ServerState;

/// This family's commands.
pub const COMMANDS: &[Command] = &[Command {
    spec: Spec {
            name: "acl",
            arity: -2,
            flags: Flags::of(&[]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "A container for Access List Control commands ",
                since: "6.0.0",
                group: "server",
                complexity: "Depends on subcommand.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[
Spec {
            name: "acl|cat",
            arity: -2,
            flags: Flags::of(&[Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "List the ACL categories or the commands inside a category",
                since: "6.0.0",
                group: "server",
                complexity: "O(1) since the categories and commands are a fixed set.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
Spec {
            name: "acl|deluser",
            arity: -3,
            flags: Flags::of(&[Flag::Admin, Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous]),
            tips: &[],
            docs: Docs {
                summary: "Remove the specified ACL users and the associated rules",
                since: "6.0.0",
                group: "server",
                complexity: "O(1) amortized time considering the typical user.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
Spec {
            name: "acl|dryrun",
            arity: -4,
            flags: Flags::of(&[Flag::Admin, Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous]),
            tips: &[],
            docs: Docs {
                summary: "Returns whether the user can execute the given command without executing the command.",
                since: "7.0.0",
                group: "server",
                complexity: "O(1).",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
Spec {
            name: "acl|genpass",
            arity: -2,
            flags: Flags::of(&[Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Generate a pseudorandom secure password to use for ACL users",
                since: "6.0.0",
                group: "server",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
Spec {
            name: "acl|getuser",
            arity: 3,
            flags: Flags::of(&[Flag::Admin, Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous]),
            tips: &[],
            docs: Docs {
                summary: "Get the rules for a specific ACL user",
                since: "6.0.0",
                group: "server",
                complexity: "O(N). Where N is the number of password, command and pattern rules that the user has.",
                deprecated: None,
                history: &[("6.2.0", "Added Pub/Sub channel patterns."), ("7.0.0", "Added selectors and changed the format of key and channel patterns from a list to their rule representation.")],
            },
            subcommands: &[],
        },
Spec {
            name: "acl|help",
            arity: 2,
            flags: Flags::of(&[Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Show helpful text about the different subcommands",
                since: "6.0.0",
                group: "server",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
Spec {
            name: "acl|list",
            arity: 2,
            flags: Flags::of(&[Flag::Admin, Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous]),
            tips: &[],
            docs: Docs {
                summary: "List the current ACL rules in ACL config file format",
                since: "6.0.0",
                group: "server",
                complexity: "O(N). Where N is the number of configured users.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
Spec {
            name: "acl|load",
            arity: 2,
            flags: Flags::of(&[Flag::Admin, Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous]),
            tips: &[],
            docs: Docs {
                summary: "Reload the ACLs from the configured ACL file",
                since: "6.0.0",
                group: "server",
                complexity: "O(N). Where N is the number of configured users.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
Spec {
            name: "acl|log",
            arity: -2,
            flags: Flags::of(&[Flag::Admin, Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous]),
            tips: &[],
            docs: Docs {
                summary: "List latest events denied because of ACLs in place",
                since: "6.0.0",
                group: "server",
                complexity: "O(N) with N being the number of entries shown.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
Spec {
            name: "acl|save",
            arity: 2,
            flags: Flags::of(&[Flag::Admin, Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous]),
            tips: &[],
            docs: Docs {
                summary: "Save the current ACL rules in the configured ACL file",
                since: "6.0.0",
                group: "server",
                complexity: "O(N). Where N is the number of configured users.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
Spec {
            name: "acl|setuser",
            arity: -3,
            flags: Flags::of(&[Flag::Admin, Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous]),
            tips: &[],
            docs: Docs {
                summary: "Modify or create the rules for a specific ACL user",
                since: "6.0.0",
                group: "server",
                complexity: "O(N). Where N is the number of rules provided.",
                deprecated: None,
                history: &[("6.2.0", "Added Pub/Sub channel patterns."), ("7.0.0", "Added selectors and key based permissions.")],
            },
            subcommands: &[],
        },
Spec {
            name: "acl|users",
            arity: 2,
            flags: Flags::of(&[Flag::Admin, Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous]),
            tips: &[],
            docs: Docs {
                summary: "List the username of all the configured ACL rules",
                since: "6.0.0",
                group: "server",
                complexity: "O(N). Where N is the number of configured users.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
Spec {
            name: "acl|whoami",
            arity: 2,
            flags: Flags::of(&[Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Return the name of the user associated to the current connection",
                since: "6.0.0",
                group: "server",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
],
        },
    run: acl,
}];

/// `ACL HELP`'s lines (Redis 7.0.15's).
const HELP: &[&str] = &[
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
];

/// Redis's `GENPASS_MAX_BITS`.
pub const GENPASS_MAX_BITS: i64 = 4096;
/// Redis's default `ACL GENPASS` size.
const GENPASS_DEFAULT_BITS: i64 = 256;
/// Redis's default `ACL LOG` count.
const LOG_DEFAULT_COUNT: i64 = 10;

/// Makes `user` the connection's user, for the dispatcher and for `CLIENT LIST`.
pub(crate) fn set_user(state: &mut SessionState, user: Arc<User>) {
    lock(&state.client.info).user = Some(Arc::clone(&user));
    state.user = user;
}

/// Records a refusal in the ACL log (Redis's `addACLLogEntry`). `username` overrides the
/// connection's user (a failed AUTH names the user it tried).
pub(crate) fn log_refusal(
    server: &ServerState,
    state: &SessionState,
    reason: Reason,
    object: Bytes,
    username: Option<Bytes>,
    now_ms: u64,
) {
    let context = if state.in_script {
        LogContext::Lua
    } else if state.multi.is_some() || state.in_exec {
        // Queued, or run by EXEC (Redis's client still has CLIENT_MULTI then).
        LogContext::Multi
    } else {
        LogContext::Toplevel
    };
    let max_len = server
        .settings
        .get("acllog-max-len")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(crate::acl::log::DEFAULT_MAX_LEN);
    let username = username.unwrap_or_else(|| state.user.name.clone());
    let info = state.client.list_line();
    let mut log = lock(&server.acl.log);
    log.add(reason, context, object, username, info, now_ms, max_len);
}

/// Records a command refused by the rules: the object is the command's name, or the key or
/// channel refused.
pub(crate) fn log_denial(
    server: &ServerState,
    state: &SessionState,
    denied: Denied,
    spec: &'static Spec,
    argv: &[Bytes],
) {
    let object = match denied {
        Denied::Command => Bytes::from_static(spec.name.as_bytes()),
        Denied::Key(at) | Denied::Channel(at) => argv.get(at).cloned().unwrap_or_default(),
    };
    log_refusal(
        server,
        state,
        denied.reason(),
        object,
        None,
        crate::db::now_ms(),
    );
}

/// Whether new users and selectors get every channel (`acl-pubsub-default allchannels`).
fn all_channels_by_default(server: &ServerState) -> bool {
    server.settings.get("acl-pubsub-default").as_deref() == Some("allchannels")
}

fn bulk(text: impl Into<Bytes>) -> Frame {
    Frame::Bulk(text.into())
}

fn acl(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let Some(sub) = argv.get(1) else {
        return syntax_error_for(b"");
    };
    let argc = argv.len();
    let is = |word: &str| is_keyword(sub, word);
    if is("SETUSER") && argc >= 3 {
        setuser(ctx, argv)
    } else if is("DELUSER") && argc >= 3 {
        deluser(ctx, argv)
    } else if is("GETUSER") && argc == 3 {
        getuser(ctx, argv.get(2).map_or(&[][..], |n| &n[..]))
    } else if (is("LIST") || is("USERS")) && argc == 2 {
        let users = ctx.server.acl.users();
        let names_only = is("USERS");
        Frame::Array(
            users
                .iter()
                .map(|u| {
                    if names_only {
                        return bulk(u.name.clone());
                    }
                    let mut line = b"user ".to_vec();
                    line.extend_from_slice(&u.name);
                    line.push(b' ');
                    line.extend(u.rules().describe());
                    bulk(line)
                })
                .collect(),
        )
    } else if is("WHOAMI") && argc == 2 {
        bulk(ctx.state.user.name.clone())
    } else if is("LOAD") || is("SAVE") {
        Frame::error("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.")
    } else if is("CAT") && argc == 2 {
        Frame::Array(
            Category::ALL
                .iter()
                .map(|c| {
                    bulk(Bytes::from_static(
                        c.name().trim_start_matches('@').as_bytes(),
                    ))
                })
                .collect(),
        )
    } else if is("CAT") && argc == 3 {
        let name = argv.get(2).map_or(&[][..], |n| &n[..]);
        let Some(category) = crate::acl::table::category(name) else {
            let mut text = b"ERR Unknown category '".to_vec();
            text.extend(name.iter().take(128));
            text.push(b'\'');
            return super::reply::error_format(&text);
        };
        let table = crate::acl::table::table();
        Frame::Array(
            table
                .in_category(category)
                .filter_map(|id| table.entry(id))
                .map(|e| bulk(Bytes::from_static(e.spec.name.as_bytes())))
                .collect(),
        )
    } else if is("GENPASS") && (argc == 2 || argc == 3) {
        genpass(argv.get(2))
    } else if is("LOG") && (argc == 2 || argc == 3) {
        log(ctx, argv.get(2))
    } else if is("DRYRUN") && argc >= 4 {
        dryrun(ctx, argv)
    } else if is("HELP") && argc == 2 {
        help("acl", HELP)
    } else {
        syntax_error_for(sub)
    }
}

/// Redis's `addReplySubcommandSyntaxError`.
fn syntax_error_for(sub: &[u8]) -> Frame {
    super::reply::unknown_subcommand_or_arity(sub, "acl")
}

fn setuser(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let name = argv.get(2).cloned().unwrap_or_default();
    if has_spaces(&name) {
        return Frame::error("ERR Usernames can't contain spaces or null characters");
    }
    let ops = argv.get(3..).unwrap_or_default();
    let all_channels = all_channels_by_default(ctx.server);
    match ctx.server.acl.set_user(&name, ops, all_channels) {
        Ok((Some(before), user)) => {
            let after = user.rules().clone();
            if let Some(upcoming) = crate::acl::revoked_channels(&before, &after) {
                disconnect_revoked_subscribers(ctx, &user, &upcoming);
            }
            ok()
        }
        Ok((None, _)) => ok(),
        Err(text) => {
            let mut error = b"ERR ".to_vec();
            error.extend_from_slice(text.as_bytes());
            super::reply::error_format(&error)
        }
    }
}

/// Disconnects the user's pub/sub clients subscribed to a channel or pattern the user may
/// no longer use (Redis's `ACLKillPubsubClientsIfNeeded`).
fn disconnect_revoked_subscribers(ctx: &mut Ctx<'_>, user: &Arc<User>, upcoming: &[Bytes]) {
    for client in ctx.state.hub.all() {
        if !lock(&client.info).is_user(user) {
            continue;
        }
        let revoked = lock(&client.subs).as_ref().is_some_and(|subs| {
            subs.patterns
                .iter()
                .any(|p| !crate::acl::subscription_allowed(upcoming, p, true))
                || subs
                    .channels
                    .iter()
                    .chain(subs.shard_channels.iter())
                    .any(|c| !crate::acl::subscription_allowed(upcoming, c, false))
        });
        if revoked {
            close(ctx, &client);
        }
    }
}

/// Disconnects `client`: the caller's own connection after this reply, another at once.
fn close(ctx: &mut Ctx<'_>, client: &Arc<crate::clients::Client>) {
    if client.id == ctx.state.client.id {
        ctx.state.quit = true;
    } else {
        client.kill();
    }
}

fn deluser(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let names = argv.get(2..).unwrap_or_default();
    if names
        .iter()
        .any(|n| n.as_ref() == crate::acl::DEFAULT_USER.as_bytes())
    {
        return Frame::error("ERR The 'default' user cannot be removed");
    }
    let mut deleted = 0;
    for name in names {
        let Some(user) = ctx.server.acl.delete_user(name) else {
            continue;
        };
        deleted += 1;
        // Redis's `ACLFreeUserAndKillClients`: its connections go, the caller's after
        // its reply.
        for client in ctx.state.hub.all() {
            if lock(&client.info).is_user(&user) {
                close(ctx, &client);
            }
        }
        if Arc::ptr_eq(&ctx.state.user, &user) {
            set_user(ctx.state, ctx.server.acl.default_user());
            ctx.state.authenticated = false;
        }
    }
    Frame::Integer(deleted)
}

/// One selector as `ACL GETUSER` shows it: commands, keys, channels.
fn selector_fields(selector: &crate::acl::rules::Selector) -> Vec<(Frame, Frame)> {
    vec![
        (bulk("commands"), bulk(selector.describe_commands())),
        (bulk("keys"), bulk(selector.describe_keys())),
        (bulk("channels"), bulk(selector.describe_channels())),
    ]
}

fn getuser(ctx: &mut Ctx<'_>, name: &[u8]) -> Frame {
    let Some(user) = ctx.server.acl.user(name) else {
        return Frame::Null;
    };
    let rules = user.rules().clone();
    let mut fields = vec![
        (
            bulk("flags"),
            Frame::Set(
                rules
                    .flag_names()
                    .map(|f| bulk(Bytes::from_static(f.as_bytes())))
                    .collect(),
            ),
        ),
        (
            bulk("passwords"),
            Frame::Array(rules.passwords.iter().cloned().map(bulk).collect()),
        ),
    ];
    if let Some(root) = rules.root() {
        fields.extend(selector_fields(root));
    }
    fields.push((
        bulk("selectors"),
        Frame::Array(
            rules
                .selectors
                .iter()
                .skip(1)
                .map(|s| Frame::Map(selector_fields(s)))
                .collect(),
        ),
    ));
    Frame::Map(fields)
}

fn genpass(bits: Option<&Bytes>) -> Frame {
    let bits = match bits {
        None => GENPASS_DEFAULT_BITS,
        Some(text) => match parse_i64(text) {
            Some(n) => n,
            None => return Frame::error("ERR value is not an integer or out of range"),
        },
    };
    if bits <= 0 || bits > GENPASS_MAX_BITS {
        return Frame::Error(Bytes::from(format!(
            "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to {GENPASS_MAX_BITS}"
        )));
    }
    let chars = usize::try_from((bits + 3) / 4).unwrap_or(64);
    match random_hex(chars) {
        Some(hex) => bulk(hex),
        None => Frame::error("ERR could not read random bytes for ACL GENPASS"),
    }
}

/// `chars` hex digits from the system's random source (Redis's `getRandomHexChars`).
fn random_hex(chars: usize) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut bytes = vec![0u8; chars.div_ceil(2)];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .ok()?;
    let mut hex: Vec<u8> = bytes
        .iter()
        .flat_map(|b| format!("{b:02x}").into_bytes())
        .collect();
    hex.truncate(chars);
    Some(hex)
}

fn log(ctx: &mut Ctx<'_>, arg: Option<&Bytes>) -> Frame {
    let mut count = LOG_DEFAULT_COUNT;
    if let Some(arg) = arg {
        if is_keyword(arg, "RESET") {
            lock(&ctx.server.acl.log).reset();
            return ok();
        }
        match parse_i64(arg) {
            Some(n) => count = n.max(0),
            None => return Frame::error("ERR value is not an integer or out of range"),
        }
    }
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    let entries = lock(&ctx.server.acl.log).newest(count, crate::db::now_ms());
    Frame::Array(
        entries
            .into_iter()
            .map(|fields| {
                Frame::Map(
                    fields
                        .into_iter()
                        .map(|(name, value)| {
                            let value = match value {
                                crate::acl::log::Field::Integer(n) => {
                                    Frame::Integer(i64::try_from(n).unwrap_or(i64::MAX))
                                }
                                crate::acl::log::Field::Text(t) => bulk(t),
                                crate::acl::log::Field::Seconds(s) => Frame::Double(s),
                            };
                            (bulk(Bytes::from_static(name.as_bytes())), value)
                        })
                        .collect(),
                )
            })
            .collect(),
    )
}

/// `ACL DRYRUN user command [arg ...]`: whether the user could run it, without running it.
fn dryrun(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let name = argv.get(2).cloned().unwrap_or_default();
    let Some(user) = ctx.server.acl.user(&name) else {
        return super::reply::error_format(
            &[b"ERR User '".as_slice(), &name, b"' not found"].concat(),
        );
    };
    let command_argv = argv.get(3..).unwrap_or_default();
    let not_found = || {
        let given = command_argv.first().cloned().unwrap_or_default();
        super::reply::error_format(&[b"ERR Command '".as_slice(), &given, b"' not found"].concat())
    };
    // Redis's `lookupCommand`: a container with an argument needs a subcommand it has.
    let Some(command) = command_argv
        .first()
        .and_then(|n| super::dispatch::lookup(n))
    else {
        return not_found();
    };
    let spec: &'static Spec = match command_argv.get(1) {
        Some(sub) if !command.spec.subcommands.is_empty() => {
            match super::dispatch::lookup_subcommand(&command.spec, sub) {
                Some(sub) => sub,
                None => return not_found(),
            }
        }
        _ => &command.spec,
    };
    if !spec.arity_accepts(command_argv.len()) {
        return Frame::Error(Bytes::from(format!(
            "ERR wrong number of arguments for '{}' command",
            spec.name
        )));
    }
    match crate::acl::check(&user, spec, command_argv) {
        Ok(()) => ok(),
        Err(denied) => {
            let mut text: Vec<u8> = Vec::new();
            match denied {
                Denied::Command => text.extend_from_slice(
                    format!(
                        "This user has no permissions to run the '{}' command",
                        spec.name
                    )
                    .as_bytes(),
                ),
                Denied::Key(at) | Denied::Channel(at) => {
                    let what = if matches!(denied, Denied::Key(_)) {
                        "key"
                    } else {
                        "channel"
                    };
                    text.extend_from_slice(b"This user has no permissions to access the '");
                    text.extend_from_slice(command_argv.get(at).map_or(&[][..], |a| &a[..]));
                    text.extend_from_slice(format!("' {what}").as_bytes());
                }
            }
            bulk(text)
        }
    }
}
