//! FUNCTION, FCALL, FCALL_RO (Redis's `functions.c`, `function_lua.c`): libraries of Lua
//! functions loaded with `FUNCTION LOAD`, kept in the scripting engine (`Engine::libraries`).
//! FUNCTION DUMP and RESTORE move libraries as Redis's payload (see [`crate::rdb::functions`]),
//! and the RDB file carries them the same way (SAVE writes [`Scripting::library_codes`], the
//! start loads [`Scripting::load_libraries`]).
//!
//! Order: Redis dumps and saves libraries in its dict's iteration order (a hash table's, so
//! effectively arbitrary); ours is the order they were loaded in (FUNCTION LIST's order), a
//! library loaded again with REPLACE moving to the end. With one library the payload is
//! Redis's byte for byte; with several it holds the same records in another order, which
//! either server restores to the same libraries.

use std::sync::Arc;

use bytes::Bytes;
use indexmap::IndexMap;
use mlua::{Function, Lua, MultiValue, Value};
use respect_resp::Frame;

use super::engine::{error_table, flags, Engine};
use crate::commands::args::is_keyword;
use crate::commands::context::Ctx;
use crate::commands::reply::{help, ok, unknown_subcommand_or_arity};

/// One registered function.
pub struct Func {
    /// Its name as registered (FCALL finds it whatever the case).
    name: Bytes,
    /// Its library.
    pub library: Bytes,
    function: Function,
    /// Its flags (`flags::*`).
    pub flags: u32,
    description: Option<Bytes>,
}

/// One library: its code and its functions' names, in registration order.
pub struct Library {
    code: Bytes,
    functions: Vec<Bytes>,
}

/// The loaded libraries and their functions.
#[derive(Default)]
pub struct Libraries {
    libs: IndexMap<Bytes, Library>,
    /// By name folded to lower case: FCALL finds a function whatever the case, as Redis's
    /// case-insensitive function table does (the library keeps the name as registered).
    functions: std::collections::HashMap<Bytes, Func>,
}

/// What `redis.register_function` collects during a load.
#[derive(Default)]
struct Registering(Vec<(Bytes, Function, u32, Option<Bytes>)>);

fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

type Answer = (Value, Value);

fn fail(lua: &Lua, text: &str) -> mlua::Result<Answer> {
    Ok((
        Value::Nil,
        Value::Table(error_table(lua, text.as_bytes(), false)?),
    ))
}

fn str_bytes(v: &Value) -> Option<Bytes> {
    match v {
        Value::String(s) => Some(Bytes::copy_from_slice(&s.as_bytes())),
        _ => None,
    }
}

