--- `reel record [OPTIONS] DIR`: quick capture of every input channel into a
-- session folder, one mono track per channel (In1, In2, ...). Returns the
-- exit status: 0 recorded (also when stopped by Ctrl-C, or cancelled by it
-- while waiting for --start-at), 1 failed (including a take stopped because
-- the disk was nearly full, see --min-free), 2 bad command line.
--
-- Faults end the take cleanly, keep every frame written and say why on
-- stderr with the timeline position (exit status 1): the disk full or failing
-- (the writer's message, naming the file), the device lost (the JACK server
-- went away), or the disk too slow. Short overruns (the writer more than a
-- ring, 5 s or --ring-seconds, behind) are counted, filled with silence at their positions and
-- listed in the summary; the take goes on. "The disk cannot keep up" is the
-- rule --max-lost sets: once more than that much audio (default 1 s) has been
-- lost to overruns on a track, the take stops there.
--
-- For long unattended runs: --min-free stops the take cleanly before the
-- session's filesystem fills up (and refuses to start below it), --status
-- and --status-interval write a status line every N seconds for logs,
-- --start-at and --stop-at start and stop at wall-clock times.
local reel = require "reel"
local getopt = require "reel.getopt"
local schedule = require "reel.schedule"
local sys = require "reel.sys"
local core = reel.core

local MiB = 1024 * 1024
-- Free space is checked this often (statvfs is cheap; a fast writer can use
-- a lot of disk in a second).
local DISK_CHECK_SECONDS = 0.25
local DEFAULT_STATUS_INTERVAL = 10
-- Audio lost to overruns (per track, in seconds) after which the disk
-- "cannot keep up" and the take stops (--max-lost).
local DEFAULT_MAX_LOST = 1
-- Overruns listed one by one in the summary, per take.
local GAPS_LISTED = 8

local usage_error = getopt.usage_error("reel record")
local failure = getopt.failure("reel record")

local opts, rest = getopt.parse({ ... }, {
  device = { value = true }, input = { value = true, list = true },
  channels = { value = true }, seconds = { value = true }, format = { value = true },
  rate = { value = true }, period = { value = true }, name = { value = true },
  ["no-connect"] = {}, ["no-loudness"] = {},
  ["min-free"] = { value = true }, status = { value = true },
  ["status-interval"] = { value = true }, ["start-at"] = { value = true },
  ["stop-at"] = { value = true }, ["max-lost"] = { value = true },
  ["ring-seconds"] = { value = true },
})
if not opts then return usage_error(rest) end
if #rest == 0 then return usage_error("missing DIR (the session folder to record into)") end
if #rest > 1 then return usage_error(("unexpected argument '%s' (only one DIR)"):format(rest[2])) end
local dir = rest[1]

local seconds
if opts.seconds then
  seconds = tonumber(opts.seconds)
  if not seconds or not (seconds > 0 and seconds <= 1e9) then
    return usage_error(("option '--seconds' expects a positive number of seconds, got '%s'")
      :format(opts.seconds))
  end
end
local max_lost = DEFAULT_MAX_LOST
if opts["max-lost"] then
  max_lost = tonumber(opts["max-lost"])
  if not max_lost or not (max_lost >= 0 and max_lost <= 3600) then
    return usage_error(("option '--max-lost' expects seconds from 0 to 3600, got '%s'")
      :format(opts["max-lost"]))
  end
end
-- The ring is what carries a disk stall: every track keeps this much audio
-- in memory (rounded up to a power of two of frames), so it is also what a
-- track costs in RAM.
local ring_seconds
if opts["ring-seconds"] then
  ring_seconds = tonumber(opts["ring-seconds"])
  if not ring_seconds or not (ring_seconds >= 1 and ring_seconds <= 600) then
    return usage_error(("option '--ring-seconds' expects seconds from 1 to 600, got '%s'")
      :format(opts["ring-seconds"]))
  end
end
local channels, rate, period, err
channels, err = getopt.integer(opts, "channels", 1, 1024)
if err then return usage_error(err) end
rate, err = getopt.integer(opts, "rate", 1000, 768000)
if err then return usage_error(err) end
period, err = getopt.integer(opts, "period", 1, 65536)
if err then return usage_error(err) end
local format = opts.format or "wav24"
local known = {}
for _, f in ipairs(reel.formats()) do known[f] = true end
if not known[format] then
  return usage_error(("option '--format' must be one of %s, got '%s'")
    :format(table.concat(reel.formats(), ", "), format))
