//! Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT, and (in `functions`) FUNCTION,
//! FCALL and FCALL_RO, as redis-server 7.0.15 runs them (`eval.c`, `script.c`,
//! `script_lua.c`, `functions.c`, `function_lua.c`) on an embedded Lua 5.1.
//!
//! - `engine`: the Lua state, the sandbox (`prelude.lua`), the script cache, a run.
//! - `api`: the `redis` table's functions; `convert`: replies to Lua and back.
//! - `libs` (`bit`), `cjson`, `msgpack` (`cmsgpack`), `structlib` (`struct`): the libraries.
//!
//! Scripts are atomic: EVAL and FCALL hold the server's gate exclusively (see
//! `dispatch::exclusive`), and the commands a script calls run inside it through
//! `dispatch::run_queued`, as EXEC's do, so their keyspace events, WATCH signals and
//! invalidations are the ones those commands cause anywhere.

mod api;
mod cjson;
mod convert;
mod engine;
pub(crate) mod functions;
mod libs;
mod msgpack;
mod specs;
mod structlib;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use respect_resp::Frame;

use super::args::{is_keyword, parse_i64};
use super::context::Ctx;
use super::dispatch;
use super::registry::{Flag, Flags, Spec};
use super::reply::{help, ok};
use crate::state::ServerState;
use engine::{flags, Engine, RunCtx};

pub use specs::COMMANDS;

/// The server's scripting state: two Lua engines, as Redis has two Lua states, each built on
/// first use: the one EVAL runs in (rebuilt by SCRIPT FLUSH) and the one function libraries
/// live in (FUNCTION FLUSH empties it; SCRIPT FLUSH leaves it alone); and the counters INFO
/// reads without taking their locks (a script may call INFO).
#[derive(Default)]
pub struct Scripting {
    engine: Mutex<Option<Engine>>,
    /// The function libraries' engine.
    functions_engine: Mutex<Option<Engine>>,
    /// The running script, as other connections see it (BUSY, SCRIPT KILL).
    pub(crate) status: Arc<Status>,
    /// Scripts in the cache (INFO number_of_cached_scripts).
    pub cached_scripts: AtomicUsize,
    /// Bytes of the script cache (INFO used_memory_scripts_eval).
    pub scripts_memory: AtomicUsize,
    /// Bytes the Lua state uses (INFO used_memory_lua).
    pub lua_memory: AtomicUsize,
    /// Functions, libraries and their bytes (INFO number_of_functions...).
    pub functions: AtomicUsize,
    /// Libraries loaded.
    pub libraries_count: AtomicUsize,
    /// Bytes of the libraries' code.
    pub functions_memory: AtomicUsize,
}

impl std::fmt::Debug for Scripting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scripting")
            .field("cached_scripts", &self.cached_scripts)
            .finish()
    }
}

/// Bytes an empty Lua state uses (Redis reports its own as `used_memory_lua` at start).
pub const EMPTY_LUA_MEMORY: usize = 31 * 1024;

impl Scripting {
    /// EVAL's engine, built if needed; `Err` is the reply when it cannot be.
    fn engine(&self) -> Result<MutexGuard<'_, Option<Engine>>, Frame> {
        self.built(&self.engine)
    }

    /// The function libraries' engine, built if needed.
    fn functions_engine(&self) -> Result<MutexGuard<'_, Option<Engine>>, Frame> {
        self.built(&self.functions_engine)
    }

    fn built<'a>(
        &self,
        slot: &'a Mutex<Option<Engine>>,
    ) -> Result<MutexGuard<'a, Option<Engine>>, Frame> {
        let mut guard = slot.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            match Engine::new(self.status.clone()) {
                Ok(e) => *guard = Some(e),
                Err(e) => {
                    return Err(Frame::Error(Bytes::from(format!(
                        "ERR cannot start the Lua engine: {e}"
                    ))))
                }
            }
        }
        Ok(guard)
    }

    fn count(&self, engine: &Engine) {
        self.cached_scripts
            .store(engine.script_count(), Ordering::Relaxed);
        self.scripts_memory
            .store(engine.scripts_memory(), Ordering::Relaxed);
        self.lua_memory.store(engine.memory(), Ordering::Relaxed);
    }

    /// SCRIPT FLUSH: a new Lua state and an empty cache, as Redis's `scriptingReset`; the
    /// function libraries, in their own engine, are untouched.
    fn flush(&self) {
        let mut guard = self.engine.lock().unwrap_or_else(|p| p.into_inner());
        *guard = None;
        self.cached_scripts.store(0, Ordering::Relaxed);
        self.scripts_memory.store(0, Ordering::Relaxed);
        self.lua_memory.store(0, Ordering::Relaxed);
    }

    /// INFO's functions, libraries and their bytes.
    pub fn function_counts(&self) -> (usize, usize, usize) {
        (
            self.functions.load(Ordering::Relaxed),
            self.libraries_count.load(Ordering::Relaxed),
            self.functions_memory.load(Ordering::Relaxed),
        )
    }

    /// INFO used_memory_lua.
    pub fn lua_memory(&self) -> usize {
        self.lua_memory
            .load(Ordering::Relaxed)
            .max(EMPTY_LUA_MEMORY)
    }
}

