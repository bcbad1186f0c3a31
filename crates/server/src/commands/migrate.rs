//! MIGRATE: moves keys to another server as DUMP payloads it RESTOREs (Redis 7.0's
//! `migrateCommand`).
//!
//! Like Redis's, the transfer is synchronous: the command connects, writes AUTH, SELECT and
//! one RESTORE per key, and reads a one-line reply for each, every step bounded by the
//! command's timeout. The connection holding the command waits meanwhile (Redis's whole
//! event loop does); other connections go on. Redis keeps the socket for 10 seconds to
//! reuse it; this server opens one per call (INFO says `migrate_cached_sockets:0`), so it
//! always sends SELECT, as Redis does on a new socket.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use respect_resp::{encode_into, Dialect, Frame};

use super::args::{is_keyword, parse_i64};
use super::context::Ctx;
use super::propagate::word;
use super::registry::{
    BeginSearch, Categories, Category, Command, Docs, FindKeys, Flag, Flags, KeyFlag, KeyFlags,
    KeyRange, KeySpec, Spec,
};
use super::reply::{not_integer, ok, syntax_error};

/// This family's commands.
pub const COMMANDS: &[Command] = &[Command {
    spec: Spec {
        name: "migrate",
        arity: -6,
        flags: Flags::of(&[Flag::Write, Flag::Movablekeys]),
        keys: KeyRange {
            first: 3,
            last: 3,
            step: 1,
        },
        key_specs: &[
            KeySpec {
                notes: None,
                flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]),
                begin: BeginSearch::Index(3),
                find: FindKeys::Range {
                    last_key: 0,
                    key_step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: None,
                flags: KeyFlags::of(&[
                    KeyFlag::Rw,
                    KeyFlag::Access,
                    KeyFlag::Delete,
                    KeyFlag::Incomplete,
                ]),
                begin: BeginSearch::Keyword {
                    keyword: "KEYS",
                    start_from: -2,
                },
                find: FindKeys::Range {
                    last_key: -1,
                    key_step: 1,
                    limit: 0,
                },
            },
        ],
        acl: Categories::of(&[
            Category::Keyspace,
            Category::Write,
            Category::Slow,
            Category::Dangerous,
        ]),
        tips: &["nondeterministic_output"],
        docs: Docs {
            summary: "Atomically transfer a key from a Redis instance to another one.",
            since: "2.6.0",
            group: "generic",
            complexity: "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.",
            deprecated: None,
            history: &[
                ("3.0.0", "Added the `COPY` and `REPLACE` options."),
                ("3.0.6", "Added the `KEYS` option."),
                ("4.0.7", "Added the `AUTH` option."),
                ("6.0.0", "Added the `AUTH2` option."),
            ],
        },
        subcommands: &[],
    },
    run: migrate,
}];

/// Redis's default when the timeout given is not positive (ms).
const DEFAULT_TIMEOUT_MS: i64 = 1000;
/// Redis reads each reply line into a 1024-byte buffer; a longer line is cut there.
const REPLY_LINE_MAX: u64 = 1024;
/// Redis writes the request in 64 KiB chunks, each within the timeout.
const WRITE_CHUNK: usize = 64 * 1024;

/// What MIGRATE was asked.
struct Request {
    copy: bool,
    replace: bool,
    auth: Option<(Option<Bytes>, Bytes)>,
    keys: Vec<Bytes>,
    db: i64,
    timeout: Duration,
}

fn parse(argv: &[Bytes]) -> Result<Request, Frame> {
    let arg = |i: usize| argv.get(i).cloned().unwrap_or_default();
    let mut request = Request {
        copy: false,
        replace: false,
        auth: None,
        keys: vec![arg(3)],
        db: 0,
        timeout: Duration::from_millis(DEFAULT_TIMEOUT_MS as u64),
    };
    let mut j = 6;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let option = arg(j);
        if is_keyword(&option, "COPY") {
            request.copy = true;
        } else if is_keyword(&option, "REPLACE") {
            request.replace = true;
        } else if is_keyword(&option, "AUTH") {
            if more == 0 {
                return Err(syntax_error());
            }
            j += 1;
            request.auth = Some((None, arg(j)));
        } else if is_keyword(&option, "AUTH2") {
            if more < 2 {
                return Err(syntax_error());
            }
            request.auth = Some((Some(arg(j + 1)), arg(j + 2)));
            j += 2;
        } else if is_keyword(&option, "KEYS") {
            if !arg(3).is_empty() {
                return Err(Frame::error(
                    "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string",
                ));
            }
            request.keys = argv.get(j + 1..).unwrap_or_default().to_vec();
            break;
        } else {
            return Err(syntax_error());
        }
        j += 1;
    }
    let timeout = parse_i64(&arg(5)).ok_or_else(not_integer)?;
    request.db = parse_i64(&arg(4)).ok_or_else(not_integer)?;
    let timeout = if timeout <= 0 {
        DEFAULT_TIMEOUT_MS
    } else {
        timeout
    };
    request.timeout = Duration::from_millis(u64::try_from(timeout).unwrap_or(u64::MAX));
    Ok(request)
}

