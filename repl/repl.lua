-- repl.lua -- the REPL's goroutine side: goroutine 1 runs this after the
-- script (if any), so typed lines share the script's globals.  Embedded in
-- the lugo command (repl.c); it talks to the terminal only through `next`.
--
-- next(prompt [, matches [, history]]) parks until the host has something
-- (history: a whole chunk just read, for the host's history list):
--   "line", text     a line was typed (without its newline)
--   "eof"            Ctrl-D at an empty prompt
--   "cancel"         Ctrl-C at the prompt: drop the pending input
--   "complete", text Tab: text is the line up to the cursor; answer with
--                    the matches in the next call to next
-- rawmeta(v) is v's metatable even when __metatable hides it (for
-- completion of methods on lugo's objects).  traceback(msg) is
-- luaL_traceback from the caller of the message handler.
-- The host calls step() again and again from C (under pcall: an interrupt
-- that lands in this code, not in the user's, is dropped there); step
-- returns false at the end of input.
local next, rawmeta, traceback = ...

local pending        -- lines of an incomplete chunk, or nil
local matches        -- completion answer for the next call to next
local history        -- a chunk read whole, for the host's history

local keywords = {
  "and", "break", "do", "else", "elseif", "end", "false", "for", "function",
  "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then",
  "true", "until", "while",
}

local function prompt()
  local p = rawget(_G, pending and "_PROMPT2" or "_PROMPT")
  if p == nil then p = pending and ">> " or "> " end
  return tostring(p)
end

-- an error escaping a typed chunk: message and traceback, as lua prints
-- them, down to the chunk (the REPL's own frames are left out)
local function handler(e)
  if type(e) ~= "string" then
    local mt = rawmeta(e)
    if mt and mt.__tostring then
      local ok, s = pcall(tostring, e)
      e = ok and s or "(error object is not a string)"
    else
      e = ("(error object is a %s value)"):format(type(e))
    end
  end
  local tb = traceback(e)
  local cut = tb:find("\n\t%[C%]: in function 'xpcall'")
  if cut then tb = tb:sub(1, cut - 1) .. "\n\t[C]: in ?" end
  return tb
end

local function report(msg)
  io.stderr:write(tostring(msg), "\n")
  io.stderr:flush()
end

local function printresults(n, ...)
  if n > 0 then
    local ok, err = pcall(print, ...)
    if not ok then report("error calling 'print' (" .. tostring(err) .. ")") end
  end
end

local function run(chunk)
  local r = table.pack(xpcall(chunk, handler))
  io.stdout:flush()
  if r[1] then printresults(r.n - 1, table.unpack(r, 2, r.n))
  else report(r[2]) end
end

-- the REPL's commands (a line starting with ':' and a letter is never Lua)
local commands = {}
commands.goroutines = function()
  io.stdout:write(runtime.Stack(true))
end
commands.g = commands.goroutines
commands.help = function()
  print([[
  Lua statements run; expressions (or =expr) print their values.
  Goroutines started here keep running between prompts.
  :goroutines  (:g)   dump every goroutine (runtime.Stack(true))
  :help               this text
  Ctrl-C stops the running line; Ctrl-D at an empty prompt leaves.]])
end

local function command(line)
  local name = line:match("^:(%a+)%s*$")
  local f = name and commands[name]
  if f then f() else report("unknown command '" .. line .. "' (try :help)") end
end

-- the completions of the word before the cursor: names of globals and
-- keywords; fields after '.', methods after ':' (also those found through
-- __index tables, lugo's objects included).  __index functions are not
-- called: completing must not run code.
local function fields(v, methods, out, seen)
  local depth = 0
  while v ~= nil and depth < 8 do
    if type(v) == "table" then
      for k, x in pairs(v) do
        if type(k) == "string" and k:match("^[%a_][%w_]*$") and not seen[k] and
           (not methods or type(x) == "function") then
          seen[k] = true
          out[#out + 1] = k
        end
      end
    end
    local mt = rawmeta(v)
    v = mt and rawget(mt, "__index")
    if type(v) == "function" then break end
    depth = depth + 1
  end
end

local function complete(text)
  local word = text:match("[%w_%.:]*$")
  local path, sep, part = word:match("^(.-)([%.:]?)([%w_]*)$")
  local names, seen = {}, {}
  if sep == "" then
    fields(_G, false, names, seen)
    for _, k in ipairs(keywords) do names[#names + 1] = k end
  else
    local v = _G
    for name in path:gmatch("[^%.]+") do
      if type(v) ~= "table" then
        local mt = rawmeta(v)
        v = mt and type(rawget(mt, "__index")) == "table" and rawget(mt, "__index") or nil
      end
      if type(v) ~= "table" or not name:match("^[%a_][%w_]*$") then return {} end
      local x = rawget(v, name)
      if x == nil then  -- through __index tables, as fields() looks
        local mt, t = rawmeta(v), nil
        t = mt and rawget(mt, "__index")
        while type(t) == "table" and x == nil do
          x = rawget(t, name)
          mt = rawmeta(t)
          t = mt and rawget(mt, "__index")
        end
      end
      v = x
    end
    if path == "" or path:find(":") then return {} end
    fields(v, sep == ":", names, seen)
  end
  local out, base = {}, word:sub(1, #word - #part)
  for _, k in ipairs(names) do
    if k:sub(1, #part) == part then out[#out + 1] = base .. k end
  end
  table.sort(out)
  return out
end

-- one exchange with the host; false at the end of input
local function step()
  local m, h = matches, history
  matches, history = nil, nil
  local kind, text = next(prompt(), m, h)
  if kind == "eof" then
    if pending then pending = nil end
    return false
  elseif kind == "cancel" then
    pending = nil
    return true
  elseif kind == "complete" then
    local ok, r = pcall(complete, text)
    matches = ok and r or {}
    return true
  end
  if not pending then
    if text:match("^%s*$") then return true end
    if text:match("^:%a") then history = text command(text) return true end
    local expr = text:sub(1, 1) == "=" and text:sub(2) or text
    local f = load("return " .. expr, "=stdin", "t")
    if f then history = text run(f) return true end
    text = expr ~= text and "return " .. expr or text
    pending = {}
  end
  pending[#pending + 1] = text
  local chunk = table.concat(pending, "\n")
  local f, err = load(chunk, "=stdin", "t")
  if not (f == nil and err:sub(-5) == "<eof>") then history = chunk end
  if f then
    pending = nil
    run(f)
  elseif err:sub(-5) == "<eof>" then
    -- incomplete: wait for more
  else
    pending = nil
    report(err)
  end
  return true
end

return step
