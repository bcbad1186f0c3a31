//! `struct` as Redis links it (Roberto Ierusalimschy's lua_struct 0.2, `deps/lua/src/lua_struct.c`):
//! `pack`, `unpack` and `size` over its format language (`<` `>` `!n` endianness and
//! alignment, `b B h H l L T i[n] I[n] f d s c[n] x`, spaces), on a little-endian x86-64
//! (`long` and `size_t` are 8 bytes, the default alignment 8), with its error messages.
//!
//! Formats and data come from scripts: every read is checked against the bytes present, and a
//! size a format declares (`c100000000`) is only compared with the string given, never
//! allocated.

use std::ffi::CStr;
use std::os::raw::c_int;

use mlua::{ffi, Lua, Table};

/// `MAXINTSIZE`: the largest `i`/`I` size.
const MAX_INT_SIZE: i32 = 32;
/// `MAXALIGN` on x86-64: `!` without a number.
const MAX_ALIGN: i32 = 8;

/// Adds `struct` to `libs`.
pub fn register(lua: &Lua, libs: &Table) -> mlua::Result<()> {
    let t = lua.create_table()?;
    let fns: [(&str, ffi::lua_CFunction); 3] =
        [("pack", st_pack), ("unpack", st_unpack), ("size", st_size)];
    for (name, f) in fns {
        // SAFETY: each function follows the discipline of `libs`.
        t.raw_set(name, unsafe { lua.create_c_function(f)? })?;
    }
    libs.raw_set("struct", t)?;
    Ok(())
}

/// An error, raised once nothing Rust owns is alive.
enum Error {
    /// `luaL_typerror(arg, what)`.
    Type(c_int, &'static CStr),
    /// `luaL_argerror(arg, msg)`.
    Arg(c_int, &'static CStr),
    /// `invalid format option 'c'`, an argument error on the format.
    Option(u8),
    /// `integral size overflow`.
    SizeOverflow,
    /// `integral size N is larger than limit of 32`.
    SizeLimit(i32),
    /// `alignment N is not a power of 2`.
    Alignment(i32),
    /// `format 'c0' needs a previous size`.
    NeedsSize,
    /// `unfinished string in data`.
    Unfinished,
    /// `luaL_checkstack` failed.
    TooMany,
}

unsafe fn raise_error(l: *mut ffi::lua_State, e: Error) -> ! {
    match e {
        Error::Type(arg, what) => {
            ffi::luaL_typerror(l, arg, what.as_ptr());
        }
        Error::Arg(arg, msg) => {
            ffi::luaL_argerror(l, arg, msg.as_ptr());
        }
        Error::Option(opt) => {
            let msg = ffi::lua_pushfstring(
                l,
                c"invalid format option '%c'".as_ptr(),
                c_int::from(opt as i8),
            );
            ffi::luaL_argerror(l, 1, msg);
        }
        Error::SizeOverflow => {
            ffi::luaL_error(l, c"integral size overflow".as_ptr());
        }
        Error::SizeLimit(n) => {
            ffi::luaL_error(
                l,
                c"integral size %d is larger than limit of %d".as_ptr(),
                n as c_int,
                MAX_INT_SIZE as c_int,
            );
        }
        Error::Alignment(n) => {
            ffi::luaL_error(l, c"alignment %d is not a power of 2".as_ptr(), n as c_int);
        }
        Error::NeedsSize => {
            ffi::luaL_error(l, c"format 'c0' needs a previous size".as_ptr());
        }
        Error::Unfinished => {
            ffi::luaL_error(l, c"unfinished string in data".as_ptr());
        }
        Error::TooMany => {
            ffi::luaL_error(
                l,
                c"stack overflow (%s)".as_ptr(),
                c"too many results".as_ptr(),
            );
        }
    }
    ffi::lua_error(l)
}

/// Endianness and alignment (`Header`).
struct Header {
    little: bool,
    align: usize,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            little: true,
            align: 1,
        }
    }
}

/// The format string, as C reads it (up to its first NUL).
struct Format<'a> {
    fmt: &'a [u8],
    pos: usize,
}

