--- spec_regress.lua: reel.analysis (lua/lanalysis.c), reel.rig and
-- reel.regress (scripts/reel/rig.lua, regress.lua), run by `reel run`.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/helper.lua")
local core = require "reel.core"
local cal = require "reel.calibrate"
local analysis = require "reel.analysis"
local rig = require "reel.rig"
local regress = require "reel.regress"

local dir = T.tmpdir()
local function path(name) return dir .. "/" .. name end
local function signal(name, spec, frames, rate)
  local p = path(name)
  if not core.exists(p) then assert(cal.write_signal(p, spec, frames or 48000, rate)) end
  return p
end
local function sh(cmd)
  assert(os.execute(cmd .. " 2>/dev/null"), cmd)
end

-- ------------------------------------------------------------ analysis

T.test("stats: levels, DC, clipping, noise floor", function()
  local s = assert(analysis.stats(signal("sine.wav", "sine:1000:-6")))
  T.eq(s.frames, 48000)
  T.eq(s.rate, 48000)
  T.eq(s.channels, 1)
  T.near(s.peak_db, -6, 0.01, "peak")
  T.near(s.rms_db, -9.01, 0.01, "rms")
  T.near(s.dc, 0, 1e-4, "dc")
  T.eq(s.clipped, 0)
  T.eq(s.block, 2400)
  T.eq(s.blocks, 20)
  T.near(s.noise_floor_db, -9.01, 0.05, "floor of a steady tone")
  -- A full-scale tone clips; the level is an option.
  local c = assert(analysis.stats(signal("full.wav", "sine:100:0")))
  T.ok(c.clipped > 1000, "clipped " .. c.clipped)
  T.eq(assert(analysis.stats(path("full.wav"), { clip_level = 1.5 })).clipped, 0)
  -- A DC offset, and a tone with a silent half: its floor is the silence.
  sh(("sox -n -r 48000 -c 1 -b 24 %s synth 1 sine 100 vol 0.1 dcshift 0.05"):format(path("dc.wav")))
  T.near(assert(analysis.stats(path("dc.wav"))).dc, 0.05, 1e-3, "dc")
  sh(("sox -n -r 48000 -c 1 -b 24 %s trim 0 24000s"):format(path("quiet.wav")))
  sh(("sox %s %s %s"):format(path("quiet.wav"), path("sine.wav"), path("half.wav")))
  local h = assert(analysis.stats(path("half.wav")))
  T.eq(h.noise_floor_db, -math.huge)
  T.near(h.loudest_block_db, -9.01, 0.05)
  T.near(assert(analysis.stats(path("half.wav"), { percentile = 0.9 })).noise_floor_db, -9.01, 0.05)
  -- A range of the file.
  local r = assert(analysis.stats(path("half.wav"), { start = 24000, frames = 4800 }))
  T.eq(r.frames, 4800)
  T.near(r.rms_db, -9.01, 0.05)
end)

T.test("stats: failures return nil, misuse raises", function()
  local ok, msg = analysis.stats(path("none.wav"))
  T.eq(ok, nil)
  T.ok(msg:find("none.wav", 1, true), msg)
  ok, msg = analysis.stats(signal("sine.wav", "sine:1000:-6"), { channel = 2 })
  T.eq(ok, nil)
  T.eq(msg, path("sine.wav") .. " has 1 channel; channel 2 asked")
  local f = assert(io.open(path("text.wav"), "w"))
  f:write("not a sound file")
  f:close()
  ok, msg = analysis.stats(path("text.wav"))
  T.eq(ok, nil)
  T.ok(msg:find("not a sound file libsndfile reads", 1, true), msg)
  T.raises(function() analysis.stats(path("sine.wav"), { blok = 1 }) end, "unknown option 'blok'")
  T.raises(function() analysis.stats(path("sine.wav"), { block = 4 }) end, "bad option 'block'")
  T.raises(function() analysis.stats(path("sine.wav"), { percentile = 2 }) end,
    "bad option 'percentile'")
  T.raises(function() analysis.stats(42 > 0 and {} or nil) end, "bad argument #1")
end)

