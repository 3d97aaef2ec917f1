-- spec_tracking.lua: punch, loop, count-in, click and overdub alignment
-- through the whole engine (virtual device in freewheel, reel.core), checked
-- sample for sample in the take files.
--
-- Timeline and device time: a roll starts the freewheel device, so device
-- frame 0 is the roll's first frame, at timeline from - preroll - count_in.
-- The impulse generator puts a 1.0 sample at every multiple of its period in
-- device frames, which lets each test predict exactly where impulses land in
-- a take.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/helper.lua")
local core = require "reel.core"

local RATE = 48000

local function recorder(opts)
  opts.device = opts.device or "virtual:freewheel"
  opts.format = opts.format or "wav32f"
  local rec = assert(core.open_recorder(opts))
  return rec
end

-- Rolls, waits for the roll to end (record_done, or stopped when not
-- recording) and returns the events.
local function run_roll(rec, roll)
  assert(rec:roll(roll))
  local events, last = {}, roll.record and "record_done" or "stopped"
  local deadline = core.now() + 60
  while true do
    for _, ev in ipairs(rec:poll()) do
      events[#events + 1] = ev
      if ev.type == last then
        assert(rec:finish_roll())
        return events
      end
    end
    assert(core.now() < deadline, "roll did not finish")
    core.sleep(0.005)
  end
end

local impulses = T.impulses

local function list(t) return table.concat(t, ",") end

local function one_track(dir, input)
  local rec = recorder{ inputs = { input } }
  assert(rec:add_track("Vox", { 1 }))
  assert(rec:arm("Vox", true))
  assert(core.mkdir_p(dir .. "/audio"))
  return rec, { Vox = { dir .. "/audio/Vox_T", 1 } }
end

T.test("punch in and out land on the exact samples", function()
  local dir = T.tmpdir()
  local rec, takes = one_track(dir, "impulse:1000")
  local ev = run_roll(rec, { from = 0, record = true, punch_in = 48100, punch_out = 96100,
                             autostop = 100000, takes = takes })
  local t = rec:takes("Vox")
  T.eq(#t, 1, "takes")
  T.eq(t[1].start, 48100, "start")
  T.eq(t[1].frames, 48000, "frames")
  local at, n = impulses(t[1].path)
  T.eq(n, 48000, "file frames")
  T.eq(#at, 48, "impulses")
  T.eq(at[1], 900, "first impulse")
  T.eq(at[48], 47900, "last impulse")
  local kinds = {}
  for _, e in ipairs(ev) do kinds[#kinds + 1] = e.type .. "@" .. e.pos end
  T.eq(list(kinds), "rolling@0,take_start@48100,take_end@96100,stopped@100000,record_done@100000")
  rec:close()
end)

T.test("loop recording: one take per pass with exact boundaries", function()
  local dir = T.tmpdir()
  local rec, takes = one_track(dir, "impulse:3000")
  run_roll(rec, { from = 10000, record = true, loop_start = 10000, loop_end = 20000,
                  max_passes = 3, takes = takes })
  local t = rec:takes("Vox")
  T.eq(#t, 3, "passes")
  local want = { "0,3000,6000,9000", "2000,5000,8000", "1000,4000,7000" }
  for k = 1, 3 do
    T.eq(t[k].pass, k - 1, "pass")
    T.eq(t[k].start, 10000, "start")
    T.eq(t[k].frames, 10000, "frames")
    T.eq(t[k].path, ("%s/audio/Vox_T%02d.wav"):format(dir, k), "file")
    local at = impulses(t[k].path)
    T.eq(list(at), want[k], "impulses of pass " .. k)
  end
  rec:close()
end)

T.test("loop and punch together: each pass records only the punch range", function()
  local dir = T.tmpdir()
  local rec, takes = one_track(dir, "impulse:3000")
  run_roll(rec, { from = 10000, record = true, loop_start = 10000, loop_end = 20000,
                  punch_in = 12000, punch_out = 15000, max_passes = 3, takes = takes })
  local t = rec:takes("Vox")
  T.eq(#t, 3, "passes")
  local want = { "1000", "0", "2000" }
  for k = 1, 3 do
    T.eq(t[k].start, 12000, "start")
    T.eq(t[k].frames, 3000, "frames")
    T.eq(list((impulses(t[k].path))), want[k], "impulses of pass " .. k)
  end
  rec:close()
end)

T.test("count-in: two bars at 120 bpm before the first recorded frame", function()
  local dir = T.tmpdir()
  local rec, takes = one_track(dir, "impulse:7000")
  local bars2 = 2 * 4 * 24000
  local ev = run_roll(rec, { from = 0, count_in = bars2, record = true, autostop = 48000,
                             takes = takes })
  T.eq(ev[1].type, "rolling")
  T.eq(ev[1].pos, -bars2, "the timeline starts two bars early")
  local t = rec:takes("Vox")
  T.eq(t[1].start, 0)
  T.eq(t[1].frames, 48000)
  -- device frame 192000 is take frame 0; 192000 % 7000 = 3000
  T.eq((impulses(t[1].path))[1], 4000, "first impulse")
  rec:close()
end)

T.test("pre-roll plays before the punch and is not recorded", function()
  local dir = T.tmpdir()
  local rec, takes = one_track(dir, "impulse:5000")
  run_roll(rec, { from = 24000, preroll = 24000, record = true, punch_in = 24000,
                  punch_out = 30000, autostop = 31000, takes = takes })
  local t = rec:takes("Vox")
  T.eq(t[1].start, 24000)
  T.eq(t[1].frames, 6000)
  -- the roll starts at timeline 0 = device 0, so take frame 0 = device 24000
  T.eq(list((impulses(t[1].path))), "1000", "impulses")
  rec:close()
end)

T.test("click onsets follow tempo and meter changes, recorded through a loopback", function()
  local dir = T.tmpdir()
  local rec = recorder{ inputs = { "silence" }, loopback = "1>1", loopback_latency = 256 }
  assert(rec:add_track("Click", { 1 }))
  assert(rec:arm("Click", true))
  assert(rec:set_latency(256))
  assert(rec:set_tempo(3, 90, 3, 4))
  assert(rec:set_click{ mode = "always", outputs = { 1 }, level_db = -6, accent_db = 0 })
  assert(core.mkdir_p(dir .. "/audio"))
  -- bars 1-2: 4/4 at 120 (24000 a beat); bars 3-4: 3/4 at 90 (32000 a beat)
  local stop = 2 * 96000 + 2 * 96000
  run_roll(rec, { from = 0, record = true, punch_out = stop, autostop = stop,
                  takes = { Click = { dir .. "/audio/Click_T", 1 } } })
  local t = rec:takes("Click")[1]
  T.eq(t.frames, stop)
  local info = assert(core.sound_info(t.path))
  local s = assert(core.read_frames(t.path, 0, info.frames))
  local onsets, accents = {}, {}
  local prev = 0
  for i = 1, #s do
    if s[i] ~= 0 and prev == 0 then
      onsets[#onsets + 1] = i - 1
      -- the peak of the burst tells accent (0 dBFS) from a normal beat (-6)
      local peak = 0
      for j = i, math.min(i + 960, #s) do peak = math.max(peak, math.abs(s[j])) end
      accents[#accents + 1] = peak > 0.75 and "A" or "n"
    end
    prev = s[i]
  end
  local want, wacc = {}, {}
  for b = 0, 7 do want[#want + 1] = b * 24000; wacc[#wacc + 1] = b % 4 == 0 and "A" or "n" end
  for b = 0, 5 do want[#want + 1] = 192000 + b * 32000; wacc[#wacc + 1] = b % 3 == 0 and "A" or "n" end
  T.eq(list(onsets), list(want), "onsets")
  T.eq(table.concat(accents), table.concat(wacc), "accents")
  rec:close()
end)

T.test("an overdub against playback lands on the original sample for sample", function()
  local dir = T.tmpdir()
  assert(core.mkdir_p(dir .. "/audio"))
  -- The original: a noise take recorded plainly.
  do
    local rec = recorder{ inputs = { "noise:white:-6" } }
    assert(rec:add_track("Gtr", { 1 }))
    assert(rec:arm("Gtr", true))
    assert(rec:start({ dir .. "/audio/Gtr_T01.wav" }, 3 * RATE))
    while not rec:status().complete do core.sleep(0.005) end
    assert(rec:stop())
    rec:close()
  end
  -- The overdub: play it hard left into output 1, which the simulated rig
  -- loops back into input 1 one round trip (1000 frames) later.
  local rec = recorder{ inputs = { "silence" }, loopback = "1>1", loopback_latency = 1000 }
  assert(rec:add_track("Dub", { 1 }))
  assert(rec:arm("Dub", true))
  assert(rec:add_source(dir .. "/audio/Gtr_T01.wav", 0, 0, -1))
  assert(rec:set_latency(1000))
  run_roll(rec, { from = 0, preroll = 0, record = true, punch_in = 48000, punch_out = 120000,
                  autostop = 130000, takes = { Dub = { dir .. "/audio/Dub_T", 1 } } })
  local t = rec:takes("Dub")[1]
  T.eq(t.frames, 72000)
  local orig = assert(core.read_frames(dir .. "/audio/Gtr_T01.wav", 48000, 72000))
  local dub = assert(core.read_frames(t.path, 0, 72000))
  local diff = 0
  for i = 1, 72000 do if orig[i] ~= dub[i] then diff = diff + 1 end end
  T.eq(diff, 0, "samples that differ")
  T.ok(math.abs(orig[1]) > 0, "the original is not silent")
  rec:close()
end)

T.test("bad rolls are refused with a message naming the field", function()
  local rec, takes = one_track(T.tmpdir(), "silence")
  local ok, err = rec:roll{ from = 0, record = true, punch_in = 2000, punch_out = 1000,
                            takes = takes }
  T.eq(ok, nil)
  T.eq(err, "punch out (1000) is not after punch in (2000)")
  ok, err = rec:roll{ from = 0, loop_start = 96000, loop_end = 48000 }
  T.eq(err, "loop end (48000) is not after loop start (96000)")
  T.raises(function() rec:roll{ from = 0, record = true } end, "names its take files")
  T.raises(function() rec:roll{ form = 0 } end, "unknown option 'form'")
  rec:close()
end)

T.done()
