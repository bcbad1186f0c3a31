//! The Lua state scripts run in (Redis's `lctx`): one per server, built with the sandbox of
//! `prelude.lua`, the script cache keyed by SHA-1, and the run of one script.
//!
//! A script runs while its caller holds the server's gate exclusively (see `dispatch`), so
//! nothing interleaves with it. `redis.call` reaches the command layer through a function
//! created for that one run (`Lua::scope`), which borrows the caller's session: commands
//! run as they would inside EXEC, with the script's own database selection (restored after
//! the run: a SELECT inside a script does not leak out) and protocol (`redis.setresp`).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use mlua::{Function, Lua, LuaOptions, StdLib, Table, Value};
use respect_resp::{Dialect, Frame};

use super::convert;
use super::libs;
use crate::commands::context::SessionState;
use crate::commands::dispatch;
use crate::commands::registry::{Flag, Spec};
use crate::state::ServerState;

/// Shebang flags (`#!lua flags=...`), Redis's `SCRIPT_FLAG_*`.
pub mod flags {
    /// `no-writes`.
    pub const NO_WRITES: u32 = 1;
    /// `allow-oom`.
    pub const ALLOW_OOM: u32 = 1 << 1;
    /// `allow-stale`.
    pub const ALLOW_STALE: u32 = 1 << 2;
    /// `no-cluster`.
    pub const NO_CLUSTER: u32 = 1 << 4;
    /// An EVAL script without a shebang: the rules of Redis before 7.0.
    pub const EVAL_COMPAT: u32 = 1 << 5;
    /// `allow-cross-slot-keys`.
    pub const ALLOW_CROSS_SLOT: u32 = 1 << 6;

    /// The flag a name stands for, in a shebang or `register_function`'s `flags`.
    pub fn by_name(name: &[u8]) -> Option<u32> {
        Some(match name {
            b"no-writes" => NO_WRITES,
            b"allow-oom" => ALLOW_OOM,
            b"allow-stale" => ALLOW_STALE,
            b"no-cluster" => NO_CLUSTER,
            b"allow-cross-slot-keys" => ALLOW_CROSS_SLOT,
            _ => return None,
        })
    }

    /// The names of `flags`, in Redis's order (FUNCTION LIST).
    pub fn names(flags: u32) -> Vec<&'static str> {
        [
            (NO_WRITES, "no-writes"),
            (ALLOW_OOM, "allow-oom"),
            (ALLOW_STALE, "allow-stale"),
            (NO_CLUSTER, "no-cluster"),
            (ALLOW_CROSS_SLOT, "allow-cross-slot-keys"),
        ]
        .into_iter()
        .filter(|(f, _)| flags & f != 0)
        .map(|(_, n)| n)
        .collect()
    }
}

/// One cached script: its shebang flags and compiled chunk (the body is not kept: a slice of
/// a connection's read buffer would pin that buffer for as long as the script is cached).
pub struct Script {
    /// Its shebang flags ([`flags::EVAL_COMPAT`] without a shebang).
    pub flags: u32,
    /// The compiled chunk.
    function: Function,
}

impl Script {
    /// The compiled chunk.
    pub fn function(&self) -> &Function {
        &self.function
    }
}

/// What the Redis API functions of a running script share (Lua app data while it runs).
pub struct RunCtx {
    /// `redis.setresp`: the protocol command replies are converted from.
    pub resp3: bool,
    /// EVAL_RO, FCALL_RO, `no-writes`: write commands are refused.
    pub read_only: bool,
    /// Whether a write command ran (SCRIPT KILL then refuses, as Redis).
    pub dirty: bool,
    /// `allow-oom`.
    pub allow_oom: bool,
    /// The user of the connection that runs the script: its rules apply to every
    /// `redis.call` and `redis.acl_check_cmd`.
    pub user: Arc<crate::acl::User>,
}

