-- The sandbox every script runs in, built once per Lua state (`engine.rs` runs this chunk,
-- named "=respect", with the Rust halves of the API as its arguments). Redis 7.0 protects
-- its globals with a patched Lua (read-only tables); this Lua is stock 5.1, so the same
-- rules are kept with proxies: scripts see a global table that is empty, reads through to the
-- real one (an unknown name is an error) and refuses writes, and library tables are proxies
-- of the same kind.
local raw_dispatch, raw_api, real = ...
local dbg = debug
local error, type, tostring, rawget, setmetatable, xpcall, select =
  error, type, tostring, rawget, setmetatable, raw_api.xpcall, select
local raw_rawset, raw_getmetatable = rawset, getmetatable
local raw_loadstring, raw_load, concat = loadstring, load, table.concat
-- pcall and xpcall as Lua's, but with their status slot pushed before the call (libs.rs).
local lua_pcall = raw_api.pcall
local killed = raw_api.killed
local the_globals = _G

local function readonly()
  error('Attempt to modify a readonly table', 2)
end

-- Tables no script may change, not even with rawset: the globals, the library proxies, a
-- function library's environment. Weak keys: an entry goes with its table.
local sealed = setmetatable({}, { __mode = 'k' })

-- A read-only view of `t`.
local function protect(t)
  local view = setmetatable({}, { __index = t, __newindex = readonly, __metatable = false })
  sealed[view] = true
  return view
end

local safe_rawset = raw_api.guarded(sealed, 0)
local safe_setmetatable = raw_api.guarded(sealed, 1)

