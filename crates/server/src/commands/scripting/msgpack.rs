//! `cmsgpack` as Redis links it (lua-cmsgpack 0.4.0, `deps/lua/src/lua_cmsgpack.c`): `pack`,
//! `unpack`, `unpack_one` and `unpack_limit`, with that library's encoding choices (a number
//! that is an integer takes the smallest integer form, another one a float when a float holds
//! it exactly, else a double; a table whose keys are exactly 1..n is an array, another one a
//! map; a table nested 16 deep packs as nil) and its error messages.
//!
//! The decoder reads hostile bytes: every length is checked against the bytes that remain
//! before it is used, no allocation is sized by a declared count, and nesting is walked with
//! an explicit stack (bounded, as in the C library, by the Lua stack a C function may use).

use std::ffi::CStr;
use std::os::raw::c_int;

use mlua::{ffi, Lua, Table};

use super::libs::raise;

/// `LUACMSGPACK_MAX_NESTING`: a table this deep packs as nil.
const MAX_NESTING: usize = 16;

/// Adds `cmsgpack` to `libs`.
pub fn register(lua: &Lua, libs: &Table) -> mlua::Result<()> {
    let t = lua.create_table()?;
    let fns: [(&str, ffi::lua_CFunction); 4] = [
        ("pack", mp_pack),
        ("unpack", mp_unpack),
        ("unpack_one", mp_unpack_one),
        ("unpack_limit", mp_unpack_limit),
    ];
    for (name, f) in fns {
        // SAFETY: each function follows the discipline of `libs`.
        t.raw_set(name, unsafe { lua.create_c_function(f)? })?;
    }
    t.raw_set("_NAME", "cmsgpack")?;
    t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    libs.raw_set("cmsgpack", t)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Encoding

/// The integer a C cast `(int64_t)d` gives on x86-64 (`cvttsd2si`: out of range or NaN is
/// `INT64_MIN`).
pub(super) fn c_i64(d: f64) -> i64 {
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&d) {
        d as i64
    } else {
        i64::MIN
    }
}

/// The integer a C cast `(int)d` gives on x86-64 (out of range or NaN is `INT_MIN`).
fn c_i32(d: f64) -> i32 {
    if (-2_147_483_648.0..2_147_483_648.0).contains(&d) {
        d as i32
    } else {
        i32::MIN
    }
}

