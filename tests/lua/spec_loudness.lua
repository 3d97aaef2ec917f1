--- spec_loudness.lua: scripts/reel/loudness.lua and the reel.loudness_core
-- binding (lua/lloudness.c): measures of files written by sox, targets and
-- the gain arithmetic of reports, normalized previews measured again,
-- errors word for word, and the loudness stored in each take when a take is
-- filed (both ways of recording: s:record with seconds, init.lua; and a
-- transport roll, tracking.lua). The compliance signals of EBU Tech
-- 3341/3342 are tests/unit/test_loudness.c's; here a -23 dBFS sine is
-- enough to know the binding passes the engine's numbers through.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/helper.lua")
local loudness = require "reel.loudness"
local reel = require "reel"
local json = require "reel.json"
local session = require "reel.session"

local sh = T.sh

local read = T.read

local write = T.write

-- sox: a 1 kHz sine at DB dBFS (peak) for SECONDS, CH channels, 24-bit.
local function sine(path, db, seconds, ch)
  sh(("sox -D -n -r 48000 -c %d -b 24 '%s' synth %s sine 1000 vol %.10f"):format(ch or 2, path,
    seconds, 10 ^ (db / 20)))
  return path
end

local dir = T.tmpdir()

T.test("targets are the note's numbers", function()
  local t = loudness.TARGETS
  T.eq(t.streaming.integrated, -14) T.eq(t.streaming.true_peak, -1)
  T.eq(t.apple.integrated, -16) T.eq(t.apple.true_peak, -1)
  T.eq(t.podcast.integrated, -16) T.eq(t.podcast.true_peak, -1)
  T.eq(t.broadcast.integrated, -23) T.eq(t.broadcast.true_peak, -1)
  T.eq(t.broadcast.tolerance, 0.5)
  T.eq(t.atsc.integrated, -24) T.eq(t.atsc.true_peak, -2)
  T.eq(table.concat(loudness.ORDER, ","), "streaming,apple,podcast,broadcast,atsc")
  for _, name in ipairs(loudness.ORDER) do T.eq(t[name].name, name) end
end)

