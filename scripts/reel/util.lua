--- reel.util: small helpers the library's modules share.
--
--     local util = require "reel.util"
--     local typename, misuse = util.typename, util.misuse
--     if type(name) ~= "string" then
--       misuse(("bad argument #1 to 'f' (string expected, got %s)"):format(typename(name)))
--     end
--
-- One copy of what several modules would otherwise each write again: type
-- names for messages, raising a caller's mistake, paths, lists, levels,
-- clocks and counts as people read them, and the source lines of data
-- files (templates, rigs) that messages point at.
-- Nothing here keeps state or touches files.
--
-- `misuse` raises at the level it is given counted from the function that
-- calls it, exactly as a local helper would: a module keeps it as a local
-- (`local misuse = util.misuse`) and calls it directly, never through a
-- wrapper of its own, so that messages keep naming the caller's line.
--
-- Threads: whatever thread runs the calling script; pure functions.
-- @module reel.util

local M = {}

--- The type name messages use for a value: Lua's `type`, but "number" for
-- floats and integers alike.
-- @param v
-- @treturn string
function M.typename(v)
  return math.type(v) == "float" and "number" or type(v)
end

--- Raises a caller's mistake: msg at `level` (default 2, the caller of the
-- function that calls `misuse`), counted from that function.
-- @tparam string msg
-- @tparam[opt=2] integer level
-- @raise always
function M.misuse(msg, level)
  error(msg, (level or 2) + 1)
end

--- Joins two path parts with one "/" (none added when `a` ends in one).
-- @tparam string a
-- @tparam string b
-- @treturn string
function M.join(a, b)
  if a:sub(-1) == "/" then return a .. b end
  return a .. "/" .. b
end

--- Whether t is a table whose keys are exactly 1 to n (an empty table is).
-- @param t
-- @treturn boolean
function M.is_list(t)
  if type(t) ~= "table" then return false end
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  for i = 1, n do
    if t[i] == nil then return false end
  end
  return true
end

--- The first index of v in list, or nil.
-- @tparam table list
-- @param v
-- @treturn ?integer
function M.index_of(list, v)
  for i, x in ipairs(list) do
    if x == v then return i end
  end
end

--- A linear peak level (0 to 1 and more) in dBFS; -inf for 0 or less.
-- @tparam number peak
-- @treturn number
function M.peak_db(peak)
  if peak <= 0 then return -math.huge end
  return 20 * math.log(peak, 10)
end

--- Seconds as a clock for people: minutes and seconds to the millisecond,
-- "2:05.250".
-- @tparam number seconds
-- @treturn string
function M.clock(seconds)
  local m = math.floor(seconds / 60)
  return ("%d:%06.3f"):format(m, seconds - 60 * m)
end

--- A count with its word, "1 take", "3 takes" (an "s" for any n but 1).
-- @tparam integer n
-- @tparam string word
-- @treturn string
function M.plural(n, word)
  return ("%d %s%s"):format(n, word, n == 1 and "" or "s")
end

--- The lines of a source text, without their line ends (a last line
-- without one counts too).
-- @tparam string src
-- @treturn {string,...}
function M.lines(src)
  local lines, n = {}, 0
  for l in (src .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    lines[n] = l
  end
  return lines
end

--- The line where `key =` is written inside a table constructor of a data
-- file, outside the constructors nested in it, or nil when not found (or
-- when key is not a name).
-- @tparam {string,...} lines the file's lines (`M.lines`)
-- @tparam table spans table -> `{first line, last line}` of its constructor
--   (as reel.sandbox's `load_data` notes them)
-- @tparam table tbl the table holding the field
-- @tparam table span `spans[tbl]`
-- @param key the field's key
-- @treturn ?integer
function M.key_line(lines, spans, tbl, span, key)
  if type(key) ~= "string" or not key:match("^[%a_][%w_]*$") then return nil end
  local inner = {}
  for _, v in pairs(tbl) do
    local s = type(v) == "table" and spans[v]
    if s then inner[#inner + 1] = s end
  end
  for l = span[1], math.min(span[2], #lines) do
    local nested = false
    for _, s in ipairs(inner) do
      if l > s[1] and l < s[2] then nested = true break end
    end
    if not nested then
      local text, init = lines[l], 1
      while true do
        local a, b = text:find(key .. "%s*=", init)
        if not a then break end
        local before = a > 1 and text:sub(a - 1, a - 1) or ""
        local after = text:sub(b + 1, b + 1)
        if not before:match("[%w_%.]") and after ~= "=" then return l end
        init = b + 1
      end
    end
  end
  return nil
end

return M