/// The Lua state and the script cache.
pub struct Engine {
    lua: Lua,
    /// Script runs since the last collection step (see [`GC_PERIOD`]).
    runs_since_gc: std::cell::Cell<u32>,
    /// The real global table (the scripts' globals read through to it; KEYS and ARGV go here).
    real: Table,
    /// The proxy the scripts see as their globals.
    globals: Table,
    /// `run(f [, keys, args])` of the prelude: xpcall under the error handler.
    runner: Function,
    /// Holds `current`, the `redis.call` of the running script (unset between runs).
    dispatch_slot: Table,
    /// The script cache, by lowercase hex SHA-1.
    scripts: HashMap<Bytes, Script>,
    /// Bytes of bodies and SHAs cached (INFO used_memory_scripts_eval).
    scripts_memory: usize,
    /// The `redis` table (FUNCTION LOAD's environment copies from it).
    pub(super) redis: Table,
    /// The prelude's C-closure maker (`api::make_wrapper`).
    pub(super) make: Function,
    /// FUNCTION LOAD's libraries.
    pub(super) libraries: super::functions::Libraries,
    /// The prelude's `seal(t)`: makes a table Rust builds for scripts read-only to them,
    /// `rawset` included.
    pub(super) seal: Function,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("scripts", &self.scripts.len())
            .finish()
    }
}

/// The SHA-1 of `body` as 40 lowercase hex digits.
pub fn sha1_hex(body: &[u8]) -> Bytes {
    Bytes::from(sha1_smol::Sha1::from(body).digest().to_string())
}

/// Compiles `text` as source, never as bytecode: Lua 5.1 does not verify bytecode, and a
/// crafted binary chunk can read and write the server's memory (Redis's CVE-2015-4335, after
/// which its Lua parses every chunk as text). A chunk that starts with the bytecode
/// signature gets the error Redis's text parser gives for it. `name` is the chunk's name
/// (`@user_script`); `Err` is Lua's message.
pub fn compile_text(lua: &Lua, text: &[u8], name: &str, env: Table) -> Result<Function, String> {
    if text.first() == Some(&0x1b) {
        let shown = name.strip_prefix('@').unwrap_or(name);
        return Err(format!("{shown}:1: unexpected symbol near 'char(27)'"));
    }
    lua.load(text)
        .set_name(name)
        .set_mode(mlua::ChunkMode::Text)
        .set_environment(env)
        .into_function()
        .map_err(|e| match e {
            mlua::Error::SyntaxError { message, .. } => message,
            other => other.to_string(),
        })
}

/// Redis's `luaPushErrorBuff`: an error text as an `{err=...}` text: a leading `-` means the
/// text starts with its code (up to the first space), otherwise the code is `ERR`; CR and LF
/// are trimmed from the message's ends.
pub fn error_text(text: &[u8]) -> Vec<u8> {
    let (code, msg): (&[u8], &[u8]) = match text.strip_prefix(b"-") {
        Some(rest) => match rest.iter().position(|&c| c == b' ') {
            Some(space) => (
                rest.get(..space).unwrap_or_default(),
                rest.get(space + 1..).unwrap_or_default(),
            ),
            None => (b"ERR", rest),
        },
        None => (b"ERR", text),
    };
    let trim = |c: &u8| *c == b'\r' || *c == b'\n';
    let start = msg.iter().position(|c| !trim(c)).unwrap_or(msg.len());
    let end = msg.iter().rposition(|c| !trim(c)).map_or(start, |e| e + 1);
    let msg = msg.get(start..end).unwrap_or_default();
    let mut out = Vec::with_capacity(code.len() + 1 + msg.len());
    out.extend_from_slice(code);
    out.push(b' ');
    out.extend_from_slice(msg);
    out
}

/// An `{err=...}` table for `text` (as [`error_text`] words it).
pub fn error_table(lua: &Lua, text: &[u8], from_command: bool) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("err", lua.create_string(error_text(text))?)?;
    if from_command {
        t.raw_set("ignore_error_stats_update", true)?;
    }
    Ok(t)
}

