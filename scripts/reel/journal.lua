--- reel.journal: what is being recorded, on disk, so that a crash leaves
-- recoverable takes (`reel recover DIR`).
--
-- While a recording runs, `DIR/journal.json` lists its takes. It is written
-- atomically (`core.write_atomic`: temporary file, fsync, rename, fsync of
-- the folder) before any take file is created, and the recording's entry is
-- removed once session.json has been saved with the finished takes (the
-- file itself goes when no entry is left). A journal that is still there
-- names takes that session.json may not list: `reel recover` registers them.
--
-- journal.json (format version 1):
--
--     { "reel_journal": 1,
--       "recordings": [ {
--         "id": "12345-1", "kind": "take" | "roll", "pid": 12345,
--         "started": "2025-11-26T14:00:00Z", "format": "wav24", "rate": 48000,
--         "device": "virtual:virtual",
--         "tracks": [ {"name": "In1", "input": [1]} ],
--         "takes": [ {"track", "take", "file", "format", "rate", "start",
--                     "started", "pid", "pass", "section"} ],      -- kind "take"
--         "rolls": [ {"track", "first", "prefix", "ext", "format", "rate",
--                     "start", "started", "pid", "section", "passes"} ] -- kind "roll"
--       } ] }
--
-- A roll makes one take per pass, and how many passes there will be is not
-- known in advance: it is journalled as the file prefix ("audio/Vox_T") and
-- the first take number, and its passes are the files `<prefix><NN>.<ext>`
-- for NN = first, first + 1, ... found on disk. `start` is a plain take's
-- first device frame, or a roll's timeline position where its passes begin
-- recording (the punch in, else the loop start, else the start).
--
-- An entry left by an earlier recording that crashed is kept when a new one
-- begins, so recording again before `reel recover` loses nothing.
--
-- Threads: the script's (control) thread only.
-- @module reel.journal

local core = require "reel.core"
local json = require "reel.json"
local util = require "reel.util"

local M = {}

--- The journal's file name inside the session folder.
M.FILE = "journal.json"
--- The format version written in `reel_journal`.
M.VERSION = 1

local join = util.join

--- The journal's path for a session folder.
-- @tparam string dir
-- @treturn string
function M.path(dir)
  return join(dir, M.FILE)
end

--- Reads DIR/journal.json.
-- @tparam string dir
-- @treturn[1] table the document (`recordings` is a list)
-- @return[2] nil when there is no journal
-- @return[3] nil, message (unreadable or not a journal)
function M.read(dir)
  local path = M.path(dir)
  if not core.exists(path) then return nil end
  local f, oerr = io.open(path, "rb")
  if not f then return nil, oerr end
  local text = f:read("a")
  f:close()
  local doc, derr = json.decode(text or "")
  if type(doc) ~= "table" then
    return nil, ("%s: not JSON (%s)"):format(path, derr or "empty")
  end
  if doc.reel_journal ~= M.VERSION or type(doc.recordings) ~= "table" then
    return nil, ("%s: not a reel journal (version %d expected)"):format(path, M.VERSION)
  end
  for i, r in ipairs(doc.recordings) do
    if type(r) ~= "table" then return nil, ("%s: recordings[%d]: object expected"):format(path, i) end
    if type(r.takes) ~= "table" then r.takes = {} end
    if type(r.rolls) ~= "table" then r.rolls = {} end
    if type(r.tracks) ~= "table" then r.tracks = {} end
  end
  return doc
end

local function write(dir, doc)
  local recs = json.array{}
  for i, r in ipairs(doc.recordings) do recs[i] = r end
  if #recs == 0 then
    local ok, err = os.remove(M.path(dir))
    if not ok and core.exists(M.path(dir)) then return nil, err end
    return true
  end
  return core.write_atomic(M.path(dir), json.encode{ reel_journal = M.VERSION, recordings = recs })
end

local sequence = 0

