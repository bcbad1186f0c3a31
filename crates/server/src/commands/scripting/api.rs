//! The Rust halves of the `redis` table (Redis's `luaRegisterRedisAPI`) and the
//! deterministic `math.random`. Functions that raise answer `(value, error)`: the prelude's
//! wrapper raises the error from Lua, so it names the script's line as Redis's C functions do.

use std::os::raw::c_int;
use std::sync::atomic::{AtomicU64, Ordering};

use mlua::{ffi, Lua, MultiValue, Table, Value};

use super::engine::{error_table, sha1_hex, RunCtx};

/// `(value, error)` as the prelude's `raising` wrapper expects it.
type Answer = (Value, Value);

fn raise(lua: &Lua, text: &str) -> mlua::Result<Answer> {
    Ok((
        Value::Nil,
        Value::Table(error_table(lua, text.as_bytes(), false)?),
    ))
}

fn fine(v: Value) -> mlua::Result<Answer> {
    Ok((v, Value::Nil))
}

/// Redis's `lua_tonumber` of a value: numbers and numeric strings, otherwise 0.
fn to_number(lua: &Lua, v: Option<&Value>) -> f64 {
    v.and_then(|v| lua.coerce_number(v.clone()).ok().flatten())
        .unwrap_or(0.0)
}