/// `redis.register_function`'s Rust half (raised by the `make` wrapper).
fn register(lua: &Lua, args: MultiValue) -> mlua::Result<Answer> {
    let (name, callback, mut fflags, mut description) = match args.len() {
        1 => {
            let Some(Value::Table(t)) = args.front() else {
                return fail(lua, "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
            };
            let (mut name, mut callback, mut fl, mut desc) = (None, None, 0u32, None);
            for pair in t.clone().pairs::<Value, Value>() {
                let (k, v) = pair?;
                let key = str_bytes(&k).unwrap_or_default();
                match &key[..] {
                    b"function_name" => match str_bytes(&v) {
                        Some(n) => name = Some(n),
                        None => return fail(lua, "function_name argument given to redis.register_function must be a string"),
                    },
                    b"description" => match str_bytes(&v) {
                        Some(d) => desc = Some(d),
                        None => return fail(lua, "description argument given to redis.register_function must be a string"),
                    },
                    b"callback" => match v {
                        Value::Function(f) => callback = Some(f),
                        _ => return fail(lua, "callback argument given to redis.register_function must be a function"),
                    },
                    b"flags" => {
                        let Value::Table(list) = v else {
                            return fail(lua, "flags argument to redis.register_function must be a table representing function flags");
                        };
                        for item in list.sequence_values::<Value>() {
                            let item = item?;
                            match str_bytes(&item).and_then(|f| flags::by_name(&f)) {
                                Some(f) => fl |= f,
                                None => return fail(lua, "unknown flag given"),
                            }
                        }
                    }
                    _ => return fail(lua, "unknown argument given to redis.register_function"),
                }
            }
            let Some(name) = name else {
                return fail(
                    lua,
                    "redis.register_function must get a function name argument",
                );
            };
            let Some(callback) = callback else {
                return fail(lua, "redis.register_function must get a callback argument");
            };
            (name, callback, fl, desc)
        }
        2 => {
            let mut it = args.iter();
            let name = match it.next().and_then(str_bytes) {
                Some(n) => n,
                None => {
                    return fail(
                        lua,
                        "first argument to redis.register_function must be a string",
                    )
                }
            };
            let callback = match it.next() {
                Some(Value::Function(f)) => f.clone(),
                _ => {
                    return fail(
                        lua,
                        "second argument to redis.register_function must be a function",
                    )
                }
            };
            (name, callback, 0, None)
        }
        _ => return fail(lua, "wrong number of arguments to redis.register_function"),
    };
    if !valid_name(&name) {
        return fail(lua, "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long");
    }
    let Some(mut reg) = lua.app_data_mut::<Registering>() else {
        return fail(
            lua,
            "redis.register_function can only be called on FUNCTION LOAD command",
        );
    };
    if reg.0.iter().any(|(n, ..)| *n == name) {
        return fail(lua, "Function already exists in the library");
    }
    reg.0.push((
        name,
        callback,
        std::mem::take(&mut fflags),
        description.take(),
    ));
    Ok((Value::Nil, Value::Nil))
}

/// Parses the `#!<engine> name=<lib>` line as Redis's `functionExtractLibMetaData` does
/// (split as `sdssplitargs` splits, so quotes group and unbalanced ones are refused):
/// the library name.
fn metadata(code: &[u8]) -> Result<Bytes, String> {
    if !code.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some(end) = code.iter().position(|&c| c == b'\n') else {
        return Err("Invalid library metadata".into());
    };
    let line = code.get(..end).unwrap_or_default();
    let parts = match respect_resp::split_inline(line) {
        Ok(parts) if !parts.is_empty() => parts,
        _ => return Err("Invalid library metadata".into()),
    };
    let engine = parts[0].get(2..).unwrap_or_default();
    let mut name: Option<Bytes> = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(part.slice(5..));
            continue;
        }
        return Err(format!(
            "Invalid metadata value given: {}",
            String::from_utf8_lossy(part)
        ));
    }
    let Some(name) = name else {
        return Err("Library name was not given".into());
    };
    if !engine.eq_ignore_ascii_case(b"lua") {
        return Err(format!(
            "Engine '{}' not found",
            String::from_utf8_lossy(engine)
        ));
    }
    Ok(name)
}

impl Engine {
    /// The flags of the function named `name` (any case), if it exists.
    pub fn function_flags(&self, name: &[u8]) -> Option<u32> {
        self.libraries.functions.get(&folded(name)).map(|f| f.flags)
    }

