-- spec_play.lua: s:play rolls the transport over a range or a loop without
-- recording: the transport stops exactly where asked, playback reaches the
-- outputs (checked through a simulated loopback at the core level in
-- spec_tracking.lua), and the session gains no take.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/helper.lua")
local reel = require "reel"
local core = require "reel.core"

local function session()
  local dir = T.tmpdir() .. "/s"
  local s = assert(reel.new(dir, { tempo = 120 }))
  s:track{ name = "Gtr", input = 1 }
  s:arm("Gtr")
  s.device = reel.device{ spec = "virtual:freewheel", inputs = { "noise:white:-6" } }
  assert(s:record{ seconds = 1 })
  return s, dir
end

T.test("play stops exactly at 'to' and records nothing", function()
  local s, dir = session()
  local stopped = {}
  local h = reel.on("stopped", function(e) stopped[#stopped + 1] = e.pos end)
  local takes = assert(s:play{ from = "1:1", to = "3:1" })
  h:off()
  T.eq(#takes, 0, "takes")
  T.eq(stopped[1], 192000, "stop position")
  T.eq(#s.takes, 1, "the session still has one take")
  local files = assert(core.list_dir(dir .. "/audio"))
  T.eq(#files, 1, "files in audio/")
end)

T.test("play around a loop stops at the loop end after the passes", function()
  local s = session()
  local loops, stopped = 0, nil
  local h1 = reel.on("loop", function() loops = loops + 1 end)
  local h2 = reel.on("stopped", function(e) stopped = e.pos end)
  assert(s:play{ loop = { "1:1", "1:3" }, passes = 3 })
  h1:off(); h2:off()
  T.eq(loops, 2, "wraps")
  T.eq(stopped, 48000, "stop position")
end)

T.test("play refuses tracks: it records nothing", function()
  local s = session()
  T.raises(function() s:play{ tracks = { "Gtr" }, to = "2:1" } end, "play records nothing")
end)

T.done()