end
local spec = opts.device or ""
-- Inputs are sources for the virtual device: asking for them chooses it.
if opts.input and spec == "" then spec = "virtual" end
local kind, kerr = getopt.device_kind(spec)
if not kind then return usage_error(kerr) end
if opts.name == "" then return usage_error("option '--name' needs a non-empty client name") end

-- Sizes: a number with an optional binary unit (K, M, G, T; "MiB", "MB" and
-- lower case too), bytes without one, or a percentage of the filesystem.
local function parse_size(text)
  local num, unit = text:match("^%s*(%d+%.?%d*)%s*(%a*%%?)%s*$")
  num = tonumber(num)
  if not num then return nil end
  if unit == "%" then
    if num > 100 then return nil end
    return { percent = num }
  end
  local u = unit:upper():gsub("I?B$", "")
  local scale = ({ [""] = 1, K = 1024, M = MiB, G = 1024 * MiB, T = 1024 * 1024 * MiB })[u]
  if not scale then return nil end
  return { bytes = math.floor(num * scale + 0.5) }
end

local function format_size(bytes)
  local units = { { 1024 * MiB * 1024, "TiB" }, { 1024 * MiB, "GiB" }, { MiB, "MiB" }, { 1024, "KiB" } }
  for _, u in ipairs(units) do
    if bytes >= u[1] then
      -- Rounded down: 3.99 MiB free is not "4 MiB free".
      local text = ("%.1f"):format(math.floor(bytes / u[1] * 10) / 10):gsub("%.0$", "")
      return text .. " " .. u[2]
    end
  end
  return ("%d bytes"):format(bytes)
end

local min_free_opt
if opts["min-free"] then
  min_free_opt = parse_size(opts["min-free"])
  if not min_free_opt then
    return usage_error(("option '--min-free' expects a size such as 500M, 2G or 1%%, got '%s'")
      :format(opts["min-free"]))
  end
end

local status_interval
if opts["status-interval"] then
  status_interval = tonumber(opts["status-interval"])
  if not status_interval or not (status_interval >= 0.1 and status_interval <= 86400) then
    return usage_error(("option '--status-interval' expects seconds from 0.1 to 86400, got '%s'")
      :format(opts["status-interval"]))
  end
end
if opts.status == "" then return usage_error("option '--status' needs a file name (or - for stdout)") end

-- Wall-clock times; parsed now so that a mistake shows before any waiting.
local start_at, stop_at
if opts["start-at"] then
  local t, terr = schedule.parse(opts["start-at"])
  if not t then return usage_error("option '--start-at': " .. terr) end
  start_at = t
end
if opts["stop-at"] then
  local from = math.max(start_at or 0, schedule.now())
  local t, terr = schedule.parse(opts["stop-at"], from)
  if not t then return usage_error("option '--stop-at': " .. terr) end
  if t <= from then
    return usage_error(("option '--stop-at': %s is not after the start (%s)")
      :format(schedule.format(t), start_at and schedule.format(from) or "now"))
  end
  stop_at = t
end

local device = reel.device{
  spec = spec, inputs = opts.input, channels = channels, rate = rate, period = period,
  name = opts.name, no_connect = opts["no-connect"] or nil, ring_seconds = ring_seconds,
}
local info, derr = device:info()
if not info then return failure(derr) end
-- A real device opens 2 channels unless told: record all it has instead.
if not channels and info.api ~= "virtual" then
  local all = reel.device_inputs(info)
  if all > info.in_channels then
    device = reel.device{ spec = spec, channels = all, rate = rate, period = period,
                          name = opts.name, no_connect = opts["no-connect"] or nil,
                          ring_seconds = ring_seconds }
    info, derr = device:info()
    if not info then return failure(derr) end
  end
end
if opts.input and info.api ~= "virtual" then
  return usage_error(("option '--input' feeds the virtual device only (the device is %s '%s')")
    :format(info.api, info.name))
end

local s, serr = reel.session(dir)
if not s then return failure(serr) end
local names = {}
for i = 1, info.in_channels do
  names[i] = "In" .. i
  s:track{ name = names[i], input = i }
end
for _, t in ipairs(s.tracks) do
  if not t.name:match("^In%d+$") or tonumber(t.name:sub(3)) > info.in_channels then
    s:arm(t.name, false)
  end
end

-- ---------------------------------------------------------------- disk space

local audio_dir = s.dir:gsub("/$", "") .. "/audio"
local mount = sys.mount_point(audio_dir) or audio_dir

