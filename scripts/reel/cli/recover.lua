--- `reel recover DIR`: after a recording was interrupted (reel killed, the
-- machine lost power), registers its takes in session.json.
--
-- The takes come from DIR/journal.json (see reel.journal: written before a
-- recording creates its files, cleared after session.json lists them) and
-- from `audio/<Track>_T<NN>.<ext>` files that session.json does not list
-- ("found" files). Each is opened with libsndfile and registered as a take
-- with its frames and seconds as the file says, status "kept" and a note
-- ("recovered after an interrupted recording (journal of TIME)" or "found in
-- audio/ without a session entry"); `start` comes from the journal (0 for
-- found files). Files libsndfile cannot open are reported with the reason
-- and not registered. Audio files are never changed or removed. session.json
-- is saved atomically (a session whose first recording was interrupted
-- before it was ever saved gets one, with the journalled tracks), then the
-- journal is removed.
--
-- Returns the exit status: 0 recovered or nothing to recover, 1 failed (not
-- a session, a broken session.json, a recording still in progress or
-- another reel process writing the session (its lock, DIR/.reel.lock), a
-- file that cannot be opened, session.json cannot be written), 2 bad
-- command line.
local reel = require "reel"
local getopt = require "reel.getopt"
local journal = require "reel.journal"
local session = require "reel.session"
local core = reel.core

local usage_error = getopt.usage_error("reel recover")
local failure = getopt.failure("reel recover")

local opts, rest = getopt.parse({ ... }, {})
if not opts then return usage_error(rest) end
local dir, dir_err = getopt.operand(rest, "DIR", "the session folder")
if not dir then return usage_error(dir_err) end

local function join(a, b)
  if a:sub(-1) == "/" then return a .. b end
  return a .. "/" .. b
end

local kind = core.exists(dir)
if not kind then return failure(("%s: no such folder"):format(dir)) end
if kind ~= "directory" then return failure(("%s: not a folder"):format(dir)) end
local has_session = core.exists(join(dir, session.FILE)) and true or false
local has_journal = core.exists(journal.path(dir)) and true or false
if not has_session and not has_journal then
  return failure(("%s is not a reel session (it has no %s and no %s)")
    :format(dir, session.FILE, journal.FILE))
end

-- The session's lock first: a recording in progress holds it (and so does
-- any other writer), and nothing else writes the journal while we read it.
-- A recording killed, even by SIGKILL, holds nothing: the kernel let go.
-- Held (the local keeps the handle alive) until the command ends.
local lock, lock_err = session.lock(dir)
if not lock then return failure(lock_err) end

local jdoc, jerr = journal.read(dir)
if jerr then
  io.stderr:write("reel recover: ", jerr, "; recovering only the files found in audio/\n")
end
local recordings = jdoc and jdoc.recordings or {}
for _, r in ipairs(recordings) do
  if journal.alive(r.pid) then
    return failure(("a recording is in progress in %s (reel, process %d); "
      .. "recover after it has ended"):format(dir, r.pid))
  end
end

local s, serr
if has_session then
  s, serr = reel.open(dir)
  if not s then return failure(serr) end
else
  -- The first recording into this folder was interrupted before the
  -- session was ever saved: it gets one, with the journalled format.
  s, serr = session.open_or_create(dir)
  if not s then return failure(serr) end
  local first = recordings[1]
  if first and not session.check_format(first.format) then s.format = first.format end
end

-- What the session lists already.
local listed = {}
for _, t in ipairs(s.takes) do
  if type(t.file) == "string" then listed[t.file] = true end
end

local function track_of(name)
  for _, t in ipairs(s.tracks) do
    if t.name == name then return t end
  end
end

