//! `cjson` as Redis links it (lua-cjson 2.1.0, `deps/lua/src/lua_cjson.c`): `encode` and
//! `decode` with its defaults (numbers as `%.14g`, `/` escaped, sparse arrays refused, 1000
//! levels of nesting at most, `null` as a NULL light userdata), and its error messages.
//!
//! Both walk nested data with a stack of their own, not native recursion: a script may raise
//! the nesting limits up to the Lua stack's (some 8000 levels), as in Redis.

use std::ffi::CStr;
use std::os::raw::c_int;

use mlua::{ffi, Lua, Table};

use super::libs::format_g;

/// A cjson table's settings (`json_config_t`), changed by its configuration functions and
/// kept for the life of the Lua state, as Redis keeps them (it builds a new state only on
/// SCRIPT FLUSH). Plain data in a Lua userdata each function of the table holds as upvalue.
#[repr(C)]
#[derive(Clone, Copy)]
struct Config {
    sparse_convert: c_int,
    sparse_ratio: c_int,
    sparse_safe: c_int,
    encode_max_depth: c_int,
    decode_max_depth: c_int,
    /// 0 refuses NaN and Inf, 1 writes them (`nan`, `inf`), 2 writes `null`.
    encode_invalid_numbers: c_int,
    decode_invalid_numbers: c_int,
    encode_keep_buffer: c_int,
    encode_number_precision: c_int,
}

/// lua_cjson's defaults.
const DEFAULTS: Config = Config {
    sparse_convert: 0,
    sparse_ratio: 2,
    sparse_safe: 10,
    encode_max_depth: 1000,
    decode_max_depth: 1000,
    encode_invalid_numbers: 0,
    decode_invalid_numbers: 1,
    encode_keep_buffer: 1,
    encode_number_precision: 14,
};

/// Adds `cjson` to `libs`.
pub fn register(lua: &Lua, libs: &Table) -> mlua::Result<()> {
    // SAFETY: follows the discipline of `libs`.
    let new = unsafe { lua.create_c_function(json_new)? };
    let t: Table = new.call(())?;
    libs.raw_set("cjson", t)?;
    Ok(())
}

/// `cjson.new()`: a cjson table with settings of its own.
unsafe extern "C-unwind" fn json_new(l: *mut ffi::lua_State) -> c_int {
    let fns: [(&CStr, ffi::lua_CFunction); 10] = [
        (c"encode", json_encode),
        (c"decode", json_decode),
        (c"encode_sparse_array", cfg_encode_sparse_array),
        (c"encode_max_depth", cfg_encode_max_depth),
        (c"decode_max_depth", cfg_decode_max_depth),
        (c"encode_number_precision", cfg_encode_number_precision),
        (c"encode_keep_buffer", cfg_encode_keep_buffer),
        (c"encode_invalid_numbers", cfg_encode_invalid_numbers),
        (c"decode_invalid_numbers", cfg_decode_invalid_numbers),
        (c"new", json_new),
    ];
    ffi::lua_createtable(l, 0, 16);
    let cfg = ffi::lua_newuserdata(l, std::mem::size_of::<Config>()).cast::<Config>();
    // A Lua userdata is aligned for any C type.
    cfg.write(DEFAULTS);
    for (name, f) in fns {
        ffi::lua_pushvalue(l, -1);
        ffi::lua_pushcclosure(l, f, 1);
        ffi::lua_setfield(l, -3, name.as_ptr());
    }
    ffi::lua_pop(l, 1);
    ffi::lua_pushlightuserdata(l, std::ptr::null_mut());
    ffi::lua_setfield(l, -2, c"null".as_ptr());
    ffi::lua_pushstring(l, c"cjson".as_ptr());
    ffi::lua_setfield(l, -2, c"_NAME".as_ptr());
    ffi::lua_pushstring(l, c"2.1.0".as_ptr());
    ffi::lua_setfield(l, -2, c"_VERSION".as_ptr());
    1
}