const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";

fn eval(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    eval_generic(ctx, argv, false, false)
}

fn evalsha(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    eval_generic(ctx, argv, true, false)
}

fn eval_ro(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    eval_generic(ctx, argv, false, true)
}

fn evalsha_ro(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    eval_generic(ctx, argv, true, true)
}

/// `numkeys` checked as Redis checks it: the keys and the arguments after them.
pub(crate) fn split_keys(
    argv: &[Bytes],
    bad_count: fn() -> Frame,
) -> Result<(&[Bytes], &[Bytes]), Frame> {
    let numkeys = argv
        .get(2)
        .and_then(|n| parse_i64(n))
        .ok_or_else(bad_count)?;
    let available = argv.len().saturating_sub(3);
    if numkeys > available as i64 {
        return Err(Frame::error(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    if numkeys < 0 {
        return Err(Frame::error("ERR Number of keys can't be negative"));
    }
    let rest = argv.get(3..).unwrap_or_default();
    Ok(rest.split_at(numkeys as usize))
}

/// The flags EVAL, EVALSHA and FCALL (and their `_RO` forms) have for the refusals before a
/// command runs (Redis's `evalGetCommandFlags` and `fcallGetCommandFlags`): a script with a
/// shebang, or a function, declares what it may do, and that replaces the command's own
/// `write`, `denyoom`, `stale` and `may-replicate`. Other commands, scripts without a
/// shebang and unknown scripts or functions keep the command's flags.
///
/// Worked out only when a rule could read them (`rules_apply`: a transaction being queued,
/// `maxmemory`, `min-replicas-to-write`, a replica), so a plain EVALSHA or FCALL takes no
/// lookup here. The engine is never built nor waited for: while another script runs (it
/// holds the engine), the command's own flags stand, and `prepare` checks the script's
/// flags again when this one runs.
pub(crate) fn command_flags(
    server: &ServerState,
    spec: &Spec,
    argv: &[Bytes],
    rules_apply: bool,
) -> Flags {
    if !rules_apply {
        return spec.flags;
    }
    let arg = argv.get(1).map_or(&[][..], |a| a.as_ref());
    let script_flags = match spec.name {
        "eval" | "eval_ro" => match engine::shebang(arg) {
            Ok((script_flags, _)) => script_flags,
            Err(_) => return spec.flags,
        },
        "evalsha" | "evalsha_ro" | "fcall" | "fcall_ro" => {
            let engine = if spec.name.starts_with("evalsha") {
                &server.scripting.engine
            } else {
                &server.scripting.functions_engine
            };
            let guard = match engine.try_lock() {
                Ok(guard) => guard,
                Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => return spec.flags,
            };
            let found = guard.as_ref().and_then(|engine| {
                if spec.name.starts_with("evalsha") {
                    engine.script(&arg.to_ascii_lowercase()).map(|s| s.flags)
                } else {
                    engine.function_flags(arg)
                }
            });
            match found {
                Some(script_flags) => script_flags,
                None => return spec.flags,
            }
        }
        _ => return spec.flags,
    };
    if script_flags & flags::EVAL_COMPAT != 0 {
        return spec.flags;
    }
    let mut out = spec
        .flags
        .without(Flag::Stale)
        .without(Flag::Denyoom)
        .without(Flag::Write)
        .without(Flag::MayReplicate);
    if script_flags & (flags::ALLOW_OOM | flags::NO_WRITES) == 0 {
        out = out.with(Flag::Denyoom);
    }
    if script_flags & flags::NO_WRITES == 0 {
        out = out.with(Flag::Write);
    }
    if script_flags & flags::ALLOW_STALE != 0 {
        out = out.with(Flag::Stale);
    }
    out
}

/// Redis's `scriptPrepareForRun` checks for a script's shebang flags, then the run's flags.
pub(crate) fn prepare(ctx: &Ctx<'_>, script_flags: u32, ro: bool) -> Result<RunCtx, Frame> {
    let compat = script_flags & flags::EVAL_COMPAT != 0;
    let stale = dispatch::refuses_stale_data(ctx.server);
    if compat && stale {
        return Err(Frame::error(dispatch::MASTERDOWN));
    }
    if !compat {
        // (`no-cluster` never refuses: this server has no cluster mode.)
        if stale && script_flags & flags::ALLOW_STALE == 0 {
            return Err(Frame::error(
                "MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' \
                 and 'allow-stale' flag is not set on the script.",
            ));
        }
        if script_flags & flags::NO_WRITES == 0 {
            if dispatch::read_only_replica(ctx.server) {
                return Err(Frame::error(
                    "READONLY Can not run script with write flag on readonly replica",
                ));
            }
            if ro {
                return Err(Frame::error(
                    "ERR Can not execute a script with write flag using *_ro command.",
                ));
            }
            if dispatch::lacks_good_replicas(ctx.server) {
                return Err(Frame::error(dispatch::NOREPLICAS));
            }
        }
        if script_flags & (flags::ALLOW_OOM | flags::NO_WRITES) == 0 && ctx.server.out_of_memory() {
            return Err(Frame::error(
                "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'",
            ));
        }
    }
    Ok(RunCtx {
        resp3: false,
        read_only: ro || (!compat && script_flags & flags::NO_WRITES != 0),
        dirty: false,
        allow_oom: !compat && script_flags & flags::ALLOW_OOM != 0,
        user: Arc::clone(&ctx.state.user),
    })
}

fn eval_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], evalsha: bool, ro: bool) -> Frame {
    // Shown before the commands the script calls, as Redis's evalCommand does.
    super::monitor::feed_script_call(ctx.state, argv);
    let (keys, args) = match split_keys(argv, super::reply::not_integer) {
        Ok(split) => split,
        Err(e) => return e,
    };
    let body = argv.get(1).cloned().unwrap_or_default();
    if evalsha && body.len() != 40 {
        return Frame::error(NOSCRIPT);
    }
    let scripting = &ctx.server.scripting;
    let mut guard = match scripting.engine() {
        Ok(g) => g,
        Err(e) => return e,
    };
    let Some(engine) = guard.as_mut() else {
        return Frame::error("ERR scripting engine unavailable");
    };
    let sha = if evalsha {
        Bytes::from(body.to_ascii_lowercase())
    } else {
        match engine.create(&body) {
            Ok(sha) => sha,
            Err(e) => {
                scripting.count(engine);
                return e;
            }
        }
    };
    let Some(script) = engine.script(&sha) else {
        return Frame::error(NOSCRIPT);
    };
    let run = match prepare(ctx, script.flags, ro) {
        Ok(run) => run,
        Err(e) => return e,
    };
    let function = script.function().clone();
    let name = String::from_utf8_lossy(&sha).into_owned();
    // Off the runtime's worker, as FCALL runs: other connections must be answered (BUSY,
    // SCRIPT KILL) while a long script runs.
    let (server, state) = (ctx.server, &mut *ctx.state);
    let reply =
        off_the_runtime(|| engine.run(server, state, &function, &name, true, keys, args, run));
    scripting.count(engine);
    reply
}

const SCRIPT_HELP: &[&str] = &[
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
];

fn script(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let sub = argv.get(1).map_or(&[][..], |s| s.as_ref());
    let argc = argv.len();
    let scripting = &ctx.server.scripting;
    if argc == 2 && is_keyword(sub, "HELP") {
        return help("script", SCRIPT_HELP);
    }
    if is_keyword(sub, "FLUSH") {
        let mode_ok = match argv.get(2..).unwrap_or_default() {
            [] => true,
            [mode] => is_keyword(mode, "SYNC") || is_keyword(mode, "ASYNC"),
            _ => false,
        };
        if !mode_ok {
            return Frame::error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
        }
        scripting.flush();
        return ok();
    }
    if is_keyword(sub, "EXISTS") {
        let guard = match scripting.engine() {
            Ok(g) => g,
            Err(e) => return e,
        };
        let found = |sha: &Bytes| guard.as_ref().is_some_and(|e| e.has(sha));
        return Frame::Array(
            argv.get(2..)
                .unwrap_or_default()
                .iter()
                .map(|sha| Frame::Integer(i64::from(found(sha))))
                .collect(),
        );
    }
    if argc == 3 && is_keyword(sub, "LOAD") {
        let mut guard = match scripting.engine() {
            Ok(g) => g,
            Err(e) => return e,
        };
        let Some(engine) = guard.as_mut() else {
            return Frame::error("ERR scripting engine unavailable");
        };
        let body = argv.get(2).cloned().unwrap_or_default();
        let reply = match engine.create(&body) {
            Ok(sha) => Frame::Bulk(sha),
            Err(e) => e,
        };
        scripting.count(engine);
        return reply;
    }
    if argc == 2 && is_keyword(sub, "KILL") {
        return super::scripting::kill(ctx, true);
    }
    if argc == 3 && is_keyword(sub, "DEBUG") {
        let mode = argv.get(2).map_or(&[][..], |s| s.as_ref());
        if is_keyword(mode, "NO") {
            return ok();
        }
        if is_keyword(mode, "YES") || is_keyword(mode, "SYNC") {
            return Frame::error("ERR the Lua debugger is not supported by this server");
        }
        return Frame::error("ERR Use SCRIPT DEBUG YES/SYNC/NO");
    }
    super::reply::unknown_subcommand_or_arity(sub, "script")
}

/// Runs `f` (a script) so that the async runtime's other work goes on meanwhile: on a
/// multi-threaded runtime, `block_in_place` hands this worker's queued tasks (and its I/O
/// driver) to another thread first, so the other connections are served (with BUSY, or
/// SCRIPT KILL) while the script runs.
pub(crate) fn off_the_runtime<R>(f: impl FnOnce() -> R) -> R {
    let multi = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}

/// A running script as the other connections see it.
///
/// # Timeouts, BUSY and SCRIPT KILL
///
/// A script runs holding the server's gate exclusively, so another connection's command
/// would wait for the gate until the script ends. Redis instead answers other clients once a
/// script has run past `busy-reply-threshold`: `-BUSY`, except SCRIPT KILL, FUNCTION KILL
/// and SHUTDOWN NOSAVE. The same here: the dispatcher asks [`busy_reply`] *before* it takes
/// the gate. It reads only these atomics: when the script started (`since`, 0 when none
/// runs), whether it wrote (`dirty`: then it cannot be killed), whether it is an EVAL or a
/// function. SCRIPT KILL sets `kill`; the Lua hook the run installs (every 100000
/// instructions, as Redis's `luaMaskCountHook`) sees it and raises Redis's error, which
/// the script's caller gets. The killer never touches the Lua state or the gate.
#[derive(Debug, Default)]
pub struct Status {
    /// When the running script started, in Unix ms; 0 when none runs.
    pub since: AtomicU64,
    /// Set by SCRIPT KILL / FUNCTION KILL; the hook raises the kill error.
    pub kill: AtomicBool,
    /// Whether the running script has called a write command.
    pub dirty: AtomicBool,
    /// Whether it is an EVAL (not a function).
    pub eval: AtomicBool,
    /// While FUNCTION LOAD runs a library's code: when it must have ended (Unix ms; 0 when
    /// no load runs). The hook stops a load that runs past it, as Redis's 500 ms limit.
    pub load_deadline: AtomicU64,
    /// While FCALL runs a function: its name as registered and the command as sent, for
    /// FUNCTION STATS from another connection (answered without the engine, see
    /// [`busy_reply`]).
    pub function: Mutex<Option<(Bytes, Vec<Bytes>)>>,
}

const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

/// While a script runs and has not yet run for `busy-reply-threshold`: how much longer until
/// it has (`None`: no script runs, or it is past the threshold). A connection waits that
/// long, without holding a thread, before it runs a command: Redis's event loop reads no
/// command then either, and answers BUSY once the threshold has passed.
pub(crate) fn busy_in(server: &ServerState) -> Option<std::time::Duration> {
    let since = server.scripting.status.since.load(Ordering::Acquire);
    if since == 0 {
        return None;
    }
    let threshold = busy_threshold(server);
    let ran = crate::db::now_ms().saturating_sub(since);
    (threshold != 0 && ran < threshold).then(|| std::time::Duration::from_millis(threshold - ran))
}

/// Whether a script runs past `busy-reply-threshold` now.
pub(crate) fn busy(server: &ServerState) -> bool {
    let since = server.scripting.status.since.load(Ordering::Acquire);
    if since == 0 {
        return false;
    }
    let threshold = busy_threshold(server);
    threshold != 0 && crate::db::now_ms().saturating_sub(since) >= threshold
}

fn busy_threshold(server: &ServerState) -> u64 {
    server.settings.busy_reply_threshold.load(Ordering::Relaxed)
}

/// Redis's BUSY error while a script runs past busy-reply-threshold (which one depends on
/// whether it is an EVAL or a function), `None` when none does.
pub(crate) fn busy_error(server: &ServerState) -> Option<Frame> {
    if !busy(server) {
        return None;
    }
    let eval = server.scripting.status.eval.load(Ordering::Relaxed);
    Some(Frame::error(if eval { BUSY_EVAL } else { BUSY_FUNCTION }))
}

/// The answer to `spec` while a script runs past `busy-reply-threshold` (see [`Status`]);
/// `None`: run the command as usual.
pub(crate) fn busy_reply(server: &ServerState, spec: &Spec) -> Option<Frame> {
    if !busy(server) {
        return None;
    }
    let status = &server.scripting.status;
    match spec.name {
        "script|kill" => return Some(kill_running(status, true)),
        "function|kill" => return Some(kill_running(status, false)),
        "shutdown" => return None,
        _ => {}
    }
    let eval = status.eval.load(Ordering::Relaxed);
    if spec.name == "function|stats" {
        let since = status.since.load(Ordering::Acquire);
        // Redis answers it during a function (the running one and the counts), and refuses it
        // during an EVAL. The engine is the script's, so the reply is built from what the
        // status and the counters hold.
        return Some(if eval {
            Frame::error(BUSY_EVAL)
        } else {
            functions::stats(&server.scripting, since)
        });
    }
    if spec.flags.contains(Flag::AllowBusy) {
        return None;
    }
    busy_error(server)
}

fn kill_running(status: &Status, by_script_kill: bool) -> Frame {
    if status.dirty.load(Ordering::Acquire) {
        return Frame::error(
            "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
        );
    }
    let eval = status.eval.load(Ordering::Relaxed);
    if by_script_kill && !eval {
        return Frame::error(BUSY_FUNCTION);
    }
    if !by_script_kill && eval {
        return Frame::error(BUSY_EVAL);
    }
    status.kill.store(true, Ordering::Release);
    ok()
}

/// SCRIPT KILL and FUNCTION KILL reaching the command itself: no script is running (a
/// running one is answered by [`busy_reply`] before the gate).
pub(crate) fn kill(_ctx: &mut Ctx<'_>, _eval: bool) -> Frame {
    Frame::error("NOTBUSY No scripts in execution right now.")
}

fn fcall(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    super::monitor::feed_script_call(ctx.state, argv);
    functions::fcall(ctx, argv, false)
}

fn fcall_ro(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    super::monitor::feed_script_call(ctx.state, argv);
    functions::fcall(ctx, argv, true)
}

fn function(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    functions::function(ctx, argv)
}
