//! respect's driver for redis-rs: one JSON case per stdin line, one answer per stdout line
//! (the protocol: conformance/clients/README.md). Each case is a new synchronous connection,
//! RESP2 or RESP3 as asked, with the case's timeout on connect and reads, and the command's
//! reply read as `redis::Value` through `ConnectionLike::req_command`, the connection's own
//! untyped view of a reply.

use std::io::{BufRead, Write};
use std::time::Duration;

use redis::{ErrorKind, RedisError, Value};
use serde_json::{json, Value as Json};

fn text(b: &[u8]) -> Json {
    match std::str::from_utf8(b) {
        Ok(s) => json!(s),
        Err(_) => json!({ "hex": b.iter().map(|x| format!("{x:02x}")).collect::<String>() }),
    }
}

fn double(d: f64) -> Json {
    if d.is_nan() {
        json!("nan")
    } else if d.is_infinite() {
        json!(if d > 0.0 { "inf" } else { "-inf" })
    } else {
        json!(d)
    }
}

fn server_error_text(e: &redis::ServerError) -> String {
    match e.details() {
        Some(d) => format!("{} {d}", e.code()),
        None => e.code().to_string(),
    }
}

fn canonical(v: &Value) -> Json {
    let list = |items: &[Value]| Json::Array(items.iter().map(canonical).collect());
    let pairs = |items: &[(Value, Value)]| {
        Json::Array(items.iter().map(|(k, v)| json!([canonical(k), canonical(v)])).collect())
    };
    match v {
        Value::Nil => json!({ "null": null }),
        Value::Int(n) => json!({ "int": n }),
        Value::BulkString(b) => json!({ "bulk": text(b) }),
        Value::Array(items) => json!({ "array": list(items) }),
        Value::SimpleString(s) => json!({ "simple": s }),
        Value::Okay => json!({ "simple": "OK" }),
        Value::Map(p) => json!({ "map": pairs(p) }),
        // The library gives the data; the attributes are not the reply.
        Value::Attribute { data, .. } => canonical(data),
        Value::Set(items) => json!({ "set": list(items) }),
        Value::Double(d) => json!({ "double": double(*d) }),
        Value::Boolean(b) => json!({ "bool": b }),
        Value::VerbatimString { format, text: t } => {
            let format = match format {
                redis::VerbatimFormat::Text => "txt".to_string(),
                redis::VerbatimFormat::Markdown => "mkd".to_string(),
                redis::VerbatimFormat::Unknown(f) => f.clone(),
                other => format!("{other:?}"),
            };
            json!({ "verbatim": { "format": format, "text": t } })
        }
        Value::BigNumber(digits) => {
            // The library keeps the bytes as they came; only digits make a big number in
            // the canonical grammar, anything else is shown as the text it accepted.
            let unsigned = digits.strip_prefix(b"-").unwrap_or(digits);
            if !unsigned.is_empty() && unsigned.iter().all(u8::is_ascii_digit) {
                json!({ "bignum": String::from_utf8_lossy(digits) })
            } else {
                json!({ "bulk": text(digits) })
            }
        }
        Value::Push { kind, data } => {
            let mut items = vec![json!({ "bulk": kind.to_string() })];
            items.extend(data.iter().map(canonical));
            json!({ "push": items })
        }
        Value::ServerError(e) => json!({ "error": server_error_text(e) }),
        other => json!({ "bulk": format!("{other:?}") }),
    }
}

fn error_answer(e: &RedisError) -> Json {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.code().is_some() {
        "server"
    } else if e.is_connection_dropped() || e.is_io_error() || e.kind() == ErrorKind::Io {
        "connection"
    } else if e.kind() == ErrorKind::RESP3NotSupported {
        return json!({ "unsupported": e.to_string() });
    } else {
        "protocol"
    };
    let message = match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => format!("{code} {detail}"),
        (Some(code), None) => code.to_string(),
        _ => e.to_string(),
    };
    json!({ "error": { "kind": kind, "message": message } })
}

fn run_case(case: &Json) -> Json {
    let host = case["host"].as_str().unwrap_or("127.0.0.1");
    let port = case["port"].as_u64().unwrap_or(0);
    let protocol = if case["protocol"].as_u64() == Some(3) { "resp3" } else { "resp2" };
    let timeout = Duration::from_secs_f64(case["timeout"].as_f64().unwrap_or(5.0).max(0.01));
    let argv: Vec<String> = case["argv"]
        .as_array()
        .map(|a| a.iter().map(|x| x.as_str().unwrap_or("").to_string()).collect())
        .unwrap_or_default();
    let outcome = (|| -> Result<Value, RedisError> {
        let client = redis::Client::open(format!("redis://{host}:{port}/?protocol={protocol}"))?;
        let mut con = client.get_connection_with_timeout(timeout)?;
        con.set_read_timeout(Some(timeout))?;
        con.set_write_timeout(Some(timeout))?;
        let mut cmd = redis::cmd(argv.first().map(String::as_str).unwrap_or("PING"));
        for a in argv.iter().skip(1) {
            cmd.arg(a);
        }
        // The connection's own reply, as its parser built it: `query` would turn an error
        // anywhere inside the reply into an error for the whole reply.
        redis::ConnectionLike::req_command(&mut con, &cmd)
    })();
    match outcome {
        Ok(Value::ServerError(e)) => {
            json!({ "error": { "kind": "server", "message": server_error_text(&e) } })
        }
        Ok(v) => json!({ "value": canonical(&v) }),
        Err(e) => error_answer(&e),
    }
}

fn main() {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let hello = json!({ "driver": "redis-rs", "library": "redis-rs 1.8.1 (sync)" });
    if writeln!(out, "{hello}").and_then(|()| out.flush()).is_err() {
        return;
    }
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let answer = match serde_json::from_str::<Json>(&line) {
            Ok(case) => match std::panic::catch_unwind(|| run_case(&case)) {
                Ok(a) => a,
                Err(p) => {
                    let why = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    json!({ "error": { "kind": "internal", "message": format!("panic: {why}") } })
                }
            },
            Err(e) => json!({ "error": { "kind": "internal", "message": format!("bad case: {e}") } }),
        };
        if writeln!(out, "{answer}").and_then(|()| out.flush()).is_err() {
            break;
        }
    }
}