/// Builds `{raising = {...}, plain = {...}, constants = {...}, math_random, math_randomseed}`.
pub fn build(lua: &Lua) -> mlua::Result<Table> {
    let api = lua.create_table()?;
    let raising = lua.create_table()?;
    let plain = lua.create_table()?;
    let constants = lua.create_table()?;

    raising.raw_set(
        "setresp",
        lua.create_function(|lua, args: MultiValue| {
            if lua.app_data_ref::<RunCtx>().is_none() {
                return raise(
                    lua,
                    "redis.setresp can only be called inside a script invocation",
                );
            }
            if args.len() != 1 {
                return raise(lua, "redis.setresp() requires one argument.");
            }
            let resp = to_number(lua, args.front()) as i64;
            if resp != 2 && resp != 3 {
                return raise(lua, "RESP version must be 2 or 3.");
            }
            if let Some(mut run) = lua.app_data_mut::<RunCtx>() {
                run.resp3 = resp == 3;
            }
            fine(Value::Nil)
        })?,
    )?;
    raising.raw_set(
        "log",
        lua.create_function(|lua, args: MultiValue| {
            if args.len() < 2 {
                return raise(lua, "redis.log() requires two arguments or more.");
            }
            let first = args.front();
            let numeric = first.is_some_and(|v| {
                matches!(v, Value::Integer(_) | Value::Number(_))
                    || lua.coerce_number(v.clone()).ok().flatten().is_some()
            });
            if !numeric {
                return raise(lua, "First argument must be a number (log level).");
            }
            let level = to_number(lua, first) as i64;
            if !(0..=3).contains(&level) {
                return raise(lua, "Invalid debug level.");
            }
            let mut text = Vec::new();
            for (i, v) in args.iter().skip(1).enumerate() {
                let s = match v {
                    Value::String(s) => s.as_bytes().to_vec(),
                    Value::Integer(n) => n.to_string().into_bytes(),
                    Value::Number(n) => lua_number_text(*n).into_bytes(),
                    _ => continue,
                };
                if i != 0 {
                    text.push(b' ');
                }
                text.extend_from_slice(&s);
            }
            let text = String::from_utf8_lossy(&text);
            match level {
                3 => tracing::warn!(target: "respect::script", "{text}"),
                2 => tracing::info!(target: "respect::script", "{text}"),
                _ => tracing::debug!(target: "respect::script", "{text}"),
            }
            fine(Value::Nil)
        })?,
    )?;
    raising.raw_set(
        "sha1hex",
        lua.create_function(|lua, args: MultiValue| {
            if args.len() != 1 {
                return raise(lua, "wrong number of arguments");
            }
            let digest = match args.front() {
                Some(Value::String(s)) => sha1_hex(&s.as_bytes()),
                Some(Value::Integer(n)) => sha1_hex(n.to_string().as_bytes()),
                Some(Value::Number(n)) => sha1_hex(lua_number_text(*n).as_bytes()),
                _ => sha1_hex(b""),
            };
            fine(Value::String(lua.create_string(&digest)?))
        })?,
    )?;
    raising.raw_set(
        "set_repl",
        lua.create_function(|lua, args: MultiValue| {
            if lua.app_data_ref::<RunCtx>().is_none() {
                return raise(
                    lua,
                    "redis.set_repl can only be called inside a script invocation",
                );
            }
            if args.len() != 1 {
                return raise(lua, "redis.set_repl() requires two arguments.");
            }
            let flags = to_number(lua, args.front()) as i64;
            if flags & !3 != 0 {
                return raise(
                    lua,
                    "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
                );
            }
            fine(Value::Nil)
        })?,
    )?;
    raising.raw_set(
        "acl_check_cmd",
        lua.create_function(|lua, args: MultiValue| {
            if lua.app_data_ref::<RunCtx>().is_none() {
                return raise(
                    lua,
                    "redis.acl_check_cmd can only be called inside a script invocation",
                );
            }
            let name = match args.front() {
                None => {
                    return raise(
                        lua,
                        "Please specify at least one argument for this redis lib call",
                    )
                }
                Some(Value::String(s)) => s.as_bytes().to_vec(),
                Some(Value::Integer(n)) => n.to_string().into_bytes(),
                Some(Value::Number(n)) => n.to_string().into_bytes(),
                Some(_) => {
                    return raise(
                        lua,
                        "Lua redis lib command arguments must be strings or integers",
                    )
                }
            };
            let known = crate::commands::dispatch::lookup(&name).is_some_and(|c| {
                c.spec.subcommands.is_empty()
                    || match args.get(1) {
                        Some(Value::String(sub)) => {
                            crate::commands::dispatch::lookup_subcommand(&c.spec, &sub.as_bytes())
                                .is_some()
                        }
                        _ => true,
                    }
            });
            if !known {
                return raise(lua, "Invalid command passed to redis.acl_check_cmd()");
            }
            let mut argv = Vec::with_capacity(args.len());
            for arg in &args {
                argv.push(match arg {
                    Value::String(s) => s.as_bytes().to_vec(),
                    Value::Integer(n) => n.to_string().into_bytes(),
                    Value::Number(n) => lua_number_text(*n).into_bytes(),
                    _ => {
                        return raise(
                            lua,
                            "Lua redis lib command arguments must be strings or integers",
                        )
                    }
                });
            }
            let spec = crate::commands::dispatch::lookup(&name).and_then(|c| {
                if c.spec.subcommands.is_empty() {
                    Some(&c.spec)
                } else {
                    // Redis's lookupCommand: a container alone is itself.
                    argv.get(1).map_or(Some(&c.spec), |sub| {
                        crate::commands::dispatch::lookup_subcommand(&c.spec, sub)
                    })
                }
            });
            let allowed = match (spec, lua.app_data_ref::<RunCtx>()) {
                (Some(spec), Some(run)) => crate::acl::check(&run.user, spec, &argv).is_ok(),
                _ => false,
            };
            fine(Value::Boolean(allowed))
        })?,
    )?;

    plain.raw_set(
        "error_reply",
        lua.create_function(|lua, args: MultiValue| match (args.len(), args.front()) {
            (1, Some(Value::String(s))) => {
                let text = s.as_bytes();
                let text = if text.starts_with(b"-") {
                    text.to_vec()
                } else {
                    [&b"-"[..], &text].concat()
                };
                Ok(Value::Table(error_table(lua, &text, false)?))
            }
            _ => Ok(Value::Table(error_table(
                lua,
                b"wrong number or type of arguments",
                false,
            )?)),
        })?,
    )?;
    plain.raw_set(
        "status_reply",
        lua.create_function(|lua, args: MultiValue| match (args.len(), args.front()) {
            (1, Some(Value::String(s))) => {
                let t = lua.create_table()?;
                t.raw_set("ok", s.clone())?;
                Ok(Value::Table(t))
            }
            _ => Ok(Value::Table(error_table(
                lua,
                b"wrong number or type of arguments",
                false,
            )?)),
        })?,
    )?;
    plain.raw_set(
        "replicate_commands",
        lua.create_function(|_, _: MultiValue| Ok(true))?,
    )?;
    plain.raw_set(
        "breakpoint",
        lua.create_function(|_, _: MultiValue| Ok(false))?,
    )?;
    plain.raw_set("debug", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
    api.raw_set(
        "killed",
        lua.create_function(|lua, ()| {
            Ok(lua
                .app_data_ref::<std::sync::Arc<super::Status>>()
                .is_some_and(|s| s.kill.load(Ordering::Acquire)))
        })?,
    )?;

    constants.raw_set("LOG_DEBUG", 0)?;
    constants.raw_set("LOG_VERBOSE", 1)?;
    constants.raw_set("LOG_NOTICE", 2)?;
    constants.raw_set("LOG_WARNING", 3)?;
    constants.raw_set("REPL_NONE", 0)?;
    constants.raw_set("REPL_AOF", 1)?;
    constants.raw_set("REPL_SLAVE", 2)?;
    constants.raw_set("REPL_REPLICA", 2)?;
    constants.raw_set("REPL_ALL", 3)?;
    constants.raw_set("REDIS_VERSION", "7.0.15")?;
    constants.raw_set("REDIS_VERSION_NUM", 0x0007_000f)?;

    api.raw_set("raising", raising)?;
    api.raw_set("plain", plain)?;
    api.raw_set("constants", constants)?;
    // SAFETY: C functions that use only the Lua API on their own stack (see `libs`).
    unsafe {
        api.raw_set("make", lua.create_c_function(make_wrapper)?)?;
        api.raw_set("guarded", lua.create_c_function(make_guarded)?)?;
        api.raw_set("math_random", lua.create_c_function(math_random)?)?;
        api.raw_set("math_randomseed", lua.create_c_function(math_randomseed)?)?;
    }
    Ok(api)
}

/// How Lua 5.1 writes a number (`%.14g`).
pub fn lua_number_text(n: f64) -> String {
    super::libs::format_g(n, 14)
}

/// The state of Redis's `redisLrand48` (the 48-bit `drand48` generator), process-wide as in
/// Redis; its initial value is `drand48`'s.
static RAND48: AtomicU64 = AtomicU64::new(0x1234_ABCD_330E);

fn lrand48() -> i32 {
    let step = |x: u64| x.wrapping_mul(0x5_DEEC_E66D).wrapping_add(0xB) & 0xFFFF_FFFF_FFFF;
    let prev = RAND48
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |x| Some(step(x)))
        .unwrap_or(0);
    ((step(prev) >> 17) & 0x7FFF_FFFF) as i32
}

