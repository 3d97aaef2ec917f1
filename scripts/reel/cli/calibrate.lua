--- `reel calibrate [OPTIONS]`: measures the round-trip latency of a device
-- (output to input) and stores it in the latency profile, so that takes can
-- be aligned with what was played from then on.
--
-- How: a maximum length sequence (generator "mls:ORDER:LEVEL") is written
-- to a temporary float WAV and played from timeline position 0 through
-- output N alone (a playback source panned hard to a monitor bus that has
-- only output N); input M is recorded in the same roll with latency
-- compensation 0, for the sequence's length plus --max-latency; the delay
-- at which the recording matches the sequence (reel.calibrate.measure, an
-- FFT cross-correlation, exact to the sample) is the round trip.
--
-- The loop: a cable from output N to input M, or, on JACK, a connection
-- CLIENT:outport N-1 -> CLIENT:inport M-1 which --connect (the default on
-- JACK) makes once the device runs; a dummy JACK server then measures one
-- period, as jack_iodelay does. With --no-connect reel's ports connect to
-- the system ports as for recording, and the cable (or a connection made
-- elsewhere) is the loop. The virtual device simulates one with --loopback
-- OUT>IN and --loopback-latency FRAMES.
--
-- Returns the exit status: 0 measured, 1 failed (no device, nothing came
-- back, no clear peak), 2 bad command line.
local reel = require "reel"
local getopt = require "reel.getopt"
local json = require "reel.json"
local latency = require "reel.latency"
local calibrate = require "reel.calibrate"
local regress = require "reel.regress"
local core = reel.core

local usage_error = getopt.usage_error("reel calibrate")

local opts, rest = getopt.parse({ ... }, {
  device = { value = true }, out = { value = true }, ["in"] = { value = true },
  name = { value = true }, json = {}, ["no-save"] = {}, loopback = { value = true },
  ["loopback-latency"] = { value = true }, connect = {}, ["no-connect"] = {},
  rate = { value = true }, period = { value = true }, order = { value = true },
  level = { value = true }, ["max-latency"] = { value = true },
})
if not opts then return usage_error(rest) end
if #rest > 0 then return usage_error(("unexpected argument '%s'"):format(rest[1])) end

local out_ch, in_ch, rate, period, lb_latency, order, max_latency, err
out_ch, err = getopt.integer(opts, "out", 1, 1024, 1)
if err then return usage_error(err) end
in_ch, err = getopt.integer(opts, "in", 1, 1024, 1)
if err then return usage_error(err) end
rate, err = getopt.integer(opts, "rate", 1000, 768000, nil)
if err then return usage_error(err) end
period, err = getopt.integer(opts, "period", 1, 65536, nil)
if err then return usage_error(err) end
lb_latency, err = getopt.integer(opts, "loopback-latency", 1, 1 << 20, nil)
if err then return usage_error(err) end
order, err = getopt.integer(opts, "order", calibrate.mls_min_order, calibrate.mls_max_order, 16)
if err then return usage_error(err) end
max_latency, err = getopt.integer(opts, "max-latency", 1, 1 << 20, nil)
if err then return usage_error(err) end
local level = -12
if opts.level then
  level = tonumber(opts.level)
  if not level or not (level <= 0 and level >= -60) then
    return usage_error(("option '--level' expects a level in dBFS from -60 to 0, got '%s'")
      :format(opts.level))
  end
end
if opts.connect and opts["no-connect"] then
  return usage_error("options '--connect' and '--no-connect' exclude each other")
end
if opts.name == "" then return usage_error("option '--name' needs a non-empty client name") end

local spec = opts.device or ""
local kind, kerr = getopt.device_kind(spec)
if not kind then return usage_error(kerr) end
-- A simulated loop is the virtual device's: asking for one chooses it.
if (opts.loopback or lb_latency) and spec == "" then spec = "virtual" kind = "virtual" end
if (opts.loopback or lb_latency) and kind ~= "virtual" then
  return usage_error(("options '--loopback' and '--loopback-latency' simulate a cable on the "
    .. "virtual device only (the device is '%s')"):format(spec))
