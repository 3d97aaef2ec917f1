--- spec_render.lua: s:render and s:set_mix (scripts/reel/render.lua, the
-- reel.renderer binding, engine/render.c) on a small session at 8 kHz,
-- 120 bpm, 4/4: a bar is 16000 samples; sections A, B, C, D of one bar each.
-- The Gtr take holds a DC level per section (0.1, 0.2, 0.3, 0.4 of full
-- scale, as 24-bit integers) so that what plays where can be read back
-- from the files; Keys is a stereo take, +0.05 left and -0.05 right.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/helper.lua")
local reel = require "reel"
local core = require "reel.core"

local RATE, BAR = 8000, 16000
local FS = 8388608

-- A PCM-24 WAV written by hand: frames x channels values from fn(i, ch).
local function write_wav(path, channels, frames, fn)
  local parts = {}
  for i = 0, frames - 1 do
    for c = 1, channels do parts[#parts + 1] = string.pack("<i3", fn(i, c)) end
  end
  local data = table.concat(parts)
  local f = assert(io.open(path, "wb"))
  f:write("RIFF", string.pack("<I4", 36 + #data), "WAVE",
    "fmt ", string.pack("<I4I2I2I4I4I2I2", 16, 1, channels, RATE, RATE * channels * 3, channels * 3, 24),
    "data", string.pack("<I4", #data), data)
  f:close()
end

local function level(x) return math.floor(x * FS + 0.5) end

local function song()
  local dir = T.tmpdir() .. "/song"
  local s = assert(reel.new(dir, { rate = RATE, tempo = 120, meter = "4/4",
    tracks = { { name = "Gtr", input = 1 }, { name = "Keys", input = { 2, 3 } } },
    sections = { { "A", 1 }, { "B", 1 }, { "C", 1 }, { "D", 1 } } }))
  write_wav(dir .. "/audio/Gtr_T01.wav", 1, 4 * BAR, function(i) return level((i // BAR + 1) / 10) end)
  write_wav(dir .. "/audio/Keys_T01.wav", 2, 2 * BAR, function(_, c) return level(c == 1 and 0.05 or -0.05) end)
  s.takes[#s.takes + 1] = { track = "Gtr", take = 1, file = "audio/Gtr_T01.wav", start = 0,
    frames = 4 * BAR, rate = RATE, status = "selected" }
  s.takes[#s.takes + 1] = { track = "Keys", take = 1, file = "audio/Keys_T01.wav", start = BAR,
    frames = 2 * BAR, rate = RATE, status = "selected" }
  assert(s:save())
  return s, dir
end

-- Sample (channel ch, counting from 1) at frame i of a file.
local function sample(path, i, ch)
  local x, channels = assert(core.read_frames(path, i, 1))
  return x[(ch or 1)], channels
end

local function near(got, want, what)
  T.near(got, want, 1.5 / FS, what)
end

T.test("the whole session: mix of the selected takes, default file, result", function()
  local s, dir = song()
  local r = assert(s:render())
  T.eq(r.out, dir .. "/renders/song.wav")
  T.eq(r.frames, 4 * BAR) T.eq(r.rate, RATE) T.eq(r.start, 0) T.eq(#r.stems, 0)
  T.eq(r.heard, 2) T.eq(r.clipped, 0)
  local info = assert(core.sound_info(r.out))
  T.eq(info.frames, 4 * BAR) T.eq(info.channels, 2) T.eq(info.sample, "pcm24")
  local c = math.sqrt(0.5)      -- a mono track at the centre: -3 dB each side
  near(sample(r.out, 100, 1), 0.1 * c, "A left")
  near(sample(r.out, 100, 2), 0.1 * c, "A right")
  near(sample(r.out, BAR + 100, 1), 0.2 * c + 0.05, "B left: Gtr + Keys")
  near(sample(r.out, BAR + 100, 2), 0.2 * c - 0.05, "B right")
  near(sample(r.out, 3 * BAR + 5, 1), 0.4 * c, "D: Keys has ended")
end)

T.test("set_mix: gain, pan, mute, solo; saved and heard", function()
  local s, dir = song()
  local tr = s:set_mix("Gtr", { gain_db = -6, pan = -1 })
  T.eq(tr.gain_db, -6) T.eq(tr.pan, -1)
  s:set_mix("Keys", { mute = true })
  assert(s:save())
  s = assert(reel.open(dir))
  T.eq(s.tracks[1].gain_db, -6) T.eq(s.tracks[2].mute, true)
  local r = assert(s:render{ out = dir .. "/a.wav" })
  T.eq(r.heard, 1)
  local g = 10 ^ (-6 / 20)
  near(sample(r.out, BAR + 7, 1), 0.2 * g, "hard left, -6 dB")
  near(sample(r.out, BAR + 7, 2), 0, "nothing right; Keys muted")
  s:set_mix("Keys", { solo = true, mute = false })
  r = assert(s:render{ out = dir .. "/b.wav" })
  T.eq(r.heard, 1)
  near(sample(r.out, BAR + 7, 1), 0.05, "Keys alone")
  near(sample(r.out, 7, 1), 0, "Gtr not soloed")
end)

T.test("the format: asked for, else the file name's, else the session's", function()
  local s, dir = song()
  local r = assert(s:render{ out = dir .. "/x.flac" })
  T.eq(r.format, "flac") T.eq(assert(core.sound_info(r.out)).container, "flac")
  r = assert(s:render{ out = dir .. "/y.wav", format = "wav32f", stems = dir .. "/st" })
  T.eq(assert(core.sound_info(r.out)).sample, "float")
  T.eq(assert(core.sound_info(dir .. "/st/Gtr.wav")).sample, "float")
  s.format = "flac"
  r = assert(s:render{ out = dir .. "/z.wav" })
  T.eq(r.format, "wav24") T.eq(assert(core.sound_info(r.out)).container, "wav")
  r = assert(s:render())
  T.eq(r.out, dir .. "/renders/song.flac") T.eq(assert(core.sound_info(r.out)).container, "flac")
end)

T.test("mute and solo are checked when session.json is loaded", function()
  local _, dir = song()
  local path = dir .. "/session.json"
  local f = assert(io.open(path)) local text = f:read("a") f:close()
  local doc = require("cjson").decode(text)
  doc.tracks[2].solo = "yes"
  f = assert(io.open(path, "w")) f:write(require("cjson").encode(doc)) f:close()
  local s, err = reel.open(dir)
  T.eq(s, nil)
  T.eq(err, path .. ": tracks[2].solo: boolean expected, got string")
end)

T.test("set_mix and render: misuse raises at the caller's line", function()
  local s = song()
  T.raises(function() s:set_mix("Gtr", { volume = 1 }) end,
    "unknown mix setting 'volume' (gain_db, pan, mute, solo)", T.here(-1))
  T.raises(function() s:set_mix("Gtr", { pan = 2 }) end,
    "bad mix setting 'pan' (number from -1 to 1 expected, got 2)", T.here(-1))
  T.raises(function() s:set_mix("Gtr", { mute = "yes" }) end,
    "bad mix setting 'mute' (boolean expected, got string)", T.here(-1))
  T.raises(function() s:set_mix("Drums", {}) end, "unknown track 'Drums' (tracks: Gtr, Keys)", T.here())
  T.raises(function() s:render{ loud = true } end, "unknown option 'loud'", T.here())
  T.raises(function() s:render{ variant = "radio" } end, "no variant 'radio' (the session has no variants)", T.here())
  T.raises(function() s:render{ format = "mp3" } end,
    "bad option 'format' ('mp3' is not one of wav24, wav32f, flac, rf64)", T.here(-1))
end)

T.test("stems: one per track, from the start, equal length, pre-fader", function()
  local s, dir = song()
  s:set_mix("Gtr", { gain_db = -12, mute = true })
  local r = assert(s:render{ out = false, stems = dir .. "/stems" })
  T.eq(r.out, nil)
  T.eq(#r.stems, 2)
  T.eq(r.stems[1].track, "Gtr") T.eq(r.stems[1].path, dir .. "/stems/Gtr.wav")
  T.eq(r.stems[2].track, "Keys") T.eq(r.stems[2].path, dir .. "/stems/Keys.wav")
  local g, k = assert(core.sound_info(r.stems[1].path)), assert(core.sound_info(r.stems[2].path))
  T.eq(g.frames, 4 * BAR) T.eq(k.frames, 4 * BAR)
  T.eq(g.channels, 1) T.eq(k.channels, 2)
  near(sample(r.stems[1].path, 2 * BAR + 1), 0.3, "Gtr stem: no gain, not muted")
  near(sample(r.stems[2].path, BAR - 1, 1), 0, "Keys before its take")
  near(sample(r.stems[2].path, BAR, 1), 0.05, "Keys from its take's first frame")
  near(sample(r.stems[2].path, BAR, 2), -0.05)
  T.eq(core.exists(dir .. "/renders"), false, "no mix was asked for")
end)

T.test("variant: sections in order, expected length, fades, tracks", function()
  local s, dir = song()
  s:variant("short", function(a)
    a:drop("B"); a:move("D", { before = "A" }); a:fade_out("C", 1)
    a:remove_track("Keys"); a:add_track{ name = "Horns", input = 5 }
  end)
  local r = assert(s:render{ variant = "short", stems = dir .. "/vstems", crossfade_ms = 5 })
  T.eq(r.out, dir .. "/renders/song-short.wav")
  T.eq(r.frames, 3 * BAR) T.eq(r.variant, "short")
  T.eq(#r.stems, 2) T.eq(r.stems[1].track, "Gtr") T.eq(r.stems[2].track, "Horns")
  local gtr = r.stems[1].path
  near(sample(gtr, BAR // 2), 0.4, "D first")
  near(sample(gtr, BAR + BAR // 2), 0.1, "then A")
  near(sample(gtr, 2 * BAR + 100), 0.3, "then C")
  near(sample(gtr, 2 * BAR + 8000 + 99), 0.3 * (1 - 100 / 8000), "fading out over its last second")
  near(sample(gtr, 3 * BAR - 1), 0, "faded to silence")
  near(sample(r.stems[2].path, BAR), 0, "Horns has no takes: silence")
  T.eq(assert(core.sound_info(r.stems[2].path)).frames, 3 * BAR)
  T.eq(core.exists(dir .. "/vstems/Keys.wav"), false, "a removed track is not rendered")
  -- The edit D -> A is crossfaded, equal power, over 5 ms = 40 frames
  -- centred on it; each side reads past its cut: D past the end of the
  -- take (silence), A before the session start (silence).
  local function w(t) return (t - (BAR - 20) + 0.5) / 40 * math.pi / 2 end
  T.near(sample(gtr, BAR - 10), 0.4 * math.cos(w(BAR - 10)), 2 / FS, "D fading out")
  T.near(sample(gtr, BAR), 0.1 * math.sin(w(BAR)), 2 / FS, "A fading in")
  near(sample(gtr, BAR - 21), 0.4, "before the crossfade")
  near(sample(gtr, BAR + 20), 0.1, "after it")
end)

-- Gtr comped: A from take 1 (0.1 there, 0.2 in B's bar), B from take 2 (a
-- constant -0.25 over all four bars); C and D not comped: silence.
local function comped()
  local s, dir = song()
  write_wav(dir .. "/audio/Gtr_T02.wav", 1, 4 * BAR, function() return level(-0.25) end)
  s.takes[#s.takes + 1] = { track = "Gtr", take = 2, file = "audio/Gtr_T02.wav", start = 0,
    frames = 4 * BAR, rate = RATE, status = "kept" }
  s:comp("Gtr", "A", 1)
  s:comp("Gtr", "B", 2)
  s:set_mix("Keys", { mute = true })
  assert(s:save())
  return s, dir
end

T.test("comp switches: crossfaded by default, hard cuts with comp_crossfade_ms = 0", function()
  local s, dir = comped()
  local r = assert(s:render{ stems = dir .. "/stems" })
  local gtr, c = r.stems[1].path, math.sqrt(0.5)
  -- 10 ms at 8 kHz = 80 frames centred on the switch at BAR: take 1 plays
  -- on past its region (0.2, its own next bar), take 2 starts 40 frames
  -- early (-0.25), equal power.
  local function want(t)
    local x = (t - (BAR - 40) + 0.5) / 80 * math.pi / 2
    return (t < BAR and 0.1 or 0.2) * math.cos(x) - 0.25 * math.sin(x)
  end
  for _, t in ipairs{ BAR - 40, BAR - 20, BAR - 1, BAR, BAR + 1, BAR + 20, BAR + 39 } do
    T.near(sample(gtr, t), want(t), 2 / FS, ("stem at %d"):format(t))
    T.near(sample(r.out, t, 1), c * want(t), 2 / FS, ("mix at %d"):format(t))
  end
  near(sample(gtr, BAR - 41), 0.1, "before the crossfade")
  near(sample(gtr, BAR + 40), -0.25, "after it")
  near(sample(gtr, 2 * BAR - 1), -0.25, "the comp ends in silence: no fade there")
  near(sample(gtr, 2 * BAR), 0, "silence")

  r = assert(s:render{ out = dir .. "/hard.wav", stems = dir .. "/hard", comp_crossfade_ms = 0 })
  gtr = r.stems[1].path
  near(sample(gtr, BAR - 1), 0.1, "hard cut: take 1 to the last frame")
  near(sample(gtr, BAR), -0.25, "hard cut: take 2 from the switch")
  near(sample(r.out, BAR - 1, 1), 0.1 * c, "hard cut in the mix")
  near(sample(r.out, BAR, 1), -0.25 * c)

  T.raises(function() s:render{ comp_crossfade_ms = -1 } end,
    "bad option 'comp_crossfade_ms' (milliseconds from 0 to 1000 expected, got -1)", T.here(-1))
  T.raises(function() s:render{ comp_crossfade_ms = "10" } end,
    "bad option 'comp_crossfade_ms' (milliseconds from 0 to 1000 expected, got string)", T.here(-1))
end)

T.test("variant with a tempo change is refused, clearly", function()
  local s, dir = song()
  s:variant("fast", function(a) a:tempo(132, "C") end)
  local r, err = s:render{ variant = "fast" }
  T.eq(r, nil)
  T.eq(err, "variant 'fast' plays 'C' at 132 bpm: recorded audio cannot follow a tempo change "
    .. "without time-stretching, which reel render does not do; render a variant without a tempo change")
  T.eq(core.exists(dir .. "/renders/song-fast.wav"), false)
end)

T.test("nothing is replaced without force; force replaces", function()
  local s, dir = song()
  local out = dir .. "/renders/song.wav"
  assert(s:render())
  local before = assert(core.sound_info(out))
  s:set_mix("Gtr", { mute = true })
  local r, err = s:render()
  T.eq(r, nil)
  T.eq(err, out .. " exists; renders never replace a file unless forced (force = true, reel render --force)")
  near(sample(out, 100, 1), 0.1 * math.sqrt(0.5), "the first render is intact")
  r = assert(s:render{ force = true })
  T.eq(assert(core.sound_info(r.out)).frames, before.frames)
  near(sample(out, 100, 1), 0, "replaced: Gtr muted")
end)

T.test("bad input: a missing or damaged take names track, take and file", function()
  local s, dir = song()
  local path = dir .. "/audio/Gtr_T01.wav"
  os.remove(path)
  local r, err = s:render()
  T.eq(r, nil)
  T.eq(err, ("track 'Gtr' take 1 (%s): No such file or directory"):format(path))
  local f = assert(io.open(path, "wb")) f:write("not a sound file at all") f:close()
  r, err = s:render()
  T.eq(r, nil)
  T.ok(err:find(("track 'Gtr' take 1 (%s): not a readable sound file: "):format(path), 1, true), err)
  write_wav(path, 1, BAR, function() return 0 end)
  r, err = s:render()
  T.eq(err, ("track 'Gtr' take 1 (%s): the file has 16000 frames, the session plays frames 0 to 64000 "
    .. "(damaged, truncated or replaced?)"):format(path))
  T.eq(core.exists(dir .. "/renders/song.wav"), false, "no half-made render")
  local left = core.list_dir(dir .. "/renders") or {}
  T.eq(#left, 0, "no temporary file left")
end)

T.test("progress: called per block; false cancels and leaves nothing", function()
  local s, dir = song()
  local calls, last = 0, nil
  local r = assert(s:render{ progress = function(done, total) calls = calls + 1 last = { done, total } end })
  T.ok(calls >= 1) T.eq(last[1], 4 * BAR) T.eq(last[2], 4 * BAR)
  local r2, err = s:render{ out = dir .. "/c.wav", progress = function() return false end }
  T.eq(r2, nil) T.eq(err, "render cancelled")
  T.eq(core.exists(dir .. "/c.wav"), false)
  T.ok(r.out)
end)

T.done()
