-- spec_routine.lua: take routines (reel.routine, Session:routine) end to
-- end on the virtual device in freewheel, with input files written here so
-- that every pass's audio is known.
--
-- The song: 240 bpm 4/4, so a bar is one second, 48000 samples; sections
-- Verse 1, Chorus 1, Verse 1, Chorus 1 bars: "Chorus 1" is [48000, 96000).
-- A routine loops the section, one take per pass, with a count-in of one bar:
-- the roll starts at timeline 0 (device frame 0), the first pass records
-- device frames [48000, 96000), the second [96000, 144000) and so on. A
-- virtual device's file input starts again at every roll, so a retry's
-- first pass hears the file's first pass-worth again.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/helper.lua")
local reel = require "reel"
local core = require "reel.core"
local json = require "reel.json"

local BAR = 48000
local CH1 = 48000

local read = T.read
local function doc(dir) return assert(json.decode(read(dir .. "/session.json"))) end

local write_wav = T.write_wav

local function song()
  local dir = T.tmpdir() .. "/song"
  local s = assert(reel.new(dir, {
    format = "wav32f", tempo = 240, meter = "4/4",
    tracks = { { name = "Vox", input = 1 }, { name = "Gtr", input = 2 } },
    sections = { { "Verse", 1 }, { "Chorus", 1 }, { "Verse", 1 }, { "Chorus", 1 } },
  }))
  return s, dir
end

local function sine(i) return 0.25 * math.sin(2 * math.pi * 440 * i / 48000) end

-- An input whose second pass-worth (device frames [96000, 144000)) has 37
-- samples at full scale, 5000 frames into the pass.
local function clipping_input(dir)
  local path = dir .. "/clip_in.wav"
  write_wav(path, 5 * BAR, function(i)
    if i >= 2 * BAR + 5000 and i < 2 * BAR + 5037 then return 1.0 end
    return sine(i)
  end)
  return path
end

local function freewheel(inputs)
  return reel.device{ spec = "virtual:freewheel", inputs = inputs }
end

