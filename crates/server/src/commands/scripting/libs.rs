//! The libraries Redis links into its Lua (`deps/lua/src/lua_bit.c`, `lua_cjson.c`,
//! `lua_cmsgpack.c`, `lua_struct.c`), written in Rust as Lua C functions over the raw API, so
//! their argument checks raise Lua's own messages (`bad argument #1 to 'tohex' (number
//! expected, got string)`).
//!
//! Discipline for these functions: Lua raises errors with `longjmp`, which must not cross a
//! Rust frame that owns something to drop. Each function checks its arguments with the Lua
//! API first, while it owns nothing; work that allocates runs in an inner function whose
//! result (owned) is pushed and dropped before any error is raised. The Lua API calls that
//! push values (cjson.decode's tables) can still raise in two cases: a finalizer that errors
//! while the collector runs, which scripts cannot create (no `newproxy`; a table's `__gc`
//! does nothing in Lua 5.1), and Lua running out of memory, which this state has no limit
//! for (the process would fail first).

use std::os::raw::c_int;

use mlua::{ffi, Lua, Table};

/// Builds `{bit = ..., cjson = ..., struct = ..., cmsgpack = ...}`.
pub fn build(lua: &Lua) -> mlua::Result<Table> {
    let libs = lua.create_table()?;
    let bit = lua.create_table()?;
    let fns: [(&str, ffi::lua_CFunction); 12] = [
        ("tobit", bit_tobit),
        ("bnot", bit_bnot),
        ("band", bit_band),
        ("bor", bit_bor),
        ("bxor", bit_bxor),
        ("lshift", bit_lshift),
        ("rshift", bit_rshift),
        ("arshift", bit_arshift),
        ("rol", bit_rol),
        ("ror", bit_ror),
        ("bswap", bit_bswap),
        ("tohex", bit_tohex),
    ];
    for (name, f) in fns {
        // SAFETY: each function follows the module's discipline.
        bit.raw_set(name, unsafe { lua.create_c_function(f)? })?;
    }
    libs.raw_set("bit", bit)?;
    super::cjson::register(lua, &libs)?;
    super::msgpack::register(lua, &libs)?;
    super::structlib::register(lua, &libs)?;
    Ok(libs)
}