/// Redis's shebang parser (`evalExtractShebangFlags`): the flags, and how many bytes of the
/// body the shebang line takes (kept out of the compiled text, its line feed kept in).
pub fn shebang(body: &[u8]) -> Result<(u32, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((flags::EVAL_COMPAT, 0));
    }
    let Some(end) = body.iter().position(|&c| c == b'\n') else {
        return Err("Invalid script shebang".into());
    };
    let line = body.get(..end).unwrap_or_default();
    let mut parts = line
        .split(|c| c.is_ascii_whitespace())
        .filter(|p| !p.is_empty());
    let Some(engine) = parts.next() else {
        return Err("Invalid engine in script shebang".into());
    };
    if engine != b"#!lua" {
        return Err(format!(
            "Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(engine)
        ));
    }
    let mut found = 0;
    for part in parts {
        let Some(list) = part.strip_prefix(b"flags=") else {
            return Err(format!(
                "Unknown lua shebang option: {}",
                String::from_utf8_lossy(part)
            ));
        };
        if list.is_empty() {
            continue;
        }
        for name in list.split(|&c| c == b',') {
            match flags::by_name(name) {
                Some(f) => found |= f,
                None => {
                    return Err(format!(
                        "Unexpected flag in script shebang: {}",
                        String::from_utf8_lossy(name)
                    ))
                }
            }
        }
    }
    Ok((found, end))
}

impl Engine {
    /// A fresh Lua state with Redis's sandbox and an empty script cache.
    pub fn new(status: Arc<super::Status>) -> mlua::Result<Engine> {
        // SAFETY: `debug` is loaded for the error handler only: the prelude keeps it in a
        // local, then removes it (with dofile, loadfile, print) from the state's first global
        // table, which scripts never see (no getfenv, as in redis-server 7.0.15).
        let lua = unsafe {
            Lua::unsafe_new_with(
                StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG,
                LuaOptions::new(),
            )
        };
        // The hook finds the status here (the engine keeps the Arc, so the address lives as
        // long as the state).
        lua.set_named_registry_value(
            STATUS_KEY.to_str().unwrap_or_default(),
            mlua::LightUserData(Arc::as_ptr(&status).cast_mut().cast()),
        )?;
        lua.set_app_data(status);
        let real = lua.create_table()?;
        let dispatch_slot = lua.create_table()?;
        let api = super::api::build(&lua)?;
        api.raw_set("libs", libs::build(&lua)?)?;
        // SAFETY: both follow the discipline of `libs`.
        unsafe {
            api.raw_set("pcall", lua.create_c_function(libs::checked_pcall)?)?;
            api.raw_set("xpcall", lua.create_c_function(libs::checked_xpcall)?)?;
        }
        let make: Function = api.raw_get("make")?;
        let prelude: Function = lua
            .load(include_str!("prelude.lua"))
            .set_name("=respect")
            .into_function()?;
        let (runner, globals, redis, seal): (Function, Table, Table, Function) =
            prelude.call((dispatch_slot.clone(), api, real.clone()))?;
        // The building left garbage (the prelude's source, temporaries): a fresh state
        // reports what it holds, as Redis's does after SCRIPT FLUSH.
        lua.gc_collect()?;
        lua.gc_collect()?;
        Ok(Engine {
            runs_since_gc: std::cell::Cell::new(0),
            lua,
            real,
            globals,
            runner,
            dispatch_slot,
            scripts: HashMap::new(),
            scripts_memory: 0,
            redis,
            make,
            libraries: Default::default(),
            seal,
        })
    }

    /// The Lua state.
    pub fn lua(&self) -> &Lua {
        &self.lua
    }

    /// The real globals.
    pub fn real(&self) -> &Table {
        &self.real
    }

    /// The prelude's runner.
    pub fn runner(&self) -> &Function {
        &self.runner
    }

    /// The globals scripts see.
    pub fn globals(&self) -> &Table {
        &self.globals
    }

    /// How many scripts are cached.
    pub fn script_count(&self) -> usize {
        self.scripts.len()
    }