/// The settings of the table the running function belongs to.
unsafe fn config(l: *mut ffi::lua_State) -> *mut Config {
    let p = ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)).cast::<Config>();
    if p.is_null() {
        ffi::luaL_error(l, c"BUG: Unable to fetch CJSON configuration".as_ptr());
    }
    p
}

/// `json_arg_init`: at most `args` arguments, padded with nils.
unsafe fn arg_init(l: *mut ffi::lua_State, args: c_int) -> *mut Config {
    if ffi::lua_gettop(l) > args {
        ffi::luaL_argerror(l, args + 1, c"found too many arguments".as_ptr());
    }
    while ffi::lua_gettop(l) < args {
        ffi::lua_pushnil(l);
    }
    config(l)
}

/// `json_integer_option`: sets `*setting` from argument `idx` unless nil; pushes it.
unsafe fn integer_option(
    l: *mut ffi::lua_State,
    idx: c_int,
    setting: *mut c_int,
    min: c_int,
    max: c_int,
) -> c_int {
    if ffi::lua_type(l, idx) != ffi::LUA_TNIL {
        // C stores the lua_Integer in an int.
        let value = ffi::luaL_checkinteger(l, idx) as c_int;
        if value < min || value > max {
            let msg =
                ffi::lua_pushfstring(l, c"expected integer between %d and %d".as_ptr(), min, max);
            // lua_cjson names argument 1 whichever it checks.
            ffi::luaL_argerror(l, 1, msg);
        }
        *setting = value;
    }
    ffi::lua_pushinteger(l, ffi::lua_Integer::from(*setting));
    1
}

/// `json_enum_option` with `bool_true` 1: `true`/`false` or one of `options` by name.
unsafe fn enum_option(
    l: *mut ffi::lua_State,
    idx: c_int,
    setting: *mut c_int,
    options: &[*const std::os::raw::c_char],
) -> c_int {
    if ffi::lua_type(l, idx) != ffi::LUA_TNIL {
        if ffi::lua_type(l, idx) == ffi::LUA_TBOOLEAN {
            *setting = ffi::lua_toboolean(l, idx);
        } else {
            *setting = ffi::luaL_checkoption(l, idx, std::ptr::null(), options.as_ptr());
        }
    }
    if *setting == 0 || *setting == 1 {
        ffi::lua_pushboolean(l, *setting);
    } else {
        let name = options
            .get(*setting as usize)
            .copied()
            .unwrap_or(std::ptr::null());
        ffi::lua_pushstring(l, name);
    }
    1
}

const ON_OFF: [*const std::os::raw::c_char; 3] =
    [c"off".as_ptr(), c"on".as_ptr(), std::ptr::null()];

unsafe extern "C-unwind" fn cfg_encode_sparse_array(l: *mut ffi::lua_State) -> c_int {
    let cfg = arg_init(l, 3);
    enum_option(l, 1, &raw mut (*cfg).sparse_convert, &ON_OFF);
    integer_option(l, 2, &raw mut (*cfg).sparse_ratio, 0, c_int::MAX);
    integer_option(l, 3, &raw mut (*cfg).sparse_safe, 0, c_int::MAX);
    3
}

unsafe extern "C-unwind" fn cfg_encode_max_depth(l: *mut ffi::lua_State) -> c_int {
    let cfg = arg_init(l, 1);
    integer_option(l, 1, &raw mut (*cfg).encode_max_depth, 1, c_int::MAX)
}

unsafe extern "C-unwind" fn cfg_decode_max_depth(l: *mut ffi::lua_State) -> c_int {
    let cfg = arg_init(l, 1);
    integer_option(l, 1, &raw mut (*cfg).decode_max_depth, 1, c_int::MAX)
}

unsafe extern "C-unwind" fn cfg_encode_number_precision(l: *mut ffi::lua_State) -> c_int {
    let cfg = arg_init(l, 1);
    integer_option(l, 1, &raw mut (*cfg).encode_number_precision, 1, 14)
}