    /// FUNCTION LOAD.
    fn load_library(&mut self, code: &Bytes, replace: bool) -> Result<Bytes, String> {
        let name = metadata(code)?;
        if !valid_name(&name) {
            return Err("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long".into());
        }
        if !replace && self.libraries.libs.contains_key(&name) {
            return Err(format!(
                "Library '{}' already exists",
                String::from_utf8_lossy(&name)
            ));
        }
        let lua = self.lua().clone();
        let err = |e: mlua::Error| e.to_string();
        // The load environment: only `redis` with the library API, Redis's missing-global error.
        let api = lua.create_table().map_err(err)?;
        let lib_redis = lua.create_table().map_err(err)?;
        let make: Function = self.make.clone();
        let reg_fn = lua.create_function(register).map_err(err)?;
        let wrapped: Function = make.call((reg_fn, 0)).map_err(err)?;
        lib_redis
            .raw_set("register_function", wrapped)
            .map_err(err)?;
        for key in [
            "log",
            "LOG_DEBUG",
            "LOG_VERBOSE",
            "LOG_NOTICE",
            "LOG_WARNING",
            "REDIS_VERSION",
            "REDIS_VERSION_NUM",
        ] {
            let v: Value = self.redis.raw_get(key).map_err(err)?;
            lib_redis.raw_set(key, v).map_err(err)?;
        }
        // Both read as the globals do (an unknown name is Redis's nonexistent-global error)
        // and refuse writes, as Redis's protected library tables: a function that kept a
        // reference to the load-time `redis` cannot change it later.
        if let Some(mt) = self.real().metatable() {
            let lib_mt = lua.create_table().map_err(err)?;
            let index: Value = mt.raw_get("__index").map_err(err)?;
            lib_mt.raw_set("__index", index).map_err(err)?;
            if let Some(globals_mt) = self.globals().metatable() {
                let readonly: Value = globals_mt.raw_get("__newindex").map_err(err)?;
                lib_mt.raw_set("__newindex", readonly).map_err(err)?;
            }
            lib_mt.raw_set("__metatable", false).map_err(err)?;
            lib_redis.set_metatable(Some(lib_mt.clone()));
            api.set_metatable(Some(lib_mt));
        }
        api.raw_set("redis", lib_redis.clone()).map_err(err)?;
        let env = lua.create_table().map_err(err)?;
        let env_mt = lua.create_table().map_err(err)?;
        env_mt.raw_set("__index", api.clone()).map_err(err)?;
        // Writes to the library's globals are refused, as Redis's read-only globals.
        if let Some(globals_mt) = self.globals().metatable() {
            let readonly: Value = globals_mt.raw_get("__newindex").map_err(err)?;
            env_mt.raw_set("__newindex", readonly).map_err(err)?;
        }
        // Neither the environment nor its metatable may be changed by the library's code or
        // its functions (getmetatable answers nothing, rawset is refused).
        env_mt.raw_set("__metatable", false).map_err(err)?;
        env.set_metatable(Some(env_mt.clone()));
        for sealed in [&env, &env_mt, &api, &lib_redis] {
            self.seal.call::<()>(sealed.clone()).map_err(err)?;
        }
        let skip = code.iter().position(|&c| c == b'\n').unwrap_or(0);
        let text = code.get(skip..).unwrap_or_default();
        let chunk = super::engine::compile_text(&lua, text, "@user_function", env)
            .map_err(|message| format!("Error compiling function: {message}"))?;
        lua.set_app_data(Registering::default());
        let status = lua
            .app_data_ref::<Arc<super::Status>>()
            .map(|s| Arc::clone(&s));
        let result: mlua::Result<(bool, Value)> = {
            // The library's code runs under the hook: past LOAD_TIMEOUT_MS it is stopped.
            let _running = status
                .as_deref()
                .map(|status| super::engine::Running::load(&lua, status));
            self.runner().call(chunk)
        };
        let registered = lua.remove_app_data::<Registering>().unwrap_or_default();
        let _ = env_mt.raw_set("__index", self.globals().clone());
        let (ok, value) = result.map_err(err)?;
        if !ok {
            let msg = match &value {
                Value::Table(t) => t
                    .raw_get::<Value>("err")
                    .ok()
                    .and_then(|v| str_bytes(&v))
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default(),
                _ => String::new(),
            };
            return Err(format!("Error registering functions: {msg}"));
        }
        if registered.0.is_empty() {
            return Err("No functions registered".into());
        }
        for (fname, ..) in &registered.0 {
            if let Some(existing) = self.libraries.functions.get(&folded(fname)) {
                if existing.library != name {
                    return Err(format!(
                        "Function {} already exists",
                        String::from_utf8_lossy(fname)
                    ));
                }
            }
        }
        if let Some(old) = self.libraries.libs.shift_remove(&name) {
            for f in old.functions {
                self.libraries.functions.remove(&folded(&f));
            }
        }
        let mut names = Vec::new();
        for (fname, function, fl, description) in registered.0 {
            names.push(fname.clone());
            self.libraries.functions.insert(
                folded(&fname),
                Func {
                    name: fname.clone(),
                    library: name.clone(),
                    function,
                    flags: fl,
                    description,
                },
            );
        }
        self.libraries.libs.insert(
            name.clone(),
            Library {
                code: code.clone(),
                functions: names,
            },
        );
        Ok(name)
    }
}

/// FUNCTION RESTORE's policy toward the libraries already loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    /// Drop them all first.
    Flush,
    /// Keep them; a library of the same name aborts the restore.
    Append,
    /// Keep them; a library of the same name is replaced.
    Replace,
}

impl Engine {
    /// The libraries' codes, in FUNCTION LIST's order.
    pub(super) fn codes(&self) -> Vec<Bytes> {
        self.libraries
            .libs
            .values()
            .map(|l| l.code.clone())
            .collect()
    }