/// C's `%.<precision>g`.
pub fn format_g(n: f64, precision: usize) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    if n.is_infinite() {
        return if n < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    let p = precision.max(1);
    if n == 0.0 {
        return if n.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let sci = format!("{:.*e}", p - 1, n);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let strip = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if exp < -4 || exp >= p as i64 {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{}{:02}", strip(mantissa), sign, exp.abs())
    } else {
        let decimals = (p as i64 - 1 - exp).max(0) as usize;
        strip(&format!("{:.*}", decimals, n))
    }
}

/// LuaBitOp's `barg`: the number's low 32 bits after adding 2^52+2^51 (so any number in
/// range wraps as an integer would).
unsafe fn barg(l: *mut ffi::lua_State, idx: c_int) -> u32 {
    let n = ffi::lua_tonumber(l, idx) + 6_755_399_441_055_744.0;
    let b = n.to_bits() as u32;
    if b == 0 && ffi::lua_isnumber(l, idx) == 0 {
        ffi::luaL_typerror(l, idx, c"number".as_ptr());
    }
    b
}

unsafe fn bret(l: *mut ffi::lua_State, b: u32) -> c_int {
    ffi::lua_pushnumber(l, f64::from(b as i32));
    1
}

unsafe extern "C-unwind" fn bit_tobit(l: *mut ffi::lua_State) -> c_int {
    bret(l, barg(l, 1))
}
unsafe extern "C-unwind" fn bit_bnot(l: *mut ffi::lua_State) -> c_int {
    bret(l, !barg(l, 1))
}
unsafe fn fold(l: *mut ffi::lua_State, op: fn(u32, u32) -> u32) -> c_int {
    let mut b = barg(l, 1);
    let mut i = ffi::lua_gettop(l);
    while i > 1 {
        b = op(b, barg(l, i));
        i -= 1;
    }
    bret(l, b)
}
unsafe extern "C-unwind" fn bit_band(l: *mut ffi::lua_State) -> c_int {
    fold(l, |a, b| a & b)
}
unsafe extern "C-unwind" fn bit_bor(l: *mut ffi::lua_State) -> c_int {
    fold(l, |a, b| a | b)
}
unsafe extern "C-unwind" fn bit_bxor(l: *mut ffi::lua_State) -> c_int {
    fold(l, |a, b| a ^ b)
}
unsafe fn shift(l: *mut ffi::lua_State, op: fn(u32, u32) -> u32) -> c_int {
    let b = barg(l, 1);
    let n = barg(l, 2) & 31;
    bret(l, op(b, n))
}
unsafe extern "C-unwind" fn bit_lshift(l: *mut ffi::lua_State) -> c_int {
    shift(l, |b, n| b << n)
}
unsafe extern "C-unwind" fn bit_rshift(l: *mut ffi::lua_State) -> c_int {
    shift(l, |b, n| b >> n)
}
unsafe extern "C-unwind" fn bit_arshift(l: *mut ffi::lua_State) -> c_int {
    shift(l, |b, n| ((b as i32) >> n) as u32)
}
unsafe extern "C-unwind" fn bit_rol(l: *mut ffi::lua_State) -> c_int {
    shift(l, |b, n| b.rotate_left(n))
}
unsafe extern "C-unwind" fn bit_ror(l: *mut ffi::lua_State) -> c_int {
    shift(l, |b, n| b.rotate_right(n))
}
unsafe extern "C-unwind" fn bit_bswap(l: *mut ffi::lua_State) -> c_int {
    bret(l, barg(l, 1).swap_bytes())
}
unsafe extern "C-unwind" fn bit_tohex(l: *mut ffi::lua_State) -> c_int {
    let mut b = barg(l, 1);
    let mut n: i32 = if ffi::lua_type(l, 2) == ffi::LUA_TNONE {
        8
    } else {
        barg(l, 2) as i32
    };
    let mut digits: &[u8; 16] = b"0123456789abcdef";
    if n < 0 {
        n = n.wrapping_neg();
        digits = b"0123456789ABCDEF";
    }
    let n = n.clamp(0, 8) as usize;
    let mut buf = [0u8; 8];
    for slot in buf.iter_mut().take(n).rev() {
        *slot = digits.get((b & 15) as usize).copied().unwrap_or(b'0');
        b >>= 4;
    }
    ffi::lua_pushlstring(l, buf.as_ptr().cast(), n);
    1
}

/// The C half of Redis's `pcall` (`luaRedisPcall`; the prelude's Lua half turns an error
/// table into its `err` text): the status slot is pushed before the call, so nothing is pushed
/// above the results. Stock Lua 5.1's `pcall` pushes its status above them without growing
/// the stack, harmless in a release build (the stack keeps spare slots) but fatal under the
/// API check of a debug build once a call returns about 20 values (`pcall(unpack, t)`,
/// `pcall(cmsgpack.unpack, s)`). Without arguments Redis calls the slot its placeholder was
/// copied into: `attempt to call a boolean value`.
pub unsafe extern "C-unwind" fn checked_pcall(l: *mut ffi::lua_State) -> c_int {
    let argc = ffi::lua_gettop(l);
    ffi::lua_pushboolean(l, 1);
    ffi::lua_insert(l, 1);
    if ffi::lua_pcall(l, argc - 1, ffi::LUA_MULTRET, 0) != 0 {
        ffi::lua_remove(l, 1);
        ffi::lua_pushboolean(l, 0);
        ffi::lua_insert(l, 1);
    }
    ffi::lua_gettop(l)
}

/// Lua's `xpcall` (`luaB_xpcall`), with its status slot pushed before the call as in
/// [`checked_pcall`], so nothing is pushed above the results.
pub unsafe extern "C-unwind" fn checked_xpcall(l: *mut ffi::lua_State) -> c_int {
    ffi::luaL_checkany(l, 2);
    ffi::lua_settop(l, 2);
    // [handler, function], then [status, handler, function].
    ffi::lua_insert(l, 1);
    ffi::lua_pushboolean(l, 1);
    ffi::lua_insert(l, 1);
    if ffi::lua_pcall(l, 0, ffi::LUA_MULTRET, 2) != 0 {
        // [status, handler, error]: one slot is free once the status is removed.
        ffi::lua_remove(l, 1);
        ffi::lua_pushboolean(l, 0);
        ffi::lua_insert(l, 1);
    }
    ffi::lua_remove(l, 2);
    ffi::lua_gettop(l)
}

/// The string at `idx` (a number is converted in place, as `lua_tolstring` does); `None`
/// for any other value. Borrowed from Lua: valid while the value stays on the stack.
pub unsafe fn string_at<'a>(l: *mut ffi::lua_State, idx: c_int) -> Option<&'a [u8]> {
    let mut len = 0usize;
    let p = ffi::lua_tolstring(l, idx, &mut len);
    if p.is_null() {
        return None;
    }
    Some(std::slice::from_raw_parts(p.cast(), len))
}

/// `luaL_checklstring`: the string argument `arg`, or Lua's argument error.
pub unsafe fn check_bytes<'a>(l: *mut ffi::lua_State, arg: c_int) -> &'a [u8] {
    let mut len = 0usize;
    let p = ffi::luaL_checklstring(l, arg, &mut len);
    if p.is_null() {
        return &[];
    }
    std::slice::from_raw_parts(p.cast(), len)
}

/// Raises `msg` as a Lua error with the caller's position (`luaL_error`'s form). `msg` is
/// copied into Lua and, when owned, freed before the jump; the caller must own nothing else.
pub unsafe fn raise(l: *mut ffi::lua_State, msg: impl AsRef<[u8]>) -> ! {
    ffi::luaL_where(l, 1);
    let text = msg.as_ref();
    ffi::lua_pushlstring(l, text.as_ptr().cast(), text.len());
    // An owned message is freed before the jump, which runs no destructor.
    drop(msg);
    ffi::lua_concat(l, 2);
    ffi::lua_error(l)
}