    /// Bytes the cache holds (bodies and SHAs), Redis's `lua_scripts_mem` estimate.
    pub fn scripts_memory(&self) -> usize {
        self.scripts_memory + self.scripts.len() * 64
    }

    /// Whether `sha` (any case) is cached.
    pub fn has(&self, sha: &[u8]) -> bool {
        sha.len() == 40
            && self
                .scripts
                .contains_key(&Bytes::from(sha.to_ascii_lowercase()))
    }

    /// The cached script `sha` (lowercase).
    pub fn script(&self, sha: &[u8]) -> Option<&Script> {
        self.scripts.get(sha)
    }

    /// Compiles `text` as a chunk named `name` in the sandbox; `Err` is Lua's message.
    pub fn compile(&self, text: &[u8], name: &str) -> Result<Function, String> {
        compile_text(&self.lua, text, name, self.globals.clone())
    }

    /// Redis's `luaCreateFunction`: caches `body` under its SHA-1 (compiling it) unless it is
    /// there already; `Err` is the error reply.
    pub fn create(&mut self, body: &Bytes) -> Result<Bytes, Frame> {
        let sha = sha1_hex(body);
        if self.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (flags, skip) =
            shebang(body).map_err(|e| Frame::Error(Bytes::from(format!("ERR {e}"))))?;
        let text = body.get(skip..).unwrap_or_default();
        let function = self.compile(text, "@user_script").map_err(|message| {
            Frame::Error(Bytes::from(format!(
                "ERR Error compiling script (new function): {message}"
            )))
        })?;
        self.scripts_memory += sha.len() + body.len();
        self.scripts.insert(sha.clone(), Script { flags, function });
        Ok(sha)
    }

    /// Runs cached script `sha` (EVAL) or a library function (FCALL, `function` given):
    /// KEYS and ARGV are set (EVAL) or passed (FCALL), the reply is converted for the caller.
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        &self,
        server: &Arc<ServerState>,
        state: &mut SessionState,
        function: &Function,
        name: &str,
        eval: bool,
        keys: &[Bytes],
        args: &[Bytes],
        run: RunCtx,
    ) -> Frame {
        // The declared keys are what a read inside the script makes the caller track (kept
        // only while some client tracks: otherwise a copy per run for nothing).
        if state.hub.tracking.active() {
            state.script_keys = keys.to_vec();
        }
        let reply = self.run_inner(server, state, function, name, eval, keys, args, run);
        state.script_keys.clear();
        self.collect_sometimes();
        match reply {
            Ok(frame) => frame,
            Err(e) => Frame::Error(Bytes::from(format!(
                "ERR Error running script {name}, {}",
                e.to_string().lines().next().unwrap_or_default()
            ))),
        }
    }

    /// Every [`GC_PERIOD`] runs, a collection step of that many kilobytes, as Redis does
    /// after scripts: garbage is collected a little at a time rather than in a full cycle
    /// Lua would start on its own (a latency spike), and used_memory_lua stays near what
    /// the scripts hold.
    fn collect_sometimes(&self) {
        let runs = self.runs_since_gc.get() + 1;
        if runs < GC_PERIOD {
            self.runs_since_gc.set(runs);
            return;
        }
        self.runs_since_gc.set(0);
        let _ = self.lua.gc_step_kbytes(GC_PERIOD as std::ffi::c_int);
    }

    #[allow(clippy::too_many_arguments)]
    fn run_inner(
        &self,
        server: &Arc<ServerState>,
        state: &mut SessionState,
        function: &Function,
        name: &str,
        eval: bool,
        keys: &[Bytes],
        args: &[Bytes],
        run: RunCtx,
    ) -> mlua::Result<Frame> {
        let lua = &self.lua;
        let keys_table = lua.create_sequence_from(keys.iter().map(BytesArg))?;
        let args_table = lua.create_sequence_from(args.iter().map(BytesArg))?;
        if eval {
            self.real.raw_set("KEYS", keys_table.clone())?;
            self.real.raw_set("ARGV", args_table.clone())?;
        }
        lua.set_app_data(run);
        let status = lua
            .app_data_ref::<Arc<super::Status>>()
            .map(|s| Arc::clone(&s));
        let running = status
            .as_deref()
            .map(|status| Running::script(lua, status, eval));
        let caller_dialect = state.dialect;
        let caller_db = state.db_index;
        let result = lua.scope(|scope| {
            let dispatch = scope.create_function_mut(|lua, (n, argv): (usize, Table)| {
                call_command(lua, server, state, n, &argv)
            })?;
            self.dispatch_slot.raw_set("current", dispatch)?;
            let out: (bool, Value) = if eval {
                self.runner.call(function.clone())?
            } else {
                self.runner
                    .call((function.clone(), keys_table, args_table))?
            };
            self.dispatch_slot.raw_set("current", Value::Nil)?;
            Ok(out)
        });
        let _ = self.dispatch_slot.raw_set("current", Value::Nil);
        drop(running);
        state.dialect = caller_dialect;
        state.db_index = caller_db;
        let run: Option<RunCtx> = lua.remove_app_data();
        let resp3 = run.as_ref().is_some_and(|r| r.resp3);
        let (ok, value) = result?;
        let caller_resp3 = caller_dialect == Dialect::Resp3;
        state.error_already_counted = matches!(
            &value,
            Value::Table(t) if t.raw_get::<bool>("ignore_error_stats_update").unwrap_or(false)
        );
        if ok {
            return Ok(convert::lua_to_frame(&value, resp3, caller_resp3));
        }
        Ok(convert::script_error(&value, name))
    }

    /// The Lua state's memory in bytes (INFO used_memory_lua).
    pub fn memory(&self) -> usize {
        self.lua.used_memory()
    }
}

