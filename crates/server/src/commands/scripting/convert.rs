//! Replies to Lua values and back, as Redis 7.0 converts them (`redisProtocolToLuaType_*`,
//! `luaReplyToRedisReply` in `script_lua.c`).
//!
//! Command replies are converted in the script's protocol (`redis.setresp`): in RESP2 the
//! RESP3 types arrive as their RESP2 forms (a map as a flat array, a double as its text...),
//! exactly what a RESP2 client would read. Lua tables can nest without limit; their
//! conversion stops at [`MAX_DEPTH`] levels and answers Redis's stack-limit error there.

use bytes::Bytes;
use mlua::{Lua, Table, Value};
use respect_resp::{format_double, Dialect, Frame};

use super::engine::error_table;

/// How deep a returned table may nest before its conversion answers an error element (Redis
/// stops where the Lua stack would outgrow `LUAI_MAXCSTACK`, deeper than this; the bound
/// here keeps the recursion far inside a runtime thread's stack, a recursive table included).
pub const MAX_DEPTH: usize = 200;

/// A command's reply as the Lua value `redis.call` returns (`resp3`: the script's protocol).
pub fn frame_to_lua(lua: &Lua, frame: &Frame, resp3: bool) -> mlua::Result<Value> {
    let single = |key: &str, v: Value| -> mlua::Result<Value> {
        let t = lua.create_table()?;
        t.raw_set(key, v)?;
        Ok(Value::Table(t))
    };
    let string = |b: &[u8]| -> mlua::Result<Value> { Ok(Value::String(lua.create_string(b)?)) };
    let array = |items: &mut dyn Iterator<Item = &Frame>| -> mlua::Result<Value> {
        let t = lua.create_table()?;
        for (i, item) in items.enumerate() {
            t.raw_set(i + 1, frame_to_lua(lua, item, resp3)?)?;
        }
        Ok(Value::Table(t))
    };
    match frame {
        Frame::Simple(s) => single("ok", string(s)?),
        Frame::Error(s) | Frame::BlobError(s) => {
            let mut text = Vec::with_capacity(s.len() + 1);
            text.push(b'-');
            text.extend_from_slice(s);
            Ok(Value::Table(error_table(lua, &text, true)?))
        }
        Frame::Integer(n) => Ok(Value::Number(*n as f64)),
        Frame::Bulk(b) => string(b),
        Frame::NullBulk | Frame::NullArray => Ok(Value::Boolean(false)),
        Frame::Null => Ok(if resp3 {
            Value::Nil
        } else {
            Value::Boolean(false)
        }),
        Frame::Array(items) | Frame::Push(items) | Frame::StreamedArray(items) => {
            array(&mut items.iter())
        }
        Frame::Set(items) | Frame::StreamedSet(items) => {
            if !resp3 {
                return array(&mut items.iter());
            }
            let set = lua.create_table()?;
            for item in items {
                set.raw_set(frame_to_lua(lua, item, resp3)?, true)?;
            }
            single("set", Value::Table(set))
        }
        Frame::Map(pairs) | Frame::StreamedMap(pairs) => {
            if !resp3 {
                return array(&mut pairs.iter().flat_map(|(k, v)| [k, v]));
            }
            let map = lua.create_table()?;
            for (k, v) in pairs {
                map.raw_set(frame_to_lua(lua, k, resp3)?, frame_to_lua(lua, v, resp3)?)?;
            }
            single("map", Value::Table(map))
        }
        Frame::Double(d) => {
            if resp3 {
                single("double", Value::Number(*d))
            } else {
                string(format_double(*d, Dialect::Resp2).as_bytes())
            }
        }
        Frame::DoubleText(text) => {
            if resp3 {
                let d = std::str::from_utf8(text)
                    .ok()
                    .and_then(|t| t.parse::<f64>().ok())
                    .unwrap_or(0.0);
                single("double", Value::Number(d))
            } else {
                string(text)
            }
        }
        Frame::Boolean(b) => Ok(if resp3 {
            Value::Boolean(*b)
        } else {
            Value::Number(if *b { 1.0 } else { 0.0 })
        }),
        Frame::Verbatim { format, text } => {
            if !resp3 {
                return string(text);
            }
            let inner = lua.create_table()?;
            inner.raw_set("string", lua.create_string(text)?)?;
            inner.raw_set("format", lua.create_string(format)?)?;
            single("verbatim_string", Value::Table(inner))
        }
        Frame::BigNumber(digits) => {
            if resp3 {
                single("big_number", string(digits)?)
            } else {
                string(digits)
            }
        }
        Frame::Attributed { frame, .. } => frame_to_lua(lua, frame, resp3),
        Frame::StreamedString(chunks) => string(&chunks.concat()),
        #[allow(unreachable_patterns)]
        _ => Ok(Value::Nil),
    }
}

/// Lua's number as Redis's reply integer: C's `(long long)` conversion (x86's answer,
/// `LLONG_MIN`, for what does not fit).
pub fn number_to_integer(n: f64) -> i64 {
    if n.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&n) {
        i64::MIN
    } else {
        n as i64
    }
}

fn crlf_to_spaces(b: &[u8]) -> Bytes {
    Bytes::from(
        b.iter()
            .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c })
            .collect::<Vec<u8>>(),
    )
}