-- Source text only: Lua 5.1 does not verify bytecode, and loading a crafted binary chunk can
-- read and write memory (Redis's CVE-2015-4335; its Lua parses every chunk as text).
-- A binary chunk gets the answer of that text parser: the chunk's name as Lua's `luaO_chunkid`
-- shows it (LUA_IDSIZE 60), then the parser's complaint about the escape byte.
local function chunkid(source)
  -- C reads the name as a string: it ends at its first NUL byte.
  source = source:match('^[^%z]*')
  local first = source:byte(1)
  if first == 61 then -- '=': the name as given
    return source:sub(2, 60)
  elseif first == 64 then -- '@': a file name, its end kept
    local name = source:sub(2)
    if #name > 60 - 8 then
      return '...' .. name:sub(#name - (60 - 8) + 1)
    end
    return name
  end
  local len = (source:find('[\n\r]') or (#source + 1)) - 1
  if len > 60 - 17 then
    len = 60 - 17
  end
  if len < #source then
    return '[string "' .. source:sub(1, len) .. '..."]'
  end
  return '[string "' .. source .. '"]'
end
local function safe_loadstring(chunk, name)
  if type(chunk) == 'string' and chunk:byte(1) == 27 then
    return nil, chunkid(name or chunk) .. ":1: unexpected symbol near 'char(27)'"
  end
  return raw_loadstring(chunk, name)
end
local function safe_load(reader, name)
  if type(reader) ~= 'function' then
    return raw_load(reader, name)
  end
  local parts, n = {}, 0
  while true do
    local piece = reader()
    if piece == nil or piece == '' then
      break
    end
    if type(piece) ~= 'string' then
      return nil, 'reader function must return a string'
    end
    n = n + 1
    parts[n] = piece
  end
  return safe_loadstring(concat(parts), name or '=(load)')
end

-- Redis's error handler, plus: frames of this chunk are skipped, so an error raised by one of
-- the wrappers below names the script's line, as Redis's C functions do.
local function handler(err)
  local level = 2
  local i = dbg.getinfo(level, 'nSl')
  if i and i.what == 'C' then
    level = 3
    i = dbg.getinfo(level, 'nSl')
  end
  -- (A tail call leaves a pseudo-frame: this chunk's wrappers tail-call, Redis's C ones
  -- leave none.)
  while i and (i.source == '=respect' or i.what == 'tail') do
    level = level + 1
    i = dbg.getinfo(level, 'nSl')
  end
  if killed() then
    err = { err = 'ERR Script killed by user with SCRIPT KILL...' }
  elseif type(err) ~= 'table' then
    err = { err = 'ERR ' .. tostring(err) }
  end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end

-- Redis's pcall: an error table's `err` text is what the caller gets.
local function pcall_result(ok, ...)
  if ok then
    return ok, ...
  end
  local e = ...
  if type(e) == 'table' then
    local text = e.err
    if type(text) == 'string' or type(text) == 'number' then
      return false, text
    end
  end
  return false, e
end
local function redis_pcall_builtin(...)
  return pcall_result(lua_pcall(...))
end

-- C closures (`api::make_wrapper`) so that, as Redis's own C functions, they leave the
-- calling frame in place (a Lua wrapper would be a tail call's target and hide the script's
-- line): kind 0 raises the (value, error) answer's error, 1 is redis.call, 2 redis.pcall.
local make = raw_api.make
local redis = {}
redis.call = make(raw_dispatch, 1)
redis.pcall = make(raw_dispatch, 2)
for name, f in pairs(raw_api.raising) do
  redis[name] = make(f, 0)
end
for name, f in pairs(raw_api.plain) do
  redis[name] = f
end
for name, v in pairs(raw_api.constants) do
  redis[name] = v
end

local math_proxy = {}
for k, v in pairs(math) do
  math_proxy[k] = v
end
math_proxy.random = raw_api.math_random
math_proxy.randomseed = raw_api.math_randomseed

-- The real globals: Redis's allow list, nothing else.
-- (redis-server 7.0.15 as measured has no getfenv, setfenv or newproxy: nor does this one, so
-- no script reaches a function's environment or creates a userdata with a finalizer.)
local allowed = {
  'xpcall', 'tostring', 'setmetatable', 'next', 'assert', 'tonumber', 'rawequal',
  'collectgarbage', 'getmetatable', 'rawset', 'coroutine', 'type', 'select', 'unpack',
  'gcinfo', 'pairs', 'rawget', 'loadstring', 'ipairs', '_VERSION', 'load', 'error',
}
for _, name in ipairs(allowed) do
  raw_rawset(real, name, _G[name])
end
raw_rawset(real, 'pcall', redis_pcall_builtin)
raw_rawset(real, 'xpcall', raw_api.xpcall)
raw_rawset(real, 'rawset', safe_rawset)
raw_rawset(real, 'setmetatable', safe_setmetatable)
raw_rawset(real, 'loadstring', safe_loadstring)
raw_rawset(real, 'load', safe_load)
local string_view = protect(string)
raw_rawset(real, 'string', string_view)
raw_rawset(real, 'table', protect(table))
raw_rawset(real, 'math', protect(math_proxy))
raw_rawset(real, 'coroutine', protect(coroutine))
for name, lib in pairs(raw_api.libs) do
  raw_rawset(real, name, protect(lib))
end
raw_rawset(real, 'redis', protect(redis))
raw_rawset(real, '__redis__err__handler', handler)

local function nonexistent(_, name)
  error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
end
-- getmetatable(_G) answers a read-only table like the one Redis's scripts see (an __index
-- that refuses unknown names), not the view's own metatable.
local globals = setmetatable({}, {
  __index = real,
  __newindex = readonly,
  __metatable = protect({ __index = nonexistent }),
})
raw_rawset(real, '_G', globals)
setmetatable(real, { __index = nonexistent })
sealed[globals] = true
sealed[real] = true

-- Strings' methods: the metatable every string shares reads through the read-only view, and
-- what getmetatable('') answers is a read-only view of it.
local string_mt = raw_getmetatable('')
raw_rawset(string_mt, '__index', string_view)
raw_rawset(string_mt, '__metatable', protect({ __index = string_view }))

-- Runs a compiled script (EVAL: no arguments) or a function (FCALL: keys, args) under the
-- handler; answers (true, first result) or (false, the error table). (`xpcall` is the one of
-- libs.rs, which does not push above the results: a script may return thousands of values.)
-- Each xpcall and its return share a line: once a script is killed, the hook raises on every
-- new line, and a line of this chunk after the xpcall would raise outside the handler.
local function run(f, keys, args)
  if keys == nil then return xpcall(f, handler) end
  return xpcall(function() return f(keys, args) end, handler)
end

-- A table Rust builds for scripts (a function library's environment) is sealed as the rest.
local function seal(t)
  sealed[t] = true
end

-- What scripts must never reach, should a way to the state's first global table appear: the
-- debug library, files, output; and that table is read-only from here on. The closures of
-- this chunk get the scripts' globals as their environment.
for _, name in ipairs({ 'debug', 'dofile', 'loadfile', 'print', 'require', 'module', 'package',
  'os', 'io' }) do
  raw_rawset(the_globals, name, nil)
end
sealed[the_globals] = true
setmetatable(the_globals, { __newindex = readonly, __metatable = false })
for _, f in ipairs({ readonly, protect, chunkid, safe_loadstring, safe_load,
  handler, pcall_result, redis_pcall_builtin, run, seal, nonexistent }) do
  setfenv(f, globals)
end
setfenv(0, globals)
return run, globals, redis, seal