-- Candidates, in order: journalled takes, then found files.
local candidates, seen = {}, {}
local function add(c)
  if listed[c.file] or seen[c.file] then return end
  seen[c.file] = true
  candidates[#candidates + 1] = c
end
for _, r in ipairs(recordings) do
  local note = ("recovered after an interrupted recording (journal of %s)"):format(tostring(r.started))
  if r.kind == "take" then
    for _, t in ipairs(r.takes) do
      if type(t.file) == "string" and type(t.track) == "string" and math.type(t.take) == "integer" then
        add{ track = t.track, take = t.take, file = t.file, format = t.format or r.format,
             start = math.tointeger(t.start) or 0, pass = math.tointeger(t.pass), section = t.section,
             recorded = r.started, device = r.device, note = note, rec = r }
      end
    end
  else
    for _, roll in ipairs(r.rolls) do
      if type(roll.track) == "string" then
        for _, f in ipairs(journal.roll_files(dir, roll)) do
          add{ track = roll.track, take = f.take, file = f.file, format = roll.format or r.format,
               start = math.tointeger(roll.start) or 0, pass = f.pass,
               section = type(roll.section) == "string" and roll.section or nil,
               recorded = r.started, device = r.device, note = note, rec = r }
        end
      end
    end
  end
end

local audio = join(dir, "audio")
local files = core.exists(audio) == "directory" and core.list_dir(audio) or {}
local exts = {}
for _, f in ipairs(core.formats()) do exts[core.format_ext(f)] = true end
local found = {}
for _, name in ipairs(files) do
  local track, num, ext = name:match("^(.+)_T(%d+)%.([%w]+)$")
  if track and exts[ext] and not session.bad_track_name(track) then
    local file = "audio/" .. name
    if not listed[file] and not seen[file] then
      found[#found + 1] = { track = track, take = math.tointeger(tonumber(num)), file = file,
                            start = 0, note = "found in audio/ without a session entry" }
    end
  end
end
table.sort(found, function(a, b)
  if a.track ~= b.track then return a.track < b.track end
  return a.take < b.take
end)
for _, c in ipairs(found) do add(c) end

if #candidates == 0 then
  if #recordings == 0 and not jerr then
    print(("%s: nothing to recover"):format(dir))
    return 0
  end
  -- The journal's takes are in the session already (or none was made).
  if jdoc then
    local ok, cerr = journal.clear(dir)
    if not ok then return failure(cerr) end
  end
  print(("%s: nothing to recover (the journal's takes are in the session already; "
    .. "journal removed)"):format(dir))
  return 0
end

-- The session format name for what libsndfile reports.
local function format_of(info, ext)
  if info.container == "wav" then
    if info.sample == "float" then return "wav32f" end
    if info.sample == "pcm24" then return "wav24" end
  elseif info.container == "flac" and exts.flac then
    return "flac"
  elseif info.container == "rf64" then
    return "rf64"
  end
  return ext
end

local recovered, unreadable = {}, {}
for _, c in ipairs(candidates) do
  local info, ierr = core.sound_info(join(dir, c.file))
  if not info then
    unreadable[#unreadable + 1] = { c = c, why = ierr }
  else
    local take = {
      track = c.track, take = c.take, file = c.file,
      format = c.format or format_of(info, c.file:match("%.(%w+)$")),
      rate = info.rate, frames = info.frames, seconds = info.frames / info.rate,
      start = c.start, pass = c.pass, section = c.section, status = "kept", note = c.note,
      recorded = c.recorded, device = c.device,
      -- peak, clipping, xruns and gaps are not known: left out, not claimed 0
    }
    s.takes[#s.takes + 1] = take
    recovered[#recovered + 1] = take
    if (s.last_take[c.track] or 0) < c.take then s.last_take[c.track] = c.take end
    if not track_of(c.track) and c.rec then
      for _, t in ipairs(c.rec.tracks or {}) do
        if t.name == c.track then
          local input = session.normalize_input(t.input)
          if input then
            s.tracks[#s.tracks + 1] = { name = t.name, input = input, monitor = false,
                                        gain_db = 0, pan = 0 }
          end
        end
      end
    end
    if s.rate == nil then s.rate = info.rate end
  end
end

if #recovered > 0 or not has_session then
  local ok, werr = s:save()
  if not ok then return failure(("cannot save %s: %s"):format(join(dir, session.FILE), werr)) end
end
if jdoc then
  local ok, cerr = journal.clear(dir)
  if not ok then return failure(cerr) end
end

for _, t in ipairs(recovered) do
  print(("recovered %s take %d (%s): %d frames, %.3f s%s"):format(t.track, t.take, t.file,
    t.frames, t.seconds, t.note:match("^found") and ", found in audio/" or ""))
end
for _, u in ipairs(unreadable) do
  io.stderr:write(("reel recover: %s (%s take %d) cannot be opened, not registered: %s\n")
    :format(u.c.file, u.c.track, u.c.take, u.why))
end
print(("%d take%s recovered into %s%s"):format(#recovered, #recovered == 1 and "" or "s",
  join(dir, session.FILE), #unreadable > 0 and (", %d file%s could not be opened")
    :format(#unreadable, #unreadable == 1 and "" or "s") or ""))
return #unreadable > 0 and 1 or 0