/// Instructions between two looks of the hook at the kill flag and the load deadline, as
/// Redis's `luaMaskCountHook` (after a kill, every line, so a script that catches the error
/// with pcall is stopped at its next line).
const HOOK_INSTRUCTIONS: std::os::raw::c_int = 100_000;

/// How long FUNCTION LOAD may run a library's code (Redis's `LOAD_TIMEOUT_MS`).
pub const LOAD_TIMEOUT_MS: u64 = 500;

/// Script runs between two collection steps (Redis's `LUA_GC_CYCLE_PERIOD`).
pub const GC_PERIOD: u32 = 50;

/// Where the registry keeps the address of the engine's [`super::Status`] for the hook.
const STATUS_KEY: &std::ffi::CStr = c"respect.status";

/// The hook every script and library load runs under, a raw Lua hook rather than mlua's: a
/// raw hook is inherited by the coroutines a script creates (mlua's ignores every thread but
/// the main one, so a loop inside a coroutine could not be killed). It owns nothing, so the
/// error it raises may unwind through it.
unsafe extern "C-unwind" fn hook(l: *mut mlua::ffi::lua_State, _: *mut mlua::ffi::lua_Debug) {
    use mlua::ffi;
    ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, STATUS_KEY.as_ptr());
    let status = ffi::lua_touserdata(l, -1) as *const super::Status;
    ffi::lua_pop(l, 1);
    // SAFETY: the address is the engine's `Arc<Status>`, which outlives its Lua state.
    let Some(status) = status.as_ref() else {
        return;
    };
    if status.kill.load(Ordering::Acquire) {
        ffi::lua_sethook(l, Some(hook), ffi::LUA_MASKLINE, 0);
        ffi::lua_pushstring(l, c"killed".as_ptr());
        ffi::lua_error(l);
    }
    let deadline = status.load_deadline.load(Ordering::Acquire);
    if deadline != 0 && crate::db::now_ms() > deadline {
        ffi::lua_sethook(l, Some(hook), ffi::LUA_MASKLINE, 0);
        ffi::luaL_error(l, c"FUNCTION LOAD timeout".as_ptr());
    }
}

