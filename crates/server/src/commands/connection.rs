//! Connection commands: PING, ECHO, HELLO, AUTH, QUIT, SELECT, CLIENT.

use bytes::Bytes;

use super::args::{is_keyword, parse_i64};
use super::context::Ctx;
use super::registry::{Categories, Category, Command, Docs, Flag, Flags, KeyRange, Spec};
use super::reply::{ok, syntax_error, unknown_subcommand, wrong_args};
use respect_resp::{Dialect, Frame};

/// The version HELLO and INFO report.
pub const SERVER_VERSION: &str = "7.0.15";

/// This family's commands.
pub const COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "ping",
            arity: -1,
            flags: Flags::of(&[Flag::Fast]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Fast, Category::Connection]),
            tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
            docs: Docs {
                summary: "Ping the server",
                since: "1.0.0",
                group: "connection",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: ping,
    },
    Command {
        spec: Spec {
            name: "echo",
            arity: 2,
            flags: Flags::of(&[Flag::Loading, Flag::Stale, Flag::Fast]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Fast, Category::Connection]),
            tips: &[],
            docs: Docs {
                summary: "Echo the given string",
                since: "1.0.0",
                group: "connection",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: echo,
    },
    Command {
        spec: Spec {
            name: "hello",
            arity: -1,
            flags: Flags::of(&[Flag::Noscript, Flag::Loading, Flag::Stale, Flag::Fast, Flag::NoAuth, Flag::AllowBusy]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Fast, Category::Connection]),
            tips: &[],
            docs: Docs {
                summary: "Handshake with Redis",
                since: "6.0.0",
                group: "connection",
                complexity: "O(1)",
                deprecated: None,
                history: &[("6.2.0", "`protover` made optional; when called without arguments the command reports the current connection's context.")],
            },
            subcommands: &[],
        },
        run: hello,
    },
    Command {
        spec: Spec {
            name: "auth",
            arity: -2,
            flags: Flags::of(&[Flag::Noscript, Flag::Loading, Flag::Stale, Flag::Fast, Flag::NoAuth, Flag::AllowBusy]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Fast, Category::Connection]),
            tips: &[],
            docs: Docs {
                summary: "Authenticate to the server",
                since: "1.0.0",
                group: "connection",
                complexity: "O(N) where N is the number of passwords defined for the user",
                deprecated: None,
                history: &[("6.0.0", "Added ACL style (username and password).")],
            },
            subcommands: &[],
        },
        run: auth,
    },
    Command {
        spec: Spec {
            name: "quit",
            arity: -1,
            flags: Flags::of(&[Flag::Noscript, Flag::Loading, Flag::Stale, Flag::Fast, Flag::NoAuth, Flag::AllowBusy]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Fast, Category::Connection]),
            tips: &[],
            docs: Docs {
                summary: "Close the connection",
                since: "1.0.0",
                group: "connection",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: quit,
    },
    Command {
        spec: Spec {
            name: "select",
            arity: 2,
            flags: Flags::of(&[Flag::Loading, Flag::Stale, Flag::Fast]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Fast, Category::Connection]),
            tips: &[],
            docs: Docs {
                summary: "Change the selected database for the current connection",
                since: "1.0.0",
                group: "connection",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: super::databases::select,
    },
    Command {
        spec: Spec {
            name: "client",
            arity: -2,
            flags: Flags::of(&[]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "A container for client connection commands",
                since: "2.4.0",
                group: "connection",
                complexity: "Depends on subcommand.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[
Spec {
    name: "client|pause",
    arity: -3,
    flags: Flags::of(&[Flag::Admin, Flag::Noscript, Flag::Loading, Flag::Stale]),
    keys: KeyRange { first: 0, last: 0, step: 0 },
    key_specs: &[],
    acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous, Category::Connection]),
    tips: &[],
    docs: Docs {
        summary: "Stop processing commands from clients for some time",
        since: "2.9.50",
        group: "connection",
        complexity: "O(1)",
        deprecated: None,
        history: &[("6.2.0", "`CLIENT PAUSE WRITE` mode added along with the `mode` option.")],
    },
    subcommands: &[],
},
Spec {
    name: "client|unpause",
    arity: 2,
    flags: Flags::of(&[Flag::Admin, Flag::Noscript, Flag::Loading, Flag::Stale]),
    keys: KeyRange { first: 0, last: 0, step: 0 },
    key_specs: &[],
    acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous, Category::Connection]),
    tips: &[],
    docs: Docs {
        summary: "Resume processing of clients that were paused",
        since: "6.2.0",
        group: "connection",
        complexity: "O(N) Where N is the number of paused clients",
        deprecated: None,
        history: &[],
    },
    subcommands: &[],
},
Spec {
    name: "client|help",
    arity: 2,
    flags: Flags::of(&[Flag::Loading, Flag::Stale]),
    keys: KeyRange { first: 0, last: 0, step: 0 },
    key_specs: &[],
    acl: Categories::of(&[Category::Slow, Category::Connection]),
    tips: &[],
    docs: Docs {
        summary: "Show helpful text about the different subcommands",
        since: "5.0.0",
        group: "connection",
        complexity: "O(1)",
        deprecated: None,
        history: &[],
    },
    subcommands: &[],
},
        Spec {
            name: "client|id",
            arity: 2,
            flags: Flags::of(&[Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow, Category::Connection]),
            tips: &[],
            docs: Docs {
                summary: "Returns the client ID for the current connection",
                since: "5.0.0",
                group: "connection",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        Spec {
            name: "client|getname",
            arity: 2,
            flags: Flags::of(&[Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow, Category::Connection]),
            tips: &[],
            docs: Docs {
                summary: "Get the current connection name",
                since: "2.6.9",
                group: "connection",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        Spec {
            name: "client|setname",
            arity: 3,
            flags: Flags::of(&[Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow, Category::Connection]),
            tips: &[],
            docs: Docs {
                summary: "Set the current connection name",
                since: "2.6.9",
                group: "connection",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        // --- connections that talk to each other: handled in `super::clients` ---
        Spec {
            name: "client|list",
            arity: -2,
            flags: Flags::of(&[Flag::Admin, Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous, Category::Connection]),
            tips: &["nondeterministic_output"],
            docs: Docs {
                summary: "Get the list of client connections",
                since: "2.4.0",
                group: "connection",
                complexity: "O(N) where N is the number of client connections",
                deprecated: None,
                history: &[("2.8.12", "Added unique client `id` field."), ("5.0.0", "Added optional `TYPE` filter."), ("6.0.0", "Added `user` field."), ("6.2.0", "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional `ID` filter."), ("7.0.0", "Added `resp`, `multi-mem`, `rbs` and `rbp` fields."), ("7.0.3", "Added `ssub` field.")],
            },
            subcommands: &[],
        },
        Spec {
            name: "client|info",
            arity: 2,
            flags: Flags::of(&[Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow, Category::Connection]),
            tips: &["nondeterministic_output"],
            docs: Docs {
                summary: "Returns information about the current client connection.",
                since: "6.2.0",
                group: "connection",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        Spec {
            name: "client|kill",
            arity: -3,
            flags: Flags::of(&[Flag::Admin, Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous, Category::Connection]),
            tips: &[],
            docs: Docs {
                summary: "Kill the connection of a client",
                since: "2.4.0",
                group: "connection",
                complexity: "O(N) where N is the number of client connections",
                deprecated: None,
                history: &[("2.8.12", "Added new filter format."), ("2.8.12", "`ID` option."), ("3.2.0", "Added `master` type in for `TYPE` option."), ("5.0.0", "Replaced `slave` `TYPE` with `replica`. `slave` still supported for backward compatibility."), ("6.2.0", "`LADDR` option.")],
            },
            subcommands: &[],
        },
        Spec {
            name: "client|unblock",
            arity: -3,
            flags: Flags::of(&[Flag::Admin, Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous, Category::Connection]),
            tips: &[],
            docs: Docs {
                summary: "Unblock a client blocked in a blocking command from a different connection",
                since: "5.0.0",
                group: "connection",
                complexity: "O(log N) where N is the number of client connections",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        Spec {
            name: "client|tracking",
            arity: -3,
            flags: Flags::of(&[Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow, Category::Connection]),
            tips: &[],
            docs: Docs {
                summary: "Enable or disable server assisted client side caching support",
                since: "6.0.0",
                group: "connection",
                complexity: "O(1). Some options may introduce additional complexity.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        Spec {
            name: "client|caching",
            arity: 3,
            flags: Flags::of(&[Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow, Category::Connection]),
            tips: &[],
            docs: Docs {
                summary: "Instruct the server about tracking or not keys in the next request",
                since: "6.0.0",
                group: "connection",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        Spec {
            name: "client|getredir",
            arity: 2,
            flags: Flags::of(&[Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow, Category::Connection]),
            tips: &[],
            docs: Docs {
                summary: "Get tracking notifications redirection client ID if any",
                since: "6.0.0",
                group: "connection",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        Spec {
            name: "client|trackinginfo",
            arity: 2,
            flags: Flags::of(&[Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow, Category::Connection]),
            tips: &[],
            docs: Docs {
                summary: "Return information about server assisted client side caching for the current connection",
                since: "6.2.0",
                group: "connection",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        Spec {
            name: "client|reply",
            arity: 3,
            flags: Flags::of(&[Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Slow, Category::Connection]),
            tips: &[],
            docs: Docs {
                summary: "Instruct the server whether to reply to commands",
                since: "3.2.0",
                group: "connection",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        Spec {
            name: "client|no-evict",
            arity: 3,
            flags: Flags::of(&[Flag::Admin, Flag::Noscript, Flag::Loading, Flag::Stale]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Admin, Category::Slow, Category::Dangerous, Category::Connection]),
            tips: &[],
            docs: Docs {
                summary: "Set client eviction mode for the current connection",
                since: "7.0.0",
                group: "connection",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
    ],
        },
        run: client,
    },
    Command {
        spec: Spec {
            name: "reset",
            arity: 1,
            flags: Flags::of(&[Flag::Noscript, Flag::Loading, Flag::Stale, Flag::Fast, Flag::NoAuth, Flag::AllowBusy]),
            keys: KeyRange { first: 0, last: 0, step: 0 },
            key_specs: &[],
            acl: Categories::of(&[Category::Fast, Category::Connection]),
            tips: &[],
            docs: Docs {
                summary: "Reset the connection",
                since: "6.2.0",
                group: "connection",
                complexity: "O(1)",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: reset,
    },
];

fn ping(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    // RESP2 subscribed mode answers `*2 pong <message>`.
    if super::pubsub::subscribed_ping(ctx.state) && argv.len() <= 2 {
        let message = argv.get(1).cloned().unwrap_or_default();
        return Frame::Array(vec![
            Frame::Bulk(Bytes::from_static(b"pong")),
            Frame::Bulk(message),
        ]);
    }
    match argv {
        [_] => Frame::simple("PONG"),
        [_, message] => Frame::Bulk(message.clone()),
        _ => {
            let _ = ctx;
            wrong_args("ping")
        }
    }
}

fn echo(_: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    argv.get(1)
        .cloned()
        .map_or_else(|| wrong_args("echo"), Frame::Bulk)
}

fn quit(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Frame {
    ctx.state.quit = true;
    ok()
}

fn reset(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Frame {
    // Redis's `clearClientConnectionState`: no transaction, no watches, database 0,
    // replies on, then the protocol, name and authentication below.
    ctx.state.multi = None;
    ctx.state.watch.unwatch();
    ctx.state.db_index = 0;
    ctx.state.reply = Default::default();
    ctx.state.dialect = Dialect::Resp2;
    ctx.state.name = None;
    // Redis's `clientSetDefaultAuth`: the default user, authenticated if it needs no
    // password.
    super::acl::set_user(ctx.state, ctx.server.acl.default_user());
    ctx.state.authenticated = !ctx.server.acl.default_requires_auth();
    // Leaves every channel, pattern and shard channel, without confirmations.
    ctx.state
        .hub
        .pubsub
        .unsubscribe_everything(&ctx.state.client);
    ctx.state.hub.tracking.disable(ctx.state.client.id);
    super::clients::clear_tracking_info(ctx);
    super::monitor::stop(ctx.state);
    Frame::simple("RESET")
}

/// Authenticates the connection as `user` if `password` opens it (Redis's
/// `ACLAuthenticateUser`); `None` when it did. A refusal is logged for ACL LOG.
fn authenticate(ctx: &mut Ctx<'_>, argv: &[Bytes], user: &Bytes, password: &[u8]) -> Option<Frame> {
    match ctx.server.acl.authenticate(user, password) {
        Some(found) => {
            super::acl::set_user(ctx.state, found);
            ctx.state.authenticated = true;
            None
        }
        None => {
            let command = argv.first().cloned().unwrap_or_default();
            super::acl::log_refusal(
                ctx.server,
                ctx.state,
                crate::acl::Reason::Auth,
                command,
                Some(user.clone()),
                ctx.now,
            );
            Some(Frame::error(
                "WRONGPASS invalid username-password pair or user is disabled.",
            ))
        }
    }
}

/// `AUTH password` (the default user) or `AUTH username password`.
fn auth(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (user, password) = match argv {
        [_, password] => {
            if !ctx.server.acl.default_requires_password() {
                return Frame::error(
                    "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
                );
            }
            (
                Bytes::from_static(crate::acl::DEFAULT_USER.as_bytes()),
                password,
            )
        }
        [_, user, password] => (user.clone(), password),
        _ => return syntax_error(),
    };
    authenticate(ctx, argv, &user, password).unwrap_or_else(ok)
}

fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

/// `HELLO [protover [AUTH username password] [SETNAME clientname]]`. Not parsed whole
/// first: redis-server 7.0.15 checks each AUTH as it reaches it (`HELLO 3 AUTH default wrong
/// BOGUS` is WRONGPASS, not a syntax error), and so does this.
fn hello(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let mut rest = argv.get(1..).unwrap_or_default();
    let mut version = None;
    if let Some((v, after)) = rest.split_first() {
        match parse_i64(v) {
            Some(v @ 2..=3) => version = Some(v),
            Some(_) => return Frame::error("NOPROTO unsupported protocol version"),
            None => return Frame::error("ERR Protocol version is not an integer or out of range"),
        }
        rest = after;
    }
    let mut name = None;
    loop {
        rest = match rest {
            [] => break,
            [option, user, password, after @ ..] if is_keyword(option, "AUTH") => {
                if let Some(error) = authenticate(ctx, argv, user, password) {
                    return error;
                }
                after
            }
            [option, candidate, after @ ..] if is_keyword(option, "SETNAME") => {
                if !valid_client_name(candidate) {
                    return Frame::error(
                        "ERR Client names cannot contain spaces, newlines or special characters.",
                    );
                }
                name = Some(candidate.clone());
                after
            }
            [option, ..] => {
                let mut text = b"ERR Syntax error in HELLO option '".to_vec();
                text.extend_from_slice(option);
                text.push(b'\'');
                return Frame::Error(Bytes::from(text));
            }
        };
    }
    if super::dispatch::auth_required(ctx.server, ctx.state) {
        return Frame::error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
    }
    if let Some(name) = name {
        ctx.state.name = Some(name);
    }
    if let Some(v) = version {
        ctx.state.dialect = if v == 3 {
            Dialect::Resp3
        } else {
            Dialect::Resp2
        };
    }
    let proto = if ctx.state.dialect == Dialect::Resp3 {
        3
    } else {
        2
    };
    let field = |k: &'static str| Frame::Bulk(Bytes::from_static(k.as_bytes()));
    Frame::Map(vec![
        (field("server"), field("redis")),
        (field("version"), field(SERVER_VERSION)),
        (field("proto"), Frame::Integer(proto)),
        (
            field("id"),
            Frame::Integer(i64::try_from(ctx.state.id).unwrap_or(i64::MAX)),
        ),
        (field("mode"), field("standalone")),
        (
            field("role"),
            field(if ctx.server.replication.is_replica() {
                "replica"
            } else {
                "master"
            }),
        ),
        (field("modules"), Frame::Array(vec![])),
    ])
}

/// CLIENT HELP's own lines, as Redis 7.0.15 prints them (see `reply::help` for the rest).
const CLIENT_HELP: &[&str] = &[
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
];

/// `CLIENT ID | SETNAME name | GETNAME`.
fn client(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    // The dispatcher has checked the subcommand and its arity against the registry.
    match argv {
        [_, sub] if is_keyword(sub, "ID") => {
            Frame::Integer(i64::try_from(ctx.state.id).unwrap_or(i64::MAX))
        }
        [_, sub] if is_keyword(sub, "HELP") => super::reply::help("client", CLIENT_HELP),
        [_, sub] if is_keyword(sub, "GETNAME") => {
            ctx.state.name.clone().map_or(Frame::Null, Frame::Bulk)
        }
        [_, sub, name] if is_keyword(sub, "SETNAME") => {
            if !valid_client_name(name) {
                return Frame::error(
                    "ERR Client names cannot contain spaces, newlines or special characters.",
                );
            }
            ctx.state.name = (!name.is_empty()).then(|| name.clone());
            ok()
        }
        [_, sub, mode] if is_keyword(sub, "REPLY") => super::reply_mode::client_reply(ctx, mode),
        [_, sub, mode] if is_keyword(sub, "NO-EVICT") => super::reply_mode::client_no_evict(mode),
        _ => super::clients::client_admin(ctx, argv).unwrap_or_else(|| {
            unknown_subcommand(argv.get(1).map_or(&[][..], |s| s.as_ref()), "client")
        }),
    }
}