/// The setting is kept and answered; the buffer it governs is a memory detail here.
unsafe extern "C-unwind" fn cfg_encode_keep_buffer(l: *mut ffi::lua_State) -> c_int {
    let cfg = arg_init(l, 1);
    enum_option(l, 1, &raw mut (*cfg).encode_keep_buffer, &ON_OFF)
}

unsafe extern "C-unwind" fn cfg_encode_invalid_numbers(l: *mut ffi::lua_State) -> c_int {
    const OPTIONS: [*const std::os::raw::c_char; 4] = [
        c"off".as_ptr(),
        c"on".as_ptr(),
        c"null".as_ptr(),
        std::ptr::null(),
    ];
    let cfg = arg_init(l, 1);
    enum_option(l, 1, &raw mut (*cfg).encode_invalid_numbers, &OPTIONS)
}

unsafe extern "C-unwind" fn cfg_decode_invalid_numbers(l: *mut ffi::lua_State) -> c_int {
    let cfg = arg_init(l, 1);
    enum_option(l, 1, &raw mut (*cfg).decode_invalid_numbers, &ON_OFF)
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
    let cfg = *config(l);
    let result = {
        let mut out = Vec::new();
        encode_value(l, &cfg, &mut out).map(|()| out)
    };
    match result {
        Ok(out) => {
            ffi::lua_pushlstring(l, out.as_ptr().cast(), out.len());
            drop(out);
            1
        }
        Err(msg) => super::libs::raise(l, msg),
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
    cfg: &Config,
    idx: c_int,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let n = ffi::lua_tonumber(l, idx);
    match cfg.encode_invalid_numbers {
        0 if n.is_nan() || n.is_infinite() => {
            return Err(format!(
                "Cannot serialise {}: must not be NaN or Inf",
                type_name(l, idx)
            ));
        }
        1 if n.is_nan() => {
            out.extend_from_slice(b"nan");
            return Ok(());
        }
        0 | 1 => {}
        _ if n.is_nan() || n.is_infinite() => {
            out.extend_from_slice(b"null");
            return Ok(());
        }
        _ => {}
    }
    let precision = usize::try_from(cfg.encode_number_precision).unwrap_or(14);
    out.extend_from_slice(format_g(n, precision).as_bytes());
    Ok(())
}

unsafe fn lua_bytes<'a>(l: *mut ffi::lua_State, idx: c_int) -> &'a [u8] {
    super::libs::string_at(l, idx).unwrap_or_default()
}

/// The array length of the table on top (cjson's `lua_array_length`): `None` for an object.
/// C keeps the largest key in an `int` (a key past its range wraps to a negative length,
/// which makes an object) and multiplies in `int`.
unsafe fn array_length(l: *mut ffi::lua_State, cfg: &Config) -> Result<Option<usize>, String> {
    let mut max: c_int = 0;
    let mut items: c_int = 0;
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        if ffi::lua_type(l, -2) == ffi::LUA_TNUMBER {
            let k = ffi::lua_tonumber(l, -2);
            if k != 0.0 && k.floor() == k && k >= 1.0 {
                if k > f64::from(max) {
                    max = if k < 2_147_483_648.0 {
                        k as c_int
                    } else {
                        c_int::MIN
                    };
                }
                items = items.wrapping_add(1);
                ffi::lua_pop(l, 1);
                continue;
            }
        }
        ffi::lua_pop(l, 2);
        return Ok(None);
    }
    if cfg.sparse_ratio > 0 && max > items.wrapping_mul(cfg.sparse_ratio) && max > cfg.sparse_safe {
        if cfg.sparse_convert == 0 {
            return Err(format!(
                "Cannot serialise {}: excessively sparse array",
                type_name(l, -1)
            ));
        }
        return Ok(None);
    }
    Ok(usize::try_from(max).ok())
}

/// A table being encoded: an array (its length, the next index) or an object (whether the
/// next member is the first; its current key sits on the Lua stack above the table).
enum Open {
    Array { len: usize, next: usize },
    Object { first: bool },
}