end
if lb_latency and not opts.loopback then
  return usage_error("option '--loopback-latency' needs '--loopback OUT>IN'")
end
local client = opts.name or "reel"

-- ---------------------------------------------------------------- output

local function emit_json(t)
  io.write(json.encode(t))
end

local function failure(msg, extra)
  if opts.json then
    local t = extra or {}
    t.error = msg
    emit_json(t)
  end
  io.stderr:write("reel calibrate: ", msg, "\n")
  return 1
end

-- ------------------------------------------------------------ the device

-- A simulated cable may land elsewhere (the wrong socket): open every
-- channel the loopback names, so that such a mistake measures silence.
local n_in, n_out = in_ch, out_ch
for o, i in (opts.loopback or ""):gmatch("(%d+)%s*>%s*(%d+)") do
  n_out = math.max(n_out, math.tointeger(tonumber(o)) or 0)
  n_in = math.max(n_in, math.tointeger(tonumber(i)) or 0)
end

local rec, oerr = core.open_recorder{
  device = spec, channels = n_in, outputs = n_out, rate = rate, period = period,
  name = client, no_connect = not opts["no-connect"], loopback = opts.loopback,
  loopback_latency = lb_latency, format = "wav32f",
}
if not rec then return failure(oerr) end
local info = rec:info()
local jack = info.api == "jack"
local connect = jack and not opts["no-connect"]
if opts.connect and not jack then
  rec:close()
  return usage_error(("option '--connect' makes a JACK connection; the device is %s '%s'")
    :format(info.api, info.name))
end
if info.out_channels < out_ch or info.in_channels < in_ch then
  rec:close()
  return failure(("%s '%s' has %d outputs and %d inputs; output %d and input %d asked")
    :format(info.api, info.name, info.out_channels, info.in_channels, out_ch, in_ch))
end
max_latency = max_latency or info.rate -- 1 s
local frames = (1 << order) - 1
local desc = {
  api = info.api, device = info.name, rate = info.rate, period = info.period,
  output = out_ch, input = in_ch,
}

local dir, terr = calibrate.tempdir()
if not dir then rec:close() return failure(terr) end
local signal_path = dir .. "/mls.wav"
local take_prefix = dir .. "/loop_T"
local function cleanup()
  rec:close()
  for _, name in ipairs(core.list_dir(dir) or {}) do os.remove(dir .. "/" .. name) end
  os.remove(dir)
end

local ok, werr = calibrate.write_signal(signal_path, ("mls:%d:%g"):format(order, level), frames,
                                        info.rate)
if not ok then cleanup() return failure(werr) end

local function setup()
  local r, e = rec:add_track("Loop", { in_ch })
  if not r then return nil, e end
  r, e = rec:arm("Loop", true)
  if not r then return nil, e end
  -- The monitor bus is output N alone; hard left puts the sequence there bit
  -- for bit and nowhere else.
  rec:set_monitor_outputs(out_ch, nil)
  r, e = rec:add_source(signal_path, 0, 0, -1)
  if not r then return nil, e end
  r, e = rec:set_latency(0)
  if not r then return nil, e end
  if connect then
    -- JACK ports accept connections only once the client runs.
    r, e = rec:start_device()
    if not r then return nil, e end
    local src = ("%s:outport %d"):format(client, out_ch - 1)
    local dst = ("%s:inport %d"):format(client, in_ch - 1)
    local function sh(x) return "'" .. x:gsub("'", "'\\''") .. "'" end
    local cmd = "jack_connect " .. sh(src) .. " " .. sh(dst)
    local okc = os.execute(cmd .. " >/dev/null 2>&1")
    if not okc then
      return nil, ("cannot connect '%s' to '%s' (%s failed; is jack_connect installed?)")
        :format(src, dst, cmd)
    end
    desc.connection = src .. " -> " .. dst
  end
  return true
end
local sok, serr = setup()
if not sok then cleanup() return failure(serr) end

