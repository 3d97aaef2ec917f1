--- spec_session.lua: the friendly API in scripts/reel/init.lua: sessions,
-- tracks, takes, numbering, session.json, misuse errors, runtime failures.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/helper.lua")
local reel = require "reel"
local core = require "reel.core"
local cjson = require "cjson"

local function fast(inputs)
  return reel.device{ spec = "virtual:freewheel", inputs = inputs or { "sine:440:-6" } }
end

local read = T.read

T.test("session creates the folder and audio/", function()
  local dir = T.tmpdir() .. "/a/b/song"
  local s = assert(reel.session(dir))
  T.eq(core.exists(dir), "directory")
  T.eq(core.exists(dir .. "/audio"), "directory")
  T.eq(#s.tracks, 0)
  T.ok(tostring(s):find("reel.session", 1, true))
end)

T.test("record: one take per armed track, exact length, metadata", function()
  local dir = T.tmpdir()
  local s = assert(reel.session(dir))
  s:track{ name = "Bass", input = 1 }
  s:track{ name = "Keys", input = { 2, 3 } }
  s:track{ name = "Off", input = 1, armed = false }
  local takes = assert(s:record{ seconds = 0.25, device = fast{ "sine:55:-6", "silence", "noise:pink:-30" },
                                 meter = false })
  T.eq(#takes, 2)
  T.eq(takes[1].track, "Bass")
  T.eq(takes[1].take, 1)
  T.eq(takes[1].file, "audio/Bass_T01.wav")
  T.eq(takes[1].frames, 12000)
  T.eq(takes[1].seconds, 0.25)
  T.eq(takes[1].start, takes[2].start, "tracks start on the same frame")
  T.near(takes[1].peak_db, -6, 0.01, "Bass peak")
  T.eq(takes[1].xruns, 0)
  T.eq(takes[1].overruns, 0)
  T.eq(takes[1].lost_frames, 0)
  T.eq(#takes[1].gaps, 0)
  T.eq(takes[2].file, "audio/Keys_T01.wav")
  local info = assert(core.sound_info(dir .. "/audio/Keys_T01.wav"))
  T.eq(info.channels, 2)
  T.eq(info.frames, 12000)
  T.eq(info.sample, "pcm24")
  T.eq(core.exists(dir .. "/audio/Off_T01.wav"), false, "disarmed track recorded")
end)

T.test("take numbers count per track and are never reused", function()
  local dir = T.tmpdir()
  local s = assert(reel.session(dir))
  s:track{ name = "Vox", input = 1 }
  local dev = fast()
  T.eq(s:next_take_number("Vox"), 1)
  assert(s:record{ seconds = 0.05, device = dev })
  assert(s:record{ seconds = 0.05, device = dev })
  T.eq(s:next_take_number("Vox"), 3)
  -- Deleting the newest file does not free its number.
  assert(os.remove(dir .. "/audio/Vox_T02.wav"))
  local t = assert(s:record{ seconds = 0.05, device = dev })
  T.eq(t[1].take, 3)
  T.eq(t[1].file, "audio/Vox_T03.wav")
  -- Nor does forgetting it in memory: a fresh session object reads session.json.
  local s2 = assert(reel.session(dir))
  T.eq(s2:next_take_number("Vox"), 4)
  -- A file nobody recorded still blocks its number.
  assert(io.open(dir .. "/audio/Vox_T10.flac", "w")):close()
  T.eq(s2:next_take_number("Vox"), 11)
  local t2 = assert(s2:record{ seconds = 0.05, device = dev, format = "flac" })
  T.eq(t2[1].file, "audio/Vox_T11.flac")
  -- Another track starts at 1; a prefix of a name does not count (Vox2 vs Vox).
  s2:track{ name = "Vox2", input = 1 }
  T.eq(s2:next_take_number("Vox2"), 1)
  -- Nothing was overwritten: the stray T10 is still empty.
  T.eq(#read(dir .. "/audio/Vox_T10.flac"), 0)
end)

T.test("session.json: content, sorted keys, atomic, reloadable", function()
  local dir = T.tmpdir()
  local s = assert(reel.session(dir))
  s:track{ name = "Gtr", input = { 1, 2 } }
  assert(s:record{ seconds = 0.1, device = fast{ "sine:440", "sine:660" }, format = "wav32f",
                   description = "spec" })
  local text = read(dir .. "/session.json")
  local j = cjson.decode(text)
  T.eq(j.reel_session, 1)
  T.eq(#j.tracks, 1)
  T.eq(j.tracks[1].name, "Gtr")
  T.eq(#j.tracks[1].input, 2)
  T.eq(j.tracks[1].input[2], 2)
  T.eq(#j.takes, 1)
  local k = j.takes[1]
  T.eq(k.track, "Gtr")
  T.eq(k.file, "audio/Gtr_T01.wav")
  T.eq(k.format, "wav32f")
  T.eq(k.frames, 4800)
  T.eq(k.rate, 48000)
  T.eq(k.take, 1)
  T.eq(k.path, nil, "absolute paths are not stored")
  T.eq(j.last_take.Gtr, 1)
  T.ok(not text:find("\\/", 1, true), "slashes are not escaped")
  T.ok(text:find('"file": "audio/Gtr_T01.wav"', 1, true), "readable layout")
  -- Keys sorted: "clipped" comes before "device" before "file".
  local a, b, c = text:find('"clipped"'), text:find('"device"'), text:find('"file"')
  T.ok(a < b and b < c, "keys are sorted")
  -- No temporary files left behind.
  for _, name in ipairs(core.list_dir(dir)) do
    T.ok(not name:find("tmp", 1, true), "leftover " .. name)
  end
  -- Reload: tracks (armed again) and takes come back.
  local s2 = assert(reel.session(dir))
  T.eq(#s2.tracks, 1)
  T.eq(s2.tracks[1].armed, true)
  T.eq(#s2.takes, 1)
  T.eq(s2.takes[1].frames, 4800)
  T.eq(math.type(s2.takes[1].frames), "integer")
end)

T.test("a broken session.json is a failure, not a crash", function()
  local dir = T.tmpdir()
  assert(core.write_atomic(dir .. "/session.json", "{ not json"))
  local s, err = reel.session(dir)
  T.eq(s, nil)
  T.ok(err:find("session.json", 1, true), err)
  assert(core.write_atomic(dir .. "/session.json", '{"something": "else"}'))
  s, err = reel.session(dir)
  T.eq(s, nil)
  T.ok(err:find("not a reel session", 1, true), err)
end)

T.test("misuse raises errors naming the option, at the caller's line", function()
  local dir = T.tmpdir()
  local s = assert(reel.session(dir))
  T.raises(function() s:track{ name = "Vox", input = 1, colour = "red" } end,
    "unknown option 'colour'", T.here(-1))
  T.raises(function() s:track{ name = 42, input = 1 } end, "bad option 'name'")
  T.raises(function() s:track{ name = "a/b", input = 1 } end, "must not contain '/'")
  T.raises(function() s:track{ name = "..", input = 1 } end, "must not begin with '.'")
  T.raises(function() s:track{ name = "Vox" } end, "bad option 'input'")
  T.raises(function() s:track{ name = "Vox", input = { 1, 2, 3 } } end, "one or two input channels")
  T.raises(function() s:track{ name = "Vox", input = 0 } end, "counting from 1")
  s:track{ name = "Vox", input = 1 }
  T.raises(function() s:record{ seconds = "3" } end,
    "bad option 'seconds' (number expected, got string)", T.here(-1))
  T.raises(function() s:record{ secnds = 3 } end, "unknown option 'secnds'")
  T.raises(function() s:record{ seconds = -1 } end, "bad option 'seconds'")
  T.raises(function() s:record{ format = "mp3" } end, "bad option 'format' ('mp3' is not one of")
  T.raises(function() s:record{ device = 42 } end, "bad option 'device'")
  T.raises(function() s:record(5) end, "table of options expected")
  T.raises(function() s.record{ seconds = 1 } end, "call it as s:record")
  T.raises(function() s:arm("Nope") end, "no track named 'Nope'", T.here())
  T.raises(function() s:arm("Vox", "yes") end, "boolean expected")
  T.raises(function() reel.session(42) end, "bad argument #1 to 'session'")
  T.raises(function() reel.session("") end, "bad argument #1 to 'session'")
  T.raises(function() reel.device{ spec = "virtual", inputs = { 1 } } end,
    "bad option 'inputs' (string expected at index 1, got number)")
  T.raises(function() reel.device{ rate = "fast" } end, "bad option 'rate' (integer expected, got string)")
  T.raises(function() reel.sleep("1") end, "bad argument #1 to 'sleep'")
  s:arm("Vox", false)
  T.raises(function() s:record{ seconds = 1 } end, "no track is armed", T.here())
end)

T.test("outside-world failures return nil, message", function()
  local dir = T.tmpdir()
  local s = assert(reel.session(dir))
  s:track{ name = "Vox", input = 1 }
  local takes, err = s:record{ seconds = 0.1, device = reel.device{ spec = "virtual",
                                 inputs = { dir .. "/missing.wav" } } }
  T.eq(takes, nil)
  T.ok(err:find("missing.wav", 1, true), err)
  -- An input channel the device does not have.
  s:track{ name = "Vox", input = 5 }
  takes, err = s:record{ seconds = 0.1, device = fast() }
  T.eq(takes, nil)
  T.ok(err:find("input 5", 1, true), err)
  -- No number was used up and no file left behind by the failures.
  T.eq(#core.list_dir(dir .. "/audio"), 0)
  -- A session folder that cannot be created.
  local f = assert(io.open(dir .. "/plainfile", "w")) f:close()
  local s2, err2 = reel.session(dir .. "/plainfile/sub")
  T.eq(s2, nil)
  T.ok(err2:find("plainfile", 1, true), err2)
end)

T.test("progress can stop a take; the take is kept", function()
  local dir = T.tmpdir()
  local s = assert(reel.session(dir))
  s:track{ name = "Vox", input = 1 }
  local calls = 0
  local takes = assert(s:record{ device = reel.device{ spec = "virtual", inputs = { "sine:440" } },
    progress = function(p)
      calls = calls + 1
      T.eq(type(p.seconds), "number")
      T.eq(type(p.peaks_db[1]), "number")
      return p.seconds < 0.3
    end })
  T.ok(calls >= 2, "progress called " .. calls .. " times")
  T.ok(takes[1].frames >= 0.3 * 48000 and takes[1].frames < 3 * 48000, "frames " .. takes[1].frames)
  T.eq(core.sound_info(takes[1].path).frames, takes[1].frames)
end)

T.test("an error in progress closes the take and propagates", function()
  local dir = T.tmpdir()
  local s = assert(reel.session(dir))
  s:track{ name = "Vox", input = 1 }
  local err = T.raises(function()
    s:record{ device = fast(), seconds = 60, progress = function(p)
      if p.frames > 0 then error("stop here") end
    end }
  end, "stop here")
  T.ok(err:find("spec_session.lua", 1, true), err)
  local info = assert(core.sound_info(dir .. "/audio/Vox_T01.wav"))
  T.ok(info.frames > 0 and info.frames < 60 * 48000, "frames " .. info.frames)
  T.eq(s.takes[1].frames, info.frames)
  T.ok(s.takes[1].note:find("stopped by an error", 1, true))
  -- The next take gets the next number.
  T.eq(s:next_take_number("Vox"), 2)
end)

T.test("device info and helpers", function()
  local info = assert(reel.device{ spec = "virtual", inputs = { "sine:1", "silence", "silence" },
                                   rate = 44100, period = 128 }:info())
  T.eq(info.api, "virtual")
  T.eq(info.rate, 44100)
  T.eq(info.period, 128)
  T.eq(info.in_channels, 3)
  T.eq(info.clock, "realtime")
  T.eq(reel.format_db(-math.huge), "-inf")
  T.eq(reel.format_db(-6.02), "-6.0")
  T.eq(table.concat(reel.formats(), ","), "wav24,wav32f,flac,rf64")
  T.eq(type(reel.interrupted()), "boolean")
  T.ok(tostring(reel.device("virtual")):find("virtual", 1, true))
end)

T.done()
