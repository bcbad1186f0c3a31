//! CLIENT subcommands that reach other connections: LIST, INFO, KILL, UNBLOCK. (CLIENT ID,
//! GETNAME and SETNAME, which only touch the caller, stay in [`super::connection`], whose
//! `client` handler hands the others here.) They read the server's registry of live
//! clients ([`crate::clients::Hub`]).

use bytes::Bytes;

use super::args::{is_keyword, parse_i64};
use super::context::Ctx;
use super::reply::syntax_error;
use crate::clients::{Client, ClientType};
use respect_resp::Frame;

/// Text replies (CLIENT LIST, CLIENT INFO) are verbatim strings, `txt` (a bulk in RESP2).
fn verbatim(text: String) -> Frame {
    Frame::Verbatim {
        format: *b"txt",
        text: Bytes::from(text),
    }
}

/// Runs `CLIENT LIST|INFO|KILL|UNBLOCK`; `None` for any other subcommand.
pub fn client_admin(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Option<Frame> {
    let sub = argv.get(1)?;
    let reply = if is_keyword(sub, "LIST") {
        list(ctx, argv)
    } else if is_keyword(sub, "INFO") {
        verbatim(format!("{}\n", ctx.state.client.list_line()))
    } else if is_keyword(sub, "KILL") {
        kill(ctx, argv)
    } else if is_keyword(sub, "UNBLOCK") {
        unblock(ctx, argv)
    } else {
        return None;
    };
    Some(reply)
}

/// `CLIENT LIST [TYPE type] | [ID id ...]`.
fn list(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let hub = &ctx.state.hub;
    let mut out = String::new();
    let mut add = |client: &Client| {
        out.push_str(&client.list_line());
        out.push('\n');
    };
    match argv {
        [_, _] => hub.all().iter().for_each(|c| add(c)),
        [_, _, option, name] if is_keyword(option, "TYPE") => {
            let Some(kind) = ClientType::parse(name) else {
                return unknown_type(name);
            };
            hub.all()
                .iter()
                .filter(|c| c.client_type() == kind)
                .for_each(|c| add(c));
        }
        [_, _, option, ids @ ..] if is_keyword(option, "ID") && !ids.is_empty() => {
            let mut found = Vec::new();
            for id in ids {
                let Some(id) = parse_i64(id) else {
                    return Frame::error("ERR Invalid client ID");
                };
                found.extend(u64::try_from(id).ok().and_then(|id| hub.get(id)));
            }
            found.iter().for_each(|c| add(c));
        }
        _ => return syntax_error(),
    }
    verbatim(out)
}

fn unknown_type(name: &[u8]) -> Frame {
    Frame::Error(Bytes::from(format!(
        "ERR Unknown client type '{}'",
        String::from_utf8_lossy(name)
    )))
}

/// `CLIENT KILL ip:port` (the old form: may kill the caller, `+OK` or `No such client`) or
/// `CLIENT KILL [ID id] [TYPE type] [ADDR a] [LADDR a] [USER u] [SKIPME yes|no] ...` (the
/// number killed). The caller, when killed, is closed after its reply.
fn kill(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let mut addr: Option<&[u8]> = None;
    let mut laddr: Option<&[u8]> = None;
    let mut kind = None;
    let mut id = None;
    let mut skipme = true;
    let old_form = argv.len() == 3;
    if old_form {
        addr = argv.get(2).map(|a| &a[..]);
        skipme = false;
    } else {
        let mut options = argv.get(2..).unwrap_or_default();
        while let Some((option, rest)) = options.split_first() {
            let Some((value, rest)) = rest.split_first() else {
                return syntax_error();
            };
            if is_keyword(option, "ID") {
                match parse_i64(value) {
                    Some(n) if n >= 1 => id = Some(n as u64),
                    _ => return Frame::error("ERR client-id should be greater than 0"),
                }
            } else if is_keyword(option, "TYPE") {
                match ClientType::parse(value) {
                    Some(k) => kind = Some(k),
                    None => return unknown_type(value),
                }
            } else if is_keyword(option, "ADDR") {
                addr = Some(value);
            } else if is_keyword(option, "LADDR") {
                laddr = Some(value);
            } else if is_keyword(option, "USER") {
                if value.as_ref() != b"default" {
                    return Frame::Error(Bytes::from(format!(
                        "ERR No such user '{}'",
                        String::from_utf8_lossy(value)
                    )));
                }
            } else if is_keyword(option, "SKIPME") {
                if is_keyword(value, "YES") {
                    skipme = true;
                } else if is_keyword(value, "NO") {
                    skipme = false;
                } else {
                    return syntax_error();
                }
            } else {
                return syntax_error();
            }
            options = rest;
        }
    }
    let me = ctx.state.client.id;
    let mut killed = 0i64;
    for client in ctx.state.hub.all() {
        if addr.is_some_and(|a| a != client.addr.as_bytes())
            || laddr.is_some_and(|a| a != client.laddr.as_bytes())
            || kind.is_some_and(|k| k != client.client_type())
            || id.is_some_and(|id| id != client.id)
            || (skipme && client.id == me)
        {
            continue;
        }
        // The caller's own connection checks the flag after writing this reply.
        client.kill();
        killed += 1;
    }
    match (old_form, killed) {
        (true, 0) => Frame::error("ERR No such client"),
        (true, _) => Frame::simple("OK"),
        (false, n) => Frame::Integer(n),
    }
}

/// `CLIENT UNBLOCK id [TIMEOUT|ERROR]`: 1 when the client was blocked and is now told to
/// stop waiting, else 0.
fn unblock(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    if argv.len() > 4 {
        let sub = String::from_utf8_lossy(argv.get(1).map_or(&[][..], |s| &s[..]));
        return Frame::Error(Bytes::from(format!(
            "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try CLIENT HELP."
        )));
    }
    let error = match argv.get(3) {
        None => false,
        Some(r) if is_keyword(r, "TIMEOUT") => false,
        Some(r) if is_keyword(r, "ERROR") => true,
        Some(_) => return Frame::error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"),
    };
    let Some(id) = argv.get(2).and_then(|i| parse_i64(i)) else {
        return super::reply::not_integer();
    };
    let hub = &ctx.state.hub;
    let target = u64::try_from(id).ok().and_then(|id| hub.get(id));
    let unblocked = target.is_some_and(|t| {
        hub.blocking.unblock_with(&t, hub, |state| {
            if error {
                Frame::error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
            } else if state.dialect == respect_resp::Dialect::Resp3 {
                Frame::Null
            } else {
                Frame::NullArray
            }
        })
    });
    Frame::Integer(i64::from(unblocked))
}