fn string_field(t: &Table, key: &str) -> Option<Bytes> {
    match t.raw_get::<Value>(key).ok()? {
        Value::String(s) => Some(Bytes::copy_from_slice(&s.as_bytes())),
        _ => None,
    }
}

/// A script's return value as its reply (`script_resp3`: the script's protocol decides what
/// a boolean is; the caller's protocol what `false` in RESP2 is, a null).
pub fn lua_to_frame(value: &Value, script_resp3: bool, caller_resp3: bool) -> Frame {
    convert_value(value, script_resp3, caller_resp3, 0)
}

fn convert_value(value: &Value, script_resp3: bool, caller_resp3: bool, depth: usize) -> Frame {
    if depth > MAX_DEPTH {
        return Frame::error("ERR reached lua stack limit");
    }
    match value {
        Value::String(s) => Frame::Bulk(Bytes::copy_from_slice(&s.as_bytes())),
        Value::Boolean(b) => {
            if script_resp3 {
                Frame::Boolean(*b)
            } else if *b {
                Frame::Integer(1)
            } else {
                Frame::Null
            }
        }
        Value::Integer(n) => Frame::Integer(*n),
        Value::Number(n) => Frame::Integer(number_to_integer(*n)),
        Value::Table(t) => convert_table(t, script_resp3, caller_resp3, depth),
        _ => Frame::Null,
    }
}

fn convert_table(t: &Table, script_resp3: bool, caller_resp3: bool, depth: usize) -> Frame {
    let next = depth + 1;
    let err: Value = t.raw_get("err").unwrap_or(Value::Nil);
    if let Some(text) = err_text(&err) {
        return Frame::Error(text);
    }
    if let Some(ok) = string_field(t, "ok") {
        return Frame::Simple(crlf_to_spaces(&ok));
    }
    match t.raw_get::<Value>("double") {
        Ok(Value::Number(d)) => return Frame::Double(d),
        Ok(Value::Integer(n)) => return Frame::Double(n as f64),
        _ => {}
    }
    if let Some(big) = string_field(t, "big_number") {
        return Frame::BigNumber(crlf_to_spaces(&big));
    }
    if let Ok(Value::Table(v)) = t.raw_get::<Value>("verbatim_string") {
        if let (Some(format), Some(text)) = (string_field(&v, "format"), string_field(&v, "string"))
        {
            let mut f = *b"   ";
            for (slot, c) in f.iter_mut().zip(format.iter()) {
                *slot = *c;
            }
            return Frame::Verbatim { format: f, text };
        }
    }
    if let Ok(Value::Table(map)) = t.raw_get::<Value>("map") {
        let mut pairs = Vec::new();
        for (k, v) in map.pairs::<Value, Value>().flatten() {
            pairs.push((
                convert_value(&k, script_resp3, caller_resp3, next),
                convert_value(&v, script_resp3, caller_resp3, next),
            ));
        }
        return Frame::Map(pairs);
    }
    if let Ok(Value::Table(set)) = t.raw_get::<Value>("set") {
        let mut items = Vec::new();
        for (k, _) in set.pairs::<Value, Value>().flatten() {
            items.push(convert_value(&k, script_resp3, caller_resp3, next));
        }
        return Frame::Set(items);
    }
    let mut items = Vec::new();
    let mut j = 1;
    loop {
        let v: Value = t.raw_get(j).unwrap_or(Value::Nil);
        if v.is_nil() {
            break;
        }
        items.push(convert_value(&v, script_resp3, caller_resp3, next));
        j += 1;
    }
    Frame::Array(items)
}

/// The text of an `err` field Redis accepts (a string, or a number as Lua writes it).
fn err_text(err: &Value) -> Option<Bytes> {
    match err {
        Value::String(s) => Some(Bytes::copy_from_slice(&s.as_bytes())),
        Value::Integer(n) => Some(Bytes::from(n.to_string())),
        Value::Number(n) => Some(Bytes::from(super::api::lua_number_text(*n))),
        _ => None,
    }
}

/// The reply to a script that raised `value` (the error handler's table): its `err` text,
/// then ` script: NAME, on SOURCE:LINE.` when the handler found where it was raised.
pub fn script_error(value: &Value, name: &str) -> Frame {
    let Value::Table(t) = value else {
        let msg = match value {
            Value::String(s) => s.to_string_lossy().to_string(),
            Value::Error(e) => e.to_string(),
            _ => "execution failure".to_string(),
        };
        let msg: String = msg.chars().take(100).collect();
        return Frame::Error(Bytes::from(format!(
            "ERR Error running script {name}, {msg}"
        )));
    };
    let err: Value = t.raw_get("err").unwrap_or(Value::Nil);
    let msg = err_text(&err).unwrap_or_else(|| Bytes::from_static(b"(null)"));
    let source = string_field(t, "source");
    let line: Value = t.raw_get("line").unwrap_or(Value::Nil);
    let line = err_text(&line);
    let mut text = msg.to_vec();
    if let (Some(source), Some(line)) = (source, line) {
        text.extend_from_slice(b" script: ");
        text.extend_from_slice(name.as_bytes());
        text.extend_from_slice(b", on ");
        text.extend_from_slice(&source);
        text.push(b':');
        text.extend_from_slice(&line);
        text.push(b'.');
    }
    Frame::Error(Bytes::from(text))
}
