--- reel.regress: regression recordings. A known stimulus is recorded
-- through the rig and compared with a reference recording made the same
-- way, within tolerances; the report says where and how they differ.
--
--     local regress = require "reel.regress"
--     -- once, on a rig known to be good:
--     assert(regress.record{ device = "jack", stimulus = "sweep:20:20000:4:-12",
--                            seconds = 4, output = 1, input = 3, path = "ref.wav" })
--     -- later:
--     local take = assert(regress.record{ device = "jack", stimulus = "sweep:20:20000:4:-12",
--                                         seconds = 4, output = 1, input = 3, path = "now.wav" })
--     local report = assert(regress.compare("ref.wav", "now.wav", { level_db = 0.5 }))
--     if not report.ok then print(regress.format(report)) end
--
-- Recording (`record`): the stimulus (a sound file, or a generator spec
-- such as "noise:white:-12" or "sweep:20:20000:4:-12" rendered for
-- `seconds`) is played from timeline position 0 on output `output` alone
-- while input `input` is recorded; the recording is then aligned to the
-- stimulus by cross-correlation (the round trip is measured, as `reel
-- calibrate` does) and cut to the stimulus's length, so that frame N of
-- every recording made this way is frame N of the stimulus whatever the
-- rig's latency that day. Without `output` nothing is played and the input
-- is recorded as it comes for `seconds` (or the stimulus's length).
--
-- Comparing (`compare`): the take is aligned with the reference (the shift
-- that best matches them, within `max_shift`), scaled to the reference's
-- level, and compared frame by frame (reel.analysis.diff, in C):
--   * alignment: the shift found; more than `alignment` frames fails;
--   * level: the take's level against the reference's (the median of
--     their differences in blocks of `block` frames, so that a local dip
--     or a dropout does not move it); more than `level_db` dB fails;
--   * dropouts: runs of at least `min_dropout` frames where the take is
--     silent (at or below `dropout_db`) and the reference is not, exact to
--     the frame (a take that ends early is a dropout up to the end);
--   * level regions: blocks (`block` frames, 10 ms by default) whose level
--     differs from the reference's by more than `block_level_db`;
--   * noise regions (method "samples"): blocks where the difference is
--     louder than both the reference's level plus `noise_db` and
--     `noise_floor_db`; and the largest sample difference must stay within
--     `max_abs_diff`;
--   * spectrum (method "spectrum", for rigs with analog parts where sample
--     differences mean nothing): the shape of the spectrum, third-octave
--     band levels within `spectrum_db` of the reference's once the median
--     band difference is taken out (bands 60 dB below the loudest reference
--     band are left out).
-- Positions are reference frames, counted from 0; a region runs from its
-- `from` frame to its `to` frame, both included.
--
-- Conventions: misuse (a wrong type, an unknown option or tolerance)
-- raises; failures of the outside world (no device, unreadable file)
-- return nil and a message.
--
-- Threads: the script's (control) thread; recording happens on the
-- engine's threads.
-- @module reel.regress

local core = require "reel.core"
local calibrate = require "reel.calibrate"
local analysis = require "reel.analysis"
local util = require "reel.util"

local M = {}

--- The default tolerances of `compare`.
M.TOLERANCES = {
  method = "samples",    -- "samples" or "spectrum"
  channel = 1,           -- channel of the reference (and of the take, unless take_channel)
  take_channel = nil,
  align = true,          -- false: compare without shifting the take
  max_shift = nil,       -- frames searched each way (default: half a second)
  alignment = 1,         -- frames the take may be shifted by
  level_db = 0.5,        -- overall level difference, dB
  block = nil,           -- frames per block (default: 10 ms)
  block_level_db = 3,    -- level difference of a block, dB
  noise_db = -40,        -- difference relative to the reference's level, per block
  noise_floor_db = -80,  -- ... and absolute, dBFS: a block is noisy above both
  max_abs_diff = 0.001,  -- largest sample difference (method "samples")
  dropout_db = -100,     -- a take sample at or below this is silent, dBFS
  min_dropout = 16,      -- frames of silence that make a dropout
  spectrum_db = 1,       -- third-octave band difference (method "spectrum")
}

local TOL_TYPES = {
  method = "string", channel = "integer", take_channel = "integer", align = "boolean",
  max_shift = "integer", alignment = "number", level_db = "number", block = "integer",
  block_level_db = "number", noise_db = "number", noise_floor_db = "number",
  max_abs_diff = "number", dropout_db = "number", min_dropout = "integer", spectrum_db = "number",
}
M.TOLERANCE_NAMES = {}
for k in pairs(TOL_TYPES) do M.TOLERANCE_NAMES[#M.TOLERANCE_NAMES + 1] = k end
table.sort(M.TOLERANCE_NAMES)

-- ------------------------------------------------------------ helpers

local typename, misuse = util.typename, util.misuse

local function db_text(v)
  if v == -math.huge or v ~= v then return "-inf" end
  if v == math.huge then return "+inf" end
  if v > -0.05 and v < 0.05 then v = 0 end
  return ("%.1f"):format(v)
end

local function remove_dir(dir)
  for _, name in ipairs(core.list_dir(dir) or {}) do os.remove(dir .. "/" .. name) end
  os.remove(dir)
end

-- Checks an options table against a spec (key -> type name or function
-- returning true or an error text); raises at the caller's caller.
local function check_options(opts, spec, fname, level)
  level = (level or 2) + 1
  if type(opts) ~= "table" then
    error(("bad argument #1 to '%s' (table of options expected, got %s)"):format(fname,
      typename(opts)), level)
  end
  for k, v in pairs(opts) do
    local want = type(k) == "string" and spec[k]
    if not want then error(("unknown option '%s' to '%s'"):format(tostring(k), fname), level) end
    local ok
    if type(want) == "function" then
      ok = want(v)
    elseif want == "integer" then
      ok = math.type(v) == "integer" or (type(v) == "number" and math.tointeger(v) ~= nil)
        or ("integer expected, got " .. typename(v))
    elseif want == "number" then
      ok = (type(v) == "number" and v == v) or ("number expected, got " .. typename(v))
    else
      ok = type(v) == want or (("%s expected, got %s"):format(want, typename(v)))
    end
    if ok ~= true then error(("bad option '%s' to '%s' (%s)"):format(k, fname, ok), level) end
  end
end

local function string_list(v)
  if type(v) ~= "table" then return "list of strings expected, got " .. typename(v) end
  for i, s in ipairs(v) do
    if type(s) ~= "string" then return ("string expected at index %d, got %s"):format(i, typename(s)) end
  end
  return true
end

local function channel_list(v)
  if type(v) ~= "table" or #v == 0 then return "non-empty list of channels expected" end
  for i, c in ipairs(v) do
    if math.type(c) ~= "integer" or c < 1 then
      return ("channel numbers count from 1 (index %d)"):format(i)
    end
  end
  return true
end

-- ------------------------------------------------------------ capture

local CAPTURE_OPTS = {
  device = "string", sources = string_list, loopback = "string", loopback_latency = "integer",
  rate = "integer", period = "integer", name = "string", no_connect = "boolean",
  channels = "integer", outputs = "integer", record = channel_list, output = "integer",
  play = "string", play_frames = "integer", frames = "integer", seconds = "number",
  dir = "string", open = "function", connect = "boolean",
}

--- Waits until a recording roll (`rec:roll{record = true, ...}` of a
-- reel.core recorder) has reported `record_done`. An interruption (Ctrl-C,
-- `core.interrupted()`) stops the roll, which then still ends; at the
-- deadline the roll is stopped and the wait given up.
-- @tparam userdata rec the recorder
-- @tparam number deadline `core.now()` time to give up at
-- @treturn boolean|nil whether the roll was interrupted; nil when the
--   deadline passed (call `rec:finish_roll()` in either of the first cases)
function M.wait_recorded(rec, deadline)
  local done, interrupted = false, false
  while not done do
    for _, ev in ipairs(rec:poll()) do
      if ev.type == "record_done" then done = true end
    end
    if not done then
      if core.interrupted() and not interrupted then
        interrupted = true
        rec:stop_roll()
      end
      if core.now() > deadline then
        rec:stop_roll()
        return nil
      end
      core.sleep(0.01)
    end
  end
  return interrupted
end

--- Plays a signal on one output while recording inputs: the primitive
-- under `record` and `reel check`. Opens the device, rolls from timeline
-- position 0 with latency compensation 0 and closes the device again.
-- @tparam table o `device` (SPEC; "" auto), `sources` (virtual device
--   inputs), `loopback`, `loopback_latency` (virtual device cables),
--   `rate`, `period`, `name` (JACK client), `no_connect`, `channels` and
--   `outputs` (device channels to open; default: what `record` and
--   `output` need), `record` (list of input channels, one mono take each),
--   `output` and `play` (a sound file or a generator spec played on that
--   output alone; a generator is rendered for `play_frames`), `frames` or
--   `seconds` (how long to record), `dir` (an existing folder for the takes
--   and the rendered signal), `open` (optional function(info) called once
--   the device is open: it returns true, or a table with `frames` and
--   `play_frames` decided from the device's rate, or nil, message to stop)
-- @treturn[1] table `info` (the device's), `takes` (per entry of `record`:
--   `channel`, `path`, `frames`, `xruns`, `peak_db`), `played` (the file
--   played, if any), `frames`
-- @return[2] nil, message
function M.capture(o)
  check_options(o, CAPTURE_OPTS, "capture")
  if not o.record then misuse("bad option 'record' to 'capture' (list of input channels expected)") end
  if not o.dir then misuse("bad option 'dir' to 'capture' (a folder for the takes expected)") end
  if (o.play == nil) ~= (o.output == nil) then
    misuse("options 'play' and 'output' to 'capture' go together")
  end
  if not o.frames and not o.seconds and not o.open then
    misuse("'capture' needs 'frames' or 'seconds'")
  end
  local n_in, n_out = o.channels or 0, o.outputs or 0
  for _, c in ipairs(o.record) do n_in = math.max(n_in, c) end
  if o.output then n_out = math.max(n_out, o.output) end

  local rec, err = core.open_recorder{
    device = o.device or "", inputs = o.sources, channels = n_in, outputs = n_out > 0 and n_out or nil,
    rate = o.rate, period = o.period, name = o.name, no_connect = o.no_connect,
    loopback = o.loopback, loopback_latency = o.loopback_latency, format = "wav32f",
  }
  if not rec then return nil, err end
  local info = rec:info()
  local function fail(msg)
    rec:close()
    return nil, msg
  end
  if info.in_channels < n_in or info.out_channels < n_out then
    return fail(("%s '%s' has %d inputs and %d outputs; %d inputs and %d outputs are needed")
      :format(info.api, info.name, info.in_channels, info.out_channels, n_in, n_out))
  end
  local frames, play_frames = o.frames, o.play_frames
  if o.open then
    local ok, oerr = o.open(info)
    if not ok then return fail(oerr) end
    if type(ok) == "table" then
      frames = ok.frames or frames
      play_frames = ok.play_frames or play_frames
    end
  end
  frames = frames or math.max(1, math.floor(o.seconds * info.rate + 0.5))
  local played
  if o.play then
    if core.is_generator(o.play) then
      played = o.dir .. "/signal.wav"
      local n = 1
      while core.exists(played) do
        n = n + 1
        played = ("%s/signal%d.wav"):format(o.dir, n)
      end
      local ok, werr = calibrate.write_signal(played, o.play, play_frames or frames, info.rate)
      if not ok then return fail(werr) end
    else
      played = o.play
    end
  end
  local takes, names = {}, {}
  for i, ch in ipairs(o.record) do
    local tname = ("In%d_%d"):format(ch, i)
    local ok, terr = rec:add_track(tname, { ch })
    if not ok then return fail(terr) end
    ok, terr = rec:arm(tname, true)
    if not ok then return fail(terr) end
    names[i] = tname
    -- A prefix that no earlier capture into dir used.
    local prefix, k = ("%s/in%d_"):format(o.dir, ch), 1
    while core.exists(prefix .. "T01.wav") do
      k = k + 1
      prefix = ("%s/in%d_%d_"):format(o.dir, ch, k)
    end
    takes[tname] = { prefix .. "T", 1 }
  end
  if played then
    rec:set_monitor_outputs(o.output, nil)
    local ok, serr = rec:add_source(played, 0, 0, -1)
    if not ok then return fail(serr) end
  end
  local ok, lerr = rec:set_latency(0)
  if not ok then return fail(lerr) end
  if o.connect and info.api == "jack" and o.output then
    -- The loop as a JACK connection (a cable in software): ports accept
    -- connections only once the client runs.
    local sok, serr = rec:start_device()
    if not sok then return fail(serr) end
    local client = o.name or "reel"
    local src = ("%s:outport %d"):format(client, o.output - 1)
    local dst = ("%s:inport %d"):format(client, o.record[1] - 1)
    if not os.execute(("jack_connect '%s' '%s'"):format(src, dst)) then
      return fail(("cannot connect '%s' to '%s' (is jack_connect installed?)"):format(src, dst))
    end
  end
  ok, err = rec:roll{ from = 0, record = true, autostop = frames, takes = takes,
                      description = "reel regress/check" }
  if not ok then return fail(err) end
  local interrupted = M.wait_recorded(rec, core.now() + 3 * frames / info.rate + 20)
  if interrupted == nil then
    return fail("the recording did not finish in time (is the device running?)")
  end
  ok, err = rec:finish_roll()
  if not ok then return fail(err) end
  if interrupted then return fail("interrupted") end
  local result = { info = info, takes = {}, played = played, frames = frames }
  for i, ch in ipairs(o.record) do
    local t = rec:takes(names[i])[1]
    if not t or not t.path then return fail(("no take was recorded from input %d"):format(ch)) end
    result.takes[i] = { channel = ch, path = t.path, frames = t.frames, xruns = t.xruns,
                        peak_db = t.peak_db, overruns = t.overruns }
  end
  rec:close()
  return result
end

-- ------------------------------------------------------------ record

local RECORD_OPTS = {
  device = "string", sources = string_list, loopback = "string", loopback_latency = "integer",
  rate = "integer", period = "integer", name = "string", no_connect = "boolean",
  stimulus = "string", seconds = "number", output = "integer", input = "integer",
  align = "boolean", max_latency = "integer", path = "string", format = "string",
  connect = "boolean",
}

--- Records a stimulus through the rig into a new file.
-- @tparam table o `path` (the file written; never replaced), `stimulus` (a
--   sound file, or a generator spec rendered for `seconds`), `output`
--   (play the stimulus there; without it nothing is played), `input`
--   (default 1), `seconds` (length; default the stimulus file's), `align`
--   (default: true when the stimulus is played: the recording is aligned
--   to the stimulus and cut to its length), `max_latency` (frames searched
--   when aligning; default one second), `format` (wav32f default, wav24,
--   flac, rf64), and the device options of `capture` (`device`, `sources`,
--   `loopback`, `loopback_latency`, `rate`, `period`, `name`,
--   `no_connect`)
-- @treturn[1] table `path`, `frames`, `rate`, `input`, `output`, `latency`
--   (frames, when aligned), `confidence`, `gain_db` (returned level
--   relative to the stimulus, when aligned), `peak_db`, `xruns`, `device`
-- @return[2] nil, message
function M.record(o)
  check_options(o, RECORD_OPTS, "record")
  if not o.path or o.path == "" then misuse("bad option 'path' to 'record' (the file to write)") end
  if o.output and not o.stimulus then
    misuse("option 'output' to 'record' needs a 'stimulus' to play")
  end
  if o.format and not pcall(core.format_ext, o.format) then
    misuse(("bad option 'format' to 'record' ('%s' is not one of %s)"):format(o.format,
      table.concat(core.formats(), ", ")))
  end
  if o.seconds and not (o.seconds > 0 and o.seconds <= 3600) then
    misuse("bad option 'seconds' to 'record' (between 0 and 3600 expected)")
  end
  local generated = o.stimulus and core.is_generator(o.stimulus)
  if generated and not o.seconds then
    misuse(("a generated stimulus ('%s') needs 'seconds'"):format(o.stimulus))
  end
  if not o.stimulus and not o.seconds then misuse("'record' needs a 'stimulus' or 'seconds'") end
  local align = o.align
  if align == nil then align = o.output ~= nil end
  if align and not o.stimulus then misuse("option 'align' to 'record' needs a 'stimulus'") end
  if core.exists(o.path) then return nil, ("%s: the file exists (a recording is never replaced)"):format(o.path) end
  if o.stimulus and not generated and not core.exists(o.stimulus) then
    return nil, ("%s: no such stimulus file"):format(o.stimulus)
  end
  local input = o.input or 1

  local dir, derr = calibrate.tempdir()
  if not dir then return nil, derr end
  local function fail(msg)
    remove_dir(dir)
    return nil, msg
  end
  -- Lengths depend on the device's rate: decided once it is open.
  local stim_frames, max_latency
  local cap, cerr = M.capture{
    device = o.device, sources = o.sources, loopback = o.loopback,
    loopback_latency = o.loopback_latency, rate = o.rate, period = o.period, name = o.name,
    no_connect = o.no_connect or o.connect, connect = o.connect,
    record = { input }, output = o.output, dir = dir,
    play = o.output and o.stimulus or nil,
    open = function(info)
      max_latency = o.max_latency or info.rate
      local want = o.seconds and math.floor(o.seconds * info.rate + 0.5)
      if generated then
        stim_frames = want
      elseif o.stimulus then
        local si, serr = core.sound_info(o.stimulus)
        if not si then return nil, serr end
        if si.rate ~= info.rate then
          return nil, ("%s is at %d Hz but the device runs at %d Hz"):format(o.stimulus, si.rate,
            info.rate)
        end
        stim_frames = want and math.min(want, si.frames) or si.frames
        if stim_frames < 1 then return nil, ("%s: an empty stimulus"):format(o.stimulus) end
      end
      local frames = stim_frames or want
      return { frames = frames + (align and max_latency or 0), play_frames = stim_frames }
    end,
  }
  if not cap then return fail(cerr) end
  local rate = cap.info.rate
  local frames = stim_frames or math.floor(o.seconds * rate + 0.5)
  local stim_path = cap.played
  if not stim_path and o.stimulus then
    if generated then
      stim_path = dir .. "/stimulus.wav"
      local ok, werr = calibrate.write_signal(stim_path, o.stimulus, stim_frames, rate)
      if not ok then return fail(werr) end
    else
      stim_path = o.stimulus
    end
  end
  local take = cap.takes[1]
  local result = {
    path = o.path, frames = frames, rate = rate, input = input, output = o.output,
    stimulus = o.stimulus,
    peak_db = take.peak_db, xruns = take.xruns,
    device = ("%s '%s'"):format(cap.info.api, cap.info.name),
  }
  local start = 0
  if align then
    local off, detail = analysis.align(stim_path, take.path, { min_shift = 0, max_shift = max_latency })
    if not off then
      return fail(("cannot find the stimulus in the recording of input %d: %s"):format(input,
        (detail:gsub("^cannot align .- with .-: ", ""))))
    end
    start = off
    result.latency = off
    result.confidence = detail.confidence
    -- The returned level, relative to the stimulus's, over the aligned span.
    local d = analysis.diff(stim_path, take.path, { offset = off })
    if d then result.gain_db = d.level_db_diff end
  end
  local ok, xerr = analysis.extract(take.path, o.path, start, frames, o.format or "wav32f")
  if not ok then return fail(xerr) end
  remove_dir(dir)
  return result
end

-- ------------------------------------------------------------ compare

local function check_tolerances(t, level)
  level = (level or 2) + 1
  if t == nil then return {} end
  if type(t) ~= "table" then
    error(("bad argument #3 to 'compare' (table of tolerances expected, got %s)"):format(typename(t)), level)
  end
  for k, v in pairs(t) do
    local want = type(k) == "string" and TOL_TYPES[k]
    if not want then
      error(("unknown tolerance '%s' (tolerances: %s)"):format(tostring(k),
        table.concat(M.TOLERANCE_NAMES, ", ")), level)
    end
    local ok = true
    if want == "integer" then
      ok = math.tointeger(v) ~= nil and v >= 0
    elseif want == "number" then
      ok = type(v) == "number" and v == v
    else
      ok = type(v) == want
    end
    if not ok then
      error(("bad tolerance '%s' (%s expected, got %s)"):format(k,
        want == "integer" and "non-negative integer" or want, tostring(v)), level)
    end
    if k == "method" and v ~= "samples" and v ~= "spectrum" then
      error(("bad tolerance 'method' ('%s' is not samples or spectrum)"):format(v), level)
    end
  end
  return t
end

-- Merges flagged blocks into regions {from, to, kind, db}.
local function block_regions(flags, values, block, frames, kind, regions)
  local cur
  for b = 1, #flags do
    if flags[b] then
      local from, to = (b - 1) * block, math.min(b * block, frames) - 1
      if cur and cur.to == from - 1 then
        cur.to = to
        if math.abs(values[b]) > math.abs(cur.db) then cur.db = values[b] end
      else
        cur = { from = from, to = to, kind = kind, db = values[b] }
        regions[#regions + 1] = cur
      end
    end
  end
end

--- Compares a take with a reference recording.
-- @tparam string reference a sound file
-- @tparam string take a sound file at the same rate
-- @tparam[opt] table tolerances any of M.TOLERANCES' keys
-- @treturn[1] table report: `ok`, `failures` (one sentence per failed
--   check), `reference`, `take`, `rate`, `frames`, `alignment` (frames:
--   take frame i + alignment holds reference frame i), `aligned` (found by
--   correlation; false when the signal gives no clear answer and 0 is
--   used), `level_db_diff`, `gain`, `inverted`, `max_abs_diff`,
--   `max_abs_diff_at`, `first_difference_at` (nil when none), `residual_db`,
--   `regions` (`{from, to, frames, kind = "dropout" | "level" | "noise",
--   db, edge}`, in order), `spectrum` (method "spectrum": per band `center`,
--   `reference_db`, `take_db`, `diff_db`, `ok`), `tolerances`
-- @return[2] nil, message
function M.compare(reference, take, tolerances)
  if type(reference) ~= "string" then
    misuse(("bad argument #1 to 'compare' (file name expected, got %s)"):format(typename(reference)))
  end
  if type(take) ~= "string" then
    misuse(("bad argument #2 to 'compare' (file name expected, got %s)"):format(typename(take)))
  end
  check_tolerances(tolerances)
  local tol = {}
  for k, v in pairs(M.TOLERANCES) do tol[k] = v end
  for k, v in pairs(tolerances or {}) do tol[k] = v end
  tol.take_channel = tol.take_channel or tol.channel

  local ri, rerr = core.sound_info(reference)
  if not ri then return nil, rerr end
  local ti, terr = core.sound_info(take)
  if not ti then return nil, terr end
  if ri.rate ~= ti.rate then
    return nil, ("%s is at %d Hz but %s at %d Hz"):format(reference, ri.rate, take, ti.rate)
  end
  tol.block = tol.block or math.max(16, (ri.rate + 50) // 100)
  tol.max_shift = tol.max_shift or ri.rate // 2

  local report = { reference = reference, take = take, rate = ri.rate, frames = ri.frames,
                   take_frames = ti.frames, method = tol.method, tolerances = tol,
                   channel = tol.channel, take_channel = tol.take_channel }
  local offset, aligned = 0, false
  if tol.align and tol.max_shift > 0 then
    local off, detail = analysis.align(reference, take, { channel = tol.channel,
      take_channel = tol.take_channel, max_shift = tol.max_shift })
    if off then
      offset, aligned = off, true
      report.alignment_confidence = detail.confidence
    elseif type(detail) == "string" and not detail:find("cannot align", 1, true) then
      return nil, detail -- the files themselves
    else
      report.alignment_note = detail
    end
  end
  report.alignment, report.aligned = offset, aligned

  local d, derr = analysis.diff(reference, take, {
    offset = offset, channel = tol.channel, take_channel = tol.take_channel,
    threshold = tol.max_abs_diff, dropout_db = tol.dropout_db, min_dropout = tol.min_dropout,
    block = tol.block,
  })
  if not d then return nil, derr end
  report.level_db_diff = d.level_db_diff
  report.gain = d.gain
  report.inverted = d.inverted
  report.max_abs_diff = d.max_abs_diff
  report.max_abs_diff_at = d.max_abs_diff_at
  report.first_difference_at = d.first_diff
  report.residual_db = d.residual_db
  report.reference_rms_db = d.reference_rms_db
  report.take_rms_db = d.take_rms_db

  -- Regions: dropouts exact to the frame; level and noise per block,
  -- leaving out the blocks a dropout touches.
  local regions = {}
  local in_dropout = {}
  for _, r in ipairs(d.dropouts) do
    regions[#regions + 1] = { from = r.from, to = r.to, kind = "dropout", edge = r.edge or nil }
    for b = r.from // d.block + 1, r.to // d.block + 1 do in_dropout[b] = true end
  end
  local bref, btake, bres = d.blocks.reference, d.blocks.take, d.blocks.residual
  local silence_db = tol.noise_floor_db + 20
  local level_flags, level_vals, noise_flags, noise_vals = {}, {}, {}, {}
  for b = 1, #bref do
    if not in_dropout[b] then
      local diff = btake[b] - bref[b]
      if bref[b] > silence_db and math.abs(diff) > tol.block_level_db then
        level_flags[b], level_vals[b] = true, diff
      elseif tol.method == "samples" and bres[b] > math.max(bref[b] + tol.noise_db, tol.noise_floor_db) then
        noise_flags[b], noise_vals[b] = true, bres[b]
      end
    end
    level_flags[b] = level_flags[b] or false
    noise_flags[b] = noise_flags[b] or false
    level_vals[b] = level_vals[b] or 0
    noise_vals[b] = noise_vals[b] or 0
  end
  block_regions(level_flags, level_vals, d.block, d.frames, "level", regions)
  block_regions(noise_flags, noise_vals, d.block, d.frames, "noise", regions)
  table.sort(regions, function(a, b) return a.from < b.from or (a.from == b.from and a.kind < b.kind) end)
  for _, r in ipairs(regions) do
    r.frames = r.to - r.from + 1
    r.seconds = r.from / ri.rate
  end
  report.regions = regions

  local failures = {}
  local function failed(msg) failures[#failures + 1] = msg end
  if math.abs(offset) > tol.alignment then
    failed(("the take is shifted by %d frames against the reference (tolerance %s)")
      :format(offset, tol.alignment))
  end
  if not (math.abs(d.level_db_diff) <= tol.level_db) then
    failed(("the level differs by %s dB (tolerance %s dB)"):format(db_text(d.level_db_diff), tol.level_db))
  end
  if d.inverted then failed("the take's polarity is inverted") end
  if tol.method == "samples" and d.max_abs_diff > tol.max_abs_diff then
    failed(("samples differ by up to %.6f at frame %d (tolerance %s)")
      :format(d.max_abs_diff, d.max_abs_diff_at, tol.max_abs_diff))
  end
  local counts = {}
  for _, r in ipairs(regions) do counts[r.kind] = (counts[r.kind] or 0) + 1 end
  for _, kind in ipairs{ "dropout", "level", "noise" } do
    if counts[kind] then
      failed(("%d %s region%s"):format(counts[kind], kind, counts[kind] == 1 and "" or "s"))
    end
  end
  if d.dropouts_truncated then failed("more dropouts than listed") end

  if tol.method == "spectrum" then
    local sr, serr = analysis.spectrum(reference, { channel = tol.channel })
    if not sr then return nil, serr end
    local st, sterr = analysis.spectrum(take, { channel = tol.take_channel,
      start = offset > 0 and offset or 0 })
    if not st then return nil, sterr end
    local loudest = -math.huge
    for _, b in ipairs(sr.bands) do loudest = math.max(loudest, b.db) end
    -- The shape is compared: band differences relative to their median
    -- (the overall level is the level check's).
    local raw = {}
    for i, b in ipairs(sr.bands) do
      if b.db > loudest - 60 then raw[#raw + 1] = st.bands[i].db - b.db end
    end
    table.sort(raw)
    local mid = #raw == 0 and 0 or (#raw % 2 == 1 and raw[(#raw + 1) // 2]
      or (raw[#raw // 2] + raw[#raw // 2 + 1]) / 2)
    if mid ~= mid or mid == math.huge or mid == -math.huge then mid = 0 end
    report.spectrum_offset_db = mid
    local bands, bad = {}, 0
    for i, b in ipairs(sr.bands) do
      local t = st.bands[i]
      local diff = t.db - b.db - mid
      local counted = b.db > loudest - 60
      local ok = not counted or math.abs(diff) <= tol.spectrum_db
      if not ok then bad = bad + 1 end
      bands[i] = { center = b.center, reference_db = b.db, take_db = t.db,
                   diff_db = counted and diff or nil, ok = ok }
    end
    report.spectrum = bands
    if bad > 0 then
      failed(("%d third-octave band%s differ%s by more than %s dB"):format(bad, bad == 1 and "" or "s",
        bad == 1 and "s" or "", tol.spectrum_db))
    end
  end
  report.failures = failures
  report.ok = #failures == 0
  return report
end

--- A report as text for people, one fact per line.
-- @tparam table report as `compare` returns it
-- @treturn string
function M.format(report)
  local rate = report.rate
  local function at(f) return ("frame %d (%.3f s)"):format(f, f / rate) end
  local lines = {}
  local function add(...) lines[#lines + 1] = string.format(...) end
  add("Reference %s: %d frames at %d Hz; take %s: %d frames", report.reference, report.frames,
    rate, report.take, report.take_frames)
  local tol = report.tolerances
  add("Alignment: %d frames%s (tolerance %s)", report.alignment,
    report.aligned and "" or " (no clear match found; compared as they are)", tol.alignment)
  add("Level: %s dB against the reference (tolerance %s dB)%s", db_text(report.level_db_diff),
    tol.level_db, report.inverted and "; polarity INVERTED" or "")
  add("Largest sample difference: %.6f at %s (tolerance %s%s)", report.max_abs_diff,
    at(report.max_abs_diff_at), tol.max_abs_diff, report.method == "samples" and "" or ", not checked")
  if report.first_difference_at then
    add("First difference above %s: %s", tol.max_abs_diff, at(report.first_difference_at))
  end
  if report.residual_db == -math.huge then
    add("Difference: none (the take is identical to the reference after alignment and level)")
  else
    add("Difference level: %s dB relative to the reference", db_text(report.residual_db))
  end
  if #report.regions == 0 then
    add("No dropouts, level changes or noise found.")
  else
    add("Regions (reference frames, both ends included):")
    for _, r in ipairs(report.regions) do
      local what = ""
      if r.kind == "dropout" then
        what = r.edge and "take silent: it ends or starts here" or "take silent"
      elseif r.kind == "level" then
        what = ("level %s dB"):format(db_text(r.db))
      else
        what = ("difference at %s dBFS"):format(db_text(r.db))
      end
      add("  %-7s %d..%d (%d frames, %.3f s to %.3f s): %s", r.kind, r.from, r.to, r.frames,
        r.from / rate, (r.to + 1) / rate, what)
    end
  end
  if report.spectrum then
    local bad = {}
    for _, b in ipairs(report.spectrum) do
      if not b.ok then bad[#bad + 1] = ("%.0f Hz %+.1f dB"):format(b.center, b.diff_db) end
    end
    add("Spectrum: %s", #bad == 0 and ("every band within %s dB"):format(tol.spectrum_db)
      or table.concat(bad, ", "))
  end
  add(report.ok and "SAME within the tolerances" or ("DIFFERENT: " .. table.concat(report.failures, "; ")))
  return table.concat(lines, "\n")
end

return M
