//! CLIENT subcommands that reach other connections: LIST, INFO, KILL, UNBLOCK. (CLIENT ID,
//! GETNAME and SETNAME, which only touch the caller, stay in [`super::connection`], whose
//! `client` handler hands the others here.) They read the server's registry of live
//! clients ([`crate::clients::Hub`]).

use bytes::Bytes;

use super::args::{is_keyword, parse_i64};
use super::context::Ctx;
use super::reply::syntax_error;
use crate::clients::{lock, show, Client, ClientType};
use crate::tracking::Settings;
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
    } else if is_keyword(sub, "TRACKING") {
        tracking(ctx, argv)
    } else if is_keyword(sub, "CACHING") {
        caching(ctx, argv)
    } else if is_keyword(sub, "GETREDIR") {
        let redirect = ctx.state.hub.tracking.settings(ctx.state.client.id);
        Frame::Integer(redirect.map_or(-1, |s| i64::try_from(s.redirect).unwrap_or(i64::MAX)))
    } else if is_keyword(sub, "TRACKINGINFO") {
        tracking_info(ctx)
    } else if is_keyword(sub, "PAUSE") {
        pause(ctx, argv)
    } else if is_keyword(sub, "UNPAUSE") {
        ctx.state.hub.pause.unpause();
        super::reply::ok()
    } else {
        return None;
    };
    Some(reply)
}