    /// Loads the codes `read` hands over, each as it comes, into libraries of their own (as
    /// Redis's fresh `functionsLibCtx`), then joins them to the current ones by `policy`.
    /// All or nothing: on any error (`read`'s own, or a library's) the current libraries are
    /// as they were.
    fn restore_libraries(
        &mut self,
        policy: Policy,
        read: impl FnOnce(&mut dyn FnMut(Bytes) -> Result<(), String>) -> Result<(), String>,
    ) -> Result<(), String> {
        let current = std::mem::take(&mut self.libraries);
        let loaded = read(&mut |code| self.load_library(&code, false).map(drop));
        let fresh = std::mem::replace(&mut self.libraries, current);
        loaded?;
        match policy {
            Policy::Flush => {
                self.libraries = fresh;
                Ok(())
            }
            Policy::Append => self.join(fresh, false),
            Policy::Replace => self.join(fresh, true),
        }
    }

    /// Redis's `libraryJoin`: adds `fresh`'s libraries to the current ones. A name already
    /// loaded aborts (`replace` false) or has its library replaced; a function of a library
    /// that stays aborts. Nothing changes on an error.
    fn join(&mut self, fresh: Libraries, replace: bool) -> Result<(), String> {
        let mut replaced = Vec::new();
        for name in fresh.libs.keys() {
            if self.libraries.libs.contains_key(name) {
                if !replace {
                    return Err(format!(
                        "Library {} already exists",
                        String::from_utf8_lossy(name)
                    ));
                }
                replaced.push(name.clone());
            }
        }
        for lib in fresh.libs.values() {
            for f in &lib.functions {
                if let Some(existing) = self.libraries.functions.get(&folded(f)) {
                    if !replaced.contains(&existing.library) {
                        return Err(format!(
                            "Function {} already exists",
                            String::from_utf8_lossy(f)
                        ));
                    }
                }
            }
        }
        for name in &replaced {
            if let Some(old) = self.libraries.libs.shift_remove(name) {
                for f in old.functions {
                    self.libraries.functions.remove(&folded(&f));
                }
            }
        }
        self.libraries.functions.extend(fresh.functions);
        self.libraries.libs.extend(fresh.libs);
        Ok(())
    }
}

impl super::Scripting {
    /// The loaded libraries' codes, for an RDB file (none when the engine never started).
    /// The caller holds the server's gate exclusively, so no script holds the engine.
    pub fn library_codes(&self) -> Vec<Bytes> {
        let guard = self
            .functions_engine
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        guard.as_ref().map(Engine::codes).unwrap_or_default()
    }

    /// Loads an RDB file's libraries (at start), replacing any loaded: all or nothing, the
    /// error is the first library's that failed.
    pub fn load_libraries(&self, codes: &[Bytes]) -> Result<(), String> {
        if codes.is_empty() {
            return Ok(());
        }
        let mut guard = self.functions_engine().map_err(|e| format!("{e:?}"))?;
        let Some(engine) = guard.as_mut() else {
            return Err("scripting engine unavailable".into());
        };
        let result = engine.restore_libraries(Policy::Flush, |load| {
            codes.iter().try_for_each(|code| load(code.clone()))
        });
        counts(engine, self);
        result
    }
}

fn counts(engine: &Engine, scripting: &super::Scripting) {
    use std::sync::atomic::Ordering::Relaxed;
    let libs = &engine.libraries;
    scripting.functions.store(libs.functions.len(), Relaxed);
    scripting.libraries_count.store(libs.libs.len(), Relaxed);
    let bytes: usize = libs.libs.values().map(|l| l.code.len()).sum();
    scripting
        .functions_memory
        .store(bytes + 200 * libs.libs.len(), Relaxed);
}

/// FCALL and FCALL_RO.
pub fn fcall(ctx: &mut Ctx<'_>, argv: &[Bytes], ro: bool) -> Frame {
    let (keys, args) =
        match super::split_keys(argv, || Frame::error("ERR Bad number of keys provided")) {
            Ok(split) => split,
            Err(e) => return e,
        };
    let name = argv.get(1).cloned().unwrap_or_default();
    let scripting = &ctx.server.scripting;
    let guard = match scripting.functions_engine() {
        Ok(g) => g,
        Err(e) => return e,
    };
    let Some(engine) = guard.as_ref() else {
        return Frame::error("ERR scripting engine unavailable");
    };
    let Some(func) = engine.libraries.functions.get(&folded(&name)) else {
        return Frame::error("ERR Function not found");
    };
    let run = match super::prepare(ctx, func.flags, ro) {
        Ok(run) => run,
        Err(e) => return e,
    };
    let function = func.function.clone();
    let fname = String::from_utf8_lossy(&name).into_owned();
    let registered = func.name.clone();
    let status = &ctx.server.scripting.status;
    let running = |value| *status.function.lock().unwrap_or_else(|p| p.into_inner()) = value;
    running(Some((registered, argv.to_vec())));
    let reply = super::off_the_runtime(|| {
        engine.run(
            ctx.server, ctx.state, &function, &fname, false, keys, args, run,
        )
    });
    running(None);
    reply
}

