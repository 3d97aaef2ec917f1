--- spec_json.lua: scripts/reel/json.lua, the session file encoder.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/helper.lua")
local json = require "reel.json"
local cjson = require "cjson"

T.test("sorted keys, indentation, final newline", function()
  T.eq(json.encode{ b = 1, a = { 1, 2 }, c = "x" },
    '{\n  "a": [1, 2],\n  "b": 1,\n  "c": "x"\n}\n')
end)

T.test("empty tables and markers", function()
  T.eq(json.encode{}, "[]\n")
  T.eq(json.encode(json.object{}), "{}\n")
  T.eq(json.encode{ list = json.array{}, map = json.object{} }, '{\n  "list": [],\n  "map": {}\n}\n')
end)

T.test("strings are escaped, slashes are not", function()
  local s = 'a/b "q" \\ \n\t\1'
  local out = json.encode{ s = s }
  T.ok(out:find('"a/b \\"q\\" \\\\ \\n\\t\\u0001"', 1, true), out)
  T.eq(cjson.decode(out).s, s)
end)

T.test("numbers: integers exact, non-finite as null", function()
  local out = json.encode{ big = (1 << 53) + 1, f = 0.25, inf = -math.huge, nan = 0 / 0, whole = 3.0 }
  local d = cjson.decode(out)
  T.ok(out:find('"big": 9007199254740993', 1, true), out)
  T.eq(d.f, 0.25)
  T.eq(d.inf, cjson.null)
  T.eq(d.nan, cjson.null)
  T.ok(out:find('"whole": 3\n', 1, true), out)
end)

T.test("decode gives integers back", function()
  local v = json.decode('{"n": 48000, "x": 1.5, "l": [1, 2]}')
  T.eq(math.type(v.n), "integer")
  T.eq(math.type(v.l[2]), "integer")
  T.eq(v.x, 1.5)
  local bad, err = json.decode("{")
  T.eq(bad, nil)
  T.eq(type(err), "string")
end)

T.test("refuses what JSON cannot hold", function()
  local t = {}
  t.self = t
  T.raises(function() json.encode(t) end, "contains itself")
  T.raises(function() json.encode{ f = print } end, "cannot encode a function")
  T.raises(function() json.encode{ [true] = 1, x = 1 } end, "keys must be strings")
end)

T.done()