--- Journals a recording that is about to start, before its files are made.
-- @tparam Session s
-- @tparam table rec `kind` ("take" or "roll"), `format`, `rate`, `device`,
--   `tracks` (session tracks: name, input), and `takes` (kind "take": {track,
--   take, file, start}) or `rolls` (kind "roll": {track, first, prefix, ext,
--   start, section, passes})
-- @treturn[1] string the recording's id, for `done`
-- @return[2] nil, message (the journal cannot be written)
function M.begin(s, rec)
  local doc = M.read(s.dir)      -- an unreadable journal is replaced
  doc = doc or { recordings = {} }
  sequence = sequence + 1
  local pid = M.pid()
  local started = os.date("!%Y-%m-%dT%H:%M:%SZ")
  local id = ("%s-%d-%s"):format(pid or "?", sequence, started)
  local tracks = json.array{}
  for _, t in ipairs(rec.tracks or {}) do
    tracks[#tracks + 1] = { name = t.name, input = json.array{ table.unpack(t.input or {}) } }
  end
  local entry = {
    id = id, kind = rec.kind, pid = pid, started = started, format = rec.format,
    rate = rec.rate, device = rec.device, tracks = tracks, takes = json.array{}, rolls = json.array{},
  }
  for _, list in ipairs{ "takes", "rolls" } do
    for _, t in ipairs(rec[list] or {}) do
      local e = { format = rec.format, rate = rec.rate, started = started, pid = pid }
      for k, v in pairs(t) do e[k] = v end
      entry[list][#entry[list] + 1] = e
    end
  end
  doc.recordings[#doc.recordings + 1] = entry
  local ok, err = write(s.dir, doc)
  if not ok then return nil, "cannot write the recording journal: " .. tostring(err) end
  return id
end

--- Removes a recording's entry (after session.json was saved with its
-- takes); removes the journal when it was the last one. Quiet when there is
-- nothing to remove.
-- @tparam string dir
-- @tparam ?string id from `begin` (nil: nothing is done)
-- @treturn[1] true
-- @return[2] nil, message
function M.done(dir, id)
  if not id then return true end
  local doc = M.read(dir)
  if not doc then return true end
  local keep = {}
  for _, r in ipairs(doc.recordings) do
    if r.id ~= id then keep[#keep + 1] = r end
  end
  if #keep == #doc.recordings then return true end
  doc.recordings = keep
  return write(dir, doc)
end

--- Removes the whole journal (`reel recover`, after saving).
-- @tparam string dir
-- @treturn[1] true
-- @return[2] nil, message
function M.clear(dir)
  return write(dir, { recordings = {} })
end

--- This process's id (from /proc/self/stat), or nil.
-- @treturn ?integer
function M.pid()
  if M._pid == nil then
    local f = io.open("/proc/self/stat", "r")
    local text = f and f:read("l")
    if f then f:close() end
    M._pid = text and math.tointeger(tonumber(text:match("^(%d+)"))) or false
  end
  return M._pid or nil
end

--- True when process `pid` runs a `reel` (a recording in progress).
-- @tparam integer pid
-- @treturn boolean
function M.alive(pid)
  if math.type(pid) ~= "integer" or pid <= 0 or pid == M.pid() then return false end
  local f = io.open(("/proc/%d/cmdline"):format(pid), "rb")
  if not f then return false end
  local cmd = f:read("a") or ""
  f:close()
  return cmd:find("reel", 1, true) ~= nil
end

--- The take files of a journalled roll present on disk, in pass order:
-- {file (relative), take, pass}; stops at the first number with no file.
-- @tparam string dir
-- @tparam table roll a `rolls` entry
-- @treturn table
function M.roll_files(dir, roll)
  local out = {}
  local first = math.tointeger(roll.first)
  if type(roll.prefix) ~= "string" or type(roll.ext) ~= "string" or not first then return out end
  local pass = 0
  while pass < 100000 do
    local file = ("%s%02d.%s"):format(roll.prefix, first + pass, roll.ext)
    if not core.exists(join(dir, file)) then break end
    out[#out + 1] = { file = file, take = first + pass, pass = pass }
    pass = pass + 1
  end
  return out
end

return M