/// Sets (`on`) or removes the hook on the state's main thread (coroutines created while it
/// is set inherit it).
fn set_hook(lua: &Lua, on: bool) {
    use mlua::ffi;
    // SAFETY: lua_sethook neither allocates nor raises.
    let _ = unsafe {
        lua.exec_raw::<()>((), |l| {
            if on {
                ffi::lua_sethook(l, Some(hook), ffi::LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
            } else {
                ffi::lua_sethook(l, None, 0, 0);
            }
        })
    };
}

/// While a script or a library load runs: the hook is set and the status says so; when it
/// ends, however it ends (a panic under a command unwinds through here too), both are undone,
/// so the server never stays BUSY for a script that is gone.
pub(super) struct Running<'a> {
    lua: &'a Lua,
    status: &'a super::Status,
}

impl<'a> Running<'a> {
    /// Starts a script run (`eval`: EVAL rather than FCALL).
    pub(super) fn script(lua: &'a Lua, status: &'a super::Status, eval: bool) -> Running<'a> {
        status.kill.store(false, Ordering::Relaxed);
        status.dirty.store(false, Ordering::Relaxed);
        status.eval.store(eval, Ordering::Relaxed);
        status
            .since
            .store(crate::db::now_ms().max(1), Ordering::Release);
        set_hook(lua, true);
        Running { lua, status }
    }

    /// Starts a library load, stopped past [`LOAD_TIMEOUT_MS`].
    pub(super) fn load(lua: &'a Lua, status: &'a super::Status) -> Running<'a> {
        status.kill.store(false, Ordering::Relaxed);
        status.load_deadline.store(
            crate::db::now_ms().saturating_add(LOAD_TIMEOUT_MS),
            Ordering::Release,
        );
        set_hook(lua, true);
        Running { lua, status }
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        set_hook(self.lua, false);
        self.status.since.store(0, Ordering::Release);
        self.status.load_deadline.store(0, Ordering::Release);
    }
}

/// A borrowed byte string converted to a Lua string.
struct BytesArg<'a>(&'a Bytes);

impl mlua::IntoLua for BytesArg<'_> {
    fn into_lua(self, lua: &Lua) -> mlua::Result<Value> {
        lua.create_string(self.0.as_ref()).map(Value::String)
    }
}

/// `redis.call`/`redis.pcall`'s Rust half: the arguments become a command (numbers as `%.17g`,
/// as Redis writes them), Redis's checks for scripts run (`scriptCall`), the command runs, and
/// its reply comes back as Lua values: `(value, failed)`, `failed` when it is an error table.
fn call_command(
    lua: &Lua,
    server: &Arc<ServerState>,
    state: &mut SessionState,
    n: usize,
    argv: &Table,
) -> mlua::Result<(Value, bool)> {
    if n == 0 {
        let t = error_table(
            lua,
            b"Please specify at least one argument for this redis lib call",
            false,
        )?;
        return Ok((Value::Table(t), true));
    }
    let mut args = Vec::with_capacity(n.min(argv.raw_len() + 1));
    for i in 1..=n {
        // One argument at a time: a call may have thousands. (Numbers arrive as the text
        // Redis makes of them: `api::call_dispatcher` writes them while they are doubles.)
        match argv.raw_get::<Value>(i)? {
            Value::String(s) => args.push(Bytes::copy_from_slice(&s.as_bytes())),
            _ => {
                let t = error_table(
                    lua,
                    b"Lua redis lib command arguments must be strings or integers",
                    false,
                )?;
                return Ok((Value::Table(t), true));
            }
        }
    }
    // The checks run as the script's call too (an ACL refusal is logged in the `lua`
    // context).
    let outer = std::mem::replace(&mut state.in_script, true);
    let checked = check_for_script(lua, server, state, &args);
    state.in_script = outer;
    let reply = match checked {
        Err((text, spec)) => {
            if let Some(spec) = spec {
                state.stats.per_command.count_rejection(spec);
            }
            // The refusal is an error reply of its own (Redis's afterErrorReply), counted
            // even when redis.pcall hands it to the script.
            // A text without a leading '-' counts as ERR (Redis's afterErrorReply).
            match text.strip_prefix('-') {
                Some(coded) => state.stats.count_error(coded),
                None => state.stats.count_error("ERR"),
            }
            let t = error_table(lua, text.as_bytes(), true)?;
            return Ok((Value::Table(t), true));
        }
        Ok(()) => {
            let resp3 = lua.app_data_ref::<RunCtx>().is_some_and(|r| r.resp3);
            state.dialect = if resp3 {
                Dialect::Resp3
            } else {
                Dialect::Resp2
            };
            let outer = std::mem::replace(&mut state.in_script, true);
            let reply = dispatch::run_from_script(server, state, &args);
            state.in_script = outer;
            reply
        }
    };
    let resp3 = state.dialect == Dialect::Resp3;
    let failed = matches!(reply, Frame::Error(_) | Frame::BlobError(_));
    let value = convert::frame_to_lua(lua, &reply, resp3)?;
    Ok((value, failed))
}

