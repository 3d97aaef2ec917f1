--- session_tempo.lua: the "reel.tempo" binding (lua/ltempo.c) over
-- engine/tempo.h. Expected positions are worked out by hand in the comments:
-- at 48 kHz and 120 bpm a beat is 24000 samples and a 4/4 bar 96000; at
-- 44.1 kHz and 160 bpm a beat is 16537.5 samples (beats land rounded half
-- up); a 6/8 bar at 90 bpm is six eighths of 32000 samples.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/helper.lua")
local tempo = require "reel.tempo"

local function map(rate, bpm, meter)
  return tempo.new(rate or 48000, bpm or 120, meter or "4/4")
end

T.test("new: handle, __name, tostring, length, rate", function()
  local m = map()
  T.eq(getmetatable(m).__name, "reel.tempo")
  T.eq(tostring(m), "reel.tempo (48000 Hz, 120 bpm 4/4)")
  T.eq(#m, 1)
  T.eq(m:rate(), 48000)
  T.eq(tostring(tempo.new(44100, 97.5)), "reel.tempo (44100 Hz, 97.5 bpm 4/4)", "meter defaults to 4/4")
  m:set(9, 140)
  m:set(17, 90, "6/8")
  T.eq(tostring(m), "reel.tempo (48000 Hz, 120 bpm 4/4, 2 changes after bar 1)")
  T.eq(#m, 3)
  T.eq(tempo.BAR_MIN, -9999)
  T.eq(tempo.BAR_MAX, 99999)
  T.eq(tempo.MAX_SEGMENTS, 256)
end)

T.test("new: bad values name the argument (the engine's words)", function()
  T.raises(function() tempo.new(10, 120) end,
    "bad argument #1 to 'new' (sample rate 10 must be between 1000 and 1000000)", T.here(-1))
  T.raises(function() tempo.new(48000, 0) end,
    "bad argument #2 to 'new' (bpm 0 at bar 1 must be between 1 and 1000)")
  T.raises(function() tempo.new(48000, 1000.5) end,
    "bad argument #2 to 'new' (bpm 1000.5 at bar 1 must be between 1 and 1000)")
  T.raises(function() tempo.new(48000, 120, "4/3") end,
    "bad argument #3 to 'new' (meter 4/3 at bar 1: note value must be 1, 2, 4, 8, 16 or 32)")
  T.raises(function() tempo.new(48000, 120, "65/4") end,
    "bad argument #3 to 'new' (meter 65/4 at bar 1: beats per bar must be between 1 and 64)")
  T.raises(function() tempo.new(48000, 120, "four") end,
    "bad argument #3 to 'new' (meter 'four' is not N/D (4/4, 7/8))")
  T.raises(function() tempo.new(48000, 120, "4/4 ") end, "meter '4/4 ' is not N/D")
  T.raises(function() tempo.new(48000, 120, "1234567/4") end, "meter '1234567/4' is not N/D")
  T.raises(function() tempo.new("fast", 120) end, "bad argument #1 to 'new' (number expected, got string)")
  T.raises(function() tempo.new(48000.5, 120) end, "bad argument #1 to 'new' (number has no integer representation)")
end)

T.test("to_sample: 48 kHz, 120 bpm, 4/4", function()
  local m = map()
  T.eq(m:to_sample(1, 1), 0)
  T.eq(m:to_sample(1, 2), 24000)
  T.eq(m:to_sample(1, 2, 0.5), 36000)
  T.eq(m:to_sample(2, 1), 96000)
  T.eq(m:to_sample(5, 3), 432000)            -- 4 bars + 2 beats
  T.eq(m:to_sample(0, 1), -96000, "count-in bar 0")
  T.eq(m:to_sample(-1, 4), -120000)
  T.eq(math.type(m:to_sample(2, 1)), "integer")
end)

T.test("to_sample: 44.1 kHz, 160 bpm rounds half up", function()
  local m = map(44100, 160)
  T.eq(m:to_sample(1, 2), 16538)   -- 16537.5
  T.eq(m:to_sample(1, 3), 33075)
  T.eq(m:to_sample(1, 4), 49613)   -- 49612.5
  T.eq(m:to_sample(2, 1), 66150)
  T.eq(m:to_sample(0, 4), -16537)  -- -16537.5 goes towards +inf
end)

T.test("to_sample: bad positions name the argument", function()
  local m = map()
  T.raises(function() m:to_sample(1, 5) end, "bad argument #2 to 'to_sample' (bar 1 has only 4 beats)", T.here())
  T.raises(function() m:to_sample(1, 0) end, "bad argument #2 to 'to_sample' (beats start at 1)")
  T.raises(function() m:to_sample(1, 1, 1.0) end,
    "bad argument #3 to 'to_sample' (fraction of a beat must be at least 0 and below 1)")
  T.raises(function() m:to_sample(1, 1, -0.25) end, "bad argument #3 to 'to_sample'")
  T.raises(function() m:to_sample(100000, 1) end,
    "bad argument #1 to 'to_sample' (bar 100000 must be between -9999 and 99999)")
  T.raises(function() m:to_sample(-10000, 1) end, "bar -10000 must be between -9999 and 99999")
  T.raises(function() m:to_sample("x", 1) end, "bad argument #1 to 'to_sample' (number expected, got string)")
  T.raises(function() m.to_sample(42, 1, 1) end, "reel.tempo expected, got number")
  local m1 = map(48000, 120, "1/4")
  T.raises(function() m1:to_sample(1, 2) end, "(bar 1 has only 1 beat)")
end)

T.test("to_bbt: bar, beat, fraction; round trips", function()
  local m = map()
  local bar, beat, frac = m:to_bbt(36000)
  T.eq(bar, 1) T.eq(beat, 2) T.eq(frac, 0.5)
  bar, beat, frac = m:to_bbt(0)
  T.eq(bar, 1) T.eq(beat, 1) T.eq(frac, 0.0)
  bar, beat, frac = m:to_bbt(-1)
  T.eq(bar, 0) T.eq(beat, 4) T.eq(frac, 23999 / 24000)
  T.eq(select("#", m:to_bbt(5)), 3)
  local m2 = map(44100, 160)
  bar, beat, frac = m2:to_bbt(16537)
  T.eq(bar, 1) T.eq(beat, 1) T.eq(frac, 16537 / 16538)
  bar, beat = m2:to_bbt(16538)
  T.eq(bar, 1) T.eq(beat, 2)
  for _, s in ipairs{ 0, 1, 16537, 16538, 33075, 49612, 49613, 66149, 66150, 1234567 } do
    local b, bt, f = m2:to_bbt(s)
    T.eq(m2:to_sample(b, bt, f), s, "round trip of " .. s)
  end
  T.raises(function() m:to_bbt(1 << 60) end,
    "bad argument #1 to 'to_bbt' (sample 1152921504606846976 is outside the map (bars -9999 to 99999))")
  T.raises(function() m:to_bbt(1.5) end, "bad argument #1 to 'to_bbt' (number has no integer representation)")
end)

T.test("set: tempo and meter changes at bar starts", function()
  local m = map()
  T.eq(m:set(17, 90, "6/8"), m, "set returns the map")
  T.eq(m:to_sample(17, 1), 1536000)   -- 16 bars of 96000
  T.eq(m:to_sample(17, 2), 1568000)   -- + one eighth of 32000
  T.eq(m:to_sample(18, 1), 1728000)   -- + six eighths
  T.eq(m:to_sample(17, 6), 1696000)
  T.raises(function() m:to_sample(17, 7) end, "(bar 17 has only 6 beats)")
  local bar, beat, frac = m:to_bbt(1584000)
  T.eq(bar, 17) T.eq(beat, 2) T.eq(frac, 0.5)
  -- Without a meter, the one in effect at that bar stays.
  m:set(5, 60)
  local bpm, meter = m:at(5)
  T.eq(bpm, 60) T.eq(meter, "4/4")
  T.eq(m:bar_length(5), 192000)
  T.eq(m:to_sample(17, 1), 1536000 + 12 * 96000, "bars 5-16 now twice as long")
  bpm, meter = m:at(20)
  T.eq(bpm, 90) T.eq(meter, "6/8")
  -- Replacing the change at bar 1.
  m:set(1, 240, "2/2")
  bpm, meter = m:at(1)
  T.eq(bpm, 240) T.eq(meter, "2/2")
  T.eq(m:bar_length(1), 24000)        -- two halves at 240 a minute
end)

T.test("set: bad values name the argument; the map is unchanged", function()
  local m = map()
  T.raises(function() m:set(0, 100) end, "bad argument #1 to 'set' (bar 0 must be between 1 and 99999)", T.here())
  T.raises(function() m:set(1 << 40, 100) end, "bad argument #1 to 'set' (bar 100000 must be between 1 and 99999)")
  T.raises(function() m:set(5, 1001) end,
    "bad argument #2 to 'set' (bpm 1001 at bar 5 must be between 1 and 1000)")
  T.raises(function() m:set(5, 0 / 0) end, "bad argument #2 to 'set' (bpm")
  T.raises(function() m:set(5, 100, "7/9") end,
    "bad argument #3 to 'set' (meter 7/9 at bar 5: note value must be 1, 2, 4, 8, 16 or 32)")
  T.raises(function() m:set(5, 100, "0/4") end,
    "bad argument #3 to 'set' (meter 0/4 at bar 5: beats per bar must be between 1 and 64)")
  T.raises(function() m:set(5, 100, 7) end, "bad argument #3 to 'set' (meter '7' is not N/D (4/4, 7/8))")
  T.raises(function() m:set(5, "fast") end, "bad argument #2 to 'set' (number expected, got string)")
  T.eq(#m, 1, "failed sets add nothing")
  T.eq(m:to_sample(5, 1), 384000)
  -- The engine's limit on changes.
  for bar = 2, 256 do m:set(bar, 100) end
  T.eq(#m, 256)
  T.raises(function() m:set(300, 100) end,
    "cannot add a change at bar 300: the map already holds 256 changes, the most it can")
end)

T.test("remove", function()
  local m = map()
  m:set(5, 60)
  T.eq(m:remove(5), m)
  T.eq(#m, 1)
  T.eq(m:bar_length(5), 96000)
  T.raises(function() m:remove(1) end,
    "bad argument #1 to 'remove' (the change at bar 1 cannot be removed (the map starts there); set it instead)")
  T.raises(function() m:remove(7) end, "bad argument #1 to 'remove' (no change at bar 7 to remove)")
end)

T.test("parse: samples, seconds, bars:beats; nil and the engine's message", function()
  local m = map()
  m:set(17, 90, "6/8")
  T.eq(m:parse("96000"), 96000)
  T.eq(m:parse("12.5s"), 600000)
  T.eq(m:parse(".5s"), 24000)
  T.eq(m:parse("5:1"), 384000)
  T.eq(m:parse("5:2.5"), 420000)
  T.eq(m:parse("17:2.5"), 1584000)
  T.eq(m:parse(96000), 96000, "a number is read as its text")
  local function nope(text, msg)
    local v, err = m:parse(text)
    T.eq(v, nil, text)
    T.eq(err, msg)
  end
  nope("abc", "position 'abc' is not samples, seconds (12.5s) or bars:beats (5:1)")
  nope("5:9", "position '5:9': bar 5 has only 4 beats")
  nope("5:0", "position '5:0': beats start at 1")
  nope("0:1", "position '0:1' is before the start (1:1)")
  nope("-5", "position '-5' is before the start (1:1)")
  nope("100000:1", "position '100000:1' is after the last bar (99999)")
  nope(" 5:1", "position ' 5:1' is not samples, seconds (12.5s) or bars:beats (5:1)")
  T.raises(function() m:parse{} end, "bad argument #1 to 'parse' (string expected, got table)")
end)

T.test("format: bars:beats text, fraction in truncated thousandths", function()
  local m = map()
  T.eq(m:format(0), "1:1")
  T.eq(m:format(36000), "1:2.5")
  T.eq(m:format(100), "1:1.004")        -- 100 / 24000 = 0.00416...
  T.eq(m:format(23999), "1:1.999")      -- never shown as the next beat
  T.eq(m:format(384000), "5:1")
  T.eq(m:format(-96000), "0:1")
  T.eq(m:parse(m:format(420000)), 420000)
  T.raises(function() m:format(1 << 60) end, "bad argument #1 to 'format' (sample 1152921504606846976 is outside the map")
end)

T.test("bar_length, next_beat, at", function()
  local m = map()
  m:set(3, 90, "6/8")
  T.eq(m:bar_length(1), 96000)
  T.eq(m:bar_length(0), 96000)
  T.eq(m:bar_length(3), 192000)
  T.raises(function() m:bar_length(100000) end,
    "bad argument #1 to 'bar_length' (bar 100000 must be between -9999 and 99999)")
  local pos, bar, beat = m:next_beat(1)
  T.eq(pos, 24000) T.eq(bar, 1) T.eq(beat, 2)
  pos, bar, beat = m:next_beat(0)
  T.eq(pos, 0) T.eq(bar, 1) T.eq(beat, 1)
  pos, bar, beat = m:next_beat(-5)
  T.eq(pos, 0) T.eq(bar, 1) T.eq(beat, 1)
  pos, bar, beat = m:next_beat(72001)              -- just after 1:4 (72000)
  T.eq(pos, 96000) T.eq(bar, 2) T.eq(beat, 1)
  pos, bar, beat = m:next_beat(192001)             -- inside 3:1 (6/8, eighths of 32000)
  T.eq(pos, 224000) T.eq(bar, 3) T.eq(beat, 2)
  T.raises(function() m:next_beat(1 << 60) end,
    "bad argument #1 to 'next_beat' (no beat at or after sample 1152921504606846976 (the map ends with bar 99999))")
  local bpm, meter = m:at(0)
  T.eq(bpm, 120) T.eq(meter, "4/4")
  T.raises(function() m:at(-10000) end, "bad argument #1 to 'at' (bar -10000 must be between -9999 and 99999)")
end)

T.test("seconds", function()
  local m = map(44100)
  T.eq(m:to_seconds(88200), 2.0)
  T.eq(m:to_seconds(-22050), -0.5)
  T.eq(m:from_seconds(2.5), 110250)
  T.eq(m:from_seconds(1 / 88200), 1, "half a sample rounds up")
  T.raises(function() m:from_seconds(0 / 0) end, "bad argument #1 to 'from_seconds'")
  T.raises(function() m:from_seconds(math.huge) end, "bad argument #1 to 'from_seconds'")
end)

T.test("segments", function()
  local m = map()
  m:set(17, 90, "6/8")
  local segs = m:segments()
  T.eq(#segs, 2)
  T.eq(segs[1].bar, 1) T.eq(segs[1].bpm, 120) T.eq(segs[1].num, 4) T.eq(segs[1].den, 4)
  T.eq(segs[1].meter, "4/4") T.eq(segs[1].start, 0.0) T.eq(segs[1].sample, 0)
  T.eq(segs[2].bar, 17) T.eq(segs[2].bpm, 90) T.eq(segs[2].meter, "6/8")
  T.eq(segs[2].start, 1536000.0) T.eq(segs[2].sample, 1536000)
  local m2 = map(44100, 160)
  m2:set(2, 100)
  local s2 = m2:segments()[2]
  T.eq(s2.start, 66150.0)
  m2:set(1, 161)
  s2 = m2:segments()[2]
  T.eq(s2.start, 4 * 44100 * 60 / 161, "exact start, unrounded")
  T.eq(s2.sample, 65739)                         -- 65739.13...
end)

T.test("close: idempotent, __close, use after close", function()
  local m = map()
  m:close()
  m:close()
  T.eq(tostring(m), "reel.tempo (closed)")
  T.raises(function() m:to_sample(1, 1) end, "attempt to use a closed tempo map")
  T.raises(function() return #m end, "attempt to use a closed tempo map")
  local kept
  do
    local m2 <close> = map()
    kept = m2
    T.eq(m2:to_sample(2, 1), 96000)
  end
  T.eq(tostring(kept), "reel.tempo (closed)")
  collectgarbage()
end)

T.done()