T.test("report: distance, gain, what the ceiling allows, verdicts", function()
  -- quiet with loud peaks: streaming needs +6 dB, the ceiling allows +2
  local r = loudness.report({ integrated = -20, true_peak = -3 })
  T.eq(#r, 5)
  local s = r[1]
  T.eq(s.target, "streaming")
  T.eq(s.distance, -6) T.eq(s.gain, 6) T.eq(s.ceiling_gain, 2) T.eq(s.normalize_gain, 2)
  T.eq(s.reachable, false) T.eq(s.peak_over, false) T.eq(s.verdict, "too quiet")
  T.eq(s.text, "6.0 LU quieter than -14.0 LUFS: the -1.0 dBTP ceiling allows only +2.0 dB"
    .. " (true peak -3.0 dBTP); a limiter would be needed")
  local b = r[4]
  T.eq(b.target, "broadcast")
  T.eq(b.distance, 3) T.eq(b.gain, -3) T.eq(b.normalize_gain, -3) T.eq(b.verdict, "too loud")
  T.eq(b.text, "3.0 LU louder than -23.0 LUFS: turn it down 3.0 dB")
  local a = r[5]
  T.eq(a.ceiling, -2) T.eq(a.ceiling_gain, 1) T.eq(a.distance, 4)
  -- on target within the tolerance, peaks over the ceiling
  r = loudness.report({ integrated = -14.4, true_peak = -0.5 }, "streaming")
  T.eq(#r, 1)
  T.eq(r[1].verdict, "peaks over ceiling") T.eq(r[1].peak_over, true)
  T.eq(r[1].ceiling_gain, -0.5)
  T.near(r[1].gain, 0.4, 1e-9)
  T.eq(r[1].normalize_gain, -0.5)
  -- on target: ok; broadcast's tolerance is 0.5, so 0.8 LU off is not
  r = loudness.report({ integrated = -23.4, true_peak = -6 }, { "broadcast", "atsc" })
  T.eq(r[1].verdict, "ok")
  T.eq(r[1].text, "within 0.5 LU of -23.0 LUFS, true peak -6.0 dBTP under the -1.0 dBTP ceiling")
  T.eq(r[2].verdict, "ok")
  T.eq(loudness.report({ integrated = -23.8, true_peak = -6 }, "broadcast")[1].verdict, "too quiet")
  T.eq(loudness.report({ integrated = -22.6, true_peak = -6 }, "broadcast")[1].verdict, "ok")
  -- a quiet one the ceiling lets all the way up
  r = loudness.report({ integrated = -30, true_peak = -20 }, "podcast")
  T.eq(r[1].reachable, true) T.eq(r[1].normalize_gain, 14)
  T.eq(r[1].text, "14.0 LU quieter than -16.0 LUFS: +14.0 dB reaches it with the true peak"
    .. " -20.0 dBTP under the -1.0 dBTP ceiling")
  -- a custom target
  r = loudness.report({ integrated = -18, true_peak = -4 }, { integrated = -18, true_peak = -3 })
  T.eq(r[1].target, "custom") T.eq(r[1].verdict, "ok") T.eq(r[1].tolerance, 1)
  -- silence
  r = loudness.report({ integrated = -math.huge, true_peak = -math.huge }, "apple")
  T.eq(r[1].verdict, "too quiet to measure") T.eq(r[1].distance, nil) T.eq(r[1].gain, nil)
end)

T.test("misuse raises at the caller's line", function()
  T.raises(function() loudness.report({ integrated = -20, true_peak = -1 }, "spotify") end,
    "bad argument #2 to 'report' (unknown target 'spotify'; one of streaming, apple, podcast,"
    .. " broadcast, atsc)", T.here(-2))
  T.raises(function() loudness.report("mix.wav") end,
    "bad argument #1 to 'report' (measures from loudness.file expected)", T.here(-1))
  T.raises(function() loudness.file(42) end, "bad argument #1 to 'file' (string expected, got number)",
    T.here(-1))
  T.raises(function() loudness.normalize("a.wav", "b.wav", "loud") end,
    "bad argument #3 to 'normalize' (unknown target 'loud'", T.here(-1))
  T.raises(function() loudness.normalize("a.wav", "", "apple") end,
    "bad argument #2 to 'normalize' (output path expected, got empty string)", T.here(-1))
  T.raises(function() loudness.target{ integrated = -14 } end,
    "bad argument #1 to 'target' (field 'true_peak' must be a finite number)", T.here(-1))
  T.raises(function() require("reel.loudness_core").normalize("a", "b", 0 / 0, -1) end,
    "the target (LUFS) must be a finite number")
end)

T.test("file: a -23 dBFS sine measures -23 LUFS, stereo and mono", function()
  local m = assert(loudness.file(sine(dir .. "/c1.wav", -23, 20)))
  T.near(m.integrated, -23, 0.1, "integrated")
  T.near(m.short_term_max, -23, 0.1, "short-term max")
  T.near(m.momentary_max, -23, 0.1, "momentary max")
  T.near(m.range, 0, 0.1, "range")
  T.near(m.true_peak, -23, 0.2, "true peak")
  T.near(m.sample_peak, -23, 0.01, "sample peak")
  T.eq(m.frames, 960000) T.eq(m.rate, 48000) T.eq(m.channels, 2) T.eq(m.seconds, 20)
  T.eq(m.too_quiet, false) T.eq(m.path, dir .. "/c1.wav")
  local mono = assert(loudness.file(sine(dir .. "/mono.flac", -23, 20, 1)))
  T.near(mono.integrated, -23, 0.1, "mono (dual mono) integrated")
  T.eq(mono.channels, 1)
  sh(("sox -D -n -r 48000 -c 2 -b 16 '%s/silence.wav' trim 0 3"):format(dir))
  local q = assert(loudness.file(dir .. "/silence.wav"))
  T.eq(q.integrated, -math.huge) T.eq(q.too_quiet, true) T.eq(q.true_peak, -math.huge)
  T.eq(loudness.report(q)[1].verdict, "too quiet to measure")
  T.eq(loudness.version(), "1.2.6")
end)

T.test("file: bad input gets a message naming it, word for word", function()
  local m, err = loudness.file(dir .. "/nothing.wav")
  T.eq(m, nil)
  T.eq(err, dir .. "/nothing.wav: No such file or directory")
  write(dir .. "/words.wav", "RIFF but not really a wave file at all\n")
  m, err = loudness.file(dir .. "/words.wav")
  T.eq(m, nil)
  T.eq(err, dir .. "/words.wav: not a sound file (libsndfile: Format not recognised)")
  -- cut after 1000 of its 48000 frames (stereo 24-bit: 6 bytes a frame)
  local whole = read(sine(dir .. "/long.wav", -20, 1))
  local header = #whole - 48000 * 6
  write(dir .. "/cut.wav", whole:sub(1, header + 1000 * 6))
  m, err = loudness.file(dir .. "/cut.wav")
  T.eq(m, nil)
  T.eq(err, dir .. "/cut.wav: truncated: the header promises 48000 frames, only 1000 are there")
  m, err = loudness.file(dir)
  T.eq(err, dir .. ": a folder, not a sound file")
end)

T.test("normalize: reaches the target, measured again, never over the ceiling", function()
  local src = sine(dir .. "/quiet.wav", -30, 10)
  local r = assert(loudness.normalize(src, dir .. "/quiet-streaming.wav", "streaming"))
  T.eq(r.target, "streaming")
  T.near(r.before.integrated, -30, 0.1)
  T.near(r.gain, -14 - r.before.integrated, 1e-9, "gain = target - integrated")
  T.eq(r.limited, false)
  local again = assert(loudness.file(dir .. "/quiet-streaming.wav"))
  T.near(again.integrated, -14, 0.1, "re-measured")
  T.ok(again.true_peak <= -1, "under the ceiling")
  T.eq(again.frames, 480000)
  -- loud peaks: the ceiling holds the gain (a sine at -3 dBFS, target
  -- +0 LUFS: custom), and the file stays at or under it
  local loud = sine(dir .. "/loud.wav", -3, 5)
  r = assert(loudness.normalize(loud, dir .. "/loud-0.flac", { integrated = 0, true_peak = -1 }))
  T.eq(r.limited, true)
  T.near(r.gain, r.ceiling_gain, 0.01)
  T.ok(r.gain < r.target_gain, "held below the target's gain")
  again = assert(loudness.file(dir .. "/loud-0.flac"))
  T.ok(again.true_peak <= -1, ("true peak %.4f over -1 dBTP"):format(again.true_peak))
  T.near(again.true_peak, -1, 0.05)
  T.ok(read(dir .. "/loud-0.flac"):sub(1, 4) == "fLaC", "FLAC by extension")
end)

T.test("normalize: refuses to replace a file, to scale silence, a missing input", function()
  write(dir .. "/taken.wav", "mine")
  local r, err = loudness.normalize(sine(dir .. "/n.wav", -30, 1), dir .. "/taken.wav", "apple")
  T.eq(r, nil)
  T.eq(err, dir .. "/taken.wav: file exists; not replacing it")
  T.eq(read(dir .. "/taken.wav"), "mine")
  r, err = loudness.normalize(dir .. "/silence.wav", dir .. "/loud-silence.wav", "apple")
  T.eq(err, dir .. "/silence.wav: too quiet to measure; nothing to normalize to")
  T.eq(io.open(dir .. "/loud-silence.wav"), nil)
  r, err = loudness.normalize(dir .. "/absent.wav", dir .. "/x.wav", "apple")
  T.eq(err, dir .. "/absent.wav: No such file or directory")
end)

local function new_session(name)
  local d = T.tmpdir() .. "/" .. name
  local s = assert(reel.new(d, {
    format = "wav24", tempo = 120, meter = "4/4",
    tracks = { { name = "Lead", input = 1 }, { name = "Quiet", input = 2 } },
    sections = { { "A", 4 } },
  }))
  return s, d
end

local function freewheel(inputs)
  return reel.device{ spec = "virtual:freewheel", inputs = inputs }
end

-- Both takes of a recording: Lead a -20 dBFS sine (mono: -20 LUFS as dual
-- mono), Quiet silence (too quiet to measure).
local function check_stored(d, first)
  local doc = assert(json.decode(read(d .. "/session.json")))
  T.eq(#doc.takes, first + 1)
  local lead, quiet = doc.takes[first], doc.takes[first + 1]
  T.eq(lead.track, "Lead") T.eq(quiet.track, "Quiet")
  T.near(lead.loudness.integrated, -20, 0.1, "Lead integrated")
  T.near(lead.loudness.true_peak, -20, 0.2, "Lead true peak")
  T.near(lead.loudness.range, 0, 0.1, "Lead range")
  T.eq(type(lead.loudness.short_term_max), "number")
  T.eq(lead.loudness.note, nil)
  T.eq(quiet.loudness.integrated, json.null, "silence stored as null")
  T.eq(quiet.loudness.true_peak, json.null)
  T.eq(quiet.loudness.note, "too quiet to measure")
  -- and read back by the session loader: null levels are -inf
  local s = assert(session.open(d))
  T.eq(s.takes[first + 1].loudness.integrated, -math.huge)
  T.near(s.takes[first].loudness.integrated, -20, 0.1)
end

T.test("each take filed stores its loudness (s:record with seconds)", function()
  local s, d = new_session("rec")
  local takes = assert(s:record{ seconds = 2, meter = false,
                                 device = freewheel{ "sine:1000:-20", "silence" } })
  T.eq(#takes, 2)
  T.near(takes[1].loudness.integrated, -20, 0.1)
  check_stored(d, 1)
end)

T.test("each take filed stores its loudness (a transport roll)", function()
  local s, d = new_session("roll")
  local takes = assert(s:record{ from = 0, to = "3s", meter = false,
                                 device = freewheel{ "sine:1000:-20", "silence" } })
  T.eq(#takes, 2)
  T.eq(takes[1].frames, 144000)
  check_stored(d, 1)
  -- over the filing limit: no loudness now (reel loudness DIR measures it)
  local keep = loudness.TAKE_MAX_SECONDS
  loudness.TAKE_MAX_SECONDS = 2
  local more = assert(s:record{ from = 0, to = "3s", meter = false,
                                device = freewheel{ "sine:1000:-20", "silence" } })
  loudness.TAKE_MAX_SECONDS = keep
  T.eq(more[1].loudness, nil)
  local doc = assert(json.decode(read(d .. "/session.json")))
  T.eq(#doc.takes, 4)
  T.eq(doc.takes[3].loudness, nil)
end)

T.test("the takes of one recording share a measuring budget", function()
  local s, d = new_session("budget")
  -- 2 s mono takes cost 2 s each: a 3 s budget measures Lead, not Quiet
  local keep = loudness.RECORD_BUDGET_SECONDS
  loudness.RECORD_BUDGET_SECONDS = 3
  local takes = assert(s:record{ seconds = 2, meter = false,
                                 device = freewheel{ "sine:1000:-20", "sine:1000:-30" } })
  loudness.RECORD_BUDGET_SECONDS = keep
  T.near(takes[1].loudness.integrated, -20, 0.1)
  T.eq(takes[2].loudness, nil)
  local doc = assert(json.decode(read(d .. "/session.json")))
  T.near(doc.takes[1].loudness.integrated, -20, 0.1)
  T.eq(doc.takes[2].loudness, nil)
  -- the budget by itself
  local b = { seconds = 3 }
  local path = sine(dir .. "/budget.wav", -20, 2, 2)   -- stereo: costs 4 s
  local m, err = loudness.take(path, b)
  T.eq(m, nil)
  T.eq(err, path .. ": not measured after recording (more than 1200 s of audio in one recording); "
    .. "measure it with reel loudness")
  T.eq(b.seconds, 0)
  b = loudness.budget()
  T.eq(b.seconds, 1200)
  T.near(assert(loudness.take(path, b)).integrated, -20, 0.1)
  T.near(b.seconds, 1196, 1e-9)
end)

T.test("the session loader checks a take's loudness", function()
  local _, d = new_session("bad")
  local doc = assert(json.decode(read(d .. "/session.json")))
  doc.takes = { { track = "Lead", take = 1, file = "audio/Lead_T01.wav", loudness = "loud" } }
  write(d .. "/session.json", json.encode(doc))
  local s, err = session.open(d)
  T.eq(s, nil)
  T.eq(err, d .. "/session.json: takes[1].loudness: object expected, got string")
  doc.takes[1].loudness = { integrated = "-14", range = 3 }
  write(d .. "/session.json", json.encode(doc))
  s, err = session.open(d)
  T.eq(err, d .. "/session.json: takes[1].loudness.integrated: number expected, got string")
  doc.takes[1].loudness = { integrated = -14.5, range = 3, true_peak = -1.2, short_term_max = -10,
                            extra = "kept" }
  write(d .. "/session.json", json.encode(doc))
  s = assert(session.open(d))
  T.eq(s.takes[1].loudness.integrated, -14.5)
  assert(s:save())
  local back = assert(json.decode(read(d .. "/session.json")))
  T.eq(back.takes[1].loudness.extra, "kept")
  T.eq(back.takes[1].loudness.true_peak, -1.2)
end)

T.done()
