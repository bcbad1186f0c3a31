//! Connection commands: PING, ECHO, HELLO, AUTH, QUIT, SELECT, CLIENT.

use bytes::Bytes;

use super::{ok, wrong_args, Ctx, Spec};
use respect_resp::{Dialect, Frame};

/// The version HELLO and INFO report.
pub const SERVER_VERSION: &str = "7.0.15";

/// This family's commands.
pub const COMMANDS: &[Spec] = &[
    Spec {
        name: "ping",
        arity: -1,
        run: ping,
    },
    Spec {
        name: "echo",
        arity: 2,
        run: echo,
    },
    Spec {
        name: "hello",
        arity: -1,
        run: hello,
    },
    Spec {
        name: "auth",
        arity: -2,
        run: auth,
    },
    Spec {
        name: "quit",
        arity: -1,
        run: quit,
    },
    Spec {
        name: "select",
        arity: 2,
        run: select,
    },
    Spec {
        name: "client",
        arity: -2,
        run: client,
    },
    Spec {
        name: "reset",
        arity: 1,
        run: reset,
    },
];

fn ping(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
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

fn select(_: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    match argv.get(1).map(|b| super::parse_i64(b)) {
        Some(Some(0)) => ok(),
        Some(Some(_)) => Frame::error("ERR DB index is out of range"),
        _ => super::not_integer(),
    }
}

fn reset(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Frame {
    ctx.state.dialect = Dialect::Resp2;
    ctx.state.name = None;
    ctx.state.authenticated = ctx.state.requirepass.is_none();
    Frame::simple("RESET")
}

/// Checks a password as AUTH does; `None` when it is accepted.
fn check_password(ctx: &mut Ctx<'_>, user: Option<&[u8]>, password: &[u8]) -> Option<Frame> {
    let Some(expected) = ctx.state.requirepass.clone() else {
        if user.is_none() {
            return Some(Frame::error(
                "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
            ));
        }
        // With no password, the default user accepts any password (`nopass`).
        return if user.is_some_and(|u| u == b"default") {
            None
        } else {
            Some(Frame::error(
                "WRONGPASS invalid username-password pair or user is disabled.",
            ))
        };
    };
    let user_ok = user.is_none_or(|u| u == b"default");
    if user_ok && password == &*expected {
        ctx.state.authenticated = true;
        None
    } else {
        Some(Frame::error(
            "WRONGPASS invalid username-password pair or user is disabled.",
        ))
    }
}

fn auth(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let result = match argv {
        [_, password] => check_password(ctx, None, password),
        [_, user, password] => check_password(ctx, Some(user), password),
        _ => return super::syntax_error(),
    };
    result.unwrap_or_else(ok)
}

fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

/// `HELLO [protover [AUTH username password] [SETNAME clientname]]`.
fn hello(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let mut next = 1;
    let mut version = None;
    if let Some(v) = argv.get(1) {
        match super::parse_i64(v) {
            Some(v @ 2..=3) => version = Some(v),
            Some(_) => return Frame::error("NOPROTO unsupported protocol version"),
            None => return Frame::error("ERR Protocol version is not an integer or out of range"),
        }
        next = 2;
    }
    let mut name = None;
    while let Some(option) = argv.get(next) {
        if option.eq_ignore_ascii_case(b"AUTH") && argv.len() > next + 2 {
            let (user, password) = (argv[next + 1].clone(), argv[next + 2].clone());
            if let Some(error) = check_password(ctx, Some(&user), &password) {
                return error;
            }
            next += 3;
        } else if option.eq_ignore_ascii_case(b"SETNAME") && argv.len() > next + 1 {
            let candidate = argv[next + 1].clone();
            if !valid_client_name(&candidate) {
                return Frame::error(
                    "ERR Client names cannot contain spaces, newlines or special characters.",
                );
            }
            name = Some(candidate);
            next += 2;
        } else {
            return Frame::Error(Bytes::from(format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(option)
            )));
        }
    }
    if !ctx.state.authenticated {
        return Frame::error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
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
        (field("role"), field("master")),
        (field("modules"), Frame::Array(vec![])),
    ])
}

/// `CLIENT ID | SETNAME name | GETNAME`.
fn client(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let sub = argv
        .get(1)
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    match (sub.as_slice(), argv.len()) {
        (b"id", 2) => Frame::Integer(i64::try_from(ctx.state.id).unwrap_or(i64::MAX)),
        (b"getname", 2) => ctx.state.name.clone().map_or(Frame::Null, Frame::Bulk),
        (b"setname", 3) => {
            let name = argv[2].clone();
            if !valid_client_name(&name) {
                return Frame::error(
                    "ERR Client names cannot contain spaces, newlines or special characters.",
                );
            }
            ctx.state.name = (!name.is_empty()).then_some(name);
            ok()
        }
        (b"id" | b"getname" | b"setname", _) => Frame::Error(Bytes::from(format!(
            "ERR wrong number of arguments for 'client|{}' command",
            String::from_utf8_lossy(&sub)
        ))),
        _ => Frame::Error(Bytes::from(format!(
            "ERR unknown subcommand '{}'. Try CLIENT HELP.",
            String::from_utf8_lossy(argv.get(1).map(|b| b.as_ref()).unwrap_or_default())
        ))),
    }
}
