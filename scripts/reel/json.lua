--- Stable, readable JSON for session files.
--
-- Decoding is lua-cjson's. Encoding is done here because session files are
-- meant to be read and diffed by people: keys come out sorted, one per line,
-- with two-space indentation, and '/' is not escaped (cjson writes
-- "audio\/Vox_T01.wav" and orders keys by hash). Strings and numbers follow
-- RFC 8259; NaN and infinities (a silent take's peak is -inf dBFS) become
-- null.
-- @module reel.json
local cjson = require "cjson"

local json = {}

local array_mt = { __name = "reel.json.array" }
local object_mt = { __name = "reel.json.object" }

--- Marks t as a JSON array, so that it encodes as [] when empty.
-- @tparam table t
-- @treturn table t
function json.array(t)
  return setmetatable(t or {}, array_mt)
end

--- Marks t as a JSON object, so that it encodes as {} when empty.
-- @tparam table t
-- @treturn table t
function json.object(t)
  return setmetatable(t or {}, object_mt)
end

local escapes = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function encode_number(n)
  if math.type(n) == "integer" then
    return string.format("%d", n)
  end
  if n ~= n or n == math.huge or n == -math.huge then
    return "null"
  end
  if n == math.floor(n) and math.abs(n) < 2^53 then
    return string.format("%d", math.tointeger(n))
  end
  return string.format("%.10g", n)
end

local function is_array(t)
  local mt = getmetatable(t)
  if mt == array_mt then return true end
  if mt == object_mt then return false end
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  if n == 0 then return true end
  for i = 1, n do
    if t[i] == nil then return false end
  end
  return true
end

local function encode(v, indent, seen, out)
  local tv = type(v)
  if tv == "string" then
    out[#out + 1] = encode_string(v)
  elseif tv == "number" then
    out[#out + 1] = encode_number(v)
  elseif tv == "boolean" then
    out[#out + 1] = tostring(v)
  elseif v == nil or v == cjson.null then
    out[#out + 1] = "null"
  elseif tv == "table" then
    if seen[v] then error("json: cannot encode a table that contains itself", 0) end
    seen[v] = true
    local inner = indent .. "  "
    if is_array(v) then
      if #v == 0 then
        out[#out + 1] = "[]"
      else
        -- Short arrays of scalars stay on one line.
        local flat = #v <= 16
        for i = 1, #v do
          if type(v[i]) == "table" then flat = false break end
        end
        out[#out + 1] = "["
        for i = 1, #v do
          if not flat then out[#out + 1] = "\n" .. inner end
          encode(v[i], inner, seen, out)
          if i < #v then out[#out + 1] = flat and ", " or "," end
        end
        out[#out + 1] = flat and "]" or ("\n" .. indent .. "]")
      end
    else
      local keys = {}
      for k in pairs(v) do
        if type(k) ~= "string" then
          error("json: object keys must be strings, got " .. type(k), 0)
        end
        keys[#keys + 1] = k
      end
      table.sort(keys)
      if #keys == 0 then
        out[#out + 1] = "{}"
      else
        out[#out + 1] = "{"
        for i, k in ipairs(keys) do
          out[#out + 1] = "\n" .. inner .. encode_string(k) .. ": "
          encode(v[k], inner, seen, out)
          if i < #keys then out[#out + 1] = "," end
        end
        out[#out + 1] = "\n" .. indent .. "}"
      end
    end
    seen[v] = nil
  else
    error("json: cannot encode a " .. tv .. " value", 0)
  end
end

--- Encodes v as indented JSON with sorted keys and a final newline.
-- @param v a table, string, number, boolean or nil
-- @treturn string
function json.encode(v)
  local out = {}
  encode(v, "", {}, out)
  out[#out + 1] = "\n"
  return table.concat(out)
end

-- cjson reads every number as a float; integral ones become integers again
-- (frame counts, take numbers), as they were written.
local function integers(v)
  if type(v) == "number" then
    return math.tointeger(v) or v
  elseif type(v) == "table" then
    for k, x in pairs(v) do v[k] = integers(x) end
  end
  return v
end

--- Decodes a JSON text (lua-cjson); integral numbers come back as integers.
-- @tparam string s
-- @return the value, or nil and a message
function json.decode(s)
  local ok, v = pcall(cjson.decode, s)
  if not ok then return nil, tostring(v) end
  return integers(v)
end

--- The value decode gives for JSON null.
json.null = cjson.null

return json
