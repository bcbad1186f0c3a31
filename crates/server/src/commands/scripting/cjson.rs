//! `cjson` as Redis links it (lua-cjson 2.1.0, `deps/lua/src/lua_cjson.c`): `encode` and
//! `decode` with its defaults (numbers as `%.14g`, `/` escaped, sparse arrays refused, 1000
//! levels of nesting at most, `null` as a NULL light userdata), and its error messages.
//!
//! Both walk nested data recursively, bounded by the 1000 levels cjson allows.

use std::os::raw::c_int;

use mlua::{ffi, Lua, Table};

use super::libs::format_g;

/// cjson's `DEFAULT_ENCODE_MAX_DEPTH` and `DEFAULT_DECODE_MAX_DEPTH`.
const MAX_DEPTH: usize = 1000;

/// Adds `cjson` to `libs`.
pub fn register(lua: &Lua, libs: &Table) -> mlua::Result<()> {
    let t = lua.create_table()?;
    // SAFETY: both follow the discipline of `libs`.
    unsafe {
        t.raw_set("encode", lua.create_c_function(json_encode)?)?;
        t.raw_set("decode", lua.create_c_function(json_decode)?)?;
    }
    t.raw_set(
        "null",
        mlua::Value::LightUserData(mlua::LightUserData(std::ptr::null_mut())),
    )?;
    t.raw_set("_NAME", "cjson")?;
    t.raw_set("_VERSION", "2.1.0")?;
    libs.raw_set("cjson", t)?;
    Ok(())
}

/// Pushes `msg` (with the caller's position) and raises it; `msg` is dropped first.
pub(super) unsafe fn raise_owned(l: *mut ffi::lua_State, msg: Vec<u8>) -> ! {
    ffi::luaL_where(l, 1);
    ffi::lua_pushlstring(l, msg.as_ptr().cast(), msg.len());
    drop(msg);
    ffi::lua_concat(l, 2);
    ffi::lua_error(l)
}

unsafe fn type_name(l: *mut ffi::lua_State, idx: c_int) -> String {
    let p = ffi::lua_typename(l, ffi::lua_type(l, idx));
    if p.is_null() {
        return "?".into();
    }
    std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
}

unsafe extern "C-unwind" fn json_encode(l: *mut ffi::lua_State) -> c_int {
    if ffi::lua_gettop(l) != 1 {
        ffi::luaL_argerror(l, 1, c"expected 1 argument".as_ptr());
    }
    let result = {
        let mut out = Vec::new();
        encode_value(l, 0, &mut out).map(|()| out)
    };
    match result {
        Ok(out) => {
            ffi::lua_pushlstring(l, out.as_ptr().cast(), out.len());
            drop(out);
            1
        }
        Err(msg) => raise_owned(l, msg.into_bytes()),
    }
}

fn escape_into(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0..=0x1f | 0x7f => {
                out.extend_from_slice(format!("\\u{:04x}", c).as_bytes());
            }
            _ => out.push(c),
        }
    }
    out.push(b'"');
}

unsafe fn encode_number(
    l: *mut ffi::lua_State,
    idx: c_int,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let n = ffi::lua_tonumber(l, idx);
    if n.is_nan() || n.is_infinite() {
        return Err(format!(
            "Cannot serialise {}: must not be NaN or Inf",
            type_name(l, idx)
        ));
    }
    out.extend_from_slice(format_g(n, 14).as_bytes());
    Ok(())
}

unsafe fn lua_bytes<'a>(l: *mut ffi::lua_State, idx: c_int) -> &'a [u8] {
    let mut len = 0usize;
    let p = ffi::lua_tolstring(l, idx, &mut len);
    if p.is_null() {
        return &[];
    }
    std::slice::from_raw_parts(p.cast(), len)
}