/// `CLIENT PAUSE timeout [WRITE|ALL]`, checked in Redis's order: the mode, then the timeout.
fn pause(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let all = match argv.get(3) {
        _ if argv.len() > 4 => {
            return super::reply::unknown_subcommand_or_arity(b"pause", "client");
        }
        None => true,
        Some(mode) if is_keyword(mode, "ALL") => true,
        Some(mode) if is_keyword(mode, "WRITE") => false,
        Some(_) => return Frame::error("ERR CLIENT PAUSE mode must be WRITE or ALL"),
    };
    let ms = match argv.get(2).and_then(|t| super::args::parse_i64(t)) {
        None => return Frame::error("ERR timeout is not an integer or out of range"),
        Some(ms) if ms < 0 => return Frame::error("ERR timeout is negative"),
        Some(ms) => ms.unsigned_abs(),
    };
    let until = std::time::Instant::now() + std::time::Duration::from_millis(ms);
    ctx.state.hub.pause.pause(until, all);
    super::reply::ok()
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
    let mut user: Option<&[u8]> = None;
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
                if ctx.server.acl.user(value).is_none() {
                    return Frame::Error(Bytes::from(format!(
                        "ERR No such user '{}'",
                        String::from_utf8_lossy(value)
                    )));
                }
                user = Some(value);
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
        if addr.is_some_and(|a| a != show(client.addr).as_bytes())
            || laddr.is_some_and(|a| a != show(client.laddr).as_bytes())
            || kind.is_some_and(|k| k != client.client_type())
            || id.is_some_and(|id| id != client.id)
            || user.is_some_and(|u| u != lock(&client.info).user_name().as_bytes())
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

/// `CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]`,
/// checked in Redis's order with its errors.
fn tracking(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let hub = ctx.state.hub.clone();
    let me = ctx.state.client.id;
    let mut new = Settings::default();
    let mut options = argv.get(3..).unwrap_or_default();
    while let Some((option, rest)) = options.split_first() {
        let value = rest.first();
        if is_keyword(option, "REDIRECT") && value.is_some() {
            if new.redirect != 0 {
                return Frame::error("ERR A client can only redirect to a single other client");
            }
            let Some(id) = value.and_then(|v| parse_i64(v)) else {
                return super::reply::not_integer();
            };
            let target = u64::try_from(id).ok().filter(|id| hub.get(*id).is_some());
            let Some(target) = target else {
                return Frame::error("ERR The client ID you want redirect to does not exist");
            };
            new.redirect = target;
            options = rest.get(1..).unwrap_or_default();
            continue;
        } else if is_keyword(option, "PREFIX") && value.is_some() {
            new.prefixes.extend(value.cloned());
            options = rest.get(1..).unwrap_or_default();
            continue;
        } else if is_keyword(option, "BCAST") {
            new.bcast = true;
        } else if is_keyword(option, "OPTIN") {
            new.optin = true;
        } else if is_keyword(option, "OPTOUT") {
            new.optout = true;
        } else if is_keyword(option, "NOLOOP") {
            new.noloop = true;
        } else {
            return syntax_error();
        }
        options = rest;
    }
    let mode = argv.get(2).map_or(&[][..], |m| &m[..]);
    if is_keyword(mode, "OFF") {
        hub.tracking.disable(me);
        set_tracking_info(ctx, None);
        return Frame::simple("OK");
    }
    if !is_keyword(mode, "ON") {
        return syntax_error();
    }
    if !new.bcast && !new.prefixes.is_empty() {
        return Frame::error("ERR PREFIX option requires BCAST mode to be enabled");
    }
    let old = hub.tracking.settings(me);
    if old.as_ref().is_some_and(|o| o.bcast != new.bcast) {
        return Frame::error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.");
    }
    if new.bcast && (new.optin || new.optout) {
        return Frame::error("ERR OPTIN and OPTOUT are not compatible with BCAST");
    }
    if new.optin && new.optout {
        return Frame::error("ERR You can't specify both OPTIN mode and OPTOUT mode");
    }
    if old
        .as_ref()
        .is_some_and(|o| (new.optin && o.optout) || (new.optout && o.optin))
    {
        return Frame::error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.");
    }
    let existing = old.as_ref().map(|o| o.prefixes.clone()).unwrap_or_default();
    if new.bcast {
        for (i, p) in new.prefixes.iter().enumerate() {
            let overlaps = |a: &[u8], b: &[u8]| a.starts_with(b) || b.starts_with(a);
            if let Some(e) = existing.iter().find(|e| overlaps(e, p)) {
                return Frame::Error(Bytes::from(format!(
                    "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                    String::from_utf8_lossy(p),
                    String::from_utf8_lossy(e)
                )));
            }
            if let Some(o) = new
                .prefixes
                .get(i + 1..)
                .and_then(|r| r.iter().find(|o| overlaps(p, o)))
            {
                return Frame::Error(Bytes::from(format!(
                    "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                    String::from_utf8_lossy(p),
                    String::from_utf8_lossy(o)
                )));
            }
        }
    }
    // Turning tracking on again keeps the flags already set and adds the new ones, and
    // the prefixes accumulate, as Redis's enableTracking does.
    if let Some(o) = old {
        new.optin |= o.optin;
        new.optout |= o.optout;
        new.noloop |= o.noloop;
        let mut prefixes = o.prefixes;
        prefixes.extend(new.prefixes);
        new.prefixes = prefixes;
    }
    let redirect = new.redirect;
    hub.tracking.enable(me, new);
    set_tracking_info(ctx, Some(redirect));
    Frame::simple("OK")
}

/// After RESET: CLIENT LIST shows tracking off.
pub fn clear_tracking_info(ctx: &Ctx<'_>) {
    set_tracking_info(ctx, None);
}

/// What CLIENT LIST shows of tracking: `flags=t`, `redir=`.
fn set_tracking_info(ctx: &Ctx<'_>, redirect: Option<u64>) {
    let mut info = lock(&ctx.state.client.info);
    info.tracking = redirect.is_some();
    info.redirect = match redirect {
        Some(r) => i64::try_from(r).unwrap_or(i64::MAX),
        None => -1,
    };
}

/// `CLIENT CACHING YES|NO`.
fn caching(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let hub = &ctx.state.hub;
    let Some(settings) = hub.tracking.settings(ctx.state.client.id) else {
        return Frame::error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
    };
    let option = argv.get(2).map_or(&[][..], |o| &o[..]);
    if is_keyword(option, "YES") {
        if !settings.optin {
            return Frame::error(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            );
        }
    } else if is_keyword(option, "NO") {
        if !settings.optout {
            return Frame::error(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            );
        }
    } else {
        return syntax_error();
    }
    hub.tracking
        .update(ctx.state.client.id, |s| s.caching = true);
    Frame::simple("OK")
}

/// `CLIENT TRACKINGINFO`: a map of flags, redirect and prefixes.
fn tracking_info(ctx: &mut Ctx<'_>) -> Frame {
    let settings = ctx.state.hub.tracking.settings(ctx.state.client.id);
    let word = |w: &'static str| Frame::Bulk(Bytes::from_static(w.as_bytes()));
    let mut flags = Vec::new();
    match &settings {
        None => flags.push(word("off")),
        Some(s) => {
            flags.push(word("on"));
            if s.bcast {
                flags.push(word("bcast"));
            }
            if s.optin {
                flags.push(word("optin"));
                if s.caching {
                    flags.push(word("caching-yes"));
                }
            }
            if s.optout {
                flags.push(word("optout"));
                if s.caching {
                    flags.push(word("caching-no"));
                }
            }
            if s.noloop {
                flags.push(word("noloop"));
            }
            if s.broken_redirect {
                flags.push(word("broken_redirect"));
            }
        }
    }
    let redirect = settings
        .as_ref()
        .map_or(-1, |s| i64::try_from(s.redirect).unwrap_or(i64::MAX));
    let bcast = settings.as_ref().is_some_and(|s| s.bcast);
    let mut prefixes: Vec<Bytes> = settings.map(|s| s.prefixes).unwrap_or_default();
    // Redis keeps them in a radix tree: sorted. BCAST without a prefix is the empty prefix
    // (every key), which Redis lists.
    prefixes.sort();
    if bcast && prefixes.is_empty() {
        prefixes.push(Bytes::new());
    }
    Frame::Map(vec![
        (word("flags"), Frame::Set(flags)),
        (word("redirect"), Frame::Integer(redirect)),
        (
            word("prefixes"),
            Frame::Array(prefixes.into_iter().map(Frame::Bulk).collect()),
        ),
    ])
}