/// `math.random` as Redis replaces it: Lua's own, over `redisLrand48`.
unsafe extern "C-unwind" fn math_random(l: *mut ffi::lua_State) -> c_int {
    const MAX: f64 = i32::MAX as f64;
    let r = f64::from(lrand48() % i32::MAX) / MAX;
    match ffi::lua_gettop(l) {
        0 => ffi::lua_pushnumber(l, r),
        1 => {
            let u = ffi::luaL_checkinteger(l, 1) as c_int;
            if u < 1 {
                ffi::luaL_argerror(l, 1, c"interval is empty".as_ptr());
            }
            ffi::lua_pushnumber(l, (r * f64::from(u)).floor() + 1.0);
        }
        2 => {
            let lo = ffi::luaL_checkinteger(l, 1) as c_int;
            let up = ffi::luaL_checkinteger(l, 2) as c_int;
            if lo > up {
                ffi::luaL_argerror(l, 2, c"interval is empty".as_ptr());
            }
            let span = f64::from(up) - f64::from(lo) + 1.0;
            ffi::lua_pushnumber(l, (r * span).floor() + f64::from(lo));
        }
        _ => {
            ffi::luaL_error(l, c"wrong number of arguments".as_ptr());
        }
    }
    1
}

/// `math.randomseed`: seeds `redisLrand48` as `redisSrand48` does.
unsafe extern "C-unwind" fn math_randomseed(l: *mut ffi::lua_State) -> c_int {
    let seed = ffi::luaL_checkinteger(l, 1) as i32 as u32;
    RAND48.store((u64::from(seed) << 16) | 0x330E, Ordering::Relaxed);
    0
}

/// `make(f, kind)`: a C closure over `f` (see the prelude): kind 0 calls `f` and raises the
/// error of its `(value, error)` answer (a table as it is, a string with the caller's
/// position, as `luaL_error`); 1 and 2 are `redis.call` and `redis.pcall` over the dispatch
/// slot table `f` (its `current` field is the running script's dispatcher).
unsafe extern "C-unwind" fn make_wrapper(l: *mut ffi::lua_State) -> c_int {
    let kind = ffi::lua_tonumber(l, 2) as i32;
    ffi::lua_settop(l, 1);
    let f: ffi::lua_CFunction = match kind {
        1 => redis_call,
        2 => redis_pcall,
        _ => raising,
    };
    ffi::lua_pushcclosure(l, f, 1);
    1
}

/// `guarded(sealed, kind)`: `rawset` (kind 0) or `setmetatable` (kind 1) as C closures that
/// refuse the tables in the weak set `sealed`, standing in for Redis's read-only tables (its
/// Lua refuses them inside `lua_rawset` and `lua_setmetatable`). C, not Lua: an argument
/// error then names the script's line, and a tail call keeps the script's frame, as Redis's
/// built-ins do.
unsafe extern "C-unwind" fn make_guarded(l: *mut ffi::lua_State) -> c_int {
    ffi::lua_settop(l, 2);
    let f: ffi::lua_CFunction = if ffi::lua_tointeger(l, 2) == 1 {
        guarded_setmetatable
    } else {
        guarded_rawset
    };
    ffi::lua_settop(l, 1);
    ffi::lua_pushcclosure(l, f, 1);
    1
}

