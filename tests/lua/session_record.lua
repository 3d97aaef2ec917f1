--- session_record.lua: recording into sessions made by reel.new and opened
-- by reel.open: init.lua's record writes through scripts/reel/session.lua
-- (saving, numbering), so the tempo map, sections, markers, track settings
-- and take statuses survive a take, and takes get their bars:beats.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/helper.lua")
local reel = require "reel"
local core = require "reel.core"
local json = require "reel.json"

local read = T.read

-- A four-piece band of the test's own (the shipped band.lua need not keep
-- this layout): inputs 1 to 7.
local BAND = [[
return {
  name = "Four-piece band", rate = 48000, format = "wav24", tempo = 120, meter = "4/4",
  tracks = { { name = "Kick", input = 1 }, { name = "Snare", input = 2 },
             { name = "Overheads", input = { 3, 4 } }, { name = "Bass", input = 5 },
             { name = "Vox", input = 7, monitor = true } },
  sections = { { "Intro", 4 }, { "Verse", 16 }, { "Chorus", 8 }, { "Verse", 16 },
               { "Chorus", 8 }, { "Bridge", 8 }, { "Chorus", 16 }, { "Outro", 4 } },
}
]]
local function band_template()
  local p = T.tmpdir() .. "/band4.lua"
  local f = assert(io.open(p, "wb"))
  f:write(BAND)
  f:close()
  return p
end

local function band_device()
  return reel.device{ spec = "virtual:freewheel", inputs = {
    "sine:55:-6", "silence", "noise:pink:-20", "noise:pink:-20", "sine:110:-3", "silence", "sine:440:-1",
  } }
end

T.test("record into a template session; everything else survives", function()
  local dir = T.tmpdir() .. "/song"
  assert(reel.new(dir, { template = band_template(), tempo = 100 }))
  local s = assert(reel.open(dir))
  s:set_tempo(9, 80, "3/4")
  s:add_marker("Idea", "2:3")
  local takes = assert(s:record{ seconds = 0.25, device = band_device(), meter = false })
  T.eq(#takes, 5)
  T.eq(takes[3].file, "audio/Overheads_T01.wav")
  T.eq(core.sound_info(dir .. "/audio/Overheads_T01.wav").channels, 2)
  local j = assert(json.decode(read(dir .. "/session.json")))
  T.eq(j.name, "Four-piece band")
  T.eq(#j.sections, 8)
  T.eq(#j.tempo, 2) T.eq(j.tempo[1].bpm, 100) T.eq(j.tempo[2].meter, "3/4")
  T.eq(#j.markers, 1)
  T.eq(j.tracks[5].monitor, true)
  T.eq(#j.takes, 5)
  for _, t in ipairs(j.takes) do
    T.eq(t.status, "kept")
    T.eq(t.start_bbt, s:tempo_map():format(t.start))
    T.eq(t.frames, 12000)
    T.eq(t.seconds, 0.25)
    T.eq(t.rate, 48000)
  end
  T.eq(j.last_take.Vox, 1)
end)

T.test("numbering and statuses across takes and reopenings", function()
  local dir = T.tmpdir() .. "/song"
  assert(reel.new(dir, band_template()))
  local s = assert(reel.open(dir))
  local dev = band_device()
  assert(s:record{ seconds = 0.05, device = dev, meter = false })
  assert(s:record{ seconds = 0.05, device = dev, meter = false })
  s:select("Vox", 2)
  s:set_status("Vox", 1, "rejected", "pitchy")
  assert(s:save())
  -- The legacy entry point sees the same session.
  local s2 = assert(reel.session(dir))
  T.eq(#s2:sections(), 8)
  T.eq(s2:selected("Vox").take, 2)
  T.eq(s2:next_take_number("Vox"), 3)
  for _, t in ipairs(s2.tracks) do if t.name ~= "Vox" then s2:arm(t.name, false) end end
  local t3 = assert(s2:record{ seconds = 0.05, device = dev, meter = false })
  T.eq(#t3, 1)
  T.eq(t3[1].take, 3)
  T.eq(t3[1].file, "audio/Vox_T03.wav")
  local s3 = assert(reel.open(dir))
  T.eq(#s3:takes{ track = "Vox" }, 3)
  T.eq(s3:take("Vox", 1).status, "rejected")
  T.eq(s3:take("Vox", 1).note, "pitchy")
  T.eq(s3:selected("Vox").take, 2)
  T.eq(s3:take("Vox", 3).status or "kept", "kept")
  T.eq(#s3:takes{ track = "Kick" }, 2)
  -- A deleted take's number is not given out again.
  assert(os.remove(dir .. "/audio/Vox_T03.wav"))
  T.eq(s3:next_take_number("Vox"), 4)
end)

T.test("problems of a clipped take", function()
  local dir = T.tmpdir() .. "/loud"
  local s = assert(reel.new(dir, { tracks = { { name = "Gtr", input = 1 } } }))
  local takes = assert(s:record{ seconds = 0.1, meter = false,
    device = reel.device{ spec = "virtual:freewheel", inputs = { "sine:440:0" } } })
  T.ok(takes[1].clipped > 0, "clipped " .. takes[1].clipped)
  local p = s:problems(s:take("Gtr", 1))
  T.eq(#p, 1)
  T.ok(p[1]:find("^clipped %d+ samples$"), p[1])
end)

T.done()