T.test("extract pads with silence and never replaces a file", function()
  local src = signal("noise.wav", "noise:white:-12", 48000)
  assert(analysis.extract(src, path("pad.wav"), -100, 1000))
  local x = assert(core.read_frames(path("pad.wav"), 0, 1000))
  local y = assert(core.read_frames(src, 0, 900))
  for i = 1, 100 do T.eq(x[i], 0.0) end
  for i = 1, 900 do T.eq(x[100 + i], y[i]) end
  assert(analysis.extract(src, path("tail.wav"), 47990, 20, "wav24"))
  T.eq(core.sound_info(path("tail.wav")).frames, 20)
  T.eq(core.sound_info(path("tail.wav")).sample, "pcm24")
  local ok, msg = analysis.extract(src, path("pad.wav"), 0, 10)
  T.eq(ok, nil)
  T.ok(msg:find("pad.wav", 1, true), msg)
  T.raises(function() analysis.extract(src, path("x.wav"), 0, 10, "mp3") end, "invalid format 'mp3'")
  T.raises(function() analysis.extract(src, path("x.wav"), 0, -1) end, "frames out of range")
end)

T.test("align: shifts both ways, bounds, whitening, refusals", function()
  local src = signal("noise.wav", "noise:white:-12", 48000)
  assert(analysis.extract(src, path("late.wav"), -123, 48000))  -- content 123 frames later
  assert(analysis.extract(src, path("early.wav"), 77, 48000))   -- 77 frames earlier
  local off, d = analysis.align(src, path("late.wav"))
  T.eq(off, 123)
  T.ok(d.confidence > 10, "confidence " .. d.confidence)
  T.eq(d.inverted, false)
  T.eq((analysis.align(src, path("early.wav"))), -77)
  T.eq((analysis.align(src, path("late.wav"), { whiten = false })), 123)
  T.eq((analysis.align(src, path("late.wav"), { min_shift = 100, max_shift = 200 })), 123)
  local ok, msg = analysis.align(src, path("late.wav"), { min_shift = 0, max_shift = 50 })
  T.eq(ok, nil)
  T.ok(msg:find("cannot align", 1, true), msg)
  -- A sweep from 20 Hz aligns (whitened).
  local sweep = signal("sweep.wav", "sweep:20:20000:1:-12", 48000)
  assert(analysis.extract(sweep, path("sweep_late.wav"), -1000, 48000))
  T.eq((analysis.align(sweep, path("sweep_late.wav"), { min_shift = 0, max_shift = 48000 })), 1000)
  -- A steady tone has no single answer; silence none at all.
  ok, msg = analysis.align(signal("sine.wav", "sine:1000:-6"), path("sine.wav"))
  T.eq(ok, nil)
  T.ok(msg:find("cannot align", 1, true), msg)
  ok = analysis.align(src, signal("silence.wav", "silence", 48000))
  T.eq(ok, nil)
  T.raises(function() analysis.align(src, src, { min_shift = 10, max_shift = 5 }) end,
    "bad option 'min_shift'")
  T.raises(function() analysis.align(src, src, { shift = 5 }) end, "unknown option 'shift'")
end)

