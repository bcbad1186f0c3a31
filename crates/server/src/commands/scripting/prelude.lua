-- The sandbox every script runs in, built once per Lua state (`engine.rs` runs this chunk,
-- named "=respect", with the Rust halves of the API as its arguments). Redis 7.0 protects
-- its globals with a patched Lua (read-only tables); this Lua is stock 5.1, so the same
-- rules are kept with proxies: scripts see a global table that is empty, reads through to the
-- real one (an unknown name is an error) and refuses writes, and library tables are proxies
-- of the same kind.
local raw_dispatch, raw_api, real = ...
local dbg = debug
local error, type, tostring, rawget, setmetatable, xpcall, select =
  error, type, tostring, rawget, setmetatable, xpcall, select
local lua_pcall = pcall
local killed = raw_api.killed

local function readonly()
  error('Attempt to modify a readonly table', 2)
end

-- A read-only view of `t`.
local function protect(t)
  return setmetatable({}, { __index = t, __newindex = readonly, __metatable = false })
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
  while i and i.source == '=respect' do
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
local allowed = {
  'xpcall', 'tostring', 'getfenv', 'setmetatable', 'next', 'assert', 'tonumber', 'rawequal',
  'collectgarbage', 'getmetatable', 'rawset', 'coroutine', 'type', 'select', 'unpack',
  'gcinfo', 'pairs', 'rawget', 'loadstring', 'ipairs', '_VERSION', 'setfenv', 'load', 'error',
  'newproxy',
}
for _, name in ipairs(allowed) do
  rawset(real, name, _G[name])
end
rawset(real, 'pcall', redis_pcall_builtin)
rawset(real, 'string', protect(string))
rawset(real, 'table', protect(table))
rawset(real, 'math', protect(math_proxy))
rawset(real, 'coroutine', protect(coroutine))
for name, lib in pairs(raw_api.libs) do
  rawset(real, name, protect(lib))
end
rawset(real, 'redis', protect(redis))
rawset(real, '__redis__err__handler', handler)

local globals = setmetatable({}, {
  __index = real,
  __newindex = readonly,
  __metatable = false,
})
rawset(real, '_G', globals)
setmetatable(real, {
  __index = function(_, name)
    error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
  end,
})
setfenv(0, globals)

-- Runs a compiled script (EVAL: no arguments) or a function (FCALL: keys, args) under the
-- handler; answers (true, first result) or (false, the error table).
local function run(f, keys, args)
  if keys == nil then
    return xpcall(f, handler)
  end
  return xpcall(function()
    return f(keys, args)
  end, handler)
end
return run, globals, redis