impl Format<'_> {
    fn peek(&self) -> u8 {
        self.fmt.get(self.pos).copied().unwrap_or(0)
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.fmt.get(self.pos).copied().filter(|&c| c != 0)?;
        self.pos += 1;
        Some(c)
    }

    /// `getnum`: the digits that follow, or `default`.
    fn number(&mut self, default: i32) -> Result<i32, Error> {
        if !self.peek().is_ascii_digit() {
            return Ok(default);
        }
        let mut a: i32 = 0;
        while self.peek().is_ascii_digit() {
            let d = i32::from(self.peek() - b'0');
            if a > i32::MAX / 10 || a * 10 > i32::MAX - d {
                return Err(Error::SizeOverflow);
            }
            a = a * 10 + d;
            self.pos += 1;
        }
        Ok(a)
    }

    /// `optsize`: the size an option takes (reading its number).
    fn size(&mut self, opt: u8) -> Result<usize, Error> {
        Ok(match opt {
            b'B' | b'b' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'x' => 1,
            b'c' => self.number(1)? as usize,
            b'i' | b'I' => {
                let sz = self.number(4)?;
                if sz > MAX_INT_SIZE {
                    return Err(Error::SizeLimit(sz));
                }
                sz as usize
            }
            _ => 0,
        })
    }

    /// `controloptions`: an option that sets the header (or an unknown one).
    fn control(&mut self, opt: u8, h: &mut Header) -> Result<(), Error> {
        match opt {
            b' ' => {}
            b'>' => h.little = false,
            b'<' => h.little = true,
            b'!' => {
                let a = self.number(MAX_ALIGN)?;
                if a <= 0 || a & (a - 1) != 0 {
                    return Err(Error::Alignment(a));
                }
                h.align = a as usize;
            }
            _ => return Err(Error::Option(opt)),
        }
        Ok(())
    }
}

/// `gettoalign`: the padding before an item of `size` at `len`.
fn to_align(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    size.wrapping_sub(len & size.wrapping_sub(1)) & size.wrapping_sub(1)
}

/// C's `(unsigned long)d` for `d >= 0` (or NaN) on x86-64.
fn c_u64(d: f64) -> u64 {
    if d.is_nan() {
        1 << 63
    } else if d < 9_223_372_036_854_775_808.0 {
        d as i64 as u64
    } else if d < 18_446_744_073_709_551_616.0 {
        d as u64
    } else {
        0
    }
}

unsafe fn arg_bytes<'a>(l: *mut ffi::lua_State, arg: c_int) -> Option<&'a [u8]> {
    super::libs::string_at(l, arg)
}

unsafe fn check_number(l: *mut ffi::lua_State, arg: c_int) -> Result<f64, Error> {
    let d = ffi::lua_tonumber(l, arg);
    if d == 0.0 && ffi::lua_isnumber(l, arg) == 0 {
        return Err(Error::Type(arg, c"number"));
    }
    Ok(d)
}

unsafe fn check_format<'a>(l: *mut ffi::lua_State) -> Format<'a> {
    let p = ffi::luaL_checklstring(l, 1, std::ptr::null_mut());
    let fmt = if p.is_null() {
        &[][..]
    } else {
        CStr::from_ptr(p).to_bytes()
    };
    Format { fmt, pos: 0 }
}

/// Packs the arguments after the format into `out`.
unsafe fn pack_into(
    l: *mut ffi::lua_State,
    f: &mut Format<'_>,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let mut h = Header::default();
    let mut arg: c_int = 2;
    let mut total = 0usize;
    while let Some(opt) = f.next() {
        let mut size = f.size(opt)?;
        let pad = to_align(total, &h, opt, size);
        total = total.wrapping_add(pad);
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = check_number(l, arg)?;
                arg += 1;
                let mut value = if n < 0.0 {
                    super::msgpack::c_i64(n) as u64
                } else {
                    c_u64(n)
                };
                let mut bytes = [0u8; MAX_INT_SIZE as usize];
                let field = bytes.get_mut(..size).unwrap_or_default();
                for i in 0..field.len() {
                    let at = if h.little { i } else { field.len() - 1 - i };
                    if let Some(b) = field.get_mut(at) {
                        *b = value as u8;
                    }
                    value >>= 8;
                }
                out.extend_from_slice(field);
            }
            b'x' => out.push(0),
            b'f' => {
                let v = check_number(l, arg)? as f32;
                arg += 1;
                out.extend_from_slice(&if h.little {
                    v.to_le_bytes()
                } else {
                    v.to_be_bytes()
                });
            }
            b'd' => {
                let v = check_number(l, arg)?;
                arg += 1;
                out.extend_from_slice(&if h.little {
                    v.to_le_bytes()
                } else {
                    v.to_be_bytes()
                });
            }
            b'c' | b's' => {
                let s = arg_bytes(l, arg).ok_or(Error::Type(arg, c"string"))?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                // lua_struct checks with the argument number already advanced.
                let piece = s.get(..size).ok_or(Error::Arg(arg, c"string too short"))?;
                out.extend_from_slice(piece);
                if opt == b's' {
                    out.push(0);
                    size += 1;
                }
            }
            _ => f.control(opt, &mut h)?,
        }
        total = total.wrapping_add(size);
    }
    Ok(())
}