-- The limit in bytes and the free space now; nil, message when the
-- filesystem cannot be asked (which is an error before starting).
local function free_space()
  local fs, ferr = sys.statvfs(audio_dir)
  if not fs then return nil, ferr end
  return fs.avail, fs
end
local limit
do
  local avail, fs = free_space()
  if not avail then
    io.stderr:write("reel record: cannot tell the free space: ", fs, "\n")
    return 1
  end
  if not min_free_opt then
    limit = math.min(fs.size // 100, 512 * MiB)       -- 1 %, at most 512 MiB
  elseif min_free_opt.percent then
    limit = math.floor(fs.size * min_free_opt.percent / 100)
  else
    limit = min_free_opt.bytes
  end
end

local function disk_full_message(avail)
  return ("disk nearly full: %s free on %s (limit %s)")
    :format(format_size(avail), mount, format_size(limit))
end

-- Refuses to start below the limit; nil when there is room.
local function refuse_if_full()
  local avail = free_space()
  if avail and avail < limit then
    io.stderr:write("reel record: ", disk_full_message(avail), "; not recording\n")
    return 1
  end
end
local refused = refuse_if_full()
if refused then return refused end
-- Claimed now, not when the take starts: a session another process is
-- writing is refused before anything is printed or waited for (--start-at).
local locked, lerr = s:lock()
if not locked then return failure(lerr) end

-- ---------------------------------------------------------------- status line

-- A line every status_interval seconds (wall clock) to --status FILE ("-":
-- stdout) or, with --status-interval alone, to stdout:
--   2025-11-26T14:00:10+0100 recording elapsed=00:00:10 frames=480000
--     xruns=0 overruns=0 lost_frames=0 free_mib=12650 peak_db=In1:-6.0,In2:-inf
-- (one line), "started" when the take begins, "recording" while it runs
-- (peaks since the previous line), "stopped" at the end (peaks of the whole
-- take, plus reason=seconds|stop-at|signal|disk-full|error).
local status_out, status_name
local tty = core.isatty(io.stdout)
if opts.status and opts.status ~= "-" then
  local f, ferr = io.open(opts.status, "a")
  if not f then
    io.stderr:write("reel record: cannot open the status file: ", ferr, "\n")
    return 1
  end
  f:setvbuf("line")
  status_out, status_name = f, opts.status
  status_interval = status_interval or DEFAULT_STATUS_INTERVAL
elseif opts.status == "-" or status_interval then
  status_out, status_name = io.stdout, "stdout"
  status_interval = status_interval or DEFAULT_STATUS_INTERVAL
end
local status_failed = false

-- The armed tracks, in the order Session:record reports them.
local armed = {}
for _, t in ipairs(s.tracks) do
  if t.armed then armed[#armed + 1] = t.name end
end

local function status_line(state, fields)
  if not status_out then return end
  local peaks = {}
  for i, name in ipairs(armed) do
    peaks[i] = name .. ":" .. reel.format_db(fields.peaks[i] or -math.huge)
  end
  local avail = free_space()
  -- The wall clock as sys.time reads it (os.date's time() may lag behind by
  -- a tick, showing 13:59:59 for a take that began at 14:00:00).
  local stamp = os.date("%Y-%m-%dT%H:%M:%S%z", math.floor(schedule.now()))
  local line = ("%s %s elapsed=%s frames=%d xruns=%s overruns=%s lost_frames=%s free_mib=%s "
    .. "peak_db=%s%s"):format(stamp, state, schedule.duration(fields.frames / info.rate),
      fields.frames, fields.xruns or "-", fields.overruns or "-", fields.lost_frames or "-",
      avail and tostring(avail // MiB) or "-", table.concat(peaks, ","),
      fields.reason and " reason=" .. fields.reason or "")
  if status_out == io.stdout and tty then line = "\r\27[K" .. line end
  local ok, werr = status_out:write(line, "\n")
  if ok then ok, werr = status_out:flush() end
  if not ok and not status_failed then
    status_failed = true
    io.stderr:write("reel record: cannot write the status line to ", status_name, ": ",
      tostring(werr), "\n")
  end
end

-- ---------------------------------------------------------------- waiting

if start_at then
  local tick
  local function waiting(left)
    return ("Waiting until %s to record (in %s); Ctrl-C cancels.")
      :format(schedule.format(start_at), schedule.duration(left + 0.999))
  end
  if tty then
    tick = function(left) io.stdout:write("\r", waiting(left), "\27[K") io.stdout:flush() end
  else
    print(waiting(start_at - schedule.now()))
    io.stdout:flush()
  end
  local started = schedule.wait_until(start_at, tick)
  if tty then io.stdout:write("\r\27[K") end
  if not started then
    print(("Cancelled while waiting for %s; nothing was recorded.")
      :format(schedule.format(start_at)))
    return 0
  end
  -- Hours may have passed: the disk may have filled meanwhile.
  refused = refuse_if_full()
  if refused then return refused end
end

-- ---------------------------------------------------------------- recording

local limits = {}
if seconds then limits[#limits + 1] = ("for %g s"):format(seconds) end
if stop_at then limits[#limits + 1] = "until " .. schedule.format(stop_at) end
print(("Recording %d track%s (%s) from %s '%s' at %d Hz, period %d, %s, into %s%s")
  :format(#names, #names == 1 and "" or "s", table.concat(names, ", "), info.api, info.name,
    info.rate, info.period, format, dir,
    #limits > 0 and " " .. table.concat(limits, " or ") or "; Ctrl-C stops"))
io.stdout:flush()

local reason, full_at             -- why progress stopped the take; free bytes then
local slow                        -- reason "disk-slow": { lost = frames (per track) }
local started_at, stopped_at      -- wall clock of the take's first and last frames (estimated)
local requested_at                -- wall clock when the take was asked for
local next_disk, next_status = core.now(), nil
local interval_peaks = {}

local function progress(p)
  local now = core.now()
  local levels = p.levels_db or p.peaks_db
  for i, v in ipairs(levels) do
    if v > (interval_peaks[i] or -math.huge) then interval_peaks[i] = v end
  end
  if not started_at and p.frames > 0 then
    -- The frames counted so far end about now; never before the request.
    started_at = math.max(requested_at, schedule.now() - p.seconds)
    local c = p.counts and p.counts() or {}
    status_line("started", { frames = p.frames, peaks = interval_peaks, xruns = c.xruns,
      overruns = c.overruns, lost_frames = c.lost_frames })
    next_status = status_interval and now + status_interval or nil
  end
  if stop_at and schedule.now() >= stop_at then
    reason, stopped_at = "stop-at", schedule.now()
    return false
  end
  if now >= next_disk then
    next_disk = now + DISK_CHECK_SECONDS
    local avail = free_space()
    if avail and avail < limit then
      reason, full_at = "disk-full", avail
      return false
    end
    -- The disk cannot keep up: more than --max-lost lost on a track. Checked
    -- as often as the free space (the counts walk every track).
    local c = p.counts and p.counts()
    if c and c.lost_frames > 0 then
      -- max_lost_frames: the worst track; without it, the mean (the tracks
      -- share one writer, so they lose the same frames).
      local lost = c.max_lost_frames or c.lost_frames // math.max(1, #armed)
      if lost > max_lost * info.rate then
        reason, slow = "disk-slow", { lost = lost }
        return false
      end
    end
  end
  if next_status and now >= next_status then
    next_status = next_status + status_interval
    if next_status < now then next_status = now + status_interval end
    local c = p.counts and p.counts() or {}
    status_line("recording", { frames = p.frames, peaks = interval_peaks, xruns = c.xruns,
      overruns = c.overruns, lost_frames = c.lost_frames })
    interval_peaks = {}
  end
  return true
end

requested_at = schedule.now()
local takes, rerr, partial = s:record{
  seconds = seconds, format = format, device = device, description = "reel record",
  progress = progress, loudness = not opts["no-loudness"],
}
stopped_at = stopped_at or schedule.now()
local list = takes or partial or {}

-- A timeline position for people and for logs: "00:00:07.456 (frame 357888)".
local function at(frames)
  local ms = frames * 1000 // info.rate
  return ("%02d:%02d:%02d.%03d"):format(ms // 3600000, ms // 60000 % 60, ms // 1000 % 60,
    ms % 1000), frames
end
local function position(frames)
  return ("%s (frame %d)"):format(at(frames))
end

-- Where the takes end on the timeline: the longest take (a failed file may
-- hold fewer frames than the others).
local end_frames = 0
for _, t in ipairs(list) do end_frames = math.max(end_frames, t.frames) end

-- Why a failed recording failed. s:record reports a lost device with this
-- message (cause "device"), and a writer error with the writer's message
-- while the takes carry its code (cause "disk"); a newer s:record may say so
-- itself in partial.cause.
local cause
if not takes then
  cause = partial and partial.cause
  if not cause then
    if rerr and rerr:match("^device '.*' stopped working$") then cause = "device"
    else
      for _, t in ipairs(list) do
        if t.error and t.error ~= 0 then cause = "disk" end
      end
    end
  end
end

if not takes then reason = cause == "device" and "device-lost" or cause == "disk" and "disk-error"
  or "error"
elseif takes.interrupted then reason = "signal"
elseif not reason then reason = seconds and "seconds" or "stopped" end
if status_out then
  local frames, peaks, x, o, l = 0, {}, 0, 0, 0
  for i, t in ipairs(list) do
    frames = math.max(frames, t.frames)
    peaks[i] = t.peak_db
    x, o, l = math.max(x, t.xruns), o + t.overruns, l + t.lost_frames
  end
  status_line("stopped", { frames = frames, peaks = peaks, xruns = x, overruns = o,
    lost_frames = l, reason = reason })
  if status_out ~= io.stdout then status_out:close() end
end
for _, t in ipairs(list) do
  print(("%s  %d frames  %.3f s  peak %s dBFS  xruns %d  overruns %d%s")
    :format(s.dir:gsub("/$", "") .. "/" .. t.file, t.frames, t.seconds, reel.format_db(t.peak_db),
      t.xruns, t.overruns, t.lost_frames > 0 and ("  lost %d frames"):format(t.lost_frames) or ""))
  -- Each overrun: where the silence that replaces the lost frames lies.
  local gaps = t.gaps or {}
  for i, g in ipairs(gaps) do
    if i > GAPS_LISTED then
      print(("  ... and %d more overruns"):format(#gaps - GAPS_LISTED))
      break
    end
    print(("  overrun at %s: %d frames (%.3f s) lost, silence in their place")
      :format(position(g.position), g.frames, g.frames / info.rate))
  end
end

if start_at or stop_at then
  if started_at then print("Started " .. schedule.format(started_at, true)) end
  print("Stopped " .. schedule.format(stopped_at, true)
    .. (reason == "stop-at" and " (--stop-at)" or ""))
end

-- Notes on the saved takes say why they end where they do.
local function note_takes(note)
  for _, t in ipairs(list) do
    for _, saved in ipairs(s.takes) do
      if saved.track == t.track and saved.take == t.take then saved.note = note end
    end
  end
  local saved, serr = s:save()
  if not saved then io.stderr:write("reel record: the session file was not saved: ", serr, "\n") end
end

local KEPT = "; the takes are closed and kept"
if not takes then
  if cause == "device" then
    local what = info.api == "jack" and "the JACK server went away"
      or ("the %s device '%s' stopped working"):format(info.api, info.name)
    note_takes(("stopped: %s at %s"):format(what, position(end_frames)))
    io.stderr:write(("reel record: %s at %s%s\n"):format(what, position(end_frames), KEPT))
  elseif cause == "disk" then
    -- The writer's message names the file and the reason ("No space left on
    -- device"); the session file may not fit on a full disk either.
    note_takes(("stopped: %s"):format(rerr))
    io.stderr:write(("reel record: %s; recording stopped at %s%s\n")
      :format(rerr, position(end_frames), KEPT))
  else
    io.stderr:write("reel record: ", rerr, "\n")
  end
  return 1
end
if reason == "disk-full" then
  -- The takes are complete files; say in the session why they end there.
  local elapsed = (list[1] and list[1].frames or 0) / info.rate
  note_takes(("stopped: %s"):format(disk_full_message(full_at)))
  io.stderr:write(("reel record: %s; recording stopped at %s\n")
    :format(disk_full_message(full_at), schedule.duration(elapsed)))
  return 1
end
if reason == "disk-slow" then
  -- The final counts (the gap still open when the take stopped included).
  local lost, n, first = 0, 0, nil
  for _, t in ipairs(list) do
    if t.lost_frames > lost then lost, n = t.lost_frames, t.overruns end
    local g = t.gaps and t.gaps[1]
    if g and (not first or g.position < first) then first = g.position end
  end
  local msg = ("the disk cannot keep up: %.3f s (%d frames) lost in %d overrun%s, the first at %s "
    .. "(more than --max-lost %g s)"):format(lost / info.rate, lost, n, n == 1 and "" or "s",
      position(first or end_frames - slow.lost), max_lost)
  note_takes("stopped: " .. msg)
  io.stderr:write(("reel record: %s; recording stopped at %s%s\n")
    :format(msg, position(end_frames), KEPT))
  return 1
end
if takes.interrupted then print("Stopped by signal; the takes are kept.") end
return 0