T.test("diff: identical, dropouts, gain, polarity, offset", function()
  local src = signal("noise.wav", "noise:white:-12", 48000)
  local d = assert(analysis.diff(src, src))
  T.eq(d.max_abs_diff, 0.0)
  T.eq(d.first_diff, nil)
  T.eq(#d.dropouts, 0)
  T.eq(d.level_db_diff, 0.0)
  T.eq(d.gain, 1.0)
  T.eq(d.residual_db, -math.huge)
  T.eq(d.block, 480)
  T.eq(#d.blocks.reference, 100)
  -- zeros at 10000..10499
  sh(("sox %s %s trim 0 10000s"):format(src, path("a.wav")))
  sh(("sox %s %s trim 10500s"):format(src, path("b.wav")))
  sh(("sox -n -r 48000 -c 1 -b 32 -e floating-point %s trim 0 500s"):format(path("z.wav")))
  sh(("sox %s %s %s %s"):format(path("a.wav"), path("z.wav"), path("b.wav"), path("gap.wav")))
  d = assert(analysis.diff(src, path("gap.wav")))
  T.eq(#d.dropouts, 1)
  T.eq(d.dropouts[1].from, 10000)
  T.eq(d.dropouts[1].to, 10499)
  T.eq(d.dropouts[1].frames, 500)
  T.eq(d.dropouts[1].edge, false)
  T.eq(d.first_diff, 10000)
  T.near(d.level_db_diff, 0, 1e-6)
  -- shorter runs than min_dropout are not dropouts
  T.eq(#assert(analysis.diff(src, path("gap.wav"), { min_dropout = 501 })).dropouts, 0)
  -- 6 dB down and inverted: matched, and said so
  sh(("sox %s %s vol -0.5"):format(src, path("inv.wav")))
  d = assert(analysis.diff(src, path("inv.wav")))
  T.eq(d.inverted, true)
  T.near(d.level_db_diff, -6.02, 0.001)
  T.near(d.gain, -2.0, 1e-4)
  T.ok(d.max_abs_diff < 1e-6, "matched difference " .. d.max_abs_diff)
  d = assert(analysis.diff(src, path("inv.wav"), { gain = 1 }))
  T.eq(d.gain, 1.0)
  T.ok(d.max_abs_diff > 0.1)
  -- an offset: the late copy compared at 123 frames, its first 123 frames missing
  d = assert(analysis.diff(src, path("late.wav"), { offset = 123 }))
  T.eq(#d.dropouts, 1)
  T.eq(d.dropouts[1].from, 47877)
  T.eq(d.dropouts[1].to, 47999)
  T.eq(d.dropouts[1].edge, true)
  T.raises(function() analysis.diff(src, src, { gain = "loud" }) end, "bad option 'gain'")
  T.raises(function() analysis.diff(src, src, { ofset = 1 }) end, "unknown option 'ofset'")
  local ok, msg = analysis.diff(src, signal("r44.wav", "noise:white:-12", 4410, 44100))
  T.eq(ok, nil)
  T.ok(msg:find("is at 48000 Hz but", 1, true), msg)
end)

T.test("spectrum: a tone lands in its band", function()
  local s = assert(analysis.spectrum(signal("sine.wav", "sine:1000:-6")))
  T.eq(s.size, 8192)
  T.eq(s.rate, 48000)
  local total, best = 0, nil
  for _, b in ipairs(s.bands) do
    total = total + 10 ^ (b.db / 10)
    if not best or b.db > best.db then best = b end
  end
  T.near(best.center, 1000, 1)
  T.near(best.db, -9.03, 0.1, "the band of the tone")
  T.near(10 * math.log(total, 10), -9.03, 0.1, "all bands")
  local o = assert(analysis.spectrum(path("sine.wav"), { bands = "octave", size = 4096 }))
  T.ok(#o.bands < #s.bands)
  T.raises(function() analysis.spectrum(path("sine.wav"), { size = 1000 }) end, "power of two")
  T.raises(function() analysis.spectrum(path("sine.wav"), { bands = "fifth" }) end, "invalid option 'fifth'")
end)

-- ------------------------------------------------------------ rig

T.test("rig: the example loads with defaults", function()
  local r, p = assert(rig.load("example"))
  T.ok(p == nil or type(p) == "string")
  T.eq(r.name, "Example rig")
  T.eq(r.device, "virtual")
  T.eq(#r.inputs, 2)
  T.eq(r.inputs[1].channel, 1)
  T.eq(r.inputs[1].expect, "signal")
  T.eq(r.inputs[1].level_db[1], -40)
  T.eq(r.inputs[2].expect, "silence")
  T.eq(r.loops[1].name, "out 1 > in 3")
  T.eq(r.loops[1].latency[2], 2048)
  T.eq(r.clip_db, -0.01)
  T.eq(r.loop_order, 16)
  T.ok(r.path:find("share/rigs/example.lua", 1, true), r.path)
  local ins, outs = rig.channels_needed(r)
  T.eq(ins, 3)
  T.eq(outs, 1)
end)

T.test("rig: mistakes name file, line and field", function()
  local p = path("bad.lua")
  local f = assert(io.open(p, "w"))
  f:write([[
return {
  inputs = {
    { channel = 1, expect = "silent" },
    { channel = 0 },
  },
  loops = { { output = 1, input = 2, latency = { 10 } } },
  dc_max = 2,
}
]])
  f:close()
  local r, msg = rig.load(p)
  T.eq(r, nil)
  T.ok(msg:find(p .. ":3: inputs[1].expect: 'silent' is not one of signal, silence, any (did you mean 'silence'?)", 1, true), msg)
  T.ok(msg:find(p .. ":4: inputs[2].channel: must be between 1 and 1024, got 0", 1, true), msg)
  T.ok(msg:find(p .. ":6: loops[1].latency: a range { MIN, MAX } in frames expected", 1, true), msg)
  T.ok(msg:find(p .. ":7: dc_max: must be between 0 and 1, got 2", 1, true), msg)
  r, msg = rig.load("nosuchrig")
  T.eq(r, nil)
  T.ok(msg:find("rig 'nosuchrig' not found", 1, true), msg)
  T.raises(function() rig.load(42) end, "bad argument #1 to 'find'")
end)

T.test("rig: from_table, default, suggest, loading without the sandbox", function()
  local r = assert(rig.from_table{ inputs = { { channel = 2, expect = "any" } }, seconds = 1 })
  T.eq(r.inputs[1].name, "In 2")
  T.eq(r.seconds, 1)
  local bad, msg = rig.from_table({ inputs = { { channel = 1, levl_db = { -1, 0 } } } }, "mine")
  T.eq(bad, nil)
  T.eq(msg, "mine: inputs[1].levl_db: unknown field (did you mean 'level_db'?)")
  local d = rig.default(3)
  T.eq(#d.inputs, 3)
  T.eq(d.inputs[3].expect, "any")
  T.eq(rig.suggest("chanel", rig.INPUT_FIELDS), "channel")
  T.eq(rig.suggest("zzzzzz", rig.INPUT_FIELDS), nil)
  -- A host without reel.sandbox: a plain text-only load, empty environment.
  local saved_loaded, saved_preload = package.loaded["reel.sandbox"], package.preload["reel.sandbox"]
  package.loaded["reel.sandbox"] = nil
  package.preload["reel.sandbox"] = function() error("no sandbox here") end
  local ok, err = pcall(function()
    local r2 = assert(rig.load("example"))
    T.eq(r2.inputs[2].name, "Spare")
    local p = path("io.lua")
    local f = assert(io.open(p, "w"))
    f:write("return { name = io.read() }\n")
    f:close()
    local r3, m3 = rig.load(p)
    T.eq(r3, nil)
    T.ok(m3:find(p .. ":1:", 1, true), m3)
    f = assert(io.open(p, "w"))
    f:write("while true do end\n")
    f:close()
    r3, m3 = rig.load(p)
    T.eq(r3, nil)
    T.ok(m3:find("ran too long", 1, true), m3)
  end)
  package.loaded["reel.sandbox"], package.preload["reel.sandbox"] = saved_loaded, saved_preload
  assert(ok, err)
end)

-- ------------------------------------------------------------ regress

T.test("regress: capture plays and records", function()
  local cap = assert(regress.capture{ device = "virtual:freewheel", loopback = "2>1",
    loopback_latency = 256, record = { 1, 2 }, output = 2, play = "impulse:4800:-6",
    play_frames = 9600, frames = 12000, dir = dir })
  T.eq(cap.info.api, "virtual")
  T.eq(#cap.takes, 2)
  T.eq(cap.takes[1].channel, 1)
  T.eq(cap.takes[1].frames, 12000)
  local x = assert(core.read_frames(cap.takes[1].path, 0, 12000))
  local hits = {}
  for i, v in ipairs(x) do if math.abs(v) > 0.1 then hits[#hits + 1] = i - 1 end end
  T.eq(table.concat(hits, ","), "256,5056")
  T.raises(function() regress.capture{ record = { 1 }, frames = 10 } end, "bad option 'dir'")
  T.raises(function() regress.capture{ record = { 1 }, dir = dir, frames = 10, output = 1 } end,
    "options 'play' and 'output' to 'capture' go together")
  T.raises(function() regress.capture{ record = { 0 }, dir = dir, frames = 10 } end,
    "bad option 'record'")
  local ok, msg = regress.capture{ device = "virtual:freewheel", inputs = nil, record = { 1 },
    dir = dir, frames = 10, sources = { path("none.wav") } }
  T.eq(ok, nil)
  T.ok(msg:find("none.wav", 1, true), msg)
end)

T.test("regress: record aligns to a generated stimulus; compare finds the same", function()
  local base = { device = "virtual:freewheel", loopback = "1>2", stimulus = "noise:white:-12",
                 seconds = 1, output = 1, input = 2 }
  local function rec(name, latency)
    local o = {}
    for k, v in pairs(base) do o[k] = v end
    o.loopback_latency, o.path = latency, path(name)
    return regress.record(o)
  end
  local a = assert(rec("r1.wav", 700))
  T.eq(a.latency, 700)
  T.eq(a.frames, 48000)
  T.eq(a.rate, 48000)
  T.eq(core.sound_info(a.path).frames, 48000)
  T.near(a.gain_db, 0, 0.01)
  local b = assert(rec("r2.wav", 1500))
  T.eq(b.latency, 1500)
  local report = assert(regress.compare(a.path, b.path))
  T.eq(report.ok, true)
  T.eq(report.alignment, 0)
  T.eq(#report.regions, 0)
  T.eq(#report.failures, 0)
  T.ok(regress.format(report):find("SAME within the tolerances", 1, true))
  local again, msg = rec("r1.wav", 700)
  T.eq(again, nil)
  T.ok(msg:find("the file exists", 1, true), msg)
  -- Without a loop nothing comes back, and no file is left.
  local o = {}
  for k, v in pairs(base) do o[k] = v end
  o.loopback, o.path = nil, path("none2.wav")
  local none, nmsg = regress.record(o)
  T.eq(none, nil)
  T.ok(nmsg:find("cannot find the stimulus", 1, true), nmsg)
  T.eq(core.exists(path("none2.wav")), false)
end)

T.test("regress: misuse raises", function()
  T.raises(function() regress.record{ seconds = 1 } end, "bad option 'path' to 'record'")
  T.raises(function() regress.record{ path = "x.wav", seconds = 1, outptu = 1 } end,
    "unknown option 'outptu' to 'record'")
  T.raises(function() regress.record{ path = "x.wav", output = 1, seconds = 1 } end,
    "needs a 'stimulus'")
  T.raises(function() regress.record{ path = "x.wav", stimulus = "sine:440" } end, "needs 'seconds'")
  T.raises(function() regress.record{ path = "x.wav", seconds = 1, format = "mp3" } end,
    "bad option 'format'")
  local src = signal("noise.wav", "noise:white:-12", 48000)
  T.raises(function() regress.compare(src, src, { level = 1 }) end, "unknown tolerance 'level'")
  T.raises(function() regress.compare(src, src, { method = "fft" }) end, "bad tolerance 'method'")
  T.raises(function() regress.compare(src, src, { min_dropout = -1 }) end,
    "bad tolerance 'min_dropout'")
  T.raises(function() regress.compare(src) end, "bad argument #2 to 'compare'")
  local r, msg = regress.compare(src, path("none.wav"))
  T.eq(r, nil)
  T.ok(msg:find("none.wav", 1, true), msg)
end)

T.done()
