//! Server commands: INFO, COMMAND, CONFIG GET, TIME.

use bytes::Bytes;

use super::connection::SERVER_VERSION;
use super::{glob_match, redis_commands, Ctx, Spec};
use respect_resp::Frame;

/// This family's commands.
pub const COMMANDS: &[Spec] = &[
    Spec {
        name: "info",
        arity: -1,
        run: info,
    },
    Spec {
        name: "command",
        arity: -1,
        run: command,
    },
    Spec {
        name: "config",
        arity: -2,
        run: config,
    },
    Spec {
        name: "time",
        arity: 1,
        run: time,
    },
];

fn info(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Frame {
    let keys = ctx.db.len();
    let text = format!(
        "# Server\r\nredis_version:{SERVER_VERSION}\r\nrespect_version:{}\r\nredis_mode:standalone\r\nprocess_id:{}\r\n\r\n# Clients\r\nconnected_clients:{}\r\n\r\n# Keyspace\r\n{}",
        env!("CARGO_PKG_VERSION"),
        std::process::id(),
        ctx.state.stats.snapshot().connected,
        if keys > 0 { format!("db0:keys={keys},expires=0,avg_ttl=0\r\n") } else { String::new() }
    );
    Frame::Verbatim {
        format: *b"txt",
        text: Bytes::from(text),
    }
}

/// One `COMMAND INFO` entry in the 6-field form every client version understands.
fn describe(spec: &Spec) -> Frame {
    let first_key = i64::from(!matches!(
        spec.name,
        "ping"
            | "echo"
            | "hello"
            | "auth"
            | "quit"
            | "select"
            | "client"
            | "reset"
            | "info"
            | "command"
            | "config"
            | "time"
            | "dbsize"
            | "flushdb"
            | "flushall"
            | "keys"
            | "scan"
    ));
    Frame::Array(vec![
        Frame::Bulk(Bytes::from_static(spec.name.as_bytes())),
        Frame::Integer(i64::from(spec.arity)),
        Frame::Set(vec![]),
        Frame::Integer(first_key),
        Frame::Integer(first_key),
        Frame::Integer(first_key),
    ])
}

/// `COMMAND`, `COMMAND COUNT`, `COMMAND INFO name...`, `COMMAND DOCS [name...]` (empty docs:
/// redis-cli only uses them for hints).
fn command(_: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let sub = argv.get(1).map(|s| s.to_ascii_uppercase());
    match sub.as_deref() {
        None => Frame::Array(redis_commands().iter().map(describe).collect()),
        Some(b"COUNT") => Frame::Integer(redis_commands().len() as i64),
        Some(b"INFO") => Frame::Array(
            argv.get(2..)
                .unwrap_or_default()
                .iter()
                .map(|name| super::lookup(name).map_or(Frame::Null, describe))
                .collect(),
        ),
        Some(b"DOCS") => Frame::Map(vec![]),
        Some(_) => Frame::Error(Bytes::from(format!(
            "ERR unknown subcommand '{}'. Try COMMAND HELP.",
            String::from_utf8_lossy(argv.get(1).map(|b| b.as_ref()).unwrap_or_default())
        ))),
    }
}

/// `CONFIG GET pattern...`: the few settings clients and redis-benchmark ask for.
fn config(_: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    const SETTINGS: &[(&str, &str)] = &[
        ("save", ""),
        ("appendonly", "no"),
        ("databases", "1"),
        ("maxclients", "10000"),
    ];
    match argv.get(1).map(|s| s.to_ascii_uppercase()).as_deref() {
        Some(b"GET") if argv.len() >= 3 => {
            let patterns = argv.get(2..).unwrap_or_default();
            Frame::Map(
                SETTINGS
                    .iter()
                    .filter(|(name, _)| {
                        patterns
                            .iter()
                            .any(|p| glob_match(&p.to_ascii_lowercase(), name.as_bytes()))
                    })
                    .map(|(n, v)| {
                        (
                            Frame::Bulk(Bytes::from_static(n.as_bytes())),
                            Frame::Bulk(Bytes::from_static(v.as_bytes())),
                        )
                    })
                    .collect(),
            )
        }
        Some(b"GET") => super::wrong_args("config|get"),
        _ => Frame::Error(Bytes::from(format!(
            "ERR unknown subcommand '{}'. Try CONFIG HELP.",
            String::from_utf8_lossy(argv.get(1).map(|b| b.as_ref()).unwrap_or_default())
        ))),
    }
}

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