/// Whether the table at `idx` is in the closure's sealed set.
unsafe fn is_sealed(l: *mut ffi::lua_State, idx: c_int) -> bool {
    ffi::lua_pushvalue(l, idx);
    ffi::lua_rawget(l, ffi::lua_upvalueindex(1));
    let sealed = ffi::lua_toboolean(l, -1) != 0;
    ffi::lua_pop(l, 1);
    sealed
}

/// Raises Redis's read-only error without a position (its Lua raises it from C).
unsafe fn refuse_readonly(l: *mut ffi::lua_State) -> ! {
    ffi::lua_settop(l, 0);
    let msg = b"Attempt to modify a readonly table";
    ffi::lua_pushlstring(l, msg.as_ptr().cast(), msg.len());
    ffi::lua_error(l);
}

unsafe extern "C-unwind" fn guarded_rawset(l: *mut ffi::lua_State) -> c_int {
    ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
    ffi::luaL_checkany(l, 2);
    ffi::luaL_checkany(l, 3);
    if is_sealed(l, 1) {
        refuse_readonly(l);
    }
    ffi::lua_settop(l, 3);
    ffi::lua_rawset(l, 1);
    1
}

unsafe extern "C-unwind" fn guarded_setmetatable(l: *mut ffi::lua_State) -> c_int {
    let t = ffi::lua_type(l, 2);
    ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
    if t != ffi::LUA_TNIL && t != ffi::LUA_TTABLE {
        ffi::luaL_argerror(l, 2, c"nil or table expected".as_ptr());
    }
    if is_sealed(l, 1) {
        refuse_readonly(l);
    }
    if ffi::luaL_getmetafield(l, 1, c"__metatable".as_ptr()) != 0 {
        ffi::luaL_error(l, c"cannot change a protected metatable".as_ptr());
    }
    ffi::lua_settop(l, 2);
    ffi::lua_setmetatable(l, 1);
    1
}

unsafe extern "C-unwind" fn raising(l: *mut ffi::lua_State) -> c_int {
    let n = ffi::lua_gettop(l);
    ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
    ffi::lua_insert(l, 1);
    ffi::lua_call(l, n, 2);
    if ffi::lua_isnil(l, -1) == 0 {
        if ffi::lua_istable(l, -1) == 0 {
            ffi::luaL_where(l, 1);
            ffi::lua_insert(l, -2);
            ffi::lua_concat(l, 2);
        }
        ffi::lua_error(l);
    }
    ffi::lua_pop(l, 1);
    1
}

/// Pushes the running script's dispatcher, or raises Redis's error outside a script.
unsafe fn push_dispatcher(l: *mut ffi::lua_State) {
    ffi::lua_getfield(l, ffi::lua_upvalueindex(1), c"current".as_ptr());
    if ffi::lua_isnil(l, -1) != 0 {
        ffi::lua_pop(l, 1);
        ffi::lua_createtable(l, 0, 1);
        let msg = b"ERR redis.call/pcall can only be called inside a script invocation";
        ffi::lua_pushlstring(l, msg.as_ptr().cast(), msg.len());
        ffi::lua_setfield(l, -2, c"err".as_ptr());
        ffi::lua_error(l);
    }
}

/// Calls the dispatcher with the count of arguments and a table of them, leaving (reply,
/// failed): a Rust callback cannot take thousands of arguments on the stack (mlua refuses
/// more than the C stack limit), and Redis's `redis.call(unpack(t))` may pass 8000.
unsafe fn call_dispatcher(l: *mut ffi::lua_State) {
    let n = ffi::lua_gettop(l);
    ffi::lua_createtable(l, n, 0);
    for i in 1..=n {
        if ffi::lua_type(l, i) == ffi::LUA_TNUMBER {
            // A number goes to the command as Redis writes it ("%.17g": 1e17 is "1e+17",
            // -0.0 is "-0"), read here while it is still a double.
            let text = super::libs::format_g(ffi::lua_tonumber(l, i), 17);
            ffi::lua_pushlstring(l, text.as_ptr().cast(), text.len());
        } else {
            ffi::lua_pushvalue(l, i);
        }
        ffi::lua_rawseti(l, -2, ffi::lua_Integer::from(i));
    }
    push_dispatcher(l);
    ffi::lua_insert(l, -2);
    ffi::lua_pushinteger(l, ffi::lua_Integer::from(n));
    ffi::lua_insert(l, -2);
    ffi::lua_call(l, 2, 2);
}

unsafe extern "C-unwind" fn redis_call(l: *mut ffi::lua_State) -> c_int {
    call_dispatcher(l);
    if ffi::lua_toboolean(l, -1) != 0 {
        ffi::lua_pop(l, 1);
        ffi::lua_error(l);
    }
    ffi::lua_pop(l, 1);
    1
}

unsafe extern "C-unwind" fn redis_pcall(l: *mut ffi::lua_State) -> c_int {
    call_dispatcher(l);
    ffi::lua_pop(l, 1);
    1
}