/// Encodes the value on top of the stack into `out`, leaving the stack as it was. Nested
/// tables are walked with `open` as the stack (as lua_cjson recurses), so the nesting a
/// script allows with `encode_max_depth` (up to the Lua stack's own limit, some 8000 levels,
/// which `lua_checkstack` reports as Redis's does) never runs out of native stack.
unsafe fn encode_value(
    l: *mut ffi::lua_State,
    cfg: &Config,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let base = ffi::lua_gettop(l);
    let result = encode_walk(l, cfg, out);
    ffi::lua_settop(l, base);
    result
}

unsafe fn encode_walk(
    l: *mut ffi::lua_State,
    cfg: &Config,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let mut open: Vec<Open> = Vec::new();
    // The value to encode next is on top of the stack (the root first, which stays there).
    loop {
        match ffi::lua_type(l, -1) {
            ffi::LUA_TTABLE => {
                let depth = c_int::try_from(open.len())
                    .unwrap_or(c_int::MAX)
                    .saturating_add(1);
                if depth > cfg.encode_max_depth || ffi::lua_checkstack(l, 3) == 0 {
                    return Err(format!("Cannot serialise, excessive nesting ({depth})"));
                }
                match array_length(l, cfg)? {
                    Some(len) if len > 0 => {
                        out.push(b'[');
                        open.push(Open::Array { len, next: 1 });
                    }
                    _ => {
                        out.push(b'{');
                        ffi::lua_pushnil(l);
                        open.push(Open::Object { first: true });
                    }
                }
            }
            _ => {
                encode_scalar(l, cfg, out)?;
                if open.is_empty() {
                    return Ok(());
                }
                ffi::lua_pop(l, 1);
            }
        }
        // Push the next value to encode, closing the tables that are done.
        loop {
            match open.last_mut() {
                None => return Ok(()),
                Some(Open::Array { len, next }) => {
                    if *next > *len {
                        out.push(b']');
                        open.pop();
                        if open.is_empty() {
                            return Ok(());
                        }
                        ffi::lua_pop(l, 1);
                        continue;
                    }
                    if *next > 1 {
                        out.push(b',');
                    }
                    ffi::lua_rawgeti(l, -1, *next as _);
                    *next += 1;
                }
                Some(Open::Object { first }) => {
                    if ffi::lua_next(l, -2) == 0 {
                        out.push(b'}');
                        open.pop();
                        if open.is_empty() {
                            return Ok(());
                        }
                        ffi::lua_pop(l, 1);
                        continue;
                    }
                    if !*first {
                        out.push(b',');
                    }
                    *first = false;
                    match ffi::lua_type(l, -2) {
                        ffi::LUA_TNUMBER => {
                            out.push(b'"');
                            encode_number(l, cfg, -2, out)?;
                            out.extend_from_slice(b"\":");
                        }
                        ffi::LUA_TSTRING => {
                            escape_into(lua_bytes(l, -2), out);
                            out.push(b':');
                        }
                        _ => {
                            return Err(format!(
                                "Cannot serialise {}: table key must be a number or string",
                                type_name(l, -2)
                            ))
                        }
                    }
                }
            }
            break;
        }
    }
}