fn encode_bytes(out: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

fn encode_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_number(out: &mut Vec<u8>, n: f64) {
    let i = c_i64(n);
    if !n.is_infinite() && i as f64 == n {
        encode_int(out, i);
    } else if f64::from(n as f32) == n {
        out.push(0xca);
        out.extend_from_slice(&(n as f32).to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_len(out: &mut Vec<u8>, n: usize, fix: u8, b16: u8, b32: u8) {
    if n <= 15 {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(b16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(b32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// Whether the table on top has exactly the keys 1..n (lua_cmsgpack's `table_is_an_array`:
/// every key a positive number that a C `int` holds, the largest equal to the count).
unsafe fn table_is_array(l: *mut ffi::lua_State) -> bool {
    let mut count: i64 = 0;
    let mut max: i64 = 0;
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        ffi::lua_pop(l, 1);
        let n = ffi::lua_tonumber(l, -1);
        if ffi::lua_type(l, -1) != ffi::LUA_TNUMBER || n <= 0.0 || f64::from(c_i32(n)) != n {
            ffi::lua_pop(l, 1);
            return false;
        }
        max = max.max(n as i64);
        count += 1;
    }
    max == count
}

/// Packs the value on top and pops it. `Err` only when the Lua stack cannot grow.
unsafe fn encode_value(
    l: *mut ffi::lua_State,
    out: &mut Vec<u8>,
    level: usize,
) -> Result<(), &'static CStr> {
    let mut t = ffi::lua_type(l, -1);
    if t == ffi::LUA_TTABLE && level == MAX_NESTING {
        t = ffi::LUA_TNIL;
    }
    let r = match t {
        ffi::LUA_TSTRING => {
            encode_bytes(out, super::libs::string_at(l, -1).unwrap_or_default());
            Ok(())
        }
        ffi::LUA_TBOOLEAN => {
            out.push(if ffi::lua_toboolean(l, -1) != 0 {
                0xc3
            } else {
                0xc2
            });
            Ok(())
        }
        ffi::LUA_TNUMBER => {
            encode_number(out, ffi::lua_tonumber(l, -1));
            Ok(())
        }
        ffi::LUA_TTABLE => encode_table(l, out, level),
        _ => {
            out.push(0xc0);
            Ok(())
        }
    };
    ffi::lua_pop(l, 1);
    r
}

unsafe fn encode_table(
    l: *mut ffi::lua_State,
    out: &mut Vec<u8>,
    level: usize,
) -> Result<(), &'static CStr> {
    if ffi::lua_checkstack(l, 3) == 0 {
        return Err(c"in function table_is_an_array");
    }
    if table_is_array(l) {
        let len = ffi::lua_objlen(l, -1);
        encode_len(out, len, 0x90, 0xdc, 0xdd);
        for j in 1..=len {
            ffi::lua_rawgeti(l, -1, j as ffi::lua_Integer);
            encode_value(l, out, level + 1)?;
        }
    } else {
        let mut len = 0usize;
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            ffi::lua_pop(l, 1);
            len += 1;
        }
        encode_len(out, len, 0x80, 0xde, 0xdf);
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            ffi::lua_pushvalue(l, -2);
            if let Err(e) = encode_value(l, out, level + 1) {
                ffi::lua_pop(l, 2);
                return Err(e);
            }
            if let Err(e) = encode_value(l, out, level + 1) {
                ffi::lua_pop(l, 1);
                return Err(e);
            }
        }
    }
    Ok(())
}

unsafe extern "C-unwind" fn mp_pack(l: *mut ffi::lua_State) -> c_int {
    let nargs = ffi::lua_gettop(l);
    if nargs == 0 {
        ffi::luaL_argerror(l, 0, c"MessagePack pack needs input.".as_ptr());
    }
    if ffi::lua_checkstack(l, nargs) == 0 {
        ffi::luaL_argerror(l, 0, c"Too many arguments for MessagePack pack.".as_ptr());
    }
    let result = {
        let mut out = Vec::new();
        let mut r = Ok(());
        for i in 1..=nargs {
            ffi::lua_pushvalue(l, i);
            r = encode_value(l, &mut out, 0);
            if r.is_err() {
                break;
            }
        }
        r.map(|()| out)
    };
    match result {
        Ok(out) => {
            ffi::lua_pushlstring(l, out.as_ptr().cast(), out.len());
            drop(out);
            1
        }
        Err(what) => stack_overflow(l, what),
    }
}

unsafe fn stack_overflow(l: *mut ffi::lua_State, what: &'static CStr) -> ! {
    ffi::luaL_error(l, c"stack overflow (%s)".as_ptr(), what.as_ptr());
    ffi::lua_error(l)
}

// ---------------------------------------------------------------------------------------
// Decoding

/// Why decoding stopped.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum DecodeError {
    /// `MP_CUR_ERROR_EOF`: a value runs past the input.
    Eof,
    /// `MP_CUR_ERROR_BADFMT`: a first byte no type has.
    BadFormat,
    /// `luaL_checkstack` failed: raised as `stack overflow (<what>)`.
    Stack(&'static CStr),
    /// Lua's own error for a table key (`table index is nil`), raised without a position.
    Key(&'static str),
}

/// A container being filled.
enum Frame {
    Array { left: usize, next: f64 },
    Map { left: usize, key_done: bool },
}

/// What the first byte of a value says.
enum Head {
    Done,
    Array(usize),
    Map(usize),
}

pub(super) struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn left(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// The `n` bytes after the current one (the value's header byte), if they all exist.
    fn after_head(&self, n: usize) -> Result<&'a [u8], DecodeError> {
        let start = self.pos.checked_add(1).ok_or(DecodeError::Eof)?;
        let end = start.checked_add(n).ok_or(DecodeError::Eof)?;
        self.data.get(start..end).ok_or(DecodeError::Eof)
    }

    fn be(&self, n: usize) -> Result<u64, DecodeError> {
        Ok(self
            .after_head(n)?
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }
}

unsafe fn push_str(
    l: *mut ffi::lua_State,
    c: &mut Cursor<'_>,
    skip: usize,
    len: usize,
) -> Result<(), DecodeError> {
    let start = c.pos.checked_add(skip).ok_or(DecodeError::Eof)?;
    let end = start.checked_add(len).ok_or(DecodeError::Eof)?;
    let s = c.data.get(start..end).ok_or(DecodeError::Eof)?;
    ffi::lua_pushlstring(l, s.as_ptr().cast(), s.len());
    c.pos = end;
    Ok(())
}

/// Reads one value's header; pushes a scalar, or leaves a container's count to the caller.
unsafe fn decode_head(l: *mut ffi::lua_State, c: &mut Cursor<'_>) -> Result<Head, DecodeError> {
    let Some(&b) = c.data.get(c.pos) else {
        return Err(DecodeError::Eof);
    };
    if ffi::lua_checkstack(l, 1) == 0 {
        return Err(DecodeError::Stack(
            c"too many return values at once; use unpack_one or unpack_limit instead.",
        ));
    }
    let push_int = |v: f64, size: usize, c: &mut Cursor<'_>| {
        ffi::lua_pushnumber(l, v);
        c.pos += 1 + size;
        Ok(Head::Done)
    };
    match b {
        0xcc => push_int(c.be(1)? as f64, 1, c),
        0xd0 => push_int(f64::from(c.be(1)? as u8 as i8), 1, c),
        0xcd => push_int(c.be(2)? as f64, 2, c),
        0xd1 => push_int(f64::from(c.be(2)? as u16 as i16), 2, c),
        0xce => push_int(c.be(4)? as f64, 4, c),
        0xd2 => push_int(f64::from(c.be(4)? as u32 as i32), 4, c),
        // lua_pushunsigned is lua_pushinteger here: the value is read as signed.
        0xcf | 0xd3 => push_int(c.be(8)? as i64 as f64, 8, c),
        0xc0 => {
            ffi::lua_pushnil(l);
            c.pos += 1;
            Ok(Head::Done)
        }
        0xc2 | 0xc3 => {
            ffi::lua_pushboolean(l, c_int::from(b == 0xc3));
            c.pos += 1;
            Ok(Head::Done)
        }
        0xca => push_int(f64::from(f32::from_bits(c.be(4)? as u32)), 4, c),
        0xcb => push_int(f64::from_bits(c.be(8)?), 8, c),
        0xd9 => {
            let len = c.be(1)? as usize;
            push_str(l, c, 2, len).map(|()| Head::Done)
        }
        0xda => {
            let len = c.be(2)? as usize;
            push_str(l, c, 3, len).map(|()| Head::Done)
        }
        0xdb => {
            let len = c.be(4)? as usize;
            push_str(l, c, 5, len).map(|()| Head::Done)
        }
        0xdc | 0xde => {
            let n = c.be(2)? as usize;
            c.pos += 3;
            Ok(if b == 0xdc {
                Head::Array(n)
            } else {
                Head::Map(n)
            })
        }
        0xdd | 0xdf => {
            let n = c.be(4)? as usize;
            c.pos += 5;
            Ok(if b == 0xdd {
                Head::Array(n)
            } else {
                Head::Map(n)
            })
        }
        0x00..=0x7f => push_int(f64::from(b), 0, c),
        0xe0..=0xff => push_int(f64::from(b as i8), 0, c),
        0xa0..=0xbf => push_str(l, c, 1, usize::from(b & 0x1f)).map(|()| Head::Done),
        0x90..=0x9f => {
            c.pos += 1;
            Ok(Head::Array(usize::from(b & 0xf)))
        }
        0x80..=0x8f => {
            c.pos += 1;
            Ok(Head::Map(usize::from(b & 0xf)))
        }
        _ => Err(DecodeError::BadFormat),
    }
}

/// Sets table[-3][key -2] = value -1, refusing the keys Lua refuses.
unsafe fn set_field(l: *mut ffi::lua_State) -> Result<(), DecodeError> {
    match ffi::lua_type(l, -2) {
        ffi::LUA_TNIL => return Err(DecodeError::Key("table index is nil")),
        ffi::LUA_TNUMBER if ffi::lua_tonumber(l, -2).is_nan() => {
            return Err(DecodeError::Key("table index is NaN"))
        }
        _ => {}
    }
    ffi::lua_rawset(l, -3);
    Ok(())
}

/// Decodes one value from `c` and pushes it (the values pushed so far stay on an error).
pub(super) unsafe fn decode_one(
    l: *mut ffi::lua_State,
    c: &mut Cursor<'_>,
) -> Result<(), DecodeError> {
    let mut stack: Vec<Frame> = Vec::new();
    loop {
        let mut completed = match decode_head(l, c)? {
            Head::Done => true,
            Head::Array(n) => {
                ffi::lua_createtable(l, 0, 0);
                if ffi::lua_checkstack(l, 1) == 0 {
                    return Err(DecodeError::Stack(c"in function mp_decode_to_lua_array"));
                }
                stack.push(Frame::Array { left: n, next: 1.0 });
                false
            }
            Head::Map(n) => {
                ffi::lua_createtable(l, 0, 0);
                stack.push(Frame::Map {
                    left: n,
                    key_done: false,
                });
                false
            }
        };
        // Find what to decode next: fill the containers the value just finished completes.
        loop {
            match stack.last_mut() {
                None => return Ok(()),
                Some(Frame::Array { left, next }) => {
                    if completed {
                        set_field(l)?;
                    }
                    if *left == 0 {
                        stack.pop();
                        completed = true;
                        continue;
                    }
                    *left -= 1;
                    ffi::lua_pushnumber(l, *next);
                    *next += 1.0;
                    break;
                }
                Some(Frame::Map { left, key_done }) => {
                    if completed {
                        if *key_done {
                            set_field(l)?;
                            *key_done = false;
                        } else {
                            *key_done = true;
                            break;
                        }
                    }
                    if *left == 0 {
                        stack.pop();
                        completed = true;
                        continue;
                    }
                    *left -= 1;
                    break;
                }
            }
        }
    }
}

/// `mp_unpack_full`: decodes up to `limit` values from `offset` (all of them when both are
/// 0) and returns the count of results it leaves on the stack.
unsafe fn unpack_full(
    l: *mut ffi::lua_State,
    limit: ffi::lua_Integer,
    offset: ffi::lua_Integer,
) -> c_int {
    let data = super::libs::check_bytes(l, 1);
    let len = data.len();
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        ffi::luaL_error(
            l,
            c"Invalid request to unpack with offset of %d and limit of %d.".as_ptr(),
            offset as c_int,
            len as c_int,
        );
    } else if offset as u64 > len as u64 {
        ffi::luaL_error(
            l,
            c"Start offset %d greater than input length %d.".as_ptr(),
            offset as c_int,
            len as c_int,
        );
    }
    let limit = if decode_all {
        ffi::lua_Integer::from(c_int::MAX)
    } else {
        limit
    };
    let mut cursor = Cursor {
        data,
        pos: offset as usize,
    };
    let mut count: c_int = 0;
    let mut failure = None;
    while cursor.left() > 0 && ffi::lua_Integer::from(count) < limit {
        if let Err(e) = decode_one(l, &mut cursor) {
            failure = Some(e);
            break;
        }
        count += 1;
    }
    if failure.is_some() {
        // The values decoded go with the error; their slots are room for its message.
        ffi::lua_settop(l, 0);
    }
    match failure {
        None => {}
        Some(DecodeError::Eof) => raise(l, b"Missing bytes in input."),
        Some(DecodeError::BadFormat) => raise(l, b"Bad data format in input."),
        Some(DecodeError::Stack(what)) => stack_overflow(l, what),
        Some(DecodeError::Key(msg)) => {
            ffi::lua_pushlstring(l, msg.as_ptr().cast(), msg.len());
            ffi::lua_error(l);
        }
    }
    if !decode_all {
        if ffi::lua_checkstack(l, 1) == 0 {
            stack_overflow(l, c"in function mp_unpack_full");
        }
        let next = if cursor.left() == 0 {
            -1
        } else {
            cursor.pos as ffi::lua_Integer
        };
        ffi::lua_pushinteger(l, next);
        ffi::lua_insert(l, 2);
        count += 1;
    }
    count
}

unsafe extern "C-unwind" fn mp_unpack(l: *mut ffi::lua_State) -> c_int {
    unpack_full(l, 0, 0)
}

unsafe extern "C-unwind" fn mp_unpack_one(l: *mut ffi::lua_State) -> c_int {
    let offset = ffi::luaL_optinteger(l, 2, 0);
    ffi::lua_settop(l, 1.min(ffi::lua_gettop(l)));
    unpack_full(l, 1, offset)
}

unsafe extern "C-unwind" fn mp_unpack_limit(l: *mut ffi::lua_State) -> c_int {
    let limit = ffi::luaL_checkinteger(l, 2);
    let offset = ffi::luaL_optinteger(l, 3, 0);
    ffi::lua_settop(l, 1);
    unpack_full(l, limit, offset)
}

#[cfg(test)]
mod tests {
    use mlua::{Lua, Table};

    /// A plain Lua with `cmsgpack` and `struct` as globals.
    fn lua() -> Lua {
        let lua = Lua::new();
        let libs = super::super::libs::build(&lua).expect("libs");
        for name in ["cmsgpack", "struct", "cjson"] {
            let t: Table = libs.get(name).expect("lib");
            lua.globals().set(name, t).expect("set");
        }
        lua
    }

    /// Runs `code` with `input` as the global `s`; answers its string result or the error.
    fn run(lua: &Lua, code: &str, input: &[u8]) -> Result<Vec<u8>, String> {
        lua.globals()
            .set("s", lua.create_string(input).expect("string"))
            .expect("set");
        lua.load(code)
            .eval::<mlua::String>()
            .map(|s| s.as_bytes().to_vec())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn packs_as_lua_cmsgpack_does() {
        let lua = lua();
        let cases: [(&str, &[u8]); 9] = [
            (
                "return cmsgpack.pack(1, -1, -33, 200)",
                b"\x01\xff\xd0\xdf\xcc\xc8",
            ),
            ("return cmsgpack.pack(1.5)", b"\xca\x3f\xc0\x00\x00"),
            (
                "return cmsgpack.pack(0.1)",
                b"\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a",
            ),
            (
                "return cmsgpack.pack(2^32)",
                b"\xcf\x00\x00\x00\x01\x00\x00\x00\x00",
            ),
            ("return cmsgpack.pack({1, 2})", b"\x92\x01\x02"),
            ("return cmsgpack.pack({[2] = 1})", b"\x81\x02\x01"),
            ("return cmsgpack.pack(true, false, nil)", b"\xc3\xc2\xc0"),
            ("return cmsgpack.pack('ab')", b"\xa2ab"),
            (
                "return cmsgpack.pack(string.rep('a', 32)):sub(1, 2)",
                b"\xd9\x20",
            ),
        ];
        for (code, want) in cases {
            assert_eq!(run(&lua, code, b"").as_deref(), Ok(want), "{code}");
        }
        // 16 levels at most: the 17th table is nil.
        let deep = run(
            &lua,
            "local t = {} local c = t for i = 1, 20 do c[1] = {} c = c[1] end return cmsgpack.pack(t)",
            b"",
        )
        .expect("packs");
        assert_eq!(deep, [&[0x91u8; 16][..], b"\xc0"].concat());
    }

    #[test]
    fn truncated_input_is_missing_bytes() {
        let lua = lua();
        let packed = run(
            &lua,
            "return cmsgpack.pack({1, 'abc', {x = 0.1, y = {true}}, string.rep('z', 300), 2^40})",
            b"",
        )
        .expect("packs");
        for end in 1..packed.len() {
            let prefix = packed.get(..end).unwrap_or_default();
            let r = run(&lua, "return tostring(cmsgpack.unpack(s))", prefix);
            let err = r.expect_err("a prefix cannot decode");
            assert!(err.contains("Missing bytes in input."), "{err}");
        }
        let whole = run(&lua, "return cmsgpack.pack(cmsgpack.unpack(s))", &packed);
        assert_eq!(whole.as_deref(), Ok(&packed[..]));
    }

    #[test]
    fn huge_declared_lengths_do_not_allocate() {
        let lua = lua();
        for input in [
            &b"\xdd\xff\xff\xff\xff"[..],
            b"\xdf\xff\xff\xff\xff",
            b"\xdb\xff\xff\xff\xff",
            b"\xdb\xff\xff\xff",
            b"\xda\xff\xff",
            b"\xd9\xff",
            b"\xdc\xff\xff\x01",
        ] {
            let err = run(&lua, "return tostring(cmsgpack.unpack(s))", input).expect_err("eof");
            assert!(err.contains("Missing bytes in input."), "{err}");
        }
        let err = run(&lua, "return tostring(cmsgpack.unpack(s))", b"\xc1").expect_err("bad");
        assert!(err.contains("Bad data format in input."), "{err}");
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let lua = lua();
        for byte in [0x91u8, 0x81, 0xdc] {
            let input = vec![byte; 200_000];
            let err = run(&lua, "return tostring(cmsgpack.unpack(s))", &input).expect_err("deep");
            assert!(
                err.contains("stack overflow") || err.contains("Missing bytes"),
                "{err}"
            );
        }
        let err =
            run(&lua, "return tostring(cmsgpack.unpack(s))", b"\x81\xc0\x01").expect_err("nil key");
        assert!(err.contains("table index is nil"), "{err}");
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let lua = lua();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..3000 {
            let len = (x % 24) as usize;
            let mut input = Vec::with_capacity(len);
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                input.push((x >> 24) as u8);
            }
            for code in [
                "return tostring(select('#', cmsgpack.unpack(s)))",
                "return tostring(cmsgpack.unpack_one(s, 1))",
                "return tostring(cmsgpack.unpack_limit(s, 2, 0))",
                "return tostring(select('#', struct.unpack(s, s)))",
                "return struct.pack(s, 1, 2, 'abc', 4)",
                "return tostring(struct.size(s))",
            ] {
                let _ = run(&lua, code, &input);
            }
        }
    }
}