local function statuses(s, track)
  local out = {}
  for _, t in ipairs(s:takes{ track = track }) do out[#out + 1] = t.take .. ":" .. t.status end
  return table.concat(out, " ")
end

T.test("the policy rejects exactly the clipping pass, retries once and ends with 3 good takes", function()
  local s, dir = song()
  local input = clipping_input(T.tmpdir())
  T.eq((s:section("Chorus 1")), CH1)
  local r = assert(s:routine{ track = "Vox", section = "Chorus 1", passes = 3, count_in = 1,
    retries = 2, policy = { reject = { "clipping" } }, device = freewheel{ input, "silence" } })
  T.eq(#r.takes, 4, "takes recorded")
  T.eq(#r.kept, 3) T.eq(#r.rejected, 1)
  T.eq(r.rejected[1].take, 2, "the rejected take is the second pass's")
  T.eq(statuses(s, "Vox"), "1:kept 2:rejected 3:kept 4:kept")
  -- every take sits on the section exactly
  for _, t in ipairs(s:takes{ track = "Vox" }) do
    T.eq(t.start, CH1, "start of take " .. t.take)
    T.eq(t.frames, BAR, "frames of take " .. t.take)
    T.eq(t.section, "Chorus 1")
  end
  -- the first roll was three passes, the retry roll one
  T.eq(s:take("Vox", 3).pass, 2) T.eq(s:take("Vox", 4).pass, 0)
  T.eq(s:take("Vox", 2).clipped, 37)
  T.eq(s:take("Vox", 1).clipped, 0) T.eq(s:take("Vox", 4).clipped, 0)
  -- the clipping samples are where the file put them, 5000 frames in
  local smp = assert(core.read_frames(dir .. "/audio/Vox_T02.wav", 4999, 39))
  T.ok(smp[1] < 1.0 and smp[2] == 1.0 and smp[38] == 1.0 and smp[39] < 1.0, "clip at 5000..5036")
  -- the retry's pass is the file's first pass-worth again: sample for sample
  local a = assert(core.read_frames(dir .. "/audio/Vox_T01.wav", 0, BAR))
  local b = assert(core.read_frames(dir .. "/audio/Vox_T04.wav", 0, BAR))
  for i = 1, BAR, 997 do T.eq(b[i], a[i], "T04 frame " .. (i - 1)) end
  T.near(a[1], sine(BAR), 1e-6, "T01 frame 0 is input frame 48000")
  -- on disk
  local j = doc(dir)
  T.eq(#j.takes, 4)
  T.eq(j.takes[2].status, "rejected")
  T.eq(j.takes[2].note, "rejected by policy: clipped 37 samples")
  T.eq(j.takes[1].note, nil)
  T.eq(j.last_take.Vox, 4)
end)

T.test("retries exhausted: nil, a message and every take kept in the session", function()
  local s, dir = song()
  local input = T.tmpdir() .. "/all_clip.wav"
  write_wav(input, 6 * BAR, function(i) return (i % 1000 == 0) and 1.0 or sine(i) end)
  local r, err, partial = s:routine{ track = "Vox", section = "Chorus 1", passes = 2, retries = 1,
    count_in = 0, device = freewheel{ input } }
  T.eq(r, nil)
  T.eq(err, "Vox, Chorus 1: 0 good takes of 2 wanted after 3 passes (2 planned + 1 retries)")
  T.eq(#partial.takes, 3) T.eq(#partial.rejected, 3)
  T.eq(statuses(s, "Vox"), "1:rejected 2:rejected 3:rejected")
  local j = doc(dir)
  T.eq(#j.takes, 3)
  T.eq(j.takes[3].note, "rejected by policy: clipped 48 samples")
  for _, t in ipairs(j.takes) do T.ok(core.exists(dir .. "/" .. t.file), t.file) end
end)

T.test("no signal is rejected by the silence policy, with the level in the note", function()
  local s, dir = song()
  local r, err, partial = s:routine{ track = "Vox", section = "Chorus 2", passes = 1, retries = 1,
    policy = { reject = { "silence" }, silence_db = -50 }, device = freewheel{ "sine:440:-55" } }
  T.eq(r, nil)
  T.eq(err, "Vox, Chorus 2: 0 good takes of 1 wanted after 2 passes (1 planned + 1 retries)")
  T.eq(#partial.rejected, 2)
  local t = s:take("Vox", 1)
  T.eq(t.start, 3 * BAR)
  T.eq(t.status, "rejected")
  T.eq(t.note, "rejected by policy: no signal (peak -55.0 dBFS, below -50 dBFS)")
  T.eq(doc(dir).takes[2].note, "rejected by policy: no signal (peak -55.0 dBFS, below -50 dBFS)")
  -- digital silence says -inf
  local s2 = song()
  local _, err2 = s2:routine{ track = "Vox", section = "Chorus 1", retries = 0,
    device = freewheel{ "silence" } }
  T.eq(err2, "Vox, Chorus 1: 0 good takes of 1 wanted after 1 passes (1 planned + 0 retries)")
  T.eq(s2:take("Vox", 1).note, "rejected by policy: no signal (peak -inf dBFS, below -60 dBFS)")
end)

T.test("on_take sees each pass after the policy and overrules it", function()
  local s = song()
  local input = clipping_input(T.tmpdir())
  local seen = {}
  local r = assert(s:routine{ track = "Vox", section = "Chorus 1", passes = 3, count_in = 1,
    policy = { reject = { "clipping" } }, device = freewheel{ input },
    on_take = function(take, problems, pass)
      seen[#seen + 1] = ("%d:%s:%s"):format(take.take, table.concat(problems, ","), pass.policy or "-")
      if take.take == 2 then return "keep" end      -- a person likes the clipped one
      if take.take == 3 then return "select" end
      if take.take == 1 then return "reject" end
    end })
  T.eq(table.concat(seen, " "), "1::- 2:clipped 37 samples:clipped 37 samples 3::- 4::-")
  T.eq(statuses(s, "Vox"), "1:rejected 2:kept 3:selected 4:kept")
  T.eq(s:take("Vox", 1).note, "rejected by the routine's callback")
  T.eq(s:take("Vox", 2).note, "kept by the routine's callback despite: clipped 37 samples")
  T.eq(#r.kept, 3)
  T.eq(s:selected("Vox").take, 3)
  -- a wrong verdict is an error naming it; the takes stay
  local s2 = song()
  T.raises(function()
    s2:routine{ track = "Vox", section = "Chorus 1", device = freewheel{ "sine:440:-6" },
      on_take = function() return "maybe" end }
  end, "on_take returned 'maybe' ('keep', 'reject', 'select' or nil expected)")
  T.eq(#s2.takes, 1)
end)

T.test("routine_passes: the loop body runs between takes and decides", function()
  local s = song()
  local input = clipping_input(T.tmpdir())
  local bodies = {}
  local it, result = s:routine_passes{ track = "Vox", section = "Chorus 1", passes = 2, keep = 2,
    count_in = 1, policy = { reject = {} }, device = freewheel{ input } }
  for pass in it do
    -- the take is already in the session (status still "kept")
    bodies[#bodies + 1] = ("%d/%d/%s"):format(pass.pass, pass.take.take, s:take("Vox", pass.take.take).status)
    if pass.take.clipped > 0 then pass:reject("clipped: sing it again") end
  end
  T.eq(table.concat(bodies, " "), "1/1/kept 2/2/kept 3/3/kept")
  T.eq(statuses(s, "Vox"), "1:kept 2:rejected 3:kept")
  T.eq(s:take("Vox", 2).note, "clipped: sing it again")
  T.eq(result.error, nil)
  T.eq(#result.kept, 2)
end)

T.test("several tracks: one bad take rejects the whole pass", function()
  local s = song()
  local input = clipping_input(T.tmpdir())
  local r = assert(s:routine{ tracks = { "Vox", "Gtr" }, section = "Chorus 1", passes = 2,
    count_in = 1, policy = { reject = { "clipping" } }, device = freewheel{ "sine:220:-20", input } })
  T.eq(statuses(s, "Vox"), "1:kept 2:rejected 3:kept")
  T.eq(statuses(s, "Gtr"), "1:kept 2:rejected 3:kept")
  T.eq(s:take("Vox", 2).note, "rejected by policy: Gtr: clipped 37 samples")
  T.eq(#r.passes, 3)
end)

T.test("keep < passes stops after K good takes; comp picks among them", function()
  local s = song()
  local r = assert(s:routine{ track = "Vox", section = "Chorus 1", passes = 3, keep = 2,
    device = freewheel{ "sine:440:-6" }, comp = "fewest_problems" })
  T.eq(#r.takes, 2, "only two passes recorded")
  local c = s:comps("Vox")
  T.eq(#c, 1) T.eq(c[1].section, "Chorus 1") T.eq(c[1].take, 2)
end)

T.test("defaults come from the template's take_policy", function()
  local dir = T.tmpdir() .. "/tp"
  local s = assert(reel.new(dir, { template = "drum_tracking" }))
  local p = s._extra.take_policy
  T.eq(p.passes, 3) T.eq(p.count_in, 2)
  local plan = reel.routine.plan(s, { track = "KickIn", section = "Verse 1" })
  T.eq(plan.passes, 3) T.eq(plan.keep, 3) T.eq(plan.count_in, 2) T.eq(plan.retries, 2)
  T.eq(plan.click, "recording")
  T.ok(plan.reject.xruns and plan.reject.clipping and not plan.reject.silence
    and not plan.reject.overruns, "reject: xruns, clipped")
  T.eq(plan.comp, p.prefer or false)
  -- options given win over the template's
  plan = reel.routine.plan(s, { track = "KickIn", section = "Verse 1", passes = 1, count_in = 0,
    policy = { reject = { "silence" } }, comp = false })
  T.eq(plan.passes, 1) T.eq(plan.count_in, 0) T.eq(plan.comp, false)
  T.ok(plan.reject.silence and not plan.reject.xruns)
  T.raises(function() reel.routine.plan(s, { track = "KickIn", section = "nope" }) end,
    "bad option 'section' (unknown section 'nope'", T.here(-1))
end)

T.test("the policy's verdict on takes with xruns, overruns, clipping, silence, cut short", function()
  local s = song()
  local o = { track = "Vox", section = "Chorus 1" }    -- all four problems rejected by default
  local function take(t)
    local x = { track = "Vox", take = 1, file = "audio/Vox_T01.wav", start = CH1, frames = BAR,
                rate = 48000, peak_db = -6, clipped = 0, xruns = 0, overruns = 0 }
    for k, v in pairs(t) do x[k] = v end
    return x
  end
  T.eq(reel.routine.verdict(s, o, take{}), nil)
  T.eq(reel.routine.verdict(s, o, take{ xruns = 2, xrun_positions = { 24000, 48000 } }),
    "2 xruns (at 0.500 s, 1.000 s)")
  T.eq(reel.routine.verdict(s, o, take{ overruns = 1, lost_frames = 4800,
    gaps = { { position = 12000, frames = 4800 } } }), "1 overrun, 4800 frames lost (at 0.250 s)")
  T.eq(reel.routine.verdict(s, o, take{ clipped = 1, peak_db = 0, xruns = 1, xrun_positions = { 0 } }),
    "clipped 1 sample; 1 xrun (at 0.000 s)")
  T.eq(reel.routine.verdict(s, o, take{ peak_db = -math.huge }), "no signal (peak -inf dBFS, below -60 dBFS)")
  T.eq(reel.routine.verdict(s, o, take{ frames = 1000 }), "cut short (1000 of 48000 frames)")
  T.eq(reel.routine.verdict(s, o, take{ error = "disk full" }), "error: disk full")
  -- only what the policy lists
  local only = { track = "Vox", section = "Chorus 1", policy = { reject = { "overruns" } } }
  T.eq(reel.routine.verdict(s, only, take{ xruns = 3, clipped = 9, peak_db = -90 }), nil)
  T.eq(reel.routine.verdict(s, only, take{ overruns = 2, lost_frames = 10 }), "2 overruns, 10 frames lost")
end)

T.test("misuse raises at the caller's line, naming the option", function()
  local s = song()
  T.raises(function() s:routine{ section = "Chorus 1" } end,
    "bad option 'track' (the track to record is missing)", T.here(-1))
  T.raises(function() s:routine{ track = "Drums", section = "Chorus 1" } end,
    "bad option 'track' (unknown track 'Drums' (tracks: Vox, Gtr))", T.here(-1))
  T.raises(function() s:routine{ track = "Vox", section = "Chorus 1", bogus = 1 } end,
    "unknown option 'bogus'", T.here(-1))
  T.raises(function() s:routine{ track = "Vox", section = "Chorus 1", passes = 0 } end,
    "bad option 'passes' (0 is not between 1 and 100)", T.here(-1))
  T.raises(function() s:routine{ track = "Vox", section = "Chorus 1", passes = 2, keep = 5, retries = 1 } end,
    "bad option 'keep' (5 good takes cannot come from at most 3 passes (2 planned + 1 retries))", T.here(-1))
  T.raises(function() s:routine{ track = "Vox", section = "Chorus 1", policy = { reject = { "noise" } } } end,
    "bad option 'policy' (reject[1]: 'noise' is not one of xruns, overruns, clipping, silence)", T.here(-1))
  T.raises(function() s:routine{ track = "Vox", section = "Chorus 1", comp = "best" } end,
    "bad option 'comp' (fewest_problems, loudest_unclipped, latest, first or false expected, got 'best')",
    T.here(-2))
  T.raises(function() s:routine{ track = "Vox", section = "Chorus 1", record = { loop = "Verse 1" } } end,
    "bad option 'record' ('loop' is the routine's own option)", T.here(-1))
  T.raises(function() reel.routine.run(s, { track = "Vox", section = 3 }) end,
    "bad option 'section' (section name or {FROM, TO} expected, got number)", T.here(-1))
  T.eq(#s.takes, 0)
end)

T.done()