unsafe extern "C-unwind" fn st_pack(l: *mut ffi::lua_State) -> c_int {
    let mut f = check_format(l);
    // lua_struct's mark between the arguments and its buffer: a missing argument reads as
    // this nil (`number expected, got nil`). The string pieces its buffer would push past
    // 8 KiB are not reproduced: an argument past the mark is `no value` here.
    ffi::lua_pushnil(l);
    let result = {
        let mut out = Vec::new();
        pack_into(l, &mut f, &mut out).map(|()| out)
    };
    match result {
        Ok(out) => {
            ffi::lua_pushlstring(l, out.as_ptr().cast(), out.len());
            drop(out);
            1
        }
        Err(e) => raise_error(l, e),
    }
}

/// `getinteger`: `size` bytes as a number (only the last 8 significant bytes count).
fn get_integer(bytes: &[u8], little: bool, signed: bool) -> f64 {
    let mut v: u64 = 0;
    let mut add = |b: u8| v = (v << 8) | u64::from(b);
    if little {
        bytes.iter().rev().for_each(|&b| add(b));
    } else {
        bytes.iter().for_each(|&b| add(b));
    }
    if !signed {
        return v as f64;
    }
    let shift = (bytes.len() as u32).wrapping_mul(8).wrapping_sub(1);
    let mask = u64::MAX.wrapping_shl(shift);
    if v & mask != 0 {
        v |= mask;
    }
    v as i64 as f64
}

/// Pushes the values `data` holds per the format; answers how many.
unsafe fn unpack_into(
    l: *mut ffi::lua_State,
    f: &mut Format<'_>,
    data: &[u8],
    mut pos: usize,
) -> Result<(c_int, usize), Error> {
    let mut h = Header::default();
    let mut n: c_int = 0;
    let ld = data.len();
    let too_short = Error::Arg(2, c"data string too short");
    while let Some(opt) = f.next() {
        let mut size = f.size(opt)?;
        pos = pos.wrapping_add(to_align(pos, &h, opt, size));
        if !(size <= ld && pos <= ld - size) {
            return Err(too_short);
        }
        if ffi::lua_checkstack(l, 2) == 0 {
            return Err(Error::TooMany);
        }
        let field = data.get(pos..pos + size).unwrap_or_default();
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let v = get_integer(field, h.little, opt.is_ascii_lowercase());
                ffi::lua_pushnumber(l, v);
                n += 1;
            }
            b'x' => {}
            b'f' => {
                let mut b = [0u8; 4];
                b.copy_from_slice(field.get(..4).unwrap_or(&[0; 4]));
                let v = if h.little {
                    f32::from_le_bytes(b)
                } else {
                    f32::from_be_bytes(b)
                };
                ffi::lua_pushnumber(l, f64::from(v));
                n += 1;
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(field.get(..8).unwrap_or(&[0; 8]));
                let v = if h.little {
                    f64::from_le_bytes(b)
                } else {
                    f64::from_be_bytes(b)
                };
                ffi::lua_pushnumber(l, v);
                n += 1;
            }
            b'c' => {
                if size == 0 {
                    if n == 0 || ffi::lua_isnumber(l, -1) == 0 {
                        return Err(Error::NeedsSize);
                    }
                    let d = ffi::lua_tonumber(l, -1);
                    size = if d < 0.0 {
                        super::msgpack::c_i64(d) as u64
                    } else {
                        c_u64(d)
                    } as usize;
                    ffi::lua_pop(l, 1);
                    n -= 1;
                    if !(size <= ld && pos <= ld - size) {
                        return Err(Error::Arg(2, c"data string too short"));
                    }
                }
                let s = data.get(pos..pos + size).unwrap_or_default();
                ffi::lua_pushlstring(l, s.as_ptr().cast(), s.len());
                n += 1;
            }
            b's' => {
                let rest = data.get(pos..).unwrap_or_default();
                let end = rest.iter().position(|&b| b == 0).ok_or(Error::Unfinished)?;
                let s = rest.get(..end).unwrap_or_default();
                ffi::lua_pushlstring(l, s.as_ptr().cast(), s.len());
                n += 1;
                size = end + 1;
            }
            _ => f.control(opt, &mut h)?,
        }
        pos = pos.wrapping_add(size);
    }
    Ok((n, pos))
}