/// The array length of the table on top (cjson's `lua_array_length`): `None` for an object.
unsafe fn array_length(l: *mut ffi::lua_State) -> Result<Option<usize>, String> {
    let mut max = 0.0f64;
    let mut items = 0usize;
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        if ffi::lua_type(l, -2) == ffi::LUA_TNUMBER {
            let k = ffi::lua_tonumber(l, -2);
            if k != 0.0 && k.floor() == k && k >= 1.0 {
                if k > max {
                    max = k;
                }
                items += 1;
                ffi::lua_pop(l, 1);
                continue;
            }
        }
        ffi::lua_pop(l, 2);
        return Ok(None);
    }
    if max > (items * 2) as f64 && max > 10.0 {
        return Err(format!(
            "Cannot serialise {}: excessively sparse array",
            type_name(l, -1)
        ));
    }
    Ok(Some(max as usize))
}

unsafe fn encode_value(
    l: *mut ffi::lua_State,
    depth: usize,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    match ffi::lua_type(l, -1) {
        ffi::LUA_TSTRING => escape_into(lua_bytes(l, -1), out),
        ffi::LUA_TNUMBER => encode_number(l, -1, out)?,
        ffi::LUA_TBOOLEAN => out.extend_from_slice(if ffi::lua_toboolean(l, -1) != 0 {
            b"true"
        } else {
            b"false"
        }),
        ffi::LUA_TNIL => out.extend_from_slice(b"null"),
        ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, -1).is_null() => {
            out.extend_from_slice(b"null")
        }
        ffi::LUA_TTABLE => {
            let depth = depth + 1;
            if depth > MAX_DEPTH || ffi::lua_checkstack(l, 3) == 0 {
                return Err(format!("Cannot serialise, excessive nesting ({depth})"));
            }
            match array_length(l)? {
                Some(len) if len > 0 => {
                    out.push(b'[');
                    for i in 1..=len {
                        if i > 1 {
                            out.push(b',');
                        }
                        ffi::lua_rawgeti(l, -1, i as _);
                        let r = encode_value(l, depth, out);
                        ffi::lua_pop(l, 1);
                        r?;
                    }
                    out.push(b']');
                }
                _ => {
                    out.push(b'{');
                    ffi::lua_pushnil(l);
                    let mut first = true;
                    while ffi::lua_next(l, -2) != 0 {
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        match ffi::lua_type(l, -2) {
                            ffi::LUA_TNUMBER => {
                                out.push(b'"');
                                if let Err(e) = encode_number(l, -2, out) {
                                    ffi::lua_pop(l, 2);
                                    return Err(e);
                                }
                                out.extend_from_slice(b"\":");
                            }
                            ffi::LUA_TSTRING => {
                                escape_into(lua_bytes(l, -2), out);
                                out.push(b':');
                            }
                            _ => {
                                let msg = format!(
                                    "Cannot serialise {}: table key must be a number or string",
                                    type_name(l, -2)
                                );
                                ffi::lua_pop(l, 2);
                                return Err(msg);
                            }
                        }
                        let r = encode_value(l, depth, out);
                        ffi::lua_pop(l, 1);
                        if let Err(e) = r {
                            ffi::lua_pop(l, 1);
                            return Err(e);
                        }
                    }
                    out.push(b'}');
                }
            }
        }
        _ => {
            return Err(format!(
                "Cannot serialise {}: type not supported",
                type_name(l, -1)
            ))
        }
    }
    Ok(())
}

/// A token of cjson's lexer.
enum Token {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str(Vec<u8>),
    Num(f64),
    Bool(bool),
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

impl Token {
    fn name(&self) -> &'static str {
        match self {
            Token::ObjBegin => "T_OBJ_BEGIN",
            Token::ObjEnd => "T_OBJ_END",
            Token::ArrBegin => "T_ARR_BEGIN",
            Token::ArrEnd => "T_ARR_END",
            Token::Str(_) => "T_STRING",
            Token::Num(_) => "T_NUMBER",
            Token::Bool(_) => "T_BOOLEAN",
            Token::Null => "T_NULL",
            Token::Colon => "T_COLON",
            Token::Comma => "T_COMMA",
            Token::End => "T_END",
            Token::Error(e) => e,
        }
    }
}

struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> u8 {
        self.data.get(self.pos).copied().unwrap_or(0)
    }

    /// The next token and the index it starts at (or where its error is).
    fn next(&mut self) -> (Token, usize) {
        while matches!(self.peek(), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let start = self.pos;
        let c = self.peek();
        let single = match c {
            b'{' => Some(Token::ObjBegin),
            b'}' => Some(Token::ObjEnd),
            b'[' => Some(Token::ArrBegin),
            b']' => Some(Token::ArrEnd),
            b':' => Some(Token::Colon),
            b',' => Some(Token::Comma),
            0 => return (Token::End, start),
            _ => None,
        };
        if let Some(t) = single {
            self.pos += 1;
            return (t, start);
        }
        if c == b'"' {
            return self.string(start);
        }
        if c == b'-' || c.is_ascii_digit() {
            return self.number(start);
        }
        let rest = self.data.get(self.pos..).unwrap_or_default();
        for (word, token) in [
            (&b"true"[..], Token::Bool(true)),
            (b"false", Token::Bool(false)),
            (b"null", Token::Null),
        ] {
            if rest.starts_with(word) {
                self.pos += word.len();
                return (token, start);
            }
        }
        (Token::Error("invalid token"), start)
    }

    fn number(&mut self, start: usize) -> (Token, usize) {
        let d = self.data;
        let mut i = self.pos;
        let at = |i: usize| d.get(i).copied().unwrap_or(0);
        if at(i) == b'-' {
            i += 1;
        }
        let digits_start = i;
        while at(i).is_ascii_digit() {
            i += 1;
        }
        let mut mantissa_digits = i - digits_start;
        if at(i) == b'.' {
            i += 1;
            let f = i;
            while at(i).is_ascii_digit() {
                i += 1;
            }
            mantissa_digits += i - f;
        }
        if mantissa_digits == 0 {
            return (Token::Error("invalid number"), start);
        }
        if at(i) == b'e' || at(i) == b'E' {
            let mut j = i + 1;
            if at(j) == b'+' || at(j) == b'-' {
                j += 1;
            }
            let e = j;
            while at(j).is_ascii_digit() {
                j += 1;
            }
            if j > e {
                i = j;
            }
        }
        let text = std::str::from_utf8(d.get(self.pos..i).unwrap_or_default()).unwrap_or("");
        match text.parse::<f64>() {
            Ok(n) => {
                self.pos = i;
                (Token::Num(n), start)
            }
            Err(_) => (Token::Error("invalid number"), start),
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let s = self.data.get(at..at + 4)?;
        let s = std::str::from_utf8(s).ok()?;
        if !s.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(s, 16).ok()
    }

    fn string(&mut self, start: usize) -> (Token, usize) {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let c = self.peek();
            match c {
                b'"' => {
                    self.pos += 1;
                    return (Token::Str(out), start);
                }
                0 => return (Token::Error("unexpected end of string"), self.pos),
                b'\\' => {
                    let e = self.data.get(self.pos + 1).copied().unwrap_or(0);
                    let mapped = match e {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'u' => {
                            match self.unicode() {
                                Some(ch) => {
                                    let mut buf = [0u8; 4];
                                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                                }
                                None => {
                                    return (Token::Error("invalid unicode escape code"), self.pos)
                                }
                            }
                            continue;
                        }
                        _ => return (Token::Error("invalid escape code"), self.pos),
                    };
                    out.push(mapped);
                    self.pos += 2;
                }
                _ => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// A `\uXXXX` escape (with its low surrogate, if a high one), at `pos`.
    fn unicode(&mut self) -> Option<char> {
        let hi = self.hex4(self.pos + 2)?;
        let mut consumed = 6;
        let code = if (0xD800..0xDC00).contains(&hi) {
            if self.data.get(self.pos + 6) != Some(&b'\\')
                || self.data.get(self.pos + 7) != Some(&b'u')
            {
                return None;
            }
            let lo = self.hex4(self.pos + 8)?;
            if !(0xDC00..0xE000).contains(&lo) {
                return None;
            }
            consumed = 12;
            (((hi & 0x3FF) << 10) | (lo & 0x3FF)) + 0x10000
        } else if (0xDC00..0xE000).contains(&hi) {
            return None;
        } else {
            hi
        };
        let ch = char::from_u32(code)?;
        self.pos += consumed;
        Some(ch)
    }
}

fn expected(what: &str, token: &Token, index: usize) -> String {
    format!(
        "Expected {what} but found {} at character {}",
        token.name(),
        index + 1
    )
}

unsafe fn decode_value(
    l: *mut ffi::lua_State,
    p: &mut Parser<'_>,
    token: Token,
    index: usize,
) -> Result<(), String> {
    match token {
        Token::Str(s) => {
            ffi::lua_pushlstring(l, s.as_ptr().cast(), s.len());
        }
        Token::Num(n) => ffi::lua_pushnumber(l, n),
        Token::Bool(b) => ffi::lua_pushboolean(l, c_int::from(b)),
        Token::Null => ffi::lua_pushlightuserdata(l, std::ptr::null_mut()),
        Token::ObjBegin | Token::ArrBegin => {
            let object = matches!(token, Token::ObjBegin);
            p.depth += 1;
            if p.depth > MAX_DEPTH || ffi::lua_checkstack(l, 3) == 0 {
                return Err(format!(
                    "Found too many nested data structures ({}) at character {}",
                    p.depth, p.pos
                ));
            }
            ffi::lua_createtable(l, 0, 0);
            let (mut t, mut at) = p.next();
            let close_matches = |t: &Token| {
                if object {
                    matches!(t, Token::ObjEnd)
                } else {
                    matches!(t, Token::ArrEnd)
                }
            };
            if close_matches(&t) {
                p.depth -= 1;
                return Ok(());
            }
            let mut i = 1;
            loop {
                if object {
                    let Token::Str(key) = t else {
                        return Err(expected("object key string", &t, at));
                    };
                    ffi::lua_pushlstring(l, key.as_ptr().cast(), key.len());
                    let (colon, cat) = p.next();
                    if !matches!(colon, Token::Colon) {
                        return Err(expected("colon", &colon, cat));
                    }
                    let (v, vat) = p.next();
                    decode_value(l, p, v, vat)?;
                    ffi::lua_rawset(l, -3);
                } else {
                    decode_value(l, p, t, at)?;
                    ffi::lua_rawseti(l, -2, i);
                    i += 1;
                }
                let (sep, sat) = p.next();
                if close_matches(&sep) {
                    p.depth -= 1;
                    return Ok(());
                }
                if !matches!(sep, Token::Comma) {
                    let what = if object {
                        "comma or object end"
                    } else {
                        "comma or array end"
                    };
                    return Err(expected(what, &sep, sat));
                }
                (t, at) = p.next();
            }
        }
        other => return Err(expected("value", &other, index)),
    }
    Ok(())
}

unsafe extern "C-unwind" fn json_decode(l: *mut ffi::lua_State) -> c_int {
    if ffi::lua_gettop(l) != 1 {
        ffi::luaL_argerror(l, 1, c"expected 1 argument".as_ptr());
    }
    let mut len = 0usize;
    let ptr = ffi::luaL_checklstring(l, 1, &mut len);
    let data: &[u8] = if ptr.is_null() {
        &[]
    } else {
        std::slice::from_raw_parts(ptr.cast(), len)
    };
    if data.len() >= 2 && (data.first() == Some(&0) || data.get(1) == Some(&0)) {
        ffi::luaL_error(l, c"JSON parser does not support UTF-16 or UTF-32".as_ptr());
    }
    let result = {
        let mut p = Parser {
            data,
            pos: 0,
            depth: 0,
        };
        let (t, at) = p.next();
        decode_value(l, &mut p, t, at).and_then(|()| {
            let (end, eat) = p.next();
            if matches!(end, Token::End) {
                Ok(())
            } else {
                Err(expected("the end", &end, eat))
            }
        })
    };
    match result {
        Ok(()) => 1,
        Err(msg) => raise_owned(l, msg.into_bytes()),
    }
}
