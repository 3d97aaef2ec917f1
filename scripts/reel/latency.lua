--- Per-device round-trip latency profiles, as `reel calibrate` measures them.
--
-- The profile file is JSON, `latency.json` in reel's configuration folder:
-- `$REEL_CONFIG_DIR` when set (tests use it), else `$XDG_CONFIG_HOME/reel`,
-- else `~/.config/reel`. It maps a readable key to one measurement:
--
--     {
--       "profiles": {
--         "jack|system|48000|256|1>1": {
--           "api": "jack", "device": "system", "rate": 48000, "period": 256,
--           "output": 1, "input": 1, "latency": 256, "confidence": 57.1,
--           "level_db": -12.0, "measured": "2024-05-01T12:00:00Z"
--         }
--       },
--       "version": 1
--     }
--
-- A measurement holds for one API, device name, sample rate and period (a
-- different period is a different round trip) and was taken through one
-- output/input pair. Writes are atomic (`core.write_atomic`), so a reader
-- sees the old file or the new one, never half of one.
--
-- Session recording looks a device up with `latency.profile(info)` (wired up
-- as `reel.latency_profile`) and, when a profile exists, sets the recorder's
-- latency compensation to it.
--
-- Threads: the script's (control) thread.
-- @module reel.latency
local core = require "reel.core"
local json = require "reel.json"

local latency = {}

local VERSION = 1

--- The folder holding latency.json.
-- @treturn[1] string
-- @return[2] nil, message (no HOME and no override)
function latency.config_dir()
  local d = os.getenv("REEL_CONFIG_DIR")
  if d and d ~= "" then return d end
  d = os.getenv("XDG_CONFIG_HOME")
  if d and d ~= "" then return d .. "/reel" end
  d = os.getenv("HOME")
  if d and d ~= "" then return d .. "/.config/reel" end
  return nil, "no configuration folder: set HOME, XDG_CONFIG_HOME or REEL_CONFIG_DIR"
end

--- The path of the profile file.
-- @treturn[1] string
-- @return[2] nil, message
function latency.path()
  local d, err = latency.config_dir()
  if not d then return nil, err end
  return d .. "/latency.json"
end

--- The key of a measurement: "API|DEVICE|RATE|PERIOD|OUT>IN".
-- @tparam table e api, device, rate, period, output, input
-- @treturn string
function latency.key(e)
  return ("%s|%s|%d|%d|%d>%d"):format(e.api, e.device, e.rate, e.period, e.output, e.input)
end

--- Reads the profile file. A missing file is an empty profile.
-- @tparam[opt] string path default `latency.path()`
-- @treturn[1] table {version=, profiles={key=entry}}
-- @return[2] nil, message (unreadable or malformed file)
function latency.load(path)
  if not path then
    local err
    path, err = latency.path()
    if not path then return nil, err end
  end
  local f, oerr = io.open(path, "r")
  if not f then
    if core.exists(path) then return nil, oerr end
    return { version = VERSION, profiles = json.object{} }
  end
  local text, rerr = f:read("a")
  f:close()
  if not text then return nil, ("%s: %s"):format(path, rerr) end
  local doc, derr = json.decode(text)
  if type(doc) ~= "table" or (doc.profiles ~= nil and type(doc.profiles) ~= "table") then
    return nil, ("%s: not a latency profile file (%s); move it away to start afresh")
      :format(path, derr or "no 'profiles' object")
  end
  doc.version = doc.version or VERSION
  doc.profiles = json.object(doc.profiles or {})
  return doc
end

local function integer(v) return math.type(v) == "integer" and v or nil end

-- True when entry e is for the device described by info.
local function matches(e, info)
  return type(e) == "table" and e.api == info.api and e.device == info.name
    and e.rate == info.rate and e.period == info.period and integer(e.latency) ~= nil
end

--- The measured round trip for a device, in frames.
-- info is what `rec:info()` or `Device:info()` returns (api, name, rate,
-- period), optionally with `output` and `input` (1-based) naming the pair
-- used. A measurement of exactly that pair wins; otherwise the most recent
-- measurement of the same device, rate and period (on one device every pair
-- has the same round trip as a rule). Unreadable or missing files give nil.
-- @tparam table info
-- @treturn[1] integer frames
-- @treturn[1] table the profile entry used
-- @return[2] nil, message (no profile, or the file cannot be read)
function latency.profile(info)
  if type(info) ~= "table" then
    error(("bad argument #1 to 'latency_profile' (device info table expected, got %s)")
      :format(type(info)), 2)
  end
  for _, k in ipairs{ "api", "name" } do
    if type(info[k]) ~= "string" then
      error(("bad argument #1 to 'latency_profile' (field '%s' must be a string)"):format(k), 2)
    end
  end
  for _, k in ipairs{ "rate", "period" } do
    if math.type(info[k]) ~= "integer" then
      error(("bad argument #1 to 'latency_profile' (field '%s' must be an integer)"):format(k), 2)
    end
  end
  local doc, err = latency.load()
  if not doc then return nil, err end
  if info.output and info.input then
    local e = doc.profiles[latency.key{ api = info.api, device = info.name, rate = info.rate,
                                        period = info.period, output = info.output,
                                        input = info.input }]
    if matches(e, info) then return e.latency, e end
  end
  local best
  for _, e in pairs(doc.profiles) do
    if matches(e, info) then
      if not best or tostring(e.measured or "") > tostring(best.measured or "")
          or (e.measured == best.measured and latency.key(e) < latency.key(best)) then
        best = e
      end
    end
  end
  if best then return best.latency, best end
  return nil, ("no latency profile for %s '%s' at %d Hz, period %d (run reel calibrate)")
    :format(info.api, info.name, info.rate, info.period)
end

--- Stores one measurement, replacing the one under the same key.
-- @tparam table e api, device, rate, period, output, input, latency (frames),
--   and whatever else describes the measurement (confidence, level_db, ...);
--   `measured` (UTC, ISO 8601) is added when absent
-- @treturn[1] string the path written
-- @treturn[1] string the key
-- @return[2] nil, message
function latency.store(e)
  local path, err = latency.path()
  if not path then return nil, err end
  local doc, lerr = latency.load(path)
  if not doc then return nil, lerr end
  local entry = {}
  for k, v in pairs(e) do entry[k] = v end
  entry.measured = entry.measured or os.date("!%Y-%m-%dT%H:%M:%SZ")
  local key = latency.key(entry)
  doc.profiles[key] = entry
  doc.version = VERSION
  local dir = path:match("^(.*)/[^/]*$") or "."
  local ok, merr = core.mkdir_p(dir == "" and "/" or dir)
  if not ok then return nil, merr end
  local wok, werr = core.write_atomic(path, json.encode(doc))
  if not wok then return nil, werr end
  return path, key
end

return latency