/// One key to move: its name, its TTL in ms (0: none) and its DUMP payload.
struct Outgoing {
    key: Bytes,
    ttl: i64,
    payload: Bytes,
}

fn migrate(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let request = match parse(argv) {
        Ok(request) => request,
        Err(error) => return error,
    };
    let mut outgoing = Vec::new();
    for key in &request.keys {
        let mut shard = ctx.db.shard(key);
        let mark = shard.converted(key);
        let Some(entry) = shard.get(key, ctx.now) else {
            continue;
        };
        let ttl = match entry.expires_at {
            None => 0,
            Some(at) => i64::try_from(at.saturating_sub(ctx.now))
                .unwrap_or(i64::MAX)
                .max(1),
        };
        let encoding = crate::encoding::encoding_name(&entry.value, mark);
        let Some(payload) = crate::rdb::dump(&entry.value, encoding) else {
            return Frame::error("ERR a seed-dialect value has no RDB serialization");
        };
        outgoing.push(Outgoing {
            key: key.clone(),
            ttl,
            payload: Bytes::from(payload),
        });
    }
    if outgoing.is_empty() {
        return Frame::simple("NOKEY");
    }
    let host = String::from_utf8_lossy(argv.get(1).map_or(&[][..], |h| &h[..])).into_owned();
    let port = c_atoi(argv.get(2).map_or(&[][..], |p| &p[..]));
    let wire = request_bytes(&request, &outgoing);
    // Redis retries once, on a fresh socket, when nothing was acknowledged and the failure
    // was not a timeout.
    let mut outcome = transfer(&host, port, &request, &wire, outgoing.len());
    if let Err(Failure::Io { retry: true, .. }) = outcome {
        outcome = transfer(&host, port, &request, &wire, outgoing.len());
    }
    match outcome {
        Err(Failure::Connect) => Frame::error("IOERR error or timeout connecting to the client"),
        Err(Failure::Io { step, .. }) => Frame::Error(Bytes::from(format!(
            "IOERR error or timeout {step} to target instance"
        ))),
        Ok(replies) => finish(ctx, &request, &outgoing, &replies),
    }
}

/// C's `atoi` of the port: leading digits, 0 without any.
fn c_atoi(text: &[u8]) -> u16 {
    let digits: Vec<u8> = text
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take_while(|b| b.is_ascii_digit())
        .copied()
        .collect();
    std::str::from_utf8(&digits)
        .ok()
        .and_then(|d| d.parse::<u64>().ok())
        .map_or(0, |p| (p & 0xffff) as u16)
}

/// AUTH, SELECT and the RESTOREs, as RESP arrays of bulk strings.
fn request_bytes(request: &Request, outgoing: &[Outgoing]) -> BytesMut {
    let mut out = BytesMut::new();
    let mut put = |args: Vec<Bytes>| {
        let frame = Frame::Array(args.into_iter().map(Frame::Bulk).collect());
        encode_into(&frame, Dialect::Resp2, &mut out);
    };
    if let Some((user, password)) = &request.auth {
        let mut args = vec![word("AUTH")];
        args.extend(user.iter().cloned());
        args.push(password.clone());
        put(args);
    }
    put(vec![word("SELECT"), super::propagate::number(request.db)]);
    for key in outgoing {
        let mut args = vec![
            word("RESTORE"),
            key.key.clone(),
            super::propagate::number(key.ttl),
            key.payload.clone(),
        ];
        if request.replace {
            args.push(word("REPLACE"));
        }
        put(args);
    }
    out
}

enum Failure {
    Connect,
    /// `step` is "writing" or "reading"; `retry` when nothing was acknowledged and the
    /// failure was not a timeout.
    Io {
        step: &'static str,
        retry: bool,
    },
}