if not opts.json then
  print(("Calibrating %s '%s' at %d Hz, period %d: output %d -> input %d%s")
    :format(info.api, info.name, info.rate, info.period, out_ch, in_ch,
      desc.connection and (" (JACK connection %s)"):format(desc.connection)
      or (opts.loopback and (" (simulated loopback %s, %s frames)")
        :format(opts.loopback, lb_latency and tostring(lb_latency) or "one period") or "")))
  print(("Test signal: MLS order %d (%d frames, %.3f s) at %s dBFS; searching up to %d frames")
    :format(order, frames, frames / info.rate, reel.format_db(level), max_latency))
  io.stdout:flush()
end

-- ------------------------------------------------------------- the roll

local stop_at = frames + max_latency
local rok, rerr = rec:roll{ from = 0, record = true, autostop = stop_at,
                            takes = { Loop = { take_prefix, 1 } }, description = "reel calibrate" }
if not rok then cleanup() return failure(rerr) end
local interrupted = regress.wait_recorded(rec, core.now() + 3 * stop_at / info.rate + 20)
if interrupted == nil then
  cleanup()
  return failure("the calibration roll did not finish in time (is the device running?)")
end
local fok, ferr = rec:finish_roll()
if not fok then cleanup() return failure(ferr) end
if interrupted then cleanup() return failure("interrupted") end
local take = rec:takes("Loop")[1]
if not take or not take.path then cleanup() return failure("no take was recorded") end

-- ---------------------------------------------------------- the answer

local res, merr, partial = calibrate.measure(signal_path, take.path, { max_lag = max_latency })
cleanup()
local result = {
  api = info.api, device = info.name, rate = info.rate, period = info.period,
  output = out_ch, input = in_ch, order = order, signal_frames = frames,
  level_played_db = level, max_latency = max_latency,
  reported_input_latency = info.input_latency, reported_output_latency = info.output_latency,
  xruns = take.xruns, connection = desc.connection,
}
-- Rounded for people and diffs; -inf (silence) becomes null in JSON.
local function round(v, digits)
  if v ~= v or v == math.huge or v == -math.huge then return v end
  local m = 10 ^ digits
  return math.floor(v * m + 0.5) / m
end
local r = res or partial
if r then
  result.confidence = round(r.confidence, 1)
  result.correlation = round(r.correlation, 4)
  result.level_db = round(r.level_db, 2)
  result.gain_db = round(r.gain_db, 2)
  result.inverted = r.inverted
end
if not res then
  if r and r.delay and r.delay >= 0 then result.best_lag = r.delay end
  return failure(merr, result)
end
result.latency_frames = res.delay
result.latency_ms = res.delay * 1000 / info.rate

local saved, key
if not opts["no-save"] then
  local e = {}
  for k, v in pairs(desc) do e[k] = v end
  e.latency = res.delay
  e.confidence = result.confidence
  e.level_db = result.level_db
  e.gain_db = result.gain_db
  e.order = order
  local serr2
  saved, key = latency.store(e)
  if not saved then
    serr2 = key
    key = nil
    result.save_error = serr2
  end
end
result.profile = saved
result.key = key
result.saved = saved ~= nil

if opts.json then
  emit_json(result)
else
  print(("Round-trip latency: %d frames (%.3f ms)"):format(res.delay, result.latency_ms))
  print(("Confidence: %.1f (peak over the next-best correlation; below %g is refused)")
    :format(res.confidence, calibrate.min_confidence))
  print(("Returned level: %s dBFS RMS (loop gain %s dB)%s"):format(reel.format_db(res.level_db),
    reel.format_db(res.gain_db), res.inverted and "; polarity INVERTED" or ""))
  print(("The device reports: input latency %d, output latency %d frames")
    :format(info.input_latency, info.output_latency))
  if take.xruns > 0 then print(("Xruns during the measurement: %d"):format(take.xruns)) end
  if saved then
    print(("Saved to %s (%s)"):format(saved, key))
  elseif opts["no-save"] then
    print("Not saved (--no-save).")
  end
end
if result.save_error then
  io.stderr:write("reel calibrate: cannot save the profile: ", result.save_error, "\n")
  return 1
end
return 0