/// Redis's `scriptCall` checks: the command exists with the right arity, may run from a
/// script, may write (EVAL_RO, `no-writes`), and the maxmemory rule for a first write.
fn check_for_script(
    lua: &Lua,
    server: &Arc<ServerState>,
    state: &SessionState,
    args: &[Bytes],
) -> Result<(), (String, Option<&'static Spec>)> {
    let name = args.first().map_or(&[][..], |a| a.as_ref());
    let command = dispatch::lookup(name);
    let mut spec = command.map(|c| &c.spec);
    if let Some(parent) = spec.filter(|s| !s.subcommands.is_empty() && args.len() > 1) {
        spec = args
            .get(1)
            .and_then(|sub| dispatch::lookup_subcommand(parent, sub));
    }
    let Some(spec) = spec else {
        return Err(("Unknown Redis command called from script".into(), None));
    };
    if !spec.arity_accepts(args.len()) {
        return Err((
            "Wrong number of args calling Redis command from script".into(),
            Some(spec),
        ));
    }
    if spec.flags.contains(Flag::Noscript)
        && !server
            .script_disable_deny
            .load(std::sync::atomic::Ordering::Relaxed)
    {
        return Err((
            "This Redis command is not allowed from script".into(),
            Some(spec),
        ));
    }
    if !spec.flags.contains(Flag::Stale) && dispatch::refuses_stale_data(server) {
        return Err((
            "Can not execute the command on a stale replica".into(),
            Some(spec),
        ));
    }
    // Redis's scriptVerifyACL: the caller's rules, logged in the `lua` context.
    if let Err(denied) = dispatch::permitted(server, state, spec, args) {
        return Err((
            format!("The user executing the script {}", denied.message()),
            Some(spec),
        ));
    }
    let write = spec.flags.contains(Flag::Write);
    let Some(mut run) = lua.app_data_mut::<RunCtx>() else {
        return Ok(());
    };
    if run.read_only && (write || spec.flags.contains(Flag::MayReplicate)) {
        return Err((
            "Write commands are not allowed from read-only scripts.".into(),
            Some(spec),
        ));
    }
    // The server's state refuses a first write (Redis's scriptVerifyWriteCommandAllow; only
    // an EVAL without flags gets here with min-replicas unmet: prepare() refuses the others).
    if write && !run.dirty {
        if dispatch::read_only_replica(server) {
            return Err((format!("-{}", dispatch::READONLY_REPLICA), Some(spec)));
        }
        if dispatch::lacks_good_replicas(server) {
            return Err((format!("-{}", dispatch::NOREPLICAS), Some(spec)));
        }
    }
    if !run.allow_oom && !run.dirty && spec.flags.contains(Flag::Denyoom) && server.out_of_memory()
    {
        return Err((
            "-OOM command not allowed when used memory > 'maxmemory'.".into(),
            Some(spec),
        ));
    }
    if write {
        run.dirty = true;
        if let Some(status) = lua.app_data_ref::<Arc<super::Status>>() {
            status.dirty.store(true, Ordering::Release);
        }
    }
    Ok(())
}