/// The target's reply lines: AUTH's (if sent), SELECT's, then one per key (fewer when the
/// connection broke after some were read).
struct Replies {
    auth: Option<Vec<u8>>,
    select: Vec<u8>,
    restores: Vec<Vec<u8>>,
    broken: bool,
}

fn transfer(
    host: &str,
    port: u16,
    request: &Request,
    wire: &[u8],
    keys: usize,
) -> Result<Replies, Failure> {
    let timeout = request.timeout;
    let address = (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or(Failure::Connect)?;
    // Redis connects without blocking and waits for the socket to be writable: a refused
    // connection is writable at once, so its failure shows when the request is written.
    let stream = TcpStream::connect_timeout(&address, timeout).map_err(|e| match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => Failure::Connect,
        _ => Failure::Io {
            step: "writing",
            retry: true,
        },
    })?;
    let configured = stream.set_read_timeout(Some(timeout)).is_ok()
        && stream.set_write_timeout(Some(timeout)).is_ok()
        && stream.set_nodelay(true).is_ok();
    if !configured {
        return Err(Failure::Connect);
    }
    let io = |step: &'static str, error: &std::io::Error| Failure::Io {
        step,
        retry: !matches!(
            error.kind(),
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
        ),
    };
    let mut writer = &stream;
    for chunk in wire.chunks(WRITE_CHUNK) {
        writer.write_all(chunk).map_err(|e| io("writing", &e))?;
    }
    let mut reader = BufReader::new(&stream);
    let read_line = |reader: &mut BufReader<&TcpStream>| -> std::io::Result<Vec<u8>> {
        let mut line = Vec::new();
        reader
            .by_ref()
            .take(REPLY_LINE_MAX)
            .read_until(b'\n', &mut line)?;
        if line.is_empty() {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(line)
    };
    let auth = match request.auth {
        Some(_) => Some(read_line(&mut reader).map_err(|e| io("reading", &e))?),
        None => None,
    };
    let select = read_line(&mut reader).map_err(|e| io("reading", &e))?;
    let mut restores = Vec::with_capacity(keys.min(1024));
    for _ in 0..keys {
        match read_line(&mut reader) {
            Ok(line) => restores.push(line),
            Err(e) if restores.is_empty() => return Err(io("reading", &e)),
            Err(_) => {
                return Ok(Replies {
                    auth,
                    select,
                    restores,
                    broken: true,
                })
            }
        }
    }
    Ok(Replies {
        auth,
        select,
        restores,
        broken: false,
    })
}

/// Deletes the keys the target acknowledged (unless COPY), propagated as one DEL, and
/// answers: OK, the target's first error, or the broken connection's.
fn finish(ctx: &mut Ctx<'_>, request: &Request, outgoing: &[Outgoing], replies: &Replies) -> Frame {
    let is_error = |line: &[u8]| line.first() == Some(&b'-');
    let header_error = replies
        .auth
        .as_deref()
        .filter(|l| is_error(l))
        .or_else(|| Some(replies.select.as_slice()).filter(|l| is_error(l)));
    let mut first_error: Option<&[u8]> = None;
    let mut deleted = Vec::new();
    for (key, line) in outgoing.iter().zip(&replies.restores) {
        if let Some(error) = header_error.or_else(|| Some(line.as_slice()).filter(|l| is_error(l)))
        {
            first_error.get_or_insert(error);
            continue;
        }
        if !request.copy {
            let db_index = ctx.state.db_index;
            if ctx.db.shard(&key.key).remove(&key.key, ctx.now).is_some() {
                super::watch::signal_modified(ctx, db_index, &key.key);
                super::events::notify(ctx, crate::notify::GENERIC, "del", &key.key);
            }
            deleted.push(key.key.clone());
        }
    }
    if !deleted.is_empty() {
        ctx.propagate_instead(|| {
            let mut del = vec![word("DEL")];
            del.extend(deleted);
            vec![del]
        });
    }
    if let Some(error) = first_error {
        let text = error.strip_prefix(b"-").unwrap_or(error);
        let text = text
            .strip_suffix(b"\n")
            .map(|t| t.strip_suffix(b"\r").unwrap_or(t))
            .unwrap_or(text);
        let mut message = b"ERR Target instance replied with error: ".to_vec();
        message.extend_from_slice(text);
        return super::reply::error_format(&message);
    }
    if replies.broken {
        return Frame::error("IOERR error or timeout reading to target instance");
    }
    ok()
}