unsafe extern "C-unwind" fn st_unpack(l: *mut ffi::lua_State) -> c_int {
    let mut f = check_format(l);
    let data = super::libs::check_bytes(l, 2);
    let pos = ffi::luaL_optinteger(l, 3, 1) as usize;
    if pos == 0 {
        ffi::luaL_argerror(l, 3, c"offset must be 1 or greater".as_ptr());
    }
    match unpack_into(l, &mut f, data, pos - 1) {
        Ok((n, pos)) => {
            ffi::lua_pushinteger(l, pos.wrapping_add(1) as ffi::lua_Integer);
            n + 1
        }
        Err(e) => raise_error(l, e),
    }
}

fn size_of(f: &mut Format<'_>) -> Result<usize, Error> {
    let mut h = Header::default();
    let mut pos = 0usize;
    while let Some(opt) = f.next() {
        let size = f.size(opt)?;
        pos = pos.wrapping_add(to_align(pos, &h, opt, size));
        if opt == b's' {
            return Err(Error::Arg(1, c"option 's' has no fixed size"));
        } else if opt == b'c' && size == 0 {
            return Err(Error::Arg(1, c"option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            f.control(opt, &mut h)?;
        }
        pos = pos.wrapping_add(size);
    }
    Ok(pos)
}

unsafe extern "C-unwind" fn st_size(l: *mut ffi::lua_State) -> c_int {
    let mut f = check_format(l);
    match size_of(&mut f) {
        Ok(n) => {
            ffi::lua_pushinteger(l, n as ffi::lua_Integer);
            1
        }
        Err(e) => raise_error(l, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_read_as_lua_struct_reads_them() {
        assert_eq!(get_integer(&[0xff, 0xff], true, true), -1.0);
        assert_eq!(get_integer(&[0xff, 0xff], true, false), 65535.0);
        assert_eq!(get_integer(&[0x01, 0x02], false, false), 258.0);
        assert_eq!(get_integer(&[], true, true), 0.0);
        let wide = [0xffu8; 32];
        assert_eq!(get_integer(&wide, true, true), -1.0);
    }

    #[test]
    fn sizes_and_hostile_formats() {
        let mut f = Format {
            fmt: b"<i4 !4 d c10",
            pos: 0,
        };
        assert_eq!(size_of(&mut f).ok(), Some(22));
        let mut f = Format {
            fmt: b"i99999999999",
            pos: 0,
        };
        assert!(matches!(size_of(&mut f), Err(Error::SizeOverflow)));
        let mut f = Format { fmt: b"!3", pos: 0 };
        assert!(matches!(size_of(&mut f), Err(Error::Alignment(3))));
        let mut f = Format {
            fmt: b"c2147483647c2147483647",
            pos: 0,
        };
        assert!(size_of(&mut f).is_ok());
    }

    #[test]
    fn alignment_is_lua_structs() {
        let h = Header {
            little: true,
            align: 8,
        };
        assert_eq!(to_align(1, &h, b'd', 8), 7);
        assert_eq!(to_align(1, &h, b'i', 3), 2);
        assert_eq!(to_align(5, &h, b'c', 8), 0);
    }
}