/// FUNCTION STATS while a function runs past `busy-reply-threshold` (`since`: when it
/// started): the function, the command that runs it and how long it has run, and the
/// library counts, from what the status and the counters hold (the engine is the running
/// function's).
pub(super) fn stats(scripting: &super::Scripting, since: u64) -> Frame {
    let running = scripting
        .status
        .function
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let running = match running {
        Some((name, command)) => Frame::Map(vec![
            (bulk("name"), Frame::Bulk(name)),
            (
                bulk("command"),
                Frame::Array(command.into_iter().map(Frame::Bulk).collect()),
            ),
            (
                bulk("duration_ms"),
                Frame::Integer(crate::db::now_ms().saturating_sub(since) as i64),
            ),
        ]),
        None => Frame::Null,
    };
    let (functions, libraries, _) = scripting.function_counts();
    stats_reply(running, libraries, functions)
}

fn stats_reply(running: Frame, libraries: usize, functions: usize) -> Frame {
    Frame::Map(vec![
        (bulk("running_script"), running),
        (
            bulk("engines"),
            Frame::Map(vec![(
                bulk("LUA"),
                Frame::Map(vec![
                    (bulk("libraries_count"), Frame::Integer(libraries as i64)),
                    (bulk("functions_count"), Frame::Integer(functions as i64)),
                ]),
            )]),
        ),
    ])
}

const FUNCTION_HELP: &[&str] = &[
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
];

fn bulk(s: &str) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