/// Encodes the value on top of the stack, which is not a table.
unsafe fn encode_scalar(
    l: *mut ffi::lua_State,
    cfg: &Config,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    match ffi::lua_type(l, -1) {
        ffi::LUA_TSTRING => escape_into(lua_bytes(l, -1), out),
        ffi::LUA_TNUMBER => encode_number(l, cfg, -1, out)?,
        ffi::LUA_TBOOLEAN => out.extend_from_slice(if ffi::lua_toboolean(l, -1) != 0 {
            b"true"
        } else {
            b"false"
        }),
        ffi::LUA_TNIL => out.extend_from_slice(b"null"),
        ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, -1).is_null() => {
            out.extend_from_slice(b"null")
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
    max_depth: usize,
    /// `decode_invalid_numbers`: hex, `inf`, `nan`, a leading `+` or zero are read.
    invalid_numbers: bool,
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
        let rest = self.data.get(self.pos..).unwrap_or_default();
        if c == b'-' || c.is_ascii_digit() {
            if !self.invalid_numbers && is_invalid_number(rest) {
                return (Token::Error("invalid number"), start);
            }
            return self.number(start);
        }
        // Only these bytes may start a token; any other is an error at once.
        if !matches!(c, b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+') {
            return (Token::Error("invalid token"), start);
        }
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
        if self.invalid_numbers && is_invalid_number(rest) {
            return self.number(start);
        }
        (Token::Error("invalid token"), start)
    }

    /// A number as C's `strtod` reads it from here.
    fn number(&mut self, start: usize) -> (Token, usize) {
        let rest = self.data.get(self.pos..).unwrap_or_default();
        match strtod(rest) {
            (_, 0) => (Token::Error("invalid number"), start),
            (n, used) => {
                self.pos += used;
                (Token::Num(n), start)
            }
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

fn at(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

fn starts_with_ci(s: &[u8], word: &[u8]) -> bool {
    s.get(..word.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(word))
}

/// `json_is_invalid_number`: what strict JSON refuses but `strtod` reads.
fn is_invalid_number(p: &[u8]) -> bool {
    if at(p, 0) == b'+' {
        return true;
    }
    let i = usize::from(at(p, 0) == b'-');
    let c = at(p, i);
    if c == b'0' {
        let c2 = at(p, i + 1);
        return c2 | 0x20 == b'x' || c2.is_ascii_digit();
    }
    if c <= b'9' {
        return false;
    }
    let p = p.get(i..).unwrap_or_default();
    starts_with_ci(p, b"inf") || starts_with_ci(p, b"nan")
}

/// C's `strtod` (glibc, "C" locale) at the start of `p`: the value and the bytes it used
/// (0 when there is no number).
fn strtod(p: &[u8]) -> (f64, usize) {
    let mut i = 0;
    let negative = at(p, 0) == b'-';
    if matches!(at(p, 0), b'+' | b'-') {
        i = 1;
    }
    let sign = |v: f64| if negative { -v } else { v };
    let rest = p.get(i..).unwrap_or_default();
    if starts_with_ci(rest, b"inf") {
        let used = if starts_with_ci(rest, b"infinity") {
            8
        } else {
            3
        };
        return (sign(f64::INFINITY), i + used);
    }
    if starts_with_ci(rest, b"nan") {
        let mut used = i + 3;
        if at(p, used) == b'(' {
            let mut j = used + 1;
            while at(p, j).is_ascii_alphanumeric() || at(p, j) == b'_' {
                j += 1;
            }
            if at(p, j) == b')' {
                used = j + 1;
            }
        }
        return (sign(f64::NAN), used);
    }
    if at(p, i) == b'0' && at(p, i + 1) | 0x20 == b'x' {
        if let Some((v, used)) = hex_float(p, i + 2) {
            return (sign(v), used);
        }
        // Only the 0 is a number.
        return (sign(0.0), i + 1);
    }
    let mut j = i;
    let mut digits = 0;
    while at(p, j).is_ascii_digit() {
        j += 1;
        digits += 1;
    }
    if at(p, j) == b'.' {
        j += 1;
        while at(p, j).is_ascii_digit() {
            j += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return (0.0, 0);
    }
    if at(p, j) | 0x20 == b'e' {
        let mut k = j + 1;
        if matches!(at(p, k), b'+' | b'-') {
            k += 1;
        }
        if at(p, k).is_ascii_digit() {
            while at(p, k).is_ascii_digit() {
                k += 1;
            }
            j = k;
        }
    }
    let text = std::str::from_utf8(p.get(i..j).unwrap_or_default()).unwrap_or("");
    // A mantissa with a trailing or leading '.' and any exponent parse as Rust reads them.
    let v = text.parse::<f64>().unwrap_or(0.0);
    (sign(v), j)
}

/// A hexadecimal float's digits from `p[i..]` (after `0x`): value and end.
fn hex_float(p: &[u8], mut i: usize) -> Option<(f64, usize)> {
    let hex = |c: u8| char::from(c).to_digit(16);
    let mut mantissa = 0.0f64;
    let mut exp: i64 = 0;
    let mut any = false;
    while let Some(d) = hex(at(p, i)) {
        mantissa = mantissa * 16.0 + f64::from(d);
        any = true;
        i += 1;
    }
    if at(p, i) == b'.' {
        let mut j = i + 1;
        let mut frac = false;
        while let Some(d) = hex(at(p, j)) {
            mantissa = mantissa * 16.0 + f64::from(d);
            exp -= 4;
            frac = true;
            j += 1;
        }
        if any || frac {
            i = j;
            any = true;
        }
    }
    if !any {
        return None;
    }
    if at(p, i) | 0x20 == b'p' {
        let mut k = i + 1;
        let negative = at(p, k) == b'-';
        if matches!(at(p, k), b'+' | b'-') {
            k += 1;
        }
        if at(p, k).is_ascii_digit() {
            let mut e: i64 = 0;
            while at(p, k).is_ascii_digit() {
                e = (e * 10 + i64::from(at(p, k) - b'0')).min(100_000);
                k += 1;
            }
            exp += if negative { -e } else { e };
            i = k;
        }
    }
    let mut v = mantissa;
    let mut e = exp.clamp(-5000, 5000);
    while e != 0 && v != 0.0 && v.is_finite() {
        let step = e.clamp(-1000, 1000);
        v *= 2f64.powi(step as i32);
        e -= step;
    }
    Some((v, i))
}

fn expected(what: &str, token: &Token, index: usize) -> String {
    format!(
        "Expected {what} but found {} at character {}",
        token.name(),
        index + 1
    )
}

/// Decodes the value that starts with `token` (at `index`) and pushes it. Nested arrays and
/// objects are walked with `open` as the stack (lua_cjson recurses), so the nesting a
/// script allows with `decode_max_depth` (up to the Lua stack's limit, which
/// `lua_checkstack` reports as Redis's does) never runs out of native stack.
unsafe fn decode_value(
    l: *mut ffi::lua_State,
    p: &mut Parser<'_>,
    token: Token,
    index: usize,
) -> Result<(), String> {
    // The containers being filled: whether each is an object, and an array's next index.
    let mut open: Vec<(bool, ffi::lua_Integer)> = Vec::new();
    let (mut token, mut index) = (token, index);
    loop {
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
                // Slots for the table, then a key and a value (an object) or a value.
                let slots = if object { 3 } else { 2 };
                if p.depth > p.max_depth || ffi::lua_checkstack(l, slots) == 0 {
                    return Err(format!(
                        "Found too many nested data structures ({}) at character {}",
                        p.depth, p.pos
                    ));
                }
                ffi::lua_createtable(l, 0, 0);
                let (t, at) = p.next();
                if closes(object, &t) {
                    p.depth -= 1;
                } else {
                    open.push((object, 1));
                    (token, index) = member(l, p, object, t, at)?;
                    continue;
                }
            }
            other => return Err(expected("value", &other, index)),
        }
        // A whole value is on top: store it in its container, then find the next member,
        // closing the containers that end here.
        loop {
            let Some((object, next)) = open.last_mut() else {
                return Ok(());
            };
            let object = *object;
            if object {
                ffi::lua_rawset(l, -3);
            } else {
                ffi::lua_rawseti(l, -2, *next);
                *next += 1;
            }
            let (sep, sat) = p.next();
            if closes(object, &sep) {
                open.pop();
                p.depth -= 1;
                continue;
            }
            if !matches!(sep, Token::Comma) {
                let what = if object {
                    "comma or object end"
                } else {
                    "comma or array end"
                };
                return Err(expected(what, &sep, sat));
            }
            let (t, at) = p.next();
            (token, index) = member(l, p, object, t, at)?;
            break;
        }
    }
}

/// Whether `token` closes an object (`object`) or an array.
fn closes(object: bool, token: &Token) -> bool {
    if object {
        matches!(token, Token::ObjEnd)
    } else {
        matches!(token, Token::ArrEnd)
    }
}

/// Starts a member of a container whose member begins with `t` (at `at`): an array's member
/// is that value; an object's is a key string, pushed, then a colon, then the value. Returns
/// the value's first token.
unsafe fn member(
    l: *mut ffi::lua_State,
    p: &mut Parser<'_>,
    object: bool,
    t: Token,
    at: usize,
) -> Result<(Token, usize), String> {
    if !object {
        return Ok((t, at));
    }
    let Token::Str(key) = t else {
        return Err(expected("object key string", &t, at));
    };
    ffi::lua_pushlstring(l, key.as_ptr().cast(), key.len());
    let (colon, cat) = p.next();
    if !matches!(colon, Token::Colon) {
        return Err(expected("colon", &colon, cat));
    }
    Ok(p.next())
}

unsafe extern "C-unwind" fn json_decode(l: *mut ffi::lua_State) -> c_int {
    if ffi::lua_gettop(l) != 1 {
        ffi::luaL_argerror(l, 1, c"expected 1 argument".as_ptr());
    }
    let data = super::libs::check_bytes(l, 1);
    if data.len() >= 2 && (data.first() == Some(&0) || data.get(1) == Some(&0)) {
        ffi::luaL_error(l, c"JSON parser does not support UTF-16 or UTF-32".as_ptr());
    }
    let cfg = *config(l);
    let result = {
        let mut p = Parser {
            data,
            pos: 0,
            depth: 0,
            max_depth: usize::try_from(cfg.decode_max_depth).unwrap_or(0),
            invalid_numbers: cfg.decode_invalid_numbers != 0,
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
        Err(msg) => {
            // What was decoded so far goes: the error message needs a slot, and at the
            // stack's limit the last check left none (Redis's Lua has spare slots there).
            ffi::lua_settop(l, 1);
            super::libs::raise(l, msg)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{is_invalid_number, strtod};

    #[test]
    fn strtod_reads_what_glibc_reads() {
        assert_eq!(strtod(b"12,"), (12.0, 2));
        assert_eq!(strtod(b"-0x1p4]"), (-16.0, 6));
        assert_eq!(strtod(b"0x]"), (0.0, 1));
        assert_eq!(strtod(b"1.5e]"), (1.5, 3));
        assert_eq!(strtod(b"-.5"), (-0.5, 3));
        assert_eq!(strtod(b"Infinity"), (f64::INFINITY, 8));
        assert_eq!(strtod(b"-inf"), (f64::NEG_INFINITY, 4));
        assert_eq!(strtod(b"1e400"), (f64::INFINITY, 5));
        assert_eq!(strtod(b"-"), (0.0, 0));
        assert_eq!(strtod(b"+"), (0.0, 0));
        let (nan, used) = strtod(b"nan(abc)x");
        assert!(nan.is_nan());
        assert_eq!(used, 8);
        // Hostile exponents and long digit runs end without overflow.
        assert_eq!(strtod(b"0x1p99999999999999999999").0, f64::INFINITY);
        assert_eq!(strtod(b"0x1p-99999999999999999999").0, 0.0);
        assert_eq!(strtod(&[b'9'; 5000]).1, 5000);
    }

    #[test]
    fn invalid_numbers_as_lua_cjson_sees_them() {
        for s in [&b"+1"[..], b"0x1", b"-01", b"inf", b"-NaN", b"00"] {
            assert!(is_invalid_number(s), "{s:?}");
        }
        for s in [&b"1"[..], b"-0", b"0.5", b"-.5", b"", b"-"] {
            assert!(!is_invalid_number(s), "{s:?}");
        }
    }
}