/// FUNCTION's subcommands.
pub fn function(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let sub = argv.get(1).map_or(&[][..], |s| s.as_ref());
    let scripting = &ctx.server.scripting;
    if argv.len() == 2 && is_keyword(sub, "HELP") {
        return help("function", FUNCTION_HELP);
    }
    if is_keyword(sub, "KILL") {
        return super::kill(ctx, false);
    }
    let mut guard = match scripting.functions_engine() {
        Ok(g) => g,
        Err(e) => return e,
    };
    let Some(engine) = guard.as_mut() else {
        return Frame::error("ERR scripting engine unavailable");
    };
    let reply = if is_keyword(sub, "FLUSH") {
        match argv.get(2..).unwrap_or_default() {
            [] => {
                engine.libraries = Libraries::default();
                ctx.server.persistence.note_change();
                ok()
            }
            [mode] if is_keyword(mode, "ASYNC") || is_keyword(mode, "SYNC") => {
                engine.libraries = Libraries::default();
                ctx.server.persistence.note_change();
                ok()
            }
            [_] => Frame::error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option"),
            _ => unknown_subcommand_or_arity(sub, "function"),
        }
    } else if is_keyword(sub, "LOAD") {
        // As Redis's functionLoadCommand: every argument but the last is an option (REPLACE,
        // any number of times), the last is the code.
        let Some((code, options)) = argv.get(2..).unwrap_or_default().split_last() else {
            return Frame::error("ERR Function code is missing");
        };
        let mut replace = false;
        for opt in options {
            if !is_keyword(opt, "REPLACE") {
                return Frame::Error(Bytes::from(format!(
                    "ERR Unknown option given: {}",
                    String::from_utf8_lossy(opt)
                )));
            }
            replace = true;
        }
        match engine.load_library(code, replace) {
            Ok(name) => {
                ctx.server.persistence.note_change();
                Frame::Bulk(name)
            }
            Err(e) => Frame::Error(Bytes::from(format!("ERR {e}"))),
        }
    } else if is_keyword(sub, "DELETE") {
        let name = argv.get(2).cloned().unwrap_or_default();
        match engine.libraries.libs.shift_remove(&name) {
            Some(lib) => {
                for f in lib.functions {
                    engine.libraries.functions.remove(&folded(&f));
                }
                ctx.server.persistence.note_change();
                ok()
            }
            None => Frame::error("ERR Library not found"),
        }
    } else if is_keyword(sub, "LIST") {
        // As Redis's functionListCommand: each option once; a repeated one (or anything
        // else) is an unknown argument, named as sent.
        let mut withcode = false;
        let mut pattern: Option<Bytes> = None;
        let mut i = 2;
        while let Some(a) = argv.get(i) {
            if !withcode && is_keyword(a, "WITHCODE") {
                withcode = true;
            } else if pattern.is_none() && is_keyword(a, "LIBRARYNAME") {
                i += 1;
                match argv.get(i) {
                    Some(p) => pattern = Some(p.clone()),
                    None => return Frame::error("ERR library name argument was not given"),
                }
            } else {
                return Frame::Error(Bytes::from(format!(
                    "ERR Unknown argument {}",
                    String::from_utf8_lossy(a)
                )));
            }
            i += 1;
        }
        let libs = &engine.libraries;
        let mut out = Vec::new();
        for (name, lib) in &libs.libs {
            if let Some(p) = &pattern {
                if !crate::glob::glob_match(p, name) {
                    continue;
                }
            }
            let functions = lib
                .functions
                .iter()
                .filter_map(|f| libs.functions.get(&folded(f)).map(|func| (f, func)))
                .map(|(f, func)| {
                    Frame::Map(vec![
                        (bulk("name"), Frame::Bulk(f.clone())),
                        (
                            bulk("description"),
                            func.description.clone().map_or(Frame::Null, Frame::Bulk),
                        ),
                        (
                            bulk("flags"),
                            Frame::Set(
                                flags::names(func.flags)
                                    .into_iter()
                                    .map(|f| Frame::Simple(Bytes::from_static(f.as_bytes())))
                                    .collect(),
                            ),
                        ),
                    ])
                })
                .collect();
            let mut entry = vec![
                (bulk("library_name"), Frame::Bulk(name.clone())),
                (bulk("engine"), bulk("LUA")),
                (bulk("functions"), Frame::Array(functions)),
            ];
            if withcode {
                entry.push((bulk("library_code"), Frame::Bulk(lib.code.clone())));
            }
            out.push(Frame::Map(entry));
        }
        Frame::Array(out)
    } else if is_keyword(sub, "STATS") {
        let libs = &engine.libraries;
        stats_reply(Frame::Null, libs.libs.len(), libs.functions.len())
    } else if is_keyword(sub, "DUMP") {
        let codes = engine.codes();
        Frame::Bulk(Bytes::from(crate::rdb::functions::dump(
            codes.iter().map(|c| c.as_ref()),
        )))
    } else if is_keyword(sub, "RESTORE") {
        restore(ctx, engine, argv)
    } else {
        unknown_subcommand_or_arity(sub, "function")
    };
    counts(engine, scripting);
    reply
}

/// `FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]`, checked in Redis's order: the
/// argument count, the policy, the payload's footer, each record, then the join. A
/// successful restore counts as a change (it propagates as sent, see `propagate`).
fn restore(ctx: &Ctx<'_>, engine: &mut Engine, argv: &[Bytes]) -> Frame {
    use crate::rdb::functions::RestoreError;
    if argv.len() > 4 || argv.len() < 3 {
        let sub = argv.get(1).map_or(&[][..], |s| s.as_ref());
        return unknown_subcommand_or_arity(sub, "function");
    }
    let policy =
        match argv.get(3) {
            None => Policy::Append,
            Some(p) if is_keyword(p, "APPEND") => Policy::Append,
            Some(p) if is_keyword(p, "REPLACE") => Policy::Replace,
            Some(p) if is_keyword(p, "FLUSH") => Policy::Flush,
            Some(_) => return Frame::error(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            ),
        };
    let max_string = ctx.server.settings.max_bulk_len();
    let payload = argv.get(2).map_or(&[][..], |p| p.as_ref());
    let result = engine.restore_libraries(policy, |load| {
        crate::rdb::functions::restore(payload, max_string, load).map_err(|e| match e {
            RestoreError::Payload => "DUMP payload version or checksum are wrong".to_string(),
            RestoreError::Item(text) => text.to_string(),
            RestoreError::Load(text) => text,
        })
    });
    match result {
        Ok(()) => {
            ctx.server.persistence.note_change();
            ok()
        }
        Err(e) => Frame::Error(Bytes::from(format!("ERR {e}"))),
    }
}

/// A function name as the function table keys it: ASCII lower case.
fn folded(name: &[u8]) -> Bytes {
    Bytes::from(name.to_ascii_lowercase())
}
